/* itest_span.c - queries on exported spans: members, attributes, events, first match. */
#include "itest.h"
#include "itest_int.h"

#include <stdlib.h>
#include <string.h>

const char *itest_span_str(const cJSON *span, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(span, member);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A time member as unix ns (numbers beyond 2^53 lose their last bits, but
 * rounding keeps their order). */
static uint64_t span_time(const cJSON *span, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(span, member);

    if (cJSON_IsNumber(item) && item->valuedouble > 0)
        return (uint64_t)item->valuedouble;
    if (cJSON_IsString(item))
        return strtoull(item->valuestring, NULL, 10);
    return 0;
}

uint64_t itest_span_start(const cJSON *span)
{
    return span_time(span, "start_time_unix_nano");
}

uint64_t itest_span_end(const cJSON *span)
{
    return span_time(span, "end_time_unix_nano");
}

const char *itest_span_status(const cJSON *span)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(span, "status");

    if (cJSON_IsString(st))
        return st->valuestring;
    return itest_span_str(st, "code");
}

const cJSON *itest_span_attr(const cJSON *span, const char *key)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(span, "attributes");

    return cJSON_GetObjectItemCaseSensitive(attrs, key);
}

const char *itest_span_attr_str(const cJSON *span, const char *key)
{
    const cJSON *v = itest_span_attr(span, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *itest_span_attr_array_str(const cJSON *span, const char *key, size_t i)
{
    const cJSON *v = itest_span_attr(span, key);
    const cJSON *e = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, (int)i) : NULL;

    return cJSON_IsString(e) ? e->valuestring : NULL;
}

int itest_span_attr_array_len(const cJSON *span, const char *key)
{
    const cJSON *v = itest_span_attr(span, key);

    return cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
}

bool itest_span_attr_int(const cJSON *span, const char *key, int64_t *out)
{
    const cJSON *v = itest_span_attr(span, key);

    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

const cJSON *itest_span_event(const cJSON *span, const char *name)
{
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(span, "events");
    const cJSON *ev;

    cJSON_ArrayForEach(ev, events)
    {
        const char *n = itest_span_str(ev, "name");
        if (n != NULL && strcmp(n, name) == 0)
            return ev;
    }
    return NULL;
}

const char *itest_event_attr_str(const cJSON *event, const char *key)
{
    return itest_span_attr_str(event, key);
}

const char *itest_span_resource_str(const cJSON *span, const char *key)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(span, "resource");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first span whose string member is value, NULL when none. */
static const cJSON *find_member(const itest_spans *sp, const char *member, const char *value)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *v = itest_span_str(sp->v[i], member);
        if (v != NULL && strcmp(v, value) == 0)
            return sp->v[i];
    }
    return NULL;
}

const cJSON *itest_spans_find(const itest_spans *sp, const char *name)
{
    return find_member(sp, "name", name);
}

const cJSON *itest_spans_find_kind(const itest_spans *sp, const char *kind)
{
    return find_member(sp, "kind", kind);
}

const cJSON *itest_spans_find_attr(const itest_spans *sp, const char *key, const char *value)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *v = itest_span_attr_str(sp->v[i], key);
        if (v != NULL && strcmp(v, value) == 0)
            return sp->v[i];
    }
    return NULL;
}

bool itest_is_hex_id(const char *s, size_t n)
{
    bool nonzero = false;

    if (s == NULL || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
        if (s[i] != '0')
            nonzero = true;
    }
    return nonzero;
}
