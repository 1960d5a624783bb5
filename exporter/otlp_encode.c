/* otlp_encode.c - encodes span batches as OTLP ExportTraceServiceRequest
 * with a direct protobuf writer (the same bytes protobuf-c would pack), and
 * decodes the receiver's answers (protobuf-c). */
#include "otlp_encode.h"

#include "otlp_common.h"
#include "pb_write.h"

#include "../core/text.h"

#include <stdio.h>
#include <string.h>

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "../core/alloc.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse pb_response;

_Static_assert(
    OTEL_OTLP_FLAGS_HAS_IS_REMOTE ==
        OPENTELEMETRY__PROTO__TRACE__V1__SPAN_FLAGS__SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK,
    "SpanFlags as in trace.proto");
_Static_assert(OTEL_OTLP_FLAGS_IS_REMOTE ==
                   OPENTELEMETRY__PROTO__TRACE__V1__SPAN_FLAGS__SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK,
               "SpanFlags as in trace.proto");
_Static_assert(OTEL_OTLP_FLAGS_TRACE_MASK ==
                   OPENTELEMETRY__PROTO__TRACE__V1__SPAN_FLAGS__SPAN_FLAGS_TRACE_FLAGS_MASK,
               "SpanFlags as in trace.proto");

#define RETRY_INFO_TYPE "google.rpc.RetryInfo"
#define NS_PER_S UINT64_C(1000000000)

/* ---- wire format ----------------------------------------------------------
 * Tags of the trace messages' fields, as in exporter/proto (pb_write.h has
 * the rest). All numbers but Span.flags (16) are below 16: a one-byte tag. */
/* collector.trace.v1.ExportTraceServiceRequest */
#define REQ_RESOURCE_SPANS OTEL_PB_TAG(1, OTEL_PB_LEN)
/* trace.v1.ResourceSpans (schema_url = 3 left empty) */
#define RS_RESOURCE OTEL_PB_TAG(1, OTEL_PB_LEN)
#define RS_SCOPE_SPANS OTEL_PB_TAG(2, OTEL_PB_LEN)
/* trace.v1.ScopeSpans (schema_url = 3 left empty) */
#define SS_SCOPE OTEL_PB_TAG(1, OTEL_PB_LEN)
#define SS_SPANS OTEL_PB_TAG(2, OTEL_PB_LEN)
/* trace.v1.Span */
#define SPAN_TRACE_ID OTEL_PB_TAG(1, OTEL_PB_LEN)
#define SPAN_SPAN_ID OTEL_PB_TAG(2, OTEL_PB_LEN)
#define SPAN_TRACE_STATE OTEL_PB_TAG(3, OTEL_PB_LEN)
#define SPAN_PARENT_SPAN_ID OTEL_PB_TAG(4, OTEL_PB_LEN)
#define SPAN_NAME OTEL_PB_TAG(5, OTEL_PB_LEN)
#define SPAN_KIND OTEL_PB_TAG(6, OTEL_PB_VARINT)
#define SPAN_START OTEL_PB_TAG(7, OTEL_PB_I64)
#define SPAN_END OTEL_PB_TAG(8, OTEL_PB_I64)
#define SPAN_ATTRIBUTES OTEL_PB_TAG(9, OTEL_PB_LEN)
#define SPAN_DROPPED_ATTRS OTEL_PB_TAG(10, OTEL_PB_VARINT)
#define SPAN_EVENTS OTEL_PB_TAG(11, OTEL_PB_LEN)
#define SPAN_DROPPED_EVENTS OTEL_PB_TAG(12, OTEL_PB_VARINT)
#define SPAN_LINKS OTEL_PB_TAG(13, OTEL_PB_LEN)
#define SPAN_DROPPED_LINKS OTEL_PB_TAG(14, OTEL_PB_VARINT)
#define SPAN_STATUS OTEL_PB_TAG(15, OTEL_PB_LEN)
#define SPAN_FLAGS_TAG ((16u << 3) | OTEL_PB_I32) /* two bytes as a varint */
#define SPAN_FLAGS_TAG_SIZE 2
/* trace.v1.Span.Event */
#define EV_TIME OTEL_PB_TAG(1, OTEL_PB_I64)
#define EV_NAME OTEL_PB_TAG(2, OTEL_PB_LEN)
#define EV_ATTRIBUTES OTEL_PB_TAG(3, OTEL_PB_LEN)
#define EV_DROPPED_ATTRS OTEL_PB_TAG(4, OTEL_PB_VARINT)
/* trace.v1.Span.Link (attributes = 4, dropped_attributes_count = 5 unused) */
#define LINK_TRACE_ID OTEL_PB_TAG(1, OTEL_PB_LEN)
#define LINK_SPAN_ID OTEL_PB_TAG(2, OTEL_PB_LEN)
#define LINK_TRACE_STATE OTEL_PB_TAG(3, OTEL_PB_LEN)
#define LINK_FLAGS OTEL_PB_TAG(6, OTEL_PB_I32)
/* trace.v1.Status (field 1 reserved) */
#define STATUS_MESSAGE OTEL_PB_TAG(2, OTEL_PB_LEN)
#define STATUS_CODE OTEL_PB_TAG(3, OTEL_PB_VARINT)

