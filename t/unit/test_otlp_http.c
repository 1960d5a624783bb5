/* test_otlp_http.c - tests of exporter/otlp_http.c (the OTLP/HTTP transport
 * over libcurl) against the scripted receiver of t/lib/fake_http.c and, for
 * https://, the TLS server of t/lib/fake_tls.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include "../../exporter/otlp_http.h"
#include "../lib/fake_http.h"
#include "../lib/fake_tls.h"
#include "../lib/itest.h"
#include "../../core/test_hooks.h"

#define MS_NS UINT64_C(1000000)
#define SEC_NS UINT64_C(1000000000)
#define POST_WAIT_NS (10 * SEC_NS) /* bound of one post, never a wait */
#define WAIT_MS 10000              /* the same for the servers' records */
#define LARGE_LEN (2 * 1024 * 1024)
#define CAP_S (UINT64_C(1) << 32) /* the longest Retry-After delay kept, in seconds */
/* Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110 section 5.6.7 */
#define EXAMPLE_DATE INT64_C(784111777)

static itest_certs certs; /* made once for the whole group */

/* What a test leaves for the teardown to free. */
static otel_otlp_http *cur_h;
static fake_http *cur_f;
static fake_tls *cur_s;
static int cur_lfd = -1;

static const char *const std_headers[] = {
    "Content-Type: application/x-protobuf",
    "User-Agent: mhd-otel-test/1",
    "X-Custom: Value 1",
};
#define N_STD_HEADERS (sizeof(std_headers) / sizeof(std_headers[0]))

/* ---- helpers ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return itest_certs_make(&certs) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    itest_certs_cleanup(&certs);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    otel_otlp_http_del(cur_h);
    cur_h = NULL;
    fake_http_stop(cur_f);
    cur_f = NULL;
    fake_tls_stop(cur_s);
    cur_s = NULL;
    if (cur_lfd >= 0)
        close(cur_lfd);
    cur_lfd = -1;
    return 0;
}

/* A transport to scheme://host:port/v1/traces with the standard headers. */
static otel_otlp_http *transport(const char *scheme, const char *host, uint16_t port,
                                 const otel_tls_config *tls)
{
    char url[128], err[256] = "";
    snprintf(url, sizeof(url), "%s://%s:%u/v1/traces", scheme, host, (unsigned)port);
    otel_otlp_http *h = NULL;
    int rc = otel_otlp_http_new(&h, url, std_headers, N_STD_HEADERS, tls, err, sizeof(err));
    if (rc != OTEL_OK)
        fail_msg("otel_otlp_http_new(%s): %s", url, err);
    return h;
}

/* A receiver answering script (n answers) and then the zero answer, and a
 * transport to it, both freed by the teardown. */
static void start_http(const fake_http_answer *script, size_t n)
{
    cur_f = fake_http_start(script, n, NULL);
    assert_non_null(cur_f);
    cur_h = transport("http", "127.0.0.1", fake_http_port(cur_f), NULL);
}

static int post(otel_otlp_http *h, const void *body, size_t len, otel_otlp_http_result *r)
{
    return otel_otlp_http_post(h, body, len, otel_mono_ns() + POST_WAIT_NS, r);
}

/* A post that must get a response; its status. */
static long post_ok(otel_otlp_http *h, const void *body, size_t len, otel_otlp_http_result *r)
{
    int rc = post(h, body, len, r);
    if (rc != OTEL_OK)
        fail_msg("otel_otlp_http_post: %s: %s", otel_strerror(rc), r->err);
    return r->status;
}

/* len bytes of a pattern (heap, freed by the caller). */
static uint8_t *pattern(size_t len)
{
    uint8_t *b = malloc(len);
    assert_non_null(b);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(i * 13 + i / 509);
    return b;
}

/* ---- otel_otlp_http_new -------------------------------------------------- */

/* A URL libcurl cannot parse, or of a scheme other than http and https,
 * is refused with a message and no transport. */
