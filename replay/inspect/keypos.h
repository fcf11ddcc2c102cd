/* keypos.h - which arguments of a Redis command are keys, and Redis globs.
 *
 * `aofroll log --key GLOB` must find every command that touched a key, so it
 * needs to know where the keys sit in each command's arguments. Redis and
 * Valkey describe that in their command table ("key specs", as COMMAND
 * returns them); this module holds the specs of every command and
 * subcommand of the servers the project tests (keypos_table.h, generated
 * by scripts/keyspecs.py) and applies them as the server would. A command
 * no server knows (a module's) is assumed to have its key in argv[1],
 * which is right for nearly every data-type command.
 *
 * Matching uses Redis's own glob rules (util.c stringmatchlen): `*`, `?`,
 * `[abc]`, `[^a-z]`, `\` escaping the next byte, an unterminated `[` taking
 * the rest of the pattern as the class. It is binary safe (keys may hold
 * NUL bytes, which rules out fnmatch(3)) and compares bytes as unsigned
 * values. */
#ifndef AOFROLL_KEYPOS_H
#define AOFROLL_KEYPOS_H

#include <stddef.h>

struct aofscan_arg;

/* Fill idx[] with the argument indexes of the keys of the command
 * argv[0..argc) (at most max of them) and return how many keys there are
 * (which may exceed max). Commands without keys (SELECT, MULTI, FLUSHALL,
 * ...) return 0. Names are matched case-insensitively. */
size_t keypos_keys(const struct aofscan_arg *argv, long argc, long *idx, size_t max);

/* 1 when string[0..slen) matches the glob pattern[0..plen), else 0. */
int keypos_glob_match(const char *pattern, size_t plen, const char *string, size_t slen, int nocase);

/* 1 when any key argument of the command matches the glob. */
int keypos_command_matches(const struct aofscan_arg *argv, long argc, const char *pattern, size_t plen);

#endif
