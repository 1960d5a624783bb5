/* utf8.h - UTF-8 validation shared by the core. Not a public header. */
#ifndef OTEL_UTF8_H
#define OTEL_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0 when the
 * bytes there are not one: NUL, overlong forms, surrogates and values over
 * U+10FFFF are refused. */
size_t otel_utf8_seq_len(const unsigned char *s, size_t n);

/* Length of the leading run of src (n bytes) that is plain ASCII without
 * NUL: valid as they are. Eight bytes at a time. */
static inline size_t otel_utf8_ascii_prefix(const unsigned char *p, size_t n)
{
    const uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w & high) != 0 || ((w - ones) & ~w & high) != 0)
            break;
    }
    while (i < n && p[i] != 0 && p[i] < 0x80)
        i++;
    return i;
}

/* Write src (len bytes) to dst as valid UTF-8 (each invalid byte and each
 * NUL becomes U+FFFD), at most max bytes, cut at a character boundary.
 * Returns the bytes written; dst is not NUL-terminated. 3 * len bytes
 * always hold the whole of src. */
size_t otel_utf8_clean(char *dst, const char *src, size_t len, size_t max);

#endif /* OTEL_UTF8_H */
