/* test_manifest.c - unit tests for the AOF manifest (common/manifest.c).
 *
 * Parses manifests as Redis 7.0 writes them (one copied from a real
 * redis-server 7.0.15 run with appendfilename 'my aof"x' and
 * aof-disable-auto-gc yes, after two rewrites), quoting in both styles,
 * keys in any order; each malformed line must fail with its line number and
 * the exact reason. manifest_write must write what Redis writes, atomically
 * (no temp file left, mode 0644, a new inode), and read back the same; keys
 * aofroll does not know (Redis 8.2's startoffset/endoffset) are kept and
 * written back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "manifest.h"
#include "xalloc.h"

#define M "appendonly.aof.manifest"

static void parse_ok(const char *text, struct manifest *m)
{
    struct err e;

    err_clear(&e);
    if (manifest_parse(M, text, strlen(text), m, &e) != 0)
        fail_msg("manifest_parse failed: %s", e.msg);
}

static void assert_file(const struct manifest_file *f, const char *name, long long seq,
                        enum manifest_type type)
{
    assert_non_null(f);
    assert_string_equal(f->name, name);
    assert_int_equal(f->seq, seq);
    assert_int_equal(f->type, type);
}

static void test_default_manifest(void **state)
{
    struct manifest m;

    (void)state;
    parse_ok("file appendonly.aof.1.base.rdb seq 1 type b\n"
             "file appendonly.aof.1.incr.aof seq 1 type i\n",
             &m);
    assert_int_equal(m.nfiles, 2);
    assert_file(&m.files[0], "appendonly.aof.1.base.rdb", 1, MANIFEST_BASE);
    assert_file(&m.files[1], "appendonly.aof.1.incr.aof", 1, MANIFEST_INCR);
    assert_ptr_equal(manifest_base(&m), &m.files[0]);
    assert_ptr_equal(manifest_current_incr(&m), &m.files[1]);
    manifest_free(&m);
    assert_null(m.files);
    assert_int_equal(m.nfiles, 0);
}

/* Several incr files (a rewrite in progress or failed) and history. */
static void test_history_and_incrs(void **state)
{
    struct manifest m;

    (void)state;
    parse_ok("file appendonly.aof.2.base.rdb seq 2 type b\n"
             "file appendonly.aof.1.incr.aof seq 1 type h\n"
             "file appendonly.aof.2.incr.aof seq 2 type h\n"
             "file appendonly.aof.3.incr.aof seq 3 type h\n"
             "file appendonly.aof.4.incr.aof seq 4 type i\n"
             "file appendonly.aof.5.incr.aof seq 5 type i\n",
             &m);
    assert_int_equal(m.nfiles, 6);
    assert_file(manifest_base(&m), "appendonly.aof.2.base.rdb", 2, MANIFEST_BASE);
    assert_file(manifest_current_incr(&m), "appendonly.aof.5.incr.aof", 5, MANIFEST_INCR);
    assert_file(&m.files[3], "appendonly.aof.3.incr.aof", 3, MANIFEST_HISTORY);
    manifest_free(&m);

    /* no base (possible before the first rewrite of an upgraded AOF) */
    parse_ok("file appendonly.aof.1.incr.aof seq 1 type i\n", &m);
    assert_null(manifest_base(&m));
    assert_file(manifest_current_incr(&m), "appendonly.aof.1.incr.aof", 1, MANIFEST_INCR);
    manifest_free(&m);
}

/* Byte for byte what redis-server 7.0.15 wrote for appendfilename
 * 'my aof"x' after two BGREWRITEAOF with aof-disable-auto-gc yes. */
static void test_real_redis_quoted(void **state)
{
    struct manifest m;

    (void)state;
    parse_ok("file \"my aof\\\"x.3.base.rdb\" seq 3 type b\n"
             "file \"my aof\\\"x.2.incr.aof\" seq 2 type h\n"
             "file \"my aof\\\"x.2.base.rdb\" seq 2 type h\n"
             "file \"my aof\\\"x.1.incr.aof\" seq 1 type h\n"
             "file \"my aof\\\"x.1.base.rdb\" seq 1 type h\n"
             "file \"my aof\\\"x.3.incr.aof\" seq 3 type i\n",
             &m);
    assert_int_equal(m.nfiles, 6);
    assert_file(manifest_base(&m), "my aof\"x.3.base.rdb", 3, MANIFEST_BASE);
    assert_file(manifest_current_incr(&m), "my aof\"x.3.incr.aof", 3, MANIFEST_INCR);
    assert_file(&m.files[1], "my aof\"x.2.incr.aof", 2, MANIFEST_HISTORY);
    manifest_free(&m);
}

