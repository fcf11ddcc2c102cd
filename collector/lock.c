/* lock.c - one collector per instance.
 *
 * Two collectors shipping the same instance would race on the index and
 * the object names. Each collector therefore holds an exclusive flock on
 * <lock_dir>/<instance>.lock for as long as it runs; the file holds the
 * holder's PID so that the loser can name it. flock locks belong to the
 * open file description, so the kernel releases them when the process
 * dies, SIGKILL included: a stale lock file never blocks a restart. */

#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* The PID written in the lock file, or 0 when it cannot be read. */
static long lock_holder(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

    if (n <= 0)
        return 0;
    text[n] = '\0';
    return strtol(text, NULL, 10);
}

int lock_acquire(const char *dir, const char *instance, int *fd_out, long *holder_out, struct err *e)
{
    char *path = xasprintf("%s/%s.lock", dir, instance);
    char pid[32];
    int fd, len;
    int rv = -1;

    *fd_out = -1;
    if (holder_out != NULL)
        *holder_out = 0;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_sys(e, errno, "cannot open lock \"%s\"", path);
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            long holder = lock_holder(fd);

            if (holder_out != NULL)
                *holder_out = holder;
            if (holder > 0)
                err_set(e, ERR_BUSY, "instance \"%s\" is already being collected by pid %ld (lock \"%s\")",
                        instance, holder, path);
            else
                err_set(e, ERR_BUSY, "instance \"%s\" is already being collected (lock \"%s\")", instance,
                        path);
        } else {
            err_sys(e, errno, "cannot lock \"%s\"", path);
        }
        close(fd);
        goto out;
    }
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        err_sys(e, errno, "cannot write pid to lock \"%s\"", path);
        close(fd);
        goto out;
    }
    *fd_out = fd;
    rv = 0;
out:
    free(path);
    return rv;
}

void lock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
