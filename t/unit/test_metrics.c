/* test_metrics.c - unit tests for core/metrics.c.
 *
 * The rules followed, from the OpenTelemetry specification:
 * - metrics/sdk.md "Explicit bucket histogram aggregation" and data-model.md
 *   "Histogram: Bucket inclusivity": bucket upper bounds are inclusive, lower
 *   bounds exclusive; min and max may be recorded (RecordMinMax).
 * - metrics/sdk.md "Cardinality limits" / "Overflow attribute": 2000 by
 *   default; a limit of N keeps N - 1 attribute sets and aggregates every
 *   measurement for which no aggregator could be made into the point
 *   {otel.metric.overflow=true}; every measurement is in exactly one point.
 * - metrics/sdk.md "AlignedHistogramBucketExemplarReservoir": at most one
 *   exemplar per bucket, the last one seen kept (the MAY alternative);
 *   "ExemplarFilter" TraceBased (the default): only sampled spans.
 * - metrics/data-model.md "Temporality": cumulative points share the start
 *   of the stream, delta points start at the previous collection.
 * - exporter.md of OTLP, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE:
 *   cumulative, delta, lowmemory; up-down counters stay cumulative.
 * - common/README.md "Attribute": a set of keys (order does not matter).
 * - HTTP semantic conventions, http.server.request.duration: advised
 *   buckets [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5,
 *   5, 7.5, 10]. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include <mhd-otel/metrics.h>
#include "../../core/test_hooks.h"

#define MAX_SEEN 16
#define MAX_PTS 64

/* A copy of what a collection handed over. */
typedef struct seen_point {
    char attrs[256]; /* "k=v,k=v" in the order given */
    uint64_t start_ns, time_ns;
    int64_t value;
    uint64_t count;
    double sum, min, max;
    uint64_t buckets[OTEL_HISTOGRAM_MAX_BOUNDARIES + 1];
    size_t n_buckets;
    otel_exemplar ex[OTEL_HISTOGRAM_MAX_BOUNDARIES + 1];
    size_t n_ex;
} seen_point;

typedef struct seen_metric {
    char name[64];
    otel_instrument_kind kind;
    otel_temporality temporality;
    bool monotonic;
    uint64_t dropped;
    size_t n;
    seen_point pts[MAX_PTS];
} seen_metric;

typedef struct seen {
    size_t n;
    seen_metric m[MAX_SEEN];
    int fail_with; /* returned by the callback */
} seen;

static void attrs_text(const otel_kv *kv, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const otel_kv *a = &kv[i];
        char v[64];
        switch (a->type) {
        case OTEL_ATTR_STRING:
            snprintf(v, sizeof(v), "%s", a->v.s);
            break;
        case OTEL_ATTR_BOOL:
            snprintf(v, sizeof(v), "%s", a->v.b ? "true" : "false");
            break;
        case OTEL_ATTR_INT:
            snprintf(v, sizeof(v), "%lld", (long long)a->v.i);
            break;
        default:
            snprintf(v, sizeof(v), "%g", a->v.d);
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s=%s", i > 0 ? "," : "", a->key, v);
    }
}

static int keep(void *ud, const otel_metric_data *md)
{
    seen *s = ud;
    assert_true(s->n < MAX_SEEN);
    seen_metric *m = &s->m[s->n++];
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", md->name);
    m->kind = md->kind;
    m->temporality = md->temporality;
    m->monotonic = md->monotonic;
    m->dropped = md->dropped;
    assert_true(md->n_points <= MAX_PTS);
    m->n = md->n_points;
    for (size_t i = 0; i < md->n_points; i++) {
        const otel_metric_point *p = &md->points[i];
        seen_point *q = &m->pts[i];
        attrs_text(p->attrs, p->n_attrs, q->attrs, sizeof(q->attrs));
        q->start_ns = p->start_ns;
        q->time_ns = p->time_ns;
        q->value = p->value;
        q->count = p->count;
        q->sum = p->sum;
        q->min = p->min;
        q->max = p->max;
        q->n_buckets = p->n_bucket_counts;
        if (p->n_bucket_counts > 0)
            memcpy(q->buckets, p->bucket_counts, p->n_bucket_counts * sizeof(uint64_t));
        q->n_ex = p->n_exemplars;
        if (p->n_exemplars > 0)
            memcpy(q->ex, p->exemplars, p->n_exemplars * sizeof(otel_exemplar));
    }
    return s->fail_with;
}

static seen *collect(otel_metrics *m, otel_temporality_pref pref)
{
    static seen s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(otel_metrics_collect(m, pref, keep, &s), OTEL_OK);
    return &s;
}

static const seen_metric *metric(const seen *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->m[i].name, name) == 0)
            return &s->m[i];
    return NULL;
}

static const seen_point *point(const seen_metric *m, const char *attrs)
{
    for (size_t i = 0; m != NULL && i < m->n; i++)
        if (strcmp(m->pts[i].attrs, attrs) == 0)
            return &m->pts[i];
    return NULL;
}

