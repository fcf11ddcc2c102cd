/* target.c - the redis-server side of restore and apply: start a server
 * on a restored directory, connect to a target, read INFO. See target.h. */
#include "target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "manifest.h"
#include "outdir.h"
#include "server.h"
#include "timeutil.h"
#include "xalloc.h"

#define TARGET_CONNECT_TIMEOUT_S 10

int target_connect(const struct redis_addr *a, const char *what, redisContext **out, struct err *e)
{
    struct timeval tv = {TARGET_CONNECT_TIMEOUT_S, 0};
    redisContext *rc;
    redisReply *reply = NULL;
    int ret = -1;

    *out = NULL;
    if (a->transport == REDIS_UNIX)
        rc = redisConnectUnixWithTimeout(a->path, tv);
    else
        rc = redisConnectWithTimeout(a->host, a->port, tv);
    if (rc == NULL)
        return err_set(e, ERR_IO, "connect to %s: out of memory", what);
    if (rc->err) {
        err_set(e, ERR_IO, "connect to %s: %s", what, rc->errstr);
        goto out;
    }
    if (a->password != NULL) {
        if (a->user != NULL)
            reply = redisCommand(rc, "AUTH %s %s", a->user, a->password);
        else
            reply = redisCommand(rc, "AUTH %s", a->password);
        if (reply == NULL) {
            err_set(e, ERR_IO, "AUTH on %s: %s", what, rc->errstr);
            goto out;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            err_set(e, ERR_REDIS, "AUTH on %s: %s", what, reply->str);
            goto out;
        }
    }
    *out = rc;
    rc = NULL;
    ret = 0;
out:
    if (reply != NULL)
        freeReplyObject(reply);
    if (rc != NULL)
        redisFree(rc);
    return ret;
}

/* INFO section as a string reply; caller frees. */
static int target_info(redisContext *rc, const char *what, const char *section, redisReply **out,
                       struct err *e)
{
    redisReply *reply = redisCommand(rc, "INFO %s", section);

    *out = NULL;
    if (reply == NULL)
        return err_set(e, ERR_IO, "INFO %s on %s: %s", section, what, rc->errstr);
    if (reply->type != REDIS_REPLY_STRING) {
        err_set(e, ERR_REDIS, "INFO %s on %s: %s", section, what,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        freeReplyObject(reply);
        return -1;
    }
    *out = reply;
    return 0;
}

int target_keyspace(redisContext *rc, const char *what, struct keyspace *ks, struct err *e)
{
    redisReply *reply;
    const char *line;

    if (target_info(rc, what, "keyspace", &reply, e) < 0)
        return -1;
    for (line = reply->str; line != NULL && *line != '\0';) {
        int db;
        long long keys;

        if (sscanf(line, "db%d:keys=%lld", &db, &keys) == 2)
            keyspace_add(ks, db, keys);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    freeReplyObject(reply);
    return 0;
}

int target_info_field(redisContext *rc, const char *what, const char *section, const char *field, char *val,
                      size_t n, struct err *e)
{
    redisReply *reply;
    const char *line;
    size_t flen = strlen(field);
    int ret = -1;

    if (target_info(rc, what, section, &reply, e) < 0)
        return -1;
    for (line = reply->str; line != NULL && *line != '\0';) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            size_t vlen = strcspn(line + flen + 1, "\r\n");

            snprintf(val, n, "%.*s", (int)vlen, line + flen + 1);
            ret = 0;
            break;
        }
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    if (ret < 0)
        err_set(e, ERR_REDIS, "INFO %s on %s has no \"%s\"", section, what, field);
    freeReplyObject(reply);
    return ret;
}

/* 1 when the server answers DBSIZE (it has loaded its data), 0 while it
 * replies -LOADING, -1 on any other failure. */
static int target_serves(redisContext *rc, const char *what, struct err *e)
{
    redisReply *reply = redisCommand(rc, "DBSIZE");
    int ret;

    if (reply == NULL)
        return err_set(e, ERR_IO, "DBSIZE on %s: %s", what, rc->errstr);
    if (reply->type == REDIS_REPLY_INTEGER)
        ret = 1;
    else if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "LOADING", 7) == 0)
        ret = 0;
    else
        ret = err_set(e, ERR_REDIS, "DBSIZE on %s: %s", what,
                      reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    freeReplyObject(reply);
    return ret;
}

