/* processor.h - the batch span processor: one pipeline per exporter, each a
 * bounded queue of ended spans and a worker thread handing batches to its
 * exporter. Not a public header. */
#ifndef OTEL_PROCESSOR_H
#define OTEL_PROCESSOR_H

#include <mhd-otel/otel.h>

typedef struct otel_processor otel_processor;

/* Gives a span back once every pipeline is done with it (or dropped it). */
typedef void (*otel_release_fn)(void *user_data, otel_span *span);

/* A processor with cfg's queue and batch sizes and delays. Spans it is done
 * with go to release. Caller frees with otel_processor_del. */
int otel_processor_new(otel_processor **out, const otel_tracer_config *cfg, otel_release_fn release,
                       void *release_ud);
/* Takes e (deleted on failure too). Before otel_processor_start only; at
 * most OTEL_TRACER_MAX_EXPORTERS. */
int otel_processor_add_exporter(otel_processor *p, otel_exporter *e);
/* Starts the worker threads; idempotent. */
int otel_processor_start(otel_processor *p);
/* Takes an ended, sampled span into every pipeline; never blocks. A full
 * queue (or a processor shut down) drops it there: counted, and the span is
 * released once no pipeline holds it. */
void otel_processor_on_end(otel_processor *p, otel_span *span);

/* What became of record-only spans: the keep counters of otel_stats. */
typedef enum otel_keep_event {
    OTEL_KEEP_EV_KEPT_ERROR = 0, /* a tree exported, kept as an error */
    OTEL_KEEP_EV_KEPT_SLOW,      /* a tree exported, kept as slow */
    OTEL_KEEP_EV_RELEASED,       /* a tree released without export */
    OTEL_KEEP_EV_OVERFLOW,       /* a span released: its root held the most */
    OTEL_KEEP_EV_LATE,           /* a span released: it ended after its root */
    OTEL_KEEP_EV_COUNT
} otel_keep_event;

/* Count one ev; from any thread, never blocks. */
void otel_processor_count_keep(otel_processor *p, otel_keep_event ev);
int otel_processor_force_flush(otel_processor *p, uint64_t timeout_ns);
/* Exports what is queued, stops the workers, shuts the exporters down, all
 * by deadline (otel_mono_ns time) plus a grace for an export already under
 * way. Idempotent. Returns 0, OTEL_ERR_TIMEOUT or OTEL_ERR_IO. */
int otel_processor_shutdown(otel_processor *p, uint64_t deadline);
/* Shuts down if needed and frees p. Returns false when a pipeline's worker
 * did not stop by its deadline: p is then left in memory for it (with the
 * spans it holds), and whoever owns those spans must not free them. */
bool otel_processor_del(otel_processor *p);
/* The counters, summed over the pipelines; with none, ended spans count as
 * dropped. The keep counters are the processor's own, in both calls. */
void otel_processor_stats(const otel_processor *p, otel_stats *out);
size_t otel_processor_exporter_count(const otel_processor *p);
/* Told of every export a pipeline's exporter concluded, on the thread that
 * exported (the worker, or a flush's caller): the pipeline's index, its
 * spans, what the exporter returned (a count rejected, or an OTEL_ERR_*
 * code) and how long the export took, retries and backoff included. */
typedef void (*otel_export_observer_fn)(void *user_data, size_t exporter, size_t n, int rc,
                                        uint64_t ns);
/* Observe p's exports with fn (NULL: no more). Clearing waits for a call
 * under way, so that user_data may be freed once it returns. Set at most
 * one at a time. */
void otel_processor_observe_exports(otel_processor *p, otel_export_observer_fn fn, void *user_data);
/* Pipeline i's counters and its exporter's name. */
int otel_processor_exporter_stats(const otel_processor *p, size_t i, otel_stats *out,
                                  const char **name);

#endif /* OTEL_PROCESSOR_H */
