/* test_azure_wire.c - unit tests for azure_wire.c: List Blobs pages as
 * Azure and Azurite write them, hostile and truncated pages, SAS tokens
 * (accepted forms, refusals that never show the token), block ids, and
 * which endpoints are plain http off the box (storage_cleartext). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "azure_wire.h"
#include "storage.h"
#include "xalloc.h"

struct names {
    char *name[8];
    uint64_t size[8];
    int n, stop_after;
};

static int names_cb(void *ud, const char *name, uint64_t size)
{
    struct names *l = ud;

    if (l->n < 8) {
        l->name[l->n] = xstrdup(name);
        l->size[l->n] = size;
    }
    l->n++;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static void names_free(struct names *l)
{
    int i;

    for (i = 0; i < l->n && i < 8; i++)
        free(l->name[i]);
    memset(l, 0, sizeof(*l));
}

/* As Azure answers List Blobs (version 2021-08-06), trimmed. */
static const char page[] =
    "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
    "ServiceEndpoint=\"https://acct.blob.core.windows.net/\" ContainerName=\"arch\"><Prefix>p/</Prefix>"
    "<MaxResults>5000</MaxResults><Blobs>"
    "<Blob><Name>p/inst/gen-000001/base/0-10.rdb.gz</Name><Properties><Creation-Time>Mon, 07 Dec 2026 "
    "12:00:00 GMT</Creation-Time><Content-Length>10</Content-Length><Content-Type>application/octet-stream"
    "</Content-Type><BlobType>BlockBlob</BlobType></Properties><OrMetadata /></Blob>"
    "<Blob><Name>p/odd/a&amp;b&lt;c&gt;d&quot;e&apos;f &#233;</Name><Properties><Content-Length>0"
    "</Content-Length></Properties></Blob>"
    "</"
    "Blobs><NextMarker>2!84!"
    "MDAwMDE5IXAvb2RkL2EmYjxjPmQiZSdmIMOpITAwMDAyOCE5OTk5LTEyLTMxVDIzOjU5OjU5Ljk5OTk5OTlaIQ--"
    "</NextMarker></EnumerationResults>";

static void test_list_page(void **state)
{
    struct azure_list_page pg;
    struct names l = {0};
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(azure_parse_list(page, strlen(page), "\"azure://acct/arch/p/\"", names_cb, &l, &pg, &e),
                     0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.name[0], "p/inst/gen-000001/base/0-10.rdb.gz");
    assert_int_equal(l.size[0], 10);
    assert_string_equal(l.name[1], "p/odd/a&b<c>d\"e'f \xc3\xa9");
    assert_int_equal(l.size[1], 0);
    assert_string_equal(
        pg.next_marker,
        "2!84!MDAwMDE5IXAvb2RkL2EmYjxjPmQiZSdmIMOpITAwMDAyOCE5OTk5LTEyLTMxVDIzOjU5OjU5Ljk5OTk5OTlaIQ--");
    assert_int_equal(pg.stopped, 0);
    azure_list_page_free(&pg);
    names_free(&l);
    /* stopped by the callback */
    l.stop_after = 1;
    assert_int_equal(azure_parse_list(page, strlen(page), "x", names_cb, &l, &pg, &e), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(pg.stopped, 1);
    azure_list_page_free(&pg);
    names_free(&l);
}

static void test_list_last_and_empty(void **state)
{
    static const char *const last[] = {
        "<?xml version=\"1.0\"?><EnumerationResults><Blobs /><NextMarker /></EnumerationResults>",
        "<EnumerationResults><Blobs></Blobs><NextMarker/></EnumerationResults>",
        "<EnumerationResults><Blobs></Blobs><NextMarker></NextMarker></EnumerationResults>",
        "<EnumerationResults><Blobs></Blobs></EnumerationResults>",
    };
    struct azure_list_page pg;
    struct names l = {0};
    struct err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(last) / sizeof(last[0]); i++) {
        assert_int_equal(azure_parse_list(last[i], strlen(last[i]), "x", names_cb, &l, &pg, &e), 0);
        assert_int_equal(l.n, 0);
        assert_null(pg.next_marker);
    }
}

