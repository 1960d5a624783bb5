/* alloc.h - the failure injector of the library's allocator (otel_malloc
 * and friends, declared in otel.h), for tests. Not a public header. */
#ifndef OTEL_ALLOC_H
#define OTEL_ALLOC_H

#include "otel.h"

/* Tests: make the n-th allocation from now fail (0 = the next one), and every
 * one after it until reset with -1 (never fail). */
void otel_alloc_fail_after(long n);

#endif /* OTEL_ALLOC_H */
