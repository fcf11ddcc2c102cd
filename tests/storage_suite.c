/* storage_suite.c - the storage contract (storage.h), checked against any backend.
 *
 * One program for every backend, like Litestream's shared replica client
 * tests: the storage under test is opened with storage_open() from a
 * configuration built from the environment (suite_config_from_env), and
 * each backend is registered in tests/CMakeLists.txt as its own test with
 * its own environment, e.g.
 *
 *   storage_suite_file   AOFROLL_SUITE_URL=file:///build/tmp/storage_suite_file
 *
 * Every test works below its own prefix "suite-<pid>-<n>/<test>/" so that
 * runs never see each other's objects (a bucket may be shared), and the
 * group teardown removes whatever is left there. Only the contract is
 * checked here; backend details (paths, temp files, signatures) belong in
 * each backend's own test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "storage.h"
#include "xalloc.h"

struct suite {
    struct config cfg;
    struct storage *st;
    char run[64]; /* "suite-<pid>-<time>/" */
};

/* An environment variable, or NULL when unset or empty. */
static char *suite_env(const char *name)
{
    char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The one place that maps the environment to a configuration. Unset
 * variables stay NULL (the backend's defaults). The strings belong to the
 * environment: nothing to free. */
static void suite_config_from_env(struct config *cfg)
{
    const char *path_style = suite_env("AOFROLL_SUITE_S3_PATH_STYLE");

    memset(cfg, 0, sizeof(*cfg));
    cfg->storage_url = suite_env("AOFROLL_SUITE_URL");
    cfg->s3.endpoint = suite_env("AOFROLL_SUITE_S3_ENDPOINT");
    cfg->s3.region = suite_env("AOFROLL_SUITE_S3_REGION");
    cfg->s3.path_style = path_style != NULL && strcmp(path_style, "1") == 0;
    cfg->s3.storage_class = suite_env("AOFROLL_SUITE_S3_STORAGE_CLASS");
    cfg->s3.sse = suite_env("AOFROLL_SUITE_S3_SSE");
    cfg->s3.credentials_file = suite_env("AOFROLL_SUITE_S3_CREDENTIALS_FILE");
    cfg->s3.ca_bundle = suite_env("AOFROLL_SUITE_S3_CA_BUNDLE");
    cfg->s3.sts_endpoint = suite_env("AOFROLL_SUITE_S3_STS_ENDPOINT");
    cfg->azure.endpoint = suite_env("AOFROLL_SUITE_AZURE_ENDPOINT");
    cfg->azure.sas_token_file = suite_env("AOFROLL_SUITE_AZURE_SAS_TOKEN_FILE");
    cfg->azure.ca_bundle = suite_env("AOFROLL_SUITE_AZURE_CA_BUNDLE");
    cfg->sftp.private_key = suite_env("AOFROLL_SUITE_SFTP_PRIVATE_KEY");
    cfg->sftp.public_key = suite_env("AOFROLL_SUITE_SFTP_PUBLIC_KEY");
    cfg->sftp.known_hosts = suite_env("AOFROLL_SUITE_SFTP_KNOWN_HOSTS");
    cfg->sftp.host_key_sha256 = suite_env("AOFROLL_SUITE_SFTP_HOST_KEY_SHA256");
}

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

struct listing {
    char **keys;
    uint64_t *sizes;
    size_t n, cap;
    size_t stop_after; /* 0 = never stop */
};

static int listing_cb(void *ud, const char *key, uint64_t size)
{
    struct listing *l = ud;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->keys = xrealloc(l->keys, l->cap * sizeof(*l->keys));
        l->sizes = xrealloc(l->sizes, l->cap * sizeof(*l->sizes));
    }
    l->keys[l->n] = xstrdup(key);
    l->sizes[l->n] = size;
    l->n++;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static void listing_free(struct listing *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    free(l->sizes);
    memset(l, 0, sizeof(*l));
}

static void list_ok(struct suite *s, const char *prefix, struct listing *l)
{
    struct err e;

    err_clear(&e);
    if (storage_list(s->st, prefix, listing_cb, l, &e) != 0)
        fail_msg("list \"%s\": %s", prefix, e.msg);
}

/* "<run><test>/<rel>" into buf. */
static const char *key_of(const struct suite *s, const char *test, const char *rel, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s/%s", s->run, test, rel);
    return buf;
}

static void put_ok(struct suite *s, const char *key, const void *data, size_t len)
{
    struct err e;

    err_clear(&e);
    if (storage_put(s->st, key, data, len, &e) != 0)
        fail_msg("put \"%s\": %s", key, e.msg);
}

static void get_expect(struct suite *s, const char *key, const void *data, size_t len)
{
    struct buf b = BUF_INIT;
    struct err e;

    err_clear(&e);
    if (storage_get(s->st, key, &b, &e) != 0)
        fail_msg("get \"%s\": %s", key, e.msg);
    assert_int_equal(b.len, len);
    if (len > 0)
        assert_memory_equal(b.data, data, len);
    buf_free(&b);
}

static void expect_notfound(struct suite *s, const char *key)
{
    struct buf b = BUF_INIT;
    struct err e;
    uint64_t size = 12345;
    char quoted[1200];

    snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    buf_appendstr(&b, "keep");
    err_clear(&e);
    assert_int_equal(storage_get(s->st, key, &b, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, quoted));
    assert_string_equal(b.data, "keep"); /* out untouched */
    assert_int_equal(b.len, 4);
    err_clear(&e);
    assert_int_equal(storage_head(s->st, key, &size, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, quoted));
    buf_free(&b);
}

static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    size_t i;

    for (i = 0; i < n; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        p[i] = (unsigned char)((x * 0x2545F4914F6CDD1DULL) >> 56);
    }
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void test_put_get_head(void **state)
{
    struct suite *s = *state;
    unsigned char bin[1024];
    struct buf b = BUF_INIT;
    struct err e;
    char key[512];
    uint64_t size = 0;
    int i;

    for (i = 0; i < 1024; i++)
        bin[i] = (unsigned char)(i * 7 + i / 256); /* every byte value, NULs included */
    key_of(s, "basic", "inst/gen-000001/base/00000000000000000000-00000000000000001024.rdb.gz", key,
           sizeof(key));
    put_ok(s, key, bin, sizeof(bin));
    get_expect(s, key, bin, sizeof(bin));
    err_clear(&e);
    assert_int_equal(storage_head(s->st, key, &size, &e), 0);
    assert_int_equal(size, sizeof(bin));
    /* get appends to what the buffer holds */
    buf_appendstr(&b, "prefix:");
    assert_int_equal(storage_get(s->st, key, &b, &e), 0);
    assert_int_equal(b.len, 7 + sizeof(bin));
    assert_memory_equal(b.data, "prefix:", 7);
    assert_memory_equal(b.data + 7, bin, sizeof(bin));
    buf_free(&b);
}

static void test_empty_object(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;
    char key[512];
    char prefix[512];
    uint64_t size = 99;

    key_of(s, "empty", "nothing", key, sizeof(key));
    put_ok(s, key, "", 0);
    get_expect(s, key, "", 0);
    assert_int_equal(storage_head(s->st, key, &size, &e), 0);
    assert_int_equal(size, 0);
    key_of(s, "empty", "", prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.keys[0], key);
    assert_int_equal(l.sizes[0], 0);
    listing_free(&l);
}

static void test_large_object(void **state)
{
    struct suite *s = *state;
    size_t n = 5 * 1024 * 1024 + 17;
    unsigned char *p = xmalloc(n);
    struct err e;
    char key[512];
    uint64_t size = 0;

    fill_random(p, n, 7);
    key_of(s, "large", "big.gz", key, sizeof(key));
    put_ok(s, key, p, n);
    get_expect(s, key, p, n);
    assert_int_equal(storage_head(s->st, key, &size, &e), 0);
    assert_int_equal(size, n);
    free(p);
}

static void test_overwrite(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;
    char key[512];
    char prefix[512];
    uint64_t size = 0;

    key_of(s, "overwrite", "x/index.db", key, sizeof(key));
    put_ok(s, key, "first version, longer than the second", 37);
    put_ok(s, key, "second", 6);
    get_expect(s, key, "second", 6);
    assert_int_equal(storage_head(s->st, key, &size, &e), 0);
    assert_int_equal(size, 6);
    key_of(s, "overwrite", "", prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.keys[0], key);
    assert_int_equal(l.sizes[0], 6);
    listing_free(&l);
}

static void test_not_found(void **state)
{
    struct suite *s = *state;
    char key[512];

    key_of(s, "notfound", "never/stored.gz", key, sizeof(key));
    expect_notfound(s, key);
    /* a "directory" above a stored object is not an object */
    key_of(s, "notfound", "dir/obj", key, sizeof(key));
    put_ok(s, key, "o", 1);
    key_of(s, "notfound", "dir", key, sizeof(key));
    expect_notfound(s, key);
    /* below an object is not an object either */
    key_of(s, "notfound", "dir/obj/below", key, sizeof(key));
    expect_notfound(s, key);
}

/* Keys chosen so that a per-directory walk would give the wrong order:
 * '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0' (0x30) < 'A' < 'a'. No key is
 * also a "directory" of another ("a" and "a/x"): a file tree cannot hold
 * both, and the archive layout never needs it. */
static const char *const order_keys[] = {
    "a/y/z", "A", "a0", "a-x", "b", "a/x", "ab/c", "a.x", "a/x0", "a/x-", "c/d/e/f",
};

static void expect_listing(struct suite *s, const char *rel_prefix, const char *const *rel_expect, size_t n)
{
    struct listing l = {0};
    char prefix[512];
    char key[512];
    size_t i;

    key_of(s, "order", rel_prefix, prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    if (l.n != n) {
        for (i = 0; i < l.n; i++)
            print_message("listed %s\n", l.keys[i]);
        fail_msg("list \"%s\": %zu keys, expected %zu", prefix, l.n, n);
    }
    for (i = 0; i < n; i++) {
        key_of(s, "order", rel_expect[i], key, sizeof(key));
        assert_string_equal(l.keys[i], key);
        assert_int_equal(l.sizes[i], strlen(rel_expect[i]));
    }
    listing_free(&l);
}

static void test_list_prefix_order(void **state)
{
    struct suite *s = *state;
    static const char *const all[] = {
        "A", "a-x", "a.x", "a/x", "a/x-", "a/x0", "a/y/z", "a0", "ab/c", "b", "c/d/e/f",
    };
    static const char *const under_a[] = {
        "a-x", "a.x", "a/x", "a/x-", "a/x0", "a/y/z", "a0", "ab/c",
    };
    static const char *const dir_a[] = {"a/x", "a/x-", "a/x0", "a/y/z"};
    static const char *const a_x[] = {"a/x", "a/x-", "a/x0"};
    static const char *const only_b[] = {"b"};
    static const char *const deep[] = {"c/d/e/f"};
    char key[512];
    size_t i;

    for (i = 0; i < sizeof(order_keys) / sizeof(order_keys[0]); i++) {
        key_of(s, "order", order_keys[i], key, sizeof(key));
        /* content = the relative key, so sizes differ and are checkable */
        put_ok(s, key, order_keys[i], strlen(order_keys[i]));
    }
    expect_listing(s, "", all, sizeof(all) / sizeof(all[0]));
    expect_listing(s, "a", under_a, sizeof(under_a) / sizeof(under_a[0]));
    expect_listing(s, "a/", dir_a, sizeof(dir_a) / sizeof(dir_a[0]));
    expect_listing(s, "a/x", a_x, sizeof(a_x) / sizeof(a_x[0]));
    expect_listing(s, "b", only_b, 1);
    expect_listing(s, "c/d/", deep, 1);
    expect_listing(s, "c/d/e/f", deep, 1);
    expect_listing(s, "zz", NULL, 0);
    expect_listing(s, "a/q/", NULL, 0);
    expect_listing(s, "c/d/e/f/", NULL, 0);
}

static void test_list_stop(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;
    char prefix[512];
    char key[512];
    int i;

    for (i = 0; i < 5; i++) {
        char rel[16];

        snprintf(rel, sizeof(rel), "k%d", i);
        key_of(s, "stop", rel, key, sizeof(key));
        put_ok(s, key, "v", 1);
    }
    key_of(s, "stop", "", prefix, sizeof(prefix));
    l.stop_after = 2;
    err_clear(&e);
    assert_int_equal(storage_list(s->st, prefix, listing_cb, &l, &e), 0);
    assert_int_equal(l.n, 2);
    key_of(s, "stop", "k1", key, sizeof(key));
    assert_string_equal(l.keys[1], key);
    listing_free(&l);
}

/* More keys than one S3 ListObjectsV2 page (1000), in two "directories". */
static void test_list_many(void **state)
{
    enum { N = 1010 };
    struct suite *s = *state;
    struct listing l = {0};
    char prefix[512];
    char key[512];
    size_t i;

    for (i = 0; i < N; i++) {
        char rel[64];

        /* odd numbers under b/, even under a/: listing order is all of a/
         * (ascending), then all of b/ */
        snprintf(rel, sizeof(rel), "%s/%020zu.aof.gz", i % 2 ? "b" : "a", N - 1 - i);
        key_of(s, "many", rel, key, sizeof(key));
        put_ok(s, key, rel, i % 7);
    }
    key_of(s, "many", "", prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, N);
    for (i = 1; i < l.n; i++) {
        if (strcmp(l.keys[i - 1], l.keys[i]) >= 0)
            fail_msg("out of order: \"%s\" before \"%s\"", l.keys[i - 1], l.keys[i]);
    }
    for (i = 0; i < l.n; i++) {
        /* key for number j = N-1-i' was put with size i' % 7 */
        const char *base = strrchr(l.keys[i], '/') + 1;
        size_t j = (size_t)strtoull(base, NULL, 10);
        size_t put_index = N - 1 - j;
        int in_b = strstr(l.keys[i], "/b/") != NULL;

        assert_int_equal(in_b, (int)(put_index % 2));
        assert_int_equal(l.sizes[i], put_index % 7);
        assert_int_equal(in_b, i >= N / 2);
    }
    listing_free(&l);
    /* and a page-crossing prefix that is not a directory */
    key_of(s, "many", "a/0000000000000000", prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, N / 2);
    listing_free(&l);
}

static void test_remove(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;
    char a[512];
    char b[512];
    char prefix[512];

    key_of(s, "remove", "g/a", a, sizeof(a));
    key_of(s, "remove", "g/b", b, sizeof(b));
    put_ok(s, a, "A", 1);
    put_ok(s, b, "B", 1);
    err_clear(&e);
    assert_int_equal(storage_remove(s->st, a, &e), 0);
    expect_notfound(s, a);
    get_expect(s, b, "B", 1);
    /* removing what is not there succeeds */
    assert_int_equal(storage_remove(s->st, a, &e), 0);
    key_of(s, "remove", "never/was", a, sizeof(a));
    assert_int_equal(storage_remove(s->st, a, &e), 0);
    key_of(s, "remove", "", prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.keys[0], b);
    listing_free(&l);
    assert_int_equal(storage_remove(s->st, b, &e), 0);
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, 0);
    listing_free(&l);
    /* a removed key can be written again */
    put_ok(s, b, "B2", 2);
    get_expect(s, b, "B2", 2);
}

static void test_remove_many(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;
    char keys[6][512];
    const char *victims[4];
    const char *bad[2];
    char prefix[512];
    char missing[512];
    int i;

    for (i = 0; i < 6; i++) {
        char rel[32];

        snprintf(rel, sizeof(rel), "d%d/k%d", i % 2, i);
        key_of(s, "many_rm", rel, keys[i], sizeof(keys[i]));
        put_ok(s, keys[i], rel, strlen(rel));
    }
    key_of(s, "many_rm", "d9/missing", missing, sizeof(missing));
    victims[0] = keys[0];
    victims[1] = keys[3];
    victims[2] = missing;
    victims[3] = keys[4];
    err_clear(&e);
    assert_int_equal(storage_remove_many(s->st, victims, 4, &e), 0);
    assert_int_equal(storage_remove_many(s->st, victims, 0, &e), 0);
    key_of(s, "many_rm", "", prefix, sizeof(prefix));
    list_ok(s, prefix, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], keys[2]);
    assert_string_equal(l.keys[1], keys[1]);
    assert_string_equal(l.keys[2], keys[5]);
    listing_free(&l);
    /* one invalid key: nothing is removed */
    bad[0] = keys[1];
    bad[1] = "/etc/passwd";
    assert_int_equal(storage_remove_many(s->st, bad, 2, &e), -1);
    assert_string_equal(e.msg, "invalid storage key \"/etc/passwd\": must not start with \"/\"");
    get_expect(s, keys[1], "d1/k1", 5);
}

static void expect_bad_key(struct suite *s, const char *key, const char *msg)
{
    struct buf b = BUF_INIT;
    struct err e;
    uint64_t size;

    err_clear(&e);
    assert_int_equal(storage_put(s->st, key, "x", 1, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_string_equal(e.msg, msg);
    err_clear(&e);
    assert_int_equal(storage_get(s->st, key, &b, &e), -1);
    assert_string_equal(e.msg, msg);
    assert_int_equal(storage_head(s->st, key, &size, &e), -1);
    assert_int_equal(storage_remove(s->st, key, &e), -1);
    assert_string_equal(e.msg, msg);
    buf_free(&b);
}

static void test_invalid_keys(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;

    expect_bad_key(s, "", "invalid storage key \"\": must not be empty");
    expect_bad_key(s, "/abs/key", "invalid storage key \"/abs/key\": must not start with \"/\"");
    expect_bad_key(s, "a//b", "invalid storage key \"a//b\": must not contain \"//\"");
    expect_bad_key(s, "a/b/", "invalid storage key \"a/b/\": must not end with \"/\"");
    expect_bad_key(s, "..", "invalid storage key \"..\": must not contain a \"..\" component");
    expect_bad_key(s, "a/../../b", "invalid storage key \"a/../../b\": must not contain a \"..\" component");
    expect_bad_key(s, "a/./b", "invalid storage key \"a/./b\": must not contain a \".\" component");
    expect_bad_key(s, "a/..", "invalid storage key \"a/..\": must not contain a \"..\" component");
    err_clear(&e);
    assert_int_equal(storage_list(s->st, "../", listing_cb, &l, &e), -1);
    assert_string_equal(e.msg, "invalid storage prefix \"../\": must not contain a \"..\" component");
    assert_int_equal(storage_list(s->st, "/x", listing_cb, &l, &e), -1);
    assert_string_equal(e.msg, "invalid storage prefix \"/x\": must not start with \"/\"");
    assert_int_equal(l.n, 0);
}

static void test_dots_in_names_are_fine(void **state)
{
    struct suite *s = *state;
    char key[512];

    /* "..." and "a..b" are names, not parent references */
    key_of(s, "dots", "h..1/.../x.y.gz", key, sizeof(key));
    put_ok(s, key, "dots", 4);
    get_expect(s, key, "dots", 4);
}

/* ------------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------------ */

static int suite_setup(void **state)
{
    struct suite *s = xcalloc(1, sizeof(*s));
    struct err e;

    suite_config_from_env(&s->cfg);
    if (s->cfg.storage_url == NULL) {
        fprintf(stderr, "storage_suite: set AOFROLL_SUITE_URL to the storage under test\n");
        free(s);
        return -1;
    }
    snprintf(s->run, sizeof(s->run), "suite-%ld-%ld/", (long)getpid(), (long)time(NULL));
    err_clear(&e);
    if (storage_open(&s->cfg, &s->st, &e) != 0) {
        fprintf(stderr, "storage_suite: cannot open \"%s\": %s\n", s->cfg.storage_url, e.msg);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int suite_teardown(void **state)
{
    struct suite *s = *state;
    struct listing l = {0};
    struct err e;
    int rc = 0;

    err_clear(&e);
    if (storage_list(s->st, s->run, listing_cb, &l, &e) != 0 ||
        storage_remove_many(s->st, (const char *const *)l.keys, l.n, &e) != 0) {
        fprintf(stderr, "storage_suite: cleaning up \"%s\": %s\n", s->run, e.msg);
        rc = -1;
    }
    listing_free(&l);
    storage_close(s->st);
    free(s);
    return rc;
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_head),
        cmocka_unit_test(test_empty_object),
        cmocka_unit_test(test_large_object),
        cmocka_unit_test(test_overwrite),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_list_prefix_order),
        cmocka_unit_test(test_list_stop),
        cmocka_unit_test(test_list_many),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_remove_many),
        cmocka_unit_test(test_invalid_keys),
        cmocka_unit_test(test_dots_in_names_are_fine),
    };
    /* clang-format on */

    return cmocka_run_group_tests(tests, suite_setup, suite_teardown);
}
