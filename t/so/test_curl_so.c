/* test_curl_so.c - the libcurl helper through the shared library: a program
 * linked with libmhd-otel.so calls plain curl_easy_setopt and
 * curl_easy_perform on an instrumented handle and gets the CLIENT span and
 * the propagated context, with nothing else to do. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include <mhd-otel/otel.h>
#include <mhd-otel/mhd_otel_curl.h>

#define MAX_SPANS 8

/* What the exporter saw (spans are released after export). */
typedef struct seen_span {
    otel_span_kind kind;
    char span_id[17];
    char parent_id[17];
    char trace_id[33];
} seen_span;

static seen_span seen[MAX_SPANS];
static size_t n_seen;

static int capture(void *ud, const otel_span_data *const *spans, size_t n, uint64_t deadline_ns)
{
    (void)ud;
    (void)deadline_ns;
    for (size_t i = 0; i < n && n_seen < MAX_SPANS; i++) {
        seen_span *s = &seen[n_seen++];
        s->kind = spans[i]->kind;
        otel_hex_encode(spans[i]->ctx.span_id, 8, s->span_id);
        otel_hex_encode(spans[i]->ctx.trace_id, 16, s->trace_id);
        if (spans[i]->has_parent)
            otel_hex_encode(spans[i]->parent_span_id, 8, s->parent_id);
        else
            s->parent_id[0] = '\0';
    }
    return 0;
}

/* Answers with the traceparent it received ("none" without one), on the
 * handler's second call. */
static enum MHD_Result echo(void *cls, struct MHD_Connection *c, const char *url,
                            const char *method, const char *version, const char *upload,
                            size_t *upload_size, void **req_cls)
{
    static int mark;
    (void)cls, (void)url, (void)method, (void)version, (void)upload, (void)upload_size;
    if (*req_cls == NULL) {
        *req_cls = &mark;
        return MHD_YES;
    }
    const char *tp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "traceparent");
    if (tp == NULL)
        tp = "none";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(tp), (void *)tp, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

typedef struct body {
    char text[128];
    size_t len;
} body;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    body *b = ud;
    size_t k = size * n;
    if (k > sizeof(b->text) - 1 - b->len)
        k = sizeof(b->text) - 1 - b->len;
    memcpy(b->text + b->len, p, k);
    b->len += k;
    b->text[b->len] = '\0';
    return size * n;
}

/* GET url with plain libcurl calls; instrumented or not. */
static long get(const char *url, int instrument, body *b)
{
    CURL *h = curl_easy_init();
    assert_non_null(h);
    if (instrument)
        assert_int_equal(mhd_otel_curl_instrument(h, NULL), 0);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code;
}

static void test_curl_easy_perform_traced_through_the_so(void **state)
{
    (void)state;
    unsetenv("MHD_OTEL_CONF"); /* the daemon below is the test's own, untraced */
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL, echo, NULL,
                         MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    assert_non_null(d);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/items",
             (unsigned)MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);

    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_resource *res;
    otel_tracer *t;
    assert_int_equal(otel_resource_new(&res, "so-test"), 0);
    assert_int_equal(otel_tracer_new(&t, &cfg, res), 0);
    otel_exporter *e;
    assert_int_equal(otel_exporter_new(&e, "capture", capture, NULL), 0);
    assert_int_equal(otel_tracer_add_exporter(t, e), 0);

    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .root = true};
    otel_span *server = otel_span_start(t, "GET /orders", &opt);
    otel_span *prev = otel_context_attach(server);
    body traced = {{0}, 0}, plain = {{0}, 0};
    assert_int_equal(get(url, 1, &traced), 200);
    assert_int_equal(get(url, 0, &plain), 200); /* an uninstrumented handle is left alone */
    otel_context_detach(prev);
    otel_span_end(server);
    assert_int_equal(otel_tracer_force_flush(t, 5000000000ULL), 0);
    MHD_stop_daemon(d);

    assert_string_equal(plain.text, "none");
    assert_int_equal(n_seen, 2); /* the client span and the server span: nothing for plain */
    const seen_span *client = seen[0].kind == OTEL_SPAN_KIND_CLIENT ? &seen[0] : &seen[1];
    const seen_span *srv = client == &seen[0] ? &seen[1] : &seen[0];
    assert_int_equal(client->kind, OTEL_SPAN_KIND_CLIENT);
    assert_int_equal(srv->kind, OTEL_SPAN_KIND_SERVER);
    assert_string_equal(client->parent_id, srv->span_id);
    char want[64];
    snprintf(want, sizeof(want), "00-%s-%s-01", srv->trace_id, client->span_id);
    assert_string_equal(traced.text, want);
    otel_tracer_del(t);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curl_easy_perform_traced_through_the_so),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
