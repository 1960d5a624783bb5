/* h2.c - an HTTP/2 client connection: TCP socket, nghttp2 client session fed
 * through nghttp2_session_mem_recv/mem_send, and a poll loop bounded by a
 * deadline. */
#include "h2.h"

#include "../core/alloc.h"
#include "retry.h"

#include <nghttp2/nghttp2.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define H2_READ_CHUNK 16384
#define H2_OUT_HIGH (64 * 1024)           /* stop asking nghttp2 for output */
#define H2_DATA_MAX (16 * 1024 * 1024)    /* largest response body kept */
#define H2_FIELDS_MAX (64 * 1024)         /* response header list limit */
#define H2_STREAM_WINDOW (1024 * 1024)    /* our per-stream receive window */
#define H2_CONN_WINDOW (16 * 1024 * 1024) /* our connection receive window */
#define H2_READS_PER_WAKEUP 64

struct otel_h2 {
    otel_h2_endpoint ep;
    int fd;                /* -1 when not connected */
    nghttp2_session *sess; /* NULL when not connected */
    uint64_t connects;

    /* Output taken from nghttp2 and not yet by the socket:
     * out[out_off..out_len), owned. */
    uint8_t *out;
    size_t out_off, out_len, out_cap;

    /* The request in flight. body is borrowed for otel_h2_send_request only. */
    int32_t stream_id; /* 0: none */
    const uint8_t *body;
    size_t body_len, body_off;
    bool stream_closed;
    uint32_t close_error;
    bool remote_ended; /* the peer sent END_STREAM on our stream */
    bool goaway;       /* the peer sent GOAWAY: no new streams here */
    uint32_t goaway_error;
    bool eof; /* the peer closed the TCP connection */

    /* The last response: status, fields ("name\0value\0" pairs) and DATA,
     * owned, reused by every request. */
    int status;
    char *fields;
    size_t fields_len, fields_cap;
    bool fields_too_big;
    uint8_t *data;
    size_t data_len, data_cap;
    bool data_too_big;
    bool nomem; /* a response buffer could not grow */

    char err[256];
};

/* ---- helpers: small things ---------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void set_err(otel_h2 *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
}

static const char *errno_str(int e, char *buf, size_t cap)
{
    /* The GNU strerror_r (we build with _GNU_SOURCE). */
    return strerror_r(e, buf, cap);
}

static void set_errno_err(otel_h2 *c, const char *what, int e)
{
    char buf[128];
    set_err(c, "%s %s: %s", what, c->ep.authority, errno_str(e, buf, sizeof(buf)));
}

/* Grow *buf (cap *cap) to hold need bytes, doubling; contents kept. */
static int grow(void **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return OTEL_OK;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    void *p = otel_realloc(*buf, n);
    if (p == NULL)
        return OTEL_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return OTEL_OK;
}

static int map_ng_err(int rv)
{
    return rv == NGHTTP2_ERR_NOMEM ? OTEL_ERR_NOMEM : OTEL_ERR_IO;
}

/* ---- helpers: endpoint --------------------------------------------------- */

static bool host_char_ok(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_';
}

/* Parse the "[:PORT][/]" after the host into out->port. */
static int parse_port_rest(const char *p, otel_h2_endpoint *out, char *err, size_t errlen,
                           const char *url)
{
    if (*p == ':') {
        p++;
        unsigned long v = 0;
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9' && n < 6) {
            v = v * 10 + (unsigned long)(p[n] - '0');
            n++;
        }
        if (n == 0 || n > 5 || v == 0 || v > 65535) {
            snprintf(err, errlen, "endpoint \"%s\": the port must be a number in 1..65535", url);
            return OTEL_ERR_INVALID;
        }
        snprintf(out->port, sizeof(out->port), "%lu", v);
        p += n;
    } else {
        snprintf(out->port, sizeof(out->port), "%s", OTEL_H2_DEFAULT_PORT);
    }
    if (*p == '/')
        p++;
    if (*p != '\0') {
        snprintf(err, errlen,
                 "endpoint \"%s\": unexpected \"%s\" (OTLP/gRPC takes http://HOST:PORT, no path)",
                 url, p);
        return OTEL_ERR_INVALID;
    }
    return OTEL_OK;
}

