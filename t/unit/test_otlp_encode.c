/* test_otlp_encode.c - tests of the OTLP encoder and response decoders
 * (exporter/otlp_encode.c): every request is unpacked again with the
 * generated protobuf-c code and compared field by field, and to the bytes
 * protobuf-c packs for the same spans. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../exporter/otlp_encode.h"
#include "../../exporter/pb_write.h"
#include "../lib/otlp_pb.h"
#include "../lib/span_data.h"

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "../../core/test_hooks.h"

/* ---- helpers ------------------------------------------------------------- */

static int reset_alloc(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    return 0;
}

/* Encode spans with e and unpack the result; free with free_request. */
static pb_request *encode_with(otel_otlp_encoder *e, otel_span_data *const *spans, size_t n)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(otel_otlp_encode(e, sd_ro(spans), n, &data, &len), OTEL_OK);
    assert_non_null(data);
    assert_true(len > 0);
    pb_request *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
                                                                                         data);
    assert_non_null(req);
    return req;
}

/* Encode with a fresh encoder. */
static pb_request *encode(otel_span_data *const *spans, size_t n)
{
    otel_otlp_encoder *e = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);
    pb_request *req = encode_with(e, spans, n);
    otel_otlp_encoder_del(e);
    return req;
}

static void free_request(pb_request *req)
{
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
}

/* The only ScopeSpans' spans of a request with one resource. */
static const pb_scope_spans *only_scope(const pb_request *req)
{
    assert_int_equal(req->n_resource_spans, 1);
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
    return req->resource_spans[0]->scope_spans[0];
}

static void assert_bytes(ProtobufCBinaryData b, const uint8_t *want, size_t n)
{
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
}

static void assert_attr_equal(const pb_kv *kv, const otel_attr *a)
{
    assert_non_null(kv->value);
    assert_string_equal(kv->key, a->key);
    const pb_any *v = kv->value;
    switch (a->type) {
    case OTEL_ATTR_STRING:
        assert_int_equal(v->value_case, ANY_STRING);
        assert_string_equal(v->string_value, a->v.s.ptr);
        break;
    case OTEL_ATTR_BOOL:
        assert_int_equal(v->value_case, ANY_BOOL);
        assert_int_equal(v->bool_value, a->v.b);
        break;
    case OTEL_ATTR_INT:
        assert_int_equal(v->value_case, ANY_INT);
        assert_true(v->int_value == a->v.i);
        break;
    case OTEL_ATTR_DOUBLE:
        assert_int_equal(v->value_case, ANY_DOUBLE);
        if (isnan(a->v.d))
            assert_true(isnan(v->double_value));
        else
            assert_memory_equal(&v->double_value, &a->v.d, sizeof(double));
        break;
    case OTEL_ATTR_STRING_ARRAY: {
        assert_int_equal(v->value_case, ANY_ARRAY);
        assert_int_equal(v->array_value->n_values, a->v.s.n);
        const char *pos = NULL, *e;
        size_t len, i = 0;
        while ((e = otel_attr_array_next(a, &pos, &len)) != NULL) {
            assert_int_equal(v->array_value->values[i]->value_case, ANY_STRING);
            assert_string_equal(v->array_value->values[i]->string_value, e);
            i++;
        }
        assert_int_equal(i, a->v.s.n);
        break;
    }
    }
}

/* Everything encoded for span m matches the core's span s. */
static void assert_span_equal(const pb_span *m, const otel_span_data *s)
{
    assert_bytes(m->trace_id, s->ctx.trace_id, 16);
    assert_bytes(m->span_id, s->ctx.span_id, 8);
    if (s->has_parent)
        assert_bytes(m->parent_span_id, s->parent_span_id, 8);
    else
        assert_int_equal(m->parent_span_id.len, 0);
    assert_string_equal(m->trace_state, s->tracestate_len > 0 ? s->tracestate : "");
    uint32_t flags = s->ctx.trace_flags | 0x100u | (s->parent_is_remote ? 0x200u : 0u);
    assert_int_equal(m->flags, flags);
    assert_string_equal(m->name, s->name);
    assert_int_equal(m->kind, s->kind);
    assert_true(m->start_time_unix_nano == s->start_ns);
    assert_true(m->end_time_unix_nano == s->end_ns);
    assert_int_equal(m->n_attributes, s->n_attrs);
    for (size_t i = 0; i < s->n_attrs; i++)
        assert_attr_equal(m->attributes[i], &s->attrs[i]);
    assert_int_equal(m->dropped_attributes_count, s->dropped_attrs);
    assert_int_equal(m->n_events, s->n_events);
    for (size_t j = 0; j < s->n_events; j++) {
        const pb_event *ev = m->events[j];
        const otel_event *want = &s->events[j];
        assert_string_equal(ev->name, want->name);
        assert_true(ev->time_unix_nano == want->time_ns);
        assert_int_equal(ev->n_attributes, want->attr_count);
        for (size_t i = 0; i < want->attr_count; i++)
            assert_attr_equal(ev->attributes[i], &s->ev_attrs[want->attr_first + i]);
        assert_int_equal(ev->dropped_attributes_count, want->dropped_attrs);
    }
    assert_int_equal(m->dropped_events_count, s->dropped_events);
    assert_int_equal(m->n_links, s->n_links);
    for (size_t j = 0; j < s->n_links; j++) {
        const pb_link *l = m->links[j];
        const otel_link *want = &s->links[j];
        assert_bytes(l->trace_id, want->ctx.trace_id, 16);
        assert_bytes(l->span_id, want->ctx.span_id, 8);
        assert_string_equal(l->trace_state, want->tracestate != NULL ? want->tracestate : "");
        assert_int_equal(l->flags,
                         want->ctx.trace_flags | 0x100u | (want->ctx.is_remote ? 0x200u : 0u));
        assert_int_equal(l->n_attributes, 0);
        assert_int_equal(l->dropped_attributes_count, 0);
    }
    assert_int_equal(m->dropped_links_count, s->dropped_links);
    if (s->status == OTEL_STATUS_UNSET) {
        assert_true(m->status == NULL || m->status->code == 0);
    } else {
        assert_non_null(m->status);
        assert_int_equal(m->status->code, s->status);
        assert_string_equal(m->status->message, s->status_message);
    }
}

/* The resource rs carries exactly r's attributes (NULL: none). */
static void assert_resource_of(const pb_resource_spans *rs, const otel_resource *r)
{
    assert_non_null(rs->resource);
    assert_int_equal(rs->resource->n_attributes, otel_resource_count(r));
    for (size_t i = 0; i < rs->resource->n_attributes; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        const pb_kv *kv = rs->resource->attributes[i];
        assert_string_equal(kv->key, key);
        assert_non_null(kv->value);
        assert_int_equal(kv->value->value_case, ANY_STRING);
        assert_string_equal(kv->value->string_value, value);
    }
    assert_int_equal(rs->resource->dropped_attributes_count, 0);
}

static const pb_any *find_resource_value(const pb_resource_spans *rs, const char *key)
{
    for (size_t i = 0; i < rs->resource->n_attributes; i++)
        if (strcmp(rs->resource->attributes[i]->key, key) == 0)
            return rs->resource->attributes[i]->value;
    return NULL;
}

/* ---- protobuf-c reference encoder ---------------------------------------- */

/* The request protobuf-c packs for the same spans, built the way the encoder
 * built it before it wrote protobuf directly: ResourceSpans per resource in
 * order of first appearance, spans in batch order within each, one
 * ScopeSpans with scope "mhd-otel". Every struct comes from a ref_pool. */

typedef struct ref_pool {
    void **blocks;
    size_t n, cap;
} ref_pool;

/* n zeroed bytes owned by pool, freed with ref_pool_free. */
static void *ref_alloc(ref_pool *pool, size_t n)
{
    if (pool->n == pool->cap) {
        pool->cap = pool->cap ? pool->cap * 2 : 64;
        pool->blocks = realloc(pool->blocks, pool->cap * sizeof(*pool->blocks));
        assert_non_null(pool->blocks);
    }
    void *p = calloc(1, n > 0 ? n : 1);
    assert_non_null(p);
    pool->blocks[pool->n++] = p;
    return p;
}

static void ref_pool_free(ref_pool *pool)
{
    for (size_t i = 0; i < pool->n; i++)
        free(pool->blocks[i]);
    free(pool->blocks);
    pool->blocks = NULL;
    pool->n = pool->cap = 0;
}

