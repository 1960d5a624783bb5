/* client.h - CLIENT spans for outgoing HTTP requests: named and attributed
 * by the HTTP client semantic conventions, their context injected into the
 * request's headers through a carrier setter. */
#ifndef OTEL_CLIENT_H
#define OTEL_CLIENT_H

#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start a CLIENT span for an outgoing request of method to url, a child of
 * the calling thread's current span (none: a root span of t), and inject
 * its context into the request through set/carrier (see
 * otel_client_inject; no baggage).
 *   t        the tracer; NULL: the current span's tracer (no current span:
 *            no span, nothing injected, returns NULL)
 *   method   the request method; named "METHOD" when it is one of the nine
 *            standard ones (case-sensitive), else "HTTP" with
 *            http.request.method "_OTHER" and http.request.method_original
 *            (NULL: "HTTP", "_OTHER", no original)
 *   url      the absolute request URL (NULL: no url.full, server.*):
 *            url.full has user:password@ replaced by REDACTED:REDACTED@
 *            and the values of the signed-URL query keys AWSAccessKeyId,
 *            Signature, sig and X-Goog-Signature by REDACTED;
 *            server.address is its host, server.port its port or the
 *            scheme's default (http 80, https 443)
 *   props    the propagators (NULL: the configured set,
 *            otel_propagators_global)
 *   set      the setter (NULL: nothing injected), called before returning
 * Unsampled spans are returned and injected too (trace flags 00). The span
 * belongs to the caller until otel_client_span_end. Returns NULL when no
 * span could be started (every otel_client_* and otel_span_* call accepts
 * NULL). method and url are copied; nothing is kept. */
MHD_OTEL_API otel_span *otel_client_span_start(otel_tracer *t, const char *method, const char *url,
                                               const otel_propagators *props, otel_carrier_set set,
                                               void *carrier);

/* Inject the context of span (its trace flags, B3 debug flag and
 * tracestate) and bag through set, for the propagators of props (NULL: the
 * configured set, otel_propagators_global). bag NULL: the calling thread's
 * current incoming baggage (otel_baggage_current), if any; an empty bag: no
 * baggage header. Values never carry CR, LF or other control bytes. NULL
 * span or set: nothing. */
MHD_OTEL_API void otel_client_inject(const otel_span *span, const otel_propagators *props,
                                     const otel_baggage *bag, otel_carrier_set set, void *carrier);

/* Finish a CLIENT span: status is the HTTP response status (0: none was
 * received) and sets http.response.status_code; 400 and over set status
 * ERROR and error.type to the code ("404"). error_type (NULL: none) names a
 * transport error ("CURLE_COULDNT_CONNECT", "timeout"): status ERROR and
 * error.type = error_type, which wins over a status code. Then the span
 * ends; the pointer is invalid afterwards. NULL span does nothing. */
MHD_OTEL_API void otel_client_span_end(otel_span *span, int status, const char *error_type);

#ifdef __cplusplus
}
#endif

#endif /* OTEL_CLIENT_H */
