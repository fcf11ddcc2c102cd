/* test_metrics.c - the collector's Prometheus textfile (common/metrics.c).
 *
 * The text: every family with its HELP and TYPE lines and one sample per
 * instance, each value from the status row (the poll interval in seconds,
 * the lag, how long a barrier has been held back), the lag in seconds left
 * out when it is unknown, label values escaped (backslash, double quote,
 * newline), and an aofroll_problem series for every reason and instance.
 * The file: written whole and replaced atomically, no temp file left
 * behind, a stale temp file (even a symlink planted under its name) never
 * written through, and one clear error naming the file when the directory
 * is missing or the path is a directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "metrics.h"
#include "test_tmpdir.h"
#include "xalloc.h"

#define NOW 1795000000

static int fixture_setup(void **state)
{
    return test_dir_setup(state, "test_metrics", "aofroll.prom");
}

/* Two instances: "a" 40 bytes behind since 7 s with a barrier held back
 * for 90 s; "b" (a name that needs escaping) with a lag whose age is
 * unknown, down. */
struct sample {
    struct status_row row[2];
    struct verdict verdict[2];
    struct metrics_instance m[2];
};

static void sample(struct sample *s)
{
    struct verdict_input in;
    int i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < 2; i++) {
        struct status_row *r = &s->row[i];

        r->instance_id = i + 1;
        r->last_poll = NOW;
        r->poll_interval_ms = 1500;
        r->generation = 3 + i;
        r->current_size = 1000;
        r->last_barrier = NOW - 3600;
    }
    s->row[0].shipped = 960;
    s->row[0].shipped_time = NOW - 7;
    s->row[0].barrier_postponed_since = NOW - 90;
    s->row[0].last_error_time = NOW - 5;
    s->row[1].shipped = 10;
    s->row[1].shipped_time = 0; /* not known */
    s->row[1].redis_down_since = NOW - 60;
    for (i = 0; i < 2; i++) {
        memset(&in, 0, sizeof(in));
        in.row = &s->row[i];
        in.now = NOW;
        in.poll_interval_ms = 1500;
        in.archived = 1;
        verdict_judge(&in, &s->verdict[i]);
        s->m[i].row = &s->row[i];
        s->m[i].verdict = &s->verdict[i];
    }
    s->m[0].name = "a";
    s->m[1].name = "b\\\"\n";
}

static void has(const struct buf *out, const char *line)
{
    if (strstr(out->data, line) == NULL)
        fail_msg("no \"%s\" in:\n%s", line, out->data);
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    const char *p = text;

    while ((p = strstr(p, what)) != NULL) {
        n++;
        p += strlen(what);
    }
    return n;
}

static void test_format(void **state)
{
    static const char *const families[] = {
        "aofroll_last_poll_timestamp_seconds",
        "aofroll_poll_interval_seconds",
        "aofroll_generation",
        "aofroll_current_file_size_bytes",
        "aofroll_shipped_bytes",
        "aofroll_lag_bytes",
        "aofroll_lag_seconds",
        "aofroll_last_barrier_timestamp_seconds",
        "aofroll_last_error_timestamp_seconds",
        "aofroll_up",
        "aofroll_barrier_postponed_seconds",
        "aofroll_problem",
    };
    struct sample s;
    struct buf out = BUF_INIT;
    char line[256];
    size_t i;

    (void)state;
    sample(&s);
    metrics_format(s.m, 2, &out);
    for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        snprintf(line, sizeof(line), "# HELP %s ", families[i]);
        has(&out, line);
        snprintf(line, sizeof(line), "\n# TYPE %s gauge\n", families[i]);
        has(&out, line);
    }
    has(&out, "aofroll_last_poll_timestamp_seconds{instance=\"a\"} 1795000000\n");
    has(&out, "aofroll_poll_interval_seconds{instance=\"a\"} 1.500\n");
    has(&out, "aofroll_generation{instance=\"a\"} 3\n");
    has(&out, "aofroll_generation{instance=\"b\\\\\\\"\\n\"} 4\n");
    has(&out, "aofroll_current_file_size_bytes{instance=\"a\"} 1000\n");
    has(&out, "aofroll_shipped_bytes{instance=\"a\"} 960\n");
    has(&out, "aofroll_lag_bytes{instance=\"a\"} 40\n");
    has(&out, "aofroll_lag_bytes{instance=\"b\\\\\\\"\\n\"} 990\n");
    has(&out, "aofroll_lag_seconds{instance=\"a\"} 7\n");
    has(&out, "aofroll_last_barrier_timestamp_seconds{instance=\"a\"} 1794996400\n");
    has(&out, "aofroll_last_error_timestamp_seconds{instance=\"a\"} 1794999995\n");
    has(&out, "aofroll_last_error_timestamp_seconds{instance=\"b\\\\\\\"\\n\"} 0\n");
    has(&out, "aofroll_barrier_postponed_seconds{instance=\"a\"} 90\n");
    has(&out, "aofroll_barrier_postponed_seconds{instance=\"b\\\\\\\"\\n\"} 0\n");
    has(&out, "aofroll_up{instance=\"b\\\\\\\"\\n\"} 0\n");
    has(&out, "aofroll_problem{instance=\"b\\\\\\\"\\n\",reason=\"redis-unreachable\"} 1\n");
    has(&out, "aofroll_problem{instance=\"a\",reason=\"redis-unreachable\"} 0\n");
    /* the age of b's lag is unknown: no sample rather than a made-up one */
    assert_int_equal(count(out.data, "aofroll_lag_seconds{"), 1);
    /* one sample per instance in every other family, every reason for both */
    assert_int_equal(count(out.data, "aofroll_generation{"), 2);
    assert_int_equal(count(out.data, "aofroll_problem{"), 2 * VERDICT_COUNT);
    for (i = 0; i < VERDICT_COUNT; i++) {
        snprintf(line, sizeof(line), "aofroll_problem{instance=\"a\",reason=\"%s\"} %d\n",
                 verdict_reason_name((enum verdict_reason)i),
                 verdict_has(&s.verdict[0], (enum verdict_reason)i));
        has(&out, line);
    }
    /* no raw newline inside a label: every line is a comment or a sample */
    {
        char *text = xstrdup(out.data), *save = NULL, *l;

        for (l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
            assert_true(l[0] == '#' || strncmp(l, "aofroll_", 8) == 0);
        free(text);
    }
    buf_free(&out);
}

