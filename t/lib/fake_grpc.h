/* fake_grpc.h - an in-process fake gRPC server for the exporter's unit tests:
 * an nghttp2 server session on a loopback socket, in a thread, answering
 * each request as its test scripts it. */
#ifndef FAKE_GRPC_H
#define FAKE_GRPC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How late a deadline may be kept on a loaded 2-core machine under a
 * sanitizer: the upper bound of the deadline checks (a missed deadline is
 * seconds late or never). */
#define DEADLINE_SLACK_MS 1500

#define FAKE_SCRIPT_MAX 16
#define FAKE_HEADERS_MAX 4096
#define MS_NS UINT64_C(1000000)

typedef enum fake_kind {
    FAKE_OK = 0,        /* 200, the response message, trailers grpc-status 0 */
    FAKE_STATUS,        /* trailers-only: grpc-status, grpc-message, details */
    FAKE_HTTP,          /* :status http_status without a gRPC status */
    FAKE_RST,           /* RST_STREAM rst_error */
    FAKE_GOAWAY_OK,     /* answer OK, then GOAWAY (last = this stream), close */
    FAKE_GOAWAY_REFUSE, /* GOAWAY (last = 0: not processed), close */
    FAKE_HANG,          /* never answer */
    FAKE_CLOSE,         /* close the TCP connection at once */
    FAKE_EARLY,         /* answer OK as soon as the request's HEADERS come;
                         * its body is recorded when it has all come */
    FAKE_EARLY_RST      /* the same, then RST_STREAM NO_ERROR: the rest of
                         * the body is not wanted (RFC 9113 section 8.1) */
} fake_kind;

typedef struct fake_action {
    fake_kind kind;
    int grpc_status;
    const char *grpc_message; /* sent as it is (already percent-encoded) */
    const char *details_bin;  /* grpc-status-details-bin value */
    const uint8_t *resp;      /* FAKE_OK: the response message */
    size_t resp_len;
    bool resp_gzip; /* send the response message compressed */
    int http_status;
    uint32_t rst_error;
} fake_action;

/* How the fake server treats its connections (zero: as a normal peer). */
typedef struct fake_opts {
    int rcvbuf;             /* SO_RCVBUF of its sockets */
    size_t read_chunk;      /* bytes per recv (at most 16384) */
    unsigned read_delay_us; /* sleep after each recv */
    int32_t window;         /* the stream and connection windows it grants */
} fake_opts;

typedef struct fake_server {
    int lfd;
    uint16_t port;
    int wake[2]; /* 'q' stops the thread, 'c' closes every connection */
    pthread_t thread;
    fake_opts opts;

    pthread_mutex_t lock; /* everything below */
    fake_action script[FAKE_SCRIPT_MAX];
    size_t n_script; /* request i gets script[min(i, n - 1)]; none: OK */
    size_t n_requests;
    size_t n_connections; /* accepted so far */
    size_t open_conns;
    /* the last request */
    char headers[FAKE_HEADERS_MAX]; /* "name: value\n" lines */
    uint8_t *body;                  /* malloc'd, the whole DATA */
    size_t body_len;
    uint8_t *prev_body; /* the one before, malloc'd */
    size_t prev_body_len;
    bool prefix_ok;   /* its length prefix matched the DATA */
    bool compressed;  /* its compressed flag */
    uint8_t *message; /* malloc'd payload, inflated when compressed */
    size_t message_len;
    bool inflate_ok;
} fake_server;

/* A port nothing listens on (bound and released). */
uint16_t fake_free_port(void);

/* Start a fake server on 127.0.0.1:port (0: any) answering with script (n
 * actions, copied; the pointed-to bytes must outlive the server), treating
 * its connections as opts says (NULL: as a normal peer). */
fake_server *fake_start_opts(uint16_t port, const fake_action *script, size_t n,
                             const fake_opts *opts);

/* fake_start_opts with opts NULL. */
fake_server *fake_start(uint16_t port, const fake_action *script, size_t n);

/* Stop the server's thread, close its sockets and free s (NULL: nothing). */
void fake_stop(fake_server *s);

/* The requests answered so far. */
size_t fake_requests(fake_server *s);

/* The connections accepted so far. */
size_t fake_connections(fake_server *s);

/* The connections open now. */
size_t fake_open_conns(fake_server *s);

/* Close every connection from the server side and wait until it has. */
void fake_drop_connections(fake_server *s);

/* Whether the last request carried the header line "name: value". */
bool fake_saw_header(fake_server *s, const char *name, const char *value);

/* The value of header name in the last request, copied into out (cap
 * bytes, truncated). Returns false when it had none. */
bool fake_header_value(fake_server *s, const char *name, char *out, size_t cap);

/* The monotonic clock of the exporter's retries, in ms. */
uint64_t fake_mono_ms(void);

#endif /* FAKE_GRPC_H */
