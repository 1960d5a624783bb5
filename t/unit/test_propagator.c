/* test_propagator.c - unit tests for core/propagator.c (W3C Trace Context). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <mhd-otel/otel.h>

#define TP_VALID "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define TP_TRACE "0af7651916cd43dd8448eb211c80319c"
#define TP_SPAN "b7ad6b7169203331"

static const uint8_t want_trace[16] = {0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
                                       0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c};
static const uint8_t want_span[8] = {0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31};

/* A growable-in-place string for building long test inputs. */
typedef struct strbuf {
    char s[20000];
    size_t len;
} strbuf;

static void sb_add(strbuf *b, const char *s)
{
    size_t n = strlen(s);
    assert_true(b->len + n < sizeof b->s);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_rep(strbuf *b, char c, size_t n)
{
    assert_true(b->len + n < sizeof b->s);
    memset(b->s + b->len, c, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Append "k<i>=v" (key of letters only: "k" then i as letters a..). */
static void sb_member(strbuf *b, size_t i)
{
    char key[4] = {'k', (char)('a' + i / 26), (char)('a' + i % 26), '\0'};
    if (b->len > 0) {
        sb_add(b, ",");
    }
    sb_add(b, key);
    sb_add(b, "=v");
}

static int tp(const char *s, otel_span_context *sc)
{
    return otel_traceparent_parse(s, strlen(s), sc);
}

static int ts(const char *s, char *out, size_t cap)
{
    return otel_tracestate_parse(s, strlen(s), out, cap);
}

/* Expect tp(s) to fail and zero the context. */
static void tp_reject(const char *s)
{
    otel_span_context sc;
    memset(&sc, 0xaa, sizeof sc);
    assert_int_equal(tp(s, &sc), OTEL_ERR_PARSE);
    otel_span_context zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&sc, &zero, sizeof sc);
}

/* Expect ts(s) to fail as a whole and leave out "". */
static void ts_reject(const char *s)
{
    char out[OTEL_TRACESTATE_MAX];
    memset(out, 'X', sizeof out);
    assert_int_equal(ts(s, out, sizeof out), OTEL_ERR_PARSE);
    assert_string_equal(out, "");
}

/* Expect ts(s) to succeed with output want (cap OTEL_TRACESTATE_MAX). */
static void ts_expect(const char *s, const char *want)
{
    char out[OTEL_TRACESTATE_MAX];
    assert_int_equal(ts(s, out, sizeof out), (int)strlen(want));
    assert_string_equal(out, want);
}

/* ---- otel_traceparent_parse -------------------------------------------- */

static void test_otel_traceparent_parse_valid_sampled(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp(TP_VALID, &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, 0x01);
    assert_true(sc.is_remote);
}

static void test_otel_traceparent_parse_valid_unsampled(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp("00-" TP_TRACE "-" TP_SPAN "-00", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, 0x00);
    assert_true(sc.is_remote);
}

static void test_otel_traceparent_parse_v00_keeps_all_flag_bits(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp("00-" TP_TRACE "-" TP_SPAN "-09", &sc), 0);
    assert_int_equal(sc.trace_flags, 0x09);
    assert_int_equal(tp("00-" TP_TRACE "-" TP_SPAN "-ff", &sc), 0);
    assert_int_equal(sc.trace_flags, 0xff);
}

static void test_otel_traceparent_parse_uppercase_hex(void **state)
{
    (void)state;
    tp_reject("0A-" TP_TRACE "-" TP_SPAN "-01");
    tp_reject("00-0AF7651916CD43DD8448EB211C80319C-" TP_SPAN "-01");
    tp_reject("00-0af7651916cd43dd8448eb211c80319C-" TP_SPAN "-01");
    tp_reject("00-" TP_TRACE "-B7AD6B7169203331-01");
    tp_reject("00-" TP_TRACE "-b7ad6b716920333A-01");
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-0A");
    tp_reject("01-" TP_TRACE "-" TP_SPAN "-0B");
}

static void test_otel_traceparent_parse_wrong_length(void **state)
{
    (void)state;
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-0");                     /* 54 */
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-010");                   /* 56 */
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-01-");                   /* 56 */
    tp_reject("00-0af7651916cd43dd8448eb211c80319-" TP_SPAN "-01"); /* short id */
    tp_reject("00-" TP_TRACE "-b7ad6b716920333-01");                /* short span */
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-001");                   /* long flags */
}

static void test_otel_traceparent_parse_zero_trace_id(void **state)
{
    (void)state;
    tp_reject("00-00000000000000000000000000000000-" TP_SPAN "-01");
}

static void test_otel_traceparent_parse_zero_span_id(void **state)
{
    (void)state;
    tp_reject("00-" TP_TRACE "-0000000000000000-01");
}

static void test_otel_traceparent_parse_zero_ids_but_one_bit(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp("00-00000000000000000000000000000001-0000000000000001-00", &sc), 0);
    assert_int_equal(sc.trace_id[15], 1);
    assert_int_equal(sc.span_id[7], 1);
}

