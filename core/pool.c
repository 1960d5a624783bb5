/* pool.c - fixed-size object pools: a lock-free shared ring of free objects
 * and a small LIFO cache per thread in front of it. */

#include "alloc.h"
#include <mhd-otel/otel.h>
#include "queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include "pool.h"
#include "thread_local.h"

#define CACHE_OBJS 16 /* objects one thread keeps for one pool */
#define CACHE_POOLS 4 /* pools one thread keeps a cache for */

struct otel_pool {
    uint64_t id; /* never reused, unlike the address */
    size_t obj_size;
    otel_queue *ring; /* owned; free objects, owned */
    _Atomic uint64_t allocated;
    otel_pool *next; /* in the registry of live pools */
};

typedef struct cache {
    uint64_t pool_id; /* 0: unused */
    unsigned n;
    void *objs[CACHE_OBJS];
} cache;

typedef struct thread_caches {
    cache c[CACHE_POOLS];
} thread_caches;

static void on_thread_exit(void *mem);

/* The calling thread's caches: made at its first get or put, flushed and
 * freed when it exits. */
static const otel_thread_block caches_block = {sizeof(thread_caches), on_thread_exit};
static OTEL_TLS void *tls; /* thread_caches */
static _Atomic uint64_t next_id = 1;

/* Live pools, so that a thread flushing its cache never touches a deleted
 * one. Taken only when a thread exits or switches pools, and by new/del. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static otel_pool *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* Give the cached objects back to their pool, or free them when the pool is
 * gone or its ring is full. */
static void flush(cache *c)
{
    if (c->pool_id == 0)
        return;
    pthread_mutex_lock(&registry_mu);
    otel_pool *p = registry;
    while (p != NULL && p->id != c->pool_id)
        p = p->next;
    for (unsigned i = 0; i < c->n; i++)
        if (p == NULL || !otel_queue_push(p->ring, c->objs[i]))
            otel_free(c->objs[i]);
    pthread_mutex_unlock(&registry_mu);
    c->n = 0;
    c->pool_id = 0;
}

static void on_thread_exit(void *mem)
{
    thread_caches *tc = mem;
    for (int i = 0; i < CACHE_POOLS; i++)
        flush(&tc->c[i]);
}

static void before_fork(void)
{
    pthread_mutex_lock(&registry_mu);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&registry_mu);
}

static void after_fork_child(void)
{
    pthread_mutex_init(&registry_mu, NULL);
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* The cache slot of p looked at first. */
static inline unsigned slot_of(const otel_pool *p)
{
    return (unsigned)(p->id % CACHE_POOLS);
}

/* cache_for's rarer case: the thread's first use, or p's cache in another
 * slot than its own or in none yet. */
static cache *cache_for_any(const otel_pool *p)
{
    thread_caches *tc = otel_thread_block_get(&caches_block, &tls);
    if (tc == NULL)
        return NULL;
    /* p's own slot when it is free, so that the next calls find it there */
    cache *own = &tc->c[slot_of(p)];
    cache *free_slot = own->pool_id == 0 ? own : NULL;
    for (int i = 0; i < CACHE_POOLS; i++) {
        if (tc->c[i].pool_id == p->id)
            return &tc->c[i];
        if (tc->c[i].pool_id == 0 && free_slot == NULL)
            free_slot = &tc->c[i];
    }
    if (free_slot == NULL) { /* rare: more pools than slots */
        free_slot = own;
        flush(free_slot);
    }
    free_slot->pool_id = p->id;
    free_slot->n = 0;
    return free_slot;
}

/* This thread's cache for p, taken over from another pool if needed; NULL
 * when the thread cannot have one. A pool's cache is in its own slot unless
 * another pool took that first: one comparison for most calls. */
static inline cache *cache_for(const otel_pool *p)
{
    thread_caches *tc = tls;
    if (tc != NULL && tc->c[slot_of(p)].pool_id == p->id)
        return &tc->c[slot_of(p)];
    return cache_for_any(p);
}

int otel_pool_new(otel_pool **out, size_t obj_size, size_t capacity)
{
    *out = NULL;
    if (obj_size == 0 || capacity == 0)
        return OTEL_ERR_INVALID;
    otel_pool *p = otel_calloc(1, sizeof(*p));
    if (p == NULL)
        return OTEL_ERR_NOMEM;
    int rc = otel_queue_new(&p->ring, capacity);
    if (rc != OTEL_OK) {
        otel_free(p);
        return rc;
    }
    p->id = atomic_fetch_add(&next_id, 1);
    p->obj_size = obj_size;
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&registry_mu);
    p->next = registry;
    registry = p;
    pthread_mutex_unlock(&registry_mu);
    *out = p;
    return OTEL_OK;
}

void otel_pool_del(otel_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&registry_mu);
    for (otel_pool **pp = &registry; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    cache *c = NULL;
    thread_caches *tc = tls;
    for (int i = 0; tc != NULL && i < CACHE_POOLS; i++)
        if (tc->c[i].pool_id == p->id)
            c = &tc->c[i];
    if (c != NULL)
        flush(c); /* p is out of the registry: frees them */
    void *obj;
    while ((obj = otel_queue_pop(p->ring)) != NULL)
        otel_free(obj);
    otel_queue_del(p->ring);
    otel_free(p);
}

void *otel_pool_get(otel_pool *p)
{
    cache *c = cache_for(p);
    if (c != NULL && c->n > 0)
        return c->objs[--c->n];
    void *obj = otel_queue_pop(p->ring);
    if (obj != NULL)
        return obj;
    obj = otel_malloc(p->obj_size);
    if (obj != NULL)
        atomic_fetch_add_explicit(&p->allocated, 1, memory_order_relaxed);
    return obj;
}

void otel_pool_put(otel_pool *p, void *obj)
{
    if (obj == NULL)
        return;
    cache *c = cache_for(p);
    if (c != NULL && c->n < CACHE_OBJS) {
        c->objs[c->n++] = obj;
        return;
    }
    otel_pool_put_shared(p, obj);
}

void otel_pool_put_shared(otel_pool *p, void *obj)
{
    if (obj != NULL && !otel_queue_push(p->ring, obj))
        otel_free(obj);
}

uint64_t otel_pool_allocated(const otel_pool *p)
{
    return atomic_load(&((otel_pool *)p)->allocated);
}
