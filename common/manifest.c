/* manifest.c - reading and writing Redis 7's AOF manifest (see manifest.h).
 *
 * The collector reads the manifest to learn which incr file Redis appends
 * to (and notices rewrites by its changes); restore writes one so that
 * redis-server loads the rebuilt directory as it is.
 *
 * The format is the one Redis 7.0's aof.c writes (getAofManifestAsString)
 * and reads (aofLoadManifestFromFile). A line is key/value pairs split by
 * the rules of sds.c's sdssplitargs(): bare words, "..." with \n \r \t \b
 * \a \xHH and \<any> escapes, '...' with \' as its only escape, a closing
 * quote followed by a space or the end of the line. Names are written in
 * sdscatrepr() quoting when sdsneedsrepr() says they need it. The checks
 * are Redis's: pairs only; "file", "seq" and "type" present (keys compared
 * case-insensitively, the last of a repeated one wins; other keys kept as
 * they are, for manifest_write_files to write back, but an empty one, which
 * Redis ignores and no manifest can write); a file name, not a
 * path; at most one base; incr seqs strictly
 * increasing. Stricter than Redis only where Redis would read garbage as
 * something else: seq must be a decimal number and type one letter. Unlike
 * Redis, blank lines are skipped as the header promises. */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * Quoting, as sds.c does it (ASCII rules: the C locale's isprint/isspace).
 * ------------------------------------------------------------------------ */

static int is_print(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Whether a name must be quoted to survive splitting: sdsneedsrepr()'s
 * rule, plus the single quote, which sdssplitargs() takes as the start of
 * a quoted string even inside a bare word ("it's" would not parse back). */
static int needs_quotes(const char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '\\' || c == '"' || c == '\'' || !is_print(c) || is_space(c))
            return 1;
    }
    return 0;
}

/* Append p as a double-quoted string (sdscatrepr). */
static void append_quoted(struct buf *b, const char *p, size_t len)
{
    size_t i;

    buf_append(b, "\"", 1);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        switch (c) {
        case '\\':
            buf_appendstr(b, "\\\\");
            break;
        case '"':
            buf_appendstr(b, "\\\"");
            break;
        case '\n':
            buf_appendstr(b, "\\n");
            break;
        case '\r':
            buf_appendstr(b, "\\r");
            break;
        case '\t':
            buf_appendstr(b, "\\t");
            break;
        case '\a':
            buf_appendstr(b, "\\a");
            break;
        case '\b':
            buf_appendstr(b, "\\b");
            break;
        default:
            if (is_print(c))
                buf_append(b, &p[i], 1);
            else
                buf_printf(b, "\\x%02x", c);
            break;
        }
    }
    buf_append(b, "\"", 1);
}

/* ------------------------------------------------------------------------
 * Reading.
 * ------------------------------------------------------------------------ */

struct tokens {
    struct buf *v;
    size_t n, cap;
};

static struct buf *tokens_new(struct tokens *t)
{
    struct buf empty = BUF_INIT;

    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->v[t->n] = empty;
    buf_append(&t->v[t->n], "", 0); /* a token is a C string, even when empty */
    return &t->v[t->n++];
}