static void test_otel_otlp_http_new_bad_url(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "not a url",
        "127.0.0.1:4318/v1/traces",
        "ftp://127.0.0.1/v1/traces",
        "http://",
        "http://[::1/v1/traces",
        "https://host:99999/v1/traces",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        otel_otlp_http *h = (otel_otlp_http *)&certs;
        char err[256] = "";
        int rc = otel_otlp_http_new(&h, bad[i], std_headers, N_STD_HEADERS, NULL, err, sizeof(err));
        if (rc != OTEL_ERR_INVALID)
            fail_msg("\"%s\": %d, not OTEL_ERR_INVALID", bad[i], rc);
        assert_null(h);
        assert_non_null(strstr(err, "URL"));
    }
    /* The forms the exporter uses are taken. */
    static const char *const good[] = {
        "http://127.0.0.1:4318/v1/traces",
        "HTTPS://collector.example/v1/traces",
        "http://[::1]:4318/v1/traces",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        otel_otlp_http *h = NULL;
        char err[256] = "";
        if (otel_otlp_http_new(&h, good[i], NULL, 0, NULL, err, sizeof(err)) != OTEL_OK)
            fail_msg("\"%s\": %s", good[i], err);
        otel_otlp_http_del(h);
    }
    otel_otlp_http_del(NULL);
}

/* The n-th allocation failing, for each n: NOMEM with a message and no
 * transport (nothing leaks), until the transport needs no more. */
static void test_otel_otlp_http_new_alloc_failure(void **state)
{
    (void)state;
    otel_tls_config tls = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client_key};
    long n;
    for (n = 0; n < 100; n++) {
        otel_otlp_http *h = (otel_otlp_http *)&tls;
        char err[256] = "";
        otel_alloc_fail_after(n);
        int rc = otel_otlp_http_new(&h, "https://127.0.0.1:4318/v1/traces", std_headers,
                                    N_STD_HEADERS, &tls, err, sizeof(err));
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            otel_otlp_http_del(h);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(h);
        assert_string_equal(err, "out of memory");
    }
    assert_true(n >= 6); /* the handle, the URL, the body buffer, three file names */
    assert_true(n < 100);
}

/* ---- otel_otlp_http_post: cleartext -------------------------------------- */

/* A POST of HTTP/1.1 in cleartext (no upgrade to h2c) to the URL's path,
 * with the caller's headers and the body as it is; the response's status
 * and content type are reported. */
static void test_otel_otlp_http_post_delivers_body_and_headers(void **state)
{
    (void)state;
    start_http(NULL, 0);
    static const uint8_t body[] = {0x0a, 0x00, 0xff, 'o', 't', 'l', 'p', 0x00, 0x01};
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, body, sizeof(body), &r), 200);
    assert_false(r.tls);
    assert_false(r.has_retry_after);
    assert_int_equal(r.body_len, 0);
    assert_false(r.body_cut);
    assert_non_null(r.content_type);
    assert_string_equal(r.content_type, "application/x-protobuf");
    assert_true(fake_http_wait(cur_f, 1, WAIT_MS));
    fake_http_request q;
    assert_true(fake_http_get(cur_f, 0, &q));
    assert_string_equal(q.method, "POST");
    assert_string_equal(q.path, "/v1/traces");
    assert_string_equal(q.version, "HTTP/1.1");
    assert_string_equal(q.content_type, "application/x-protobuf");
    assert_string_equal(q.user_agent, "mhd-otel-test/1");
    char v[256];
    assert_true(fake_http_req_header(&q, "X-Custom", v, sizeof(v)));
    assert_string_equal(v, "Value 1");
    assert_true(fake_http_req_header(&q, "Content-Length", v, sizeof(v)));
    assert_string_equal(v, "9");
    assert_false(fake_http_req_header(&q, "Upgrade", v, sizeof(v)));
    assert_false(fake_http_req_header(&q, "HTTP2-Settings", v, sizeof(v)));
    size_t len;
    uint8_t *got = fake_http_body(cur_f, 0, &len);
    assert_non_null(got);
    assert_int_equal(len, sizeof(body));
    assert_memory_equal(got, body, sizeof(body));
    free(got);
}

/* A large body goes out at once: no "Expect: 100-continue" (RFC 9110
 * section 10.1.1) waiting for an answer a receiver may never send. */
static void test_otel_otlp_http_post_large_body_no_expect(void **state)
{
    (void)state;
    start_http(NULL, 0);
    uint8_t *body = pattern(LARGE_LEN);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, body, LARGE_LEN, &r), 200);
    assert_true(fake_http_wait(cur_f, 1, WAIT_MS));
    fake_http_request q;
    assert_true(fake_http_get(cur_f, 0, &q));
    char v[64];
    assert_false(fake_http_req_header(&q, "Expect", v, sizeof(v)));
    size_t len;
    uint8_t *got = fake_http_body(cur_f, 0, &len);
    assert_non_null(got);
    assert_int_equal(len, LARGE_LEN);
    assert_memory_equal(got, body, LARGE_LEN);
    free(got);
    free(body);
}

