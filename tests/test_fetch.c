/* test_fetch.c - reading a generation back out of the archive
 * (replay/engine/fetch.c), over an index and a file:// storage built by the test
 * (archive_fixture.c).
 *
 * fetch_gens and fetch_windows: what each generation restores as the index
 * tells it (a complete base, the newest second its incr chunks reach
 * without a gap, a gap that stops them), the windows' text, and
 * fetch_choose's refusals before, between and after the windows. Then one
 * chunk: fetched and decoded byte for byte; refused when the row names
 * another chunk's object, when the stored object is not the one indexed
 * (its SHA-256), when it is missing; fetch_join on a gap (naming the range
 * and the windows) and an overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_fixture.h"
#include "buf.h"
#include "fetch.h"
#include "timeutil.h"
#include "xalloc.h"

#define T0 1795000000

/* 400 bytes of anything: fetch does not read the AOF */
static char stream[400];

static int setup(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(stream); i++)
        stream[i] = (char)(i * 13 + 1);
    return archive_setup(state, "test_fetch");
}

/* The generations as fetch_gens makes them (one expected): *g. */
static void the_generation(struct archive *a, struct window_gen *g)
{
    struct window_gen *gens = NULL;
    struct fetch f;
    size_t n = 0;
    struct err e;

    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(&e);
    assert_int_equal(fetch_gens(&f, &gens, &n, &e), 0);
    assert_int_equal(n, 1);
    *g = gens[0];
    free(gens);
    fetch_free(&f);
}

/* "from T(a) to T(b)" */
static void span(char *out, size_t n, int64_t a, int64_t b)
{
    char x[TIME_BUFSZ], y[TIME_BUFSZ];

    time_format_utc(a, x, sizeof(x));
    time_format_utc(b, y, sizeof(y));
    snprintf(out, n, "from %s to %s", x, y);
}

static void windows_are(struct archive *a, const char *want)
{
    struct fetch f;
    struct buf out = BUF_INIT;
    struct err e;

    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(&e);
    assert_int_equal(fetch_windows(&f, &out, &e), 0);
    assert_string_equal(out.data, want);
    buf_free(&out);
    fetch_free(&f);
}

/* End generation g at `ended` for `why`, its archive whole up to
 * proven_end. */
static void end_generation(struct archive *a, int64_t g, int64_t ended, const char *why, int64_t proven_end)
{
    struct gen_row r;
    struct err e;

    err_clear(&e);
    assert_int_equal(index_generation_get(a->idx, a->instance_id, g, &r, &e), 0);
    r.ended = ended;
    snprintf(r.end_reason, sizeof(r.end_reason), "%s", why);
    r.proven_end = proven_end;
    archive_generation_update(a, &r);
}

/* Generation g does not continue the stream of the one before (a gap). */
static void follows_not(struct archive *a, int64_t g)
{
    struct gen_row r;
    struct err e;

    err_clear(&e);
    assert_int_equal(index_generation_get(a->idx, a->instance_id, g, &r, &e), 0);
    r.follows = GEN_NO;
    archive_generation_update(a, &r);
    assert_int_equal(index_generation_get(a->idx, a->instance_id, g, &r, &e), 0);
    assert_int_equal(r.follows, GEN_NO);
}

/* ------------------------------------------------------------------ */
/* Windows                                                              */
/* ------------------------------------------------------------------ */

static void test_no_window(void **state)
{
    struct archive *a = *state;

    windows_are(a, "nowhere (no generation has a complete base yet)");
    archive_generation(a, 1, T0, 100, 0); /* its base not complete yet */
    archive_chunk(a, 1, CHUNK_BASE, stream, 0, 50, 0, 0, NULL);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 100, T0, T0 + 5, NULL);
    windows_are(a, "nowhere (no generation has a complete base yet)");
}

