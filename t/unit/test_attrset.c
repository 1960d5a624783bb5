/* test_attrset.c - unit tests for core/attrset.c: attribute sets are sets (the spec's
 * common/README.md "Attribute"): the order of the keys makes no other set. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../core/alloc.h"
#include "../../core/attrset.h"
#include "../../core/test_hooks.h"

static void test_otel_attrset_hash_order_free(void **state)
{
    (void)state;
    otel_kv a[] = {OTEL_KV_STR("x", "1"), OTEL_KV_STR("y", "2"), OTEL_KV_INT("z", 3)};
    otel_kv b[] = {OTEL_KV_INT("z", 3), OTEL_KV_STR("x", "1"), OTEL_KV_STR("y", "2")};
    otel_kv swapped[] = {OTEL_KV_STR("x", "2"), OTEL_KV_STR("y", "1"), OTEL_KV_INT("z", 3)};
    assert_true(otel_attrset_hash(a, 3) == otel_attrset_hash(b, 3));
    assert_true(otel_attrset_hash(a, 3) != otel_attrset_hash(swapped, 3));
    otel_kv *set;
    assert_int_equal(otel_attrset_copy(b, 3, 8, &set), OTEL_OK);
    assert_string_equal(set[0].key, "x");
    assert_string_equal(set[2].key, "z");
    assert_true(otel_attrset_equal(set, 3, a, 3));
    assert_true(otel_attrset_equal(set, 3, b, 3));
    assert_false(otel_attrset_equal(set, 3, swapped, 3));
    otel_kv twice[] = {OTEL_KV_STR("x", "1"), OTEL_KV_STR("x", "1"), OTEL_KV_INT("z", 3)};
    assert_false(otel_attrset_equal(set, 3, twice, 3));
    otel_free(set);
    assert_int_equal(otel_attrset_copy(twice, 3, 8, &set), OTEL_ERR_INVALID);
    assert_null(set);
    assert_int_equal(otel_attrset_copy(a, 3, 2, &set), OTEL_ERR_INVALID);
}

static void test_otel_attrset_copy_out_of_memory(void **state)
{
    (void)state;
    otel_kv a[] = {OTEL_KV_STR("x", "1")};
    otel_kv *set = (otel_kv *)1;
    otel_alloc_fail_after(0);
    assert_int_equal(otel_attrset_copy(a, 1, 8, &set), OTEL_ERR_NOMEM);
    otel_alloc_fail_after(-1);
    assert_null(set);
    assert_int_equal(otel_attrset_copy(NULL, 0, 8, &set), OTEL_OK);
    assert_true(otel_attrset_equal(set, 0, NULL, 0));
    otel_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_attrset_hash_order_free),
        cmocka_unit_test(test_otel_attrset_copy_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
