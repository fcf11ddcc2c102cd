/* cmd_log.c - `aofroll log`: the command history of a time window.
 *
 *   aofroll log -c FILE --instance NAME --since TIME --until TIME
 *               [--key GLOB] [--cmd NAMES] [--max-arg N] [--json]
 *
 * The "mysqlbinlog" of Redis: every command written between --since and
 * --until (inclusive), across chunks and generations, oldest first, one
 * line each (see show for the columns). --key keeps the commands with a
 * key argument matching the Redis glob (keypos.h knows where the keys
 * are: DEL's every argument, MSET's every other, RENAME's two, ...); --cmd
 * keeps the commands named in a list ("SET,DEL" or "FLUSHALL|FLUSHDB",
 * case-insensitive). With both, a command must pass both.
 *
 * Where decoding starts: in each generation the window may touch (its
 * base was taken by --until, its incr reaches past --since), the size log
 * gives the offset the stream had reached by since-1, and bytes up to it
 * were written before --since; decoding resynchronises there (see
 * inspect_decode.h). It ends at the first "#TS:" line after --until or,
 * for a stream without annotations, at the first command observed after
 * --until. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "inspect.h"
#include "inspect_decode.h"
#include "json.h"
#include "keypos.h"
#include "opt.h"
#include "quote.h"
#include "timeutil.h"
#include "xalloc.h"

struct log_opts {
    const char *config;
    const char *instance;
    int64_t since, until;
    int have_since, have_until;
    const char *key;
    const char *cmds;
    long max_arg;
    int json;
};

struct log_state {
    struct log_opts o;
    struct cli cli;
    struct fetch f;
    struct inspect_print pr;
    char **names; /* --cmd, as given */
    size_t nnames;
    struct buf out;
    struct json j;
    uint64_t decoded, matched;
    int write_failed;
    struct err write_err;
};

