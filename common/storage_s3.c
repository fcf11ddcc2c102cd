/* storage_s3.c - the s3:// backend: AWS S3, MinIO, Ceph RGW, any S3 API.
 *
 * Requests go through one libcurl easy handle per storage handle (so the
 * connection is reused; handles are per thread) and are signed by curl's
 * own SigV4 (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3"). Three things curl
 * 7.88 leaves to us, each a trap when missed (docs/storage.md):
 *  - x-amz-content-sha256 on every request, the hex SHA-256 of the body;
 *  - the query string sorted and URI-encoded before curl signs it as is
 *    ("?delete" is signed wrongly; "?delete=" is right);
 *  - no "Expect:" line of our own (curl would sign a header it drops).
 *
 * Object keys are "<prefix>/<key>" under s3://bucket/prefix. PUT sends
 * Content-MD5 so that S3 rejects a body damaged in transit; S3 makes a
 * PUT visible whole or not at all, which is the atomic put of storage.h.
 * Transient failures (connection errors, timeouts, HTTP 5xx and 429) are
 * retried with exponential backoff and jitter (http_retry.c, shared with
 * azure://); other 4xx are final. A
 * failure is reported once, with the HTTP status, S3's error code and
 * message, and never the secret. Credentials come from s3_cred.c's chain,
 * asked before each request so that temporary ones are refreshed before
 * they expire; an ExpiredToken answer refreshes them and retries once. */
#include "storage_s3.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "http_retry.h"
#include "s3_cred.h"
#include "s3_wire.h"
#include "xalloc.h"

#define S3_DELETE_BATCH 1000  /* DeleteObjects limit */
#define S3_LIST_EMPTY_MAX 100 /* truncated pages in a row without a key before a listing is given up */

struct s3_storage {
    struct storage base;
    CURL *curl;
    char *bucket;
    char *prefix;      /* "" or "dir/": prepended to every key */
    char *origin;      /* "https://host[:port]", with "bucket." when virtual-hosted */
    char *bucket_path; /* "/bucket" with path_style, else "" */
    char *sigv4;       /* "aws:amz:REGION:s3" */
    struct s3_cred_chain *cred;
    char *storage_class; /* NULL = bucket default */
    char *sse;           /* NULL = none */
    char *ca_bundle;
    struct s3_tuning tuning;
    struct http_backoff backoff;
    char curl_err[CURL_ERROR_SIZE];
};

/* One request as the retry loop sees it. */
struct s3_request {
    const char *method; /* GET, HEAD, PUT, DELETE, POST */
    const char *key;    /* full key (prefix included), or NULL for the bucket */
    const char *query;  /* sorted and encoded, without '?'; NULL = none */
    const void *body;   /* PUT and POST */
    size_t body_len;
    const char *content_type; /* NULL = none */
    int object_headers;       /* PUT: storage class and encryption */
    const char *what;         /* "PUT \"s3://bucket/prefix/key\"", for messages */
};

struct s3_response {
    long status;
    struct buf body;
    curl_off_t content_length;
    int attempts;
};

void storage_s3_tuning_default(struct s3_tuning *t)
{
    t->attempts = 5;
    t->base_delay_ms = 100;
    t->max_delay_ms = 5000;
    t->connect_timeout_s = 10;
    t->low_speed_time_s = 30;
}

/* ------------------------------------------------------------------------
 * Digests (OpenSSL EVP)
 * ---------------------------------------------------------------------- */

static int s3_sha256_hex(const void *data, size_t len, char hex[65], struct err *e)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, i;

    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return err_set(e, ERR_IO, "cannot compute SHA-256 with OpenSSL");
    for (i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

static int s3_md5_base64(const void *data, size_t len, char b64[25], struct err *e)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
        return err_set(e, ERR_IO, "cannot compute MD5 with OpenSSL (needed for Content-MD5)");
    EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
    return 0;
}

/* ------------------------------------------------------------------------
 * One request, with retries
 * ---------------------------------------------------------------------- */

