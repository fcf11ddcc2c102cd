/* xalloc.h - allocation that never returns NULL.
 *
 * Like Redis's zmalloc, an allocation failure is not a recoverable error
 * for aofroll: these wrappers print one line and abort. Everything else in
 * the code may then treat allocation as infallible. */
#ifndef AOFROLL_XALLOC_H
#define AOFROLL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
