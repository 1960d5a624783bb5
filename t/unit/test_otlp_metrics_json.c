/* test_otlp_metrics_json.c - tests of the OTLP/JSON metrics encoder (exporter/otlp_metrics_json.c
 * through exporter/otlp_metrics.h): requests read back with cJSON, against exact text for small
 * ones, and against the protobuf encoding of the same collection field by field.
 *
 * The rules checked, and where they are written:
 * - opentelemetry-proto v1.9.0 docs/specification.md "JSON Protobuf Encoding": the proto3 JSON
 *   mapping; keys are the field names in lowerCamelCase; traceId and spanId (those of Exemplar
 *   too: "in all OTLP Protobuf messages") are hex strings, not base64; enums "MUST be encoded as
 *   integer values"; "64-bit integer numbers in JSON-encoded payloads are encoded as decimal
 *   strings" (fixed64 count, bucketCounts and times, sfixed64 asInt, int64 intValue).
 * - proto3 JSON mapping: fields with their default value are left out; a set oneof member and a
 *   present message are written; doubles are numbers.
 * - metrics.proto (see test_otlp_metrics.c) for which fields a point has.
 * - RFC 8259 section 7 and 8.1: strings escaped, the text UTF-8. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../core/utf8.h"
#include "../../exporter/otlp_metrics.h"
#include <mhd-otel/metrics.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "../lib/metrics_fixture.h"
#include "../../core/test_hooks.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_request;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_ndp;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hdp;
typedef Opentelemetry__Proto__Metrics__V1__Exemplar pb_exemplar;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;

static cJSON *last_root; /* the request read last: freed by the next parse or teardown */

static int setup(void **state)
{
    *state = mf_setup(true);
    return 0;
}

static int teardown(void **state)
{
    cJSON_Delete(last_root);
    last_root = NULL;
    mf_teardown(*state);
    return 0;
}

/* ---- reading back ----------------------------------------------------------- */

/* The whole of data is one JSON value in valid UTF-8 without control
 * bytes. */
static cJSON *parse(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len;) {
        assert_true(data[i] >= 0x20);
        size_t k = otel_utf8_seq_len(data + i, len - i);
        assert_true(k > 0);
        i += k;
    }
    cJSON_Delete(last_root);
    const char *end = NULL;
    last_root = cJSON_ParseWithLengthOpts((const char *)data, len, &end, false);
    assert_non_null(last_root);
    assert_ptr_equal(end, (const char *)data + len);
    return last_root;
}

static cJSON *end_request(mf_fixture *f, size_t *n_points)
{
    size_t len;
    const uint8_t *data = mf_end(f, &len, n_points);
    return parse(data, len);
}

static cJSON *collect(mf_fixture *f, otel_temporality_pref pref, size_t *n_points)
{
    mf_collect(f, pref);
    return end_request(f, n_points);
}

