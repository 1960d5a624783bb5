/* copy.h - copies of the few bytes attribute keys and values mostly are,
 * without a call into the C library. Not a public header. */
#ifndef OTEL_COPY_H
#define OTEL_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Copy n bytes from src to dst (not overlapping), as memcpy does. Up to 32
 * bytes are moved as two loads and two stores of the widest size that fits
 * (overlapping in the middle); past that, memcpy. Nothing outside
 * [src, src + n) is read, nothing outside [dst, dst + n) written. */
static inline void otel_copy_small(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n >= 16) {
        if (n > 32) {
            memcpy(d, s, n);
            return;
        }
        uint64_t a[2], b[2];
        memcpy(a, s, 16);
        memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    }
}

#endif /* OTEL_COPY_H */
