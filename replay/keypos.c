/* keypos.c - key positions of Redis commands and Redis glob matching
 * (see keypos.h).
 *
 * The table mirrors the key specs of Redis 7's commands.def for the
 * commands that reach an AOF (plus common read commands, so that the module
 * does not surprise anyone who feeds it other traffic). It is kept sorted
 * by name and searched with bsearch(). */
#include "keypos.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aofscan.h"
#include "xalloc.h"

enum keypos_kind {
    KP_NONE,    /* no keys at all */
    KP_RANGE,   /* argv[first..last] every step; last < 0 counts from the end */
    KP_NUMKEYS, /* optional key at `first`, then argv[numkeys_at] keys after numkeys_at */
    KP_STORE    /* argv[1], and the argument after a STORE/STOREDIST option */
};

struct keypos_spec {
    const char *name;
    enum keypos_kind kind;
    int first, last, step;
    int numkeys_at;
};

#define NONE(n)                                                                                              \
    {                                                                                                        \
        n, KP_NONE, 0, 0, 0, 0                                                                               \
    }
#define RANGE(n, f, l, s)                                                                                    \
    {                                                                                                        \
        n, KP_RANGE, f, l, s, 0                                                                              \
    }
#define NUMKEYS(n, f, at)                                                                                    \
    {                                                                                                        \
        n, KP_NUMKEYS, f, 0, 0, at                                                                           \
    }
#define STORE(n)                                                                                             \
    {                                                                                                        \
        n, KP_STORE, 1, 1, 1, 0                                                                              \
    }

/* Sorted by name (lower case, byte order). */
static const struct keypos_spec keypos_table[] = {
    NONE("auth"),
    NONE("bgrewriteaof"),
    NONE("bgsave"),
    RANGE("bitop", 2, -1, 1),
    RANGE("blmove", 1, 2, 1),
    NUMKEYS("blmpop", 0, 2),
    RANGE("blpop", 1, -2, 1),
    RANGE("brpop", 1, -2, 1),
    RANGE("brpoplpush", 1, 2, 1),
    NUMKEYS("bzmpop", 0, 2),
    RANGE("bzpopmax", 1, -2, 1),
    RANGE("bzpopmin", 1, -2, 1),
    NONE("client"),
    NONE("config"),
    RANGE("copy", 1, 2, 1),
    NONE("dbsize"),
    NONE("debug"),
    RANGE("del", 1, -1, 1),
    NONE("discard"),
    NONE("echo"),
    NUMKEYS("eval", 0, 2),
    NUMKEYS("eval_ro", 0, 2),
    NUMKEYS("evalsha", 0, 2),
    NUMKEYS("evalsha_ro", 0, 2),
    NONE("exec"),
    RANGE("exists", 1, -1, 1),
    NUMKEYS("fcall", 0, 2),
    NUMKEYS("fcall_ro", 0, 2),
    NONE("flushall"),
    NONE("flushdb"),
    NONE("function"),
    STORE("georadius"),
    STORE("georadiusbymember"),
    RANGE("geosearchstore", 1, 2, 1),
    NONE("hello"),
    NONE("info"),
    NONE("lastsave"),
    RANGE("lmove", 1, 2, 1),
    NUMKEYS("lmpop", 0, 1),
    RANGE("mget", 1, -1, 1),
    RANGE("mset", 1, -1, 2),
    RANGE("msetnx", 1, -1, 2),
    NONE("multi"),
    RANGE("pfcount", 1, -1, 1),
    RANGE("pfmerge", 1, -1, 1),
    NONE("ping"),
    NONE("publish"),
    NONE("readonly"),
    NONE("readwrite"),
    RANGE("rename", 1, 2, 1),
    RANGE("renamenx", 1, 2, 1),
    NONE("replicaof"),
    RANGE("rpoplpush", 1, 2, 1),
    NONE("save"),
    NONE("script"),
    RANGE("sdiff", 1, -1, 1),
    RANGE("sdiffstore", 1, -1, 1),
    NONE("select"),
    NONE("shutdown"),
    RANGE("sinter", 1, -1, 1),
    NUMKEYS("sintercard", 0, 1),
    RANGE("sinterstore", 1, -1, 1),
    NONE("slaveof"),
    RANGE("smove", 1, 2, 1),
    STORE("sort"),
    STORE("sort_ro"),
    NONE("spublish"),
    RANGE("sunion", 1, -1, 1),
    RANGE("sunionstore", 1, -1, 1),
    NONE("swapdb"),
    NONE("time"),
    RANGE("touch", 1, -1, 1),
    RANGE("unlink", 1, -1, 1),
    NONE("wait"),
    RANGE("watch", 1, -1, 1),
    RANGE("xgroup", 2, 2, 1),
    RANGE("xinfo", 2, 2, 1),
    NUMKEYS("zdiff", 0, 1),
    NUMKEYS("zdiffstore", 1, 2),
    NUMKEYS("zinter", 0, 1),
    NUMKEYS("zintercard", 0, 1),
    NUMKEYS("zinterstore", 1, 2),
    NUMKEYS("zmpop", 0, 1),
    RANGE("zrangestore", 1, 2, 1),
    NUMKEYS("zunion", 0, 1),
    NUMKEYS("zunionstore", 1, 2),
};

