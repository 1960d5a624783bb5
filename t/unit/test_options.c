/* test_options.c - unit tests for module/options.c (reading a caller's
 * libmicrohttpd option list). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "../../core/alloc.h"
#include <mhd-otel/otel.h>
#include "../../module/options.h"
#include "../../core/test_hooks.h"

/* mhd_otel_opts_read over this function's own varargs. (Not named read:
 * <microhttpd.h> brings in <unistd.h>.) */
static int read_opts(mhd_otel_opts *o, ...)
{
    va_list ap;
    va_start(ap, o);
    int rc = mhd_otel_opts_read(o, ap);
    va_end(ap);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)con_cls;
    (void)toe;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)uri;
    (void)c;
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    (void)socket_context;
    (void)toe;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    (void)fmt;
    (void)ap;
}

static int cls_a, cls_b, cls_c;

static mhd_otel_opts opts;

static int setup(void **state)
{
    (void)state;
    memset(&opts, 0, sizeof(opts));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    mhd_otel_opts_free(&opts);
    return 0;
}

static const struct MHD_OptionItem *item_of(const mhd_otel_opts *o, enum MHD_OPTION option)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->items[i].option == option)
            return &o->items[i];
    return NULL;
}

static void test_mhd_otel_opts_read_empty(void **state)
{
    (void)state;
    assert_int_equal(read_opts(&opts, MHD_OPTION_END), OTEL_OK);
    assert_int_equal(opts.n, 0);
    assert_null(opts.completed);
    assert_null(opts.uri_log);
    assert_null(opts.sock_addr);
    assert_int_equal(opts.unknown_option, 0);
}

static void test_mhd_otel_opts_read_ints(void **state)
{
    (void)state;
    assert_int_equal(read_opts(&opts, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)100,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                               MHD_OPTION_LISTEN_SOCKET, 5, MHD_OPTION_STRICT_FOR_CLIENT, -1,
                               MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)4, MHD_OPTION_END),
                     OTEL_OK);
    assert_int_equal(opts.n, 5);
    const enum MHD_OPTION want_opt[] = {MHD_OPTION_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                                        MHD_OPTION_LISTEN_SOCKET, MHD_OPTION_STRICT_FOR_CLIENT,
                                        MHD_OPTION_THREAD_POOL_SIZE};
    const intptr_t want_val[] = {100, 30, 5, -1, 4};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(opts.items[i].option, want_opt[i]);
        assert_true(opts.items[i].value == want_val[i]);
        assert_null(opts.items[i].ptr_value);
    }
}

static void test_mhd_otel_opts_read_size_t(void **state)
{
    (void)state;
    size_t big = (size_t)1 << (sizeof(size_t) * 8 - 2);
    assert_int_equal(read_opts(&opts, MHD_OPTION_CONNECTION_MEMORY_LIMIT, big,
                               MHD_OPTION_THREAD_STACK_SIZE, (size_t)65536,
                               MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)1024,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned int)7, MHD_OPTION_END),
                     OTEL_OK);
    assert_int_equal(opts.n, 4);
    assert_true((size_t)item_of(&opts, MHD_OPTION_CONNECTION_MEMORY_LIMIT)->value == big);
    assert_int_equal(item_of(&opts, MHD_OPTION_THREAD_STACK_SIZE)->value, 65536);
    assert_int_equal(item_of(&opts, MHD_OPTION_CONNECTION_MEMORY_INCREMENT)->value, 1024);
    /* What follows a size_t is read in step. */
    assert_int_equal(item_of(&opts, MHD_OPTION_CONNECTION_LIMIT)->value, 7);
}

