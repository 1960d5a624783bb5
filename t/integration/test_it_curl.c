/* test_it_curl.c - integration tests of the libcurl helper: an in-process
 * MHD server echoes the request headers it received; instrumented curl
 * handles call it from inside a server-like span through the static
 * library's explicit calls (mhd_otel_curl_easy_*), and the CLIENT spans are
 * read from a capturing exporter. The shared library's interposers are
 * checked for pass-through under LD_PRELOAD with the curl tool. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <microhttpd.h>

#include "../../core/alloc.h"
#include <mhd-otel/otel.h>
#include "../../core/span_int.h"
#include <mhd-otel/mhd_otel_curl.h>
#include "../lib/itest.h"
#include "../../core/test_hooks.h"

#define MAX_CAPTURED 16
#define BODY_MAX 16384
#define SEC 1000000000ULL

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

typedef struct capture {
    otel_span spans[MAX_CAPTURED];
    size_t n;
} capture;

/* A response body as received by the client. */
typedef struct body {
    char text[BODY_MAX];
    size_t len;
} body;

/* Counts of the hook calls. */
typedef struct hooks_seen {
    int requests;
    int responses;
    CURLcode result;
    otel_span *span;
} hooks_seen;

typedef struct fixture {
    struct MHD_Daemon *d;
    uint16_t port;
    otel_tracer *t;
    otel_span *server; /* the current span the client calls from */
    otel_span *prev;
    otel_span_context server_ctx;
    capture cap;
    body b;
    char url[128];
} fixture;

/* ---- the echo server ---------------------------------------------------- */

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    body *b = cls;
    (void)kind;
    int n = snprintf(b->text + b->len, sizeof(b->text) - b->len, "%s: %s\n", key,
                     value != NULL ? value : "");
    if (n > 0 && (size_t)n < sizeof(b->text) - b->len)
        b->len += (size_t)n;
    return MHD_YES;
}

/* Answers every request with its headers, one "name: value" line each;
 * /status/N answers with status N. */
static enum MHD_Result echo_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
    static int first;
    (void)cls;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &first;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    body *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return MHD_NO;
    MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, b);
    unsigned int status = MHD_HTTP_OK;
    if (strncmp(url, "/status/", 8) == 0)
        status = (unsigned int)strtoul(url + 8, NULL, 10);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b->len, b->text, MHD_RESPMEM_MUST_COPY);
    free(b);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- spans ------------------------------------------------------------- */

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
    return (a != NULL && a->type == OTEL_ATTR_STRING) ? a->v.s.ptr : NULL;
}

static int64_t int_attr(const otel_span_data *s, const char *key)
{
    const otel_attr *a = attr(s, key);
    return (a != NULL && a->type == OTEL_ATTR_INT) ? a->v.i : -1;
}

/* End the server span, flush, and return the only CLIENT span exported. */
static const otel_span_data *client_span(fixture *f)
{
    otel_context_detach(f->prev);
    otel_span_end(f->server);
    f->server = NULL;
    assert_int_equal(otel_tracer_force_flush(f->t, 2 * SEC), OTEL_OK);
    const otel_span_data *found = NULL;
    for (size_t i = 0; i < f->cap.n; i++) {
        if (f->cap.spans[i].d.kind != OTEL_SPAN_KIND_CLIENT)
            continue;
        assert_null(found);
        found = &f->cap.spans[i].d;
    }
    assert_non_null(found);
    assert_memory_equal(found->ctx.trace_id, f->server_ctx.trace_id, 16);
    assert_true(found->has_parent);
    assert_memory_equal(found->parent_span_id, f->server_ctx.span_id, 8);
    return found;
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                            echo_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_END);
    assert_non_null(f->d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    f->port = di->port;
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/echo", (unsigned)f->port);

    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "itest-curl"), OTEL_OK);
    assert_int_equal(otel_tracer_new(&f->t, &cfg, r), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_exporter_new(&e, "capture", capture_export, &f->cap), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(f->t, e), OTEL_OK);

    otel_span_options so = {.kind = OTEL_SPAN_KIND_SERVER};
    f->server = otel_span_start(f->t, "GET /work", &so);
    assert_non_null(f->server);
    f->server_ctx = otel_span_get_context(f->server);
    f->prev = otel_context_attach(f->server);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->server != NULL) {
        otel_context_detach(f->prev);
        otel_span_end(f->server);
    }
    otel_tracer_del(f->t);
    MHD_stop_daemon(f->d);
    free(f);
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *user_data)
{
    body *b = user_data;
    size_t len = size * n;
    size_t room = sizeof(b->text) - 1 - b->len;
    memcpy(b->text + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;
    b->text[b->len] = '\0';
    return len;
}

/* A new handle instrumented with opt, writing into f->b. */
static CURL *handle(fixture *f, const mhd_otel_curl_options *opt, const char *url)
{
    CURL *h = curl_easy_init();
    assert_non_null(h);
    assert_int_equal(mhd_otel_curl_instrument(h, opt), OTEL_OK);
    assert_true(mhd_otel_curl_is_instrumented(h));
    mhd_otel_curl_easy_setopt(h, CURLOPT_URL, url);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->b);
    mhd_otel_curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    return h;
}