static void test_list_hostile(void **state)
{
    static const struct {
        const char *xml, *msg;
    } bad[] = {
        {"<Error><Code>AuthenticationFailed</Code></Error>",
         "listing W: the answer is not a whole EnumerationResults document"},
        {"<EnumerationResults><Blobs><Blob><Properties><Content-Length>1</Content-Length></Properties></"
         "Blob></Blobs></EnumerationResults>",
         "listing W: an entry has no valid <Name>"},
        {"<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">a%00b</Name><Properties><Content-Length>1"
         "</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
         "listing W: an entry has no valid <Name>"},
        {"<EnumerationResults><Blobs><Blob><Name>a&#0;b</Name></Blob></Blobs></EnumerationResults>",
         "listing W: an entry has no valid <Name>"},
        {"<EnumerationResults><Blobs><Blob><Name>a&bogus;</Name></Blob></Blobs></EnumerationResults>",
         "listing W: an entry has no valid <Name>"},
        {"<EnumerationResults><Blobs><Blob><Name></Name></Blob></Blobs></EnumerationResults>",
         "listing W: an entry has no valid <Name>"},
        {"<EnumerationResults><Blobs><Blob><Name>k</Name><Properties><Content-Length>-1</Content-Length>"
         "</Properties></Blob></Blobs></EnumerationResults>",
         "listing W: entry \"k\" has no valid <Content-Length>"},
        {"<EnumerationResults><Blobs><Blob><Name>k</Name><Properties><Content-Length>99999999999999999999"
         "</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
         "listing W: entry \"k\" has no valid <Content-Length>"},
        {"<EnumerationResults><Blobs><Blob><Name>k</Name><Content-Length>5</Content-Length></Blob></Blobs></"
         "EnumerationResults>",
         "listing W: entry \"k\" has no valid <Content-Length>"},
        {"<EnumerationResults><Blobs><Blob><Name>k</Name><Properties><Content-Length>5</Content-Length>",
         "listing W: the answer is not a whole EnumerationResults document"},
        {"<EnumerationResults><NextMarker>a&#0;</NextMarker></EnumerationResults>",
         "listing W: malformed <NextMarker>"},
    };
    struct azure_list_page pg;
    struct names l = {0};
    struct err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t len = strlen(bad[i].xml);
        char *copy = xmalloc(len);

        memcpy(copy, bad[i].xml, len); /* no NUL after it: ASan sees reads past the end */
        err_clear(&e);
        if (azure_parse_list(copy, len, "W", names_cb, &l, &pg, &e) != -1) {
            free(copy);
            fail_msg("accepted: %s", bad[i].xml);
        }
        assert_string_equal(e.msg, bad[i].msg);
        assert_null(pg.next_marker);
        free(copy);
        names_free(&l);
    }
    /* every truncation of a good page is refused, before or after its entries */
    for (i = 0; i < strlen(page) - strlen("</EnumerationResults>") + 1; i++) {
        char *copy = xmalloc(i + 1);

        memcpy(copy, page, i);
        err_clear(&e);
        assert_int_equal(azure_parse_list(copy, i, "W", names_cb, &l, &pg, &e), -1);
        assert_true(l.n <= 2);
        free(copy);
        names_free(&l);
    }
}

#define SIG "sig=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA%3D%3D"

