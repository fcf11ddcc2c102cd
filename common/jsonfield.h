/* jsonfield.h - read a few string fields of one JSON object, and nothing more.
 *
 * The AWS container credentials endpoint (ECS, EKS Pod Identity) and EC2
 * instance metadata answer a flat JSON object ({"AccessKeyId": "...",
 * "SecretAccessKey": "...", "Token": "...", "Expiration": "..."}).
 * s3_cred_http.c needs its top-level string members and nothing else, so
 * this is a narrow, strict reader rather than a JSON library: it walks the
 * whole document (RFC 8259 grammar: objects, arrays, strings, numbers,
 * true/false/null; nesting at most JSONFIELD_MAX_DEPTH deep), so that a
 * truncated or malformed answer is refused as a whole, and it returns the
 * decoded text of one top-level member. The input is hostile by
 * assumption: every read is bounded by its length, never by a NUL; a
 * decoded value holding a NUL or a lone UTF-16 surrogate is refused. */
#ifndef AOFROLL_JSONFIELD_H
#define AOFROLL_JSONFIELD_H

#include <stddef.h>

#include "buf.h"

#define JSONFIELD_MAX_DEPTH 32

enum jsonfield_result {
    JSONFIELD_FOUND = 1,      /* `out` holds the decoded string, NUL-terminated */
    JSONFIELD_ABSENT = 0,     /* the document is valid and has no such member */
    JSONFIELD_INVALID = -1,   /* not one valid JSON object */
    JSONFIELD_NOT_STRING = -2 /* the member is there but its value is not a string */
};

/* Find the top-level member `name` of the object [json, json+len). When a
 * name appears twice, the last one counts (as in most JSON readers). */
enum jsonfield_result jsonfield_get(const char *json, size_t len, const char *name, struct buf *out);

#endif