/* Posts one after another share one connection. */
static void test_otel_otlp_http_post_reuses_connection(void **state)
{
    (void)state;
    start_http(NULL, 0);
    assert_int_equal(otel_otlp_http_connects(cur_h), 0);
    for (int i = 0; i < 5; i++) {
        otel_otlp_http_result r;
        assert_int_equal(post_ok(cur_h, "x", 1, &r), 200);
        assert_int_equal(otel_otlp_http_connects(cur_h), 1);
    }
    assert_int_equal(fake_http_count(cur_f), 5);
}

/* Any status is a response: it comes back with its body and content type
 * (none when the response has no Content-Type). */
static void test_otel_otlp_http_post_status_and_body(void **state)
{
    (void)state;
    static const char text[] = "bad request: no spans";
    fake_http_answer script[] = {
        {.status = 400, .body = text, .body_len = sizeof(text) - 1, .content_type = "text/plain"},
        {.status = 500, .content_type = ""},
    };
    start_http(script, 2);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 400);
    assert_int_equal(r.body_len, sizeof(text) - 1);
    assert_memory_equal(r.body, text, sizeof(text) - 1);
    assert_false(r.body_cut);
    assert_string_equal(r.content_type, "text/plain");
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 500);
    assert_int_equal(r.body_len, 0);
    assert_null(r.content_type);
    assert_int_equal(otel_otlp_http_connects(cur_h), 1);
}

/* Retry-After in a response (RFC 9110 section 10.2.3) as delay-seconds or
 * as an HTTP-date; one that is neither is not reported. */
static void test_otel_otlp_http_post_retry_after(void **state)
{
    (void)state;
    fake_http_answer script[] = {
        {.status = 503, .retry_after = "7"},
        {.status = 429, .retry_after_date = true, .retry_after_s = 30},
        {.status = 503, .retry_after = "soon"},
        {.status = 503},
    };
    start_http(script, 4);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 503);
    assert_true(r.has_retry_after);
    assert_int_equal(r.retry_after_ns, 7 * SEC_NS);
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 429);
    assert_true(r.has_retry_after);
    /* The date has whole seconds and some time has passed since it was made. */
    assert_true(r.retry_after_ns <= 30 * SEC_NS);
    assert_true(r.retry_after_ns >= SEC_NS);
    assert_int_equal(r.retry_after_ns % SEC_NS, 0);
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 503);
    assert_false(r.has_retry_after);
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 503);
    assert_false(r.has_retry_after);
    assert_int_equal(r.retry_after_ns, 0);
}

/* A body longer than OTEL_OTLP_HTTP_BODY_MAX: its first bytes are kept and
 * body_cut says so; the rest is read all the same, so the next post goes
 * over the same connection and gets its own body. */
static void test_otel_otlp_http_post_body_cut(void **state)
{
    (void)state;
    size_t big = OTEL_OTLP_HTTP_BODY_MAX + 4096;
    uint8_t *body = pattern(big);
    fake_http_answer script[] = {
        {.status = 400, .body = body, .body_len = big, .content_type = "application/x-protobuf"},
        {.status = 400, .body = "ok", .body_len = 2, .content_type = "text/plain"},
    };
    start_http(script, 2);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 400);
    assert_true(r.body_cut);
    assert_int_equal(r.body_len, OTEL_OTLP_HTTP_BODY_MAX);
    assert_memory_equal(r.body, body, OTEL_OTLP_HTTP_BODY_MAX);
    assert_int_equal(post_ok(cur_h, "x", 1, &r), 400);
    assert_false(r.body_cut);
    assert_int_equal(r.body_len, 2);
    assert_memory_equal(r.body, "ok", 2);
    assert_int_equal(otel_otlp_http_connects(cur_h), 1);
    fake_http_stop(cur_f); /* before the body it borrows is freed */
    cur_f = NULL;
    free(body);
}

/* Nothing listens: OTEL_ERR_IO, no status, a reason, not a TLS failure. */
static void test_otel_otlp_http_post_no_listener(void **state)
{
    (void)state;
    uint16_t port;
    assert_int_equal(itest_port_reserve(&port), 0);
    cur_h = transport("http", "127.0.0.1", port, NULL);
    otel_otlp_http_result r;
    assert_int_equal(post(cur_h, "x", 1, &r), OTEL_ERR_IO);
    assert_int_equal(r.status, 0);
    assert_false(r.tls);
    assert_true(r.err[0] != '\0');
}