/* ------------------------------------------------------------------ */
/* Starting a server on a restored directory                           */
/* ------------------------------------------------------------------ */

/* The last non-empty line of the server's log, for error messages. */
static void target_log_tail(const struct outdir *dir, char *out, size_t n)
{
    struct buf text = BUF_INIT;
    struct err e;
    size_t end, start;

    snprintf(out, n, "no log");
    err_clear(&e);
    if (outdir_read_file(dir, TARGET_LOG, &text, &e) < 0 || text.len == 0)
        goto out;
    end = text.len;
    while (end > 0 && (text.data[end - 1] == '\n' || text.data[end - 1] == '\r'))
        end--;
    start = end;
    while (start > 0 && text.data[start - 1] != '\n')
        start--;
    snprintf(out, n, "%.*s", (int)(end - start), text.data + start);
out:
    buf_free(&text);
}

static void target_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Which server `redis-server --version` is: the one target_start would
 * start (the first on PATH). */
static int target_server_id(struct server_id *id, struct err *e)
{
    char line[512];
    size_t len = 0;
    int fds[2], status = 0;
    pid_t pid;

    if (pipe(fds) < 0)
        return err_sys(e, errno, "pipe");
    pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return err_sys(e, errno, "fork");
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

        dup2(fds[1], STDOUT_FILENO);
        if (nul >= 0) {
            dup2(nul, STDIN_FILENO);
            dup2(nul, STDERR_FILENO);
        }
        execlp("redis-server", "redis-server", "--version", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t n = read(fds[0], line + len, sizeof(line) - 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(line) - 1)
            break;
    }
    line[len] = '\0';
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set(e, ERR_IO, "\"redis-server --version\" failed (status %d): is redis-server on PATH?",
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return server_from_version_line(line, id, e);
}

/* A server refuses an RDB file of a newer format than its own ("Can't
 * handle RDB format version"), after it has started. Say so before: the
 * base in DIR's manifest, when it is an RDB, against the RDB version the
 * redis-server on PATH reads. A server newer than server.c's table is
 * given the benefit of the doubt. Read through outdir: no symlink in DIR
 * is followed. */
static int target_check_base(const struct outdir *d, struct err *e)
{
    const char *mrel = "appendonlydir/appendonly.aof.manifest";
    struct buf text = BUF_INIT, head = BUF_INIT;
    struct manifest m = {NULL, 0};
    const struct manifest_file *base;
    struct server_id id;
    char *brel = NULL, writer[64], who[64];
    int rdb, max, exact, ret = -1;

    if (outdir_read_file(d, mrel, &text, e) < 0) {
        if (e->code == ERR_NOTFOUND)
            ret = 0; /* no AOF directory: nothing to check */
        goto out;
    }
    if (manifest_parse(mrel, text.data, text.len, &m, e) < 0)
        goto out;
    base = manifest_base(&m);
    if (base == NULL) {
        ret = 0;
        goto out;
    }
    brel = xasprintf("appendonlydir/%s", base->name);
    if (outdir_read_head(d, brel, 4096, &head, e) < 0)
        goto out;
    if (head.len < 5 || memcmp(head.data, "REDIS", 5) != 0 ||
        server_rdb_header(head.data, head.len, &rdb, writer, sizeof(writer), e) < 0) {
        ret = 0; /* a base in AOF format: any server reads it */
        goto out;
    }
    if (target_server_id(&id, e) < 0)
        goto out;
    max = server_rdb_version(&id, &exact);
    if (exact && rdb > max) {
        err_set(
            e, ERR_REDIS,
            "the base \"%s/%s\" is RDB version %d, written by %s; redis-server here is %s, which reads RDB "
            "versions up to %d and would refuse it. HINT: start it with %s or a newer server (first on "
            "PATH)",
            d->path, brel, rdb, writer[0] != '\0' ? writer : "a newer server",
            server_describe(&id, who, sizeof(who)), max,
            writer[0] != '\0' ? writer : "the server that wrote it");
        goto out;
    }
    ret = 0;
out:
    manifest_free(&m);
    buf_free(&text);
    buf_free(&head);
    free(brel);
    return ret;
}

/* Start redis-server in its own session, detached from our terminal and
 * standard streams (its log, opened here as `logfd`, takes stdout/stderr);
 * *pid is its process. It is not made to fork again (--daemonize no), so
 * that a server that fails at start-up is seen to exit at once. */
static int target_spawn(char **args, int logfd, pid_t *pid, struct err *e)
{
    *pid = fork();
    if (*pid < 0)
        return err_sys(e, errno, "fork");
    if (*pid == 0) {
        int fd = logfd;
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

        setsid();
        if (nul >= 0)
            dup2(nul, STDIN_FILENO);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execvp(args[0], args);
        _exit(127);
    }
    return 0;
}

/* 1 when the started server has exited (reaped), with its status. */
static int target_exited(pid_t pid, int *status)
{
    pid_t w;

    do {
        w = waitpid(pid, status, WNOHANG);
    } while (w < 0 && errno == EINTR);
    return w == pid || (w < 0 && errno == ECHILD);
}

/* The numeric address of --bind ("*" and "::*" as Redis spells any
 * address; a leading '-' marks an optional one). */
static int target_bind_addr(const char *addr, int port, struct addrinfo **ai, struct err *e)
{
    struct addrinfo hints;
    char service[16];
    const char *host = addr[0] == '-' ? addr + 1 : addr;
    int rc;

    if (strcmp(host, "*") == 0)
        host = "0.0.0.0";
    else if (strcmp(host, "::*") == 0)
        host = "::";
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof(service), "%d", port);
    rc = getaddrinfo(host, service, &hints, ai);
    if (rc != 0)
        return err_set(e, ERR_USAGE, "--bind \"%s\": not an IP address (%s)", addr, gai_strerror(rc));
    return 0;
}

