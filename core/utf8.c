/* utf8.c - UTF-8 validation and cleaning shared by the core. */
#include "utf8.h"

#include <string.h>
#include "copy.h"

size_t otel_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (n >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

/* otel_utf8_clean (utf8.h) for any input: src (len bytes) to dst as valid
 * UTF-8, at most max bytes, cut at a character boundary. Returns the bytes
 * written. */
size_t otel_utf8_clean_any(char *dst, const char *src, size_t len, size_t max)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t o = otel_utf8_ascii_prefix(p, len < max ? len : max), i = o;
    otel_copy_small(dst, src, o);
    while (i < len) {
        if (p[i] < 0x80 && p[i] != 0) {
            if (o + 1 > max)
                break;
            dst[o++] = (char)p[i++];
            continue;
        }
        size_t k = otel_utf8_seq_len(p + i, len - i);
        if (k == 0) {
            if (o + 3 > max)
                break;
            memcpy(dst + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            continue;
        }
        if (o + k > max)
            break;
        memcpy(dst + o, p + i, k);
        o += k;
        i += k;
    }
    return o;
}
