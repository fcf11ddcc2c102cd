/* config.c - reading the YAML configuration into `struct config` (see
 * config.h and DESIGN.md "Configuration").
 *
 * libyaml's document API loads the whole file into a node tree whose nodes
 * carry their line and column, so every error can point at the key or the
 * value that is wrong ("cfg.yaml:9:17: invalid size ..."). Scalars are taken
 * as the text written: "00:00", "off" and "4MiB" mean what aofroll says,
 * not what YAML 1.1 type resolution would make of them.
 *
 * Values are applied in three layers: the built-in defaults, then the
 * `defaults:` mapping, then each instance's own keys. Every key of every
 * section is declared once, in the tables under "The keys" (name, kind,
 * where it goes, default, accepted values, help); the parser, the
 * defaults, the messages, config_dump() and the key list of
 * docs/config.md (config_keys_markdown) all walk those tables.
 *
 * Redis URLs ("redis://[user:password@]host[:port]") are split by libcurl's
 * URL parser; the socket form "unix://[user:password@]/path" is not a URL
 * curl understands and is split here. A password is kept in the struct for
 * the connection but never written into a message or a dump: both go
 * through config_redact_url(). */
#include "config.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "buf.h"
#include "objname.h"
#include "units.h"
#include "xalloc.h"
#include "yamlwords.h"

#define DEFAULT_REDIS_PORT 6379
#define CONFIG_MAX_BYTES (1024 * 1024)

#define REDIS_URL_FORMS "expected redis://[user:password@]host[:port] or unix:///path/to/socket"
#define INSTANCE_NAME_RULE                                                                                   \
    "expected 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'"

/* What the parse of one document needs at hand. */
struct config_ctx {
    const char *name; /* file name for messages */
    yaml_document_t *doc;
    struct err *e;
};

/* ---------------------------------------------------------------------
 * Errors and node access
 * ------------------------------------------------------------------- */

static size_t config_line(const yaml_node_t *node)
{
    return node->start_mark.line + 1;
}

/* "FILE:LINE:COLUMN: message" pointing at `node`. */
static int config_error(struct config_ctx *cx, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int config_error(struct config_ctx *cx, const yaml_node_t *node, const char *fmt, ...)
{
    char msg[sizeof(cx->e->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(cx->e, ERR_CONFIG, "%s:%zu:%zu: %s", cx->name, config_line(node),
                   node->start_mark.column + 1, msg);
}

/* Put the location of `node` in front of the message already in cx->e. */
static int config_locate(struct config_ctx *cx, const yaml_node_t *node)
{
    err_prefix(cx->e, "%s:%zu:%zu", cx->name, config_line(node), node->start_mark.column + 1);
    cx->e->code = ERR_CONFIG;
    return -1;
}

static const char *config_node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_NO_NODE:
        break;
    }
    return "nothing";
}

static const char *config_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

/* A plain empty scalar: "key:" with nothing after it (YAML null). */
static int config_is_null(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE && node->data.scalar.length == 0 &&
           node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* The text of the scalar `value` given for `key`; an error for anything
 * else, an empty value or one with a NUL byte in it. */
static int config_scalar(struct config_ctx *cx, const yaml_node_t *value, const char *key, const char **text)
{
    if (value->type != YAML_SCALAR_NODE)
        return config_error(cx, value, "expected a scalar for \"%s\", found %s", key,
                            config_node_kind(value));
    if (value->data.scalar.length == 0)
        return config_error(cx, value, "missing value for \"%s\"", key);
    if (strlen(config_text(value)) != value->data.scalar.length)
        return config_error(cx, value, "the value of \"%s\" contains a NUL byte", key);
    *text = config_text(value);
    return 0;
}

static int config_string(struct config_ctx *cx, const yaml_node_t *value, const char *key, char **out)
{
    const char *text = NULL;

    if (config_scalar(cx, value, key, &text) < 0)
        return -1;
    free(*out);
    *out = xstrdup(text);
    return 0;
}

static const yaml_node_t *config_node(struct config_ctx *cx, int id)
{
    return yaml_document_get_node(cx->doc, id);
}

static int config_key_is(const yaml_node_t *key, const char *name)
{
    return key->type == YAML_SCALAR_NODE && strcmp(config_text(key), name) == 0;
}

/* Every key of `map` is a scalar and appears once. `where` ends the
 * message: "" at the top level, " in \"storage\"", " in instance \"x\"". */
static int config_check_keys(struct config_ctx *cx, const yaml_node_t *map, const char *where)
{
    const yaml_node_pair_t *pair, *prev;

    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);

        if (key->type != YAML_SCALAR_NODE)
            return config_error(cx, key, "expected a scalar key%s, found %s", where, config_node_kind(key));
        for (prev = map->data.mapping.pairs.start; prev < pair; prev++) {
            const yaml_node_t *first = config_node(cx, prev->key);

            if (strcmp(config_text(first), config_text(key)) == 0)
                return config_error(cx, key, "duplicate key \"%s\"%s (first at line %zu)", config_text(key),
                                    where, config_line(first));
        }
    }
    return 0;
}

/* The value node of `name` in `map`, or NULL. */
static const yaml_node_t *config_lookup(struct config_ctx *cx, const yaml_node_t *map, const char *name,
                                        const yaml_node_t **key_out)
{
    const yaml_node_pair_t *pair;

    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);

        if (config_key_is(key, name)) {
            if (key_out != NULL)
                *key_out = key;
            return config_node(cx, pair->value);
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------
 * Redis URLs
 * ------------------------------------------------------------------- */

char *config_redact_url(const char *url)
{
    const char *rest = strstr(url, "://");
    const char *at = NULL;
    const char *colon;
    struct buf b = BUF_INIT;
    int is_unix = strncasecmp(url, "unix://", 7) == 0;

    /* Without "://" the text is no URL; still hide anything that looks
     * like "user:password@". */
    rest = rest != NULL ? rest + 3 : url;
    if (is_unix && rest[0] == '/')
        return xstrdup(url);
    /* A socket path may hold '@', so there userinfo ends at "@/". A host
     * never holds '@': elsewhere the last one ends it, even when an
     * unencoded '@' or '/' in the password makes the URL invalid. */
    if (is_unix)
        at = strstr(rest, "@/");
    if (at == NULL)
        at = strrchr(rest, '@');
    if (at == NULL)
        return xstrdup(url);
    colon = memchr(rest, ':', (size_t)(at - rest));
    if (colon == NULL)
        return xstrdup(url);
    buf_append(&b, url, (size_t)(colon + 1 - url));
    buf_appendstr(&b, "***");
    buf_appendstr(&b, at);
    return b.data;
}

void redis_addr_free(struct redis_addr *a)
{
    free(a->host);
    free(a->path);
    free(a->user);
    free(a->password);
    memset(a, 0, sizeof(*a));
}

/* Percent-decode `len` bytes of `text` into a fresh string; NULL for an
 * empty result. -1 when the text decodes to a NUL byte. */
static int config_unescape(const char *text, size_t len, char **out)
{
    char *decoded;
    int olen = 0;

    *out = NULL;
    if (len == 0)
        return 0;
    decoded = curl_easy_unescape(NULL, text, (int)len, &olen);
    if (decoded == NULL)
        return -1;
    if (strlen(decoded) != (size_t)olen) {
        curl_free(decoded);
        return -1;
    }
    if (olen > 0)
        *out = xstrdup(decoded);
    curl_free(decoded);
    return 0;
}

/* "unix://[user[:password]@]/path" */
static int config_parse_unix_url(const char *url, struct redis_addr *out, const char *shown, struct err *e)
{
    const char *rest = url + strlen("unix://");
    const char *path = rest;
    const char *at, *colon;

    out->transport = REDIS_UNIX;
    if (rest[0] != '/') {
        at = strstr(rest, "@/");
        if (at == NULL)
            return err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": %s", shown, REDIS_URL_FORMS);
        colon = memchr(rest, ':', (size_t)(at - rest));
        if (colon == NULL)
            colon = at;
        if (config_unescape(rest, (size_t)(colon - rest), &out->user) < 0 ||
            (colon < at && config_unescape(colon + 1, (size_t)(at - colon - 1), &out->password) < 0))
            return err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": bad %%-escape in the user or password",
                           shown);
        path = at + 1;
    }
    if (path[1] == '\0')
        return err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": no socket path; %s", shown, REDIS_URL_FORMS);
    out->path = xstrdup(path);
    return 0;
}

