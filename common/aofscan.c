/* aofscan.c - the incremental AOF scanner (see aofscan.h).
 *
 * Replay pushes whole archives through this file, so the usual case has to
 * cost a few instructions per token, not per byte. Two paths share the work:
 *
 *  - scan_fast(): at a command boundary, when the whole command lies in the
 *    slice, walk its tokens in place: header numbers are parsed where they
 *    stand and each bulk payload is skipped by its length without being
 *    read (only argv[0] and SELECT's argument are copied, a few bytes). It
 *    changes no state until the command is complete, so when it meets the
 *    end of the slice, or anything it does not expect, it just declines.
 *  - scan_slow(): a resumable state machine whose whole position lives in
 *    struct aofscan, so that any token may straddle any number of slices.
 *    It reads byte by byte except for payloads, which it also skips by
 *    length. It takes the one command that straddles each slice edge, the
 *    "#TS:" lines, and everything scan_fast() declined; hence every
 *    diagnostic, with its absolute offset, comes from this one place.
 *
 * Both paths end a command in finish_command(), which tracks SELECT and the
 * transaction state, moves the safe offset and calls the callback.
 *
 * Transactions are followed the way Redis itself reads an AOF when it loads
 * one: a MULTI inside an open transaction is queued like any other command
 * (the transaction still starts at the first MULTI), and an EXEC or DISCARD
 * outside a transaction is an ordinary command. */
#include "aofscan.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Limits on header numbers: Redis accepts up to INT_MAX arguments and
 * proto-max-bulk-len (512 MB by default) per bulk; these are looser, so
 * that no AOF Redis wrote is refused, yet tight enough to catch garbage. */
#define ARGC_MAX ((uint64_t)1 << 30)
#define BULK_MAX ((uint64_t)1 << 40)
#define TS_MAX ((uint64_t)INT64_MAX)
#define NUM_DIGITS_MAX 20
/* scan_fast() leaves longer numbers (leading zeros) to scan_slow() */
#define FAST_DIGITS_MAX 15
#define DB_DIGITS_MAX 10

enum scan_state {
    ST_START = 0, /* between commands: '*' or '#' comes next */
    ST_TAG,       /* inside "#TS:"; num_digits counts the bytes matched */
    ST_TS,        /* the timestamp's digits */
    ST_TS_LF,     /* the '\n' ending the annotation */
    ST_ARGC,      /* the digits after '*' */
    ST_ARGC_LF,
    ST_DOLLAR,   /* the '$' of the next bulk string */
    ST_BULK_LEN, /* its length's digits */
    ST_BULK_LEN_LF,
    ST_PAYLOAD,    /* inside the payload; bulk_left bytes to go */
    ST_PAYLOAD_CR, /* the "\r\n" after the payload */
    ST_PAYLOAD_LF,
    ST_FAILED /* an error was reported; the scanner is dead */
};

/* How a scanning step ended. */
enum step {
    STEP_ERROR = -1, /* malformed input, e filled */
    STEP_MORE = 0,   /* the slice is used up in the middle of something */
    STEP_EVENT,      /* a command or annotation was reported */
    STEP_STOP,       /* ... and its callback asked to stop */
    STEP_DECLINED    /* scan_fast() only: leave this command to scan_slow() */
};

/* The slice being fed: data[0] sits at absolute offset `base`. */
struct feed {
    const char *data;
    const char *end;
    uint64_t base;
};

static uint64_t feed_offset(const struct feed *f, const char *p)
{
    return f->base + (uint64_t)(p - f->data);
}

static int corrupt(struct aofscan *s, struct err *e, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int corrupt(struct aofscan *s, struct err *e, uint64_t at, const char *fmt, ...)
{
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    s->state = ST_FAILED;
    err_set(e, ERR_CORRUPT, "malformed AOF at byte %" PRIu64 ": %s", at, what);
    return STEP_ERROR;
}

/* ASCII-only case-insensitive comparison with a lower-case word. */
static int word_equals(const char *p, const char *lower, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)lower[i])
            return 0;
    }
    return 1;
}

