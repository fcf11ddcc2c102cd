/* fuzz.h - what the fuzz targets in tests/fuzz share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput() for one parser of
 * outside input. Built with clang and -fsanitize=fuzzer (AOFROLL_FUZZ=ON)
 * it is a libFuzzer target (scripts/fuzz.sh); built with replay_main.c
 * by any compiler it runs every file of its corpus once, which is how the
 * seeds and the reproducers of past findings run in the ordinary test
 * suite. A target checks its oracle (round trips, whole-versus-split
 * agreement) with fuzz_check(), which aborts with a message: libFuzzer
 * then keeps the input as a crash reproducer. */
#ifndef AOFROLL_FUZZ_H
#define AOFROLL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: run once before the first input (libFuzzer's hook). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with "oracle: MESSAGE" on stderr unless `ok`. */
#define fuzz_check(ok, ...) ((ok) ? (void)0 : fuzz_fail(__FILE__, __LINE__, __VA_ARGS__))
void fuzz_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
__attribute__((noreturn));

/* The input as a NUL-terminated string (cut at its first NUL); free() it. */
char *fuzz_string(const uint8_t *data, size_t size);

/* A small deterministic generator seeded from the input itself, so that a
 * reproducer replays exactly (FNV-1a of the bytes, then xorshift64*). */
struct fuzz_rng {
    uint64_t s;
};
void fuzz_rng_seed(struct fuzz_rng *r, const uint8_t *data, size_t size);
uint64_t fuzz_rng_next(struct fuzz_rng *r);
/* A value in [0, n); 0 when n is 0. */
uint64_t fuzz_rng_below(struct fuzz_rng *r, uint64_t n);

/* Take the first n bytes of the input as a little-endian number (fewer if
 * the input is shorter); advances *data and *size. */
uint64_t fuzz_take(const uint8_t **data, size_t *size, size_t n);

#endif
