/* test_http_metrics.c - unit tests for module/http_metrics.c: the module's HTTP instruments
 * recorded through the per-thread cache of bound points, the tracer's self-telemetry brought
 * in at sync, and the process's metrics for the libcurl helper. Every check collects the
 * provider (otel_metrics_collect) and reads the points it hands over.
 *
 * The rules checked, and where they are written:
 * - HTTP semantic conventions, "Metric: http.server.request.duration": a Histogram in s with
 *   http.request.method and url.scheme (Required), http.response.status_code ("Conditionally
 *   Required: If and only if one was received/sent"), http.route ("If and only if it's
 *   available"), network.protocol.version (Recommended), error.type ("If request has ended with
 *   an error"); advised buckets [0.005, 0.01, ... 7.5, 10].
 * - The same, "Metric: http.server.active_requests": an UpDownCounter in {request} with
 *   http.request.method and url.scheme only (server.address and server.port are Opt-In).
 * - The same, error.type: "If response status code was sent or received and status indicates
 *   an error according to HTTP span status definition, error.type SHOULD be set to the status
 *   code number (represented as a string)"; HTTP spans, "Status": a server's 5xx is an error,
 *   its 4xx is not; a client's 4xx and 5xx are.
 * - The same, "Metric: http.client.request.duration": http.request.method, server.address,
 *   server.port (Required), http.response.status_code, error.type.
 * - Semantic conventions for OpenTelemetry SDK metrics: otel.sdk.processor.span.queue.size and
 *   .queue.capacity (UpDownCounters), otel.sdk.processor.span.processed ("SDK Batching Span
 *   Processors MUST use queue_full as the value of error.type for spans dropped due to a full
 *   queue"), otel.sdk.exporter.span.exported and otel.sdk.exporter.metric_data_point.exported
 *   ("rejected ... MUST count as failed and only non-rejected ... count as success. If no
 *   rejection reason is available, rejected SHOULD be used as value for error.type"),
 *   otel.sdk.exporter.operation.duration; otel.component.type and otel.component.name in the
 *   "<otel.component.type>/<instance-counter>" pattern.
 * - metrics/sdk.md "ExemplarFilter" TraceBased: only measurements in a sampled span get an
 *   exemplar. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>
#include "../../module/http_metrics.h"
#include "../../core/test_hooks.h"
#include "../lib/metrics_fixture.h"
#include "../lib/metrics_seen.h"

#define SEC UINT64_C(1000000000)
#define DURATION "http.server.request.duration"
#define ACTIVE "http.server.active_requests"
#define CLIENT "http.client.request.duration"
#define Q_SIZE "otel.sdk.processor.span.queue.size"
#define Q_CAP "otel.sdk.processor.span.queue.capacity"
#define PROCESSED "otel.sdk.processor.span.processed"
#define SPAN_EXPORTED "otel.sdk.exporter.span.exported"
#define POINT_EXPORTED "otel.sdk.exporter.metric_data_point.exported"
#define OP_DURATION "otel.sdk.exporter.operation.duration"
#define INFLIGHT "otel.sdk.exporter.span.inflight"
#define N_BUCKETS 15 /* the 14 advised boundaries and +inf */

static const char *const grpc_only[] = {"otlp_grpc_span_exporter", NULL};

/* ---- helpers ------------------------------------------------------------ */

static int setup(void **state)
{
    mhd_otel_metrics *mm = NULL;
    otel_alloc_fail_after(-1);
    assert_int_equal(mhd_otel_metrics_new(&mm, 0, NULL, NULL, 0), OTEL_OK);
    *state = mm;
    return 0;
}

static int teardown(void **state)
{
    otel_alloc_fail_after(-1);
    mhd_otel_metrics_del(*state);
    return 0;
}

static ms_seen *collect(mhd_otel_metrics *mm)
{
    return ms_collect(mhd_otel_metrics_provider(mm), OTEL_TEMPORALITY_PREF_CUMULATIVE);
}

/* A request that begins and ends after seconds. */
static void serve(mhd_otel_metrics *mm, mhd_otel_server_req q, double seconds)
{
    mhd_otel_metrics_server_begin(mm, &q);
    mhd_otel_metrics_server_end(mm, &q, seconds, NULL);
}

/* The bucket of the advised boundaries v falls in (upper bounds inclusive). */
static size_t bucket_of(double v)
{
    size_t n = 0;
    const double *b = otel_http_duration_boundaries(&n);
    size_t i = 0;
    while (i < n && v > b[i])
        i++;
    return i;
}

/* A point that counts one measurement in bucket b, and none elsewhere. */
static void assert_one_in_bucket(const ms_point *p, size_t b)
{
    assert_int_equal(p->count, 1);
    assert_int_equal(p->n_buckets, N_BUCKETS);
    for (size_t i = 0; i < N_BUCKETS; i++)
        assert_int_equal(p->buckets[i], i == b ? 1 : 0);
}

/* ---- server_begin / server_end ---------------------------------------------- */

/* "Metric: http.server.active_requests": method and scheme only, whatever else the request
 * carries when it begins; +1 at begin, -1 at end. */
static void test_mhd_otel_metrics_server_begin_active_by_method_and_scheme(void **state)
{
    mhd_otel_metrics *mm = *state;
    mhd_otel_server_req a = {.method = "GET", .route = "/r", .version = "1.1", .status = 200};
    mhd_otel_server_req b = {.method = "GET", .route = "/other", .error = "timeout", .status = 500};
    mhd_otel_server_req c = {.method = "GET", .https = true};
    mhd_otel_server_req d = {.method = "POST", .version = "2"};
    mhd_otel_metrics_server_begin(mm, &a);
    mhd_otel_metrics_server_begin(mm, &b);
    mhd_otel_metrics_server_begin(mm, &c);
    mhd_otel_metrics_server_begin(mm, &d);
    assert_true(a.active && b.active && c.active && d.active);

    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, ACTIVE), 3);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=GET,url.scheme=http")->value, 2);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=GET,url.scheme=https")->value, 1);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=POST,url.scheme=http")->value, 1);
    const ms_metric *mt = ms_metric_of(s, ACTIVE);
    assert_int_equal(mt->kind, OTEL_INSTRUMENT_UPDOWN_COUNTER);
    assert_false(mt->monotonic);
    assert_int_equal(ms_points(s, DURATION), 0); /* nothing ended yet */
    ms_free(s);

    mhd_otel_metrics_server_end(mm, &a, 0.001, NULL);
    mhd_otel_metrics_server_end(mm, &d, 0.001, NULL);
    assert_false(a.active);
    assert_false(d.active);
    s = collect(mm);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=GET,url.scheme=http")->value, 1);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=GET,url.scheme=https")->value, 1);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=POST,url.scheme=http")->value, 0);
    ms_free(s);
}

/* "Metric: http.server.request.duration": exactly the attributes the request has - status
 * code when one was sent, route when one matched, protocol version when known. */
