/* cmd_rekey.c - `aofroll rekey`: seal the archive's older objects with the
 * newest key.
 *
 *   aofroll rekey -c FILE [--instance NAME [--generation N]]
 *
 * Rotation (docs/encryption.md): a line added to the key file gives a new
 * key, which seals every object stored from then on; the older objects
 * stay readable with the keys they were sealed with. rekey seals them
 * again with the newest key - those sealed with another key, and plain
 * ones from before encryption was turned on - so that a retired key can be
 * dropped from the file.
 *
 * Per chunk the index records, in the index's order, unless its object is
 * already sealed with the newest key:
 *  1. get the object (opened with its own key) and check it as a restore
 *     would: its name is its chunk's (fetch_check_key) and its gzip member
 *     has the SHA-256 the row records; a row from before digests were
 *     recorded has its member decoded against its length and CRC32 instead;
 *  2. store the member as "<plain name>.<newest id>.enc" (an atomic put);
 *  3. point the index row at the new object (one UPDATE; the digest stays,
 *     being the gzip member's);
 *  4. remove the old object.
 * A crash after 2 leaves a copy that no row records, after 3 the old object
 * that no row records: never a row that points at a missing object. A
 * second run finishes the job: rows not yet pointed at their new object are
 * done again (the put replaces the copy), and then every object under the
 * generation that holds an indexed chunk under another name than the row's
 * is removed (what 4 had not done yet). The collector's start-up
 * reconciliation leaves such copies alone (collector/reconcile.c). A row
 * deleted meanwhile (prune, delete) has its new object removed again.
 *
 * An object that fails its check is left as it is, reported, and makes
 * rekey exit 1 after the rest is done; a key the file lacks stops it at
 * once. One rekey runs at a time per index (a lock beside it): two would
 * take each other's new objects for stale copies. After each instance its index copy is stored again, sealed
 * with the newest key, and the older copies removed (indexcopy.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "commands.h"
#include "fetch.h"
#include "indexcopy.h"
#include "inspect.h"
#include "objname.h"
#include "opt.h"
#include "quote.h"
#include "xalloc.h"

struct rekey_opts {
    const char *config;
    const char *instance;
    const char *generation_text;
    long generation; /* 0: all */
};

/* A chunk as the index records it, loaded before any object is read. */
struct rekey_chunk {
    int64_t id;
    struct fetch_chunk fc; /* fc.key owned */
};

struct rekey_chunks {
    struct rekey_chunk *v;
    size_t n, cap;
};

struct rekey {
    struct rekey_opts o;
    struct cli cli;
    struct buf out;
    struct buf gz, raw;
    const char *newest; /* the id that seals */
    const char *instance;
    int64_t instance_id;
    /* per instance */
    size_t resealed, already, stale, vanished;
    /* all instances */
    size_t total_resealed, failed;
    /* test hooks (tests/it_encryption.sh): SIGKILL after the Nth put or
     * the Nth index update, 0 = never */
    long kill_after_puts, kill_after_renames;
    char first_failure[1200];
    int lock_fd; /* <index>.rekey.lock, -1 until taken */
};

/* Every option of `aofroll rekey`: parsed by opt_parse(), listed by --help. */
const struct opt cmd_rekey_options[] = {
    CLI_OPT_CONFIG(struct rekey_opts, "configuration file (its storage.encryption.key_file names the keys)"),
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct rekey_opts, instance),
     .arg = "NAME",
     .help = "only this instance (default: every configured one)"},
    {.name = "generation",
     .kind = OPT_STRING,
     .off = offsetof(struct rekey_opts, generation_text),
     .arg = "N",
     .help = "only this generation of --instance (see \"aofroll generations\")"},
    CLI_OPT_HELP,
    {0},
};

static int rekey_parse_args(struct rekey_opts *o, int argc, char **argv, struct err *e)
{
    int rc;

    memset(o, 0, sizeof(*o));
    rc = opt_parse(cmd_rekey_options, argc, argv, o, NULL, e);
    if (rc != 0)
        return rc;
    if (o->generation_text == NULL)
        return 0;
    if (o->instance == NULL)
        return err_set(e, ERR_USAGE, "--generation N needs --instance NAME");
    return opt_long("--generation", o->generation_text, 1, 999999999L, &o->generation, e);
}

/* ------------------------------------------------------------------------
 * The chunks of a generation
 * ------------------------------------------------------------------------ */

static int rekey_chunk_add(void *ud, const struct chunk_row *row)
{
    struct rekey_chunks *l = ud;
    struct rekey_chunk *c;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    c = &l->v[l->n++];
    c->id = row->id;
    fetch_chunk_from_row(row, &c->fc);
    c->fc.key = xstrdup(row->key);
    return 0;
}