static uint64_t fake_now = 1000;
static uint64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static int setup(void **state)
{
    (void)state;
    fake_now = 1000;
    otel_clock_set(fake_clock, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_clock_set(NULL, NULL);
    otel_alloc_fail_after(-1);
    return 0;
}

/* ---- instruments ---------------------------------------------------------- */

/* API spec "Instrument name syntax", "Instrument unit". */
static void test_otel_metrics_instrument_new_invalid(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c = (otel_counter *)1;
    assert_int_equal(otel_counter_new(m, &c, "1abc", NULL, NULL), OTEL_ERR_INVALID);
    assert_null(c);
    assert_int_equal(otel_counter_new(m, &c, "", NULL, NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_counter_new(m, &c, NULL, NULL, NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_counter_new(m, &c, "a b", NULL, NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_counter_new(NULL, &c, "a", NULL, NULL), OTEL_ERR_INVALID);
    char long_name[257];
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    assert_int_equal(otel_counter_new(m, &c, long_name, NULL, NULL), OTEL_ERR_INVALID);
    long_name[255] = '\0';
    assert_int_equal(otel_counter_new(m, &c, long_name, NULL, NULL), OTEL_OK);
    assert_int_equal(otel_counter_new(m, &c, "ok", NULL, "\xc3\xa9"), OTEL_ERR_INVALID);
    otel_histogram *h;
    const double down[] = {1, 0.5};
    const double nan_b[] = {NAN};
    const double inf_b[] = {1, INFINITY};
    const double dup[] = {1, 1};
    assert_int_equal(otel_histogram_new(m, &h, "h1", NULL, "s", down, 2), OTEL_ERR_INVALID);
    assert_int_equal(otel_histogram_new(m, &h, "h1", NULL, "s", nan_b, 1), OTEL_ERR_INVALID);
    assert_int_equal(otel_histogram_new(m, &h, "h1", NULL, "s", inf_b, 2), OTEL_ERR_INVALID);
    assert_int_equal(otel_histogram_new(m, &h, "h1", NULL, "s", dup, 2), OTEL_ERR_INVALID);
    assert_int_equal(otel_histogram_new(m, &h, "h1", NULL, "s", NULL, 3), OTEL_ERR_INVALID);
    otel_metrics_del(m);
    otel_metrics_del(NULL);
}

/* API spec "Duplicate instrument registration": identical instruments are
 * one; a conflicting one is refused here (the spec would keep both). */
static void test_otel_metrics_instrument_new_duplicate(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *a, *b;
    assert_int_equal(otel_histogram_new(m, &a, "http.server.request.duration", "d", "s", NULL, 0),
                     OTEL_OK);
    assert_int_equal(otel_histogram_new(m, &b, "HTTP.server.request.duration", "d", "s", NULL, 0),
                     OTEL_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(otel_histogram_new(m, &b, "http.server.request.duration", "d", "ms", NULL, 0),
                     OTEL_ERR_STATE);
    assert_null(b);
    otel_counter *c;
    assert_int_equal(otel_counter_new(m, &c, "http.server.request.duration", "d", "s"),
                     OTEL_ERR_STATE);
    otel_metrics_del(m);
}

static void test_otel_http_duration_boundaries(void **state)
{
    (void)state;
    static const double advised[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                     0.5,   0.75, 1,     2.5,  5,     7.5, 10};
    size_t n = 0;
    const double *b = otel_http_duration_boundaries(&n);
    assert_int_equal(n, 14);
    assert_memory_equal(b, advised, sizeof(advised));
}

/* ---- histograms ----------------------------------------------------------- */

/* data-model.md "Histogram: Bucket inclusivity": (lower, upper]. */
static void test_otel_histogram_record_bucket_boundaries(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(m, &h, "d", NULL, "s", NULL, 0), OTEL_OK);
    otel_histogram_record(h, 0, NULL, 0, NULL);      /* bucket 0: (-inf, 0.005] */
    otel_histogram_record(h, 0.005, NULL, 0, NULL);  /* on the bound: bucket 0 */
    otel_histogram_record(h, 0.0051, NULL, 0, NULL); /* bucket 1 */
    otel_histogram_record(h, 1, NULL, 0, NULL);      /* bucket 9: (0.75, 1] */
    otel_histogram_record(h, 10, NULL, 0, NULL);     /* bucket 13: (7.5, 10] */
    otel_histogram_record(h, 10.5, NULL, 0, NULL);   /* bucket 14: (10, +inf) */
    otel_histogram_record(h, 1e300, NULL, 0, NULL);  /* bucket 14 */
    const seen_point *p = point(metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "d"), "");
    assert_non_null(p);
    assert_int_equal(p->n_buckets, 15);
    uint64_t want[15] = {2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2};
    assert_memory_equal(p->buckets, want, sizeof(want));
    assert_int_equal(p->count, 7);

    otel_histogram *one;
    const double b1[] = {1};
    assert_int_equal(otel_histogram_new(m, &one, "one", NULL, NULL, b1, 1), OTEL_OK);
    otel_histogram_record(one, 1, NULL, 0, NULL);
    otel_histogram_record(one, nextafter(1, 2), NULL, 0, NULL);
    otel_histogram *none;
    assert_int_equal(otel_histogram_new(m, &none, "none", NULL, NULL, b1, 0), OTEL_OK);
    otel_histogram_record(none, 3, NULL, 0, NULL);
    seen *s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    p = point(metric(s, "one"), "");
    assert_int_equal(p->n_buckets, 2);
    assert_int_equal(p->buckets[0], 1);
    assert_int_equal(p->buckets[1], 1);
    p = point(metric(s, "none"), "");
    assert_int_equal(p->n_buckets, 1);
    assert_int_equal(p->buckets[0], 1);
    otel_metrics_del(m);
}

static void test_otel_histogram_record_sum_count_min_max(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(m, &h, "d", NULL, "s", NULL, 0), OTEL_OK);
    otel_kv a[] = {OTEL_KV_STR("http.request.method", "GET")};
    const double v[] = {0.25, 0.5, 0.125, 3, -0.0};
    for (int i = 0; i < 5; i++)
        otel_histogram_record(h, v[i], a, 1, NULL);
    const seen_point *p =
        point(metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "d"), "http.request.method=GET");
    assert_non_null(p);
    assert_int_equal(p->count, 5);
    assert_true(p->sum == 3.875);
    assert_true(p->min == 0 && !signbit(p->min));
    assert_true(p->max == 3);
    otel_metrics_del(m);
}

/* API spec "Histogram operations: Record": non-negative values; the rest
 * is refused and counted. */
static void test_otel_histogram_record_invalid_values_dropped(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(m, &h, "d", NULL, "s", NULL, 0), OTEL_OK);
    otel_histogram_record(h, -1, NULL, 0, NULL);
    otel_histogram_record(h, NAN, NULL, 0, NULL);
    otel_histogram_record(h, INFINITY, NULL, 0, NULL);
    otel_histogram_record(NULL, 1, NULL, 0, NULL);
    otel_histogram_record(h, 1, NULL, 0, NULL);
    const seen_metric *md = metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "d");
    assert_non_null(md);
    assert_int_equal(md->dropped, 3);
    assert_int_equal(md->n, 1);
    assert_int_equal(md->pts[0].count, 1);
    otel_metrics_del(m);
}

