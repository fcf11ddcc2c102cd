/* objname.c - every object name in the archive is built and parsed here.
 *
 * The layout is the one in objname.h and docs/design.md:
 *
 *   <instance>/gen-<generation:6>/base/<start:20>-<end:20>_<time:10>_<total:20>.<rdb|aof>.gz
 *   <instance>/gen-<generation:6>/incr/<start:20>-<end:20>_<first:10>-<last:10>.aof.gz
 *   <instance>/index.db
 *
 * and any of them sealed (docs/encryption.md): "<name>.<key id>.enc".
 *
 * A base chunk's name also carries the base time (the dataset instant the
 * base holds) and the size of the whole base file, so that `aofroll
 * reindex` can tell from a listing alone when a generation starts and
 * whether its base was shipped completely.
 *
 * Numbers are zero-padded decimal so that byte order of names is numeric
 * order: offsets to 20 digits (every uint64), generations to 6 (a daily
 * barrier needs 2700 years to outgrow them) and unix seconds to 10 (good
 * until the year 2286). Wider numbers are still written and parsed, but
 * would no longer sort.
 *
 * Parsing is strict: a key is a chunk name only if formatting the parsed
 * fields gives back exactly the same key. `aofroll reindex` relies on this
 * to rebuild the index from a listing without mistaking a stray object for
 * a chunk. */
#include "objname.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"