/* ---- helpers: connection buffers ---------------------------------------- */

static void response_reset(otel_h2 *c)
{
    c->status = 0;
    c->fields_len = 0;
    c->fields_too_big = false;
    c->data_len = 0;
    c->data_too_big = false;
    c->nomem = false;
    c->stream_id = 0;
    c->stream_closed = false;
    c->close_error = 0;
    c->remote_ended = false;
    c->body = NULL;
    c->body_len = 0;
    c->body_off = 0;
}

static int out_append(otel_h2 *c, const uint8_t *p, size_t n)
{
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (n > SIZE_MAX - c->out_len)
        return OTEL_ERR_NOMEM;
    void *buf = c->out;
    if (grow(&buf, &c->out_cap, c->out_len + n) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    c->out = buf;
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return OTEL_OK;
}

static bool out_pending(const otel_h2 *c)
{
    return c->out_off < c->out_len;
}

static void fields_add(otel_h2 *c, const uint8_t *name, size_t nlen, const uint8_t *value,
                       size_t vlen)
{
    size_t need = nlen + vlen + 2;
    if (c->fields_too_big || c->nomem || need > H2_FIELDS_MAX - c->fields_len) {
        c->fields_too_big = true;
        return;
    }
    void *buf = c->fields;
    if (grow(&buf, &c->fields_cap, c->fields_len + need) != OTEL_OK) {
        c->nomem = true;
        return;
    }
    c->fields = buf;
    char *d = c->fields + c->fields_len;
    memcpy(d, name, nlen);
    d[nlen] = '\0';
    memcpy(d + nlen + 1, value, vlen);
    d[nlen + 1 + vlen] = '\0';
    c->fields_len += need;
}

/* ---- nghttp2 callbacks -------------------------------------------------- */

static ssize_t body_read_cb(nghttp2_session *sess, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)sess;
    (void)stream_id;
    (void)source;
    otel_h2 *c = user_data;
    size_t left = c->body_len - c->body_off;
    size_t n = left < length ? left : length;
    if (n > 0)
        memcpy(buf, c->body + c->body_off, n);
    c->body_off += n;
    if (c->body_off == c->body_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int on_header_cb(nghttp2_session *sess, const nghttp2_frame *frame, const uint8_t *name,
                        size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                        void *user_data)
{
    (void)sess;
    (void)flags;
    otel_h2 *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != c->stream_id)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        int v = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            v = v * 10 + (value[i] - '0');
        if (v >= 200) /* a 1xx is interim: the final status follows */
            c->status = v;
        return 0;
    }
    fields_add(c, name, namelen, value, valuelen);
    return 0;
}

static int on_data_chunk_cb(nghttp2_session *sess, uint8_t flags, int32_t stream_id,
                            const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    otel_h2 *c = user_data;
    if (stream_id != c->stream_id || c->data_too_big || c->nomem)
        return 0;
    void *buf = c->data;
    if (len > H2_DATA_MAX - c->data_len)
        c->data_too_big = true;
    else if (grow(&buf, &c->data_cap, c->data_len + len) != OTEL_OK)
        c->nomem = true;
    if (c->data_too_big || c->nomem) {
        nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        return 0;
    }
    c->data = buf;
    memcpy(c->data + c->data_len, data, len);
    c->data_len += len;
    return 0;
}

