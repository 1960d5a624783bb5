/* test_it_metrics.c - integration tests of the metrics: the demo server
 * serves a known mix of requests and its metrics are read where an
 * operator reads them: at the independent OTLP receiver
 * (../shared/otlp-sink, --metrics-out, over gRPC and OTLP/HTTP) and from
 * the Prometheus endpoint, checked against the spans of the same run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../lib/itest.h"

#define WAIT_MS 15000

/* Routes, a skipped path, the traces to the console (itest) and to OTLP. */
#define BASE_CONF                                                                                  \
    "otel_service_name itest-metrics;\n"                                                           \
    "otel_skip_path /health;\n"                                                                    \
    "otel_route /hello/{name} /hello /data /error /test;\n"

typedef struct fixture {
    itest_server s;
    itest_sink k;
    char metrics_path[ITEST_PATH_MAX + 32];
} fixture;

static int group_setup(void **state)
{
    (void)state;
    return itest_group_setup_sink("test_it_metrics", NULL);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL || itest_fixture_init(&f->s, &f->k) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->metrics_path, sizeof(f->metrics_path), "%s/metrics.jsonl", f->k.dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    itest_fixture_cleanup(&f->s, &f->k);
    free(f);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static void start_server(itest_server *s, const char *conf, const char *const *env)
{
    if (itest_server_start_env(s, conf, env) == 0)
        return;
    (void)itest_server_reap(s, 2000);
    fail_msg("the demo server did not start (status %d)\nconfig:\n%s\nstderr: %s", s->exit_status,
             conf, s->err_text ? s->err_text : "");
}

static void start_sink(fixture *f, bool http)
{
    static const char *grpc_args[3], *http_args[5];
    grpc_args[0] = http_args[0] = "--metrics-out";
    grpc_args[1] = http_args[1] = f->metrics_path;
    grpc_args[2] = NULL;
    http_args[2] = "--http-port";
    http_args[3] = "0";
    http_args[4] = NULL;
    itest_sink_start_ok(&f->k, 0, http ? http_args : grpc_args);
}

static void get(itest_server *s, const char *path, int want)
{
    if (itest_curl_repeat(s, path, 1, want) != 1)
        fail_msg("GET %s did not answer %d", path, want);
}

/* The known mix: 3 x /hello/{name} 200, 2 x 404, 1 x /error 500, 2 x the
 * skipped /health. */
static void drive_mix(itest_server *s)
{
    get(s, "/hello/alice", 200);
    get(s, "/hello/bob", 200);
    get(s, "/hello/carol", 200);
    get(s, "/nope", 404);
    get(s, "/nope/either", 404);
    get(s, "/error", 500);
    get(s, "/health", 200);
    get(s, "/health", 200);
}

/* Every line of path parsed (the caller frees with cJSON_Delete). */
static cJSON *read_lines(const char *path)
{
    cJSON *all = cJSON_CreateArray();
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return all;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, in) > 0) {
        cJSON *o = cJSON_Parse(line);
        if (o != NULL)
            cJSON_AddItemToArray(all, o);
    }
    free(line);
    fclose(in);
    return all;
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    return cJSON_IsString(v) ? strtod(v->valuestring, NULL) : -1;
}

/* Whether point p's attributes are exactly the NULL-terminated name,
 * value list want (a value starting with '#' is an integer). */
static bool attrs_are(const cJSON *p, const char *const *want)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "attributes");
    size_t n = 0;
    for (; want[n] != NULL; n += 2) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, want[n]);
        if (want[n + 1][0] == '#') {
            if (!cJSON_IsNumber(v) || v->valuedouble != strtod(want[n + 1] + 1, NULL))
                return false;
        } else if (!cJSON_IsString(v) || strcmp(v->valuestring, want[n + 1]) != 0) {
            return false;
        }
    }
    return (size_t)cJSON_GetArraySize(a) == n / 2;
}

/* The last point of metric name (the sink appends every export) with the
 * attributes want, NULL when none. */
static const cJSON *point(const cJSON *all, const char *name, const char *const *want)
{
    const cJSON *found = NULL, *p;
    cJSON_ArrayForEach(p, all)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "metric");
        const char *n = str_of(m, "name");
        if (n != NULL && strcmp(n, name) == 0 && attrs_are(p, want))
            found = p;
    }
    return found;
}

static const cJSON *point_ok(const cJSON *all, const char *name, const char *const *want)
{
    const cJSON *p = point(all, name, want);
    if (p == NULL) {
        char *text = cJSON_Print(all);
        fail_msg("no point of %s with the attributes asked; got:\n%.4000s", name, text);
    }
    return p;
}

