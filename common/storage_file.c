/* storage_file.c - the file:// storage backend: objects as files under a root directory.
 *
 * `file:///var/lib/aofroll/archive` (or `file://localhost/...`) keeps each
 * object at ROOT/KEY, so the archive can be read with nothing but cat and
 * gunzip. All paths are resolved relative to a descriptor of ROOT held
 * open for the handle's lifetime (openat and friends), so a key can never
 * be looked up from anywhere else.
 *
 * put is atomic and durable, in the order of STYLE.md: the bytes go to a
 * temp file in the private directory ROOT/.tmp/ named "<pid>-<n>-<name>",
 * which is fsync'ed and closed; the key's parent directories are created
 * (each new directory made durable by an fsync of its parent); the temp
 * file is renamed onto the key and the key's directory is fsync'ed. A
 * writer that dies midway therefore leaves the key absent or with its old
 * content, plus a temp file that the next storage_file_open() removes:
 * opening sweeps ROOT/.tmp/ of every file whose embedded pid no longer
 * names a live process (on this host: an archive directory shared by
 * several hosts would need host names in the temp names). Keeping temp
 * files out of the key directories also means listings never see them.
 *
 * A key is a file and its '/'-separated parts are directories, so one key
 * cannot be both an object and the "directory" of another ("a" and "a/b");
 * the archive layout (objname.h) never asks for that.
 *
 * list walks the directory tree below the prefix's last '/' (the prefix is
 * a key prefix: "inst/gen-0000" matches "inst/gen-000001/..."), descending
 * only into directories that can hold matching keys, then sorts the keys:
 * byte order of whole keys is not the order of a per-directory walk
 * ("a-b" < "a/b" but the directory "a" sorts before the file "a-b").
 *
 * remove unlinks the file (a missing object is fine) and then removes the
 * parent directories it left empty, up to ROOT. A put racing with that
 * cleanup recreates the directories and retries its rename.
 *
 * Nothing outside ROOT is touched through a symbolic link planted in the
 * archive: a key's directories are walked from ROOT's descriptor one
 * component at a time without following links (put creates them that
 * way, remove unlinks and prunes through them), and an object that is a
 * link is read only when it resolves to a file inside ROOT. */
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <curl/curl.h>

#include "xalloc.h"

#define SF_TMPDIR ".tmp"
/* How many times put retries a rename whose directory vanished under it. */
#define SF_RENAME_RETRIES 5
/* The longest piece of a key's last component kept in a temp file name. */
#define SF_TMP_NAME_KEEP 100

struct storage_file {
    struct storage base;
    char *root;           /* absolute path, no trailing '/' unless it is "/" */
    int rootfd;           /* O_DIRECTORY descriptor of root */
    atomic_ulong counter; /* temp file names: unique within this handle */
};

static const struct storage_ops storage_file_ops;

/* "ROOT/REL" for messages; caller frees. */
static char *sf_path(const struct storage_file *sf, const char *rel)
{
    if (strcmp(sf->root, "/") == 0)
        return xasprintf("/%s", rel);
    return xasprintf("%s/%s", sf->root, rel);
}

/* "WHAT \"PATH\": strerror" as ERR_IO (err_sys would make ENOENT a
 * missing object; here it is a failure of the backend). */
static int sf_io_err(struct err *e, int errnum, const char *what, const char *path)
{
    err_sys(e, errnum, "%s \"%s\"", what, path);
    e->code = ERR_IO;
    return -1;
}

static int sf_notfound(const struct storage_file *sf, const char *key, struct err *e)
{
    return err_set(e, ERR_NOTFOUND, "object \"%s\" not found in \"%s\"", key, sf->base.url);
}

/* ------------------------------------------------------------------------
 * Directories
 * ------------------------------------------------------------------------ */

/* fsync the directory `rel` (relative to dirfd; "." for dirfd itself).
 * `shown` is the directory's name for messages. */
