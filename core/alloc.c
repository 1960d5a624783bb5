/* alloc.c - the library's allocator, which the tests can make fail. */
#include "alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

_Atomic long otel_alloc_fail_countdown = -1;

static int should_fail(void)
{
    long n = atomic_load_explicit(&otel_alloc_fail_countdown, memory_order_relaxed);
    if (n < 0)
        return 0;
    if (n == 0)
        return 1;
    atomic_fetch_sub_explicit(&otel_alloc_fail_countdown, 1, memory_order_relaxed);
    return 0;
}

void *otel_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n);
}

void *otel_calloc(size_t count, size_t n)
{
    return should_fail() ? NULL : calloc(count, n);
}

void *otel_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}

void otel_free(void *p)
{
    free(p);
}

char *otel_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = otel_malloc(len + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *otel_strdup(const char *s)
{
    return otel_strndup(s, strlen(s));
}
