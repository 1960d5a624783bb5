/* propagation.h - context propagation through any library's headers: the
 * carrier interface, propagator sets (tracecontext, baggage, b3, b3multi),
 * W3C Baggage, B3 and tracestate mutation. Nothing here allocates. */
#ifndef OTEL_PROPAGATION_H
#define OTEL_PROPAGATION_H

#include <mhd-otel/otel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- carriers ------------------------------------------------------------ */

/* Read header name from carrier: the value of its index-th field line
 * (index 0 is the first, in the order received), or NULL when the carrier
 * has no line of that name that far (index 0: the header is absent). Names
 * are compared case-insensitively by the getter. A carrier whose library
 * joins repeated lines hands out the joined value as line 0 and nothing at
 * index 1 (RFC 9110 section 5.3: the same field). The string must stay
 * valid until the extract call that asked for it returns. */
typedef const char *(*otel_carrier_get)(void *carrier, const char *name, size_t index);

/* Write header name: value to carrier (replacing an existing value is the
 * setter's choice). Both strings are valid during the call only; the setter
 * copies what it keeps. Values never contain bytes < 0x20 or 0x7f. */
typedef void (*otel_carrier_set)(void *carrier, const char *name, const char *value);

/* ---- W3C Baggage (baggage.c) --------------------------------------------- */

#define OTEL_BAGGAGE_MAX_MEMBERS 180 /* list-members per header */
#define OTEL_BAGGAGE_MAX_BYTES 8192  /* bytes of the formatted header */
/* Arena of decoded members: key, value and properties, each NUL-terminated. */
#define OTEL_BAGGAGE_BUF_SIZE (OTEL_BAGGAGE_MAX_BYTES + 2 * OTEL_BAGGAGE_MAX_MEMBERS)

/* Where a member's strings start in the arena (private to baggage.c). */
typedef struct otel_baggage_slot {
    uint16_t key;
    uint16_t value;
    uint16_t props;
    uint16_t wire; /* bytes of "key=encoded-value[;props]" */
} otel_baggage_slot;

/* A baggage: at most 180 members whose formatted header fits 8192 bytes.
 * Owned by the caller (stack, or inside a larger struct); about 10 KiB. A
 * zeroed struct is an empty baggage. Use the functions, not the fields. */
typedef struct otel_baggage {
    uint16_t count;
    uint16_t used;     /* bytes of buf in use */
    uint16_t wire_sum; /* sum of the members' wire lengths */
    otel_baggage_slot slot[OTEL_BAGGAGE_MAX_MEMBERS];
    char buf[OTEL_BAGGAGE_BUF_SIZE];
} otel_baggage;

/* One member as read back. The strings are borrowed from the baggage and
 * valid until its next change. value is decoded UTF-8 (may be ""); props is
 * the member's properties as "p1;p2=v" with OWS removed ("" for none). */
typedef struct otel_baggage_member {
    const char *key;
    const char *value;
    const char *props;
} otel_baggage_member;

/* Empty b. */
MHD_OTEL_API void otel_baggage_init(otel_baggage *b);

/* Replace the content of b with the members of a baggage header value (len
 * bytes, not NUL-terminated). Members are dropped one by one, never the
 * whole header: an invalid one (key not a token, a raw byte outside
 * baggage-octet, a bad percent escape, a bad property), and those that would
 * take b over 180 members or 8192 formatted bytes. Percent-decoded values
 * that are not UTF-8 (and NUL) get U+FFFD. A repeated key: the last wins
 * (unless it would break a limit).
 * Returns the number of members kept (>= 0), or OTEL_ERR_INVALID for NULL b. */
MHD_OTEL_API int otel_baggage_parse(otel_baggage *b, const char *value, size_t len);

/* The same for a baggage sent as several header field lines (values[i],
 * lens[i] bytes; a NULL value is skipped): one list, combined in order, the
 * limits applying to the combination (W3C Baggage, "Limits"). */
MHD_OTEL_API int otel_baggage_parse_lines(otel_baggage *b, const char *const *values,
                                          const size_t *lens, size_t n_lines);

/* Format b as a baggage header value into out (cap bytes, NUL-terminated):
 * values percent-encoded outside baggage-octet (and '%'), members added in
 * order until the next would not fit in cap - 1 bytes. Returns the length
 * written (0 for an empty baggage), or OTEL_ERR_INVALID when cap is 0.
 * OTEL_BAGGAGE_MAX_BYTES + 1 bytes always hold a whole baggage. */
MHD_OTEL_API int otel_baggage_format(const otel_baggage *b, char *out, size_t cap);

