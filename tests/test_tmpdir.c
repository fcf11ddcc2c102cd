/* test_tmpdir.c - temp dirs and file reading for the unit tests (see
 * test_tmpdir.h). */
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

#include "buf.h"
#include "test_tmpdir.h"
#include "xalloc.h"

int test_tmpdir_make(const char *name, char *dir, size_t n)
{
    const char *base = getenv("AOFROLL_TEST_TMP");

    if (base == NULL)
        base = "/tmp";
    mkdir(base, 0755);
    if ((size_t)snprintf(dir, n, "%s/%s.XXXXXX", base, name) >= n || mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

int test_tmpdir_remove(const char *dir)
{
    struct buf cmd = BUF_INIT;
    int rc;

    buf_printf(&cmd, "rm -rf '%s'", dir);
    rc = system(cmd.data);
    buf_free(&cmd);
    return rc == 0 ? 0 : -1;
}

size_t test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    if (d == NULL)
        fail_msg("cannot list %s", dir);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

int test_dir_setup(void **state, const char *name, const char *file)
{
    struct test_dir *t = xcalloc(1, sizeof(*t));

    if (test_tmpdir_make(name, t->dir, sizeof(t->dir)) < 0) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, file);
    *state = t;
    return 0;
}

int test_dir_teardown(void **state)
{
    struct test_dir *t = *state;
    int rc = test_tmpdir_remove(t->dir);

    free(t);
    return rc;
}

char *test_slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    struct buf b = BUF_INIT;
    char chunk[4096];
    size_t n;

    if (fp == NULL)
        fail_msg("cannot read %s", path);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    buf_appendstr(&b, "");
    return b.data;
}
