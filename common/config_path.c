/* config_path.c - the configuration file a program reads when -c is left
 * out: AOFROLL_CONFIG, else the path fixed at configure time. Both
 * programs load their configuration through config_path_load(), so that
 * the rule and its messages live here once. See config_path.h. */
#include "config_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef AOFROLL_DEFAULT_CONFIG
#define AOFROLL_DEFAULT_CONFIG "/etc/aofroll/aofroll.yaml"
#endif

const char *config_path_default(void)
{
    return AOFROLL_DEFAULT_CONFIG;
}

const char *config_path_pick(const char *given)
{
    const char *env;

    if (given != NULL)
        return given;
    env = getenv("AOFROLL_CONFIG");
    if (env != NULL && env[0] != '\0')
        return env;
    return config_path_default();
}

int config_path_load(const char *given, struct config *cfg, struct err *e)
{
    const char *env = getenv("AOFROLL_CONFIG");
    const char *path = config_path_pick(given);
    size_t n;

    if (config_load(path, cfg, e) == 0)
        return 0;
    if (given != NULL || e->code == ERR_CONFIG)
        return -1;
    /* the file itself could not be read: say why this one was chosen */
    n = strlen(e->msg);
    if (env != NULL && env[0] != '\0')
        snprintf(e->msg + n, sizeof(e->msg) - n, " (named by AOFROLL_CONFIG) HINT: -c FILE names another");
    else
        snprintf(
            e->msg + n, sizeof(e->msg) - n,
            " (the default configuration) HINT: -c FILE or AOFROLL_CONFIG names another; aofroll.yaml(5) "
            "describes the file");
    return -1;
}
