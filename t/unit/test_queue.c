/* test_queue.c - unit tests for core/queue.c (bounded lock-free MPMC queue). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include <mhd-otel/otel.h>
#include "../../core/queue.h"
#include "../../core/test_hooks.h"

#define N_PRODUCERS 4
#define PER_PRODUCER 100000

/* Items are small integers, offset by one so none is NULL. */
static void *item(uintptr_t i)
{
    return (void *)(i + 1);
}

static uintptr_t index_of(void *p)
{
    return (uintptr_t)p - 1;
}

static otel_queue *new_queue(size_t cap)
{
    otel_queue *q = NULL;
    assert_int_equal(otel_queue_new(&q, cap), OTEL_OK);
    assert_non_null(q);
    assert_int_equal(otel_queue_capacity(q), cap);
    return q;
}

/* The queue of the running test, freed by the teardown even when an
 * assertion fails half-way. */
static otel_queue *cur_q;

static int free_queue(void **state)
{
    (void)state;
    otel_queue_del(cur_q);
    cur_q = NULL;
    return 0;
}

static int reset_alloc(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    return 0;
}

static void test_otel_queue_new_zero_capacity(void **state)
{
    (void)state;
    otel_queue *q = (otel_queue *)&q;
    assert_int_equal(otel_queue_new(&q, 0), OTEL_ERR_INVALID);
    assert_null(q);
    otel_queue_del(NULL);
}

static void test_otel_queue_new_alloc_failure(void **state)
{
    (void)state;
    long n;
    for (n = 0; n < 10; n++) {
        otel_queue *q = (otel_queue *)&q;
        otel_alloc_fail_after(n);
        int rc = otel_queue_new(&q, 16);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            assert_true(otel_queue_push(q, item(1)));
            assert_ptr_equal(otel_queue_pop(q), item(1));
            otel_queue_del(q);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(q);
    }
    assert_int_equal(n, 2); /* the queue, then its cells */
}

static void test_otel_queue_push_pop_fifo(void **state)
{
    (void)state;
    otel_queue *q = new_queue(64);
    for (uintptr_t i = 0; i < 50; i++)
        assert_true(otel_queue_push(q, item(i)));
    for (uintptr_t i = 0; i < 50; i++)
        assert_ptr_equal(otel_queue_pop(q), item(i));
    assert_null(otel_queue_pop(q));
    otel_queue_del(q);
}

static void test_otel_queue_pop_empty(void **state)
{
    (void)state;
    otel_queue *q = new_queue(4);
    assert_null(otel_queue_pop(q));
    assert_null(otel_queue_pop(q));
    assert_true(otel_queue_push(q, item(7)));
    assert_ptr_equal(otel_queue_pop(q), item(7));
    assert_null(otel_queue_pop(q));
    assert_int_equal(otel_queue_size(q), 0);
    otel_queue_del(q);
}

/* Fill to exactly cap, refuse one more, then take one and accept one. */
static void check_full_at_capacity(size_t cap)
{
    otel_queue *q = cur_q = new_queue(cap);
    for (uintptr_t i = 0; i < cap; i++)
        assert_true(otel_queue_push(q, item(i)));
    assert_int_equal(otel_queue_size(q), cap);
    assert_false(otel_queue_push(q, item(cap)));
    assert_false(otel_queue_push(q, item(cap)));
    assert_int_equal(otel_queue_size(q), cap);
    assert_int_equal(otel_queue_pushed(q), cap);
    assert_ptr_equal(otel_queue_pop(q), item(0));
    assert_true(otel_queue_push(q, item(cap)));
    assert_false(otel_queue_push(q, item(cap + 1)));
    for (uintptr_t i = 1; i <= cap; i++)
        assert_ptr_equal(otel_queue_pop(q), item(i));
    assert_null(otel_queue_pop(q));
}

static void test_otel_queue_push_full_capacity_1(void **state)
{
    (void)state;
    check_full_at_capacity(1);
}

static void test_otel_queue_push_full_capacity_3(void **state)
{
    (void)state;
    check_full_at_capacity(3);
}

static void test_otel_queue_push_full_capacity_2048(void **state)
{
    (void)state;
    check_full_at_capacity(2048);
}

/* The ring is a power of two of cells: a capacity between two is still
 * the bound, exactly. */
static void test_otel_queue_push_full_capacity_not_power_of_two(void **state)
{
    (void)state;
    static const size_t caps[] = {5, 6, 7, 9, 1000, 2049};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        check_full_at_capacity(caps[i]);
        otel_queue_del(cur_q);
        cur_q = NULL;
    }
}

static void test_otel_queue_size_and_pushed_counters(void **state)
{
    (void)state;
    otel_queue *q = new_queue(8);
    assert_int_equal(otel_queue_size(q), 0);
    assert_int_equal(otel_queue_pushed(q), 0);
    for (uintptr_t i = 0; i < 5; i++)
        assert_true(otel_queue_push(q, item(i)));
    assert_int_equal(otel_queue_size(q), 5);
    assert_int_equal(otel_queue_pushed(q), 5);
    otel_queue_pop(q);
    otel_queue_pop(q);
    assert_int_equal(otel_queue_size(q), 3);
    assert_int_equal(otel_queue_pushed(q), 5); /* pops do not count */
    for (uintptr_t i = 0; i < 10; i++)
        otel_queue_push(q, item(i)); /* 5 fit, 5 refused */
    assert_int_equal(otel_queue_size(q), 8);
    assert_int_equal(otel_queue_pushed(q), 10); /* refused pushes do not count */
    otel_queue_del(q);
}

