/* test_s3_wire.c - unit tests for s3_wire.c: URI encoding as SigV4 wants
 * it, XML entity decoding, and the three S3 answers the backend reads
 * (ListObjectsV2 pages, error bodies, DeleteObjects results); and which
 * s3 endpoints are plain http off the box (storage_cleartext). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "s3_wire.h"
#include "storage.h"
#include "xalloc.h"

static void test_uri_encode(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    s3_uri_encode(&b, "inst/gen-000001/base/0-1_2.rdb.gz~", 1);
    assert_string_equal(b.data, "inst/gen-000001/base/0-1_2.rdb.gz~");
    buf_reset(&b);
    s3_uri_encode(&b, "a/b c+d&e=f%g", 1);
    assert_string_equal(b.data, "a/b%20c%2Bd%26e%3Df%25g");
    buf_reset(&b);
    /* query values: '/' is encoded too */
    s3_uri_encode(&b, "inst/gen-", 0);
    assert_string_equal(b.data, "inst%2Fgen-");
    buf_reset(&b);
    /* UTF-8 bytes, upper-case hex */
    s3_uri_encode(&b, "\xc3\xa9/\xff", 1);
    assert_string_equal(b.data, "%C3%A9/%FF");
    buf_reset(&b);
    /* empty segments are kept */
    s3_uri_encode(&b, "/a//b/", 1);
    assert_string_equal(b.data, "/a//b/");
    buf_free(&b);
}

