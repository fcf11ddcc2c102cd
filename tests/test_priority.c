/* test_priority.c - unit tests of collector/priority.c.
 *
 * Each setting is applied in a thread of its own and read back from the
 * kernel (scheduling policy, nice value, I/O priority), and the main
 * thread is checked to be untouched: the calls act on one thread. Yielding
 * is tested on its arithmetic, and for real through the throttle: a thread
 * that has just used CPU is made to wait for a core behind a busy thread
 * of normal policy on the same CPU, and must hold its next chunk back;
 * with yielding off the same contention must not. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioprio.h>

#include <cmocka.h>

#include "collector.h"

#define MS 1000000LL /* ns */

/* What the kernel says about the calling thread. */
struct thread_prio {
    int policy;
    int nice;
    int ioprio;
};

static void read_prio(struct thread_prio *p)
{
    pid_t tid = gettid();

    p->policy = sched_getscheduler(0);
    p->nice = getpriority(PRIO_PROCESS, (id_t)tid);
    p->ioprio = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, (int)tid);
}

struct apply_run {
    enum instance_priority level;
    int rc;
    struct err e;
    struct thread_prio before, after;
};

static void *apply_thread(void *arg)
{
    struct apply_run *r = arg;

    read_prio(&r->before);
    r->rc = priority_set_thread(r->level, &r->e);
    read_prio(&r->after);
    return NULL;
}

/* Apply `level` in a new thread; check the main thread is unchanged. */
static void run_apply(enum instance_priority level, struct apply_run *r)
{
    struct thread_prio main_before, main_after;
    pthread_t t;

    memset(r, 0, sizeof(*r));
    r->level = level;
    read_prio(&main_before);
    assert_int_equal(pthread_create(&t, NULL, apply_thread, r), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    read_prio(&main_after);
    assert_int_equal(main_after.policy, main_before.policy);
    assert_int_equal(main_after.nice, main_before.nice);
    assert_int_equal(main_after.ioprio, main_before.ioprio);
}

static void test_idle(void **state)
{
    struct apply_run r;

    (void)state;
    run_apply(PRIORITY_IDLE, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.before.policy, SCHED_OTHER);
    assert_int_equal(r.after.policy, SCHED_IDLE);
    assert_int_equal(r.after.ioprio, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
}

static void test_low(void **state)
{
    struct apply_run r;

    (void)state;
    run_apply(PRIORITY_LOW, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.after.policy, SCHED_OTHER);
    assert_int_equal(r.after.nice, 19);
    assert_int_equal(r.after.ioprio, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7));
}

static void test_normal(void **state)
{
    struct apply_run r;

    (void)state;
    run_apply(PRIORITY_NORMAL, &r);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.after.policy, r.before.policy);
    assert_int_equal(r.after.nice, r.before.nice);
    assert_int_equal(r.after.ioprio, r.before.ioprio);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(priority_name(PRIORITY_IDLE), "idle");
    assert_string_equal(priority_name(PRIORITY_LOW), "low");
    assert_string_equal(priority_name(PRIORITY_NORMAL), "normal");
}

/* priority_apply turns yielding on for idle only. */
struct instance_run {
    struct instance in;
    int rc;
};

static void *instance_apply_thread(void *arg)
{
    struct instance_run *r = arg;
    struct err e;

    r->rc = priority_apply(&r->in, &e);
    return NULL;
}

static void test_apply_yield_switch(void **state)
{
    static const enum instance_priority levels[] = {PRIORITY_IDLE, PRIORITY_LOW, PRIORITY_NORMAL};
    struct instance_config ic;
    struct instance_run r;
    pthread_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        memset(&ic, 0, sizeof(ic));
        memset(&r, 0, sizeof(r));
        ic.priority = levels[i];
        r.in.ic = &ic;
        throttle_init(&r.in.throttle, 0, 0);
        assert_int_equal(r.in.throttle.yield.on, 0); /* off until applied */
        assert_int_equal(pthread_create(&t, NULL, instance_apply_thread, &r), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.in.throttle.yield.on, levels[i] == PRIORITY_IDLE);
    }
}

/* ------------------------------------------------------------------------
 * Yielding
 * ---------------------------------------------------------------------- */

static void test_hold_arithmetic(void **state)
{
    (void)state;
    /* not contended: no hold */
    assert_int_equal(priority_yield_hold_us(0, 0), 0);
    assert_int_equal(priority_yield_hold_us(75 * MS, 0), 0);
    assert_int_equal(priority_yield_hold_us(80 * MS, 10 * MS), 0); /* waited exactly 1/8 */
    assert_int_equal(priority_yield_hold_us(0, 500 * MS), 0);      /* no CPU used: nothing to pay back */
    /* contended: the next chunk starts after 100 / PRIORITY_YIELD_SHARE times the CPU time */
    assert_int_equal(priority_yield_hold_us(80 * MS, 10 * MS + 1), 80000 * 100 / PRIORITY_YIELD_SHARE);
    assert_int_equal(priority_yield_hold_us(75 * MS, 75 * MS), 75000 * 100 / PRIORITY_YIELD_SHARE);
}

