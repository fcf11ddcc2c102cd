/* cli.c - plumbing shared by every aofroll subcommand: opening the
 * configuration, index and storage, resolving --instance or selecting
 * every instance, and errors. See cli.h. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config_path.h"
#include "timeutil.h"
#include "xalloc.h"

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
    if (index_open(c->index_path != NULL ? c->index_path : c->cfg.index_path, index_readonly, &c->idx, e) <
        0) {
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
    if (c->inst == NULL && c->index_path != NULL) {
        c->unlisted = c->cfg.defaults;
        c->unlisted.name = (char *)name;
        c->inst = &c->unlisted;
    }
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
                    c->index_path != NULL ? c->index_path : c->cfg.index_path);
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

int cli_require(const char *value, const char *option, struct err *e)
{
    if (value != NULL)
        return 0;
    return err_set(e, ERR_USAGE, "missing %s", option);
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

int cli_select(struct cli *c, const char *name, struct cli_selection *out, struct err *e)
{
    int i;

    memset(out, 0, sizeof(*out));
    if (name != NULL) {
        if (cli_instance(c, name, e) < 0)
            return -1;
        out->v = xcalloc(1, sizeof(*out->v));
        out->v[0].cfg = c->inst;
        out->v[0].name = c->inst->name;
        out->v[0].id = c->instance_id;
        out->n = 1;
        return 0;
    }
    out->v = xcalloc((size_t)(c->cfg.ninstances > 0 ? c->cfg.ninstances : 1), sizeof(*out->v));
    for (i = 0; i < c->cfg.ninstances; i++) {
        struct cli_selected *in = &out->v[out->n];

        in->cfg = &c->cfg.instances[i];
        in->name = in->cfg->name;
        if (index_instance_id(c->idx, in->name, 0, &in->id, e) < 0) {
            if (e->code != ERR_NOTFOUND) {
                cli_selection_free(out);
                return -1;
            }
            err_clear(e);
            in->id = -1;
        }
        out->n++;
    }
    return 0;
}

void cli_selection_free(struct cli_selection *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}
