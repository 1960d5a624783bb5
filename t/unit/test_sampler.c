/* test_sampler.c - unit tests for core/sampler.c (always, trace-id ratio and
 * parent-based samplers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/otel.h>

static const struct {
    const char *name;
    otel_sampler_kind kind;
} names[] = {
    {"always_on", OTEL_SAMPLER_ALWAYS_ON},
    {"always_off", OTEL_SAMPLER_ALWAYS_OFF},
    {"traceidratio", OTEL_SAMPLER_TRACEIDRATIO},
    {"parentbased_always_on", OTEL_SAMPLER_PARENTBASED_ALWAYS_ON},
    {"parentbased_always_off", OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF},
    {"parentbased_traceidratio", OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO},
};

#define N_NAMES (sizeof(names) / sizeof(names[0]))

static otel_sampler make(otel_sampler_kind kind, double ratio)
{
    otel_sampler s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(otel_sampler_init(&s, kind, ratio), OTEL_OK);
    return s;
}

static otel_span_context parent_ctx(bool remote, bool sampled)
{
    otel_span_context p;
    memset(&p, 0, sizeof(p));
    otel_trace_id_new(p.trace_id);
    otel_span_id_new(p.span_id);
    p.trace_flags = sampled ? OTEL_TRACE_FLAG_SAMPLED : 0;
    p.is_remote = remote;
    return p;
}

/* A trace id whose rightmost 7 bytes (the random part) are all r. */
static void fixed_id(uint8_t id[16], uint8_t r)
{
    memset(id, 0x5a, 9);
    memset(id + 9, r, 7);
}

static void test_otel_sampler_kind_from_name_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_NAMES; i++) {
        otel_sampler_kind k = (otel_sampler_kind)-1;
        assert_int_equal(otel_sampler_kind_from_name(names[i].name, &k), OTEL_OK);
        assert_int_equal(k, names[i].kind);
    }
}

static void test_otel_sampler_kind_name_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_NAMES; i++)
        assert_string_equal(otel_sampler_kind_name(names[i].kind), names[i].name);
    assert_string_equal(otel_sampler_kind_name((otel_sampler_kind)99), "unknown");
}

static void test_otel_sampler_kind_from_name_unknown(void **state)
{
    (void)state;
    const char *bad[] = {"",       "AlwaysOn",      "ALWAYS_ON",    "always_on ",
                         "always", "jaeger_remote", "parentbased_", "traceidratio=0.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        otel_sampler_kind k = OTEL_SAMPLER_ALWAYS_OFF;
        assert_int_equal(otel_sampler_kind_from_name(bad[i], &k), OTEL_ERR_INVALID);
        assert_int_equal(k, OTEL_SAMPLER_ALWAYS_OFF); /* untouched */
    }
    otel_sampler_kind k = OTEL_SAMPLER_ALWAYS_OFF;
    assert_int_equal(otel_sampler_kind_from_name(NULL, &k), OTEL_ERR_INVALID);
}

static void test_otel_sampler_needs_ratio_kinds(void **state)
{
    (void)state;
    assert_true(otel_sampler_needs_ratio(OTEL_SAMPLER_TRACEIDRATIO));
    assert_true(otel_sampler_needs_ratio(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO));
    assert_false(otel_sampler_needs_ratio(OTEL_SAMPLER_ALWAYS_ON));
    assert_false(otel_sampler_needs_ratio(OTEL_SAMPLER_ALWAYS_OFF));
    assert_false(otel_sampler_needs_ratio(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON));
    assert_false(otel_sampler_needs_ratio(OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF));
}

static void test_otel_sampler_init_ratio_out_of_range(void **state)
{
    (void)state;
    const double bad[] = {-0.0001, -1.0, 1.0001, 2.0, NAN, INFINITY, -INFINITY};
    const otel_sampler_kind kinds[] = {OTEL_SAMPLER_TRACEIDRATIO,
                                       OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            otel_sampler s;
            assert_int_equal(otel_sampler_init(&s, kinds[k], bad[i]), OTEL_ERR_RANGE);
        }
}

