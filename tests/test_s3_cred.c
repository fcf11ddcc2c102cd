/* test_s3_cred.c - unit tests for s3_cred.c: the credential chain's order
 * (environment, web identity, shared file, container endpoint, instance
 * metadata), which sources fall through and which fail, keys from the
 * environment and from AWS credentials files (profiles, mode check,
 * messages that never carry the secret). The HTTP sources are asked only
 * on loopback ports where nothing listens; their answers are tested
 * against real servers in it_s3_creds.sh. Files go under AOFROLL_TEST_TMP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_cred.h"
#include "xalloc.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct fixture {
    char dir[512];
    char path[600];
};

/* Every variable the chain reads, cleared; instance metadata off and the
 * shared credentials file pointed at nothing, so that nothing on the test
 * machine (or the network) takes part unless a test puts it there. */
static const char *const chain_vars[] = {
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_STS_REGIONAL_ENDPOINTS",
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *tmp = getenv("AOFROLL_TEST_TMP");
    char shared[700];
    size_t i;

    snprintf(f->dir, sizeof(f->dir), "%s/test_s3_cred.XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (tmp != NULL)
        mkdir(tmp, 0755);
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/credentials", f->dir);
    for (i = 0; i < sizeof(chain_vars) / sizeof(chain_vars[0]); i++)
        unsetenv(chain_vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    snprintf(shared, sizeof(shared), "%s/shared", f->dir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", shared, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char shared[700];

    snprintf(shared, sizeof(shared), "%s/shared", f->dir);
    unlink(shared);
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

/* Open a chain on `o` (NULL: all defaults); the caller closes it. */
static struct s3_cred_chain *chain_ok(const struct s3_cred_options *o, const struct s3_cred **cred)
{
    static const struct s3_cred_options none = {NULL, NULL, NULL, NULL};
    struct s3_cred_chain *c = NULL;
    struct err e;

    err_clear(&e);
    if (s3_cred_chain_open(o != NULL ? o : &none, &c, &e) != 0)
        fail_msg("s3_cred_chain_open: %s", e.msg);
    assert_int_equal(s3_cred_chain_get(c, 0, cred, &e), 0);
    return c;
}

static void chain_fails(const struct s3_cred_options *o, struct err *e)
{
    static const struct s3_cred_options none = {NULL, NULL, NULL, NULL};
    struct s3_cred_chain *c = NULL;

    err_clear(e);
    assert_int_equal(s3_cred_chain_open(o != NULL ? o : &none, &c, e), -1);
    assert_null(c);
    assert_null(strstr(e->msg, SECRET));
}

static void test_file_profiles(void **state)
{
    struct fixture *f = *state;
    struct s3_cred_options o = {f->path, NULL, NULL, NULL};
    const struct s3_cred *cred;
    struct s3_cred_chain *c;
    struct s3_cred fc;
    struct err e;

    write_file(f->path, creds, 0600);
    c = chain_ok(&o, &cred);
    assert_string_equal(cred->access_key, "AKIDEFAULT");
    assert_string_equal(cred->secret_key, SECRET);
    assert_null(cred->session_token);
    assert_int_equal(cred->expires, 0);
    s3_cred_chain_close(c);
    err_clear(&e);
    assert_int_equal(s3_cred_from_file(f->path, "backup", &fc, &e), 0);
    assert_string_equal(fc.access_key, "AKIBACKUP");
    assert_string_equal(fc.secret_key, "s2");
    assert_string_equal(fc.session_token, "tok/en=");
    s3_cred_free(&fc);
    /* AWS_PROFILE picks the profile; "[profile NAME]" is read too */
    setenv("AWS_PROFILE", "named", 1);
    c = chain_ok(&o, &cred);
    assert_string_equal(cred->access_key, "AKINAMED");
    assert_non_null(strstr(s3_cred_chain_describe(c), "[named]"));
    s3_cred_chain_close(c);
    /* a configured file is the only source: the environment is not asked */
    setenv("AWS_ACCESS_KEY_ID", "AKIENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    c = chain_ok(&o, &cred);
    assert_string_equal(cred->access_key, "AKINAMED");
    s3_cred_chain_close(c);
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
    /* a key that curl would split, or a line break in a header */
    write_file(f->path, "[default]\naws_access_key_id = AK:ID\naws_secret_access_key = " SECRET "\n", 0600);
    assert_int_equal(s3_cred_from_file(f->path, "default", &c, &e), -1);
    assert_non_null(strstr(e.msg, "contains ':'"));
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
    struct s3_cred_options o = {f->path, NULL, NULL, NULL};
    const struct s3_cred *cred;
    struct s3_cred_chain *c;
    struct err e;
    char want[1400];
    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        write_file(f->path, creds, modes[i]);
        chain_fails(&o, &e);
        assert_int_equal(e.code, ERR_CONFIG);
        snprintf(want, sizeof(want),
                 "credentials file \"%s\" is readable by others (mode %04o): HINT: chmod 600 %s", f->path,
                 (unsigned)modes[i], f->path);
        assert_string_equal(e.msg, want);
    }
    /* 0400 is fine too */
    write_file(f->path, creds, 0400);
    c = chain_ok(&o, &cred);
    s3_cred_chain_close(c);
}

static void test_environment(void **state)
{
    const struct s3_cred *cred;
    struct s3_cred_chain *c;
    struct err e;

    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIENV", 1);
    chain_fails(NULL, &e);
    assert_string_equal(
        e.msg,
        "s3 credentials from the environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    c = chain_ok(NULL, &cred);
    assert_string_equal(cred->access_key, "AKIENV");
    assert_string_equal(cred->secret_key, SECRET);
    assert_null(cred->session_token);
    assert_string_equal(s3_cred_chain_describe(c), "the environment");
    s3_cred_chain_close(c);
    setenv("AWS_SESSION_TOKEN", "session", 1);
    c = chain_ok(NULL, &cred);
    assert_string_equal(cred->session_token, "session");
    s3_cred_chain_close(c);
}

/* Nothing anywhere: one line saying what each source had to say. */
static void test_chain_nothing(void **state)
{
    struct fixture *f = *state;
    struct err e;
    char want[2000];

    chain_fails(NULL, &e);
    assert_int_equal(e.code, ERR_CONFIG);
    snprintf(
        want, sizeof(want),
        "no s3 credentials: AWS_ACCESS_KEY_ID is not set; web identity: not configured; credentials file "
        "\"%s/shared\": absent; container endpoint: not configured; instance metadata: disabled "
        "(AWS_EC2_METADATA_DISABLED): HINT: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or set "
        "storage.s3.credentials_file (docs/storage.md lists every source)",
        f->dir);
    assert_string_equal(e.msg, want);
}

/* A TCP port on loopback that nothing listens on (bound, never listened). */
static int closed_port(int *fd_out)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *fd_out = fd;
    return ntohs(sa.sin_port);
}

/* The SDKs' order: environment, web identity, shared file, container, IMDS. */
static void test_chain_order(void **state)
{
    struct fixture *f = *state;
    const struct s3_cred *cred;
    struct s3_cred_chain *c;
    struct err e;
    char shared[700], url[128], token[700];
    int fd, port = closed_port(&fd);

    snprintf(shared, sizeof(shared), "%s/shared", f->dir);
    snprintf(token, sizeof(token), "%s/no-such-token", f->dir);
    write_file(shared, creds, 0600);
    /* web identity configured, its token file missing: an error, and one
     * that comes before the shared file is read */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/aofroll", 1);
    chain_fails(NULL, &e);
    assert_non_null(strstr(e.msg, "s3 credentials from a web identity: cannot open web identity token file"));
    /* ... but the environment comes first of all */
    setenv("AWS_ACCESS_KEY_ID", "AKIENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    c = chain_ok(NULL, &cred);
    assert_string_equal(cred->access_key, "AKIENV");
    s3_cred_chain_close(c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    /* half a web identity is an error too */
    unsetenv("AWS_ROLE_ARN");
    chain_fails(NULL, &e);
    assert_string_equal(e.msg, "s3 credentials from a web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set but "
                               "AWS_ROLE_ARN is not");
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    /* the shared file comes before the container endpoint, which is never asked */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    c = chain_ok(NULL, &cred);
    assert_string_equal(cred->access_key, "AKIDEFAULT");
    assert_non_null(strstr(s3_cred_chain_describe(c), "/shared\" [default]"));
    s3_cred_chain_close(c);
    /* AWS_PROFILE naming a profile the file lacks is an error; a file
     * without [default] is passed over */
    setenv("AWS_PROFILE", "absent", 1);
    chain_fails(NULL, &e);
    assert_non_null(strstr(e.msg, "has no profile [absent]"));
    unsetenv("AWS_PROFILE");
    write_file(shared, "[other]\naws_access_key_id = A\naws_secret_access_key = B\n", 0600);
    /* a container endpoint that does not answer falls through to IMDS,
     * which does not answer either: both are named */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    chain_fails(NULL, &e);
    assert_non_null(strstr(e.msg,
                           "no s3 credentials: AWS_ACCESS_KEY_ID is not set; web identity: not configured; "
                           "credentials file"));
    assert_non_null(strstr(e.msg, "/shared\": no [default] profile; container endpoint \"http://127.0.0.1:"));
    assert_non_null(strstr(e.msg, "; instance metadata token at \"http://127.0.0.1:"));
    /* http:// to a host that is neither loopback nor the ECS/EKS address is refused */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    chain_fails(NULL, &e);
    assert_string_equal(e.msg,
                        "s3 credentials from the container endpoint: AWS_CONTAINER_CREDENTIALS_FULL_URI "
                        "\"http://example.com/creds\": expected https://, or http:// to a loopback "
                        "address or the ECS/EKS link-local endpoint");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds", 1);
    chain_fails(NULL, &e);
    assert_non_null(
        strstr(e.msg, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \"v2/creds\" does not start with /"));
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_mode_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_order, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
