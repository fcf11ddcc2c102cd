/* storage_probe.c - drive one remote storage backend from the shell.
 *
 * The integration scenarios for the s3://, sftp:// and azure:// backends
 * (it_storage_s3.sh, it_storage_sftp.sh, it_storage_azure.sh) run the
 * shared storage suite and then check what only a backend has: signing,
 * credentials, retries, host keys, block uploads. This
 * program gives them each storage operation as a command, with the
 * storage configured from the same environment variables as the suite
 * (AOFROLL_SUITE_URL, AOFROLL_SUITE_S3_*, AOFROLL_SUITE_SFTP_*,
 * AOFROLL_SUITE_AZURE_*), so that the scripts can compare what it stored
 * with what boto3 or the file system sees.
 *
 *   storage_probe [--attempts N] [--base-ms N] [--cap-ms N] [--low-speed-s N]
 *                 [--single-put-max BYTES] [--block-size BYTES] [--list-max N] COMMAND ARGS
 *     put KEY FILE|-        get KEY (to stdout)      head KEY (prints the size)
 *     list [PREFIX]         ("KEY SIZE" lines)       rm KEY
 *     rm-many [KEY...]      (keys from stdin when none are given)
 *     put-many PREFIX N     (PREFIX000000 ... each holding its own name)
 *     auth                  (where the credentials came from, as --check says it)
 *     get-every SECONDS KEY (get KEY once a second for SECONDS: credentials refresh)
 *
 * Exit status: 0 done, 3 the object does not exist (ERR_NOTFOUND), 1 any
 * other failure, 2 bad usage; the error goes to stderr as one line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "storage.h"
#include "storage_azure.h"
#include "storage_s3.h"
#include "xalloc.h"

struct probe {
    struct config cfg;
    struct s3_tuning tuning;
    struct azure_tuning az_tuning;
    struct storage *st;
};

static char *probe_env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;
}

static void probe_config_from_env(struct config *cfg)
{
    const char *path_style = getenv("AOFROLL_SUITE_S3_PATH_STYLE");

    memset(cfg, 0, sizeof(*cfg));
    cfg->storage_url = probe_env("AOFROLL_SUITE_URL");
    cfg->s3.endpoint = probe_env("AOFROLL_SUITE_S3_ENDPOINT");
    cfg->s3.region = probe_env("AOFROLL_SUITE_S3_REGION");
    cfg->s3.path_style = path_style != NULL && strcmp(path_style, "1") == 0;
    cfg->s3.storage_class = probe_env("AOFROLL_SUITE_S3_STORAGE_CLASS");
    cfg->s3.sse = probe_env("AOFROLL_SUITE_S3_SSE");
    cfg->s3.credentials_file = probe_env("AOFROLL_SUITE_S3_CREDENTIALS_FILE");
    cfg->s3.ca_bundle = probe_env("AOFROLL_SUITE_S3_CA_BUNDLE");
    cfg->s3.sts_endpoint = probe_env("AOFROLL_SUITE_S3_STS_ENDPOINT");
    cfg->azure.endpoint = probe_env("AOFROLL_SUITE_AZURE_ENDPOINT");
    cfg->azure.sas_token_file = probe_env("AOFROLL_SUITE_AZURE_SAS_TOKEN_FILE");
    cfg->azure.ca_bundle = probe_env("AOFROLL_SUITE_AZURE_CA_BUNDLE");
    cfg->sftp.private_key = probe_env("AOFROLL_SUITE_SFTP_PRIVATE_KEY");
    cfg->sftp.public_key = probe_env("AOFROLL_SUITE_SFTP_PUBLIC_KEY");
    cfg->sftp.known_hosts = probe_env("AOFROLL_SUITE_SFTP_KNOWN_HOSTS");
    cfg->sftp.host_key_sha256 = probe_env("AOFROLL_SUITE_SFTP_HOST_KEY_SHA256");
}

static void probe_config_free(struct config *cfg)
{
    free(cfg->storage_url);
    free(cfg->s3.endpoint);
    free(cfg->s3.region);
    free(cfg->s3.storage_class);
    free(cfg->s3.sse);
    free(cfg->s3.credentials_file);
    free(cfg->s3.ca_bundle);
    free(cfg->s3.sts_endpoint);
    free(cfg->azure.endpoint);
    free(cfg->azure.sas_token_file);
    free(cfg->azure.ca_bundle);
    free(cfg->sftp.private_key);
    free(cfg->sftp.public_key);
    free(cfg->sftp.known_hosts);
    free(cfg->sftp.host_key_sha256);
}

static int probe_open(struct probe *p, struct err *e)
{
    const char *url = p->cfg.storage_url;

    if (url == NULL)
        return err_set(e, ERR_USAGE, "AOFROLL_SUITE_URL is not set");
    if (strncmp(url, "s3://", 5) == 0)
        return storage_s3_open_tuned(&p->cfg, &p->tuning, &p->st, e);
    if (strncmp(url, "sftp://", 7) == 0)
        return storage_sftp_open(&p->cfg, &p->st, e);
    if (strncmp(url, "azure://", 8) == 0)
        return storage_azure_open_tuned(&p->cfg, &p->az_tuning, &p->st, e);
    return err_set(e, ERR_USAGE, "storage_probe drives s3://, sftp:// and azure:// only, not \"%s\"", url);
}

static int probe_read_all(FILE *fp, const char *name, struct buf *out, struct err *e)
{
    char chunk[65536];
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_append(out, chunk, n);
    if (ferror(fp))
        return err_sys(e, errno, "cannot read \"%s\"", name);
    return 0;
}

static int probe_put(struct probe *p, const char *key, const char *file, struct err *e)
{
    struct buf data = BUF_INIT;
    FILE *fp = NULL;
    int rc = -1;

    fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (fp == NULL) {
        err_sys(e, errno, "cannot open \"%s\"", file);
        goto out;
    }
    if (probe_read_all(fp, file, &data, e) < 0)
        goto out;
    rc = p->st->ops->put(p->st, key, data.data != NULL ? data.data : "", data.len, e);
out:
    if (fp != NULL && fp != stdin)
        fclose(fp);
    buf_free(&data);
    return rc;
}

static int probe_get(struct probe *p, const char *key, struct err *e)
{
    struct buf data = BUF_INIT;
    int rc = -1;

    if (p->st->ops->get(p->st, key, &data, e) < 0)
        goto out;
    if (data.len > 0 && fwrite(data.data, 1, data.len, stdout) != data.len) {
        err_sys(e, errno, "cannot write to stdout");
        goto out;
    }
    rc = 0;
out:
    buf_free(&data);
    return rc;
}

static int probe_list_cb(void *ud, const char *key, uint64_t size)
{
    (void)ud;
    printf("%s\t%llu\n", key, (unsigned long long)size);
    return 0;
}

static int probe_put_many(struct probe *p, const char *prefix, const char *count, struct err *e)
{
    char *endp;
    long n = strtol(count, &endp, 10), i;

    if (*endp != '\0' || n < 0)
        return err_set(e, ERR_USAGE, "put-many: bad count \"%s\"", count);
    for (i = 0; i < n; i++) {
        char *key = xasprintf("%s%06ld", prefix, i);
        int rc = p->st->ops->put(p->st, key, key, strlen(key), e);

        free(key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int probe_rm_many(struct probe *p, char **args, int nargs, struct err *e)
{
    const char **keys = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    int i, rc = -1;

    if (nargs > 0) {
        keys = xcalloc((size_t)nargs, sizeof(*keys));
        for (i = 0; i < nargs; i++)
            keys[n++] = args[i];
    } else {
        while ((len = getline(&line, &linecap, stdin)) > 0) {
            if (line[len - 1] == '\n')
                line[len - 1] = '\0';
            if (line[0] == '\0')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                keys = xrealloc(keys, cap * sizeof(*keys));
            }
            keys[n++] = xstrdup(line);
        }
    }
    if (p->st->ops->remove_many != NULL) {
        rc = p->st->ops->remove_many(p->st, keys, n, e);
    } else {
        rc = 0;
        for (size_t k = 0; k < n && rc == 0; k++)
            rc = p->st->ops->remove(p->st, keys[k], e);
    }
    if (nargs == 0) {
        for (size_t k = 0; k < n; k++)
            free((char *)keys[k]);
    }
    free(keys);
    free(line);
    return rc;
}

/* A GET every second for `seconds` seconds, through the same handle:
 * temporary credentials that expire meanwhile must be refreshed. */
