/* span_int.h - the span's layout inside the core: the data exporters read
 * (otel_span_data) and the core's own bookkeeping. Not a public header. */
#ifndef OTEL_SPAN_INT_H
#define OTEL_SPAN_INT_H

#include <mhd-otel/otel.h>

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

/* Fast adders for instrumentation that owns its keys: key must outlive the
 * span (a literal, or storage freed only after the tracer), be valid UTF-8,
 * NUL-terminated at key_len, and not yet set on the span. Nothing is checked
 * or copied but the value. */
#define OTEL_KEY(lit) (lit), (uint16_t)(sizeof(lit) - 1)
void otel_span_add_attr_strn_sk(otel_span *span, const char *key, uint16_t key_len,
                                const char *value, size_t len);
void otel_span_add_attr_int_sk(otel_span *span, const char *key, uint16_t key_len, int64_t value);

#endif /* OTEL_SPAN_INT_H */
