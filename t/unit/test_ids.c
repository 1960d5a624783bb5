/* test_ids.c - unit tests for core/ids.c (trace and span ids, hex, clock). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mhd-otel/otel.h>
#include "../../core/ids.h"
#include "../../core/test_hooks.h"

#define N_UNIQUE 100000
#define N_THREAD_IDS 2000
#define N_FORK_IDS 16

static const uint8_t zero16[16];

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static int cmp8(const void *a, const void *b)
{
    return memcmp(a, b, 8);
}

static void test_otel_trace_id_new_never_zero(void **state)
{
    (void)state;
    for (int i = 0; i < 10000; i++) {
        uint8_t id[16];
        memset(id, 0, sizeof(id));
        otel_trace_id_new(id);
        assert_memory_not_equal(id, zero16, 16);
    }
}

static void test_otel_span_id_new_never_zero(void **state)
{
    (void)state;
    for (int i = 0; i < 10000; i++) {
        uint8_t id[8];
        memset(id, 0, sizeof(id));
        otel_span_id_new(id);
        assert_memory_not_equal(id, zero16, 8);
    }
}

static void test_otel_trace_id_new_unique(void **state)
{
    (void)state;
    uint8_t(*ids)[16] = malloc(N_UNIQUE * sizeof(*ids));
    assert_non_null(ids);
    for (size_t i = 0; i < N_UNIQUE; i++)
        otel_trace_id_new(ids[i]);
    qsort(ids, N_UNIQUE, sizeof(*ids), cmp16);
    size_t dups = 0;
    for (size_t i = 1; i < N_UNIQUE; i++)
        if (memcmp(ids[i - 1], ids[i], 16) == 0)
            dups++;
    free(ids);
    assert_int_equal(dups, 0);
}

static void test_otel_span_id_new_unique(void **state)
{
    (void)state;
    uint8_t(*ids)[8] = malloc(N_UNIQUE * sizeof(*ids));
    assert_non_null(ids);
    for (size_t i = 0; i < N_UNIQUE; i++)
        otel_span_id_new(ids[i]);
    qsort(ids, N_UNIQUE, sizeof(*ids), cmp8);
    size_t dups = 0;
    for (size_t i = 1; i < N_UNIQUE; i++)
        if (memcmp(ids[i - 1], ids[i], 8) == 0)
            dups++;
    free(ids);
    assert_int_equal(dups, 0);
}

typedef struct thread_ids {
    pthread_barrier_t *go;
    uint8_t ids[N_THREAD_IDS][16];
} thread_ids;

static void *gen_ids(void *arg)
{
    thread_ids *t = arg;
    pthread_barrier_wait(t->go);
    for (int i = 0; i < N_THREAD_IDS; i++)
        otel_trace_id_new(t->ids[i]);
    return NULL;
}

static void test_otel_trace_id_new_threads_differ(void **state)
{
    (void)state;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 2);
    thread_ids *t = calloc(2, sizeof(*t));
    assert_non_null(t);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        t[i].go = &go;
        assert_int_equal(pthread_create(&th[i], NULL, gen_ids, &t[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    uint8_t(*all)[16] = malloc(2 * N_THREAD_IDS * sizeof(*all));
    assert_non_null(all);
    memcpy(all, t[0].ids, sizeof(t[0].ids));
    memcpy(all + N_THREAD_IDS, t[1].ids, sizeof(t[1].ids));
    free(t);
    qsort(all, 2 * N_THREAD_IDS, sizeof(*all), cmp16);
    size_t dups = 0;
    for (size_t i = 1; i < 2 * N_THREAD_IDS; i++)
        if (memcmp(all[i - 1], all[i], 16) == 0)
            dups++;
    free(all);
    assert_int_equal(dups, 0);
}

/* Two threads put at one generator state still draw different ids: each
 * steps by a gamma of its own (with one for all, the second would repeat
 * the first's ids one for one). */
static void *ids_from_state(void *arg)
{
    thread_ids *t = arg;
    otel_ids_state_set(UINT64_C(0x243f6a8885a308d3));
    for (int i = 0; i < N_THREAD_IDS; i++)
        otel_trace_id_new(t->ids[i]);
    return NULL;
}

static void test_otel_ids_threads_at_one_state_differ(void **state)
{
    (void)state;
    thread_ids *t = calloc(2, sizeof(*t));
    assert_non_null(t);
    for (int i = 0; i < 2; i++) { /* one after the other: the same state each time */
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, ids_from_state, &t[i]), 0);
        pthread_join(th, NULL);
    }
    size_t same = 0;
    for (int i = 0; i < N_THREAD_IDS; i++)
        for (int j = 0; j < N_THREAD_IDS; j++)
            if (memcmp(t[0].ids[i], t[1].ids[j], 16) == 0)
                same++;
    free(t);
    assert_int_equal(same, 0);
}

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Same generator state in parent and child after fork() unless the child
 * reseeds: the child's first ids would repeat the parent's next ones. */
