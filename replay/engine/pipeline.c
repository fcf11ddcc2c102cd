/* pipeline.c - commands streamed into a redis-server with the replies read
 * while sending. See pipeline.h. */
#include "pipeline.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "timeutil.h"
#include "xalloc.h"

#define PIPELINE_HIGH (256u << 10) /* pump when this much waits to be sent */
#define PIPELINE_SEND (256u << 10) /* at most this much per send() */
#define PIPELINE_INFLIGHT 200000   /* or when this many replies are owed */
#define PIPELINE_TIMEOUT_MS 60000  /* no progress for this long: the target hangs */

/* ------------------------------------------------------------------ */
/* Replies: only errors are kept                                        */
/* ------------------------------------------------------------------ */

/* A reply that is, or holds, an error; or an array that might. Every
 * other reply is &pipeline_plain, which is never freed. */
struct pipeline_reply {
    char *error; /* the first error in it, NULL when none */
};

static char pipeline_plain;

static void *pipeline_reply_string(const redisReadTask *t, char *s, size_t len)
{
    struct pipeline_reply *r;

    if (t->type != REDIS_REPLY_ERROR)
        return &pipeline_plain;
    if (t->parent != NULL) { /* inside an array: the array (outermost) keeps the first */
        r = t->parent->obj;
        if (r->error == NULL)
            r->error = xstrndup(s, len);
        return &pipeline_plain;
    }
    r = xcalloc(1, sizeof(*r));
    r->error = xstrndup(s, len);
    return r;
}

static void *pipeline_reply_array(const redisReadTask *t, int n)
{
    (void)n;
    if (t->parent != NULL) /* nested: its errors go to the outermost array */
        return t->parent->obj;
    return xcalloc(1, sizeof(struct pipeline_reply));
}

static void *pipeline_reply_integer(const redisReadTask *t, long long v)
{
    (void)t;
    (void)v;
    return &pipeline_plain;
}

static void *pipeline_reply_nil(const redisReadTask *t)
{
    (void)t;
    return &pipeline_plain;
}

static void pipeline_reply_free(void *obj)
{
    struct pipeline_reply *r = obj;

    if (obj == &pipeline_plain)
        return;
    free(r->error);
    free(r);
}

/* hiredis takes a non-const pointer; nothing writes to it */
static redisReplyObjectFunctions pipeline_reply_fns = {pipeline_reply_string, pipeline_reply_array,
                                                       pipeline_reply_integer, pipeline_reply_nil,
                                                       pipeline_reply_free};

/* The reader's own functions back, once it holds no reply of ours: no
 * reply begun (hiredis leaves ridx at 0 with no type read after looking
 * for one more). */
static void pipeline_release_reader(struct pipeline *p)
{
    redisReader *r;

    if (p->reader_fn == NULL) /* never installed (or already put back) */
        return;
    r = p->rc->reader;
    if (r->reply == NULL && (r->ridx == -1 || (r->ridx == 0 && r->rstack[0].type < 0))) {
        r->fn = p->reader_fn;
        p->reader_fn = NULL;
    }
}

void pipeline_init(struct pipeline *p, redisContext *rc, const char *what, uint64_t start, int db, int64_t ts)
{
    memset(p, 0, sizeof(*p));
    p->rc = rc;
    p->what = what;
    p->acked = start;
    p->acked_db = db;
    p->acked_ts = ts;
    p->send_limit = UINT64_MAX;
    err_clear(&p->first);
    p->reader_fn = rc->reader->fn;
    rc->reader->fn = &pipeline_reply_fns;
}

void pipeline_free(struct pipeline *p)
{
    /* after a failure the reader may hold a reply of ours: then it keeps
     * our functions, which free it with the connection. A pipeline that
     * was never initialised (all zeros: reader_fn NULL) holds nothing. */
    pipeline_release_reader(p);
    buf_free(&p->out);
    free(p->q);
    p->q = NULL;
}

/* 1 for the first failure (the caller fills p->first), 0 after. */
static int pipeline_first_failure(struct pipeline *p)
{
    if (p->failed)
        return 0;
    p->failed = 1;
    return 1;
}

/* The error in a reply: an error reply, or an EXEC whose array holds one. */
static const char *pipeline_reply_error(const void *reply)
{
    return reply == &pipeline_plain ? NULL : ((const struct pipeline_reply *)reply)->error;
}

