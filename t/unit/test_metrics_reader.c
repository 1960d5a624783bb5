/* test_metrics_reader.c - unit tests for module/metrics_reader.c, the periodic exporting metric
 * reader: its collections as JSON lines on a console stream, and as ExportMetricsServiceRequest
 * sent to the fake gRPC and OTLP/HTTP receivers of t/lib, decoded again with the protobuf-c code
 * generated from exporter/proto; flush, the last export at stop, the period, fork, allocation
 * failures.
 *
 * The rules checked, and where they are written:
 * - OpenTelemetry specification metrics/sdk.md "Periodic exporting MetricReader": collects and
 *   exports every exportIntervalMillis; "ForceFlush" collects and exports now; "MetricReader"
 *   Shutdown: a last collection is exported.
 * - metrics/sdk_exporters/otlp.md and the OTLP exporter spec "Endpoint URLs for OTLP/HTTP":
 *   metrics go to /v1/metrics; metrics_service.proto: the gRPC method
 *   /opentelemetry.proto.collector.metrics.v1.MetricsService/Export;
 *   OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE delta: counters and histograms send what
 *   came since the previous export, up-down counters stay cumulative.
 * - Semantic conventions for OpenTelemetry SDK metrics, otel.sdk.exporter.metric_data_point
 *   .exported: "For failed exports, error.type MUST contain the failure cause", the rejected
 *   part of a partial success counts as failed with error.type=rejected;
 *   otel.component.type otlp_grpc_metric_exporter, otlp_http_metric_exporter,
 *   otlp_http_json_metric_exporter, console_metric_exporter.
 * - console_metrics.h: one JSON object per data point and line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>
#include "../../module/metrics_reader.h"
#include "../../core/test_hooks.h"
#include "../lib/fake_grpc.h"
#include "../lib/fake_http.h"
#include "../lib/metrics_seen.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_request;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse pb_response;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess pb_partial;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_sm;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_ndp;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hdp;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv;

#define DATA_SUM OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM
#define DATA_HISTOGRAM OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM
#define ANY_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define ANY_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define ANY_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define DELTA                                                                                      \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
#define CUMULATIVE                                                                                 \
    OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

#define SEC UINT64_C(1000000000)
#define LONG_INTERVAL (3600 * SEC) /* the period never comes within a test */
#define FLUSH_NS (20 * SEC)        /* a bound, never a wait */
#define DURATION "http.server.request.duration"
#define ACTIVE "http.server.active_requests"
#define POINT_EXPORTED "otel.sdk.exporter.metric_data_point.exported"
#define OP_DURATION "otel.sdk.exporter.operation.duration"
#define GET_A "http.request.method=GET,http.response.status_code=200,http.route=/a,url.scheme=http"
#define POST_B                                                                                     \
    "error.type=500,http.request.method=POST,http.response.status_code=500,http.route=/b,"         \
    "url.scheme=http"
#define GET_HTTP "http.request.method=GET,url.scheme=http"
#define GRPC_PATH "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
#define COMPONENT(type) "otel.component.name=" type "/0,otel.component.type=" type

/* ---- fixture ------------------------------------------------------------ */

typedef struct fixture {
    otel_tracer *t; /* no exporter: the self-telemetry instruments, nothing to sync */
    mhd_otel_metrics *mm;
    otel_resource *res;
    mhd_otel_reader *r;
    fake_server *grpc;
    fake_http *http;
    FILE *console;
    pb_request *req; /* the last one decoded */
} fixture;

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    otel_alloc_fail_after(-1);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_resource *tr = NULL;
    assert_int_equal(otel_resource_new(&tr, "reader-tracer"), OTEL_OK);
    assert_int_equal(otel_tracer_new(&f->t, &cfg, tr), OTEL_OK);
    assert_int_equal(mhd_otel_metrics_new(&f->mm, 0, f->t, NULL, 0), OTEL_OK);
    assert_int_equal(otel_resource_new(&f->res, "reader-test"), OTEL_OK);
    *state = f;
    return 0;
}

static void free_request(fixture *f)
{
    if (f->req != NULL)
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
            f->req, NULL);
    f->req = NULL;
}

static int teardown(void **state)
{
    fixture *f = *state;
    otel_alloc_fail_after(-1);
    mhd_otel_reader_stop(f->r);
    free_request(f);
    fake_stop(f->grpc);
    fake_http_stop(f->http);
    if (f->console != NULL)
        fclose(f->console);
    mhd_otel_metrics_del(f->mm);
    otel_tracer_del(f->t);
    otel_resource_del(f->res);
    free(f);
    return 0;
}

