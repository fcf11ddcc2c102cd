/* cli.c - plumbing shared by every aofroll subcommand: option parsing with
 * aofroll's messages, opening the configuration, index and storage, and
 * resolving --instance. See cli.h. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config_path.h"
#include "timeutil.h"

void cli_init(struct cli *c, const char *cmd)
{
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->instance_id = -1;
}

int cli_open(struct cli *c, const char *config_path, int index_readonly, struct err *e)
{
    if (config_path_load(config_path, &c->cfg, e) < 0)
        return -1;
    c->have_cfg = 1;
    if (index_open(c->cfg.index_path, index_readonly, &c->idx, e) < 0) {
        c->idx = NULL;
        if (access(c->cfg.index_path, F_OK) != 0 && errno == ENOENT) {
            char *url = config_redact_url(c->cfg.storage_url);
            size_t n = strlen(e->msg);

            snprintf(e->msg + n, sizeof(e->msg) - n,
                     " HINT: \"aofroll reindex\" rebuilds it from the storage (%s); or \"index:\" in \"%s\" "
                     "names another file",
                     url, c->cfg.path);
            free(url);
        }
        return -1;
    }
    if (storage_open(&c->cfg, &c->st, e) < 0) {
        c->st = NULL;
        return -1;
    }
    return 0;
}

int cli_instance(struct cli *c, const char *name, struct err *e)
{
    struct buf names = BUF_INIT;
    int ret = -1;
    int i;

    if (cli_require(name, "--instance NAME", e) < 0)
        goto out;
    c->inst = config_instance(&c->cfg, name);
    if (c->inst == NULL) {
        for (i = 0; i < c->cfg.ninstances; i++)
            buf_printf(&names, "%s%s", i ? ", " : "", c->cfg.instances[i].name);
        err_set(e, ERR_USAGE, "unknown instance \"%s\" (configured: %s)", name,
                names.len ? names.data : "none");
        goto out;
    }
    if (index_instance_id(c->idx, name, 0, &c->instance_id, e) < 0) {
        if (e->code == ERR_NOTFOUND)
            err_set(e, ERR_NOTFOUND, "instance \"%s\" has no archive in index \"%s\"", name,
                    c->cfg.index_path);
        c->inst = NULL;
        goto out;
    }
    ret = 0;
out:
    buf_free(&names);
    return ret;
}

void cli_close(struct cli *c)
{
    if (c->st != NULL)
        storage_close(c->st);
    if (c->idx != NULL)
        index_close(c->idx);
    if (c->have_cfg)
        config_free(&c->cfg);
    c->st = NULL;
    c->idx = NULL;
    c->have_cfg = 0;
    c->inst = NULL;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, struct err *e)
{
    const char *arg;
    int ch;

    opterr = 0;
    ch = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (ch != '?' && ch != ':')
        return ch;
    arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (ch == ':') {
        err_set(e, ERR_USAGE, "option \"%s\" needs a value", arg);
    } else if (optopt != 0 && strncmp(arg, "--", 2) != 0) {
        err_set(e, ERR_USAGE, "unknown option \"-%c\"", optopt);
    } else {
        /* "--name=value": name only the option */
        size_t n = strcspn(arg, "=");
        err_set(e, ERR_USAGE, "unknown option \"%.*s\"", (int)n, arg);
    }
    return '?';
}

int cli_after_dashdash(int argc, char **argv)
{
    return optind > 1 && optind <= argc && strcmp(argv[optind - 1], "--") == 0;
}

int cli_require(const char *value, const char *option, struct err *e)
{
    if (value != NULL)
        return 0;
    return err_set(e, ERR_USAGE, "missing %s", option);
}

int cli_parse_time(const char *option, const char *text, int64_t *t, struct err *e)
{
    if (strcmp(text, "now") == 0) {
        *t = time_now();
        return 0;
    }
    if (time_parse(text, t, e) < 0) {
        if (e->code != ERR_USAGE)
            e->code = ERR_USAGE;
        err_prefix(e, "%s", option);
        return -1;
    }
    return 0;
}

int cli_parse_long(const char *option, const char *text, long lo, long hi, long *out, struct err *e)
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

int cli_fail(const char *cmd, const struct err *e)
{
    const char *msg = e->msg[0] ? e->msg : "failed";

    if (cmd != NULL)
        fprintf(stderr, "aofroll %s: %s\n", cmd, msg);
    else
        fprintf(stderr, "aofroll: %s\n", msg);
    return err_exit_status(e);
}

double cli_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
