/* scratch.c - the scratch directory and redis-server of a flashback, and
 * the watchdog that removes both whatever happens to aofroll (scratch.h).
 *
 * The watchdog is forked while aofroll is still single-threaded. It keeps
 * only two pipes: `ctl` (aofroll writes one byte 'S' to have the server
 * started, 'R' and 'r' to arm and disarm the guard; end of file means
 * "clean up now") and `status` (the watchdog writes 'X' when the server
 * exits on its own, so that a start-up failure is seen at once), and the
 * guard's connection to the target when there is one. The server is the
 * watchdog's child, so the watchdog can wait for it before removing the
 * directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "scratch.h"
#include "target.h"
#include "timeutil.h"
#include "xalloc.h"

#define SCRATCH_POLL_MS 200
/* more dbs than any instance is likely to use: an AOF that SELECTs a db
 * the server lacks does not load */
#define SCRATCH_DATABASES "1024"

void scratch_init(struct scratch *s)
{
    memset(s, 0, sizeof(*s));
    s->ctl = -1;
    s->status = -1;
    s->guard = -1;
}

/* ------------------------------------------------------------------ */
/* The watchdog (runs in the forked child only)                         */
/* ------------------------------------------------------------------ */

static int scratch_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    (void)remove(path);
    return 0;
}

static pid_t scratch_spawn_server(const char *dir, const char *sock, const char *timeshift, int64_t shift_ms)
{
    char log[4096], shift[32];
    pid_t parent = getpid(), pid;
    int fd;

    snprintf(log, sizeof(log), "%s/%s", dir, SCRATCH_LOG);
    pid = fork();
    if (pid != 0)
        return pid;
    /* the server: dies with the watchdog, whatever kills it */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (shift_ms != 0 && timeshift != NULL) {
        snprintf(shift, sizeof(shift), "%lld", (long long)shift_ms);
        setenv("LD_PRELOAD", timeshift, 1);
        setenv("AOFROLL_TIMESHIFT_MS", shift, 1);
    }
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        (void)dup2(fd, 1);
        (void)dup2(fd, 2);
    }
    execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
           "--dir", dir, "--appendonly", "yes", "--appendfsync", "no", "--appenddirname", "appendonlydir",
           "--appendfilename", "appendonly.aof", "--auto-aof-rewrite-percentage", "0", "--save", "",
           "--databases", SCRATCH_DATABASES, "--daemonize", "no", "--logfile", log, (char *)NULL);
    fprintf(stderr, "cannot run redis-server: %s\n", strerror(errno));
    _exit(127);
}

/* The guard: aofroll went away while the target replicated from it. The
 * target is told to stop (its connection, authenticated by aofroll, is fd
 * 5), and its answer awaited a few seconds. */
static void scratch_release_target(void)
{
    static const char cmd[] = "*3\r\n$9\r\nREPLICAOF\r\n$2\r\nNO\r\n$3\r\nONE\r\n";
    struct pollfd p = {5, POLLIN, 0};
    char reply[256];

    if (write(5, cmd, sizeof(cmd) - 1) == (ssize_t)(sizeof(cmd) - 1) && poll(&p, 1, 5000) > 0)
        (void)!read(5, reply, sizeof(reply));
}

