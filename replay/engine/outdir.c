/* outdir.c - the directory a restore writes, and nothing outside it. See
 * outdir.h.
 *
 * Sections: opening DIR, paths beneath it (every component opened with
 * O_NOFOLLOW from DIR's descriptor), files being written, staging a
 * restore (begin, commit with the earlier restore set aside, abandon),
 * and the in-use check (DIR/redis.pid, /proc). */
#include "outdir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"
#include "xalloc.h"

#define OUTDIR_BUFFER (1u << 20)    /* appends smaller than this are gathered */
#define OUTDIR_WRITEBACK (8u << 20) /* start write-back every this many bytes */
#define OUTDIR_PIDFILE "redis.pid"

/* The top-level names an aofroll restore writes; with aofroll-restore.json
 * present they are an earlier restore's, to be replaced by --force. */
static const char *const outdir_owned[] = {OUTDIR_AOF_DIR, "dump.rdb", OUTDIR_MARK};
#define OUTDIR_NOWNED (sizeof(outdir_owned) / sizeof(outdir_owned[0]))

/* ------------------------------------------------------------------ */
/* Opening DIR                                                          */
/* ------------------------------------------------------------------ */

/* The absolute path of an open directory, from /proc/self/fd. */
static char *outdir_fd_path(int fd, const char *fallback)
{
    char link[64], target[PATH_MAX];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return xstrdup(fallback);
    target[n] = '\0';
    return xstrdup(target);
}

int outdir_open(struct outdir *d, const char *path, int create, struct err *e)
{
    struct stat st;

    d->fd = -1;
    d->path = xstrdup(path);
    d->real = NULL;
    d->created = 0;
    if (lstat(path, &st) < 0) {
        if (errno != ENOENT)
            return err_sys(e, errno, "stat \"%s\"", path);
        if (!create)
            return err_set(e, ERR_NOTFOUND, "\"%s\" does not exist", path);
        if (mkdir(path, 0755) < 0)
            return err_sys(e, errno, "create output directory \"%s\"", path);
        d->created = 1;
    } else if (S_ISLNK(st.st_mode)) {
        return err_set(e, ERR_EXISTS,
                       "\"%s\" is a symbolic link: aofroll writes only into a real directory HINT: give the "
                       "directory it points to",
                       path);
    } else if (!S_ISDIR(st.st_mode)) {
        return err_set(e, ERR_EXISTS, "\"%s\" exists and is not a directory", path);
    }
    d->fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (d->fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR)
            return err_set(e, ERR_EXISTS, "\"%s\" changed into something other than a directory", path);
        return err_sys(e, errno, "open directory \"%s\"", path);
    }
    d->real = outdir_fd_path(d->fd, path);
    return 0;
}

void outdir_close(struct outdir *d, int remove_created)
{
    if (d->fd >= 0)
        close(d->fd);
    if (remove_created && d->created && d->path != NULL)
        rmdir(d->path);
    d->fd = -1;
    free(d->path);
    free(d->real);
    d->path = d->real = NULL;
    d->created = 0;
}

/* ------------------------------------------------------------------ */
/* Paths beneath DIR                                                    */
/* ------------------------------------------------------------------ */

/* "DIR/rel" for messages; caller frees. */
static char *outdir_show(const struct outdir *d, const char *rel)
{
    return strcmp(rel, ".") == 0 ? xstrdup(d->path) : xasprintf("%s/%s", d->path, rel);
}

/* The directory holding rel, opened component by component without
 * following a symlink (*pfd, to close; -1 and DIR itself stay shared when
 * rel has no '/': then *pfd is d->fd and *own 0), and rel's last component. */
static int outdir_parent(const struct outdir *d, const char *rel, int *pfd, int *own, const char **base,
                         struct err *e)
{
    const char *p = rel, *slash;
    int fd = d->fd, owned = 0;

    *pfd = -1;
    *own = 0;
    for (;;) {
        size_t len;
        char comp[NAME_MAX + 1];
        int next;

        slash = strchr(p, '/');
        len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len > NAME_MAX || (len == 1 && p[0] == '.' && slash != NULL) ||
            (len == 2 && p[0] == '.' && p[1] == '.')) {
            if (owned)
                close(fd);
            return err_set(e, ERR_CORRUPT, "bad path \"%s\" under \"%s\"", rel, d->path);
        }
        if (slash == NULL)
            break;
        memcpy(comp, p, len);
        comp[len] = '\0';
        next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            int errnum = errno;
            char *shown = xasprintf("%s/%.*s", d->path, (int)(slash - rel), rel);

