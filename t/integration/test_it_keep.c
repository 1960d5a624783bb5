/* test_it_keep.c - integration tests of the keep decision (otel_keep_errors,
 * otel_keep_slower_than): the demo server at sampling ratio 0 driven by curl,
 * its spans read back from the console exporter's file; then a server in
 * this process whose handlers fail, are slow, hand spans to threads and call
 * a downstream service, its spans read by an exporter of the test's own.
 *
 * The OpenTelemetry Specification, Tracing SDK (specification/trace/sdk.md),
 * "ShouldSample": a RECORD_ONLY span has IsRecording true "but the Sampled
 * flag MUST NOT be set"; "Sampling": the Sampled flag "is propagated via the
 * SpanContext to child Spans". So a kept trace keeps its unsampled flags,
 * in what is exported and in what is sent downstream. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <mhd-otel/mhd_otel.h>
#include <mhd-otel/mhd_otel_curl.h>
#include "../lib/fake_http.h"
#include "../lib/itest.h"

#define MS 1000000ULL
#define DEMO_SLOW_NS (5 * MS) /* /data sleeps 8 ms: always slower */
#define APP_SLOW_NS (50 * MS)
#define APP_SLEEP_MS 70 /* what /slow and /slow-fail sleep: always slower */
#define MAX_SEEN 64

#define SAMPLED_TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define UNSAMPLED_TRACE_ID "0af7651916cd43dd8448eb211c80319c"
#define REMOTE_SPAN_ID "00f067aa0ba902b7"

#define DEMO_CONF "otel_skip_path /health;\notel_sampler traceidratio 0;\n"

/* ---- the demo server ------------------------------------------------------ */

