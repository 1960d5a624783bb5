/* test_client.c - unit tests for core/client.c (CLIENT spans: name,
 * attributes, redaction, injection, status), through a real tracer and a
 * capturing exporter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../core/alloc.h"
#include <mhd-otel/client.h>
#include <mhd-otel/otel.h>
#include "../../core/span_int.h"
#include "../../core/tracer_int.h"
#include "../../core/test_hooks.h"

#define MAX_CAPTURED 16
#define MAX_HEADERS 16
#define SEC 1000000000ULL

/* Spans are released after export: the exporter keeps deep copies, with
 * the pointers into the arena moved into the copy's arena. */
typedef struct capture {
    otel_span spans[MAX_CAPTURED];
    size_t n;
} capture;

/* A carrier recording what the setter was given. */
typedef struct headers {
    char name[MAX_HEADERS][64];
    char value[MAX_HEADERS][OTEL_BAGGAGE_MAX_BYTES + 1];
    size_t n;
} headers;

static capture cap;
static headers hdr;
static otel_tracer *cur_t;

static const char *relocate(const char *p, const otel_span *from, otel_span *to)
{
    if (p != NULL && p >= from->arena && p < from->arena + OTEL_SPAN_ARENA)
        return to->arena + (p - from->arena);
    return p;
}

static int capture_export(void *user_data, const otel_span_data *const *spans, size_t n,
                          uint64_t deadline_ns)
{
    (void)deadline_ns;
    capture *c = user_data;
    for (size_t i = 0; i < n && c->n < MAX_CAPTURED; i++) {
        const otel_span *from = otel_span_of(spans[i]);
        otel_span *to = &c->spans[c->n++];
        *to = *from;
        to->d.name = relocate(from->d.name, from, to);
        to->d.status_message = relocate(from->d.status_message, from, to);
        for (uint16_t a = 0; a < from->d.n_attrs; a++) {
            to->d.attrs[a].key = relocate(from->d.attrs[a].key, from, to);
            if (from->d.attrs[a].type == OTEL_ATTR_STRING)
                to->d.attrs[a].v.s.ptr = relocate(from->d.attrs[a].v.s.ptr, from, to);
        }
    }
    return OTEL_OK;
}

static void header_set(void *carrier, const char *name, const char *value)
{
    headers *h = carrier;
    assert_true(h->n < MAX_HEADERS);
    snprintf(h->name[h->n], sizeof(h->name[0]), "%s", name);
    snprintf(h->value[h->n], sizeof(h->value[0]), "%s", value);
    h->n++;
}

static const char *header(const char *name)
{
    for (size_t i = 0; i < hdr.n; i++)
        if (strcmp(hdr.name[i], name) == 0)
            return hdr.value[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    memset(&cap, 0, sizeof(cap));
    memset(&hdr, 0, sizeof(hdr));
    cur_t = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    otel_context_detach(NULL);
    otel_tracer_del(cur_t);
    cur_t = NULL;
    return 0;
}

static otel_tracer *tracer_with(otel_sampler_kind kind)
{
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    assert_int_equal(otel_sampler_init(&cfg.sampler, kind, 1.0), OTEL_OK);
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "test-client"), OTEL_OK);
    assert_int_equal(otel_tracer_new(&cur_t, &cfg, r), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_exporter_new(&e, "capture", capture_export, &cap), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(cur_t, e), OTEL_OK);
    return cur_t;
}

