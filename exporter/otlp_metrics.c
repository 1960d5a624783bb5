/* otlp_metrics.c - metrics collections as OTLP ExportMetricsServiceRequest (a direct protobuf
 * writer, or otlp_metrics_json.c), and the response read back (protobuf-c, cJSON). */
#include "otlp_metrics.h"

#include "otlp_common.h"
#include "otlp_json.h"
#include "otlp_metrics_json.h"
#include "pb_write.h"

#include "../core/text.h"
#include "../core/utf8.h"

#include <string.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "../core/alloc.h"

typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse pb_response;

_Static_assert(
    OTEL_OTLP_TEMPORALITY_DELTA ==
        OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA,
    "AggregationTemporality as in metrics.proto");
_Static_assert(
    OTEL_OTLP_TEMPORALITY_CUMULATIVE ==
        OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE,
    "AggregationTemporality as in metrics.proto");

/* ---- wire format ----------------------------------------------------------
 * Tags of the metrics messages' fields, as in exporter/proto (pb_write.h
 * has the common ones); every number is below 16: a one-byte tag. */
/* collector.metrics.v1.ExportMetricsServiceRequest */
#define REQ_RESOURCE_METRICS OTEL_PB_TAG(1, OTEL_PB_LEN)
/* metrics.v1.ResourceMetrics (schema_url = 3 left empty) */
#define RM_RESOURCE OTEL_PB_TAG(1, OTEL_PB_LEN)
#define RM_SCOPE_METRICS OTEL_PB_TAG(2, OTEL_PB_LEN)
/* metrics.v1.ScopeMetrics (schema_url = 3 left empty) */
#define SM_SCOPE OTEL_PB_TAG(1, OTEL_PB_LEN)
#define SM_METRICS OTEL_PB_TAG(2, OTEL_PB_LEN)
/* metrics.v1.Metric (gauge = 5, exponential_histogram = 10, summary = 11,
 * metadata = 12 unused) */
#define METRIC_NAME OTEL_PB_TAG(1, OTEL_PB_LEN)
#define METRIC_DESCRIPTION OTEL_PB_TAG(2, OTEL_PB_LEN)
#define METRIC_UNIT OTEL_PB_TAG(3, OTEL_PB_LEN)
#define METRIC_SUM OTEL_PB_TAG(7, OTEL_PB_LEN)
#define METRIC_HISTOGRAM OTEL_PB_TAG(9, OTEL_PB_LEN)
/* metrics.v1.Sum and metrics.v1.Histogram (which has no is_monotonic) */
#define AGG_DATA_POINTS OTEL_PB_TAG(1, OTEL_PB_LEN)
#define AGG_TEMPORALITY OTEL_PB_TAG(2, OTEL_PB_VARINT)
#define SUM_IS_MONOTONIC OTEL_PB_TAG(3, OTEL_PB_VARINT)
/* metrics.v1.NumberDataPoint (flags = 8 unused) */
#define NDP_START OTEL_PB_TAG(2, OTEL_PB_I64)
#define NDP_TIME OTEL_PB_TAG(3, OTEL_PB_I64)
#define NDP_AS_DOUBLE OTEL_PB_TAG(4, OTEL_PB_I64)
#define NDP_EXEMPLARS OTEL_PB_TAG(5, OTEL_PB_LEN)
#define NDP_AS_INT OTEL_PB_TAG(6, OTEL_PB_I64)
#define NDP_ATTRIBUTES OTEL_PB_TAG(7, OTEL_PB_LEN)
/* metrics.v1.HistogramDataPoint (flags = 10 unused) */
#define HDP_START OTEL_PB_TAG(2, OTEL_PB_I64)
#define HDP_TIME OTEL_PB_TAG(3, OTEL_PB_I64)
#define HDP_COUNT OTEL_PB_TAG(4, OTEL_PB_I64)
#define HDP_SUM OTEL_PB_TAG(5, OTEL_PB_I64)
#define HDP_BUCKET_COUNTS OTEL_PB_TAG(6, OTEL_PB_LEN)   /* packed fixed64 */
#define HDP_EXPLICIT_BOUNDS OTEL_PB_TAG(7, OTEL_PB_LEN) /* packed double */
#define HDP_EXEMPLARS OTEL_PB_TAG(8, OTEL_PB_LEN)
#define HDP_ATTRIBUTES OTEL_PB_TAG(9, OTEL_PB_LEN)
#define HDP_MIN OTEL_PB_TAG(11, OTEL_PB_I64)
#define HDP_MAX OTEL_PB_TAG(12, OTEL_PB_I64)
/* metrics.v1.Exemplar (as_int = 6, filtered_attributes = 7 unused) */
#define EX_TIME OTEL_PB_TAG(2, OTEL_PB_I64)
#define EX_AS_DOUBLE OTEL_PB_TAG(3, OTEL_PB_I64)
#define EX_SPAN_ID OTEL_PB_TAG(4, OTEL_PB_LEN)
#define EX_TRACE_ID OTEL_PB_TAG(5, OTEL_PB_LEN)

