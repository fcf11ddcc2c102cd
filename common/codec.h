/* codec.h - a chunk's bytes as stored: one standalone gzip member.
 *
 * Encoding compresses the raw bytes into a complete gzip member (so that
 * `cat *.gz | gunzip` restores a file) and returns the CRC32 of the raw
 * bytes. Decoding inflates exactly one member and checks both gzip's own
 * trailer and the expected raw length and CRC32 from the index. */
#ifndef AOFROLL_CODEC_H
#define AOFROLL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

uint32_t codec_crc32(uint32_t crc, const void *data, size_t len); /* start with crc 0 */
/* Appends the gzip member to `out`. level: 0-9. */
int codec_encode(const void *raw, size_t len, int level, struct buf *out, uint32_t *crc, struct err *e);
/* Appends the raw bytes to `out`. `what` names the object in messages.
 * Fails (ERR_CORRUPT) on bad gzip, trailing garbage, wrong length or CRC. */
int codec_decode(const void *gz, size_t gzlen, uint64_t expect_len, uint32_t expect_crc,
                 const char *what, struct buf *out, struct err *e);

#endif