static void test_otel_sampler_init_ratio_bounds_ok(void **state)
{
    (void)state;
    otel_sampler s;
    assert_int_equal(otel_sampler_init(&s, OTEL_SAMPLER_TRACEIDRATIO, 0.0), OTEL_OK);
    assert_true(s.ratio == 0.0);
    assert_int_equal(otel_sampler_init(&s, OTEL_SAMPLER_TRACEIDRATIO, 1.0), OTEL_OK);
    assert_true(s.ratio == 1.0);
    assert_int_equal(otel_sampler_init(&s, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.5), OTEL_OK);
    assert_true(s.ratio == 0.5);
    assert_int_equal(s.kind, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
}

static void test_otel_sampler_init_ignores_ratio_for_other_kinds(void **state)
{
    (void)state;
    otel_sampler s;
    assert_int_equal(otel_sampler_init(&s, OTEL_SAMPLER_ALWAYS_ON, NAN), OTEL_OK);
    assert_int_equal(otel_sampler_init(&s, OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF, -5.0), OTEL_OK);
    assert_int_equal(s.kind, OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF);
}

static void test_otel_sampler_init_invalid_args(void **state)
{
    (void)state;
    otel_sampler s;
    assert_int_equal(otel_sampler_init(NULL, OTEL_SAMPLER_ALWAYS_ON, 1.0), OTEL_ERR_INVALID);
    assert_int_equal(otel_sampler_init(&s, (otel_sampler_kind)42, 1.0), OTEL_ERR_INVALID);
}

static void test_otel_sampler_should_sample_always_on_off(void **state)
{
    (void)state;
    otel_sampler on = make(OTEL_SAMPLER_ALWAYS_ON, 0);
    otel_sampler off = make(OTEL_SAMPLER_ALWAYS_OFF, 0);
    for (int i = 0; i < 1000; i++) {
        uint8_t id[16];
        otel_trace_id_new(id);
        assert_true(otel_sampler_should_sample(&on, NULL, id));
        assert_false(otel_sampler_should_sample(&off, NULL, id));
    }
}

static void test_otel_sampler_should_sample_ratio_zero_never(void **state)
{
    (void)state;
    otel_sampler s = make(OTEL_SAMPLER_TRACEIDRATIO, 0.0);
    uint8_t id[16];
    fixed_id(id, 0xff); /* the largest randomness */
    assert_false(otel_sampler_should_sample(&s, NULL, id));
    fixed_id(id, 0x00);
    assert_false(otel_sampler_should_sample(&s, NULL, id));
    for (int i = 0; i < 10000; i++) {
        otel_trace_id_new(id);
        assert_false(otel_sampler_should_sample(&s, NULL, id));
    }
}

static void test_otel_sampler_should_sample_ratio_one_always(void **state)
{
    (void)state;
    otel_sampler s = make(OTEL_SAMPLER_TRACEIDRATIO, 1.0);
    uint8_t id[16];
    fixed_id(id, 0x00); /* the smallest randomness */
    assert_true(otel_sampler_should_sample(&s, NULL, id));
    fixed_id(id, 0xff);
    assert_true(otel_sampler_should_sample(&s, NULL, id));
    for (int i = 0; i < 10000; i++) {
        otel_trace_id_new(id);
        assert_true(otel_sampler_should_sample(&s, NULL, id));
    }
}

static void test_otel_sampler_should_sample_ratio_statistics(void **state)
{
    (void)state;
    otel_sampler s = make(OTEL_SAMPLER_TRACEIDRATIO, 0.25);
    const int n = 100000;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        uint8_t id[16];
        otel_trace_id_new(id);
        hits += otel_sampler_should_sample(&s, NULL, id);
    }
    double got = (double)hits / n;
    assert_true(got > 0.25 - 0.015);
    assert_true(got < 0.25 + 0.015);
}

