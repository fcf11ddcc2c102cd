/* fuzz_codec.c - libFuzzer target for chunk decoding (common/codec.c):
 * the gzip member of an object from storage, checked against the length
 * and CRC32 the index holds.
 *
 * The input's first 9 bytes are the expected length (4 bytes; below 1 MiB
 * unless bit 6 of the ninth is set), the expected CRC32 (4) and flags: bit
 * 0 takes the CRC32 and bit 7 the length from the member's own trailer
 * instead, bits 1-5 give a compression level. The rest is the gzip member. Decoding must never crash and,
 * into a buffer that already holds bytes, either append exactly the expected length with that CRC32 or fail
 * with ERR_CORRUPT leaving the buffer as it was. The rest is also encoded at the level and must decode to
 * itself. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "fuzz.h"

#define PREFIX "kept"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t expect_len;
    uint32_t expect_crc;
    struct buf out = BUF_INIT, gz = BUF_INIT;
    struct err e;
    int level, flags, rc;
    uint32_t crc;

    expect_len = fuzz_take(&data, &size, 4);
    expect_crc = (uint32_t)fuzz_take(&data, &size, 4);
    flags = (int)fuzz_take(&data, &size, 1);
    level = (flags >> 1) % 10;
    if ((flags & 0x40) == 0)
        expect_len %= 1u << 20;
    if ((flags & 0x01) && size >= 8)
        expect_crc = (uint32_t)data[size - 8] | (uint32_t)data[size - 7] << 8 |
                     (uint32_t)data[size - 6] << 16 | (uint32_t)data[size - 5] << 24;
    if ((flags & 0x80) && size >= 4)
        expect_len = (uint64_t)data[size - 4] | (uint64_t)data[size - 3] << 8 |
                     (uint64_t)data[size - 2] << 16 | (uint64_t)data[size - 1] << 24;

    buf_appendstr(&out, PREFIX);
    err_clear(&e);
    rc = codec_decode(data, size, expect_len, expect_crc, "fuzz", &out, &e);
    if (rc == 0) {
        fuzz_check(out.len == strlen(PREFIX) + expect_len, "decoded %zu bytes, expected %llu",
                   out.len - strlen(PREFIX), (unsigned long long)expect_len);
        fuzz_check(codec_crc32(0, out.data + strlen(PREFIX), (size_t)expect_len) == expect_crc,
                   "CRC32 differs");
    } else {
        fuzz_check(e.code == ERR_CORRUPT || e.code == ERR_IO, "code %d: %s", e.code, e.msg);
        fuzz_check(strstr(e.msg, "chunk \"fuzz\"") != NULL, "message does not name the chunk: %s", e.msg);
    }
    fuzz_check(memcmp(out.data, PREFIX, strlen(PREFIX)) == 0, "the bytes before were changed");
    if (rc != 0)
        fuzz_check(out.len == strlen(PREFIX), "a failed decode left %zu bytes", out.len - strlen(PREFIX));

    /* encode -> decode is the identity */
    err_clear(&e);
    if (codec_encode(data, size, level, &gz, &crc, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "encode failed: %s", e.msg);
    fuzz_check(crc == codec_crc32(0, data, size), "encode's CRC32 is wrong");
    buf_reset(&out);
    if (codec_decode(gz.data, gz.len, size, crc, "fuzz", &out, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "what encode wrote does not decode: %s", e.msg);
    fuzz_check(out.len == size && (size == 0 || memcmp(out.data, data, size) == 0),
               "round trip changed the bytes");
    buf_free(&out);
    buf_free(&gz);
    return 0;
}
