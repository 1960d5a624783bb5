/* otel.h - public API of the mhd-otel tracing core (spans, context, samplers,
 * propagation, resource, batch processor). No I/O happens behind it. */
#ifndef OTEL_H
#define OTEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The release: MAJOR.MINOR.PATCH. The shared library is
 * libmhd-otel.so.MAJOR; mhd_otel_version() gives the run-time one. */
#define MHD_OTEL_VERSION_MAJOR 0
#define MHD_OTEL_VERSION_MINOR 1
#define MHD_OTEL_VERSION_PATCH 0
#define MHD_OTEL_VERSION "0.1.0"

#define OTEL_SDK_NAME "mhd-otel"
#define OTEL_SDK_VERSION MHD_OTEL_VERSION /* telemetry.sdk.version */

/* What the shared library exports: the functions of these headers (it is
 * built with -fvisibility=hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define MHD_OTEL_API __attribute__((visibility("default")))
#else
#define MHD_OTEL_API
#endif

/* ---- errors ------------------------------------------------------------ */

#define OTEL_OK 0
#define OTEL_ERR_NOMEM (-1)   /* an allocation failed */
#define OTEL_ERR_INVALID (-2) /* an argument or input value is invalid */
#define OTEL_ERR_FULL (-3)    /* a bounded queue or table is full */
#define OTEL_ERR_TIMEOUT (-4) /* a deadline passed */
#define OTEL_ERR_IO (-5)      /* an exporter could not write or send */
#define OTEL_ERR_STATE (-6)   /* the object is not in a state for this */
#define OTEL_ERR_PARSE (-7)   /* input could not be parsed */
#define OTEL_ERR_RANGE (-8)   /* a number is out of its allowed range */
#define OTEL_ERR_UNSUPPORTED (-9)

/* A static English string for an OTEL_ERR_* code; never NULL. */
MHD_OTEL_API const char *otel_strerror(int err);

/* ---- diagnostics ------------------------------------------------------- */

typedef enum otel_log_level { OTEL_LOG_ERROR = 0, OTEL_LOG_WARN, OTEL_LOG_INFO } otel_log_level;

/* Where the library's own messages go (drops, export failures). The core
 * writes nothing itself: with no function set, messages are discarded. msg is
 * valid during the call only. The function may be called from any thread. */
typedef void (*otel_log_fn)(void *user_data, otel_log_level level, const char *msg);
MHD_OTEL_API void otel_log_set(otel_log_fn fn, void *user_data);

/* Install fn unless the program set a log function already (for modules
 * that want a default of their own). Returns true when fn was installed. */
MHD_OTEL_API bool otel_log_set_default(otel_log_fn fn, void *user_data);

/* ---- clock and ids ------------------------------------------------------ */

/* Wall-clock time in unix nanoseconds. */
MHD_OTEL_API uint64_t otel_now_ns(void);

/* CLOCK_MONOTONIC in nanoseconds: the clock of every deadline below. */
MHD_OTEL_API uint64_t otel_mono_ns(void);

/* Fill a 128-bit trace id / 64-bit span id from the calling thread's fast
 * generator, seeded from the OS on first use. Never all-zero. */
MHD_OTEL_API void otel_trace_id_new(uint8_t out[16]);
MHD_OTEL_API void otel_span_id_new(uint8_t out[8]);

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
MHD_OTEL_API void otel_hex_encode(const uint8_t *in, size_t n, char *out);

#define OTEL_TRACE_FLAG_SAMPLED 0x01

/* Identity of a span as it is propagated. */
typedef struct otel_span_context {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t trace_flags;
    bool is_remote;
    /* B3's debug flag, received as sampling state "d" or X-B3-Flags: 1:
     * implies sampled, is inherited by child spans and injected again by
     * the b3 and b3multi propagators. Unknown to W3C trace context. */
    bool debug;
} otel_span_context;

/* True when trace id and span id are both non-zero. */
MHD_OTEL_API bool otel_span_context_is_valid(const otel_span_context *sc);

/* ---- W3C trace context (propagator.c) ---------------------------------- */

