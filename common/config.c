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
 * `defaults:` mapping, then each instance's own keys. All instance keys are
 * described once in `instance_fields` below; the parser, the defaults
 * layer and config_dump() all walk that table.
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

#define DEFAULT_STORAGE_URL "file:///var/lib/aofroll/archive"
#define DEFAULT_INDEX_PATH "/var/lib/aofroll/index.db"
#define DEFAULT_S3_REGION "us-east-1"
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

static int config_bool(struct config_ctx *cx, const yaml_node_t *value, const char *key, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    const char *text = NULL;
    size_t i;

    if (config_scalar(cx, value, key, &text) < 0)
        return -1;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return config_error(cx, value, "invalid %s \"%s\": expected true or false", key, text);
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
 * Instance keys
 * ------------------------------------------------------------------- */

enum field_kind {
    FIELD_MODE,        /* enum instance_mode: aof | rdb */
    FIELD_DURATION_MS, /* int64_t milliseconds */
    FIELD_DURATION_S,  /* int64_t seconds, written as a duration */
    FIELD_SIZE,        /* int64_t bytes */
    FIELD_RATE,        /* int64_t bytes per second; 0 = unlimited */
    FIELD_LEVEL,       /* int zlib level */
    FIELD_CLOCK,       /* int minutes after midnight, or -1 for "off" */
    FIELD_PATH,        /* char * */
    FIELD_PRIORITY     /* enum instance_priority: idle | low | normal */
};

struct instance_field {
    const char *key;
    enum field_kind kind;
    size_t offset;     /* in struct instance_config */
    int64_t min, max;  /* numeric kinds, in the field's own unit */
    int zero_ok;       /* 0 is valid besides [min, max] */
    const char *range; /* for messages: "expected <range>" */
    int rdb_only;      /* meaningful for mode rdb only */
};

#define I_OFF(f) offsetof(struct instance_config, f)

/* Values of "priority", indexed by enum instance_priority. */
static const char *const config_priority_names[] = {"idle", "low", "normal"};

static const struct instance_field instance_fields[] = {
    {"mode", FIELD_MODE, I_OFF(mode), 0, 0, 0, NULL, 0},
    {"poll_interval", FIELD_DURATION_MS, I_OFF(poll_interval_ms), 10, 3600 * 1000, 0, "10ms to 1h", 0},
    {"chunk_size", FIELD_SIZE, I_OFF(chunk_size), 4 * 1024, INT64_C(1) << 30, 0, "4KiB to 1GiB", 0},
    {"chunk_pause", FIELD_DURATION_MS, I_OFF(chunk_pause_ms), 0, 3600 * 1000, 0, "0 to 1h", 0},
    {"max_rate", FIELD_RATE, I_OFF(max_rate), 64 * 1024, INT64_MAX, 1, "0 (unlimited) or at least 64KiB/s",
     0},
    {"compression", FIELD_LEVEL, I_OFF(compression), 0, 9, 0, "0 to 9", 0},
    {"barrier", FIELD_CLOCK, I_OFF(barrier_minute), 0, 0, 0, NULL, 0},
    {"barrier_max_lag", FIELD_DURATION_S, I_OFF(barrier_max_lag_s), 1, 86400, 0, "1s to 1d", 0},
    {"barrier_timeout", FIELD_DURATION_S, I_OFF(barrier_timeout_s), 1, 7 * 86400, 0, "1s to 7d", 0},
    {"retention", FIELD_DURATION_S, I_OFF(retention_s), 60, INT64_MAX / 1000, 0, "at least 1m", 0},
    {"lag_threshold", FIELD_SIZE, I_OFF(lag_threshold), 0, INT64_MAX, 0, NULL, 0},
    {"metrics_file", FIELD_PATH, I_OFF(metrics_file), 0, 0, 0, NULL, 0},
    {"priority", FIELD_PRIORITY, I_OFF(priority), 0, 0, 0, NULL, 0},
    {"snapshot_interval", FIELD_DURATION_S, I_OFF(snapshot_interval_s), 0, INT64_MAX / 1000, 0, NULL, 1},
    {"snapshot_at", FIELD_CLOCK, I_OFF(snapshot_minute), 0, 0, 0, NULL, 1},
};

#define N_INSTANCE_FIELDS (sizeof(instance_fields) / sizeof(instance_fields[0]))

static const struct instance_field *config_find_field(const char *key)
{
    size_t i;

    for (i = 0; i < N_INSTANCE_FIELDS; i++) {
        if (strcmp(instance_fields[i].key, key) == 0)
            return &instance_fields[i];
    }
    return NULL;
}

static void config_instance_defaults(struct instance_config *ic)
{
    memset(ic, 0, sizeof(*ic));
    ic->mode = MODE_AOF;
    ic->poll_interval_ms = 1000;
    ic->chunk_size = 4 * 1024 * 1024;
    ic->chunk_pause_ms = 100;
    ic->max_rate = 32 * 1024 * 1024;
    ic->compression = 1;
    ic->barrier_minute = 0;
    ic->barrier_max_lag_s = 60;
    ic->barrier_timeout_s = 3600;
    ic->retention_s = 7 * 86400;
    ic->lag_threshold = 0;
    ic->snapshot_interval_s = 0;
    ic->snapshot_minute = -1;
    ic->priority = PRIORITY_IDLE;
}

static void config_instance_free(struct instance_config *ic)
{
    free(ic->name);
    free(ic->redis_url);
    redis_addr_free(&ic->redis);
    free(ic->metrics_file);
    memset(ic, 0, sizeof(*ic));
}

/* Check a parsed number against the field's range. */
static int config_check_range(struct config_ctx *cx, const struct instance_field *f, const yaml_node_t *value,
                              int64_t v)
{
    if (f->range == NULL || (f->zero_ok && v == 0) || (v >= f->min && v <= f->max))
        return 0;
    return config_error(cx, value, "%s \"%s\" is out of range: expected %s", f->key, config_text(value),
                        f->range);
}

/* Parse `value` for the field `f` into `ic`. */
static int config_apply_field(struct config_ctx *cx, const struct instance_field *f, const yaml_node_t *value,
                              struct instance_config *ic)
{
    char *base = (char *)ic;
    const char *text = NULL;
    int64_t v = 0;
    int minutes;

    if (config_scalar(cx, value, f->key, &text) < 0)
        return -1;
    switch (f->kind) {
    case FIELD_MODE:
        if (strcmp(text, "aof") == 0)
            ic->mode = MODE_AOF;
        else if (strcmp(text, "rdb") == 0)
            ic->mode = MODE_RDB;
        else
            return config_error(cx, value, "invalid mode \"%s\": expected aof or rdb", text);
        return 0;
    case FIELD_DURATION_MS:
    case FIELD_DURATION_S:
        if (units_parse_duration_ms(text, &v, cx->e) < 0)
            return config_locate(cx, value);
        if (f->kind == FIELD_DURATION_S) {
            if (v % 1000 != 0)
                return config_error(cx, value, "%s \"%s\" is not a whole number of seconds", f->key, text);
            v /= 1000;
        }
        break;
    case FIELD_SIZE:
        if (units_parse_size(text, &v, cx->e) < 0)
            return config_locate(cx, value);
        break;
    case FIELD_RATE:
        if (units_parse_rate(text, &v, cx->e) < 0)
            return config_locate(cx, value);
        break;
    case FIELD_LEVEL:
        if (strlen(text) != 1 || text[0] < '0' || text[0] > '9')
            return config_error(cx, value, "invalid %s \"%s\": expected a zlib level from 0 to 9", f->key,
                                text);
        *(int *)(void *)(base + f->offset) = text[0] - '0';
        return 0;
    case FIELD_CLOCK:
        if (strcmp(text, "off") == 0) {
            minutes = -1;
        } else if (units_parse_clock(text, &minutes, cx->e) < 0) {
            err_set(cx->e, ERR_CONFIG, "invalid %s \"%s\": expected HH:MM from 00:00 to 23:59, or off",
                    f->key, text);
            return config_locate(cx, value);
        }
        *(int *)(void *)(base + f->offset) = minutes;
        return 0;
    case FIELD_PATH:
        return config_string(cx, value, f->key, (char **)(void *)(base + f->offset));
    case FIELD_PRIORITY:
        for (int p = PRIORITY_IDLE; p <= PRIORITY_NORMAL; p++) {
            if (strcmp(text, config_priority_names[p]) == 0) {
                ic->priority = (enum instance_priority)p;
                return 0;
            }
        }
        return config_error(cx, value, "invalid priority \"%s\": expected idle, low or normal", text);
    }
    if (config_check_range(cx, f, value, v) < 0)
        return -1;
    *(int64_t *)(void *)(base + f->offset) = v;
    return 0;
}

/* ---------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------- */

static int config_parse_defaults(struct config_ctx *cx, const yaml_node_t *map,
                                 struct instance_config *defaults)
{
    const yaml_node_pair_t *pair;

    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for \"defaults\"");
    if (config_check_keys(cx, map, " in \"defaults\"") < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const struct instance_field *f = config_find_field(config_text(key));

        if (config_key_is(key, "name") || config_key_is(key, "redis"))
            return config_error(cx, key, "\"%s\" is not allowed in \"defaults\": set it in each instance",
                                config_text(key));
        if (f == NULL)
            return config_error(cx, key, "unknown key \"%s\" in \"defaults\"", config_text(key));
        if (config_apply_field(cx, f, config_node(cx, pair->value), defaults) < 0)
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

    *ic = *defaults;
    ic->metrics_file = defaults->metrics_file != NULL ? xstrdup(defaults->metrics_file) : NULL;
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
        const struct instance_field *f;

        if (config_key_is(key, "name") || config_key_is(key, "redis"))
            continue;
        f = config_find_field(config_text(key));
        if (f == NULL)
            return config_error(cx, key, "unknown key \"%s\"%s", config_text(key), where);
        if (config_apply_field(cx, f, config_node(cx, pair->value), ic) < 0)
            return -1;
        if (f->kind == FIELD_MODE)
            mode_value = config_node(cx, pair->value);
    }

    /* Snapshot settings belong to mode rdb, and mode rdb needs one. */
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const struct instance_field *f = config_find_field(config_text(key));

        if (f != NULL && f->rdb_only && ic->mode != MODE_RDB)
            return config_error(cx, key, "\"%s\" applies only to mode rdb, and instance \"%s\" has mode aof",
                                f->key, ic->name);
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

static int config_parse_s3(struct config_ctx *cx, const yaml_node_t *map, struct s3_config *s3)
{
    const yaml_node_pair_t *pair;

    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for \"s3\"");
    if (config_check_keys(cx, map, " in \"storage.s3\"") < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const yaml_node_t *value = config_node(cx, pair->value);
        const char *k = config_text(key);
        int ret;

        if (strcmp(k, "endpoint") == 0)
            ret = config_string(cx, value, k, &s3->endpoint);
        else if (strcmp(k, "region") == 0)
            ret = config_string(cx, value, k, &s3->region);
        else if (strcmp(k, "path_style") == 0)
            ret = config_bool(cx, value, k, &s3->path_style);
        else if (strcmp(k, "storage_class") == 0)
            ret = config_string(cx, value, k, &s3->storage_class);
        else if (strcmp(k, "sse") == 0)
            ret = config_string(cx, value, k, &s3->sse);
        else if (strcmp(k, "credentials_file") == 0)
            ret = config_string(cx, value, k, &s3->credentials_file);
        else if (strcmp(k, "ca_bundle") == 0)
            ret = config_string(cx, value, k, &s3->ca_bundle);
        else if (strcmp(k, "sts_endpoint") == 0)
            ret = config_string(cx, value, k, &s3->sts_endpoint);
        else
            ret = config_error(cx, key, "unknown key \"%s\" in \"storage.s3\"", k);
        if (ret < 0)
            return -1;
    }
    return 0;
}

