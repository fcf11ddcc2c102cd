/* check_seal.c - aofroll-collector --check: can the configured keys open
 * the archive? (docs/encryption.md)
 *
 * Called by check.c once the storage took, gave back and deleted its probe
 * object - sealed with the newest key when a key file is configured, so
 * that the round trip itself proves sealing and opening. This adds:
 *  - which key ids the key file holds and which one seals new objects;
 *  - for each configured instance the index knows, its newest object (the
 *    last chunk of its newest generation) fetched and opened: a sealed one
 *    proves that its key is in the file and is the key it was sealed with
 *    (a problem otherwise, as a restore would fail on it); a plain one is
 *    noted, since `aofroll rekey` would seal it.
 * Without a key file the newest objects are still looked at: sealed ones
 * that nothing can open are a problem. Nothing is written here; the index
 * is opened read-only and a missing one is check.c's to report. */

#include "check_seal.h"

#include <string.h>

#include "index.h"
#include "keyring.h"
#include "objname.h"

/* The newest chunk of the instance: the last incr chunk of its newest
 * generation, else its last base chunk. 1 found, 0 none, -1 error. */
static int check_seal_newest(struct index *idx, const char *name, struct chunk_row *row, struct err *e)
{
    struct gen_row g;
    int64_t id;

    if (index_instance_id(idx, name, 0, &id, e) != 0 || index_generation_latest(idx, id, &g, e) != 0 ||
        (index_chunk_last(idx, id, g.generation, CHUNK_INCR, row, e) != 0 &&
         (e->code != ERR_NOTFOUND || index_chunk_last(idx, id, g.generation, CHUNK_BASE, row, e) != 0))) {
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e);
        return 0;
    }
    return 1;
}

static void check_seal_instance(struct index *idx, struct storage *st, const char *name,
                                struct check_report *r)
{
    struct chunk_row row;
    struct buf obj = BUF_INIT;
    char id[OBJNAME_KEY_ID_MAX + 1];
    struct err e;
    int found;

    err_clear(&e);
    found = check_seal_newest(idx, name, &row, &e);
    if (found < 0) {
        check_report_problem(r, "encryption of \"%s\": %s", name, e.msg);
        return;
    }
    if (found == 0)
        return; /* nothing archived yet */
    if (!objname_unseal(row.key, NULL, 0, id)) {
        if (st->keys != NULL)
            check_report_ok(
                r,
                "encryption of \"%s\": its newest object \"%s\" is plain (stored before encryption was "
                "on); new ones are sealed, aofroll rekey seals the old",
                name, row.key);
        return;
    }
    if (storage_get(st, row.key, &obj, &e) != 0)
        check_report_problem(r, "encryption of \"%s\": %s", name, e.msg);
    else
        check_report_ok(r, "encryption of \"%s\": its newest object \"%s\" opens with key \"%s\"", name,
                        row.key, id);
    buf_free(&obj);
}

void check_seal(const struct config *cfg, struct storage *st, const char *probe_key, struct check_report *r)
{
    struct index *idx = NULL;
    char ids[512], id[OBJNAME_KEY_ID_MAX + 1];
    struct err e;
    int i;

    err_clear(&e);
    if (st->keys != NULL) {
        keyring_describe(st->keys, ids, sizeof(ids));
        check_report_ok(r, "encryption: key file \"%s\": keys %s", st->keys->path, ids);
        if (objname_unseal(probe_key, NULL, 0, id))
            check_report_ok(r, "encryption: ok, the probe object was sealed with key \"%s\" and opened again",
                            id);
    }
    if (index_open(cfg->index_path, 1, &idx, &e) != 0)
        return; /* check_index() reports it */
    for (i = 0; i < cfg->ninstances; i++)
        check_seal_instance(idx, st, cfg->instances[i].name, r);
    index_close(idx);
}
