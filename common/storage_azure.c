/* storage_azure.c - the azure:// backend: Azure Blob storage (and Azurite).
 *
 * azure://ACCOUNT/CONTAINER/PREFIX keeps each object as the block blob
 * "PREFIX/<key>" in CONTAINER, reached at storage.azure.endpoint (by
 * default https://ACCOUNT.blob.core.windows.net; Azurite and the
 * sovereign clouds have their own). Requests are authorized by a shared
 * access signature (SAS) appended to each URL: from
 * storage.azure.sas_token_file (mode 0600 or refused) or the environment
 * (AZURE_STORAGE_SAS_TOKEN). One libcurl easy handle per storage handle,
 * as for s3:// (handles are per thread).
 *
 * The storage.h contract on Azure:
 *  - put: one Put Blob up to the single-put size (256 MiB); above it, Put
 *    Block for each 64 MiB block and Put Block List to commit them. Both
 *    make the new content visible whole at once (uncommitted blocks are
 *    never part of the blob), and carry Content-MD5 so that a body damaged
 *    in transit is refused;
 *  - get and head: 404 BlobNotFound is "not found"; ContainerNotFound is
 *    an error with a hint;
 *  - list: List Blobs with the prefix, following NextMarker (5000 names a
 *    page), names in lexicographic order as Azure returns them;
 *  - remove: Delete Blob, 404 counts as removed (no batch delete: the
 *    Blob Batch API is a multipart format of its own; one by one).
 * Transient failures (connection errors, timeouts, HTTP 5xx and 429) are
 * retried with exponential backoff and jitter (http_retry.c, as for s3://);
 * other 4xx are final. A
 * failure is reported once with the HTTP status and Azure's error code,
 * and never the SAS token (messages name blobs by their azure:// URL). */
#include "storage_azure.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "azure_wire.h"
#include "http_retry.h"
#include "s3_wire.h"
#include "xalloc.h"

#define AZURE_API_VERSION "2021-08-06"
#define AZURE_SAS_FILE_MAX 8192

struct azure_storage {
    struct storage base;
    CURL *curl;
    char *account;
    char *container;
    char *prefix;   /* "" or "dir/": prepended to every key */
    char *endpoint; /* the account's blob service URL, no trailing '/' */
    struct azure_sas sas;
    char *sas_source; /* for messages */
    char *ca_bundle;
    struct azure_tuning tuning;
    struct http_backoff backoff;
    char curl_err[CURL_ERROR_SIZE];
};

struct azure_request {
    const char *method; /* GET, HEAD, PUT, DELETE */
    const char *blob;   /* full blob name (prefix included), or NULL for the container */
    const char *query;  /* our parameters, encoded, without '?'; NULL = none */
    const void *body;   /* PUT */
    size_t body_len;
    const char *blob_type; /* x-ms-blob-type, for Put Blob */
    const char *content_type;
    const char *what; /* "PUT \"azure://account/container/prefix/key\"", for messages */
};

struct azure_response {
    long status;
    struct buf body;
    curl_off_t content_length;
    char error_code[64]; /* x-ms-error-code, for answers without a body (HEAD) */
    int attempts;
};

void storage_azure_tuning_default(struct azure_tuning *t)
{
    t->attempts = 5;
    t->base_delay_ms = 100;
    t->max_delay_ms = 5000;
    t->connect_timeout_s = 10;
    t->low_speed_time_s = 30;
    t->single_put_max = (size_t)256 << 20;
    t->block_size = (size_t)64 << 20;
    t->list_max = 5000;
}

/* ------------------------------------------------------------------------
 * curl callbacks
 * ---------------------------------------------------------------------- */

/* Keeps x-ms-error-code: a HEAD answer has no body to name the error. */
static size_t azure_header_cb(char *line, size_t size, size_t nitems, void *ud)
{
    struct azure_response *rs = ud;
    size_t n = size * nitems, name = strlen("x-ms-error-code:"), i, o = 0;

    if (n > name && strncasecmp(line, "x-ms-error-code:", name) == 0) {
        for (i = name; i < n && o + 1 < sizeof(rs->error_code); i++) {
            if (isalnum((unsigned char)line[i]))
                rs->error_code[o++] = line[i];
        }
        rs->error_code[o] = '\0';
    }
    return n;
}