static void test_mhd_otel_metrics_server_end_attributes(void **state)
{
    mhd_otel_metrics *mm = *state;
    serve(mm,
          (mhd_otel_server_req){
              .method = "GET", .route = "/hello/{name}", .version = "1.1", .status = 200},
          0.003);
    serve(mm, (mhd_otel_server_req){.method = "HEAD", .status = 304, .https = true}, 0.003);
    serve(mm, (mhd_otel_server_req){.method = "_OTHER", .version = "2", .status = 201}, 0.003);
    serve(mm, (mhd_otel_server_req){.method = "DELETE", .route = "/x", .status = 404}, 0.003);

    ms_seen *s = collect(mm);
    const ms_metric *mt = ms_metric_of(s, DURATION);
    assert_non_null(mt);
    assert_int_equal(mt->kind, OTEL_INSTRUMENT_HISTOGRAM);
    assert_int_equal(mt->n, 4);
    assert_one_in_bucket(ms_get(s, DURATION,
                                "http.request.method=GET,http.response.status_code=200,"
                                "http.route=/hello/{name},network.protocol.version=1.1,"
                                "url.scheme=http"),
                         0);
    assert_one_in_bucket(
        ms_get(s, DURATION,
               "http.request.method=HEAD,http.response.status_code=304,url.scheme=https"),
        0);
    assert_one_in_bucket(ms_get(s, DURATION,
                                "http.request.method=_OTHER,http.response.status_code=201,"
                                "network.protocol.version=2,url.scheme=http"),
                         0);
    /* A server's 4xx is no error: no error.type. */
    assert_one_in_bucket(ms_get(s, DURATION,
                                "http.request.method=DELETE,http.response.status_code=404,"
                                "http.route=/x,url.scheme=http"),
                         0);
    ms_free(s);
}

/* error.type: the request's own error, else a 5xx's status code as a string; no status code
 * attribute when no response was sent. */
static void test_mhd_otel_metrics_server_end_error_type(void **state)
{
    mhd_otel_metrics *mm = *state;
    serve(mm, (mhd_otel_server_req){.method = "POST", .status = 503, .version = "2"}, 0.02);
    serve(mm, (mhd_otel_server_req){.method = "GET", .status = 500, .error = "timeout"}, 0.02);
    serve(mm, (mhd_otel_server_req){.method = "PUT", .error = "_OTHER", .https = true}, 0.02);
    serve(mm, (mhd_otel_server_req){.method = "GET", .status = 599}, 0.02);
    serve(mm, (mhd_otel_server_req){.method = "GET", .status = 499}, 0.02);

    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, DURATION), 5);
    assert_non_null(ms_get(s, DURATION,
                           "error.type=503,http.request.method=POST,http.response.status_code=503,"
                           "network.protocol.version=2,url.scheme=http"));
    assert_non_null(ms_get(s, DURATION,
                           "error.type=timeout,http.request.method=GET,"
                           "http.response.status_code=500,url.scheme=http"));
    assert_non_null(
        ms_get(s, DURATION, "error.type=_OTHER,http.request.method=PUT,url.scheme=https"));
    assert_non_null(ms_get(
        s, DURATION,
        "error.type=599,http.request.method=GET,http.response.status_code=599,url.scheme=http"));
    assert_non_null(ms_get(
        s, DURATION, "http.request.method=GET,http.response.status_code=499,url.scheme=http"));
    ms_free(s);
}

/* Durations fall in the advised buckets, upper bounds inclusive; count, sum, min and max are
 * the measurements'; a negative duration counts as 0. */
static void test_mhd_otel_metrics_server_end_buckets(void **state)
{
    mhd_otel_metrics *mm = *state;
    static const double values[] = {0.005, 0.0051, 0.25, 10, 11, -1};
    mhd_otel_server_req q = {.method = "GET", .status = 200};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
        serve(mm, q, values[i]);
    ms_seen *s = collect(mm);
    const ms_point *p = ms_get(
        s, DURATION, "http.request.method=GET,http.response.status_code=200,url.scheme=http");
    assert_int_equal(p->count, 6);
    assert_int_equal(p->n_buckets, N_BUCKETS);
    const uint64_t want[N_BUCKETS] = {2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1};
    assert_memory_equal(p->buckets, want, sizeof(want));
    assert_true(p->sum == 0.005 + 0.0051 + 0.25 + 10 + 11);
    assert_true(p->min == 0);
    assert_true(p->max == 11);
    ms_free(s);
}

/* A request that never began (no method) records nothing; an end without a begin, or a second
 * end, leaves the active count alone; a NULL provider does nothing. */
static void test_mhd_otel_metrics_server_not_begun(void **state)
{
    mhd_otel_metrics *mm = *state;
    mhd_otel_server_req none = {.status = 200};
    mhd_otel_metrics_server_begin(mm, &none);
    assert_false(none.active);
    mhd_otel_metrics_server_end(mm, &none, 0.1, NULL);

    mhd_otel_server_req q = {.method = "PATCH", .status = 200};
    mhd_otel_metrics_server_begin(NULL, &q);
    assert_false(q.active);
    mhd_otel_metrics_server_end(NULL, &q, 0.1, NULL);
    mhd_otel_metrics_client(NULL, "GET", "http://x/", 200, NULL, 0.1, NULL);
    mhd_otel_metrics_sync(NULL);
    mhd_otel_metrics_exported(NULL, "console_metric_exporter", 1, 0, NULL, 0.1);
    assert_null(mhd_otel_metrics_provider(NULL));
    mhd_otel_metrics_del(NULL);

    ms_seen *s = collect(mm);
    assert_int_equal(s->n, 0);
    ms_free(s);

    mhd_otel_server_req unbegun = {.method = "OPTIONS", .status = 204};
    mhd_otel_metrics_server_end(mm, &unbegun, 0.1, NULL);
    mhd_otel_metrics_server_begin(mm, &q);
    mhd_otel_metrics_server_end(mm, &q, 0.1, NULL);
    mhd_otel_metrics_server_end(mm, &q, 0.1, NULL); /* twice */
    s = collect(mm);
    assert_int_equal(ms_points(s, ACTIVE), 1); /* OPTIONS never began */
    const ms_point *a = ms_get(s, ACTIVE, "http.request.method=PATCH,url.scheme=http");
    assert_int_equal(a->value, 0);
    assert_int_equal(a->count, 2); /* one +1, one -1 */
    assert_int_equal(
        ms_get(s, DURATION,
               "http.request.method=PATCH,http.response.status_code=200,url.scheme=http")
            ->count,
        2);
    assert_non_null(ms_get(
        s, DURATION, "http.request.method=OPTIONS,http.response.status_code=204,url.scheme=http"));
    ms_free(s);
}

/* ---- the per-thread cache ------------------------------------------------------ */

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const versions[] = {NULL, "1.0", "1.1", "2"};
static const char *const errors[] = {NULL, "timeout"};
static const unsigned statuses[] = {200, 404, 500};
static const char *const routes[] = {NULL, "/a", "/b/{id}"};
#define N_METHODS 4
#define N_SHAPES (N_METHODS * 4 * 2 * 3 * 2 * 3) /* 576: many more than the cache's 64 slots */

static mhd_otel_server_req shape(size_t k)
{
    mhd_otel_server_req q = {.method = methods[k % N_METHODS]};
    k /= N_METHODS;
    q.version = versions[k % 4];
    k /= 4;
    q.error = errors[k % 2];
    k /= 2;
    q.status = statuses[k % 3];
    k /= 3;
    q.https = k % 2 == 1;
    k /= 2;
    q.route = routes[k % 3];
    return q;
}

/* The attributes the duration point of q must have, in key order, written independently of
 * the module. */
static void shape_attrs(const mhd_otel_server_req *q, char *out, size_t cap)
{
    char err[32] = "", route[64] = "", version[64] = "";
    if (q->error != NULL)
        snprintf(err, sizeof(err), "error.type=%s,", q->error);
    else if (q->status >= 500)
        snprintf(err, sizeof(err), "error.type=%u,", q->status);
    if (q->route != NULL)
        snprintf(route, sizeof(route), "http.route=%s,", q->route);
    if (q->version != NULL)
        snprintf(version, sizeof(version), "network.protocol.version=%s,", q->version);
    snprintf(out, cap, "%shttp.request.method=%s,http.response.status_code=%u,%s%surl.scheme=%s",
             err, q->method, q->status, route, version, q->https ? "https" : "http");
}