static void test_one_generation(void **state)
{
    struct archive *a = *state;
    struct window_gen g;
    char want[200];

    archive_generation(a, 1, T0, 100, 1);
    archive_chunk(a, 1, CHUNK_BASE, stream, 0, 100, 0, 0, NULL);
    /* no incr chunk yet: the base's second alone */
    span(want, sizeof(want), T0, T0);
    windows_are(a, want);
    /* recorded out of order: the list is by start */
    archive_chunk(a, 1, CHUNK_INCR, stream, 100, 250, T0 + 3, T0 + 9, NULL);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 100, T0, T0 + 3, NULL);
    span(want, sizeof(want), T0, T0 + 9);
    windows_are(a, want);

    the_generation(a, &g);
    assert_int_equal(g.usable, 1);
    assert_int_equal(g.broken, 0);
    assert_int_equal(g.last, T0 + 9);
    assert_int_equal(g.row.generation, 1);
}

static void test_gap_stops_the_window(void **state)
{
    struct archive *a = *state;
    struct window_gen g;
    char want[200];

    archive_generation(a, 1, T0, 100, 1);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 100, T0, T0 + 4, NULL);
    archive_chunk(a, 1, CHUNK_INCR, stream, 150, 200, T0 + 6, T0 + 30, NULL); /* [100, 150) missing */
    span(want, sizeof(want), T0, T0 + 4);
    windows_are(a, want);
    the_generation(a, &g);
    assert_int_equal(g.broken, 1);
    assert_int_equal(g.last, T0 + 4);
}

static void test_two_windows_and_choose(void **state)
{
    struct archive *a = *state;
    struct gen_row g;
    struct window_choice c;
    struct fetch f;
    char w1[200], w2[200], want[500], at[TIME_BUFSZ];
    struct err e;

    /* generation 1 ends with the AOF switched off; generation 2 starts
     * later, after a gap */
    archive_generation(a, 1, T0, 100, 1);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 100, T0, T0 + 9, NULL);
    end_generation(a, 1, T0 + 10, "aof-off", T0 + 9);
    archive_generation(a, 2, T0 + 100, 100, 1);
    follows_not(a, 2);
    archive_chunk(a, 2, CHUNK_INCR, stream, 0, 60, T0 + 100, T0 + 120, NULL);
    span(w1, sizeof(w1), T0, T0 + 9);
    span(w2, sizeof(w2), T0 + 100, T0 + 120);
    snprintf(want, sizeof(want), "%s, %s", w1, w2);
    windows_are(a, want);

    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(&e);
    assert_int_equal(fetch_choose(&f, T0 + 5, &g, &c, &e), 0);
    assert_int_equal(g.generation, 1);
    assert_int_equal(fetch_choose(&f, T0 + 110, &g, &c, &e), 0);
    assert_int_equal(g.generation, 2);

    assert_int_equal(fetch_choose(&f, T0 - 1, &g, &c, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    time_format_utc(T0 - 1, at, sizeof(at));
    assert_non_null(strstr(e.msg, "no generation covers"));
    assert_non_null(strstr(e.msg, at));
    assert_non_null(strstr(e.msg, want));

    err_clear(&e);
    assert_int_equal(fetch_choose(&f, T0 + 50, &g, &c, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "lies in a gap of the archive of \"live\": generation 1 holds up to"));
    assert_non_null(strstr(e.msg, "generation 2 begins at"));
    assert_non_null(strstr(e.msg, want));
    fetch_free(&f);
}

static void test_after_the_end(void **state)
{
    struct archive *a = *state;
    struct window_choice c;
    struct gen_row g;
    struct fetch f;
    struct err e;

    archive_generation(a, 1, T0, 100, 1);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 100, T0, T0 + 9, NULL);
    end_generation(a, 1, T0 + 10, "aof-off", T0 + 9);
    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(&e);
    assert_int_equal(fetch_choose(&f, T0 + 60, &g, &c, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, "is after the end of the archive of \"live\": generation 1 holds up to"));
    assert_non_null(strstr(e.msg, "nothing is archived after it"));
    fetch_free(&f);
}

/* ------------------------------------------------------------------ */
/* One chunk                                                            */
/* ------------------------------------------------------------------ */

