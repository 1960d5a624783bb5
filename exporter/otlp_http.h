/* otlp_http.h - the OTLP/HTTP transport: one POST at a time to one URL
 * through a libcurl handle kept for the exporter's life (connections
 * reused, HTTP/1.1 in cleartext, HTTP/2 by ALPN over TLS, the standard
 * proxy variables), bounded by a deadline. Not a public header. */
#ifndef OTEL_OTLP_HTTP_H
#define OTEL_OTLP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/otel.h>
#include "tls.h"

/* Largest response body kept; the rest is read and dropped. */
#define OTEL_OTLP_HTTP_BODY_MAX (64 * 1024)

typedef struct otel_otlp_http otel_otlp_http;

/* A transport posting to url (http:// or https://, copied) with the
 * request header lines headers ("Name: value", n of them, copied). For
 * https://, tls says what to trust and present (NULL: the system store,
 * no client certificate). Returns 0, OTEL_ERR_INVALID (err says why) or
 * OTEL_ERR_NOMEM. Free with otel_otlp_http_del. */
int otel_otlp_http_new(otel_otlp_http **out, const char *url, const char *const *headers, size_t n,
                       const otel_tls_config *tls, char *err, size_t errlen);
/* Closes its connections. NULL does nothing. */
void otel_otlp_http_del(otel_otlp_http *h);
/* In a forked child: the connections are the parent's. They are left as
 * they are (closing a TLS one would write to the parent's socket) and a
 * new handle is made for the child. */
void otel_otlp_http_after_fork(otel_otlp_http *h);

/* How a POST ended. */
typedef struct otel_otlp_http_result {
    long status;          /* the HTTP status; 0 when no response came */
    bool has_retry_after; /* the response had a Retry-After (seconds or date) */
    uint64_t retry_after_ns;
    bool tls;            /* the failure was in TLS (handshake, certificate) */
    const uint8_t *body; /* the first OTEL_OTLP_HTTP_BODY_MAX bytes of the
                          * body, owned by h, valid until the next post */
    size_t body_len;
    bool body_cut;            /* the body was longer */
    const char *content_type; /* the response's, owned by h; NULL when none */
    char err[256];            /* why no response came */
} otel_otlp_http_result;

/* POST body (len bytes, borrowed for the call) and wait for the whole
 * response, at most until deadline (otel_mono_ns time). Returns 0 when a
 * response came (any status: see r), OTEL_ERR_TIMEOUT, OTEL_ERR_IO (no
 * connection, TLS failure, broken connection: r->err says why) or
 * OTEL_ERR_NOMEM. */
int otel_otlp_http_post(otel_otlp_http *h, const uint8_t *body, size_t len, uint64_t deadline,
                        otel_otlp_http_result *r);

/* Connections opened so far. */
uint64_t otel_otlp_http_connects(const otel_otlp_http *h);

/* A Retry-After value (RFC 9110 section 10.2.3: delay-seconds or an
 * HTTP-date, spaces and tabs around it ignored) as a delay from now_unix
 * (seconds since the epoch, any int64). Returns 0 with *delay_ns (0 for a
 * date in the past; whole seconds, at most 2^32 of them for either form),
 * or OTEL_ERR_PARSE. */
int otel_otlp_http_retry_after(const char *value, int64_t now_unix, uint64_t *delay_ns);

#endif /* OTEL_OTLP_HTTP_H */