static void test_otel_trace_id_new_fork_child_differs(void **state)
{
    (void)state;
    uint8_t warm[16];
    otel_trace_id_new(warm); /* make sure this thread's generator is seeded */
    uint8_t span_warm[8];
    otel_span_id_new(span_warm);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t ids[N_FORK_IDS][16];
        close(fds[0]);
        for (int i = 0; i < N_FORK_IDS; i++)
            otel_trace_id_new(ids[i]);
        ssize_t w = write(fds[1], ids, sizeof(ids));
        _exit(w == (ssize_t)sizeof(ids) ? 0 : 1);
    }
    close(fds[1]);
    uint8_t mine[N_FORK_IDS][16], child[N_FORK_IDS][16];
    for (int i = 0; i < N_FORK_IDS; i++)
        otel_trace_id_new(mine[i]);
    int rd = read_full(fds[0], child, sizeof(child));
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(rd, 0);
    for (int i = 0; i < N_FORK_IDS; i++)
        for (int j = 0; j < N_FORK_IDS; j++)
            assert_memory_not_equal(mine[i], child[j], 16);
}

static void test_otel_hex_encode_known_bytes(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x01, 0x0a, 0x7f, 0x80, 0xab, 0xcd, 0xff};
    char out[2 * sizeof(in) + 1];
    memset(out, 'X', sizeof(out));
    otel_hex_encode(in, sizeof(in), out);
    assert_string_equal(out, "00010a7f80abcdff");
}

static void test_otel_hex_encode_empty(void **state)
{
    (void)state;
    char out[4] = "XYZ";
    otel_hex_encode((const uint8_t *)"", 0, out);
    assert_string_equal(out, "");
}

static void test_otel_hex_encode_trace_id(void **state)
{
    (void)state;
    uint8_t id[16];
    for (int i = 0; i < 16; i++)
        id[i] = (uint8_t)(0x10 * (i % 16) + (15 - i));
    char out[33];
    otel_hex_encode(id, 16, out);
    assert_int_equal(strlen(out), 32);
    assert_string_equal(out, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
}

static void test_otel_span_context_is_valid_cases(void **state)
{
    (void)state;
    otel_span_context sc;
    memset(&sc, 0, sizeof(sc));
    assert_false(otel_span_context_is_valid(NULL));
    assert_false(otel_span_context_is_valid(&sc));
    sc.trace_id[15] = 1;
    assert_false(otel_span_context_is_valid(&sc)); /* span id zero */
    memset(&sc, 0, sizeof(sc));
    sc.span_id[0] = 1;
    assert_false(otel_span_context_is_valid(&sc)); /* trace id zero */
    sc.trace_id[0] = 0x80;
    assert_true(otel_span_context_is_valid(&sc));
    sc.trace_flags = 0; /* flags and remote do not matter */
    sc.is_remote = true;
    assert_true(otel_span_context_is_valid(&sc));
}

static void test_otel_span_context_is_valid_new_ids(void **state)
{
    (void)state;
    otel_span_context sc;
    memset(&sc, 0, sizeof(sc));
    otel_trace_id_new(sc.trace_id);
    otel_span_id_new(sc.span_id);
    assert_true(otel_span_context_is_valid(&sc));
}

static uint64_t fake_clock(void *user_data)
{
    return *(const uint64_t *)user_data;
}

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_otel_clock_set_override_and_reset(void **state)
{
    (void)state;
    uint64_t now = 42;
    otel_clock_set(fake_clock, &now);
    assert_int_equal(otel_now_ns(), 42);
    now = 1234567890123ULL;
    assert_int_equal(otel_now_ns(), 1234567890123ULL);

    otel_clock_set(NULL, NULL);
    uint64_t before = real_ns();
    uint64_t got = otel_now_ns();
    uint64_t after = real_ns();
    assert_true(got >= before);
    assert_true(got <= after);
}

static void test_otel_now_ns_monotonic_enough(void **state)
{
    (void)state;
    uint64_t a = otel_now_ns();
    uint64_t b = otel_now_ns();
    /* The real clock is in unix nanoseconds: after 2020-01-01. */
    assert_true(a > 1577836800ULL * 1000000000ULL);
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_trace_id_new_never_zero),
        cmocka_unit_test(test_otel_span_id_new_never_zero),
        cmocka_unit_test(test_otel_trace_id_new_unique),
        cmocka_unit_test(test_otel_span_id_new_unique),
        cmocka_unit_test(test_otel_trace_id_new_threads_differ),
        cmocka_unit_test(test_otel_ids_threads_at_one_state_differ),
        cmocka_unit_test(test_otel_trace_id_new_fork_child_differs),
        cmocka_unit_test(test_otel_hex_encode_known_bytes),
        cmocka_unit_test(test_otel_hex_encode_empty),
        cmocka_unit_test(test_otel_hex_encode_trace_id),
        cmocka_unit_test(test_otel_span_context_is_valid_cases),
        cmocka_unit_test(test_otel_span_context_is_valid_new_ids),
        cmocka_unit_test(test_otel_clock_set_override_and_reset),
        cmocka_unit_test(test_otel_now_ns_monotonic_enough),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