/* What the grouping learns of one span of the batch. */
typedef struct span_plan {
    uint32_t group; /* index of its resource group */
} span_plan;

/* Buffers that grow to the largest batch seen and are reused. */
struct otel_otlp_encoder {
    span_plan *plan; /* batch index -> plan */
    uint32_t *order; /* output position -> batch index (several groups) */
    size_t span_cap;

    /* one per distinct resource, in order of first appearance */
    const otel_resource **group_res;
    size_t *group_count;    /* spans in the group */
    size_t *group_next;     /* next output position while ordering */
    size_t *group_spans;    /* bytes of the group's ScopeSpans.spans fields */
    size_t *group_res_size; /* bytes of its Resource message */
    size_t group_cap;

    size_t scope_size; /* bytes of the InstrumentationScope message */

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

#define MIN_CAP 16 /* the first capacity of a growing array */

static int reserve_spans(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->span_cap)
        return 0;
    size_t c = otel_grow_cap(e->span_cap, need, MIN_CAP);
    if (grow_array(&e->plan, c, sizeof(*e->plan)) != 0 ||
        grow_array(&e->order, c, sizeof(*e->order)) != 0)
        return OTEL_ERR_NOMEM;
    e->span_cap = c;
    return 0;
}

static int reserve_groups(otel_otlp_encoder *e, size_t need)
{
    if (need <= e->group_cap)
        return 0;
    size_t c = otel_grow_cap(e->group_cap, need, MIN_CAP);
    if (grow_array(&e->group_res, c, sizeof(*e->group_res)) != 0 ||
        grow_array(&e->group_count, c, sizeof(*e->group_count)) != 0 ||
        grow_array(&e->group_next, c, sizeof(*e->group_next)) != 0 ||
        grow_array(&e->group_spans, c, sizeof(*e->group_spans)) != 0 ||
        grow_array(&e->group_res_size, c, sizeof(*e->group_res_size)) != 0)
        return OTEL_ERR_NOMEM;
    e->group_cap = c;
    return 0;
}

static int reserve_buf(otel_otlp_encoder *e, size_t need)
{
    void *p = e->buf;
    int rc = otel_grow(&p, &e->buf_cap, need, MIN_CAP);
    e->buf = p;
    return rc;
}

/* ---- what a span holds ------------------------------------------------------ */

static const otel_resource *span_resource(const otel_span_data *s)
{
    return s->resource;
}

/* ---- sizes (first pass: arithmetic only) ---------------------------------- */

static size_t event_size(const otel_span_data *s, const otel_event *ev)
{
    size_t size =
        (ev->time_ns != 0 ? 9 : 0) + otel_pb_opt_len_field_size(otel_otlp_str_len(ev->name));
    size_t na;
    const otel_attr *attrs = otel_otlp_event_attrs(s, ev, &na);
    size += otel_pb_attrs_size(attrs, na);
    if (ev->dropped_attrs != 0)
        size += 1 + otel_pb_varint_size(ev->dropped_attrs);
    return size;
}

