/* metrics_seen.h - a copy of one collection of a metrics provider, whose points are found by
 * metric name and attribute text, for the tests of the module's metrics and their readers. */
#ifndef METRICS_SEEN_H
#define METRICS_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>

#define MS_METRICS_MAX 32
#define MS_ATTRS_MAX 512

/* One point: its attributes as "key=value" joined by ',' in the provider's order (sorted by
 * key; integers in decimal, booleans true/false), and its aggregate. */
typedef struct ms_point {
    char attrs[MS_ATTRS_MAX];
    int64_t value;
    uint64_t count;
    double sum, min, max;
    uint64_t buckets[OTEL_HISTOGRAM_MAX_BOUNDARIES + 1];
    size_t n_buckets;
    otel_exemplar ex[OTEL_HISTOGRAM_MAX_BOUNDARIES + 1];
    size_t n_ex;
} ms_point;

typedef struct ms_metric {
    char name[128];
    otel_instrument_kind kind;
    otel_temporality temporality;
    bool monotonic;
    size_t n;
    ms_point *pts; /* n of them, owned */
} ms_metric;

typedef struct ms_seen {
    size_t n;
    ms_metric m[MS_METRICS_MAX];
} ms_seen;

/* Collect m in pref (asserting success) into a copy. Caller frees with ms_free. */
ms_seen *ms_collect(otel_metrics *m, otel_temporality_pref pref);
/* Frees s. NULL does nothing. */
void ms_free(ms_seen *s);

/* The metric called name, NULL when the collection had no point of it. */
const ms_metric *ms_metric_of(const ms_seen *s, const char *name);
/* The point of metric name whose attribute text is attrs, NULL when there is none. */
const ms_point *ms_find(const ms_seen *s, const char *name, const char *attrs);
/* The same, failing the test when there is none. */
const ms_point *ms_get(const ms_seen *s, const char *name, const char *attrs);
/* The points of metric name (0 when it had none). */
size_t ms_points(const ms_seen *s, const char *name);

#endif /* METRICS_SEEN_H */
