/* test_keep.c - unit tests for core/keep.c (record-only trees: held by their
 * local root, exported when kept, else released), through a real tracer and
 * a recording exporter.
 *
 * The rules checked come from the OpenTelemetry Specification, Tracing SDK
 * (specification/trace/sdk.md): "Sampling" (IsRecording and the Sampled
 * flag, the "Recording Sampled reaction table") and "ShouldSample", whose
 * RECORD_ONLY decision has "IsRecording ... true, but the Sampled flag MUST
 * NOT be set". A kept tree is the one place where spans without the Sampled
 * flag reach an exporter, which the table says SHOULD NOT happen: the keep
 * decision is that exception, taken at the end of the request. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <mhd-otel/otel.h>
#include "../../core/span_int.h"
#include "../../core/tracer_int.h"

#define SEC 1000000000ULL
#define MAX_GOT 64
#define RACE_ROUNDS 200
#define RACE_CHILDREN 4

/* What the exporter was given of one span. */
typedef struct got {
    char name[32];
    otel_span_context ctx;
    uint8_t parent[8];
    bool has_parent;
    bool parent_is_remote;
    char kept[16]; /* mhd_otel.kept, "" when absent */
    char k[16];    /* attribute k, "" when absent */
} got;

/* The spans exported (the first MAX_GOT of them kept) and their number. */
typedef struct recorder {
    got v[MAX_GOT];
    size_t n;
} recorder;

static recorder rec, rec2;
static otel_tracer *cur_t;

static void copy_attr(char *dst, size_t cap, const otel_span_data *d, const char *key)
{
    dst[0] = '\0';
    for (uint16_t i = 0; i < d->n_attrs; i++)
        if (strcmp(d->attrs[i].key, key) == 0 && d->attrs[i].type == OTEL_ATTR_STRING)
            snprintf(dst, cap, "%s", d->attrs[i].v.s.ptr);
}

static int record_export(void *user_data, const otel_span_data *const *spans, size_t n,
                         uint64_t deadline_ns)
{
    (void)deadline_ns;
    recorder *r = user_data;
    for (size_t i = 0; i < n; i++, r->n++) {
        if (r->n >= MAX_GOT)
            continue;
        const otel_span_data *d = spans[i];
        got *g = &r->v[r->n];
        snprintf(g->name, sizeof(g->name), "%s", d->name);
        g->ctx = d->ctx;
        memcpy(g->parent, d->parent_span_id, 8);
        g->has_parent = d->has_parent;
        g->parent_is_remote = d->parent_is_remote;
        copy_attr(g->kept, sizeof(g->kept), d, "mhd_otel.kept");
        copy_attr(g->k, sizeof(g->k), d, "k");
    }
    return OTEL_OK;
}

static void add_recorder(otel_tracer *t, recorder *r, const char *name)
{
    otel_exporter *e = NULL;
    assert_int_equal(otel_exporter_new(&e, name, record_export, r), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(t, e), OTEL_OK);
}

/* A tracer (its worker not started: a flush exports in the caller's
 * thread) with sampler kind at ratio 0 and, when record_unsampled, the keep
 * decision holding max_spans spans per tree. */
static otel_tracer *tracer_cfg(otel_sampler_kind kind, bool record_unsampled, size_t max_spans,
                               size_t max_queue)
{
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    assert_int_equal(otel_sampler_init(&cfg.sampler, kind, 0.0), OTEL_OK);
    cfg.record_unsampled = record_unsampled;
    cfg.keep_max_spans = max_spans;
    if (max_queue != 0)
        cfg.max_queue_size = cfg.max_export_batch_size = max_queue;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "test-keep"), OTEL_OK);
    assert_int_equal(otel_tracer_new(&cur_t, &cfg, r), OTEL_OK);
    add_recorder(cur_t, &rec, "recorder");
    return cur_t;
}

/* Head sampling at ratio 0, every span record-only, trees of up to 64. */
static otel_tracer *keep_tracer(void)
{
    return tracer_cfg(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, true, 64, 0);
}

static void flush(void)
{
    assert_int_equal(otel_tracer_force_flush(cur_t, 2 * SEC), OTEL_OK);
}