static otel_tracer *tracer(void)
{
    return tracer_with(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
}

static void flush(void)
{
    assert_int_equal(otel_tracer_force_flush(cur_t, 2 * SEC), OTEL_OK);
}

static const otel_span_data *captured(const char *name)
{
    for (size_t i = 0; i < cap.n; i++)
        if (strcmp(cap.spans[i].d.name, name) == 0)
            return &cap.spans[i].d;
    fail_msg("span %s was not exported", name);
    return NULL;
}

static const otel_attr *attr(const otel_span_data *s, const char *key)
{
    for (size_t i = 0; i < s->n_attrs; i++)
        if (strcmp(s->attrs[i].key, key) == 0)
            return &s->attrs[i];
    return NULL;
}

static const char *str_attr(const otel_span_data *s, const char *key)
{
    const otel_attr *a = attr(s, key);
    if (a == NULL)
        return NULL;
    assert_int_equal(a->type, OTEL_ATTR_STRING);
    return a->v.s.ptr;
}

/* The integer attribute key of s, -1 when absent. */
static int64_t int_attr(const otel_span_data *s, const char *key)
{
    const otel_attr *a = attr(s, key);
    if (a == NULL)
        return -1;
    assert_int_equal(a->type, OTEL_ATTR_INT);
    return a->v.i;
}

/* Start and end (with status) a client span of t for url; the exported span. */
static const otel_span_data *one_span(const char *method, const char *url, int status,
                                      const char *error_type)
{
    otel_span *s = otel_client_span_start(cur_t, method, url, NULL, header_set, &hdr);
    assert_non_null(s);
    otel_client_span_end(s, status, error_type);
    flush();
    assert_int_equal(cap.n, 1);
    return &cap.spans[0].d;
}

/* ---- start -------------------------------------------------------------- */

static void test_otel_client_span_start_child_of_current(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span_options so = {.kind = OTEL_SPAN_KIND_SERVER};
    otel_span *server = otel_span_start(t, "server", &so);
    otel_span_context sc = otel_span_get_context(server);
    otel_span *prev = otel_context_attach(server);

    otel_span *c =
        otel_client_span_start(NULL, "GET", "http://example.com/a?b=1", NULL, header_set, &hdr);
    assert_non_null(c);
    otel_span_context cc = otel_span_get_context(c);
    assert_memory_equal(cc.trace_id, sc.trace_id, 16);
    assert_memory_not_equal(cc.span_id, sc.span_id, 8);
    char tp[OTEL_TRACEPARENT_LEN + 1];
    otel_traceparent_format(&cc, tp);
    assert_non_null(header("traceparent"));
    assert_string_equal(header("traceparent"), tp);
    assert_null(header("tracestate")); /* none to carry */
    assert_null(header("baggage"));
    assert_true(otel_span_current() == server); /* not changed */
    otel_client_span_end(c, 200, NULL);
    otel_context_detach(prev);
    otel_span_end(server);
    flush();

    const otel_span_data *x = captured("GET");
    assert_int_equal(x->kind, OTEL_SPAN_KIND_CLIENT);
    assert_true(x->has_parent);
    assert_memory_equal(x->parent_span_id, sc.span_id, 8);
    assert_memory_equal(x->ctx.span_id, cc.span_id, 8);
    assert_string_equal(str_attr(x, "http.request.method"), "GET");
    assert_null(attr(x, "http.request.method_original"));
    assert_string_equal(str_attr(x, "url.full"), "http://example.com/a?b=1");
    assert_string_equal(str_attr(x, "server.address"), "example.com");
    assert_int_equal(int_attr(x, "server.port"), 80);
    assert_int_equal(int_attr(x, "http.response.status_code"), 200);
    assert_null(attr(x, "error.type"));
    assert_int_equal(x->status, OTEL_STATUS_UNSET);
}

static void test_otel_client_span_start_root_without_current(void **state)
{
    (void)state;
    tracer();
    otel_span *c = otel_client_span_start(cur_t, "POST", "https://h/", NULL, header_set, &hdr);
    assert_non_null(c);
    otel_client_span_end(c, 201, NULL);
    flush();
    const otel_span_data *x = captured("POST");
    assert_false(x->has_parent);
    assert_int_equal(int_attr(x, "server.port"), 443);
}

static void test_otel_client_span_start_no_tracer(void **state)
{
    (void)state;
    assert_null(otel_client_span_start(NULL, "GET", "http://h/", NULL, header_set, &hdr));
    assert_int_equal(hdr.n, 0);
}

static void test_otel_client_span_start_tracestate_carried(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span_options so = {.kind = OTEL_SPAN_KIND_SERVER, .tracestate = "v=1,w=2"};
    otel_span *server = otel_span_start(t, "server", &so);
    otel_span *prev = otel_context_attach(server);
    otel_span *c = otel_client_span_start(NULL, "GET", "http://h/", NULL, header_set, &hdr);
    assert_non_null(header("tracestate"));
    assert_string_equal(header("tracestate"), "v=1,w=2");
    otel_client_span_end(c, 200, NULL);
    otel_context_detach(prev);
    otel_span_end(server);
}

static void test_otel_client_span_start_unsampled_injects(void **state)
{
    (void)state;
    tracer_with(OTEL_SAMPLER_ALWAYS_OFF);
    otel_span *c = otel_client_span_start(cur_t, "GET", "http://h/", NULL, header_set, &hdr);
    assert_non_null(c);
    assert_false(otel_span_is_recording(c));
    const char *tp = header("traceparent");
    assert_non_null(tp);
    assert_int_equal(strlen(tp), OTEL_TRACEPARENT_LEN);
    assert_string_equal(tp + 53, "00");
    otel_client_span_end(c, 500, NULL);
    flush();
    assert_int_equal(cap.n, 0);
}

static void test_otel_client_span_start_b3(void **state)
{
    (void)state;
    tracer();
    otel_propagators p;
    assert_int_equal(otel_propagators_from_names(&p, "b3", NULL, 0), OTEL_OK);
    otel_span *c = otel_client_span_start(cur_t, "GET", "http://h/", &p, header_set, &hdr);
    otel_span_context cc = otel_span_get_context(c);
    char b3[OTEL_B3_LEN + 1];
    otel_b3_format(&cc, b3);
    assert_null(header("traceparent"));
    assert_non_null(header("b3"));
    assert_string_equal(header("b3"), b3);
    otel_client_span_end(c, 0, NULL);
}

static void test_otel_client_span_start_methods(void **state)
{
    (void)state;
    tracer();
    const char *known[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                           "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (size_t i = 0; i < 9; i++)
        otel_client_span_end(otel_client_span_start(cur_t, known[i], NULL, NULL, NULL, NULL), 0,
                             NULL);
    otel_client_span_end(otel_client_span_start(cur_t, "PURGE", NULL, NULL, NULL, NULL), 0, NULL);
    flush();
    assert_int_equal(cap.n, 10);
    for (size_t i = 0; i < 9; i++) {
        const otel_span_data *x = captured(known[i]);
        assert_string_equal(str_attr(x, "http.request.method"), known[i]);
        assert_null(attr(x, "url.full"));
    }
    const otel_span_data *o = captured("HTTP");
    assert_string_equal(str_attr(o, "http.request.method"), "_OTHER");
    assert_string_equal(str_attr(o, "http.request.method_original"), "PURGE");
}

static void test_otel_client_span_start_method_lowercase_is_other(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("get", "http://h/", 200, NULL);
    assert_string_equal(x->name, "HTTP");
    assert_string_equal(str_attr(x, "http.request.method"), "_OTHER");
    assert_string_equal(str_attr(x, "http.request.method_original"), "get");
}

static void test_otel_client_span_start_method_null(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span(NULL, NULL, 0, NULL);
    assert_string_equal(x->name, "HTTP");
    assert_string_equal(str_attr(x, "http.request.method"), "_OTHER");
    assert_null(attr(x, "http.request.method_original"));
    assert_null(attr(x, "http.response.status_code"));
    assert_int_equal(x->status, OTEL_STATUS_UNSET);
}

/* ---- url attributes ----------------------------------------------------- */

static void test_otel_client_span_start_credentials_removed(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x =
        one_span("GET", "https://user:s3cret@api.example.com:8443/v1/x?q=1#frag", 200, NULL);
    assert_string_equal(str_attr(x, "url.full"),
                        "https://REDACTED:REDACTED@api.example.com:8443/v1/x?q=1#frag");
    assert_string_equal(str_attr(x, "server.address"), "api.example.com");
    assert_int_equal(int_attr(x, "server.port"), 8443);
    for (size_t i = 0; i < x->n_attrs; i++)
        if (x->attrs[i].type == OTEL_ATTR_STRING)
            assert_null(strstr(x->attrs[i].v.s.ptr, "s3cret"));
}

static void test_otel_client_span_start_user_only_removed(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("GET", "http://alice@h.example/", 200, NULL);
    assert_string_equal(str_attr(x, "url.full"), "http://REDACTED:REDACTED@h.example/");
    assert_string_equal(str_attr(x, "server.address"), "h.example");
}

static void test_otel_client_span_start_signature_redacted(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("GET",
                                       "https://b.s3.example/o?AWSAccessKeyId=AK&Signature=zz&x=1&"
                                       "sig=a&X-Goog-Signature=g&sigx=keep",
                                       200, NULL);
    assert_string_equal(str_attr(x, "url.full"),
                        "https://b.s3.example/o?AWSAccessKeyId=REDACTED&Signature=REDACTED&x=1&"
                        "sig=REDACTED&X-Goog-Signature=REDACTED&sigx=keep");
}

static void test_otel_client_span_start_ports(void **state)
{
    (void)state;
    tracer();
    struct {
        const char *url;
        const char *host;
        int64_t port;
    } cases[] = {
        {"http://a.example/", "a.example", 80},
        {"HTTPS://b.example", "b.example", 443},
        {"http://c.example:8080", "c.example", 8080},
        {"http://[::1]:9000/x", "::1", 9000},
        {"https://[2001:db8::2]/", "2001:db8::2", 443},
        {"d.example/p", "d.example", 80}, /* no scheme: curl's http */
        {"ftp://e.example/f", "e.example", -1},
        {"http://f.example:99999/", "f.example", 80}, /* not a port */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&cap, 0, sizeof(cap));
        otel_client_span_end(otel_client_span_start(cur_t, "GET", cases[i].url, NULL, NULL, NULL),
                             200, NULL);
        flush();
        assert_int_equal(cap.n, 1);
        assert_string_equal(str_attr(&cap.spans[0].d, "server.address"), cases[i].host);
        assert_int_equal(int_attr(&cap.spans[0].d, "server.port"), cases[i].port);
    }
}

/* ---- end ---------------------------------------------------------------- */

static void test_otel_client_span_end_2xx_unset(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("GET", "http://h/", 204, NULL);
    assert_int_equal(x->status, OTEL_STATUS_UNSET);
    assert_null(attr(x, "error.type"));
    assert_int_equal(int_attr(x, "http.response.status_code"), 204);
}

static void test_otel_client_span_end_404_error(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("GET", "http://h/", 404, NULL);
    assert_int_equal(x->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(x, "error.type"), "404");
    assert_int_equal(int_attr(x, "http.response.status_code"), 404);
}

static void test_otel_client_span_end_503_error(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("POST", "http://h/", 503, NULL);
    assert_int_equal(x->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(x, "error.type"), "503");
}

static void test_otel_client_span_end_transport_error(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("GET", "http://h/", 0, "CURLE_COULDNT_CONNECT");
    assert_int_equal(x->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(x, "error.type"), "CURLE_COULDNT_CONNECT");
    assert_null(attr(x, "http.response.status_code"));
}

static void test_otel_client_span_end_transport_error_wins(void **state)
{
    (void)state;
    tracer();
    const otel_span_data *x = one_span("GET", "http://h/", 502, "timeout");
    assert_int_equal(x->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(x, "error.type"), "timeout");
    assert_int_equal(int_attr(x, "http.response.status_code"), 502);
}

/* ---- injection ---------------------------------------------------------- */

static void assert_no_ctl(void)
{
    for (size_t i = 0; i < hdr.n; i++)
        for (const char *p = hdr.value[i]; *p != '\0'; p++)
            assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void test_otel_client_inject_never_crlf(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span_options so = {.kind = OTEL_SPAN_KIND_SERVER, .tracestate = "a=b\r\nX-Evil: 1"};
    otel_span *server = otel_span_start(t, "server", &so);
    otel_span *prev = otel_context_attach(server);
    otel_span *c = otel_client_span_start(NULL, "GET", "http://h/\r\nX: y", NULL, header_set, &hdr);
    assert_non_null(header("traceparent"));
    assert_no_ctl();

    static otel_baggage bag;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "v\r\nInjected: yes", NULL), OTEL_OK);
    memset(&hdr, 0, sizeof(hdr));
    otel_client_inject(c, NULL, &bag, header_set, &hdr);
    assert_non_null(header("traceparent"));
    assert_non_null(header("baggage"));
    assert_null(strchr(header("baggage"), '\r'));
    assert_no_ctl();
    otel_client_span_end(c, 200, NULL);
    otel_context_detach(prev);
    otel_span_end(server);
}

