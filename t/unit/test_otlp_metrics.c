/* test_otlp_metrics.c - tests of the OTLP metrics encoder in protobuf and of the response decoder
 * (exporter/otlp_metrics.c): collections of a real provider (core/metrics.c) are encoded,
 * unpacked again with the protobuf-c code generated from exporter/proto and checked field by
 * field, and packed again by protobuf-c to the very same bytes.
 *
 * The rules checked, and where they are written:
 * - opentelemetry-proto v1.9.0 metrics.proto: Metric{name, description, unit, oneof data};
 *   Sum{data_points, aggregation_temporality, is_monotonic}; Histogram{data_points,
 *   aggregation_temporality}; NumberDataPoint{start_time_unix_nano, time_unix_nano, as_int,
 *   exemplars, attributes}; HistogramDataPoint{count, optional sum, bucket_counts ("must be by
 *   one greater than the number of elements in explicit_bounds"), explicit_bounds, optional min
 *   and max, exemplars}; "sum of the values in the population. If count is zero then this field
 *   must be zero"; Exemplar{time_unix_nano, as_double, span_id, trace_id: "span_id may be
 *   missing if the measurement is not recorded inside a trace"}; AggregationTemporality DELTA 1,
 *   CUMULATIVE 2 ("UNSPECIFIED ... MUST not be used").
 * - OpenTelemetry specification metrics/data-model.md "Sums": a Counter is a monotonic Sum, an
 *   UpDownCounter a non-monotonic one; "Histogram": count, sum, min, max, buckets with explicit
 *   bounds, bucket upper bounds inclusive ("Histogram: Bucket inclusivity").
 * - metrics/sdk_exporters/otlp.md, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: Delta and
 *   LowMemory make Counter and Histogram delta, UpDownCounter stays cumulative.
 * - metrics/sdk.md "AlignedHistogramBucketExemplarReservoir" and "ExemplarFilter" TraceBased:
 *   one exemplar per bucket (the last), from sampled spans only.
 * - metrics_service.proto ExportMetricsServiceResponse: partial_success.rejected_data_points and
 *   error_message; "A partial_success message with an empty value ... is equivalent to it not
 *   being set"; rejected 0 with a message is a warning.
 * - protobuf-c packs fields in ascending number, leaves proto3 defaults out and packs repeated
 *   scalars (proto3): the writer's bytes must be the ones it packs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../exporter/otlp_metrics.h"
#include <mhd-otel/metrics.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "../lib/metrics_fixture.h"
#include "../../core/test_hooks.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_request;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse pb_response;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess pb_partial;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_rm;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_sm;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_ndp;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hdp;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar pb_exemplar;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;

#define DATA_SUM OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM
#define DATA_HISTOGRAM OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM
#define AS_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
#define EX_AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE
#define HAS_SUM OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM
#define HAS_MIN OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MIN_MIN
#define HAS_MAX OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___MAX_MAX
#define DELTA                                                                                      \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define CUMULATIVE                                                                                 \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define ANY_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define ANY_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define ANY_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define ANY_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

/* ---- fixture ---------------------------------------------------------------- */

static pb_request *last_req; /* the request unpacked last: freed by the next unpack or teardown */

static int setup(void **state)
{
    mf_fixture *f = mf_setup(false);
    assert_int_equal(otel_resource_set(f->res, "deployment.environment", "production"), OTEL_OK);
    *state = f;
    return 0;
}

static void free_request(void)
{
    if (last_req != NULL)
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            last_req, NULL);
    last_req = NULL;
}

static int teardown(void **state)
{
    free_request();
    mf_teardown(*state);
    return 0;
}

/* Unpack data, and check that protobuf-c packs what it read to the same
 * bytes: fields in ascending order, defaults left out, scalars packed. */
static pb_request *unpack(const uint8_t *data, size_t len)
{
    free_request();
    last_req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
        NULL, len, data);
    assert_non_null(last_req);
    size_t n =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__get_packed_size(
            last_req);
    assert_int_equal(n, len);
    uint8_t *again = malloc(n > 0 ? n : 1);
    assert_non_null(again);
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__pack(last_req,
                                                                                       again);
    assert_memory_equal(again, data, len);
    free(again);
    return last_req;
}

/* End the request and unpack it; *n_points gets its count. */
static pb_request *end_request(mf_fixture *f, size_t *n_points)
{
    size_t len;
    const uint8_t *data = mf_end(f, &len, n_points);
    return unpack(data, len);
}

/* One collection of f->m in pref, as a request of f->res and the test scope. */
static pb_request *collect(mf_fixture *f, otel_temporality_pref pref, size_t *n_points)
{
    mf_collect(f, pref);
    return end_request(f, n_points);
}

/* The only ScopeMetrics of a request. */
static const pb_sm *only_scope(const pb_request *req)
{
    assert_int_equal(req->n_resource_metrics, 1);
    assert_non_null(req->resource_metrics[0]->resource);
    assert_int_equal(req->resource_metrics[0]->n_scope_metrics, 1);
    assert_non_null(req->resource_metrics[0]->scope_metrics[0]->scope);
    return req->resource_metrics[0]->scope_metrics[0];
}

static const pb_metric *find_metric(const pb_request *req, const char *name)
{
    const pb_sm *sm = only_scope(req);
    for (size_t i = 0; i < sm->n_metrics; i++)
        if (strcmp(sm->metrics[i]->name, name) == 0)
            return sm->metrics[i];
    fail_msg("no metric %s", name);
    return NULL;
}

static const pb_kv *find_kv(pb_kv *const *kvs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kvs[i]->key, key) == 0)
            return kvs[i];
    return NULL;
}

static const char *str_attr(pb_kv *const *kvs, size_t n, const char *key)
{
    const pb_kv *kv = find_kv(kvs, n, key);
    assert_non_null(kv);
    assert_non_null(kv->value);
    assert_int_equal(kv->value->value_case, ANY_STRING);
    return kv->value->string_value;
}