/* A receiver that accepts and never answers: OTEL_ERR_TIMEOUT once the
 * deadline passes, with a reason; a deadline already past is TIMEOUT
 * without a try. */
static void test_otel_otlp_http_post_deadline(void **state)
{
    (void)state;
    uint16_t port;
    cur_lfd = itest_listen_local(0, &port);
    assert_true(cur_lfd >= 0);
    cur_h = transport("http", "127.0.0.1", port, NULL);
    otel_otlp_http_result r;
    uint64_t t0 = otel_mono_ns();
    assert_int_equal(otel_otlp_http_post(cur_h, (const uint8_t *)"x", 1, t0 + 200 * MS_NS, &r),
                     OTEL_ERR_TIMEOUT);
    assert_int_equal(r.status, 0);
    assert_true(r.err[0] != '\0');
    assert_int_equal(otel_otlp_http_post(cur_h, (const uint8_t *)"x", 1, otel_mono_ns() - 1, &r),
                     OTEL_ERR_TIMEOUT);
    assert_string_equal(r.err, "the export timeout passed");
}

/* ---- otel_otlp_http_post: https ------------------------------------------ */

/* A TLS server for localhost of the private CA answering HTTP/1.1 by ALPN. */
static fake_tls_config https_server(void)
{
    fake_tls_config c = {
        .cert = certs.server, .key = certs.server_key, .alpn = "http/1.1", .mode = FAKE_TLS_HTTP};
    return c;
}

/* https:// with the private CA: verified, the name sent as SNI, two posts
 * over one connection. */
static void test_otel_otlp_http_post_https(void **state)
{
    (void)state;
    fake_tls_config sc = https_server();
    cur_s = fake_tls_start(&sc);
    assert_non_null(cur_s);
    otel_tls_config tls = {.ca_file = certs.ca};
    cur_h = transport("https", "localhost", fake_tls_port(cur_s), &tls);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, "hello", 5, &r), 200);
    assert_false(r.tls);
    assert_string_equal(r.content_type, "application/x-protobuf");
    assert_int_equal(post_ok(cur_h, "world!", 6, &r), 200);
    assert_int_equal(otel_otlp_http_connects(cur_h), 1);
    otel_otlp_http_del(cur_h);
    cur_h = NULL;
    assert_true(fake_tls_wait(cur_s, 1, WAIT_MS));
    fake_tls_conn rec;
    assert_true(fake_tls_get(cur_s, 0, &rec));
    assert_true(rec.handshake_ok);
    assert_string_equal(rec.servername, "localhost");
    assert_string_equal(rec.alpn, "http/1.1");
    assert_int_equal(rec.requests, 2);
    assert_int_equal(rec.bytes_in, 11);
    assert_true(strncmp(rec.request, "POST /v1/traces HTTP/1.1\r\n", 26) == 0);
    assert_non_null(strstr(rec.request, "\r\nContent-Type: application/x-protobuf\r\n"));
    assert_non_null(strstr(rec.request, "\r\nX-Custom: Value 1\r\n"));
}

/* A server certificate of a CA not trusted: OTEL_ERR_IO, a TLS failure. */
static void test_otel_otlp_http_post_https_untrusted(void **state)
{
    (void)state;
    fake_tls_config sc = https_server();
    sc.cert = certs.rogue_server;
    sc.key = certs.rogue_server_key;
    cur_s = fake_tls_start(&sc);
    assert_non_null(cur_s);
    otel_tls_config tls = {.ca_file = certs.ca};
    cur_h = transport("https", "localhost", fake_tls_port(cur_s), &tls);
    otel_otlp_http_result r;
    assert_int_equal(post(cur_h, "x", 1, &r), OTEL_ERR_IO);
    assert_true(r.tls);
    assert_int_equal(r.status, 0);
    assert_true(r.err[0] != '\0');
    /* tls_verify off takes it. */
    otel_tls_config off = {.ca_file = certs.ca, .no_verify = true};
    otel_otlp_http *h = transport("https", "localhost", fake_tls_port(cur_s), &off);
    assert_int_equal(post_ok(h, "x", 1, &r), 200);
    otel_otlp_http_del(h);
}

/* A server that requires a client certificate: ours is taken; without one
 * the refusal (an alert on the first read in TLS 1.3) is a TLS failure. */
