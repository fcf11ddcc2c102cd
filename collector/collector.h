/* collector.h - the collector's shared context and the per-instance state.
 *
 * aofroll-collector runs one thread per configured instance. main.c owns a
 * `struct collector` (the configuration, the logger, what to do, and the
 * read end of the stop pipe) and hands each thread a `struct instance`.
 * Everything an instance thread touches is reached from its `struct
 * instance`: its own index handle, storage handle, redis connection, lock
 * and the generations it is shipping. Nothing is shared between instance
 * threads except the read-only configuration and the (thread-safe) logger.
 *
 * Module map (one job per file):
 *   main.c      options, signals, locks, one thread per instance
 *   instance.c  the thread: start, follow loop / --once / --barrier-now
 *   resume.c    start-up: continue the index's generation, or not
 *   follow.c    one poll (manifest, sizes) and shipping what is pending
 *   generation.c the queue of generations in hand: open, end, lose
 *   lineage.c   a generation's files: base + logical incr stream, kept open
 *   observe.c   (time, size) observations: chunk times and the size log
 *   ship.c      one chunk: pread, gzip, store, index; the throttle
 *   priority.c  the thread's CPU and I/O priority; yielding under contention
 *   barrier.c   the barrier sequence and its daily schedule
 *   redisconn.c connection, AUTH, CONFIG GET, INFO persistence, backoff
 *   reconcile.c start-up: objects in storage that the index lacks
 *   lock.c      one collector per instance (flock)
 *   request.c   --barrier-now while a collector runs: ask it
 *   check.c     --check (check_report.c: its lines and verdict; check_seal.c: encryption)
 *   snapshot*.c mode rdb: timed BGSAVE snapshots instead of an AOF (snapshot.h),
 *               and the fork lock that the barrier shares */
#ifndef AOFROLL_COLLECTOR_H
#define AOFROLL_COLLECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "chunkscan.h"
#include "config.h"
#include "progress.h"
#include "error.h"
#include "index.h"
#include "log.h"
#include "manifest.h"
#include "storage.h"

#include "redisconn.h"

struct snapshot_state; /* snapshot.h */

/* What this run of the process does. */
enum collector_action {
    COLLECT_RUN = 0,     /* follow until SIGTERM/SIGINT */
    COLLECT_ONCE,        /* ship everything pending, then exit */
    COLLECT_BARRIER_NOW, /* catch up, run the barrier, ship its result, exit */
    COLLECT_CHECK,       /* --check */
    COLLECT_SNAPSHOT_NOW /* mode rdb: take a snapshot now, ship it, exit */
};

struct collector {
    const struct config *cfg;
    struct logger *log;
    enum collector_action action;
    int stop_fd;                  /* read end of the stop pipe: readable once a stop was asked */
    int wake_fd;                  /* write end of main's wake pipe: a thread writes when it ends */
    atomic_int running;           /* instance threads still running */
    atomic_int requests;          /* bumped at each SIGUSR1: look for barrier requests */
    pthread_mutex_t metrics_lock; /* instances may share one metrics file */
    pthread_mutex_t fork_lock;    /* one fork (BGSAVE, BGREWRITEAOF) at a time (snapshot_fork.c) */
    struct progress *progress;    /* --once on a terminal: chunks shipped; NULL for none */
    pthread_mutex_t progress_lock;
};

/* Non-zero once SIGTERM/SIGINT arrived. */
int collector_stopping(const struct collector *c);
/* Sleep `ms` milliseconds or until a stop is asked. Returns 0 after a full
 * sleep, -1 with ERR_STOPPED when interrupted by a stop request. */
int collector_sleep(const struct collector *c, int64_t ms, struct err *e);

/* ------------------------------------------------------------------------
 * Observations: (time, size) pairs of a generation's incr stream (observe.c)
 * ---------------------------------------------------------------------- */

struct observation {
    int64_t t;     /* unix seconds of the poll */
    uint64_t size; /* logical size of the incr stream at that poll */
};

struct observations {
    struct observation *v;
    size_t n, cap;
};

