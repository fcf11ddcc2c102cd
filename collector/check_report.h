/* check_report.h - the lines of --check and its verdict (check_report.c).
 * Used by check.c, check_seal.c and snapshot_check.c; it calls nothing
 * else of the collector. */
#ifndef AOFROLL_CHECK_REPORT_H
#define AOFROLL_CHECK_REPORT_H

#include <stdio.h>

/* The lines of --check: each is fine, a warning (usable, but worse than it
 * could be) or a problem (the collector would fail on it). */
struct check_report {
    FILE *out;
    int problems;
    int warnings;
};

void check_report_init(struct check_report *r, FILE *out);
void check_report_ok(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void check_report_warn(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void check_report_problem(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "verdict: usable", "verdict: usable (N warnings)" or "verdict: not
 * usable (N problems, M warnings)"; returns the exit status (0 usable). */
int check_report_verdict(struct check_report *r);

#endif
