/* test_opt.c - unit tests for opt.c: the one option parser and usage
 * printer behind every command line of aofroll and aofroll-collector.
 *
 * Each kind stores where its row says (flag, string, TIME, integer with a
 * range, repeated), "given" is set only for options given, getopt_long's
 * forms are read (--x=v, --x v, -cV, -c V, unique abbreviations), and every
 * refusal is ERR_USAGE with the message the commands have always printed:
 * unknown option "--x" / "-q", option "--to" needs a value, unexpected
 * argument, bad numbers and times naming the option. "--" ends the options
 * and hands the rest to the caller. The usage printer is checked against
 * the exact text it must print, continuation lines included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

struct o {
    const char *config;
    const char *name;
    int force;
    int64_t at;
    int have_at;
    long port;
    struct opt_repeat keys;
};

static const struct opt table[] = {
    {.name = "config",
     .shortname = 'c',
     .kind = OPT_STRING,
     .off = offsetof(struct o, config),
     .arg = "FILE",
     .help = "configuration file"},
    {.name = "instance",
     .kind = OPT_STRING,
     .off = offsetof(struct o, name),
     .arg = "NAME",
     .help = "the instance"},
    {.name = "force", .kind = OPT_FLAG, .off = offsetof(struct o, force), .help = "two lines\nof help"},
    {.name = "at",
     .kind = OPT_TIME,
     .off = offsetof(struct o, at),
     .given = OPT_GIVEN(struct o, have_at),
     .arg = "TIME",
     .help = "a second"},
    {.name = "port",
     .kind = OPT_LONG,
     .off = offsetof(struct o, port),
     .min = 1,
     .max = 65535,
     .arg = "N",
     .help = "a port"},
    {.name = "key", .kind = OPT_REPEAT, .off = offsetof(struct o, keys), .arg = "GLOB", .help = "repeatable"},
    {.name = "a-name-long-enough-to-wrap",
     .kind = OPT_FLAG,
     .off = offsetof(struct o, force),
     .help = "wraps"},
    {.name = "help", .shortname = 'h', .kind = OPT_HELP, .help = "print this help"},
    {0},
};

/* Parse a NULL-ended list of arguments (argv[0] is added). */
static int parse(struct o *o, struct opt_rest *rest, struct err *e, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    char *a;

    argv[argc++] = (char *)"cmd";
    va_start(ap, e);
    while ((a = va_arg(ap, char *)) != NULL && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    memset(o, 0, sizeof(*o));
    err_clear(e);
    return opt_parse(table, argc, argv, o, rest, e);
}

static void assert_usage_error(int rc, const struct err *e, const char *msg)
{
    assert_int_equal(rc, -1);
    assert_int_equal(e->code, ERR_USAGE);
    assert_string_equal(e->msg, msg);
}

static void test_kinds(void **state)
{
    struct o o;
    struct err e;

    (void)state;
    assert_int_equal(parse(&o, NULL, &e, "-c", "f.yaml", "--instance", "x", "--force", "--at", "@1795187521",
                           "--port", "6379", "--key", "a*", "--key", "b", NULL),
                     0);
    assert_string_equal(o.config, "f.yaml");
    assert_string_equal(o.name, "x");
    assert_int_equal(o.force, 1);
    assert_int_equal(o.at, INT64_C(1795187521));
    assert_int_equal(o.have_at, 1);
    assert_int_equal(o.port, 6379);
    assert_int_equal(o.keys.n, 2);
    assert_string_equal(o.keys.v[0], "a*");
    assert_string_equal(o.keys.v[1], "b");

    /* nothing given: nothing touched, "given" stays 0 */
    assert_int_equal(parse(&o, NULL, &e, NULL), 0);
    assert_null(o.config);
    assert_int_equal(o.force, 0);
    assert_int_equal(o.have_at, 0);
    assert_int_equal(o.keys.n, 0);
}

static void test_forms(void **state)
{
    struct o o;
    struct err e;

    (void)state;
    assert_int_equal(parse(&o, NULL, &e, "-cf.yaml", "--instance=y", "--po=7", "--inst", "z", NULL), 0);
    assert_string_equal(o.config, "f.yaml");
    assert_string_equal(o.name, "z"); /* the last one wins */
    assert_int_equal(o.port, 7);
    assert_int_equal(parse(&o, NULL, &e, "--config", "--force", NULL),
                     0); /* a value may look like an option */
    assert_string_equal(o.config, "--force");
    assert_int_equal(o.force, 0);
}

static void test_refusals(void **state)
{
    struct o o;
    struct err e;
    int rc;

    (void)state;
    rc = parse(&o, NULL, &e, "--x", NULL);
    assert_usage_error(rc, &e, "unknown option \"--x\"");
    rc = parse(&o, NULL, &e, "--x=3", NULL);
    assert_usage_error(rc, &e, "unknown option \"--x\"");
    rc = parse(&o, NULL, &e, "-q", NULL);
    assert_usage_error(rc, &e, "unknown option \"-q\"");
    rc = parse(&o, NULL, &e, "-c", "f", "-fq", NULL);
    assert_usage_error(rc, &e, "unknown option \"-f\"");
    rc = parse(&o, NULL, &e, "--at", NULL);
    assert_usage_error(rc, &e, "option \"--at\" needs a value");
    rc = parse(&o, NULL, &e, "-c", NULL);
    assert_usage_error(rc, &e, "option \"-c\" needs a value");
    rc = parse(&o, NULL, &e, "--port", "0", NULL);
    assert_usage_error(rc, &e, "--port: \"0\" is not a number from 1 to 65535");
    rc = parse(&o, NULL, &e, "--port", "12x", NULL);
    assert_usage_error(rc, &e, "--port: \"12x\" is not a number from 1 to 65535");
    rc = parse(&o, NULL, &e, "--port", "99999999999999999999", NULL);
    assert_usage_error(rc, &e, "--port: \"99999999999999999999\" is not a number from 1 to 65535");
    rc = parse(&o, NULL, &e, "--at", "soon", NULL);
    assert_int_equal(rc, -1);
    assert_int_equal(e.code, ERR_USAGE);
    assert_non_null(strstr(e.msg, "--at: "));
    assert_non_null(strstr(e.msg, "\"soon\""));
    assert_int_equal(o.have_at, 0);
    /* options end at the first argument that is not one */
    rc = parse(&o, NULL, &e, "-c", "f", "stray", "--force", NULL);
    assert_usage_error(rc, &e, "unexpected argument \"stray\"");
    assert_int_equal(o.force, 0);
}

static void test_repeat_limit(void **state)
{
    char *argv[2 + 2 * (OPT_REPEAT_MAX + 1)];
    struct o o;
    struct err e;
    int argc = 0, i;

    (void)state;
    argv[argc++] = (char *)"cmd";
    for (i = 0; i <= OPT_REPEAT_MAX; i++) {
        argv[argc++] = (char *)"--key";
        argv[argc++] = (char *)"k";
    }
    argv[argc] = NULL;
    memset(&o, 0, sizeof(o));
    err_clear(&e);
    assert_usage_error(opt_parse(table, argc, argv, &o, NULL, &e), &e,
                       "option \"--key\" given more than 16 times");
    memset(&o, 0, sizeof(o));
    assert_int_equal(opt_parse(table, argc - 2, argv, &o, NULL, &e), 0);
    assert_int_equal(o.keys.n, OPT_REPEAT_MAX);
}

static void test_help_and_rest(void **state)
{
    struct opt_rest rest;
    struct o o;
    struct err e;

    (void)state;
    /* help at once, whatever follows */
    assert_int_equal(parse(&o, NULL, &e, "-c", "f", "--help", "--bogus", NULL), 1);
    assert_int_equal(parse(&o, NULL, &e, "-h", NULL), 1);

    /* "--" hands the rest over */
    assert_int_equal(parse(&o, &rest, &e, "--force", "--", "--port", "7", NULL), 0);
    assert_int_equal(o.force, 1);
    assert_int_equal(o.port, 0);
    assert_int_equal(rest.dashdash, 1);
    assert_int_equal(rest.argc, 2);
    assert_string_equal(rest.argv[0], "--port");
    assert_string_equal(rest.argv[1], "7");
    assert_int_equal(parse(&o, &rest, &e, "--force", "--", NULL), 0);
    assert_int_equal(rest.dashdash, 1);
    assert_int_equal(rest.argc, 0);
    assert_int_equal(parse(&o, &rest, &e, "--force", "x", NULL), 0);
    assert_int_equal(rest.dashdash, 0);
    assert_int_equal(rest.argc, 1);
    assert_string_equal(rest.argv[0], "x");
    /* without a place for it, "--" with nothing after is still fine */
    assert_int_equal(parse(&o, NULL, &e, "--force", "--", NULL), 0);
    assert_usage_error(parse(&o, NULL, &e, "--", "x", NULL), &e, "unexpected argument \"x\"");
}

static void test_usage(void **state)
{
    char *text = NULL;
    size_t n = 0;
    FILE *fp;

    (void)state;
    fp = open_memstream(&text, &n);
    assert_non_null(fp);
    opt_usage(fp, table);
    fclose(fp);
    assert_string_equal(text, "  -c, --config FILE       configuration file\n"
                              "  --instance NAME         the instance\n"
                              "  --force                 two lines\n"
                              "                          of help\n"
                              "  --at TIME               a second\n"
                              "  --port N                a port\n"
                              "  --key GLOB              repeatable\n"
                              "  --a-name-long-enough-to-wrap\n"
                              "                          wraps\n"
                              "  -h, --help              print this help\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),         cmocka_unit_test(test_forms),
        cmocka_unit_test(test_refusals),      cmocka_unit_test(test_repeat_limit),
        cmocka_unit_test(test_help_and_rest), cmocka_unit_test(test_usage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