/* Move the position over the head entry, which is done. */
static void pipeline_ack(struct pipeline *p)
{
    const struct pipeline_entry *s = &p->q[p->q_head++];

    if (!s->is_ts) {
        p->inflight--;
        p->acked_wire = s->wire_end;
    }
    if (!s->in_txn || s->kind == AOFSCAN_CMD_EXEC || s->kind == AOFSCAN_CMD_DISCARD) {
        p->acked = s->end;
        p->acked_db = s->db;
        p->acked_ts = s->ts;
    }
    if (p->q_head == p->q_n)
        p->q_head = p->q_n = 0;
}

/* #TS entries at the head owe no reply. */
static void pipeline_ack_passed(struct pipeline *p)
{
    while (p->q_head < p->q_n && p->q[p->q_head].is_ts && p->q[p->q_head].wire_end <= p->sent)
        pipeline_ack(p);
}

/* Read what has arrived and match the replies to the queue. */
static int pipeline_read(struct pipeline *p)
{
    void *reply;

    if (redisBufferRead(p->rc) != REDIS_OK) {
        if (pipeline_first_failure(p))
            err_set(&p->first, ERR_IO, "%s: connection lost after incr offset %llu: %s", p->what,
                    (unsigned long long)p->acked, p->rc->errstr);
        return -1;
    }
    for (;;) {
        const char *msg;

        reply = NULL;
        if (redisGetReplyFromReader(p->rc, &reply) != REDIS_OK) {
            if (pipeline_first_failure(p))
                err_set(&p->first, ERR_REDIS, "%s: unreadable reply after incr offset %llu: %s", p->what,
                        (unsigned long long)p->acked, p->rc->errstr);
            return -1;
        }
        if (reply == NULL)
            return 0;
        pipeline_ack_passed(p);
        if (p->q_head == p->q_n) {
            pipeline_reply_free(reply);
            if (pipeline_first_failure(p))
                err_set(&p->first, ERR_REDIS, "%s sent a reply to no command (after incr offset %llu)",
                        p->what, (unsigned long long)p->acked);
            return -1;
        }
        msg = pipeline_reply_error(reply);
        if (msg != NULL && pipeline_first_failure(p))
            err_set(&p->first, ERR_REDIS, "%s refused the command at incr offset %llu: %s", p->what,
                    (unsigned long long)p->q[p->q_head].start, msg);
        pipeline_reply_free(reply);
        pipeline_ack(p);
        pipeline_ack_passed(p);
    }
}

/* Send what the socket takes now, without blocking. */
static int pipeline_write(struct pipeline *p)
{
    size_t n = p->out.len - p->out_pos;
    ssize_t w;

    if (n > PIPELINE_SEND)
        n = PIPELINE_SEND;
    if (n > p->send_limit - p->sent)
        n = (size_t)(p->send_limit - p->sent);
    w = send(p->rc->fd, p->out.data + p->out_pos, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        if (pipeline_first_failure(p))
            err_sys(&p->first, errno, "%s: send after incr offset %llu", p->what,
                    (unsigned long long)p->acked);
        return -1;
    }
    p->out_pos += (size_t)w;
    p->sent += (uint64_t)w;
    if (p->out_pos == p->out.len) {
        buf_reset(&p->out);
        p->out_pos = 0;
    }
    return 0;
}

/* Commands whose bytes all went out: only their replies can come. */
static int pipeline_owed(const struct pipeline *p)
{
    size_t i;

    for (i = p->q_head; i < p->q_n; i++)
        if (!p->q[i].is_ts)
            return p->q[i].wire_end <= p->sent;
    return 0;
}

/* Bytes that may still go out: all of them, or after a halt the rest of
 * the command begun. */
static int pipeline_may_send(const struct pipeline *p)
{
    return !p->failed && p->out.len > p->out_pos && p->sent < p->send_limit;
}

/* Keep both directions moving until `done` holds:
 * final = 0: little is left to send and the replies owed are bounded;
 * final = 1: everything sent and every reply read (or, after a failure or
 *            a halt, every reply to a command sent whole). */