/* Every option of `aofroll log`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_log_options[] = {
    CLI_OPT_CONFIG(struct log_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct log_opts, instance),
     .arg = "NAME",
     .help = "instance whose archive to read"},
    {.name = "since",
     .kind = OPT_TIME,
     .off = offsetof(struct log_opts, since),
     .given = OPT_GIVEN(struct log_opts, have_since),
     .arg = "TIME",
     .help = "first second of the window"},
    {.name = "until",
     .kind = OPT_TIME,
     .off = offsetof(struct log_opts, until),
     .given = OPT_GIVEN(struct log_opts, have_until),
     .arg = "TIME",
     .help = "last second of the window (inclusive)"},
    {.name = "key",
     .kind = OPT_STRING,
     .off = offsetof(struct log_opts, key),
     .arg = "GLOB",
     .help = "only commands with a key matching the Redis glob (user:*, order:[0-9]*)"},
    {.name = "cmd",
     .kind = OPT_STRING,
     .off = offsetof(struct log_opts, cmds),
     .arg = "NAMES",
     .help = "only these commands, \"SET,DEL\" or \"FLUSHALL|FLUSHDB\" (any case)"},
    {.name = "max-arg",
     .kind = OPT_LONG,
     .off = offsetof(struct log_opts, max_arg),
     .min = 0,
     .max = 1L << 30,
     .arg = "N",
     .help = "bytes of an argument shown before eliding it (default 64, 0: all)"},
    CLI_OPT_JSON(struct log_opts),
    CLI_OPT_HELP,
    {0},
};

static int log_parse_args(struct log_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->max_arg = QUOTE_DEFAULT_MAX;
    rc = opt_parse(cmd_log_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (cli_require(o->instance, "--instance NAME", e) < 0 ||
        cli_require(o->have_since ? "" : NULL, "--since TIME", e) < 0 ||
        cli_require(o->have_until ? "" : NULL, "--until TIME", e) < 0)
        return -1;
    if (o->since > o->until)
        return err_set(e, ERR_USAGE, "--since is later than --until");
    if (o->key != NULL && o->key[0] == '\0')
        return err_set(e, ERR_USAGE, "--key needs a pattern");
    return 0;
}

/* "SET,DEL" or "FLUSHALL|FLUSHDB" into names. */
static int log_parse_names(struct log_state *l, struct err *e)
{
    const char *p = l->o.cmds, *end;
    size_t len;

    if (p == NULL)
        return 0;
    for (;;) {
        end = p + strcspn(p, ",|");
        len = (size_t)(end - p);
        if (len == 0)
            return err_set(e, ERR_USAGE, "--cmd \"%s\": empty command name", l->o.cmds);
        l->names = xrealloc(l->names, (l->nnames + 1) * sizeof(*l->names));
        l->names[l->nnames++] = xstrndup(p, len);
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return 0;
}

static int log_name_matches(const struct log_state *l, const struct aofscan_arg *name)
{
    size_t i;

    for (i = 0; i < l->nnames; i++)
        if (strlen(l->names[i]) == name->len && strncasecmp(l->names[i], name->p, name->len) == 0)
            return 1;
    return 0;
}

static int log_on_command(void *ud, const struct inspect_cmd *c, struct err *e)
{
    struct log_state *l = ud;
    int64_t t = inspect_cmd_time(c);

    (void)e;
    if (t > l->o.until)
        return 1; /* past the window: stop this generation */
    if (t < l->o.since)
        return 0;
    l->decoded++;
    if (l->nnames > 0 && (c->argc < 1 || !log_name_matches(l, &c->argv[0])))
        return 0;
    if (l->o.key != NULL && !keypos_command_matches(c->argv, c->argc, l->o.key, strlen(l->o.key)))
        return 0;
    l->matched++;
    if (l->o.json) {
        json_object_begin(&l->j);
        inspect_cmd_json_fields(&l->pr, c, &l->j);
        json_object_end(&l->j);
        return 0;
    }
    inspect_cmd_line(&l->pr, c, NULL, &l->out);
    if (l->out.len >= 256 * 1024 && inspect_flush_stdout(&l->out, &l->write_err) < 0) {
        l->write_failed = 1;
        return 1;
    }
    return 0;
}

/* Decode the part of one generation that may hold the window. */
static int log_generation(struct log_state *l, const struct inspect_gen *g, struct err *e)
{
    struct inspect_decode_params p;
    struct inspect_decode_result r;
    uint64_t from = 0;

    if (inspect_offset_before(l->cli.idx, l->cli.instance_id, g->g.generation, l->o.since, &from, e) < 0)
        return -1;
    memset(&p, 0, sizeof(p));
    p.generation = g->g.generation;
    p.kind = CHUNK_INCR;
    p.from = from;
    p.to = UINT64_MAX;
    p.stop_after_ts = l->o.until;
    p.split = 1;
    p.on_command = log_on_command;
    p.ud = l;
    if (inspect_decode(&l->f, &p, &r, e) < 0)
        return -1;
    if (l->write_failed) {
        *e = l->write_err;
        return -1;
    }
    return 0;
}

static int log_run(struct log_state *l, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    char since[TIME_BUFSZ], until[TIME_BUFSZ], what[128];
    int64_t first, last;
    size_t i, ngens = 0;
    int ret = -1;

    if (log_parse_names(l, e) < 0)
        goto out;
    if (cli_open(&l->cli, l->o.config, 1, e) < 0 || cli_instance(&l->cli, l->o.instance, e) < 0)
        goto out;
    fetch_init(&l->f, l->cli.idx, l->cli.st, l->o.instance, l->cli.instance_id);
    l->pr.max_arg = (size_t)l->o.max_arg;
    l->pr.show_generation = 1;
    json_init(&l->j, stdout);
    time_format_utc(l->o.since, since, sizeof(since));
    time_format_utc(l->o.until, until, sizeof(until));
    if (inspect_gens_load(l->cli.idx, l->cli.instance_id, &gens, e) < 0)
        goto out;
    if (!inspect_gens_span(&gens, &first, &last) || l->o.until < first || l->o.since > last) {
        snprintf(what, sizeof(what), "the window %s .. %s", since, until);
        inspect_outside(&l->f, what, e);
        goto out;
    }
    if (l->o.json) {
        json_object_begin(&l->j);
        json_kv_string(&l->j, "instance", l->o.instance);
        json_kv_time(&l->j, "since", l->o.since);
        json_kv_time(&l->j, "until", l->o.until);
        json_kv_string(&l->j, "key", l->o.key);
        json_key(&l->j, "cmd");
        json_array_begin(&l->j);
        for (i = 0; i < l->nnames; i++)
            json_string(&l->j, l->names[i]);
        json_array_end(&l->j);
        json_key(&l->j, "commands");
        json_array_begin(&l->j);
    } else {
        inspect_cmd_header(&l->pr, &l->out);
    }
    for (i = 0; i < gens.n; i++) {
        const struct inspect_gen *g = &gens.v[i];

        /* its incr was written after its base; all of it was seen by `last` */
        if (g->incr_bytes == 0 || g->g.base_time > l->o.until || g->last < l->o.since)
            continue;
        ngens++;
        if (log_generation(l, g, e) < 0)
            goto out;
    }
    if (l->o.json) {
        json_array_end(&l->j);
        json_kv_uint(&l->j, "matched", l->matched);
        json_kv_uint(&l->j, "decoded", l->decoded);
        json_kv_uint(&l->j, "generations", ngens);
        json_object_end(&l->j);
        ret = json_finish(&l->j, e);
        goto out;
    }
    buf_printf(&l->out, "%" PRIu64 " command%s", l->matched, l->matched == 1 ? "" : "s");
    if (l->nnames > 0 || l->o.key != NULL)
        buf_printf(&l->out, " matched, of %" PRIu64, l->decoded);
    buf_printf(&l->out, " written from %s to %s in %zu generation%s\n", since, until, ngens,
               ngens == 1 ? "" : "s");
    ret = inspect_flush_stdout(&l->out, e);
out:
    inspect_gens_free(&gens);
    return ret;
}

int cmd_log(int argc, char **argv)
{
    struct log_state l;
    struct err e;
    size_t i;
    int rc, status = CLI_EXIT_OK;

    memset(&l, 0, sizeof(l));
    err_clear(&e);
    cli_init(&l.cli, "log");
    rc = log_parse_args(&l.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "log");
        goto out;
    }
    if (rc < 0 || log_run(&l, &e) < 0)
        status = cli_fail("log", &e);
out:
    for (i = 0; i < l.nnames; i++)
        free(l.names[i]);
    free(l.names);
    json_free(&l.j);
    buf_free(&l.out);
    fetch_free(&l.f);
    cli_close(&l.cli);
    return status;
}
