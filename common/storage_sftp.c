/* storage_sftp.c - the sftp:// backend, through libcurl's SFTP (libssh2).
 *
 * sftp://user@host:port/path: objects are files under /path, keys are
 * relative paths below it (directories are made on demand). One curl easy
 * handle per storage handle keeps the SSH session open between requests.
 *
 * Trust: the server's host key must match storage.sftp.known_hosts (an
 * OpenSSH known_hosts file, "[host]:port" lines for other ports than 22)
 * or the storage.sftp.host_key_sha256 pin (the "SHA256:..." that
 * `ssh-keygen -lf` prints); an unknown or changed key is refused, never
 * learned. Login is by key only (use ed25519: libssh2 1.10 signs RSA with
 * SHA-1, which OpenSSH 9 refuses).
 *
 * Atomic put: the bytes go to a temporary name in the target
 * directory, then "rename" makes them visible. SFTP v3 (OpenSSH) refuses
 * to rename onto an existing file, so an overwrite (index.db) removes the
 * old file first and renames again: for that instant the object is
 * absent, never partial. remove takes the directories it leaves empty
 * with it (like the file backend); a put that loses its directory to
 * that in between tries once more. Temporary files are named ".tmp.<name>.<pid>.<n>";
 * keys whose last part starts with ".tmp." are refused, and list skips
 * such files, so one left by a crash is never taken for an object.
 *
 * list walks the directories below the prefix using the server's long
 * listing ("ls -l" lines, as OpenSSH writes them: the first character
 * tells directory from file, the fifth field is the size, the name comes
 * after the date) and sorts the keys in byte order. */
#include "storage.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "xalloc.h"

struct sftp_storage {
    struct storage base;
    CURL *curl;
    CURLU *url;     /* the storage url; its path is replaced per request */
    char *root;     /* decoded remote directory, without trailing '/' */
    char *where;    /* "user@host:port", for messages */
    char *hostport; /* "host:port", for host key messages */
    char *user;
    char *private_key;
    char *public_key; /* "" lets libssh2 derive it from the private key */
    char *known_hosts;
    char *host_key_sha256; /* base64, padded to 44 characters */
    int host_key_verdict;  /* last CURLKHMATCH_* seen by the key callback, -1 = none */
    unsigned long tmp_seq;
    char curl_err[CURL_ERROR_SIZE];
};

/* One SFTP request. */
struct sftp_req {
    const char *path;   /* decoded remote path; a directory ends with '/' */
    const void *upload; /* non-NULL: upload these bytes */
    size_t upload_len;
    int nobody;                   /* stat only (head), or quote commands only */
    int create_dirs;              /* make missing directories for an upload */
    struct curl_slist *quote;     /* before the transfer */
    struct curl_slist *postquote; /* after it */
    struct buf *out;              /* downloaded bytes or listing */
    int stop_at_data;             /* fail with CURLE_WRITE_ERROR on the first byte */
};

struct sftp_upload {
    const char *data;
    size_t len, off;
};

/* ------------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------- */

static size_t sftp_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    const struct sftp_req *rq = ud;

    if (rq->stop_at_data)
        return 0;
    if (rq->out != NULL)
        buf_append(rq->out, ptr, size * nmemb);
    return size * nmemb;
}

static size_t sftp_read_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sftp_upload *up = ud;
    size_t n = size * nmemb;

    if (n > up->len - up->off)
        n = up->len - up->off;
    memcpy(ptr, up->data + up->off, n);
    up->off += n;
    return n;
}

static int sftp_key_cb(CURL *easy, const struct curl_khkey *knownkey, const struct curl_khkey *foundkey,
                       enum curl_khmatch match, void *clientp)
{
    struct sftp_storage *st = clientp;

    (void)easy;
    (void)knownkey;
    (void)foundkey;
    st->host_key_verdict = (int)match;
    return match == CURLKHMATCH_OK ? CURLKHSTAT_FINE : CURLKHSTAT_REJECT;
}

