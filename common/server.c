/* server.c - identify a Redis or Valkey server and what it reads (see
 * server.h).
 *
 * The RDB versions come from each release's src/rdb.h (RDB_VERSION): Redis
 * 5.0 to 6.2 write 9, 7.0 writes 10, 7.2 writes 11, 7.4 and the 8.0 milestones (7.9.x) write
 * 12; Valkey 7.2 and 8.0 write 11. A server refuses to load a file of a
 * higher version ("Can't handle RDB format version"), which is what
 * restore --start checks before it launches one. The matrix is the list of
 * servers the project's CI runs the compat scenarios against: Debian's
 * 7.0.15 and the tarballs scripts/servers.sh builds. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct server_rdb {
    enum server_engine engine;
    int major, minor;
    int rdb;
};

/* By engine, then release series, ascending. */
static const struct server_rdb server_rdbs[] = {
    {SERVER_REDIS, 5, 0, 9},   {SERVER_REDIS, 6, 0, 9},   {SERVER_REDIS, 6, 2, 9},  {SERVER_REDIS, 7, 0, 10},
    {SERVER_REDIS, 7, 2, 11},  {SERVER_REDIS, 7, 4, 12},  {SERVER_REDIS, 7, 9, 12}, {SERVER_REDIS, 8, 0, 12},
    {SERVER_VALKEY, 7, 2, 11}, {SERVER_VALKEY, 8, 0, 11},
};

struct server_tested_entry {
    enum server_engine engine;
    const char *version;
};

static const struct server_tested_entry server_matrix_entries[] = {
    {SERVER_REDIS, "7.0.15"},  {SERVER_REDIS, "7.2.6"},  {SERVER_REDIS, "7.4.1"},
    {SERVER_REDIS, "7.9.224"}, {SERVER_VALKEY, "8.0.1"},
};

#define SERVER_NENTRIES(a) (sizeof(a) / sizeof((a)[0]))

/* "7.4.1" (digits and dots; trailing text ignored) into id. */
static int server_set_version(struct server_id *id, enum server_engine engine, const char *v, size_t len)
{
    char *end;

    if (len == 0 || len >= sizeof(id->version) || v[0] < '0' || v[0] > '9')
        return -1;
    memcpy(id->version, v, len);
    id->version[len] = '\0';
    id->engine = engine;
    id->major = (int)strtol(id->version, &end, 10);
    id->minor = *end == '.' ? (int)strtol(end + 1, &end, 10) : 0;
    id->patch = *end == '.' ? (int)strtol(end + 1, &end, 10) : 0;
    return 0;
}

/* The value of "field:" in INFO text, or NULL; *vlen its length. */
static const char *server_info_value(const char *info, size_t len, const char *field, size_t *vlen)
{
    size_t flen = strlen(field);
    const char *p = info, *end = info + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;

        if ((size_t)(eol - p) > flen && memcmp(p, field, flen) == 0 && p[flen] == ':') {
            const char *v = p + flen + 1;

            *vlen = (size_t)(eol - v);
            if (*vlen > 0 && v[*vlen - 1] == '\r')
                (*vlen)--;
            return v;
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return NULL;
}

int server_from_info(const char *info, size_t len, struct server_id *id, struct err *e)
{
    const char *name, *v;
    size_t nlen = 0, vlen = 0;

    memset(id, 0, sizeof(*id));
    name = server_info_value(info, len, "server_name", &nlen);
    if (name != NULL && nlen == 6 && memcmp(name, "valkey", 6) == 0) {
        v = server_info_value(info, len, "valkey_version", &vlen);
        if (v != NULL && server_set_version(id, SERVER_VALKEY, v, vlen) == 0)
            return 0;
        return err_set(e, ERR_REDIS, "INFO server says server_name:valkey but has no valkey_version");
    }
    v = server_info_value(info, len, "redis_version", &vlen);
    if (v != NULL && server_set_version(id, SERVER_REDIS, v, vlen) == 0)
        return 0;
    return err_set(e, ERR_REDIS, "INFO server has no redis_version");
}

int server_from_version_line(const char *line, struct server_id *id, struct err *e)
{
    enum server_engine engine;
    const char *v;
    size_t len;

    memset(id, 0, sizeof(*id));
    if (strncmp(line, "Redis server v=", 15) == 0)
        engine = SERVER_REDIS;
    else if (strncmp(line, "Valkey server v=", 16) == 0)
        engine = SERVER_VALKEY;
    else
        return err_set(e, ERR_REDIS, "not a redis-server --version line: \"%.80s\"", line);
    v = strchr(line, '=') + 1;
    len = strspn(v, "0123456789.");
    if (server_set_version(id, engine, v, len) < 0)
        return err_set(e, ERR_REDIS, "no version in \"%.80s\"", line);
    return 0;
}

const char *server_describe(const struct server_id *id, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s%s", id->engine == SERVER_VALKEY ? "Valkey" : "Redis", id->version,
             id->engine == SERVER_REDIS && id->major == 7 && id->minor == 9 ? " (an 8.0 milestone)" : "");
    return buf;
}

