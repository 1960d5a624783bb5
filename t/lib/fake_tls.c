/* fake_tls.c - the in-process TLS server of the unit tests (OpenSSL's server API). */
#include "fake_tls.h"
#include "itest_int.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A connection's reads give up after this long: a safeguard against a test
 * that keeps its client open, never a wait the tests rely on. */
#define FAKE_TLS_IO_TIMEOUT_S 10

struct fake_tls {
    fake_tls_config cfg;
    SSL_CTX *ctx;
    int listen_fd;
    int stop_pipe[2];
    uint16_t port;
    pthread_t thread;
    bool started;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* signalled when a connection ends */
    size_t n_done;
    fake_tls_conn rec[FAKE_TLS_CONNS_MAX];
};

/* ---- helpers: the context ------------------------------------------------ */

/* OpenSSL's reason for the last error of this thread's queue into buf. */
static void ssl_reason(char *buf, size_t cap)
{
    unsigned long e, last = 0;

    while ((e = ERR_get_error()) != 0)
        last = e;
    buf[0] = '\0';
    if (last != 0)
        ERR_error_string_n(last, buf, cap);
}

/* ALPN: select the configured protocol when the client offers it. */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                   const unsigned char *in, unsigned int inlen, void *arg)
{
    const fake_tls *s = arg;
    const char *want = s->cfg.alpn;
    size_t wlen;

    (void)ssl;
    if (want == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    wlen = strlen(want);
    for (unsigned int i = 0; i < inlen;) {
        unsigned int n = in[i];

        if (i + 1 + n > inlen)
            break;
        if (n == wlen && memcmp(in + i + 1, want, n) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)n;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

/* The server context of s->cfg. Returns 0 or -1 after printing why. */
static int make_ctx(fake_tls *s)
{
    const fake_tls_config *c = &s->cfg;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    static const unsigned char sid_ctx[] = "fake_tls";
    char why[256];

    if (ctx == NULL)
        goto fail;
    s->ctx = ctx;
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (c->max_version != 0 && SSL_CTX_set_max_proto_version(ctx, c->max_version) != 1)
        goto fail;
    if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1)
        goto fail;
    if (c->client_ca != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->client_ca);

        if (names == NULL || SSL_CTX_load_verify_locations(ctx, c->client_ca, NULL) != 1) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    if (!c->tickets) {
        /* No ticket of either kind (TLS 1.3 stateful ones included) and no
         * session ID cache for TLS 1.2. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        if (SSL_CTX_set_num_tickets(ctx, 0) != 1)
            goto fail;
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, s);
    return 0;
fail:
    ssl_reason(why, sizeof(why));
    fprintf(stderr, "fake_tls: cannot make the server context: %s\n", why);
    return -1;
}

/* ---- helpers: one connection --------------------------------------------- */

/* Read exactly n bytes from fd. Returns 0 or -1. */
static int read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Read one TLS record from fd and drop it. */
static void read_record(int fd)
{
    uint8_t head[5];
    uint8_t body[1 << 14];

    if (read_full(fd, head, sizeof(head)) != 0)
        return;
    size_t len = (size_t)head[3] << 8 | head[4];
    while (len > 0) {
        size_t n = len < sizeof(body) ? len : sizeof(body);

        if (read_full(fd, body, n) != 0)
            return;
        len -= n;
    }
}

/* Read and drop what comes on fd until the client closes (so that closing
 * fd sends a FIN, not a reset that could overtake an alert). */
static void drain(int fd)
{
    char buf[4096];

    for (;;) {
        ssize_t r = read(fd, buf, sizeof(buf));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
    }
}

/* Write all n bytes. Returns 0 or -1. */
static int write_all(SSL *ssl, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        int w = SSL_write(ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void serve_echo(SSL *ssl, fake_tls_conn *rec)
{
    char buf[16384];

    for (;;) {
        int n = SSL_read(ssl, buf, sizeof(buf));

        if (n <= 0)
            return;
        rec->bytes_in += (size_t)n;
        if (write_all(ssl, buf, (size_t)n) != 0)
            return;
    }
}

/* The Content-Length of the request head h (len bytes); 0 when absent. */
static size_t content_length(const char *h, size_t len)
{
    static const char name[] = "\r\ncontent-length:";
    size_t nlen = sizeof(name) - 1;

    for (size_t i = 0; i + nlen <= len; i++) {
        if (strncasecmp(h + i, name, nlen) == 0) {
            size_t v = 0;

            for (i += nlen; i < len && h[i] == ' '; i++)
                ;
            for (; i < len && h[i] >= '0' && h[i] <= '9'; i++)
                v = v * 10 + (size_t)(h[i] - '0');
            return v;
        }
    }
    return 0;
}

/* Answer HTTP/1.1 requests on ssl until the client closes. */
static void serve_http(SSL *ssl, fake_tls_conn *rec)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: application/x-protobuf\r\n"
                               "Content-Length: 0\r\n"
                               "\r\n";
    char buf[16384];
    size_t have = 0;

    for (;;) {
        char *end;

        while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
            int n;

            if (have == sizeof(buf))
                return;
            n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        size_t head = (size_t)(end - buf) + 4;
        size_t body = content_length(buf, head);
        size_t keep = head < sizeof(rec->request) ? head : sizeof(rec->request) - 1;

        memcpy(rec->request, buf, keep);
        rec->request[keep] = '\0';
        rec->bytes_in += body;
        if (have - head >= body) {
            memmove(buf, buf + head + body, have - head - body);
            have -= head + body;
        } else {
            size_t left = body - (have - head);

            have = 0;
            while (left > 0) {
                int n = SSL_read(ssl, buf, (int)(left < sizeof(buf) ? left : sizeof(buf)));

                if (n <= 0)
                    return;
                left -= (size_t)n;
            }
        }
        if (write_all(ssl, resp, sizeof(resp) - 1) != 0)
            return;
        rec->requests++;
    }
}

/* What the handshake of ssl settled, into rec. */
static void record_handshake(SSL *ssl, fake_tls_conn *rec)
{
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const unsigned char *alpn = NULL;
    unsigned int alen = 0;
    X509 *peer = SSL_get1_peer_certificate(ssl);

    rec->handshake_ok = true;
    snprintf(rec->servername, sizeof(rec->servername), "%s", sni != NULL ? sni : "");
    rec->resumed = SSL_session_reused(ssl) == 1;
    SSL_get0_alpn_selected(ssl, &alpn, &alen);
    snprintf(rec->alpn, sizeof(rec->alpn), "%.*s", (int)alen, alen ? (const char *)alpn : "");
    snprintf(rec->version, sizeof(rec->version), "%s", SSL_get_version(ssl));
    if (peer != NULL) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, rec->client_cn,
                                  (int)sizeof(rec->client_cn));
        X509_free(peer);
    }
}

/* Serve the accepted socket fd as s->cfg says; rec gets what it saw. */
static void serve(fake_tls *s, int fd, fake_tls_conn *rec)
{
    struct timeval tv = {.tv_sec = FAKE_TLS_IO_TIMEOUT_S};
    SSL *ssl;

    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (s->cfg.mode == FAKE_TLS_HANGUP) {
        read_record(fd);
        snprintf(rec->err, sizeof(rec->err), "hung up after the ClientHello");
        return;
    }
    ssl = SSL_new(s->ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        snprintf(rec->err, sizeof(rec->err), "out of memory");
        SSL_free(ssl);
        return;
    }
    ERR_clear_error();
    if (SSL_accept(ssl) != 1) {
        ssl_reason(rec->err, sizeof(rec->err));
        drain(fd);
        SSL_free(ssl);
        return;
    }
    record_handshake(ssl, rec);
    switch (s->cfg.mode) {
    case FAKE_TLS_ECHO:
        serve_echo(ssl, rec);
        break;
    case FAKE_TLS_SHUTDOWN:
        (void)SSL_shutdown(ssl);
        break;
    case FAKE_TLS_HTTP:
        serve_http(ssl, rec);
        break;
    default:
        break;
    }
    ERR_clear_error();
    SSL_free(ssl);
}

static void *run(void *arg)
{
    fake_tls *s = arg;

    for (;;) {
        struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
                              {.fd = s->stop_pipe[0], .events = POLLIN}};
        fake_tls_conn rec;
        int fd;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents != 0)
            break;
        fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        memset(&rec, 0, sizeof(rec));
        serve(s, fd, &rec);
        close(fd);
        pthread_mutex_lock(&s->lock);
        if (s->n_done < FAKE_TLS_CONNS_MAX)
            s->rec[s->n_done] = rec;
        s->n_done++;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    ERR_clear_error();
    OPENSSL_thread_stop();
    return NULL;
}

/* ---- API ----------------------------------------------------------------- */

fake_tls *fake_tls_start(const fake_tls_config *cfg)
{
    fake_tls *s = calloc(1, sizeof(*s));
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    int one = 1;

    if (s == NULL)
        return NULL;
    signal(SIGPIPE, SIG_IGN);
    s->cfg = *cfg;
    s->listen_fd = -1;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    itest_cond_init_mono(&s->cond);
    if (make_ctx(s) != 0)
        goto fail;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0 ||
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(s->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        listen(s->listen_fd, 16) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&sin, &slen) != 0 ||
        pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
        fprintf(stderr, "fake_tls: cannot listen: %s\n", strerror(errno));
        goto fail;
    }
    s->port = ntohs(sin.sin_port);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        fprintf(stderr, "fake_tls: cannot start its thread\n");
        goto fail;
    }
    s->started = true;
    return s;
fail:
    fake_tls_stop(s);
    return NULL;
}

