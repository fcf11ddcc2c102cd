/* test_keyring.c - unit tests for keyring.c: the key file of
 * storage.encryption.key_file.
 *
 * The format (ids, base64 keys, comments, blank lines, the last key
 * sealing), every refusal with its FILE:LINE:COLUMN (bad ids, missing or
 * extra fields, bad base64, wrong key lengths, duplicate ids and keys, an
 * empty file), the file's mode (0600 and 0400 taken, anything open to group
 * or others refused), and that no message ever holds a key's text. */
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
#include "xalloc.h"

/* 32 bytes: 0x00 .. 0x1f, and 0x20 .. 0x3f */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
/* 16 and 33 bytes */
#define KEY_SHORT "AAECAwQFBgcICQoLDA0ODw=="
#define KEY_LONG "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"

static struct keyring *parse_ok(const char *text)
{
    struct keyring *kr = NULL;
    struct err e;

    err_clear(&e);
    if (keyring_parse("keys", text, strlen(text), &kr, &e) != 0)
        fail_msg("unexpected error: %s", e.msg);
    assert_non_null(kr);
    return kr;
}

/* The error for `text`; it must not hold any key's base64 text. */
static void parse_fails(const char *text, const char *expect)
{
    struct keyring *kr = (struct keyring *)1;
    struct err e;

    err_clear(&e);
    assert_int_equal(keyring_parse("keys", text, strlen(text), &kr, &e), -1);
    assert_null(kr);
    assert_int_equal(e.code, ERR_CONFIG);
    if (strcmp(e.msg, expect) != 0)
        fail_msg("expected \"%s\", got \"%s\"", expect, e.msg);
    assert_null(strstr(e.msg, "AAECAwQF"));
    assert_null(strstr(e.msg, "ICEiIyQl"));
}

static void test_parse_lines(void **state)
{
    struct keyring *kr;
    const struct keyring_key *k;
    unsigned char want[32];
    int i;

    (void)state;
    kr = parse_ok("# rotated every year\n"
                  "\n"
                  "k2019 " KEY_A "\n"
                  "   \t\n"
                  "  # the current one\n"
                  "  k2020\t " KEY_B "  \r\n");
    assert_int_equal(kr->n, 2);
    assert_string_equal(kr->keys[0].id, "k2019");
    assert_int_equal(kr->keys[0].line, 3);
    for (i = 0; i < 32; i++)
        want[i] = (unsigned char)i;
    assert_memory_equal(kr->keys[0].key, want, 32);
    for (i = 0; i < 32; i++)
        want[i] = (unsigned char)(0x20 + i);
    assert_memory_equal(kr->keys[1].key, want, 32);
    k = keyring_newest(kr);
    assert_non_null(k);
    assert_string_equal(k->id, "k2020");
    assert_ptr_equal(keyring_find(kr, "k2019"), &kr->keys[0]);
    assert_null(keyring_find(kr, "k2021"));
    assert_null(keyring_find(kr, "k20"));
    keyring_free(kr);

    /* no final newline; ids of every allowed character, 32 long */
    kr = parse_ok("Az09_-xxxxxxxxxxxxxxxxxxxxxxxxxx " KEY_A);
    assert_int_equal(kr->n, 1);
    assert_string_equal(keyring_newest(kr)->id, "Az09_-xxxxxxxxxxxxxxxxxxxxxxxxxx");
    keyring_free(kr);
}

