/* crc64.h - the CRC-64 that Redis puts at the end of an RDB file.
 *
 * Redis (src/crc64.c) checksums RDB files (version 5 and later) with
 * CRC-64/Jones: polynomial 0xad93d23594c935a9, reflected in and out,
 * initial value 0, no final xor. Its check value is
 * crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca. No library the project
 * links provides this variant (zlib has CRC-32 only), so it lives here: a
 * byte-at-a-time table lookup, enough for files shipped at a throttled
 * rate. Used by rdbcheck.c. */
#ifndef AOFROLL_CRC64_H
#define AOFROLL_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continue `crc` (0 to start) over len bytes. */
uint64_t crc64(uint64_t crc, const void *data, size_t len);

/* The reflected polynomial the table is built from (for tests). */
#define CRC64_JONES_REFLECTED UINT64_C(0x95ac9329ac4bc9b5)

/* Entry i of the lookup table (for tests: they rebuild it bit by bit). */
uint64_t crc64_table_entry(unsigned i);

#endif
