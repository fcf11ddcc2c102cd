/* cut.c - the cut engine: decides where a restore or roll-forward stops in
 * an incr stream and hands the bytes before it to a sink. See cut.h for
 * the rules; this file is the bookkeeping that makes them streaming.
 *
 * Byte custody: the scanner reports each event by its stream offsets, while
 * the bytes arrive in slices (decoded chunks) that the caller reuses once
 * cut_feed() returns. An event handed over during the feed that read it is
 * passed straight from the slice; bytes still needed afterwards (an open
 * transaction, a command split across chunks) are copied into `pend`,
 * which therefore always holds [emitted, fed) between feeds. */
#include "cut.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

/* ------------------------------------------------------------------ */
/* Patterns                                                             */
/* ------------------------------------------------------------------ */

int cut_pattern_parse(const char *text, struct cut_pattern *p, struct err *e)
{
    const char *s = text;

    memset(p, 0, sizeof(*p));
    for (;;) {
        size_t n = strcspn(s, ",|");
        const char *a = s, *b = s + n;

        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a == b) {
            cut_pattern_free(p);
            return err_set(e, ERR_USAGE, "--stop-before: empty command name in \"%s\"", text);
        }
        p->names = xrealloc(p->names, (p->n + 1) * sizeof(*p->names));
        p->names[p->n++] = xstrndup(a, (size_t)(b - a));
        if (s[n] == '\0')
            break;
        s += n + 1;
    }
    return 0;
}

int cut_pattern_match(const struct cut_pattern *p, const char *name, size_t name_len)
{
    size_t i, cmp = name_len < AOFSCAN_NAME_MAX ? name_len : AOFSCAN_NAME_MAX;

    for (i = 0; i < p->n; i++)
        if (strlen(p->names[i]) == name_len && strncasecmp(p->names[i], name, cmp) == 0)
            return 1;
    return 0;
}

void cut_pattern_free(struct cut_pattern *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        free(p->names[i]);
    free(p->names);
    p->names = NULL;
    p->n = 0;
}

/* ------------------------------------------------------------------ */
/* Rendering commands for reports                                       */
/* ------------------------------------------------------------------ */

#define RENDER_MAX_ARGS 6

static void render_arg(const char *p, size_t len, size_t max_arg, struct buf *out)
{
    size_t i, n = len < max_arg ? len : max_arg;
    int quote = len == 0;

    for (i = 0; i < n && !quote; i++)
        if (p[i] == ' ' || p[i] == '"')
            quote = 1;
    if (quote)
        buf_append(out, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];

        if (ch == '"' || ch == '\\')
            buf_printf(out, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            buf_append(out, &p[i], 1);
        else
            buf_printf(out, "\\x%02x", ch);
    }
    if (n < len)
        buf_appendstr(out, "...");
    if (quote)
        buf_append(out, "\"", 1);
}

void cut_render_command(const char *data, size_t len, size_t max_arg, struct buf *out)
{
    struct aofscan_arg argv[RENDER_MAX_ARGS + 1];
    struct err e;
    long argc, i;

    err_clear(&e);
    argc = aofscan_split(data, len, argv, RENDER_MAX_ARGS + 1, &e);
    if (argc <= 0) {
        buf_appendstr(out, "(unreadable command)");
        return;
    }
    for (i = 0; i < argc && i < RENDER_MAX_ARGS; i++) {
        if (i > 0)
            buf_append(out, " ", 1);
        render_arg(argv[i].p, argv[i].len, max_arg, out);
    }
    if (argc > RENDER_MAX_ARGS)
        buf_printf(out, " ... (%ld arguments)", argc - 1);
}

/* ------------------------------------------------------------------ */
/* Byte custody                                                         */
/* ------------------------------------------------------------------ */

/* Point *out at the contiguous bytes [s, e) of the stream; they lie in pend
 * and/or the current slice. */
static const char *cut_bytes(struct cut *c, uint64_t s, uint64_t e)
{
    uint64_t pend_end = c->pend_off + c->pend.len;

    if (s >= pend_end)
        return c->slice + (s - c->slice_off);
    if (e > pend_end) {
        buf_append(&c->pend, c->slice + (pend_end - c->slice_off), (size_t)(e - pend_end));
    }
    return c->pend.data + (s - c->pend_off);
}

/* After a feed: keep [emitted, fed) in pend, as the slice goes away. */
static void cut_keep_tail(struct cut *c)
{
    uint64_t pend_end = c->pend_off + c->pend.len;
    uint64_t keep = c->emitted, from;

    if (keep >= pend_end) {
        c->pend.len = 0;
        from = keep;
    } else {
        size_t drop = (size_t)(keep - c->pend_off);

        memmove(c->pend.data, c->pend.data + drop, c->pend.len - drop);
        c->pend.len -= drop;
        from = pend_end;
    }
    c->pend_off = keep;
    if (from < c->fed)
        buf_append(&c->pend, c->slice + (from - c->slice_off), (size_t)(c->fed - from));
    c->slice = NULL;
    c->slice_len = 0;
}

