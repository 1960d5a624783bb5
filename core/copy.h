/* copy.h - copies and comparisons of the few bytes attribute keys, values
 * and request paths mostly are, without a call into the C library. Not a
 * public header. */
#ifndef OTEL_COPY_H
#define OTEL_COPY_H

#include <stdbool.h>
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

/* Whether the first and the last word of type T of the n bytes (n >=
 * sizeof(T)) at x and at y are the same. */
#define OTEL_EQUAL_ENDS(T, x, y, n)                                                                \
    __extension__({                                                                                \
        T p_, q_, r_, s_;                                                                          \
        memcpy(&p_, (x), sizeof(T));                                                               \
        memcpy(&q_, (y), sizeof(T));                                                               \
        memcpy(&r_, (x) + (n) - sizeof(T), sizeof(T));                                             \
        memcpy(&s_, (y) + (n) - sizeof(T), sizeof(T));                                             \
        ((p_ ^ q_) | (r_ ^ s_)) == 0;                                                              \
    })

/* Whether the n bytes at a and b are the same, as memcmp(a, b, n) == 0 is,
 * with the loads otel_copy_small makes: nothing outside the n bytes of
 * either is read. */
static inline bool otel_equal_small(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    if (n > 32)
        return memcmp(x, y, n) == 0;
    if (n >= 16) /* the first 16 bytes and the last 16 */
        return OTEL_EQUAL_ENDS(uint64_t, x, y, 16) &&
               OTEL_EQUAL_ENDS(uint64_t, x + n - 16, y + n - 16, 16);
    if (n >= 8)
        return OTEL_EQUAL_ENDS(uint64_t, x, y, n);
    if (n >= 4)
        return OTEL_EQUAL_ENDS(uint32_t, x, y, n);
    return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
}

#endif /* OTEL_COPY_H */
