/* fuzz_s3_cred.c - libFuzzer target for the AWS credentials file
 * (common/s3_cred.c).
 *
 * The input is the file's text, written to a private memory file (mode
 * 0600, as the loader demands) and read through its /proc/self/fd path.
 * Profiles [default] and [fuzz] are read. Keys that load are non-empty
 * and carry no white space at either end. No secret leaks into a message:
 * the same file with every value blotted out must load or fail alike,
 * with the same message. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "s3_cred.h"
#include "xalloc.h"

static void check_value(const char *what, const char *v)
{
    size_t n;

    if (v == NULL)
        return;
    n = strlen(v);
    fuzz_check(n > 0, "%s is empty", what);
    fuzz_check(!isspace((unsigned char)v[0]) && !isspace((unsigned char)v[n - 1]), "%s is not trimmed", what);
}

/* The text with the value of every "key = value" line blotted out (each
 * byte but white space, NUL and ':' becomes 'Z': the loader refuses a ':'
 * in an access key and line breaks in any key), lines cut as the loader
 * cuts them: the same file to the loader but for the values. */
static uint8_t *blot_values(const uint8_t *data, size_t size)
{
    uint8_t *b = xmalloc(size ? size : 1);
    size_t i = 0;

    if (size)
        memcpy(b, data, size);
    while (i < size) {
        const uint8_t *nl = memchr(b + i, '\n', size - i);
        size_t end = nl != NULL ? (size_t)(nl - b) : size;
        size_t j = i, eq;

        while (j < end && isspace(b[j]))
            j++;
        if (j < end && b[j] != '#' && b[j] != ';' && b[j] != '[') {
            const uint8_t *q = memchr(b + j, '=', end - j);

            for (eq = q != NULL ? (size_t)(q - b) + 1 : end; eq < end; eq++)
                if (b[eq] != '\0' && b[eq] != ':' && !isspace(b[eq]))
                    b[eq] = 'Z';
        }
        i = end + 1;
    }
    return b;
}

/* Load `profile` from the text in a private memory file (mode 0600). */
static int load(const uint8_t *data, size_t size, const char *profile, struct s3_cred *c, struct err *e)
{
    char path[64];
    int fd, rc;

    fd = memfd_create("credentials", MFD_CLOEXEC);
    fuzz_check(fd >= 0, "memfd_create failed");
    fuzz_check(fchmod(fd, 0600) == 0, "fchmod failed");
    fuzz_check(size == 0 || write(fd, data, size) == (ssize_t)size, "write failed");
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    err_clear(e);
    rc = s3_cred_from_file(path, profile, c, e);
    close(fd);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const profiles[] = {"default", "fuzz"};
    uint8_t *blotted = blot_values(data, size);
    struct s3_cred c, c2;
    struct err e, e2;
    size_t i;
    int rc, rc2;

    for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
        rc = load(data, size, profiles[i], &c, &e);
        if (rc == 0) {
            check_value("the access key", c.access_key);
            check_value("the secret key", c.secret_key);
            check_value("the session token", c.session_token);
            fuzz_check(c.access_key != NULL && c.secret_key != NULL && c.source != NULL, "a key is missing");
            s3_cred_free(&c);
        } else {
            fuzz_check(e.code == ERR_CONFIG, "not a config error: %s", e.msg);
            fuzz_check(c.access_key == NULL && c.secret_key == NULL, "a failed load kept a key");
        }
        /* nothing the loader says depends on the values: no secret leaks */
        rc2 = load(blotted, size, profiles[i], &c2, &e2);
        fuzz_check(rc == rc2, "the values decide whether the file loads");
        fuzz_check(strcmp(e.msg, e2.msg) == 0, "a value shows in the message: \"%s\" vs \"%s\"", e.msg,
                   e2.msg);
        if (rc2 == 0)
            s3_cred_free(&c2);
    }
    free(blotted);
    return 0;
}
