/* test_it_otlp_http.c - integration tests of the OTLP/HTTP exporter
 * (protocol http/protobuf and http/json): delivery to the independent sink
 * (../shared/otlp-sink) over HTTP/1.1, gzip, HTTPS and mTLS; and, against
 * the scripted receiver of t/lib/fake_http.c, what the exporter sends
 * (path, headers, environment rules) and how it treats the answers the
 * OTLP spec gives meaning to (Retry-After, retryable and permanent codes,
 * partial success). Timing is only ever bounded from below. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../lib/fake_http.h"
#include "../lib/itest.h"

#define N_REQ 5                 /* requests of a round */
#define ARRIVE_TIMEOUT_MS 15000 /* spans reach a receiver within this */
#define PAD_LEN 900             /* bytes of the X-Pad header value */
#define BIG_BODY (8u << 20)     /* bytes of the huge response */
#define EXTRA_MAX 16
#define ENV_MAX 40
#define MS_NS UINT64_C(1000000)

/* Every config starts so; the otlp block follows. */
#define CONF_HEAD                                                                                  \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-http;\n"                                                              \
    "otel_route /hello/{name};\n"
/* Short deadlines for most tests: a failed export gives up within 2 s. */
#define BATCH_SHORT "otel_batch { schedule_delay 100ms; export_timeout 2s; }\n"
/* Retry tests wait a second or more between attempts: room for a few. */
#define BATCH_RETRY "otel_batch { schedule_delay 100ms; export_timeout 10s; }\n"

typedef struct fixture {
    itest_server s;
    itest_sink k;
    fake_http *fake;
    const char *extra[EXTRA_MAX];         /* the sink's arguments (borrowed by k) */
    const char *env[ENV_MAX];             /* the server's environment changes */
    char env_buf[8][ITEST_PATH_MAX + 64]; /* "NAME=value" strings of env */
} fixture;

static itest_certs certs;

/* The OTLP variables an env test sets, unset first so that the caller's
 * environment cannot change what a test sees. */
static const char *const OTLP_ENV_NAMES[] = {
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
    "OTEL_TRACES_EXPORTER",
    "OTEL_SDK_DISABLED",
    NULL,
};

/* ---- fixtures ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return itest_group_setup_sink("test_it_otlp_http", &certs);
}

static int group_teardown(void **state)
{
    (void)state;
    itest_certs_cleanup(&certs);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || itest_fixture_init(&f->s, &f->k) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    itest_fixture_cleanup(&f->s, &f->k);
    fake_http_stop(f->fake);
    free(f);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* The sink with an HTTP port; with cert, TLS on both ports (client_ca:
 * mTLS). */
static void sink_start_http(fixture *f, const char *cert, const char *key, const char *client_ca)
{
    size_t n = 0;

    f->extra[n++] = "--http-port";
    f->extra[n++] = "0";
    if (cert != NULL) {
        f->extra[n++] = "--tls-cert";
        f->extra[n++] = cert;
        f->extra[n++] = "--tls-key";
        f->extra[n++] = key;
    }
    if (client_ca != NULL) {
        f->extra[n++] = "--tls-client-ca";
        f->extra[n++] = client_ca;
    }
    f->extra[n] = NULL;
    itest_sink_start_ok(&f->k, 0, f->extra);
    if (f->k.http_port == 0)
        fail_msg("the OTLP sink became ready without an HTTP port\nstderr: %s",
                 f->k.err_text ? f->k.err_text : "");
}

/* A fake receiver with script / dflt (see fake_http_start). */
static fake_http *fake_start_ok(fixture *f, const fake_http_answer *script, size_t n,
                                const fake_http_answer *dflt)
{
    f->fake = fake_http_start(script, n, dflt);
    if (f->fake == NULL)
        fail_msg("the fake OTLP/HTTP receiver did not start");
    return f->fake;
}

/* Stop the fake receiver now: its script's bodies may then go. */
static void fake_stop(fixture *f)
{
    fake_http_stop(f->fake);
    f->fake = NULL;
}

/* Start the server with an otlp block of protocol, endpoint, timeout and
 * the lines otlp_extra, then batch. */
static void server_start_ok(itest_server *s, const char *protocol, const char *endpoint,
                            const char *timeout, const char *otlp_extra, const char *batch)
{
    char conf[4096];
    int n = snprintf(conf, sizeof(conf),
                     CONF_HEAD "otel_exporter otlp {\n"
                               "    protocol %s;\n"
                               "    endpoint %s;\n"
                               "    timeout %s;\n"
                               "%s"
                               "}\n"
                               "%s",
                     protocol, endpoint, timeout, otlp_extra, batch);

    assert_true(n > 0 && (size_t)n < sizeof(conf));
    if (itest_server_start(s, conf) == 0)
        return;
    (void)itest_server_reap(s, 2000);
    fail_msg("%s did not start listening (exit status 0x%x)\nconfig:\n%s\nstderr: %s",
             itest_server_binary(), (unsigned int)s->exit_status, conf,
             s->err_text ? s->err_text : "");
}