#define MIN_CAP 16         /* the first capacity of a growing array */
#define MIN_BUF 4096       /* and of the request buffer */
#define VARINT_MAX 10      /* bytes of the longest varint */
#define KEY_MAX UINT16_MAX /* otel_attr.key_len */
#define VALUE_MAX UINT32_MAX

/* A string and the length it has once made valid UTF-8. */
typedef struct ustr {
    const char *s; /* NUL-terminated */
    size_t raw;    /* strlen(s) */
    size_t len;    /* its length once valid UTF-8 (raw when it is already) */
} ustr;

struct otel_otlp_metrics_enc {
    bool json;
    /* the request: borrowed from begin to end */
    const otel_resource *res;
    ustr scope_name, scope_version;
    size_t head;                 /* bytes before the first Metric kept for what precedes it */
    size_t res_size, scope_size; /* protobuf: bytes of the Resource and the scope */

    uint8_t *buf; /* head bytes of room, the Metric fields (or objects), room */
    size_t cap;
    size_t len; /* end of the last Metric */
    size_t n_metrics, n_points;

    /* one instrument's points while it is added */
    otel_otlp_point_plan *plans;
    size_t plan_cap;
    otel_attr *attrs; /* the points' attributes, one point after the other */
    size_t attr_cap;
    char *clean; /* the valid UTF-8 copies of those strings that were not */
    size_t clean_cap;
};

/* ---- strings ---------------------------------------------------------------- */

/* Bytes of s (n bytes, no NUL) once made valid UTF-8 by otel_utf8_clean:
 * every byte that starts no valid sequence becomes the 3 of U+FFFD. */
static size_t clean_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = otel_utf8_ascii_prefix(p, n), len = i;
    while (i < n) {
        size_t k = p[i] < 0x80 ? 1 : otel_utf8_seq_len(p + i, n - i);
        len += k > 0 ? k : 3;
        i += k > 0 ? k : 1;
    }
    return len;
}

static ustr ustr_of(const char *s)
{
    ustr u = {s != NULL ? s : "", 0, 0};
    u.raw = strlen(u.s);
    u.len = clean_len(u.s, u.raw);
    return u;
}

/* The longest prefix of s (len bytes) within max bytes that ends on a
 * character boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* u as a string field, left out when empty; invalid bytes are cleaned on
 * the way. */
static uint8_t *put_ustr(uint8_t *p, uint8_t tag, const ustr *u)
{
    if (u->len == 0)
        return p;
    if (u->len == u->raw)
        return otel_pb_put_bytes(p, tag, u->s, u->len);
    p = otel_pb_put_len(p, tag, u->len);
    return p + otel_utf8_clean((char *)p, u->s, u->raw, u->len);
}

/* ---- buffers ----------------------------------------------------------------- */

/* Make the array whose pointer is stored at slot (any T **), *cap elements
 * of size elem, hold at least need, contents kept; the capacity doubles
 * from min. The pointer is read and written with memcpy, so any element
 * type goes through one function. Returns 0 or OTEL_ERR_NOMEM (the array
 * is then unchanged). */