static pb_kv *ref_kv(ref_pool *pool, const otel_attr *a)
{
    pb_kv *kv = ref_alloc(pool, sizeof(*kv));
    pb_any *v = ref_alloc(pool, sizeof(*v));
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = (char *)a->key;
    kv->value = v;
    switch (a->type) {
    case OTEL_ATTR_STRING:
        v->value_case = ANY_STRING;
        v->string_value = (char *)(a->v.s.ptr != NULL ? a->v.s.ptr : "");
        break;
    case OTEL_ATTR_BOOL:
        v->value_case = ANY_BOOL;
        v->bool_value = a->v.b;
        break;
    case OTEL_ATTR_INT:
        v->value_case = ANY_INT;
        v->int_value = a->v.i;
        break;
    case OTEL_ATTR_DOUBLE:
        v->value_case = ANY_DOUBLE;
        v->double_value = a->v.d;
        break;
    case OTEL_ATTR_STRING_ARRAY: {
        Opentelemetry__Proto__Common__V1__ArrayValue *arr = ref_alloc(pool, sizeof(*arr));
        opentelemetry__proto__common__v1__array_value__init(arr);
        arr->n_values = a->v.s.n;
        arr->values = a->v.s.n > 0 ? ref_alloc(pool, a->v.s.n * sizeof(*arr->values)) : NULL;
        const char *pos = NULL, *e;
        size_t len;
        for (size_t i = 0; (e = otel_attr_array_next(a, &pos, &len)) != NULL; i++) {
            pb_any *ev = ref_alloc(pool, sizeof(*ev));
            opentelemetry__proto__common__v1__any_value__init(ev);
            ev->value_case = ANY_STRING;
            ev->string_value = (char *)e;
            arr->values[i] = ev;
        }
        v->value_case = ANY_ARRAY;
        v->array_value = arr;
        break;
    }
    }
    return kv;
}

static pb_kv **ref_attrs(ref_pool *pool, const otel_attr *attrs, size_t n)
{
    if (n == 0)
        return NULL;
    pb_kv **kvs = ref_alloc(pool, n * sizeof(*kvs));
    for (size_t i = 0; i < n; i++)
        kvs[i] = ref_kv(pool, &attrs[i]);
    return kvs;
}

static pb_span *ref_span(ref_pool *pool, const otel_span_data *s)
{
    pb_span *m = ref_alloc(pool, sizeof(*m));
    opentelemetry__proto__trace__v1__span__init(m);
    m->trace_id.len = 16;
    m->trace_id.data = (uint8_t *)s->ctx.trace_id;
    m->span_id.len = 8;
    m->span_id.data = (uint8_t *)s->ctx.span_id;
    if (s->has_parent) {
        m->parent_span_id.len = 8;
        m->parent_span_id.data = (uint8_t *)s->parent_span_id;
    }
    m->trace_state = (char *)(s->tracestate_len > 0 ? s->tracestate : "");
    m->flags = s->ctx.trace_flags | 0x100u | (s->parent_is_remote ? 0x200u : 0u);
    m->name = (char *)(s->name != NULL ? s->name : "");
    m->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
    m->start_time_unix_nano = s->start_ns;
    m->end_time_unix_nano = s->end_ns;
    m->n_attributes = s->n_attrs;
    m->attributes = ref_attrs(pool, s->attrs, s->n_attrs);
    m->dropped_attributes_count = s->dropped_attrs;
    m->n_events = s->n_events;
    m->events = s->n_events > 0 ? ref_alloc(pool, s->n_events * sizeof(*m->events)) : NULL;
    for (size_t j = 0; j < s->n_events; j++) {
        const otel_event *src = &s->events[j];
        pb_event *ev = ref_alloc(pool, sizeof(*ev));
        opentelemetry__proto__trace__v1__span__event__init(ev);
        ev->time_unix_nano = src->time_ns;
        ev->name = (char *)(src->name != NULL ? src->name : "");
        ev->n_attributes = src->attr_count;
        ev->attributes = ref_attrs(pool, &s->ev_attrs[src->attr_first], src->attr_count);
        ev->dropped_attributes_count = src->dropped_attrs;
        m->events[j] = ev;
    }
    m->dropped_events_count = s->dropped_events;
    m->n_links = s->n_links;
    m->links = s->n_links > 0 ? ref_alloc(pool, s->n_links * sizeof(*m->links)) : NULL;
    for (size_t j = 0; j < s->n_links; j++) {
        const otel_link *src = &s->links[j];
        pb_link *l = ref_alloc(pool, sizeof(*l));
        opentelemetry__proto__trace__v1__span__link__init(l);
        l->trace_id.len = 16;
        l->trace_id.data = (uint8_t *)src->ctx.trace_id;
        l->span_id.len = 8;
        l->span_id.data = (uint8_t *)src->ctx.span_id;
        l->trace_state = (char *)(src->tracestate != NULL ? src->tracestate : "");
        l->flags = src->ctx.trace_flags | 0x100u | (src->ctx.is_remote ? 0x200u : 0u);
        m->links[j] = l;
    }
    m->dropped_links_count = s->dropped_links;
    if (s->status != OTEL_STATUS_UNSET) {
        pb_status *st = ref_alloc(pool, sizeof(*st));
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status;
        st->message = (char *)(s->status_message != NULL ? s->status_message : "");
        m->status = st;
    }
    return m;
}

static const otel_resource *resource_of(const otel_span_data *s)
{
    return s->resource;
}

/* The ResourceSpans of resource r with the spans of the batch that have
 * it, in batch order. */
static pb_resource_spans *ref_group(ref_pool *pool, pb_scope *scope, const otel_resource *r,
                                    otel_span_data *const *spans, size_t n)
{
    pb_resource *res = ref_alloc(pool, sizeof(*res));
    opentelemetry__proto__resource__v1__resource__init(res);
    res->n_attributes = otel_resource_count(r);
    res->attributes =
        res->n_attributes > 0 ? ref_alloc(pool, res->n_attributes * sizeof(pb_kv *)) : NULL;
    for (size_t i = 0; i < res->n_attributes; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        otel_attr a = {.key = key, .type = OTEL_ATTR_STRING};
        a.v.s.ptr = value;
        res->attributes[i] = ref_kv(pool, &a);
    }
    pb_scope_spans *ss = ref_alloc(pool, sizeof(*ss));
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->scope = scope;
    ss->spans = ref_alloc(pool, n * sizeof(*ss->spans));
    for (size_t i = 0; i < n; i++)
        if (resource_of(spans[i]) == r)
            ss->spans[ss->n_spans++] = ref_span(pool, spans[i]);
    pb_resource_spans *rs = ref_alloc(pool, sizeof(*rs));
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = res;
    rs->n_scope_spans = 1;
    rs->scope_spans = ref_alloc(pool, sizeof(*rs->scope_spans));
    rs->scope_spans[0] = ss;
    return rs;
}

/* spans packed by protobuf-c. Caller frees with free(). */
static uint8_t *ref_pack(otel_span_data *const *spans, size_t n, size_t *len)
{
    ref_pool pool = {0};
    pb_scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    scope.name = (char *)OTEL_SDK_NAME;
    scope.version = (char *)OTEL_SDK_VERSION;
    pb_request req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.resource_spans = ref_alloc(&pool, n * sizeof(*req.resource_spans));
    for (size_t i = 0; i < n; i++) {
        const otel_resource *r = resource_of(spans[i]);
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = resource_of(spans[k]) == r;
        if (!seen)
            req.resource_spans[req.n_resource_spans++] = ref_group(&pool, &scope, r, spans, n);
    }
    *len =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(
            &req);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf),
        *len);
    ref_pool_free(&pool);
    return buf;
}

/* e encodes spans to exactly the bytes protobuf-c packs for them. */
static void assert_same_bytes_with(otel_otlp_encoder *e, otel_span_data *const *spans, size_t n)
{
    const uint8_t *data = NULL;
    size_t len = 0, want_len = 0;
    assert_int_equal(otel_otlp_encode(e, sd_ro(spans), n, &data, &len), OTEL_OK);
    uint8_t *want = ref_pack(spans, n, &want_len);
    assert_int_equal(len, want_len);
    assert_memory_equal(data, want, len);
    free(want);
}

static void assert_same_bytes(otel_span_data *const *spans, size_t n)
{
    otel_otlp_encoder *e = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);
    assert_same_bytes_with(e, spans, n);
    otel_otlp_encoder_del(e);
}

/* req holds spans grouped by resource in order of first appearance, batch
 * order within a group, each equal to its span. */
