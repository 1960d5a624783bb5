/* test_resource.c - unit tests for core/resource.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
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

/* True when s is well-formed UTF-8. */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        size_t n = *p < 0x80         ? 1
                   : (*p >> 5) == 6  ? 2
                   : (*p >> 4) == 14 ? 3
                   : (*p >> 3) == 30 ? 4
                                     : 0;
        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static void test_otel_resource_new_defaults(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, NULL), OTEL_OK);
    assert_non_null(r);
    char want[300];
    snprintf(want, sizeof(want), "unknown_service:%s", program_invocation_short_name);
    assert_string_equal(otel_resource_get(r, "service.name"), want);
    assert_string_equal(otel_resource_get(r, "telemetry.sdk.language"), "c");
    assert_string_equal(otel_resource_get(r, "telemetry.sdk.name"), "mhd-otel");
    assert_string_equal(otel_resource_get(r, "telemetry.sdk.version"), OTEL_SDK_VERSION);
    assert_int_equal(otel_resource_count(r), 4);
    assert_null(otel_resource_get(r, "host.name"));
    otel_resource_del(r);
}

static void test_otel_resource_new_empty_name_is_unknown(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, ""), OTEL_OK);
    const char *name = otel_resource_get(r, "service.name");
    assert_non_null(name);
    assert_int_equal(strncmp(name, "unknown_service:", 16), 0);
    assert_string_equal(name + 16, program_invocation_short_name);
    otel_resource_del(r);
}

static void test_otel_resource_new_explicit_name(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    char name[] = "checkout";
    assert_int_equal(otel_resource_new(&r, name), OTEL_OK);
    name[0] = 'X'; /* copied, not borrowed */
    assert_string_equal(otel_resource_get(r, "service.name"), "checkout");
    assert_string_equal(otel_resource_get(r, "telemetry.sdk.language"), "c");
    assert_int_equal(otel_resource_count(r), 4);
    otel_resource_del(r);
}

static void test_otel_resource_set_add_and_replace(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
    char value[] = "prod";
    assert_int_equal(otel_resource_set(r, "deployment.environment", value), OTEL_OK);
    value[0] = 'X';
    assert_string_equal(otel_resource_get(r, "deployment.environment"), "prod");
    assert_int_equal(otel_resource_count(r), 5);

    assert_int_equal(otel_resource_set(r, "deployment.environment", "staging"), OTEL_OK);
    assert_string_equal(otel_resource_get(r, "deployment.environment"), "staging");
    assert_int_equal(otel_resource_count(r), 5);

    assert_int_equal(otel_resource_set(r, "service.name", "renamed"), OTEL_OK);
    assert_string_equal(otel_resource_get(r, "service.name"), "renamed");
    assert_int_equal(otel_resource_count(r), 5);

    assert_int_equal(otel_resource_set(r, "empty", ""), OTEL_OK);
    assert_string_equal(otel_resource_get(r, "empty"), "");
    otel_resource_del(r);
}

static void test_otel_resource_set_many_grows(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
    for (int i = 0; i < 50; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        assert_int_equal(otel_resource_set(r, k, v), OTEL_OK);
    }
    assert_int_equal(otel_resource_count(r), 54);
    for (int i = 0; i < 50; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "v%d", i);
        assert_string_equal(otel_resource_get(r, k), v);
    }
    assert_string_equal(otel_resource_get(r, "service.name"), "svc");
    otel_resource_del(r);
}

static void test_otel_resource_at_order(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
    assert_int_equal(otel_resource_set(r, "a.b", "1"), OTEL_OK);
    const char *want_k[] = {"service.name", "telemetry.sdk.name", "telemetry.sdk.language",
                            "telemetry.sdk.version", "a.b"};
    const char *want_v[] = {"svc", "mhd-otel", "c", OTEL_SDK_VERSION, "1"};
    assert_int_equal(otel_resource_count(r), 5);
    int seen[5] = {0};
    for (size_t i = 0; i < otel_resource_count(r); i++) {
        const char *k = NULL, *v = NULL;
        otel_resource_at(r, i, &k, &v);
        assert_non_null(k);
        assert_non_null(v);
        for (int j = 0; j < 5; j++)
            if (strcmp(k, want_k[j]) == 0) {
                assert_string_equal(v, want_v[j]);
                seen[j]++;
            }
    }
    for (int j = 0; j < 5; j++)
        assert_int_equal(seen[j], 1);
    /* Replacing keeps the position. */
    const char *k0 = NULL, *v0 = NULL;
    otel_resource_at(r, 4, &k0, &v0);
    assert_string_equal(k0, "a.b");
    assert_int_equal(otel_resource_set(r, "a.b", "2"), OTEL_OK);
    otel_resource_at(r, 4, &k0, &v0);
    assert_string_equal(k0, "a.b");
    assert_string_equal(v0, "2");
    otel_resource_del(r);
}

