/* timeutil.h - the TIME argument of the command line, and time output.
 *
 * Accepted forms (docs/design.md, "Command line"): RFC 3339 with Z or an offset
 * ("2026-11-20T15:12:01Z", "2026-11-20T15:12:01+01:00", fractional seconds
 * ignored), local time "2026-11-20 15:12:01" (also with 'T'), and
 * "@1763651521" (unix seconds, negative before 1970). A bad time is
 * ERR_USAGE naming the text. The formatters print what time_parse() reads
 * back: years 0000 to 9999 as dates, any other second as "@SECONDS". */
#ifndef AOFROLL_TIMEUTIL_H
#define AOFROLL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

int time_parse(const char *text, int64_t *out, struct err *e);
/* 1 when text is a date and time without Z or an offset (read as local
 * time by time_parse), else 0. */
int time_is_local(const char *text);
/* The instants RFC 3339 can write: 0000-01-01T00:00:00Z to
 * 9999-12-31T23:59:59Z. Outside them times print as "@UNIX". */
#define TIME_FIRST INT64_C(-62167219200)
#define TIME_LAST INT64_C(253402300799)
/* "2026-11-20T15:12:01Z" (four-digit year, so that it parses back), or
 * "@UNIX" outside [TIME_FIRST, TIME_LAST]; buf of at least TIME_BUFSZ */
#define TIME_BUFSZ 40
void time_format_utc(int64_t t, char *buf, size_t n);
/* "2026-11-20 16:12:01+01:00" in the local zone (or "@UNIX", as above) */
void time_format_local(int64_t t, char *buf, size_t n);
int64_t time_now(void);          /* wall clock, unix seconds */
int64_t time_now_ms(void);       /* wall clock, unix milliseconds */
int64_t time_monotonic_ms(void); /* CLOCK_MONOTONIC, for intervals */
double time_monotonic(void);     /* CLOCK_MONOTONIC in seconds, for step timings */

#endif