static void assert_request_equal(const pb_request *req, otel_span_data *const *spans, size_t n)
{
    size_t seen = 0, g = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_resource *r = resource_of(spans[i]);
        bool first = true;
        for (size_t h = 0; h < i && first; h++)
            first = resource_of(spans[h]) != r;
        if (!first)
            continue;
        /* group g: resource r, its spans from i on in batch order */
        assert_true(g < req->n_resource_spans);
        const pb_resource_spans *rs = req->resource_spans[g++];
        assert_resource_of(rs, spans[i]->resource);
        assert_int_equal(rs->n_scope_spans, 1);
        const pb_scope_spans *ss = rs->scope_spans[0];
        assert_string_equal(ss->scope->name, OTEL_SDK_NAME);
        assert_string_equal(ss->scope->version, OTEL_SDK_VERSION);
        size_t k = 0;
        for (size_t j = i; j < n; j++)
            if (resource_of(spans[j]) == r) {
                assert_true(k < ss->n_spans);
                assert_span_equal(ss->spans[k++], spans[j]);
            }
        assert_int_equal(k, ss->n_spans);
        seen += k;
    }
    assert_int_equal(g, req->n_resource_spans);
    assert_int_equal(seen, n);
}

/* ---- random spans ----------------------------------------------------------- */

/* xorshift64*: the same spans on every run. */
static uint64_t rnd(uint64_t *st)
{
    *st ^= *st >> 12;
    *st ^= *st << 25;
    *st ^= *st >> 27;
    return *st * UINT64_C(2685821657736338717);
}

/* Strings made for random spans, freed together. */
typedef struct rand_strs {
    char **s;
    size_t n, cap;
} rand_strs;

/* A length that exercises every varint width of a length prefix up to 3
 * bytes: 0, below 128, below 16384, above. */
static size_t rand_len(uint64_t *st)
{
    unsigned c = (unsigned)(rnd(st) % 100);
    if (c < 10)
        return 0;
    if (c < 60)
        return 1 + rnd(st) % 127;
    if (c < 90)
        return 128 + rnd(st) % 900;
    if (c < 97)
        return 1028 + rnd(st) % (16384 - 1028);
    return 16384 + rnd(st) % 4000;
}

/* A NUL-terminated valid UTF-8 string of len bytes (ASCII and "é"). */
static const char *rand_str(rand_strs *rs, uint64_t *st, size_t len)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->s = realloc(rs->s, rs->cap * sizeof(*rs->s));
        assert_non_null(rs->s);
    }
    char *p = malloc(len + 1);
    assert_non_null(p);
    size_t i = 0;
    while (i < len) {
        uint64_t r = rnd(st);
        if (r % 16 == 0 && i + 2 <= len) {
            p[i++] = '\xc3';
            p[i++] = '\xa9';
        } else {
            p[i++] = (char)(0x20 + (r >> 8) % 95);
        }
    }
    p[len] = '\0';
    rs->s[rs->n++] = p;
    return p;
}

/* A string array value of 0 to 5 random elements, back to back in one
 * buffer as the core stores them. */
static void rand_array(otel_attr *a, rand_strs *rs, uint64_t *st)
{
    size_t n = rnd(st) % 6, total = 0;
    const char *el[5];
    for (size_t i = 0; i < n; i++) {
        el[i] = rand_str(rs, st, rnd(st) % 4 == 0 ? 0 : rand_len(st) % 200);
        total += strlen(el[i]) + 1;
    }
    char *buf = (char *)rand_str(rs, st, total); /* owned by rs, overwritten */
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(el[i]) + 1;
        memcpy(buf + off, el[i], l);
        off += l;
    }
    a->v.s.ptr = buf;
    a->v.s.len = (uint32_t)total;
    a->v.s.n = (uint32_t)n;
}

static void rand_strs_free(rand_strs *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->s[i]);
    free(rs->s);
}

static uint32_t rand_count(uint64_t *st)
{
    switch (rnd(st) % 4) {
    case 0:
        return 0;
    case 1:
        return (uint32_t)(1 + rnd(st) % 127);
    case 2:
        return (uint32_t)(128 + rnd(st) % 100000);
    default:
        return (uint32_t)rnd(st);
    }
}

static void rand_attr(otel_attr *a, rand_strs *rs, uint64_t *st)
{
    size_t kl = rnd(st) % 50 == 0 ? 0 : 1 + rnd(st) % 255; /* the core's KEY_MAX */
    a->key = rand_str(rs, st, kl);
    a->key_len = (uint16_t)kl;
    a->type = (otel_attr_type)(rnd(st) % 5);
    switch (a->type) {
    case OTEL_ATTR_STRING_ARRAY:
        rand_array(a, rs, st);
        break;
    case OTEL_ATTR_STRING: {
        size_t len = rand_len(st);
        a->v.s.ptr = rand_str(rs, st, len);
        a->v.s.len = (uint32_t)len;
        break;
    }
    case OTEL_ATTR_BOOL:
        a->v.b = rnd(st) & 1;
        break;
    case OTEL_ATTR_INT: {
        static const int64_t edge[] = {0, 1, -1, 127, 128, -128, INT64_MIN, INT64_MAX};
        uint64_t r = rnd(st);
        a->v.i = r % 3 == 0 ? edge[(r >> 8) % 8] : (int64_t)(rnd(st) >> (r % 64));
        if (r % 5 == 0)
            a->v.i = -(a->v.i / 2);
        break;
    }
    case OTEL_ATTR_DOUBLE: {
        uint64_t bits = rnd(st); /* any pattern: NaNs with payloads, -0.0, subnormals */
        memcpy(&a->v.d, &bits, sizeof(bits));
        break;
    }
    }
}

/* A random span of resource r (may be NULL). Caller frees with free(). */
static otel_span_data *rand_span(const otel_resource *r, rand_strs *rs, uint64_t *st)
{
    otel_span_data *s = sd_span(r, rand_str(rs, st, rnd(st) % 8 == 0 ? 0 : rand_len(st) % 300), 0);
    for (int i = 0; i < 16; i++)
        s->ctx.trace_id[i] = (uint8_t)rnd(st);
    for (int i = 0; i < 8; i++)
        s->ctx.span_id[i] = (uint8_t)rnd(st);
    s->ctx.trace_flags = (uint8_t)rnd(st);
    if (rnd(st) & 1) {
        for (int i = 0; i < 8; i++)
            s->parent_span_id[i] = (uint8_t)rnd(st);
        s->has_parent = true;
    }
    s->parent_is_remote = rnd(st) & 1;
    if (rnd(st) & 1) {
        size_t tl = rnd(st) % OTEL_TRACESTATE_MAX; /* at most 512 and the NUL */
        memcpy(s->tracestate, rand_str(rs, st, tl), tl + 1);
        s->tracestate_len = (uint16_t)tl;
    }
    s->kind = (otel_span_kind)(rnd(st) % 6);
    s->start_ns = rnd(st) % 8 == 0 ? 0 : rnd(st);
    s->end_ns = rnd(st) % 8 == 0 ? 0 : rnd(st);
    size_t na = rnd(st) % (OTEL_SPAN_MAX_ATTRS + 1);
    for (size_t i = 0; i < na; i++)
        rand_attr(sd_next_attr(s), rs, st);
    s->dropped_attrs = rand_count(st);
    size_t ne = rnd(st) % 4 == 0 ? 0 : rnd(st) % (OTEL_SPAN_MAX_EVENTS + 1);
    for (size_t j = 0; j < ne; j++) {
        otel_attr ea[4];
        size_t room = OTEL_SPAN_MAX_EVENT_ATTRS - s->n_ev_attrs;
        size_t k = rnd(st) % 5;
        if (k > room)
            k = room;
        for (size_t i = 0; i < k; i++)
            rand_attr(&ea[i], rs, st);
        const char *name = rand_str(rs, st, rnd(st) % 6 == 0 ? 0 : rand_len(st) % 200);
        sd_add_event(s, name, rnd(st) % 6 == 0 ? 0 : rnd(st), ea, k, rand_count(st));
    }
    s->dropped_events = rand_count(st);
    s->status = (otel_status_code)(rnd(st) % 3);
    s->status_message = rand_str(rs, st, rnd(st) % 3 == 0 ? 0 : rand_len(st));
    return s;
}

/* ---- encoder lifetime ------------------------------------------------------ */

static void test_otel_otlp_encoder_new_and_del(void **state)
{
    (void)state;
    otel_otlp_encoder *e = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);
    assert_non_null(e);
    otel_otlp_encoder_del(e);
    otel_otlp_encoder_del(NULL);
}

/* ---- span fields ---------------------------------------------------------- */

