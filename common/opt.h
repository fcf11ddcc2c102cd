/* opt.h - command-line options declared once, in a table.
 *
 * Each program (aofroll-collector) and each subcommand (aofroll restore,
 * ls, ...) declares its options in one array of struct opt: long name,
 * short name, kind, where the value goes (an offset into the command's own
 * options struct) and, for the usage text, the argument's name and a line
 * of help. opt_parse() reads the command line with that table and
 * opt_usage() prints the option list from it, so the help cannot name an
 * option that is not accepted, nor leave one out.
 *
 * Parsing is getopt_long's (long names may be abbreviated while unique,
 * "--to=TIME" and "--to TIME", "-cFILE" and "-c FILE"; options end at the
 * first non-option or at "--"), with aofroll's messages, all ERR_USAGE:
 *   unknown option "--x"            option "--to" needs a value
 *   unexpected argument "x"         --port: "x" is not a number from 1 to 65535
 *   --at: invalid time "x": expected RFC 3339 (...)
 * A command's own rules (required options, options that need each other)
 * stay in the command, after opt_parse(). */
#ifndef AOFROLL_OPT_H
#define AOFROLL_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

enum opt_kind {
    OPT_END = 0, /* the {0} row that ends a table */
    OPT_FLAG,    /* no value: int field set to 1 */
    OPT_STRING,  /* const char * field: the argument as given */
    OPT_TIME,    /* int64_t field: TIME as time_parse() reads it, or "now" */
    OPT_LONG,    /* long field: a decimal integer in [min, max] */
    OPT_REPEAT,  /* struct opt_repeat field: every value, in order */
    OPT_HELP,    /* no value, no field: opt_parse() returns 1 at once */
};

/* Where a repeated option's values go (OPT_REPEAT); up to OPT_REPEAT_MAX
 * of them, more is a usage error. */
#define OPT_REPEAT_MAX 16
struct opt_repeat {
    const char *v[OPT_REPEAT_MAX];
    int n;
};

struct opt {
    const char *name; /* long name without the dashes: "to" for --to */
    char shortname;   /* 'c' for -c, or 0 */
    enum opt_kind kind;
    size_t off;       /* offsetof(the options struct, its field) */
    size_t given;     /* OPT_GIVEN(struct, field): an int set to 1 when the option is given; 0: none */
    long min, max;    /* OPT_LONG: the range accepted */
    const char *arg;  /* the argument's name in the usage: "FILE", "TIME" */
    const char *help; /* one line; a '\n' continues it on the next line, indented */
};

/* For struct opt's given: 0 means none, so the offset is stored plus one. */
#define OPT_GIVEN(type, field) (offsetof(type, field) + 1)

/* What follows the options. */
struct opt_rest {
    char **argv;  /* the first argument after the options */
    int argc;     /* how many follow */
    int dashdash; /* the options ended with "--": what follows is for another program */
};

/* Parse argv[1..argc) (argv[0] is the command's name) with the table,
 * storing into dst (the struct the offsets point into, which the caller
 * has filled with its defaults). rest NULL: any argument after the options
 * is an error ("unexpected argument"); else it is described in *rest.
 * Returns 0, 1 when an OPT_HELP option was given (nothing after it is
 * read), or -1 with ERR_USAGE in e. Not thread-safe (getopt's state). */
int opt_parse(const struct opt *table, int argc, char **argv, void *dst, struct opt_rest *rest,
              struct err *e);

/* The value checks of OPT_TIME and OPT_LONG, for a command that reads an
 * option's text later: ERR_USAGE naming the option ("--to", as written). */
int opt_time(const char *option, const char *text, int64_t *t, struct err *e);
int opt_long(const char *option, const char *text, long lo, long hi, long *out, struct err *e);

/* Print the table as an option list, one option a line:
 *   "  -c, --config FILE       configuration file"
 *   "  --instance NAME         instance to restore" */
void opt_usage(FILE *fp, const struct opt *table);

#endif
