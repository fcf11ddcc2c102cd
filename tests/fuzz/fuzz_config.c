/* fuzz_config.c - libFuzzer target for the configuration loader
 * (common/config.c: YAML through libyaml, sizes, durations, URLs).
 *
 * The input is a configuration file's text, parsed from the buffer as
 * config_load() parses a file. A configuration that parses is dumped
 * (config_dump, as --check prints it) and each instance's Redis URL is
 * redacted: the redacted URL holds the password fewer times than the URL,
 * and the dump never holds a URL that has a password. One that
 * does not parse must fail with "FILE:..." naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define NAME "fuzz.yaml"

/* How many times `needle` occurs in `s` (overlaps counted). */
static size_t count(const char *s, const char *needle)
{
    size_t n = 0;

    while ((s = strstr(s, needle)) != NULL) {
        n++;
        s++;
    }
    return n;
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
        if (ic->redis.password != NULL && ic->redis.password[0] != '\0') {
            fuzz_check(count(redacted, ic->redis.password) < count(ic->redis_url, ic->redis.password),
                       "the password is still in the redacted URL \"%s\"", redacted);
            fuzz_check(strstr(dump, ic->redis_url) == NULL, "the URL with its password is in the dump");
        }
        free(redacted);
    }
    free(dump);
    config_free(&cfg);
    return 0;
}