static void tokens_free(struct tokens *t)
{
    size_t i;

    for (i = 0; i < t->n; i++)
        buf_free(&t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

/* Split one line [p, end) into tokens (sdssplitargs). On failure returns
 * -1 with a short reason in *why. */
static int split_line(const char *p, const char *end, struct tokens *t, const char **why)
{
    while (1) {
        struct buf *tok;
        int inq = 0, insq = 0, done = 0;

        while (p < end && is_space((unsigned char)*p))
            p++;
        if (p == end)
            return 0;
        tok = tokens_new(t);
        while (!done) {
            if (inq) {
                if (p == end) {
                    *why = "unbalanced quotes";
                    return -1;
                }
                if (*p == '\\' && end - p >= 4 && p[1] == 'x' && hex_value((unsigned char)p[2]) >= 0 &&
                    hex_value((unsigned char)p[3]) >= 0) {
                    char byte = (char)(hex_value((unsigned char)p[2]) * 16 + hex_value((unsigned char)p[3]));

                    buf_append(tok, &byte, 1);
                    p += 3;
                } else if (*p == '\\' && end - p >= 2) {
                    char c;

                    p++;
                    switch (*p) {
                    case 'n':
                        c = '\n';
                        break;
                    case 'r':
                        c = '\r';
                        break;
                    case 't':
                        c = '\t';
                        break;
                    case 'b':
                        c = '\b';
                        break;
                    case 'a':
                        c = '\a';
                        break;
                    default:
                        c = *p;
                        break;
                    }
                    buf_append(tok, &c, 1);
                } else if (*p == '"') {
                    if (end - p >= 2 && !is_space((unsigned char)p[1])) {
                        *why = "closing quote not followed by a space";
                        return -1;
                    }
                    done = 1;
                } else {
                    buf_append(tok, p, 1);
                }
            } else if (insq) {
                if (p == end) {
                    *why = "unbalanced quotes";
                    return -1;
                }
                if (*p == '\\' && end - p >= 2 && p[1] == '\'') {
                    buf_append(tok, "'", 1);
                    p++;
                } else if (*p == '\'') {
                    if (end - p >= 2 && !is_space((unsigned char)p[1])) {
                        *why = "closing quote not followed by a space";
                        return -1;
                    }
                    done = 1;
                } else {
                    buf_append(tok, p, 1);
                }
            } else if (p == end || *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
                done = 1;
            } else if (*p == '"') {
                inq = 1;
            } else if (*p == '\'') {
                insq = 1;
            } else {
                buf_append(tok, p, 1);
            }
            if (p < end)
                p++;
        }
    }
}

static int parse_seq(const struct buf *v, long long *seq)
{
    long long n = 0;
    size_t i;

    if (v->len == 0 || v->len > 18)
        return -1;
    for (i = 0; i < v->len; i++) {
        if (v->data[i] < '0' || v->data[i] > '9')
            return -1;
        n = n * 10 + (v->data[i] - '0');
    }
    *seq = n;
    return 0;
}

/* A copy of len bytes, NUL-terminated. */
static char *dup_bytes(const char *p, size_t len)
{
    char *d = xmalloc(len + 1);

    memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

static void file_free(struct manifest_file *f)
{
    size_t i;

    for (i = 0; i < f->nextra; i++) {
        free(f->extra[i].key);
        free(f->extra[i].value);
    }
    free(f->extra);
    free(f->name);
    f->extra = NULL;
    f->nextra = 0;
    f->name = NULL;
}

/* Keep a pair this module does not interpret. */
static void add_extra(struct manifest_file *f, const struct buf *key, const struct buf *value)
{
    struct manifest_extra *x;

    f->extra = xrealloc(f->extra, (f->nextra + 1) * sizeof(*f->extra));
    x = &f->extra[f->nextra++];
    x->key = dup_bytes(key->data, key->len);
    x->key_len = key->len;
    x->value = dup_bytes(value->data, value->len);
    x->value_len = value->len;
}

/* Fill one manifest_file from a line's tokens; on failure describe what is
 * wrong in `why` (a message fragment). */
static int parse_file_line(const struct tokens *t, struct manifest_file *f, struct buf *why)
{
    const struct buf *name = NULL, *seq = NULL, *type = NULL;
    size_t i;

    memset(f, 0, sizeof(*f));
    if (t->n % 2 != 0) {
        buf_printf(why, "odd number of words (%zu), expected key value pairs", t->n);
        return -1;
    }
    for (i = 0; i < t->n; i += 2) {
        if (strcasecmp(t->v[i].data, "file") == 0)
            name = &t->v[i + 1];
        else if (strcasecmp(t->v[i].data, "seq") == 0)
            seq = &t->v[i + 1];
        else if (strcasecmp(t->v[i].data, "type") == 0)
            type = &t->v[i + 1];
    }
    if (name == NULL || seq == NULL || type == NULL) {
        buf_printf(why, "missing \"%s\"", name == NULL ? "file" : seq == NULL ? "seq" : "type");
        return -1;
    }
    if (name->len == 0 || memchr(name->data, '\0', name->len) != NULL || memchr(name->data, '/', name->len)) {
        buf_appendstr(why, "file name ");
        append_quoted(why, name->data, name->len);
        buf_appendstr(why, name->len == 0 ? " is empty" : " is not a plain file name");
        return -1;
    }
    if (parse_seq(seq, &f->seq) < 0) {
        buf_appendstr(why, "seq ");
        append_quoted(why, seq->data, seq->len);
        buf_appendstr(why, " is not a non-negative integer");
        return -1;
    }
    if (type->len != 1 || (type->data[0] != MANIFEST_BASE && type->data[0] != MANIFEST_HISTORY &&
                           type->data[0] != MANIFEST_INCR)) {
        buf_appendstr(why, "type ");
        append_quoted(why, type->data, type->len);
        buf_appendstr(why, " is not b, h or i");
        return -1;
    }
    f->type = (enum manifest_type)type->data[0];
    f->name = xstrndup(name->data, name->len);
    for (i = 0; i < t->n; i += 2) {
        const char *k = t->v[i].data;

        /* an empty key (only "" writes one) is dropped, as Redis ignores
         * it: manifest_write_files could not write it back */
        if (t->v[i].len > 0 && strcasecmp(k, "file") != 0 && strcasecmp(k, "seq") != 0 &&
            strcasecmp(k, "type") != 0)
            add_extra(f, &t->v[i], &t->v[i + 1]);
    }
    return 0;
}

int manifest_parse(const char *name, const char *text, size_t len, struct manifest *m, struct err *e)
{
    const char *p = text, *end = text + len;
    struct tokens t = {NULL, 0, 0};
    struct buf why = BUF_INIT;
    size_t cap = 0;
    long lineno = 0, base_line = 0, incr_line = 0;
    long long incr_seq = -1;
    int rc = -1;

    m->files = NULL;
    m->nfiles = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        const char *line = p;
        const char *why_split = NULL;
        struct manifest_file f;

        lineno++;
        p = nl != NULL ? nl + 1 : end;
        if (*line == '#')
            continue;
        if (memchr(line, '\0', (size_t)(eol - line)) != NULL) {
            err_set(e, ERR_CORRUPT, "%s:%ld: invalid manifest line: NUL byte", name, lineno);
            goto out;
        }
        tokens_free(&t);
        if (split_line(line, eol, &t, &why_split) < 0) {
            err_set(e, ERR_CORRUPT, "%s:%ld: invalid manifest line: %s", name, lineno, why_split);
            goto out;
        }
        if (t.n == 0)
            continue;
        buf_reset(&why);
        if (parse_file_line(&t, &f, &why) < 0) {
            err_set(e, ERR_CORRUPT, "%s:%ld: invalid manifest line: %s", name, lineno, why.data);
            goto out;
        }
        if (m->nfiles == cap) {
            cap = cap ? cap * 2 : 8;
            m->files = xrealloc(m->files, cap * sizeof(*m->files));
        }
        m->files[m->nfiles++] = f;
        if (f.type == MANIFEST_BASE) {
            if (base_line != 0) {
                err_set(e, ERR_CORRUPT, "%s:%ld: more than one base file (the first on line %ld)", name,
                        lineno, base_line);
                goto out;
            }
            base_line = lineno;
        } else if (f.type == MANIFEST_INCR) {
            if (f.seq <= incr_seq) {
                err_set(e, ERR_CORRUPT, "%s:%ld: incr seq %lld does not follow seq %lld of line %ld", name,
                        lineno, f.seq, incr_seq, incr_line);
                goto out;
            }
            incr_seq = f.seq;
            incr_line = lineno;
        }
    }
    if (m->nfiles == 0) {
        err_set(e, ERR_CORRUPT, "%s: empty manifest: no file listed", name);
        goto out;
    }
    rc = 0;
out:
    tokens_free(&t);
    buf_free(&why);
    if (rc < 0)
        manifest_free(m);
    return rc;
}

int manifest_load(const char *path, struct manifest *m, struct err *e)
{
    struct buf text = BUF_INIT;
    int fd = -1;
    int rc = -1;

    m->files = NULL;
    m->nfiles = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_sys(e, errno, "cannot open manifest \"%s\"", path);
        goto out;
    }
    while (1) {
        ssize_t n;

        buf_reserve(&text, 4096);
        n = read(fd, text.data + text.len, text.cap - text.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_sys(e, errno, "cannot read manifest \"%s\"", path);
            goto out;
        }
        if (n == 0)
            break;
        text.len += (size_t)n;
    }
    rc = manifest_parse(path, text.data, text.len, m, e);
out:
    if (fd >= 0)
        close(fd);
    buf_free(&text);
    return rc;
}

void manifest_free(struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->nfiles; i++)
        file_free(&m->files[i]);
    free(m->files);
    m->files = NULL;
    m->nfiles = 0;
}