/* The sdssplitargs rules: escapes in "...", \' in '...', quotes that
 * start inside a bare word. */
static void test_quoting_rules(void **state)
{
    struct manifest m;

    (void)state;
    parse_ok("file \"a b\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x7e\\xfF\\q\\x4\" seq 1 type b\n"
             "file 'it\\'s \"here\" \\n' seq 1 type i\n"
             "file pre\"fix d\" seq 2 type i\n",
             &m);
    assert_int_equal(m.nfiles, 3);
    assert_string_equal(m.files[0].name, "a b\n\r\t\b\a\\\"A~\xffqx4");
    assert_string_equal(m.files[1].name, "it's \"here\" \\n");
    assert_string_equal(m.files[2].name, "prefix d");
    manifest_free(&m);
}

/* Keys in any order, any case; unknown keys ignored; comments, blank
 * lines, CRLF and surrounding blanks; the last line without '\n'. */
static void test_layout(void **state)
{
    struct manifest m;

    (void)state;
    parse_ok("# written by hand\n"
             "\n"
             "   type b   seq 1 \t file base.rdb  \r\n"
             "\r\n"
             "SEQ 7 FILE a.aof TYPE i future-key some-value\n"
             "#file not.a.file seq 9 type i\n"
             "file b.aof type i seq 0008 file c.aof",
             &m);
    assert_int_equal(m.nfiles, 3);
    assert_file(&m.files[0], "base.rdb", 1, MANIFEST_BASE);
    assert_file(&m.files[1], "a.aof", 7, MANIFEST_INCR);
    /* a repeated key: the last one wins, as in Redis */
    assert_file(&m.files[2], "c.aof", 8, MANIFEST_INCR);
    assert_file(manifest_current_incr(&m), "c.aof", 8, MANIFEST_INCR);
    manifest_free(&m);
}

/* Keys this module does not know - Redis 8.2's startoffset/endoffset, and
 * whatever a later Redis adds - are kept with their line, in order, with
 * their case and bytes. */
static void test_extra_keys(void **state)
{
    struct manifest m;
    const struct manifest_extra *x;

    (void)state;
    parse_ok("file appendonly.aof.2.base.rdb seq 2 type b\n"
             "file appendonly.aof.2.incr.aof seq 2 type h startoffset 1024 endoffset 4096\n"
             "file appendonly.aof.3.incr.aof seq 3 type i startoffset 4096\n"
             "StartOffset 7 file x.aof \"odd key\" \"a\\x00b\" seq 4 type i k '' k 2\n",
             &m);
    assert_int_equal(m.nfiles, 4);
    assert_int_equal(m.files[0].nextra, 0);
    assert_null(m.files[0].extra);
    assert_int_equal(m.files[1].nextra, 2);
    assert_string_equal(m.files[1].extra[0].key, "startoffset");
    assert_string_equal(m.files[1].extra[0].value, "1024");
    assert_string_equal(m.files[1].extra[1].key, "endoffset");
    assert_string_equal(m.files[1].extra[1].value, "4096");
    assert_int_equal(m.files[2].nextra, 1);
    assert_file(manifest_current_incr(&m), "x.aof", 4, MANIFEST_INCR);
    x = m.files[3].extra;
    assert_int_equal(m.files[3].nextra, 4);
    assert_string_equal(x[0].key, "StartOffset");
    assert_string_equal(x[1].key, "odd key");
    assert_int_equal(x[1].value_len, 3);
    assert_memory_equal(x[1].value, "a\0b", 3);
    /* an unknown key repeated: both kept */
    assert_string_equal(x[2].key, "k");
    assert_int_equal(x[2].value_len, 0);
    assert_string_equal(x[3].value, "2");
    manifest_free(&m);

    /* an empty key is dropped, as Redis ignores it: a manifest read must
     * write back (found by tests/fuzz/fuzz_manifest.c) */
    parse_ok("file a.aof seq 1 type i \"\" v k2 '' \"\" \"\"\n", &m);
    assert_int_equal(m.files[0].nextra, 1);
    assert_string_equal(m.files[0].extra[0].key, "k2");
    manifest_free(&m);
}

struct bad_case {
    const char *text;
    size_t len; /* 0: strlen */
    const char *msg;
};

