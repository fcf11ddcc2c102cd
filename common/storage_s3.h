/* storage_s3.h - knobs of the s3:// backend that the configuration does
 * not expose.
 *
 * storage_open() uses the defaults (5 attempts per request, backoff from
 * 100 ms doubling up to 5 s, with jitter). Tests that provoke failures on
 * purpose open the backend with smaller numbers so that they stay fast. */
#ifndef AOFROLL_STORAGE_S3_H
#define AOFROLL_STORAGE_S3_H

#include "storage.h"

struct s3_tuning {
    int attempts;           /* tries per request, >= 1 */
    int base_delay_ms;      /* backoff before the 2nd try; doubles after */
    int max_delay_ms;       /* backoff cap */
    long connect_timeout_s; /* TCP + TLS connect */
    long low_speed_time_s;  /* abort a transfer below 1 KiB/s for this long */
};

void storage_s3_tuning_default(struct s3_tuning *t);
int storage_s3_open_tuned(const struct config *cfg, const struct s3_tuning *t, struct storage **out,
                          struct err *e);

#endif