static void test_describe(void **state)
{
    struct keyring *kr = parse_ok("old " KEY_A "\nnew " KEY_B "\n");
    char buf[128];

    (void)state;
    keyring_describe(kr, buf, sizeof(buf));
    assert_string_equal(buf, "\"old\", \"new\" (seals new objects)");
    keyring_describe(kr, buf, 8); /* truncated, still a string */
    assert_int_equal(strlen(buf), 7);
    keyring_free(kr);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    parse_fails(
        "", "key file \"keys\" holds no key: expected lines \"ID BASE64-KEY\" HINT: openssl rand -base64 32");
    parse_fails(
        "# nothing\n\n",
        "key file \"keys\" holds no key: expected lines \"ID BASE64-KEY\" HINT: openssl rand -base64 32");
    /* a key written where the id belongs is not quoted back */
    parse_fails(KEY_A "\n", "keys:1:1: expected a key id of at most 32 characters, then its key");
    parse_fails("k1 " KEY_A "\nk.2 " KEY_B "\n",
                "keys:2:1: expected a key id (1-32 characters of A-Z, a-z, 0-9, '_' and '-'), then its key");
    parse_fails(
        "  k1\n",
        "keys:1:5: key id \"k1\" has no key: expected \"ID BASE64-KEY\" HINT: openssl rand -base64 32");
    parse_fails("k1 " KEY_A " extra\n", "keys:1:49: unexpected text after the key of \"k1\"");
    parse_fails("k1 AAEC*wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
                "keys:1:4: the key of \"k1\" is not valid base64");
    parse_fails("k1 " KEY_SHORT "\n",
                "keys:1:4: the key of \"k1\" is 16 bytes, expected 32 HINT: openssl rand -base64 32");
    parse_fails("k1 " KEY_LONG "\n",
                "keys:1:4: the key of \"k1\" is 33 bytes, expected 32 HINT: openssl rand -base64 32");
    /* padding anywhere but at the end, or too much of it */
    parse_fails("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd=h8=\n",
                "keys:1:4: the key of \"k1\" is not valid base64");
    parse_fails("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw===\n",
                "keys:1:4: the key of \"k1\" is not valid base64");
    /* base64 without its padding is not accepted */
    parse_fails("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
                "keys:1:4: the key of \"k1\" is not valid base64");
    parse_fails("k1 " KEY_A KEY_A KEY_A "\n",
                "keys:1:4: the key of \"k1\" is far longer than 32 bytes in base64");
    parse_fails("k1 " KEY_A "\n# x\nk1 " KEY_B "\n", "keys:3:1: key id \"k1\" is already defined on line 1");
    parse_fails(
        "k1 " KEY_A "\nk2 " KEY_A "\n",
        "keys:2:4: the key of \"k2\" is the key of \"k1\" (line 1) again: each id needs a key of its own");
}

static void test_parse_nul(void **state)
{
    static const char text[] = "k1 " KEY_A "\nk2 \0" KEY_B "\n";
    struct keyring *kr = NULL;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(keyring_parse("keys", text, sizeof(text) - 1, &kr, &e), -1);
    assert_string_equal(e.msg, "keys:2:1: a NUL byte: not a key file");
}

/* ------------------------------------------------------------------------
 * Files and modes
 * ------------------------------------------------------------------------ */

static char *write_key_file(const char *text, mode_t mode)
{
    const char *base = getenv("AOFROLL_TEST_TMP");
    char *path = xasprintf("%s/test_keyring.XXXXXX", base != NULL ? base : "/tmp");
    char cmd[1100];
    int fd;

    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base != NULL ? base : "/tmp");
    assert_int_equal(system(cmd), 0);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void test_load_modes(void **state)
{
    static const mode_t ok[] = {0600, 0400, 0700};
    static const mode_t refused[] = {0644, 0640, 0604, 0660, 0606, 0620};
    struct keyring *kr;
    struct err e;
    char want[2048];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *path = write_key_file("k1 " KEY_A "\n", ok[i]);

        err_clear(&e);
        kr = NULL;
        if (keyring_load(path, &kr, &e) != 0)
            fail_msg("mode %o: %s", (unsigned)ok[i], e.msg);
        assert_string_equal(kr->path, path);
        keyring_free(kr);
        unlink(path);
        free(path);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *path = write_key_file("k1 " KEY_A "\n", refused[i]);

        err_clear(&e);
        kr = (struct keyring *)1;
        assert_int_equal(keyring_load(path, &kr, &e), -1);
        assert_null(kr);
        assert_int_equal(e.code, ERR_CONFIG);
        snprintf(want, sizeof(want),
                 "key file \"%s\" is open to group or others (mode %04o): refused HINT: chmod 600 %s", path,
                 (unsigned)refused[i], path);
        assert_string_equal(e.msg, want);
        unlink(path);
        free(path);
    }
}

static void test_load_errors(void **state)
{
    struct keyring *kr = NULL;
    struct err e;
    char want[2048];
    char *path;

    (void)state;
    err_clear(&e);
    assert_int_equal(keyring_load("/nonexistent/aofroll/keys", &kr, &e), -1);
    assert_string_equal(e.msg,
                        "cannot open key file \"/nonexistent/aofroll/keys\": No such file or directory");

    /* errors name the file, its line and column */
    path = write_key_file("k1 " KEY_A "\nk2 " KEY_SHORT "\n", 0600);
    err_clear(&e);
    assert_int_equal(keyring_load(path, &kr, &e), -1);
    snprintf(want, sizeof(want),
             "%s:2:4: the key of \"k2\" is 16 bytes, expected 32 HINT: openssl rand -base64 32", path);
    assert_string_equal(e.msg, want);
    unlink(path);
    free(path);

    /* a directory is no key file */
    err_clear(&e);
    assert_int_equal(keyring_load("/", &kr, &e), -1);
    assert_string_equal(e.msg, "key file \"/\" is not a regular file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_lines),   cmocka_unit_test(test_describe),
        cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_parse_nul),
        cmocka_unit_test(test_load_modes),    cmocka_unit_test(test_load_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
