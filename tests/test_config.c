/* test_config.c - unit tests for config.c: the YAML configuration.
 *
 * A full file with defaults and per-instance overrides, checked field by
 * field; the built-in defaults; every kind of error with its exact
 * "FILE:LINE:COLUMN: message"; redis URL parsing and redaction (no password
 * in any message or dump); config_dump reading back to the same
 * configuration; config_load from real files. The test build runs under
 * ASan/LSan, so every error path here is also a leak check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define MIB (INT64_C(1024) * 1024)

static void parse_ok(const char *yaml, struct config *cfg)
{
    struct err e;

    err_clear(&e);
    if (config_parse("cfg.yaml", yaml, strlen(yaml), cfg, &e) != 0)
        fail_msg("config_parse failed: %s", e.msg);
}

/* Parse `yaml`, expect failure with exactly `msg`, an empty struct, and
 * nothing left to free. */
static void assert_config_error(const char *yaml, const char *msg)
{
    struct config cfg;
    struct err e;

    err_clear(&e);
    memset(&cfg, 0x5a, sizeof(cfg));
    assert_int_equal(config_parse("cfg.yaml", yaml, strlen(yaml), &cfg, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, msg);
    assert_null(cfg.path);
    assert_null(cfg.storage_url);
    assert_null(cfg.instances);
    assert_int_equal(cfg.ninstances, 0);
    config_free(&cfg);
}

/* ---------------------------------------------------------------------
 * Valid files
 * ------------------------------------------------------------------- */

static const char full_yaml[] =
    "# aofroll on cache-01\n"
    "storage:\n"
    "  url: s3://archive-bucket/redis\n"
    "  s3:\n"
    "    endpoint: http://127.0.0.1:9000\n"
    "    region: eu-west-1\n"
    "    path_style: true\n"
    "    storage_class: STANDARD_IA\n"
    "    sse: AES256\n"
    "    credentials_file: /etc/aofroll/aws.ini\n"
    "    ca_bundle: /etc/ssl/minio.pem\n"
    "    sts_endpoint: https://sts.eu-west-1.amazonaws.com\n"
    "  azure:\n"
    "    endpoint: http://127.0.0.1:10000/devstoreaccount1\n"
    "    sas_token_file: /etc/aofroll/azure.sas\n"
    "    ca_bundle: /etc/ssl/azure.pem\n"
    "  sftp:\n"
    "    private_key: /etc/aofroll/id_ed25519\n"
    "    public_key: /etc/aofroll/id_ed25519.pub\n"
    "    known_hosts: /etc/aofroll/known_hosts\n"
    "    host_key_sha256: 'kGmlQ2fs0X9S1f1kK7mYk2YcB0Qd1n0qJbE1YtWcX3k='\n"
    "  encryption:\n"
    "    key_file: /etc/aofroll/keys\n"
    "index: /srv/aofroll/index.db\n"
    "lock_dir: /run/aofroll\n"
    "log_file: /var/log/aofroll/collector.log\n"
    "log_format: json\n"
    "index_upload_interval: 10m\n"
    "defaults:\n"
    "  poll_interval: 500ms\n"
    "  chunk_size: 8MiB\n"
    "  chunk_pause: 50ms\n"
    "  max_rate: 16MiB/s\n"
    "  compression: 6\n"
    "  barrier: \"03:30\"\n"
    "  barrier_max_lag: 2m\n"
    "  barrier_timeout: 30m\n"
    "  retention: 14d\n"
    "  lag_threshold: 64MiB\n"
    "  metrics_file: /var/lib/node_exporter/textfile/aofroll.prom\n"
    "  priority: low\n"
    "instances:\n"
    "  - name: sessions\n"
    "    redis: unix:///run/redis/redis-server.sock   # local socket\n"
    "    chunk_size: 1MiB\n"
    "    priority: normal\n"
    "    barrier: 'off'\n"
    "    barrier_timeout: 90s\n"
    "  - redis: redis://app:hunter2@10.0.0.5:6380\n"
    "    mode: rdb\n"
    "    snapshot_interval: 1h\n"
    "    snapshot_at: \"04:15\"\n"
    "    max_rate: 0\n"
    "    compression: 0\n"
    "    retention: 2h\n"
    "  - {redis: \"unix://:s%40cret@/var/run/redis/queue.6381.sock\", poll_interval: 10ms, chunk_pause: 0,\n"
    "     lag_threshold: 0, metrics_file: /tmp/queue.prom}\n";

static void test_full_file(void **state)
{
    struct config cfg;
    const struct instance_config *in;

    (void)state;
    parse_ok(full_yaml, &cfg);
    assert_string_equal(cfg.path, "cfg.yaml");
    assert_string_equal(cfg.storage_url, "s3://archive-bucket/redis");
    assert_string_equal(cfg.s3.endpoint, "http://127.0.0.1:9000");
    assert_string_equal(cfg.s3.region, "eu-west-1");
    assert_int_equal(cfg.s3.path_style, 1);
    assert_string_equal(cfg.s3.storage_class, "STANDARD_IA");
    assert_string_equal(cfg.s3.sse, "AES256");
    assert_string_equal(cfg.s3.credentials_file, "/etc/aofroll/aws.ini");
    assert_string_equal(cfg.s3.ca_bundle, "/etc/ssl/minio.pem");
    assert_string_equal(cfg.s3.sts_endpoint, "https://sts.eu-west-1.amazonaws.com");
    assert_string_equal(cfg.azure.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
    assert_string_equal(cfg.azure.sas_token_file, "/etc/aofroll/azure.sas");
    assert_string_equal(cfg.azure.ca_bundle, "/etc/ssl/azure.pem");
    assert_string_equal(cfg.sftp.private_key, "/etc/aofroll/id_ed25519");
    assert_string_equal(cfg.sftp.public_key, "/etc/aofroll/id_ed25519.pub");
    assert_string_equal(cfg.sftp.known_hosts, "/etc/aofroll/known_hosts");
    assert_string_equal(cfg.sftp.host_key_sha256, "kGmlQ2fs0X9S1f1kK7mYk2YcB0Qd1n0qJbE1YtWcX3k=");
    assert_string_equal(cfg.encryption.key_file, "/etc/aofroll/keys");
    assert_string_equal(cfg.index_path, "/srv/aofroll/index.db");
    assert_string_equal(cfg.lock_dir, "/run/aofroll");
    assert_string_equal(cfg.log_file, "/var/log/aofroll/collector.log");
    assert_int_equal(cfg.log_json, 1);
    assert_int_equal(cfg.index_upload_interval_s, 600);

    /* the defaults section itself */
    assert_null(cfg.defaults.name);
    assert_null(cfg.defaults.redis_url);
    assert_int_equal(cfg.defaults.mode, MODE_AOF);
    assert_int_equal(cfg.defaults.poll_interval_ms, 500);
    assert_int_equal(cfg.defaults.chunk_size, 8 * MIB);
    assert_int_equal(cfg.defaults.chunk_pause_ms, 50);
    assert_int_equal(cfg.defaults.max_rate, 16 * MIB);
    assert_int_equal(cfg.defaults.compression, 6);
    assert_int_equal(cfg.defaults.barrier_minute, 3 * 60 + 30);
    assert_int_equal(cfg.defaults.barrier_max_lag_s, 120);
    assert_int_equal(cfg.defaults.barrier_timeout_s, 1800);
    assert_int_equal(cfg.defaults.retention_s, 14 * 86400);
    assert_int_equal(cfg.defaults.lag_threshold, 64 * MIB);
    assert_string_equal(cfg.defaults.metrics_file, "/var/lib/node_exporter/textfile/aofroll.prom");
    assert_int_equal(cfg.defaults.snapshot_interval_s, 0);
    assert_int_equal(cfg.defaults.snapshot_minute, -1);
    assert_int_equal(cfg.defaults.priority, PRIORITY_LOW);

    assert_int_equal(cfg.ninstances, 3);

    /* 1: named, unix socket, two overrides */
    in = &cfg.instances[0];
    assert_string_equal(in->name, "sessions");
    assert_string_equal(in->redis_url, "unix:///run/redis/redis-server.sock");
    assert_int_equal(in->redis.transport, REDIS_UNIX);
    assert_string_equal(in->redis.path, "/run/redis/redis-server.sock");
    assert_null(in->redis.host);
    assert_null(in->redis.user);
    assert_null(in->redis.password);
    assert_int_equal(in->mode, MODE_AOF);
    assert_int_equal(in->poll_interval_ms, 500);
    assert_int_equal(in->chunk_size, 1 * MIB);
    assert_int_equal(in->chunk_pause_ms, 50);
    assert_int_equal(in->max_rate, 16 * MIB);
    assert_int_equal(in->compression, 6);
    assert_int_equal(in->barrier_minute, -1);
    assert_int_equal(in->barrier_max_lag_s, 120);
    assert_int_equal(in->barrier_timeout_s, 90);
    assert_int_equal(in->retention_s, 14 * 86400);
    assert_int_equal(in->lag_threshold, 64 * MIB);
    assert_string_equal(in->metrics_file, "/var/lib/node_exporter/textfile/aofroll.prom");
    assert_int_equal(in->snapshot_interval_s, 0);
    assert_int_equal(in->snapshot_minute, -1);
    assert_int_equal(in->priority, PRIORITY_NORMAL);

    /* 2: default name host-port, TCP with user and password, mode rdb */
    in = &cfg.instances[1];
    assert_string_equal(in->name, "10.0.0.5-6380");
    assert_string_equal(in->redis_url, "redis://app:hunter2@10.0.0.5:6380");
    assert_int_equal(in->redis.transport, REDIS_TCP);
    assert_string_equal(in->redis.host, "10.0.0.5");
    assert_int_equal(in->redis.port, 6380);
    assert_string_equal(in->redis.user, "app");
    assert_string_equal(in->redis.password, "hunter2");
    assert_null(in->redis.path);
    assert_int_equal(in->mode, MODE_RDB);
    assert_int_equal(in->poll_interval_ms, 500);
    assert_int_equal(in->chunk_size, 8 * MIB);
    assert_int_equal(in->chunk_pause_ms, 50);
    assert_int_equal(in->max_rate, 0);
    assert_int_equal(in->compression, 0);
    assert_int_equal(in->barrier_minute, 3 * 60 + 30);
    assert_int_equal(in->retention_s, 7200);
    assert_int_equal(in->lag_threshold, 64 * MIB);
    assert_int_equal(in->snapshot_interval_s, 3600);
    assert_int_equal(in->snapshot_minute, 4 * 60 + 15);
    assert_int_equal(in->priority, PRIORITY_LOW); /* from the defaults */

    /* 3: flow mapping, default name from the socket file, %-escaped password */
    in = &cfg.instances[2];
    assert_string_equal(in->name, "queue.6381");
    assert_int_equal(in->redis.transport, REDIS_UNIX);
    assert_string_equal(in->redis.path, "/var/run/redis/queue.6381.sock");
    assert_null(in->redis.user);
    assert_string_equal(in->redis.password, "s@cret");
    assert_int_equal(in->poll_interval_ms, 10);
    assert_int_equal(in->chunk_pause_ms, 0);
    assert_int_equal(in->lag_threshold, 0);
    assert_string_equal(in->metrics_file, "/tmp/queue.prom");
    assert_int_equal(in->chunk_size, 8 * MIB);
    assert_int_equal(in->retention_s, 14 * 86400);

    assert_ptr_equal(config_instance(&cfg, "sessions"), &cfg.instances[0]);
    assert_ptr_equal(config_instance(&cfg, "10.0.0.5-6380"), &cfg.instances[1]);
    assert_ptr_equal(config_instance(&cfg, "queue.6381"), &cfg.instances[2]);
    assert_null(config_instance(&cfg, "queue"));
    assert_null(config_instance(&cfg, "Sessions"));

    config_free(&cfg);
    assert_null(cfg.instances);
    assert_int_equal(cfg.ninstances, 0);
    config_free(&cfg); /* twice is harmless */
}

static void test_builtin_defaults(void **state)
{
    struct config cfg;
    const struct instance_config *in;

    (void)state;
    parse_ok("instances:\n  - redis: redis://127.0.0.1:6380\n  - redis: redis://Redis-2.example\n", &cfg);
    assert_string_equal(cfg.storage_url, "file:///var/lib/aofroll/archive");
    assert_null(cfg.s3.endpoint);
    assert_string_equal(cfg.s3.region, "us-east-1");
    assert_int_equal(cfg.s3.path_style, 0);
    assert_null(cfg.s3.storage_class);
    assert_null(cfg.sftp.private_key);
    assert_string_equal(cfg.index_path, "/var/lib/aofroll/index.db");
    assert_string_equal(cfg.lock_dir, "/var/lib/aofroll");
    assert_null(cfg.log_file);
    assert_int_equal(cfg.log_json, 0);
    assert_int_equal(cfg.index_upload_interval_s, 300);
    assert_int_equal(cfg.ninstances, 2);

    in = &cfg.instances[0];
    assert_string_equal(in->name, "127.0.0.1-6380");
    assert_int_equal(in->redis.transport, REDIS_TCP);
    assert_string_equal(in->redis.host, "127.0.0.1");
    assert_int_equal(in->redis.port, 6380);
    assert_null(in->redis.user);
    assert_null(in->redis.password);
    assert_int_equal(in->mode, MODE_AOF);
    assert_int_equal(in->poll_interval_ms, 1000);
    assert_int_equal(in->chunk_size, 4 * MIB);
    assert_int_equal(in->chunk_pause_ms, 100);
    assert_int_equal(in->max_rate, 32 * MIB);
    assert_int_equal(in->compression, 1);
    assert_int_equal(in->barrier_minute, 0);
    assert_int_equal(in->barrier_max_lag_s, 60);
    assert_int_equal(in->barrier_timeout_s, 3600);
    assert_int_equal(in->retention_s, 7 * 86400);
    assert_int_equal(in->lag_threshold, 0);
    assert_null(in->metrics_file);
    assert_int_equal(in->snapshot_interval_s, 0);
    assert_int_equal(in->snapshot_minute, -1);
    assert_int_equal(in->priority, PRIORITY_IDLE);

    /* no port: 6379 */
    assert_string_equal(cfg.instances[1].name, "Redis-2.example-6379");
    assert_int_equal(cfg.instances[1].redis.port, 6379);
    config_free(&cfg);
}

static void test_lock_dir_follows_index(void **state)
{
    static const struct {
        const char *index, *lock_dir;
    } cases[] = {
        {"/srv/a/index.db", "/srv/a"},    {"/index.db", "/"}, {"index.db", "."}, {"data/index.db", "data"},
        {"/srv//a//index.db", "/srv//a"},
    };
    char yaml[256];
    struct config cfg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(yaml, sizeof(yaml), "index: \"%s\"\ninstances: [{redis: 'redis://h'}]\n", cases[i].index);
        parse_ok(yaml, &cfg);
        assert_string_equal(cfg.index_path, cases[i].index);
        assert_string_equal(cfg.lock_dir, cases[i].lock_dir);
        config_free(&cfg);
    }
}

/* `defaults:` may come after `instances:` and still applies. */
static void test_defaults_order(void **state)
{
    struct config cfg;

    (void)state;
    parse_ok("instances:\n"
             "  - redis: redis://a\n"
             "    mode: rdb\n"
             "  - redis: redis://b\n"
             "    compression: 2\n"
             "defaults:\n"
             "  compression: 9\n"
             "  snapshot_at: \"01:00\"\n",
             &cfg);
    assert_int_equal(cfg.instances[0].compression, 9);
    assert_int_equal(cfg.instances[0].mode, MODE_RDB);
    assert_int_equal(cfg.instances[0].snapshot_minute, 60); /* from defaults: satisfies mode rdb */
    assert_int_equal(cfg.instances[1].compression, 2);
    assert_int_equal(cfg.instances[1].mode, MODE_AOF);
    config_free(&cfg);
}

/* ---------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------- */

/* Lines:            1         2         3
 *          1234567890123456789012345678901 */
static void test_error_unknown_keys(void **state)
{
    (void)state;
    assert_config_error("storage:\n"                      /* 1 */
                        "  url: file:///srv/archive\n"    /* 2 */
                        "defaults:\n"                     /* 3 */
                        "  chunk_size: 4MiB\n"            /* 4 */
                        "instances:\n"                    /* 5 */
                        "  - name: sessions\n"            /* 6 */
                        "    chunk_sise: 4MiB\n"          /* 7 */
                        "    redis: redis://127.0.0.1\n", /* 8 */
                        "cfg.yaml:7:5: unknown key \"chunk_sise\" in instance \"sessions\"");
    assert_config_error("instances:\n"
                        "  - redis: redis://127.0.0.1:7000\n"
                        "    pol_interval: 1s\n",
                        "cfg.yaml:3:5: unknown key \"pol_interval\" in instance \"127.0.0.1-7000\"");
    assert_config_error("instance:\n  - redis: redis://h\n", "cfg.yaml:1:1: unknown key \"instance\"");
    assert_config_error("storage:\n  uri: file:///x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:3: unknown key \"uri\" in \"storage\"");
    assert_config_error("storage:\n  s3:\n    bucket: x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:5: unknown key \"bucket\" in \"storage.s3\"");
    assert_config_error("storage:\n  sftp:\n    password: x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:5: unknown key \"password\" in \"storage.sftp\"");
    assert_config_error("defaults:\n  chunksize: 1MiB\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:3: unknown key \"chunksize\" in \"defaults\"");
    assert_config_error("defaults:\n  redis: redis://h\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:3: \"redis\" is not allowed in \"defaults\": set it in each instance");
    assert_config_error("defaults:\n  name: x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:3: \"name\" is not allowed in \"defaults\": set it in each instance");
}

static void test_error_bad_values(void **state)
{
    (void)state;
    assert_config_error("log_format: yaml\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:13: invalid log_format \"yaml\": expected text or json");
    /* The value's position: line 9, column 17. */
    assert_config_error(
        "storage:\n"               /* 1 */
        "  url: file:///srv/a\n"   /* 2 */
        "instances:\n"             /* 3 */
        "  - name: sessions\n"     /* 4 */
        "    redis: redis://h:1\n" /* 5 */
        "  - name: cache\n"        /* 6 */
        "    redis: redis://h:2\n" /* 7 */
        "    # 4 MiB\n"            /* 8 */
        "    chunk_size: 4XB\n",   /* 9 */
        "cfg.yaml:9:17: invalid size \"4XB\": expected a number followed by B, KiB, MiB, GiB or "
        "TiB");
    assert_config_error(
        "defaults:\n  poll_interval: 1 s\ninstances: [{redis: redis://h}]\n",
        "cfg.yaml:2:18: invalid duration \"1 s\": expected a number followed by ms, s, m, h or d");
    assert_config_error(
        "defaults:\n  max_rate: 32MiB\ninstances: [{redis: redis://h}]\n",
        "cfg.yaml:2:13: invalid rate \"32MiB\": expected a size per second such as 32MiB/s, or 0 "
        "for unlimited");
    assert_config_error(
        "defaults:\n  barrier: \"24:00\"\ninstances: [{redis: redis://h}]\n",
        "cfg.yaml:2:12: invalid barrier \"24:00\": expected HH:MM from 00:00 to 23:59, or off");
    assert_config_error("instances:\n  - redis: redis://h\n    mode: rbd\n",
                        "cfg.yaml:3:11: invalid mode \"rbd\": expected aof or rdb");
    assert_config_error("instances:\n  - redis: redis://h\n    priority: nice\n",
                        "cfg.yaml:3:15: invalid priority \"nice\": expected idle, low or normal");
    assert_config_error("instances:\n  - redis: redis://h\n    cluster: .prod\n",
                        "cfg.yaml:3:14: invalid cluster name \".prod\": expected 1 to 128 characters of A-Z, "
                        "a-z, 0-9, '.', '_' and '-', not starting with '.'");
    assert_config_error("defaults:\n  priority: [idle]\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:13: expected a scalar for \"priority\", found a sequence");
    assert_config_error("instances:\n  - redis: redis://h\n    compression: 10\n",
                        "cfg.yaml:3:18: invalid compression \"10\": expected a zlib level from 0 to 9");
    assert_config_error("instances:\n  - redis: redis://h\n    compression: -1\n",
                        "cfg.yaml:3:18: invalid compression \"-1\": expected a zlib level from 0 to 9");
    assert_config_error("storage:\n  s3:\n    path_style: maybe\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:17: invalid path_style \"maybe\": expected true or false");
    assert_config_error("storage:\n  url: http://bucket/x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:8: invalid storage url \"http://bucket/x\": expected file:///path, "
                        "s3://bucket/prefix, sftp://host/path or azure://account/container/prefix");
    assert_config_error("storage:\n  url: file://relative/x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:8: invalid storage url \"file://relative/x\": expected file:///path, "
                        "s3://bucket/prefix, sftp://host/path or azure://account/container/prefix");
    assert_config_error("storage:\n  url: azure://account\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:8: invalid storage url \"azure://account\": expected file:///path, "
                        "s3://bucket/prefix, sftp://host/path or azure://account/container/prefix");
    assert_config_error("storage:\n  azure:\n    sas_token: x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:5: unknown key \"sas_token\" in \"storage.azure\"");
    assert_config_error("storage:\n  encryption:\n    key: x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:5: unknown key \"key\" in \"storage.encryption\"");
    assert_config_error("storage:\n  encryption:\n    key_file: ''\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:15: missing value for \"key_file\"");
    assert_config_error("storage:\n  encryption: /etc/keys\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:15: expected a mapping for \"encryption\"");
    assert_config_error("storage:\n  url: s3:///prefix\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:8: invalid storage url \"s3:///prefix\": expected file:///path, "
                        "s3://bucket/prefix, sftp://host/path or azure://account/container/prefix");
    assert_config_error("index_upload_interval: 1500ms\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:24: index_upload_interval \"1500ms\" is not a whole number of seconds");
    assert_config_error("index_upload_interval: 0\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:24: index_upload_interval \"0\" is out of range: expected at least 1s");
    assert_config_error("instances:\n  - redis: redis://h\n    retention: 90500ms\n",
                        "cfg.yaml:3:16: retention \"90500ms\" is not a whole number of seconds");
}

static void test_error_ranges(void **state)
{
    static const struct {
        const char *line, *msg;
    } cases[] = {
        {"poll_interval: 5ms", "cfg.yaml:3:20: poll_interval \"5ms\" is out of range: expected 10ms to 1h"},
        {"poll_interval: 61m", "cfg.yaml:3:20: poll_interval \"61m\" is out of range: expected 10ms to 1h"},
        {"chunk_size: 1KiB", "cfg.yaml:3:17: chunk_size \"1KiB\" is out of range: expected 4KiB to 1GiB"},
        {"chunk_size: 2GiB", "cfg.yaml:3:17: chunk_size \"2GiB\" is out of range: expected 4KiB to 1GiB"},
        {"chunk_pause: 2h", "cfg.yaml:3:18: chunk_pause \"2h\" is out of range: expected 0 to 1h"},
        {"max_rate: 1KiB/s",
         "cfg.yaml:3:15: max_rate \"1KiB/s\" is out of range: expected 0 (unlimited) or at least 64KiB/s"},
        {"retention: 30s", "cfg.yaml:3:16: retention \"30s\" is out of range: expected at least 1m"},
        {"barrier_max_lag: 0", "cfg.yaml:3:22: barrier_max_lag \"0\" is out of range: expected 1s to 1d"},
        {"barrier_timeout: 8d", "cfg.yaml:3:22: barrier_timeout \"8d\" is out of range: expected 1s to 7d"},
    };
    char yaml[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(yaml, sizeof(yaml), "instances:\n  - redis: redis://h\n    %s\n", cases[i].line);
        assert_config_error(yaml, cases[i].msg);
    }
}

static void test_edges_of_ranges_accepted(void **state)
{
    struct config cfg;

    (void)state;
    parse_ok("instances:\n"
             "  - redis: redis://h\n"
             "    poll_interval: 10ms\n"
             "    chunk_size: 4KiB\n"
             "    chunk_pause: 1h\n"
             "    max_rate: 64KiB/s\n"
             "    retention: 1m\n"
             "    compression: 9\n"
             "    barrier: \"23:59\"\n"
             "  - redis: redis://h:2\n"
             "    poll_interval: 1h\n"
             "    chunk_size: 1GiB\n"
             "    chunk_pause: 0ms\n",
             &cfg);
    assert_int_equal(cfg.instances[0].poll_interval_ms, 10);
    assert_int_equal(cfg.instances[0].chunk_size, 4096);
    assert_int_equal(cfg.instances[0].chunk_pause_ms, 3600000);
    assert_int_equal(cfg.instances[0].max_rate, 65536);
    assert_int_equal(cfg.instances[0].retention_s, 60);
    assert_int_equal(cfg.instances[0].compression, 9);
    assert_int_equal(cfg.instances[0].barrier_minute, 23 * 60 + 59);
    assert_int_equal(cfg.instances[1].poll_interval_ms, 3600000);
    assert_int_equal(cfg.instances[1].chunk_size, 1024 * MIB);
    assert_int_equal(cfg.instances[1].chunk_pause_ms, 0);
    config_free(&cfg);
}

static void test_error_types(void **state)
{
    (void)state;
    assert_config_error("storage: file:///srv/archive\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:10: expected a mapping for \"storage\"");
    assert_config_error("storage:\n  - url: x\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:3: expected a mapping for \"storage\"");
    assert_config_error("storage:\n  s3: yes\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:7: expected a mapping for \"s3\"");
    assert_config_error("storage:\n  sftp: []\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:2:9: expected a mapping for \"sftp\"");
    assert_config_error("defaults: 1s\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:11: expected a mapping for \"defaults\"");
    assert_config_error("instances:\n  - redis: redis://h\n    chunk_size: [1MiB, 2MiB]\n",
                        "cfg.yaml:3:17: expected a scalar for \"chunk_size\", found a sequence");
    assert_config_error("instances:\n  - redis:\n      host: h\n",
                        "cfg.yaml:3:7: expected a scalar for \"redis\", found a mapping");
    assert_config_error("index: {path: /x}\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:8: expected a scalar for \"index\", found a mapping");
    assert_config_error("instances:\n  redis: redis://h\n",
                        "cfg.yaml:2:3: expected a sequence for \"instances\", found a mapping");
    assert_config_error("instances:\n  - redis://h\n",
                        "cfg.yaml:2:5: expected a mapping for each entry of \"instances\", found a scalar");
    assert_config_error("- redis: redis://h\n",
                        "cfg.yaml:1:1: expected a mapping at the top level, found a sequence");
    assert_config_error("just text\n", "cfg.yaml:1:1: expected a mapping at the top level, found a scalar");
    assert_config_error("? [a, b]\n: c\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:3: expected a scalar key, found a sequence");
    assert_config_error("instances:\n  - redis: redis://h\n    chunk_size:\n",
                        "cfg.yaml:3:16: missing value for \"chunk_size\"");
    assert_config_error("instances:\n  - redis: redis://h\n    metrics_file: \"\"\n",
                        "cfg.yaml:3:19: missing value for \"metrics_file\"");
    assert_config_error("instances:\n  - redis: redis://h\n    metrics_file: \"/tmp/a\\0b\"\n",
                        "cfg.yaml:3:19: the value of \"metrics_file\" contains a NUL byte");
}

static void test_error_duplicates(void **state)
{
    (void)state;
    assert_config_error("storage:\n"                /* 1 */
                        "  url: file:///srv/a\n"    /* 2 */
                        "index: /srv/a/index.db\n"  /* 3 */
                        "instances:\n"              /* 4 */
                        "  - name: sessions\n"      /* 5 */
                        "    redis: redis://h:1\n"  /* 6 */
                        "\n"                        /* 7 */
                        "  - name: cache\n"         /* 8 */
                        "    redis: redis://h:2\n"  /* 9 */
                        "  - name: queue\n"         /* 10 */
                        "    redis: redis://h:3\n"  /* 11 */
                        "  - name: cache\n"         /* 12 */
                        "    redis: redis://h:4\n", /* 13 */
                        "cfg.yaml:12:5: duplicate instance name \"cache\" (first at line 8)");
    /* A default name can collide too; then the mapping is the place. */
    assert_config_error("instances:\n"
                        "  - redis: redis://h:1\n"
                        "  - name: h-1\n"
                        "    redis: redis://h:2\n",
                        "cfg.yaml:3:5: duplicate instance name \"h-1\" (first at line 2)");
    assert_config_error("instances:\n"
                        "  - name: a\n"
                        "    redis: redis://h:1\n"
                        "  - redis: redis://h:1\n"
                        "  - redis: unix:///tmp/a.sock\n",
                        "cfg.yaml:5:5: duplicate instance name \"a\" (first at line 2)");
    assert_config_error(
        "index: /a\nstorage: {url: 'file:///x'}\nindex: /b\ninstances: [{redis: redis://h}]\n",
        "cfg.yaml:3:1: duplicate key \"index\" (first at line 1)");
    assert_config_error(
        "instances:\n  - name: x\n    redis: redis://h\n    compression: 1\n    compression: 2\n",
        "cfg.yaml:5:5: duplicate key \"compression\" in instance \"x\" (first at line 4)");
    assert_config_error("storage:\n  url: file:///a\n  url: file:///b\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:3:3: duplicate key \"url\" in \"storage\" (first at line 2)");
}

static void test_error_instances(void **state)
{
    (void)state;
    assert_config_error("storage:\n  url: file:///srv/a\n",
                        "cfg.yaml:1:1: missing \"instances\": list at least one instance to archive");
    assert_config_error("index: /x\ninstances: []\n",
                        "cfg.yaml:2:12: \"instances\" is empty: list at least one instance to archive");
    assert_config_error("index: /x\ninstances:\n",
                        "cfg.yaml:2:11: \"instances\" is empty: list at least one instance to archive");
    assert_config_error("", "cfg.yaml:1:1: the configuration is empty: list at least one instance under "
                            "\"instances\"");
    assert_config_error("# nothing yet\n",
                        "cfg.yaml:1:1: the configuration is empty: list at least one instance "
                        "under \"instances\"");
    assert_config_error("instances:\n  - name: cache\n    mode: rdb\n",
                        "cfg.yaml:2:5: missing \"redis\" in instance \"cache\"");
    assert_config_error("instances:\n  - redis: redis://h\n  - mode: rdb\n",
                        "cfg.yaml:3:5: missing \"redis\" in instance #2");
    assert_config_error(
        "instances:\n  - name: my cache\n    redis: redis://h\n",
        "cfg.yaml:2:11: invalid instance name \"my cache\": expected 1 to 128 characters of A-Z, "
        "a-z, 0-9, '.', '_' and '-', not starting with '.'");
    assert_config_error(
        "instances:\n  - name: .hidden\n    redis: redis://h\n",
        "cfg.yaml:2:11: invalid instance name \".hidden\": expected 1 to 128 characters of A-Z, "
        "a-z, 0-9, '.', '_' and '-', not starting with '.'");
    assert_config_error(
        "instances:\n  - redis: 'redis://[::1]:6380'\n",
        "cfg.yaml:2:12: the instance name \"::1-6380\" made from the redis URL is not valid: "
        "expected 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'; "
        "HINT: set \"name\"");
}

static void test_error_mode_rdb(void **state)
{
    struct config cfg;

    (void)state;
    assert_config_error("instances:\n"
                        "  - name: cache\n"
                        "    redis: redis://127.0.0.1:6380\n"
                        "    mode: rdb\n",
                        "cfg.yaml:4:11: instance \"cache\" has mode rdb but neither snapshot_interval nor "
                        "snapshot_at");
    /* mode from the defaults: the instance is the place */
    assert_config_error("defaults:\n"
                        "  mode: rdb\n"
                        "instances:\n"
                        "  - redis: redis://h\n"
                        "    snapshot_interval: 30m\n"
                        "  - redis: redis://h:2\n",
                        "cfg.yaml:6:5: instance \"h-2\" has mode rdb but neither snapshot_interval nor "
                        "snapshot_at");
    assert_config_error(
        "instances:\n"
        "  - name: s\n"
        "    redis: redis://h\n"
        "    snapshot_interval: 1h\n",
        "cfg.yaml:4:5: \"snapshot_interval\" applies only to mode rdb, and instance \"s\" has "
        "mode aof");
    assert_config_error(
        "instances:\n"
        "  - name: s\n"
        "    redis: redis://h\n"
        "    snapshot_at: \"02:00\"\n"
        "    mode: aof\n",
        "cfg.yaml:4:5: \"snapshot_at\" applies only to mode rdb, and instance \"s\" has mode aof");
    /* either one is enough */
    parse_ok("instances:\n"
             "  - {name: a, redis: redis://h, mode: rdb, snapshot_at: \"02:00\"}\n"
             "  - {name: b, redis: redis://h, mode: rdb, snapshot_interval: 15m}\n",
             &cfg);
    assert_int_equal(cfg.instances[0].snapshot_minute, 120);
    assert_int_equal(cfg.instances[0].snapshot_interval_s, 0);
    assert_int_equal(cfg.instances[1].snapshot_minute, -1);
    assert_int_equal(cfg.instances[1].snapshot_interval_s, 900);
    config_free(&cfg);
}

static void test_error_yaml_syntax(void **state)
{
    (void)state;
    assert_config_error("instances:\n  - redis: redis://h: x\n",
                        "cfg.yaml:2:21: a second \": \" on one line: put the key on a line of its own, or "
                        "quote a value that holds \": \" (libyaml: mapping values are not allowed in this "
                        "context)");
    assert_config_error(
        "instances:\n  - redis: redis://h\n   mode: rdb\n",
        "cfg.yaml:3:4: this line is not indented like the list items above it (each item starts with "
        "\"- \" in the same column, its keys two columns further in) (libyaml: did not find expected "
        "'-' indicator while parsing a block collection at line 2, column 3)");
    assert_config_error(
        "instances: [{redis: redis://h}\n",
        "cfg.yaml:2:1: a list in [...] is not closed, or two items lack a comma (libyaml: did not find "
        "expected ',' or ']' while parsing a flow sequence at line 1, column 12)");
    assert_config_error(
        "instances:\n  - redis: \"redis://h\n",
        "cfg.yaml:3:1: a quoted value is never closed: the file ends inside it (libyaml: found "
        "unexpected end of stream while scanning a quoted scalar at line 2, column 12)");
    assert_config_error(
        "instances:\n\t- redis: redis://h\n",
        "cfg.yaml:2:1: a character that cannot begin a value here: a tab in the indentation (YAML "
        "indents with spaces only), or a value starting with @ or ` that needs quotes (libyaml: found "
        "character that cannot start any token while scanning for the next token at line 2, column 1)");
    assert_config_error("defaults: *d\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:11: an alias (*name) with no anchor (&name) before it (libyaml: found "
                        "undefined alias)");
    assert_config_error("instances:\n  - name: a\n    redis: redis://h\n   mode: rdb\n",
                        "cfg.yaml:4:4: this line is not indented like the list items above it (each item "
                        "starts with \"- \" in the same column, its keys two columns further in) (libyaml: "
                        "did not find expected '-' indicator while parsing a block collection at line 2, "
                        "column 3)");
    assert_config_error("index: /a\xff\ninstances: [{redis: redis://h}]\n",
                        "cfg.yaml:1:10: invalid leading UTF-8 octet (byte 0xff)");
    assert_config_error("instances: [{redis: redis://h}]\n---\nindex: /x\n",
                        "cfg.yaml:3:1: expected one YAML document, found a second one");
}

/* Anchors and aliases are YAML's own way to share a value; they work. */
static void test_yaml_aliases(void **state)
{
    struct config cfg;

    (void)state;
    parse_ok("instances:\n"
             "  - redis: redis://h:1\n"
             "    chunk_size: &size 2MiB\n"
             "  - redis: redis://h:2\n"
             "    chunk_size: *size\n",
             &cfg);
    assert_int_equal(cfg.instances[0].chunk_size, 2 * MIB);
    assert_int_equal(cfg.instances[1].chunk_size, 2 * MIB);
    config_free(&cfg);
}

/* ---------------------------------------------------------------------
 * Redis URLs and redaction
 * ------------------------------------------------------------------- */

static void test_redis_urls(void **state)
{
    struct redis_addr a;
    struct err e;

    (void)state;
    assert_int_equal(config_parse_redis_url("redis://app:s3cret@10.0.0.5:6379", &a, &e), 0);
    assert_int_equal(a.transport, REDIS_TCP);
    assert_string_equal(a.host, "10.0.0.5");
    assert_int_equal(a.port, 6379);
    assert_string_equal(a.user, "app");
    assert_string_equal(a.password, "s3cret");
    assert_null(a.path);
    redis_addr_free(&a);
    assert_null(a.host);

    assert_int_equal(config_parse_redis_url("redis://:only%2Fpass%40word@cache.local/", &a, &e), 0);
    assert_string_equal(a.host, "cache.local");
    assert_int_equal(a.port, 6379);
    assert_null(a.user);
    assert_string_equal(a.password, "only/pass@word");
    redis_addr_free(&a);

    assert_int_equal(config_parse_redis_url("redis://default@[::1]:7000", &a, &e), 0);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 7000);
    assert_string_equal(a.user, "default");
    assert_null(a.password);
    redis_addr_free(&a);

    assert_int_equal(config_parse_redis_url("unix:///run/redis/redis.sock", &a, &e), 0);
    assert_int_equal(a.transport, REDIS_UNIX);
    assert_string_equal(a.path, "/run/redis/redis.sock");
    assert_null(a.host);
    assert_null(a.user);
    assert_null(a.password);
    redis_addr_free(&a);

    assert_int_equal(config_parse_redis_url("unix://app:pa%3Ass@/run/redis.sock", &a, &e), 0);
    assert_string_equal(a.path, "/run/redis.sock");
    assert_string_equal(a.user, "app");
    assert_string_equal(a.password, "pa:ss");
    redis_addr_free(&a);
}