/* More shapes than slots, recorded round-robin so that slots collide and are taken over again
 * and again: every shape's point has exactly its own measurements, in its own bucket; shapes
 * that differ in a single field are different points. */
static void test_mhd_otel_metrics_cache_many_shapes(void **state)
{
    mhd_otel_metrics *mm = *state;
    static int64_t active[N_METHODS][2];
    memset(active, 0, sizeof(active));
    for (size_t pass = 0; pass < 3; pass++)
        for (size_t k = 0; k < N_SHAPES; k++) {
            if (k % 3 < pass)
                continue; /* shape k is served k % 3 + 1 times */
            mhd_otel_server_req q = shape(k);
            serve(mm, q, 0.001 * (double)(k % 13));
            if (pass == 0 && k % 4 == 0) { /* and one more that does not end */
                mhd_otel_metrics_server_begin(mm, &q);
                active[k % N_METHODS][q.https]++;
            }
        }

    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, DURATION), N_SHAPES);
    for (size_t k = 0; k < N_SHAPES; k++) {
        mhd_otel_server_req q = shape(k);
        char want[256];
        shape_attrs(&q, want, sizeof(want));
        const ms_point *p = ms_get(s, DURATION, want);
        assert_int_equal(p->count, k % 3 + 1);
        assert_int_equal(p->buckets[bucket_of(0.001 * (double)(k % 13))], k % 3 + 1);
    }
    assert_int_equal(ms_points(s, ACTIVE), N_METHODS * 2);
    for (size_t m = 0; m < N_METHODS; m++)
        for (int https = 0; https < 2; https++) {
            char want[128];
            snprintf(want, sizeof(want), "http.request.method=%s,url.scheme=%s", methods[m],
                     https ? "https" : "http");
            assert_int_equal(ms_get(s, ACTIVE, want)->value, active[m][https]);
        }
    ms_free(s);
}

#define N_BARE 200

/* Requests without a response and nothing but a method and a scheme have the very fields of
 * their active count's slot: the two are still different slots and different points. Many
 * methods (by address, as the cache compares them), so that such pairs collide. */
static void test_mhd_otel_metrics_cache_active_apart(void **state)
{
    mhd_otel_metrics *mm = *state;
    static char names[N_BARE][8];
    for (size_t k = 0; k < N_BARE; k++)
        snprintf(names[k], sizeof(names[k]), "M%zu", k);
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < 2 * N_BARE; k++)
            serve(mm, (mhd_otel_server_req){.method = names[k / 2], .https = k % 2 == 1}, 0.3);
    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, DURATION), 2 * N_BARE);
    assert_int_equal(ms_points(s, ACTIVE), 2 * N_BARE);
    for (size_t k = 0; k < 2 * N_BARE; k++) {
        char want[64];
        snprintf(want, sizeof(want), "http.request.method=%s,url.scheme=%s", names[k / 2],
                 k % 2 == 1 ? "https" : "http");
        const ms_point *p = ms_get(s, DURATION, want);
        assert_int_equal(p->count, 2);
        assert_int_equal(p->buckets[bucket_of(0.3)], 2);
        p = ms_get(s, ACTIVE, want);
        assert_int_equal(p->count, 4);
        assert_int_equal(p->value, 0);
    }
    ms_free(s);
}

/* Two providers used in turn from one thread never share a point: the cache knows which
 * provider a slot's point is of. */
static void test_mhd_otel_metrics_cache_two_providers(void **state)
{
    mhd_otel_metrics *a = *state, *b = NULL;
    assert_int_equal(mhd_otel_metrics_new(&b, 0, NULL, NULL, 0), OTEL_OK);
    mhd_otel_server_req q = {.method = "GET", .route = "/same", .status = 200};
    for (int i = 0; i < 50; i++) {
        serve(a, q, 0.001);
        serve(b, q, 3);
        serve(b, q, 3);
        mhd_otel_metrics_server_begin(b, &q); /* b's active count only */
        q.active = false;
    }
    static const char attrs[] =
        "http.request.method=GET,http.response.status_code=200,http.route=/same,url.scheme=http";
    ms_seen *s = collect(a);
    const ms_point *p = ms_get(s, DURATION, attrs);
    assert_int_equal(p->count, 50);
    assert_int_equal(p->buckets[0], 50);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=GET,url.scheme=http")->value, 0);
    ms_free(s);
    s = collect(b);
    p = ms_get(s, DURATION, attrs);
    assert_int_equal(p->count, 100);
    assert_int_equal(p->buckets[bucket_of(3)], 100);
    assert_int_equal(ms_get(s, ACTIVE, "http.request.method=GET,url.scheme=http")->value, 50);
    ms_free(s);
    mhd_otel_metrics_del(b);
}

/* A provider freed and another made (maybe at the same address): the slots of the old one are
 * never taken for the new one's (ASan sees a use after free otherwise). */
static void test_mhd_otel_metrics_cache_provider_reborn(void **state)
{
    (void)state;
    mhd_otel_server_req q = {.method = "PUT", .status = 201, .version = "1.1"};
    for (int round = 0; round < 4; round++) {
        mhd_otel_metrics *mm = NULL;
        assert_int_equal(mhd_otel_metrics_new(&mm, 0, NULL, NULL, 0), OTEL_OK);
        serve(mm, q, 0.5);
        ms_seen *s = collect(mm);
        assert_int_equal(ms_get(s, DURATION,
                                "http.request.method=PUT,http.response.status_code=201,"
                                "network.protocol.version=1.1,url.scheme=http")
                             ->count,
                         1);
        assert_int_equal(ms_get(s, ACTIVE, "http.request.method=PUT,url.scheme=http")->count, 2);
        ms_free(s);
        mhd_otel_metrics_del(mm);
    }
}

#define N_THREADS 4
#define PER_THREAD 5000
#define THREAD_SHAPES 10

typedef struct thread_arg {
    mhd_otel_metrics *mm;
    pthread_barrier_t *go;
    size_t t;
} thread_arg;

static void *record_main(void *p)
{
    thread_arg *a = p;
    pthread_barrier_wait(a->go);
    for (size_t i = 0; i < PER_THREAD; i++)
        serve(a->mm, shape((i + a->t) % THREAD_SHAPES), 0.002);
    return NULL;
}

/* Records from several threads, each with a cache of its own, add up exactly. */
static void test_mhd_otel_metrics_server_threads_exact(void **state)
{
    mhd_otel_metrics *mm = *state;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N_THREADS);
    pthread_t th[N_THREADS];
    thread_arg args[N_THREADS];
    for (size_t t = 0; t < N_THREADS; t++) {
        args[t] = (thread_arg){mm, &go, t};
        assert_int_equal(pthread_create(&th[t], NULL, record_main, &args[t]), 0);
    }
    for (size_t t = 0; t < N_THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&go);

    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, DURATION), THREAD_SHAPES);
    uint64_t total = 0;
    for (size_t k = 0; k < THREAD_SHAPES; k++) {
        mhd_otel_server_req q = shape(k);
        char want[256];
        shape_attrs(&q, want, sizeof(want));
        const ms_point *p = ms_get(s, DURATION, want);
        assert_int_equal(p->count, N_THREADS * PER_THREAD / THREAD_SHAPES);
        total += p->count;
    }
    assert_int_equal(total, N_THREADS * PER_THREAD);
    const ms_metric *mt = ms_metric_of(s, ACTIVE);
    uint64_t changes = 0;
    for (size_t i = 0; i < mt->n; i++) {
        assert_int_equal(mt->pts[i].value, 0);
        changes += mt->pts[i].count;
    }
    assert_int_equal(changes, 2 * N_THREADS * PER_THREAD);
    ms_free(s);
}

