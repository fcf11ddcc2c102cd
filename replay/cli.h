/* cli.h - plumbing shared by every aofroll subcommand.
 *
 * A subcommand declares its options in a table (common/opt.h) that
 * opt_parse() reads and `aofroll NAME --help` prints; then cli_open() loads
 * the configuration and opens the index and the storage named in it, and
 * cli_instance() resolves --instance to the configured instance and its
 * index id (cli_select(): that one or every configured instance). Errors
 * are printed by cli_fail() as one line "aofroll CMD: message" on stderr,
 * and the exit status follows the error: 0 ok, 1 operational, 2 usage. */
#ifndef AOFROLL_REPLAY_CLI_H
#define AOFROLL_REPLAY_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "index.h"
#include "opt.h"
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
    /* --index FILE: read this index (a copy fetched from storage) instead of
     * the configured one; cli_instance() then also takes an instance the
     * configuration lacks, with the configured defaults */
    const char *index_path;
    struct instance_config unlisted; /* such an instance (shallow: points into cfg) */
};

void cli_init(struct cli *c, const char *cmd);
/* Load config_path (NULL: AOFROLL_CONFIG, else the default; see
 * config_path.h), open its index (or c->index_path; read-only when
 * index_readonly) and its storage. */
int cli_open(struct cli *c, const char *config_path, int index_readonly, struct err *e);
/* Resolve an instance name: `unknown instance "x" (configured: a, b)` when
 * the configuration lacks it (ERR_USAGE), ERR_NOTFOUND when the index has
 * never seen it. Sets c->inst and c->instance_id. */
int cli_instance(struct cli *c, const char *name, struct err *e);
void cli_close(struct cli *c);

/* The instances a command works on: `--instance NAME` or every configured
 * instance (the inspection commands). */
struct cli_selected {
    const struct instance_config *cfg; /* its configuration */
    const char *name;
    int64_t id; /* -1 when the index has never seen it */
};

struct cli_selection {
    struct cli_selected *v;
    size_t n;
};

/* `name` given: that instance (cli_instance's errors: unknown is ERR_USAGE,
 * never archived ERR_NOTFOUND). NULL: every configured instance, in the
 * configuration's order, with id -1 for those the index lacks. */
int cli_select(struct cli *c, const char *name, struct cli_selection *out, struct err *e);
void cli_selection_free(struct cli_selection *l);

/* Fail with ERR_USAGE when an option the command needs is missing. */
int cli_require(const char *value, const char *option, struct err *e);

/* Rows that most subcommands' option tables (opt.h) share; type is the
 * command's options struct, which has the fields they name. */
#define CLI_OPT_CONFIG(type, text)                                                                           \
    {                                                                                                        \
        .name = "config", .shortname = 'c', .kind = OPT_STRING, .off = offsetof(type, config),               \
        .arg = "FILE", .help = (text)                                                                        \
    }
#define CLI_OPT_JSON(type)                                                                                   \
    {                                                                                                        \
        .name = "json", .kind = OPT_FLAG, .off = offsetof(type, json),                                       \
        .help = "one JSON document (docs/json.md)"                                                           \
    }
/* --cluster NAME of generations, ls, status and verify: main.c hands such
 * a command line to cluster_inspect.c (every node, shard by shard) before
 * the command parses it; the row is here for --help and the docs. */
#define CLI_OPT_CLUSTER(type)                                                                                \
    {                                                                                                        \
        .name = "cluster", .kind = OPT_STRING, .off = offsetof(type, cluster), .arg = "NAME",                \
        .help = "every node of Redis Cluster NAME, shard by shard (not with --json)"                         \
    }
#define CLI_OPT_HELP                                                                                         \
    {                                                                                                        \
        .name = "help", .shortname = 'h', .kind = OPT_HELP, .help = "print this help"                        \
    }

/* Print "aofroll CMD: message" on stderr and return the exit status for
 * it (2 for ERR_USAGE, 1 otherwise). */
int cli_fail(const char *cmd, const struct err *e);

#endif