static void test_otel_otlp_encode_root_span(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("checkout", NULL);
    otel_span_data *s = sd_span(res, "GET /", 1);
    pb_request *req = encode(&s, 1);
    const pb_scope_spans *ss = only_scope(req);
    assert_int_equal(ss->n_spans, 1);
    const pb_span *m = ss->spans[0];
    assert_bytes(m->trace_id, s->ctx.trace_id, 16);
    assert_bytes(m->span_id, s->ctx.span_id, 8);
    assert_int_equal(m->parent_span_id.len, 0);
    assert_string_equal(m->trace_state, "");
    assert_int_equal(m->flags, 0x101);
    assert_string_equal(m->name, "GET /");
    assert_int_equal(m->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    assert_true(m->start_time_unix_nano == SD_START_NS + 1);
    assert_true(m->end_time_unix_nano == SD_START_NS + 1 + 1234567);
    assert_int_equal(m->n_attributes, 0);
    assert_int_equal(m->n_events, 0);
    assert_int_equal(m->n_links, 0);
    assert_null(m->status);
    assert_string_equal(ss->schema_url, "");
    free_request(req);
    free(s);
    otel_resource_del(res);
}

static void test_otel_otlp_encode_local_parent(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "child", 2);
    sd_set_parent(s, false);
    pb_request *req = encode(&s, 1);
    const pb_span *m = only_scope(req)->spans[0];
    assert_bytes(m->parent_span_id, s->parent_span_id, 8);
    assert_int_equal(m->flags, 0x101);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_remote_parent(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "server", 3);
    sd_set_parent(s, true);
    pb_request *req = encode(&s, 1);
    const pb_span *m = only_scope(req)->spans[0];
    assert_bytes(m->parent_span_id, s->parent_span_id, 8);
    assert_int_equal(m->flags, 0x301);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_flags_not_sampled_bits(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "x", 4);
    s->ctx.trace_flags = 0xfe; /* future W3C flag bits are carried as they are */
    pb_request *req = encode(&s, 1);
    assert_int_equal(only_scope(req)->spans[0]->flags, 0x1fe);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_trace_state(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "x", 5);
    const char ts[] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
    memcpy(s->tracestate, ts, sizeof(ts));
    s->tracestate_len = (uint16_t)(sizeof(ts) - 1);
    pb_request *req = encode(&s, 1);
    assert_string_equal(only_scope(req)->spans[0]->trace_state, ts);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_kinds(void **state)
{
    (void)state;
    otel_span_data *spans[5];
    for (int k = 0; k < 5; k++) {
        spans[k] = sd_span(NULL, "k", (unsigned)k);
        spans[k]->kind = (otel_span_kind)(OTEL_SPAN_KIND_INTERNAL + k);
    }
    pb_request *req = encode(spans, 5);
    const pb_scope_spans *ss = only_scope(req);
    assert_int_equal(ss->n_spans, 5);
    assert_int_equal(ss->spans[0]->kind,
                     OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL);
    assert_int_equal(ss->spans[1]->kind,
                     OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    assert_int_equal(ss->spans[2]->kind,
                     OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT);
    assert_int_equal(ss->spans[3]->kind,
                     OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_PRODUCER);
    assert_int_equal(ss->spans[4]->kind,
                     OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CONSUMER);
    free_request(req);
    sd_free_spans(spans, 5);
}

static void test_otel_otlp_encode_times_exact(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "t", 6);
    s->start_ns = (UINT64_C(1) << 53) + 1; /* not representable as a double */
    s->end_ns = UINT64_MAX;
    pb_request *req = encode(&s, 1);
    const pb_span *m = only_scope(req)->spans[0];
    assert_true(m->start_time_unix_nano == (UINT64_C(1) << 53) + 1);
    assert_true(m->end_time_unix_nano == UINT64_MAX);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_attributes(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "a", 7);
    sd_attr_str(sd_next_attr(s), "url.path", "/hello/wörld");
    sd_attr_str(sd_next_attr(s), "empty", "");
    sd_attr_bool(sd_next_attr(s), "yes", true);
    sd_attr_bool(sd_next_attr(s), "no", false);
    sd_attr_int(sd_next_attr(s), "min", INT64_MIN);
    sd_attr_int(sd_next_attr(s), "max", INT64_MAX);
    sd_attr_int(sd_next_attr(s), "zero", 0);
    sd_attr_double(sd_next_attr(s), "pi", 3.141592653589793);
    sd_attr_double(sd_next_attr(s), "nan", NAN);
    sd_attr_double(sd_next_attr(s), "neg_inf", -INFINITY);
    sd_attr_double(sd_next_attr(s), "neg_zero", -0.0);
    s->dropped_attrs = 9;
    pb_request *req = encode(&s, 1);
    const pb_span *m = only_scope(req)->spans[0];
    assert_int_equal(m->n_attributes, 11);
    const pb_any *v;

    assert_string_equal(m->attributes[0]->key, "url.path");
    v = m->attributes[0]->value;
    assert_int_equal(v->value_case, ANY_STRING);
    assert_string_equal(v->string_value, "/hello/wörld");

    assert_string_equal(m->attributes[1]->key, "empty");
    v = m->attributes[1]->value;
    assert_non_null(v);
    /* a oneof member is sent even when empty: "" is not "no value" */
    assert_int_equal(v->value_case, ANY_STRING);
    assert_string_equal(v->string_value, "");

    v = m->attributes[2]->value;
    assert_int_equal(v->value_case, ANY_BOOL);
    assert_true(v->bool_value);
    v = m->attributes[3]->value;
    assert_int_equal(v->value_case, ANY_BOOL);
    assert_false(v->bool_value);

    v = m->attributes[4]->value;
    assert_int_equal(v->value_case, ANY_INT);
    assert_true(v->int_value == INT64_MIN);
    v = m->attributes[5]->value;
    assert_int_equal(v->value_case, ANY_INT);
    assert_true(v->int_value == INT64_MAX);
    v = m->attributes[6]->value;
    assert_int_equal(v->value_case, ANY_INT);
    assert_true(v->int_value == 0);

    v = m->attributes[7]->value;
    assert_int_equal(v->value_case, ANY_DOUBLE);
    assert_true(v->double_value == 3.141592653589793);
    v = m->attributes[8]->value;
    assert_int_equal(v->value_case, ANY_DOUBLE);
    assert_true(isnan(v->double_value));
    v = m->attributes[9]->value;
    assert_int_equal(v->value_case, ANY_DOUBLE);
    assert_true(isinf(v->double_value) && v->double_value < 0);
    v = m->attributes[10]->value;
    assert_int_equal(v->value_case, ANY_DOUBLE);
    assert_true(v->double_value == 0.0 && signbit(v->double_value));

    assert_int_equal(m->dropped_attributes_count, 9);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_events(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "e", 8);
    sd_attr_str(sd_next_attr(s), "span.attr", "v"); /* not mixed into the events */
    otel_attr ea[4];
    sd_attr_str(&ea[0], "exception.type", "ValueError");
    sd_attr_str(&ea[1], "exception.message", "bad");
    sd_attr_int(&ea[2], "attempt", 3);
    sd_attr_double(&ea[3], "delay", 1.5);
    sd_add_event(s, "exception", SD_START_NS + 100, ea, 2, 4);
    sd_add_event(s, "empty", SD_START_NS + 200, NULL, 0, 0);
    sd_add_event(s, "retry", (UINT64_C(1) << 60) + 3, &ea[2], 2, 0);
    s->dropped_events = 5;
    pb_request *req = encode(&s, 1);
    const pb_span *m = only_scope(req)->spans[0];
    assert_int_equal(m->n_attributes, 1);
    assert_int_equal(m->n_events, 3);

    const pb_event *ev = m->events[0];
    assert_string_equal(ev->name, "exception");
    assert_true(ev->time_unix_nano == SD_START_NS + 100);
    assert_int_equal(ev->n_attributes, 2);
    assert_string_equal(ev->attributes[0]->key, "exception.type");
    assert_string_equal(ev->attributes[0]->value->string_value, "ValueError");
    assert_string_equal(ev->attributes[1]->key, "exception.message");
    assert_string_equal(ev->attributes[1]->value->string_value, "bad");
    assert_int_equal(ev->dropped_attributes_count, 4);

    ev = m->events[1];
    assert_string_equal(ev->name, "empty");
    assert_true(ev->time_unix_nano == SD_START_NS + 200);
    assert_int_equal(ev->n_attributes, 0);
    assert_int_equal(ev->dropped_attributes_count, 0);

    ev = m->events[2];
    assert_string_equal(ev->name, "retry");
    assert_true(ev->time_unix_nano == (UINT64_C(1) << 60) + 3);
    assert_int_equal(ev->n_attributes, 2);
    assert_string_equal(ev->attributes[0]->key, "attempt");
    assert_int_equal(ev->attributes[0]->value->value_case, ANY_INT);
    assert_true(ev->attributes[0]->value->int_value == 3);
    assert_string_equal(ev->attributes[1]->key, "delay");
    assert_int_equal(ev->attributes[1]->value->value_case, ANY_DOUBLE);
    assert_true(ev->attributes[1]->value->double_value == 1.5);

    assert_int_equal(m->dropped_events_count, 5);
    assert_span_equal(m, s);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_status(void **state)
{
    (void)state;
    otel_span_data *spans[3];
    spans[0] = sd_span(NULL, "unset", 0);
    spans[1] = sd_span(NULL, "ok", 1);
    spans[1]->status = OTEL_STATUS_OK;
    spans[2] = sd_span(NULL, "error", 2);
    spans[2]->status = OTEL_STATUS_ERROR;
    spans[2]->status_message = "connection refused";
    pb_request *req = encode(spans, 3);
    const pb_scope_spans *ss = only_scope(req);
    assert_null(ss->spans[0]->status);
    assert_non_null(ss->spans[1]->status);
    assert_int_equal(ss->spans[1]->status->code,
                     OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK);
    assert_string_equal(ss->spans[1]->status->message, "");
    assert_non_null(ss->spans[2]->status);
    assert_int_equal(ss->spans[2]->status->code,
                     OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_string_equal(ss->spans[2]->status->message, "connection refused");
    free_request(req);
    sd_free_spans(spans, 3);
}

static void test_otel_otlp_encode_full_span(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("full", NULL);
    otel_span_data *s = sd_full_span(res, 11);
    pb_request *req = encode(&s, 1);
    assert_span_equal(only_scope(req)->spans[0], s);
    free_request(req);
    free(s);
    otel_resource_del(res);
}

/* ---- resource and scope -------------------------------------------------- */

static void test_otel_otlp_encode_resource_and_scope(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("checkout", "production");
    otel_span_data *s = sd_span(res, "r", 9);
    pb_request *req = encode(&s, 1);
    assert_int_equal(req->n_resource_spans, 1);
    const pb_resource_spans *rs = req->resource_spans[0];
    assert_resource_of(rs, res);
    assert_int_equal(rs->resource->n_attributes, 5);
    const pb_any *v = find_resource_value(rs, "service.name");
    assert_non_null(v);
    assert_string_equal(v->string_value, "checkout");
    v = find_resource_value(rs, "deployment.environment");
    assert_non_null(v);
    assert_string_equal(v->string_value, "production");
    v = find_resource_value(rs, "telemetry.sdk.name");
    assert_non_null(v);
    assert_string_equal(v->string_value, "mhd-otel");
    assert_string_equal(rs->schema_url, "");

    assert_int_equal(rs->n_scope_spans, 1);
    const pb_scope_spans *ss = rs->scope_spans[0];
    assert_non_null(ss->scope);
    assert_string_equal(ss->scope->name, "mhd-otel");
    assert_string_equal(ss->scope->version, OTEL_SDK_VERSION);
    assert_int_equal(ss->scope->n_attributes, 0);
    assert_int_equal(ss->n_spans, 1);
    free_request(req);
    free(s);
    otel_resource_del(res);
}

static void test_otel_otlp_encode_null_resource_empty(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "orphan", 10);
    pb_request *req = encode(&s, 1);
    assert_int_equal(req->n_resource_spans, 1);
    const pb_resource_spans *rs = req->resource_spans[0];
    assert_non_null(rs->resource);
    assert_int_equal(rs->resource->n_attributes, 0);
    assert_string_equal(rs->scope_spans[0]->scope->name, "mhd-otel");
    assert_span_equal(rs->scope_spans[0]->spans[0], s);
    free_request(req);
    free(s);
}

static void test_otel_otlp_encode_two_resources(void **state)
{
    (void)state;
    otel_resource *a = sd_resource("svc-a", NULL);
    otel_resource *b = sd_resource("svc-b", "staging");
    otel_span_data *spans[6];
    otel_resource *owner[6] = {a, b, a, a, b, NULL};
    for (int i = 0; i < 6; i++)
        spans[i] = sd_full_span(owner[i], (unsigned)i);
    pb_request *req = encode(spans, 6);
    assert_int_equal(req->n_resource_spans, 3);

    /* groups in order of first appearance, spans in batch order */
    const pb_resource_spans *ra = req->resource_spans[0];
    assert_resource_of(ra, a);
    assert_string_equal(find_resource_value(ra, "service.name")->string_value, "svc-a");
    assert_int_equal(ra->n_scope_spans, 1);
    assert_int_equal(ra->scope_spans[0]->n_spans, 3);
    assert_span_equal(ra->scope_spans[0]->spans[0], spans[0]);
    assert_span_equal(ra->scope_spans[0]->spans[1], spans[2]);
    assert_span_equal(ra->scope_spans[0]->spans[2], spans[3]);

    const pb_resource_spans *rb = req->resource_spans[1];
    assert_resource_of(rb, b);
    assert_string_equal(find_resource_value(rb, "service.name")->string_value, "svc-b");
    assert_int_equal(rb->scope_spans[0]->n_spans, 2);
    assert_span_equal(rb->scope_spans[0]->spans[0], spans[1]);
    assert_span_equal(rb->scope_spans[0]->spans[1], spans[4]);
    assert_string_equal(rb->scope_spans[0]->scope->name, "mhd-otel");

    const pb_resource_spans *rn = req->resource_spans[2];
    assert_int_equal(rn->resource->n_attributes, 0);
    assert_int_equal(rn->scope_spans[0]->n_spans, 1);
    assert_span_equal(rn->scope_spans[0]->spans[0], spans[5]);

    free_request(req);
    sd_free_spans(spans, 6);
    otel_resource_del(a);
    otel_resource_del(b);
}

/* ---- batches and reuse ---------------------------------------------------- */

#define BIG 512

static void test_otel_otlp_encode_batch_512(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("big", NULL);
    otel_span_data **spans = calloc(BIG, sizeof(*spans));
    assert_non_null(spans);
    for (unsigned i = 0; i < BIG; i++)
        spans[i] = sd_full_span(res, i);
    pb_request *req = encode(spans, BIG);
    const pb_scope_spans *ss = only_scope(req);
    assert_int_equal(ss->n_spans, BIG);
    for (size_t i = 0; i < BIG; i++)
        assert_span_equal(ss->spans[i], spans[i]);
    free_request(req);
    sd_free_spans(spans, BIG);
    free(spans);
    otel_resource_del(res);
}

static void test_otel_otlp_encode_reuse_no_stale_data(void **state)
{
    (void)state;
    otel_resource *a = sd_resource("svc-a", "prod");
    otel_resource *b = sd_resource("svc-b", NULL);
    otel_otlp_encoder *e = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);

    otel_span_data **big = calloc(BIG, sizeof(*big));
    assert_non_null(big);
    for (unsigned i = 0; i < BIG; i++)
        big[i] = sd_full_span(i % 3 == 0 ? b : a, i);
    pb_request *req = encode_with(e, big, BIG);
    assert_int_equal(req->n_resource_spans, 2);
    free_request(req);

    /* a bare root span of the other resource, no attributes, no status */
    otel_span_data *small = sd_span(b, "small", 4242);
    req = encode_with(e, &small, 1);
    assert_int_equal(req->n_resource_spans, 1);
    assert_resource_of(req->resource_spans[0], b);
    const pb_scope_spans *ss = only_scope(req);
    assert_int_equal(ss->n_spans, 1);
    const pb_span *m = ss->spans[0];
    assert_span_equal(m, small);
    assert_int_equal(m->parent_span_id.len, 0);
    assert_string_equal(m->trace_state, "");
    assert_int_equal(m->n_attributes, 0);
    assert_int_equal(m->n_events, 0);
    assert_int_equal(m->dropped_attributes_count, 0);
    assert_int_equal(m->dropped_events_count, 0);
    assert_null(m->status);
    free_request(req);

    /* and the big batch again, from the same encoder */
    req = encode_with(e, big, BIG);
    size_t seen = 0;
    for (size_t g = 0; g < req->n_resource_spans; g++)
        seen += req->resource_spans[g]->scope_spans[0]->n_spans;
    assert_int_equal(seen, BIG);
    assert_span_equal(req->resource_spans[0]->scope_spans[0]->spans[0], big[0]);
    assert_span_equal(req->resource_spans[1]->scope_spans[0]->spans[0], big[1]);
    free_request(req);

    free(small);
    sd_free_spans(big, BIG);
    free(big);
    otel_otlp_encoder_del(e);
    otel_resource_del(a);
    otel_resource_del(b);
}

/* The same bytes from a warm encoder as from a fresh one. */
static void test_otel_otlp_encode_deterministic(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("det", NULL);
    otel_span_data *spans[4];
    for (unsigned i = 0; i < 4; i++)
        spans[i] = sd_full_span(res, i);
    otel_otlp_encoder *e1 = NULL, *e2 = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e1), OTEL_OK);
    assert_int_equal(otel_otlp_encoder_new(&e2), OTEL_OK);
    const uint8_t *d1, *d2;
    size_t l1, l2;
    assert_int_equal(otel_otlp_encode(e1, sd_ro(spans), 4, &d1, &l1), OTEL_OK);
    assert_int_equal(otel_otlp_encode(e1, sd_ro(spans), 2, &d1, &l1), OTEL_OK);
    assert_int_equal(otel_otlp_encode(e2, sd_ro(spans), 2, &d2, &l2), OTEL_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(d1, d2, l1);
    otel_otlp_encoder_del(e1);
    otel_otlp_encoder_del(e2);
    sd_free_spans(spans, 4);
    otel_resource_del(res);
}