/* ------------------------------------------------------------------------
 * One request, with retries
 * ---------------------------------------------------------------------- */

static int azure_md5_base64(const void *data, size_t len, char b64[25], struct err *e)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
        return err_set(e, ERR_IO, "cannot compute MD5 with OpenSSL (needed for Content-MD5)");
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    return 0;
}

static int azure_header(struct curl_slist **list, struct err *e, const char *name, const char *value)
{
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(*list, line);

    free(line);
    if (l == NULL)
        return err_set(e, ERR_IO, "out of memory building azure request headers");
    *list = l;
    return 0;
}

static int azure_build_headers(const struct azure_request *rq, struct curl_slist **out, struct err *e)
{
    struct curl_slist *list = NULL;
    char md5[25];
    int rc = -1;

    if (azure_header(&list, e, "x-ms-version", AZURE_API_VERSION) < 0)
        goto out;
    if (rq->body != NULL) {
        if (azure_md5_base64(rq->body, rq->body_len, md5, e) < 0 ||
            azure_header(&list, e, "Content-MD5", md5) < 0)
            goto out;
    }
    if (rq->blob_type != NULL && azure_header(&list, e, "x-ms-blob-type", rq->blob_type) < 0)
        goto out;
    if (rq->content_type != NULL && azure_header(&list, e, "Content-Type", rq->content_type) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        curl_slist_free_all(list);
    else
        *out = list;
    return rc;
}

/* The request URL: it carries the SAS token, so it is never shown. */
static char *azure_request_url(const struct azure_storage *st, const struct azure_request *rq)
{
    struct buf url = BUF_INIT;

    buf_appendstr(&url, st->endpoint);
    buf_appendstr(&url, "/");
    buf_appendstr(&url, st->container);
    if (rq->blob != NULL) {
        buf_appendstr(&url, "/");
        s3_uri_encode(&url, rq->blob, 1);
    }
    buf_appendstr(&url, "?");
    if (rq->query != NULL) {
        buf_appendstr(&url, rq->query);
        buf_appendstr(&url, "&");
    }
    buf_appendstr(&url, st->sas.token);
    return url.data;
}

static CURLcode azure_setopts(struct azure_storage *st, const struct azure_request *rq, const char *url,
                              struct curl_slist *headers, struct http_upload *up, struct azure_response *rs)
{
    CURLcode rc = CURLE_OK;

#define AZ_SETOPT(opt, val)                                                                                  \
    do {                                                                                                     \
        if (rc == CURLE_OK)                                                                                  \
            rc = curl_easy_setopt(st->curl, opt, val);                                                       \
    } while (0)
    AZ_SETOPT(CURLOPT_URL, url);
    AZ_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    AZ_SETOPT(CURLOPT_NOSIGNAL, 1L);
    AZ_SETOPT(CURLOPT_PATH_AS_IS, 1L);
    AZ_SETOPT(CURLOPT_ERRORBUFFER, st->curl_err);
    AZ_SETOPT(CURLOPT_USERAGENT, "aofroll/" AOFROLL_VERSION);
    AZ_SETOPT(CURLOPT_HTTPHEADER, headers);
    AZ_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    AZ_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (st->ca_bundle != NULL)
        AZ_SETOPT(CURLOPT_CAINFO, st->ca_bundle);
    AZ_SETOPT(CURLOPT_CONNECTTIMEOUT, st->tuning.connect_timeout_s);
    AZ_SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1024L);
    AZ_SETOPT(CURLOPT_LOW_SPEED_TIME, st->tuning.low_speed_time_s);
    AZ_SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
    AZ_SETOPT(CURLOPT_WRITEDATA, &rs->body);
    AZ_SETOPT(CURLOPT_HEADERFUNCTION, azure_header_cb);
    AZ_SETOPT(CURLOPT_HEADERDATA, rs);
    if (strcmp(rq->method, "HEAD") == 0) {
        AZ_SETOPT(CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "PUT") == 0) {
        AZ_SETOPT(CURLOPT_UPLOAD, 1L);
        AZ_SETOPT(CURLOPT_READFUNCTION, http_read_cb);
        AZ_SETOPT(CURLOPT_READDATA, up);
        AZ_SETOPT(CURLOPT_SEEKFUNCTION, http_seek_cb);
        AZ_SETOPT(CURLOPT_SEEKDATA, up);
        AZ_SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (strcmp(rq->method, "DELETE") == 0) {
        AZ_SETOPT(CURLOPT_CUSTOMREQUEST, "DELETE");
    }
#undef AZ_SETOPT
    return rc;
}

/* Run `rq` until an answer not worth retrying, or the attempts are spent.
 * Fails only when no HTTP answer came; the caller judges rs->status. */
static int azure_perform(struct azure_storage *st, const struct azure_request *rq, struct azure_response *rs,
                         struct err *e)
{
    struct curl_slist *headers = NULL;
    struct http_upload up = {rq->body, rq->body_len, 0};
    char *url = NULL;
    CURLcode cres = CURLE_OK;
    int attempt, rc = -1;

    rs->status = 0;
    rs->content_length = -1;
    if (azure_build_headers(rq, &headers, e) < 0)
        goto out;
    url = azure_request_url(st, rq);
    for (attempt = 1;; attempt++) {
        buf_reset(&rs->body);
        up.off = 0;
        st->curl_err[0] = '\0';
        rs->status = 0;
        rs->error_code[0] = '\0';
        curl_easy_reset(st->curl);
        cres = azure_setopts(st, rq, url, headers, &up, rs);
        if (cres != CURLE_OK) {
            err_set(e, ERR_IO, "azure %s: cannot set up the request: %s", rq->what, curl_easy_strerror(cres));
            goto out;
        }
        cres = curl_easy_perform(st->curl);
        if (cres == CURLE_OK) {
            curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &rs->status);
            curl_easy_getinfo(st->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &rs->content_length);
        }
        if (cres == CURLE_OK ? !http_status_retryable(rs->status) : !http_curl_retryable(cres))
            break;
        if (attempt >= st->tuning.attempts)
            break;
        http_sleep_ms(http_backoff_ms(&st->backoff, attempt));
    }
    rs->attempts = attempt;
    if (cres != CURLE_OK) {
        err_set(e, ERR_IO, "azure %s: %s (%d attempt%s)", rq->what,
                st->curl_err[0] != '\0' ? st->curl_err : curl_easy_strerror(cres), attempt,
                attempt == 1 ? "" : "s");
        goto out;
    }
    rc = 0;
out:
    if (url != NULL) {
        OPENSSL_cleanse(url, strlen(url));
        free(url);
    }
    curl_slist_free_all(headers);
    return rc;
}

