/* test_retry.c - unit tests for exporter/retry.c (the OTLP retry policy). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../exporter/grpc.h"
#include "../../exporter/retry.h"

#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

/* ---- helpers: a fake clock and random source ---------------------------- */

typedef struct fake {
    uint64_t now;
    uint64_t r;     /* the next random value */
    unsigned draws; /* how many were taken */
} fake;

static uint64_t fake_clock(void *ud)
{
    return ((fake *)ud)->now;
}

static uint64_t fake_rand(void *ud)
{
    fake *f = ud;
    f->draws++;
    return f->r;
}

static void fake_policy(otel_retry_policy *p, fake *f)
{
    memset(f, 0, sizeof(*f));
    f->now = 1000 * SEC;
    otel_retry_policy_default(p);
    p->clock = fake_clock;
    p->clock_ud = f;
    p->rand = fake_rand;
    p->rand_ud = f;
}

static int restore_default(void **state)
{
    (void)state;
    otel_retry_policy_set_default(NULL);
    return 0;
}

/* ---- classification ----------------------------------------------------- */

static void test_otel_retry_is_retryable_table(void **state)
{
    (void)state;
    static const struct {
        int code;
        bool plain;     /* without RetryInfo */
        bool with_info; /* with RetryInfo */
    } table[] = {
        {OTEL_GRPC_OK, false, false},
        {OTEL_GRPC_CANCELLED, true, true},
        {OTEL_GRPC_UNKNOWN, false, false},
        {OTEL_GRPC_INVALID_ARGUMENT, false, false},
        {OTEL_GRPC_DEADLINE_EXCEEDED, true, true},
        {OTEL_GRPC_NOT_FOUND, false, false},
        {OTEL_GRPC_ALREADY_EXISTS, false, false},
        {OTEL_GRPC_PERMISSION_DENIED, false, false},
        {OTEL_GRPC_RESOURCE_EXHAUSTED, false, true},
        {OTEL_GRPC_FAILED_PRECONDITION, false, false},
        {OTEL_GRPC_ABORTED, true, true},
        {OTEL_GRPC_OUT_OF_RANGE, true, true},
        {OTEL_GRPC_UNIMPLEMENTED, false, false},
        {OTEL_GRPC_INTERNAL, false, false},
        {OTEL_GRPC_UNAVAILABLE, true, true},
        {OTEL_GRPC_DATA_LOSS, true, true},
        {OTEL_GRPC_UNAUTHENTICATED, false, false},
        {17, false, false},
        {-1, false, false},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        assert_int_equal(otel_retry_is_retryable(table[i].code, false), table[i].plain);
        assert_int_equal(otel_retry_is_retryable(table[i].code, true), table[i].with_info);
    }
}

/* ---- backoff ------------------------------------------------------------ */

static void test_otel_retry_policy_default_values(void **state)
{
    (void)state;
    otel_retry_policy p;
    otel_retry_policy_default(&p);
    assert_int_equal(p.min_backoff_ns, 100 * MS);
    assert_int_equal(p.initial_backoff_ns, SEC);
    assert_int_equal(p.max_backoff_ns, 5 * SEC);
    assert_int_equal(p.multiplier_pct, 150);
    assert_non_null(p.clock);
    assert_non_null(p.rand);
    /* The default clock is monotonic and moves. */
    uint64_t a = p.clock(p.clock_ud);
    uint64_t b = otel_mono_ns();
    assert_true(b >= a);
    /* The default random source is not constant. */
    uint64_t r1 = p.rand(p.rand_ud), r2 = p.rand(p.rand_ud);
    assert_true(r1 != r2);
}