/* Fetch one part of a parsed URL; *out stays NULL when the part is absent
 * or empty. */
static int config_url_part(CURLU *u, CURLUPart part, unsigned flags, char **out)
{
    char *v = NULL;
    CURLUcode rc = curl_url_get(u, part, &v, flags);

    *out = NULL;
    if (rc == CURLUE_NO_USER || rc == CURLUE_NO_PASSWORD || rc == CURLUE_NO_PORT || rc == CURLUE_NO_QUERY ||
        rc == CURLUE_NO_FRAGMENT)
        return 0;
    if (rc != CURLUE_OK)
        return -1;
    if (v[0] != '\0')
        *out = xstrdup(v);
    curl_free(v);
    return 0;
}

/* "redis://[user[:password]@]host[:port][/]", split by libcurl. */
static int config_parse_tcp_url(const char *url, struct redis_addr *out, const char *shown, struct err *e)
{
    CURLU *u = curl_url();
    CURLUcode rc;
    char *port = NULL, *path = NULL, *query = NULL, *fragment = NULL;
    char reason[256];
    size_t hlen;
    int ret = -1;

    out->transport = REDIS_TCP;
    out->port = DEFAULT_REDIS_PORT;
    if (u == NULL) {
        err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": out of memory", shown);
        goto out;
    }
    rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        /* curl's messages start upper case ("Bad hostname"); ours do not. */
        snprintf(reason, sizeof(reason), "%s", curl_url_strerror(rc));
        reason[0] = (char)tolower((unsigned char)reason[0]);
        err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": %s", shown, reason);
        goto out;
    }
    if (config_url_part(u, CURLUPART_USER, CURLU_URLDECODE, &out->user) < 0 ||
        config_url_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, &out->password) < 0 ||
        config_url_part(u, CURLUPART_HOST, 0, &out->host) < 0 ||
        config_url_part(u, CURLUPART_PORT, 0, &port) < 0 ||
        config_url_part(u, CURLUPART_PATH, 0, &path) < 0 ||
        config_url_part(u, CURLUPART_QUERY, 0, &query) < 0 ||
        config_url_part(u, CURLUPART_FRAGMENT, 0, &fragment) < 0) {
        err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": bad %%-escape in the user or password", shown);
        goto out;
    }
    if ((path != NULL && strcmp(path, "/") != 0) || query != NULL || fragment != NULL) {
        err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": unexpected text after the address; %s", shown,
                REDIS_URL_FORMS);
        goto out;
    }
    if (out->host == NULL) {
        err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": no host; %s", shown, REDIS_URL_FORMS);
        goto out;
    }
    /* "[::1]" as curl gives it; hiredis wants the bare address. */
    hlen = strlen(out->host);
    if (out->host[0] == '[' && hlen > 2 && out->host[hlen - 1] == ']') {
        memmove(out->host, out->host + 1, hlen - 2);
        out->host[hlen - 2] = '\0';
    }
    if (port != NULL) {
        out->port = atoi(port); /* curl checked: 0 to 65535 */
        if (out->port == 0) {
            err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": port 0", shown);
            goto out;
        }
    }
    ret = 0;
out:
    free(port);
    free(path);
    free(query);
    free(fragment);
    curl_url_cleanup(u);
    return ret;
}

int config_parse_redis_url(const char *url, struct redis_addr *out, struct err *e)
{
    char *shown = config_redact_url(url);
    int ret;

    memset(out, 0, sizeof(*out));
    if (strncasecmp(url, "unix://", 7) == 0)
        ret = config_parse_unix_url(url, out, shown, e);
    else if (strncasecmp(url, "redis://", 8) == 0)
        ret = config_parse_tcp_url(url, out, shown, e);
    else
        ret = err_set(e, ERR_CONFIG, "invalid redis URL \"%s\": %s", shown, REDIS_URL_FORMS);
    if (ret < 0)
        redis_addr_free(out);
    free(shown);
    return ret;
}

/* The name an instance gets when the config gives none: "host-port", or
 * the socket file's name without its extension. */
static char *config_default_name(const struct redis_addr *a)
{
    const char *base, *dot;

    if (a->transport == REDIS_TCP)
        return xasprintf("%s-%d", a->host, a->port);
    base = strrchr(a->path, '/');
    base = base != NULL ? base + 1 : a->path;
    dot = strrchr(base, '.');
    if (dot == NULL || dot == base)
        return xstrdup(base);
    return xstrndup(base, (size_t)(dot - base));
}

/* ---------------------------------------------------------------------
 * The keys: one table per section
 *
 * Every key of the file is declared once below, with its kind, where its
 * value goes, its built-in default (as it would be written in the file),
 * the values it accepts and one line of help. The parser, the defaults,
 * the messages, config_dump() and the key list of docs/config.md
 * (config_keys_markdown(), checked by a test) all read these tables.
 * ------------------------------------------------------------------- */

enum key_kind {
    KEY_STRING,      /* char *, as written */
    KEY_BOOL,        /* int, 0 or 1: true/yes/on, false/no/off */
    KEY_SIZE,        /* int64_t bytes: 4MiB */
    KEY_RATE,        /* int64_t bytes per second: 32MiB/s; 0 = unlimited */
    KEY_DURATION_MS, /* int64_t milliseconds: 100ms, 1s */
    KEY_DURATION_S,  /* int64_t seconds, written as a duration */
    KEY_LEVEL,       /* int, one digit: a zlib level */
    KEY_CLOCK,       /* int minutes after local midnight (HH:MM), or -1 for "off" */
    KEY_ENUM,        /* int, the index of the value in `values` */
    KEY_SECTION,     /* a mapping with keys of its own */
    KEY_DEFAULTS,    /* the mapping of instance keys that every instance starts from */
    KEY_INSTANCES    /* the sequence of instances */
};

enum key_flag {
    KEY_REDACT = 1 << 0,        /* a URL: its password is never shown (dump_url) */
    KEY_INSTANCE_ONLY = 1 << 1, /* an instance's own, not allowed in `defaults` (parsed first) */
    KEY_RDB_ONLY = 1 << 2,      /* meaningful for mode rdb only */
    KEY_STORAGE_URL = 1 << 3,   /* a URL of one of the storage backends */
    KEY_NAME_RULE = 1 << 4      /* KEY_STRING: a name as instance names are written (objname.h) */
};

struct config_section;

struct config_key {
    const char *name;
    enum key_kind kind;
    size_t offset;                        /* of the value in the section's struct */
    const char *def;                      /* built-in default, as it would be written; NULL: none */
    int64_t min, max;                     /* numeric kinds, in the value's own unit */
    int zero_ok;                          /* 0 is valid besides [min, max] */
    const char *range;                    /* "expected <range>" when out of range; NULL: not checked */
    const char *const *values;            /* KEY_ENUM: the names, indexed by value, NULL-terminated */
    const struct config_section *section; /* KEY_SECTION: its keys */
    unsigned flags;                       /* enum key_flag */
    const char *help;                     /* one line for docs/config.md */
};