/* Add key = value (props NULL or "p1;p2=v") to b, copied; an existing member
 * with that key is replaced (and moves to the end). Returns 0,
 * OTEL_ERR_INVALID (key not a token, value not UTF-8, props malformed: b is
 * unchanged) or OTEL_ERR_FULL (over 180 members or 8192 bytes: unchanged). */
MHD_OTEL_API int otel_baggage_set(otel_baggage *b, const char *key, const char *value,
                                  const char *props);

/* The value of key, or NULL. Borrowed: valid until b changes. */
MHD_OTEL_API const char *otel_baggage_get(const otel_baggage *b, const char *key);

/* Remove the member key. True when there was one. */
MHD_OTEL_API bool otel_baggage_remove(otel_baggage *b, const char *key);

MHD_OTEL_API size_t otel_baggage_count(const otel_baggage *b);

/* The i-th member (i < count) into out. Returns 0 or OTEL_ERR_RANGE. */
MHD_OTEL_API int otel_baggage_at(const otel_baggage *b, size_t i, otel_baggage_member *out);

/* ---- B3 (b3.c) ----------------------------------------------------------- */

#define OTEL_B3_LEN 51 /* 32 "-" 16 "-" 1 */

/* Parse a single "b3" header value (len bytes): {TraceId}-{SpanId} with an
 * optional -{SamplingState} (0, 1, d) and -{ParentSpanId}; a 64-bit trace
 * id is left-padded with zeros. Lowercase hex only. Debug ("d") sets
 * out->debug and sampled; no sampling state (deferred) means not sampled.
 * Returns 0 (out is marked remote), or OTEL_ERR_PARSE (out zeroed) for a
 * malformed value, all-zero ids, and a sampling state alone ("0", "d"),
 * which carries no context. */
MHD_OTEL_API int otel_b3_parse(const char *value, size_t len, otel_span_context *out);

/* The same from the X-B3-* header values (NUL-terminated, NULL when absent):
 * trace id (16 or 32 hex) and span id are required; sampled is 0, 1, true,
 * false (case-insensitive); flags "1" is debug, which sets out->debug and
 * sampled whatever sampled says (any other flags value is ignored, as the
 * B3 specification allows). Returns 0 or OTEL_ERR_PARSE (out zeroed).
 * X-B3-ParentSpanId plays no part. */
MHD_OTEL_API int otel_b3_multi_parse(const char *trace_id, const char *span_id, const char *sampled,
                                     const char *flags, otel_span_context *out);

/* Format sc as "{32 hex}-{16 hex}-{d|1|0}" into out (OTEL_B3_LEN + 1
 * bytes): d when sc->debug, else the sampled flag. */
MHD_OTEL_API void otel_b3_format(const otel_span_context *sc, char *out);

/* ---- propagator sets (propagation.c) ------------------------------------- */

typedef enum otel_propagator {
    OTEL_PROPAGATOR_NONE = 0,
    OTEL_PROPAGATOR_TRACECONTEXT,
    OTEL_PROPAGATOR_BAGGAGE,
    OTEL_PROPAGATOR_B3,
    OTEL_PROPAGATOR_B3MULTI
} otel_propagator;

#define OTEL_PROPAGATORS_MAX 4
#define OTEL_PROPAGATORS_DEFAULT "tracecontext,baggage" /* OTEL_PROPAGATORS' */

/* The configured propagators, in order. A small value: copy it freely. A
 * zeroed one propagates nothing. */
typedef struct otel_propagators {
    uint8_t mask; /* bit (1 << otel_propagator) */
    uint8_t n;
    uint8_t order[OTEL_PROPAGATORS_MAX];
} otel_propagators;

/* The set named by list ("tracecontext,baggage", "b3 b3multi": names are
 * separated by commas and/or blanks, case-insensitive, repeats ignored).
 * NULL or blank: the default, tracecontext,baggage; "none" alone: the empty
 * set. Returns 0, or OTEL_ERR_INVALID for an unknown name or "none" with
 * others: err (err_cap bytes, may be NULL) then says which, and out holds
 * the recognised names, for a caller that warns and goes on. */
MHD_OTEL_API int otel_propagators_from_names(otel_propagators *out, const char *list, char *err,
                                             size_t err_cap);

/* True when p includes kind. */
MHD_OTEL_API bool otel_propagators_has(const otel_propagators *p, otel_propagator kind);

/* "tracecontext", "baggage", "b3", "b3multi", "none". */
MHD_OTEL_API const char *otel_propagator_name(otel_propagator kind);

