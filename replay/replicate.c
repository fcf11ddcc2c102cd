/* replicate.c - a restored directory served to an empty target as its
 * master for one full synchronisation (replicate.h).
 *
 * The steps, each in a function of its own: check the target (a master,
 * not a cluster node, an RDB it can read), listen, REPLICAOF, accept,
 * the handshake, the payload, the stream, the acknowledgement,
 * REPLICAOF NO ONE. Until the payload starts nothing of the target has
 * changed: a step that fails there gives REPLICATE_NOT_HERE (after
 * REPLICAOF NO ONE). After that a failure is one.
 *
 * The replica's socket is non-blocking; every wait is a poll() of at most
 * a second, and a replica that makes no progress for
 * REPLICATE_STALL_CHECK_S is asked over the client connection whether it
 * is alive (a large payload takes it a while to load, during which it
 * reads nothing and answers -LOADING). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aofscan.h"
#include "buf.h"
#include "crc64.h"
#include "replicate.h"
#include "server.h"
#include "target.h"
#include "timeutil.h"

#define RP_BASE_RDB "appendonly.aof.1.base.rdb"
#define RP_BASE_AOF "appendonly.aof.1.base.aof"
#define RP_INCR "appendonly.aof.1.incr.aof"
#define RP_READ_SIZE (1024 * 1024) /* also: commands gathered before a write */
#define RP_POLL_MS 1000
#define RP_SELECT0 "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
#define RP_GETACK "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"

/* ------------------------------------------------------------------ */
/* Before: can this target replicate from us?                           */
/* ------------------------------------------------------------------ */

/* The reason to go key by key instead, in e. */
static int rp_not_here(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rp_not_here(struct err *e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    e->code = ERR_USAGE;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return REPLICATE_NOT_HERE;
}

/* The target must be a master outside a cluster, and read the base's RDB
 * version when the base is one (-1: it cannot; running it key by key
 * would not help, the DUMP payloads would be as new). */
static int rp_check_target(struct replicate_link *p, const char *base_rdb, struct err *e)
{
    char val[64], head[64], writer[64], who[64];
    redisReply *r;
    struct server_id id;
    int fd, n, rdb, max, exact;

    if (target_info_field(p->dst, p->what, "replication", "role", val, sizeof(val), e) < 0)
        return -1;
    if (strcmp(val, "master") != 0)
        return rp_not_here(e, "the target is a %s", val);
    if (target_info_field(p->dst, p->what, "cluster", "cluster_enabled", val, sizeof(val), e) == 0 &&
        strcmp(val, "1") == 0)
        return rp_not_here(e, "the target is a %s", "cluster node");
    err_clear(e);
    if (base_rdb == NULL)
        return REPLICATE_DONE;
    fd = open(base_rdb, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, errno, "open \"%s\"", base_rdb);
    n = (int)read(fd, head, sizeof(head));
    close(fd);
    if (n < 0 || server_rdb_header(head, (size_t)n, &rdb, writer, sizeof(writer), e) < 0)
        return rp_not_here(e, "the restored base \"%s\" does not start as an RDB file", base_rdb);
    r = redisCommand(p->dst, "INFO server");
    if (r == NULL)
        return err_set(e, ERR_IO, "INFO server on %s: %s", p->what, p->dst->errstr);
    if (r->type != REDIS_REPLY_STRING || server_from_info(r->str, r->len, &id, e) < 0) {
        freeReplyObject(r);
        return rp_not_here(e, "%s does not say which server it is", p->what);
    }
    freeReplyObject(r);
    max = server_rdb_version(&id, &exact);
    if (exact && rdb > max)
        return err_set(e, ERR_REDIS,
                       "the base is RDB version %d, written by %s; %s is %s, which reads RDB versions up to "
                       "%d HINT: restore into %s or a newer server",
                       rdb, writer[0] != '\0' ? writer : "a newer server", p->what,
                       server_describe(&id, who, sizeof(who)), max,
                       writer[0] != '\0' ? writer : "the server that wrote it");
    return REPLICATE_DONE;
}

/* A socket on an ephemeral port of the address aofroll reaches the target
 * from (127.0.0.1 for a unix socket target): *lfd, its "ADDR:PORT" in
 * st->master, the parts in host/port. */
static int rp_listen(struct replicate_link *p, char *host, size_t hostsz, int *port,
                     struct replicate_stats *st, struct err *e)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;

    if (getsockname(p->dst->fd, (struct sockaddr *)&ss, &len) < 0 ||
        (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        memset(&ss, 0, sizeof(ss));
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = 0;
    len = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys(e, errno, "socket");
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        err_sys(e, errno, "listen for the target's replication link");
        close(fd);
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, (socklen_t)hostsz);
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, (socklen_t)hostsz);
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    snprintf(st->master, sizeof(st->master), ss.ss_family == AF_INET ? "%s:%d" : "[%s]:%d", host, *port);
    p->lfd = fd;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The link                                                             */
/* ------------------------------------------------------------------ */

/* No progress for a while: is the target still there? */
static int rp_alive(struct replicate_link *p, struct err *e)
{
    redisReply *r;

    if (time_monotonic() - p->progress < REPLICATE_STALL_CHECK_S)
        return 0;
    r = redisCommand(p->dst, "PING");
    if (r == NULL)
        return err_set(e, ERR_IO, "%s stopped answering during the replication (after %llu bytes): %s",
                       p->what, (unsigned long long)p->sent, p->dst->errstr);
    freeReplyObject(r);
    p->progress = time_monotonic();
    return 0;
}

/* Wait until fd is ready for `events`, a second at most. */
static int rp_wait(struct replicate_link *p, short events, struct err *e)
{
    struct pollfd pfd = {p->fd, events, 0};
    int n = poll(&pfd, 1, RP_POLL_MS);

    if (n < 0 && errno != EINTR)
        return err_sys(e, errno, "poll");
    if (n <= 0)
        return rp_alive(p, e);
    return 0;
}

static int rp_lost(struct replicate_link *p, int errnum, struct err *e)
{
    return err_set(e, ERR_IO, "%s closed its replication link after %llu bytes of the stream%s%s", p->what,
                   (unsigned long long)p->sent, errnum ? ": " : "", errnum ? strerror(errnum) : "");
}

static int rp_write(struct replicate_link *p, const char *data, size_t len, struct err *e)
{
    while (len > 0) {
        ssize_t n = write(p->fd, data, len);

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (rp_wait(p, POLLOUT, e) < 0)
                return -1;
            continue;
        }
        if (n < 0)
            return rp_lost(p, errno, e);
        data += n;
        len -= (size_t)n;
        p->progress = time_monotonic();
    }
    return 0;
}

