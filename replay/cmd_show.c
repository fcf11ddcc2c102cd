/* cmd_show.c - `aofroll show`: the decoded commands of one chunk, or of
 * the chunks around one second.
 *
 *   aofroll show -c FILE --instance NAME (--chunk ID | --at TIME) [--max-arg N] [--json]
 *
 * --chunk ID prints every command that has a byte in the chunk: time (the
 * "#TS:" second, or "~" and the second the collector saw it), byte offset
 * in the incr stream, db, and the arguments quoted as redis-cli does, long
 * ones elided with their length. Commands inside MULTI...EXEC are
 * indented; one that straddles the chunk's edge is decoded whole from the
 * neighbouring chunk and marked. A base chunk in AOF format decodes the
 * same way; an RDB base does not (it is a snapshot, not commands).
 *
 * --at TIME finds the commands written in that second (in the generation
 * that holds it) and prints the chunks they lie in, whole, with those
 * commands marked '>': the second with its surroundings. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "inspect.h"
#include "inspect_decode.h"
#include "json.h"
#include "opt.h"
#include "quote.h"
#include "timeutil.h"

struct show_opts {
    const char *config;
    const char *instance;
    long chunk_id; /* 0: not given */
    int have_at;
    int64_t at;
    long max_arg;
    int json;
};

struct show {
    struct show_opts o;
    struct cli cli;
    struct fetch f;
    struct inspect_print pr;
    struct buf out;
    struct json j;
    /* the range printed and its edges */
    uint64_t from, to;
    int64_t first_chunk, last_chunk; /* ids of the chunks at its edges */
    uint64_t commands;
    uint64_t unknown_db, unknown_ts; /* commands printed with db "?" or a "~" time */
    /* --at: the second and what the first pass found */
    int64_t at;
    int have_range;
    uint64_t at_first, at_end; /* [first byte, end) of the commands at `at` */
    uint64_t at_commands;
    int64_t before_time, after_time; /* nearest other seconds with commands */
    uint64_t before_off, after_off;
};

/* Every option of `aofroll show`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_show_options[] = {
    CLI_OPT_CONFIG(struct show_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct show_opts, instance),
     .arg = "NAME",
     .help = "instance whose archive to read"},
    {.name = "chunk",
     .kind = OPT_LONG,
     .off = offsetof(struct show_opts, chunk_id),
     .min = 1,
     .max = LONG_MAX,
     .arg = "ID",
     .help = "the chunk with this id (see \"aofroll ls\")"},
    {.name = "at",
     .kind = OPT_TIME,
     .off = offsetof(struct show_opts, at),
     .given = OPT_GIVEN(struct show_opts, have_at),
     .arg = "TIME",
     .help = "the commands written in this second, within their chunks"},
    {.name = "max-arg",
     .kind = OPT_LONG,
     .off = offsetof(struct show_opts, max_arg),
     .min = 0,
     .max = 1L << 30,
     .arg = "N",
     .help = "bytes of an argument shown before eliding it (default 64, 0: all)"},
    CLI_OPT_JSON(struct show_opts),
    CLI_OPT_HELP,
    {0},
};

static int show_parse_args(struct show_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->max_arg = QUOTE_DEFAULT_MAX;
    rc = opt_parse(cmd_show_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (cli_require(o->instance, "--instance NAME", e) < 0)
        return -1;
    if ((o->chunk_id != 0) == o->have_at)
        return err_set(e, ERR_USAGE, "give one of --chunk ID and --at TIME");
    return 0;
}

/* ------------------------------------------------------------------------
 * Printing the commands of a range
 * ------------------------------------------------------------------------ */

static int show_is_at(const struct show *s, const struct inspect_cmd *c)
{
    return s->o.have_at && inspect_cmd_time(c) == s->at;
}