static uint64_t sum_buckets(const cJSON *p)
{
    uint64_t n = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(p, "bucket_counts"))
    {
        n += (uint64_t)(cJSON_IsNumber(b) ? b->valuedouble : strtod(b->valuestring, NULL));
    }
    return n;
}

/* The point of the /hello/{name} requests of the mix. */
static const char *const hello[] = {
    "http.request.method",       "GET",  "url.scheme", "http",
    "http.response.status_code", "#200", "http.route", "/hello/{name}",
    "network.protocol.version",  "1.1",  NULL};

/* The stable HTTP semantic conventions, "Metric: http.server.request.duration"
 * (required http.request.method and url.scheme; http.response.status_code,
 * http.route and error.type when they apply; network.protocol.version
 * recommended) and "Metric: http.server.active_requests" (method and
 * scheme), for the mix of drive_mix, every export of which the last holds
 * (cumulative) or the exports add up to (delta). */
static void check_mix(const cJSON *all, bool delta)
{
    static const char *const missing[] = {"http.request.method",
                                          "GET",
                                          "url.scheme",
                                          "http",
                                          "http.response.status_code",
                                          "#404",
                                          "network.protocol.version",
                                          "1.1",
                                          NULL};
    static const char *const error[] = {"http.request.method",
                                        "GET",
                                        "url.scheme",
                                        "http",
                                        "http.response.status_code",
                                        "#500",
                                        "http.route",
                                        "/error",
                                        "network.protocol.version",
                                        "1.1",
                                        "error.type",
                                        "500",
                                        NULL};
    const cJSON *p = point_ok(all, "http.server.request.duration", hello);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "metric");
    assert_string_equal(str_of(m, "type"), "histogram");
    assert_string_equal(str_of(m, "unit"), "s");
    assert_string_equal(str_of(m, "temporality"), delta ? "delta" : "cumulative");
    if (!delta) {
        assert_true(num_of(p, "count") == 3);
        assert_int_equal(sum_buckets(p), 3);
        assert_true(num_of(p, "sum") > 0 && num_of(p, "min") <= num_of(p, "max"));
        /* Every request of the mix was sampled: an exemplar per bucket hit. */
        assert_true(num_of(p, "exemplars_count") >= 1);
        assert_true(num_of(point_ok(all, "http.server.request.duration", missing), "count") == 2);
        assert_true(num_of(point_ok(all, "http.server.request.duration", error), "count") == 1);
    }
    /* The advised buckets: 0.005 ... 10 (14 boundaries). */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "explicit_bounds")),
                     14);
    /* The skipped path is in no point. */
    const cJSON *q;
    cJSON_ArrayForEach(q, all)
    {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(q, "attributes");
        const char *route = str_of(a, "http.route");
        assert_true(route == NULL || strcmp(route, "/health") != 0);
    }
    static const char *const active[] = {"http.request.method", "GET", "url.scheme", "http", NULL};
    const cJSON *ac = point_ok(all, "http.server.active_requests", active);
    m = cJSON_GetObjectItemCaseSensitive(ac, "metric");
    assert_string_equal(str_of(m, "type"), "sum");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "monotonic")));
    assert_string_equal(str_of(m, "temporality"), "cumulative"); /* up-down: always */
    assert_true(num_of(ac, "value") == 0);
    assert_string_equal(str_of(cJSON_GetObjectItemCaseSensitive(ac, "resource"), "service.name"),
                        "itest-metrics");
    assert_string_equal(str_of(cJSON_GetObjectItemCaseSensitive(ac, "scope"), "name"), "mhd-otel");
}

/* The sum over the sink's points of name with want (delta streams). */
static double delta_count(const cJSON *all, const char *name, const char *const *want)
{
    double n = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, all)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "metric");
        const char *pn = str_of(m, "name");
        if (pn != NULL && strcmp(pn, name) == 0 && attrs_are(p, want))
            n += num_of(p, "count") >= 0 ? num_of(p, "count") : num_of(p, "value");
    }
    return n;
}

/* The sink over gRPC, the server with the otlp block to it and metrics
 * (the otel_metrics block, NULL: none) and env, the mix and then more
 * (NULL-terminated paths answering 200, may be NULL), both stopped. */
