/* tls.c - TLS client contexts and non-blocking connections over OpenSSL,
 * with the certificate checks the OTLP exporters need and the reasons
 * OpenSSL gives when a handshake fails. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "../core/alloc.h"

struct otel_tls_ctx {
    SSL_CTX *ctx;
    bool verify;
    uint8_t alpn[32]; /* the first protocol offered, wire format; alpn[0] 0: none */
    pthread_mutex_t lock;
    SSL_SESSION *session; /* the last one a server gave us, for resumption */
};

struct otel_tls {
    SSL *ssl;
    otel_tls_ctx *x;
};

/* ---- helpers: messages --------------------------------------------------- */

/* OpenSSL's reason for the last error of this thread's queue (the most
 * specific one), emptying the queue; "" when there is none. */
static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    buf[0] = '\0';
    if (last != 0) {
        const char *r = ERR_reason_error_string(last);
        if (r != NULL)
            snprintf(buf, cap, "%s", r);
        else
            ERR_error_string_n(last, buf, cap);
    }
    return buf;
}

/* The key of a client certificate is never asked for on a terminal: an
 * encrypted one fails to load. */
static int no_password(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return 0;
}

static int file_readable(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        char buf[128];
        snprintf(err, errlen, "cannot read %s \"%s\": %s", what, path,
                 strerror_r(errno, buf, sizeof(buf)));
        return OTEL_ERR_INVALID;
    }
    fclose(f);
    return OTEL_OK;
}

/* ---- helpers: loading ---------------------------------------------------- */

/* Load cfg's trust and credentials into ctx; *bad says which failed. */
static int load(SSL_CTX *ctx, const otel_tls_config *cfg, otel_tls_setting *bad, char *err,
                size_t errlen)
{
    char why[256];
    SSL_CTX_set_default_passwd_cb(ctx, no_password);
    ERR_clear_error();
    *bad = cfg->cert_file == NULL ? OTEL_TLS_CERT : OTEL_TLS_KEY;
    if ((cfg->cert_file == NULL) != (cfg->key_file == NULL)) {
        snprintf(err, errlen,
                 "a client certificate needs its key and a key its certificate "
                 "(client_cert and client_key together)");
        return OTEL_ERR_INVALID;
    }
    *bad = OTEL_TLS_CA;
    if (cfg->ca_file != NULL) {
        if (file_readable("CA file", cfg->ca_file, err, errlen) != OTEL_OK)
            return OTEL_ERR_INVALID;
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
            snprintf(err, errlen, "CA file \"%s\" holds no usable PEM certificate: %s",
                     cfg->ca_file, ssl_reason(why, sizeof(why)));
            return OTEL_ERR_INVALID;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errlen, "cannot load the system's trusted certificates: %s",
                 ssl_reason(why, sizeof(why)));
        return OTEL_ERR_INVALID;
    }
    *bad = OTEL_TLS_NONE;
    if (cfg->cert_file == NULL)
        return OTEL_OK;
    *bad = OTEL_TLS_CERT;
    if (file_readable("client certificate", cfg->cert_file, err, errlen) != OTEL_OK)
        return OTEL_ERR_INVALID;
    *bad = OTEL_TLS_KEY;
    if (file_readable("client key", cfg->key_file, err, errlen) != OTEL_OK)
        return OTEL_ERR_INVALID;
    *bad = OTEL_TLS_CERT;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
        snprintf(err, errlen, "client certificate \"%s\" is not a usable PEM certificate: %s",
                 cfg->cert_file, ssl_reason(why, sizeof(why)));
        return OTEL_ERR_INVALID;
    }
    *bad = OTEL_TLS_KEY;
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_reason(why, sizeof(why));
        if (strcmp(why, "key values mismatch") == 0)
            snprintf(err, errlen, "client key \"%s\" does not match client certificate \"%s\"",
                     cfg->key_file, cfg->cert_file);
        else
            snprintf(err, errlen,
                     "client key \"%s\" is not a usable unencrypted PEM private key: %s",
                     cfg->key_file, why);
        return OTEL_ERR_INVALID;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "client key \"%s\" does not match client certificate \"%s\": %s",
                 cfg->key_file, cfg->cert_file, ssl_reason(why, sizeof(why)));
        return OTEL_ERR_INVALID;
    }
    *bad = OTEL_TLS_NONE;
    return OTEL_OK;
}

/* A session the server handed us (after the handshake in TLS 1.3): kept,
 * replacing the one before, for the next connection to resume. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    otel_tls_ctx *x = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (x == NULL || !SSL_SESSION_is_resumable(sess))
        return 0;
    pthread_mutex_lock(&x->lock);
    SSL_SESSION *old = x->session;
    x->session = sess;
    pthread_mutex_unlock(&x->lock);
    SSL_SESSION_free(old);
    return 1; /* we keep the reference */
}