/* The server with the environment: OTLP_ENV_NAMES unset, then sets
 * ("NAME=value", NULL-terminated); the file has an otlp block of its
 * timeout only, so every other setting comes from the environment. */
static void server_start_env_ok(fixture *f, const char *const *sets)
{
    static const char conf[] = CONF_HEAD "otel_exporter otlp {\n"
                                         "    timeout 2s;\n"
                                         "}\n" BATCH_SHORT;
    size_t n = 0;

    for (size_t i = 0; OTLP_ENV_NAMES[i] != NULL; i++)
        f->env[n++] = OTLP_ENV_NAMES[i];
    for (size_t i = 0; sets[i] != NULL && n + 1 < ENV_MAX; i++)
        f->env[n++] = sets[i];
    f->env[n] = NULL;
    if (itest_server_start_env(&f->s, conf, f->env) == 0)
        return;
    (void)itest_server_reap(&f->s, 2000);
    fail_msg("%s did not start listening (exit status 0x%x)\nstderr: %s", itest_server_binary(),
             (unsigned int)f->s.exit_status, f->s.err_text ? f->s.err_text : "");
}

/* "NAME=value" into f->env_buf[i]; returns it. */
static const char *env_set(fixture *f, size_t i, const char *name, const char *value)
{
    snprintf(f->env_buf[i], sizeof(f->env_buf[i]), "%s=%s", name, value);
    return f->env_buf[i];
}

/* "http://127.0.0.1:PORT" + path into buf (cap bytes); scheme "https"
 * when tls. Returns buf. */
static const char *url(char *buf, size_t cap, bool tls, uint16_t port, const char *path)
{
    snprintf(buf, cap, "%s://127.0.0.1:%u%s", tls ? "https" : "http", (unsigned int)port, path);
    return buf;
}

/* n requests of path, all at the sink within ARRIVE_TIMEOUT_MS, then both
 * stopped: the sink holds exactly them, carried by transport, and the
 * server counted them exported. */
static void sink_deliver_ok(fixture *f, const char *path, const char *transport)
{
    itest_spans sp;
    char why[256];
    size_t n;

    assert_int_equal(itest_curl_repeat(&f->s, path, N_REQ, 200), N_REQ);
    n = itest_sink_wait(&f->k, path, N_REQ, ARRIVE_TIMEOUT_MS);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    if (n < N_REQ)
        fail_msg("after %d ms the sink holds %zu spans of %s, want %d\nserver stderr:\n%s",
                 ARRIVE_TIMEOUT_MS, n, path, N_REQ, f->s.err_text);
    if (itest_spans_read(f->k.out_path, &sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", f->k.out_path, why);
    assert_int_equal(sp.n, N_REQ);
    for (size_t i = 0; i < sp.n; i++) {
        assert_string_equal(itest_span_str(sp.v[i], "name"), "GET /hello/{name}");
        assert_string_equal(itest_span_str(sp.v[i], "transport"), transport);
        assert_string_equal(itest_span_attr_str(sp.v[i], "url.path"), path);
        assert_string_equal(itest_span_resource_str(sp.v[i], "service.name"), "itest-http");
    }
    itest_spans_free(&sp);
    assert_int_equal(itest_otlp_balance(&f->s), N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 0);
    assert_int_equal(itest_sink_stat(&f->k, "requests_grpc"), 0);
    assert_int_equal(itest_sink_stat(&f->k, "requests_http"), itest_sink_stat(&f->k, "accepted"));
    assert_int_equal(itest_sink_stat(&f->k, "invalid"), 0);
}

/* Request i of the fake receiver, which must have come. */
static fake_http_request fake_req(fake_http *fake, size_t i)
{
    fake_http_request r;

    if (!fake_http_get(fake, i, &r))
        fail_msg("the fake receiver has no request %zu (it has %zu)", i, fake_http_count(fake));
    return r;
}

/* Wait for n requests at the fake receiver. */
static void fake_wait_ok(fixture *f, size_t n)
{
    if (fake_http_wait(f->fake, n, ARRIVE_TIMEOUT_MS))
        return;
    (void)itest_server_stop(&f->s);
    fail_msg("after %d ms the fake receiver has %zu requests, want %zu\nserver stderr:\n%s",
             ARRIVE_TIMEOUT_MS, fake_http_count(f->fake), n, f->s.err_text ? f->s.err_text : "");
}

/* Requests i and j of the fake receiver carried the same body: a retry
 * sends the same request again. */
static void assert_same_body(fake_http *fake, size_t i, size_t j)
{
    size_t la = 0, lb = 0;
    uint8_t *a = fake_http_body(fake, i, &la);
    uint8_t *b = fake_http_body(fake, j, &lb);

    assert_non_null(a);
    assert_non_null(b);
    assert_true(la > 0);
    if (la != lb || memcmp(a, b, la) != 0)
        fail_msg("requests %zu and %zu carried different bodies (%zu and %zu bytes)", i, j, la, lb);
    free(a);
    free(b);
}

/* Element 0 of array member name of obj (NULL when absent). */
static const cJSON *first_of(const cJSON *obj, const char *name)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(obj, name), 0);
}