static void test_otel_traceparent_parse_version_ff(void **state)
{
    (void)state;
    tp_reject("ff-" TP_TRACE "-" TP_SPAN "-01");
    tp_reject("ff-" TP_TRACE "-" TP_SPAN "-01-what-the-future-will-be-like");
}

static void test_otel_traceparent_parse_future_version(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp("01-" TP_TRACE "-" TP_SPAN "-01-what-the-future-will-be-like", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, 0x01);
    assert_true(sc.is_remote);

    assert_int_equal(tp("cc-" TP_TRACE "-" TP_SPAN "-00", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace, 16);
    assert_int_equal(sc.trace_flags, 0x00);
}

static void test_otel_traceparent_parse_future_version_keeps_only_sampled(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp("fe-" TP_TRACE "-" TP_SPAN "-0b-x", &sc), 0);
    assert_int_equal(sc.trace_flags, 0x01);
    assert_int_equal(tp("02-" TP_TRACE "-" TP_SPAN "-fe", &sc), 0);
    assert_int_equal(sc.trace_flags, 0x00);
}

static void test_otel_traceparent_parse_future_version_bad_separator(void **state)
{
    (void)state;
    tp_reject("01-" TP_TRACE "-" TP_SPAN "-01.what-the-future-will-be-like");
    tp_reject("cc-" TP_TRACE "-" TP_SPAN "-010");
    tp_reject("01-" TP_TRACE "-" TP_SPAN "-0"); /* 54 */
}

static void test_otel_traceparent_parse_v00_extra_fields(void **state)
{
    (void)state;
    tp_reject(TP_VALID "-what-the-future-will-be-like");
    tp_reject(TP_VALID ".");
}

static void test_otel_traceparent_parse_non_hex(void **state)
{
    (void)state;
    tp_reject("0g-" TP_TRACE "-" TP_SPAN "-01");
    tp_reject("00-0af7651916cd43dd8448eb211c80319g-" TP_SPAN "-01");
    tp_reject("00-0af7651916cd43dd8448eb211c8031 c-" TP_SPAN "-01");
    tp_reject("00-" TP_TRACE "-b7ad6b716920333z-01");
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-0x");
    tp_reject("00-" TP_TRACE "-" TP_SPAN "-.1");
}

static void test_otel_traceparent_parse_missing_dashes(void **state)
{
    (void)state;
    tp_reject("00_" TP_TRACE "-" TP_SPAN "-01");
    tp_reject("00-" TP_TRACE "_" TP_SPAN "-01");
    tp_reject("00-" TP_TRACE "-" TP_SPAN "_01");
    tp_reject("000" TP_TRACE "-" TP_SPAN "-01");
    tp_reject("00" TP_TRACE "-" TP_SPAN "-01");
    tp_reject("00-" TP_TRACE TP_SPAN "-01");
}

static void test_otel_traceparent_parse_ows_trimmed(void **state)
{
    (void)state;
    otel_span_context sc;
    assert_int_equal(tp("  \t" TP_VALID " \t ", &sc), 0);
    assert_memory_equal(sc.trace_id, want_trace, 16);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(sc.trace_flags, 0x01);
    assert_int_equal(tp("\t" TP_VALID, &sc), 0);
    assert_int_equal(tp(TP_VALID " ", &sc), 0);
}

static void test_otel_traceparent_parse_inner_space(void **state)
{
    (void)state;
    tp_reject("00- " TP_TRACE "-" TP_SPAN "-01");
    tp_reject("00-" TP_TRACE "-" TP_SPAN "- 1");
    tp_reject("\n" TP_VALID);
}

