/* check_report.c - the lines --check prints, each with its weight.
 *
 * Every line of --check is one of: a fact or a setting that is fine
 * (check_report_ok), a warning that leaves the configuration usable but worse
 * than it could be (check_report_warn), or a problem that the collector would
 * fail on (check_report_problem). The verdict at the end follows from the
 * counts alone, so no line can say something is wrong while the verdict
 * says "usable". check.c and snapshot_check.c print through here. */

#include "check_report.h"

#include <stdarg.h>

void check_report_init(struct check_report *r, FILE *out)
{
    r->out = out;
    r->problems = 0;
    r->warnings = 0;
}

static void report_vline(struct check_report *r, const char *fmt, va_list ap)
{
    vfprintf(r->out, fmt, ap);
    fputc('\n', r->out);
}

void check_report_ok(struct check_report *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report_vline(r, fmt, ap);
    va_end(ap);
}

void check_report_warn(struct check_report *r, const char *fmt, ...)
{
    va_list ap;

    r->warnings++;
    va_start(ap, fmt);
    report_vline(r, fmt, ap);
    va_end(ap);
}

void check_report_problem(struct check_report *r, const char *fmt, ...)
{
    va_list ap;

    r->problems++;
    va_start(ap, fmt);
    report_vline(r, fmt, ap);
    va_end(ap);
}

int check_report_verdict(struct check_report *r)
{
    if (r->problems > 0)
        fprintf(r->out, "verdict: not usable (%d problem%s, %d warning%s)\n", r->problems,
                r->problems == 1 ? "" : "s", r->warnings, r->warnings == 1 ? "" : "s");
    else if (r->warnings > 0)
        fprintf(r->out, "verdict: usable (%d warning%s)\n", r->warnings, r->warnings == 1 ? "" : "s");
    else
        fprintf(r->out, "verdict: usable\n");
    return r->problems > 0 ? 1 : 0;
}
