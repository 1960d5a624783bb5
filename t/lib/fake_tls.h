/* fake_tls.h - an in-process TLS server for the unit tests (OpenSSL): a
 * thread on 127.0.0.1 serving one connection at a time as its test
 * configures it, and recording what each connection's handshake saw. */
#ifndef FAKE_TLS_H
#define FAKE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_TLS_CONNS_MAX 32     /* connections recorded; later ones are only counted */
#define FAKE_TLS_REQUEST_MAX 2048 /* bytes of an HTTP request head kept */

/* What the server does once the TCP connection is accepted. */
typedef enum fake_tls_mode {
    FAKE_TLS_ECHO = 0, /* handshake, then send back what comes until the client closes */
    FAKE_TLS_CLOSE,    /* handshake, then close the socket at once (no close_notify) */
    FAKE_TLS_SHUTDOWN, /* handshake, then send close_notify and close */
    FAKE_TLS_HANGUP,   /* read the first TLS record (the ClientHello) and close: no handshake */
    FAKE_TLS_HTTP,     /* handshake, then answer each HTTP/1.1 request 200 with no body */
} fake_tls_mode;

/* How the server behaves. Strings borrowed until fake_tls_stop. */
typedef struct fake_tls_config {
    const char *cert; /* PEM server certificate */
    const char *key;  /* its key */
    /* non-NULL: a client certificate issued by this CA is required */
    const char *client_ca;
    /* the protocol selected by ALPN when the client offers it ("h2"); NULL:
     * none selected (the handshake goes on without ALPN) */
    const char *alpn;
    bool tickets;    /* give session tickets, so a later connection can resume */
    int max_version; /* 0: TLS 1.3; else an OpenSSL version such as TLS1_2_VERSION */
    fake_tls_mode mode;
} fake_tls_config;

/* What one connection saw. */
typedef struct fake_tls_conn {
    bool handshake_ok;
    char err[256];                      /* OpenSSL's reason when the handshake failed */
    char servername[256];               /* the SNI the client sent; "" when none */
    bool resumed;                       /* the handshake resumed a session */
    char client_cn[128];                /* CN of the client's certificate; "" when none */
    char alpn[32];                      /* the protocol selected; "" when none */
    char version[16];                   /* "TLSv1.3", ... */
    size_t bytes_in;                    /* application bytes read (HTTP: request bodies) */
    size_t requests;                    /* HTTP requests answered */
    char request[FAKE_TLS_REQUEST_MAX]; /* the last HTTP request's head, truncated */
} fake_tls_conn;

typedef struct fake_tls fake_tls;

/* Start a server on 127.0.0.1, any free port (SIGPIPE is then ignored in
 * the process). Returns NULL after printing why on stderr when it cannot
 * start. */
fake_tls *fake_tls_start(const fake_tls_config *cfg);

/* Stop the thread (after the connection it serves has ended) and free s
 * (NULL: nothing). */
void fake_tls_stop(fake_tls *s);

/* Its port. */
uint16_t fake_tls_port(const fake_tls *s);

/* Wait up to timeout_ms until n connections have ended. Returns whether
 * they have. */
bool fake_tls_wait(fake_tls *s, size_t n, int timeout_ms);

/* Connections ended so far (thread-safe). */
size_t fake_tls_count(fake_tls *s);

/* A copy of what connection i (from 0) saw into *out. False when it has
 * not ended or was past FAKE_TLS_CONNS_MAX. */
bool fake_tls_get(fake_tls *s, size_t i, fake_tls_conn *out);

#endif /* FAKE_TLS_H */