static int demo_setup(void **state)
{
    itest_server *s = calloc(1, sizeof(*s));

    if (s == NULL || itest_server_init(s) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int demo_teardown(void **state)
{
    itest_server *s = *state;

    itest_server_cleanup(s);
    free(s);
    return 0;
}

/* Run the demo server with conf, GET each of paths (expecting want[i]),
 * stop it; its spans into sp. */
static void demo_run(itest_server *s, const char *conf, const char *const *paths, const int *want,
                     size_t n, itest_spans *sp)
{
    char why[256];

    if (itest_server_start(s, conf) != 0) {
        (void)itest_server_reap(s, 2000);
        fail_msg("demo server did not start: %s", s->err_text ? s->err_text : "");
    }
    for (size_t i = 0; i < n; i++) {
        itest_response r;
        if (itest_curl(s, paths[i], NULL, &r) != 0)
            fail_msg("could not run curl for %s", paths[i]);
        itest_response_free(&r);
        assert_int_equal(r.status, want[i]);
    }
    if (itest_server_stop(s) != 0)
        fail_msg("demo server did not exit cleanly: %s", s->err_text ? s->err_text : "");
    if (itest_spans_read(s->spans_path, sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", s->spans_path, why);
}

static uint64_t counter(const itest_server *s, const char *name)
{
    uint64_t v = 0;

    if (!itest_server_counter(s, name, &v))
        fail_msg("no counter %s in: %s", name, s->err_text ? s->err_text : "");
    return v;
}

/* The server spans of sp whose url.path is path. */
static size_t servers_for(const itest_spans *sp, const char *path, const cJSON **out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < sp->n; i++) {
        const char *kind = itest_span_str(sp->v[i], "kind");
        const char *p = itest_span_attr_str(sp->v[i], "url.path");
        if (kind != NULL && strcmp(kind, "server") == 0 && p != NULL && strcmp(p, path) == 0) {
            if (n < cap)
                out[n] = sp->v[i];
            n++;
        }
    }
    return n;
}

/* The spans of sp whose parent is span's id, in its trace. */
static size_t children_of(const itest_spans *sp, const cJSON *span)
{
    const char *trace = itest_span_str(span, "trace_id");
    const char *id = itest_span_str(span, "span_id");
    size_t n = 0;

    for (size_t i = 0; i < sp->n; i++) {
        const char *t = itest_span_str(sp->v[i], "trace_id");
        const char *p = itest_span_str(sp->v[i], "parent_span_id");
        if (t != NULL && p != NULL && strcmp(t, trace) == 0 && strcmp(p, id) == 0) {
            assert_null(itest_span_attr_str(sp->v[i], "mhd_otel.kept"));
            n++;
        }
    }
    return n;
}

/* A span of a fast request may have been slow after all (a loaded machine):
 * exported then only as slow, and its own times say so. */
static void assert_fast_or_slow(const cJSON *server, uint64_t slow_ns)
{
    const char *kept = itest_span_attr_str(server, "mhd_otel.kept");

    if (kept == NULL)
        fail_msg("an exported server span without mhd_otel.kept at sampling ratio 0");
    assert_string_equal(kept, "slow");
    assert_true(itest_span_end(server) - itest_span_start(server) > slow_ns);
}

/* A mix of requests at ratio 0: the errors and the slow ones are exported
 * with their children, marked; the others are not; the counters balance. */
static void test_demo_keeps_errors_and_slow_requests(void **state)
{
    itest_server *s = *state;
    static const char *const paths[] = {"/hello/Alice", "/hello", "/data",  "/error",    "/health",
                                        "/nope",        "/data",  "/error", "/hello/Bob"};
    static const int want[] = {200, 200, 200, 500, 200, 404, 200, 500, 200};
    const cJSON *v[4];
    itest_spans sp;

    demo_run(s,
             DEMO_CONF "otel_keep_errors on;\n"
                       "otel_keep_slower_than 5ms;\n",
             paths, want, sizeof(paths) / sizeof(paths[0]), &sp);

    assert_int_equal(servers_for(&sp, "/error", v, 4), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(itest_span_attr_str(v[i], "mhd_otel.kept"), "error");
        assert_string_equal(itest_span_status(v[i]), "error");
        assert_non_null(itest_span_event(v[i], "exception"));
    }
    assert_int_equal(servers_for(&sp, "/data", v, 4), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(itest_span_attr_str(v[i], "mhd_otel.kept"), "slow");
        assert_true(itest_span_end(v[i]) - itest_span_start(v[i]) > DEMO_SLOW_NS);
        assert_int_equal(children_of(&sp, v[i]), 2); /* fetch-user-data, process-data */
    }
    static const char *const fast[] = {"/hello/Alice", "/hello", "/nope", "/hello/Bob"};
    size_t fast_kept = 0;
    for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++) {
        size_t n = servers_for(&sp, fast[i], v, 4);
        assert_true(n <= 1);
        for (size_t k = 0; k < n; k++)
            assert_fast_or_slow(v[k], DEMO_SLOW_NS);
        fast_kept += n;
    }
    assert_int_equal(servers_for(&sp, "/health", v, 4), 0);
    assert_int_equal(sp.n, 2 + 2 * 3 + fast_kept);

    /* 8 traced requests, each counted once: kept as an error, as slow, or
     * released; what was exported is what ended, and it balances. */
    assert_int_equal(counter(s, "kept_error"), 2);
    assert_int_equal(counter(s, "kept_slow"), 2 + fast_kept);
    assert_int_equal(counter(s, "keep_released"), 4 - fast_kept);
    assert_int_equal(counter(s, "keep_overflow"), 0);
    assert_int_equal(counter(s, "keep_late"), 0);
    assert_int_equal(counter(s, "ended"), sp.n);
    assert_int_equal(counter(s, "exported"), sp.n);
    itest_balance_ok(counter(s, "ended"), counter(s, "exported"), counter(s, "dropped"),
                     counter(s, "failed"), counter(s, "rejected"), counter(s, "queued"));
    itest_spans_free(&sp);
}

/* Without the keep directives ratio 0 exports nothing and keeps nothing. */
static void test_demo_keep_off_by_default(void **state)
{
    itest_server *s = *state;
    static const char *const paths[] = {"/error", "/data", "/hello"};
    static const int want[] = {500, 200, 200};
    itest_spans sp;

    demo_run(s, DEMO_CONF, paths, want, 3, &sp);
    assert_int_equal(sp.n, 0);
    assert_int_equal(counter(s, "ended"), 0);
    assert_int_equal(counter(s, "kept_error") + counter(s, "kept_slow"), 0);
    assert_int_equal(counter(s, "keep_released"), 0);
    itest_spans_free(&sp);
}

/* ---- a server in this process --------------------------------------------- */

/* What the test's exporter was given of one span. */
typedef struct seen {
    char name[64];
    char trace[33];
    char id[17];
    char parent[17];
    uint8_t flags;
    otel_span_kind kind;
    otel_status_code status;
    char path[32];    /* url.path, "" when none */
    char kept[16];    /* mhd_otel.kept, "" when none */
    char attrs[1024]; /* its string and int attributes, "key=value\n" sorted by key */
    uint64_t start_ns, end_ns;
} seen;

typedef struct app {
    pthread_mutex_t mu; /* guards the members below */
    seen v[MAX_SEEN];
    size_t n;
    char down_url[64]; /* the downstream service /call calls */
} app;

typedef struct fixture {
    itest_server s; /* temp dir, config path, port for curl */
    mhd_otel *m;
    struct MHD_Daemon *d;
    fake_http *down;
    app a;
} fixture;

static void attr_copy(char *dst, size_t cap, const otel_span_data *d, const char *key)
{
    dst[0] = '\0';
    for (uint16_t i = 0; i < d->n_attrs; i++)
        if (d->attrs[i].type == OTEL_ATTR_STRING && strcmp(d->attrs[i].key, key) == 0)
            snprintf(dst, cap, "%s", d->attrs[i].v.s.ptr);
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* d's string and int attributes as "key=value\n" lines sorted by key into
 * dst (cap bytes), a repeated key as often as it is there. */
static void attrs_text(char *dst, size_t cap, const otel_span_data *d)
{
    char lines[OTEL_SPAN_MAX_ATTRS][160];
    const char *sorted[OTEL_SPAN_MAX_ATTRS];
    size_t n = 0, o = 0;

    for (uint16_t i = 0; i < d->n_attrs && n < OTEL_SPAN_MAX_ATTRS; i++) {
        const otel_attr *at = &d->attrs[i];
        if (at->type == OTEL_ATTR_STRING)
            snprintf(lines[n], sizeof(lines[n]), "%s=%s\n", at->key, at->v.s.ptr);
        else if (at->type == OTEL_ATTR_INT)
            snprintf(lines[n], sizeof(lines[n]), "%s=%lld\n", at->key, (long long)at->v.i);
        else
            continue;
        sorted[n] = lines[n];
        n++;
    }
    qsort(sorted, n, sizeof(sorted[0]), line_cmp);
    dst[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(dst + o, cap - o, "%s", sorted[i]);
}

static int app_export(void *user_data, const otel_span_data *const *spans, size_t n,
                      uint64_t deadline_ns)
{
    app *a = user_data;

    (void)deadline_ns;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < n && a->n < MAX_SEEN; i++) {
        const otel_span_data *d = spans[i];
        seen *s = &a->v[a->n++];
        snprintf(s->name, sizeof(s->name), "%s", d->name);
        otel_hex_encode(d->ctx.trace_id, 16, s->trace);
        otel_hex_encode(d->ctx.span_id, 8, s->id);
        if (d->has_parent)
            otel_hex_encode(d->parent_span_id, 8, s->parent);
        else
            s->parent[0] = '\0';
        s->flags = d->ctx.trace_flags;
        s->kind = d->kind;
        s->status = d->status;
        s->start_ns = d->start_ns;
        s->end_ns = d->end_ns;
        attr_copy(s->path, sizeof(s->path), d, "url.path");
        attr_copy(s->kept, sizeof(s->kept), d, "mhd_otel.kept");
        attrs_text(s->attrs, sizeof(s->attrs), d);
    }
    pthread_mutex_unlock(&a->mu);
    return OTEL_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (r == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A child span of the current (server) span, ended at once. */
static void work(const char *name)
{
    otel_span_end(otel_span_start_child(name, OTEL_SPAN_KIND_INTERNAL));
}

static void *end_elsewhere(void *span)
{
    otel_span_set_attr_str(span, "thread", "other");
    otel_span_end(span);
    return NULL;
}

/* /thread: a child handed to another thread, which ends it. */
static void child_on_thread(void)
{
    pthread_t t;
    otel_span *c = otel_span_start_child("on-thread", OTEL_SPAN_KIND_INTERNAL);

    if (pthread_create(&t, NULL, end_elsewhere, c) != 0) {
        otel_span_end(c);
        return;
    }
    pthread_join(t, NULL);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* /call: GET the downstream service through the libcurl helper. */
static void call_down(const app *a)
{
    CURL *h = curl_easy_init();

    if (h != NULL && mhd_otel_curl_instrument(h, NULL) == 0 &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_URL, a->down_url) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK)
        (void)mhd_otel_curl_easy_perform(h);
    if (h != NULL)
        mhd_otel_curl_easy_cleanup(h);
}

static enum MHD_Result app_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    app *a = cls;

    (void)method;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    work("work");
    if (strncmp(url, "/own-route", 10) == 0) { /* the server names its route itself */
        otel_span_set_attr_str(otel_span_current(), "http.route", "/own-route/{n}");
        return respond(conn, 500);
    }
    if (strncmp(url, "/fail", 5) == 0)
        return respond(conn, 500);
    if (strcmp(url, "/status-error") == 0) {
        otel_span_set_status(otel_span_current(), OTEL_STATUS_ERROR, "handler says so");
        return respond(conn, 200);
    }
    if (strcmp(url, "/abort") == 0)
        return MHD_NO; /* MHD ends the request abnormally */
    if (strcmp(url, "/slow") == 0 || strcmp(url, "/slow-fail") == 0) {
        sleep_ms(APP_SLEEP_MS);
        return respond(conn, strcmp(url, "/slow") == 0 ? 200 : 503);
    }
    if (strcmp(url, "/thread") == 0) {
        child_on_thread();
        return respond(conn, 500);
    }
    if (strcmp(url, "/call") == 0) {
        call_down(a);
        return respond(conn, 502);
    }
    return respond(conn, 200);
}

static int app_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || itest_server_init(&f->s) != 0) {
        free(f);
        return -1;
    }
    pthread_mutex_init(&f->a.mu, NULL);
    *state = f;
    return 0;
}

static int app_teardown(void **state)
{
    fixture *f = *state;

    mhd_otel_stop_daemon(f->d);
    mhd_otel_del(f->m);
    fake_http_stop(f->down);
    itest_server_cleanup(&f->s);
    pthread_mutex_destroy(&f->a.mu);
    free(f);
    return 0;
}

/* Load conf (with the console exporter of the helper), add the test's
 * exporter, start the daemon on 127.0.0.1, any port, and the downstream
 * service. */
static void app_start(fixture *f, const char *conf)
{
    char err[512];
    otel_exporter *e = NULL;
    struct sockaddr_in sa = {.sin_family = AF_INET};

    assert_int_equal(itest_server_write_conf(&f->s, conf), 0);
    if (mhd_otel_new(&f->m, f->s.conf_path, err, sizeof(err)) != OTEL_OK)
        fail_msg("mhd_otel_new: %s", err);
    assert_int_equal(otel_exporter_new(&e, "test", app_export, &f->a), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(mhd_otel_tracer(f->m), e), OTEL_OK);
    f->down = fake_http_start(NULL, 0, NULL);
    assert_non_null(f->down);
    snprintf(f->a.down_url, sizeof(f->a.down_url), "http://127.0.0.1:%u/down",
             (unsigned int)fake_http_port(f->down));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->d =
        mhd_otel_start_daemon(f->m, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
                              app_handler, &f->a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
    assert_non_null(f->d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    f->s.port = di->port;
}

/* GET path (with header when not NULL); returns the status (0: no answer). */
static int app_get(fixture *f, const char *path, const char *header)
{
    const char *extra[] = {"-H", header, NULL};
    itest_response r;

    if (itest_curl(&f->s, path, header != NULL ? extra : NULL, &r) != 0)
        fail_msg("could not run curl for %s", path);
    itest_response_free(&r);
    return r.status;
}

/* Stop the daemon and the exporters: every ended span is exported. */
static otel_stats app_stop(fixture *f)
{
    otel_stats st;

    mhd_otel_stop_daemon(f->d);
    f->d = NULL;
    assert_int_equal(otel_tracer_shutdown(mhd_otel_tracer(f->m)), OTEL_OK);
    mhd_otel_stats(f->m, &st);
    return st;
}

/* The one exported server span of path; fails when there is not exactly
 * one. */
static const seen *server_of(const app *a, const char *path)
{
    const seen *found = NULL;

    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].kind != OTEL_SPAN_KIND_SERVER || strcmp(a->v[i].path, path) != 0)
            continue;
        if (found != NULL)
            fail_msg("two server spans for %s", path);
        found = &a->v[i];
    }
    if (found == NULL)
        fail_msg("no server span for %s among %zu spans", path, a->n);
    return found;
}

static size_t spans_with_parent(const app *a, const seen *parent)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].trace, parent->trace) == 0 && strcmp(a->v[i].parent, parent->id) == 0)
            n++;
    return n;
}

