/* position.c - DIR/aofroll-restore.json: the position a restored instance
 * stands at. See position.h. JSON goes through SQLite's json_object() and
 * json_extract()/json_each() on a private in-memory database. */
#include "position.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outdir.h"
#include "timeutil.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ */
/* Keyspace                                                             */
/* ------------------------------------------------------------------ */

void keyspace_add(struct keyspace *ks, int db, int64_t keys)
{
    size_t i = ks->n;

    ks->v = xrealloc(ks->v, (ks->n + 1) * sizeof(*ks->v));
    while (i > 0 && ks->v[i - 1].db > db) {
        ks->v[i] = ks->v[i - 1];
        i--;
    }
    ks->v[i].db = db;
    ks->v[i].keys = keys;
    ks->n++;
}

int keyspace_equal(const struct keyspace *a, const struct keyspace *b)
{
    size_t i;

    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++)
        if (a->v[i].db != b->v[i].db || a->v[i].keys != b->v[i].keys)
            return 0;
    return 1;
}

void keyspace_format(const struct keyspace *ks, struct buf *out)
{
    size_t i;

    if (ks->n == 0)
        buf_appendstr(out, "empty");
    for (i = 0; i < ks->n; i++)
        buf_printf(out, "%sdb%d=%lld", i ? " " : "", ks->v[i].db, (long long)ks->v[i].keys);
}

void keyspace_free(struct keyspace *ks)
{
    free(ks->v);
    ks->v = NULL;
    ks->n = 0;
}

/* ------------------------------------------------------------------ */
/* The file                                                             */
/* ------------------------------------------------------------------ */

