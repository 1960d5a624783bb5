/* utf8.h - UTF-8 validation shared by the core. Not a public header. */
#ifndef OTEL_UTF8_H
#define OTEL_UTF8_H

#include <stdbool.h>
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

/* Whether the n bytes at p are all plain ASCII without NUL (the prefix
 * above is n), a word at a time: the last word is loaded to end at p + n,
 * overlapping the one before it, instead of a byte loop over the rest. */
static inline bool otel_utf8_ascii_all(const unsigned char *p, size_t n)
{
    const uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
    uint64_t w;
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (p[i] == 0 || p[i] >= 0x80)
                return false;
        return true;
    }
    if (n < 8) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        w = (uint64_t)a << 32 | b; /* eight bytes of p, some twice */
    } else {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&w, p + i, 8);
            if ((w & high) != 0 || ((w - ones) & ~w & high) != 0)
                return false;
        }
        memcpy(&w, p + n - 8, 8);
    }
    return (w & high) == 0 && ((w - ones) & ~w & high) == 0;
}

/* otel_utf8_ascii_copy16 and otel_utf8_ascii_copy16_nonul: nul tells
 * whether a NUL among the n bytes is looked for (a constant: the test is
 * left out when not). */
static inline __attribute__((always_inline)) bool ascii_copy16(char *dst, const char *src, size_t n,
                                                               bool nul)
{
    const uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        if (((a | b) & high) != 0 || (nul && ((((a - ones) & ~a) | ((b - ones) & ~b)) & high)))
            return false;
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
        return true;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        uint64_t w = (uint64_t)a << 32 | b; /* eight bytes of src, some twice */
        if ((w & high) != 0 || (nul && ((w - ones) & ~w & high) != 0))
            return false;
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if ((nul && c == 0) || c >= 0x80)
            return false;
        dst[i] = (char)c;
    }
    return true;
}

/* For n <= 16: when the n bytes at src are plain ASCII without NUL, copy
 * them to dst (not overlapping) and return true; else false, with dst's
 * first n bytes unspecified. Two (overlapping) loads checked at once. */
static inline bool otel_utf8_ascii_copy16(char *dst, const char *src, size_t n)
{
    return ascii_copy16(dst, src, n, true);
}

/* otel_utf8_ascii_copy16 for n bytes known to hold no NUL (a strlen's). */
static inline bool otel_utf8_ascii_copy16_nonul(char *dst, const char *src, size_t n)
{
    return ascii_copy16(dst, src, n, false);
}

/* otel_utf8_clean for what the short plain case does not cover. */
size_t otel_utf8_clean_any(char *dst, const char *src, size_t len, size_t max);

/* Write src (len bytes) to dst as valid UTF-8 (each invalid byte and each
 * NUL becomes U+FFFD), at most max bytes, cut at a character boundary.
 * Returns the bytes written; dst is not NUL-terminated. 3 * len bytes
 * always hold the whole of src. Short plain values, what most are, are
 * copied inline, without a call. */
static inline size_t otel_utf8_clean(char *dst, const char *src, size_t len, size_t max)
{
    if (len <= 16 && len <= max && otel_utf8_ascii_copy16(dst, src, len))
        return len;
    return otel_utf8_clean_any(dst, src, len, max);
}

#endif /* OTEL_UTF8_H */
