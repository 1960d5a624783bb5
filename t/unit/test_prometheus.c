/* test_prometheus.c - unit tests for exporter/prometheus.c.
 *
 * The rules followed, and where they are written:
 * - OpenTelemetry specification, compatibility/prometheus_and_openmetrics.md,
 *   "OTLP Metric points to Prometheus" (cited below as "OTel->Prom"):
 *   - "Metric Metadata": discouraged characters of a name made '_', runs of
 *     '_' made one; the UCUM unit made the word of the table in "Prometheus
 *     Metric points to OTLP" / "Metric Metadata"; portions in braces
 *     dropped; rates over time as words ("m/s" meters_per_second); the unit
 *     a suffix unless the name ends with it, before the type's suffix; one
 *     TYPE per name: a metric whose name clashes with another type's is
 *     dropped whole, conflicting HELP/UNIT keep one. ("1" is no longer
 *     "ratio": the change that made this section stable removed it, a unit
 *     of 1 being a plain count.)
 *   - "Instrumentation Scope": otel_scope_name and otel_scope_version
 *     labels on every point.
 *   - "Sums": a cumulative monotonic sum is a counter with _total, a
 *     non-monotonic one a gauge; the latest exemplar on a counter.
 *   - "Histograms as Prometheus Histograms": cumulative bucket counts in
 *     ascending order of the bounds, +Inf, sum, count; the latest exemplar
 *     of each bucket.
 *   - "Metric Attributes": label names as metric names are made (no ':'),
 *     labels that became the same joined with ';' in the order of the
 *     original keys; non-string values as common/README.md "AnyValue
 *     representation for non-OTLP protocols" says (JSON booleans and
 *     numbers, NaN, Infinity, -Infinity).
 *   - "Exemplar Conversion": trace_id and span_id labels, the timestamp.
 *   - "Resource Attributes": one target info metric with the resource
 *     attributes and no other label; target_info gauge where info is not
 *     supported ("Differences between Prometheus formats": the text format
 *     has no info type and no exemplars, which are dropped).
 * - Prometheus docs, instrumenting/exposition_formats.md (text format
 *   0.0.4): HELP escapes '\' and newline, label values '\', '"' and
 *   newline; values as Go's ParseFloat reads them, +Inf, -Inf, NaN;
 *   histograms as _bucket{le}, _sum, _count, the +Inf bucket equal to
 *   _count.
 * - OpenMetrics 1.0 (prometheus/docs specs/om/open_metrics_spec.md): the
 *   ABNF and "Escaping" (HELP escapes '"' too), "Overall Structure"
 *   (content type, # EOF), "MetricFamily metadata" (TYPE, UNIT, HELP; the
 *   unit a suffix of the family name), "Counter" (family name without
 *   _total, _created), "Histogram" (_created, exemplars on buckets; with
 *   negative thresholds no sum, and _count only with a sum), "Numbers" and
 *   "Considerations: Canonical Numbers" (floats with a '.' or an exponent,
 *   le like Go's %g with ".0"), "Timestamps" (seconds, no exponent),
 *   "Info" (target_info of family target).
 * - Prometheus docs, instrumenting/content_negotiation.md "Selection of
 *   Format": the highest-weighted supported protocol, PrometheusText0.0.4
 *   as the last resort; RFC 9110 section 12.5.1 "Accept" and 12.4.2
 *   "Quality Values". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../core/test_hooks.h"
#include "../../exporter/prometheus.h"

/* 2023-11-14T22:13:20.123456789Z: every start, exemplar and created time. */
#define NOW_NS UINT64_C(1700000000123456789)
#define SCOPE "otel_scope_name=\"mhd-otel\",otel_scope_version=\"" OTEL_SDK_VERSION "\""
#define TS "1700000000.123456789"
#define TRACE "101112131415161718191a1b1c1d1e1f"
#define SPAN "a0a1a2a3a4a5a6a7"

static uint64_t fixed_clock(void *ud)
{
    (void)ud;
    return NOW_NS;
}

