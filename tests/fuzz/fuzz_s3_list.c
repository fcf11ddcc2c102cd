/* fuzz_s3_list.c - libFuzzer target for the S3 XML answers
 * (common/s3_wire.c): ListObjectsV2 pages, error bodies, DeleteObjects
 * results. The endpoint, or anyone between it and us, writes them.
 *
 * The input is an answer body, read as each kind. A listing page that
 * parses gives keys that are non-empty and hold no NUL, a continuation
 * token (when any) that holds no NUL either and is all of the decoded
 * element; the callback stops the walk at a point drawn from the input.
 * The keys and sizes, escaped again into a page of our own, must parse
 * back the same. Text that decodes must come back from s3_xml_escape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "s3_wire.h"
#include "xalloc.h"

struct entries {
    char **keys;
    uint64_t *sizes;
    size_t n, cap;
    size_t stop_after; /* stop the walk after this many; SIZE_MAX never */
};

static int collect(void *ud, const char *key, uint64_t size)
{
    struct entries *l = ud;

    fuzz_check(key[0] != '\0', "empty key");
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->keys = xrealloc(l->keys, l->cap * sizeof(*l->keys));
        l->sizes = xrealloc(l->sizes, l->cap * sizeof(*l->sizes));
    }
    l->keys[l->n] = xstrdup(key);
    l->sizes[l->n] = size;
    l->n++;
    return l->n >= l->stop_after;
}

static void entries_free(struct entries *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    free(l->sizes);
    memset(l, 0, sizeof(*l));
}

/* Our own page holding l's entries, parsed again. */
static void check_rebuilt(const struct entries *l, const char *token)
{
    struct buf xml = BUF_INIT;
    struct entries again;
    struct s3_list_page page;
    struct err e;
    size_t i;

    buf_appendstr(&xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>");
    for (i = 0; i < l->n; i++) {
        buf_appendstr(&xml, "<Contents><Key>");
        s3_xml_escape(&xml, l->keys[i]);
        buf_printf(&xml, "</Key><Size>%llu</Size></Contents>", (unsigned long long)l->sizes[i]);
    }
    if (token != NULL) {
        buf_appendstr(&xml, "<IsTruncated>true</IsTruncated><NextContinuationToken>");
        s3_xml_escape(&xml, token);
        buf_appendstr(&xml, "</NextContinuationToken>");
    }
    buf_appendstr(&xml, "</ListBucketResult>");
    memset(&again, 0, sizeof(again));
    again.stop_after = SIZE_MAX;
    err_clear(&e);
    if (s3_parse_list(xml.data, xml.len, "rebuilt", collect, &again, &page, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "our own page does not parse: %s\n%s", e.msg, xml.data);
    fuzz_check(again.n == l->n, "%zu entries, %zu in our page", l->n, again.n);
    for (i = 0; i < l->n; i++)
        fuzz_check(strcmp(again.keys[i], l->keys[i]) == 0 && again.sizes[i] == l->sizes[i],
                   "entry %zu changed: \"%s\" became \"%s\"", i, l->keys[i], again.keys[i]);
    fuzz_check((token == NULL) == (page.next_token == NULL) &&
                   (token == NULL || strcmp(token, page.next_token) == 0),
               "the continuation token changed");
    s3_list_page_free(&page);
    entries_free(&again);
    buf_free(&xml);
}

static void check_list(const uint8_t *data, size_t size, struct fuzz_rng *rng)
{
    struct entries l;
    struct s3_list_page page;
    struct err e;

    memset(&l, 0, sizeof(l));
    l.stop_after = fuzz_rng_below(rng, 4) == 0 ? (size_t)fuzz_rng_below(rng, 8) + 1 : SIZE_MAX;
    err_clear(&e);
    if (s3_parse_list((const char *)data, size, "fuzz", collect, &l, &page, &e) < 0) {
        fuzz_check(page.next_token == NULL, "a failed parse kept a token");
        fuzz_check(e.code == ERR_IO && strstr(e.msg, "fuzz") != NULL, "message: %s", e.msg);
        entries_free(&l);
        return;
    }
    fuzz_check(page.stopped == (l.n >= l.stop_after), "stopped flag wrong");
    if (page.next_token != NULL) {
        const char *text;
        size_t tlen;
        struct buf decoded = BUF_INIT;

        fuzz_check(s3_xml_find((const char *)data, (const char *)data + size, "NextContinuationToken", &text,
                               &tlen) == 1,
                   "a token from nowhere");
        fuzz_check(s3_xml_decode(&decoded, text, tlen) == 0, "the token's element does not decode");
        fuzz_check(decoded.len == strlen(page.next_token) &&
                       memcmp(decoded.data, page.next_token, decoded.len) == 0,
                   "the token is not the whole element (a NUL in it?)");
        buf_free(&decoded);
    }
    fuzz_check(!page.truncated || page.next_token != NULL || page.stopped, "truncated without a token");
    check_rebuilt(&l, page.next_token);
    s3_list_page_free(&page);
    entries_free(&l);
}

static void check_decode(const uint8_t *data, size_t size)
{
    struct buf out = BUF_INIT, esc = BUF_INIT, back = BUF_INIT;

    if (s3_xml_decode(&out, (const char *)data, size) == 0 &&
        memchr(out.data ? out.data : "", '\0', out.len) == NULL) {
        s3_xml_escape(&esc, out.data ? out.data : "");
        fuzz_check(memchr(esc.data ? esc.data : "", '<', esc.len) == NULL, "escaped text holds '<'");
        fuzz_check(s3_xml_decode(&back, esc.data ? esc.data : "", esc.len) == 0,
                   "escaped text does not decode");
        fuzz_check(back.len == out.len &&
                       memcmp(back.data ? back.data : "", out.data ? out.data : "", out.len) == 0,
                   "escape then decode changed the text");
    }
    buf_free(&out);
    buf_free(&esc);
    buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct s3_delete_result dr;
    struct fuzz_rng rng;
    char code[64], message[256];
    struct err e;
    char *text;

    fuzz_rng_seed(&rng, data, size);
    check_list(data, size, &rng);
    if (size > 0) {
        s3_parse_error((const char *)data, size, code, sizeof(code), message, sizeof(message));
        fuzz_check(strlen(code) < sizeof(code) && strlen(message) < sizeof(message), "error fields overflow");
    }
    err_clear(&e);
    if (s3_parse_delete_result((const char *)data, size, &dr, &e) == 0)
        fuzz_check(strlen(dr.key) < sizeof(dr.key) && strlen(dr.code) < sizeof(dr.code), "delete fields");
    check_decode(data, size);
    text = fuzz_string(data, size);
    {
        struct buf enc = BUF_INIT;
        size_t i;

        s3_uri_encode(&enc, text, (int)(size & 1));
        for (i = 0; i < enc.len; i++) {
            char c = enc.data[i];

            fuzz_check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                           strchr("-._~%/", c) != NULL,
                       "URI encoding left 0x%02x", (unsigned char)c);
        }
        buf_free(&enc);
    }
    free(text);
    return 0;
}