/* The replica's next request (an array of bulk strings), waiting at most
 * `timeout_s` (0: until it stalls, see rp_alive). NULL with e set. */
static redisReply *rp_request(struct replicate_link *p, int timeout_s, struct err *e)
{
    double until = time_monotonic() + timeout_s;

    for (;;) {
        void *reply = NULL;
        char buf[4096];
        ssize_t n;

        if (redisReaderGetReply(p->reader, &reply) != REDIS_OK) {
            err_set(e, ERR_REDIS, "%s sent what is not RESP on its replication link", p->what);
            return NULL;
        }
        if (reply != NULL)
            return reply;
        n = read(p->fd, buf, sizeof(buf));
        if (n > 0) {
            redisReaderFeed(p->reader, buf, (size_t)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            rp_lost(p, n == 0 ? 0 : errno, e);
            return NULL;
        }
        if (timeout_s > 0 && time_monotonic() >= until) {
            err_set(e, ERR_IO, "%s started its replication handshake but did not finish it in %d s", p->what,
                    timeout_s);
            return NULL;
        }
        if (rp_wait(p, POLLIN, e) < 0)
            return NULL;
    }
}

/* The request's name: its first element, NULL when it is not an array. */
static const char *rp_name(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->element[0]->type != REDIS_REPLY_STRING)
        return NULL;
    return r->element[0]->str;
}

/* Answer PING, AUTH and REPLCONF until PSYNC or SYNC; *psync tells which. */
static int rp_handshake(struct replicate_link *p, int *psync, struct err *e)
{
    for (;;) {
        redisReply *r = rp_request(p, REPLICATE_CONNECT_TIMEOUT_S, e);
        const char *name, *answer;

        if (r == NULL)
            return -1;
        name = rp_name(r);
        if (name != NULL && (strcasecmp(name, "PSYNC") == 0 || strcasecmp(name, "SYNC") == 0)) {
            *psync = strcasecmp(name, "PSYNC") == 0;
            freeReplyObject(r);
            return 0;
        }
        answer = name != NULL && strcasecmp(name, "PING") == 0 ? "+PONG\r\n" : "+OK\r\n";
        freeReplyObject(r);
        if (rp_write(p, answer, strlen(answer), e) < 0)
            return -1;
    }
}

