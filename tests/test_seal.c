/* test_seal.c - unit tests for seal.c (the sealed object format) and the
 * seal filter of storage_put/storage_get (storage.c) on the file:// backend.
 *
 * The format byte by byte (magic, version, key id, nonce, ciphertext, tag);
 * round trips of empty, small and large objects, in place after other bytes
 * of a buffer; that changing ANY byte of a sealed object - header, body or
 * tag - makes it fail to open, as does every truncation, another name (the
 * name is authenticated), another key under the same id, a key id the
 * key file lacks, or a header that names another key than the name. Then
 * through the storage: a sealed name is stored sealed (its bytes on disk
 * hold no plaintext, its size is storage_stored_size's) and read back
 * opened, plain names pass untouched, a sealed name without a key file or
 * with a key the file lacks fails before anything is written or fetched,
 * and one sealed object copied over another's name does not open. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring.h"
#include "objname.h"
#include "seal.h"
#include "storage.h"
#include "xalloc.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define NAME                                                                                                 \
    "live/gen-000001/incr/00000000000000000000-00000000000000000011_1763651521-1763651521.aof.gz.k1.enc"

static struct keyring *keys(const char *text)
{
    struct keyring *kr = NULL;
    struct err e;

    err_clear(&e);
    if (keyring_parse("keys", text, strlen(text), &kr, &e) != 0)
        fail_msg("%s", e.msg);
    return kr;
}

/* Seal `len` bytes of `plain` as NAME with the newest key of kr. */
static void seal(const struct keyring *kr, const char *name, const void *plain, size_t len, struct buf *out)
{
    struct err e;

    err_clear(&e);
    if (seal_object(keyring_newest(kr), name, plain, len, out, &e) != 0)
        fail_msg("%s", e.msg);
}

/* Open b (from 0) as `name`: 0 or the error code. */
static int open_code(const struct keyring *kr, const char *name, const char *expect_id, struct buf *b,
                     struct err *e)
{
    err_clear(e);
    if (seal_open(kr, name, expect_id, b, 0, e) == 0)
        return 0;
    assert_int_equal(b->len, 0); /* nothing of a failed open is kept */
    return (int)e->code;
}

/* ------------------------------------------------------------------------
 * The format
 * ------------------------------------------------------------------------ */

static void test_layout(void **state)
{
    struct keyring *kr = keys("k1 " KEY_A "\n");
    struct buf a = BUF_INIT, b = BUF_INIT;
    const unsigned char *p;
    const char plain[] = "hello, sealed world";
    size_t n = sizeof(plain) - 1;

    (void)state;
    seal(kr, NAME, plain, n, &a);
    seal(kr, NAME, plain, n, &b);
    assert_int_equal(seal_header_len(2), 8 + 1 + 1 + 2 + 12);
    assert_int_equal(seal_overhead(2), 8 + 1 + 1 + 2 + 12 + 16);
    assert_int_equal(a.len, n + seal_overhead(2));
    assert_int_equal(storage_stored_size(NAME, n), a.len);
    p = (const unsigned char *)a.data;
    assert_memory_equal(p, "AOFRSEAL", 8);
    assert_int_equal(p[8], 1);
    assert_int_equal(p[9], 2);
    assert_memory_equal(p + 10, "k1", 2);
    /* a new nonce each time, so the same plaintext seals differently */
    assert_memory_equal(a.data, b.data, 12);
    assert_memory_not_equal(a.data + 12, b.data + 12, 12);
    assert_memory_not_equal(a.data + 24, b.data + 24, n);
    /* no plaintext shows */
    assert_null(memmem(a.data, a.len, "sealed", 6));
    buf_free(&a);
    buf_free(&b);
    keyring_free(kr);
}

