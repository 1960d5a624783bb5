/* otlp_json.c - span batches as OTLP/JSON, written by hand; responses read with cJSON. */
#include "otlp_json.h"

#include "otlp_common.h"

#include "../core/text.h"
#include "../core/utf8.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "../core/alloc.h"

/* ---- the output window -----------------------------------------------------
 * A pass writes into buf (cap bytes) and counts in len every byte it would
 * write: what does not fit is only counted, and once one write did not fit
 * none after it is made. When len ends above cap, the buffer grows to len
 * and the pass runs again: two passes at most, one once the buffer is warm,
 * and no check of the room left in the writers above these few. */
typedef struct json_out {
    char *buf;
    size_t cap;
    size_t len;
} json_out;

static void put(json_out *w, const void *s, size_t n)
{
    if (n > 0 && w->len <= w->cap && n <= w->cap - w->len)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void put_char(json_out *w, char c)
{
    if (w->len < w->cap)
        w->buf[w->len] = c;
    w->len++;
}

/* A string literal, whose bytes need no escaping. */
#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

/* The key of an object's member, '"name":', after a ',' unless it is the
 * object's first (*more false). */
static void put_field(json_out *w, bool *more, const char *quoted, size_t n)
{
    if (*more)
        put_char(w, ',');
    *more = true;
    put(w, quoted, n);
}

#define FIELD(w, more, name) put_field((w), (more), "\"" name "\":", sizeof(name) + 2)

/* ---- values ------------------------------------------------------------------- */

/* The escape of an ASCII byte JSON strings cannot hold as it is (RFC 8259
 * section 7: '"', '\\' and the controls U+0000 to U+001F). */
static void put_escape(json_out *w, unsigned char c)
{
    char e[6] = {'\\', 'u', '0', '0'};
    switch (c) {
    case '"':
        PUT_LIT(w, "\\\"");
        return;
    case '\\':
        PUT_LIT(w, "\\\\");
        return;
    case '\b':
        PUT_LIT(w, "\\b");
        return;
    case '\f':
        PUT_LIT(w, "\\f");
        return;
    case '\n':
        PUT_LIT(w, "\\n");
        return;
    case '\r':
        PUT_LIT(w, "\\r");
        return;
    case '\t':
        PUT_LIT(w, "\\t");
        return;
    }
    otel_hex_put(e + 4, c, false);
    put(w, e, sizeof(e));
}

/* s (n bytes; NULL is "") as a JSON string. Runs of bytes that need no
 * escape, valid UTF-8 sequences included, are copied whole; a byte that is
 * not UTF-8 becomes U+FFFD, as otel_utf8_clean would make it. */
static void put_str(json_out *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    const unsigned char *end = p + (s != NULL ? n : 0);
    put_char(w, '"');
    for (;;) {
        const unsigned char *run = p;
        while (p < end) {
            if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
                p++;
                continue;
            }
            size_t k = *p >= 0x80 ? otel_utf8_seq_len(p, (size_t)(end - p)) : 0;
            if (k == 0)
                break;
            p += k;
        }
        put(w, run, (size_t)(p - run));
        if (p == end)
            break;
        if (*p >= 0x80)
            PUT_LIT(w, "\xef\xbf\xbd"); /* U+FFFD */
        else
            put_escape(w, *p);
        p++;
    }
    put_char(w, '"');
}

/* A NUL-terminated string (NULL: ""). */
static void put_cstr(json_out *w, const char *s)
{
    put_str(w, s, otel_otlp_str_len(s));
}

static void put_u64(json_out *w, uint64_t v)
{
    char d[20];
    size_t i = sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(w, d + i, sizeof(d) - i);
}

static void put_i64(json_out *w, int64_t v)
{
    if (v < 0) {
        put_char(w, '-');
        put_u64(w, (uint64_t)0 - (uint64_t)v); /* INT64_MIN too */
    } else {
        put_u64(w, (uint64_t)v);
    }
}

/* A 64-bit integer as the proto3 JSON mapping wants it: a decimal string. */
static void put_u64_str(json_out *w, uint64_t v)
{
    put_char(w, '"');
    put_u64(w, v);
    put_char(w, '"');
}