struct config_section {
    const char *path;   /* "storage.s3", for the docs; "" at the top level */
    const char *where;  /* ends the messages of its keys: "", " in \"storage.s3\"" */
    const char *scheme; /* dump: shown when the storage URL has this scheme (else when set) */
    const struct config_key *keys;
    size_t nkeys;
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))
#define SECTION(path, where, scheme, keys)                                                                   \
    {                                                                                                        \
        path, where, scheme, keys, NKEYS(keys)                                                               \
    }

/* Values of the enum keys, indexed by enum instance_mode and instance_priority
 * (stored as an int). */
_Static_assert(sizeof(enum instance_mode) == sizeof(int), "KEY_ENUM values are ints");
_Static_assert(sizeof(enum instance_priority) == sizeof(int), "KEY_ENUM values are ints");
static const char *const config_mode_names[] = {"aof", "rdb", NULL};
static const char *const config_priority_names[] = {"idle", "low", "normal", NULL};
/* log_format, stored in config.log_json: 0 text, 1 json */
static const char *const config_log_format_names[] = {"text", "json", NULL};

static const struct config_key s3_keys[] = {
    {.name = "endpoint",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, endpoint),
     .help = "S3 API URL (MinIO, Ceph, another region); none: AWS's endpoint for the region"},
    {.name = "region",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, region),
     .def = "us-east-1",
     .help = "the region requests are signed for"},
    {.name = "path_style",
     .kind = KEY_BOOL,
     .offset = offsetof(struct s3_config, path_style),
     .def = "false",
     .help = "address the bucket in the path (`ENDPOINT/BUCKET/KEY`) instead of the host name"},
    {.name = "storage_class",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, storage_class),
     .help = "`x-amz-storage-class` of every object stored"},
    {.name = "sse",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, sse),
     .help = "`x-amz-server-side-encryption` of every object stored (`AES256`, `aws:kms`)"},
    {.name = "credentials_file",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, credentials_file),
     .help = "read the keys from this file only, instead of the credential chain"},
    {.name = "ca_bundle",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, ca_bundle),
     .help = "CA certificates to verify the endpoint with, instead of the system's"},
    {.name = "sts_endpoint",
     .kind = KEY_STRING,
     .offset = offsetof(struct s3_config, sts_endpoint),
     .help = "STS URL for web identity credentials"},
};

static const struct config_key sftp_keys[] = {
    {.name = "private_key",
     .kind = KEY_STRING,
     .offset = offsetof(struct sftp_config, private_key),
     .help = "the SSH private key file"},
    {.name = "public_key",
     .kind = KEY_STRING,
     .offset = offsetof(struct sftp_config, public_key),
     .help = "its public key file, when libssh2 cannot derive it"},
    {.name = "known_hosts",
     .kind = KEY_STRING,
     .offset = offsetof(struct sftp_config, known_hosts),
     .help = "an OpenSSH known_hosts file holding the server's host key"},
    {.name = "host_key_sha256",
     .kind = KEY_STRING,
     .offset = offsetof(struct sftp_config, host_key_sha256),
     .help = "the server's host key fingerprint (`SHA256:...`), instead of `known_hosts`"},
};

static const struct config_key azure_keys[] = {
    {.name = "endpoint",
     .kind = KEY_STRING,
     .offset = offsetof(struct azure_config, endpoint),
     .help = "the account's blob service URL; none: `https://ACCOUNT.blob.core.windows.net`"},
    {.name = "sas_token_file",
     .kind = KEY_STRING,
     .offset = offsetof(struct azure_config, sas_token_file),
     .help = "a file (mode 0600) holding the SAS token; none: `AZURE_STORAGE_SAS_TOKEN`"},
    {.name = "ca_bundle",
     .kind = KEY_STRING,
     .offset = offsetof(struct azure_config, ca_bundle),
     .help = "CA certificates to verify the endpoint with, instead of the system's"},
};

static const struct config_key encryption_keys[] = {
    {.name = "key_file",
     .kind = KEY_STRING,
     .offset = offsetof(struct encryption_config, key_file),
     .help = "lines `ID BASE64-KEY` (mode 0600); the last one seals; none: objects are stored plain"},
};

static const struct config_section s3_section = SECTION("storage.s3", " in \"storage.s3\"", "s3://", s3_keys);
static const struct config_section sftp_section =
    SECTION("storage.sftp", " in \"storage.sftp\"", NULL, sftp_keys);
static const struct config_section azure_section =
    SECTION("storage.azure", " in \"storage.azure\"", "azure://", azure_keys);
static const struct config_section encryption_section =
    SECTION("storage.encryption", " in \"storage.encryption\"", NULL, encryption_keys);

/* Its subsections are in the order config_dump() writes them. */
static const struct config_key storage_keys[] = {
    {.name = "url",
     .kind = KEY_STRING,
     .offset = offsetof(struct config, storage_url),
     .def = "file:///var/lib/aofroll/archive",
     .flags = KEY_REDACT | KEY_STORAGE_URL,
     .help = "where the archive is: `file:///path`, `s3://bucket/prefix`, `sftp://host/path` or "
             "`azure://account/container/prefix`"},
    {.name = "s3",
     .kind = KEY_SECTION,
     .offset = offsetof(struct config, s3),
     .section = &s3_section,
     .help = "settings of `s3://` storage ([storage.md](storage.md))"},
    {.name = "azure",
     .kind = KEY_SECTION,
     .offset = offsetof(struct config, azure),
     .section = &azure_section,
     .help = "settings of `azure://` storage ([storage.md](storage.md))"},
    {.name = "sftp",
     .kind = KEY_SECTION,
     .offset = offsetof(struct config, sftp),
     .section = &sftp_section,
     .help = "settings of `sftp://` storage ([storage.md](storage.md))"},
    {.name = "encryption",
     .kind = KEY_SECTION,
     .offset = offsetof(struct config, encryption),
     .section = &encryption_section,
     .help = "client-side encryption of every object ([encryption.md](encryption.md))"},
};

/* An instance's keys; all but name and redis may also be set in
 * `defaults`. */
