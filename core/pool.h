/* pool.h - fixed-size object pools with per-thread caches (pool.c). Not a public header. */
#ifndef OTEL_POOL_H
#define OTEL_POOL_H

#include <mhd-otel/otel.h>

/* Fixed-size object pools with per-thread caches: no atomics and no
 * allocation per object in the steady state, for instrumentation that needs
 * an object per request. */
typedef struct otel_pool otel_pool;

/* A pool of objects of obj_size bytes. Up to capacity free objects are kept
 * in a shared ring, and a few more in each thread's cache; beyond that, given
 * back objects are freed. Caller frees with otel_pool_del. */
int otel_pool_new(otel_pool **out, size_t obj_size, size_t capacity);
/* Free the objects the pool holds. Objects still in use must not be given
 * back afterwards; those cached by other threads are freed when the threads
 * exit. NULL does nothing. */
void otel_pool_del(otel_pool *p);
/* An object (contents undefined) from this thread's cache, the ring, or the
 * heap; NULL when out of memory. */
void *otel_pool_get(otel_pool *p);
/* Give obj back, from any thread, into this thread's cache first. */
void otel_pool_put(otel_pool *p, void *obj);
/* Give obj back to the shared ring, for threads that give back but never
 * take (a cache there would only hold objects out of use). */
void otel_pool_put_shared(otel_pool *p, void *obj);
/* Objects ever taken from the heap by this pool. */
uint64_t otel_pool_allocated(const otel_pool *p);

#endif /* OTEL_POOL_H */