static int on_frame_recv_cb(nghttp2_session *sess, const nghttp2_frame *frame, void *user_data)
{
    (void)sess;
    otel_h2 *c = user_data;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = true;
        c->goaway_error = frame->goaway.error_code;
        return 0;
    }
    if (frame->hd.stream_id == c->stream_id && c->stream_id != 0 &&
        (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        c->remote_ended = true;
    return 0;
}

static int on_stream_close_cb(nghttp2_session *sess, int32_t stream_id, uint32_t error_code,
                              void *user_data)
{
    (void)sess;
    otel_h2 *c = user_data;
    if (stream_id == c->stream_id && c->stream_id != 0) {
        c->stream_closed = true;
        c->close_error = error_code;
    }
    return 0;
}

/* ---- connection --------------------------------------------------------- */

static void conn_close(otel_h2 *c)
{
    if (c->sess != NULL) {
        nghttp2_session_del(c->sess);
        c->sess = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->out_off = c->out_len = 0;
    c->goaway = false;
    c->goaway_error = 0;
    c->eof = false;
}

/* Wait for a non-blocking connect on fd to finish, up to deadline. */
static int wait_connected(otel_h2 *c, int fd, uint64_t deadline)
{
    for (;;) {
        uint64_t now = otel_retry_monotonic_ns();
        if (now >= deadline) {
            set_err(c, "connect %s: timed out", c->ep.authority);
            return OTEL_ERR_TIMEOUT;
        }
        uint64_t ms = (deadline - now + 999999) / 1000000;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_errno_err(c, "connect", errno);
            return OTEL_ERR_IO;
        }
        if (r == 0)
            continue;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            soerr = errno;
        if (soerr != 0) {
            set_errno_err(c, "connect", soerr);
            return OTEL_ERR_IO;
        }
        return OTEL_OK;
    }
}

/* Connect a non-blocking TCP socket to ai. Returns 0 with c->fd set. */
static int tcp_connect(otel_h2 *c, const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        set_errno_err(c, "socket for", errno);
        return OTEL_ERR_IO;
    }
    int rc = OTEL_OK;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno == EINPROGRESS || errno == EINTR) {
            rc = wait_connected(c, fd, deadline);
        } else {
            set_errno_err(c, "connect", errno);
            rc = OTEL_ERR_IO;
        }
    }
    if (rc != OTEL_OK) {
        close(fd);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    return OTEL_OK;
}

/* A client session on c->fd with our SETTINGS queued (the connection
 * preface goes out with the first mem_send). */
static int session_open(otel_h2 *c)
{
    nghttp2_session_callbacks *cbs;
    int rv = nghttp2_session_callbacks_new(&cbs);
    if (rv != 0)
        return map_ng_err(rv);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header_cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv_cb);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close_cb);
    rv = nghttp2_session_client_new(&c->sess, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
        c->sess = NULL;
        return map_ng_err(rv);
    }
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_FIELDS_MAX},
    };
    rv = nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
    if (rv == 0)
        rv = nghttp2_session_set_local_window_size(c->sess, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
    if (rv != 0) {
        nghttp2_session_del(c->sess);
        c->sess = NULL;
        return map_ng_err(rv);
    }
    return OTEL_OK;
}

/* Resolve, connect (each address in turn) and start the session. */
static int conn_open(otel_h2 *c, uint64_t deadline)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    struct addrinfo *res = NULL;
    int g = getaddrinfo(c->ep.host, c->ep.port, &hints, &res);
    if (g != 0) {
        set_err(c, "resolve %s: %s", c->ep.host, gai_strerror(g));
        return g == EAI_MEMORY ? OTEL_ERR_NOMEM : OTEL_ERR_IO;
    }
    int rc = OTEL_ERR_IO;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        rc = tcp_connect(c, ai, deadline);
        if (rc == OTEL_OK || rc == OTEL_ERR_TIMEOUT)
            break;
    }
    freeaddrinfo(res);
    if (rc != OTEL_OK)
        return rc;
    rc = session_open(c);
    if (rc != OTEL_OK) {
        set_err(c, "HTTP/2 session for %s: %s", c->ep.authority, otel_strerror(rc));
        conn_close(c);
        return rc;
    }
    c->connects++;
    return OTEL_OK;
}

/* Hand nghttp2's output to the socket until it is all sent or the socket is
 * full. Returns 0 (check out_pending) or a negative code. */