/* An OTLP metrics exporter for protocol to 127.0.0.1:port. */
static otel_otlp *otlp_to(uint16_t port, otel_otlp_protocol protocol)
{
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
    otel_otlp_config cfg = {
        .endpoint = url, .signal = OTEL_OTLP_METRICS, .protocol = protocol, .timeout_ns = 10 * SEC};
    otel_otlp *e = NULL;
    if (otel_otlp_new(&e, &cfg, err, sizeof(err)) != OTEL_OK)
        fail_msg("otel_otlp_new: %s", err);
    return e;
}

/* Start f's reader with otlp (NULL: none) of protocol, f->console, pref and interval. */
static void start(fixture *f, otel_otlp *otlp, otel_otlp_protocol protocol,
                  otel_temporality_pref pref, uint64_t interval_ns)
{
    mhd_otel_reader_config cfg = {.mm = f->mm,
                                  .res = f->res,
                                  .interval_ns = interval_ns,
                                  .timeout_ns = 10 * SEC,
                                  .pref = pref,
                                  .otlp = otlp,
                                  .protocol = protocol,
                                  .console = f->console};
    assert_int_equal(mhd_otel_reader_start(&f->r, &cfg), OTEL_OK);
}

/* A gRPC receiver answering script (n actions; none: OK) and f's reader sending to it. */
static void start_grpc(fixture *f, const fake_action *script, size_t n, otel_temporality_pref pref)
{
    f->grpc = fake_start(0, script, n);
    assert_non_null(f->grpc);
    start(f, otlp_to(f->grpc->port, OTEL_OTLP_GRPC), OTEL_OTLP_GRPC, pref, LONG_INTERVAL);
}

static void serve(mhd_otel_metrics *mm, mhd_otel_server_req q, double seconds)
{
    mhd_otel_metrics_server_begin(mm, &q);
    mhd_otel_metrics_server_end(mm, &q, seconds, NULL);
}

/* GET /a twice (0.003 s), POST /b once (0.3 s). */
static void record_mix(fixture *f)
{
    mhd_otel_server_req a = {.method = "GET", .route = "/a", .status = 200};
    serve(f->mm, a, 0.003);
    serve(f->mm, a, 0.003);
    serve(f->mm, (mhd_otel_server_req){.method = "POST", .route = "/b", .status = 500}, 0.3);
}

/* ---- decoding ------------------------------------------------------------- */

static pb_request *decode(fixture *f, const uint8_t *data, size_t len)
{
    free_request(f);
    f->req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
        NULL, len, data);
    assert_non_null(f->req);
    return f->req;
}

/* The message of the last request the gRPC receiver answered, decoded. */
static pb_request *grpc_request(fixture *f)
{
    fake_server *s = f->grpc;
    pthread_mutex_lock(&s->lock);
    assert_true(s->prefix_ok);
    size_t len = s->message_len;
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s->message, len);
    pthread_mutex_unlock(&s->lock);
    pb_request *req = decode(f, copy, len);
    free(copy);
    return req;
}

/* The body of request i of the OTLP/HTTP receiver, decoded. */
static pb_request *http_request(fixture *f, size_t i)
{
    size_t len = 0;
    uint8_t *body = fake_http_body(f->http, i, &len);
    assert_non_null(body);
    pb_request *req = decode(f, body, len);
    free(body);
    return req;
}

/* The only ScopeMetrics of req: the module's scope, under the reader's resource. */
static const pb_sm *only_scope(const pb_request *req)
{
    assert_int_equal(req->n_resource_metrics, 1);
    const Opentelemetry__Proto__Resource__V1__Resource *res = req->resource_metrics[0]->resource;
    assert_non_null(res);
    bool named = false;
    for (size_t i = 0; i < res->n_attributes; i++)
        named |= strcmp(res->attributes[i]->key, "service.name") == 0 &&
                 strcmp(res->attributes[i]->value->string_value, "reader-test") == 0;
    assert_true(named);
    assert_int_equal(req->resource_metrics[0]->n_scope_metrics, 1);
    const pb_sm *sm = req->resource_metrics[0]->scope_metrics[0];
    assert_string_equal(sm->scope->name, "mhd-otel");
    assert_string_equal(sm->scope->version, MHD_OTEL_VERSION);
    return sm;
}