static void forget_session(otel_tls_ctx *x)
{
    pthread_mutex_lock(&x->lock);
    SSL_SESSION *old = x->session;
    x->session = NULL;
    pthread_mutex_unlock(&x->lock);
    SSL_SESSION_free(old);
}

/* ---- helpers: handshake -------------------------------------------------- */

static bool is_ip(const char *host)
{
    uint8_t a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Wait until fd is ready for events or deadline passes. */
static int wait_fd(int fd, short events, uint64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        uint64_t now = otel_mono_ns();
        if (now >= deadline) {
            snprintf(err, errlen, "the TLS handshake timed out");
            return OTEL_ERR_TIMEOUT;
        }
        uint64_t ms = (deadline - now + 999999) / 1000000;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            char buf[128];
            snprintf(err, errlen, "poll: %s", strerror_r(errno, buf, sizeof(buf)));
            return OTEL_ERR_IO;
        }
        if (r > 0)
            return OTEL_OK;
    }
}

/* Why the handshake of ssl failed, for ret = SSL_do_handshake's value.
 * verify: whether the server's certificate was checked (without, OpenSSL
 * still records the result of its check, which is then no reason). */
static void handshake_error(SSL *ssl, int ret, bool verify, char *err, size_t errlen)
{
    char why[256];
    int e = SSL_get_error(ssl, ret);
    long vr = SSL_get_verify_result(ssl);
    if (e == SSL_ERROR_SSL && verify && vr != X509_V_OK) {
        ERR_clear_error();
        snprintf(err, errlen, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
        return;
    }
    /* With SSL_OP_IGNORE_UNEXPECTED_EOF a TCP close is taken as a
     * close_notify: SSL_ERROR_ZERO_RETURN, in the handshake too. */
    if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        int en = errno;
        ssl_reason(why, sizeof(why));
        if (why[0] == '\0' && en != 0) {
            char buf[128];
            snprintf(why, sizeof(why), "%s", strerror_r(en, buf, sizeof(buf)));
        }
        snprintf(err, errlen, "TLS handshake failed: %s",
                 why[0] ? why : "the peer closed the connection");
        return;
    }
    ssl_reason(why, sizeof(why));
    snprintf(err, errlen, "TLS handshake failed: %s", why[0] ? why : "unknown reason");
}

/* After the handshake: the server must have chosen our protocol. */
static int check_alpn(const otel_tls *t, char *err, size_t errlen)
{
    const uint8_t *want = t->x->alpn;
    if (want[0] == 0)
        return OTEL_OK;
    const unsigned char *got = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(t->ssl, &got, &len);
    if (len == want[0] && memcmp(got, want + 1, len) == 0)
        return OTEL_OK;
    snprintf(err, errlen, "the server did not select %.*s by ALPN (%s%.*s)", (int)want[0],
             (const char *)want + 1, len ? "it chose " : "it chose nothing", (int)len,
             len ? (const char *)got : "");
    return OTEL_ERR_IO;
}

/* ---- API ----------------------------------------------------------------- */

int otel_tls_config_check(const otel_tls_config *cfg, otel_tls_setting *bad, char *err,
                          size_t errlen)
{
    otel_tls_setting dummy;
    if (bad == NULL)
        bad = &dummy;
    *bad = OTEL_TLS_NONE;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_INVALID;
    }
    int rc = load(ctx, cfg, bad, err, errlen);
    SSL_CTX_free(ctx);
    return rc;
}