static void test_round_trip(void **state)
{
    struct keyring *kr = keys("k0 " KEY_B "\nk1 " KEY_A "\n");
    size_t sizes[] = {0, 1, 15, 16, 17, 4096, 3 * 1024 * 1024 + 7};
    struct buf b = BUF_INIT;
    unsigned char *plain;
    struct err e;
    size_t i, j;

    (void)state;
    plain = xmalloc(sizes[6]);
    for (j = 0; j < sizes[6]; j++)
        plain[j] = (unsigned char)(j * 7 + (j >> 8));
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        buf_reset(&b);
        buf_appendstr(&b, "prefix"); /* opened in place after other bytes */
        seal(kr, NAME, plain, sizes[i], &b);
        err_clear(&e);
        if (seal_open(kr, NAME, "k1", &b, 6, &e) != 0)
            fail_msg("%zu bytes: %s", sizes[i], e.msg);
        assert_int_equal(b.len, 6 + sizes[i]);
        assert_memory_equal(b.data, "prefix", 6);
        if (sizes[i] > 0)
            assert_memory_equal(b.data + 6, plain, sizes[i]);
        assert_int_equal(b.data[b.len], '\0');
    }
    /* the older key opens what it sealed */
    buf_reset(&b);
    err_clear(&e);
    assert_int_equal(seal_object(&kr->keys[0], "x.k0.enc", "old", 3, &b, &e), 0);
    assert_int_equal(seal_open(kr, "x.k0.enc", "k0", &b, 0, &e), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "old", 3);
    free(plain);
    buf_free(&b);
    keyring_free(kr);
}

static void test_every_byte_flipped(void **state)
{
    struct keyring *kr = keys("k1 " KEY_A "\n");
    struct buf sealed = BUF_INIT, b = BUF_INIT;
    const char plain[] = "SET session:1 secret";
    struct err e;
    size_t i;
    int bit;

    (void)state;
    seal(kr, NAME, plain, sizeof(plain) - 1, &sealed);
    for (i = 0; i < sealed.len; i++) {
        for (bit = 0; bit < 8; bit += 7) {
            int code;

            buf_reset(&b);
            buf_append(&b, sealed.data, sealed.len);
            b.data[i] ^= (char)(1 << bit);
            code = open_code(kr, NAME, NULL, &b, &e);
            if (code == 0)
                fail_msg("byte %zu bit %d flipped: the object still opens", i, bit);
            /* a changed key id, or a changed id length that takes in the
             * nonce's first byte when it is an id character (one nonce in
             * four), may name a key the file lacks: ERR_CONFIG; anything
             * else is a damaged object */
            if (i >= 9 && i < 12 && code == ERR_CONFIG)
                assert_non_null(strstr(e.msg, "which key file \"keys\" does not hold"));
            else
                assert_int_equal(code, ERR_CORRUPT);
        }
    }
    /* the messages say what failed */
    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    b.data[0] = 'X';
    assert_int_equal(open_code(kr, NAME, NULL, &b, &e), ERR_CORRUPT);
    assert_string_equal(e.msg,
                        "object \"" NAME "\" is not a sealed object: it does not start with \"AOFRSEAL\"");
    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    b.data[8] = 2;
    assert_int_equal(open_code(kr, NAME, NULL, &b, &e), ERR_CORRUPT);
    assert_string_equal(e.msg, "object \"" NAME "\": seal format version 2, this aofroll reads version 1");
    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    b.data[sealed.len - 1] ^= 1; /* the tag */
    assert_int_equal(open_code(kr, NAME, NULL, &b, &e), ERR_CORRUPT);
    assert_string_equal(e.msg,
                        "object \"" NAME "\" does not open with key \"k1\" of key file \"keys\": the key "
                        "under that id is not the one it was sealed with, or the object was altered");
    buf_free(&sealed);
    buf_free(&b);
    keyring_free(kr);
}

static void test_truncated(void **state)
{
    struct keyring *kr = keys("k1 " KEY_A "\n");
    struct buf sealed = BUF_INIT, b = BUF_INIT;
    struct err e;
    size_t n;

    (void)state;
    seal(kr, NAME, "0123456789", 10, &sealed);
    for (n = 0; n < sealed.len; n++) {
        buf_reset(&b);
        buf_append(&b, sealed.data, n);
        if (open_code(kr, NAME, NULL, &b, &e) != ERR_CORRUPT)
            fail_msg("cut to %zu of %zu bytes: %s", n, sealed.len, e.msg);
    }
    buf_reset(&b);
    buf_append(&b, sealed.data, 20);
    open_code(kr, NAME, NULL, &b, &e);
    assert_string_equal(e.msg, "object \"" NAME "\": 20 bytes, a truncated or damaged sealed object");
    /* one byte too many is damage too */
    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    buf_append(&b, "", 1);
    assert_int_equal(open_code(kr, NAME, NULL, &b, &e), ERR_CORRUPT);
    buf_free(&sealed);
    buf_free(&b);
    keyring_free(kr);
}

