/* snapshot_check.h - --check of a mode rdb instance (snapshot_check.c),
 * reported through check_report.h. Called by check.c. */
#ifndef AOFROLL_SNAPSHOT_CHECK_H
#define AOFROLL_SNAPSHOT_CHECK_H

#include "config.h"

#include "check_report.h"

/* --check of a mode rdb instance, reported through r. */
void snapshot_check(const struct instance_config *ic, struct check_report *r);

#endif