static void test_otel_queue_push_wraparound(void **state)
{
    (void)state;
    const size_t caps[] = {2, 3, 5, 8};
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        otel_queue *q = new_queue(caps[c]);
        uintptr_t next_in = 0, next_out = 0;
        /* Many laps around the ring with a varying fill level. */
        for (int lap = 0; lap < 20000; lap++) {
            size_t fill = 1 + (size_t)lap % caps[c];
            for (size_t i = 0; i < fill; i++)
                assert_true(otel_queue_push(q, item(next_in++)));
            assert_int_equal(otel_queue_size(q), fill);
            for (size_t i = 0; i < fill; i++)
                assert_ptr_equal(otel_queue_pop(q), item(next_out++));
            assert_null(otel_queue_pop(q));
        }
        assert_int_equal(otel_queue_pushed(q), next_in);
        assert_true(next_in > 20000 * caps[c] / 2);
        otel_queue_del(q);
    }
}

typedef struct mt_ctx {
    otel_queue *q;
    atomic_int started;
} mt_ctx;

typedef struct producer_arg {
    mt_ctx *ctx;
    uintptr_t id;
} producer_arg;

static void *producer_main(void *arg)
{
    producer_arg *pa = arg;
    atomic_fetch_add(&pa->ctx->started, 1);
    while (atomic_load(&pa->ctx->started) < N_PRODUCERS + 1)
        sched_yield();
    for (uintptr_t i = 0; i < PER_PRODUCER; i++) {
        void *it = item(pa->id * PER_PRODUCER + i);
        while (!otel_queue_push(pa->ctx->q, it))
            sched_yield();
    }
    return NULL;
}

typedef struct consumer_arg {
    mt_ctx *ctx;
    unsigned char *seen; /* N_PRODUCERS * PER_PRODUCER counters */
    uintptr_t last[N_PRODUCERS];
    int out_of_order;
    int bad_item;
} consumer_arg;

static void *consumer_main(void *arg)
{
    consumer_arg *ca = arg;
    atomic_fetch_add(&ca->ctx->started, 1);
    for (int i = 0; i < N_PRODUCERS; i++)
        ca->last[i] = UINTPTR_MAX;
    size_t got = 0;
    while (got < (size_t)N_PRODUCERS * PER_PRODUCER) {
        void *p = otel_queue_pop(ca->ctx->q);
        if (p == NULL) {
            sched_yield();
            continue;
        }
        uintptr_t idx = index_of(p);
        got++;
        if (idx >= (uintptr_t)N_PRODUCERS * PER_PRODUCER) {
            ca->bad_item++;
            continue;
        }
        if (ca->seen[idx] < 255)
            ca->seen[idx]++;
        /* One consumer: each producer's items come out in its order. */
        uintptr_t prod = idx / PER_PRODUCER, seq = idx % PER_PRODUCER;
        if (ca->last[prod] != UINTPTR_MAX && seq <= ca->last[prod])
            ca->out_of_order++;
        ca->last[prod] = seq;
    }
    return NULL;
}

static void test_otel_queue_push_concurrent_producers(void **state)
{
    (void)state;
    mt_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.q = new_queue(1024);
    consumer_arg ca;
    memset(&ca, 0, sizeof(ca));
    ca.ctx = &ctx;
    ca.seen = calloc((size_t)N_PRODUCERS * PER_PRODUCER, 1);
    assert_non_null(ca.seen);
    producer_arg pa[N_PRODUCERS];
    pthread_t prod[N_PRODUCERS], cons;
    assert_int_equal(pthread_create(&cons, NULL, consumer_main, &ca), 0);
    for (int i = 0; i < N_PRODUCERS; i++) {
        pa[i].ctx = &ctx;
        pa[i].id = (uintptr_t)i;
        assert_int_equal(pthread_create(&prod[i], NULL, producer_main, &pa[i]), 0);
    }
    for (int i = 0; i < N_PRODUCERS; i++)
        pthread_join(prod[i], NULL);
    pthread_join(cons, NULL);

    size_t missing = 0, twice = 0;
    for (size_t i = 0; i < (size_t)N_PRODUCERS * PER_PRODUCER; i++) {
        if (ca.seen[i] == 0)
            missing++;
        else if (ca.seen[i] > 1)
            twice++;
    }
    free(ca.seen);
    assert_int_equal(ca.bad_item, 0);
    assert_int_equal(missing, 0);
    assert_int_equal(twice, 0);
    assert_int_equal(ca.out_of_order, 0);
    assert_null(otel_queue_pop(ctx.q));
    assert_int_equal(otel_queue_size(ctx.q), 0);
    assert_int_equal(otel_queue_pushed(ctx.q), (uint64_t)N_PRODUCERS * PER_PRODUCER);
    otel_queue_del(ctx.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_queue_new_zero_capacity),
        cmocka_unit_test_teardown(test_otel_queue_new_alloc_failure, reset_alloc),
        cmocka_unit_test(test_otel_queue_push_pop_fifo),
        cmocka_unit_test(test_otel_queue_pop_empty),
        cmocka_unit_test_teardown(test_otel_queue_push_full_capacity_1, free_queue),
        cmocka_unit_test_teardown(test_otel_queue_push_full_capacity_3, free_queue),
        cmocka_unit_test_teardown(test_otel_queue_push_full_capacity_2048, free_queue),
        cmocka_unit_test_teardown(test_otel_queue_push_full_capacity_not_power_of_two, free_queue),
        cmocka_unit_test(test_otel_queue_size_and_pushed_counters),
        cmocka_unit_test(test_otel_queue_push_wraparound),
        cmocka_unit_test(test_otel_queue_push_concurrent_producers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
