/* h2.h - one HTTP/2 client connection over cleartext TCP (h2 with prior
 * knowledge) or TLS (h2 by ALPN), driven by nghttp2 from the caller's
 * thread: one request at a time, a poll loop that never runs past the
 * caller's deadline, and a new connection after any connection failure or
 * GOAWAY. Not a public header. */
#ifndef OTEL_H2_H
#define OTEL_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/otel.h>
#include "tls.h"

#define OTEL_H2_HOST_MAX 256
#define OTEL_H2_DEFAULT_PORT "4317"

/* Where to connect. A value; copy it freely. */
typedef struct otel_h2_endpoint {
    char host[OTEL_H2_HOST_MAX];          /* a name or an address, no brackets */
    char port[6];                         /* decimal, 1..65535 */
    char authority[OTEL_H2_HOST_MAX + 8]; /* HOST:PORT, an IPv6 host in brackets */
    bool tls;                             /* https:// */
} otel_h2_endpoint;

/* Parse url: "http://HOST[:PORT][/]" or "https://HOST[:PORT][/]" (then
 * out->tls) where HOST is a name, an IPv4 address or an IPv6 address in
 * brackets and PORT defaults to 4317 (OTLP/gRPC), 443 for https. Returns 0, or
 * OTEL_ERR_INVALID with what is wrong in err (errlen bytes,
 * NUL-terminated). */
int otel_h2_endpoint_parse(const char *url, otel_h2_endpoint *out, char *err, size_t errlen);

typedef struct otel_h2 otel_h2;

/* A client for ep (copied). Nothing is connected until the first request.
 * Returns 0 or OTEL_ERR_NOMEM. Caller frees with otel_h2_del. */
int otel_h2_new(otel_h2 **out, const otel_h2_endpoint *ep);
/* Closes the connection and frees c. NULL does nothing. */
void otel_h2_del(otel_h2 *c);
/* For an https:// endpoint: the TLS context connections are made with
 * (borrowed; it outlives c). Without one, no TLS connection is made. */
void otel_h2_set_tls(otel_h2 *c, otel_tls_ctx *x);
/* Whether the last request failed in the TLS handshake (err says why). */
bool otel_h2_tls_failed(const otel_h2 *c);
/* TLS handshakes that resumed a session, so far. */
uint64_t otel_h2_tls_resumed(const otel_h2 *c);
/* Drop the connection now (no GOAWAY is waited for); the next request opens
 * a new one. */
void otel_h2_close(otel_h2 *c);
bool otel_h2_is_connected(const otel_h2 *c);
/* Connections established so far. */
uint64_t otel_h2_connects(const otel_h2 *c);
/* Times a write found the socket's send buffer full, so far. */
uint64_t otel_h2_write_stalls(const otel_h2 *c);

typedef struct otel_h2_header {
    const char *name; /* lowercase, as HTTP/2 requires */
    const char *value;
} otel_h2_header;

/* A piece of a request body. */
typedef struct otel_h2_buf {
    const uint8_t *data;
    size_t len;
} otel_h2_buf;

#define OTEL_H2_BODY_PIECES_MAX 4

typedef struct otel_h2_request {
    const char *method;            /* "POST" */
    const char *path;              /* "/pkg.Service/Method" */
    const otel_h2_header *headers; /* regular fields, after the pseudo-headers */
    size_t n_headers;
    /* The body: n_body (at most OTEL_H2_BODY_PIECES_MAX) pieces sent back to
     * back, written to the socket from where they are; 0: no body. */
    const otel_h2_buf *body;
    size_t n_body;
} otel_h2_request;

typedef struct otel_h2_response {
    int status;          /* the final :status; 0 when none came */
    const uint8_t *data; /* DATA bytes, owned by the client, valid until the
                          * next request, close or del */
    size_t data_len;
    bool reset;           /* the stream ended without a whole response */
    uint32_t reset_error; /* then: its HTTP/2 error code (REFUSED_STREAM also
                           * for a stream a GOAWAY left unprocessed) */
} otel_h2_response;

/* Send req (everything borrowed for the call only: what the socket has not
 * taken of the body when it returns is copied) with the pseudo-headers
 * :method, :scheme (http or https), :authority and :path, opening the connection first
 * when there is none, and wait until its stream closes or deadline_ns
 * (CLOCK_MONOTONIC, see otel_mono_ns) passes. The body goes out
 * as the peer's flow-control windows allow. Returns
 *   0                  a whole response came (any :status): see *resp and
 *                      otel_h2_response_field;
 *   OTEL_ERR_IO        no connection could be made, it broke, or the stream
 *                      was reset (resp->reset);
 *   OTEL_ERR_TIMEOUT   the deadline passed (while connecting or waiting);
 *   OTEL_ERR_INVALID   more than OTEL_H2_BODY_PIECES_MAX body pieces;
 *   OTEL_ERR_NOMEM.
 * After a connection failure, a timeout, a GOAWAY or the peer closing, the
 * connection is closed and the next request opens a new one; a healthy one
 * is kept. otel_h2_error says what went wrong. */
int otel_h2_send_request(otel_h2 *c, const otel_h2_request *req, uint64_t deadline_ns,
                         otel_h2_response *resp);

/* The value of the last field called name (lowercase) among the headers and
 * trailers of the last response, or NULL. Valid until the next request,
 * close or del. */
const char *otel_h2_response_field(const otel_h2 *c, const char *name);

/* What went wrong in the last request, for logs ("" when nothing). Owned by
 * c, valid until the next request. */
const char *otel_h2_error(const otel_h2 *c);

#endif /* OTEL_H2_H */