static const struct config_key instance_keys[] = {
    {.name = "name",
     .kind = KEY_STRING,
     .offset = offsetof(struct instance_config, name),
     .flags = KEY_INSTANCE_ONLY,
     .help = "the instance's name in the archive; none: `host-port`, or the socket file's name; not in "
             "`defaults`"},
    {.name = "redis",
     .kind = KEY_STRING,
     .offset = offsetof(struct instance_config, redis_url),
     .flags = KEY_INSTANCE_ONLY | KEY_REDACT,
     .help =
         "`redis://[user:password@]host[:port]` or `unix://[user:password@]/path`; required; the password is "
         "never shown; not in `defaults`"},
    {.name = "mode",
     .kind = KEY_ENUM,
     .offset = offsetof(struct instance_config, mode),
     .def = "aof",
     .values = config_mode_names,
     .help = "`aof`: follow the AOF; `rdb`: timed BGSAVE snapshots ([snapshot.md](snapshot.md))"},
    {.name = "poll_interval",
     .kind = KEY_DURATION_MS,
     .offset = offsetof(struct instance_config, poll_interval_ms),
     .def = "1s",
     .min = 10,
     .max = 3600 * 1000,
     .range = "10ms to 1h",
     .help = "how often the AOF's size is looked at"},
    {.name = "chunk_size",
     .kind = KEY_SIZE,
     .offset = offsetof(struct instance_config, chunk_size),
     .def = "4MiB",
     .min = 4 * 1024,
     .max = INT64_C(1) << 30,
     .range = "4KiB to 1GiB",
     .help = "the largest chunk shipped as one object"},
    {.name = "chunk_pause",
     .kind = KEY_DURATION_MS,
     .offset = offsetof(struct instance_config, chunk_pause_ms),
     .def = "100ms",
     .max = 3600 * 1000,
     .range = "0 to 1h",
     .help = "the pause between two chunks"},
    {.name = "max_rate",
     .kind = KEY_RATE,
     .offset = offsetof(struct instance_config, max_rate),
     .def = "32MiB/s",
     .min = 64 * 1024,
     .max = INT64_MAX,
     .zero_ok = 1,
     .range = "0 (unlimited) or at least 64KiB/s",
     .help = "the most AOF bytes read per second"},
    {.name = "compression",
     .kind = KEY_LEVEL,
     .offset = offsetof(struct instance_config, compression),
     .def = "1",
     .max = 9,
     .range = "0 to 9",
     .help = "the gzip level of the chunks"},
    {.name = "barrier",
     .kind = KEY_CLOCK,
     .offset = offsetof(struct instance_config, barrier_minute),
     .def = "00:00",
     .help = "the local time of the daily barrier (`BGREWRITEAOF`), or `off`"},
    {.name = "barrier_max_lag",
     .kind = KEY_DURATION_S,
     .offset = offsetof(struct instance_config, barrier_max_lag_s),
     .def = "1m",
     .min = 1,
     .max = 86400,
     .range = "1s to 1d",
     .help = "the barrier waits while shipping is further behind than `max_rate` ships in this time"},
    {.name = "barrier_timeout",
     .kind = KEY_DURATION_S,
     .offset = offsetof(struct instance_config, barrier_timeout_s),
     .def = "1h",
     .min = 1,
     .max = 7 * 86400,
     .range = "1s to 7d",
     .help = "a barrier held back longer is an error; `--barrier-now` gives up after it"},
    {.name = "retention",
     .kind = KEY_DURATION_S,
     .offset = offsetof(struct instance_config, retention_s),
     .def = "7d",
     .min = 60,
     .max = INT64_MAX / 1000,
     .range = "at least 1m",
     .help = "how far back prune keeps the archive restorable"},
    {.name = "lag_threshold",
     .kind = KEY_SIZE,
     .offset = offsetof(struct instance_config, lag_threshold),
     .def = "0",
     .max = INT64_MAX,
     .help = "`aofroll status` exits 1 when more bytes than this wait to be shipped; 0: off"},
    {.name = "metrics_file",
     .kind = KEY_STRING,
     .offset = offsetof(struct instance_config, metrics_file),
     .help = "a Prometheus textfile (node_exporter) rewritten at each heartbeat"},
    {.name = "priority",
     .kind = KEY_ENUM,
     .offset = offsetof(struct instance_config, priority),
     .def = "idle",
     .values = config_priority_names,
     .help = "the CPU and I/O priority of the instance's thread"},
    {.name = "snapshot_interval",
     .kind = KEY_DURATION_S,
     .offset = offsetof(struct instance_config, snapshot_interval_s),
     .def = "0s",
     .max = INT64_MAX / 1000,
     .flags = KEY_RDB_ONLY,
     .help = "mode rdb: a snapshot this long after the last one; 0: none"},
    {.name = "snapshot_at",
     .kind = KEY_CLOCK,
     .offset = offsetof(struct instance_config, snapshot_minute),
     .def = "off",
     .flags = KEY_RDB_ONLY,
     .help = "mode rdb: a snapshot daily at this local time, or `off`"},
    {.name = "cluster",
     .kind = KEY_STRING,
     .offset = offsetof(struct instance_config, cluster),
     .flags = KEY_NAME_RULE,
     .help = "the Redis Cluster the node belongs to, written as instance names are: its views are "
             "recorded for `restore --cluster` ([cluster.md](cluster.md))"},
};

static const struct config_section storage_section =
    SECTION("storage", " in \"storage\"", NULL, storage_keys);
static const struct config_section defaults_section =
    SECTION("defaults", " in \"defaults\"", NULL, instance_keys);

/* The top level; its keys are parsed in this order, whatever the file's. */
static const struct config_key root_keys[] = {
    {.name = "storage",
     .kind = KEY_SECTION,
     .offset = 0,
     .section = &storage_section,
     .help = "where and how the archive is stored"},
    {.name = "index",
     .kind = KEY_STRING,
     .offset = offsetof(struct config, index_path),
     .def = "/var/lib/aofroll/index.db",
     .help = "the SQLite index of the archive"},
    {.name = "lock_dir",
     .kind = KEY_STRING,
     .offset = offsetof(struct config, lock_dir),
     .help = "where the per-instance locks are; none: the index's directory"},
    {.name = "log_file",
     .kind = KEY_STRING,
     .offset = offsetof(struct config, log_file),
     .help = "the collector's log (reopened on SIGHUP); none: stderr"},
    {.name = "log_format",
     .kind = KEY_ENUM,
     .offset = offsetof(struct config, log_json),
     .def = "text",
     .values = config_log_format_names,
     .help = "the collector's log lines: `text`, or `json` (one object per line)"},
    {.name = "index_upload_interval",
     .kind = KEY_DURATION_S,
     .offset = offsetof(struct config, index_upload_interval_s),
     .def = "5m",
     .min = 1,
     .max = INT64_MAX / 1000,
     .range = "at least 1s",
     .help = "how often a copy of the index is stored as `<instance>/index.db`"},
    {.name = "defaults",
     .kind = KEY_DEFAULTS,
     .offset = offsetof(struct config, defaults),
     .section = &defaults_section,
     .help = "instance keys that every instance starts from"},
    {.name = "instances",
     .kind = KEY_INSTANCES,
     .offset = 0,
     .section = &defaults_section,
     .help = "the instances to archive (required; at least one)"},
};

static const struct config_section root_section = SECTION("", "", NULL, root_keys);

static const struct config_key *config_find_key(const struct config_section *s, const char *name)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++) {
        if (strcmp(s->keys[i].name, name) == 0)
            return &s->keys[i];
    }
    return NULL;
}

static void *config_at(void *base, const struct config_key *k)
{
    return (char *)base + k->offset;
}

static const void *config_at_const(const void *base, const struct config_key *k)
{
    return (const char *)base + k->offset;
}

/* ---------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------- */

/* Check a parsed number against the key's range. */
static int config_check_range(struct config_ctx *cx, const struct config_key *k, const yaml_node_t *value,
                              const char *text, int64_t v)
{
    if (k->range == NULL || (k->zero_ok && v == 0) || (v >= k->min && v <= k->max))
        return 0;
    return config_error(cx, value, "%s \"%s\" is out of range: expected %s", k->name, text, k->range);
}

/* "aof or rdb", "idle, low or normal" */
static void config_enum_list(const char *const *values, char *out, size_t n)
{
    size_t i, len = 0;

    out[0] = '\0';
    for (i = 0; values[i] != NULL && len < n; i++) {
        const char *sep = i == 0 ? "" : values[i + 1] == NULL ? " or " : ", ";

        len += (size_t)snprintf(out + len, n - len, "%s%s", sep, values[i]);
    }
}

/* Set the value of scalar key k in the struct at `base` from `text`.
 * `value` is the node it was read from, for messages; NULL for a
 * built-in default. */
