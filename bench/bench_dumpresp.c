/* bench_dumpresp.c - the reference input of bench/flashback.sh: every key
 * of a redis-server as a RESTORE command, in RESP, on stdout.
 *
 * usage: bench_dumpresp PORT
 *
 * For each db that holds keys (INFO keyspace): "SELECT db", then per key
 * (SCAN COUNT 1000; DUMP and PTTL pipelined) "RESTORE key ttl payload
 * REPLACE", ttl 0 for a key without expiry. Fed to `redis-cli --pipe`, it
 * rebuilds the keyspace in an empty server: what a person would do by hand
 * with the source at hand, and what `aofroll restore --target` is timed
 * against. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dumpresp_arg(FILE *out, const char *p, size_t len)
{
    fprintf(out, "$%zu\r\n", len);
    fwrite(p, 1, len, out);
    fputs("\r\n", out);
}

static int dumpresp_db(redisContext *rc, long db, FILE *out)
{
    char cursor[32] = "0", dbtext[32], ttl[32];
    redisReply *r, **dump, **pttl;
    size_t i, n;

    r = redisCommand(rc, "SELECT %ld", db);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
        return -1;
    freeReplyObject(r);
    snprintf(dbtext, sizeof(dbtext), "%ld", db);
    fputs("*2\r\n", out);
    dumpresp_arg(out, "SELECT", 6);
    dumpresp_arg(out, dbtext, strlen(dbtext));
    do {
        r = redisCommand(rc, "SCAN %s COUNT 1000", cursor);
        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            return -1;
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        n = r->element[1]->elements;
        dump = calloc(n + 1, sizeof(*dump));
        pttl = calloc(n + 1, sizeof(*pttl));
        if (dump == NULL || pttl == NULL)
            return -1;
        for (i = 0; i < n; i++) {
            redisReply *k = r->element[1]->element[i];

            redisAppendCommand(rc, "DUMP %b", k->str, k->len);
            redisAppendCommand(rc, "PTTL %b", k->str, k->len);
        }
        for (i = 0; i < n; i++) {
            if (redisGetReply(rc, (void **)&dump[i]) != REDIS_OK ||
                redisGetReply(rc, (void **)&pttl[i]) != REDIS_OK)
                return -1;
        }
        for (i = 0; i < n; i++) {
            redisReply *k = r->element[1]->element[i];

            if (dump[i]->type == REDIS_REPLY_STRING) {
                snprintf(ttl, sizeof(ttl), "%lld", pttl[i]->integer > 0 ? pttl[i]->integer : 0);
                fputs("*5\r\n", out);
                dumpresp_arg(out, "RESTORE", 7);
                dumpresp_arg(out, k->str, k->len);
                dumpresp_arg(out, ttl, strlen(ttl));
                dumpresp_arg(out, dump[i]->str, dump[i]->len);
                dumpresp_arg(out, "REPLACE", 7);
            }
            freeReplyObject(dump[i]);
            freeReplyObject(pttl[i]);
        }
        free(dump);
        free(pttl);
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

int main(int argc, char **argv)
{
    redisContext *rc;
    redisReply *r;
    char *p;
    int status = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: bench_dumpresp PORT\n");
        return 2;
    }
    rc = redisConnect("127.0.0.1", atoi(argv[1]));
    if (rc == NULL || rc->err) {
        fprintf(stderr, "bench_dumpresp: cannot connect to port %s\n", argv[1]);
        return 1;
    }
    r = redisCommand(rc, "INFO keyspace");
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        goto out;
    for (p = strstr(r->str, "\ndb"); p != NULL; p = strstr(p + 1, "\ndb")) {
        if (dumpresp_db(rc, strtol(p + 3, NULL, 10), stdout) < 0) {
            fprintf(stderr, "bench_dumpresp: reading db %ld failed\n", strtol(p + 3, NULL, 10));
            goto out;
        }
    }
    status = fflush(stdout) == 0 ? 0 : 1;
out:
    if (r != NULL)
        freeReplyObject(r);
    redisFree(rc);
    return status;
}