/* The point of a Sum whose attribute key is value (a string). */
static const pb_ndp *sum_point(const pb_metric *mt, const char *key, const char *value)
{
    assert_int_equal(mt->data_case, DATA_SUM);
    for (size_t i = 0; i < mt->sum->n_data_points; i++) {
        const pb_ndp *p = mt->sum->data_points[i];
        const pb_kv *kv = find_kv(p->attributes, p->n_attributes, key);
        if (kv != NULL && strcmp(kv->value->string_value, value) == 0)
            return p;
    }
    fail_msg("no point %s=%s in %s", key, value, mt->name);
    return NULL;
}

static void assert_bytes(ProtobufCBinaryData b, const uint8_t *want, size_t n)
{
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
}

/* ---- hand-made collections --------------------------------------------------- */

static const double one_bound[] = {1.0};
static const uint64_t zero_buckets[] = {0, 0};

/* A histogram point that counts nothing (the core leaves such points out). */
static otel_metric_data empty_histogram(otel_metric_point *pt)
{
    memset(pt, 0, sizeof(*pt));
    pt->start_ns = MF_T0;
    pt->time_ns = MF_T0 + 1;
    pt->bucket_counts = zero_buckets;
    pt->n_bucket_counts = 2;
    return (otel_metric_data){.name = "h",
                              .kind = OTEL_INSTRUMENT_HISTOGRAM,
                              .temporality = OTEL_TEMPORALITY_DELTA,
                              .boundaries = one_bound,
                              .n_boundaries = 1,
                              .points = pt,
                              .n_points = 1};
}

/* A counter point with the given attributes. */
static otel_metric_data counter_of(otel_metric_point *pt, const char *name, const otel_kv *attrs,
                                   size_t n_attrs, int64_t value)
{
    memset(pt, 0, sizeof(*pt));
    pt->attrs = attrs;
    pt->n_attrs = n_attrs;
    pt->start_ns = MF_T0;
    pt->time_ns = MF_T0 + 5;
    pt->value = value;
    return (otel_metric_data){.name = name,
                              .kind = OTEL_INSTRUMENT_COUNTER,
                              .temporality = OTEL_TEMPORALITY_CUMULATIVE,
                              .monotonic = true,
                              .points = pt,
                              .n_points = 1};
}

/* ---- counters ----------------------------------------------------------------- */

/* A counter is a monotonic cumulative Sum of int points, one per attribute
 * set, with its name, description and unit, the resource and the scope. */
static void test_otel_otlp_metrics_enc_counter(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    assert_int_equal(
        otel_counter_new(f->m, &c, "http.server.requests", "Requests served", "{request}"),
        OTEL_OK);
    otel_kv get[] = {OTEL_KV_STR("method", "GET"), OTEL_KV_BOOL("ok", true),
                     OTEL_KV_INT("code", 200), OTEL_KV_DOUBLE("ratio", 0.5)};
    otel_kv post[] = {OTEL_KV_STR("method", "POST")};
    mf_clock_ns = MF_T0 + 100;
    otel_counter_add(c, 3, get, 4);
    otel_counter_add(c, 4, get, 4);
    otel_counter_add(c, 1, post, 1);
    mf_clock_ns = MF_T0 + 1000;
    size_t n_points;
    const pb_request *req = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, &n_points);
    assert_int_equal(n_points, 2);

    const pb_rm *rm = req->resource_metrics[0];
    const pb_sm *sm = only_scope(req);
    assert_int_equal(rm->resource->n_attributes, otel_resource_count(f->res));
    for (size_t i = 0; i < otel_resource_count(f->res); i++) {
        const char *key, *value;
        otel_resource_at(f->res, i, &key, &value);
        assert_string_equal(rm->resource->attributes[i]->key, key);
        assert_string_equal(str_attr(rm->resource->attributes, rm->resource->n_attributes, key),
                            value);
    }
    assert_string_equal(
        str_attr(rm->resource->attributes, rm->resource->n_attributes, "service.name"), "checkout");
    assert_string_equal(rm->schema_url, "");
    assert_string_equal(sm->scope->name, MF_SCOPE);
    assert_string_equal(sm->scope->version, MF_SCOPE_VERSION);
    assert_int_equal(sm->n_metrics, 1);

    const pb_metric *mt = sm->metrics[0];
    assert_string_equal(mt->name, "http.server.requests");
    assert_string_equal(mt->description, "Requests served");
    assert_string_equal(mt->unit, "{request}");
    assert_int_equal(mt->data_case, DATA_SUM);
    assert_int_equal(mt->sum->aggregation_temporality, CUMULATIVE);
    assert_true(mt->sum->is_monotonic);
    assert_int_equal(mt->sum->n_data_points, 2);

    const pb_ndp *p = sum_point(mt, "method", "GET");
    assert_int_equal(p->value_case, AS_INT);
    assert_int_equal(p->as_int, 7);
    assert_int_equal(p->start_time_unix_nano, MF_T0); /* the instrument's creation */
    assert_int_equal(p->time_unix_nano, MF_T0 + 1000);
    assert_int_equal(p->n_exemplars, 0);
    assert_int_equal(p->flags, 0);
    assert_int_equal(p->n_attributes, 4);
    assert_string_equal(str_attr(p->attributes, 4, "method"), "GET");
    const pb_kv *kv = find_kv(p->attributes, 4, "ok");
    assert_int_equal(kv->value->value_case, ANY_BOOL);
    assert_true(kv->value->bool_value);
    kv = find_kv(p->attributes, 4, "code");
    assert_int_equal(kv->value->value_case, ANY_INT);
    assert_int_equal(kv->value->int_value, 200);
    kv = find_kv(p->attributes, 4, "ratio");
    assert_int_equal(kv->value->value_case, ANY_DOUBLE);
    assert_true(kv->value->double_value == 0.5);
    p = sum_point(mt, "method", "POST");
    assert_int_equal(p->as_int, 1);
    assert_int_equal(p->n_attributes, 1);
}

