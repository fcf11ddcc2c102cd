/* s3_cred_http.c - S3 credentials from STS (web identity), the container
 * endpoint and EC2 instance metadata (see s3_cred_http.h, s3_cred.h).
 *
 * Each answer is read by a narrow extractor: STS's XML with s3_wire.c's
 * element search (as the S3 listings are), the container endpoint's and
 * IMDS's JSON with jsonfield.c. Answers are capped at 64 KiB, redirects
 * are not followed, and only http(s) is spoken. What an endpoint answers
 * goes into a message only as its HTTP status and error code: never a
 * body that could hold a secret, never a token. Transient failures
 * (connection errors, HTTP 5xx) are tried once more after 200 ms. */
#include "s3_cred_http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "buf.h"
#include "jsonfield.h"
#include "s3_wire.h"
#include "timeutil.h"
#include "xalloc.h"

#define CRED_HTTP_MAX_ANSWER (64 * 1024)
#define CRED_HTTP_MAX_TOKEN_FILE (64 * 1024)
#define CRED_HTTP_ATTEMPTS 2
#define CRED_IMDS_TOKEN_TTL 21600 /* seconds asked for an IMDSv2 token, as the SDKs do */
#define CRED_IMDS_DEFAULT "http://169.254.169.254"
#define CRED_IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"
#define CRED_ECS_HOST "http://169.254.170.2"

struct s3_cred_http {
    enum s3_cred_http_kind kind;
    CURL *curl;
    char *describe;
    char *ca_bundle;
    /* web identity */
    char *token_file, *role_arn, *session_name, *sts_url;
    /* container */
    char *url, *auth_token, *auth_token_file;
    /* instance metadata */
    char *endpoint, *imds_token;
    int64_t imds_token_expires;
    char curl_err[CURL_ERROR_SIZE];
};

struct cred_http_answer {
    long status;
    struct buf body;
};

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

static void cred_http_wipe_free(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void cred_http_wipe_buf(struct buf *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->cap);
    buf_free(b);
}

static const char *cred_http_env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

static char *cred_http_strip_slash(const char *s)
{
    size_t n = strlen(s);

    while (n > 0 && s[n - 1] == '/')
        n--;
    return xstrndup(s, n);
}

/* A token may go into a header: printable ASCII only. */
static int cred_http_header_safe(const char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    }
    return 1;
}

/* "2026-11-20T15:12:01Z" or with fractional seconds or an offset. */
static int cred_http_parse_expiry(const char *text, int64_t *out)
{
    char tmp[64];
    const char *dot = strchr(text, '.');
    struct err e;
    size_t n;

    if (strlen(text) >= sizeof(tmp) || strlen(text) < 20)
        return -1;
    if (dot != NULL) {
        n = (size_t)(dot - text);
        memcpy(tmp, text, n);
        dot++;
        while (*dot >= '0' && *dot <= '9')
            dot++;
        snprintf(tmp + n, sizeof(tmp) - n, "%s", dot);
    } else {
        snprintf(tmp, sizeof(tmp), "%s", text);
    }
    if (tmp[10] != 'T' ||
        (strchr(tmp + 10, 'Z') == NULL && strchr(tmp + 10, '+') == NULL && strchr(tmp + 10, '-') == NULL))
        return -1; /* a zone is required: never local time */
    return time_parse(tmp, out, &e);
}

