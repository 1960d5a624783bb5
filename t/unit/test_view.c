/* test_view.c - tests of "mhd-otel view" (tools/view*.c, tools/duration.c): both input formats,
 * the tree from spans out of order, missing parents, cycles, filters, durations, the time bar,
 * colour, invalid lines, and the command as a whole. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/tool.h"

#define TRACE_A "4bf92f3577b34da6a3ce929d0e0e4736"
#define TRACE_B "0af7651916cd43dd8448eb211c80319c"
#define T0 1764021003000000000ULL
#define BLOCK "\xe2\x96\x88"

/* ---- helpers ------------------------------------------------------------- */

/* A console exporter line of trace, span, parent ("" for a root), name, start and end offsets
 * from T0 in microseconds, status, service, into buf. */
static const char *line(char *buf, size_t cap, const char *trace, const char *span,
                        const char *parent, const char *name, unsigned start_us, unsigned end_us,
                        const char *status, const char *service)
{
    snprintf(buf, cap,
             "{\"trace_id\":\"%s\",\"span_id\":\"%s\",\"parent_span_id\":\"%s\",\"name\":\"%s\","
             "\"kind\":\"server\",\"start_time_unix_nano\":%llu,\"end_time_unix_nano\":%llu,"
             "\"attributes\":{\"http.route\":\"/data\",\"http.response.status_code\":200,"
             "\"ok\":true},\"events\":[],\"status\":{\"code\":\"%s\",\"message\":\"\"},"
             "\"resource\":{\"service.name\":\"%s\"}}\n",
             trace, span, parent, name, T0 + start_us * 1000ULL, T0 + end_us * 1000ULL, status,
             service);
    return buf;
}

typedef struct fixture {
    char *text; /* the input built by add() */
    size_t len;
    FILE *in;
} fixture;

static void add(fixture *f, const char *trace, const char *span, const char *parent,
                const char *name, unsigned start_us, unsigned end_us, const char *status,
                const char *service)
{
    char buf[1024];
    if (f->in == NULL)
        f->in = open_memstream(&f->text, &f->len);
    fputs(line(buf, sizeof(buf), trace, span, parent, name, start_us, end_us, status, service),
          f->in);
}

static void add_raw(fixture *f, const char *text)
{
    if (f->in == NULL)
        f->in = open_memstream(&f->text, &f->len);
    fputs(text, f->in);
}

/* The traces of input rendered with o (NULL: width 80, no colour), in start order; heap text. */
static char *render_text(const char *input, const mhd_otel_tool_render *o, size_t *bad,
                         char **warnings)
{
    mhd_otel_tool_render def = {.width = 80};
    if (o == NULL)
        o = &def;
    mhd_otel_tool_store *s = mhd_otel_tool_store_new(o->attrs, NULL, 0, 0, NULL, NULL);
    assert_non_null(s);
    char *wtext = NULL, *out = NULL;
    size_t wlen = 0, olen = 0;
    FILE *w = open_memstream(&wtext, &wlen), *of = open_memstream(&out, &olen);
    mhd_otel_tool_reader r;
    mhd_otel_tool_reader_init(&r, s, "in", w);
    assert_int_equal(mhd_otel_tool_reader_feed(&r, input, strlen(input), 0), 0);
    size_t nbad = r.bad;
    assert_int_equal(mhd_otel_tool_reader_finish(&r, 0), 0);
    nbad = r.bad > nbad ? r.bad : nbad;
    mhd_otel_tool_trace **v;
    size_t n;
    assert_int_equal(mhd_otel_tool_store_take(s, 0, 0, true, &v, &n), 0);
    mhd_otel_tool_traces_sort(v, n);
    for (size_t i = 0; i < n; i++) {
        if (mhd_otel_tool_trace_matches(v[i], o))
            assert_int_equal(mhd_otel_tool_render_trace(v[i], o, of), 0);
        mhd_otel_tool_trace_del(v[i]);
    }
    free(v);
    mhd_otel_tool_store_del(s);
    fclose(w);
    fclose(of);
    if (bad != NULL)
        *bad = nbad;
    if (warnings != NULL)
        *warnings = wtext;
    else
        free(wtext);
    return out;
}