static otel_stats stats(void)
{
    otel_stats st;
    otel_tracer_stats(cur_t, &st);
    return st;
}

/* For each exporter: ended = exported + dropped + failed + rejected + queued
 * (the invariant otel.h states for otel_stats). */
static void assert_balanced(void)
{
    for (size_t i = 0; i < otel_tracer_exporter_count(cur_t); i++) {
        otel_stats st;
        assert_int_equal(otel_tracer_exporter_stats(cur_t, i, &st, NULL), OTEL_OK);
        assert_int_equal(st.ended, st.exported + st.dropped + st.failed + st.rejected + st.queued);
    }
}

/* The tracer's counters: ended (summed over the exporters) and the keep
 * counters are these, and each exporter's balance. */
static void assert_counts(uint64_t ended, uint64_t kept_error, uint64_t kept_slow,
                          uint64_t released, uint64_t overflow, uint64_t late)
{
    otel_stats st = stats();
    assert_int_equal(st.ended, ended);
    assert_int_equal(st.kept_error, kept_error);
    assert_int_equal(st.kept_slow, kept_slow);
    assert_int_equal(st.keep_released, released);
    assert_int_equal(st.keep_overflow, overflow);
    assert_int_equal(st.keep_late, late);
    assert_balanced();
}

static const got *find(const recorder *r, const char *name)
{
    for (size_t i = 0; i < r->n && i < MAX_GOT; i++)
        if (strcmp(r->v[i].name, name) == 0)
            return &r->v[i];
    fail_msg("span %s was not exported", name);
    return NULL;
}

/* A child of the current span, named name, with attribute k = name. */
static otel_span *child(const char *name)
{
    otel_span *c = otel_span_start_child(name, OTEL_SPAN_KIND_INTERNAL);
    assert_non_null(c);
    otel_span_set_attr_str(c, "k", name);
    return c;
}

/* A record-only root with n children c0, c1, ... ended under it; the root
 * is not current afterwards. */
static otel_span *tree(size_t n)
{
    otel_span *root = otel_span_start(cur_t, "root", NULL);
    assert_non_null(root);
    otel_context_attach(root);
    for (size_t i = 0; i < n; i++) {
        char name[24];
        snprintf(name, sizeof(name), "c%zu", i);
        otel_span_end(child(name));
    }
    otel_context_detach(NULL);
    return root;
}

/* A record-only root and a child of it called name, not ended (*open). */
static otel_span *tree_open(otel_span **open, const char *name)
{
    otel_span *root = tree(0);
    otel_context_attach(root);
    *open = child(name);
    otel_context_detach(NULL);
    return root;
}

/* End span, kept for reason first (0: not kept), and export what is
 * queued. */
static void end_export(otel_span *span, otel_keep_reason reason)
{
    if (reason != 0)
        assert_int_equal(otel_span_keep(span, reason), OTEL_OK);
    otel_span_end(span);
    flush();
}

static int setup(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    memset(&rec2, 0, sizeof(rec2));
    cur_t = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_context_detach(NULL);
    otel_tracer_del(cur_t);
    cur_t = NULL;
    return 0;
}

/* ---- the decision at start ---------------------------------------------- */

static void test_otel_tracer_config_default_keep_off(void **state)
{
    (void)state;
    otel_tracer_config cfg;
    memset(&cfg, 0xff, sizeof(cfg));
    otel_tracer_config_default(&cfg);
    assert_false(cfg.record_unsampled);
    assert_int_equal(cfg.keep_max_spans, 64);
}

/* sdk.md, "ShouldSample": RECORD_ONLY - IsRecording true, Sampled flag not
 * set. A tree that is not kept reaches no exporter ("Recording Sampled
 * reaction table": true/false, the exporter receives nothing). */
static void test_otel_span_start_record_only(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *root = otel_span_start(cur_t, "root", NULL);
    assert_true(otel_span_is_recording(root));
    assert_false(otel_span_is_sampled(root));
    otel_span_context sc = otel_span_get_context(root);
    assert_int_equal(sc.trace_flags, 0);
    otel_context_attach(root);
    otel_span *c = child("c");
    assert_true(otel_span_is_recording(c));
    assert_false(otel_span_is_sampled(c));
    assert_int_equal(otel_span_get_context(c).trace_flags, 0);
    otel_span_end(c);
    otel_context_detach(NULL);
    end_export(root, 0);
    assert_int_equal(rec.n, 0);
    assert_counts(0, 0, 0, 1, 0, 0);
}