/* The request's text, as a NUL-terminated copy the caller frees. */
static char *end_text(mf_fixture *f)
{
    const uint8_t *data;
    size_t len, n;
    assert_int_equal(otel_otlp_metrics_enc_end(f->e, &data, &len, &n), OTEL_OK);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

static cJSON *get(const cJSON *obj, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        fail_msg("no member %s", key);
    return v;
}

static cJSON *at(const cJSON *arr, int i)
{
    assert_true(cJSON_IsArray(arr));
    cJSON *v = cJSON_GetArrayItem(arr, i);
    assert_non_null(v);
    return v;
}

static const char *str(const cJSON *obj, const char *key)
{
    cJSON *v = get(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* A 64-bit integer member: a decimal string, as the mapping wants it. */
static int64_t i64(const cJSON *obj, const char *key)
{
    const char *s = str(obj, key), *end = NULL;
    long long v = strtoll(s, (char **)&end, 10);
    assert_true(*s != '\0' && *end == '\0');
    return (int64_t)v;
}

static double num(const cJSON *obj, const char *key)
{
    cJSON *v = get(obj, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static bool has(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

static const cJSON *scope_metrics(const cJSON *root)
{
    const cJSON *rms = get(root, "resourceMetrics");
    assert_int_equal(cJSON_GetArraySize(rms), 1);
    const cJSON *sms = get(at(rms, 0), "scopeMetrics");
    assert_int_equal(cJSON_GetArraySize(sms), 1);
    return at(sms, 0);
}

static const cJSON *find_metric(const cJSON *root, const char *name)
{
    const cJSON *mt;
    cJSON_ArrayForEach(mt, get(scope_metrics(root), "metrics")) if (strcmp(str(mt, "name"), name) ==
                                                                    0) return mt;
    fail_msg("no metric %s", name);
    return NULL;
}

/* The value object of attribute key in an attributes array. */
static const cJSON *attr(const cJSON *attrs, const char *key)
{
    const cJSON *kv;
    cJSON_ArrayForEach(kv, attrs) if (strcmp(str(kv, "key"), key) == 0) return get(kv, "value");
    fail_msg("no attribute %s", key);
    return NULL;
}

static void hex(const uint8_t *id, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* ---- exact text ---------------------------------------------------------------- */

/* No resource, scope or metric: the members that are messages are there,
 * empty; an empty repeated field (metrics) is an empty array here, since a
 * writer that streams the metrics cannot leave the member out afterwards. */
static void test_otel_otlp_metrics_enc_json_empty(void **state)
{
    mf_fixture *f = *state;
    char *s = end_text(f);
    assert_string_equal(s, "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"scope\":{},"
                           "\"metrics\":[]}]}]}");
    free(s);
}

/* A counter point and a histogram point, exactly: 64-bit integers as
 * strings, the temporality as an integer, ids in hex, defaults left out. */
static void test_otel_otlp_metrics_enc_json_text(void **state)
{
    mf_fixture *f = *state;
    otel_kv kv[] = {OTEL_KV_STR("k", "v\"\n"), OTEL_KV_BOOL("b", false), OTEL_KV_INT("i", -7),
                    OTEL_KV_DOUBLE("d", 0.25)};
    otel_metric_point pc = {
        .attrs = kv, .n_attrs = 4, .start_ns = MF_T0, .time_ns = MF_T0 + 5, .value = -3};
    otel_metric_data c = {.name = "c",
                          .unit = "1",
                          .kind = OTEL_INSTRUMENT_UPDOWN_COUNTER,
                          .temporality = OTEL_TEMPORALITY_CUMULATIVE,
                          .points = &pc,
                          .n_points = 1};
    static const double bounds[] = {1};
    static const uint64_t buckets[] = {1, 2};
    otel_exemplar ex = {.value = 1.5, .time_ns = 9};
    for (int i = 0; i < 16; i++)
        ex.trace_id[i] = (uint8_t)(0xf0 + i);
    for (int i = 0; i < 8; i++)
        ex.span_id[i] = (uint8_t)(0x0a + i);
    otel_metric_point ph = {.time_ns = 12,
                            .count = 3,
                            .sum = 2.5,
                            .min = 0.5,
                            .max = 1.5,
                            .bucket_counts = buckets,
                            .n_bucket_counts = 2,
                            .exemplars = &ex,
                            .n_exemplars = 1};
    otel_metric_data h = {.name = "h",
                          .description = "d\\",
                          .kind = OTEL_INSTRUMENT_HISTOGRAM,
                          .temporality = OTEL_TEMPORALITY_DELTA,
                          .boundaries = bounds,
                          .n_boundaries = 1,
                          .points = &ph,
                          .n_points = 1};
    otel_otlp_metrics_enc_begin(f->e, NULL, "s", "");
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &c), OTEL_OK);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &h), OTEL_OK);
    char *s = end_text(f);
    assert_string_equal(
        s, "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"scope\":{\"name\":\"s\"},"
           "\"metrics\":[{\"name\":\"c\",\"unit\":\"1\",\"sum\":{\"dataPoints\":[{"
           "\"startTimeUnixNano\":\"1760000000000000000\",\"timeUnixNano\":"
           "\"1760000000000000005\",\"asInt\":\"-3\",\"attributes\":[{\"key\":\"k\",\"value\":{"
           "\"stringValue\":\"v\\\"\\n\"}},{\"key\":\"b\",\"value\":{\"boolValue\":false}},{"
           "\"key\":\"i\",\"value\":{\"intValue\":\"-7\"}},{\"key\":\"d\",\"value\":{"
           "\"doubleValue\":0.25}}]}],\"aggregationTemporality\":2}},{\"name\":\"h\","
           "\"description\":\"d\\\\\",\"histogram\":{\"dataPoints\":[{\"timeUnixNano\":\"12\","
           "\"count\":\"3\",\"sum\":2.5,\"bucketCounts\":[\"1\",\"2\"],\"explicitBounds\":[1],"
           "\"exemplars\":[{\"timeUnixNano\":\"9\",\"asDouble\":1.5,\"spanId\":"
           "\"0a0b0c0d0e0f1011\",\"traceId\":\"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff\"}],\"min\":0.5,"
           "\"max\":1.5}],\"aggregationTemporality\":1}}]}]}]}");
    free(s);
}

/* ---- collections ------------------------------------------------------------------ */

/* A counter, an up-down counter and a histogram of a real provider, with
 * the resource and the scope. */
static void test_otel_otlp_metrics_enc_json_collection(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    otel_updown_counter *u;
    otel_histogram *h;
    static const double bounds[] = {0.1, 1};
    assert_int_equal(otel_resource_set(f->res, "k8s.pod.name", "pod-1"), OTEL_OK);
    assert_int_equal(otel_counter_new(f->m, &c, "requests", "Served", "{request}"), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(f->m, &u, "active", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(f->m, &h, "duration", NULL, "s", bounds, 2), OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("method", "GET"), OTEL_KV_INT("status", 200)};
    otel_span_context sc = mf_span_ctx(1, true);
    otel_counter_add(c, 41, kv, 2);
    otel_counter_add(c, 1, kv, 2);
    otel_updown_counter_add(u, -2, NULL, 0);
    mf_clock_ns = MF_T0 + 3;
    otel_histogram_record(h, 0.05, kv, 2, &sc);
    otel_histogram_record(h, 0.5, kv, 2, NULL);
    otel_histogram_record(h, 3, kv, 2, NULL);
    mf_clock_ns = MF_T0 + 10;
    size_t n;
    const cJSON *root = collect(f, OTEL_TEMPORALITY_PREF_DELTA, &n);
    assert_int_equal(n, 3);

    const cJSON *rm = at(get(root, "resourceMetrics"), 0);
    const cJSON *res_attrs = get(get(rm, "resource"), "attributes");
    assert_int_equal(cJSON_GetArraySize(res_attrs), otel_resource_count(f->res));
    assert_string_equal(str(attr(res_attrs, "service.name"), "stringValue"), "checkout");
    assert_string_equal(str(attr(res_attrs, "k8s.pod.name"), "stringValue"), "pod-1");
    const cJSON *scope = get(scope_metrics(root), "scope");
    assert_string_equal(str(scope, "name"), MF_SCOPE);
    assert_string_equal(str(scope, "version"), MF_SCOPE_VERSION);

    const cJSON *mt = find_metric(root, "requests");
    assert_string_equal(str(mt, "description"), "Served");
    assert_string_equal(str(mt, "unit"), "{request}");
    const cJSON *sum = get(mt, "sum");
    assert_int_equal(num(sum, "aggregationTemporality"), 1); /* delta, an integer */
    assert_true(cJSON_IsTrue(get(sum, "isMonotonic")));
    const cJSON *p = at(get(sum, "dataPoints"), 0);
    assert_int_equal(i64(p, "asInt"), 42);
    assert_int_equal(i64(p, "startTimeUnixNano"), MF_T0);
    assert_int_equal(i64(p, "timeUnixNano"), MF_T0 + 10);
    assert_string_equal(str(attr(get(p, "attributes"), "method"), "stringValue"), "GET");
    assert_int_equal(i64(attr(get(p, "attributes"), "status"), "intValue"), 200);

    mt = find_metric(root, "active");
    assert_false(has(mt, "description"));
    assert_false(has(mt, "unit"));
    sum = get(mt, "sum");
    assert_int_equal(num(sum, "aggregationTemporality"), 2); /* up-down: cumulative */
    assert_false(has(sum, "isMonotonic"));
    p = at(get(sum, "dataPoints"), 0);
    assert_int_equal(i64(p, "asInt"), -2);
    assert_false(has(p, "attributes"));
    assert_false(has(p, "exemplars"));

    const cJSON *hist = get(find_metric(root, "duration"), "histogram");
    assert_int_equal(num(hist, "aggregationTemporality"), 1);
    assert_false(has(hist, "isMonotonic"));
    p = at(get(hist, "dataPoints"), 0);
    assert_int_equal(i64(p, "count"), 3);
    assert_true(num(p, "sum") == 0.0 + 0.05 + 0.5 + 3);
    assert_true(num(p, "min") == 0.05);
    assert_true(num(p, "max") == 3);
    const cJSON *bc = get(p, "bucketCounts");
    assert_int_equal(cJSON_GetArraySize(bc), 3);
    for (int i = 0; i < 3; i++) {
        assert_true(cJSON_IsString(at(bc, i)));
        assert_string_equal(at(bc, i)->valuestring, "1");
    }
    const cJSON *eb = get(p, "explicitBounds");
    assert_int_equal(cJSON_GetArraySize(eb), 2);
    assert_true(at(eb, 0)->valuedouble == 0.1 && at(eb, 1)->valuedouble == 1);
    const cJSON *exs = get(p, "exemplars");
    assert_int_equal(cJSON_GetArraySize(exs), 1);
    char tid[33], sid[17];
    hex(sc.trace_id, 16, tid);
    hex(sc.span_id, 8, sid);
    assert_string_equal(str(at(exs, 0), "traceId"), tid);
    assert_string_equal(str(at(exs, 0), "spanId"), sid);
    assert_true(num(at(exs, 0), "asDouble") == 0.05);
    assert_int_equal(i64(at(exs, 0), "timeUnixNano"), MF_T0 + 3);
}

/* Strings are escaped and made valid UTF-8 (U+FFFD for each byte that
 * starts no sequence), keys and values alike. */
static void test_otel_otlp_metrics_enc_json_strings(void **state)
{
    mf_fixture *f = *state;
    otel_kv kv[] = {OTEL_KV_STR("q\"\\\t", "\x01\xff\xc3\xa9")};
    otel_metric_point pt = {.attrs = kv, .n_attrs = 1, .value = 1};
    otel_metric_data md = {.name = "c",
                           .description = "line\nbreak \xe2\x82",
                           .kind = OTEL_INSTRUMENT_COUNTER,
                           .monotonic = true,
                           .points = &pt,
                           .n_points = 1};
    otel_otlp_metrics_enc_begin(f->e, NULL, "s\xfe", NULL);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    const cJSON *root = end_request(f, NULL);
    assert_string_equal(str(get(scope_metrics(root), "scope"), "name"), "s\xef\xbf\xbd");
    const cJSON *mt = find_metric(root, "c");
    assert_string_equal(str(mt, "description"), "line\nbreak \xef\xbf\xbd\xef\xbf\xbd");
    const cJSON *a = at(get(at(get(get(mt, "sum"), "dataPoints"), 0), "attributes"), 0);
    assert_string_equal(str(a, "key"), "q\"\\\t");
    assert_string_equal(str(get(a, "value"), "stringValue"), "\x01\xef\xbf\xbd\xc3\xa9");
}

/* The JSON and the protobuf of one collection say the same, field by
 * field (the same mapping, only the encoding differs). */
/* A counter's sum over INT64_MAX goes out as "asDouble" (a JSON number, as
 * the OTLP/JSON mapping writes a double), as the protobuf writer sends
 * as_double: never a negative "asInt". */
static void test_otel_otlp_metrics_enc_json_counter_over_int64(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    assert_int_equal(otel_counter_new(f->m, &c, "bytes", NULL, NULL), OTEL_OK);
    otel_counter_add(c, (uint64_t)INT64_MAX, NULL, 0);
    otel_counter_add(c, 4096, NULL, 0);
    const cJSON *root = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, NULL);
    const cJSON *p = at(get(get(find_metric(root, "bytes"), "sum"), "dataPoints"), 0);
    assert_false(has(p, "asInt"));
    assert_true(cJSON_IsNumber(get(p, "asDouble")));
    assert_true(num(p, "asDouble") == (double)((uint64_t)INT64_MAX + 4096));
}

static void test_otel_otlp_metrics_enc_json_matches_protobuf(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    otel_histogram *h;
    assert_int_equal(otel_counter_new(f->m, &c, "c", "a counter", "By"), OTEL_OK);
    assert_int_equal(otel_histogram_new(f->m, &h, "h", NULL, "s", NULL, 0), OTEL_OK);
    for (int i = 0; i < 40; i++) {
        otel_kv kv[] = {OTEL_KV_INT("i", i % 7), OTEL_KV_BOOL("even", i % 2 == 0),
                        OTEL_KV_DOUBLE("x", i % 3 * 0.1)};
        otel_span_context sc = mf_span_ctx((uint8_t)i, true);
        otel_counter_add(c, (uint64_t)i, kv, 3);
        otel_histogram_record(h, i * 0.37, kv, 3, i % 4 == 0 ? &sc : NULL);
    }
    mf_clock_ns = MF_T0 + 99;
    const cJSON *root = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, NULL);

    otel_otlp_metrics_enc *pe;
    assert_int_equal(otel_otlp_metrics_enc_new(&pe, false), OTEL_OK);
    otel_otlp_metrics_enc_begin(pe, f->res, MF_SCOPE, MF_SCOPE_VERSION);
    assert_int_equal(
        otel_metrics_collect(f->m, OTEL_TEMPORALITY_PREF_CUMULATIVE, otel_otlp_metrics_enc_add, pe),
        OTEL_OK);
    const uint8_t *data;
    size_t len, n;
    assert_int_equal(otel_otlp_metrics_enc_end(pe, &data, &len, &n), OTEL_OK);
    pb_request *req =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
            NULL, len, data);
    assert_non_null(req);
    const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
        req->resource_metrics[0]->scope_metrics[0];
    const cJSON *metrics = get(scope_metrics(root), "metrics");
    assert_int_equal(cJSON_GetArraySize(metrics), sm->n_metrics);
    assert_int_equal(sm->n_metrics, 2);
    char tid[33], sid[17];
    for (size_t k = 0; k < sm->n_metrics; k++) {
        const pb_metric *pm = sm->metrics[k];
        const cJSON *jm = at(metrics, (int)k);
        assert_string_equal(str(jm, "name"), pm->name);
        assert_string_equal(str(jm, "unit"), pm->unit);
        bool hist = pm->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
        const cJSON *jd = get(jm, hist ? "histogram" : "sum");
        size_t np = hist ? pm->histogram->n_data_points : pm->sum->n_data_points;
        assert_int_equal(cJSON_GetArraySize(get(jd, "dataPoints")), np);
        for (size_t j = 0; j < np; j++) {
            const cJSON *jp = at(get(jd, "dataPoints"), (int)j);
            pb_kv **attrs = hist ? pm->histogram->data_points[j]->attributes
                                 : pm->sum->data_points[j]->attributes;
            assert_int_equal(cJSON_GetArraySize(get(jp, "attributes")), 3);
            for (int a = 0; a < 3; a++) {
                const cJSON *jv = attr(get(jp, "attributes"), attrs[a]->key);
                switch (attrs[a]->value->value_case) {
                case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
                    assert_int_equal(cJSON_IsTrue(get(jv, "boolValue")),
                                     attrs[a]->value->bool_value);
                    break;
                case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
                    assert_int_equal(i64(jv, "intValue"), attrs[a]->value->int_value);
                    break;
                case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
                    assert_true(num(jv, "doubleValue") == attrs[a]->value->double_value);
                    break;
                default:
                    fail_msg("attribute %s of an unexpected type", attrs[a]->key);
                }
            }
            if (!hist) {
                const pb_ndp *pp = pm->sum->data_points[j];
                assert_int_equal(i64(jp, "asInt"), pp->as_int);
                assert_int_equal(i64(jp, "startTimeUnixNano"), pp->start_time_unix_nano);
                assert_int_equal(i64(jp, "timeUnixNano"), pp->time_unix_nano);
                continue;
            }
            const pb_hdp *pp = pm->histogram->data_points[j];
            assert_int_equal(i64(jp, "count"), pp->count);
            assert_true(num(jp, "sum") == pp->sum);
            assert_true(num(jp, "min") == pp->min);
            assert_true(num(jp, "max") == pp->max);
            assert_int_equal(cJSON_GetArraySize(get(jp, "bucketCounts")), pp->n_bucket_counts);
            for (size_t b = 0; b < pp->n_bucket_counts; b++)
                assert_int_equal(
                    strtoull(at(get(jp, "bucketCounts"), (int)b)->valuestring, NULL, 10),
                    pp->bucket_counts[b]);
            assert_int_equal(cJSON_GetArraySize(get(jp, "explicitBounds")), pp->n_explicit_bounds);
            for (size_t b = 0; b < pp->n_explicit_bounds; b++)
                assert_true(at(get(jp, "explicitBounds"), (int)b)->valuedouble ==
                            pp->explicit_bounds[b]);
            size_t ne = has(jp, "exemplars") ? (size_t)cJSON_GetArraySize(get(jp, "exemplars")) : 0;
            assert_int_equal(ne, pp->n_exemplars);
            for (size_t x = 0; x < ne; x++) {
                const pb_exemplar *pe_ = pp->exemplars[x];
                const cJSON *je = at(get(jp, "exemplars"), (int)x);
                hex(pe_->trace_id.data, pe_->trace_id.len, tid);
                hex(pe_->span_id.data, pe_->span_id.len, sid);
                assert_string_equal(str(je, "traceId"), tid);
                assert_string_equal(str(je, "spanId"), sid);
                assert_true(num(je, "asDouble") == pe_->as_double);
                assert_int_equal(i64(je, "timeUnixNano"), pe_->time_unix_nano);
            }
        }
    }
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
        req, NULL);
    otel_otlp_metrics_enc_del(pe);
}

