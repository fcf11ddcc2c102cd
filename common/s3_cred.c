/* s3_cred.c - S3 access keys from the environment or an AWS credentials
 * file (see s3_cred.h). The file is read through the descriptor whose
 * mode was checked, so that the check and the read see the same file. */
#include "s3_cred.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "xalloc.h"

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
}

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

int s3_cred_from_file(const char *path, const char *profile, struct s3_cred *out, struct err *e)
{
    FILE *fp = NULL;
    struct stat stbuf;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, in_profile = 0, seen_profile = 0, rc = -1;

    memset(out, 0, sizeof(*out));
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
        err_set(e, ERR_CONFIG, "credentials file \"%s\" has no profile [%s]", path, profile);
        goto out;
    }
    if (out->access_key == NULL || out->secret_key == NULL) {
        err_set(e, ERR_CONFIG, "credentials file \"%s\" profile [%s] has no %s", path, profile,
                out->access_key == NULL ? "aws_access_key_id" : "aws_secret_access_key");
        goto out;
    }
    out->source = xasprintf("credentials file \"%s\" [%s]", path, profile);
    rc = 0;
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

int s3_cred_load(const char *credentials_file, struct s3_cred *out, struct err *e)
{
    const char *ak, *sk, *token, *profile;

    memset(out, 0, sizeof(*out));
    if (credentials_file != NULL) {
        profile = getenv("AWS_PROFILE");
        if (profile == NULL || profile[0] == '\0')
            profile = "default";
        return s3_cred_from_file(credentials_file, profile, out, e);
    }
    ak = getenv("AWS_ACCESS_KEY_ID");
    sk = getenv("AWS_SECRET_ACCESS_KEY");
    token = getenv("AWS_SESSION_TOKEN");
    if (ak == NULL || ak[0] == '\0' || sk == NULL || sk[0] == '\0')
        return err_set(e, ERR_CONFIG,
                       "no s3 credentials: %s is not set and storage.s3.credentials_file is not configured: "
                       "HINT: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a credentials file",
                       ak == NULL || ak[0] == '\0' ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
    out->access_key = xstrdup(ak);
    out->secret_key = xstrdup(sk);
    out->session_token = token != NULL && token[0] != '\0' ? xstrdup(token) : NULL;
    out->source = xstrdup("the environment");
    return 0;
}