static int setup(void **state)
{
    (void)state;
    otel_clock_set(fixed_clock, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_clock_set(NULL, NULL);
    otel_alloc_fail_after(-1);
    return 0;
}

/* The exposition of m (and res) in format f, as a heap string freed with
 * otel_free. */
static char *render(otel_metrics *m, const otel_resource *res, otel_prom_format f)
{
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(otel_prom_render(m, res, f, &out, &len), OTEL_OK);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

static void assert_render(otel_metrics *m, const otel_resource *res, otel_prom_format f,
                          const char *want)
{
    char *got = render(m, res, f);
    if (strcmp(got, want) != 0)
        fail_msg("rendered:\n%s\nwanted:\n%s", got, want);
    otel_free(got);
}

static otel_span_context sampled_span(void)
{
    otel_span_context sc = {.trace_flags = OTEL_TRACE_FLAG_SAMPLED};
    for (int i = 0; i < 16; i++)
        sc.trace_id[i] = (uint8_t)(0x10 + i);
    for (int i = 0; i < 8; i++)
        sc.span_id[i] = (uint8_t)(0xa0 + i);
    return sc;
}

/* ---- numbers ---------------------------------------------------------------- */

/* OpenMetrics "Considerations: Canonical Numbers": the le renderings it
 * lists, Go's %g with ".0" for what would read as an integer; the text
 * format the same without ".0" (Go's strconv.FormatFloat(v, 'g', -1, 64),
 * what the Go client writes). */
static void test_otel_prom_format_double_canonical(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *om, *text;
    } cases[] = {
        {0.0, "0.0", "0"},
        {0.001, "0.001", "0.001"},
        {0.002, "0.002", "0.002"},
        {0.01, "0.01", "0.01"},
        {0.1, "0.1", "0.1"},
        {0.9, "0.9", "0.9"},
        {0.95, "0.95", "0.95"},
        {0.99, "0.99", "0.99"},
        {0.999, "0.999", "0.999"},
        {1.0, "1.0", "1"},
        {1.7, "1.7", "1.7"},
        {10.0, "10.0", "10"},
        {1e-10, "1e-10", "1e-10"},
        {1e-09, "1e-09", "1e-09"},
        {1e-05, "1e-05", "1e-05"},
        {0.0001, "0.0001", "0.0001"},
        {100000.0, "100000.0", "100000"},
        {1e+06, "1e+06", "1e+06"},
        {1e+10, "1e+10", "1e+10"},
        {1e+23, "1e+23", "1e+23"},
        {1.1e+23, "1.1e+23", "1.1e+23"},
        {0.005, "0.005", "0.005"},
        {2.5, "2.5", "2.5"},
        {123456.0, "123456.0", "123456"},
        {1234567.0, "1.234567e+06", "1.234567e+06"},
        {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
        {-3.25, "-3.25", "-3.25"},
        {-0.0, "-0.0", "-0"},
        {DBL_MAX, "1.7976931348623157e+308", "1.7976931348623157e+308"},
        {5e-324, "5e-324", "5e-324"},
        {INFINITY, "+Inf", "+Inf"},
        {-INFINITY, "-Inf", "-Inf"},
        {NAN, "NaN", "NaN"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char b[32];
        size_t n = otel_prom_format_double(cases[i].v, true, b);
        assert_string_equal(b, cases[i].om);
        assert_int_equal(n, strlen(b));
        n = otel_prom_format_double(cases[i].v, false, b);
        assert_string_equal(b, cases[i].text);
        assert_int_equal(n, strlen(b));
    }
}

/* Every rendering reads back to the same double (17 digits when needed,
 * OpenMetrics "Numbers"), in either form, and no shorter one would. */
static void test_otel_prom_format_double_round_trip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof(v));
        if (!isfinite(v))
            continue;
        char b[32];
        otel_prom_format_double(v, i % 2 == 0, b);
        assert_true(strtod(b, NULL) == v);
        if (i % 2 == 0) /* OpenMetrics: a float never reads as an integer */
            assert_true(strpbrk(b, ".e") != NULL);
        /* shortest: no more significant digits than the fewest that read
         * back (found by trying each precision) */
        int p = 1;
        for (char e[40]; p <= 17; p++) {
            snprintf(e, sizeof(e), "%.*e", p - 1, v);
            if (strtod(e, NULL) == v)
                break;
        }
        char digs[40];
        size_t nd = 0;
        for (const char *q = b; *q != '\0' && *q != 'e'; q++)
            if (*q >= '0' && *q <= '9' && (nd > 0 || *q != '0'))
                digs[nd++] = *q;
        while (nd > 0 && digs[nd - 1] == '0')
            nd--;
        assert_true(nd <= (size_t)p);
    }
}

/* ---- names and units ------------------------------------------------------- */

/* OTel->Prom "Metric Metadata": the units of the table, braces dropped,
 * rates over time, "1" as no unit; an unknown unit kept, cleaned. */
static void test_otel_prom_unit_table(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"d", "days"},
        {"h", "hours"},
        {"min", "minutes"},
        {"s", "seconds"},
        {"ms", "milliseconds"},
        {"us", "microseconds"},
        {"ns", "nanoseconds"},
        {"By", "bytes"},
        {"KiBy", "kibibytes"},
        {"MiBy", "mebibytes"},
        {"GiBy", "gibibytes"},
        {"TiBy", "tebibytes"},
        {"kBy", "kilobytes"},
        {"MBy", "megabytes"},
        {"GBy", "gigabytes"},
        {"TBy", "terabytes"},
        {"m", "meters"},
        {"V", "volts"},
        {"A", "amperes"},
        {"J", "joules"},
        {"W", "watts"},
        {"g", "grams"},
        {"Cel", "celsius"},
        {"Hz", "hertz"},
        {"%", "percent"},
        {"1", ""},
        {"", ""},
        {"{request}", ""},
        {"{packet}", ""},
        {"By{compressed}", "bytes"},
        {"m/s", "meters_per_second"},
        {"By/s", "bytes_per_second"},
        {"{request}/s", "per_second"},
        {"1/s", "per_second"},
        {"/h", "per_hour"},
        {"By/{request}", "bytes"},
        {"packets", "packets"},
        {"packets/min", "packets_per_minute"},
        {"km.h", "km_h"},
        {"10s", "10s"},
        {"foo bar", "foo_bar"},
        {"__x__", "x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[OTEL_PROM_NAME_MAX];
        size_t n = otel_prom_unit(cases[i][0], out);
        if (strcmp(out, cases[i][1]) != 0)
            fail_msg("unit \"%s\": \"%s\", wanted \"%s\"", cases[i][0], out, cases[i][1]);
        assert_int_equal(n, strlen(out));
    }
    char out[OTEL_PROM_NAME_MAX];
    assert_int_equal(otel_prom_unit(NULL, out), 0);
    assert_string_equal(out, "");
}

