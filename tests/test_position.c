/* test_position.c - the position file of a restored directory
 * (replay/engine/position.c): DIR/aofroll-restore.json, which restore writes and
 * apply reads to know where to continue.
 *
 * A position is formatted, parsed back and compared field by field, with
 * and without a keyspace; written into a directory through outdir and read
 * back; and hostile files are refused with ERR_CORRUPT and a message that
 * names the file: not JSON, a field missing (each one in turn), another
 * format, a negative offset, an instance name too long, keyspace entries
 * that are not "db": keys, and a file that is not a regular file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "outdir.h"
#include "position.h"
#include "test_tmpdir.h"
#include "xalloc.h"

/* ------------------------------------------------------------------ */
/* Fixtures                                                             */
/* ------------------------------------------------------------------ */

static int fixture_setup(void **state)
{
    return test_dir_setup(state, "test_position", "aofroll-restore.json");
}

/* A position with every field set to a value of its own. */
static void sample(struct position *p, int with_keyspace)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->instance, sizeof(p->instance), "%s", "cache-eu.1");
    p->generation = 7;
    p->base_time = 1795000000;
    p->requested = 1795000123;
    p->time = 1795000120;
    p->offset = UINT64_C(9007199254740993); /* above 2^53: must not pass through a double */
    p->db = 3;
    p->ts = 1795000119;
    p->exact = 1;
    if (with_keyspace) {
        p->has_keyspace = 1;
        keyspace_add(&p->keyspace, 15, 2);
        keyspace_add(&p->keyspace, 0, 10);
        keyspace_add(&p->keyspace, 3, 4000000000LL);
    }
}

static void assert_same(const struct position *a, const struct position *b)
{
    assert_string_equal(a->instance, b->instance);
    assert_int_equal(a->generation, b->generation);
    assert_int_equal(a->base_time, b->base_time);
    assert_int_equal(a->requested, b->requested);
    assert_int_equal(a->time, b->time);
    assert_true(a->offset == b->offset);
    assert_int_equal(a->db, b->db);
    assert_int_equal(a->ts, b->ts);
    assert_int_equal(a->exact, b->exact);
    assert_int_equal(a->has_keyspace, b->has_keyspace);
    assert_true(keyspace_equal(&a->keyspace, &b->keyspace));
}