/* The metric called name, NULL when the request has none. */
static const pb_metric *metric_of(const pb_request *req, const char *name)
{
    const pb_sm *sm = only_scope(req);
    for (size_t i = 0; i < sm->n_metrics; i++)
        if (strcmp(sm->metrics[i]->name, name) == 0)
            return sm->metrics[i];
    return NULL;
}

/* Attributes as metrics_seen.h writes them ("k=v,..." in the order sent). */
static void attrs_text(pb_kv *const *kv, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i > 0 ? "," : "";
        const Opentelemetry__Proto__Common__V1__AnyValue *v = kv[i]->value;
        if (v->value_case == ANY_STRING)
            len +=
                (size_t)snprintf(out + len, cap - len, "%s%s=%s", sep, kv[i]->key, v->string_value);
        else if (v->value_case == ANY_INT)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%lld", sep, kv[i]->key,
                                    (long long)v->int_value);
        else if (v->value_case == ANY_BOOL)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", sep, kv[i]->key,
                                    v->bool_value ? "true" : "false");
        else
            fail_msg("attribute %s of an unexpected type", kv[i]->key);
        assert_true(len < cap);
    }
}

/* The point of metric name (of kind data_case) whose attributes are attrs, NULL when there is
 * none. */
static const void *point_of(const pb_request *req, const char *name, const char *attrs,
                            int data_case)
{
    const pb_metric *mt = metric_of(req, name);
    if (mt == NULL)
        return NULL;
    assert_int_equal(mt->data_case, data_case);
    bool hist = data_case == DATA_HISTOGRAM;
    size_t n = hist ? mt->histogram->n_data_points : mt->sum->n_data_points;
    for (size_t i = 0; i < n; i++) {
        const pb_hdp *h = hist ? mt->histogram->data_points[i] : NULL;
        const pb_ndp *p = hist ? NULL : mt->sum->data_points[i];
        char text[MS_ATTRS_MAX];
        attrs_text(hist ? h->attributes : p->attributes, hist ? h->n_attributes : p->n_attributes,
                   text, sizeof(text));
        if (strcmp(text, attrs) == 0)
            return hist ? (const void *)h : (const void *)p;
    }
    return NULL;
}

static const pb_hdp *hist_point(const pb_request *req, const char *name, const char *attrs)
{
    return point_of(req, name, attrs, DATA_HISTOGRAM);
}

static const pb_ndp *sum_point(const pb_request *req, const char *name, const char *attrs)
{
    return point_of(req, name, attrs, DATA_SUM);
}

/* Every data point of req. */
static size_t points_of(const pb_request *req)
{
    const pb_sm *sm = only_scope(req);
    size_t n = 0;
    for (size_t i = 0; i < sm->n_metrics; i++)
        n += sm->metrics[i]->data_case == DATA_SUM ? sm->metrics[i]->sum->n_data_points
                                                   : sm->metrics[i]->histogram->n_data_points;
    return n;
}

/* The provider's point name{attrs} now (a cumulative collection: it leaves the delta intervals
 * alone): its value (-1 when there is none) and in *count its count (0 when none). */
static int64_t provider_point(fixture *f, const char *name, const char *attrs, uint64_t *count)
{
    ms_seen *s = ms_collect(mhd_otel_metrics_provider(f->mm), OTEL_TEMPORALITY_PREF_CUMULATIVE);
    const ms_point *p = ms_find(s, name, attrs);
    int64_t v = p != NULL ? p->value : -1;
    if (count != NULL)
        *count = p != NULL ? p->count : 0;
    ms_free(s);
    return v;
}

static int64_t provider_sum(fixture *f, const char *name, const char *attrs)
{
    return provider_point(f, name, attrs, NULL);
}

static uint64_t provider_count(fixture *f, const char *name, const char *attrs)
{
    uint64_t n;
    (void)provider_point(f, name, attrs, &n);
    return n;
}

/* ---- console ---------------------------------------------------------------- */

#define MAX_LINES 64

/* Everything written to the console stream so far, from the start (heap, freed by the caller),
 * split into its lines (each a JSON object, parsed into objs: freed with cJSON_Delete). */
