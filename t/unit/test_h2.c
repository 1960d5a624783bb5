/* test_h2.c - tests of exporter/h2.c (the HTTP/2 client connection) against
 * the in-process fake gRPC server of t/lib/fake_grpc.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>

#include <arpa/inet.h>
#include <netinet/in.h>
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
#include "../../core/test_hooks.h"

#define PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

static fake_server *cur_srv; /* freed by the teardown */
static otel_h2 *cur_h2;

static int teardown(void **state)
{
    (void)state;
    otel_h2_del(cur_h2);
    cur_h2 = NULL;
    fake_stop(cur_srv);
    cur_srv = NULL;
    otel_alloc_fail_after(-1);
    return 0;
}

static otel_h2 *client_for(uint16_t port)
{
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    otel_h2_endpoint ep;
    assert_int_equal(otel_h2_endpoint_parse(url, &ep, err, sizeof(err)), OTEL_OK);
    otel_h2 *c;
    assert_int_equal(otel_h2_new(&c, &ep), OTEL_OK);
    return c;
}

static uint64_t deadline_in_ms(uint64_t ms)
{
    return otel_mono_ns() + ms * MS_NS;
}

/* A framed message of n bytes (payload bytes i & 0xff). Caller frees. */
static uint8_t *framed(size_t n, size_t *len)
{
    uint8_t *b = malloc(n + 5);
    assert_non_null(b);
    otel_grpc_prefix_write(b, false, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        b[5 + i] = (uint8_t)i;
    *len = n + 5;
    return b;
}

static int send_pieces(otel_h2 *c, const otel_h2_buf *pieces, size_t n, uint64_t ms,
                       otel_h2_response *resp)
{
    const otel_h2_header hd[] = {
        {"content-type", "application/grpc"}, {"te", "trailers"}, {"x-custom", "Value 1"}};
    otel_h2_request req = {
        .method = "POST", .path = PATH, .headers = hd, .n_headers = 3, .body = pieces, .n_body = n};
    return otel_h2_send_request(c, &req, deadline_in_ms(ms), resp);
}

/* A framed message (len >= 5) sent as the exporter sends one: the prefix
 * and the message as two pieces. */
static int send_one(otel_h2 *c, const uint8_t *body, size_t len, uint64_t ms,
                    otel_h2_response *resp)
{
    const otel_h2_buf pieces[2] = {{body, 5}, {body + 5, len - 5}};
    return send_pieces(c, pieces, 2, ms, resp);
}

/* Whether the last request's body (prev: the one before) is len bytes at
 * want. */
static bool fake_body_is(fake_server *s, bool prev, const uint8_t *want, size_t len)
{
    pthread_mutex_lock(&s->lock);
    const uint8_t *got = prev ? s->prev_body : s->body;
    size_t got_len = prev ? s->prev_body_len : s->body_len;
    bool same = got_len == len && (len == 0 || memcmp(got, want, len) == 0);
    pthread_mutex_unlock(&s->lock);
    return same;
}

/* Shrink the send buffer of the client's socket to the fake server at port
 * (found among our descriptors by its peer) to about bytes. */
static void shrink_client_sndbuf(uint16_t port, int bytes)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a;
        socklen_t sl = sizeof(a);
        if (getpeername(fd, (struct sockaddr *)&a, &sl) == 0 && a.sin_family == AF_INET &&
            ntohs(a.sin_port) == port) {
            assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)), 0);
            return;
        }
    }
    fail_msg("no client socket to port %u", port);
}

/* ---- endpoint ----------------------------------------------------------- */

static void test_otel_h2_endpoint_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host, *port, *authority;
    } ok[] = {
        {"http://127.0.0.1:4317", "127.0.0.1", "4317", "127.0.0.1:4317"},
        {"http://localhost:4318/", "localhost", "4318", "localhost:4318"},
        {"HTTP://Collector.example_1:1", "Collector.example_1", "1", "Collector.example_1:1"},
        {"http://otel-collector", "otel-collector", "4317", "otel-collector:4317"},
        {"http://[::1]:4317", "::1", "4317", "[::1]:4317"},
        {"http://[2001:db8::7]", "2001:db8::7", "4317", "[2001:db8::7]:4317"},
        {"http://h:65535", "h", "65535", "h:65535"},
        {"http://h:00080", "h", "80", "h:80"},
        {"https://h", "h", "443", "h:443"},
        {"HTTPS://[::1]:4317/", "::1", "4317", "[::1]:4317"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        otel_h2_endpoint ep;
        assert_int_equal(otel_h2_endpoint_parse(ok[i].url, &ep, err, sizeof(err)), OTEL_OK);
        assert_string_equal(ep.host, ok[i].host);
        assert_string_equal(ep.port, ok[i].port);
        assert_string_equal(ep.authority, ok[i].authority);
        assert_int_equal(ep.tls, strncasecmp(ok[i].url, "https", 5) == 0);
    }
}