/* One request to the server, then wait for the fake's first request and
 * return it: the path the exporter posted to, and so on. */
static fake_http_request one_export(fixture *f)
{
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/one", 1, 200), 1);
    fake_wait_ok(f, 1);
    return fake_req(f->fake, 0);
}

/* Run curl with args (NULL-terminated) after "curl -sS --max-time 10";
 * its stdout (heap) is returned; it must exit 0. */
static char *run_curl(const char *const *args)
{
    char *argv[40] = {"curl", "-sS", "--max-time", "10"};
    size_t n = 4;
    char *out = NULL, *err = NULL;
    int status = 0;

    for (size_t i = 0; args[i] != NULL && n + 1 < 40; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    if (itest_run_cmd(argv, NULL, 30000, &out, &err, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        fail_msg("curl failed (wait status 0x%x): %s", (unsigned int)status, err ? err : "");
    free(err);
    return out;
}

/* ---- the test infrastructure itself --------------------------------------- */

/* The fake receiver answers curl as scripted, then with its default, and
 * records what each request carried. */
static void test_fake_http_answers_curl_as_scripted(void **state)
{
    fixture *f = *state;
    char json[256], u[64], hv[64];
    size_t jlen = fake_http_partial_json(json, sizeof(json), 7, "seven spans rejected");
    const fake_http_answer script[] = {
        {.status = 503,
         .retry_after = "1",
         .headers = {{"X-Fake", "one"}},
         .body = "busy",
         .body_len = 4,
         .content_type = "text/plain"},
        {.status = 429, .retry_after_date = true, .retry_after_s = 120},
    };
    const fake_http_answer dflt = {
        .body = json, .body_len = jlen, .content_type = "application/json"};
    fake_http *fake = fake_start_ok(f, script, 2, &dflt);
    const char *post[] = {"-i",
                          "-X",
                          "POST",
                          "-H",
                          "Content-Type: application/x-protobuf",
                          "-H",
                          "Content-Encoding: gzip",
                          "-H",
                          "X-Custom: v-1",
                          "-A",
                          "tester/1.0",
                          "--data-binary",
                          "hello",
                          url(u, sizeof(u), false, fake_http_port(fake), "/v1/traces"),
                          NULL};
    char *out;
    fake_http_request r;

    out = run_curl(post);
    assert_non_null(strstr(out, "HTTP/1.1 503"));
    assert_non_null(strstr(out, "Retry-After: 1\r\n"));
    assert_non_null(strstr(out, "X-Fake: one\r\n"));
    assert_non_null(strstr(out, "Content-Type: text/plain\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nbusy"));
    free(out);
    out = run_curl(post);
    assert_non_null(strstr(out, "HTTP/1.1 429"));
    const char *ra = strstr(out, "Retry-After: ");
    assert_non_null(ra);
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    assert_int_equal(strcspn(ra + 13, "\r"), 29);
    assert_non_null(strstr(ra, " GMT\r\n"));
    free(out);
    out = run_curl(post);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    assert_non_null(strstr(out, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(out, "{\"partialSuccess\":{\"rejectedSpans\":\"7\","
                                "\"errorMessage\":\"seven spans rejected\"}}"));
    free(out);

    assert_int_equal(fake_http_count(fake), 3);
    for (size_t i = 0; i < 3; i++) {
        r = fake_req(fake, i);
        assert_string_equal(r.method, "POST");
        assert_string_equal(r.path, "/v1/traces");
        assert_string_equal(r.content_type, "application/x-protobuf");
        assert_string_equal(r.content_encoding, "gzip");
        assert_string_equal(r.user_agent, "tester/1.0");
        assert_true(fake_http_req_header(&r, "x-custom", hv, sizeof(hv)));
        assert_string_equal(hv, "v-1");
        assert_int_equal(r.body_len, 5);
        assert_int_equal(r.status, i == 0 ? 503 : i == 1 ? 429 : 200);
        if (i > 0)
            assert_true(r.t_ns >= fake_req(fake, i - 1).t_ns);
    }
    size_t blen = 0;
    uint8_t *body = fake_http_body(fake, 2, &blen);
    assert_int_equal(blen, 5);
    assert_memory_equal(body, "hello", 5);
    free(body);
    assert_false(fake_http_get(fake, 3, &r));
    fake_stop(f);
}

/* The zero answer: 200 and an empty response in the request's encoding
 * ("{}" for JSON, no bytes for protobuf). */
static void test_fake_http_default_answer(void **state)
{
    fixture *f = *state;
    char u[64];
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    const char *json[] = {"-i",
                          "-H",
                          "Content-Type: application/json",
                          "--data-binary",
                          "{}",
                          url(u, sizeof(u), false, fake_http_port(fake), "/v1/traces"),
                          NULL};
    const char *pb[] = {"-i", "-H", "Content-Type: application/x-protobuf", "--data-binary", "",
                        u,    NULL};
    char *out;

    out = run_curl(json);
    assert_non_null(strstr(out, "HTTP/1.1 200"));
    assert_non_null(strstr(out, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(out, "\r\n\r\n{}"));
    free(out);
    out = run_curl(pb);
    assert_non_null(strstr(out, "Content-Type: application/x-protobuf\r\n"));
    assert_non_null(strstr(out, "Content-Length: 0\r\n"));
    free(out);
    assert_int_equal(fake_http_count(fake), 2);
    assert_int_equal(fake_req(fake, 1).body_len, 0);
}

/* The partial-success bodies, byte for byte. */
static void test_fake_http_partial_success_bodies(void **state)
{
    /* 0a 06 (partial_success, 6 bytes) 08 03 (rejected_spans 3) 12 02 "ab" */
    static const uint8_t want3[] = {0x0a, 0x06, 0x08, 0x03, 0x12, 0x02, 'a', 'b'};
    /* rejected_spans 300 is the varint ac 02 */
    static const uint8_t want300[] = {0x0a, 0x05, 0x08, 0xac, 0x02, 0x12, 0x00};
    uint8_t out[64];
    char json[128];
    size_t len = 0;
    uint8_t *big;

    (void)state;
    assert_int_equal(fake_http_partial_pb(out, sizeof(out), 3, "ab"), sizeof(want3));
    assert_memory_equal(out, want3, sizeof(want3));
    assert_int_equal(fake_http_partial_pb(out, sizeof(out), 300, ""), sizeof(want300));
    assert_memory_equal(out, want300, sizeof(want300));
    assert_int_equal(fake_http_partial_pb(out, 4, 3, "ab"), 0);
    assert_true(fake_http_partial_json(json, sizeof(json), 2, "x") > 0);
    assert_string_equal(json,
                        "{\"partialSuccess\":{\"rejectedSpans\":\"2\",\"errorMessage\":\"x\"}}");
    big = fake_http_big_pb(200, &len);
    assert_non_null(big);
    assert_int_equal(len, 203); /* 7a c8 01, then 200 bytes */
    assert_int_equal(big[0], 0x7a);
    assert_int_equal(big[1], 0xc8);
    assert_int_equal(big[2], 0x01);
    free(big);
}

/* The sink's HTTP port answers curl: /stats, and a malformed export. */
static void test_sink_http_port_answers_curl(void **state)
{
    fixture *f = *state;
    char u[64], u2[64];

    sink_start_http(f, NULL, NULL, NULL);
    const char *stats[] = {url(u, sizeof(u), false, f->k.http_port, "/stats"), NULL};
    const char *bad[] = {"-o",
                         "/dev/null",
                         "-w",
                         "%{http_code}",
                         "-H",
                         "Content-Type: application/x-protobuf",
                         "--data-binary",
                         "\xff\xff\xff",
                         url(u2, sizeof(u2), false, f->k.http_port, "/v1/traces"),
                         NULL};
    char *out = run_curl(stats);
    assert_non_null(strstr(out, "\"requests_http\":0"));
    free(out);
    out = run_curl(bad);
    assert_string_equal(out, "400");
    free(out);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(itest_sink_stat(&f->k, "invalid"), 1);
}

/* ---- delivered to the sink ------------------------------------------------ */

/* OTLP spec, "OTLP/HTTP Request": POST of a binary protobuf
 * ExportTraceServiceRequest to /v1/traces, HTTP/1.1 here. */
static void test_http_protobuf_to_sink(void **state)
{
    fixture *f = *state;
    char ep[64];

    sink_start_http(f, NULL, NULL, NULL);
    server_start_ok(&f->s, "http/protobuf",
                    url(ep, sizeof(ep), false, f->k.http_port, "/v1/traces"), "2s", "",
                    BATCH_SHORT);
    sink_deliver_ok(f, "/hello/pb", "http/protobuf");
}

/* OTLP spec, "JSON Protobuf Encoding". */
static void test_http_json_to_sink(void **state)
{
    fixture *f = *state;
    char ep[64];

    sink_start_http(f, NULL, NULL, NULL);
    server_start_ok(&f->s, "http/json", url(ep, sizeof(ep), false, f->k.http_port, "/v1/traces"),
                    "2s", "", BATCH_SHORT);
    sink_deliver_ok(f, "/hello/json", "http/json");
}

/* compression gzip: the spans arrive whole, and far fewer bytes cross the
 * wire (counted by a proxy) than the sink decodes. */
static void test_http_gzip_to_sink(void **state)
{
    fixture *f = *state;
    char ep[64], pad[PAD_LEN + 16];
    const char *hdr[] = {"-H", pad, NULL};
    itest_proxy *proxy = NULL;
    uint64_t wire = 0, decoded = 0;
    size_t n;

    memcpy(pad, "X-Pad: ", 7);
    memset(pad + 7, 'a', PAD_LEN);
    pad[7 + PAD_LEN] = '\0';
    sink_start_http(f, NULL, NULL, NULL);
    assert_int_equal(itest_proxy_start(&proxy, f->k.http_port), 0);
    server_start_ok(&f->s, "http/protobuf",
                    url(ep, sizeof(ep), false, itest_proxy_port(proxy), "/v1/traces"), "2s",
                    "    compression gzip;\n", "otel_capture_request_header X-Pad;\n" BATCH_SHORT);
    assert_int_equal(itest_curl_repeat_with(&f->s, "/hello/gz", 20, 200, hdr), 20);
    n = itest_sink_wait(&f->k, "/hello/gz", 20, ARRIVE_TIMEOUT_MS);
    itest_server_stop_ok(&f->s);
    itest_proxy_stop(proxy, &wire, NULL);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(n, 20);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 20);
    assert_true(itest_sink_final_stat(&f->k, "bytes", &decoded));
    if (!(decoded > 20 * PAD_LEN && wire < decoded / 3))
        fail_msg("gzip: %llu bytes on the wire for %llu bytes of requests",
                 (unsigned long long)wire, (unsigned long long)decoded);
}

/* https with ca_file, and an endpoint with no path: the sink answers only
 * /v1/traces (404 elsewhere), so delivery shows the default path too. */
static void test_https_ca_file_to_sink(void **state)
{
    fixture *f = *state;
    char ep[64], lines[512];

    sink_start_http(f, certs.server, certs.server_key, NULL);
    snprintf(lines, sizeof(lines), "    ca_file %s;\n", certs.ca);
    server_start_ok(&f->s, "http/protobuf", url(ep, sizeof(ep), true, f->k.http_port, ""), "2s",
                    lines, BATCH_SHORT);
    sink_deliver_ok(f, "/hello/https", "http/protobuf");
    assert_int_equal(itest_sink_stat(&f->k, "tls_requests"), itest_sink_stat(&f->k, "requests"));
    assert_true(itest_sink_stat(&f->k, "tls_requests") > 0);
}

/* https and mTLS, http/json: the sink saw the client certificate. */
static void test_https_mtls_to_sink(void **state)
{
    fixture *f = *state;
    char ep[64], lines[1024], cn[64] = "";

    sink_start_http(f, certs.server, certs.server_key, certs.ca);
    snprintf(lines, sizeof(lines), "    ca_file %s;\n    client_cert %s;\n    client_key %s;\n",
             certs.ca, certs.client, certs.client_key);
    server_start_ok(&f->s, "http/json", url(ep, sizeof(ep), true, f->k.http_port, "/v1/traces"),
                    "2s", lines, BATCH_SHORT);
    sink_deliver_ok(f, "/hello/mtls", "http/json");
    assert_true(itest_sink_stat(&f->k, "tls_requests") > 0);
    assert_true(itest_sink_final_str(&f->k, "last_client_cn", cn, sizeof(cn)));
    assert_string_equal(cn, ITEST_CERTS_CLIENT_CN);
}

/* ---- what the exporter sends ---------------------------------------------- */

/* An endpoint with no path posts to /v1/traces (OTLP spec, "OTLP/HTTP
 * Request": "The default URL path for requests that carry trace data is
 * /v1/traces"), with the protobuf content type, no Content-Encoding
 * without compression, the configured header, and a User-Agent (OTLP
 * exporter spec, "User Agent": exporters SHOULD emit one). */
static void test_http_request_headers(void **state)
{
    fixture *f = *state;
    char ep[64], v[64];
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    fake_http_request r;

    server_start_ok(&f->s, "http/protobuf", url(ep, sizeof(ep), false, fake_http_port(fake), ""),
                    "2s", "    header X-Tenant t-1;\n", BATCH_SHORT);
    r = one_export(f);
    itest_server_stop_ok(&f->s);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/v1/traces");
    assert_string_equal(r.content_type, "application/x-protobuf");
    assert_string_equal(r.content_encoding, "");
    assert_true(fake_http_req_header(&r, "X-Tenant", v, sizeof(v)));
    assert_string_equal(v, "t-1");
    assert_true(strlen(r.user_agent) > 0);
    assert_true(r.body_len > 0);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 1);
}

/* http/json: the body is OTLP/JSON (lowerCamelCase names, ids as hex,
 * OTLP spec "JSON Protobuf Encoding") under application/json. */
static void test_http_json_request_body(void **state)
{
    fixture *f = *state;
    char ep[64];
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    fake_http_request r;
    size_t len = 0;
    uint8_t *body;
    cJSON *doc;
    const cJSON *span;

    server_start_ok(&f->s, "http/json",
                    url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"), "2s", "",
                    BATCH_SHORT);
    r = one_export(f);
    itest_server_stop_ok(&f->s);
    assert_string_equal(r.content_type, "application/json");
    body = fake_http_body(fake, 0, &len);
    assert_non_null(body);
    doc = cJSON_ParseWithLength((const char *)body, len);
    if (doc == NULL)
        fail_msg("the http/json body is not JSON: %.*s", (int)len, (const char *)body);
    /* resourceSpans[0].scopeSpans[0].spans[0] */
    span = first_of(first_of(first_of(doc, "resourceSpans"), "scopeSpans"), "spans");
    assert_non_null(span);
    assert_string_equal(itest_span_str(span, "name"), "GET /hello/{name}");
    assert_true(itest_is_hex_id(itest_span_str(span, "traceId"), 32));
    assert_true(itest_is_hex_id(itest_span_str(span, "spanId"), 16));
    cJSON_Delete(doc);
    free(body);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 1);
}

/* compression gzip: "Content-Encoding: gzip" and a gzip body (OTLP spec,
 * "OTLP/HTTP Request": the client MAY gzip the content and in that case
 * MUST include the header). */
static void test_http_gzip_request(void **state)
{
    fixture *f = *state;
    char ep[64];
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    fake_http_request r;
    size_t len = 0;
    uint8_t *body;

    server_start_ok(&f->s, "http/protobuf",
                    url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"), "2s",
                    "    compression gzip;\n", BATCH_SHORT);
    r = one_export(f);
    itest_server_stop_ok(&f->s);
    assert_string_equal(r.content_encoding, "gzip");
    body = fake_http_body(fake, 0, &len);
    assert_non_null(body);
    assert_true(len > 2);
    assert_int_equal(body[0], 0x1f); /* the gzip magic, RFC 1952 */
    assert_int_equal(body[1], 0x8b);
    free(body);
}

/* ---- the environment ------------------------------------------------------ */

/* OTLP exporter spec, specification/protocol/exporter.md, "Endpoint URLs
 * for OTLP/HTTP": with OTEL_EXPORTER_OTLP_ENDPOINT the per-signal URL is
 * built by appending v1/traces to its path, with the root path too. */
static void test_http_env_endpoint_appends_path(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *path, *want;
    } cases[] = {{"", "/v1/traces"}, {"/base", "/base/v1/traces"}};
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    char ep[64];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *sets[] = {
            "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            env_set(f, 0, "OTEL_EXPORTER_OTLP_ENDPOINT",
                    url(ep, sizeof(ep), false, fake_http_port(fake), cases[i].path)),
            NULL};
        fake_http_request r;

        if (i > 0) {
            itest_server_cleanup(&f->s);
            assert_int_equal(itest_server_init(&f->s), 0);
        }
        server_start_env_ok(f, sets);
        assert_int_equal(itest_curl_repeat(&f->s, "/hello/env", 1, 200), 1);
        fake_wait_ok(f, i + 1);
        itest_server_stop_ok(&f->s);
        r = fake_req(fake, i);
        if (strcmp(r.path, cases[i].want) != 0)
            fail_msg("OTEL_EXPORTER_OTLP_ENDPOINT=%s: posted to %s, want %s", ep, r.path,
                     cases[i].want);
        assert_string_equal(r.content_type, "application/x-protobuf");
    }
}

