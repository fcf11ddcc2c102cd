/* keypos.c - key positions of Redis commands and Redis glob matching
 * (see keypos.h).
 *
 * The key positions are the servers' own "key specs", as COMMAND reports
 * them: keypos_table.h is generated from the replies of every server the
 * project tests (scripts/keyspecs.py) and holds, for each command and
 * subcommand, a run of specs. Each spec says where the search for keys
 * begins (an argument index, or the argument after a keyword searched
 * from a start index, backwards when negative) and how keys are found from
 * there (a range: the last key relative to the start or to the end, a
 * step, and a divisor of the remaining arguments; or a key count read from
 * an argument). keypos_keys() applies them as Redis's
 * getKeysUsingKeySpecs() does, except that a command cut short yields the
 * keys it has rather than none. The table is sorted by name and searched
 * with bsearch(). */
#include "keypos.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aofscan.h"
#include "xalloc.h"

enum keypos_begin { KP_BS_INDEX, KP_BS_KEYWORD };
enum keypos_find { KP_FK_RANGE, KP_FK_KEYNUM };

struct keypos_spec {
    enum keypos_begin bs;
    int bs_at;           /* INDEX: the index; KEYWORD: where the search starts */
    const char *keyword; /* KEYWORD only */
    enum keypos_find fk;
    /* RANGE: lastkey, keystep, limit; KEYNUM: keynumidx, firstkey, keystep */
    int fk_a, fk_b, fk_c;
};

struct keypos_command {
    const char *name; /* lower case; a subcommand as "name|sub" */
    unsigned short spec, nspecs;
    unsigned char container; /* the keys are the subcommand's */
};

#include "keypos_table.h"

struct keypos_name {
    const char *p;
    size_t len;
};

static int keypos_cmp(const void *key, const void *elem)
{
    const struct keypos_name *n = key;
    const struct keypos_command *c = elem;
    size_t clen = strlen(c->name);
    size_t common = n->len < clen ? n->len : clen;
    int r = strncasecmp(n->p, c->name, common);

    if (r != 0)
        return r;
    return n->len < clen ? -1 : n->len > clen ? 1 : 0;
}

static const struct keypos_command *keypos_lookup(const char *name, size_t len)
{
    struct keypos_name n = {name, len};

    if (memchr(name, '\0', len) != NULL)
        return NULL;
    return bsearch(&n, keypos_commands, sizeof(keypos_commands) / sizeof(keypos_commands[0]),
                   sizeof(keypos_commands[0]), keypos_cmp);
}

/* The "name|sub" entry of a command with subcommands, or NULL. */
static const struct keypos_command *keypos_lookup_sub(const struct keypos_command *c,
                                                      const struct aofscan_arg *sub)
{
    char name[128];
    size_t len = strlen(c->name);

    if (len + 1 + sub->len > sizeof(name))
        return NULL;
    memcpy(name, c->name, len);
    name[len] = '|';
    memcpy(name + len + 1, sub->p, sub->len);
    return keypos_lookup(name, len + 1 + sub->len);
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

/* Where the spec's keys begin: an index, or 0 when its keyword is absent. */
static long keypos_begin(const struct keypos_spec *s, const struct aofscan_arg *argv, long argc)
{
    size_t klen;
    long i, end, step;

    if (s->bs == KP_BS_INDEX)
        return s->bs_at;
    klen = strlen(s->keyword);
    i = s->bs_at > 0 ? s->bs_at : argc + s->bs_at;
    end = s->bs_at > 0 ? argc - 1 : 1;
    step = i <= end ? 1 : -1;
    for (; i != end && i >= 1 && i < argc; i += step) {
        if (argv[i].len == klen && strncasecmp(argv[i].p, s->keyword, klen) == 0)
            return i + 1;
    }
    return 0;
}

/* Add the keys one spec finds. */
static void keypos_apply(const struct keypos_spec *s, const struct aofscan_arg *argv, long argc, long *idx,
                         size_t max, size_t *n)
{
    long first = keypos_begin(s, argv, argc), last, step, count, i;

    if (first <= 0 || first >= argc)
        return;
    if (s->fk == KP_FK_RANGE) {
        step = s->fk_b;
        if (s->fk_a >= 0)
            last = first + s->fk_a;
        else if (s->fk_c == 0)
            last = argc + s->fk_a;
        else
            last = first + (argc - first) / s->fk_c + s->fk_a;
    } else {
        step = s->fk_c;
        if (first + s->fk_a >= argc)
            return;
        count = keypos_parse_count(&argv[first + s->fk_a]);
        if (count < 0)
            return;
        first += s->fk_b;
        last = first + count - 1;
    }
    if (step < 1)
        step = 1;
    for (i = first; i <= last && i < argc; i += step)
        keypos_add(idx, max, n, i);
}

size_t keypos_keys(const struct aofscan_arg *argv, long argc, long *idx, size_t max)
{
    const struct keypos_command *c;
    size_t n = 0;
    unsigned i;

    if (argc < 1)
        return 0;
    c = keypos_lookup(argv[0].p, argv[0].len);
    if (c == NULL) {
        /* a module's command: nearly every data command has its key first */
        if (argc > 1)
            keypos_add(idx, max, &n, 1);
        return n;
    }
    if (c->container) {
        /* an unknown subcommand of a known command: no key to guess */
        c = argc > 1 ? keypos_lookup_sub(c, &argv[1]) : NULL;
        if (c == NULL)
            return 0;
    }
    for (i = 0; i < c->nspecs; i++)
        keypos_apply(&keypos_specs[c->spec + i], argv, argc, idx, max, &n);
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