static enum aofscan_kind classify(const char *name, size_t len)
{
    switch (len) {
    case 4:
        return word_equals(name, "exec", 4) ? AOFSCAN_CMD_EXEC : AOFSCAN_CMD_OTHER;
    case 5:
        return word_equals(name, "multi", 5) ? AOFSCAN_CMD_MULTI : AOFSCAN_CMD_OTHER;
    case 6:
        return word_equals(name, "select", 6) ? AOFSCAN_CMD_SELECT : AOFSCAN_CMD_OTHER;
    case 7:
        return word_equals(name, "discard", 7) ? AOFSCAN_CMD_DISCARD : AOFSCAN_CMD_OTHER;
    default:
        return AOFSCAN_CMD_OTHER;
    }
}

/* argv[0] is complete in cmd.name (its first AOFSCAN_NAME_MAX bytes). */
static void name_done(struct aofscan *s)
{
    size_t kept = s->cmd.name_len < AOFSCAN_NAME_MAX ? s->cmd.name_len : AOFSCAN_NAME_MAX;

    s->cmd.name[kept] = '\0';
    s->cmd.kind = classify(s->cmd.name, s->cmd.name_len);
}

static int parse_select(struct aofscan *s, struct err *e)
{
    uint64_t db = 0;
    uint64_t i;

    if (s->select_len == 0 || s->select_len > DB_DIGITS_MAX)
        goto bad;
    for (i = 0; i < s->select_len; i++) {
        unsigned char c = (unsigned char)s->select_arg[i];

        if (c < '0' || c > '9')
            goto bad;
        db = db * 10 + (uint64_t)(c - '0');
    }
    if (db > INT_MAX)
        goto bad;
    s->db = (int)db;
    return 0;
bad:
    return corrupt(s, e, s->select_start, "SELECT argument is not a db number (0..%d)", INT_MAX);
}

/* The command in s->cmd (start, argc, name, kind, SELECT's argument) ends
 * at `end`: update the db and transaction state, report it. */
static int finish_command(struct aofscan *s, uint64_t end, struct err *e)
{
    struct aofscan_command *c = &s->cmd;
    int was_in_txn = s->in_txn;

    switch (c->kind) {
    case AOFSCAN_CMD_SELECT:
        if (c->argc != 2)
            return corrupt(s, e, c->start, "SELECT with %ld arguments (expected 1)", c->argc - 1);
        if (parse_select(s, e) < 0)
            return STEP_ERROR;
        break;
    case AOFSCAN_CMD_MULTI:
        if (!s->in_txn) {
            s->in_txn = 1;
            s->txn_start = c->start;
        }
        break;
    case AOFSCAN_CMD_EXEC:
    case AOFSCAN_CMD_DISCARD:
        s->in_txn = 0;
        break;
    default:
        break;
    }
    c->end = end;
    c->db = s->db;
    c->ts = s->ts;
    c->in_txn = was_in_txn || s->in_txn;
    c->txn_start = c->in_txn ? s->txn_start : 0;
    if (!s->in_txn)
        s->safe_offset = end;
    s->offset = end;
    s->state = ST_START;
    if (s->cb != NULL && s->cb->on_command != NULL && s->cb->on_command(s->ud, c) != 0)
        return STEP_STOP;
    return STEP_EVENT;
}

static int finish_timestamp(struct aofscan *s, uint64_t end)
{
    s->ts = (int64_t)s->num;
    if (!s->in_txn)
        s->safe_offset = end;
    s->offset = end;
    s->state = ST_START;
    if (s->cb != NULL && s->cb->on_timestamp != NULL &&
        s->cb->on_timestamp(s->ud, s->ts, s->ts_start, end) != 0)
        return STEP_STOP;
    return STEP_EVENT;
}

/* ------------------------------------------------------------------------
 * The fast path: one whole command inside the slice.
 * ------------------------------------------------------------------------ */

/* A run of digits ended by "\r\n", all within [p, end): the position after
 * the '\n', or NULL when it is not there whole (or looks odd). */
static inline const char *fast_number(const char *p, const char *end, uint64_t *out)
{
    const char *digits = p;
    uint64_t n = 0;

    while (p < end && (unsigned char)(*p - '0') < 10) {
        n = n * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == digits || p - digits > FAST_DIGITS_MAX || end - p < 2 || p[0] != '\r' || p[1] != '\n')
        return NULL;
    *out = n;
    return p + 2;
}