static void test_otel_retry_ceiling_ns_grows_and_caps(void **state)
{
    (void)state;
    otel_retry_policy p;
    otel_retry_policy_default(&p);
    const uint64_t want[] = {1000 * MS, 1500 * MS, 2250 * MS, 3375 * MS, 5000 * MS, 5000 * MS};
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(otel_retry_ceiling_ns(&p, i), want[i]);
    assert_int_equal(otel_retry_ceiling_ns(&p, 1000000), 5 * SEC);
    /* A multiplier of 2 and a far cap: no overflow, capped. */
    p.multiplier_pct = 200;
    p.max_backoff_ns = UINT64_MAX;
    assert_int_equal(otel_retry_ceiling_ns(&p, 3), 8 * SEC);
    assert_true(otel_retry_ceiling_ns(&p, 200) >= otel_retry_ceiling_ns(&p, 60));
    /* A multiplier under 1 is taken as 1. */
    p.multiplier_pct = 50;
    assert_int_equal(otel_retry_ceiling_ns(&p, 5), SEC);
}

static void test_otel_retry_jitter_ns_bounds(void **state)
{
    (void)state;
    const uint64_t ceil = 1500 * MS;
    assert_int_equal(otel_retry_jitter_ns(ceil, 0), 0);
    assert_int_equal(otel_retry_jitter_ns(ceil, ceil), ceil);
    assert_int_equal(otel_retry_jitter_ns(ceil, ceil + 1), 0);
    uint64_t x = 88172645463325252ULL; /* xorshift: many draws stay in range */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t j = otel_retry_jitter_ns(ceil, x);
        assert_true(j <= ceil);
        lo = j < lo ? j : lo;
        hi = j > hi ? j : hi;
    }
    /* Full jitter covers the range. */
    assert_true(lo < ceil / 100);
    assert_true(hi > ceil - ceil / 100);
    assert_int_equal(otel_retry_jitter_ns(UINT64_MAX, 42), 42);
    assert_int_equal(otel_retry_jitter_ns(0, 42), 0);
}

static void test_otel_retry_next_delay_uses_clock_and_rand(void **state)
{
    (void)state;
    otel_retry_policy p;
    fake f;
    fake_policy(&p, &f);
    uint64_t deadline = f.now + 30 * SEC;
    uint64_t d = 0;
    f.r = UINT64_MAX; /* UINT64_MAX % (ceil + 1) */
    for (unsigned i = 0; i < 6; i++) {
        assert_int_equal(otel_retry_next_delay(&p, i, deadline, NULL, &d), OTEL_OK);
        uint64_t c = otel_retry_ceiling_ns(&p, i);
        uint64_t want = UINT64_MAX % (c + 1);
        assert_int_equal(d, want < 100 * MS ? 100 * MS : want);
        assert_true(d <= c);
        assert_int_equal(f.draws, i + 1);
    }
    f.r = 700 * MS;
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, NULL, &d), OTEL_OK);
    assert_int_equal(d, 700 * MS);
}

static void test_otel_retry_next_delay_retry_info_overrides(void **state)
{
    (void)state;
    otel_retry_policy p;
    fake f;
    fake_policy(&p, &f);
    uint64_t deadline = f.now + 30 * SEC;
    uint64_t d = 0, server = 7 * SEC; /* over the 5 s cap: the server wins */
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, &server, &d), OTEL_OK);
    assert_int_equal(d, 7 * SEC);
    assert_int_equal(f.draws, 0);
    server = 0; /* "retry now": no sooner than the minimum backoff */
    assert_int_equal(otel_retry_next_delay(&p, 4, deadline, &server, &d), OTEL_OK);
    assert_int_equal(d, 100 * MS);
}

/* Every retry waits at least min_backoff_ns: a RetryInfo delay of 0 or a
 * jitter draw of 0 never makes a busy loop (a collector answering
 * RESOURCE_EXHAUSTED with RetryInfo{0 s} once got thousands of Export
 * calls a second). */