/* Parse `json`; expect ERR_CORRUPT with `msg` in the message. */
static void expect_corrupt(const char *json, const char *msg)
{
    struct position p;
    struct err e;

    err_clear(&e);
    assert_int_equal(position_parse("DIR/aofroll-restore.json", json, strlen(json), &p, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    if (strstr(e.msg, msg) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, msg);
    assert_non_null(strstr(e.msg, "\"DIR/aofroll-restore.json\""));
    assert_null(p.keyspace.v);
}

/* ------------------------------------------------------------------ */
/* Keyspace                                                             */
/* ------------------------------------------------------------------ */

static void test_keyspace(void **state)
{
    struct keyspace a = {NULL, 0}, b = {NULL, 0};
    struct buf out = BUF_INIT;

    (void)state;
    keyspace_format(&a, &out);
    assert_string_equal(out.data, "empty");
    assert_true(keyspace_equal(&a, &b));
    keyspace_add(&a, 5, 1);
    keyspace_add(&a, 0, 10);
    keyspace_add(&a, 2, 3);
    assert_int_equal(a.v[0].db, 0);
    assert_int_equal(a.v[1].db, 2);
    assert_int_equal(a.v[2].db, 5);
    buf_reset(&out);
    keyspace_format(&a, &out);
    assert_string_equal(out.data, "db0=10 db2=3 db5=1");
    keyspace_add(&b, 0, 10);
    keyspace_add(&b, 2, 3);
    assert_false(keyspace_equal(&a, &b));
    keyspace_add(&b, 5, 2);
    assert_false(keyspace_equal(&a, &b)); /* same dbs, other count */
    b.v[2].keys = 1;
    assert_true(keyspace_equal(&a, &b));
    b.v[2].db = 6;
    assert_false(keyspace_equal(&a, &b));
    keyspace_free(&a);
    keyspace_free(&b);
    assert_null(a.v);
    assert_int_equal(a.n, 0);
    buf_free(&out);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                          */
/* ------------------------------------------------------------------ */

static void test_round_trip(void **state)
{
    struct position p, q;
    struct buf text = BUF_INIT;
    struct err e;
    int ks;

    (void)state;
    for (ks = 0; ks <= 1; ks++) {
        sample(&p, ks);
        if (!ks) {
            p.ts = -1; /* no #TS before the cut */
            p.exact = 0;
            p.db = 0;
        }
        err_clear(&e);
        buf_reset(&text);
        assert_int_equal(position_format(&p, &text, &e), 0);
        /* one line, the time also in UTC for people */
        assert_non_null(strchr(text.data, '\n'));
        assert_int_equal(strchr(text.data, '\n') - text.data, (long)text.len - 1);
        assert_non_null(strstr(text.data, "\"format\":1"));
        assert_non_null(strstr(text.data, "\"time_utc\":\"2026-11-18T11:08:40Z\""));
        assert_non_null(strstr(text.data, ks ? "\"keyspace\":{\"0\":10,\"3\":4000000000,\"15\":2}"
                                             : "\"keyspace\":null"));
        assert_int_equal(position_parse("x", text.data, text.len, &q, &e), 0);
        assert_same(&p, &q);
        position_free(&q);
        position_free(&p);
    }
    buf_free(&text);
}

static void test_empty_keyspace(void **state)
{
    struct position p, q;
    struct buf text = BUF_INIT;
    struct err e;

    (void)state;
    sample(&p, 0);
    p.has_keyspace = 1; /* a server ran on it and held no key */
    err_clear(&e);
    assert_int_equal(position_format(&p, &text, &e), 0);
    assert_non_null(strstr(text.data, "\"keyspace\":{}"));
    assert_int_equal(position_parse("x", text.data, text.len, &q, &e), 0);
    assert_int_equal(q.has_keyspace, 1);
    assert_int_equal(q.keyspace.n, 0);
    position_free(&q);
    buf_free(&text);
}

static void test_write_read(void **state)
{
    struct test_dir *f = *state;
    struct outdir d = OUTDIR_INIT;
    struct position p, q;
    struct stat st;
    char path[1200];
    struct err e;

    err_clear(&e);
    assert_int_equal(outdir_open(&d, f->dir, 0, &e), 0);
    /* nothing there yet: ERR_NOTFOUND naming the directory */
    assert_int_equal(position_read(&d, &q, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(
        strstr(e.msg, "has no aofroll-restore.json: it is not a directory written by aofroll restore"));
    assert_non_null(strstr(e.msg, f->dir));

    sample(&p, 1);
    err_clear(&e);
    assert_int_equal(position_write(&d, POSITION_FILE, &p, &e), 0);
    snprintf(path, sizeof(path), "%s/%s", f->dir, POSITION_FILE);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(position_read(&d, &q, &e), 0);
    assert_same(&p, &q);
    position_free(&q);

    /* rewritten in place: the new position replaces the old one whole */
    p.offset = 12;
    p.time += 60;
    keyspace_add(&p.keyspace, 1, 1);
    assert_int_equal(position_write(&d, POSITION_FILE, &p, &e), 0);
    assert_int_equal(position_read(&d, &q, &e), 0);
    assert_same(&p, &q);
    position_free(&q);
    position_free(&p);
    outdir_close(&d, 0);
}

/* ------------------------------------------------------------------ */
/* Hostile files                                                        */
/* ------------------------------------------------------------------ */

static void test_not_json(void **state)
{
    (void)state;
    expect_corrupt("", "is not valid JSON");
    expect_corrupt("{\"format\": 1,", "is not valid JSON");
    expect_corrupt("\x00\xff garbage", "is not valid JSON");
    expect_corrupt("[1, 2, 3]", "lacks field \"format\"");
}

static void test_missing_fields(void **state)
{
    static const char *const fields[] = {"format", "instance", "generation", "base_time", "requested_time",
                                         "time",   "offset",   "db",         "ts",        "exact"};
    struct position p;
    struct buf text = BUF_INIT, cut = BUF_INIT;
    struct err e;
    size_t i;

    (void)state;
    sample(&p, 1);
    err_clear(&e);
    assert_int_equal(position_format(&p, &text, &e), 0);
    position_free(&p);
    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char name[64], want[80];
        const char *at;
        const char *next;

        /* drop "NAME":VALUE, from the object (VALUE holds no comma) */
        snprintf(name, sizeof(name), "\"%s\":", fields[i]);
        at = strstr(text.data, name);
        assert_non_null(at);
        next = strchr(at, ',');
        assert_non_null(next);
        buf_reset(&cut);
        buf_append(&cut, text.data, (size_t)(at - text.data));
        buf_appendstr(&cut, next + 1);
        snprintf(want, sizeof(want), "lacks field \"%s\"", fields[i]);
        expect_corrupt(cut.data, want);
    }
    buf_free(&cut);
    buf_free(&text);
}

static void test_bad_values(void **state)
{
#define HEAD                                                                                                 \
    "{\"instance\":\"a\",\"generation\":1,\"base_time\":1,\"requested_time\":2,\"time\":2,\"db\":0,\"ts\":-" \
    "1,"
    (void)state;
    expect_corrupt(HEAD "\"format\":2,\"offset\":0,\"exact\":true}",
                   "has format 2; this aofroll reads format 1");
    expect_corrupt(HEAD "\"format\":1,\"offset\":-5,\"exact\":true}", "negative offset");
    expect_corrupt(HEAD "\"format\":1,\"offset\":0,\"exact\":true,\"keyspace\":{\"x\":1}}",
                   "bad keyspace entry \"x\"");
    expect_corrupt(HEAD "\"format\":1,\"offset\":0,\"exact\":true,\"keyspace\":{\"-1\":1}}",
                   "bad keyspace entry \"-1\"");
    expect_corrupt(HEAD "\"format\":1,\"offset\":0,\"exact\":true,\"keyspace\":{\"1000001\":1}}",
                   "bad keyspace entry \"1000001\"");
    expect_corrupt(HEAD "\"format\":1,\"offset\":0,\"exact\":true,\"keyspace\":{\"2\":\"many\"}}",
                   "bad keyspace entry \"2\"");
    expect_corrupt(HEAD "\"format\":1,\"offset\":0,\"exact\":true,\"keyspace\":{\"2\":1.5}}",
                   "bad keyspace entry \"2\"");
#undef HEAD
}

static void test_long_instance(void **state)
{
    struct buf json = BUF_INIT;
    int i;

    (void)state;
    buf_appendstr(&json, "{\"format\":1,\"instance\":\"");
    for (i = 0; i < INSTANCE_NAME_MAX + 1; i++)
        buf_appendstr(&json, "x");
    buf_appendstr(&json, "\",\"generation\":1,\"base_time\":1,\"requested_time\":2,\"time\":2,\"offset\":0,"
                         "\"db\":0,\"ts\":-1,\"exact\":false,\"keyspace\":null}");
    expect_corrupt(json.data, "instance name too long");
    buf_free(&json);
}

static void test_not_a_file(void **state)
{
    struct test_dir *f = *state;
    struct outdir d = OUTDIR_INIT;
    struct position q;
    char path[1200], target[1200];
    struct err e;

    snprintf(path, sizeof(path), "%s/%s", f->dir, POSITION_FILE);
    snprintf(target, sizeof(target), "%s/elsewhere.json", f->dir);
    err_clear(&e);
    assert_int_equal(outdir_open(&d, f->dir, 0, &e), 0);
    /* a directory in its place */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(position_read(&d, &q, &e), -1);
    assert_int_not_equal(e.code, ERR_NONE);
    assert_int_equal(rmdir(path), 0);
    /* a symlink to a valid position elsewhere is not followed */
    {
        FILE *fp = fopen(target, "w");

        assert_non_null(fp);
        fputs("{\"format\":1,\"instance\":\"a\",\"generation\":1,\"base_time\":1,\"requested_time\":2,"
              "\"time\":2,\"offset\":0,\"db\":0,\"ts\":-1,\"exact\":false,\"keyspace\":null}\n",
              fp);
        fclose(fp);
    }
    assert_int_equal(symlink(target, path), 0);
    err_clear(&e);
    assert_int_equal(position_read(&d, &q, &e), -1);
    assert_int_not_equal(e.code, ERR_NONE);
    /* a truncated file */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(truncate(target, 40), 0);
    assert_int_equal(rename(target, path), 0);
    err_clear(&e);
    assert_int_equal(position_read(&d, &q, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "is not valid JSON"));
    outdir_close(&d, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyspace),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_keyspace),
        cmocka_unit_test_setup_teardown(test_write_read, fixture_setup, test_dir_teardown),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_long_instance),
        cmocka_unit_test_setup_teardown(test_not_a_file, fixture_setup, test_dir_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