/* ------------------------------------------------------------------ */
/* Handing events over                                                  */
/* ------------------------------------------------------------------ */

static void cut_note_db(struct cut *c, int db)
{
    size_t w;
    uint64_t bit;

    if (db < 0)
        return;
    w = (size_t)db / 64;
    if (w >= c->dbs_words) {
        c->dbs = xrealloc(c->dbs, (w + 1) * sizeof(*c->dbs));
        memset(c->dbs + c->dbs_words, 0, (w + 1 - c->dbs_words) * sizeof(*c->dbs));
        c->dbs_words = w + 1;
    }
    bit = (uint64_t)1 << ((unsigned)db % 64);
    if ((c->dbs[w] & bit) == 0) {
        c->dbs[w] |= bit;
        c->r.ndbs++;
    }
}

static int cut_hand_over(struct cut *c, const struct cut_event *ev)
{
    const char *data = cut_bytes(c, ev->start, ev->end);
    size_t len = (size_t)(ev->end - ev->start);

    if (c->emit(c->ud, data, len, ev, &c->cb_err) < 0) {
        c->cb_failed = 1;
        return -1;
    }
    c->emitted = ev->end;
    c->r.bytes += len;
    if (ev->is_ts) {
        c->ts_emitted = ev->ts_value;
    } else if (ev->kind == AOFSCAN_CMD_SELECT) {
        c->db_emitted = ev->db;
    } else if (ev->kind == AOFSCAN_CMD_OTHER) {
        c->r.commands++;
        cut_note_db(c, ev->db);
    }
    return 0;
}

static void cut_txn_push(struct cut *c, const struct cut_event *ev)
{
    if (c->txn_n == c->txn_cap) {
        c->txn_cap = c->txn_cap ? c->txn_cap * 2 : 16;
        c->txn = xrealloc(c->txn, c->txn_cap * sizeof(*c->txn));
    }
    c->txn[c->txn_n++] = *ev;
}

/* Decide the cut at the current position: everything handed over so far
 * stays, an open transaction is left out (and described). */
static void cut_decide(struct cut *c, enum cut_reason reason)
{
    struct cut_result *r = &c->r;

    if (c->txn_n > 0) {
        r->txn_left_out = 1;
        r->txn_offset = c->txn[0].start;
        r->txn_ts = c->txn_ts;
        r->txn_commands = 0;
        for (size_t i = 0; i < c->txn_n; i++)
            if (!c->txn[i].is_ts && c->txn[i].kind != AOFSCAN_CMD_MULTI &&
                c->txn[i].kind != AOFSCAN_CMD_EXEC && c->txn[i].kind != AOFSCAN_CMD_DISCARD)
                r->txn_commands++;
        r->txn_complete = c->txn[c->txn_n - 1].kind == AOFSCAN_CMD_EXEC;
        buf_reset(&r->txn_preview);
        if (c->txn_preview.len)
            buf_append(&r->txn_preview, c->txn_preview.data, c->txn_preview.len);
        if (r->txn_commands > CUT_PREVIEW_MAX)
            buf_appendstr(&r->txn_preview, ", ...");
        c->txn_n = 0;
    } else if (reason != CUT_AT_TS && reason != CUT_AT_STOP &&
               aofscan_where(&c->scan) == AOFSCAN_IN_COMMAND) {
        r->truncated = 1;
        r->truncated_offset = c->emitted;
        r->truncated_bytes = c->fed - c->emitted;
    }
    r->reason = reason;
    r->offset = c->emitted;
    r->db = c->db_emitted;
    r->ts = c->ts_emitted;
}

/* ------------------------------------------------------------------ */
/* Scanner callbacks                                                    */
/* ------------------------------------------------------------------ */

static int cut_on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct cut *c = ud;
    struct cut_event ev;

    c->r.newest_ts = ts;
    if (c->p.exact && ts > c->p.to) {
        cut_decide(c, CUT_AT_TS);
        return 1;
    }
    c->ts = ts;
    memset(&ev, 0, sizeof(ev));
    ev.start = start;
    ev.end = end;
    ev.is_ts = 1;
    ev.db = c->db;
    ev.ts = ts;
    ev.ts_value = ts;
    ev.in_txn = c->txn_n > 0;
    if (c->txn_n > 0) {
        cut_txn_push(c, &ev);
        return 0;
    }
    return cut_hand_over(c, &ev) < 0 ? 1 : 0;
}

static int cut_stop_matches(const struct cut *c, const struct aofscan_command *cmd)
{
    if (c->p.stop_before == NULL || !cut_pattern_match(c->p.stop_before, cmd->name, cmd->name_len))
        return 0;
    if (c->p.exact)
        return c->ts >= c->p.stop_from_ts;
    return cmd->start >= c->p.stop_from_offset;
}