static void test_wrong_keys(void **state)
{
    struct keyring *kr = keys("k1 " KEY_A "\n");
    struct keyring *other = keys("k1 " KEY_B "\n"); /* same id, another key */
    struct keyring *lacks = keys("k2 " KEY_A "\n"); /* the key, under another id */
    struct buf sealed = BUF_INIT, b = BUF_INIT;
    char id[OBJNAME_KEY_ID_MAX + 1];
    struct err e;

    (void)state;
    seal(kr, NAME, "payload", 7, &sealed);
    err_clear(&e);
    assert_int_equal(seal_key_id(sealed.data, sealed.len, NAME, id, &e), 0);
    assert_string_equal(id, "k1");

    buf_append(&b, sealed.data, sealed.len);
    assert_int_equal(open_code(other, NAME, NULL, &b, &e), ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "does not open with key \"k1\""));

    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    assert_int_equal(open_code(lacks, NAME, NULL, &b, &e), ERR_CONFIG);
    assert_string_equal(e.msg,
                        "object \"" NAME "\" is sealed with key \"k1\", which key file \"keys\" does not "
                        "hold HINT: put the line of key \"k1\" back into the key file");

    /* the header must name the key the name names */
    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    assert_int_equal(open_code(kr, NAME, "k9", &b, &e), ERR_CORRUPT);
    assert_string_equal(e.msg, "object \"" NAME "\": its header names key \"k1\", its name key \"k9\"");
    buf_free(&sealed);
    buf_free(&b);
    keyring_free(kr);
    keyring_free(other);
    keyring_free(lacks);
}

static void test_name_is_authenticated(void **state)
{
    static const char *const others[] = {
        "live/gen-000001/incr/00000000000000000011-00000000000000000022_1763651521-1763651521.aof.gz.k1.enc",
        "other/gen-000001/incr/00000000000000000000-00000000000000000011_1763651521-1763651521.aof.gz.k1.enc",
        NAME "x",
        "",
    };
    struct keyring *kr = keys("k1 " KEY_A "\n");
    struct buf sealed = BUF_INIT, b = BUF_INIT;
    struct err e;
    size_t i;

    (void)state;
    seal(kr, NAME, "SET a 1", 7, &sealed);
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        buf_reset(&b);
        buf_append(&b, sealed.data, sealed.len);
        assert_int_equal(open_code(kr, others[i], NULL, &b, &e), ERR_CORRUPT);
    }
    buf_reset(&b);
    buf_append(&b, sealed.data, sealed.len);
    assert_int_equal(open_code(kr, NAME, NULL, &b, &e), 0);
    buf_free(&sealed);
    buf_free(&b);
    keyring_free(kr);
}

/* ------------------------------------------------------------------------
 * Through the storage (file://)
 * ------------------------------------------------------------------------ */

struct fixture {
    char dir[1024];
    char root[1100];
    char keyfile[1100];
    struct config cfg;
};

static int fixture_setup(void **state)
{
    const char *base = getenv("AOFROLL_TEST_TMP");
    struct fixture *f = xcalloc(1, sizeof(*f));
    char cmd[1200];
    FILE *fp;

    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base != NULL ? base : "/tmp");
    if (system(cmd) != 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/test_seal.XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->root, sizeof(f->root), "%s/archive", f->dir);
    snprintf(f->keyfile, sizeof(f->keyfile), "%s/keys", f->dir);
    fp = fopen(f->keyfile, "w");
    if (fp == NULL)
        return -1;
    fputs("old " KEY_B "\nk1 " KEY_A "\n", fp);
    fclose(fp);
    chmod(f->keyfile, 0600);
    f->cfg.storage_url = xasprintf("file://%s", f->root);
    f->cfg.encryption.key_file = xstrdup(f->keyfile);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[1200];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f->cfg.storage_url);
    free(f->cfg.encryption.key_file);
    free(f);
    return 0;
}

static void read_file(const char *path, struct buf *out)
{
    FILE *fp = fopen(path, "rb");
    char chunk[4096];
    size_t n;

    assert_non_null(fp);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(out, chunk, n);
    fclose(fp);
}

