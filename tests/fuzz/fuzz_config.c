/* fuzz_config.c - libFuzzer target for the configuration loader
 * (common/config.c: YAML through libyaml, sizes, durations, URLs).
 *
 * The input is a configuration file's text, parsed from the buffer as
 * config_load() parses a file. A configuration that parses is dumped
 * (config_dump, as --check prints it) and each instance's Redis URL is
 * redacted: the redacted URL parses as the same URL with "***" for the
 * password, and the dump loads as a configuration again, its instances'
 * Redis URLs redacted. One that
 * does not parse must fail with "FILE:..." naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define NAME "fuzz.yaml"

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The redacted URL is the same URL with "***" for its password. */
static void check_redacted(const struct instance_config *ic, const char *redacted)
{
    struct redis_addr back;
    struct err e;

    err_clear(&e);
    memset(&back, 0, sizeof(back));
    if (config_parse_redis_url(redacted, &back, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "\"%s\" redacts to \"%s\", which does not parse: %s", ic->redis_url,
                  redacted, e.msg);
    fuzz_check(same(back.password, "***"), "the redacted URL \"%s\" has another password", redacted);
    fuzz_check(back.transport == ic->redis.transport && same(back.host, ic->redis.host) &&
                   back.port == ic->redis.port && same(back.path, ic->redis.path) &&
                   same(back.user, ic->redis.user),
               "redacting \"%s\" changed more than the password: \"%s\"", ic->redis_url, redacted);
    redis_addr_free(&back);
}

/* The dump is the configuration again, with every Redis URL redacted. */
static void check_dump(const struct config *cfg, const char *dump, size_t len)
{
    struct config again;
    struct err e;
    int i;

    err_clear(&e);
    memset(&again, 0, sizeof(again));
    if (config_parse(NAME, dump, len, &again, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "the dump does not load: %s\n%s", e.msg, dump);
    fuzz_check(again.ninstances == cfg->ninstances, "%d instances, %d in the dump", cfg->ninstances,
               again.ninstances);
    for (i = 0; i < cfg->ninstances; i++) {
        char *redacted = config_redact_url(cfg->instances[i].redis_url);

        fuzz_check(strcmp(again.instances[i].name, cfg->instances[i].name) == 0, "instance %d renamed", i);
        fuzz_check(strcmp(again.instances[i].redis_url, redacted) == 0,
                   "instance %d: \"%s\" in the dump, not \"%s\"", i, again.instances[i].redis_url, redacted);
        free(redacted);
    }
    config_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    struct err e;
    char *dump = NULL;
    size_t dump_len = 0;
    FILE *fp;
    int i;

    err_clear(&e);
    memset(&cfg, 0, sizeof(cfg));
    if (config_parse(NAME, (const char *)data, size, &cfg, &e) < 0) {
        fuzz_check(strncmp(e.msg, NAME, strlen(NAME)) == 0, "message does not name the file: %s", e.msg);
        config_free(&cfg);
        return 0;
    }
    fp = open_memstream(&dump, &dump_len);
    fuzz_check(fp != NULL, "open_memstream failed");
    config_dump(&cfg, fp);
    fclose(fp);
    for (i = 0; i < cfg.ninstances; i++) {
        const struct instance_config *ic = &cfg.instances[i];
        char *redacted = config_redact_url(ic->redis_url);

        fuzz_check(config_instance(&cfg, ic->name) != NULL, "instance \"%s\" not found by name", ic->name);
        if (ic->redis.password != NULL && ic->redis.password[0] != '\0')
            check_redacted(ic, redacted);
        free(redacted);
    }
    check_dump(&cfg, dump, dump_len);
    free(dump);
    config_free(&cfg);
    return 0;
}
