/* propagation.c - propagator sets: which propagators run and in what order,
 * extraction and injection through a carrier, and W3C tracestate mutation. */
#include <mhd-otel/propagation.h>
#include "span_int.h"
#include "text.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* W3C Trace Context limits of a tracestate member. */
#define TS_KEY_MAX 256
#define TS_VALUE_MAX 256
#define TS_MEMBER_MAX (TS_KEY_MAX + 1 + TS_VALUE_MAX)

#define ERR_NAME_MAX 40 /* bytes of an unknown name quoted in a message */

static const struct {
    const char *name;
    otel_propagator kind;
} propagator_names[] = {
    {"none", OTEL_PROPAGATOR_NONE},       {"tracecontext", OTEL_PROPAGATOR_TRACECONTEXT},
    {"baggage", OTEL_PROPAGATOR_BAGGAGE}, {"b3", OTEL_PROPAGATOR_B3},
    {"b3multi", OTEL_PROPAGATOR_B3MULTI},
};

#define N_PROPAGATOR_NAMES (sizeof(propagator_names) / sizeof(propagator_names[0]))

/* ---- propagator sets ----------------------------------------------------- */

static bool is_name_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The kind named by s (n bytes, any case), or -1. */
static int name_lookup(const char *s, size_t n)
{
    for (size_t i = 0; i < N_PROPAGATOR_NAMES; i++) {
        const char *name = propagator_names[i].name;
        if (strlen(name) == n && strncasecmp(name, s, n) == 0)
            return (int)propagator_names[i].kind;
    }
    return -1;
}

static void set_add(otel_propagators *p, otel_propagator kind)
{
    if (p->mask & (1u << kind))
        return;
    p->mask = (uint8_t)(p->mask | (1u << kind));
    p->order[p->n++] = (uint8_t)kind;
}

/* "unknown propagator "<name>"" into err, the name cut and its
 * unprintable bytes shown as '?'. */