static void run_grpc(fixture *f, const char *metrics, const char *const *env,
                     const char *const *more)
{
    start_sink(f, false);
    char conf[1024];
    snprintf(conf, sizeof(conf),
             BASE_CONF "otel_exporter otlp { endpoint http://127.0.0.1:%u; }\n%s",
             (unsigned)f->k.port, metrics != NULL ? metrics : "");
    start_server(&f->s, conf, env);
    drive_mix(&f->s);
    for (size_t i = 0; more != NULL && more[i] != NULL; i++)
        get(&f->s, more[i], 200);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
}

/* ---- tests ---------------------------------------------------------------- */

/* OTLP/gRPC, cumulative: the mix arrives with the last export, made at
 * shutdown (the SDK spec, "MetricReader": Shutdown collects and exports
 * once more); the span self-telemetry agrees with the server's counters. */
static void test_metrics_otlp_grpc_mix(void **state)
{
    fixture *f = *state;
    run_grpc(f, "otel_metrics { interval 1h; }\n", NULL, NULL);
    cJSON *all = read_lines(f->metrics_path);
    check_mix(all, false);
    const cJSON *any =
        point_ok(all, "otel.sdk.exporter.span.exported",
                 (const char *const[]){"otel.component.type", "otlp_grpc_span_exporter",
                                       "otel.component.name", "otlp_grpc_span_exporter/1", NULL});
    uint64_t exported = 0;
    assert_true(itest_server_exporter_counter(&f->s, "otlp", "exported", &exported));
    assert_true(exported >= 6);
    assert_true(num_of(any, "value") == (double)exported);
    assert_string_equal(str_of(any, "transport"), "grpc");
    /* The same conventions' otel.sdk.exporter.operation.duration, one
     * measurement per span export (those ended before the last metrics:
     * the spans are shut down first), and .span.inflight, none left. */
    static const char *const span_exporter[] = {"otel.component.type", "otlp_grpc_span_exporter",
                                                "otel.component.name", "otlp_grpc_span_exporter/1",
                                                NULL};
    const cJSON *op = point_ok(all, "otel.sdk.exporter.operation.duration", span_exporter);
    assert_true(num_of(op, "count") >= 1 && num_of(op, "sum") > 0);
    assert_true(num_of(point_ok(all, "otel.sdk.exporter.span.inflight", span_exporter), "value") ==
                0);
    /* The SDK metrics' otel.sdk.span.started and .live: six server spans of
     * new traces, none left open. */
    static const char *const started[] = {"otel.span.sampling_result", "RECORD_AND_SAMPLE",
                                          "otel.span.parent.origin", "none", NULL};
    assert_true(num_of(point_ok(all, "otel.sdk.span.started", started), "value") == 6);
    static const char *const live[] = {"otel.span.sampling_result", "RECORD_AND_SAMPLE", NULL};
    assert_true(num_of(point_ok(all, "otel.sdk.span.live", live), "value") == 0);
    cJSON_Delete(all);
}

/* OTLP/HTTP with the delta preference (the OTLP exporter spec,
 * OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: delta makes counters
 * and histograms delta, up-down counters stay cumulative), set by the
 * environment, as a flush then the shutdown export send it: the intervals
 * add up to the mix. */
static void test_metrics_otlp_http_delta(void **state)
{
    fixture *f = *state;
    start_sink(f, true);
    char conf[1024];
    snprintf(conf, sizeof(conf),
             BASE_CONF
             "otel_exporter otlp { protocol http/protobuf; endpoint http://127.0.0.1:%u; }\n"
             "otel_metrics { interval 200ms; }\n",
             (unsigned)f->k.http_port);
    static const char *const env[] = {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta",
                                      NULL};
    start_server(&f->s, conf, env);
    drive_mix(&f->s);
    get(&f->s, "/hello/dave", 200);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    cJSON *all = read_lines(f->metrics_path);
    check_mix(all, true);
    assert_true(delta_count(all, "http.server.request.duration", hello) == 4);
    assert_string_equal(str_of(point_ok(all, "http.server.request.duration", hello), "transport"),
                        "http/protobuf");
    cJSON_Delete(all);
}

/* OTEL_METRICS_EXPORTER=none: nothing is recorded, no metrics call is made;
 * the spans go on. */
static void test_metrics_exporter_none(void **state)
{
    fixture *f = *state;
    static const char *const env[] = {"OTEL_METRICS_EXPORTER=none", NULL};
    run_grpc(f, "otel_metrics { }\n", env, NULL);
    uint64_t mreq = 1, spans = 0;
    assert_true(itest_sink_final_stat(&f->k, "metric_requests", &mreq));
    assert_int_equal(mreq, 0);
    assert_true(itest_sink_final_stat(&f->k, "spans", &spans));
    assert_true(spans >= 6);
}