/* Many points: the metric is written again once the buffer has grown to
 * it; a warm encoder then neither allocates nor keeps anything stale. */
static void test_otel_otlp_metrics_enc_json_many_points_and_reuse(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    assert_int_equal(otel_counter_new(f->m, &c, "many", NULL, NULL), OTEL_OK);
    enum { N = 1200 };
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "user-%d", i);
        otel_kv kv[] = {OTEL_KV_STR("user", name)};
        otel_counter_add(c, (uint64_t)i, kv, 1);
    }
    size_t n;
    const cJSON *root = collect(f, OTEL_TEMPORALITY_PREF_CUMULATIVE, &n);
    assert_int_equal(n, N);
    const cJSON *pts = get(get(find_metric(root, "many"), "sum"), "dataPoints"), *p;
    assert_int_equal(cJSON_GetArraySize(pts), N);
    int64_t total = 0;
    cJSON_ArrayForEach(p, pts)
    {
        const char *u = str(attr(get(p, "attributes"), "user"), "stringValue");
        assert_int_equal(i64(p, "asInt"), strtoll(u + 5, NULL, 10));
        total += i64(p, "asInt");
    }
    assert_int_equal(total, (int64_t)N * (N - 1) / 2);

    otel_alloc_fail_after(0);
    otel_otlp_metrics_enc_begin(f->e, f->res, MF_SCOPE, MF_SCOPE_VERSION);
    int rc = otel_metrics_collect(f->m, OTEL_TEMPORALITY_PREF_CUMULATIVE, otel_otlp_metrics_enc_add,
                                  f->e);
    const uint8_t *data;
    size_t len;
    int rc_end = otel_otlp_metrics_enc_end(f->e, &data, &len, &n);
    otel_alloc_fail_after(-1);
    assert_int_equal(rc, OTEL_OK);
    assert_int_equal(rc_end, OTEL_OK);
    assert_int_equal(
        cJSON_GetArraySize(get(get(find_metric(parse(data, len), "many"), "sum"), "dataPoints")),
        N);

    otel_metric_point pt = {.value = 5};
    otel_metric_data md = {.name = "small",
                           .kind = OTEL_INSTRUMENT_COUNTER,
                           .monotonic = true,
                           .points = &pt,
                           .n_points = 1};
    otel_otlp_metrics_enc_begin(f->e, NULL, NULL, NULL);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    root = end_request(f, &n);
    assert_int_equal(n, 1);
    const cJSON *metrics = get(scope_metrics(root), "metrics");
    assert_int_equal(cJSON_GetArraySize(metrics), 1);
    assert_string_equal(str(at(metrics, 0), "name"), "small");
    assert_false(has(get(at(get(root, "resourceMetrics"), 0), "resource"), "attributes"));
}

