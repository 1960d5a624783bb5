/* test_b3.c - unit tests for core/b3.c (Zipkin B3, single and multi header). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <mhd-otel/propagation.h>

#define TRACE128 "80f198ee56343ba864fe8b2a57d3eff7"
#define TRACE64 "64fe8b2a57d3eff7"
#define SPAN "e457b5a2e4d86bd1"
#define PARENT "05e3ac9a4f6e3b90"

static const uint8_t want_trace128[16] = {0x80, 0xf1, 0x98, 0xee, 0x56, 0x34, 0x3b, 0xa8,
                                          0x64, 0xfe, 0x8b, 0x2a, 0x57, 0xd3, 0xef, 0xf7};
static const uint8_t want_trace64[16] = {0,    0,    0,    0,    0,    0,    0,    0,
                                         0x64, 0xfe, 0x8b, 0x2a, 0x57, 0xd3, 0xef, 0xf7};
static const uint8_t want_span[8] = {0xe4, 0x57, 0xb5, 0xa2, 0xe4, 0xd8, 0x6b, 0xd1};

static int b3(const char *s, otel_span_context *sc)
{
    return otel_b3_parse(s, strlen(s), sc);
}

/* Expect b3(s) to fail and leave a zeroed context. */
static void b3_reject(const char *s)
{
    otel_span_context sc, zero;
    memset(&sc, 0xaa, sizeof sc);
    memset(&zero, 0, sizeof zero);
    assert_int_equal(b3(s, &sc), OTEL_ERR_PARSE);
    assert_memory_equal(&sc, &zero, sizeof sc);
}

static void multi_reject(const char *t, const char *s, const char *sampled, const char *flags)
{
    otel_span_context sc, zero;
    memset(&sc, 0xaa, sizeof sc);
    memset(&zero, 0, sizeof zero);
    assert_int_equal(otel_b3_multi_parse(t, s, sampled, flags, &sc), OTEL_ERR_PARSE);
    assert_memory_equal(&sc, &zero, sizeof sc);
}

static uint8_t multi_flags(const char *sampled, const char *flags)
{
    otel_span_context sc;
    assert_int_equal(otel_b3_multi_parse(TRACE128, SPAN, sampled, flags, &sc), 0);
    return sc.trace_flags;
}

/* ---- otel_b3_parse --------------------------------------------------------- */

