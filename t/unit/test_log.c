/* test_log.c - unit tests for core/log.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../core/log.h"

static char last[2048];
static otel_log_level last_level;
static int calls;
static void *last_ud;

static void capture(void *ud, otel_log_level level, const char *msg)
{
    last_ud = ud;
    last_level = level;
    calls++;
    strncpy(last, msg, sizeof(last) - 1);
}

static int reset(void **state)
{
    (void)state;
    otel_log_set(NULL, NULL);
    calls = 0;
    last[0] = '\0';
    return 0;
}

static void test_otel_log_formats_and_routes(void **state)
{
    (void)state;
    int tag;
    otel_log_set(capture, &tag);
    otel_log(OTEL_LOG_WARN, "dropped %d spans: %s", 7, "queue full");
    assert_int_equal(calls, 1);
    assert_string_equal(last, "dropped 7 spans: queue full");
    assert_int_equal(last_level, OTEL_LOG_WARN);
    assert_ptr_equal(last_ud, &tag);
}

static void test_otel_log_without_function_is_silent(void **state)
{
    (void)state;
    otel_log(OTEL_LOG_ERROR, "nobody hears %s", "this");
    assert_int_equal(calls, 0);
}

static void test_otel_log_cuts_long_messages(void **state)
{
    (void)state;
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    otel_log_set(capture, NULL);
    otel_log(OTEL_LOG_INFO, "%s", big);
    assert_int_equal(calls, 1);
    assert_int_equal(strlen(last), 1023);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_otel_log_formats_and_routes, reset),
        cmocka_unit_test_teardown(test_otel_log_without_function_is_silent, reset),
        cmocka_unit_test_teardown(test_otel_log_cuts_long_messages, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
