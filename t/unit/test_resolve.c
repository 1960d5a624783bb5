/* test_resolve.c - unit tests for exporter/resolve.c (lookups that end by a
 * deadline). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <mhd-otel/otel.h>
#include "../../exporter/resolve.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static atomic_int slow_calls;
static atomic_bool slow_release; /* the slow lookup may answer */

/* A resolver that takes until released (at most 10 s), then answers
 * 127.0.0.1. */
static int slow_lookup(const char *host, const char *port, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    (void)host;
    atomic_fetch_add(&slow_calls, 1);
    uint64_t until = otel_mono_ns() + 10 * SEC;
    while (!atomic_load(&slow_release) && otel_mono_ns() < until) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return getaddrinfo("127.0.0.1", port, hints, res);
}

static int teardown(void **state)
{
    (void)state;
    atomic_store(&slow_release, true);
    uint64_t until = otel_mono_ns() + 15 * SEC;
    while (otel_resolve_pending() > 0 && otel_mono_ns() < until) {
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    otel_resolve_set_lookup(NULL);
    atomic_store(&slow_release, false);
    atomic_store(&slow_calls, 0);
    return 0;
}

/* Addresses (RFC 3986 IPv4address, and IPv6 without its brackets) need no
 * lookup: they are parsed at once, even with no time left. */
static void test_otel_resolve_numeric_at_once(void **state)
{
    (void)state;
    otel_resolve_set_lookup(slow_lookup);
    struct addrinfo *res = NULL;
    char err[128];
    assert_int_equal(otel_resolve("127.0.0.1", "4317", otel_mono_ns(), &res, err, sizeof(err)),
                     OTEL_OK);
    assert_non_null(res);
    assert_int_equal(res->ai_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 4317);
    freeaddrinfo(res);
    assert_int_equal(otel_resolve("::1", "80", otel_mono_ns(), &res, err, sizeof(err)), OTEL_OK);
    assert_int_equal(res->ai_family, AF_INET6);
    freeaddrinfo(res);
    assert_int_equal(atomic_load(&slow_calls), 0);
}

/* A name is looked up, and the answer arrives when it comes in time. */
static void test_otel_resolve_name(void **state)
{
    (void)state;
    atomic_store(&slow_release, true);
    otel_resolve_set_lookup(slow_lookup);
    struct addrinfo *res = NULL;
    char err[128];
    assert_int_equal(otel_resolve("collector.example", "4317", otel_mono_ns() + 10 * SEC, &res, err,
                                  sizeof(err)),
                     OTEL_OK);
    assert_non_null(res);
    assert_int_equal(atomic_load(&slow_calls), 1);
    freeaddrinfo(res);
}

/* A lookup that does not answer costs its caller the deadline, not the
 * lookup's own time; it ends in the background and frees what it found. */
static void test_otel_resolve_deadline(void **state)
{
    (void)state;
    otel_resolve_set_lookup(slow_lookup);
    struct addrinfo *res = NULL;
    char err[128] = "";
    uint64_t t0 = otel_mono_ns();
    assert_int_equal(otel_resolve("slow.example", "4317", t0 + 100 * MS, &res, err, sizeof(err)),
                     OTEL_ERR_TIMEOUT);
    uint64_t took = otel_mono_ns() - t0;
    assert_true(took >= 90 * MS);
    assert_true(took < 5 * SEC); /* the lookup itself runs until released: 10 s */
    assert_null(res);
    assert_non_null(strstr(err, "slow.example"));
    assert_int_equal(otel_resolve_pending(), 1);
    atomic_store(&slow_release, true); /* the teardown waits for it */
}

/* With the deadline passed, a name is not looked up at all. */
static void test_otel_resolve_no_time_left(void **state)
{
    (void)state;
    otel_resolve_set_lookup(slow_lookup);
    struct addrinfo *res = NULL;
    char err[128];
    assert_int_equal(otel_resolve("late.example", "80", otel_mono_ns(), &res, err, sizeof(err)),
                     OTEL_ERR_TIMEOUT);
    assert_int_equal(atomic_load(&slow_calls), 0);
}

/* A name that does not exist: the resolver's reason, as an I/O error. */
static void test_otel_resolve_unknown_name(void **state)
{
    (void)state;
    struct addrinfo *res = NULL;
    char err[256] = "";
    int rc = otel_resolve("no-such-host.invalid", "80", otel_mono_ns() + 3 * SEC, &res, err,
                          sizeof(err));
    /* .invalid never resolves (RFC 6761); a sandbox without a resolver may
     * also answer with a timeout */
    assert_true(rc == OTEL_ERR_IO || rc == OTEL_ERR_TIMEOUT);
    assert_null(res);
    assert_non_null(strstr(err, "resolve no-such-host.invalid: "));
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_resolve_numeric_at_once), T(test_otel_resolve_name),
        T(test_otel_resolve_deadline),        T(test_otel_resolve_no_time_left),
        T(test_otel_resolve_unknown_name),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
