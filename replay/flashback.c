/* flashback.c - the key-by-key comparison of a scratch server (the
 * keyspace as at TIME) with a live target, and the writes that make the
 * target's matching keys what they were (flashback.h).
 *
 * Per db, two passes, each in batches of one SCAN reply:
 *  1. every key of the scratch server that matches a --key GLOB: DUMP and
 *     PEXPIRETIME from the scratch server and (unless the target was empty
 *     at the start) from the target; then, per key, nothing (same) or
 *     `RESTORE key ttl payload REPLACE [ABSTTL]`;
 *  2. every key of the target that matches a GLOB: EXISTS on the scratch
 *     server; `UNLINK key` for those that did not exist at TIME.
 * A key matched by several GLOBs is handled with the first of them only.
 * Each batch's commands go out in one pipeline and all their replies are
 * read; the first error reply (ACL, OOM, MOVED, ...) stops the run after
 * the batch, naming the key and what was done so far: every write is
 * idempotent, so running again finishes the job.
 *
 * Expiries: the scratch server runs on the real clock, so a key whose
 * expiry passed between TIME and now is gone from it (lazily expired on
 * access, or counted as expired when its DUMP comes back empty). With
 * --ttl keep each key gets its absolute expiry (ABSTTL); with --ttl shift
 * the time it had left at the end of second TIME, counted from now. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "flashback.h"
#include "json.h"
#include "keypos.h"
#include "quote.h"
#include "target.h"
#include "timeutil.h"
#include "xalloc.h"

#define FB_SCAN_COUNT 1000
#define FB_MAX_DBS 1024 /* as many as the scratch server has (scratch.c) */
#define FB_MAX_BULK_DEFAULT (512LL * 1024 * 1024)
#define FB_MAX_BULK_MIN (1024LL * 1024) /* the lowest proto-max-bulk-len Redis accepts */

static const char *const fb_kind_names[FB_NKINDS] = {"restore", "revert", "delete", "same", "expired"};

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

int flashback_add_key(struct flashback_opts *o, const char *glob, struct err *e)
{
    if (o->nkeys == FLASHBACK_MAX_FILTERS)
        return err_set(e, ERR_USAGE, "at most %d --key options", FLASHBACK_MAX_FILTERS);
    if (glob[0] == '\0')
        return err_set(e, ERR_USAGE, "--key: an empty pattern");
    o->keys[o->nkeys++] = glob;
    return 0;
}

int flashback_add_db(struct flashback_opts *o, const char *text, struct err *e)
{
    char *end;
    long v;
    size_t i;

    if (o->ndbs == FLASHBACK_MAX_FILTERS)
        return err_set(e, ERR_USAGE, "at most %d --db options", FLASHBACK_MAX_FILTERS);
    v = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || v < 0 || v > INT_MAX)
        return err_set(e, ERR_USAGE, "--db \"%s\": expected a db number", text);
    for (i = 0; i < o->ndbs; i++)
        if (o->dbs[i] == v)
            return 0;
    o->dbs[o->ndbs++] = v;
    return 0;
}

int flashback_set_ttl(struct flashback_opts *o, const char *text, struct err *e)
{
    if (strcmp(text, "keep") == 0)
        o->ttl_shift = 0;
    else if (strcmp(text, "shift") == 0)
        o->ttl_shift = 1;
    else
        return err_set(e, ERR_USAGE, "--ttl \"%s\": expected keep or shift", text);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static int64_t fb_now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int fb_append(redisContext *rc, int argc, const char **argv, const size_t *lens)
{
    return redisAppendCommandArgv(rc, argc, argv, lens) == REDIS_OK ? 0 : -1;
}

/* The next reply of a pipeline; a broken connection is an error. */
static int fb_reply(redisContext *rc, const char *what, redisReply **r, struct err *e)
{
    void *p = NULL;

    if (redisGetReply(rc, &p) != REDIS_OK || p == NULL)
        return err_set(e, ERR_IO, "%s: %s", what, rc->errstr[0] ? rc->errstr : "connection lost");
    *r = p;
    return 0;
}

/* One command, its reply (an error reply is an error). */
static int fb_command(redisContext *rc, const char *what, redisReply **out, struct err *e, const char *fmt,
                      ...)
{
    redisReply *r;
    va_list ap;

    va_start(ap, fmt);
    r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    if (r == NULL)
        return err_set(e, ERR_IO, "%s: %s", what, rc->errstr[0] ? rc->errstr : "connection lost");
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "%s: %s", what, r->str);
        freeReplyObject(r);
        return -1;
    }
    if (out != NULL)
        *out = r;
    else
        freeReplyObject(r);
    return 0;
}

/* Whether the server knows the command (COMMAND INFO NAME). */
static int fb_has_command(redisContext *rc, const char *name)
{
    redisReply *r = redisCommand(rc, "COMMAND INFO %s", name);
    int has = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
              r->element[0]->type == REDIS_REPLY_ARRAY;

    if (r != NULL)
        freeReplyObject(r);
    return has;
}

static int fb_select(redisContext *rc, const char *what, long db, struct err *e)
{
    if (fb_command(rc, what, NULL, e, "SELECT %ld", db) < 0) {
        err_prefix(e, "db %ld", db);
        return -1;
    }
    return 0;
}