static int config_set(struct config_ctx *cx, const struct config_key *k, const yaml_node_t *value,
                      const char *text, void *base)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    void *field = config_at(base, k);
    char list[128];
    int64_t v = 0;
    int minutes;
    size_t i;

    switch (k->kind) {
    case KEY_STRING:
        if ((k->flags & KEY_NAME_RULE) && !objname_valid_instance(text))
            return config_error(cx, value, "invalid %s name \"%s\": %s", k->name, text, INSTANCE_NAME_RULE);
        free(*(char **)field);
        *(char **)field = xstrdup(text);
        return 0;
    case KEY_BOOL:
        for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
                *(int *)field = strcasecmp(text, yes[i]) == 0;
                return 0;
            }
        }
        return config_error(cx, value, "invalid %s \"%s\": expected true or false", k->name, text);
    case KEY_ENUM:
        for (i = 0; k->values[i] != NULL; i++) {
            if (strcmp(text, k->values[i]) == 0) {
                *(int *)field = (int)i;
                return 0;
            }
        }
        config_enum_list(k->values, list, sizeof(list));
        return config_error(cx, value, "invalid %s \"%s\": expected %s", k->name, text, list);
    case KEY_DURATION_MS:
    case KEY_DURATION_S:
        if (units_parse_duration_ms(text, &v, cx->e) < 0)
            return config_locate(cx, value);
        if (k->kind == KEY_DURATION_S) {
            if (v % 1000 != 0)
                return config_error(cx, value, "%s \"%s\" is not a whole number of seconds", k->name, text);
            v /= 1000;
        }
        break;
    case KEY_SIZE:
        if (units_parse_size(text, &v, cx->e) < 0)
            return config_locate(cx, value);
        break;
    case KEY_RATE:
        if (units_parse_rate(text, &v, cx->e) < 0)
            return config_locate(cx, value);
        break;
    case KEY_LEVEL:
        if (strlen(text) != 1 || text[0] < '0' || text[0] > '9')
            return config_error(cx, value, "invalid %s \"%s\": expected a zlib level from 0 to 9", k->name,
                                text);
        *(int *)field = text[0] - '0';
        return 0;
    case KEY_CLOCK:
        if (strcmp(text, "off") == 0) {
            minutes = -1;
        } else if (units_parse_clock(text, &minutes, cx->e) < 0) {
            err_set(cx->e, ERR_CONFIG, "invalid %s \"%s\": expected HH:MM from 00:00 to 23:59, or off",
                    k->name, text);
            return config_locate(cx, value);
        }
        *(int *)field = minutes;
        return 0;
    case KEY_SECTION:
    case KEY_DEFAULTS:
    case KEY_INSTANCES:
        return config_error(cx, value, "\"%s\" is not a scalar key", k->name); /* not reached */
    }
    if (config_check_range(cx, k, value, text, v) < 0)
        return -1;
    *(int64_t *)field = v;
    return 0;
}

/* The built-in defaults of section s (and of its subsections) into the
 * struct at `base`. */
static void config_set_defaults(struct config_ctx *cx, const struct config_section *s, void *base)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++) {
        const struct config_key *k = &s->keys[i];

        if (k->kind == KEY_SECTION || k->kind == KEY_DEFAULTS)
            config_set_defaults(cx, k->section, config_at(base, k));
        else if (k->def != NULL && config_set(cx, k, NULL, k->def, base) < 0)
            abort(); /* a default the table itself gets wrong: tests/test_config.c */
    }
}

/* Free the strings of section s (and of its subsections) in `base`. */
static void config_free_section(const struct config_section *s, void *base)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++) {
        const struct config_key *k = &s->keys[i];

        if (k->kind == KEY_STRING) {
            free(*(char **)config_at(base, k));
            *(char **)config_at(base, k) = NULL;
        } else if (k->kind == KEY_SECTION || k->kind == KEY_DEFAULTS) {
            config_free_section(k->section, config_at(base, k));
        }
    }
}

static void config_instance_free(struct instance_config *ic)
{
    config_free_section(&defaults_section, ic);
    redis_addr_free(&ic->redis);
    memset(ic, 0, sizeof(*ic));
}

/* Only the schemes aofroll has backends for; the backend itself parses
 * the rest when it opens the storage. */
static int config_check_storage_url(struct config_ctx *cx, const yaml_node_t *value, const char *url)
{
    int ok = 0;
    char *shown;

    if (strncmp(url, "file://", 7) == 0)
        ok = url[7] == '/';
    else if (strncmp(url, "s3://", 5) == 0)
        ok = url[5] != '\0' && url[5] != '/';
    else if (strncmp(url, "sftp://", 7) == 0)
        ok = url[7] != '\0' && url[7] != '/' && strchr(url + 7, '/') != NULL;
    else if (strncmp(url, "azure://", 8) == 0)
        ok = url[8] != '\0' && url[8] != '/' && strchr(url + 8, '/') != NULL;
    if (ok)
        return 0;
    shown = config_redact_url(url);
    config_error(cx, value,
                 "invalid storage url \"%s\": expected file:///path, s3://bucket/prefix, sftp://host/path or "
                 "azure://account/container/prefix",
                 shown);
    free(shown);
    return -1;
}

/* ---------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------- */

static int config_parse_section(struct config_ctx *cx, const struct config_section *s, const yaml_node_t *map,
                                void *base);

/* The value of key k (not name or redis) from node `value`. */
static int config_apply(struct config_ctx *cx, const struct config_key *k, const yaml_node_t *value,
                        void *base)
{
    const char *text = NULL;

    if (k->kind == KEY_SECTION || k->kind == KEY_DEFAULTS) {
        if (value->type != YAML_MAPPING_NODE)
            return config_error(cx, value, "expected a mapping for \"%s\"", k->name);
        return config_parse_section(cx, k->section, value, config_at(base, k));
    }
    if (config_scalar(cx, value, k->name, &text) < 0 || config_set(cx, k, value, text, base) < 0)
        return -1;
    if (k->flags & KEY_STORAGE_URL)
        return config_check_storage_url(cx, value, text);
    return 0;
}

/* A mapping of section s, its keys applied in the file's order. */
static int config_parse_section(struct config_ctx *cx, const struct config_section *s, const yaml_node_t *map,
                                void *base)
{
    const yaml_node_pair_t *pair;

    if (config_check_keys(cx, map, s->where) < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const struct config_key *k = config_find_key(s, config_text(key));

        if (k != NULL && s == &defaults_section && k->flags & KEY_INSTANCE_ONLY)
            return config_error(cx, key, "\"%s\" is not allowed in \"defaults\": set it in each instance",
                                config_text(key));
        if (k == NULL)
            return config_error(cx, key, "unknown key \"%s\"%s", config_text(key), s->where);
        if (config_apply(cx, k, config_node(cx, pair->value), base) < 0)
            return -1;
    }
    return 0;
}

/* Parse instance number `index` (0-based) from `map` on top of `defaults`.
 * *name_node is set to the node that names it, for duplicate reports. */
