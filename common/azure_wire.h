/* azure_wire.h - the text formats of Azure Blob storage, without any I/O.
 *
 * storage_azure.c talks HTTP through libcurl; what it reads besides raw
 * blob bytes is read here so that it can be unit-tested on its own
 * (tests/test_azure_wire.c):
 *
 *  - List Blobs pages (<EnumerationResults> with <Blob><Name> and
 *    <Properties><Content-Length>, and <NextMarker>), read with
 *    s3_wire.c's exact element search: Azure, like S3, writes these
 *    elements without attributes and with '<' and '&' escaped in text;
 *    a name sent percent-encoded (<Name Encoded="true">) is not found and
 *    the page is refused, never skipped;
 *  - SAS tokens: checked to be one (a query string with a signature,
 *    nothing that could end a URL or a header), and its expiry (se) and
 *    permissions (sp) picked out for messages;
 *  - block ids for Put Block, and the Put Block List body. */
#ifndef AOFROLL_AZURE_WIRE_H
#define AOFROLL_AZURE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Called once per <Blob> of a List Blobs page, in document order. Return
 * non-zero to stop. */
typedef int (*azure_list_entry_cb)(void *ud, const char *name, uint64_t size);

struct azure_list_page {
    char *next_marker; /* <NextMarker>, decoded; NULL when absent or empty */
    int stopped;       /* the callback returned non-zero */
};

int azure_parse_list(const char *xml, size_t len, const char *what, azure_list_entry_cb cb, void *ud,
                     struct azure_list_page *page, struct err *e);
void azure_list_page_free(struct azure_list_page *page);

struct azure_sas {
    char *token;     /* without a leading '?'; the secret */
    char expiry[40]; /* se=, decoded, "" when absent: for messages */
    char perms[16];  /* sp=, "" when absent */
};

/* Check a SAS token (surrounding white space and one leading '?' are
 * dropped). `source` names where it came from in messages; the token
 * itself never appears in one. */
int azure_sas_parse(const char *text, const char *source, struct azure_sas *out, struct err *e);
void azure_sas_free(struct azure_sas *sas);

/* The id of block number `n` of a blob: base64 of a fixed-width text, so
 * that every id of a blob has the same length, as Azure requires. */
void azure_block_id(uint64_t n, char out[48]);
/* <BlockList> naming blocks 0..n-1 as Latest. */
void azure_block_list(struct buf *out, uint64_t n);

#endif
