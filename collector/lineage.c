/* lineage.c - the files of one generation, held open.
 *
 * A generation is a base file plus one logical incr stream: normally one
 * incr file, but after a failed rewrite Redis 7 lists several incr files
 * with the same base, and the stream is their concatenation in manifest
 * order. Chunk offsets are offsets in that logical stream. Each file is
 * opened as soon as the manifest names it and stays open until the
 * generation is finished, because a successful rewrite makes Redis unlink
 * the old base and incr files within milliseconds; an open descriptor
 * still reads them. Files are identified by name and inode, so a file
 * replaced under the same name is seen as a different file. */

#include "lineage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"
#include "xalloc.h"

void lineage_init(struct lineage *l)
{
    memset(l, 0, sizeof(*l));
    l->base.fd = -1;
}

const char *lineage_base_name(const struct lineage *l)
{
    return l->base_present && l->base.name != NULL ? l->base.name : "";
}

void lineage_close_file(struct aof_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    free(f->name);
    f->name = NULL;
}

void lineage_free(struct lineage *l)
{
    lineage_close_file(&l->base);
    for (size_t i = 0; i < l->nfiles; i++)
        lineage_close_file(&l->files[i]);
    free(l->files);
    memset(l, 0, sizeof(*l));
    l->base.fd = -1;
}

int lineage_open_file(const char *dir, const char *name, long long seq, struct aof_file *f, struct err *e)
{
    struct stat sb;
    char *path = xasprintf("%s/%s", dir, name);
    int rv = -1;

    memset(f, 0, sizeof(*f));
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0) {
        err_sys(e, errno, "cannot open AOF file \"%s\"", path);
        goto out;
    }
    if (fstat(f->fd, &sb) != 0) {
        err_sys(e, errno, "cannot stat AOF file \"%s\"", path);
        close(f->fd);
        f->fd = -1;
        goto out;
    }
    f->name = xstrdup(name);
    f->seq = seq;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->size = (uint64_t)sb.st_size;
    rv = 0;
out:
    free(path);
    return rv;
}

void lineage_push(struct lineage *l, struct aof_file *f)
{
    if (l->nfiles == l->cap) {
        l->cap = l->cap == 0 ? 4 : l->cap * 2;
        l->files = xrealloc(l->files, l->cap * sizeof(*l->files));
    }
    l->files[l->nfiles++] = *f;
    memset(f, 0, sizeof(*f));
    f->fd = -1;
}

int lineage_refresh(struct lineage *l, struct err *e)
{
    struct stat sb;

    for (size_t i = 0; i < l->nfiles; i++) {
        if (fstat(l->files[i].fd, &sb) != 0)
            return err_sys(e, errno, "cannot stat AOF file \"%s\"", l->files[i].name);
        l->files[i].size = (uint64_t)sb.st_size;
    }
    return 0;
}

void lineage_layout(struct lineage *l)
{
    uint64_t off = 0;

    for (size_t i = 0; i < l->nconfirmed; i++) {
        l->files[i].start = off;
        off += l->files[i].size;
    }
}

uint64_t lineage_size(const struct lineage *l)
{
    const struct aof_file *f;

    if (l->nconfirmed == 0)
        return 0;
    f = &l->files[l->nconfirmed - 1];
    return f->start + f->size;
}

size_t lineage_file_at(const struct lineage *l, uint64_t off)
{
    for (size_t i = 0; i < l->nconfirmed; i++) {
        if (off < l->files[i].start + l->files[i].size)
            return i;
    }
    return l->nconfirmed > 0 ? l->nconfirmed - 1 : 0;
}

int lineage_read_fd(int fd, const char *name, uint64_t off, void *buf, size_t len, struct err *e)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(e, errno, "cannot read \"%s\" at offset %llu", name,
                           (unsigned long long)(off + done));
        }
        if (n == 0)
            return err_set(e, ERR_CORRUPT,
                           "\"%s\" ends at offset %llu, before the %zu bytes expected at %llu", name,
                           (unsigned long long)(off + done), len, (unsigned long long)off);
        done += (size_t)n;
    }
    return 0;
}

int lineage_pread(const struct lineage *l, uint64_t off, void *buf, size_t len, struct err *e)
{
    const struct aof_file *f;

    if (l->nconfirmed == 0)
        return err_set(e, ERR_NOTFOUND, "the incr stream has no file");
    f = &l->files[lineage_file_at(l, off)];
    if (off < f->start || off + len > f->start + f->size)
        return err_set(e, ERR_CORRUPT, "incr range [%llu, %llu) is not inside \"%s\" [%llu, %llu)",
                       (unsigned long long)off, (unsigned long long)(off + len), f->name,
                       (unsigned long long)f->start, (unsigned long long)(f->start + f->size));
    return lineage_read_fd(f->fd, f->name, off - f->start, buf, len, e);
}

int lineage_pread_base(const struct lineage *l, uint64_t off, void *buf, size_t len, struct err *e)
{
    if (l->base.fd < 0)
        return err_set(e, ERR_NOTFOUND, "the generation has no base file");
    return lineage_read_fd(l->base.fd, l->base.name, off, buf, len, e);
}

long lineage_find(const struct lineage *l, const char *name, dev_t dev, ino_t ino)
{
    for (size_t i = 0; i < l->nfiles; i++) {
        if (strcmp(l->files[i].name, name) == 0 && l->files[i].dev == dev && l->files[i].ino == ino)
            return (long)i;
    }
    return -1;
}

int64_t lineage_base_time(const struct lineage *l)
{
    struct statx sx;
    struct stat sb;

    if (l->nfiles > 0 && statx(l->files[0].fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) == 0 &&
        (sx.stx_mask & STATX_BTIME) != 0)
        return (int64_t)sx.stx_btime.tv_sec;
    if (l->base.fd >= 0 && fstat(l->base.fd, &sb) == 0)
        return (int64_t)sb.st_mtime;
    return time_now();
}
