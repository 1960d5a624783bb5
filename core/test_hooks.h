/* test_hooks.h - what tests change in the library: failing allocations and the span clock. The
 * functions are in t/lib/test_hooks.c, linked into the tests only; the library holds the state they
 * set. Not a public header. */
#ifndef OTEL_TEST_HOOKS_H
#define OTEL_TEST_HOOKS_H

#include <mhd-otel/otel.h>

/* Make the n-th allocation from now fail (0 = the next one), and every one
 * after it until reset with -1 (never fail). */
void otel_alloc_fail_after(long n);

/* Replace the clock used for span times. NULL restores the real one. */
typedef uint64_t (*otel_clock_fn)(void *user_data);
void otel_clock_set(otel_clock_fn fn, void *user_data);
/* The clock otel_clock_set installed (ids.c reads it); NULL: the real one. */
extern otel_clock_fn otel_clock_override;
extern void *otel_clock_override_ud;

#endif /* OTEL_TEST_HOOKS_H */
