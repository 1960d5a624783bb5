/* test_otlp.c - tests of the OTLP/gRPC exporter (exporter/otlp.c) end to
 * end against the fake gRPC server of t/lib/fake_grpc.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include "../../exporter/grpc.h"
#include "../../exporter/h2.h"
#include "../../exporter/retry.h"
#include "../lib/fake_grpc.h"

#include "../../core/exporter_int.h"
#include "../../exporter/resolve.h"
#include "../../core/span_int.h"
#include "../../exporter/otlp.h"
#include "../../core/test_hooks.h"

#define SEC_NS UINT64_C(1000000000)
#define N_BIG 640
#define BIG_ATTR_LEN 3500

/* ---- helpers ------------------------------------------------------------ */

static fake_server *cur_srv; /* freed by the teardown */
static otel_otlp *cur_e;
static otel_span *spans[N_BIG];
static const otel_span_data *views[N_BIG]; /* spans[i]->d */
static size_t n_spans;
static char big_value[BIG_ATTR_LEN + 1];

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];
static int log_count;

static void capture_log(void *ud, otel_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_lock);
    size_t len = strlen(log_text);
    snprintf(log_text + len, sizeof(log_text) - len, "%s\n", msg);
    log_count++;
    pthread_mutex_unlock(&log_lock);
}

static bool log_has(const char *s)
{
    pthread_mutex_lock(&log_lock);
    bool found = strstr(log_text, s) != NULL;
    pthread_mutex_unlock(&log_lock);
    return found;
}

static int logs(void)
{
    pthread_mutex_lock(&log_lock);
    int n = log_count;
    pthread_mutex_unlock(&log_lock);
    return n;
}

/* n recorded server spans called "span-<i>"; big: each with a 3500-byte
 * attribute. Strings point to static storage or the span's arena. */
static void make_spans(size_t n, bool big)
{
    for (size_t i = 0; i < n; i++) {
        otel_span *s = calloc(1, sizeof(*s));
        assert_non_null(s);
        for (int k = 0; k < 16; k++)
            s->d.ctx.trace_id[k] = (uint8_t)(0xa0 + k);
        for (int k = 0; k < 8; k++)
            s->d.ctx.span_id[k] = (uint8_t)(i + k + 1);
        s->d.ctx.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
        s->recording = s->ended = true;
        s->d.kind = OTEL_SPAN_KIND_SERVER;
        s->d.status_message = "";
        snprintf(s->arena, sizeof(s->arena), "span-%zu", i);
        s->d.name = s->arena;
        s->d.start_ns = UINT64_C(1764000000000000000) + i;
        s->d.end_ns = s->d.start_ns + 1000;
        if (big) {
            s->d.attrs[0].key = "big";
            s->d.attrs[0].key_len = 3;
            s->d.attrs[0].type = OTEL_ATTR_STRING;
            s->d.attrs[0].v.s.ptr = big_value;
            s->d.attrs[0].v.s.len = BIG_ATTR_LEN;
            s->d.n_attrs = 1;
        }
        spans[i] = s;
        views[i] = &s->d;
    }
    n_spans = n;
}

static otel_otlp *new_exporter(uint16_t port, bool gzip, uint64_t timeout_ns)
{
    static const otel_otlp_header hd[] = {{"X-Api-Key", "secret 1"}, {"x-tenant", "t2"}};
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    otel_otlp_config cfg = {
        .endpoint = url, .headers = hd, .n_headers = 2, .gzip = gzip, .timeout_ns = timeout_ns};
    otel_otlp *e = NULL;
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_OK);
    return e;
}

/* The exporter object for e, e staying the test's (freed by the test). */
static otel_exporter *borrow(otel_otlp *e)
{
    otel_exporter *x = NULL;
    assert_int_equal(otel_otlp_exporter(e, &x), OTEL_OK);
    x->free_fn = NULL;
    return x;
}

/* Export the spans made by make_spans through e by deadline. */
static int export_by(otel_otlp *e, uint64_t deadline)
{
    otel_exporter *x = borrow(e);
    int rc = x->export_fn(x->user_data, views, n_spans, deadline);
    otel_exporter_del(x);
    return rc;
}

static int do_export(otel_otlp *e)
{
    return export_by(e, otel_mono_ns() + 60 * SEC_NS); /* e's own timeout is shorter */
}

static otel_otlp_stats stats(void)
{
    otel_otlp_stats st;
    otel_otlp_get_stats(cur_e, &st);
    return st;
}