/* Without record_unsampled the sampler's "no" stays DROP. */
static void test_otel_span_start_record_only_off(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, false, 64, 0);
    otel_span *s = otel_span_start(cur_t, "dropped", NULL);
    assert_false(otel_span_is_recording(s));
    assert_false(otel_span_is_sampled(s));
    assert_int_equal(otel_span_keep(s, OTEL_KEEP_ERROR), OTEL_ERR_STATE);
    end_export(s, 0);
    assert_int_equal(rec.n, 0);
    assert_counts(0, 0, 0, 0, 0, 0);
}

/* Sampled spans are unchanged by record_unsampled: exported as they end,
 * no mhd_otel.kept, no keep counters. */
static void test_otel_span_start_sampled_unchanged(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, true, 64, 0);
    otel_span *root = otel_span_start(cur_t, "root", NULL);
    assert_true(otel_span_is_sampled(root));
    assert_int_equal(otel_span_keep(root, OTEL_KEEP_ERROR), OTEL_ERR_STATE);
    otel_context_attach(root);
    otel_span *c = child("c");
    assert_true(otel_span_is_sampled(c));
    otel_span_end(c);
    assert_int_equal(stats().ended, 1); /* at its own end, not its root's */
    otel_context_detach(NULL);
    end_export(root, 0);
    assert_int_equal(rec.n, 2);
    assert_string_equal(find(&rec, "root")->kept, "");
    assert_int_equal(find(&rec, "root")->ctx.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_counts(2, 0, 0, 0, 0, 0);
}

/* sdk.md, "ParentBased": a remote parent without the Sampled flag gets
 * remoteParentNotSampled (AlwaysOff, DROP); with record_unsampled that "no"
 * becomes RECORD_ONLY, and the span is the local root of its tree. */
static void test_otel_span_start_remote_unsampled_parent(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, true, 64, 0);
    otel_span_context rp;
    memset(&rp, 0, sizeof(rp));
    otel_trace_id_new(rp.trace_id);
    otel_span_id_new(rp.span_id);
    rp.is_remote = true;
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .parent = &rp};
    otel_span *root = otel_span_start(cur_t, "server", &opt);
    assert_true(otel_span_is_recording(root));
    assert_false(otel_span_is_sampled(root));
    otel_context_attach(root);
    otel_span *c = child("c");
    assert_int_equal(otel_span_keep(c, OTEL_KEEP_ERROR), OTEL_ERR_STATE); /* not a root */
    otel_span_end(c);
    otel_context_detach(NULL);
    assert_int_equal(otel_span_keep(root, OTEL_KEEP_ERROR), OTEL_OK);
    end_export(root, 0);
    assert_int_equal(rec.n, 2);
    const got *s = find(&rec, "server");
    assert_memory_equal(s->ctx.trace_id, rp.trace_id, 16);
    assert_memory_equal(s->parent, rp.span_id, 8);
    assert_true(s->parent_is_remote);
    assert_int_equal(s->ctx.trace_flags, 0);
    assert_memory_equal(find(&rec, "c")->parent, s->ctx.span_id, 8);
    assert_counts(2, 1, 0, 0, 0, 0);
}

/* A span started with an explicit parent context (not the current span) has
 * no local parent to be held by: it is the root of a tree of its own. */
static void test_otel_span_start_explicit_parent_own_tree(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *root = otel_span_start(cur_t, "root", NULL);
    otel_span_context sc = otel_span_get_context(root);
    otel_span_options opt = {.parent = &sc};
    otel_span *other = otel_span_start(cur_t, "other", &opt);
    assert_int_equal(otel_span_keep(other, OTEL_KEEP_SLOW), OTEL_OK);
    otel_span_end(other);
    end_export(root, 0);
    assert_int_equal(rec.n, 1);
    assert_memory_equal(find(&rec, "other")->parent, sc.span_id, 8);
    assert_counts(1, 0, 1, 1, 0, 0);
}

