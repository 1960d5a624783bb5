/* http_metrics.h - the module's metrics: the HTTP server and client
 * instruments of the semantic conventions, recorded without a lock, and the
 * tracer's own health. Not a public header. */
#ifndef MHD_OTEL_HTTP_METRICS_H
#define MHD_OTEL_HTTP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>

typedef struct mhd_otel_metrics mhd_otel_metrics;

/* What a server request's metrics are made of. Every string is static or
 * the config's (compared by address for the point cache), none is copied
 * until a new attribute set is interned. */
typedef struct mhd_otel_server_req {
    const char *method;  /* a standard method or "_OTHER"; NULL: not begun */
    const char *route;   /* the otel_route pattern that matched, or NULL */
    const char *version; /* "1.0", "1.1", "2" or NULL */
    const char *error;   /* how it ended abnormally (error.type), or NULL */
    unsigned status;     /* the response status; 0: none */
    bool https;
    bool active; /* counted in http.server.active_requests */
} mhd_otel_server_req;

/* A provider with the HTTP instruments, cardinality_limit points each
 * (0: the default), and the self-telemetry of tracer (borrowed, may be
 * NULL; it must outlive the metrics): span_exporter_types[i] (static
 * strings, NULL-terminated, NULL for none) is the otel.component.type of
 * its i-th exporter ("otlp_grpc_span_exporter", ...), queue_capacity its
 * queues' size. Caller frees with mhd_otel_metrics_del. Returns 0 or
 * OTEL_ERR_NOMEM. */
int mhd_otel_metrics_new(mhd_otel_metrics **out, size_t cardinality_limit, otel_tracer *tracer,
                         const char *const *span_exporter_types, size_t queue_capacity);
/* Frees mm. No record may be under way. NULL does nothing. */
void mhd_otel_metrics_del(mhd_otel_metrics *mm);
/* The provider (owned by mm), for the readers. */
otel_metrics *mhd_otel_metrics_provider(mhd_otel_metrics *mm);

/* The request q begins (http.server.active_requests +1 by method and
 * scheme; q->active set). */
void mhd_otel_metrics_server_begin(mhd_otel_metrics *mm, mhd_otel_server_req *q);
/* The request q ended after seconds: http.server.request.duration, with sc
 * (the server span's context, NULL: none) as the exemplar's when sampled,
 * and the active count taken back. */
void mhd_otel_metrics_server_end(mhd_otel_metrics *mm, mhd_otel_server_req *q, double seconds,
                                 const otel_span_context *sc);
/* An outgoing request of method (a standard one or "_OTHER") to url ended
 * after seconds with status (0: no response) and error (error.type, or
 * NULL): http.client.request.duration. */
void mhd_otel_metrics_client(mhd_otel_metrics *mm, const char *method, const char *url,
                             unsigned status, const char *error, double seconds,
                             const otel_span_context *sc);

/* The tracer's counters brought into the self-telemetry instruments; every
 * reader calls it before it collects. Serialized. */
void mhd_otel_metrics_sync(mhd_otel_metrics *mm);

/* A metrics export ended: n data points by exporter (otel.component.type,
 * e.g. "otlp_grpc_metric_exporter"), after seconds, with error (NULL:
 * delivered; "rejected" for the rejected part) - the SDK metrics'
 * otel.sdk.exporter.metric_data_point.exported and
 * otel.sdk.exporter.operation.duration. */
void mhd_otel_metrics_exported(mhd_otel_metrics *mm, const char *exporter, uint64_t n,
                               uint64_t rejected, const char *error, double seconds);

/* The process's metrics, for the libcurl helper: set by the module that
 * records them (the last one set). mhd_otel_metrics_acquire returns it held
 * (NULL: none), mhd_otel_metrics_release lets it go; clearing mm unsets it
 * when it is the one set, and waits for holders to let go (also when another
 * one was set since: mm may be held from before); NULL does nothing. */
void mhd_otel_metrics_set_process(mhd_otel_metrics *mm);
void mhd_otel_metrics_clear_process(mhd_otel_metrics *mm);
mhd_otel_metrics *mhd_otel_metrics_acquire(void);
void mhd_otel_metrics_release(void);

#endif /* MHD_OTEL_HTTP_METRICS_H */