static void test_otel_otlp_http_post_https_mtls(void **state)
{
    (void)state;
    fake_tls_config sc = https_server();
    sc.client_ca = certs.ca;
    cur_s = fake_tls_start(&sc);
    assert_non_null(cur_s);
    otel_tls_config with = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client_key};
    otel_otlp_http *h = transport("https", "localhost", fake_tls_port(cur_s), &with);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(h, "x", 1, &r), 200);
    otel_otlp_http_del(h);
    assert_true(fake_tls_wait(cur_s, 1, WAIT_MS));
    fake_tls_conn rec;
    assert_true(fake_tls_get(cur_s, 0, &rec));
    assert_string_equal(rec.client_cn, ITEST_CERTS_CLIENT_CN);

    otel_tls_config without = {.ca_file = certs.ca};
    cur_h = transport("https", "localhost", fake_tls_port(cur_s), &without);
    assert_int_equal(post(cur_h, "x", 1, &r), OTEL_ERR_IO);
    assert_true(r.tls);
    assert_int_equal(r.status, 0);
    assert_true(r.err[0] != '\0');
}

/* ---- otel_otlp_http_after_fork ------------------------------------------- */

/* In a forked child the transport gets a handle of its own: its post opens
 * a new connection (counted with the parent's) and the parent's
 * connection goes on serving the parent. */