static size_t console_lines(fixture *f, cJSON **objs, char **text)
{
    fflush(f->console);
    long size = ftell(f->console);
    assert_true(size >= 0);
    *text = calloc(1, (size_t)size + 1);
    assert_non_null(*text);
    rewind(f->console);
    assert_int_equal(fread(*text, 1, (size_t)size, f->console), (size_t)size);
    assert_int_equal(fseek(f->console, 0, SEEK_END), 0);
    size_t n = 0;
    for (char *p = *text; *p != '\0';) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_true(n < MAX_LINES);
        objs[n] = cJSON_Parse(p);
        if (objs[n] == NULL)
            fail_msg("not a JSON line: %s", p);
        n++;
        p = nl + 1;
    }
    return n;
}

static void free_lines(cJSON **objs, size_t n, char *text)
{
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(objs[i]);
    free(text);
}

static const char *line_name(const cJSON *o)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric");
    return cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;
}

/* The line of lines[from..n) for metric name whose attribute route is route (NULL: any), last
 * one first; NULL when none. */
static const cJSON *find_line(cJSON **objs, size_t from, size_t n, const char *name,
                              const char *route)
{
    for (size_t i = n; i-- > from;) {
        if (strcmp(line_name(objs[i]), name) != 0)
            continue;
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(objs[i], "attributes"), "http.route");
        if (route == NULL || (r != NULL && strcmp(r->valuestring, route) == 0))
            return objs[i];
    }
    return NULL;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* A reader writing to a console stream of its own (a temporary file), the mix recorded, a
 * flush. */
static void flush_mix_to_console(fixture *f)
{
    f->console = tmpfile();
    assert_non_null(f->console);
    start(f, NULL, OTEL_OTLP_GRPC, OTEL_TEMPORALITY_PREF_CUMULATIVE, LONG_INTERVAL);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
}

/* Flush writes one JSON line per data point, in the shape console_metrics.h documents, with the
 * reader's resource; the next flush also has the console exporter's own count of the points it
 * wrote. */
static void test_mhd_otel_reader_flush_console_lines(void **state)
{
    fixture *f = *state;
    flush_mix_to_console(f);
    cJSON *objs[MAX_LINES];
    char *text;
    size_t n = console_lines(f, objs, &text);
    assert_int_equal(n, 4); /* two durations, two active counts */
    for (size_t i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(objs[i], "metric");
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "temporality")->valuestring,
                            "cumulative");
        assert_true(
            cJSON_IsString(cJSON_GetObjectItemCaseSensitive(objs[i], "start_time_unix_nano")));
        assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(objs[i], "time_unix_nano")));
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(objs[i], "resource");
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(res, "service.name")->valuestring,
                            "reader-test");
        const char *name = line_name(objs[i]);
        if (strcmp(name, ACTIVE) == 0) {
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "type")->valuestring, "sum");
            assert_true(num(objs[i], "value") == 0);
        } else {
            assert_string_equal(name, DURATION);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "type")->valuestring,
                                "histogram");
            assert_int_equal(
                cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(objs[i], "bucket_counts")), 15);
        }
    }
    const cJSON *a = find_line(objs, 0, n, DURATION, "/a");
    assert_non_null(a);
    assert_true(num(a, "count") == 2);
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(a, "attributes");
    assert_int_equal(cJSON_GetArraySize(attrs), 4);
    assert_true(num(attrs, "http.response.status_code") == 200);
    assert_true(num(find_line(objs, 0, n, DURATION, "/b"), "count") == 1);
    free_lines(objs, n, text);

    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    size_t n2 = console_lines(f, objs, &text);
    assert_int_equal(n2, 4 + 6); /* the same four, the export's count and duration */
    const cJSON *x = find_line(objs, 4, n2, POINT_EXPORTED, NULL);
    assert_non_null(x);
    assert_true(num(x, "value") == 4);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "attributes"),
                                         "otel.component.type")
            ->valuestring,
        "console_metric_exporter");
    assert_true(num(find_line(objs, 4, n2, OP_DURATION, NULL), "count") == 1);
    free_lines(objs, n2, text);
}

