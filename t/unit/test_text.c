/* test_text.c - unit tests for core/text.c and core/text.h (OWS, hex,
 * tokens, host:port, known HTTP methods, growable buffers). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../core/alloc.h"
#include "../../core/text.h"
#include "../../core/test_hooks.h"

static int reset_alloc(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    return 0;
}

/* ---- OWS: RFC 9110 section 5.6.3 "Whitespace", OWS = *( SP / HTAB ) ----- */

static void test_otel_is_ows_sp_and_htab_only(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++)
        assert_int_equal(otel_is_ows((char)c), c == ' ' || c == '\t');
}

static void test_otel_trim_ows_both_ends(void **state)
{
    (void)state;
    const char *s = " \t a b\t \t";
    size_t n = strlen(s);
    otel_trim_ows(&s, &n);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "a b", 3);
    /* CR and LF are not OWS: they stay. */
    const char *t = "\r\nx\n";
    size_t m = strlen(t);
    otel_trim_ows(&t, &m);
    assert_int_equal(m, 4);
}

static void test_otel_trim_ows_all_blank(void **state)
{
    (void)state;
    const char *s = " \t\t ";
    size_t n = strlen(s);
    otel_trim_ows(&s, &n);
    assert_int_equal(n, 0);
    const char *e = "";
    size_t z = 0;
    otel_trim_ows(&e, &z);
    assert_int_equal(z, 0);
}

/* ---- hex: RFC 5234 appendix B.1 HEXDIG; RFC 3986 section 2.1 ------------ */

static void test_otel_hex_value_either_case(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        const char *d = "0123456789abcdef", *u = "0123456789ABCDEF";
        const char *pl = c != 0 ? strchr(d, c) : NULL;
        const char *pu = c != 0 ? strchr(u, c) : NULL;
        int want = pl ? (int)(pl - d) : pu ? (int)(pu - u) : -1;
        assert_int_equal(otel_hex_value((char)c), want);
        assert_int_equal(otel_hex_lower_value((char)c), pl ? (int)(pl - d) : -1);
    }
}

static void test_otel_hex_decode_lower_round_trip(void **state)
{
    (void)state;
    uint8_t in[8] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff}, out[8];
    char hex[17];
    otel_hex_encode(in, sizeof in, hex);
    assert_string_equal(hex, "00017f80abcdefff");
    assert_true(otel_hex_decode_lower(hex, sizeof out, out));
    assert_memory_equal(in, out, sizeof in);
    /* W3C traceparent and B3: uppercase is not a lowercase hex digit. */
    assert_false(otel_hex_decode_lower("0A", 1, out));
    assert_false(otel_hex_decode_lower("g0", 1, out));
}

static void test_otel_hex_put_cases(void **state)
{
    (void)state;
    char b[5] = {0};
    char *end = otel_hex_put(otel_hex_put(b, 0xab, false), 0x5e, true);
    assert_ptr_equal(end, b + 4);
    assert_string_equal(b, "ab5E");
}

static void test_otel_pct_byte_escapes(void **state)
{
    (void)state;
    assert_int_equal(otel_pct_byte("%41", 3), 0x41);
    assert_int_equal(otel_pct_byte("%c3%a9", 6), 0xc3);
    assert_int_equal(otel_pct_byte("%Ff", 3), 0xff);
    assert_int_equal(otel_pct_byte("%00", 3), 0);
    assert_int_equal(otel_pct_byte("%4", 2), -1); /* cut short */
    assert_int_equal(otel_pct_byte("%41", 2), -1);
    assert_int_equal(otel_pct_byte("%g1", 3), -1);
    assert_int_equal(otel_pct_byte("A41", 3), -1);
}

/* ---- tokens: RFC 9110 section 5.6.2 "Tokens" ------------------------------ */

static void test_otel_is_tchar_matches_the_grammar(void **state)
{
    (void)state;
    /* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
     *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
    const char *special = "!#$%&'*+-.^_`|~";
    int count = 0;
    for (int c = 0; c < 256; c++) {
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool digit = c >= '0' && c <= '9';
        bool want = alpha || digit || (c != 0 && strchr(special, c) != NULL);
        assert_int_equal(otel_is_tchar((char)c), want);
        count += want;
    }
    assert_int_equal(count, 77);
}

static void test_otel_is_token_one_or_more(void **state)
{
    (void)state;
    assert_true(otel_is_token("x-b3-traceid", 12));
    assert_true(otel_is_token("!#$%&'*+-.^_`|~", 15));
    assert_false(otel_is_token("", 0));
    assert_false(otel_is_token("a b", 3));
    assert_false(otel_is_token("a:b", 3));
    assert_false(otel_is_token("a\"", 2));
    assert_false(otel_is_token("\xc3\xa9", 2));
    assert_true(otel_is_token("ab\0", 2)); /* n bytes only */
}