static int probe_get_every(struct probe *p, const char *seconds, const char *key, struct err *e)
{
    struct buf data = BUF_INIT;
    long n = strtol(seconds, NULL, 10), i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        buf_reset(&data);
        rc = p->st->ops->get(p->st, key, &data, e);
        if (rc == 0)
            sleep(1);
    }
    buf_free(&data);
    return rc;
}

static int probe_run(struct probe *p, char **argv, int argc, struct err *e)
{
    const char *cmd = argv[0];
    uint64_t size;

    if (strcmp(cmd, "put") == 0 && argc == 3)
        return probe_put(p, argv[1], argv[2], e);
    if (strcmp(cmd, "get") == 0 && argc == 2)
        return probe_get(p, argv[1], e);
    if (strcmp(cmd, "head") == 0 && argc == 2) {
        if (p->st->ops->head(p->st, argv[1], &size, e) < 0)
            return -1;
        printf("%llu\n", (unsigned long long)size);
        return 0;
    }
    if (strcmp(cmd, "list") == 0 && argc <= 2)
        return p->st->ops->list(p->st, argc == 2 ? argv[1] : "", probe_list_cb, NULL, e);
    if (strcmp(cmd, "rm") == 0 && argc == 2)
        return p->st->ops->remove(p->st, argv[1], e);
    if (strcmp(cmd, "rm-many") == 0)
        return probe_rm_many(p, argv + 1, argc - 1, e);
    if (strcmp(cmd, "put-many") == 0 && argc == 3)
        return probe_put_many(p, argv[1], argv[2], e);
    if (strcmp(cmd, "auth") == 0 && argc == 1) {
        printf("%s\n", p->st->auth != NULL ? p->st->auth : "(none)");
        return 0;
    }
    if (strcmp(cmd, "get-every") == 0 && argc == 3)
        return probe_get_every(p, argv[1], argv[2], e);
    return err_set(e, ERR_USAGE, "unknown command or wrong arguments: \"%s\"", cmd);
}

