/* span_int.h - the span's layout, shared by the core and the exporters that
 * read ended spans. Not a public header. */
#ifndef OTEL_SPAN_INT_H
#define OTEL_SPAN_INT_H

#include "otel.h"

#include <string.h>

/* Room in one span. Spans are pooled and never grow: whatever does not fit
 * is counted as dropped, the way the spec's limits drop attributes. */
#define OTEL_SPAN_MAX_ATTRS 32
#define OTEL_SPAN_MAX_EVENTS 16
#define OTEL_SPAN_MAX_EVENT_ATTRS 32 /* shared by all events of a span */
#define OTEL_SPAN_MAX_LINKS 4        /* more are counted as dropped */
#define OTEL_SPAN_ARENA 4096         /* bytes for names, keys, string values */

/* A stored attribute. key and string values point into the owning span's
 * arena and are NUL-terminated, valid UTF-8. A string array keeps its n
 * elements back to back at s.ptr, each NUL-terminated, s.len bytes in all
 * (the NULs included); read them with otel_attr_array_next. */
typedef struct otel_attr {
    const char *key;
    uint16_t key_len;
    otel_attr_type type;
    union {
        struct {
            const char *ptr;
            uint32_t len;
            uint32_t n; /* elements of a string array */
        } s;
        bool b;
        int64_t i;
        double d;
    } v;
} otel_attr;

typedef struct otel_event {
    const char *name; /* in the arena */
    uint64_t time_ns;
    uint16_t attr_first; /* index into ev_attrs */
    uint16_t attr_count;
    uint32_t dropped_attrs;
} otel_event;

/* A link to another span's context (OTLP Span.Link, no attributes). */
typedef struct otel_link {
    otel_span_context ctx;  /* valid; is_remote as given */
    const char *tracestate; /* in the arena; "" when none */
} otel_link;

struct otel_span {
    otel_span_context ctx;
    uint8_t parent_span_id[8];
    bool has_parent;
    bool parent_is_remote;
    bool recording; /* sampled: records and is exported */
    bool ended;
    otel_span_kind kind;
    otel_status_code status;
    const char *status_message; /* in the arena; "" when none */
    const char *name;           /* in the arena */
    uint64_t start_ns;
    uint64_t end_ns;
    otel_tracer *tracer;

    uint16_t n_attrs;
    uint16_t n_events;
    uint16_t n_ev_attrs;
    uint32_t dropped_attrs;
    uint32_t dropped_events;
    otel_attr attrs[OTEL_SPAN_MAX_ATTRS];
    otel_event events[OTEL_SPAN_MAX_EVENTS];
    otel_attr ev_attrs[OTEL_SPAN_MAX_EVENT_ATTRS];

    uint16_t n_links;
    uint32_t dropped_links;
    otel_link links[OTEL_SPAN_MAX_LINKS];

    uint16_t tracestate_len;
    char tracestate[OTEL_TRACESTATE_MAX]; /* NUL-terminated */

    uint32_t arena_used;
    char arena[OTEL_SPAN_ARENA];
};

/* The element of a string array after *pos (start with *pos = NULL) and
 * its length, or NULL after the last. */
static inline const char *otel_attr_array_next(const otel_attr *a, const char **pos, size_t *len)
{
    const char *end = a->v.s.ptr + a->v.s.len;
    const char *p = *pos == NULL ? a->v.s.ptr : *pos + strlen(*pos) + 1;
    if (a->v.s.n == 0 || p >= end)
        return NULL;
    *pos = p;
    *len = strlen(p);
    return p;
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