static void test_xml_escape(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    s3_xml_escape(&b, "a&b<c>d\"e'f");
    assert_string_equal(b.data, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    buf_free(&b);
}

static void test_xml_decode(void **state)
{
    static const char text[] = "a&amp;b&lt;c&gt;d&quot;e&apos;f&#65;&#x42;&#xe9;&#x1F600;";
    struct buf b = BUF_INIT;

    (void)state;
    assert_int_equal(s3_xml_decode(&b, text, strlen(text)), 0);
    assert_string_equal(b.data, "a&b<c>d\"e'fAB\xc3\xa9\xf0\x9f\x98\x80");
    buf_free(&b);
    /* escape then decode is the identity */
    s3_xml_escape(&b, "k&<>\"'x");
    {
        struct buf d = BUF_INIT;

        assert_int_equal(s3_xml_decode(&d, b.data, b.len), 0);
        assert_string_equal(d.data, "k&<>\"'x");
        buf_free(&d);
    }
    buf_free(&b);
}

static void test_xml_decode_rejects(void **state)
{
    static const char *const bad[] = {"a&b",      "&unknown;",  "&#;",    "&#x;", "&#0;",
                                      "&#xD800;", "&#x110000;", "&#12a;", "&amp"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct buf b = BUF_INIT;

        if (s3_xml_decode(&b, bad[i], strlen(bad[i])) != -1)
            fail_msg("\"%s\" decoded", bad[i]);
        buf_free(&b);
    }
}

static void test_xml_find(void **state)
{
    static const char doc[] = "<A><Key>k1</Key><Empty/><Key>k2</Key></A>";
    const char *text;
    size_t len;

    (void)state;
    assert_int_equal(s3_xml_find(doc, doc + strlen(doc), "Key", &text, &len), 1);
    assert_int_equal(len, 2);
    assert_memory_equal(text, "k1", 2);
    assert_int_equal(s3_xml_find(doc, doc + strlen(doc), "Empty", &text, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(s3_xml_find(doc, doc + strlen(doc), "Missing", &text, &len), 0);
    /* an element cut off by the end of the range is absent */
    assert_int_equal(s3_xml_find(doc, doc + 12, "Key", &text, &len), 0);
}

struct seen {
    char keys[8][128];
    uint64_t sizes[8];
    int n;
    int stop_after;
};

static int seen_cb(void *ud, const char *key, uint64_t size)
{
    struct seen *s = ud;

    snprintf(s->keys[s->n], sizeof(s->keys[s->n]), "%s", key);
    s->sizes[s->n] = size;
    s->n++;
    return s->stop_after != 0 && s->n >= s->stop_after;
}

/* As AWS writes it, with a key that needs every entity. */
static const char list_page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
    "<Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken>"
    "<Contents><Key>p/a&amp;b&lt;c&gt;&quot;&apos;</Key><LastModified>2026-11-21T10:00:00.000Z</LastModified>"
    "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1</Size>"
    "<StorageClass>STANDARD</StorageClass>"
    "</Contents>"
    "<Contents><Key>p/inst/gen-000001/base/00000000000000000000-00000000004194304.rdb.gz</Key>"
    "<Size>18446744073709551615</Size></Contents>"
    "<Contents><Size>0</Size><Key>p/z</Key></Contents>"
    "</ListBucketResult>";

static void test_parse_list(void **state)
{
    struct s3_list_page page;
    struct seen s = {0};
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(s3_parse_list(list_page, strlen(list_page), "\"s3://b/p/\"", seen_cb, &s, &page, &e), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "p/a&b<c>\"'");
    assert_int_equal(s.sizes[0], 1);
    assert_string_equal(s.keys[1], "p/inst/gen-000001/base/00000000000000000000-00000000004194304.rdb.gz");
    assert_true(s.sizes[1] == UINT64_MAX);
    assert_string_equal(s.keys[2], "p/z");
    assert_int_equal(s.sizes[2], 0);
    assert_int_equal(page.truncated, 1);
    assert_int_equal(page.stopped, 0);
    assert_string_equal(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x");
    s3_list_page_free(&page);
}

static void test_parse_list_stop_and_last_page(void **state)
{
    static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>"
                               "</ListBucketResult>";
    struct s3_list_page page;
    struct seen s = {0};
    struct err e;

    (void)state;
    s.stop_after = 1;
    assert_int_equal(s3_parse_list(list_page, strlen(list_page), "x", seen_cb, &s, &page, &e), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(page.stopped, 1);
    s3_list_page_free(&page);
    memset(&s, 0, sizeof(s));
    assert_int_equal(s3_parse_list(last, strlen(last), "x", seen_cb, &s, &page, &e), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(page.truncated, 0);
    assert_null(page.next_token);
}

static void test_parse_list_errors(void **state)
{
    static const char not_list[] = "<Error><Code>AccessDenied</Code></Error>";
    static const char no_size[] = "<ListBucketResult><Contents><Key>k</Key></Contents></ListBucketResult>";
    static const char bad_size[] = "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents>"
                                   "</ListBucketResult>";
    static const char bad_key[] = "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents>"
                                  "</ListBucketResult>";
    static const char no_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    static const char nul_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                                    "<NextContinuationToken>a\0b</NextContinuationToken></ListBucketResult>";
    struct s3_list_page page;
    struct seen s = {0};
    struct err e;

    (void)state;
    assert_int_equal(s3_parse_list(not_list, strlen(not_list), "\"s3://b/\"", seen_cb, &s, &page, &e), -1);
    assert_string_equal(e.msg, "listing \"s3://b/\": the answer is not a ListBucketResult document");
    assert_int_equal(s3_parse_list(no_size, strlen(no_size), "\"s3://b/\"", seen_cb, &s, &page, &e), -1);
    assert_string_equal(e.msg, "listing \"s3://b/\": entry \"k\" has no valid <Size>");
    assert_int_equal(s3_parse_list(bad_size, strlen(bad_size), "\"s3://b/\"", seen_cb, &s, &page, &e), -1);
    assert_string_equal(e.msg, "listing \"s3://b/\": entry \"k\" has no valid <Size>");
    assert_int_equal(s3_parse_list(bad_key, strlen(bad_key), "\"s3://b/\"", seen_cb, &s, &page, &e), -1);
    assert_string_equal(e.msg, "listing \"s3://b/\": an entry has no valid <Key>");
    assert_int_equal(s3_parse_list(no_token, strlen(no_token), "\"s3://b/\"", seen_cb, &s, &page, &e), -1);
    assert_string_equal(e.msg, "listing \"s3://b/\": truncated page without <NextContinuationToken>");
    assert_null(page.next_token);
    assert_int_equal(s.n, 0);
    /* a token that cannot go back whole: a NUL byte, or absurdly long */
    assert_int_equal(s3_parse_list(nul_token, sizeof(nul_token) - 1, "\"s3://b/\"", seen_cb, &s, &page, &e),
                     -1);
    assert_string_equal(e.msg, "listing \"s3://b/\": malformed <NextContinuationToken>");
    assert_null(page.next_token);
    {
        struct buf long_token = BUF_INIT;
        size_t i;

        buf_appendstr(&long_token,
                      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>");
        for (i = 0; i <= S3_TOKEN_MAX; i++)
            buf_appendstr(&long_token, "x");
        buf_appendstr(&long_token, "</NextContinuationToken></ListBucketResult>");
        assert_int_equal(
            s3_parse_list(long_token.data, long_token.len, "\"s3://b/\"", seen_cb, &s, &page, &e), -1);
        assert_string_equal(e.msg, "listing \"s3://b/\": malformed <NextContinuationToken>");
        buf_free(&long_token);
    }
}

static void test_parse_error(void **state)
{
    static const char body[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
        "<Message>The request signature we calculated does not match &amp; more</Message>"
        "<StringToSign>AWS4-HMAC-SHA256</StringToSign></Error>";
    char code[64], message[32];

    (void)state;
    s3_parse_error(body, strlen(body), code, sizeof(code), message, sizeof(message));
    assert_string_equal(code, "SignatureDoesNotMatch");
    /* truncated to fit */
    assert_string_equal(message, "The request signature we calcul");
    s3_parse_error(NULL, 0, code, sizeof(code), message, sizeof(message));
    assert_string_equal(code, "");
    assert_string_equal(message, "");
    s3_parse_error("<html>503</html>", 16, code, sizeof(code), message, sizeof(message));
    assert_string_equal(code, "");
}

static void test_parse_delete_result(void **state)
{
    static const char ok[] =
        "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></DeleteResult>";
    static const char errs[] =
        "<DeleteResult><Deleted><Key>p/ok</Key></Deleted>"
        "<Error><Key>p/a&amp;b</Key><Code>AccessDenied</Code><Message>Access Denied</Message>"
        "</Error><Error><Key>p/c</Key><Code>InternalError</Code></Error></DeleteResult>";
    struct s3_delete_result r;
    struct err e;

    (void)state;
    assert_int_equal(s3_parse_delete_result(ok, strlen(ok), &r, &e), 0);
    assert_int_equal(r.nerrors, 0);
    assert_int_equal(s3_parse_delete_result(errs, strlen(errs), &r, &e), 0);
    assert_int_equal(r.nerrors, 2);
    assert_string_equal(r.key, "p/a&b");
    assert_string_equal(r.code, "AccessDenied");
    assert_string_equal(r.message, "Access Denied");
    assert_int_equal(s3_parse_delete_result("<Error/>", 8, &r, &e), -1);
    assert_string_equal(e.msg, "the answer to a batch delete is not a DeleteResult document");
}

static int cleartext(const char *url, const char *endpoint, char *why, size_t n)
{
    struct config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.storage_url = (char *)url;
    cfg.s3.endpoint = (char *)endpoint;
    why[0] = '\0';
    return storage_cleartext(&cfg, why, n);
}

static void test_cleartext_endpoint(void **state)
{
    char why[512];

    (void)state;
    assert_int_equal(cleartext("s3://b/p", "http://10.1.2.3:9000", why, sizeof(why)), 1);
    assert_non_null(strstr(why, "storage.s3.endpoint \"http://10.1.2.3:9000\" is plain http"));
    assert_int_equal(cleartext("s3://b/p", "HTTP://minio.example.com", why, sizeof(why)), 1);
    assert_non_null(strstr(why, "\"http://minio.example.com\""));
    /* loopback, https, the AWS default and other backends: no warning */
    assert_int_equal(cleartext("s3://b/p", "http://127.0.0.1:9000", why, sizeof(why)), 0);
    assert_int_equal(cleartext("s3://b/p", "http://127.8.9.10", why, sizeof(why)), 0);
    assert_int_equal(cleartext("s3://b/p", "http://localhost:9000", why, sizeof(why)), 0);
    assert_int_equal(cleartext("s3://b/p", "http://[::1]:9000", why, sizeof(why)), 0);
    assert_int_equal(cleartext("s3://b/p", "https://10.1.2.3", why, sizeof(why)), 0);
    assert_int_equal(cleartext("s3://b/p", "minio.example.com:9000", why, sizeof(why)), 0);
    assert_int_equal(cleartext("s3://b/p", NULL, why, sizeof(why)), 0);
    assert_int_equal(cleartext("sftp://h/p", "http://10.1.2.3", why, sizeof(why)), 0);
    assert_int_equal(cleartext("file:///a", NULL, why, sizeof(why)), 0);
    assert_string_equal(why, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_xml_escape),
        cmocka_unit_test(test_xml_decode),
        cmocka_unit_test(test_xml_decode_rejects),
        cmocka_unit_test(test_xml_find),
        cmocka_unit_test(test_parse_list),
        cmocka_unit_test(test_parse_list_stop_and_last_page),
        cmocka_unit_test(test_parse_list_errors),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_parse_delete_result),
        cmocka_unit_test(test_cleartext_endpoint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