static bool message_has(fake_server *s, const char *needle)
{
    pthread_mutex_lock(&s->lock);
    bool found =
        s->message != NULL && memmem(s->message, s->message_len, needle, strlen(needle)) != NULL;
    pthread_mutex_unlock(&s->lock);
    return found;
}

static int group_setup(void **state)
{
    (void)state;
    /* Short backoffs so the retry tests stay fast; the real clock. */
    otel_retry_policy p;
    memset(&p, 0, sizeof(p));
    p.initial_backoff_ns = 20 * MS_NS;
    p.max_backoff_ns = 80 * MS_NS;
    p.multiplier_pct = 200;
    otel_retry_policy_set_default(&p);
    memset(big_value, 'x', BIG_ATTR_LEN);
    otel_log_set(capture_log, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    otel_retry_policy_set_default(NULL);
    otel_log_set(NULL, NULL);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    pthread_mutex_lock(&log_lock);
    log_text[0] = '\0';
    log_count = 0;
    pthread_mutex_unlock(&log_lock);
    make_spans(3, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_otlp_del(cur_e);
    cur_e = NULL;
    fake_stop(cur_srv);
    cur_srv = NULL;
    for (size_t i = 0; i < n_spans; i++)
        free(spans[i]);
    n_spans = 0;
    otel_alloc_fail_after(-1);
    return 0;
}

/* ---- otel_otlp_new ------------------------------------------------------ */

static void test_otel_otlp_new_validates_endpoint(void **state)
{
    (void)state;
    char err[256];
    otel_otlp *e = (otel_otlp *)1;
    otel_otlp_config cfg = {.endpoint = "ftp://x:1"};
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_null(e);
    assert_non_null(strstr(err, "http://"));
    cfg.endpoint = "http://host:99999";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "port"));
    /* TLS: the system's trust store; no connection yet */
    cfg.endpoint = "https://collector:4317";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_OK);
    otel_otlp_del(e);
    cfg.ca_file = "/nonexistent.pem";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "cannot read CA file \"/nonexistent.pem\""));
    cfg.endpoint = "http://collector:4317";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "not https://"));
    cfg.ca_file = NULL;
    /* OTLP/HTTP: a path is allowed; a query is not */
    cfg.protocol = OTEL_OTLP_HTTP_PROTOBUF;
    cfg.endpoint = "http://collector:4318/otlp/v1/traces";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_OK);
    otel_otlp_del(e);
    cfg.endpoint = "http://collector:4318/v1/traces?x=1";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "query"));
    cfg.protocol = OTEL_OTLP_GRPC;
    /* Defaults: no config at all, or an empty endpoint. */
    assert_int_equal(otel_otlp_new(&e, NULL, NULL, 0), OTEL_OK);
    otel_otlp_del(e);
    cfg.endpoint = "";
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_OK);
    otel_otlp_del(e);
    otel_otlp_del(NULL);
}

/* No endpoint (NULL or empty): the protocol's default URL under each URL
 * rule, AS_IS too (it gave http://localhost:4318/). */
static void test_otel_otlp_target_default_any_rule(void **state)
{
    (void)state;
    static const otel_otlp_url_rule rules[] = {OTEL_OTLP_URL_DEFAULT, OTEL_OTLP_URL_BASE,
                                               OTEL_OTLP_URL_AS_IS};
    char url[OTEL_OTLP_URL_MAX];
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        otel_otlp_config cfg = {.protocol = OTEL_OTLP_HTTP_JSON, .url_rule = rules[i]};
        assert_int_equal(otel_otlp_target(&cfg, url, sizeof(url), NULL, 0), OTEL_OK);
        assert_string_equal(url, "http://localhost:4318/v1/traces");
        cfg.endpoint = "";
        cfg.protocol = OTEL_OTLP_HTTP_PROTOBUF;
        assert_int_equal(otel_otlp_target(&cfg, url, sizeof(url), NULL, 0), OTEL_OK);
        assert_string_equal(url, "http://localhost:4318/v1/traces");
        cfg.protocol = OTEL_OTLP_GRPC;
        assert_int_equal(otel_otlp_target(&cfg, url, sizeof(url), NULL, 0), OTEL_OK);
        assert_string_equal(url, "http://localhost:4317");
    }
}

