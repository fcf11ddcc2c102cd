/* quote.h - binary-safe printing of Redis arguments, the way redis-cli does.
 *
 * `aofroll show` and `aofroll log` print decoded AOF commands for people,
 * and the arguments may hold any byte; so may the names of objects that
 * anyone with write access to the bucket can create, which messages show
 * the same way (quote_name) so that no name can forge a line or send a
 * terminal escape. quote_arg() writes one argument in
 * the double-quoted form redis-cli and MONITOR use (Redis's sdscatrepr):
 * printable ASCII as is, `\\` and `\"` escaped, `\n \r \t \a \b` by name
 * and every other byte as `\xHH`. Long values are elided: only the first
 * `max` bytes are quoted, followed by `...(N bytes)` with the full length,
 * so that a 512 MiB value prints as one short line. */
#ifndef AOFROLL_QUOTE_H
#define AOFROLL_QUOTE_H

#include <stddef.h>

#include "buf.h"

/* Default number of bytes of an argument printed before eliding. */
#define QUOTE_DEFAULT_MAX 64

/* Append `p[0..len)` quoted; max == 0 means never elide. */
void quote_arg(struct buf *out, const char *p, size_t len, size_t max);
/* A NUL-terminated name quoted into dst[n] ("..." included), its first
 * QUOTE_NAME_MAX bytes shown; a dst of QUOTE_NAME_BUFSZ always holds it
 * whole. Returns dst. */
#define QUOTE_NAME_MAX 200
#define QUOTE_NAME_BUFSZ (4 * QUOTE_NAME_MAX + 40)
char *quote_name(char *dst, size_t n, const char *name);
/* Append argc arguments separated by single spaces, each quoted. */
struct aofscan_arg;
void quote_argv(struct buf *out, const struct aofscan_arg *argv, long argc, size_t max);

#endif
