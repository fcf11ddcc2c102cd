/* cmd_prune.c - `aofroll prune`: apply the retention.
 *
 *   aofroll prune -c FILE [--instance NAME] [--dry-run] [--json]
 *
 * Each instance keeps every second of [now - retention, now] restorable.
 * A restore to second T uses the newest generation whose (complete) base
 * was taken at or before T, so the window needs the newest generation
 * whose base is at or before now - retention, and every generation after
 * it; the generations before that one serve no second of the window and
 * are deleted whole. The newest generation is never deleted, whatever its
 * age.
 *
 * Order of deletion, per generation: the objects first (storage
 * remove_many over the keys the index lists), then the index rows. An
 * interruption in between leaves rows whose objects are gone, which a
 * second prune finishes (removing a missing object succeeds); the other
 * order could leave objects that nothing records.
 *
 * --dry-run prints the same plan and changes nothing (the index is then
 * opened read-only). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "inspect.h"
#include "json.h"
#include "opt.h"
#include "timeutil.h"
#include "xalloc.h"

struct prune_opts {
    const char *config;
    const char *instance;
    int dry_run;
    int json;
};

struct prune {
    struct prune_opts o;
    struct cli cli;
    struct buf out;
    struct json j;
    int64_t now;
    uint64_t generations, objects, bytes; /* deleted (or to delete), all instances */
};

/* The objects of one generation, as the index records them. */
struct prune_keys {
    char **v;
    size_t n, cap;
    uint64_t bytes;
};

/* Every option of `aofroll prune`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_prune_options[] = {
    CLI_OPT_CONFIG(struct prune_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct prune_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: all)"},
    {.name = "dry-run",
     .kind = OPT_FLAG,
     .off = offsetof(struct prune_opts, dry_run),
     .help = "print what would be deleted, delete nothing"},
    CLI_OPT_JSON(struct prune_opts),
    CLI_OPT_HELP,
    {0},
};

static int prune_parse_args(struct prune_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_prune_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    return 0;
}

static int prune_key_add(void *ud, const struct chunk_row *c)
{
    struct prune_keys *k = ud;

    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
    }
    k->v[k->n++] = xstrdup(c->key);
    k->bytes += c->stored_bytes;
    return 0;
}

static void prune_keys_free(struct prune_keys *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

static int prune_generation(struct prune *p, const struct cli_selected *in, const struct inspect_gen *g,
                            struct err *e)
{
    struct prune_keys keys = {NULL, 0, 0, 0};
    char bt[TIME_BUFSZ], last[TIME_BUFSZ], size[32];
    int ret = -1;

    if (index_chunks(p->cli.idx, in->id, g->g.generation, CHUNK_BASE, 0, prune_key_add, &keys, e) < 0 ||
        index_chunks(p->cli.idx, in->id, g->g.generation, CHUNK_INCR, 0, prune_key_add, &keys, e) < 0)
        goto out;
    inspect_time(g->g.base_time, bt, sizeof(bt));
    inspect_time(g->last > g->g.base_time ? g->last : g->g.base_time, last, sizeof(last));
    inspect_size(keys.bytes, size, sizeof(size));
    if (p->o.json) {
        json_object_begin(&p->j);
        json_kv_string(&p->j, "instance", in->name);
        json_kv_int(&p->j, "generation", g->g.generation);
        json_kv_time(&p->j, "base_time", g->g.base_time);
        json_kv_time(&p->j, "last", g->last);
        json_kv_uint(&p->j, "objects", keys.n);
        json_kv_uint(&p->j, "bytes", keys.bytes);
        json_object_end(&p->j);
    } else {
        buf_printf(&p->out, "%s: %s generation %" PRId64 " (%s .. %s): %zu object%s, %s\n", in->name,
                   p->o.dry_run ? "would delete" : "deleting", g->g.generation, bt, last, keys.n,
                   keys.n == 1 ? "" : "s", size);
        if (inspect_flush_stdout(&p->out, e) < 0)
            goto out;
    }
    if (!p->o.dry_run) {
        if (keys.n > 0 && storage_remove_many(p->cli.st, (const char *const *)keys.v, keys.n, e) < 0) {
            err_prefix(e, "generation %" PRId64 " of \"%s\" is partly deleted; run prune again",
                       g->g.generation, in->name);
            goto out;
        }
        if (index_generation_delete(p->cli.idx, in->id, g->g.generation, e) < 0)
            goto out;
    }
    p->generations++;
    p->objects += keys.n;
    p->bytes += keys.bytes;
    ret = 0;
out:
    prune_keys_free(&keys);
    return ret;
}

static int prune_instance(struct prune *p, const struct cli_selected *in, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    const struct inspect_gen *keep;
    char cut[TIME_BUFSZ];
    int64_t cutoff;
    size_t i;
    int ret = -1;

    if (in->id < 0) {
        ret = 0; /* nothing archived */
        goto out;
    }
    if (inspect_gens_load(p->cli.idx, in->id, &gens, e) < 0)
        goto out;
    cutoff = p->now - in->cfg->retention_s;
    time_format_utc(cutoff, cut, sizeof(cut));
    keep = in->cfg->retention_s > 0 ? inspect_gens_for_time(&gens, cutoff) : NULL;
    if (!p->o.json) {
        if (keep != NULL)
            buf_printf(&p->out, "%s: retention %" PRId64 " s keeps %s on, from generation %" PRId64 "\n",
                       in->name, in->cfg->retention_s, cut, keep->g.generation);
        else
            buf_printf(&p->out, "%s: retention %" PRId64 " s: every generation is needed\n", in->name,
                       in->cfg->retention_s);
    }
    /* every generation older than `keep`, and never the newest one */
    for (i = 0; keep != NULL && i + 1 < gens.n && gens.v[i].g.generation < keep->g.generation; i++)
        if (prune_generation(p, in, &gens.v[i], e) < 0)
            goto out;
    ret = 0;
