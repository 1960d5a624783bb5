/* test_it_services.c - integration tests of the two-service demo (service-a
 * calling service-b through the libcurl helper: one trace over both, read
 * from their console exporters) and of the demo server's POST /test, the W3C
 * trace-context test service, against an in-process callback server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "../lib/itest.h"

#define CONF_B                                                                                     \
    "otel_trace on;\n"                                                                             \
    "otel_service_name service-b;\n"                                                               \
    "otel_route /inventory/{id};\n"
#define CONF_A                                                                                     \
    "otel_trace on;\n"                                                                             \
    "otel_service_name service-a;\n"                                                               \
    "otel_route /order/{id};\n"
#define CONF_DEMO                                                                                  \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-demo;\n"                                                              \
    "otel_route /test;\n"

#define CB_MAX_CALLS 4
#define CB_TEXT_MAX 1024
#define BIG_BODY 70000

/* One request the callback server received. */
typedef struct cb_call {
    char path[64];
    char traceparent[64];
    char tracestate[128];
    char b3[80];
    char b3_trace_id[40];
    char b3_span_id[24];
    char b3_sampled[8];
    char b3_flags[8];
    char baggage[128];
    char content_type[64];
    char body[CB_TEXT_MAX];
    size_t body_len;
} cb_call;

/* The in-process callback server of the POST /test tests. */
typedef struct cb_server {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t mu;
    cb_call calls[CB_MAX_CALLS];
    size_t n;
} cb_server;

typedef struct fixture {
    itest_server a;
    itest_server b;
    itest_server demo;
    cb_server cb;
} fixture;

/* ---- the callback server ------------------------------------------------ */

static void copy_value(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v != NULL ? v : "");
}

/* Record each request (path, traceparent, content type, body) and answer
 * 200. The per-request cb_call is freed by cb_completed. */
