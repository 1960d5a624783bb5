/* test_it_demo.c - integration tests: the real demo server driven by curl,
 * its spans read back from the console exporter's JSON lines. */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "../lib/itest.h"

#define PARENT_TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_SPAN_ID "00f067aa0ba902b7"
#define TRACEPARENT_SAMPLED "traceparent: 00-" PARENT_TRACE_ID "-" PARENT_SPAN_ID "-01"
#define TRACEPARENT_UNSAMPLED "traceparent: 00-" PARENT_TRACE_ID "-" PARENT_SPAN_ID "-00"

/* The config every test starts from (the helper adds the exporter and the
 * batch settings). */
#define BASE_CONF                                                                                  \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-demo;\n"                                                              \
    "otel_skip_path /health;\n"                                                                    \
    "otel_route /hello/{name};\n"                                                                  \
    "otel_route /hello;\n"                                                                         \
    "otel_route /data;\n"                                                                          \
    "otel_route /error;\n"

/* ---- fixtures and checks -------------------------------------------------- */

static int setup(void **state)
{
    itest_server *s = calloc(1, sizeof(*s));

    if (s == NULL || itest_server_init(s) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    itest_server *s = *state;

    itest_server_cleanup(s);
    free(s);
    return 0;
}

/* Start the server with conf or fail the test, showing why. */
static void start_ok(itest_server *s, const char *conf)
{
    if (itest_server_start(s, conf) == 0)
        return;
    (void)itest_server_reap(s, 2000);
    fail_msg("%s did not print its listening line within 5 s (exit status %d)\n"
             "stdout: %s\nstderr: %s",
             itest_server_binary(), s->exit_status, s->out_text ? s->out_text : "",
             s->err_text ? s->err_text : "");
}

/* SIGTERM the server; it must exit 0 within 10 s. Its whole stderr is
 * shown on failure (cmocka cuts long messages). */
static void stop_ok(itest_server *s)
{
    if (itest_server_stop(s) == 0)
        return;
    fprintf(stderr, "---- demo server stderr ----\n%s----\n", s->err_text ? s->err_text : "");
    fail_msg("demo server did not exit cleanly on SIGTERM (wait status 0x%x)",
             (unsigned int)s->exit_status);
}

/* GET path with optional extra curl arguments; returns the HTTP status, the
 * body copied into body (bodylen bytes) when body is not NULL. */
static int get_full(itest_server *s, const char *path, const char *const *extra, char *body,
                    size_t bodylen)
{
    itest_response r;

    if (itest_curl(s, path, extra, &r) != 0)
        fail_msg("could not run curl for %s", path);
    if (body != NULL)
        snprintf(body, bodylen, "%s", r.body);
    itest_response_free(&r);
    return r.status;
}

static int get(itest_server *s, const char *path)
{
    return get_full(s, path, NULL, NULL, 0);
}

static int get_with_header(itest_server *s, const char *path, const char *header)
{
    const char *extra[] = {"-H", header, NULL};

    return get_full(s, path, extra, NULL, 0);
}

/* Read the spans file into sp; any line that is not a JSON object or not
 * UTF-8 fails the test. */
static void read_spans(itest_server *s, itest_spans *sp)
{
    char why[256];

    if (itest_spans_read(s->spans_path, sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", s->spans_path, why);
}

/* The span with attribute url.path == path; fails the test when absent. */
static const cJSON *span_for_path(const itest_spans *sp, const char *path)
{
    const cJSON *span = itest_spans_find_attr(sp, "url.path", path);

    if (span == NULL)
        fail_msg("no span with url.path %s among %zu spans", path, sp->n);
    return span;
}

static void assert_attr_str(const cJSON *span, const char *key, const char *want)
{
    const char *got = itest_span_attr_str(span, key);

    if (got == NULL)
        fail_msg("attribute %s missing (want \"%s\")", key, want);
    assert_string_equal(got, want);
}

static int64_t attr_int(const cJSON *span, const char *key)
{
    int64_t v = 0;

    if (!itest_span_attr_int(span, key, &v))
        fail_msg("attribute %s missing or not an integer", key);
    return v;
}

static size_t count_kind(const itest_spans *sp, const char *kind)
{
    size_t n = 0;

    for (size_t i = 0; i < sp->n; i++) {
        const char *k = itest_span_str(sp->v[i], "kind");
        if (k != NULL && strcmp(k, kind) == 0)
            n++;
    }
    return n;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_span_count_mixed_requests(void **state)
{
    itest_server *s = *state;
    static const char *const paths[] = {"/hello/Alice", "/hello", "/data",   "/error",
                                        "/health",      "/nope",  "/health", "/hello/Bob",
                                        "/data/x",      "/error"};
    static const int want[] = {200, 200, 200, 500, 200, 404, 200, 200, 404, 500};
    itest_spans sp;

    start_ok(s, BASE_CONF);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_int_equal(get(s, paths[i]), want[i]);
    stop_ok(s);
    read_spans(s, &sp);
    /* 8 traced requests (two /health skipped), plus the 2 children of /data. */
    assert_int_equal(count_kind(&sp, "server"), 8);
    assert_int_equal(sp.n, 10);
    assert_non_null(strstr(s->err_text, "demo-server: spans ended=10 exported=10 dropped=0"));
    itest_spans_free(&sp);
}

static void test_hello_span_attributes(void **state)
{
    itest_server *s = *state;
    const cJSON *span;
    const char *ua;
    char body[64];
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/hello/Alice", NULL, body, sizeof(body)), 200);
    assert_string_equal(body, "Hello, Alice!");
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    span = sp.v[0];
    assert_string_equal(itest_span_str(span, "name"), "GET /hello/{name}");
    assert_string_equal(itest_span_str(span, "kind"), "server");
    assert_string_equal(itest_span_str(span, "parent_span_id"), "");
    assert_true(itest_is_hex_id(itest_span_str(span, "trace_id"), 32));
    assert_true(itest_is_hex_id(itest_span_str(span, "span_id"), 16));
    assert_true(itest_span_start(span) > 0);
    assert_true(itest_span_start(span) <= itest_span_end(span));
    assert_string_equal(itest_span_status(span), "unset");

    assert_attr_str(span, "http.request.method", "GET");
    assert_attr_str(span, "url.path", "/hello/Alice");
    assert_attr_str(span, "url.scheme", "http");
    assert_attr_str(span, "http.route", "/hello/{name}");
    assert_attr_str(span, "server.address", "127.0.0.1");
    assert_int_equal(attr_int(span, "server.port"), s->port);
    assert_attr_str(span, "client.address", "127.0.0.1");
    assert_in_range(attr_int(span, "client.port"), 1, 65535);
    assert_attr_str(span, "network.protocol.version", "1.1");
    ua = itest_span_attr_str(span, "user_agent.original");
    assert_non_null(ua);
    assert_int_equal(strncmp(ua, "curl/", 5), 0);
    assert_int_equal(attr_int(span, "http.response.status_code"), 200);
    assert_attr_str(span, "user.name", "Alice");
    assert_attr_str(span, "endpoint.type", "greeting");
    assert_null(itest_span_attr(span, "url.query"));
    assert_null(itest_span_attr(span, "error.type"));

    assert_string_equal(itest_span_resource_str(span, "service.name"), "itest-demo");
    assert_string_equal(itest_span_resource_str(span, "telemetry.sdk.language"), "c");
    assert_string_equal(itest_span_resource_str(span, "telemetry.sdk.name"), "mhd-otel");
    assert_non_null(itest_span_resource_str(span, "telemetry.sdk.version"));
    itest_spans_free(&sp);
}

static void test_hello_default_name(void **state)
{
    itest_server *s = *state;
    char body[64];
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/hello", NULL, body, sizeof(body)), 200);
    assert_string_equal(body, "Hello, World!");
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    assert_attr_str(sp.v[0], "user.name", "World");
    assert_attr_str(sp.v[0], "http.route", "/hello");
    assert_string_equal(itest_span_str(sp.v[0], "name"), "GET /hello");
    itest_spans_free(&sp);
}

static void test_url_query_present_and_absent(void **state)
{
    itest_server *s = *state;
    const cJSON *with;
    const cJSON *without;
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get(s, "/hello/x?a=1&b=2"), 200);
    assert_int_equal(get(s, "/hello/y"), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 2);
    with = span_for_path(&sp, "/hello/x");
    without = span_for_path(&sp, "/hello/y");
    assert_attr_str(with, "url.query", "a=1&b=2");
    assert_attr_str(with, "user.name", "x");
    assert_null(itest_span_attr(without, "url.query"));
    itest_spans_free(&sp);
}

static void test_data_child_spans(void **state)
{
    itest_server *s = *state;
    const cJSON *server;
    const cJSON *fetch;
    const cJSON *process;
    const char *trace;
    char body[128];
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/data", NULL, body, sizeof(body)), 200);
    assert_string_equal(body, "{\"user_id\": 123, \"items\": 3, \"processed\": true}");
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 3);
    server = itest_spans_find_kind(&sp, "server");
    fetch = itest_spans_find(&sp, "fetch-user-data");
    process = itest_spans_find(&sp, "process-data");
    assert_non_null(server);
    assert_non_null(fetch);
    assert_non_null(process);
    trace = itest_span_str(server, "trace_id");
    assert_string_equal(itest_span_str(fetch, "trace_id"), trace);
    assert_string_equal(itest_span_str(process, "trace_id"), trace);
    assert_string_equal(itest_span_str(fetch, "kind"), "internal");
    assert_string_equal(itest_span_str(process, "kind"), "internal");
    assert_string_equal(itest_span_str(fetch, "parent_span_id"), itest_span_str(server, "span_id"));
    assert_string_equal(itest_span_str(process, "parent_span_id"),
                        itest_span_str(server, "span_id"));
    assert_attr_str(fetch, "operation", "database_query");
    assert_int_equal(attr_int(fetch, "user.id"), 123);
    assert_attr_str(process, "operation", "data_processing");
    assert_null(itest_span_attr(process, "user.id"));
    assert_attr_str(server, "http.route", "/data");

    assert_true(itest_span_start(server) <= itest_span_start(fetch));
    assert_true(itest_span_end(fetch) <= itest_span_end(server));
    assert_true(itest_span_start(server) <= itest_span_start(process));
    assert_true(itest_span_end(process) <= itest_span_end(server));
    assert_true(itest_span_end(fetch) <= itest_span_start(process));
    /* The sleeps: ~5 ms and ~3 ms. */
    assert_true(itest_span_end(fetch) - itest_span_start(fetch) >= 4000000u);
    assert_true(itest_span_end(process) - itest_span_start(process) >= 2000000u);
    itest_spans_free(&sp);
}

static void test_error_span_status(void **state)
{
    itest_server *s = *state;
    const cJSON *span;
    const cJSON *ev;
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get(s, "/error"), 500);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    span = sp.v[0];
    assert_string_equal(itest_span_str(span, "name"), "GET /error");
    assert_string_equal(itest_span_status(span), "error");
    assert_int_equal(attr_int(span, "http.response.status_code"), 500);
    assert_attr_str(span, "error.type", "500");
    ev = itest_span_event(span, "exception");
    assert_non_null(ev);
    assert_string_equal(itest_event_attr_str(ev, "exception.type"), "ValueError");
    assert_string_equal(itest_event_attr_str(ev, "exception.message"),
                        "Something went wrong in /error");
    itest_spans_free(&sp);
}

static void test_not_found_unrouted(void **state)
{
    itest_server *s = *state;
    const cJSON *span;
    char body[64];
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/nowhere", NULL, body, sizeof(body)), 404);
    assert_string_equal(body, "Not Found");
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    span = sp.v[0];
    assert_string_equal(itest_span_str(span, "name"), "GET");
    assert_string_equal(itest_span_status(span), "unset");
    assert_int_equal(attr_int(span, "http.response.status_code"), 404);
    assert_null(itest_span_attr(span, "http.route"));
    assert_attr_str(span, "url.path", "/nowhere");
    itest_spans_free(&sp);
}

static void test_method_not_allowed(void **state)
{
    itest_server *s = *state;
    const char *extra[] = {"-X", "POST", NULL};
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/hello/Al", extra, NULL, 0), 405);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    assert_attr_str(sp.v[0], "http.request.method", "POST");
    assert_int_equal(attr_int(sp.v[0], "http.response.status_code"), 405);
    itest_spans_free(&sp);
}

static void test_skip_path_and_prefix(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_skip_prefix /static/;\n");
    assert_int_equal(get(s, "/health"), 200);
    assert_int_equal(get(s, "/static/a.css"), 404);
    assert_int_equal(get(s, "/hello/kept"), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    assert_attr_str(sp.v[0], "url.path", "/hello/kept");
    itest_spans_free(&sp);
}

static void test_traceparent_continued(void **state)
{
    itest_server *s = *state;
    const cJSON *span;
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_with_header(s, "/hello/Bob", TRACEPARENT_SAMPLED), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    span = sp.v[0];
    assert_string_equal(itest_span_str(span, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(span, "parent_span_id"), PARENT_SPAN_ID);
    assert_string_not_equal(itest_span_str(span, "span_id"), PARENT_SPAN_ID);
    itest_spans_free(&sp);
}

/* Header field names are case-insensitive (RFC 9110 section 5.1): an
 * upper-case TRACEPARENT continues its trace and USER-AGENT is recorded;
 * a name of the same length that differs in one letter, or in a byte that
 * is not a letter ("User_Agent"), is not the header. */
static void test_header_names_any_case(void **state)
{
    itest_server *s = *state;
    itest_spans sp;
    const char *upper[] = {"-H", "TRACEPARENT: 00-" PARENT_TRACE_ID "-" PARENT_SPAN_ID "-01", "-H",
                           "USER-AGENT: Upper/1", NULL};
    const char *near[] = {"-H", "TRACEPARENS: 00-" PARENT_TRACE_ID "-" PARENT_SPAN_ID "-01",
                          "-H", "User_Agent: Near/1",
                          "-H", "User-Agent:",
                          NULL}; /* curl's own: none */

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/hello/up", upper, NULL, 0), 200);
    assert_int_equal(get_full(s, "/hello/near", near, NULL, 0), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 2);
    const cJSON *up = span_for_path(&sp, "/hello/up");
    assert_string_equal(itest_span_str(up, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(up, "parent_span_id"), PARENT_SPAN_ID);
    assert_string_equal(itest_span_attr_str(up, "user_agent.original"), "Upper/1");
    const cJSON *nr = span_for_path(&sp, "/hello/near");
    assert_string_not_equal(itest_span_str(nr, "trace_id"), PARENT_TRACE_ID);
    assert_null(itest_span_attr_str(nr, "user_agent.original"));
    itest_spans_free(&sp);
}

/* server.address and server.port from the Host header (HTTP semantic
 * conventions, HTTP spans, "Setting server.address and server.port
 * attributes": instrumentations "SHOULD populate both ... by parsing the
 * value of corresponding header"; a Host without a port means the
 * scheme's default, RFC 9110 section 7.2): over one connection,
 * so that one server thread sees a Host, others, then the first again, an
 * IP-literal, a port that is not one (the daemon's then), and a Host too
 * long to be remembered. */
static void test_server_address_from_host(void **state)
{
    itest_server *s = *state;
    itest_spans sp;
    static const char long_host[] = "a-host-name-long-enough-not-to-be-kept-from-one-request-"
                                    "to-the-next.example";
    char u[6][128], long_hdr[160];
    const char *paths[6] = {"/hello/h1", "/hello/h2", "/hello/h3",
                            "/hello/h4", "/hello/h5", "/hello/h6"};

    start_ok(s, BASE_CONF);
    for (int i = 0; i < 6; i++)
        snprintf(u[i], sizeof(u[i]), "http://127.0.0.1:%u%s", (unsigned)s->port, paths[i]);
    snprintf(long_hdr, sizeof(long_hdr), "Host: %s:81", long_host);
    const char *more[] = {"-H",
                          "Host: a.example:8080",
                          u[0],
                          "--next",
                          "-s",
                          "-o",
                          "/dev/null",
                          "-H",
                          "Host: b.example",
                          u[1],
                          "--next",
                          "-s",
                          "-o",
                          "/dev/null",
                          "-H",
                          "Host: [::1]:9",
                          u[2],
                          "--next",
                          "-s",
                          "-o",
                          "/dev/null",
                          "-H",
                          "Host: a.example:8080",
                          u[3],
                          "--next",
                          "-s",
                          "-o",
                          "/dev/null",
                          "-H",
                          "Host: c.example:port",
                          u[4],
                          "--next",
                          "-s",
                          "-o",
                          "/dev/null",
                          "-H",
                          long_hdr,
                          NULL}; /* then u[5], the last URL */
    itest_response r;
    assert_int_equal(itest_curl(s, paths[5], more, &r), 0);
    itest_response_free(&r);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 6);
    static const char *const addr[6] = {"a.example", "b.example", "::1",
                                        "a.example", "c.example", long_host};
    int64_t port[6] = {8080, 80, 9, 8080, s->port, 81};
    for (int i = 0; i < 6; i++) {
        const cJSON *span = span_for_path(&sp, paths[i]);
        assert_attr_str(span, "server.address", addr[i]);
        assert_int_equal(attr_int(span, "server.port"), port[i]);
    }
    itest_spans_free(&sp);
}

static void test_traceparent_unsampled_parent(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_sampler parentbased_always_on;\n");
    assert_int_equal(get_with_header(s, "/hello/unsampled", TRACEPARENT_UNSAMPLED), 200);
    assert_int_equal(get(s, "/hello/control"), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    assert_attr_str(sp.v[0], "url.path", "/hello/control");
    itest_spans_free(&sp);
}

/* Two traceparent header lines are no valid traceparent (W3C Trace
 * Context Level 1, "traceparent Header"; the official suite's
 * test_traceparent_duplicated): the server starts a new trace, through MHD's
 * real header list. */
static void test_traceparent_two_lines_new_trace(void **state)
{
    itest_server *s = *state;
    const char *two[] = {"-H", TRACEPARENT_SAMPLED, "-H",
                         "traceparent: 00-" PARENT_TRACE_ID "-00f067aa0ba902b8-01", NULL};
    itest_spans sp;

    start_ok(s, BASE_CONF);
    assert_int_equal(get_full(s, "/hello/twice", two, NULL, 0), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    assert_string_not_equal(itest_span_str(sp.v[0], "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(sp.v[0], "parent_span_id"), "");
    itest_spans_free(&sp);
}

static void test_traceparent_invalid_new_root(void **state)
{
    itest_server *s = *state;
    static const char *const bad[] = {
        "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "traceparent: ff-" PARENT_TRACE_ID "-" PARENT_SPAN_ID "-01",
        "traceparent: 00-00000000000000000000000000000000-" PARENT_SPAN_ID "-01",
    };
    static const char *const paths[] = {"/hello/upper", "/hello/ff", "/hello/zero"};
    itest_spans sp;

    start_ok(s, BASE_CONF);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(get_with_header(s, paths[i], bad[i]), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 3);
    for (size_t i = 0; i < 3; i++) {
        const cJSON *span = span_for_path(&sp, paths[i]);
        const char *trace = itest_span_str(span, "trace_id");
        assert_true(itest_is_hex_id(trace, 32));
        assert_string_not_equal(trace, PARENT_TRACE_ID);
        assert_string_equal(itest_span_str(span, "parent_span_id"), "");
    }
    itest_spans_free(&sp);
}

#define B3_TRACE_ID "80f198ee56343ba864fe8b2a57d3eff7"
#define B3_SPAN_ID "e457b5a2e4d86bd1"
#define B3_SAMPLED "b3: " B3_TRACE_ID "-" B3_SPAN_ID "-1"

static void test_b3_continued(void **state)
{
    itest_server *s = *state;
    static const char *const multi[] = {"-H", "X-B3-TraceId: " B3_TRACE_ID,
                                        "-H", "X-B3-SpanId: " B3_SPAN_ID,
                                        "-H", "X-B3-Sampled: 1",
                                        NULL};
    char body[256];
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_propagators b3 b3multi;\n");
    assert_int_equal(get_with_header(s, "/hello/b3", B3_SAMPLED), 200);
    assert_int_equal(get_full(s, "/hello/multi", multi, body, sizeof(body)), 200);
    /* traceparent is not configured: ignored */
    assert_int_equal(get_with_header(s, "/hello/w3c", TRACEPARENT_SAMPLED), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 3);
    for (size_t i = 0; i < 2; i++) {
        const cJSON *span = span_for_path(&sp, i == 0 ? "/hello/b3" : "/hello/multi");
        assert_string_equal(itest_span_str(span, "trace_id"), B3_TRACE_ID);
        assert_string_equal(itest_span_str(span, "parent_span_id"), B3_SPAN_ID);
    }
    const cJSON *w3c = span_for_path(&sp, "/hello/w3c");
    assert_string_not_equal(itest_span_str(w3c, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(w3c, "parent_span_id"), "");
    itest_spans_free(&sp);
}

static void test_b3_wins_over_invalid_traceparent(void **state)
{
    itest_server *s = *state;
    static const char *const both[] = {
        "-H", "traceparent: 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", "-H",
        B3_SAMPLED, NULL};
    static const char *const valid_both[] = {"-H", TRACEPARENT_SAMPLED, "-H", B3_SAMPLED, NULL};
    char body[256];
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_propagators tracecontext b3;\n");
    assert_int_equal(get_full(s, "/hello/b3wins", both, body, sizeof(body)), 200);
    assert_int_equal(get_full(s, "/hello/w3cfirst", valid_both, body, sizeof(body)), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 2);
    const cJSON *span = span_for_path(&sp, "/hello/b3wins");
    assert_string_equal(itest_span_str(span, "trace_id"), B3_TRACE_ID);
    assert_string_equal(itest_span_str(span, "parent_span_id"), B3_SPAN_ID);
    span = span_for_path(&sp, "/hello/w3cfirst");
    assert_string_equal(itest_span_str(span, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(span, "parent_span_id"), PARENT_SPAN_ID);
    itest_spans_free(&sp);
}

static void test_trust_incoming_off_new_trace(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_trust_incoming off;\n");
    assert_int_equal(get_with_header(s, "/hello/untrusted", TRACEPARENT_SAMPLED), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    const char *trace = itest_span_str(sp.v[0], "trace_id");
    assert_true(itest_is_hex_id(trace, 32));
    assert_string_not_equal(trace, PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(sp.v[0], "parent_span_id"), "");
    itest_spans_free(&sp);
}

static void test_capture_request_header(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    /* HTTP semantic conventions, http.request.header.<key>: "string[]", one
     * element per header line, the key lowercased. */
    const char *two[] = {"-H", "X-User-ID: u-42", "-H", "x-user-id: u-43", NULL};
    const cJSON *span;

    start_ok(s, BASE_CONF "otel_capture_request_header X-User-ID;\n");
    assert_int_equal(get_with_header(s, "/hello/captured", "X-User-ID: u-42"), 200);
    assert_int_equal(get_full(s, "/hello/twice", two, NULL, 0), 200);
    assert_int_equal(get(s, "/hello/plain"), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 3);
    span = span_for_path(&sp, "/hello/captured");
    assert_int_equal(itest_span_attr_array_len(span, "http.request.header.x-user-id"), 1);
    assert_string_equal(itest_span_attr_array_str(span, "http.request.header.x-user-id", 0),
                        "u-42");
    span = span_for_path(&sp, "/hello/twice");
    assert_int_equal(itest_span_attr_array_len(span, "http.request.header.x-user-id"), 2);
    assert_string_equal(itest_span_attr_array_str(span, "http.request.header.x-user-id", 0),
                        "u-42");
    assert_string_equal(itest_span_attr_array_str(span, "http.request.header.x-user-id", 1),
                        "u-43");
    assert_null(
        itest_span_attr(span_for_path(&sp, "/hello/plain"), "http.request.header.x-user-id"));
    itest_spans_free(&sp);
}

static void test_sampler_always_off(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_sampler always_off;\n");
    for (int i = 0; i < 5; i++)
        assert_int_equal(get(s, "/hello/off"), 200);
    assert_int_equal(get(s, "/data"), 200);
    assert_int_equal(get_with_header(s, "/hello/off", TRACEPARENT_SAMPLED), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 0);
    assert_non_null(strstr(s->err_text, "spans ended=0 "));
    itest_spans_free(&sp);
}

static void test_sampler_traceidratio_half(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_sampler traceidratio 0.5;\n");
    assert_int_equal(itest_curl_repeat(s, "/hello/ratio", 200, 200), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_in_range(sp.n, 60, 140);
    itest_spans_free(&sp);
}

/* Every string in every exported span was checked by read_spans (UTF-8 of
 * the raw line, then cJSON); here the server must also survive. */
static void test_robust_huge_header(void **state)
{
    itest_server *s = *state;
    const size_t n = 65536;
    char *header = malloc(n + sizeof("User-Agent: "));
    const char *extra[] = {"-H", NULL, NULL};
    itest_spans sp;
    int status;

    assert_non_null(header);
    memcpy(header, "User-Agent: ", 12);
    memset(header + 12, 'a', n);
    header[12 + n] = '\0';
    extra[1] = header;
    start_ok(s, BASE_CONF);
    status = get_full(s, "/hello/huge", extra, NULL, 0);
    free(header);
    assert_in_range(status, 100, 599);
    assert_int_equal(get(s, "/hello/after"), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_non_null(span_for_path(&sp, "/hello/after"));
    itest_spans_free(&sp);
}

static void test_robust_non_utf8_path(void **state)
{
    itest_server *s = *state;
    const char *raw_extra[] = {"--path-as-is", NULL};
    itest_spans sp;

    start_ok(s, BASE_CONF);
    /* Percent-encoded: MHD unescapes it into the bytes FF FE. */
    assert_in_range(get(s, "/hello/%FF%FE"), 100, 599);
    /* The same bytes raw on the request line. */
    assert_in_range(get_full(s, "/hello/\xff\xfe", raw_extra, NULL, 0), 100, 599);
    /* Invalid UTF-8 in a header value too. */
    assert_int_equal(get_with_header(s, "/hello/hdr", "User-Agent: bad \xc3\x28 \xed\xa0\x80 x"),
                     200);
    assert_int_equal(get(s, "/hello/after"), 200);
    stop_ok(s);
    read_spans(s, &sp);
    assert_non_null(span_for_path(&sp, "/hello/after"));
    assert_int_equal(sp.n, 4);
    /* The bytes FF FE are invalid UTF-8: each becomes U+FFFD. */
    assert_non_null(itest_spans_find_attr(&sp, "user.name", "\xef\xbf\xbd\xef\xbf\xbd"));
    itest_spans_free(&sp);
}

static void test_config_error_unknown_sampler(void **state)
{
    itest_server *s = *state;

    assert_int_not_equal(itest_server_start(s, "otel_sampler foo;\n" BASE_CONF), 0);
    assert_int_equal(itest_server_reap(s, 5000), 0);
    assert_true(WIFEXITED(s->exit_status));
    assert_int_not_equal(WEXITSTATUS(s->exit_status), 0);
    assert_null(strstr(s->out_text ? s->out_text : "", "listening"));
    assert_non_null(strstr(s->err_text, "demo-server: "));
    assert_non_null(strstr(s->err_text, s->conf_path));
    assert_non_null(strstr(s->err_text, ":1: "));
    assert_non_null(strstr(s->err_text, "unknown sampler"));
}

static void test_config_error_line_number(void **state)
{
    itest_server *s = *state;

    assert_int_not_equal(itest_server_start(s, BASE_CONF "otel_sampler foo;\n"), 0);
    assert_int_equal(itest_server_reap(s, 5000), 0);
    assert_true(WIFEXITED(s->exit_status));
    assert_int_not_equal(WEXITSTATUS(s->exit_status), 0);
    assert_non_null(strstr(s->err_text, ":8: "));
    assert_non_null(strstr(s->err_text, "unknown sampler"));
}

/* The threads of process pid (entries of /proc/PID/task); -1 if unreadable. */
static int thread_count(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int n = 0;

    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Start the demo server with -t threads (NULL: no -t); its thread count
 * once it serves. */
static int start_with_threads(itest_server *s, const char *threads)
{
    char *argv[] = {(char *)itest_server_binary(),
                    "-p",
                    "0",
                    "-c",
                    s->conf_path,
                    threads ? "-t" : NULL,
                    (char *)threads,
                    NULL};

    if (itest_server_start_cmd(s, argv, NULL, "demo-server: listening on http://127.0.0.1:") != 0)
        fail_msg("demo-server -t %s did not start: %s", threads ? threads : "(none)",
                 s->err_text ? s->err_text : "");
    assert_int_equal(get(s, "/hello/t"), 200);
    return thread_count(s->pid);
}

/* -t sets MHD's thread pool: -t 16 runs 12 threads more than the default of
 * 4, and traces as before; 0, 257 and what is not a number are refused
 * before anything starts. */
static void test_thread_pool_option(void **state)
{
    itest_server *s = *state;
    itest_spans sp;
    char *out = NULL;
    char *err = NULL;
    int status = 0;
    int n4, n16;
    static const char *const bad[] = {"0", "257", "x", "-1", ""};

    assert_int_equal(itest_server_write_conf(s, BASE_CONF), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = {(char *)itest_server_binary(),
                        "-p",
                        "0",
                        "-c",
                        s->conf_path,
                        "-t",
                        (char *)bad[i],
                        NULL};

        assert_int_equal(itest_run_cmd(argv, NULL, 5000, &out, &err, &status), 0);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 0);
        assert_non_null(strstr(err, "bad thread count"));
        assert_null(strstr(out, "listening"));
        free(out);
        free(err);
        out = err = NULL;
    }
    {
        itest_server d; /* the default, beside s */

        assert_int_equal(itest_server_init(&d), 0);
        assert_int_equal(itest_server_write_conf(&d, BASE_CONF), 0);
        n4 = start_with_threads(&d, NULL);
        stop_ok(&d);
        itest_server_cleanup(&d);
    }
    n16 = start_with_threads(s, "16");
    assert_int_equal(itest_curl_repeat(s, "/hello/t", 20, 200), 20);
    stop_ok(s);
    assert_true(n4 > 4);
    assert_int_equal(n16 - n4, 12);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 21);
    itest_spans_free(&sp);
}

/* client.address is the address of each request's own client (semantic
 * conventions, client attributes), also when one MHD thread (-t 1) serves
 * clients from 127.0.0.1 and 127.0.0.2 in turn, each over a connection of
 * its own. */
static void test_client_address_per_request(void **state)
{
    itest_server *s = *state;
    itest_spans sp;
    static const char *const from[] = {"127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.1"};
    static const char *const paths[] = {"/hello/c0", "/hello/c1", "/hello/c2", "/hello/c3"};

    assert_int_equal(itest_server_write_conf(s, BASE_CONF), 0);
    (void)start_with_threads(s, "1");
    for (size_t i = 0; i < 4; i++) {
        const char *extra[] = {"--interface", from[i], NULL};
        assert_int_equal(get_full(s, paths[i], extra, NULL, 0), 200);
    }
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 5); /* and start_with_threads' own */
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(itest_span_attr_str(span_for_path(&sp, paths[i]), "client.address"),
                            from[i]);
    itest_spans_free(&sp);
}

/* A stop waits for open connections to close, but not for ever: with an
 * idle client connection held open, SIGTERM still ends the server cleanly,
 * with the span of the request served before it. */
static void test_sigterm_with_idle_connection(void **state)
{
    itest_server *s = *state;
    itest_spans sp;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};

    start_ok(s, BASE_CONF);
    assert_int_equal(get(s, "/hello/before"), 200);
    a.sin_port = htons(s->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)&a, sizeof(a)), 0);
    stop_ok(s); /* within itest_server_stop's 10 s */
    close(fd);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 1);
    assert_string_equal(itest_span_status(span_for_path(&sp, "/hello/before")), "unset");
    itest_spans_free(&sp);
}

static void test_sigterm_flushes_pending_spans(void **state)
{
    itest_server *s = *state;
    itest_spans sp;

    start_ok(s, BASE_CONF "otel_batch { schedule_delay 60s; }\n");
    assert_int_equal(get(s, "/hello/one"), 200);
    assert_int_equal(get(s, "/hello/two"), 200);
    assert_int_equal(get(s, "/error"), 500);
    stop_ok(s);
    read_spans(s, &sp);
    assert_int_equal(sp.n, 3);
    assert_non_null(span_for_path(&sp, "/hello/one"));
    assert_non_null(span_for_path(&sp, "/hello/two"));
    assert_non_null(span_for_path(&sp, "/error"));
    assert_non_null(strstr(s->err_text, "spans ended=3 exported=3 dropped=0 failed=0"));
    itest_spans_free(&sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_span_count_mixed_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_span_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_default_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_url_query_present_and_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_child_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_span_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_unrouted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_path_and_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traceparent_continued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_names_any_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_address_from_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traceparent_unsampled_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traceparent_two_lines_new_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traceparent_invalid_new_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b3_continued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_b3_wins_over_invalid_traceparent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trust_incoming_off_new_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_request_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampler_always_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampler_traceidratio_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_robust_huge_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_robust_non_utf8_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_error_unknown_sampler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_error_line_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_pool_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_address_per_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_with_idle_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_flushes_pending_spans, setup, teardown),
    };

    return cmocka_run_group_tests_name("integration: demo server", tests, NULL, NULL);
}
