/* test_console_metrics.c - tests of exporter/console_metrics.c: the JSON lines written for the
 * points of a real provider (core/metrics.c) on a fake clock, compared to the letter, and the
 * failures a write can meet.
 *
 * The rules checked, and where they are written:
 * - console_metrics.h: one JSON object per data point and line, {"metric": {"name",
 *   "description", "unit", "type", "temporality", "monotonic"}, "attributes",
 *   "start_time_unix_nano", "time_unix_nano", "value" (sums) or "count", "sum", "min", "max",
 *   "bucket_counts", "explicit_bounds", "exemplars" (histograms), "resource"}; cumulative;
 *   OTEL_ERR_IO when a write fails, OTEL_ERR_NOMEM when memory runs out.
 * - OpenTelemetry specification metrics/data-model.md "Sums": a Counter is a monotonic sum, an
 *   UpDownCounter a non-monotonic one that may go below zero; "Histogram": count, sum, min, max,
 *   explicit bounds, one bucket count more than bounds; "Exemplars": value, time, trace_id and
 *   span_id (the OTLP/JSON form of ids: lowercase hex, 32 and 16 digits). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/metrics.h>
#include "../../exporter/console_metrics.h"
#include "../lib/metrics_fixture.h"

/* The test resource as the exporter writes it (otel_resource_new's keys, then the one set). */
#define RESOURCE                                                                                   \
    "\"resource\":{\"service.name\":\"checkout\",\"telemetry.sdk.name\":\"" OTEL_SDK_NAME          \
    "\",\"telemetry.sdk.language\":\"c\",\"telemetry.sdk.version\":\"" OTEL_SDK_VERSION            \
    "\",\"deployment.environment\":\"production\"}"
#define T_START "\"start_time_unix_nano\":\"1760000000000000000\""
#define T_NOW "\"time_unix_nano\":\"1760000000000001000\""
#define MAX_LINES 16

/* ---- helpers ------------------------------------------------------------ */

static int setup(void **state)
{
    mf_fixture *f = mf_setup(false);
    assert_int_equal(otel_resource_set(f->res, "deployment.environment", "production"), OTEL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    cJSON_InitHooks(NULL);
    mf_teardown(*state);
    return 0;
}

/* Write f's provider with resource res at MF_T0 + 1 us; the return code in *rc, the points
 * counted in *n. The text written (heap, freed by the caller). */
static char *write_text(mf_fixture *f, const otel_resource *res, int *rc, size_t *n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    mf_clock_ns = MF_T0 + 1000;
    *n = 12345;
    *rc = otel_console_metrics_write(out, f->m, res, n);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* The lines of text (modified in place), each a JSON object; their count. */
static size_t lines_of(char *text, char **lines)
{
    size_t n = 0;
    for (char *p = text; *p != '\0';) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl); /* every line ends */
        *nl = '\0';
        assert_true(n < MAX_LINES);
        lines[n++] = p;
        p = nl + 1;
    }
    return n;
}

/* The only line written for f's provider, which must be want to the letter. */
static void assert_one_line(mf_fixture *f, const char *want)
{
    int rc;
    size_t n;
    char *text = write_text(f, f->res, &rc, &n);
    assert_int_equal(rc, OTEL_OK);
    assert_int_equal(n, 1);
    char *lines[MAX_LINES];
    assert_int_equal(lines_of(text, lines), 1);
    assert_string_equal(lines[0], want);
    cJSON *o = cJSON_Parse(lines[0]);
    assert_non_null(o);
    cJSON_Delete(o);
    free(text);
}

/* ---- points --------------------------------------------------------------- */

/* A counter: a monotonic cumulative sum, its attributes of every scalar type (sorted by key),
 * times as decimal strings (nanoseconds do not fit a double), the value, the resource. */
static void test_otel_console_metrics_write_counter(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c = NULL;
    assert_int_equal(otel_counter_new(f->m, &c, "requests", "Requests served.", "{request}"),
                     OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("route", "/a"), OTEL_KV_INT("code", 200), OTEL_KV_BOOL("ok", true),
                    OTEL_KV_DOUBLE("ratio", 0.5)};
    otel_counter_add(c, 3, kv, 4);
    otel_counter_add(c, 4, kv, 4);
    assert_one_line(f, "{\"metric\":{\"name\":\"requests\",\"description\":\"Requests served.\","
                       "\"unit\":\"{request}\",\"type\":\"sum\",\"temporality\":\"cumulative\","
                       "\"monotonic\":true},\"attributes\":{\"code\":200,\"ok\":true,\"ratio\":0.5,"
                       "\"route\":\"/a\"}," T_START "," T_NOW ",\"value\":7," RESOURCE "}");
}

/* A counter's sum over INT64_MAX is printed as the positive number it is,
 * not as the negative int64 its bits would read as. */