static void test_otel_sampler_should_sample_ratio_deterministic(void **state)
{
    (void)state;
    otel_sampler a = make(OTEL_SAMPLER_TRACEIDRATIO, 0.5);
    otel_sampler b = make(OTEL_SAMPLER_TRACEIDRATIO, 0.5); /* another "service" */
    int hits = 0;
    for (int i = 0; i < 1000; i++) {
        uint8_t id[16];
        otel_trace_id_new(id);
        bool first = otel_sampler_should_sample(&a, NULL, id);
        hits += first;
        for (int j = 0; j < 5; j++) {
            assert_int_equal(otel_sampler_should_sample(&a, NULL, id), first);
            assert_int_equal(otel_sampler_should_sample(&b, NULL, id), first);
        }
    }
    /* Not constant: both decisions occur. */
    assert_true(hits > 0 && hits < 1000);
}

static void test_otel_sampler_should_sample_ratio_monotonic(void **state)
{
    (void)state;
    otel_sampler lo = make(OTEL_SAMPLER_TRACEIDRATIO, 0.3);
    otel_sampler hi = make(OTEL_SAMPLER_TRACEIDRATIO, 0.6);
    int n_lo = 0, n_hi = 0;
    for (int i = 0; i < 10000; i++) {
        uint8_t id[16];
        otel_trace_id_new(id);
        bool a = otel_sampler_should_sample(&lo, NULL, id);
        bool b = otel_sampler_should_sample(&hi, NULL, id);
        n_lo += a;
        n_hi += b;
        if (a)
            assert_true(b);
    }
    assert_true(n_lo > 0);
    assert_true(n_hi > n_lo);
}

/* The trace id's random part only: the leftmost 9 bytes do not matter. */
static void test_otel_sampler_should_sample_ratio_uses_low_bytes(void **state)
{
    (void)state;
    otel_sampler s = make(OTEL_SAMPLER_TRACEIDRATIO, 0.5);
    uint8_t id[16];
    fixed_id(id, 0xff);
    memset(id, 0x00, 9);
    assert_true(otel_sampler_should_sample(&s, NULL, id));
    memset(id, 0xff, 9);
    assert_true(otel_sampler_should_sample(&s, NULL, id));
    fixed_id(id, 0x00);
    memset(id, 0xff, 9);
    assert_false(otel_sampler_should_sample(&s, NULL, id));
}

static void test_otel_sampler_should_sample_parent_matrix(void **state)
{
    (void)state;
    const otel_sampler_kind kinds[] = {OTEL_SAMPLER_PARENTBASED_ALWAYS_ON,
                                       OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF,
                                       OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO};
    for (size_t k = 0; k < 3; k++) {
        otel_sampler s = make(kinds[k], 0.0);
        for (int remote = 0; remote < 2; remote++)
            for (int sampled = 0; sampled < 2; sampled++)
                for (int i = 0; i < 50; i++) {
                    otel_span_context p = parent_ctx(remote, sampled);
                    uint8_t id[16];
                    otel_trace_id_new(id);
                    assert_int_equal(otel_sampler_should_sample(&s, &p, id), sampled);
                    /* With the parent's own trace id as well. */
                    assert_int_equal(otel_sampler_should_sample(&s, &p, p.trace_id), sampled);
                }
    }
}