static inline int scan_fast(struct aofscan *s, const struct feed *f, const char **pp, struct err *e)
{
    const char *p = *pp;
    const char *end = f->end;
    const char *q, *name = NULL, *arg1 = NULL;
    uint64_t argc, len, name_len = 0, arg1_len = 0, i;
    int rc;

    q = fast_number(p + 1, end, &argc);
    if (q == NULL || argc == 0 || argc > ARGC_MAX)
        return STEP_DECLINED;
    for (i = 0; i < argc; i++) {
        if (q == end || *q != '$')
            return STEP_DECLINED;
        q = fast_number(q + 1, end, &len);
        if (q == NULL || len > BULK_MAX || (uint64_t)(end - q) < len + 2)
            return STEP_DECLINED;
        if (i == 0) {
            name = q;
            name_len = len;
        } else if (i == 1) {
            arg1 = q;
            arg1_len = len;
        }
        q += len;
        if (q[0] != '\r' || q[1] != '\n')
            return STEP_DECLINED;
        q += 2;
    }

    s->cmd.start = feed_offset(f, p);
    s->cmd.argc = (long)argc;
    s->cmd.name_len = (size_t)name_len;
    memcpy(s->cmd.name, name, name_len < AOFSCAN_NAME_MAX ? name_len : AOFSCAN_NAME_MAX);
    name_done(s);
    if (s->cmd.kind == AOFSCAN_CMD_SELECT && arg1 != NULL) {
        s->select_len = arg1_len;
        s->select_start = feed_offset(f, arg1);
        memcpy(s->select_arg, arg1, arg1_len < sizeof(s->select_arg) ? arg1_len : sizeof(s->select_arg));
    }
    rc = finish_command(s, feed_offset(f, q), e);
    if (rc != STEP_ERROR)
        *pp = q;
    return rc;
}

/* ------------------------------------------------------------------------
 * The resumable path: byte-wise state machine.
 * ------------------------------------------------------------------------ */

static void start_number(struct aofscan *s, int state, uint64_t at)
{
    s->state = state;
    s->num = 0;
    s->num_digits = 0;
    s->num_start = at;
}

static const char *number_name(int state)
{
    switch (state) {
    case ST_TS:
        return "timestamp";
    case ST_ARGC:
        return "argument count";
    default:
        return "bulk length";
    }
}

static uint64_t number_max(int state)
{
    switch (state) {
    case ST_TS:
        return TS_MAX;
    case ST_ARGC:
        return ARGC_MAX;
    default:
        return BULK_MAX;
    }
}

/* One byte of a header number. Returns 0 for a digit, 1 for the '\r' that
 * ends a valid number (then s->num holds it), STEP_ERROR otherwise. */
static int number_byte(struct aofscan *s, unsigned char c, uint64_t at, struct err *e)
{
    const char *what = number_name(s->state);
    uint64_t max = number_max(s->state);
    uint64_t min = s->state == ST_ARGC ? 1 : 0;

    if (c >= '0' && c <= '9') {
        if (++s->num_digits > NUM_DIGITS_MAX)
            return corrupt(s, e, at, "%s longer than %d digits", what, NUM_DIGITS_MAX);
        /* saturate just above max: the value is refused at the '\r' */
        if (s->num > max / 10)
            s->num = max + 1;
        else
            s->num = s->num * 10 + (uint64_t)(c - '0');
        return 0;
    }
    if (s->num_digits == 0) {
        if (c == '-')
            return corrupt(s, e, at, "negative %s", what);
        return corrupt(s, e, at, "expected a digit, got 0x%02x", c);
    }
    if (c != '\r')
        return corrupt(s, e, at, "expected a digit or '\\r', got 0x%02x", c);
    if (s->num > max)
        return corrupt(s, e, s->num_start, "%s larger than %" PRIu64, what, max);
    if (s->num < min)
        return corrupt(s, e, s->num_start, "%s %" PRIu64 " below %" PRIu64, what, s->num, min);
    return 1;
}

/* Copy the payload bytes the scanner keeps: argv[0] into cmd.name and
 * SELECT's argument into select_arg (the first few bytes of each). */
static void keep_payload(struct aofscan *s, const char *p, size_t n)
{
    uint64_t pos = s->bulk_len - s->bulk_left;

    if (s->arg_index == 0) {
        if (pos < AOFSCAN_NAME_MAX) {
            uint64_t room = AOFSCAN_NAME_MAX - pos;

            memcpy(s->cmd.name + pos, p, n < room ? n : room);
        }
    } else if (s->arg_index == 1 && s->cmd.kind == AOFSCAN_CMD_SELECT) {
        if (pos < sizeof(s->select_arg)) {
            uint64_t room = sizeof(s->select_arg) - pos;

            memcpy(s->select_arg + pos, p, n < room ? n : room);
        }
    }
}