/* The dbs that hold keys (INFO keyspace), added to the sorted set v[*n]. */
static int fb_dbs_with_keys(redisContext *rc, const char *what, long *v, size_t *n, size_t cap, struct err *e)
{
    struct keyspace ks = {NULL, 0};
    size_t i, j;

    if (target_keyspace(rc, what, &ks, e) < 0)
        return -1;
    for (i = 0; i < ks.n; i++) {
        long db = ks.v[i].db;

        for (j = 0; j < *n && v[j] < db; j++)
            ;
        if (j < *n && v[j] == db)
            continue;
        if (*n == cap) {
            keyspace_free(&ks);
            return err_set(e, ERR_USAGE, "%s: more than %zu dbs hold keys HINT: name the dbs with --db", what,
                           cap);
        }
        memmove(v + j + 1, v + j, (*n - j) * sizeof(*v));
        v[j] = db;
        (*n)++;
    }
    keyspace_free(&ks);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The report                                                           */
/* ------------------------------------------------------------------ */

struct fb_pending {
    char *k;
    size_t klen;
    enum flashback_kind kind;
    long long bytes;
    int field_ttl; /* an HPEXPIRE after the key's RESTORE: not counted */
};

struct fb_run {
    struct flashback *fb;
    redisContext *src;
    struct json j;
    long db;
    size_t glob; /* index of the --key GLOB being scanned */
    const char *globs[FLASHBACK_MAX_FILTERS];
    size_t nglobs;
    struct buf line;
    struct fb_pending *pending; /* RESTOREs sent, replies not read yet */
    size_t npending, cap_pending;
    int hfe_server; /* the scratch server has hash-field expiration */
    int hfe;        /* that, and --ttl shift */
    /* the first refusal of the target */
    int refused;
    struct err refusal;
};

/* A key matched by an earlier GLOB was handled with that one. */
static int fb_seen(const struct fb_run *run, const char *k, size_t klen)
{
    size_t i;

    for (i = 0; i < run->glob; i++)
        if (keypos_glob_match(run->globs[i], strlen(run->globs[i]), k, klen, 0))
            return 1;
    return 0;
}

/* One key of a dry run's listing. */
static void fb_list(struct fb_run *run, enum flashback_kind kind, const char *k, size_t klen,
                    const char *type, long long bytes)
{
    if (!run->fb->o->dry_run)
        return;
    if (run->fb->o->json) {
        json_object_begin(&run->j);
        json_kv_string(&run->j, "action", fb_kind_names[kind]);
        json_kv_int(&run->j, "db", run->db);
        json_key(&run->j, "key");
        json_string_len(&run->j, k, klen);
        json_kv_string(&run->j, "type", type);
        json_kv_int(&run->j, "bytes", bytes);
        json_object_end(&run->j);
        return;
    }
    buf_reset(&run->line);
    quote_arg(&run->line, k, klen, 0);
    printf("%-7s db%ld %s %s %lld bytes\n", fb_kind_names[kind], run->db, run->line.data, type, bytes);
}

static void fb_count(struct fb_run *run, enum flashback_kind kind, long long bytes)
{
    run->fb->count[kind]++;
    if (bytes > 0)
        run->fb->bytes[kind] += (uint64_t)bytes;
}

/* The target refused a write: kept to stop the run after the batch. */
static void fb_refused(struct fb_run *run, const char *cmd, const char *k, size_t klen, const char *msg)
{
    if (run->refused)
        return;
    buf_reset(&run->line);
    quote_arg(&run->line, k, klen, QUOTE_DEFAULT_MAX);
    err_set(&run->refusal, ERR_REDIS, "%s refused %s of key %s in db %ld: %s%s", run->fb->what, cmd,
            run->line.data, run->db, msg,
            strstr(msg, "invalid bulk length") != NULL
                ? " (the payload is longer than the target's proto-max-bulk-len, which it did not let "
                  "aofroll read or raise)"
                : "");
    run->refused = 1;
}

/* ------------------------------------------------------------------ */
/* Pass 1: the keys as they were                                        */
/* ------------------------------------------------------------------ */

struct fb_key {
    const char *k;
    size_t klen;
    redisReply *sdump, *sexp, *stype; /* the scratch server's */
    redisReply *fields, *fexp;        /* --ttl shift, a hash: HKEYS, HPEXPIRETIME */
    redisReply *tdump, *texp;         /* the target's (NULL when it was empty) */
    enum flashback_kind kind;
    long long ttl; /* RESTORE's ttl argument */
    int write;     /* RESTORE it */
    int same;      /* other payload bytes, the same contents (fb_same_contents) */
};

static void fb_keys_free(struct fb_key *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (v[i].sdump)
            freeReplyObject(v[i].sdump);
        if (v[i].sexp)
            freeReplyObject(v[i].sexp);
        if (v[i].stype)
            freeReplyObject(v[i].stype);
        if (v[i].tdump)
            freeReplyObject(v[i].tdump);
        if (v[i].texp)
            freeReplyObject(v[i].texp);
        if (v[i].fields)
            freeReplyObject(v[i].fields);
        if (v[i].fexp)
            freeReplyObject(v[i].fexp);
    }
    free(v);
}

/* Send `HPEXPIRETIME key FIELDS n f...` for the n fields f[0],
 * f[stride], f[2 * stride], ... (an HKEYS reply: stride 1; sorted HGETALL
 * pairs: stride 2), without reading the reply. */
static int fb_append_hpexpiretime(redisContext *ctx, const char *what, const struct fb_key *k,
                                  redisReply *const *f, size_t stride, size_t n, struct err *e)
{
    const char **argv = xcalloc(n + 4, sizeof(*argv));
    size_t *lens = xcalloc(n + 4, sizeof(*lens)), i;
    char count[32];
    int rc;

    snprintf(count, sizeof(count), "%zu", n);
    argv[0] = "HPEXPIRETIME";
    argv[1] = k->k;
    argv[2] = "FIELDS";
    argv[3] = count;
    lens[0] = 12;
    lens[1] = k->klen;
    lens[2] = 6;
    lens[3] = strlen(count);
    for (i = 0; i < n; i++) {
        argv[4 + i] = f[i * stride]->str;
        lens[4 + i] = f[i * stride]->len;
    }
    rc = fb_append(ctx, (int)(n + 4), argv, lens);
    free(argv);
    free(lens);
    return rc < 0 ? err_set(e, ERR_IO, "%s: %s", what, ctx->errstr) : 0;
}

/* Read an HPEXPIRETIME reply for n fields into *r. */
static int fb_read_hpexpiretime(redisContext *rc, const char *what, size_t n, redisReply **r, struct err *e)
{
    if (fb_reply(rc, what, r, e) < 0)
        return -1;
    if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != n)
        return err_set(e, ERR_REDIS, "%s: HPEXPIRETIME: %s", what,
                       (*r)->type == REDIS_REPLY_ERROR ? (*r)->str : "an unexpected reply");
    return 0;
}

/* --ttl shift on a server with hash-field expiration: the fields of each
 * hash and their absolute expiries (HKEYS, then HPEXPIRETIME ... FIELDS),
 * from the scratch server, for fb_send_field_ttls. */