static int cut_on_command(void *ud, const struct aofscan_command *cmd)
{
    struct cut *c = ud;
    struct cut_event ev;
    int in_txn = c->txn_n > 0;

    if (cmd->kind == AOFSCAN_CMD_SELECT) {
        c->db = cmd->db;
        c->seen_select = 1;
    }
    memset(&ev, 0, sizeof(ev));
    ev.start = cmd->start;
    ev.end = cmd->end;
    ev.kind = cmd->kind;
    ev.db = c->db;
    ev.ts = c->ts;
    ev.ts_value = -1;

    if (cut_stop_matches(c, cmd)) {
        c->r.stop_found = 1;
        c->r.stop_offset = cmd->start;
        c->r.stop_ts = c->ts;
        c->r.stop_db = c->db;
        c->r.stop_in_txn = in_txn;
        cut_render_command(cut_bytes(c, cmd->start, cmd->end), (size_t)(cmd->end - cmd->start), 32,
                           &c->r.stop_command);
        cut_decide(c, CUT_AT_STOP);
        return 1;
    }

    if (cmd->kind == AOFSCAN_CMD_MULTI && !in_txn) {
        ev.in_txn = 1;
        c->txn_ts = c->ts;
        buf_reset(&c->txn_preview);
        cut_txn_push(c, &ev);
        return 0;
    }
    if (!in_txn)
        return cut_hand_over(c, &ev) < 0 ? 1 : 0;

    ev.in_txn = 1;
    cut_txn_push(c, &ev);
    if (cmd->kind == AOFSCAN_CMD_EXEC || cmd->kind == AOFSCAN_CMD_DISCARD) {
        size_t i, n = c->txn_n;

        c->txn_n = 0;
        for (i = 0; i < n; i++)
            if (cut_hand_over(c, &c->txn[i]) < 0)
                return 1;
        return 0;
    }
    if (cmd->kind != AOFSCAN_CMD_MULTI && c->txn_n <= CUT_PREVIEW_MAX + 1) {
        /* the MULTI is txn[0]: the first CUT_PREVIEW_MAX commands after it */
        if (c->txn_preview.len)
            buf_appendstr(&c->txn_preview, ", ");
        cut_render_command(cut_bytes(c, cmd->start, cmd->end), (size_t)(cmd->end - cmd->start), 32,
                           &c->txn_preview);
    }
    return 0;
}

static const struct aofscan_callbacks cut_callbacks = {
    .on_command = cut_on_command,
    .on_timestamp = cut_on_timestamp,
};

/* ------------------------------------------------------------------ */
/* Driving                                                              */
/* ------------------------------------------------------------------ */

void cut_init(struct cut *c, const struct cut_params *p, cut_emit_fn emit, void *ud)
{
    memset(c, 0, sizeof(*c));
    c->p = *p;
    c->emit = emit;
    c->ud = ud;
    aofscan_init(&c->scan, p->start, &cut_callbacks, c);
    c->pend_off = p->start;
    c->fed = p->start;
    c->emitted = p->start;
    c->db = p->start_db;
    c->ts = p->start_ts;
    c->db_emitted = p->start_db;
    c->ts_emitted = p->start_ts;
    c->r.newest_ts = p->start_ts;
    c->r.txn_ts = -1;
    c->r.stop_ts = -1;
    err_clear(&c->cb_err);
}

int cut_feed(struct cut *c, const char *data, size_t len, struct err *e)
{
    size_t used = 0;
    int rc;

    if (c->r.reason != CUT_NONE)
        return 1;
    if (!c->p.exact && c->p.limit != UINT64_MAX && c->fed + len > c->p.limit)
        len = c->p.limit > c->fed ? (size_t)(c->p.limit - c->fed) : 0;
    c->slice = data;
    c->slice_len = len;
    c->slice_off = c->fed;
    rc = aofscan_feed(&c->scan, data, len, &used, e);
    if (rc < 0) {
        c->slice = NULL;
        return -1;
    }
    if (c->cb_failed) {
        *e = c->cb_err;
        c->slice = NULL;
        return -1;
    }
    c->fed += rc == 0 ? len : used;
    if (c->r.reason != CUT_NONE) {
        c->slice = NULL;
        return 1;
    }
    cut_keep_tail(c);
    if (!c->p.exact && c->p.limit != UINT64_MAX && c->fed >= c->p.limit) {
        cut_decide(c, CUT_AT_LIMIT);
        return 1;
    }
    return 0;
}

int cut_finish(struct cut *c, struct err *e)
{
    (void)e;
    if (c->r.reason == CUT_NONE)
        cut_decide(c, CUT_AT_END);
    return 0;
}

int cut_done(const struct cut *c)
{
    return c->r.reason != CUT_NONE;
}

uint64_t cut_fed(const struct cut *c)
{
    return c->fed;
}

const struct cut_result *cut_result(const struct cut *c)
{
    return &c->r;
}

void cut_free(struct cut *c)
{
    buf_free(&c->pend);
    buf_free(&c->txn_preview);
    buf_free(&c->r.txn_preview);
    buf_free(&c->r.stop_command);
    free(c->txn);
    free(c->dbs);
    c->txn = NULL;
    c->dbs = NULL;
}