/* Read a token file whole (it is rotated in place: read it each time). */
static int cred_http_read_token_file(const char *path, const char *what, struct buf *out, struct err *e)
{
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

    buf_reset(out);
    if (fd < 0) {
        err_sys(e, errno, "cannot open %s \"%s\"", what, path);
        e->code = ERR_CONFIG; /* not ERR_NOTFOUND: no object is missing */
        return -1;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_sys(e, errno, "cannot read %s \"%s\"", what, path);
            goto out;
        }
        if (out->len + (size_t)n > CRED_HTTP_MAX_TOKEN_FILE) {
            err_set(e, ERR_CONFIG, "%s \"%s\" is larger than %d bytes", what, path, CRED_HTTP_MAX_TOKEN_FILE);
            goto out;
        }
        buf_append(out, chunk, (size_t)n);
    }
    while (out->len > 0 && isspace((unsigned char)out->data[out->len - 1]))
        out->len--;
    buf_append(out, "", 1);
    out->len--;
    if (out->len == 0 || strlen(out->data) != out->len) {
        err_set(e, ERR_CONFIG, "%s \"%s\" is empty or not text", what, path);
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(chunk, sizeof(chunk));
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------
 * One HTTP request
 * ---------------------------------------------------------------------- */

static size_t cred_http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;

    if (b->len + size * nmemb > CRED_HTTP_MAX_ANSWER)
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    buf_append(b, ptr, size * nmemb);
    return size * nmemb;
}

static CURLcode cred_http_setopts(struct s3_cred_http *h, const char *method, const char *url,
                                  struct curl_slist *headers, const char *body, struct cred_http_answer *a)
{
    CURLcode rc = CURLE_OK;

#define CRED_SETOPT(opt, val)                                                                                \
    do {                                                                                                     \
        if (rc == CURLE_OK)                                                                                  \
            rc = curl_easy_setopt(h->curl, opt, val);                                                        \
    } while (0)
    CRED_SETOPT(CURLOPT_URL, url);
    CRED_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    CRED_SETOPT(CURLOPT_NOSIGNAL, 1L);
    CRED_SETOPT(CURLOPT_NOPROXY, "*"); /* metadata endpoints are link-local: never through a proxy */
    CRED_SETOPT(CURLOPT_ERRORBUFFER, h->curl_err);
    CRED_SETOPT(CURLOPT_USERAGENT, "aofroll/" AOFROLL_VERSION);
    CRED_SETOPT(CURLOPT_HTTPHEADER, headers);
    CRED_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    CRED_SETOPT(CURLOPT_TIMEOUT_MS, 5000L);
    CRED_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    CRED_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_bundle != NULL)
        CRED_SETOPT(CURLOPT_CAINFO, h->ca_bundle);
    CRED_SETOPT(CURLOPT_WRITEFUNCTION, cred_http_write_cb);
    CRED_SETOPT(CURLOPT_WRITEDATA, &a->body);
    if (strcmp(method, "POST") == 0) {
        CRED_SETOPT(CURLOPT_POSTFIELDS, body);
        CRED_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    } else if (strcmp(method, "PUT") == 0) {
        CRED_SETOPT(CURLOPT_CUSTOMREQUEST, "PUT");
    }
#undef CRED_SETOPT
    return rc;
}

/* Fails only when no HTTP answer came; the caller judges a->status. */
static int cred_http_request(struct s3_cred_http *h, const char *method, const char *url,
                             struct curl_slist *headers, const char *body, struct cred_http_answer *a,
                             const char *what, struct err *e)
{
    CURLcode cres = CURLE_OK;
    int attempt;

    for (attempt = 1; attempt <= CRED_HTTP_ATTEMPTS; attempt++) {
        struct timespec pause = {0, 200 * 1000000L};

        cred_http_wipe_buf(&a->body);
        a->status = 0;
        h->curl_err[0] = '\0';
        curl_easy_reset(h->curl);
        cres = cred_http_setopts(h, method, url, headers, body, a);
        if (cres != CURLE_OK)
            return err_set(e, ERR_IO, "%s: cannot set up the request: %s", what, curl_easy_strerror(cres));
        cres = curl_easy_perform(h->curl);
        if (cres == CURLE_OK) {
            curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &a->status);
            if (a->status < 500)
                return 0;
        } else if (cres == CURLE_WRITE_ERROR) {
            return err_set(e, ERR_IO, "%s: the answer is larger than %d bytes", what, CRED_HTTP_MAX_ANSWER);
        }
        if (attempt < CRED_HTTP_ATTEMPTS)
            nanosleep(&pause, NULL);
    }
    if (cres == CURLE_OK)
        return 0;
    return err_set(e, ERR_IO, "%s: %s (%d attempts)", what,
                   h->curl_err[0] != '\0' ? h->curl_err : curl_easy_strerror(cres), CRED_HTTP_ATTEMPTS);
}