static void assert_url_error(const char *url, const char *msg, const char *secret)
{
    struct redis_addr a;
    struct err e;

    memset(&a, 0x5a, sizeof(a));
    err_clear(&e);
    assert_int_equal(config_parse_redis_url(url, &a, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_string_equal(e.msg, msg);
    if (secret != NULL)
        assert_null(strstr(e.msg, secret));
    assert_null(a.host);
    assert_null(a.password);
}

static void test_redis_url_errors(void **state)
{
    (void)state;
    assert_url_error(
        "http://app:pw1@h:1",
        "invalid redis URL \"http://app:***@h:1\": expected redis://[user:password@]host[:port] or "
        "unix:///path/to/socket",
        "pw1");
    assert_url_error("rediss://h:1",
                     "invalid redis URL \"rediss://h:1\": expected redis://[user:password@]host[:port] or "
                     "unix:///path/to/socket",
                     NULL);
    assert_url_error(
        "redis://app:pw2@h:99999",
        "invalid redis URL \"redis://app:***@h:99999\": port number was not a decimal number between 0 "
        "and 65535",
        "pw2");
    assert_url_error("redis://app:pw3@h:0", "invalid redis URL \"redis://app:***@h:0\": port 0", "pw3");
    /* an unencoded '/' in the password: invalid, and still hidden */
    assert_url_error(
        "redis://app:pw4/x@h:1",
        "invalid redis URL \"redis://app:***@h:1\": port number was not a decimal number between 0 "
        "and 65535",
        "pw4");
    assert_url_error(
        "redis://app:pw5@h:1/0",
        "invalid redis URL \"redis://app:***@h:1/0\": unexpected text after the address; expected "
        "redis://[user:password@]host[:port] or unix:///path/to/socket",
        "pw5");
    assert_url_error("redis://h:1?db=1",
                     "invalid redis URL \"redis://h:1?db=1\": unexpected text after the address; expected "
                     "redis://[user:password@]host[:port] or unix:///path/to/socket",
                     NULL);
    assert_url_error("redis://:pw6@", "invalid redis URL \"redis://:***@\": no host part in the URL", "pw6");
    assert_url_error("unix://app:pw7@run/redis.sock",
                     "invalid redis URL \"unix://app:***@run/redis.sock\": expected "
                     "redis://[user:password@]host[:port] or unix:///path/to/socket",
                     "pw7");
    assert_url_error(
        "unix:///",
        "invalid redis URL \"unix:///\": no socket path; expected redis://[user:password@]host[:port] "
        "or unix:///path/to/socket",
        NULL);
    assert_url_error("unix://u:pw8%00@/run/x.sock",
                     "invalid redis URL \"unix://u:***@/run/x.sock\": bad %-escape in the user or password",
                     "pw8");
}

static void test_redact(void **state)
{
    static const struct {
        const char *url, *shown;
    } cases[] = {
        {"redis://app:s3cret@10.0.0.5:6379", "redis://app:***@10.0.0.5:6379"},
        {"redis://:s3cret@h", "redis://:***@h"},
        {"redis://app@h:1", "redis://app@h:1"},
        {"redis://h:6379", "redis://h:6379"},
        {"redis://app:p@ss@h", "redis://app:***@h"},
        {"redis://app:p/w@h", "redis://app:***@h"},
        {"unix:///run/redis.sock", "unix:///run/redis.sock"},
        {"unix:///run/a:b@c.sock", "unix:///run/a:b@c.sock"},
        {"unix://app:s3cret@/run/a@b.sock", "unix://app:***@/run/a@b.sock"},
        {"sftp://u:s3cret@host/path", "sftp://u:***@host/path"},
        {"s3://bucket/prefix", "s3://bucket/prefix"},
        {"app:s3cret@h", "app:***@h"},
        {"", ""},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *shown = config_redact_url(cases[i].url);

        assert_string_equal(shown, cases[i].shown);
        free(shown);
    }
}

/* A password reaches neither an error message about the file nor a dump. */
static void test_no_password_in_errors(void **state)
{
    static const char *const bad[] = {
        "instances:\n  - redis: redis://app:Sup3rS3cret@h:99999\n",
        "instances:\n  - redis: redis://app:Sup3rS3cret@h:1/2\n",
        "instances:\n  - redis: 'rediss://app:Sup3rS3cret@h'\n",
        "instances:\n  - redis: 'unix://app:Sup3rS3cret@x'\n",
        "instances:\n  - redis: redis://app:Sup3rS3cret@h\n    chunk_sise: 1\n",
        "instances:\n  - redis: redis://app:Sup3rS3cret@h\n    mode: rdb\n",
        "instances:\n  - redis: 'redis://app:Sup3rS3cret@[::1]'\n",
        "storage:\n  url: 'ftp://u:Sup3rS3cret@h/x'\ninstances: [{redis: redis://h}]\n",
    };
    struct config cfg;
    struct err e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(config_parse("cfg.yaml", bad[i], strlen(bad[i]), &cfg, &e), -1);
        assert_true(strncmp(e.msg, "cfg.yaml:", 9) == 0);
        if (strstr(e.msg, "Sup3rS3cret") != NULL)
            fail_msg("password in message: %s", e.msg);
        config_free(&cfg);
    }
}

/* ---------------------------------------------------------------------
 * Dump
 * ------------------------------------------------------------------- */

static char *dump_to_string(const struct config *cfg, size_t *len)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, len);

    assert_non_null(fp);
    config_dump(cfg, fp);
    assert_int_equal(fclose(fp), 0);
    return text;
}