/* The request url: the storage url with `path` as its (encoded) path. */
static char *sftp_url_for(struct sftp_storage *st, const char *path)
{
    CURLU *u = curl_url_dup(st->url);
    char *s = NULL, *out = NULL;

    if (u != NULL && curl_url_set(u, CURLUPART_PATH, path, CURLU_URLENCODE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        out = xstrdup(s);
    curl_free(s);
    curl_url_cleanup(u);
    return out;
}

static CURLcode sftp_perform(struct sftp_storage *st, struct sftp_req *rq)
{
    struct sftp_upload up = {rq->upload, rq->upload_len, 0};
    char *url = sftp_url_for(st, rq->path);
    CURLcode rc = CURLE_OK;

    if (url == NULL)
        return CURLE_URL_MALFORMAT;
    curl_easy_reset(st->curl);
    st->curl_err[0] = '\0';
    st->host_key_verdict = -1;
#define SFTP_SETOPT(opt, val)                                                                                \
    do {                                                                                                     \
        if (rc == CURLE_OK)                                                                                  \
            rc = curl_easy_setopt(st->curl, opt, val);                                                       \
    } while (0)
    SFTP_SETOPT(CURLOPT_URL, url);
    SFTP_SETOPT(CURLOPT_PROTOCOLS_STR, "sftp");
    SFTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
    SFTP_SETOPT(CURLOPT_ERRORBUFFER, st->curl_err);
    SFTP_SETOPT(CURLOPT_CONNECTTIMEOUT, 10L);
    SFTP_SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1024L);
    SFTP_SETOPT(CURLOPT_LOW_SPEED_TIME, 30L);
    SFTP_SETOPT(CURLOPT_SSH_AUTH_TYPES, (long)CURLSSH_AUTH_PUBLICKEY);
    SFTP_SETOPT(CURLOPT_SSH_PRIVATE_KEYFILE, st->private_key);
    SFTP_SETOPT(CURLOPT_SSH_PUBLIC_KEYFILE, st->public_key);
    if (st->known_hosts != NULL) {
        SFTP_SETOPT(CURLOPT_SSH_KNOWNHOSTS, st->known_hosts);
        SFTP_SETOPT(CURLOPT_SSH_KEYFUNCTION, sftp_key_cb);
        SFTP_SETOPT(CURLOPT_SSH_KEYDATA, st);
    }
    if (st->host_key_sha256 != NULL)
        SFTP_SETOPT(CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, st->host_key_sha256);
    SFTP_SETOPT(CURLOPT_WRITEFUNCTION, sftp_write_cb);
    SFTP_SETOPT(CURLOPT_WRITEDATA, rq);
    if (rq->upload != NULL) {
        SFTP_SETOPT(CURLOPT_UPLOAD, 1L);
        SFTP_SETOPT(CURLOPT_READFUNCTION, sftp_read_cb);
        SFTP_SETOPT(CURLOPT_READDATA, &up);
        SFTP_SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->upload_len);
        SFTP_SETOPT(CURLOPT_NEW_FILE_PERMS, 0640L);
    }
    if (rq->create_dirs) {
        SFTP_SETOPT(CURLOPT_FTP_CREATE_MISSING_DIRS, (long)CURLFTP_CREATE_DIR);
        SFTP_SETOPT(CURLOPT_NEW_DIRECTORY_PERMS, 0750L);
    }
    if (rq->nobody)
        SFTP_SETOPT(CURLOPT_NOBODY, 1L);
    if (rq->quote != NULL)
        SFTP_SETOPT(CURLOPT_QUOTE, rq->quote);
    if (rq->postquote != NULL)
        SFTP_SETOPT(CURLOPT_POSTQUOTE, rq->postquote);
#undef SFTP_SETOPT
    if (rc == CURLE_OK)
        rc = curl_easy_perform(st->curl);
    free(url);
    return rc;
}

/* Turn a failed request into one message. `what` is e.g. GET
 * "sftp://host/dir/key". */