const struct manifest_file *manifest_base(const struct manifest *m)
{
    size_t i;

    for (i = 0; i < m->nfiles; i++)
        if (m->files[i].type == MANIFEST_BASE)
            return &m->files[i];
    return NULL;
}

const struct manifest_file *manifest_current_incr(const struct manifest *m)
{
    const struct manifest_file *cur = NULL;
    size_t i;

    for (i = 0; i < m->nfiles; i++)
        if (m->files[i].type == MANIFEST_INCR && (cur == NULL || m->files[i].seq > cur->seq))
            cur = &m->files[i];
    return cur;
}

/* ------------------------------------------------------------------------
 * Writing.
 * ------------------------------------------------------------------------ */

static int check_name(const char *path, const char *name, long long seq, struct err *e)
{
    if (name[0] == '\0' || strchr(name, '/') != NULL)
        return err_set(e, ERR_USAGE, "cannot write manifest \"%s\": \"%s\" is not a plain file name", path,
                       name);
    if (seq < 0)
        return err_set(e, ERR_USAGE, "cannot write manifest \"%s\": negative seq %lld for \"%s\"", path, seq,
                       name);
    return 0;
}

/* A word as Redis writes it: bare, or quoted when it must be (an empty
 * word too, which Redis never writes but would split into nothing). */