static void test_storage_filter(void **state)
{
    struct fixture *f = *state;
    const char secret[] = "*3\r\n$3\r\nSET\r\n$6\r\nsecret\r\n$5\r\nvalue\r\n";
    struct storage *st = NULL;
    struct buf b = BUF_INIT;
    char path[1700];
    struct stat sb;
    struct err e;

    err_clear(&e);
    if (storage_open(&f->cfg, &st, &e) != 0)
        fail_msg("%s", e.msg);
    assert_string_equal(storage_seal_id(st), "k1"); /* the last line */
    assert_int_equal(storage_put(st, NAME, secret, sizeof(secret) - 1, &e), 0);
    /* on disk: sealed, no plaintext, the size storage_stored_size says */
    snprintf(path, sizeof(path), "%s/%s", f->root, NAME);
    read_file(path, &b);
    assert_int_equal(b.len, storage_stored_size(NAME, sizeof(secret) - 1));
    assert_memory_equal(b.data, "AOFRSEAL\001\002k1", 12);
    assert_null(memmem(b.data, b.len, "secret", 6));
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal((size_t)sb.st_size, b.len);
    buf_reset(&b);
    /* read back opened, appended to what the buffer held */
    buf_appendstr(&b, ">");
    assert_int_equal(storage_get(st, NAME, &b, &e), 0);
    assert_int_equal(b.len, 1 + sizeof(secret) - 1);
    assert_memory_equal(b.data + 1, secret, sizeof(secret) - 1);

    /* plain names pass as they are */
    assert_int_equal(storage_put(st, "live/index.db", "plain", 5, &e), 0);
    assert_int_equal(storage_stored_size("live/index.db", 5), 5);
    buf_reset(&b);
    snprintf(path, sizeof(path), "%s/live/index.db", f->root);
    read_file(path, &b);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "plain", 5);

    /* a key the file lacks: refused before anything is stored or fetched */
    assert_int_equal(storage_put(st, "live/x.k9.enc", "x", 1, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_non_null(strstr(e.msg, "object \"live/x.k9.enc\" is sealed with key \"k9\", which key file \""));
    snprintf(path, sizeof(path), "%s/live/x.k9.enc", f->root);
    assert_int_equal(access(path, F_OK), -1);
    err_clear(&e);
    assert_int_equal(storage_get(st, "live/absent.k9.enc", &b, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG); /* not ERR_NOTFOUND: it was never fetched */
    buf_free(&b);
    storage_close(st);
}

static void test_storage_swap_and_no_keys(void **state)
{
    struct fixture *f = *state;
    const char *other =
        "live/gen-000001/incr/00000000000000000011-00000000000000000022_1763651521-1763651521.aof.gz.k1.enc";
    struct storage *st = NULL;
    struct buf b = BUF_INIT;
    char from[1700], to[1700], cmd[3600];
    char *key_file;
    struct err e;

    err_clear(&e);
    assert_int_equal(storage_open(&f->cfg, &st, &e), 0);
    assert_int_equal(storage_put(st, NAME, "first chunk", 11, &e), 0);
    assert_int_equal(storage_put(st, other, "second chunk", 12, &e), 0);
    /* one sealed object copied over another's name does not open */
    snprintf(from, sizeof(from), "%s/%s", f->root, NAME);
    snprintf(to, sizeof(to), "%s/%s", f->root, other);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(storage_get(st, other, &b, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_int_equal(b.len, 0);
    storage_close(st);

    /* without a key file, sealed names are refused, plain ones work */
    key_file = f->cfg.encryption.key_file;
    f->cfg.encryption.key_file = NULL;
    assert_int_equal(storage_open(&f->cfg, &st, &e), 0);
    assert_null(storage_seal_id(st));
    assert_int_equal(storage_get(st, NAME, &b, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg,
                        "object \"" NAME "\" is sealed with key \"k1\", but no key file is configured HINT: "
                        "set storage.encryption.key_file to the key file that holds it");
    assert_int_equal(storage_put(st, "live/y.k1.enc", "y", 1, &e), -1);
    assert_int_equal(storage_put(st, "live/y", "y", 1, &e), 0);
    storage_close(st);
    f->cfg.encryption.key_file = key_file;

    /* a key file that cannot be read stops storage_open */
    chmod(f->keyfile, 0644);
    assert_int_equal(storage_open(&f->cfg, &st, &e), -1);
    assert_null(st);
    assert_non_null(strstr(e.msg, "is open to group or others (mode 0644): refused"));
    chmod(f->keyfile, 0600);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_byte_flipped),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_wrong_keys),
        cmocka_unit_test(test_name_is_authenticated),
        cmocka_unit_test_setup_teardown(test_storage_filter, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_storage_swap_and_no_keys, fixture_setup, fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