/* The value of the echoed header name (case-insensitive), copied into out;
 * NULL when absent. Fails when it was echoed twice. */
static const char *echoed(const body *b, const char *name, char *out, size_t cap)
{
    const char *found = NULL;
    size_t nlen = strlen(name);
    for (const char *line = b->text; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nlen + 1 && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            assert_null(found);
            found = line;
            snprintf(out, cap, "%.*s", (int)(len - nlen - 2), line + nlen + 2);
        }
        line += len + (eol ? 1 : 0);
    }
    return found ? out : NULL;
}

/* ---- tests -------------------------------------------------------------- */

static void test_mhd_otel_curl_easy_perform_injects(void **state)
{
    fixture *f = *state;
    CURL *h = handle(f, NULL, f->url);
    struct curl_slist *mine = curl_slist_append(NULL, "X-Caller: mine");
    assert_non_null(mine);
    mhd_otel_curl_easy_setopt(h, CURLOPT_HTTPHEADER, mine);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);

    char tp[128], v[128];
    assert_non_null(echoed(&f->b, "traceparent", tp, sizeof(tp)));
    assert_non_null(echoed(&f->b, "X-Caller", v, sizeof(v)));
    assert_string_equal(v, "mine");
    assert_null(echoed(&f->b, "tracestate", v, sizeof(v)));

    /* Untraced again: the caller's own list is back in place. */
    mhd_otel_curl_uninstrument(h);
    assert_false(mhd_otel_curl_is_instrumented(h));
    f->b.len = 0;
    f->b.text[0] = '\0';
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    assert_non_null(echoed(&f->b, "X-Caller", v, sizeof(v)));
    assert_null(echoed(&f->b, "traceparent", v, sizeof(v)));
    mhd_otel_curl_easy_cleanup(h);
    curl_slist_free_all(mine);

    const otel_span_data *c = client_span(f);
    char want[OTEL_TRACEPARENT_LEN + 1];
    otel_traceparent_format(&c->ctx, want);
    assert_string_equal(tp, want);
    assert_string_equal(c->name, "GET");
    assert_string_equal(str_attr(c, "http.request.method"), "GET");
    assert_string_equal(str_attr(c, "url.full"), f->url);
    assert_string_equal(str_attr(c, "server.address"), "127.0.0.1");
    assert_int_equal(int_attr(c, "server.port"), f->port);
    assert_int_equal(int_attr(c, "http.response.status_code"), 200);
    assert_int_equal(c->status, OTEL_STATUS_UNSET);
    assert_null(attr(c, "error.type"));
}