/* The same section: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is,
 * and wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
static void test_http_env_traces_endpoint_as_is(void **state)
{
    fixture *f = *state;
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    char ep[64], base[64];
    const char *sets[] = {"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
                          env_set(f, 0, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                  url(ep, sizeof(ep), false, fake_http_port(fake), "/custom")),
                          env_set(f, 1, "OTEL_EXPORTER_OTLP_ENDPOINT",
                                  url(base, sizeof(base), false, fake_http_port(fake), "/base")),
                          NULL};
    fake_http_request r;

    server_start_env_ok(f, sets);
    r = one_export(f);
    itest_server_stop_ok(&f->s);
    assert_string_equal(r.path, "/custom");
}

/* OTEL_EXPORTER_OTLP_TRACES_PROTOCOL wins over OTEL_EXPORTER_OTLP_PROTOCOL
 * (exporter.md, "Configuration Options": each option "MUST be overridable
 * by a signal specific option"; "Specify Protocol"). */
static void test_http_env_traces_protocol_wins(void **state)
{
    fixture *f = *state;
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    char ep[64];
    const char *sets[] = {"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
                          "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json",
                          env_set(f, 0, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                  url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces")),
                          NULL};
    fake_http_request r;

    server_start_env_ok(f, sets);
    r = one_export(f);
    itest_server_stop_ok(&f->s);
    assert_string_equal(r.content_type, "application/json");
}

/* The file's protocol wins over the environment's. */
static void test_http_file_protocol_beats_env(void **state)
{
    fixture *f = *state;
    fake_http *fake = fake_start_ok(f, NULL, 0, NULL);
    char ep[64], conf[1024];
    const char *env[] = {"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
                         "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc", NULL};
    fake_http_request r;

    snprintf(conf, sizeof(conf),
             CONF_HEAD "otel_exporter otlp {\n"
                       "    protocol http/protobuf;\n"
                       "    endpoint %s;\n"
                       "    timeout 2s;\n"
                       "}\n" BATCH_SHORT,
             url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"));
    if (itest_server_start_env(&f->s, conf, env) != 0) {
        (void)itest_server_reap(&f->s, 2000);
        fail_msg("the server did not start:\n%s\nstderr: %s", conf, f->s.err_text);
    }
    r = one_export(f);
    itest_server_stop_ok(&f->s);
    assert_string_equal(r.content_type, "application/x-protobuf");
}

/* An unknown OTEL_EXPORTER_OTLP_PROTOCOL is warned about, naming the
 * variable, and ignored: the default, grpc, stays (OTel Environment
 * Variable Specification, "Configuration types": for an enum value it
 * does not know the implementation "MUST generate a warning and gracefully
 * ignore the setting"). */
static void test_http_env_bogus_protocol_ignored(void **state)
{
    fixture *f = *state;
    char ep[64];

    sink_start_http(f, NULL, NULL, NULL);
    const char *sets[] = {
        "OTEL_EXPORTER_OTLP_PROTOCOL=bogus",
        env_set(f, 0, "OTEL_EXPORTER_OTLP_ENDPOINT", url(ep, sizeof(ep), false, f->k.port, "")),
        NULL};
    server_start_env_ok(f, sets);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/bogus", N_REQ, 200), N_REQ);
    size_t n = itest_sink_wait(&f->k, "/hello/bogus", N_REQ, ARRIVE_TIMEOUT_MS);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(n, N_REQ);
    assert_int_equal(itest_sink_stat(&f->k, "requests_http"), 0);
    assert_int_equal(itest_sink_stat(&f->k, "requests_grpc"), itest_sink_stat(&f->k, "accepted"));
    if (strstr(f->s.err_text, "OTEL_EXPORTER_OTLP_PROTOCOL") == NULL ||
        strstr(f->s.err_text, "otel warning:") == NULL)
        fail_msg("no warning naming OTEL_EXPORTER_OTLP_PROTOCOL:\n%s", f->s.err_text);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), N_REQ);
}