static void test_otel_h2_endpoint_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "localhost:4317",
                         "ftp://h:1",
                         "http://",
                         "http://:4317",
                         "http://h:0",
                         "http://h:65536",
                         "http://h:123456",
                         "http://h:12a",
                         "http://h:",
                         "http://h:4317/v1/traces",
                         "http://h:4317?x=1",
                         "http://[::1:4317",
                         "http://[]:1",
                         "http://[zz::1]:1",
                         "http://ho st:1",
                         "http://user@h:1"};
    char err[256];
    otel_h2_endpoint ep;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(otel_h2_endpoint_parse(bad[i], &ep, err, sizeof(err)), OTEL_ERR_INVALID);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(otel_h2_endpoint_parse(NULL, &ep, err, sizeof(err)), OTEL_ERR_INVALID);
}

static void test_otel_h2_new_alloc_failure(void **state)
{
    (void)state;
    otel_h2_endpoint ep;
    char err[64];
    assert_int_equal(otel_h2_endpoint_parse("http://127.0.0.1:1", &ep, err, sizeof(err)), 0);
    otel_alloc_fail_after(0);
    otel_h2 *c = (otel_h2 *)1;
    assert_int_equal(otel_h2_new(&c, &ep), OTEL_ERR_NOMEM);
    assert_null(c);
    otel_alloc_fail_after(-1);
    otel_h2_del(NULL);
}

/* ---- requests ----------------------------------------------------------- */

static void test_otel_h2_send_request_ok_and_headers(void **state)
{
    (void)state;
    static const uint8_t resp_msg[] = {0x0a, 0x02, 0x08, 0x05};
    fake_action a = {.kind = FAKE_OK, .resp = resp_msg, .resp_len = sizeof(resp_msg)};
    cur_srv = fake_start(0, &a, 1);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(100, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_false(r.reset);
    assert_int_equal(r.data_len, 5 + sizeof(resp_msg));
    assert_memory_equal(r.data + 5, resp_msg, sizeof(resp_msg));
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "0");
    assert_string_equal(otel_h2_response_field(cur_h2, "content-type"), "application/grpc");
    assert_null(otel_h2_response_field(cur_h2, "grpc-message"));
    assert_string_equal(otel_h2_error(cur_h2), "");

    char authority[64];
    snprintf(authority, sizeof(authority), "127.0.0.1:%u", cur_srv->port);
    assert_true(fake_saw_header(cur_srv, ":method", "POST"));
    assert_true(fake_saw_header(cur_srv, ":scheme", "http"));
    assert_true(fake_saw_header(cur_srv, ":path", PATH));
    assert_true(fake_saw_header(cur_srv, ":authority", authority));
    assert_true(fake_saw_header(cur_srv, "content-type", "application/grpc"));
    assert_true(fake_saw_header(cur_srv, "te", "trailers"));
    assert_true(fake_saw_header(cur_srv, "x-custom", "Value 1"));
    pthread_mutex_lock(&cur_srv->lock);
    assert_true(cur_srv->prefix_ok);
    assert_int_equal(cur_srv->body_len, len);
    assert_memory_equal(cur_srv->body, body, len);
    pthread_mutex_unlock(&cur_srv->lock);
    assert_true(otel_h2_is_connected(cur_h2));
    free(body);
}

static void test_otel_h2_send_request_reuses_connection(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
        assert_int_equal(r.status, 200);
    }
    assert_int_equal(fake_requests(cur_srv), 5);
    assert_int_equal(fake_connections(cur_srv), 1);
    assert_int_equal(otel_h2_connects(cur_h2), 1);
    free(body);
}

