/* logfmt.c - the text and JSON forms of a log line and journald's
 * priority prefix. See logfmt.h. */
#include "logfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const logfmt_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const logfmt_json_names[] = {"debug", "info", "warning", "error"};
/* syslog priorities: LOG_DEBUG 7, LOG_INFO 6, LOG_WARNING 4, LOG_ERR 3 */
static const int logfmt_priorities[] = {7, 6, 4, 3};

/* The line being built: content never past cap (which leaves room for
 * what must close it), pieces written whole or not at all. */
struct logfmt_out {
    char *p;
    size_t cap, len;
    int full; /* a piece did not fit: nothing more goes in */
};

static void logfmt_put(struct logfmt_out *o, const char *s, size_t len)
{
    if (o->full || o->len + len > o->cap) {
        o->full = 1;
        return;
    }
    memcpy(o->p + o->len, s, len);
    o->len += len;
}

static void logfmt_puts(struct logfmt_out *o, const char *s)
{
    logfmt_put(o, s, strlen(s));
}

/* A JSON string's content: ", \ and control bytes escaped; other bytes as
 * they are (messages are UTF-8, or quoted by their authors). */
static void logfmt_json_chars(struct logfmt_out *o, const char *s)
{
    char esc[8];

    for (; *s != '\0' && !o->full; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            logfmt_put(o, esc, 2);
        } else if (c == '\n') {
            logfmt_put(o, "\\n", 2);
        } else if (c == '\t') {
            logfmt_put(o, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            logfmt_put(o, esc, 6);
        } else {
            logfmt_put(o, s, 1);
        }
    }
}

static void logfmt_json_kv(struct logfmt_out *o, const char *key, const char *value)
{
    logfmt_puts(o, key);
    logfmt_put(o, "\"", 1);
    logfmt_json_chars(o, value);
    logfmt_put(o, "\"", 1);
}

size_t logfmt_line(const struct logfmt *f, int level, const char *when, const char *instance, const char *msg,
                   char *out, size_t n)
{
    struct logfmt_out o = {out, 0, 0, 0};
    char prio[8];

    if (n < 64) { /* no room for a line worth writing */
        if (n > 0)
            out[0] = '\0';
        return 0;
    }
    if (level < 0 || level > 3)
        level = 3;
    o.cap = n - 2; /* '\n' and '\0' */
    if (f->priority) {
        snprintf(prio, sizeof(prio), "<%d>", logfmt_priorities[level]);
        logfmt_puts(&o, prio);
    }
    if (f->json) {
        o.cap = n - 4; /* and the message's '"' and the object's '}' */
        logfmt_json_kv(&o, "{\"time\":", when);
        logfmt_json_kv(&o, ",\"level\":", logfmt_json_names[level]);
        if (instance != NULL)
            logfmt_json_kv(&o, ",\"instance\":", instance);
        logfmt_puts(&o, ",\"message\":\"");
        logfmt_json_chars(&o, msg); /* cut short when too long: still one object */
        o.p[o.len++] = '"';
        o.p[o.len++] = '}';
    } else {
        logfmt_puts(&o, when);
        logfmt_puts(&o, " ");
        logfmt_puts(&o, logfmt_names[level]);
        logfmt_puts(&o, " ");
        if (instance != NULL) {
            logfmt_puts(&o, "[");
            logfmt_puts(&o, instance);
            logfmt_puts(&o, "] ");
        }
        o.full = 0;
        logfmt_put(&o, msg, strlen(msg) < o.cap - o.len ? strlen(msg) : o.cap - o.len);
    }
    o.p[o.len++] = '\n';
    o.p[o.len] = '\0';
    return o.len;
}

int logfmt_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}
