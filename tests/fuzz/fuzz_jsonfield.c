/* fuzz_jsonfield.c - libFuzzer target for the JSON reader of credential
 * answers (common/jsonfield.c): what a container credentials endpoint or
 * EC2 instance metadata answers, or whoever answers in their place.
 *
 * The input is the answer. Several member names are looked up: a document
 * invalid as a whole (asked for a member it does not have) is invalid for
 * every name, and a valid one is refused only for a member whose value
 * holds a NUL (\u0000); a string found holds no NUL, and written again as
 * a JSON string into an object of our own it reads back byte for byte. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "jsonfield.h"

/* {"v":"<s escaped>"} */
static void object_of(struct buf *doc, const char *s, size_t n)
{
    size_t i;

    buf_appendstr(doc, "{\"v\":\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            buf_printf(doc, "\\%c", c);
        else if (c < 0x20)
            buf_printf(doc, "\\u%04x", c);
        else
            buf_append(doc, &s[i], 1);
    }
    buf_appendstr(doc, "\"}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "a", ""};
    static const char nobody[] = "no member has this name: 7d1f3b6e";
    struct buf out = BUF_INIT, doc = BUF_INIT, back = BUF_INIT;
    enum jsonfield_result r, valid;
    size_t i;
    int mentions;

    /* the document's own validity: asking for a member it does not have
     * (unless the input names it: then that member is decoded, and a NUL
     * in it makes the answer invalid for that name alone) */
    mentions = memmem(data, size, nobody, 8) != NULL;
    valid = jsonfield_get((const char *)data, size, nobody, &out);
    fuzz_check(valid == JSONFIELD_ABSENT || valid == JSONFIELD_INVALID || mentions,
               "result %d for a name nobody uses", valid);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        r = jsonfield_get((const char *)data, size, names[i], &out);
        fuzz_check(r == JSONFIELD_FOUND || r == JSONFIELD_ABSENT || r == JSONFIELD_INVALID ||
                       r == JSONFIELD_NOT_STRING,
                   "result %d", r);
        /* only the member asked for is decoded: a NUL in it (\u0000) makes
         * the answer unusable, an invalid document is so for every name */
        fuzz_check(valid != JSONFIELD_INVALID || r == JSONFIELD_INVALID || mentions,
                   "invalid, yet \"%s\" gives %d", names[i], r);
        fuzz_check(r != JSONFIELD_INVALID || valid == JSONFIELD_INVALID ||
                       memmem(data, size, "\\u0000", 6) != NULL,
                   "valid, yet invalid for \"%s\"", names[i]);
        if (r != JSONFIELD_FOUND)
            continue;
        fuzz_check(out.data != NULL && strlen(out.data) == out.len, "member \"%s\" holds a NUL", names[i]);
        buf_reset(&doc);
        buf_reset(&back);
        object_of(&doc, out.data, out.len);
        fuzz_check(jsonfield_get(doc.data, doc.len, "v", &back) == JSONFIELD_FOUND,
                   "our own object does not read: %s", doc.data);
        fuzz_check(back.len == out.len && memcmp(back.data, out.data, out.len) == 0,
                   "member \"%s\" changed when written again", names[i]);
    }
    buf_free(&out);
    buf_free(&doc);
    buf_free(&back);
    return 0;
}
