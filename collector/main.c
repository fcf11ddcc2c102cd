/* main.c - aofroll-collector: options, signals, locks, one thread per
 * instance.
 *
 *   aofroll-collector [-c FILE] [--instance NAME] [-v]
 *   aofroll-collector [-c FILE] --once | --check | --barrier-now | --snapshot-now
 *
 * Without -c: AOFROLL_CONFIG, else the default path (config_path.c).
 *
 * The options are one table (common/opt.h) that both parses them and
 * prints --help. main loads the configuration, opens the logger, takes
 * every instance's lock (a second collector for the same instance exits 1
 * naming the holder's PID), and starts one thread per instance
 * (instance.c). Signals
 * are handled only in this thread: SIGTERM and SIGINT write to the stop
 * pipe, whose read end every instance thread polls while it sleeps (so a
 * chunk_pause or a poll interval ends at once; the chunk in hand is
 * finished and committed); SIGHUP reopens the log file; SIGUSR1 makes the
 * instance threads look for barrier requests (request.c: --barrier-now
 * while a collector runs asks that collector). The state the signal
 * handler sees is the only mutable static data in the collector. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "config.h"
#include "config_path.h"
#include "log.h"
#include "opt.h"
#include "outcome.h"
#include "xalloc.h"

/* What the signal handler may touch. */
static struct {
    int stop_w; /* SIGTERM/SIGINT: one byte here; never drained */
    int wake_w; /* SIGHUP: one byte here wakes main */
    volatile sig_atomic_t hup;
    volatile sig_atomic_t usr1; /* SIGUSR1: look for barrier requests */
} sig_state = {-1, -1, 0, 0};

static void on_signal(int sig)
{
    int saved = errno;

    if (sig == SIGHUP || sig == SIGUSR1) {
        if (sig == SIGHUP)
            sig_state.hup = 1;
        else
            sig_state.usr1 = 1;
        if (write(sig_state.wake_w, "h", 1) < 0) {
            /* the pipe is full: main wakes anyway */
        }
    } else if (write(sig_state.stop_w, "s", 1) < 0) {
        /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

struct options {
    const char *config;
    const char *only;
    int once, check, barrier_now, snapshot_now; /* the actions, at most one */
    int verbose;
    int version;
    enum collector_action action;
};

/* Every option of aofroll-collector: parsed by opt_parse(), listed by
 * usage(). */
static const struct opt options_table[] = {
    {.name = "config",
     .shortname = 'c',
     .kind = OPT_STRING,
     .off = offsetof(struct options, config),
     .arg = "FILE",
     .help = "the configuration (YAML)"},
    {.name = "once",
     .kind = OPT_FLAG,
     .off = offsetof(struct options, once),
     .help = "ship everything pending for every instance, then exit"},
    {.name = "check",
     .kind = OPT_FLAG,
     .off = offsetof(struct options, check),
     .help = "check the configuration, Redis and the storage; exit 0 when usable"},
    {.name = "barrier-now",
     .kind = OPT_FLAG,
     .off = offsetof(struct options, barrier_now),
     .help = "run the barrier now (every instance, or --instance), then exit"},
    {.name = "snapshot-now",
     .kind = OPT_FLAG,
     .off = offsetof(struct options, snapshot_now),
     .help = "take a BGSAVE snapshot (mode rdb), then exit"},
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct options, only),
     .arg = "NAME",
     .help = "only this instance"},
    {.name = "verbose",
     .shortname = 'v',
     .kind = OPT_FLAG,
     .off = offsetof(struct options, verbose),
     .help = "log each chunk (DEBUG)"},
    {.name = "version",
     .kind = OPT_FLAG,
     .off = offsetof(struct options, version),
     .help = "print the version"},
    {.name = "help", .shortname = 'h', .kind = OPT_HELP, .help = "print this help"},
    {0},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: aofroll-collector [-c FILE] [--instance NAME] [-v]\n"
                 "                         [--once | --check | --barrier-now | --snapshot-now]\n\n"
                 "options:\n");
    opt_usage(out, options_table);
    fprintf(out, "\nWithout -c FILE: the file named by AOFROLL_CONFIG, else %s.\n", config_path_default());
}

