/* bench_digest.c - what the chunks' SHA-256 costs, against the work each
 * chunk already costs.
 *
 *   bench_digest FILE [CHUNK_BYTES [RUNS]]
 *
 * Reads FILE (an AOF incr file; bench/digest.sh passes the one make-aof.sh
 * builds), cuts it into chunks of CHUNK_BYTES (4 MiB, the default
 * chunk_size) and, per run, times over all chunks in turn:
 *
 *   - encode:  codec_encode at level 1 (the collector's work per chunk);
 *   - digest:  codec_sha256 of each encoded object (what the collector now
 *              adds, and what every read adds to check it);
 *   - decode:  codec_decode of each object (a restore's work per chunk).
 *
 * Each figure is the best of RUNS (default 5). Prints the three times and
 * the ratios digest/encode (the collector's added CPU) and digest/decode
 * (a restore's added CPU), both measured in this run on the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "error.h"
#include "xalloc.h"

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_read(const char *path, struct buf *out)
{
    char block[1 << 16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        fprintf(stderr, "bench_digest: open \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = read(fd, block, sizeof(block))) > 0)
        buf_append(out, block, (size_t)n);
    close(fd);
    if (n < 0) {
        fprintf(stderr, "bench_digest: read \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct buf file = BUF_INIT, raw = BUF_INIT;
    struct buf *gz;
    unsigned char md[CODEC_SHA256_LEN];
    size_t chunk = 4u << 20, nchunks, i;
    uint32_t *crc;
    double best_enc = 1e30, best_dig = 1e30, best_dec = 1e30;
    int runs = 5, run, status = 1;
    struct err e;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: bench_digest FILE [CHUNK_BYTES [RUNS]]\n");
        return 2;
    }
    if (argc > 2)
        chunk = (size_t)strtoull(argv[2], NULL, 10);
    if (argc > 3)
        runs = atoi(argv[3]);
    if (chunk == 0 || runs < 1) {
        fprintf(stderr, "bench_digest: bad CHUNK_BYTES or RUNS\n");
        return 2;
    }
    if (bench_read(argv[1], &file) < 0 || file.len == 0)
        return 1;
    nchunks = (file.len + chunk - 1) / chunk;
    gz = xcalloc(nchunks, sizeof(*gz));
    crc = xcalloc(nchunks, sizeof(*crc));
    for (run = 0; run < runs; run++) {
        double t0 = bench_now(), t1, t2, t3;

        for (i = 0; i < nchunks; i++) {
            size_t len = i + 1 < nchunks ? chunk : file.len - i * chunk;

            buf_reset(&gz[i]);
            if (codec_encode(file.data + i * chunk, len, 1, &gz[i], &crc[i], &e) < 0) {
                fprintf(stderr, "bench_digest: %s\n", e.msg);
                goto out;
            }
        }
        t1 = bench_now();
        for (i = 0; i < nchunks; i++)
            codec_sha256(gz[i].data, gz[i].len, md);
        t2 = bench_now();
        for (i = 0; i < nchunks; i++) {
            size_t len = i + 1 < nchunks ? chunk : file.len - i * chunk;

            buf_reset(&raw);
            if (codec_decode(gz[i].data, gz[i].len, len, crc[i], "bench", &raw, &e) < 0) {
                fprintf(stderr, "bench_digest: %s\n", e.msg);
                goto out;
            }
        }
        t3 = bench_now();
        if (t1 - t0 < best_enc)
            best_enc = t1 - t0;
        if (t2 - t1 < best_dig)
            best_dig = t2 - t1;
        if (t3 - t2 < best_dec)
            best_dec = t3 - t2;
    }
    {
        size_t stored = 0;

        for (i = 0; i < nchunks; i++)
            stored += gz[i].len;
        printf("input %.1f MB in %zu chunks of %zu bytes, stored %.1f MB; best of %d runs\n",
               (double)file.len / 1e6, nchunks, chunk, (double)stored / 1e6, runs);
    }
    printf("encode (level 1) %.3f s, SHA-256 of the objects %.3f s, decode %.3f s\n", best_enc, best_dig,
           best_dec);
    printf("SHA-256 / encode: %.3f (the collector's added CPU per chunk)\n", best_dig / best_enc);
    printf("SHA-256 / decode: %.3f (a restore's added CPU per chunk)\n", best_dig / best_dec);
    status = 0;
out:
    for (i = 0; i < nchunks; i++)
        buf_free(&gz[i]);
    free(gz);
    free(crc);
    buf_free(&file);
    buf_free(&raw);
    return status;
}