static int reserve(void *slot, size_t *cap, size_t need, size_t elem, size_t min)
{
    void *p;
    size_t bytes = *cap * elem;
    if (need <= *cap)
        return 0;
    if (need > SIZE_MAX / elem)
        return OTEL_ERR_NOMEM;
    memcpy(&p, slot, sizeof(p));
    if (otel_grow(&p, &bytes, need * elem, min * elem) != 0)
        return OTEL_ERR_NOMEM;
    memcpy(slot, &p, sizeof(p));
    *cap = bytes / elem;
    return 0;
}

static int reserve_buf(otel_otlp_metrics_enc *e, size_t need)
{
    return reserve(&e->buf, &e->cap, need, 1, MIN_BUF);
}

/* Room for n plans, n_attrs attributes and clean bytes of copies. */
static int reserve_points(otel_otlp_metrics_enc *e, size_t n, size_t n_attrs, size_t clean)
{
    if (reserve(&e->plans, &e->plan_cap, n, sizeof(*e->plans), MIN_CAP) != 0 ||
        reserve(&e->attrs, &e->attr_cap, n_attrs, sizeof(*e->attrs), MIN_CAP) != 0 ||
        reserve(&e->clean, &e->clean_cap, clean, 1, MIN_CAP) != 0)
        return OTEL_ERR_NOMEM;
    return 0;
}

/* ---- attributes ----------------------------------------------------------------- */

static bool kv_kept(const otel_kv *kv)
{
    return kv->type == OTEL_ATTR_STRING || kv->type == OTEL_ATTR_BOOL ||
           kv->type == OTEL_ATTR_INT || kv->type == OTEL_ATTR_DOUBLE;
}

static const char *kv_str(const otel_kv *kv)
{
    return kv->v.s != NULL ? kv->v.s : "";
}

/* Bytes the cleaned copy of u takes (0 when valid as it is). */
static size_t clean_need(const ustr *u)
{
    return u->len != u->raw ? u->len : 0;
}

/* u's bytes as valid UTF-8 and at most max of them: u itself, or its copy
 * at *pos (clean_need bytes there). */
static const char *clean_into(const ustr *u, char **pos, size_t max, size_t *len)
{
    const char *s = u->s;
    if (u->len != u->raw) {
        s = *pos;
        *pos += otel_utf8_clean(*pos, u->s, u->raw, u->len);
    }
    *len = utf8_cut(s, u->len, max);
    return s;
}

/* Count what md's attributes need: *n_attrs kept, *clean bytes of copies. */
static void measure_attrs(const otel_metric_data *md, size_t *n_attrs, size_t *clean)
{
    size_t n = 0, c = 0;
    for (size_t j = 0; j < md->n_points; j++) {
        const otel_metric_point *pt = &md->points[j];
        for (size_t i = 0; i < pt->n_attrs; i++) {
            const otel_kv *kv = &pt->attrs[i];
            if (!kv_kept(kv))
                continue;
            ustr k = ustr_of(kv->key);
            n++;
            c += clean_need(&k);
            if (kv->type == OTEL_ATTR_STRING) {
                ustr v = ustr_of(kv_str(kv));
                c += clean_need(&v);
            }
        }
    }
    *n_attrs = n;
    *clean = c;
}

/* The otel_attr of kv, its strings cleaned into *pos when they need it. */
static void make_attr(otel_attr *a, const otel_kv *kv, char **pos)
{
    size_t len;
    ustr k = ustr_of(kv->key);
    memset(a, 0, sizeof(*a));
    a->key = clean_into(&k, pos, KEY_MAX, &len);
    a->key_len = (uint16_t)len;
    a->type = kv->type;
    switch (kv->type) {
    case OTEL_ATTR_STRING: {
        ustr v = ustr_of(kv_str(kv));
        a->v.s.ptr = clean_into(&v, pos, VALUE_MAX, &len);
        a->v.s.len = (uint32_t)len;
        break;
    }
    case OTEL_ATTR_BOOL:
        a->v.b = kv->v.b;
        break;
    case OTEL_ATTR_INT:
        a->v.i = kv->v.i;
        break;
    case OTEL_ATTR_DOUBLE:
        a->v.d = kv->v.d;
        break;
    case OTEL_ATTR_STRING_ARRAY: /* not kept */
        break;
    }
}