/* ---- exemplars -------------------------------------------------------------- */

/* TraceBased: the sampled server span's ids become the exemplar of the duration's bucket; an
 * unsampled span or none gives none. */
static void test_mhd_otel_metrics_server_end_exemplar(void **state)
{
    mhd_otel_metrics *mm = *state;
    otel_span_context sampled = mf_span_ctx(1, true), later = mf_span_ctx(2, true);
    otel_span_context unsampled = mf_span_ctx(3, false);
    mhd_otel_server_req a = {.method = "GET", .route = "/a", .status = 200};
    mhd_otel_server_req b = {.method = "GET", .route = "/b", .status = 200};
    mhd_otel_metrics_server_begin(mm, &a);
    mhd_otel_metrics_server_end(mm, &a, 0.3, &sampled);
    mhd_otel_metrics_server_begin(mm, &a);
    mhd_otel_metrics_server_end(mm, &a, 4, &later);
    mhd_otel_metrics_server_begin(mm, &a);
    mhd_otel_metrics_server_end(mm, &a, 0.004, NULL);
    mhd_otel_metrics_server_begin(mm, &b);
    mhd_otel_metrics_server_end(mm, &b, 0.3, &unsampled);

    ms_seen *s = collect(mm);
    const ms_point *p = ms_get(
        s, DURATION,
        "http.request.method=GET,http.response.status_code=200,http.route=/a,url.scheme=http");
    assert_int_equal(p->count, 3);
    assert_int_equal(p->n_ex, 2); /* by bucket: 0.3's, then 4's */
    assert_true(p->ex[0].value == 0.3);
    assert_memory_equal(p->ex[0].trace_id, sampled.trace_id, 16);
    assert_memory_equal(p->ex[0].span_id, sampled.span_id, 8);
    assert_true(p->ex[1].value == 4);
    assert_memory_equal(p->ex[1].trace_id, later.trace_id, 16);
    assert_memory_equal(p->ex[1].span_id, later.span_id, 8);
    p = ms_get(
        s, DURATION,
        "http.request.method=GET,http.response.status_code=200,http.route=/b,url.scheme=http");
    assert_int_equal(p->count, 1);
    assert_int_equal(p->n_ex, 0);
    ms_free(s);
}

/* ---- client ----------------------------------------------------------------- */

/* "Metric: http.client.request.duration": server.address and server.port from the URL (the
 * explicit port, else the scheme's default; an IPv6 literal without its brackets), the status
 * code when a response came, error.type the given one, else the status code of a 4xx or 5xx. */
static void test_mhd_otel_metrics_client_attributes(void **state)
{
    mhd_otel_metrics *mm = *state;
    otel_span_context sc = mf_span_ctx(4, true);
    mhd_otel_metrics_client(mm, "GET", "http://api.example.com:8080/x?y=1", 200, NULL, 0.002, &sc);
    mhd_otel_metrics_client(mm, "POST", "https://example.org/path", 201, NULL, 0.002, NULL);
    mhd_otel_metrics_client(mm, "GET", "http://example.org", 0, "timeout", 0.002, NULL);
    mhd_otel_metrics_client(mm, "PUT", "http://[::1]:9000/a", 404, NULL, 0.002, NULL);
    mhd_otel_metrics_client(mm, "DELETE", "https://[2001:db8::1]/", 503, "custom", 0.002, NULL);
    mhd_otel_metrics_client(mm, "GET", "https://example.org:443/", 500, NULL, 0.002, NULL);
    mhd_otel_metrics_client(mm, NULL, "http://example.org/", 302, NULL, 0.002, NULL);
    mhd_otel_metrics_client(mm, "GET", NULL, 0, "connect_error", -1, NULL);

    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, CLIENT), 8);
    const ms_point *p = ms_get(s, CLIENT,
                               "http.request.method=GET,http.response.status_code=200,"
                               "server.address=api.example.com,server.port=8080");
    assert_one_in_bucket(p, 0);
    assert_int_equal(p->n_ex, 1);
    assert_memory_equal(p->ex[0].span_id, sc.span_id, 8);
    assert_int_equal(ms_get(s, CLIENT,
                            "http.request.method=POST,http.response.status_code=201,"
                            "server.address=example.org,server.port=443")
                         ->n_ex,
                     0);
    assert_non_null(ms_get(
        s, CLIENT,
        "error.type=timeout,http.request.method=GET,server.address=example.org,server.port=80"));
    assert_non_null(ms_get(s, CLIENT,
                           "error.type=404,http.request.method=PUT,http.response.status_code=404,"
                           "server.address=::1,server.port=9000"));
    assert_non_null(
        ms_get(s, CLIENT,
               "error.type=custom,http.request.method=DELETE,"
               "http.response.status_code=503,server.address=2001:db8::1,server.port=443"));
    assert_non_null(ms_get(s, CLIENT,
                           "error.type=500,http.request.method=GET,http.response.status_code=500,"
                           "server.address=example.org,server.port=443"));
    assert_non_null(ms_get(s, CLIENT,
                           "http.request.method=_OTHER,http.response.status_code=302,"
                           "server.address=example.org,server.port=80"));
    p = ms_get(s, CLIENT, "error.type=connect_error,http.request.method=GET");
    assert_true(p->sum == 0); /* a negative duration counts as 0 */
    const ms_metric *mt = ms_metric_of(s, CLIENT);
    assert_int_equal(mt->kind, OTEL_INSTRUMENT_HISTOGRAM);
    assert_int_equal(ms_points(s, DURATION), 0);
    ms_free(s);
}

/* ---- self-telemetry --------------------------------------------------------- */

typedef enum sink_mode { SINK_OK, SINK_FAIL, SINK_REJECT, SINK_TIMEOUT, SINK_HOLD } sink_mode;

static const sink_mode mode_ok = SINK_OK, mode_fail = SINK_FAIL, mode_reject = SINK_REJECT,
                       mode_timeout = SINK_TIMEOUT, mode_hold = SINK_HOLD;

/* SINK_HOLD's export: it says it is in (held), then waits until let go. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool held, let_go;
} span_hold = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};

/* A test exporter: delivers, fails, has half of each batch rejected, runs out of time, or
 * holds the batch until let go and then delivers it. */
static int sink_export(void *user_data, const otel_span_data *const *spans, size_t n,
                       uint64_t deadline)
{
    (void)spans;
    (void)deadline;
    switch (*(const sink_mode *)user_data) {
    case SINK_FAIL:
        return OTEL_ERR_IO;
    case SINK_REJECT:
        return n > 1 ? (int)(n / 2) : 1;
    case SINK_TIMEOUT:
        return OTEL_ERR_TIMEOUT;
    case SINK_HOLD:
        pthread_mutex_lock(&span_hold.mu);
        span_hold.held = true;
        pthread_cond_broadcast(&span_hold.cv);
        while (!span_hold.let_go)
            pthread_cond_wait(&span_hold.cv, &span_hold.mu);
        pthread_mutex_unlock(&span_hold.mu);
        return OTEL_OK;
    default:
        return OTEL_OK;
    }
}

/* A tracer sampling everything with a queue of queue spans per exporter and a schedule delay
 * long enough that only flushes export, delivering to one test exporter per mode (n), not
 * started. Caller frees with otel_tracer_del. */