static int cred_http_header(struct curl_slist **list, const char *name, const char *value, struct err *e)
{
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(*list, line);

    cred_http_wipe_free(line);
    if (l == NULL)
        return err_set(e, ERR_IO, "out of memory building a credentials request");
    *list = l;
    return 0;
}

static void cred_http_free_headers(struct curl_slist *list)
{
    struct curl_slist *l;

    for (l = list; l != NULL; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

/* ------------------------------------------------------------------------
 * The answers
 * ---------------------------------------------------------------------- */

/* The JSON of the container endpoint and of IMDS. */
static int cred_http_from_json(const struct buf *body, const char *what, struct s3_cred *out, struct err *e)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
    struct buf v = BUF_INIT;
    char **slots[3] = {&out->access_key, &out->secret_key, &out->session_token};
    size_t i;
    int rc = -1;

    if (jsonfield_get(body->data, body->len, "Code", &v) == JSONFIELD_FOUND &&
        strcmp(v.data, "Success") != 0) {
        err_set(e, ERR_IO, "%s: the answer says Code \"%.64s\"", what, v.data);
        goto out;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        enum jsonfield_result r = jsonfield_get(body->data, body->len, names[i], &v);

        if (r == JSONFIELD_INVALID) {
            err_set(e, ERR_IO, "%s: the answer is not a JSON object", what);
            goto out;
        }
        if (r != JSONFIELD_FOUND || v.len == 0) {
            if (i == 2 || i == 3)
                continue; /* a container endpoint may hand out keys without token or expiry */
            err_set(e, ERR_IO, "%s: the answer has no string \"%s\"", what, names[i]);
            goto out;
        }
        if (i < 3) {
            *slots[i] = xstrdup(v.data);
        } else if (cred_http_parse_expiry(v.data, &out->expires) < 0) {
            err_set(e, ERR_IO, "%s: the answer's Expiration \"%.40s\" is not a UTC time", what, v.data);
            goto out;
        }
    }
    rc = 0;
out:
    cred_http_wipe_buf(&v);
    return rc;
}

/* One element of STS's <Credentials>, decoded, into *slot. */
static int cred_http_xml_field(const char *p, const char *end, const char *name, char **slot)
{
    struct buf v = BUF_INIT;
    const char *text;
    size_t len;
    int rc = -1;

    if (!s3_xml_find(p, end, name, &text, &len) || len == 0 || s3_xml_decode(&v, text, len) < 0)
        goto out;
    buf_append(&v, "", 1);
    if (strlen(v.data) != v.len - 1)
        goto out;
    *slot = xstrdup(v.data);
    rc = 0;
out:
    cred_http_wipe_buf(&v);
    return rc;
}

/* STS's AssumeRoleWithWebIdentityResponse. */
static int cred_http_from_sts(const struct buf *body, const char *what, struct s3_cred *out, struct err *e)
{
    const char *end = body->data + body->len, *inner;
    char *expiry = NULL;
    size_t len;
    int rc = -1;

    if (body->data == NULL || !s3_xml_find(body->data, end, "Credentials", &inner, &len)) {
        err_set(e, ERR_IO, "%s: the answer has no <Credentials>", what);
        goto out;
    }
    end = inner + len;
    if (cred_http_xml_field(inner, end, "AccessKeyId", &out->access_key) < 0 ||
        cred_http_xml_field(inner, end, "SecretAccessKey", &out->secret_key) < 0 ||
        cred_http_xml_field(inner, end, "SessionToken", &out->session_token) < 0 ||
        cred_http_xml_field(inner, end, "Expiration", &expiry) < 0) {
        err_set(e, ERR_IO,
                "%s: the answer's <Credentials> lacks a valid AccessKeyId, SecretAccessKey, "
                "SessionToken or Expiration",
                what);
        goto out;
    }
    if (cred_http_parse_expiry(expiry, &out->expires) < 0) {
        err_set(e, ERR_IO, "%s: the answer's Expiration \"%.40s\" is not a UTC time", what, expiry);
        goto out;
    }
    rc = 0;
out:
    free(expiry);
    return rc;
}

/* An answer that is not 200: its status, and the error code STS gives. */
static int cred_http_status_error(const struct cred_http_answer *a, const char *what, int xml, struct err *e)
{
    char code[64] = "", message[256] = "";

    if (xml && a->body.data != NULL)
        s3_parse_error(a->body.data, a->body.len, code, sizeof(code), message, sizeof(message));
    return err_set(e, ERR_IO, "%s: HTTP %ld%s%s%s%s", what, a->status, code[0] != '\0' ? " " : "", code,
                   message[0] != '\0' ? ": " : "", message);
}

/* ------------------------------------------------------------------------
 * The three sources
 * ---------------------------------------------------------------------- */

static void cred_http_form(struct buf *b, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);

    if (esc == NULL) {
        fprintf(stderr, "aofroll: out of memory encoding a form\n");
        abort();
    }
    if (b->len > 0)
        buf_appendstr(b, "&");
    buf_appendstr(b, name);
    buf_appendstr(b, "=");
    buf_appendstr(b, esc);
    OPENSSL_cleanse(esc, strlen(esc));
    curl_free(esc);
}

