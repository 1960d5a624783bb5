/* text.h - small grammar pieces shared by every layer: optional whitespace,
 * hex digits and percent-escapes, RFC 9110 tokens, host:port, the known
 * HTTP methods, and growable buffers. The ones on a request path are
 * static inline here. */
#ifndef OTEL_TEXT_H
#define OTEL_TEXT_H

#include <mhd-otel/otel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- optional whitespace (RFC 9110 section 5.6.3 "Whitespace") ---------- */

/* OWS = *( SP / HTAB ). */
static inline bool otel_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Narrow [*s, *s + *len) to drop OWS at both ends. */
static inline void otel_trim_ows(const char **s, size_t *len)
{
    while (*len > 0 && otel_is_ows((*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && otel_is_ows((*s)[*len - 1]))
        (*len)--;
}

/* ---- hex digits (RFC 5234 appendix B.1 HEXDIG, either case) ------------- */

/* Value of a hex digit of either case, or -1. */
static inline int otel_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Value of a lowercase hex digit, or -1 for anything else (uppercase too):
 * W3C traceparent and B3 ids are lowercase only. */
static inline int otel_hex_lower_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode 2n lowercase hex chars at s into n bytes at out. False on a char
 * that is not one (out then holds a part). */
static inline bool otel_hex_decode_lower(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = otel_hex_lower_value(s[2 * i]);
        int lo = otel_hex_lower_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return true;
}

/* The two hex digits of b at out (no NUL): lowercase, or uppercase when
 * upper (what RFC 3986 section 2.1 wants of a percent-encoding). Returns
 * out + 2. otel_hex_encode (otel.h) writes a run of bytes. */
static inline char *otel_hex_put(char *out, uint8_t b, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    out[0] = digits[b >> 4];
    out[1] = digits[b & 0x0f];
    return out + 2;
}

/* The byte of the percent-escape "%" HEXDIG HEXDIG (RFC 3986 section 2.1)
 * at the start of s (n bytes), or -1 when s does not start with one. */
static inline int otel_pct_byte(const char *s, size_t n)
{
    if (n < 3 || s[0] != '%')
        return -1;
    int hi = otel_hex_value(s[1]);
    int lo = otel_hex_value(s[2]);
    return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/* ---- tokens (RFC 9110 section 5.6.2 "Tokens") ---------------------------- */

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
 * as two bit sets over ASCII: bit c of the first for c < 64, bit c - 64 of
 * the second. */
#define OTEL_TCHAR_LO UINT64_C(0x03ff6cfa00000000)
#define OTEL_TCHAR_HI UINT64_C(0x57ffffffc7fffffe)

static inline bool otel_is_tchar(char c)
{
    unsigned char u = (unsigned char)c;
    if (u >= 128)
        return false;
    return ((u < 64 ? OTEL_TCHAR_LO >> u : OTEL_TCHAR_HI >> (u - 64)) & 1) != 0;
}

/* token = 1*tchar: s (n bytes) is one. */
static inline bool otel_is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!otel_is_tchar(s[i]))
            return false;
    }
    return true;
}

/* ---- host and port (RFC 3986 sections 3.2.2 "Host", 3.2.3 "Port") -------- */

/* An authority's host and port, as slices of the text it was split from. */
typedef struct otel_hostport {
    const char *host; /* an IP-literal without its brackets */
    size_t host_len;
    const char *port; /* the text after the port's ':'; NULL: no ':' */
    size_t port_len;
    bool bracketed; /* host was an IP-literal "[...]" */
} otel_hostport;

/* Split s (n bytes: host [ ":" port ], no userinfo, no path) into out. A
 * leading '[' makes the host an IP-literal up to the next ']', after which
 * only ":" port may come; otherwise the first ':' ends the host (a reg-name
 * or IPv4address has none). Returns false, with out filled as far as it
 * goes (the host up to the end or the ']', no port), when the '[' has no
 * ']' or something else follows the ']'. Nothing is validated beyond that:
 * see otel_port_parse. */
bool otel_hostport_split(const char *s, size_t n, otel_hostport *out);

/* The port s (n bytes): 1 to 5 digits (port = *DIGIT, leading zeros
 * allowed) naming 1..65535. Returns the number, or -1 for anything else,
 * an empty port and port 0 included. */
long otel_port_parse(const char *s, size_t n);

/* ---- HTTP methods ------------------------------------------------------- */

/* The OpenTelemetry HTTP semantic conventions' "known" methods
 * (http.request.method): the eight of RFC 9110 section 9.3 "Method
 * Definitions" (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE) and
 * PATCH of RFC 5789, compared case-sensitively. Returns the static name equal to method, or
 * NULL (method NULL or not one of them: "_OTHER" in the conventions). */
const char *otel_http_method_known(const char *method);

/* Those nine names as otel_http_method_known returns them (one address
 * each), and the place of one of them in the list. */
#define OTEL_HTTP_KNOWN_METHODS 9
extern const char *const otel_http_known_methods[OTEL_HTTP_KNOWN_METHODS];
extern const unsigned char otel_http_known_method_lens[OTEL_HTTP_KNOWN_METHODS];

static inline unsigned otel_http_method_index(const char *known)
{
    unsigned i = 0;
    while (i < OTEL_HTTP_KNOWN_METHODS - 1 && otel_http_known_methods[i] != known)
        i++;
    return i;
}

/* ---- growable buffers --------------------------------------------------- */

/* Grow *buf (capacity *cap bytes) to hold need bytes, contents kept: the
 * capacity doubles from min_cap until it fits (or becomes need when
 * doubling would overflow). Returns 0, or OTEL_ERR_NOMEM with *buf and *cap
 * unchanged. */
int otel_grow(void **buf, size_t *cap, size_t need, size_t min_cap);

/* The capacity otel_grow picks for need out of cap (at least min_cap). For
 * arrays grown in step under one count. */
size_t otel_grow_cap(size_t cap, size_t need, size_t min_cap);

/* A byte buffer that grows: len bytes used of cap. Zeroed is empty; the
 * owner frees data with otel_free. */
typedef struct otel_buf {
    char *data;
    size_t len;
    size_t cap;
} otel_buf;

/* Make room for extra more bytes after len (the first growth takes at least
 * 4 KiB). Returns 0, or OTEL_ERR_NOMEM with b unchanged (extra too large
 * included). */
int otel_buf_reserve(otel_buf *b, size_t extra);

/* Append n bytes at p (no NUL is added). Returns 0 or OTEL_ERR_NOMEM (b
 * unchanged). */
int otel_buf_append(otel_buf *b, const void *p, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* OTEL_TEXT_H */