static otel_span_context ctx(uint8_t id, bool sampled)
{
    otel_span_context sc;
    memset(&sc, 0, sizeof(sc));
    memset(sc.trace_id, id, 16);
    memset(sc.span_id, id + 1, 8);
    sc.trace_flags = sampled ? OTEL_TRACE_FLAG_SAMPLED : 0;
    return sc;
}

/* sdk.md "AlignedHistogramBucketExemplarReservoir", "ExemplarFilter"
 * (TraceBased): one exemplar per bucket, the last sampled one. */
static void test_otel_histogram_record_exemplars(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(m, &h, "d", NULL, "s", NULL, 0), OTEL_OK);
    otel_span_context s1 = ctx(0x11, true), s2 = ctx(0x22, true), off = ctx(0x33, false);
    otel_span_context invalid = ctx(0, true);
    fake_now = 5000;
    otel_histogram_record(h, 0.001, NULL, 0, &s1); /* bucket 0 */
    fake_now = 6000;
    otel_histogram_record(h, 0.002, NULL, 0, &s2);   /* bucket 0: replaces s1 */
    otel_histogram_record(h, 0.003, NULL, 0, &off);  /* not sampled */
    otel_histogram_record(h, 0.2, NULL, 0, &off);    /* bucket 6: none */
    otel_histogram_record(h, 20, NULL, 0, &invalid); /* invalid ids: none */
    otel_histogram_record(h, 0.7, NULL, 0, NULL);    /* no span */
    otel_histogram_record(h, 2, NULL, 0, &s1);       /* bucket 10 */
    const seen_point *p = point(metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "d"), "");
    assert_non_null(p);
    assert_int_equal(p->n_ex, 2);
    assert_true(p->ex[0].value == 0.002);
    assert_int_equal(p->ex[0].time_ns, 6000);
    assert_memory_equal(p->ex[0].trace_id, s2.trace_id, 16);
    assert_memory_equal(p->ex[0].span_id, s2.span_id, 8);
    assert_true(p->ex[1].value == 2);
    assert_memory_equal(p->ex[1].trace_id, s1.trace_id, 16);
    assert_memory_equal(p->ex[1].span_id, s1.span_id, 8);
    /* Cumulative keeps them; delta has only those of its interval (the
     * first delta collection's interval is from the start). */
    otel_histogram_record(h, 0.004, NULL, 0, &off);
    p = point(metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "d"), "");
    assert_int_equal(p->n_ex, 2);
    p = point(metric(collect(m, OTEL_TEMPORALITY_PREF_DELTA), "d"), "");
    assert_int_equal(p->count, 8);
    assert_int_equal(p->n_ex, 2);
    otel_histogram_record(h, 0.004, NULL, 0, &s1);
    p = point(metric(collect(m, OTEL_TEMPORALITY_PREF_DELTA), "d"), "");
    assert_int_equal(p->count, 1);
    assert_int_equal(p->n_ex, 1);
    assert_memory_equal(p->ex[0].span_id, s1.span_id, 8);
    otel_metrics_del(m);
}

/* A bound sum point adds into the point of its set, whichever way it is
 * reached; a counter's bound point refuses a negative value (the API spec,
 * "Counter": "The value is expected to be non-negative"). */
static void test_otel_sum_point_add(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    otel_updown_counter *u;
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &u, "u", NULL, NULL), OTEL_OK);
    otel_kv a[] = {OTEL_KV_STR("k", "x"), OTEL_KV_INT("n", 1)};
    otel_kv b[] = {OTEL_KV_INT("n", 1), OTEL_KV_STR("k", "x")};
    otel_sum_point *cp = otel_counter_bind(c, a, 2), *up = otel_updown_counter_bind(u, b, 2);
    assert_non_null(cp);
    assert_non_null(up);
    otel_sum_point_add(cp, 4);
    otel_sum_point_add(cp, -1); /* refused */
    otel_counter_add(c, 1, b, 2);
    otel_sum_point_add(up, 3);
    otel_sum_point_add(up, -5);
    otel_updown_counter_add(u, 1, a, 2);
    otel_sum_point_add(NULL, 1);
    assert_null(otel_counter_bind(NULL, a, 2));
    seen *s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    assert_int_equal(point(metric(s, "c"), "k=x,n=1")->value, 5);
    assert_int_equal(metric(s, "c")->dropped, 1);
    assert_int_equal(point(metric(s, "u"), "k=x,n=1")->value, -1);
    otel_metrics_del(m);
}

/* ---- attribute sets --------------------------------------------------- */

/* A bound point is the point of its set: records through it and through
 * otel_histogram_record with the same attributes (in another order) add
 * up in one point; its values are checked as the record's are; beyond the
 * cardinality limit binding gives the overflow point; NULL does nothing. */