static void test_otel_otlp_encode_links(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("svc", NULL);
    otel_span_data *s = sd_span(res, "linked", 1);
    sd_add_link(s, 1, "k=v", OTEL_TRACE_FLAG_SAMPLED, true);
    sd_add_link(s, 2, "", 0, false);
    s->dropped_links = 7;
    pb_request *req = encode(&s, 1);
    const pb_scope_spans *ss = only_scope(req);
    assert_int_equal(ss->n_spans, 1);
    const pb_span *m = ss->spans[0];
    assert_int_equal(m->n_links, 2);
    assert_string_equal(m->links[0]->trace_state, "k=v");
    assert_int_equal(m->links[0]->flags, 0x301);
    assert_int_equal(m->links[1]->flags, 0x100);
    assert_int_equal(m->dropped_links_count, 7);
    assert_span_equal(m, s);
    free_request(req);
    assert_same_bytes(&s, 1);
    free(s);
    otel_resource_del(res);
}

/* ---- the same bytes as protobuf-c ------------------------------------------- */

static void test_otel_otlp_encode_same_bytes_as_protobuf_c(void **state)
{
    (void)state;
    otel_resource *a = sd_resource("svc-a", "prod");
    otel_resource *b = sd_resource("svc-b", NULL);
    otel_span_data *spans[7];

    spans[0] = sd_span(a, "GET /", 1); /* root, no parent, nothing else */

    spans[1] = sd_full_span(b, 2); /* remote parent, tracestate, events, error */

    otel_span_data *s = spans[2] = sd_span(a, "values", 3);
    sd_set_parent(s, false);
    s->kind = (otel_span_kind)0; /* unspecified: left out */
    s->start_ns = 0;
    s->status = OTEL_STATUS_OK; /* a Status with a code and no message */
    sd_attr_int(sd_next_attr(s), "minus_one", -1);
    sd_attr_int(sd_next_attr(s), "min", INT64_MIN);
    sd_attr_int(sd_next_attr(s), "max", INT64_MAX);
    sd_attr_int(sd_next_attr(s), "zero", 0);
    sd_attr_double(sd_next_attr(s), "neg_zero", -0.0);
    sd_attr_double(sd_next_attr(s), "nan", NAN);
    sd_attr_double(sd_next_attr(s), "neg_nan", -NAN);
    sd_attr_double(sd_next_attr(s), "neg_inf", -INFINITY);
    sd_attr_double(sd_next_attr(s), "tiny", 4.9e-324);
    sd_attr_str(sd_next_attr(s), "empty", "");
    sd_attr_bool(sd_next_attr(s), "no", false);
    otel_attr *null_str = sd_next_attr(s);
    sd_attr_str(null_str, "null_str", "");
    null_str->v.s.ptr = NULL; /* sent as "" */

    s = spans[3] = sd_span(NULL, "", 4); /* no resource, no name */
    static char long_name[301], long_value[20001];
    memset(long_name, 'n', sizeof(long_name) - 1);
    memset(long_value, 'v', sizeof(long_value) - 1);
    s->name = long_name;
    memset(s->tracestate, 't', OTEL_TRACESTATE_MAX - 1);
    s->tracestate[OTEL_TRACESTATE_MAX - 1] = '\0';
    s->tracestate_len = OTEL_TRACESTATE_MAX - 1;
    s->ctx.trace_flags = 0xfe;
    s->dropped_attrs = 200;
    s->dropped_events = UINT32_MAX;
    sd_attr_str(sd_next_attr(s), "long", long_value);
    otel_attr ea[2];
    sd_attr_str(&ea[0], "k", "");
    sd_attr_double(&ea[1], "d", -0.0);
    sd_add_event(s, "", 0, ea, 2, 300); /* no name, no time */
    sd_add_event(s, "bare", SD_START_NS, NULL, 0, 0);
    s->status = OTEL_STATUS_ERROR;
    s->status_message = long_value;
    static char long_ts[OTEL_TRACESTATE_MAX];
    memset(long_ts, 'l', sizeof(long_ts) - 1);
    for (unsigned k = 0; k < OTEL_SPAN_MAX_LINKS; k++)
        sd_add_link(s, k, k % 2 ? long_ts : "", (uint8_t)(k * 0x55), k % 2 == 0);
    s->dropped_links = UINT32_MAX;

    sd_add_link(spans[1], 9, "vendor=linked", OTEL_TRACE_FLAG_SAMPLED, true);
    spans[1]->dropped_links = 3;

    spans[4] = sd_full_span(a, 5);
    sd_set_parent(spans[4], false);
    spans[5] = sd_span(b, "last of b", 6);
    otel_resource *c = sd_resource("svc-c", long_value); /* a 20000-byte resource value */
    spans[6] = sd_span(c, "last", 7);

    assert_same_bytes(spans, 7);
    for (size_t i = 0; i < 7; i++)
        assert_same_bytes(&spans[i], 1);
    null_str->v.s.ptr = ""; /* what it decodes to, for assert_attr_equal */
    pb_request *req = encode(spans, 7);
    assert_int_equal(req->n_resource_spans, 4);
    assert_request_equal(req, spans, 7);
    free_request(req);

    sd_free_spans(spans, 7);
    otel_resource_del(a);
    otel_resource_del(b);
    otel_resource_del(c);
}

