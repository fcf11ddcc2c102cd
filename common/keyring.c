/* keyring.c - the key file of storage.encryption.key_file (see keyring.h).
 *
 * The file is read whole with read(2) into a buffer of our own (not stdio,
 * whose buffers would keep a copy of the keys nobody wipes), parsed line
 * by line, and the buffer wiped. Base64 is decoded by libcrypto
 * (EVP_DecodeBlock), which also refuses what is not base64. Columns in messages count bytes from 1, as the
 * configuration's do. A message names a key by its id and its line, never by its bytes; a token that fails as
 * an id is not quoted either (it may be a key written where the id belongs). */
#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "xalloc.h"

/* A key file holds a few lines; anything larger is not one. */
#define KEYRING_FILE_MAX (64 * 1024)
/* base64 of 32 bytes is 44 characters; twice that is surely not a key */
#define KEYRING_TOKEN_MAX 88

struct keyring_parser {
    const char *name;
    struct keyring *kr;
    size_t cap;
    int line;
};

static int keyring_error(const struct keyring_parser *p, size_t col, struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int keyring_error(const struct keyring_parser *p, size_t col, struct err *e, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return err_set(e, ERR_CONFIG, "%s:%d:%zu: %s", p->name, p->line, col, what);
}

static int keyring_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Decode the base64 token into key[]; its decoded length in *got (which
 * may differ from KEYRING_KEY_LEN). -1 when it is not base64. libcrypto's
 * EVP_DecodeBlock decodes (and refuses other characters and lengths that
 * are no multiple of 4); it has no state to wipe, unlike EVP_DecodeUpdate's
 * context, but takes '=' anywhere, so padding is checked here: at most two,
 * at the end. */
static int keyring_decode(const char *tok, size_t len, unsigned char key[KEYRING_KEY_LEN], size_t *got)
{
    unsigned char out[KEYRING_TOKEN_MAX];
    const char *eq = memchr(tok, '=', len);
    size_t pad = eq != NULL ? len - (size_t)(eq - tok) : 0, i;
    int n, rc = -1;

    *got = 0;
    if (len == 0 || len > KEYRING_TOKEN_MAX)
        return len == 0 ? -1 : 0; /* too long: surely the wrong length */
    if (pad > 2)
        return -1;
    for (i = 0; i < pad; i++)
        if (eq[i] != '=')
            return -1;
    n = EVP_DecodeBlock(out, (const unsigned char *)tok, (int)len);
    if (n < 0 || (size_t)n < pad)
        goto out;
    *got = (size_t)n - pad;
    if (*got == KEYRING_KEY_LEN)
        memcpy(key, out, KEYRING_KEY_LEN);
    rc = 0;
out:
    OPENSSL_cleanse(out, sizeof(out));
    return rc;
}

/* One line without its '\n'. */
static int keyring_line(struct keyring_parser *p, const char *s, size_t len, struct err *e)
{
    struct keyring *kr = p->kr;
    struct keyring_key k;
    size_t i = 0, id_at, id_len, key_at, key_len, got, j;
    int rc = -1;

    memset(&k, 0, sizeof(k));
    while (i < len && keyring_space(s[i]))
        i++;
    if (i == len || s[i] == '#')
        return 0;
    id_at = i;
    while (i < len && !keyring_space(s[i]))
        i++;
    id_len = i - id_at;
    if (id_len > OBJNAME_KEY_ID_MAX) {
        keyring_error(p, id_at + 1, e, "expected a key id of at most %d characters, then its key",
                      OBJNAME_KEY_ID_MAX);
        goto out;
    }
    memcpy(k.id, s + id_at, id_len);
    k.id[id_len] = '\0';
    if (!objname_valid_key_id(k.id)) {
        keyring_error(p, id_at + 1, e,
                      "expected a key id (1-%d characters of A-Z, a-z, 0-9, '_' and '-'), then its key",
                      OBJNAME_KEY_ID_MAX);
        goto out;
    }
    while (i < len && keyring_space(s[i]))
        i++;
    key_at = i;
    while (i < len && !keyring_space(s[i]))
        i++;
    key_len = i - key_at;
    if (key_len == 0) {
        keyring_error(p, key_at + 1, e,
                      "key id \"%s\" has no key: expected \"ID BASE64-KEY\" HINT: openssl rand -base64 32",
                      k.id);
        goto out;
    }
    while (i < len && keyring_space(s[i]))
        i++;
    if (i < len) {
        keyring_error(p, i + 1, e, "unexpected text after the key of \"%s\"", k.id);
        goto out;
    }
    if (keyring_decode(s + key_at, key_len, k.key, &got) < 0) {
        keyring_error(p, key_at + 1, e, "the key of \"%s\" is not valid base64", k.id);
        goto out;
    }
    if (got != KEYRING_KEY_LEN) {
        if (key_len > KEYRING_TOKEN_MAX)
            keyring_error(p, key_at + 1, e, "the key of \"%s\" is far longer than %d bytes in base64", k.id,
                          KEYRING_KEY_LEN);
        else
            keyring_error(p, key_at + 1, e,
                          "the key of \"%s\" is %zu bytes, expected %d HINT: openssl rand -base64 32", k.id,
                          got, KEYRING_KEY_LEN);
        goto out;
    }
    for (j = 0; j < kr->n; j++) {
        if (strcmp(kr->keys[j].id, k.id) == 0) {
            keyring_error(p, id_at + 1, e, "key id \"%s\" is already defined on line %d", k.id,
                          kr->keys[j].line);
            goto out;
        }
        if (CRYPTO_memcmp(kr->keys[j].key, k.key, KEYRING_KEY_LEN) == 0) {
            keyring_error(
                p, key_at + 1, e,
                "the key of \"%s\" is the key of \"%s\" (line %d) again: each id needs a key of its own",
                k.id, kr->keys[j].id, kr->keys[j].line);
            goto out;
        }
    }
    k.line = p->line;
    if (kr->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        struct keyring_key *v = xcalloc(cap, sizeof(*v));

        /* grown by hand, so that the old array is wiped before it is freed */
        if (kr->n > 0)
            memcpy(v, kr->keys, kr->n * sizeof(*v));
        if (kr->keys != NULL) {
            OPENSSL_cleanse(kr->keys, p->cap * sizeof(*kr->keys));
            free(kr->keys);
        }
        kr->keys = v;
        p->cap = cap;
    }
    kr->keys[kr->n++] = k;
    rc = 0;
out:
    OPENSSL_cleanse(&k, sizeof(k));
    return rc;
}

int keyring_parse(const char *name, const char *text, size_t len, struct keyring **out, struct err *e)
{
    struct keyring_parser p;
    size_t at = 0;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    p.name = name;
    p.kr = xcalloc(1, sizeof(*p.kr));
    p.kr->path = xstrdup(name);
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;

        p.line++;
        if (memchr(text + at, '\0', n) != NULL) {
            keyring_error(&p, 1, e, "a NUL byte: not a key file");
            goto fail;
        }
        if (keyring_line(&p, text + at, n, e) < 0)
            goto fail;
        at += n + (nl != NULL ? 1 : 0);
    }
    if (p.kr->n == 0) {
        err_set(e, ERR_CONFIG,
                "key file \"%s\" holds no key: expected lines \"ID BASE64-KEY\" HINT: "
                "openssl rand -base64 32",
                name);
        goto fail;
    }
    *out = p.kr;
    return 0;
fail:
    keyring_free(p.kr);
    return -1;
}