/* The cardinality limit (the SDK spec, "Cardinality limits": measurements
 * beyond the limit go to the point {otel.metric.overflow=true}). */
static void test_metrics_cardinality_overflow(void **state)
{
    fixture *f = *state;
    static const char *const more[] = {"/data", "/hello", NULL};
    run_grpc(f, "otel_metrics { interval 1h; cardinality_limit 3; }\n", NULL, more);
    cJSON *all = read_lines(f->metrics_path);
    size_t n = 0, overflow = 0;
    double total = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, all)
    {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "metric");
        if (strcmp(str_of(m, "name"), "http.server.request.duration") != 0)
            continue;
        n++;
        total += num_of(p, "count");
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(p, "attributes");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "otel.metric.overflow")))
            overflow++;
    }
    assert_int_equal(n, 3); /* two sets and the overflow set */
    assert_int_equal(overflow, 1);
    assert_true(total == 8); /* nothing lost: 6 of the mix and 2 more */
    cJSON_Delete(all);
}

/* The port of the server's Prometheus endpoint, from its start-up log. */
static uint16_t prom_port(const itest_server *s)
{
    static const char needle[] = "metrics: prometheus exporter on port ";
    if (!itest_server_wait_err(s, needle, WAIT_MS))
        fail_msg("no \"%s\" line", needle);
    FILE *in = fopen(s->err_path, "r");
    assert_non_null(in);
    char line[512];
    unsigned port = 0;
    while (fgets(line, sizeof(line), in) != NULL) {
        const char *p = strstr(line, needle);
        if (p != NULL)
            port = (unsigned)strtoul(p + sizeof(needle) - 1, NULL, 10);
    }
    fclose(in);
    assert_true(port > 0 && port < 65536);
    return (uint16_t)port;
}

