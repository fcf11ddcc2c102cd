/* chunkscan.c - the marks of each incr chunk (see chunkscan.h).
 *
 * The scanner reports every command and annotation when its last byte
 * arrives. After each one, the stream stands at a boundary unless a MULTI
 * is open; the first such point at or after a chunk's start (the start
 * itself when the previous chunk ended on one) is the chunk's boundary. */
#include "chunkscan.h"

#include <string.h>

static int chunkscan_on_command(void *ud, const struct aofscan_command *cmd)
{
    struct chunkscan *cs = ud;

    if (cmd->kind == AOFSCAN_CMD_SELECT)
        cs->db = cmd->db;
    if (cs->cur != NULL && cs->cur->boundary < 0 && aofscan_where(&cs->scan) == AOFSCAN_BETWEEN &&
        cmd->end < cs->cur_end) {
        cs->cur->boundary = (int64_t)cmd->end;
        cs->cur->boundary_db = cs->db;
        cs->cur->boundary_ts = cs->ts;
    }
    return 0;
}

static int chunkscan_on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    struct chunkscan *cs = ud;

    (void)start;
    cs->ts = ts;
    cs->saw_ts = 1;
    if (cs->cur == NULL)
        return 0;
    if (cs->cur->ts_first == 0)
        cs->cur->ts_first = ts;
    cs->cur->ts_last = ts;
    if (cs->cur->boundary < 0 && aofscan_where(&cs->scan) == AOFSCAN_BETWEEN && end < cs->cur_end) {
        cs->cur->boundary = (int64_t)end;
        cs->cur->boundary_db = cs->db;
        cs->cur->boundary_ts = ts;
    }
    return 0;
}

static const struct aofscan_callbacks chunkscan_callbacks = {
    .on_command = chunkscan_on_command,
    .on_timestamp = chunkscan_on_timestamp,
};

void chunkscan_init(struct chunkscan *cs, uint64_t offset, int db, int64_t ts)
{
    memset(cs, 0, sizeof(*cs));
    aofscan_init(&cs->scan, offset, &chunkscan_callbacks, cs);
    cs->known = 1;
    cs->db = db;
    cs->ts = ts;
    err_clear(&cs->error);
}

void chunkscan_lose(struct chunkscan *cs, const char *why)
{
    if (!cs->known)
        return;
    cs->known = 0;
    err_set(&cs->error, ERR_CORRUPT, "%s", why);
}

void chunkscan_chunk(struct chunkscan *cs, const char *data, size_t len, struct chunk_marks *m)
{
    uint64_t start = aofscan_offset(&cs->scan);

    memset(m, 0, sizeof(*m));
    m->boundary = -1;
    if (!cs->known)
        return;
    if (aofscan_where(&cs->scan) == AOFSCAN_BETWEEN && len > 0) {
        m->boundary = (int64_t)start;
        m->boundary_db = cs->db;
        m->boundary_ts = cs->ts;
    }
    cs->cur = m;
    cs->cur_end = start + len;
    if (aofscan_feed(&cs->scan, data, len, NULL, &cs->error) < 0) {
        cs->known = 0;
        cs->cur = NULL;
        memset(m, 0, sizeof(*m));
        m->boundary = -1;
        return;
    }
    cs->cur = NULL;
    m->known = 1;
}

void chunkscan_merge(struct chunk_marks *a, const struct chunk_marks *b)
{
    if (!a->known || !b->known) {
        memset(a, 0, sizeof(*a));
        a->boundary = -1;
        return;
    }
    if (a->ts_first == 0)
        a->ts_first = b->ts_first;
    if (b->ts_last != 0)
        a->ts_last = b->ts_last;
    if (a->boundary < 0) {
        a->boundary = b->boundary;
        a->boundary_db = b->boundary_db;
        a->boundary_ts = b->boundary_ts;
    }
}

int chunkscan_known(const struct chunkscan *cs)
{
    return cs->known;
}

uint64_t chunkscan_offset(const struct chunkscan *cs)
{
    return aofscan_offset(&cs->scan);
}

int64_t chunkscan_ts(const struct chunkscan *cs)
{
    return cs->known ? cs->ts : 0;
}

const char *chunkscan_error(const struct chunkscan *cs)
{
    return cs->known ? "" : cs->error.msg;
}