static int conn_flush(otel_h2 *c)
{
    for (;;) {
        while (c->out_len - c->out_off < H2_OUT_HIGH) {
            const uint8_t *p;
            ssize_t n = nghttp2_session_mem_send(c->sess, &p);
            if (n < 0) {
                set_err(c, "HTTP/2 to %s: %s", c->ep.authority, nghttp2_strerror((int)n));
                return map_ng_err((int)n);
            }
            if (n == 0)
                break;
            if (out_append(c, p, (size_t)n) != OTEL_OK)
                return OTEL_ERR_NOMEM;
        }
        if (!out_pending(c)) {
            c->out_off = c->out_len = 0;
            return OTEL_OK;
        }
        ssize_t w =
            send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return OTEL_OK;
            set_errno_err(c, "write to", errno);
            return OTEL_ERR_IO;
        }
        c->out_off += (size_t)w;
    }
}

/* Read what the socket holds into the session. Returns 0, or OTEL_ERR_IO
 * when the peer closed (c->eof) or the read or the session failed. */
static int conn_read(otel_h2 *c)
{
    uint8_t buf[H2_READ_CHUNK];
    for (int i = 0; i < H2_READS_PER_WAKEUP; i++) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return OTEL_OK;
            set_errno_err(c, "read from", errno);
            return OTEL_ERR_IO;
        }
        if (n == 0) {
            c->eof = true;
            set_err(c, "%s closed the connection", c->ep.authority);
            return OTEL_ERR_IO;
        }
        ssize_t r = nghttp2_session_mem_recv(c->sess, buf, (size_t)n);
        if (r < 0) {
            set_err(c, "HTTP/2 from %s: %s", c->ep.authority, nghttp2_strerror((int)r));
            return map_ng_err((int)r);
        }
    }
    return OTEL_OK;
}

/* True when nghttp2 has nothing more to do on this connection. */
static bool session_done(const otel_h2 *c)
{
    return !nghttp2_session_want_read(c->sess) && !nghttp2_session_want_write(c->sess) &&
           !out_pending(c);
}

/* Before reusing an idle connection: take in what the peer sent meanwhile
 * (a GOAWAY, a close) without waiting, and drop the connection if it is no
 * longer usable. */
static void conn_check_idle(otel_h2 *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, 0);
    if (r > 0 && conn_read(c) != OTEL_OK) {
        conn_close(c);
        return;
    }
    if (conn_flush(c) != OTEL_OK || c->goaway || session_done(c))
        conn_close(c);
}

/* Drive the session until our stream closes or deadline passes. */
static int conn_run(otel_h2 *c, uint64_t deadline)
{
    for (;;) {
        int rc = conn_flush(c);
        if (rc == OTEL_ERR_IO && !c->stream_closed) {
            /* The peer may have answered (or sent GOAWAY) before it went
             * away: what it said is still in our receive buffer. */
            (void)conn_read(c);
        }
        if (rc != OTEL_OK)
            return c->stream_closed ? OTEL_OK : rc;
        if (c->stream_closed)
            return OTEL_OK;
        if (session_done(c)) {
            set_err(c, "%s ended the session (GOAWAY) before answering", c->ep.authority);
            return OTEL_ERR_IO;
        }
        uint64_t now = otel_retry_monotonic_ns();
        if (now >= deadline) {
            set_err(c, "no answer from %s before the deadline", c->ep.authority);
            return OTEL_ERR_TIMEOUT;
        }
        uint64_t ms = (deadline - now + 999999) / 1000000;
        struct pollfd p = {.fd = c->fd, .events = POLLIN | (out_pending(c) ? POLLOUT : 0)};
        int r = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            set_errno_err(c, "poll on", errno);
            return OTEL_ERR_IO;
        }
        if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            rc = conn_read(c);
            if (rc != OTEL_OK)
                return c->stream_closed ? OTEL_OK : rc;
        }
    }
}