static int sftp_error(struct sftp_storage *st, CURLcode c, const char *what, struct err *e)
{
    const char *detail = st->curl_err[0] != '\0' ? st->curl_err : curl_easy_strerror(c);

    if (c == CURLE_PEER_FAILED_VERIFICATION || st->host_key_verdict > CURLKHMATCH_OK) {
        if (st->host_key_verdict == CURLKHMATCH_MISMATCH)
            return err_set(e, ERR_IO,
                           "sftp %s: the host key of \"%s\" does not match known_hosts \"%s\": refusing to "
                           "connect: HINT: if the server's key was changed on purpose, replace its line",
                           what, st->hostport, st->known_hosts);
        if (st->host_key_verdict == CURLKHMATCH_MISSING)
            return err_set(
                e, ERR_IO,
                "sftp %s: host \"%s\" is not in known_hosts \"%s\": refusing to connect: HINT: check "
                "its key and add it (ssh-keyscan)",
                what, st->hostport, st->known_hosts);
        return err_set(e, ERR_IO,
                       "sftp %s: the host key of \"%s\" does not match storage.sftp.host_key_sha256", what,
                       st->hostport);
    }
    if (c == CURLE_LOGIN_DENIED)
        return err_set(e, ERR_IO, "sftp %s: login as \"%s\" refused with key \"%s\"", what, st->where,
                       st->private_key);
    return err_set(e, ERR_IO, "sftp %s: %s", what, detail);
}

/* Append `cmd "path" ["path2"]` to a quote list, quoting for curl. curl
 * reads "/~/" as the home directory only in unquoted paths, so such a
 * path is passed relative, which the server takes from the home
 * directory. */
static int sftp_quote(struct curl_slist **list, const char *cmd, const char *p1, const char *p2)
{
    struct buf b = BUF_INIT;
    const char *paths[2] = {p1, p2};
    struct curl_slist *l;
    int i;

    buf_appendstr(&b, cmd);
    for (i = 0; i < 2 && paths[i] != NULL; i++) {
        const char *s;

        buf_appendstr(&b, " \"");
        s = paths[i];
        if (strncmp(s, "/~/", 3) == 0)
            s += 3;
        for (; *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                buf_append(&b, "\\", 1);
            buf_append(&b, s, 1);
        }
        buf_appendstr(&b, "\"");
    }
    l = curl_slist_append(*list, b.data);
    buf_free(&b);
    if (l == NULL)
        return -1;
    *list = l;
    return 0;
}

/* ------------------------------------------------------------------------
 * Operations
 * ---------------------------------------------------------------------- */

#define SFTP_TMP_MARK ".tmp." /* temporary files start with it */

/* storage.c has checked the key already; the backend adds its own
 * reserved names: temporary files. */
static int sftp_check_key(const struct sftp_storage *st, const char *key, struct err *e)
{
    const char *base = strrchr(key, '/');

    base = base != NULL ? base + 1 : key;
    if (key[0] == '\0' || key[0] == '/' || strncmp(base, SFTP_TMP_MARK, strlen(SFTP_TMP_MARK)) == 0)
        return err_set(e, ERR_CORRUPT,
                       "invalid storage key \"%s\" for \"%s\": names starting with \"%s\" are "
                       "reserved for temporary files",
                       key, st->base.url, SFTP_TMP_MARK);
    return 0;
}

static char *sftp_path(const struct sftp_storage *st, const char *key)
{
    return xasprintf("%s/%s", st->root, key);
}

static char *sftp_describe(const struct sftp_storage *st, const char *op, const char *key)
{
    return xasprintf("%s \"sftp://%s%s/%s\"", op, st->where, st->root, key);
}