            if (owned)
                close(fd);
            if (errnum == ELOOP || errnum == ENOTDIR)
                err_set(e, ERR_EXISTS, "\"%s\" is not a directory (a symbolic link is not followed)", shown);
            else
                err_sys(e, errnum, "open directory \"%s\"", shown);
            free(shown);
            return -1;
        }
        if (owned)
            close(fd);
        fd = next;
        owned = 1;
        p = slash + 1;
    }
    *pfd = fd;
    *own = owned;
    *base = p;
    return 0;
}

static void outdir_parent_close(int pfd, int own)
{
    if (own && pfd >= 0)
        close(pfd);
}

int outdir_lstat(const struct outdir *d, const char *rel, struct stat *st, struct err *e)
{
    const char *base;
    int pfd, own, ret = 0;

    if (strcmp(rel, ".") == 0) {
        if (fstat(d->fd, st) < 0)
            return err_sys(e, errno, "stat \"%s\"", d->path);
        return 0;
    }
    if (outdir_parent(d, rel, &pfd, &own, &base, e) < 0)
        return -1;
    if (fstatat(pfd, base, st, AT_SYMLINK_NOFOLLOW) < 0) {
        char *shown = outdir_show(d, rel);

        if (errno == ENOENT)
            ret = err_set(e, ERR_NOTFOUND, "\"%s\" does not exist", shown);
        else
            ret = err_sys(e, errno, "stat \"%s\"", shown);
        free(shown);
    }
    outdir_parent_close(pfd, own);
    return ret;
}

int outdir_mkdir(const struct outdir *d, const char *rel, struct err *e)
{
    const char *base;
    int pfd, own, ret = 0;

    if (outdir_parent(d, rel, &pfd, &own, &base, e) < 0)
        return -1;
    if (mkdirat(pfd, base, 0755) < 0) {
        char *shown = outdir_show(d, rel);

        ret = err_sys(e, errno, "create \"%s\"", shown);
        free(shown);
    }
    outdir_parent_close(pfd, own);
    return ret;
}

/* rename (link = 0) or hard-link (link = 1) `from` to `to`, both
 * resolved beneath DIR. */
static int outdir_move(const struct outdir *d, const char *from, const char *to, int link, struct err *e)
{
    const char *fbase, *tbase;
    int ffd, fown, tfd = -1, town = 0, ret = -1;

    if (outdir_parent(d, from, &ffd, &fown, &fbase, e) < 0)
        return -1;
    if (outdir_parent(d, to, &tfd, &town, &tbase, e) < 0)
        goto out;
    if ((link ? linkat(ffd, fbase, tfd, tbase, 0) : renameat(ffd, fbase, tfd, tbase)) < 0) {
        char *a = outdir_show(d, from), *b = outdir_show(d, to);

        err_sys(e, errno, "%s \"%s\" to \"%s\"", link ? "link" : "rename", a, b);
        free(a);
        free(b);
        goto out;
    }
    ret = 0;
out:
    outdir_parent_close(ffd, fown);
    outdir_parent_close(tfd, town);
    return ret;
}

int outdir_rename(const struct outdir *d, const char *from, const char *to, struct err *e)
{
    return outdir_move(d, from, to, 0, e);
}

int outdir_link(const struct outdir *d, const char *from, const char *to, struct err *e)
{
    return outdir_move(d, from, to, 1, e);
}

