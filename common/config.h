/* config.h - the YAML configuration of DESIGN.md, as a plain struct.
 *
 * Parsed with libyaml's document API. Defaults are applied first, then the
 * `defaults:` section, then each instance's own keys. Every error is one
 * line "FILE:LINE:COLUMN: what is wrong" (1-based line and column) in
 * ERR_CONFIG. Passwords in redis URLs are kept, but never printed:
 * config_redact_url() gives the form to show. */
#ifndef AOFROLL_CONFIG_H
#define AOFROLL_CONFIG_H

#include <stdint.h>

#include <stdio.h>

#include "error.h"

enum instance_mode { MODE_AOF = 0, MODE_RDB };

enum redis_transport { REDIS_TCP = 0, REDIS_UNIX };

/* How much an instance's collector thread yields to Redis (collector/priority.c). */
enum instance_priority { PRIORITY_IDLE = 0, PRIORITY_LOW, PRIORITY_NORMAL };

struct redis_addr {
    enum redis_transport transport;
    char *host;     /* REDIS_TCP */
    int port;       /* REDIS_TCP, default 6379 */
    char *path;     /* REDIS_UNIX */
    char *user;     /* NULL when absent */
    char *password; /* NULL when absent; never printed */
};

struct instance_config {
    char *name;
    char *redis_url;         /* as written; print config_redact_url() of it */
    struct redis_addr redis; /* parsed from redis_url */
    enum instance_mode mode;
    int64_t poll_interval_ms;        /* default 1s */
    int64_t chunk_size;              /* bytes, default 4MiB */
    int64_t chunk_pause_ms;          /* default 100ms */
    int64_t max_rate;                /* bytes/s, default 32MiB/s; 0 = unlimited */
    int compression;                 /* zlib level 0-9, default 1 */
    int barrier_minute;              /* minutes after local midnight, default 0; -1 = off ("off") */
    int64_t barrier_max_lag_s;       /* the barrier waits while shipping is further behind than
                                      * max_rate ships in this time; default 1m */
    int64_t barrier_timeout_s;       /* a barrier held back longer is an error; --barrier-now gives
                                      * up after it; default 1h */
    int64_t retention_s;             /* default 7d */
    int64_t lag_threshold;           /* bytes; status exits 1 above it; default 0 = off */
    char *metrics_file;              /* NULL = none */
    int64_t snapshot_interval_s;     /* mode rdb; 0 = none */
    int snapshot_minute;             /* mode rdb, daily "snapshot_at"; -1 = none */
    enum instance_priority priority; /* CPU and I/O priority of its thread; default idle */
    char *cluster;                   /* the Redis Cluster the node belongs to (docs/cluster.md); NULL none */
};

struct s3_config {
    char *endpoint;         /* e.g. https://s3.eu-west-1.amazonaws.com; NULL = AWS default */
    char *region;           /* default us-east-1 */
    int path_style;         /* 0/1 */
    char *storage_class;    /* optional */
    char *sse;              /* optional x-amz-server-side-encryption value */
    char *credentials_file; /* optional: this file only, not the credential chain */
    char *ca_bundle;        /* optional */
    char *sts_endpoint;     /* optional: STS for web identity credentials */
};

struct azure_config {
    char *endpoint;       /* the account's blob service URL; NULL = https://ACCOUNT.blob.core.windows.net */
    char *sas_token_file; /* optional: a 0600 file holding the SAS token; else AZURE_STORAGE_SAS_TOKEN */
    char *ca_bundle;      /* optional */
};

/* Client-side encryption (docs/encryption.md). */
struct encryption_config {
    char *key_file; /* lines "ID BASE64-KEY", mode 0600; NULL: objects are stored plain */
};

struct sftp_config {
    char *private_key;     /* path */
    char *public_key;      /* path, optional */
    char *known_hosts;     /* path */
    char *host_key_sha256; /* optional pin */
};

struct config {
    char *path; /* the file it was read from */
    char *
        storage_url; /* file:///..., s3://bucket/prefix, sftp://host/path, azure://account/container/prefix */
    struct s3_config s3;
    struct sftp_config sftp;
    struct azure_config azure;
    struct encryption_config encryption;
    char *index_path;                /* default /var/lib/aofroll/index.db */
    char *lock_dir;                  /* where per-instance locks live; default dirname(index_path) */
    char *log_file;                  /* NULL = stderr */
    int log_json;                    /* log_format: json (one object per line), else text */
    int64_t index_upload_interval_s; /* default 300 */
    struct instance_config defaults;
    struct instance_config *instances;
    int ninstances;
};

/* Read and validate FILE. On failure *cfg is left empty (config_free-safe). */
int config_load(const char *path, struct config *cfg, struct err *e);
/* Parse from memory; `name` is used in error messages in place of a path. */
int config_parse(const char *name, const char *text, size_t len, struct config *cfg, struct err *e);
void config_free(struct config *cfg);
const struct instance_config *config_instance(const struct config *cfg, const char *name);
/* Parse "redis://[user:password@]host[:port]" or "unix:///path" (optionally
 * "unix://user:password@/path"). Error messages never contain the password. */
int config_parse_redis_url(const char *url, struct redis_addr *out, struct err *e);
void redis_addr_free(struct redis_addr *a);
/* The URL with any password replaced by "***"; caller frees. */
char *config_redact_url(const char *url);
/* Write the effective configuration as YAML, passwords redacted. */
void config_dump(const struct config *cfg, FILE *fp);
/* Write the key list of docs/config.md: one markdown table per section
 * (key, type, default, accepted values, meaning), from the same tables
 * the parser reads. */
void config_keys_markdown(FILE *fp);

#endif