static void test_otel_traceparent_parse_empty(void **state)
{
    (void)state;
    otel_span_context sc;
    tp_reject("");
    tp_reject("   ");
    memset(&sc, 0xaa, sizeof sc);
    assert_int_equal(otel_traceparent_parse(NULL, 0, &sc), OTEL_ERR_PARSE);
    assert_false(sc.is_remote);
    assert_int_equal(sc.trace_id[0], 0);
}

static void test_otel_traceparent_parse_respects_len(void **state)
{
    (void)state;
    otel_span_context sc;
    const char *s = TP_VALID "-trailing junk";
    assert_int_equal(otel_traceparent_parse(s, OTEL_TRACEPARENT_LEN, &sc), 0);
    assert_memory_equal(sc.span_id, want_span, 8);
    assert_int_equal(otel_traceparent_parse(s, OTEL_TRACEPARENT_LEN - 1, &sc), OTEL_ERR_PARSE);
}

/* ---- otel_traceparent_format ------------------------------------------- */

static void test_otel_traceparent_format_known(void **state)
{
    (void)state;
    otel_span_context sc;
    char out[OTEL_TRACEPARENT_LEN + 8];
    memset(&sc, 0, sizeof sc);
    memcpy(sc.trace_id, want_trace, 16);
    memcpy(sc.span_id, want_span, 8);
    sc.trace_flags = 0x01;
    memset(out, 'X', sizeof out);
    otel_traceparent_format(&sc, out);
    assert_string_equal(out, TP_VALID);
    assert_int_equal(out[OTEL_TRACEPARENT_LEN + 1], 'X');
}

static void test_otel_traceparent_format_flags_lowercase(void **state)
{
    (void)state;
    otel_span_context sc;
    char out[OTEL_TRACEPARENT_LEN + 1];
    memset(&sc, 0, sizeof sc);
    memset(sc.trace_id, 0xab, sizeof sc.trace_id);
    memset(sc.span_id, 0xab, sizeof sc.span_id);
    sc.trace_flags = 0xfe;
    otel_traceparent_format(&sc, out);
    assert_string_equal(out, "00-abababababababababababababababab-abababababababab-fe");
}

static void test_otel_traceparent_format_round_trip(void **state)
{
    (void)state;
    const char *in[] = {TP_VALID, "00-" TP_TRACE "-" TP_SPAN "-00",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        otel_span_context sc;
        char out[OTEL_TRACEPARENT_LEN + 1];
        assert_int_equal(tp(in[i], &sc), 0);
        otel_traceparent_format(&sc, out);
        assert_string_equal(out, in[i]);
    }
}

static void test_otel_traceparent_format_downgrades_version(void **state)
{
    (void)state;
    otel_span_context sc;
    char out[OTEL_TRACEPARENT_LEN + 1];
    assert_int_equal(tp("cc-" TP_TRACE "-" TP_SPAN "-03-more", &sc), 0);
    otel_traceparent_format(&sc, out);
    assert_string_equal(out, TP_VALID);
}

/* ---- otel_tracestate_parse --------------------------------------------- */

