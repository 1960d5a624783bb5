/* metrics_seen.c - copies of metrics collections for tests (see metrics_seen.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_seen.h"

static void attrs_text(const otel_kv *kv, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        const otel_kv *a = &kv[i];
        const char *sep = i > 0 ? "," : "";
        int w;
        switch (a->type) {
        case OTEL_ATTR_STRING:
            w = snprintf(out + len, cap - len, "%s%s=%s", sep, a->key, a->v.s);
            break;
        case OTEL_ATTR_BOOL:
            w = snprintf(out + len, cap - len, "%s%s=%s", sep, a->key, a->v.b ? "true" : "false");
            break;
        case OTEL_ATTR_INT:
            w = snprintf(out + len, cap - len, "%s%s=%lld", sep, a->key, (long long)a->v.i);
            break;
        default:
            w = snprintf(out + len, cap - len, "%s%s=%g", sep, a->key, a->v.d);
        }
        assert_true(w > 0 && (size_t)w < cap - len); /* MS_ATTRS_MAX is enough */
        len += (size_t)w;
    }
}

static void copy_point(const otel_metric_point *p, ms_point *q)
{
    memset(q, 0, sizeof(*q));
    attrs_text(p->attrs, p->n_attrs, q->attrs, sizeof(q->attrs));
    q->value = p->value;
    q->count = p->count;
    q->sum = p->sum;
    q->min = p->min;
    q->max = p->max;
    assert_true(p->n_bucket_counts <= OTEL_HISTOGRAM_MAX_BOUNDARIES + 1);
    q->n_buckets = p->n_bucket_counts;
    if (p->n_bucket_counts > 0)
        memcpy(q->buckets, p->bucket_counts, p->n_bucket_counts * sizeof(uint64_t));
    assert_true(p->n_exemplars <= OTEL_HISTOGRAM_MAX_BOUNDARIES + 1);
    q->n_ex = p->n_exemplars;
    if (p->n_exemplars > 0)
        memcpy(q->ex, p->exemplars, p->n_exemplars * sizeof(otel_exemplar));
}

static int keep(void *ud, const otel_metric_data *md)
{
    ms_seen *s = ud;
    assert_true(s->n < MS_METRICS_MAX);
    ms_metric *mt = &s->m[s->n++];
    snprintf(mt->name, sizeof(mt->name), "%s", md->name);
    mt->kind = md->kind;
    mt->temporality = md->temporality;
    mt->monotonic = md->monotonic;
    mt->n = md->n_points;
    mt->pts = calloc(md->n_points > 0 ? md->n_points : 1, sizeof(*mt->pts));
    assert_non_null(mt->pts);
    for (size_t i = 0; i < md->n_points; i++)
        copy_point(&md->points[i], &mt->pts[i]);
    return 0;
}

ms_seen *ms_collect(otel_metrics *m, otel_temporality_pref pref)
{
    ms_seen *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(otel_metrics_collect(m, pref, keep, s), OTEL_OK);
    return s;
}

void ms_free(ms_seen *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->m[i].pts);
    free(s);
}

const ms_metric *ms_metric_of(const ms_seen *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->m[i].name, name) == 0)
            return &s->m[i];
    return NULL;
}

const ms_point *ms_find(const ms_seen *s, const char *name, const char *attrs)
{
    const ms_metric *mt = ms_metric_of(s, name);
    for (size_t i = 0; mt != NULL && i < mt->n; i++)
        if (strcmp(mt->pts[i].attrs, attrs) == 0)
            return &mt->pts[i];
    return NULL;
}

const ms_point *ms_get(const ms_seen *s, const char *name, const char *attrs)
{
    const ms_point *p = ms_find(s, name, attrs);
    if (p == NULL)
        fail_msg("no point %s{%s}", name, attrs);
    return p;
}

size_t ms_points(const ms_seen *s, const char *name)
{
    const ms_metric *mt = ms_metric_of(s, name);
    return mt != NULL ? mt->n : 0;
}