static int config_parse_sftp(struct config_ctx *cx, const yaml_node_t *map, struct sftp_config *sftp)
{
    const yaml_node_pair_t *pair;

    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for \"sftp\"");
    if (config_check_keys(cx, map, " in \"storage.sftp\"") < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const yaml_node_t *value = config_node(cx, pair->value);
        const char *k = config_text(key);
        int ret;

        if (strcmp(k, "private_key") == 0)
            ret = config_string(cx, value, k, &sftp->private_key);
        else if (strcmp(k, "public_key") == 0)
            ret = config_string(cx, value, k, &sftp->public_key);
        else if (strcmp(k, "known_hosts") == 0)
            ret = config_string(cx, value, k, &sftp->known_hosts);
        else if (strcmp(k, "host_key_sha256") == 0)
            ret = config_string(cx, value, k, &sftp->host_key_sha256);
        else
            ret = config_error(cx, key, "unknown key \"%s\" in \"storage.sftp\"", k);
        if (ret < 0)
            return -1;
    }
    return 0;
}

static int config_parse_azure(struct config_ctx *cx, const yaml_node_t *map, struct azure_config *az)
{
    const yaml_node_pair_t *pair;

    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for \"azure\"");
    if (config_check_keys(cx, map, " in \"storage.azure\"") < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const yaml_node_t *value = config_node(cx, pair->value);
        const char *k = config_text(key);
        int ret;

        if (strcmp(k, "endpoint") == 0)
            ret = config_string(cx, value, k, &az->endpoint);
        else if (strcmp(k, "sas_token_file") == 0)
            ret = config_string(cx, value, k, &az->sas_token_file);
        else if (strcmp(k, "ca_bundle") == 0)
            ret = config_string(cx, value, k, &az->ca_bundle);
        else
            ret = config_error(cx, key, "unknown key \"%s\" in \"storage.azure\"", k);
        if (ret < 0)
            return -1;
    }
    return 0;
}

