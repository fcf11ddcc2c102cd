/* check.h - aofroll-collector --check (check.c): each instance's
 * settings, Redis, AOF, storage and lock, with a verdict. Called by
 * main.c; it calls check_report.c, check_seal.c, snapshot_check.c,
 * lineage.c, lock.c and redisconn.c. */
#ifndef AOFROLL_CHECK_H
#define AOFROLL_CHECK_H

#include <stdio.h>

#include "context.h"

/* --check: print each instance's settings with a verdict; 0 when usable. */
int check_run(struct collector *col, const char *only, FILE *out);

#endif