/* trace_id, span_id, trace_state, flags (never 0: HAS_IS_REMOTE is set) */
static size_t link_size(const otel_link *l)
{
    return 18 + 10 + otel_pb_opt_len_field_size(otel_otlp_str_len(l->tracestate)) + 1 + 4;
}

static size_t status_size(const otel_span_data *s)
{
    size_t size = otel_pb_opt_len_field_size(otel_otlp_str_len(s->status_message));
    if (s->status != 0)
        size += 1 + otel_pb_int32_size((int32_t)s->status);
    return size;
}

/* At least the bytes of span s's Span message with its field tag and
 * length (nl: its name's length): the writer's room, not its size, which
 * costs a second pass over the attributes to know. Varint lengths and
 * numbers are counted at their most (5 and 10 bytes). */
static size_t span_bound(const otel_span_data *s, size_t nl)
{
    size_t bound = 1 + 5;                         /* ScopeSpans.spans tag, length */
    bound += 18 + 10 + 10;                        /* trace_id, span_id, parent_span_id */
    bound += 1 + 5 + otel_otlp_tracestate_len(s); /* trace_state */
    bound += 1 + 5 + nl;                          /* name */
    bound += 11 + 9 + 9;                          /* kind, start, end */
    bound += 3 * 6 + SPAN_FLAGS_TAG_SIZE + 4;     /* dropped counts, flags */
    bound += otel_pb_attrs_bound(s->attrs, otel_otlp_attr_count(s));
    size_t ne = otel_otlp_event_count(s);
    for (size_t j = 0; j < ne; j++)
        bound += 1 + 5 + event_size(s, &s->events[j]);
    size_t nk = otel_otlp_link_count(s);
    for (size_t j = 0; j < nk; j++)
        bound += 1 + 5 + link_size(&s->links[j]);
    if (s->status != OTEL_STATUS_UNSET)
        bound += 1 + 5 + status_size(s);
    return bound;
}

/* Bytes of group g's ScopeSpans and ResourceSpans messages. */
static size_t scope_spans_size(const otel_otlp_encoder *e, size_t g)
{
    return otel_pb_len_field_size(e->scope_size) + e->group_spans[g];
}

static size_t resource_spans_size(const otel_otlp_encoder *e, size_t g)
{
    return otel_pb_len_field_size(e->group_res_size[g]) +
           otel_pb_len_field_size(scope_spans_size(e, g));
}

/* ---- writing (second pass) -------------------------------------------------- */

static uint8_t *put_event(uint8_t *p, const otel_span_data *s, const otel_event *ev)
{
    p = otel_pb_put_len(p, SPAN_EVENTS, event_size(s, ev));
    if (ev->time_ns != 0) {
        *p++ = EV_TIME;
        p = otel_pb_put_fixed64(p, ev->time_ns);
    }
    size_t nl = otel_otlp_str_len(ev->name);
    if (nl > 0)
        p = otel_pb_put_bytes(p, EV_NAME, ev->name, nl);
    size_t na;
    const otel_attr *attrs = otel_otlp_event_attrs(s, ev, &na);
    p = otel_pb_put_attrs(p, EV_ATTRIBUTES, attrs, na);
    if (ev->dropped_attrs != 0) {
        *p++ = EV_DROPPED_ATTRS;
        p = otel_pb_put_varint(p, ev->dropped_attrs);
    }
    return p;
}

static uint8_t *put_link(uint8_t *p, const otel_link *l)
{
    p = otel_pb_put_len(p, SPAN_LINKS, link_size(l));
    p = otel_pb_put_bytes(p, LINK_TRACE_ID, l->ctx.trace_id, sizeof(l->ctx.trace_id));
    p = otel_pb_put_bytes(p, LINK_SPAN_ID, l->ctx.span_id, sizeof(l->ctx.span_id));
    size_t tl = otel_otlp_str_len(l->tracestate);
    if (tl > 0)
        p = otel_pb_put_bytes(p, LINK_TRACE_STATE, l->tracestate, tl);
    *p++ = LINK_FLAGS;
    return otel_pb_put_fixed32(p, otel_otlp_link_flags(l));
}