static void test_mhd_otel_opts_read_pointers(void **state)
{
    (void)state;
    static const char key[] = "KEY", cert[] = "CERT", prio[] = "NORMAL", rnd[] = "0123456789";
    assert_int_equal(read_opts(&opts, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT,
                               cert, MHD_OPTION_HTTPS_PRIORITIES, prio,
                               MHD_OPTION_DIGEST_AUTH_RANDOM, sizeof(rnd) - 1, rnd,
                               MHD_OPTION_EXTERNAL_LOGGER, on_log, &cls_c,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)9, MHD_OPTION_END),
                     OTEL_OK);
    assert_int_equal(opts.n, 6);
    assert_ptr_equal(item_of(&opts, MHD_OPTION_HTTPS_MEM_KEY)->ptr_value, key);
    assert_ptr_equal(item_of(&opts, MHD_OPTION_HTTPS_MEM_CERT)->ptr_value, cert);
    assert_ptr_equal(item_of(&opts, MHD_OPTION_HTTPS_PRIORITIES)->ptr_value, prio);
    const struct MHD_OptionItem *d = item_of(&opts, MHD_OPTION_DIGEST_AUTH_RANDOM);
    assert_int_equal(d->value, sizeof(rnd) - 1);
    assert_ptr_equal(d->ptr_value, rnd);
    const struct MHD_OptionItem *l = item_of(&opts, MHD_OPTION_EXTERNAL_LOGGER);
    assert_true(l->value == (intptr_t)on_log);
    assert_ptr_equal(l->ptr_value, &cls_c);
    assert_int_equal(item_of(&opts, MHD_OPTION_CONNECTION_TIMEOUT)->value, 9);
}

static void test_mhd_otel_opts_read_takes_chained_callbacks(void **state)
{
    (void)state;
    assert_int_equal(read_opts(&opts, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &cls_a,
                               MHD_OPTION_URI_LOG_CALLBACK, on_uri, &cls_b,
                               MHD_OPTION_NOTIFY_CONNECTION, on_connection, &cls_c,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned int)3, MHD_OPTION_END),
                     OTEL_OK);
    assert_true(opts.completed == on_completed);
    assert_ptr_equal(opts.completed_cls, &cls_a);
    assert_true(opts.uri_log == on_uri);
    assert_ptr_equal(opts.uri_log_cls, &cls_b);
    assert_int_equal(opts.n, 2);
    assert_null(item_of(&opts, MHD_OPTION_NOTIFY_COMPLETED));
    assert_null(item_of(&opts, MHD_OPTION_URI_LOG_CALLBACK));
    const struct MHD_OptionItem *nc = item_of(&opts, MHD_OPTION_NOTIFY_CONNECTION);
    assert_non_null(nc);
    assert_true(nc->value == (intptr_t)on_connection);
    assert_ptr_equal(nc->ptr_value, &cls_c);
    assert_int_equal(item_of(&opts, MHD_OPTION_CONNECTION_LIMIT)->value, 3);
}

static void test_mhd_otel_opts_read_nested_array(void **state)
{
    (void)state;
    struct MHD_OptionItem inner[] = {
        {MHD_OPTION_CONNECTION_TIMEOUT, 5, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, &cls_b},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem outer[] = {
        {MHD_OPTION_CONNECTION_LIMIT, 10, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, &cls_a},
        {MHD_OPTION_ARRAY, 0, inner},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)"K"},
        {MHD_OPTION_END, 0, NULL},
    };
    assert_int_equal(read_opts(&opts, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)2,
                               MHD_OPTION_ARRAY, outer, MHD_OPTION_THREAD_POOL_SIZE,
                               (unsigned int)4, MHD_OPTION_END),
                     OTEL_OK);
    const enum MHD_OPTION want[] = {MHD_OPTION_PER_IP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_LIMIT,
                                    MHD_OPTION_CONNECTION_TIMEOUT, MHD_OPTION_HTTPS_MEM_KEY,
                                    MHD_OPTION_THREAD_POOL_SIZE};
    assert_int_equal(opts.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(opts.items[i].option, want[i]);
        assert_int_not_equal(opts.items[i].option, MHD_OPTION_ARRAY);
    }
    assert_int_equal(opts.items[0].value, 2);
    assert_int_equal(opts.items[1].value, 10);
    assert_int_equal(opts.items[2].value, 5);
    assert_string_equal(opts.items[3].ptr_value, "K");
    assert_int_equal(opts.items[4].value, 4);
    assert_true(opts.completed == on_completed);
    assert_ptr_equal(opts.completed_cls, &cls_a);
    assert_true(opts.uri_log == on_uri);
    assert_ptr_equal(opts.uri_log_cls, &cls_b);
}