static int fb_field_ttls(struct fb_run *run, struct fb_key *v, size_t n, struct err *e)
{
    const char *what = "the scratch redis-server";
    redisContext *rc = run->src;
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i].stype != NULL && v[i].stype->type == REDIS_REPLY_STATUS &&
            strcmp(v[i].stype->str, "hash") == 0 &&
            fb_command(rc, what, &v[i].fields, e, "HKEYS %b", v[i].k, v[i].klen) < 0)
            return -1;
    /* one pipeline for the expiries of every hash's fields */
    for (i = 0; i < n; i++)
        if (v[i].fields != NULL && v[i].fields->type == REDIS_REPLY_ARRAY && v[i].fields->elements > 0 &&
            fb_append_hpexpiretime(rc, what, &v[i], v[i].fields->element, 1, v[i].fields->elements, e) < 0)
            return -1;
    for (i = 0; i < n; i++)
        if (v[i].fields != NULL && v[i].fields->type == REDIS_REPLY_ARRAY && v[i].fields->elements > 0 &&
            fb_read_hpexpiretime(rc, what, v[i].fields->elements, &v[i].fexp, e) < 0)
            return -1;
    return 0;
}

/* Send `CMD key` for each key and each of the ncmd commands (one
 * pipeline, interleaved) and read the replies into the slots. */
static int fb_per_key(redisContext *rc, const char *what, struct fb_key *v, size_t n, const char *const *cmds,
                      const size_t *slots, size_t ncmd, struct err *e)
{
    size_t i, c;

    for (i = 0; i < n; i++) {
        for (c = 0; c < ncmd; c++) {
            const char *argv[2] = {cmds[c], v[i].k};
            size_t lens[2] = {strlen(cmds[c]), v[i].klen};

            if (fb_append(rc, 2, argv, lens) < 0)
                return err_set(e, ERR_IO, "%s: %s", what, rc->errstr);
        }
    }
    for (i = 0; i < n; i++) {
        for (c = 0; c < ncmd; c++) {
            redisReply **r = (redisReply **)((char *)&v[i] + slots[c]);

            if (fb_reply(rc, what, r, e) < 0)
                return -1;
            if ((*r)->type == REDIS_REPLY_ERROR)
                return err_set(e, ERR_REDIS, "%s: %s: %s", what, cmds[c], (*r)->str);
        }
    }
    return 0;
}

/* The keys of one SCAN reply that this GLOB handles (not those an
 * earlier GLOB matched) into v; their number. */
static size_t fb_batch_keys(const struct fb_run *run, const redisReply *keys, struct fb_key *v)
{
    size_t i, n = 0;

    for (i = 0; i < keys->elements; i++) {
        const redisReply *k = keys->element[i];

        if (k->type != REDIS_REPLY_STRING || fb_seen(run, k->str, k->len))
            continue;
        v[n].k = k->str;
        v[n].klen = k->len;
        n++;
    }
    return n;
}

static int fb_same_expiry(const struct flashback *fb, long long want_abs, long long have_abs)
{
    long long d;

    if (want_abs < 0 || have_abs < 0)
        return want_abs < 0 && have_abs < 0;
    d = want_abs - have_abs;
    if (!fb->o->ttl_shift)
        return d == 0;
    return d > -1000 && d < 1000;
}

/* Order of two elements of a SMEMBERS reply, or of two field-value pairs
 * of an HGETALL reply (by field). */