static void test_otel_console_metrics_write_counter_over_int64(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c = NULL;
    assert_int_equal(otel_counter_new(f->m, &c, "bytes", NULL, NULL), OTEL_OK);
    otel_counter_add(c, (uint64_t)INT64_MAX, NULL, 0);
    otel_counter_add(c, 4096, NULL, 0);
    int rc;
    size_t n;
    char *text = write_text(f, f->res, &rc, &n);
    assert_int_equal(rc, OTEL_OK);
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    assert_true(cJSON_GetObjectItem(o, "value")->valuedouble ==
                (double)((uint64_t)INT64_MAX + 4096));
    cJSON_Delete(o);
    free(text);
}

/* An up-down counter: a non-monotonic sum, here below zero. */
static void test_otel_console_metrics_write_updown_negative(void **state)
{
    mf_fixture *f = *state;
    otel_updown_counter *u = NULL;
    assert_int_equal(otel_updown_counter_new(f->m, &u, "inflight", "In flight.", "{request}"),
                     OTEL_OK);
    otel_updown_counter_add(u, 2, NULL, 0);
    otel_updown_counter_add(u, -5, NULL, 0);
    assert_one_line(f, "{\"metric\":{\"name\":\"inflight\",\"description\":\"In flight.\","
                       "\"unit\":\"{request}\",\"type\":\"sum\",\"temporality\":\"cumulative\","
                       "\"monotonic\":false},\"attributes\":{}," T_START "," T_NOW
                       ",\"value\":-3," RESOURCE "}");
}

/* A histogram: count, sum, min, max, one bucket count more than bounds, and the exemplar of a
 * sampled span with its ids in lowercase hex and its time; no monotonic flag. */
static void test_otel_console_metrics_write_histogram_exemplar(void **state)
{
    mf_fixture *f = *state;
    static const double bounds[] = {0.1, 1};
    otel_histogram *h = NULL;
    assert_int_equal(otel_histogram_new(f->m, &h, "latency", "Latency.", "s", bounds, 2), OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("route", "/b")};
    otel_span_context sampled = mf_span_ctx(1, true), unsampled = mf_span_ctx(2, false);
    mf_clock_ns = MF_T0 + 5;
    otel_histogram_record(h, 0.5, kv, 1, &sampled);
    otel_histogram_record(h, 2, kv, 1, &unsampled);
    assert_one_line(f, "{\"metric\":{\"name\":\"latency\",\"description\":\"Latency.\","
                       "\"unit\":\"s\",\"type\":\"histogram\",\"temporality\":\"cumulative\","
                       "\"monotonic\":null},\"attributes\":{\"route\":\"/b\"}," T_START "," T_NOW
                       ",\"count\":2,\"sum\":2.5,\"min\":0.5,\"max\":2,\"bucket_counts\":[0,1,1],"
                       "\"explicit_bounds\":[0.1,1],\"exemplars\":[{\"value\":0.5,"
                       "\"time_unix_nano\":\"1760000000000000005\","
                       "\"trace_id\":\"a1a2a3a4a5a6a7a8a9aaabacadaeafb0\","
                       "\"span_id\":\"1112131415161718\"}]," RESOURCE "}");
}

/* One line per point, instruments in creation order; without a resource the object is empty;
 * a string needing escapes stays on its line; a second write is cumulative again. */
static void test_otel_console_metrics_write_points_and_lines(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c = NULL;
    otel_histogram *h = NULL;
    assert_int_equal(otel_counter_new(f->m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(f->m, &h, "h", NULL, NULL, NULL, 0), OTEL_OK);
    otel_kv a = OTEL_KV_STR("k", "line\none \"quoted\""), b = OTEL_KV_STR("k", "b");
    otel_counter_add(c, 1, &a, 1);
    otel_counter_add(c, 2, &b, 1);
    otel_histogram_record(h, 0.2, &b, 1, NULL);
    for (int round = 1; round <= 2; round++) {
        int rc;
        size_t n;
        char *text = write_text(f, NULL, &rc, &n);
        assert_int_equal(rc, OTEL_OK);
        assert_int_equal(n, 3);
        assert_non_null(strstr(text, "\"k\":\"line\\none \\\"quoted\\\"\""));
        char *lines[MAX_LINES];
        assert_int_equal(lines_of(text, lines), 3);
        int64_t sum = 0;
        for (size_t i = 0; i < 3; i++) {
            cJSON *o = cJSON_Parse(lines[i]);
            assert_non_null(o);
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric");
            const char *name = cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;
            assert_string_equal(name, i < 2 ? "c" : "h");
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(m, "unit")->valuestring, "");
            const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "resource");
            assert_true(cJSON_IsObject(res));
            assert_null(res->child);
            if (i < 2)
                sum += (int64_t)cJSON_GetObjectItemCaseSensitive(o, "value")->valuedouble;
            else
                assert_int_equal(
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "bucket_counts")), 15);
            cJSON_Delete(o);
        }
        assert_int_equal(sum, 3 * round);
        free(text);
        otel_counter_add(c, 1, &a, 1);
        otel_counter_add(c, 2, &b, 1);
    }
}

