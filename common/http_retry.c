/* http_retry.c - the retry policy and curl callbacks that storage_s3.c and
 * storage_azure.c share (see http_retry.h). */
#include "http_retry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

int http_curl_retryable(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SEND_FAIL_REWIND:
        return 1;
    default:
        return 0;
    }
}

int http_status_retryable(long status)
{
    return status >= 500 || status == 429;
}

void http_backoff_init(struct http_backoff *b, int base_ms, int max_ms, const void *salt)
{
    b->base_ms = base_ms;
    b->max_ms = max_ms;
    b->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)salt;
    if (b->rng == 0)
        b->rng = 0x9E3779B97F4A7C15ULL;
}

long http_backoff_ms(struct http_backoff *b, int attempt)
{
    long delay = b->base_ms;
    int i;

    for (i = 1; i < attempt && delay < b->max_ms; i++)
        delay *= 2;
    if (delay > b->max_ms)
        delay = b->max_ms;
    if (delay <= 1)
        return delay;
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return delay / 2 + (long)(b->rng % (uint64_t)(delay / 2 + 1));
}

void http_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

size_t http_read_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct http_upload *up = ud;
    size_t n = size * nmemb;

    if (n > up->len - up->off)
        n = up->len - up->off;
    memcpy(ptr, up->data + up->off, n);
    up->off += n;
    return n;
}

int http_seek_cb(void *ud, curl_off_t offset, int origin)
{
    struct http_upload *up = ud;

    if (origin != SEEK_SET || offset < 0 || (size_t)offset > up->len)
        return CURL_SEEKFUNC_FAIL;
    up->off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

size_t http_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    buf_append(ud, ptr, size * nmemb);
    return size * nmemb;
}