static void test_otel_client_inject_null_safe(void **state)
{
    (void)state;
    tracer();
    otel_client_inject(NULL, NULL, NULL, header_set, &hdr);
    assert_int_equal(hdr.n, 0);
    otel_span *c = otel_client_span_start(cur_t, "GET", "http://h/", NULL, NULL, NULL);
    otel_client_inject(c, NULL, NULL, NULL, NULL);
    otel_propagators none;
    assert_int_equal(otel_propagators_from_names(&none, "none", NULL, 0), OTEL_OK);
    otel_client_inject(c, &none, NULL, header_set, &hdr);
    assert_int_equal(hdr.n, 0);
    otel_client_span_end(c, 200, NULL);
    otel_client_span_end(NULL, 500, "x");
}

static void test_otel_client_span_start_alloc_failure_loop(void **state)
{
    (void)state;
    for (long n = 0; n < 8; n++) {
        tracer();
        otel_alloc_fail_after(n);
        otel_span *c =
            otel_client_span_start(cur_t, "GET", "http://u:p@h/", NULL, header_set, &hdr);
        otel_client_span_end(c, 404, NULL);
        otel_alloc_fail_after(-1);
        otel_tracer_del(cur_t);
        cur_t = NULL;
        memset(&cap, 0, sizeof(cap));
        memset(&hdr, 0, sizeof(hdr));
    }
}

