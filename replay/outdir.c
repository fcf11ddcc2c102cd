/* outdir.c - file-system steps of writing a restore directory. See outdir.h. */
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "xalloc.h"

#define OUTDIR_BUFFER (1u << 20)    /* appends smaller than this are gathered */
#define OUTDIR_WRITEBACK (8u << 20) /* start write-back every this many bytes */

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

int outdir_file_create(struct outdir_file *f, const char *path, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->path = xstrdup(path);
    f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0)
        return err_sys(e, errno, "create \"%s\"", path);
    return 0;
}

static int outdir_file_write(struct outdir_file *f, const void *data, size_t len, struct err *e)
{
    double t0 = cli_clock();
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
    f->seconds += cli_clock() - t0;
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
    t0 = cli_clock();
    if (ret == 0 && fsync(f->fd) < 0)
        ret = err_sys(e, errno, "fsync \"%s\"", f->path);
    if (close(f->fd) < 0 && ret == 0)
        ret = err_sys(e, errno, "close \"%s\"", f->path);
    f->fd = -1;
    f->seconds += cli_clock() - t0;
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

int outdir_fsync_dir(const char *path, struct err *e)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ret = 0;

    if (fd < 0)
        return err_sys(e, errno, "open directory \"%s\"", path);
    if (fsync(fd) < 0)
        ret = err_sys(e, errno, "fsync directory \"%s\"", path);
    close(fd);
    return ret;
}

int outdir_write_atomic(const char *path, const void *data, size_t len, struct err *e)
{
    char *tmp = xasprintf("%s.tmp", path);
    char *dir = xstrdup(path);
    char *slash;
    int fd = -1, ret = -1;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_sys(e, errno, "create \"%s\"", tmp);
        goto out;
    }
    if (outdir_write_all(fd, data, len, tmp, e) < 0)
        goto out;
    if (fsync(fd) < 0) {
        err_sys(e, errno, "fsync \"%s\"", tmp);
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        err_sys(e, errno, "close \"%s\"", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        err_sys(e, errno, "rename \"%s\" to \"%s\"", tmp, path);
        goto out;
    }
    slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else {
        free(dir);
        dir = xstrdup(".");
    }
    if (outdir_fsync_dir(dir, e) < 0)
        goto out;
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    if (ret < 0)
        unlink(tmp);
    free(tmp);
    free(dir);
    return ret;
}

int outdir_read_file(const char *path, struct buf *out, struct err *e)
{
    char chunk[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int ret = -1;

    if (fd < 0) {
        if (errno == ENOENT)
            return err_set(e, ERR_NOTFOUND, "\"%s\" does not exist", path);
        return err_sys(e, errno, "open \"%s\"", path);
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_sys(e, errno, "read \"%s\"", path);
            goto out;
        }
        if (n == 0)
            break;
        buf_append(out, chunk, (size_t)n);
    }
    ret = 0;
out:
    close(fd);
    return ret;
}

int outdir_check(const char *path, int *exists, int *empty, struct err *e)
{
    struct stat st;
    struct dirent *de;
    DIR *d;

    *exists = 0;
    *empty = 1;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(e, errno, "stat \"%s\"", path);
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ERR_EXISTS, "\"%s\" exists and is not a directory", path);
    *exists = 1;
    d = opendir(path);
    if (d == NULL)
        return err_sys(e, errno, "open directory \"%s\"", path);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            *empty = 0;
            break;
        }
    }
    closedir(d);
    return 0;
}

int outdir_remove_tree(const char *path, struct err *e)
{
    struct stat st;
    struct dirent *de;
    DIR *d = NULL;
    int ret = -1;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_sys(e, errno, "stat \"%s\"", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT)
            return err_sys(e, errno, "remove \"%s\"", path);
        return 0;
    }
    d = opendir(path);
    if (d == NULL)
        return err_sys(e, errno, "open directory \"%s\"", path);
    while ((de = readdir(d)) != NULL) {
        char *child;
        int rc;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        child = xasprintf("%s/%s", path, de->d_name);
        rc = outdir_remove_tree(child, e);
        free(child);
        if (rc < 0)
            goto out;
    }
    if (rmdir(path) < 0 && errno != ENOENT) {
        err_sys(e, errno, "remove directory \"%s\"", path);
        goto out;
    }
    ret = 0;
out:
    closedir(d);
    return ret;
}
