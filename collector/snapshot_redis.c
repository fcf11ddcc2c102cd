/* snapshot_redis.c - the Redis commands of a snapshot.
 *
 * A snapshot needs four things from redis-server: where the dump lives
 * (CONFIG GET dir dbfilename, with rdbchecksum, save and appendonly for
 * the log and --check), LASTSAVE, BGSAVE SCHEDULE, and the save fields of
 * INFO persistence. The connection is the instance's redisconn
 * (redisconn.c: connect, AUTH, backoff); commands go through
 * snapshot_command(), which, like redisconn's own, drops the connection on
 * an I/O error (so that the next redisconn_ensure() reconnects) and turns
 * an error reply into ERR_REDIS with Redis's text. SAVE is never sent: it
 * would block Redis for the whole dump. */
#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "xalloc.h"

/* Send argv; the reply (caller frees) or NULL with e filled. */
static redisReply *snapshot_command(struct redisconn *rc, int argc, const char **argv, struct err *e)
{
    redisReply *r;

    if (rc->ctx == NULL) {
        err_set(e, ERR_REDIS, "not connected to redis \"%s\"", rc->where);
        return NULL;
    }
    r = redisCommandArgv(rc->ctx, argc, argv, NULL);
    if (r == NULL) {
        err_set(e, ERR_IO, "redis \"%s\" did not answer %s: %s", rc->where, argv[0],
                rc->ctx->errstr[0] != '\0' ? rc->ctx->errstr : "connection lost");
        redisconn_close(rc);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "redis \"%s\" refused %s: %s", rc->where, argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* An integer field of INFO text; `absent` when it is not there. */
static long long info_int(const char *text, const char *field, long long absent)
{
    char *v = redisconn_info_field(text, field);
    long long n = absent;

    if (v != NULL)
        n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

int snapshot_parse_persistence(const char *text, struct rdb_persistence *p, struct err *e)
{
    char *status = redisconn_info_field(text, "rdb_last_bgsave_status");
    long long inprog = info_int(text, "rdb_bgsave_in_progress", -1);
    long long last = info_int(text, "rdb_last_save_time", -1);

    memset(p, 0, sizeof(*p));
    if (status == NULL || inprog < 0 || last < 0) {
        free(status);
        return err_set(e, ERR_REDIS,
                       "INFO persistence lacks \"rdb_bgsave_in_progress\", \"rdb_last_save_time\" or "
                       "\"rdb_last_bgsave_status\"");
    }
    p->bgsave_in_progress = inprog != 0;
    p->last_save_time = last;
    p->last_bgsave_ok = strcmp(status, "ok") == 0;
    p->saves = info_int(text, "rdb_saves", -1);
    p->loading = info_int(text, "loading", 0) == 1;
    p->aof_rewrite_in_progress = info_int(text, "aof_rewrite_in_progress", 0) == 1;
    p->module_fork_in_progress = info_int(text, "module_fork_in_progress", 0) == 1;
    free(status);
    return 0;
}

int snapshot_persistence(struct redisconn *rc, struct rdb_persistence *p, struct err *e)
{
    char *text = NULL;
    int rv;

    if (redisconn_info(rc, "persistence", &text, e) != 0)
        return -1;
    rv = snapshot_parse_persistence(text, p, e);
    if (rv != 0)
        err_prefix(e, "redis \"%s\"", rc->where);
    free(text);
    return rv;
}

int snapshot_lastsave(struct redisconn *rc, int64_t *t, struct err *e)
{
    const char *argv[1] = {"LASTSAVE"};
    redisReply *r = snapshot_command(rc, 1, argv, e);

    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_INTEGER) {
        freeReplyObject(r);
        return err_set(e, ERR_REDIS, "redis \"%s\" answered LASTSAVE with an unexpected reply", rc->where);
    }
    *t = (int64_t)r->integer;
    freeReplyObject(r);
    return 0;
}

int snapshot_bgsave(struct redisconn *rc, enum bgsave_reply *reply, struct err *e)
{
    /* SCHEDULE: with another child running (an AOF rewrite, a module's
     * fork) Redis starts ours when that one ends instead of refusing */
    const char *argv[2] = {"BGSAVE", "SCHEDULE"};
    redisReply *r = snapshot_command(rc, 2, argv, e);

    if (r == NULL) {
        /* "ERR Background save already in progress" */
        if (e->code == ERR_REDIS && strstr(e->msg, "already in progress") != NULL) {
            *reply = BGSAVE_RUNNING;
            err_clear(e);
            return 0;
        }
        return -1;
    }
    if (r->type != REDIS_REPLY_STATUS) {
        freeReplyObject(r);
        return err_set(e, ERR_REDIS, "redis \"%s\" answered BGSAVE with an unexpected reply", rc->where);
    }
    *reply = strstr(r->str, "scheduled") != NULL ? BGSAVE_SCHEDULED : BGSAVE_STARTED;
    freeReplyObject(r);
    return 0;
}

void snapshot_location_free(struct rdb_location *loc)
{
    free(loc->dir);
    free(loc->dbfilename);
    free(loc->save);
    memset(loc, 0, sizeof(*loc));
}

int snapshot_location(struct redisconn *rc, struct rdb_location *loc, struct err *e)
{
    const char *argv[] = {"CONFIG", "GET", "dir", "dbfilename", "rdbchecksum", "save", "appendonly"};
    redisReply *r;
    int rv = -1;

    memset(loc, 0, sizeof(*loc));
    r = snapshot_command(rc, (int)(sizeof(argv) / sizeof(argv[0])), argv, e);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
        err_set(e, ERR_REDIS, "redis \"%s\" answered CONFIG GET with an unexpected reply", rc->where);
        goto out;
    }
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(k->str, "dir") == 0 && loc->dir == NULL)
            loc->dir = xstrdup(v->str);
        else if (strcmp(k->str, "dbfilename") == 0 && loc->dbfilename == NULL)
            loc->dbfilename = xstrdup(v->str);
        else if (strcmp(k->str, "save") == 0 && loc->save == NULL)
            loc->save = xstrdup(v->str);
        else if (strcmp(k->str, "rdbchecksum") == 0)
            loc->checksum = strcmp(v->str, "yes") == 0;
        else if (strcmp(k->str, "appendonly") == 0)
            loc->appendonly = strcmp(v->str, "yes") == 0;
    }
    if (loc->dir == NULL || loc->dbfilename == NULL) {
        err_set(e, ERR_REDIS, "redis \"%s\" did not report \"dir\" and \"dbfilename\"", rc->where);
        goto out;
    }
    if (loc->dir[0] != '/' || loc->dbfilename[0] == '\0' || strchr(loc->dbfilename, '/') != NULL) {
        err_set(e, ERR_REDIS,
                "redis \"%s\" reports dir \"%s\" and dbfilename \"%s\": not a file the collector can find",
                rc->where, loc->dir, loc->dbfilename);
        goto out;
    }
    if (loc->save == NULL)
        loc->save = xstrdup("");
    rv = 0;
out:
    freeReplyObject(r);
    if (rv != 0)
        snapshot_location_free(loc);
    return rv;
}
