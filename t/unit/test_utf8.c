/* test_utf8.c - unit tests for core/utf8.c and core/utf8.h (UTF-8 checks
 * and the cleaning copy every attribute value goes through). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/utf8.h"

#define GUARD 16
#define FILL 0xa5

/* A heap copy of n bytes of s at the very end of its block, so that a read
 * past it is a heap overflow under AddressSanitizer. */
static char *tail_copy(const char *s, size_t n)
{
    char *b = malloc(n > 0 ? n : 1);
    assert_non_null(b);
    memcpy(b, s, n);
    return b;
}

/* Every length to 16, every byte position: plain ASCII is copied whole and
 * nothing around it written; a NUL, a byte >= 0x80 (alone or as part of a
 * valid sequence) anywhere makes it refuse. otel_utf8_ascii_copy16_nonul,
 * for bytes that hold no NUL, does the same for the other bytes. */
static void test_otel_utf8_ascii_copy16(void **state)
{
    (void)state;
    static const unsigned char bad[] = {0x00, 0x80, 0xc3, 0xff};
    char dst[GUARD + 16 + GUARD];
    char src[16];
    for (size_t n = 0; n <= 16; n++) {
        for (size_t i = 0; i < n; i++)
            src[i] = (char)(0x20 + (i * 5 + n) % 0x5f); /* ' ' to '~' */
        if (n > 0)
            src[n - 1] = 0x7f; /* DEL is ASCII */
        char *s = tail_copy(src, n);
        memset(dst, FILL, sizeof(dst));
        memset(dst, FILL, sizeof(dst));
        assert_true(otel_utf8_ascii_copy16_nonul(dst + GUARD, s, n));
        assert_memory_equal(dst + GUARD, src, n);
        memset(dst, FILL, sizeof(dst));
        assert_true(otel_utf8_ascii_copy16(dst + GUARD, s, n));
        assert_memory_equal(dst + GUARD, src, n);
        for (size_t i = 0; i < GUARD; i++)
            assert_int_equal((unsigned char)dst[i], FILL);
        for (size_t i = GUARD + n; i < sizeof(dst); i++)
            assert_int_equal((unsigned char)dst[i], FILL);
        for (size_t at = 0; at < n; at++) {
            for (size_t b = 0; b < sizeof(bad); b++) {
                char saved = s[at];
                s[at] = (char)bad[b];
                assert_false(otel_utf8_ascii_copy16(dst + GUARD, s, n));
                if (bad[b] != 0x00)
                    assert_false(otel_utf8_ascii_copy16_nonul(dst + GUARD, s, n));
                assert_int_equal(otel_utf8_ascii_prefix((const unsigned char *)s, n), at);
                s[at] = saved;
            }
        }
        free(s);
    }
    assert_true(otel_utf8_ascii_copy16(NULL, NULL, 0));
}

/* otel_utf8_ascii_all says what the prefix says (all n bytes plain), for
 * every length from 0 to 40 (the byte loop, the two half words, whole words
 * and the overlapping last one) and a bad byte (NUL, 0x80, 0xff) at each
 * place, read from the end of an allocation so that ASan sees a load past
 * it. */
static void test_otel_utf8_ascii_all(void **state)
{
    (void)state;
    static const unsigned char bad[] = {0x00, 0x80, 0xff};
    for (size_t n = 0; n <= 40; n++) {
        unsigned char *s = malloc(n > 0 ? n : 1);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
            s[i] = (unsigned char)('a' + i % 26);
        if (n > 0)
            s[n - 1] = 0x7f; /* DEL is ASCII */
        assert_true(otel_utf8_ascii_all(s, n));
        for (size_t at = 0; at < n; at++) {
            for (size_t b = 0; b < sizeof(bad); b++) {
                unsigned char saved = s[at];
                s[at] = bad[b];
                assert_false(otel_utf8_ascii_all(s, n));
                assert_int_equal(otel_utf8_ascii_prefix(s, n), at);
                s[at] = saved;
            }
        }
        free(s);
    }
}

/* The ASCII prefix stops at the first NUL or byte >= 0x80, within a word
 * and across words. */
