/* inspect.c - helpers shared by the inspection commands (see inspect.h). */
#include "inspect.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "timeutil.h"
#include "units.h"
#include "window.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * Chunks
 * ------------------------------------------------------------------------ */

struct first_chunk {
    struct chunk_row *out;
    int found;
};

static int first_chunk_cb(void *ud, const struct chunk_row *c)
{
    struct first_chunk *f = ud;

    *f->out = *c;
    f->found = 1;
    return 1;
}

int inspect_judge(struct index *idx, const struct instance_config *cfg, int64_t id, int64_t now,
                  int64_t heartbeat_slack_s, struct status_row *row, int *have, int *archived,
                  struct verdict *v, struct err *e)
{
    struct verdict_input vi;

    memset(row, 0, sizeof(*row));
    *have = 0;
    *archived = 0;
    if (id >= 0) {
        if (index_status_get(idx, id, row, e) == 0)
            *have = 1;
        else if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        *archived = index_chunk_any(idx, id, e);
        if (*archived < 0)
            return -1;
    }
    memset(&vi, 0, sizeof(vi));
    vi.row = *have ? row : NULL;
    vi.now = now;
    vi.poll_interval_ms = cfg->poll_interval_ms;
    vi.lag_threshold = cfg->lag_threshold;
    vi.barrier_timeout_s = cfg->barrier_timeout_s;
    vi.archived = *archived;
    vi.heartbeat_slack_s = heartbeat_slack_s;
    verdict_judge(&vi, v);
    return 0;
}

int inspect_chunk_at(struct index *idx, int64_t instance_id, int64_t generation, enum chunk_kind kind,
                     uint64_t off, struct chunk_row *out, struct err *e)
{
    struct first_chunk f = {out, 0};

    if (index_chunks(idx, instance_id, generation, kind, off, first_chunk_cb, &f, e) < 0)
        return -1;
    if (!f.found)
        return err_set(e, ERR_NOTFOUND, "generation %" PRId64 " has no %s chunk past byte %" PRIu64,
                       generation, kind == CHUNK_BASE ? "base" : "incr", off);
    return 0;
}

static int any_chunk_cb(void *ud, const struct chunk_row *c)
{
    (void)c;
    *(int *)ud = 1;
    return 1;
}

