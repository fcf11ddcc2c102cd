/* log.h - levelled log lines: one line per event, to stderr or a file.
 *
 * Format: "2026-11-21T10:45:01.123+01:00 INFO [sessions] message", or
 * one JSON object per line (log_format: json); on stderr under systemd,
 * each line led by its syslog priority for journald (logfmt.h).
 * The logger is a value owned by main and passed down; SIGHUP handling
 * calls log_reopen() so that logrotate can move the file. Safe to use from
 * several threads (each line is written with one fputs under a mutex). */
#ifndef AOFROLL_LOG_H
#define AOFROLL_LOG_H

#include <pthread.h>
#include <stdio.h>

#include "error.h"
#include "logfmt.h"

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

struct logger {
    FILE *fp;           /* stderr or the opened file */
    char *path;         /* NULL when logging to stderr */
    enum log_level min; /* lines below this level are dropped */
    struct logfmt fmt;  /* text or JSON; journald priorities */
    pthread_mutex_t lock;
};

void log_init(struct logger *lg, enum log_level min); /* stderr */
int log_open(struct logger *lg, const char *path, struct err *e);
int log_reopen(struct logger *lg, struct err *e);
void log_close(struct logger *lg);
/* JSON lines or text; "<N>" priorities when the lines go to stderr and
 * stderr is the journal (JOURNAL_STREAM). Call after log_open. */
void log_set_format(struct logger *lg, int json);
/* instance may be NULL for process-wide lines. */
void log_msg(struct logger *lg, enum log_level level, const char *instance, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