out:
    inspect_gens_free(&gens);
    return ret;
}

static int prune_run(struct prune *p, struct err *e)
{
    struct cli_selection sel = {NULL, 0};
    struct stat sb;
    char size[32];
    size_t i;
    int ret = -1;

    json_init(&p->j, stdout);
    p->now = time_now();
    /* read-only first, so that a missing index is reported, not created */
    if (cli_open(&p->cli, p->o.config, 1, e) < 0)
        goto out;
    if (!p->o.dry_run) {
        index_close(p->cli.idx);
        p->cli.idx = NULL;
        if (stat(p->cli.cfg.index_path, &sb) < 0) {
            err_sys(e, errno, "index \"%s\"", p->cli.cfg.index_path);
            goto out;
        }
        if (index_open(p->cli.cfg.index_path, 0, &p->cli.idx, e) < 0) {
            p->cli.idx = NULL;
            goto out;
        }
    }
    if (cli_select(&p->cli, p->o.instance, &sel, e) < 0)
        goto out;
    if (p->o.json) {
        json_object_begin(&p->j);
        json_kv_bool(&p->j, "dry_run", p->o.dry_run);
        json_kv_time(&p->j, "now", p->now);
        json_key(&p->j, "deleted");
        json_array_begin(&p->j);
    }
    for (i = 0; i < sel.n; i++)
        if (prune_instance(p, &sel.v[i], e) < 0)
            goto out;
    if (p->o.json) {
        json_array_end(&p->j);
        json_kv_uint(&p->j, "generations", p->generations);
        json_kv_uint(&p->j, "objects", p->objects);
        json_kv_uint(&p->j, "bytes", p->bytes);
        json_object_end(&p->j);
        ret = json_finish(&p->j, e);
        goto out;
    }
    inspect_size(p->bytes, size, sizeof(size));
    buf_printf(&p->out, "%s %" PRIu64 " generation%s, %" PRIu64 " object%s, %s (%" PRIu64 " bytes)\n",
               p->o.dry_run ? "would free" : "freed", p->generations, p->generations == 1 ? "" : "s",
               p->objects, p->objects == 1 ? "" : "s", size, p->bytes);
    ret = inspect_flush_stdout(&p->out, e);
out:
    cli_selection_free(&sel);
    return ret;
}

int cmd_prune(int argc, char **argv)
{
    struct prune p;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&p, 0, sizeof(p));
    err_clear(&e);
    cli_init(&p.cli, "prune");
    rc = prune_parse_args(&p.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "prune");
        goto out;
    }
    if (rc < 0 || prune_run(&p, &e) < 0) {
        struct err ignored;

        /* what was deleted before the failure is worth seeing */
        if (!p.o.json)
            inspect_flush_stdout(&p.out, &ignored);
        status = cli_fail("prune", &e);
    }
out:
    buf_free(&p.out);
    json_free(&p.j);
    cli_close(&p.cli);
    return status;
}
