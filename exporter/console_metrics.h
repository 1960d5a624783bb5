/* console_metrics.h - metric data points as JSON lines on the console
 * exporter's output. Not a public header. */
#ifndef OTEL_CONSOLE_METRICS_H
#define OTEL_CONSOLE_METRICS_H

#include <stdio.h>

#include <mhd-otel/metrics.h>

/* Collect m (cumulative, as the console metric exporter's default is) and
 * write one JSON object per data point and line to out, holding its lock
 * per line: {"metric": {"name", "description", "unit", "type" ("sum" or
 * "histogram"), "temporality", "monotonic"}, "attributes", "start_time_unix_nano",
 * "time_unix_nano", then "value" (sums) or "count", "sum", "min", "max",
 * "bucket_counts", "explicit_bounds", "exemplars" (histograms), and
 * "resource"}. *n gets the points written. Returns 0, OTEL_ERR_NOMEM or
 * OTEL_ERR_IO (a write failed). */
int otel_console_metrics_write(FILE *out, otel_metrics *m, const otel_resource *res, size_t *n);

#endif /* OTEL_CONSOLE_METRICS_H */