static int probe_int_option(const char *name, const char *value, long *out, struct err *e)
{
    char *endp;

    errno = 0;
    *out = strtol(value, &endp, 10);
    if (errno != 0 || *endp != '\0' || *out < 0)
        return err_set(e, ERR_USAGE, "%s: bad number \"%s\"", name, value);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const code_names[] = {"none",   "io",    "notfound", "corrupt", "usage",
                                             "config", "redis", "exists",   "busy",    "stopped"};
    struct probe p;
    struct err e;
    long v;
    int i = 1, rc = -1;

    err_clear(&e);
    memset(&p, 0, sizeof(p));
    storage_s3_tuning_default(&p.tuning);
    storage_azure_tuning_default(&p.az_tuning);
    probe_config_from_env(&p.cfg);
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (probe_int_option(argv[i], argv[i + 1], &v, &e) < 0)
            goto out;
        if (strcmp(argv[i], "--attempts") == 0)
            p.tuning.attempts = p.az_tuning.attempts = (int)v;
        else if (strcmp(argv[i], "--base-ms") == 0)
            p.tuning.base_delay_ms = p.az_tuning.base_delay_ms = (int)v;
        else if (strcmp(argv[i], "--cap-ms") == 0)
            p.tuning.max_delay_ms = p.az_tuning.max_delay_ms = (int)v;
        else if (strcmp(argv[i], "--low-speed-s") == 0)
            p.tuning.low_speed_time_s = p.az_tuning.low_speed_time_s = v;
        else if (strcmp(argv[i], "--single-put-max") == 0)
            p.az_tuning.single_put_max = (size_t)v;
        else if (strcmp(argv[i], "--block-size") == 0)
            p.az_tuning.block_size = (size_t)v;
        else if (strcmp(argv[i], "--list-max") == 0)
            p.az_tuning.list_max = (int)v;
        else {
            err_set(&e, ERR_USAGE, "unknown option \"%s\"", argv[i]);
            goto out;
        }
    }
    if (i >= argc) {
        err_set(&e, ERR_USAGE,
                "usage: storage_probe [--attempts N] [--base-ms N] [--cap-ms N] "
                "[--low-speed-s N] [--single-put-max BYTES] [--block-size BYTES] [--list-max N] "
                "put|get|head|list|rm|rm-many|put-many|auth|get-every ARGS");
        goto out;
    }
    if (probe_open(&p, &e) < 0)
        goto out;
    rc = probe_run(&p, argv + i, argc - i, &e);
out:
    if (p.st != NULL)
        p.st->ops->close(p.st);
    probe_config_free(&p.cfg);
    if (fflush(stdout) != 0 && rc == 0)
        rc = err_sys(&e, errno, "cannot write to stdout");
    if (rc == 0)
        return 0;
    fprintf(stderr, "storage_probe: [%s] %s\n", code_names[e.code], e.msg);
    return e.code == ERR_NOTFOUND ? 3 : e.code == ERR_USAGE ? 2 : 1;
}
