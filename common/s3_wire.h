/* s3_wire.h - the text formats of the S3 REST API, without any I/O.
 *
 * storage_s3.c talks HTTP through libcurl; what it sends and receives
 * besides raw object bytes is built and read here, so that it can be
 * unit-tested on its own (tests/test_s3_wire.c):
 *
 *  - URI encoding as SigV4 wants it (RFC 3986 unreserved characters kept,
 *    everything else %XX in upper case; '/' kept in object paths only);
 *  - the few XML documents S3 answers with: ListObjectsV2 results, error
 *    bodies, DeleteObjects results. S3 writes them without attributes on
 *    the elements we read and with '<' and '&' always escaped in text, so
 *    a search for "<Name>" ... "</Name>" is exact; text is entity-decoded
 *    (&amp; &lt; &gt; &quot; &apos; &#N; &#xH;);
 *  - XML escaping of keys for the DeleteObjects request body. */
#ifndef AOFROLL_S3_WIRE_H
#define AOFROLL_S3_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* Append `s` URI-encoded; with keep_slash, '/' is left as is (paths). */
void s3_uri_encode(struct buf *out, const char *s, int keep_slash);

/* Append `s` with & < > " ' escaped as XML entities. */
void s3_xml_escape(struct buf *out, const char *s);

/* Append the XML text [s, s+n) with its entities decoded. -1 on an unknown
 * or malformed entity, or one that decodes to NUL (out then holds a
 * partial result). */
int s3_xml_decode(struct buf *out, const char *s, size_t n);

/* Find the first <name>text</name> in [p, end). Returns 1 and sets
 * *text and *len to the raw (still escaped) text, or 0 when absent. An empty
 * element written <name/> is found with *len = 0. */
int s3_xml_find(const char *p, const char *end, const char *name, const char **text, size_t *len);

/* Called once per <Contents> of a ListObjectsV2 page, in document order.
 * Return non-zero to stop. */
typedef int (*s3_list_entry_cb)(void *ud, const char *key, uint64_t size);

/* The longest continuation token taken from a listing (S3's are a few
 * hundred bytes). */
#define S3_TOKEN_MAX 4096

struct s3_list_page {
    int truncated;    /* <IsTruncated>true</IsTruncated> */
    char *next_token; /* <NextContinuationToken>, decoded; NULL when absent */
    int stopped;      /* the callback returned non-zero */
};

/* Parse one ListObjectsV2 page. `what` names the listing in messages.
 * Fails with ERR_IO when the document is not a ListBucketResult or an
 * entry lacks Key/Size. Free page->next_token with s3_list_page_free. */
int s3_parse_list(const char *xml, size_t len, const char *what, s3_list_entry_cb cb, void *ud,
                  struct s3_list_page *page, struct err *e);
void s3_list_page_free(struct s3_list_page *page);

/* The <Code> and <Message> of an S3 error body, decoded and truncated to
 * fit; empty strings when the body has none (HEAD answers, proxies). */
void s3_parse_error(const char *xml, size_t len, char *code, size_t codesz, char *message, size_t msgsz);

/* A DeleteObjects result: how many <Error> entries it lists, and the key,
 * code and message of the first (decoded, truncated to fit). */
struct s3_delete_result {
    size_t nerrors;
    char key[512];
    char code[64];
    char message[256];
};

int s3_parse_delete_result(const char *xml, size_t len, struct s3_delete_result *r, struct err *e);

#endif
