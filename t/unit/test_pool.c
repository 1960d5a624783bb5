/* test_pool.c - unit tests for core/pool.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "../../core/alloc.h"
#include <mhd-otel/otel.h>
#include "../../core/pool.h"
#include "../../core/test_hooks.h"

static void test_otel_pool_new_invalid(void **state)
{
    (void)state;
    otel_pool *p = (otel_pool *)1;
    assert_int_equal(otel_pool_new(&p, 0, 8), OTEL_ERR_INVALID);
    assert_null(p);
    assert_int_equal(otel_pool_new(&p, 8, 0), OTEL_ERR_INVALID);
    otel_pool_del(NULL);
}

static void test_otel_pool_get_reuses_lifo(void **state)
{
    (void)state;
    otel_pool *p;
    assert_int_equal(otel_pool_new(&p, 64, 8), OTEL_OK);
    void *a = otel_pool_get(p), *b = otel_pool_get(p);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    memset(a, 1, 64); /* objects are usable at their full size */
    otel_pool_put(p, a);
    otel_pool_put(p, b);
    assert_ptr_equal(otel_pool_get(p), b); /* last given back, first out */
    assert_ptr_equal(otel_pool_get(p), a);
    assert_int_equal(otel_pool_allocated(p), 2);
    otel_pool_put(p, a);
    otel_pool_put(p, b);
    otel_pool_put(p, NULL); /* ignored */
    otel_pool_del(p);
}

static void test_otel_pool_steady_state_no_allocation(void **state)
{
    (void)state;
    otel_pool *p;
    assert_int_equal(otel_pool_new(&p, 32, 256), OTEL_OK);
    void *objs[100];
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 100; i++)
            objs[i] = otel_pool_get(p);
        for (int i = 0; i < 100; i++)
            otel_pool_put(p, objs[i]);
    }
    assert_int_equal(otel_pool_allocated(p), 100);
    otel_pool_del(p);
}

typedef struct worker_arg {
    otel_pool *p;
    void *got[20];
} worker_arg;

static void *take_and_cache(void *arg)
{
    worker_arg *w = arg;
    for (int i = 0; i < 20; i++)
        w->got[i] = otel_pool_get(w->p);
    for (int i = 0; i < 20; i++)
        otel_pool_put(w->p, w->got[i]); /* some stay in this thread's cache */
    return NULL;
}

/* A thread's cache goes back to the pool when the thread exits. */
static void test_otel_pool_thread_exit_flushes_cache(void **state)
{
    (void)state;
    otel_pool *p;
    assert_int_equal(otel_pool_new(&p, 48, 64), OTEL_OK);
    worker_arg w = {.p = p};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, take_and_cache, &w), 0);
    pthread_join(th, NULL);
    /* Every object is back: taking 20 here allocates nothing new. */
    void *mine[20];
    for (int i = 0; i < 20; i++)
        mine[i] = otel_pool_get(p);
    assert_int_equal(otel_pool_allocated(p), 20);
    for (int i = 0; i < 20; i++)
        otel_pool_put(p, mine[i]);
    otel_pool_del(p);
}

typedef struct late_arg {
    otel_pool *p;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stage;
} late_arg;

static void *cache_then_wait(void *arg)
{
    late_arg *a = arg;
    void *o = otel_pool_get(a->p);
    otel_pool_put(a->p, o); /* cached here */
    pthread_mutex_lock(&a->mu);
    a->stage = 1;
    pthread_cond_broadcast(&a->cv);
    while (a->stage != 2)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
    return NULL; /* the pool is gone: the cache frees the object (ASan checks) */
}

static void test_otel_pool_del_before_caching_thread_exits(void **state)
{
    (void)state;
    late_arg a = {.stage = 0};
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    assert_int_equal(otel_pool_new(&a.p, 40, 8), OTEL_OK);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cache_then_wait, &a), 0);
    pthread_mutex_lock(&a.mu);
    while (a.stage != 1)
        pthread_cond_wait(&a.cv, &a.mu);
    otel_pool_del(a.p);
    a.stage = 2;
    pthread_cond_broadcast(&a.cv);
    pthread_mutex_unlock(&a.mu);
    pthread_join(th, NULL);
}

/* More pools than a thread keeps caches for (so that some share the cache
 * slot looked at first): every object a pool gives is one given to it or a
 * new one, never another pool's (they differ in size), whatever the order
 * of gets and puts. */
static void test_otel_pool_many_pools_one_thread(void **state)
{
    (void)state;
    enum { POOLS = 7, HELD = 3, ROUNDS = 4 };
    otel_pool *p[POOLS];
    struct {
        void *obj;
        int pool;
    } given[POOLS * HELD * ROUNDS];
    size_t n_given = 0;
    for (int i = 0; i < POOLS; i++)
        assert_int_equal(otel_pool_new(&p[i], 16 + (size_t)i, 4), OTEL_OK);
    for (int round = 0; round < ROUNDS; round++) {
        void *held[POOLS][HELD];
        for (int i = 0; i < POOLS; i++)
            for (int k = 0; k < HELD; k++) {
                void *o = otel_pool_get(p[(i + round) % POOLS]);
                assert_non_null(o);
                for (size_t g = 0; g < n_given; g++)
                    if (given[g].obj == o)
                        assert_int_equal(given[g].pool, (i + round) % POOLS);
                held[(i + round) % POOLS][k] = o;
            }
        for (int i = POOLS - 1; i >= 0; i--)
            for (int k = 0; k < HELD; k++) {
                otel_pool_put(p[i], held[i][k]);
                given[n_given].obj = held[i][k];
                given[n_given].pool = i;
                n_given++;
            }
    }
    for (int i = 0; i < POOLS; i++)
        otel_pool_del(p[i]);
}

static void test_otel_pool_get_out_of_memory(void **state)
{
    (void)state;
    otel_pool *p;
    assert_int_equal(otel_pool_new(&p, 16, 4), OTEL_OK);
    otel_alloc_fail_after(0);
    assert_null(otel_pool_get(p));
    otel_alloc_fail_after(-1);
    void *o = otel_pool_get(p);
    assert_non_null(o);
    otel_pool_put(p, o);
    otel_pool_del(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_pool_new_invalid),
        cmocka_unit_test(test_otel_pool_get_reuses_lifo),
        cmocka_unit_test(test_otel_pool_steady_state_no_allocation),
        cmocka_unit_test(test_otel_pool_thread_exit_flushes_cache),
        cmocka_unit_test(test_otel_pool_del_before_caching_thread_exits),
        cmocka_unit_test(test_otel_pool_many_pools_one_thread),
        cmocka_unit_test(test_otel_pool_get_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