/* Advance through [*pp, end) until one event is reported, the slice ends,
 * or the input is malformed; *pp is left after the bytes consumed. */
static int scan_slow(struct aofscan *s, const struct feed *f, const char **pp, struct err *e)
{
    static const char tag[] = "#TS:";
    const char *p = *pp;
    int rc = STEP_MORE;

    while (p < f->end) {
        unsigned char c = (unsigned char)*p;
        uint64_t at = feed_offset(f, p);
        int r;

        switch (s->state) {
        case ST_START:
            if (c == '*') {
                s->cmd.start = at;
                start_number(s, ST_ARGC, at + 1);
            } else if (c == '#') {
                s->ts_start = at;
                s->num_digits = 1;
                s->state = ST_TAG;
            } else {
                rc = corrupt(s, e, at, "expected '*' or '#', got 0x%02x", c);
                goto out;
            }
            break;
        case ST_TAG:
            if (c != (unsigned char)tag[s->num_digits]) {
                rc = corrupt(s, e, at, "expected \"#TS:\", got 0x%02x", c);
                goto out;
            }
            if (++s->num_digits == (int)sizeof(tag) - 1)
                start_number(s, ST_TS, at + 1);
            break;
        case ST_TS:
        case ST_ARGC:
        case ST_BULK_LEN:
            r = number_byte(s, c, at, e);
            if (r < 0) {
                rc = STEP_ERROR;
                goto out;
            }
            if (r == 1)
                s->state = s->state == ST_TS ? ST_TS_LF : s->state == ST_ARGC ? ST_ARGC_LF : ST_BULK_LEN_LF;
            break;
        case ST_TS_LF:
        case ST_ARGC_LF:
        case ST_BULK_LEN_LF:
        case ST_PAYLOAD_LF:
            if (c != '\n') {
                rc = corrupt(s, e, at, "expected '\\n', got 0x%02x", c);
                goto out;
            }
            p++;
            if (s->state == ST_TS_LF) {
                rc = finish_timestamp(s, at + 1);
                goto out;
            } else if (s->state == ST_ARGC_LF) {
                s->cmd.argc = (long)s->num;
                s->arg_index = 0;
                s->state = ST_DOLLAR;
            } else if (s->state == ST_BULK_LEN_LF) {
                s->bulk_len = s->bulk_left = s->num;
                if (s->arg_index == 0) {
                    s->cmd.name_len = (size_t)s->num;
                } else if (s->arg_index == 1 && s->cmd.kind == AOFSCAN_CMD_SELECT) {
                    s->select_len = s->num;
                    s->select_start = at + 1;
                }
                s->state = s->bulk_len > 0 ? ST_PAYLOAD : ST_PAYLOAD_CR;
            } else {
                if (s->arg_index == 0)
                    name_done(s);
                if (++s->arg_index == s->cmd.argc) {
                    rc = finish_command(s, at + 1, e);
                    goto out;
                }
                s->state = ST_DOLLAR;
            }
            continue;
        case ST_DOLLAR:
            if (c != '$') {
                rc = corrupt(s, e, at, "expected '$', got 0x%02x", c);
                goto out;
            }
            start_number(s, ST_BULK_LEN, at + 1);
            break;
        case ST_PAYLOAD: {
            size_t avail = (size_t)(f->end - p);
            size_t n = s->bulk_left < avail ? (size_t)s->bulk_left : avail;

            keep_payload(s, p, n);
            s->bulk_left -= n;
            p += n;
            if (s->bulk_left == 0)
                s->state = ST_PAYLOAD_CR;
            continue;
        }
        case ST_PAYLOAD_CR:
            if (c != '\r') {
                rc = corrupt(s, e, at, "expected '\\r' after a %" PRIu64 "-byte bulk string, got 0x%02x",
                             s->bulk_len, c);
                goto out;
            }
            s->state = ST_PAYLOAD_LF;
            break;
        default:
            rc = corrupt(s, e, at, "scanner in unknown state %d", s->state);
            goto out;
        }
        p++;
    }
out:
    *pp = p;
    return rc;
}

