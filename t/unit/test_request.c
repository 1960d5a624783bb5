/* test_request.c - unit tests for module/request.c: the request pool and the
 * connection table. Connections are opaque: fake addresses stand in. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "../../core/alloc.h"
#include "../../module/request.h"
#include "../../core/test_hooks.h"

#define CONN(n) ((struct MHD_Connection *)(uintptr_t)(0x1000 + 64 * (n)))

static void test_mhd_otel_req_get_is_cleared(void **state)
{
    (void)state;
    mhd_otel_req *r = mhd_otel_req_get();
    assert_non_null(r);
    r->handled = true;
    r->status = 500;
    r->uri[0] = 'x';
    mhd_otel_req_put(r);
    mhd_otel_req *r2 = mhd_otel_req_get(); /* likely the same, from the pool */
    assert_false(r2->handled);
    assert_int_equal(r2->status, 0);
    assert_null(r2->span);
    assert_string_equal(r2->uri, "");
    mhd_otel_req_put(r2);
}

static void test_mhd_otel_req_bind_find_take(void **state)
{
    (void)state;
    mhd_otel_req *a = mhd_otel_req_get(), *b = mhd_otel_req_get();
    a->conn = CONN(1);
    b->conn = CONN(2);
    assert_null(mhd_otel_req_bind(a));
    assert_null(mhd_otel_req_bind(b));
    assert_ptr_equal(mhd_otel_req_find(CONN(1)), a);
    assert_ptr_equal(mhd_otel_req_find(CONN(2)), b);
    assert_null(mhd_otel_req_find(CONN(3)));
    assert_ptr_equal(mhd_otel_req_take(CONN(1)), a);
    assert_null(mhd_otel_req_find(CONN(1)));
    assert_null(mhd_otel_req_take(CONN(1)));
    assert_ptr_equal(mhd_otel_req_take(CONN(2)), b);
    mhd_otel_req_put(a);
    mhd_otel_req_put(b);
}

static void test_mhd_otel_req_bind_returns_stale(void **state)
{
    (void)state;
    mhd_otel_req *old = mhd_otel_req_get(), *cur = mhd_otel_req_get();
    old->conn = cur->conn = CONN(7);
    assert_null(mhd_otel_req_bind(old));
    assert_ptr_equal(mhd_otel_req_bind(cur), old); /* a new request on the connection */
    assert_ptr_equal(mhd_otel_req_find(CONN(7)), cur);
    assert_ptr_equal(mhd_otel_req_take(CONN(7)), cur);
    mhd_otel_req_put(old);
    mhd_otel_req_put(cur);
}

/* Many connections hashing into shared buckets. */
static void test_mhd_otel_req_many_connections(void **state)
{
    (void)state;
    enum { N = 2000 };
    static mhd_otel_req *r[N];
    for (int i = 0; i < N; i++) {
        r[i] = mhd_otel_req_get();
        assert_non_null(r[i]);
        r[i]->conn = CONN(i);
        assert_null(mhd_otel_req_bind(r[i]));
    }
    for (int i = 0; i < N; i++)
        assert_ptr_equal(mhd_otel_req_find(CONN(i)), r[i]);
    for (int i = N - 1; i >= 0; i -= 2)
        assert_ptr_equal(mhd_otel_req_take(CONN(i)), r[i]);
    for (int i = 0; i < N; i++) {
        if (i % 2 == 1)
            assert_null(mhd_otel_req_find(CONN(i)));
        else
            assert_ptr_equal(mhd_otel_req_take(CONN(i)), r[i]);
        mhd_otel_req_put(r[i]);
    }
}

static void *churn(void *arg)
{
    int base = (int)(intptr_t)arg;
    for (int i = 0; i < 20000; i++) {
        mhd_otel_req *r = mhd_otel_req_get();
        if (r == NULL)
            return (void *)1;
        r->conn = CONN(base + i % 64);
        if (mhd_otel_req_bind(r) != NULL || mhd_otel_req_find(r->conn) != r ||
            mhd_otel_req_take(r->conn) != r)
            return (void *)1;
        mhd_otel_req_put(r);
    }
    return NULL;
}

static void test_mhd_otel_req_concurrent_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, churn, (void *)(intptr_t)(i * 1000)), 0);
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
}

static void test_mhd_otel_req_get_out_of_memory(void **state)
{
    (void)state;
    /* Empty the pool so that the next get needs the heap. */
    enum { N = 1100 };
    static mhd_otel_req *r[N];
    for (int i = 0; i < N; i++)
        r[i] = mhd_otel_req_get();
    otel_alloc_fail_after(0);
    assert_null(mhd_otel_req_get());
    otel_alloc_fail_after(-1);
    for (int i = 0; i < N; i++)
        mhd_otel_req_put(r[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mhd_otel_req_get_is_cleared),
        cmocka_unit_test(test_mhd_otel_req_bind_find_take),
        cmocka_unit_test(test_mhd_otel_req_bind_returns_stale),
        cmocka_unit_test(test_mhd_otel_req_many_connections),
        cmocka_unit_test(test_mhd_otel_req_concurrent_threads),
        cmocka_unit_test(test_mhd_otel_req_get_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