static void test_otel_otlp_new_validates_headers(void **state)
{
    (void)state;
    static const otel_otlp_header bad[][1] = {
        {{"bad name", "v"}},
        {{"", "v"}},
        {{"x-a", "line\r\nbreak"}},
        {{"grpc-timeout", "1S"}},
        {{"Content-Type", "text/plain"}},
        {{"te", "x"}},
        {{":path", "/x"}},
        {{"x-a", NULL}},
        {{"connection", "close"}},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        otel_otlp_config cfg = {
            .endpoint = "http://127.0.0.1:1", .headers = bad[i], .n_headers = 1};
        otel_otlp *e = (otel_otlp *)1;
        err[0] = '\0';
        assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
        assert_null(e);
        assert_true(strlen(err) > 0);
    }
    otel_otlp_config cfg = {.endpoint = "http://127.0.0.1:1", .headers = NULL, .n_headers = 1};
    otel_otlp *e;
    assert_int_equal(otel_otlp_new(&e, &cfg, err, sizeof(err)), OTEL_ERR_INVALID);
}

static void test_otel_otlp_new_alloc_failure(void **state)
{
    (void)state;
    static const otel_otlp_header hd[] = {{"X-A", "1"}, {"x-b", "2"}};
    otel_otlp_config cfg = {.endpoint = "http://127.0.0.1:1", .headers = hd, .n_headers = 2};
    char err[128];
    int rc = OTEL_ERR_NOMEM;
    long i;
    for (i = 0; i < 200 && rc == OTEL_ERR_NOMEM; i++) {
        otel_otlp *e = (otel_otlp *)1;
        otel_alloc_fail_after(i);
        rc = otel_otlp_new(&e, &cfg, err, sizeof(err));
        otel_alloc_fail_after(-1);
        if (rc == OTEL_ERR_NOMEM)
            assert_null(e);
        else
            otel_otlp_del(e);
    }
    assert_int_equal(rc, OTEL_OK);
    assert_true(i > 5);
}

/* ---- export ------------------------------------------------------------- */

static void test_otel_otlp_export_ok_and_request_headers(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0); /* OK with an empty response */
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    assert_true(fake_saw_header(cur_srv, ":method", "POST"));
    assert_true(fake_saw_header(cur_srv, ":scheme", "http"));
    assert_true(fake_saw_header(cur_srv, ":path",
                                "/opentelemetry.proto.collector.trace.v1.TraceService/Export"));
    assert_true(fake_saw_header(cur_srv, "content-type", "application/grpc"));
    assert_true(fake_saw_header(cur_srv, "te", "trailers"));
    assert_true(fake_saw_header(cur_srv, "user-agent", "OTel-OTLP-Exporter-C/" OTEL_SDK_VERSION));
    assert_true(fake_saw_header(cur_srv, "grpc-accept-encoding", "gzip"));
    assert_true(fake_saw_header(cur_srv, "x-api-key", "secret 1"));
    assert_true(fake_saw_header(cur_srv, "x-tenant", "t2"));
    assert_false(fake_saw_header(cur_srv, "grpc-encoding", "gzip"));
    char tmo[32];
    assert_true(fake_header_value(cur_srv, "grpc-timeout", tmo, sizeof(tmo)));
    /* About 5 s left, in microseconds: 8 digits and 'u'. */
    assert_int_equal(strlen(tmo), 8);
    assert_int_equal(tmo[7], 'u');
    long left_us = strtol(tmo, NULL, 10);
    assert_true(left_us > 4000000 && left_us <= 5000000);

    pthread_mutex_lock(&cur_srv->lock);
    assert_true(cur_srv->prefix_ok);
    assert_false(cur_srv->compressed);
    pthread_mutex_unlock(&cur_srv->lock);
    assert_true(message_has(cur_srv, "span-0"));
    assert_true(message_has(cur_srv, "span-2"));

    otel_otlp_stats st = stats();
    assert_int_equal(st.requests, 1);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.connects, 1);
    assert_true(st.bytes_sent > 5);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(logs(), 0);

    /* A second export reuses the connection. */
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().connects, 1);
    assert_int_equal(fake_connections(cur_srv), 1);
}

static const uint8_t partial_resp[] = {0x0a, 0x0f, 0x08, 0x02, 0x12, 0x0b, 0x62, 0x61, 0x64,
                                       0x20, 0x32, 0x20, 0x73, 0x70, 0x61, 0x6e, 0x73};

/* ExportTraceServiceResponse{partial_success{rejected_spans 1,
 * error_message "x\r\nmhd-otel: error: forged\x1b[0m"}}. */
