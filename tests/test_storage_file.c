/* test_storage_file.c - unit tests for the file:// backend (storage_file.c) and storage_open.
 *
 * What the shared suite (storage_suite.c) cannot see: the URL forms, the
 * on-disk layout, directory creation and pruning, the messages, and above
 * all atomicity against a writer that dies. For that a child process
 * starts a put of a 4 MiB object with RLIMIT_FSIZE at 1 MiB: its second
 * write() raises SIGXFSZ, whose handler stops the child (SIGSTOP) in the
 * middle of the put, with a partial temp file on disk. The parent then
 * looks at the archive, SIGKILLs the child and checks that the key was
 * never visible, that an old object under the key is intact, and that the
 * next open sweeps the dead writer's temp file but not a live one's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage.h"
#include "xalloc.h"

#define BIG_OBJECT (4u * 1024 * 1024)
#define CHILD_FSIZE_LIMIT (1u * 1024 * 1024)

struct fixture {
    char dir[1024];  /* a fresh directory for this test */
    char root[1100]; /* dir + "/archive" */
    char url[1200];  /* file://root */
    pid_t writer;    /* a stalled writer to kill if a test fails */
};

static int fixture_setup(void **state)
{
    const char *base = getenv("AOFROLL_TEST_TMP");
    struct fixture *f = xcalloc(1, sizeof(*f));
    char cmd[4200];

    if (base == NULL)
        base = "/tmp";
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", base);
    if (system(cmd) != 0)
        goto fail;
    snprintf(f->dir, sizeof(f->dir), "%s/test_storage_file.XXXXXX", base);
    if (mkdtemp(f->dir) == NULL)
        goto fail;
    snprintf(f->root, sizeof(f->root), "%s/archive", f->dir);
    snprintf(f->url, sizeof(f->url), "file://%s", f->root);
    *state = f;
    return 0;
fail:
    free(f);
    return -1;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[4200];
    int rc;

    if (f->writer > 0) {
        kill(f->writer, SIGKILL);
        waitpid(f->writer, NULL, 0);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static struct storage *open_ok(const char *url)
{
    struct storage *st = NULL;
    struct err e;

    err_clear(&e);
    if (storage_file_open(url, &st, &e) != 0)
        fail_msg("open \"%s\": %s", url, e.msg);
    return st;
}

static int is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0;
}

/* Names in `dir` other than "." and "..", into names[] (up to max). */
static int dir_entries(const char *dir, char names[][256], int max)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0;

    assert_non_null(d);
    for (;;) {
        ent = readdir(d);
        if (ent == NULL)
            break;
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        if (n < max)
            snprintf(names[n], 256, "%s", ent->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void read_file(const char *path, struct buf *b)
{
    char chunk[65536];
    FILE *fp = fopen(path, "rb");
    size_t n;

    assert_non_null(fp);
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), fp);
        if (n == 0)
            break;
        buf_append(b, chunk, n);
    }
    fclose(fp);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* ------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------ */

static void test_open_creates_root(void **state)
{
    struct fixture *f = *state;
    struct storage *st;
    char url[4400];
    char path[4400];

    snprintf(url, sizeof(url), "file://%s/a/b/c", f->root);
    st = open_ok(url);
    assert_string_equal(st->ops->scheme, "file");
    assert_int_equal(st->ops->version, STORAGE_OPS_VERSION);
    assert_string_equal(st->url, url);
    snprintf(path, sizeof(path), "%s/a/b/c/.tmp", f->root);
    assert_true(is_dir(path));
    storage_close(st);
    /* opening again is fine */
    st = open_ok(url);
    storage_close(st);
}

static void test_url_forms(void **state)
{
    struct fixture *f = *state;
    struct storage *st;
    struct buf b = BUF_INIT;
    struct err e;
    char url[4400];
    char path[4400];

    /* file://localhost/ and a trailing slash name the same directory */
    snprintf(url, sizeof(url), "file://localhost%s/", f->root);
    st = open_ok(url);
    assert_int_equal(storage_put(st, "k", "v1", 2, &e), 0);
    storage_close(st);
    snprintf(path, sizeof(path), "%s/k", f->root);
    read_file(path, &b);
    assert_string_equal(b.data, "v1");
    buf_free(&b);
    /* percent-escapes are decoded */
    snprintf(url, sizeof(url), "file://%s/with%%20space", f->root);
    st = open_ok(url);
    storage_close(st);
    snprintf(path, sizeof(path), "%s/with space", f->root);
    assert_true(is_dir(path));
}

static void expect_open_fails(const char *url, enum err_code code, const char *msg)
{
    struct storage *st = (struct storage *)&st; /* must be reset to NULL */
    struct err e;

    err_clear(&e);
    assert_int_equal(storage_file_open(url, &st, &e), -1);
    assert_null(st);
    assert_int_equal(e.code, code);
    assert_string_equal(e.msg, msg);
}

static void test_bad_urls(void **state)
{
    (void)state;
    expect_open_fails("file://relative/path", ERR_CONFIG,
                      "invalid storage URL \"file://relative/path\": Bad file:// URL; "
                      "expected file:///absolute/path");
    expect_open_fails(
        "file:///tmp/x?mode=1", ERR_CONFIG,
        "invalid storage URL \"file:///tmp/x?mode=1\": a file:// URL takes no query or fragment");
    expect_open_fails("file:///tmp/x#frag", ERR_CONFIG,
                      "invalid storage URL \"file:///tmp/x#frag\": a file:// URL takes no query or fragment");
}

static void test_open_error_names_directory(void **state)
{
    struct fixture *f = *state;
    char file[1100];
    char url[1200];
    char msg[3000];

    /* a regular file where the root's parent should be */
    snprintf(file, sizeof(file), "%s/plainfile", f->dir);
    write_file(file, "x");
    snprintf(url, sizeof(url), "file://%s/sub", file);
    snprintf(msg, sizeof(msg), "storage \"%s\": cannot create directory \"%s/sub\": Not a directory", url,
             file);
    expect_open_fails(url, ERR_IO, msg);
}

static void test_storage_open_dispatch(void **state)
{
    struct fixture *f = *state;
    struct config cfg;
    struct storage *st = NULL;
    struct err e;

    memset(&cfg, 0, sizeof(cfg));
    cfg.storage_url = f->url;
    err_clear(&e);
    assert_int_equal(storage_open(&cfg, &st, &e), 0);
    assert_string_equal(st->ops->scheme, "file");
    storage_close(st);
    storage_close(NULL);

    cfg.storage_url = "ftp://example.com/x";
    assert_int_equal(storage_open(&cfg, &st, &e), -1);
    assert_null(st);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(
        e.msg,
        "unsupported storage URL \"ftp://example.com/x\": expected file://, s3://, sftp:// or azure://");
    cfg.storage_url = "/var/lib/aofroll/archive";
    assert_int_equal(storage_open(&cfg, &st, &e), -1);
    assert_string_equal(
        e.msg,
        "unsupported storage URL \"/var/lib/aofroll/archive\": expected file://, s3://, sftp:// or azure://");
    cfg.storage_url = NULL;
    assert_int_equal(storage_open(&cfg, &st, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, "no storage URL configured: expected file://, s3://, sftp:// or azure://");
}

/* ------------------------------------------------------------------------
 * Layout and directories
 * ------------------------------------------------------------------------ */

static void test_layout_and_pruning(void **state)
{
    struct fixture *f = *state;
    struct storage *st = open_ok(f->url);
    const char *k1 = "inst/gen-000001/base/00000000000000000000-00000000000000000005.rdb.gz";
    const char *k2 = "inst/gen-000001/incr/00000000000000000000-00000000000000000003_1-2.aof.gz";
    struct buf b = BUF_INIT;
    struct err e;
    char path[4400];

    err_clear(&e);
    assert_int_equal(storage_put(st, k1, "REDIS", 5, &e), 0);
    assert_int_equal(storage_put(st, k2, "abc", 3, &e), 0);
    snprintf(path, sizeof(path), "%s/%s", f->root, k1);
    read_file(path, &b);
    assert_string_equal(b.data, "REDIS");
    buf_free(&b);
    /* removing the only object of a directory prunes the empty directories
     * up to, not including, one that still holds something */
    assert_int_equal(storage_remove(st, k1, &e), 0);
    snprintf(path, sizeof(path), "%s/inst/gen-000001/base", f->root);
    assert_false(exists(path));
    snprintf(path, sizeof(path), "%s/inst/gen-000001/incr", f->root);
    assert_true(is_dir(path));
    assert_int_equal(storage_remove(st, k2, &e), 0);
    snprintf(path, sizeof(path), "%s/inst", f->root);
    assert_false(exists(path));
    /* but never the root or its .tmp */
    assert_true(is_dir(f->root));
    snprintf(path, sizeof(path), "%s/.tmp", f->root);
    assert_true(is_dir(path));
    /* and nothing was left in .tmp by successful puts */
    assert_int_equal(dir_entries(path, NULL, 0), 0);
    storage_close(st);
}

static void test_not_found_message(void **state)
{
    struct fixture *f = *state;
    struct storage *st = open_ok(f->url);
    struct buf b = BUF_INIT;
    struct err e;
    char msg[9000];
    uint64_t size;

    snprintf(msg, sizeof(msg), "object \"inst/index.db\" not found in \"%s\"", f->url);
    assert_int_equal(storage_get(st, "inst/index.db", &b, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_string_equal(e.msg, msg);
    assert_int_equal(storage_head(st, "inst/index.db", &size, &e), -1);
    assert_string_equal(e.msg, msg);
    /* a path through a regular file (ENOTDIR) is not found either */
    assert_int_equal(storage_put(st, "file", "x", 1, &e), 0);
    assert_int_equal(storage_get(st, "file/below", &b, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(storage_remove(st, "file/below", &e), 0);
    buf_free(&b);
    storage_close(st);
}

static int count_cb(void *ud, const char *key, uint64_t size)
{
    struct buf *b = ud;

    buf_printf(b, "%s=%llu;", key, (unsigned long long)size);
    return 0;
}

static void test_tmp_is_private(void **state)
{
    struct fixture *f = *state;
    struct storage *st = open_ok(f->url);
    struct buf b = BUF_INIT;
    struct err e;
    char path[4400];
    char msg[9000];
    char names[4][256];

    snprintf(msg, sizeof(msg), "invalid storage key \".tmp/x\": \".tmp\" is reserved in \"%s\"", f->url);
    err_clear(&e);
    assert_int_equal(storage_put(st, ".tmp/x", "x", 1, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_string_equal(e.msg, msg);
    assert_int_equal(storage_put(st, ".tmp", "x", 1, &e), -1);
    /* another dot name is an ordinary key */
    assert_int_equal(storage_put(st, ".tmpx", "x", 1, &e), 0);
    assert_int_equal(storage_put(st, "k", "vv", 2, &e), 0);
    /* files in .tmp: a live writer's (our own pid) and a foreign name */
    snprintf(path, sizeof(path), "%s/.tmp/%ld-0-inflight", f->root, (long)getpid());
    write_file(path, "partial");
    snprintf(path, sizeof(path), "%s/.tmp/notapid", f->root);
    write_file(path, "?");
    assert_int_equal(storage_list(st, "", count_cb, &b, &e), 0);
    assert_string_equal(b.data, ".tmpx=1;k=2;");
    buf_reset(&b);
    assert_int_equal(storage_list(st, ".tmp", count_cb, &b, &e), 0);
    assert_string_equal(b.data, ".tmpx=1;");
    buf_free(&b);
    storage_close(st);
    /* reopening sweeps neither: the pid is alive, the other is not ours */
    st = open_ok(f->url);
    snprintf(path, sizeof(path), "%s/.tmp", f->root);
    assert_int_equal(dir_entries(path, names, 4), 2);
    storage_close(st);
}

static void test_symlinked_object(void **state)
{
    struct fixture *f = *state;
    struct storage *st = open_ok(f->url);
    struct buf b = BUF_INIT;
    struct err e;
    char target[4400];
    char link[4400];

    err_clear(&e);
    assert_int_equal(storage_put(st, "d/real", "data", 4, &e), 0);
    snprintf(target, sizeof(target), "%s/d/real", f->root);
    snprintf(link, sizeof(link), "%s/d/alias", f->root);
    assert_int_equal(symlink(target, link), 0);
    /* a loop through a directory link must not hang the listing */
    snprintf(target, sizeof(target), "%s/d", f->root);
    snprintf(link, sizeof(link), "%s/d/loop", f->root);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(storage_list(st, "", count_cb, &b, &e), 0);
    assert_string_equal(b.data, "d/alias=4;d/real=4;");
    buf_free(&b);
    storage_close(st);
}

/* Links planted in the archive lead nothing outside it: a directory link
 * is not walked (put, get, remove), an object link to a file outside is
 * not read; one to a file inside still is. */
static void test_links_lead_nowhere_outside(void **state)
{
    struct fixture *f = *state;
    struct storage *st = open_ok(f->url);
    struct buf b = BUF_INIT;
    struct err e;
    char outside[1200], path[2400], target[2400];
    uint64_t size;
    struct stat sb;

    err_clear(&e);
    snprintf(outside, sizeof(outside), "%s/outside", f->dir);
    assert_int_equal(mkdir(outside, 0755), 0);
    snprintf(path, sizeof(path), "%s/secret", outside);
    write_file(path, "secret");
    /* inst/gen -> outside */
    snprintf(path, sizeof(path), "%s/inst", f->root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/inst/gen", f->root);
    assert_int_equal(symlink(outside, path), 0);
    assert_int_equal(storage_put(st, "inst/gen/new", "x", 1, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    snprintf(path, sizeof(path), "%s/new", outside);
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(storage_get(st, "inst/gen/secret", &b, &e), -1);
    assert_int_equal(b.len, 0);
    assert_int_equal(storage_head(st, "inst/gen/secret", &size, &e), -1);
    assert_int_equal(storage_remove(st, "inst/gen/secret", &e), -1);
    snprintf(path, sizeof(path), "%s/secret", outside);
    assert_int_equal(stat(path, &sb), 0);
    /* an object that is a link to a file outside: not read, and removing
     * it removes the link only */
    snprintf(target, sizeof(target), "%s/secret", outside);
    snprintf(path, sizeof(path), "%s/inst/leak", f->root);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(storage_get(st, "inst/leak", &b, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "leads outside the archive"));
    assert_int_equal(storage_remove(st, "inst/leak", &e), 0);
    assert_int_equal(lstat(path, &sb), -1);
    assert_int_equal(stat(target, &sb), 0);
    /* a link to an object inside is still one */
    assert_int_equal(storage_put(st, "inst/real", "data", 4, &e), 0);
    snprintf(target, sizeof(target), "%s/inst/real", f->root);
    snprintf(path, sizeof(path), "%s/inst/alias", f->root);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(storage_get(st, "inst/alias", &b, &e), 0);
    assert_int_equal(b.len, 4);
    buf_free(&b);
    storage_close(st);
}

/* ------------------------------------------------------------------------
 * A writer that dies midway
 * ------------------------------------------------------------------------ */

static void on_xfsz(int sig)
{
    (void)sig;
    raise(SIGSTOP);
}

/* Fork a writer that puts BIG_OBJECT bytes under `key` and is stopped in
 * the middle of writing its temp file (see the top of the file). */
static pid_t start_stalled_writer(struct fixture *f, const char *key, const unsigned char *data)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {CHILD_FSIZE_LIMIT, CHILD_FSIZE_LIMIT};
        struct sigaction sa;
        struct storage *st = NULL;
        struct err e;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_xfsz;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGXFSZ, &sa, NULL) != 0 || setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(10);
        if (storage_file_open(f->url, &st, &e) != 0)
            _exit(11);
        storage_put(st, key, data, BIG_OBJECT, &e);
        _exit(12); /* only reached if the writer was not stopped */
    }
    f->writer = pid;
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    if (!WIFSTOPPED(status)) {
        f->writer = 0; /* already reaped */
        fail_msg("the writer was not stopped mid-put (wait status 0x%x)", status);
    }
    return pid;
}

static void kill_writer(struct fixture *f)
{
    pid_t pid = f->writer;
    int status;

    f->writer = 0;
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* The writer's temp file is there, partial, named after its pid. */
static void expect_partial_temp(const struct fixture *f, pid_t pid)
{
    char names[4][256];
    char path[4400];
    char want[64];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/.tmp", f->root);
    assert_int_equal(dir_entries(path, names, 4), 1);
    snprintf(want, sizeof(want), "%ld-", (long)pid);
    assert_true(strncmp(names[0], want, strlen(want)) == 0);
    snprintf(path, sizeof(path), "%s/.tmp/%s", f->root, names[0]);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, CHILD_FSIZE_LIMIT);
}

static void test_killed_writer_leaves_no_object(void **state)
{
    struct fixture *f = *state;
    const char *key = "inst/gen-000001/incr/00000000000000000000-00000000000004194304_1-2.aof.gz";
    unsigned char *data = xmalloc(BIG_OBJECT);
    struct storage *st;
    struct buf b = BUF_INIT;
    struct err e;
    char path[4400];
    uint64_t size;
    pid_t pid;

    memset(data, 'N', BIG_OBJECT);
    st = open_ok(f->url);
    pid = start_stalled_writer(f, key, data);
    expect_partial_temp(f, pid);
    /* mid-put: the key does not exist, in any form */
    err_clear(&e);
    assert_int_equal(storage_head(st, key, &size, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_int_equal(storage_list(st, "", count_cb, &b, &e), 0);
    assert_int_equal(b.len, 0);
    snprintf(path, sizeof(path), "%s/%s", f->root, key);
    assert_false(exists(path));
    /* an open while the writer lives leaves its temp file alone */
    storage_close(open_ok(f->url));
    expect_partial_temp(f, pid);

    kill_writer(f);
    assert_int_equal(storage_head(st, key, &size, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    storage_close(st);
    /* the next open removes the dead writer's temp file */
    st = open_ok(f->url);
    snprintf(path, sizeof(path), "%s/.tmp", f->root);
    assert_int_equal(dir_entries(path, NULL, 0), 0);
    assert_int_equal(storage_head(st, key, &size, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    /* and the key can be written whole */
    assert_int_equal(storage_put(st, key, data, BIG_OBJECT, &e), 0);
    assert_int_equal(storage_get(st, key, &b, &e), 0);
    assert_int_equal(b.len, BIG_OBJECT);
    assert_memory_equal(b.data, data, BIG_OBJECT);
    buf_free(&b);
    storage_close(st);
    free(data);
}

static void test_killed_overwrite_keeps_old_object(void **state)
{
    struct fixture *f = *state;
    const char *key = "inst/index.db";
    unsigned char *data = xmalloc(BIG_OBJECT);
    struct storage *st;
    struct buf b = BUF_INIT;
    struct err e;
    char path[4400];
    pid_t pid;

    memset(data, 'X', BIG_OBJECT);
    st = open_ok(f->url);
    err_clear(&e);
    assert_int_equal(storage_put(st, key, "old index, intact", 17, &e), 0);
    pid = start_stalled_writer(f, key, data);
    expect_partial_temp(f, pid);
    assert_int_equal(storage_get(st, key, &b, &e), 0);
    assert_string_equal(b.data, "old index, intact");
    buf_reset(&b);
    kill_writer(f);
    storage_close(st);

    st = open_ok(f->url);
    snprintf(path, sizeof(path), "%s/.tmp", f->root);
    assert_int_equal(dir_entries(path, NULL, 0), 0);
    assert_int_equal(storage_get(st, key, &b, &e), 0);
    assert_string_equal(b.data, "old index, intact");
    assert_int_equal(b.len, 17);
    buf_reset(&b);
    assert_int_equal(storage_list(st, "", count_cb, &b, &e), 0);
    assert_string_equal(b.data, "inst/index.db=17;");
    buf_free(&b);
    storage_close(st);
    free(data);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        T(test_open_creates_root),
        T(test_url_forms),
        T(test_bad_urls),
        T(test_open_error_names_directory),
        T(test_storage_open_dispatch),
        T(test_layout_and_pruning),
        T(test_not_found_message),
        T(test_tmp_is_private),
        T(test_symlinked_object),
        T(test_links_lead_nowhere_outside),
        T(test_killed_writer_leaves_no_object),
        T(test_killed_overwrite_keeps_old_object),
    };
    /* clang-format on */
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
