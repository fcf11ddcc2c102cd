/* s3_wire.c - URI encoding and the small XML subset of the S3 API (see
 * s3_wire.h for what is read and why a search for the tags is exact). */
#include "s3_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "quote.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * URI encoding: curl_easy_escape keeps exactly SigV4's unreserved set
 * (A-Z a-z 0-9 - _ . ~) and writes %XX in upper case.
 * ---------------------------------------------------------------------- */

void s3_uri_encode(struct buf *out, const char *s, int keep_slash)
{
    while (*s != '\0') {
        size_t n = keep_slash ? strcspn(s, "/") : strlen(s);
        char *esc = n > 0 ? curl_easy_escape(NULL, s, (int)n) : NULL;

        if (n > 0 && esc == NULL) {
            fprintf(stderr, "aofroll: out of memory encoding an s3 key\n");
            abort();
        }
        if (esc != NULL)
            buf_appendstr(out, esc);
        curl_free(esc);
        s += n;
        if (*s == '/') {
            buf_append(out, "/", 1);
            s++;
        }
    }
}

/* ------------------------------------------------------------------------
 * XML text: escaping and entity decoding
 * ---------------------------------------------------------------------- */

void s3_xml_escape(struct buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            buf_appendstr(out, "&amp;");
            break;
        case '<':
            buf_appendstr(out, "&lt;");
            break;
        case '>':
            buf_appendstr(out, "&gt;");
            break;
        case '"':
            buf_appendstr(out, "&quot;");
            break;
        case '\'':
            buf_appendstr(out, "&apos;");
            break;
        default:
            buf_append(out, s, 1);
        }
    }
}

/* Decode the entity body between '&' and ';' (e.g. "amp", "#x41"). */
static int s3_xml_entity(struct buf *out, const char *s, size_t n)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    unsigned long cp = 0;
    size_t i, start;
    int base = 10;

    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (strlen(named[i].name) == n && memcmp(named[i].name, s, n) == 0) {
            buf_append(out, &named[i].c, 1);
            return 0;
        }
    }
    if (n < 2 || s[0] != '#')
        return -1;
    start = 1;
    if (s[1] == 'x') {
        base = 16;
        start = 2;
    }
    if (start >= n || n - start > 8)
        return -1;
    for (i = start; i < n; i++) {
        char c = s[i];
        int d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        cp = cp * (unsigned long)base + (unsigned long)d;
    }
    return buf_append_utf8(out, cp);
}

int s3_xml_decode(struct buf *out, const char *s, size_t n)
{
    const char *end = s + n;

    buf_reserve(out, n);
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *semi;

        if (amp == NULL) {
            buf_append(out, s, (size_t)(end - s));
            break;
        }
        buf_append(out, s, (size_t)(amp - s));
        semi = memchr(amp, ';', (size_t)(end - amp));
        if (semi == NULL || semi - amp > 12)
            return -1;
        if (s3_xml_entity(out, amp + 1, (size_t)(semi - amp - 1)) < 0)
            return -1;
        s = semi + 1;
    }
    return 0;
}

/* Decode into a fixed array, truncating; the raw text when it does not
 * decode (this is for messages only). */
