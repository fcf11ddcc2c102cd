/* fuzz.c - the helpers of fuzz.h, linked into every fuzz target. */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "oracle: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

char *fuzz_string(const uint8_t *data, size_t size)
{
    return xstrndup((const char *)data, size);
}

void fuzz_rng_seed(struct fuzz_rng *r, const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t i;

    for (i = 0; i < size; i++) {
        h ^= data[i];
        h *= UINT64_C(0x100000001b3);
    }
    r->s = h != 0 ? h : 1;
}

uint64_t fuzz_rng_next(struct fuzz_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(0x2545f4914f6cdd1d);
}

uint64_t fuzz_rng_below(struct fuzz_rng *r, uint64_t n)
{
    return n == 0 ? 0 : fuzz_rng_next(r) % n;
}

uint64_t fuzz_take(const uint8_t **data, size_t *size, size_t n)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < n && i < *size; i++)
        v |= (uint64_t)(*data)[i] << (8 * i);
    i = n < *size ? n : *size;
    *data += i;
    *size -= i;
    return v;
}