void observe_init(struct observations *o);
void observe_free(struct observations *o);
/* Record a poll that saw `size` at `t`; returns 1 when it is growth (a
 * new row for the size log), 0 when the size did not grow. */
int observe_add(struct observations *o, int64_t t, uint64_t size);
/* Times of the chunk [start, end): first = time of the first poll that saw
 * size > start, last = time of the first poll that saw size >= end. When no
 * observation covers the offset yet, `now` is used. */
void observe_times(const struct observations *o, uint64_t start, uint64_t end, int64_t now, int64_t *first,
                   int64_t *last);
/* Forget observations that no chunk starting at or after `shipped` needs. */
void observe_trim(struct observations *o, uint64_t shipped);

/* ------------------------------------------------------------------------
 * Lineage: a generation's files, kept open (lineage.c)
 * ---------------------------------------------------------------------- */

struct aof_file {
    char *name;    /* name inside the AOF directory */
    long long seq; /* manifest seq */
    int fd;        /* kept open: Redis may unlink the file after a rewrite */
    dev_t dev;
    ino_t ino;
    uint64_t size;  /* size at the last fstat */
    uint64_t start; /* logical offset of its first byte in the incr stream */
};

/* One generation as the manifest describes it: a base and the incr files
 * whose concatenation (in manifest order) is the generation's logical incr
 * stream. files[0..nconfirmed) are known to belong to this generation; the
 * files after them appeared with the same base while a rewrite may be
 * running, and wait until its outcome is known. */
struct lineage {
    struct aof_file base; /* fd -1 and name NULL when the manifest has no base */
    int base_present;
    struct aof_file *files;
    size_t nfiles, cap;
    size_t nconfirmed;
};

void lineage_init(struct lineage *l);
/* The base file's name, "" when the manifest has none. */
const char *lineage_base_name(const struct lineage *l);
void lineage_free(struct lineage *l);
/* Open `dir`/`name` read-only and fill f (name, seq, fd, dev, ino, size). */
int lineage_open_file(const char *dir, const char *name, long long seq, struct aof_file *f, struct err *e);
void lineage_close_file(struct aof_file *f);
/* Append an opened file (ownership moves to the lineage). */
void lineage_push(struct lineage *l, struct aof_file *f);
/* fstat every incr file again (sizes only; the caller judges shrinking). */
int lineage_refresh(struct lineage *l, struct err *e);
/* Recompute the logical start offsets of the confirmed files from their
 * sizes (every confirmed file but the last is final). */
void lineage_layout(struct lineage *l);
/* Logical size of the confirmed incr stream. */
uint64_t lineage_size(const struct lineage *l);
/* Index of the confirmed file holding logical offset `off` (the last one
 * when off == lineage_size()). */
size_t lineage_file_at(const struct lineage *l, uint64_t off);
/* Read [off, off+len) of the logical stream, which must lie in one file. */
int lineage_pread(const struct lineage *l, uint64_t off, void *buf, size_t len, struct err *e);
/* pread exactly len bytes of `fd` (named `name` in messages) at `off`;
 * a file that ends too early is ERR_CORRUPT. */
int lineage_read_fd(int fd, const char *name, uint64_t off, void *buf, size_t len, struct err *e);
/* Read [off, off+len) of the base file. */
int lineage_pread_base(const struct lineage *l, uint64_t off, void *buf, size_t len, struct err *e);
/* Index of the file named `name` with that inode, or -1. */
long lineage_find(const struct lineage *l, const char *name, dev_t dev, ino_t ino);
/* Time the generation's data starts: the birth time of its first incr
 * file when the filesystem records it, else the base file's mtime, else now. */
int64_t lineage_base_time(const struct lineage *l);

/* ------------------------------------------------------------------------
 * Generations being shipped (instance.c)
 * ---------------------------------------------------------------------- */

