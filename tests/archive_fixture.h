/* archive_fixture.h - a small archive built by a unit test: a file://
 * storage and an index in a temp dir, holding the generations and chunks
 * the test records, each chunk gzip-encoded, stored and indexed the way
 * the collector does it (object first, then its row, with its CRC32 and
 * the SHA-256 of the stored object). For the tests of replay/ modules that
 * read an archive back (test_fetch, test_inspect_decode). Not a test
 * program itself. */
#ifndef AOFROLL_TESTS_ARCHIVE_FIXTURE_H
#define AOFROLL_TESTS_ARCHIVE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "chunkscan.h"
#include "config.h"
#include "index.h"
#include "storage.h"

struct archive {
    char dir[1024];   /* the temp dir */
    char url[1100];   /* file://dir/store */
    char index[1100]; /* dir/index.db */
    struct config cfg;
    struct storage *st;
    struct index *idx;
    const char *instance; /* "live" */
    int64_t instance_id;
};

/* Make the temp dir (under AOFROLL_TEST_TMP, named after `test`), open the
 * storage and a fresh index with instance "live". 0 or -1. */
int archive_open(struct archive *a, const char *test);
/* Close both and remove the temp dir. */
void archive_close(struct archive *a);
/* cmocka setup and teardown: *state becomes an archive opened for the
 * test named `test`, then is closed and freed. */
int archive_setup(void **state, const char *test);
int archive_teardown(void **state);
/* Rewrite generation r's mutable fields (index_generation_update). */
void archive_generation_update(struct archive *a, const struct gen_row *r);
/* Record generation g (mode aof, rdb base of base_size bytes taken at
 * base_time, complete or not), open (ended 0). */
void archive_generation(struct archive *a, int64_t g, int64_t base_time, uint64_t base_size, int complete);
/* Encode, store and index the raw bytes [start, end) of (g, kind), taken
 * from data (which holds the whole stream from offset 0), observed from
 * second first to last, with the scanner's marks (NULL: none recorded).
 * Returns the row's id. */
int64_t archive_chunk(struct archive *a, int64_t g, enum chunk_kind kind, const char *data, uint64_t start,
                      uint64_t end, int64_t first, int64_t last, const struct chunk_marks *marks);

#endif