/* Open rel with `flags` (O_NOFOLLOW added). */
static int outdir_openat(const struct outdir *d, const char *rel, int flags, int *fd, struct err *e)
{
    const char *base;
    int pfd, own, errnum;

    *fd = -1;
    if (outdir_parent(d, rel, &pfd, &own, &base, e) < 0)
        return -1;
    *fd = openat(pfd, base, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    errnum = errno;
    outdir_parent_close(pfd, own);
    if (*fd < 0) {
        char *shown = outdir_show(d, rel);

        if (errnum == ENOENT && !(flags & O_CREAT))
            err_set(e, ERR_NOTFOUND, "\"%s\" does not exist", shown);
        else if (errnum == ELOOP)
            err_set(e, ERR_EXISTS, "\"%s\" is a symbolic link: not followed", shown);
        else if (errnum == EEXIST)
            err_set(e, ERR_EXISTS, "\"%s\" already exists", shown);
        else
            err_sys(e, errnum, "open \"%s\"", shown);
        free(shown);
        return -1;
    }
    return 0;
}

/* Open rel (a directory, "." for DIR) without following a symlink. */
static int outdir_open_dir(const struct outdir *d, const char *rel, int *fd, struct err *e)
{
    if (strcmp(rel, ".") == 0) {
        *fd = dup(d->fd);
        return *fd < 0 ? err_sys(e, errno, "dup") : 0;
    }
    return outdir_openat(d, rel, O_RDONLY | O_DIRECTORY, fd, e);
}

int outdir_fsync(const struct outdir *d, const char *rel, struct err *e)
{
    int fd, ret = 0;

    if (outdir_open_dir(d, rel, &fd, e) < 0)
        return -1;
    if (fsync(fd) < 0) {
        char *shown = outdir_show(d, rel);

        ret = err_sys(e, errno, "fsync directory \"%s\"", shown);
        free(shown);
    }
    close(fd);
    return ret;
}

/* Remove the entry `name` of the directory `parent`, recursively, never
 * following a symlink. `shown` names it in messages. */
static int outdir_remove_at(int parent, const char *name, const char *shown, struct err *e)
{
    struct stat st;
    struct dirent *de;
    DIR *dir = NULL;
    int fd, ret = -1;

    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : err_sys(e, errno, "stat \"%s\"", shown);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
            return err_sys(e, errno, "remove \"%s\"", shown);
        return 0;
    }
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, errno, "open directory \"%s\"", shown);
    dir = fdopendir(fd);
    if (dir == NULL) {
        close(fd);
        return err_sys(e, errno, "open directory \"%s\"", shown);
    }
    while ((de = readdir(dir)) != NULL) {
        char *child;
        int rc;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        child = xasprintf("%s/%s", shown, de->d_name);
        rc = outdir_remove_at(dirfd(dir), de->d_name, child, e);
        free(child);
        if (rc < 0)
            goto out;
    }
    if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
        err_sys(e, errno, "remove directory \"%s\"", shown);
        goto out;
    }
    ret = 0;
out:
    closedir(dir);
    return ret;
}

int outdir_remove_tree(const struct outdir *d, const char *rel, struct err *e)
{
    const char *base;
    char *shown;
    int pfd, own, ret;

    if (outdir_parent(d, rel, &pfd, &own, &base, e) < 0)
        return -1;
    shown = outdir_show(d, rel);
    ret = outdir_remove_at(pfd, base, shown, e);
    free(shown);
    outdir_parent_close(pfd, own);
    return ret;
}

int outdir_read_file(const struct outdir *d, const char *rel, struct buf *out, struct err *e)
{
    return outdir_read_head(d, rel, SIZE_MAX, out, e);
}

int outdir_read_head(const struct outdir *d, const char *rel, size_t max, struct buf *out, struct err *e)
{
    char chunk[8192];
    struct stat st;
    size_t got = 0;
    int fd, ret = -1;

    if (outdir_openat(d, rel, O_RDONLY | O_NONBLOCK, &fd, e) < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        char *shown = outdir_show(d, rel);

        err_set(e, ERR_EXISTS, "\"%s\" is not a regular file", shown);
        free(shown);
        goto out;
    }
    while (got < max) {
        ssize_t n = read(fd, chunk, max - got < sizeof(chunk) ? max - got : sizeof(chunk));

        if (n < 0) {
            char *shown;

            if (errno == EINTR)
                continue;
            shown = outdir_show(d, rel);
            err_sys(e, errno, "read \"%s\"", shown);
            free(shown);
            goto out;
        }
        if (n == 0)
            break;
        buf_append(out, chunk, (size_t)n);
        got += (size_t)n;
    }
    ret = 0;
out:
    close(fd);
    return ret;
}

int outdir_open_append(const struct outdir *d, const char *rel, int *fd, struct err *e)
{
    return outdir_openat(d, rel, O_WRONLY | O_CREAT | O_APPEND, fd, e);
}