/* A double as a JSON number that reads back as the same double, or one of
 * the strings the proto3 JSON mapping has for what JSON lacks. */
static void put_double(json_out *w, double d)
{
    if (isnan(d)) {
        PUT_LIT(w, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        if (d > 0)
            PUT_LIT(w, "\"Infinity\"");
        else
            PUT_LIT(w, "\"-Infinity\"");
        return;
    }
    char s[48], num[48];
    int n = snprintf(s, sizeof(s), "%.17g", d);
    size_t k = 0;
    /* Digits, sign and exponent as printed; the radix character of the
     * locale (a program may have set LC_NUMERIC, and it may be several
     * bytes) becomes the '.' of JSON. */
    for (int i = 0; i < n && i < (int)sizeof(s); i++) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E')
            num[k++] = c;
        else if (k == 0 || num[k - 1] != '.')
            num[k++] = '.';
    }
    put(w, num, k);
}

/* n bytes of id as a lowercase hex string (OTLP/JSON: not base64). */
static void put_id(json_out *w, const uint8_t *id, size_t n)
{
    char hex[32]; /* n <= 16 */
    for (size_t i = 0; i < n; i++)
        otel_hex_put(hex + 2 * i, id[i], false);
    put_char(w, '"');
    put(w, hex, 2 * n);
    put_char(w, '"');
}

/* ---- common.v1 ------------------------------------------------------------------ */

/* {"values":[...]} of a string array: one AnyValue{stringValue} each. */
__attribute__((noinline, cold)) static void put_str_array(json_out *w, const otel_attr *a)
{
    const char *pos = NULL, *e;
    size_t len;
    bool first = true;
    put_char(w, '{');
    while ((e = otel_attr_array_next(a, &pos, &len)) != NULL) {
        if (first)
            PUT_LIT(w, "\"values\":[{\"stringValue\":");
        else
            PUT_LIT(w, ",{\"stringValue\":");
        put_str(w, e, len);
        put_char(w, '}');
        first = false;
    }
    if (!first)
        put_char(w, ']');
    put_char(w, '}');
}

/* The AnyValue of attribute a: the one member set. */
static void put_any(json_out *w, const otel_attr *a)
{
    switch (a->type) {
    case OTEL_ATTR_STRING:
        PUT_LIT(w, "{\"stringValue\":"); /* a set oneof member: "" too */
        put_str(w, a->v.s.ptr, otel_otlp_value_len(a));
        break;
    case OTEL_ATTR_STRING_ARRAY:
        PUT_LIT(w, "{\"arrayValue\":");
        put_str_array(w, a);
        break;
    case OTEL_ATTR_BOOL:
        if (a->v.b)
            PUT_LIT(w, "{\"boolValue\":true");
        else
            PUT_LIT(w, "{\"boolValue\":false");
        break;
    case OTEL_ATTR_INT:
        PUT_LIT(w, "{\"intValue\":\"");
        put_i64(w, a->v.i);
        put_char(w, '"');
        break;
    case OTEL_ATTR_DOUBLE:
        PUT_LIT(w, "{\"doubleValue\":");
        put_double(w, a->v.d);
        break;
    default:
        put_char(w, '{'); /* no member set: an empty AnyValue */
        break;
    }
    put_char(w, '}');
}

/* A KeyValue up to its value: {"key":...,"value": (no key when empty). */
static void put_kv_head(json_out *w, const char *key, size_t kl)
{
    if (kl > 0) {
        PUT_LIT(w, "{\"key\":");
        put_str(w, key, kl);
        PUT_LIT(w, ",\"value\":");
    } else {
        PUT_LIT(w, "{\"value\":");
    }
}

/* The "attributes" member of attrs[0..n), left out when n is 0. */
static void put_attrs(json_out *w, bool *more, const otel_attr *attrs, size_t n)
{
    if (n == 0)
        return;
    FIELD(w, more, "attributes");
    put_char(w, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put_char(w, ',');
        put_kv_head(w, attrs[i].key, otel_otlp_key_len(&attrs[i]));
        put_any(w, &attrs[i]);
        put_char(w, '}');
    }
    put_char(w, ']');
}