/* Submit req on the open session; *sid gets the stream id. */
static int submit(otel_h2 *c, const otel_h2_request *req, int32_t *sid)
{
    size_t n = 4 + req->n_headers;
    nghttp2_nv *nva = otel_calloc(n, sizeof(*nva));
    if (nva == NULL)
        return OTEL_ERR_NOMEM;
    const char *pseudo[4][2] = {{":method", req->method ? req->method : "POST"},
                                {":scheme", "http"},
                                {":authority", c->ep.authority},
                                {":path", req->path}};
    for (size_t i = 0; i < n; i++) {
        const char *name = i < 4 ? pseudo[i][0] : req->headers[i - 4].name;
        const char *value = i < 4 ? pseudo[i][1] : req->headers[i - 4].value;
        nva[i].name = (uint8_t *)(uintptr_t)name;
        nva[i].namelen = strlen(name);
        nva[i].value = (uint8_t *)(uintptr_t)value;
        nva[i].valuelen = strlen(value);
        nva[i].flags = NGHTTP2_NV_FLAG_NONE;
    }
    nghttp2_data_provider prd;
    memset(&prd, 0, sizeof(prd));
    prd.source.ptr = c;
    prd.read_callback = body_read_cb;
    int32_t rv = nghttp2_submit_request(c->sess, NULL, nva, n, req->body ? &prd : NULL, c);
    otel_free(nva);
    if (rv < 0) {
        set_err(c, "HTTP/2 request to %s: %s", c->ep.authority, nghttp2_strerror(rv));
        return rv == NGHTTP2_ERR_NOMEM ? OTEL_ERR_NOMEM : OTEL_ERR_STATE;
    }
    *sid = rv;
    return OTEL_OK;
}

/* Turn a closed stream into the request's result. */
static int stream_result(otel_h2 *c, otel_h2_response *resp)
{
    resp->status = c->status;
    resp->data = c->data;
    resp->data_len = c->data_len;
    if (c->nomem) {
        set_err(c, "out of memory reading the response from %s", c->ep.authority);
        return OTEL_ERR_NOMEM;
    }
    if (c->data_too_big || c->fields_too_big) {
        /* Not worth retrying: reported as an internal error. */
        set_err(c, "response from %s too large (over %d bytes of %s)", c->ep.authority,
                c->data_too_big ? H2_DATA_MAX : H2_FIELDS_MAX,
                c->data_too_big ? "DATA" : "header fields");
        resp->reset = true;
        resp->reset_error = NGHTTP2_INTERNAL_ERROR;
        return OTEL_ERR_IO;
    }
    if (c->close_error != NGHTTP2_NO_ERROR || !c->remote_ended || c->status == 0) {
        resp->reset = true;
        resp->reset_error = c->close_error;
        set_err(c, "%s reset the stream (%s)", c->ep.authority,
                nghttp2_http2_strerror(c->close_error));
        return OTEL_ERR_IO;
    }
    return OTEL_OK;
}

/* ---- API ---------------------------------------------------------------- */

int otel_h2_endpoint_parse(const char *url, otel_h2_endpoint *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (errlen > 0)
        err[0] = '\0';
    if (url == NULL || url[0] == '\0') {
        snprintf(err, errlen, "endpoint is empty");
        return OTEL_ERR_INVALID;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        snprintf(err, errlen,
                 "endpoint \"%s\": https:// needs TLS, which this exporter does not support yet; "
                 "use http://",
                 url);
        return OTEL_ERR_UNSUPPORTED;
    }
    if (strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "endpoint \"%s\": must start with http://", url);
        return OTEL_ERR_INVALID;
    }
    const char *p = url + 7;
    const char *rest;
    bool v6 = false;
    size_t hlen;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        hlen = end ? (size_t)(end - p - 1) : 0;
        if (end == NULL || hlen == 0 || hlen >= sizeof(out->host)) {
            snprintf(err, errlen, "endpoint \"%s\": bad IPv6 address in brackets", url);
            return OTEL_ERR_INVALID;
        }
        memcpy(out->host, p + 1, hlen);
        out->host[hlen] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, out->host, &a6) != 1) {
            snprintf(err, errlen, "endpoint \"%s\": \"%s\" is not an IPv6 address", url, out->host);
            return OTEL_ERR_INVALID;
        }
        v6 = true;
        rest = end + 1;
    } else {
        hlen = 0;
        while (p[hlen] != '\0' && p[hlen] != ':' && p[hlen] != '/') {
            if (!host_char_ok(p[hlen])) {
                snprintf(err, errlen, "endpoint \"%s\": bad character '%c' in the host", url,
                         p[hlen]);
                return OTEL_ERR_INVALID;
            }
            hlen++;
        }
        if (hlen == 0 || hlen > 253) {
            snprintf(err, errlen, "endpoint \"%s\": %s host", url, hlen ? "too long a" : "no");
            return OTEL_ERR_INVALID;
        }
        memcpy(out->host, p, hlen);
        out->host[hlen] = '\0';
        rest = p + hlen;
    }
    int rc = parse_port_rest(rest, out, err, errlen, url);
    if (rc != OTEL_OK)
        return rc;
    snprintf(out->authority, sizeof(out->authority), v6 ? "[%s]:%s" : "%s:%s", out->host,
             out->port);
    return OTEL_OK;
}