/* Every KeyValue's lengths are varints (protobuf encoding, "Length-Delimited
 * Records"): string attributes whose key and value together are just under
 * and over what keeps all of a KeyValue's lengths at one byte, integers of
 * 1 to 10 varint bytes under keys just under and over the same limit, and
 * spans of those whose own length takes one, two and three bytes: the bytes
 * protobuf-c packs, and back. */
static void test_otel_otlp_encode_kv_length_edges(void **state)
{
    (void)state;
    enum { SPANS = 6 };
    static char text[20000];
    memset(text, 'k', sizeof(text) - 1);
    static const int64_t ints[] = {0, 1, 127, 128, 16384, INT64_MAX, -1, INT64_MIN};
    otel_span_data *spans[SPANS];
    /* Keys as suffixes of text: a key of n bytes is text + sizeof(text) - 1 - n. */
    const char *end = text + sizeof(text) - 1;
    for (size_t i = 0; i < SPANS; i++)
        spans[i] = sd_span(NULL, "edges", i + 1);
    /* span 0: strings with kl + vl from 112 to 131, kl from 1 to 100 */
    for (size_t t = 112, k = 1; t <= 131; t++, k += 5)
        sd_attr_str(sd_next_attr(spans[0]), end - k, end - (t - k));
    /* span 1: integers under keys of 100 to 115 bytes */
    for (size_t k = 100, j = 0; k <= 115; k++, j++)
        sd_attr_int(sd_next_attr(spans[1]), end - k, ints[j % 8]);
    /* span 2: one short attribute: a span under 128 bytes */
    sd_attr_str(sd_next_attr(spans[2]), "k", "v");
    /* span 3: a span of just over 16383 bytes; span 4: of 16383 or so */
    sd_attr_str(sd_next_attr(spans[3]), "big", end - 16400);
    sd_attr_str(sd_next_attr(spans[4]), "big", end - 16300);
    /* span 5: a value of the longest a short KeyValue has, under a one-byte key */
    sd_attr_str(sd_next_attr(spans[5]), "k", end - 120);
    sd_attr_str(sd_next_attr(spans[5]), "k2", end - 120);
    sd_attr_int(sd_next_attr(spans[5]), end - 111, -1);
    sd_attr_int(sd_next_attr(spans[5]), end - 112, -1);
    sd_attr_int(sd_next_attr(spans[5]), end - 113, -1);
    assert_same_bytes(spans, SPANS);
    for (size_t i = 0; i < SPANS; i++)
        assert_same_bytes(&spans[i], 1);
    pb_request *req = encode(spans, SPANS);
    assert_request_equal(req, spans, SPANS);
    free_request(req);
    sd_free_spans(spans, SPANS);
}