/* A uint32 count member, left out when 0. */
static void put_count(json_out *w, bool *more, const char *quoted, size_t n, uint32_t v)
{
    if (v == 0)
        return;
    put_field(w, more, quoted, n);
    put_u64(w, v);
}

#define COUNT(w, more, name, v) put_count((w), (more), "\"" name "\":", sizeof(name) + 2, (v))

/* ---- trace.v1 --------------------------------------------------------------------- */

static void put_event(json_out *w, const otel_span_data *s, const otel_event *ev)
{
    bool more = false;
    put_char(w, '{');
    if (ev->time_ns != 0) {
        FIELD(w, &more, "timeUnixNano");
        put_u64_str(w, ev->time_ns);
    }
    size_t nl = otel_otlp_str_len(ev->name);
    if (nl > 0) {
        FIELD(w, &more, "name");
        put_str(w, ev->name, nl);
    }
    size_t na;
    const otel_attr *attrs = otel_otlp_event_attrs(s, ev, &na);
    put_attrs(w, &more, attrs, na);
    COUNT(w, &more, "droppedAttributesCount", ev->dropped_attrs);
    put_char(w, '}');
}

/* A link (no attributes: the core keeps none). */
static void put_link(json_out *w, const otel_link *l)
{
    PUT_LIT(w, "{\"traceId\":");
    put_id(w, l->ctx.trace_id, sizeof(l->ctx.trace_id));
    PUT_LIT(w, ",\"spanId\":");
    put_id(w, l->ctx.span_id, sizeof(l->ctx.span_id));
    size_t tl = otel_otlp_str_len(l->tracestate);
    if (tl > 0) {
        PUT_LIT(w, ",\"traceState\":");
        put_str(w, l->tracestate, tl);
    }
    PUT_LIT(w, ",\"flags\":");
    put_u64(w, otel_otlp_link_flags(l));
    put_char(w, '}');
}

static void put_status(json_out *w, bool *more, const otel_span_data *s)
{
    bool inner = false;
    FIELD(w, more, "status");
    put_char(w, '{');
    size_t ml = otel_otlp_str_len(s->status_message);
    if (ml > 0) {
        FIELD(w, &inner, "message");
        put_str(w, s->status_message, ml);
    }
    if (s->status != 0) {
        FIELD(w, &inner, "code");
        put_i64(w, (int32_t)s->status);
    }
    put_char(w, '}');
}

static void put_events(json_out *w, bool *more, const otel_span_data *s)
{
    size_t ne = otel_otlp_event_count(s);
    if (ne == 0)
        return;
    FIELD(w, more, "events");
    put_char(w, '[');
    for (size_t j = 0; j < ne; j++) {
        if (j > 0)
            put_char(w, ',');
        put_event(w, s, &s->events[j]);
    }
    put_char(w, ']');
}

static void put_links(json_out *w, bool *more, const otel_span_data *s)
{
    size_t nk = otel_otlp_link_count(s);
    if (nk == 0)
        return;
    FIELD(w, more, "links");
    put_char(w, '[');
    for (size_t j = 0; j < nk; j++) {
        if (j > 0)
            put_char(w, ',');
        put_link(w, &s->links[j]);
    }
    put_char(w, ']');
}

/* Span s, its members in field order; those the protobuf encoder leaves
 * out (zero, empty) are left out here too. */
