/* cluster_inflight.c - keys MIGRATE'd across the cut of a cluster restore.
 *
 * MIGRATE moves a key in one synchronous step: the source sends it to the
 * target (logged there as RESTORE-ASKING), waits for the answer, then
 * deletes it (logged as DEL). The source stamps that DEL with the second
 * in which the MIGRATE began; the target stamps its RESTORE-ASKING with
 * the second it ran it, which can be the next one. A cut at the earlier
 * second then holds the source's DEL and not the target's RESTORE-ASKING:
 * by each node's own "#TS:" lines the key was on neither shard, though at
 * every instant it was on one of them (at the end of that second, still on
 * the source: the DEL came after).
 *
 * So, after the shards are restored, each shard's stream is read on from
 * its cut for CLUSTER_INFLIGHT_S seconds (the same engine, stream.h, with
 * a sink that keeps no data but the keys each command touches, keypos.h).
 * A RESTORE-ASKING there is a key in flight at the cut when
 *   - it is the first command of that shard's look-ahead to touch the key,
 *   - no other shard's look-ahead touches the key (the source's DEL lies
 *     before the cut; a source that wrote the key again after the cut
 *     held it then), and
 *   - no restored shard holds the key (checked on the servers of the
 *     sweep or of --start, cluster_start.c),
 * and it is restored (RESTORE with the same TTL and payload) on the shard
 * that owned its slot at TIME. cluster_inflight_find() decides the first
 * two from the look-aheads; the third needs the data loaded. A shard
 * whose stream past the cut cannot be read (a chunk missing there) does
 * not fail the restore, which stands without it: it is named as unread. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aofscan.h"
#include "cluster.h"
#include "fetch.h"
#include "keypos.h"
#include "stream.h"
#include "xalloc.h"

#define INFLIGHT_NAME "RESTORE-ASKING"
#define INFLIGHT_ARGS_MAX 64 /* arguments split at once; more are split again */

struct touch {
    char *key;
    size_t len;
    uint64_t seq; /* the command's number in its shard's look-ahead */
};

/* What one shard's look-ahead saw. */
struct lookahead {
    struct touch *v;
    size_t n, cap;
    uint64_t seq;
    struct cluster_inflight_key *cand; /* its RESTORE-ASKING commands */
    size_t ncand, capcand;
};

