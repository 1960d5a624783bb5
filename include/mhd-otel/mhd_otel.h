/* mhd_otel.h - public API of the libmicrohttpd tracing module, for servers
 * that link the library: load a config, start a traced daemon, reach the
 * request's span from handler code. */
#ifndef MHD_OTEL_H
#define MHD_OTEL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mhd_otel mhd_otel;

/* The library's version at run time ("0.1.0"), which MHD_OTEL_VERSION is
 * at build time. */
MHD_OTEL_API const char *mhd_otel_version(void);

/* Load the config file at path (NULL: the OTEL_* environment only), build
 * the tracer and its exporters. On success *out is the new module, which the
 * caller frees with mhd_otel_del after stopping its daemons. On failure
 * returns a negative OTEL_ERR_* and writes "FILE:LINE: message" into err
 * (errlen bytes); nothing is started. */
MHD_OTEL_API int mhd_otel_new(mhd_otel **out, const char *path, char *err, size_t errlen);

/* Export every ended span (bounded by the export timeout), stop the exporter
 * thread and free m. Stop the daemons started through m first. NULL does
 * nothing. */
MHD_OTEL_API void mhd_otel_del(mhd_otel *m);

/* True when the config says otel_trace on. */
MHD_OTEL_API int mhd_otel_enabled(const mhd_otel *m);

/* The propagators m's config names (otel_propagators / OTEL_PROPAGATORS,
 * default tracecontext,baggage) into out: what incoming requests are read
 * with and what outgoing requests carry. mhd_otel_new also makes them the
 * process's set (otel_propagators_global), which CLIENT spans and the
 * libcurl helper use when given none. m NULL: the process's set. */
MHD_OTEL_API void mhd_otel_propagators(const mhd_otel *m, otel_propagators *out);

/* The tracer, for starting spans outside a request. Borrowed from m. */
MHD_OTEL_API otel_tracer *mhd_otel_tracer(mhd_otel *m);

/* MHD_start_daemon with tracing: takes the same arguments and options, wraps
 * dh and chains the caller's MHD_OPTION_NOTIFY_COMPLETED,
 * MHD_OPTION_URI_LOG_CALLBACK and per-request pointer. With tracing off it is
 * MHD_start_daemon; so it is, with a warning logged, when tracing cannot be
 * set up for the daemon (options the module cannot read, out of memory).
 * Returns NULL when MHD does. */
MHD_OTEL_API struct MHD_Daemon *mhd_otel_start_daemon(mhd_otel *m, unsigned int flags,
                                                      uint16_t port, MHD_AcceptPolicyCallback apc,
                                                      void *apc_cls, MHD_AccessHandlerCallback dh,
                                                      void *dh_cls, ...);
MHD_OTEL_API struct MHD_Daemon *
mhd_otel_start_daemon_va(mhd_otel *m, unsigned int flags, uint16_t port,
                         MHD_AcceptPolicyCallback apc, void *apc_cls, MHD_AccessHandlerCallback dh,
                         void *dh_cls, va_list ap);
/* MHD_stop_daemon, then free what the module kept for the daemon. */
MHD_OTEL_API void mhd_otel_stop_daemon(struct MHD_Daemon *daemon);

/* The server span of the request being handled on connection (NULL when the
 * request is not traced), from any thread. Borrowed: valid until the request
 * completes (the server's own completion callback still sees it). */
MHD_OTEL_API otel_span *mhd_otel_connection_span(struct MHD_Connection *connection);

/* Called once per traced request that reaches the server's handler, when its
 * server span has started and before the handler runs (headers are readable
 * from connection). Requests MHD answers itself (e.g. a header too large)
 * get a span but no hook calls. */
typedef void (*mhd_otel_request_hook)(void *user_data, otel_span *span,
                                      struct MHD_Connection *connection, const char *method,
                                      const char *url);
/* Called just before a server span ends, with the response status (0 when
 * none was sent), for every request the request hook was called for. */
typedef void (*mhd_otel_response_hook)(void *user_data, otel_span *span,
                                       struct MHD_Connection *connection, unsigned int status);

MHD_OTEL_API void mhd_otel_set_request_hook(mhd_otel *m, mhd_otel_request_hook hook,
                                            void *user_data);
MHD_OTEL_API void mhd_otel_set_response_hook(mhd_otel *m, mhd_otel_response_hook hook,
                                             void *user_data);

/* Counters of the tracer (ended, exported, dropped, ...), summed over its
 * exporters; otel_tracer_exporter_stats on mhd_otel_tracer(m) has each
 * exporter's. */
MHD_OTEL_API void mhd_otel_stats(const mhd_otel *m, otel_stats *out);

/* The meter provider of m's metrics (otel_metrics { } in the config), for
 * a server's own instruments, exported with the module's; borrowed, valid
 * until mhd_otel_del. NULL when no metrics exporter runs. */
MHD_OTEL_API otel_metrics *mhd_otel_meter_provider(mhd_otel *m);

/* Export the spans that ended and the metrics now, and wait up to
 * timeout_ns in all. Returns 0 or OTEL_ERR_TIMEOUT (or the metrics export's
 * failure). */
MHD_OTEL_API int mhd_otel_flush(mhd_otel *m, uint64_t timeout_ns);

/* One line saying what m does, for a start-up log: "tracing on: service
 * NAME; exporters console (stdout), otlp (http://HOST:4317); sampler NAME",
 * or "tracing off". Written into buf (cap bytes, NUL-terminated, cut when
 * longer); returns buf. The module logs it at the first daemon it starts. */
MHD_OTEL_API const char *mhd_otel_describe(const mhd_otel *m, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MHD_OTEL_H */