static char *fixture_render(fixture *f, const mhd_otel_tool_render *o)
{
    fclose(f->in);
    f->in = NULL;
    char *out = render_text(f->text, o, NULL, NULL);
    free(f->text);
    f->text = NULL;
    return out;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + strlen(needle), needle))
        n++;
    return n;
}

/* c0 spaces then blocks up to cell c1, into buf. */
static const char *bar(char *buf, size_t c0, size_t c1)
{
    size_t n = 0;
    for (size_t i = 0; i < c1; i++) {
        const char *cell = i < c0 ? " " : BLOCK;
        memcpy(buf + n, cell, strlen(cell));
        n += strlen(cell);
    }
    buf[n] = '\0';
    return buf;
}

/* Columns of UTF-8 text s: one per character. */
static size_t cols_of(const char *s)
{
    size_t c = 0;
    for (; *s != '\0'; s++)
        c += ((unsigned char)*s & 0xc0) != 0x80;
    return c;
}

/* The line of text holding needle (a static copy, without its newline). */
static const char *line_with(const char *text, const char *needle)
{
    static char buf[1024];
    const char *p = strstr(text, needle);
    if (p == NULL)
        fail_msg("no line with \"%s\" in:\n%s", needle, text);
    while (p > text && p[-1] != '\n')
        p--;
    size_t n = strcspn(p, "\n");
    snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
    return buf;
}

/* ---- durations ----------------------------------------------------------- */

static void test_mhd_otel_tool_duration_parse_units(void **state)
{
    (void)state;
    uint64_t ns = 0;
    assert_int_equal(mhd_otel_tool_duration_parse("500us", &ns), 0);
    assert_int_equal(ns, 500000);
    assert_int_equal(mhd_otel_tool_duration_parse("250ms", &ns), 0);
    assert_int_equal(ns, 250000000);
    assert_int_equal(mhd_otel_tool_duration_parse("2s", &ns), 0);
    assert_int_equal(ns, 2000000000ULL);
    assert_int_equal(mhd_otel_tool_duration_parse("1.5s", &ns), 0);
    assert_int_equal(ns, 1500000000ULL);
    assert_int_equal(mhd_otel_tool_duration_parse("40", &ns), 0); /* plain: ms */
    assert_int_equal(ns, 40000000);
    assert_int_equal(mhd_otel_tool_duration_parse("3\xc2\xb5s", &ns), 0);
    assert_int_equal(ns, 3000);
    assert_int_equal(mhd_otel_tool_duration_parse("", &ns), -1);
    assert_int_equal(mhd_otel_tool_duration_parse("5 s", &ns), -1);
    assert_int_equal(mhd_otel_tool_duration_parse("-1ms", &ns), -1);
    assert_int_equal(mhd_otel_tool_duration_parse("2x", &ns), -1);
    assert_int_equal(mhd_otel_tool_duration_parse("99999999999999999999s", &ns), -1);
}

static void test_mhd_otel_tool_duration_format_units(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(mhd_otel_tool_duration_format(850, b, sizeof(b)), "850ns");
    assert_string_equal(mhd_otel_tool_duration_format(12345, b, sizeof(b)), "12.3\xc2\xb5s");
    assert_string_equal(mhd_otel_tool_duration_format(4560000, b, sizeof(b)), "4.56ms");
    assert_string_equal(mhd_otel_tool_duration_format(250000000, b, sizeof(b)), "250ms");
    assert_string_equal(mhd_otel_tool_duration_format(1200000000, b, sizeof(b)), "1.20s");
    assert_string_equal(mhd_otel_tool_duration_format(123000000000ULL, b, sizeof(b)), "2m03s");
}

