/* jsonfield.c - a strict, bounded walk over one JSON object that keeps the
 * decoded text of one top-level string member (see jsonfield.h).
 *
 * A recursive descent over RFC 8259's grammar: each function consumes one
 * production from [p, end) or fails; recursion is limited to
 * JSONFIELD_MAX_DEPTH levels so that "[[[[..." cannot exhaust the stack. */
#include "jsonfield.h"

#include <string.h>

struct jsonfield_parser {
    const char *p, *end;
    int depth;
    const char *want; /* the member name sought at depth 1 */
    size_t want_len;
    struct buf *out;
    enum jsonfield_result result;
};

static void jsonfield_ws(struct jsonfield_parser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int jsonfield_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* One \uXXXX escape (with its low surrogate when it is a high one), the
 * backslash already consumed; p is at 'u'. */
static int jsonfield_unicode(struct jsonfield_parser *jp, struct buf *dec)
{
    unsigned hi, lo;
    unsigned long cp;

    if (jp->end - jp->p < 5 || jsonfield_hex4(jp->p + 1, &hi) < 0)
        return -1;
    jp->p += 5;
    cp = hi;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return -1; /* a low surrogate alone */
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u' ||
            jsonfield_hex4(jp->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
            return -1;
        jp->p += 6;
        cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (dec != NULL && buf_append_utf8(dec, cp) < 0)
        return -1; /* a NUL inside a value we keep */
    return 0;
}

/* A string; its decoded text appended to `dec` when non-NULL. */
static int jsonfield_string(struct jsonfield_parser *jp, struct buf *dec)
{
    static const char esc_in[] = "\"\\/bfnrt";
    static const char esc_out[] = "\"\\/\b\f\n\r\t";

    if (jp->p >= jp->end || *jp->p != '"')
        return -1;
    jp->p++;
    while (jp->p < jp->end) {
        unsigned char c = (unsigned char)*jp->p;
        const char *hit;

        if (c == '"') {
            jp->p++;
            return 0;
        }
        if (c < 0x20)
            return -1; /* control characters must be escaped */
        if (c != '\\') {
            const char *run = jp->p;

            while (jp->p < jp->end && *jp->p != '"' && *jp->p != '\\' && (unsigned char)*jp->p >= 0x20)
                jp->p++;
            if (dec != NULL)
                buf_append(dec, run, (size_t)(jp->p - run));
            continue;
        }
        jp->p++;
        if (jp->p >= jp->end)
            return -1;
        if (*jp->p == 'u') {
            if (jsonfield_unicode(jp, dec) < 0)
                return -1;
            continue;
        }
        hit = memchr(esc_in, *jp->p, sizeof(esc_in) - 1);
        if (hit == NULL)
            return -1;
        if (dec != NULL)
            buf_append(dec, &esc_out[hit - esc_in], 1);
        jp->p++;
    }
    return -1; /* unterminated */
}

static int jsonfield_digits(struct jsonfield_parser *jp)
{
    const char *start = jp->p;

    while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
        jp->p++;
    return jp->p > start ? 0 : -1;
}

static int jsonfield_number(struct jsonfield_parser *jp)
{
    if (jp->p < jp->end && *jp->p == '-')
        jp->p++;
    if (jp->p < jp->end && *jp->p == '0')
        jp->p++;
    else if (jsonfield_digits(jp) < 0)
        return -1;
    if (jp->p < jp->end && *jp->p == '.') {
        jp->p++;
        if (jsonfield_digits(jp) < 0)
            return -1;
    }
    if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
        jp->p++;
        if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
            jp->p++;
        if (jsonfield_digits(jp) < 0)
            return -1;
    }
    return 0;
}

static int jsonfield_literal(struct jsonfield_parser *jp, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return -1;
    jp->p += n;
    return 0;
}

static int jsonfield_value(struct jsonfield_parser *jp, int keep);

static int jsonfield_array(struct jsonfield_parser *jp)
{
    jp->p++; /* '[' */
    jsonfield_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        return 0;
    }
    for (;;) {
        if (jsonfield_value(jp, 0) < 0)
            return -1;
        jsonfield_ws(jp);
        if (jp->p >= jp->end)
            return -1;
        if (*jp->p == ']') {
            jp->p++;
            return 0;
        }
        if (*jp->p != ',')
            return -1;
        jp->p++;
        jsonfield_ws(jp);
    }
}