#define OTEL_TRACEPARENT_LEN 55 /* "00-" 32 "-" 16 "-" 2 */
/* Bytes of a tracestate kept, its NUL included: the 512 characters W3C Trace
 * Context says vendors SHOULD propagate at least ("tracestate Limits"). */
#define OTEL_TRACESTATE_MAX 513
#define OTEL_TRACESTATE_MAX_MEMBERS 32

/* Parse a traceparent header value (len bytes, not NUL-terminated) into out,
 * which is marked remote. Returns 0, or OTEL_ERR_PARSE for any value that
 * must be ignored per W3C Trace Context level 1 (out is then zeroed). */
MHD_OTEL_API int otel_traceparent_parse(const char *value, size_t len, otel_span_context *out);

/* Format sc as a version-00 traceparent: writes exactly 55 chars plus NUL
 * into out, which must hold OTEL_TRACEPARENT_LEN + 1 bytes. */
MHD_OTEL_API void otel_traceparent_format(const otel_span_context *sc, char *out);

/* Validate a tracestate header value (len bytes) and copy the members worth
 * keeping into out (cap bytes, NUL-terminated), per W3C Trace Context
 * Level 1: OWS around members and empty members dropped; a member whose key
 * repeats an earlier one dropped; more than 32 members, or one member that
 * is not key=value by the grammar, make the whole value invalid. Longer than
 * cap-1 bytes, members over 128 bytes go first, then members from the end.
 * Returns the length written (0 = nothing to carry: an empty or blank
 * value), or OTEL_ERR_PARSE when the value is invalid as a whole (out is
 * then ""). */
MHD_OTEL_API int otel_tracestate_parse(const char *value, size_t len, char *out, size_t cap);

/* The same for a tracestate sent as several header field lines (values[i],
 * lens[i] bytes; a NULL value is skipped): they are one list, combined in
 * order (RFC 9110 section 5.3), and the limits apply to the combination. */
MHD_OTEL_API int otel_tracestate_parse_lines(const char *const *values, const size_t *lens,
                                             size_t n_lines, char *out, size_t cap);

/* ---- attributes --------------------------------------------------------- */

typedef enum otel_attr_type {
    OTEL_ATTR_STRING = 0,
    OTEL_ATTR_BOOL,
    OTEL_ATTR_INT,
    OTEL_ATTR_DOUBLE,
    OTEL_ATTR_STRING_ARRAY /* a homogeneous array of strings */
} otel_attr_type;

/* A key and typed value passed in by callers (events, resources). Strings
 * are borrowed for the duration of the call only. */
typedef struct otel_kv {
    const char *key;
    otel_attr_type type;
    union {
        const char *s;
        bool b;
        int64_t i;
        double d;
        struct {
            const char *const *v; /* n strings; a NULL one is "" */
            size_t n;
        } sa;
    } v;
} otel_kv;

#define OTEL_KV_STR(k, val) ((otel_kv){.key = (k), .type = OTEL_ATTR_STRING, .v.s = (val)})
#define OTEL_KV_INT(k, val) ((otel_kv){.key = (k), .type = OTEL_ATTR_INT, .v.i = (val)})
#define OTEL_KV_BOOL(k, val) ((otel_kv){.key = (k), .type = OTEL_ATTR_BOOL, .v.b = (val)})
#define OTEL_KV_DOUBLE(k, val) ((otel_kv){.key = (k), .type = OTEL_ATTR_DOUBLE, .v.d = (val)})
#define OTEL_KV_STR_ARRAY(k, vals, count)                                                          \
    ((otel_kv){.key = (k), .type = OTEL_ATTR_STRING_ARRAY, .v.sa = {(vals), (count)}})

/* ---- samplers ----------------------------------------------------------- */

typedef enum otel_sampler_kind {
    OTEL_SAMPLER_ALWAYS_ON = 0,
    OTEL_SAMPLER_ALWAYS_OFF,
    OTEL_SAMPLER_TRACEIDRATIO,
    OTEL_SAMPLER_PARENTBASED_ALWAYS_ON,
    OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF,
    OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO
} otel_sampler_kind;