static void rekey_chunks_free(struct rekey_chunks *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].fc.key);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* The plain name of `key` into plain[n]. */
static void rekey_plain(const char *key, char *plain, size_t n)
{
    if (!objname_unseal(key, plain, n, NULL))
        snprintf(plain, n, "%s", key);
}

static int rekey_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------------------
 * One chunk
 * ------------------------------------------------------------------------ */

static void rekey_failed(struct rekey *r, const char *msg)
{
    if (r->failed++ == 0)
        snprintf(r->first_failure, sizeof(r->first_failure), "%s", msg);
    buf_printf(&r->out, "%s: not re-sealed: %s\n", r->instance, msg);
}

/* Get chunk c's object and check it (1. above); 1 when it failed its check
 * (reported), 0 when sound, -1 on an error that stops rekey. */
static int rekey_read(struct rekey *r, const struct rekey_chunk *c, unsigned char sha256[32], int *have_sha,
                      struct err *e)
{
    struct err ce;

    err_clear(&ce);
    *have_sha = 0;
    if (fetch_object(r->cli.st, r->instance, &c->fc, &r->gz, &ce) < 0) {
        if (ce.code != ERR_CORRUPT && ce.code != ERR_NOTFOUND) {
            *e = ce;
            return -1;
        }
        rekey_failed(r, ce.msg);
        return 1;
    }
    if (c->fc.has_sha256)
        return 0;
    buf_reset(&r->raw);
    if (codec_decode(r->gz.data, r->gz.len, c->fc.end - c->fc.start, c->fc.crc32, c->fc.key, &r->raw, &ce) <
        0) {
        if (ce.code != ERR_CORRUPT) {
            *e = ce;
            return -1;
        }
        rekey_failed(r, ce.msg);
        return 1;
    }
    codec_sha256(r->gz.data, r->gz.len, sha256);
    *have_sha = 1;
    return 0;
}

/* Steps 1-4 for one chunk; c->fc.key names the new object afterwards. */
static int rekey_chunk(struct rekey *r, struct rekey_chunk *c, struct err *e)
{
    char plain[OBJNAME_MAX], key[OBJNAME_MAX], id[OBJNAME_KEY_ID_MAX + 1], shown[QUOTE_NAME_BUFSZ];
    unsigned char sha256[32];
    struct chunk_row row;
    int have_sha, rc;

    if (objname_unseal(c->fc.key, NULL, 0, id) && strcmp(id, r->newest) == 0) {
        r->already++;
        return 0;
    }
    rc = rekey_read(r, c, sha256, &have_sha, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rekey_plain(c->fc.key, plain, sizeof(plain));
    if (objname_seal(plain, r->newest, key, sizeof(key)) != 0)
        return err_set(e, ERR_CORRUPT, "cannot name object %s sealed with key \"%s\"",
                       quote_name(shown, sizeof(shown), plain), r->newest);
    if (storage_put(r->cli.st, key, r->gz.data, r->gz.len, e) < 0)
        return -1;
    if (r->kill_after_puts > 0 && --r->kill_after_puts == 0)
        raise(SIGKILL);
    memset(&row, 0, sizeof(row));
    row.id = c->id;
    snprintf(row.key, sizeof(row.key), "%s", c->fc.key);
    if (index_chunk_rename(r->cli.idx, &row, key, storage_stored_size(key, r->gz.len),
                           have_sha ? sha256 : NULL, e) < 0) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        /* deleted meanwhile (prune, delete): nothing may keep its copy,
         * unless a row names it after all */
        err_clear(e);
        r->vanished++;
        if (index_chunk_by_key(r->cli.idx, key, &row, e) == 0)
            return 0;
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        return storage_remove(r->cli.st, key, e);
    }
    if (r->kill_after_renames > 0 && --r->kill_after_renames == 0)
        raise(SIGKILL);
    if (storage_remove(r->cli.st, c->fc.key, e) < 0) {
        err_prefix(e, "chunk \"%s\" is re-sealed as \"%s\", its old object is not removed; run rekey again",
                   c->fc.key, key);
        return -1;
    }
    free(c->fc.key);
    c->fc.key = xstrdup(key);
    r->resealed++;
    return 0;
}

/* ------------------------------------------------------------------------
 * Copies left by an interrupted run
 * ------------------------------------------------------------------------ */

struct rekey_listing {
    char **v;
    size_t n, cap;
};

static int rekey_list_add(void *ud, const char *key, uint64_t size)
{
    struct rekey_listing *l = ud;

    (void)size;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = xstrdup(key);
    return 0;
}

