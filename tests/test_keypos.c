/* test_keypos.c - key positions of commands and Redis globs (replay/keypos.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "aofscan.h"
#include "keypos.h"

#define MAXARGS 64

/* Split a space-separated command line into args (no quoting needed here). */
struct cmdline {
    char text[512];
    struct aofscan_arg argv[MAXARGS];
    long argc;
};

static void cmd_parse(struct cmdline *c, const char *line)
{
    char *p, *save = NULL;

    snprintf(c->text, sizeof(c->text), "%s", line);
    c->argc = 0;
    for (p = strtok_r(c->text, " ", &save); p != NULL; p = strtok_r(NULL, " ", &save)) {
        c->argv[c->argc].p = p;
        c->argv[c->argc].len = strlen(p);
        c->argc++;
    }
}

/* Keys of `line`, joined by ',' */
static void keys_of(const char *line, char *out, size_t n)
{
    struct cmdline c;
    long idx[MAXARGS];
    size_t k, count, used = 0;

    cmd_parse(&c, line);
    count = keypos_keys(c.argv, c.argc, idx, MAXARGS);
    out[0] = '\0';
    for (k = 0; k < count; k++) {
        used += (size_t)snprintf(out + used, n - used, "%s%.*s", k ? "," : "", (int)c.argv[idx[k]].len,
                                 c.argv[idx[k]].p);
    }
}

static void check_keys(const char *line, const char *want)
{
    char got[512];

    keys_of(line, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("keys of '%s': got '%s', want '%s'", line, got, want);
}

static void test_keys_simple(void **state)
{
    (void)state;
    check_keys("SET user:42 v PXAT 1763651521000", "user:42");
    check_keys("set user:42 v", "user:42"); /* names are case-insensitive */
    check_keys("HSET h f v f2 v2", "h");
    check_keys("PEXPIREAT k 1763651521000", "k");
    check_keys("XADD stream * f v", "stream");
    check_keys("MYMODULE.CMD modkey arg", "modkey"); /* unknown: argv[1] */
    check_keys("UNKNOWNCMD", "");
}

static void test_keys_none(void **state)
{
    (void)state;
    check_keys("SELECT 3", "");
    check_keys("MULTI", "");
    check_keys("EXEC", "");
    check_keys("FLUSHALL ASYNC", "");
    check_keys("flushdb", "");
    check_keys("SWAPDB 0 1", "");
    check_keys("FUNCTION FLUSH", "");
}

static void test_keys_ranges(void **state)
{
    (void)state;
    check_keys("DEL a b c", "a,b,c");
    check_keys("UNLINK a", "a");
    check_keys("MSET k1 v1 k2 v2 k3 v3", "k1,k2,k3");
    check_keys("MSETNX k1 v1 k2", "k1,k2");
    check_keys("RENAME old new", "old,new");
    check_keys("LMOVE src dst LEFT RIGHT", "src,dst");
    check_keys("COPY a b REPLACE", "a,b");
    check_keys("BITOP AND dest k1 k2", "dest,k1,k2");
    check_keys("BLPOP l1 l2 0", "l1,l2");
    check_keys("SINTERSTORE dst s1 s2", "dst,s1,s2");
    check_keys("XGROUP CREATE stream grp $", "stream");
}

static void test_keys_numkeys(void **state)
{
    (void)state;
    check_keys("ZUNIONSTORE out 2 z1 z2 WEIGHTS 1 2", "out,z1,z2");
    check_keys("ZINTERSTORE out 1 z1 AGGREGATE MAX", "out,z1");
    check_keys("EVAL script 2 k1 k2 arg1", "k1,k2");
    check_keys("EVALSHA abc 0 arg1", "");
    check_keys("FCALL fn 1 k1 a", "k1");
    check_keys("LMPOP 2 l1 l2 LEFT", "l1,l2");
    check_keys("BLMPOP 0 1 l1 RIGHT", "l1");
    /* numkeys larger than the command: stop at the end */
    check_keys("ZUNIONSTORE out 5 z1", "out,z1");
    /* numkeys not a number: only the fixed key */
    check_keys("ZUNIONSTORE out x z1", "out");
    check_keys("EVAL script", "");
}

static void test_keys_store(void **state)
{
    (void)state;
    check_keys("SORT list LIMIT 0 10 STORE dst", "list,dst");
    check_keys("sort list store dst", "list,dst");
    check_keys("SORT list BY w_*", "list");
    check_keys("GEORADIUS g 0 0 10 km STOREDIST d", "g,d");
}

static void test_keys_max(void **state)
{
    struct cmdline c;
    long idx[2];

    (void)state;
    cmd_parse(&c, "DEL a b c d");
    /* the count is the full count even when idx is smaller */
    assert_int_equal(keypos_keys(c.argv, c.argc, idx, 2), 4);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 2);
    assert_int_equal(keypos_keys(c.argv, 0, idx, 2), 0);
}

