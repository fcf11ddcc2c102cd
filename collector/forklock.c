/* forklock.c - one fork at a time on this box.
 *
 * BGSAVE and BGREWRITEAOF both fork redis-server. While the child writes,
 * every page the parent changes is copied, and the child reads the whole
 * dataset and writes it to disk: two forks at once on one box cost up to
 * twice the memory and compete for the same disk. So the collector lets
 * one of its instances fork at a time: a snapshot holds the fork lock from
 * its BGSAVE until the save has completed and its file is open, and a mode
 * aof instance holds it around its barrier's BGREWRITEAOF (instance.c; the
 * scheduled barrier waits for its turn poll by poll, --barrier-now blocks).
 *
 * The lock is the collector's mutex, which the instance threads of this
 * process share, plus an flock on "<lock_dir>/fork.lock", so that another
 * aofroll-collector using the same lock directory (--snapshot-now for
 * instances that this one does not collect) takes turns as well. The flock
 * is taken on a file description of its own each time, so it also works
 * between threads, and the kernel drops it when a process dies. Waiting
 * polls (try, sleep 100 ms): the waiter keeps its heartbeat, and a stop
 * request ends the wait at once. Forks that Redis starts on its own (its
 * `save` rules, a replica's full sync) are not the collector's to order. */
#include "forklock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "timeutil.h"
#include "xalloc.h"

#include "context.h"

#define FORK_LOCK_POLL_MS 100
#define FORK_LOCK_FILE "fork.lock"

int forklock_try(struct collector *col, int *fd, struct err *e)
{
    char *path = NULL;
    int f = -1, rv = -1;

    *fd = -1;
    if (pthread_mutex_trylock(&col->fork_lock) != 0)
        return 0;
    path = xasprintf("%s/%s", col->cfg->lock_dir, FORK_LOCK_FILE);
    f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        err_sys(e, errno, "cannot open the fork lock \"%s\"", path);
        goto out;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rv = 0; /* another process of this box is forking */
        else
            err_sys(e, errno, "cannot lock \"%s\"", path);
        goto out;
    }
    *fd = f;
    f = -1;
    rv = 1;
out:
    if (f >= 0)
        close(f);
    if (rv != 1)
        pthread_mutex_unlock(&col->fork_lock);
    free(path);
    return rv;
}

void forklock_release(struct collector *col, int fd)
{
    if (fd >= 0)
        close(fd); /* drops the flock */
    pthread_mutex_unlock(&col->fork_lock);
}

int forklock_wait(struct instance *in, int (*beat)(struct instance *, struct err *), int *fd, struct err *e)
{
    int64_t next_beat = time_monotonic_ms() + in->ic->poll_interval_ms;
    int64_t since = time_monotonic_ms();
    int logged = 0;

    for (;;) {
        int rv = forklock_try(in->col, fd, e);

        if (rv < 0)
            return -1;
        if (rv > 0) {
            if (logged)
                log_msg(in->col->log, LOG_INFO, in->name, "fork lock taken after %.1f s",
                        (double)(time_monotonic_ms() - since) / 1000.0);
            return 0;
        }
        if (!logged)
            log_msg(in->col->log, LOG_INFO, in->name,
                    "waiting for the fork of another instance on this box to end (one fork at a time)");
        logged = 1;
        if (beat != NULL && time_monotonic_ms() >= next_beat) {
            next_beat = time_monotonic_ms() + in->ic->poll_interval_ms;
            if (beat(in, e) != 0) {
                context_fail(in, &in->h_index, "index", e);
                err_clear(e);
            }
        }
        if (in->barrier_deadline_ms > 0 && time_monotonic_ms() >= in->barrier_deadline_ms)
            return err_set(e, ERR_BUSY, "gave up after %.0f s: another instance on this box is still forking",
                           (double)(time_monotonic_ms() - since) / 1000.0);
        if (context_sleep(in->col, FORK_LOCK_POLL_MS, e) != 0)
            return -1;
    }
}