static void test_thread_times(void **state)
{
    int64_t cpu0, wait0, cpu1, wait1;
    struct timespec ts, now;

    (void)state;
    assert_int_equal(priority_thread_times(&cpu0, &wait0), 0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    do
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    while ((now.tv_sec - ts.tv_sec) * 1000000000LL + (now.tv_nsec - ts.tv_nsec) < 5 * MS);
    assert_int_equal(priority_thread_times(&cpu1, &wait1), 0);
    assert_true(cpu1 - cpu0 >= 5 * MS);
    assert_true(wait1 >= wait0);
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct contention {
    cpu_set_t cpu;      /* both threads run here */
    int yield_on;       /* the throttle's setting */
    atomic_int go;      /* the hog starts */
    atomic_int done;    /* the hog finished */
    int64_t hold_us;    /* pause_next_us - started_us after the chunk */
    int64_t elapsed_us; /* the chunk's wall time: throttle_wait to throttle_account */
    int64_t left_us;    /* pause_next_us - the time throttle_account returned */
    int64_t cpu_ns;     /* CPU the chunk used (at least) */
};

/* Normal policy, same CPU: busy for 100 ms once told to go. */
static void *hog_thread(void *arg)
{
    struct contention *c = arg;
    int64_t until;

    pthread_setaffinity_np(pthread_self(), sizeof(c->cpu), &c->cpu);
    while (!atomic_load(&c->go))
        sched_yield();
    until = mono_ns() + 100 * MS;
    while (mono_ns() < until) {
    }
    atomic_store(&c->done, 1);
    return NULL;
}

/* One "chunk" through the throttle: 50 ms of CPU, then SCHED_IDLE and
 * runnable while the hog has the CPU. */
static void *chunk_thread(void *arg)
{
    struct contention *c = arg;
    struct sched_param sp;
    struct collector col;
    struct throttle t;
    struct err e;
    int64_t cpu0;

    pthread_setaffinity_np(pthread_self(), sizeof(c->cpu), &c->cpu);
    memset(&col, 0, sizeof(col));
    col.stop_fd = -1;
    throttle_init(&t, 0, 0);
    t.yield.on = c->yield_on;
    assert_int_equal(throttle_wait(&t, &col, &e), 0);
    cpu0 = thread_cpu_ns();
    while (thread_cpu_ns() - cpu0 < 50 * MS) {
    }
    memset(&sp, 0, sizeof(sp));
    assert_int_equal(sched_setscheduler(0, SCHED_IDLE, &sp), 0);
    atomic_store(&c->go, 1);
    while (!atomic_load(&c->done)) {
    }
    c->cpu_ns = thread_cpu_ns() - cpu0;
    throttle_account(&t, 4096);
    c->left_us = t.pause_next_us - mono_ns() / 1000;
    c->hold_us = t.pause_next_us - t.started_us;
    c->elapsed_us = t.pause_next_us - c->left_us - t.started_us;
    return NULL;
}

static void run_contention(struct contention *c, int yield_on)
{
    cpu_set_t allowed;
    pthread_t hog, chunk;
    int cpu = 0;

    memset(c, 0, sizeof(*c));
    c->yield_on = yield_on;
    assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
    while (!CPU_ISSET(cpu, &allowed))
        cpu++;
    CPU_ZERO(&c->cpu);
    CPU_SET(cpu, &c->cpu);
    assert_int_equal(pthread_create(&hog, NULL, hog_thread, c), 0);
    assert_int_equal(pthread_create(&chunk, NULL, chunk_thread, c), 0);
    assert_int_equal(pthread_join(chunk, NULL), 0);
    assert_int_equal(pthread_join(hog, NULL), 0);
}

static void test_yield_when_contended(void **state)
{
    struct contention c;

    (void)state;
    run_contention(&c, 1);
    /* it waited ~100 ms for the CPU after using >= 50 ms: the next chunk
     * is held back until 100 / PRIORITY_YIELD_SHARE times its CPU time
     * has passed since it started, well after it ended */
    assert_true(c.cpu_ns >= 50 * MS);
    assert_true(c.hold_us >= c.cpu_ns / 1000 * 100 / PRIORITY_YIELD_SHARE - 1000);
    assert_true(c.hold_us > c.elapsed_us + 100000);
    assert_true(c.left_us > 100000);
}

static void test_no_yield_when_off(void **state)
{
    struct contention c;

    (void)state;
    run_contention(&c, 0);
    /* chunk_pause 0 and no rate: the next chunk may start at once */
    assert_true(c.cpu_ns >= 50 * MS);
    assert_true(c.left_us <= 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle),
        cmocka_unit_test(test_low),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_apply_yield_switch),
        cmocka_unit_test(test_hold_arithmetic),
        cmocka_unit_test(test_thread_times),
        cmocka_unit_test(test_yield_when_contended),
        cmocka_unit_test(test_no_yield_when_off),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
