/* error.h - the error value that every fallible function fills.
 *
 * Functions that can fail return 0 on success and -1 on failure, and leave
 * the reason in a caller-provided `struct err` (the hiredis `err`/`errstr`
 * idea). The caller decides what to print and which exit status to use.
 * Messages are lower case, name the file, object, chunk or range in quotes,
 * and may end with "HINT: ..." when the user can act on it. Secrets never
 * go into a message. */
#ifndef AOFROLL_ERROR_H
#define AOFROLL_ERROR_H

#include <stddef.h>

enum err_code {
    ERR_NONE = 0,
    ERR_IO,       /* a system call, the network or a server failed */
    ERR_NOTFOUND, /* a file, object, instance or row does not exist */
    ERR_CORRUPT,  /* data fails its check: CRC, gzip, AOF syntax, gap */
    ERR_USAGE,    /* bad command line or bad TIME: exit status 2 */
    ERR_CONFIG,   /* bad configuration file */
    ERR_REDIS,    /* redis refused, or answered something unexpected */
    ERR_EXISTS,   /* refusing to overwrite something */
    ERR_BUSY,     /* held by someone else (lock, rewrite in progress) */
    ERR_STOPPED   /* interrupted by a stop request (SIGTERM) */
};

struct err {
    enum err_code code;
    char msg[1024];
};

void err_clear(struct err *e);
/* Set code and message (printf-style). Returns -1 so that callers can
 * write `return err_set(e, ERR_IO, "...")`. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, appending ": strerror(errnum)". */
int err_sys(struct err *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepend context to an existing message: "context: old message". */
void err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Process exit status for an error: 2 for ERR_USAGE, 1 otherwise. */
int err_exit_status(const struct err *e);

#endif