static void test_otel_sampler_should_sample_parentbased_no_parent(void **state)
{
    (void)state;
    otel_sampler on = make(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 0);
    otel_sampler off = make(OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF, 0);
    otel_sampler r0 = make(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.0);
    otel_sampler r1 = make(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 1.0);
    otel_span_context invalid;
    memset(&invalid, 0, sizeof(invalid));
    invalid.trace_flags = OTEL_TRACE_FLAG_SAMPLED; /* ignored: not a valid parent */
    for (int i = 0; i < 200; i++) {
        uint8_t id[16];
        otel_trace_id_new(id);
        assert_true(otel_sampler_should_sample(&on, NULL, id));
        assert_false(otel_sampler_should_sample(&off, NULL, id));
        assert_false(otel_sampler_should_sample(&r0, NULL, id));
        assert_true(otel_sampler_should_sample(&r1, NULL, id));
        assert_false(otel_sampler_should_sample(&off, &invalid, id));
        assert_false(otel_sampler_should_sample(&r0, &invalid, id));
        invalid.trace_flags = 0;
        assert_true(otel_sampler_should_sample(&on, &invalid, id));
        invalid.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    }
}

static void test_otel_sampler_should_sample_parentbased_ratio_root(void **state)
{
    (void)state;
    otel_sampler pb = make(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.4);
    otel_sampler plain = make(OTEL_SAMPLER_TRACEIDRATIO, 0.4);
    for (int i = 0; i < 2000; i++) {
        uint8_t id[16];
        otel_trace_id_new(id);
        assert_int_equal(otel_sampler_should_sample(&pb, NULL, id),
                         otel_sampler_should_sample(&plain, NULL, id));
    }
}

static void test_otel_sampler_should_sample_ignores_parent_when_not_parentbased(void **state)
{
    (void)state;
    otel_sampler on = make(OTEL_SAMPLER_ALWAYS_ON, 0);
    otel_sampler off = make(OTEL_SAMPLER_ALWAYS_OFF, 0);
    otel_sampler r0 = make(OTEL_SAMPLER_TRACEIDRATIO, 0.0);
    otel_sampler r1 = make(OTEL_SAMPLER_TRACEIDRATIO, 1.0);
    for (int remote = 0; remote < 2; remote++)
        for (int sampled = 0; sampled < 2; sampled++) {
            otel_span_context p = parent_ctx(remote, sampled);
            assert_true(otel_sampler_should_sample(&on, &p, p.trace_id));
            assert_false(otel_sampler_should_sample(&off, &p, p.trace_id));
            assert_false(otel_sampler_should_sample(&r0, &p, p.trace_id));
            assert_true(otel_sampler_should_sample(&r1, &p, p.trace_id));
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_sampler_kind_from_name_all),
        cmocka_unit_test(test_otel_sampler_kind_name_all),
        cmocka_unit_test(test_otel_sampler_kind_from_name_unknown),
        cmocka_unit_test(test_otel_sampler_needs_ratio_kinds),
        cmocka_unit_test(test_otel_sampler_init_ratio_out_of_range),
        cmocka_unit_test(test_otel_sampler_init_ratio_bounds_ok),
        cmocka_unit_test(test_otel_sampler_init_ignores_ratio_for_other_kinds),
        cmocka_unit_test(test_otel_sampler_init_invalid_args),
        cmocka_unit_test(test_otel_sampler_should_sample_always_on_off),
        cmocka_unit_test(test_otel_sampler_should_sample_ratio_zero_never),
        cmocka_unit_test(test_otel_sampler_should_sample_ratio_one_always),
        cmocka_unit_test(test_otel_sampler_should_sample_ratio_statistics),
        cmocka_unit_test(test_otel_sampler_should_sample_ratio_deterministic),
        cmocka_unit_test(test_otel_sampler_should_sample_ratio_monotonic),
        cmocka_unit_test(test_otel_sampler_should_sample_ratio_uses_low_bytes),
        cmocka_unit_test(test_otel_sampler_should_sample_parent_matrix),
        cmocka_unit_test(test_otel_sampler_should_sample_parentbased_no_parent),
        cmocka_unit_test(test_otel_sampler_should_sample_parentbased_ratio_root),
        cmocka_unit_test(test_otel_sampler_should_sample_ignores_parent_when_not_parentbased),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