static void rekey_listing_free(struct rekey_listing *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Remove the objects under the generation that hold one of `chunks` under
 * another name than its row's. */
static int rekey_sweep(struct rekey *r, int64_t generation, const struct rekey_chunks *chunks, struct err *e)
{
    struct rekey_listing objs = {NULL, 0, 0};
    char prefix[OBJNAME_MAX], plain[OBJNAME_MAX];
    char **keys = xcalloc(chunks->n + 1, sizeof(*keys)), **plains = xcalloc(chunks->n + 1, sizeof(*plains));
    const char *p = plain;
    size_t i;
    int ret = -1;

    for (i = 0; i < chunks->n; i++) {
        keys[i] = chunks->v[i].fc.key;
        rekey_plain(keys[i], plain, sizeof(plain));
        plains[i] = xstrdup(plain);
    }
    qsort(keys, chunks->n, sizeof(*keys), rekey_strcmp);
    qsort(plains, chunks->n, sizeof(*plains), rekey_strcmp);
    if (objname_generation_prefix(r->instance, generation, prefix, sizeof(prefix)) < 0) {
        err_set(e, ERR_CONFIG, "instance name \"%s\" cannot name an object", r->instance);
        goto out;
    }
    if (storage_list(r->cli.st, prefix, rekey_list_add, &objs, e) < 0)
        goto out;
    for (i = 0; i < objs.n; i++) {
        const char *k = objs.v[i];
        struct chunk_name name;
        struct err pe;

        err_clear(&pe);
        if (objname_parse_chunk(k, &name, &pe) < 0 ||
            bsearch(&k, keys, chunks->n, sizeof(*keys), rekey_strcmp))
            continue;
        rekey_plain(k, plain, sizeof(plain));
        if (bsearch(&p, plains, chunks->n, sizeof(*plains), rekey_strcmp) == NULL)
            continue; /* a chunk the index does not hold (yet): not ours */
        if (storage_remove(r->cli.st, k, e) < 0)
            goto out;
        r->stale++;
    }
    ret = 0;
out:
    for (i = 0; i < chunks->n; i++)
        free(plains[i]);
    free(plains);
    free(keys);
    rekey_listing_free(&objs);
    return ret;
}

/* ------------------------------------------------------------------------
 * Generations and instances
 * ------------------------------------------------------------------------ */

static int rekey_generation(struct rekey *r, int64_t generation, struct err *e)
{
    struct rekey_chunks chunks = {NULL, 0, 0};
    size_t i;
    int ret = -1;

    if (index_chunks(r->cli.idx, r->instance_id, generation, CHUNK_BASE, 0, rekey_chunk_add, &chunks, e) <
            0 ||
        index_chunks(r->cli.idx, r->instance_id, generation, CHUNK_INCR, 0, rekey_chunk_add, &chunks, e) < 0)
        goto out;
    for (i = 0; i < chunks.n; i++)
        if (rekey_chunk(r, &chunks.v[i], e) < 0)
            goto out;
    if (rekey_sweep(r, generation, &chunks, e) < 0)
        goto out;
    ret = 0;
out:
    rekey_chunks_free(&chunks);
    return ret;
}

static int rekey_gen_add(void *ud, const struct gen_row *g)
{
    struct inspect_gens *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    l->v[l->n++].g = *g;
    return 0;
}

static int rekey_instance(struct rekey *r, const struct cli_selected *in, struct err *e)
{
    struct inspect_gens gens = {NULL, 0, 0};
    struct gen_row g;
    char *tmp = NULL;
    size_t i, failed = r->failed;
    int ret = -1;

    r->instance = in->name;
    r->instance_id = in->id;
    r->resealed = r->already = r->stale = r->vanished = 0;
    if (in->id < 0) {
        buf_printf(&r->out, "%s: nothing archived yet\n", in->name);
        return inspect_flush_stdout(&r->out, e);
    }
    if (r->o.generation > 0) {
        if (index_generation_get(r->cli.idx, in->id, r->o.generation, &g, e) < 0) {
            if (e->code == ERR_NOTFOUND)
                err_set(e, ERR_NOTFOUND, "instance \"%s\" has no generation %ld in index \"%s\"", in->name,
                        r->o.generation, r->cli.cfg.index_path);
            goto out;
        }
        rekey_gen_add(&gens, &g);
    } else if (index_generations(r->cli.idx, in->id, rekey_gen_add, &gens, e) < 0) {
        goto out;
    }
    for (i = 0; i < gens.n; i++)
        if (rekey_generation(r, gens.v[i].g.generation, e) < 0)
            goto out;
    tmp = xasprintf("%s.%s.%ld.rekey", r->cli.cfg.index_path, in->name, (long)getpid());
    if (indexcopy_upload(r->cli.idx, r->cli.st, in->name, tmp, e) < 0) {
        err_prefix(e, "the objects of \"%s\" are re-sealed, its index copy is not stored", in->name);
        goto out;
    }
    buf_printf(
        &r->out,
        "%s: %zu object%s re-sealed with key \"%s\", %zu already were, %zu failed their check; %zu stale "
        "cop%s removed; index copy stored\n",
        in->name, r->resealed, r->resealed == 1 ? "" : "s", r->newest, r->already, r->failed - failed,
        r->stale, r->stale == 1 ? "y" : "ies");
    if (r->vanished > 0)
        buf_printf(&r->out, "%s: %zu chunk%s deleted while rekey ran\n", in->name, r->vanished,
                   r->vanished == 1 ? "" : "s");
    r->total_resealed += r->resealed;
    ret = inspect_flush_stdout(&r->out, e);
out:
    free(tmp);
    inspect_gens_free(&gens);
    return ret;
}

/* One rekey at a time per index: two would remove each other's new
 * objects as stale copies. The lock is released when the process ends. */
static int rekey_lock(struct rekey *r, struct err *e)
{
    char *path = xasprintf("%s.rekey.lock", r->cli.cfg.index_path);
    int ret = -1;

    r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (r->lock_fd < 0) {
        err_sys(e, errno, "cannot open lock file \"%s\"", path);
        goto out;
    }
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            err_set(e, ERR_BUSY, "another aofroll rekey holds \"%s\": one at a time", path);
        else
            err_sys(e, errno, "cannot lock \"%s\"", path);
        goto out;
    }
    ret = 0;
out:
    free(path);
    return ret;
}

