/* cli.h - plumbing shared by every aofroll subcommand.
 *
 * A subcommand parses its options with cli_getopt() (getopt_long with
 * aofroll's error messages), then cli_open() loads the configuration and
 * opens the index and the storage named in it, and cli_instance() resolves
 * --instance to the configured instance and its index id. Errors are
 * printed by cli_fail() as one line "aofroll CMD: message" on stderr, and
 * the exit status follows the error: 0 ok, 1 operational, 2 usage. */
#ifndef AOFROLL_REPLAY_CLI_H
#define AOFROLL_REPLAY_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "index.h"
#include "storage.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli {
    const char *cmd; /* "restore": messages read "aofroll restore: ..." */
    struct config cfg;
    int have_cfg;                       /* cfg holds a loaded configuration */
    struct index *idx;                  /* NULL until cli_open() */
    struct storage *st;                 /* NULL until cli_open() */
    const struct instance_config *inst; /* NULL until cli_instance() */
    int64_t instance_id;
};

void cli_init(struct cli *c, const char *cmd);
/* Load config_path (NULL: AOFROLL_CONFIG, else the default; see
 * config_path.h), open its index (read-only when index_readonly) and its
 * storage. */
int cli_open(struct cli *c, const char *config_path, int index_readonly, struct err *e);
/* Resolve an instance name: `unknown instance "x" (configured: a, b)` when
 * the configuration lacks it (ERR_USAGE), ERR_NOTFOUND when the index has
 * never seen it. Sets c->inst and c->instance_id. */
int cli_instance(struct cli *c, const char *name, struct err *e);
void cli_close(struct cli *c);

/* getopt_long with no message of its own: returns the option's value, -1
 * at the end of the options, or '?' with ERR_USAGE in e ("unknown option
 * \"--x\"", "option \"--to\" needs a value"). shortopts must start with
 * "+:" (stop at the first non-option, report missing values). */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, struct err *e);
/* After the option loop: 1 when the options ended with "--" (what follows
 * is for another program), else 0. */
int cli_after_dashdash(int argc, char **argv);
/* Fail with ERR_USAGE when an option the command needs is missing. */
int cli_require(const char *value, const char *option, struct err *e);
/* TIME as DESIGN.md writes it, or "now"; ERR_USAGE naming the option
 * ("latest" is restore's and apply's --to: when.h). */
int cli_parse_time(const char *option, const char *text, int64_t *t, struct err *e);
/* A decimal integer in [lo, hi]; ERR_USAGE naming the option. */
int cli_parse_long(const char *option, const char *text, long lo, long hi, long *out, struct err *e);

/* Print "aofroll CMD: message" on stderr and return the exit status for
 * it (2 for ERR_USAGE, 1 otherwise). */
int cli_fail(const char *cmd, const struct err *e);
/* Seconds on the monotonic clock, for step timings. */
double cli_clock(void);

#endif
