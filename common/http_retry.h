/* http_retry.h - what the HTTP storage backends (s3://, azure://) share
 * around libcurl: which failures are worth another attempt, the backoff
 * between attempts, and the callbacks that hand a request body to curl
 * (rewindable, for a retried or redirected upload) and collect an answer.
 *
 * The policy (both backends): connection errors, timeouts, HTTP 5xx and
 * 429 are transient; the wait before attempt n+1 is min(cap, base *
 * 2^(n-1)), then a random point in its upper half ("equal jitter"), from
 * a per-handle xorshift state so that handles in different threads need
 * no shared generator. */
#ifndef AOFROLL_HTTP_RETRY_H
#define AOFROLL_HTTP_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

int http_curl_retryable(CURLcode c);
int http_status_retryable(long status);

struct http_backoff {
    int base_ms; /* before the 2nd attempt; doubles after */
    int max_ms;  /* the cap */
    uint64_t rng;
};

/* Seed from the time, the pid and `salt` (e.g. the handle's address). */
void http_backoff_init(struct http_backoff *b, int base_ms, int max_ms, const void *salt);
long http_backoff_ms(struct http_backoff *b, int attempt);
void http_sleep_ms(long ms);

/* The body of an upload: CURLOPT_READFUNCTION/READDATA and
 * CURLOPT_SEEKFUNCTION/SEEKDATA. */
struct http_upload {
    const char *data;
    size_t len, off;
};

size_t http_read_cb(char *ptr, size_t size, size_t nmemb, void *ud);
int http_seek_cb(void *ud, curl_off_t offset, int origin);
/* CURLOPT_WRITEFUNCTION appending to the struct buf in CURLOPT_WRITEDATA. */
size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud);

#endif