/* ------------------------------------------------------------------ */
/* What is sent                                                         */
/* ------------------------------------------------------------------ */

/* The payload: the restored base RDB, or an empty RDB (its CRC-64 as
 * Redis computes it) when the base is not one. */
static int rp_payload(struct replicate_link *p, int psync, const char *base_rdb, struct replicate_stats *st,
                      struct err *e)
{
    unsigned char id[20];
    char line[128];
    int n, fd = -1, ret = -1;

    if (psync) {
        if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
            return err_sys(e, errno, "getrandom");
        n = snprintf(line, sizeof(line), "+FULLRESYNC ");
        for (size_t i = 0; i < sizeof(id); i++)
            n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", id[i]);
        n += snprintf(line + n, sizeof(line) - (size_t)n, " 0\r\n");
        if (rp_write(p, line, (size_t)n, e) < 0)
            return -1;
    }
    if (base_rdb == NULL) {
        unsigned char empty[18] = "REDIS0009\xff";
        uint64_t crc = crc64(0, empty, 10);

        for (int i = 0; i < 8; i++)
            empty[10 + i] = (unsigned char)(crc >> (8 * i));
        n = snprintf(line, sizeof(line), "$%zu\r\n", sizeof(empty));
        st->rdb_bytes = sizeof(empty);
        return rp_write(p, line, (size_t)n, e) < 0 || rp_write(p, (const char *)empty, sizeof(empty), e) < 0
                   ? -1
                   : 0;
    }
    {
        struct stat sb;
        off_t off = 0;

        fd = open(base_rdb, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0) {
            err_sys(e, errno, "open \"%s\"", base_rdb);
            goto out;
        }
        n = snprintf(line, sizeof(line), "$%lld\r\n", (long long)sb.st_size);
        if (rp_write(p, line, (size_t)n, e) < 0)
            goto out;
        while (off < sb.st_size) {
            ssize_t w = sendfile(p->fd, fd, &off, (size_t)(sb.st_size - off));

            if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (rp_wait(p, POLLOUT, e) < 0)
                    goto out;
                continue;
            }
            if (w < 0) {
                rp_lost(p, errno, e);
                goto out;
            }
            if (w == 0) {
                err_set(e, ERR_CORRUPT, "\"%s\" ended early (it changed while it was sent)", base_rdb);
                goto out;
            }
            p->progress = time_monotonic();
        }
        st->rdb_bytes = (uint64_t)sb.st_size;
    }
    ret = 0;
out:
    if (fd >= 0)
        close(fd);
    return ret;
}

/* One file's commands, sent in runs of adjacent commands: the bytes
 * between two runs are #TS lines, which are not. */
struct rp_file {
    struct replicate_link *p;
    struct buf data;    /* the file's bytes from offset `start` */
    uint64_t start;     /* file offset of data.data[0] */
    uint64_t run_start; /* [run_start, run_end): commands not sent yet */
    uint64_t run_end;
    struct err *e; /* a write that failed in a callback */
    int failed;
};

static int rp_send_run(struct rp_file *f)
{
    size_t len = (size_t)(f->run_end - f->run_start);

    if (len > 0 && rp_write(f->p, f->data.data + (f->run_start - f->start), len, f->e) < 0) {
        f->failed = 1;
        return -1;
    }
    f->p->sent += len;
    f->run_start = f->run_end;
    return 0;
}

static int rp_on_command(void *ud, const struct aofscan_command *cmd)
{
    struct rp_file *f = ud;

    if (cmd->start != f->run_end) { /* a #TS line before it */
        if (rp_send_run(f) < 0)
            return 1;
        f->run_start = cmd->start;
    }
    f->run_end = cmd->end;
    return 0;
}

static int rp_on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    (void)ud;
    (void)ts;
    (void)start;
    (void)end;
    return 0;
}

static const struct aofscan_callbacks rp_callbacks = {
    .on_command = rp_on_command,
    .on_timestamp = rp_on_timestamp,
};

/* A file of the restored directory as replication stream, after a SELECT
 * 0 (Redis loads each AOF file from db 0). */