/* Each way a request fails keeps its trace as an error (error wins over
 * slow), a slow one as slow; every exported span of those trees is
 * unsampled; the rest is released; sampled requests are as always. */
static void test_app_keep_reasons_and_flags(void **state)
{
    fixture *f = *state;
    app *a = &f->a;

    app_start(f, "otel_service_name itest-keep-app;\n"
                 "otel_sampler parentbased_traceidratio 0;\n"
                 "otel_keep_errors on;\n"
                 "otel_keep_slower_than 50ms;\n");
    assert_int_equal(app_get(f, "/ok", NULL), 200);
    assert_int_equal(app_get(f, "/fail", NULL), 500);
    assert_int_equal(app_get(f, "/status-error", NULL), 200);
    assert_int_equal(app_get(f, "/abort", NULL), 0);
    assert_int_equal(app_get(f, "/slow", NULL), 200);
    assert_int_equal(app_get(f, "/slow-fail", NULL), 503);
    assert_int_equal(app_get(f, "/thread", NULL), 500);
    assert_int_equal(
        app_get(f, "/sampled", "traceparent: 00-" SAMPLED_TRACE_ID "-" REMOTE_SPAN_ID "-01"), 200);
    assert_int_equal(
        app_get(f, "/fail-remote", "traceparent: 00-" UNSAMPLED_TRACE_ID "-" REMOTE_SPAN_ID "-00"),
        500);
    otel_stats st = app_stop(f);

    pthread_mutex_lock(&a->mu);
    static const char *const errors[] = {"/fail",   "/status-error", "/abort",
                                         "/thread", "/slow-fail",    "/fail-remote"};
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        const seen *s = server_of(a, errors[i]);
        assert_string_equal(s->kept, "error");
        assert_int_equal(s->status, OTEL_STATUS_ERROR);
    }
    const seen *slow = server_of(a, "/slow");
    assert_string_equal(slow->kept, "slow");
    assert_true(slow->end_ns - slow->start_ns > APP_SLOW_NS);
    assert_true(server_of(a, "/slow-fail")->end_ns - server_of(a, "/slow-fail")->start_ns >
                APP_SLOW_NS); /* slow too, kept as an error */
    assert_int_equal(spans_with_parent(a, server_of(a, "/thread")), 2); /* work, on-thread */
    const seen *remote = server_of(a, "/fail-remote");
    assert_string_equal(remote->trace, UNSAMPLED_TRACE_ID);
    assert_string_equal(remote->parent, REMOTE_SPAN_ID);
    const seen *sampled = server_of(a, "/sampled");
    assert_string_equal(sampled->kept, "");
    assert_string_equal(sampled->trace, SAMPLED_TRACE_ID);
    assert_int_equal(spans_with_parent(a, sampled), 1);
    size_t fast_kept = 0;
    for (size_t i = 0; i < a->n; i++) {
        const seen *s = &a->v[i];
        /* sampled: the incoming trace; every kept span: unsampled */
        assert_int_equal(s->flags, strcmp(s->trace, SAMPLED_TRACE_ID) == 0 ? 1 : 0);
        if (s->kind == OTEL_SPAN_KIND_SERVER && strcmp(s->path, "/ok") == 0) {
            assert_string_equal(s->kept, "slow"); /* a loaded machine: slow after all */
            assert_true(s->end_ns - s->start_ns > APP_SLOW_NS);
            fast_kept++;
        }
    }
    /* Each tree is its server span and its work child, /thread's one more:
     * 6 errors, /slow, the sampled request (and /ok when it was slow). */
    assert_int_equal(a->n, 7 * 2 + 3 + 2 * fast_kept);
    pthread_mutex_unlock(&a->mu);

    assert_int_equal(st.kept_error, 6);
    assert_int_equal(st.kept_slow, 1 + fast_kept);
    assert_int_equal(st.keep_released, 1 - fast_kept);
    assert_int_equal(st.keep_overflow + st.keep_late, 0);
    /* two exporters (console and the test's): each span counts twice */
    assert_int_equal(st.ended, 2 * a->n);
    itest_balance_ok(st.ended, st.exported, st.dropped, st.failed, st.rejected, st.queued);
}