static void test_otel_histogram_bind_same_point(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 3), OTEL_OK);
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(m, &h, "d", NULL, "s", NULL, 0), OTEL_OK);
    otel_kv a[] = {OTEL_KV_STR("http.request.method", "GET"), OTEL_KV_INT("code", 200)};
    otel_kv b[] = {OTEL_KV_INT("code", 200), OTEL_KV_STR("http.request.method", "GET")};
    otel_histogram_point *pt = otel_histogram_bind(h, a, 2);
    assert_non_null(pt);
    assert_ptr_equal(otel_histogram_bind(h, b, 2), pt);
    otel_span_context sc = ctx(7, true);
    otel_histogram_point_record(pt, 0.25, &sc);
    otel_histogram_point_record(pt, 0.5, NULL);
    otel_histogram_point_record(pt, -1, NULL); /* dropped */
    otel_histogram_point_record(NULL, 1, NULL);
    otel_histogram_record(h, 3, b, 2, NULL);
    /* limit 3: two sets and the overflow */
    otel_kv c1[] = {OTEL_KV_INT("code", 404)};
    otel_kv c2[] = {OTEL_KV_INT("code", 500)};
    assert_non_null(otel_histogram_bind(h, c1, 1));
    otel_histogram_point *over = otel_histogram_bind(h, c2, 1);
    assert_non_null(over);
    otel_histogram_point_record(over, 1, NULL);
    assert_null(otel_histogram_bind(NULL, a, 2));
    const seen_metric *md = metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "d");
    assert_non_null(md);
    assert_int_equal(md->dropped, 1);
    const seen_point *p = point(md, "code=200,http.request.method=GET");
    assert_non_null(p);
    assert_int_equal(p->count, 3);
    assert_true(p->sum == 3.75);
    assert_int_equal(point(md, "otel.metric.overflow=true")->count, 1);
    otel_metrics_del(m);
}

/* A bound point lasts (a caller may keep it) unless it is the overflow
 * point a bind gave for want of memory below the cardinality limit; the
 * overflow point given at the limit lasts; NULL does not. */
static void test_otel_point_lasting(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 3), OTEL_OK); /* two sets and the overflow */
    otel_histogram *h;
    otel_counter *c;
    assert_int_equal(otel_histogram_new(m, &h, "d", NULL, "s", NULL, 0), OTEL_OK);
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    otel_kv a[] = {OTEL_KV_INT("code", 200)}, b[] = {OTEL_KV_INT("code", 404)},
            d[] = {OTEL_KV_INT("code", 500)};
    assert_true(otel_histogram_point_lasting(otel_histogram_bind(h, a, 1)));
    assert_true(otel_sum_point_lasting(otel_counter_bind(c, a, 1)));
    otel_alloc_fail_after(0);
    otel_histogram_point *oom = otel_histogram_bind(h, b, 1);
    otel_sum_point *oom_c = otel_counter_bind(c, b, 1);
    otel_alloc_fail_after(-1);
    assert_non_null(oom); /* the overflow point, for now */
    assert_false(otel_histogram_point_lasting(oom));
    assert_false(otel_sum_point_lasting(oom_c));
    otel_histogram_point *own = otel_histogram_bind(h, b, 1);
    assert_true(own != oom && otel_histogram_point_lasting(own));
    otel_histogram_point *over = otel_histogram_bind(h, d, 1); /* the limit */
    assert_ptr_equal(over, oom);
    assert_true(otel_histogram_point_lasting(over));
    assert_false(otel_histogram_point_lasting(NULL));
    assert_false(otel_sum_point_lasting(NULL));
    otel_metrics_del(m);
}

/* common/README.md "Attribute": keys form a set; the order given does not
 * make another point. Points list their attributes sorted by key. */
static void test_otel_counter_add_attr_order_same_set(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    assert_int_equal(otel_counter_new(m, &c, "req", NULL, "{request}"), OTEL_OK);
    char key_copy[] = "url.scheme";
    otel_kv ab[] = {OTEL_KV_STR("url.scheme", "http"),
                    OTEL_KV_INT("http.response.status_code", 200), OTEL_KV_BOOL("b", true),
                    OTEL_KV_DOUBLE("d", 0.5)};
    otel_kv ba[] = {OTEL_KV_DOUBLE("d", 0.5), OTEL_KV_INT("http.response.status_code", 200),
                    OTEL_KV_STR(key_copy, "http"), OTEL_KV_BOOL("b", true)};
    otel_kv other[] = {OTEL_KV_STR("url.scheme", "https"),
                       OTEL_KV_INT("http.response.status_code", 200), OTEL_KV_BOOL("b", true),
                       OTEL_KV_DOUBLE("d", 0.5)};
    otel_kv typed[] = {OTEL_KV_STR("url.scheme", "http"),
                       OTEL_KV_STR("http.response.status_code", "200"), OTEL_KV_BOOL("b", true),
                       OTEL_KV_DOUBLE("d", 0.5)};
    otel_counter_add(c, 1, ab, 4);
    otel_counter_add(c, 2, ba, 4);
    otel_counter_add(c, 4, other, 4);
    otel_counter_add(c, 8, typed, 4);
    otel_counter_add(c, 16, ab, 3); /* a subset is another set */
    otel_counter_add(c, 32, NULL, 0);
    const seen_metric *md = metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "req");
    assert_non_null(md);
    assert_true(md->monotonic);
    assert_int_equal(md->n, 5);
    const seen_point *p = point(md, "b=true,d=0.5,http.response.status_code=200,url.scheme=http");
    assert_non_null(p);
    assert_int_equal(p->value, 3);
    assert_int_equal(
        point(md, "b=true,d=0.5,http.response.status_code=200,url.scheme=https")->value, 4);
    assert_int_equal(point(md, "b=true,http.response.status_code=200,url.scheme=http")->value, 16);
    assert_int_equal(point(md, "")->value, 32);
    assert_int_equal(md->dropped, 0);
    otel_metrics_del(m);
}

static void test_otel_counter_add_invalid_attrs_dropped(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    assert_int_equal(otel_counter_new(m, &c, "req", NULL, NULL), OTEL_OK);
    otel_kv dup[] = {OTEL_KV_STR("k", "a"), OTEL_KV_STR("k", "b")};
    otel_kv null_key[] = {OTEL_KV_STR(NULL, "a")};
    const char *vals[] = {"a"};
    otel_kv arr[] = {OTEL_KV_STR_ARRAY("k", vals, 1)};
    otel_kv many[OTEL_METRICS_MAX_ATTRS + 1];
    for (int i = 0; i <= OTEL_METRICS_MAX_ATTRS; i++)
        many[i] = OTEL_KV_INT("k", i);
    otel_counter_add(c, 1, dup, 2);
    otel_counter_add(c, 1, dup, 2);
    otel_counter_add(c, 1, null_key, 1);
    otel_counter_add(c, 1, arr, 1);
    otel_counter_add(c, 1, many, OTEL_METRICS_MAX_ATTRS + 1);
    otel_counter_add(c, 1, NULL, 2);
    otel_kv null_value[] = {OTEL_KV_STR("k", NULL)};
    otel_counter_add(c, 5, null_value, 1); /* "" */
    const seen_metric *md = metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "req");
    assert_non_null(md);
    assert_int_equal(md->dropped, 6);
    assert_int_equal(md->n, 1);
    assert_int_equal(point(md, "k=")->value, 5);
    otel_metrics_del(m);
}