/* An object; at depth 1 (the document), the member sought is kept. */
static int jsonfield_object(struct jsonfield_parser *jp)
{
    struct buf key = BUF_INIT;
    int top = jp->depth == 1, rc = -1;

    jp->p++; /* '{' */
    jsonfield_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        rc = 0;
        goto out;
    }
    for (;;) {
        int keep;

        buf_reset(&key);
        if (jsonfield_string(jp, top ? &key : NULL) < 0)
            goto out;
        keep = top && key.len == jp->want_len && (key.len == 0 || memcmp(key.data, jp->want, key.len) == 0);
        jsonfield_ws(jp);
        if (jp->p >= jp->end || *jp->p != ':')
            goto out;
        jp->p++;
        jsonfield_ws(jp);
        if (jsonfield_value(jp, keep) < 0)
            goto out;
        jsonfield_ws(jp);
        if (jp->p >= jp->end)
            goto out;
        if (*jp->p == '}') {
            jp->p++;
            rc = 0;
            goto out;
        }
        if (*jp->p != ',')
            goto out;
        jp->p++;
        jsonfield_ws(jp);
    }
out:
    buf_free(&key);
    return rc;
}

/* One value; with `keep`, a string is decoded into jp->out (replacing a
 * previous one) and any other value is noted as not a string. */
static int jsonfield_value(struct jsonfield_parser *jp, int keep)
{
    int rc;

    if (jp->p >= jp->end)
        return -1;
    if (keep && *jp->p != '"')
        jp->result = JSONFIELD_NOT_STRING;
    switch (*jp->p) {
    case '"':
        if (!keep)
            return jsonfield_string(jp, NULL);
        buf_reset(jp->out);
        if (jsonfield_string(jp, jp->out) < 0)
            return -1;
        jp->result = JSONFIELD_FOUND;
        return 0;
    case '{':
    case '[':
        if (jp->depth >= JSONFIELD_MAX_DEPTH)
            return -1;
        jp->depth++;
        rc = *jp->p == '{' ? jsonfield_object(jp) : jsonfield_array(jp);
        jp->depth--;
        return rc;
    case 't':
        return jsonfield_literal(jp, "true");
    case 'f':
        return jsonfield_literal(jp, "false");
    case 'n':
        return jsonfield_literal(jp, "null");
    default:
        return jsonfield_number(jp);
    }
}

enum jsonfield_result jsonfield_get(const char *json, size_t len, const char *name, struct buf *out)
{
    struct jsonfield_parser jp;

    memset(&jp, 0, sizeof(jp));
    jp.p = json;
    jp.end = json + len;
    jp.want = name;
    jp.want_len = strlen(name);
    jp.out = out;
    jp.result = JSONFIELD_ABSENT;
    buf_reset(out);
    if (json == NULL)
        return JSONFIELD_INVALID;
    jsonfield_ws(&jp);
    if (jp.p >= jp.end || *jp.p != '{' || jsonfield_value(&jp, 0) < 0)
        goto invalid;
    jsonfield_ws(&jp);
    if (jp.p != jp.end)
        goto invalid;
    if (jp.result == JSONFIELD_FOUND) {
        buf_append(out, "", 1); /* NUL-terminate; not counted */
        out->len--;
    } else {
        buf_reset(out);
    }
    return jp.result;
invalid:
    buf_reset(out);
    return JSONFIELD_INVALID;
}