/* 0, or an exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
    struct err e;
    int rc;

    memset(o, 0, sizeof(*o));
    err_clear(&e);
    rc = opt_parse(options_table, argc, argv, o, NULL, &e);
    if (rc > 0) {
        usage(stdout);
        return -1;
    }
    if (rc < 0) {
        fprintf(stderr, "aofroll-collector: %s\n", e.msg);
        if (strncmp(e.msg, "unknown option", 14) == 0)
            usage(stderr);
        return 2;
    }
    if (o->version) {
        printf("aofroll-collector %s\n", AOFROLL_VERSION);
        return -1;
    }
    if (o->once + o->check + o->barrier_now + o->snapshot_now > 1) {
        fprintf(stderr,
                "aofroll-collector: --once, --check, --barrier-now and --snapshot-now exclude each other\n");
        return 2;
    }
    if (o->once)
        o->action = COLLECT_ONCE;
    else if (o->check)
        o->action = COLLECT_CHECK;
    else if (o->barrier_now)
        o->action = COLLECT_BARRIER_NOW;
    else if (o->snapshot_now)
        o->action = COLLECT_SNAPSHOT_NOW;
    return 0;
}

/* --snapshot-now is for mode rdb, --barrier-now for mode aof: 0, or exit
 * status 2 with a message when the selection has no instance of the mode. */
static int check_action_modes(const struct options *o, const struct config *cfg)
{
    int nrdb = 0;

    if (o->action != COLLECT_SNAPSHOT_NOW && o->action != COLLECT_BARRIER_NOW)
        return 0;
    for (int i = 0; i < cfg->ninstances; i++)
        if ((o->only == NULL || strcmp(o->only, cfg->instances[i].name) == 0) &&
            cfg->instances[i].mode == MODE_RDB)
            nrdb++;
    if (o->action == COLLECT_SNAPSHOT_NOW && nrdb == 0) {
        if (o->only != NULL)
            fprintf(stderr,
                    "aofroll-collector: --snapshot-now: instance \"%s\" has mode aof: its archive is the AOF "
                    "stream, not snapshots. HINT: --barrier-now starts a new generation\n",
                    o->only);
        else
            fprintf(stderr, "aofroll-collector: --snapshot-now: no instance in \"%s\" has mode rdb\n",
                    o->config);
        return 2;
    }
    if (o->action == COLLECT_BARRIER_NOW && o->only != NULL && nrdb > 0) {
        fprintf(
            stderr,
            "aofroll-collector: --barrier-now: instance \"%s\" has mode rdb: it has no AOF to rewrite. HINT: "
            "--snapshot-now takes a snapshot\n",
            o->only);
        return 2;
    }
    return 0;
}