static int rp_stream_file(struct replicate_link *p, const char *path, struct err *e)
{
    struct rp_file f = {p, BUF_INIT, 0, 0, 0, e, 0};
    struct aofscan scan;
    int fd, ret = -1;

    aofscan_init(&scan, 0, &rp_callbacks, &f);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, errno, "open \"%s\"", path);
    if (rp_write(p, RP_SELECT0, strlen(RP_SELECT0), e) < 0)
        goto out;
    p->sent += strlen(RP_SELECT0);
    for (;;) {
        size_t have = f.data.len, drop;
        ssize_t n;
        int rc;

        buf_reserve(&f.data, RP_READ_SIZE);
        n = read(fd, f.data.data + have, RP_READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_sys(e, errno, "read \"%s\"", path);
            goto out;
        }
        if (n == 0)
            break;
        f.data.len += (size_t)n;
        rc = aofscan_feed(&scan, f.data.data + have, (size_t)n, NULL, e);
        if (rc < 0) {
            err_prefix(e, "\"%s\"", path);
            goto out;
        }
        if (f.failed || rp_send_run(&f) < 0)
            goto out;
        /* what is left: a command or #TS line not complete yet */
        drop = (size_t)(f.run_end - f.start);
        memmove(f.data.data, f.data.data + drop, f.data.len - drop);
        f.data.len -= drop;
        f.start = f.run_end;
    }
    if (aofscan_where(&scan) != AOFSCAN_BETWEEN) {
        err_set(e, ERR_CORRUPT, "\"%s\" ends inside a command or a transaction at byte %llu", path,
                (unsigned long long)aofscan_offset(&scan));
        goto out;
    }
    ret = 0;
out:
    close(fd);
    buf_free(&f.data);
    return ret;
}

/* ------------------------------------------------------------------ */
/* After: everything processed, the target let go                       */
/* ------------------------------------------------------------------ */

/* REPLCONF GETACK, then the replica's acknowledgements until it has
 * processed every byte sent before it. */
static int rp_acknowledged(struct replicate_link *p, struct err *e)
{
    uint64_t want = p->sent;

    if (rp_write(p, RP_GETACK, strlen(RP_GETACK), e) < 0)
        return -1;
    p->sent += strlen(RP_GETACK);
    while (p->acked < want) {
        redisReply *r = rp_request(p, 0, e);
        const char *name;

        if (r == NULL)
            return -1;
        name = rp_name(r);
        if (name != NULL && strcasecmp(name, "REPLCONF") == 0 && r->elements >= 3 &&
            strcasecmp(r->element[1]->str, "ACK") == 0) {
            uint64_t off = strtoull(r->element[2]->str, NULL, 10);

            if (off > p->acked) {
                p->acked = off;
                p->progress = time_monotonic();
            }
        }
        freeReplyObject(r);
    }
    return 0;
}

static int rp_let_go(struct replicate_link *p, struct err *e)
{
    redisReply *r = redisCommand(p->dst, "REPLICAOF NO ONE");

    if (r == NULL)
        return err_set(e, ERR_IO, "REPLICAOF NO ONE on %s: %s HINT: run it there by hand", p->what,
                       p->dst->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "REPLICAOF NO ONE on %s: %s HINT: run it there by hand", p->what, r->str);
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    return 0;
}

/* Accept the target's connection, REPLICATE_CONNECT_TIMEOUT_S at most. */
static int rp_accept(struct replicate_link *p, const char *master, struct err *e)
{
    struct pollfd pfd = {p->lfd, POLLIN, 0};
    int n;

    do
        n = poll(&pfd, 1, REPLICATE_CONNECT_TIMEOUT_S * 1000);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return rp_not_here(e, "the target did not connect back to %s for its replication link", master);
    p->fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (p->fd < 0)
        return err_sys(e, errno, "accept");
    return 0;
}

/* ------------------------------------------------------------------ */
/* The steps                                                            */
/* ------------------------------------------------------------------ */

void replicate_init(struct replicate *rp, redisContext *dst, const char *what)
{
    memset(rp, 0, sizeof(*rp));
    rp->p.dst = dst;
    rp->p.what = what;
    rp->p.fd = -1;
    rp->p.lfd = -1;
    rp->pending = (struct buf)BUF_INIT;
}

