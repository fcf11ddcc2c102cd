/* commands.h - the subcommands of the aofroll tool.
 *
 * main.c dispatches `aofroll NAME ...` through a table of {name, function,
 * usage, options}; each subcommand is one `int cmd_NAME(int argc, char
 * **argv)` in its own file cmd_NAME.c, beside the table of its options,
 * cmd_NAME_options (common/opt.h), which it parses with and main.c prints
 * for --help. argv[0] is the command's name; the
 * function returns the process exit status: 0 ok, 1 operational failure,
 * 2 bad usage (see cli.h for the shared plumbing). */
#ifndef AOFROLL_REPLAY_COMMANDS_H
#define AOFROLL_REPLAY_COMMANDS_H

#include <stdio.h>

#include "opt.h"

int cmd_restore(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_generations(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_rekey(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* Each command's option table, ended by a {0} row. */
extern const struct opt cmd_restore_options[];
extern const struct opt cmd_apply_options[];
extern const struct opt cmd_ls_options[];
extern const struct opt cmd_generations_options[];
extern const struct opt cmd_show_options[];
extern const struct opt cmd_log_options[];
extern const struct opt cmd_timeline_options[];
extern const struct opt cmd_verify_options[];
extern const struct opt cmd_status_options[];
extern const struct opt cmd_prune_options[];
extern const struct opt cmd_reindex_options[];
extern const struct opt cmd_delete_options[];
extern const struct opt cmd_info_options[];
extern const struct opt cmd_rekey_options[];

/* Print "usage: aofroll NAME ...", what it does and its options (from its
 * table) to fp; returns 0, or -1 for an unknown command. */
int commands_usage(FILE *fp, const char *name);

#endif
