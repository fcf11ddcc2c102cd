/* logfmt.h - how one log line is written: the text form
 * ("2026-11-21T10:45:01.123+01:00 INFO [sessions] message") or, with
 * log_format: json, one JSON object per line
 * ({"time":"...","level":"info","instance":"sessions","message":"..."}),
 * each optionally led by a syslog priority ("<3>" for errors) that
 * journald reads from a service's stderr (sd-daemon(3)). log.c calls it;
 * no I/O here. */
#ifndef AOFROLL_LOGFMT_H
#define AOFROLL_LOGFMT_H

#include <stddef.h>

struct logfmt {
    int json;     /* one JSON object per line */
    int priority; /* lead each line with "<N>" (journald) */
};

/* level: 0 debug, 1 info, 2 warn, 3 error (enum log_level). instance may
 * be NULL. Writes at most n bytes including the '\0' and a final '\n';
 * returns the length written. */
size_t logfmt_line(const struct logfmt *f, int level, const char *when, const char *instance, const char *msg,
                   char *out, size_t n);
/* 1 when stderr is the journal's stream: JOURNAL_STREAM ("DEV:INODE",
 * set by systemd) names the file stderr is. */
int logfmt_stderr_is_journal(void);

#endif