int server_rdb_version(const struct server_id *id, int *exact)
{
    int rdb = -1;
    size_t i;

    *exact = 0;
    for (i = 0; i < SERVER_NENTRIES(server_rdbs); i++) {
        const struct server_rdb *r = &server_rdbs[i];

        if (r->engine != id->engine)
            continue;
        if (r->major == id->major && r->minor == id->minor) {
            *exact = 1;
            return r->rdb;
        }
        if (r->major < id->major || (r->major == id->major && r->minor < id->minor))
            rdb = r->rdb; /* the newest series below it, so far */
    }
    return rdb;
}

enum server_tested server_tested(const struct server_id *id, const char **tested)
{
    enum server_tested best = SERVER_UNTESTED;
    size_t i;

    *tested = NULL;
    for (i = 0; i < SERVER_NENTRIES(server_matrix_entries); i++) {
        const struct server_tested_entry *t = &server_matrix_entries[i];
        struct server_id tid;

        if (t->engine != id->engine)
            continue;
        server_set_version(&tid, t->engine, t->version, strlen(t->version));
        if (strcmp(t->version, id->version) == 0) {
            *tested = t->version;
            return SERVER_TESTED;
        }
        if (tid.major == id->major && tid.minor == id->minor) {
            *tested = t->version;
            best = SERVER_SAME_SERIES;
        }
    }
    return best;
}

const char *server_matrix(char *buf, size_t n)
{
    size_t i, used = 0;
    int engine = -1;

    buf[0] = '\0';
    for (i = 0; i < SERVER_NENTRIES(server_matrix_entries) && used < n; i++) {
        const struct server_tested_entry *t = &server_matrix_entries[i];
        struct server_id id;
        char one[64];

        server_set_version(&id, t->engine, t->version, strlen(t->version));
        server_describe(&id, one, sizeof(one));
        /* "Redis 7.0.15, 7.2.6; Valkey 8.0.1": the name once per engine */
        if ((int)t->engine == engine)
            used += (size_t)snprintf(buf + used, n - used, ", %s", strchr(one, ' ') + 1);
        else
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i > 0 ? "; " : "", one);
        engine = (int)t->engine;
    }
    return buf;
}

const char *server_verdict(const struct server_id *id, char *buf, size_t n)
{
    char who[64], matrix[256];
    const char *tested;

    server_describe(id, who, sizeof(who));
    switch (server_tested(id, &tested)) {
    case SERVER_TESTED:
        snprintf(buf, n, "%s, in the tested matrix", who);
        break;
    case SERVER_SAME_SERIES:
        snprintf(buf, n, "%s, not itself tested; %s of its series is", who, tested);
        break;
    default:
        snprintf(buf, n, "%s, not in the tested matrix (%s)", who, server_matrix(matrix, sizeof(matrix)));
        break;
    }
    return buf;
}

/* ------------------------------------------------------------------------
 * The RDB header: "REDIS" + 4 digits, then AUX fields (opcode 0xFA, two
 * strings) before anything else. A string is a length (6, 14, 32 or 64
 * bits, by the top two bits of its first byte) and that many bytes, or an
 * integer (8, 16, 32 bits) or an LZF-compressed blob.
 * ------------------------------------------------------------------------ */

