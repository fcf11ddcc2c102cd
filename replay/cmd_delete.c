/* cmd_delete.c - `aofroll delete`: remove one generation on purpose.
 *
 *   aofroll delete -c FILE --instance NAME --generation N [--force]
 *
 * Where prune (cmd_prune.c) applies the retention, delete removes the one
 * generation an operator names: a base taken from a dataset that must not
 * be kept, or an archive cut short by a gap that is not worth its space.
 *
 * The newest generation is refused unless --force: it is the one the
 * collector is writing, and the only one that can restore the latest
 * seconds. An unknown generation is an error naming the ones there are.
 *
 * Order of deletion, as in prune: the objects first (storage remove_many
 * over the keys the index lists), then, in one transaction, the index rows
 * (index_generation_delete: chunks, size log, generation) and a "delete"
 * event. An interruption in between leaves rows whose objects are gone,
 * which running delete again finishes (removing a missing object
 * succeeds); the other order could leave objects that nothing records.
 * Objects under the generation's prefix that the index did not record
 * (one stored but not yet indexed, a stray copy) are not touched, but
 * reported. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "inspect.h"
#include "objname.h"
#include "opt.h"
#include "timeutil.h"
#include "xalloc.h"

struct delete_opts {
    const char *config;
    const char *instance;
    const char *generation_text;
    long generation;
    int force;
};

/* The objects of the generation, as the index records them. */
struct delete_keys {
    const char *instance;
    struct err bad; /* a row whose key is not its chunk's name (code ERR_NONE: none) */
    char **v;
    size_t n, cap;
    size_t nbase, nincr;
    uint64_t bytes;              /* stored */
    uint64_t base_end, incr_end; /* raw bytes reached */
};

struct delete_cmd {
    struct delete_opts o;
    struct cli cli;
    struct buf out;
};

/* Every option of `aofroll delete`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_delete_options[] = {
    CLI_OPT_CONFIG(struct delete_opts, "configuration file"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct delete_opts, instance),
     .arg = "NAME",
     .help = "instance whose generation to delete"},
    {.name = "generation",
     .kind = OPT_STRING,
     .off = offsetof(struct delete_opts, generation_text),
     .arg = "N",
     .help = "the generation (see \"aofroll generations\")"},
    {.name = "force",
     .kind = OPT_FLAG,
     .off = offsetof(struct delete_opts, force),
     .help = "delete it even when it is the newest"},
    CLI_OPT_HELP,
    {0},
};

static int delete_parse_args(struct delete_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_delete_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (cli_require(o->instance, "--instance NAME", e) < 0 ||
        cli_require(o->generation_text, "--generation N", e) < 0)
        return -1;
    return opt_long("--generation", o->generation_text, 1, 999999999L, &o->generation, e);
}

static int delete_key_add(void *ud, const struct chunk_row *c)
{
    struct delete_keys *k = ud;
    struct fetch_chunk fc;

    /* only the generation's own objects: a row naming anything else stops
     * the delete before a single object is removed */
    fetch_chunk_from_row(c, &fc);
    if (fetch_check_key(k->instance, &fc, &k->bad) < 0)
        return 1;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->v = xrealloc(k->v, k->cap * sizeof(*k->v));
    }
    k->v[k->n++] = xstrdup(c->key);
    k->bytes += c->stored_bytes;
    if (c->kind == CHUNK_BASE) {
        k->nbase++;
        k->base_end = c->end;
    } else {
        k->nincr++;
        k->incr_end = c->end;
    }
    return 0;
}