static int cred_http_web_identity(struct s3_cred_http *h, struct s3_cred *out, struct err *e)
{
    struct cred_http_answer a = {0, BUF_INIT};
    struct buf token = BUF_INIT, form = BUF_INIT;
    struct curl_slist *headers = NULL;
    char *what = xasprintf("STS AssumeRoleWithWebIdentity at \"%s\"", h->sts_url);
    int rc = -1;

    if (cred_http_read_token_file(h->token_file, "web identity token file", &token, e) < 0)
        goto out;
    cred_http_form(&form, "Action", "AssumeRoleWithWebIdentity");
    cred_http_form(&form, "RoleArn", h->role_arn);
    cred_http_form(&form, "RoleSessionName", h->session_name);
    cred_http_form(&form, "Version", "2011-06-15");
    cred_http_form(&form, "WebIdentityToken", token.data);
    if (cred_http_header(&headers, "Content-Type", "application/x-www-form-urlencoded", e) < 0 ||
        cred_http_header(&headers, "Accept", "application/xml", e) < 0)
        goto out;
    if (cred_http_request(h, "POST", h->sts_url, headers, form.data, &a, what, e) < 0)
        goto out;
    if (a.status != 200) {
        cred_http_status_error(&a, what, 1, e);
        goto out;
    }
    rc = cred_http_from_sts(&a.body, what, out, e);
out:
    cred_http_free_headers(headers);
    cred_http_wipe_buf(&a.body);
    cred_http_wipe_buf(&token);
    cred_http_wipe_buf(&form);
    free(what);
    return rc;
}

static int cred_http_container(struct s3_cred_http *h, struct s3_cred *out, struct err *e)
{
    struct cred_http_answer a = {0, BUF_INIT};
    struct buf token = BUF_INIT;
    struct curl_slist *headers = NULL;
    const char *auth = h->auth_token;
    char *what = xasprintf("container endpoint \"%s\"", h->url);
    int rc = -1;

    if (h->auth_token_file != NULL) {
        if (cred_http_read_token_file(h->auth_token_file, "container authorization token file", &token, e) <
            0)
            goto out;
        auth = token.data;
    }
    if (auth != NULL) {
        if (!cred_http_header_safe(auth)) {
            err_set(e, ERR_CONFIG, "%s: the authorization token holds characters a header cannot carry",
                    what);
            goto out;
        }
        if (cred_http_header(&headers, "Authorization", auth, e) < 0)
            goto out;
    }
    if (cred_http_request(h, "GET", h->url, headers, NULL, &a, what, e) < 0)
        goto out;
    if (a.status != 200) {
        cred_http_status_error(&a, what, 0, e);
        goto out;
    }
    rc = cred_http_from_json(&a.body, what, out, e);
out:
    cred_http_free_headers(headers);
    cred_http_wipe_buf(&a.body);
    cred_http_wipe_buf(&token);
    free(what);
    return rc;
}

