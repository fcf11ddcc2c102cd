/* outdir.h - the directory a restore writes (DIR of --out, --from-dir),
 * and nothing outside it.
 *
 * DIR is opened once (struct outdir) and never through a symbolic link:
 * a DIR that is a symlink is refused. Every later step names a path
 * relative to that descriptor, and every component of such a path is
 * opened with O_NOFOLLOW, so no symlink planted in DIR (by whoever can
 * write there) can make a restore, or apply running as root, write,
 * truncate or remove anything outside DIR. Files are created with O_EXCL
 * (never truncated in place); a small file is replaced by writing a fresh
 * temp file beside it and renaming it over.
 *
 * A restore is built in DIR/.aofroll-restore-tmp and renamed into place
 * when complete (outdir_stage_*): a failed restore leaves DIR as it was.
 * With --force an earlier restore in DIR (one that has an
 * aofroll-restore.json) is moved aside while the new one is renamed in,
 * and removed only once the new one is in place; entries that aofroll did
 * not write are never replaced. outdir_in_use() refuses a DIR that a
 * running server uses.
 *
 * Files being written are buffered and start write-back as they go (so
 * that the final fsync has little left to wait for). */
#ifndef AOFROLL_REPLAY_OUTDIR_H
#define AOFROLL_REPLAY_OUTDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "buf.h"
#include "error.h"

#define OUTDIR_STAGE ".aofroll-restore-tmp"
#define OUTDIR_ASIDE ".aofroll-replaced"
#define OUTDIR_MARK "aofroll-restore.json" /* a DIR holding it was written by aofroll restore */
#define OUTDIR_AOF_DIR "appendonlydir"     /* the AOF directory a restore writes (appenddirname) */

struct outdir {
    int fd;      /* DIR, O_DIRECTORY|O_NOFOLLOW; -1 when closed */
    char *path;  /* as given, for messages */
    char *real;  /* absolute path of the directory opened (redis-server --dir, /proc) */
    int created; /* outdir_open made it */
};

#define OUTDIR_INIT                                                                                          \
    {                                                                                                        \
        -1, NULL, NULL, 0                                                                                    \
    }

/* Open DIR; with `create`, make it (one level) when absent. A symlink,
 * or a path that is not a directory, is refused (ERR_EXISTS). A missing
 * DIR without `create` is ERR_NOTFOUND. */
int outdir_open(struct outdir *d, const char *path, int create, struct err *e);
/* Close; with `remove_created`, remove DIR again if outdir_open made it
 * and it is empty. */
void outdir_close(struct outdir *d, int remove_created);

/* ------------------------------------------------------------------ */
/* Paths relative to DIR ("a/b": no "", ".", ".." component)           */
/* ------------------------------------------------------------------ */

/* lstat; ERR_NOTFOUND when absent. */
int outdir_lstat(const struct outdir *d, const char *rel, struct stat *st, struct err *e);
int outdir_mkdir(const struct outdir *d, const char *rel, struct err *e);
int outdir_rename(const struct outdir *d, const char *from, const char *to, struct err *e);
/* A hard link `to` of the file `from`; -1 (errno kept in e->sys) when refused. */
int outdir_link(const struct outdir *d, const char *from, const char *to, struct err *e);
/* fsync the directory rel ("." for DIR). */
int outdir_fsync(const struct outdir *d, const char *rel, struct err *e);
/* Remove rel and everything under it without following any symlink; a
 * missing rel is not an error. */
int outdir_remove_tree(const struct outdir *d, const char *rel, struct err *e);
/* Whole regular file into out (appended); ERR_NOTFOUND when absent. A
 * symlink is refused. */
int outdir_read_file(const struct outdir *d, const char *rel, struct buf *out, struct err *e);
/* The same for at most its first max bytes. */
int outdir_read_head(const struct outdir *d, const char *rel, size_t max, struct buf *out, struct err *e);
/* Replace rel atomically: a fresh temp file beside it, fsync, rename,
 * fsync the directory. */
int outdir_write_atomic(const struct outdir *d, const char *rel, const void *data, size_t len, struct err *e);
/* Open rel for appending (created 0644 when absent; a symlink refused). */
int outdir_open_append(const struct outdir *d, const char *rel, int *fd, struct err *e);
/* *empty = 1 when DIR has no entries. */
int outdir_is_empty(const struct outdir *d, int *empty, struct err *e);

/* A file being written: appends are buffered; write-back of what was
 * written starts every few MiB (sync_file_range); finish fsyncs. */
struct outdir_file {
    int fd;
    char *path; /* for messages */
    struct buf pending;
    uint64_t written;  /* bytes handed to the kernel */
    uint64_t flushing; /* write-back started up to here */
    double seconds;    /* spent in write, write-back and fsync */
};

#define OUTDIR_FILE_INIT                                                                                     \
    {                                                                                                        \
        -1, NULL, BUF_INIT, 0, 0, 0                                                                          \
    }

/* Create rel as a new file (O_EXCL: an existing entry is an error). */
int outdir_file_create(struct outdir_file *f, const struct outdir *d, const char *rel, struct err *e);
int outdir_file_append(struct outdir_file *f, const void *data, size_t len, struct err *e);
/* Write what is buffered, fsync and close. */
int outdir_file_finish(struct outdir_file *f, struct err *e);
/* Close without finishing (failure paths); safe after finish. */
void outdir_file_close(struct outdir_file *f);

/* write() all of data to fd; `path` names the file in messages. */
int outdir_write_all(int fd, const void *data, size_t len, const char *path, struct err *e);
/* Write a file anywhere (--svg FILE) atomically, the same way: a fresh
 * temp file in its directory, renamed over it. */
int outdir_write_atomic_path(const char *path, const void *data, size_t len, struct err *e);

/* ------------------------------------------------------------------ */
/* A restore, staged and renamed into place                             */
/* ------------------------------------------------------------------ */

/* Refuse (ERR_BUSY, naming the PID) a DIR that a running process uses:
 * DIR/redis.pid names a live process, or a process (other than this one
 * and the ones that started it) has its working directory or an open
 * file in DIR, as far as /proc lets us see. */
int outdir_in_use(const struct outdir *d, struct err *e);

/* Before writing: DIR must be empty, or with `force` hold nothing under
 * the names of `entries` (the top-level names the restore puts into DIR)
 * but an earlier restore's; then a fresh DIR/.aofroll-restore-tmp. */
int outdir_stage_begin(const struct outdir *d, int force, const char *const *entries, size_t n,
                       struct err *e);
/* The staged entries renamed into DIR (an earlier restore's moved aside
 * first and removed last; put back if the renames fail), durably. */
int outdir_stage_commit(const struct outdir *d, const char *const *entries, size_t n, struct err *e);
/* After a failure: the stage removed, DIR as it was. */
void outdir_stage_abandon(const struct outdir *d);

#endif