static void test_mhd_otel_opts_read_array_invalid(void **state)
{
    (void)state;
    assert_int_equal(
        read_opts(&opts, MHD_OPTION_ARRAY, (struct MHD_OptionItem *)NULL, MHD_OPTION_END),
        OTEL_ERR_INVALID);
    mhd_otel_opts_free(&opts);

    /* Nested deeper than anyone would: refused, not recursed forever. */
    struct MHD_OptionItem chain[20][2];
    for (int i = 0; i < 20; i++) {
        chain[i][0] = (struct MHD_OptionItem){MHD_OPTION_ARRAY, 0, i < 19 ? chain[i + 1] : NULL};
        chain[i][1] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    chain[19][0] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 1, NULL};
    assert_int_equal(read_opts(&opts, MHD_OPTION_ARRAY, chain[0], MHD_OPTION_END),
                     OTEL_ERR_INVALID);
}

static void test_mhd_otel_opts_read_sock_addr(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(8080);
    assert_int_equal(read_opts(&opts, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1, MHD_OPTION_END),
                     OTEL_OK);
    assert_ptr_equal(opts.sock_addr, &sa);
    const struct MHD_OptionItem *it = item_of(&opts, MHD_OPTION_SOCK_ADDR);
    assert_non_null(it); /* still passed on to MHD */
    assert_ptr_equal(it->ptr_value, &sa);
    assert_int_equal(opts.n, 2);
}

static void test_mhd_otel_opts_read_unknown_option(void **state)
{
    (void)state;
    assert_int_equal(
        read_opts(&opts, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1, 9999, 1, 2, MHD_OPTION_END),
        OTEL_ERR_UNSUPPORTED);
    assert_int_equal(opts.unknown_option, 9999);
    assert_int_equal(opts.n, 1); /* what came before is kept */
    mhd_otel_opts_free(&opts);
    assert_int_equal(opts.unknown_option, 0);

    struct MHD_OptionItem arr[] = {
        {MHD_OPTION_CONNECTION_TIMEOUT, 5, NULL},
        {(enum MHD_OPTION)9999, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    assert_int_equal(read_opts(&opts, MHD_OPTION_ARRAY, arr, MHD_OPTION_END), OTEL_ERR_UNSUPPORTED);
    assert_int_equal(opts.unknown_option, 9999);
}

static void test_mhd_otel_opts_finish_terminates(void **state)
{
    (void)state;
    assert_int_equal(read_opts(&opts, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)2, MHD_OPTION_END),
                     OTEL_OK);
    assert_int_equal(mhd_otel_opts_finish(&opts), OTEL_OK);
    assert_int_equal(opts.n, 2);
    assert_true(opts.cap > opts.n);
    assert_int_equal(opts.items[2].option, MHD_OPTION_END);
    assert_int_equal(opts.items[2].value, 0);
    assert_null(opts.items[2].ptr_value);
    /* Adding after finish overwrites the terminator; finish again. */
    assert_int_equal(mhd_otel_opts_add(&opts, MHD_OPTION_THREAD_POOL_SIZE, 3, NULL), OTEL_OK);
    assert_int_equal(opts.items[2].option, MHD_OPTION_THREAD_POOL_SIZE);
    assert_int_equal(mhd_otel_opts_finish(&opts), OTEL_OK);
    assert_int_equal(opts.n, 3);
    assert_int_equal(opts.items[3].option, MHD_OPTION_END);
}

static void test_mhd_otel_opts_finish_empty(void **state)
{
    (void)state;
    assert_int_equal(read_opts(&opts, MHD_OPTION_END), OTEL_OK);
    assert_int_equal(mhd_otel_opts_finish(&opts), OTEL_OK);
    assert_non_null(opts.items);
    assert_int_equal(opts.n, 0);
    assert_int_equal(opts.items[0].option, MHD_OPTION_END);
}

static void test_mhd_otel_opts_add_grows(void **state)
{
    (void)state;
    for (intptr_t i = 0; i < 100; i++)
        assert_int_equal(mhd_otel_opts_add(&opts, MHD_OPTION_CONNECTION_LIMIT, i, NULL), OTEL_OK);
    assert_int_equal(opts.n, 100);
    assert_true(opts.cap >= 100);
    for (intptr_t i = 0; i < 100; i++)
        assert_int_equal(opts.items[i].value, i);
}

/* 20 options (the array grows past its first 16 slots) read with the n-th
 * allocation failing, for every n until it succeeds: NOMEM, no leak. */
static int read_twenty(mhd_otel_opts *o)
{
    return read_opts(o, MHD_OPTION_CONNECTION_LIMIT, 1u, MHD_OPTION_CONNECTION_LIMIT, 2u,
                     MHD_OPTION_CONNECTION_LIMIT, 3u, MHD_OPTION_CONNECTION_LIMIT, 4u,
                     MHD_OPTION_CONNECTION_LIMIT, 5u, MHD_OPTION_CONNECTION_LIMIT, 6u,
                     MHD_OPTION_CONNECTION_LIMIT, 7u, MHD_OPTION_CONNECTION_LIMIT, 8u,
                     MHD_OPTION_CONNECTION_LIMIT, 9u, MHD_OPTION_CONNECTION_LIMIT, 10u,
                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, &cls_a, MHD_OPTION_CONNECTION_LIMIT,
                     11u, MHD_OPTION_CONNECTION_LIMIT, 12u, MHD_OPTION_CONNECTION_LIMIT, 13u,
                     MHD_OPTION_CONNECTION_LIMIT, 14u, MHD_OPTION_CONNECTION_LIMIT, 15u,
                     MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_LIMIT, 17u,
                     MHD_OPTION_CONNECTION_LIMIT, 18u, MHD_OPTION_CONNECTION_LIMIT, 19u,
                     MHD_OPTION_END);
}

static void test_mhd_otel_opts_read_alloc_failure(void **state)
{
    (void)state;
    long n;
    int failures = 0;
    for (n = 0; n < 100; n++) {
        otel_alloc_fail_after(n);
        int rc = read_twenty(&opts);
        if (rc == OTEL_OK)
            rc = mhd_otel_opts_finish(&opts);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK)
            break;
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        failures++;
        mhd_otel_opts_free(&opts);
        assert_null(opts.items);
        assert_int_equal(opts.n, 0);
    }
    assert_true(n < 100);
    assert_int_equal(failures, 2); /* the first 16 slots, then 32 */
    assert_int_equal(opts.n, 19);
    assert_int_equal(opts.items[18].value, 19);
    assert_int_equal(opts.items[19].option, MHD_OPTION_END);
    assert_true(opts.completed == on_completed);
}