int outdir_is_empty(const struct outdir *d, int *empty, struct err *e)
{
    struct dirent *de;
    DIR *dir;
    int fd;

    *empty = 1;
    if (outdir_open_dir(d, ".", &fd, e) < 0)
        return -1;
    dir = fdopendir(fd);
    if (dir == NULL) {
        close(fd);
        return err_sys(e, errno, "open directory \"%s\"", d->path);
    }
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            *empty = 0;
            break;
        }
    }
    closedir(dir);
    return 0;
}

int outdir_write_all(int fd, const void *data, size_t len, const char *path, struct err *e)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(e, errno, "write \"%s\"", path);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write data to a fresh temp file "rel.tmp.PID.N" beside rel (O_EXCL: a
 * name that exists, symlink or not, is skipped), fsync, rename over rel,
 * fsync the directory. */
int outdir_write_atomic(const struct outdir *d, const char *rel, const void *data, size_t len, struct err *e)
{
    const char *slash = strrchr(rel, '/');
    char *dir = slash != NULL ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup(".");
    char *tmp = NULL, *shown = NULL;
    int fd = -1, tries, ret = -1;

    for (tries = 0;; tries++) {
        free(tmp);
        tmp = xasprintf("%s.tmp.%ld.%d", rel, (long)getpid(), tries);
        if (outdir_openat(d, tmp, O_WRONLY | O_CREAT | O_EXCL, &fd, e) == 0)
            break;
        if (e->code != ERR_EXISTS || tries >= 100) {
            free(tmp);
            tmp = NULL;
            goto out;
        }
        err_clear(e);
    }
    shown = outdir_show(d, tmp);
    if (outdir_write_all(fd, data, len, shown, e) < 0)
        goto out;
    if (fsync(fd) < 0) {
        err_sys(e, errno, "fsync \"%s\"", shown);
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        err_sys(e, errno, "close \"%s\"", shown);
        goto out;
    }
    fd = -1;
    if (outdir_rename(d, tmp, rel, e) < 0 || outdir_fsync(d, dir, e) < 0)
        goto out;
    free(tmp);
    tmp = NULL;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp != NULL) {
        struct err ignored;

        outdir_remove_tree(d, tmp, &ignored);
    }
    free(tmp);
    free(shown);
    free(dir);
    return ret;
}

int outdir_write_atomic_path(const char *path, const void *data, size_t len, struct err *e)
{
    const char *slash = strrchr(path, '/');
    char *dirpath = slash == NULL   ? xstrdup(".")
                    : slash == path ? xstrdup("/")
                                    : xstrndup(path, (size_t)(slash - path));
    struct outdir d = OUTDIR_INIT;
    int ret = -1;

    /* the directory is the user's to choose, symlinked or not: it is
     * opened as it resolves, the file beneath it is not followed */
    d.path = xstrdup(dirpath);
    d.fd = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.fd < 0) {
        err_sys(e, errno, "open directory \"%s\"", dirpath);
        goto out;
    }
    ret = outdir_write_atomic(&d, slash != NULL ? slash + 1 : path, data, len, e);
out:
    outdir_close(&d, 0);
    free(dirpath);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Files being written                                                  */
/* ------------------------------------------------------------------ */

int outdir_file_create(struct outdir_file *f, const struct outdir *d, const char *rel, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->fd = -1;
    f->path = outdir_show(d, rel);
    return outdir_openat(d, rel, O_WRONLY | O_CREAT | O_EXCL, &f->fd, e);
}

static int outdir_file_write(struct outdir_file *f, const void *data, size_t len, struct err *e)
{
    double t0 = time_monotonic();
    int ret = outdir_write_all(f->fd, data, len, f->path, e);

    if (ret == 0) {
        f->written += len;
        /* a hint: the kernel starts writing now, fsync later waits less */
        if (f->written - f->flushing >= OUTDIR_WRITEBACK) {
            sync_file_range(f->fd, (off64_t)f->flushing, (off64_t)(f->written - f->flushing),
                            SYNC_FILE_RANGE_WRITE);
            f->flushing = f->written;
        }
    }
    f->seconds += time_monotonic() - t0;
    return ret;
}

int outdir_file_append(struct outdir_file *f, const void *data, size_t len, struct err *e)
{
    if (f->pending.len + len < OUTDIR_BUFFER) {
        buf_append(&f->pending, data, len);
        return 0;
    }
    if (f->pending.len > 0) {
        if (outdir_file_write(f, f->pending.data, f->pending.len, e) < 0)
            return -1;
        buf_reset(&f->pending);
    }
    if (len >= OUTDIR_BUFFER)
        return outdir_file_write(f, data, len, e);
    buf_append(&f->pending, data, len);
    return 0;
}

