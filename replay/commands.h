/* commands.h - the subcommands of the aofroll tool.
 *
 * main.c dispatches `aofroll NAME ...` through a table of {name, function,
 * usage}; each subcommand is one `int cmd_NAME(int argc, char **argv)` in
 * its own file (cmd_restore in restore.c, cmd_apply in apply.c, the
 * inspection commands in cmd_NAME.c). argv[0] is the command's name; the
 * function returns the process exit status: 0 ok, 1 operational failure,
 * 2 bad usage (see cli.h for the shared plumbing). */
#ifndef AOFROLL_REPLAY_COMMANDS_H
#define AOFROLL_REPLAY_COMMANDS_H

#include <stdio.h>

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

/* Print "usage: aofroll NAME ..." and the command's option summary from
 * main.c's table to fp; returns 0, or -1 for an unknown command. */
int commands_usage(FILE *fp, const char *name);

#endif
