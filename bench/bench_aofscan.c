/* bench_aofscan.c - throughput of the AOF scanner (common/aofscan.c).
 *
 * Maps an AOF file (or the current incr file of an AOF directory, found
 * through its manifest), faults it in, and scans it from memory in slices
 * (4 MiB by default, as replay feeds decompressed chunks), counting
 * commands, annotations and transactions. Prints each run and the best of
 * them; the last line is machine-readable for bench/scanner.sh:
 *
 *   result bytes=N commands=N seconds=S gbps=G
 *
 * With --read the file is read with pread() into one slice-sized buffer
 * instead, so the copy out of the page cache is counted too. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aofscan.h"
#include "error.h"
#include "manifest.h"
#include "xalloc.h"

struct counts {
    uint64_t commands;
    uint64_t annotations;
    uint64_t transactions;
};

struct options {
    const char *path;
    int runs;
    size_t slice;
    int use_read;
};

static int count_command(void *ud, const struct aofscan_command *cmd)
{
    struct counts *c = ud;

    c->commands++;
    if (cmd->kind == AOFSCAN_CMD_MULTI)
        c->transactions++;
    return 0;
}

static int count_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct counts *c = ud;

    (void)ts;
    (void)start;
    (void)end;
    c->annotations++;
    return 0;
}

static const struct aofscan_callbacks bench_callbacks = {count_command, count_timestamp};

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* When `path` is a directory, the current incr file of its manifest. */
static int resolve_path(const char *path, char **file, struct err *e)
{
    struct manifest m = {NULL, 0};
    const struct manifest_file *incr;
    char *manifest_path = NULL;
    struct stat st;
    int rc = -1;

    if (stat(path, &st) < 0) {
        err_sys(e, errno, "cannot stat \"%s\"", path);
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        *file = xstrdup(path);
        rc = 0;
        goto out;
    }
    manifest_path = xasprintf("%s/appendonly.aof.manifest", path);
    if (manifest_load(manifest_path, &m, e) < 0)
        goto out;
    incr = manifest_current_incr(&m);
    if (incr == NULL) {
        err_set(e, ERR_NOTFOUND, "no incr file in \"%s\"", manifest_path);
        goto out;
    }
    *file = xasprintf("%s/%s", path, incr->name);
    rc = 0;
out:
    manifest_free(&m);
    free(manifest_path);
    return rc;
}

/* One scan of the whole file; fills *c and *seconds. */
static int scan_once(const struct options *o, int fd, const char *map, size_t size, char *buf,
                     struct counts *c, double *seconds, struct err *e)
{
    struct aofscan s;
    size_t off = 0;
    double t0;

    memset(c, 0, sizeof(*c));
    aofscan_init(&s, 0, &bench_callbacks, c);
    t0 = now_seconds();
    while (off < size) {
        size_t len = size - off < o->slice ? size - off : o->slice;
        const char *p;

        if (o->use_read) {
            ssize_t n = pread(fd, buf, len, (off_t)off);

            if (n <= 0)
                return err_sys(e, n < 0 ? errno : EIO, "cannot read \"%s\" at %zu", o->path, off);
            len = (size_t)n;
            p = buf;
        } else {
            p = map + off;
        }
        if (aofscan_feed(&s, p, len, NULL, e) < 0)
            return -1;
        off += len;
    }
    *seconds = now_seconds() - t0;
    if (aofscan_where(&s) != AOFSCAN_BETWEEN)
        fprintf(stderr, "note: the file ends %s (safe offset %" PRIu64 ")\n",
                aofscan_where(&s) == AOFSCAN_IN_TXN ? "inside a transaction" : "inside a command",
                aofscan_safe_offset(&s));
    return 0;
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s FILE|AOFDIR [--runs N] [--slice BYTES] [--read]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    struct options o = {NULL, 3, (size_t)4 << 20, 0};
    struct counts c;
    struct err e;
    struct stat st;
    char *file = NULL;
    char *map = MAP_FAILED;
    char *buf = NULL;
    double best = 0;
    int fd = -1;
    int status = 1;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            o.runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--slice") == 0 && i + 1 < argc)
            o.slice = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--read") == 0)
            o.use_read = 1;
        else if (argv[i][0] != '-' && o.path == NULL)
            o.path = argv[i];
        else
            return usage(argv[0]);
    }
    if (o.path == NULL || o.runs < 1 || o.slice == 0)
        return usage(argv[0]);

    err_clear(&e);
    if (resolve_path(o.path, &file, &e) < 0)
        goto out;
    o.path = file;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        err_sys(&e, errno, "cannot open \"%s\"", file);
        goto out;
    }
    if (st.st_size == 0) {
        err_set(&e, ERR_CORRUPT, "\"%s\" is empty", file);
        goto out;
    }
    if (o.use_read) {
        buf = xmalloc(o.slice);
    } else {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map == MAP_FAILED) {
            err_sys(&e, errno, "cannot map \"%s\"", file);
            goto out;
        }
        madvise(map, (size_t)st.st_size, MADV_SEQUENTIAL);
    }

    printf("file %s: %jd bytes, slices of %zu bytes, %s\n", file, (intmax_t)st.st_size, o.slice,
           o.use_read ? "pread" : "mmap");
    for (i = 0; i < o.runs; i++) {
        double seconds = 0;

        if (scan_once(&o, fd, map, (size_t)st.st_size, buf, &c, &seconds, &e) < 0)
            goto out;
        printf("run %d: %.3f s, %.2f GB/s\n", i + 1, seconds, (double)st.st_size / seconds / 1e9);
        if (i == 0 || seconds < best)
            best = seconds;
    }
    printf("%" PRIu64 " commands, %" PRIu64 " #TS annotations, %" PRIu64 " transactions\n", c.commands,
           c.annotations, c.transactions);
    printf("best of %d: %.3f s, %.2f GB/s, %.1f M commands/s\n", o.runs, best,
           (double)st.st_size / best / 1e9, (double)c.commands / best / 1e6);
    printf("result bytes=%jd commands=%" PRIu64 " seconds=%.4f gbps=%.3f\n", (intmax_t)st.st_size, c.commands,
           best, (double)st.st_size / best / 1e9);
    status = 0;
out:
    if (status != 0)
        fprintf(stderr, "bench_aofscan: %s\n", e.msg);
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (fd >= 0)
        close(fd);
    free(buf);
    free(file);
    return status;
}
