/* config_keys.c - aofroll-config-keys: the configuration's key list for
 * docs/config.md, printed from the tables the parser reads.
 *
 * Every configuration key is declared once, in common/config.c (name,
 * kind, default, accepted values, one line of help); config_keys_markdown()
 * prints those tables as markdown. docs/config.md carries that list between
 * the lines KEYS_BEGIN and KEYS_END below; the test config_keys_doc runs
 * --check on it, so the docs cannot drift from what the parser accepts.
 *
 *   aofroll-config-keys                 print the list
 *   aofroll-config-keys --check FILE    exit 1 when FILE's list differs
 *   aofroll-config-keys --write FILE    replace FILE's list (temp file,
 *                                       fsync, rename)
 *
 * Built with the programs, not installed: a tool for the docs. Exit
 * status 0, 1 (differs, or cannot read/write), 2 (usage). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "xalloc.h"

#define KEYS_BEGIN "<!-- config-keys: begin (aofroll-config-keys --write docs/config.md) -->\n"
#define KEYS_END "<!-- config-keys: end -->\n"
#define USAGE "usage: aofroll-config-keys [--check FILE | --write FILE]\n"

/* The markdown list, in a fresh string. */
static char *keys_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    if (fp == NULL) {
        fprintf(stderr, "aofroll-config-keys: %s\n", strerror(errno));
        exit(1);
    }
    config_keys_markdown(fp);
    fclose(fp);
    return text;
}

static int read_file(const char *path, struct buf *b, struct err *e)
{
    char chunk[8192];
    FILE *fp = fopen(path, "r");
    size_t n;
    int rv = 0;

    if (fp == NULL)
        return err_sys(e, errno, "%s: cannot read", path);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(b, chunk, n);
    if (ferror(fp))
        rv = err_sys(e, errno, "%s: cannot read", path);
    fclose(fp);
    buf_append(b, "", 1); /* a C string; len counts the NUL */
    b->len--;
    return rv;
}

/* Where the list lies in `text`: [*start, *end). */
static int find_list(const char *path, const char *text, size_t *start, size_t *end, struct err *e)
{
    const char *b = strstr(text, KEYS_BEGIN);
    const char *en = b != NULL ? strstr(b, KEYS_END) : NULL;

    if (b == NULL || en == NULL)
        return err_set(e, ERR_CORRUPT, "%s: no line \"%.*s\" followed by \"%.*s\"", path,
                       (int)strlen(KEYS_BEGIN) - 1, KEYS_BEGIN, (int)strlen(KEYS_END) - 1, KEYS_END);
    *start = (size_t)(b - text) + strlen(KEYS_BEGIN);
    *end = (size_t)(en - text);
    return 0;
}

/* 1-based line of offset `off` in text. */
static size_t line_of(const char *text, size_t off)
{
    size_t line = 1;

    for (size_t i = 0; i < off; i++)
        line += text[i] == '\n';
    return line;
}

static int check(const char *path, struct err *e)
{
    struct buf doc = BUF_INIT;
    char *want = keys_text();
    size_t start, end, i = 0, n;
    int rv = -1;

    if (read_file(path, &doc, e) != 0 || find_list(path, doc.data, &start, &end, e) != 0)
        goto out;
    n = end - start;
    while (i < n && want[i] != '\0' && doc.data[start + i] == want[i])
        i++;
    if (i == n && want[i] == '\0') {
        rv = 0;
        goto out;
    }
    err_set(e, ERR_CORRUPT,
            "%s:%zu: the configuration's key list differs from the tables in common/config.c; HINT: run "
            "aofroll-config-keys --write %s",
            path, line_of(doc.data, start + i), path);
out:
    buf_free(&doc);
    free(want);
    return rv;
}

static int write_list(const char *path, struct err *e)
{
    struct buf doc = BUF_INIT;
    char *want = keys_text();
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    size_t start, end;
    FILE *fp = NULL;
    int rv = -1;

    if (read_file(path, &doc, e) != 0 || find_list(path, doc.data, &start, &end, e) != 0)
        goto out;
    fp = fopen(tmp, "w");
    if (fp == NULL) {
        err_sys(e, errno, "%s: cannot write", tmp);
        goto out;
    }
    if (fwrite(doc.data, 1, start, fp) != start || fputs(want, fp) < 0 ||
        fwrite(doc.data + end, 1, doc.len - end, fp) != doc.len - end || fflush(fp) != 0 ||
        fsync(fileno(fp)) != 0) {
        err_sys(e, errno, "%s: cannot write", tmp);
        goto out;
    }
    if (fclose(fp) != 0) {
        fp = NULL;
        err_sys(e, errno, "%s: cannot write", tmp);
        goto out;
    }
    fp = NULL;
    if (rename(tmp, path) != 0) {
        err_sys(e, errno, "%s: cannot rename to \"%s\"", tmp, path);
        goto out;
    }
    rv = 0;
out:
    if (fp != NULL)
        fclose(fp);
    if (rv != 0)
        unlink(tmp);
    free(tmp);
    buf_free(&doc);
    free(want);
    return rv;
}

int main(int argc, char **argv)
{
    struct err e;
    char *text;

    err_clear(&e);
    if (argc == 1) {
        text = keys_text();
        fputs(text, stdout);
        free(text);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (argc != 3 || (strcmp(argv[1], "--check") != 0 && strcmp(argv[1], "--write") != 0)) {
        fputs(USAGE, stderr);
        return 2;
    }
    if ((strcmp(argv[1], "--check") == 0 ? check(argv[2], &e) : write_list(argv[2], &e)) != 0) {
        fprintf(stderr, "aofroll-config-keys: %s\n", e.msg);
        return 1;
    }
    return 0;
}