static void test_otel_utf8_ascii_prefix(void **state)
{
    (void)state;
    const char *s = "abcdefghijklmnopqrstuvwxyz";
    char buf[32];
    assert_int_equal(otel_utf8_ascii_prefix((const unsigned char *)s, 26), 26);
    for (size_t at = 0; at < 26; at++) {
        memcpy(buf, s, 26);
        buf[at] = (char)0xe9;
        assert_int_equal(otel_utf8_ascii_prefix((const unsigned char *)buf, 26), at);
        buf[at] = '\0';
        assert_int_equal(otel_utf8_ascii_prefix((const unsigned char *)buf, 26), at);
    }
    assert_int_equal(otel_utf8_ascii_prefix((const unsigned char *)s, 0), 0);
}

/* RFC 3629 section 4 (the syntax of UTF-8 byte sequences): the lengths of
 * valid sequences; NUL, lone continuation bytes, overlong forms, surrogates
 * (U+D800..U+DFFF), values over U+10FFFF and cut sequences are not ones. */
static void test_otel_utf8_seq_len(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        size_t want;
    } cases[] = {
        {"a", 1, 1},
        {"\x7f", 1, 1},
        {"\0", 1, 0},
        {"\xc3\xa9", 2, 2},
        {"\xc3", 1, 0},
        {"\xc0\xaf", 2, 0},
        {"\xc1\xbf", 2, 0},
        {"\x80", 1, 0},
        {"\xbf", 1, 0},
        {"\xe2\x82\xac", 3, 3},
        {"\xe0\x80\xaf", 3, 0},
        {"\xe0\xa0\x80", 3, 3},
        {"\xed\x9f\xbf", 3, 3},
        {"\xed\xa0\x80", 3, 0},
        {"\xed\xbf\xbf", 3, 0},
        {"\xe2\x82", 2, 0},
        {"\xe2\x28\xa1", 3, 0},
        {"\xf0\x9f\x98\x80", 4, 4},
        {"\xf0\x8f\xbf\xbf", 4, 0},
        {"\xf4\x8f\xbf\xbf", 4, 4},
        {"\xf4\x90\x80\x80", 4, 0},
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xf0\x9f\x98", 3, 0},
        {"\xff", 1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(otel_utf8_seq_len((const unsigned char *)cases[i].s, cases[i].n),
                         cases[i].want);
}

/* Each invalid byte and each NUL becomes U+FFFD; valid text, short or long,
 * is copied as it is; the output is cut at max on a character boundary. */
static void test_otel_utf8_clean(void **state)
{
    (void)state;
    char out[256];
    static const struct {
        const char *in;
        size_t len;
        size_t max;
        const char *want;
    } cases[] = {
        {"GET", 3, 100, "GET"},
        {"/hello/x", 8, 100, "/hello/x"},
        {"wrk/4.2.0 long enough to be past 16", 35, 100, "wrk/4.2.0 long enough to be past 16"},
        {"caf\xc3\xa9", 5, 100, "caf\xc3\xa9"},
        {"a\xff"
         "b",
         3, 100,
         "a\xef\xbf\xbd"
         "b"},
        {"a\0b", 3, 100,
         "a\xef\xbf\xbd"
         "b"},
        {"\xed\xa0\x80", 3, 100, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"abcdef", 6, 4, "abcd"},
        {"abc\xc3\xa9", 5, 4, "abc"},
        {"ab\xff", 3, 4, "ab"},
        {"0123456789abcdefXYZ", 19, 17, "0123456789abcdefX"},
        {"", 0, 100, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *in = tail_copy(cases[i].in, cases[i].len);
        memset(out, FILL, sizeof(out));
        size_t n = otel_utf8_clean(out, in, cases[i].len, cases[i].max);
        assert_int_equal(n, strlen(cases[i].want));
        assert_memory_equal(out, cases[i].want, n);
        assert_int_equal((unsigned char)out[n], FILL);
        free(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_utf8_ascii_copy16),
        cmocka_unit_test(test_otel_utf8_ascii_prefix),
        cmocka_unit_test(test_otel_utf8_ascii_all),
        cmocka_unit_test(test_otel_utf8_seq_len),
        cmocka_unit_test(test_otel_utf8_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
