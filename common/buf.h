/* buf.h - a growable byte buffer (binary safe, always NUL-terminated
 * past `len` for convenience). */
#ifndef AOFROLL_BUF_H
#define AOFROLL_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                                                             \
    {                                                                                                        \
        NULL, 0, 0                                                                                           \
    }

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_appendstr(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append code point `cp` as UTF-8; -1 (nothing appended) for NUL, a UTF-16
 * surrogate or a value past U+10FFFF. */
int buf_append_utf8(struct buf *b, unsigned long cp);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_free(struct buf *b);

#endif
