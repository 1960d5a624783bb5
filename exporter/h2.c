/* h2.c - an HTTP/2 client connection: TCP socket (TLS on it for https://),
 * nghttp2 client session fed through nghttp2_session_mem_recv/mem_send, and
 * a poll loop bounded by a deadline. */
#include "h2.h"

#include "resolve.h"

#include "retry.h"

#include "../core/text.h"

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
#include <sys/uio.h>
#include <unistd.h>
#include "../core/alloc.h"

#define H2_READ_CHUNK 16384
#define H2_OUT_HIGH (64 * 1024)           /* stop asking nghttp2 for output */
#define H2_IOV_MAX 64                     /* pieces of output per sendmsg */
#define H2_FRAME_HD_LEN 9                 /* an HTTP/2 frame header */
#define H2_DATA_MAX (16 * 1024 * 1024)    /* largest response body kept */
#define H2_FIELDS_MAX (64 * 1024)         /* response header list limit */
#define H2_STREAM_WINDOW (1024 * 1024)    /* our per-stream receive window */
#define H2_CONN_WINDOW (16 * 1024 * 1024) /* our connection receive window */
#define H2_READS_PER_WAKEUP 64
#define H2_BUF_MIN 1024     /* the first capacity of a growing buffer */
#define H2_TLS_RECORD 16384 /* output gathered into one TLS record */

/* A stretch of output waiting for the socket: len bytes at ptr, borrowed
 * (a piece of the request body), or, when ptr is NULL, at out + off of the
 * connection's own buffer. */
typedef struct h2_seg {
    const uint8_t *ptr;
    size_t off, len;
} h2_seg;

struct otel_h2 {
    otel_h2_endpoint ep;
    int fd;                /* -1 when not connected */
    nghttp2_session *sess; /* NULL when not connected */
    uint64_t connects;
    uint64_t write_stalls;

    otel_tls_ctx *tls_ctx; /* borrowed; NULL: cleartext only */
    otel_tls *tls;         /* the connection's TLS, NULL when cleartext */
    uint8_t *tls_out;      /* H2_TLS_RECORD bytes: output gathered for SSL_write */
    bool tls_failed;       /* the last connect failed in the TLS handshake */
    bool h2_in;            /* the peer has sent HTTP/2 bytes on this connection */
    uint64_t tls_resumed;

    /* Output nghttp2 has handed over and the socket has not taken yet, in
     * order: segs[seg_head..n_segs), the first written up to head_done;
     * q_bytes in all. The frames nghttp2 serialises (HEADERS, SETTINGS,
     * WINDOW_UPDATE, DATA frame headers) are copied into out; DATA payloads
     * are referenced where the caller keeps them (NGHTTP2_DATA_FLAG_NO_COPY),
     * and one sendmsg writes many frames. Owned arrays, reused. */
    uint8_t *out;
    size_t out_len, out_cap;
    h2_seg *segs;
    size_t n_segs, seg_cap, seg_head, head_done, q_bytes;
    bool q_nomem; /* a DATA frame could not be queued: the session failed */

    nghttp2_nv *nva; /* the request's header list, owned, reused */
    size_t nva_cap;

    /* The request in flight. The body pieces are borrowed for
     * otel_h2_send_request only; body_off bytes of them have been handed to
     * nghttp2. */
    int32_t stream_id; /* 0: none */
    otel_h2_buf body[OTEL_H2_BODY_PIECES_MAX];
    size_t n_body;
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

/* Copy the host of hp into out->host: a bracketed one must be an IPv6
 * address, another a name of host_char_ok characters. */
static int endpoint_host(const otel_hostport *hp, bool split_ok, otel_h2_endpoint *out, char *err,
                         size_t errlen, const char *url)
{
    size_t hlen = hp->host_len;
    if (hp->bracketed) {
        if (!split_ok || hlen == 0 || hlen >= sizeof(out->host)) {
            snprintf(err, errlen, "endpoint \"%s\": bad IPv6 address in brackets", url);
            return OTEL_ERR_INVALID;
        }
        memcpy(out->host, hp->host, hlen);
        out->host[hlen] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, out->host, &a6) != 1) {
            snprintf(err, errlen, "endpoint \"%s\": \"%s\" is not an IPv6 address", url, out->host);
            return OTEL_ERR_INVALID;
        }
        return OTEL_OK;
    }
    for (size_t i = 0; i < hlen; i++) {
        if (!host_char_ok(hp->host[i])) {
            snprintf(err, errlen, "endpoint \"%s\": bad character '%c' in the host", url,
                     hp->host[i]);
            return OTEL_ERR_INVALID;
        }
    }
    if (hlen == 0 || hlen > 253) {
        snprintf(err, errlen, "endpoint \"%s\": %s host", url, hlen ? "too long a" : "no");
        return OTEL_ERR_INVALID;
    }
    memcpy(out->host, hp->host, hlen);
    out->host[hlen] = '\0';
    return OTEL_OK;
}