static void test_otel_b3_parse_128_sampled(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(b3(TRACE128 "-" SPAN "-1", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace128, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_true(sc.is_remote);
    assert_true(otel_span_context_is_valid(&sc));
}

static void test_otel_b3_parse_64_padded(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(b3(TRACE64 "-" SPAN "-1", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace64, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
}

static void test_otel_b3_parse_sampling_states(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(b3(TRACE128 "-" SPAN "-0", &sc), 0);
    assert_int_equal(sc.trace_flags, 0);
    assert_int_equal(b3(TRACE128 "-" SPAN "-d", &sc), 0); /* debug: sampled */
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(b3(TRACE128 "-" SPAN, &sc), 0); /* deferred */
    assert_int_equal(sc.trace_flags, 0);
    assert_true(sc.is_remote);
}

static void test_otel_b3_parse_parent_span_id(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(b3(TRACE128 "-" SPAN "-1-" PARENT, &sc), 0);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(b3(TRACE64 "-" SPAN "-0-" PARENT, &sc), 0);
    assert_int_equal(sc.trace_flags, 0);
    b3_reject(TRACE128 "-" SPAN "-1-05e3ac9a4f6e3b9");
    b3_reject(TRACE128 "-" SPAN "-1-05e3ac9a4f6e3b9x");
    b3_reject(TRACE128 "-" SPAN "-1-");
}

static void test_otel_b3_parse_deny_alone(void **state)
{
    (void)state;
    b3_reject("0");
    b3_reject("d");
    b3_reject("1");
    b3_reject("");
    b3_reject("  ");
}

static void test_otel_b3_parse_invalid_lengths(void **state)
{
    (void)state;
    b3_reject("80f198ee56343ba864fe8b2a57d3eff-" SPAN "-1");   /* 31 */
    b3_reject("80f198ee56343ba864fe8b2a57d3eff70-" SPAN "-1"); /* 33 */
    b3_reject("64fe8b2a57d3eff-" SPAN "-1");                   /* 15 */
    b3_reject("64fe8b2a57d3eff7a-" SPAN "-1");                 /* 17 */
    b3_reject("80f198ee56343ba864fe8b2a57d3-" SPAN "-1");      /* 28 */
    b3_reject(TRACE128 "-e457b5a2e4d86bd-1");
    b3_reject(TRACE128 "-e457b5a2e4d86bd12-1");
    b3_reject(TRACE128 "-" SPAN "-11");
    b3_reject(TRACE128 "-" SPAN "-");
    b3_reject(TRACE128);
    b3_reject(TRACE128 "-");
    b3_reject("-" SPAN "-1");
}

static void test_otel_b3_parse_invalid_hex(void **state)
{
    (void)state;
    b3_reject("80F198EE56343BA864FE8B2A57D3EFF7-" SPAN "-1");
    b3_reject(TRACE128 "-E457B5A2E4D86BD1-1");
    b3_reject("80f198ee56343ba864fe8b2a57d3effg-" SPAN "-1");
    b3_reject(TRACE128 "-e457b5a2e4d86bdz-1");
    b3_reject("80f198ee56343ba8 4fe8b2a57d3eff7-" SPAN "-1");
}

static void test_otel_b3_parse_all_zero(void **state)
{
    (void)state;
    b3_reject("00000000000000000000000000000000-" SPAN "-1");
    b3_reject("0000000000000000-" SPAN "-1");
    b3_reject(TRACE128 "-0000000000000000-1");
}

static void test_otel_b3_parse_bad_sampling_state(void **state)
{
    (void)state;
    b3_reject(TRACE128 "-" SPAN "-2");
    b3_reject(TRACE128 "-" SPAN "-D");
    b3_reject(TRACE128 "-" SPAN "-true");
}

static void test_otel_b3_parse_too_many_fields(void **state)
{
    (void)state;
    b3_reject(TRACE128 "-" SPAN "-1-" PARENT "-x");
    b3_reject(TRACE128 "-" SPAN "-1-" PARENT "-");
}

static void test_otel_b3_parse_ows_trimmed(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(b3(" \t" TRACE128 "-" SPAN "-1 ", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace128, 16);
    b3_reject(TRACE128 " -" SPAN "-1");
    b3_reject("\r\n" TRACE128 "-" SPAN "-1");
}

static void test_otel_b3_parse_respects_len(void **state)
{
    (void)state;
    otel_span_context sc;
    const char *s = TRACE128 "-" SPAN "-1junk";
    assert_int_equal(otel_b3_parse(s, 49, &sc), 0);
    assert_int_equal(sc.trace_flags, 0);
    assert_int_equal(otel_b3_parse(s, 50, &sc), OTEL_ERR_PARSE);
    assert_int_equal(otel_b3_parse(s, 51, &sc), 0);
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(otel_b3_parse(s, 52, &sc), OTEL_ERR_PARSE);
    assert_int_equal(otel_b3_parse(NULL, 0, &sc), OTEL_ERR_PARSE);
}

/* ---- otel_b3_multi_parse --------------------------------------------------- */

static void test_otel_b3_multi_parse_valid(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(otel_b3_multi_parse(TRACE128, SPAN, "1", NULL, &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace128, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_true(sc.is_remote);
}

static void test_otel_b3_multi_parse_64_padded(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(otel_b3_multi_parse(TRACE64, SPAN, "0", NULL, &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace64, 16);
    assert_int_equal(sc.trace_flags, 0);
}

static void test_otel_b3_multi_parse_sampled_values(void **state)
{
    (void)state;
    assert_int_equal(multi_flags("1", NULL), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags("true", NULL), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags("TRUE", NULL), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags(" True ", NULL), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags("0", NULL), 0);
    assert_int_equal(multi_flags("false", NULL), 0);
    assert_int_equal(multi_flags("FaLsE", NULL), 0);
    assert_int_equal(multi_flags(NULL, NULL), 0); /* deferred */
    multi_reject(TRACE128, SPAN, "2", NULL);
    multi_reject(TRACE128, SPAN, "yes", NULL);
    multi_reject(TRACE128, SPAN, "", NULL);
    multi_reject(TRACE128, SPAN, "truefalse", NULL);
    multi_reject(TRACE128, SPAN, "d", NULL);
}

static void test_otel_b3_multi_parse_debug_flag(void **state)
{
    (void)state;
    assert_int_equal(multi_flags(NULL, "1"), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags("0", "1"), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags("0", "0"), 0);
    assert_int_equal(multi_flags("1", "0"), OTEL_TRACE_FLAG_SAMPLED);
    /* openzipkin/b3-propagation, "Debug Flag": "Debug is encoded as
     * X-B3-Flags: 1. Absent or any other value can be ignored." */
    assert_int_equal(multi_flags("1", "2"), OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(multi_flags("0", ""), 0);
    assert_int_equal(multi_flags("0", "true"), 0);
}

static void test_otel_b3_multi_parse_missing_ids(void **state)
{
    (void)state;
    multi_reject(NULL, SPAN, "1", NULL);
    multi_reject(TRACE128, NULL, "1", NULL);
    multi_reject(NULL, NULL, "1", "1");
}

static void test_otel_b3_multi_parse_invalid_ids(void **state)
{
    (void)state;
    multi_reject("80f198ee56343ba864fe8b2a57d3eff", SPAN, "1", NULL);
    multi_reject("64fe8b2a57d3eff7a", SPAN, "1", NULL);
    multi_reject(TRACE128, "e457b5a2e4d86bd", "1", NULL);
    multi_reject(TRACE128, "E457B5A2E4D86BD1", "1", NULL);
    multi_reject("80f198ee56343ba864fe8b2a57d3effx", SPAN, "1", NULL);
    multi_reject("00000000000000000000000000000000", SPAN, "1", NULL);
    multi_reject("0000000000000000", SPAN, "1", NULL);
    multi_reject(TRACE128, "0000000000000000", "1", NULL);
    multi_reject(TRACE128 "\r\n", "0000000000000000", "1", NULL);
}

/* ---- otel_b3_format -------------------------------------------------------- */

static void test_otel_b3_format_known(void **state)
{
    (void)state;
    otel_span_context sc;
    char out[OTEL_B3_LEN + 4];
    memset(&sc, 0, sizeof sc);
    memcpy(sc.trace_id, want_trace128, 16);
    memcpy(sc.span_id, want_span, 8);
    sc.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    memset(out, 'X', sizeof out);
    otel_b3_format(&sc, out);
    assert_string_equal(out, TRACE128 "-" SPAN "-1");
    assert_int_equal(strlen(out), OTEL_B3_LEN);
    assert_int_equal(out[OTEL_B3_LEN + 1], 'X');
    sc.trace_flags = 0;
    otel_b3_format(&sc, out);
    assert_string_equal(out, TRACE128 "-" SPAN "-0");
    sc.trace_flags = 0xfe; /* other bits are not B3's */
    otel_b3_format(&sc, out);
    assert_string_equal(out, TRACE128 "-" SPAN "-0");
}

static void test_otel_b3_format_round_trip(void **state)
{
    (void)state;
    const char *in[] = {TRACE128 "-" SPAN "-1", TRACE128 "-" SPAN "-0",
                        "0000000000000000" TRACE64 "-" SPAN "-1"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        otel_span_context sc;
        char out[OTEL_B3_LEN + 1];
        assert_int_equal(b3(in[i], &sc), 0);
        otel_b3_format(&sc, out);
        assert_string_equal(out, in[i]);
    }
}

/* A 64-bit trace id goes out padded to 128 bits; a debug context keeps its
 * "d" (OpenTelemetry B3 Requirements: a received debug flag MUST be
 * propagated with subsequent requests). */
static void test_otel_b3_format_64_padded(void **state)
{
    (void)state;
    otel_span_context sc;
    char out[OTEL_B3_LEN + 1];
    assert_int_equal(b3(TRACE64 "-" SPAN "-d", &sc), 0);
    assert_true(sc.debug);
    otel_b3_format(&sc, out);
    assert_string_equal(out, "0000000000000000" TRACE64 "-" SPAN "-d");
    sc.debug = false;
    otel_b3_format(&sc, out);
    assert_string_equal(out, "0000000000000000" TRACE64 "-" SPAN "-1");
}

/* X-B3-Flags: 1 is debug: sampled whatever X-B3-Sampled says, and kept. */
static void test_otel_b3_multi_parse_debug(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(otel_b3_multi_parse(TRACE64, SPAN, "0", "1", &sc), 0);
    assert_true(sc.debug);
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_int_equal(otel_b3_multi_parse(TRACE64, SPAN, NULL, "1", &sc), 0);
    assert_true(sc.debug);
    assert_int_equal(otel_b3_multi_parse(TRACE64, SPAN, "1", "0", &sc), 0);
    assert_false(sc.debug);
    assert_int_equal(otel_b3_multi_parse(TRACE64, SPAN, "1", NULL, &sc), 0);
    assert_false(sc.debug);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_b3_parse_128_sampled),
        cmocka_unit_test(test_otel_b3_multi_parse_debug),
        cmocka_unit_test(test_otel_b3_parse_64_padded),
        cmocka_unit_test(test_otel_b3_parse_sampling_states),
        cmocka_unit_test(test_otel_b3_parse_parent_span_id),
        cmocka_unit_test(test_otel_b3_parse_deny_alone),
        cmocka_unit_test(test_otel_b3_parse_invalid_lengths),
        cmocka_unit_test(test_otel_b3_parse_invalid_hex),
        cmocka_unit_test(test_otel_b3_parse_all_zero),
        cmocka_unit_test(test_otel_b3_parse_bad_sampling_state),
        cmocka_unit_test(test_otel_b3_parse_too_many_fields),
        cmocka_unit_test(test_otel_b3_parse_ows_trimmed),
        cmocka_unit_test(test_otel_b3_parse_respects_len),
        cmocka_unit_test(test_otel_b3_multi_parse_valid),
        cmocka_unit_test(test_otel_b3_multi_parse_64_padded),
        cmocka_unit_test(test_otel_b3_multi_parse_sampled_values),
        cmocka_unit_test(test_otel_b3_multi_parse_debug_flag),
        cmocka_unit_test(test_otel_b3_multi_parse_missing_ids),
        cmocka_unit_test(test_otel_b3_multi_parse_invalid_ids),
        cmocka_unit_test(test_otel_b3_format_known),
        cmocka_unit_test(test_otel_b3_format_round_trip),
        cmocka_unit_test(test_otel_b3_format_64_padded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
