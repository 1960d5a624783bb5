/* propagator.c - W3C Trace Context: traceparent and tracestate parsing and formatting. */
#include <mhd-otel/otel.h>
#include "text.h"

#include <string.h>

/* Offsets of the fields of a traceparent value ("vv-tttt...-pppp...-ff"). */
#define TP_TRACE_ID_OFF 3
#define TP_SPAN_ID_OFF 36
#define TP_FLAGS_OFF 53

/* Limits of the tracestate grammar (W3C Trace Context Level 1, "list" and
 * "list-members"). */
#define TS_KEY_MAX 256
#define TS_VALUE_MAX 256
#define TS_LONG_MEMBER 128 /* truncation drops members longer than this first */

/* One tracestate member found in the input: where it is and whether the
 * output keeps it. */
typedef struct ts_member {
    const char *start;
    size_t len; /* key=value */
    size_t key_len;
    bool keep;
} ts_member;

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

/* Parse a trimmed traceparent value into sc. False when it must be ignored. */
static bool traceparent_decode(const char *v, size_t len, otel_span_context *sc)
{
    uint8_t version;
    uint8_t flags;

    if (len < OTEL_TRACEPARENT_LEN) {
        return false;
    }
    if (!otel_hex_decode_lower(v, 1, &version) || version == 0xff) {
        return false;
    }
    if (v[2] != '-' || v[TP_SPAN_ID_OFF - 1] != '-' || v[TP_FLAGS_OFF - 1] != '-') {
        return false;
    }
    if (version == 0x00 && len != OTEL_TRACEPARENT_LEN) {
        return false;
    }
    if (len > OTEL_TRACEPARENT_LEN && v[OTEL_TRACEPARENT_LEN] != '-') {
        return false;
    }
    if (!otel_hex_decode_lower(v + TP_TRACE_ID_OFF, sizeof sc->trace_id, sc->trace_id) ||
        !otel_hex_decode_lower(v + TP_SPAN_ID_OFF, sizeof sc->span_id, sc->span_id) ||
        !otel_hex_decode_lower(v + TP_FLAGS_OFF, 1, &flags)) {
        return false;
    }
    if (all_zero(sc->trace_id, sizeof sc->trace_id) || all_zero(sc->span_id, sizeof sc->span_id)) {
        return false;
    }
    /* A higher version defines its own flags; only "sampled" is known. */
    sc->trace_flags = version == 0x00 ? flags : (uint8_t)(flags & OTEL_TRACE_FLAG_SAMPLED);
    sc->is_remote = true;
    return true;
}

static bool is_lcalpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@" */
static bool is_key_char(char c)
{
    return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/' || c == '@';
}

/* key = ( lcalpha / DIGIT ) 0*255( keychar ): 1 to 256 characters. */
static bool ts_key_valid(const char *k, size_t n)
{
    if (n == 0 || n > TS_KEY_MAX || !(is_lcalpha(k[0]) || is_digit(k[0]))) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (!is_key_char(k[i])) {
            return false;
        }
    }
    return true;
}

/* 1 to 256 printable ASCII chars but ',' and '=', not ending in a space. */
static bool ts_value_valid(const char *v, size_t n)
{
    if (n == 0 || n > TS_VALUE_MAX || v[n - 1] == ' ') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=') {
            return false;
        }
    }
    return true;
}

/* Validate the trimmed, non-empty member s (n bytes) and describe it in m. */
static bool ts_member_parse(const char *s, size_t n, ts_member *m)
{
    const char *eq = memchr(s, '=', n);
    if (eq == NULL) {
        return false;
    }
    size_t key_len = (size_t)(eq - s);
    if (!ts_key_valid(s, key_len) || !ts_value_valid(eq + 1, n - key_len - 1)) {
        return false;
    }
    m->start = s;
    m->len = n;
    m->key_len = key_len;
    m->keep = true;
    return true;
}

/* True when an earlier member of m[0..n) has the key of m[n]. */
static bool ts_key_seen(const ts_member *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].key_len == m[n].key_len && memcmp(m[i].start, m[n].start, m[n].key_len) == 0) {
            return true;
        }
    }
    return false;
}