/* Azure's error code for an answer: from its body, else x-ms-error-code. */
static void azure_error_code(const struct azure_response *rs, char *code, size_t codesz, char *message,
                             size_t msgsz)
{
    s3_parse_error(rs->body.data, rs->body.len, code, codesz, message, msgsz);
    message[strcspn(message, "\r\n")] = '\0'; /* Azure appends RequestId and Time lines */
    if (code[0] == '\0' && rs->error_code[0] != '\0')
        snprintf(code, codesz, "%s", rs->error_code);
}

static int azure_status_error(struct azure_storage *st, const struct azure_request *rq,
                              const struct azure_response *rs, struct err *e)
{
    char code[64], message[256], hintbuf[700];
    const char *hint = "";

    azure_error_code(rs, code, sizeof(code), message, sizeof(message));
    if (strcmp(code, "AuthenticationFailed") == 0 || strcmp(code, "AuthorizationFailure") == 0) {
        snprintf(hintbuf, sizeof(hintbuf), ": HINT: check the SAS token from %s (it expires %s)",
                 st->sas_source, st->sas.expiry[0] != '\0' ? st->sas.expiry : "never");
        hint = hintbuf;
    } else if (strcmp(code, "AuthorizationPermissionMismatch") == 0) {
        snprintf(hintbuf, sizeof(hintbuf),
                 ": HINT: the SAS token from %s grants \"%s\"; aofroll needs r, c, w, d and l",
                 st->sas_source, st->sas.perms);
        hint = hintbuf;
    } else if (strcmp(code, "ContainerNotFound") == 0) {
        hint = ": HINT: create the container, or fix the container in storage.url";
    }
    return err_set(e, ERR_IO, "azure %s: HTTP %ld%s%s%s%s (%d attempt%s)%s", rq->what, rs->status,
                   code[0] != '\0' ? " " : "", code, message[0] != '\0' ? ": " : "", message, rs->attempts,
                   rs->attempts == 1 ? "" : "s", hint);
}