static void append_word(struct buf *b, const char *p, size_t len)
{
    if (len == 0 || needs_quotes(p, len))
        append_quoted(b, p, len);
    else
        buf_append(b, p, len);
}

static void append_line(struct buf *b, const struct manifest_file *f)
{
    size_t i;

    buf_appendstr(b, "file ");
    append_word(b, f->name, strlen(f->name));
    buf_printf(b, " seq %lld type %c", f->seq, (char)f->type);
    for (i = 0; i < f->nextra; i++) {
        buf_append(b, " ", 1);
        append_word(b, f->extra[i].key, f->extra[i].key_len);
        buf_append(b, " ", 1);
        append_word(b, f->extra[i].value, f->extra[i].value_len);
    }
    buf_append(b, "\n", 1);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync the directory holding `path`, so that a rename in it is durable. */
static int sync_parent(const char *path, struct err *e)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? xstrdup(".")
                : slash == path ? xstrdup("/")
                                : xstrndup(path, (size_t)(slash - path));
    int fd = -1;
    int rc = -1;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        err_sys(e, errno, "cannot open directory \"%s\"", dir);
        goto out;
    }
    if (fsync(fd) < 0) {
        err_sys(e, errno, "cannot fsync directory \"%s\"", dir);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int manifest_format_files(struct buf *out, const char *where, const struct manifest *m, struct err *e)
{
    size_t i, j;

    for (i = 0; i < m->nfiles; i++) {
        if (check_name(where, m->files[i].name, m->files[i].seq, e) < 0)
            return -1;
        for (j = 0; j < m->files[i].nextra; j++) {
            if (m->files[i].extra[j].key_len == 0)
                return err_set(e, ERR_USAGE,
                               "cannot write manifest \"%s\": an empty key on the line of \"%s\"", where,
                               m->files[i].name);
        }
        append_line(out, &m->files[i]);
    }
    return 0;
}

/* A manifest of one base (base_name NULL: none) and one incr file, in
 * files[2] (the names borrowed, not copied). */
static void manifest_two(struct manifest *m, struct manifest_file files[2], const char *base_name,
                         long long base_seq, const char *incr_name, long long incr_seq)
{
    memset(files, 0, 2 * sizeof(*files));
    m->files = files;
    m->nfiles = 0;
    if (base_name != NULL) {
        files[m->nfiles].name = (char *)base_name;
        files[m->nfiles].seq = base_seq;
        files[m->nfiles++].type = MANIFEST_BASE;
    }
    files[m->nfiles].name = (char *)incr_name;
    files[m->nfiles].seq = incr_seq;
    files[m->nfiles++].type = MANIFEST_INCR;
}

int manifest_format(struct buf *out, const char *base_name, long long base_seq, const char *incr_name,
                    long long incr_seq, struct err *e)
{
    struct manifest_file files[2];
    struct manifest m;

    manifest_two(&m, files, base_name, base_seq, incr_name, incr_seq);
    return manifest_format_files(out, "manifest", &m, e);
}

int manifest_write_files(const char *path, const struct manifest *m, struct err *e)
{
    struct buf text = BUF_INIT;
    char *tmp = NULL;
    int tmp_exists = 0;
    int fd = -1;
    int rc = -1;

    if (manifest_format_files(&text, path, m, e) < 0)
        goto out;

    tmp = xasprintf("%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        err_sys(e, errno, "cannot create \"%s\"", tmp);
        goto out;
    }
    tmp_exists = 1;
    /* as redis-server would create it (mkstemp makes it 0600) */
    if (fchmod(fd, 0644) < 0 || write_all(fd, text.data, text.len) < 0 || fsync(fd) < 0) {
        err_sys(e, errno, "cannot write \"%s\"", tmp);
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        err_sys(e, errno, "cannot write \"%s\"", tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        err_sys(e, errno, "cannot rename \"%s\" to \"%s\"", tmp, path);
        goto out;
    }
    tmp_exists = 0;
    if (sync_parent(path, e) < 0)
        goto out;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp_exists)
        unlink(tmp);
    free(tmp);
    buf_free(&text);
    return rc;
}

int manifest_write(const char *path, const char *base_name, long long base_seq, const char *incr_name,
                   long long incr_seq, struct err *e)
{
    struct manifest_file files[2];
    struct manifest m;

    manifest_two(&m, files, base_name, base_seq, incr_name, incr_seq);
    return manifest_write_files(path, &m, e);
}