int keyring_load(const char *path, struct keyring **out, struct err *e)
{
    struct stat st;
    char *text = NULL;
    size_t have = 0;
    int fd, rc = -1;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, errno, "cannot open key file \"%s\"", path);
    if (fstat(fd, &st) < 0) {
        err_sys(e, errno, "cannot stat key file \"%s\"", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        err_set(e, ERR_CONFIG, "key file \"%s\" is not a regular file", path);
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        err_set(e, ERR_CONFIG,
                "key file \"%s\" is open to group or others (mode %04o): refused HINT: chmod 600 %s", path,
                (unsigned)(st.st_mode & 07777), path);
        goto out;
    }
    if (st.st_size > KEYRING_FILE_MAX) {
        err_set(e, ERR_CONFIG, "key file \"%s\" is %lld bytes: too large for a key file", path,
                (long long)st.st_size);
        goto out;
    }
    text = xmalloc(KEYRING_FILE_MAX + 1);
    for (;;) {
        ssize_t n = read(fd, text + have, KEYRING_FILE_MAX + 1 - have);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_sys(e, errno, "cannot read key file \"%s\"", path);
            goto out;
        }
        if (n == 0)
            break;
        have += (size_t)n;
        if (have > KEYRING_FILE_MAX) {
            err_set(e, ERR_CONFIG, "key file \"%s\" grew past %d bytes: too large for a key file", path,
                    KEYRING_FILE_MAX);
            goto out;
        }
    }
    rc = keyring_parse(path, text, have, out, e);
out:
    if (text != NULL) {
        OPENSSL_cleanse(text, KEYRING_FILE_MAX + 1);
        free(text);
    }
    close(fd);
    return rc;
}

void keyring_free(struct keyring *kr)
{
    if (kr == NULL)
        return;
    if (kr->keys != NULL) {
        OPENSSL_cleanse(kr->keys, kr->n * sizeof(*kr->keys));
        free(kr->keys);
    }
    free(kr->path);
    free(kr);
}

const struct keyring_key *keyring_find(const struct keyring *kr, const char *id)
{
    size_t i;

    if (kr == NULL || id == NULL)
        return NULL;
    for (i = 0; i < kr->n; i++)
        if (strcmp(kr->keys[i].id, id) == 0)
            return &kr->keys[i];
    return NULL;
}

const struct keyring_key *keyring_newest(const struct keyring *kr)
{
    return kr != NULL && kr->n > 0 ? &kr->keys[kr->n - 1] : NULL;
}

void keyring_describe(const struct keyring *kr, char *buf, size_t n)
{
    size_t i, used = 0;

    if (n == 0)
        return;
    buf[0] = '\0';
    for (i = 0; kr != NULL && i < kr->n && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s\"%s\"%s", i ? ", " : "", kr->keys[i].id,
                         i + 1 == kr->n ? " (seals new objects)" : "");

        if (w < 0)
            break;
        used += (size_t)w;
    }
}