static void scratch_watchdog(const char *dir, const char *sock, const char *timeshift, int ctl, int status,
                             int guard)
{
    pid_t server = 0;
    int server_status, armed = 0;

    (void)setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (chdir("/") < 0) {
        /* nothing depends on the working directory */
    }
    /* nothing of aofroll's kept open: only the two pipes, at 3 and 4, and
     * the guard's connection at 5 */
    if (dup2(ctl, 3) < 0 || dup2(status, 4) < 0 || (guard >= 0 && dup2(guard, 5) < 0))
        _exit(1);
    (void)close_range(guard >= 0 ? 6 : 5, ~0U, 0);
    {
        int devnull = open("/dev/null", O_RDWR);

        if (devnull >= 0) {
            (void)dup2(devnull, 0);
            (void)dup2(devnull, 1);
            (void)dup2(devnull, 2);
            if (devnull > 4)
                close(devnull);
        }
    }
    for (;;) {
        struct pollfd p = {3, POLLIN, 0};
        char c;
        ssize_t n;
        int r = poll(&p, 1, SCRATCH_POLL_MS);

        if (server > 0 && waitpid(server, &server_status, WNOHANG) == server) {
            server = 0;
            (void)!write(4, "X", 1);
        }
        if (r <= 0)
            continue;
        n = read(3, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 1 && (c == 'S' || c == 'Z') && server == 0) {
            int64_t shift_ms = 0;

            /* 'Z': eight bytes of clock shift follow, written with it */
            if (c == 'Z' && read(3, &shift_ms, sizeof(shift_ms)) != (ssize_t)sizeof(shift_ms))
                break;
            server = scratch_spawn_server(dir, sock, timeshift, shift_ms);
            if (server < 0) {
                server = 0;
                (void)!write(4, "X", 1);
            }
            continue;
        }
        if (n == 1 && (c == 'R' || c == 'r')) {
            armed = c == 'R' && guard >= 0;
            continue;
        }
        if (n == 1)
            continue;
        break; /* end of file (or a broken pipe): aofroll is gone or done */
    }
    if (armed)
        scratch_release_target();
    if (server > 0) {
        kill(server, SIGKILL);
        while (waitpid(server, &server_status, 0) < 0 && errno == EINTR)
            ;
    }
    (void)nftw(dir, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    _exit(0);
}

/* ------------------------------------------------------------------ */
/* aofroll's side                                                       */
/* ------------------------------------------------------------------ */

/* replay/timeshift/'s library where it is installed beside the program
 * (AOFROLL_TIMESHIFT_REL from the program's directory); NULL when absent. */
static char *scratch_find_timeshift(void)
{
    char exe[4096], *path, *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    path = xasprintf("%s/%s", exe, AOFROLL_TIMESHIFT_REL);
    if (access(path, R_OK) != 0) {
        free(path);
        return NULL;
    }
    return path;
}

int scratch_create(struct scratch *s, struct err *e)
{
    const char *tmp = getenv("TMPDIR");
    struct sockaddr_un sun;
    int ctl[2] = {-1, -1}, status[2] = {-1, -1};
    char *tmpl;
    pid_t pid;
    int ret = -1;

    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    tmpl = xasprintf("%s/aofroll-flashback-XXXXXX", tmp);
    if (mkdtemp(tmpl) == NULL) {
        err_sys(e, errno, "cannot make a scratch directory \"%s\" HINT: set TMPDIR to a writable directory",
                tmpl);
        free(tmpl);
        return -1;
    }
    s->dir = tmpl;
    s->sock = xasprintf("%s/%s", s->dir, SCRATCH_SOCKET);
    s->timeshift = scratch_find_timeshift();
    if (strlen(s->sock) >= sizeof(sun.sun_path)) {
        err_set(e, ERR_USAGE,
                "the scratch socket \"%s\" is too long a path HINT: set TMPDIR to a shorter one", s->sock);
        goto out;
    }
    if (pipe2(ctl, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
        err_sys(e, errno, "pipe");
        goto out;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        err_sys(e, errno, "fork");
        goto out;
    }
    if (pid == 0) {
        close(ctl[1]);
        close(status[0]);
        scratch_watchdog(s->dir, s->sock, s->timeshift, ctl[0], status[1], s->guard);
    }
    s->watchdog = (long)pid;
    s->ctl = ctl[1];
    ctl[1] = -1;
    s->status = status[0];
    status[0] = -1;
    ret = 0;
out:
    if (ctl[0] >= 0)
        close(ctl[0]);
    if (ctl[1] >= 0)
        close(ctl[1]);
    if (status[0] >= 0)
        close(status[0]);
    if (status[1] >= 0)
        close(status[1]);
    if (ret < 0 && s->watchdog == 0) {
        (void)rmdir(s->dir);
        free(s->dir);
        free(s->sock);
        free(s->timeshift);
        s->dir = s->sock = s->timeshift = NULL;
    }
    return ret;
}

/* The last non-empty line of the scratch server's log, for messages. */
static void scratch_log_tail(const struct scratch *s, char *dst, size_t n)
{
    char path[4096], line[512];
    FILE *fp;

    snprintf(dst, n, "(no log)");
    snprintf(path, sizeof(path), "%s/%s", s->dir, SCRATCH_LOG);
    fp = fopen(path, "r");
    if (fp == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0')
            snprintf(dst, n, "%s", line);
    }
    fclose(fp);
}

int scratch_guard(struct scratch *s, int armed, struct err *e)
{
    if (write(s->ctl, armed ? "R" : "r", 1) != 1)
        return err_sys(e, errno, "cannot reach the watchdog of \"%s\"", s->dir);
    return 0;
}

int scratch_start(struct scratch *s, int timeout_s, redisContext **out, struct err *e)
{
    return scratch_start_shifted(s, 0, timeout_s, out, e);
}

int scratch_start_shifted(struct scratch *s, int64_t shift_ms, int timeout_s, redisContext **out,
                          struct err *e)
{
    struct timeval quick = {1, 0};
    double deadline = time_monotonic() + timeout_s;
    redisContext *rc = NULL;
    char tail[512], msg[1 + sizeof(shift_ms)] = "S";
    size_t len = 1;

    *out = NULL;
    if (shift_ms != 0) {
        msg[0] = 'Z';
        memcpy(msg + 1, &shift_ms, sizeof(shift_ms));
        len = sizeof(msg);
    }
    if (write(s->ctl, msg, len) != (ssize_t)len)
        return err_sys(e, errno, "cannot reach the watchdog of \"%s\"", s->dir);
    for (;;) {
        struct pollfd p = {s->status, POLLIN, 0};

        if (poll(&p, 1, 0) > 0) {
            scratch_log_tail(s, tail, sizeof(tail));
            return err_set(e, ERR_IO, "the scratch redis-server on \"%s\" exited: %s", s->dir, tail);
        }
        if (rc == NULL) {
            rc = redisConnectUnixWithTimeout(s->sock, quick);
            if (rc != NULL && rc->err) {
                redisFree(rc);
                rc = NULL;
            }
        }
        if (rc != NULL) {
            redisReply *r = redisCommand(rc, "DBSIZE");

            if (r == NULL) {
                redisFree(rc);
                rc = NULL;
            } else if (r->type == REDIS_REPLY_INTEGER) {
                freeReplyObject(r);
                *out = rc;
                return 0;
            } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "LOADING", 7) != 0) {
                err_set(e, ERR_REDIS, "the scratch redis-server on \"%s\": %s", s->dir, r->str);
                freeReplyObject(r);
                redisFree(rc);
                return -1;
            } else {
                freeReplyObject(r);
            }
        }
        if (time_monotonic() > deadline) {
            if (rc != NULL)
                redisFree(rc);
            scratch_log_tail(s, tail, sizeof(tail));
            return err_set(e, ERR_IO, "the scratch redis-server on \"%s\" did not load in %d s: %s", s->dir,
                           timeout_s, tail);
        }
        usleep(20000);
    }
}