static int make_pipe(int fds[2], struct err *e)
{
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return err_sys(e, errno, "cannot create a pipe");
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* Run the selected instances, one thread each; returns the exit status. */
static int run_instances(struct collector *col, const char *only)
{
    const struct config *cfg = col->cfg;
    struct instance *ins = xcalloc((size_t)cfg->ninstances, sizeof(*ins));
    pthread_t *threads = xcalloc((size_t)cfg->ninstances, sizeof(*threads));
    int *started = xcalloc((size_t)cfg->ninstances, sizeof(*started));
    long *holder = xcalloc((size_t)cfg->ninstances, sizeof(*holder));
    int remote = 0;
    int wake[2] = {-1, -1};
    sigset_t block, old;
    int status = 0, n = 0;
    struct err e;

    err_clear(&e);
    /* every instance initialised before anything can fail: the cleanup
     * below releases each one's lock fd (-1 until taken; a zeroed instance
     * would close fd 0) and frees it */
    for (int i = 0; i < cfg->ninstances; i++)
        context_init(&ins[i], col, &cfg->instances[i]);
    if (make_pipe(wake, &e) != 0) {
        log_msg(col->log, LOG_ERROR, NULL, "%s", e.msg);
        status = 1;
        goto out;
    }
    sig_state.wake_w = wake[1];
    col->wake_fd = wake[1];

    /* every lock first: a second collector exits before doing anything */
    for (int i = 0; i < cfg->ninstances; i++) {
        const struct instance_config *ic = &cfg->instances[i];

        if (only != NULL && strcmp(only, ic->name) != 0)
            continue;
        if ((col->action == COLLECT_SNAPSHOT_NOW && ic->mode != MODE_RDB) ||
            (col->action == COLLECT_BARRIER_NOW && ic->mode != MODE_AOF))
            continue; /* snapshots are for mode rdb, barriers for mode aof */
        if (lock_acquire(cfg->lock_dir, ic->name, &ins[i].lock_fd, &holder[i], &e) != 0) {
            if (e.code == ERR_BUSY && holder[i] > 0 &&
                (col->action == COLLECT_BARRIER_NOW || col->action == COLLECT_SNAPSHOT_NOW)) {
                remote++; /* a running collector will do it when asked */
                continue;
            }
            holder[i] = 0;
            log_msg(col->log, LOG_ERROR, ic->name, "%s", e.msg);
            fprintf(stderr, "aofroll-collector: %s\n", e.msg);
            status = 1;
            goto out;
        }
        holder[i] = 0;
        started[i] = 1;
        n++;
    }
    for (int i = 0; i < cfg->ninstances && remote > 0; i++) {
        int asked;

        if (holder[i] <= 0)
            continue;
        asked =
            col->action == COLLECT_SNAPSHOT_NOW
                ? request_ask(col, REQUEST_SNAPSHOT, cfg->instances[i].name, holder[i], REQUEST_TIMEOUT_S, &e)
                : request_ask(col, REQUEST_BARRIER, cfg->instances[i].name, holder[i],
                              cfg->instances[i].barrier_timeout_s + REQUEST_SLACK_S, &e);
        if (asked != 0) {
            log_msg(col->log, LOG_ERROR, cfg->instances[i].name, "%s", e.msg);
            fprintf(stderr, "aofroll-collector: instance \"%s\": %s\n", cfg->instances[i].name, e.msg);
            status = 1;
        }
    }
    if (n == 0 && remote > 0)
        goto out;
    if (n == 0) {
        log_msg(col->log, LOG_ERROR, NULL, "no instance to collect in \"%s\"", cfg->path);
        status = 1;
        goto out;
    }
    log_msg(col->log, LOG_INFO, NULL, "aofroll-collector %s started (pid %ld, %d instance%s)",
            AOFROLL_VERSION, (long)getpid(), n, n == 1 ? "" : "s");

    /* signals are handled by this thread only */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    atomic_store(&col->running, 0);
    for (int i = 0; i < cfg->ninstances; i++) {
        if (!started[i])
            continue;
        atomic_fetch_add(&col->running, 1);
        if (pthread_create(&threads[i], NULL, instance_thread, &ins[i]) != 0) {
            atomic_fetch_sub(&col->running, 1);
            log_msg(col->log, LOG_ERROR, ins[i].name, "cannot start a thread");
            started[i] = 0;
            status = 1;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    while (atomic_load(&col->running) > 0) {
        struct pollfd p = {wake[0], POLLIN, 0};
        char drain[64];

        if (poll(&p, 1, 1000) > 0) {
            while (read(wake[0], drain, sizeof(drain)) > 0) {
            }
        }
        if (sig_state.usr1) {
            sig_state.usr1 = 0;
            atomic_fetch_add(&col->requests, 1);
        }
        if (sig_state.hup) {
            sig_state.hup = 0;
            if (log_reopen(col->log, &e) != 0)
                fprintf(stderr, "aofroll-collector: %s\n", e.msg);
            else
                log_msg(col->log, LOG_INFO, NULL, "log reopened");
        }
    }
    if (col->progress != NULL)
        progress_end(col->progress); /* the outcome lines follow on a clean line */
    for (int i = 0; i < cfg->ninstances; i++) {
        if (!started[i])
            continue;
        pthread_join(threads[i], NULL);
        if (ins[i].exit_status != 0)
            status = 1;
        if (col->action != COLLECT_RUN)
            outcome_print(&ins[i], col->action, cfg->log_file, ins[i].exit_status != 0 ? stderr : stdout);
    }
    log_msg(col->log, LOG_INFO, NULL, "aofroll-collector stopped");
out:
    for (int i = 0; i < cfg->ninstances; i++) {
        lock_release(ins[i].lock_fd);
        context_free(&ins[i]);
    }
    sig_state.wake_w = -1;
    col->wake_fd = -1;
    if (wake[0] >= 0)
        close(wake[0]);
    if (wake[1] >= 0)
        close(wake[1]);
    free(ins);
    free(threads);
    free(started);
    free(holder);
    return status;
}

int main(int argc, char **argv)
{
    struct options o;
    struct config cfg;
    struct logger log;
    struct collector col;
    struct progress progress;
    int stop[2] = {-1, -1};
    char cleartext[512];
    struct err e;
    int status;

    status = parse_options(argc, argv, &o);
    if (status != 0)
        return status < 0 ? 0 : status;
    err_clear(&e);
    memset(&cfg, 0, sizeof(cfg));
    if (config_path_load(o.config, &cfg, &e) != 0) {
        fprintf(stderr, "aofroll-collector: %s\n", e.msg);
        config_free(&cfg);
        return err_exit_status(&e);
    }
    o.config = cfg.path; /* the file read, for messages */
    if (o.only != NULL && config_instance(&cfg, o.only) == NULL) {
        fprintf(stderr, "aofroll-collector: no instance \"%s\" in \"%s\"\n", o.only, o.config);
        config_free(&cfg);
        return 2;
    }
    status = check_action_modes(&o, &cfg);
    if (status != 0) {
        config_free(&cfg);
        return status;
    }

    log_init(&log, o.verbose ? LOG_DEBUG : LOG_INFO);
    if (cfg.log_file != NULL && log_open(&log, cfg.log_file, &e) != 0) {
        fprintf(stderr, "aofroll-collector: %s\n", e.msg);
        log_close(&log);
        config_free(&cfg);
        return 1;
    }
    log_set_format(&log, cfg.log_json);
    memset(&col, 0, sizeof(col));
    col.cfg = &cfg;
    col.log = &log;
    col.action = o.action;
    col.stop_fd = -1;
    col.wake_fd = -1;
    pthread_mutex_init(&col.metrics_lock, NULL);
    pthread_mutex_init(&col.fork_lock, NULL);
    pthread_mutex_init(&col.progress_lock, NULL);
    /* --once draws its progress on a terminal, unless the log lines go there too */
    progress_init(&progress, "aofroll-collector --once", o.action != COLLECT_ONCE || cfg.log_file == NULL);
    if (progress.fp != NULL)
        col.progress = &progress;

    if (o.action == COLLECT_CHECK) {
        status = check_run(&col, o.only, stdout);
        goto out;
    }
    if (storage_cleartext(&cfg, cleartext, sizeof(cleartext)))
        log_msg(&log, LOG_WARN, NULL, "%s", cleartext);
    if (make_pipe(stop, &e) != 0) {
        fprintf(stderr, "aofroll-collector: %s\n", e.msg);
        status = 1;
        goto out;
    }
    sig_state.stop_w = stop[1];
    col.stop_fd = stop[0];
    install_signals();
    status = run_instances(&col, o.only);
out:
    if (stop[0] >= 0) {
        /* no handler may write to the pipe once it is closed */
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGUSR1, SIG_IGN);
        sig_state.stop_w = -1;
        close(stop[0]);
    }
    if (stop[1] >= 0)
        close(stop[1]);
    progress_end(&progress);
    pthread_mutex_destroy(&col.metrics_lock);
    pthread_mutex_destroy(&col.fork_lock);
    pthread_mutex_destroy(&col.progress_lock);
    log_close(&log);
    config_free(&cfg);
    return status;
}