/* GET /metrics with accept (NULL: none): the body (heap). */
static char *scrape(uint16_t port, const char *accept, char *ctype, size_t cap)
{
    char url[64], hdr[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", (unsigned)port);
    snprintf(hdr, sizeof(hdr), "Accept: %s", accept != NULL ? accept : "*/*");
    char *const argv[] = {"curl", "-s", "--max-time",        "30", "-H",
                          hdr,    "-w", "\n%{content_type}", url,  NULL};
    char *out = NULL;
    int status = 0;
    if (itest_run_cmd(argv, NULL, 60000, &out, NULL, &status) != 0 || status != 0)
        fail_msg("curl %s failed", url);
    char *last = strrchr(out, '\n');
    assert_non_null(last);
    snprintf(ctype, cap, "%s", last + 1);
    *last = '\0';
    return out;
}

/* The end of the labels of the sample line l (n bytes): the "}" before its
 * value (a label value may hold a "}", as a route does); NULL: none. */
static const char *labels_end(const char *l, size_t n)
{
    for (size_t i = n; i-- > 1;)
        if (l[i] == ' ' && l[i - 1] == '}')
            return l + i - 1;
    return NULL;
}

/* The value of the sample line that starts with prefix (the name and the
 * start of its labels), -1 when none; several: the first. */
static double sample(const char *text, const char *name, const char *labels_part)
{
    for (const char *l = text; l != NULL && *l != '\0';) {
        const char *end = strchr(l, '\n');
        size_t n = end != NULL ? (size_t)(end - l) : strlen(l);
        if (n > strlen(name) && strncmp(l, name, strlen(name)) == 0 &&
            (l[strlen(name)] == '{' || l[strlen(name)] == ' ')) {
            const char *close = labels_end(l, n);
            const char *sp = close != NULL ? close + 1 : l + strlen(name);
            bool match = labels_part == NULL ||
                         (close != NULL &&
                          memmem(l, (size_t)(close - l), labels_part, strlen(labels_part)) != NULL);
            if (match)
                return strtod(sp, NULL);
        }
        l = end != NULL ? end + 1 : NULL;
    }
    return -1;
}

/* The Prometheus endpoint (the OpenTelemetry "Prometheus and OpenMetrics
 * Compatibility" spec: names with unit suffixes, histograms as _bucket
 * with cumulative counts and le, _sum and _count; target_info for the
 * resource; exemplars in OpenMetrics) for the mix, and the libcurl helper's
 * http.client.request.duration (the HTTP semantic conventions, "Metric:
 * http.client.request.duration": server.address, server.port, the status
 * and its error.type). */
static void test_metrics_prometheus_scrape(void **state)
{
    fixture *f = *state;
    start_server(&f->s, BASE_CONF "otel_metrics { prometheus 127.0.0.1:0; }\n", NULL);
    uint16_t port = prom_port(&f->s);
    drive_mix(&f->s);
    char json[256];
    snprintf(json, sizeof(json),
             "[{\"url\": \"http://127.0.0.1:%u/hello/bob\", \"arguments\": {}}]",
             (unsigned)f->s.port);
    const char *const post[] = {
        "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", json, NULL};
    itest_response r;
    assert_int_equal(itest_curl(&f->s, "/test", post, &r), 0);
    assert_int_equal(r.status, 200);
    itest_response_free(&r);

    char ctype[128];
    char *text = scrape(port, NULL, ctype, sizeof(ctype));
    assert_non_null(strstr(ctype, "text/plain; version=0.0.4"));
    static const char hist[] = "http_server_request_duration_seconds";
    static const char hello_labels[] =
        "http_request_method=\"GET\",http_response_status_code=\"200\","
        "http_route=\"/hello/{name}\"";
    assert_true(sample(text, "http_server_request_duration_seconds_count", hello_labels) == 3);
    char bname[96];
    snprintf(bname, sizeof(bname), "%s_bucket", hist);
    assert_non_null(strstr(text, "le=\"+Inf\""));
    /* Buckets are cumulative: the +Inf one is the count; none decreases. */
    double prev = 0, inf = -1;
    for (const char *l = text; (l = strstr(l, bname)) != NULL; l++) {
        const char *nl = strchr(l, '\n');
        const char *close = labels_end(l, nl != NULL ? (size_t)(nl - l) : strlen(l));
        if (close == NULL ||
            memmem(l, (size_t)(close - l), hello_labels, strlen(hello_labels)) == NULL)
            continue;
        double v = strtod(close + 1, NULL);
        assert_true(v >= prev);
        prev = v;
        if (memmem(l, (size_t)(close - l), "le=\"+Inf\"", 9) != NULL)
            inf = v;
    }
    assert_true(inf == 3);
    assert_true(sample(text, "http_server_request_duration_seconds_count",
                       "http_response_status_code=\"404\"") == 2);
    assert_true(sample(text, "http_server_active_requests", "http_request_method=\"GET\"") == 0);
    assert_non_null(strstr(text, "target_info{"));
    assert_non_null(strstr(text, "service_name=\"itest-metrics\""));
    assert_null(strstr(text, "/health"));
    /* The outgoing POST answered 405 by the server itself. */
    char where[64];
    snprintf(where, sizeof(where), "server_port=\"%u\"", (unsigned)f->s.port);
    assert_true(sample(text, "http_client_request_duration_seconds_count", where) == 1);
    assert_non_null(strstr(text, "server_address=\"127.0.0.1\""));
    assert_true(sample(text, "http_client_request_duration_seconds_count", "error_type=\"405\"") ==
                1);
    free(text);

    /* OpenMetrics: its exemplars name spans the server exported. */
    text = scrape(port, "application/openmetrics-text; version=1.0.0", ctype, sizeof(ctype));
    assert_non_null(strstr(ctype, "application/openmetrics-text"));
    assert_non_null(strstr(text, "# EOF"));
    const char *ex = strstr(text, "# {trace_id=\"");
    assert_non_null(ex);
    char trace_id[33], span_id[17];
    assert_int_equal(
        sscanf(ex, "# {trace_id=\"%32[0-9a-f]\",span_id=\"%16[0-9a-f]\"", trace_id, span_id), 2);
    free(text);
    itest_server_stop_ok(&f->s);
    itest_spans sp;
    char why[256];
    if (itest_spans_read(f->s.spans_path, &sp, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    bool found = false;
    for (size_t i = 0; i < sp.n && !found; i++) {
        const char *t = itest_span_str(sp.v[i], "trace_id");
        const char *sid = itest_span_str(sp.v[i], "span_id");
        found = t != NULL && sid != NULL && strcmp(t, trace_id) == 0 && strcmp(sid, span_id) == 0 &&
                strcmp(itest_span_str(sp.v[i], "kind"), "server") == 0;
    }
    itest_spans_free(&sp);
    if (!found)
        fail_msg("exemplar %s/%s is no exported server span", trace_id, span_id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_otlp_grpc_mix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_otlp_http_delta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_exporter_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_cardinality_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_prometheus_scrape, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
