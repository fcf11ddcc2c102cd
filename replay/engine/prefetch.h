/* prefetch.h - fetching a list of chunks ahead of their consumer, on
 * worker threads.
 *
 * A restore is bound by getting and inflating chunks (codec_decode), which
 * is independent per chunk; the cut and the writes must go in order. So a
 * few worker threads, each with its own storage handle (backends are not
 * shared across threads), fetch and decode the chunks of a fetch_list into
 * a window of slots, while the consumer takes them strictly in order with
 * prefetch_get(). At most `window` decoded chunks are held at once. A
 * failed fetch is reported when the consumer reaches that chunk, so a
 * chunk past the cut that fails to fetch does not fail the restore. */
#ifndef AOFROLL_REPLAY_PREFETCH_H
#define AOFROLL_REPLAY_PREFETCH_H

#include <stddef.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "fetch.h"

struct prefetch;

/* Worker threads to use: the online CPUs, from 2 to 4. */
int prefetch_threads(void);
/* Start fetching l->v[first..] on `threads` workers, each with a storage
 * opened from cfg. Statistics (seconds spent by the workers, bytes) are
 * added to f. */
int prefetch_start(struct prefetch **out, const struct config *cfg, struct fetch *f,
                   const struct fetch_list *l, size_t first, int threads, struct err *e);
/* The decoded bytes of chunk i (i increasing from `first` by one at each
 * call); valid until the next call. Releases the previous chunk's slot. */
int prefetch_get(struct prefetch *p, size_t i, const struct buf **raw, struct err *e);
/* Seconds the consumer waited for chunks. */
double prefetch_waited(const struct prefetch *p);
/* Stop the workers (a fetch in progress finishes first) and free p. */
void prefetch_stop(struct prefetch *p);

#endif