struct generation {
    struct gen_row row; /* as recorded in the index */
    struct lineage files;
    uint64_t base_shipped; /* bytes of the base stored and indexed */
    uint32_t base_crc;     /* CRC32 of base[0, base_shipped) */
    uint64_t shipped;      /* logical incr offset stored and indexed */
    int64_t shipped_time;  /* observation time of the last shipped byte */
    struct observations obs;
    int closing; /* a newer generation exists, or the AOF is off: ship to the end, then end */
    char end_reason[32];
    int gap_after; /* the next generation does not continue this stream (aof-off, missed) */
    /* The shipped incr bytes through the AOF scanner (chunkscan.h), for
     * each chunk's marks and the lead second of the next generation. */
    struct chunkscan scan;
    int scan_ready;           /* scan holds the state at `shipped` (set up lazily) */
    struct chunk_marks marks; /* of [marks_start, marks_end): scanned, not yet indexed */
    uint64_t marks_start, marks_end;
    /* unix s: Redis was writing into this stream at some moment at or
     * after it (a poll saw it grow since, or INFO said the AOF was on while
     * this was its file); with the last "#TS:", the proven end */
    int64_t on_proven;
    int64_t prev_poll; /* time of the previous poll that noted its size */
    int grew;          /* the last poll saw the stream grow */
    int was_growing;   /* ... and the poll before it */
};

/* Health of one dependency, for "log once per state change" and the
 * status row. */
struct health {
    int failing;
    char last[256]; /* the kind of the failure (health_kind) */
    char msg[512];  /* "what: message" of the latest failure */
};

/* Yielding under CPU contention (priority.c): the thread's CPU time and
 * run delay when the chunk in hand started. */
struct yield {
    int on;          /* priority idle */
    int valid;       /* cpu_ns and wait_ns were read at the chunk's start */
    int64_t cpu_ns;  /* CPU time the thread had used */
    int64_t wait_ns; /* time it had waited for a core */
};

struct throttle {
    int64_t rate;          /* bytes/s, 0 = unlimited */
    int64_t pause_ms;      /* between chunks */
    int64_t rate_next_us;  /* monotonic µs: the rate allows the next chunk from here */
    int64_t pause_next_us; /* monotonic µs: chunk_pause ends here */
    int64_t started_us;    /* when the chunk in hand was allowed to start */
    struct yield yield;    /* off unless priority_apply() turned it on */
};

#define BARRIER_RETRY_S 60       /* a failed barrier is tried again after this */
#define AOF_CHECK_IDLE_S 5       /* INFO persistence this often while the AOF does not grow */
#define BARRIER_INFO_POLL_MS 100 /* INFO persistence while waiting for the rewrite */

struct barrier_schedule {
    int minute;           /* minutes after local midnight, -1 = off */
    long last_day;        /* local YYYYMMDD of the last barrier run (or skipped start day) */
    int64_t retry_after;  /* unix s: no attempt before this after a failure */
    int postponed_logged; /* "postponed" was logged for this attempt */
    /* the barrier in hand while it is held back */
    int64_t postponed_since; /* unix s, 0 when none is held back */
    char postponed_why[256]; /* why it is */
    int overdue;             /* held back longer than barrier_timeout (logged once) */
};

struct instance {
    struct collector *col;
    const struct instance_config *ic;
    const char *name;
    int lock_fd;

    struct index *idx;
    struct storage *st;
    int64_t instance_id;
    struct redisconn rc;

    /* where the AOF lives, from CONFIG GET */
    char *aof_dir;       /* <dir>/<appenddirname> */
    char *manifest_path; /* <aof_dir>/<appendfilename>.manifest */
    struct stat_id {
        dev_t dev;
        ino_t ino;
        int64_t mtime_ns;
        off_t size;
    } manifest_seen;
    int manifest_dirty; /* re-read the manifest at the next poll */
    int aof_moved;      /* Redis came back with another AOF directory */
    int verify_tail; /* Redis went away: hold its tail back until it has loaded again and the tail matches */

