/* otlp.h - the OTLP exporter: batches of spans as ExportTraceServiceRequest
 * over OTLP/gRPC (one HTTP/2 connection, nghttp2, cleartext or TLS) or
 * OTLP/HTTP (protobuf or JSON bodies, libcurl), with retries, backoff and
 * reconnects. */
#ifndef OTEL_OTLP_H
#define OTEL_OTLP_H

#include <mhd-otel/otel.h>

typedef struct otel_otlp_header {
    const char *name; /* lowercase on the wire */
    const char *value;
} otel_otlp_header;

/* The transport and encoding (OTEL_EXPORTER_OTLP_PROTOCOL). */
typedef enum otel_otlp_protocol {
    OTEL_OTLP_GRPC = 0,      /* "grpc" */
    OTEL_OTLP_HTTP_PROTOBUF, /* "http/protobuf" */
    OTEL_OTLP_HTTP_JSON,     /* "http/json" */
} otel_otlp_protocol;

/* "grpc", "http/protobuf", "http/json"; NULL for another value. */
const char *otel_otlp_protocol_name(otel_otlp_protocol p);
/* The protocol called name. Returns 0 or OTEL_ERR_INVALID. */
int otel_otlp_protocol_parse(const char *name, otel_otlp_protocol *out);

/* How an OTLP/HTTP endpoint becomes the URL spans are posted to (OTLP
 * exporter spec, "Endpoint URLs for OTLP/HTTP"). Without an endpoint the
 * URL is the default, whatever the rule. The signal's path is /v1/traces
 * or /v1/metrics. */
typedef enum otel_otlp_url_rule {
    OTEL_OTLP_URL_DEFAULT = 0, /* no path (or "/"): the signal's; else as given */
    OTEL_OTLP_URL_BASE,        /* the signal's path appended to the path
                                * (OTEL_EXPORTER_OTLP_ENDPOINT) */
    OTEL_OTLP_URL_AS_IS,       /* as given, no path meaning "/"
                                * (OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT) */
} otel_otlp_url_rule;

/* What an exporter sends: spans (TraceService, /v1/traces) or metric data
 * points (MetricsService, /v1/metrics). */
typedef enum otel_otlp_signal {
    OTEL_OTLP_TRACES = 0,
    OTEL_OTLP_METRICS,
} otel_otlp_signal;

typedef struct otel_otlp_config {
    /* grpc: "http://HOST[:PORT]" or "https://HOST[:PORT]" (port 4317 for
     * http, 443 for https when none), or "HOST:PORT", over TLS unless
     * insecure; default http://localhost:4317.
     * http/protobuf, http/json: "http(s)://HOST[:PORT][/PATH]" (see url_rule); default
     * http://localhost:4318/v1/traces (/v1/metrics for metrics). */
    const char *endpoint;
    otel_otlp_url_rule url_rule;
    otel_otlp_signal signal; /* default traces */
    otel_otlp_protocol protocol;
    bool insecure;                   /* grpc, an endpoint without scheme: cleartext */
    const otel_otlp_header *headers; /* extra request metadata, n_headers of them */
    size_t n_headers;
    bool gzip;           /* grpc-encoding: gzip / Content-Encoding: gzip */
    uint64_t timeout_ns; /* per export, retries included; default 10 s */
    /* TLS (https:// only): PEM files; NULL: the system's trust store, no
     * client certificate. */
    const char *ca_file;
    const char *client_cert;
    const char *client_key;
    bool tls_no_verify; /* accept any server certificate (logged at start) */
} otel_otlp_config;

typedef struct otel_otlp otel_otlp;

/* The rules of the exporter, for a config to check at parse time what
 * otel_otlp_new would refuse. Each returns 0, or a negative OTEL_ERR_*
 * with the reason in err (errlen bytes, NUL-terminated; the endpoint
 * check's names the endpoint, the header check's does not).
 * An endpoint is as in otel_otlp_config for protocol (insecure: see
 * there); a header name is RFC 9110 token characters, its value printable
 * ASCII, and names the transport sets itself (content-type,
 * content-length, content-encoding, te, host, connection, grpc-*, ...)
 * are refused. The TLS check loads the files (readable, PEM, the key
 * matching the certificate, both or neither) and refuses them, and
 * tls_no_verify, for an http:// endpoint. */
int otel_otlp_endpoint_check(const char *url, otel_otlp_protocol protocol, bool insecure, char *err,
                             size_t errlen);
int otel_otlp_header_check(const char *name, const char *value, char *err, size_t errlen);
/* Which TLS setting otel_otlp_tls_check found wrong. */
typedef enum otel_otlp_tls_setting {
    OTEL_OTLP_TLS_ANY = 0, /* TLS settings as such (an http:// endpoint) */
    OTEL_OTLP_TLS_CA_FILE,
    OTEL_OTLP_TLS_CLIENT_CERT,
    OTEL_OTLP_TLS_CLIENT_KEY,
} otel_otlp_tls_setting;
int otel_otlp_tls_check(const otel_otlp_config *cfg, otel_otlp_tls_setting *bad, char *err,
                        size_t errlen);

/* The longest URL the exporter sends to, its NUL included. */
#define OTEL_OTLP_URL_MAX 2048

/* The URL spans are sent to for cfg (for grpc the endpoint with its
 * scheme settled), into out (cap bytes; OTEL_OTLP_URL_MAX is always
 * enough). Returns 0, OTEL_ERR_INVALID (err says why) or OTEL_ERR_RANGE
 * (too long). */
int otel_otlp_target(const otel_otlp_config *cfg, char *out, size_t cap, char *err, size_t errlen);

/* An exporter for cfg (strings copied, TLS files loaded). No connection is
 * made until the first export. Returns 0, OTEL_ERR_INVALID for a bad
 * endpoint, header or TLS file (err says why, errlen bytes), OTEL_ERR_NOMEM
 * (err says "out of memory"). Caller frees with otel_otlp_del. */
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
    uint64_t connects;    /* connections established */
    uint64_t bytes_sent;  /* message bytes (gRPC or HTTP body), after compression */
    uint64_t rejected;    /* spans the receiver reported rejected */
    uint64_t tls_resumed; /* gRPC TLS handshakes that resumed a session */
} otel_otlp_stats;

void otel_otlp_get_stats(const otel_otlp *e, otel_otlp_stats *out);

/* Send one request already encoded (an ExportMetricsServiceRequest for a
 * metrics exporter, as protobuf, or as JSON for http/json), holding
 * n_items data points, as otel_otlp_exporter's export sends a batch:
 * gzipped when asked, retried until the earlier of e's timeout and until
 * (an otel_mono_ns time). body is borrowed for the call. Returns 0, the
 * number of items rejected (> 0), or a negative OTEL_ERR_*. */
int otel_otlp_send(otel_otlp *e, const uint8_t *body, size_t len, size_t n_items, uint64_t until);
/* After a fork, in the child: forget the parent's connection (as the
 * exporter's after_fork does). */
void otel_otlp_after_fork(otel_otlp *e);

#endif /* OTEL_OTLP_H */
