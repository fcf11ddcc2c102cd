/* text.c - fixed-size C strings. See text.h. */
#include "text.h"

#include <string.h>

void text_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    if (n == 0)
        return;
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}