static int config_parse_encryption(struct config_ctx *cx, const yaml_node_t *map,
                                   struct encryption_config *enc)
{
    const yaml_node_pair_t *pair;

    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for \"encryption\"");
    if (config_check_keys(cx, map, " in \"storage.encryption\"") < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const yaml_node_t *value = config_node(cx, pair->value);
        const char *k = config_text(key);
        int ret;

        if (strcmp(k, "key_file") == 0)
            ret = config_string(cx, value, k, &enc->key_file);
        else
            ret = config_error(cx, key, "unknown key \"%s\" in \"storage.encryption\"", k);
        if (ret < 0)
            return -1;
    }
    return 0;
}

static int config_parse_storage(struct config_ctx *cx, const yaml_node_t *map, struct config *cfg)
{
    const yaml_node_pair_t *pair;

    if (map->type != YAML_MAPPING_NODE)
        return config_error(cx, map, "expected a mapping for \"storage\"");
    if (config_check_keys(cx, map, " in \"storage\"") < 0)
        return -1;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);
        const yaml_node_t *value = config_node(cx, pair->value);
        const char *k = config_text(key);
        int ret;

        if (strcmp(k, "url") == 0) {
            ret = config_string(cx, value, k, &cfg->storage_url);
            if (ret == 0)
                ret = config_check_storage_url(cx, value, cfg->storage_url);
        } else if (strcmp(k, "s3") == 0)
            ret = config_parse_s3(cx, value, &cfg->s3);
        else if (strcmp(k, "sftp") == 0)
            ret = config_parse_sftp(cx, value, &cfg->sftp);
        else if (strcmp(k, "azure") == 0)
            ret = config_parse_azure(cx, value, &cfg->azure);
        else if (strcmp(k, "encryption") == 0)
            ret = config_parse_encryption(cx, value, &cfg->encryption);
        else
            ret = config_error(cx, key, "unknown key \"%s\" in \"storage\"", k);
        if (ret < 0)
            return -1;
    }
    return 0;
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

