/* tracer.c - the tracer: sampler, resource, span pool and batch processor
 * tied together. */
#include "tracer_int.h"

#include <string.h>

#include "alloc.h"
#include "span_int.h"
#include "pool.h"

#define NS_PER_MS 1000000ULL

void otel_tracer_config_default(otel_tracer_config *cfg)
{
    otel_sampler_init(&cfg->sampler, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0);
    cfg->max_queue_size = 2048;
    cfg->max_export_batch_size = 512;
    cfg->schedule_delay_ns = 5000 * NS_PER_MS;
    cfg->export_timeout_ns = 30000 * NS_PER_MS;
    cfg->attr_value_max_len = 1024;
    cfg->record_unsampled = false;
    cfg->keep_max_spans = 64;
}

/* Pool size: what a queue and one batch hold, plus spans in flight. A span
 * ending into several pipelines is one span held by all of them. */
static size_t pool_capacity(const otel_tracer_config *cfg)
{
    return cfg->max_queue_size + cfg->max_export_batch_size + 1024;
}

int otel_tracer_new(otel_tracer **out, const otel_tracer_config *cfg, otel_resource *resource)
{
    *out = NULL;
    if (cfg == NULL || resource == NULL)
        return OTEL_ERR_INVALID;
    otel_tracer *t = otel_calloc(1, sizeof(*t));
    if (t == NULL)
        return OTEL_ERR_NOMEM;
    t->cfg = *cfg;
    if (t->cfg.attr_value_max_len == 0)
        t->cfg.attr_value_max_len = OTEL_SPAN_ARENA;
    int rc = otel_pool_new(&t->spans, sizeof(otel_span), pool_capacity(cfg));
    if (rc == OTEL_OK)
        rc = otel_processor_new(&t->processor, &t->cfg, otel_span_release_exported, t);
    if (rc != OTEL_OK) {
        otel_pool_del(t->spans);
        otel_free(t);
        return rc;
    }
    t->resource = resource;
    *out = t;
    return OTEL_OK;
}

int otel_tracer_add_exporter(otel_tracer *t, otel_exporter *e)
{
    return otel_processor_add_exporter(t->processor, e);
}

int otel_tracer_start(otel_tracer *t)
{
    return otel_processor_start(t->processor);
}

int otel_tracer_shutdown(otel_tracer *t)
{
    return otel_tracer_shutdown_within(t, t->cfg.export_timeout_ns);
}

int otel_tracer_shutdown_within(otel_tracer *t, uint64_t timeout_ns)
{
    uint64_t now = otel_mono_ns();
    uint64_t deadline = timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
    return otel_processor_shutdown(t->processor, deadline);
}

int otel_tracer_force_flush(otel_tracer *t, uint64_t timeout_ns)
{
    return otel_processor_force_flush(t->processor, timeout_ns);
}

void otel_tracer_del(otel_tracer *t)
{
    if (t == NULL)
        return;
    if (!otel_processor_del(t->processor))
        return; /* an exporter still holds spans of the pool: left in memory */
    otel_pool_del(t->spans);
    otel_resource_del(t->resource);
    otel_free(t);
}

const otel_resource *otel_tracer_resource(const otel_tracer *t)
{
    return t ? t->resource : NULL;
}

void otel_tracer_stats(const otel_tracer *t, otel_stats *out)
{
    otel_processor_stats(t->processor, out);
}

size_t otel_tracer_exporter_count(const otel_tracer *t)
{
    return otel_processor_exporter_count(t->processor);
}

int otel_tracer_exporter_stats(const otel_tracer *t, size_t i, otel_stats *out, const char **name)
{
    return otel_processor_exporter_stats(t->processor, i, out, name);
}

uint64_t otel_tracer_spans_allocated(const otel_tracer *t)
{
    return otel_pool_allocated(t->spans);
}

void otel_tracer_count_spans(otel_tracer *t, otel_sum_point *const started[3][OTEL_PARENT_ORIGINS],
                             otel_sum_point *const live[3])
{
    memcpy(t->span_started, started, sizeof(t->span_started));
    memcpy(t->span_live, live, sizeof(t->span_live));
}

void otel_tracer_observe_exports(otel_tracer *t, otel_export_observer_fn fn, void *user_data)
{
    otel_processor_observe_exports(t->processor, fn, user_data);
}

otel_span *otel_span_acquire(otel_tracer *t)
{
    return otel_pool_get(t->spans);
}

static void pool_put(otel_pool *pool, otel_span *span, bool shared)
{
    if (shared)
        otel_pool_put_shared(pool, span);
    else
        otel_pool_put(pool, span);
}

/* Drop one reference on a record-only root: the last one gives it back. */
static void root_unref(otel_span *root, bool shared)
{
    if (atomic_fetch_sub_explicit(&root->keep_refs, 1, memory_order_acq_rel) == 1)
        pool_put(root->tracer->spans, root, shared);
}

/* span back to t's pool; a record-only child lets go of its root, and a
 * root waits for the last of its children. */
static void release(otel_tracer *t, otel_span *span, bool shared)
{
    otel_span *root;
    switch (span->keep_role) {
    case OTEL_KEEP_CHILD:
        root = span->keep_root;
        pool_put(t->spans, span, shared);
        root_unref(root, shared);
        return;
    case OTEL_KEEP_ROOT:
        root_unref(span, shared);
        return;
    default:
        pool_put(t->spans, span, shared);
    }
}

void otel_span_release(void *tracer, otel_span *span)
{
    release(tracer, span, false);
}

void otel_span_release_exported(void *tracer, otel_span *span)
{
    release(tracer, span, true);
}