static void test_otel_resource_set_invalid_args(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
    assert_int_equal(otel_resource_set(NULL, "k", "v"), OTEL_ERR_INVALID);
    assert_int_equal(otel_resource_set(r, NULL, "v"), OTEL_ERR_INVALID);
    assert_int_equal(otel_resource_set(r, "k", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_resource_set(r, "", "v"), OTEL_ERR_INVALID);
    assert_int_equal(otel_resource_count(r), 4);
    assert_null(otel_resource_get(NULL, "service.name"));
    assert_int_equal(otel_resource_count(NULL), 0);
    otel_resource_del(NULL);
    otel_resource_del(r);
}

/* One scenario: new, a dozen sets (the array grows), a replace. Returns the
 * first error, with *out holding the resource (or NULL). */
static int scenario(otel_resource **out)
{
    int rc = otel_resource_new(out, "svc");
    if (rc != OTEL_OK) {
        assert_null(*out);
        return rc;
    }
    for (int i = 0; i < 12; i++) {
        char k[16];
        snprintf(k, sizeof(k), "key%d", i);
        size_t before = otel_resource_count(*out);
        rc = otel_resource_set(*out, k, "value");
        if (rc != OTEL_OK) {
            /* A failed set leaves the resource as it was. */
            assert_int_equal(otel_resource_count(*out), before);
            assert_null(otel_resource_get(*out, k));
            return rc;
        }
    }
    rc = otel_resource_set(*out, "key3", "replaced");
    if (rc != OTEL_OK) {
        assert_string_equal(otel_resource_get(*out, "key3"), "value");
        return rc;
    }
    return OTEL_OK;
}

/* OTLP resource attributes are protobuf strings, which must be UTF-8 (the
 * OTLP specification: AnyValue.string_value). A config value such as
 * OTEL_RESOURCE_ATTRIBUTES=team=%FF decodes to a lone 0xff byte: it is
 * stored as U+FFFD, in the key as in the value; valid UTF-8 is kept. */
static void test_otel_resource_set_cleans_utf8(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
    assert_int_equal(otel_resource_set(r, "team", "\xff"), OTEL_OK);
    assert_string_equal(otel_resource_get(r, "team"), "\xef\xbf\xbd");
    assert_int_equal(otel_resource_set(r, "k\xc3", "caf\xc3\xa9 \xe2\x82"), OTEL_OK);
    assert_string_equal(otel_resource_get(r, "k\xef\xbf\xbd"),
                        "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
    /* The cleaned key is the one that is replaced. */
    assert_int_equal(otel_resource_set(r, "k\xc3", "again"), OTEL_OK);
    assert_string_equal(otel_resource_get(r, "k\xef\xbf\xbd"), "again");
    for (size_t i = 0; i < otel_resource_count(r); i++) {
        const char *k, *v;
        otel_resource_at(r, i, &k, &v);
        assert_true(utf8_ok(k) && utf8_ok(v));
    }
    otel_resource_del(r);
}

static void test_otel_resource_new_alloc_failure(void **state)
{
    (void)state;
    long n;
    int failures = 0;
    for (n = 0; n < 1000; n++) {
        otel_resource *r = NULL;
        otel_alloc_fail_after(n);
        int rc = scenario(&r);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            assert_int_equal(otel_resource_count(r), 16);
            assert_string_equal(otel_resource_get(r, "key3"), "replaced");
            assert_string_equal(otel_resource_get(r, "service.name"), "svc");
            otel_resource_del(r);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        failures++;
        otel_resource_del(r);
    }
    assert_true(n < 1000);
    /* new: 1 + 4 x 2; 12 sets: 24 + 1 growth; replace: 1 */
    assert_true(failures >= 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_resource_new_defaults),
        cmocka_unit_test(test_otel_resource_new_empty_name_is_unknown),
        cmocka_unit_test(test_otel_resource_new_explicit_name),
        cmocka_unit_test(test_otel_resource_set_add_and_replace),
        cmocka_unit_test(test_otel_resource_set_many_grows),
        cmocka_unit_test(test_otel_resource_at_order),
        cmocka_unit_test(test_otel_resource_set_invalid_args),
        cmocka_unit_test(test_otel_resource_set_cleans_utf8),
        cmocka_unit_test_teardown(test_otel_resource_new_alloc_failure, reset_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