static int config_parse_instance(struct config_ctx *cx, const yaml_node_t *map, int index,
                                 const struct instance_config *defaults, struct instance_config *ic,
                                 const yaml_node_t **name_node)
{
    const yaml_node_t *name_key = NULL, *name_value, *redis_value, *mode_value = NULL;
    const yaml_node_pair_t *pair;
    char where[INSTANCE_NAME_MAX + 32];
    const char *text = NULL;
    size_t i;

    *ic = *defaults;
    for (i = 0; i < NKEYS(instance_keys); i++) {
        char **s = config_at(ic, &instance_keys[i]);

        if (instance_keys[i].kind == KEY_STRING && *s != NULL)
            *s = xstrdup(*s);
    }
    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for each entry of \"instances\", found %s",
                            config_node_kind(map));

    /* The name first, so that later messages can say which instance. */
    name_value = config_lookup(cx, map, "name", &name_key);
    redis_value = config_lookup(cx, map, "redis", NULL);
    if (name_value != NULL) {
        if (config_string(cx, name_value, "name", &ic->name) < 0)
            return -1;
        if (!objname_valid_instance(ic->name))
            return config_error(cx, name_value, "invalid instance name \"%s\": %s", ic->name,
                                INSTANCE_NAME_RULE);
    }
    if (redis_value == NULL) {
        if (ic->name != NULL)
            return config_error(cx, map, "missing \"redis\" in instance \"%s\"", ic->name);
        return config_error(cx, map, "missing \"redis\" in instance #%d", index + 1);
    }
    if (config_scalar(cx, redis_value, "redis", &text) < 0)
        return -1;
    if (config_parse_redis_url(text, &ic->redis, cx->e) < 0)
        return config_locate(cx, redis_value);
    ic->redis_url = xstrdup(text);
    if (ic->name == NULL) {
        ic->name = config_default_name(&ic->redis);
        if (!objname_valid_instance(ic->name))
            return config_error(cx, redis_value,
                                "the instance name \"%s\" made from the redis URL is not valid: %s; "
                                "HINT: set \"name\"",
                                ic->name, INSTANCE_NAME_RULE);
    }
    *name_node = name_key != NULL ? name_key : map;

    snprintf(where, sizeof(where), " in instance \"%s\"", ic->name);
    if (config_check_keys(cx, map, where) < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const struct config_key *k = config_find_key(&defaults_section, config_text(key));

        if (k != NULL && k->flags & KEY_INSTANCE_ONLY)
            continue; /* name and redis: above */
        if (k == NULL)
            return config_error(cx, key, "unknown key \"%s\"%s", config_text(key), where);
        if (config_apply(cx, k, config_node(cx, pair->value), ic) < 0)
            return -1;
        if (k->offset == offsetof(struct instance_config, mode))
            mode_value = config_node(cx, pair->value);
    }

    /* Snapshot settings belong to mode rdb, and mode rdb needs one. */
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const struct config_key *k = config_find_key(&defaults_section, config_text(key));

        if (k != NULL && k->flags & KEY_RDB_ONLY && ic->mode != MODE_RDB)
            return config_error(cx, key, "\"%s\" applies only to mode rdb, and instance \"%s\" has mode aof",
                                k->name, ic->name);
    }
    if (ic->mode == MODE_RDB && ic->snapshot_interval_s == 0 && ic->snapshot_minute < 0)
        return config_error(cx, mode_value != NULL ? mode_value : map,
                            "instance \"%s\" has mode rdb but neither snapshot_interval nor snapshot_at",
                            ic->name);
    return 0;
}

static int config_parse_instances(struct config_ctx *cx, const yaml_node_t *seq, struct config *cfg)
{
    const yaml_node_item_t *item;
    const yaml_node_t **name_nodes = NULL;
    struct instance_config ic;
    size_t count;
    int i, ret = -1;

    if (config_is_null(seq) ||
        (seq->type == YAML_SEQUENCE_NODE && seq->data.sequence.items.start == seq->data.sequence.items.top)) {
        config_error(cx, seq, "\"instances\" is empty: list at least one instance to archive");
        goto out;
    }
    if (seq->type != YAML_SEQUENCE_NODE) {
        config_error(cx, seq, "expected a sequence for \"instances\", found %s", config_node_kind(seq));
        goto out;
    }
    count = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    cfg->instances = xcalloc(count, sizeof(*cfg->instances));
    name_nodes = xcalloc(count, sizeof(*name_nodes));
    for (item = seq->data.sequence.items.start; item < seq->data.sequence.items.top; item++) {
        const yaml_node_t *name_node = NULL;

        if (config_parse_instance(cx, config_node(cx, *item), cfg->ninstances, &cfg->defaults, &ic,
                                  &name_node) < 0) {
            config_instance_free(&ic);
            goto out;
        }
        for (i = 0; i < cfg->ninstances; i++) {
            if (strcmp(cfg->instances[i].name, ic.name) == 0) {
                config_error(cx, name_node, "duplicate instance name \"%s\" (first at line %zu)", ic.name,
                             config_line(name_nodes[i]));
                config_instance_free(&ic);
                goto out;
            }
        }
        name_nodes[cfg->ninstances] = name_node;
        cfg->instances[cfg->ninstances++] = ic;
    }
    ret = 0;
out:
    free(name_nodes);
    return ret;
}

/* The directory part of `path`: "/a/b" -> "/a", "b" -> ".", "/b" -> "/". */
static char *config_dirname(const char *path)
{
    size_t len = strlen(path);

    while (len > 1 && path[len - 1] == '/')
        len--;
    while (len > 0 && path[len - 1] != '/')
        len--;
    if (len == 0)
        return xstrdup(".");
    while (len > 1 && path[len - 1] == '/')
        len--;
    return xstrndup(path, len);
}

/* The top-level mapping: every key known, then the built-in defaults, then
 * the keys in the order of root_keys (the instances last, on top of the
 * defaults). */
static int config_parse_root(struct config_ctx *cx, const yaml_node_t *root, struct config *cfg)
{
    const yaml_node_pair_t *pair;
    size_t i;

    if (root->type != YAML_MAPPING_NODE)
        return config_error(cx, root, "expected a mapping at the top level, found %s",
                            config_node_kind(root));
    if (config_check_keys(cx, root, root_section.where) < 0)
        return -1;
    for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);

        if (config_find_key(&root_section, config_text(key)) == NULL)
            return config_error(cx, key, "unknown key \"%s\"%s", config_text(key), root_section.where);
    }

    config_set_defaults(cx, &root_section, cfg);
    for (i = 0; i < NKEYS(root_keys); i++) {
        const struct config_key *k = &root_keys[i];
        const yaml_node_t *value = config_lookup(cx, root, k->name, NULL);

        if (k->kind == KEY_INSTANCES) {
            if (value == NULL)
                return config_error(cx, root, "missing \"instances\": list at least one instance to archive");
            if (config_parse_instances(cx, value, cfg) < 0)
                return -1;
            continue;
        }
        if (value != NULL && config_apply(cx, k, value, cfg) < 0)
            return -1;
        if (k->offset == offsetof(struct config, lock_dir) && k->kind == KEY_STRING && cfg->lock_dir == NULL)
            cfg->lock_dir = config_dirname(cfg->index_path); /* the default: beside the index */
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------- */

/* A libyaml failure as "FILE:LINE:COLUMN: problem (context)". */
static int config_yaml_error(const char *name, const char *text, size_t len, const yaml_parser_t *parser,
                             struct err *e)
{
    const char *words;
    size_t line, column, i;

    if (parser->error == YAML_MEMORY_ERROR || parser->problem == NULL)
        return err_set(e, ERR_CONFIG, "%s: cannot parse: out of memory", name);
    if (parser->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        line = 1;
        column = 1;
        for (i = 0; i < parser->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        if (parser->problem_value != -1)
            return err_set(e, ERR_CONFIG, "%s:%zu:%zu: %s (byte 0x%02x)", name, line, column, parser->problem,
                           (unsigned)parser->problem_value);
        return err_set(e, ERR_CONFIG, "%s:%zu:%zu: %s", name, line, column, parser->problem);
    }
    /* our words first (yamlwords.c), libyaml's after them */
    words = yamlwords_explain(parser->problem, parser->context);
    if (words != NULL && parser->context != NULL)
        return err_set(e, ERR_CONFIG, "%s:%zu:%zu: %s (libyaml: %s %s at line %zu, column %zu)", name,
                       parser->problem_mark.line + 1, parser->problem_mark.column + 1, words, parser->problem,
                       parser->context, parser->context_mark.line + 1, parser->context_mark.column + 1);
    if (words != NULL)
        return err_set(e, ERR_CONFIG, "%s:%zu:%zu: %s (libyaml: %s)", name, parser->problem_mark.line + 1,
                       parser->problem_mark.column + 1, words, parser->problem);
    if (parser->context != NULL)
        return err_set(e, ERR_CONFIG, "%s:%zu:%zu: %s (%s at line %zu, column %zu)", name,
                       parser->problem_mark.line + 1, parser->problem_mark.column + 1, parser->problem,
                       parser->context, parser->context_mark.line + 1, parser->context_mark.column + 1);
    return err_set(e, ERR_CONFIG, "%s:%zu:%zu: %s", name, parser->problem_mark.line + 1,
                   parser->problem_mark.column + 1, parser->problem);
}

int config_parse(const char *name, const char *text, size_t len, struct config *cfg, struct err *e)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    struct config_ctx cx = {name, &doc, e};
    const yaml_node_t *root, *extra_root;
    int have_parser = 0, have_doc = 0, have_extra = 0;
    int ret = -1;

    memset(cfg, 0, sizeof(*cfg));
    cfg->path = xstrdup(name);
    if (!yaml_parser_initialize(&parser)) {
        err_set(e, ERR_CONFIG, "%s: cannot parse: out of memory", name);
        goto out;
    }
    have_parser = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        config_yaml_error(name, text, len, &parser, e);
        goto out;
    }
    have_doc = 1;
    root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        err_set(e, ERR_CONFIG,
                "%s:1:1: the configuration is empty: list at least one instance under \"instances\"", name);
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        config_yaml_error(name, text, len, &parser, e);
        goto out;
    }
    have_extra = 1;
    extra_root = yaml_document_get_root_node(&extra);
    if (extra_root != NULL) {
        err_set(e, ERR_CONFIG, "%s:%zu:%zu: expected one YAML document, found a second one", name,
                extra_root->start_mark.line + 1, extra_root->start_mark.column + 1);
        goto out;
    }
    ret = config_parse_root(&cx, root, cfg);