/* Stop exports a last collection: what was recorded after the last flush is written. */
static void test_mhd_otel_reader_stop_exports_last(void **state)
{
    fixture *f = *state;
    flush_mix_to_console(f);
    serve(f->mm, (mhd_otel_server_req){.method = "GET", .route = "/a", .status = 200}, 0.003);
    serve(f->mm, (mhd_otel_server_req){.method = "GET", .route = "/late", .status = 200}, 0.003);
    mhd_otel_reader_stop(f->r);
    f->r = NULL;
    cJSON *objs[MAX_LINES];
    char *text;
    size_t n = console_lines(f, objs, &text);
    assert_true(n > 4);
    assert_true(num(find_line(objs, 4, n, DURATION, "/a"), "count") == 3);
    assert_true(num(find_line(objs, 4, n, DURATION, "/late"), "count") == 1);
    free_lines(objs, n, text);
}

/* A stop with a deadline of its own (a shutdown's, the SDK spec "Shutdown": it "SHOULD
 * complete or abort within some timeout") ends the last export by it, not by the reader's
 * 10 s timeout, against a receiver that never answers. */
static void test_mhd_otel_reader_stop_by_deadline(void **state)
{
    fixture *f = *state;
    fake_action hang = {.kind = FAKE_HANG};
    start_grpc(f, &hang, 1, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    record_mix(f);
    uint64_t t0 = otel_mono_ns();
    mhd_otel_reader_stop_by(f->r, t0 + 200 * 1000 * 1000);
    f->r = NULL;
    uint64_t took = otel_mono_ns() - t0;
    assert_true(took < 5 * SEC);
}

/* ---- OTLP/gRPC ---------------------------------------------------------------- */

/* A flush sends one MetricsService Export whose points are the ones recorded (cumulative: the
 * second has them again, and the first export's own count). */
static void test_mhd_otel_reader_flush_grpc_export(void **state)
{
    fixture *f = *state;
    start_grpc(f, NULL, 0, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(fake_requests(f->grpc), 1);
    assert_true(fake_saw_header(f->grpc, ":path", GRPC_PATH));
    assert_true(fake_saw_header(f->grpc, "content-type", "application/grpc"));
    pb_request *req = grpc_request(f);
    assert_int_equal(points_of(req), 4);
    const pb_metric *mt = metric_of(req, DURATION);
    assert_non_null(mt);
    assert_string_equal(mt->unit, "s");
    assert_int_equal(mt->histogram->aggregation_temporality, CUMULATIVE);
    const pb_hdp *p = hist_point(req, DURATION, GET_A);
    assert_non_null(p);
    assert_int_equal(p->count, 2);
    assert_int_equal(p->n_bucket_counts, 15);
    assert_int_equal(p->bucket_counts[0], 2);
    p = hist_point(req, DURATION, POST_B);
    assert_non_null(p);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->bucket_counts[7], 1); /* (0.25, 0.5] */
    const pb_ndp *a = sum_point(req, ACTIVE, GET_HTTP);
    assert_non_null(a);
    assert_int_equal(a->as_int, 0);
    assert_false(metric_of(req, ACTIVE)->sum->is_monotonic);
    assert_null(metric_of(req, POINT_EXPORTED));

    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(fake_requests(f->grpc), 2);
    req = grpc_request(f);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 2);
    const pb_ndp *x = sum_point(req, POINT_EXPORTED, COMPONENT("otlp_grpc_metric_exporter"));
    assert_non_null(x);
    assert_int_equal(x->as_int, 4);
    assert_int_equal(points_of(req), 4 + 2);
    assert_int_equal(fake_connections(f->grpc), 1);
}

/* The delta preference: each export holds what came since the previous one; the up-down
 * counter stays cumulative. */
static void test_mhd_otel_reader_flush_grpc_delta(void **state)
{
    fixture *f = *state;
    start_grpc(f, NULL, 0, OTEL_TEMPORALITY_PREF_DELTA);
    mhd_otel_server_req a = {.method = "GET", .route = "/a", .status = 200};
    for (int i = 0; i < 3; i++)
        serve(f->mm, a, 0.003);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    pb_request *req = grpc_request(f);
    assert_int_equal(metric_of(req, DURATION)->histogram->aggregation_temporality, DELTA);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 3);
    size_t n1 = points_of(req);
    assert_int_equal(n1, 2);

    serve(f->mm, a, 0.003);
    serve(f->mm, a, 0.003);
    serve(f->mm, (mhd_otel_server_req){.method = "POST", .route = "/b", .status = 500}, 0.3);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    req = grpc_request(f);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 2);
    assert_int_equal(hist_point(req, DURATION, POST_B)->count, 1);
    const pb_metric *mt = metric_of(req, ACTIVE);
    assert_int_equal(mt->sum->aggregation_temporality, CUMULATIVE);
    assert_int_equal(sum_point(req, ACTIVE, GET_HTTP)->as_int, 0);
    assert_int_equal(metric_of(req, POINT_EXPORTED)->sum->aggregation_temporality, DELTA);
    assert_int_equal(sum_point(req, POINT_EXPORTED, COMPONENT("otlp_grpc_metric_exporter"))->as_int,
                     n1);
    size_t n2 = points_of(req);

    /* Nothing new but the previous export's own telemetry (and the cumulative counts). */
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    req = grpc_request(f);
    assert_null(metric_of(req, DURATION));
    assert_int_equal(sum_point(req, POINT_EXPORTED, COMPONENT("otlp_grpc_metric_exporter"))->as_int,
                     n2);
    assert_int_equal(hist_point(req, OP_DURATION, COMPONENT("otlp_grpc_metric_exporter"))->count,
                     1);
    assert_int_equal(fake_requests(f->grpc), 3);
}