static const uint8_t hostile_partial_resp[] = {0x0a, 0x22, 0x08, 0x01, 0x12, 0x1e, 'x', '\r', '\n',
                                               'm',  'h',  'd',  '-',  'o',  't',  'e', 'l',  ':',
                                               ' ',  'e',  'r',  'r',  'o',  'r',  ':', ' ',  'f',
                                               'o',  'r',  'g',  'e',  'd',  0x1b, '[', '0',  'm'};

/* A collector's grpc-message (percent-decoded) and partial-success
 * message reach the log with their control bytes escaped: one log call
 * is one line, whatever the collector sends. */
static void test_otel_otlp_collector_text_escaped_in_log(void **state)
{
    (void)state;
    fake_action s[] = {
        {.kind = FAKE_STATUS,
         .grpc_status = 3,
         .grpc_message = "bad%0D%0Amhd-otel: error: forged%1B[2J"},
        {.kind = FAKE_OK, .resp = hostile_partial_resp, .resp_len = sizeof(hostile_partial_resp)}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), OTEL_ERR_IO);
    assert_int_equal(do_export(cur_e), 1);
    assert_int_equal(logs(), 2);
    pthread_mutex_lock(&log_lock);
    /* Every line the two calls wrote ends with the '\n' capture_log adds. */
    size_t lines = 0;
    for (const char *p = log_text; *p != '\0'; p++) {
        assert_true((unsigned char)*p >= 0x20 || *p == '\n');
        assert_true(*p != 0x7f);
        lines += *p == '\n';
    }
    pthread_mutex_unlock(&log_lock);
    assert_int_equal(lines, 2);
    assert_true(log_has("bad\\x0d\\x0amhd-otel: error: forged\\x1b[2J"));
    assert_true(log_has("x\\x0d\\x0amhd-otel: error: forged\\x1b[0m"));
}

static void test_otel_otlp_export_partial_success(void **state)
{
    (void)state;
    fake_action a = {.kind = FAKE_OK, .resp = partial_resp, .resp_len = sizeof(partial_resp)};
    cur_srv = fake_start(0, &a, 1);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 2);
    assert_int_equal(stats().rejected, 2);
    assert_int_equal(logs(), 1);
    assert_true(log_has("rejected 2"));
    assert_true(log_has("bad 2 spans"));
    /* Logged at most once a second, counted every time. */
    assert_int_equal(do_export(cur_e), 2);
    assert_int_equal(stats().rejected, 4);
    assert_int_equal(logs(), 1);
}

static void test_otel_otlp_export_retries_unavailable(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 14},
                       {.kind = FAKE_STATUS, .grpc_status = 14},
                       {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 3);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    otel_otlp_stats st = stats();
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.connects, 1);
    assert_int_equal(fake_requests(cur_srv), 3);
    assert_int_equal(logs(), 0);
    /* Every attempt sends the whole message again from the same buffers. */
    pthread_mutex_lock(&cur_srv->lock);
    assert_true(cur_srv->prefix_ok);
    pthread_mutex_unlock(&cur_srv->lock);
    assert_true(message_has(cur_srv, "span-0"));
    assert_true(message_has(cur_srv, "span-2"));
}

/* An export whose last attempt the deadline cuts short says what the
 * attempt before it met as well: UNAVAILABLE with its message, then a
 * hang until the 3 s deadline (the retry comes after 20 ms at most). */
static void test_otel_otlp_export_timeout_says_earlier_failure(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 14, .grpc_message = "overloaded"},
                       {.kind = FAKE_HANG}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 3 * SEC_NS);
    assert_int_equal(do_export(cur_e), OTEL_ERR_TIMEOUT);
    assert_int_equal(logs(), 1);
    assert_true(log_has("; before it: "));
    assert_true(log_has("overloaded"));
}

static void test_otel_otlp_export_not_retryable(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 3, .grpc_message = "bad%20batch%21"},
                       {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), OTEL_ERR_IO);
    assert_int_equal(stats().requests, 1);
    assert_int_equal(stats().retries, 0);
    assert_int_equal(fake_requests(cur_srv), 1);
    assert_int_equal(logs(), 1);
    assert_true(log_has("INVALID_ARGUMENT"));
    assert_true(log_has("bad batch!"));
    assert_true(log_has("not retryable"));
}

static void test_otel_otlp_export_failures_logged_once_per_second(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 7}};
    cur_srv = fake_start(0, s, 1);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    for (int i = 0; i < 4; i++)
        assert_int_equal(do_export(cur_e), OTEL_ERR_IO);
    assert_int_equal(fake_requests(cur_srv), 4);
    assert_int_equal(logs(), 1);
    assert_true(log_has("PERMISSION_DENIED"));
}

