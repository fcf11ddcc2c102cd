/* outcome.h - the line per instance that --once, --barrier-now and
 * --snapshot-now print when they end. */
#ifndef AOFROLL_COLLECTOR_OUTCOME_H
#define AOFROLL_COLLECTOR_OUTCOME_H

#include <stdio.h>

#include "context.h"

/* After the instance's thread ended: what it achieved, or why it failed
 * (naming log_file, when set, for the rest). */
void outcome_print(const struct instance *in, enum collector_action action, const char *log_file, FILE *fp);

#endif
