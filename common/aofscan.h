/* aofscan.h - incremental, zero-copy scanner for the AOF byte stream.
 *
 * An incr AOF (and a base written without RDB preamble) is a sequence of
 * RESP arrays of bulk strings ("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
 * and "#TS:<unix>\r\n" annotation lines. The scanner is fed arbitrary slices
 * of that stream in order; any token, even a bulk string's trailing "\r\n",
 * may straddle two slices. It never copies the stream, never reads past the
 * slice it is given and never allocates: its whole state is this struct.
 *
 * For each complete command it calls on_command with the command's byte
 * range, argc, name (first AOFSCAN_NAME_MAX bytes), the db it applies to
 * (tracking SELECT) and its transaction state; for each annotation it calls
 * on_timestamp. Between calls, aofscan_where() and aofscan_txn_start() tell
 * the caller whether the current offset stands between commands, inside a
 * command, or inside an open MULTI (and where that MULTI began). A callback
 * returning non-zero stops the feed right after that event; feeding the
 * rest of the slice later resumes exactly there.
 *
 * Offsets are absolute stream offsets: the scanner starts at `base_offset`
 * (e.g. the start of the first chunk) and counts every byte fed. */
#ifndef AOFROLL_AOFSCAN_H
#define AOFROLL_AOFSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AOFSCAN_NAME_MAX 32

enum aofscan_kind {
    AOFSCAN_CMD_OTHER = 0,
    AOFSCAN_CMD_MULTI,
    AOFSCAN_CMD_EXEC,
    AOFSCAN_CMD_DISCARD,
    AOFSCAN_CMD_SELECT
};

struct aofscan_command {
    uint64_t start, end; /* byte range [start, end) in the stream */
    long argc;
    char name[AOFSCAN_NAME_MAX + 1]; /* as written (case kept), NUL-terminated, maybe cut */
    size_t name_len;                 /* full length of argv[0] */
    enum aofscan_kind kind;          /* recognised case-insensitively */
    int db;                          /* db the command applies to (SELECT: the new db) */
    int in_txn;                      /* 1 for MULTI, the commands inside, and EXEC/DISCARD */
    uint64_t txn_start;              /* offset of the MULTI when in_txn */
    int64_t ts;                      /* last #TS seen before this command, -1 if none */
};

struct aofscan_callbacks {
    int (*on_command)(void *ud, const struct aofscan_command *cmd);
    /* [start, end) is the whole "#TS:...\r\n" line */
    int (*on_timestamp)(void *ud, int64_t ts, uint64_t start, uint64_t end);
};

enum aofscan_where {
    AOFSCAN_BETWEEN = 0, /* at a command boundary, outside any transaction */
    AOFSCAN_IN_COMMAND,  /* inside a command or an annotation line */
    AOFSCAN_IN_TXN       /* at a command boundary inside an open MULTI */
};

/* The scanner state. Treat the fields as private; use the functions. */
struct aofscan {
    const struct aofscan_callbacks *cb;
    void *ud;
    uint64_t offset;            /* bytes consumed so far, absolute */
    uint64_t safe_offset;       /* last offset where where() was AOFSCAN_BETWEEN */
    int state;                  /* parser state machine position */
    int num_digits;             /* digits of `num` seen so far; tag bytes of "#TS:" */
    uint64_t num;               /* number being parsed (argc, bulk length, ts) */
    uint64_t num_start;         /* offset of its first digit */
    uint64_t bulk_len;          /* length of the current bulk payload */
    uint64_t bulk_left;         /* bytes of it still to come */
    long arg_index;             /* index of the bulk being read */
    struct aofscan_command cmd; /* the command being read */
    char select_arg[12];        /* first bytes of SELECT's argument */
    uint64_t select_len;        /* its full length */
    uint64_t select_start;      /* its offset */
    int db;
    int in_txn;
    uint64_t txn_start;
    int64_t ts;
    uint64_t ts_start;
};

void aofscan_init(struct aofscan *s, uint64_t base_offset, const struct aofscan_callbacks *cb, void *ud);
/* Feed the next slice. Returns 0 when all of it was consumed, 1 when a
 * callback asked to stop (then *used < len may hold, and the rest can be fed
 * later), -1 on malformed input (ERR_CORRUPT naming the absolute byte
 * offset and what was expected). *used may be NULL. After an error the
 * scanner must not be fed again. */
int aofscan_feed(struct aofscan *s, const char *data, size_t len, size_t *used, struct err *e);
enum aofscan_where aofscan_where(const struct aofscan *s);
uint64_t aofscan_offset(const struct aofscan *s);
/* The last offset at which the stream stood between commands and outside
 * any transaction: where a restore may cut. */
uint64_t aofscan_safe_offset(const struct aofscan *s);
/* Offset of the open MULTI; only meaningful when in a transaction. */
uint64_t aofscan_txn_start(const struct aofscan *s);
/* Current db (after the last SELECT seen). */
int aofscan_db(const struct aofscan *s);

/* For a complete command held in memory (e.g. one reported by on_command,
 * sliced out of a buffer): split it into arguments pointing into `data`.
 * Fills at most `max` entries and returns argc, or -1 (ERR_CORRUPT) when the
 * bytes are not exactly one command. */
struct aofscan_arg {
    const char *p;
    size_t len;
};
long aofscan_split(const char *data, size_t len, struct aofscan_arg *argv, size_t max, struct err *e);

#endif
