/* test_logfmt.c - the log line forms (common/logfmt.c): text, JSON with
 * escapes, journald priority prefixes, lines cut short that stay one
 * valid line, and the JOURNAL_STREAM check against stderr's file. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "logfmt.h"

#define WHEN "2026-11-21T10:45:01.123+01:00"

static void test_text(void **state)
{
    struct logfmt f = {0, 0};
    char line[256];

    (void)state;
    logfmt_line(&f, 1, WHEN, "sessions", "chunk shipped", line, sizeof(line));
    assert_string_equal(line, WHEN " INFO [sessions] chunk shipped\n");
    logfmt_line(&f, 3, WHEN, NULL, "stopped", line, sizeof(line));
    assert_string_equal(line, WHEN " ERROR stopped\n");
}

static void test_json(void **state)
{
    struct logfmt f = {1, 0};
    char line[512];

    (void)state;
    logfmt_line(&f, 2, WHEN, "se\"s", "a \"quoted\" path C:\\x\nnext\tline \x01 end", line, sizeof(line));
    assert_string_equal(line, "{\"time\":\"" WHEN "\",\"level\":\"warning\",\"instance\":\"se\\\"s\","
                              "\"message\":\"a \\\"quoted\\\" path C:\\\\x\\nnext\\tline \\u0001 end\"}\n");
    logfmt_line(&f, 0, WHEN, NULL, "x", line, sizeof(line));
    assert_string_equal(line, "{\"time\":\"" WHEN "\",\"level\":\"debug\",\"message\":\"x\"}\n");
}

static void test_priority(void **state)
{
    struct logfmt text = {0, 1}, json = {1, 1};
    char line[256];

    (void)state;
    logfmt_line(&text, 3, WHEN, "a", "failed", line, sizeof(line));
    assert_string_equal(line, "<3>" WHEN " ERROR [a] failed\n");
    logfmt_line(&text, 2, WHEN, "a", "w", line, sizeof(line));
    assert_true(strncmp(line, "<4>", 3) == 0);
    logfmt_line(&text, 1, WHEN, "a", "i", line, sizeof(line));
    assert_true(strncmp(line, "<6>", 3) == 0);
    logfmt_line(&text, 0, WHEN, "a", "d", line, sizeof(line));
    assert_true(strncmp(line, "<7>", 3) == 0);
    logfmt_line(&json, 3, WHEN, NULL, "e", line, sizeof(line));
    assert_string_equal(line, "<3>{\"time\":\"" WHEN "\",\"level\":\"error\",\"message\":\"e\"}\n");
}

/* A message longer than the line: cut, still one line, JSON still closed,
 * and no escape cut in half. */
static void test_cut_short(void **state)
{
    struct logfmt json = {1, 0}, text = {0, 0};
    char msg[400], line[120];
    size_t n, i;

    (void)state;
    for (i = 0; i < sizeof(msg) - 1; i++)
        msg[i] = i % 3 == 0 ? '"' : 'x';
    msg[sizeof(msg) - 1] = '\0';
    n = logfmt_line(&json, 1, WHEN, "a", msg, line, sizeof(line));
    assert_true(n < sizeof(line));
    assert_int_equal(strlen(line), n);
    assert_string_equal(line + n - 3, "\"}\n");
    assert_true(line[n - 4] != '\\' || line[n - 5] == '\\'); /* no dangling backslash */
    assert_null(strchr(line, '\n') == line + n - 1 ? NULL : line);
    n = logfmt_line(&text, 1, WHEN, "a", msg, line, sizeof(line));
    assert_int_equal(n, sizeof(line) - 1);
    assert_int_equal(line[n - 1], '\n');
}

static void test_journal_stream(void **state)
{
    char path[] = "/tmp/test_logfmt.XXXXXX", env[64];
    struct stat st;
    int fd, saved;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    assert_int_equal(fstat(fd, &st), 0);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(logfmt_stderr_is_journal(), 0);
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", env, 1);
    assert_int_equal(logfmt_stderr_is_journal(), 1);
    snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", env, 1);
    assert_int_equal(logfmt_stderr_is_journal(), 0); /* stderr redirected away from the journal */
    setenv("JOURNAL_STREAM", "garbage", 1);
    assert_int_equal(logfmt_stderr_is_journal(), 0);
    unsetenv("JOURNAL_STREAM");
    assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
    close(saved);
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),           cmocka_unit_test(test_json),
        cmocka_unit_test(test_priority),       cmocka_unit_test(test_cut_short),
        cmocka_unit_test(test_journal_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