/* A partial success: the rejected points count with error.type=rejected, the others as
 * delivered. */
static void test_mhd_otel_reader_flush_grpc_rejected(void **state)
{
    fixture *f = *state;
    static uint8_t resp[64];
    pb_response r =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
    pb_partial ps =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
    ps.rejected_data_points = 3;
    ps.error_message = (char *)"too old";
    r.partial_success = &ps;
    size_t len =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(&r,
                                                                                            resp);
    fake_action act = {.kind = FAKE_OK, .resp = resp, .resp_len = len};
    start_grpc(f, &act, 1, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(provider_sum(f, POINT_EXPORTED, COMPONENT("otlp_grpc_metric_exporter")), 1);
    assert_int_equal(provider_sum(f, POINT_EXPORTED,
                                  "error.type=rejected," COMPONENT("otlp_grpc_metric_exporter")),
                     3);
}

/* A receiver that refuses the export: the flush fails, and the points count with an
 * error.type, as does the export's duration. */
static void test_mhd_otel_reader_flush_grpc_failure(void **state)
{
    fixture *f = *state;
    fake_action act = {.kind = FAKE_STATUS, .grpc_status = 3, .grpc_message = "bad"};
    start_grpc(f, &act, 1, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    record_mix(f);
    assert_true(mhd_otel_reader_flush(f->r, FLUSH_NS) < 0);
    assert_int_equal(fake_requests(f->grpc), 1);
    assert_int_equal(provider_sum(f, POINT_EXPORTED,
                                  "error.type=_OTHER," COMPONENT("otlp_grpc_metric_exporter")),
                     4);
    assert_int_equal(provider_sum(f, POINT_EXPORTED, COMPONENT("otlp_grpc_metric_exporter")), -1);
    assert_int_equal(
        provider_count(f, OP_DURATION, "error.type=_OTHER," COMPONENT("otlp_grpc_metric_exporter")),
        1);
}

/* Nothing recorded: no request at a flush, nor at stop. */
static void test_mhd_otel_reader_empty_sends_nothing(void **state)
{
    fixture *f = *state;
    start_grpc(f, NULL, 0, OTEL_TEMPORALITY_PREF_DELTA);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    mhd_otel_reader_stop(f->r);
    f->r = NULL;
    assert_int_equal(fake_requests(f->grpc), 0);
    assert_int_equal(fake_connections(f->grpc), 0);
}

static int sink_export(void *user_data, const otel_span_data *const *spans, size_t n,
                       uint64_t deadline)
{
    (void)user_data;
    (void)spans;
    (void)n;
    (void)deadline;
    return OTEL_OK;
}

/* Every export first brings the tracer's counters in: the spans exported before a flush are
 * in its request. */
static void test_mhd_otel_reader_flush_syncs_tracer(void **state)
{
    fixture *f = *state;
    mhd_otel_metrics_del(f->mm); /* the fixture's tracer has no exporter: one that has */
    otel_tracer_del(f->t);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_resource *tr = NULL;
    assert_int_equal(otel_resource_new(&tr, "reader-tracer"), OTEL_OK);
    assert_int_equal(otel_tracer_new(&f->t, &cfg, tr), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_exporter_new(&e, "sink", sink_export, NULL), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(f->t, e), OTEL_OK);
    assert_int_equal(otel_tracer_start(f->t), OTEL_OK);
    static const char *const types[] = {"otlp_grpc_span_exporter", NULL};
    assert_int_equal(mhd_otel_metrics_new(&f->mm, 0, f->t, types, 2048), OTEL_OK);
    start_grpc(f, NULL, 0, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    for (int i = 0; i < 3; i++)
        otel_span_end(otel_span_start(f->t, "s", NULL));
    assert_int_equal(otel_tracer_force_flush(f->t, FLUSH_NS), OTEL_OK);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    pb_request *req = grpc_request(f);
    const pb_ndp *p =
        sum_point(req, "otel.sdk.exporter.span.exported", COMPONENT("otlp_grpc_span_exporter"));
    assert_non_null(p);
    assert_int_equal(p->as_int, 3);
    p = sum_point(req, "otel.sdk.processor.span.queue.capacity",
                  COMPONENT("batching_span_processor"));
    assert_non_null(p);
    assert_int_equal(p->as_int, 2048);
    mhd_otel_reader_stop(f->r); /* before the tracer goes */
    f->r = NULL;
}

/* ---- OTLP/HTTP ---------------------------------------------------------------- */

/* POST /v1/metrics in protobuf with the recorded points (delta); a refused POST fails the flush
 * and counts its points with an error.type under the OTLP/HTTP exporter's type. */
static void test_mhd_otel_reader_flush_http_export(void **state)
{
    fixture *f = *state;
    fake_http_answer script[] = {{.status = 200}, {.status = 400}};
    f->http = fake_http_start(script, 2, NULL);
    assert_non_null(f->http);
    start(f, otlp_to(fake_http_port(f->http), OTEL_OTLP_HTTP_PROTOBUF), OTEL_OTLP_HTTP_PROTOBUF,
          OTEL_TEMPORALITY_PREF_DELTA, LONG_INTERVAL);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(fake_http_count(f->http), 1);
    fake_http_request rq;
    assert_true(fake_http_get(f->http, 0, &rq));
    assert_string_equal(rq.method, "POST");
    assert_string_equal(rq.path, "/v1/metrics");
    assert_string_equal(rq.content_type, "application/x-protobuf");
    pb_request *req = http_request(f, 0);
    assert_int_equal(points_of(req), 4);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 2);
    assert_int_equal(metric_of(req, DURATION)->histogram->aggregation_temporality, DELTA);

    serve(f->mm, (mhd_otel_server_req){.method = "GET", .route = "/a", .status = 200}, 0.003);
    assert_true(mhd_otel_reader_flush(f->r, FLUSH_NS) < 0);
    assert_int_equal(fake_http_count(f->http), 2);
    req = http_request(f, 1);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 1);
    assert_int_equal(provider_sum(f, POINT_EXPORTED, COMPONENT("otlp_http_metric_exporter")), 4);
    assert_int_equal(provider_sum(f, POINT_EXPORTED,
                                  "error.type=_OTHER," COMPONENT("otlp_http_metric_exporter")),
                     (int64_t)points_of(req));
}

/* http/json: an OTLP/JSON body, counted under otlp_http_json_metric_exporter. */
static void test_mhd_otel_reader_flush_http_json(void **state)
{
    fixture *f = *state;
    f->http = fake_http_start(NULL, 0, NULL);
    assert_non_null(f->http);
    start(f, otlp_to(fake_http_port(f->http), OTEL_OTLP_HTTP_JSON), OTEL_OTLP_HTTP_JSON,
          OTEL_TEMPORALITY_PREF_CUMULATIVE, LONG_INTERVAL);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    fake_http_request rq;
    assert_true(fake_http_get(f->http, 0, &rq));
    assert_string_equal(rq.path, "/v1/metrics");
    assert_string_equal(rq.content_type, "application/json");
    size_t len = 0;
    char *body = (char *)fake_http_body(f->http, 0, &len);
    assert_non_null(body);
    cJSON *o = cJSON_ParseWithLength(body, len);
    assert_non_null(o);
    const cJSON *rm = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "resourceMetrics"), 0);
    const cJSON *sm = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rm, "scopeMetrics"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sm, "metrics")), 2);
    cJSON_Delete(o);
    free(body);
    assert_int_equal(provider_sum(f, POINT_EXPORTED, COMPONENT("otlp_http_json_metric_exporter")),
                     4);
}

