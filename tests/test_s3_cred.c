/* test_s3_cred.c - unit tests for s3_cred.c: keys from the environment
 * and from AWS credentials files (profiles, mode check, messages that
 * never carry the secret). Files are written under AOFROLL_TEST_TMP. */
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

#include "s3_cred.h"
#include "xalloc.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct fixture {
    char dir[512];
    char path[600];
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("AOFROLL_TEST_TMP");

    snprintf(f->dir, sizeof(f->dir), "%s/test_s3_cred.XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (tmp != NULL)
        mkdir(tmp, 0755);
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/credentials", f->dir);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static const char creds[] = "# comment\n"
                            "[default]\n"
                            "aws_access_key_id = AKIDEFAULT\n"
                            "aws_secret_access_key=" SECRET "\n"
                            "\n"
                            "[ backup ]\n"
                            "  aws_access_key_id = AKIBACKUP  \n"
                            "aws_secret_access_key = s2\n"
                            "aws_session_token = tok/en=\n"
                            "; other comment\n"
                            "[profile named]\n"
                            "aws_access_key_id = AKINAMED\n"
                            "aws_secret_access_key = s3\n"
                            "[nosecret]\n"
                            "aws_access_key_id = AKINOSECRET\n";

static void test_file_profiles(void **state)
{
    struct fixture *f = *state;
    struct s3_cred c;
    struct err e;

    write_file(f->path, creds, 0600);
    err_clear(&e);
    assert_int_equal(s3_cred_load(f->path, &c, &e), 0);
    assert_string_equal(c.access_key, "AKIDEFAULT");
    assert_string_equal(c.secret_key, SECRET);
    assert_null(c.session_token);
    s3_cred_free(&c);
    assert_int_equal(s3_cred_from_file(f->path, "backup", &c, &e), 0);
    assert_string_equal(c.access_key, "AKIBACKUP");
    assert_string_equal(c.secret_key, "s2");
    assert_string_equal(c.session_token, "tok/en=");
    s3_cred_free(&c);
    /* AWS_PROFILE picks the profile; "[profile NAME]" is read too */
    setenv("AWS_PROFILE", "named", 1);
    assert_int_equal(s3_cred_load(f->path, &c, &e), 0);
    assert_string_equal(c.access_key, "AKINAMED");
    assert_non_null(strstr(c.source, "[named]"));
    s3_cred_free(&c);
    unsetenv("AWS_PROFILE");
}

static void test_file_errors(void **state)
{
    struct fixture *f = *state;
    struct s3_cred c;
    struct err e;
    char want[1400];

    write_file(f->path, creds, 0600);
    assert_int_equal(s3_cred_from_file(f->path, "missing", &c, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    snprintf(want, sizeof(want), "credentials file \"%s\" has no profile [missing]", f->path);
    assert_string_equal(e.msg, want);
    assert_int_equal(s3_cred_from_file(f->path, "nosecret", &c, &e), -1);
    snprintf(want, sizeof(want), "credentials file \"%s\" profile [nosecret] has no aws_secret_access_key",
             f->path);
    assert_string_equal(e.msg, want);
    /* a malformed line is named by number, never shown: it may be a secret */
    write_file(f->path, "[default]\n" SECRET "\n", 0600);
    assert_int_equal(s3_cred_from_file(f->path, "default", &c, &e), -1);
    snprintf(want, sizeof(want), "credentials file \"%s\":2: expected \"key = value\"", f->path);
    assert_string_equal(e.msg, want);
    assert_null(strstr(e.msg, SECRET));
    unlink(f->path);
    assert_int_equal(s3_cred_from_file(f->path, "default", &c, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    snprintf(want, sizeof(want), "cannot open credentials file \"%s\": No such file or directory", f->path);
    assert_string_equal(e.msg, want);
}

static void test_file_mode_refused(void **state)
{
    struct fixture *f = *state;
    static const mode_t modes[] = {0644, 0640, 0604, 0660};
    struct s3_cred c;
    struct err e;
    char want[1400];
    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        write_file(f->path, creds, modes[i]);
        assert_int_equal(s3_cred_load(f->path, &c, &e), -1);
        assert_int_equal(e.code, ERR_CONFIG);
        snprintf(want, sizeof(want),
                 "credentials file \"%s\" is readable by others (mode %04o): HINT: chmod 600 %s", f->path,
                 (unsigned)modes[i], f->path);
        assert_string_equal(e.msg, want);
        assert_null(c.access_key);
    }
    /* 0400 is fine too */
    write_file(f->path, creds, 0400);
    assert_int_equal(s3_cred_load(f->path, &c, &e), 0);
    s3_cred_free(&c);
}

static void test_environment(void **state)
{
    struct s3_cred c;
    struct err e;

    (void)state;
    assert_int_equal(s3_cred_load(NULL, &c, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg,
                        "no s3 credentials: AWS_ACCESS_KEY_ID is not set and storage.s3.credentials_file "
                        "is not configured: HINT: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                        "name a credentials file");
    setenv("AWS_ACCESS_KEY_ID", "AKIENV", 1);
    assert_int_equal(s3_cred_load(NULL, &c, &e), -1);
    assert_non_null(strstr(e.msg, "AWS_SECRET_ACCESS_KEY is not set"));
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    assert_int_equal(s3_cred_load(NULL, &c, &e), 0);
    assert_string_equal(c.access_key, "AKIENV");
    assert_string_equal(c.secret_key, SECRET);
    assert_null(c.session_token);
    assert_string_equal(c.source, "the environment");
    s3_cred_free(&c);
    assert_null(c.secret_key);
    setenv("AWS_SESSION_TOKEN", "session", 1);
    assert_int_equal(s3_cred_load(NULL, &c, &e), 0);
    assert_string_equal(c.session_token, "session");
    s3_cred_free(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_mode_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
