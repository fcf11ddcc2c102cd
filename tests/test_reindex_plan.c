/* test_reindex_plan.c - reindex planning (replay/engine/reindex_plan.c): from the
 * chunk objects found in storage to the generation rows of a rebuilt index.
 *
 * Objects are made as the collector names them (objname_chunk) and handed
 * to the plan in a shuffled order. Checked: the chunks kept per generation
 * and kind (the longest run that joins from byte 0, gaps jumped and
 * reported, overlapping and duplicate objects left out and reported), the
 * base row (format, size, time, completeness and the CRC combined from its
 * chunks' CRCs, against zlib's CRC of the whole base), base chunks that
 * disagree with the rest, empty objects, generations without a base, the
 * end of each generation at the next one's base time, and the schema 3
 * fields reindex_plan_marks derives from the scanner's marks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "objname.h"
#include "reindex_plan.h"
#include "xalloc.h"

#define T0 1795000000

/* The raw bytes of a file of generation g and kind k: byte i is a function
 * of (g, k, i), so that chunks of one range agree and CRCs combine. */
static unsigned char raw_byte(int64_t g, enum chunk_kind k, uint64_t i)
{
    return (unsigned char)(i * 31 + (uint64_t)g * 7 + (k == CHUNK_BASE ? 3 : 11));
}

static uint32_t raw_crc(int64_t g, enum chunk_kind k, uint64_t start, uint64_t end)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t i;

    for (i = start; i < end; i++) {
        unsigned char c = raw_byte(g, k, i);

        crc = crc32(crc, &c, 1);
    }
    return (uint32_t)crc;
}

struct objs {
    struct reindex_object v[64];
    size_t n;
};

/* An incr chunk object of "inst". */
static struct reindex_object *incr(struct objs *o, int64_t g, uint64_t start, uint64_t end, int64_t first,
                                   int64_t last)
{
    struct reindex_object *r = &o->v[o->n++];
    char key[OBJNAME_MAX];

    memset(r, 0, sizeof(*r));
    snprintf(r->name.instance, sizeof(r->name.instance), "%s", "inst");
    r->name.generation = g;
    r->name.kind = CHUNK_INCR;
    r->name.start = start;
    r->name.end = end;
    r->name.first = first;
    r->name.last = last;
    assert_int_equal(objname_chunk(&r->name, key, sizeof(key)), 0);
    r->key = xstrdup(key);
    r->stored_bytes = (end - start) / 2 + 20;
    r->crc32 = raw_crc(g, CHUNK_INCR, start, end);
    return r;
}

/* A base chunk object of a base of `total` bytes taken at `t`. */
static struct reindex_object *base(struct objs *o, int64_t g, uint64_t start, uint64_t end, uint64_t total,
                                   int64_t t)
{
    struct reindex_object *r = &o->v[o->n++];
    char key[OBJNAME_MAX];

    memset(r, 0, sizeof(*r));
    snprintf(r->name.instance, sizeof(r->name.instance), "%s", "inst");
    r->name.generation = g;
    r->name.kind = CHUNK_BASE;
    r->name.format = BASE_RDB;
    r->name.start = start;
    r->name.end = end;
    r->name.first = r->name.last = t;
    r->name.total = total;
    assert_int_equal(objname_chunk(&r->name, key, sizeof(key)), 0);
    r->key = xstrdup(key);
    r->stored_bytes = (end - start) / 2 + 20;
    r->crc32 = raw_crc(g, CHUNK_BASE, start, end);
    return r;
}

static void objs_free(struct objs *o)
{
    size_t i;

    for (i = 0; i < o->n; i++)
        free(o->v[i].key);
}

/* Reverse the objects: the plan must sort them itself. */
static void objs_reverse(struct objs *o)
{
    size_t i;

    for (i = 0; i < o->n / 2; i++) {
        struct reindex_object t = o->v[i];

        o->v[i] = o->v[o->n - 1 - i];
        o->v[o->n - 1 - i] = t;
    }
}

/* The problems, one per line, for substring checks. */
static void assert_problem(const struct reindex_problems *p, const char *text)
{
    struct buf all = BUF_INIT;
    size_t i;

    for (i = 0; i < p->n; i++)
        buf_printf(&all, "%s\n", p->v[i].text);
    if (all.data == NULL || strstr(all.data, text) == NULL)
        fail_msg("no problem \"%s\" among:\n%s", text, all.data ? all.data : "");
    buf_free(&all);
}