static int sf_fsync_dir(int dirfd, const char *rel, const char *shown, struct err *e)
{
    int fd;
    int rc = -1;

    fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sf_io_err(e, errno, "cannot open directory", shown);
        goto out;
    }
    if (fsync(fd) != 0) {
        sf_io_err(e, errno, "cannot fsync directory", shown);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* mkdir -p of `path` relative to dirfd (or absolute, with AT_FDCWD). Each
 * directory created is made durable by an fsync of its parent. `shown_base`
 * is prepended to relative names in messages (NULL for absolute paths). */
static int sf_mkdirs(int dirfd, const char *path, const char *shown_base, struct err *e)
{
    size_t len = strlen(path);
    size_t i = 0;
    char *cur = NULL;
    char *parent = NULL;
    char *shown = NULL;
    int rc = -1;

    while (i < len) {
        size_t start;

        while (i < len && path[i] == '/')
            i++;
        if (i == len)
            break;
        start = i;
        while (i < len && path[i] != '/')
            i++;
        free(cur);
        cur = xstrndup(path, i);
        free(shown);
        shown = shown_base != NULL ? xasprintf("%s/%s", shown_base, cur) : xstrdup(cur);
        if (mkdirat(dirfd, cur, 0755) != 0) {
            if (errno == EEXIST)
                continue;
            sf_io_err(e, errno, "cannot create directory", shown);
            goto out;
        }
        free(parent);
        if (start == 0)
            parent = xstrdup(".");
        else if (start == 1)
            parent = xstrdup("/");
        else
            parent = xstrndup(path, start - 1);
        if (sf_fsync_dir(dirfd, parent, shown, e) != 0)
            goto out;
    }
    rc = 0;
out:
    free(cur);
    free(parent);
    free(shown);
    return rc;
}

/* The directory `dir` of a key ("" for ROOT), walked from ROOT without
 * following a symbolic link; with `create`, missing components are made
 * (each made durable by an fsync of its parent). *fd to close. */
static int sf_open_dir(const struct storage_file *sf, const char *dir, int create, int *fd, struct err *e)
{
    const char *p = dir;
    char *comp = NULL, *shown = NULL;
    int cur, next = -1, ret = -1;

    *fd = -1;
    cur = dup(sf->rootfd);
    if (cur < 0)
        return sf_io_err(e, errno, "cannot open directory", sf->root);
    while (*p != '\0') {
        size_t len = strcspn(p, "/");

        free(comp);
        comp = xstrndup(p, len);
        next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, comp, 0755) != 0 && errno != EEXIST) {
                shown = sf_path(sf, dir);
                sf_io_err(e, errno, "cannot create directory", shown);
                goto out;
            }
            if (fsync(cur) != 0) {
                shown = sf_path(sf, dir);
                sf_io_err(e, errno, "cannot fsync the parent of directory", shown);
                goto out;
            }
            next = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int errnum = errno;
            struct stat sb;

            shown = sf_path(sf, dir);
            if (errnum == ENOTDIR && fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                !S_ISLNK(sb.st_mode))
                errnum = ENOENT; /* a file where a directory would be: no such object below it */
            if (errnum == ENOENT)
                err_set(e, ERR_NOTFOUND, "directory \"%s\" does not exist", shown);
            else if (errnum == ELOOP || errnum == ENOTDIR)
                err_set(e, ERR_CORRUPT,
                        "\"%s\" is not a directory of the archive (a symbolic link is not followed)", shown);
            else
                sf_io_err(e, errnum, "cannot open directory", shown);
            goto out;
        }
        close(cur);
        cur = next;
        p += len;
        if (*p == '/')
            p++;
    }
    *fd = cur;
    cur = -1;
    ret = 0;
out:
    if (cur >= 0)
        close(cur);
    free(comp);
    free(shown);
    return ret;
}

/* An open object must be a file inside ROOT (it may be a symbolic link to
 * one): 0, or ERR_CORRUPT naming the key. */
static int sf_check_inside(const struct storage_file *sf, int fd, const char *key, struct err *e)
{
    char link[64], target[PATH_MAX], rootreal[PATH_MAX];
    size_t n;
    ssize_t len;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    len = readlink(link, target, sizeof(target) - 1);
    if (len <= 0 || realpath(sf->root, rootreal) == NULL)
        return 0; /* no /proc: the walk of the directories is what holds */
    target[len] = '\0';
    n = strlen(rootreal);
    if (strcmp(rootreal, "/") == 0 || (strncmp(target, rootreal, n) == 0 && target[n] == '/'))
        return 0;
    return err_set(e, ERR_CORRUPT,
                   "object \"%s\" in \"%s\" leads outside the archive (a symbolic link): not read", key,
                   sf->base.url);
}

/* ------------------------------------------------------------------------
 * Opening: URL, root, temp sweep
 * ------------------------------------------------------------------------ */

/* The absolute directory named by a file:// URL (`shown` in messages);
 * caller frees. */