static uint8_t *put_status(uint8_t *p, const otel_span_data *s)
{
    p = otel_pb_put_len(p, SPAN_STATUS, status_size(s));
    size_t ml = otel_otlp_str_len(s->status_message);
    if (ml > 0)
        p = otel_pb_put_bytes(p, STATUS_MESSAGE, s->status_message, ml);
    if (s->status != 0) {
        *p++ = STATUS_CODE;
        p = otel_pb_put_varint(p, (uint64_t)(int64_t)(int32_t)s->status);
    }
    return p;
}

/* Span s as a ScopeSpans.spans field (nl: its name's length), in at most
 * span_bound(s, nl) bytes at field. Its length is known once it is written:
 * two bytes are kept for it (a span of 128 to 16383 bytes, as most are),
 * and the message is moved when it needs one or three. */
static uint8_t *put_span(uint8_t *field, const otel_span_data *s, size_t nl)
{
    uint8_t *body = field + 3, *p = body;
    p = otel_pb_put_bytes(p, SPAN_TRACE_ID, s->ctx.trace_id, sizeof(s->ctx.trace_id));
    p = otel_pb_put_bytes(p, SPAN_SPAN_ID, s->ctx.span_id, sizeof(s->ctx.span_id));
    size_t tl = otel_otlp_tracestate_len(s);
    if (tl > 0)
        p = otel_pb_put_bytes(p, SPAN_TRACE_STATE, s->tracestate, tl);
    if (s->has_parent)
        p = otel_pb_put_bytes(p, SPAN_PARENT_SPAN_ID, s->parent_span_id, sizeof(s->parent_span_id));
    if (nl > 0)
        p = otel_pb_put_bytes(p, SPAN_NAME, s->name, nl);
    if (s->kind != 0) {
        *p++ = SPAN_KIND;
        p = otel_pb_put_varint(p, (uint64_t)(int64_t)(int32_t)s->kind);
    }
    if (s->start_ns != 0) {
        *p++ = SPAN_START;
        p = otel_pb_put_fixed64(p, s->start_ns);
    }
    if (s->end_ns != 0) {
        *p++ = SPAN_END;
        p = otel_pb_put_fixed64(p, s->end_ns);
    }
    p = otel_pb_put_attrs(p, SPAN_ATTRIBUTES, s->attrs, otel_otlp_attr_count(s));
    if (s->dropped_attrs != 0) {
        *p++ = SPAN_DROPPED_ATTRS;
        p = otel_pb_put_varint(p, s->dropped_attrs);
    }
    size_t ne = otel_otlp_event_count(s);
    for (size_t j = 0; j < ne; j++)
        p = put_event(p, s, &s->events[j]);
    if (s->dropped_events != 0) {
        *p++ = SPAN_DROPPED_EVENTS;
        p = otel_pb_put_varint(p, s->dropped_events);
    }
    size_t nk = otel_otlp_link_count(s);
    for (size_t j = 0; j < nk; j++)
        p = put_link(p, &s->links[j]);
    if (s->dropped_links != 0) {
        *p++ = SPAN_DROPPED_LINKS;
        p = otel_pb_put_varint(p, s->dropped_links);
    }
    if (s->status != OTEL_STATUS_UNSET)
        p = put_status(p, s);
    p = otel_pb_put_varint(p, SPAN_FLAGS_TAG);
    p = otel_pb_put_fixed32(p, otel_otlp_span_flags(s));
    size_t len = (size_t)(p - body), ls = otel_pb_varint_size(len);
    if (ls != 2)
        memmove(field + 1 + ls, body, len);
    field[0] = SS_SPANS;
    otel_pb_put_varint(field + 1, len);
    return field + 1 + ls + len;
}