/* Delta points hold what came since the previous collection and start at
 * it; a collection without measurements has no Metric. */
static void test_otel_otlp_metrics_enc_counter_delta(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    assert_int_equal(otel_counter_new(f->m, &c, "jobs", NULL, NULL), OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("queue", "a")};
    otel_counter_add(c, 5, kv, 1);
    mf_clock_ns = MF_T0 + 10;
    size_t n;
    const pb_request *req = collect(f, OTEL_TEMPORALITY_PREF_DELTA, &n);
    const pb_metric *mt = find_metric(req, "jobs");
    assert_string_equal(mt->description, "");
    assert_string_equal(mt->unit, "");
    assert_int_equal(mt->sum->aggregation_temporality, DELTA);
    assert_true(mt->sum->is_monotonic);
    const pb_ndp *p = sum_point(mt, "queue", "a");
    assert_int_equal(p->as_int, 5);
    assert_int_equal(p->start_time_unix_nano, MF_T0);
    assert_int_equal(p->time_unix_nano, MF_T0 + 10);

    otel_counter_add(c, 2, kv, 1);
    mf_clock_ns = MF_T0 + 20;
    req = collect(f, OTEL_TEMPORALITY_PREF_DELTA, &n);
    p = sum_point(find_metric(req, "jobs"), "queue", "a");
    assert_int_equal(p->as_int, 2);
    assert_int_equal(p->start_time_unix_nano, MF_T0 + 10);
    assert_int_equal(p->time_unix_nano, MF_T0 + 20);

    mf_clock_ns = MF_T0 + 30;
    req = collect(f, OTEL_TEMPORALITY_PREF_DELTA, &n);
    assert_int_equal(n, 0);
    assert_int_equal(only_scope(req)->n_metrics, 0);
}

/* metrics.proto NumberDataPoint: "oneof value { double as_double = 4;
 * sfixed64 as_int = 6; }". A counter's sum (a uint64) over INT64_MAX is
 * as_double, so that a monotonic Sum never reads negative; up to INT64_MAX
 * it is as_int, exact. */
static void test_otel_otlp_metrics_enc_counter_over_int64(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    assert_int_equal(otel_counter_new(f->m, &c, "bytes", NULL, NULL), OTEL_OK);
    otel_kv big[] = {OTEL_KV_STR("k", "big")}, max[] = {OTEL_KV_STR("k", "max")};
    otel_counter_add(c, (uint64_t)INT64_MAX, big, 1);
    otel_counter_add(c, 4096, big, 1);
    otel_counter_add(c, (uint64_t)INT64_MAX, max, 1);
    size_t n;
    const pb_request *req = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, &n);
    const pb_metric *mt = find_metric(req, "bytes");
    const pb_ndp *p = sum_point(mt, "k", "big");
    assert_int_equal(p->value_case, AS_DOUBLE);
    assert_true(p->as_double == (double)((uint64_t)INT64_MAX + 4096));
    p = sum_point(mt, "k", "max");
    assert_int_equal(p->value_case, AS_INT);
    assert_int_equal(p->as_int, INT64_MAX);
}

/* An up-down counter is a non-monotonic Sum that may go below zero and
 * stays cumulative under the delta and lowmemory preferences, where
 * counters and histograms become delta. */
