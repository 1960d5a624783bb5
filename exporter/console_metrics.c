/* console_metrics.c - metric data points as JSON lines (cJSON), one object
 * per point with its instrument and resource, for a person or jq to read. */
#include "console_metrics.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/text.h"

typedef struct write_ctx {
    FILE *out;
    const otel_resource *res;
    size_t n;
    int rc;
} write_ctx;

static cJSON *attrs_json(const otel_kv *kv, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o != NULL && i < n; i++) {
        const otel_kv *a = &kv[i];
        switch (a->type) {
        case OTEL_ATTR_STRING:
            cJSON_AddStringToObject(o, a->key, a->v.s ? a->v.s : "");
            break;
        case OTEL_ATTR_BOOL:
            cJSON_AddBoolToObject(o, a->key, a->v.b);
            break;
        case OTEL_ATTR_INT:
            cJSON_AddNumberToObject(o, a->key, (double)a->v.i);
            break;
        case OTEL_ATTR_DOUBLE:
            cJSON_AddNumberToObject(o, a->key, a->v.d);
            break;
        default:
            break;
        }
    }
    return o;
}

static cJSON *resource_json(const otel_resource *res)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o != NULL && res != NULL && i < otel_resource_count(res); i++) {
        const char *k, *v;
        otel_resource_at(res, i, &k, &v);
        cJSON_AddStringToObject(o, k, v);
    }
    return o;
}

/* Times as decimal strings: nanoseconds do not fit a JSON number. */
static void add_time(cJSON *o, const char *name, uint64_t ns)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, ns);
    cJSON_AddStringToObject(o, name, buf);
}

static cJSON *instrument_json(const otel_metric_data *md)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "name", md->name);
    cJSON_AddStringToObject(o, "description", md->description);
    cJSON_AddStringToObject(o, "unit", md->unit);
    bool hist = md->kind == OTEL_INSTRUMENT_HISTOGRAM;
    cJSON_AddStringToObject(o, "type", hist ? "histogram" : "sum");
    cJSON_AddStringToObject(o, "temporality",
                            md->temporality == OTEL_TEMPORALITY_DELTA ? "delta" : "cumulative");
    if (hist)
        cJSON_AddNullToObject(o, "monotonic");
    else
        cJSON_AddBoolToObject(o, "monotonic", md->monotonic);
    return o;
}

static void add_histogram(cJSON *o, const otel_metric_data *md, const otel_metric_point *p)
{
    cJSON_AddNumberToObject(o, "count", (double)p->count);
    cJSON_AddNumberToObject(o, "sum", p->sum);
    cJSON_AddNumberToObject(o, "min", p->min);
    cJSON_AddNumberToObject(o, "max", p->max);
    cJSON *b = cJSON_AddArrayToObject(o, "bucket_counts");
    for (size_t i = 0; b != NULL && i < p->n_bucket_counts; i++)
        cJSON_AddItemToArray(b, cJSON_CreateNumber((double)p->bucket_counts[i]));
    cJSON *e = cJSON_AddArrayToObject(o, "explicit_bounds");
    for (size_t i = 0; e != NULL && i < md->n_boundaries; i++)
        cJSON_AddItemToArray(e, cJSON_CreateNumber(md->boundaries[i]));
    cJSON *x = cJSON_AddArrayToObject(o, "exemplars");
    for (size_t i = 0; x != NULL && i < p->n_exemplars; i++) {
        const otel_exemplar *ex = &p->exemplars[i];
        char tid[33], sid[17];
        otel_hex_encode(ex->trace_id, 16, tid);
        otel_hex_encode(ex->span_id, 8, sid);
        cJSON *one = cJSON_CreateObject();
        cJSON_AddNumberToObject(one, "value", ex->value);
        add_time(one, "time_unix_nano", ex->time_ns);
        cJSON_AddStringToObject(one, "trace_id", tid);
        cJSON_AddStringToObject(one, "span_id", sid);
        cJSON_AddItemToArray(x, one);
    }
}

static int write_point(write_ctx *w, const otel_metric_data *md, const otel_metric_point *p)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return OTEL_ERR_NOMEM;
    cJSON_AddItemToObject(o, "metric", instrument_json(md));
    cJSON_AddItemToObject(o, "attributes", attrs_json(p->attrs, p->n_attrs));
    add_time(o, "start_time_unix_nano", p->start_ns);
    add_time(o, "time_unix_nano", p->time_ns);
    if (md->kind == OTEL_INSTRUMENT_HISTOGRAM)
        add_histogram(o, md, p);
    else
        cJSON_AddNumberToObject(o, "value", (double)p->value);
    cJSON_AddItemToObject(o, "resource", resource_json(w->res));
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (line == NULL)
        return OTEL_ERR_NOMEM;
    flockfile(w->out);
    int bad = fputs(line, w->out) < 0 || fputc('\n', w->out) == EOF;
    funlockfile(w->out);
    cJSON_free(line);
    return bad ? OTEL_ERR_IO : OTEL_OK;
}

static int write_metric(void *ud, const otel_metric_data *md)
{
    write_ctx *w = ud;
    for (size_t i = 0; i < md->n_points; i++) {
        int rc = write_point(w, md, &md->points[i]);
        if (rc == OTEL_ERR_NOMEM)
            return rc;
        if (rc != OTEL_OK)
            w->rc = rc;
        else
            w->n++;
    }
    return OTEL_OK;
}

int otel_console_metrics_write(FILE *out, otel_metrics *m, const otel_resource *res, size_t *n)
{
    write_ctx w = {out, res, 0, OTEL_OK};
    int rc = otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE, write_metric, &w);
    if (fflush(out) != 0 && w.rc == OTEL_OK)
        w.rc = OTEL_ERR_IO;
    if (n != NULL)
        *n = w.n;
    return rc != OTEL_OK ? rc : w.rc;
}
