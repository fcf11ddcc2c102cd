/* manifest.h - Redis 7's AOF manifest ("appendonly.aof.manifest").
 *
 * One line per file: "file NAME seq N type b|h|i", keys in any order, the
 * name quoted as Redis quotes it (sdscatrepr style: "\"a b\"" with \n,
 * \r, \t, \a, \b, \", \\ and \xHH escapes) when it holds spaces or odd bytes.
 * Lines starting with '#' and blank lines are skipped. A malformed line is
 * ERR_CORRUPT: "FILE:LINE: what is wrong".
 *
 * Keys other than file, seq and type (Redis 8.2 adds "startoffset N
 * endoffset M" to incr lines) are kept, in their order, and written back
 * after "type" when the manifest is written. */
#ifndef AOFROLL_MANIFEST_H
#define AOFROLL_MANIFEST_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

enum manifest_type { MANIFEST_BASE = 'b', MANIFEST_HISTORY = 'h', MANIFEST_INCR = 'i' };

/* A key/value pair of a line that aofroll does not interpret. Both are
 * byte strings (NUL-terminated too, but they may hold NUL bytes). */
struct manifest_extra {
    char *key, *value;
    size_t key_len, value_len;
};

struct manifest_file {
    char *name;
    long long seq;
    enum manifest_type type;
    struct manifest_extra *extra; /* in line order; NULL when none */
    size_t nextra;
};

struct manifest {
    struct manifest_file *files; /* in file order */
    size_t nfiles;
};

/* `name` is used in error messages (the manifest's path). */
int manifest_parse(const char *name, const char *text, size_t len, struct manifest *m, struct err *e);
int manifest_load(const char *path, struct manifest *m, struct err *e);
void manifest_free(struct manifest *m);
/* The base file, or NULL when there is none. */
const struct manifest_file *manifest_base(const struct manifest *m);
/* The incr file with the highest seq (the one Redis appends to), or NULL. */
const struct manifest_file *manifest_current_incr(const struct manifest *m);
/* The text of a manifest for one base (NULL: none) and one incr file,
 * appended to out; names are quoted where splitting would change them. */
int manifest_format(struct buf *out, const char *base_name, long long base_seq, const char *incr_name,
                    long long incr_seq, struct err *e);
/* The lines of m's files, in order, each with its extra pairs, appended to
 * out; `where` names the manifest in messages. The errors of
 * manifest_write_files(). */
int manifest_format_files(struct buf *out, const char *where, const struct manifest *m, struct err *e);
/* Write m's files, in order, with their extra pairs: atomically (temp
 * file, fsync, rename, fsync of the directory), mode 0644, as Redis writes
 * it. ERR_USAGE for a name that is not a plain file name, a negative seq or
 * an empty extra key. */
int manifest_write_files(const char *path, const struct manifest *m, struct err *e);
/* Write a manifest for one base (NULL: none) and one incr file. */
int manifest_write(const char *path, const char *base_name, long long base_seq, const char *incr_name,
                   long long incr_seq, struct err *e);

#endif
