/* test_tmpdir.h - a fresh directory for one unit test, under
 * AOFROLL_TEST_TMP (ctest sets it to BUILD/tmp; /tmp otherwise), and the
 * whole bytes of a file it holds. Shared by the unit tests that write
 * files; not a test program itself. */
#ifndef AOFROLL_TESTS_TEST_TMPDIR_H
#define AOFROLL_TESTS_TEST_TMPDIR_H

#include <stddef.h>

/* Make "$AOFROLL_TEST_TMP/NAME.XXXXXX" into dir[0..n). 0 or -1. */
int test_tmpdir_make(const char *name, char *dir, size_t n);
/* Remove dir and everything under it. 0 or -1. */
int test_tmpdir_remove(const char *dir);
/* Entries of dir other than "." and "..". */
size_t test_count_entries(const char *dir);

/* A cmocka fixture: a fresh dir, and the path of a file `file` in it. */
struct test_dir {
    char dir[1024];
    char path[1200];
};
/* *state becomes a struct test_dir made for test `name`; 0 or -1. */
int test_dir_setup(void **state, const char *name, const char *file);
/* Remove the dir and free the fixture. */
int test_dir_teardown(void **state);

/* The file's bytes, NUL-terminated (free() them); fails the test when it
 * cannot be read. */
char *test_slurp(const char *path);

#endif