/* e->plans[j].attrs for md's points. Returns 0 or OTEL_ERR_NOMEM. */
static int plan_attrs(otel_otlp_metrics_enc *e, const otel_metric_data *md)
{
    size_t n_attrs, clean;
    measure_attrs(md, &n_attrs, &clean);
    int rc = reserve_points(e, md->n_points, n_attrs, clean);
    if (rc != 0)
        return rc;
    otel_attr *a = e->attrs;
    char *pos = e->clean;
    for (size_t j = 0; j < md->n_points; j++) {
        const otel_metric_point *pt = &md->points[j];
        otel_otlp_point_plan *pl = &e->plans[j];
        pl->attrs = a;
        for (size_t i = 0; i < pt->n_attrs; i++)
            if (kv_kept(&pt->attrs[i]))
                make_attr(a++, &pt->attrs[i], &pos);
        pl->n_attrs = (size_t)(a - pl->attrs);
        pl->size = 0;
    }
    return 0;
}

/* ---- protobuf sizes ------------------------------------------------------------- */

/* An optional fixed64 or double field: 9 bytes when set. */
static size_t fixed_size(bool set)
{
    return set ? 9 : 0;
}

static size_t exemplar_size(const otel_exemplar *ex)
{
    return fixed_size(ex->time_ns != 0) + 9 +
           (otel_otlp_id_set(ex->span_id, sizeof(ex->span_id)) ? 2 + sizeof(ex->span_id) : 0) +
           (otel_otlp_id_set(ex->trace_id, sizeof(ex->trace_id)) ? 2 + sizeof(ex->trace_id) : 0);
}

static size_t exemplars_size(const otel_metric_point *pt)
{
    size_t size = 0;
    for (size_t k = 0; k < pt->n_exemplars; k++)
        size += otel_pb_len_field_size(exemplar_size(&pt->exemplars[k]));
    return size;
}

/* A packed repeated fixed64 or double field of n values. */
static size_t packed_size(size_t n)
{
    return n > 0 ? otel_pb_len_field_size(8 * n) : 0;
}

static size_t number_point_size(const otel_metric_point *pt, const otel_otlp_point_plan *pl)
{
    return fixed_size(pt->start_ns != 0) + fixed_size(pt->time_ns != 0) + exemplars_size(pt) +
           9 /* as_int or as_double, a set oneof member */ +
           otel_pb_attrs_size(pl->attrs, pl->n_attrs);
}

static size_t histogram_point_size(const otel_metric_data *md, const otel_metric_point *pt,
                                   const otel_otlp_point_plan *pl)
{
    size_t nb, nbc = otel_otlp_metrics_buckets(md, pt, &nb);
    bool stats = otel_otlp_metrics_has_stats(pt);
    return fixed_size(pt->start_ns != 0) + fixed_size(pt->time_ns != 0) +
           fixed_size(pt->count != 0) + fixed_size(stats) + packed_size(nbc) + packed_size(nb) +
           exemplars_size(pt) + otel_pb_attrs_size(pl->attrs, pl->n_attrs) + 2 * fixed_size(stats);
}

/* Bytes of md's Sum or Histogram message; the plans get their points'
 * sizes. */
static size_t data_size(const otel_metric_data *md, otel_otlp_point_plan *plans)
{
    bool hist = md->kind == OTEL_INSTRUMENT_HISTOGRAM;
    size_t size = 2; /* aggregation_temporality, never 0 */
    for (size_t j = 0; j < md->n_points; j++) {
        const otel_metric_point *pt = &md->points[j];
        plans[j].size =
            hist ? histogram_point_size(md, pt, &plans[j]) : number_point_size(pt, &plans[j]);
        size += otel_pb_len_field_size(plans[j].size);
    }
    if (!hist && md->monotonic)
        size += 2;
    return size;
}

/* ---- protobuf writing ------------------------------------------------------------- */

static uint8_t *put_fixed(uint8_t *p, uint8_t tag, uint64_t v)
{
    *p++ = tag;
    return otel_pb_put_fixed64(p, v);
}

static uint8_t *put_double_field(uint8_t *p, uint8_t tag, double d)
{
    *p++ = tag;
    return otel_pb_put_double(p, d);
}