int objname_valid_instance(const char *name)
{
    size_t i;

    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return 0;
    for (i = 0; name[i] != '\0'; i++) {
        char ch = name[i];

        if (i >= INSTANCE_NAME_MAX)
            return 0;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

int objname_valid_key_id(const char *id)
{
    size_t i;

    if (id == NULL || id[0] == '\0')
        return 0;
    for (i = 0; id[i] != '\0'; i++) {
        char ch = id[i];

        if (i >= OBJNAME_KEY_ID_MAX)
            return 0;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-'))
            return 0;
    }
    return 1;
}

/* snprintf's result as 0/-1: -1 when it failed or did not fit. */
static int objname_fit(int len, size_t n)
{
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

int objname_chunk(const struct chunk_name *c, char *buf, size_t n)
{
    char plain[OBJNAME_MAX];
    int len;

    if (c->seal[0] != '\0') {
        struct chunk_name p = *c;

        p.seal[0] = '\0';
        if (objname_chunk(&p, plain, sizeof(plain)) != 0)
            return -1;
        return objname_seal(plain, c->seal, buf, n);
    }
    if (!objname_valid_instance(c->instance) || c->generation < 1 || c->end < c->start)
        return -1;
    if (c->kind == CHUNK_BASE) {
        if (c->format != BASE_RDB && c->format != BASE_AOF)
            return -1;
        if (c->first < 0 || c->last != c->first || c->end > c->total)
            return -1;
        len = snprintf(buf, n,
                       "%s/gen-%06" PRId64 "/base/%020" PRIu64 "-%020" PRIu64 "_%010" PRId64 "_%020" PRIu64
                       ".%s.gz",
                       c->instance, c->generation, c->start, c->end, c->first, c->total,
                       c->format == BASE_RDB ? "rdb" : "aof");
    } else if (c->kind == CHUNK_INCR) {
        if (c->first < 0 || c->last < c->first)
            return -1;
        len = snprintf(buf, n,
                       "%s/gen-%06" PRId64 "/incr/%020" PRIu64 "-%020" PRIu64 "_%010" PRId64 "-%010" PRId64
                       ".aof.gz",
                       c->instance, c->generation, c->start, c->end, c->first, c->last);
    } else {
        return -1;
    }
    return objname_fit(len, n);
}

/* ------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------ */

/* If *p starts with `lit`, step over it and return 1. */
static int objname_eat(const char **p, const char *lit)
{
    size_t n = strlen(lit);

    if (strncmp(*p, lit, n) != 0)
        return 0;
    *p += n;
    return 1;
}

/* A run of decimal digits at *p, as an unsigned 64-bit number. */
static int objname_eat_u64(const char **p, uint64_t *v)
{
    char *end;
    unsigned long long x;

    if (**p < '0' || **p > '9')
        return 0;
    errno = 0;
    x = strtoull(*p, &end, 10);
    if (errno != 0)
        return 0;
    *v = (uint64_t)x;
    *p = end;
    return 1;
}

static int objname_eat_i64(const char **p, int64_t *v)
{
    uint64_t x;

    if (!objname_eat_u64(p, &x) || x > (uint64_t)INT64_MAX)
        return 0;
    *v = (int64_t)x;
    return 1;
}

/* Fill *c from `key`; on failure point *why at the reason. The result is
 * not yet known to be canonical (objname_parse_chunk checks that). */
static int objname_scan_chunk(const char *key, struct chunk_name *c, const char **why)
{
    char plain[OBJNAME_MAX], id[OBJNAME_KEY_ID_MAX + 1];
    const char *p = key;
    const char *slash;
    size_t ilen;

    memset(c, 0, sizeof(*c));
    if (objname_unseal(key, plain, sizeof(plain), id)) {
        if (objname_scan_chunk(plain, c, why) != 0)
            return -1;
        memcpy(c->seal, id, sizeof(c->seal));
        return 0;
    }
    slash = strchr(key, '/');
    ilen = slash != NULL ? (size_t)(slash - key) : 0;
    if (ilen == 0 || ilen > INSTANCE_NAME_MAX) {
        *why = "bad instance name";
        return -1;
    }
    memcpy(c->instance, key, ilen);
    c->instance[ilen] = '\0';
    if (!objname_valid_instance(c->instance)) {
        *why = "bad instance name";
        return -1;
    }
    p = slash + 1;
    if (!objname_eat(&p, "gen-") || !objname_eat_i64(&p, &c->generation)) {
        *why = "expected \"gen-NNNNNN/\" after the instance";
        return -1;
    }
    if (objname_eat(&p, "/base/")) {
        c->kind = CHUNK_BASE;
    } else if (objname_eat(&p, "/incr/")) {
        c->kind = CHUNK_INCR;
    } else {
        *why = "expected \"base/\" or \"incr/\" after the generation";
        return -1;
    }
    if (!objname_eat_u64(&p, &c->start) || !objname_eat(&p, "-") || !objname_eat_u64(&p, &c->end)) {
        *why = "expected \"START-END\" byte offsets";
        return -1;
    }
    if (c->kind == CHUNK_INCR) {
        if (!objname_eat(&p, "_") || !objname_eat_i64(&p, &c->first) || !objname_eat(&p, "-") ||
            !objname_eat_i64(&p, &c->last)) {
            *why = "expected \"_FIRST-LAST\" unix seconds after the offsets";
            return -1;
        }
        if (!objname_eat(&p, ".aof.gz") || *p != '\0') {
            *why = "expected the suffix \".aof.gz\"";
            return -1;
        }
    } else {
        if (!objname_eat(&p, "_") || !objname_eat_i64(&p, &c->first) || !objname_eat(&p, "_") ||
            !objname_eat_u64(&p, &c->total)) {
            *why = "expected \"_TIME_TOTAL\" after the offsets";
            return -1;
        }
        c->last = c->first;
        if (objname_eat(&p, ".rdb.gz")) {
            c->format = BASE_RDB;
        } else if (objname_eat(&p, ".aof.gz")) {
            c->format = BASE_AOF;
        } else {
            *why = "expected the suffix \".rdb.gz\" or \".aof.gz\"";
            return -1;
        }
        if (*p != '\0') {
            *why = "expected the suffix \".rdb.gz\" or \".aof.gz\"";
            return -1;
        }
    }
    if (c->generation < 1) {
        *why = "generation 0";
        return -1;
    }
    if (c->end < c->start) {
        *why = "end offset before start offset";
        return -1;
    }
    if (c->kind == CHUNK_INCR && c->last < c->first) {
        *why = "last second before first second";
        return -1;
    }
    if (c->kind == CHUNK_BASE && c->end > c->total) {
        *why = "end offset beyond the base's total size";
        return -1;
    }
    return 0;
}

int objname_parse_chunk(const char *key, struct chunk_name *c, struct err *e)
{
    char canon[OBJNAME_MAX], shown[QUOTE_NAME_BUFSZ];
    const char *why = NULL;

    if (objname_scan_chunk(key, c, &why) != 0)
        goto bad;
    /* Leading zeros beyond the padding, or missing ones, would give two
     * names for one chunk: only the canonical spelling is a chunk name. */
    if (objname_chunk(c, canon, sizeof(canon)) != 0 || strcmp(canon, key) != 0) {
        why = "numbers not in canonical zero-padded form";
        goto bad;
    }
    return 0;
bad:
    memset(c, 0, sizeof(*c));
    /* the key comes from a listing: quoted, so that no name forges output */
    return err_set(e, ERR_CORRUPT, "object %s is not a chunk name: %s", quote_name(shown, sizeof(shown), key),
                   why);
}

/* ------------------------------------------------------------------------
 * Prefixes and other names
 * ------------------------------------------------------------------------ */

int objname_instance_prefix(const char *instance, char *buf, size_t n)
{
    if (!objname_valid_instance(instance))
        return -1;
    return objname_fit(snprintf(buf, n, "%s/", instance), n);
}

int objname_generation_prefix(const char *instance, int64_t generation, char *buf, size_t n)
{
    if (!objname_valid_instance(instance) || generation < 1)
        return -1;
    return objname_fit(snprintf(buf, n, "%s/gen-%06" PRId64 "/", instance, generation), n);
}

int objname_index(const char *instance, char *buf, size_t n)
{
    if (!objname_valid_instance(instance))
        return -1;
    return objname_fit(snprintf(buf, n, "%s/index.db", instance), n);
}

/* ------------------------------------------------------------------------
 * Sealed names
 * ------------------------------------------------------------------------ */

#define OBJNAME_SEAL_SUFFIX ".enc"

int objname_seal(const char *name, const char *id, char *buf, size_t n)
{
    if (name[0] == '\0' || !objname_valid_key_id(id) || objname_unseal(name, NULL, 0, NULL))
        return -1;
    return objname_fit(snprintf(buf, n, "%s.%s" OBJNAME_SEAL_SUFFIX, name, id), n);
}

int objname_unseal(const char *key, char *plain, size_t pn, char id[OBJNAME_KEY_ID_MAX + 1])
{
    size_t len = strlen(key), slen = strlen(OBJNAME_SEAL_SUFFIX), idlen;
    const char *end, *dot;
    char tmp[OBJNAME_KEY_ID_MAX + 1];

    if (len <= slen || strcmp(key + len - slen, OBJNAME_SEAL_SUFFIX) != 0)
        return 0;
    end = key + len - slen;
    for (dot = end; dot > key && dot[-1] != '.' && dot[-1] != '/'; dot--)
        ;
    if (dot <= key + 1 || dot[-1] != '.' || dot[-2] == '/')
        return 0; /* no ".<id>" before ".enc", or nothing before it */
    idlen = (size_t)(end - dot);
    if (idlen == 0 || idlen > OBJNAME_KEY_ID_MAX)
        return 0;
    memcpy(tmp, dot, idlen);
    tmp[idlen] = '\0';
    if (!objname_valid_key_id(tmp))
        return 0;
    if (plain != NULL) {
        size_t plen = (size_t)(dot - 1 - key);

        if (plen < pn) {
            memcpy(plain, key, plen);
            plain[plen] = '\0';
        } else if (pn > 0) {
            plain[0] = '\0'; /* no room: no plain name, but sealed all the same */
        }
    }
    if (id != NULL)
        memcpy(id, tmp, idlen + 1);
    return 1;
}
