/* rdbcheck.c - verify an RDB file's header, EOF opcode and CRC-64 while
 * it is read once, in order (see rdbcheck.h).
 *
 * The CRC covers bytes [0, size - 8) for a file of version 5 or later; the
 * checker does not know the version until the header has arrived, so it
 * always runs the CRC over [0, size - 8) and only judges it for versions
 * that carry one. Offsets below are file offsets: a piece fed at offset
 * `fed` covers [fed, fed + len). */
#include "rdbcheck.h"

#include <string.h>

#include "crc64.h"

#define RDB_OPCODE_EOF 0xff
#define RDB_FIRST_CHECKSUMMED_VERSION 5

void rdbcheck_init(struct rdbcheck *c, uint64_t size)
{
    memset(c, 0, sizeof(*c));
    c->size = size;
}

/* Copy the part of [off, off + len) that falls in [lo, lo + n) to dst. */
static void copy_window(unsigned char *dst, uint64_t lo, uint64_t n, const unsigned char *p, uint64_t off,
                        uint64_t len)
{
    uint64_t from = off > lo ? off : lo;
    uint64_t to = off + len < lo + n ? off + len : lo + n;

    if (from < to)
        memcpy(dst + (from - lo), p + (from - off), (size_t)(to - from));
}

void rdbcheck_feed(struct rdbcheck *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t crc_end = c->size >= 8 ? c->size - 8 : 0;
    uint64_t tail_lo = c->size >= RDBCHECK_TAIL ? c->size - RDBCHECK_TAIL : 0;
    uint64_t tail_n = c->size - tail_lo;

    copy_window(c->head, 0, RDBCHECK_HEAD, p, c->fed, len);
    copy_window(c->tail + (RDBCHECK_TAIL - tail_n), tail_lo, tail_n, p, c->fed, len);
    if (c->fed < crc_end) {
        uint64_t n = crc_end - c->fed < len ? crc_end - c->fed : len;

        c->crc = crc64(c->crc, p, (size_t)n);
    }
    c->fed += len;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int rdbcheck_finish(const struct rdbcheck *c, const char *name, struct rdbcheck_result *r, struct err *e)
{
    int version = 0;

    memset(r, 0, sizeof(*r));
    if (c->fed != c->size)
        return err_set(e, ERR_CORRUPT, "rdb file \"%s\": %llu bytes read, %llu expected", name,
                       (unsigned long long)c->fed, (unsigned long long)c->size);
    if (c->size < RDBCHECK_HEAD + 1)
        return err_set(e, ERR_CORRUPT, "\"%s\" is too short for an rdb file (%llu bytes)", name,
                       (unsigned long long)c->size);
    if (memcmp(c->head, "REDIS", 5) != 0)
        return err_set(e, ERR_CORRUPT, "\"%s\" is not an rdb file: it does not start with \"REDIS\"", name);
    for (int i = 5; i < RDBCHECK_HEAD; i++) {
        if (c->head[i] < '0' || c->head[i] > '9')
            return err_set(e, ERR_CORRUPT, "\"%s\" is not an rdb file: no version after \"REDIS\"", name);
        version = version * 10 + (c->head[i] - '0');
    }
    r->version = version;
    if (version < RDB_FIRST_CHECKSUMMED_VERSION) {
        if (c->tail[RDBCHECK_TAIL - 1] != RDB_OPCODE_EOF)
            return err_set(e, ERR_CORRUPT,
                           "rdb file \"%s\" (version %d) does not end with the EOF opcode: it is truncated",
                           name, version);
        return 0;
    }
    if (c->size < RDBCHECK_HEAD + RDBCHECK_TAIL || c->tail[0] != RDB_OPCODE_EOF)
        return err_set(
            e, ERR_CORRUPT,
            "rdb file \"%s\" (version %d) has no EOF opcode 9 bytes before its end (offset %llu): it "
            "is truncated",
            name, version, (unsigned long long)(c->size >= RDBCHECK_TAIL ? c->size - RDBCHECK_TAIL : 0));
    r->crc64 = le64(c->tail + 1);
    if (r->crc64 == 0)
        return 0; /* saved with rdbchecksum no */
    if (r->crc64 != c->crc)
        return err_set(e, ERR_CORRUPT,
                       "rdb file \"%s\": checksum mismatch: the file says %016llx, its bytes give %016llx",
                       name, (unsigned long long)r->crc64, (unsigned long long)c->crc);
    r->checksummed = 1;
    return 0;
}
