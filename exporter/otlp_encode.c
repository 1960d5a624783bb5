/* otlp_encode.c - encodes span batches as OTLP ExportTraceServiceRequest and decodes the receiver's
 * answers (protobuf-c). */
#include "otlp_encode.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/span_int.h"

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_request;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse pb_response;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event pb_event;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any;

#define FLAGS_HAS_IS_REMOTE                                                                        \
    OPENTELEMETRY__PROTO__TRACE__V1__SPAN_FLAGS__SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
#define FLAGS_IS_REMOTE                                                                            \
    OPENTELEMETRY__PROTO__TRACE__V1__SPAN_FLAGS__SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
#define FLAGS_TRACE_MASK OPENTELEMETRY__PROTO__TRACE__V1__SPAN_FLAGS__SPAN_FLAGS_TRACE_FLAGS_MASK
#define RETRY_INFO_TYPE "google.rpc.RetryInfo"
#define NS_PER_S UINT64_C(1000000000)

/* The message structs of the last request. Every array grows to the largest
 * batch seen and is reused; *_cap counts the elements every array of that
 * family holds at least. Strings and byte fields point into the spans, so
 * the structs are only valid during otel_otlp_encode. */
struct otel_otlp_encoder {
    /* one per span, in output order (grouped by resource) */
    pb_span *spans;
    pb_span **span_ptrs;
    pb_status *statuses;
    uint32_t *group_of; /* batch index -> group */
    size_t span_cap;

    /* attributes of spans, events and resources */
    pb_kv *kvs;
    pb_kv **kv_ptrs;
    pb_any *anys;
    size_t kv_cap;

    pb_event *events;
    pb_event **event_ptrs;
    size_t event_cap;

    /* one per distinct resource */
    const otel_resource **group_res;
    size_t *group_next; /* span count, then next output slot while filling */
    pb_resource_spans *rspans;
    pb_resource_spans **rspan_ptrs;
    pb_scope_spans *sspans;
    pb_scope_spans **sspan_ptrs;
    pb_resource *resources;
    size_t group_cap;

    pb_scope scope;
    pb_request request;

    uint8_t *buf;
    size_t buf_cap;
};

/* ---- buffers ------------------------------------------------------------- */

/* Make the array whose pointer is stored at slot (any T **) hold at least
 * need elements of size elem, contents kept. The pointer is read and written
 * with memcpy, so any element type goes through one function. Returns 0 or
 * OTEL_ERR_NOMEM (the array is then unchanged). */
static int grow_array(void *slot, size_t need, size_t elem)
{
    void *p;
    if (need > SIZE_MAX / elem)
        return OTEL_ERR_NOMEM;
    memcpy(&p, slot, sizeof(p));
    void *q = otel_realloc(p, need * elem);
    if (q == NULL)
        return OTEL_ERR_NOMEM;
    memcpy(slot, &q, sizeof(q));
    return 0;
}

/* The capacity to grow to for need elements: doubling, at least 16. */
static size_t next_cap(size_t cap, size_t need)
{
    size_t c = cap < 16 ? 16 : cap;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    return c;
}

static int reserve_spans(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->span_cap)
        return 0;
    size_t c = next_cap(e->span_cap, need);
    if (grow_array(&e->spans, c, sizeof(*e->spans)) != 0 ||
        grow_array(&e->statuses, c, sizeof(*e->statuses)) != 0 ||
        grow_array(&e->span_ptrs, c, sizeof(*e->span_ptrs)) != 0 ||
        grow_array(&e->group_of, c, sizeof(*e->group_of)) != 0)
        return OTEL_ERR_NOMEM;
    e->span_cap = c;
    return 0;
}

static int reserve_kvs(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->kv_cap)
        return 0;
    size_t c = next_cap(e->kv_cap, need);
    if (grow_array(&e->kvs, c, sizeof(*e->kvs)) != 0 ||
        grow_array(&e->kv_ptrs, c, sizeof(*e->kv_ptrs)) != 0 ||
        grow_array(&e->anys, c, sizeof(*e->anys)) != 0)
        return OTEL_ERR_NOMEM;
    e->kv_cap = c;
    return 0;
}