/* ---- how answers are treated ---------------------------------------------- */

/* A retried export: the fake receiver's script, one request to the
 * server, then want requests at the receiver, the same body each time,
 * the span exported in the end. Returns the gap from the first request to
 * the second, in ms. */
static uint64_t retried(fixture *f, const fake_http_answer *script, size_t n, size_t want)
{
    char ep[64];
    fake_http *fake = fake_start_ok(f, script, n, NULL);
    uint64_t gap;

    server_start_ok(&f->s, "http/protobuf",
                    url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"), "10s", "",
                    BATCH_RETRY);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/retry", 1, 200), 1);
    fake_wait_ok(f, want);
    itest_server_stop_ok(&f->s);
    assert_int_equal(fake_http_count(fake), want);
    for (size_t i = 1; i < want; i++)
        assert_same_body(fake, 0, i);
    assert_int_equal(itest_otlp_balance(&f->s), 1);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 1);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 0);
    gap = (fake_req(fake, 1).t_ns - fake_req(fake, 0).t_ns) / MS_NS;
    return gap;
}

/* OTLP spec, "OTLP/HTTP Throttling": 503 with "Retry-After: 1"; "The
 * client SHOULD honour the waiting interval specified in the Retry-After
 * header". A lower bound only: the retry comes no sooner than asked. */