/* ---- keep --------------------------------------------------------------- */

/* root > a > b, root > c: kept, the whole tree is exported as the root
 * ends, trace flags unsampled, mhd_otel.kept on the root only. */
static void test_otel_span_keep_exports_tree(void **state)
{
    (void)state;
    keep_tracer();
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER};
    otel_span *root = otel_span_start(cur_t, "root", &opt);
    otel_context_attach(root);
    otel_span *a = child("a");
    otel_context_attach(a);
    otel_span_end(child("b"));
    otel_context_attach(root);
    otel_span_end(a);
    otel_span_end(child("c"));
    otel_context_detach(NULL);
    assert_int_equal(stats().ended, 0); /* held by the root */
    assert_int_equal(otel_span_keep(root, OTEL_KEEP_ERROR), OTEL_OK);
    assert_true(otel_span_is_recording(root));
    end_export(root, 0);

    assert_int_equal(rec.n, 4);
    const got *r = find(&rec, "root"), *ga = find(&rec, "a"), *gb = find(&rec, "b");
    const got *gc = find(&rec, "c");
    assert_string_equal(r->kept, "error");
    assert_false(r->has_parent);
    for (size_t i = 0; i < rec.n; i++) {
        assert_int_equal(rec.v[i].ctx.trace_flags, 0);
        assert_memory_equal(rec.v[i].ctx.trace_id, r->ctx.trace_id, 16);
        if (&rec.v[i] != r)
            assert_string_equal(rec.v[i].kept, "");
    }
    assert_memory_equal(ga->parent, r->ctx.span_id, 8);
    assert_memory_equal(gb->parent, ga->ctx.span_id, 8);
    assert_memory_equal(gc->parent, r->ctx.span_id, 8);
    assert_string_equal(gb->k, "b"); /* the children recorded */
    assert_counts(4, 1, 0, 0, 0, 0);
    assert_int_equal(stats().exported, 4);
}

/* A later call replaces the reason; the tree is counted once, by it. */
static void test_otel_span_keep_reason_replaced(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *root = tree(0);
    assert_int_equal(otel_span_keep(root, OTEL_KEEP_ERROR), OTEL_OK);
    end_export(root, OTEL_KEEP_SLOW);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.v[0].kept, "slow");
    assert_counts(1, 0, 1, 0, 0, 0);
}

static void test_otel_span_keep_invalid(void **state)
{
    (void)state;
    keep_tracer();
    assert_int_equal(otel_span_keep(NULL, OTEL_KEEP_ERROR), OTEL_ERR_INVALID);
    otel_span *root = tree(0);
    assert_int_equal(otel_span_keep(root, (otel_keep_reason)0), OTEL_ERR_INVALID);
    assert_int_equal(otel_span_keep(root, (otel_keep_reason)3), OTEL_ERR_INVALID);
    end_export(root, 0);
    assert_int_equal(rec.n, 0);
    assert_false(otel_span_is_sampled(NULL));
}

/* ---- release, the cap, late children ------------------------------------ */

/* Trees that are not kept go back to the pool whole: no allocation in the
 * steady state. */
static void test_otel_span_keep_released_no_allocation(void **state)
{
    (void)state;
    keep_tracer();
    uint64_t allocated = 0;
    for (int i = 0; i < 100; i++) {
        otel_span *root = otel_span_start(cur_t, "root", NULL);
        otel_context_attach(root);
        otel_span *a = child("a");
        otel_context_attach(a);
        otel_span_end(child("b"));
        otel_context_attach(root);
        otel_span_end(a);
        otel_context_detach(NULL);
        otel_span_end(root);
        if (i == 0)
            allocated = otel_tracer_spans_allocated(cur_t);
    }
    assert_int_equal(otel_tracer_spans_allocated(cur_t), allocated);
    flush();
    assert_int_equal(rec.n, 0);
    assert_counts(0, 0, 0, 100, 0, 0);
}

/* A root holds keep_max_spans children; the ones beyond are released and
 * counted in keep_overflow. */