    /* generations[0] is being shipped; the last one is what the manifest names */
    struct generation **gens;
    size_t ngens, capgens;
    int64_t last_generation; /* highest generation number in the index */
    int resumed;             /* start-up matched the index with the manifest */
    int need_base;           /* continuity lost: a barrier must provide a new base */
    char *stale_base;        /* ... and this base (name, inode) must not be reused */
    dev_t stale_dev;
    ino_t stale_ino;
    const char *rotate_reason; /* why the manifest's next base ends a generation ("rewrite", "barrier") */
    const char *open_reason;   /* why a generation opens when none is in hand ("start", ...) */
    int64_t next_upload;       /* unix s: next copy of the index to storage */

    struct throttle throttle;
    struct barrier_schedule sched;
    int64_t last_barrier; /* unix s of the last successful barrier */

    struct buf raw, gz; /* chunk buffers, reused */
    struct health h_redis, h_storage, h_index, h_aof;
    int64_t redis_down_since; /* unix s since Redis has been failing, 0 while it answers */
    int64_t backoff_until_ms; /* monotonic: no shipping before this after a failure */
    int64_t backoff_ms;
    char last_error[512];
    int64_t last_error_time;
    int exit_status;       /* 0, or 1 when the instance failed */
    int seen_requests;     /* col->requests when last looked at */
    int barrier_requested; /* --barrier-now from another process is pending */
    long kill_after_puts;  /* test hook AOFROLL_TEST_KILL_AFTER_PUTS: SIGKILL self after this many puts */
    int fork_wait_logged;  /* "barrier waits for another fork" was logged */
    int64_t barrier_deadline_ms; /* monotonic: the barrier in hand gives up then (0: never) */
    int ts_enabled;              /* aof-timestamp-enabled, as CONFIG GET last said */
    int appendonly;              /* appendonly, as CONFIG GET last said */
    int aof_off;                 /* INFO said aof_enabled:0: nothing to follow */
    int64_t aof_off_since;       /* unix s it was found off */
    int64_t next_aof_check;      /* unix s: INFO persistence next while the AOF is idle */
    int64_t info_gen;            /* the newest generation when INFO last said the AOF was on ... */
    long long info_rewrites;     /* ... and aof_rewrites then */
    struct snapshot_state *snap; /* mode rdb: the snapshot thread's state (snapshot.h), else NULL */
};

/* ------------------------------------------------------------------------
 * instance.c
 * ---------------------------------------------------------------------- */

#define DETAIL_MAX 1536 /* event details and reasons; the index keeps what fits */

void instance_init(struct instance *in, struct collector *col, const struct instance_config *ic);
void instance_free(struct instance *in);
/* The thread body: run the instance according to col->action. */
void *instance_thread(void *arg);
/* Log an error once per change of its text; remembered for the status row. */
void instance_fail(struct instance *in, struct health *h, const char *what, const struct err *e);
void instance_recover(struct instance *in, struct health *h, const char *what);
/* The status row's health: why the last poll failed (the AOF, storage or
 * index failing now; Redis has a reason of its own) and since when Redis
 * has been unreachable. */
void instance_fill_health(const struct instance *in, struct status_row *s);
/* Record an event; a failure is logged, not returned. */
int instance_event(struct instance *in, const char *kind, const char *detail);
/* Redis connected (reconnecting with backoff, logging state changes); a
 * new connection re-reads the AOF's location with CONFIG GET. */
int instance_redis(struct instance *in, struct err *e);
/* Rewrite the metrics file with every instance that shares it. */
int instance_write_metrics(struct instance *in, struct err *e);
/* Store a consistent copy of the index as "<instance>/index.db". */
int instance_upload_index(struct instance *in, struct err *e);

/* ------------------------------------------------------------------------
 * generation.c
 * ---------------------------------------------------------------------- */

struct generation *generation_new(void);
void generation_free(struct generation *g);
void instance_push_generation(struct instance *in, struct generation *g);
/* Remove gens[i] from the queue and free it. */
void instance_drop_generation(struct instance *in, size_t i);
/* The generation the manifest names now (the queue's last), or NULL. */
struct generation *instance_last(const struct instance *in);
/* The incr file holding the shipped offset, or NULL. */
const struct aof_file *generation_current_file(const struct generation *g);
/* Note the incr stream's size at `now`: an observation, and a size log
 * row when it grew (or, with `first`, for the size found at start-up). */
