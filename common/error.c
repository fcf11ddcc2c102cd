/* error.c - filling `struct err` (see error.h). */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
    e->code = ERR_NONE;
    e->msg[0] = '\0';
}

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int err_sys(struct err *e, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t len;

    e->code = errnum == ENOENT ? ERR_NOTFOUND : ERR_IO;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    len = strlen(e->msg);
    snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", strerror(errnum));
    return -1;
}

void err_prefix(struct err *e, const char *fmt, ...)
{
    char old[sizeof(e->msg)];
    va_list ap;
    size_t len;

    memcpy(old, e->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    len = strlen(e->msg);
    snprintf(e->msg + len, sizeof(e->msg) - len, ": %s", old);
}

int err_exit_status(const struct err *e)
{
    return e->code == ERR_USAGE ? 2 : 1;
}
