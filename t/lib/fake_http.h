/* fake_http.h - a scripted OTLP/HTTP receiver for the integration tests:
 * libmicrohttpd on 127.0.0.1 in this process, answering each request as its
 * test scripts it (status, Retry-After, body) and recording what came. */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_HTTP_SCRIPT_MAX 16
#define FAKE_HTTP_EXTRA_HEADERS 4
#define FAKE_HTTP_RECORDS_MAX 128 /* requests recorded; later ones are only counted */
#define FAKE_HTTP_HEADERS_MAX 2048

/* A response header. */
typedef struct fake_http_header {
    const char *name; /* NULL: none */
    const char *value;
} fake_http_header;

/* One scripted answer. Zero is "200, an empty ExportTraceServiceResponse in
 * the request's own content type" (OTLP spec, "OTLP/HTTP Response": the
 * server uses the Content-Type it received). */
typedef struct fake_http_answer {
    unsigned int status; /* 0: 200 */
    /* Retry-After sent as it is ("1", "junk"), or NULL */
    const char *retry_after;
    /* retry_after_date: Retry-After as an HTTP date (IMF-fixdate, RFC 9110
     * section 5.6.7) retry_after_s seconds after the answer is made */
    bool retry_after_date;
    int retry_after_s;
    fake_http_header headers[FAKE_HTTP_EXTRA_HEADERS]; /* more headers */
    /* the body, borrowed until fake_http_stop; NULL: empty, or "{}" when
     * the content type is application/json */
    const void *body;
    size_t body_len;
    /* NULL: the request's Content-Type; "": no Content-Type header */
    const char *content_type;
} fake_http_answer;

/* What one request carried. */
typedef struct fake_http_request {
    uint64_t t_ns; /* CLOCK_MONOTONIC when its headers had come */
    char method[16];
    char path[256];
    char version[16];       /* "HTTP/1.1", ... */
    char content_type[128]; /* "" when absent, and so on */
    char content_encoding[64];
    char user_agent[256];
    char headers[FAKE_HTTP_HEADERS_MAX]; /* every header, "name: value\n", truncated */
    size_t body_len;                     /* bytes of body as they came (still compressed) */
    unsigned int status;                 /* what it was answered */
} fake_http_request;

typedef struct fake_http fake_http;

/* Start a receiver on 127.0.0.1, any free port: request i gets script[i]
 * (n at most FAKE_HTTP_SCRIPT_MAX, copied; what they point to is borrowed),
 * every later one *dflt (NULL: the zero answer). Whatever the method and
 * path. Returns NULL when it cannot start. */
fake_http *fake_http_start(const fake_http_answer *script, size_t n, const fake_http_answer *dflt);

/* Stop the receiver's thread and free f (NULL: nothing). */
void fake_http_stop(fake_http *f);

/* Its port. */
uint16_t fake_http_port(const fake_http *f);

/* Requests answered so far (thread-safe). */
size_t fake_http_count(fake_http *f);

/* Wait up to timeout_ms until at least n requests have been answered.
 * Returns whether they have. */
bool fake_http_wait(fake_http *f, size_t n, int timeout_ms);

/* A copy of request i (from 0) into *out. False when it has not come or
 * was past FAKE_HTTP_RECORDS_MAX. */
bool fake_http_get(fake_http *f, size_t i, fake_http_request *out);

/* A copy of request i's body (heap, freed by the caller; *len its length),
 * NULL when there is none as for fake_http_get or out of memory. */
uint8_t *fake_http_body(fake_http *f, size_t i, size_t *len);

/* The value of header name (case-insensitive) of r into out (cap bytes,
 * truncated). False when r has no such header. */
bool fake_http_req_header(const fake_http_request *r, const char *name, char *out, size_t cap);

/* An ExportTraceServiceResponse carrying partial_success { rejected_spans,
 * error_message }, protobuf-encoded into out (cap bytes). Returns its
 * length, 0 when cap is too small. */
size_t fake_http_partial_pb(uint8_t *out, size_t cap, int64_t rejected, const char *message);

/* The same as OTLP/JSON into out (cap bytes, NUL-terminated): message must
 * need no JSON escaping. Returns its length, 0 when cap is too small. */
size_t fake_http_partial_json(char *out, size_t cap, int64_t rejected, const char *message);

/* A valid ExportTraceServiceResponse of about pad bytes: an unknown field
 * (number 15, bytes) full of 'x', which a decoder must skip (heap, freed by
 * the caller; *len its length). NULL when out of memory. */
uint8_t *fake_http_big_pb(size_t pad, size_t *len);

#endif /* FAKE_HTTP_H */
