/* metrics.h - the collector's figures in Prometheus text format.
 *
 * When `metrics_file` is set, the collector rewrites that file after each
 * poll with the same figures `aofroll status` prints, in the text format of
 * node_exporter's textfile collector (point node_exporter's
 * --collector.textfile.directory at the file's directory; the file name
 * must end in ".prom"). One sample per instance, labelled
 * instance="NAME":
 *
 *   aofroll_last_poll_timestamp_seconds     heartbeat (unix s)
 *   aofroll_poll_interval_seconds           configured poll interval
 *   aofroll_generation                      current generation number
 *   aofroll_current_file_size_bytes         size of the incr file followed
 *   aofroll_shipped_bytes                   shipped offset in that file
 *   aofroll_lag_bytes                       size - shipped
 *   aofroll_lag_seconds                     age of the oldest unshipped byte
 *                                           (omitted when unknown)
 *   aofroll_last_barrier_timestamp_seconds  0 when never
 *   aofroll_last_error_timestamp_seconds    0 when never
 *   aofroll_up                              1 when the backup is happening
 *                                           (status would say OK), else 0
 *   aofroll_problem{reason="..."}           per reason of verdict.h, 1 when
 *                                           it applies, else 0 (among them
 *                                           "aof-off", "barrier-overdue")
 *   aofroll_barrier_postponed_seconds       how long the pending barrier has
 *                                           been held back, 0 if none is
 *
 * The file is replaced atomically (written to "PATH.tmp.PID" in the same
 * directory, which the textfile collector ignores, then renamed), so a
 * scrape never sees half a file. It is not fsynced: the figures are
 * rewritten every poll and worth nothing after a crash. */
#ifndef AOFROLL_METRICS_H
#define AOFROLL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "index.h"
#include "verdict.h"

/* One instance of the file: its status row and its verdict. */
struct metrics_instance {
    const char *name;
    const struct status_row *row;
    const struct verdict *verdict;
};

/* Format v[0..n) into `out`. */
void metrics_format(const struct metrics_instance *v, size_t n, struct buf *out);

/* Format and atomically replace the file at `path`. */
int metrics_write(const char *path, const struct metrics_instance *v, size_t n, struct err *e);

#endif