static int sftp_put(struct storage *base, const char *key, const void *data, size_t len, struct err *e)
{
    struct sftp_storage *st = (struct sftp_storage *)base;
    struct sftp_req rq = {0};
    struct curl_slist *post = NULL, *fix = NULL, *cleanup = NULL;
    char *final = NULL, *tmp = NULL, *dir = NULL, *what = NULL;
    const char *slash;
    CURLcode c;
    int attempt, rc = -1;

    if (sftp_check_key(st, key, e) < 0)
        goto out;
    final = sftp_path(st, key);
    what = sftp_describe(st, "PUT", key);
    slash = strrchr(final, '/');
    dir = xstrndup(final, (size_t)(slash - final) + 1);
    tmp = xasprintf("%s" SFTP_TMP_MARK "%s.%ld.%lu", dir, slash + 1, (long)getpid(), ++st->tmp_seq);
    if (sftp_quote(&post, "rename", tmp, final) < 0 || sftp_quote(&fix, "rm", final, NULL) < 0 ||
        sftp_quote(&fix, "rename", tmp, final) < 0 || sftp_quote(&cleanup, "*rm", tmp, NULL) < 0) {
        err_set(e, ERR_IO, "out of memory building sftp commands");
        goto out;
    }
    for (attempt = 1;; attempt++) {
        memset(&rq, 0, sizeof(rq));
        rq.path = tmp;
        rq.upload = data != NULL ? data : "";
        rq.upload_len = len;
        rq.create_dirs = 1;
        rq.postquote = post;
        c = sftp_perform(st, &rq);
        /* a remove emptied and removed the directory under our feet: the
         * second try makes it again */
        if (attempt == 2 || (c != CURLE_REMOTE_FILE_NOT_FOUND && c != CURLE_UPLOAD_FAILED))
            break;
    }
    if (c == CURLE_QUOTE_ERROR) {
        /* uploaded, but the rename failed: SFTP v3 does not overwrite */
        memset(&rq, 0, sizeof(rq));
        rq.path = dir;
        rq.nobody = 1;
        rq.quote = fix;
        c = sftp_perform(st, &rq);
    }
    if (c != CURLE_OK) {
        sftp_error(st, c, what, e);
        memset(&rq, 0, sizeof(rq));
        rq.path = dir;
        rq.nobody = 1;
        rq.quote = cleanup;
        sftp_perform(st, &rq); /* best effort: list skips temporary files anyway */
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(post);
    curl_slist_free_all(fix);
    curl_slist_free_all(cleanup);
    free(final);
    free(tmp);
    free(dir);
    free(what);
    return rc;
}

/* 1 when `path` is a directory: its listing has at least "." in it, and
 * the first byte of it is enough to know. */
static int sftp_is_dir(struct sftp_storage *st, const char *path)
{
    struct sftp_req rq = {0};
    char *dir = xasprintf("%s/", path);
    CURLcode c;

    rq.path = dir;
    rq.stop_at_data = 1;
    c = sftp_perform(st, &rq);
    free(dir);
    return c == CURLE_WRITE_ERROR || c == CURLE_OK;
}

/* GET (out != NULL) or HEAD (size != NULL). A directory is not an
 * object: SFTP would stat it like a file (HEAD) or fail to read it with a
 * generic error (GET), so both ask whether the path is one. */
static int sftp_fetch(struct sftp_storage *st, const char *key, struct buf *out, uint64_t *size,
                      struct err *e)
{
    struct sftp_req rq = {0};
    struct buf body = BUF_INIT;
    char *path = NULL, *what = NULL;
    curl_off_t len = -1;
    CURLcode c;
    int rc = -1;

    if (sftp_check_key(st, key, e) < 0)
        goto out;
    path = sftp_path(st, key);
    what = sftp_describe(st, out != NULL ? "GET" : "HEAD", key);
    rq.path = path;
    rq.out = out != NULL ? &body : NULL;
    rq.nobody = out == NULL;
    c = sftp_perform(st, &rq);
    if (c == CURLE_OK && out == NULL)
        curl_easy_getinfo(st->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    if (c == CURLE_REMOTE_FILE_NOT_FOUND || ((c == CURLE_OK || c == CURLE_SSH) && sftp_is_dir(st, path))) {
        err_set(e, ERR_NOTFOUND, "object \"%s\" not found in \"%s\"", key, st->base.url);
        goto out;
    }
    if (c != CURLE_OK) {
        sftp_error(st, c, what, e);
        goto out;
    }
    if (out != NULL) {
        buf_append(out, body.data != NULL ? body.data : "", body.len);
    } else if (len >= 0) {
        *size = (uint64_t)len;
    } else {
        /* curl reports a zero size as unknown: count the bytes instead */
        memset(&rq, 0, sizeof(rq));
        rq.path = path;
        rq.out = &body;
        c = sftp_perform(st, &rq);
        if (c != CURLE_OK) {
            sftp_error(st, c, what, e);
            goto out;
        }
        *size = body.len;
    }
    rc = 0;
out:
    buf_free(&body);
    free(path);
    free(what);
    return rc;
}

static int sftp_get(struct storage *base, const char *key, struct buf *out, struct err *e)
{
    return sftp_fetch((struct sftp_storage *)base, key, out, NULL, e);
}

static int sftp_head(struct storage *base, const char *key, uint64_t *size, struct err *e)
{
    return sftp_fetch((struct sftp_storage *)base, key, NULL, size, e);
}

struct sftp_entry {
    char *key;
    uint64_t size;
};

struct sftp_walk {
    const char *prefix; /* keys must start with it */
    struct sftp_entry *v;
    size_t n, cap;
};

/* Parse one long-listing line: type ('d', '-', ...), size, name. */
static int sftp_parse_long(char *line, char *type, uint64_t *size, char **name)
{
    char *p = line, *fields[8];
    int i;

    for (i = 0; i < 8; i++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return -1;
        fields[i] = p;
        while (*p != ' ' && *p != '\0')
            p++;
        if (*p == '\0')
            return -1;
        *p++ = '\0';
    }
    while (*p == ' ')
        p++;
    if (*p == '\0' || fields[4][0] < '0' || fields[4][0] > '9')
        return -1;
    *type = fields[0][0];
    *size = strtoull(fields[4], NULL, 10);
    *name = p;
    return 0;
}

/* Walk directory `rel` ("" or "a/b/") below the root. */
static int sftp_walk_dir(struct sftp_storage *st, struct sftp_walk *w, const char *rel, int depth,
                         struct err *e)
{
    struct sftp_req rq = {0};
    struct buf listing = BUF_INIT;
    char *path = xasprintf("%s/%s", st->root, rel);
    char *what = xasprintf("list \"sftp://%s%s\"", st->where, path);
    char *line, *next;
    size_t plen = strlen(w->prefix);
    CURLcode c;
    int rc = -1;

    if (depth > 32) {
        err_set(e, ERR_IO, "sftp %s: directories nested too deep", what);
        goto out;
    }
    rq.path = path;
    rq.out = &listing;
    c = sftp_perform(st, &rq);
    if (c == CURLE_REMOTE_FILE_NOT_FOUND) {
        rc = 0; /* nothing stored under this prefix yet */
        goto out;
    }
    if (c != CURLE_OK) {
        sftp_error(st, c, what, e);
        goto out;
    }
    for (line = listing.data; line != NULL && *line != '\0'; line = next) {
        char type, *name, *key;
        uint64_t size;
        size_t klen;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '\0')
            continue;
        if (sftp_parse_long(line, &type, &size, &name) < 0) {
            err_set(e, ERR_IO, "sftp %s: cannot read the listing line \"%.80s\"", what, line);
            goto out;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || (type != 'd' && type != '-') ||
            (type == '-' && strncmp(name, SFTP_TMP_MARK, strlen(SFTP_TMP_MARK)) == 0))
            continue; /* temporary files, links and the like are not objects */
        key = xasprintf("%s%s%s", rel, name, type == 'd' ? "/" : "");
        klen = strlen(key);
        if (type == 'd') {
            /* descend only where keys under the prefix can be */
            int inside = strncmp(key, w->prefix, klen < plen ? klen : plen) == 0;
            int r = inside ? sftp_walk_dir(st, w, key, depth + 1, e) : 0;

            free(key);
            if (r < 0)
                goto out;
            continue;
        }
        if (strncmp(key, w->prefix, plen) != 0) {
            free(key);
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 256;
            w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
        }
        w->v[w->n].key = key;
        w->v[w->n].size = size;
        w->n++;
    }
    rc = 0;
out:
    buf_free(&listing);
    free(path);
    free(what);
    return rc;
}

static int sftp_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sftp_entry *)a)->key, ((const struct sftp_entry *)b)->key);
}