static int sf_parse_url(const char *url, const char *shown, char **root, struct err *e)
{
    CURLU *u = curl_url();
    char *path = NULL;
    char *extra = NULL;
    CURLUcode uc;
    size_t len;
    int rc = -1;

    *root = NULL;
    if (u == NULL) {
        err_set(e, ERR_IO, "out of memory parsing storage URL \"%s\"", shown);
        goto out;
    }
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        err_set(e, ERR_CONFIG, "invalid storage URL \"%s\": %s; expected file:///absolute/path", shown,
                curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
        err_set(e, ERR_CONFIG, "invalid storage URL \"%s\": a file:// URL takes no query or fragment", shown);
        goto out;
    }
    uc = curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
    if (uc != CURLUE_OK || path[0] != '/') {
        err_set(e, ERR_CONFIG, "invalid storage URL \"%s\": expected file:///absolute/path", shown);
        goto out;
    }
    len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    *root = xstrndup(path, len);
    rc = 0;
out:
    curl_free(extra);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* Remove temp files left in ROOT/.tmp by writers that are gone. A name
 * "<pid>-..." whose pid is alive (or not ours to signal) is left alone: its
 * put may still be running. */
static int sf_sweep_tmp(struct storage_file *sf, struct err *e)
{
    DIR *d = NULL;
    struct dirent *ent;
    char *shown = sf_path(sf, SF_TMPDIR);
    int fd;
    int rc = -1;

    fd = openat(sf->rootfd, SF_TMPDIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        sf_io_err(e, errno, "cannot open directory", shown);
        goto out;
    }
    d = fdopendir(fd);
    if (d == NULL) {
        sf_io_err(e, errno, "cannot read directory", shown);
        close(fd);
        goto out;
    }
    for (;;) {
        char *end;
        long pid;

        errno = 0;
        ent = readdir(d);
        if (ent == NULL) {
            if (errno != 0) {
                sf_io_err(e, errno, "cannot read directory", shown);
                goto out;
            }
            break;
        }
        if (ent->d_name[0] < '1' || ent->d_name[0] > '9')
            continue;
        errno = 0;
        pid = strtol(ent->d_name, &end, 10);
        if (errno != 0 || *end != '-' || pid <= 0 || (long)(pid_t)pid != pid)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (unlinkat(dirfd(d), ent->d_name, 0) != 0 && errno != ENOENT) {
            char *tmp = xasprintf("%s/%s", shown, ent->d_name);

            sf_io_err(e, errno, "cannot remove stale temp file", tmp);
            free(tmp);
            goto out;
        }
    }
    rc = 0;
out:
    if (d != NULL)
        closedir(d);
    free(shown);
    return rc;
}

int storage_file_open(const char *url, struct storage **out, struct err *e)
{
    struct storage_file *sf = NULL;
    char *root = NULL;
    char *shown = config_redact_url(url); /* messages never show a secret */
    int rc = -1;

    *out = NULL;
    if (sf_parse_url(url, shown, &root, e) != 0)
        goto out;
    if (sf_mkdirs(AT_FDCWD, root, NULL, e) != 0) {
        err_prefix(e, "storage \"%s\"", shown);
        goto out;
    }
    sf = xcalloc(1, sizeof(*sf));
    sf->rootfd = -1;
    sf->base.ops = &storage_file_ops;
    sf->base.url = xstrdup(shown);
    sf->root = root;
    root = NULL;
    atomic_init(&sf->counter, 0);
    sf->rootfd = open(sf->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sf->rootfd < 0) {
        sf_io_err(e, errno, "cannot open storage directory", sf->root);
        goto out;
    }
    if (sf_mkdirs(sf->rootfd, SF_TMPDIR, sf->root, e) != 0 || sf_sweep_tmp(sf, e) != 0) {
        err_prefix(e, "storage \"%s\"", shown);
        goto out;
    }
    *out = &sf->base;
    sf = NULL;
    rc = 0;
out:
    if (sf != NULL)
        storage_file_ops.close(&sf->base);
    free(root);
    free(shown);
    return rc;
}

static void sf_close(struct storage *st)
{
    struct storage_file *sf = (struct storage_file *)st;

    if (sf->rootfd >= 0)
        close(sf->rootfd);
    free(sf->root);
    free(sf->base.url);
    free(sf);
}

/* ------------------------------------------------------------------------
 * put, get, head
 * ------------------------------------------------------------------------ */

static int sf_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Create and open a fresh temp file for `key`; its name (relative to the
 * root) goes to *tmp_out. */
static int sf_create_tmp(struct storage_file *sf, const char *key, char **tmp_out, int *fd_out, struct err *e)
{
    const char *slash = strrchr(key, '/');
    const char *name = slash != NULL ? slash + 1 : key;
    char *tmp = NULL;
    int attempt;
    int fd = -1;
    int rc = -1;

    for (attempt = 0;; attempt++) {
        unsigned long n = atomic_fetch_add(&sf->counter, 1);
        char *shown;

        free(tmp);
        tmp = xasprintf(SF_TMPDIR "/%ld-%lu-%.*s", (long)getpid(), n, SF_TMP_NAME_KEEP, name);
        fd = openat(sf->rootfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0)
            break;
        if (errno == EEXIST && attempt < 100)
            continue; /* another handle in this process took the name */
        if (errno == ENOENT && attempt == 0) {
            /* someone removed .tmp under us: make it again, once */
            if (sf_mkdirs(sf->rootfd, SF_TMPDIR, sf->root, e) != 0)
                goto out;
            continue;
        }
        shown = sf_path(sf, tmp);
        sf_io_err(e, errno, "cannot create temp file", shown);
        free(shown);
        goto out;
    }
    *tmp_out = tmp;
    tmp = NULL;
    *fd_out = fd;
    rc = 0;
out:
    free(tmp);
    return rc;
}

static int sf_put(struct storage *st, const char *key, const void *data, size_t len, struct err *e)
{
    struct storage_file *sf = (struct storage_file *)st;
    const char *slash = strrchr(key, '/');
    char *dir = slash != NULL ? xstrndup(key, (size_t)(slash - key)) : NULL;
    const char *base = slash != NULL ? slash + 1 : key;
    char *tmp = NULL;
    char *shown = NULL;
    int attempt;
    int fd = -1, dirfd = -1;
    int rc = -1;

    if (strcmp(key, SF_TMPDIR) == 0 || strncmp(key, SF_TMPDIR "/", sizeof(SF_TMPDIR)) == 0) {
        err_set(e, ERR_CORRUPT, "invalid storage key \"%s\": \"%s\" is reserved in \"%s\"", key, SF_TMPDIR,
                st->url);
        goto out;
    }
    if (sf_create_tmp(sf, key, &tmp, &fd, e) != 0)
        goto out;
    shown = sf_path(sf, tmp);
    if (sf_write_all(fd, data, len) != 0) {
        sf_io_err(e, errno, "cannot write temp file", shown);
        goto out;
    }
    if (fsync(fd) != 0) {
        sf_io_err(e, errno, "cannot fsync temp file", shown);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        sf_io_err(e, errno, "cannot close temp file", shown);
        goto out;
    }
    fd = -1;
    for (attempt = 0;; attempt++) {
        if (dirfd >= 0)
            close(dirfd);
        dirfd = -1;
        if (sf_open_dir(sf, dir != NULL ? dir : "", 1, &dirfd, e) != 0)
            goto out;
        if (renameat(sf->rootfd, tmp, dirfd, base) == 0)
            break;
        /* ENOENT: a concurrent remove pruned the directory just made */
        if (errno == ENOENT && dir != NULL && attempt < SF_RENAME_RETRIES)
            continue;
        free(shown);
        shown = sf_path(sf, key);
        sf_io_err(e, errno, "cannot rename a temp file onto", shown);
        goto out;
    }
    free(tmp);
    tmp = NULL;
    if (fsync(dirfd) != 0) {
        free(shown);
        shown = dir != NULL ? sf_path(sf, dir) : xstrdup(sf->root);
        sf_io_err(e, errno, "cannot fsync directory", shown);
        goto out;
    }
    rc = 0;
out:
    if (dirfd >= 0)
        close(dirfd);
    if (fd >= 0)
        close(fd);
    if (tmp != NULL)
        unlinkat(sf->rootfd, tmp, 0);
    free(tmp);
    free(shown);
    free(dir);
    return rc;
}

/* Open the object `key` for reading: its directories walked without
 * following a link, the object itself may be one (sf_check_inside judges
 * where it leads). -1 (ERR_NOTFOUND when absent) on failure. */
static int sf_open_object(struct storage_file *sf, const char *key, struct err *e)
{
    const char *slash = strrchr(key, '/');
    char *dir = slash != NULL ? xstrndup(key, (size_t)(slash - key)) : xstrdup("");
    int dirfd = -1, fd = -1;

    if (sf_open_dir(sf, dir, 0, &dirfd, e) != 0) {
        if (e->code == ERR_NOTFOUND)
            sf_notfound(sf, key, e);
        goto out;
    }
    fd = openat(dirfd, slash != NULL ? slash + 1 : key, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        char *shown;

        if (errno == ENOENT || errno == ENOTDIR) {
            sf_notfound(sf, key, e);
            goto out;
        }
        shown = sf_path(sf, key);
        sf_io_err(e, errno, "cannot open", shown);
        free(shown);
    }
out:
    if (dirfd >= 0)
        close(dirfd);
    free(dir);
    return fd;
}

static int sf_get(struct storage *st, const char *key, struct buf *out, struct err *e)
{
    struct storage_file *sf = (struct storage_file *)st;
    size_t orig_len = out->len;
    struct stat sb;
    char *shown = NULL;
    int fd;
    int rc = -1;

    fd = sf_open_object(sf, key, e);
    if (fd < 0)
        goto out;
    if (fstat(fd, &sb) != 0) {
        shown = sf_path(sf, key);
        sf_io_err(e, errno, "cannot stat", shown);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        sf_notfound(sf, key, e); /* a directory is not an object */
        goto out;
    }
    if (sf_check_inside(sf, fd, key, e) != 0)
        goto out;
    buf_reserve(out, (size_t)sb.st_size);
    for (;;) {
        ssize_t n;

        if (out->cap - out->len - 1 == 0)
            buf_reserve(out, 64 * 1024);
        n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            shown = sf_path(sf, key);
            sf_io_err(e, errno, "cannot read", shown);
            goto out;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (out->data != NULL) {
        if (rc != 0)
            out->len = orig_len;
        out->data[out->len] = '\0';
    }
    free(shown);
    return rc;
}

static int sf_head(struct storage *st, const char *key, uint64_t *size, struct err *e)
{
    struct storage_file *sf = (struct storage_file *)st;
    struct stat sb;
    int fd = sf_open_object(sf, key, e);
    int rc = -1;

    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) != 0) {
        char *shown = sf_path(sf, key);

        sf_io_err(e, errno, "cannot stat", shown);
        free(shown);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        sf_notfound(sf, key, e);
        goto out;
    }
    if (sf_check_inside(sf, fd, key, e) != 0)
        goto out;
    *size = (uint64_t)sb.st_size;
    rc = 0;
out:
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------
 * list
 * ------------------------------------------------------------------------ */

struct sf_entry {
    char *key;
    uint64_t size;
};

struct sf_listing {
    const char *prefix;
    size_t prefix_len;
    struct sf_entry *v;
    size_t n, cap;
};

static void sf_listing_add(struct sf_listing *l, const char *key, uint64_t size)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n].key = xstrdup(key);
    l->v[l->n].size = size;
    l->n++;
}