static otel_tracer *make_tracer(size_t queue, const sink_mode *const *modes, size_t n)
{
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    assert_int_equal(otel_sampler_init(&cfg.sampler, OTEL_SAMPLER_ALWAYS_ON, 1.0), OTEL_OK);
    cfg.max_queue_size = queue;
    cfg.max_export_batch_size = queue;
    cfg.schedule_delay_ns = 3600 * SEC;
    cfg.export_timeout_ns = 10 * SEC;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "test-http-metrics"), OTEL_OK);
    otel_tracer *t = NULL;
    assert_int_equal(otel_tracer_new(&t, &cfg, r), OTEL_OK);
    for (size_t i = 0; i < n; i++) {
        otel_exporter *e = NULL;
        char name[32];
        snprintf(name, sizeof(name), "sink%zu", i);
        assert_int_equal(otel_exporter_new(&e, name, sink_export, (void *)modes[i]), OTEL_OK);
        assert_int_equal(otel_tracer_add_exporter(t, e), OTEL_OK);
    }
    return t;
}

/* make_tracer's tracer, started when start is set, and in *mm metrics of it (the first
 * exporter typed otlp_grpc_span_exporter, queues of queue). */
static otel_tracer *make_self(size_t queue, const sink_mode *const *modes, size_t n, bool start,
                              mhd_otel_metrics **mm)
{
    otel_tracer *t = make_tracer(queue, modes, n);
    assert_int_equal(mhd_otel_metrics_new(mm, 0, t, grpc_only, queue), OTEL_OK);
    if (start)
        assert_int_equal(otel_tracer_start(t), OTEL_OK);
    return t;
}

static void end_spans(otel_tracer *t, int n)
{
    for (int i = 0; i < n; i++) {
        otel_span *s = otel_span_start(t, "span", NULL);
        assert_non_null(s);
        otel_span_end(s);
    }
}

static otel_stats exporter_stats(const otel_tracer *t, size_t i)
{
    otel_stats st;
    memset(&st, 0xff, sizeof(st));
    assert_int_equal(otel_tracer_exporter_stats(t, i, &st, NULL), OTEL_OK);
    return st;
}

/* The processor's attributes of pipeline i, after a prefix (an error.type, or ""). */
static const char *bsp(const char *prefix, size_t i)
{
    static char buf[256];
    snprintf(buf, sizeof(buf),
             "%sotel.component.name=batching_span_processor/%zu,"
             "otel.component.type=batching_span_processor",
             prefix, i);
    return buf;
}

/* The exporter's attributes: type/i, after a prefix. */
static const char *exporter(const char *prefix, const char *type, size_t i)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%sotel.component.name=%s/%zu,otel.component.type=%s", prefix, type,
             i, type);
    return buf;
}

/* The value of a sum point, 0 when the collection has none (nothing was counted). */
static int64_t sum_of(const ms_seen *s, const char *name, const char *attrs)
{
    const ms_point *p = ms_find(s, name, attrs);
    return p != NULL ? p->value : 0;
}

/* "Semantic conventions for OpenTelemetry SDK metrics": a queue of 8 per pipeline, 10 spans
 * ended before the workers run: 8 queued, 2 dropped as queue_full; after the flush the queue is
 * empty, the 8 processed, and each exporter's outcome - delivered, failed (_OTHER), partly
 * rejected (rejected) - is what otel_tracer_exporter_stats says. Exporters past the types given
 * are "span_exporter". */
static void test_mhd_otel_metrics_sync_processor_and_exporters(void **state)
{
    (void)state;
    const sink_mode *modes[] = {&mode_ok, &mode_fail, &mode_reject};
    mhd_otel_metrics *mm = NULL;
    otel_tracer *t = make_self(8, modes, 3, false, &mm);
    end_spans(t, 10);
    mhd_otel_metrics_sync(mm);
    ms_seen *s = collect(mm);
    for (size_t i = 0; i < 3; i++) {
        otel_stats st = exporter_stats(t, i);
        assert_int_equal(st.queued, 8);
        assert_int_equal(st.dropped, 2);
        assert_int_equal(ms_get(s, Q_CAP, bsp("", i))->value, 8);
        assert_int_equal(ms_get(s, Q_SIZE, bsp("", i))->value, 8);
        assert_int_equal(ms_get(s, PROCESSED, bsp("error.type=queue_full,", i))->value, 2);
        assert_null(ms_find(s, PROCESSED, bsp("", i)));
    }
    assert_int_equal(ms_points(s, Q_CAP), 3);
    assert_int_equal(ms_points(s, SPAN_EXPORTED), 0);
    const ms_metric *mt = ms_metric_of(s, PROCESSED);
    assert_int_equal(mt->kind, OTEL_INSTRUMENT_COUNTER);
    assert_true(mt->monotonic);
    assert_int_equal(ms_metric_of(s, Q_SIZE)->kind, OTEL_INSTRUMENT_UPDOWN_COUNTER);
    ms_free(s);

    assert_int_equal(otel_tracer_start(t), OTEL_OK);
    assert_int_equal(otel_tracer_force_flush(t, 10 * SEC), OTEL_OK);
    mhd_otel_metrics_sync(mm);
    s = collect(mm);
    otel_stats st[3];
    for (size_t i = 0; i < 3; i++) {
        st[i] = exporter_stats(t, i);
        assert_int_equal(st[i].queued, 0);
        assert_int_equal(ms_get(s, Q_SIZE, bsp("", i))->value, 0);
        assert_int_equal(ms_get(s, Q_CAP, bsp("", i))->value, 8);
        assert_int_equal(ms_get(s, PROCESSED, bsp("", i))->value, 8);
        assert_int_equal(ms_get(s, PROCESSED, bsp("error.type=queue_full,", i))->value, 2);
    }
    assert_int_equal(st[0].exported, 8);
    assert_int_equal(st[1].failed, 8);
    assert_true(st[2].rejected > 0 && st[2].exported > 0);
    assert_int_equal(st[2].rejected + st[2].exported, 8);
    assert_int_equal(sum_of(s, SPAN_EXPORTED, exporter("", "otlp_grpc_span_exporter", 0)),
                     st[0].exported);
    assert_int_equal(sum_of(s, SPAN_EXPORTED, exporter("error.type=_OTHER,", "span_exporter", 1)),
                     st[1].failed);
    assert_int_equal(sum_of(s, SPAN_EXPORTED, exporter("", "span_exporter", 2)), st[2].exported);
    assert_int_equal(sum_of(s, SPAN_EXPORTED, exporter("error.type=rejected,", "span_exporter", 2)),
                     st[2].rejected);
    assert_int_equal(ms_points(s, SPAN_EXPORTED), 4);
    ms_free(s);
    mhd_otel_metrics_del(mm);
    otel_tracer_del(t);
}

/* The counters come in as deltas of the tracer's: syncing again without new spans adds
 * nothing; new spans add exactly theirs. */