static void test_mhd_otel_curl_easy_perform_replaces_callers_traceparent(void **state)
{
    fixture *f = *state;
    CURL *h = handle(f, NULL, f->url);
    struct curl_slist *mine = curl_slist_append(
        NULL, "TraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assert_non_null(mine);
    mhd_otel_curl_easy_setopt(h, CURLOPT_HTTPHEADER, mine);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    char tp[128];
    assert_non_null(echoed(&f->b, "traceparent", tp, sizeof(tp))); /* once */
    mhd_otel_curl_easy_cleanup(h);
    curl_slist_free_all(mine);
    const otel_span_data *c = client_span(f);
    char want[OTEL_TRACEPARENT_LEN + 1];
    otel_traceparent_format(&c->ctx, want);
    assert_string_equal(tp, want);
}

static void test_mhd_otel_curl_easy_perform_500_error(void **state)
{
    fixture *f = *state;
    char url[160];
    snprintf(url, sizeof(url), "http://user:pw@127.0.0.1:%u/status/500", (unsigned)f->port);
    CURL *h = handle(f, NULL, url);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_cleanup(h);
    const otel_span_data *c = client_span(f);
    assert_int_equal(int_attr(c, "http.response.status_code"), 500);
    assert_int_equal(c->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(c, "error.type"), "500");
    char want[160];
    snprintf(want, sizeof(want), "http://REDACTED:REDACTED@127.0.0.1:%u/status/500",
             (unsigned)f->port);
    assert_string_equal(str_attr(c, "url.full"), want);
}

static void test_mhd_otel_curl_easy_perform_failonerror(void **state)
{
    fixture *f = *state;
    char url[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/status/404", (unsigned)f->port);
    CURL *h = handle(f, NULL, url);
    mhd_otel_curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_HTTP_RETURNED_ERROR);
    mhd_otel_curl_easy_cleanup(h);
    const otel_span_data *c = client_span(f);
    assert_int_equal(c->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(c, "error.type"), "404");
}

static void test_mhd_otel_curl_easy_perform_connection_refused(void **state)
{
    fixture *f = *state;
    uint16_t port;
    assert_int_equal(itest_port_reserve(&port), 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
    CURL *h = handle(f, NULL, url);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_COULDNT_CONNECT);
    mhd_otel_curl_easy_cleanup(h);
    const otel_span_data *c = client_span(f);
    assert_int_equal(c->status, OTEL_STATUS_ERROR);
    assert_string_equal(str_attr(c, "error.type"), "CURLE_COULDNT_CONNECT");
    assert_null(attr(c, "http.response.status_code"));
    assert_int_equal(int_attr(c, "server.port"), port);
}

static void test_mhd_otel_curl_easy_perform_methods(void **state)
{
    fixture *f = *state;
    CURL *h = handle(f, NULL, f->url);
    mhd_otel_curl_easy_setopt(h, CURLOPT_POSTFIELDS, "a=1");
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PURGE");
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    mhd_otel_curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    /* reset: still instrumented, URL given again, method back to GET */
    mhd_otel_curl_easy_reset(h);
    assert_true(mhd_otel_curl_is_instrumented(h));
    mhd_otel_curl_easy_setopt(h, CURLOPT_URL, f->url);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->b);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_cleanup(h);

    otel_context_detach(f->prev);
    otel_span_end(f->server);
    f->server = NULL;
    assert_int_equal(otel_tracer_force_flush(f->t, 2 * SEC), OTEL_OK);
    assert_int_equal(f->cap.n, 5);
    assert_string_equal(f->cap.spans[0].d.name, "POST");
    assert_string_equal(f->cap.spans[1].d.name, "HTTP");
    assert_string_equal(str_attr(&f->cap.spans[1].d, "http.request.method"), "_OTHER");
    assert_string_equal(str_attr(&f->cap.spans[1].d, "http.request.method_original"), "PURGE");
    assert_string_equal(f->cap.spans[2].d.name, "HEAD");
    assert_string_equal(f->cap.spans[3].d.name, "GET");
    assert_string_equal(str_attr(&f->cap.spans[3].d, "url.full"), f->url);
}

static void on_request(void *ud, otel_span *span, CURL *h)
{
    hooks_seen *hs = ud;
    assert_non_null(h);
    hs->requests++;
    hs->span = span;
    otel_span_set_attr_str(span, "app.hook", "request");
}

static void on_response(void *ud, otel_span *span, CURL *h, CURLcode result)
{
    hooks_seen *hs = ud;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    assert_int_equal(code, 200);
    assert_true(span == hs->span);
    hs->responses++;
    hs->result = result;
}