/* OTel->Prom "Metric Metadata" and "Sums": names as the specification
 * makes them, with the OpenMetrics family name of each. */
static void test_otel_prom_metric_name_table(void **state)
{
    (void)state;
    static const struct {
        const char *name, *unit;
        otel_instrument_kind kind;
        const char *want, *family;
    } cases[] = {
        {"http.server.request.duration", "s", OTEL_INSTRUMENT_HISTOGRAM,
         "http_server_request_duration_seconds", "http_server_request_duration_seconds"},
        {"http.server.requests", "{request}", OTEL_INSTRUMENT_COUNTER, "http_server_requests_total",
         "http_server_requests"},
        {"http.server.active_requests", "{request}", OTEL_INSTRUMENT_UPDOWN_COUNTER,
         "http_server_active_requests", "http_server_active_requests"},
        {"system.memory.usage", "By", OTEL_INSTRUMENT_UPDOWN_COUNTER, "system_memory_usage_bytes",
         "system_memory_usage_bytes"},
        /* the unit goes before _total, which is not added twice */
        {"cpu.time_total", "s", OTEL_INSTRUMENT_COUNTER, "cpu_time_seconds_total",
         "cpu_time_seconds"},
        {"requests_total", "1", OTEL_INSTRUMENT_COUNTER, "requests_total", "requests"},
        /* the name already ends with the unit */
        {"process.cpu_seconds", "s", OTEL_INSTRUMENT_COUNTER, "process_cpu_seconds_total",
         "process_cpu_seconds"},
        {"latency_seconds", "s", OTEL_INSTRUMENT_HISTOGRAM, "latency_seconds", "latency_seconds"},
        /* seconds_before_x does not end with it (specification PR 4057) */
        {"seconds_before_x", "s", OTEL_INSTRUMENT_UPDOWN_COUNTER, "seconds_before_x_seconds",
         "seconds_before_x_seconds"},
        {"network.io", "By/s", OTEL_INSTRUMENT_COUNTER, "network_io_bytes_per_second_total",
         "network_io_bytes_per_second"},
        {"queue.size", "1", OTEL_INSTRUMENT_UPDOWN_COUNTER, "queue_size", "queue_size"},
        {"dropped", "packets", OTEL_INSTRUMENT_COUNTER, "dropped_packets_total", "dropped_packets"},
        {"disk.free", "%", OTEL_INSTRUMENT_UPDOWN_COUNTER, "disk_free_percent",
         "disk_free_percent"},
        /* invalid characters, runs of '_', ':' kept */
        {"a..b--c//d", "", OTEL_INSTRUMENT_UPDOWN_COUNTER, "a_b_c_d", "a_b_c_d"},
        {"job:rate.5m", "", OTEL_INSTRUMENT_UPDOWN_COUNTER, "job:rate_5m", "job:rate_5m"},
        {"a__b", "", OTEL_INSTRUMENT_COUNTER, "a_b_total", "a_b"},
        {"x.", "s", OTEL_INSTRUMENT_HISTOGRAM, "x_seconds", "x_seconds"},
        {"9lives", "", OTEL_INSTRUMENT_UPDOWN_COUNTER, "_lives", "_lives"},
        {"total", "", OTEL_INSTRUMENT_COUNTER, "total_total", "total"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[OTEL_PROM_NAME_MAX], fam[OTEL_PROM_NAME_MAX];
        size_t n = otel_prom_metric_name(cases[i].name, cases[i].unit, cases[i].kind, out, fam);
        if (strcmp(out, cases[i].want) != 0 || strcmp(fam, cases[i].family) != 0)
            fail_msg("\"%s\" \"%s\": %s (family %s), wanted %s (%s)", cases[i].name, cases[i].unit,
                     out, fam, cases[i].want, cases[i].family);
        assert_int_equal(n, strlen(out));
    }
    /* a name of 255 bytes and a long unit stay within the buffer */
    char name[256], unit[64], out[OTEL_PROM_NAME_MAX];
    memset(name, 'n', 255);
    name[255] = '\0';
    memset(unit, 'u', 63);
    unit[63] = '\0';
    unit[30] = '/';
    size_t n = otel_prom_metric_name(name, unit, OTEL_INSTRUMENT_COUNTER, out, NULL);
    assert_int_equal(n, 255 + 1 + 30 + 5 + 32 + 6);
    assert_int_equal(strlen(out), n);
}

/* ---- expositions ------------------------------------------------------------- */

/* A counter in both formats (OTel->Prom "Sums"; exposition_formats.md;
 * OpenMetrics "Counter": family without _total, _created). */
static void test_otel_prom_render_counter(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    assert_int_equal(
        otel_counter_new(m, &c, "http.server.requests", "Requests served.", "{request}"), OTEL_OK);
    otel_kv post[] = {OTEL_KV_STR("http.request.method", "POST"),
                      OTEL_KV_INT("http.response.status_code", 201)};
    otel_kv get[] = {OTEL_KV_STR("http.request.method", "GET"),
                     OTEL_KV_INT("http.response.status_code", 200)};
    otel_counter_add(c, 2, post, 2);
    otel_counter_add(c, UINT64_MAX - 1, get, 2);
    otel_counter_add(c, 1, post, 2);
#define GET_L "http_request_method=\"GET\",http_response_status_code=\"200\"," SCOPE
#define POST_L "http_request_method=\"POST\",http_response_status_code=\"201\"," SCOPE
    assert_render(m, NULL, OTEL_PROM_TEXT,
                  "# HELP http_server_requests_total Requests served.\n"
                  "# TYPE http_server_requests_total counter\n"
                  "http_server_requests_total{" GET_L "} 18446744073709551614\n"
                  "http_server_requests_total{" POST_L "} 3\n");
    assert_render(m, NULL, OTEL_PROM_OPENMETRICS,
                  "# TYPE http_server_requests counter\n"
                  "# HELP http_server_requests Requests served.\n"
                  "http_server_requests_total{" GET_L "} 18446744073709551614\n"
                  "http_server_requests_created{" GET_L "} " TS "\n"
                  "http_server_requests_total{" POST_L "} 3\n"
                  "http_server_requests_created{" POST_L "} " TS "\n"
                  "# EOF\n");
    otel_metrics_del(m);
}

/* An up-down counter is a gauge (OTel->Prom "Sums": non-monotonic, as
 * "Gauges" say), its unit a suffix and UNIT metadata. */
static void test_otel_prom_render_updown_counter(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_updown_counter *u;
    assert_int_equal(otel_updown_counter_new(m, &u, "process.memory.usage", "", "By"), OTEL_OK);
    otel_updown_counter_add(u, 4096, NULL, 0);
    otel_updown_counter_add(u, -8192, NULL, 0);
    assert_render(m, NULL, OTEL_PROM_TEXT,
                  "# TYPE process_memory_usage_bytes gauge\n"
                  "process_memory_usage_bytes{" SCOPE "} -4096\n");
    assert_render(m, NULL, OTEL_PROM_OPENMETRICS,
                  "# TYPE process_memory_usage_bytes gauge\n"
                  "# UNIT process_memory_usage_bytes bytes\n"
                  "process_memory_usage_bytes{" SCOPE "} -4096\n"
                  "# EOF\n");
    otel_metrics_del(m);
}

/* A histogram with exemplars: cumulative buckets, +Inf equal to _count,
 * the sum; exemplars in OpenMetrics only, on the bucket their value is in
 * (OTel->Prom "Histograms as Prometheus Histograms", "Exemplar
 * Conversion"; OpenMetrics "Histogram" and its "Exemplars"; "Differences
 * between Prometheus formats": dropped from the text format). */
static void test_otel_prom_render_histogram_exemplars(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *h;
    const double bounds[] = {0.005, 0.1, 1};
    assert_int_equal(otel_histogram_new(m, &h, "http.server.request.duration",
                                        "Duration of HTTP server requests.", "s", bounds, 3),
                     OTEL_OK);
    otel_span_context sc = sampled_span();
    otel_kv route[] = {OTEL_KV_STR("http.route", "/hello/{name}")};
    otel_histogram_record(h, 0.05, route, 1, &sc);
    otel_histogram_record(h, 0.1, route, 1, NULL); /* upper bounds are inclusive */
    otel_histogram_record(h, 0.5, route, 1, NULL);
    otel_histogram_record(h, 2.5, route, 1, &sc);
#define H "http_server_request_duration_seconds"
#define R "http_route=\"/hello/{name}\"," SCOPE
#define EX(v) " # {trace_id=\"" TRACE "\",span_id=\"" SPAN "\"} " v " " TS
    assert_render(m, NULL, OTEL_PROM_TEXT,
                  "# HELP " H " Duration of HTTP server requests.\n"
                  "# TYPE " H " histogram\n" H "_bucket{" R ",le=\"0.005\"} 0\n" H "_bucket{" R
                  ",le=\"0.1\"} 2\n" H "_bucket{" R ",le=\"1\"} 3\n" H "_bucket{" R
                  ",le=\"+Inf\"} 4\n" H "_sum{" R "} 3.15\n" H "_count{" R "} 4\n");
    assert_render(m, NULL, OTEL_PROM_OPENMETRICS,
                  "# TYPE " H " histogram\n"
                  "# UNIT " H " seconds\n"
                  "# HELP " H " Duration of HTTP server requests.\n" H "_bucket{" R
                  ",le=\"0.005\"} 0\n" H "_bucket{" R ",le=\"0.1\"} 2" EX(
                      "0.05") "\n" H "_bucket{" R ",le=\"1.0\"} 3\n" H "_bucket{" R
                              ",le=\"+Inf\"} 4" EX("2.5") "\n" H "_sum{" R "} 3.15\n" H "_count{" R
                                                          "} 4\n" H "_created{" R "} " TS "\n"
                                                          "# EOF\n");
    otel_metrics_del(m);
}

/* Escaping: label values ('\\', '"', newline; invalid UTF-8 made U+FFFD),
 * HELP in each format (exposition_formats.md "Comments, help text, and
 * type information"; OpenMetrics "Escaping"). */
static void test_otel_prom_render_escaping(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_updown_counter *u;
    assert_int_equal(
        otel_updown_counter_new(m, &u, "g", "a \"quoted\" C:\\path\nsecond line \xff", NULL),
        OTEL_OK);
    otel_kv a[] = {OTEL_KV_STR("path", "C:\\DIR\\\"FILE\".TXT\nnext \xc3\xa9 \xc3(")};
    otel_updown_counter_add(u, 1, a, 1);
#define ESC_L SCOPE ",path=\"C:\\\\DIR\\\\\\\"FILE\\\".TXT\\nnext \xc3\xa9 \xef\xbf\xbd(\""
    assert_render(m, NULL, OTEL_PROM_TEXT,
                  "# HELP g a \"quoted\" C:\\\\path\\nsecond line \xef\xbf\xbd\n"
                  "# TYPE g gauge\n"
                  "g{" ESC_L "} 1\n");
    assert_render(m, NULL, OTEL_PROM_OPENMETRICS,
                  "# TYPE g gauge\n"
                  "# HELP g a \\\"quoted\\\" C:\\\\path\\nsecond line \xef\xbf\xbd\n"
                  "g{" ESC_L "} 1\n"
                  "# EOF\n");
    otel_metrics_del(m);
}

/* OTel->Prom "Metric Attributes": names sanitized like metric names but
 * without ':' (a leading digit made '_'), names that became the same
 * joined with ';' in the order of the original keys, also with the scope
 * labels; values per "AnyValue representation for non-OTLP protocols";
 * an attribute of nothing but '_' left out, le left out of a histogram
 * (OpenMetrics "Histogram": its LabelSet MUST NOT have le). */
static void test_otel_prom_render_labels(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_updown_counter *u;
    assert_int_equal(otel_updown_counter_new(m, &u, "g", NULL, NULL), OTEL_OK);
    otel_kv a[] = {
        OTEL_KV_STR("a_b", "under"),
        OTEL_KV_STR("a.b", "dot"),
        OTEL_KV_STR("a-b", "dash"),
        OTEL_KV_BOOL("flag", false),
        OTEL_KV_INT("neg", -42),
        OTEL_KV_DOUBLE("big", 1.5e300),
        OTEL_KV_DOUBLE("nan", NAN),
        OTEL_KV_DOUBLE("inf", INFINITY),
        OTEL_KV_DOUBLE("ninf", -INFINITY),
        OTEL_KV_DOUBLE("third", 1.0 / 3),
        OTEL_KV_STR("1st", "digit"),
        OTEL_KV_STR("k:v", "colon"),
        OTEL_KV_STR("__", "gone"),
        OTEL_KV_STR("otel.scope.name", "mine"),
        OTEL_KV_STR("\xc3\xa9t\xc3\xa9", "utf8"),
    };
    otel_updown_counter_add(u, 7, a, sizeof(a) / sizeof(a[0]));
    otel_histogram *h;
    const double b[] = {1};
    assert_int_equal(otel_histogram_new(m, &h, "h", NULL, NULL, b, 1), OTEL_OK);
    otel_kv le[] = {OTEL_KV_STR("le", "mine"), OTEL_KV_STR("x", "y")};
    otel_histogram_record(h, 0.5, le, 2, NULL);
    assert_render(m, NULL, OTEL_PROM_TEXT,
                  "# TYPE g gauge\n"
                  "g{_st=\"digit\",_t_=\"utf8\",a_b=\"dash;dot;under\",big=\"1.5e+300\","
                  "flag=\"false\",inf=\"Infinity\",k_v=\"colon\",nan=\"NaN\",neg=\"-42\","
                  "ninf=\"-Infinity\",otel_scope_name=\"mine;mhd-otel\",otel_scope_version="
                  "\"" OTEL_SDK_VERSION "\",third=\"0.3333333333333333\"} 7\n"
                  "# TYPE h histogram\n"
                  "h_bucket{" SCOPE ",x=\"y\",le=\"1\"} 1\n"
                  "h_bucket{" SCOPE ",x=\"y\",le=\"+Inf\"} 1\n"
                  "h_sum{" SCOPE ",x=\"y\"} 0.5\n"
                  "h_count{" SCOPE ",x=\"y\"} 1\n");
    otel_metrics_del(m);
}

/* OTel->Prom "Resource Attributes": target_info with the resource's
 * attributes and nothing else, first; info-typed family target in
 * OpenMetrics ("Info"), a gauge target_info in the text format
 * ("Differences between Prometheus formats"); none for no resource. */
static void test_otel_prom_render_target_info(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_resource *r;
    assert_int_equal(otel_resource_new(&r, "checkout"), OTEL_OK);
    assert_int_equal(otel_resource_set(r, "deployment.environment.name", "prod \"eu\""), OTEL_OK);
    assert_int_equal(otel_resource_set(r, "service.instance.id", "a\\b"), OTEL_OK);
#define RES                                                                                        \
    "target_info{deployment_environment_name=\"prod \\\"eu\\\"\",service_instance_id=\"a\\\\b\","  \
    "service_name=\"checkout\",telemetry_sdk_language=\"c\",telemetry_sdk_name=\"mhd-otel\","      \
    "telemetry_sdk_version=\"" OTEL_SDK_VERSION "\"} 1\n"
    assert_render(m, r, OTEL_PROM_TEXT,
                  "# HELP target_info Target metadata\n# TYPE target_info gauge\n" RES);
    assert_render(m, r, OTEL_PROM_OPENMETRICS,
                  "# TYPE target info\n# HELP target Target metadata\n" RES "# EOF\n");
    otel_counter *c;
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    otel_counter_add(c, 1, NULL, 0);
    assert_render(m, r, OTEL_PROM_TEXT,
                  "# HELP target_info Target metadata\n# TYPE target_info gauge\n" RES
                  "# TYPE c_total counter\nc_total{" SCOPE "} 1\n");
    /* no resource, or an empty provider: nothing but what is there */
    assert_render(m, NULL, OTEL_PROM_TEXT, "# TYPE c_total counter\nc_total{" SCOPE "} 1\n");
    otel_metrics *empty;
    assert_int_equal(otel_metrics_new(&empty, 0), OTEL_OK);
    assert_render(empty, NULL, OTEL_PROM_TEXT, "");
    assert_render(empty, NULL, OTEL_PROM_OPENMETRICS, "# EOF\n");
    otel_metrics_del(empty);
    otel_resource_del(r);
    otel_metrics_del(m);
}

/* OTel->Prom "Metric Metadata": instruments of one type whose names became
 * the same are one family with one TYPE and HELP (the first's), their
 * series together, a series there twice kept once; one whose name, or a
 * sample name it would make (OpenMetrics "Suffixes"), clashes with a
 * family of another type is left out whole. */
static void test_otel_prom_render_name_collisions(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c1, *c2, *c3;
    otel_updown_counter *g1, *g2;
    otel_histogram *h;
    const double b[] = {1};
    assert_int_equal(otel_counter_new(m, &c1, "jobs.done", "first", NULL), OTEL_OK);
    assert_int_equal(otel_counter_new(m, &c2, "jobs_done", "second", NULL), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &g1, "jobs.done.total", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &g2, "jobs_done", NULL, NULL), OTEL_ERR_STATE);
    assert_int_equal(otel_histogram_new(m, &h, "lat", NULL, NULL, b, 1), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &g2, "lat.count", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_counter_new(m, &c3, "target.info", NULL, NULL), OTEL_OK);
    otel_kv x[] = {OTEL_KV_STR("k", "x")}, y[] = {OTEL_KV_STR("k", "y")};
    otel_counter_add(c1, 1, x, 1);
    otel_counter_add(c2, 10, y, 1);
    otel_counter_add(c2, 100, x, 1); /* the series of c1 again */
    otel_updown_counter_add(g1, 5, NULL, 0);
    otel_histogram_record(h, 2, NULL, 0, NULL);
    otel_updown_counter_add(g2, 5, NULL, 0);
    otel_counter_add(c3, 1, NULL, 0);
    assert_render(m, NULL, OTEL_PROM_TEXT,
                  "# HELP jobs_done_total first\n"
                  "# TYPE jobs_done_total counter\n"
                  "jobs_done_total{k=\"x\"," SCOPE "} 1\n"
                  "jobs_done_total{k=\"y\"," SCOPE "} 10\n"
                  "# TYPE lat histogram\n"
                  "lat_bucket{" SCOPE ",le=\"1\"} 0\n"
                  "lat_bucket{" SCOPE ",le=\"+Inf\"} 1\n"
                  "lat_sum{" SCOPE "} 2\n"
                  "lat_count{" SCOPE "} 1\n");
    char *om = render(m, NULL, OTEL_PROM_OPENMETRICS);
    assert_non_null(strstr(om, "# TYPE jobs_done counter\n# HELP jobs_done first\n"));
    assert_null(strstr(om, "second"));
    assert_null(strstr(om, "lat_count{" SCOPE "} 5"));
    assert_null(strstr(om, "target"));
    otel_free(om);
    otel_metrics_del(m);
}