typedef struct point_count {
    size_t n;
    uint64_t total, overflow;
} point_count;

static int count_points(void *ud, const otel_metric_data *md)
{
    point_count *pc = ud;
    pc->n += md->n_points;
    for (size_t i = 0; i < md->n_points; i++) {
        pc->total += md->points[i].count;
        if (md->points[i].n_attrs == 1 &&
            strcmp(md->points[i].attrs[0].key, OTEL_METRIC_OVERFLOW_KEY) == 0)
            pc->overflow += md->points[i].count;
    }
    return OTEL_OK;
}

/* sdk.md "Cardinality limits": limit 4 = 3 sets + the overflow point; the
 * sets already there keep aggregating; no measurement is lost. */
static void test_otel_counter_add_cardinality_overflow(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 4), OTEL_OK);
    otel_counter *c;
    assert_int_equal(otel_counter_new(m, &c, "req", NULL, NULL), OTEL_OK);
    for (int64_t i = 0; i < 10; i++) {
        otel_kv a[] = {OTEL_KV_INT("i", i)};
        otel_counter_add(c, (uint64_t)(i + 1), a, 1);
    }
    otel_kv first[] = {OTEL_KV_INT("i", 0)};
    otel_counter_add(c, 100, first, 1);
    const seen_metric *md = metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "req");
    assert_int_equal(md->n, 4);
    assert_int_equal(point(md, "i=0")->value, 101);
    assert_int_equal(point(md, "i=1")->value, 2);
    assert_int_equal(point(md, "i=2")->value, 3);
    assert_int_equal(point(md, "otel.metric.overflow=true")->value, 4 + 5 + 6 + 7 + 8 + 9 + 10);
    assert_int_equal(md->dropped, 0);

    /* The default limit, 2000: 1999 sets and the overflow. */
    otel_metrics *d;
    assert_int_equal(otel_metrics_new(&d, 0), OTEL_OK);
    otel_histogram *h;
    assert_int_equal(otel_histogram_new(d, &h, "d", NULL, NULL, NULL, 0), OTEL_OK);
    for (int64_t i = 0; i < 2100; i++) {
        otel_kv a[] = {OTEL_KV_INT("i", i)};
        otel_histogram_record(h, 1, a, 1, NULL);
    }
    point_count pc = {0, 0, 0};
    assert_int_equal(otel_metrics_collect(d, OTEL_TEMPORALITY_PREF_CUMULATIVE, count_points, &pc),
                     OTEL_OK);
    assert_int_equal(pc.n, 2000);
    assert_int_equal(pc.total, 2100);
    assert_int_equal(pc.overflow, 101);
    otel_metrics_del(d);
    otel_metrics_del(m);
}

/* ---- temporality -------------------------------------------------------- */

