/* prometheus.h - the metrics of a provider as a Prometheus scrape: the
 * text exposition format 0.0.4 or OpenMetrics 1.0 text, the names, units
 * and labels translated as the OpenTelemetry "Prometheus and OpenMetrics
 * Compatibility" specification says, and the choice between the two
 * formats from a scraper's Accept header. Not a public header. */
#ifndef OTEL_PROMETHEUS_H
#define OTEL_PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>

typedef enum otel_prom_format {
    OTEL_PROM_TEXT = 0,   /* text/plain; version=0.0.4 */
    OTEL_PROM_OPENMETRICS /* application/openmetrics-text; version=1.0.0 */
} otel_prom_format;

/* The format to answer a request whose Accept header is accept (NULL: no
 * header): OpenMetrics when the highest-weighted acceptable media range
 * is application/openmetrics-text (version absent or 1.0.0, q > 0), an
 * earlier one winning a tie; the text format otherwise, as the last
 * resort Prometheus' content negotiation names. */
otel_prom_format otel_prom_negotiate(const char *accept);

/* The Content-Type of f: a static string. */
const char *otel_prom_content_type(otel_prom_format f);

/* Collect m cumulatively and render it in format f with res's attributes
 * as target_info (res NULL or empty: no target_info). *out is a heap
 * buffer of *len bytes (plus a NUL not counted) that the caller frees
 * with otel_free. Returns 0, OTEL_ERR_INVALID (m or out NULL) or
 * OTEL_ERR_NOMEM (*out is then NULL, *len 0; nothing measured is lost).
 * Every point carries otel_scope_name="mhd-otel" and otel_scope_version
 * (OTEL_SDK_VERSION); the series of a family are sorted by their labels.
 * Instruments of one type whose names come out the same are one family
 * (the first one's HELP and UNIT), a series there twice kept once; a
 * metric whose name, or a sample name it makes, clashes with an earlier
 * one of another type (target_info included) is left out. Both are logged
 * (OTEL_LOG_WARN) the first time in the process. */
int otel_prom_render(otel_metrics *m, const otel_resource *res, otel_prom_format f, char **out,
                     size_t *len);

/* ---- the pieces, for callers that hold the metric data themselves ------- */

/* A rendering under way: metric data added one instrument at a time (as
 * otel_metrics_collect hands it over), then the exposition. */
typedef struct otel_prom_writer otel_prom_writer;

/* Returns 0 or OTEL_ERR_NOMEM. res is borrowed until otel_prom_writer_del.
 * Free with otel_prom_writer_del. */
int otel_prom_writer_new(otel_prom_writer **out, const otel_resource *res, otel_prom_format f);
/* Render md's points (read during the call only). Cumulative sums and
 * histograms only: delta ones are left out (the specification drops them
 * or needs them accumulated), as are instruments without a name or a
 * point. Returns 0, OTEL_ERR_INVALID (w or md NULL) or OTEL_ERR_NOMEM (w
 * is then unusable but for otel_prom_writer_del). */
int otel_prom_writer_add(otel_prom_writer *w, const otel_metric_data *md);
/* The exposition so far, as otel_prom_render hands it out; w is spent.
 * Returns 0 or OTEL_ERR_NOMEM. */
int otel_prom_writer_finish(otel_prom_writer *w, char **out, size_t *len);
/* NULL does nothing. */
void otel_prom_writer_del(otel_prom_writer *w);

/* Room for any name otel_prom_metric_name and otel_prom_unit write: an
 * instrument name of 255 bytes, a unit of 63 made into words, suffixes. */
#define OTEL_PROM_NAME_MAX 512

/* The Prometheus unit word of an instrument unit (UCUM): "s" "seconds",
 * "By" "bytes", "By/s" "bytes_per_second", "{request}" and "1" nothing,
 * an unknown unit as it is with its invalid characters made '_'. Writes a
 * NUL-terminated string of at most OTEL_PROM_NAME_MAX bytes; returns its
 * length. */
size_t otel_prom_unit(const char *unit, char out[OTEL_PROM_NAME_MAX]);

/* The name of the samples of an instrument in the text format (counters:
 * with _total; histograms: without _bucket, _sum, _count), the unit
 * suffix added unless the name ends with it. family gets the OpenMetrics
 * MetricFamily name (counters: without _total; NULL: not wanted). Returns
 * the length of out. */
size_t otel_prom_metric_name(const char *name, const char *unit, otel_instrument_kind kind,
                             char out[OTEL_PROM_NAME_MAX], char *family);

/* v as Go's strconv.FormatFloat(v, 'g', -1, 64) writes it (the shortest
 * digits that read back to v; an exponent from 1e+06 up and below 1e-04,
 * in the form "1e+06", "1.5e-07"), "+Inf", "-Inf", "NaN"; with om, ".0" added to a
 * number that would read as an integer (OpenMetrics' "Canonical
 * Numbers"). Returns the length written to out (32 bytes hold any). */
size_t otel_prom_format_double(double v, bool om, char out[32]);

#endif /* OTEL_PROMETHEUS_H */