int otel_h2_new(otel_h2 **out, const otel_h2_endpoint *ep)
{
    *out = NULL;
    otel_h2 *c = otel_calloc(1, sizeof(*c));
    if (c == NULL)
        return OTEL_ERR_NOMEM;
    c->ep = *ep;
    c->fd = -1;
    *out = c;
    return OTEL_OK;
}

void otel_h2_del(otel_h2 *c)
{
    if (c == NULL)
        return;
    conn_close(c);
    otel_free(c->out);
    otel_free(c->fields);
    otel_free(c->data);
    otel_free(c);
}

void otel_h2_close(otel_h2 *c)
{
    conn_close(c);
}

bool otel_h2_is_connected(const otel_h2 *c)
{
    return c->sess != NULL;
}

uint64_t otel_h2_connects(const otel_h2 *c)
{
    return c->connects;
}

int otel_h2_send_request(otel_h2 *c, const otel_h2_request *req, uint64_t deadline_ns,
                         otel_h2_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    response_reset(c);
    c->err[0] = '\0';
    if (c->sess != NULL)
        conn_check_idle(c);
    int32_t sid = 0;
    int rc = OTEL_ERR_STATE;
    /* A second try on a fresh connection when the old one takes no new
     * stream (ids used up, a GOAWAY that came in meanwhile). */
    for (int tries = 0; tries < 2 && rc == OTEL_ERR_STATE; tries++) {
        if (c->sess == NULL) {
            rc = conn_open(c, deadline_ns);
            if (rc != OTEL_OK)
                return rc;
        }
        rc = submit(c, req, &sid);
        if (rc == OTEL_ERR_STATE)
            conn_close(c);
    }
    if (rc != OTEL_OK)
        return rc == OTEL_ERR_STATE ? OTEL_ERR_IO : rc;
    c->err[0] = '\0'; /* whatever an idle check or a retired connection said */
    c->stream_id = sid;
    c->body = req->body;
    c->body_len = req->body ? req->body_len : 0;
    rc = conn_run(c, deadline_ns);
    if (rc == OTEL_OK)
        rc = stream_result(c, resp);
    else {
        resp->status = c->status;
        conn_close(c); /* the connection failed, or we give up on it */
    }
    c->body = NULL;
    c->stream_id = 0;
    if (c->sess != NULL && (c->goaway || c->eof || session_done(c)))
        conn_close(c);
    return rc;
}

const char *otel_h2_response_field(const otel_h2 *c, const char *name)
{
    const char *found = NULL;
    size_t i = 0;
    while (i < c->fields_len) {
        const char *n = c->fields + i;
        size_t nl = strlen(n);
        const char *v = n + nl + 1;
        if (strcmp(n, name) == 0)
            found = v;
        i += nl + strlen(v) + 2;
    }
    return found;
}

const char *otel_h2_error(const otel_h2 *c)
{
    return c->err;
}