static void test_postponed_edges(void **state)
{
    struct sample s;
    struct buf out = BUF_INIT;

    (void)state;
    sample(&s);
    s.row[0].barrier_postponed_since = NOW + 5; /* a clock that went back: never negative */
    s.row[0].shipped = 2000;                    /* shipped past the size seen: no lag */
    metrics_format(s.m, 1, &out);
    has(&out, "aofroll_barrier_postponed_seconds{instance=\"a\"} 0\n");
    has(&out, "aofroll_lag_bytes{instance=\"a\"} 0\n");
    has(&out, "aofroll_lag_seconds{instance=\"a\"} 0\n");
    assert_null(strstr(out.data, "instance=\"b"));
    buf_reset(&out);
    metrics_format(s.m, 0, &out);
    has(&out, "# TYPE aofroll_up gauge\n");
    assert_null(strstr(out.data, "{instance="));
    buf_free(&out);
}

static void test_write(void **state)
{
    struct test_dir *f = *state;
    struct sample s;
    struct buf want = BUF_INIT;
    char tmp[1300], victim[1300];
    struct stat st;
    struct err e;
    char *got;
    FILE *fp;

    sample(&s);
    metrics_format(s.m, 2, &want);
    err_clear(&e);
    assert_int_equal(metrics_write(f->path, s.m, 2, &e), 0);
    got = test_slurp(f->path);
    assert_string_equal(got, want.data);
    free(got);
    assert_int_equal(test_count_entries(f->dir), 1);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    /* rewritten: the new figures replace the old file whole */
    s.row[0].generation = 99;
    buf_reset(&want);
    metrics_format(s.m, 1, &want);
    assert_int_equal(metrics_write(f->path, s.m, 1, &e), 0);
    got = test_slurp(f->path);
    assert_string_equal(got, want.data);
    free(got);

    /* a stale temp file under our name, here a symlink to a file of
     * someone else's: removed, never written through */
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", f->path, (long)getpid());
    snprintf(victim, sizeof(victim), "%s/victim", f->dir);
    fp = fopen(victim, "w");
    assert_non_null(fp);
    fputs("untouched\n", fp);
    fclose(fp);
    assert_int_equal(symlink(victim, tmp), 0);
    assert_int_equal(metrics_write(f->path, s.m, 1, &e), 0);
    got = test_slurp(victim);
    assert_string_equal(got, "untouched\n");
    free(got);
    assert_int_equal(lstat(tmp, &st), -1);
    got = test_slurp(f->path);
    assert_string_equal(got, want.data);
    free(got);
    buf_free(&want);
}

static void test_write_fails(void **state)
{
    struct test_dir *f = *state;
    struct sample s;
    char path[1200];
    struct err e;

    sample(&s);
    /* the directory does not exist */
    snprintf(path, sizeof(path), "%s/missing/aofroll.prom", f->dir);
    err_clear(&e);
    assert_int_equal(metrics_write(path, s.m, 2, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "cannot create metrics file"));
    assert_non_null(strstr(e.msg, "/missing/aofroll.prom.tmp."));
    assert_non_null(strstr(e.msg, "No such file or directory"));
    /* the path is a directory: the rename fails, the temp file goes */
    assert_int_equal(mkdir(f->path, 0755), 0);
    err_clear(&e);
    assert_int_equal(metrics_write(f->path, s.m, 2, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    assert_non_null(strstr(e.msg, "cannot rename"));
    assert_non_null(strstr(e.msg, f->path));
    assert_int_equal(test_count_entries(f->dir), 1); /* the directory in its place, no temp file */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_postponed_edges),
        cmocka_unit_test_setup_teardown(test_write, fixture_setup, test_dir_teardown),
        cmocka_unit_test_setup_teardown(test_write_fails, fixture_setup, test_dir_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