/* The resource may shrink between begin and end (the head is written
 * against the first metric), not grow. */
static void test_otel_otlp_metrics_enc_json_resource_changed(void **state)
{
    mf_fixture *f = *state;
    otel_metric_point pt = {.value = 1};
    otel_metric_data md = {
        .name = "c", .kind = OTEL_INSTRUMENT_COUNTER, .points = &pt, .n_points = 1};
    assert_int_equal(otel_resource_set(f->res, "host.name", "a-long-host-name"), OTEL_OK);
    otel_otlp_metrics_enc_begin(f->e, f->res, NULL, NULL);
    assert_int_equal(otel_otlp_metrics_enc_add(f->e, &md), OTEL_OK);
    assert_int_equal(otel_resource_set(f->res, "host.name", "h"), OTEL_OK);
    const cJSON *root = end_request(f, NULL);
    const cJSON *res = get(at(get(root, "resourceMetrics"), 0), "resource");
    assert_string_equal(str(attr(get(res, "attributes"), "host.name"), "stringValue"), "h");
    assert_string_equal(str(find_metric(root, "c"), "name"), "c");

    otel_otlp_metrics_enc_begin(f->e, f->res, NULL, NULL);
    assert_int_equal(otel_resource_set(f->res, "host.name", "longer-again"), OTEL_OK);
    const uint8_t *data;
    size_t len, n;
    assert_int_equal(otel_otlp_metrics_enc_end(f->e, &data, &len, &n), OTEL_ERR_STATE);
    assert_null(data);
}