/* len bytes, NUL-terminated for the hiredis calls that print them. */
static char *dup_bytes(const char *p, size_t len)
{
    char *d = xmalloc(len + 1);

    memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

static void lookahead_touch(struct lookahead *la, const char *key, size_t len)
{
    if (la->n == la->cap) {
        la->cap = la->cap ? la->cap * 2 : 256;
        la->v = xrealloc(la->v, la->cap * sizeof(*la->v));
    }
    la->v[la->n].key = dup_bytes(key, len);
    la->v[la->n].len = len;
    la->v[la->n].seq = la->seq;
    la->n++;
}

static void lookahead_candidate(struct lookahead *la, const struct aofscan_arg *argv, long argc)
{
    struct cluster_inflight_key *c;
    long i;

    if (la->ncand == la->capcand) {
        la->capcand = la->capcand ? la->capcand * 2 : 8;
        la->cand = xrealloc(la->cand, la->capcand * sizeof(*la->cand));
    }
    c = &la->cand[la->ncand++];
    memset(c, 0, sizeof(*c));
    c->argc = (size_t)argc;
    c->argv = xcalloc((size_t)argc, sizeof(*c->argv));
    c->lens = xcalloc((size_t)argc, sizeof(*c->lens));
    c->argv[0] = xstrdup("RESTORE");
    c->lens[0] = strlen("RESTORE");
    for (i = 1; i < argc; i++) {
        c->argv[i] = dup_bytes(argv[i].p, argv[i].len);
        c->lens[i] = argv[i].len;
    }
    c->seq = la->seq;
}

/* The stream's sink: every command's keys, and its RESTORE-ASKING ones. */
static int lookahead_emit(void *ud, const char *data, size_t len, const struct cut_event *ev, struct err *e)
{
    struct lookahead *la = ud;
    struct aofscan_arg small[INFLIGHT_ARGS_MAX], *argv = small;
    long argc, idx[INFLIGHT_ARGS_MAX], *pos = idx;
    size_t nkeys, i;

    if (ev->is_ts)
        return 0;
    argc = aofscan_split(data, len, small, INFLIGHT_ARGS_MAX, e);
    if (argc < 0)
        return -1;
    if (argc > INFLIGHT_ARGS_MAX) {
        argv = xcalloc((size_t)argc, sizeof(*argv));
        aofscan_split(data, len, argv, (size_t)argc, e);
    }
    nkeys = keypos_keys(argv, argc, pos, INFLIGHT_ARGS_MAX);
    if (nkeys > INFLIGHT_ARGS_MAX) {
        pos = xcalloc(nkeys, sizeof(*pos));
        keypos_keys(argv, argc, pos, nkeys);
    }
    la->seq++;
    for (i = 0; i < nkeys; i++)
        lookahead_touch(la, argv[pos[i]].p, argv[pos[i]].len);
    if (argc >= 4 && argv[0].len == strlen(INFLIGHT_NAME) &&
        strncasecmp(argv[0].p, INFLIGHT_NAME, argv[0].len) == 0)
        lookahead_candidate(la, argv, argc);
    if (argv != small)
        free(argv);
    if (pos != idx)
        free(pos);
    return 0;
}

static int touch_cmp(const void *a, const void *b)
{
    const struct touch *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);

    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first touch of key in la (sorted), NULL when none. */
static const struct touch *lookahead_first(const struct lookahead *la, const char *key, size_t len)
{
    size_t lo = 0, hi = la->n;
    struct touch probe = {(char *)key, len, 0};

    while (lo < hi) { /* the first element not below (key, 0) */
        size_t mid = lo + (hi - lo) / 2;

        if (touch_cmp(&la->v[mid], &probe) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < la->n && la->v[lo].len == len && memcmp(la->v[lo].key, key, len) == 0)
        return &la->v[lo];
    return NULL;
}

static void lookahead_free(struct lookahead *la)
{
    size_t i;

    for (i = 0; i < la->n; i++)
        free(la->v[i].key);
    free(la->v);
    for (i = 0; i < la->ncand; i++)
        cluster_inflight_key_free(&la->cand[i]);
    free(la->cand);
}

void cluster_inflight_key_free(struct cluster_inflight_key *k)
{
    size_t i;

    for (i = 0; i < k->argc; i++)
        free(k->argv[i]);
    free(k->argv);
    free(k->lens);
    memset(k, 0, sizeof(*k));
}

void cluster_inflight_free(struct cluster_inflight *in)
{
    size_t i;

    for (i = 0; i < in->n; i++)
        cluster_inflight_key_free(&in->v[i]);
    free(in->v);
    buf_free(&in->unread);
    memset(in, 0, sizeof(*in));
}

/* Read one shard's stream on from its cut. */
static int lookahead_run(const struct cluster_lookahead_shard *sh, const struct config *cfg,
                         struct storage *st, int64_t to, struct lookahead *la, struct err *e)
{
    struct stream_params sp;
    struct stream s;
    struct fetch f;
    struct gen_row gen;
    int rc;

    if (index_generation_get(sh->idx, sh->instance_id, sh->pos->generation, &gen, e) < 0)
        return -1;
    if (gen.mode == MODE_RDB)
        return 0;
    fetch_init(&f, sh->idx, st, sh->instance, sh->instance_id);
    stream_init(&s);
    memset(&sp, 0, sizeof(sp));
    sp.cfg = cfg;
    sp.threads = 1;
    sp.gen = &gen;
    sp.to = to + CLUSTER_INFLIGHT_S;
    sp.from = INT64_MIN;
    sp.start = sh->pos->offset;
    sp.start_db = sh->pos->db;
    sp.start_ts = sh->pos->ts;
    sp.exact = sh->pos->offset == 0 ? -1 : sh->pos->exact;
    rc = stream_run(&s, &f, &sp, lookahead_emit, la, e);
    stream_free(&s);
    fetch_free(&f);
    return rc < 0 ? -1 : 0;
}

void cluster_inflight_find(const struct cluster_lookahead_shard *shards, size_t n, const struct config *cfg,
                           struct storage *st, int64_t to, struct cluster_inflight *out)
{
    struct lookahead *la = xcalloc(n, sizeof(*la));
    size_t k, j, c;

    memset(out, 0, sizeof(*out));
    out->unread = (struct buf)BUF_INIT;
    for (k = 0; k < n; k++) {
        struct err why;

        err_clear(&why);
        if (lookahead_run(&shards[k], cfg, st, to, &la[k], &why) < 0) {
            /* the restore at TIME stands; only this look for keys in flight is incomplete */
            buf_printf(&out->unread, "%sshard-%zu: %s", out->unread.len ? "; " : "", k + 1, why.msg);
            continue;
        }
        if (la[k].n > 1)
            qsort(la[k].v, la[k].n, sizeof(*la[k].v), touch_cmp);
    }
    for (k = 0; k < n; k++) {
        for (c = 0; c < la[k].ncand; c++) {
            struct cluster_inflight_key *cand = &la[k].cand[c];
            const struct touch *first = lookahead_first(&la[k], cand->argv[1], cand->lens[1]);
            int elsewhere = 0;

            if (first == NULL || first->seq != cand->seq)
                continue; /* the shard wrote the key before it arrived */
            for (j = 0; j < n && !elsewhere; j++)
                elsewhere = j != k && lookahead_first(&la[j], cand->argv[1], cand->lens[1]) != NULL;
            if (elsewhere)
                continue;
            out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
            out->v[out->n] = *cand;
            out->v[out->n].shard = k;
            out->n++;
            memset(cand, 0, sizeof(*cand)); /* moved */
        }
    }
    for (k = 0; k < n; k++)
        lookahead_free(&la[k]);
    free(la);
}