struct keypos_name {
    const char *p;
    size_t len;
};

static int keypos_cmp(const void *key, const void *elem)
{
    const struct keypos_name *n = key;
    const struct keypos_spec *s = elem;
    size_t slen = strlen(s->name);
    size_t common = n->len < slen ? n->len : slen;
    int c = strncasecmp(n->p, s->name, common);

    if (c != 0)
        return c;
    return n->len < slen ? -1 : n->len > slen ? 1 : 0;
}

static const struct keypos_spec *keypos_lookup(const char *name, size_t len)
{
    struct keypos_name n = {name, len};

    if (memchr(name, '\0', len) != NULL)
        return NULL;
    return bsearch(&n, keypos_table, sizeof(keypos_table) / sizeof(keypos_table[0]), sizeof(keypos_table[0]),
                   keypos_cmp);
}

/* A non-negative decimal argument (numkeys), or -1. */
static long keypos_parse_count(const struct aofscan_arg *a)
{
    long v = 0;
    size_t i;

    if (a->len == 0 || a->len > 9)
        return -1;
    for (i = 0; i < a->len; i++) {
        if (a->p[i] < '0' || a->p[i] > '9')
            return -1;
        v = v * 10 + (a->p[i] - '0');
    }
    return v;
}

static void keypos_add(long *idx, size_t max, size_t *n, long i)
{
    if (*n < max)
        idx[*n] = i;
    (*n)++;
}

size_t keypos_keys(const struct aofscan_arg *argv, long argc, long *idx, size_t max)
{
    const struct keypos_spec *s;
    size_t n = 0;
    long i, last, count;

    if (argc < 1)
        return 0;
    s = keypos_lookup(argv[0].p, argv[0].len);
    if (s == NULL) {
        if (argc > 1)
            keypos_add(idx, max, &n, 1);
        return n;
    }
    switch (s->kind) {
    case KP_NONE:
        break;
    case KP_RANGE:
        last = s->last >= 0 ? s->last : argc + s->last;
        for (i = s->first; i <= last && i < argc; i += s->step)
            keypos_add(idx, max, &n, i);
        break;
    case KP_NUMKEYS:
        if (s->first > 0 && s->first < argc)
            keypos_add(idx, max, &n, s->first);
        if (s->numkeys_at >= argc)
            break;
        count = keypos_parse_count(&argv[s->numkeys_at]);
        for (i = s->numkeys_at + 1; count > 0 && i < argc; i++, count--)
            keypos_add(idx, max, &n, i);
        break;
    case KP_STORE:
        if (argc > 1)
            keypos_add(idx, max, &n, 1);
        for (i = 2; i + 1 < argc; i++) {
            if ((argv[i].len == 5 && strncasecmp(argv[i].p, "store", 5) == 0) ||
                (argv[i].len == 9 && strncasecmp(argv[i].p, "storedist", 9) == 0)) {
                keypos_add(idx, max, &n, i + 1);
                i++;
            }
        }
        break;
    }
    return n;
}