static void s3_xml_decode_to(char *dst, size_t dstsz, const char *text, size_t len)
{
    struct buf b = BUF_INIT;
    size_t n;

    if (s3_xml_decode(&b, text, len) < 0) {
        buf_reset(&b);
        buf_append(&b, text, len);
    }
    n = b.len < dstsz - 1 ? b.len : dstsz - 1;
    if (n > 0)
        memcpy(dst, b.data, n);
    dst[n] = '\0';
    buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Elements
 * ---------------------------------------------------------------------- */

/* Locate the first <name>text</name> (or <name/>) in [p, end); *after
 * points past the element. */
static int s3_xml_locate(const char *p, const char *end, const char *name, const char **text, size_t *len,
                         const char **after)
{
    char open[80], close[84], empty[84];
    const char *o, *c, *x;
    size_t olen, clen, xlen;

    if (p >= end)
        return 0;
    olen = (size_t)snprintf(open, sizeof(open), "<%s>", name);
    clen = (size_t)snprintf(close, sizeof(close), "</%s>", name);
    xlen = (size_t)snprintf(empty, sizeof(empty), "<%s/>", name);
    o = memmem(p, (size_t)(end - p), open, olen);
    x = memmem(p, (size_t)(end - p), empty, xlen);
    if (x != NULL && (o == NULL || x < o)) {
        *text = x + xlen;
        *len = 0;
        *after = x + xlen;
        return 1;
    }
    if (o == NULL)
        return 0;
    o += olen;
    c = memmem(o, (size_t)(end - o), close, clen);
    if (c == NULL)
        return 0;
    *text = o;
    *len = (size_t)(c - o);
    *after = c + clen;
    return 1;
}

int s3_xml_find(const char *p, const char *end, const char *name, const char **text, size_t *len)
{
    const char *after;

    return s3_xml_locate(p, end, name, text, len, &after);
}

/* The next <name>...</name> block at or after p: its text is
 * [*inner, *inner_end) and *after points past its closing tag. */
static int s3_xml_block(const char *p, const char *end, const char *name, const char **inner,
                        const char **inner_end, const char **after)
{
    size_t len;

    if (!s3_xml_locate(p, end, name, inner, &len, after))
        return 0;
    *inner_end = *inner + len;
    return 1;
}

static int s3_parse_u64(const char *s, size_t n, uint64_t *out)
{
    char tmp[32];
    char *endp;
    unsigned long long v;

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (tmp[0] < '0' || tmp[0] > '9')
        return -1;
    errno = 0;
    v = strtoull(tmp, &endp, 10);
    if (errno != 0 || *endp != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* ------------------------------------------------------------------------
 * Documents
 * ---------------------------------------------------------------------- */

int s3_parse_list(const char *xml, size_t len, const char *what, s3_list_entry_cb cb, void *ud,
                  struct s3_list_page *page, struct err *e)
{
    const char *end = xml + len;
    const char *p = xml;
    const char *inner, *inner_end, *text;
    size_t tlen;
    struct buf key = BUF_INIT;
    int rc = -1;

    page->truncated = 0;
    page->next_token = NULL;
    page->stopped = 0;
    if (memmem(xml, len, "<ListBucketResult", strlen("<ListBucketResult")) == NULL) {
        err_set(e, ERR_IO, "listing %s: the answer is not a ListBucketResult document", what);
        goto out;
    }
    while (s3_xml_block(p, end, "Contents", &inner, &inner_end, &p)) {
        uint64_t size;

        buf_reset(&key);
        if (!s3_xml_find(inner, inner_end, "Key", &text, &tlen) || s3_xml_decode(&key, text, tlen) < 0 ||
            key.len == 0 || memchr(key.data, '\0', key.len) != NULL) {
            err_set(e, ERR_IO, "listing %s: an entry has no valid <Key>", what);
            goto out;
        }
        if (!s3_xml_find(inner, inner_end, "Size", &text, &tlen) || s3_parse_u64(text, tlen, &size) < 0) {
            char shown[QUOTE_NAME_BUFSZ];

            err_set(e, ERR_IO, "listing %s: entry %s has no valid <Size>", what,
                    quote_name(shown, sizeof(shown), key.data));
            goto out;
        }
        if (cb(ud, key.data, size) != 0) {
            page->stopped = 1;
            break;
        }
    }
    if (s3_xml_find(xml, end, "IsTruncated", &text, &tlen))
        page->truncated = tlen == 4 && memcmp(text, "true", 4) == 0;
    if (s3_xml_find(xml, end, "NextContinuationToken", &text, &tlen) && tlen > 0) {
        buf_reset(&key);
        /* sent back in the next query: whole (no NUL to cut it short) and
         * of a sane length */
        if (s3_xml_decode(&key, text, tlen) < 0 || key.len == 0 || key.len > S3_TOKEN_MAX ||
            memchr(key.data, '\0', key.len) != NULL) {
            err_set(e, ERR_IO, "listing %s: malformed <NextContinuationToken>", what);
            goto out;
        }
        page->next_token = xstrdup(key.data);
    }
    if (page->truncated && page->next_token == NULL && !page->stopped) {
        err_set(e, ERR_IO, "listing %s: truncated page without <NextContinuationToken>", what);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0)
        s3_list_page_free(page);
    buf_free(&key);
    return rc;
}

void s3_list_page_free(struct s3_list_page *page)
{
    free(page->next_token);
    page->next_token = NULL;
}

void s3_parse_error(const char *xml, size_t len, char *code, size_t codesz, char *message, size_t msgsz)
{
    const char *end = xml + len;
    const char *text;
    size_t tlen;

    code[0] = '\0';
    message[0] = '\0';
    if (xml == NULL || len == 0)
        return;
    if (s3_xml_find(xml, end, "Code", &text, &tlen))
        s3_xml_decode_to(code, codesz, text, tlen);
    if (s3_xml_find(xml, end, "Message", &text, &tlen))
        s3_xml_decode_to(message, msgsz, text, tlen);
}

int s3_parse_delete_result(const char *xml, size_t len, struct s3_delete_result *r, struct err *e)
{
    const char *end = xml + len;
    const char *p = xml;
    const char *inner, *inner_end, *text;
    size_t tlen;

    memset(r, 0, sizeof(*r));
    if (memmem(xml, len, "<DeleteResult", strlen("<DeleteResult")) == NULL)
        return err_set(e, ERR_IO, "the answer to a batch delete is not a DeleteResult document");
    while (s3_xml_block(p, end, "Error", &inner, &inner_end, &p)) {
        if (r->nerrors++ > 0)
            continue;
        if (s3_xml_find(inner, inner_end, "Key", &text, &tlen))
            s3_xml_decode_to(r->key, sizeof(r->key), text, tlen);
        if (s3_xml_find(inner, inner_end, "Code", &text, &tlen))
            s3_xml_decode_to(r->code, sizeof(r->code), text, tlen);
        if (s3_xml_find(inner, inner_end, "Message", &text, &tlen))
            s3_xml_decode_to(r->message, sizeof(r->message), text, tlen);
    }
    return 0;
}
