/* test_copy.c - unit tests for core/copy.h (copies and comparisons of a few
 * bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/copy.h"

#define MAX_N 80
#define GUARD 16

/* Every length from 0 to past the memcpy threshold, at every alignment of
 * source and destination: the n bytes arrive in order, the bytes around the
 * destination are untouched. The source sits at the end of a heap block,
 * so that a read past it is a heap overflow under AddressSanitizer. */
static void test_otel_copy_small_lengths_and_bounds(void **state)
{
    (void)state;
    unsigned char dst[GUARD + MAX_N + 8 + GUARD];
    for (size_t n = 0; n <= MAX_N; n++) {
        for (size_t sa = 0; sa < 8; sa++) {
            unsigned char *block = malloc(sa + n > 0 ? sa + n : 1);
            assert_non_null(block);
            unsigned char *src = block + sa;
            for (size_t i = 0; i < n; i++)
                src[i] = (unsigned char)(i * 7 + n + 1);
            for (size_t da = 0; da < 8; da++) {
                memset(dst, 0xa5, sizeof(dst));
                otel_copy_small(dst + GUARD + da, src, n);
                assert_memory_equal(dst + GUARD + da, src, n);
                for (size_t i = 0; i < GUARD + da; i++)
                    assert_int_equal(dst[i], 0xa5);
                for (size_t i = GUARD + da + n; i < sizeof(dst); i++)
                    assert_int_equal(dst[i], 0xa5);
            }
            free(block);
        }
    }
}

/* otel_equal_small agrees with memcmp for every length from 0 to past its
 * memcmp threshold, at every alignment, for equal bytes and for one byte
 * different at each place; both sit at the end of heap blocks, so that a
 * read past either is a heap overflow under AddressSanitizer. */
static void test_otel_equal_small_lengths_and_bounds(void **state)
{
    (void)state;
    for (size_t n = 0; n <= MAX_N; n++) {
        for (size_t al = 0; al < 8; al++) {
            unsigned char *ba = malloc(al + n > 0 ? al + n : 1);
            unsigned char *bb = malloc(n > 0 ? n : 1);
            assert_non_null(ba);
            assert_non_null(bb);
            unsigned char *a = ba + al;
            for (size_t i = 0; i < n; i++)
                a[i] = bb[i] = (unsigned char)(i * 13 + n + 3);
            assert_true(otel_equal_small(a, bb, n));
            for (size_t at = 0; at < n; at++) {
                bb[at] ^= 0x40;
                assert_false(otel_equal_small(a, bb, n));
                assert_false(otel_equal_small(bb, a, n));
                bb[at] ^= 0x40;
            }
            free(ba);
            free(bb);
        }
    }
    assert_true(otel_equal_small(NULL, NULL, 0));
}

/* Nothing to copy: neither pointer is touched, NULL included. */
static void test_otel_copy_small_zero_null(void **state)
{
    (void)state;
    otel_copy_small(NULL, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_copy_small_lengths_and_bounds),
        cmocka_unit_test(test_otel_copy_small_zero_null),
        cmocka_unit_test(test_otel_equal_small_lengths_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
