/* otlp_common.h - what the OTLP encoders (protobuf, JSON) share. Not a public header. */
/* What they read of an ended span: counts kept within its room, string
 * lengths, Span.flags and Link.flags; and the copy of a receiver's error
 * message. */
#ifndef OTEL_OTLP_COMMON_H
#define OTEL_OTLP_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mhd-otel/otel.h>

/* trace.v1.SpanFlags (exporter/proto/opentelemetry/proto/trace/v1/trace.proto):
 * the W3C trace flags in bits 0-7, whether the parent (or a link's context)
 * is known to be remote in bit 8, and whether it is remote in bit 9. */
#define OTEL_OTLP_FLAGS_TRACE_MASK 0x000000ffu
#define OTEL_OTLP_FLAGS_HAS_IS_REMOTE 0x00000100u
#define OTEL_OTLP_FLAGS_IS_REMOTE 0x00000200u

static inline size_t otel_otlp_attr_count(const otel_span_data *s)
{
    return s->n_attrs <= OTEL_SPAN_MAX_ATTRS ? s->n_attrs : OTEL_SPAN_MAX_ATTRS;
}

static inline size_t otel_otlp_event_count(const otel_span_data *s)
{
    return s->n_events <= OTEL_SPAN_MAX_EVENTS ? s->n_events : OTEL_SPAN_MAX_EVENTS;
}

/* The attributes of event ev that lie inside the span's ev_attrs: *n of
 * them from the one returned (the first of ev_attrs when there are none,
 * so that an attr_first past the end is never indexed). */
static inline const otel_attr *otel_otlp_event_attrs(const otel_span_data *s, const otel_event *ev,
                                                     size_t *n)
{
    size_t used =
        s->n_ev_attrs <= OTEL_SPAN_MAX_EVENT_ATTRS ? s->n_ev_attrs : OTEL_SPAN_MAX_EVENT_ATTRS;
    *n = 0;
    if (ev->attr_first >= used)
        return s->ev_attrs;
    size_t room = used - ev->attr_first;
    *n = ev->attr_count <= room ? ev->attr_count : room;
    return &s->ev_attrs[ev->attr_first];
}

static inline size_t otel_otlp_link_count(const otel_span_data *s)
{
    return s->n_links <= OTEL_SPAN_MAX_LINKS ? s->n_links : OTEL_SPAN_MAX_LINKS;
}

static inline size_t otel_otlp_str_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

/* The tracestate's length (the core keeps it NUL-terminated at that). */
static inline size_t otel_otlp_tracestate_len(const otel_span_data *s)
{
    return s->tracestate_len < sizeof(s->tracestate) ? s->tracestate_len : 0;
}

/* The key's length: key_len, the core's strlen of it (a key is never NULL,
 * as otel_attr says). */
static inline size_t otel_otlp_key_len(const otel_attr *a)
{
    return a->key_len;
}

/* A string value's length (a string array's too: all its elements). */
static inline size_t otel_otlp_value_len(const otel_attr *a)
{
    return a->v.s.ptr != NULL ? a->v.s.len : 0;
}

/* Span.flags: its trace flags, and whether its parent is remote. */
static inline uint32_t otel_otlp_span_flags(const otel_span_data *s)
{
    return ((uint32_t)s->ctx.trace_flags & OTEL_OTLP_FLAGS_TRACE_MASK) |
           OTEL_OTLP_FLAGS_HAS_IS_REMOTE | (s->parent_is_remote ? OTEL_OTLP_FLAGS_IS_REMOTE : 0u);
}

/* Span.Link.flags: its trace flags, and whether its context is remote. */
static inline uint32_t otel_otlp_link_flags(const otel_link *l)
{
    return ((uint32_t)l->ctx.trace_flags & OTEL_OTLP_FLAGS_TRACE_MASK) |
           OTEL_OTLP_FLAGS_HAS_IS_REMOTE | (l->ctx.is_remote ? OTEL_OTLP_FLAGS_IS_REMOTE : 0u);
}

/* Copy s (NULL: "") into out (cap bytes, NUL-terminated), cut at a UTF-8
 * character boundary when it does not fit. */
static inline void otel_otlp_copy_message(char *out, size_t cap, const char *s)
{
    if (cap == 0)
        return;
    size_t len = otel_otlp_str_len(s);
    if (len > cap - 1) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    if (len > 0)
        memcpy(out, s, len);
    out[len] = '\0';
}

#endif /* OTEL_OTLP_COMMON_H */