void generation_note_size(struct instance *in, struct generation *g, int64_t now, int first);
/* Open generation N+1 over the files of `l` (moved into it; given back on
 * failure) and record it in the index. `follows`: its stream continues the
 * newest generation's in hand, with nothing missed between. */
int instance_open_generation(struct instance *in, struct lineage *l, const char *why, int follows,
                             struct err *e);
/* Record the end of a generation with its reason (r->proven_end as set). */
int instance_end_generation(struct instance *in, struct gen_row *r, const char *reason, struct err *e);
/* gens[0], closing, is shipped to its end: end it, and hand its last
 * "#TS:" to the next generation as that one's lead second. */
int generation_finish(struct instance *in, struct err *e);
/* The last second the archive of g holds whole, 0 unknown (see window.h). */
int64_t generation_proven_end(const struct generation *g);
/* The next generation (gens[i + 1]) does not continue the stream of
 * gens[i]: record that a gap lies before it. */
void generation_break_after(struct instance *in, size_t i);
/* Continuity is lost for gens[i]: end it ("gap" event); for the newest,
 * wait for a barrier's base. */
void instance_lose_continuity(struct instance *in, size_t i, const char *reason, const char *why);
/* The marks of incr chunk [start, start + len) of g, whose bytes are
 * `data`: scanned now, or kept from an attempt to ship it that failed. */
void generation_scan_chunk(struct instance *in, struct generation *g, const char *data, uint64_t start,
                           uint64_t len, struct chunk_marks *m);
/* Set up g's scanner at its shipped offset: from the last recorded
 * boundary, reading the bytes after it from the live files. */
int generation_scan_resume(struct instance *in, struct generation *g, struct err *e);

/* ------------------------------------------------------------------------
 * follow.c
 * ---------------------------------------------------------------------- */

/* Open the files the manifest names (base and incr; history skipped). */
int instance_open_manifest_files(struct instance *in, const struct manifest *m, struct lineage *l,
                                 struct err *e);
/* Settle the newest generation's held-back incr files (INFO persistence). */
int instance_resolve_pending(struct instance *in, struct err *e);
/* Re-read the manifest now and apply what changed. */
int instance_read_manifest(struct instance *in, struct err *e);
/* Poll once: the Redis connection, the manifest, sizes, the size log,
 * and (when the stream stopped growing, or now and then while idle)
 * whether the AOF is still on. */
int instance_poll(struct instance *in, struct err *e);
/* The AOF of the newest generation was switched off (appendonly no):
 * ship it to its end and end it ("aof-off"), with a gap after it. */
void instance_aof_off(struct instance *in, const char *why);
int instance_heartbeat(struct instance *in, struct err *e);
/* Bytes not yet shipped in every generation in hand. */
uint64_t instance_backlog(const struct instance *in);
/* Ship everything pending, as far as `budget_ms` allows (-1: no limit).
 * Sets *more when bytes remain. */
int instance_ship_pending(struct instance *in, int64_t budget_ms, int *more, struct err *e);

/* ------------------------------------------------------------------------
 * resume.c
 * ---------------------------------------------------------------------- */

/* Match the index with the manifest, once, at start-up. */
int instance_resume(struct instance *in, struct err *e);
/* After Redis restarted (it may have truncated a partial last command on
 * load): does the last shipped incr chunk still match the file? If not,
 * the newest generation loses continuity. */
int instance_verify_tail(struct instance *in, struct err *e);

/* ------------------------------------------------------------------------
 * ship.c
 * ---------------------------------------------------------------------- */

void throttle_init(struct throttle *t, int64_t rate, int64_t pause_ms);
/* Wait until the next chunk may start; interruptible (ERR_STOPPED). */
int throttle_wait(struct throttle *t, const struct collector *col, struct err *e);
/* Account for a chunk of `len` bytes just shipped. */
void throttle_account(struct throttle *t, uint64_t len);
/* Delay in µs that the rate limit imposes after `len` bytes (pure). */
int64_t throttle_cost_us(int64_t rate, uint64_t len);