/* The process's configured set: what outgoing requests carry when no set is
 * given to them (CLIENT spans, the libcurl helper). tracecontext,baggage
 * until set; mhd_otel_new sets it from otel_propagators / OTEL_PROPAGATORS.
 * Both are safe from any thread. NULL p restores the default. */
MHD_OTEL_API void otel_propagators_set_global(const otel_propagators *p);
MHD_OTEL_API void otel_propagators_global(otel_propagators *out);

/* What extraction found. About 10.5 KiB: keep it in a per-request struct or
 * on a thread's stack. */
typedef struct otel_extracted {
    otel_span_context context;            /* remote; zeroed when none valid */
    otel_propagator source;               /* which propagator gave it, or NONE */
    char tracestate[OTEL_TRACESTATE_MAX]; /* "" unless tracecontext gave it */
    otel_baggage baggage;                 /* empty unless baggage is configured */
} otel_extracted;

/* Read the context of an incoming request from carrier through get. The
 * trace propagators of p are tried in order and the first valid context
 * wins: tracecontext reads traceparent (a request with two traceparent
 * lines has none valid) and then tracestate, all its lines as one list;
 * b3 and b3multi both read the single b3 header first and the X-B3-*
 * headers when it gives no valid context (they differ in what they
 * inject); a traceparent or b3 header given on two lines is invalid, of an
 * X-B3-* header the first line counts (B3: "the first value wins").
 * baggage is read on its own, all lines as one list.
 * out is always reset first. Returns 0 (check
 * otel_span_context_is_valid(&out->context)), or OTEL_ERR_INVALID for a
 * NULL argument. */
MHD_OTEL_API int otel_propagation_extract(const otel_propagators *p, otel_carrier_get get,
                                          void *carrier, otel_extracted *out);

/* Write sc (skipped unless valid), tracestate (NULL or "": none; re-validated,
 * an invalid one is not sent) and bag (NULL: none; not sent when empty) to
 * carrier through set, for each propagator of p in order: tracecontext
 * writes traceparent and tracestate, b3 writes b3, b3multi writes
 * X-B3-TraceId, X-B3-SpanId and X-B3-Sampled (X-B3-Flags: 1 instead of
 * X-B3-Sampled for a debug context), baggage writes baggage. A
 * value is handed to set only when every byte is printable ASCII (0x20 to
 * 0x7e), so no CR, LF or other control byte ever reaches a header. */
MHD_OTEL_API void otel_propagation_inject(const otel_propagators *p, const otel_span_context *sc,
                                          const char *tracestate, const otel_baggage *bag,
                                          otel_carrier_set set, void *carrier);

/* ---- tracestate mutation (propagation.c) --------------------------------- */

/* Put key=value at the front of the tracestate in ts (cap bytes, a valid
 * value, NUL-terminated), removing the key's earlier entry: what a vendor
 * does to record its own state. When the result would have 33 members the
 * last goes; when it would not fit in min(cap, OTEL_TRACESTATE_MAX) - 1
 * bytes, other members go by the W3C truncation rule (the new one stays).
 * Returns the new length, OTEL_ERR_INVALID (key or value invalid per W3C,
 * ts invalid or not terminated within cap: ts unchanged) or OTEL_ERR_RANGE
 * (key=value alone does not fit: ts unchanged). */
MHD_OTEL_API int otel_tracestate_update(char *ts, size_t cap, const char *key, const char *value);

/* Copy the value of key in the tracestate ts into out (cap bytes). Returns
 * its length, 0 when key is absent (out ""; a present value is never empty),
 * or OTEL_ERR_RANGE when it does not fit (out ""). */
MHD_OTEL_API int otel_tracestate_get(const char *ts, const char *key, char *out, size_t cap);

/* ---- current baggage (per thread) ---------------------------------------- */

/* Raw baggage header field lines, as received: values[i] is lens[i] bytes
 * (not validated). Everything is borrowed. */
typedef struct otel_baggage_lines {
    const char *const *values;
    const size_t *lens;
    size_t n;
} otel_baggage_lines;

/* The incoming baggage of the request this thread is handling (borrowed,
 * valid while it is current), or NULL. Client spans inject it, parsed as one
 * list, when no baggage is given to them. */
MHD_OTEL_API const otel_baggage_lines *otel_baggage_current(void);
/* Make lines (NULL: none) the current baggage; returns the previous one, to
 * make current again when the scope ends. */
MHD_OTEL_API const otel_baggage_lines *otel_baggage_attach(const otel_baggage_lines *lines);

#ifdef __cplusplus
}
#endif

#endif /* OTEL_PROPAGATION_H */