static void test_otel_tracestate_parse_simple(void **state)
{
    (void)state;
    ts_expect("rojo=00f067aa0ba902b7", "rojo=00f067aa0ba902b7");
    ts_expect("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    ts_expect("a_-*/9=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~", "a_-*/9=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~");
}

/* W3C Trace Context Level 1 (Recommendation, 23 November 2021), section
 * "tracestate Header Field Values", "Key": key = ( lcalpha / DIGIT )
 * 0*255( keychar ), keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@".
 * The multi-tenant form of the 2020 text (tenant-id "@" system-id with its
 * own limits) is gone: "@" is a key character like the others, anywhere but
 * first. The official test suite's test_tracestate_key_illegal_vendor_format
 * sends the same keys. */
static void test_otel_tracestate_parse_key_with_at_signs(void **state)
{
    (void)state;
    ts_expect("fw529a3039@dt=ffffffff,congo=1", "fw529a3039@dt=ffffffff,congo=1");
    ts_expect("0tenant@sys-_*/1=v", "0tenant@sys-_*/1=v");
    ts_expect("t@1sys=1", "t@1sys=1");
    ts_expect("foo@=1,bar=2", "foo@=1,bar=2");
    ts_expect("foo@@bar=1,bar=2", "foo@@bar=1,bar=2");
    ts_expect("foo@bar@baz=1,bar=2", "foo@bar@baz=1,bar=2");
    ts_reject("@foo=1,bar=2"); /* a key begins with lcalpha or DIGIT */
    ts_reject("_t@sys=1");
}

/* Same section: "A key MUST ... contain up to 256 characters", '@' and all;
 * test_tracestate_key_length_limit of the official suite. */
static void test_otel_tracestate_parse_key_length_with_at(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    char out[OTEL_TRACESTATE_MAX];

    sb_rep(&b, 't', 241);
    sb_add(&b, "@");
    sb_rep(&b, 'v', 14);
    sb_add(&b, "=1");
    assert_int_equal(ts(b.s, out, sizeof out), 241 + 1 + 14 + 2);

    b.len = 0;
    sb_rep(&b, 't', 242);
    sb_add(&b, "@v=1");
    assert_int_equal(ts(b.s, out, sizeof out), 242 + 4);

    b.len = 0;
    sb_add(&b, "t@");
    sb_rep(&b, 'v', 15);
    sb_add(&b, "=1");
    assert_int_equal(ts(b.s, out, sizeof out), 2 + 15 + 2);

    b.len = 0; /* 257 characters with the '@' */
    sb_rep(&b, 't', 250);
    sb_add(&b, "@");
    sb_rep(&b, 'v', 6);
    sb_add(&b, "=1");
    ts_reject(b.s);
}

static void test_otel_tracestate_parse_simple_key_length(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    char out[OTEL_TRACESTATE_MAX];

    sb_rep(&b, 'k', 256);
    sb_add(&b, "=v");
    assert_int_equal(ts(b.s, out, sizeof out), 258);
    assert_string_equal(out, b.s);

    b.len = 0;
    sb_rep(&b, 'k', 257);
    sb_add(&b, "=v");
    ts_reject(b.s);
}

static void test_otel_tracestate_parse_ows_around_members(void **state)
{
    (void)state;
    char out[OTEL_TRACESTATE_MAX];
    ts_expect(" \t a=1 ,\tb=2 \t", "a=1,b=2");
    assert_int_equal(ts("a=1 , b=2 ,  c=3", out, sizeof out), 11);
    assert_null(strchr(out, ' '));
    assert_null(strchr(out, '\t'));
}

static void test_otel_tracestate_parse_empty_members(void **state)
{
    (void)state;
    char out[OTEL_TRACESTATE_MAX];
    ts_expect(",,a=1,, ,\t,b=2,", "a=1,b=2");
    memset(out, 'X', sizeof out);
    assert_int_equal(ts(" , ,\t, ", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_otel_tracestate_parse_empty(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'X', sizeof out);
    assert_int_equal(ts("", out, sizeof out), 0);
    assert_string_equal(out, "");
    memset(out, 'X', sizeof out);
    assert_int_equal(otel_tracestate_parse(NULL, 0, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_otel_tracestate_parse_32_members(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    char out[OTEL_TRACESTATE_MAX];
    for (size_t i = 0; i < 32; i++) {
        sb_member(&b, i);
    }
    assert_int_equal(ts(b.s, out, sizeof out), (int)b.len);
    assert_string_equal(out, b.s);

    sb_add(&b, ", ,,"); /* empty members do not count */
    assert_int_equal(ts(b.s, out, sizeof out), (int)b.len - 4);
}

static void test_otel_tracestate_parse_33_members(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    for (size_t i = 0; i < 33; i++) {
        sb_member(&b, i);
    }
    ts_reject(b.s);
}

/* Section "Mutating the tracestate Field": "Vendors MAY also discard
 * duplicate keys that were not generated by them"; the official suite's
 * test_tracestate_duplicated_keys expects the tracestate inherited with the
 * duplicates kept or one of them discarded. The first entry of a key is
 * kept (it is the most recent position: "Modified keys MUST be moved to the
 * beginning"). The duplicate still counts as one of the 32 list-members. */
static void test_otel_tracestate_parse_duplicate_keys(void **state)
{
    (void)state;
    ts_expect("a=1,b=2,a=3", "a=1,b=2");
    ts_expect("foo=1,foo=1", "foo=1");
    ts_expect("foo=1,foo=2", "foo=1");
    ts_expect("t@s=1,t@s=2,x=3", "t@s=1,x=3");
    ts_expect("ab=1,a=2,abc=3", "ab=1,a=2,abc=3"); /* prefixes are not duplicates */

    strbuf b = {.len = 0};
    for (size_t i = 0; i < 32; i++)
        sb_member(&b, i);
    sb_add(&b, ",kaa=again"); /* a 33rd list-member, even as a duplicate */
    ts_reject(b.s);
}

/* "A key MUST begin with a lowercase letter or a digit": "1foo" is one
 * (the 2020 grammar wanted a letter); a member with any other key makes the
 * whole header invalid, as the ABNF does not match (suite:
 * test_tracestate_key_illegal_characters). */
static void test_otel_tracestate_parse_bad_key(void **state)
{
    (void)state;
    ts_expect("1foo=1", "1foo=1");
    ts_reject("Foo=1");
    ts_reject("fOo=1");
    ts_reject("fo o=1");
    ts_reject("foo =1");
    ts_reject("=1");
    ts_reject("foo.bar=1");
    ts_reject("a=1,b\tc=2");
}

static void test_otel_tracestate_parse_bad_value(void **state)
{
    (void)state;
    ts_reject("foo=bar=baz");
    ts_reject("foo=,bar=3");
    ts_reject("foo");
    ts_reject("foo=a\tb");
    ts_reject("foo=a\nb");
    ts_reject("foo=a\x7f");
    ts_reject("foo=\xc3\xa9");
}

static void test_otel_tracestate_parse_invalid_member_invalidates_all(void **state)
{
    (void)state;
    ts_reject("a=1,B=2,c=3");
    ts_reject("a=1,b=2,c=");
}

static void test_otel_tracestate_parse_value_spaces(void **state)
{
    (void)state;
    /* Trailing spaces are OWS, not part of the value; leading ones are kept. */
    ts_expect("foo=bar   ,x=1", "foo=bar,x=1");
    ts_expect("foo= b a r", "foo= b a r");
    ts_reject("foo=   ");
    ts_reject("foo=   ,x=1");
}

static void test_otel_tracestate_parse_value_length(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    char out[OTEL_TRACESTATE_MAX];

    sb_add(&b, "k=");
    sb_rep(&b, 'v', 256);
    assert_int_equal(ts(b.s, out, sizeof out), 258);
    assert_string_equal(out, b.s);
    sb_add(&b, " \t"); /* trailing OWS does not count */
    assert_int_equal(ts(b.s, out, sizeof out), 258);

    b.len = 0;
    sb_add(&b, "k=");
    sb_rep(&b, 'v', 257);
    ts_reject(b.s);
}

static void test_otel_tracestate_parse_truncate_from_end(void **state)
{
    (void)state;
    char out[16];

    memset(out, 'X', sizeof out);
    assert_int_equal(ts("a=1,b=2,c=3", out, 12), 11); /* fits exactly */
    assert_string_equal(out, "a=1,b=2,c=3");

    memset(out, 'X', sizeof out);
    assert_int_equal(ts("a=1,b=2,c=3", out, 11), 7);
    assert_string_equal(out, "a=1,b=2");
    assert_int_equal(out[11], 'X');

    assert_int_equal(ts("a=1,b=2,c=3", out, 7), 3);
    assert_string_equal(out, "a=1");

    memset(out, 'X', sizeof out);
    assert_int_equal(ts("a=1,b=2,c=3", out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(out[1], 'X');
}

static void test_otel_tracestate_parse_truncate_long_first(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    strbuf big1 = {.len = 0};
    char out[OTEL_TRACESTATE_MAX];

    sb_add(&big1, "big1=");
    sb_rep(&big1, '1', 140);
    sb_add(&b, "a=1,");
    sb_add(&b, big1.s);
    sb_add(&b, ",b=2,big2=");
    sb_rep(&b, '2', 140);
    sb_add(&b, ",c=3");

    /* Room for everything but one long member: the last long one goes. */
    memset(out, 'X', sizeof out);
    assert_int_equal(ts(b.s, out, 200), 3 + 1 + 145 + 1 + 3 + 1 + 3);
    assert_memory_equal(out, "a=1,big1=", 9);
    assert_null(strstr(out, "big2"));
    assert_non_null(strstr(out, ",b=2,c=3"));
    assert_int_equal(out[200], 'X');

    /* Short members survive while both long ones are dropped. */
    assert_int_equal(ts(b.s, out, 64), 11);
    assert_string_equal(out, "a=1,b=2,c=3");

    /* Then members go from the end. */
    assert_int_equal(ts(b.s, out, 8), 7);
    assert_string_equal(out, "a=1,b=2");
}

static void test_otel_tracestate_parse_truncate_default_cap(void **state)
{
    (void)state;
    strbuf b = {.len = 0};
    char out[OTEL_TRACESTATE_MAX];
    char member[40];

    for (size_t i = 0; i < 32; i++) {
        /* "kXX=" + 25 'v': 29 bytes, 32 of them with commas: 959 bytes */
        memcpy(member, "kaa=", 4);
        member[1] = (char)('a' + i / 26);
        member[2] = (char)('a' + i % 26);
        memset(member + 4, 'v', 25);
        member[29] = '\0';
        if (i > 0) {
            sb_add(&b, ",");
        }
        sb_add(&b, member);
    }
    /* 16 members take 16 * 29 + 15 = 479 bytes, 17 take 509, 18 take 539. */
    assert_int_equal(ts(b.s, out, sizeof out), 509);
    assert_memory_equal(out, b.s, 509);
    assert_int_equal(out[509], '\0');
}

static void test_otel_tracestate_parse_respects_len(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(otel_tracestate_parse("a=1,b=2", 3, out, sizeof out), 3);
    assert_string_equal(out, "a=1");
    assert_int_equal(otel_tracestate_parse("a=1,B=2", 4, out, sizeof out), 3);
}

/* ---- otel_tracestate_parse_lines ------------------------------------- */

static int ts_lines(const char *const *v, size_t n, char *out, size_t cap)
{
    size_t lens[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        lens[i] = v[i] != NULL ? strlen(v[i]) : 0;
    return otel_tracestate_parse_lines(v, lens, n, out, cap);
}

/* Section "tracestate Header Field Values": "When receiving multiple
 * tracestate header fields, they MUST be combined into a single header
 * according to RFC9110" (section 5.3 Field Order: in order, comma-joined).
 * The official suite's test_tracestate_multiple_headers_different_keys. */
static void test_otel_tracestate_parse_lines_combined_in_order(void **state)
{
    (void)state;
    char out[OTEL_TRACESTATE_MAX];
    const char *v[] = {"foo=1,bar=2", "rojo=1,congo=2", "baz=3"};
    assert_int_equal(ts_lines(v, 3, out, sizeof out), 32);
    assert_string_equal(out, "foo=1,bar=2,rojo=1,congo=2,baz=3");

    /* An empty line is an empty list-member (test_tracestate_empty_header). */
    const char *e1[] = {"foo=1", ""};
    assert_int_equal(ts_lines(e1, 2, out, sizeof out), 5);
    assert_string_equal(out, "foo=1");
    const char *e2[] = {" ", NULL, "\t", "foo=1"};
    assert_int_equal(ts_lines(e2, 4, out, sizeof out), 5);
    const char *e3[] = {"", " \t "};
    assert_int_equal(ts_lines(e3, 2, out, sizeof out), 0);
    assert_string_equal(out, "");
}

/* "There can be a maximum of 32 list-members in a list", and a key repeated
 * on another line is a duplicate: the limits apply to the combined list
 * (test_tracestate_member_count_limit, test_tracestate_duplicated_keys). */
static void test_otel_tracestate_parse_lines_limits_on_the_whole(void **state)
{
    (void)state;
    char out[OTEL_TRACESTATE_MAX];
    strbuf a = {.len = 0}, b = {.len = 0};
    for (size_t i = 0; i < 20; i++)
        sb_member(&a, i);
    for (size_t i = 20; i < 32; i++)
        sb_member(&b, i);
    const char *v[] = {a.s, b.s, "kzz=1"};
    assert_int_equal(ts_lines(v, 2, out, sizeof out), (int)(a.len + 1 + b.len));
    assert_int_equal(ts_lines(v, 3, out, sizeof out), OTEL_ERR_PARSE);
    assert_string_equal(out, "");

    const char *dup[] = {"foo=1", "foo=2"};
    assert_int_equal(ts_lines(dup, 2, out, sizeof out), 5);
    assert_string_equal(out, "foo=1");

    /* One invalid line invalidates them all ("z" * 257 key: not a key). */
    strbuf big = {.len = 0};
    sb_rep(&big, 'z', 257);
    sb_add(&big, "=1");
    const char *bad[] = {"foo=1", big.s};
    assert_int_equal(ts_lines(bad, 2, out, sizeof out), OTEL_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_traceparent_parse_valid_sampled),
        cmocka_unit_test(test_otel_traceparent_parse_valid_unsampled),
        cmocka_unit_test(test_otel_traceparent_parse_v00_keeps_all_flag_bits),
        cmocka_unit_test(test_otel_traceparent_parse_uppercase_hex),
        cmocka_unit_test(test_otel_traceparent_parse_wrong_length),
        cmocka_unit_test(test_otel_traceparent_parse_zero_trace_id),
        cmocka_unit_test(test_otel_traceparent_parse_zero_span_id),
        cmocka_unit_test(test_otel_traceparent_parse_zero_ids_but_one_bit),
        cmocka_unit_test(test_otel_traceparent_parse_version_ff),
        cmocka_unit_test(test_otel_traceparent_parse_future_version),
        cmocka_unit_test(test_otel_traceparent_parse_future_version_keeps_only_sampled),
        cmocka_unit_test(test_otel_traceparent_parse_future_version_bad_separator),
        cmocka_unit_test(test_otel_traceparent_parse_v00_extra_fields),
        cmocka_unit_test(test_otel_traceparent_parse_non_hex),
        cmocka_unit_test(test_otel_traceparent_parse_missing_dashes),
        cmocka_unit_test(test_otel_traceparent_parse_ows_trimmed),
        cmocka_unit_test(test_otel_traceparent_parse_inner_space),
        cmocka_unit_test(test_otel_traceparent_parse_empty),
        cmocka_unit_test(test_otel_traceparent_parse_respects_len),
        cmocka_unit_test(test_otel_traceparent_format_known),
        cmocka_unit_test(test_otel_traceparent_format_flags_lowercase),
        cmocka_unit_test(test_otel_traceparent_format_round_trip),
        cmocka_unit_test(test_otel_traceparent_format_downgrades_version),
        cmocka_unit_test(test_otel_tracestate_parse_simple),
        cmocka_unit_test(test_otel_tracestate_parse_key_with_at_signs),
        cmocka_unit_test(test_otel_tracestate_parse_key_length_with_at),
        cmocka_unit_test(test_otel_tracestate_parse_simple_key_length),
        cmocka_unit_test(test_otel_tracestate_parse_ows_around_members),
        cmocka_unit_test(test_otel_tracestate_parse_empty_members),
        cmocka_unit_test(test_otel_tracestate_parse_empty),
        cmocka_unit_test(test_otel_tracestate_parse_32_members),
        cmocka_unit_test(test_otel_tracestate_parse_33_members),
        cmocka_unit_test(test_otel_tracestate_parse_duplicate_keys),
        cmocka_unit_test(test_otel_tracestate_parse_bad_key),
        cmocka_unit_test(test_otel_tracestate_parse_bad_value),
        cmocka_unit_test(test_otel_tracestate_parse_invalid_member_invalidates_all),
        cmocka_unit_test(test_otel_tracestate_parse_value_spaces),
        cmocka_unit_test(test_otel_tracestate_parse_value_length),
        cmocka_unit_test(test_otel_tracestate_parse_truncate_from_end),
        cmocka_unit_test(test_otel_tracestate_parse_truncate_long_first),
        cmocka_unit_test(test_otel_tracestate_parse_truncate_default_cap),
        cmocka_unit_test(test_otel_tracestate_parse_respects_len),
        cmocka_unit_test(test_otel_tracestate_parse_lines_combined_in_order),
        cmocka_unit_test(test_otel_tracestate_parse_lines_limits_on_the_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