/* ---- host and port: RFC 3986 sections 3.2.2 "Host" and 3.2.3 "Port" ---- */

static void split(const char *s, otel_hostport *hp, bool ok)
{
    assert_int_equal(otel_hostport_split(s, strlen(s), hp), ok);
}

static void assert_slice(const char *p, size_t n, const char *want)
{
    assert_non_null(p);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
}

static void test_otel_hostport_split_reg_name_and_ipv4(void **state)
{
    (void)state;
    otel_hostport hp;
    split("example.com", &hp, true);
    assert_slice(hp.host, hp.host_len, "example.com");
    assert_null(hp.port);
    assert_false(hp.bracketed);
    split("10.0.0.1:8080", &hp, true);
    assert_slice(hp.host, hp.host_len, "10.0.0.1");
    assert_slice(hp.port, hp.port_len, "8080");
    split("h:", &hp, true); /* port = *DIGIT: may be empty */
    assert_slice(hp.port, hp.port_len, "");
    split(":80", &hp, true);
    assert_int_equal(hp.host_len, 0);
}

static void test_otel_hostport_split_ip_literal(void **state)
{
    (void)state;
    otel_hostport hp;
    /* IP-literal = "[" ( IPv6address / IPvFuture ) "]" */
    split("[::1]:4317", &hp, true);
    assert_true(hp.bracketed);
    assert_slice(hp.host, hp.host_len, "::1");
    assert_slice(hp.port, hp.port_len, "4317");
    split("[2001:db8::7]", &hp, true);
    assert_slice(hp.host, hp.host_len, "2001:db8::7");
    assert_null(hp.port);
}

static void test_otel_hostport_split_malformed(void **state)
{
    (void)state;
    otel_hostport hp;
    split("[::1", &hp, false); /* no ']': the host as far as it goes */
    assert_slice(hp.host, hp.host_len, "::1");
    assert_null(hp.port);
    split("[::1]x", &hp, false);
    assert_slice(hp.host, hp.host_len, "::1");
    assert_null(hp.port);
    split("[", &hp, false);
    assert_int_equal(hp.host_len, 0);
}

static void test_otel_port_parse_range(void **state)
{
    (void)state;
    assert_int_equal(otel_port_parse("1", 1), 1);
    assert_int_equal(otel_port_parse("65535", 5), 65535);
    assert_int_equal(otel_port_parse("00080", 5), 80);
    assert_int_equal(otel_port_parse("0", 1), -1);
    assert_int_equal(otel_port_parse("65536", 5), -1);
    assert_int_equal(otel_port_parse("123456", 6), -1);
    assert_int_equal(otel_port_parse("", 0), -1);
    assert_int_equal(otel_port_parse(NULL, 0), -1);
    assert_int_equal(otel_port_parse("+80", 3), -1);
    assert_int_equal(otel_port_parse("8 0", 3), -1);
    assert_int_equal(otel_port_parse("80x", 2), 80); /* n bytes only */
}

/* ---- OTel HTTP semantic conventions: http.request.method "known" methods */

static void test_otel_http_method_known_the_nine(void **state)
{
    (void)state;
    /* RFC 9110 section 9.3 "Method Definitions" and PATCH (RFC 5789). */
    const char *known[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                           "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char copy[16];
        memcpy(copy, known[i], strlen(known[i]) + 1);
        const char *m = otel_http_method_known(copy);
        assert_non_null(m);
        assert_string_equal(m, known[i]);
        assert_ptr_not_equal(m, copy); /* a static name, not the argument */
    }
}