static int s3_header(struct curl_slist **list, struct err *e, const char *name, const char *value)
{
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(*list, line);

    free(line);
    if (l == NULL)
        return err_set(e, ERR_IO, "out of memory building s3 request headers");
    *list = l;
    return 0;
}

static int s3_build_headers(struct s3_storage *st, const struct s3_request *rq, const struct s3_cred *cred,
                            struct curl_slist **out, struct err *e)
{
    struct curl_slist *list = NULL;
    char sha[65], md5[25];
    int rc = -1;

    if (s3_sha256_hex(rq->body != NULL ? rq->body : "", rq->body_len, sha, e) < 0)
        goto out;
    if (s3_header(&list, e, "x-amz-content-sha256", sha) < 0)
        goto out;
    if (rq->body != NULL) {
        if (s3_md5_base64(rq->body, rq->body_len, md5, e) < 0 || s3_header(&list, e, "Content-MD5", md5) < 0)
            goto out;
    }
    if (rq->content_type != NULL && s3_header(&list, e, "Content-Type", rq->content_type) < 0)
        goto out;
    if (cred->session_token != NULL && s3_header(&list, e, "x-amz-security-token", cred->session_token) < 0)
        goto out;
    if (rq->object_headers && st->storage_class != NULL &&
        s3_header(&list, e, "x-amz-storage-class", st->storage_class) < 0)
        goto out;
    if (rq->object_headers && st->sse != NULL &&
        s3_header(&list, e, "x-amz-server-side-encryption", st->sse) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0)
        curl_slist_free_all(list);
    else
        *out = list;
    return rc;
}

static char *s3_request_url(const struct s3_storage *st, const struct s3_request *rq)
{
    struct buf url = BUF_INIT;

    buf_appendstr(&url, st->origin);
    buf_appendstr(&url, st->bucket_path);
    if (rq->key != NULL) {
        buf_appendstr(&url, "/");
        s3_uri_encode(&url, rq->key, 1);
    } else if (st->bucket_path[0] == '\0') {
        buf_appendstr(&url, "/");
    }
    if (rq->query != NULL) {
        buf_appendstr(&url, "?");
        buf_appendstr(&url, rq->query);
    }
    return url.data;
}