/* A sampler is a small value; copy it freely. */
typedef struct otel_sampler {
    otel_sampler_kind kind;
    double ratio;       /* for the traceidratio kinds, in [0, 1] */
    uint64_t threshold; /* derived from ratio by otel_sampler_init */
} otel_sampler;

/* Set up s. ratio is read only by the traceidratio kinds; it must lie in
 * [0, 1] (else OTEL_ERR_RANGE). */
MHD_OTEL_API int otel_sampler_init(otel_sampler *s, otel_sampler_kind kind, double ratio);

/* Map a spec name ("always_on", "parentbased_traceidratio", ...) to a kind.
 * Returns 0 or OTEL_ERR_INVALID. */
MHD_OTEL_API int otel_sampler_kind_from_name(const char *name, otel_sampler_kind *out);
MHD_OTEL_API const char *otel_sampler_kind_name(otel_sampler_kind kind);
MHD_OTEL_API bool otel_sampler_needs_ratio(otel_sampler_kind kind);

/* The decision for a new span in trace trace_id whose parent is parent (NULL
 * or invalid: a root span). */
MHD_OTEL_API bool otel_sampler_should_sample(const otel_sampler *s, const otel_span_context *parent,
                                             const uint8_t trace_id[16]);

/* ---- resource ----------------------------------------------------------- */

typedef struct otel_resource otel_resource;

/* A resource with service.name (NULL or "": unknown_service:<program>),
 * telemetry.sdk.{name,language,version}. Caller frees with
 * otel_resource_del. */
MHD_OTEL_API int otel_resource_new(otel_resource **out, const char *service_name);
MHD_OTEL_API void otel_resource_del(otel_resource *r);
/* Add or replace a string attribute (key and value copied, each made valid
 * UTF-8: invalid bytes become U+FFFD, as OTLP strings must be UTF-8).
 * service.name may be replaced. */
MHD_OTEL_API int otel_resource_set(otel_resource *r, const char *key, const char *value);
/* Read back: NULL when absent. Valid until the next set or del. */
MHD_OTEL_API const char *otel_resource_get(const otel_resource *r, const char *key);
MHD_OTEL_API size_t otel_resource_count(const otel_resource *r);
/* i-th key/value, i < count; borrowed like otel_resource_get. */
MHD_OTEL_API void otel_resource_at(const otel_resource *r, size_t i, const char **key,
                                   const char **value);

typedef struct otel_span otel_span;
typedef struct otel_exporter otel_exporter;

/* ---- tracer: sampler + resource + batch processor ----------------------- */

typedef struct otel_tracer otel_tracer;

typedef struct otel_tracer_config {
    otel_sampler sampler;
    size_t max_queue_size;        /* spec default 2048 */
    size_t max_export_batch_size; /* spec default 512 */
    uint64_t schedule_delay_ns;   /* spec default 5 s */
    uint64_t export_timeout_ns;   /* spec default 30 s */
    size_t attr_value_max_len;    /* longer string values are cut; default 1024 */
    /* The keep decision (off by default): a span the sampler does not sample
     * records anyway, trace flags unsampled (the SDK specification's
     * RECORD_ONLY decision), and so do its local children. Such spans are not
     * exported as they end: their local root (the first record-only span of
     * the trace in this process) holds them, and when it ends they are
     * exported with it if otel_span_keep marked it, else released. */
    bool record_unsampled;
    size_t keep_max_spans; /* spans one local root holds, itself aside; more are
                              released and counted (keep_overflow); default 64 */
} otel_tracer_config;

/* Fill cfg with the spec defaults and the always_on... parentbased_always_on
 * sampler (the spec's default). */
MHD_OTEL_API void otel_tracer_config_default(otel_tracer_config *cfg);

/* A tracer owning resource (which it frees). Its worker threads start on
 * the first otel_tracer_start. Caller frees with otel_tracer_del. */
MHD_OTEL_API int otel_tracer_new(otel_tracer **out, const otel_tracer_config *cfg,
                                 otel_resource *resource);

#define OTEL_TRACER_MAX_EXPORTERS 4

