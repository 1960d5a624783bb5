/* request.c - per-request tracing state: pooled, and found by connection
 * through a lock-striped hash table. */
#include "request.h"

#include <pthread.h>
#include <string.h>
#include "../core/alloc.h"
#include "../core/pool.h"

#define POOL_SIZE 1024
#define BUCKETS 256 /* power of two */

typedef struct bucket {
    pthread_mutex_t mu;
    mhd_otel_req *head;
} bucket;

static otel_pool *pool; /* never freed: requests live as long as the process */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static bucket table[BUCKETS];

static void pool_init(void)
{
    if (otel_pool_new(&pool, sizeof(mhd_otel_req), POOL_SIZE) != OTEL_OK)
        pool = NULL; /* every request then comes from the heap */
    for (size_t i = 0; i < BUCKETS; i++)
        pthread_mutex_init(&table[i].mu, NULL);
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
    pthread_once(&pool_once, pool_init);
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
    pthread_once(&pool_once, pool_init);
    bucket *b = bucket_of(r->conn);
    pthread_mutex_lock(&b->mu);
    mhd_otel_req *old = unlink_conn(b, r->conn);
    r->next = b->head;
    b->head = r;
    pthread_mutex_unlock(&b->mu);
    return old;
}

mhd_otel_req *mhd_otel_req_take(struct MHD_Connection *conn)
{
    pthread_once(&pool_once, pool_init);
    bucket *b = bucket_of(conn);
    pthread_mutex_lock(&b->mu);
    mhd_otel_req *r = unlink_conn(b, conn);
    pthread_mutex_unlock(&b->mu);
    return r;
}

mhd_otel_req *mhd_otel_req_find(struct MHD_Connection *conn)
{
    pthread_once(&pool_once, pool_init);
    bucket *b = bucket_of(conn);
    mhd_otel_req *found = NULL;
    pthread_mutex_lock(&b->mu);
    for (mhd_otel_req *r = b->head; r != NULL; r = r->next) {
        if (r->conn == conn) {
            found = r;
            break;
        }
    }
    pthread_mutex_unlock(&b->mu);
    return found;
}