/* The list being read: its members so far and how many the input had. */
typedef struct ts_list {
    ts_member m[OTEL_TRACESTATE_MAX_MEMBERS];
    size_t n;     /* members kept in m */
    size_t count; /* non-empty members read, duplicates included */
} ts_list;

/* Split and validate one field line v (len bytes) into l. A later member
 * with the key of an earlier one is dropped (the spec's "discard duplicate
 * keys" mutation) but counts as a member. Returns false when the line makes
 * the list invalid as a whole. */
static bool ts_split(const char *v, size_t len, ts_list *l)
{
    size_t pos = 0;

    while (pos <= len) {
        const char *seg = v + pos;
        const char *comma = memchr(seg, ',', len - pos);
        size_t seg_len = comma != NULL ? (size_t)(comma - seg) : len - pos;
        pos += seg_len + 1;
        otel_trim_ows(&seg, &seg_len);
        if (seg_len == 0) {
            continue;
        }
        if (++l->count > OTEL_TRACESTATE_MAX_MEMBERS ||
            !ts_member_parse(seg, seg_len, &l->m[l->n])) {
            return false;
        }
        if (!ts_key_seen(l->m, l->n)) {
            l->n++;
        }
    }
    return true;
}

/* Length of the kept members joined by ','. */
static size_t ts_joined_len(const ts_member *m, size_t n)
{
    size_t total = 0;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].keep) {
            total += m[i].len;
            kept++;
        }
    }
    return kept > 0 ? total + kept - 1 : 0;
}

/* Index of the member truncation drops next: the last kept one longer than
 * 128 bytes, else the last kept one. n must have a kept member. */
static size_t ts_victim(const ts_member *m, size_t n)
{
    size_t last = n;
    for (size_t i = n; i-- > 0;) {
        if (!m[i].keep) {
            continue;
        }
        if (m[i].len > TS_LONG_MEMBER) {
            return i;
        }
        if (last == n) {
            last = i;
        }
    }
    return last;
}

/* Drop members per the spec until the joined length fits in max bytes. */
static void ts_truncate(ts_member *m, size_t n, size_t max)
{
    while (ts_joined_len(m, n) > max) {
        m[ts_victim(m, n)].keep = false;
    }
}

int otel_traceparent_parse(const char *value, size_t len, otel_span_context *out)
{
    otel_span_context sc;

    memset(&sc, 0, sizeof sc);
    memset(out, 0, sizeof *out);
    if (value == NULL) {
        return OTEL_ERR_PARSE;
    }
    otel_trim_ows(&value, &len);
    if (!traceparent_decode(value, len, &sc)) {
        return OTEL_ERR_PARSE;
    }
    *out = sc;
    return OTEL_OK;
}

void otel_traceparent_format(const otel_span_context *sc, char *out)
{
    char *p = out;

    *p++ = '0';
    *p++ = '0';
    *p++ = '-';
    otel_hex_encode(sc->trace_id, sizeof sc->trace_id, p);
    p += 2 * sizeof sc->trace_id;
    *p++ = '-';
    otel_hex_encode(sc->span_id, sizeof sc->span_id, p);
    p += 2 * sizeof sc->span_id;
    *p++ = '-';
    otel_hex_encode(&sc->trace_flags, 1, p);
}

int otel_tracestate_parse_lines(const char *const *values, const size_t *lens, size_t n_lines,
                                char *out, size_t cap)
{
    ts_list l;
    size_t written = 0;

    out[0] = '\0';
    l.n = 0;
    l.count = 0;
    for (size_t i = 0; i < n_lines; i++) {
        if (values[i] != NULL && !ts_split(values[i], lens[i], &l)) {
            return OTEL_ERR_PARSE;
        }
    }
    ts_truncate(l.m, l.n, cap - 1);
    for (size_t i = 0; i < l.n; i++) {
        if (!l.m[i].keep) {
            continue;
        }
        if (written > 0) {
            out[written++] = ',';
        }
        memcpy(out + written, l.m[i].start, l.m[i].len);
        written += l.m[i].len;
    }
    out[written] = '\0';
    return (int)written;
}

int otel_tracestate_parse(const char *value, size_t len, char *out, size_t cap)
{
    return otel_tracestate_parse_lines(&value, &len, 1, out, cap);
}