static void test_otel_temporality_pref_from_name(void **state)
{
    (void)state;
    otel_temporality_pref p = OTEL_TEMPORALITY_PREF_DELTA;
    assert_int_equal(otel_temporality_pref_from_name("Cumulative", &p), OTEL_OK);
    assert_int_equal(p, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    assert_int_equal(otel_temporality_pref_from_name("delta", &p), OTEL_OK);
    assert_int_equal(p, OTEL_TEMPORALITY_PREF_DELTA);
    assert_int_equal(otel_temporality_pref_from_name("LOWMEMORY", &p), OTEL_OK);
    assert_int_equal(p, OTEL_TEMPORALITY_PREF_LOWMEMORY);
    assert_int_equal(otel_temporality_pref_from_name("sometimes", &p), OTEL_ERR_INVALID);
    assert_int_equal(otel_temporality_pref_from_name(NULL, &p), OTEL_ERR_INVALID);
    assert_int_equal(p, OTEL_TEMPORALITY_PREF_LOWMEMORY);
    assert_int_equal(
        otel_temporality_for(OTEL_TEMPORALITY_PREF_CUMULATIVE, OTEL_INSTRUMENT_COUNTER),
        OTEL_TEMPORALITY_CUMULATIVE);
    assert_int_equal(otel_temporality_for(OTEL_TEMPORALITY_PREF_DELTA, OTEL_INSTRUMENT_HISTOGRAM),
                     OTEL_TEMPORALITY_DELTA);
    assert_int_equal(otel_temporality_for(OTEL_TEMPORALITY_PREF_DELTA, OTEL_INSTRUMENT_COUNTER),
                     OTEL_TEMPORALITY_DELTA);
    assert_int_equal(
        otel_temporality_for(OTEL_TEMPORALITY_PREF_DELTA, OTEL_INSTRUMENT_UPDOWN_COUNTER),
        OTEL_TEMPORALITY_CUMULATIVE);
    assert_int_equal(
        otel_temporality_for(OTEL_TEMPORALITY_PREF_LOWMEMORY, OTEL_INSTRUMENT_UPDOWN_COUNTER),
        OTEL_TEMPORALITY_CUMULATIVE);
    assert_int_equal(
        otel_temporality_for(OTEL_TEMPORALITY_PREF_LOWMEMORY, OTEL_INSTRUMENT_HISTOGRAM),
        OTEL_TEMPORALITY_DELTA);
}

/* data-model.md "Temporality": two collections of each kind. */
static void test_otel_metrics_collect_cumulative_vs_delta(void **state)
{
    (void)state;
    fake_now = 100;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    otel_updown_counter *u;
    otel_histogram *h;
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &u, "u", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(m, &h, "h", NULL, "s", NULL, 0), OTEL_OK);
    otel_kv x[] = {OTEL_KV_STR("k", "x")}, y[] = {OTEL_KV_STR("k", "y")};
    otel_counter_add(c, 5, x, 1);
    otel_counter_add(c, 7, y, 1);
    otel_updown_counter_add(u, 3, x, 1);
    otel_updown_counter_add(u, -1, x, 1);
    otel_histogram_record(h, 0.3, x, 1, NULL);
    otel_histogram_record(h, 4, x, 1, NULL);

    fake_now = 200;
    seen *s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    assert_int_equal(s->n, 3);
    assert_string_equal(s->m[0].name, "c"); /* creation order */
    assert_int_equal(s->m[0].temporality, OTEL_TEMPORALITY_CUMULATIVE);
    const seen_point *p = point(metric(s, "c"), "k=x");
    assert_int_equal(p->value, 5);
    assert_int_equal(p->start_ns, 100);
    assert_int_equal(p->time_ns, 200);
    assert_int_equal(point(metric(s, "u"), "k=x")->value, 2);
    assert_false(metric(s, "u")->monotonic);

    otel_counter_add(c, 1, x, 1);
    otel_histogram_record(h, 0.1, x, 1, NULL);
    otel_updown_counter_add(u, -5, x, 1);
    fake_now = 300;
    s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    p = point(metric(s, "c"), "k=x");
    assert_int_equal(p->value, 6);
    assert_int_equal(p->start_ns, 100);
    assert_int_equal(p->time_ns, 300);
    assert_int_equal(point(metric(s, "c"), "k=y")->value, 7);
    p = point(metric(s, "h"), "k=x");
    assert_int_equal(p->count, 3);
    assert_true(p->min == 0.1 && p->max == 4);
    assert_int_equal(point(metric(s, "u"), "k=x")->value, -3);

    /* Delta: what came since the previous delta collection (none yet: the
     * start), whatever cumulative collections came in between; the data
     * model's "Temporality": a delta stream starts where its previous point
     * ended. */
    otel_counter_add(c, 10, x, 1);
    otel_histogram_record(h, 0.02, x, 1, NULL);
    otel_updown_counter_add(u, 1, x, 1);
    fake_now = 400;
    s = collect(m, OTEL_TEMPORALITY_PREF_DELTA);
    const seen_metric *mc = metric(s, "c");
    assert_int_equal(mc->temporality, OTEL_TEMPORALITY_DELTA);
    assert_int_equal(mc->n, 2);
    p = point(mc, "k=x");
    assert_int_equal(p->value, 16);
    assert_int_equal(p->start_ns, 100);
    assert_int_equal(p->time_ns, 400);
    assert_int_equal(point(mc, "k=y")->value, 7);
    assert_int_equal(point(metric(s, "h"), "k=x")->count, 4);
    assert_int_equal(metric(s, "u")->temporality, OTEL_TEMPORALITY_CUMULATIVE);
    assert_int_equal(point(metric(s, "u"), "k=x")->value, -2);
    assert_int_equal(point(metric(s, "u"), "k=x")->start_ns, 100);

    /* The next delta: only its interval, from the previous delta's time. */
    otel_counter_add(c, 3, x, 1);
    otel_histogram_record(h, 0.02, x, 1, NULL);
    fake_now = 450;
    s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE); /* a scrape between */
    assert_int_equal(point(metric(s, "c"), "k=x")->value, 19);
    fake_now = 480;
    s = collect(m, OTEL_TEMPORALITY_PREF_DELTA);
    mc = metric(s, "c");
    assert_int_equal(mc->n, 1); /* k=y had nothing in the interval */
    assert_int_equal(mc->pts[0].value, 3);
    assert_int_equal(mc->pts[0].start_ns, 400);
    assert_int_equal(mc->pts[0].time_ns, 480);
    p = point(metric(s, "h"), "k=x");
    assert_int_equal(p->count, 1);
    assert_true(p->sum == 0.02 && p->min == 0.02 && p->max == 0.02);
    assert_int_equal(p->buckets[2], 1);

    fake_now = 500;
    s = collect(m, OTEL_TEMPORALITY_PREF_DELTA);
    assert_null(metric(s, "c")); /* nothing new */
    assert_null(metric(s, "h"));
    assert_non_null(metric(s, "u"));
    /* Cumulative again: the totals include what delta handed over. */
    s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    assert_int_equal(point(metric(s, "c"), "k=x")->value, 19);
    assert_int_equal(point(metric(s, "h"), "k=x")->count, 5);
    otel_metrics_del(m);
}

static void test_otel_metrics_collect_callback_error(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *a, *b;
    assert_int_equal(otel_counter_new(m, &a, "a", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_counter_new(m, &b, "b", NULL, NULL), OTEL_OK);
    otel_counter_add(a, 1, NULL, 0);
    otel_counter_add(b, 2, NULL, 0);
    static seen s;
    memset(&s, 0, sizeof(s));
    s.fail_with = OTEL_ERR_IO;
    assert_int_equal(otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_DELTA, keep, &s), OTEL_ERR_IO);
    assert_int_equal(s.n, 1); /* stopped after a */
    seen *t = collect(m, OTEL_TEMPORALITY_PREF_DELTA);
    assert_null(metric(t, "a")); /* handed over once */
    assert_int_equal(point(metric(t, "b"), "")->value, 2);
    assert_int_equal(otel_metrics_collect(NULL, OTEL_TEMPORALITY_PREF_DELTA, keep, &s),
                     OTEL_ERR_INVALID);
    otel_metrics_del(m);
}