/* google.rpc.Status{code 8, "slow down", [Any RetryInfo{80 ms}]}, base64
 * without padding. */
#define RETRY_INFO_80MS                                                                            \
    "CAgSCXNsb3cgZG93bhozCih0eXBlLmdvb2dsZWFwaXMuY29tL2dvb2dsZS5ycGMuUmV0cnlJbmZvEgcKBRCA6JIm"

static void test_otel_otlp_export_resource_exhausted(void **state)
{
    (void)state;
    /* Without RetryInfo: not retried. With it: retried after its delay. */
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 8},
                       {.kind = FAKE_STATUS, .grpc_status = 8, .details_bin = RETRY_INFO_80MS},
                       {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 3);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), OTEL_ERR_IO);
    assert_int_equal(fake_requests(cur_srv), 1);
    uint64_t t0 = fake_mono_ms();
    assert_int_equal(do_export(cur_e), 0);
    uint64_t took = fake_mono_ms() - t0;
    assert_true(took >= 80); /* the server's delay, over our 20..80 ms backoff */
    assert_true(took < 5000);
    assert_int_equal(fake_requests(cur_srv), 3);
    assert_int_equal(stats().retries, 1);
}

static void test_otel_otlp_export_retry_info_past_deadline(void **state)
{
    (void)state;
    /* The server asks for 80 ms but only ~50 are left: give up at once. */
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 14, .details_bin = RETRY_INFO_80MS}};
    cur_srv = fake_start(0, s, 1);
    cur_e = new_exporter(cur_srv->port, false, 50 * MS_NS);
    assert_int_equal(do_export(cur_e), OTEL_ERR_TIMEOUT);
    assert_int_equal(fake_requests(cur_srv), 1);
    assert_int_equal(stats().retries, 0); /* no wait of 80 ms was started */
    assert_true(log_has("no time left"));
}

/* OTel trace SDK spec, "Export": Export MUST NOT block indefinitely;
 * the deadline the processor passes (what is left of a shutdown, say)
 * bounds the call when it comes before the exporter's own timeout, for a
 * collector that never answers and for retries alike. */
static void test_otel_otlp_export_ends_by_given_deadline(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HANG}};
    cur_srv = fake_start(0, s, 1);
    cur_e = new_exporter(cur_srv->port, false, 10 * SEC_NS);
    uint64_t t0 = otel_mono_ns();
    assert_int_equal(export_by(cur_e, t0 + 200 * MS_NS), OTEL_ERR_TIMEOUT);
    uint64_t took = otel_mono_ns() - t0;
    assert_true(took >= 150 * MS_NS);
    assert_true(took < 3 * SEC_NS); /* not the 10 s timeout */
    /* A deadline already passed: no request at all. */
    int before = fake_requests(cur_srv);
    assert_int_equal(export_by(cur_e, otel_mono_ns()), OTEL_ERR_TIMEOUT);
    assert_int_equal(fake_requests(cur_srv), before);
}

/* google.rpc.Status{code 8, "slow down", [Any RetryInfo{retry_delay 0 s}]},
 * base64 without padding. */
#define RETRY_INFO_0S                                                                              \
    "CAgSCXNsb3cgZG93bhouCih0eXBlLmdvb2dsZWFwaXMuY29tL2dvb2dsZS5ycGMuUmV0cnlJbmZvEgIKAA"

/* A collector answering RESOURCE_EXHAUSTED with RetryInfo 0 s to every
 * call: the minimum backoff spaces the retries (here 100 ms over a 1 s
 * export timeout: at most 11 calls, not thousands). */
static void test_otel_otlp_export_retry_info_zero_delay_spaced(void **state)
{
    (void)state;
    otel_retry_policy p;
    otel_retry_policy_default(&p);
    otel_retry_policy saved = p;
    p.min_backoff_ns = 100 * MS_NS;
    otel_retry_policy_set_default(&p);
    fake_action s[] = {{.kind = FAKE_STATUS, .grpc_status = 8, .details_bin = RETRY_INFO_0S}};
    cur_srv = fake_start(0, s, 1);
    cur_e = new_exporter(cur_srv->port, false, 1000 * MS_NS);
    otel_retry_policy_set_default(&saved);
    int rc = do_export(cur_e);
    assert_true(rc == OTEL_ERR_TIMEOUT || rc == OTEL_ERR_IO);
    assert_true(fake_requests(cur_srv) >= 2); /* it was retried */
    assert_true(fake_requests(cur_srv) <= 11);
}