/* ------------------------------------------------------------------------
 * Operations
 * ---------------------------------------------------------------------- */

static char *azure_full_key(const struct azure_storage *st, const char *key)
{
    return xasprintf("%s%s", st->prefix, key);
}

static char *azure_describe(const struct azure_storage *st, const char *method, const char *key)
{
    return xasprintf("%s \"azure://%s/%s/%s%s\"", method, st->account, st->container, st->prefix, key);
}

/* One PUT that must answer 201 Created. */
static int azure_put_request(struct azure_storage *st, struct azure_request *rq, struct err *e)
{
    struct azure_response rs = {0, BUF_INIT, 0, "", 0};
    int rc = -1;

    if (azure_perform(st, rq, &rs, e) < 0)
        goto out;
    if (rs.status != 201) {
        azure_status_error(st, rq, &rs, e);
        goto out;
    }
    rc = 0;
out:
    buf_free(&rs.body);
    return rc;
}

/* Above the single-put size: Put Block for each block, then Put Block
 * List, which makes them the blob's content at once. */
static int azure_put_blocks(struct azure_storage *st, const char *full, const char *data, size_t len,
                            const char *what, struct err *e)
{
    struct azure_request rq = {0};
    struct buf query = BUF_INIT, list = BUF_INIT;
    uint64_t n = 0;
    size_t off;
    char id[48];
    int rc = -1;

    rq.method = "PUT";
    rq.blob = full;
    rq.what = what;
    for (off = 0; off < len; off += st->tuning.block_size, n++) {
        size_t piece = len - off < st->tuning.block_size ? len - off : st->tuning.block_size;

        azure_block_id(n, id);
        buf_reset(&query);
        buf_appendstr(&query, "comp=block&blockid=");
        s3_uri_encode(&query, id, 0);
        rq.query = query.data;
        rq.body = data + off;
        rq.body_len = piece;
        rq.content_type = "application/octet-stream";
        if (azure_put_request(st, &rq, e) < 0) {
            err_prefix(e, "block %llu of %zu bytes", (unsigned long long)n, piece);
            goto out;
        }
    }
    azure_block_list(&list, n);
    rq.query = "comp=blocklist";
    rq.body = list.data;
    rq.body_len = list.len;
    rq.content_type = "application/xml";
    if (azure_put_request(st, &rq, e) < 0)
        goto out;
    rc = 0;
out:
    buf_free(&query);
    buf_free(&list);
    return rc;
}

static int azure_put(struct storage *base, const char *key, const void *data, size_t len, struct err *e)
{
    struct azure_storage *st = (struct azure_storage *)base;
    struct azure_request rq = {0};
    char *full = azure_full_key(st, key), *what = azure_describe(st, "PUT", key);
    int rc;

    if (len > st->tuning.single_put_max) {
        rc = azure_put_blocks(st, full, data, len, what, e);
    } else {
        rq.method = "PUT";
        rq.blob = full;
        rq.body = data != NULL ? data : "";
        rq.body_len = len;
        rq.blob_type = "BlockBlob";
        rq.content_type = "application/octet-stream";
        rq.what = what;
        rc = azure_put_request(st, &rq, e);
    }
    free(full);
    free(what);
    return rc;
}

