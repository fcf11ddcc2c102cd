/* codec.h - a chunk's bytes as stored: one standalone gzip member.
 *
 * Encoding compresses the raw bytes into a complete gzip member (so that
 * `cat *.gz | gunzip` restores a file) and returns the CRC32 of the raw
 * bytes. Decoding inflates exactly one member and checks both gzip's own
 * trailer and the expected raw length and CRC32 from the index.
 *
 * The CRC32 is no defence against whoever can write to the storage (a
 * forged member carries a CRC32 of its own). The index records, beside
 * it, the SHA-256 of every chunk's gzip member (the stored object, or the
 * plaintext of a sealed one: docs/encryption.md); codec_check_digest
 * checks a member against it before it is decoded. */
#ifndef AOFROLL_CODEC_H
#define AOFROLL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

uint32_t codec_crc32(uint32_t crc, const void *data, size_t len); /* start with crc 0 */
/* Appends the gzip member to `out`. level: 0-9. */
int codec_encode(const void *raw, size_t len, int level, struct buf *out, uint32_t *crc, struct err *e);
#define CODEC_SHA256_LEN 32
#define CODEC_SHA256_HEX (2 * CODEC_SHA256_LEN + 1)

/* SHA-256 of data (libcrypto). */
void codec_sha256(const void *data, size_t len, unsigned char out[CODEC_SHA256_LEN]);
/* 64 lower-case hex digits. */
void codec_sha256_hex(const unsigned char md[CODEC_SHA256_LEN], char hex[CODEC_SHA256_HEX]);
/* ERR_CORRUPT ("chunk \"WHAT\": its SHA-256 is X, the index records Y")
 * unless the SHA-256 of the stored object gz is `expect`. */
int codec_check_digest(const void *gz, size_t gzlen, const unsigned char expect[CODEC_SHA256_LEN],
                       const char *what, struct err *e);
/* Appends the raw bytes to `out`. `what` names the object in messages.
 * Fails (ERR_CORRUPT) on bad gzip, trailing garbage, wrong length or CRC. */
int codec_decode(const void *gz, size_t gzlen, uint64_t expect_len, uint32_t expect_crc, const char *what,
                 struct buf *out, struct err *e);

#endif