static void assert_same_optional(const char *a, const char *b)
{
    if (a == NULL)
        assert_null(b);
    else
        assert_string_equal(a, b);
}

static void assert_same_instance(const struct instance_config *a, const struct instance_config *b, int dumped)
{
    if (a->name != NULL || b->name != NULL)
        assert_string_equal(a->name, b->name);
    assert_int_equal(a->redis.transport, b->redis.transport);
    if (a->redis.host != NULL || b->redis.host != NULL)
        assert_string_equal(a->redis.host, b->redis.host);
    if (a->redis.path != NULL || b->redis.path != NULL)
        assert_string_equal(a->redis.path, b->redis.path);
    assert_int_equal(a->redis.port, b->redis.port);
    assert_same_optional(a->redis.user, b->redis.user);
    if (a->redis.password != NULL)
        assert_string_equal(b->redis.password, "***"); /* redacted in the dump */
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->poll_interval_ms, b->poll_interval_ms);
    assert_int_equal(a->chunk_size, b->chunk_size);
    assert_int_equal(a->chunk_pause_ms, b->chunk_pause_ms);
    assert_int_equal(a->max_rate, b->max_rate);
    assert_int_equal(a->compression, b->compression);
    assert_int_equal(a->barrier_minute, b->barrier_minute);
    assert_int_equal(a->barrier_max_lag_s, b->barrier_max_lag_s);
    assert_int_equal(a->barrier_timeout_s, b->barrier_timeout_s);
    assert_int_equal(a->retention_s, b->retention_s);
    assert_int_equal(a->lag_threshold, b->lag_threshold);
    assert_int_equal(a->priority, b->priority);
    if (a->metrics_file != NULL || b->metrics_file != NULL)
        assert_string_equal(a->metrics_file, b->metrics_file);
    if (a->mode == MODE_RDB || !dumped) {
        assert_int_equal(a->snapshot_interval_s, b->snapshot_interval_s);
        assert_int_equal(a->snapshot_minute, b->snapshot_minute);
    }
}

