/* codec.c - a chunk's bytes as stored: one standalone gzip member (see codec.h).
 *
 * Every chunk object is exactly one complete gzip member. Members
 * concatenate: gunzip of a generation's incr chunks, concatenated in name
 * order, gives the incr file back without aofroll. The CRC32 of the raw
 * bytes (the CRC-32 the gzip trailer holds) is what the index records for
 * each chunk.
 *
 * Encoding is libdeflate's whole-buffer gzip compressor: a chunk is a few
 * MiB held in memory, and on AOF text it is 2.7x faster than zlib's deflate
 * at level 1 with a slightly smaller output (the collector's CPU on the
 * Redis host is mostly this). The CRC32 is read back from the member's
 * trailer rather than computed again.
 *
 * Decoding is strict, because a chunk that does not decode to exactly the
 * bytes the index describes must never reach a restore. The fast path
 * hands the whole member to libdeflate, which inflates into a buffer of the
 * expected length and checks the trailer's CRC32 and length on the way
 * (1.5x zlib's inflate on AOF chunks, which is most of a restore's CPU);
 * the CRC32 compared with the index is then read from that checked
 * trailer. Anything the fast path does not accept whole - bad data,
 * trailing bytes, another length, another CRC32 - is decoded again by
 * zlib's streaming inflate, which is authoritative and says precisely what
 * is wrong. Every failure is ERR_CORRUPT with a message of the form
 * `chunk "WHAT": ...`, WHAT being the caller's name for the object (its
 * key). On failure `out` is left as it was on entry.
 *
 * zlib counts lengths in 32-bit uInt, so its input and output are fed in
 * slices of at most UINT_MAX. CRC32s are computed by libdeflate (the same
 * CRC-32 as zlib's and gzip's, faster). */
#include "codec.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

/* windowBits for inflateInit2: 32 KiB window, gzip wrapper. */
#define CODEC_GZIP_WINDOW (15 + 16)
/* A gzip member: 10-byte header, deflate data, CRC32 and ISIZE (4 each). */
#define CODEC_GZIP_MIN 18
/* deflate expands nothing more than 1032:1 (258-byte matches in ~2 bits). */
#define CODEC_MAX_RATIO 1032
/* Never reserve more than this up front on the word of the index alone: a
 * corrupt expected length must not become a huge allocation. */
#define CODEC_MAX_RESERVE ((size_t)1 << 30)

/* How much room to reserve for the rest of the output: what the index
 * still expects, but never more than the input left could inflate to, nor
 * CODEC_MAX_RESERVE. A bogus expected length (an index row built from a
 * hostile object name) costs no more memory than the member itself can. */
static size_t codec_room(uint64_t want, size_t in_left)
{
    uint64_t can = in_left > UINT64_MAX / CODEC_MAX_RATIO ? UINT64_MAX : (uint64_t)in_left * CODEC_MAX_RATIO;

    if (can < 64 * 1024)
        can = 64 * 1024; /* zlib wants some room even at the trailer */
    if (want > can)
        want = can;
    return want < CODEC_MAX_RESERVE ? (size_t)want : CODEC_MAX_RESERVE;
}

static uInt codec_slice(size_t n)
{
    return n > UINT_MAX ? UINT_MAX : (uInt)n;
}