static void test_otel_otlp_metrics_enc_updown_counter(void **state)
{
    mf_fixture *f = *state;
    otel_updown_counter *u;
    otel_counter *c;
    otel_histogram *h;
    assert_int_equal(otel_updown_counter_new(f->m, &u, "active", "In flight", "{request}"),
                     OTEL_OK);
    assert_int_equal(otel_counter_new(f->m, &c, "total", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(f->m, &h, "latency", NULL, "s", NULL, 0), OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("route", "/a")};
    otel_updown_counter_add(u, 3, kv, 1);
    otel_updown_counter_add(u, -8, kv, 1);
    otel_counter_add(c, 1, kv, 1);
    otel_histogram_record(h, 0.2, kv, 1, NULL);

    static const otel_temporality_pref prefs[] = {OTEL_TEMPORALITY_PREF_DELTA,
                                                  OTEL_TEMPORALITY_PREF_LOWMEMORY};
    for (size_t i = 0; i < 2; i++) {
        const pb_request *req = collect(f, prefs[i], NULL);
        const pb_metric *mt = find_metric(req, "active");
        assert_int_equal(mt->data_case, DATA_SUM);
        assert_false(mt->sum->is_monotonic);
        assert_int_equal(mt->sum->aggregation_temporality, CUMULATIVE);
        assert_int_equal(sum_point(mt, "route", "/a")->as_int, -5);
        if (i == 0) { /* delta: the others have nothing new in the second */
            assert_int_equal(find_metric(req, "total")->sum->aggregation_temporality, DELTA);
            assert_int_equal(find_metric(req, "latency")->histogram->aggregation_temporality,
                             DELTA);
        }
    }
}

/* ---- histograms ----------------------------------------------------------------- */

/* A histogram point: count, sum, min and max set, a count per bucket (one
 * more than the bounds; upper bounds inclusive), the bounds, and the
 * exemplar of each bucket that saw a sampled span (the last one there),
 * with its value, time and ids. */
static void test_otel_otlp_metrics_enc_histogram(void **state)
{
    mf_fixture *f = *state;
    otel_histogram *h;
    static const double bounds[] = {1, 5, 10};
    assert_int_equal(
        otel_histogram_new(f->m, &h, "http.server.request.duration", "Duration", "s", bounds, 3),
        OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("http.route", "/hello/{name}"), OTEL_KV_INT("status", 200)};
    otel_span_context a = mf_span_ctx(1, true), b = mf_span_ctx(2, true), c = mf_span_ctx(3, true),
                      d = mf_span_ctx(4, false);
    mf_clock_ns = MF_T0 + 1;
    otel_histogram_record(h, 0.5, kv, 2, &a);
    mf_clock_ns = MF_T0 + 2;
    otel_histogram_record(h, 3, kv, 2, &b);
    mf_clock_ns = MF_T0 + 3;
    otel_histogram_record(h, 4, kv, 2, &c);
    otel_histogram_record(h, 5, kv, 2, NULL); /* (1, 5]: c stays its exemplar */
    otel_histogram_record(h, 7, kv, 2, &d);   /* not sampled: no exemplar */
    otel_histogram_record(h, 20, kv, 2, NULL);
    mf_clock_ns = MF_T0 + 50;
    size_t n;
    const pb_request *req = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, &n);
    assert_int_equal(n, 1);
    const pb_metric *mt = find_metric(req, "http.server.request.duration");
    assert_string_equal(mt->description, "Duration");
    assert_string_equal(mt->unit, "s");
    assert_int_equal(mt->data_case, DATA_HISTOGRAM);
    assert_int_equal(mt->histogram->aggregation_temporality, CUMULATIVE);
    assert_int_equal(mt->histogram->n_data_points, 1);
    const pb_hdp *p = mt->histogram->data_points[0];
    assert_int_equal(p->start_time_unix_nano, MF_T0);
    assert_int_equal(p->time_unix_nano, MF_T0 + 50);
    assert_int_equal(p->count, 6);
    assert_int_equal(p->_sum_case, HAS_SUM);
    assert_true(p->sum == 39.5);
    assert_int_equal(p->_min_case, HAS_MIN);
    assert_true(p->min == 0.5);
    assert_int_equal(p->_max_case, HAS_MAX);
    assert_true(p->max == 20);
    static const uint64_t want_buckets[] = {1, 3, 1, 1};
    assert_int_equal(p->n_bucket_counts, 4);
    assert_memory_equal(p->bucket_counts, want_buckets, sizeof(want_buckets));
    assert_int_equal(p->n_explicit_bounds, 3);
    assert_memory_equal(p->explicit_bounds, bounds, sizeof(bounds));
    assert_int_equal(p->flags, 0);
    assert_int_equal(p->n_attributes, 2);
    assert_string_equal(str_attr(p->attributes, 2, "http.route"), "/hello/{name}");
    assert_int_equal(find_kv(p->attributes, 2, "status")->value->int_value, 200);

    assert_int_equal(p->n_exemplars, 2); /* by bucket */
    const pb_exemplar *ex = p->exemplars[0];
    assert_int_equal(ex->value_case, EX_AS_DOUBLE);
    assert_true(ex->as_double == 0.5);
    assert_int_equal(ex->time_unix_nano, MF_T0 + 1);
    assert_bytes(ex->trace_id, a.trace_id, 16);
    assert_bytes(ex->span_id, a.span_id, 8);
    assert_int_equal(ex->n_filtered_attributes, 0);
    ex = p->exemplars[1];
    assert_true(ex->as_double == 4);
    assert_int_equal(ex->time_unix_nano, MF_T0 + 3);
    assert_bytes(ex->trace_id, c.trace_id, 16);
    assert_bytes(ex->span_id, c.span_id, 8);
}

/* Delta histogram points count what came since the previous collection. */
static void test_otel_otlp_metrics_enc_histogram_delta(void **state)
{
    mf_fixture *f = *state;
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(f->m, &h, "size", NULL, "By", NULL, 0), OTEL_OK);
    size_t nb;
    otel_http_duration_boundaries(&nb);
    otel_histogram_record(h, 0.003, NULL, 0, NULL);
    otel_histogram_record(h, 2, NULL, 0, NULL);
    mf_clock_ns = MF_T0 + 7;
    const pb_request *req = collect(f, OTEL_TEMPORALITY_PREF_DELTA, NULL);
    const pb_hdp *p = find_metric(req, "size")->histogram->data_points[0];
    assert_int_equal(find_metric(req, "size")->histogram->aggregation_temporality, DELTA);
    assert_int_equal(p->count, 2);
    assert_int_equal(p->n_attributes, 0);
    assert_int_equal(p->n_explicit_bounds, nb);
    assert_int_equal(p->n_bucket_counts, nb + 1);
    assert_int_equal(p->n_exemplars, 0);

    otel_histogram_record(h, 9, NULL, 0, NULL);
    mf_clock_ns = MF_T0 + 9;
    req = collect(f, OTEL_TEMPORALITY_PREF_DELTA, NULL);
    p = find_metric(req, "size")->histogram->data_points[0];
    assert_int_equal(p->count, 1);
    assert_true(p->sum == 9 && p->min == 9 && p->max == 9);
    assert_int_equal(p->start_time_unix_nano, MF_T0 + 7);
    assert_int_equal(p->time_unix_nano, MF_T0 + 9);
}

/* A point that counts nothing has no sum, min or max (HistogramDataPoint.sum
 * "must be zero" then), no count, and its zero bucket counts with the bounds. */
static void test_otel_otlp_metrics_enc_histogram_count_zero(void **state)
{
    mf_fixture *f = *state;
    otel_metric_point pt;
    otel_metric_data md = empty_histogram(&pt);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    size_t n;
    const pb_hdp *p = find_metric(end_request(f, &n), "h")->histogram->data_points[0];
    assert_int_equal(n, 1);
    assert_int_equal(p->count, 0);
    assert_int_equal(p->_sum_case, 0);
    assert_int_equal(p->_min_case, 0);
    assert_int_equal(p->_max_case, 0);
    assert_int_equal(p->n_bucket_counts, 2);
    assert_int_equal(p->bucket_counts[0] + p->bucket_counts[1], 0);
    assert_int_equal(p->n_explicit_bounds, 1);
    assert_true(p->explicit_bounds[0] == 1.0);
}

