/* exporter.c - the exporter object: a name and the functions a span
 * pipeline calls. */
#include "exporter_int.h"

#include <string.h>
#include "alloc.h"

int otel_exporter_new(otel_exporter **out, const char *name, otel_export_fn export_fn,
                      void *user_data)
{
    *out = NULL;
    if (name == NULL || name[0] == '\0' || export_fn == NULL)
        return OTEL_ERR_INVALID;
    otel_exporter *e = otel_calloc(1, sizeof(*e));
    if (e == NULL)
        return OTEL_ERR_NOMEM;
    e->name = otel_strdup(name);
    if (e->name == NULL) {
        otel_free(e);
        return OTEL_ERR_NOMEM;
    }
    e->export_fn = export_fn;
    e->user_data = user_data;
    *out = e;
    return OTEL_OK;
}

void otel_exporter_set_flush(otel_exporter *e, otel_exporter_flush_fn fn)
{
    e->flush_fn = fn;
}

void otel_exporter_set_shutdown(otel_exporter *e, otel_exporter_shutdown_fn fn)
{
    e->shutdown_fn = fn;
}

void otel_exporter_set_after_fork(otel_exporter *e, otel_exporter_fork_fn fn)
{
    e->after_fork_fn = fn;
}

void otel_exporter_set_free(otel_exporter *e, otel_exporter_free_fn fn)
{
    e->free_fn = fn;
}

const char *otel_exporter_name(const otel_exporter *e)
{
    return e->name;
}

void otel_exporter_del(otel_exporter *e)
{
    if (e == NULL)
        return;
    if (e->free_fn != NULL)
        e->free_fn(e->user_data);
    otel_free(e->name);
    otel_free(e);
}
