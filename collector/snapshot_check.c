/* snapshot_check.c - aofroll-collector --check for a mode rdb instance.
 *
 * What check.c does for an AOF, for a dump file: print the snapshot
 * schedule, reach Redis, ask where the dump lives (CONFIG GET dir
 * dbfilename) and read it as a snapshot would (or, before the first save,
 * look into its directory), and judge the settings a snapshot depends on.
 * Problems (Redis unreachable, the dump or its directory unreadable from
 * here, the last BGSAVE failed) make the configuration unusable; warnings
 * (no RDB checksum, Redis's own `save` rules) and notes (an AOF that mode
 * aof could follow) do not. Lines go through check_report.c. Nothing here
 * changes Redis: no BGSAVE is sent. */
#include "snapshot_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"
#include "units.h"
#include "xalloc.h"

#include "redisconn.h"
#include "snapshot_schedule.h"

static void check_schedule(const struct instance_config *ic, struct check_report *r)
{
    char every[32] = "", at[32] = "";

    if (ic->snapshot_interval_s > 0) {
        char d[24];

        units_format_duration_ms(ic->snapshot_interval_s * 1000, d, sizeof(d));
        snprintf(every, sizeof(every), "every %s", d);
    }
    if (ic->snapshot_minute >= 0)
        snprintf(at, sizeof(at), "daily at \"%02d:%02d\"", ic->snapshot_minute / 60,
                 ic->snapshot_minute % 60);
    check_report_ok(r, "  mode rdb: BGSAVE snapshots %s%s%s", every,
                    every[0] != '\0' && at[0] != '\0' ? ", " : "", at);
}

/* The dump as a snapshot would open it. */
static void check_dump(const struct rdb_location *loc, struct check_report *r)
{
    char *path = xasprintf("%s/%s", loc->dir, loc->dbfilename);
    char size[32], t[TIME_BUFSZ];
    struct stat sb;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &sb) == 0) {
        units_format_size((int64_t)sb.st_size, size, sizeof(size));
        time_format_utc((int64_t)sb.st_mtime, t, sizeof(t));
        check_report_ok(r, "  rdb file: ok, \"%s\" (%s, written %s)", path, size, t);
    } else if (fd < 0 && errno == ENOENT && access(loc->dir, R_OK | X_OK) == 0) {
        check_report_ok(r, "  rdb file: \"%s\" does not exist yet; the first snapshot writes it", path);
    } else {
        check_report_problem(
            r,
            "  rdb file: cannot read \"%s\": %s. HINT: run the collector on the redis host, as a user "
            "that can read \"%s\"",
            path, strerror(errno), loc->dir);
    }
    if (fd >= 0)
        close(fd);
    free(path);
}

static void check_settings_rdb(const struct rdb_location *loc, struct check_report *r)
{
    if (loc->checksum)
        check_report_ok(r, "  rdbchecksum yes: ok, each snapshot is verified against the RDB's own CRC-64");
    else
        check_report_warn(
            r, "  rdbchecksum no: snapshots carry no CRC-64 to verify (the CRC32 of the bytes shipped is "
               "still recorded); set it to yes");
    if (loc->save[0] != '\0')
        check_report_warn(
            r,
            "  save \"%s\": redis also saves on its own; such a save is not ordered with the "
            "collector's forks (a snapshot that finds one running waits for it and ships its file)",
            loc->save);
    else
        check_report_ok(r, "  save \"\": ok, only the collector's snapshots fork");
    if (loc->appendonly)
        check_report_ok(
            r, "  appendonly yes: this redis keeps an AOF; mode aof would archive every write, restorable "
               "to the second");
}

void snapshot_check(const struct instance_config *ic, struct check_report *r)
{
    struct redisconn rc;
    struct rdb_location loc;
    struct rdb_persistence p;
    char line[512];
    struct err e;

    memset(&loc, 0, sizeof(loc));
    err_clear(&e);
    check_schedule(ic, r);
    redisconn_init(&rc, &ic->redis, ic->redis_url);
    if (redisconn_connect(&rc, &e) != 0) {
        check_report_problem(r, "  redis: %s", e.msg);
        goto out;
    }
    check_report_ok(r, "  redis: reachable");
    /* which server, and whether the project tests it: a warning at worst */
    if (redisconn_server_verdict(&rc, line, sizeof(line)) == 0)
        check_report_ok(r, "  server: %s", line);
    else
        check_report_warn(r, "  server: %s", line);
    if (redisconn_rdb_location(&rc, &loc, &e) != 0) {
        check_report_problem(r, "  redis: %s", e.msg);
        goto out;
    }
    check_settings_rdb(&loc, r);
    if (redisconn_rdb_persistence(&rc, &p, &e) != 0)
        check_report_problem(r, "  info persistence: %s", e.msg);
    else if (!p.last_bgsave_ok)
        check_report_problem(
            r, "  info persistence: the last BGSAVE failed (rdb_last_bgsave_status:err). HINT: the "
               "redis log says why (disk full, permissions of its dir)");
    else
        check_report_ok(r, "  info persistence: ok%s",
                        p.bgsave_in_progress ? " (a BGSAVE is in progress)" : "");
    check_dump(&loc, r);
out:
    redisconn_rdb_location_free(&loc);
    redisconn_free(&rc);
}
