/* fuzz_objname.c - libFuzzer target for object-name parsing
 * (common/objname.c). Whoever can write to the bucket controls the names
 * that ls, reindex and reconcile read.
 *
 * The input is an object key. A key that parses as a chunk name must be
 * canonical: building the name from the parsed fields gives the key back
 * byte for byte, the fields obey their rules (a valid instance name,
 * generation >= 1, start <= end, ...), and the instance and generation
 * prefixes are prefixes of the key. A key that does not parse leaves the
 * fields zeroed with ERR_CORRUPT. The other way round, fields read from the
 * input's bytes that build a name must parse back to the same fields. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "objname.h"

static void check_same(const struct chunk_name *a, const struct chunk_name *b)
{
    fuzz_check(strcmp(a->instance, b->instance) == 0 && a->generation == b->generation &&
                   a->kind == b->kind && a->start == b->start && a->end == b->end && a->first == b->first &&
                   a->last == b->last,
               "fields differ after a round trip");
    if (a->kind == CHUNK_BASE)
        fuzz_check(a->format == b->format && a->total == b->total, "base fields differ after a round trip");
}

static void check_parsed(const char *key, const struct chunk_name *c)
{
    char name[OBJNAME_MAX], prefix[OBJNAME_MAX];

    fuzz_check(objname_valid_instance(c->instance), "instance \"%s\" is not valid", c->instance);
    fuzz_check(c->generation >= 1 && c->start <= c->end && c->first >= 0 && c->last >= c->first,
               "fields out of range in \"%s\"", key);
    fuzz_check(c->kind != CHUNK_BASE || (c->end <= c->total && c->first == c->last), "base fields in \"%s\"",
               key);
    fuzz_check(objname_chunk(c, name, sizeof(name)) == 0, "\"%s\" parsed but does not build", key);
    fuzz_check(strcmp(name, key) == 0, "\"%s\" builds as \"%s\"", key, name);
    fuzz_check(objname_instance_prefix(c->instance, prefix, sizeof(prefix)) == 0 &&
                   strncmp(prefix, key, strlen(prefix)) == 0,
               "instance prefix \"%s\" of \"%s\"", prefix, key);
    fuzz_check(objname_generation_prefix(c->instance, c->generation, prefix, sizeof(prefix)) == 0 &&
                   strncmp(prefix, key, strlen(prefix)) == 0,
               "generation prefix \"%s\" of \"%s\"", prefix, key);
}

/* Fields from raw bytes: instance from the printable tail, numbers ahead. */
static void build_from_bytes(const uint8_t *data, size_t size)
{
    struct chunk_name c, back;
    char name[OBJNAME_MAX];
    struct err e;
    size_t n;

    memset(&c, 0, sizeof(c));
    c.kind = (enum chunk_kind)(fuzz_take(&data, &size, 1) & 3);
    c.format = (enum base_format)(fuzz_take(&data, &size, 1) & 3);
    c.generation = (int64_t)fuzz_take(&data, &size, 8);
    c.start = fuzz_take(&data, &size, 8);
    c.end = fuzz_take(&data, &size, 8);
    c.first = (int64_t)fuzz_take(&data, &size, 8);
    c.last = (int64_t)fuzz_take(&data, &size, 8);
    c.total = fuzz_take(&data, &size, 8);
    n = size < INSTANCE_NAME_MAX + 1 ? size : INSTANCE_NAME_MAX + 1;
    memcpy(c.instance, data, n);
    c.instance[n < INSTANCE_NAME_MAX ? n : INSTANCE_NAME_MAX] = '\0';
    if (c.kind == CHUNK_BASE)
        c.last = c.first;
    if (objname_chunk(&c, name, sizeof(name)) != 0)
        return;
    err_clear(&e);
    if (objname_parse_chunk(name, &back, &e) != 0)
        fuzz_fail(__FILE__, __LINE__, "built \"%s\", which does not parse: %s", name, e.msg);
    check_same(&c, &back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *key = fuzz_string(data, size);
    struct chunk_name c, zero;
    struct err e;

    err_clear(&e);
    memset(&zero, 0, sizeof(zero));
    if (objname_parse_chunk(key, &c, &e) == 0)
        check_parsed(key, &c);
    else
        fuzz_check(e.code == ERR_CORRUPT && memcmp(&c, &zero, sizeof(c)) == 0, "failed parse: %s", e.msg);
    free(key);
    build_from_bytes(data, size);
    return 0;
}