static enum MHD_Result cb_handler(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    cb_server *cb = cls;
    cb_call *call = *req_cls;
    struct MHD_Response *resp;
    enum MHD_Result ret;

    (void)method;
    (void)version;
    if (call == NULL) {
        call = calloc(1, sizeof(*call));
        if (call == NULL)
            return MHD_NO;
        *req_cls = call;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        if (n > sizeof(call->body) - 1 - call->body_len)
            n = sizeof(call->body) - 1 - call->body_len;
        memcpy(call->body + call->body_len, upload_data, n);
        call->body_len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    copy_value(call->path, sizeof(call->path), url);
    copy_value(call->traceparent, sizeof(call->traceparent),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "traceparent"));
    copy_value(call->content_type, sizeof(call->content_type),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
    copy_value(call->baggage, sizeof(call->baggage),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "baggage"));
    copy_value(call->tracestate, sizeof(call->tracestate),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "tracestate"));
    copy_value(call->b3, sizeof(call->b3), MHD_lookup_connection_value(c, MHD_HEADER_KIND, "b3"));
    copy_value(call->b3_trace_id, sizeof(call->b3_trace_id),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-B3-TraceId"));
    copy_value(call->b3_span_id, sizeof(call->b3_span_id),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-B3-SpanId"));
    copy_value(call->b3_sampled, sizeof(call->b3_sampled),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-B3-Sampled"));
    copy_value(call->b3_flags, sizeof(call->b3_flags),
               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-B3-Flags"));
    pthread_mutex_lock(&cb->mu);
    if (cb->n < CB_MAX_CALLS)
        cb->calls[cb->n++] = *call;
    pthread_mutex_unlock(&cb->mu);
    resp = MHD_create_response_from_buffer(2, (void *)"OK", MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void cb_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

/* Start the callback server on 127.0.0.1, any free port. Returns 0 or -1. */
static int cb_start(cb_server *cb)
{
    const union MHD_DaemonInfo *info;
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cb->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                             cb_handler, cb, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sin,
                             MHD_OPTION_NOTIFY_COMPLETED, cb_completed, NULL, MHD_OPTION_END);
    if (cb->d == NULL)
        return -1;
    info = MHD_get_daemon_info(cb->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || info->port == 0)
        return -1;
    cb->port = info->port;
    return 0;
}

/* The call recorded for path, copied into *out. False when none. */
static bool cb_find(cb_server *cb, const char *path, cb_call *out)
{
    bool found = false;

    pthread_mutex_lock(&cb->mu);
    for (size_t i = 0; i < cb->n && !found; i++) {
        if (strcmp(cb->calls[i].path, path) == 0) {
            *out = cb->calls[i];
            found = true;
        }
    }
    pthread_mutex_unlock(&cb->mu);
    return found;
}

/* ---- fixtures and checks -------------------------------------------------- */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    if (itest_server_init(&f->a) != 0 || itest_server_init(&f->b) != 0 ||
        itest_server_init(&f->demo) != 0 || pthread_mutex_init(&f->cb.mu, NULL) != 0) {
        itest_server_cleanup(&f->a);
        itest_server_cleanup(&f->b);
        itest_server_cleanup(&f->demo);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f->cb.d != NULL)
        MHD_stop_daemon(f->cb.d);
    pthread_mutex_destroy(&f->cb.mu);
    itest_server_cleanup(&f->a);
    itest_server_cleanup(&f->b);
    itest_server_cleanup(&f->demo);
    free(f);
    return 0;
}

/* Start build/<name> -p 0 -c <conf written from conf_text> [-b backend] as s
 * and wait for its listening line, or fail the test. */
static void start_service(itest_server *s, const char *name, const char *conf_text,
                          const char *backend)
{
    char bin[ITEST_PATH_MAX];
    char prefix[64];
    char *argv[] = {bin, "-p", "0", "-c", s->conf_path, NULL, NULL, NULL};

    snprintf(bin, sizeof(bin), "%s/%s", itest_build_dir(), name);
    snprintf(prefix, sizeof(prefix), "%s: listening on http://127.0.0.1:", name);
    if (backend != NULL) {
        argv[5] = "-b";
        argv[6] = (char *)backend;
    }
    assert_int_equal(itest_server_write_conf(s, conf_text), 0);
    if (itest_server_start_cmd(s, argv, NULL, prefix) == 0)
        return;
    (void)itest_server_reap(s, 2000);
    fail_msg("%s did not listen within 5 s\nstdout: %s\nstderr: %s", bin,
             s->out_text ? s->out_text : "", s->err_text ? s->err_text : "");
}

/* SIGTERM s; it must exit 0. */
static void stop_ok(itest_server *s, const char *name)
{
    if (itest_server_stop(s) == 0)
        return;
    fail_msg("%s did not exit cleanly on SIGTERM (wait status 0x%x)\nstderr: %s", name,
             (unsigned int)s->exit_status, s->err_text ? s->err_text : "");
}

static void read_spans(const itest_server *s, itest_spans *sp)
{
    char why[256];

    if (itest_spans_read(s->spans_path, sp, why, sizeof(why)) != 0)
        fail_msg("bad spans file %s: %s", s->spans_path, why);
}

/* GET (or, with extra, whatever extra says) path on s: the status, and the
 * body into body (cap bytes) when body is not NULL. */
static int request(itest_server *s, const char *path, const char *const *extra, char *body,
                   size_t cap)
{
    itest_response r;
    int status;

    if (itest_curl(s, path, extra, &r) != 0)
        fail_msg("could not run curl for %s", path);
    if (body != NULL)
        snprintf(body, cap, "%s", r.body != NULL ? r.body : "");
    status = r.status;
    itest_response_free(&r);
    return status;
}

static void assert_parent(const cJSON *child, const cJSON *parent)
{
    assert_non_null(child);
    assert_non_null(parent);
    assert_string_equal(itest_span_str(child, "trace_id"), itest_span_str(parent, "trace_id"));
    assert_string_equal(itest_span_str(child, "parent_span_id"), itest_span_str(parent, "span_id"));
}

static int64_t attr_int(const cJSON *span, const char *key)
{
    int64_t v = -1;

    assert_true(itest_span_attr_int(span, key, &v));
    return v;
}

/* ---- service-a and service-b ------------------------------------------------ */

static void test_order_trace_tree(void **state)
{
    fixture *f = *state;
    const cJSON *srv_a, *step, *cli, *srv_b;
    itest_spans sa, sb;
    char backend[64];
    char url[96];
    char body[512];

    start_service(&f->b, "service-b", CONF_B, NULL);
    snprintf(backend, sizeof(backend), "http://127.0.0.1:%u", (unsigned int)f->b.port);
    start_service(&f->a, "service-a", CONF_A, backend);
    assert_int_equal(request(&f->a, "/order/42", NULL, body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"order_id\":\"42\""));
    assert_non_null(strstr(body, "{\"id\":\"42\",\"available\":true}"));
    assert_int_equal(request(&f->b, "/inventory/0", NULL, body, sizeof(body)), 200);
    assert_string_equal(body, "{\"id\":\"0\",\"available\":false}");
    stop_ok(&f->a, "service-a");
    stop_ok(&f->b, "service-b");
    read_spans(&f->a, &sa);
    read_spans(&f->b, &sb);
    assert_int_equal(sa.n, 3);
    assert_int_equal(sb.n, 2);

    srv_a = itest_spans_find_kind(&sa, "server");
    step = itest_spans_find(&sa, "process-order");
    cli = itest_spans_find_kind(&sa, "client");
    srv_b = itest_spans_find_attr(&sb, "inventory.id", "42");
    assert_non_null(srv_a);
    assert_non_null(srv_b);
    assert_true(itest_is_hex_id(itest_span_str(srv_a, "trace_id"), 32));
    assert_string_equal(itest_span_str(srv_a, "parent_span_id"), "");
    assert_string_equal(itest_span_str(srv_a, "name"), "GET /order/{id}");
    assert_parent(step, srv_a);
    assert_parent(cli, step);
    assert_parent(srv_b, cli);
    assert_string_equal(itest_span_str(step, "kind"), "internal");
    assert_string_equal(itest_span_str(cli, "kind"), "client");
    assert_string_equal(itest_span_str(srv_b, "kind"), "server");
    assert_string_equal(itest_span_attr_str(step, "order.id"), "42");
    snprintf(url, sizeof(url), "%s/inventory/42", backend);
    assert_string_equal(itest_span_attr_str(cli, "url.full"), url);
    assert_int_equal(attr_int(cli, "http.response.status_code"), 200);
    assert_string_equal(itest_span_status(cli), "unset");
    assert_string_equal(itest_span_str(srv_b, "name"), "GET /inventory/{id}");
    assert_string_equal(itest_span_resource_str(srv_b, "service.name"), "service-b");
    assert_string_equal(itest_span_resource_str(srv_a, "service.name"), "service-a");
    /* B's other span (its own request) is another trace */
    assert_string_not_equal(
        itest_span_str(itest_spans_find_attr(&sb, "inventory.id", "0"), "trace_id"),
        itest_span_str(srv_a, "trace_id"));
    itest_spans_free(&sa);
    itest_spans_free(&sb);
}

/* service-a's call carries the configured propagators: with only b3multi
 * on both sides (B reads no traceparent then), B's server span is still
 * the child of A's CLIENT span. */
static void test_order_trace_tree_b3multi(void **state)
{
    fixture *f = *state;
    itest_spans sa, sb;
    char backend[64];

    start_service(&f->b, "service-b", CONF_B "otel_propagators b3multi;\n", NULL);
    snprintf(backend, sizeof(backend), "http://127.0.0.1:%u", (unsigned int)f->b.port);
    start_service(&f->a, "service-a", CONF_A "otel_propagators b3multi;\n", backend);
    assert_int_equal(request(&f->a, "/order/7", NULL, NULL, 0), 200);
    stop_ok(&f->a, "service-a");
    stop_ok(&f->b, "service-b");
    read_spans(&f->a, &sa);
    read_spans(&f->b, &sb);
    const cJSON *cli = itest_spans_find_kind(&sa, "client");
    const cJSON *srv_b = itest_spans_find_attr(&sb, "inventory.id", "7");
    assert_non_null(cli);
    assert_non_null(srv_b);
    assert_parent(srv_b, cli);
    itest_spans_free(&sa);
    itest_spans_free(&sb);
}

static void test_order_backend_down_502(void **state)
{
    fixture *f = *state;
    const cJSON *srv_a, *step, *cli;
    char backend[64];
    uint16_t port;
    itest_spans sa;

    assert_int_equal(itest_port_reserve(&port), 0);
    snprintf(backend, sizeof(backend), "http://127.0.0.1:%u", (unsigned int)port);
    start_service(&f->a, "service-a", CONF_A, backend);
    assert_int_equal(request(&f->a, "/order/7", NULL, NULL, 0), 502);
    stop_ok(&f->a, "service-a");
    read_spans(&f->a, &sa);
    assert_int_equal(sa.n, 3);
    srv_a = itest_spans_find_kind(&sa, "server");
    step = itest_spans_find(&sa, "process-order");
    cli = itest_spans_find_kind(&sa, "client");
    assert_parent(step, srv_a);
    assert_parent(cli, step);
    assert_string_equal(itest_span_status(cli), "error");
    assert_non_null(itest_span_attr_str(cli, "error.type"));
    assert_string_equal(itest_span_attr_str(cli, "error.type"), "CURLE_COULDNT_CONNECT");
    assert_string_equal(itest_span_status(step), "error");
    assert_int_equal(attr_int(srv_a, "http.response.status_code"), 502);
    itest_spans_free(&sa);
}

/* ---- the demo server's POST /test ------------------------------------------- */

static void test_demo_post_test_propagates(void **state)
{
    fixture *f = *state;
    char json[512];
    const char *extra[] = {"-H",
                           "Content-Type: application/json",
                           "-H",
                           "baggage: user.id=alice, tenant=t%201;p=1",
                           "--data-binary",
                           json,
                           NULL};
    const cJSON *srv, *cli1, *cli2;
    char tp[64];
    char url[96];
    cb_call c1, c2;
    itest_spans sp;

    assert_int_equal(cb_start(&f->cb), 0);
    snprintf(json, sizeof(json),
             "[{\"url\": \"http://127.0.0.1:%u/cb1\", \"arguments\": [1, \"two\", {\"three\": 3}]},"
             " {\"url\": \"http://127.0.0.1:%u/cb2\", \"arguments\": []}]",
             (unsigned int)f->cb.port, (unsigned int)f->cb.port);
    assert_int_equal(itest_server_start(&f->demo, CONF_DEMO), 0);
    assert_int_equal(request(&f->demo, "/test", extra, NULL, 0), 200);
    stop_ok(&f->demo, "demo-server");

    assert_true(cb_find(&f->cb, "/cb1", &c1));
    assert_true(cb_find(&f->cb, "/cb2", &c2));
    assert_string_equal(c1.body, "[1,\"two\",{\"three\":3}]");
    assert_string_equal(c2.body, "[]");
    assert_string_equal(c1.content_type, "application/json");
    /* The incoming baggage goes on to every outgoing call, re-encoded. */
    assert_string_equal(c1.baggage, "user.id=alice,tenant=t%201;p=1");
    assert_string_equal(c2.baggage, c1.baggage);

    read_spans(&f->demo, &sp);
    assert_int_equal(sp.n, 3);
    srv = itest_spans_find_kind(&sp, "server");
    assert_string_equal(itest_span_attr_str(srv, "url.path"), "/test");
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/cb1", (unsigned int)f->cb.port);
    cli1 = itest_spans_find_attr(&sp, "url.full", url);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/cb2", (unsigned int)f->cb.port);
    cli2 = itest_spans_find_attr(&sp, "url.full", url);
    assert_parent(cli1, srv);
    assert_parent(cli2, srv);
    assert_string_equal(itest_span_str(cli1, "kind"), "client");
    assert_string_equal(itest_span_attr_str(cli1, "http.request.method"), "POST");
    snprintf(tp, sizeof(tp), "00-%s-%s-01", itest_span_str(srv, "trace_id"),
             itest_span_str(cli1, "span_id"));
    assert_string_equal(c1.traceparent, tp);
    snprintf(tp, sizeof(tp), "00-%s-%s-01", itest_span_str(srv, "trace_id"),
             itest_span_str(cli2, "span_id"));
    assert_string_equal(c2.traceparent, tp);
    itest_spans_free(&sp);
}

/* POST /test with the given config and extra curl headers; one callback
 * to /cb. The callback's request into *call, the spans into sp. */
#define POST_TEST_HEADERS 400

static void post_test_once(fixture *f, const char *conf, const char *const *headers, cb_call *call,
                           itest_spans *sp)
{
    char json[160];
    static const char *extra[2 * POST_TEST_HEADERS + 6];
    size_t n = 0;

    extra[n++] = "-H";
    extra[n++] = "Content-Type: application/json";
    extra[n++] = "--data-binary";
    extra[n++] = json;
    for (size_t i = 0; headers[i] != NULL; i++) {
        assert_true(n + 3 < sizeof(extra) / sizeof(extra[0]));
        extra[n++] = "-H";
        extra[n++] = headers[i];
    }
    extra[n] = NULL;
    assert_int_equal(cb_start(&f->cb), 0);
    snprintf(json, sizeof(json), "[{\"url\": \"http://127.0.0.1:%u/cb\", \"arguments\": []}]",
             (unsigned int)f->cb.port);
    assert_int_equal(itest_server_start(&f->demo, conf), 0);
    assert_int_equal(request(&f->demo, "/test", extra, NULL, 0), 200);
    stop_ok(&f->demo, "demo-server");
    assert_true(cb_find(&f->cb, "/cb", call));
    read_spans(&f->demo, sp);
    assert_int_equal(sp->n, 2);
}

#define B3_TRACE "80f198ee56343ba864fe8b2a57d3eff7"
#define B3_SPAN "e457b5a2e4d86bd1"

/* Outgoing requests carry the configured propagators (otel_propagators),
 * not a fixed tracecontext,baggage; with b3multi configured, a context
 * arriving in X-B3-* headers with the debug flag continues, and the debug
 * flag goes on as X-B3-Flags: 1 without X-B3-Sampled (OpenTelemetry B3
 * Requirements; openzipkin/b3-propagation "Debug Flag"). */
static void test_demo_post_test_configured_propagators_b3multi(void **state)
{
    fixture *f = *state;
    const char *in[] = {"X-B3-TraceId: " B3_TRACE, "X-B3-SpanId: " B3_SPAN, "X-B3-Flags: 1",
                        "baggage: k=v", NULL};
    cb_call c;
    itest_spans sp;

    post_test_once(f, CONF_DEMO "otel_propagators b3multi baggage;\n", in, &c, &sp);
    const cJSON *srv = itest_spans_find_kind(&sp, "server");
    const cJSON *cli = itest_spans_find_kind(&sp, "client");
    assert_string_equal(itest_span_str(srv, "trace_id"), B3_TRACE);
    assert_string_equal(itest_span_str(srv, "parent_span_id"), B3_SPAN);
    assert_parent(cli, srv);
    assert_string_equal(c.b3_trace_id, B3_TRACE);
    assert_string_equal(c.b3_span_id, itest_span_str(cli, "span_id"));
    assert_string_equal(c.b3_flags, "1");
    assert_string_equal(c.b3_sampled, "");
    assert_string_equal(c.b3, "");
    assert_string_equal(c.traceparent, "");
    assert_string_equal(c.baggage, "k=v");
    itest_spans_free(&sp);
}

/* b3 (single) configured: the X-B3-* headers are read too (both forms are
 * extracted), and the injected form is the single header, with "d" kept. */
static void test_demo_post_test_configured_propagators_b3(void **state)
{
    fixture *f = *state;
    const char *in[] = {"b3: " B3_TRACE "-" B3_SPAN "-d", NULL};
    char want[80];
    cb_call c;
    itest_spans sp;

    post_test_once(f, CONF_DEMO "otel_propagators b3;\n", in, &c, &sp);
    const cJSON *cli = itest_spans_find_kind(&sp, "client");
    snprintf(want, sizeof(want), "%s-%s-d", B3_TRACE, itest_span_str(cli, "span_id"));
    assert_string_equal(c.b3, want);
    assert_string_equal(c.b3_trace_id, "");
    assert_string_equal(c.traceparent, "");
    assert_string_equal(c.baggage, ""); /* baggage is not configured */
    itest_spans_free(&sp);
}

/* Repeated tracestate and baggage header lines are one list each (W3C
 * Trace Context "tracestate Header Field Values", W3C Baggage: "Multiple
 * baggage headers are allowed"), on the way in and on to outgoing calls. */
static void test_demo_post_test_header_lines_combined(void **state)
{
    fixture *f = *state;
    const char *in[] = {"traceparent: 00-" B3_TRACE "-" B3_SPAN "-01",
                        "tracestate: foo=1,bar=2",
                        "tracestate: rojo=1",
                        "baggage: userId=alice",
                        "baggage: serverNode=DF%2028, isProduction=false",
                        NULL};
    cb_call c;
    itest_spans sp;

    post_test_once(f, CONF_DEMO, in, &c, &sp);
    const cJSON *srv = itest_spans_find_kind(&sp, "server");
    assert_string_equal(itest_span_str(srv, "trace_id"), B3_TRACE);
    assert_string_equal(c.tracestate, "foo=1,bar=2,rojo=1");
    assert_string_equal(c.baggage, "userId=alice,serverNode=DF%2028,isProduction=false");
    itest_spans_free(&sp);
}

/* Many tracestate lines, through MHD's real header list: 200 blank ones
 * around a member are that member (empty list-members are allowed); more
 * lines than extraction reads (256) are no tracestate, the traceparent
 * still continues the trace. */
static void test_demo_post_test_many_tracestate_lines(void **state)
{
    fixture *f = *state;
    static const char *in[POST_TEST_HEADERS];
    cb_call c;
    itest_spans sp;
    size_t n = 0;

    in[n++] = "traceparent: 00-" B3_TRACE "-" B3_SPAN "-01";
    for (int i = 0; i < 100; i++)
        in[n++] = "tracestate: ,";
    in[n++] = "tracestate: foo=1";
    for (int i = 0; i < 100; i++)
        in[n++] = "tracestate: ";
    in[n] = NULL;
    post_test_once(f, CONF_DEMO, in, &c, &sp);
    assert_string_equal(c.tracestate, "foo=1");
    itest_spans_free(&sp);
    teardown(state);
    assert_int_equal(setup(state), 0);
    f = *state;

    n = 1;
    for (int i = 0; i < 300; i++)
        in[n++] = "tracestate: ,";
    in[n++] = "tracestate: foo=1";
    in[n] = NULL;
    post_test_once(f, CONF_DEMO, in, &c, &sp);
    assert_string_equal(c.tracestate, "");
    const cJSON *srv = itest_spans_find_kind(&sp, "server");
    assert_string_equal(itest_span_str(srv, "trace_id"), B3_TRACE);
    itest_spans_free(&sp);
}

static void test_demo_post_test_bad_body(void **state)
{
    fixture *f = *state;
    const char *object[] = {"--data-binary", "{\"url\": \"http://127.0.0.1:1/\"}", NULL};
    const char *not_json[] = {"--data-binary", "not json", NULL};
    const char *no_url[] = {"--data-binary", "[{\"arguments\": []}]", NULL};
    const char *big[] = {"--data-binary", NULL, NULL};
    char *payload = malloc(BIG_BODY + 1);

    assert_non_null(payload);
    memset(payload, 'x', BIG_BODY);
    payload[BIG_BODY] = '\0';
    big[1] = payload;
    assert_int_equal(itest_server_start(&f->demo, CONF_DEMO), 0);
    assert_int_equal(request(&f->demo, "/test", object, NULL, 0), 400);
    assert_int_equal(request(&f->demo, "/test", not_json, NULL, 0), 400);
    assert_int_equal(request(&f->demo, "/test", no_url, NULL, 0), 400);
    assert_int_equal(request(&f->demo, "/test", big, NULL, 0), 413);
    free(payload);
    assert_int_equal(request(&f->demo, "/test", NULL, NULL, 0), 405);
    assert_int_equal(request(&f->demo, "/hello/after", NULL, NULL, 0), 200);
    stop_ok(&f->demo, "demo-server");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_trace_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_trace_tree_b3multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_backend_down_502, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_post_test_propagates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_post_test_configured_propagators_b3multi, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_demo_post_test_configured_propagators_b3, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_demo_post_test_header_lines_combined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_post_test_many_tracestate_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_post_test_bad_body, setup, teardown),
    };

    return cmocka_run_group_tests_name("integration: services and POST /test", tests, NULL, NULL);
}
