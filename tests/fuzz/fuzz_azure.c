/* fuzz_azure.c - libFuzzer target for Azure Blob storage's answers and
 * SAS tokens (common/azure_wire.c).
 *
 * The input is read as a List Blobs page and as a SAS token. A page that
 * parses gives names that are non-empty and hold no NUL, a marker (when
 * any) without NUL either; the callback stops the walk at a point drawn
 * from the input; the names and sizes escaped into a page of our own parse
 * back the same. A SAS token that is accepted holds only the characters a
 * token may hold and carries a signature, and its expiry and permissions
 * are printable; one that is refused is refused with one of the loader's
 * fixed messages, never showing any of the token. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azure_wire.h"
#include "buf.h"
#include "fuzz.h"
#include "s3_wire.h"
#include "xalloc.h"

struct names {
    char **v;
    uint64_t *sizes;
    size_t n, cap, stop_after;
};

static int collect(void *ud, const char *name, uint64_t size)
{
    struct names *l = ud;

    fuzz_check(name[0] != '\0', "empty name");
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        l->sizes = xrealloc(l->sizes, l->cap * sizeof(*l->sizes));
    }
    l->v[l->n] = xstrdup(name);
    l->sizes[l->n++] = size;
    return l->n >= l->stop_after;
}

static void names_free(struct names *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->sizes);
    memset(l, 0, sizeof(*l));
}

static void check_rebuilt(const struct names *l, const char *marker)
{
    struct buf xml = BUF_INIT;
    struct names again;
    struct azure_list_page page;
    struct err e;
    size_t i;

    buf_appendstr(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>");
    for (i = 0; i < l->n; i++) {
        buf_appendstr(&xml, "<Blob><Name>");
        s3_xml_escape(&xml, l->v[i]);
        buf_printf(&xml, "</Name><Properties><Content-Length>%llu</Content-Length></Properties></Blob>",
                   (unsigned long long)l->sizes[i]);
    }
    buf_appendstr(&xml, "</Blobs>");
    if (marker != NULL) {
        buf_appendstr(&xml, "<NextMarker>");
        s3_xml_escape(&xml, marker);
        buf_appendstr(&xml, "</NextMarker>");
    }
    buf_appendstr(&xml, "</EnumerationResults>");
    memset(&again, 0, sizeof(again));
    again.stop_after = SIZE_MAX;
    err_clear(&e);
    if (azure_parse_list(xml.data, xml.len, "rebuilt", collect, &again, &page, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "our own page does not parse: %s\n%s", e.msg, xml.data);
    fuzz_check(again.n == l->n, "%zu names, %zu in our page", l->n, again.n);
    for (i = 0; i < l->n; i++)
        fuzz_check(strcmp(again.v[i], l->v[i]) == 0 && again.sizes[i] == l->sizes[i], "entry %zu changed", i);
    fuzz_check((marker == NULL) == (page.next_marker == NULL) &&
                   (marker == NULL || strcmp(marker, page.next_marker) == 0),
               "the marker changed");
    azure_list_page_free(&page);
    names_free(&again);
    buf_free(&xml);
}

static void check_list(const uint8_t *data, size_t size, struct fuzz_rng *rng)
{
    struct names l;
    struct azure_list_page page;
    struct err e;

    memset(&l, 0, sizeof(l));
    l.stop_after = fuzz_rng_below(rng, 4) == 0 ? (size_t)fuzz_rng_below(rng, 8) + 1 : SIZE_MAX;
    err_clear(&e);
    if (azure_parse_list((const char *)data, size, "fuzz", collect, &l, &page, &e) < 0) {
        fuzz_check(page.next_marker == NULL, "a failed parse kept a marker");
        fuzz_check(e.code == ERR_IO && strncmp(e.msg, "listing fuzz: ", 14) == 0, "message: %s", e.msg);
    } else {
        fuzz_check(page.stopped == (l.n >= l.stop_after), "stopped flag wrong");
        check_rebuilt(&l, page.next_marker);
        azure_list_page_free(&page);
    }
    names_free(&l);
}

static void check_sas(const uint8_t *data, size_t size)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%&=:+/,";
    static const char *const refusals[] = {
        "the azure SAS token from fuzz is empty",
        ("the azure SAS token from fuzz holds characters a SAS token never has (white space, quotes, "
         "'#'...): "
         "HINT: paste the token as the portal or az gives it"),
        "the azure SAS token from fuzz has no signature (sig=): is it a SAS token?"};
    char *text = fuzz_string(data, size);
    struct azure_sas sas;
    struct err e;
    size_t i;
    int known = 0;

    err_clear(&e);
    if (azure_sas_parse(text, "fuzz", &sas, &e) == 0) {
        fuzz_check(sas.token != NULL && sas.token[0] != '\0', "empty token accepted");
        fuzz_check(strspn(sas.token, allowed) == strlen(sas.token), "odd characters in \"%s\"", sas.token);
        fuzz_check(strstr(sas.token, "sig=") != NULL, "no signature in \"%s\"", sas.token);
        for (i = 0; sas.expiry[i] != '\0'; i++)
            fuzz_check(isprint((unsigned char)sas.expiry[i]), "unprintable expiry");
        for (i = 0; sas.perms[i] != '\0'; i++)
            fuzz_check(isprint((unsigned char)sas.perms[i]), "unprintable permissions");
        azure_sas_free(&sas);
    } else {
        fuzz_check(sas.token == NULL, "a refused token was kept");
        for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
            known |= strcmp(e.msg, refusals[i]) == 0;
        fuzz_check(known, "an unknown refusal (the token in it?): %s", e.msg);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_rng rng;

    fuzz_rng_seed(&rng, data, size);
    check_list(data, size, &rng);
    check_sas(data, size);
    return 0;
}