static int sf_entry_cmp(const void *a, const void *b)
{
    const struct sf_entry *x = a;
    const struct sf_entry *y = b;

    return strcmp(x->key, y->key); /* compares as unsigned char: byte order */
}

/* Can a key starting with `s` (of length n) match the prefix, or the
 * prefix match it? */
static int sf_prefix_compatible(const struct sf_listing *l, const char *s, size_t n)
{
    return strncmp(s, l->prefix, n < l->prefix_len ? n : l->prefix_len) == 0;
}

/* Collect the regular files under directory `dir` ("" for the root, else
 * ending in '/') whose keys start with the prefix. */
static int sf_walk(struct storage_file *sf, const char *dir, struct sf_listing *l, struct err *e)
{
    struct buf child = BUF_INIT;
    DIR *d = NULL;
    char *shown = NULL;
    int fd;
    int rc = -1;

    fd = openat(sf->rootfd, dir[0] != '\0' ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            rc = 0; /* nothing stored under this prefix */
            goto out;
        }
        shown = sf_path(sf, dir);
        sf_io_err(e, errno, "cannot open directory", shown);
        goto out;
    }
    d = fdopendir(fd);
    if (d == NULL) {
        shown = sf_path(sf, dir);
        sf_io_err(e, errno, "cannot read directory", shown);
        close(fd);
        goto out;
    }
    for (;;) {
        struct dirent *ent;
        struct stat sb;
        int is_link;

        errno = 0;
        ent = readdir(d);
        if (ent == NULL) {
            if (errno != 0) {
                shown = sf_path(sf, dir);
                sf_io_err(e, errno, "cannot read directory", shown);
                goto out;
            }
            break;
        }
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        if (dir[0] == '\0' && strcmp(ent->d_name, SF_TMPDIR) == 0)
            continue;
        buf_reset(&child);
        buf_appendstr(&child, dir);
        buf_appendstr(&child, ent->d_name);
        if (!sf_prefix_compatible(l, child.data, child.len))
            continue;
        if (fstatat(dirfd(d), ent->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue; /* removed while we looked */
            shown = sf_path(sf, child.data);
            sf_io_err(e, errno, "cannot stat", shown);
            goto out;
        }
        /* A symlink counts when it points at a file (get follows it); a
         * link to a directory is not followed, so a loop cannot trap us. */
        is_link = S_ISLNK(sb.st_mode);
        if (is_link && fstatat(dirfd(d), ent->d_name, &sb, 0) != 0)
            continue;
        if (S_ISDIR(sb.st_mode) && !is_link) {
            buf_appendstr(&child, "/");
            if (sf_prefix_compatible(l, child.data, child.len) && sf_walk(sf, child.data, l, e) != 0)
                goto out;
        } else if (S_ISREG(sb.st_mode) && child.len >= l->prefix_len) {
            sf_listing_add(l, child.data, (uint64_t)sb.st_size);
        }
    }
    rc = 0;
out:
    if (d != NULL)
        closedir(d);
    buf_free(&child);
    free(shown);
    return rc;
}

