/* s3_cred.c - the S3 credential chain (see s3_cred.h): the order of the
 * sources, the static ones (the environment, credentials files) and the
 * refresh of temporary credentials; the HTTP sources are s3_cred_http.c.
 *
 * A credentials file is read through the descriptor whose mode was
 * checked, so that the check and the read see the same file. */
#include "s3_cred.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "s3_cred_http.h"
#include "text.h"
#include "timeutil.h"
#include "xalloc.h"

#define S3_CRED_REFRESH_MARGIN_S 300 /* refresh this long before the expiry */
#define S3_CRED_RETRY_S 10           /* after a failed refresh, wait this long */

struct s3_cred_chain {
    struct s3_cred cur;
    struct s3_cred_http *http; /* NULL for a static source */
    char *describe;            /* for --check */
    int64_t fetched_at;        /* when cur was fetched */
    int64_t retry_after;       /* no refresh before this after a failure */
    struct err last_failure;   /* of the last failed refresh */
};

/* ------------------------------------------------------------------------
 * Credentials
 * ---------------------------------------------------------------------- */

static void s3_cred_wipe_free(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void s3_cred_free(struct s3_cred *c)
{
    s3_cred_wipe_free(c->access_key);
    s3_cred_wipe_free(c->secret_key);
    s3_cred_wipe_free(c->session_token);
    free(c->source);
    c->access_key = c->secret_key = c->session_token = c->source = NULL;
    c->expires = 0;
}

/* Keys go to curl as user name and password: a ':' or a line break in the
 * key would be taken apart or end a header. */
static int s3_cred_check(const struct s3_cred *c, struct err *e)
{
    if (strchr(c->access_key, ':') != NULL)
        return err_set(e, ERR_CONFIG, "the s3 access key from %s contains ':'", c->source);
    if (strpbrk(c->access_key, "\r\n") != NULL || strpbrk(c->secret_key, "\r\n") != NULL ||
        (c->session_token != NULL && strpbrk(c->session_token, "\r\n") != NULL))
        return err_set(e, ERR_CONFIG, "the s3 credentials from %s contain a line break", c->source);
    return 0;
}

/* ------------------------------------------------------------------------
 * Credentials files
 * ---------------------------------------------------------------------- */

/* Trim ASCII white space at both ends, in place. */
static char *s3_cred_trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static void s3_cred_set(char **slot, const char *value)
{
    s3_cred_wipe_free(*slot);
    *slot = value[0] != '\0' ? xstrdup(value) : NULL;
}

/* s3_cred_from_file(), telling apart (*no_profile) a file without the
 * profile: the chain passes over a shared file without [default]. */
static int s3_cred_read_file(const char *path, const char *profile, struct s3_cred *out, int *no_profile,
                             struct err *e)
{
    FILE *fp = NULL;
    struct stat stbuf;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, in_profile = 0, seen_profile = 0, rc = -1;

    memset(out, 0, sizeof(*out));
    *no_profile = 0;
    fp = fopen(path, "r");
    if (fp == NULL) {
        err_sys(e, errno, "cannot open credentials file \"%s\"", path);
        goto out;
    }
    if (fstat(fileno(fp), &stbuf) < 0) {
        err_sys(e, errno, "cannot stat credentials file \"%s\"", path);
        goto out;
    }
    if ((stbuf.st_mode & 077) != 0) {
        err_set(e, ERR_CONFIG,
                "credentials file \"%s\" is readable by others (mode %04o): HINT: chmod 600 %s", path,
                (unsigned)(stbuf.st_mode & 07777), path);
        goto out;
    }
    while ((n = getline(&line, &cap, fp)) >= 0) {
        char *s = s3_cred_trim(line), *eq;

        lineno++;
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            size_t len = strlen(s);
            char *name;

            if (s[len - 1] != ']') {
                err_set(e, ERR_CONFIG, "credentials file \"%s\":%d: unterminated [profile] line", path,
                        lineno);
                goto out;
            }
            s[len - 1] = '\0';
            name = s3_cred_trim(s + 1);
            if (strncmp(name, "profile ", 8) == 0)
                name = s3_cred_trim(name + 8);
            in_profile = strcmp(name, profile) == 0;
            seen_profile |= in_profile;
            continue;
        }
        eq = strchr(s, '=');
        if (eq == NULL) {
            /* the line is not quoted: it may hold a secret */
            err_set(e, ERR_CONFIG, "credentials file \"%s\":%d: expected \"key = value\"", path, lineno);
            goto out;
        }
        if (!in_profile)
            continue;
        *eq = '\0';
        s = s3_cred_trim(s);
        if (strcmp(s, "aws_access_key_id") == 0)
            s3_cred_set(&out->access_key, s3_cred_trim(eq + 1));
        else if (strcmp(s, "aws_secret_access_key") == 0)
            s3_cred_set(&out->secret_key, s3_cred_trim(eq + 1));
        else if (strcmp(s, "aws_session_token") == 0)
            s3_cred_set(&out->session_token, s3_cred_trim(eq + 1));
    }
    if (ferror(fp)) {
        err_sys(e, errno, "cannot read credentials file \"%s\"", path);
        goto out;
    }
    if (!seen_profile) {
        *no_profile = 1;
        err_set(e, ERR_CONFIG, "credentials file \"%s\" has no profile [%s]", path, profile);
        goto out;
    }
    if (out->access_key == NULL || out->secret_key == NULL) {
        err_set(e, ERR_CONFIG, "credentials file \"%s\" profile [%s] has no %s", path, profile,
                out->access_key == NULL ? "aws_access_key_id" : "aws_secret_access_key");
        goto out;
    }
    out->source = xasprintf("credentials file \"%s\" [%s]", path, profile);
    rc = s3_cred_check(out, e);
out:
    if (line != NULL) {
        OPENSSL_cleanse(line, cap);
        free(line);
    }
    if (fp != NULL)
        fclose(fp);
    if (rc < 0)
        s3_cred_free(out);
    return rc;
}