/* No point: nothing written, 0 counted. */
static void test_otel_console_metrics_write_empty(void **state)
{
    mf_fixture *f = *state;
    otel_counter *c = NULL;
    assert_int_equal(otel_counter_new(f->m, &c, "never", NULL, NULL), OTEL_OK);
    int rc;
    size_t n;
    char *text = write_text(f, f->res, &rc, &n);
    assert_int_equal(rc, OTEL_OK);
    assert_int_equal(n, 0);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(otel_console_metrics_write(stdout, f->m, f->res, NULL), OTEL_OK);
}

/* ---- failures --------------------------------------------------------------- */

/* A device that is always full: the lines cannot be written, OTEL_ERR_IO. */
static void test_otel_console_metrics_write_dev_full(void **state)
{
    mf_fixture *f = *state;
    FILE *out = fopen("/dev/full", "w");
    if (out == NULL)
        skip();
    otel_counter *c = NULL;
    assert_int_equal(otel_counter_new(f->m, &c, "c", NULL, NULL), OTEL_OK);
    otel_counter_add(c, 1, NULL, 0);
    assert_int_equal(otel_console_metrics_write(out, f->m, f->res, NULL), OTEL_ERR_IO);
    /* More than a buffer's worth: the line writes themselves fail too. */
    for (int i = 0; i < 200; i++) {
        otel_kv kv = OTEL_KV_INT("i", i);
        otel_counter_add(c, 1, &kv, 1);
    }
    size_t n = 0;
    assert_int_equal(otel_console_metrics_write(out, f->m, f->res, &n), OTEL_ERR_IO);
    assert_true(n < 201);
    fclose(out);
}

static long cjson_calls, cjson_fail_only = -1;

/* cJSON's allocator: the cjson_fail_only-th allocation (from 0) fails, the others do not. */
static void *failing_malloc(size_t n)
{
    if (cjson_calls++ == cjson_fail_only)
        return NULL;
    return malloc(n);
}

static const char *const fields[] = {
    "metric", "attributes", "start_time_unix_nano", "time_unix_nano",  "count",     "sum",
    "min",    "max",        "bucket_counts",        "explicit_bounds", "exemplars", "resource"};

/* One cJSON allocation failing, each in turn: the write reports OTEL_ERR_NOMEM, or succeeds
 * with its line whole - never a line with fields missing. */
static void test_otel_console_metrics_write_nomem(void **state)
{
    mf_fixture *f = *state;
    otel_histogram *h = NULL;
    assert_int_equal(otel_histogram_new(f->m, &h, "h", "d", "s", NULL, 0), OTEL_OK);
    otel_kv kv[] = {OTEL_KV_STR("a", "1"), OTEL_KV_INT("b", 2)};
    otel_span_context sc = mf_span_ctx(3, true);
    otel_histogram_record(h, 0.2, kv, 2, &sc);
    cJSON_Hooks hooks = {.malloc_fn = failing_malloc, .free_fn = free};
    long k;
    for (k = 0; k < 1000; k++) {
        cJSON_InitHooks(&hooks);
        cjson_calls = 0;
        cjson_fail_only = k;
        int rc;
        size_t n;
        char *text = write_text(f, f->res, &rc, &n);
        bool none_failed = cjson_calls <= k; /* fewer allocations than k + 1 */
        cjson_fail_only = -1;
        cJSON_InitHooks(NULL);
        if (rc == OTEL_ERR_NOMEM) {
            free(text);
            continue;
        }
        assert_int_equal(rc, OTEL_OK);
        assert_int_equal(n, 1);
        cJSON *o = cJSON_Parse(text);
        assert_non_null(o);
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            if (cJSON_GetObjectItemCaseSensitive(o, fields[i]) == NULL)
                fail_msg("allocation %ld failing: a line without \"%s\"", k, fields[i]);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metric");
        assert_int_equal(cJSON_GetArraySize(m), 6);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "attributes")), 2);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "bucket_counts")),
                         15);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "explicit_bounds")),
                         14);
        const cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "exemplars"), 0);
        assert_non_null(ex);
        assert_int_equal(cJSON_GetArraySize(ex), 4);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "resource")), 5);
        cJSON_Delete(o);
        free(text);
        if (none_failed)
            break;
    }
    assert_true(k > 20 && k < 1000);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_otel_console_metrics_write_counter),
        T(test_otel_console_metrics_write_counter_over_int64),
        T(test_otel_console_metrics_write_updown_negative),
        T(test_otel_console_metrics_write_histogram_exemplar),
        T(test_otel_console_metrics_write_points_and_lines),
        T(test_otel_console_metrics_write_empty),
        T(test_otel_console_metrics_write_dev_full),
        T(test_otel_console_metrics_write_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
