/* quote.c - redis-cli style quoting of binary arguments and names (see quote.h).
 *
 * The rules are Redis's sdscatrepr(): the byte classes are decided without
 * the C locale (isprint() would depend on it), so the output is the same
 * on every machine. */
#include "quote.h"

#include <stdio.h>
#include <string.h>

#include "aofscan.h"

static void quote_bytes(struct buf *out, const unsigned char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char esc[4];
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t replen = 2;

        switch (c) {
        case '\\':
            rep = "\\\\";
            break;
        case '"':
            rep = "\\\"";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        case '\a':
            rep = "\\a";
            break;
        case '\b':
            rep = "\\b";
            break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                run++;
                continue;
            }
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 0xf];
            rep = esc;
            replen = 4;
            break;
        }
        /* flush the run of plain bytes before this escape */
        buf_append(out, p + i - run, run);
        run = 0;
        buf_append(out, rep, replen);
    }
    buf_append(out, p + len - run, run);
}

void quote_arg(struct buf *out, const char *p, size_t len, size_t max)
{
    size_t shown = (max != 0 && len > max) ? max : len;

    buf_append(out, "\"", 1);
    quote_bytes(out, (const unsigned char *)p, shown);
    buf_append(out, "\"", 1);
    if (shown < len)
        buf_printf(out, "...(%zu bytes)", len);
}

char *quote_name(char *dst, size_t n, const char *name)
{
    struct buf b = BUF_INIT;

    quote_arg(&b, name, strlen(name), QUOTE_NAME_MAX);
    snprintf(dst, n, "%s", b.data);
    buf_free(&b);
    return dst;
}

void quote_argv(struct buf *out, const struct aofscan_arg *argv, long argc, size_t max)
{
    long i;

    for (i = 0; i < argc; i++) {
        if (i > 0)
            buf_append(out, " ", 1);
        quote_arg(out, argv[i].p, argv[i].len, max);
    }
}