out:
    if (have_extra)
        yaml_document_delete(&extra);
    if (have_doc)
        yaml_document_delete(&doc);
    if (have_parser)
        yaml_parser_delete(&parser);
    if (ret < 0)
        config_free(cfg);
    return ret;
}

int config_load(const char *path, struct config *cfg, struct err *e)
{
    struct buf text = BUF_INIT;
    char chunk[8192];
    FILE *fp;
    size_t n;
    int ret = -1;

    memset(cfg, 0, sizeof(*cfg));
    fp = fopen(path, "r");
    if (fp == NULL) {
        err_sys(e, errno, "%s: cannot read", path);
        goto out;
    }
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), fp);
        if (n < sizeof(chunk) && ferror(fp)) {
            err_sys(e, errno, "%s: cannot read", path);
            goto out;
        }
        buf_append(&text, chunk, n);
        if (text.len > CONFIG_MAX_BYTES) {
            err_set(e, ERR_CONFIG, "%s: too large for a configuration file (over 1 MiB)", path);
            goto out;
        }
        if (n < sizeof(chunk))
            break;
    }
    ret = config_parse(path, text.data != NULL ? text.data : "", text.len, cfg, e);
out:
    if (fp != NULL)
        fclose(fp);
    buf_free(&text);
    return ret;
}

void config_free(struct config *cfg)
{
    int i;

    free(cfg->path);
    config_free_section(&root_section, cfg);
    config_instance_free(&cfg->defaults);
    for (i = 0; i < cfg->ninstances; i++)
        config_instance_free(&cfg->instances[i]);
    free(cfg->instances);
    memset(cfg, 0, sizeof(*cfg));
}

const struct instance_config *config_instance(const struct config *cfg, const char *name)
{
    int i;

    for (i = 0; i < cfg->ninstances; i++) {
        if (strcmp(cfg->instances[i].name, name) == 0)
            return &cfg->instances[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------------
 * Dump
 * ------------------------------------------------------------------- */

/* libyaml's emitter quotes whatever needs quoting; events after a failed
 * one are dropped. */
struct config_dumper {
    yaml_emitter_t emitter;
    int failed;
};

static void dump_emit(struct config_dumper *d, yaml_event_t *ev)
{
    if (d->failed) {
        yaml_event_delete(ev);
        return;
    }
    /* The emitter frees the event, also when it fails. */
    if (!yaml_emitter_emit(&d->emitter, ev))
        d->failed = 1;
}

static void dump_scalar_styled(struct config_dumper *d, const char *text, yaml_scalar_style_t style)
{
    yaml_event_t ev;

    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *)text, (int)strlen(text), 1, 1,
                                      style)) {
        d->failed = 1;
        return;
    }
    dump_emit(d, &ev);
}

static void dump_scalar(struct config_dumper *d, const char *text)
{
    dump_scalar_styled(d, text, YAML_ANY_SCALAR_STYLE);
}

static void dump_map_start(struct config_dumper *d)
{
    yaml_event_t ev;

    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)) {
        d->failed = 1;
        return;
    }
    dump_emit(d, &ev);
}

static void dump_map_end(struct config_dumper *d)
{
    yaml_event_t ev;

    if (!yaml_mapping_end_event_initialize(&ev)) {
        d->failed = 1;
        return;
    }
    dump_emit(d, &ev);
}

static void dump_pair(struct config_dumper *d, const char *key, const char *value)
{
    if (value == NULL)
        return;
    dump_scalar(d, key);
    dump_scalar(d, value);
}

static void dump_key(struct config_dumper *d, const char *key)
{
    dump_scalar(d, key);
}

static void dump_url(struct config_dumper *d, const char *key, const char *url)
{
    char *shown = config_redact_url(url);

    dump_pair(d, key, shown);
    free(shown);
}

/* The value of scalar key k of the struct at `base`, as it would be
 * written; nothing for a string that is not set. */