int otel_tls_ctx_new(otel_tls_ctx **out, const otel_tls_config *cfg, const char *alpn, char *err,
                     size_t errlen)
{
    *out = NULL;
    otel_tls_ctx *x = otel_calloc(1, sizeof(*x));
    if (x == NULL || pthread_mutex_init(&x->lock, NULL) != 0) {
        otel_free(x);
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    x->verify = !cfg->no_verify;
    size_t alen = alpn ? strlen(alpn) : 0;
    if (alen > 0 && ((size_t)(uint8_t)alpn[0] + 1 > alen || alen >= sizeof(x->alpn))) {
        snprintf(err, errlen, "bad ALPN protocol list");
        otel_tls_ctx_del(x);
        return OTEL_ERR_INVALID;
    }
    if (alen > 0)
        memcpy(x->alpn, alpn, (size_t)(uint8_t)alpn[0] + 1);
    x->ctx = SSL_CTX_new(TLS_client_method());
    if (x->ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        otel_tls_ctx_del(x);
        return OTEL_ERR_NOMEM;
    }
    SSL_CTX_set_min_proto_version(x->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(x->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* HTTP/2 frames delimit themselves: a close without close_notify is
     * an ordinary end of the connection, not an attack on the data. */
    SSL_CTX_set_options(x->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(x->ctx, x->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(x->ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(x->ctx, on_new_session);
    SSL_CTX_set_app_data(x->ctx, x);
    otel_tls_setting bad;
    int rc = load(x->ctx, cfg, &bad, err, errlen);
    if (rc == OTEL_OK && alen > 0 &&
        SSL_CTX_set_alpn_protos(x->ctx, (const unsigned char *)alpn, (unsigned)alen) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = OTEL_ERR_NOMEM;
    }
    if (rc != OTEL_OK) {
        otel_tls_ctx_del(x);
        return rc;
    }
    *out = x;
    return OTEL_OK;
}

void otel_tls_ctx_del(otel_tls_ctx *x)
{
    if (x == NULL)
        return;
    SSL_SESSION_free(x->session);
    SSL_CTX_free(x->ctx);
    pthread_mutex_destroy(&x->lock);
    otel_free(x);
}

void otel_tls_ctx_after_fork(otel_tls_ctx *x)
{
    if (x == NULL)
        return;
    pthread_mutex_init(&x->lock, NULL);
    SSL_SESSION_free(x->session);
    x->session = NULL;
}

int otel_tls_connect(otel_tls **out, otel_tls_ctx *x, int fd, const char *host, uint64_t deadline,
                     char *err, size_t errlen)
{
    *out = NULL;
    otel_tls *t = otel_calloc(1, sizeof(*t));
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    t->x = x;
    ERR_clear_error();
    t->ssl = SSL_new(x->ctx);
    if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1) {
        snprintf(err, errlen, "out of memory");
        otel_tls_del(t);
        return OTEL_ERR_NOMEM;
    }
    bool ip = is_ip(host);
    int ok = 1;
    if (!ip) /* RFC 6066 section 3: no IP addresses in server_name */
        ok = SSL_set_tlsext_host_name(t->ssl, host);
    if (ok == 1 && x->verify) {
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), host);
        } else {
            SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(t->ssl, host);
        }
    }
    if (ok != 1) {
        snprintf(err, errlen, "out of memory");
        otel_tls_del(t);
        return OTEL_ERR_NOMEM;
    }
    pthread_mutex_lock(&x->lock);
    if (x->session != NULL)
        SSL_set_session(t->ssl, x->session);
    pthread_mutex_unlock(&x->lock);
    SSL_set_connect_state(t->ssl);
    for (;;) {
        ERR_clear_error();
        errno = 0; /* not the EAGAIN of the last round */
        int r = SSL_do_handshake(t->ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(t->ssl, r);
        int rc;
        if (e == SSL_ERROR_WANT_READ)
            rc = wait_fd(fd, POLLIN, deadline, err, errlen);
        else if (e == SSL_ERROR_WANT_WRITE)
            rc = wait_fd(fd, POLLOUT, deadline, err, errlen);
        else {
            handshake_error(t->ssl, r, x->verify, err, errlen);
            rc = OTEL_ERR_IO;
            forget_session(x); /* the next try starts afresh */
        }
        if (rc != OTEL_OK) {
            otel_tls_del(t);
            return rc;
        }
    }
    int rc = check_alpn(t, err, errlen);
    if (rc != OTEL_OK) {
        otel_tls_del(t);
        return rc;
    }
    *out = t;
    return OTEL_OK;
}

void otel_tls_del(otel_tls *t)
{
    if (t == NULL)
        return;
    /* No SSL_shutdown: no close_notify goes out (after a fork the socket is
     * the parent's). The connection is marked as shut down all the same:
     * SSL_free takes one closed without a shutdown for a broken one and
     * marks its session unresumable, and that session is the one kept for
     * the next connection (the last a server gave). A connection that did
     * break (a fatal alert) had its session marked then. */
    if (t->ssl != NULL)
        SSL_set_shutdown(t->ssl, SSL_get_shutdown(t->ssl) | SSL_SENT_SHUTDOWN);
    SSL_free(t->ssl);
    otel_free(t);
}

bool otel_tls_resumed(const otel_tls *t)
{
    return SSL_session_reused(t->ssl) == 1;
}

/* The result of an SSL_read or SSL_write that returned r <= 0. */
static ssize_t io_result(otel_tls *t, int r, const char *what, char *err, size_t errlen)
{
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return OTEL_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return OTEL_TLS_WANT_WRITE;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    char why[256];
    int en = errno;
    ssl_reason(why, sizeof(why));
    if (why[0] == '\0' && e == SSL_ERROR_SYSCALL) {
        if (en == 0)
            return 0;
        char buf[128];
        snprintf(why, sizeof(why), "%s", strerror_r(en, buf, sizeof(buf)));
    }
    snprintf(err, errlen, "TLS %s failed: %s", what, why[0] ? why : "unknown reason");
    return OTEL_ERR_IO;
}

ssize_t otel_tls_read(otel_tls *t, void *buf, size_t len, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0)
        return r;
    return io_result(t, r, "read", err, errlen);
}

ssize_t otel_tls_write(otel_tls *t, const void *buf, size_t len, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0)
        return r;
    return io_result(t, r, "write", err, errlen);
}

size_t otel_tls_pending(const otel_tls *t)
{
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : 0;
}
