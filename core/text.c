/* text.c - the grammar pieces of text.h that are not inline: host:port,
 * the known HTTP methods, hex encoding, growable buffers. */
#include "text.h"

#include <string.h>
#include "alloc.h"

#define PORT_MAX 65535
#define BUF_MIN_CAP 4096

bool otel_hostport_split(const char *s, size_t n, otel_hostport *out)
{
    memset(out, 0, sizeof(*out));
    out->host = s;
    out->host_len = n;
    const char *colon;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        out->bracketed = true;
        out->host = s + 1;
        out->host_len = close != NULL ? (size_t)(close - s - 1) : n - 1;
        if (close == NULL)
            return false;
        size_t after = n - (size_t)(close + 1 - s);
        if (after > 0 && close[1] != ':')
            return false;
        colon = after > 0 ? close + 1 : NULL;
    } else {
        colon = memchr(s, ':', n);
        if (colon != NULL)
            out->host_len = (size_t)(colon - s);
    }
    if (colon != NULL) {
        out->port = colon + 1;
        out->port_len = (size_t)(s + n - colon - 1);
    }
    return true;
}

long otel_port_parse(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n > 5)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= PORT_MAX ? v : -1;
}

/* Whether m is lit (n bytes, a literal): compared a byte at a time, each
 * only after the one before matched (m may be shorter); unrolled for a
 * literal, where a call to strcmp would cost more than the comparison. */
static inline __attribute__((always_inline)) bool str_is(const char *m, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i] != lit[i])
            return false;
    return m[n] == '\0';
}

/* The known methods' names: arrays, so that each has one address. */
static const char m_get[] = "GET", m_head[] = "HEAD", m_post[] = "POST", m_put[] = "PUT",
                  m_delete[] = "DELETE", m_connect[] = "CONNECT", m_options[] = "OPTIONS",
                  m_trace[] = "TRACE", m_patch[] = "PATCH";

const char *const otel_http_known_methods[OTEL_HTTP_KNOWN_METHODS] = {
    m_get, m_head, m_post, m_put, m_delete, m_connect, m_options, m_trace, m_patch};
const unsigned char otel_http_known_method_lens[OTEL_HTTP_KNOWN_METHODS] = {
    sizeof(m_get) - 1,     sizeof(m_head) - 1,   sizeof(m_post) - 1,
    sizeof(m_put) - 1,     sizeof(m_delete) - 1, sizeof(m_connect) - 1,
    sizeof(m_options) - 1, sizeof(m_trace) - 1,  sizeof(m_patch) - 1};

/* m as the name lit (one of the above) when m is that, else NULL; m[0] is
 * lit's first letter already. */
#define METHOD_IS(m, lit) (str_is((m) + 1, (lit) + 1, sizeof(lit) - 2) ? (lit) : NULL)

const char *otel_http_method_known(const char *m)
{
    /* The first letter picks the one candidate. */
    if (m == NULL)
        return NULL;
    switch (m[0]) {
    case 'G':
        return METHOD_IS(m, m_get);
    case 'H':
        return METHOD_IS(m, m_head);
    case 'P':
        return m[1] == 'O'   ? METHOD_IS(m, m_post)
               : m[1] == 'U' ? METHOD_IS(m, m_put)
                             : METHOD_IS(m, m_patch);
    case 'D':
        return METHOD_IS(m, m_delete);
    case 'C':
        return METHOD_IS(m, m_connect);
    case 'O':
        return METHOD_IS(m, m_options);
    case 'T':
        return METHOD_IS(m, m_trace);
    default:
        return NULL;
    }
}

void otel_hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        out = otel_hex_put(out, in[i], false);
    *out = '\0';
}

size_t otel_grow_cap(size_t cap, size_t need, size_t min_cap)
{
    size_t c = cap < min_cap ? min_cap : cap;
    if (c == 0)
        c = 1;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    return c;
}

int otel_grow(void **buf, size_t *cap, size_t need, size_t min_cap)
{
    if (need <= *cap)
        return OTEL_OK;
    size_t c = otel_grow_cap(*cap, need, min_cap);
    void *p = otel_realloc(*buf, c);
    if (p == NULL)
        return OTEL_ERR_NOMEM;
    *buf = p;
    *cap = c;
    return OTEL_OK;
}

int otel_buf_reserve(otel_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return OTEL_ERR_NOMEM;
    void *p = b->data;
    int rc = otel_grow(&p, &b->cap, b->len + extra, BUF_MIN_CAP);
    b->data = p;
    return rc;
}

int otel_buf_append(otel_buf *b, const void *p, size_t n)
{
    if (otel_buf_reserve(b, n) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return OTEL_OK;
}
