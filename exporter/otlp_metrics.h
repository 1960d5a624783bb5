/* otlp_metrics.h - one collection of the metrics core as an OTLP ExportMetricsServiceRequest, in
 * protobuf or JSON, and the ExportMetricsServiceResponse read back. Not a public header. */
/* A request holds one ResourceMetrics (the resource) with one ScopeMetrics
 * (the scope), and one Metric per instrument handed over by
 * otel_metrics_collect: counters as a monotonic Sum, up-down counters as a
 * non-monotonic Sum (NumberDataPoint.as_int; a counter's sum over
 * INT64_MAX as_double), histograms as a Histogram
 * (count, sum, min, max, bucket_counts, explicit_bounds, exemplars with
 * as_double, span_id and trace_id); aggregation_temporality as collected.
 * Protobuf is written directly, fields in ascending number and proto3
 * defaults left out (the bytes protobuf-c packs); JSON is the OTLP/JSON
 * mapping of otlp_json.h. Strings go out as valid UTF-8: a byte that is not
 * becomes U+FFFD. */
#ifndef OTEL_OTLP_METRICS_H
#define OTEL_OTLP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>

typedef struct otel_otlp_metrics_enc otel_otlp_metrics_enc;

/* An encoder of protobuf (json false) or OTLP/JSON (json true) requests,
 * its buffers grown to the largest request seen and reused: no allocation
 * per point once warm. It starts with an empty request, as after
 * otel_otlp_metrics_enc_begin(e, NULL, NULL, NULL). Returns 0 or
 * OTEL_ERR_NOMEM (*out is then NULL). Caller frees with
 * otel_otlp_metrics_enc_del. */
int otel_otlp_metrics_enc_new(otel_otlp_metrics_enc **out, bool json);
/* NULL does nothing. */
void otel_otlp_metrics_enc_del(otel_otlp_metrics_enc *e);

/* Start a new request (what was added before is dropped): one
 * ResourceMetrics for res (NULL: a Resource without attributes) with one
 * ScopeMetrics of scope scope_name and scope_version (NULL or "": left
 * out). The three are borrowed until the request's
 * otel_otlp_metrics_enc_end, and must not change until then. Never
 * allocates. */
void otel_otlp_metrics_enc_begin(otel_otlp_metrics_enc *e, const otel_resource *res,
                                 const char *scope_name, const char *scope_version);

/* Add one instrument's points as a Metric (md is read during the call
 * only); an otel_metrics_collect_fn with user_data e. Instruments without
 * points, and attributes of a type OTLP metrics do not get from the core
 * (string arrays), are left out. Returns 0 or OTEL_ERR_NOMEM (the
 * instrument is then left out and the request stays as it was). */
int otel_otlp_metrics_enc_add(void *e, const otel_metric_data *md);

/* Finish the request: *out points to its bytes (*len of them; JSON is UTF-8
 * text, not NUL-terminated), owned by e and valid until the next begin,
 * add or del; *n_points is the data points it holds (0: a request with no
 * Metric, nothing worth sending). end may be called again, and adds after
 * it go on with the same request. Returns 0, OTEL_ERR_NOMEM, or
 * OTEL_ERR_STATE when the resource grew since begin, so that what precedes
 * the metrics no longer fits before them (*out is then NULL, *len and
 * *n_points 0). */
int otel_otlp_metrics_enc_end(otel_otlp_metrics_enc *e, const uint8_t **out, size_t *len,
                              size_t *n_points);

/* Read an ExportMetricsServiceResponse (protobuf, or JSON when json is
 * true) of len bytes: *rejected data points (partial_success
 * .rejected_data_points; 0 when absent, negatives count as 0) and its
 * error_message into msg (cap bytes, NUL-terminated, cut at a UTF-8
 * boundary; "" when none). An empty body (JSON: blank) is success with 0
 * rejected; unknown fields are ignored. Returns 0 or OTEL_ERR_PARSE
 * (*rejected is then 0 and msg ""). */
int otel_otlp_metrics_decode_response(const uint8_t *buf, size_t len, bool json, int64_t *rejected,
                                      char *msg, size_t cap);

#endif /* OTEL_OTLP_METRICS_H */