/* ---- parsing ------------------------------------------------------------- */

static void test_mhd_otel_tool_parse_record_console_exact_times(void **state)
{
    (void)state;
    mhd_otel_tool_store *s = mhd_otel_tool_store_new(true, NULL, 0, 0, NULL, NULL);
    const char *text = "{\"trace_id\":\"" TRACE_A "\",\"span_id\":\"5fb397be34d26b51\","
                       "\"parent_span_id\":\"\",\"name\":\"GET /a\",\"kind\":\"server\","
                       "\"start_time_unix_nano\":1764021003123456789,"
                       "\"end_time_unix_nano\":1764021003123601234,\"attributes\":{\"n\":-5,"
                       "\"d\":1.5,\"a\":[\"x\",\"y\"]},\"status\":{\"code\":\"error\"},"
                       "\"resource\":{\"service.name\":\"svc\"}}";
    char why[128];
    bool standalone = false;
    assert_int_equal(
        mhd_otel_tool_parse_record(s, text, strlen(text), 7, &standalone, why, sizeof(why)), 1);
    assert_true(standalone);
    mhd_otel_tool_trace **v;
    size_t n;
    assert_int_equal(mhd_otel_tool_store_take(s, 0, 0, true, &v, &n), 0);
    assert_int_equal(n, 1);
    const mhd_otel_tool_span *sp = &v[0]->spans[0];
    assert_int_equal(v[0]->hi, 0x4bf92f3577b34da6ULL);
    assert_int_equal(sp->span_id, 0x5fb397be34d26b51ULL);
    assert_int_equal(sp->parent_id, 0);
    assert_int_equal(sp->start, 1764021003123456789ULL);
    assert_int_equal(sp->end, 1764021003123601234ULL);
    assert_true(sp->error);
    assert_string_equal(sp->service, "svc");
    assert_int_equal(sp->n_attrs, 3);
    assert_string_equal(sp->attrs[0].value, "-5");
    assert_string_equal(sp->attrs[1].value, "1.5");
    assert_string_equal(sp->attrs[2].value, "[\"x\",\"y\"]");
    mhd_otel_tool_trace_del(v[0]);
    free(v);
    mhd_otel_tool_store_del(s);
}

