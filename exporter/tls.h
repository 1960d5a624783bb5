/* tls.h - TLS client connections for the OTLP exporters (OpenSSL): trust
 * and client credentials loaded once per exporter, one non-blocking
 * connection per TCP socket with SNI, host or IP verification, ALPN and
 * session resumption. Not a public header. */
#ifndef OTEL_TLS_H
#define OTEL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mhd-otel/otel.h>

/* What a TLS client trusts and presents. Strings borrowed for the call. */
typedef struct otel_tls_config {
    const char *ca_file;   /* PEM CA certificates to trust; NULL: the system store */
    const char *cert_file; /* PEM client certificate (chain may follow); NULL: none */
    const char *key_file;  /* PEM private key of cert_file (unencrypted) */
    bool no_verify;        /* accept any server certificate (tls_verify off) */
} otel_tls_config;

/* Which setting a check found wrong. */
typedef enum otel_tls_setting {
    OTEL_TLS_NONE = 0,
    OTEL_TLS_CA,
    OTEL_TLS_CERT,
    OTEL_TLS_KEY,
} otel_tls_setting;

/* Check what otel_tls_ctx_new would load: each file readable and of the
 * right kind, the key matching the certificate, cert and key given
 * together. Returns 0, or OTEL_ERR_INVALID with the file and OpenSSL's
 * reason in err (errlen bytes, NUL-terminated) and the setting at fault
 * in *bad (may be NULL). */
int otel_tls_config_check(const otel_tls_config *cfg, otel_tls_setting *bad, char *err,
                          size_t errlen);

typedef struct otel_tls_ctx otel_tls_ctx;

/* A client context for cfg: TLS 1.2 at least, the peer verified unless
 * cfg->no_verify, ALPN offering alpn (a wire-format protocol list such as
 * "\x02h2"; NULL: none). Returns 0, OTEL_ERR_INVALID (err says why) or
 * OTEL_ERR_NOMEM. Free with otel_tls_ctx_del. */
int otel_tls_ctx_new(otel_tls_ctx **out, const otel_tls_config *cfg, const char *alpn, char *err,
                     size_t errlen);
/* NULL does nothing. */
void otel_tls_ctx_del(otel_tls_ctx *x);
/* In a forked child: forget the session kept for resumption (it is the
 * parent's). */
void otel_tls_ctx_after_fork(otel_tls_ctx *x);

typedef struct otel_tls otel_tls;

/* What a read or write that could not finish waits for. */
#define OTEL_TLS_WANT_READ (-1000)
#define OTEL_TLS_WANT_WRITE (-1001)

/* A client connection over the connected non-blocking socket fd (not
 * taken: the caller closes it after otel_tls_del) to host (a name, sent as
 * SNI and checked against the certificate, or an IP address, checked
 * only). The handshake runs until deadline (otel_mono_ns time), and when
 * the context offers ALPN the server must select its protocol. Returns 0
 * with *out; OTEL_ERR_TIMEOUT; OTEL_ERR_IO with the reason in err (the
 * certificate check's, OpenSSL's or the socket's); OTEL_ERR_NOMEM. A
 * session the server gave an earlier connection of x is offered. */
int otel_tls_connect(otel_tls **out, otel_tls_ctx *x, int fd, const char *host, uint64_t deadline,
                     char *err, size_t errlen);
/* Frees the connection without writing to the socket. NULL does nothing. */
void otel_tls_del(otel_tls *t);
/* Whether the handshake resumed a session. */
bool otel_tls_resumed(const otel_tls *t);

/* Read up to len bytes: > 0, 0 when the peer closed, OTEL_TLS_WANT_READ /
 * OTEL_TLS_WANT_WRITE, or OTEL_ERR_IO with the reason in err. */
ssize_t otel_tls_read(otel_tls *t, void *buf, size_t len, char *err, size_t errlen);
/* Write up to len bytes (a shorter count may be written): > 0,
 * OTEL_TLS_WANT_READ / OTEL_TLS_WANT_WRITE (call again with at least the
 * same bytes), or OTEL_ERR_IO with the reason in err. */
ssize_t otel_tls_write(otel_tls *t, const void *buf, size_t len, char *err, size_t errlen);
/* Decrypted bytes waiting inside the connection. */
size_t otel_tls_pending(const otel_tls *t);

#endif /* OTEL_TLS_H */
