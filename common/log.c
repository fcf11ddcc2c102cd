/* log.c - levelled, timestamped log lines (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "xalloc.h"

void log_init(struct logger *lg, enum log_level min)
{
    lg->fp = stderr;
    lg->path = NULL;
    lg->min = min;
    lg->fmt.json = 0;
    lg->fmt.priority = 0;
    pthread_mutex_init(&lg->lock, NULL);
}

void log_set_format(struct logger *lg, int json)
{
    lg->fmt.json = json;
    lg->fmt.priority = lg->path == NULL && logfmt_stderr_is_journal();
}

int log_open(struct logger *lg, const char *path, struct err *e)
{
    FILE *fp = fopen(path, "a");

    if (fp == NULL)
        return err_sys(e, errno, "cannot open log file \"%s\"", path);
    setvbuf(fp, NULL, _IOLBF, 0);
    pthread_mutex_lock(&lg->lock);
    if (lg->fp != stderr && lg->fp != NULL)
        fclose(lg->fp);
    lg->fp = fp;
    if (lg->path != path) {
        free(lg->path);
        lg->path = xstrdup(path);
    }
    pthread_mutex_unlock(&lg->lock);
    return 0;
}

int log_reopen(struct logger *lg, struct err *e)
{
    char *path;
    int rc;

    if (lg->path == NULL)
        return 0;
    path = xstrdup(lg->path);
    rc = log_open(lg, path, e);
    free(path);
    return rc;
}

void log_close(struct logger *lg)
{
    if (lg->fp != stderr && lg->fp != NULL)
        fclose(lg->fp);
    lg->fp = NULL;
    free(lg->path);
    lg->path = NULL;
    pthread_mutex_destroy(&lg->lock);
}

/* "2026-11-21T10:45:01.123+01:00" */
static void format_now(char *buf, size_t n)
{
    struct timeval tv;
    struct tm tm;
    char zone[8];
    size_t len;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm); /* +0100 */
    snprintf(buf + len, n - len, ".%03d%.3s:%.2s", (int)(tv.tv_usec / 1000), zone, zone + 3);
}

void log_msg(struct logger *lg, enum log_level level, const char *instance, const char *fmt, ...)
{
    char msg[2048], line[2304];
    char when[48];
    va_list ap;

    if (level < lg->min)
        return;
    format_now(when, sizeof(when));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    logfmt_line(&lg->fmt, (int)level, when, instance, msg, line, sizeof(line));
    /* fp only under the lock: SIGHUP's log_reopen() replaces it */
    pthread_mutex_lock(&lg->lock);
    if (lg->fp != NULL) {
        fputs(line, lg->fp);
        fflush(lg->fp);
    }
    pthread_mutex_unlock(&lg->lock);
}