/* An exemplar made in no span leaves its ids out, one of no time its time;
 * a point without bucket counts has no bounds either. */
static void test_otel_otlp_metrics_enc_exemplar_without_ids(void **state)
{
    mf_fixture *f = *state;
    otel_metric_point pt;
    otel_metric_data md = empty_histogram(&pt);
    otel_exemplar ex = {.value = 0.25};
    pt.count = 1;
    pt.sum = pt.min = pt.max = 0.25;
    pt.bucket_counts = NULL;
    pt.n_bucket_counts = 0;
    pt.exemplars = &ex;
    pt.n_exemplars = 1;
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    const pb_hdp *p = find_metric(end_request(f, NULL), "h")->histogram->data_points[0];
    assert_int_equal(p->n_bucket_counts, 0);
    assert_int_equal(p->n_explicit_bounds, 0);
    assert_int_equal(p->n_exemplars, 1);
    assert_int_equal(p->exemplars[0]->value_case, EX_AS_DOUBLE);
    assert_true(p->exemplars[0]->as_double == 0.25);
    assert_int_equal(p->exemplars[0]->time_unix_nano, 0);
    assert_int_equal(p->exemplars[0]->span_id.len, 0);
    assert_int_equal(p->exemplars[0]->trace_id.len, 0);
}

/* ---- requests ------------------------------------------------------------------- */

/* Without a resource or scope: an empty Resource and an empty scope; with
 * no instrument: no Metric and no point. */
static void test_otel_otlp_metrics_enc_empty_request(void **state)
{
    mf_fixture *f = *state;
    size_t n = 1;
    const pb_request *req = end_request(f, &n); /* a new encoder: begin(NULL, NULL, NULL) */
    assert_int_equal(n, 0);
    const pb_sm *sm = only_scope(req);
    assert_int_equal(req->resource_metrics[0]->resource->n_attributes, 0);
    assert_string_equal(sm->scope->name, "");
    assert_string_equal(sm->scope->version, "");
    assert_int_equal(sm->n_metrics, 0);

    otel_otlp_metrics_enc_begin(f->e, NULL, "", NULL);
    otel_metric_point pt;
    otel_metric_data md = counter_of(&pt, "c", NULL, 0, 0);
    md.n_points = 0; /* an instrument without points is left out */
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    md.n_points = 1;
    md.kind = (otel_instrument_kind)42; /* and one of a kind OTLP here has not */
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    req = end_request(f, &n);
    assert_int_equal(n, 0);
    assert_int_equal(only_scope(req)->n_metrics, 0);
}

/* Thousands of points, several instruments: the buffers grow and every
 * point is there. */
static void test_otel_otlp_metrics_enc_many_points(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    otel_histogram *h;
    assert_int_equal(otel_counter_new(f->m, &c, "many", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(f->m, &h, "many.h", NULL, "s", NULL, 0), OTEL_OK);
    enum { N = 1500, NH = 300 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "user-%d", i);
        otel_kv kv[] = {OTEL_KV_STR("user", name), OTEL_KV_INT("i", i)};
        otel_counter_add(c, (uint64_t)i + 1, kv, 2);
        if (i < NH)
            otel_histogram_record(h, (double)i / 100, kv, 2, NULL);
    }
    size_t n;
    const pb_request *req = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, &n);
    assert_int_equal(n, N + NH);
    const pb_metric *mt = find_metric(req, "many");
    assert_int_equal(mt->sum->n_data_points, N);
    int64_t total = 0;
    for (size_t i = 0; i < N; i++) {
        const pb_ndp *p = mt->sum->data_points[i];
        const pb_kv *kv = find_kv(p->attributes, p->n_attributes, "i");
        assert_non_null(kv);
        assert_int_equal(p->as_int, kv->value->int_value + 1);
        snprintf(name, sizeof(name), "user-%d", (int)kv->value->int_value);
        assert_string_equal(str_attr(p->attributes, p->n_attributes, "user"), name);
        total += p->as_int;
    }
    assert_int_equal(total, (int64_t)N * (N + 1) / 2);
    mt = find_metric(req, "many.h");
    assert_int_equal(mt->histogram->n_data_points, NH);
    for (size_t i = 0; i < NH; i++)
        assert_int_equal(mt->histogram->data_points[i]->count, 1);
}

/* A warm encoder makes the next request without allocating, and holds
 * nothing of the previous one. */
static void test_otel_otlp_metrics_enc_reuse(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    assert_int_equal(otel_counter_new(f->m, &c, "first", NULL, NULL), OTEL_OK);
    for (int i = 0; i < 200; i++) {
        otel_kv kv[] = {OTEL_KV_INT("i", i), OTEL_KV_STR("s", "x\xff")};
        otel_counter_add(c, 1, kv, 2);
    }
    collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, NULL);

    /* the same shape again: neither the core nor the encoder allocates */
    otel_alloc_fail_after(0);
    otel_otlp_metrics_enc_begin(f->e, f->res, MF_SCOPE, MF_SCOPE_VERSION);
    int rc = otel_metrics_collect(f->m, OTEL_TEMPORALITY_PREF_CUMULATIVE, otel_otlp_metrics_enc_add,
                                  f->e);
    const uint8_t *data;
    size_t len, n;
    int rc_end = otel_otlp_metrics_enc_end(f->e, &data, &len, &n);
    otel_alloc_fail_after(-1);
    assert_int_equal(rc, OTEL_OK);
    assert_int_equal(rc_end, OTEL_OK);
    assert_int_equal(n, 200);
    assert_int_equal(find_metric(unpack(data, len), "first")->sum->n_data_points, 200);

    /* a smaller request of another resource: nothing stale */
    otel_resource *other;
    assert_int_equal(otel_resource_new(&other, "other"), OTEL_OK);
    otel_otlp_metrics_enc_begin(f->e, other, "s2", NULL);
    otel_metric_point pt;
    otel_kv kv[] = {OTEL_KV_STR("k", "v")};
    otel_metric_data md = counter_of(&pt, "second", kv, 1, 9);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    const pb_request *req = end_request(f, &n);
    otel_resource_del(other);
    assert_int_equal(n, 1);
    const pb_sm *sm = only_scope(req);
    const pb_rm *rm = req->resource_metrics[0];
    assert_string_equal(
        str_attr(rm->resource->attributes, rm->resource->n_attributes, "service.name"), "other");
    assert_string_equal(sm->scope->name, "s2");
    assert_string_equal(sm->scope->version, "");
    assert_int_equal(sm->n_metrics, 1);
    assert_string_equal(sm->metrics[0]->name, "second");
    assert_int_equal(sm->metrics[0]->sum->data_points[0]->as_int, 9);
}