static int position_db_open(sqlite3 **db, struct err *e)
{
    if (sqlite3_open_v2(":memory:", db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "sqlite: %s", *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

int position_format(const struct position *p, struct buf *out, struct err *e)
{
    static const char sql[] =
        "SELECT json_object('format', ?1, 'instance', ?2, 'generation', ?3, 'base_time', ?4,"
        " 'requested_time', ?5, 'time', ?6, 'time_utc', ?7, 'offset', ?8, 'db', ?9, 'ts', ?10,"
        " 'exact', json(?11), 'keyspace', json(?12))";
    struct buf ks = BUF_INIT;
    char when[TIME_BUFSZ];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const unsigned char *json;
    size_t i;
    int ret = -1;

    if (p->has_keyspace) {
        buf_appendstr(&ks, "{");
        for (i = 0; i < p->keyspace.n; i++)
            buf_printf(&ks, "%s\"%d\":%lld", i ? "," : "", p->keyspace.v[i].db,
                       (long long)p->keyspace.v[i].keys);
        buf_appendstr(&ks, "}");
    } else {
        buf_appendstr(&ks, "null");
    }
    time_format_utc(p->time, when, sizeof(when));
    if (position_db_open(&db, e) < 0)
        goto out;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_int(st, 1, POSITION_FORMAT);
    sqlite3_bind_text(st, 2, p->instance, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, p->generation);
    sqlite3_bind_int64(st, 4, p->base_time);
    sqlite3_bind_int64(st, 5, p->requested);
    sqlite3_bind_int64(st, 6, p->time);
    sqlite3_bind_text(st, 7, when, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)p->offset);
    sqlite3_bind_int(st, 9, p->db);
    sqlite3_bind_int64(st, 10, p->ts);
    sqlite3_bind_text(st, 11, p->exact ? "true" : "false", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, ks.data, (int)ks.len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || (json = sqlite3_column_text(st, 0)) == NULL) {
        err_set(e, ERR_IO, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    buf_appendstr(out, (const char *)json);
    buf_appendstr(out, "\n");
    ret = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    buf_free(&ks);
    return ret;
}

int position_write(const struct outdir *d, const char *rel, const struct position *p, struct err *e)
{
    struct buf text = BUF_INIT;
    int ret = -1;

    if (position_format(p, &text, e) < 0 || outdir_write_atomic(d, rel, text.data, text.len, e) < 0)
        goto out;
    ret = 0;
out:
    buf_free(&text);
    return ret;
}

int position_parse(const char *path, const char *json, size_t len, struct position *p, struct err *e)
{
    static const char sql_fields[] =
        "SELECT json_valid(?1), json_extract(?1, '$.format'), json_extract(?1, '$.instance'),"
        " json_extract(?1, '$.generation'), json_extract(?1, '$.base_time'),"
        " json_extract(?1, '$.requested_time'), json_extract(?1, '$.time'),"
        " json_extract(?1, '$.offset'), json_extract(?1, '$.db'), json_extract(?1, '$.ts'),"
        " json_extract(?1, '$.exact'), json_type(?1, '$.keyspace')";
    static const char *const fields[] = {
        "",     "format", "instance", "generation", "base_time", "requested_time",
        "time", "offset", "db",       "ts",         "exact"};
    static const char sql_keyspace[] = "SELECT key, value FROM json_each(?1, '$.keyspace')";
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    const char *ks_type;
    int ret = -1, i;

    memset(p, 0, sizeof(*p));
    if (len > INT_MAX) {
        err_set(e, ERR_CORRUPT, "\"%s\" is too large (%zu bytes)", path, len);
        goto out;
    }
    if (position_db_open(&db, e) < 0)
        goto out;
    if (sqlite3_prepare_v2(db, sql_fields, -1, &st, NULL) != SQLITE_OK) {
        err_set(e, ERR_IO, "sqlite: %s", sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_bind_text(st, 1, json != NULL ? json : "", (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) {
        err_set(e, ERR_CORRUPT, "\"%s\" is not valid JSON", path);
        goto out;
    }
    for (i = 1; i <= 10; i++) {
        if (sqlite3_column_type(st, i) == SQLITE_NULL) {
            err_set(e, ERR_CORRUPT, "\"%s\" lacks field \"%s\"", path, fields[i]);
            goto out;
        }
    }
    if (sqlite3_column_int(st, 1) != POSITION_FORMAT) {
        err_set(e, ERR_CORRUPT, "\"%s\" has format %d; this aofroll reads format %d", path,
                sqlite3_column_int(st, 1), POSITION_FORMAT);
        goto out;
    }
    if (snprintf(p->instance, sizeof(p->instance), "%s", (const char *)sqlite3_column_text(st, 2)) >=
        (int)sizeof(p->instance)) {
        err_set(e, ERR_CORRUPT, "\"%s\": instance name too long", path);
        goto out;
    }
    p->generation = sqlite3_column_int64(st, 3);
    p->base_time = sqlite3_column_int64(st, 4);
    p->requested = sqlite3_column_int64(st, 5);
    p->time = sqlite3_column_int64(st, 6);
    if (sqlite3_column_int64(st, 7) < 0) {
        err_set(e, ERR_CORRUPT, "\"%s\": negative offset", path);
        goto out;
    }
    p->offset = (uint64_t)sqlite3_column_int64(st, 7);
    p->db = sqlite3_column_int(st, 8);
    p->ts = sqlite3_column_int64(st, 9);
    p->exact = sqlite3_column_int(st, 10) != 0;
    ks_type = (const char *)sqlite3_column_text(st, 11);
    p->has_keyspace = ks_type != NULL && strcmp(ks_type, "object") == 0;
    sqlite3_finalize(st);
    st = NULL;
    if (p->has_keyspace) {
        if (sqlite3_prepare_v2(db, sql_keyspace, -1, &st, NULL) != SQLITE_OK) {
            err_set(e, ERR_IO, "sqlite: %s", sqlite3_errmsg(db));
            goto out;
        }
        sqlite3_bind_text(st, 1, json != NULL ? json : "", (int)len, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *k = (const char *)sqlite3_column_text(st, 0);
            char *end = NULL;
            long dbn = k ? strtol(k, &end, 10) : -1;

            if (k == NULL || end == k || *end != '\0' || dbn < 0 || dbn > 1000000 ||
                sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
                err_set(e, ERR_CORRUPT, "\"%s\": bad keyspace entry \"%s\"", path, k ? k : "");
                goto out;
            }
            keyspace_add(&p->keyspace, (int)dbn, sqlite3_column_int64(st, 1));
        }
    }
    ret = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (ret < 0)
        position_free(p);
    return ret;
}

int position_read(const struct outdir *d, struct position *p, struct err *e)
{
    struct buf text = BUF_INIT;
    char *path = xasprintf("%s/%s", d->path, POSITION_FILE);
    int ret = -1;

    memset(p, 0, sizeof(*p));
    if (outdir_read_file(d, POSITION_FILE, &text, e) < 0) {
        if (e->code == ERR_NOTFOUND)
            err_set(e, ERR_NOTFOUND, "\"%s\" has no %s: it is not a directory written by aofroll restore",
                    d->path, POSITION_FILE);
        goto out;
    }
    ret = position_parse(path, text.data, text.len, p, e);
out:
    buf_free(&text);
    free(path);
    return ret;
}

void position_free(struct position *p)
{
    keyspace_free(&p->keyspace);
}
