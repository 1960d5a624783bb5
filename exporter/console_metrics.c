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

/* Add item to o under key, or (key NULL) to the array o. Takes item in every case (freed on
 * failure; NULL is a failed allocation). Returns whether it was added. */
static bool put(cJSON *o, const char *key, cJSON *item)
{
    bool ok = item != NULL &&
              (key != NULL ? cJSON_AddItemToObject(o, key, item) : cJSON_AddItemToArray(o, item));
    if (!ok)
        cJSON_Delete(item);
    return ok;
}

/* The object o when every one of its members went in (ok), else NULL (o freed). */
static cJSON *whole(cJSON *o, bool ok)
{
    if (ok)
        return o;
    cJSON_Delete(o);
    return NULL;
}

static cJSON *attr_json(const otel_kv *a)
{
    switch (a->type) {
    case OTEL_ATTR_STRING:
        return cJSON_CreateString(a->v.s ? a->v.s : "");
    case OTEL_ATTR_BOOL:
        return cJSON_CreateBool(a->v.b);
    case OTEL_ATTR_INT:
        return cJSON_CreateNumber((double)a->v.i);
    case OTEL_ATTR_DOUBLE:
        return cJSON_CreateNumber(a->v.d);
    default:
        return NULL;
    }
}

static cJSON *attrs_json(const otel_kv *kv, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    for (size_t i = 0; ok && i < n; i++)
        if (kv[i].type != OTEL_ATTR_STRING_ARRAY) /* the core refuses them */
            ok = put(o, kv[i].key, attr_json(&kv[i]));
    return whole(o, ok);
}

static cJSON *resource_json(const otel_resource *res)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL;
    for (size_t i = 0; ok && res != NULL && i < otel_resource_count(res); i++) {
        const char *k, *v;
        otel_resource_at(res, i, &k, &v);
        ok = put(o, k, cJSON_CreateString(v));
    }
    return whole(o, ok);
}

/* Times as decimal strings: nanoseconds do not fit a JSON number. */
static bool add_time(cJSON *o, const char *name, uint64_t ns)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, ns);
    return put(o, name, cJSON_CreateString(buf));
}

static cJSON *instrument_json(const otel_metric_data *md)
{
    cJSON *o = cJSON_CreateObject();
    bool hist = md->kind == OTEL_INSTRUMENT_HISTOGRAM;
    const char *temporality = md->temporality == OTEL_TEMPORALITY_DELTA ? "delta" : "cumulative";
    bool ok = o != NULL && put(o, "name", cJSON_CreateString(md->name)) &&
              put(o, "description", cJSON_CreateString(md->description)) &&
              put(o, "unit", cJSON_CreateString(md->unit)) &&
              put(o, "type", cJSON_CreateString(hist ? "histogram" : "sum")) &&
              put(o, "temporality", cJSON_CreateString(temporality)) &&
              put(o, "monotonic", hist ? cJSON_CreateNull() : cJSON_CreateBool(md->monotonic));
    return whole(o, ok);
}

static cJSON *numbers_json(const uint64_t *u, const double *d, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = put(a, NULL, cJSON_CreateNumber(u != NULL ? (double)u[i] : d[i]));
    return whole(a, ok);
}

static cJSON *exemplar_json(const otel_exemplar *ex)
{
    char tid[33], sid[17];
    otel_hex_encode(ex->trace_id, 16, tid);
    otel_hex_encode(ex->span_id, 8, sid);
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && put(o, "value", cJSON_CreateNumber(ex->value)) &&
              add_time(o, "time_unix_nano", ex->time_ns) &&
              put(o, "trace_id", cJSON_CreateString(tid)) &&
              put(o, "span_id", cJSON_CreateString(sid));
    return whole(o, ok);
}

static cJSON *exemplars_json(const otel_metric_point *p)
{
    cJSON *x = cJSON_CreateArray();
    bool ok = x != NULL;
    for (size_t i = 0; ok && i < p->n_exemplars; i++)
        ok = put(x, NULL, exemplar_json(&p->exemplars[i]));
    return whole(x, ok);
}

static bool add_histogram(cJSON *o, const otel_metric_data *md, const otel_metric_point *p)
{
    return put(o, "count", cJSON_CreateNumber((double)p->count)) &&
           put(o, "sum", cJSON_CreateNumber(p->sum)) && put(o, "min", cJSON_CreateNumber(p->min)) &&
           put(o, "max", cJSON_CreateNumber(p->max)) &&
           put(o, "bucket_counts", numbers_json(p->bucket_counts, NULL, p->n_bucket_counts)) &&
           put(o, "explicit_bounds", numbers_json(NULL, md->boundaries, md->n_boundaries)) &&
           put(o, "exemplars", exemplars_json(p));
}

static int write_point(write_ctx *w, const otel_metric_data *md, const otel_metric_point *p)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && put(o, "metric", instrument_json(md)) &&
              put(o, "attributes", attrs_json(p->attrs, p->n_attrs)) &&
              add_time(o, "start_time_unix_nano", p->start_ns) &&
              add_time(o, "time_unix_nano", p->time_ns) &&
              (md->kind == OTEL_INSTRUMENT_HISTOGRAM
                   ? add_histogram(o, md, p)
                   : put(o, "value",
                         cJSON_CreateNumber(md->kind == OTEL_INSTRUMENT_COUNTER
                                                ? (double)(uint64_t)p->value
                                                : (double)p->value))) &&
              put(o, "resource", resource_json(w->res));
    char *line = ok ? cJSON_PrintUnformatted(o) : NULL;
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