/* A kept request that called a downstream service: the CLIENT span is
 * exported with the tree, and the traceparent the service got says what the
 * sampler decided, not sampled; the service records none of its part. */
static void test_app_kept_trace_downstream_unsampled(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    fake_http_request req;
    char want[128];

    app_start(f, "otel_sampler traceidratio 0;\n"
                 "otel_keep_errors on;\n");
    assert_int_equal(app_get(f, "/call", NULL), 502);
    (void)app_stop(f);
    assert_true(fake_http_wait(f->down, 1, 5000));
    assert_true(fake_http_get(f->down, 0, &req));

    pthread_mutex_lock(&a->mu);
    const seen *server = server_of(a, "/call");
    assert_string_equal(server->kept, "error");
    const seen *client = NULL;
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].kind == OTEL_SPAN_KIND_CLIENT)
            client = &a->v[i];
    assert_non_null(client);
    assert_string_equal(client->trace, server->trace);
    assert_string_equal(client->parent, server->id);
    assert_int_equal(client->flags, 0);
    snprintf(want, sizeof(want), "traceparent: 00-%s-%s-00\n", client->trace, client->id);
    pthread_mutex_unlock(&a->mu);
    if (strstr(req.headers, want) == NULL)
        fail_msg("downstream headers lack \"%s\":\n%s", want, req.headers);
}

