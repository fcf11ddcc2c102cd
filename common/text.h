/* text.h - fixed-size C strings: the one place that cuts a string to fit.
 *
 * Messages, reasons and names are often kept in char arrays of a set size
 * (index rows, status rows, error details). text_copy() is how a string
 * goes into one: cut at the array's size, always terminated, and without
 * the truncation warnings that snprintf("%s") draws when the compiler can
 * see both sizes. */
#ifndef AOFROLL_TEXT_H
#define AOFROLL_TEXT_H

#include <stddef.h>

/* Copy src into dst[n], cutting it to fit (nothing when n is 0). */
void text_copy(char *dst, size_t n, const char *src);

#endif
