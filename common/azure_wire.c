/* azure_wire.c - List Blobs pages, SAS tokens and block ids of the
 * azure:// backend (see azure_wire.h). */
#include "azure_wire.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "s3_wire.h"
#include "xalloc.h"

/* ------------------------------------------------------------------------
 * List Blobs
 * ---------------------------------------------------------------------- */

static int azure_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (n == 0 || n > 19)
        return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The next <Blob>...</Blob> at or after p; *after points past it. */
static int azure_next_blob(const char *p, const char *end, const char **inner, const char **inner_end,
                           const char **after)
{
    const char *text;
    size_t len;

    if (!s3_xml_find(p, end, "Blob", &text, &len))
        return 0;
    *inner = text;
    *inner_end = text + len;
    *after = text + len + strlen("</Blob>");
    return 1;
}

int azure_parse_list(const char *xml, size_t len, const char *what, azure_list_entry_cb cb, void *ud,
                     struct azure_list_page *page, struct err *e)
{
    const char *end = xml + len, *p = xml, *inner, *inner_end, *text, *props;
    size_t tlen, plen;
    struct buf name = BUF_INIT;
    int rc = -1;

    page->next_marker = NULL;
    page->stopped = 0;
    if (xml == NULL || memmem(xml, len, "<EnumerationResults", strlen("<EnumerationResults")) == NULL ||
        memmem(xml, len, "</EnumerationResults>", strlen("</EnumerationResults>")) == NULL) {
        err_set(e, ERR_IO, "listing %s: the answer is not a whole EnumerationResults document", what);
        goto out;
    }
    while (azure_next_blob(p, end, &inner, &inner_end, &p)) {
        uint64_t size;

        buf_reset(&name);
        if (!s3_xml_find(inner, inner_end, "Name", &text, &tlen) || s3_xml_decode(&name, text, tlen) < 0 ||
            name.len == 0 || memchr(name.data, '\0', name.len) != NULL) {
            err_set(e, ERR_IO, "listing %s: an entry has no valid <Name>", what);
            goto out;
        }
        buf_append(&name, "", 1);
        if (!s3_xml_find(inner, inner_end, "Properties", &props, &plen) ||
            !s3_xml_find(props, props + plen, "Content-Length", &text, &tlen) ||
            azure_parse_u64(text, tlen, &size) < 0) {
            err_set(e, ERR_IO, "listing %s: entry \"%s\" has no valid <Content-Length>", what, name.data);
            goto out;
        }
        if (cb(ud, name.data, size) != 0) {
            page->stopped = 1;
            break;
        }
    }
    if (s3_xml_find(xml, end, "NextMarker", &text, &tlen) && tlen > 0) {
        buf_reset(&name);
        if (s3_xml_decode(&name, text, tlen) < 0 || memchr(name.data, '\0', name.len) != NULL) {
            err_set(e, ERR_IO, "listing %s: malformed <NextMarker>", what);
            goto out;
        }
        buf_append(&name, "", 1);
        page->next_marker = xstrdup(name.data);
    }
    rc = 0;
out:
    if (rc < 0)
        azure_list_page_free(page);
    buf_free(&name);
    return rc;
}

void azure_list_page_free(struct azure_list_page *page)
{
    free(page->next_marker);
    page->next_marker = NULL;
}

/* ------------------------------------------------------------------------
 * SAS tokens
 * ---------------------------------------------------------------------- */

/* The value of parameter `name` in the query `q`, percent-decoded. */
static void azure_sas_param(const char *q, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name), o = 0;
    const char *p = q;

    out[0] = '\0';
    while (*p != '\0') {
        const char *amp = strchr(p, '&');
        size_t plen = amp != NULL ? (size_t)(amp - p) : strlen(p);

        if (plen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            const char *v = p + nlen + 1, *vend = p + plen;

            while (v < vend && o + 1 < outsz) {
                unsigned hi, lo;

                if (*v == '%' && vend - v >= 3 && sscanf(v + 1, "%1x%1x", &hi, &lo) == 2) {
                    out[o++] = (char)(hi * 16 + lo);
                    v += 3;
                } else {
                    out[o++] = *v++;
                }
            }
            out[o] = '\0';
            for (o = 0; out[o] != '\0'; o++) {
                if (!isprint((unsigned char)out[o]))
                    out[o] = '?';
            }
            return;
        }
        if (amp == NULL)
            break;
        p = amp + 1;
    }
}

int azure_sas_parse(const char *text, const char *source, struct azure_sas *out, struct err *e)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%&=:+/,";
    const char *s = text, *end;
    char sig[8];

    memset(out, 0, sizeof(*out));
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '?')
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (end == s)
        return err_set(e, ERR_CONFIG, "the azure SAS token from %s is empty", source);
    out->token = xstrndup(s, (size_t)(end - s));
    if (strspn(out->token, allowed) != strlen(out->token)) {
        azure_sas_free(out);
        return err_set(e, ERR_CONFIG,
                       "the azure SAS token from %s holds characters a SAS token never has (white space, "
                       "quotes, '#'...): HINT: paste the token as the portal or az gives it",
                       source);
    }
    azure_sas_param(out->token, "sig", sig, sizeof(sig));
    if (sig[0] == '\0') {
        azure_sas_free(out);
        return err_set(e, ERR_CONFIG,
                       "the azure SAS token from %s has no signature (sig=): is it a SAS token?", source);
    }
    OPENSSL_cleanse(sig, sizeof(sig));
    azure_sas_param(out->token, "se", out->expiry, sizeof(out->expiry));
    azure_sas_param(out->token, "sp", out->perms, sizeof(out->perms));
    return 0;
}

void azure_sas_free(struct azure_sas *sas)
{
    if (sas->token != NULL) {
        OPENSSL_cleanse(sas->token, strlen(sas->token));
        free(sas->token);
    }
    memset(sas, 0, sizeof(*sas));
}

/* ------------------------------------------------------------------------
 * Blocks
 * ---------------------------------------------------------------------- */

void azure_block_id(uint64_t n, char out[48])
{
    char raw[48];

    /* Azure wants every block id of a blob the same length: 32 bytes before
     * base64. A blob has at most 50,000 blocks, so 18 digits always hold n;
     * the modulo only tells the compiler so. */
    snprintf(raw, sizeof(raw), "aofroll-block-%018llu", (unsigned long long)(n % 1000000000000000000ULL));
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, 32);
}

void azure_block_list(struct buf *out, uint64_t n)
{
    char id[48];
    uint64_t i;

    buf_appendstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<BlockList>");
    for (i = 0; i < n; i++) {
        azure_block_id(i, id);
        buf_printf(out, "<Latest>%s</Latest>", id);
    }
    buf_appendstr(out, "</BlockList>");
}
