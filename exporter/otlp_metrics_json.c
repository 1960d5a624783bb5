/* otlp_metrics_json.c - metrics as the OTLP/JSON ExportMetricsServiceRequest, written by hand. */
/* Members in field-number order, and those the protobuf writer leaves out
 * (zero, empty) left out here too; 64-bit integers as decimal strings,
 * enums as integers, ids in hex (opentelemetry-proto docs/specification.md,
 * "JSON Protobuf Encoding"). */
#include "otlp_metrics_json.h"

#include "otlp_common.h"

/* "name":"value" after a ',' unless first, left out when value is empty. */
static void put_opt_str(otel_json_out *w, bool *more, const char *quoted, size_t n,
                        const char *value)
{
    size_t len = otel_otlp_str_len(value);
    if (len == 0)
        return;
    otel_json_put_field(w, more, quoted, n);
    otel_json_put_str(w, value, len);
}

#define OPT_STR(w, more, name, v) put_opt_str((w), (more), "\"" name "\":", sizeof(name) + 2, (v))

/* A fixed64 member as a decimal string, left out when 0. */
static void put_opt_u64(otel_json_out *w, bool *more, const char *quoted, size_t n, uint64_t v)
{
    if (v == 0)
        return;
    otel_json_put_field(w, more, quoted, n);
    otel_json_put_u64_str(w, v);
}

#define OPT_U64(w, more, name, v) put_opt_u64((w), (more), "\"" name "\":", sizeof(name) + 2, (v))

static void put_exemplars(otel_json_out *w, bool *more, const otel_metric_point *pt)
{
    if (pt->n_exemplars == 0)
        return;
    OTEL_JSON_FIELD(w, more, "exemplars");
    otel_json_put_char(w, '[');
    for (size_t k = 0; k < pt->n_exemplars; k++) {
        const otel_exemplar *ex = &pt->exemplars[k];
        bool inner = false;
        if (k > 0)
            otel_json_put_char(w, ',');
        otel_json_put_char(w, '{');
        OPT_U64(w, &inner, "timeUnixNano", ex->time_ns);
        OTEL_JSON_FIELD(w, &inner, "asDouble");
        otel_json_put_double(w, ex->value);
        if (otel_otlp_id_set(ex->span_id, sizeof(ex->span_id))) {
            OTEL_JSON_FIELD(w, &inner, "spanId");
            otel_json_put_id(w, ex->span_id, sizeof(ex->span_id));
        }
        if (otel_otlp_id_set(ex->trace_id, sizeof(ex->trace_id))) {
            OTEL_JSON_FIELD(w, &inner, "traceId");
            otel_json_put_id(w, ex->trace_id, sizeof(ex->trace_id));
        }
        otel_json_put_char(w, '}');
    }
    otel_json_put_char(w, ']');
}

/* startTimeUnixNano and timeUnixNano, fields 2 and 3 of both points. */
static void put_times(otel_json_out *w, bool *more, const otel_metric_point *pt)
{
    OPT_U64(w, more, "startTimeUnixNano", pt->start_ns);
    OPT_U64(w, more, "timeUnixNano", pt->time_ns);
}

static void put_number_point(otel_json_out *w, const otel_metric_data *md,
                             const otel_metric_point *pt, const otel_otlp_point_plan *pl)
{
    bool more = false;
    otel_json_put_char(w, '{');
    put_times(w, &more, pt);
    put_exemplars(w, &more, pt);
    if (otel_otlp_metrics_as_double(md, pt)) {
        OTEL_JSON_FIELD(w, &more, "asDouble");
        otel_json_put_double(w, (double)(uint64_t)pt->value);
    } else {
        OTEL_JSON_FIELD(w, &more, "asInt"); /* a set oneof member: 0 too */
        otel_json_put_char(w, '"');
        otel_json_put_i64(w, pt->value);
        otel_json_put_char(w, '"');
    }
    otel_json_put_attrs(w, &more, pl->attrs, pl->n_attrs);
    otel_json_put_char(w, '}');
}

static void put_histogram_point(otel_json_out *w, const otel_metric_data *md,
                                const otel_metric_point *pt, const otel_otlp_point_plan *pl)
{
    size_t nb, nbc = otel_otlp_metrics_buckets(md, pt, &nb);
    bool stats = otel_otlp_metrics_has_stats(pt), more = false;
    otel_json_put_char(w, '{');
    put_times(w, &more, pt);
    OPT_U64(w, &more, "count", pt->count);
    if (stats) {
        OTEL_JSON_FIELD(w, &more, "sum");
        otel_json_put_double(w, pt->sum);
    }
    if (nbc > 0) {
        OTEL_JSON_FIELD(w, &more, "bucketCounts");
        for (size_t b = 0; b < nbc; b++) {
            otel_json_put_char(w, b == 0 ? '[' : ',');
            otel_json_put_u64_str(w, pt->bucket_counts[b]);
        }
        otel_json_put_char(w, ']');
    }
    if (nb > 0) {
        OTEL_JSON_FIELD(w, &more, "explicitBounds");
        for (size_t b = 0; b < nb; b++) {
            otel_json_put_char(w, b == 0 ? '[' : ',');
            otel_json_put_double(w, md->boundaries[b]);
        }
        otel_json_put_char(w, ']');
    }
    put_exemplars(w, &more, pt);
    otel_json_put_attrs(w, &more, pl->attrs, pl->n_attrs);
    if (stats) {
        OTEL_JSON_FIELD(w, &more, "min");
        otel_json_put_double(w, pt->min);
        OTEL_JSON_FIELD(w, &more, "max");
        otel_json_put_double(w, pt->max);
    }
    otel_json_put_char(w, '}');
}

void otel_otlp_metrics_json_head(otel_json_out *w, const otel_resource *res, const char *scope_name,
                                 const char *scope_version)
{
    bool more = false;
    OTEL_JSON_LIT(w, "{\"resourceMetrics\":[{\"resource\":");
    otel_json_put_resource(w, res);
    OTEL_JSON_LIT(w, ",\"scopeMetrics\":[{\"scope\":{");
    OPT_STR(w, &more, "name", scope_name);
    OPT_STR(w, &more, "version", scope_version);
    OTEL_JSON_LIT(w, "},\"metrics\":[");
}

void otel_otlp_metrics_json_metric(otel_json_out *w, bool first, const otel_metric_data *md,
                                   const otel_otlp_point_plan *plans)
{
    bool hist = md->kind == OTEL_INSTRUMENT_HISTOGRAM, more = false;
    if (!first)
        otel_json_put_char(w, ',');
    otel_json_put_char(w, '{');
    OPT_STR(w, &more, "name", md->name);
    OPT_STR(w, &more, "description", md->description);
    OPT_STR(w, &more, "unit", md->unit);
    if (hist)
        OTEL_JSON_FIELD(w, &more, "histogram");
    else
        OTEL_JSON_FIELD(w, &more, "sum");
    OTEL_JSON_LIT(w, "{\"dataPoints\":[");
    for (size_t j = 0; j < md->n_points; j++) {
        if (j > 0)
            otel_json_put_char(w, ',');
        if (hist)
            put_histogram_point(w, md, &md->points[j], &plans[j]);
        else
            put_number_point(w, md, &md->points[j], &plans[j]);
    }
    OTEL_JSON_LIT(w, "],\"aggregationTemporality\":");
    otel_json_put_u64(w, otel_otlp_metrics_temporality(md));
    if (!hist && md->monotonic)
        OTEL_JSON_LIT(w, ",\"isMonotonic\":true");
    OTEL_JSON_LIT(w, "}}");
}