static void test_otel_retry_next_delay_minimum_backoff(void **state)
{
    (void)state;
    otel_retry_policy p;
    fake f;
    fake_policy(&p, &f);
    uint64_t deadline = f.now + 2 * SEC;
    uint64_t d = 0, server = 0;
    f.r = 0;
    for (unsigned i = 0; i < 10; i++) {
        assert_int_equal(otel_retry_next_delay(&p, i, deadline, NULL, &d), OTEL_OK);
        assert_int_equal(d, 100 * MS);
        assert_int_equal(otel_retry_next_delay(&p, i, deadline, &server, &d), OTEL_OK);
        assert_int_equal(d, 100 * MS);
    }
    /* Over a whole 2 s deadline that is at most 20 retries. */
    unsigned retries = 0;
    while (otel_retry_next_delay(&p, retries, deadline, &server, &d) == OTEL_OK) {
        f.now += d;
        retries++;
    }
    assert_true(retries <= 20);
    /* The minimum does not let a retry start past the deadline. */
    f.now = deadline - 50 * MS;
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, &server, &d), OTEL_ERR_TIMEOUT);
}

static void test_otel_retry_next_delay_never_past_deadline(void **state)
{
    (void)state;
    otel_retry_policy p;
    fake f;
    fake_policy(&p, &f);
    uint64_t deadline = f.now + 500 * MS;
    uint64_t d = 12345;
    f.r = 499 * MS;
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, NULL, &d), OTEL_OK);
    assert_int_equal(d, 499 * MS);
    f.r = 500 * MS; /* would start exactly at the deadline */
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, NULL, &d), OTEL_ERR_TIMEOUT);
    uint64_t server = 2 * SEC;
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, &server, &d), OTEL_ERR_TIMEOUT);
    /* At or after the deadline nothing is scheduled, even a zero wait. */
    f.now = deadline;
    server = 0;
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, &server, &d), OTEL_ERR_TIMEOUT);
    f.now = deadline + SEC;
    assert_int_equal(otel_retry_next_delay(&p, 0, deadline, &server, &d), OTEL_ERR_TIMEOUT);
    /* Sweep: whatever the draw, a scheduled retry starts before the deadline. */
    f.now = 1000 * SEC;
    deadline = f.now + 3 * SEC;
    for (unsigned attempt = 0; attempt < 8; attempt++) {
        for (uint64_t r = 0; r < 6 * SEC; r += 97 * MS) {
            f.r = r;
            if (otel_retry_next_delay(&p, attempt, deadline, NULL, &d) == OTEL_OK)
                assert_true(f.now + d < deadline);
        }
    }
}

static void test_otel_retry_policy_set_default_override(void **state)
{
    (void)state;
    otel_retry_policy mine;
    memset(&mine, 0, sizeof(mine));
    mine.initial_backoff_ns = 10 * MS;
    mine.max_backoff_ns = 40 * MS;
    mine.multiplier_pct = 200;
    otel_retry_policy_set_default(&mine);
    otel_retry_policy p;
    otel_retry_policy_default(&p);
    assert_int_equal(p.initial_backoff_ns, 10 * MS);
    assert_int_equal(otel_retry_ceiling_ns(&p, 3), 40 * MS);
    assert_non_null(p.clock); /* NULL filled in with the real ones */
    assert_non_null(p.rand);
    otel_retry_policy_set_default(NULL);
    otel_retry_policy_default(&p);
    assert_int_equal(p.initial_backoff_ns, SEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_retry_is_retryable_table),
        cmocka_unit_test(test_otel_retry_policy_default_values),
        cmocka_unit_test(test_otel_retry_ceiling_ns_grows_and_caps),
        cmocka_unit_test(test_otel_retry_jitter_ns_bounds),
        cmocka_unit_test(test_otel_retry_next_delay_uses_clock_and_rand),
        cmocka_unit_test(test_otel_retry_next_delay_retry_info_overrides),
        cmocka_unit_test(test_otel_retry_next_delay_never_past_deadline),
        cmocka_unit_test(test_otel_retry_next_delay_minimum_backoff),
        cmocka_unit_test_teardown(test_otel_retry_policy_set_default_override, restore_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
