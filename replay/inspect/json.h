/* json.h - a small streaming JSON writer for the `--json` outputs.
 *
 * Every inspection command can print one JSON document instead of its human
 * table (field names are documented in docs/json.md). The writer keeps
 * track of nesting and commas so that callers only say what comes next:
 *
 *     json_object_begin(j);
 *     json_key(j, "chunks"); json_array_begin(j); ... json_array_end(j);
 *     json_object_end(j);
 *
 * Strings are escaped per RFC 8259. Redis keys and values are byte strings,
 * not text, so the writer never guesses an encoding: printable ASCII is
 * written as is, and every other byte (controls, 0x7f, 0x80-0xff) as the
 * escape \u00XX. A consumer gets the exact bytes back by encoding the
 * decoded string as Latin-1 (in Python: s.encode("latin-1")).
 *
 * Output goes to a buffer; with a FILE attached the buffer is flushed
 * whenever it passes JSON_FLUSH_AT bytes, so a million-chunk listing does
 * not sit in memory. Errors of the FILE are reported by json_finish(). */
#ifndef AOFROLL_JSON_H
#define AOFROLL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"
#include "inspect_fmt.h"

#define JSON_MAX_DEPTH 32
#define JSON_FLUSH_AT 65536

struct json {
    struct buf out;
    FILE *fp; /* NULL: keep everything in `out` */
    int depth;
    unsigned char count[JSON_MAX_DEPTH]; /* 1 once the level has a member */
    int after_key;                       /* a key was written, its value is next */
    int write_error;                     /* errno of a failed flush, 0 if none */
    struct fmt_utc utc;                  /* for json_time() */
};

/* fp may be NULL: then the document stays in j->out for the caller. */
void json_init(struct json *j, FILE *fp);
/* Flush what is left and a final newline; reports a failed write. */
int json_finish(struct json *j, struct err *e);
void json_free(struct json *j);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s); /* NULL writes null */
void json_string_len(struct json *j, const char *p, size_t len);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
/* A finite number with `decimals` (0-6) digits after the point; NaN/inf: null. */
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* Unix seconds as an RFC 3339 UTC string ("2026-11-20T15:12:01Z"); t <= 0: null. */
void json_time(struct json *j, int64_t t);

/* key + value in one call */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, int v);
void json_kv_time(struct json *j, const char *key, int64_t t);

/* Append p[0..len) as a quoted, escaped JSON string to b. */
void json_escape(struct buf *b, const char *p, size_t len);

#endif
