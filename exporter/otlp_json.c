/* otlp_json.c - span batches as OTLP/JSON, written by hand; responses read with cJSON. */
#include "otlp_json.h"

#include "json_write.h"
#include "otlp_common.h"

#include "../core/text.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include "../core/alloc.h"

/* ---- counts ------------------------------------------------------------------------ */

/* A uint32 count member, left out when 0. */
static void put_count(otel_json_out *w, bool *more, const char *quoted, size_t n, uint32_t v)
{
    if (v == 0)
        return;
    otel_json_put_field(w, more, quoted, n);
    otel_json_put_u64(w, v);
}

#define COUNT(w, more, name, v) put_count((w), (more), "\"" name "\":", sizeof(name) + 2, (v))

/* ---- trace.v1 --------------------------------------------------------------------- */

static void put_event(otel_json_out *w, const otel_span_data *s, const otel_event *ev)
{
    bool more = false;
    otel_json_put_char(w, '{');
    if (ev->time_ns != 0) {
        OTEL_JSON_FIELD(w, &more, "timeUnixNano");
        otel_json_put_u64_str(w, ev->time_ns);
    }
    size_t nl = otel_otlp_str_len(ev->name);
    if (nl > 0) {
        OTEL_JSON_FIELD(w, &more, "name");
        otel_json_put_str(w, ev->name, nl);
    }
    size_t na;
    const otel_attr *attrs = otel_otlp_event_attrs(s, ev, &na);
    otel_json_put_attrs(w, &more, attrs, na);
    COUNT(w, &more, "droppedAttributesCount", ev->dropped_attrs);
    otel_json_put_char(w, '}');
}

/* A link (no attributes: the core keeps none). */
static void put_link(otel_json_out *w, const otel_link *l)
{
    OTEL_JSON_LIT(w, "{\"traceId\":");
    otel_json_put_id(w, l->ctx.trace_id, sizeof(l->ctx.trace_id));
    OTEL_JSON_LIT(w, ",\"spanId\":");
    otel_json_put_id(w, l->ctx.span_id, sizeof(l->ctx.span_id));
    size_t tl = otel_otlp_str_len(l->tracestate);
    if (tl > 0) {
        OTEL_JSON_LIT(w, ",\"traceState\":");
        otel_json_put_str(w, l->tracestate, tl);
    }
    OTEL_JSON_LIT(w, ",\"flags\":");
    otel_json_put_u64(w, otel_otlp_link_flags(l));
    otel_json_put_char(w, '}');
}

static void put_status(otel_json_out *w, bool *more, const otel_span_data *s)
{
    bool inner = false;
    OTEL_JSON_FIELD(w, more, "status");
    otel_json_put_char(w, '{');
    size_t ml = otel_otlp_str_len(s->status_message);
    if (ml > 0) {
        OTEL_JSON_FIELD(w, &inner, "message");
        otel_json_put_str(w, s->status_message, ml);
    }
    if (s->status != 0) {
        OTEL_JSON_FIELD(w, &inner, "code");
        otel_json_put_i64(w, (int32_t)s->status);
    }
    otel_json_put_char(w, '}');
}

static void put_events(otel_json_out *w, bool *more, const otel_span_data *s)
{
    size_t ne = otel_otlp_event_count(s);
    if (ne == 0)
        return;
    OTEL_JSON_FIELD(w, more, "events");
    otel_json_put_char(w, '[');
    for (size_t j = 0; j < ne; j++) {
        if (j > 0)
            otel_json_put_char(w, ',');
        put_event(w, s, &s->events[j]);
    }
    otel_json_put_char(w, ']');
}

static void put_links(otel_json_out *w, bool *more, const otel_span_data *s)
{
    size_t nk = otel_otlp_link_count(s);
    if (nk == 0)
        return;
    OTEL_JSON_FIELD(w, more, "links");
    otel_json_put_char(w, '[');
    for (size_t j = 0; j < nk; j++) {
        if (j > 0)
            otel_json_put_char(w, ',');
        put_link(w, &s->links[j]);
    }
    otel_json_put_char(w, ']');
}

/* Span s, its members in field order; those the protobuf encoder leaves
 * out (zero, empty) are left out here too. */