#define OTLP_REQ                                                                                   \
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"      \
    "{\"stringValue\":\"otlp-svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"x\"},\"spans\":["    \
    "{\"traceId\":\"" TRACE_B "\",\"spanId\":\"b7ad6b7169203331\",\"parentSpanId\":\"\","          \
    "\"name\":\"root\",\"kind\":2,\"startTimeUnixNano\":\"1764021003000000001\","                  \
    "\"endTimeUnixNano\":\"1764021003010000001\",\"attributes\":[{\"key\":\"k\",\"value\":"        \
    "{\"intValue\":\"42\"}}],\"status\":{}},"                                                      \
    "{\"traceId\":\"" TRACE_B "\",\"spanId\":\"00f067aa0ba902b7\",\"parentSpanId\":"               \
    "\"b7ad6b7169203331\",\"name\":\"child\",\"kind\":1,"                                          \
    "\"startTimeUnixNano\":\"1764021003001000001\",\"endTimeUnixNano\":\"1764021003002000001\","   \
    "\"status\":{\"code\":2,\"message\":\"boom\"}}]}]}]}"

static void test_mhd_otel_tool_parse_record_otlp(void **state)
{
    (void)state;
    mhd_otel_tool_render o = {.width = 80, .attrs = true};
    char *out = render_text(OTLP_REQ "\n", &o, NULL, NULL);
    assert_non_null(strstr(out, "trace " TRACE_B "  otlp-svc  2 spans  10.0ms  1 error\n"));
    assert_non_null(strstr(line_with(out, "root"), "root [otlp-svc]"));
    assert_non_null(strstr(out, "\n\xe2\x94\x82   k=42\n"));
    assert_non_null(strstr(line_with(out, "child"), "ERROR"));
    assert_null(strstr(line_with(out, "child"), "otlp-svc")); /* the parent's service */
    free(out);
}

/* An OTLP request written over several lines (as a whole file). */
static void test_mhd_otel_tool_reader_otlp_whole_file(void **state)
{
    (void)state;
    const char *pretty =
        "{\n  \"resourceSpans\": [\n    {\n      \"resource\": {\"attributes\": []},\n"
        "      \"scopeSpans\": [{\"spans\": [\n        {\"traceId\": \"" TRACE_B "\",\n"
        "         \"spanId\": \"b7ad6b7169203331\",\n         \"name\": \"root\",\n"
        "         \"startTimeUnixNano\": \"1764021003000000001\",\n"
        "         \"endTimeUnixNano\": \"1764021003010000001\"\n        }\n"
        "      ]}]\n    }\n  ]\n}\n";
    size_t bad = 99;
    char *out = render_text(pretty, NULL, &bad, NULL);
    assert_int_equal(bad, 0);
    assert_non_null(strstr(out, "trace " TRACE_B "  1 span  10.0ms\n"));
    free(out);
}

static void test_mhd_otel_tool_reader_bad_lines_counted(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "", "root", 0, 1000, "unset", "s");
    for (int i = 0; i < 12; i++)
        add_raw(&f, i % 3 == 0   ? "not json\n"
                    : i % 3 == 1 ? "{\"trace_id\":\"xyz\"}\n"
                                 : "[1,2]\n");
    add_raw(&f, "{\"trace_id\":\"" TRACE_A "\",\"span_id\""); /* cut short, at the end */
    fclose(f.in);
    size_t bad = 0;
    char *warnings = NULL;
    char *out = render_text(f.text, NULL, &bad, &warnings);
    assert_int_equal(bad, 13);
    assert_int_equal(count(warnings, "skipped"), MHD_OTEL_TOOL_WARN_MAX);
    assert_non_null(strstr(warnings, "in:2: skipped: not JSON\n"));
    assert_non_null(strstr(warnings, "in:3: skipped: invalid trace_id\n"));
    assert_non_null(strstr(warnings, "13 invalid lines in all (3 more not shown)\n"));
    assert_non_null(strstr(out, "1 span"));
    free(out);
    free(warnings);
    free(f.text);
}

/* Metric data point lines share the console's output with the spans: skipped, not counted as
 * invalid. */
static void test_mhd_otel_tool_reader_metric_lines_skipped(void **state)
{
    (void)state;
    fixture f = {0};
    add_raw(&f, "{\"metric\":{\"name\":\"http.server.active_requests\",\"type\":\"sum\"},"
                "\"attributes\":{},\"value\":0}\n");
    add(&f, TRACE_A, "1111111111111111", "", "root", 0, 1000, "unset", "s");
    add_raw(&f, "{\"resourceMetrics\":[]}\n");
    add_raw(&f, "{\"metric\":\"not an instrument\"}\n");
    fclose(f.in);
    size_t bad = 0;
    char *warnings = NULL;
    char *out = render_text(f.text, NULL, &bad, &warnings);
    assert_int_equal(bad, 1); /* the last: "metric" is no instrument */
    assert_non_null(strstr(out, "1 span"));
    free(out);
    free(warnings);
    free(f.text);
}

/* A line cut short inside an object over several lines does not swallow the spans after it. */
static void test_mhd_otel_tool_reader_cut_line_then_spans(void **state)
{
    (void)state;
    char buf[1024];
    fixture f = {0};
    add_raw(&f, "{\"trace_id\":\"" TRACE_A "\",\"span_id\":\"11\n");
    add(&f, TRACE_A, "1111111111111111", "", "root", 0, 1000, "unset", "s");
    add_raw(&f, line(buf, sizeof(buf), TRACE_A, "2222222222222222", "1111111111111111", "kid", 10,
                     20, "unset", "s"));
    fclose(f.in);
    size_t bad = 0;
    char *out = render_text(f.text, NULL, &bad, NULL);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(out, "2 spans"));
    free(out);
    free(f.text);
}