int outdir_file_finish(struct outdir_file *f, struct err *e)
{
    double t0;
    int ret = 0;

    if (f->pending.len > 0 && outdir_file_write(f, f->pending.data, f->pending.len, e) < 0)
        ret = -1;
    t0 = time_monotonic();
    if (ret == 0 && fsync(f->fd) < 0)
        ret = err_sys(e, errno, "fsync \"%s\"", f->path);
    if (close(f->fd) < 0 && ret == 0)
        ret = err_sys(e, errno, "close \"%s\"", f->path);
    f->fd = -1;
    f->seconds += time_monotonic() - t0;
    outdir_file_close(f);
    return ret;
}

void outdir_file_close(struct outdir_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    buf_free(&f->pending);
    free(f->path);
    f->path = NULL;
}

/* ------------------------------------------------------------------ */
/* Staging a restore                                                    */
/* ------------------------------------------------------------------ */

/* 1 when rel exists in DIR (lstat), 0 when not, -1 on error. */
static int outdir_exists(const struct outdir *d, const char *rel, struct stat *st, struct err *e)
{
    if (outdir_lstat(d, rel, st, e) == 0)
        return 1;
    if (e->code != ERR_NOTFOUND)
        return -1;
    err_clear(e);
    return 0;
}

/* 1 when DIR holds an earlier restore (a regular aofroll-restore.json). */
static int outdir_has_mark(const struct outdir *d, struct err *e)
{
    struct stat st;
    int rc = outdir_exists(d, OUTDIR_MARK, &st, e);

    if (rc <= 0)
        return rc;
    return S_ISREG(st.st_mode) ? 1 : 0;
}

static int outdir_is_owned(const char *name)
{
    size_t i;

    for (i = 0; i < OUTDIR_NOWNED; i++)
        if (strcmp(outdir_owned[i], name) == 0)
            return 1;
    return 0;
}