static int gm(const char *pattern, const char *string)
{
    return keypos_glob_match(pattern, strlen(pattern), string, strlen(string), 0);
}

static void test_glob(void **state)
{
    (void)state;
    assert_true(gm("*", ""));
    assert_true(gm("*", "anything"));
    assert_true(gm("user:*", "user:42"));
    assert_false(gm("user:*", "users:42"));
    assert_true(gm("user:4?", "user:42"));
    assert_false(gm("user:4?", "user:4"));
    assert_true(gm("h[ae]llo", "hallo"));
    assert_false(gm("h[ae]llo", "hillo"));
    assert_true(gm("h[^e]llo", "hallo"));
    assert_false(gm("h[^e]llo", "hello"));
    assert_true(gm("h[a-c]llo", "hbllo"));
    assert_true(gm("h[c-a]llo", "hbllo")); /* reversed range, as Redis */
    assert_false(gm("h[a-c]llo", "hdllo"));
    assert_true(gm("a\\*b", "a*b"));
    assert_false(gm("a\\*b", "axb"));
    assert_true(gm("[\\]]", "]"));
    assert_true(gm("a*b*c", "aXbYbZc"));
    assert_false(gm("a*b*c", "aXbYbZ"));
    assert_true(gm("*:*:*", "a:b:c"));
    assert_true(gm("**x", "yyx"));
    assert_false(gm("abc", "ab"));
    assert_false(gm("ab", "abc"));
    assert_true(gm("", ""));
    assert_false(gm("", "a"));
    /* a trailing backslash is a literal backslash */
    assert_true(gm("a\\", "a\\"));
    /* an unterminated class takes the rest of the pattern */
    assert_true(gm("[ab", "a"));
    assert_true(gm("[ab", "b"));
    assert_false(gm("[ab", "ab"));
    /* case folding only on request */
    assert_false(gm("USER:*", "user:1"));
    assert_true(keypos_glob_match("USER:*", 6, "user:1", 6, 1));
    assert_true(keypos_glob_match("[A-C]", 5, "b", 1, 1));
    /* binary keys: NUL bytes inside pattern and key */
    assert_true(keypos_glob_match("k\0*", 3, "k\0\xff", 3, 0));
    assert_false(keypos_glob_match("k\0*", 3, "k\1\xff", 3, 0));
    /* bytes above 0x7f compare as unsigned */
    assert_true(keypos_glob_match("[\x01-\xfe]", 5, "\x90", 1, 0));
}

static void test_command_matches(void **state)
{
    struct cmdline c;
    char line[512];
    size_t used = 0;
    int i;

    (void)state;
    cmd_parse(&c, "MSET user:1 user:2 user:3 x");
    /* values are not keys */
    assert_true(keypos_command_matches(c.argv, c.argc, "user:1", 6));
    assert_true(keypos_command_matches(c.argv, c.argc, "user:3", 6));
    assert_false(keypos_command_matches(c.argv, c.argc, "user:2", 6));
    assert_false(keypos_command_matches(c.argv, c.argc, "x", 1));
    cmd_parse(&c, "SELECT 1");
    assert_false(keypos_command_matches(c.argv, c.argc, "*", 1));
    /* more keys than the fast path holds: the 40th still counts */
    used = (size_t)snprintf(line, sizeof(line), "DEL");
    for (i = 1; i <= 40; i++)
        used += (size_t)snprintf(line + used, sizeof(line) - used, " k%d", i);
    cmd_parse(&c, line);
    assert_true(keypos_command_matches(c.argv, c.argc, "k40", 3));
    assert_false(keypos_command_matches(c.argv, c.argc, "k41", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_simple), cmocka_unit_test(test_keys_none),
        cmocka_unit_test(test_keys_ranges), cmocka_unit_test(test_keys_numkeys),
        cmocka_unit_test(test_keys_store),  cmocka_unit_test(test_keys_max),
        cmocka_unit_test(test_glob),        cmocka_unit_test(test_command_matches),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
