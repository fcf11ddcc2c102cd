/* fuzz_time.c - libFuzzer target for the TIME argument (common/timeutil.c).
 *
 * The input is a TIME as typed on the command line. A TIME that parses
 * must come back from its printed forms: time_format_utc() and
 * time_format_local() give text that time_parse() reads as the same
 * second (local output only when the zone's offset is a whole minute, as
 * RFC 3339 can write it). A TIME that does not parse is ERR_USAGE. The
 * local zone is Europe/Amsterdam (daylight saving changes, a historical
 * offset with seconds) unless TZ is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "timeutil.h"

static void check_round_trip(const char *how, const char *text, int64_t t)
{
    struct err e;
    int64_t back;

    err_clear(&e);
    if (time_parse(text, &back, &e) < 0)
        fuzz_fail(__FILE__, __LINE__, "%s of %lld is \"%s\", which does not parse: %s", how, (long long)t,
                  text, e.msg);
    fuzz_check(back == t, "%s of %lld is \"%s\", which parses as %lld", how, (long long)t, text,
               (long long)back);
}

/* Whether `t` has a local offset in whole minutes. */
static int local_offset_whole_minutes(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    return localtime_r(&tt, &tm) != NULL && tm.tm_gmtoff % 60 == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("TZ", getenv("TZ") != NULL ? getenv("TZ") : "Europe/Amsterdam", 1);
    tzset();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    char buf[TIME_BUFSZ];
    struct err e;
    int64_t t;

    err_clear(&e);
    if (time_parse(text, &t, &e) < 0) {
        fuzz_check(e.code == ERR_USAGE, "a bad TIME is not a usage error: %s", e.msg);
        free(text);
        return 0;
    }
    time_format_utc(t, buf, sizeof(buf));
    check_round_trip("time_format_utc", buf, t);
    if (local_offset_whole_minutes(t)) {
        time_format_local(t, buf, sizeof(buf));
        check_round_trip("time_format_local", buf, t);
    }
    /* and a value of the input's choosing, formatted and read back */
    if (size >= 8) {
        int64_t any;

        memcpy(&any, data, sizeof(any));
        time_format_utc(any, buf, sizeof(buf));
        check_round_trip("time_format_utc", buf, any);
    }
    free(text);
    return 0;
}