/* ---- the writer on data made by hand ---------------------------------------- */

static char *write_all(const otel_metric_data *md, size_t n, otel_prom_format f)
{
    otel_prom_writer *w;
    assert_int_equal(otel_prom_writer_new(&w, NULL, f), OTEL_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(otel_prom_writer_add(w, &md[i]), OTEL_OK);
    char *out;
    size_t len;
    assert_int_equal(otel_prom_writer_finish(w, &out, &len), OTEL_OK);
    otel_prom_writer_del(w);
    return out;
}

/* OTel->Prom "Sums": the latest exemplar of a counter on its _total
 * (OpenMetrics only); delta sums and histograms are left out ("Sums",
 * "Histograms": dropped unless accumulated). */
static void test_otel_prom_writer_counter_exemplar_and_delta(void **state)
{
    (void)state;
    otel_span_context sc = sampled_span();
    otel_exemplar ex[2] = {{.value = 1, .time_ns = NOW_NS - 1000000000u},
                           {.value = 2, .time_ns = NOW_NS}};
    memcpy(ex[1].trace_id, sc.trace_id, 16);
    memcpy(ex[1].span_id, sc.span_id, 8);
    memset(ex[0].trace_id, 0xee, 16);
    otel_metric_point pt = {.value = 9, .exemplars = ex, .n_exemplars = 2};
    otel_metric_data md[2] = {
        {.name = "c",
         .kind = OTEL_INSTRUMENT_COUNTER,
         .monotonic = true,
         .points = &pt,
         .n_points = 1},
        {.name = "d",
         .kind = OTEL_INSTRUMENT_COUNTER,
         .monotonic = true,
         .temporality = OTEL_TEMPORALITY_DELTA,
         .points = &pt,
         .n_points = 1},
    };
    char *out = write_all(md, 2, OTEL_PROM_OPENMETRICS);
    assert_string_equal(out, "# TYPE c counter\nc_total{" SCOPE "} 9" EX("2.0") "\n# EOF\n");
    otel_free(out);
    out = write_all(md, 2, OTEL_PROM_TEXT);
    assert_string_equal(out, "# TYPE c_total counter\nc_total{" SCOPE "} 9\n");
    otel_free(out);
}

/* OpenMetrics "Histogram": with a negative threshold no _sum, and so no
 * _count; the text format keeps both. An exemplar without ids has {}
 * (OpenMetrics "Exemplars"), one without a time no timestamp. */
static void test_otel_prom_writer_negative_bounds(void **state)
{
    (void)state;
    const double bounds[] = {-1, 0};
    const uint64_t counts[] = {1, 0, 2};
    otel_exemplar ex = {.value = -3};
    otel_metric_point pt = {.count = 3,
                            .sum = 0,
                            .bucket_counts = counts,
                            .n_bucket_counts = 3,
                            .exemplars = &ex,
                            .n_exemplars = 1};
    otel_metric_data md = {.name = "t",
                           .kind = OTEL_INSTRUMENT_HISTOGRAM,
                           .boundaries = bounds,
                           .n_boundaries = 2,
                           .points = &pt,
                           .n_points = 1};
    char *out = write_all(&md, 1, OTEL_PROM_OPENMETRICS);
    assert_string_equal(out, "# TYPE t histogram\n"
                             "t_bucket{" SCOPE ",le=\"-1.0\"} 1 # {} -3.0\n"
                             "t_bucket{" SCOPE ",le=\"0.0\"} 1\n"
                             "t_bucket{" SCOPE ",le=\"+Inf\"} 3\n"
                             "# EOF\n");
    otel_free(out);
    out = write_all(&md, 1, OTEL_PROM_TEXT);
    assert_string_equal(out, "# TYPE t histogram\n"
                             "t_bucket{" SCOPE ",le=\"-1\"} 1\n"
                             "t_bucket{" SCOPE ",le=\"0\"} 1\n"
                             "t_bucket{" SCOPE ",le=\"+Inf\"} 3\n"
                             "t_sum{" SCOPE "} 0\n"
                             "t_count{" SCOPE "} 3\n");
    otel_free(out);
}

/* ---- negotiation -------------------------------------------------------------- */

/* content_negotiation.md "Selection of Format" over RFC 9110's Accept:
 * the highest q among what is supported, an earlier range winning a tie,
 * text 0.0.4 as the last resort; q=0 is "not acceptable". */
static void test_otel_prom_negotiate_cases(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        otel_prom_format want;
    } cases[] = {
        {NULL, OTEL_PROM_TEXT},
        {"", OTEL_PROM_TEXT},
        {"*/*", OTEL_PROM_TEXT},
        {"application/openmetrics-text", OTEL_PROM_OPENMETRICS},
        {"application/openmetrics-text; version=1.0.0; charset=utf-8", OTEL_PROM_OPENMETRICS},
        {"APPLICATION/OpenMetrics-Text;Version=\"1.0.0\"", OTEL_PROM_OPENMETRICS},
        /* Prometheus 3's default Accept header */
        {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
         "application/openmetrics-text;version=0.0.1;q=0.4,"
         "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/"
         "*;q=0.1",
         OTEL_PROM_OPENMETRICS},
        /* Prometheus 2's */
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
         "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         OTEL_PROM_OPENMETRICS},
        /* protobuf first: the next supported one */
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding="
         "delimited;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,text/plain;version=0.0."
         "4;q=0.1",
         OTEL_PROM_OPENMETRICS},
        {"text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=0.5,text/plain;q=0.9", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=0.5,text/plain;q=0.5", OTEL_PROM_OPENMETRICS},
        {"text/plain;q=0.5,application/openmetrics-text;q=0.5", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=0.501, text/*;q=0.5", OTEL_PROM_OPENMETRICS},
        {"application/openmetrics-text;q=0", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=0.000,*/*;q=0.001", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=1.000", OTEL_PROM_OPENMETRICS},
        /* versions it does not write */
        {"application/openmetrics-text;version=0.0.1", OTEL_PROM_TEXT},
        {"application/openmetrics-text;version=2.0.0", OTEL_PROM_TEXT},
        {"text/plain;version=1.0.0;q=1,application/openmetrics-text;q=0.1", OTEL_PROM_OPENMETRICS},
        /* malformed ranges and weights are ignored */
        {"application/openmetrics-text;q=1.5", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=abc", OTEL_PROM_TEXT},
        {"application/openmetrics-text;q=0.1234", OTEL_PROM_TEXT},
        {"application/openmetrics-text;version", OTEL_PROM_TEXT},
        {"application/openmetrics-text;version=\"1.0.0", OTEL_PROM_TEXT},
        {"application openmetrics-text", OTEL_PROM_TEXT},
        {"application/openmetrics-text junk", OTEL_PROM_TEXT},
        {"application/openmetrics-text;", OTEL_PROM_OPENMETRICS},
        {" , ,application/openmetrics-text , ", OTEL_PROM_OPENMETRICS},
        {"\tapplication/openmetrics-text\t;\tq=0.7\t", OTEL_PROM_OPENMETRICS},
        /* a comma inside a quoted parameter does not end the range */
        {"text/html;x=\"a,application/openmetrics-text\"", OTEL_PROM_TEXT},
        {"text/html;x=\"a\\\",b\",application/openmetrics-text", OTEL_PROM_OPENMETRICS},
        {"application/*", OTEL_PROM_TEXT},
        {"application/json, text/html", OTEL_PROM_TEXT},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (otel_prom_negotiate(cases[i].accept) != cases[i].want)
            fail_msg("Accept \"%s\": format %d, wanted %d",
                     cases[i].accept != NULL ? cases[i].accept : "(none)",
                     (int)otel_prom_negotiate(cases[i].accept), (int)cases[i].want);
}

/* exposition_formats.md "Basic info" and OpenMetrics "Overall Structure". */
static void test_otel_prom_content_type(void **state)
{
    (void)state;
    assert_string_equal(otel_prom_content_type(OTEL_PROM_TEXT),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(otel_prom_content_type(OTEL_PROM_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

/* ---- failures -------------------------------------------------------------------- */

static void test_otel_prom_render_invalid(void **state)
{
    (void)state;
    char *out = (char *)1;
    size_t len = 1;
    assert_int_equal(otel_prom_render(NULL, NULL, OTEL_PROM_TEXT, &out, &len), OTEL_ERR_INVALID);
    assert_null(out);
    assert_int_equal(len, 0);
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    assert_int_equal(otel_prom_render(m, NULL, OTEL_PROM_TEXT, NULL, &len), OTEL_ERR_INVALID);
    otel_metrics_del(m);
    otel_prom_writer_del(NULL);
}

/* test_failmalloc.c's way: the n-th allocation fails, for every n; each
 * render either fails with NOMEM and nothing out, or gives the whole
 * exposition; the next render sees every measurement (none was lost). */
static void test_otel_prom_render_out_of_memory(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_resource *r;
    assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
    otel_counter *c;
    otel_histogram *h;
    otel_updown_counter *u;
    assert_int_equal(otel_counter_new(m, &c, "c", "d", "s"), OTEL_OK);
    assert_int_equal(otel_histogram_new(m, &h, "h", "d", "s", NULL, 0), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &u, "u", "d", "By"), OTEL_OK);
    otel_span_context sc = sampled_span();
    for (int i = 0; i < 40; i++) {
        char v[16];
        snprintf(v, sizeof(v), "v%d", i);
        otel_kv a[] = {OTEL_KV_STR("k.a", v), OTEL_KV_STR("k_a", "x")};
        otel_counter_add(c, 1, a, 2);
        otel_histogram_record(h, 0.01 * i, a, 2, &sc);
        otel_updown_counter_add(u, -1, a, 2);
    }
    for (int f = 0; f < 2; f++) {
        char *want = render(m, r, (otel_prom_format)f);
        long n;
        for (n = 0; n < 10000; n++) {
            char *out = (char *)1;
            size_t len = 1;
            otel_alloc_fail_after(n);
            int rc = otel_prom_render(m, r, (otel_prom_format)f, &out, &len);
            otel_alloc_fail_after(-1);
            if (rc == OTEL_OK) {
                assert_string_equal(out, want);
                otel_free(out);
                break;
            }
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            assert_null(out);
            assert_int_equal(len, 0);
        }
        assert_true(n > 5 && n < 10000);
        otel_free(want);
    }
    otel_resource_del(r);
    otel_metrics_del(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_prom_format_double_canonical),
        cmocka_unit_test(test_otel_prom_format_double_round_trip),
        cmocka_unit_test(test_otel_prom_unit_table),
        cmocka_unit_test(test_otel_prom_metric_name_table),
        cmocka_unit_test(test_otel_prom_render_counter),
        cmocka_unit_test(test_otel_prom_render_updown_counter),
        cmocka_unit_test(test_otel_prom_render_histogram_exemplars),
        cmocka_unit_test(test_otel_prom_render_escaping),
        cmocka_unit_test(test_otel_prom_render_labels),
        cmocka_unit_test(test_otel_prom_render_target_info),
        cmocka_unit_test(test_otel_prom_render_name_collisions),
        cmocka_unit_test(test_otel_prom_writer_counter_exemplar_and_delta),
        cmocka_unit_test(test_otel_prom_writer_negative_bounds),
        cmocka_unit_test(test_otel_prom_negotiate_cases),
        cmocka_unit_test(test_otel_prom_content_type),
        cmocka_unit_test(test_otel_prom_render_invalid),
        cmocka_unit_test(test_otel_prom_render_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