/* The kept chunks of one kind of g, as "start-end start-end ...". */
static void assert_kept(struct reindex_object **v, size_t n, const char *want)
{
    char got[1024] = "";
    size_t i, off = 0;

    for (i = 0; i < n; i++)
        off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%llu-%llu", i ? " " : "",
                                (unsigned long long)v[i]->name.start, (unsigned long long)v[i]->name.end);
    assert_string_equal(got, want);
    for (i = 0; i < n; i++)
        assert_int_equal(v[i]->kept, 1);
}

/* ------------------------------------------------------------------ */

static void test_whole_archive(void **state)
{
    struct objs o = {.n = 0};
    struct reindex_plan plan;
    struct reindex_problems pr = {NULL, 0, 0, 0};
    const struct reindex_gen *g;

    (void)state;
    base(&o, 1, 0, 100, 250, T0);
    base(&o, 1, 100, 250, 250, T0);
    incr(&o, 1, 0, 40, T0, T0 + 1);
    incr(&o, 1, 40, 90, T0 + 1, T0 + 5);
    incr(&o, 1, 90, 91, T0 + 5, T0 + 5);
    base(&o, 2, 0, 30, 30, T0 + 60);
    incr(&o, 2, 0, 10, T0 + 60, T0 + 70);
    objs_reverse(&o);
    reindex_plan_build(o.v, o.n, MODE_AOF, &plan, &pr);
    assert_int_equal(pr.n, 0);
    assert_int_equal(plan.n, 2);

    g = &plan.v[0];
    assert_int_equal(g->row.generation, 1);
    assert_int_equal(g->row.mode, MODE_AOF);
    assert_int_equal(g->row.base_format, BASE_RDB);
    assert_int_equal(g->row.base_size, 250);
    assert_int_equal(g->row.base_time, T0);
    assert_int_equal(g->row.started, T0);
    assert_int_equal(g->row.base_complete, 1);
    assert_int_equal(g->row.base_crc32, raw_crc(1, CHUNK_BASE, 0, 250));
    assert_int_equal(g->row.ended, T0 + 60);
    assert_string_equal(g->row.end_reason, "reindexed");
    assert_string_equal(g->row.base_file, "");
    assert_string_equal(g->row.incr_file, "");
    assert_kept(g->base, g->nbase, "0-100 100-250");
    assert_kept(g->incr, g->nincr, "0-40 40-90 90-91");
    assert_int_equal(g->raw_bytes, 250 + 91);
    assert_int_equal(g->stored_bytes, (50 + 20) + (75 + 20) + (20 + 20) + (25 + 20) + (0 + 20));

    g = &plan.v[1];
    assert_int_equal(g->row.generation, 2);
    assert_int_equal(g->row.base_time, T0 + 60);
    assert_int_equal(g->row.base_complete, 1);
    assert_int_equal(g->row.base_crc32, raw_crc(2, CHUNK_BASE, 0, 30));
    assert_int_equal(g->row.ended, 0); /* the newest stays open */
    assert_string_equal(g->row.end_reason, "");
    assert_kept(g->incr, g->nincr, "0-10");

    reindex_plan_free(&plan);
    assert_int_equal(plan.n, 0);
    reindex_problems_free(&pr);
    objs_free(&o);
}

static void test_gaps_and_overlaps(void **state)
{
    struct objs o = {.n = 0};
    struct reindex_plan plan;
    struct reindex_problems pr = {NULL, 0, 0, 0};
    const struct reindex_gen *g;
    struct reindex_object *r;
    char *copy;

    (void)state;
    base(&o, 3, 0, 50, 50, T0);
    incr(&o, 3, 0, 10, T0, T0);
    r = incr(&o, 3, 0, 10, T0, T0); /* the same range again under another key (a copy) */
    copy = xasprintf("%s.copy", r->key);
    free(r->key);
    r->key = copy;
    incr(&o, 3, 5, 12, T0, T0);  /* overlaps the run */
    incr(&o, 3, 10, 20, T0, T0); /* joins 0-10 */
    incr(&o, 3, 10, 15, T0, T0); /* joins too, but reaches less far */
    incr(&o, 3, 30, 35, T0, T0); /* after a gap [20, 30): this one ends sooner */
    incr(&o, 3, 30, 40, T0, T0); /* than this one, which 40-50 continues */
    incr(&o, 3, 40, 50, T0, T0);
    incr(&o, 3, 40, 40, T0, T0); /* empty */
    reindex_plan_build(o.v, o.n, MODE_AOF, &plan, &pr);
    assert_int_equal(plan.n, 1);
    g = &plan.v[0];
    assert_kept(g->incr, g->nincr, "0-10 10-20 30-40 40-50");
    assert_problem(&pr, "generation 3: incr bytes [20, 30) are missing");
    assert_problem(&pr, "holds the same bytes as");
    assert_problem(&pr, "00000000000000000005-00000000000000000012");
    assert_problem(&pr, "overlaps the kept chunk");
    assert_problem(&pr, "00000000000000000010-00000000000000000015");
    assert_problem(&pr, "00000000000000000030-00000000000000000035");
    assert_problem(&pr, "holds no bytes; not indexed");
    assert_int_equal(pr.corrupt, 0); /* warnings only */
    assert_int_equal(g->row.base_complete, 1);
    reindex_plan_free(&plan);
    reindex_problems_free(&pr);
    objs_free(&o);
}