static void test_otel_span_keep_cap(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, true, 2, 0);
    end_export(tree(5), OTEL_KEEP_SLOW);
    assert_int_equal(rec.n, 3); /* the first two children ended, and the root */
    find(&rec, "c0");
    find(&rec, "c1");
    find(&rec, "root");
    assert_counts(3, 0, 1, 0, 3, 0);
}

/* keep_max_spans 0: only the root itself is kept. */
static void test_otel_span_keep_cap_zero(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, true, 0, 0);
    end_export(tree(1), OTEL_KEEP_ERROR);
    assert_int_equal(rec.n, 1);
    assert_counts(1, 1, 0, 0, 1, 0);
}

/* A child that ends after its root is released and counted in keep_late. */
static void test_otel_span_keep_late_child(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *c;
    otel_span *root = tree_open(&c, "late");
    end_export(root, OTEL_KEEP_ERROR); /* exported and let go by the exporter */
    assert_int_equal(rec.n, 1);
    otel_context_attach(c); /* its root is gone, c still starts children */
    otel_span *g = child("grandchild");
    otel_context_detach(NULL);
    otel_span_end(g);
    end_export(c, 0);
    assert_int_equal(rec.n, 1);
    assert_counts(1, 1, 0, 0, 0, 2);
}

/* The pool reuses span objects: a root stays out of it while a child can
 * still reach it, and goes back with its last child. */
static void test_otel_span_keep_root_not_reused_under_child(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *c;
    otel_span *root = tree_open(&c, "c");
    otel_span_end(root); /* released, not kept: c still points at it */
    for (int i = 0; i < 8; i++) {
        otel_span *s = otel_span_start(cur_t, "other", NULL);
        assert_ptr_not_equal(s, root);
        otel_span_end(s);
    }
    otel_span_end(c); /* late: c, then the root, back to the pool */
    otel_span *again = otel_span_start(cur_t, "again", NULL);
    assert_ptr_equal(again, root); /* the pool is LIFO: the guard above is what kept it out */
    otel_span_end(again);
    assert_counts(0, 0, 0, 10, 0, 1);
}

/* ---- threads ------------------------------------------------------------ */

/* A child handed to another thread: it starts a grandchild there (as its
 * current span), ends both, after waiting at the barrier when there is
 * one. */
typedef struct handoff {
    otel_span *span;
    pthread_barrier_t *start;
    pthread_t thread;
} handoff;

static void *end_on_thread(void *arg)
{
    handoff *h = arg;
    if (h->start != NULL)
        pthread_barrier_wait(h->start);
    otel_context_attach(h->span);
    otel_span *g = otel_span_start_child("grandchild", OTEL_SPAN_KIND_INTERNAL);
    otel_span_set_attr_str(g, "k", "g");
    otel_context_detach(NULL);
    otel_span_end(g);
    otel_span_end(h->span);
    return NULL;
}

/* Children ended on other threads before the root ends are all kept. */
static void test_otel_span_keep_children_end_on_threads(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *root = otel_span_start(cur_t, "root", NULL);
    otel_context_attach(root);
    handoff h[RACE_CHILDREN];
    for (size_t i = 0; i < RACE_CHILDREN; i++) {
        h[i] = (handoff){.span = child("c")};
        assert_int_equal(pthread_create(&h[i].thread, NULL, end_on_thread, &h[i]), 0);
    }
    otel_context_detach(NULL);
    for (size_t i = 0; i < RACE_CHILDREN; i++)
        pthread_join(h[i].thread, NULL);
    end_export(root, OTEL_KEEP_ERROR);
    assert_int_equal(rec.n, 1 + 2 * RACE_CHILDREN);
    assert_counts(1 + 2 * RACE_CHILDREN, 1, 0, 0, 0, 0);
}

/* Children end on other threads while the root ends: each is either held
 * (and exported with the tree) or late, never both, never lost; TSan checks
 * the list and the references. */
