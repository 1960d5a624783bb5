/* span_int.h - the span's layout inside the core: the data exporters read
 * (otel_span_data) and the core's own bookkeeping. Not a public header. */
#ifndef OTEL_SPAN_INT_H
#define OTEL_SPAN_INT_H

#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

#include <stdatomic.h>
#include <string.h>

#include "thread_local.h"
#include "utf8.h"

#define OTEL_SPAN_ARENA 4096 /* bytes for names, keys, string values */

/* A span's place in a record-only tree (otel_tracer_config.record_unsampled). */
typedef enum otel_keep_role {
    OTEL_KEEP_NONE = 0, /* sampled, or not recording */
    OTEL_KEEP_ROOT,     /* record-only local root: holds the tree */
    OTEL_KEEP_CHILD     /* record-only, held by keep_root once ended */
} otel_keep_role;

struct otel_span {
    otel_span_data d; /* first: what exporters are handed */
    bool recording;   /* sampled or record-only: records */
    bool ended;
    uint8_t keep_role;   /* otel_keep_role */
    uint8_t keep_reason; /* a root's otel_keep_reason; 0: released at its end */
    otel_tracer *tracer;
    atomic_uint holders; /* pipelines still holding the ended span */

    /* Record-only trees. A child holds a reference on its root from its
     * start to its release, so that the root object is never given back to
     * the pool (and reused) while a child may still reach it. */
    otel_span *keep_root; /* child: its local root */
    otel_span *keep_next; /* in the root's list of held spans */
    /* root: the ended children it holds, pushed by any thread; OTEL_KEEP_CLOSED
     * once the root ended */
    _Atomic(otel_span *) keep_head;
    atomic_uint keep_count; /* root: children offered to keep_head */
    atomic_uint keep_refs;  /* root: itself, and one per child */

    /* recording: bit (length % 64) set for the length of each key the span
     * has or had: a key of a length not set is not there, without a look
     * at the attributes (most keys a handler sets are new ones) */
    uint64_t key_lens;
    uint32_t arena_used;
    uint32_t value_max; /* recording: the tracer's attr_value_max_len (capped;
                           the arena is smaller), what every adder cuts at */
    char arena[OTEL_SPAN_ARENA];
};

/* keep_head of a root that ended: no child joins its list any more. */
#define OTEL_KEEP_CLOSED ((otel_span *)(uintptr_t)1)

/* The span whose data d is. */
static inline otel_span *otel_span_of(const otel_span_data *d)
{
    return (otel_span *)d;
}

/* keep.c: s (record-only, being started) joins local_parent's record-only
 * tree, or is the local root of a new one. */
void otel_keep_join(otel_span *s, otel_span *local_parent);
/* keep.c: s, record-only and just ended: held by its root, or (the root)
 * its tree exported or released. */
void otel_keep_end(otel_span *s);

/* Fast adders for instrumentation that owns its keys: key must outlive the
 * span (a literal, or storage freed only after the tracer), be valid UTF-8,
 * NUL-terminated at key_len, and not yet set on the span. Nothing is checked
 * or copied but the value. Inline for their common case (a call's entry and
 * exit were a quarter of the copying adder's instructions); the _any
 * functions take every case. */
#define OTEL_KEY(lit) (lit), (uint16_t)(sizeof(lit) - 1)
void otel_span_add_attr_strn_sk_any(otel_span *span, const char *key, uint16_t key_len,
                                    const char *value, size_t len);
void otel_span_add_attr_lit_sk_any(otel_span *span, const char *key, uint16_t key_len,
                                   const char *value, size_t len);

/* key_len is the length of a key span has now (see key_lens). */
static inline void otel_span_key_seen(otel_span *span, size_t key_len)
{
    span->key_lens |= UINT64_C(1) << (key_len & 63);
}

/* The slot a, for one more attribute of span set with the fast adders. */
static inline void otel_span_set_sk(otel_span *span, otel_attr *a, const char *key,
                                    uint16_t key_len, otel_attr_type type)
{
    otel_span_key_seen(span, key_len);
    a->key = key;
    a->key_len = key_len;
    a->type = type;
}

/* One more string attribute of span, key and value as they are given (the
 * fast adders' common case: room checked by the caller). */
static inline void otel_span_push_str_sk(otel_span *span, const char *key, uint16_t key_len,
                                         const char *value, size_t len)
{
    otel_attr *a = &span->d.attrs[span->d.n_attrs++];
    otel_span_set_sk(span, a, key, key_len, OTEL_ATTR_STRING);
    a->v.s.ptr = value;
    a->v.s.len = (uint32_t)len;
}