static int fb_cmp_elem(const void *a, const void *b)
{
    const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
    int c = memcmp(x->str, y->str, x->len < y->len ? x->len : y->len);

    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* The elements of a set (SMEMBERS) or the field-value pairs of a hash
 * (HGETALL) in a canonical order; *r is the reply (freed by the caller),
 * *v the sorted elements (pairs: the field of each, its value after it). */
static int fb_contents(redisContext *rc, const char *what, const char *type, const struct fb_key *k,
                       redisReply **r, redisReply ***v, struct err *e)
{
    int hash = strcmp(type, "hash") == 0;
    size_t i, n;

    if (fb_command(rc, what, r, e, hash ? "HGETALL %b" : "SMEMBERS %b", k->k, k->klen) < 0)
        return -1;
    if ((*r)->type != REDIS_REPLY_ARRAY || (hash && (*r)->elements % 2 != 0))
        return err_set(e, ERR_REDIS, "%s: %s: an unexpected reply", what, hash ? "HGETALL" : "SMEMBERS");
    n = (*r)->elements;
    *v = xcalloc(n ? n : 1, sizeof(**v));
    for (i = 0; i < n; i++) {
        if ((*r)->element[i]->type != REDIS_REPLY_STRING)
            return err_set(e, ERR_REDIS, "%s: an element that is not a string", what);
        (*v)[i] = (*r)->element[i];
    }
    if (hash) {
        /* sort the pairs: an array of (field, value) pointer pairs */
        qsort(*v, n / 2, 2 * sizeof(**v), fb_cmp_elem);
    } else {
        qsort(*v, n, sizeof(**v), fb_cmp_elem);
    }
    return 0;
}

/* The same fields (sorted pairs `fv`, n of them) have the same expiries
 * on both sides (HPEXPIRETIME ... FIELDS): else k->same is cleared. */
static int fb_same_field_ttls(struct fb_run *run, struct fb_key *k, redisReply **fv, size_t n, struct err *e)
{
    struct flashback *fb = run->fb;
    redisContext *side[2] = {run->src, fb->dst};
    const char *what[2] = {"the scratch redis-server", fb->what};
    redisReply *r[2] = {NULL, NULL};
    size_t i;
    int s, ret = -1;

    for (s = 0; s < 2; s++)
        if (fb_append_hpexpiretime(side[s], what[s], k, fv, 2, n, e) < 0 ||
            fb_read_hpexpiretime(side[s], what[s], n, &r[s], e) < 0)
            goto out;
    for (i = 0; i < n && k->same; i++)
        k->same = r[0]->element[i]->integer == r[1]->element[i]->integer;
    ret = 0;
out:
    for (s = 0; s < 2; s++)
        if (r[s] != NULL)
            freeReplyObject(r[s]);
    return ret;
}

/* DUMP payloads of a set or a hash stored as a hash table hold their
 * elements in the table's order, which differs between servers with the
 * same contents: payloads of equal length that differ are compared by
 * contents (k->same). Other types serialize in a fixed order. */
static int fb_same_contents(struct fb_run *run, struct fb_key *k, struct err *e)
{
    struct flashback *fb = run->fb;
    redisReply *type = NULL, *sr = NULL, *tr = NULL, **sv = NULL, **tv = NULL;
    size_t i;
    int ret = -1;

    if (k->sdump->type != REDIS_REPLY_STRING || k->tdump == NULL || k->tdump->type != REDIS_REPLY_STRING ||
        k->tdump->len != k->sdump->len || memcmp(k->tdump->str, k->sdump->str, k->sdump->len) == 0)
        return 0;
    if (fb_command(run->src, "the scratch redis-server", &type, e, "TYPE %b", k->k, k->klen) < 0)
        return -1;
    if (type->type != REDIS_REPLY_STATUS ||
        (strcmp(type->str, "set") != 0 && strcmp(type->str, "hash") != 0)) {
        ret = 0;
        goto out;
    }
    if (fb_contents(run->src, "the scratch redis-server", type->str, k, &sr, &sv, e) < 0 ||
        fb_contents(fb->dst, fb->what, type->str, k, &tr, &tv, e) < 0)
        goto out;
    k->same = sr->elements == tr->elements;
    for (i = 0; k->same && i < sr->elements; i++)
        k->same = sv[i]->len == tv[i]->len && memcmp(sv[i]->str, tv[i]->str, sv[i]->len) == 0;
    if (k->same && run->hfe_server && strcmp(type->str, "hash") == 0 &&
        fb_same_field_ttls(run, k, sv, sr->elements / 2, e) < 0)
        goto out;
    ret = 0;
out:
    free(sv);
    free(tv);
    if (sr != NULL)
        freeReplyObject(sr);
    if (tr != NULL)
        freeReplyObject(tr);
    if (type != NULL)
        freeReplyObject(type);
    return ret;
}

/* --ttl shift: a hash with fields that expire is written again (the
 * payloads hold absolute field expiries, the shifted ones are not). */
static int fb_fields_expire(const struct fb_key *k)
{
    size_t j;

    for (j = 0; k->fexp != NULL && j < k->fexp->elements; j++)
        if (k->fexp->element[j]->type == REDIS_REPLY_INTEGER && k->fexp->element[j]->integer >= 0)
            return 1;
    return 0;
}

/* Decide what each key needs. now: unix ms; at: the end of second TIME. */
static void fb_classify(struct fb_run *run, struct fb_key *k, int64_t now, int64_t at)
{
    const struct flashback *fb = run->fb;
    long long exp = k->sexp->type == REDIS_REPLY_INTEGER ? k->sexp->integer : -1;
    long long want_abs;

    if (k->sdump->type != REDIS_REPLY_STRING || (exp >= 0 && !fb->o->ttl_shift && exp <= now)) {
        k->kind = FB_EXPIRED; /* gone since TIME; pass 2 deletes the target's */
        return;
    }
    if (exp < 0) {
        k->ttl = 0;
        want_abs = -1;
    } else if (fb->o->ttl_shift) {
        k->ttl = exp - at > 0 ? exp - at : 1;
        want_abs = now + k->ttl;
    } else {
        k->ttl = exp;
        want_abs = exp;
    }
    if (k->tdump == NULL || k->tdump->type != REDIS_REPLY_STRING) {
        k->kind = FB_RESTORE;
        k->write = 1;
        return;
    }
    if (k->tdump->len == k->sdump->len &&
        (k->same || memcmp(k->tdump->str, k->sdump->str, k->sdump->len) == 0) &&
        fb_same_expiry(fb, want_abs, k->texp->type == REDIS_REPLY_INTEGER ? k->texp->integer : -1) &&
        !fb_fields_expire(k)) {
        k->kind = FB_SAME;
        return;
    }
    k->kind = FB_REVERT;
    k->write = 1;
}

/* A payload longer than the target's proto-max-bulk-len cannot be sent as
 * one argument: the limit is raised for the rest of the run (CONFIG SET;
 * flashback_run puts the old value back), or, where the target refuses
 * that, the run stops naming the key. Never skipped. */
static int fb_raise_limit(struct fb_run *run, const struct fb_key *k, struct err *e)
{
    struct flashback *fb = run->fb;
    long long want = ((long long)k->sdump->len / (1024 * 1024) + 1) * 1024 * 1024;
    struct err ce;

    err_clear(&ce);
    if (fb_command(fb->dst, fb->what, NULL, &ce, "CONFIG SET proto-max-bulk-len %lld", want) < 0) {
        buf_reset(&run->line);
        quote_arg(&run->line, k->k, k->klen, QUOTE_DEFAULT_MAX);
        return err_set(
            e, ERR_REDIS,
            "key %s in db %ld: its DUMP payload (%zu bytes) is larger than the proto-max-bulk-len of "
            "%s (%lld), and raising it failed (%s) HINT: raise proto-max-bulk-len on the target for "
            "the restore",
            run->line.data, run->db, k->sdump->len, fb->what, fb->max_bulk, ce.msg);
    }
    if (fb->raised_from == 0)
        fb->raised_from = fb->max_bulk;
    fb->max_bulk = want;
    fb->raised_keys++;
    return 0;
}

/* Put back the proto-max-bulk-len the target had. */
static int fb_lower_limit(struct flashback *fb, struct err *e)
{
    if (fb->raised_from == 0 || fb->dst == NULL)
        return 0;
    if (fb_command(fb->dst, fb->what, NULL, e, "CONFIG SET proto-max-bulk-len %lld", fb->raised_from) < 0) {
        err_prefix(e, "putting back proto-max-bulk-len %lld", fb->raised_from);
        return -1;
    }
    fb->max_bulk = fb->raised_from;
    fb->raised_from = 0;
    return 0;
}

/* Read the replies of the RESTOREs sent with the previous batch: the
 * target works on one batch while the scratch server is read for the
 * next. Acknowledged keys are counted; the first refusal is kept (and
 * returned). Called before any other command goes to the target. */
static int fb_ack(struct fb_run *run, struct err *e)
{
    struct flashback *fb = run->fb;
    size_t i;
    int ret = 0;

    for (i = 0; i < run->npending; i++) {
        struct fb_pending *p = &run->pending[i];
        redisReply *r = NULL;

        if (ret == 0 && fb_reply(fb->dst, fb->what, &r, e) < 0) {
            ret = -1; /* nothing after this was acknowledged */
        } else if (ret == 0) {
            if (r->type == REDIS_REPLY_ERROR)
                fb_refused(run, p->field_ttl ? "HPEXPIRE" : "RESTORE", p->k, p->klen, r->str);
            else if (!p->field_ttl)
                fb_count(run, p->kind, p->bytes);
            freeReplyObject(r);
        }
        free(p->k);
    }
    run->npending = 0;
    if (run->refused) {
        /* a refusal says why; a protocol error also closes the connection */
        *e = run->refusal;
        return -1;
    }
    return ret;
}

/* The connection broke while RESTOREs were sent. A target whose
 * proto-max-bulk-len could not be read closes the connection on a longer
 * argument (a protocol error, answered before the rest is read): name the
 * first payload that may be it. */
static int fb_send_failed(struct fb_run *run, struct err *e)
{
    struct flashback *fb = run->fb;
    size_t i;

    for (i = 0; i < run->npending && !fb->max_bulk_known; i++) {
        const struct fb_pending *p = &run->pending[i];

        if (p->bytes <= FB_MAX_BULK_MIN)
            continue;
        buf_reset(&run->line);
        quote_arg(&run->line, p->k, p->klen, QUOTE_DEFAULT_MAX);
        return err_set(
            e, ERR_REDIS,
            "%s closed the connection while key %s in db %ld was sent (%s): its DUMP payload of %lld "
            "bytes is likely longer than the target's proto-max-bulk-len, which it did not let aofroll "
            "read HINT: raise proto-max-bulk-len on the target, or allow CONFIG GET and SET",
            fb->what, run->line.data, run->db, fb->dst->errstr, p->bytes);
    }
    return err_set(e, ERR_IO, "%s: %s", fb->what, fb->dst->errstr[0] ? fb->dst->errstr : "connection lost");
}

/* A command sent for key k, its reply to be read by fb_ack. */
static struct fb_pending *fb_pending_push(struct fb_run *run, const struct fb_key *k)
{
    struct fb_pending *p;

    if (run->npending == run->cap_pending) {
        run->cap_pending = run->cap_pending ? 2 * run->cap_pending : 1024;
        run->pending = xrealloc(run->pending, run->cap_pending * sizeof(*run->pending));
    }
    p = &run->pending[run->npending++];
    memset(p, 0, sizeof(*p));
    p->k = xmalloc(k->klen ? k->klen : 1);
    memcpy(p->k, k->k, k->klen);
    p->klen = k->klen;
    p->kind = k->kind;
    return p;
}

/* --ttl shift: after a hash's RESTORE, each field with an expiry gets the
 * time it had left at the end of second TIME (HPEXPIRE ... FIELDS 1 f),
 * as the key itself does; fields without one keep none. */
static int fb_send_field_ttls(struct fb_run *run, const struct fb_key *k, struct err *e)
{
    struct flashback *fb = run->fb;
    size_t j;

    if (k->fexp == NULL)
        return 0;
    for (j = 0; j < k->fexp->elements; j++) {
        const redisReply *f = k->fields->element[j];
        long long exp = k->fexp->element[j]->type == REDIS_REPLY_INTEGER ? k->fexp->element[j]->integer : -1;
        long long left = exp - fb->at_ms > 0 ? exp - fb->at_ms : 1;
        char ms[32];
        const char *argv[6] = {"HPEXPIRE", k->k, ms, "FIELDS", "1", f->str};
        size_t lens[6] = {8, k->klen, 0, 6, 1, f->len};

        if (exp < 0)
            continue;
        snprintf(ms, sizeof(ms), "%lld", left);
        lens[2] = strlen(ms);
        if (fb_append(fb->dst, 6, argv, lens) < 0)
            return err_set(e, ERR_IO, "%s: %s", fb->what, fb->dst->errstr);
        fb_pending_push(run, k)->field_ttl = 1;
    }
    return 0;
}

/* Send RESTORE for the keys that need it, without waiting for the
 * replies (fb_ack reads them). */
static int fb_send_restores(struct fb_run *run, struct fb_key *v, size_t n, struct err *e)
{
    struct flashback *fb = run->fb;
    redisContext *rc = fb->dst;
    char ttl[32];
    size_t i;
    int done = 0;

    for (i = 0; i < n; i++) {
        const char *argv[6];
        size_t lens[6];
        int argc = 0;
        struct fb_pending *p;

        if (!v[i].write)
            continue;
        if ((long long)v[i].sdump->len > fb->max_bulk &&
            (fb_ack(run, e) < 0 || fb_raise_limit(run, &v[i], e) < 0))
            return -1;
        snprintf(ttl, sizeof(ttl), "%lld", v[i].ttl);
        argv[argc] = "RESTORE";
        lens[argc++] = 7;
        argv[argc] = v[i].k;
        lens[argc++] = v[i].klen;
        argv[argc] = ttl;
        lens[argc++] = strlen(ttl);
        argv[argc] = v[i].sdump->str;
        lens[argc++] = v[i].sdump->len;
        argv[argc] = "REPLACE";
        lens[argc++] = 7;
        if (!fb->o->ttl_shift && v[i].ttl > 0) {
            argv[argc] = "ABSTTL";
            lens[argc++] = 6;
        }
        if (fb_append(rc, argc, argv, lens) < 0)
            return err_set(e, ERR_IO, "%s: %s", fb->what, rc->errstr);
        p = fb_pending_push(run, &v[i]);
        p->bytes = (long long)v[i].sdump->len;
        if (fb->o->ttl_shift && fb_send_field_ttls(run, &v[i], e) < 0)
            return -1;
    }
    /* out now, so that the target works while the next batch is read */
    while (!done)
        if (redisBufferWrite(rc, &done) != REDIS_OK)
            return fb_send_failed(run, e);
    return 0;
}

static int fb_batch_restore(struct fb_run *run, redisReply *keys, struct err *e)
{
    struct flashback *fb = run->fb;
    struct fb_key *v = xcalloc(keys->elements ? keys->elements : 1, sizeof(*v));
    static const char *const src_cmds[] = {"DUMP", "PEXPIRETIME", "TYPE"};
    static const size_t src_slots[] = {offsetof(struct fb_key, sdump), offsetof(struct fb_key, sexp),
                                       offsetof(struct fb_key, stype)};
    static const size_t dst_slots[] = {offsetof(struct fb_key, tdump), offsetof(struct fb_key, texp)};
    int64_t now;
    size_t i, n = 0;
    int ret = -1;

    n = fb_batch_keys(run, keys, v);
    if (n == 0) {
        ret = 0;
        goto out;
    }
    if (fb_per_key(run->src, "the scratch redis-server", v, n, src_cmds, src_slots,
                   fb->o->dry_run || run->hfe ? 3 : 2, e) < 0)
        goto out;
    if (run->hfe && !fb->o->dry_run && fb_field_ttls(run, v, n, e) < 0)
        goto out;
    if (fb_ack(run, e) < 0)
        goto out;
    if (!fb->target_empty && fb_per_key(fb->dst, fb->what, v, n, src_cmds, dst_slots, 2, e) < 0)
        goto out;
    for (i = 0; i < n && !fb->target_empty; i++)
        if (fb_same_contents(run, &v[i], e) < 0)
            goto out;
    now = fb_now_ms();
    for (i = 0; i < n; i++) {
        long long bytes = v[i].sdump->type == REDIS_REPLY_STRING ? (long long)v[i].sdump->len : 0;

        fb_classify(run, &v[i], now, fb->at_ms);
        if (!v[i].write || fb->o->dry_run)
            fb_count(run, v[i].kind, bytes); /* writes count once acknowledged */
        fb_list(run, v[i].kind, v[i].k, v[i].klen, v[i].stype ? v[i].stype->str : "", bytes);
    }
    if (!fb->o->dry_run && fb_send_restores(run, v, n, e) < 0)
        goto out;
    ret = 0;
out:
    fb_keys_free(v, n);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Pass 2: keys that did not exist at TIME                              */
/* ------------------------------------------------------------------ */

static int fb_batch_delete(struct fb_run *run, redisReply *keys, struct err *e)
{
    static const char *const exists_cmd[] = {"EXISTS"};
    static const size_t exists_slot[] = {offsetof(struct fb_key, sexp)};
    static const char *const dry_cmds[] = {"DUMP", "TYPE"};
    static const size_t dry_slots[] = {offsetof(struct fb_key, tdump), offsetof(struct fb_key, stype)};
    struct flashback *fb = run->fb;
    struct fb_key *v = xcalloc(keys->elements ? keys->elements : 1, sizeof(*v));
    size_t i, n = 0, m = 0, sent = 0;
    int ret = -1;

    n = fb_batch_keys(run, keys, v);
    if (n == 0) {
        ret = 0;
        goto out;
    }
    /* sexp holds EXISTS on the scratch server */
    if (fb_per_key(run->src, "the scratch redis-server", v, n, exists_cmd, exists_slot, 1, e) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        if (v[i].sexp->type == REDIS_REPLY_INTEGER && v[i].sexp->integer == 0)
            v[m++] = v[i];
        else
            freeReplyObject(v[i].sexp);
    }
    n = m;
    if (n == 0) {
        ret = 0;
        goto out;
    }
    if (fb->o->dry_run) {
        if (fb_per_key(fb->dst, fb->what, v, n, dry_cmds, dry_slots, 2, e) < 0)
            goto out;
        for (i = 0; i < n; i++) {
            long long bytes = v[i].tdump->type == REDIS_REPLY_STRING ? (long long)v[i].tdump->len : 0;

            if (v[i].tdump->type != REDIS_REPLY_STRING)
                continue; /* gone meanwhile */
            fb_count(run, FB_DELETE, bytes);
            fb_list(run, FB_DELETE, v[i].k, v[i].klen, v[i].stype->str, bytes);
        }
        ret = 0;
        goto out;
    }
    for (i = 0; i < n; i++) {
        const char *argv[2] = {"UNLINK", v[i].k};
        size_t lens[2] = {6, v[i].klen};

        if (fb_append(fb->dst, 2, argv, lens) < 0) {
            err_set(e, ERR_IO, "%s: %s", fb->what, fb->dst->errstr);
            goto out;
        }
        sent++;
    }
    for (i = 0; i < sent; i++) {
        redisReply *r = NULL;

        if (fb_reply(fb->dst, fb->what, &r, e) < 0)
            goto out;
        if (r->type == REDIS_REPLY_ERROR)
            fb_refused(run, "UNLINK", v[i].k, v[i].klen, r->str);
        else if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
            fb_count(run, FB_DELETE, 0);
        freeReplyObject(r);
    }
    ret = 0;
out:
    fb_keys_free(v, n);
    return ret;
}

/* ------------------------------------------------------------------ */
/* The run                                                              */
/* ------------------------------------------------------------------ */

typedef int (*fb_keys_fn)(void *ud, redisReply *keys, struct err *e);

/* SCAN rc's current db (MATCH glob, unless NULL), handing the keys of each
 * reply to fn. */
static int fb_scan_keys(redisContext *rc, const char *what, const char *glob, fb_keys_fn fn, void *ud,
                        struct err *e)
{
    char cursor[32] = "0";

    do {
        redisReply *r = NULL;
        int rc_fn;

        if ((glob != NULL
                 ? fb_command(rc, what, &r, e, "SCAN %s MATCH %s COUNT %d", cursor, glob, FB_SCAN_COUNT)
                 : fb_command(rc, what, &r, e, "SCAN %s COUNT %d", cursor, FB_SCAN_COUNT)) < 0)
            return -1;
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
            r->element[1]->type != REDIS_REPLY_ARRAY || r->element[0]->len >= sizeof(cursor)) {
            freeReplyObject(r);
            return err_set(e, ERR_REDIS, "%s: an unexpected reply to SCAN", what);
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        rc_fn = fn(ud, r->element[1], e);
        freeReplyObject(r);
        if (rc_fn < 0)
            return -1;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

typedef int (*fb_batch_fn)(struct fb_run *run, redisReply *keys, struct err *e);

struct fb_scan_ctx {
    struct fb_run *run;
    fb_batch_fn batch;
};

/* One batch of a pass; a refusal of the target stops the pass. */
static int fb_scan_batch(void *ud, redisReply *keys, struct err *e)
{
    struct fb_scan_ctx *c = ud;

    if (c->batch(c->run, keys, e) < 0)
        return -1;
    if (c->run->refused) {
        *e = c->run->refusal;
        return -1;
    }
    return 0;
}

/* SCAN rc's current db for each GLOB, a batch at a time. */
static int fb_scan(struct fb_run *run, redisContext *rc, const char *what, fb_batch_fn batch, struct err *e)
{
    struct fb_scan_ctx c = {run, batch};

    for (run->glob = 0; run->glob < run->nglobs; run->glob++)
        if (fb_scan_keys(rc, what, run->globs[run->glob], fb_scan_batch, &c, e) < 0)
            return -1;
    return 0;
}

static void fb_totals_text(const struct flashback *fb, FILE *fp)
{
    int k;

    fprintf(fp, "%s", fb->o->dry_run ? "would " : "");
    for (k = 0; k < FB_NKINDS; k++)
        fprintf(fp, "%s%s %llu", k ? ", " : "", fb_kind_names[k], (unsigned long long)fb->count[k]);
    fprintf(fp, "\n");
}

static void fb_totals_json_to(struct json *j, const struct flashback *fb)
{
    int k;

    json_key(j, "totals");
    json_object_begin(j);
    for (k = 0; k < FB_NKINDS; k++)
        json_kv_uint(j, fb_kind_names[k], fb->count[k]);
    json_object_end(j);
}

/* The report's first fields; `method`: "keys" (compared key by key) or
 * "replication" (loaded whole, replicate.h). */
static void fb_json_head(struct json *j, const struct flashback *fb, const char *instance, int64_t to,
                         const char *method)
{
    json_object_begin(j);
    json_kv_string(j, "instance", instance);
    json_kv_time(j, "to", to);
    json_kv_string(j, "target", fb->what);
    json_kv_bool(j, "dry_run", fb->o->dry_run);
    json_kv_string(j, "ttl", fb->o->ttl_shift ? "shift" : "keep");
    json_kv_string(j, "method", method);
}

static void fb_text_head(const struct flashback *fb, const char *instance, const char *t)
{
    printf("flashback of \"%s\" to %s into %s (ttl %s)\n", instance, t, fb->what,
           fb->o->ttl_shift ? "shift" : "keep");
    fb_totals_text(fb, stdout);
}

/* A run that stopped: what was done so far, then the reason; the
 * target's proto-max-bulk-len put back where it was raised. */
static void fb_stopped(struct flashback *fb, long db, const char *t, struct err *e)
{
    struct buf done = BUF_INIT;
    struct err le;
    int k;

    for (k = 0; k < FB_NKINDS; k++)
        buf_printf(&done, "%s%s %llu", k ? ", " : "", fb_kind_names[k], (unsigned long long)fb->count[k]);
    err_prefix(e, "flashback to %s stopped in db %ld (done so far: %s)", t, db, done.data);
    if (!fb->o->dry_run) {
        size_t len = strlen(e->msg);

        snprintf(e->msg + len, sizeof(e->msg) - len, " HINT: every write is idempotent: run again to finish");
    }
    buf_free(&done);
    err_clear(&le);
    if (fb_lower_limit(fb, &le) < 0)
        fprintf(stderr, "aofroll restore: %s\n", le.msg);
}

int flashback_run(struct flashback *fb, redisContext *src, const char *instance, int64_t to, struct err *e)
{
    struct fb_run run;
    long dbs[FB_MAX_DBS];
    size_t ndbs = 0, i;
    char t[TIME_BUFSZ];
    int ret = -1;

    memset(&run, 0, sizeof(run));
    run.fb = fb;
    run.src = src;
    err_clear(&run.refusal);
    json_init(&run.j, stdout);
    fb->at_ms = (to + 1) * 1000;
    run.hfe_server = fb_has_command(src, "HPEXPIRETIME");
    run.hfe = fb->o->ttl_shift && run.hfe_server;
    for (i = 0; i < fb->o->nkeys; i++)
        run.globs[run.nglobs++] = fb->o->keys[i];
    if (run.nglobs == 0)
        run.globs[run.nglobs++] = "*";
    if (fb->o->ndbs > 0) {
        for (i = 0; i < fb->o->ndbs; i++)
            dbs[ndbs++] = fb->o->dbs[i];
    } else if (fb_dbs_with_keys(src, "the scratch redis-server", dbs, &ndbs, FB_MAX_DBS, e) < 0 ||
               (!fb->target_empty && fb_dbs_with_keys(fb->dst, fb->what, dbs, &ndbs, FB_MAX_DBS, e) < 0)) {
        goto out;
    }
    time_format_utc(to, t, sizeof(t));
    if (fb->o->json) {
        fb_json_head(&run.j, fb, instance, to, "keys");
        if (fb->o->dry_run) {
            json_key(&run.j, "keys");
            json_array_begin(&run.j);
        }
    }
    for (i = 0; i < ndbs; i++) {
        run.db = dbs[i];
        if (fb_select(src, "the scratch redis-server", run.db, e) < 0 ||
            fb_select(fb->dst, fb->what, run.db, e) < 0)
            goto fail;
        if (fb_scan(&run, src, "the scratch redis-server", fb_batch_restore, e) < 0 || fb_ack(&run, e) < 0)
            goto fail;
        if (!fb->target_empty && fb_scan(&run, fb->dst, fb->what, fb_batch_delete, e) < 0)
            goto fail;
    }
    if (fb->o->json) {
        if (fb->o->dry_run)
            json_array_end(&run.j);
        fb_totals_json_to(&run.j, fb);
        json_object_end(&run.j);
        if (json_finish(&run.j, e) < 0)
            goto out;
    } else {
        fb_text_head(fb, instance, t);
        if (fb->raised_keys > 0)
            printf("note: proto-max-bulk-len of %s raised for %llu keys larger than it, then put back\n",
                   fb->what, (unsigned long long)fb->raised_keys);
    }
    if (fb_lower_limit(fb, e) < 0)
        goto out;
    ret = 0;
    goto out;
fail:
    if (run.npending > 0) {
        struct err ae;

        err_clear(&ae);
        (void)fb_ack(&run, &ae); /* what was done counts; the reason is e's */
    }
    fb_stopped(fb, run.db, t, e);
out:
    for (i = 0; i < run.npending; i++)
        free(run.pending[i].k);
    free(run.pending);
    json_free(&run.j);
    buf_free(&run.line);
    return ret;
}

/* ------------------------------------------------------------------ */
/* A whole keyspace loaded by replication                               */
/* ------------------------------------------------------------------ */

static int fb_touch(void *ud, redisReply *keys, struct err *e)
{
    (void)ud;
    (void)keys;
    (void)e;
    return 0;
}

/* Keys of the current db; when some carry an expiry, every key is first
 * visited with SCAN, which makes those whose expiry has passed go. */
static int fb_loaded_db(struct flashback *fb, long db, struct err *e)
{
    char field[32], val[128];
    const char *ex;
    redisReply *r = NULL;
    long long before, after;

    snprintf(field, sizeof(field), "db%ld", db);
    if (fb_select(fb->dst, fb->what, db, e) < 0 ||
        target_info_field(fb->dst, fb->what, "keyspace", field, val, sizeof(val), e) < 0 ||
        fb_command(fb->dst, fb->what, &r, e, "DBSIZE") < 0)
        return -1;
    before = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    ex = strstr(val, "expires=");
    after = before;
    if (ex != NULL && strtoll(ex + 8, NULL, 10) > 0) {
        if (fb_scan_keys(fb->dst, fb->what, NULL, fb_touch, NULL, e) < 0 ||
            fb_command(fb->dst, fb->what, &r, e, "DBSIZE") < 0)
            return -1;
        after = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
    }
    fb->count[FB_RESTORE] += (uint64_t)after;
    if (before > after)
        fb->count[FB_EXPIRED] += (uint64_t)(before - after);
    return 0;
}

int flashback_by_replication(const struct flashback *fb)
{
    const struct flashback_opts *o = fb->o;

    return fb->target_empty && o->nkeys == 0 && o->ndbs == 0 && !o->dry_run && !o->ttl_shift;
}

int flashback_loaded(struct flashback *fb, const char *instance, int64_t to, const char *how, struct err *e)
{
    long dbs[FB_MAX_DBS];
    size_t ndbs = 0, i;
    char t[TIME_BUFSZ];
    struct json j;
    int ret = -1;

    json_init(&j, stdout);
    if (fb_dbs_with_keys(fb->dst, fb->what, dbs, &ndbs, FB_MAX_DBS, e) < 0)
        goto out;
    for (i = 0; i < ndbs; i++)
        if (fb_loaded_db(fb, dbs[i], e) < 0)
            goto out;
    time_format_utc(to, t, sizeof(t));
    if (fb->o->json) {
        fb_json_head(&j, fb, instance, to, "replication");
        json_kv_string(&j, "replicated_from", how);
        fb_totals_json_to(&j, fb);
        json_object_end(&j);
        if (json_finish(&j, e) < 0)
            goto out;
    } else {
        fb_text_head(fb, instance, t);
        printf("by replication: the target loaded the restored files as a replica of %s\n", how);
    }
    ret = 0;
out:
    json_free(&j);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Opening the target                                                   */
/* ------------------------------------------------------------------ */

int flashback_open(struct flashback *fb, const struct flashback_opts *o, struct err *e)
{
    struct keyspace ks = {NULL, 0};
    redisReply *r = NULL;
    struct err ce;
    int ret = -1;

    memset(fb, 0, sizeof(*fb));
    fb->o = o;
    fb->max_bulk = FB_MAX_BULK_DEFAULT;
    if (config_parse_redis_url(o->target, &fb->addr, e) < 0) {
        e->code = ERR_USAGE;
        err_prefix(e, "--target");
        return -1;
    }
    fb->what = config_redact_url(o->target);
    if (target_connect(&fb->addr, fb->what, &fb->dst, e) < 0)
        goto out;
    if (target_keyspace(fb->dst, fb->what, &ks, e) < 0)
        goto out;
    fb->target_empty = ks.n == 0;
    if (!fb->target_empty && o->nkeys == 0 && o->ndbs == 0 && !o->force && !o->dry_run) {
        struct buf have = BUF_INIT;

        keyspace_format(&ks, &have);
        err_set(e, ERR_EXISTS,
                "%s holds keys (%s) HINT: restore the whole keyspace into an empty server, choose keys with "
                "--key GLOB or --db N, or pass --force to make every key what it was",
                fb->what, have.data);
        buf_free(&have);
        goto out;
    }
    /* the limit of one argument; a server that does not tell keeps the default */
    err_clear(&ce);
    if (fb_command(fb->dst, fb->what, &r, &ce, "CONFIG GET proto-max-bulk-len") == 0 &&
        r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING) {
        fb->max_bulk = strtoll(r->element[1]->str, NULL, 10);
        fb->max_bulk_known = 1;
    }
    ret = 0;
out:
    if (r != NULL)
        freeReplyObject(r);
    keyspace_free(&ks);
    return ret;
}

void flashback_close(struct flashback *fb)
{
    if (fb->dst != NULL)
        redisFree(fb->dst);
    fb->dst = NULL;
    redis_addr_free(&fb->addr);
    free(fb->what);
    fb->what = NULL;
}

/* ------------------------------------------------------------------ */
/* Offline: only the chosen keys in a restore directory                */
/* ------------------------------------------------------------------ */

struct fb_filter {
    redisContext *src;
    const struct flashback_opts *o;
};

static int fb_filter_batch(void *ud, redisReply *keys, struct err *e)
{
    const struct fb_filter *f = ud;
    redisContext *src = f->src;
    const struct flashback_opts *o = f->o;
    size_t i, j, sent = 0;

    for (i = 0; i < keys->elements; i++) {
        redisReply *k = keys->element[i];
        const char *argv[2] = {"UNLINK", k->str};
        size_t lens[2] = {6, k->len};
        int keep = 0;

        for (j = 0; j < o->nkeys && !keep; j++)
            keep = keypos_glob_match(o->keys[j], strlen(o->keys[j]), k->str, k->len, 0);
        if (keep)
            continue;
        if (fb_append(src, 2, argv, lens) < 0)
            return err_set(e, ERR_IO, "the scratch redis-server: %s", src->errstr);
        sent++;
    }
    for (i = 0; i < sent; i++) {
        redisReply *r = NULL;

        if (fb_reply(src, "the scratch redis-server", &r, e) < 0)
            return -1;
        freeReplyObject(r);
    }
    return 0;
}

int flashback_filter(redisContext *src, const struct flashback_opts *o, long long *kept, struct err *e)
{
    const char *what = "the scratch redis-server";
    long dbs[FB_MAX_DBS];
    size_t ndbs = 0, i, j;
    redisReply *r = NULL;
    struct fb_filter f = {src, o};

    *kept = 0;
    if (fb_dbs_with_keys(src, what, dbs, &ndbs, FB_MAX_DBS, e) < 0)
        return -1;
    for (i = 0; i < ndbs; i++) {
        int chosen = o->ndbs == 0;

        for (j = 0; j < o->ndbs; j++)
            chosen |= o->dbs[j] == dbs[i];
        if (fb_select(src, what, dbs[i], e) < 0)
            return -1;
        if (!chosen) {
            if (fb_command(src, what, NULL, e, "FLUSHDB") < 0)
                return -1;
            continue;
        }
        if (o->nkeys > 0 && fb_scan_keys(src, what, NULL, fb_filter_batch, &f, e) < 0)
            return -1;
        if (fb_command(src, what, &r, e, "DBSIZE") < 0)
            return -1;
        *kept += r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
    }
    return 0;
}