static void test_mhd_otel_opts_finish_alloc_failure(void **state)
{
    (void)state;
    for (intptr_t i = 0; i < 16; i++) /* exactly full */
        assert_int_equal(mhd_otel_opts_add(&opts, MHD_OPTION_CONNECTION_LIMIT, i, NULL), OTEL_OK);
    assert_int_equal(opts.cap, opts.n);
    otel_alloc_fail_after(0);
    assert_int_equal(mhd_otel_opts_finish(&opts), OTEL_ERR_NOMEM);
    otel_alloc_fail_after(-1);
    assert_int_equal(opts.n, 16);
    assert_int_equal(opts.items[15].value, 15);
    assert_int_equal(mhd_otel_opts_finish(&opts), OTEL_OK);
    assert_int_equal(opts.items[16].option, MHD_OPTION_END);
}

static void test_mhd_otel_opts_free_resets(void **state)
{
    (void)state;
    assert_int_equal(read_opts(&opts, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &cls_a,
                               MHD_OPTION_CONNECTION_LIMIT, 1u, MHD_OPTION_END),
                     OTEL_OK);
    mhd_otel_opts_free(&opts);
    assert_null(opts.items);
    assert_int_equal(opts.n, 0);
    assert_int_equal(opts.cap, 0);
    assert_null(opts.completed);
    mhd_otel_opts_free(&opts); /* twice is harmless */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mhd_otel_opts_read_empty),
        T(test_mhd_otel_opts_read_ints),
        T(test_mhd_otel_opts_read_size_t),
        T(test_mhd_otel_opts_read_pointers),
        T(test_mhd_otel_opts_read_takes_chained_callbacks),
        T(test_mhd_otel_opts_read_nested_array),
        T(test_mhd_otel_opts_read_array_invalid),
        T(test_mhd_otel_opts_read_sock_addr),
        T(test_mhd_otel_opts_read_unknown_option),
        T(test_mhd_otel_opts_finish_terminates),
        T(test_mhd_otel_opts_finish_empty),
        T(test_mhd_otel_opts_add_grows),
        T(test_mhd_otel_opts_read_alloc_failure),
        T(test_mhd_otel_opts_finish_alloc_failure),
        T(test_mhd_otel_opts_free_resets),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