int outdir_stage_begin(const struct outdir *d, int force, const char *const *entries, size_t n, struct err *e)
{
    struct stat st;
    size_t i;
    int empty, mark, rc;

    if (outdir_is_empty(d, &empty, e) < 0)
        return -1;
    if (!empty && !force)
        return err_set(
            e, ERR_EXISTS,
            "output directory \"%s\" is not empty HINT: restore into a new directory, or pass --force "
            "to replace the restore in it",
            d->path);
    rc = outdir_exists(d, OUTDIR_ASIDE, &st, e);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return err_set(e, ERR_EXISTS,
                       "\"%s/%s\" holds an earlier restore set aside by a restore that did not finish HINT: "
                       "move its entries back into \"%s\" (or remove it), then restore again",
                       d->path, OUTDIR_ASIDE, d->path);
    mark = empty ? 0 : outdir_has_mark(d, e);
    if (mark < 0)
        return -1;
    for (i = 0; i < n && !empty; i++) {
        rc = outdir_exists(d, entries[i], &st, e);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        if (!mark || !outdir_is_owned(entries[i]))
            return err_set(
                e, ERR_EXISTS,
                "\"%s/%s\" was not written by aofroll restore (\"%s\" has no %s): not replacing it "
                "HINT: move it away, or restore into another directory",
                d->path, entries[i], d->path, OUTDIR_MARK);
        if (S_ISLNK(st.st_mode) || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
            return err_set(
                e, ERR_EXISTS,
                "\"%s/%s\" is not what aofroll restore writes (a %s): not replacing it HINT: move it "
                "away, or restore into another directory",
                d->path, entries[i], S_ISLNK(st.st_mode) ? "symbolic link" : "special file");
    }
    if (outdir_remove_tree(d, OUTDIR_STAGE, e) < 0 || outdir_mkdir(d, OUTDIR_STAGE, e) < 0)
        return -1;
    return 0;
}

/* Move back what a failed commit moved: the new entries to the stage,
 * the earlier restore's from aside. Best effort: this runs on a failure. */
static void outdir_stage_undo(const struct outdir *d, const char *const *entries, size_t placed,
                              const char *const *aside, size_t naside)
{
    struct err ignored;
    size_t i;

    for (i = 0; i < placed; i++) {
        char *staged = xasprintf("%s/%s", OUTDIR_STAGE, entries[i]);

        outdir_rename(d, entries[i], staged, &ignored);
        free(staged);
    }
    for (i = 0; i < naside; i++) {
        char *from = xasprintf("%s/%s", OUTDIR_ASIDE, aside[i]);

        outdir_rename(d, from, aside[i], &ignored);
        free(from);
    }
    outdir_remove_tree(d, OUTDIR_ASIDE, &ignored);
}

int outdir_stage_commit(const struct outdir *d, const char *const *entries, size_t n, struct err *e)
{
    const char *aside[OUTDIR_NOWNED];
    size_t naside = 0, placed = 0, i;
    struct stat st;
    int mark, rc, ret = -1;

    for (i = 0; i < n; i++) {
        char *staged = xasprintf("%s/%s", OUTDIR_STAGE, entries[i]);

        rc = outdir_lstat(d, staged, &st, e) < 0 ? -1 : S_ISDIR(st.st_mode) ? outdir_fsync(d, staged, e) : 0;
        free(staged);
        if (rc < 0)
            return -1;
    }
    if (outdir_fsync(d, OUTDIR_STAGE, e) < 0)
        return -1;
    /* a server may have started on DIR since the restore began */
    if (outdir_in_use(d, e) < 0)
        return -1;
    /* the earlier restore goes aside, whole, to come back on a failure */
    mark = outdir_has_mark(d, e);
    if (mark < 0)
        return -1;
    if (mark) {
        if (outdir_mkdir(d, OUTDIR_ASIDE, e) < 0)
            return -1;
        for (i = 0; i < OUTDIR_NOWNED; i++) {
            char *to;

            rc = outdir_exists(d, outdir_owned[i], &st, e);
            if (rc < 0)
                goto fail;
            if (rc == 0)
                continue;
            to = xasprintf("%s/%s", OUTDIR_ASIDE, outdir_owned[i]);
            rc = outdir_rename(d, outdir_owned[i], to, e);
            free(to);
            if (rc < 0)
                goto fail;
            aside[naside++] = outdir_owned[i];
        }
    }
    for (placed = 0; placed < n; placed++) {
        char *from = xasprintf("%s/%s", OUTDIR_STAGE, entries[placed]);

        rc = outdir_rename(d, from, entries[placed], e);
        free(from);
        if (rc < 0)
            goto fail;
    }
    if (outdir_remove_tree(d, OUTDIR_STAGE, e) < 0 || outdir_fsync(d, ".", e) < 0)
        goto out;
    /* the new restore is in place: only now does the earlier one go */
    if (mark && (outdir_remove_tree(d, OUTDIR_ASIDE, e) < 0 || outdir_fsync(d, ".", e) < 0))
        goto out;
    ret = 0;
    goto out;
fail:
    outdir_stage_undo(d, entries, placed, aside, naside);
out:
    return ret;
}

void outdir_stage_abandon(const struct outdir *d)
{
    struct err ignored;

    if (d->fd >= 0)
        outdir_remove_tree(d, OUTDIR_STAGE, &ignored);
}

/* ------------------------------------------------------------------ */
/* In use?                                                              */
/* ------------------------------------------------------------------ */

/* The pids from this process up to init: the shell that started aofroll
 * may well work in DIR, that is no server. */
struct outdir_pids {
    long v[64];
    size_t n;
};

static long outdir_ppid(long pid)
{
    char path[64], text[512];
    const char *close_paren;
    long ppid = 0;
    FILE *fp;
    size_t got;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    fp = fopen(path, "re");
    if (fp == NULL)
        return 0;
    got = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[got] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses */
    close_paren = strrchr(text, ')');
    if (close_paren == NULL || sscanf(close_paren + 1, " %*c %ld", &ppid) != 1)
        return 0;
    return ppid;
}

static void outdir_ancestors(struct outdir_pids *a)
{
    long pid = (long)getpid();

    a->n = 0;
    while (pid > 1 && a->n < sizeof(a->v) / sizeof(a->v[0])) {
        a->v[a->n++] = pid;
        pid = outdir_ppid(pid);
    }
}

static int outdir_is_ancestor(const struct outdir_pids *a, long pid)
{
    size_t i;

    for (i = 0; i < a->n; i++)
        if (a->v[i] == pid)
            return 1;
    return 0;
}

/* 1 when the link target `t` is DIR or lies beneath it. */
static int outdir_beneath(const struct outdir *d, const char *t)
{
    size_t n = strlen(d->real);

    if (strcmp(d->real, "/") == 0)
        return 0; /* every process would be "in" / */
    return strncmp(t, d->real, n) == 0 && (t[n] == '\0' || t[n] == '/');
}

/* The process's name, for messages. */
static void outdir_comm(long pid, char *out, size_t n)
{
    char path[64];
    FILE *fp;

    snprintf(out, n, "?");
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    fp = fopen(path, "re");
    if (fp == NULL)
        return;
    if (fgets(out, (int)n, fp) == NULL)
        snprintf(out, n, "?");
    out[strcspn(out, "\n")] = '\0';
    fclose(fp);
}

/* 1 (what set) when process pid works in DIR or has a file in it open. */
static int outdir_process_uses(const struct outdir *d, long pid, char *what, size_t n)
{
    char path[64], target[PATH_MAX];
    struct dirent *de;
    ssize_t len;
    DIR *fds;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/%ld/cwd", pid);
    len = readlink(path, target, sizeof(target) - 1);
    if (len > 0) {
        target[len] = '\0';
        if (outdir_beneath(d, target)) {
            snprintf(what, n, "works in \"%s\"", target);
            return 1;
        }
    }
    snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
    fds = opendir(path);
    if (fds == NULL)
        return 0; /* not ours to look at */
    while (!found && (de = readdir(fds)) != NULL) {
        char link[PATH_MAX];

        if (!isdigit((unsigned char)de->d_name[0]))
            continue;
        snprintf(link, sizeof(link), "/proc/%ld/fd/%s", pid, de->d_name);
        len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0)
            continue;
        target[len] = '\0';
        if (outdir_beneath(d, target)) {
            snprintf(what, n, "has \"%s\" open", target);
            found = 1;
        }
    }
    closedir(fds);
    return found;
}