/* A 404: the blob is missing (not found), or the container is (an error). */
static int azure_not_found(struct azure_storage *st, const struct azure_request *rq,
                           const struct azure_response *rs, const char *key, struct err *e)
{
    char code[64], message[8];

    azure_error_code(rs, code, sizeof(code), message, sizeof(message));
    if (strcmp(code, "ContainerNotFound") == 0)
        return azure_status_error(st, rq, rs, e);
    return err_set(e, ERR_NOTFOUND, "object \"%s\" not found in \"%s\"", key, st->base.url);
}

/* GET (out != NULL) or HEAD (size != NULL). */
static int azure_fetch(struct azure_storage *st, const char *key, struct buf *out, uint64_t *size,
                       struct err *e)
{
    struct azure_response rs = {0, BUF_INIT, 0, "", 0};
    struct azure_request rq = {0};
    char *full = azure_full_key(st, key), *what = NULL;
    int rc = -1;

    rq.method = out != NULL ? "GET" : "HEAD";
    what = azure_describe(st, rq.method, key);
    rq.blob = full;
    rq.what = what;
    if (azure_perform(st, &rq, &rs, e) < 0)
        goto out;
    if (rs.status == 404) {
        azure_not_found(st, &rq, &rs, key, e);
        goto out;
    }
    if (rs.status != 200) {
        azure_status_error(st, &rq, &rs, e);
        goto out;
    }
    if (out != NULL) {
        if (rs.content_length >= 0 && (uint64_t)rs.content_length != rs.body.len) {
            err_set(e, ERR_IO, "azure %s: %zu bytes received of %lld", what, rs.body.len,
                    (long long)rs.content_length);
            goto out;
        }
        buf_append(out, rs.body.data != NULL ? rs.body.data : "", rs.body.len);
    } else {
        if (rs.content_length < 0) {
            err_set(e, ERR_IO, "azure %s: the answer has no Content-Length", what);
            goto out;
        }
        *size = (uint64_t)rs.content_length;
    }
    rc = 0;
out:
    buf_free(&rs.body);
    free(full);
    free(what);
    return rc;
}

static int azure_get(struct storage *base, const char *key, struct buf *out, struct err *e)
{
    return azure_fetch((struct azure_storage *)base, key, out, NULL, e);
}

static int azure_head(struct storage *base, const char *key, uint64_t *size, struct err *e)
{
    return azure_fetch((struct azure_storage *)base, key, NULL, size, e);
}

struct azure_list_ctx {
    const struct azure_storage *st;
    storage_list_cb cb;
    void *ud;
    int bad_key; /* a listed name did not start with the prefix */
};

static int azure_list_entry(void *ud, const char *name, uint64_t size)
{
    struct azure_list_ctx *ctx = ud;
    size_t plen = strlen(ctx->st->prefix);

    if (strncmp(name, ctx->st->prefix, plen) != 0 || name[plen] == '\0') {
        ctx->bad_key = 1;
        return 1;
    }
    return ctx->cb(ctx->ud, name + plen, size);
}

static int azure_list(struct storage *base, const char *prefix, storage_list_cb cb, void *ud, struct err *e)
{
    struct azure_storage *st = (struct azure_storage *)base;
    struct azure_list_ctx ctx = {st, cb, ud, 0};
    struct azure_response rs = {0, BUF_INIT, 0, "", 0};
    struct azure_list_page page = {NULL, 0};
    struct azure_request rq = {0};
    struct buf query = BUF_INIT;
    char *full = azure_full_key(st, prefix != NULL ? prefix : "");
    char *where = xasprintf("\"azure://%s/%s/%s\"", st->account, st->container, full);
    char *what = xasprintf("list %s", where);
    char *marker = NULL;
    int rc = -1;

    rq.method = "GET";
    rq.what = what;
    do {
        buf_reset(&query);
        buf_printf(&query, "restype=container&comp=list&maxresults=%d", st->tuning.list_max);
        if (full[0] != '\0') {
            buf_appendstr(&query, "&prefix=");
            s3_uri_encode(&query, full, 0);
        }
        if (marker != NULL) {
            buf_appendstr(&query, "&marker=");
            s3_uri_encode(&query, marker, 0);
        }
        rq.query = query.data;
        if (azure_perform(st, &rq, &rs, e) < 0)
            goto out;
        if (rs.status != 200) {
            azure_status_error(st, &rq, &rs, e);
            goto out;
        }
        if (azure_parse_list(rs.body.data, rs.body.len, where, azure_list_entry, &ctx, &page, e) < 0)
            goto out;
        if (ctx.bad_key) {
            err_set(e, ERR_IO, "listing %s: Azure answered a name outside the prefix", where);
            goto out;
        }
        if (page.next_marker != NULL && marker != NULL && strcmp(page.next_marker, marker) == 0) {
            err_set(e, ERR_IO, "listing %s: Azure answered the same NextMarker twice", where);
            goto out;
        }
        free(marker);
        marker = page.next_marker;
        page.next_marker = NULL;
    } while (marker != NULL && !page.stopped);
    rc = 0;
out:
    azure_list_page_free(&page);
    buf_free(&rs.body);
    buf_free(&query);
    free(marker);
    free(full);
    free(where);
    free(what);
    return rc;
}