static int show_print_cmd(void *ud, const struct inspect_cmd *c, struct err *e)
{
    struct show *s = ud;
    const char *straddle = NULL;
    char note[128];
    int starts_before = c->start<s->from, ends_after = c->end> s->to;

    (void)e;
    s->commands++;
    s->unknown_db += c->db < 0;
    s->unknown_ts += c->ts < 0;
    if (starts_before && ends_after)
        straddle = "both";
    else if (starts_before)
        straddle = "start";
    else if (ends_after)
        straddle = "end";
    if (s->o.json) {
        json_object_begin(&s->j);
        inspect_cmd_json_fields(&s->pr, c, &s->j);
        json_kv_int(&s->j, "chunk", c->chunk_id);
        json_kv_int(&s->j, "end_chunk", c->end_chunk_id);
        json_kv_string(&s->j, "straddles", straddle);
        if (s->o.have_at)
            json_kv_bool(&s->j, "at", show_is_at(s, c));
        json_object_end(&s->j);
        return 0;
    }
    note[0] = '\0';
    if (starts_before)
        snprintf(note, sizeof(note), "<- begins in chunk %" PRId64 " at byte %" PRIu64, c->chunk_id,
                 c->start);
    if (ends_after)
        snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s-> ends in chunk %" PRId64,
                 starts_before ? "; " : "", c->end_chunk_id);
    buf_append(&s->out, show_is_at(s, c) ? "> " : "  ", 2);
    inspect_cmd_line(&s->pr, c, note, &s->out);
    return 0;
}

/* Lines or fields after the commands: where decoding began and how the
 * stream ends, when that matters to the reader. */
static void show_trailer(struct show *s, const struct inspect_decode_result *r)
{
    int truncated = r->truncated && r->truncated_at < s->to;
    int open_txn = r->open_txn && r->open_txn_at < s->to;

    if (s->o.json) {
        json_key(&s->j, "decode_start");
        json_uint(&s->j, r->decode_start);
        json_kv_bool(&s->j, "exact", r->exact);
        json_key(&s->j, "truncated_at");
        if (truncated)
            json_uint(&s->j, r->truncated_at);
        else
            json_null(&s->j);
        json_key(&s->j, "open_transaction_at");
        if (open_txn)
            json_uint(&s->j, r->open_txn_at);
        else
            json_null(&s->j);
        return;
    }
    buf_printf(&s->out, "%" PRIu64 " command%s", s->commands, s->commands == 1 ? "" : "s");
    if (s->o.have_at)
        buf_printf(&s->out, ", %" PRIu64 " of them at the second asked (marked >)", s->at_commands);
    buf_append(&s->out, "\n", 1);
    if (s->unknown_db > 0 || s->unknown_ts > 0)
        buf_printf(&s->out,
                   "decoding began mid-stream at byte %" PRIu64 ": db \"?\" until the next SELECT, "
                   "time \"~\" (when the collector saw it) until the next #TS line\n",
                   r->decode_start);
    if (r->decode_start > s->from)
        buf_printf(&s->out,
                   "bytes [%" PRIu64 ", %" PRIu64 ") could not be decoded: no command begins there\n",
                   s->from, r->decode_start);
    if (truncated)
        buf_printf(&s->out,
                   "the archive ends inside a command at byte %" PRIu64 " (the rest is not shipped yet)\n",
                   r->truncated_at);
    if (open_txn)
        buf_printf(&s->out,
                   "the archive ends inside the MULTI at byte %" PRIu64 " (its EXEC is not shipped yet)\n",
                   r->open_txn_at);
}

static void show_chunk_json(struct show *s, const char *name, const struct chunk_row *c)
{
    json_key(&s->j, name);
    json_object_begin(&s->j);
    json_kv_int(&s->j, "id", c->id);
    json_kv_int(&s->j, "generation", c->generation);
    json_kv_string(&s->j, "kind", c->kind == CHUNK_BASE ? "base" : "incr");
    json_kv_uint(&s->j, "start", c->start);
    json_kv_uint(&s->j, "end", c->end);
    json_kv_uint(&s->j, "stored_bytes", c->stored_bytes);
    json_kv_time(&s->j, "first", c->first);
    json_kv_time(&s->j, "last", c->last);
    json_kv_string(&s->j, "key", c->key);
    json_object_end(&s->j);
}

static void show_chunk_human(struct show *s, const char *what, const struct chunk_row *c)
{
    char first[TIME_BUFSZ], last[TIME_BUFSZ], stored[32];

    inspect_time(c->first, first, sizeof(first));
    inspect_time(c->last, last, sizeof(last));
    inspect_size(c->stored_bytes, stored, sizeof(stored));
    buf_printf(&s->out,
               "%s%schunk %" PRId64 ": generation %" PRId64 " %s bytes [%" PRIu64 ", %" PRIu64
               "), stored %s, "
               "observed %s .. %s\n  object \"%s\"\n",
               what, what[0] != '\0' ? " " : "", c->id, c->generation,
               c->kind == CHUNK_BASE ? "base" : "incr", c->start, c->end, stored, first, last, c->key);
}