/* Give e to t: each exporter gets a bounded queue (max_queue_size) and a
 * worker thread of its own, and every sampled span that ends goes into
 * each exporter's queue, so that one slow or failing exporter never delays
 * another. Before otel_tracer_start only; at most OTEL_TRACER_MAX_EXPORTERS.
 * The tracer owns e from this call on, also when it fails (e is then
 * deleted). Returns 0, OTEL_ERR_INVALID (e NULL), OTEL_ERR_STATE (started),
 * OTEL_ERR_FULL or OTEL_ERR_NOMEM. */
MHD_OTEL_API int otel_tracer_add_exporter(otel_tracer *t, otel_exporter *e);
/* Start the worker threads. Idempotent. */
MHD_OTEL_API int otel_tracer_start(otel_tracer *t);
/* Export every span already ended and shut the exporters down, all within
 * the export timeout (export_timeout_ns) in total, whatever the exporters
 * do; spans not exported by then are counted as failed and logged once
 * with their count. Spans ended afterwards are dropped and counted.
 * Idempotent. Returns 0, OTEL_ERR_TIMEOUT (the deadline cut the export
 * short) or OTEL_ERR_IO (an exporter failed on spans). */
MHD_OTEL_API int otel_tracer_shutdown(otel_tracer *t);
/* The same within timeout_ns instead of the export timeout. */
MHD_OTEL_API int otel_tracer_shutdown_within(otel_tracer *t, uint64_t timeout_ns);
/* Shutdown (if not done) and free. NULL does nothing. An exporter that
 * did not return by its deadline is left behind with its thread, its
 * queue and the spans it holds, never freed under it. */
MHD_OTEL_API void otel_tracer_del(otel_tracer *t);
/* Ask every worker to export what is queued and its exporter to flush, and
 * wait up to timeout_ns for all of it; exports made for the flush end by
 * its deadline. Returns 0 or OTEL_ERR_TIMEOUT. */
MHD_OTEL_API int otel_tracer_force_flush(otel_tracer *t, uint64_t timeout_ns);

MHD_OTEL_API const otel_resource *otel_tracer_resource(const otel_tracer *t);

/* Counters of a span pipeline. For each exporter, exactly
 * ended = exported + dropped + failed + rejected + queued when no span is
 * moving (a snapshot taken while spans move may be off by those).
 *
 * The keep counters (record_unsampled) are the tracer's, the same in every
 * exporter's counters. Each record-only local root that ends counts once in
 * kept_error + kept_slow + keep_released; the spans of a kept tree are
 * offered to the queue as the root ends and count in ended from then on; a
 * record-only child not held by its root counts in keep_overflow or
 * keep_late. */
typedef struct otel_stats {
    uint64_t ended;         /* sampled spans ended, and spans of kept trees, offered
                               to the queue */
    uint64_t exported;      /* delivered */
    uint64_t dropped;       /* refused by a full queue (or after shutdown) */
    uint64_t failed;        /* the exporter gave up on them, or shutdown's
                               deadline passed first */
    uint64_t rejected;      /* refused by the receiver (partial success) */
    uint64_t queued;        /* in the queue or being exported */
    uint64_t exporting;     /* of queued: passed to the exporter, its export
                               not concluded (retries and backoff included) */
    uint64_t kept_error;    /* record-only trees exported, kept as errors */
    uint64_t kept_slow;     /* record-only trees exported, kept as slow */
    uint64_t keep_released; /* record-only trees released without export */
    uint64_t keep_overflow; /* record-only spans released: their root held
                               keep_max_spans already */
    uint64_t keep_late;     /* record-only spans released: they ended after
                               their local root */
} otel_stats;

/* The sums over every exporter (a span ending into two exporters counts
 * twice). With no exporter, ended spans count as dropped. */
MHD_OTEL_API void otel_tracer_stats(const otel_tracer *t, otel_stats *out);
MHD_OTEL_API size_t otel_tracer_exporter_count(const otel_tracer *t);
/* The counters of the i-th exporter added and its name (borrowed, valid
 * while t lives). Returns 0 or OTEL_ERR_INVALID (i out of range). */
