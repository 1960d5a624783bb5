/* span_data.c - ended spans built by hand for exporter tests (see span_data.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "span_data.h"

otel_resource *sd_resource(const char *service_name, const char *env)
{
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, service_name), OTEL_OK);
    if (env != NULL)
        assert_int_equal(otel_resource_set(r, "deployment.environment", env), OTEL_OK);
    return r;
}

otel_span_data *sd_span(const otel_resource *r, const char *name, unsigned seed)
{
    otel_span_data *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    for (int i = 0; i < 16; i++)
        s->ctx.trace_id[i] = (uint8_t)(0xa0 + i + seed * 3);
    for (int i = 0; i < 8; i++)
        s->ctx.span_id[i] = (uint8_t)(0x10 + i + seed * 7);
    s->ctx.span_id[0] = (uint8_t)(seed >> 8);
    s->ctx.span_id[1] = (uint8_t)seed;
    s->ctx.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    s->kind = OTEL_SPAN_KIND_SERVER;
    s->status = OTEL_STATUS_UNSET;
    s->status_message = "";
    s->name = name;
    s->start_ns = SD_START_NS + seed;
    s->end_ns = SD_START_NS + seed + 1234567;
    s->resource = r;
    return s;
}

void sd_set_parent(otel_span_data *s, bool remote)
{
    for (int i = 0; i < 8; i++)
        s->parent_span_id[i] = (uint8_t)(0xc0 + i);
    s->has_parent = true;
    s->parent_is_remote = remote;
}

otel_attr *sd_next_attr(otel_span_data *s)
{
    assert_true(s->n_attrs < OTEL_SPAN_MAX_ATTRS);
    return &s->attrs[s->n_attrs++];
}

void sd_attr_str(otel_attr *a, const char *key, const char *v)
{
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_STRING;
    a->v.s.ptr = v;
    a->v.s.len = (uint32_t)strlen(v);
}

void sd_attr_int(otel_attr *a, const char *key, int64_t v)
{
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_INT;
    a->v.i = v;
}

void sd_attr_bool(otel_attr *a, const char *key, bool v)
{
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_BOOL;
    a->v.b = v;
}

void sd_attr_double(otel_attr *a, const char *key, double v)
{
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_DOUBLE;
    a->v.d = v;
}

void sd_add_event(otel_span_data *s, const char *name, uint64_t time_ns, const otel_attr *attrs,
                  size_t n, uint32_t dropped)
{
    assert_true(s->n_events < OTEL_SPAN_MAX_EVENTS);
    assert_true(s->n_ev_attrs + n <= OTEL_SPAN_MAX_EVENT_ATTRS);
    otel_event *ev = &s->events[s->n_events++];
    ev->name = name;
    ev->time_ns = time_ns;
    ev->attr_first = s->n_ev_attrs;
    ev->attr_count = (uint16_t)n;
    ev->dropped_attrs = dropped;
    for (size_t i = 0; i < n; i++)
        s->ev_attrs[s->n_ev_attrs++] = attrs[i];
}

void sd_add_link(otel_span_data *s, unsigned seed, const char *tracestate, uint8_t flags,
                 bool remote)
{
    assert_true(s->n_links < OTEL_SPAN_MAX_LINKS);
    otel_link *l = &s->links[s->n_links++];
    for (int i = 0; i < 16; i++)
        l->ctx.trace_id[i] = (uint8_t)(0x30 + i + seed * 5);
    for (int i = 0; i < 8; i++)
        l->ctx.span_id[i] = (uint8_t)(0x70 + i + seed * 11);
    l->ctx.trace_flags = flags;
    l->ctx.is_remote = remote;
    l->tracestate = tracestate;
}

otel_span_data *sd_full_span(const otel_resource *r, unsigned seed)
{
    otel_span_data *s = sd_span(r, "GET /hello/{name}", seed);
    sd_set_parent(s, true);
    const char ts[] = "vendor=abc,other=1";
    memcpy(s->tracestate, ts, sizeof(ts));
    s->tracestate_len = (uint16_t)(sizeof(ts) - 1);
    sd_attr_str(sd_next_attr(s), "http.request.method", "GET");
    sd_attr_int(sd_next_attr(s), "http.response.status_code", 500 + (int64_t)seed % 7);
    sd_attr_bool(sd_next_attr(s), "app.cache_hit", seed % 2 == 0);
    sd_attr_double(sd_next_attr(s), "app.ratio", 0.25 * seed);
    s->dropped_attrs = seed % 3;
    otel_attr ea[3];
    sd_attr_str(&ea[0], "exception.type", "E_IO");
    sd_attr_str(&ea[1], "exception.message", "disk gone");
    sd_attr_int(&ea[2], "retry", (int64_t)seed);
    sd_add_event(s, "exception", SD_START_NS + 10 + seed, ea, 2, 1);
    sd_add_event(s, "retry", SD_START_NS + 20 + seed, &ea[2], 1, 0);
    s->dropped_events = 2;
    s->status = OTEL_STATUS_ERROR;
    s->status_message = "upstream failed";
    return s;
}

const otel_span_data *const *sd_ro(otel_span_data *const *spans)
{
    return (const otel_span_data *const *)spans;
}

void sd_free_spans(otel_span_data **spans, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(spans[i]);
}

void sd_attr_str_array(otel_attr *a, const char *key, const char *v, size_t size, uint32_t n)
{
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_STRING_ARRAY;
    a->v.s.ptr = v;
    a->v.s.len = (uint32_t)size;
    a->v.s.n = n;
}