static void report_unknown(char *err, size_t cap, const char *s, size_t n)
{
    char name[ERR_NAME_MAX + 1];
    size_t m = n < ERR_NAME_MAX ? n : ERR_NAME_MAX;
    for (size_t i = 0; i < m; i++)
        name[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    name[m] = '\0';
    if (err != NULL && cap > 0)
        snprintf(err, cap, "unknown propagator \"%s%s\"", name, n > m ? "..." : "");
}

/* ---- extraction ---------------------------------------------------------- */

/* Field lines of one list header kept, blank ones (only OWS and commas)
 * not counted: each kept tracestate line holds a member, so more than 32
 * make it invalid anyway; baggage past 64 lines is past the 64 list-members
 * a platform MUST propagate, and the rest are dropped. */
#define LINES_MAX 64
/* Field lines of one header read at most, blank ones included: a request
 * cannot make extraction read its header list without end. Past it, a
 * tracestate is invalid and the rest of a baggage dropped. */
#define LINES_READ_MAX 256

/* The value of a header that holds one value (traceparent, b3, X-B3-*):
 * NULL when absent, and when it came on two lines, which makes it invalid
 * (a second traceparent is not the same traceparent). */
static const char *single_value(otel_carrier_get get, void *carrier, const char *name)
{
    const char *v = get(carrier, name, 0);
    return v != NULL && get(carrier, name, 1) == NULL ? v : NULL;
}

/* A line of only OWS and commas: empty list-members, nothing to keep. */
static bool blank_line(const char *v)
{
    return v[strspn(v, " \t,")] == '\0';
}

/* The field lines of a list-valued header that are not blank into
 * values/lens (LINES_MAX room), up to LINES_READ_MAX lines looked at.
 * Returns how many were kept; *more is set when a line was left unread or
 * unkept. */
static size_t all_lines(otel_carrier_get get, void *carrier, const char *name,
                        const char *values[LINES_MAX], size_t lens[LINES_MAX], bool *more)
{
    size_t n = 0;
    const char *v;
    *more = false;
    for (size_t i = 0; (v = get(carrier, name, i)) != NULL; i++) {
        if (i == LINES_READ_MAX) {
            *more = true;
            break;
        }
        if (blank_line(v))
            continue;
        if (n == LINES_MAX) {
            *more = true;
            break;
        }
        values[n] = v;
        lens[n] = strlen(v);
        n++;
    }
    return n;
}

static bool extract_tracecontext(otel_carrier_get get, void *carrier, otel_extracted *out)
{
    const char *tp = single_value(get, carrier, "traceparent");
    if (tp == NULL || otel_traceparent_parse(tp, strlen(tp), &out->context) != OTEL_OK)
        return false;
    const char *values[LINES_MAX];
    size_t lens[LINES_MAX];
    bool more;
    size_t n = all_lines(get, carrier, "tracestate", values, lens, &more);
    /* An invalid tracestate leaves "": the traceparent still counts. Over
     * LINES_MAX lines with members is over 32 members: invalid; so is one
     * of over LINES_READ_MAX lines. */
    if (!more)
        (void)otel_tracestate_parse_lines(values, lens, n, out->tracestate, sizeof out->tracestate);
    return true;
}

/* B3 in either form: the single header first, then the X-B3-* headers (the
 * OpenTelemetry B3 requirements: both are extracted, single wins). */
static bool extract_b3(otel_carrier_get get, void *carrier, otel_span_context *sc)
{
    const char *v = single_value(get, carrier, "b3");
    if (v != NULL && otel_b3_parse(v, strlen(v), sc) == OTEL_OK)
        return true;
    /* openzipkin/b3-propagation, "Multiple Headers": "When extracting
     * state headers, the first value wins." */
    const char *trace_id = get(carrier, "X-B3-TraceId", 0);
    const char *span_id = get(carrier, "X-B3-SpanId", 0);
    if (trace_id == NULL || span_id == NULL)
        return false;
    return otel_b3_multi_parse(trace_id, span_id, get(carrier, "X-B3-Sampled", 0),
                               get(carrier, "X-B3-Flags", 0), sc) == OTEL_OK;
}

/* Run trace propagator kind unless a context was found already. */
static void extract_trace(otel_propagator kind, otel_carrier_get get, void *carrier,
                          otel_extracted *out)
{
    bool found = false;
    if (out->source != OTEL_PROPAGATOR_NONE)
        return;
    if (kind == OTEL_PROPAGATOR_TRACECONTEXT)
        found = extract_tracecontext(get, carrier, out);
    else if (kind == OTEL_PROPAGATOR_B3 || kind == OTEL_PROPAGATOR_B3MULTI)
        found = extract_b3(get, carrier, &out->context);
    if (found)
        out->source = kind;
}

static void extract_baggage(otel_carrier_get get, void *carrier, otel_baggage *b)
{
    const char *values[LINES_MAX];
    size_t lens[LINES_MAX];
    bool more;
    size_t n = all_lines(get, carrier, "baggage", values, lens, &more);
    (void)otel_baggage_parse_lines(b, values, lens, n);
}

/* ---- injection ----------------------------------------------------------- */

/* True when every byte of v is printable ASCII: nothing in it can end a
 * header line or confuse a parser. */
static bool header_value_safe(const char *v)
{
    for (; *v != '\0'; v++) {
        if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
            return false;
    }
    return true;
}

/* The one way a value reaches a carrier. */
static void emit(otel_carrier_set set, void *carrier, const char *name, const char *value)
{
    if (header_value_safe(value))
        set(carrier, name, value);
}

static void inject_tracecontext(const otel_span_context *sc, const char *tracestate,
                                otel_carrier_set set, void *carrier)
{
    char tp[OTEL_TRACEPARENT_LEN + 1];
    char ts[OTEL_TRACESTATE_MAX];
    otel_traceparent_format(sc, tp);
    emit(set, carrier, "traceparent", tp);
    /* Re-validated: only a well-formed tracestate goes out. */
    if (tracestate != NULL && tracestate[0] != '\0' &&
        otel_tracestate_parse(tracestate, strlen(tracestate), ts, sizeof ts) > 0)
        emit(set, carrier, "tracestate", ts);
}

static void inject_b3multi(const otel_span_context *sc, otel_carrier_set set, void *carrier)
{
    char trace_id[2 * sizeof sc->trace_id + 1];
    char span_id[2 * sizeof sc->span_id + 1];
    otel_hex_encode(sc->trace_id, sizeof sc->trace_id, trace_id);
    otel_hex_encode(sc->span_id, sizeof sc->span_id, span_id);
    emit(set, carrier, "X-B3-TraceId", trace_id);
    emit(set, carrier, "X-B3-SpanId", span_id);
    /* B3: "Debug implies an accept decision, so don't also send the
     * X-B3-Sampled header." */
    if (sc->debug)
        emit(set, carrier, "X-B3-Flags", "1");
    else
        emit(set, carrier, "X-B3-Sampled", (sc->trace_flags & OTEL_TRACE_FLAG_SAMPLED) ? "1" : "0");
}

static void inject_baggage(const otel_baggage *bag, otel_carrier_set set, void *carrier)
{
    char v[OTEL_BAGGAGE_MAX_BYTES + 1];
    if (bag != NULL && otel_baggage_count(bag) > 0 && otel_baggage_format(bag, v, sizeof v) > 0)
        emit(set, carrier, "baggage", v);
}

/* ---- tracestate ---------------------------------------------------------- */

/* Write "key=value" into out (TS_MEMBER_MAX + 1 bytes) when it is one valid
 * tracestate member, as the W3C parser reads it back unchanged. Returns its
 * length, or -1. */
static int ts_member_make(const char *key, const char *value, char *out)
{
    char check[TS_MEMBER_MAX + 1];
    size_t kl = strnlen(key, TS_KEY_MAX + 1);
    size_t vl = strnlen(value, TS_VALUE_MAX + 1);
    if (kl > TS_KEY_MAX || vl > TS_VALUE_MAX || memchr(key, ',', kl) != NULL ||
        memchr(key, '=', kl) != NULL || memchr(value, ',', vl) != NULL)
        return -1;
    memcpy(out, key, kl);
    out[kl] = '=';
    memcpy(out + kl + 1, value, vl);
    size_t n = kl + 1 + vl;
    out[n] = '\0';
    if (otel_tracestate_parse(out, n, check, sizeof check) != (int)n || memcmp(check, out, n) != 0)
        return -1;
    return (int)n;
}

/* True when member m (n bytes, no OWS) has key k (klen bytes). */
static bool ts_member_has_key(const char *m, size_t n, const char *k, size_t klen)
{
    return n > klen && m[klen] == '=' && memcmp(m, k, klen) == 0;
}

/* Copy the members of the normalized tracestate ts but the one with key k
 * into out (OTEL_TRACESTATE_MAX bytes; ts is shorter), at most max of them.
 * Returns the length. */
static size_t ts_others(const char *ts, const char *k, size_t max, char *out)
{
    size_t klen = strlen(k);
    size_t w = 0;
    size_t count = 0;
    while (*ts != '\0' && count < max) {
        const char *comma = strchr(ts, ',');
        size_t len = comma != NULL ? (size_t)(comma - ts) : strlen(ts);
        if (!ts_member_has_key(ts, len, k, klen)) {
            if (w > 0)
                out[w++] = ',';
            memcpy(out + w, ts, len);
            w += len;
            count++;
        }
        ts += len + (comma != NULL ? 1 : 0);
    }
    out[w] = '\0';
    return w;
}

/* ---- API ----------------------------------------------------------------- */

int otel_propagators_from_names(otel_propagators *out, const char *list, char *err, size_t err_cap)
{
    int rc = OTEL_OK;
    bool none = false;
    bool named = false;

    if (out == NULL)
        return OTEL_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (err != NULL && err_cap > 0)
        err[0] = '\0';
    for (const char *s = list != NULL ? list : ""; *s != '\0';) {
        while (is_name_sep(*s))
            s++;
        const char *tok = s;
        while (*s != '\0' && !is_name_sep(*s))
            s++;
        if (s == tok)
            break;
        named = true;
        int kind = name_lookup(tok, (size_t)(s - tok));
        if (kind < 0) {
            if (rc == OTEL_OK)
                report_unknown(err, err_cap, tok, (size_t)(s - tok));
            rc = OTEL_ERR_INVALID;
        } else if (kind == OTEL_PROPAGATOR_NONE) {
            none = true;
        } else {
            set_add(out, (otel_propagator)kind);
        }
    }
    if (!named)
        return otel_propagators_from_names(out, OTEL_PROPAGATORS_DEFAULT, err, err_cap);
    if (none && out->n > 0 && rc == OTEL_OK) {
        if (err != NULL && err_cap > 0)
            snprintf(err, err_cap, "propagator \"none\" given with others");
        rc = OTEL_ERR_INVALID;
    }
    return rc;
}

bool otel_propagators_has(const otel_propagators *p, otel_propagator kind)
{
    return p != NULL && kind != OTEL_PROPAGATOR_NONE && (unsigned)kind < 8 &&
           (p->mask & (1u << kind)) != 0;
}

const char *otel_propagator_name(otel_propagator kind)
{
    for (size_t i = 0; i < N_PROPAGATOR_NAMES; i++) {
        if (propagator_names[i].kind == kind)
            return propagator_names[i].name;
    }
    return "none";
}

int otel_propagation_extract(const otel_propagators *p, otel_carrier_get get, void *carrier,
                             otel_extracted *out)
{
    if (out == NULL)
        return OTEL_ERR_INVALID;
    memset(&out->context, 0, sizeof out->context);
    out->source = OTEL_PROPAGATOR_NONE;
    out->tracestate[0] = '\0';
    otel_baggage_init(&out->baggage);
    if (p == NULL || get == NULL)
        return OTEL_ERR_INVALID;
    for (size_t i = 0; i < p->n && i < OTEL_PROPAGATORS_MAX; i++) {
        otel_propagator kind = (otel_propagator)p->order[i];
        if (kind == OTEL_PROPAGATOR_BAGGAGE) {
            extract_baggage(get, carrier, &out->baggage);
        } else {
            extract_trace(kind, get, carrier, out);
        }
    }
    return OTEL_OK;
}

void otel_propagation_inject(const otel_propagators *p, const otel_span_context *sc,
                             const char *tracestate, const otel_baggage *bag, otel_carrier_set set,
                             void *carrier)
{
    if (p == NULL || set == NULL)
        return;
    bool trace = sc != NULL && otel_span_context_is_valid(sc);
    char b3[OTEL_B3_LEN + 1];
    for (size_t i = 0; i < p->n && i < OTEL_PROPAGATORS_MAX; i++) {
        switch ((otel_propagator)p->order[i]) {
        case OTEL_PROPAGATOR_TRACECONTEXT:
            if (trace)
                inject_tracecontext(sc, tracestate, set, carrier);
            break;
        case OTEL_PROPAGATOR_B3:
            if (trace) {
                otel_b3_format(sc, b3);
                emit(set, carrier, "b3", b3);
            }
            break;
        case OTEL_PROPAGATOR_B3MULTI:
            if (trace)
                inject_b3multi(sc, set, carrier);
            break;
        case OTEL_PROPAGATOR_BAGGAGE:
            inject_baggage(bag, set, carrier);
            break;
        case OTEL_PROPAGATOR_NONE:
            break;
        }
    }
}

int otel_tracestate_update(char *ts, size_t cap, const char *key, const char *value)
{
    char member[TS_MEMBER_MAX + 1];
    char cur[OTEL_TRACESTATE_MAX];
    char others[OTEL_TRACESTATE_MAX];
    char kept[OTEL_TRACESTATE_MAX];

    if (ts == NULL || cap == 0 || key == NULL || value == NULL)
        return OTEL_ERR_INVALID;
    int m = ts_member_make(key, value, member);
    size_t len = strnlen(ts, cap);
    if (m < 0 || len == cap || otel_tracestate_parse(ts, len, cur, sizeof cur) < 0)
        return OTEL_ERR_INVALID;
    size_t limit = (cap < sizeof cur ? cap : sizeof cur) - 1;
    if ((size_t)m > limit)
        return OTEL_ERR_RANGE;
    /* The others go behind the new member: 31 at most, cut by the W3C
     * rule to the room left after it and a comma. */
    size_t ol = ts_others(cur, key, OTEL_TRACESTATE_MAX_MEMBERS - 1, others);
    size_t room = limit - (size_t)m;
    int kl = 0;
    if (ol > 0 && room > 1)
        kl = otel_tracestate_parse(others, ol, kept, room);
    memcpy(ts, member, (size_t)m);
    size_t n = (size_t)m;
    if (kl > 0) {
        ts[n++] = ',';
        memcpy(ts + n, kept, (size_t)kl);
        n += (size_t)kl;
    }
    ts[n] = '\0';
    return (int)n;
}

int otel_tracestate_get(const char *ts, const char *key, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return OTEL_ERR_INVALID;
    out[0] = '\0';
    if (ts == NULL || key == NULL || key[0] == '\0')
        return 0;
    size_t klen = strlen(key);
    while (*ts != '\0') {
        const char *comma = strchr(ts, ',');
        size_t len = comma != NULL ? (size_t)(comma - ts) : strlen(ts);
        const char *m = ts;
        otel_trim_ows(&m, &len);
        if (ts_member_has_key(m, len, key, klen)) {
            size_t vl = len - klen - 1;
            if (vl >= cap)
                return OTEL_ERR_RANGE;
            memcpy(out, m + klen + 1, vl);
            out[vl] = '\0';
            return (int)vl;
        }
        if (comma == NULL)
            break;
        ts = comma + 1;
    }
    return 0;
}

/* The configured set, packed into one word so that any thread reads it
 * whole: mask, count and order, a byte each. 0 until set: the default. */
static _Atomic uint64_t global_set;

static uint64_t pack(const otel_propagators *p)
{
    uint64_t w = (uint64_t)p->mask | (uint64_t)p->n << 8;
    for (size_t i = 0; i < OTEL_PROPAGATORS_MAX; i++)
        w |= (uint64_t)p->order[i] << (16 + 8 * i);
    return w | UINT64_C(1) << 63; /* set, even when empty */
}

void otel_propagators_set_global(const otel_propagators *p)
{
    atomic_store(&global_set, p != NULL ? pack(p) : 0);
}

void otel_propagators_global(otel_propagators *out)
{
    uint64_t w = atomic_load(&global_set);
    if (w == 0) {
        (void)otel_propagators_from_names(out, NULL, NULL, 0);
        return;
    }
    out->mask = (uint8_t)w;
    out->n = (uint8_t)(w >> 8);
    for (size_t i = 0; i < OTEL_PROPAGATORS_MAX; i++)
        out->order[i] = (uint8_t)(w >> (16 + 8 * i));
}

OTEL_TLS const otel_baggage_lines *otel_tls_baggage;

const otel_baggage_lines *otel_baggage_current(void)
{
    return otel_tls_baggage;
}

const otel_baggage_lines *otel_baggage_attach(const otel_baggage_lines *lines)
{
    return otel_baggage_swap(lines);
}