/* Ship one chunk [start, start+len) of `kind` of generation g, read from
 * file `f` at file offset `file_off`: pread, gzip, store, then record in
 * the index. On success *crc holds the chunk's CRC32. first/last:
 * observation times (for a base chunk, both the generation's base_time).
 * `scan` (incr chunks; NULL otherwise): the generation whose scanner gives
 * the chunk's marks. */
int ship_chunk(struct instance *in, const struct gen_row *g, struct generation *scan, enum chunk_kind kind,
               const struct aof_file *f, uint64_t file_off, uint64_t start, uint64_t len, int64_t first,
               int64_t last, uint32_t *crc, struct err *e);

/* ------------------------------------------------------------------------
 * barrier.c
 * ---------------------------------------------------------------------- */

/* Local calendar day of t as YYYYMMDD. */
long barrier_local_day(int64_t t);
/* The instant of `minute` (after local midnight) on t's local day; DST-safe
 * (a time skipped by DST moves forward, an ambiguous one is taken once). */
int64_t barrier_instant(int64_t t, int minute);
/* Set up the schedule: `last_barrier` (0 = never) comes from the index.
 * A first start after today's instant does not run today's barrier. */
void barrier_schedule_init(struct barrier_schedule *s, int minute, int64_t now, int64_t last_barrier);
/* 1 when a scheduled barrier should run at `now`. */
int barrier_due(const struct barrier_schedule *s, int64_t now);
void barrier_done(struct barrier_schedule *s, int64_t now);
/* Why a barrier must wait now (0: it need not): the storage is failing,
 * or shipping is further behind than max_rate ships in max_lag_s seconds
 * (max_rate 0: never). `why` gets one line. Pure. */
int barrier_postpone_reason(uint64_t backlog, int64_t max_rate, int64_t max_lag_s, int storage_failing,
                            char *why, size_t n);
/* The barrier sequence (see barrier.c). Returns 0 when a new generation
 * was opened, -1 otherwise (ERR_BUSY: postponed; others: failed). */
int barrier_run(struct instance *in, const char *why, struct err *e);
/* Note the outcome of an attempt for the held-back bookkeeping: rv and e
 * as barrier_run left them. Logs "postponed" once per barrier and, once,
 * an error when it has been held back longer than barrier_timeout.
 * Returns 1 when it has. */
int barrier_note_attempt(struct instance *in, int rv, const struct err *e, int64_t now);
/* The barrier in hand has been held back too long: an error, logged once. */
void barrier_overdue(struct instance *in, int64_t now);

/* ------------------------------------------------------------------------
 * reconcile.c
 * ---------------------------------------------------------------------- */

/* Compare the storage with the index for generation g (kind base and
 * incr): objects that the index lacks and that join the indexed chunks
 * exactly are verified and adopted; any other unreferenced object is
 * removed. `live` (may be NULL) gives the bytes to compare with. */
int reconcile_generation(struct instance *in, struct generation *g, int live, struct err *e);
/* Fail when storage holds generations newer than the index knows. */
int reconcile_newer(struct instance *in, int64_t latest, struct err *e);

/* ------------------------------------------------------------------------
 * lock.c
 * ---------------------------------------------------------------------- */

/* flock <dir>/<instance>.lock holding our PID. ERR_BUSY naming the
 * holder's PID (also in *holder, 0 when unknown) when another collector
 * has it. holder may be NULL. */
int lock_acquire(const char *dir, const char *instance, int *fd_out, long *holder, struct err *e);
void lock_release(int fd);

/* ------------------------------------------------------------------------
 * request.c
 * ---------------------------------------------------------------------- */

enum request_type { REQUEST_BARRIER, REQUEST_SNAPSHOT };

#define REQUEST_TIMEOUT_S 3600 /* a BGSAVE of a big dataset, then its shipping */
/* A requested barrier is given up by the running collector after its
 * barrier_timeout (with an error event that the requester reads); the
 * requester itself waits this much longer, in case no answer comes. */