/* value (len bytes) copied into the arena, checked UTF-8. */
static inline __attribute__((always_inline)) void
otel_span_add_attr_strn_sk(otel_span *span, const char *key, uint16_t key_len, const char *value,
                           size_t len)
{
    /* A short plain value with room to spare: copied as it is (what
     * arena_copy would do; its cut cannot happen here). */
    if (span != NULL && span->recording && span->d.n_attrs < OTEL_SPAN_MAX_ATTRS && len <= 16 &&
        len <= span->value_max && span->arena_used + 17 <= OTEL_SPAN_ARENA) {
        char *dst = span->arena + span->arena_used;
        if (otel_utf8_ascii_copy16(dst, value, len)) {
            dst[len] = '\0';
            span->arena_used += (uint32_t)len + 1;
            otel_span_push_str_sk(span, key, key_len, dst, len);
            return;
        }
    }
    otel_span_add_attr_strn_sk_any(span, key, key_len, value, len);
}

static inline void otel_span_add_attr_int_sk(otel_span *span, const char *key, uint16_t key_len,
                                             int64_t value)
{
    if (span == NULL || !span->recording)
        return;
    if (span->d.n_attrs == OTEL_SPAN_MAX_ATTRS) {
        span->d.dropped_attrs++;
        return;
    }
    otel_attr *a = &span->d.attrs[span->d.n_attrs++];
    otel_span_set_sk(span, a, key, key_len, OTEL_ATTR_INT);
    a->v.i = value;
}

/* otel_span_add_attr_strn_sk for a value that needs no copy either: it
 * outlives the span as the key does (a literal), is valid UTF-8 and
 * NUL-terminated at len. The span points to it; a value over the tracer's
 * attribute length limit is cut into the arena as by the copying adder. */
static inline void otel_span_add_attr_lit_sk(otel_span *span, const char *key, uint16_t key_len,
                                             const char *value, size_t len)
{
    if (span != NULL && span->recording && span->d.n_attrs < OTEL_SPAN_MAX_ATTRS &&
        len <= span->value_max) {
        otel_span_push_str_sk(span, key, key_len, value, len);
        return;
    }
    otel_span_add_attr_lit_sk_any(span, key, key_len, value, len);
}
/* Drop each attribute from index first on whose key one before first has
 * (that one stays): for instrumentation adding its attributes with the fast
 * adders after the application may have set some of the same keys. */
void otel_span_drop_repeated_attrs(otel_span *span, uint16_t first);

/* otel_span_is_recording and otel_span_is_sampled, inline for the
 * instrumentation's every request. */
static inline bool otel_span_records(const otel_span *span)
{
    return span != NULL && span->recording && !span->ended;
}

static inline bool otel_span_sampled(const otel_span *span)
{
    return span != NULL && (span->d.ctx.trace_flags & OTEL_TRACE_FLAG_SAMPLED) != 0;
}

/* The longest name otel_span_name_pair makes. */
#define OTEL_SPAN_NAME_PAIR_MAX 319

/* Name span "a b" (al + 1 + bl <= OTEL_SPAN_NAME_PAIR_MAX; neither holds a
 * NUL), as otel_span_update_name would, but copied into the arena once, as
 * instrumentation names a span "METHOD route". A longer pair changes
 * nothing. */
void otel_span_name_pair(otel_span *span, const char *a, size_t al, const char *b, size_t bl);

/* Name span name (valid UTF-8, NUL-terminated, at most
 * OTEL_SPAN_NAME_PAIR_MAX bytes), pointed to, not copied: it outlives the
 * span, as the instrumentation's names made at its start do. */
static inline void otel_span_name_lasting(otel_span *span, const char *name)
{
    if (span != NULL && span->recording)
        span->d.name = name;
}

/* ---- the calling thread's context ---------------------------------------- */

/* Its current span (span.c) and baggage lines (propagation.c), for the
 * instrumentation's own swaps around each handler call: inline, where the
 * public otel_context_attach and otel_baggage_attach are a call each. */
extern OTEL_TLS otel_span *otel_tls_span;
extern OTEL_TLS const otel_baggage_lines *otel_tls_baggage;

/* Make span current; returns the one before it. */
static inline otel_span *otel_context_swap(otel_span *span)
{
    otel_span *prev = otel_tls_span;
    otel_tls_span = span;
    return prev;
}

/* Make lines the current baggage; returns the lines before them. */
static inline const otel_baggage_lines *otel_baggage_swap(const otel_baggage_lines *lines)
{
    const otel_baggage_lines *prev = otel_tls_baggage;
    otel_tls_baggage = lines;
    return prev;
}

#endif /* OTEL_SPAN_INT_H */