static const struct bad_case bad_cases[] = {
    {"file a seq 1 type b\nfile b seq 1\n", 0, M ":2: invalid manifest line: missing \"type\""},
    {"file a seq 1 type b\n\nfile b type i\n", 0, M ":3: invalid manifest line: missing \"seq\""},
    {"seq 1 type i\n", 0, M ":1: invalid manifest line: missing \"file\""},
    {"name a seq 1 type i\n", 0, M ":1: invalid manifest line: missing \"file\""},
    {"# c\nfile a seq 1 type\n", 0,
     M ":2: invalid manifest line: odd number of words (5), expected key value pairs"},
    {"file\n", 0, M ":1: invalid manifest line: odd number of words (1), expected key value pairs"},
    {"file a seq -1 type i\n", 0, M ":1: invalid manifest line: seq \"-1\" is not a non-negative integer"},
    {"file a seq 1x type i\n", 0, M ":1: invalid manifest line: seq \"1x\" is not a non-negative integer"},
    {"file a seq '' type i\n", 0, M ":1: invalid manifest line: seq \"\" is not a non-negative integer"},
    {"file a seq 1234567890123456789 type i\n", 0,
     M ":1: invalid manifest line: seq \"1234567890123456789\" is not a non-negative integer"},
    {"file a seq 1 type x\n", 0, M ":1: invalid manifest line: type \"x\" is not b, h or i"},
    {"file a seq 1 type bi\n", 0, M ":1: invalid manifest line: type \"bi\" is not b, h or i"},
    {"file a seq 1 type \"\"\n", 0, M ":1: invalid manifest line: type \"\" is not b, h or i"},
    {"file dir/a seq 1 type i\n", 0,
     M ":1: invalid manifest line: file name \"dir/a\" is not a plain file name"},
    {"file \"a\\x00b\" seq 1 type i\n", 0,
     M ":1: invalid manifest line: file name \"a\\x00b\" is not a plain file name"},
    {"file '' seq 1 type i\n", 0, M ":1: invalid manifest line: file name \"\" is empty"},
    {"file \"a seq 1 type i\n", 0, M ":1: invalid manifest line: unbalanced quotes"},
    {"file 'a seq 1 type i\n", 0, M ":1: invalid manifest line: unbalanced quotes"},
    {"file \"a\"b seq 1 type i\n", 0, M ":1: invalid manifest line: closing quote not followed by a space"},
    {"file 'a'b seq 1 type i\n", 0, M ":1: invalid manifest line: closing quote not followed by a space"},
    {"file a seq 1 type i\nfile b\0 seq 2 type i\n", 41, M ":2: invalid manifest line: NUL byte"},
    {"file a seq 1 type b\nfile b seq 1 type i\nfile c seq 2 type b\n", 0,
     M ":3: more than one base file (the first on line 1)"},
    {"file a seq 2 type i\nfile b seq 2 type i\n", 0, M ":2: incr seq 2 does not follow seq 2 of line 1"},
    {"file a seq 1 type b\nfile b seq 3 type i\n# x\nfile c seq 2 type i\n", 0,
     M ":4: incr seq 2 does not follow seq 3 of line 2"},
    {"", 0, M ": empty manifest: no file listed"},
    {"# nothing\n\n", 0, M ": empty manifest: no file listed"},
};

static void test_malformed(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct manifest m = {(struct manifest_file *)&m, 99}; /* garbage the parser must overwrite */
        struct err e;
        int rc;

        err_clear(&e);
        rc = manifest_parse(M, c->text, c->len ? c->len : strlen(c->text), &m, &e);
        if (rc != -1 || e.code != ERR_CORRUPT || strcmp(e.msg, c->msg) != 0)
            fail_msg("case %zu: rc %d \"%s\", expected \"%s\"", i, rc, e.msg, c->msg);
        assert_null(m.files);
        assert_int_equal(m.nfiles, 0);
    }
}

/* ------------------------------------------------------------------------
 * Files: load and write.
 * ------------------------------------------------------------------------ */