static uint8_t *put_exemplars(uint8_t *p, uint8_t tag, const otel_metric_point *pt)
{
    for (size_t k = 0; k < pt->n_exemplars; k++) {
        const otel_exemplar *ex = &pt->exemplars[k];
        p = otel_pb_put_len(p, tag, exemplar_size(ex));
        if (ex->time_ns != 0)
            p = put_fixed(p, EX_TIME, ex->time_ns);
        p = put_double_field(p, EX_AS_DOUBLE, ex->value);
        if (otel_otlp_id_set(ex->span_id, sizeof(ex->span_id)))
            p = otel_pb_put_bytes(p, EX_SPAN_ID, ex->span_id, sizeof(ex->span_id));
        if (otel_otlp_id_set(ex->trace_id, sizeof(ex->trace_id)))
            p = otel_pb_put_bytes(p, EX_TRACE_ID, ex->trace_id, sizeof(ex->trace_id));
    }
    return p;
}

/* start_time_unix_nano and time_unix_nano, fields 2 and 3 of both points. */
static uint8_t *put_times(uint8_t *p, const otel_metric_point *pt)
{
    if (pt->start_ns != 0)
        p = put_fixed(p, NDP_START, pt->start_ns);
    if (pt->time_ns != 0)
        p = put_fixed(p, NDP_TIME, pt->time_ns);
    return p;
}

static uint8_t *put_number_point(uint8_t *p, const otel_metric_data *md,
                                 const otel_metric_point *pt, const otel_otlp_point_plan *pl)
{
    p = otel_pb_put_len(p, AGG_DATA_POINTS, pl->size);
    p = put_times(p, pt);
    p = put_exemplars(p, NDP_EXEMPLARS, pt);
    if (otel_otlp_metrics_as_double(md, pt))
        p = put_double_field(p, NDP_AS_DOUBLE, (double)(uint64_t)pt->value);
    else
        p = put_fixed(p, NDP_AS_INT, (uint64_t)pt->value);
    return otel_pb_put_attrs(p, NDP_ATTRIBUTES, pl->attrs, pl->n_attrs);
}

static uint8_t *put_histogram_point(uint8_t *p, const otel_metric_data *md,
                                    const otel_metric_point *pt, const otel_otlp_point_plan *pl)
{
    size_t nb, nbc = otel_otlp_metrics_buckets(md, pt, &nb);
    bool stats = otel_otlp_metrics_has_stats(pt);
    p = otel_pb_put_len(p, AGG_DATA_POINTS, pl->size);
    p = put_times(p, pt);
    if (pt->count != 0)
        p = put_fixed(p, HDP_COUNT, pt->count);
    if (stats)
        p = put_double_field(p, HDP_SUM, pt->sum);
    if (nbc > 0) {
        p = otel_pb_put_len(p, HDP_BUCKET_COUNTS, 8 * nbc);
        for (size_t b = 0; b < nbc; b++)
            p = otel_pb_put_fixed64(p, pt->bucket_counts[b]);
    }
    if (nb > 0) {
        p = otel_pb_put_len(p, HDP_EXPLICIT_BOUNDS, 8 * nb);
        for (size_t b = 0; b < nb; b++)
            p = otel_pb_put_double(p, md->boundaries[b]);
    }
    p = put_exemplars(p, HDP_EXEMPLARS, pt);
    p = otel_pb_put_attrs(p, HDP_ATTRIBUTES, pl->attrs, pl->n_attrs);
    if (stats) {
        p = put_double_field(p, HDP_MIN, pt->min);
        p = put_double_field(p, HDP_MAX, pt->max);
    }
    return p;
}

/* md as a ScopeMetrics.metrics field of size bytes whose data (Sum or
 * Histogram) is dsize bytes. */
static uint8_t *put_metric(uint8_t *p, const otel_metric_data *md, const ustr *name,
                           const ustr *desc, const ustr *unit, size_t size, size_t dsize,
                           const otel_otlp_point_plan *plans)
{
    bool hist = md->kind == OTEL_INSTRUMENT_HISTOGRAM;
    p = otel_pb_put_len(p, SM_METRICS, size);
    p = put_ustr(p, METRIC_NAME, name);
    p = put_ustr(p, METRIC_DESCRIPTION, desc);
    p = put_ustr(p, METRIC_UNIT, unit);
    p = otel_pb_put_len(p, hist ? METRIC_HISTOGRAM : METRIC_SUM, dsize);
    for (size_t j = 0; j < md->n_points; j++)
        p = hist ? put_histogram_point(p, md, &md->points[j], &plans[j])
                 : put_number_point(p, md, &md->points[j], &plans[j]);
    *p++ = AGG_TEMPORALITY;
    *p++ = (uint8_t)otel_otlp_metrics_temporality(md);
    if (!hist && md->monotonic) {
        *p++ = SUM_IS_MONOTONIC;
        *p++ = 1;
    }
    return p;
}

