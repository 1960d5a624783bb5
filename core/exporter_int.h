/* exporter_int.h - the exporter object's layout, for the processor that
 * calls it. Not a public header. */
#ifndef OTEL_EXPORTER_INT_H
#define OTEL_EXPORTER_INT_H

#include <mhd-otel/otel.h>

struct otel_exporter {
    char *name; /* owned */
    void *user_data;
    otel_export_fn export_fn;
    otel_exporter_flush_fn flush_fn;       /* NULL: nothing to flush */
    otel_exporter_shutdown_fn shutdown_fn; /* NULL: nothing to close */
    otel_exporter_fork_fn after_fork_fn;   /* NULL: nothing shared */
    otel_exporter_free_fn free_fn;         /* NULL: user_data is not ours */
};

#endif /* OTEL_EXPORTER_INT_H */