static int reserve_events(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->event_cap)
        return 0;
    size_t c = next_cap(e->event_cap, need);
    if (grow_array(&e->events, c, sizeof(*e->events)) != 0 ||
        grow_array(&e->event_ptrs, c, sizeof(*e->event_ptrs)) != 0)
        return OTEL_ERR_NOMEM;
    e->event_cap = c;
    return 0;
}

static int reserve_groups(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->group_cap)
        return 0;
    size_t c = next_cap(e->group_cap, need);
    if (grow_array(&e->group_res, c, sizeof(*e->group_res)) != 0 ||
        grow_array(&e->group_next, c, sizeof(*e->group_next)) != 0 ||
        grow_array(&e->rspans, c, sizeof(*e->rspans)) != 0 ||
        grow_array(&e->rspan_ptrs, c, sizeof(*e->rspan_ptrs)) != 0 ||
        grow_array(&e->sspans, c, sizeof(*e->sspans)) != 0 ||
        grow_array(&e->sspan_ptrs, c, sizeof(*e->sspan_ptrs)) != 0 ||
        grow_array(&e->resources, c, sizeof(*e->resources)) != 0)
        return OTEL_ERR_NOMEM;
    e->group_cap = c;
    return 0;
}

static int reserve_buf(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->buf_cap)
        return 0;
    size_t c = next_cap(e->buf_cap, need);
    if (grow_array(&e->buf, c, 1) != 0)
        return OTEL_ERR_NOMEM;
    e->buf_cap = c;
    return 0;
}

/* ---- batch layout ---------------------------------------------------------- */

static const otel_resource *span_resource(const otel_span *s)
{
    return s->tracer != NULL ? otel_tracer_resource(s->tracer) : NULL;
}

static size_t span_attr_count(const otel_span *s)
{
    return s->n_attrs <= OTEL_SPAN_MAX_ATTRS ? s->n_attrs : OTEL_SPAN_MAX_ATTRS;
}

static size_t span_event_count(const otel_span *s)
{
    return s->n_events <= OTEL_SPAN_MAX_EVENTS ? s->n_events : OTEL_SPAN_MAX_EVENTS;
}

/* Attributes of event ev that lie inside the span's ev_attrs. */
static size_t event_attr_count(const otel_span *s, const otel_event *ev)
{
    size_t used =
        s->n_ev_attrs <= OTEL_SPAN_MAX_EVENT_ATTRS ? s->n_ev_attrs : OTEL_SPAN_MAX_EVENT_ATTRS;
    if (ev->attr_first >= used)
        return 0;
    size_t room = used - ev->attr_first;
    return ev->attr_count <= room ? ev->attr_count : room;
}

/* Group spans by resource (e->group_of, e->group_res, e->group_next holding
 * each group's span count) and count the attributes and events the request
 * needs. Returns 0 or OTEL_ERR_NOMEM. */
static int plan_batch(otel_otlp_encoder *e, otel_span *const *spans, size_t n, size_t *n_groups,
                      size_t *n_kvs, size_t *n_events)
{
    size_t groups = 0, kvs = 0, events = 0;
    int rc = reserve_spans(e, n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const otel_span *s = spans[i];
        const otel_resource *r = span_resource(s);
        size_t g = groups;
        if (groups > 0 && e->group_res[groups - 1] == r)
            g = groups - 1;
        else
            for (size_t k = 0; k < groups; k++)
                if (e->group_res[k] == r) {
                    g = k;
                    break;
                }
        if (g == groups) {
            if ((rc = reserve_groups(e, groups + 1)) != 0)
                return rc;
            e->group_res[g] = r;
            e->group_next[g] = 0;
            kvs += otel_resource_count(r);
            groups++;
        }
        e->group_of[i] = (uint32_t)g;
        e->group_next[g]++;
        kvs += span_attr_count(s);
        size_t ne = span_event_count(s);
        events += ne;
        for (size_t j = 0; j < ne; j++)
            kvs += event_attr_count(s, &s->events[j]);
    }
    *n_groups = groups;
    *n_kvs = kvs;
    *n_events = events;
    return 0;
}