void scratch_close(struct scratch *s)
{
    int st;

    if (s->ctl >= 0)
        close(s->ctl);
    s->ctl = -1;
    if (s->status >= 0)
        close(s->status);
    s->status = -1;
    if (s->watchdog > 0) {
        while (waitpid((pid_t)s->watchdog, &st, 0) < 0 && errno == EINTR)
            ;
    }
    s->watchdog = 0;
    free(s->dir);
    free(s->sock);
    free(s->timeshift);
    s->dir = s->sock = s->timeshift = NULL;
}

/* ------------------------------------------------------------------ */
/* Export: the scratch server's keyspace as a restore directory's AOF   */
/* ------------------------------------------------------------------ */

static int scratch_rewrite(redisContext *rc, int timeout_s, struct err *e)
{
    const char *what = "the scratch redis-server";
    double deadline = time_monotonic() + timeout_s;
    char busy[32], sched[32], status[32];
    redisReply *r = redisCommand(rc, "BGREWRITEAOF");

    if (r == NULL)
        return err_set(e, ERR_IO, "%s: %s", what, rc->errstr);
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(e, ERR_REDIS, "%s: BGREWRITEAOF: %s", what, r->str);
        freeReplyObject(r);
        return -1;
    }
    freeReplyObject(r);
    for (;;) {
        if (target_info_field(rc, what, "persistence", "aof_rewrite_in_progress", busy, sizeof(busy), e) <
                0 ||
            target_info_field(rc, what, "persistence", "aof_rewrite_scheduled", sched, sizeof(sched), e) < 0)
            return -1;
        if (strcmp(busy, "0") == 0 && strcmp(sched, "0") == 0)
            break;
        if (time_monotonic() > deadline)
            return err_set(e, ERR_IO, "%s: the AOF rewrite did not finish in %d s", what, timeout_s);
        usleep(20000);
    }
    if (target_info_field(rc, what, "persistence", "aof_last_bgrewrite_status", status, sizeof(status), e) <
        0)
        return -1;
    if (strcmp(status, "ok") != 0)
        return err_set(e, ERR_REDIS, "%s: the AOF rewrite failed (aof_last_bgrewrite_status:%s)", what,
                       status);
    return 0;
}

