/* grpc.h - the gRPC wire details the OTLP exporter needs over HTTP/2: the
 * 5-byte message prefix, gzip message compression, grpc-timeout values, the
 * status trailers (grpc-status, grpc-message, grpc-status-details-bin) and
 * the mapping of HTTP/2 failures to status codes. No I/O. Not a public
 * header. */
#ifndef OTEL_GRPC_H
#define OTEL_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/otel.h>

/* The status codes of gRPC (grpc/doc/statuscodes.md). */
typedef enum otel_grpc_code {
    OTEL_GRPC_OK = 0,
    OTEL_GRPC_CANCELLED = 1,
    OTEL_GRPC_UNKNOWN = 2,
    OTEL_GRPC_INVALID_ARGUMENT = 3,
    OTEL_GRPC_DEADLINE_EXCEEDED = 4,
    OTEL_GRPC_NOT_FOUND = 5,
    OTEL_GRPC_ALREADY_EXISTS = 6,
    OTEL_GRPC_PERMISSION_DENIED = 7,
    OTEL_GRPC_RESOURCE_EXHAUSTED = 8,
    OTEL_GRPC_FAILED_PRECONDITION = 9,
    OTEL_GRPC_ABORTED = 10,
    OTEL_GRPC_OUT_OF_RANGE = 11,
    OTEL_GRPC_UNIMPLEMENTED = 12,
    OTEL_GRPC_INTERNAL = 13,
    OTEL_GRPC_UNAVAILABLE = 14,
    OTEL_GRPC_DATA_LOSS = 15,
    OTEL_GRPC_UNAUTHENTICATED = 16
} otel_grpc_code;

/* "UNAVAILABLE", ...; "UNKNOWN_CODE" for a code outside 0..16. Static. */
const char *otel_grpc_code_name(int code);

/* ---- message framing ---------------------------------------------------- */

#define OTEL_GRPC_PREFIX_LEN 5

/* Write the length prefix of a message: the compressed flag (0 or 1) and
 * len as 4 bytes big-endian. */
void otel_grpc_prefix_write(uint8_t out[OTEL_GRPC_PREFIX_LEN], bool compressed, uint32_t len);

/* Read a prefix from the first 5 bytes of in (len bytes). Returns 0,
 * OTEL_ERR_PARSE when len < 5 or the flag is neither 0 nor 1. */
int otel_grpc_prefix_read(const uint8_t *in, size_t len, bool *compressed, uint32_t *msg_len);

typedef struct otel_grpc_framer otel_grpc_framer;

/* A framer whose compression buffer and deflate state are reused by every
 * message. Caller frees with otel_grpc_framer_del. Returns 0 or
 * OTEL_ERR_NOMEM. */
int otel_grpc_framer_new(otel_grpc_framer **out);
/* NULL does nothing. */
void otel_grpc_framer_del(otel_grpc_framer *f);

/* One length-prefixed gRPC message: the prefix, then payload_len bytes at
 * payload, sent back to back. A value; payload is borrowed (see
 * otel_grpc_framer_frame). */
typedef struct otel_grpc_frame {
    uint8_t prefix[OTEL_GRPC_PREFIX_LEN];
    const uint8_t *payload;
    size_t payload_len;
} otel_grpc_frame;

/* Frame msg (len bytes) as one gRPC message in *out, gzip-compressed
 * (deflate with a gzip wrapper) when gzip is set. Nothing is copied without
 * gzip: out->payload is msg, valid as long as msg is. With gzip it points to
 * the compressed bytes, owned by f and valid until the next call or
 * otel_grpc_framer_del. Returns 0, OTEL_ERR_RANGE (a message over 4 GiB),
 * OTEL_ERR_NOMEM, or OTEL_ERR_IO when zlib fails. */
int otel_grpc_framer_frame(otel_grpc_framer *f, const uint8_t *msg, size_t len, bool gzip,
                           otel_grpc_frame *out);

/* The first message of a response body (data, len bytes of DATA frames).
 * encoding is the response's grpc-encoding (NULL: identity). When the
 * message was not compressed, *msg points into data and *owned is NULL;
 * when it was, it is inflated into a buffer the caller frees with otel_free,
 * *owned = *msg. At most max_len bytes are inflated. Returns 0,
 * OTEL_ERR_PARSE (short body, bad prefix, corrupt gzip), OTEL_ERR_UNSUPPORTED
 * (compressed with another encoding than gzip), OTEL_ERR_RANGE (inflates
 * past max_len), OTEL_ERR_NOMEM; *owned is NULL on failure. */
int otel_grpc_message_read(const uint8_t *data, size_t len, const char *encoding, size_t max_len,
                           uint8_t **owned, const uint8_t **msg, size_t *msg_len);

/* ---- metadata ----------------------------------------------------------- */

/* Room for a grpc-timeout value: 8 digits, a unit, a NUL. */
#define OTEL_GRPC_TIMEOUT_MAX 10

/* ns as a grpc-timeout value in out (cap >= OTEL_GRPC_TIMEOUT_MAX): the
 * finest unit of n, u, m, S, M, H whose value fits in 8 digits, rounded up
 * (never earlier than ns; 0 becomes "1n"; past 99999999 hours, that).
 * Returns the length, or OTEL_ERR_RANGE when cap is too small. */
int otel_grpc_timeout_format(uint64_t ns, char *out, size_t cap);

/* Parse a grpc-status value (len bytes of ASCII digits) into *code.
 * Returns 0 or OTEL_ERR_PARSE (empty, not digits, over INT32_MAX). */
int otel_grpc_status_parse(const char *value, size_t len, int *code);

/* Percent-decode a grpc-message value (len bytes) into out (cap >= 1
 * bytes, NUL-terminated, cut at cap - 1 bytes). A '%' not followed by two
 * hex digits is kept as it is, as the gRPC spec asks. Returns the length
 * written. */
size_t otel_grpc_message_decode(const char *value, size_t len, char *out, size_t cap);

/* Decode base64 (standard alphabet, '=' padding optional, as in
 * grpc-status-details-bin) of in (len bytes) into out (cap bytes).
 * Returns 0 with *out_len, OTEL_ERR_PARSE (bad character, bad padding,
 * impossible length) or OTEL_ERR_RANGE (out too small). */
int otel_grpc_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* ---- failures as status codes ------------------------------------------- */

/* The code a gRPC client reports for an HTTP :status other than 200
 * (grpc/doc/http-grpc-status-mapping.md): 400 INTERNAL, 401
 * UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429, 502, 503
 * and 504 UNAVAILABLE, anything else UNKNOWN. */
int otel_grpc_status_from_http(int http_status);

/* The code for a stream the peer reset with HTTP/2 error code err:
 * REFUSED_STREAM (also a stream GOAWAY left unprocessed) UNAVAILABLE, CANCEL
 * CANCELLED, ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED, INADEQUATE_SECURITY
 * PERMISSION_DENIED, the others INTERNAL. */
int otel_grpc_status_from_h2_error(uint32_t err);

#endif /* OTEL_GRPC_H */