/* Group g's ResourceSpans up to the first Span: the Resource, then the
 * ScopeSpans' header and its scope. */
static uint8_t *put_group_head(uint8_t *p, const otel_otlp_encoder *e, size_t g)
{
    const otel_resource *r = e->group_res[g];
    p = otel_pb_put_len(p, REQ_RESOURCE_SPANS, resource_spans_size(e, g));
    p = otel_pb_put_resource(p, RS_RESOURCE, r, e->group_res_size[g]);
    p = otel_pb_put_len(p, RS_SCOPE_SPANS, scope_spans_size(e, g));
    p = otel_pb_put_len(p, SS_SCOPE, e->scope_size);
    p = otel_pb_put_bytes(p, OTEL_PB_SCOPE_NAME, OTEL_SDK_NAME, sizeof(OTEL_SDK_NAME) - 1);
    return otel_pb_put_bytes(p, OTEL_PB_SCOPE_VERSION, OTEL_SDK_VERSION,
                             sizeof(OTEL_SDK_VERSION) - 1);
}

/* ---- the batch ---------------------------------------------------------------- */

/* The group of resource r, a new one at the end when r is not seen yet.
 * Returns 0 or OTEL_ERR_NOMEM. */
static int find_group(otel_otlp_encoder *e, const otel_resource *r, size_t *groups, size_t *out)
{
    size_t n = *groups;
    if (n > 0 && e->group_res[n - 1] == r) {
        *out = n - 1;
        return 0;
    }
    for (size_t k = 0; k < n; k++)
        if (e->group_res[k] == r) {
            *out = k;
            return 0;
        }
    int rc = reserve_groups(e, n + 1);
    if (rc != 0)
        return rc;
    e->group_res[n] = r;
    e->group_count[n] = 0;
    e->group_spans[n] = 0;
    e->group_res_size[n] = otel_pb_resource_size(r);
    *groups = n + 1;
    *out = n;
    return 0;
}

/* Group the spans by resource: e->plan[i].group and the groups' counts.
 * Returns 0 or OTEL_ERR_NOMEM. */
static int group_batch(otel_otlp_encoder *e, const otel_span_data *const *spans, size_t n,
                       size_t *n_groups)
{
    size_t groups = 0;
    int rc = reserve_spans(e, n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        size_t g;
        if ((rc = find_group(e, span_resource(spans[i]), &groups, &g)) != 0)
            return rc;
        e->plan[i].group = (uint32_t)g;
        e->group_count[g]++;
    }
    *n_groups = groups;
    return 0;
}

/* Output order for several groups: e->order holds the batch indexes group
 * after group, in batch order within each. */
static void order_batch(otel_otlp_encoder *e, size_t n, size_t groups)
{
    size_t first = 0;
    for (size_t g = 0; g < groups; g++) {
        e->group_next[g] = first;
        first += e->group_count[g];
    }
    for (size_t i = 0; i < n; i++)
        e->order[e->group_next[e->plan[i].group]++] = (uint32_t)i;
}

/* Bytes of group g's head (put_group_head) once e->group_spans[g] is
 * known, and at most whatever it is. */
static size_t group_head_size(const otel_otlp_encoder *e, size_t g)
{
    size_t rs = resource_spans_size(e, g), ss = scope_spans_size(e, g);
    return 1 + otel_pb_varint_size(rs) + otel_pb_len_field_size(e->group_res_size[g]) + 1 +
           otel_pb_varint_size(ss) + otel_pb_len_field_size(e->scope_size);
}

static size_t group_head_bound(const otel_otlp_encoder *e, size_t g)
{
    return 1 + 10 + otel_pb_len_field_size(e->group_res_size[g]) + 1 + 10 +
           otel_pb_len_field_size(e->scope_size);
}

/* Write group g (its spans: spans[order[first..first + count)], or
 * spans[first..] in batch order when order is NULL) from byte *off of
 * e->buf: the spans after room for the head, then the head, whose size
 * their length decides, just before them. *start is where the group
 * begins, *off is moved past its end. Returns 0 or OTEL_ERR_NOMEM. */