static void test_dump_round_trip(void **state)
{
    static const char tricky[] = "storage:\n"
                                 "  url: 'file:///srv/archive #1'\n"
                                 "index: '/srv/a: b/index.db'\n"
                                 "log_file: \"/var/log/a\\\"quote.log\"\n"
                                 "instances:\n"
                                 "  - name: x\n"
                                 "    redis: 'redis://us%3Aer:pa%40ss@h:1'\n"
                                 "    metrics_file: '- dash'\n"
                                 "    max_rate: 1000000/s\n"
                                 "    lag_threshold: 65537\n"
                                 "    poll_interval: 1500ms\n"
                                 "    cluster: prod-1\n";
    const char *inputs[] = {full_yaml, tricky};
    struct config a, b;
    struct err e;
    char *text;
    size_t len, i;
    int k;

    (void)state;
    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        parse_ok(inputs[i], &a);
        text = dump_to_string(&a, &len);
        assert_null(strstr(text, "hunter2"));
        assert_null(strstr(text, "s%40cret"));
        assert_null(strstr(text, "pa%40ss"));
        if (config_parse("dump.yaml", text, len, &b, &e) != 0)
            fail_msg("dump does not read back: %s\n%s", e.msg, text);
        assert_string_equal(a.storage_url, b.storage_url);
        assert_same_optional(a.instances[0].cluster, b.instances[0].cluster);
        assert_same_optional(a.s3.endpoint, b.s3.endpoint);
        assert_same_optional(a.s3.region, b.s3.region);
        assert_int_equal(a.s3.path_style, b.s3.path_style);
        assert_same_optional(a.s3.storage_class, b.s3.storage_class);
        assert_same_optional(a.s3.sse, b.s3.sse);
        assert_same_optional(a.s3.credentials_file, b.s3.credentials_file);
        assert_same_optional(a.s3.ca_bundle, b.s3.ca_bundle);
        assert_same_optional(a.s3.sts_endpoint, b.s3.sts_endpoint);
        assert_same_optional(a.azure.endpoint, b.azure.endpoint);
        assert_same_optional(a.azure.sas_token_file, b.azure.sas_token_file);
        assert_same_optional(a.azure.ca_bundle, b.azure.ca_bundle);
        assert_same_optional(a.sftp.private_key, b.sftp.private_key);
        assert_same_optional(a.sftp.public_key, b.sftp.public_key);
        assert_same_optional(a.sftp.known_hosts, b.sftp.known_hosts);
        assert_same_optional(a.sftp.host_key_sha256, b.sftp.host_key_sha256);
        assert_same_optional(a.encryption.key_file, b.encryption.key_file);
        assert_string_equal(a.index_path, b.index_path);
        assert_string_equal(a.lock_dir, b.lock_dir);
        assert_same_optional(a.log_file, b.log_file);
        assert_int_equal(a.log_json, b.log_json);
        assert_int_equal(a.index_upload_interval_s, b.index_upload_interval_s);
        assert_same_instance(&a.defaults, &b.defaults, 0);
        assert_int_equal(a.ninstances, b.ninstances);
        for (k = 0; k < a.ninstances; k++)
            assert_same_instance(&a.instances[k], &b.instances[k], 1);
        free(text);
        config_free(&a);
        config_free(&b);
    }
}