MHD_OTEL_API int otel_tracer_exporter_stats(const otel_tracer *t, size_t i, otel_stats *out,
                                            const char **name);

/* ---- spans -------------------------------------------------------------- */

typedef enum otel_span_kind {
    OTEL_SPAN_KIND_INTERNAL = 1,
    OTEL_SPAN_KIND_SERVER = 2,
    OTEL_SPAN_KIND_CLIENT = 3,
    OTEL_SPAN_KIND_PRODUCER = 4,
    OTEL_SPAN_KIND_CONSUMER = 5
} otel_span_kind;

typedef enum otel_status_code {
    OTEL_STATUS_UNSET = 0,
    OTEL_STATUS_OK = 1,
    OTEL_STATUS_ERROR = 2
} otel_status_code;

MHD_OTEL_API const char *otel_span_kind_name(otel_span_kind kind);     /* "server", ... */
MHD_OTEL_API const char *otel_status_code_name(otel_status_code code); /* "unset", ... */

typedef struct otel_span_options {
    otel_span_kind kind;             /* 0 means internal */
    const otel_span_context *parent; /* NULL: the current span, if any */
    bool root;                       /* ignore any parent: a new trace */
    uint64_t start_ns;               /* 0: now */
    const char *tracestate;          /* carried from the parent (remote) */
} otel_span_options;

/* Start a span. tracer NULL: the current span's tracer (no current span:
 * returns NULL). Never fails for a caller: on exhaustion it returns NULL and
 * every otel_span_* call accepts NULL and does nothing. A span that is not
 * sampled records nothing but still carries its context to children (with
 * record_unsampled it records, see otel_tracer_config). The span belongs to
 * the caller until otel_span_end, which gives it back. */
MHD_OTEL_API otel_span *otel_span_start(otel_tracer *tracer, const char *name,
                                        const otel_span_options *opt);

/* Child of the current span of this thread (NULL when there is none). */
MHD_OTEL_API otel_span *otel_span_start_child(const char *name, otel_span_kind kind);

/* End the span at now / at end_ns, hand it to the processor (sampled) or
 * back to the pool (not sampled); a record-only span goes to its local root
 * (or, being the root, its tree is exported or released, see
 * otel_span_keep). The pointer is invalid afterwards. A record-only child
 * may end on any thread, also after its root ended. */
MHD_OTEL_API void otel_span_end(otel_span *span);
MHD_OTEL_API void otel_span_end_at(otel_span *span, uint64_t end_ns);

/* True while the span records (sampled, or record-only) and has not ended. */
MHD_OTEL_API bool otel_span_is_recording(const otel_span *span);
/* True when the span's trace flags say sampled: it is exported as it ends,
 * and its context goes on sampled. A record-only span (record_unsampled)
 * records but is not sampled. False for NULL. */
MHD_OTEL_API bool otel_span_is_sampled(const otel_span *span);

/* Why a record-only tree is exported (the value of mhd_otel.kept). */
typedef enum otel_keep_reason {
    OTEL_KEEP_ERROR = 1, /* "error" */
    OTEL_KEEP_SLOW = 2   /* "slow" */
} otel_keep_reason;

/* Mark root, a record-only local root span that has not ended, to be
 * exported when it ends, with the spans of its trace it holds then: sets
 * the attribute mhd_otel.kept to "error" or "slow" and counts the tree in
 * kept_error or kept_slow (otel_stats) when it ends. A later call replaces
 * the reason. The trace flags stay unsampled: services called from the
 * trace were told it is not sampled and record none of their part. A root
 * out of attribute room is kept without the attribute. Returns 0,
 * OTEL_ERR_INVALID (root NULL, an unknown reason) or OTEL_ERR_STATE (root is
 * sampled, not recording, or a child of a local record-only span). */
MHD_OTEL_API int otel_span_keep(otel_span *root, otel_keep_reason reason);
/* The span's context; a zeroed context for NULL. */
MHD_OTEL_API otel_span_context otel_span_get_context(const otel_span *span);
/* Copy of the span's carried tracestate into out (cap bytes); returns its
 * length. */