static void test_mhd_otel_metrics_sync_twice_adds_nothing(void **state)
{
    (void)state;
    const sink_mode *modes[] = {&mode_ok};
    mhd_otel_metrics *mm = NULL;
    otel_tracer *t = make_self(16, modes, 1, true, &mm);
    otel_metrics *m = mhd_otel_metrics_provider(mm);
    end_spans(t, 5);
    assert_int_equal(otel_tracer_force_flush(t, 10 * SEC), OTEL_OK);
    mhd_otel_metrics_sync(mm);
    ms_free(ms_collect(m, OTEL_TEMPORALITY_PREF_DELTA)); /* the delta interval starts here */
    mhd_otel_metrics_sync(mm);
    mhd_otel_metrics_sync(mm);
    ms_seen *s = ms_collect(m, OTEL_TEMPORALITY_PREF_DELTA);
    assert_int_equal(ms_points(s, PROCESSED), 0);
    assert_int_equal(ms_points(s, SPAN_EXPORTED), 0);
    assert_int_equal(ms_get(s, Q_CAP, bsp("", 0))->value, 16); /* up-down: cumulative */
    ms_free(s);
    s = collect(mm);
    assert_int_equal(ms_get(s, PROCESSED, bsp("", 0))->value, 5);
    assert_int_equal(ms_get(s, SPAN_EXPORTED, exporter("", "otlp_grpc_span_exporter", 0))->value,
                     5);
    assert_int_equal(ms_get(s, Q_CAP, bsp("", 0))->value, 16);
    ms_free(s);

    end_spans(t, 3);
    assert_int_equal(otel_tracer_force_flush(t, 10 * SEC), OTEL_OK);
    mhd_otel_metrics_sync(mm);
    mhd_otel_metrics_sync(mm);
    s = ms_collect(m, OTEL_TEMPORALITY_PREF_DELTA);
    assert_int_equal(ms_get(s, PROCESSED, bsp("", 0))->value, 3);
    assert_int_equal(ms_get(s, SPAN_EXPORTED, exporter("", "otlp_grpc_span_exporter", 0))->value,
                     3);
    ms_free(s);
    s = collect(mm);
    otel_stats st = exporter_stats(t, 0);
    assert_int_equal(st.exported, 8);
    assert_int_equal(ms_get(s, PROCESSED, bsp("", 0))->value, 8);
    assert_int_equal(ms_get(s, SPAN_EXPORTED, exporter("", "otlp_grpc_span_exporter", 0))->value,
                     st.exported);
    assert_int_equal(ms_get(s, Q_CAP, bsp("", 0))->value, 16);
    ms_free(s);
    mhd_otel_metrics_del(mm);
    otel_tracer_del(t);
}

/* After fork() the child's tracer counts and its metrics both start from zero: its
 * self-telemetry is its own spans' (the capacity again, no queue left over, every span
 * processed), not the parent's counts taken away. */
static void test_mhd_otel_metrics_sync_after_fork(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    /* ThreadSanitizer cannot start threads in the child of a multi-threaded fork (the tracer's
     * worker); the plain and ASan builds run this test. */
    skip();
#endif
    const sink_mode *modes[] = {&mode_ok};
    mhd_otel_metrics *mm = NULL;
    otel_tracer *t = make_self(8, modes, 1, true, &mm);
    end_spans(t, 3);
    assert_int_equal(otel_tracer_force_flush(t, 10 * SEC), OTEL_OK);
    end_spans(t, 2); /* queued: the delay is long and the batch not full */
    mhd_otel_metrics_sync(mm);
    ms_seen *s = collect(mm);
    assert_int_equal(ms_get(s, Q_SIZE, bsp("", 0))->value, 2);
    assert_int_equal(ms_get(s, PROCESSED, bsp("", 0))->value, 3);
    ms_free(s);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        end_spans(t, 1);
        int bad = otel_tracer_force_flush(t, 10 * SEC) != OTEL_OK ? 1 : 0;
        mhd_otel_metrics_sync(mm);
        s = collect(mm);
        bad |= sum_of(s, Q_CAP, bsp("", 0)) != 8 ? 2 : 0;
        bad |= sum_of(s, Q_SIZE, bsp("", 0)) != 0 ? 4 : 0;
        bad |= sum_of(s, PROCESSED, bsp("", 0)) != 1 ? 8 : 0;
        bad |= sum_of(s, SPAN_EXPORTED, exporter("", "otlp_grpc_span_exporter", 0)) != 1 ? 16 : 0;
        _exit(bad); /* which check failed, as bits */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent goes on counting its own. */
    assert_int_equal(otel_tracer_force_flush(t, 10 * SEC), OTEL_OK);
    mhd_otel_metrics_sync(mm);
    s = collect(mm);
    assert_int_equal(ms_get(s, Q_SIZE, bsp("", 0))->value, 0);
    assert_int_equal(ms_get(s, PROCESSED, bsp("", 0))->value, 5);
    ms_free(s);
    mhd_otel_metrics_del(mm);
    otel_tracer_del(t);
}

/* Semantic conventions for OpenTelemetry SDK metrics, "Metric:
 * otel.sdk.exporter.operation.duration": "exactly one observation MUST be recorded per export
 * operation"; "For successful operations, error.type MUST NOT be set. For unsuccessful export
 * operations, error.type MUST contain a relevant failure cause", success being OTLP's full
 * success only (a partial one is an error: rejected). One span export of 8 per exporter:
 * delivered, failed (_OTHER), partly rejected (rejected), out of time (timeout), each under its
 * exporter's component attributes. */
static void test_mhd_otel_metrics_span_export_duration(void **state)
{
    (void)state;
    const sink_mode *modes[] = {&mode_ok, &mode_fail, &mode_reject, &mode_timeout};
    mhd_otel_metrics *mm = NULL;
    otel_tracer *t = make_self(8, modes, 4, true, &mm);
    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, OP_DURATION), 0); /* no export yet */
    ms_free(s);
    end_spans(t, 8);
    (void)otel_tracer_force_flush(t, 10 * SEC); /* three of the four fail */
    s = collect(mm);
    assert_int_equal(ms_points(s, OP_DURATION), 4);
    char attrs[4][256];
    snprintf(attrs[0], sizeof(attrs[0]), "%s", exporter("", "otlp_grpc_span_exporter", 0));
    snprintf(attrs[1], sizeof(attrs[1]), "%s", exporter("error.type=_OTHER,", "span_exporter", 1));
    snprintf(attrs[2], sizeof(attrs[2]), "%s",
             exporter("error.type=rejected,", "span_exporter", 2));
    snprintf(attrs[3], sizeof(attrs[3]), "%s", exporter("error.type=timeout,", "span_exporter", 3));
    for (size_t i = 0; i < 4; i++) {
        const ms_point *p = ms_get(s, OP_DURATION, attrs[i]);
        assert_int_equal(p->count, 1);
        assert_true(p->sum >= 0 && p->sum < 10);
    }
    assert_int_equal(ms_metric_of(s, OP_DURATION)->kind, OTEL_INSTRUMENT_HISTOGRAM);
    ms_free(s);
    end_spans(t, 1);
    (void)otel_tracer_force_flush(t, 10 * SEC);
    s = collect(mm);
    assert_int_equal(ms_get(s, OP_DURATION, attrs[0])->count, 2);
    assert_int_equal(ms_get(s, OP_DURATION, attrs[3])->count, 2);
    ms_free(s);
    mhd_otel_metrics_del(mm);
    otel_tracer_del(t);
}

static void *flush_main(void *arg)
{
    (void)otel_tracer_force_flush(arg, 10 * SEC);
    return NULL;
}

/* The same conventions, "Metric: otel.sdk.exporter.span.inflight": "Spans are counted as
 * inflight from when they are passed to the exporter until the export operation has
 * concluded"; "otel.sdk.processor.span.queue.size": the spans in the queue, which those taken
 * by the exporter have left. 5 spans held by an export under way: 5 in flight, the queue
 * empty, none exported; once let go, 0 in flight, 5 exported, and the operation lasted at
 * least as long as the export was held. */