static void test_otel_h2_send_request_large_body_flow_control(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(2 * 1024 * 1024 + 17, &len);
    otel_h2_response r;
    for (int i = 0; i < 2; i++) { /* twice: the windows recover */
        assert_int_equal(send_one(cur_h2, body, len, 5000, &r), OTEL_OK);
        assert_int_equal(r.status, 200);
        pthread_mutex_lock(&cur_srv->lock);
        assert_true(cur_srv->prefix_ok);
        assert_int_equal(cur_srv->body_len, len);
        assert_memory_equal(cur_srv->body, body, len);
        pthread_mutex_unlock(&cur_srv->lock);
    }
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

static void test_otel_h2_send_request_body_pieces(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(40000, &len);
    otel_h2_response r;
    /* Pieces that DATA frames (16384 bytes here) cut across, one empty. */
    const otel_h2_buf p4[4] = {
        {body, 3}, {body + 3, 0}, {body + 3, 16384 + 7}, {body + 16394, len - 16394}};
    assert_int_equal(send_pieces(cur_h2, p4, 4, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_true(fake_body_is(cur_srv, false, body, len));
    /* Too many pieces: refused before anything is sent. */
    const otel_h2_buf p5[5] = {
        {body, 1}, {body + 1, 1}, {body + 2, 1}, {body + 3, 1}, {body + 4, len - 4}};
    assert_int_equal(send_pieces(cur_h2, p5, 5, 2000, &r), OTEL_ERR_INVALID);
    assert_non_null(strstr(otel_h2_error(cur_h2), "pieces"));
    assert_int_equal(fake_requests(cur_srv), 1);
    /* No body at all: END_STREAM on the HEADERS. */
    assert_int_equal(send_pieces(cur_h2, NULL, 0, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_true(fake_body_is(cur_srv, false, NULL, 0));
    /* A body of one empty piece: an empty DATA frame. */
    const otel_h2_buf empty = {body, 0};
    assert_int_equal(send_pieces(cur_h2, &empty, 1, 2000, &r), OTEL_OK);
    assert_true(fake_body_is(cur_srv, false, NULL, 0));
    assert_int_equal(fake_requests(cur_srv), 3);
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

/* A slow peer: a small receive buffer read 4 KiB at a time, and a 16 MiB
 * window, so that HTTP/2 flow control does not hold the client back. */
static const fake_opts slow_reader = {
    .rcvbuf = 4096, .read_chunk = 4096, .read_delay_us = 20, .window = 16 << 20};

/* A client connected to a slow reader with a small send buffer: request
 * bodies fill the socket. */
static void start_socket_full(const fake_action *script, size_t n)
{
    cur_srv = fake_start_opts(0, script, n, &slow_reader);
    cur_h2 = client_for(cur_srv->port);
    otel_h2_response r;
    const otel_h2_buf none = {NULL, 0};
    assert_int_equal(send_pieces(cur_h2, &none, 1, 2000, &r), OTEL_OK); /* connect */
    shrink_client_sndbuf(cur_srv->port, 4096);
}

/* Writes stop part way through frames when the socket is full and go on
 * where they stopped: every byte arrives, in order. */
static void test_otel_h2_send_request_socket_full(void **state)
{
    (void)state;
    start_socket_full(NULL, 0);
    size_t len;
    uint8_t *body = framed(2 * 1024 * 1024 + 3, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_true(fake_body_is(cur_srv, false, body, len));
    assert_true(otel_h2_write_stalls(cur_h2) > 10);
    /* And the connection is fine for the next one. */
    assert_int_equal(send_one(cur_h2, body, 105, 5000, &r), OTEL_OK);
    assert_true(fake_body_is(cur_srv, false, body, 105));
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

/* The peer answers at the request's HEADERS, so the stream closes as soon
 * as its last DATA frame is queued, with frames still waiting for the full
 * socket: those are copied before the call returns. The caller overwrites
 * its body at once; the peer still gets the original, ahead of the next
 * request. */
static void test_otel_h2_send_request_early_answer(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_OK}, {.kind = FAKE_EARLY}, {.kind = FAKE_OK}};
    start_socket_full(s, 3);
    size_t len;
    uint8_t *body = framed(1024 * 1024 + 1, &len);
    uint8_t *want = malloc(len);
    assert_non_null(want);
    memcpy(want, body, len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "0");
    memset(body, 0xee, len);
    size_t len2;
    uint8_t *body2 = framed(10, &len2);
    assert_int_equal(send_one(cur_h2, body2, len2, 20000, &r), OTEL_OK);
    assert_true(fake_body_is(cur_srv, true, want, len));
    assert_true(fake_body_is(cur_srv, false, body2, len2));
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
    free(body2);
    free(want);
}

/* The same, but the peer then resets the stream (without error): nghttp2
 * drops the rest of the body, the frames already queued go out whole, and
 * the connection stays usable. */
static void test_otel_h2_send_request_early_answer_reset(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_OK}, {.kind = FAKE_EARLY_RST}, {.kind = FAKE_OK}};
    start_socket_full(s, 3);
    size_t len;
    uint8_t *body = framed(1024 * 1024 + 1, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_false(r.reset);
    memset(body, 0xee, len);
    assert_int_equal(send_one(cur_h2, body, 15, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(fake_requests(cur_srv), 3);
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

/* Fail the i-th allocation of a first request (fresh buffers) and every one
 * after it: OTEL_ERR_NOMEM or a success, never a crash or a leak, and the
 * next request goes through. */
static void test_otel_h2_send_request_alloc_failure(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    size_t len;
    uint8_t *body = framed(100000, &len);
    otel_h2_response r;
    int rc = OTEL_ERR_NOMEM;
    long i;
    for (i = 0; i < 50 && rc != OTEL_OK; i++) {
        cur_h2 = client_for(cur_srv->port);
        otel_alloc_fail_after(i);
        rc = send_one(cur_h2, body, len, 2000, &r);
        otel_alloc_fail_after(-1);
        assert_true(rc == OTEL_OK || rc == OTEL_ERR_NOMEM);
        if (rc == OTEL_ERR_NOMEM)
            assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
        assert_true(fake_body_is(cur_srv, false, body, len));
        otel_h2_del(cur_h2);
        cur_h2 = NULL;
    }
    assert_int_equal(rc, OTEL_OK);
    assert_true(i > 2);
    free(body);
}

static void test_otel_h2_send_request_refused_then_listening(void **state)
{
    (void)state;
    uint16_t port = fake_free_port();
    cur_h2 = client_for(port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    uint64_t t0 = fake_mono_ms();
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_true(fake_mono_ms() - t0 < 1500); /* at once, not at the 2 s deadline */
    assert_non_null(strstr(otel_h2_error(cur_h2), "refused"));
    assert_false(otel_h2_is_connected(cur_h2));
    cur_srv = fake_start(port, NULL, 0);
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(otel_h2_connects(cur_h2), 1);
    free(body);
}

static void test_otel_h2_send_request_rst_stream(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_RST, .rst_error = NGHTTP2_REFUSED_STREAM}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_true(r.reset);
    assert_int_equal(r.reset_error, NGHTTP2_REFUSED_STREAM);
    assert_non_null(strstr(otel_h2_error(cur_h2), "reset"));
    /* A stream error: the connection is kept. */
    assert_true(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

static void test_otel_h2_send_request_goaway_refused(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_GOAWAY_REFUSE}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_true(r.reset);
    assert_int_equal(r.reset_error, NGHTTP2_REFUSED_STREAM);
    assert_false(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(fake_connections(cur_srv), 2);
    assert_int_equal(otel_h2_connects(cur_h2), 2);
    free(body);
}

static void test_otel_h2_send_request_goaway_after_answer(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_GOAWAY_OK}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "0");
    /* The GOAWAY may come with the answer or just after it: either way the
     * next request goes out on a new connection. */
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(fake_connections(cur_srv), 2);
    assert_int_equal(fake_requests(cur_srv), 2);
    free(body);
}

static void test_otel_h2_send_request_deadline(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HANG}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    uint64_t t0 = fake_mono_ms();
    assert_int_equal(send_one(cur_h2, body, len, 300, &r), OTEL_ERR_TIMEOUT);
    uint64_t took = fake_mono_ms() - t0;
    /* Ended by its deadline: never before it; after it by no more than a
     * loaded machine's scheduling slack. */
    assert_true(took >= 290);
    assert_true(took < 300 + DEADLINE_SLACK_MS);
    assert_false(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    free(body);
}

static void test_otel_h2_send_request_server_closes(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_CLOSE}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_false(r.reset);
    assert_false(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(fake_connections(cur_srv), 2);
    free(body);
}

static void test_otel_h2_send_request_idle_connection_closed(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    fake_drop_connections(cur_srv);
    usleep(20000);
    /* Noticed before the request goes out: no error, a new connection. */
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(otel_h2_error(cur_h2), "");
    assert_int_equal(fake_connections(cur_srv), 2);
    free(body);
}

static void test_otel_h2_send_request_http_status(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HTTP, .http_status = 503}};
    cur_srv = fake_start(0, s, 1);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 503);
    assert_null(otel_h2_response_field(cur_h2, "grpc-status"));
    free(body);
}

static void test_otel_h2_send_request_trailers_only(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_STATUS,
                        .grpc_status = 14,
                        .grpc_message = "try%20later",
                        .details_bin = "AAEC"}};
    cur_srv = fake_start(0, s, 1);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.data_len, 0);
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "14");
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-message"), "try%20later");
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status-details-bin"), "AAEC");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_h2_endpoint_parse_valid),
        cmocka_unit_test(test_otel_h2_endpoint_parse_invalid),
        cmocka_unit_test_teardown(test_otel_h2_new_alloc_failure, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_ok_and_headers, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_reuses_connection, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_large_body_flow_control, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_body_pieces, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_socket_full, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_early_answer, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_early_answer_reset, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_alloc_failure, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_refused_then_listening, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_rst_stream, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_goaway_refused, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_goaway_after_answer, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_deadline, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_server_closes, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_idle_connection_closed, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_http_status, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_trailers_only, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