/* md appended to the request as protobuf. Returns 0 or OTEL_ERR_NOMEM. */
static int add_pb(otel_otlp_metrics_enc *e, const otel_metric_data *md)
{
    ustr name = ustr_of(md->name), desc = ustr_of(md->description), unit = ustr_of(md->unit);
    size_t dsize = data_size(md, e->plans);
    size_t size = otel_pb_opt_len_field_size(name.len) + otel_pb_opt_len_field_size(desc.len) +
                  otel_pb_opt_len_field_size(unit.len) + otel_pb_len_field_size(dsize);
    size_t need = otel_pb_len_field_size(size);
    if (need > SIZE_MAX - e->len || reserve_buf(e, e->len + need) != 0)
        return OTEL_ERR_NOMEM;
    put_metric(e->buf + e->len, md, &name, &desc, &unit, size, dsize, e->plans);
    e->len += need;
    return 0;
}

/* md appended to the request as JSON: written again once the buffer has
 * grown when it did not fit. Returns 0 or OTEL_ERR_NOMEM. */
static int add_json(otel_otlp_metrics_enc *e, const otel_metric_data *md)
{
    otel_json_out w = {(char *)e->buf, e->cap, e->len};
    otel_otlp_metrics_json_metric(&w, e->n_metrics == 0, md, e->plans);
    if (w.len > w.cap) {
        if (reserve_buf(e, w.len) != 0)
            return OTEL_ERR_NOMEM;
        w = (otel_json_out){(char *)e->buf, e->cap, e->len};
        otel_otlp_metrics_json_metric(&w, e->n_metrics == 0, md, e->plans);
    }
    e->len = w.len;
    return 0;
}

/* ---- the request's head ------------------------------------------------------------ */

static size_t scope_size(const otel_otlp_metrics_enc *e)
{
    return otel_pb_opt_len_field_size(e->scope_name.len) +
           otel_pb_opt_len_field_size(e->scope_version.len);
}

static void json_head(otel_json_out *w, const otel_otlp_metrics_enc *e)
{
    otel_otlp_metrics_json_head(w, e->res, e->scope_name.s, e->scope_version.s);
}

/* Write the protobuf head (the request's ResourceMetrics field, the
 * Resource, the ScopeMetrics field and the scope) so that it ends where
 * the first Metric begins; returns where it starts, or NULL when it does
 * not fit in the room begin kept (the resource grew since). */
static uint8_t *put_pb_head(otel_otlp_metrics_enc *e)
{
    size_t body = e->len - e->head, res_size = otel_pb_resource_size(e->res);
    size_t sm = otel_pb_len_field_size(e->scope_size) + body;
    size_t rm = otel_pb_len_field_size(res_size) + otel_pb_len_field_size(sm);
    size_t h = otel_pb_len_field_size(rm) - body;
    if (h > e->head)
        return NULL;
    uint8_t *start = e->buf + e->head - h, *p = start;
    p = otel_pb_put_len(p, REQ_RESOURCE_METRICS, rm);
    p = otel_pb_put_resource(p, RM_RESOURCE, e->res, res_size);
    p = otel_pb_put_len(p, RM_SCOPE_METRICS, sm);
    p = otel_pb_put_len(p, SM_SCOPE, e->scope_size);
    p = put_ustr(p, OTEL_PB_SCOPE_NAME, &e->scope_name);
    put_ustr(p, OTEL_PB_SCOPE_VERSION, &e->scope_version);
    return start;
}