/* The Nth allocation fails, for every N: OTEL_ERR_NOMEM or success, the
 * request whole either way, nothing leaked. */
static void test_otel_otlp_metrics_enc_json_nomem(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c;
    otel_histogram *h;
    assert_int_equal(otel_counter_new(f->m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(f->m, &h, "h", NULL, NULL, NULL, 0), OTEL_OK);
    for (int i = 0; i < 200; i++) {
        char v[16];
        snprintf(v, sizeof(v), "\xc3%d", i);
        otel_kv kv[] = {OTEL_KV_STR("k", v)};
        otel_counter_add(c, 1, kv, 1);
        otel_histogram_record(h, i, kv, 1, NULL);
    }
    bool done = false;
    for (long fail = 0; fail < 100 && !done; fail++) {
        otel_otlp_metrics_enc *e = NULL;
        otel_alloc_fail_after(fail);
        int rc = otel_otlp_metrics_enc_new(&e, true);
        if (rc != OTEL_OK) {
            otel_alloc_fail_after(-1);
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            assert_null(e);
            continue;
        }
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
        const cJSON *metrics = get(scope_metrics(parse(data, len)), "metrics"), *mt;
        size_t points = 0;
        cJSON_ArrayForEach(mt, metrics)
        {
            const cJSON *d = has(mt, "sum") ? get(mt, "sum") : get(mt, "histogram");
            assert_int_equal(cJSON_GetArraySize(get(d, "dataPoints")), 200);
            points += 200;
        }
        assert_int_equal(points, n);
        done = rc == OTEL_OK && rc_end == OTEL_OK;
        if (done)
            assert_int_equal(cJSON_GetArraySize(metrics), 2);
        otel_otlp_metrics_enc_del(e);
    }
    assert_true(done);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_otlp_metrics_enc_json_empty),
        T(test_otel_otlp_metrics_enc_json_text),
        T(test_otel_otlp_metrics_enc_json_collection),
        T(test_otel_otlp_metrics_enc_json_strings),
        T(test_otel_otlp_metrics_enc_json_matches_protobuf),
        T(test_otel_otlp_metrics_enc_json_counter_over_int64),
        T(test_otel_otlp_metrics_enc_json_many_points_and_reuse),
        T(test_otel_otlp_metrics_enc_json_resource_changed),
        T(test_otel_otlp_metrics_enc_json_nomem),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