static void test_bases(void **state)
{
    struct objs o = {.n = 0};
    struct reindex_plan plan;
    struct reindex_problems pr = {NULL, 0, 0, 0};
    const struct reindex_gen *g;

    (void)state;
    /* generation 1: one base chunk disagrees (another size): left out */
    base(&o, 1, 0, 100, 200, T0);
    base(&o, 1, 100, 200, 200, T0);
    base(&o, 1, 100, 300, 300, T0);
    /* generation 2: the base's end is missing */
    base(&o, 2, 0, 100, 200, T0 + 10);
    incr(&o, 2, 0, 5, T0 + 10, T0 + 11);
    /* generation 4: no base chunk at all */
    incr(&o, 4, 0, 5, T0 + 40, T0 + 41);
    reindex_plan_build(o.v, o.n, MODE_AOF, &plan, &pr);
    assert_int_equal(plan.n, 3);

    g = &plan.v[0];
    assert_kept(g->base, g->nbase, "0-100 100-200");
    assert_int_equal(g->row.base_size, 200);
    assert_int_equal(g->row.base_complete, 1);
    assert_problem(&pr, "on the base's format, size or time; not indexed");
    assert_problem(&pr, "00000000000000000100-00000000000000000300");
    assert_int_equal(g->row.ended, T0 + 10);

    g = &plan.v[1];
    assert_int_equal(g->row.generation, 2);
    assert_int_equal(g->row.base_complete, 0);
    assert_int_equal(g->row.base_crc32, 0);
    assert_problem(&pr, "generation 2: base bytes [100, 200) are missing");
    assert_problem(&pr, "generation 2: the base is incomplete; it cannot be restored");
    assert_int_equal(g->row.ended, T0 + 40);

    g = &plan.v[2];
    assert_int_equal(g->row.generation, 4);
    assert_int_equal(g->nbase, 0);
    assert_int_equal(g->row.base_complete, 0);
    assert_int_equal(g->row.base_time, T0 + 40); /* its first incr chunk's first second */
    assert_problem(&pr, "generation 4 has no base chunk; it cannot be restored");
    assert_int_equal(g->row.ended, 0);
    reindex_plan_free(&plan);
    reindex_problems_free(&pr);
    objs_free(&o);
}

static void test_nothing(void **state)
{
    struct objs o = {.n = 0};
    struct reindex_plan plan;
    struct reindex_problems pr = {NULL, 0, 0, 0};

    (void)state;
    reindex_plan_build(o.v, 0, MODE_AOF, &plan, &pr);
    assert_int_equal(plan.n, 0);
    assert_int_equal(pr.n, 0);
    /* a generation made only of empty objects records nothing */
    incr(&o, 1, 7, 7, T0, T0);
    reindex_plan_build(o.v, o.n, MODE_AOF, &plan, &pr);
    assert_int_equal(plan.n, 0);
    assert_int_equal(pr.n, 1);
    reindex_plan_free(&plan);
    reindex_problems_free(&pr);
    objs_free(&o);
}

static void test_problems(void **state)
{
    struct reindex_problems pr = {NULL, 0, 0, 0};
    int i;

    (void)state;
    for (i = 0; i < 40; i++)
        reindex_problem_add(&pr, i % 3 == 0, "problem %d of %s", i, "many");
    assert_int_equal(pr.n, 40);
    assert_int_equal(pr.corrupt, 14);
    assert_string_equal(pr.v[39].text, "problem 39 of many");
    assert_int_equal(pr.v[39].corrupt, 1);
    reindex_problems_free(&pr);
    assert_null(pr.v);
    assert_int_equal(pr.n, 0);
}

/* ------------------------------------------------------------------ */
/* Schema 3 fields from the scanner's marks                             */
/* ------------------------------------------------------------------ */

/* Mark incr object r as scanned right after `prev` with #TS lines first..last. */
static void scanned(struct reindex_object *r, const struct reindex_object *prev, int64_t first, int64_t last)
{
    r->scanned = 1;
    r->scan_prev = prev;
    r->marks.known = 1;
    r->marks.ts_first = first;
    r->marks.ts_last = last;
}