static void test_mhd_otel_curl_hooks_and_baggage(void **state)
{
    fixture *f = *state;
    hooks_seen hs = {0};
    static otel_baggage bag;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "user", "a b", NULL), OTEL_OK);
    mhd_otel_curl_options opt = {.tracer = f->t,
                                 .baggage = &bag,
                                 .request_hook = on_request,
                                 .response_hook = on_response,
                                 .user_data = &hs};
    CURL *h = handle(f, &opt, f->url);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_cleanup(h);
    assert_int_equal(hs.requests, 1);
    assert_int_equal(hs.responses, 1);
    assert_int_equal(hs.result, CURLE_OK);
    char v[128];
    assert_non_null(echoed(&f->b, "baggage", v, sizeof(v)));
    assert_string_equal(v, "user=a%20b");
    const otel_span_data *c = client_span(f);
    assert_string_equal(str_attr(c, "app.hook"), "request");
}

static void test_mhd_otel_curl_uninstrumented_untouched(void **state)
{
    fixture *f = *state;
    CURL *h = curl_easy_init();
    assert_non_null(h);
    mhd_otel_curl_easy_setopt(h, CURLOPT_URL, f->url);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->b);
    assert_false(mhd_otel_curl_is_instrumented(h));
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_cleanup(h);
    char v[128];
    assert_null(echoed(&f->b, "traceparent", v, sizeof(v)));
    otel_context_detach(f->prev);
    otel_span_end(f->server);
    f->server = NULL;
    assert_int_equal(otel_tracer_force_flush(f->t, 2 * SEC), OTEL_OK);
    assert_int_equal(f->cap.n, 1); /* the server span only */
}

/* A CURLOPT_HTTPHEADER list set before the handle is instrumented goes out
 * with the injected headers, and is the handle's list again after the
 * traced perform: a second, untraced perform still sends it. */
static void test_mhd_otel_curl_headers_set_before_instrument(void **state)
{
    fixture *f = *state;
    CURL *h = curl_easy_init();
    assert_non_null(h);
    struct curl_slist *mine = curl_slist_append(NULL, "X-Caller: early");
    assert_non_null(mine);
    mhd_otel_curl_easy_setopt(h, CURLOPT_HTTPHEADER, mine);
    mhd_otel_curl_easy_setopt(h, CURLOPT_URL, f->url);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->b);
    assert_false(mhd_otel_curl_is_instrumented(h));
    assert_int_equal(mhd_otel_curl_instrument(h, NULL), OTEL_OK);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    char v[128];
    assert_non_null(echoed(&f->b, "traceparent", v, sizeof(v)));
    assert_non_null(echoed(&f->b, "X-Caller", v, sizeof(v)));
    assert_string_equal(v, "early");

    mhd_otel_curl_uninstrument(h);
    f->b.len = 0;
    f->b.text[0] = '\0';
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    assert_non_null(echoed(&f->b, "X-Caller", v, sizeof(v)));
    assert_string_equal(v, "early");
    assert_null(echoed(&f->b, "traceparent", v, sizeof(v)));

    /* Instrumented again, the list is still known. */
    assert_int_equal(mhd_otel_curl_instrument(h, NULL), OTEL_OK);
    f->b.len = 0;
    f->b.text[0] = '\0';
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    assert_non_null(echoed(&f->b, "X-Caller", v, sizeof(v)));
    assert_non_null(echoed(&f->b, "traceparent", v, sizeof(v)));
    mhd_otel_curl_easy_cleanup(h);
    curl_slist_free_all(mine);
}

/* With no propagators in its options, a handle carries the process's
 * configured set (what mhd_otel_new takes from otel_propagators), read at
 * each perform. */