int replicate_begin(struct replicate *rp, const char *base_rdb, struct err *e)
{
    struct replicate_link *p = &rp->p;
    struct timeval tv = {REPLICATE_CONNECT_TIMEOUT_S, 0};
    char host[64];
    redisReply *r;
    int port = 0, psync = 0, rc;

    (void)redisSetTimeout(p->dst, tv);
    rc = rp_check_target(p, base_rdb, e);
    if (rc != REPLICATE_DONE)
        return rc;
    if (rp_listen(p, host, sizeof(host), &port, &rp->st, e) < 0)
        return -1;
    r = redisCommand(p->dst, "REPLICAOF %s %d", host, port);
    if (r == NULL)
        return err_set(e, ERR_IO, "REPLICAOF on %s: %s", p->what, p->dst->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
        rc = rp_not_here(e, "the target refused REPLICAOF: %s", r->str);
        freeReplyObject(r);
        return rc;
    }
    freeReplyObject(r);
    rp->replicating = 1;
    p->progress = time_monotonic();
    p->reader = redisReaderCreate();
    if ((rc = rp_accept(p, rp->st.master, e)) != 0 || rp_handshake(p, &psync, e) < 0) {
        e->code = ERR_USAGE;
        return rc < 0 ? -1 : REPLICATE_NOT_HERE;
    }
    /* from here on the target has let its data go */
    rp->streaming = 1;
    if (rp_payload(p, psync, base_rdb, &rp->st, e) < 0)
        return -1;
    return REPLICATE_DONE;
}

int replicate_next_file(struct replicate *rp, struct err *e)
{
    return replicate_commands(rp, RP_SELECT0, strlen(RP_SELECT0), e);
}

int replicate_commands(struct replicate *rp, const char *data, size_t len, struct err *e)
{
    buf_append(&rp->pending, data, len);
    if (rp->pending.len < RP_READ_SIZE)
        return 0;
    return replicate_flush(rp, e);
}

int replicate_flush(struct replicate *rp, struct err *e)
{
    if (rp->pending.len > 0 && rp_write(&rp->p, rp->pending.data, rp->pending.len, e) < 0)
        return -1;
    rp->p.sent += rp->pending.len;
    buf_reset(&rp->pending);
    return 0;
}

int replicate_file(struct replicate *rp, const char *path, struct err *e)
{
    return replicate_next_file(rp, e) < 0 || replicate_flush(rp, e) < 0 ? -1
                                                                        : rp_stream_file(&rp->p, path, e);
}

int replicate_end(struct replicate *rp, struct err *e)
{
    if (replicate_flush(rp, e) < 0 || rp_acknowledged(&rp->p, e) < 0)
        return -1;
    rp->st.stream_bytes = rp->p.sent;
    rp->replicating = 0;
    return rp_let_go(&rp->p, e);
}

void replicate_close(struct replicate *rp, struct err *e)
{
    struct timeval none = {0, 0};

    if (rp->replicating) {
        struct err le;

        err_clear(&le);
        rp->replicating = 0;
        if (rp_let_go(&rp->p, &le) < 0)
            fprintf(stderr, "aofroll restore: %s\n", le.msg);
    }
    if (e != NULL && rp->streaming)
        err_prefix(e, "replication into %s from %s stopped", rp->p.what, rp->st.master);
    rp->streaming = 0;
    if (rp->p.reader != NULL)
        redisReaderFree(rp->p.reader);
    rp->p.reader = NULL;
    if (rp->p.fd >= 0)
        close(rp->p.fd);
    if (rp->p.lfd >= 0)
        close(rp->p.lfd);
    rp->p.fd = rp->p.lfd = -1;
    if (rp->p.dst != NULL)
        (void)redisSetTimeout(rp->p.dst, none);
    buf_free(&rp->pending);
}

int replicate_dir(struct replicate *rp, const char *aofdir, struct err *e)
{
    struct buf base_rdb = BUF_INIT, base_aof = BUF_INIT, incr = BUF_INIT;
    struct stat sb;
    int rc;

    buf_printf(&base_rdb, "%s/%s", aofdir, RP_BASE_RDB);
    buf_printf(&base_aof, "%s/%s", aofdir, RP_BASE_AOF);
    buf_printf(&incr, "%s/%s", aofdir, RP_INCR);
    rc = replicate_begin(rp, stat(base_rdb.data, &sb) == 0 ? base_rdb.data : NULL, e);
    if (rc == REPLICATE_DONE &&
        ((stat(base_aof.data, &sb) == 0 && replicate_file(rp, base_aof.data, e) < 0) ||
         replicate_file(rp, incr.data, e) < 0 || replicate_end(rp, e) < 0))
        rc = -1;
    buf_free(&base_rdb);
    buf_free(&base_aof);
    buf_free(&incr);
    return rc;
}
