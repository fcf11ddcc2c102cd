/* server.h - which server aofroll talks to: Redis or Valkey, its version,
 * the RDB format versions it reads, and whether the project tests it.
 *
 * Redis and Valkey share the AOF and RDB formats but not their version
 * numbers: Valkey 8.0 reports redis_version 7.2.4 for compatibility and
 * its own in server_name/valkey_version; Redis 8.0's milestones report
 * 7.9.x. A server is identified from INFO server (the collector), from the
 * first line of `redis-server --version` (restore --start, before it
 * launches one), and the writer of an RDB file from its "redis-ver" or
 * "valkey-ver" AUX field. The tables here (RDB version per release series,
 * the tested matrix) are the single place to update when a server is added
 * to the matrix (scripts/servers.sh, README.md). */
#ifndef AOFROLL_SERVER_H
#define AOFROLL_SERVER_H

#include <stddef.h>

#include "error.h"

enum server_engine { SERVER_REDIS, SERVER_VALKEY };

struct server_id {
    enum server_engine engine;
    char version[32]; /* as the server reports it: "7.4.1" */
    int major, minor, patch;
};

/* From the text of INFO server (or INFO): server_name:valkey with
 * valkey_version, else redis_version. ERR_REDIS when neither is there. */
int server_from_info(const char *info, size_t len, struct server_id *id, struct err *e);
/* From `redis-server --version`: "Redis server v=7.4.1 sha=..." or
 * "Valkey server v=8.0.1 ...". ERR_REDIS when it is not such a line. */
int server_from_version_line(const char *line, struct server_id *id, struct err *e);
/* "Redis 7.4.1", "Redis 7.9.224 (8.0-m01)", "Valkey 8.0.1" into buf. */
const char *server_describe(const struct server_id *id, char *buf, size_t n);

/* The newest RDB format version the server reads (and writes). *exact is
 * 1 when its release series is in the table, 0 when the server is newer
 * than the table knows (the value is then the newest known: a floor).
 * -1 for a version older than any in the table. */
int server_rdb_version(const struct server_id *id, int *exact);

enum server_tested {
    SERVER_TESTED,      /* this very version is in the matrix */
    SERVER_SAME_SERIES, /* another patch release of a tested major.minor */
    SERVER_UNTESTED
};
/* Where the server stands in the tested matrix; *tested names the tested
 * version of its series (or NULL). */
enum server_tested server_tested(const struct server_id *id, const char **tested);
/* The whole matrix, "Redis 7.0.15, ...; Valkey 8.0.1", into buf. */
const char *server_matrix(char *buf, size_t n);
/* One line for --check: "Redis 7.4.1, in the tested matrix", "Redis 7.4.3,
 * not itself tested; 7.4.1 of its series is", or "Redis 6.2.14, not in the
 * tested matrix (MATRIX)". */
const char *server_verdict(const struct server_id *id, char *buf, size_t n);

/* What the first bytes of an RDB file say: its format version and the
 * server that wrote it (from its AUX fields, which Redis and Valkey write
 * first; writer[0] is '\0' when none is found in the bytes given). -1 with
 * ERR_CORRUPT when the bytes do not start with "REDIS" and four digits. */
int server_rdb_header(const void *data, size_t len, int *rdb_version, char *writer, size_t n, struct err *e);

#endif
