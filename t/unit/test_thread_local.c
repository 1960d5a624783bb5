/* test_thread_local.c - unit tests for core/thread_local.c (per-thread
 * blocks): made zeroed at a thread's first use and kept, one per thread,
 * given to their at_exit and freed when the thread exits (one made during
 * that exit too), and NULL, tried again later, when memory runs out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "../../core/test_hooks.h"
#include "../../core/thread_local.h"

#define BLOCK_SIZE 1000

static void count_exit(void *mem);
static void exit_makes_late(void *mem);

static const otel_thread_block counted = {BLOCK_SIZE, count_exit};
static const otel_thread_block late = {64, count_exit};
static const otel_thread_block makes_late = {64, exit_makes_late};
static OTEL_TLS void *tls_counted, *tls_late, *tls_makes_late;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *exited[16];
static size_t n_exited;

static void count_exit(void *mem)
{
    pthread_mutex_lock(&mu);
    if (n_exited < 16)
        exited[n_exited++] = mem;
    pthread_mutex_unlock(&mu);
}

/* A block made while the thread exits is given back too. */
static void exit_makes_late(void *mem)
{
    (void)mem;
    assert_non_null(otel_thread_block_get(&late, &tls_late));
}

static int reset(void **state)
{
    (void)state;
    n_exited = 0;
    otel_alloc_fail_after(-1);
    return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* A thread's block: zeroed, its own, the same at every call. */
static void *use_block(void *arg)
{
    (void)arg;
    unsigned char *m = otel_thread_block_get(&counted, &tls_counted);
    assert_non_null(m);
    assert_ptr_equal(tls_counted, m);
    assert_true(all_zero(m, BLOCK_SIZE));
    memset(m, 0xab, BLOCK_SIZE);
    assert_ptr_equal(otel_thread_block_get(&counted, &tls_counted), m);
    return m;
}

static void test_block_per_thread_and_given_back_at_exit(void **state)
{
    (void)state;
    pthread_t t[3];
    void *mem[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, use_block, NULL), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], &mem[i]), 0);
    assert_int_equal(n_exited, 3);
    for (int i = 0; i < 3; i++) {
        bool found = false;
        for (size_t k = 0; k < n_exited; k++)
            found = found || exited[k] == mem[i];
        assert_true(found);
    }
}

static void *make_at_exit(void *arg)
{
    (void)arg;
    assert_non_null(otel_thread_block_get(&makes_late, &tls_makes_late));
    return NULL;
}

static void test_block_made_during_exit_given_back(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, make_at_exit, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(n_exited, 1); /* the late one, from makes_late's at_exit */
}

static void *no_memory(void *arg)
{
    (void)arg;
    otel_alloc_fail_after(0);
    void *m = otel_thread_block_get(&counted, &tls_counted);
    otel_alloc_fail_after(-1);
    assert_null(m);
    assert_null(tls_counted);
    m = otel_thread_block_get(&counted, &tls_counted); /* tried again */
    assert_non_null(m);
    return NULL;
}

static void test_block_out_of_memory_then_made(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, no_memory, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(n_exited, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_block_per_thread_and_given_back_at_exit, reset),
        cmocka_unit_test_setup(test_block_made_during_exit_given_back, reset),
        cmocka_unit_test_setup(test_block_out_of_memory_then_made, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