/* The room the encoder takes for a span's attributes (otel_pb_attrs_bound)
 * holds what otel_pb_put_attrs writes, which is otel_pb_attrs_size bytes:
 * random attributes of every type, one to three at a time, a string with
 * a NULL value (written as "") among them. The write goes to a buffer of
 * exactly the bound, on the heap, so that ASan sees a byte past it. */
static void test_otel_pb_attrs_bound_holds_the_write(void **state)
{
    (void)state;
    uint64_t st = UINT64_C(0x2545f4914f6cdd1d);
    rand_strs rs = {0};
    for (int i = 0; i < 3000; i++) {
        otel_attr a[3];
        size_t n = 1 + rnd(&st) % 3;
        for (size_t k = 0; k < n; k++)
            rand_attr(&a[k], &rs, &st);
        if (i % 50 == 0 && a[0].type == OTEL_ATTR_STRING)
            a[0].v.s.ptr = NULL;
        size_t bound = otel_pb_attrs_bound(a, n), size = otel_pb_attrs_size(a, n);
        assert_true(size <= bound);
        uint8_t *buf = malloc(bound);
        assert_non_null(buf);
        assert_ptr_equal(otel_pb_put_attrs(buf, 0x4a, a, n), buf + size);
        free(buf);
    }
    rand_strs_free(&rs);
}

/* Random spans (every attribute type, lengths of 0, over 127 and over
 * 16383 bytes, random ids, flags, counts and times) under three resources:
 * the request unpacks to exactly the spans, in the bytes protobuf-c packs,
 * whole and in random slices through one warm encoder. */
static void test_otel_otlp_encode_random_round_trip(void **state)
{
    (void)state;
    enum { N = 300 };
    uint64_t st = UINT64_C(0x9e3779b97f4a7c15);
    otel_resource *resources[3] = {sd_resource("rand-a", "prod"), sd_resource("rand-b", NULL),
                                   NULL};
    rand_strs rs = {0};
    otel_span_data **spans = calloc(N, sizeof(*spans));
    assert_non_null(spans);
    for (size_t i = 0; i < N; i++)
        spans[i] = rand_span(resources[rnd(&st) % 3], &rs, &st);

    otel_otlp_encoder *e = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);
    pb_request *req = encode_with(e, spans, N);
    assert_request_equal(req, spans, N);
    free_request(req);
    assert_same_bytes_with(e, spans, N);

    for (size_t first = 0; first < N;) {
        size_t n = 1 + rnd(&st) % 40;
        if (n > N - first)
            n = N - first;
        assert_same_bytes_with(e, &spans[first], n);
        req = encode_with(e, &spans[first], n);
        assert_request_equal(req, &spans[first], n);
        free_request(req);
        first += n;
    }

    otel_otlp_encoder_del(e);
    sd_free_spans(spans, N);
    free(spans);
    rand_strs_free(&rs);
    otel_resource_del(resources[0]);
    otel_resource_del(resources[1]);
}

/* ---- allocation failures -------------------------------------------------- */

static void test_otel_otlp_encode_nomem(void **state)
{
    (void)state;
    otel_resource *a = sd_resource("svc-a", NULL);
    otel_resource *b = sd_resource("svc-b", NULL);
    otel_span_data *spans[40];
    for (unsigned i = 0; i < 40; i++)
        spans[i] = sd_full_span(i % 2 ? a : b, i);
    bool done = false;
    for (long fail = 0; !done; fail++) {
        assert_true(fail < 1000);
        otel_otlp_encoder *e = NULL;
        const uint8_t *data = NULL;
        size_t len = 0;
        otel_alloc_fail_after(fail);
        int rc = otel_otlp_encoder_new(&e);
        if (rc == OTEL_OK)
            rc = otel_otlp_encode(e, sd_ro(spans), 40, &data, &len);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            pb_request *req =
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
                    NULL, len, data);
            assert_non_null(req);
            assert_int_equal(req->n_resource_spans, 2);
            assert_span_equal(req->resource_spans[0]->scope_spans[0]->spans[0], spans[0]);
            free_request(req);
            done = true;
        } else {
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            if (e == NULL)
                assert_int_equal(fail, 0);
        }
        otel_otlp_encoder_del(e);
    }
    sd_free_spans(spans, 40);
    otel_resource_del(a);
    otel_resource_del(b);
}

/* A warm encoder that fails to grow for a bigger batch still encodes
 * correctly afterwards, big or small. */
static void test_otel_otlp_encode_nomem_then_recovers(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("grow", NULL);
    otel_span_data **spans = calloc(BIG, sizeof(*spans));
    assert_non_null(spans);
    for (unsigned i = 0; i < BIG; i++)
        spans[i] = sd_full_span(res, i);
    otel_otlp_encoder *e = NULL;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);
    pb_request *req = encode_with(e, spans, 1);
    free_request(req);
    const uint8_t *data;
    size_t len;
    for (long fail = 0; fail < 8; fail++) {
        otel_alloc_fail_after(fail);
        int rc = otel_otlp_encode(e, sd_ro(spans), BIG, &data, &len);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK)
            break;
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        req = encode_with(e, &spans[7], 1);
        assert_span_equal(only_scope(req)->spans[0], spans[7]);
        free_request(req);
    }
    req = encode_with(e, spans, BIG);
    const pb_scope_spans *ss = only_scope(req);
    assert_int_equal(ss->n_spans, BIG);
    for (size_t i = 0; i < BIG; i += 37)
        assert_span_equal(ss->spans[i], spans[i]);
    assert_span_equal(ss->spans[BIG - 1], spans[BIG - 1]);
    free_request(req);
    otel_otlp_encoder_del(e);
    sd_free_spans(spans, BIG);
    free(spans);
    otel_resource_del(res);
}

/* ---- responses ------------------------------------------------------------ */

/* Pack msg into a heap buffer (free with free()). */
static uint8_t *pack_message(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(msg, buf), *len);
    return buf;
}

