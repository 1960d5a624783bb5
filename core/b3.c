/* b3.c - Zipkin B3 propagation: the single "b3" header and the X-B3-*
 * header values, parsed into and formatted from a span context. */
#include <mhd-otel/propagation.h>
#include "text.h"

#include <string.h>
#include <strings.h>

#define B3_FIELDS_MAX 4 /* trace id, span id, sampling state, parent span id */

/* One field of a b3 header value. */
typedef struct b3_field {
    const char *s;
    size_t len;
} b3_field;

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

/* A 64- or 128-bit trace id (16 or 32 hex), left-padded to 128 bits. */
static bool trace_id_decode(const char *s, size_t len, uint8_t out[16])
{
    memset(out, 0, 16);
    if (len == 32)
        return otel_hex_decode_lower(s, 16, out);
    if (len == 16)
        return otel_hex_decode_lower(s, 8, out + 8);
    return false;
}

static bool span_id_decode(const char *s, size_t len, uint8_t out[8])
{
    return len == 16 && otel_hex_decode_lower(s, 8, out);
}

/* Fill sc from the id fields; false when either is malformed or zero. */
static bool ids_decode(b3_field trace, b3_field span, otel_span_context *sc)
{
    if (!trace_id_decode(trace.s, trace.len, sc->trace_id) ||
        !span_id_decode(span.s, span.len, sc->span_id))
        return false;
    return !all_zero(sc->trace_id, sizeof sc->trace_id) &&
           !all_zero(sc->span_id, sizeof sc->span_id);
}

/* Split v (len bytes) at '-' into f. Returns the field count, or 0 when
 * there are more than B3_FIELDS_MAX. */
static size_t split_fields(const char *v, size_t len, b3_field f[B3_FIELDS_MAX])
{
    size_t n = 0;
    size_t pos = 0;
    while (pos <= len) {
        if (n == B3_FIELDS_MAX)
            return 0;
        const char *dash = memchr(v + pos, '-', len - pos);
        size_t flen = dash != NULL ? (size_t)(dash - (v + pos)) : len - pos;
        f[n].s = v + pos;
        f[n].len = flen;
        n++;
        pos += flen + 1;
    }
    return n;
}

/* Apply a single-header sampling state to sc: 0, 1 or d (debug, which
 * implies sampled). False for anything else. */
static bool sampling_state_apply(b3_field f, otel_span_context *sc)
{
    if (f.len != 1 || (f.s[0] != '0' && f.s[0] != '1' && f.s[0] != 'd'))
        return false;
    sc->trace_flags = f.s[0] == '0' ? 0 : OTEL_TRACE_FLAG_SAMPLED;
    sc->debug = f.s[0] == 'd';
    return true;
}

/* The flags for a trimmed X-B3-Sampled value: 0, 1, true, false (any
 * case). -1 for anything else. */
static int sampled_header_flags(b3_field f)
{
    if ((f.len == 1 && f.s[0] == '1') || (f.len == 4 && strncasecmp(f.s, "true", 4) == 0))
        return OTEL_TRACE_FLAG_SAMPLED;
    if ((f.len == 1 && f.s[0] == '0') || (f.len == 5 && strncasecmp(f.s, "false", 5) == 0))
        return 0;
    return -1;
}

/* A NUL-terminated header value as a trimmed field. */
static b3_field field_of(const char *v)
{
    b3_field f = {v, strlen(v)};
    otel_trim_ows(&f.s, &f.len);
    return f;
}

int otel_b3_parse(const char *value, size_t len, otel_span_context *out)
{
    b3_field f[B3_FIELDS_MAX];
    otel_span_context sc;

    memset(out, 0, sizeof *out);
    memset(&sc, 0, sizeof sc);
    if (value == NULL)
        return OTEL_ERR_PARSE;
    otel_trim_ows(&value, &len);
    size_t n = split_fields(value, len, f);
    /* One field is a sampling state alone: a decision without a context. */
    if (n < 2 || !ids_decode(f[0], f[1], &sc))
        return OTEL_ERR_PARSE;
    if (n >= 3 && !sampling_state_apply(f[2], &sc))
        return OTEL_ERR_PARSE;
    uint8_t parent[8];
    if (n == 4 && !span_id_decode(f[3].s, f[3].len, parent))
        return OTEL_ERR_PARSE;
    sc.is_remote = true;
    *out = sc;
    return OTEL_OK;
}

int otel_b3_multi_parse(const char *trace_id, const char *span_id, const char *sampled,
                        const char *flags, otel_span_context *out)
{
    otel_span_context sc;

    memset(out, 0, sizeof *out);
    memset(&sc, 0, sizeof sc);
    if (trace_id == NULL || span_id == NULL ||
        !ids_decode(field_of(trace_id), field_of(span_id), &sc))
        return OTEL_ERR_PARSE;
    int sampled_flags = sampled != NULL ? sampled_header_flags(field_of(sampled)) : 0;
    if (sampled_flags < 0)
        return OTEL_ERR_PARSE;
    sc.trace_flags = (uint8_t)sampled_flags;
    /* openzipkin/b3-propagation, "Debug Flag": "Debug is encoded as
     * X-B3-Flags: 1. Absent or any other value can be ignored." */
    if (flags != NULL) {
        b3_field f = field_of(flags);
        if (f.len == 1 && f.s[0] == '1') { /* an accept decision, whatever X-B3-Sampled says */
            sc.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
            sc.debug = true;
        }
    }
    sc.is_remote = true;
    *out = sc;
    return OTEL_OK;
}

void otel_b3_format(const otel_span_context *sc, char *out)
{
    otel_hex_encode(sc->trace_id, sizeof sc->trace_id, out);
    out[32] = '-';
    otel_hex_encode(sc->span_id, sizeof sc->span_id, out + 33);
    out[49] = '-';
    out[50] = sc->debug ? 'd' : (sc->trace_flags & OTEL_TRACE_FLAG_SAMPLED) ? '1' : '0';
    out[51] = '\0';
}