static void put_span(otel_json_out *w, const otel_span_data *s)
{
    bool more = true; /* traceId comes first, always */
    OTEL_JSON_LIT(w, "{\"traceId\":");
    otel_json_put_id(w, s->ctx.trace_id, sizeof(s->ctx.trace_id));
    OTEL_JSON_FIELD(w, &more, "spanId");
    otel_json_put_id(w, s->ctx.span_id, sizeof(s->ctx.span_id));
    size_t tl = otel_otlp_tracestate_len(s);
    if (tl > 0) {
        OTEL_JSON_FIELD(w, &more, "traceState");
        otel_json_put_str(w, s->tracestate, tl);
    }
    if (s->has_parent) {
        OTEL_JSON_FIELD(w, &more, "parentSpanId");
        otel_json_put_id(w, s->parent_span_id, sizeof(s->parent_span_id));
    }
    size_t nl = otel_otlp_str_len(s->name);
    if (nl > 0) {
        OTEL_JSON_FIELD(w, &more, "name");
        otel_json_put_str(w, s->name, nl);
    }
    if (s->kind != 0) {
        OTEL_JSON_FIELD(w, &more, "kind");
        otel_json_put_i64(w, (int32_t)s->kind);
    }
    if (s->start_ns != 0) {
        OTEL_JSON_FIELD(w, &more, "startTimeUnixNano");
        otel_json_put_u64_str(w, s->start_ns);
    }
    if (s->end_ns != 0) {
        OTEL_JSON_FIELD(w, &more, "endTimeUnixNano");
        otel_json_put_u64_str(w, s->end_ns);
    }
    otel_json_put_attrs(w, &more, s->attrs, otel_otlp_attr_count(s));
    COUNT(w, &more, "droppedAttributesCount", s->dropped_attrs);
    put_events(w, &more, s);
    COUNT(w, &more, "droppedEventsCount", s->dropped_events);
    put_links(w, &more, s);
    COUNT(w, &more, "droppedLinksCount", s->dropped_links);
    if (s->status != OTEL_STATUS_UNSET)
        put_status(w, &more, s);
    OTEL_JSON_FIELD(w, &more, "flags"); /* never 0: HAS_IS_REMOTE is set */
    otel_json_put_u64(w, otel_otlp_span_flags(s));
    otel_json_put_char(w, '}');
}

/* A ResourceSpans up to its first span: the Resource (its attributes are
 * strings), then one ScopeSpans and its scope. */
static void put_group_head(otel_json_out *w, const otel_resource *r)
{
    OTEL_JSON_LIT(w, "{\"resource\":");
    otel_json_put_resource(w, r);
    /* the name and version are ASCII with nothing to escape */
    OTEL_JSON_LIT(w, ",\"scopeSpans\":[{\"scope\":{\"name\":\"" OTEL_SDK_NAME
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
static void write_batch(otel_json_out *w, const otel_otlp_json *j,
                        const otel_span_data *const *spans, size_t n, size_t groups)
{
    OTEL_JSON_LIT(w, "{\"resourceSpans\":[");
    for (size_t g = 0; g < groups; g++) {
        const otel_resource *r = j->groups[g];
        bool first = true;
        if (g > 0)
            otel_json_put_char(w, ',');
        put_group_head(w, r);
        for (size_t i = 0; i < n; i++) {
            if (groups > 1 && spans[i]->resource != r)
                continue;
            if (!first)
                otel_json_put_char(w, ',');
            put_span(w, spans[i]);
            first = false;
        }
        OTEL_JSON_LIT(w, "]}]}");
    }
    OTEL_JSON_LIT(w, "]}");
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

/* rejectedSpans (or its kin): a decimal string or an integral number (proto3 JSON takes
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

static int read_response(const cJSON *root, const char *rejected_key, int64_t *rejected, char *msg,
                         size_t cap)
{
    if (!cJSON_IsObject(root))
        return OTEL_ERR_PARSE;
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "partialSuccess");
    if (ps == NULL || cJSON_IsNull(ps))
        return 0;
    if (!cJSON_IsObject(ps))
        return OTEL_ERR_PARSE;
    int rc = read_rejected(cJSON_GetObjectItemCaseSensitive(ps, rejected_key), rejected);
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
    otel_json_out w = {j->out.data, j->out.cap, 0};
    write_batch(&w, j, spans, n, groups);
    if (w.len > w.cap) {
        j->out.len = 0;
        if ((rc = otel_buf_reserve(&j->out, w.len)) != 0)
            return rc;
        w = (otel_json_out){j->out.data, j->out.cap, 0};
        write_batch(&w, j, spans, n, groups);
    }
    *data = (const uint8_t *)j->out.data;
    *len = w.len;
    return 0;
}

int otel_otlp_json_decode_response(const uint8_t *data, size_t len, int64_t *rejected, char *msg,
                                   size_t cap)
{
    return otel_otlp_json_decode_partial(data, len, "rejectedSpans", rejected, msg, cap);
}

int otel_otlp_json_decode_partial(const uint8_t *data, size_t len, const char *rejected_key,
                                  int64_t *rejected, char *msg, size_t cap)
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
        rc = read_response(root, rejected_key, rejected, msg, cap);
    cJSON_Delete(root);
    if (rc != 0) {
        *rejected = 0;
        otel_otlp_copy_message(msg, cap, "");
    }
    return rc;
}