static void test_sas(void **state)
{
    struct azure_sas sas;
    struct err e;

    (void)state;
    err_clear(&e);
    assert_int_equal(
        azure_sas_parse("  ?sv=2021-08-06&ss=b&srt=co&sp=racwdl&se=2027-01-01T00%3A00%3A00Z&st=2026-"
                        "01-01T00:00:00Z&spr=https,http&" SIG "\n",
                        "AZURE_STORAGE_SAS_TOKEN", &sas, &e),
        0);
    assert_string_equal(sas.token,
                        "sv=2021-08-06&ss=b&srt=co&sp=racwdl&se=2027-01-01T00%3A00%3A00Z&st=2026-01-01T00:"
                        "00:00Z&spr=https,http&" SIG);
    assert_string_equal(sas.expiry, "2027-01-01T00:00:00Z");
    assert_string_equal(sas.perms, "racwdl");
    azure_sas_free(&sas);
    assert_null(sas.token);
    /* no expiry, no permissions: still a SAS (a stored access policy holds them) */
    assert_int_equal(azure_sas_parse("si=policy&sr=c&" SIG, "F", &sas, &e), 0);
    assert_string_equal(sas.expiry, "");
    assert_string_equal(sas.perms, "");
    azure_sas_free(&sas);

    assert_int_equal(azure_sas_parse(" \n", "F", &sas, &e), -1);
    assert_string_equal(e.msg, "the azure SAS token from F is empty");
    assert_int_equal(azure_sas_parse("sv=2021&sp=r&se=x", "F", &sas, &e), -1);
    assert_string_equal(e.msg, "the azure SAS token from F has no signature (sig=): is it a SAS token?");
    assert_int_equal(azure_sas_parse("sp=r&" SIG "\nHost: evil", "F", &sas, &e), -1);
    assert_null(strstr(e.msg, "Zm9v"));
    assert_non_null(strstr(e.msg, "holds characters a SAS token never has"));
    assert_int_equal(azure_sas_parse("sp=r&" SIG "#frag", "F", &sas, &e), -1);
    assert_null(sas.token);
}

static void test_blocks(void **state)
{
    struct buf b = BUF_INIT;
    char id0[48], id1[48], big[48];

    (void)state;
    azure_block_id(0, id0);
    azure_block_id(1, id1);
    azure_block_id(49999, big);
    assert_int_equal(strlen(id0), 44);
    assert_int_equal(strlen(big), 44);
    assert_string_not_equal(id0, id1);
    assert_string_equal(id0, "YW9mcm9sbC1ibG9jay0wMDAwMDAwMDAwMDAwMDAwMDA=");
    azure_block_list(&b, 2);
    buf_append(&b, "", 1);
    assert_string_equal(b.data, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList><Latest>"
                                "YW9mcm9sbC1ibG9jay0wMDAwMDAwMDAwMDAwMDAwMDA=</Latest><Latest>"
                                "YW9mcm9sbC1ibG9jay0wMDAwMDAwMDAwMDAwMDAwMDE=</Latest></BlockList>");
    buf_free(&b);
}

static int cleartext(const char *endpoint, char *why, size_t n)
{
    struct config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.storage_url = "azure://acct/arch/p";
    cfg.azure.endpoint = (char *)endpoint;
    why[0] = '\0';
    return storage_cleartext(&cfg, why, n);
}

static void test_cleartext_endpoint(void **state)
{
    char why[512];

    (void)state;
    assert_int_equal(cleartext("http://azure.example.com/acct", why, sizeof(why)), 1);
    assert_string_equal(
        why, "storage.azure.endpoint \"http://azure.example.com/acct\" is plain http: the SAS "
             "token, the chunks and the index copy cross the network unencrypted. HINT: use https://");
    assert_int_equal(cleartext("HTTP://10.1.2.3:10000/devstoreaccount1", why, sizeof(why)), 1);
    assert_int_equal(cleartext("http://127.0.0.1:10000/devstoreaccount1", why, sizeof(why)), 0);
    assert_int_equal(cleartext("http://localhost:10000/devstoreaccount1", why, sizeof(why)), 0);
    assert_int_equal(cleartext("https://acct.blob.core.chinacloudapi.cn", why, sizeof(why)), 0);
    assert_int_equal(cleartext(NULL, why, sizeof(why)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_page),    cmocka_unit_test(test_list_last_and_empty),
        cmocka_unit_test(test_list_hostile), cmocka_unit_test(test_sas),
        cmocka_unit_test(test_blocks),       cmocka_unit_test(test_cleartext_endpoint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