/* Decode and print [from, to) of one generation's stream of `kind`. */
static int show_range(struct show *s, int64_t generation, enum chunk_kind kind, const struct chunk_row *first,
                      const struct chunk_row *last, struct err *e)
{
    struct inspect_decode_params p;
    struct inspect_decode_result r;

    s->from = first->start;
    s->to = last->end;
    if (s->o.json) {
        json_kv_string(&s->j, "instance", s->o.instance);
        show_chunk_json(s, "first_chunk", first);
        show_chunk_json(s, "last_chunk", last);
        if (s->o.have_at)
            json_kv_time(&s->j, "at", s->at);
        json_key(&s->j, "commands");
        json_array_begin(&s->j);
    } else {
        show_chunk_human(s, first->id == last->id ? "" : "from", first);
        if (first->id != last->id)
            show_chunk_human(s, "to", last);
        buf_append(&s->out, "  ", 2);
        inspect_cmd_header(&s->pr, &s->out);
    }
    memset(&p, 0, sizeof(p));
    p.generation = generation;
    p.kind = kind;
    p.from = s->from;
    p.to = s->to;
    p.stop_after_ts = INT64_MAX;
    p.split = 1;
    p.on_command = show_print_cmd;
    p.ud = s;
    if (inspect_decode(&s->f, &p, &r, e) < 0)
        return -1;
    if (s->o.json)
        json_array_end(&s->j);
    show_trailer(s, &r);
    return 0;
}

/* ------------------------------------------------------------------------
 * --chunk ID
 * ------------------------------------------------------------------------ */

static int show_chunk(struct show *s, struct err *e)
{
    struct chunk_row c;
    struct gen_row g;

    if (index_chunk_get(s->cli.idx, (int64_t)s->o.chunk_id, &c, e) < 0) {
        if (e->code == ERR_NOTFOUND)
            err_set(e, ERR_NOTFOUND, "no chunk %ld in index \"%s\" HINT: \"aofroll ls\" lists them",
                    s->o.chunk_id, s->cli.cfg.index_path);
        return -1;
    }
    if (c.instance_id != s->cli.instance_id)
        return err_set(e, ERR_NOTFOUND, "chunk %" PRId64 " is not a chunk of \"%s\"", c.id, s->o.instance);
    if (c.kind == CHUNK_BASE) {
        if (index_generation_get(s->cli.idx, c.instance_id, c.generation, &g, e) < 0)
            return -1;
        if (g.base_format == BASE_RDB)
            return err_set(
                e, ERR_CORRUPT,
                "chunk %" PRId64 " is part of the RDB base of generation %" PRId64
                ": a snapshot, not commands HINT: show an incr chunk, or restore to %s's base time",
                c.id, c.generation, s->o.instance);
    }
    return show_range(s, c.generation, c.kind, &c, &c, e);
}

/* ------------------------------------------------------------------------
 * --at TIME
 * ------------------------------------------------------------------------ */

/* First pass: where are the commands of second `at`? */
static int show_find_at(void *ud, const struct inspect_cmd *c, struct err *e)
{
    struct show *s = ud;
    int64_t t = inspect_cmd_time(c);

    (void)e;
    if (t < s->at) {
        s->before_time = t;
        s->before_off = c->start;
        return 0;
    }
    if (t > s->at) {
        s->after_time = t;
        s->after_off = c->start;
        return 1;
    }
    if (!s->have_range)
        s->at_first = c->start;
    s->have_range = 1;
    s->at_end = c->end;
    s->at_commands++;
    return 0;
}

/* First pass over generation g's incr stream: where are the commands of
 * second `at`? Fills have_range and the nearest seconds either side. */
static int show_scan_at(struct show *s, const struct inspect_gen *g, struct err *e)
{
    struct inspect_decode_params p;
    struct inspect_decode_result r;
    uint64_t from = 0;

    s->have_range = 0;
    s->at_first = s->at_end = s->at_commands = 0;
    s->before_time = s->after_time = 0;
    s->before_off = s->after_off = 0;
    /* bytes observed by at-1 were written before `at` */
    if (inspect_offset_before(s->cli.idx, s->cli.instance_id, g->g.generation, s->at, &from, e) < 0)
        return -1;
    memset(&p, 0, sizeof(p));
    p.generation = g->g.generation;
    p.kind = CHUNK_INCR;
    p.from = from;
    p.to = UINT64_MAX;
    p.stop_after_ts = s->at;
    p.on_command = show_find_at;
    p.ud = s;
    return inspect_decode(&s->f, &p, &r, e);
}