static void test_otel_span_keep_root_ends_while_children_end(void **state)
{
    (void)state;
    keep_tracer();
    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, RACE_CHILDREN + 1), 0);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        otel_span *root = otel_span_start(cur_t, "root", NULL);
        otel_context_attach(root);
        handoff h[RACE_CHILDREN];
        for (size_t i = 0; i < RACE_CHILDREN; i++) {
            h[i] = (handoff){.span = child("c"), .start = &start};
            assert_int_equal(pthread_create(&h[i].thread, NULL, end_on_thread, &h[i]), 0);
        }
        otel_context_detach(NULL);
        otel_span_keep(root, OTEL_KEEP_ERROR);
        pthread_barrier_wait(&start);
        otel_span_end(root);
        for (size_t i = 0; i < RACE_CHILDREN; i++)
            pthread_join(h[i].thread, NULL);
        flush();
    }
    pthread_barrier_destroy(&start);
    otel_stats st = stats();
    assert_int_equal(st.kept_error, RACE_ROUNDS);
    /* every span is exported (the roots, the children held) or late */
    assert_int_equal(st.ended, rec.n);
    assert_int_equal(st.ended + st.keep_late, RACE_ROUNDS * (1 + 2 * RACE_CHILDREN));
    assert_balanced();
}

/* ---- pipelines and counters --------------------------------------------- */

/* Two exporters: a kept tree goes to both, each span released once both
 * let go of it; the keep counters are the tracer's, in each exporter's. */
static void test_otel_span_keep_two_exporters(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_TRACEIDRATIO, true, 64, 0);
    add_recorder(cur_t, &rec2, "two");
    uint64_t allocated = 0;
    for (int i = 0; i < 50; i++) {
        end_export(tree(1), i % 2 == 0 ? OTEL_KEEP_SLOW : 0);
        if (i == 0)
            allocated = otel_tracer_spans_allocated(cur_t);
    }
    assert_int_equal(otel_tracer_spans_allocated(cur_t), allocated);
    assert_int_equal(rec.n, 50);
    assert_int_equal(rec2.n, 50);
    assert_counts(100, 0, 25, 25, 0, 0); /* ended: summed over the exporters */
    for (size_t i = 0; i < 2; i++) {
        otel_stats e;
        const char *name;
        assert_int_equal(otel_tracer_exporter_stats(cur_t, i, &e, &name), OTEL_OK);
        assert_int_equal(e.ended, 50);
        assert_int_equal(e.kept_slow, 25);
        assert_int_equal(e.keep_released, 25);
    }
    assert_balanced();
}

/* A kept tree larger than the queue: the spans that do not fit are dropped
 * and counted like any, and the counters still balance. */
static void test_otel_span_keep_full_queue(void **state)
{
    (void)state;
    tracer_cfg(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, true, 64, 2);
    end_export(tree(3), OTEL_KEEP_ERROR);
    assert_counts(4, 1, 0, 0, 0, 0);
    assert_int_equal(stats().exported, 2);
    assert_int_equal(stats().dropped, 2);
    assert_int_equal(rec.n, 2);
}

/* A kept tree ending after shutdown is dropped and counted. */
static void test_otel_span_keep_after_shutdown(void **state)
{
    (void)state;
    keep_tracer();
    otel_span *root = tree(1);
    assert_int_equal(otel_tracer_shutdown(cur_t), OTEL_OK);
    otel_span_keep(root, OTEL_KEEP_ERROR);
    otel_span_end(root);
    assert_counts(2, 1, 0, 0, 0, 0);
    assert_int_equal(stats().dropped, 2);
    assert_int_equal(rec.n, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_tracer_config_default_keep_off),
        T(test_otel_span_start_record_only),
        T(test_otel_span_start_record_only_off),
        T(test_otel_span_start_sampled_unchanged),
        T(test_otel_span_start_remote_unsampled_parent),
        T(test_otel_span_start_explicit_parent_own_tree),
        T(test_otel_span_keep_exports_tree),
        T(test_otel_span_keep_reason_replaced),
        T(test_otel_span_keep_invalid),
        T(test_otel_span_keep_released_no_allocation),
        T(test_otel_span_keep_cap),
        T(test_otel_span_keep_cap_zero),
        T(test_otel_span_keep_late_child),
        T(test_otel_span_keep_root_not_reused_under_child),
        T(test_otel_span_keep_children_end_on_threads),
        T(test_otel_span_keep_root_ends_while_children_end),
        T(test_otel_span_keep_two_exporters),
        T(test_otel_span_keep_full_queue),
        T(test_otel_span_keep_after_shutdown),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