static int rekey_run(struct rekey *r, struct err *e)
{
    struct cli_selection sel = {NULL, 0};
    size_t i;
    int ret = -1;

    /* read-only first, so that a missing index is reported, not created */
    if (cli_open(&r->cli, r->o.config, 1, e) < 0)
        goto out;
    index_close(r->cli.idx);
    r->cli.idx = NULL;
    if (index_open(r->cli.cfg.index_path, 0, &r->cli.idx, e) < 0) {
        r->cli.idx = NULL;
        goto out;
    }
    if (rekey_lock(r, e) < 0)
        goto out;
    r->newest = storage_seal_id(r->cli.st);
    if (r->newest == NULL) {
        err_set(e, ERR_CONFIG,
                "config \"%s\" sets no storage.encryption.key_file: there is no key to seal with HINT: "
                "docs/encryption.md",
                r->cli.cfg.path);
        goto out;
    }
    if (cli_select(&r->cli, r->o.instance, &sel, e) < 0)
        goto out;
    for (i = 0; i < sel.n; i++)
        if (rekey_instance(r, &sel.v[i], e) < 0)
            goto out;
    if (r->failed > 0) {
        err_set(e, ERR_CORRUPT, "%zu object%s not re-sealed, the first: %s", r->failed,
                r->failed == 1 ? "" : "s", r->first_failure);
        goto out;
    }
    ret = 0;
out:
    cli_selection_free(&sel);
    return ret;
}

int cmd_rekey(int argc, char **argv)
{
    struct rekey r;
    struct err e;
    int rc, status = CLI_EXIT_OK;

    memset(&r, 0, sizeof(r));
    r.lock_fd = -1;
    err_clear(&e);
    cli_init(&r.cli, "rekey");
    if (getenv("AOFROLL_TEST_KILL_AFTER_PUTS") != NULL)
        r.kill_after_puts = strtol(getenv("AOFROLL_TEST_KILL_AFTER_PUTS"), NULL, 10);
    if (getenv("AOFROLL_TEST_KILL_AFTER_RENAMES") != NULL)
        r.kill_after_renames = strtol(getenv("AOFROLL_TEST_KILL_AFTER_RENAMES"), NULL, 10);
    rc = rekey_parse_args(&r.o, argc, argv, &e);
    if (rc > 0) {
        commands_usage(stdout, "rekey");
        goto out;
    }
    if (rc < 0 || rekey_run(&r, &e) < 0) {
        struct err ignored;

        inspect_flush_stdout(&r.out, &ignored);
        status = cli_fail("rekey", &e);
    }
out:
    buf_free(&r.out);
    buf_free(&r.gz);
    buf_free(&r.raw);
    cli_close(&r.cli);
    if (r.lock_fd >= 0)
        close(r.lock_fd);
    return status;
}