static void test_otel_http_method_known_others(void **state)
{
    (void)state;
    /* Case-sensitive: "get" is not GET. */
    const char *other[] = {"get",    "Get",    "GETS",     "GE",    "",
                           "P",      "PO",     "PROPFIND", "QUERY", "DELETE ",
                           "OPTION", "TRACEX", "PATCHY",   "X",     "HEAD\n"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        assert_null(otel_http_method_known(other[i]));
    assert_null(otel_http_method_known(NULL));
}

/* ---- growable buffers ---------------------------------------------------- */

static void test_otel_grow_cap_doubles(void **state)
{
    (void)state;
    assert_int_equal(otel_grow_cap(0, 1, 16), 16);
    assert_int_equal(otel_grow_cap(16, 17, 16), 32);
    assert_int_equal(otel_grow_cap(16, 100, 16), 128);
    assert_int_equal(otel_grow_cap(0, 5, 0), 8);
    assert_int_equal(otel_grow_cap(SIZE_MAX / 2 + 1, SIZE_MAX, 16), SIZE_MAX);
}

static void test_otel_grow_keeps_contents(void **state)
{
    (void)state;
    void *p = NULL;
    size_t cap = 0;
    assert_int_equal(otel_grow(&p, &cap, 3, 1024), OTEL_OK);
    assert_int_equal(cap, 1024);
    memcpy(p, "abc", 3);
    assert_int_equal(otel_grow(&p, &cap, 1000, 1024), OTEL_OK); /* fits: unchanged */
    assert_int_equal(cap, 1024);
    assert_int_equal(otel_grow(&p, &cap, 3000, 1024), OTEL_OK);
    assert_int_equal(cap, 4096);
    assert_memory_equal(p, "abc", 3);
    otel_free(p);
}

static void test_otel_grow_nomem_leaves_buffer(void **state)
{
    (void)state;
    void *p = NULL;
    size_t cap = 0;
    assert_int_equal(otel_grow(&p, &cap, 8, 8), OTEL_OK);
    void *before = p;
    otel_alloc_fail_after(0);
    assert_int_equal(otel_grow(&p, &cap, 100, 8), OTEL_ERR_NOMEM);
    otel_alloc_fail_after(-1);
    assert_ptr_equal(p, before);
    assert_int_equal(cap, 8);
    otel_free(p);
}

static void test_otel_buf_append_and_reserve(void **state)
{
    (void)state;
    otel_buf b = {0};
    assert_int_equal(otel_buf_append(&b, "hello", 5), OTEL_OK);
    assert_int_equal(otel_buf_append(&b, NULL, 0), OTEL_OK);
    assert_int_equal(b.len, 5);
    assert_true(b.cap >= 4096);
    char big[5000];
    memset(big, 'x', sizeof big);
    assert_int_equal(otel_buf_append(&b, big, sizeof big), OTEL_OK);
    assert_int_equal(b.len, 5005);
    assert_memory_equal(b.data, "hello", 5);
    assert_int_equal(b.data[5004], 'x');
    assert_int_equal(otel_buf_reserve(&b, SIZE_MAX), OTEL_ERR_NOMEM); /* len + extra overflows */
    assert_int_equal(b.len, 5005);
    otel_free(b.data);
}

static void test_otel_buf_append_nomem(void **state)
{
    (void)state;
    otel_buf b = {0};
    otel_alloc_fail_after(0);
    assert_int_equal(otel_buf_append(&b, "x", 1), OTEL_ERR_NOMEM);
    otel_alloc_fail_after(-1);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_is_ows_sp_and_htab_only),
        cmocka_unit_test(test_otel_trim_ows_both_ends),
        cmocka_unit_test(test_otel_trim_ows_all_blank),
        cmocka_unit_test(test_otel_hex_value_either_case),
        cmocka_unit_test(test_otel_hex_decode_lower_round_trip),
        cmocka_unit_test(test_otel_hex_put_cases),
        cmocka_unit_test(test_otel_pct_byte_escapes),
        cmocka_unit_test(test_otel_is_tchar_matches_the_grammar),
        cmocka_unit_test(test_otel_is_token_one_or_more),
        cmocka_unit_test(test_otel_hostport_split_reg_name_and_ipv4),
        cmocka_unit_test(test_otel_hostport_split_ip_literal),
        cmocka_unit_test(test_otel_hostport_split_malformed),
        cmocka_unit_test(test_otel_port_parse_range),
        cmocka_unit_test(test_otel_http_method_known_the_nine),
        cmocka_unit_test(test_otel_http_method_known_others),
        cmocka_unit_test(test_otel_grow_cap_doubles),
        cmocka_unit_test(test_otel_grow_keeps_contents),
        cmocka_unit_test_teardown(test_otel_grow_nomem_leaves_buffer, reset_alloc),
        cmocka_unit_test(test_otel_buf_append_and_reserve),
        cmocka_unit_test_teardown(test_otel_buf_append_nomem, reset_alloc),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
