/* span_int.h - the span's layout inside the core: the data exporters read
 * (otel_span_data) and the core's own bookkeeping. Not a public header. */
#ifndef OTEL_SPAN_INT_H
#define OTEL_SPAN_INT_H

#include "otel.h"

#include <stdatomic.h>
#include <string.h>

#define OTEL_SPAN_ARENA 4096 /* bytes for names, keys, string values */

struct otel_span {
    otel_span_data d; /* first: what exporters are handed */
    bool recording;   /* sampled: records and is exported */
    bool ended;
    otel_tracer *tracer;
    atomic_uint holders; /* pipelines still holding the ended span */

    uint32_t arena_used;
    char arena[OTEL_SPAN_ARENA];
};

/* The span whose data d is. */
static inline otel_span *otel_span_of(const otel_span_data *d)
{
    return (otel_span *)d;
}

#endif /* OTEL_SPAN_INT_H */
