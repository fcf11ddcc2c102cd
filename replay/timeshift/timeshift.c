/* timeshift.c - a clock set back, preloaded into flashback's scratch
 * redis-server (LD_PRELOAD; scratch.h) for `restore --target --ttl shift`.
 *
 * With --ttl shift every key gets the time it had left at TIME, so the
 * scratch server must hold the keys as they were at TIME, including those
 * whose expiry has passed since: Redis drops an expired key when it loads
 * an RDB, and hides it from every read. Run on a clock that reads TIME,
 * the scratch server keeps them. This library replaces the wall-clock
 * calls Redis and Valkey make (gettimeofday, clock_gettime of the
 * CLOCK_REALTIME clocks, time) with ones AOFROLL_TIMESHIFT_MS milliseconds
 * behind; the monotonic clocks, which only measure intervals, are left
 * alone.
 *
 * The clocks are read with raw system calls, not through the dynamic
 * linker's next symbol: looking that up allocates, and a server built
 * with jemalloc reads the clock while it initialises its allocator, which
 * is how a general-purpose preload (libfaketime) deadlocks it. The shift
 * is read from the environment once, when the library is loaded, before
 * the server's main() runs; it is not changed afterwards. Built without
 * the project's sanitizer and coverage options: it runs inside a server
 * that has neither. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* set once by timeshift_init, before main(); read-only afterwards */
static int64_t timeshift_ns;

__attribute__((constructor)) static void timeshift_init(void)
{
    const char *v = getenv("AOFROLL_TIMESHIFT_MS");

    timeshift_ns = v != NULL ? strtoll(v, NULL, 10) * 1000000 : 0;
}

static void timeshift_back(struct timespec *ts)
{
    int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec - timeshift_ns;

    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
    long rc = syscall(SYS_clock_gettime, clk, ts);

    if (rc == 0 && (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE))
        timeshift_back(ts);
    return (int)rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec ts;

    (void)tz;
    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0)
        return -1;
    timeshift_back(&ts);
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *t)
{
    struct timespec ts;
    time_t now;

    if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    timeshift_back(&ts);
    now = ts.tv_sec;
    if (t != NULL)
        *t = now;
    return now;
}