static void test_mhd_otel_metrics_span_inflight(void **state)
{
    (void)state;
    const sink_mode *modes[] = {&mode_hold};
    mhd_otel_metrics *mm = NULL;
    otel_tracer *t = make_self(8, modes, 1, true, &mm);
    end_spans(t, 5);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, flush_main, t), 0);
    pthread_mutex_lock(&span_hold.mu);
    while (!span_hold.held)
        pthread_cond_wait(&span_hold.cv, &span_hold.mu);
    pthread_mutex_unlock(&span_hold.mu);
    char ex[256];
    snprintf(ex, sizeof(ex), "%s", exporter("", "otlp_grpc_span_exporter", 0));
    mhd_otel_metrics_sync(mm);
    ms_seen *s = collect(mm);
    assert_int_equal(ms_get(s, INFLIGHT, ex)->value, 5);
    assert_int_equal(ms_metric_of(s, INFLIGHT)->kind, OTEL_INSTRUMENT_UPDOWN_COUNTER);
    assert_int_equal(sum_of(s, Q_SIZE, bsp("", 0)), 0);
    assert_int_equal(sum_of(s, SPAN_EXPORTED, ex), 0);
    assert_int_equal(ms_points(s, OP_DURATION), 0);
    otel_stats st = exporter_stats(t, 0);
    assert_int_equal(st.exporting, 5);
    assert_int_equal(st.queued, 5); /* queued counts them too */
    ms_free(s);

    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    pthread_mutex_lock(&span_hold.mu);
    span_hold.let_go = true;
    pthread_cond_broadcast(&span_hold.cv);
    pthread_mutex_unlock(&span_hold.mu);
    assert_int_equal(pthread_join(th, NULL), 0);
    mhd_otel_metrics_sync(mm);
    s = collect(mm);
    assert_int_equal(ms_get(s, INFLIGHT, ex)->value, 0);
    assert_int_equal(ms_get(s, SPAN_EXPORTED, ex)->value, 5);
    const ms_point *p = ms_get(s, OP_DURATION, ex);
    assert_int_equal(p->count, 1);
    assert_true(p->sum >= 0.02); /* held for the nap, at the least */
    st = exporter_stats(t, 0);
    assert_int_equal(st.exporting, 0);
    ms_free(s);
    mhd_otel_metrics_del(mm);
    otel_tracer_del(t);
}

/* otel.sdk.exporter.metric_data_point.exported: the delivered part without error.type, the
 * rejected part as error.type=rejected, a failed export's points with its error; and one
 * otel.sdk.exporter.operation.duration measurement per export, with the export's error
 * (rejected for a partial success). */
static void test_mhd_otel_metrics_exported(void **state)
{
    (void)state;
    otel_tracer *t = make_tracer(8, NULL, 0);
    mhd_otel_metrics *mm = NULL;
    assert_int_equal(mhd_otel_metrics_new(&mm, 0, t, NULL, 8), OTEL_OK);
    mhd_otel_metrics_exported(mm, "otlp_grpc_metric_exporter", 10, 3, NULL, 0.02);
    mhd_otel_metrics_exported(mm, "otlp_grpc_metric_exporter", 4, 0, "timeout", 1.5);
    mhd_otel_metrics_exported(mm, "otlp_grpc_metric_exporter", 2, 5, NULL, 0.02); /* 5 > 2 */
    mhd_otel_metrics_exported(mm, "console_metric_exporter", 0, 0, NULL, -1);
    mhd_otel_metrics_sync(mm); /* no exporter: nothing */

    ms_seen *s = collect(mm);
    assert_int_equal(ms_points(s, POINT_EXPORTED), 3);
    assert_int_equal(ms_get(s, POINT_EXPORTED, exporter("", "otlp_grpc_metric_exporter", 0))->value,
                     7);
    assert_int_equal(
        ms_get(s, POINT_EXPORTED, exporter("error.type=rejected,", "otlp_grpc_metric_exporter", 0))
            ->value,
        5);
    assert_int_equal(
        ms_get(s, POINT_EXPORTED, exporter("error.type=timeout,", "otlp_grpc_metric_exporter", 0))
            ->value,
        4);
    assert_int_equal(ms_points(s, OP_DURATION), 3);
    const ms_point *p =
        ms_get(s, OP_DURATION, exporter("error.type=rejected,", "otlp_grpc_metric_exporter", 0));
    assert_int_equal(p->count, 2);
    assert_true(p->sum == 0.04);
    assert_null(ms_find(s, OP_DURATION, exporter("", "otlp_grpc_metric_exporter", 0)));
    p = ms_get(s, OP_DURATION, exporter("error.type=timeout,", "otlp_grpc_metric_exporter", 0));
    assert_one_in_bucket(p, bucket_of(1.5));
    p = ms_get(s, OP_DURATION, exporter("", "console_metric_exporter", 0));
    assert_one_in_bucket(p, 0);
    assert_true(p->sum == 0);
    assert_int_equal(ms_points(s, PROCESSED) + ms_points(s, Q_CAP) + ms_points(s, SPAN_EXPORTED),
                     0);
    ms_free(s);
    mhd_otel_metrics_del(mm);
    otel_tracer_del(t);
}

/* Without a tracer there is no self-telemetry to record: sync and exported do nothing. */
static void test_mhd_otel_metrics_no_tracer_no_self_metrics(void **state)
{
    mhd_otel_metrics *mm = *state;
    mhd_otel_metrics_exported(mm, "otlp_grpc_metric_exporter", 10, 3, "x", 0.02);
    mhd_otel_metrics_sync(mm);
    serve(mm, (mhd_otel_server_req){.method = "GET", .status = 200}, 0.001);
    ms_seen *s = collect(mm);
    assert_int_equal(s->n, 2); /* the duration and the active count */
    assert_non_null(ms_metric_of(s, DURATION));
    assert_non_null(ms_metric_of(s, ACTIVE));
    ms_free(s);
}

/* ---- the process's metrics -------------------------------------------------- */

typedef struct holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mhd_otel_metrics *got; /* what the holder acquired */
    bool holding;
    bool let_go;             /* the test's word to release */
    mhd_otel_metrics *clear; /* what the clearer clears */
    bool cleared;            /* the clearer returned */
} holder;

static void holder_init(holder *h)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void holder_destroy(holder *h)
{
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

static void *holder_main(void *p)
{
    holder *h = p;
    mhd_otel_metrics *mm = mhd_otel_metrics_acquire();
    pthread_mutex_lock(&h->mu);
    h->got = mm;
    h->holding = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->let_go)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    if (mm != NULL)
        mhd_otel_metrics_release();
    return NULL;
}

static void *clearer_main(void *p)
{
    holder *h = p;
    mhd_otel_metrics_clear_process(h->clear);
    pthread_mutex_lock(&h->mu);
    h->cleared = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* Whether the clearer returns within a while (which it must not while the holder holds: a
 * correct clear never returns then, however long this waits; a clear that does not wait is
 * seen to return early). */
static bool cleared_within(holder *h, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    int rc = 0;
    while (!h->cleared && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    bool done = h->cleared;
    pthread_mutex_unlock(&h->mu);
    return done;
}

/* Start a holder thread and wait until it holds what acquire gave it. */
static pthread_t start_holder(holder *h)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, holder_main, h), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->holding)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    return th;
}