/* A session token for IMDSv2, kept until shortly before its TTL ends. */
static int cred_http_imds_token(struct s3_cred_http *h, struct err *e)
{
    struct cred_http_answer a = {0, BUF_INIT};
    struct curl_slist *headers = NULL;
    char ttl[16];
    char *url = xasprintf("%s/latest/api/token", h->endpoint);
    char *what = xasprintf("instance metadata token at \"%s\"", url);
    int64_t now = time_now();
    int rc = -1;

    if (h->imds_token != NULL && now < h->imds_token_expires) {
        rc = 0;
        goto out;
    }
    cred_http_wipe_free(h->imds_token);
    h->imds_token = NULL;
    snprintf(ttl, sizeof(ttl), "%d", CRED_IMDS_TOKEN_TTL);
    if (cred_http_header(&headers, "X-aws-ec2-metadata-token-ttl-seconds", ttl, e) < 0)
        goto out;
    if (cred_http_request(h, "PUT", url, headers, NULL, &a, what, e) < 0)
        goto out;
    if (a.status != 200) {
        cred_http_status_error(&a, what, 0, e);
        goto out;
    }
    buf_append(&a.body, "", 1);
    a.body.len--;
    if (a.body.len == 0 || strlen(a.body.data) != a.body.len || !cred_http_header_safe(a.body.data)) {
        err_set(e, ERR_IO, "%s: the token is empty or not printable text", what);
        goto out;
    }
    h->imds_token = xstrdup(a.body.data);
    h->imds_token_expires = now + CRED_IMDS_TOKEN_TTL - 60;
    rc = 0;
out:
    curl_slist_free_all(headers);
    cred_http_wipe_buf(&a.body);
    free(url);
    free(what);
    return rc;
}

/* GET an IMDS path with the session token; a token the service no longer
 * knows (401) is replaced once. */
static int cred_http_imds_get(struct s3_cred_http *h, const char *path, struct cred_http_answer *a,
                              struct err *e)
{
    char *url = xasprintf("%s%s", h->endpoint, path);
    char *what = xasprintf("instance metadata \"%s\"", url);
    struct curl_slist *headers = NULL;
    int tries, rc = -1;

    for (tries = 0; tries < 2; tries++) {
        if (cred_http_imds_token(h, e) < 0)
            goto out;
        cred_http_free_headers(headers);
        headers = NULL;
        if (cred_http_header(&headers, "X-aws-ec2-metadata-token", h->imds_token, e) < 0)
            goto out;
        if (cred_http_request(h, "GET", url, headers, NULL, a, what, e) < 0)
            goto out;
        if (a->status != 401)
            break;
        cred_http_wipe_free(h->imds_token);
        h->imds_token = NULL;
    }
    if (a->status == 404 && strcmp(path, "/latest/meta-data/iam/security-credentials/") == 0) {
        err_set(e, ERR_IO, "%s: HTTP 404: no IAM role is attached to this instance", what);
        goto out;
    }
    if (a->status != 200) {
        cred_http_status_error(a, what, 0, e);
        goto out;
    }
    rc = 0;
out:
    cred_http_free_headers(headers);
    free(url);
    free(what);
    return rc;
}

