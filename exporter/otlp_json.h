/* otlp_json.h - spans as an OTLP/JSON ExportTraceServiceRequest, and its response read back. */
/* The JSON Protobuf Encoding of OTLP/HTTP (opentelemetry-proto
 * docs/specification.md): the proto3 JSON mapping with lowerCamelCase keys,
 * hex trace and span ids, integer enums and 64-bit integers as decimal
 * strings. The same messages, fields and grouping as otlp_encode.h. Not a
 * public header. */
#ifndef OTEL_OTLP_JSON_H
#define OTEL_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/otel.h>

typedef struct otel_otlp_json otel_otlp_json;

/* An encoder whose buffer grows to the largest batch seen and is reused:
 * no allocation per span once warm. Returns 0 or OTEL_ERR_NOMEM (*out is
 * then NULL). Caller frees with otel_otlp_json_del. */
int otel_otlp_json_new(otel_otlp_json **out);
/* NULL does nothing. */
void otel_otlp_json_del(otel_otlp_json *j);

/* Encode spans (n >= 1, any tracers) as one ExportTraceServiceRequest in
 * JSON: ResourceSpans per resource in order of first appearance, one
 * ScopeSpans with scope "mhd-otel" and OTEL_SDK_VERSION, spans in batch
 * order. Strings go out as valid UTF-8 (a byte that is not becomes
 * U+FFFD). *data points to the UTF-8 text (not NUL-terminated), owned by
 * j and valid until the next call. Returns 0 or OTEL_ERR_NOMEM (j is then
 * still usable). */
int otel_otlp_json_encode(otel_otlp_json *j, const otel_span_data *const *spans, size_t n,
                          const uint8_t **data, size_t *len);

/* Read an ExportTraceServiceResponse in JSON (len bytes; an empty or blank
 * body is an empty response): *rejected spans (0 when no partialSuccess;
 * rejectedSpans as a string or a number) and its errorMessage into msg
 * (cap bytes, NUL-terminated, cut at a UTF-8 boundary; "" when none).
 * Unknown fields are ignored. Returns 0 or OTEL_ERR_PARSE (not JSON, not
 * an object, or a field of the wrong type; *rejected is then 0 and msg
 * ""). */
int otel_otlp_json_decode_response(const uint8_t *data, size_t len, int64_t *rejected, char *msg,
                                   size_t cap);

/* The same for the response of any signal, whose partialSuccess counts
 * what was rejected in its member rejected_key ("rejectedSpans",
 * "rejectedDataPoints", ...). */
int otel_otlp_json_decode_partial(const uint8_t *data, size_t len, const char *rejected_key,
                                  int64_t *rejected, char *msg, size_t cap);

#endif /* OTEL_OTLP_JSON_H */
