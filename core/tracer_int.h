/* tracer_int.h - the tracer's layout, shared by tracer.c and span.c. Not a
 * public header. */
#ifndef OTEL_TRACER_INT_H
#define OTEL_TRACER_INT_H

#include <stdatomic.h>

#include <mhd-otel/otel.h>
#include "processor.h"
#include "pool.h"

struct otel_tracer {
    otel_tracer_config cfg;
    otel_resource *resource;   /* owned */
    otel_processor *processor; /* owned */
    otel_pool *spans;          /* owned: free spans */
};

/* Spans t ever took from the heap (tests: none in the steady state). */
uint64_t otel_tracer_spans_allocated(const otel_tracer *t);

/* A span from t's pool (or the heap when the pool is empty); NULL when out of
 * memory. Its fields are not initialised. */
otel_span *otel_span_acquire(otel_tracer *t);
/* Give span back to t's pool (freed when the pool is full), through the
 * calling thread's cache. A record-only root goes back once it and every
 * child it had are released (see keep_refs). */
void otel_span_release(void *tracer, otel_span *span);
/* The same for the exporter thread, which never takes spans: straight to
 * the shared pool. Matches otel_release_fn. */
void otel_span_release_exported(void *tracer, otel_span *span);

#endif /* OTEL_TRACER_INT_H */