/* ------------------------------------------------------------------------
 * Globs: Redis's stringmatchlen() rules, matched iteratively (a '*' only
 * remembers where to resume, so there is no recursion to bound).
 * ------------------------------------------------------------------------ */

static unsigned char keypos_fold(unsigned char c, int nocase)
{
    if (nocase && c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A' + 'a');
    return c;
}

/* Match one pattern element at p[0..plen) (plen > 0, p[0] != '*') against
 * the byte c. Sets *used to the pattern bytes the element takes. */
static int keypos_match_one(const unsigned char *p, size_t plen, unsigned char c, int nocase, size_t *used)
{
    size_t i;
    int negate, match = 0;

    c = keypos_fold(c, nocase);
    switch (p[0]) {
    case '?':
        *used = 1;
        return 1;
    case '\\':
        if (plen >= 2) {
            *used = 2;
            return keypos_fold(p[1], nocase) == c;
        }
        *used = 1;
        return c == '\\';
    case '[':
        i = 1;
        negate = i < plen && p[i] == '^';
        if (negate)
            i++;
        for (;;) {
            if (i >= plen) {
                /* unterminated: the class runs to the end of the pattern */
                break;
            }
            if (p[i] == '\\' && plen - i >= 2) {
                i++;
                if (keypos_fold(p[i], nocase) == c)
                    match = 1;
            } else if (p[i] == ']') {
                i++;
                break;
            } else if (plen - i >= 3 && p[i + 1] == '-') {
                unsigned char lo = keypos_fold(p[i], nocase);
                unsigned char hi = keypos_fold(p[i + 2], nocase);

                if (lo > hi) {
                    unsigned char t = lo;
                    lo = hi;
                    hi = t;
                }
                if (c >= lo && c <= hi)
                    match = 1;
                i += 2;
            } else if (keypos_fold(p[i], nocase) == c) {
                match = 1;
            }
            i++;
        }
        *used = i;
        return negate ? !match : match;
    default:
        *used = 1;
        return keypos_fold(p[0], nocase) == c;
    }
}

int keypos_glob_match(const char *pattern, size_t plen, const char *string, size_t slen, int nocase)
{
    const unsigned char *pat = (const unsigned char *)pattern;
    const unsigned char *str = (const unsigned char *)string;
    size_t p = 0, s = 0, used;
    size_t star_p = 0, star_s = 0;
    int have_star = 0;

    while (s < slen) {
        if (p < plen && pat[p] == '*') {
            while (p < plen && pat[p] == '*')
                p++;
            if (p == plen)
                return 1;
            have_star = 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (p < plen && keypos_match_one(pat + p, plen - p, str[s], nocase, &used)) {
            p += used;
            s++;
            continue;
        }
        if (!have_star)
            return 0;
        /* let the last '*' swallow one more byte and retry after it */
        p = star_p;
        s = ++star_s;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

int keypos_command_matches(const struct aofscan_arg *argv, long argc, const char *pattern, size_t plen)
{
    long small[16];
    long *idx = small;
    size_t n, i;
    int found = 0;

    n = keypos_keys(argv, argc, small, sizeof(small) / sizeof(small[0]));
    if (n > sizeof(small) / sizeof(small[0])) {
        /* a DEL of thousands of keys: ask again with room for all */
        idx = xmalloc(n * sizeof(*idx));
        keypos_keys(argv, argc, idx, n);
    }
    for (i = 0; i < n && !found; i++)
        found = keypos_glob_match(pattern, plen, argv[idx[i]].p, argv[idx[i]].len, 0);
    if (idx != small)
        free(idx);
    return found;
}