static void test_otel_otlp_decode_response_partial_success(void **state)
{
    (void)state;
    pb_partial ps = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    ps.rejected_spans = 3;
    ps.error_message = (char *)"3 spans had no name";
    pb_response resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    resp.partial_success = &ps;
    size_t len;
    uint8_t *buf = pack_message(&resp.base, &len);
    int64_t rejected = -1;
    char msg[64];
    assert_int_equal(otel_otlp_decode_response(buf, len, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_true(rejected == 3);
    assert_string_equal(msg, "3 spans had no name");

    /* a message longer than the room is cut, still NUL-terminated */
    char small[6];
    assert_int_equal(otel_otlp_decode_response(buf, len, &rejected, small, sizeof(small)), OTEL_OK);
    assert_string_equal(small, "3 spa");
    free(buf);
}

static void test_otel_otlp_decode_response_cut_at_utf8_boundary(void **state)
{
    (void)state;
    pb_partial ps = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    ps.rejected_spans = 1;
    ps.error_message = (char *)"ab\xc3\xa9z"; /* "abéz" */
    pb_response resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    resp.partial_success = &ps;
    size_t len;
    uint8_t *buf = pack_message(&resp.base, &len);
    int64_t rejected;
    char msg[4]; /* room for "ab" + half of the é */
    assert_int_equal(otel_otlp_decode_response(buf, len, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_string_equal(msg, "ab");
    free(buf);
}

static void test_otel_otlp_decode_response_warning_only(void **state)
{
    (void)state;
    pb_partial ps = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
    ps.error_message = (char *)"slow down";
    pb_response resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    resp.partial_success = &ps;
    size_t len;
    uint8_t *buf = pack_message(&resp.base, &len);
    int64_t rejected = -1;
    char msg[32];
    assert_int_equal(otel_otlp_decode_response(buf, len, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_true(rejected == 0);
    assert_string_equal(msg, "slow down");
    free(buf);
}

static void test_otel_otlp_decode_response_empty(void **state)
{
    (void)state;
    int64_t rejected = -1;
    char msg[16] = "stale";
    assert_int_equal(otel_otlp_decode_response(NULL, 0, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_true(rejected == 0);
    assert_string_equal(msg, "");

    /* a response packed by protobuf-c with nothing set is 0 bytes too */
    pb_response resp =
        OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
    size_t len;
    uint8_t *buf = pack_message(&resp.base, &len);
    assert_int_equal(len, 0);
    assert_int_equal(otel_otlp_decode_response(buf, len, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_true(rejected == 0);
    free(buf);
}

static void test_otel_otlp_decode_response_unknown_fields_ignored(void **state)
{
    (void)state;
    /* field 9 (varint 1), then partial_success { rejected_spans: 2 } */
    const uint8_t buf[] = {0x48, 0x01, 0x0a, 0x02, 0x08, 0x02};
    int64_t rejected = -1;
    char msg[8];
    assert_int_equal(otel_otlp_decode_response(buf, sizeof(buf), &rejected, msg, sizeof(msg)),
                     OTEL_OK);
    assert_true(rejected == 2);
    assert_string_equal(msg, "");
}

static void test_otel_otlp_decode_response_garbage(void **state)
{
    (void)state;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t cut[] = {0x0a, 0x10, 0x08}; /* partial_success claims 16 bytes */
    int64_t rejected = -1;
    char msg[16] = "x";
    assert_int_equal(otel_otlp_decode_response(junk, sizeof(junk), &rejected, msg, sizeof(msg)),
                     OTEL_ERR_PARSE);
    assert_true(rejected == 0);
    assert_string_equal(msg, "");
    assert_int_equal(otel_otlp_decode_response(cut, sizeof(cut), &rejected, msg, sizeof(msg)),
                     OTEL_ERR_PARSE);
}

/* ---- google.rpc.Status / RetryInfo ------------------------------------ */

/* A packed google.rpc.Status (code 14) with details built from
 * (type_url, RetryInfo or NULL for an opaque value). */
static uint8_t *pack_status(const char *const *type_urls, const Google__Protobuf__Duration *delays,
                            size_t n, size_t *len)
{
    Google__Rpc__RetryInfo ri[4];
    Google__Protobuf__Duration dur[4];
    Google__Protobuf__Any any[4];
    Google__Protobuf__Any *anyp[4];
    uint8_t *packed[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        google__rpc__retry_info__init(&ri[i]);
        dur[i] = delays[i];
        ri[i].retry_delay = &dur[i];
        size_t l;
        packed[i] = pack_message(&ri[i].base, &l);
        google__protobuf__any__init(&any[i]);
        any[i].type_url = (char *)type_urls[i];
        any[i].value.len = l;
        any[i].value.data = packed[i];
        anyp[i] = &any[i];
    }
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = 14;
    st.message = (char *)"unavailable";
    st.n_details = n;
    st.details = n > 0 ? anyp : NULL;
    uint8_t *buf = pack_message(&st.base, len);
    for (size_t i = 0; i < n; i++)
        free(packed[i]);
    return buf;
}

static Google__Protobuf__Duration duration(int64_t s, int32_t ns)
{
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = s;
    d.nanos = ns;
    return d;
}

static void test_otel_otlp_decode_retry_info_found(void **state)
{
    (void)state;
    const char *urls[] = {"type.googleapis.com/google.rpc.DebugInfo",
                          "type.googleapis.com/google.rpc.RetryInfo"};
    Google__Protobuf__Duration d[] = {duration(9, 0), duration(1, 500000000)};
    size_t len;
    uint8_t *buf = pack_status(urls, d, 2, &len);
    uint64_t delay = 0;
    assert_int_equal(otel_otlp_decode_retry_info(buf, len, &delay), OTEL_OK);
    assert_true(delay == UINT64_C(1500000000));
    free(buf);
}

static void test_otel_otlp_decode_retry_info_negative_is_zero(void **state)
{
    (void)state;
    const char *urls[] = {"type.googleapis.com/google.rpc.RetryInfo"};
    Google__Protobuf__Duration d[] = {duration(-2, -500000000)};
    size_t len;
    uint8_t *buf = pack_status(urls, d, 1, &len);
    uint64_t delay = 7;
    assert_int_equal(otel_otlp_decode_retry_info(buf, len, &delay), OTEL_OK);
    assert_true(delay == 0);
    free(buf);
}

static void test_otel_otlp_decode_retry_info_huge_saturates(void **state)
{
    (void)state;
    const char *urls[] = {"type.googleapis.com/google.rpc.RetryInfo"};
    Google__Protobuf__Duration d[] = {duration(INT64_MAX, 999999999)};
    size_t len;
    uint8_t *buf = pack_status(urls, d, 1, &len);
    uint64_t delay = 0;
    assert_int_equal(otel_otlp_decode_retry_info(buf, len, &delay), OTEL_OK);
    assert_true(delay == UINT64_MAX);
    free(buf);
}

static void test_otel_otlp_decode_retry_info_missing(void **state)
{
    (void)state;
    const char *urls[] = {"type.googleapis.com/google.rpc.DebugInfo"};
    Google__Protobuf__Duration d[] = {duration(3, 0)};
    size_t len;
    uint8_t *buf = pack_status(urls, d, 1, &len);
    uint64_t delay = 7;
    assert_int_equal(otel_otlp_decode_retry_info(buf, len, &delay), OTEL_ERR_PARSE);
    assert_true(delay == 0);
    free(buf);

    buf = pack_status(NULL, NULL, 0, &len); /* no details at all */
    assert_int_equal(otel_otlp_decode_retry_info(buf, len, &delay), OTEL_ERR_PARSE);
    free(buf);
}

static void test_otel_otlp_decode_retry_info_garbage(void **state)
{
    (void)state;
    const uint8_t junk[] = {0x1a, 0x7f, 0x0a};
    uint64_t delay = 7;
    assert_int_equal(otel_otlp_decode_retry_info(junk, sizeof(junk), &delay), OTEL_ERR_PARSE);
    assert_true(delay == 0);
    assert_int_equal(otel_otlp_decode_retry_info(NULL, 0, &delay), OTEL_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_otlp_encoder_new_and_del),
        cmocka_unit_test(test_otel_otlp_encode_root_span),
        cmocka_unit_test(test_otel_otlp_encode_local_parent),
        cmocka_unit_test(test_otel_otlp_encode_remote_parent),
        cmocka_unit_test(test_otel_otlp_encode_flags_not_sampled_bits),
        cmocka_unit_test(test_otel_otlp_encode_trace_state),
        cmocka_unit_test(test_otel_otlp_encode_kinds),
        cmocka_unit_test(test_otel_otlp_encode_times_exact),
        cmocka_unit_test(test_otel_otlp_encode_attributes),
        cmocka_unit_test(test_otel_otlp_encode_events),
        cmocka_unit_test(test_otel_otlp_encode_status),
        cmocka_unit_test(test_otel_otlp_encode_full_span),
        cmocka_unit_test(test_otel_otlp_encode_resource_and_scope),
        cmocka_unit_test(test_otel_otlp_encode_null_resource_empty),
        cmocka_unit_test(test_otel_otlp_encode_two_resources),
        cmocka_unit_test(test_otel_otlp_encode_batch_512),
        cmocka_unit_test(test_otel_otlp_encode_reuse_no_stale_data),
        cmocka_unit_test(test_otel_otlp_encode_deterministic),
        cmocka_unit_test(test_otel_otlp_encode_links),
        cmocka_unit_test(test_otel_otlp_encode_same_bytes_as_protobuf_c),
        cmocka_unit_test(test_otel_otlp_encode_kv_length_edges),
        cmocka_unit_test(test_otel_pb_attrs_bound_holds_the_write),
        cmocka_unit_test(test_otel_otlp_encode_random_round_trip),
        cmocka_unit_test_teardown(test_otel_otlp_encode_nomem, reset_alloc),
        cmocka_unit_test_teardown(test_otel_otlp_encode_nomem_then_recovers, reset_alloc),
        cmocka_unit_test(test_otel_otlp_decode_response_partial_success),
        cmocka_unit_test(test_otel_otlp_decode_response_cut_at_utf8_boundary),
        cmocka_unit_test(test_otel_otlp_decode_response_warning_only),
        cmocka_unit_test(test_otel_otlp_decode_response_empty),
        cmocka_unit_test(test_otel_otlp_decode_response_unknown_fields_ignored),
        cmocka_unit_test(test_otel_otlp_decode_response_garbage),
        cmocka_unit_test(test_otel_otlp_decode_retry_info_found),
        cmocka_unit_test(test_otel_otlp_decode_retry_info_negative_is_zero),
        cmocka_unit_test(test_otel_otlp_decode_retry_info_huge_saturates),
        cmocka_unit_test(test_otel_otlp_decode_retry_info_missing),
        cmocka_unit_test(test_otel_otlp_decode_retry_info_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