static void dump_value(struct config_dumper *d, const struct config_key *k, const void *base)
{
    const void *field = config_at_const(base, k);
    const char *s;
    char text[64];
    int64_t v = 0;
    int number = 0;

    if (k->kind == KEY_STRING) {
        memcpy(&s, field, sizeof(s));
        if (s != NULL && k->flags & KEY_REDACT)
            dump_url(d, k->name, s);
        else
            dump_pair(d, k->name, s);
        return;
    }
    if (k->kind == KEY_SIZE || k->kind == KEY_RATE || k->kind == KEY_DURATION_MS || k->kind == KEY_DURATION_S)
        memcpy(&v, field, sizeof(v));
    else
        memcpy(&number, field, sizeof(number));
    switch (k->kind) {
    case KEY_BOOL:
        snprintf(text, sizeof(text), "%s", number ? "true" : "false");
        break;
    case KEY_ENUM:
        snprintf(text, sizeof(text), "%s", k->values[number]);
        break;
    case KEY_DURATION_MS:
        units_format_duration_ms(v, text, sizeof(text));
        break;
    case KEY_DURATION_S:
        units_format_duration_ms(v * 1000, text, sizeof(text));
        break;
    case KEY_SIZE:
        units_format_size_exact(v, text, sizeof(text));
        break;
    case KEY_RATE:
        units_format_size_exact(v, text, sizeof(text));
        if (v != 0)
            snprintf(text + strlen(text), sizeof(text) - strlen(text), "/s");
        break;
    case KEY_LEVEL:
        snprintf(text, sizeof(text), "%d", number);
        break;
    case KEY_CLOCK:
        /* Quoted as in the documented example: to YAML 1.1 readers a
         * plain 00:00 is a number and a plain off is false. */
        if (number < 0)
            snprintf(text, sizeof(text), "off");
        else
            snprintf(text, sizeof(text), "%02d:%02d", number / 60, number % 60);
        dump_scalar(d, k->name);
        dump_scalar_styled(d, text, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
        return;
    case KEY_STRING:
    case KEY_SECTION:
    case KEY_DEFAULTS:
    case KEY_INSTANCES:
        return;
    }
    dump_pair(d, k->name, text);
}

/* A storage subsection is shown when the storage URL is of its scheme or
 * when any of its keys (strings and booleans) differs from the default. */
static int dump_section_shown(const struct config_section *s, const void *base, const char *url)
{
    size_t i;

    if (s->scheme != NULL && strncmp(url, s->scheme, strlen(s->scheme)) == 0)
        return 1;
    for (i = 0; i < s->nkeys; i++) {
        const struct config_key *k = &s->keys[i];
        const void *field = config_at_const(base, k);
        const char *text;
        int flag;

        if (k->kind == KEY_STRING) {
            memcpy(&text, field, sizeof(text));
            if (text != NULL && (k->def == NULL || strcmp(text, k->def) != 0))
                return 1;
        } else if (k->kind == KEY_BOOL) {
            memcpy(&flag, field, sizeof(flag));
            if (flag != (k->def != NULL && strcmp(k->def, "true") == 0))
                return 1;
        }
    }
    return 0;
}

/* A mapping of section s; its subsections where dump_section_shown(). */
static void dump_section(struct config_dumper *d, const struct config_section *s, const void *base,
                         const char *url)
{
    size_t i;

    dump_map_start(d);
    for (i = 0; i < s->nkeys; i++) {
        const struct config_key *k = &s->keys[i];

        if (k->kind != KEY_SECTION) {
            dump_value(d, k, base);
        } else if (dump_section_shown(k->section, config_at_const(base, k), url)) {
            dump_key(d, k->name);
            dump_section(d, k->section, config_at_const(base, k), url);
        }
    }
    dump_map_end(d);
}

/* One instance (or the defaults, which have no name or redis). */
static void dump_instance(struct config_dumper *d, const struct instance_config *ic, int is_defaults)
{
    size_t i;

    dump_map_start(d);
    for (i = 0; i < NKEYS(instance_keys); i++) {
        const struct config_key *k = &instance_keys[i];

        if (k->flags & KEY_INSTANCE_ONLY && is_defaults)
            continue;
        /* Snapshot settings are shown where they mean something, so that
         * the dump reads back as it is. */
        if (k->flags & KEY_RDB_ONLY && !is_defaults && ic->mode != MODE_RDB)
            continue;
        dump_value(d, k, ic);
    }
    dump_map_end(d);
}

void config_dump(const struct config *cfg, FILE *fp)
{
    struct config_dumper d;
    yaml_event_t ev;
    size_t i;
    int n;

    memset(&d, 0, sizeof(d));
    if (!yaml_emitter_initialize(&d.emitter))
        return;
    yaml_emitter_set_output_file(&d.emitter, fp);
    yaml_emitter_set_indent(&d.emitter, 2);
    yaml_emitter_set_width(&d.emitter, -1);
    yaml_emitter_set_unicode(&d.emitter, 1);

    if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
        dump_emit(&d, &ev);
    if (yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
        dump_emit(&d, &ev);
    dump_map_start(&d);
    for (i = 0; i < NKEYS(root_keys); i++) {
        const struct config_key *k = &root_keys[i];

        switch (k->kind) {
        case KEY_SECTION:
            dump_key(&d, k->name);
            dump_section(&d, k->section, config_at_const(cfg, k), cfg->storage_url);
            break;
        case KEY_DEFAULTS:
            dump_key(&d, k->name);
            dump_instance(&d, &cfg->defaults, 1);
            break;
        case KEY_INSTANCES:
            dump_key(&d, k->name);
            if (yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
                dump_emit(&d, &ev);
            for (n = 0; n < cfg->ninstances; n++)
                dump_instance(&d, &cfg->instances[n], 0);
            if (yaml_sequence_end_event_initialize(&ev))
                dump_emit(&d, &ev);
            break;
        default:
            dump_value(&d, k, cfg);
            break;
        }
    }
    dump_map_end(&d);
    if (yaml_document_end_event_initialize(&ev, 1))
        dump_emit(&d, &ev);
    if (yaml_stream_end_event_initialize(&ev))
        dump_emit(&d, &ev);
    yaml_emitter_flush(&d.emitter);
    yaml_emitter_delete(&d.emitter);
}

/* ---------------------------------------------------------------------
 * The key list of docs/config.md
 * ------------------------------------------------------------------- */

static const char *keys_kind_name(enum key_kind kind)
{
    switch (kind) {
    case KEY_STRING:
        return "string";
    case KEY_BOOL:
        return "bool";
    case KEY_SIZE:
        return "size";
    case KEY_RATE:
        return "rate";
    case KEY_DURATION_MS:
    case KEY_DURATION_S:
        return "duration";
    case KEY_LEVEL:
        return "int";
    case KEY_CLOCK:
        return "HH:MM";
    case KEY_ENUM:
        return "enum";
    case KEY_SECTION:
    case KEY_DEFAULTS:
        return "mapping";
    case KEY_INSTANCES:
        return "sequence";
    }
    return "";
}

/* What a key accepts, for the table: its range or its values. */
static void keys_accepted(const struct config_key *k, FILE *fp)
{
    size_t i;

    if (k->kind == KEY_ENUM) {
        for (i = 0; k->values[i] != NULL; i++)
            fprintf(fp, "%s`%s`", i == 0 ? "" : ", ", k->values[i]);
    } else if (k->kind == KEY_BOOL) {
        fputs("`true`, `false`", fp);
    } else if (k->kind == KEY_CLOCK) {
        fputs("`00:00` to `23:59`, `off`", fp);
    } else if (k->range != NULL) {
        fputs(k->range, fp);
    }
}

static void keys_section(const struct config_section *s, const char *title, FILE *fp)
{
    size_t i;

    fprintf(fp, "### %s\n\n| key | type | default | accepted | meaning |\n| --- | --- | --- | --- | --- |\n",
            title);
    for (i = 0; i < s->nkeys; i++) {
        const struct config_key *k = &s->keys[i];

        fprintf(fp, "| `%s` | %s | ", k->name, keys_kind_name(k->kind));
        if (k->def != NULL)
            fprintf(fp, "`%s`", k->def);
        fputs(" | ", fp);
        keys_accepted(k, fp);
        fprintf(fp, " | %s |\n", k->help);
    }
    fputc('\n', fp);
}

/* Each section's table, the sections after the one that holds them. */
static void keys_sections(const struct config_section *s, FILE *fp)
{
    size_t i;

    for (i = 0; i < s->nkeys; i++) {
        const struct config_key *k = &s->keys[i];
        char title[64];

        if (k->kind != KEY_SECTION)
            continue;
        snprintf(title, sizeof(title), "`%s`", k->section->path);
        keys_section(k->section, title, fp);
        keys_sections(k->section, fp);
    }
}

void config_keys_markdown(FILE *fp)
{
    keys_section(&root_section, "The top level", fp);
    keys_sections(&root_section, fp);
    keys_section(&defaults_section, "`defaults` and each of `instances`", fp);
}