/* The port of hp into out->port (none: the default), then the "[/]" that
 * may follow the authority at p. */
static int endpoint_port_rest(const otel_hostport *hp, const char *p, otel_h2_endpoint *out,
                              char *err, size_t errlen, const char *url)
{
    if (hp->port != NULL) {
        long v = otel_port_parse(hp->port, hp->port_len);
        if (v < 0) {
            snprintf(err, errlen, "endpoint \"%s\": the port must be a number in 1..65535", url);
            return OTEL_ERR_INVALID;
        }
        snprintf(out->port, sizeof(out->port), "%u", (unsigned)(uint16_t)v); /* v <= 65535 */
    } else {
        snprintf(out->port, sizeof(out->port), "%s", out->tls ? "443" : OTEL_H2_DEFAULT_PORT);
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
    c->n_body = 0;
    c->body_len = 0;
    c->body_off = 0;
}

/* ---- helpers: the output queue ------------------------------------------ */

static void q_clear(otel_h2 *c)
{
    c->out_len = 0;
    c->n_segs = c->seg_head = c->head_done = c->q_bytes = 0;
}

/* Room for nsegs more segments and nbytes more copied bytes. */
static int q_reserve(otel_h2 *c, size_t nsegs, size_t nbytes)
{
    if (nbytes > SIZE_MAX - c->out_len || nsegs > SIZE_MAX / sizeof(h2_seg) - c->n_segs)
        return OTEL_ERR_NOMEM;
    void *buf = c->out;
    if (otel_grow(&buf, &c->out_cap, c->out_len + nbytes, H2_BUF_MIN) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    c->out = buf;
    buf = c->segs;
    size_t cap = c->seg_cap * sizeof(h2_seg);
    if (otel_grow(&buf, &cap, (c->n_segs + nsegs) * sizeof(h2_seg), H2_BUF_MIN) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    c->segs = buf;
    c->seg_cap = cap / sizeof(h2_seg);
    return OTEL_OK;
}

/* Queue a copy of n bytes at p (room reserved), joined to the last
 * segment when that one ends where they go. */
static void q_copy(otel_h2 *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(c->out + c->out_len, p, n);
    h2_seg *last = c->n_segs > c->seg_head ? &c->segs[c->n_segs - 1] : NULL;
    if (last != NULL && last->ptr == NULL && last->off + last->len == c->out_len)
        last->len += n;
    else
        c->segs[c->n_segs++] = (h2_seg){.ptr = NULL, .off = c->out_len, .len = n};
    c->out_len += n;
    c->q_bytes += n;
}

/* Queue n bytes at p, by reference (room reserved). */
static void q_ref(otel_h2 *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    c->segs[c->n_segs++] = (h2_seg){.ptr = p, .off = 0, .len = n};
    c->q_bytes += n;
}

/* Drop the first n queued bytes (written). */
static void q_consume(otel_h2 *c, size_t n)
{
    c->q_bytes -= n;
    while (n > 0) {
        size_t left = c->segs[c->seg_head].len - c->head_done;
        if (n < left) {
            c->head_done += n;
            return;
        }
        n -= left;
        c->seg_head++;
        c->head_done = 0;
    }
    if (c->q_bytes == 0)
        q_clear(c);
}

/* Move what is still queued to the front of segs and out, so that a peer
 * that keeps the socket full does not make them grow. */
static void q_compact(otel_h2 *c)
{
    size_t n = c->n_segs - c->seg_head;
    if (c->seg_head > 0) {
        memmove(c->segs, c->segs + c->seg_head, n * sizeof(h2_seg));
        c->n_segs = n;
        c->seg_head = 0;
    }
    size_t lo = c->out_len;
    for (size_t i = 0; i < n; i++)
        if (c->segs[i].ptr == NULL && c->segs[i].off < lo)
            lo = c->segs[i].off;
    if (lo == 0)
        return;
    memmove(c->out, c->out + lo, c->out_len - lo);
    c->out_len -= lo;
    for (size_t i = 0; i < n; i++)
        if (c->segs[i].ptr == NULL)
            c->segs[i].off -= lo;
}

/* Copy the queued bytes that still point into the request body into out:
 * the body goes back to the caller. */
static int q_own_body(otel_h2 *c)
{
    size_t need = 0;
    for (size_t i = c->seg_head; i < c->n_segs; i++)
        if (c->segs[i].ptr != NULL)
            need += c->segs[i].len;
    if (need == 0)
        return OTEL_OK;
    if (q_reserve(c, 0, need) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    for (size_t i = c->seg_head; i < c->n_segs; i++) {
        h2_seg *sg = &c->segs[i];
        if (sg->ptr == NULL)
            continue;
        memcpy(c->out + c->out_len, sg->ptr, sg->len);
        sg->ptr = NULL;
        sg->off = c->out_len;
        c->out_len += sg->len;
    }
    return OTEL_OK;
}

/* q_write over TLS: the queue's head gathered into records of up to
 * H2_TLS_RECORD bytes (a frame header alone would make a record of its
 * own). A write that must wait is repeated with the same bytes at least,
 * as OpenSSL asks: the queue only grows at its tail meanwhile. */
static int q_write_tls(otel_h2 *c)
{
    while (c->q_bytes > 0) {
        size_t n = 0;
        for (size_t i = c->seg_head; i < c->n_segs && n < H2_TLS_RECORD; i++) {
            const h2_seg *sg = &c->segs[i];
            size_t skip = i == c->seg_head ? c->head_done : 0;
            const uint8_t *base = sg->ptr != NULL ? sg->ptr : c->out + sg->off;
            size_t len = sg->len - skip;
            if (len > H2_TLS_RECORD - n)
                len = H2_TLS_RECORD - n;
            memcpy(c->tls_out + n, base + skip, len);
            n += len;
        }
        char why[200];
        ssize_t w = otel_tls_write(c->tls, c->tls_out, n, why, sizeof(why));
        if (w == OTEL_TLS_WANT_WRITE || w == OTEL_TLS_WANT_READ) {
            c->write_stalls++;
            q_compact(c);
            return OTEL_OK;
        }
        if (w <= 0) {
            c->tls_failed = true;
            set_err(c, "TLS with %s: %s", c->ep.authority, why);
            return OTEL_ERR_IO;
        }
        q_consume(c, (size_t)w);
    }
    return OTEL_OK;
}

/* Write the queue until it is empty or the socket is full (then 0 with
 * c->q_bytes > 0). Returns 0 or OTEL_ERR_IO. */
static int q_write(otel_h2 *c)
{
    if (c->tls != NULL)
        return q_write_tls(c);
    while (c->q_bytes > 0) {
        struct iovec iov[H2_IOV_MAX];
        size_t n = 0;
        for (size_t i = c->seg_head; i < c->n_segs && n < H2_IOV_MAX; i++, n++) {
            const h2_seg *sg = &c->segs[i];
            size_t skip = i == c->seg_head ? c->head_done : 0;
            const uint8_t *base = sg->ptr != NULL ? sg->ptr : c->out + sg->off;
            iov[n].iov_base = (void *)(uintptr_t)(base + skip);
            iov[n].iov_len = sg->len - skip;
        }
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = n};
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->write_stalls++;
                q_compact(c);
                return OTEL_OK;
            }
            set_errno_err(c, "write to", errno);
            return OTEL_ERR_IO;
        }
        q_consume(c, (size_t)w);
    }
    return OTEL_OK;
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
    if (otel_grow(&buf, &c->fields_cap, c->fields_len + need, H2_BUF_MIN) != OTEL_OK) {
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

/* The next DATA frame's payload: its length only; send_data_cb queues the
 * bytes themselves. */
static ssize_t body_read_cb(nghttp2_session *sess, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)sess;
    (void)stream_id;
    (void)buf;
    (void)source;
    otel_h2 *c = user_data;
    size_t left = c->body_len - c->body_off;
    size_t n = left < length ? left : length;
    c->body_off += n;
    *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (c->body_off == c->body_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* A whole DATA frame, queued at once or not at all: its 9-byte header (and
 * padding, which we never ask for) copied, its payload (the length bytes of
 * the body that body_read_cb has just counted) referenced. Once the queue
 * holds H2_OUT_HIGH bytes the frame is refused with
 * NGHTTP2_ERR_WOULDBLOCK: nghttp2_session_mem_send then returns and offers
 * the same frame again on a later call, after conn_flush has written. */
static int send_data_cb(nghttp2_session *sess, nghttp2_frame *frame, const uint8_t *framehd,
                        size_t length, nghttp2_data_source *source, void *user_data)
{
    (void)sess;
    (void)source;
    static const uint8_t zeros[256];
    otel_h2 *c = user_data;
    if (c->q_bytes >= H2_OUT_HIGH)
        return NGHTTP2_ERR_WOULDBLOCK;
    size_t padlen = frame->data.padlen;
    if (length > c->body_off || padlen > sizeof(zeros))
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    if (q_reserve(c, c->n_body + 3, H2_FRAME_HD_LEN + padlen) != OTEL_OK) {
        c->q_nomem = true;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    q_copy(c, framehd, H2_FRAME_HD_LEN);
    if (padlen > 0) {
        uint8_t padfield = (uint8_t)(padlen - 1);
        q_copy(c, &padfield, 1);
    }
    size_t pos = c->body_off - length;
    size_t start = 0;
    for (size_t i = 0; i < c->n_body && length > 0; i++) {
        size_t end = start + c->body[i].len;
        if (pos < end) {
            size_t n = end - pos < length ? end - pos : length;
            q_ref(c, c->body[i].data + (pos - start), n);
            pos += n;
            length -= n;
        }
        start = end;
    }
    if (padlen > 1)
        q_copy(c, zeros, padlen - 1);
    return 0;
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
    else if (otel_grow(&buf, &c->data_cap, c->data_len + len, H2_BUF_MIN) != OTEL_OK)
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
    otel_tls_del(c->tls);
    c->tls = NULL;
    c->h2_in = false;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    q_clear(c);
    c->q_nomem = false;
    c->goaway = false;
    c->goaway_error = 0;
    c->eof = false;
}

/* Wait for a non-blocking connect on fd to finish, up to deadline. */
static int wait_connected(otel_h2 *c, int fd, uint64_t deadline)
{
    for (;;) {
        uint64_t now = otel_mono_ns();
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
    nghttp2_session_callbacks_set_send_data_callback(cbs, send_data_cb);
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

/* The TLS handshake on c->fd, h2 chosen by ALPN. */
static int tls_open(otel_h2 *c, uint64_t deadline)
{
    if (c->tls_ctx == NULL) {
        set_err(c, "https://%s: no TLS context", c->ep.authority);
        return OTEL_ERR_STATE;
    }
    if (c->tls_out == NULL && (c->tls_out = otel_malloc(H2_TLS_RECORD)) == NULL)
        return OTEL_ERR_NOMEM;
    char why[200];
    int rc = otel_tls_connect(&c->tls, c->tls_ctx, c->fd, c->ep.host, deadline, why, sizeof(why));
    if (rc == OTEL_ERR_NOMEM)
        return rc;
    if (rc != OTEL_OK) {
        c->tls_failed = true;
        set_err(c, "TLS with %s: %s", c->ep.authority, why);
        return rc;
    }
    if (otel_tls_resumed(c->tls))
        c->tls_resumed++;
    return OTEL_OK;
}

/* Resolve, connect (each address in turn) and start the session. */
static int conn_open(otel_h2 *c, uint64_t deadline)
{
    struct addrinfo *res = NULL;
    char why[256];
    int g = otel_resolve(c->ep.host, c->ep.port, deadline, &res, why, sizeof(why));
    if (g != OTEL_OK) {
        set_err(c, "%s", why);
        return g;
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
    if (c->ep.tls) {
        rc = tls_open(c, deadline);
        if (rc != OTEL_OK) {
            conn_close(c);
            return rc;
        }
    }
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
 * full. Returns 0 (check c->q_bytes) or a negative code. */
static int conn_flush(otel_h2 *c)
{
    for (;;) {
        while (c->q_bytes < H2_OUT_HIGH) {
            const uint8_t *p;
            ssize_t n = nghttp2_session_mem_send(c->sess, &p);
            if (n < 0 && c->q_nomem) {
                set_err(c, "HTTP/2 to %s: out of memory", c->ep.authority);
                return OTEL_ERR_NOMEM;
            }
            if (n < 0) {
                set_err(c, "HTTP/2 to %s: %s", c->ep.authority, nghttp2_strerror((int)n));
                return map_ng_err((int)n);
            }
            if (n == 0)
                break;
            if (q_reserve(c, 1, (size_t)n) != OTEL_OK)
                return OTEL_ERR_NOMEM;
            q_copy(c, p, (size_t)n);
        }
        if (c->q_bytes == 0)
            return OTEL_OK;
        int rc = q_write(c);
        if (rc != OTEL_OK || c->q_bytes > 0)
            return rc;
    }
}

/* Read what the socket holds into the session. Returns 0, or OTEL_ERR_IO
 * when the peer closed (c->eof) or the read or the session failed. A short
 * read is taken to have emptied the socket: poll says when more comes, and
 * the recv that would only say EAGAIN is saved. */
/* conn_read over TLS: records are read until OpenSSL wants more from the
 * socket, so that nothing decrypted waits unseen while poll sleeps. */
static int conn_read_tls(otel_h2 *c)
{
    uint8_t buf[H2_READ_CHUNK];
    for (;;) {
        char why[200];
        ssize_t n = otel_tls_read(c->tls, buf, sizeof(buf), why, sizeof(why));
        if (n == OTEL_TLS_WANT_READ || n == OTEL_TLS_WANT_WRITE)
            return OTEL_OK;
        if (n < 0) {
            /* An alert: a TLS 1.3 server refusing our certificate says so
             * only once we read. */
            c->tls_failed = true;
            set_err(c, "TLS with %s: %s", c->ep.authority, why);
            return OTEL_ERR_IO;
        }
        if (n == 0) {
            c->eof = true;
            /* A server that does not accept our client certificate may
             * drop the connection right after the handshake. */
            c->tls_failed = !c->h2_in;
            set_err(c, "%s closed the connection%s", c->ep.authority,
                    c->h2_in ? "" : " right after the TLS handshake (client certificate refused?)");
            return OTEL_ERR_IO;
        }
        c->h2_in = true;
        ssize_t r = nghttp2_session_mem_recv(c->sess, buf, (size_t)n);
        if (r < 0) {
            set_err(c, "HTTP/2 from %s: %s", c->ep.authority, nghttp2_strerror((int)r));
            return map_ng_err((int)r);
        }
    }
}

static int conn_read(otel_h2 *c)
{
    if (c->tls != NULL)
        return conn_read_tls(c);
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
        if ((size_t)n < sizeof(buf))
            return OTEL_OK;
    }
    return OTEL_OK;
}

/* True when nghttp2 has nothing more to do on this connection. */
static bool session_done(const otel_h2 *c)
{
    return !nghttp2_session_want_read(c->sess) && !nghttp2_session_want_write(c->sess) &&
           c->q_bytes == 0;
}

/* Before reusing an idle connection: take in what the peer sent meanwhile
 * (a GOAWAY, a close) without waiting, and drop the connection if it is no
 * longer usable. */
static void conn_check_idle(otel_h2 *c)
{
    if (conn_read(c) != OTEL_OK || conn_flush(c) != OTEL_OK || c->goaway || session_done(c))
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
        if (c->tls != NULL && otel_tls_pending(c->tls) > 0) {
            /* Decrypted bytes poll cannot see. */
            rc = conn_read(c);
            if (rc != OTEL_OK)
                return c->stream_closed ? OTEL_OK : rc;
            continue;
        }
        uint64_t now = otel_mono_ns();
        if (now >= deadline) {
            set_err(c, "no answer from %s before the deadline", c->ep.authority);
            return OTEL_ERR_TIMEOUT;
        }
        uint64_t ms = (deadline - now + 999999) / 1000000;
        struct pollfd p = {.fd = c->fd, .events = POLLIN | (c->q_bytes > 0 ? POLLOUT : 0)};
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
    if (n > c->nva_cap) {
        nghttp2_nv *nva = otel_realloc(c->nva, n * sizeof(*nva));
        if (nva == NULL)
            return OTEL_ERR_NOMEM;
        c->nva = nva;
        c->nva_cap = n;
    }
    nghttp2_nv *nva = c->nva;
    const char *pseudo[4][2] = {{":method", req->method ? req->method : "POST"},
                                {":scheme", c->ep.tls ? "https" : "http"},
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
    int32_t rv = nghttp2_submit_request(c->sess, NULL, nva, n, c->n_body > 0 ? &prd : NULL, c);
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
    bool tls = strncasecmp(url, "https://", 8) == 0;
    if (!tls && strncasecmp(url, "http://", 7) != 0) {
        snprintf(err, errlen, "endpoint \"%s\": must start with http:// or https://", url);
        return OTEL_ERR_INVALID;
    }
    const char *p = url + (tls ? 8 : 7);
    out->tls = tls;
    size_t alen = strcspn(p, "/?#");
    otel_hostport hp;
    bool split_ok = otel_hostport_split(p, alen, &hp);
    int rc = endpoint_host(&hp, split_ok, out, err, errlen, url);
    if (rc == OTEL_OK)
        rc = endpoint_port_rest(&hp, p + alen, out, err, errlen, url);
    if (rc != OTEL_OK)
        return rc;
    snprintf(out->authority, sizeof(out->authority), hp.bracketed ? "[%s]:%s" : "%s:%s", out->host,
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
    otel_free(c->segs);
    otel_free(c->nva);
    otel_free(c->fields);
    otel_free(c->data);
    otel_free(c->tls_out);
    otel_free(c);
}

void otel_h2_set_tls(otel_h2 *c, otel_tls_ctx *x)
{
    c->tls_ctx = x;
}

bool otel_h2_tls_failed(const otel_h2 *c)
{
    return c->tls_failed;
}

uint64_t otel_h2_tls_resumed(const otel_h2 *c)
{
    return c->tls_resumed;
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

uint64_t otel_h2_write_stalls(const otel_h2 *c)
{
    return c->write_stalls;
}

/* Take the body pieces of req (borrowed). */
static int set_body(otel_h2 *c, const otel_h2_request *req)
{
    if (req->n_body > OTEL_H2_BODY_PIECES_MAX) {
        set_err(c, "request body in %zu pieces (at most %d)", req->n_body, OTEL_H2_BODY_PIECES_MAX);
        return OTEL_ERR_INVALID;
    }
    for (size_t i = 0; i < req->n_body; i++) {
        if (req->body[i].len > SIZE_MAX - c->body_len) {
            set_err(c, "request body too large");
            return OTEL_ERR_INVALID;
        }
        c->body[i] = req->body[i];
        c->body_len += req->body[i].len;
    }
    c->n_body = req->n_body;
    return OTEL_OK;
}

int otel_h2_send_request(otel_h2 *c, const otel_h2_request *req, uint64_t deadline_ns,
                         otel_h2_response *resp)
{
    memset(resp, 0, sizeof(*resp));
    response_reset(c);
    c->err[0] = '\0';
    c->tls_failed = false;
    int rc = set_body(c, req);
    if (rc != OTEL_OK)
        return rc;
    if (c->sess != NULL)
        conn_check_idle(c);
    int32_t sid = 0;
    rc = OTEL_ERR_STATE;
    /* A second try on a fresh connection when the old one takes no new
     * stream (ids used up, a GOAWAY that came in meanwhile). */
    for (int tries = 0; tries < 2 && rc == OTEL_ERR_STATE; tries++) {
        if (c->sess == NULL) {
            rc = conn_open(c, deadline_ns);
            if (rc != OTEL_OK) {
                c->n_body = 0;
                return rc;
            }
        }
        rc = submit(c, req, &sid);
        if (rc == OTEL_ERR_STATE)
            conn_close(c);
    }
    if (rc != OTEL_OK) {
        c->n_body = 0;
        return rc == OTEL_ERR_STATE ? OTEL_ERR_IO : rc;
    }
    c->err[0] = '\0'; /* whatever an idle check or a retired connection said */
    c->stream_id = sid;
    rc = conn_run(c, deadline_ns);
    if (rc == OTEL_OK)
        rc = stream_result(c, resp);
    else {
        resp->status = c->status;
        conn_close(c); /* the connection failed, or we give up on it */
    }
    /* The stream may close before the socket has taken all of its DATA (the
     * peer answered early): what is left must not point into the body. */
    if (c->sess != NULL && q_own_body(c) != OTEL_OK)
        conn_close(c);
    c->n_body = 0;
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