MHD_OTEL_API size_t otel_span_get_tracestate(const otel_span *span, char *out, size_t cap);

/* Attribute setters: key and value are copied into the span (values cut to
 * the tracer's attr_value_max_len at a UTF-8 boundary, invalid UTF-8
 * replaced by U+FFFD). Setting an existing key replaces its value. A span out
 * of room counts a dropped attribute. */
MHD_OTEL_API void otel_span_set_attr_str(otel_span *span, const char *key, const char *value);
MHD_OTEL_API void otel_span_set_attr_strn(otel_span *span, const char *key, const char *value,
                                          size_t len);
MHD_OTEL_API void otel_span_set_attr_bool(otel_span *span, const char *key, bool value);
MHD_OTEL_API void otel_span_set_attr_int(otel_span *span, const char *key, int64_t value);
MHD_OTEL_API void otel_span_set_attr_double(otel_span *span, const char *key, double value);
/* An array of n strings (each cut and cleaned like a string value; NULL
 * elements are ""). Stored whole or not at all. */
MHD_OTEL_API void otel_span_set_attr_str_array(otel_span *span, const char *key,
                                               const char *const *values, size_t n);
MHD_OTEL_API void otel_span_set_attr(otel_span *span, const otel_kv *kv);

/* Add an event at now (time_ns 0) with attrs copied. */
MHD_OTEL_API void otel_span_add_event(otel_span *span, const char *name, uint64_t time_ns,
                                      const otel_kv *attrs, size_t n_attrs);
/* An "exception" event with exception.type and exception.message (either
 * may be NULL). Does not change the status. */
MHD_OTEL_API void otel_span_record_exception(otel_span *span, const char *type,
                                             const char *message);
/* Set status; message is kept only for ERROR (ERROR with a NULL message
 * keeps the message of an earlier ERROR). UNSET is ignored; OK is final. */
MHD_OTEL_API void otel_span_set_status(otel_span *span, otel_status_code code, const char *message);
/* Link the span to ctx (copied; skipped unless valid), with tracestate (NULL
 * or "": none; copied, cut to OTEL_TRACESTATE_MAX - 1 bytes). A span holds
 * 4 links; more are counted as dropped. */
MHD_OTEL_API void otel_span_add_link(otel_span *span, const otel_span_context *ctx,
                                     const char *tracestate);
MHD_OTEL_API void otel_span_update_name(otel_span *span, const char *name);

/* ---- ended spans, as exporters read them -------------------------------- */

/* Room in one span. Spans are pooled and never grow: whatever does not fit
 * is counted as dropped, the way the spec's limits drop attributes. */
#define OTEL_SPAN_MAX_ATTRS 32
#define OTEL_SPAN_MAX_EVENTS 16
#define OTEL_SPAN_MAX_EVENT_ATTRS 32 /* shared by all events of a span */
#define OTEL_SPAN_MAX_LINKS 4        /* more are counted as dropped */

/* A stored attribute. key and string values are NUL-terminated, valid
 * UTF-8. A string array keeps its n elements back to back at s.ptr, each
 * NUL-terminated, s.len bytes in all (the NULs included); read them with
 * otel_attr_array_next. */
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
    const char *name;
    uint64_t time_ns;
    uint16_t attr_first; /* index into the span's ev_attrs */
    uint16_t attr_count;
    uint32_t dropped_attrs;
} otel_event;

/* A link to another span's context (OTLP Span.Link, no attributes). */
typedef struct otel_link {
    otel_span_context ctx;  /* valid; is_remote as given */
    const char *tracestate; /* "" when none */
} otel_link;

/* What an exporter reads of an ended span: read-only, and valid only
 * during the export call it is handed to. Only the library creates it, so
 * that fields can be added at its end without breaking an exporter. */