/* ---- the period, fork, failures --------------------------------------------------- */

/* With a short interval an export happens by itself (eventually: the bound is generous and
 * nothing is asserted of its timing). */
static void test_mhd_otel_reader_period_exports(void **state)
{
    fixture *f = *state;
    f->http = fake_http_start(NULL, 0, NULL);
    assert_non_null(f->http);
    record_mix(f);
    start(f, otlp_to(fake_http_port(f->http), OTEL_OTLP_HTTP_PROTOBUF), OTEL_OTLP_HTTP_PROTOBUF,
          OTEL_TEMPORALITY_PREF_CUMULATIVE, 20 * UINT64_C(1000000));
    assert_true(fake_http_wait(f->http, 1, 30000));
    pb_request *req = http_request(f, 0);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 2);
}

/* After fork() the child's flush works, over a connection of its own; the parent's connection
 * goes on serving the parent. */
static void test_mhd_otel_reader_fork_child_flushes(void **state)
{
    fixture *f = *state;
#ifdef __SANITIZE_THREAD__
    /* ThreadSanitizer cannot start threads in the child of a multi-threaded fork (the
     * reader's own); the plain and ASan builds run this test. */
    skip();
#endif
    start_grpc(f, NULL, 0, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(fake_connections(f->grpc), 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        record_mix(f);
        int bad = mhd_otel_reader_flush(f->r, FLUSH_NS) != OTEL_OK ? 1 : 0;
        mhd_otel_reader_stop(f->r); /* its thread joined, a last export */
        _exit(bad);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(fake_requests(f->grpc), 3);
    assert_int_equal(fake_connections(f->grpc), 2);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(fake_requests(f->grpc), 4);
    assert_int_equal(fake_connections(f->grpc), 2);
    pb_request *req = grpc_request(f);
    assert_int_equal(hist_point(req, DURATION, GET_A)->count, 2); /* the parent's only */
}

/* The n-th allocation failing, for every n until none does: OTEL_ERR_NOMEM, the OTLP exporter
 * freed with the rest (ASan: nothing leaks). */
static void test_mhd_otel_reader_start_out_of_memory(void **state)
{
    fixture *f = *state;
    f->console = tmpfile();
    assert_non_null(f->console);
    long n;
    for (n = 0; n < 1000; n++) {
        mhd_otel_reader_config cfg = {.mm = f->mm,
                                      .res = f->res,
                                      .interval_ns = LONG_INTERVAL,
                                      .timeout_ns = SEC,
                                      .otlp = otlp_to(fake_free_port(), OTEL_OTLP_GRPC),
                                      .console = f->console};
        mhd_otel_reader *r = (mhd_otel_reader *)1;
        otel_alloc_fail_after(n);
        int rc = mhd_otel_reader_start(&r, &cfg);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            f->r = r; /* stopped by the teardown */
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(r);
    }
    assert_true(n > 1 && n < 1000);
}

/* Neither OTLP nor console: no thread; flush and stop only sync. NULL does nothing. */
static void test_mhd_otel_reader_nothing_to_push(void **state)
{
    fixture *f = *state;
    start(f, NULL, OTEL_OTLP_GRPC, OTEL_TEMPORALITY_PREF_CUMULATIVE, LONG_INTERVAL);
    record_mix(f);
    assert_int_equal(mhd_otel_reader_flush(f->r, FLUSH_NS), OTEL_OK);
    assert_int_equal(provider_count(f, DURATION, GET_A), 2); /* nothing took it */
    assert_int_equal(mhd_otel_reader_flush(NULL, FLUSH_NS), OTEL_OK);
    mhd_otel_reader_stop(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mhd_otel_reader_flush_console_lines), T(test_mhd_otel_reader_stop_exports_last),
        T(test_mhd_otel_reader_stop_by_deadline),    T(test_mhd_otel_reader_flush_grpc_export),
        T(test_mhd_otel_reader_flush_grpc_delta),    T(test_mhd_otel_reader_flush_grpc_rejected),
        T(test_mhd_otel_reader_flush_grpc_failure),  T(test_mhd_otel_reader_empty_sends_nothing),
        T(test_mhd_otel_reader_flush_syncs_tracer),  T(test_mhd_otel_reader_flush_http_export),
        T(test_mhd_otel_reader_flush_http_json),     T(test_mhd_otel_reader_period_exports),
        T(test_mhd_otel_reader_fork_child_flushes),  T(test_mhd_otel_reader_start_out_of_memory),
        T(test_mhd_otel_reader_nothing_to_push),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