/* ---- filling the messages ---------------------------------------------- */

/* Point the next *k KeyValue (and its AnyValue) at attribute a. */
static void fill_attr(otel_otlp_encoder *e, size_t *k, const otel_attr *a)
{
    pb_kv *kv = &e->kvs[*k];
    pb_any *v = &e->anys[*k];
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = (char *)a->key;
    kv->value = v;
    switch (a->type) {
    case OTEL_ATTR_STRING:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = (char *)(a->v.s.ptr != NULL ? a->v.s.ptr : "");
        break;
    case OTEL_ATTR_BOOL:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        v->bool_value = a->v.b;
        break;
    case OTEL_ATTR_INT:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = a->v.i;
        break;
    case OTEL_ATTR_DOUBLE:
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
        v->double_value = a->v.d;
        break;
    }
    e->kv_ptrs[*k] = kv;
    (*k)++;
}

/* Fill the KeyValues of attrs[0..n) from *k on; returns their pointer
 * array (NULL when n is 0). */
static pb_kv **fill_attrs(otel_otlp_encoder *e, size_t *k, const otel_attr *attrs, size_t n)
{
    pb_kv **first = n > 0 ? &e->kv_ptrs[*k] : NULL;
    for (size_t i = 0; i < n; i++)
        fill_attr(e, k, &attrs[i]);
    return first;
}

static void fill_events(otel_otlp_encoder *e, size_t *k, size_t *ev, pb_span *m, const otel_span *s)
{
    size_t ne = span_event_count(s);
    m->n_events = ne;
    m->events = ne > 0 ? &e->event_ptrs[*ev] : NULL;
    for (size_t j = 0; j < ne; j++) {
        const otel_event *src = &s->events[j];
        pb_event *dst = &e->events[*ev];
        opentelemetry__proto__trace__v1__span__event__init(dst);
        dst->time_unix_nano = src->time_ns;
        dst->name = (char *)(src->name != NULL ? src->name : "");
        dst->n_attributes = event_attr_count(s, src);
        dst->attributes = fill_attrs(e, k, &s->ev_attrs[src->attr_first], dst->n_attributes);
        dst->dropped_attributes_count = src->dropped_attrs;
        e->event_ptrs[*ev] = dst;
        (*ev)++;
    }
}

/* Fill output slot pos from span s; *k and *ev are the next free KeyValue
 * and Event. */
static void fill_span(otel_otlp_encoder *e, size_t pos, size_t *k, size_t *ev, const otel_span *s)
{
    pb_span *m = &e->spans[pos];
    opentelemetry__proto__trace__v1__span__init(m);
    m->trace_id.len = sizeof(s->ctx.trace_id);
    m->trace_id.data = (uint8_t *)s->ctx.trace_id;
    m->span_id.len = sizeof(s->ctx.span_id);
    m->span_id.data = (uint8_t *)s->ctx.span_id;
    if (s->has_parent) {
        m->parent_span_id.len = sizeof(s->parent_span_id);
        m->parent_span_id.data = (uint8_t *)s->parent_span_id;
    }
    m->trace_state = (char *)(s->tracestate_len > 0 ? s->tracestate : "");
    m->flags = ((uint32_t)s->ctx.trace_flags & FLAGS_TRACE_MASK) | FLAGS_HAS_IS_REMOTE |
               (s->parent_is_remote ? (uint32_t)FLAGS_IS_REMOTE : 0u);
    m->name = (char *)(s->name != NULL ? s->name : "");
    m->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
    m->start_time_unix_nano = s->start_ns;
    m->end_time_unix_nano = s->end_ns;
    m->n_attributes = span_attr_count(s);
    m->attributes = fill_attrs(e, k, s->attrs, m->n_attributes);
    m->dropped_attributes_count = s->dropped_attrs;
    fill_events(e, k, ev, m, s);
    m->dropped_events_count = s->dropped_events;
    if (s->status != OTEL_STATUS_UNSET) {
        pb_status *st = &e->statuses[pos];
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status;
        st->message = (char *)(s->status_message != NULL ? s->status_message : "");
        m->status = st;
    }
    e->span_ptrs[pos] = m;
}