/* DIR/redis.pid naming a live process. */
static int outdir_pidfile_live(const struct outdir *d, long *pid, struct err *e)
{
    struct buf text = BUF_INIT;
    char *end = NULL;
    int live = 0;

    *pid = 0;
    if (outdir_read_file(d, OUTDIR_PIDFILE, &text, e) < 0) {
        buf_free(&text);
        if (e->code == ERR_NOTFOUND) {
            err_clear(e);
            return 0;
        }
        return -1;
    }
    if (text.len > 0) {
        *pid = strtol(text.data, &end, 10);
        live = *pid > 0 && end != text.data && (kill((pid_t)*pid, 0) == 0 || errno == EPERM);
    }
    buf_free(&text);
    return live;
}

int outdir_in_use(const struct outdir *d, struct err *e)
{
    struct outdir_pids anc;
    struct dirent *de;
    DIR *proc;
    char what[PATH_MAX + 64], comm[64];
    long pid;
    int live;

    live = outdir_pidfile_live(d, &pid, e);
    if (live < 0)
        return -1;
    if (live) {
        outdir_comm(pid, comm, sizeof(comm));
        return err_set(
            e, ERR_BUSY,
            "\"%s/%s\" names process %ld (%s), which is running: not writing into the directory of a "
            "running server HINT: stop it first (redis-cli shutdown), or restore into another directory",
            d->path, OUTDIR_PIDFILE, pid, comm);
    }
    outdir_ancestors(&anc);
    proc = opendir("/proc");
    if (proc == NULL)
        return 0; /* no /proc: the pidfile is all there is to go by */
    while ((de = readdir(proc)) != NULL) {
        char *end;

        pid = strtol(de->d_name, &end, 10);
        if (!isdigit((unsigned char)de->d_name[0]) || *end != '\0' || outdir_is_ancestor(&anc, pid))
            continue;
        if (outdir_process_uses(d, pid, what, sizeof(what))) {
            outdir_comm(pid, comm, sizeof(comm));
            closedir(proc);
            return err_set(
                e, ERR_BUSY,
                "process %ld (%s) %s: \"%s\" is in use, not writing into it HINT: stop it first, or "
                "restore into another directory",
                pid, comm, what, d->path);
        }
    }
    closedir(proc);
    return 0;
}