typedef struct otel_span_data {
    otel_span_context ctx;
    uint8_t parent_span_id[8];
    bool has_parent;
    bool parent_is_remote;
    otel_span_kind kind;
    otel_status_code status;
    const char *status_message; /* "" when none */
    const char *name;
    uint64_t start_ns;
    uint64_t end_ns;
    const otel_resource *resource; /* the tracer's */

    uint16_t n_attrs;
    uint16_t n_events;
    uint16_t n_ev_attrs;
    uint16_t n_links;
    uint32_t dropped_attrs;
    uint32_t dropped_events;
    uint32_t dropped_links;
    otel_attr attrs[OTEL_SPAN_MAX_ATTRS];
    otel_event events[OTEL_SPAN_MAX_EVENTS];
    otel_attr ev_attrs[OTEL_SPAN_MAX_EVENT_ATTRS];
    otel_link links[OTEL_SPAN_MAX_LINKS];

    uint16_t tracestate_len;
    char tracestate[OTEL_TRACESTATE_MAX]; /* NUL-terminated; "" when none */
} otel_span_data;

/* The element of a string array after *pos (start with *pos = NULL) and
 * its length, or NULL after the last. */
MHD_OTEL_API const char *otel_attr_array_next(const otel_attr *a, const char **pos, size_t *len);

/* ---- exporters ---------------------------------------------------------- */

/* An exporter is an opaque object made of functions; deadlines are
 * otel_mono_ns() times. Its pipeline's worker thread calls them one at a
 * time.
 *
 * export: deliver n spans (borrowed for the call) and return by deadline,
 *   retries and connection set-up included. Returns 0 when delivered, K > 0
 *   when delivered but the receiver rejected K of them (partial success),
 *   or a negative OTEL_ERR_* (the spans are then counted as failed).
 * flush: deliver whatever the exporter itself buffers, by deadline.
 * shutdown: called once, after the last export: finish by deadline and
 *   release connections.
 * after_fork: in a child process after fork(), before its first export:
 *   drop what is shared with the parent (a connection) without I/O on it.
 * free: called when the exporter is deleted, to free user_data. */
typedef int (*otel_export_fn)(void *user_data, const otel_span_data *const *spans, size_t n,
                              uint64_t deadline_ns);
typedef int (*otel_exporter_flush_fn)(void *user_data, uint64_t deadline_ns);
typedef int (*otel_exporter_shutdown_fn)(void *user_data, uint64_t deadline_ns);
typedef void (*otel_exporter_fork_fn)(void *user_data);
typedef void (*otel_exporter_free_fn)(void *user_data);

/* A new exporter named name (copied; it appears in logs and statistics)
 * that hands batches to export. Returns 0, OTEL_ERR_INVALID or
 * OTEL_ERR_NOMEM. Give it to otel_tracer_add_exporter, or free it with
 * otel_exporter_del. */
MHD_OTEL_API int otel_exporter_new(otel_exporter **out, const char *name, otel_export_fn export_fn,
                                   void *user_data);
/* The optional functions; each may be set once, before the exporter is
 * given to a tracer. */
MHD_OTEL_API void otel_exporter_set_flush(otel_exporter *e, otel_exporter_flush_fn fn);
MHD_OTEL_API void otel_exporter_set_shutdown(otel_exporter *e, otel_exporter_shutdown_fn fn);
MHD_OTEL_API void otel_exporter_set_after_fork(otel_exporter *e, otel_exporter_fork_fn fn);
MHD_OTEL_API void otel_exporter_set_free(otel_exporter *e, otel_exporter_free_fn fn);
MHD_OTEL_API const char *otel_exporter_name(const otel_exporter *e);
/* Calls the free function and frees e. NULL does nothing. */
MHD_OTEL_API void otel_exporter_del(otel_exporter *e);

/* ---- current span (per thread) ------------------------------------------ */

/* The current span of the calling thread, or NULL. Borrowed. */
MHD_OTEL_API otel_span *otel_span_current(void);
/* Make span current; returns the previous current span, to be passed to
 * otel_context_detach when the scope ends. */
MHD_OTEL_API otel_span *otel_context_attach(otel_span *span);
MHD_OTEL_API void otel_context_detach(otel_span *previous);

#ifdef __cplusplus
}
#endif

#endif /* OTEL_H */