/* begin drops what was added; end may be called again, and what is added
 * after it goes into the same request. */
static void test_otel_otlp_metrics_enc_begin_add_end(void **state)
{
    mf_fixture *f = *state;
    otel_metric_point p1, p2, p3;
    otel_metric_data a = counter_of(&p1, "a", NULL, 0, 1), b = counter_of(&p2, "b", NULL, 0, 2),
                     c = counter_of(&p3, "c", NULL, 0, 3);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &a), OTEL_OK);
    otel_otlp_metrics_enc_begin(f->e, f->res, MF_SCOPE, NULL);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &b), OTEL_OK);
    size_t n;
    const pb_sm *sm = only_scope(end_request(f, &n));
    assert_int_equal(n, 1);
    assert_int_equal(sm->n_metrics, 1);
    assert_string_equal(sm->metrics[0]->name, "b");
    sm = only_scope(end_request(f, &n));
    assert_int_equal(sm->n_metrics, 1);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &c), OTEL_OK);
    sm = only_scope(end_request(f, &n));
    assert_int_equal(n, 2);
    assert_int_equal(sm->n_metrics, 2);
    assert_string_equal(sm->metrics[0]->name, "b");
    assert_string_equal(sm->metrics[1]->name, "c");
    assert_int_equal(sm->metrics[1]->sum->data_points[0]->as_int, 3);
}

/* The resource is borrowed until end: one that grew since begin is refused
 * (its head no longer fits), one that did not is written as it is then. */
static void test_otel_otlp_metrics_enc_resource_changed(void **state)
{
    mf_fixture *f = *state;
    otel_metric_point pt;
    otel_metric_data md = counter_of(&pt, "c", NULL, 0, 1);
    otel_otlp_metrics_enc_begin(f->e, f->res, MF_SCOPE, MF_SCOPE_VERSION);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    assert_int_equal(otel_resource_set(f->res, "host.name", "a-rather-long-host-name.example"),
                     OTEL_OK);
    const uint8_t *data = (const uint8_t *)"x";
    size_t len = 1, n = 1;
    assert_int_equal(otel_otlp_metrics_enc_end(f->e, &data, &len, &n), OTEL_ERR_STATE);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(n, 0);

    otel_otlp_metrics_enc_begin(f->e, f->res, MF_SCOPE, MF_SCOPE_VERSION);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    assert_int_equal(otel_resource_set(f->res, "host.name", "short"), OTEL_OK);
    const pb_rm *rm = end_request(f, &n)->resource_metrics[0];
    assert_string_equal(str_attr(rm->resource->attributes, rm->resource->n_attributes, "host.name"),
                        "short");
}

/* Strings go out as valid UTF-8 (protobuf string): each byte that starts
 * no valid sequence becomes U+FFFD; valid ones stay as they are. */