static void test_http_retry_after_seconds(void **state)
{
    static const fake_http_answer script[] = {{.status = 503, .retry_after = "1"}};
    uint64_t gap = retried(*state, script, 1, 2);

    if (gap < 900)
        fail_msg("the retry came %llu ms after a 503 with Retry-After: 1", (unsigned long long)gap);
}

/* The same with 429 and the HTTP-date form of Retry-After (RFC 9110
 * section 10.2.3), two seconds ahead: at least a second of wait whichever
 * way the date's whole seconds are rounded. */
static void test_http_retry_after_http_date(void **state)
{
    static const fake_http_answer script[] = {
        {.status = 429, .retry_after_date = true, .retry_after_s = 2}};
    uint64_t gap = retried(*state, script, 1, 2);

    if (gap < 900)
        fail_msg("the retry came %llu ms after a 429 with a Retry-After date 2 s ahead",
                 (unsigned long long)gap);
}

/* OTLP spec, "Failures": 502 and 504 are among the retryable codes. */
static void test_http_502_504_retried(void **state)
{
    static const fake_http_answer script[] = {{.status = 502}, {.status = 504}};

    (void)retried(*state, script, 2, 3);
}

/* 429 and 503 without Retry-After: retried with backoff ("OTLP/HTTP
 * Throttling": the client SHOULD implement an exponential backoff). */
