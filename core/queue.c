/* queue.c - a bounded lock-free MPMC queue of pointers (a ring of cells with
 * sequence numbers, after Dmitry Vyukov's bounded queue). */
#include "queue.h"

#include "alloc.h"
#include <mhd-otel/otel.h>

#include <stdatomic.h>
#include <stdint.h>

#define CACHE_LINE 64

typedef struct cell {
    _Atomic uint64_t seq;
    void *item;
} cell;

/* head and tail sit on cache lines of their own (padding rather than
 * _Alignas, since the struct comes from malloc). */
struct otel_queue {
    _Atomic uint64_t head; /* next position to push */
    char pad1[CACHE_LINE - sizeof(uint64_t)];
    _Atomic uint64_t tail; /* next position to pop */
    char pad2[CACHE_LINE - sizeof(uint64_t)];
    size_t capacity; /* items it may hold */
    size_t n_cells;  /* capacity rounded up to a power of two, at least 2 (the
                        ring needs two); more than capacity: the bound is checked
                        apart */
    size_t mask;     /* n_cells - 1 */
    cell *cells;     /* owned, n_cells; cell of position p is p & mask (a
                        division, cell p % n_cells, took tens of cycles) */
};

int otel_queue_new(otel_queue **out, size_t capacity)
{
    *out = NULL;
    if (capacity == 0)
        return OTEL_ERR_INVALID;
    otel_queue *q = otel_calloc(1, sizeof(*q));
    if (q == NULL)
        return OTEL_ERR_NOMEM;
    q->n_cells = 2;
    while (q->n_cells < capacity && q->n_cells <= SIZE_MAX / 2 / sizeof(cell))
        q->n_cells <<= 1;
    q->mask = q->n_cells - 1;
    q->cells = q->n_cells >= capacity ? otel_calloc(q->n_cells, sizeof(cell)) : NULL;
    if (q->cells == NULL) {
        otel_free(q);
        return OTEL_ERR_NOMEM;
    }
    q->capacity = capacity;
    for (size_t i = 0; i < q->n_cells; i++)
        atomic_init(&q->cells[i].seq, i);
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    *out = q;
    return OTEL_OK;
}

void otel_queue_del(otel_queue *q)
{
    if (q == NULL)
        return;
    otel_free(q->cells);
    otel_free(q);
}

bool otel_queue_push(otel_queue *q, void *item)
{
    uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (;;) {
        cell *c = &q->cells[pos & q->mask];
        uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - pos);
        /* Cells beyond the capacity (a power of two above it, or two for
         * a one-item queue): the bound is checked apart. */
        if (q->capacity < q->n_cells &&
            pos - atomic_load_explicit(&q->tail, memory_order_acquire) >= q->capacity)
            return false;
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                c->item = item;
                atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
                return true;
            }
        } else if (dif < 0) {
            return false; /* the cell still holds an item a lap behind: full */
        } else {
            pos = atomic_load_explicit(&q->head, memory_order_relaxed);
        }
    }
}

void *otel_queue_pop(otel_queue *q)
{
    uint64_t pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        cell *c = &q->cells[pos & q->mask];
        uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->tail, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                void *item = c->item;
                atomic_store_explicit(&c->seq, pos + q->n_cells, memory_order_release);
                return item;
            }
        } else if (dif < 0) {
            return NULL; /* empty */
        } else {
            pos = atomic_load_explicit(&q->tail, memory_order_relaxed);
        }
    }
}

size_t otel_queue_size(const otel_queue *q)
{
    uint64_t tail = atomic_load_explicit(&((otel_queue *)q)->tail, memory_order_acquire);
    uint64_t head = atomic_load_explicit(&((otel_queue *)q)->head, memory_order_acquire);
    return head > tail ? (size_t)(head - tail) : 0;
}

size_t otel_queue_capacity(const otel_queue *q)
{
    return q->capacity;
}

uint64_t otel_queue_pushed(const otel_queue *q)
{
    return atomic_load_explicit(&((otel_queue *)q)->head, memory_order_acquire);
}
