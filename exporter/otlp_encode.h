/* otlp_encode.h - spans to ExportTraceServiceRequest bytes, and the decoding
 * of what a receiver answers (protobuf-c code generated from exporter/proto).
 * Not a public header. */
#ifndef OTEL_OTLP_ENCODE_H
#define OTEL_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/otel.h>

typedef struct otel_otlp_encoder otel_otlp_encoder;

/* An encoder whose buffers grow to the largest batch seen and are reused:
 * no allocation per span once warm. Caller frees with
 * otel_otlp_encoder_del. */
int otel_otlp_encoder_new(otel_otlp_encoder **out);
void otel_otlp_encoder_del(otel_otlp_encoder *e);

/* Encode spans (n >= 1, any tracers) as one ExportTraceServiceRequest:
 * ResourceSpans per resource, one ScopeSpans with scope "mhd-otel" and
 * OTEL_SDK_VERSION. *data points to the bytes, owned by e and valid until
 * the next call. Returns 0 or OTEL_ERR_NOMEM. */
int otel_otlp_encode(otel_otlp_encoder *e, const otel_span_data *const *spans, size_t n,
                     const uint8_t **data, size_t *len);

/* Read an ExportTraceServiceResponse: *rejected spans (0 when no partial
 * success) and its error message into msg (cap bytes, "" when none).
 * Returns 0 or OTEL_ERR_PARSE. */
int otel_otlp_decode_response(const uint8_t *data, size_t len, int64_t *rejected, char *msg,
                              size_t cap);

/* Read a google.rpc.Status (grpc-status-details-bin, base64 already
 * decoded): *delay_ns from a google.rpc.RetryInfo detail. Returns 0 when
 * one was found, OTEL_ERR_PARSE otherwise. */
int otel_otlp_decode_retry_info(const uint8_t *data, size_t len, uint64_t *delay_ns);

/* Read a google.rpc.Status (the body of an OTLP/HTTP error answer): its
 * message into msg (cap bytes, "" when none). Returns 0 or OTEL_ERR_PARSE. */
int otel_otlp_decode_status_message(const uint8_t *data, size_t len, char *msg, size_t cap);

#endif /* OTEL_OTLP_ENCODE_H */
