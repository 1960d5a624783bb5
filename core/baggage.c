/* baggage.c - W3C Baggage: a fixed-capacity member list, the baggage header's
 * parsing (percent-decoding) and formatting (percent-encoding). */
#include <mhd-otel/propagation.h>
#include "text.h"
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* U+FFFD, what a byte that is not UTF-8 (or is NUL) decodes to. */
static const char replacement[3] = {(char)0xef, (char)0xbf, (char)0xbd};

/* baggage-octet: printable ASCII but space, DQUOTE, comma, semicolon and
 * backslash. */
static bool is_baggage_octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* Written as it is in a formatted value; anything else is percent-encoded. */
static bool is_plain(unsigned char c)
{
    return is_baggage_octet(c) && c != '%';
}

static bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = otel_utf8_seq_len(p + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* Bytes of value once percent-encoded. */
static size_t encoded_len(const char *v)
{
    size_t n = 0;
    for (; *v != '\0'; v++)
        n += is_plain((unsigned char)*v) ? 1 : 3;
    return n;
}

/* Write v percent-encoded at out (encoded_len(v) bytes, no NUL). */
static void encode_value(const char *v, char *out)
{
    for (; *v != '\0'; v++) {
        unsigned char c = (unsigned char)*v;
        if (is_plain(c)) {
            *out++ = (char)c;
            continue;
        }
        *out++ = '%';
        out = otel_hex_put(out, c, true);
    }
}

/* The next byte of the raw value s (n bytes) at *pos, decoding a "%XX"
 * escape, and advance *pos. -1 for a bad escape or a raw byte outside
 * baggage-octet. */
static int decode_next(const char *s, size_t n, size_t *pos)
{
    unsigned char c = (unsigned char)s[*pos];
    if (c != '%') {
        (*pos)++;
        return is_baggage_octet(c) ? c : -1;
    }
    int b = otel_pct_byte(s + *pos, n - *pos);
    if (b >= 0)
        *pos += 3;
    return b;
}

/* Percent-decode the raw value s (n bytes) into out (cap bytes; never more
 * than n are needed: a non-ASCII byte comes from a 3-byte escape), each byte
 * that does not start a valid UTF-8 sequence becoming U+FFFD. Returns the
 * length, -1 when the value is malformed, -2 when it does not fit. */
static int decode_value(const char *s, size_t n, char *out, size_t cap)
{
    size_t pos = 0;
    size_t w = 0;
    while (pos < n) {
        unsigned char seq[4];
        size_t got = 0;
        size_t p = pos;
        size_t after_first = 0;
        /* Decode one UTF-8 sequence ahead at most: continuation bytes can
         * only come from escapes. */
        while (got < 4 && p < n && (got == 0 || s[p] == '%')) {
            int c = decode_next(s, n, &p);
            if (c < 0)
                return -1;
            seq[got++] = (unsigned char)c;
            if (got == 1)
                after_first = p;
            if (got == 1 && c < 0x80)
                break;
        }
        size_t k = otel_utf8_seq_len(seq, got);
        const unsigned char *src = seq;
        size_t out_len = k;
        if (k == 0) {
            src = (const unsigned char *)replacement;
            out_len = sizeof replacement;
        }
        if (w + out_len > cap)
            return -2;
        memcpy(out + w, src, out_len);
        w += out_len;
        if (k == 0) {
            pos = after_first;
            continue;
        }
        for (size_t i = 0; i < k; i++) /* consume exactly the bytes used */
            (void)decode_next(s, n, &pos);
    }
    return (int)w;
}

/* Append n bytes of src to out (cap bytes; NULL: only count) at *w. False
 * when they do not fit. */
static bool put(char *out, size_t cap, size_t *w, const char *src, size_t n)
{
    if (cap - *w < n)
        return false;
    if (out != NULL)
        memcpy(out + *w, src, n);
    *w += n;
    return true;
}

/* Validate the properties text s (n bytes, after the member's first ';')
 * and write it to out (cap bytes, NUL-terminated; NULL: only measure) as
 * "p1;p2=v": OWS around each property and its '=' removed, empty ones
 * skipped. Returns the length written, -1 when a property is malformed, -2
 * when it does not fit. */
static int props_normalize(const char *s, size_t n, char *out, size_t cap)
{
    size_t w = 0;
    size_t pos = 0;
    while (pos <= n) {
        const char *seg = s + pos;
        const char *semi = memchr(seg, ';', n - pos);
        size_t seg_len = semi != NULL ? (size_t)(semi - seg) : n - pos;
        pos += seg_len + 1;
        otel_trim_ows(&seg, &seg_len);
        if (seg_len == 0)
            continue;
        const char *eq = memchr(seg, '=', seg_len);
        size_t key_len = eq != NULL ? (size_t)(eq - seg) : seg_len;
        otel_trim_ows(&seg, &key_len);
        if (!otel_is_token(seg, key_len))
            return -1;
        if ((w > 0 && !put(out, cap, &w, ";", 1)) || !put(out, cap, &w, seg, key_len))
            return -2;
        if (eq == NULL)
            continue;
        const char *val = eq + 1;
        size_t val_len = (size_t)((semi != NULL ? semi : s + n) - val);
        otel_trim_ows(&val, &val_len);
        for (size_t i = 0; i < val_len; i++) {
            if (!is_baggage_octet((unsigned char)val[i]))
                return -1;
        }
        if (!put(out, cap, &w, "=", 1) || !put(out, cap, &w, val, val_len))
            return -2;
    }
    if (!put(out, cap, &w, "", 1))
        return -2;
    return (int)(w - 1);
}

/* Index of the member with key k (klen bytes), or -1. */
static int find_key(const otel_baggage *b, const char *k, size_t klen)
{
    for (size_t i = 0; i < b->count; i++) {
        const char *key = b->buf + b->slot[i].key;
        if (strncmp(key, k, klen) == 0 && key[klen] == '\0')
            return (int)i;
    }
    return -1;
}

/* End of member i's bytes in the arena. */
static size_t member_end(const otel_baggage *b, size_t i)
{
    return i + 1 < b->count ? b->slot[i + 1].key : b->used;
}

/* Remove member i, moving the arena bytes after it down, including extra
 * staged bytes past used. */
static void remove_at(otel_baggage *b, size_t i, size_t extra)
{
    size_t start = b->slot[i].key;
    size_t end = member_end(b, i);
    size_t gap = end - start;
    memmove(b->buf + start, b->buf + end, b->used + extra - end);
    b->used = (uint16_t)(b->used - gap);
    b->wire_sum = (uint16_t)(b->wire_sum - b->slot[i].wire);
    memmove(&b->slot[i], &b->slot[i + 1], (b->count - i - 1) * sizeof b->slot[0]);
    b->count--;
    for (size_t j = i; j < b->count; j++) {
        b->slot[j].key = (uint16_t)(b->slot[j].key - gap);
        b->slot[j].value = (uint16_t)(b->slot[j].value - gap);
        b->slot[j].props = (uint16_t)(b->slot[j].props - gap);
    }
}

/* A member staged at buf + used as "key\0value\0props\0" (klen, vlen, plen
 * bytes): append it, replacing a member with the same key, when b stays
 * within the limits. Returns 0 or OTEL_ERR_FULL (b unchanged). */
static int commit_staged(otel_baggage *b, size_t klen, size_t vlen, size_t plen)
{
    const char *key = b->buf + b->used;
    const char *value = key + klen + 1;
    size_t wire = klen + 1 + encoded_len(value) + (plen > 0 ? 1 + plen : 0);
    int old = find_key(b, key, klen);
    size_t count = b->count + 1;
    size_t wire_sum = b->wire_sum + wire;
    if (old >= 0) {
        count--;
        wire_sum -= b->slot[old].wire;
    }
    if (count > OTEL_BAGGAGE_MAX_MEMBERS || wire_sum + count - 1 > OTEL_BAGGAGE_MAX_BYTES)
        return OTEL_ERR_FULL;
    size_t staged = klen + vlen + plen + 3;
    if (old >= 0)
        remove_at(b, (size_t)old, staged);
    otel_baggage_slot *s = &b->slot[b->count++];
    s->key = b->used;
    s->value = (uint16_t)(b->used + klen + 1);
    s->props = (uint16_t)(s->value + vlen + 1);
    s->wire = (uint16_t)wire;
    b->used = (uint16_t)(b->used + staged);
    b->wire_sum = (uint16_t)(b->wire_sum + wire);
    return OTEL_OK;
}

/* Stage and commit one trimmed, non-empty list-member m (n bytes) of a
 * header. Returns 0, OTEL_ERR_PARSE (malformed) or OTEL_ERR_FULL. */
static int parse_member(otel_baggage *b, const char *m, size_t n)
{
    const char *semi = memchr(m, ';', n);
    size_t kv_len = semi != NULL ? (size_t)(semi - m) : n;
    const char *eq = memchr(m, '=', kv_len);
    if (eq == NULL)
        return OTEL_ERR_PARSE;
    const char *key = m;
    size_t klen = (size_t)(eq - m);
    const char *val = eq + 1;
    size_t vlen = kv_len - klen - 1;
    otel_trim_ows(&key, &klen);
    otel_trim_ows(&val, &vlen);
    const char *props = semi != NULL ? semi + 1 : "";
    size_t plen = semi != NULL ? n - kv_len - 1 : 0;
    if (!otel_is_token(key, klen))
        return OTEL_ERR_PARSE;
    size_t avail = sizeof b->buf - b->used;
    if (klen + 3 > avail)
        return OTEL_ERR_FULL;
    char *dst = b->buf + b->used;
    memcpy(dst, key, klen);
    dst[klen] = '\0';
    int dlen = decode_value(val, vlen, dst + klen + 1, avail - klen - 3);
    if (dlen < 0)
        return dlen == -2 ? OTEL_ERR_FULL : OTEL_ERR_PARSE;
    size_t off = klen + 1 + (size_t)dlen;
    dst[off++] = '\0';
    int pn = props_normalize(props, plen, dst + off, avail - off);
    if (pn < 0)
        return pn == -2 ? OTEL_ERR_FULL : OTEL_ERR_PARSE;
    return commit_staged(b, klen, (size_t)dlen, (size_t)pn);
}

void otel_baggage_init(otel_baggage *b)
{
    b->count = 0;
    b->used = 0;
    b->wire_sum = 0;
}

/* Add the members of one field line (len bytes) to b. */
static void parse_line(otel_baggage *b, const char *value, size_t len)
{
    size_t pos = 0;
    while (pos <= len) {
        const char *seg = value + pos;
        const char *comma = memchr(seg, ',', len - pos);
        size_t seg_len = comma != NULL ? (size_t)(comma - seg) : len - pos;
        pos += seg_len + 1;
        otel_trim_ows(&seg, &seg_len);
        if (seg_len > 0)
            (void)parse_member(b, seg, seg_len); /* a bad member is dropped */
    }
}

int otel_baggage_parse_lines(otel_baggage *b, const char *const *values, const size_t *lens,
                             size_t n_lines)
{
    if (b == NULL)
        return OTEL_ERR_INVALID;
    otel_baggage_init(b);
    for (size_t i = 0; i < n_lines; i++) {
        if (values[i] != NULL)
            parse_line(b, values[i], lens[i]);
    }
    return b->count;
}

int otel_baggage_parse(otel_baggage *b, const char *value, size_t len)
{
    return otel_baggage_parse_lines(b, &value, &len, 1);
}

int otel_baggage_format(const otel_baggage *b, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return OTEL_ERR_INVALID;
    size_t max = cap - 1 < OTEL_BAGGAGE_MAX_BYTES ? cap - 1 : OTEL_BAGGAGE_MAX_BYTES;
    size_t w = 0;
    size_t n = b != NULL ? b->count : 0;
    for (size_t i = 0; i < n && i < OTEL_BAGGAGE_MAX_MEMBERS; i++) {
        const otel_baggage_slot *s = &b->slot[i];
        const char *key = b->buf + s->key;
        const char *value = b->buf + s->value;
        const char *props = b->buf + s->props;
        size_t klen = strlen(key);
        size_t vlen = encoded_len(value);
        size_t plen = strlen(props);
        size_t need = (w > 0 ? 1 : 0) + klen + 1 + vlen + (plen > 0 ? 1 + plen : 0);
        if (w + need > max)
            break;
        if (w > 0)
            out[w++] = ',';
        memcpy(out + w, key, klen);
        w += klen;
        out[w++] = '=';
        encode_value(value, out + w);
        w += vlen;
        if (plen > 0) {
            out[w++] = ';';
            memcpy(out + w, props, plen);
            w += plen;
        }
    }
    out[w] = '\0';
    return (int)w;
}

int otel_baggage_set(otel_baggage *b, const char *key, const char *value, const char *props)
{
    if (b == NULL || key == NULL || value == NULL)
        return OTEL_ERR_INVALID;
    size_t klen = strlen(key);
    size_t vlen = strlen(value);
    if (props == NULL)
        props = "";
    size_t plen = strlen(props);
    int pn = props_normalize(props, plen, NULL, SIZE_MAX);
    if (!otel_is_token(key, klen) || !utf8_valid(value, vlen) || pn < 0)
        return OTEL_ERR_INVALID;
    /* Check the limits before an old member with the key is removed. */
    size_t wire = klen + 1 + encoded_len(value) + (pn > 0 ? 1 + (size_t)pn : 0);
    int old = find_key(b, key, klen);
    size_t count = b->count + (old >= 0 ? 0 : 1);
    size_t wire_sum = b->wire_sum + wire - (old >= 0 ? b->slot[old].wire : 0);
    if (count > OTEL_BAGGAGE_MAX_MEMBERS || wire_sum + count - 1 > OTEL_BAGGAGE_MAX_BYTES)
        return OTEL_ERR_FULL;
    if (old >= 0)
        remove_at(b, (size_t)old, 0);
    /* Within the limits the arena has room: each member takes at most its
     * wire length plus 2 bytes there. */
    size_t avail = sizeof b->buf - b->used;
    if (klen + vlen + (size_t)pn + 3 > avail)
        return OTEL_ERR_FULL;
    char *dst = b->buf + b->used;
    memcpy(dst, key, klen + 1);
    memcpy(dst + klen + 1, value, vlen + 1);
    props_normalize(props, plen, dst + klen + 1 + vlen + 1, (size_t)pn + 1);
    return commit_staged(b, klen, vlen, (size_t)pn);
}

const char *otel_baggage_get(const otel_baggage *b, const char *key)
{
    if (b == NULL || key == NULL)
        return NULL;
    int i = find_key(b, key, strlen(key));
    return i >= 0 ? b->buf + b->slot[i].value : NULL;
}

bool otel_baggage_remove(otel_baggage *b, const char *key)
{
    if (b == NULL || key == NULL)
        return false;
    int i = find_key(b, key, strlen(key));
    if (i < 0)
        return false;
    remove_at(b, (size_t)i, 0);
    return true;
}

size_t otel_baggage_count(const otel_baggage *b)
{
    return b != NULL ? b->count : 0;
}

int otel_baggage_at(const otel_baggage *b, size_t i, otel_baggage_member *out)
{
    if (b == NULL || out == NULL || i >= b->count)
        return OTEL_ERR_RANGE;
    out->key = b->buf + b->slot[i].key;
    out->value = b->buf + b->slot[i].value;
    out->props = b->buf + b->slot[i].props;
    return OTEL_OK;
}
