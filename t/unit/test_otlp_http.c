/* test_otlp_http.c - unit tests for exporter/otlp_http.c (the Retry-After
 * parser; the transport itself is tested in t/integration). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../exporter/otlp_http.h"

#define SEC UINT64_C(1000000000)
#define MAX_S (UINT64_C(1) << 32)
/* Sun, 06 Nov 1994 08:49:37 GMT */
#define RFC_DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define RFC_UNIX INT64_C(784111777)

static void test_otel_otlp_http_retry_after_seconds(void **state)
{
    (void)state;
    uint64_t d = 1;
    assert_int_equal(otel_otlp_http_retry_after("120", 0, &d), OTEL_OK);
    assert_int_equal(d, 120 * SEC);
    assert_int_equal(otel_otlp_http_retry_after(" \t0\t ", 0, &d), OTEL_OK);
    assert_int_equal(d, 0);
    assert_int_equal(otel_otlp_http_retry_after("99999999999999999999999", 0, &d), OTEL_OK);
    assert_int_equal(d, MAX_S * SEC);
    assert_int_equal(otel_otlp_http_retry_after("5s", 0, &d), OTEL_ERR_PARSE);
    assert_int_equal(otel_otlp_http_retry_after("-5", 0, &d), OTEL_ERR_PARSE);
    assert_int_equal(otel_otlp_http_retry_after(" \t", 0, &d), OTEL_ERR_PARSE);
}

static void test_otel_otlp_http_retry_after_date(void **state)
{
    (void)state;
    uint64_t d = 1;
    assert_int_equal(otel_otlp_http_retry_after(RFC_DATE, RFC_UNIX - 90, &d), OTEL_OK);
    assert_int_equal(d, 90 * SEC);
    assert_int_equal(otel_otlp_http_retry_after(RFC_DATE, RFC_UNIX + 90, &d), OTEL_OK);
    assert_int_equal(d, 0);
}

/* A date some 8000 years ahead is capped as a huge delay-seconds is: its
 * nanoseconds do not fit in 64 bits. */
static void test_otel_otlp_http_retry_after_far_date_capped(void **state)
{
    (void)state;
    uint64_t d = 1;
    assert_int_equal(otel_otlp_http_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", RFC_UNIX, &d),
                     OTEL_OK);
    assert_int_equal(d, MAX_S * SEC);
}

/* now_unix at either end of int64: the difference is not an int64. */
static void test_otel_otlp_http_retry_after_extreme_now(void **state)
{
    (void)state;
    uint64_t d = 1;
    assert_int_equal(otel_otlp_http_retry_after(RFC_DATE, INT64_MIN, &d), OTEL_OK);
    assert_int_equal(d, MAX_S * SEC);
    assert_int_equal(otel_otlp_http_retry_after(RFC_DATE, INT64_MAX, &d), OTEL_OK);
    assert_int_equal(d, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_otlp_http_retry_after_seconds),
        cmocka_unit_test(test_otel_otlp_http_retry_after_date),
        cmocka_unit_test(test_otel_otlp_http_retry_after_far_date_capped),
        cmocka_unit_test(test_otel_otlp_http_retry_after_extreme_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