static int cred_http_imds(struct s3_cred_http *h, struct s3_cred *out, struct err *e)
{
    struct cred_http_answer a = {0, BUF_INIT};
    char *role = NULL, *path = NULL, *what = NULL;
    size_t n, i;
    int rc = -1;

    if (cred_http_imds_get(h, "/latest/meta-data/iam/security-credentials/", &a, e) < 0)
        goto out;
    n = a.body.data != NULL ? strcspn(a.body.data, "\n") : 0;
    if (n > a.body.len)
        n = a.body.len;
    for (i = 0; i < n; i++) {
        char c = a.body.data[i];

        if (!isalnum((unsigned char)c) && strchr("+=,.@_-", c) == NULL)
            break;
    }
    if (n == 0 || n > 128 || i != n) {
        err_set(e, ERR_IO, "instance metadata \"%s\": the answer is not an IAM role name", h->endpoint);
        goto out;
    }
    role = xstrndup(a.body.data, n);
    path = xasprintf("/latest/meta-data/iam/security-credentials/%s", role);
    if (cred_http_imds_get(h, path, &a, e) < 0)
        goto out;
    what = xasprintf("instance metadata \"%s%s\"", h->endpoint, path);
    if (cred_http_from_json(&a.body, what, out, e) < 0)
        goto out;
    free(h->describe);
    h->describe = xasprintf("instance metadata \"%s\" (IMDSv2), role \"%s\"", h->endpoint, role);
    rc = 0;
out:
    cred_http_wipe_buf(&a.body);
    free(role);
    free(path);
    free(what);
    return rc;
}

int s3_cred_http_fetch(struct s3_cred_http *h, struct s3_cred *out, struct err *e)
{
    int rc = -1;

    memset(out, 0, sizeof(*out));
    switch (h->kind) {
    case S3_CRED_WEB_IDENTITY:
        rc = cred_http_web_identity(h, out, e);
        break;
    case S3_CRED_CONTAINER:
        rc = cred_http_container(h, out, e);
        break;
    case S3_CRED_IMDS:
        rc = cred_http_imds(h, out, e);
        break;
    }
    if (rc == 0) {
        out->source = xstrdup(h->describe);
        return 0;
    }
    cred_http_wipe_free(out->access_key);
    cred_http_wipe_free(out->secret_key);
    cred_http_wipe_free(out->session_token);
    memset(out, 0, sizeof(*out));
    return -1;
}

/* ------------------------------------------------------------------------
 * Configuration from the environment
 * ---------------------------------------------------------------------- */

static int cred_http_new_web_identity(struct s3_cred_http *h, const struct s3_cred_options *o, char *why,
                                      size_t whysz, struct err *e)
{
    const char *file = cred_http_env("AWS_WEB_IDENTITY_TOKEN_FILE"), *role = cred_http_env("AWS_ROLE_ARN");
    const char *name = cred_http_env("AWS_ROLE_SESSION_NAME"), *sts = o->sts_endpoint;
    const char *region = cred_http_env("AWS_REGION");
    const char *legacy = cred_http_env("AWS_STS_REGIONAL_ENDPOINTS");

    if (file == NULL && role == NULL) {
        snprintf(why, whysz, "web identity: not configured");
        return 0;
    }
    if (file == NULL || role == NULL)
        return err_set(e, ERR_CONFIG, "%s is set but %s is not",
                       file == NULL ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE",
                       file == NULL ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN");
    if (region == NULL)
        region = cred_http_env("AWS_DEFAULT_REGION");
    if (region == NULL)
        region = o->region != NULL && o->region[0] != '\0' ? o->region : "us-east-1";
    if (sts == NULL)
        sts = cred_http_env("AWS_ENDPOINT_URL_STS");
    h->token_file = xstrdup(file);
    h->role_arn = xstrdup(role);
    h->session_name = name != NULL ? xstrdup(name) : xasprintf("aofroll-%lld", (long long)time_now());
    if (sts != NULL)
        h->sts_url = cred_http_strip_slash(sts);
    else if (legacy != NULL && strcasecmp(legacy, "legacy") == 0)
        h->sts_url = xstrdup("https://sts.amazonaws.com");
    else
        h->sts_url = xasprintf("https://sts.%s.amazonaws.com", region);
    h->describe = xasprintf("web identity: role \"%s\" via STS \"%s\"", h->role_arn, h->sts_url);
    return 1;
}

/* http:// is for link-local and loopback hosts only, as the SDKs have it. */
static int cred_http_container_host_ok(const char *url)
{
    static const char *const hosts[] = {"localhost", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]",
                                        "[::1]"};
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    size_t i;
    int ok = 0;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcmp(scheme, "https") == 0) {
        ok = 1;
        goto out;
    }
    if (strcmp(scheme, "http") != 0)
        goto out;
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        ok |= strcasecmp(host, hosts[i]) == 0;
    ok |= strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == strlen(host);
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

