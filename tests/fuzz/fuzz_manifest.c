/* fuzz_manifest.c - libFuzzer target for the AOF manifest parser
 * (common/manifest.c), which reads the file Redis writes and restore
 * writes.
 *
 * The input is a manifest's text. A manifest that parses must survive a
 * round trip: manifest_format_files() of the files, parsed again, gives
 * the same files (names byte for byte, seqs, types, the extra key/value
 * pairs, order), and formatting that gives the same text again. The base and current-incr lookups must point
 * into the list. A manifest that does not parse must say so in a message
 * naming the file. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "manifest.h"

#define NAME "appendonly.aof.manifest"

static void check_same(const struct manifest *a, const struct manifest *b)
{
    size_t i, j;

    fuzz_check(a->nfiles == b->nfiles, "%zu files, %zu after the round trip", a->nfiles, b->nfiles);
    for (i = 0; i < a->nfiles; i++) {
        fuzz_check(strcmp(a->files[i].name, b->files[i].name) == 0, "file %zu: \"%s\" became \"%s\"", i,
                   a->files[i].name, b->files[i].name);
        fuzz_check(a->files[i].seq == b->files[i].seq, "file %zu: seq %lld became %lld", i, a->files[i].seq,
                   b->files[i].seq);
        fuzz_check(a->files[i].type == b->files[i].type, "file %zu: type %c became %c", i, a->files[i].type,
                   b->files[i].type);
        fuzz_check(a->files[i].nextra == b->files[i].nextra, "file %zu: %zu extra pairs became %zu", i,
                   a->files[i].nextra, b->files[i].nextra);
        for (j = 0; j < a->files[i].nextra; j++) {
            const struct manifest_extra *x = &a->files[i].extra[j], *y = &b->files[i].extra[j];

            fuzz_check(x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0 &&
                           x->value_len == y->value_len && memcmp(x->value, y->value, x->value_len) == 0,
                       "file %zu: extra pair %zu changed", i, j);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct manifest m, again;
    struct buf text = BUF_INIT, text2 = BUF_INIT;
    const struct manifest_file *f;
    struct err e;

    err_clear(&e);
    if (manifest_parse(NAME, (const char *)data, size, &m, &e) < 0) {
        fuzz_check(m.files == NULL && m.nfiles == 0, "a failed parse left files behind");
        fuzz_check(strncmp(e.msg, NAME, strlen(NAME)) == 0, "message does not name the file: %s", e.msg);
        return 0;
    }
    fuzz_check(m.nfiles > 0, "parsed, yet no file");
    f = manifest_base(&m);
    fuzz_check(f == NULL || (f >= m.files && f < m.files + m.nfiles && f->type == MANIFEST_BASE), "bad base");
    f = manifest_current_incr(&m);
    fuzz_check(f == NULL || (f >= m.files && f < m.files + m.nfiles && f->type == MANIFEST_INCR), "bad incr");

    if (manifest_format_files(&text, NAME, &m, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "a manifest read cannot be written: %s", e.msg);
    if (manifest_parse(NAME, text.data, text.len, &again, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "the manifest written does not parse: %s\n%s", e.msg, text.data);
    check_same(&m, &again);
    if (manifest_format_files(&text2, NAME, &again, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "cannot write again: %s", e.msg);
    fuzz_check(text.len == text2.len && memcmp(text.data, text2.data, text.len) == 0,
               "formatting is not stable:\n%s---\n%s", text.data, text2.data);
    manifest_free(&again);
    manifest_free(&m);
    buf_free(&text);
    buf_free(&text2);
    return 0;
}
