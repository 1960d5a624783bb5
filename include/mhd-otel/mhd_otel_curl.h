/* mhd_otel_curl.h - CLIENT spans and trace-context headers for libcurl easy
 * handles.
 *
 * Instrument a handle once, right after curl_easy_init, and every transfer
 * it performs becomes a CLIENT span, a child of the calling thread's current
 * span, whose context goes out in the request headers (traceparent and
 * tracestate, b3 or X-B3-*, baggage: the configured propagators) next to the
 * caller's own CURLOPT_HTTPHEADER list, which is left as the caller set it,
 * also when it was set before the handle was instrumented (through
 * curl_easy_setopt of the shared library or mhd_otel_curl_easy_setopt:
 * libcurl cannot tell a list set any other way).
 *
 * Two ways to use it:
 *   - linked with libmhd-otel.so (or LD_PRELOADed): the shared library
 *     interposes curl_easy_setopt, curl_easy_perform, curl_easy_reset and
 *     curl_easy_cleanup (module/curl_preload.c), so plain curl calls on an instrumented handle do
 *     everything; uninstrumented handles pass straight through.
 *   - linked with libmhd-otel.a, which carries no interposers: call
 *     mhd_otel_curl_easy_setopt, mhd_otel_curl_easy_perform,
 *     mhd_otel_curl_easy_reset and mhd_otel_curl_easy_cleanup instead of the curl_easy_* ones (they
 * work with the .so too). The span's method comes from the options set after instrumenting
 * (CURLOPT_CUSTOMREQUEST, else NOBODY HEAD, UPLOAD PUT, POST/POSTFIELDS
 * POST, else GET); its URL from CURLOPT_URL, or what libcurl reports.
 * Handles driven by curl_multi, and copies made by curl_easy_duphandle, are
 * not traced. */
#ifndef MHD_OTEL_CURL_H
#define MHD_OTEL_CURL_H

#include <stdarg.h>

#include <curl/curl.h>

#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Called after the CLIENT span started and the headers are set, before the
 * transfer. */
typedef void (*mhd_otel_curl_request_hook)(void *user_data, otel_span *span, CURL *h);
/* Called after the transfer (result is its CURLcode), before the span ends:
 * curl_easy_getinfo works. */
typedef void (*mhd_otel_curl_response_hook)(void *user_data, otel_span *span, CURL *h,
                                            CURLcode result);

typedef struct mhd_otel_curl_options {
    otel_tracer *tracer;                       /* NULL: the current span's tracer (none: no span) */
    const otel_propagators *propagators;       /* NULL: the configured set, read at each
                                                  perform (otel_propagators_global);
                                                  else copied */
    const otel_baggage *baggage;               /* sent with the baggage propagator; NULL:
                                                  none. Borrowed: must outlive the handle */
    mhd_otel_curl_request_hook request_hook;   /* may be NULL */
    mhd_otel_curl_response_hook response_hook; /* may be NULL */
    void *user_data;                           /* for both hooks */
} mhd_otel_curl_options;

/* Trace the transfers of h with opt (NULL: all defaults; copied). Again on
 * an instrumented handle: replaces its options and keeps what was recorded.
 * The state is freed by curl_easy_cleanup (the .so), by
 * mhd_otel_curl_easy_cleanup or by mhd_otel_curl_uninstrument. Returns 0,
 * OTEL_ERR_INVALID (h NULL) or OTEL_ERR_NOMEM. Thread-safe. */
MHD_OTEL_API int mhd_otel_curl_instrument(CURL *h, const mhd_otel_curl_options *opt);

/* Stop tracing h and free its state. Unknown or NULL h does nothing. */
MHD_OTEL_API void mhd_otel_curl_uninstrument(CURL *h);

/* True when h is instrumented. */
MHD_OTEL_API int mhd_otel_curl_is_instrumented(CURL *h);

/* curl_easy_setopt that also records, for an instrumented handle, the
 * options the span needs (URL, method, the caller's header list). */
MHD_OTEL_API CURLcode mhd_otel_curl_easy_setopt(CURL *h, CURLoption option, ...);
MHD_OTEL_API CURLcode mhd_otel_curl_easy_setopt_va(CURL *h, CURLoption option, va_list ap);

/* curl_easy_perform with a CLIENT span and injected headers for an
 * instrumented handle (a plain curl_easy_perform otherwise). The span gets
 * http.response.status_code from CURLINFO_RESPONSE_CODE, and status ERROR
 * with error.type = the status code (>= 400) or the CURLcode's name
 * ("CURLE_COULDNT_CONNECT") for a failed transfer. Returns what libcurl
 * returns. */
MHD_OTEL_API CURLcode mhd_otel_curl_easy_perform(CURL *h);

/* mhd_otel_curl_uninstrument, then curl_easy_cleanup. */
MHD_OTEL_API void mhd_otel_curl_easy_cleanup(CURL *h);

/* curl_easy_reset; an instrumented handle stays instrumented (same
 * options) and forgets the URL, method and headers it recorded. */
MHD_OTEL_API void mhd_otel_curl_easy_reset(CURL *h);

/* The name of a CURLcode ("CURLE_OK", "CURLE_COULDNT_CONNECT", ...);
 * "CURLE_UNKNOWN" for a code it does not know. Static. */
MHD_OTEL_API const char *mhd_otel_curl_code_name(CURLcode code);

#ifdef __cplusplus
}
#endif

#endif /* MHD_OTEL_CURL_H */
