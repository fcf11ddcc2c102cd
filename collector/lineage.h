/* lineage.h - a generation's files as the manifest names them, kept open
 * (lineage.c): the base and the incr files whose concatenation is the
 * logical incr stream. It calls nothing else of the collector. */
#ifndef AOFROLL_LINEAGE_H
#define AOFROLL_LINEAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct aof_file {
    char *name;    /* name inside the AOF directory */
    long long seq; /* manifest seq */
    int fd;        /* kept open: Redis may unlink the file after a rewrite */
    dev_t dev;
    ino_t ino;
    uint64_t size;  /* size at the last fstat */
    uint64_t start; /* logical offset of its first byte in the incr stream */
};

/* One generation as the manifest describes it: a base and the incr files
 * whose concatenation (in manifest order) is the generation's logical incr
 * stream. files[0..nconfirmed) are known to belong to this generation; the
 * files after them appeared with the same base while a rewrite may be
 * running, and wait until its outcome is known. */
struct lineage {
    struct aof_file base; /* fd -1 and name NULL when the manifest has no base */
    int base_present;
    struct aof_file *files;
    size_t nfiles, cap;
    size_t nconfirmed;
};

void lineage_init(struct lineage *l);
/* The base file's name, "" when the manifest has none. */
const char *lineage_base_name(const struct lineage *l);
void lineage_free(struct lineage *l);
/* Open `dir`/`name` read-only and fill f (name, seq, fd, dev, ino, size). */
int lineage_open_file(const char *dir, const char *name, long long seq, struct aof_file *f, struct err *e);
void lineage_close_file(struct aof_file *f);
/* Append an opened file (ownership moves to the lineage). */
void lineage_push(struct lineage *l, struct aof_file *f);
/* fstat every incr file again (sizes only; the caller judges shrinking). */
int lineage_refresh(struct lineage *l, struct err *e);
/* Recompute the logical start offsets of the confirmed files from their
 * sizes (every confirmed file but the last is final). */
void lineage_layout(struct lineage *l);
/* Logical size of the confirmed incr stream. */
uint64_t lineage_size(const struct lineage *l);
/* Index of the confirmed file holding logical offset `off` (the last one
 * when off == lineage_size()). */
size_t lineage_file_at(const struct lineage *l, uint64_t off);
/* Read [off, off+len) of the logical stream, which must lie in one file. */
int lineage_pread(const struct lineage *l, uint64_t off, void *buf, size_t len, struct err *e);
/* pread exactly len bytes of `fd` (named `name` in messages) at `off`;
 * a file that ends too early is ERR_CORRUPT. */
int lineage_read_fd(int fd, const char *name, uint64_t off, void *buf, size_t len, struct err *e);
/* Read [off, off+len) of the base file. */
int lineage_pread_base(const struct lineage *l, uint64_t off, void *buf, size_t len, struct err *e);
/* Index of the file named `name` with that inode, or -1. */
long lineage_find(const struct lineage *l, const char *name, dev_t dev, ino_t ino);
/* Time the generation's data starts: the birth time of its first incr
 * file when the filesystem records it, else the base file's mtime, else now. */
int64_t lineage_base_time(const struct lineage *l);

#endif
