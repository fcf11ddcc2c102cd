/* replay_main.c - run a fuzz target over files without libFuzzer.
 *
 * Linked with one fuzz_NAME.c in the ordinary build (any compiler), it
 * feeds every file named on the command line, or every file in a
 * directory named there, to LLVMFuzzerTestOneInput once. ctest runs each
 * target this way over its corpus in tests/fuzz/corpus/NAME: the seeds and
 * the reproducers of everything fuzzing once found run in every build,
 * sanitized or not. Prints how many inputs ran; exits 1 when it cannot
 * read one (an oracle failure or a sanitizer report aborts before). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fuzz.h"
#include "xalloc.h"

static int replay_file(const char *path)
{
    struct buf b = BUF_INIT;
    char chunk[65536];
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (fp == NULL) {
        fprintf(stderr, "cannot open \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(&b, chunk, n);
    if (ferror(fp)) {
        fprintf(stderr, "cannot read \"%s\"\n", path);
        fclose(fp);
        buf_free(&b);
        return -1;
    }
    fclose(fp);
    /* a copy of exactly len bytes, so that ASan sees any read past the end */
    {
        uint8_t *copy = xmalloc(b.len ? b.len : 1);

        if (b.len)
            memcpy(copy, b.data, b.len);
        LLVMFuzzerTestOneInput(copy, b.len);
        free(copy);
    }
    buf_free(&b);
    return 0;
}

static int replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file in `dir`, in name order. */
static int replay_dir(const char *dir, long *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "cannot open directory \"%s\": %s\n", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = xasprintf("%s/%s", dir, de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), replay_cmp);
    for (i = 0; i < n; i++) {
        if (rc == 0 && replay_file(names[i]) < 0)
            rc = -1;
        else if (rc == 0)
            (*count)++;
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Defined by the targets that need it (fuzz_time.c); NULL elsewhere. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
    long count = 0;
    int i;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "cannot stat \"%s\": %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) < 0 : replay_file(argv[i]) < 0)
            return 1;
        if (!S_ISDIR(st.st_mode))
            count++;
    }
    printf("%s: %ld inputs ran\n", argv[0], count);
    return count > 0 ? 0 : 1;
}