static void put_span(json_out *w, const otel_span_data *s)
{
    bool more = true; /* traceId comes first, always */
    PUT_LIT(w, "{\"traceId\":");
    put_id(w, s->ctx.trace_id, sizeof(s->ctx.trace_id));
    FIELD(w, &more, "spanId");
    put_id(w, s->ctx.span_id, sizeof(s->ctx.span_id));
    size_t tl = otel_otlp_tracestate_len(s);
    if (tl > 0) {
        FIELD(w, &more, "traceState");
        put_str(w, s->tracestate, tl);
    }
    if (s->has_parent) {
        FIELD(w, &more, "parentSpanId");
        put_id(w, s->parent_span_id, sizeof(s->parent_span_id));
    }
    size_t nl = otel_otlp_str_len(s->name);
    if (nl > 0) {
        FIELD(w, &more, "name");
        put_str(w, s->name, nl);
    }
    if (s->kind != 0) {
        FIELD(w, &more, "kind");
        put_i64(w, (int32_t)s->kind);
    }
    if (s->start_ns != 0) {
        FIELD(w, &more, "startTimeUnixNano");
        put_u64_str(w, s->start_ns);
    }
    if (s->end_ns != 0) {
        FIELD(w, &more, "endTimeUnixNano");
        put_u64_str(w, s->end_ns);
    }
    put_attrs(w, &more, s->attrs, otel_otlp_attr_count(s));
    COUNT(w, &more, "droppedAttributesCount", s->dropped_attrs);
    put_events(w, &more, s);
    COUNT(w, &more, "droppedEventsCount", s->dropped_events);
    put_links(w, &more, s);
    COUNT(w, &more, "droppedLinksCount", s->dropped_links);
    if (s->status != OTEL_STATUS_UNSET)
        put_status(w, &more, s);
    FIELD(w, &more, "flags"); /* never 0: HAS_IS_REMOTE is set */
    put_u64(w, otel_otlp_span_flags(s));
    put_char(w, '}');
}

/* A ResourceSpans up to its first span: the Resource (its attributes are
 * strings), then one ScopeSpans and its scope. */
static void put_group_head(json_out *w, const otel_resource *r)
{
    size_t nr = otel_resource_count(r);
    PUT_LIT(w, "{\"resource\":{");
    if (nr > 0)
        PUT_LIT(w, "\"attributes\":[");
    for (size_t i = 0; i < nr; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        if (i > 0)
            put_char(w, ',');
        put_kv_head(w, key, otel_otlp_str_len(key));
        PUT_LIT(w, "{\"stringValue\":");
        put_cstr(w, value);
        PUT_LIT(w, "}}");
    }
    if (nr > 0)
        put_char(w, ']');
    /* the name and version are ASCII with nothing to escape */
    PUT_LIT(w, "},\"scopeSpans\":[{\"scope\":{\"name\":\"" OTEL_SDK_NAME
               "\",\"version\":\"" OTEL_SDK_VERSION "\"},\"spans\":[");
}

/* ---- the batch -------------------------------------------------------------------- */

struct otel_otlp_json {
    otel_buf out; /* the request; only cap and data are used */
    /* the batch's distinct resources in order of first appearance */
    const otel_resource **groups;
    size_t group_cap;
};

#define MIN_GROUPS 4

/* Gather the distinct resources of spans into j->groups. Returns 0 or
 * OTEL_ERR_NOMEM. */
static int plan_groups(otel_otlp_json *j, const otel_span_data *const *spans, size_t n,
                       size_t *n_groups)
{
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_resource *r = spans[i]->resource;
        size_t k = g;
        while (k > 0 && j->groups[k - 1] != r)
            k--;
        if (k > 0)
            continue;
        if (g == j->group_cap) {
            void *p = j->groups;
            size_t bytes = j->group_cap * sizeof(*j->groups);
            int rc = otel_grow(&p, &bytes, (g + 1) * sizeof(*j->groups),
                               MIN_GROUPS * sizeof(*j->groups));
            if (rc != 0)
                return rc;
            j->groups = p;
            j->group_cap = bytes / sizeof(*j->groups);
        }
        j->groups[g++] = r;
    }
    *n_groups = g;
    return 0;
}

/* One pass over the batch into w: a group after the other, each with its
 * spans in batch order. */
static void write_batch(json_out *w, const otel_otlp_json *j, const otel_span_data *const *spans,
                        size_t n, size_t groups)
{
    PUT_LIT(w, "{\"resourceSpans\":[");
    for (size_t g = 0; g < groups; g++) {
        const otel_resource *r = j->groups[g];
        bool first = true;
        if (g > 0)
            put_char(w, ',');
        put_group_head(w, r);
        for (size_t i = 0; i < n; i++) {
            if (groups > 1 && spans[i]->resource != r)
                continue;
            if (!first)
                put_char(w, ',');
            put_span(w, spans[i]);
            first = false;
        }
        PUT_LIT(w, "]}]}");
    }
    PUT_LIT(w, "]}");
}