static void test_mhd_otel_curl_uses_configured_propagators(void **state)
{
    fixture *f = *state;
    otel_propagators b3;
    assert_int_equal(otel_propagators_from_names(&b3, "b3multi", NULL, 0), OTEL_OK);
    CURL *h = handle(f, NULL, f->url);
    otel_propagators_set_global(&b3);
    CURLcode rc = mhd_otel_curl_easy_perform(h);
    otel_propagators_set_global(NULL);
    assert_int_equal(rc, CURLE_OK);
    char v[128];
    assert_null(echoed(&f->b, "traceparent", v, sizeof(v)));
    assert_non_null(echoed(&f->b, "X-B3-TraceId", v, sizeof(v)));
    assert_non_null(echoed(&f->b, "X-B3-Sampled", v, sizeof(v)));
    assert_string_equal(v, "1");

    f->b.len = 0; /* the default again */
    f->b.text[0] = '\0';
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    assert_non_null(echoed(&f->b, "traceparent", v, sizeof(v)));
    assert_null(echoed(&f->b, "X-B3-TraceId", v, sizeof(v)));
    mhd_otel_curl_easy_cleanup(h);
}

/* A custom method whose copy failed (out of memory once) is not known:
 * the CLIENT span says "HTTP" / "_OTHER" instead of a wrong "GET" while
 * libcurl sends DELETE. */
static void test_mhd_otel_curl_custom_method_copy_failed(void **state)
{
    fixture *f = *state;
    CURL *h = handle(f, NULL, f->url);
    otel_alloc_fail_after(0); /* the copy of the method fails, and only it */
    CURLcode rc = mhd_otel_curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    otel_alloc_fail_after(-1);
    assert_int_equal(rc, CURLE_OK);
    assert_int_equal(mhd_otel_curl_easy_perform(h), CURLE_OK);
    mhd_otel_curl_easy_cleanup(h);
    const otel_span_data *c = client_span(f);
    assert_string_equal(c->name, "HTTP");
    assert_string_equal(str_attr(c, "http.request.method"), "_OTHER");
}

static void test_mhd_otel_curl_code_name(void **state)
{
    (void)state;
    assert_string_equal(mhd_otel_curl_code_name(CURLE_OK), "CURLE_OK");
    assert_string_equal(mhd_otel_curl_code_name(CURLE_OPERATION_TIMEDOUT),
                        "CURLE_OPERATION_TIMEDOUT");
    assert_string_equal(mhd_otel_curl_code_name((CURLcode)9999), "CURLE_UNKNOWN");
    assert_int_equal(mhd_otel_curl_instrument(NULL, NULL), OTEL_ERR_INVALID);
    mhd_otel_curl_uninstrument(NULL);
    assert_false(mhd_otel_curl_is_instrumented(NULL));
}

/* The shared library's curl_easy_* interposers pass every option type
 * through: the curl tool, LD_PRELOADed with it, still works. */
static void test_curl_preload_passthrough(void **state)
{
    fixture *f = *state;
    if (SANITIZED)
        skip(); /* a sanitized .so cannot be preloaded into the curl tool */
    char lib[ITEST_PATH_MAX + 32], env[ITEST_PATH_MAX + 64];
    snprintf(lib, sizeof(lib), "%s/libmhd-otel.so", itest_build_dir());
    snprintf(env, sizeof(env), "LD_PRELOAD=%s", lib);
    const char *envv[] = {env, NULL};
    char *argv[] = {"curl", "-sS", "-H", "X-Via: tool", "--max-time", "10", f->url, NULL};
    char *out = NULL, *err = NULL;
    int status = -1;
    assert_int_equal(itest_run_cmd(argv, envv, 15000, &out, &err, &status), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(out, "X-Via: tool"));
    assert_null(strstr(out, "traceparent"));
    free(out);
    free(err);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mhd_otel_curl_easy_perform_injects),
        T(test_mhd_otel_curl_easy_perform_replaces_callers_traceparent),
        T(test_mhd_otel_curl_easy_perform_500_error),
        T(test_mhd_otel_curl_easy_perform_failonerror),
        T(test_mhd_otel_curl_easy_perform_connection_refused),
        T(test_mhd_otel_curl_easy_perform_methods),
        T(test_mhd_otel_curl_hooks_and_baggage),
        T(test_mhd_otel_curl_uninstrumented_untouched),
        T(test_mhd_otel_curl_headers_set_before_instrument),
        T(test_mhd_otel_curl_custom_method_copy_failed),
        T(test_mhd_otel_curl_uses_configured_propagators),
        T(test_mhd_otel_curl_code_name),
        T(test_curl_preload_passthrough),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