static void test_otel_otlp_metrics_enc_invalid_utf8(void **state)
{
    mf_fixture *f = *state;
    otel_metric_point pt;
    otel_kv kv[] = {OTEL_KV_STR("k\xc3", "v\xed\xa0\x80"), OTEL_KV_STR("ok", "caf\xc3\xa9")};
    otel_metric_data md = counter_of(&pt, "c", kv, 2, 1);
    md.description = "bad \xff here";
    otel_otlp_metrics_enc_begin(f->e, NULL, "s\xfe", "1\x80");
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    const pb_request *req = end_request(f, NULL);
    const pb_sm *sm = only_scope(req);
    assert_string_equal(sm->scope->name, "s\xef\xbf\xbd");
    assert_string_equal(sm->scope->version, "1\xef\xbf\xbd");
    const pb_metric *mt = sm->metrics[0];
    assert_string_equal(mt->description, "bad \xef\xbf\xbd here");
    const pb_ndp *p = mt->sum->data_points[0];
    assert_int_equal(p->n_attributes, 2);
    assert_string_equal(p->attributes[0]->key, "k\xef\xbf\xbd");
    assert_string_equal(p->attributes[0]->value->string_value,
                        "v\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(p->attributes[1]->key, "ok");
    assert_string_equal(p->attributes[1]->value->string_value, "caf\xc3\xa9");
}

/* The core refuses string arrays in metric attributes; one that comes
 * anyway is left out, the other attributes stay. A NULL string is "". */
static void test_otel_otlp_metrics_enc_string_array_left_out(void **state)
{
    mf_fixture *f = *state;
    static const char *const vals[] = {"a", "b"};
    otel_metric_point pt;
    otel_kv kv[] = {OTEL_KV_STR_ARRAY("arr", vals, 2), OTEL_KV_INT("n", -3),
                    OTEL_KV_STR("null", NULL)};
    otel_metric_data md = counter_of(&pt, "c", kv, 3, 1);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    const pb_ndp *p = find_metric(end_request(f, NULL), "c")->sum->data_points[0];
    assert_int_equal(p->n_attributes, 2);
    assert_null(find_kv(p->attributes, 2, "arr"));
    assert_int_equal(find_kv(p->attributes, 2, "n")->value->int_value, -3);
    assert_string_equal(str_attr(p->attributes, 2, "null"), "");
}

/* The Nth allocation fails, for every N: new, add and end return
 * OTEL_ERR_NOMEM or work; after a failed add the request is still whole,
 * without that instrument; nothing leaks (ASan). */
static void test_otel_otlp_metrics_enc_nomem(void **state)
{
    mf_fixture *f = *state;
    otel_histogram *h;
    otel_counter *c;
    assert_int_equal(otel_histogram_new(f->m, &h, "h", NULL, "s", NULL, 0), OTEL_OK);
    assert_int_equal(otel_counter_new(f->m, &c, "c", "bad \xff", NULL), OTEL_OK);
    otel_span_context sc = mf_span_ctx(9, true);
    for (int i = 0; i < 300; i++) {
        char v[16];
        snprintf(v, sizeof(v), "v\xfe%d", i);
        otel_kv kv[] = {OTEL_KV_STR("k", v)};
        otel_counter_add(c, 1, kv, 1);
        otel_histogram_record(h, i * 0.01, kv, 1, &sc);
    }
    bool done = false;
    for (long fail = 0; fail < 100 && !done; fail++) {
        otel_otlp_metrics_enc *e = NULL;
        otel_alloc_fail_after(fail);
        int rc = otel_otlp_metrics_enc_new(&e, false);
        if (rc != OTEL_OK) {
            otel_alloc_fail_after(-1);
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            assert_null(e);
            continue;
        }
        otel_otlp_metrics_enc_begin(e, f->res, MF_SCOPE, MF_SCOPE_VERSION);
        rc = otel_metrics_collect(f->m, OTEL_TEMPORALITY_PREF_CUMULATIVE, otel_otlp_metrics_enc_add,
                                  e);
        const uint8_t *data;
        size_t len, n;
        int rc_end = otel_otlp_metrics_enc_end(e, &data, &len, &n);
        otel_alloc_fail_after(-1);
        assert_true(rc == OTEL_OK || rc == OTEL_ERR_NOMEM);
        assert_true(rc_end == OTEL_OK || rc_end == OTEL_ERR_NOMEM);
        if (rc_end != OTEL_OK)
            assert_int_equal(otel_otlp_metrics_enc_end(e, &data, &len, &n), OTEL_OK);
        const pb_sm *sm = only_scope(unpack(data, len));
        size_t points = 0;
        for (size_t k = 0; k < sm->n_metrics; k++) {
            const pb_metric *mt = sm->metrics[k];
            size_t np =
                mt->data_case == DATA_SUM ? mt->sum->n_data_points : mt->histogram->n_data_points;
            assert_int_equal(np, 300);
            points += np;
        }
        assert_int_equal(points, n);
        done = rc == OTEL_OK && rc_end == OTEL_OK;
        if (done)
            assert_int_equal(sm->n_metrics, 2);
        else if (rc != OTEL_OK)
            assert_true(sm->n_metrics < 2);
        otel_otlp_metrics_enc_del(e);
    }
    assert_true(done);
}

/* ---- responses (metrics_service.proto ExportMetricsServiceResponse) ------------------ */

/* Pack a response of rejected points and message msg (NULL: no partial
 * success) into buf. */
static size_t pack_response(uint8_t *buf, size_t cap, bool partial, int64_t rejected,
                            const char *msg)
{
    pb_response r =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
    pb_partial ps =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
    ps.rejected_data_points = rejected;
    ps.error_message = (char *)(msg != NULL ? msg : "");
    if (partial)
        r.partial_success = &ps;
    size_t n =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__get_packed_size(
            &r);
    assert_true(n <= cap);
    return opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(&r,
                                                                                               buf);
}

static void test_otel_otlp_metrics_decode_response_protobuf(void **state)
{
    (void)state;
    uint8_t buf[256];
    char msg[64];
    int64_t rej = -1;
    size_t n = pack_response(buf, sizeof(buf), true, 7, "points too old");
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, sizeof(msg)),
                     OTEL_OK);
    assert_int_equal(rej, 7);
    assert_string_equal(msg, "points too old");

    /* a warning: nothing rejected, a message */
    n = pack_response(buf, sizeof(buf), true, 0, "slow down");
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, sizeof(msg)),
                     OTEL_OK);
    assert_int_equal(rej, 0);
    assert_string_equal(msg, "slow down");

    /* no partial success, an empty one, an empty body */
    n = pack_response(buf, sizeof(buf), false, 0, NULL);
    assert_int_equal(n, 0);
    rej = -1;
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, sizeof(msg)),
                     OTEL_OK);
    assert_int_equal(rej, 0);
    assert_string_equal(msg, "");
    n = pack_response(buf, sizeof(buf), true, 0, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, sizeof(msg)),
                     OTEL_OK);
    assert_int_equal(rej, 0);
    assert_string_equal(msg, "");

    /* negatives count as none */
    n = pack_response(buf, sizeof(buf), true, -4, "odd");
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, sizeof(msg)),
                     OTEL_OK);
    assert_int_equal(rej, 0);
    assert_string_equal(msg, "odd");

    /* an unknown field (number 9, a string) is skipped */
    n = pack_response(buf, sizeof(buf), true, 3, "m");
    memcpy(buf + n, "\x4a\x02hi", 4);
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n + 4, false, &rej, msg, sizeof(msg)),
                     OTEL_OK);
    assert_int_equal(rej, 3);
    assert_string_equal(msg, "m");
}