static int azure_remove(struct storage *base, const char *key, struct err *e)
{
    struct azure_storage *st = (struct azure_storage *)base;
    struct azure_response rs = {0, BUF_INIT, 0, "", 0};
    struct azure_request rq = {0};
    char *full = azure_full_key(st, key), *what = azure_describe(st, "DELETE", key);
    char code[64], message[8];
    int rc = -1;

    rq.method = "DELETE";
    rq.blob = full;
    rq.what = what;
    if (azure_perform(st, &rq, &rs, e) < 0)
        goto out;
    if (rs.status == 404) {
        azure_error_code(&rs, code, sizeof(code), message, sizeof(message));
        if (strcmp(code, "ContainerNotFound") == 0) {
            azure_status_error(st, &rq, &rs, e);
            goto out;
        }
    } else if (rs.status != 202 && rs.status != 200) {
        azure_status_error(st, &rq, &rs, e);
        goto out;
    }
    rc = 0;
out:
    buf_free(&rs.body);
    free(full);
    free(what);
    return rc;
}

static void azure_close(struct storage *base)
{
    struct azure_storage *st = (struct azure_storage *)base;

    if (st == NULL)
        return;
    if (st->curl != NULL) {
        curl_easy_cleanup(st->curl);
        curl_global_cleanup();
    }
    azure_sas_free(&st->sas);
    free(st->sas_source);
    free(st->base.url);
    free(st->base.auth);
    free(st->account);
    free(st->container);
    free(st->prefix);
    free(st->endpoint);
    free(st->ca_bundle);
    free(st);
}

static const struct storage_ops azure_ops = {
    .version = STORAGE_OPS_VERSION,
    .scheme = "azure",
    .features = 0,
    .put = azure_put,
    .get = azure_get,
    .head = azure_head,
    .list = azure_list,
    .remove = azure_remove,
    .remove_many = NULL,
    .close = azure_close,
};

/* ------------------------------------------------------------------------
 * Opening: URL, endpoint, SAS token
 * ---------------------------------------------------------------------- */

/* Account: 3-24 lower-case letters and digits. Container: 3-63 of
 * lower-case letters, digits and '-', starting and ending with a letter
 * or digit, no "--". */
static int azure_name_ok(const char *s, size_t min, size_t max, int dashes)
{
    size_t n = strlen(s), i;

    if (n < min || n > max)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            continue;
        if (dashes && c == '-' && i > 0 && i + 1 < n && s[i - 1] != '-')
            continue;
        return 0;
    }
    return 1;
}