int inspect_has_chunks(struct index *idx, int64_t instance_id, int *has, struct err *e)
{
    *has = 0;
    if (instance_id == 0) /* every instance */
        return index_chunks_between(idx, 0, INT64_MIN, INT64_MAX, any_chunk_cb, has, e);
    *has = index_chunk_any(idx, instance_id, e);
    if (*has < 0) {
        *has = 0;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Generations
 * ------------------------------------------------------------------------ */

static int inspect_gens_add(void *ud, const struct gen_row *g)
{
    struct inspect_gens *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    l->v[l->n].g = *g;
    l->n++;
    return 0;
}

int inspect_gens_load(struct index *idx, int64_t instance_id, struct inspect_gens *l, struct err *e)
{
    struct chunk_row c;
    size_t i;

    l->n = 0;
    if (index_generations(idx, instance_id, inspect_gens_add, l, e) < 0)
        return -1;
    for (i = 0; i < l->n; i++) {
        struct inspect_gen *r = &l->v[i];

        if (index_chunk_last(idx, instance_id, r->g.generation, CHUNK_INCR, &c, e) < 0) {
            if (e->code != ERR_NOTFOUND)
                return -1;
            err_clear(e);
            continue;
        }
        r->incr_bytes = c.end;
        r->last = c.last;
        if (inspect_chunk_at(idx, instance_id, r->g.generation, CHUNK_INCR, 0, &c, e) < 0)
            return -1;
        r->first = c.first;
    }
    return 0;
}

void inspect_gens_free(struct inspect_gens *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

const struct inspect_gen *inspect_gens_for_time(const struct inspect_gens *l, int64_t t)
{
    struct window_gen *w = xcalloc(l->n ? l->n : 1, sizeof(*w));
    long i;
    size_t k;

    for (k = 0; k < l->n; k++) {
        w[k].row = l->v[k].g;
        w[k].usable = l->v[k].g.base_complete;
        w[k].last = l->v[k].last > l->v[k].g.base_time ? l->v[k].last : l->v[k].g.base_time;
    }
    i = window_for_time(w, l->n, t);
    free(w);
    return i < 0 ? NULL : &l->v[i];
}

int inspect_offset_before(struct index *idx, int64_t instance_id, int64_t generation, int64_t t,
                          uint64_t *from, struct err *e)
{
    *from = 0;
    if (index_sizelog_at(idx, instance_id, generation, t - 1, from, e) == 0)
        return 0;
    if (e->code != ERR_NOTFOUND)
        return -1;
    err_clear(e);
    *from = 0;
    return 0;
}

int inspect_gens_span(const struct inspect_gens *l, int64_t *first, int64_t *last)
{
    size_t i;
    int found = 0;

    *first = 0;
    *last = 0;
    for (i = 0; i < l->n; i++) {
        const struct inspect_gen *g = &l->v[i];

        struct window_gen w = {g->g, 1, 0, 0};

        if (g->g.base_complete && (!found || window_start(&w) < *first)) {
            *first = window_start(&w);
            found = 1;
        }
        if (g->last > *last)
            *last = g->last;
        if (g->g.base_complete && g->g.base_time > *last)
            *last = g->g.base_time;
    }
    return found;
}

int inspect_outside(struct fetch *f, const char *what, struct err *e)
{
    struct buf windows = BUF_INIT;
    struct err we;

    err_clear(&we);
    if (fetch_windows(f, &windows, &we) < 0) {
        buf_reset(&windows);
        buf_printf(&windows, "unknown (%s)", we.msg);
    }
    err_set(e, ERR_NOTFOUND, "%s is outside the archive of \"%s\", which is restorable %s", what, f->instance,
            windows.data);
    buf_free(&windows);
    return -1;
}

/* ------------------------------------------------------------------------
 * Decoded commands
 * ------------------------------------------------------------------------ */

int64_t inspect_cmd_time(const struct inspect_cmd *c)
{
    return c->ts >= 0 ? c->ts : c->observed;
}

void inspect_cmd_header(const struct inspect_print *p, struct buf *out)
{
    buf_printf(out, "%-21s ", "TIME");
    if (p->show_generation)
        buf_printf(out, "%5s ", "GEN");
    buf_printf(out, "%12s %3s  %s\n", "OFFSET", "DB", "COMMAND");
}

void inspect_cmd_line(const struct inspect_print *p, const struct inspect_cmd *c, const char *note,
                      struct buf *out)
{
    char tb[TIME_BUFSZ + 1];
    char db[16];

    if (c->ts >= 0) {
        time_format_utc(c->ts, tb, sizeof(tb));
    } else if (c->observed > 0) {
        /* no #TS: the time the collector saw it, marked as approximate */
        tb[0] = '~';
        time_format_utc(c->observed, tb + 1, sizeof(tb) - 1);
    } else {
        snprintf(tb, sizeof(tb), "?");
    }
    if (c->db >= 0)
        snprintf(db, sizeof(db), "%d", c->db);
    else
        snprintf(db, sizeof(db), "?");
    buf_printf(out, "%-21s ", tb);
    if (p->show_generation)
        buf_printf(out, "%5" PRId64 " ", c->generation);
    buf_printf(out, "%12" PRIu64 " %3s  ", c->start, db);
    if (c->in_txn && c->kind != AOFSCAN_CMD_MULTI && c->kind != AOFSCAN_CMD_EXEC &&
        c->kind != AOFSCAN_CMD_DISCARD)
        buf_append(out, "  ", 2);
    quote_argv(out, c->argv, c->argc, p->max_arg);
    if (note != NULL && note[0] != '\0')
        buf_printf(out, "  %s", note);
    buf_append(out, "\n", 1);
}

void inspect_cmd_json_fields(const struct inspect_print *p, const struct inspect_cmd *c, struct json *j)
{
    long i;
    int elided = 0;

    json_kv_int(j, "generation", c->generation);
    json_kv_uint(j, "offset", c->start);
    json_kv_uint(j, "length", c->end - c->start);
    json_kv_time(j, "time", inspect_cmd_time(c));
    json_key(j, "ts");
    if (c->ts >= 0)
        json_int(j, c->ts);
    else
        json_null(j);
    json_kv_time(j, "observed", c->observed);
    json_key(j, "db");
    if (c->db >= 0)
        json_int(j, c->db);
    else
        json_null(j);
    json_kv_bool(j, "in_transaction", c->in_txn);
    json_key(j, "transaction_offset");
    if (c->in_txn)
        json_uint(j, c->txn_start);
    else
        json_null(j);
    json_key(j, "command");
    if (c->argc > 0)
        json_string_len(j, c->argv[0].p, c->argv[0].len);
    else
        json_null(j);
    json_key(j, "args");
    json_array_begin(j);
    for (i = 1; i < c->argc; i++) {
        size_t len = c->argv[i].len;

        if (p->max_arg != 0 && len > p->max_arg) {
            len = p->max_arg;
            elided = 1;
        }
        json_string_len(j, c->argv[i].p, len);
    }
    json_array_end(j);
    json_key(j, "arg_lengths");
    json_array_begin(j);
    for (i = 1; i < c->argc; i++)
        json_uint(j, c->argv[i].len);
    json_array_end(j);
    json_kv_bool(j, "elided", elided);
}

/* ------------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------------ */

void inspect_time(int64_t t, char *buf, size_t n)
{
    if (t <= 0)
        snprintf(buf, n, "-");
    else
        time_format_utc(t, buf, n);
}

void inspect_size(uint64_t bytes, char *buf, size_t n)
{
    units_format_size((int64_t)bytes, buf, n);
}

int inspect_flush_stdout(struct buf *out, struct err *e)
{
    int ret = 0;

    if (out->len > 0 && fwrite(out->data, 1, out->len, stdout) != out->len)
        ret = err_sys(e, errno, "cannot write to standard output");
    buf_reset(out);
    if (ret == 0 && fflush(stdout) != 0)
        ret = err_sys(e, errno, "cannot write to standard output");
    return ret;
}