static void test_otel_otlp_http_after_fork_new_connection(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer cannot run a multi-threaded fork's child */
#endif
    start_http(NULL, 0);
    otel_otlp_http_result r;
    assert_int_equal(post_ok(cur_h, "parent", 6, &r), 200);
    assert_int_equal(otel_otlp_http_connects(cur_h), 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a child stuck in a post dies of SIGALRM */
        otel_otlp_http_after_fork(cur_h);
        int code = 0;
        if (post(cur_h, "child", 5, &r) != OTEL_OK || r.status != 200)
            code = 2;
        else if (otel_otlp_http_connects(cur_h) != 2)
            code = 3;
        _exit(code); /* the parent's handle, dropped, is not freed */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(post_ok(cur_h, "parent", 6, &r), 200);
    assert_int_equal(otel_otlp_http_connects(cur_h), 1);
    assert_int_equal(fake_http_count(cur_f), 3);
    fake_http_request q;
    assert_true(fake_http_get(cur_f, 1, &q));
    assert_int_equal(q.body_len, 5); /* the child's */
}

/* ---- otel_otlp_http_retry_after ------------------------------------------ */

static uint64_t retry_after_ok(const char *value, int64_t now)
{
    uint64_t d = UINT64_MAX;
    int rc = otel_otlp_http_retry_after(value, now, &d);
    if (rc != OTEL_OK)
        fail_msg("\"%s\": %s", value, otel_strerror(rc));
    return d;
}

/* delay-seconds = 1*DIGIT (RFC 9110 section 10.2.3), whatever the time;
 * the whitespace around a field value is not part of it (RFC 9110
 * section 5.5). */
static void test_otel_otlp_http_retry_after_delay_seconds(void **state)
{
    (void)state;
    assert_int_equal(retry_after_ok("0", EXAMPLE_DATE), 0);
    assert_int_equal(retry_after_ok("1", EXAMPLE_DATE), SEC_NS);
    assert_int_equal(retry_after_ok("120", EXAMPLE_DATE), 120 * SEC_NS);
    assert_int_equal(retry_after_ok("120", 0), 120 * SEC_NS);
    assert_int_equal(retry_after_ok("007", EXAMPLE_DATE), 7 * SEC_NS);
    assert_int_equal(retry_after_ok(" \t120 \t", EXAMPLE_DATE), 120 * SEC_NS);
}

/* A delay beyond 2^32 seconds (more than a century) saturates there,
 * however many digits it has. */
static void test_otel_otlp_http_retry_after_huge_saturates(void **state)
{
    (void)state;
    assert_int_equal(retry_after_ok("4294967295", 0), (CAP_S - 1) * SEC_NS);
    assert_int_equal(retry_after_ok("4294967296", 0), CAP_S * SEC_NS);
    assert_int_equal(retry_after_ok("4294967297", 0), CAP_S * SEC_NS);
    assert_int_equal(retry_after_ok("18446744073709551616", 0), CAP_S * SEC_NS);
    assert_int_equal(retry_after_ok("9999999999999999999999999999999999999999", 0), CAP_S * SEC_NS);
}

/* The three forms of HTTP-date a recipient must accept (RFC 9110 section
 * 5.6.7): IMF-fixdate, the obsolete RFC 850 form (a two-digit year) and
 * ANSI C's asctime() form, as a delay from now. */
static void test_otel_otlp_http_retry_after_http_dates(void **state)
{
    (void)state;
    static const char *const forms[] = {
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        assert_int_equal(retry_after_ok(forms[i], EXAMPLE_DATE - 90), 90 * SEC_NS);
        assert_int_equal(retry_after_ok(forms[i], EXAMPLE_DATE - 1), SEC_NS);
    }
    assert_int_equal(retry_after_ok("  Sun, 06 Nov 1994 08:49:37 GMT ", EXAMPLE_DATE - 5),
                     5 * SEC_NS);
}

/* A date now or in the past is no delay. */
static void test_otel_otlp_http_retry_after_date_past(void **state)
{
    (void)state;
    assert_int_equal(retry_after_ok("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE_DATE), 0);
    assert_int_equal(retry_after_ok("Sun, 06 Nov 1994 08:49:37 GMT", EXAMPLE_DATE + 1), 0);
    assert_int_equal(retry_after_ok("Thu, 01 Jan 1970 00:00:00 GMT", EXAMPLE_DATE), 0);
    assert_int_equal(retry_after_ok("Sun Nov  6 08:49:37 1994", INT64_MAX), 0);
}

/* A date far in the future saturates as a number of seconds does: its
 * delay in nanoseconds does not wrap around. */
static void test_otel_otlp_http_retry_after_date_far_future(void **state)
{
    (void)state;
    assert_int_equal(retry_after_ok("Fri, 31 Dec 9999 23:59:59 GMT", EXAMPLE_DATE), CAP_S * SEC_NS);
    assert_int_equal(retry_after_ok("Sat, 01 Jan 2600 00:00:00 GMT", EXAMPLE_DATE), CAP_S * SEC_NS);
}

/* now_unix at either end of int64: the difference to the date is no
 * int64 (found by fuzz_retry_after under UBSan). */
static void test_otel_otlp_http_retry_after_extreme_now(void **state)
{
    (void)state;
    assert_int_equal(retry_after_ok("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MIN), CAP_S * SEC_NS);
    assert_int_equal(retry_after_ok("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MAX), 0);
}

/* Neither delay-seconds nor an HTTP-date: OTEL_ERR_PARSE, *delay_ns left
 * as it was. */
static void test_otel_otlp_http_retry_after_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",     " ",    "\t \t",
        "-1",   "-120", "+5",
        "1.5",  "12 s", "120abc",
        "0x10", "junk", "Sun, 06 Nov 1994 08:49:37 GMT and then some text that makes it too long",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t d = 42;
        int rc = otel_otlp_http_retry_after(bad[i], EXAMPLE_DATE, &d);
        if (rc != OTEL_ERR_PARSE)
            fail_msg("\"%s\": %d (delay %llu), not OTEL_ERR_PARSE", bad[i], rc,
                     (unsigned long long)d);
        assert_int_equal(d, 42);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_otlp_http_new_bad_url),
        T(test_otel_otlp_http_new_alloc_failure),
        T(test_otel_otlp_http_post_delivers_body_and_headers),
        T(test_otel_otlp_http_post_large_body_no_expect),
        T(test_otel_otlp_http_post_reuses_connection),
        T(test_otel_otlp_http_post_status_and_body),
        T(test_otel_otlp_http_post_retry_after),
        T(test_otel_otlp_http_post_body_cut),
        T(test_otel_otlp_http_post_no_listener),
        T(test_otel_otlp_http_post_deadline),
        T(test_otel_otlp_http_post_https),
        T(test_otel_otlp_http_post_https_untrusted),
        T(test_otel_otlp_http_post_https_mtls),
        T(test_otel_otlp_http_after_fork_new_connection),
        T(test_otel_otlp_http_retry_after_delay_seconds),
        T(test_otel_otlp_http_retry_after_huge_saturates),
        T(test_otel_otlp_http_retry_after_http_dates),
        T(test_otel_otlp_http_retry_after_date_past),
        T(test_otel_otlp_http_retry_after_date_far_future),
        T(test_otel_otlp_http_retry_after_extreme_now),
        T(test_otel_otlp_http_retry_after_invalid),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