static void delete_keys_free(struct delete_keys *k)
{
    size_t i;

    for (i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

/* The keys of the generation's base and incr chunks, from the index. */
static int delete_keys_load(struct delete_cmd *d, int64_t generation, struct delete_keys *k, struct err *e)
{
    struct index *idx = d->cli.idx;

    k->instance = d->o.instance;
    err_clear(&k->bad);
    if (index_chunks(idx, d->cli.instance_id, generation, CHUNK_BASE, 0, delete_key_add, k, e) < 0 ||
        (k->bad.code == ERR_NONE &&
         index_chunks(idx, d->cli.instance_id, generation, CHUNK_INCR, 0, delete_key_add, k, e) < 0))
        return -1;
    if (k->bad.code != ERR_NONE) {
        *e = k->bad;
        err_prefix(e, "nothing deleted");
        return -1;
    }
    return 0;
}

/* "1, 2, 5" */
static int delete_gen_name(void *ud, const struct gen_row *g)
{
    struct buf *b = ud;

    buf_printf(b, "%s%" PRId64, b->len ? ", " : "", g->generation);
    return 0;
}

static int delete_count_object(void *ud, const char *key, uint64_t size)
{
    (void)key;
    (void)size;
    (*(size_t *)ud)++;
    return 0;
}

static int delete_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Objects of the generation still in storage that the index listed. */
struct delete_left {
    char **sorted; /* the index's keys, sorted */
    size_t n;
    size_t left;
};

static int delete_count_left(void *ud, const char *key, uint64_t size)
{
    struct delete_left *l = ud;

    (void)size;
    if (bsearch(&key, l->sorted, l->n, sizeof(*l->sorted), delete_key_cmp) != NULL)
        l->left++;
    return 0;
}

/* After a failed removal: say whether nothing, or how much, was removed
 * (a listing of the generation tells), keeping the storage's reason. */
static void delete_say_how_far(struct delete_cmd *d, int64_t generation, const struct delete_keys *k,
                               struct err *e)
{
    struct delete_left l = {NULL, k->n, 0};
    char prefix[OBJNAME_MAX];
    struct err le;

    err_clear(&le);
    l.sorted = xcalloc(k->n, sizeof(*l.sorted));
    memcpy(l.sorted, k->v, k->n * sizeof(*l.sorted));
    qsort(l.sorted, l.n, sizeof(*l.sorted), delete_key_cmp);
    if (objname_generation_prefix(d->o.instance, generation, prefix, sizeof(prefix)) < 0 ||
        storage_list(d->cli.st, prefix, delete_count_left, &l, &le) < 0)
        err_prefix(
            e,
            "generation %ld of \"%s\" may be partly deleted (it cannot be listed to tell); run delete again",
            d->o.generation, d->o.instance);
    else if (l.left == k->n)
        err_prefix(e, "nothing of generation %ld of \"%s\" was deleted; run delete again", d->o.generation,
                   d->o.instance);
    else
        err_prefix(
            e, "generation %ld of \"%s\" is partly deleted (%zu of %zu objects removed); run delete again",
            d->o.generation, d->o.instance, k->n - l.left, k->n);
    free(l.sorted);
}

/* The rows of the generation and a "delete" event, in one transaction. */
static int delete_rows(struct delete_cmd *d, const struct delete_keys *k, struct err *e)
{
    struct index *idx = d->cli.idx;
    char detail[256];

    if (index_begin(idx, e) < 0)
        return -1;
    snprintf(detail, sizeof(detail), "generation %ld deleted%s: %zu objects, %" PRIu64 " bytes",
             d->o.generation, d->o.force ? " (--force)" : "", k->n, k->bytes);
    if (index_generation_delete(idx, d->cli.instance_id, d->o.generation, e) < 0 ||
        index_event_add(idx, d->cli.instance_id, time_now(), "delete", detail, e) < 0 ||
        index_commit(idx, e) < 0) {
        index_rollback(idx);
        return -1;
    }
    return 0;
}

static int delete_run(struct delete_cmd *d, struct err *e)
{
    struct delete_keys keys;
    struct buf gens = BUF_INIT;
    struct gen_row g, latest;
    struct fetch f;
    char bt[TIME_BUFSZ], size[32], prefix[OBJNAME_MAX];
    const char *name = d->o.instance;
    size_t left = 0;
    int have_fetch = 0;
    int ret = -1;

    memset(&keys, 0, sizeof(keys));
    /* read-only first, so that a missing index is reported, not created */
    if (cli_open(&d->cli, d->o.config, 1, e) < 0)
        goto out;
    index_close(d->cli.idx);
    d->cli.idx = NULL;
    if (index_open(d->cli.cfg.index_path, 0, &d->cli.idx, e) < 0) {
        d->cli.idx = NULL;
        goto out;
    }
    if (cli_instance(&d->cli, name, e) < 0)
        goto out;
    if (index_generation_get(d->cli.idx, d->cli.instance_id, d->o.generation, &g, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            goto out;
        if (index_generations(d->cli.idx, d->cli.instance_id, delete_gen_name, &gens, e) < 0)
            goto out;
        err_set(e, ERR_NOTFOUND,
                "instance \"%s\" has no generation %ld in index \"%s\" (its generations: %s)", name,
                d->o.generation, d->cli.cfg.index_path, gens.len ? gens.data : "none");
        goto out;
    }
    if (index_generation_latest(d->cli.idx, d->cli.instance_id, &latest, e) < 0)
        goto out;
    if (latest.generation == g.generation && !d->o.force) {
        err_set(
            e, ERR_EXISTS,
            "generation %ld is the newest of \"%s\": the collector writes to it and only it can restore the "
            "latest seconds; not deleted. HINT: stop the collector and pass --force to delete it anyway",
            d->o.generation, name);
        goto out;
    }
    if (delete_keys_load(d, g.generation, &keys, e) < 0)
        goto out;
    if (keys.n > 0 && storage_remove_many(d->cli.st, (const char *const *)keys.v, keys.n, e) < 0) {
        delete_say_how_far(d, g.generation, &keys, e);
        goto out;
    }
    if (delete_rows(d, &keys, e) < 0) {
        err_prefix(
            e,
            "the objects of generation %ld of \"%s\" are deleted, its index rows are not; run delete again",
            d->o.generation, name);
        goto out;
    }
    inspect_time(g.base_time, bt, sizeof(bt));
    inspect_size(keys.bytes, size, sizeof(size));
    buf_printf(&d->out,
               "%s: deleted generation %ld (base %s): base [0, %" PRIu64 ") in %zu chunk%s, incr [0, %" PRIu64
               ") in %zu chunk%s\n",
               name, d->o.generation, bt, keys.base_end, keys.nbase, keys.nbase == 1 ? "" : "s",
               keys.incr_end, keys.nincr, keys.nincr == 1 ? "" : "s");
    buf_printf(&d->out, "%s: removed %zu object%s, %s freed (%" PRIu64 " bytes)\n", name, keys.n,
               keys.n == 1 ? "" : "s", size, keys.bytes);
    if (objname_generation_prefix(name, g.generation, prefix, sizeof(prefix)) == 0) {
        if (storage_list(d->cli.st, prefix, delete_count_object, &left, e) < 0)
            goto out;
        if (left > 0)
            buf_printf(&d->out,
                       "%s: %zu object%s under \"%s\" that the index did not record %s left in storage\n",
                       name, left, left == 1 ? "" : "s", prefix, left == 1 ? "is" : "are");
    }
    fetch_init(&f, d->cli.idx, d->cli.st, name, d->cli.instance_id);
    have_fetch = 1;
    buf_printf(&d->out, "%s: restorable ", name);
    if (fetch_windows(&f, &d->out, e) < 0)
        goto out;
    buf_appendstr(&d->out, "\n");
    ret = inspect_flush_stdout(&d->out, e);
out:
    if (have_fetch)
        fetch_free(&f);
    delete_keys_free(&keys);
    buf_free(&gens);
    return ret;
}

int cmd_delete(int argc, char **argv)
{
    struct delete_cmd d;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&d, 0, sizeof(d));
    err_clear(&e);
    cli_init(&d.cli, "delete");
    rc = delete_parse_args(&d.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "delete");
        goto out;
    }
    if (rc < 0 || delete_run(&d, &e) < 0) {
        struct err ignored;

        inspect_flush_stdout(&d.out, &ignored);
        status = cli_fail("delete", &e);
    }
out:
    buf_free(&d.out);
    cli_close(&d.cli);
    return status;
}