static void test_dump_text(void **state)
{
    struct config cfg;
    char *text;
    size_t len;

    (void)state;
    parse_ok("instances:\n"
             "  - name: cache\n"
             "    redis: redis://app:hunter2@10.0.0.5:6380\n"
             "    mode: rdb\n"
             "    snapshot_interval: 1h\n",
             &cfg);
    text = dump_to_string(&cfg, &len);
    assert_string_equal(text, "storage:\n"
                              "  url: file:///var/lib/aofroll/archive\n"
                              "index: /var/lib/aofroll/index.db\n"
                              "lock_dir: /var/lib/aofroll\n"
                              "log_format: text\n"
                              "index_upload_interval: 5m\n"
                              "defaults:\n"
                              "  mode: aof\n"
                              "  poll_interval: 1s\n"
                              "  chunk_size: 4MiB\n"
                              "  chunk_pause: 100ms\n"
                              "  max_rate: 32MiB/s\n"
                              "  compression: 1\n"
                              "  barrier: \"00:00\"\n"
                              "  barrier_max_lag: 1m\n"
                              "  barrier_timeout: 1h\n"
                              "  retention: 7d\n"
                              "  lag_threshold: 0\n"
                              "  priority: idle\n"
                              "  snapshot_interval: 0\n"
                              "  snapshot_at: \"off\"\n"
                              "instances:\n"
                              "- name: cache\n"
                              "  redis: redis://app:***@10.0.0.5:6380\n"
                              "  mode: rdb\n"
                              "  poll_interval: 1s\n"
                              "  chunk_size: 4MiB\n"
                              "  chunk_pause: 100ms\n"
                              "  max_rate: 32MiB/s\n"
                              "  compression: 1\n"
                              "  barrier: \"00:00\"\n"
                              "  barrier_max_lag: 1m\n"
                              "  barrier_timeout: 1h\n"
                              "  retention: 7d\n"
                              "  lag_threshold: 0\n"
                              "  priority: idle\n"
                              "  snapshot_interval: 1h\n"
                              "  snapshot_at: \"off\"\n");
    free(text);
    config_free(&cfg);
}