/* The JSON head, likewise, and the tail after the last Metric. */
static uint8_t *put_json_head(otel_otlp_metrics_enc *e)
{
    otel_json_out w = {NULL, 0, 0};
    json_head(&w, e);
    if (w.len > e->head)
        return NULL;
    uint8_t *start = e->buf + e->head - w.len;
    w = (otel_json_out){(char *)start, w.len, 0};
    json_head(&w, e);
    memcpy(e->buf + e->len, OTEL_OTLP_METRICS_JSON_TAIL, sizeof(OTEL_OTLP_METRICS_JSON_TAIL) - 1);
    return start;
}

/* ---- API ------------------------------------------------------------------------------ */

int otel_otlp_metrics_enc_new(otel_otlp_metrics_enc **out, bool json)
{
    *out = otel_calloc(1, sizeof(**out));
    if (*out == NULL)
        return OTEL_ERR_NOMEM;
    (*out)->json = json;
    otel_otlp_metrics_enc_begin(*out, NULL, NULL, NULL);
    return 0;
}

void otel_otlp_metrics_enc_del(otel_otlp_metrics_enc *e)
{
    if (e == NULL)
        return;
    otel_free(e->buf);
    otel_free(e->plans);
    otel_free(e->attrs);
    otel_free(e->clean);
    otel_free(e);
}

void otel_otlp_metrics_enc_begin(otel_otlp_metrics_enc *e, const otel_resource *res,
                                 const char *scope_name, const char *scope_version)
{
    e->res = res;
    e->scope_name = ustr_of(scope_name);
    e->scope_version = ustr_of(scope_version);
    e->n_metrics = 0;
    e->n_points = 0;
    if (e->json) {
        otel_json_out w = {NULL, 0, 0}; /* only counts */
        json_head(&w, e);
        e->head = w.len;
    } else {
        /* the two lengths not known yet take VARINT_MAX bytes at most */
        e->res_size = otel_pb_resource_size(res);
        e->scope_size = scope_size(e);
        e->head = 2 * (1 + VARINT_MAX) + otel_pb_len_field_size(e->res_size) +
                  otel_pb_len_field_size(e->scope_size);
    }
    e->len = e->head;
}

int otel_otlp_metrics_enc_add(void *user_data, const otel_metric_data *md)
{
    otel_otlp_metrics_enc *e = user_data;
    if (md->n_points == 0 ||
        (md->kind != OTEL_INSTRUMENT_COUNTER && md->kind != OTEL_INSTRUMENT_UPDOWN_COUNTER &&
         md->kind != OTEL_INSTRUMENT_HISTOGRAM))
        return 0;
    int rc = plan_attrs(e, md);
    if (rc == 0)
        rc = e->json ? add_json(e, md) : add_pb(e, md);
    if (rc != 0)
        return rc;
    e->n_metrics++;
    e->n_points += md->n_points;
    return 0;
}

int otel_otlp_metrics_enc_end(otel_otlp_metrics_enc *e, const uint8_t **out, size_t *len,
                              size_t *n_points)
{
    size_t tail = e->json ? sizeof(OTEL_OTLP_METRICS_JSON_TAIL) - 1 : 0;
    *out = NULL;
    *len = 0;
    *n_points = 0;
    if (reserve_buf(e, e->len + tail) != 0)
        return OTEL_ERR_NOMEM;
    uint8_t *start = e->json ? put_json_head(e) : put_pb_head(e);
    if (start == NULL)
        return OTEL_ERR_STATE;
    *out = start;
    *len = (size_t)(e->buf + e->len + tail - start);
    *n_points = e->n_points;
    return 0;
}

int otel_otlp_metrics_decode_response(const uint8_t *buf, size_t len, bool json, int64_t *rejected,
                                      char *msg, size_t cap)
{
    if (json)
        return otel_otlp_json_decode_partial(buf, len, "rejectedDataPoints", rejected, msg, cap);
    *rejected = 0;
    otel_otlp_copy_message(msg, cap, "");
    if (len == 0)
        return 0;
    pb_response *r =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
            NULL, len, buf);
    if (r == NULL)
        return OTEL_ERR_PARSE;
    if (r->partial_success != NULL) {
        int64_t k = r->partial_success->rejected_data_points;
        *rejected = k > 0 ? k : 0;
        otel_otlp_copy_message(msg, cap, r->partial_success->error_message);
    }
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
        r, NULL);
    return 0;
}
