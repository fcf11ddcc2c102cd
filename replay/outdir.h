/* outdir.h - file-system steps of writing a restore directory: a buffered
 * file writer that starts write-back as it goes (so that the final fsync
 * has little left to wait for), fsync of directories, atomic replacement
 * of a small file, emptiness checks and removal of a scratch tree. */
#ifndef AOFROLL_REPLAY_OUTDIR_H
#define AOFROLL_REPLAY_OUTDIR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* A file being written: appends are buffered; write-back of what was
 * written starts every few MiB (sync_file_range); finish fsyncs. */
struct outdir_file {
    int fd;
    char *path;
    struct buf pending;
    uint64_t written;  /* bytes handed to the kernel */
    uint64_t flushing; /* write-back started up to here */
    double seconds;    /* spent in write, write-back and fsync */
};

#define OUTDIR_FILE_INIT                                                                                     \
    {                                                                                                        \
        -1, NULL, BUF_INIT, 0, 0, 0                                                                          \
    }

int outdir_file_create(struct outdir_file *f, const char *path, struct err *e);
int outdir_file_append(struct outdir_file *f, const void *data, size_t len, struct err *e);
/* Write what is buffered, fsync and close. */
int outdir_file_finish(struct outdir_file *f, struct err *e);
/* Close without finishing (failure paths); safe after finish. */
void outdir_file_close(struct outdir_file *f);

/* write() all of data to fd; `path` names the file in messages. */
int outdir_write_all(int fd, const void *data, size_t len, const char *path, struct err *e);
int outdir_fsync_dir(const char *path, struct err *e);
/* Write path atomically: "path.tmp", fsync, rename, fsync the directory. */
int outdir_write_atomic(const char *path, const void *data, size_t len, struct err *e);
/* Whole file into out (appended). ERR_NOTFOUND when it does not exist. */
int outdir_read_file(const char *path, struct buf *out, struct err *e);
/* *empty = 1 when path is a directory with no entries, or does not exist
 * (*exists tells which). ERR_EXISTS when path is not a directory. */
int outdir_check(const char *path, int *exists, int *empty, struct err *e);
/* Remove path and everything under it; a missing path is not an error. */
int outdir_remove_tree(const char *path, struct err *e);

#endif