static void test_http_429_503_without_retry_after_retried(void **state)
{
    static const fake_http_answer script[] = {{.status = 429}, {.status = 503}};

    (void)retried(*state, script, 2, 3);
}

/* A code that must not be retried: one request only, the span failed.
 * Once the server has stopped, any retry within the export's deadline
 * would have come. */
static void not_retried(fixture *f, unsigned int status)
{
    char ep[64];
    const fake_http_answer dflt = {.status = status};
    fake_http *fake = fake_start_ok(f, NULL, 0, &dflt);

    server_start_ok(&f->s, "http/protobuf",
                    url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"), "2s", "",
                    BATCH_SHORT);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/once", 1, 200), 1);
    fake_wait_ok(f, 1);
    itest_server_stop_ok(&f->s);
    if (fake_http_count(fake) != 1)
        fail_msg("%u was answered and the request was sent %zu times", status,
                 fake_http_count(fake));
    assert_int_equal(itest_otlp_balance(&f->s), 1);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 0);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 1);
}

/* OTLP spec, "Bad Data": "The client MUST NOT retry the request when it
 * receives HTTP 400 Bad Request". */
static void test_http_400_not_retried(void **state)
{
    not_retried(*state, 400);
}

/* OTLP spec, "Failures": "All other 4xx or 5xx response status codes MUST
 * NOT be retried". */
