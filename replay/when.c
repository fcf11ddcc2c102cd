/* when.c - "latest", "now", the end of the archive, and local TIMEs shown
 * in UTC, for restore and apply. See when.h. */
#include "when.h"

#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "timeutil.h"

int when_parse(const char *option, const char *text, struct when *w, struct err *e)
{
    memset(w, 0, sizeof(*w));
    w->option = option;
    w->text = text;
    if (strcmp(text, "latest") == 0) {
        w->latest = 1;
        w->t = INT64_MAX; /* until when_latest() */
        return 0;
    }
    w->local = time_is_local(text);
    return opt_time(option, text, &w->t, e);
}

int when_latest(struct when *w, struct fetch *f, struct err *e)
{
    struct window_gen *gens = NULL;
    struct window *windows = NULL;
    size_t n, nw;
    int ret = -1;

    if (!w->latest)
        return 0;
    if (fetch_gens(f, &gens, &n, e) < 0)
        goto out;
    windows = calloc(n > 0 ? n : 1, sizeof(*windows));
    if (windows == NULL) {
        err_set(e, ERR_IO, "out of memory");
        goto out;
    }
    nw = window_list(gens, n, windows);
    if (nw == 0) {
        err_set(e, ERR_NOTFOUND,
                "%s latest: the archive of \"%s\" has nothing restorable yet (no generation "
                "has a complete base) HINT: aofroll status",
                w->option, f->instance);
        goto out;
    }
    w->t = windows[nw - 1].to;
    ret = 0;
out:
    free(windows);
    free(gens);
    return ret;
}

int when_check_end(const struct when *w, const struct window_choice *c, const struct gen_row *gen,
                   struct fetch *f, struct err *e)
{
    struct status_row s;
    struct err se;
    char at[TIME_BUFSZ], newest[TIME_BUFSZ], poll[TIME_BUFSZ];

    if (w->latest || !c->past_end || gen->mode == MODE_RDB)
        return 0;
    err_clear(&se);
    memset(&s, 0, sizeof(s));
    if (index_status_get(f->idx, f->instance_id, &s, &se) == 0 && s.last_poll >= w->t &&
        s.shipped == s.current_size && s.poll_error[0] == '\0' && s.aof_off_since == 0 &&
        s.redis_down_since == 0)
        return 0; /* nothing was written after the newest second, up to a poll at or after TIME */
    time_format_utc(w->t, at, sizeof(at));
    time_format_utc(c->to, newest, sizeof(newest));
    if (s.last_poll > 0) {
        time_format_utc(s.last_poll, poll, sizeof(poll));
        return err_set(e, ERR_NOTFOUND,
                       "%s %s is after the end of the archive of \"%s\": its newest archived second is %s "
                       "(the collector's last poll: %s) HINT: \"%s latest\" restores to %s; \"aofroll "
                       "status\" tells whether the collector keeps up",
                       w->option, at, f->instance, newest, poll, w->option, newest);
    }
    return err_set(e, ERR_NOTFOUND,
                   "%s %s is after the end of the archive of \"%s\": its newest archived second is %s HINT: "
                   "\"%s latest\" restores to %s",
                   w->option, at, f->instance, newest, w->option, newest);
}

void when_print(const struct when *w, FILE *fp)
{
    char utc[TIME_BUFSZ], local[TIME_BUFSZ];

    time_format_utc(w->t, utc, sizeof(utc));
    if (w->latest) {
        fprintf(fp, "%s latest: %s (the newest archived second)\n", w->option, utc);
    } else if (w->local) {
        time_format_local(w->t, local, sizeof(local));
        fprintf(fp, "%s \"%s\" read as local time: %s = %s\n", w->option, w->text, local, utc);
    } else if (strcmp(w->text, "now") == 0) {
        fprintf(fp, "%s now: %s\n", w->option, utc);
    }
}