/* Where to reach a server listening on `addr`: the address itself, or
 * loopback for the any-address. */
static const char *target_connect_host(const char *addr)
{
    const char *host = addr[0] == '-' ? addr + 1 : addr;

    if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
        return "127.0.0.1";
    if (strcmp(host, "::*") == 0 || strcmp(host, "::") == 0)
        return "::1";
    return host;
}

int target_port_free(const char *addr, int port, struct err *e)
{
    const char *where = addr != NULL ? addr : TARGET_BIND_DEFAULT;
    struct timeval quick = {0, 300000};
    struct addrinfo *ai = NULL;
    redisContext *probe;
    int fd, one = 1, ret = -1;

    if (target_bind_addr(where, port, &ai, e) < 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_sys(e, errno, "socket");
        goto out;
    }
    /* as redis-server itself binds: TIME_WAIT leftovers do not count */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno == EADDRINUSE)
            err_set(e, ERR_BUSY, "port %d is already in use on %s: not restoring anything for --start", port,
                    where);
        else
            err_sys(e, errno, "cannot listen on %s port %d for --start", where, port);
        close(fd);
        goto out;
    }
    close(fd);
    /* and nothing answers there (a server bound elsewhere, another namespace) */
    probe = redisConnectWithTimeout(target_connect_host(where), port, quick);
    if (probe != NULL && probe->err == 0) {
        redisFree(probe);
        err_set(e, ERR_BUSY, "port %d is already in use: not restoring anything for --start", port);
        goto out;
    }
    if (probe != NULL)
        redisFree(probe);
    ret = 0;
out:
    freeaddrinfo(ai);
    return ret;
}