/* Set every option for one attempt; the handle was reset before. */
static CURLcode s3_setopts(struct s3_storage *st, const struct s3_request *rq, const char *url,
                           const struct s3_cred *cred, struct curl_slist *headers, struct http_upload *up,
                           struct s3_response *rs)
{
    CURLcode rc = CURLE_OK;

#define S3_SETOPT(opt, val)                                                                                  \
    do {                                                                                                     \
        if (rc == CURLE_OK)                                                                                  \
            rc = curl_easy_setopt(st->curl, opt, val);                                                       \
    } while (0)
    S3_SETOPT(CURLOPT_URL, url);
    S3_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    S3_SETOPT(CURLOPT_NOSIGNAL, 1L);
    S3_SETOPT(CURLOPT_PATH_AS_IS, 1L);
    S3_SETOPT(CURLOPT_ERRORBUFFER, st->curl_err);
    S3_SETOPT(CURLOPT_USERAGENT, "aofroll/" AOFROLL_VERSION);
    S3_SETOPT(CURLOPT_AWS_SIGV4, st->sigv4);
    S3_SETOPT(CURLOPT_USERNAME, cred->access_key);
    S3_SETOPT(CURLOPT_PASSWORD, cred->secret_key);
    S3_SETOPT(CURLOPT_HTTPHEADER, headers);
    S3_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    S3_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (st->ca_bundle != NULL)
        S3_SETOPT(CURLOPT_CAINFO, st->ca_bundle);
    S3_SETOPT(CURLOPT_CONNECTTIMEOUT, st->tuning.connect_timeout_s);
    S3_SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1024L);
    S3_SETOPT(CURLOPT_LOW_SPEED_TIME, st->tuning.low_speed_time_s);
    S3_SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
    S3_SETOPT(CURLOPT_WRITEDATA, &rs->body);
    if (strcmp(rq->method, "HEAD") == 0) {
        S3_SETOPT(CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "PUT") == 0) {
        S3_SETOPT(CURLOPT_UPLOAD, 1L);
        S3_SETOPT(CURLOPT_READFUNCTION, http_read_cb);
        S3_SETOPT(CURLOPT_READDATA, up);
        S3_SETOPT(CURLOPT_SEEKFUNCTION, http_seek_cb);
        S3_SETOPT(CURLOPT_SEEKDATA, up);
        S3_SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (strcmp(rq->method, "POST") == 0) {
        S3_SETOPT(CURLOPT_POST, 1L);
        S3_SETOPT(CURLOPT_POSTFIELDS, rq->body);
        S3_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (strcmp(rq->method, "DELETE") == 0) {
        S3_SETOPT(CURLOPT_CUSTOMREQUEST, "DELETE");
    }
#undef S3_SETOPT
    return rc;
}

/* Run `rq` until it gets an answer that is not worth retrying, or the
 * attempts are spent. Fails only when no HTTP answer came at all; the
 * caller judges rs->status. */
static int s3_perform_signed(struct s3_storage *st, const struct s3_request *rq, const struct s3_cred *cred,
                             struct s3_response *rs, struct err *e)
{
    struct curl_slist *headers = NULL;
    struct http_upload up = {rq->body, rq->body_len, 0};
    char *url = NULL;
    CURLcode cres = CURLE_OK;
    int attempt, rc = -1;

    rs->status = 0;
    rs->content_length = -1;
    if (s3_build_headers(st, rq, cred, &headers, e) < 0)
        goto out;
    url = s3_request_url(st, rq);
    for (attempt = 1;; attempt++) {
        buf_reset(&rs->body);
        up.off = 0;
        st->curl_err[0] = '\0';
        rs->status = 0;
        curl_easy_reset(st->curl);
        cres = s3_setopts(st, rq, url, cred, headers, &up, rs);
        if (cres != CURLE_OK) {
            err_set(e, ERR_IO, "s3 %s: cannot set up the request: %s", rq->what, curl_easy_strerror(cres));
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
        err_set(e, ERR_IO, "s3 %s: %s (%d attempt%s)", rq->what,
                st->curl_err[0] != '\0' ? st->curl_err : curl_easy_strerror(cres), attempt,
                attempt == 1 ? "" : "s");
        goto out;
    }
    rc = 0;
out:
    free(url);
    curl_slist_free_all(headers);
    return rc;
}

/* S3's answer to temporary credentials that lapsed before we saw it. */
static int s3_token_expired(const struct s3_response *rs)
{
    char code[64], message[8];

    if (rs->status != 400 && rs->status != 403)
        return 0;
    s3_parse_error(rs->body.data, rs->body.len, code, sizeof(code), message, sizeof(message));
    return strcmp(code, "ExpiredToken") == 0 || strcmp(code, "TokenRefreshRequired") == 0;
}

/* Sign `rq` with the current credentials (refreshed when near their
 * expiry) and run it; when S3 says the token has expired, refresh them at
 * once and run it again, once. */
static int s3_perform(struct s3_storage *st, const struct s3_request *rq, struct s3_response *rs,
                      struct err *e)
{
    const struct s3_cred *cred;

    if (s3_cred_chain_get(st->cred, 0, &cred, e) < 0 || s3_perform_signed(st, rq, cred, rs, e) < 0)
        return -1;
    if (cred->expires == 0 || !s3_token_expired(rs))
        return 0;
    if (s3_cred_chain_get(st->cred, 1, &cred, e) < 0)
        return -1;
    return s3_perform_signed(st, rq, cred, rs, e);
}

/* Report an HTTP answer that is a failure: status, S3 code and message,
 * attempts, and a hint for the usual mistakes. */
static int s3_status_error(struct s3_storage *st, const struct s3_request *rq, const struct s3_response *rs,
                           enum err_code code, struct err *e)
{
    char s3code[64], message[256];
    const char *hint = "";
    char hintbuf[600];

    s3_parse_error(rs->body.data, rs->body.len, s3code, sizeof(s3code), message, sizeof(message));
    if (s3code[0] == '\0' && rs->status == 403)
        snprintf(s3code, sizeof(s3code), "%s", "Forbidden");
    if (strcmp(s3code, "SignatureDoesNotMatch") == 0) {
        snprintf(hintbuf, sizeof(hintbuf), ": HINT: check the secret key from %s",
                 s3_cred_chain_describe(st->cred));
        hint = hintbuf;
    } else if (strcmp(s3code, "InvalidAccessKeyId") == 0) {
        snprintf(hintbuf, sizeof(hintbuf), ": HINT: check the access key from %s",
                 s3_cred_chain_describe(st->cred));
        hint = hintbuf;
    } else if (strcmp(s3code, "PermanentRedirect") == 0 ||
               strcmp(s3code, "AuthorizationHeaderMalformed") == 0 || rs->status == 301) {
        hint = ": HINT: check storage.s3.region and storage.s3.endpoint";
    } else if (strcmp(s3code, "NoSuchBucket") == 0) {
        hint = ": HINT: create the bucket, or fix the bucket in storage.url";
    }
    return err_set(e, code, "s3 %s: HTTP %ld%s%s%s%s (%d attempt%s)%s", rq->what, rs->status,
                   s3code[0] != '\0' ? " " : "", s3code, message[0] != '\0' ? ": " : "", message,
                   rs->attempts, rs->attempts == 1 ? "" : "s", hint);
}

/* ------------------------------------------------------------------------
 * Operations
 * ---------------------------------------------------------------------- */

static char *s3_full_key(const struct s3_storage *st, const char *key)
{
    return xasprintf("%s%s", st->prefix, key);
}

static char *s3_describe(const struct s3_storage *st, const char *method, const char *key)
{
    return xasprintf("%s \"s3://%s/%s%s\"", method, st->bucket, st->prefix, key);
}

static int s3_check_key(const struct s3_storage *st, const char *key, struct err *e)
{
    if (key[0] == '\0' || key[0] == '/')
        return err_set(e, ERR_CORRUPT, "invalid storage key \"%s\" for \"%s\"", key, st->base.url);
    return 0;
}

static int s3_put(struct storage *base, const char *key, const void *data, size_t len, struct err *e)
{
    struct s3_storage *st = (struct s3_storage *)base;
    struct s3_response rs = {0, BUF_INIT, 0, 0};
    struct s3_request rq = {0};
    char *full = NULL, *what = NULL;
    int rc = -1;

    if (s3_check_key(st, key, e) < 0)
        goto out;
    full = s3_full_key(st, key);
    what = s3_describe(st, "PUT", key);
    rq.method = "PUT";
    rq.key = full;
    rq.body = data != NULL ? data : "";
    rq.body_len = len;
    rq.content_type = "application/octet-stream";
    rq.object_headers = 1;
    rq.what = what;
    if (s3_perform(st, &rq, &rs, e) < 0)
        goto out;
    if (rs.status != 200) {
        s3_status_error(st, &rq, &rs, ERR_IO, e);
        goto out;
    }
    rc = 0;
out:
    buf_free(&rs.body);
    free(full);
    free(what);
    return rc;
}

/* GET (out != NULL) or HEAD (size != NULL). */
static int s3_fetch(struct s3_storage *st, const char *key, struct buf *out, uint64_t *size, struct err *e)
{
    struct s3_response rs = {0, BUF_INIT, 0, 0};
    struct s3_request rq = {0};
    char *full = NULL, *what = NULL;
    int rc = -1;

    if (s3_check_key(st, key, e) < 0)
        goto out;
    full = s3_full_key(st, key);
    rq.method = out != NULL ? "GET" : "HEAD";
    what = s3_describe(st, rq.method, key);
    rq.key = full;
    rq.what = what;
    if (s3_perform(st, &rq, &rs, e) < 0)
        goto out;
    if (rs.status == 404) {
        char code[64], message[8];

        s3_parse_error(rs.body.data, rs.body.len, code, sizeof(code), message, sizeof(message));
        if (strcmp(code, "NoSuchBucket") == 0)
            s3_status_error(st, &rq, &rs, ERR_IO, e);
        else
            err_set(e, ERR_NOTFOUND, "object \"%s\" not found in \"%s\"", key, st->base.url);
        goto out;
    }
    if (rs.status != 200) {
        s3_status_error(st, &rq, &rs, ERR_IO, e);
        goto out;
    }
    if (out != NULL) {
        buf_append(out, rs.body.data != NULL ? rs.body.data : "", rs.body.len);
    } else {
        if (rs.content_length < 0) {
            err_set(e, ERR_IO, "s3 %s: the answer has no Content-Length", what);
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

static int s3_get(struct storage *base, const char *key, struct buf *out, struct err *e)
{
    return s3_fetch((struct s3_storage *)base, key, out, NULL, e);
}

static int s3_head(struct storage *base, const char *key, uint64_t *size, struct err *e)
{
    return s3_fetch((struct s3_storage *)base, key, NULL, size, e);
}

struct s3_list_ctx {
    const struct s3_storage *st;
    storage_list_cb cb;
    void *ud;
    const char *bad_key; /* why a listed key was refused, NULL when none was */
    struct buf last;     /* the previous key: keys must come in increasing byte order */
    size_t keys;         /* keys listed so far */
};

static int s3_list_entry(void *ud, const char *key, uint64_t size)
{
    struct s3_list_ctx *ctx = ud;
    size_t plen = strlen(ctx->st->prefix);

    if (strncmp(key, ctx->st->prefix, plen) != 0 || key[plen] == '\0') {
        ctx->bad_key = "a key outside the prefix";
        return 1;
    }
    /* S3 lists in byte order, once each: a key that does not come after
     * the previous one means the listing went back (or repeats itself) */
    if (ctx->last.len > 0 && strcmp(key, ctx->last.data) <= 0) {
        ctx->bad_key = "keys out of order: the listing does not advance";
        return 1;
    }
    buf_reset(&ctx->last);
    buf_appendstr(&ctx->last, key);
    ctx->keys++;
    return ctx->cb(ctx->ud, key + plen, size);
}

static int s3_list(struct storage *base, const char *prefix, storage_list_cb cb, void *ud, struct err *e)
{
    struct s3_storage *st = (struct s3_storage *)base;
    struct s3_list_ctx ctx = {st, cb, ud, NULL, BUF_INIT, 0};
    size_t keys_before, empty_pages = 0;
    struct s3_response rs = {0, BUF_INIT, 0, 0};
    struct s3_list_page page = {0, NULL, 0};
    struct s3_request rq = {0};
    struct buf query = BUF_INIT;
    char *full = s3_full_key(st, prefix != NULL ? prefix : "");
    char *where = xasprintf("\"s3://%s/%s\"", st->bucket, full);
    char *what = xasprintf("list %s", where);
    char *token = NULL;
    int rc = -1;

    rq.method = "GET";
    rq.what = what;
    do {
        /* parameters in byte order of name, as SigV4 canonicalizes them */
        buf_reset(&query);
        if (token != NULL) {
            buf_appendstr(&query, "continuation-token=");
            s3_uri_encode(&query, token, 0);
            buf_appendstr(&query, "&");
        }
        buf_appendstr(&query, "list-type=2");
        if (full[0] != '\0') {
            buf_appendstr(&query, "&prefix=");
            s3_uri_encode(&query, full, 0);
        }
        rq.query = query.data;
        keys_before = ctx.keys;
        if (s3_perform(st, &rq, &rs, e) < 0)
            goto out;
        if (rs.status != 200) {
            s3_status_error(st, &rq, &rs, ERR_IO, e);
            goto out;
        }
        if (s3_parse_list(rs.body.data, rs.body.len, where, s3_list_entry, &ctx, &page, e) < 0)
            goto out;
        if (ctx.bad_key != NULL) {
            err_set(e, ERR_IO, "listing %s: S3 answered %s", where, ctx.bad_key);
            goto out;
        }
        if (page.truncated && !page.stopped && token != NULL && strcmp(token, page.next_token) == 0) {
            err_set(e, ERR_IO,
                    "listing %s: S3 answered the same continuation token twice: the listing does not advance",
                    where);
            goto out;
        }
        /* S3 may answer a page with no keys, but not page after page */
        empty_pages = ctx.keys == keys_before ? empty_pages + 1 : 0;
        if (page.truncated && empty_pages >= S3_LIST_EMPTY_MAX) {
            err_set(e, ERR_IO, "listing %s: S3 answered %d truncated pages in a row without a key", where,
                    S3_LIST_EMPTY_MAX);
            goto out;
        }
        free(token);
        token = page.next_token;
        page.next_token = NULL;
    } while (page.truncated && !page.stopped);
    rc = 0;
out:
    s3_list_page_free(&page);
    buf_free(&rs.body);
    buf_free(&query);
    buf_free(&ctx.last);
    free(token);
    free(full);
    free(where);
    free(what);
    return rc;
}

static int s3_remove(struct storage *base, const char *key, struct err *e)
{
    struct s3_storage *st = (struct s3_storage *)base;
    struct s3_response rs = {0, BUF_INIT, 0, 0};
    struct s3_request rq = {0};
    char *full = NULL, *what = NULL;
    int rc = -1;

    if (s3_check_key(st, key, e) < 0)
        goto out;
    full = s3_full_key(st, key);
    what = s3_describe(st, "DELETE", key);
    rq.method = "DELETE";
    rq.key = full;
    rq.what = what;
    if (s3_perform(st, &rq, &rs, e) < 0)
        goto out;
    if (rs.status != 204 && rs.status != 200 && rs.status != 404) {
        s3_status_error(st, &rq, &rs, ERR_IO, e);
        goto out;
    }
    rc = 0;
out:
    buf_free(&rs.body);
    free(full);
    free(what);
    return rc;
}

/* One DeleteObjects request for keys[0..n), n <= 1000. */
static int s3_delete_batch(struct s3_storage *st, const char *const *keys, size_t n, struct err *e)
{
    struct s3_response rs = {0, BUF_INIT, 0, 0};
    struct s3_request rq = {0};
    struct s3_delete_result dr;
    struct buf body = BUF_INIT;
    char *what = xasprintf("batch delete in \"s3://%s/%s\"", st->bucket, st->prefix);
    size_t i;
    int rc = -1;

    buf_appendstr(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
    for (i = 0; i < n; i++) {
        char *full;

        if (s3_check_key(st, keys[i], e) < 0)
            goto out;
        full = s3_full_key(st, keys[i]);
        buf_appendstr(&body, "<Object><Key>");
        s3_xml_escape(&body, full);
        buf_appendstr(&body, "</Key></Object>");
        free(full);
    }
    buf_appendstr(&body, "</Delete>");
    rq.method = "POST";
    rq.query = "delete=";
    rq.body = body.data;
    rq.body_len = body.len;
    rq.content_type = "application/xml";
    rq.what = what;
    if (s3_perform(st, &rq, &rs, e) < 0)
        goto out;
    if (rs.status != 200) {
        s3_status_error(st, &rq, &rs, ERR_IO, e);
        goto out;
    }
    if (s3_parse_delete_result(rs.body.data, rs.body.len, &dr, e) < 0) {
        err_prefix(e, "s3 %s", what);
        goto out;
    }
    if (dr.nerrors > 0) {
        err_set(e, ERR_IO, "s3 %s: %zu of %zu objects not removed; first \"s3://%s/%s\": %s%s%s", what,
                dr.nerrors, n, st->bucket, dr.key, dr.code, dr.message[0] != '\0' ? ": " : "", dr.message);
        goto out;
    }
    rc = 0;
out:
    buf_free(&rs.body);
    buf_free(&body);
    free(what);
    return rc;
}

static int s3_remove_many(struct storage *base, const char *const *keys, size_t n, struct err *e)
{
    struct s3_storage *st = (struct s3_storage *)base;
    size_t done;

    for (done = 0; done < n; done += S3_DELETE_BATCH) {
        size_t batch = n - done < S3_DELETE_BATCH ? n - done : S3_DELETE_BATCH;

        if (s3_delete_batch(st, keys + done, batch, e) < 0)
            return -1;
    }
    return 0;
}

static void s3_close(struct storage *base)
{
    struct s3_storage *st = (struct s3_storage *)base;

    if (st == NULL)
        return;
    s3_cred_chain_close(st->cred); /* its curl handle before curl_global_cleanup */
    if (st->curl != NULL) {
        curl_easy_cleanup(st->curl);
        curl_global_cleanup();
    }
    free(st->base.url);
    free(st->base.auth);
    free(st->bucket);
    free(st->prefix);
    free(st->origin);
    free(st->bucket_path);
    free(st->sigv4);
    free(st->storage_class);
    free(st->sse);
    free(st->ca_bundle);
    free(st);
}

static const struct storage_ops s3_ops = {
    .version = STORAGE_OPS_VERSION,
    .scheme = "s3",
    .features = STORAGE_FEATURE_BATCH_REMOVE,
    .put = s3_put,
    .get = s3_get,
    .head = s3_head,
    .list = s3_list,
    .remove = s3_remove,
    .remove_many = s3_remove_many,
    .close = s3_close,
};

/* ------------------------------------------------------------------------
 * Opening: URL, endpoint, credentials
 * ---------------------------------------------------------------------- */

/* "s3://bucket[/prefix]" -> bucket, and prefix as "" or "a/b/". */
static int s3_parse_url(struct s3_storage *st, const char *url, struct err *e)
{
    CURLU *u = curl_url();
    char *host = NULL, *path = NULL, *extra = NULL;
    const char *pre, *pre_end;
    size_t i, blen;
    int rc = -1;

    if (u == NULL) {
        err_set(e, ERR_IO, "out of memory parsing storage url \"%s\"", st->base.url);
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) != CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage url \"%s\" is not a valid s3://bucket/prefix url", st->base.url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage url \"%s\": an s3 url has only a bucket and a prefix", st->base.url);
        goto out;
    }
    blen = strlen(host);
    if (blen < 3 || blen > 63) {
        err_set(e, ERR_CONFIG, "storage url \"%s\": a bucket name has 3 to 63 characters", st->base.url);
        goto out;
    }
    for (i = 0; i < blen; i++) {
        char c = host[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            err_set(e, ERR_CONFIG,
                    "storage url \"%s\": invalid bucket name (lower-case letters, digits, '-' and '.')",
                    st->base.url);
            goto out;
        }
    }
    st->bucket = xstrdup(host);
    pre = path;
    while (*pre == '/')
        pre++;
    pre_end = pre + strlen(pre);
    while (pre_end > pre && pre_end[-1] == '/')
        pre_end--;
    if (pre_end > pre)
        st->prefix = xasprintf("%.*s/", (int)(pre_end - pre), pre);
    else
        st->prefix = xstrdup("");
    rc = 0;
out:
    curl_free(host);
    curl_free(path);
    curl_free(extra);
    curl_url_cleanup(u);
    return rc;
}

/* Take the endpoint apart (https:// when it has no scheme) and build the
 * origin and bucket path for path-style or virtual-hosted addressing. */
static int s3_parse_endpoint(struct s3_storage *st, const struct s3_config *c, const char *region,
                             struct err *e)
{
    char *endpoint =
        c->endpoint != NULL ? xstrdup(c->endpoint) : xasprintf("https://s3.%s.amazonaws.com", region);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
    int rc = -1;

    if (u == NULL) {
        err_set(e, ERR_IO, "out of memory parsing storage.s3.endpoint");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, endpoint, CURLU_DEFAULT_SCHEME | CURLU_NON_SUPPORT_SCHEME) !=
            CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage.s3.endpoint \"%s\" is not a valid url", endpoint);
        goto out;
    }
    if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
        err_set(e, ERR_CONFIG, "storage.s3.endpoint \"%s\": only http:// and https:// are supported",
                endpoint);
        goto out;
    }
    if (strcmp(path, "/") != 0 || curl_url_get(u, CURLUPART_USER, &extra, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_QUERY, &extra, 0) == CURLUE_OK) {
        err_set(e, ERR_CONFIG, "storage.s3.endpoint \"%s\": expected scheme://host[:port] and nothing more",
                endpoint);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL;
    st->origin = xasprintf("%s://%s%s%s%s%s", scheme, c->path_style ? "" : st->bucket,
                           c->path_style ? "" : ".", host, port != NULL ? ":" : "", port != NULL ? port : "");
    st->bucket_path = c->path_style ? xasprintf("/%s", st->bucket) : xstrdup("");
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(extra);
    curl_url_cleanup(u);
    free(endpoint);
    return rc;
}

/* Loopback: "localhost", 127.0.0.0/8, ::1 (curl gives IPv6 hosts in []). */
static int s3_host_is_loopback(const char *host)
{
    return strcasecmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

int storage_s3_cleartext(const struct config *cfg, char *why, size_t n)
{
    CURLU *u;
    char *scheme = NULL, *host = NULL, *port = NULL;
    int plain = 0;

    if (cfg->s3.endpoint == NULL || cfg->s3.endpoint[0] == '\0')
        return 0; /* AWS over https */
    u = curl_url();
    if (u == NULL)
        return 0;
    if (curl_url_set(u, CURLUPART_URL, cfg->s3.endpoint, CURLU_DEFAULT_SCHEME | CURLU_NON_SUPPORT_SCHEME) ==
            CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && strcasecmp(scheme, "http") == 0 &&
        !s3_host_is_loopback(host)) {
        plain = 1;
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
            port = NULL;
        snprintf(why, n,
                 "storage.s3.endpoint \"http://%s%s%s\" is plain http: chunks and the index copy cross the "
                 "network unencrypted and what comes back is not authenticated (requests are still signed). "
                 "HINT: use https://",
                 host, port != NULL ? ":" : "", port != NULL ? port : "");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return plain;
}

static char *s3_opt_strdup(const char *s)
{
    return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

int storage_s3_open_tuned(const struct config *cfg, const struct s3_tuning *t, struct storage **out,
                          struct err *e)
{
    struct s3_storage *st = xcalloc(1, sizeof(*st));
    const char *region = cfg->s3.region != NULL && cfg->s3.region[0] != '\0' ? cfg->s3.region : "us-east-1";
    struct s3_cred_options copts;
    int rc = -1;

    *out = NULL;
    st->base.ops = &s3_ops;
    st->base.url = config_redact_url(cfg->storage_url); /* messages never show a secret */
    st->tuning = *t;
    if (st->tuning.attempts < 1)
        st->tuning.attempts = 1;
    if (strncmp(cfg->storage_url, "s3://", 5) != 0) {
        err_set(e, ERR_CONFIG, "storage url \"%s\" is not an s3:// url", st->base.url);
        goto out;
    }
    if (s3_parse_url(st, cfg->storage_url, e) < 0 || s3_parse_endpoint(st, &cfg->s3, region, e) < 0)
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
    copts.credentials_file = cfg->s3.credentials_file;
    copts.region = region;
    copts.sts_endpoint = cfg->s3.sts_endpoint;
    copts.ca_bundle = cfg->s3.ca_bundle;
    if (s3_cred_chain_open(&copts, &st->cred, e) < 0)
        goto out;
    st->base.auth = xasprintf("credentials from %s", s3_cred_chain_describe(st->cred));
    st->sigv4 = xasprintf("aws:amz:%s:s3", region);
    st->storage_class = s3_opt_strdup(cfg->s3.storage_class);
    st->sse = s3_opt_strdup(cfg->s3.sse);
    st->ca_bundle = s3_opt_strdup(cfg->s3.ca_bundle);
    http_backoff_init(&st->backoff, st->tuning.base_delay_ms, st->tuning.max_delay_ms, st);
    *out = &st->base;
    rc = 0;
out:
    if (rc < 0)
        s3_close(&st->base);
    return rc;
}

int storage_s3_open(const struct config *cfg, struct storage **out, struct err *e)
{
    struct s3_tuning t;

    storage_s3_tuning_default(&t);
    return storage_s3_open_tuned(cfg, &t, out, e);
}