static int pipeline_pump(struct pipeline *p, int final)
{
    for (;;) {
        struct pollfd pfd;
        double t0;
        int rc;

        pipeline_ack_passed(p);
        if (p->failed || p->halted) {
            /* send nothing new; collect the replies owed for what went out whole */
            if (!pipeline_may_send(p) && !pipeline_owed(p))
                return p->failed ? -1 : 0;
        } else if (final ? p->out.len == p->out_pos && p->q_head == p->q_n
                         : p->out.len - p->out_pos < PIPELINE_HIGH / 2 && p->inflight < PIPELINE_INFLIGHT) {
            return 0;
        }
        pfd.fd = p->rc->fd;
        pfd.events = POLLIN;
        if (pipeline_may_send(p))
            pfd.events |= POLLOUT;
        pfd.revents = 0;
        t0 = time_monotonic();
        rc = poll(&pfd, 1, PIPELINE_TIMEOUT_MS);
        p->wait_seconds += time_monotonic() - t0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            if (pipeline_first_failure(p))
                err_set(&p->first, ERR_IO, "%s: no progress for %d s after incr offset %llu", p->what,
                        PIPELINE_TIMEOUT_MS / 1000, (unsigned long long)p->acked);
            return -1;
        }
        if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && pipeline_read(p) < 0)
            return -1;
        if ((pfd.revents & POLLOUT) && pipeline_may_send(p) && pipeline_write(p) < 0)
            return -1;
    }
}

int pipeline_emit(void *ud, const char *data, size_t len, const struct cut_event *ev, struct err *e)
{
    struct pipeline *p = ud;
    struct pipeline_entry *s;

    if (p->failed) {
        *e = p->first;
        return -1;
    }
    if (p->q_n == p->q_cap) {
        if (p->q_head > 0) {
            memmove(p->q, p->q + p->q_head, (p->q_n - p->q_head) * sizeof(*p->q));
            p->q_n -= p->q_head;
            p->q_head = 0;
        } else {
            p->q_cap = p->q_cap ? p->q_cap * 2 : 4096;
            p->q = xrealloc(p->q, p->q_cap * sizeof(*p->q));
        }
    }
    if (!ev->is_ts) {
        buf_append(&p->out, data, len);
        p->wire += len;
        p->inflight++;
        p->commands++;
    }
    s = &p->q[p->q_n++];
    s->start = ev->start;
    s->end = ev->end;
    s->wire_end = p->wire;
    s->kind = ev->kind;
    s->is_ts = ev->is_ts;
    s->in_txn = ev->in_txn;
    s->db = ev->db;
    s->ts = ev->is_ts ? ev->ts_value : ev->ts;
    if (p->out.len - p->out_pos >= PIPELINE_HIGH || p->inflight >= PIPELINE_INFLIGHT) {
        if (pipeline_pump(p, 0) < 0) {
            *e = p->first;
            return -1;
        }
    }
    return 0;
}

int pipeline_finish(struct pipeline *p, struct err *e)
{
    if (pipeline_pump(p, 1) < 0 || p->failed) {
        *e = p->first;
        return -1;
    }
    pipeline_ack_passed(p);
    pipeline_release_reader(p);
    return 0;
}

/* How far a halted pipeline still sends: to the end of the command cut
 * short, if any, and when a transaction has begun to go out, through its
 * EXEC (the cut engine hands a transaction over whole, so it is queued),
 * so that the connection is left between commands and outside MULTI. */
static uint64_t pipeline_halt_point(const struct pipeline *p)
{
    uint64_t start = p->acked_wire; /* where the next command not acknowledged begins */
    int in_multi = -1;              /* unknown until the first command queued */
    size_t i;

    for (i = p->q_head; i < p->q_n; i++) {
        const struct pipeline_entry *s = &p->q[i];

        if (s->is_ts)
            continue;
        if (in_multi < 0) /* its MULTI already acknowledged: inside a transaction */
            in_multi = s->in_txn && s->kind != AOFSCAN_CMD_MULTI;
        if (s->wire_end > p->sent && start == p->sent && !in_multi)
            return p->sent; /* between commands, outside a transaction */
        if (s->wire_end > p->sent &&
            (!s->in_txn || s->kind == AOFSCAN_CMD_EXEC || s->kind == AOFSCAN_CMD_DISCARD))
            return s->wire_end;
        if (s->kind == AOFSCAN_CMD_MULTI)
            in_multi = 1;
        else if (s->kind == AOFSCAN_CMD_EXEC || s->kind == AOFSCAN_CMD_DISCARD)
            in_multi = 0;
        start = s->wire_end;
    }
    return p->sent;
}

int pipeline_drain(struct pipeline *p)
{
    p->halted = 1;
    p->send_limit = pipeline_halt_point(p);
    if (p->failed || pipeline_pump(p, 1) < 0)
        return -1;
    pipeline_ack_passed(p);
    pipeline_release_reader(p);
    return 0;
}