/* The top-level mapping. */
static int config_parse_root(struct config_ctx *cx, const yaml_node_t *root, struct config *cfg)
{
    static const char *const keys[] = {"storage",  "index",      "lock_dir",
                                       "log_file", "log_format", "index_upload_interval",
                                       "defaults", "instances"};
    const yaml_node_t *value;
    const yaml_node_pair_t *pair;
    int64_t ms;
    const char *text = NULL;
    size_t i;

    if (root->type != YAML_MAPPING_NODE)
        return config_error(cx, root, "expected a mapping at the top level, found %s",
                            config_node_kind(root));
    if (config_check_keys(cx, root, "") < 0)
        return -1;
    for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        const yaml_node_t *key = config_node(cx, pair->key);

        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (config_key_is(key, keys[i]))
                break;
        }
        if (i == sizeof(keys) / sizeof(keys[0]))
            return config_error(cx, key, "unknown key \"%s\"", config_text(key));
    }

    cfg->storage_url = xstrdup(DEFAULT_STORAGE_URL);
    cfg->s3.region = xstrdup(DEFAULT_S3_REGION);
    cfg->index_path = xstrdup(DEFAULT_INDEX_PATH);
    cfg->index_upload_interval_s = 300;
    config_instance_defaults(&cfg->defaults);

    value = config_lookup(cx, root, "storage", NULL);
    if (value != NULL && config_parse_storage(cx, value, cfg) < 0)
        return -1;
    value = config_lookup(cx, root, "index", NULL);
    if (value != NULL && config_string(cx, value, "index", &cfg->index_path) < 0)
        return -1;
    value = config_lookup(cx, root, "lock_dir", NULL);
    if (value != NULL && config_string(cx, value, "lock_dir", &cfg->lock_dir) < 0)
        return -1;
    if (cfg->lock_dir == NULL)
        cfg->lock_dir = config_dirname(cfg->index_path);
    value = config_lookup(cx, root, "log_file", NULL);
    if (value != NULL && config_string(cx, value, "log_file", &cfg->log_file) < 0)
        return -1;
    value = config_lookup(cx, root, "log_format", NULL);
    if (value != NULL) {
        if (config_scalar(cx, value, "log_format", &text) < 0)
            return -1;
        if (strcmp(text, "json") != 0 && strcmp(text, "text") != 0)
            return config_error(cx, value, "log_format \"%s\": expected text or json", text);
        cfg->log_json = strcmp(text, "json") == 0;
    }
    value = config_lookup(cx, root, "index_upload_interval", NULL);
    if (value != NULL) {
        if (config_scalar(cx, value, "index_upload_interval", &text) < 0)
            return -1;
        if (units_parse_duration_ms(text, &ms, cx->e) < 0)
            return config_locate(cx, value);
        if (ms % 1000 != 0)
            return config_error(cx, value, "index_upload_interval \"%s\" is not a whole number of seconds",
                                text);
        if (ms < 1000)
            return config_error(cx, value,
                                "index_upload_interval \"%s\" is out of range: expected at least 1s", text);
        cfg->index_upload_interval_s = ms / 1000;
    }
    value = config_lookup(cx, root, "defaults", NULL);
    if (value != NULL && config_parse_defaults(cx, value, &cfg->defaults) < 0)
        return -1;
    value = config_lookup(cx, root, "instances", NULL);
    if (value == NULL)
        return config_error(cx, root, "missing \"instances\": list at least one instance to archive");
    return config_parse_instances(cx, value, cfg);
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
    free(cfg->encryption.key_file);
    free(cfg->sftp.private_key);
    free(cfg->sftp.public_key);
    free(cfg->sftp.known_hosts);
    free(cfg->sftp.host_key_sha256);
    free(cfg->index_path);
    free(cfg->lock_dir);
    free(cfg->log_file);
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

