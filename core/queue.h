/* queue.h - a bounded lock-free multi-producer multi-consumer queue of
 * pointers. Not a public header. */
#ifndef OTEL_QUEUE_H
#define OTEL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct otel_queue otel_queue;

/* A queue holding at most capacity (>= 1) items. Caller frees with
 * otel_queue_del, which does not touch the items still queued. */
int otel_queue_new(otel_queue **out, size_t capacity);
void otel_queue_del(otel_queue *q);

/* Never blocks. Returns false when the queue is full (item not taken). */
bool otel_queue_push(otel_queue *q, void *item);
/* Never blocks. Returns NULL when the queue is empty. */
void *otel_queue_pop(otel_queue *q);

/* Items in the queue now (a snapshot under concurrency). */
size_t otel_queue_size(const otel_queue *q);
size_t otel_queue_capacity(const otel_queue *q);
/* Total successful pushes since creation. */
uint64_t otel_queue_pushed(const otel_queue *q);

#endif /* OTEL_QUEUE_H */
