/* metrics.h - public API of the mhd-otel metrics core: a meter provider, its
 * counters, up-down counters and explicit-bucket histograms, and the
 * collection exporters read. No I/O happens behind it. */
#ifndef OTEL_METRICS_H
#define OTEL_METRICS_H

#include <mhd-otel/otel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The aggregation cardinality limit the SDK spec advises by default: at most
 * this many points per instrument, the overflow point
 * {otel.metric.overflow=true} included. */
#define OTEL_METRICS_CARDINALITY_LIMIT 2000
/* Attributes of one measurement at most (more: the measurement is dropped). */
#define OTEL_METRICS_MAX_ATTRS 32
/* Boundaries of one histogram at most. */
#define OTEL_HISTOGRAM_MAX_BOUNDARIES 64
/* The overflow point's attribute. */
#define OTEL_METRIC_OVERFLOW_KEY "otel.metric.overflow"

typedef struct otel_metrics otel_metrics;
typedef struct otel_counter otel_counter;
typedef struct otel_updown_counter otel_updown_counter;
typedef struct otel_histogram otel_histogram;

typedef enum otel_instrument_kind {
    OTEL_INSTRUMENT_COUNTER = 0,    /* monotonic sum, uint64 */
    OTEL_INSTRUMENT_UPDOWN_COUNTER, /* non-monotonic sum, int64 */
    OTEL_INSTRUMENT_HISTOGRAM       /* explicit buckets, double */
} otel_instrument_kind;

typedef enum otel_temporality {
    OTEL_TEMPORALITY_CUMULATIVE = 0,
    OTEL_TEMPORALITY_DELTA
} otel_temporality;

/* The values of OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE. */
typedef enum otel_temporality_pref {
    OTEL_TEMPORALITY_PREF_CUMULATIVE = 0, /* the default */
    OTEL_TEMPORALITY_PREF_DELTA,
    OTEL_TEMPORALITY_PREF_LOWMEMORY
} otel_temporality_pref;

/* "cumulative", "delta" or "lowmemory", any case. Returns 0 or
 * OTEL_ERR_INVALID (out unchanged). */
MHD_OTEL_API int otel_temporality_pref_from_name(const char *name, otel_temporality_pref *out);
/* The temporality a preference gives an instrument kind (the OTLP metrics
 * exporter spec's table: delta and lowmemory make counters and histograms
 * delta, up-down counters stay cumulative). */
MHD_OTEL_API otel_temporality otel_temporality_for(otel_temporality_pref pref,
                                                   otel_instrument_kind kind);

/* A meter provider with a cardinality limit per instrument (0: the default
 * OTEL_METRICS_CARDINALITY_LIMIT; 1 leaves only the overflow point). Caller
 * frees with otel_metrics_del. Returns 0, OTEL_ERR_NOMEM. */
MHD_OTEL_API int otel_metrics_new(otel_metrics **out, size_t cardinality_limit);
/* Frees m and every instrument made from it. No record may be under way
 * or follow. NULL does nothing. */
MHD_OTEL_API void otel_metrics_del(otel_metrics *m);

/* Instruments belong to m, which frees them; the pointer stays valid until
 * otel_metrics_del. name follows the API spec's instrument name syntax
 * (a letter, then letters, digits, '_', '.', '-', '/'; 255 at most), unit
 * is ASCII of 63 bytes at most (NULL: ""), description any text (NULL:
 * ""); all three are copied. Asking again for an identical instrument
 * (same name, any case, kind, unit, description and boundaries) returns the
 * same one; a different one of the same name is refused with
 * OTEL_ERR_STATE. Returns 0, OTEL_ERR_INVALID, OTEL_ERR_STATE or
 * OTEL_ERR_NOMEM (*out is then NULL). */
MHD_OTEL_API int otel_counter_new(otel_metrics *m, otel_counter **out, const char *name,
                                  const char *description, const char *unit);
MHD_OTEL_API int otel_updown_counter_new(otel_metrics *m, otel_updown_counter **out,
                                         const char *name, const char *description,
                                         const char *unit);
/* boundaries: n strictly increasing finite values (copied); NULL: the
 * HTTP semantic conventions' advised buckets for durations in seconds
 * (otel_http_duration_boundaries). Bucket i counts values in
 * (boundaries[i-1], boundaries[i]], the last one (boundaries[n-1], +inf). */
MHD_OTEL_API int otel_histogram_new(otel_metrics *m, otel_histogram **out, const char *name,
                                    const char *description, const char *unit,
                                    const double *boundaries, size_t n_boundaries);

/* The advised boundaries of http.server.request.duration and
 * http.client.request.duration: 0.005, 0.01, ... 10 (14 values). */
MHD_OTEL_API const double *otel_http_duration_boundaries(size_t *n);