/* Copy the scratch file `from` (relative to s->dir) to `to` in dir. */
static int scratch_copy(const struct scratch *s, const char *from, const struct outdir *dir, const char *to,
                        struct err *e)
{
    struct outdir_file out = OUTDIR_FILE_INIT;
    char *path = xasprintf("%s/%s", s->dir, from);
    char block[1 << 16];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ret = -1;
    ssize_t n;

    if (fd < 0) {
        err_sys(e, errno, "cannot open \"%s\"", path);
        goto out;
    }
    if (outdir_file_create(&out, dir, to, e) < 0)
        goto out;
    while ((n = read(fd, block, sizeof(block))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err_sys(e, errno, "cannot read \"%s\"", path);
            goto out;
        }
        if (outdir_file_append(&out, block, (size_t)n, e) < 0)
            goto out;
    }
    if (outdir_file_finish(&out, e) < 0)
        goto out;
    ret = 0;
out:
    outdir_file_close(&out);
    if (fd >= 0)
        close(fd);
    free(path);
    return ret;
}

int scratch_export(const struct scratch *s, redisContext *rc, const struct outdir *dir, const char *base_to,
                   const char *incr_to, int timeout_s, struct err *e)
{
    struct manifest m = {NULL, 0};
    const struct manifest_file *base, *incr;
    char *path = xasprintf("%s/%s/%s", s->dir, OUTDIR_AOF_DIR, SCRATCH_MANIFEST);
    char *from = NULL;
    int ret = -1;

    if (scratch_rewrite(rc, timeout_s, e) < 0 || manifest_load(path, &m, e) < 0)
        goto out;
    base = manifest_base(&m);
    incr = manifest_current_incr(&m);
    if (base == NULL || incr == NULL) {
        err_set(e, ERR_CORRUPT, "\"%s\" lacks a base or an incr file after the rewrite", path);
        goto out;
    }
    from = xasprintf("%s/%s", OUTDIR_AOF_DIR, base->name);
    if (scratch_copy(s, from, dir, base_to, e) < 0)
        goto out;
    free(from);
    from = xasprintf("%s/%s", OUTDIR_AOF_DIR, incr->name);
    if (scratch_copy(s, from, dir, incr_to, e) < 0)
        goto out;
    ret = 0;
out:
    manifest_free(&m);
    free(from);
    free(path);
    return ret;
}