#define REQUEST_SLACK_S 30

/* --barrier-now / --snapshot-now: ask the collector `holder` (holding the
 * instance's lock) and wait for the outcome in the index, at most
 * `timeout_s` seconds. */
int request_ask(struct collector *col, enum request_type type, const char *instance, long holder,
                int64_t timeout_s, struct err *e);
/* In the running collector: 1 when a request of this type for this
 * instance was pending (it is consumed), else 0. */
int request_take(struct instance *in, enum request_type type);

/* ------------------------------------------------------------------------
 * priority.c
 * ---------------------------------------------------------------------- */

/* Under contention a thread with priority idle uses at most this percentage
 * of one core: a contended chunk holds the next one back until
 * 100 / PRIORITY_YIELD_SHARE times its CPU time has passed since it began. */
#define PRIORITY_YIELD_SHARE 5

/* Lower the calling thread's CPU and I/O priority to `p`'s (nothing for
 * normal). */
int priority_set_thread(enum instance_priority p, struct err *e);
/* At the start of an instance thread: its priority as configured, and
 * yielding for priority idle. A failure (named in e) is for logging: the
 * thread runs on with whatever could be set. */
int priority_apply(struct instance *in, struct err *e);
const char *priority_name(enum instance_priority p);
/* The calling thread's CPU time and time spent waiting for a core, in ns
 * (/proc/thread-self/schedstat); -1 when they cannot be read. */
int priority_thread_times(int64_t *cpu_ns, int64_t *wait_ns);
/* How long (µs from the chunk's start) a chunk that used cpu_ns of CPU and
 * waited wait_ns for a core holds the next one back: 0 unless contended. */
int64_t priority_yield_hold_us(int64_t cpu_ns, int64_t wait_ns);
/* Around a chunk (throttle_wait, throttle_account): note the times, then
 * the hold (µs from the chunk's start, 0 when none). */
void priority_yield_start(struct yield *y);
int64_t priority_yield_end(struct yield *y);

/* ------------------------------------------------------------------------
 * check_report.c, check.c
 * ---------------------------------------------------------------------- */

/* The lines of --check: each is fine, a warning (usable, but worse than it
 * could be) or a problem (the collector would fail on it). */
struct check_report {
    FILE *out;
    int problems;
    int warnings;
};

void report_init(struct check_report *r, FILE *out);
void report_ok(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_warn(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void report_problem(struct check_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "verdict: usable", "verdict: usable (N warnings)" or "verdict: not
 * usable (N problems, M warnings)"; returns the exit status (0 usable). */
int report_verdict(struct check_report *r);

/* --check: print each instance's settings with a verdict; 0 when usable. */
int check_run(struct collector *col, const char *only, FILE *out);
/* --check of encryption (check_seal.c), once the storage answered: the
 * key ids and which one seals, that the probe `probe_key` went through
 * sealed, and that each instance's newest object opens. */
void check_seal(const struct config *cfg, struct storage *st, const char *probe_key, struct check_report *r);

/* ------------------------------------------------------------------------
 * Snapshots, mode rdb (snapshot*.c; their own details are in snapshot.h)
 * ---------------------------------------------------------------------- */

/* The thread body of a mode rdb instance, for every action. */
int snapshot_main(struct instance *in, struct err *e);
/* The fork lock: 1 when taken (*fd to release), 0 when another instance
 * of this box is forking, -1 on error. */
int fork_lock_try(struct collector *col, int *fd, struct err *e);
/* Take the fork lock, waiting as long as needed; `beat` (may be NULL) is
 * called every poll interval meanwhile. -1 on error or stop request. */
int fork_lock_wait(struct instance *in, int (*beat)(struct instance *, struct err *), int *fd, struct err *e);
void fork_lock_release(struct collector *col, int fd);
/* --check of a mode rdb instance, reported through r. */
void snapshot_check(const struct instance_config *ic, struct check_report *r);

#endif