static void test_otel_otlp_export_http_503_retried(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HTTP, .http_status = 503}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().retries, 1);
}

static void test_otel_otlp_export_http_404_not_retried(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HTTP, .http_status = 404}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), OTEL_ERR_IO);
    assert_int_equal(fake_requests(cur_srv), 1);
    assert_true(log_has("UNIMPLEMENTED"));
}

static void test_otel_otlp_export_goaway_reconnects(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_GOAWAY_OK}, {.kind = FAKE_GOAWAY_REFUSE}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 3);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    /* Answered, then GOAWAY and close. */
    assert_int_equal(do_export(cur_e), 0);
    /* New connection; GOAWAY leaves the stream unprocessed: retried on a
     * third connection. */
    assert_int_equal(do_export(cur_e), 0);
    otel_otlp_stats st = stats();
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.retries, 1);
    assert_int_equal(st.connects, 3);
    assert_int_equal(fake_connections(cur_srv), 3);
}

static void test_otel_otlp_export_rst_stream_retried(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_RST, .rst_error = NGHTTP2_REFUSED_STREAM},
                       {.kind = FAKE_RST, .rst_error = NGHTTP2_CANCEL},
                       {.kind = FAKE_OK},
                       {.kind = FAKE_RST, .rst_error = NGHTTP2_INTERNAL_ERROR},
                       {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 5);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().retries, 2);
    /* INTERNAL_ERROR maps to INTERNAL, which is not retried. */
    assert_int_equal(do_export(cur_e), OTEL_ERR_IO);
    assert_int_equal(fake_requests(cur_srv), 4);
    assert_int_equal(stats().connects, 1);
}

static void test_otel_otlp_export_server_closes_retried(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_CLOSE}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().connects, 2);
}

static void test_otel_otlp_export_deadline(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HANG}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_e = new_exporter(cur_srv->port, false, 300 * MS_NS);
    uint64_t t0 = fake_mono_ms();
    assert_int_equal(do_export(cur_e), OTEL_ERR_TIMEOUT);
    uint64_t took = fake_mono_ms() - t0;
    assert_true(took >= 290);
    assert_true(took < 300 + DEADLINE_SLACK_MS);
    assert_int_equal(logs(), 1);
    /* The next export gets a new connection and goes through. */
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(fake_connections(cur_srv), 2);
}

static void test_otel_otlp_export_refused_then_listening(void **state)
{
    (void)state;
    uint16_t port = fake_free_port();
    /* 1 s: room for several attempts (20 to 80 ms apart) on a loaded
     * machine; the log names the refusal even when the deadline cuts the
     * last attempt short. */
    cur_e = new_exporter(port, false, 1000 * MS_NS);
    uint64_t t0 = fake_mono_ms();
    int rc = do_export(cur_e);
    assert_true(rc == OTEL_ERR_TIMEOUT || rc == OTEL_ERR_IO);
    assert_true(fake_mono_ms() - t0 < 1000 + DEADLINE_SLACK_MS);
    assert_true(stats().requests >= 2); /* refused connections are retried */
    assert_int_equal(stats().connects, 0);
    assert_true(log_has("refused"));
    cur_srv = fake_start(port, NULL, 0);
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().connects, 1);
}

static void test_otel_otlp_export_large_batch(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_spans; i++)
        free(spans[i]);
    make_spans(N_BIG, true);
    cur_srv = fake_start(0, NULL, 0);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    pthread_mutex_lock(&cur_srv->lock);
    assert_true(cur_srv->prefix_ok);
    assert_true(cur_srv->body_len >= 2 * 1024 * 1024);
    size_t body_len = cur_srv->body_len;
    pthread_mutex_unlock(&cur_srv->lock);
    assert_true(message_has(cur_srv, "span-639"));
    assert_int_equal(stats().bytes_sent, body_len);
}

static void test_otel_otlp_export_gzip(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_spans; i++)
        free(spans[i]);
    make_spans(50, true);
    /* The response comes back compressed too. */
    fake_action a = {
        .kind = FAKE_OK, .resp = partial_resp, .resp_len = sizeof(partial_resp), .resp_gzip = true};
    cur_srv = fake_start(0, &a, 1);
    cur_e = new_exporter(cur_srv->port, true, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 2);
    assert_true(fake_saw_header(cur_srv, "grpc-encoding", "gzip"));
    pthread_mutex_lock(&cur_srv->lock);
    assert_true(cur_srv->prefix_ok);
    assert_true(cur_srv->compressed);
    assert_true(cur_srv->inflate_ok);
    assert_true(cur_srv->message_len > 50 * BIG_ATTR_LEN);
    assert_true(cur_srv->body_len < cur_srv->message_len / 10); /* "xxx..." squeezes */
    pthread_mutex_unlock(&cur_srv->lock);
    assert_true(message_has(cur_srv, "span-49"));
}