/* ------------------------------------------------------------------------
 * Public API.
 * ------------------------------------------------------------------------ */

void aofscan_init(struct aofscan *s, uint64_t base_offset, const struct aofscan_callbacks *cb, void *ud)
{
    memset(s, 0, sizeof(*s));
    s->cb = cb;
    s->ud = ud;
    s->offset = base_offset;
    s->safe_offset = base_offset;
    s->state = ST_START;
    s->ts = -1;
    s->cmd.ts = -1;
}

int aofscan_feed(struct aofscan *s, const char *data, size_t len, size_t *used, struct err *e)
{
    struct feed f = {data, data + len, s->offset};
    const char *p = data;
    int rc = STEP_MORE;

    if (s->state == ST_FAILED) {
        rc = err_set(e, ERR_CORRUPT, "malformed AOF at byte %" PRIu64 ": scanning already failed there",
                     s->offset);
        goto out;
    }
    while (p < f.end) {
        if (s->state == ST_START && *p == '*') {
            rc = scan_fast(s, &f, &p, e);
            if (rc == STEP_DECLINED)
                rc = scan_slow(s, &f, &p, e);
        } else {
            rc = scan_slow(s, &f, &p, e);
        }
        if (rc == STEP_STOP || rc == STEP_ERROR)
            break;
    }
out:
    if (rc != STEP_ERROR)
        s->offset = feed_offset(&f, p);
    if (used != NULL)
        *used = (size_t)(p - data);
    if (rc == STEP_ERROR)
        return -1;
    return rc == STEP_STOP ? 1 : 0;
}

enum aofscan_where aofscan_where(const struct aofscan *s)
{
    if (s->state != ST_START)
        return AOFSCAN_IN_COMMAND;
    return s->in_txn ? AOFSCAN_IN_TXN : AOFSCAN_BETWEEN;
}

uint64_t aofscan_offset(const struct aofscan *s)
{
    return s->offset;
}

uint64_t aofscan_safe_offset(const struct aofscan *s)
{
    return s->safe_offset;
}

uint64_t aofscan_txn_start(const struct aofscan *s)
{
    return s->txn_start;
}

int aofscan_db(const struct aofscan *s)
{
    return s->db;
}

/* ------------------------------------------------------------------------
 * aofscan_split(): one command held in memory.
 * ------------------------------------------------------------------------ */

struct split_probe {
    int is_command;
};

static int split_on_command(void *ud, const struct aofscan_command *cmd)
{
    struct split_probe *probe = ud;

    (void)cmd;
    probe->is_command = 1;
    return 1;
}

static int split_on_timestamp(void *ud, int64_t ts, uint64_t start, uint64_t end)
{
    (void)ud;
    (void)ts;
    (void)start;
    (void)end;
    return 1;
}

/* A header number already checked by the scanner: digits, then "\r\n". */
static const char *split_number(const char *p, uint64_t *out)
{
    uint64_t n = 0;

    while (*p != '\r')
        n = n * 10 + (uint64_t)(*p++ - '0');
    *out = n;
    return p + 2;
}

long aofscan_split(const char *data, size_t len, struct aofscan_arg *argv, size_t max, struct err *e)
{
    static const struct aofscan_callbacks cb = {split_on_command, split_on_timestamp};
    struct split_probe probe = {0};
    struct aofscan s;
    const char *p;
    uint64_t argc, n, i;
    size_t used = 0;
    int rc;

    if (len == 0)
        return err_set(e, ERR_CORRUPT, "empty input, not a command");
    aofscan_init(&s, 0, &cb, &probe);
    rc = aofscan_feed(&s, data, len, &used, e);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return err_set(e, ERR_CORRUPT, "incomplete command: its %zu bytes end inside it", len);
    if (!probe.is_command)
        return err_set(e, ERR_CORRUPT, "not a command: a \"#TS:\" annotation line");
    if (used != len)
        return err_set(e, ERR_CORRUPT, "malformed command at byte %zu: %zu more bytes after its end", used,
                       len - used);

    /* The scanner vouched for the syntax: walk it without checks. */
    p = split_number(data + 1, &argc);
    for (i = 0; i < argc; i++) {
        p = split_number(p + 1, &n);
        if (i < max) {
            argv[i].p = p;
            argv[i].len = (size_t)n;
        }
        p += n + 2;
    }
    return (long)argc;
}