static int cred_http_new_container(struct s3_cred_http *h, char *why, size_t whysz, struct err *e)
{
    const char *rel = cred_http_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = cred_http_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token = cred_http_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *token_file = cred_http_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");

    if (rel == NULL && full == NULL) {
        snprintf(why, whysz, "container endpoint: not configured");
        return 0;
    }
    if (rel != NULL) {
        if (rel[0] != '/')
            return err_set(e, ERR_CONFIG,
                           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \"%s\" does not start with /", rel);
        h->url = xasprintf("%s%s", CRED_ECS_HOST, rel);
    } else {
        if (!cred_http_container_host_ok(full))
            return err_set(e, ERR_CONFIG,
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI \"%s\": expected https://, or http:// to a "
                           "loopback address or the ECS/EKS link-local endpoint",
                           full);
        h->url = xstrdup(full);
    }
    h->auth_token = token != NULL ? xstrdup(token) : NULL;
    h->auth_token_file = token_file != NULL ? xstrdup(token_file) : NULL;
    h->describe = xasprintf("container endpoint \"%s\"", h->url);
    return 1;
}

static int cred_http_new_imds(struct s3_cred_http *h, char *why, size_t whysz)
{
    const char *off = cred_http_env("AWS_EC2_METADATA_DISABLED");
    const char *endpoint = cred_http_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = cred_http_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

    if (off != NULL && strcasecmp(off, "true") == 0) {
        snprintf(why, whysz, "instance metadata: disabled (AWS_EC2_METADATA_DISABLED)");
        return 0;
    }
    if (endpoint == NULL)
        endpoint = mode != NULL && strcasecmp(mode, "IPv6") == 0 ? CRED_IMDS_DEFAULT_V6 : CRED_IMDS_DEFAULT;
    h->endpoint = cred_http_strip_slash(endpoint);
    h->describe = xasprintf("instance metadata \"%s\" (IMDSv2)", h->endpoint);
    return 1;
}

int s3_cred_http_new(enum s3_cred_http_kind kind, const struct s3_cred_options *o, struct s3_cred_http **out,
                     char *why, size_t whysz, struct err *e)
{
    struct s3_cred_http *h = xcalloc(1, sizeof(*h));
    int rc = -1;

    *out = NULL;
    h->kind = kind;
    switch (kind) {
    case S3_CRED_WEB_IDENTITY:
        rc = cred_http_new_web_identity(h, o, why, whysz, e);
        break;
    case S3_CRED_CONTAINER:
        rc = cred_http_new_container(h, why, whysz, e);
        break;
    case S3_CRED_IMDS:
        rc = cred_http_new_imds(h, why, whysz);
        break;
    }
    if (rc == 1) {
        h->ca_bundle = o->ca_bundle != NULL && o->ca_bundle[0] != '\0' ? xstrdup(o->ca_bundle) : NULL;
        h->curl = curl_easy_init();
        if (h->curl == NULL) {
            rc = err_set(e, ERR_IO, "cannot create a libcurl handle for %s", h->describe);
        } else {
            *out = h;
            return 0;
        }
    }
    s3_cred_http_free(h);
    return rc < 0 ? -1 : 0;
}

const char *s3_cred_http_describe(const struct s3_cred_http *h)
{
    return h->describe;
}

void s3_cred_http_free(struct s3_cred_http *h)
{
    if (h == NULL)
        return;
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    free(h->describe);
    free(h->ca_bundle);
    free(h->token_file);
    free(h->role_arn);
    free(h->session_name);
    free(h->sts_url);
    free(h->url);
    cred_http_wipe_free(h->auth_token);
    free(h->auth_token_file);
    free(h->endpoint);
    cred_http_wipe_free(h->imds_token);
    free(h);
}