static void test_http_500_not_retried(void **state)
{
    not_retried(*state, 500);
}

/* Partial success (OTLP spec, "Partial Success"): every answer says one
 * span was rejected; the rejected spans are counted rejected, the rest
 * exported, and nothing is sent twice ("The client MUST NOT retry the
 * request when it receives a partial success response"). */
static void partial_success(fixture *f, const char *protocol, const void *body, size_t len,
                            const char *content_type)
{
    char ep[64];
    const fake_http_answer dflt = {.body = body, .body_len = len, .content_type = content_type};
    fake_http *fake = fake_start_ok(f, NULL, 0, &dflt);
    size_t n;

    server_start_ok(&f->s, protocol, url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"),
                    "2s", "", BATCH_SHORT);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/partial", N_REQ, 200), N_REQ);
    fake_wait_ok(f, 1);
    itest_server_stop_ok(&f->s);
    n = fake_http_count(fake);
    assert_int_equal(itest_otlp_balance(&f->s), N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "rejected"), n);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), N_REQ - n);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            size_t la = 0, lb = 0;
            uint8_t *a = fake_http_body(fake, i, &la), *b = fake_http_body(fake, j, &lb);
            if (la == lb && memcmp(a, b, la) == 0)
                fail_msg("requests %zu and %zu carried the same body: a partial success was "
                         "retried",
                         i, j);
            free(a);
            free(b);
        }
    fake_stop(f);
}

static void test_http_partial_success_protobuf(void **state)
{
    uint8_t body[64];
    size_t len = fake_http_partial_pb(body, sizeof(body), 1, "one span rejected");

    assert_true(len > 0);
    partial_success(*state, "http/protobuf", body, len, "application/x-protobuf");
}

static void test_http_partial_success_json(void **state)
{
    char body[128];
    size_t len = fake_http_partial_json(body, sizeof(body), 1, "one span rejected");

    assert_true(len > 0);
    partial_success(*state, "http/json", body, len, "application/json");
}

/* A 200 whose body is a valid response of 8 MiB (an unknown field the
 * decoder skips): still a success (OTLP spec, "Full Success": the server
 * MUST respond with HTTP 200 OK), and the next export goes out as well. */
static void test_http_huge_response_body(void **state)
{
    fixture *f = *state;
    char ep[64];
    size_t len = 0;
    uint8_t *big = fake_http_big_pb(BIG_BODY, &len);
    fake_http_answer dflt = {
        .body = big, .body_len = len, .content_type = "application/x-protobuf"};
    fake_http *fake;

    assert_non_null(big);
    fake = fake_start_ok(f, NULL, 0, &dflt);
    server_start_ok(&f->s, "http/protobuf",
                    url(ep, sizeof(ep), false, fake_http_port(fake), "/v1/traces"), "2s", "",
                    BATCH_SHORT);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/big1", N_REQ, 200), N_REQ);
    fake_wait_ok(f, 1);
    size_t first = fake_http_count(fake);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/big2", N_REQ, 200), N_REQ);
    fake_wait_ok(f, first + 1);
    itest_server_stop_ok(&f->s);
    fake_stop(f); /* before big is freed */
    free(big);
    assert_int_equal(itest_otlp_balance(&f->s), 2 * N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 2 * N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fake_http_answers_curl_as_scripted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fake_http_default_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fake_http_partial_success_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_http_port_answers_curl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_protobuf_to_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_json_to_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_gzip_to_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_ca_file_to_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_https_mtls_to_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_request_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_json_request_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_gzip_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_env_endpoint_appends_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_env_traces_endpoint_as_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_env_traces_protocol_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_file_protocol_beats_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_env_bogus_protocol_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_retry_after_seconds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_retry_after_http_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_502_504_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_429_503_without_retry_after_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_400_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_500_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_partial_success_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_partial_success_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_huge_response_body, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
