/* test_hooks.c - the library's test hooks (core/test_hooks.h), linked into
 * the tests only: the installed library has none. */
#include <stdatomic.h>

#include "../../core/alloc.h"
#include "../../core/test_hooks.h"

void otel_alloc_fail_after(long n)
{
    atomic_store(&otel_alloc_fail_countdown, n);
}

void otel_clock_set(otel_clock_fn fn, void *user_data)
{
    otel_clock_override_ud = user_data;
    otel_clock_override = fn;
}