/* ---- the tree ------------------------------------------------------------ */

static void test_mhd_otel_tool_render_out_of_order(void **state)
{
    (void)state;
    fixture f = {0};
    /* children first, the root last, the later child before the earlier one */
    add(&f, TRACE_A, "3333333333333333", "1111111111111111", "process-data", 6000, 9000, "unset",
        "demo");
    add(&f, TRACE_A, "4444444444444444", "2222222222222222", "query", 1500, 4000, "unset", "db");
    add(&f, TRACE_A, "2222222222222222", "1111111111111111", "fetch-user-data", 1000, 6000, "unset",
        "demo");
    add(&f, TRACE_A, "1111111111111111", "", "GET /data", 0, 10000, "unset", "demo");
    char *out = fixture_render(&f, NULL);
    /* width 80: a bar of 26 cells, the left part 38 columns */
    char expect[2048], b1[256], b2[256], b3[256], b4[256];
    snprintf(expect, sizeof(expect),
             "trace " TRACE_A "  demo, db  4 spans  10.0ms\n"
             "GET /data [demo]                         10.0ms       %s\n"
             "\xe2\x94\x9c\xe2\x94\x80 fetch-user-data                       5.00ms       %s\n"
             "\xe2\x94\x82  \xe2\x94\x94\xe2\x94\x80 query [db]                         2.50ms     "
             "  %s\n"
             "\xe2\x94\x94\xe2\x94\x80 process-data                          3.00ms       %s\n"
             "\n",
             bar(b1, 0, 26), bar(b2, 2, 16), bar(b3, 3, 11), bar(b4, 15, 24));
    assert_string_equal(out, expect);
    free(out);
}

static void test_mhd_otel_tool_render_missing_parent_and_roots(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "", "root-one", 0, 1000, "unset", "s");
    add(&f, TRACE_A, "2222222222222222", "", "root-two", 2000, 3000, "unset", "s");
    add(&f, TRACE_A, "3333333333333333", "9999999999999999", "orphan", 500, 800, "unset", "s");
    add(&f, TRACE_A, "4444444444444444", "3333333333333333", "orphan-kid", 600, 700, "unset", "s");
    char *out = fixture_render(&f, NULL);
    const char *one = strstr(out, "root-one"),
               *miss = strstr(out, "(missing parent 9999999999999999)\n"),
               *orphan = strstr(out, "\xe2\x94\x94\xe2\x94\x80 orphan [s]"),
               *kid = strstr(out, "   \xe2\x94\x94\xe2\x94\x80 orphan-kid"),
               *two = strstr(out, "root-two");
    assert_non_null(one);
    assert_non_null(miss);
    assert_non_null(orphan);
    assert_non_null(kid);
    assert_non_null(two);
    assert_true(one < miss && miss < orphan && orphan < kid && kid < two);
    assert_non_null(strstr(out, "4 spans"));
    free(out);
}

static void test_mhd_otel_tool_render_cycle(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "2222222222222222", "a", 0, 1000, "unset", "s");
    add(&f, TRACE_A, "2222222222222222", "1111111111111111", "b", 100, 900, "unset", "s");
    add(&f, TRACE_A, "3333333333333333", "3333333333333333", "self", 200, 300, "unset", "s");
    char *out = fixture_render(&f, NULL);
    assert_int_equal(count(out, "(parent cycle at "), 2);
    assert_int_equal(count(out, " a "), 1);
    assert_int_equal(count(out, " b "), 1);
    assert_int_equal(count(out, " self "), 1);
    free(out);
}

/* ---- the bar, colour, attributes ----------------------------------------- */

