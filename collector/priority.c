/* priority.c - keep an instance thread out of Redis's way.
 *
 * The collector runs on the box of the redis-server it archives and should
 * only ever use what Redis leaves over: falling behind for a while costs
 * nothing (the AOF stays on disk until it is shipped, and `aofroll status`
 * shows the lag), while every cycle taken from a busy Redis costs it
 * requests. So each instance thread lowers its own priority as its first
 * act (priority_apply, called by instance_thread), as the instance's
 * `priority` setting says:
 *
 *   idle    (the default) the SCHED_IDLE policy: the thread runs only on a
 *           core that no ordinary task wants, and a waking Redis takes the
 *           core back at once. And it yields: a chunk that had to wait for
 *           a core (longer than 1/8 of the CPU time it used) holds the next
 *           one back until the thread has used at most
 *           PRIORITY_YIELD_SHARE percent of one core since that chunk began
 *           (priority_yield_start/_end, called by the throttle in throttle.c).
 *           The policy alone is not enough: an idle-policy thread still
 *           runs in every gap a busy Redis leaves, and that costs Redis
 *           throughput (on the 2-core build machine a SCHED_IDLE busy loop
 *           cost redis-benchmark 10-20%; bench/README.md has the figures).
 *           Where no ordinary task wants the cores, nothing waits and the
 *           thread ships at the full max_rate.
 *   low     nice 19: the smallest share that an ordinary thread gets of a
 *           contended core; no yielding.
 *   normal  the process's own priority (systemd's Nice=, ...), unchanged.
 *
 * idle and low also put the thread's I/O in the lowest best-effort level
 * (7), which the mq-deadline and bfq disk schedulers honour. Not the idle
 * I/O class: it waits for the disk to be free, and a Redis that writes its
 * AOF without pause would starve the archive's fsyncs.
 *
 * On Linux sched_setscheduler, setpriority and ioprio_set act on one thread
 * when given its thread id, so main's thread, which handles signals, keeps
 * the process's priority. None needs a privilege: a thread may always
 * lower its own priority.
 *
 * The wait for a core is the thread's run delay, which the kernel keeps
 * in /proc/thread-self/schedstat ("<cpu ns> <run delay ns> <slices>",
 * CONFIG_SCHED_INFO). Where that file cannot be read the thread does not
 * yield; its policy still applies. */
#include "priority.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "context.h"

/* The nice value of "low": the lowest there is. */
#define PRIORITY_LOW_NICE 19
/* The best-effort I/O level of "idle" and "low": the lowest of 0..7. */
#define PRIORITY_IO_LEVEL 7
/* A chunk counts as contended when it waited for a core longer than
 * 1/PRIORITY_YIELD_WAIT_DIV of the CPU time it used. */
#define PRIORITY_YIELD_WAIT_DIV 8

static int priority_set_io(pid_t tid, struct err *e)
{
    int value = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, PRIORITY_IO_LEVEL);

    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, (int)tid, value) != 0)
        return err_sys(e, errno, "cannot set the i/o priority of thread %ld to best-effort level %d",
                       (long)tid, PRIORITY_IO_LEVEL);
    return 0;
}

int priority_set_thread(enum instance_priority p, struct err *e)
{
    struct sched_param sp;
    pid_t tid = gettid();

    memset(&sp, 0, sizeof(sp));
    switch (p) {
    case PRIORITY_NORMAL:
        return 0;
    case PRIORITY_IDLE:
        if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
            return err_sys(e, errno, "cannot set the scheduling policy of thread %ld to SCHED_IDLE",
                           (long)tid);
        break;
    case PRIORITY_LOW:
        if (setpriority(PRIO_PROCESS, (id_t)tid, PRIORITY_LOW_NICE) != 0)
            return err_sys(e, errno, "cannot set the nice value of thread %ld to %d", (long)tid,
                           PRIORITY_LOW_NICE);
        break;
    }
    return priority_set_io(tid, e);
}

int priority_apply(struct instance *in, struct err *e)
{
    in->throttle.yield.on = in->ic->priority == PRIORITY_IDLE;
    if (priority_set_thread(in->ic->priority, e) != 0) {
        err_prefix(e, "priority %s", priority_name(in->ic->priority));
        return -1;
    }
    return 0;
}

const char *priority_name(enum instance_priority p)
{
    switch (p) {
    case PRIORITY_IDLE:
        return "idle";
    case PRIORITY_LOW:
        return "low";
    case PRIORITY_NORMAL:
        return "normal";
    }
    return "?";
}

/* ------------------------------------------------------------------------
 * Yielding under contention
 * ---------------------------------------------------------------------- */

int priority_thread_times(int64_t *cpu_ns, int64_t *wait_ns)
{
    char text[128];
    long long cpu, wait;
    ssize_t n;
    int fd, rc = -1;

    fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, text, sizeof(text) - 1);
    if (n <= 0)
        goto out;
    text[n] = '\0';
    if (sscanf(text, "%lld %lld", &cpu, &wait) != 2 || cpu < 0 || wait < 0)
        goto out;
    *cpu_ns = cpu;
    *wait_ns = wait;
    rc = 0;
out:
    close(fd);
    return rc;
}

void priority_yield_start(struct yield *y)
{
    y->valid = y->on && priority_thread_times(&y->cpu_ns, &y->wait_ns) == 0;
}

int64_t priority_yield_hold_us(int64_t cpu_ns, int64_t wait_ns)
{
    if (cpu_ns <= 0 || wait_ns * PRIORITY_YIELD_WAIT_DIV <= cpu_ns)
        return 0;
    return cpu_ns * 100 / PRIORITY_YIELD_SHARE / 1000;
}

int64_t priority_yield_end(struct yield *y)
{
    int64_t cpu, wait;

    if (!y->valid)
        return 0;
    y->valid = 0;
    if (priority_thread_times(&cpu, &wait) != 0)
        return 0;
    return priority_yield_hold_us(cpu - y->cpu_ns, wait - y->wait_ns);
}
