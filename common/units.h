/* units.h - sizes, durations, rates and clock times as the config writes
 * them.
 *
 *   size:     "65536", "64KiB", "4MiB", "1GiB" (also KB/MB/GB = 1000^n, K/M/G = 1024^n)
 *   duration: "100ms", "1s", "5m", "2h", "7d" (a bare number is seconds)
 *   rate:     "32MiB/s" (a size per second)
 *   clock:    "HH:MM", 00:00 to 23:59, as minutes after midnight
 * Each returns 0, or -1 with ERR_CONFIG and a message naming the text. */
#ifndef AOFROLL_UNITS_H
#define AOFROLL_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

int units_parse_size(const char *text, int64_t *bytes, struct err *e);
int units_parse_duration_ms(const char *text, int64_t *ms, struct err *e);
int units_parse_rate(const char *text, int64_t *bytes_per_s, struct err *e);
int units_parse_clock(const char *text, int *minutes, struct err *e);
/* "4.0 MiB", "512 B" */
void units_format_size(int64_t bytes, char *buf, size_t n);
/* The forms the parsers read back: "4MiB", "65537"; "100ms", "5m", "7d". */
void units_format_size_exact(int64_t bytes, char *buf, size_t n);
void units_format_duration_ms(int64_t ms, char *buf, size_t n);

#endif