static void test_mhd_otel_tool_render_bar_half(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "", "root", 0, 10000, "unset", "s");
    add(&f, TRACE_A, "2222222222222222", "1111111111111111", "first-half", 0, 5000, "unset", "s");
    add(&f, TRACE_A, "3333333333333333", "1111111111111111", "second-half", 5000, 10000, "unset",
        "s");
    mhd_otel_tool_render o = {.width = 120};
    char *out = fixture_render(&f, &o);
    size_t bar = 120 / 3;
    assert_int_equal(count(line_with(out, "root"), BLOCK), bar);
    assert_int_equal(count(line_with(out, "first-half"), BLOCK), bar / 2);
    const char *second = line_with(out, "second-half");
    assert_int_equal(count(second, BLOCK), bar / 2);
    /* the second half's bar ends where the root's does: at the end of the line */
    assert_int_equal(cols_of(second), 120);
    free(out);
}

static void test_mhd_otel_tool_render_color(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "", "root", 0, 10000, "error", "s");
    char *text = NULL;
    fclose(f.in);
    f.in = NULL;
    mhd_otel_tool_render never = {.width = 80}, always = {.width = 80, .color = true};
    text = render_text(f.text, &never, NULL, NULL);
    assert_null(strchr(text, '\033'));
    assert_non_null(strstr(text, "ERROR"));
    free(text);
    text = render_text(f.text, &always, NULL, NULL);
    assert_non_null(strstr(text, "\033[31m\033[1mERROR\033[0m"));
    free(text);
    free(f.text);
}

static void test_mhd_otel_tool_render_attrs(void **state)
{
    (void)state;
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "", "root", 0, 10000, "unset", "s");
    add(&f, TRACE_A, "2222222222222222", "1111111111111111", "kid", 0, 5000, "unset", "s");
    fclose(f.in);
    static const char *const keys[] = {"http.response.status_code"};
    mhd_otel_tool_store *s = mhd_otel_tool_store_new(false, keys, 1, 0, NULL, NULL);
    mhd_otel_tool_reader r;
    mhd_otel_tool_reader_init(&r, s, "in", NULL);
    assert_int_equal(mhd_otel_tool_reader_feed(&r, f.text, strlen(f.text), 0), 0);
    assert_int_equal(mhd_otel_tool_reader_finish(&r, 0), 0);
    mhd_otel_tool_trace **v;
    size_t n;
    assert_int_equal(mhd_otel_tool_store_take(s, 0, 0, true, &v, &n), 0);
    char *out = NULL;
    size_t len = 0;
    FILE *of = open_memstream(&out, &len);
    mhd_otel_tool_render o = {.width = 80, .attrs = true};
    assert_int_equal(mhd_otel_tool_render_trace(v[0], &o, of), 0);
    fclose(of);
    assert_non_null(strstr(out, "\n\xe2\x94\x82   http.response.status_code=200\n"));
    assert_non_null(strstr(out, "\n       http.response.status_code=200\n"));
    assert_null(strstr(out, "http.route"));
    free(out);
    mhd_otel_tool_trace_del(v[0]);
    free(v);
    mhd_otel_tool_store_del(s);
    free(f.text);
}

/* ---- filters ------------------------------------------------------------- */

static char *two_traces(void)
{
    fixture f = {0};
    add(&f, TRACE_A, "1111111111111111", "", "slow-ok", 0, 300000, "unset", "alpha");
    add(&f, TRACE_B, "2222222222222222", "", "fast-error", 1000, 2000, "unset", "beta");
    add(&f, TRACE_B, "3333333333333333", "2222222222222222", "kid", 1100, 1200, "error", "gamma");
    fclose(f.in);
    return f.text;
}

