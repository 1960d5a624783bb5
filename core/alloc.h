/* alloc.h - the library's allocator, with a failure injector for tests.
 * Not a public header. */
#ifndef OTEL_ALLOC_H
#define OTEL_ALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc/free/strdup/strndup that fail on demand. Results are
 * freed with otel_free. */
void *otel_malloc(size_t n);
void *otel_calloc(size_t count, size_t n);
void *otel_realloc(void *p, size_t n);
void otel_free(void *p);
char *otel_strdup(const char *s);
char *otel_strndup(const char *s, size_t n);

/* Tests: make the n-th allocation from now fail (0 = the next one), and every
 * one after it until reset with -1 (never fail). */
void otel_alloc_fail_after(long n);

#endif /* OTEL_ALLOC_H */