int s3_cred_from_file(const char *path, const char *profile, struct s3_cred *out, struct err *e)
{
    int no_profile;

    return s3_cred_read_file(path, profile, out, &no_profile, e);
}

/* ------------------------------------------------------------------------
 * The chain
 * ---------------------------------------------------------------------- */

static const char *s3_cred_env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* 1: the environment. 1 found, 0 not set, -1 half set. */
static int s3_cred_try_env(struct s3_cred *out, char *why, size_t whysz, struct err *e)
{
    const char *ak = s3_cred_env("AWS_ACCESS_KEY_ID"), *sk = s3_cred_env("AWS_SECRET_ACCESS_KEY");
    const char *token = s3_cred_env("AWS_SESSION_TOKEN");

    if (ak == NULL && sk == NULL) {
        snprintf(why, whysz, "AWS_ACCESS_KEY_ID is not set");
        return 0;
    }
    if (ak == NULL || sk == NULL)
        return err_set(e, ERR_CONFIG, "s3 credentials from the environment: %s is set but %s is not",
                       ak == NULL ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                       ak == NULL ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
    out->access_key = xstrdup(ak);
    out->secret_key = xstrdup(sk);
    out->session_token = token != NULL ? xstrdup(token) : NULL;
    out->source = xstrdup("the environment");
    if (s3_cred_check(out, e) < 0) {
        s3_cred_free(out);
        return -1;
    }
    return 1;
}

/* 3: the shared credentials file. 1 found, 0 absent (or no [default]), -1 error. */
static int s3_cred_try_shared_file(struct s3_cred *out, char *why, size_t whysz, struct err *e)
{
    const char *profile = s3_cred_env("AWS_PROFILE"), *home = s3_cred_env("HOME");
    const char *path = s3_cred_env("AWS_SHARED_CREDENTIALS_FILE");
    char *owned = NULL;
    struct stat stbuf;
    int no_profile = 0, rc;

    if (path == NULL) {
        if (home == NULL) {
            snprintf(why, whysz, "credentials file: HOME is not set");
            return 0;
        }
        path = owned = xasprintf("%s/.aws/credentials", home);
    }
    if (stat(path, &stbuf) < 0 && errno == ENOENT) {
        snprintf(why, whysz, "credentials file \"%s\": absent", path);
        free(owned);
        return 0;
    }
    rc = s3_cred_read_file(path, profile != NULL ? profile : "default", out, &no_profile, e);
    if (rc < 0 && no_profile && profile == NULL) {
        snprintf(why, whysz, "credentials file \"%s\": no [default] profile", path);
        free(owned);
        return 0;
    }
    free(owned);
    return rc < 0 ? -1 : 1;
}

/* 2, 4, 5: an HTTP source. 1 found, 0 not configured or (fall_through) failed, -1 error. */
static int s3_cred_try_http(struct s3_cred_chain *c, enum s3_cred_http_kind kind,
                            const struct s3_cred_options *o, int fall_through, char *why, size_t whysz,
                            struct err *e)
{
    struct s3_cred_http *h = NULL;

    if (s3_cred_http_new(kind, o, &h, why, whysz, e) < 0)
        return -1;
    if (h == NULL)
        return 0;
    if (s3_cred_http_fetch(h, &c->cur, e) < 0 || s3_cred_check(&c->cur, e) < 0) {
        s3_cred_free(&c->cur);
        if (!fall_through) {
            s3_cred_http_free(h);
            return -1;
        }
        text_copy(why, whysz, e->msg);
        s3_cred_http_free(h);
        err_clear(e);
        return 0;
    }
    c->http = h;
    return 1;
}

int s3_cred_chain_open(const struct s3_cred_options *o, struct s3_cred_chain **out, struct err *e)
{
    struct s3_cred_chain *c = xcalloc(1, sizeof(*c));
    char why[5][600];
    const char *profile;
    int found = 0, rc = -1;

    *out = NULL;
    memset(why, 0, sizeof(why));
    if (o->credentials_file != NULL) {
        profile = s3_cred_env("AWS_PROFILE");
        if (s3_cred_from_file(o->credentials_file, profile != NULL ? profile : "default", &c->cur, e) < 0)
            goto out;
        found = 1;
    }
    if (!found && (found = s3_cred_try_env(&c->cur, why[0], sizeof(why[0]), e)) < 0)
        goto out;
    if (!found && (found = s3_cred_try_http(c, S3_CRED_WEB_IDENTITY, o, 0, why[1], sizeof(why[1]), e)) < 0) {
        err_prefix(e, "s3 credentials from a web identity");
        goto out;
    }
    if (!found && (found = s3_cred_try_shared_file(&c->cur, why[2], sizeof(why[2]), e)) < 0)
        goto out;
    if (!found && (found = s3_cred_try_http(c, S3_CRED_CONTAINER, o, 1, why[3], sizeof(why[3]), e)) < 0) {
        err_prefix(e, "s3 credentials from the container endpoint");
        goto out;
    }
    if (!found && (found = s3_cred_try_http(c, S3_CRED_IMDS, o, 1, why[4], sizeof(why[4]), e)) < 0) {
        err_prefix(e, "s3 credentials from instance metadata");
        goto out;
    }
    if (!found) {
        err_set(
            e, ERR_CONFIG,
            "no s3 credentials: %s; %s; %s; %s; %s: "
            "HINT: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set storage.s3.credentials_file "
            "(docs/storage.md lists every source)",
            why[0], why[1], why[2], why[3], why[4]);
        goto out;
    }
    c->fetched_at = time_now();
    c->describe = c->http != NULL ? xstrdup(s3_cred_http_describe(c->http)) : xstrdup(c->cur.source);
    *out = c;
    rc = 0;
out:
    if (rc < 0)
        s3_cred_chain_close(c);
    return rc;
}

/* Refresh when less than the margin is left: 5 minutes, or half the
 * lifetime of credentials that live less than 10 minutes. */
static int s3_cred_chain_due(const struct s3_cred_chain *c, int64_t now)
{
    int64_t margin = S3_CRED_REFRESH_MARGIN_S, life = c->cur.expires - c->fetched_at;

    if (c->cur.expires == 0)
        return 0;
    if (life < 2 * margin)
        margin = life > 0 ? life / 2 : 0;
    return now >= c->cur.expires - margin;
}

int s3_cred_chain_get(struct s3_cred_chain *c, int force, const struct s3_cred **out, struct err *e)
{
    struct s3_cred fresh;
    int64_t now = time_now();
    char when[TIME_BUFSZ];

    *out = &c->cur;
    if (c->http == NULL)
        return 0;
    if (!force && (!s3_cred_chain_due(c, now) || (now < c->retry_after && now < c->cur.expires)))
        return 0;
    if (s3_cred_http_fetch(c->http, &fresh, &c->last_failure) == 0 &&
        s3_cred_check(&fresh, &c->last_failure) == 0) {
        s3_cred_free(&c->cur);
        c->cur = fresh;
        c->fetched_at = now;
        c->retry_after = 0;
        return 0;
    }
    s3_cred_free(&fresh);
    c->retry_after = now + S3_CRED_RETRY_S;
    if (!force && now < c->cur.expires)
        return 0; /* the ones we have still work */
    time_format_utc(c->cur.expires, when, sizeof(when));
    *out = NULL;
    return err_set(e, ERR_IO, "s3 credentials from %s %s %s and cannot be refreshed: %s",
                   s3_cred_http_describe(c->http),
                   now < c->cur.expires ? "were refused, expiring" : "expired", when, c->last_failure.msg);
}

const char *s3_cred_chain_describe(const struct s3_cred_chain *c)
{
    return c->describe;
}

void s3_cred_chain_close(struct s3_cred_chain *c)
{
    if (c == NULL)
        return;
    s3_cred_free(&c->cur);
    s3_cred_http_free(c->http);
    free(c->describe);
    free(c);
}
