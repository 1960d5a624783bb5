/* otlp.h - the OTLP/gRPC exporter: batches of spans as
 * ExportTraceServiceRequest over one HTTP/2 connection (nghttp2), with
 * retries, backoff and reconnects. */
#ifndef OTEL_OTLP_H
#define OTEL_OTLP_H

#include "../core/otel.h"

typedef struct otel_otlp_header {
    const char *name; /* lowercase on the wire */
    const char *value;
} otel_otlp_header;

typedef struct otel_otlp_config {
    const char *endpoint;            /* "http://HOST:PORT"; default http://localhost:4317 */
    const otel_otlp_header *headers; /* extra request metadata, n_headers of them */
    size_t n_headers;
    bool gzip;           /* grpc-encoding: gzip */
    uint64_t timeout_ns; /* per export, retries included; default 10 s */
} otel_otlp_config;

typedef struct otel_otlp otel_otlp;

/* The endpoint and header rules of the exporter, for a config to check at
 * parse time what otel_otlp_new would refuse. Each returns 0, or a
 * negative OTEL_ERR_* with the reason in err (errlen bytes, NUL-terminated;
 * the endpoint check's names the endpoint, the header check's does not).
 * An endpoint is http://HOST:PORT (IPv6 in
 * brackets, no path); a header name is RFC 9110 token characters, its value
 * printable ASCII, and names HTTP/2 or gRPC set themselves (content-type,
 * content-length, te, host, connection, grpc-*, ...) are refused. */
int otel_otlp_endpoint_check(const char *url, char *err, size_t errlen);
int otel_otlp_header_check(const char *name, const char *value, char *err, size_t errlen);

/* An exporter for cfg (strings copied). No connection is made until the
 * first export. Returns 0, OTEL_ERR_INVALID for a bad endpoint (err says why,
 * errlen bytes), OTEL_ERR_NOMEM (err says "out of memory"). Caller frees
 * with otel_otlp_del. */
int otel_otlp_new(otel_otlp **out, const otel_otlp_config *cfg, char *err, size_t errlen);
/* Closes the connection. NULL does nothing. */
void otel_otlp_del(otel_otlp *e);

/* An exporter sending through e, which it takes (also on failure): e is
 * freed with the exporter, and stays valid for otel_otlp_get_stats as long
 * as the tracer holding it. Its export runs in its pipeline's worker
 * thread until the batch is delivered, refused, or the earlier of e's
 * timeout and the export's deadline passes, retries and connection set-up
 * included; it returns 0, the number of spans the receiver rejected
 * (partial success, > 0), or a negative OTEL_ERR_*. Its shutdown closes the
 * connection. Returns 0, OTEL_ERR_INVALID or OTEL_ERR_NOMEM. */
int otel_otlp_exporter(otel_otlp *e, otel_exporter **out);

typedef struct otel_otlp_stats {
    uint64_t requests; /* Export calls sent, retries included */
    uint64_t retries;
    uint64_t connects;   /* connections established */
    uint64_t bytes_sent; /* gRPC message bytes, after compression */
    uint64_t rejected;   /* spans the receiver reported rejected */
} otel_otlp_stats;

void otel_otlp_get_stats(const otel_otlp *e, otel_otlp_stats *out);

#endif /* OTEL_OTLP_H */
