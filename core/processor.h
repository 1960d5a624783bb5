/* processor.h - the batch span processor: a bounded queue of ended spans and
 * one worker thread handing batches to exporters. Not a public header. */
#ifndef OTEL_PROCESSOR_H
#define OTEL_PROCESSOR_H

#include "otel.h"

typedef struct otel_processor otel_processor;

/* Gives a span back once the exporters are done with it (or it was
 * dropped). */
typedef void (*otel_release_fn)(void *user_data, otel_span *span);

/* A processor with cfg's queue and batch sizes and delays. Spans it is done
 * with go to release. Caller frees with otel_processor_del. */
int otel_processor_new(otel_processor **out, const otel_tracer_config *cfg, otel_release_fn release,
                       void *release_ud);
/* Copies exp. Before otel_processor_start only; at most 4. */
int otel_processor_add_exporter(otel_processor *p, const otel_exporter *exp);
/* Starts the worker thread; idempotent. */
int otel_processor_start(otel_processor *p);
/* Takes an ended, sampled span; never blocks. A full queue (or a processor
 * shut down) drops it: counted and released at once. */
void otel_processor_on_end(otel_processor *p, otel_span *span);
int otel_processor_force_flush(otel_processor *p, uint64_t timeout_ns);
/* Exports what is queued (bounded by the export timeout), stops the worker,
 * shuts the exporters down. Idempotent. */
int otel_processor_shutdown(otel_processor *p);
/* Shuts down if needed, releases spans still queued, frees p. */
void otel_processor_del(otel_processor *p);
/* The counters. queued counts the batch being exported too, so that
 * ended = exported + dropped + failed + rejected + queued (exact when no span
 * is moving; a snapshot taken while spans move may be off by those). */
void otel_processor_stats(const otel_processor *p, otel_stats *out);

#endif /* OTEL_PROCESSOR_H */