/* ---- decoding ------------------------------------------------------------------ */

/* True when s (n bytes) is only JSON whitespace (RFC 8259 section 2). */
static bool is_blank(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

/* An int64 in decimal, the whole of s: an optional '-' and 1 to 19 digits
 * within range. */
static bool parse_i64(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    s += neg;
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* rejectedSpans: a decimal string or an integral number (proto3 JSON takes
 * both for an int64); negatives count as 0, numbers past int64 saturate. */
static int read_rejected(const cJSON *v, int64_t *out)
{
    int64_t k = 0;
    if (v == NULL || cJSON_IsNull(v)) {
        k = 0;
    } else if (cJSON_IsString(v)) {
        if (!parse_i64(v->valuestring, &k))
            return OTEL_ERR_PARSE;
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d) || d != floor(d))
            return OTEL_ERR_PARSE;
        k = d >= 0x1p63 ? INT64_MAX : d <= 0 ? 0 : (int64_t)d;
    } else {
        return OTEL_ERR_PARSE;
    }
    *out = k > 0 ? k : 0;
    return 0;
}

static int read_response(const cJSON *root, int64_t *rejected, char *msg, size_t cap)
{
    if (!cJSON_IsObject(root))
        return OTEL_ERR_PARSE;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "partialSuccess");
    if (ps == NULL || cJSON_IsNull(ps))
        return 0;
    if (!cJSON_IsObject(ps))
        return OTEL_ERR_PARSE;
    int rc = read_rejected(cJSON_GetObjectItemCaseSensitive(ps, "rejectedSpans"), rejected);
    if (rc != 0)
        return rc;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(ps, "errorMessage");
    if (m != NULL && !cJSON_IsNull(m) && !cJSON_IsString(m))
        return OTEL_ERR_PARSE;
    otel_otlp_copy_message(msg, cap, cJSON_IsString(m) ? m->valuestring : "");
    return 0;
}

/* ---- API ----------------------------------------------------------------------- */

int otel_otlp_json_new(otel_otlp_json **out)
{
    *out = otel_calloc(1, sizeof(**out));
    return *out != NULL ? 0 : OTEL_ERR_NOMEM;
}

void otel_otlp_json_del(otel_otlp_json *j)
{
    if (j == NULL)
        return;
    otel_free(j->out.data);
    otel_free(j->groups);
    otel_free(j);
}

int otel_otlp_json_encode(otel_otlp_json *j, const otel_span_data *const *spans, size_t n,
                          const uint8_t **data, size_t *len)
{
    static const uint8_t empty[1];
    size_t groups = 0;
    *data = empty;
    *len = 0;
    int rc = plan_groups(j, spans, n, &groups);
    if (rc != 0)
        return rc;
    json_out w = {j->out.data, j->out.cap, 0};
    write_batch(&w, j, spans, n, groups);
    if (w.len > w.cap) {
        j->out.len = 0;
        if ((rc = otel_buf_reserve(&j->out, w.len)) != 0)
            return rc;
        w = (json_out){j->out.data, j->out.cap, 0};
        write_batch(&w, j, spans, n, groups);
    }
    *data = (const uint8_t *)j->out.data;
    *len = w.len;
    return 0;
}

int otel_otlp_json_decode_response(const uint8_t *data, size_t len, int64_t *rejected, char *msg,
                                   size_t cap)
{
    *rejected = 0;
    otel_otlp_copy_message(msg, cap, "");
    if (is_blank(data, len))
        return 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, len, &end, false);
    if (root == NULL)
        return OTEL_ERR_PARSE;
    int rc = OTEL_ERR_PARSE;
    /* nothing but whitespace may follow the value */
    if (end != NULL && is_blank((const uint8_t *)end, len - (size_t)(end - (const char *)data)))
        rc = read_response(root, rejected, msg, cap);
    cJSON_Delete(root);
    if (rc != 0) {
        *rejected = 0;
        otel_otlp_copy_message(msg, cap, "");
    }
    return rc;
}