/* "azure://account/container[/prefix]". */
static int azure_parse_url(struct azure_storage *st, const char *url, struct err *e)
{
    const char *p = url + strlen("azure://"), *slash, *pre, *pre_end;

    slash = strchr(p, '/');
    if (slash == NULL)
        return err_set(e, ERR_CONFIG, "storage url \"%s\": expected azure://account/container/prefix", url);
    st->account = xstrndup(p, (size_t)(slash - p));
    p = slash + 1;
    slash = strchr(p, '/');
    st->container = slash != NULL ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
    if (!azure_name_ok(st->account, 3, 24, 0))
        return err_set(
            e, ERR_CONFIG,
            "storage url \"%s\": invalid storage account \"%s\" (3 to 24 lower-case letters and digits)", url,
            st->account);
    if (!azure_name_ok(st->container, 3, 63, 1))
        return err_set(e, ERR_CONFIG,
                       "storage url \"%s\": invalid container \"%s\" (3 to 63 lower-case letters, digits and "
                       "single '-' inside)",
                       url, st->container);
    pre = slash != NULL ? slash : "";
    while (*pre == '/')
        pre++;
    pre_end = pre + strlen(pre);
    while (pre_end > pre && pre_end[-1] == '/')
        pre_end--;
    if (memchr(pre, '?', (size_t)(pre_end - pre)) != NULL ||
        memchr(pre, '#', (size_t)(pre_end - pre)) != NULL)
        return err_set(e, ERR_CONFIG, "storage url \"%s\": an azure url has no query or fragment", url);
    st->prefix = pre_end > pre ? xasprintf("%.*s/", (int)(pre_end - pre), pre) : xstrdup("");
    return 0;
}

static int azure_parse_endpoint(struct azure_storage *st, const struct azure_config *c, struct err *e)
{
    char *endpoint = c->endpoint != NULL ? xstrdup(c->endpoint)
                                         : xasprintf("https://%s.blob.core.windows.net", st->account);
    CURLU *u = curl_url();
    char *scheme = NULL, *extra = NULL;
    size_t n;
    int rc = -1;

    if (u == NULL) {
        err_set(e, ERR_IO, "out of memory parsing storage.azure.endpoint");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage.azure.endpoint \"%s\" is not a valid url", endpoint);
        goto out;
    }
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
        err_set(e, ERR_CONFIG, "storage.azure.endpoint \"%s\": only http:// and https:// are supported",
                endpoint);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0) == CURLUE_OK) {
        err_set(
            e, ERR_CONFIG,
            "storage.azure.endpoint \"%s\": expected scheme://host[:port][/path] and nothing more (the SAS "
            "token goes in AZURE_STORAGE_SAS_TOKEN or sas_token_file)",
            endpoint);
        goto out;
    }
    n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    st->endpoint = xstrndup(endpoint, n);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(extra);
    curl_url_cleanup(u);
    free(endpoint);
    return rc;
}

/* A plain http:// endpoint off the box carries the SAS token, a bearer
 * credential, in every request line: worth a warning (Azurite on loopback
 * is not). */