/* ---- threads ---------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 20000

typedef struct worker {
    otel_counter *c;
    otel_histogram *h;
    int id;
} worker;

static void *record_many(void *arg)
{
    worker *w = arg;
    otel_span_context sc = ctx((uint8_t)(w->id + 1), true);
    for (int i = 0; i < PER_THREAD; i++) {
        otel_kv a[] = {OTEL_KV_STR("http.request.method", (i & 1) ? "GET" : "POST"),
                       OTEL_KV_INT("http.response.status_code", 200 + i % 3)};
        otel_counter_add(w->c, 1, a, 2);
        otel_histogram_record(w->h, (double)(i % 4) * 0.25, a, 2, (i % 100) == 0 ? &sc : NULL);
    }
    return NULL;
}

static uint64_t sum_counter(const seen_metric *md)
{
    uint64_t t = 0;
    for (size_t i = 0; md != NULL && i < md->n; i++)
        t += (uint64_t)md->pts[i].value;
    return t;
}

static uint64_t sum_count(const seen_metric *md, double *sum)
{
    uint64_t t = 0;
    for (size_t i = 0; md != NULL && i < md->n; i++) {
        uint64_t b = 0;
        for (size_t k = 0; k < md->pts[i].n_buckets; k++)
            b += md->pts[i].buckets[k];
        assert_int_equal(b, md->pts[i].count);
        t += md->pts[i].count;
        *sum += md->pts[i].sum;
    }
    return t;
}

/* Exact totals after join. */
static void test_otel_metrics_record_threads_exact(void **state)
{
    (void)state;
    otel_clock_set(NULL, NULL);
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    worker w[THREADS];
    otel_counter *c;
    otel_histogram *h;
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(m, &h, "h", NULL, NULL, NULL, 0), OTEL_OK);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){c, h, i};
        assert_int_equal(pthread_create(&th[i], NULL, record_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    seen *s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    assert_int_equal(metric(s, "c")->n, 6);
    assert_int_equal(sum_counter(metric(s, "c")), THREADS * PER_THREAD);
    double sum = 0;
    assert_int_equal(sum_count(metric(s, "h"), &sum), THREADS * PER_THREAD);
    assert_true(sum == THREADS * (PER_THREAD / 4) * (0 + 0.25 + 0.5 + 0.75));
    /* "GET" 200..202 for odd i: each point count exact. */
    const seen_point *p =
        point(metric(s, "h"), "http.request.method=GET,http.response.status_code=201");
    assert_non_null(p);
    size_t want = 0;
    for (int i = 0; i < PER_THREAD; i++)
        want += (i & 1) && 200 + i % 3 == 201;
    assert_int_equal(p->count, want * THREADS);
    otel_metrics_del(m);
}

typedef struct collector_arg {
    otel_metrics *m;
    _Atomic int *stop;
    uint64_t counted, hcount;
    double hsum;
    int rounds;
} collector_arg;

static int sum_delta(void *ud, const otel_metric_data *md)
{
    collector_arg *a = ud;
    for (size_t i = 0; i < md->n_points; i++) {
        if (md->kind == OTEL_INSTRUMENT_COUNTER) {
            a->counted += (uint64_t)md->points[i].value;
        } else {
            uint64_t b = 0;
            for (size_t k = 0; k < md->points[i].n_bucket_counts; k++)
                b += md->points[i].bucket_counts[k];
            if (b != md->points[i].count)
                return OTEL_ERR_STATE; /* a torn point */
            a->hcount += md->points[i].count;
            a->hsum += md->points[i].sum;
        }
    }
    return OTEL_OK;
}

static void *collect_loop(void *arg)
{
    collector_arg *a = arg;
    while (!atomic_load(a->stop)) {
        if (otel_metrics_collect(a->m, OTEL_TEMPORALITY_PREF_DELTA, sum_delta, a) != OTEL_OK)
            return (void *)1;
        a->rounds++;
    }
    return NULL;
}

/* Delta collections while threads record: the deltas and a last one add up
 * to the exact totals, each point consistent (its buckets sum to its
 * count): nothing lost, nothing twice. */
static void test_otel_metrics_collect_delta_concurrent(void **state)
{
    (void)state;
    otel_clock_set(NULL, NULL);
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    otel_histogram *h;
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_histogram_new(m, &h, "h", NULL, NULL, NULL, 0), OTEL_OK);
    _Atomic int stop = 0;
    collector_arg ca = {.m = m, .stop = &stop};
    pthread_t col, th[THREADS];
    worker w[THREADS];
    assert_int_equal(pthread_create(&col, NULL, collect_loop, &ca), 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){c, h, i};
        assert_int_equal(pthread_create(&th[i], NULL, record_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&stop, 1);
    void *ret;
    pthread_join(col, &ret);
    assert_null(ret);
    assert_int_equal(otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_DELTA, sum_delta, &ca), OTEL_OK);
    assert_int_equal(ca.counted, THREADS * PER_THREAD);
    assert_int_equal(ca.hcount, THREADS * PER_THREAD);
    assert_true(ca.hsum == THREADS * (PER_THREAD / 4) * 1.5);
    print_message("delta collections during the records: %d\n", ca.rounds);
    otel_metrics_del(m);
}

/* ---- allocation ----------------------------------------------------------- */

/* sdk.md: after the first measurement of a set, recording allocates
 * nothing: with every allocation failing, the sets already there still get
 * their measurements (a new set, which would allocate, goes to overflow). */
static void test_otel_histogram_record_steady_state_no_allocation(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_histogram *h;
    otel_counter *c;
    otel_updown_counter *u;
    assert_int_equal(otel_histogram_new(m, &h, "h", NULL, NULL, NULL, 0), OTEL_OK);
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &u, "u", NULL, NULL), OTEL_OK);
    otel_kv a[] = {OTEL_KV_STR("http.request.method", "GET"),
                   OTEL_KV_STR("url.scheme", "http"),
                   OTEL_KV_STR("http.route", "/hello/{name}"),
                   OTEL_KV_STR("network.protocol.version", "1.1"),
                   OTEL_KV_INT("http.response.status_code", 200),
                   OTEL_KV_STR("error.type", "timeout")};
    otel_span_context sc = ctx(7, true);
    otel_histogram_record(h, 0.01, a, 6, &sc);
    otel_counter_add(c, 1, a, 6);
    otel_updown_counter_add(u, 1, a, 6);
    otel_alloc_fail_after(0);
    for (int i = 0; i < 1000; i++) {
        otel_kv b[] = {a[5], a[4], a[3], a[2], a[1], a[0]};
        otel_histogram_record(h, 0.01 * i, i % 2 ? a : b, 6, &sc);
        otel_counter_add(c, 1, a, 6);
        otel_updown_counter_add(u, -1, b, 6);
    }
    otel_alloc_fail_after(-1);
    seen *s = collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->m[i].n, 1); /* no overflow point: nothing allocated */
    assert_int_equal(metric(s, "h")->pts[0].count, 1001);
    assert_int_equal(metric(s, "c")->pts[0].value, 1001);
    assert_int_equal(metric(s, "u")->pts[0].value, -999);
    otel_metrics_del(m);
}