void codec_sha256(const void *data, size_t len, unsigned char out[CODEC_SHA256_LEN])
{
    unsigned int mdlen = 0;

    /* EVP_Digest of SHA-256 fails only without memory; xalloc's policy is
     * to abort then too */
    if (EVP_Digest(data, len, out, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != CODEC_SHA256_LEN)
        abort();
}

void codec_sha256_hex(const unsigned char md[CODEC_SHA256_LEN], char hex[CODEC_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    int i;

    for (i = 0; i < CODEC_SHA256_LEN; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * CODEC_SHA256_LEN] = '\0';
}

int codec_check_digest(const void *gz, size_t gzlen, const unsigned char expect[CODEC_SHA256_LEN],
                       const char *what, struct err *e)
{
    unsigned char md[CODEC_SHA256_LEN];
    char have[CODEC_SHA256_HEX], want[CODEC_SHA256_HEX];

    codec_sha256(gz, gzlen, md);
    if (memcmp(md, expect, CODEC_SHA256_LEN) == 0)
        return 0;
    codec_sha256_hex(md, have);
    codec_sha256_hex(expect, want);
    return err_set(
        e, ERR_CORRUPT,
        "chunk \"%s\": the stored object's SHA-256 is %.16s..., the index records %.16s...: it is not the "
        "object that was archived",
        what, have, want);
}

uint32_t codec_crc32(uint32_t crc, const void *data, size_t len)
{
    if (len == 0)
        return crc;
    return libdeflate_crc32(crc, data, len);
}

static uint32_t codec_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int codec_encode(const void *raw, size_t len, int level, struct buf *out, uint32_t *crc, struct err *e)
{
    struct libdeflate_compressor *c;
    size_t bound, n;

    if (level < 0 || level > 9)
        return err_set(e, ERR_CONFIG, "invalid compression level %d: expected 0-9", level);
    c = libdeflate_alloc_compressor(level);
    if (c == NULL)
        return err_set(e, ERR_IO, "cannot start gzip compression: out of memory");
    bound = libdeflate_gzip_compress_bound(c, len);
    buf_reserve(out, bound);
    n = libdeflate_gzip_compress(c, raw, len, out->data + out->len, bound);
    libdeflate_free_compressor(c);
    if (n < CODEC_GZIP_MIN) { /* cannot happen with the bound's room */
        out->data[out->len] = '\0';
        return err_set(e, ERR_IO, "gzip compression of %zu bytes failed", len);
    }
    /* the member's trailer holds the CRC32 of the input: no second pass */
    *crc = codec_le32((const unsigned char *)out->data + out->len + n - 8);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* The fast path: 1 when the member decoded whole to exactly expect_len
 * bytes with expect_crc (appended to out), 0 when it did not (out as it
 * was). */
static int codec_decode_fast(const unsigned char *gz, size_t gzlen, uint64_t expect_len, uint32_t expect_crc,
                             struct buf *out)
{
    struct libdeflate_decompressor *d;
    enum libdeflate_result lr;
    size_t used = 0, produced = 0;

    /* only where the trailer agrees with the index, and never a length
     * deflate could not have produced from this input */
    if (gzlen < CODEC_GZIP_MIN || codec_le32(gz + gzlen - 8) != expect_crc ||
        codec_le32(gz + gzlen - 4) != (uint32_t)expect_len || expect_len / CODEC_MAX_RATIO > gzlen ||
        expect_len >= SIZE_MAX - out->len - 1)
        return 0;
    d = libdeflate_alloc_decompressor();
    if (d == NULL)
        return 0;
    buf_reserve(out, (size_t)expect_len);
    lr = libdeflate_gzip_decompress_ex(d, gz, gzlen, out->data + out->len, (size_t)expect_len, &used,
                                       &produced);
    libdeflate_free_decompressor(d);
    if (lr != LIBDEFLATE_SUCCESS || used != gzlen || produced != expect_len) {
        out->data[out->len] = '\0';
        return 0;
    }
    /* libdeflate checked the trailer's CRC32 and ISIZE against the output */
    out->len += produced;
    out->data[out->len] = '\0';
    return 1;
}

/* The authoritative path: zlib's streaming inflate, every failure named. */
static int codec_decode_zlib(const void *gz, size_t gzlen, uint64_t expect_len, uint32_t expect_crc,
                             const char *what, struct buf *out, struct err *e)
{
    unsigned char scratch[16 * 1024];
    z_stream zs;
    size_t orig_len = out->len;
    size_t fed = 0;
    uint64_t produced = 0;
    uint32_t crc;
    int zinit = 0;
    int rc = -1;
    int zrc;

    memset(&zs, 0, sizeof(zs));
    zrc = inflateInit2(&zs, CODEC_GZIP_WINDOW);
    if (zrc != Z_OK) {
        err_set(e, ERR_IO, "chunk \"%s\": cannot start gzip decompression: %s", what,
                zs.msg ? zs.msg : zError(zrc));
        goto out;
    }
    zinit = 1;
    if (expect_len > 0)
        buf_reserve(out, codec_room(expect_len, gzlen));
    for (;;) {
        size_t before;
        int into_out;

        if (zs.avail_in == 0 && fed < gzlen) {
            zs.next_in = (z_const Bytef *)gz + fed;
            zs.avail_in = codec_slice(gzlen - fed);
            fed += zs.avail_in;
        }
        /* Up to the expected length the bytes go into `out`; anything beyond
         * is only counted (in scratch), so that a wrong length is reported
         * with the real one without growing `out` without bound. */
        into_out = produced < expect_len;
        if (into_out) {
            uint64_t want = expect_len - produced;

            buf_reserve(out, codec_room(want, gzlen - fed + zs.avail_in));
            zs.next_out = (Bytef *)out->data + out->len;
            zs.avail_out = codec_slice(out->cap - out->len - 1);
        } else {
            zs.next_out = scratch;
            zs.avail_out = sizeof(scratch);
        }
        before = zs.avail_out;
        zrc = inflate(&zs, Z_NO_FLUSH);
        produced += before - zs.avail_out;
        if (into_out)
            out->len += before - zs.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_OK)
            continue;
        if (zrc == Z_BUF_ERROR && zs.avail_in == 0) {
            if (fed < gzlen)
                continue;
            err_set(e, ERR_CORRUPT, "chunk \"%s\": truncated gzip member: input ends after %zu bytes", what,
                    gzlen);
            goto out;
        }
        if (zrc == Z_MEM_ERROR) {
            err_set(e, ERR_IO, "chunk \"%s\": out of memory in gzip decompression", what);
            goto out;
        }
        err_set(e, ERR_CORRUPT, "chunk \"%s\": corrupt gzip member: %s", what, zs.msg ? zs.msg : zError(zrc));
        goto out;
    }
    if (zs.avail_in > 0 || fed < gzlen) {
        err_set(e, ERR_CORRUPT, "chunk \"%s\": %zu trailing bytes after the gzip member", what,
                (size_t)zs.avail_in + (gzlen - fed));
        goto out;
    }
    if (produced != expect_len) {
        err_set(e, ERR_CORRUPT, "chunk \"%s\": expected %" PRIu64 " raw bytes, got %" PRIu64, what,
                expect_len, produced);
        goto out;
    }
    /* For a gzip stream zlib keeps the CRC32 of the output in adler, already
     * checked against the member's trailer: no second pass over the data. */
    crc = (uint32_t)zs.adler;
    if (crc != expect_crc) {
        err_set(e, ERR_CORRUPT,
                "chunk \"%s\": CRC32 mismatch: index says 0x%08" PRIx32 ", data has 0x%08" PRIx32, what,
                expect_crc, crc);
        goto out;
    }
    rc = 0;
out:
    if (zinit)
        inflateEnd(&zs);
    if (out->data != NULL) {
        if (rc != 0)
            out->len = orig_len;
        out->data[out->len] = '\0';
    }
    return rc;
}

int codec_decode(const void *gz, size_t gzlen, uint64_t expect_len, uint32_t expect_crc, const char *what,
                 struct buf *out, struct err *e)
{
    if (codec_decode_fast(gz, gzlen, expect_len, expect_crc, out))
        return 0;
    return codec_decode_zlib(gz, gzlen, expect_len, expect_crc, what, out, e);
}
