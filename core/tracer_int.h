/* tracer_int.h - the tracer's layout, shared by tracer.c and span.c. Not a
 * public header. */
#ifndef OTEL_TRACER_INT_H
#define OTEL_TRACER_INT_H

#include <mhd-otel/metrics.h>
#include <stdatomic.h>

#include <mhd-otel/otel.h>
#include "processor.h"
#include "pool.h"

/* The sampling results of the SDK metrics' otel.span.sampling_result. */
typedef enum otel_sampling_result {
    OTEL_SAMPLING_DROP = 0,
    OTEL_SAMPLING_RECORD_ONLY,
    OTEL_SAMPLING_RECORD_AND_SAMPLE,
} otel_sampling_result;

/* The parent origins of otel.span.parent.origin: none, local, remote. */
#define OTEL_PARENT_ORIGINS 3

struct otel_tracer {
    otel_tracer_config cfg;
    otel_resource *resource;   /* owned */
    otel_processor *processor; /* owned */
    otel_pool *spans;          /* owned: free spans */
    /* otel.sdk.span.started by sampling result and parent origin, and
     * otel.sdk.span.live by sampling result (recording ones), or NULL:
     * bound points of a meter provider, set before the first span. */
    otel_sum_point *span_started[3][OTEL_PARENT_ORIGINS];
    otel_sum_point *span_live[3];
};

/* Count t's spans into the points given (borrowed: they must outlive t's
 * spans); before any span starts. */
void otel_tracer_count_spans(otel_tracer *t, otel_sum_point *const started[3][OTEL_PARENT_ORIGINS],
                             otel_sum_point *const live[3]);

/* Observe the exports of t's pipelines (otel_processor_observe_exports);
 * NULL stops, and waits for a call under way. */
void otel_tracer_observe_exports(otel_tracer *t, otel_export_observer_fn fn, void *user_data);

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