/* A message longer than cap is cut at a UTF-8 boundary, NUL-terminated. */
static void test_otel_otlp_metrics_decode_response_message_cut(void **state)
{
    (void)state;
    uint8_t buf[64];
    char msg[5];
    int64_t rej;
    size_t n = pack_response(buf, sizeof(buf), true, 1, "ab\xc3\xa9z"); /* "abéz" */
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, 4), OTEL_OK);
    assert_string_equal(msg, "ab");
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, msg, 5), OTEL_OK);
    assert_string_equal(msg, "ab\xc3\xa9");
    assert_int_equal(otel_otlp_metrics_decode_response(buf, n, false, &rej, NULL, 0), OTEL_OK);
    assert_int_equal(rej, 1);
}

static void test_otel_otlp_metrics_decode_response_garbage(void **state)
{
    (void)state;
    static const struct {
        const char *data;
        size_t len;
    } bad[] = {
        {"\xff\xff\xff", 3},             /* not a valid tag */
        {"\x0a\x05\x08\x01", 4},         /* partial_success longer than the body */
        {"\x0a\x02\x08", 3},             /* cut inside its varint */
        {"\x0a\x03\x12\x05x", 5},        /* error_message longer than its message */
        {"\x0b", 1},                     /* a group start: not proto3 */
        {"{\"partialSuccess\":{}}", 21}, /* JSON is not protobuf */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char msg[16] = "untouched";
        int64_t rej = 5;
        assert_int_equal(otel_otlp_metrics_decode_response((const uint8_t *)bad[i].data, bad[i].len,
                                                           false, &rej, msg, sizeof(msg)),
                         OTEL_ERR_PARSE);
        assert_int_equal(rej, 0);
        assert_string_equal(msg, "");
    }
}

/* The OTLP/JSON response (opentelemetry-proto docs/specification.md, "JSON
 * Protobuf Encoding"): rejectedDataPoints as a decimal string or a number;
 * an empty or blank body, {} and a partialSuccess without fields are full
 * success; the traces' rejectedSpans is not this signal's count. */
static void test_otel_otlp_metrics_decode_response_json(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        int rc;
        int64_t rejected;
        const char *msg;
    } cases[] = {
        {"{\"partialSuccess\":{\"rejectedDataPoints\":\"12\",\"errorMessage\":\"bad\"}}", OTEL_OK,
         12, "bad"},
        {" {\"partialSuccess\":{\"rejectedDataPoints\":3}}\n", OTEL_OK, 3, ""},
        {"{\"partialSuccess\":{\"errorMessage\":\"warn\"}}", OTEL_OK, 0, "warn"},
        {"{\"partialSuccess\":{\"rejectedSpans\":\"4\"}}", OTEL_OK, 0, ""},
        {"{\"partialSuccess\":{\"rejectedDataPoints\":\"-2\"}}", OTEL_OK, 0, ""},
        {"{\"partialSuccess\":{}}", OTEL_OK, 0, ""},
        {"{\"partialSuccess\":null,\"other\":[1,2]}", OTEL_OK, 0, ""},
        {"{}", OTEL_OK, 0, ""},
        {"", OTEL_OK, 0, ""},
        {" \r\n\t", OTEL_OK, 0, ""},
        {"{", OTEL_ERR_PARSE, 0, ""},
        {"[]", OTEL_ERR_PARSE, 0, ""},
        {"{} x", OTEL_ERR_PARSE, 0, ""},
        {"{\"partialSuccess\":5}", OTEL_ERR_PARSE, 0, ""},
        {"{\"partialSuccess\":{\"rejectedDataPoints\":\"1x\"}}", OTEL_ERR_PARSE, 0, ""},
        {"{\"partialSuccess\":{\"rejectedDataPoints\":1.5}}", OTEL_ERR_PARSE, 0, ""},
        {"{\"partialSuccess\":{\"rejectedDataPoints\":2,\"errorMessage\":7}}", OTEL_ERR_PARSE, 0,
         ""},
        {"\x0a\x02\x08\x01", OTEL_ERR_PARSE, 0, ""}, /* protobuf is not JSON */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char msg[16] = "untouched";
        int64_t rej = -1;
        int rc = otel_otlp_metrics_decode_response(
            (const uint8_t *)cases[i].body, strlen(cases[i].body), true, &rej, msg, sizeof(msg));
        if (rc != cases[i].rc || rej != cases[i].rejected || strcmp(msg, cases[i].msg) != 0)
            fail_msg("case %zu (%s): rc %d, rejected %lld, \"%s\"", i, cases[i].body, rc,
                     (long long)rej, msg);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_otlp_metrics_enc_counter),
        T(test_otel_otlp_metrics_enc_counter_delta),
        T(test_otel_otlp_metrics_enc_counter_over_int64),
        T(test_otel_otlp_metrics_enc_updown_counter),
        T(test_otel_otlp_metrics_enc_histogram),
        T(test_otel_otlp_metrics_enc_histogram_delta),
        T(test_otel_otlp_metrics_enc_histogram_count_zero),
        T(test_otel_otlp_metrics_enc_exemplar_without_ids),
        T(test_otel_otlp_metrics_enc_empty_request),
        T(test_otel_otlp_metrics_enc_many_points),
        T(test_otel_otlp_metrics_enc_reuse),
        T(test_otel_otlp_metrics_enc_begin_add_end),
        T(test_otel_otlp_metrics_enc_resource_changed),
        T(test_otel_otlp_metrics_enc_invalid_utf8),
        T(test_otel_otlp_metrics_enc_string_array_left_out),
        T(test_otel_otlp_metrics_enc_nomem),
        cmocka_unit_test(test_otel_otlp_metrics_decode_response_protobuf),
        cmocka_unit_test(test_otel_otlp_metrics_decode_response_message_cut),
        cmocka_unit_test(test_otel_otlp_metrics_decode_response_garbage),
        cmocka_unit_test(test_otel_otlp_metrics_decode_response_json),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
