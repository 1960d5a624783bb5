/* alloc.h - the library's allocator (alloc.c), the one its files and exporters use. Not a public
 * header. */
#ifndef OTEL_ALLOC_H
#define OTEL_ALLOC_H

#include <mhd-otel/otel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's allocator (malloc, calloc, realloc, strdup, strndup):
 * what the library and its exporters allocate comes from here, so that
 * tests can make any allocation fail. Results are freed with otel_free. */
void *otel_malloc(size_t n);
void *otel_calloc(size_t count, size_t n);
void *otel_realloc(void *p, size_t n);
void otel_free(void *p);
char *otel_strdup(const char *s);
char *otel_strndup(const char *s, size_t n);

/* The failure injector's countdown (test_hooks.h sets it): the n-th
 * allocation from now fails, and every one after it; -1 never. */
#ifndef __cplusplus
extern _Atomic long otel_alloc_fail_countdown;
#endif

#ifdef __cplusplus
}
#endif

#endif /* OTEL_ALLOC_H */