static void let_go(holder *h)
{
    pthread_mutex_lock(&h->mu);
    h->let_go = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* acquire: NULL when none is set, else the one set last, held until release. */
static void test_mhd_otel_metrics_acquire_set_one(void **state)
{
    mhd_otel_metrics *a = *state, *b = NULL;
    assert_int_equal(mhd_otel_metrics_new(&b, 0, NULL, NULL, 0), OTEL_OK);
    assert_null(mhd_otel_metrics_acquire());
    mhd_otel_metrics_set_process(a);
    assert_ptr_equal(mhd_otel_metrics_acquire(), a);
    mhd_otel_metrics_release();
    mhd_otel_metrics_set_process(b);
    assert_ptr_equal(mhd_otel_metrics_acquire(), b);
    mhd_otel_metrics_release();
    mhd_otel_metrics_clear_process(b);
    assert_null(mhd_otel_metrics_acquire());
    mhd_otel_metrics_del(b);
}

/* Clearing another one than the one set, or NULL, leaves the one set. */
static void test_mhd_otel_metrics_clear_other_does_nothing(void **state)
{
    mhd_otel_metrics *a = *state, *b = NULL;
    assert_int_equal(mhd_otel_metrics_new(&b, 0, NULL, NULL, 0), OTEL_OK);
    mhd_otel_metrics_set_process(a);
    mhd_otel_metrics_clear_process(b);
    mhd_otel_metrics_clear_process(NULL);
    assert_ptr_equal(mhd_otel_metrics_acquire(), a);
    mhd_otel_metrics_release();
    mhd_otel_metrics_clear_process(a);
    assert_null(mhd_otel_metrics_acquire());
    mhd_otel_metrics_del(b);
}

/* Clearing the one set waits for the thread that holds it: acquire gives NULL at once, the
 * clear returns only after the holder let go. */
static void test_mhd_otel_metrics_clear_waits_for_holder(void **state)
{
    mhd_otel_metrics *a = *state;
    holder h;
    holder_init(&h);
    mhd_otel_metrics_set_process(a);
    pthread_t hold = start_holder(&h);
    assert_ptr_equal(h.got, a);
    h.clear = a;
    pthread_t clr;
    assert_int_equal(pthread_create(&clr, NULL, clearer_main, &h), 0);
    mhd_otel_metrics *now;
    while ((now = mhd_otel_metrics_acquire()) != NULL) { /* until the clearer took it out */
        mhd_otel_metrics_release();
        sched_yield();
    }
    bool early = cleared_within(&h, 200);
    let_go(&h); /* before any assertion: no thread is left waiting */
    pthread_join(clr, NULL);
    pthread_join(hold, NULL);
    assert_false(early);
    assert_true(h.cleared);
    holder_destroy(&h);
}

/* A module that set its metrics, then another that set its own: when the first one clears
 * (and then frees) its metrics, a thread may still hold them from before; the clear waits for
 * it too, and leaves the second one's set. */
static void test_mhd_otel_metrics_clear_replaced_waits_for_holder(void **state)
{
    mhd_otel_metrics *a = *state, *b = NULL;
    assert_int_equal(mhd_otel_metrics_new(&b, 0, NULL, NULL, 0), OTEL_OK);
    holder h;
    holder_init(&h);
    mhd_otel_metrics_set_process(a);
    pthread_t hold = start_holder(&h);
    assert_ptr_equal(h.got, a);
    mhd_otel_metrics_set_process(b);
    h.clear = a;
    pthread_t clr;
    assert_int_equal(pthread_create(&clr, NULL, clearer_main, &h), 0);
    bool early = cleared_within(&h, 200);
    let_go(&h); /* before any assertion: no thread is left waiting */
    pthread_join(clr, NULL);
    pthread_join(hold, NULL);
    assert_false(early);
    assert_ptr_equal(mhd_otel_metrics_acquire(), b);
    mhd_otel_metrics_release();
    mhd_otel_metrics_clear_process(b);
    assert_null(mhd_otel_metrics_acquire());
    holder_destroy(&h);
    mhd_otel_metrics_del(b);
}

/* ---- allocation failures ---------------------------------------------------- */

/* test_failmalloc.c's way: the n-th allocation fails, for every n until none does; each
 * failure is OTEL_ERR_NOMEM with nothing made (ASan: nothing leaks). */
static void test_mhd_otel_metrics_new_out_of_memory(void **state)
{
    (void)state;
    const sink_mode *modes[] = {&mode_ok};
    otel_tracer *t = make_tracer(8, modes, 1);
    long n;
    for (n = 0; n < 10000; n++) {
        mhd_otel_metrics *mm = (mhd_otel_metrics *)1;
        otel_alloc_fail_after(n);
        int rc = mhd_otel_metrics_new(&mm, 0, t, grpc_only, 8);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            serve(mm, (mhd_otel_server_req){.method = "GET", .status = 200}, 0.001);
            mhd_otel_metrics_sync(mm);
            ms_seen *s = collect(mm);
            assert_int_equal(ms_get(s, Q_CAP, bsp("", 0))->value, 8);
            assert_int_equal(ms_points(s, DURATION), 1);
            ms_free(s);
            mhd_otel_metrics_del(mm);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(mm);
    }
    assert_true(n > 9 && n < 10000); /* one at least per instrument */
    otel_tracer_del(t);
}

/* Records while every allocation fails: the new shapes' measurements go to the overflow
 * point, none is lost, nothing crashes. Once memory is back, the same shapes get points
 * of their own: the overflow point a failed bind gave is not kept for them (the
 * metrics SDK: the overflow attribute set is for when "the correct Aggregator could not
 * be created", not for good). */
static void test_mhd_otel_metrics_record_out_of_memory(void **state)
{
    mhd_otel_metrics *mm = *state;
    otel_alloc_fail_after(0);
    for (size_t k = 0; k < 20; k++)
        serve(mm, shape(k), 0.001);
    mhd_otel_metrics_client(mm, "GET", "http://example.org/", 200, NULL, 0.001, NULL);
    otel_alloc_fail_after(-1);
    ms_seen *s = collect(mm);
    const ms_metric *mt = ms_metric_of(s, DURATION);
    assert_non_null(mt);
    uint64_t n = 0;
    for (size_t i = 0; i < mt->n; i++)
        n += mt->pts[i].count;
    assert_int_equal(n, 20);
    assert_int_equal(ms_get(s, DURATION, OTEL_METRIC_OVERFLOW_KEY "=true")->count, 20);
    assert_int_equal(ms_get(s, CLIENT, OTEL_METRIC_OVERFLOW_KEY "=true")->count, 1);
    ms_free(s);

    for (size_t k = 0; k < 20; k++)
        serve(mm, shape(k), 0.001);
    s = collect(mm);
    mt = ms_metric_of(s, DURATION);
    assert_int_equal(mt->n, 21); /* the 20 shapes' own points and the overflow's */
    for (size_t i = 0; i < mt->n; i++)
        assert_int_equal(mt->pts[i].count,
                         strstr(mt->pts[i].attrs, OTEL_METRIC_OVERFLOW_KEY) ? 20 : 1);
    ms_free(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mhd_otel_metrics_server_begin_active_by_method_and_scheme),
        T(test_mhd_otel_metrics_server_end_attributes),
        T(test_mhd_otel_metrics_server_end_error_type),
        T(test_mhd_otel_metrics_server_end_buckets),
        T(test_mhd_otel_metrics_server_not_begun),
        T(test_mhd_otel_metrics_cache_many_shapes),
        T(test_mhd_otel_metrics_cache_active_apart),
        T(test_mhd_otel_metrics_cache_two_providers),
        T(test_mhd_otel_metrics_cache_provider_reborn),
        T(test_mhd_otel_metrics_server_threads_exact),
        T(test_mhd_otel_metrics_server_end_exemplar),
        T(test_mhd_otel_metrics_client_attributes),
        T(test_mhd_otel_metrics_sync_processor_and_exporters),
        T(test_mhd_otel_metrics_sync_twice_adds_nothing),
        T(test_mhd_otel_metrics_sync_after_fork),
        T(test_mhd_otel_metrics_span_export_duration),
        T(test_mhd_otel_metrics_span_inflight),
        T(test_mhd_otel_metrics_exported),
        T(test_mhd_otel_metrics_no_tracer_no_self_metrics),
        T(test_mhd_otel_metrics_acquire_set_one),
        T(test_mhd_otel_metrics_clear_other_does_nothing),
        T(test_mhd_otel_metrics_clear_waits_for_holder),
        T(test_mhd_otel_metrics_clear_replaced_waits_for_holder),
        T(test_mhd_otel_metrics_new_out_of_memory),
        T(test_mhd_otel_metrics_record_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
