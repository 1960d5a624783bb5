/* otlp_metrics_json.h - what the protobuf and JSON metrics writers share (otlp_metrics.c,
 * otlp_metrics_json.c): which optional fields a point has, and the JSON writer. Not a public
 * header. */
#ifndef OTEL_OTLP_METRICS_JSON_H
#define OTEL_OTLP_METRICS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>

#include "json_write.h"

/* metrics.v1.AggregationTemporality (exporter/proto/opentelemetry/proto/
 * metrics/v1/metrics.proto); UNSPECIFIED (0) MUST not be used. */
#define OTEL_OTLP_TEMPORALITY_DELTA 1u
#define OTEL_OTLP_TEMPORALITY_CUMULATIVE 2u

static inline uint32_t otel_otlp_metrics_temporality(const otel_metric_data *md)
{
    return md->temporality == OTEL_TEMPORALITY_DELTA ? OTEL_OTLP_TEMPORALITY_DELTA
                                                     : OTEL_OTLP_TEMPORALITY_CUMULATIVE;
}

/* A histogram point's sum, min and max are set when it counts a
 * measurement: there is no min or max of nothing, and a sum "must be zero"
 * when the count is (HistogramDataPoint.sum), which leaving it out says. */
static inline bool otel_otlp_metrics_has_stats(const otel_metric_point *pt)
{
    return pt->count > 0;
}

/* The bucket counts a histogram point writes, and in *n_bounds the
 * explicit bounds: both or neither (HistogramDataPoint.explicit_bounds:
 * "If bucket_counts length is 0 then explicit_bounds length must also be
 * 0"). */
static inline size_t otel_otlp_metrics_buckets(const otel_metric_data *md,
                                               const otel_metric_point *pt, size_t *n_bounds)
{
    size_t n = pt->bucket_counts != NULL ? pt->n_bucket_counts : 0;
    *n_bounds = n > 0 && md->boundaries != NULL ? md->n_boundaries : 0;
    return n;
}

/* A counter's sum over INT64_MAX (its uint64 read as a negative int64)
 * is written as NumberDataPoint.as_double: as_int (sfixed64) would make
 * it negative, a monotonic sum that went down. Every other sum, as_int. */
static inline bool otel_otlp_metrics_as_double(const otel_metric_data *md,
                                               const otel_metric_point *pt)
{
    return md->kind == OTEL_INSTRUMENT_COUNTER && pt->value < 0;
}

/* An exemplar's span_id or trace_id is left out when all zero: the
 * measurement was made in no span (Exemplar.span_id "may be missing"). */
static inline bool otel_otlp_id_set(const uint8_t *id, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (id[i] != 0)
            return true;
    return false;
}

/* What the encoder learns of one point before writing it. */
typedef struct otel_otlp_point_plan {
    const otel_attr *attrs; /* its attributes, valid UTF-8 (otlp_metrics.c) */
    size_t n_attrs;
    size_t size; /* protobuf: bytes of its data point message */
} otel_otlp_point_plan;

/* ---- JSON ------------------------------------------------------------------------ */

/* The request up to its first Metric:
 * {"resourceMetrics":[{"resource":{...},"scopeMetrics":[{"scope":{...},"metrics":[ */
void otel_otlp_metrics_json_head(otel_json_out *w, const otel_resource *res, const char *scope_name,
                                 const char *scope_version);

/* The request after its last Metric. */
#define OTEL_OTLP_METRICS_JSON_TAIL "]}]}]}"

/* The Metric of md, after a ',' unless first; plans[i] is md->points[i]'s. */
void otel_otlp_metrics_json_metric(otel_json_out *w, bool first, const otel_metric_data *md,
                                   const otel_otlp_point_plan *plans);

#endif /* OTEL_OTLP_METRICS_JSON_H */
