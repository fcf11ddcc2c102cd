/* prefetch.c - chunks fetched and decoded ahead of their consumer on worker
 * threads. See prefetch.h.
 *
 * Chunk i lives in slot i % window. A worker takes the lowest chunk not yet
 * taken, provided it is less than `consumed + window` (so it never lands in
 * the slot of a chunk the consumer still holds), fetches it with its own
 * storage handle and marks the slot ready. One mutex and one condition
 * variable guard the slot states and counters; the bytes themselves are
 * touched by one thread at a time (the worker until ready, the consumer
 * after). */
#include "prefetch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "storage.h"
#include "timeutil.h"
#include "xalloc.h"

enum slot_state { SLOT_FREE = 0, SLOT_BUSY, SLOT_READY };

struct prefetch_slot {
    size_t index;
    enum slot_state state;
    int failed;
    struct err err;
    struct buf raw;
};

struct prefetch_worker {
    struct prefetch *p;
    struct storage *st;
    struct buf gz;
    pthread_t thread;
    int running;
};

struct prefetch {
    const struct fetch_list *list;
    struct fetch *f;
    size_t next;     /* the next chunk a worker takes */
    size_t consumed; /* the chunk the consumer holds or waits for */
    size_t window;
    struct prefetch_slot *slots;
    struct prefetch_worker *workers;
    int nworkers;
    int stop;
    double waited;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

int prefetch_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 2)
        return 2;
    return n > 4 ? 4 : (int)n;
}

/* Get and decode one chunk into slot->raw (no lock held). */
static void prefetch_one(struct prefetch_worker *w, const struct fetch_chunk *c, struct prefetch_slot *s,
                         double *seconds, uint64_t *stored)
{
    double t0 = time_monotonic();

    buf_reset(&w->gz);
    buf_reset(&s->raw);
    err_clear(&s->err);
    s->failed = 0;
    if (fetch_object(w->st, w->p->f->instance, c, &w->gz, &s->err) < 0 ||
        codec_decode(w->gz.data, w->gz.len, c->end - c->start, c->crc32, c->key, &s->raw, &s->err) < 0) {
        if (strstr(s->err.msg, c->key) == NULL)
            err_prefix(&s->err, "chunk \"%s\"", c->key);
        s->failed = 1;
    }
    *stored = storage_stored_size(c->key, w->gz.len);
    *seconds = time_monotonic() - t0;
}

static void *prefetch_worker_main(void *arg)
{
    struct prefetch_worker *w = arg;
    struct prefetch *p = w->p;

    pthread_mutex_lock(&p->lock);
    while (!p->stop && p->next < p->list->n) {
        size_t i = p->next;
        struct prefetch_slot *s;
        double seconds;
        uint64_t stored;

        if (i >= p->consumed + p->window) {
            pthread_cond_wait(&p->cond, &p->lock);
            continue;
        }
        p->next++;
        s = &p->slots[i % p->window];
        s->index = i;
        s->state = SLOT_BUSY;
        pthread_mutex_unlock(&p->lock);
        prefetch_one(w, &p->list->v[i], s, &seconds, &stored);
        pthread_mutex_lock(&p->lock);
        s->state = SLOT_READY;
        p->f->seconds += seconds;
        if (!s->failed) {
            p->f->stored_bytes += stored;
            p->f->raw_bytes += s->raw.len;
            p->f->chunks++;
        }
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int prefetch_start(struct prefetch **out, const struct config *cfg, struct fetch *f,
                   const struct fetch_list *l, size_t first, int threads, struct err *e)
{
    struct prefetch *p = xcalloc(1, sizeof(*p));
    int i;

    *out = NULL;
    p->list = l;
    p->f = f;
    p->next = first;
    p->consumed = first;
    p->nworkers = threads > 0 ? threads : 1;
    p->window = (size_t)p->nworkers * 2;
    p->slots = xcalloc(p->window, sizeof(*p->slots));
    p->workers = xcalloc((size_t)p->nworkers, sizeof(*p->workers));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (i = 0; i < p->nworkers; i++) {
        p->workers[i].p = p;
        if (storage_open(cfg, &p->workers[i].st, e) < 0) {
            p->workers[i].st = NULL;
            prefetch_stop(p);
            return -1;
        }
    }
    for (i = 0; i < p->nworkers; i++) {
        int rc = pthread_create(&p->workers[i].thread, NULL, prefetch_worker_main, &p->workers[i]);

        if (rc != 0) {
            err_sys(e, rc, "start a fetch thread");
            prefetch_stop(p);
            return -1;
        }
        p->workers[i].running = 1;
    }
    *out = p;
    return 0;
}

int prefetch_get(struct prefetch *p, size_t i, const struct buf **raw, struct err *e)
{
    struct prefetch_slot *s = &p->slots[i % p->window];
    double t0 = time_monotonic();
    int ret = 0;

    pthread_mutex_lock(&p->lock);
    p->consumed = i;
    pthread_cond_broadcast(&p->cond);
    while (!(s->state == SLOT_READY && s->index == i))
        pthread_cond_wait(&p->cond, &p->lock);
    pthread_mutex_unlock(&p->lock);
    p->waited += time_monotonic() - t0;
    if (s->failed) {
        *e = s->err;
        ret = -1;
    }
    *raw = &s->raw;
    return ret;
}

double prefetch_waited(const struct prefetch *p)
{
    return p->waited;
}

void prefetch_stop(struct prefetch *p)
{
    size_t j;
    int i;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->nworkers; i++) {
        if (p->workers[i].running)
            pthread_join(p->workers[i].thread, NULL);
        if (p->workers[i].st != NULL)
            storage_close(p->workers[i].st);
        buf_free(&p->workers[i].gz);
    }
    for (j = 0; j < p->window; j++)
        buf_free(&p->slots[j].raw);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->slots);
    free(p->workers);
    free(p);
}