/* With gzip the receiver inflates exactly the message sent without it; the
 * deflate level is the fastest (the gzip header's XFL says 4). */
static void test_otel_otlp_export_gzip_same_message(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_spans; i++)
        free(spans[i]);
    make_spans(200, true);
    cur_srv = fake_start(0, NULL, 0);
    otel_otlp *plain = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(plain), 0);
    otel_otlp_del(plain);
    pthread_mutex_lock(&cur_srv->lock);
    size_t want_len = cur_srv->message_len;
    uint8_t *want = malloc(want_len);
    assert_non_null(want);
    memcpy(want, cur_srv->message, want_len);
    pthread_mutex_unlock(&cur_srv->lock);
    cur_e = new_exporter(cur_srv->port, true, 5 * SEC_NS);
    for (int k = 0; k < 2; k++) { /* the second reuses the deflate state */
        assert_int_equal(do_export(cur_e), 0);
        pthread_mutex_lock(&cur_srv->lock);
        assert_true(cur_srv->compressed);
        assert_true(cur_srv->inflate_ok);
        assert_true(cur_srv->body_len > 5 + 10);
        assert_int_equal(cur_srv->body[5 + 8], 4);
        assert_int_equal(cur_srv->message_len, want_len);
        assert_memory_equal(cur_srv->message, want, want_len);
        pthread_mutex_unlock(&cur_srv->lock);
    }
    free(want);
}

static void test_otel_otlp_export_alloc_failure(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    /* Fail the i-th allocation of a first export (fresh buffers) and every
     * one after it: an error or a success, never a crash or a leak. */
    int rc = OTEL_ERR_NOMEM;
    long i;
    for (i = 0; i < 100 && rc != 0; i++) {
        cur_e = new_exporter(cur_srv->port, true, 2 * SEC_NS);
        otel_exporter *x = borrow(cur_e);
        otel_alloc_fail_after(i);
        rc = x->export_fn(x->user_data, views, n_spans, otel_mono_ns() + 60 * SEC_NS);
        otel_alloc_fail_after(-1);
        otel_exporter_del(x);
        assert_true(rc == 0 || rc == OTEL_ERR_NOMEM);
        if (rc == OTEL_ERR_NOMEM)
            assert_int_equal(do_export(cur_e), 0); /* and it recovers */
        otel_otlp_del(cur_e);
        cur_e = NULL;
    }
    assert_int_equal(rc, 0);
    assert_true(i > 3);
}

static void test_otel_otlp_shutdown_closes_connection(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(fake_open_conns(cur_srv), 1);
    otel_exporter *x = borrow(cur_e);
    assert_string_equal(otel_exporter_name(x), "otlp");
    assert_int_equal(x->shutdown_fn(x->user_data, otel_mono_ns() + SEC_NS), OTEL_OK);
    otel_exporter_del(x);
    for (int i = 0; i < 200 && fake_open_conns(cur_srv) > 0; i++)
        usleep(5000);
    assert_int_equal(fake_open_conns(cur_srv), 0);
    assert_int_equal(do_export(cur_e), OTEL_ERR_STATE);
    assert_int_equal(fake_requests(cur_srv), 1);
}

/* What a forked child does before its first export: the inherited
 * connection is dropped without a request on it, the next export opens its
 * own. */
static void test_otel_otlp_after_fork_drops_connection(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_e = new_exporter(cur_srv->port, false, 5 * SEC_NS);
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().connects, 1);
    otel_exporter *x = borrow(cur_e);
    assert_non_null(x->after_fork_fn);
    x->after_fork_fn(x->user_data);
    otel_exporter_del(x);
    assert_int_equal(fake_requests(cur_srv), 1); /* nothing sent by dropping */
    assert_int_equal(do_export(cur_e), 0);
    assert_int_equal(stats().connects, 2);
    assert_int_equal(fake_connections(cur_srv), 2);
    assert_int_equal(fake_requests(cur_srv), 2);
}

