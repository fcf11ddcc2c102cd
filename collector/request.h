/* request.h - --barrier-now and --snapshot-now while a collector runs
 * (request.c): the asking side (main.c) and the running side (instance.c,
 * snapshot.c). It calls only the context. */
#ifndef AOFROLL_REQUEST_H
#define AOFROLL_REQUEST_H

#include <stdint.h>

#include "context.h"

enum request_type { REQUEST_BARRIER, REQUEST_SNAPSHOT };

#define REQUEST_TIMEOUT_S 3600 /* a BGSAVE of a big dataset, then its shipping */
/* A requested barrier is given up by the running collector after its
 * barrier_timeout (with an error event that the requester reads); the
 * requester itself waits this much longer, in case no answer comes. */
#define REQUEST_SLACK_S 30

/* --barrier-now / --snapshot-now: ask the collector `holder` (holding the
 * instance's lock) and wait for the outcome in the index, at most
 * `timeout_s` seconds. */
int request_ask(struct collector *col, enum request_type type, const char *instance, long holder,
                int64_t timeout_s, struct err *e);
/* In the running collector: 1 when a request of this type for this
 * instance was pending (it is consumed), else 0. */
int request_take(struct instance *in, enum request_type type);

#endif
