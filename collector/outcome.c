/* outcome.c - the outcome of a one-shot run (--once, --barrier-now,
 * --snapshot-now), one line per instance, printed on the terminal by main
 * after the instance's thread has ended. The log says the same at length,
 * but with log_file set it goes to a file the operator is not looking at:
 * this line is what the command itself answers. Reads only what the
 * thread left in struct instance. */
#include "outcome.h"

#include <inttypes.h>

#include "timeutil.h"

void outcome_print(const struct instance *in, enum collector_action action, const char *log_file, FILE *fp)
{
    const struct gen_row *g = in->done_gen.generation > 0 ? &in->done_gen : NULL;
    char t[TIME_BUFSZ];

    if (in->exit_status != 0) {
        fprintf(fp, "aofroll-collector: instance \"%s\" failed: %s", in->name,
                in->last_error[0] != '\0' ? in->last_error : "see the log");
        if (log_file != NULL)
            fprintf(fp, " (log: \"%s\")", log_file);
        fputc('\n', fp);
        return;
    }
    switch (action) {
    case COLLECT_ONCE:
        if (g != NULL && g->mode == MODE_AOF)
            fprintf(fp, "%s: archived up to incr offset %" PRIu64 " of generation %" PRId64 " (\"%s\")\n",
                    in->name, in->done_shipped, g->generation, g->incr_file);
        else
            fprintf(fp, "%s: archived, newest generation %" PRId64 "\n", in->name, in->last_generation);
        break;
    case COLLECT_BARRIER_NOW:
        time_format_utc(in->last_barrier, t, sizeof(t));
        if (in->last_barrier > 0)
            fprintf(fp, "%s: barrier done at %s: generation %" PRId64 " opened\n", in->name, t,
                    in->last_generation);
        else
            fprintf(fp, "%s: barrier asked of the running collector\n", in->name);
        break;
    case COLLECT_SNAPSHOT_NOW:
        fprintf(fp, "%s: snapshot taken: generation %" PRId64 "\n", in->name, in->last_generation);
        break;
    default:
        break;
    }
}
