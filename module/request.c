/* request.c - per-request tracing state: pooled, and found by connection
 * through a hash table with a spin lock per bucket. */
#include "request.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include "../core/alloc.h"
#include "../core/pool.h"

#define POOL_SIZE 1024
#define BUCKETS 256 /* power of two */

/* A bucket is held for a few pointer moves only: a spin lock costs a
 * tenth of a mutex there. One to a cache line, so that two threads on
 * different connections do not share one. */
typedef struct bucket {
    atomic_flag busy;
    mhd_otel_req *head;
} __attribute__((aligned(64))) bucket;

static otel_pool *pool; /* never freed: requests live as long as the process */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static atomic_bool pool_ready; /* pool_init has run: pthread_once not needed */
static bucket table[BUCKETS];  /* zeroed: every flag clear */

static void pool_init(void)
{
    if (otel_pool_new(&pool, sizeof(mhd_otel_req), POOL_SIZE) != OTEL_OK)
        pool = NULL; /* every request then comes from the heap */
    atomic_store_explicit(&pool_ready, true, memory_order_release);
}

static inline void init_once(void)
{
    if (!atomic_load_explicit(&pool_ready, memory_order_acquire))
        pthread_once(&pool_once, pool_init);
}

/* lock's wait for a bucket another thread holds, yielding the core after a
 * while: the holder may have been preempted on a busy core (more server
 * threads than cores). Out of line: lock itself stays a single exchange. */
static __attribute__((noinline)) void lock_wait(bucket *b)
{
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&b->busy, memory_order_acquire))
        if (++spins % 64 == 0)
            sched_yield();
}

static inline void lock(bucket *b)
{
    if (atomic_flag_test_and_set_explicit(&b->busy, memory_order_acquire))
        lock_wait(b);
}

static inline void unlock(bucket *b)
{
    atomic_flag_clear_explicit(&b->busy, memory_order_release);
}

/* Fibonacci hashing of the pointer, in 64 bits whatever the pointer size
 * (a 32-bit uintptr_t cannot be shifted by 32). */
static bucket *bucket_of(const struct MHD_Connection *conn)
{
    uint64_t h = (uint64_t)(uintptr_t)conn;
    h ^= h >> 17;
    h *= UINT64_C(0x9e3779b97f4a7c15);
    return &table[(h >> 32) & (BUCKETS - 1)];
}

/* Unlink and return the request of conn in b; b is locked. */
static mhd_otel_req *unlink_conn(bucket *b, const struct MHD_Connection *conn)
{
    for (mhd_otel_req **pp = &b->head; *pp != NULL; pp = &(*pp)->next) {
        mhd_otel_req *r = *pp;
        if (r->conn == conn) {
            *pp = r->next;
            r->next = NULL;
            return r;
        }
    }
    return NULL;
}

mhd_otel_req *mhd_otel_req_get(void)
{
    init_once();
    mhd_otel_req *r = pool ? otel_pool_get(pool) : otel_malloc(sizeof(*r));
    if (r == NULL)
        return NULL;
    memset(r, 0, offsetof(mhd_otel_req, baggage_v)); /* what follows is set before use */
    r->uri[0] = '\0';
    return r;
}

void mhd_otel_req_put(mhd_otel_req *r)
{
    if (r == NULL)
        return;
    if (pool != NULL)
        otel_pool_put(pool, r);
    else
        otel_free(r);
}

mhd_otel_req *mhd_otel_req_bind(mhd_otel_req *r)
{
    bucket *b = bucket_of(r->conn);
    lock(b);
    mhd_otel_req *old = unlink_conn(b, r->conn);
    r->next = b->head;
    b->head = r;
    unlock(b);
    return old;
}

mhd_otel_req *mhd_otel_req_take(struct MHD_Connection *conn)
{
    bucket *b = bucket_of(conn);
    lock(b);
    mhd_otel_req *r = unlink_conn(b, conn);
    unlock(b);
    return r;
}

mhd_otel_req *mhd_otel_req_find(struct MHD_Connection *conn)
{
    bucket *b = bucket_of(conn);
    mhd_otel_req *found = NULL;
    lock(b);
    for (mhd_otel_req *r = b->head; r != NULL; r = r->next) {
        if (r->conn == conn) {
            found = r;
            break;
        }
    }
    unlock(b);
    return found;
}
