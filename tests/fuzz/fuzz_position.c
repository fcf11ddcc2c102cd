/* fuzz_position.c - libFuzzer target for DIR/aofroll-restore.json
 * (replay/engine/position.c), which apply reads from a directory anyone with
 * write access to it may have edited.
 *
 * The input is the file's text. A position that parses must survive a
 * round trip: position_format() of it, parsed again, gives the same
 * fields and keyspace, and formatting that gives the same text. One that
 * does not parse is ERR_CORRUPT naming the file. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "position.h"

#define NAME "fuzz/aofroll-restore.json"

static void check_same(const struct position *a, const struct position *b)
{
    size_t i;

    fuzz_check(strcmp(a->instance, b->instance) == 0, "instance \"%s\" became \"%s\"", a->instance,
               b->instance);
    fuzz_check(a->generation == b->generation && a->base_time == b->base_time &&
                   a->requested == b->requested && a->time == b->time && a->offset == b->offset &&
                   a->db == b->db && a->ts == b->ts && a->exact == b->exact,
               "a field changed in the round trip");
    fuzz_check(a->has_keyspace == b->has_keyspace && keyspace_equal(&a->keyspace, &b->keyspace),
               "the keyspace changed in the round trip");
    for (i = 1; i < a->keyspace.n; i++)
        fuzz_check(a->keyspace.v[i - 1].db <= a->keyspace.v[i].db, "keyspace not in db order");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct position p, again;
    struct buf text = BUF_INIT, text2 = BUF_INIT;
    struct err e;

    err_clear(&e);
    if (position_parse(NAME, (const char *)data, size, &p, &e) < 0) {
        fuzz_check(e.code == ERR_CORRUPT && strstr(e.msg, NAME) != NULL, "message: %s", e.msg);
        fuzz_check(p.keyspace.v == NULL, "a failed parse kept a keyspace");
        return 0;
    }
    if (position_format(&p, &text, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "a position read cannot be written: %s", e.msg);
    if (position_parse(NAME, text.data, text.len, &again, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "the position written does not parse: %s\n%s", e.msg, text.data);
    check_same(&p, &again);
    if (position_format(&again, &text2, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "cannot write again: %s", e.msg);
    fuzz_check(text.len == text2.len && memcmp(text.data, text2.data, text.len) == 0,
               "writing is not stable:\n%s%s", text.data, text2.data);
    position_free(&p);
    position_free(&again);
    buf_free(&text);
    buf_free(&text2);
    return 0;
}