static void test_otel_otlp_exporter_with_tracer(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_e = new_exporter(cur_srv->port, true, 5 * SEC_NS);
    otel_resource *res;
    assert_int_equal(otel_resource_new(&res, "otlp-test"), OTEL_OK);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_tracer *t;
    assert_int_equal(otel_tracer_new(&t, &cfg, res), OTEL_OK);
    otel_exporter *x = NULL;
    assert_int_equal(otel_otlp_exporter(cur_e, &x), OTEL_OK); /* the tracer owns cur_e now */
    otel_otlp *mine = cur_e;
    cur_e = NULL;
    assert_int_equal(otel_tracer_add_exporter(t, x), OTEL_OK);
    assert_int_equal(otel_tracer_start(t), OTEL_OK);
    for (int i = 0; i < 10; i++) {
        otel_span *s = otel_span_start(t, "GET /tracer", NULL);
        assert_non_null(s);
        otel_span_end(s);
    }
    assert_int_equal(otel_tracer_force_flush(t, 5 * SEC_NS), OTEL_OK);
    assert_int_equal(otel_tracer_shutdown(t), OTEL_OK);
    otel_stats st;
    otel_tracer_stats(t, &st);
    assert_int_equal(st.exported, 10);
    assert_int_equal(st.failed, 0);
    otel_otlp_stats os;
    otel_otlp_get_stats(mine, &os); /* valid while the tracer holds it */
    assert_int_equal(os.requests, 1);
    otel_tracer_del(t);
    assert_true(message_has(cur_srv, "GET /tracer"));
    assert_true(message_has(cur_srv, "otlp-test"));
}

/* A resolver that never answers within a test (10 s). */
static int stuck_lookup(const char *host, const char *port, const struct addrinfo *hints,
                        struct addrinfo **res)
{
    (void)host;
    usleep(2 * 1000 * 1000);
    return getaddrinfo("127.0.0.1", port, hints, res);
}

/* Connection set-up is part of the export's deadline: a name whose lookup
 * hangs costs the export its deadline, not the lookup's time. */
static void test_otel_otlp_export_deadline_covers_name_lookup(void **state)
{
    (void)state;
    otel_resolve_set_lookup(stuck_lookup);
    char err[256];
    otel_otlp_config cfg = {.endpoint = "http://collector.example:4317", .timeout_ns = 10 * SEC_NS};
    assert_int_equal(otel_otlp_new(&cur_e, &cfg, err, sizeof(err)), OTEL_OK);
    uint64_t t0 = otel_mono_ns();
    assert_int_equal(export_by(cur_e, t0 + 200 * MS_NS), OTEL_ERR_TIMEOUT);
    uint64_t took = otel_mono_ns() - t0;
    assert_true(took < 1500 * MS_NS); /* the lookup takes 2 s */
    assert_true(log_has("collector.example"));
    for (int i = 0; i < 400 && otel_resolve_pending() > 0; i++)
        usleep(10000);
    assert_int_equal(otel_resolve_pending(), 0);
    otel_resolve_set_lookup(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_otlp_new_validates_endpoint),
        T(test_otel_otlp_target_default_any_rule),
        T(test_otel_otlp_new_validates_headers),
        T(test_otel_otlp_new_alloc_failure),
        T(test_otel_otlp_export_ok_and_request_headers),
        T(test_otel_otlp_export_partial_success),
        T(test_otel_otlp_collector_text_escaped_in_log),
        T(test_otel_otlp_export_retries_unavailable),
        T(test_otel_otlp_export_timeout_says_earlier_failure),
        T(test_otel_otlp_export_not_retryable),
        T(test_otel_otlp_export_failures_logged_once_per_second),
        T(test_otel_otlp_export_resource_exhausted),
        T(test_otel_otlp_export_retry_info_past_deadline),
        T(test_otel_otlp_export_retry_info_zero_delay_spaced),
        T(test_otel_otlp_export_http_503_retried),
        T(test_otel_otlp_export_http_404_not_retried),
        T(test_otel_otlp_export_goaway_reconnects),
        T(test_otel_otlp_export_rst_stream_retried),
        T(test_otel_otlp_export_server_closes_retried),
        T(test_otel_otlp_export_deadline),
        T(test_otel_otlp_export_refused_then_listening),
        T(test_otel_otlp_export_large_batch),
        T(test_otel_otlp_export_gzip),
        T(test_otel_otlp_export_gzip_same_message),
        T(test_otel_otlp_export_alloc_failure),
        T(test_otel_otlp_shutdown_closes_connection),
        T(test_otel_otlp_after_fork_drops_connection),
        T(test_otel_otlp_exporter_with_tracer),
        T(test_otel_otlp_export_ends_by_given_deadline),
        T(test_otel_otlp_export_deadline_covers_name_lookup),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