static int sftp_list(struct storage *base, const char *prefix, storage_list_cb cb, void *ud, struct err *e)
{
    struct sftp_storage *st = (struct sftp_storage *)base;
    struct sftp_walk w = {prefix != NULL ? prefix : "", NULL, 0, 0};
    const char *slash = strrchr(w.prefix, '/');
    char *start = xstrndup(w.prefix, slash != NULL ? (size_t)(slash - w.prefix) + 1 : 0);
    size_t i;
    int rc = -1;

    if (sftp_walk_dir(st, &w, start, 0, e) < 0)
        goto out;
    if (w.n > 1)
        qsort(w.v, w.n, sizeof(*w.v), sftp_entry_cmp);
    for (i = 0; i < w.n; i++) {
        if (cb(ud, w.v[i].key, w.v[i].size) != 0)
            break;
    }
    rc = 0;
out:
    for (i = 0; i < w.n; i++)
        free(w.v[i].key);
    free(w.v);
    free(start);
    return rc;
}

static int sftp_remove(struct storage *base, const char *key, struct err *e)
{
    struct sftp_storage *st = (struct sftp_storage *)base;
    struct sftp_req rq = {0};
    struct curl_slist *quote = NULL;
    char *path = NULL, *what = NULL;
    const char *slash;
    uint64_t size;
    CURLcode c;
    int rc = -1;

    if (sftp_check_key(st, key, e) < 0)
        goto out;
    path = sftp_path(st, key);
    what = sftp_describe(st, "DELETE", key);
    if (sftp_quote(&quote, "rm", path, NULL) < 0) {
        err_set(e, ERR_IO, "out of memory building sftp commands");
        goto out;
    }
    /* then the parent directories left empty, up to the root ("*": a
     * directory that still holds something stays) */
    for (slash = strrchr(key, '/'); slash != NULL; slash = memrchr(key, '/', (size_t)(slash - key))) {
        char *dir = xasprintf("%s/%.*s", st->root, (int)(slash - key), key);
        int q = sftp_quote(&quote, "*rmdir", dir, NULL);

        free(dir);
        if (q < 0) {
            err_set(e, ERR_IO, "out of memory building sftp commands");
            goto out;
        }
    }
    rq.path = st->root;
    rq.nobody = 1;
    rq.quote = quote;
    c = sftp_perform(st, &rq);
    if (c == CURLE_QUOTE_ERROR) {
        /* "rm" does not say why it failed: a missing object is fine */
        struct err e2;

        if (sftp_fetch(st, key, NULL, &size, &e2) < 0 && e2.code == ERR_NOTFOUND)
            c = CURLE_OK;
    }
    if (c != CURLE_OK) {
        sftp_error(st, c, what, e);
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(quote);
    free(path);
    free(what);
    return rc;
}

static void sftp_close(struct storage *base)
{
    struct sftp_storage *st = (struct sftp_storage *)base;

    if (st == NULL)
        return;
    if (st->curl != NULL) {
        curl_easy_cleanup(st->curl);
        curl_global_cleanup();
    }
    curl_url_cleanup(st->url);
    free(st->base.url);
    free(st->root);
    free(st->where);
    free(st->hostport);
    free(st->user);
    free(st->private_key);
    free(st->public_key);
    free(st->known_hosts);
    free(st->host_key_sha256);
    free(st);
}

static const struct storage_ops sftp_ops = {
    .version = STORAGE_OPS_VERSION,
    .scheme = "sftp",
    .features = 0,
    .put = sftp_put,
    .get = sftp_get,
    .head = sftp_head,
    .list = sftp_list,
    .remove = sftp_remove,
    .remove_many = NULL,
    .close = sftp_close,
};

/* ------------------------------------------------------------------------
 * Opening
 * ---------------------------------------------------------------------- */

/* Parse the url: user (default: the login name), host, port, path. */
static int sftp_parse_url(struct sftp_storage *st, const char *url, struct err *e)
{
    char *user = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    size_t len;
    int rc = -1;

    st->url = curl_url();
    if (st->url == NULL) {
        err_set(e, ERR_IO, "out of memory parsing storage url \"%s\"", st->base.url);
        goto out;
    }
    if (curl_url_set(st->url, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(st->url, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(st->url, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage url \"%s\" is not a valid sftp://user@host:port/path url",
                st->base.url);
        goto out;
    }
    if (curl_url_get(st->url, CURLUPART_PASSWORD, &extra, 0) == CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage url: sftp logs in with a key only; remove the password from the url");
        goto out;
    }
    if (curl_url_get(st->url, CURLUPART_QUERY, &extra, 0) == CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage url \"%s\": an sftp url has no query", st->base.url);
        goto out;
    }
    if (curl_url_get(st->url, CURLUPART_USER, &user, CURLU_URLDECODE) != CURLUE_OK) {
        struct passwd pw, *res = NULL;
        char pwbuf[4096];

        if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &res) != 0 || res == NULL) {
            err_set(e, ERR_CONFIG, "storage url \"%s\" names no user and the login name is unknown",
                    st->base.url);
            goto out;
        }
        st->user = xstrdup(pw.pw_name);
        if (curl_url_set(st->url, CURLUPART_USER, st->user, CURLU_URLENCODE) != CURLUE_OK) {
            err_set(e, ERR_CONFIG, "storage url \"%s\": cannot set the user", st->base.url);
            goto out;
        }
    } else {
        st->user = xstrdup(user);
    }
    if (curl_url_get(st->url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage url \"%s\": bad port", st->base.url);
        goto out;
    }
    len = strlen(path);
    while (len > 0 && path[len - 1] == '/')
        len--;
    if (len == 0) {
        err_set(e, ERR_CONFIG,
                "storage url \"%s\" names no directory (sftp://host/path or sftp://host/~/path)",
                st->base.url);
        goto out;
    }
    st->root = xstrndup(path, len);
    st->where = xasprintf("%s@%s:%s", st->user, host, port);
    st->hostport = xasprintf("%s:%s", host, port);
    rc = 0;
out:
    curl_free(user);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    return rc;
}