static void test_marks(void **state)
{
    struct objs o = {.n = 0};
    struct reindex_plan plan;
    struct reindex_problems pr = {NULL, 0, 0, 0};
    struct reindex_object *a, *b, *c, *d, *x;
    size_t i;

    (void)state;
    base(&o, 1, 0, 10, 10, T0);
    base(&o, 2, 0, 10, 10, T0 + 5);
    base(&o, 3, 0, 10, 10, T0 + 20);
    base(&o, 5, 0, 10, 10, T0 + 30);
    incr(&o, 1, 0, 10, T0, T0 + 4);
    incr(&o, 1, 10, 20, T0 + 4, T0 + 6);
    incr(&o, 2, 0, 10, T0 + 6, T0 + 19);
    incr(&o, 3, 0, 10, T0 + 20, T0 + 29);
    incr(&o, 5, 0, 10, T0 + 30, T0 + 31);
    reindex_plan_build(o.v, o.n, MODE_AOF, &plan, &pr);
    assert_int_equal(plan.n, 4);
    /* after the sort: find the incr objects by generation and start */
    a = b = c = d = x = NULL;
    for (i = 0; i < o.n; i++) {
        struct reindex_object *r = &o.v[i];

        if (r->name.kind != CHUNK_INCR)
            continue;
        if (r->name.generation == 1 && r->name.start == 0)
            a = r;
        else if (r->name.generation == 1)
            b = r;
        else if (r->name.generation == 2)
            c = r;
        else if (r->name.generation == 3)
            d = r;
        else
            x = r;
    }
    assert_true(a && b && c && d && x);
    /* generation 1 scanned whole, last #TS T0+6; generation 2 without #TS
     * lines (not exact, its lead is generation 1's last #TS); generation 3
     * scanned out of order (its marks are dropped); generation 5 follows
     * no generation 4 */
    scanned(a, NULL, T0 + 1, T0 + 4);
    scanned(b, a, 0, T0 + 6);
    scanned(c, NULL, 0, 0);
    scanned(d, c, T0 + 21, T0 + 28);
    scanned(x, NULL, T0 + 30, T0 + 31);
    reindex_plan_marks(&plan);
    assert_int_equal(plan.v[0].row.exact, GEN_YES);
    assert_int_equal(plan.v[0].row.lead_ts, 0);
    assert_int_equal(plan.v[1].row.exact, GEN_UNKNOWN);
    assert_int_equal(plan.v[1].row.lead_ts, T0 + 6);
    /* generation 3's chunk was not scanned after generation 3's start */
    assert_int_equal(plan.v[2].row.exact, GEN_UNKNOWN);
    assert_int_equal(d->marks.known, 0);
    assert_int_equal(d->marks.ts_first, 0);
    /* generation 2's lead (T0+6) is before generation 3's base time: no lead */
    assert_int_equal(plan.v[2].row.lead_ts, 0);
    assert_int_equal(plan.v[3].row.exact, GEN_YES);
    assert_int_equal(plan.v[3].row.lead_ts, 0);
    /* the unknowns stay unknown */
    for (i = 0; i < plan.n; i++) {
        assert_int_equal(plan.v[i].row.follows, GEN_UNKNOWN);
        assert_int_equal(plan.v[i].row.proven_end, 0);
    }
    reindex_plan_free(&plan);
    reindex_problems_free(&pr);
    objs_free(&o);
}

static void test_marks_rdb(void **state)
{
    struct objs o = {.n = 0};
    struct reindex_plan plan;
    struct reindex_problems pr = {NULL, 0, 0, 0};

    (void)state;
    base(&o, 1, 0, 10, 10, T0);
    base(&o, 2, 0, 10, 10, T0 + 60);
    reindex_plan_build(o.v, o.n, MODE_RDB, &plan, &pr);
    reindex_plan_marks(&plan);
    assert_int_equal(plan.n, 2);
    assert_int_equal(plan.v[0].row.mode, MODE_RDB);
    assert_int_equal(plan.v[0].nincr, 0);
    assert_int_equal(plan.v[1].row.exact, GEN_UNKNOWN);
    assert_int_equal(plan.v[1].row.lead_ts, 0);
    reindex_plan_free(&plan);
    reindex_problems_free(&pr);
    objs_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_archive), cmocka_unit_test(test_gaps_and_overlaps),
        cmocka_unit_test(test_bases),         cmocka_unit_test(test_nothing),
        cmocka_unit_test(test_problems),      cmocka_unit_test(test_marks),
        cmocka_unit_test(test_marks_rdb),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
