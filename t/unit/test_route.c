/* test_route.c - unit tests for module/route.c (route patterns and skipped
 * paths). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../core/span_int.h"
#include "../../module/route.h"

/* A string list over literals (the functions under test only read it). */
#define STRV(...)                                                                                  \
    ((mhd_otel_strv){(char *[]){__VA_ARGS__}, sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

static const mhd_otel_strv empty = {NULL, 0};

/* The pattern of routes that path (len bytes) matches, the routes cut
 * for the call. */
static const char *match_n(const mhd_otel_strv *routes, const char *path, size_t len)
{
    mhd_otel_routes cut;
    assert_int_equal(mhd_otel_routes_init(&cut, routes), OTEL_OK);
    const mhd_otel_route *rt = mhd_otel_route_match(&cut, path, len);
    const char *m = rt != NULL ? rt->pattern : NULL;
    mhd_otel_routes_free(&cut);
    return m;
}

static const char *match(const mhd_otel_strv *routes, const char *path)
{
    return match_n(routes, path, strlen(path));
}

static bool skipped(const mhd_otel_strv *exact, const mhd_otel_strv *prefixes, const char *path)
{
    return mhd_otel_path_skipped(exact, prefixes, path, strlen(path));
}

static void test_mhd_otel_route_match_exact(void **state)
{
    (void)state;
    mhd_otel_strv r = STRV("/health", "/users", "/");
    assert_string_equal(match(&r, "/health"), "/health");
    assert_string_equal(match(&r, "/users"), "/users");
    assert_string_equal(match(&r, "/"), "/");
    assert_ptr_equal(match(&r, "/users"), r.v[1]); /* borrowed from routes */
    assert_null(match(&r, "/healthz"));
    assert_null(match(&r, "/healt"));
    assert_null(match(&r, "/users/1"));
    assert_null(match(&r, ""));
}

static void test_mhd_otel_route_match_param(void **state)
{
    (void)state;
    mhd_otel_strv r = STRV("/users/{id}", "/users/{id}/posts/{post}");
    assert_string_equal(match(&r, "/users/42"), "/users/{id}");
    assert_string_equal(match(&r, "/users/a-b_c.d"), "/users/{id}");
    assert_string_equal(match(&r, "/users/1/posts/abc"), "/users/{id}/posts/{post}");
    assert_null(match(&r, "/users"));
    assert_null(match(&r, "/users/1/posts"));
    assert_null(match(&r, "/users/1/comments/2"));
    assert_null(match(&r, "/users/1/posts/2/x"));
}

static void test_mhd_otel_route_match_fewest_params_wins(void **state)
{
    (void)state;
    mhd_otel_strv r = STRV("/users/{id}", "/users/me");
    assert_string_equal(match(&r, "/users/me"), "/users/me");
    assert_string_equal(match(&r, "/users/7"), "/users/{id}");

    mhd_otel_strv r2 = STRV("/a/{x}/{y}", "/a/{x}/c");
    assert_string_equal(match(&r2, "/a/b/c"), "/a/{x}/c");
    assert_string_equal(match(&r2, "/a/b/d"), "/a/{x}/{y}");

    /* Equal counts: the first configured. */
    mhd_otel_strv r3 = STRV("/a/{x}/c", "/a/b/{y}");
    assert_string_equal(match(&r3, "/a/b/c"), "/a/{x}/c");
    mhd_otel_strv r4 = STRV("/a/b/{y}", "/a/{x}/c");
    assert_string_equal(match(&r4, "/a/b/c"), "/a/b/{y}");
}

static void test_mhd_otel_route_match_empty_segment(void **state)
{
    (void)state;
    mhd_otel_strv r = STRV("/users/{id}", "/users/{id}/posts");
    assert_null(match(&r, "/users/"));
    assert_null(match(&r, "/users//posts"));
    mhd_otel_strv r2 = STRV("/{a}");
    assert_null(match(&r2, "/"));
    assert_string_equal(match(&r2, "/x"), "/{a}");
}

static void test_mhd_otel_route_match_trailing_slash(void **state)
{
    (void)state;
    mhd_otel_strv r = STRV("/users");
    assert_null(match(&r, "/users/"));
    mhd_otel_strv r2 = STRV("/users/");
    assert_null(match(&r2, "/users"));
    assert_string_equal(match(&r2, "/users/"), "/users/");
    mhd_otel_strv r3 = STRV("/users/{id}");
    assert_null(match(&r3, "/users/1/"));
}

static void test_mhd_otel_route_match_no_match(void **state)
{
    (void)state;
    assert_null(match(&empty, "/anything"));
    mhd_otel_strv r = STRV("/a", "/b/{x}", "/c/{x");
    assert_null(match(&r, "/z"));
    assert_null(match(&r, "/A"));
    assert_null(match(&r, "/c/1")); /* an unclosed brace never matches */
}

static void test_mhd_otel_route_match_uses_len(void **state)
{
    (void)state;
    mhd_otel_strv r = STRV("/users/{id}", "/users/42?x=1");
    const char *path = "/users/42?x=1";
    assert_string_equal(match_n(&r, path, 9), "/users/{id}");
    assert_string_equal(match_n(&r, path, strlen(path)), "/users/42?x=1");
    assert_null(match_n(&r, path, 7)); /* "/users/" */
}

/* A route's span names, made when the routes are cut: "METHOD pattern" for
 * each of the nine known methods, the pattern cut to OTEL_SPAN_NAME_PAIR_MAX
 * as a span's own name would be; none for a pattern that is not plain
 * ASCII or for one never matched. The route matched is the pattern's. */
static void test_mhd_otel_route_name(void **state)
{
    (void)state;
    static char longest[400];
    memset(longest, 'a', sizeof(longest) - 1);
    longest[0] = '/';
    mhd_otel_strv r = STRV("/users/{id}", "/caf\xc3\xa9", longest, "/c/{x");
    mhd_otel_routes cut;
    assert_int_equal(mhd_otel_routes_init(&cut, &r), OTEL_OK);
    for (unsigned k = 0; k < OTEL_HTTP_KNOWN_METHODS; k++) {
        const char *known = otel_http_known_methods[k];
        assert_ptr_equal(otel_http_method_known(known), known);
        assert_int_equal(otel_http_method_index(known), k);
        assert_int_equal(otel_http_known_method_lens[k], strlen(known));
        char want[512];
        snprintf(want, sizeof(want), "%s /users/{id}", known);
        assert_string_equal(mhd_otel_route_name(&cut.v[0], known), want);
        assert_null(mhd_otel_route_name(&cut.v[1], known));
        const char *l = mhd_otel_route_name(&cut.v[2], known);
        assert_non_null(l);
        assert_int_equal(strlen(l), OTEL_SPAN_NAME_PAIR_MAX);
        assert_int_equal(strncmp(l, known, strlen(known)), 0);
        assert_null(mhd_otel_route_name(&cut.v[3], known));
    }
    const mhd_otel_route *rt = mhd_otel_route_match(&cut, "/users/7", 8);
    assert_ptr_equal(rt, &cut.v[0]);
    assert_ptr_equal(rt->pattern, r.v[0]);
    assert_int_equal(rt->len, strlen(r.v[0]));
    assert_true(rt->plain);
    assert_false(cut.v[1].plain);
    mhd_otel_routes_free(&cut);
}

static void test_mhd_otel_path_skipped_exact(void **state)
{
    (void)state;
    mhd_otel_strv exact = STRV("/health", "/metrics");
    assert_true(skipped(&exact, &empty, "/health"));
    assert_true(skipped(&exact, &empty, "/metrics"));
    assert_false(skipped(&exact, &empty, "/health/live"));
    assert_false(skipped(&exact, &empty, "/healthz"));
    assert_false(skipped(&exact, &empty, "/healt"));
    assert_false(skipped(&exact, &empty, "/"));
    assert_true(mhd_otel_path_skipped(&exact, &empty, "/healthXYZ", 7));
}

static void test_mhd_otel_path_skipped_prefix(void **state)
{
    (void)state;
    mhd_otel_strv prefixes = STRV("/static/", "/_internal");
    assert_true(skipped(&empty, &prefixes, "/static/app.css"));
    assert_true(skipped(&empty, &prefixes, "/static/"));
    assert_true(skipped(&empty, &prefixes, "/_internal"));
    assert_true(skipped(&empty, &prefixes, "/_internal/x"));
    assert_true(skipped(&empty, &prefixes, "/_internalx"));
    assert_false(skipped(&empty, &prefixes, "/static"));
    assert_false(skipped(&empty, &prefixes, "/stat"));
    assert_false(skipped(&empty, &prefixes, "/other/static/x"));
    assert_false(mhd_otel_path_skipped(&empty, &prefixes, "/static/x", 7));
}

static void test_mhd_otel_path_skipped_both_and_none(void **state)
{
    (void)state;
    mhd_otel_strv exact = STRV("/health");
    mhd_otel_strv prefixes = STRV("/static/");
    assert_true(skipped(&exact, &prefixes, "/health"));
    assert_true(skipped(&exact, &prefixes, "/static/x"));
    assert_false(skipped(&exact, &prefixes, "/api"));
    assert_false(skipped(&empty, &empty, "/health"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mhd_otel_route_match_exact),
        cmocka_unit_test(test_mhd_otel_route_match_param),
        cmocka_unit_test(test_mhd_otel_route_match_fewest_params_wins),
        cmocka_unit_test(test_mhd_otel_route_match_empty_segment),
        cmocka_unit_test(test_mhd_otel_route_match_trailing_slash),
        cmocka_unit_test(test_mhd_otel_route_match_no_match),
        cmocka_unit_test(test_mhd_otel_route_match_uses_len),
        cmocka_unit_test(test_mhd_otel_route_name),
        cmocka_unit_test(test_mhd_otel_path_skipped_exact),
        cmocka_unit_test(test_mhd_otel_path_skipped_prefix),
        cmocka_unit_test(test_mhd_otel_path_skipped_both_and_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