/* Fill group g's ResourceSpans: the resource's attributes from *k on, one
 * ScopeSpans over output slots first .. first+count. */
static void fill_group(otel_otlp_encoder *e, size_t g, size_t *k, size_t first, size_t count)
{
    const otel_resource *r = e->group_res[g];
    pb_resource *res = &e->resources[g];
    opentelemetry__proto__resource__v1__resource__init(res);
    size_t nr = otel_resource_count(r);
    res->n_attributes = nr;
    res->attributes = nr > 0 ? &e->kv_ptrs[*k] : NULL;
    for (size_t i = 0; i < nr; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        otel_attr a = {.key = key, .type = OTEL_ATTR_STRING};
        a.v.s.ptr = value;
        fill_attr(e, k, &a);
    }

    pb_scope_spans *ss = &e->sspans[g];
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->scope = &e->scope;
    ss->n_spans = count;
    ss->spans = &e->span_ptrs[first];
    e->sspan_ptrs[g] = ss;

    pb_resource_spans *rs = &e->rspans[g];
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = res;
    rs->n_scope_spans = 1;
    rs->scope_spans = &e->sspan_ptrs[g];
    e->rspan_ptrs[g] = rs;
}

/* Fill every message of the request (capacities are reserved). Spans go to
 * output slots grouped by resource, in batch order within a group. */
static void fill_batch(otel_otlp_encoder *e, otel_span *const *spans, size_t n, size_t groups)
{
    size_t k = 0, ev = 0, first = 0;
    for (size_t g = 0; g < groups; g++) {
        size_t count = e->group_next[g];
        fill_group(e, g, &k, first, count);
        e->group_next[g] = first;
        first += count;
    }
    for (size_t i = 0; i < n; i++) {
        size_t pos = groups == 1 ? i : e->group_next[e->group_of[i]]++;
        fill_span(e, pos, &k, &ev, spans[i]);
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&e->request);
    e->request.n_resource_spans = groups;
    e->request.resource_spans = groups > 0 ? e->rspan_ptrs : NULL;
}

/* ---- decoding ------------------------------------------------------------ */

/* Copy s into out (cap bytes, NUL-terminated), cut at a UTF-8 character
 * boundary when it does not fit. */
static void copy_message(char *out, size_t cap, const char *s)
{
    if (cap == 0)
        return;
    size_t len = s != NULL ? strlen(s) : 0;
    if (len > cap - 1) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    if (len > 0)
        memcpy(out, s, len);
    out[len] = '\0';
}

/* True for "type.googleapis.com/google.rpc.RetryInfo" (any host part). */
static bool is_retry_info(const char *type_url)
{
    size_t n = type_url != NULL ? strlen(type_url) : 0;
    size_t m = sizeof(RETRY_INFO_TYPE) - 1;
    if (n < m || memcmp(type_url + n - m, RETRY_INFO_TYPE, m) != 0)
        return false;
    return n == m || type_url[n - m - 1] == '/';
}

/* A Duration in nanoseconds: negatives give 0, too long saturates. */
static uint64_t duration_ns(const Google__Protobuf__Duration *d)
{
    if (d == NULL || d->seconds < 0 || (d->seconds == 0 && d->nanos <= 0))
        return 0;
    uint64_t s = (uint64_t)d->seconds;
    if (s > UINT64_MAX / NS_PER_S - 1)
        return UINT64_MAX;
    uint64_t ns = s * NS_PER_S;
    if (d->nanos >= 0)
        return ns + (uint64_t)d->nanos;
    uint64_t back = (uint64_t)(-(int64_t)d->nanos);
    return back < ns ? ns - back : 0;
}