void fake_tls_stop(fake_tls *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        ssize_t w;

        do
            w = write(s->stop_pipe[1], "x", 1);
        while (w < 0 && errno == EINTR);
        pthread_join(s->thread, NULL);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_pipe[0] >= 0)
        close(s->stop_pipe[0]);
    if (s->stop_pipe[1] >= 0)
        close(s->stop_pipe[1]);
    SSL_CTX_free(s->ctx);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

uint16_t fake_tls_port(const fake_tls *s)
{
    return s->port;
}

bool fake_tls_wait(fake_tls *s, size_t n, int timeout_ms)
{
    bool ok;

    pthread_mutex_lock(&s->lock);
    ok = itest_cond_wait_count(&s->cond, &s->lock, &s->n_done, n, timeout_ms);
    pthread_mutex_unlock(&s->lock);
    return ok;
}

size_t fake_tls_count(fake_tls *s)
{
    return itest_count_locked(&s->lock, &s->n_done);
}

bool fake_tls_get(fake_tls *s, size_t i, fake_tls_conn *out)
{
    bool ok;

    pthread_mutex_lock(&s->lock);
    ok = i < s->n_done && i < FAKE_TLS_CONNS_MAX;
    if (ok)
        *out = s->rec[i];
    pthread_mutex_unlock(&s->lock);
    return ok;
}