#define RDB_OPCODE_AUX 0xfa

struct rdb_reader {
    const unsigned char *p, *end;
};

/* A length (rdbLoadLen): *enc is -1 for a length, else the string
 * encoding the top bits announce (an integer or LZF). -1 when the bytes
 * end first. */
static int rdb_len(struct rdb_reader *r, unsigned long long *len, int *enc)
{
    int type, i, nbytes;

    if (r->p >= r->end)
        return -1;
    type = r->p[0] >> 6;
    *enc = -1;
    if (type == 0) {
        *len = r->p[0] & 0x3f;
        r->p++;
    } else if (type == 1) {
        if (r->end - r->p < 2)
            return -1;
        *len = (unsigned long long)(r->p[0] & 0x3f) << 8 | r->p[1];
        r->p += 2;
    } else if (type == 2) {
        nbytes = r->p[0] == 0x80 ? 4 : r->p[0] == 0x81 ? 8 : 0;
        if (nbytes == 0 || r->end - r->p < 1 + nbytes)
            return -1;
        *len = 0;
        for (i = 1; i <= nbytes; i++)
            *len = *len << 8 | r->p[i];
        r->p += 1 + nbytes;
    } else {
        *enc = r->p[0] & 0x3f;
        *len = 0;
        r->p++;
    }
    return 0;
}

/* Skip n bytes; -1 when there are fewer. */
static int rdb_skip(struct rdb_reader *r, unsigned long long n)
{
    if ((unsigned long long)(r->end - r->p) < n)
        return -1;
    r->p += n;
    return 0;
}

/* One string: *s and *slen for a plain one, *s NULL for an encoded one
 * (an integer of 1, 2 or 4 bytes, or an LZF blob: compressed length,
 * uncompressed length, the compressed bytes). -1 when the bytes end first
 * or the encoding is unknown. */
static int rdb_string(struct rdb_reader *r, const unsigned char **s, unsigned long long *slen)
{
    unsigned long long len, ulen;
    int enc, ignored;

    *s = NULL;
    *slen = 0;
    if (rdb_len(r, &len, &enc) < 0)
        return -1;
    if (enc == -1) {
        *s = r->p;
        *slen = len;
        return rdb_skip(r, len);
    }
    if (enc <= 2)
        return rdb_skip(r, 1ULL << enc);
    if (enc != 3 || rdb_len(r, &len, &ignored) < 0 || rdb_len(r, &ulen, &ignored) < 0)
        return -1;
    return rdb_skip(r, len);
}

int server_rdb_header(const void *data, size_t len, int *rdb_version, char *writer, size_t n, struct err *e)
{
    struct rdb_reader r = {data, (const unsigned char *)data + len};
    int i;

    writer[0] = '\0';
    if (len < 9 || memcmp(data, "REDIS", 5) != 0)
        return err_set(e, ERR_CORRUPT, "not an RDB file: it does not start with \"REDIS\"");
    *rdb_version = 0;
    for (i = 5; i < 9; i++) {
        if (r.p[i] < '0' || r.p[i] > '9')
            return err_set(e, ERR_CORRUPT, "not an RDB file: no version after \"REDIS\"");
        *rdb_version = *rdb_version * 10 + (r.p[i] - '0');
    }
    r.p += 9;
    while (r.p < r.end && r.p[0] == RDB_OPCODE_AUX) {
        const unsigned char *k, *v;
        unsigned long long klen, vlen;

        r.p++;
        if (rdb_string(&r, &k, &klen) < 0 || rdb_string(&r, &v, &vlen) < 0)
            break;
        if (k == NULL || v == NULL || vlen > 32)
            continue;
        if (klen == 9 && memcmp(k, "redis-ver", 9) == 0)
            snprintf(writer, n, "Redis %.*s", (int)vlen, (const char *)v);
        else if (klen == 10 && memcmp(k, "valkey-ver", 10) == 0)
            snprintf(writer, n, "Valkey %.*s", (int)vlen, (const char *)v);
        else
            continue;
        break;
    }
    return 0;
}