static int show_at(struct show *s, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    const struct inspect_gen *g;
    struct chunk_row first, last;
    char tb[TIME_BUFSZ], what[64];
    int64_t span_first, span_last;
    int ret = -1;

    s->at = s->o.at;
    time_format_utc(s->at, tb, sizeof(tb));
    snprintf(what, sizeof(what), "%s", tb);
    if (inspect_gens_load(s->cli.idx, s->cli.instance_id, &gens, e) < 0)
        goto out;
    g = inspect_gens_for_time(&gens, s->at);
    if (!inspect_gens_span(&gens, &span_first, &span_last) || g == NULL || s->at > span_last) {
        inspect_outside(&s->f, what, e);
        goto out;
    }
    if (show_scan_at(s, g, e) < 0)
        goto out;
    /* `at` is the lead second of g, which follows the generation before
     * it: that second's commands up to the rewrite are at the end of the
     * previous stream (and g's stream may begin later) */
    if (!s->have_range && g > gens.v && g->g.follows == GEN_YES && g->g.lead_ts == s->at) {
        if (show_scan_at(s, g - 1, e) < 0)
            goto out;
        if (s->have_range)
            g--;
        else if (show_scan_at(s, g, e) < 0)
            goto out;
    }
    if (!s->have_range) {
        char before[TIME_BUFSZ], after[TIME_BUFSZ];

        inspect_time(s->before_time, before, sizeof(before));
        inspect_time(s->after_time, after, sizeof(after));
        if (s->o.json) {
            json_kv_string(&s->j, "instance", s->o.instance);
            json_kv_time(&s->j, "at", s->at);
            json_key(&s->j, "commands");
            json_array_begin(&s->j);
            json_array_end(&s->j);
            json_kv_time(&s->j, "nearest_before", s->before_time);
            json_kv_time(&s->j, "nearest_after", s->after_time);
        } else {
            buf_printf(&s->out,
                       "no command of \"%s\" was written at %s (generation %" PRId64 "); nearest before: %s",
                       s->o.instance, tb, g->g.generation, before);
            if (s->before_time > 0)
                buf_printf(&s->out, " at byte %" PRIu64, s->before_off);
            buf_printf(&s->out, "; nearest after: %s", after);
            if (s->after_time > 0)
                buf_printf(&s->out, " at byte %" PRIu64, s->after_off);
            buf_append(&s->out, "\n", 1);
        }
        ret = 0;
        goto out;
    }
    if (inspect_chunk_at(s->cli.idx, s->cli.instance_id, g->g.generation, CHUNK_INCR, s->at_first, &first,
                         e) < 0 ||
        inspect_chunk_at(s->cli.idx, s->cli.instance_id, g->g.generation, CHUNK_INCR, s->at_end - 1, &last,
                         e) < 0)
        goto out;
    ret = show_range(s, g->g.generation, CHUNK_INCR, &first, &last, e);
out:
    inspect_gens_free(&gens);
    return ret;
}

static int show_run(struct show *s, struct err *e)
{
    if (cli_open(&s->cli, s->o.config, 1, e) < 0 || cli_instance(&s->cli, s->o.instance, e) < 0)
        return -1;
    fetch_init(&s->f, s->cli.idx, s->cli.st, s->o.instance, s->cli.instance_id);
    s->pr.max_arg = (size_t)s->o.max_arg;
    json_init(&s->j, stdout);
    if (s->o.json)
        json_object_begin(&s->j);
    if ((s->o.have_at ? show_at(s, e) : show_chunk(s, e)) < 0)
        return -1;
    if (s->o.json) {
        json_object_end(&s->j);
        return json_finish(&s->j, e);
    }
    return inspect_flush_stdout(&s->out, e);
}

int cmd_show(int argc, char **argv)
{
    struct show s;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&s, 0, sizeof(s));
    err_clear(&e);
    cli_init(&s.cli, "show");
    rc = show_parse_args(&s.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "show");
        goto out;
    }
    if (rc < 0 || show_run(&s, &e) < 0)
        status = cli_fail("show", &e);
out:
    json_free(&s.j);
    buf_free(&s.out);
    fetch_free(&s.f);
    cli_close(&s.cli);
    return status;
}