/* ---------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------- */

static char *test_dir(void)
{
    const char *tmp = getenv("AOFROLL_TEST_TMP");
    char *dir;
    size_t n;

    if (tmp == NULL)
        tmp = "/tmp";
    (void)mkdir(tmp, 0755);
    n = strlen(tmp) + 32;
    dir = malloc(n);
    assert_non_null(dir);
    snprintf(dir, n, "%s/test_config.XXXXXX", tmp);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void test_load_files(void **state)
{
    struct config cfg;
    struct err e;
    char *dir = test_dir();
    char path[512], msg[1024];
    FILE *fp;
    int i;

    (void)state;
    snprintf(path, sizeof(path), "%s/aofroll.yaml", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(full_yaml, fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(config_load(path, &cfg, &e), 0);
    assert_string_equal(cfg.path, path);
    assert_int_equal(cfg.ninstances, 3);
    assert_string_equal(cfg.instances[2].name, "queue.6381");
    config_free(&cfg);

    /* the file name is the one in messages */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("instances:\n  - redis: redis://h\n    chunk_size: 4XB\n", fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(config_load(path, &cfg, &e), -1);
    assert_int_equal(e.code, ERR_CONFIG);
    snprintf(msg, sizeof(msg),
             "%s:3:17: invalid size \"4XB\": expected a number followed by B, KiB, MiB, GiB or TiB", path);
    assert_string_equal(e.msg, msg);
    assert_null(cfg.path);
    config_free(&cfg);
    assert_int_equal(unlink(path), 0);

    /* missing file */
    assert_int_equal(config_load(path, &cfg, &e), -1);
    assert_int_equal(e.code, ERR_NOTFOUND);
    snprintf(msg, sizeof(msg), "%s: cannot read: No such file or directory", path);
    assert_string_equal(e.msg, msg);
    assert_null(cfg.path);
    config_free(&cfg);

    /* a directory */
    assert_int_equal(config_load(dir, &cfg, &e), -1);
    assert_int_equal(e.code, ERR_IO);
    snprintf(msg, sizeof(msg), "%s: cannot read: Is a directory", dir);
    assert_string_equal(e.msg, msg);
    config_free(&cfg);

    /* too large */
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("instances: [{redis: redis://h}]\n", fp);
    for (i = 0; i < 1024 * 1024 / 15 + 1; i++)
        fputs("# padding line\n", fp);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(config_load(path, &cfg, &e), -1);
    snprintf(msg, sizeof(msg), "%s: too large for a configuration file (over 1 MiB)", path);
    assert_string_equal(e.msg, msg);
    config_free(&cfg);
    assert_int_equal(unlink(path), 0);

    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_builtin_defaults),
        cmocka_unit_test(test_lock_dir_follows_index),
        cmocka_unit_test(test_defaults_order),
        cmocka_unit_test(test_error_unknown_keys),
        cmocka_unit_test(test_error_bad_values),
        cmocka_unit_test(test_error_ranges),
        cmocka_unit_test(test_edges_of_ranges_accepted),
        cmocka_unit_test(test_error_types),
        cmocka_unit_test(test_error_duplicates),
        cmocka_unit_test(test_error_instances),
        cmocka_unit_test(test_error_mode_rdb),
        cmocka_unit_test(test_error_yaml_syntax),
        cmocka_unit_test(test_yaml_aliases),
        cmocka_unit_test(test_redis_urls),
        cmocka_unit_test(test_redis_url_errors),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_no_password_in_errors),
        cmocka_unit_test(test_dump_round_trip),
        cmocka_unit_test(test_dump_text),
        cmocka_unit_test(test_load_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