/* ---- API ----------------------------------------------------------------- */

int otel_otlp_encoder_new(otel_otlp_encoder **out)
{
    *out = NULL;
    otel_otlp_encoder *e = otel_calloc(1, sizeof(*e));
    if (e == NULL)
        return OTEL_ERR_NOMEM;
    opentelemetry__proto__common__v1__instrumentation_scope__init(&e->scope);
    e->scope.name = (char *)OTEL_SDK_NAME;
    e->scope.version = (char *)OTEL_SDK_VERSION;
    *out = e;
    return 0;
}

void otel_otlp_encoder_del(otel_otlp_encoder *e)
{
    if (e == NULL)
        return;
    otel_free(e->spans);
    otel_free(e->statuses);
    otel_free(e->span_ptrs);
    otel_free(e->group_of);
    otel_free(e->kvs);
    otel_free(e->kv_ptrs);
    otel_free(e->anys);
    otel_free(e->events);
    otel_free(e->event_ptrs);
    otel_free(e->group_res);
    otel_free(e->group_next);
    otel_free(e->rspans);
    otel_free(e->rspan_ptrs);
    otel_free(e->sspans);
    otel_free(e->sspan_ptrs);
    otel_free(e->resources);
    otel_free(e->buf);
    otel_free(e);
}

int otel_otlp_encode(otel_otlp_encoder *e, otel_span *const *spans, size_t n, const uint8_t **data,
                     size_t *len)
{
    static const uint8_t empty[1];
    size_t groups = 0, kvs = 0, events = 0;
    *data = empty;
    *len = 0;
    int rc = plan_batch(e, spans, n, &groups, &kvs, &events);
    if (rc == 0)
        rc = reserve_kvs(e, kvs);
    if (rc == 0)
        rc = reserve_events(e, events);
    if (rc != 0)
        return rc;
    fill_batch(e, spans, n, groups);
    size_t size =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            &e->request);
    if (size == 0)
        return 0;
    if ((rc = reserve_buf(e, size)) != 0)
        return rc;
    *len = opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(
        &e->request, e->buf);
    *data = e->buf;
    return 0;
}

int otel_otlp_decode_response(const uint8_t *data, size_t len, int64_t *rejected, char *msg,
                              size_t cap)
{
    *rejected = 0;
    copy_message(msg, cap, "");
    if (len == 0)
        return 0;
    pb_response *r =
        opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, len,
                                                                                          data);
    if (r == NULL)
        return OTEL_ERR_PARSE;
    if (r->partial_success != NULL) {
        int64_t k = r->partial_success->rejected_spans;
        *rejected = k > 0 ? k : 0;
        copy_message(msg, cap, r->partial_success->error_message);
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(r,
                                                                                             NULL);
    return 0;
}

int otel_otlp_decode_retry_info(const uint8_t *data, size_t len, uint64_t *delay_ns)
{
    *delay_ns = 0;
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, data);
    if (st == NULL)
        return OTEL_ERR_PARSE;
    int rc = OTEL_ERR_PARSE;
    for (size_t i = 0; i < st->n_details && rc != 0; i++) {
        const Google__Protobuf__Any *d = st->details[i];
        if (!is_retry_info(d->type_url))
            continue;
        Google__Rpc__RetryInfo *ri =
            google__rpc__retry_info__unpack(NULL, d->value.len, d->value.data);
        if (ri == NULL)
            continue;
        *delay_ns = duration_ns(ri->retry_delay);
        google__rpc__retry_info__free_unpacked(ri, NULL);
        rc = 0;
    }
    google__rpc__status__free_unpacked(st, NULL);
    return rc;
}
