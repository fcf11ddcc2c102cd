/* json.c - streaming JSON writer (see json.h). */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_fmt.h"

void json_init(struct json *j, FILE *fp)
{
    memset(j, 0, sizeof(*j));
    j->fp = fp;
    fmt_utc_init(&j->utc);
}

static void json_flush(struct json *j)
{
    if (j->fp == NULL || j->out.len == 0)
        return;
    if (j->write_error == 0 && fwrite(j->out.data, 1, j->out.len, j->fp) != j->out.len)
        j->write_error = errno != 0 ? errno : EIO;
    buf_reset(&j->out);
}

int json_finish(struct json *j, struct err *e)
{
    buf_append(&j->out, "\n", 1);
    json_flush(j);
    if (j->fp != NULL && j->write_error == 0 && fflush(j->fp) != 0)
        j->write_error = errno != 0 ? errno : EIO;
    if (j->write_error != 0)
        return err_sys(e, j->write_error, "cannot write the json output");
    return 0;
}

void json_free(struct json *j)
{
    buf_free(&j->out);
}

/* Bytes that go into a JSON string as they are. */
static int json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Append n bytes to b with no per-call overhead beyond one reserve. */
static void json_put(struct buf *b, const char *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Comma and bookkeeping before any value or key. */
static void json_before_value(struct json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->count[j->depth - 1])
            json_put(&j->out, ",", 1);
        j->count[j->depth - 1] = 1;
    }
}

static void json_after_value(struct json *j)
{
    if (j->out.len >= JSON_FLUSH_AT)
        json_flush(j);
}

static void json_open(struct json *j, char c)
{
    if (j->depth >= JSON_MAX_DEPTH) {
        /* the documents aofroll writes are a few levels deep: a bug */
        fprintf(stderr, "aofroll: json nesting deeper than %d\n", JSON_MAX_DEPTH);
        abort();
    }
    json_before_value(j);
    buf_append(&j->out, &c, 1);
    j->count[j->depth] = 0;
    j->depth++;
}

static void json_close(struct json *j, char c)
{
    if (j->depth > 0)
        j->depth--;
    buf_append(&j->out, &c, 1);
    json_after_value(j);
}

void json_object_begin(struct json *j)
{
    json_open(j, '{');
}

void json_object_end(struct json *j)
{
    json_close(j, '}');
}

void json_array_begin(struct json *j)
{
    json_open(j, '[');
}

void json_array_end(struct json *j)
{
    json_close(j, ']');
}

void json_escape(struct buf *b, const char *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)p;
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};
    size_t i, run = 0;
    char *d;

    /* the common case, nothing to escape: one copy */
    for (i = 0; i < len && json_plain(s[i]); i++)
        ;
    if (i == len) {
        buf_reserve(b, len + 2);
        d = b->data + b->len;
        d[0] = '"';
        memcpy(d + 1, p, len);
        d[len + 1] = '"';
        b->len += len + 2;
        b->data[b->len] = '\0';
        return;
    }
    buf_reserve(b, len + 2);
    json_put(b, "\"", 1);
    for (i = 0; i < len; i++) {
        unsigned char c = s[i];
        const char *rep;
        size_t replen = 2;

        if (json_plain(c)) {
            run++;
            continue;
        }
        switch (c) {
        case '"':
            rep = "\\\"";
            break;
        case '\\':
            rep = "\\\\";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        case '\b':
            rep = "\\b";
            break;
        case '\f':
            rep = "\\f";
            break;
        default:
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            rep = esc;
            replen = 6;
            break;
        }
        json_put(b, p + i - run, run);
        run = 0;
        json_put(b, rep, replen);
    }
    json_put(b, p + len - run, run);
    json_put(b, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
    json_before_value(j);
    json_escape(&j->out, key, strlen(key));
    json_put(&j->out, ":", 1);
    j->after_key = 1;
}

void json_string_len(struct json *j, const char *p, size_t len)
{
    json_before_value(j);
    json_escape(&j->out, p, len);
    json_after_value(j);
}

void json_string(struct json *j, const char *s)
{
    if (s == NULL)
        json_null(j);
    else
        json_string_len(j, s, strlen(s));
}

void json_int(struct json *j, int64_t v)
{
    json_before_value(j);
    fmt_i64(&j->out, v, 0);
    json_after_value(j);
}

void json_uint(struct json *j, uint64_t v)
{
    json_before_value(j);
    fmt_u64(&j->out, v, 0);
    json_after_value(j);
}

void json_double(struct json *j, double v, int decimals)
{
    if (!isfinite(v)) {
        json_null(j);
        return;
    }
    json_before_value(j);
    fmt_fixed(&j->out, v, decimals, 0);
    json_after_value(j);
}

void json_bool(struct json *j, int v)
{
    json_before_value(j);
    buf_appendstr(&j->out, v ? "true" : "false");
    json_after_value(j);
}

void json_null(struct json *j)
{
    json_before_value(j);
    buf_appendstr(&j->out, "null");
    json_after_value(j);
}

void json_time(struct json *j, int64_t t)
{
    if (t <= 0) {
        json_null(j);
        return;
    }
    json_before_value(j);
    buf_append(&j->out, "\"", 1);
    fmt_utc(&j->utc, &j->out, t);
    buf_append(&j->out, "\"", 1);
    json_after_value(j);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_string(j, s);
}

void json_kv_int(struct json *j, const char *key, int64_t v)
{
    json_key(j, key);
    json_int(j, v);
}

void json_kv_uint(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_uint(j, v);
}

void json_kv_bool(struct json *j, const char *key, int v)
{
    json_key(j, key);
    json_bool(j, v);
}

void json_kv_time(struct json *j, const char *key, int64_t t)
{
    json_key(j, key);
    json_time(j, t);
}
