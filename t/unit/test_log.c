/* test_log.c - unit tests for core/log.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mhd-otel/otel.h>

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

/* Text from a peer (a collector's grpc-message) goes into messages: a CR,
 * LF or ESC in it must not start a forged line or drive a terminal. Every
 * control byte, the C1 controls and bytes that are not UTF-8 arrive as
 * \xNN; printable ASCII and other UTF-8 arrive as they are. */
static void test_otel_log_escapes_control_bytes(void **state)
{
    (void)state;
    otel_log_set(capture, NULL);
    otel_log(OTEL_LOG_ERROR, "otlp: %s", "bad\r\nmhd-otel: error: forged\x1b[2J\t\x7f");
    assert_string_equal(last, "otlp: bad\\x0d\\x0amhd-otel: error: forged\\x1b[2J\\x09\\x7f");
    otel_log(OTEL_LOG_ERROR, "%s",
             "caf\xc3\xa9 \xc2\x9b"
             "1m \xff\xc3 \xe2\x82\xac");
    assert_string_equal(last, "caf\xc3\xa9 \\xc2\\x9b1m \\xff\\xc3 \xe2\x82\xac");
    for (const char *p = last; *p != '\0'; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* An escape that does not fit whole is left out: a message stays within
 * 1 KiB and never ends in half an escape. */
static void test_otel_log_escape_cut_whole(void **state)
{
    (void)state;
    char big[1100];
    memset(big, 'x', 1021);
    memset(big + 1021, '\n', 10);
    big[1031] = '\0';
    otel_log_set(capture, NULL);
    otel_log(OTEL_LOG_INFO, "%s", big);
    assert_int_equal(strlen(last), 1021);
}

/* A program's own log function is never replaced by the default one. */
static void test_otel_log_set_default_keeps_program_function(void **state)
{
    (void)state;
    int tag;
    assert_true(otel_log_set_default(capture, NULL)); /* none set: installed */
    otel_log(OTEL_LOG_INFO, "one");
    assert_int_equal(calls, 1);
    otel_log_set(capture, &tag);
    assert_false(otel_log_set_default(capture, NULL));
    otel_log(OTEL_LOG_INFO, "two");
    assert_ptr_equal(last_ud, &tag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_otel_log_formats_and_routes, reset),
        cmocka_unit_test_teardown(test_otel_log_without_function_is_silent, reset),
        cmocka_unit_test_teardown(test_otel_log_cuts_long_messages, reset),
        cmocka_unit_test_teardown(test_otel_log_escapes_control_bytes, reset),
        cmocka_unit_test_teardown(test_otel_log_escape_cut_whole, reset),
        cmocka_unit_test_teardown(test_otel_log_set_default_keeps_program_function, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