/* The baggage of the request being handled goes on to outgoing calls when
 * none is given, and only through a baggage propagator. */
static void test_otel_client_inject_current_baggage(void **state)
{
    (void)state;
    tracer();
    /* Two baggage lines of the incoming request: one list (W3C Baggage:
     * "Multiple baggage headers are allowed"). */
    const char *values[] = {"user.id=alice , bad key=x", "tenant=t%201"};
    const size_t lens[] = {strlen(values[0]), strlen(values[1])};
    const otel_baggage_lines lines = {values, lens, 2};
    const otel_baggage_lines *prev = otel_baggage_attach(&lines);
    otel_span *c = otel_client_span_start(cur_t, "GET", "http://h/", NULL, header_set, &hdr);
    assert_non_null(header("traceparent"));
    assert_string_equal(header("baggage"), "user.id=alice,tenant=t%201"); /* bad member dropped */
    otel_client_span_end(c, 200, NULL);

    hdr.n = 0;
    otel_propagators tc_only;
    assert_int_equal(otel_propagators_from_names(&tc_only, "tracecontext", NULL, 0), OTEL_OK);
    c = otel_client_span_start(cur_t, "GET", "http://h/", &tc_only, header_set, &hdr);
    assert_non_null(header("traceparent"));
    assert_null(header("baggage"));
    otel_client_span_end(c, 200, NULL);

    otel_baggage_attach(prev);
    hdr.n = 0;
    c = otel_client_span_start(cur_t, "GET", "http://h/", NULL, header_set, &hdr);
    assert_null(header("baggage")); /* none current any more */
    otel_client_span_end(c, 200, NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_client_span_start_child_of_current),
        T(test_otel_client_inject_current_baggage),
        T(test_otel_client_span_start_root_without_current),
        T(test_otel_client_span_start_no_tracer),
        T(test_otel_client_span_start_tracestate_carried),
        T(test_otel_client_span_start_unsampled_injects),
        T(test_otel_client_span_start_b3),
        T(test_otel_client_span_start_methods),
        T(test_otel_client_span_start_method_lowercase_is_other),
        T(test_otel_client_span_start_method_null),
        T(test_otel_client_span_start_credentials_removed),
        T(test_otel_client_span_start_user_only_removed),
        T(test_otel_client_span_start_signature_redacted),
        T(test_otel_client_span_start_ports),
        T(test_otel_client_span_end_2xx_unset),
        T(test_otel_client_span_end_404_error),
        T(test_otel_client_span_end_503_error),
        T(test_otel_client_span_end_transport_error),
        T(test_otel_client_span_end_transport_error_wins),
        T(test_otel_client_inject_never_crlf),
        T(test_otel_client_inject_null_safe),
        T(test_otel_client_span_start_alloc_failure_loop),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