/* test_failmalloc.c's way: the n-th allocation fails, for every n. */
static void test_otel_metrics_new_out_of_memory(void **state)
{
    (void)state;
    long n;
    for (n = 0; n < 1000; n++) {
        otel_alloc_fail_after(n);
        otel_metrics *m = NULL;
        int rc = otel_metrics_new(&m, 0);
        otel_histogram *h = NULL;
        otel_counter *c = NULL;
        if (rc == OTEL_OK)
            rc = otel_histogram_new(m, &h, "h", "desc", "s", NULL, 0);
        if (rc == OTEL_OK)
            rc = otel_counter_new(m, &c, "c", "desc", "1");
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            otel_metrics_del(m);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        if (m != NULL) { /* the provider stays usable */
            assert_int_equal(otel_histogram_new(m, &h, "h", "desc", "s", NULL, 0), OTEL_OK);
            otel_histogram_record(h, 1, NULL, 0, NULL);
            otel_metrics_del(m);
        }
    }
    assert_true(n > 3 && n < 1000);
    print_message("allocation points: %ld\n", n);
}

/* Allocation failing in records and collections: never a crash, the sets
 * interned before keep their measurements, a set that cannot be made goes
 * to the overflow point, and a collection that fails loses nothing. */
static void test_otel_metrics_record_out_of_memory(void **state)
{
    (void)state;
    for (long n = 0; n < 12; n++) {
        otel_metrics *m;
        assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
        otel_histogram *h;
        assert_int_equal(otel_histogram_new(m, &h, "h", NULL, NULL, NULL, 0), OTEL_OK);
        otel_kv a[] = {OTEL_KV_STR("k", "a")}, b[] = {OTEL_KV_STR("k", "b")};
        otel_histogram_record(h, 1, a, 1, NULL);
        otel_alloc_fail_after(n);
        otel_histogram_record(h, 2, b, 1, NULL); /* needs allocations */
        otel_histogram_record(h, 3, a, 1, NULL);
        static seen s;
        memset(&s, 0, sizeof(s));
        int rc = otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_DELTA, keep, &s);
        otel_alloc_fail_after(-1);
        assert_true(rc == OTEL_OK || rc == OTEL_ERR_NOMEM);
        uint64_t total = 0;
        if (rc == OTEL_OK) {
            const seen_metric *md = metric(&s, "h");
            for (size_t i = 0; i < md->n; i++)
                total += md->pts[i].count;
            assert_int_equal(point(md, "k=a")->count, 2);
            assert_true(point(md, "k=b") != NULL || point(md, "otel.metric.overflow=true") != NULL);
        }
        seen *t = collect(m, OTEL_TEMPORALITY_PREF_DELTA);
        const seen_metric *md = metric(t, "h");
        for (size_t i = 0; md != NULL && i < md->n; i++)
            total += md->pts[i].count;
        assert_int_equal(total, 3);
        if (rc != OTEL_OK)
            assert_int_equal(point(md, "k=a")->count, 2);
        otel_metrics_del(m);
    }
}

/* ---- fork ----------------------------------------------------------------- */

/* The child starts from zero; the parent keeps what it recorded. */
static void test_otel_metrics_fork_child_starts_from_zero(void **state)
{
    (void)state;
    otel_metrics *m;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c;
    assert_int_equal(otel_counter_new(m, &c, "c", NULL, NULL), OTEL_OK);
    otel_kv a[] = {OTEL_KV_STR("k", "a")};
    otel_counter_add(c, 5, a, 1);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        static seen s;
        if (otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE, keep, &s) != OTEL_OK ||
            s.n != 0)
            _exit(1);
        otel_counter_add(c, 2, a, 1);
        memset(&s, 0, sizeof(s));
        if (otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE, keep, &s) != OTEL_OK ||
            s.n != 1 || s.m[0].n != 1 || s.m[0].pts[0].value != 2)
            _exit(2);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    otel_counter_add(c, 1, a, 1);
    assert_int_equal(point(metric(collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE), "c"), "k=a")->value,
                     6);
    otel_metrics_del(m);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_otel_metrics_instrument_new_invalid),
        T(test_otel_metrics_instrument_new_duplicate),
        T(test_otel_http_duration_boundaries),
        T(test_otel_histogram_record_bucket_boundaries),
        T(test_otel_histogram_record_sum_count_min_max),
        T(test_otel_histogram_record_invalid_values_dropped),
        T(test_otel_histogram_bind_same_point),
        T(test_otel_point_lasting),
        T(test_otel_sum_point_add),
        T(test_otel_histogram_record_exemplars),
        T(test_otel_counter_add_attr_order_same_set),
        T(test_otel_counter_add_invalid_attrs_dropped),
        T(test_otel_counter_add_cardinality_overflow),
        T(test_otel_temporality_pref_from_name),
        T(test_otel_metrics_collect_cumulative_vs_delta),
        T(test_otel_metrics_collect_callback_error),
        T(test_otel_metrics_record_threads_exact),
        T(test_otel_metrics_collect_delta_concurrent),
        T(test_otel_histogram_record_steady_state_no_allocation),
        T(test_otel_metrics_new_out_of_memory),
        T(test_otel_metrics_record_out_of_memory),
        T(test_otel_metrics_fork_child_starts_from_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