static void test_mhd_otel_tool_trace_matches_filters(void **state)
{
    (void)state;
    char *in = two_traces();
    mhd_otel_tool_render o = {.width = 80};
    char *out = render_text(in, &o, NULL, NULL);
    assert_true(strstr(out, "slow-ok") < strstr(out, "fast-error")); /* start order */
    free(out);
    o.errors = true;
    out = render_text(in, &o, NULL, NULL);
    assert_null(strstr(out, "slow-ok"));
    assert_non_null(strstr(out, "fast-error"));
    free(out);
    o = (mhd_otel_tool_render){.width = 80, .min_duration = 250000000ULL};
    out = render_text(in, &o, NULL, NULL);
    assert_non_null(strstr(out, "slow-ok"));
    assert_null(strstr(out, "fast-error"));
    free(out);
    o = (mhd_otel_tool_render){.width = 80, .service = "gamma"};
    out = render_text(in, &o, NULL, NULL);
    assert_null(strstr(out, "slow-ok"));
    assert_non_null(strstr(out, "fast-error"));
    free(out);
    o = (mhd_otel_tool_render){.width = 80, .trace = TRACE_A};
    out = render_text(in, &o, NULL, NULL);
    assert_non_null(strstr(out, "slow-ok"));
    assert_null(strstr(out, "fast-error"));
    free(out);
    free(in);
}

/* ---- the store ----------------------------------------------------------- */

