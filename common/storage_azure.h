/* storage_azure.h - knobs of the azure:// backend that the configuration
 * does not expose.
 *
 * storage_open() uses the defaults: 5 attempts per request, backoff from
 * 100 ms doubling up to 5 s with jitter (as s3://), and objects up to
 * 256 MiB put with one Put Blob, larger ones as 64 MiB blocks committed
 * by Put Block List. Tests open the backend with smaller numbers to
 * provoke retries and block lists on small objects. */
#ifndef AOFROLL_STORAGE_AZURE_H
#define AOFROLL_STORAGE_AZURE_H

#include "storage.h"

struct azure_tuning {
    int attempts;           /* tries per request, >= 1 */
    int base_delay_ms;      /* backoff before the 2nd try; doubles after */
    int max_delay_ms;       /* backoff cap */
    long connect_timeout_s; /* TCP + TLS connect */
    long low_speed_time_s;  /* abort a transfer below 1 KiB/s for this long */
    size_t single_put_max;  /* larger objects go up as blocks */
    size_t block_size;      /* bytes per block */
    int list_max;           /* names per List Blobs page, 1 to 5000 */
};

void storage_azure_tuning_default(struct azure_tuning *t);
int storage_azure_open_tuned(const struct config *cfg, const struct azure_tuning *t, struct storage **out,
                             struct err *e);

#endif
