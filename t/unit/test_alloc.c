/* test_alloc.c - unit tests for core/alloc.c and core/errors.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../core/alloc.h"
#include <mhd-otel/otel.h>
#include "../../core/test_hooks.h"

static int reset_alloc(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    return 0;
}

static void test_otel_alloc_fail_after_counts_down(void **state)
{
    (void)state;
    otel_alloc_fail_after(2);
    void *a = otel_malloc(8);
    void *b = otel_calloc(2, 8);
    void *c = otel_malloc(8);
    void *d = otel_strdup("x");
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_null(d); /* stays failing until reset */
    otel_alloc_fail_after(-1);
    void *e = otel_realloc(NULL, 8);
    assert_non_null(e);
    otel_free(a);
    otel_free(b);
    otel_free(e);
}

static void test_otel_strndup_cuts_and_terminates(void **state)
{
    (void)state;
    char *s = otel_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    otel_free(s);
    s = otel_strndup("ab", 10);
    assert_string_equal(s, "ab");
    otel_free(s);
    s = otel_strdup("");
    assert_string_equal(s, "");
    otel_free(s);
}

static void test_otel_realloc_keeps_content(void **state)
{
    (void)state;
    char *p = otel_malloc(4);
    memcpy(p, "abc", 4);
    p = otel_realloc(p, 4096);
    assert_string_equal(p, "abc");
    otel_free(p);
    otel_free(NULL);
}

static void test_otel_strerror_every_code(void **state)
{
    (void)state;
    const int codes[] = {OTEL_OK,          OTEL_ERR_NOMEM,      OTEL_ERR_INVALID, OTEL_ERR_FULL,
                         OTEL_ERR_TIMEOUT, OTEL_ERR_IO,         OTEL_ERR_STATE,   OTEL_ERR_PARSE,
                         OTEL_ERR_RANGE,   OTEL_ERR_UNSUPPORTED};
    const char *unknown = otel_strerror(-1000);
    assert_string_equal(unknown, "unknown error");
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *m = otel_strerror(codes[i]);
        assert_non_null(m);
        assert_string_not_equal(m, unknown);
        for (size_t j = 0; j < i; j++) /* each code has its own message */
            assert_string_not_equal(m, otel_strerror(codes[j]));
    }
    assert_string_equal(otel_strerror(OTEL_ERR_NOMEM), "out of memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_otel_alloc_fail_after_counts_down, reset_alloc),
        cmocka_unit_test(test_otel_strndup_cuts_and_terminates),
        cmocka_unit_test(test_otel_realloc_keeps_content),
        cmocka_unit_test(test_otel_strerror_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