/* One instance (or the defaults, which have no name or redis). */
static void dump_instance(struct config_dumper *d, const struct instance_config *ic, int is_defaults)
{
    const char *base = (const char *)ic;
    char text[64];
    size_t i;

    dump_map_start(d);
    if (!is_defaults) {
        dump_pair(d, "name", ic->name);
        dump_url(d, "redis", ic->redis_url);
    }
    for (i = 0; i < N_INSTANCE_FIELDS; i++) {
        const struct instance_field *f = &instance_fields[i];
        const void *field = base + f->offset;
        int64_t v = 0;
        int number;

        /* Snapshot settings are shown where they mean something, so that
         * the dump reads back as it is. */
        if (f->rdb_only && !is_defaults && ic->mode != MODE_RDB)
            continue;
        switch (f->kind) {
        case FIELD_MODE:
            snprintf(text, sizeof(text), "%s", ic->mode == MODE_RDB ? "rdb" : "aof");
            break;
        case FIELD_PRIORITY:
            snprintf(text, sizeof(text), "%s", config_priority_names[ic->priority]);
            break;
        case FIELD_DURATION_MS:
            memcpy(&v, field, sizeof(v));
            units_format_duration_ms(v, text, sizeof(text));
            break;
        case FIELD_DURATION_S:
            memcpy(&v, field, sizeof(v));
            units_format_duration_ms(v * 1000, text, sizeof(text));
            break;
        case FIELD_SIZE:
            memcpy(&v, field, sizeof(v));
            units_format_size_exact(v, text, sizeof(text));
            break;
        case FIELD_RATE:
            memcpy(&v, field, sizeof(v));
            units_format_size_exact(v, text, sizeof(text));
            if (v != 0)
                snprintf(text + strlen(text), sizeof(text) - strlen(text), "/s");
            break;
        case FIELD_LEVEL:
            memcpy(&number, field, sizeof(number));
            snprintf(text, sizeof(text), "%d", number);
            break;
        case FIELD_CLOCK:
            /* Quoted as in DESIGN.md: to YAML 1.1 readers a plain 00:00
             * is a number and a plain off is false. */
            memcpy(&number, field, sizeof(number));
            if (number < 0)
                snprintf(text, sizeof(text), "off");
            else
                snprintf(text, sizeof(text), "%02d:%02d", number / 60, number % 60);
            dump_scalar(d, f->key);
            dump_scalar_styled(d, text, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
            continue;
        case FIELD_PATH: {
            const char *path;

            memcpy(&path, field, sizeof(path));
            dump_pair(d, f->key, path);
            continue;
        }
        }
        dump_pair(d, f->key, text);
    }
    dump_map_end(d);
}

void config_dump(const struct config *cfg, FILE *fp)
{
    struct config_dumper d;
    yaml_event_t ev;
    char text[64];
    int i;

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

    dump_key(&d, "storage");
    dump_map_start(&d);
    dump_url(&d, "url", cfg->storage_url);
    if (strncmp(cfg->storage_url, "s3://", 5) == 0 || cfg->s3.endpoint != NULL || cfg->s3.path_style ||
        cfg->s3.storage_class != NULL || cfg->s3.sse != NULL || cfg->s3.credentials_file != NULL ||
        cfg->s3.ca_bundle != NULL || cfg->s3.sts_endpoint != NULL ||
        strcmp(cfg->s3.region, DEFAULT_S3_REGION) != 0) {
        dump_key(&d, "s3");
        dump_map_start(&d);
        dump_pair(&d, "endpoint", cfg->s3.endpoint);
        dump_pair(&d, "region", cfg->s3.region);
        dump_pair(&d, "path_style", cfg->s3.path_style ? "true" : "false");
        dump_pair(&d, "storage_class", cfg->s3.storage_class);
        dump_pair(&d, "sse", cfg->s3.sse);
        dump_pair(&d, "credentials_file", cfg->s3.credentials_file);
        dump_pair(&d, "ca_bundle", cfg->s3.ca_bundle);
        dump_pair(&d, "sts_endpoint", cfg->s3.sts_endpoint);
        dump_map_end(&d);
    }
    if (strncmp(cfg->storage_url, "azure://", 8) == 0 || cfg->azure.endpoint != NULL ||
        cfg->azure.sas_token_file != NULL || cfg->azure.ca_bundle != NULL) {
        dump_key(&d, "azure");
        dump_map_start(&d);
        dump_pair(&d, "endpoint", cfg->azure.endpoint);
        dump_pair(&d, "sas_token_file", cfg->azure.sas_token_file);
        dump_pair(&d, "ca_bundle", cfg->azure.ca_bundle);
        dump_map_end(&d);
    }
    if (cfg->sftp.private_key != NULL || cfg->sftp.public_key != NULL || cfg->sftp.known_hosts != NULL ||
        cfg->sftp.host_key_sha256 != NULL) {
        dump_key(&d, "sftp");
        dump_map_start(&d);
        dump_pair(&d, "private_key", cfg->sftp.private_key);
        dump_pair(&d, "public_key", cfg->sftp.public_key);
        dump_pair(&d, "known_hosts", cfg->sftp.known_hosts);
        dump_pair(&d, "host_key_sha256", cfg->sftp.host_key_sha256);
        dump_map_end(&d);
    }
    if (cfg->encryption.key_file != NULL) {
        dump_key(&d, "encryption");
        dump_map_start(&d);
        dump_pair(&d, "key_file", cfg->encryption.key_file);
        dump_map_end(&d);
    }
    dump_map_end(&d);

    dump_pair(&d, "index", cfg->index_path);
    dump_pair(&d, "lock_dir", cfg->lock_dir);
    dump_pair(&d, "log_file", cfg->log_file);
    if (cfg->log_json)
        dump_pair(&d, "log_format", "json");
    units_format_duration_ms(cfg->index_upload_interval_s * 1000, text, sizeof(text));
    dump_pair(&d, "index_upload_interval", text);
    dump_key(&d, "defaults");
    dump_instance(&d, &cfg->defaults, 1);
    dump_key(&d, "instances");
    if (yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
        dump_emit(&d, &ev);
    for (i = 0; i < cfg->ninstances; i++)
        dump_instance(&d, &cfg->instances[i], 0);
    if (yaml_sequence_end_event_initialize(&ev))
        dump_emit(&d, &ev);

    dump_map_end(&d);
    if (yaml_document_end_event_initialize(&ev, 1))
        dump_emit(&d, &ev);
    if (yaml_stream_end_event_initialize(&ev))
        dump_emit(&d, &ev);
    yaml_emitter_flush(&d.emitter);
    yaml_emitter_delete(&d.emitter);
}
