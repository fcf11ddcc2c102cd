/* rdbcheck.h - is this byte stream one whole, intact RDB file?
 *
 * An RDB file (what BGSAVE writes) starts with "REDIS" and four ASCII
 * digits of format version, and ends with the EOF opcode 0xFF. From
 * version 5 on, eight more bytes follow: the CRC-64 (crc64.h) of every
 * byte before them, little-endian, or 0 when Redis ran with
 * `rdbchecksum no`. The checker is fed the file in order, in pieces of any
 * size (the chunks being shipped, or fetched back by a restore), with the
 * total size known up front, and judges once at the end. It keeps only the
 * header, the last nine bytes and the running CRC, so a file of any size
 * is checked in constant memory as a side effect of reading it once. */
#ifndef AOFROLL_RDBCHECK_H
#define AOFROLL_RDBCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define RDBCHECK_HEAD 9 /* "REDIS" + 4 version digits */
#define RDBCHECK_TAIL 9 /* EOF opcode + CRC-64 */

struct rdbcheck {
    uint64_t size; /* the whole file, as announced */
    uint64_t fed;  /* bytes fed so far */
    uint64_t crc;  /* CRC-64 of the bytes fed that precede the last 8 */
    unsigned char head[RDBCHECK_HEAD];
    unsigned char tail[RDBCHECK_TAIL]; /* the file's last bytes, right-aligned */
};

struct rdbcheck_result {
    int version;     /* RDB format version from the header */
    int checksummed; /* 1: the CRC-64 was verified; 0: the file carries none */
    uint64_t crc64;  /* the CRC-64 the file carries (0 when none) */
};

void rdbcheck_init(struct rdbcheck *c, uint64_t size);
/* Feed the next len bytes of the file. */
void rdbcheck_feed(struct rdbcheck *c, const void *data, size_t len);
/* Judge the whole file: 0 when it is a complete RDB file whose checksum
 * (when it has one) matches; -1 with ERR_CORRUPT naming `name` otherwise
 * (wrong length, no "REDIS" header, no EOF opcode, checksum mismatch). */
int rdbcheck_finish(const struct rdbcheck *c, const char *name, struct rdbcheck_result *r, struct err *e);

#endif