static void test_mhd_otel_tool_store_take_settled(void **state)
{
    (void)state;
    mhd_otel_tool_store *s = mhd_otel_tool_store_new(false, NULL, 0, 0, NULL, NULL);
    mhd_otel_tool_span_in a = {.hi = 1, .lo = 1, .span_id = 1, .name = "root"};
    mhd_otel_tool_span_in b = {.hi = 2, .lo = 2, .span_id = 2, .parent_id = 9, .name = "kid"};
    assert_non_null(mhd_otel_tool_store_add(s, &a, 1000));
    assert_non_null(mhd_otel_tool_store_add(s, &b, 1000));
    mhd_otel_tool_trace **v;
    size_t n;
    assert_int_equal(mhd_otel_tool_store_take(s, 1500, 1000, false, &v, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(mhd_otel_tool_store_take(s, 2000, 1000, false, &v, &n), 0);
    assert_int_equal(n, 1); /* the root's trace; the other has no root yet */
    assert_int_equal(v[0]->hi, 1);
    mhd_otel_tool_trace_del(v[0]);
    free(v);
    assert_int_equal(mhd_otel_tool_store_traces(s), 1);
    mhd_otel_tool_store_del(s);
}

static size_t evicted;

static void count_evicted(void *ud, mhd_otel_tool_trace *t)
{
    (void)ud;
    assert_int_equal(t->hi, evicted + 1); /* oldest first */
    evicted++;
}

static void test_mhd_otel_tool_store_evicts_oldest(void **state)
{
    (void)state;
    evicted = 0;
    mhd_otel_tool_store *s = mhd_otel_tool_store_new(false, NULL, 0, 100, count_evicted, NULL);
    for (uint64_t i = 1; i <= 1000; i++) {
        mhd_otel_tool_span_in in = {.hi = i, .lo = 1, .span_id = 1, .name = "x"};
        assert_non_null(mhd_otel_tool_store_add(s, &in, 0));
    }
    assert_int_equal(evicted, 900);
    assert_int_equal(mhd_otel_tool_store_traces(s), 100);
    assert_int_equal(mhd_otel_tool_store_spans(s), 1000);
    mhd_otel_tool_store_del(s);
}

/* ---- the command --------------------------------------------------------- */

/* mhd_otel_tool_view with args (NULL-terminated); its stdout and stderr into *out and *err. */
static int run_view(const char *const *args, char **out, char **err)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"view";
    for (; args[argc - 1] != NULL && argc < 31; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    size_t ol = 0, el = 0;
    FILE *o = open_memstream(out, &ol), *e = open_memstream(err, &el);
    int rc = mhd_otel_tool_view(argc, argv, o, e);
    fclose(o);
    fclose(e);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_mhd_otel_tool_view_command(void **state)
{
    (void)state;
    char path[] = "/tmp/test_view.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char *in = two_traces();
    write_file(path, in);
    free(in);
    char *out, *err;
    assert_int_equal(run_view((const char *[]){"--color", "never", "--width=90", "--errors",
                                               "--attr", "http.route", path, NULL},
                              &out, &err),
                     0);
    assert_null(strstr(out, "slow-ok"));
    assert_non_null(strstr(out, "fast-error"));
    assert_non_null(strstr(out, "http.route=/data\n"));
    assert_null(strchr(out, '\033'));
    free(out);
    free(err);
    /* a filter that keeps nothing: still exit 0, spans were read */
    assert_int_equal(run_view((const char *[]){"--min-duration", "10s", path, NULL}, &out, &err),
                     0);
    assert_string_equal(out, "");
    free(out);
    free(err);
    write_file(path, "garbage\n");
    assert_int_equal(run_view((const char *[]){path, NULL}, &out, &err), 1);
    assert_non_null(strstr(err, "no valid span"));
    free(out);
    free(err);
    assert_int_equal(run_view((const char *[]){"--bogus", NULL}, &out, &err), 2);
    free(out);
    free(err);
    assert_int_equal(run_view((const char *[]){"--min-duration", "soon", NULL}, &out, &err), 2);
    free(out);
    free(err);
    assert_int_equal(run_view((const char *[]){"--trace", "abc", NULL}, &out, &err), 2);
    free(out);
    free(err);
    assert_int_equal(run_view((const char *[]){"--help", NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "usage: mhd-otel view"));
    free(out);
    free(err);
    unlink(path);
}

/* -f on a pipe: every trace is printed once the pipe ends, whatever the settle time. */
static void test_mhd_otel_tool_view_follow_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    char *in = two_traces();
    assert_int_equal(write(p[1], in, strlen(in)), (ssize_t)strlen(in));
    close(p[1]);
    free(in);
    char dev[64];
    snprintf(dev, sizeof(dev), "/dev/fd/%d", p[0]);
    char *out, *err;
    assert_int_equal(run_view((const char *[]){"-f", "--settle", "1h", dev, NULL}, &out, &err), 0);
    assert_non_null(strstr(out, "slow-ok"));
    assert_non_null(strstr(out, "fast-error"));
    free(out);
    free(err);
    close(p[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mhd_otel_tool_duration_parse_units),
        cmocka_unit_test(test_mhd_otel_tool_duration_format_units),
        cmocka_unit_test(test_mhd_otel_tool_parse_record_console_exact_times),
        cmocka_unit_test(test_mhd_otel_tool_parse_record_otlp),
        cmocka_unit_test(test_mhd_otel_tool_reader_otlp_whole_file),
        cmocka_unit_test(test_mhd_otel_tool_reader_bad_lines_counted),
        cmocka_unit_test(test_mhd_otel_tool_reader_metric_lines_skipped),
        cmocka_unit_test(test_mhd_otel_tool_reader_cut_line_then_spans),
        cmocka_unit_test(test_mhd_otel_tool_render_out_of_order),
        cmocka_unit_test(test_mhd_otel_tool_render_missing_parent_and_roots),
        cmocka_unit_test(test_mhd_otel_tool_render_cycle),
        cmocka_unit_test(test_mhd_otel_tool_render_bar_half),
        cmocka_unit_test(test_mhd_otel_tool_render_color),
        cmocka_unit_test(test_mhd_otel_tool_render_attrs),
        cmocka_unit_test(test_mhd_otel_tool_trace_matches_filters),
        cmocka_unit_test(test_mhd_otel_tool_store_take_settled),
        cmocka_unit_test(test_mhd_otel_tool_store_evicts_oldest),
        cmocka_unit_test(test_mhd_otel_tool_view_command),
        cmocka_unit_test(test_mhd_otel_tool_view_follow_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