/* Record a measurement with attributes attrs[0..n_attrs) (borrowed for the
 * call; their order does not matter: the attributes are a set). Lock-free;
 * allocation happens only on the first measurement of a new attribute set
 * (a failed allocation sends the measurement to the overflow point).
 * A NULL instrument does nothing. Refused and counted as dropped: a NULL
 * key, a key given twice, a string array, more than OTEL_METRICS_MAX_ATTRS
 * attributes; for histograms a value that is negative, NaN or infinite.
 * sc: the span the measurement is made in (NULL: none); a sampled, valid
 * one becomes the exemplar of the value's bucket (the last one wins). */
MHD_OTEL_API void otel_counter_add(otel_counter *c, uint64_t value, const otel_kv *attrs,
                                   size_t n_attrs);
MHD_OTEL_API void otel_updown_counter_add(otel_updown_counter *c, int64_t value,
                                          const otel_kv *attrs, size_t n_attrs);
MHD_OTEL_API void otel_histogram_record(otel_histogram *h, double value, const otel_kv *attrs,
                                        size_t n_attrs, const otel_span_context *sc);

/* The point of one attribute set of h, found (or interned) once, for a
 * caller that records the same set again and again (a route, method and
 * status): otel_histogram_point_record then skips hashing and comparing the
 * attributes. Beyond the cardinality limit it is the overflow point. Valid
 * as long as h's provider; NULL when h is NULL or the set is refused (as
 * otel_histogram_record refuses it). Recording into NULL does nothing. */
typedef struct otel_histogram_point otel_histogram_point;
MHD_OTEL_API otel_histogram_point *otel_histogram_bind(otel_histogram *h, const otel_kv *attrs,
                                                       size_t n_attrs);
MHD_OTEL_API void otel_histogram_point_record(otel_histogram_point *pt, double value,
                                              const otel_span_context *sc);

/* The same for counters and up-down counters: the point of one attribute
 * set, added to without hashing. For a counter a negative value is refused
 * and counted as dropped. NULL does nothing. */
typedef struct otel_sum_point otel_sum_point;
MHD_OTEL_API otel_sum_point *otel_counter_bind(otel_counter *c, const otel_kv *attrs,
                                               size_t n_attrs);
MHD_OTEL_API otel_sum_point *otel_updown_counter_bind(otel_updown_counter *c, const otel_kv *attrs,
                                                      size_t n_attrs);
MHD_OTEL_API void otel_sum_point_add(otel_sum_point *pt, int64_t value);

/* Whether a bound point stands for its attribute set for as long as the
 * provider lives: false for NULL, and for the overflow point a bind gave
 * because memory ran out below the cardinality limit (bound again later,
 * the set may get its own point). A caller that keeps bound points keeps
 * only lasting ones. */
MHD_OTEL_API bool otel_histogram_point_lasting(const otel_histogram_point *pt);
MHD_OTEL_API bool otel_sum_point_lasting(const otel_sum_point *pt);

/* ---- collection --------------------------------------------------------- */

typedef struct otel_exemplar {
    double value;
    uint64_t time_ns;
    uint8_t trace_id[16];
    uint8_t span_id[8];
} otel_exemplar;

/* One point: an attribute set's aggregate. */
typedef struct otel_metric_point {
    const otel_kv *attrs; /* sorted by key; strings owned by the provider */
    size_t n_attrs;
    uint64_t start_ns; /* cumulative: the instrument's creation (or the fork);
                          delta: the previous collection */
    uint64_t time_ns;
    int64_t value;  /* counters: the sum (a counter's uint64 as int64) */
    uint64_t count; /* histograms: measurements */
    double sum, min, max;
    const uint64_t *bucket_counts; /* n_boundaries + 1 */
    size_t n_bucket_counts;
    const otel_exemplar *exemplars; /* at most one per bucket, by bucket */
    size_t n_exemplars;
} otel_metric_point;

/* An instrument's points of one collection, valid during the callback. */
typedef struct otel_metric_data {
    const char *name;
    const char *description;
    const char *unit;
    otel_instrument_kind kind;
    otel_temporality temporality;
    bool monotonic;
    const double *boundaries; /* histograms */
    size_t n_boundaries;
    const otel_metric_point *points;
    size_t n_points;
    uint64_t dropped; /* measurements refused since the instrument was made */
} otel_metric_data;

/* Called once per instrument that has points, in creation order. A
 * non-zero return stops the collection, which returns it. */
typedef int (*otel_metrics_collect_fn)(void *user_data, const otel_metric_data *md);

/* Collect every instrument of m in the temporality pref gives its kind.
 * Cumulative points hold everything since the start; delta points what
 * came since the previous delta collection (points without a measurement
 * in that interval are left out). One cumulative and one delta reader may
 * share m (a scrape and a push): a cumulative collection takes nothing from
 * the delta interval; two delta readers would split the intervals. A measurement made during a
 * collection is in this collection or the next, never both, never neither. Collections are
 * serialized; records never wait for one. Returns 0, OTEL_ERR_NOMEM (nothing is lost: the next
 * collection has it) or the callback's non-zero value (the instruments not yet handed over keep
 * their measurements for the next collection). */
MHD_OTEL_API int otel_metrics_collect(otel_metrics *m, otel_temporality_pref pref,
                                      otel_metrics_collect_fn fn, void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* OTEL_METRICS_H */
