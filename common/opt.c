/* opt.c - one parser and one usage printer for every option table (see
 * opt.h). The table is turned into getopt_long's arguments, so the
 * command line is read as getopt_long reads it; what each value means and
 * where it goes comes from the table alone. */
#include "opt.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"
#include "xalloc.h"

/* getopt_long's value for the row: its short name, or 256 + its index */
#define OPT_LONGVAL 256

/* The usage's option column is this wide (two spaces of indent before). */
#define OPT_COLUMN 24

static size_t opt_count(const struct opt *table)
{
    size_t n = 0;

    while (table[n].kind != OPT_END)
        n++;
    return n;
}

static int opt_takes_value(const struct opt *o)
{
    return o->kind != OPT_FLAG && o->kind != OPT_HELP;
}

static const struct opt *opt_by_val(const struct opt *table, size_t n, int val)
{
    size_t i;

    if (val >= OPT_LONGVAL)
        return (size_t)(val - OPT_LONGVAL) < n ? &table[val - OPT_LONGVAL] : NULL;
    for (i = 0; i < n; i++)
        if (table[i].shortname != 0 && table[i].shortname == val)
            return &table[i];
    return NULL;
}

/* getopt_long's '?' or ':' as one of aofroll's messages. */
static int opt_error(int ch, int argc, char **argv, struct err *e)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

    if (ch == ':')
        return err_set(e, ERR_USAGE, "option \"%s\" needs a value", arg);
    if (optopt != 0 && strncmp(arg, "--", 2) != 0)
        return err_set(e, ERR_USAGE, "unknown option \"-%c\"", optopt);
    /* "--name=value": name only the option */
    return err_set(e, ERR_USAGE, "unknown option \"%.*s\"", (int)strcspn(arg, "="), arg);
}

int opt_time(const char *option, const char *text, int64_t *t, struct err *e)
{
    if (strcmp(text, "now") == 0) {
        *t = time_now();
        return 0;
    }
    if (time_parse(text, t, e) < 0) {
        e->code = ERR_USAGE;
        err_prefix(e, "%s", option);
        return -1;
    }
    return 0;
}

int opt_long(const char *option, const char *text, long lo, long hi, long *out, struct err *e)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi)
        return err_set(e, ERR_USAGE, "%s: \"%s\" is not a number from %ld to %ld", option, text, lo, hi);
    *out = v;
    return 0;
}

/* Store one value as the row's kind says. */
static int opt_store(const struct opt *o, const char *value, void *dst, struct err *e)
{
    char *field = (char *)dst + o->off;
    char option[64];

    snprintf(option, sizeof(option), "--%s", o->name);
    switch (o->kind) {
    case OPT_FLAG:
        *(int *)field = 1;
        break;
    case OPT_STRING:
        *(const char **)field = value;
        break;
    case OPT_TIME:
        if (opt_time(option, value, (int64_t *)(void *)field, e) < 0)
            return -1;
        break;
    case OPT_LONG:
        if (opt_long(option, value, o->min, o->max, (long *)(void *)field, e) < 0)
            return -1;
        break;
    case OPT_REPEAT: {
        struct opt_repeat *r = (struct opt_repeat *)(void *)field;

        if (r->n >= OPT_REPEAT_MAX)
            return err_set(e, ERR_USAGE, "option \"%s\" given more than %d times", option, OPT_REPEAT_MAX);
        r->v[r->n++] = value;
        break;
    }
    case OPT_HELP:
    case OPT_END:
        break;
    }
    if (o->given != 0)
        *(int *)((char *)dst + o->given - 1) = 1;
    return 0;
}

int opt_parse(const struct opt *table, int argc, char **argv, void *dst, struct opt_rest *rest, struct err *e)
{
    size_t n = opt_count(table), i, k = 0;
    struct option *longopts = xcalloc(n + 1, sizeof(*longopts));
    char *shortopts = xcalloc(2 * n + 3, 1);
    int status = -1, ch;

    memcpy(shortopts, "+:", 2);
    k = 2;
    for (i = 0; i < n; i++) {
        const struct opt *o = &table[i];

        longopts[i].name = o->name;
        longopts[i].has_arg = opt_takes_value(o) ? required_argument : no_argument;
        longopts[i].val = o->shortname != 0 ? o->shortname : OPT_LONGVAL + (int)i;
        if (o->shortname != 0) {
            shortopts[k++] = o->shortname;
            if (opt_takes_value(o))
                shortopts[k++] = ':';
        }
    }
    opterr = 0;
    optind = 0; /* glibc: start afresh at argv[1] */
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct opt *o;

        if (ch == '?' || ch == ':') {
            opt_error(ch, argc, argv, e);
            goto out;
        }
        o = opt_by_val(table, n, ch);
        if (o == NULL) {
            err_set(e, ERR_USAGE, "unknown option \"%s\"", argv[optind - 1]);
            goto out;
        }
        if (o->kind == OPT_HELP) {
            status = 1;
            goto out;
        }
        if (opt_store(o, optarg, dst, e) < 0)
            goto out;
    }
    if (rest != NULL) {
        rest->argv = argv + optind;
        rest->argc = argc - optind;
        rest->dashdash = optind > 1 && optind <= argc && strcmp(argv[optind - 1], "--") == 0;
    } else if (optind < argc) {
        err_set(e, ERR_USAGE, "unexpected argument \"%s\"", argv[optind]);
        goto out;
    }
    status = 0;
out:
    free(longopts);
    free(shortopts);
    return status;
}

void opt_usage(FILE *fp, const struct opt *table)
{
    size_t i;

    for (i = 0; table[i].kind != OPT_END; i++) {
        const struct opt *o = &table[i];
        const char *h = o->help != NULL ? o->help : "";
        char left[80];
        int len;

        if (o->shortname != 0)
            len = snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shortname, o->name, o->arg ? " " : "",
                           o->arg ? o->arg : "");
        else
            len = snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (len >= OPT_COLUMN)
            fprintf(fp, "  %s\n%*s", left, OPT_COLUMN + 2, "");
        else
            fprintf(fp, "  %-*s", OPT_COLUMN, left);
        while (*h != '\0') {
            size_t line = strcspn(h, "\n");

            fprintf(fp, "%.*s\n", (int)line, h);
            h += line;
            if (*h == '\n' && *++h != '\0')
                fprintf(fp, "%*s", OPT_COLUMN + 2, "");
        }
        if (o->help == NULL || o->help[0] == '\0')
            fputc('\n', fp);
    }
}