static int sf_list(struct storage *st, const char *prefix, storage_list_cb cb, void *ud, struct err *e)
{
    struct storage_file *sf = (struct storage_file *)st;
    struct sf_listing l;
    const char *slash = strrchr(prefix, '/');
    char *dir = xstrndup(prefix, slash != NULL ? (size_t)(slash - prefix) + 1 : 0);
    size_t i;
    int rc = -1;

    memset(&l, 0, sizeof(l));
    l.prefix = prefix;
    l.prefix_len = strlen(prefix);
    if (sf_walk(sf, dir, &l, e) != 0)
        goto out;
    if (l.n > 1)
        qsort(l.v, l.n, sizeof(*l.v), sf_entry_cmp);
    for (i = 0; i < l.n; i++) {
        if (cb(ud, l.v[i].key, l.v[i].size) != 0)
            break;
    }
    rc = 0;
out:
    for (i = 0; i < l.n; i++)
        free(l.v[i].key);
    free(l.v);
    free(dir);
    return rc;
}

/* ------------------------------------------------------------------------
 * remove
 * ------------------------------------------------------------------------ */

static int sf_remove(struct storage *st, const char *key, struct err *e)
{
    struct storage_file *sf = (struct storage_file *)st;
    char *dir = NULL;
    char *slash;
    int dirfd = -1;

    slash = strrchr(key, '/');
    dir = slash != NULL ? xstrndup(key, (size_t)(slash - key)) : xstrdup("");
    if (sf_open_dir(sf, dir, 0, &dirfd, e) != 0) {
        free(dir);
        if (e->code != ERR_NOTFOUND)
            return -1;
        err_clear(e); /* no directory: no object */
        return 0;
    }
    /* unlinkat removes a link itself, never what it points at */
    if (unlinkat(dirfd, slash != NULL ? slash + 1 : key, 0) != 0 && errno != ENOENT && errno != ENOTDIR &&
        errno != EISDIR) {
        char *shown = sf_path(sf, key);

        sf_io_err(e, errno, "cannot remove", shown);
        free(shown);
        close(dirfd);
        free(dir);
        return -1;
    }
    close(dirfd);
    /* Best effort: drop the directories this left empty, up to the root,
     * each through its parent walked as above. rmdir fails harmlessly on
     * the first one that still holds something. */
    for (;;) {
        struct err ignored;
        int pfd;

        slash = strrchr(dir, '/');
        if (dir[0] == '\0')
            break;
        if (slash != NULL)
            *slash = '\0';
        if (sf_open_dir(sf, slash != NULL ? dir : "", 0, &pfd, &ignored) != 0)
            break;
        if (unlinkat(pfd, slash != NULL ? slash + 1 : dir, AT_REMOVEDIR) != 0) {
            close(pfd);
            break;
        }
        close(pfd);
        if (slash == NULL)
            break;
    }
    free(dir);
    return 0;
}

static const struct storage_ops storage_file_ops = {
    .version = STORAGE_OPS_VERSION,
    .scheme = "file",
    .features = 0,
    .put = sf_put,
    .get = sf_get,
    .head = sf_head,
    .list = sf_list,
    .remove = sf_remove,
    .remove_many = NULL,
    .close = sf_close,
};