/* The text of s's attributes without the lines of the keys given (a
 * NULL-terminated list) into dst. */
static void attrs_without(char *dst, size_t cap, const seen *s, const char *const *keys)
{
    size_t o = 0;

    dst[0] = '\0';
    for (const char *line = s->attrs; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        bool skip = false;
        for (size_t k = 0; keys[k] != NULL && !skip; k++)
            skip = strncmp(line, keys[k], strlen(keys[k])) == 0 && line[strlen(keys[k])] == '=';
        if (!skip && o + len < cap) {
            memcpy(dst + o, line, len);
            o += len;
            dst[o] = '\0';
        }
        line += len;
    }
}

/* A kept record-only server span is named and described as a sampled one
 * of the same request is: its name, and every HTTP attribute (method,
 * path, scheme, route, server and client address, protocol version, user
 * agent, status, error.type), only the ids and the keep mark differ. What
 * the server sets itself on the span stays, whichever way it was recorded.
 * The HTTP semantic conventions (docs/http/http-spans.md, "HTTP server"):
 * the same attributes for every server span. */
static void test_app_kept_span_described_as_sampled(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    static const char *const differ[] = {"url.path", "client.port", "mhd_otel.kept", NULL};
    static const char *const sampled_hdr =
        "traceparent: 00-" SAMPLED_TRACE_ID "-" REMOTE_SPAN_ID "-01";
    char want[1024], got[1024];

    app_start(f, "otel_sampler parentbased_traceidratio 0;\n"
                 "otel_route /fail/{n};\n"
                 "otel_route /own-route/{id};\n"
                 "otel_keep_errors on;\n");
    assert_int_equal(app_get(f, "/fail/1?q=1", sampled_hdr), 500);
    assert_int_equal(app_get(f, "/fail/2?q=1", NULL), 500);
    assert_int_equal(app_get(f, "/own-route/1", sampled_hdr), 500);
    assert_int_equal(app_get(f, "/own-route/2", NULL), 500);
    /* MHD's path "/fail//3" matches no route, though the raw one would */
    assert_int_equal(app_get(f, "/fail/%2F3", sampled_hdr), 500);
    assert_int_equal(app_get(f, "/fail/%2F4", NULL), 500);
    (void)app_stop(f);

    pthread_mutex_lock(&a->mu);
    static const char *const pairs[][2] = {
        {"/fail/1", "/fail/2"}, {"/own-route/1", "/own-route/2"}, {"/fail/%2F3", "/fail/%2F4"}};
    for (size_t i = 0; i < 3; i++) {
        const seen *sampled = server_of(a, pairs[i][0]);
        const seen *kept = server_of(a, pairs[i][1]);
        assert_int_equal(sampled->flags, 1);
        assert_string_equal(sampled->kept, "");
        assert_int_equal(kept->flags, 0);
        assert_string_equal(kept->kept, "error");
        assert_string_equal(kept->name, sampled->name);
        attrs_without(want, sizeof(want), sampled, differ);
        attrs_without(got, sizeof(got), kept, differ);
        assert_string_equal(got, want);
        assert_non_null(strstr(want, "http.request.method=GET\n"));
        if (i == 0)
            assert_non_null(strstr(want, "url.query=q=1\n"));
        assert_non_null(strstr(want, "user_agent.original=curl/"));
        assert_non_null(strstr(want, "server.address=127.0.0.1\n"));
        assert_non_null(strstr(want, "network.protocol.version=1.1\n"));
        assert_non_null(strstr(want, "http.response.status_code=500\n"));
    }
    assert_string_equal(server_of(a, "/fail/2")->name, "GET /fail/{n}");
    assert_string_equal(server_of(a, "/fail/%2F4")->name, "GET");
    assert_null(strstr(server_of(a, "/fail/%2F4")->attrs, "http.route="));
    /* the server's own route, once, in both */
    const char *own = strstr(server_of(a, "/own-route/2")->attrs, "http.route=");
    assert_non_null(own);
    assert_true(strncmp(own, "http.route=/own-route/{n}\n", 26) == 0);
    assert_null(strstr(own + 1, "http.route="));
    pthread_mutex_unlock(&a->mu);
}

static int group_setup(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demo_keeps_errors_and_slow_requests, demo_setup,
                                        demo_teardown),
        cmocka_unit_test_setup_teardown(test_demo_keep_off_by_default, demo_setup, demo_teardown),
        cmocka_unit_test_setup_teardown(test_app_keep_reasons_and_flags, app_setup, app_teardown),
        cmocka_unit_test_setup_teardown(test_app_kept_trace_downstream_unsampled, app_setup,
                                        app_teardown),
        cmocka_unit_test_setup_teardown(test_app_kept_span_described_as_sampled, app_setup,
                                        app_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