int storage_azure_cleartext(const struct config *cfg, char *why, size_t n)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL;
    int plain = 0;

    if (cfg->azure.endpoint == NULL || cfg->azure.endpoint[0] == '\0')
        return 0; /* https://ACCOUNT.blob.core.windows.net */
    u = curl_url();
    if (u == NULL)
        return 0;
    if (curl_url_set(u, CURLUPART_URL, cfg->azure.endpoint, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && strcasecmp(scheme, "http") == 0 &&
        strcasecmp(host, "localhost") != 0 && strncmp(host, "127.", 4) != 0 && strcmp(host, "[::1]") != 0) {
        plain = 1;
        snprintf(why, n,
                 "storage.azure.endpoint \"%s\" is plain http: the SAS token, the chunks and the index copy "
                 "cross the network unencrypted. HINT: use https://",
                 cfg->azure.endpoint);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return plain;
}

/* The SAS token from sas_token_file (0600 or 0400), else the environment. */
static int azure_load_sas(struct azure_storage *st, const struct azure_config *c, struct err *e)
{
    const char *env = getenv("AZURE_STORAGE_SAS_TOKEN");
    char text[AZURE_SAS_FILE_MAX + 1];
    struct stat stbuf;
    ssize_t n;
    size_t len = 0;
    int fd = -1, rc = -1;

    if (c->sas_token_file == NULL) {
        if (env == NULL || env[0] == '\0')
            return err_set(
                e, ERR_CONFIG,
                "no azure SAS token: AZURE_STORAGE_SAS_TOKEN is not set and storage.azure.sas_token_file "
                "is not configured: HINT: create a SAS for the container with permissions racwdl");
        st->sas_source = xstrdup("AZURE_STORAGE_SAS_TOKEN");
        return azure_sas_parse(env, st->sas_source, &st->sas, e);
    }
    st->sas_source = xasprintf("SAS token file \"%s\"", c->sas_token_file);
    fd = open(c->sas_token_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_sys(e, errno, "cannot open SAS token file \"%s\"", c->sas_token_file);
        goto out;
    }
    if (fstat(fd, &stbuf) < 0) {
        err_sys(e, errno, "cannot stat SAS token file \"%s\"", c->sas_token_file);
        goto out;
    }
    if ((stbuf.st_mode & 077) != 0) {
        err_set(e, ERR_CONFIG, "SAS token file \"%s\" is readable by others (mode %04o): HINT: chmod 600 %s",
                c->sas_token_file, (unsigned)(stbuf.st_mode & 07777), c->sas_token_file);
        goto out;
    }
    while (len < AZURE_SAS_FILE_MAX && (n = read(fd, text + len, AZURE_SAS_FILE_MAX - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_sys(e, errno, "cannot read SAS token file \"%s\"", c->sas_token_file);
            goto out;
        }
        len += (size_t)n;
    }
    if (len == AZURE_SAS_FILE_MAX) {
        err_set(e, ERR_CONFIG, "SAS token file \"%s\" is larger than %d bytes", c->sas_token_file,
                AZURE_SAS_FILE_MAX);
        goto out;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        err_set(e, ERR_CONFIG, "SAS token file \"%s\" is not text", c->sas_token_file);
        goto out;
    }
    rc = azure_sas_parse(text, st->sas_source, &st->sas, e);
out:
    OPENSSL_cleanse(text, sizeof(text));
    if (fd >= 0)
        close(fd);
    return rc;
}

int storage_azure_open_tuned(const struct config *cfg, const struct azure_tuning *t, struct storage **out,
                             struct err *e)
{
    struct azure_storage *st = xcalloc(1, sizeof(*st));
    int rc = -1;

    *out = NULL;
    st->base.ops = &azure_ops;
    st->base.url = xstrdup(cfg->storage_url);
    st->tuning = *t;
    if (st->tuning.attempts < 1)
        st->tuning.attempts = 1;
    if (st->tuning.block_size == 0)
        st->tuning.block_size = (size_t)64 << 20;
    if (st->tuning.list_max < 1 || st->tuning.list_max > 5000)
        st->tuning.list_max = 5000;
    if (strncmp(cfg->storage_url, "azure://", 8) != 0) {
        err_set(e, ERR_CONFIG, "storage url \"%s\" is not an azure:// url", cfg->storage_url);
        goto out;
    }
    if (azure_parse_url(st, cfg->storage_url, e) < 0 || azure_parse_endpoint(st, &cfg->azure, e) < 0 ||
        azure_load_sas(st, &cfg->azure, e) < 0)
        goto out;
    st->base.auth = xasprintf("SAS token from %s (permissions \"%s\", expires %s)", st->sas_source,
                              st->sas.perms, st->sas.expiry[0] != '\0' ? st->sas.expiry : "never");
    st->ca_bundle = cfg->azure.ca_bundle != NULL && cfg->azure.ca_bundle[0] != '\0'
                        ? xstrdup(cfg->azure.ca_bundle)
                        : NULL;
    http_backoff_init(&st->backoff, st->tuning.base_delay_ms, st->tuning.max_delay_ms, st);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        err_set(e, ERR_IO, "cannot initialize libcurl");
        goto out;
    }
    st->curl = curl_easy_init();
    if (st->curl == NULL) {
        curl_global_cleanup();
        err_set(e, ERR_IO, "cannot create a libcurl handle for \"%s\"", cfg->storage_url);
        goto out;
    }
    *out = &st->base;
    rc = 0;
out:
    if (rc < 0)
        azure_close(&st->base);
    return rc;
}

int storage_azure_open(const struct config *cfg, struct storage **out, struct err *e)
{
    struct azure_tuning t;

    storage_azure_tuning_default(&t);
    return storage_azure_open_tuned(cfg, &t, out, e);
}