int target_start(struct target_start *ts, redisContext **out, struct err *e)
{
    char port[16], tail[512], loading[16], pidtext[32];
    const char *where = ts->bind != NULL ? ts->bind : TARGET_BIND_DEFAULT;
    char *pidfile = NULL, *log = NULL, *sock = NULL, **args = NULL;
    redisContext *rc = NULL;
    struct sockaddr_un sun;
    struct timeval quick = {0, 300000};
    double t0 = time_monotonic(), deadline;
    char what[64];
    pid_t pid = -1;
    int i, n = 0, status = 0, logfd = -1, ret = -1;

    *out = NULL;
    snprintf(what, sizeof(what), "redis-server on port %d", ts->port);
    if (target_port_free(where, ts->port, e) < 0)
        goto out;
    pidfile = xasprintf("%s/%s", ts->dir->real, TARGET_PIDFILE);
    log = xasprintf("%s/%s", ts->dir->real, TARGET_LOG);
    sock = xasprintf("%s/%s", ts->dir->real, TARGET_SOCKET);
    if (strlen(sock) >= sizeof(sun.sun_path)) {
        free(sock); /* too long for a socket address: TCP only */
        sock = NULL;
    }
    if (target_check_base(ts->dir, e) < 0)
        goto out;
    /* the log and the pidfile in DIR are never reached through a symlink:
     * the log is opened here, the old pidfile removed */
    if (outdir_remove_tree(ts->dir, TARGET_PIDFILE, e) < 0 ||
        outdir_open_append(ts->dir, TARGET_LOG, &logfd, e) < 0)
        goto out;
    snprintf(port, sizeof(port), "%d", ts->port);
    args = xcalloc((size_t)ts->nextra + 26, sizeof(*args));
    args[n++] = "redis-server";
    args[n++] = "--port";
    args[n++] = port;
    args[n++] = "--bind";
    args[n++] = (char *)where;
    if (sock != NULL) {
        args[n++] = "--unixsocket";
        args[n++] = sock;
        args[n++] = "--unixsocketperm";
        args[n++] = "700";
    }
    args[n++] = "--dir";
    args[n++] = ts->dir->real;
    args[n++] = "--appendonly";
    args[n++] = "yes";
    args[n++] = "--aof-timestamp-enabled";
    args[n++] = "yes";
    args[n++] = "--daemonize";
    args[n++] = "no";
    args[n++] = "--pidfile";
    args[n++] = pidfile;
    args[n++] = "--logfile";
    args[n++] = log;
    for (i = 0; i < ts->nextra; i++)
        args[n++] = ts->extra[i];
    args[n] = NULL;
    if (target_spawn(args, logfd, &pid, e) < 0)
        goto out;
    ts->pid = pid;
    if (sock != NULL)
        snprintf(ts->listening, sizeof(ts->listening), "%s port %d and unix socket \"%s\"", where, ts->port,
                 sock);
    else
        snprintf(ts->listening, sizeof(ts->listening),
                 "%s port %d (no unix socket: \"%s\" is too long a path)", where, ts->port, ts->dir->real);
    deadline = t0 + ts->timeout_s;
    for (;;) {
        if (target_exited(pid, &status)) {
            target_log_tail(ts->dir, tail, sizeof(tail));
            err_set(e, ERR_IO, "redis-server on \"%s\" exited (status %d): %s", ts->dir->path,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), tail);
            goto out;
        }
        if (rc == NULL) {
            if (sock != NULL)
                rc = redisConnectUnixWithTimeout(sock, quick);
            else
                rc = redisConnectWithTimeout(target_connect_host(where), ts->port, quick);
            if (rc != NULL && rc->err) {
                redisFree(rc);
                rc = NULL;
            }
            if (rc != NULL) {
                struct timeval tv = {TARGET_CONNECT_TIMEOUT_S, 0};

                redisSetTimeout(rc, tv);
                if (target_info_field(rc, what, "server", "process_id", pidtext, sizeof(pidtext), e) < 0)
                    goto out;
                if (strtol(pidtext, NULL, 10) != (long)pid) {
                    err_set(e, ERR_BUSY,
                            "port %d answers from process %s, not the redis-server started on \"%s\"",
                            ts->port, pidtext, ts->dir->path);
                    kill(pid, SIGTERM);
                    goto out;
                }
            }
        }
        if (rc != NULL) {
            if (target_info_field(rc, what, "persistence", "loading", loading, sizeof(loading), e) < 0)
                goto out;
            /* INFO can show loading:0 between the base and the incr file:
             * the dataset is there once a data command is served */
            if (strcmp(loading, "0") == 0) {
                int ready = target_serves(rc, what, e);

                if (ready < 0)
                    goto out;
                if (ready)
                    break;
            }
        }
        if (time_monotonic() > deadline) {
            target_log_tail(ts->dir, tail, sizeof(tail));
            err_set(e, ERR_IO, "%s did not finish loading \"%s\" within %d s: %s", what, ts->dir->path,
                    ts->timeout_s, tail);
            goto out;
        }
        if (ts->progress != NULL)
            progress_tick(ts->progress, "redis-server on \"%s\" is loading: %.1f s", ts->dir->path,
                          time_monotonic() - t0);
        target_sleep_ms(rc != NULL ? 20 : 50);
    }
    if (ts->progress != NULL)
        progress_end(ts->progress);
    ts->load_seconds = time_monotonic() - t0;
    *out = rc;
    rc = NULL;
    ret = 0;
out:
    if (logfd >= 0)
        close(logfd);
    if (rc != NULL)
        redisFree(rc);
    free(args);
    free(pidfile);
    free(log);
    free(sock);
    return ret;
}