static void test_chunk_round_trip(void **state)
{
    struct archive *a = *state;
    struct fetch_list l;
    struct buf raw = BUF_INIT;
    struct fetch f;
    struct err e;
    size_t i;

    archive_generation(a, 1, T0, 100, 1);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 120, T0, T0 + 1, NULL);
    archive_chunk(a, 1, CHUNK_INCR, stream, 120, 400, T0 + 1, T0 + 2, NULL);
    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(&e);
    assert_int_equal(fetch_list(&f, 1, CHUNK_INCR, 0, &l, &e), 0);
    assert_int_equal(l.n, 2);
    for (i = 0; i < l.n; i++) {
        assert_int_equal(fetch_join(&f, 1, CHUNK_INCR, i ? l.v[i - 1].end : 0, &l.v[i], &e), 0);
        assert_int_equal(fetch_chunk(&f, &l.v[i], &raw, &e), 0);
        assert_int_equal(raw.len, l.v[i].end - l.v[i].start);
        assert_memory_equal(raw.data, stream + l.v[i].start, raw.len);
    }
    assert_int_equal(f.chunks, 2);
    assert_int_equal(f.raw_bytes, 400);
    assert_true(f.stored_bytes > 0);
    fetch_list_free(&l);
    /* from: only chunks ending after it */
    assert_int_equal(fetch_list(&f, 1, CHUNK_INCR, 120, &l, &e), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.v[0].start, 120);
    fetch_list_free(&l);
    buf_free(&raw);
    fetch_free(&f);
}

static void test_chunk_refused(void **state)
{
    struct archive *a = *state;
    struct fetch_list l;
    struct fetch_chunk forged;
    struct buf raw = BUF_INIT, other = BUF_INIT;
    struct fetch f;
    struct err e;
    char path[1400];
    FILE *fp;

    archive_generation(a, 1, T0, 100, 1);
    archive_chunk(a, 1, CHUNK_INCR, stream, 0, 100, T0, T0 + 1, NULL);
    archive_chunk(a, 1, CHUNK_INCR, stream, 100, 200, T0 + 1, T0 + 2, NULL);
    fetch_init(&f, a->idx, a->st, a->instance, a->instance_id);
    err_clear(&e);
    assert_int_equal(fetch_list(&f, 1, CHUNK_INCR, 0, &l, &e), 0);
    assert_int_equal(l.n, 2);

    /* a row naming another chunk's object */
    forged = l.v[0];
    forged.key = l.v[1].key;
    assert_int_equal(fetch_chunk(&f, &forged, &raw, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "not that chunk's name HINT: rebuild the index with aofroll reindex"));
    assert_int_equal(fetch_check_key("other", &l.v[0], &e), -1);
    assert_int_equal(fetch_check_key("live", &l.v[0], &e), 0);

    /* the object replaced by a sound gzip of other bytes: its SHA-256 */
    err_clear(&e);
    assert_int_equal(storage_get(a->st, l.v[1].key, &other, &e), 0);
    snprintf(path, sizeof(path), "%s/store/%s", a->dir, l.v[0].key);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(other.data, 1, other.len, fp), other.len);
    fclose(fp);
    assert_int_equal(fetch_chunk(&f, &l.v[0], &raw, &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, l.v[0].key));
    assert_non_null(strstr(e.msg, "SHA-256"));

    /* the object gone */
    assert_int_equal(remove(path), 0);
    err_clear(&e);
    assert_int_equal(fetch_chunk(&f, &l.v[0], &raw, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    assert_non_null(strstr(e.msg, l.v[0].key));
    assert_int_equal(f.chunks, 0);

    /* a gap before the second chunk, and an overlap */
    err_clear(&e);
    assert_int_equal(fetch_join(&f, 1, CHUNK_INCR, 80, &l.v[1], &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "gap in the archive of \"live\", generation 1: incr bytes [80, 100) are "
                                  "missing; the archive of \"live\" is restorable from "));
    err_clear(&e);
    assert_int_equal(fetch_join(&f, 1, CHUNK_INCR, 120, &l.v[1], &e), -1);
    assert_int_equal(e.code, ERR_CORRUPT);
    assert_non_null(strstr(e.msg, "chunks overlap in the archive of \"live\", generation 1"));
    assert_non_null(strstr(e.msg, "starts at 100, before the previous chunk's end 120"));
    fetch_list_free(&l);
    buf_free(&raw);
    buf_free(&other);
    fetch_free(&f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, archive_teardown)
    const struct CMUnitTest tests[] = {
        T(test_no_window),
        T(test_one_generation),
        T(test_gap_stops_the_window),
        T(test_two_windows_and_choose),
        T(test_after_the_end),
        T(test_chunk_round_trip),
        T(test_chunk_refused),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