/* Out of line: inlined into write_batch, its span loop took 11 more
 * instructions a span (encode_cost). */
__attribute__((noinline)) static int write_group(otel_otlp_encoder *e,
                                                 const otel_span_data *const *spans,
                                                 const uint32_t *order, size_t first, size_t g,
                                                 size_t *off, size_t *start)
{
    size_t spans_at = *off + group_head_bound(e, g), end = spans_at;
    for (size_t k = first; k < first + e->group_count[g]; k++) {
        const otel_span_data *s = spans[order != NULL ? order[k] : k];
        size_t nl = otel_otlp_str_len(s->name);
        int rc = reserve_buf(e, end + span_bound(s, nl));
        if (rc != 0)
            return rc;
        end = (size_t)(put_span(e->buf + end, s, nl) - e->buf);
    }
    e->group_spans[g] = end - spans_at;
    *start = spans_at - group_head_size(e, g);
    put_group_head(e->buf + *start, e, g);
    *off = end;
    return 0;
}

/* Write the request into e->buf: *begin is its first byte, *len its bytes.
 * Returns 0 or OTEL_ERR_NOMEM. */
static int write_batch(otel_otlp_encoder *e, const otel_span_data *const *spans, size_t n,
                       size_t groups, size_t *begin, size_t *len)
{
    const uint32_t *order = NULL; /* one group: the batch's order */
    if (groups > 1) {
        order_batch(e, n, groups);
        order = e->order;
    }
    size_t off = 0, start = 0, first = 0, used = 0;
    for (size_t g = 0; g < groups; g++) {
        int rc = write_group(e, spans, order, first, g, &off, &start);
        if (rc != 0)
            return rc;
        if (g == 0) {
            *begin = start;
        } else if (start != used) { /* close the room its head did not take */
            memmove(e->buf + used, e->buf + start, off - start);
            off = used + (off - start);
        }
        used = off;
        first += e->group_count[g];
    }
    *len = off - *begin;
    return 0;
}

/* ---- decoding ------------------------------------------------------------ */

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
    e->scope_size = otel_pb_len_field_size(sizeof(OTEL_SDK_NAME) - 1) +
                    otel_pb_len_field_size(sizeof(OTEL_SDK_VERSION) - 1);
    *out = e;
    return 0;
}

void otel_otlp_encoder_del(otel_otlp_encoder *e)
{
    if (e == NULL)
        return;
    otel_free(e->plan);
    otel_free(e->order);
    otel_free(e->group_res);
    otel_free(e->group_count);
    otel_free(e->group_next);
    otel_free(e->group_spans);
    otel_free(e->group_res_size);
    otel_free(e->buf);
    otel_free(e);
}

int otel_otlp_encode(otel_otlp_encoder *e, const otel_span_data *const *spans, size_t n,
                     const uint8_t **data, size_t *len)
{
    static const uint8_t empty[1];
    size_t groups = 0, begin = 0, size = 0;
    *data = empty;
    *len = 0;
    if (n == 0)
        return 0;
    int rc = group_batch(e, spans, n, &groups);
    if (rc != 0 || (rc = write_batch(e, spans, n, groups, &begin, &size)) != 0)
        return rc;
    *data = e->buf + begin;
    *len = size;
    return 0;
}

int otel_otlp_decode_response(const uint8_t *data, size_t len, int64_t *rejected, char *msg,
                              size_t cap)
{
    *rejected = 0;
    otel_otlp_copy_message(msg, cap, "");
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
        otel_otlp_copy_message(msg, cap, r->partial_success->error_message);
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

int otel_otlp_decode_status_message(const uint8_t *data, size_t len, char *msg, size_t cap)
{
    if (cap > 0)
        msg[0] = '\0';
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, data);
    if (st == NULL)
        return OTEL_ERR_PARSE;
    if (cap > 0 && st->message != NULL)
        snprintf(msg, cap, "%s", st->message);
    google__rpc__status__free_unpacked(st, NULL);
    return OTEL_OK;
}