static char *make_tmpdir(void)
{
    const char *root = getenv("AOFROLL_TEST_TMP");
    char *dir;

    if (root == NULL || root[0] == '\0')
        root = "/tmp";
    mkdir(root, 0755);
    dir = xasprintf("%s/test_manifest.XXXXXX", root);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char *p;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        p = xasprintf("%s/%s", dir, de->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void read_file(const char *path, struct buf *b)
{
    char chunk[4096];
    FILE *fp = fopen(path, "rb");
    size_t n;

    assert_non_null(fp);
    buf_reset(b);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(b, chunk, n);
    fclose(fp);
}

static void test_load(void **state)
{
    char *dir = make_tmpdir();
    char *path = xasprintf("%s/" M, dir);
    char *missing = xasprintf("%s/none.manifest", dir);
    struct manifest m;
    struct err e;
    FILE *fp;
    char *want;

    (void)state;
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", fp);
    fclose(fp);
    assert_int_equal(manifest_load(path, &m, &e), 0);
    assert_int_equal(m.nfiles, 2);
    assert_file(manifest_current_incr(&m), "appendonly.aof.1.incr.aof", 1, MANIFEST_INCR);
    manifest_free(&m);

    /* errors name the path */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("file a seq 1 type b\nfile b seq 1 type q\n", fp);
    fclose(fp);
    assert_int_equal(manifest_load(path, &m, &e), -1);
    want = xasprintf("%s:2: invalid manifest line: type \"q\" is not b, h or i", path);
    assert_string_equal(e.msg, want);
    free(want);

    assert_int_equal(manifest_load(missing, &m, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    want = xasprintf("cannot open manifest \"%s\": No such file or directory", missing);
    assert_string_equal(e.msg, want);
    free(want);
    assert_int_equal(manifest_load(dir, &m, &e), -1);
    assert_int_equal(e.code, ERR_IO);

    remove_tree(dir);
    free(missing);
    free(path);
    free(dir);
}

static void test_write(void **state)
{
    char *dir = make_tmpdir();
    char *path = xasprintf("%s/" M, dir);
    struct buf text = BUF_INIT;
    struct manifest m;
    struct stat st1, st2;
    struct err e;

    (void)state;
    assert_int_equal(manifest_write(path, "appendonly.aof.1.base.rdb", 1, "appendonly.aof.1.incr.aof", 1, &e),
                     0);
    read_file(path, &text);
    /* exactly what redis-server writes for a fresh AOF directory */
    assert_string_equal(text.data, "file appendonly.aof.1.base.rdb seq 1 type b\n"
                                   "file appendonly.aof.1.incr.aof seq 1 type i\n");
    assert_int_equal(stat(path, &st1), 0);
    assert_int_equal(st1.st_mode & 07777, 0644);
    assert_int_equal(count_entries(dir), 1);

    /* replaced atomically: a new inode, no temp file left */
    assert_int_equal(manifest_write(path, "my aof\"x.3.base.rdb", 3, "my aof\"x.3.incr.aof", 3, &e), 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_not_equal(st1.st_ino, st2.st_ino);
    assert_int_equal(count_entries(dir), 1);
    read_file(path, &text);
    /* quoted as redis-server quotes it */
    assert_string_equal(text.data, "file \"my aof\\\"x.3.base.rdb\" seq 3 type b\n"
                                   "file \"my aof\\\"x.3.incr.aof\" seq 3 type i\n");

    /* a space alone is enough to need quotes */
    assert_int_equal(manifest_write(path, "a b.rdb", 1, "a\tb.aof", 2, &e), 0);
    read_file(path, &text);
    assert_string_equal(text.data, "file \"a b.rdb\" seq 1 type b\n"
                                   "file \"a\\tb.aof\" seq 2 type i\n");

    /* no base file */
    assert_int_equal(manifest_write(path, NULL, 0, "appendonly.aof.1.incr.aof", 1, &e), 0);
    assert_int_equal(manifest_load(path, &m, &e), 0);
    assert_int_equal(m.nfiles, 1);
    assert_null(manifest_base(&m));
    manifest_free(&m);

    buf_free(&text);
    remove_tree(dir);
    free(path);
    free(dir);
}

/* A manifest read and written again is the same text: Redis 8.2's offsets
 * and any key aofroll does not know are kept, quoted where they must be. */
static void test_write_extra(void **state)
{
    static const char redis82[] =
        "file appendonly.aof.2.base.rdb seq 2 type b\n"
        "file appendonly.aof.2.incr.aof seq 2 type h startoffset 1024 endoffset 4096\n"
        "file appendonly.aof.3.incr.aof seq 3 type i startoffset 4096\n";
    static const char odd[] = "file x.aof seq 4 type i StartOffset 7 \"odd key\" \"a\\x00b\" k \"\" k 2\n";
    char *dir = make_tmpdir();
    char *path = xasprintf("%s/" M, dir);
    struct buf text = BUF_INIT;
    struct manifest m, back;
    struct err e;

    (void)state;
    parse_ok(redis82, &m);
    assert_int_equal(manifest_write_files(path, &m, &e), 0);
    read_file(path, &text);
    assert_string_equal(text.data, redis82);
    manifest_free(&m);

    parse_ok(odd, &m);
    assert_int_equal(manifest_write_files(path, &m, &e), 0);
    read_file(path, &text);
    assert_string_equal(text.data, odd);
    assert_int_equal(manifest_load(path, &back, &e), 0);
    assert_int_equal(back.files[0].nextra, 4);
    assert_int_equal(back.files[0].extra[1].value_len, 3);
    assert_memory_equal(back.files[0].extra[1].value, "a\0b", 3);
    manifest_free(&back);

    /* an empty key cannot be written back as a word of its own */
    m.files[0].extra[0].key[0] = '\0';
    m.files[0].extra[0].key_len = 0;
    assert_int_equal(manifest_write_files(path, &m, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);
    assert_non_null(strstr(e.msg, ": an empty key on the line of \"x.aof\""));
    manifest_free(&m);

    buf_free(&text);
    remove_tree(dir);
    free(path);
    free(dir);
}

/* Every byte but NUL and '/' survives a write and a read. */
static void test_write_roundtrip(void **state)
{
    char *dir = make_tmpdir();
    char *path = xasprintf("%s/" M, dir);
    struct buf text = BUF_INIT;
    char name[300];
    size_t n = 0;
    struct manifest m;
    struct err e;
    int c;

    (void)state;
    for (c = 1; c < 256; c++)
        if (c != '/')
            name[n++] = (char)c;
    name[n] = '\0';
    assert_int_equal(manifest_write(path, name, 12, "plain.aof", 345, &e), 0);
    assert_int_equal(manifest_load(path, &m, &e), 0);
    assert_int_equal(m.nfiles, 2);
    assert_file(manifest_base(&m), name, 12, MANIFEST_BASE);
    assert_file(manifest_current_incr(&m), "plain.aof", 345, MANIFEST_INCR);
    manifest_free(&m);

    /* a single quote alone: sdssplitargs would open a quoted string at it */
    assert_int_equal(manifest_write(path, "it's.rdb", 1, "'", 2, &e), 0);
    read_file(path, &text);
    assert_string_equal(text.data, "file \"it's.rdb\" seq 1 type b\n"
                                   "file \"'\" seq 2 type i\n");
    assert_int_equal(manifest_load(path, &m, &e), 0);
    assert_file(manifest_base(&m), "it's.rdb", 1, MANIFEST_BASE);
    assert_file(manifest_current_incr(&m), "'", 2, MANIFEST_INCR);
    manifest_free(&m);
    buf_free(&text);
    remove_tree(dir);
    free(path);
    free(dir);
}

static void test_write_errors(void **state)
{
    char *dir = make_tmpdir();
    char *path = xasprintf("%s/" M, dir);
    char *bad_dir = xasprintf("%s/missing/" M, dir);
    char *want;
    struct err e;

    (void)state;
    assert_int_equal(manifest_write(path, "a/b", 1, "c", 1, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);
    want = xasprintf("cannot write manifest \"%s\": \"a/b\" is not a plain file name", path);
    assert_string_equal(e.msg, want);
    free(want);
    assert_int_equal(manifest_write(path, "a", 1, "", 1, &e), -1);
    assert_int_equal(manifest_write(path, "a", 1, "c", -1, &e), -1);
    want = xasprintf("cannot write manifest \"%s\": negative seq -1 for \"c\"", path);
    assert_string_equal(e.msg, want);
    free(want);
    assert_int_equal(count_entries(dir), 0);

    assert_int_equal(manifest_write(bad_dir, "a", 1, "c", 1, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "/missing/" M ".tmp."));

    /* the rename fails (a directory stands there): the temp file goes */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(manifest_write(path, "a", 1, "c", 1, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_non_null(strstr(e.msg, "cannot rename \""));
    assert_non_null(strstr(e.msg, ": Is a directory"));
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(rmdir(path), 0);

    remove_tree(dir);
    free(bad_dir);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_manifest),
        cmocka_unit_test(test_history_and_incrs),
        cmocka_unit_test(test_real_redis_quoted),
        cmocka_unit_test(test_quoting_rules),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_extra_keys),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_write_extra),
        cmocka_unit_test(test_write_roundtrip),
        cmocka_unit_test(test_write_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