static int sftp_parse_pin(struct sftp_storage *st, const char *pin, struct err *e)
{
    size_t len;

    if (strncmp(pin, "SHA256:", 7) == 0)
        pin += 7;
    len = strlen(pin);
    if (len == 43)
        st->host_key_sha256 = xasprintf("%s=", pin);
    else if (len == 44 && pin[43] == '=')
        st->host_key_sha256 = xstrdup(pin);
    else
        return err_set(
            e, ERR_CONFIG,
            "storage.sftp.host_key_sha256 \"%s\" is not a SHA256 fingerprint: HINT: ssh-keygen -lf "
            "the host's .pub file prints SHA256:<43 characters>",
            pin);
    return 0;
}

int storage_sftp_open(const struct config *cfg, struct storage **out, struct err *e)
{
    struct sftp_storage *st = xcalloc(1, sizeof(*st));
    const struct sftp_config *c = &cfg->sftp;
    int rc = -1;

    *out = NULL;
    st->base.ops = &sftp_ops;
    st->base.url = config_redact_url(cfg->storage_url); /* messages never show a secret */
    if (strncmp(cfg->storage_url, "sftp://", 7) != 0) {
        err_set(e, ERR_CONFIG, "storage url \"%s\" is not an sftp:// url", st->base.url);
        goto out;
    }
    if (sftp_parse_url(st, cfg->storage_url, e) < 0)
        goto out;
    if (c->private_key == NULL || c->private_key[0] == '\0') {
        err_set(e, ERR_CONFIG, "storage url \"%s\" needs storage.sftp.private_key (an ed25519 key)",
                st->base.url);
        goto out;
    }
    if (access(c->private_key, R_OK) < 0) {
        err_sys(e, errno, "cannot read sftp private key \"%s\"", c->private_key);
        e->code = ERR_CONFIG;
        goto out;
    }
    st->private_key = xstrdup(c->private_key);
    if (c->public_key != NULL && c->public_key[0] != '\0') {
        st->public_key = xstrdup(c->public_key);
    } else {
        st->public_key = xasprintf("%s.pub", c->private_key);
        if (access(st->public_key, R_OK) < 0)
            st->public_key[0] = '\0';
    }
    if ((c->known_hosts == NULL || c->known_hosts[0] == '\0') &&
        (c->host_key_sha256 == NULL || c->host_key_sha256[0] == '\0')) {
        err_set(
            e, ERR_CONFIG,
            "storage url \"%s\": no way to check the server's host key: HINT: set storage.sftp.known_hosts "
            "or storage.sftp.host_key_sha256",
            st->base.url);
        goto out;
    }
    if (c->known_hosts != NULL && c->known_hosts[0] != '\0') {
        if (access(c->known_hosts, R_OK) < 0) {
            err_sys(e, errno, "cannot read known_hosts \"%s\"", c->known_hosts);
            e->code = ERR_CONFIG;
            goto out;
        }
        st->known_hosts = xstrdup(c->known_hosts);
    }
    if (c->host_key_sha256 != NULL && c->host_key_sha256[0] != '\0' &&
        sftp_parse_pin(st, c->host_key_sha256, e) < 0)
        goto out;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        err_set(e, ERR_IO, "cannot initialize libcurl");
        goto out;
    }
    st->curl = curl_easy_init();
    if (st->curl == NULL) {
        curl_global_cleanup();
        err_set(e, ERR_IO, "cannot create a libcurl handle for \"%s\"", st->base.url);
        goto out;
    }
    *out = &st->base;
    rc = 0;
out:
    if (rc < 0)
        sftp_close(&st->base);
    return rc;
}
