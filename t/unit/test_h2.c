/* test_h2.c - tests of exporter/h2.c (the HTTP/2 client connection) against
 * an in-process fake gRPC server: an nghttp2 server session on a loopback
 * socket, in a thread, answering each request as its test scripts it.
 * test_otlp.c includes this file with TEST_H2_FAKE_ONLY defined to reuse the
 * fake server; the tests below are then left out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include "../../exporter/grpc.h"
#include "../../exporter/h2.h"
#include "../../exporter/retry.h"

/* ======================================================================== */
/* ---- the fake gRPC server ---------------------------------------------- */
/* ======================================================================== */

/* How late a deadline may be kept on a loaded 2-core machine under a
 * sanitizer: the upper bound of the deadline checks (a missed deadline is
 * seconds late or never). */
#define DEADLINE_SLACK_MS 1500

#define FAKE_FN __attribute__((unused)) static
#define FAKE_SCRIPT_MAX 16
#define FAKE_CONNS_MAX 8
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

typedef struct fake_stream {
    struct fake_stream *next; /* the connection's list of open streams */
    int32_t id;
    char headers[FAKE_HEADERS_MAX];
    size_t hlen;
    uint8_t *body;
    size_t blen, bcap;
    uint8_t *resp; /* prefix + message to send */
    size_t resp_len, resp_off;
    bool early;     /* answered at its HEADERS */
    bool rst_after; /* and then reset */
} fake_stream;

typedef struct fake_conn {
    fake_server *srv;
    int fd; /* -1: slot free */
    nghttp2_session *sess;
    fake_stream *streams;   /* open streams; nghttp2_session_del does not tell */
    bool close_after_flush; /* then half-close and drain (a graceful close) */
    bool draining;
    bool close_now; /* close at once (the peer may see a reset) */
} fake_conn;

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                 \
    }

static void fake_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 16;
    *out = malloc(cap);
    assert_non_null(*out);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = *out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
}

/* Inflate in; false when it is not a whole gzip stream. */
static bool fake_gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 31) != Z_OK)
        return false;
    size_t cap = len * 8 + 1024, used = 0;
    uint8_t *buf = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    int zrc = Z_OK;
    while (buf != NULL) {
        if (used == cap) {
            cap *= 2;
            uint8_t *p = realloc(buf, cap);
            if (p == NULL)
                break;
            buf = p;
        }
        zs.next_out = buf + used;
        zs.avail_out = (uInt)(cap - used);
        zrc = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
        if (zrc != Z_OK)
            break;
    }
    inflateEnd(&zs);
    if (zrc != Z_STREAM_END) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_len = used;
    return true;
}

/* The action for the next request (under the lock). */
static fake_action fake_next_action(fake_server *s)
{
    size_t idx = s->n_requests;
    fake_action act = {.kind = FAKE_OK};
    if (s->n_script > 0)
        act = s->script[idx < s->n_script ? idx : s->n_script - 1];
    return act;
}

/* Keep the body of st as the last request's (under the lock). */
static void fake_store_body(fake_server *s, fake_stream *st)
{
    free(s->prev_body);
    free(s->message);
    s->prev_body = s->body;
    s->prev_body_len = s->body_len;
    s->body = st->body;
    s->body_len = st->blen;
    st->body = NULL;
    s->message = NULL;
    s->message_len = 0;
    s->prefix_ok = false;
    s->inflate_ok = false;
    s->compressed = false;
    if (s->body_len >= 5) {
        uint32_t n = (uint32_t)s->body[1] << 24 | (uint32_t)s->body[2] << 16 |
                     (uint32_t)s->body[3] << 8 | s->body[4];
        s->prefix_ok = n == s->body_len - 5 && s->body[0] <= 1;
        s->compressed = s->body[0] == 1;
        if (s->prefix_ok && s->compressed) {
            s->inflate_ok = fake_gunzip(s->body + 5, n, &s->message, &s->message_len);
        } else if (s->prefix_ok) {
            s->message = malloc(n + 1);
            assert_non_null(s->message);
            memcpy(s->message, s->body + 5, n);
            s->message_len = n;
        }
    }
}

/* Record what came in on st and pick the action for it (an early answer
 * records no body). */
static fake_action fake_record(fake_server *s, fake_stream *st)
{
    pthread_mutex_lock(&s->lock);
    fake_action act = fake_next_action(s);
    s->n_requests++;
    memcpy(s->headers, st->headers, st->hlen);
    s->headers[st->hlen] = '\0';
    if (!st->early)
        fake_store_body(s, st);
    pthread_mutex_unlock(&s->lock);
    return act;
}

static ssize_t fake_resp_read(nghttp2_session *sess, int32_t sid, uint8_t *buf, size_t len,
                              uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)ud;
    fake_stream *st = src->ptr;
    size_t n = st->resp_len - st->resp_off;
    if (n > len)
        n = len;
    memcpy(buf, st->resp + st->resp_off, n);
    st->resp_off += n;
    if (st->resp_off == st->resp_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv tr[] = {NV("grpc-status", "0")};
        nghttp2_submit_trailer(sess, sid, tr, 1);
    }
    return (ssize_t)n;
}

static void fake_answer_ok(fake_conn *c, fake_stream *st, const fake_action *act)
{
    uint8_t *msg = (uint8_t *)(uintptr_t)act->resp;
    size_t mlen = act->resp_len;
    if (act->resp_gzip)
        fake_gzip(act->resp, act->resp_len, &msg, &mlen);
    st->resp = malloc(mlen + 5);
    assert_non_null(st->resp);
    otel_grpc_prefix_write(st->resp, act->resp_gzip, (uint32_t)mlen);
    if (mlen > 0)
        memcpy(st->resp + 5, msg, mlen);
    st->resp_len = mlen + 5;
    if (act->resp_gzip)
        free(msg);
    nghttp2_nv hd[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                       NV("grpc-encoding", "gzip")};
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = fake_resp_read};
    nghttp2_submit_response(c->sess, st->id, hd, act->resp_gzip ? 3 : 2, &prd);
}

static void fake_answer(fake_conn *c, fake_stream *st)
{
    fake_action act = fake_record(c->srv, st);
    char code[16], http[16];
    snprintf(code, sizeof(code), "%d", act.grpc_status);
    snprintf(http, sizeof(http), "%d", act.http_status);
    switch (act.kind) {
    case FAKE_OK:
    case FAKE_EARLY:
    case FAKE_EARLY_RST:
        fake_answer_ok(c, st, &act);
        break;
    case FAKE_STATUS: {
        nghttp2_nv hd[5] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                            NV("grpc-status", code)};
        size_t n = 3;
        if (act.grpc_message)
            hd[n++] = (nghttp2_nv)NV("grpc-message", act.grpc_message);
        if (act.details_bin)
            hd[n++] = (nghttp2_nv)NV("grpc-status-details-bin", act.details_bin);
        nghttp2_submit_response(c->sess, st->id, hd, n, NULL);
        break;
    }
    case FAKE_HTTP: {
        nghttp2_nv hd[] = {NV(":status", http), NV("content-type", "text/plain")};
        nghttp2_submit_response(c->sess, st->id, hd, 2, NULL);
        break;
    }
    case FAKE_RST:
        nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, st->id, act.rst_error);
        break;
    case FAKE_GOAWAY_OK:
        fake_answer_ok(c, st, &act);
        nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR, NULL, 0);
        c->close_after_flush = true;
        break;
    case FAKE_GOAWAY_REFUSE:
        nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
        c->close_after_flush = true;
        break;
    case FAKE_HANG:
        break;
    case FAKE_CLOSE:
        c->close_now = true;
        break;
    }
}

static void fake_stream_free(fake_stream *st)
{
    free(st->body);
    free(st->resp);
    free(st);
}

static int fake_on_begin_headers(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    fake_conn *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    fake_stream *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    st->id = frame->hd.stream_id;
    st->next = c->streams;
    c->streams = st;
    nghttp2_session_set_stream_user_data(sess, st->id, st);
    return 0;
}

static int fake_on_header(nghttp2_session *sess, const nghttp2_frame *frame, const uint8_t *name,
                          size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                          void *ud)
{
    (void)flags;
    (void)ud;
    fake_stream *st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    int n = snprintf(st->headers + st->hlen, sizeof(st->headers) - st->hlen, "%.*s: %.*s\n",
                     (int)namelen, (const char *)name, (int)valuelen, (const char *)value);
    if (n > 0 && st->hlen + (size_t)n < sizeof(st->headers))
        st->hlen += (size_t)n;
    return 0;
}

static int fake_on_data(nghttp2_session *sess, uint8_t flags, int32_t sid, const uint8_t *data,
                        size_t len, void *ud)
{
    (void)flags;
    (void)ud;
    fake_stream *st = nghttp2_session_get_stream_user_data(sess, sid);
    if (st == NULL)
        return 0;
    if (st->blen + len > st->bcap) {
        st->bcap = (st->blen + len) * 2;
        st->body = realloc(st->body, st->bcap);
        assert_non_null(st->body);
    }
    memcpy(st->body + st->blen, data, len);
    st->blen += len;
    return 0;
}

static int fake_on_frame(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    fake_conn *c = ud;
    fake_stream *st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st == NULL || (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA))
        return 0;
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (st->early) { /* answered: the body is all here */
        if (end) {
            pthread_mutex_lock(&c->srv->lock);
            fake_store_body(c->srv, st);
            pthread_mutex_unlock(&c->srv->lock);
        }
        return 0;
    }
    if (!end && frame->hd.type == NGHTTP2_HEADERS) {
        pthread_mutex_lock(&c->srv->lock);
        fake_kind k = fake_next_action(c->srv).kind;
        pthread_mutex_unlock(&c->srv->lock);
        st->early = k == FAKE_EARLY || k == FAKE_EARLY_RST;
        st->rst_after = k == FAKE_EARLY_RST;
    }
    if (end || st->early)
        fake_answer(c, st);
    return 0;
}

/* After an early answer's trailers: reset the stream if asked, without
 * error. */
static int fake_on_frame_sent(nghttp2_session *sess, const nghttp2_frame *frame, void *ud)
{
    (void)ud;
    fake_stream *st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st != NULL && st->rst_after && frame->hd.type == NGHTTP2_HEADERS &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    return 0;
}

static int fake_on_close(nghttp2_session *sess, int32_t sid, uint32_t err, void *ud)
{
    (void)err;
    fake_conn *c = ud;
    fake_stream *st = nghttp2_session_get_stream_user_data(sess, sid);
    if (st == NULL)
        return 0;
    for (fake_stream **pp = &c->streams; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    nghttp2_session_set_stream_user_data(sess, sid, NULL);
    fake_stream_free(st);
    return 0;
}

static void fake_conn_close(fake_conn *c)
{
    if (c->fd < 0)
        return;
    nghttp2_session_del(c->sess);
    c->sess = NULL;
    while (c->streams != NULL) {
        fake_stream *st = c->streams;
        c->streams = st->next;
        fake_stream_free(st);
    }
    close(c->fd);
    c->fd = -1;
    pthread_mutex_lock(&c->srv->lock);
    c->srv->open_conns--;
    pthread_mutex_unlock(&c->srv->lock);
}

/* Write out what the session has (blocking writes). false: the peer left. */
static bool fake_flush(fake_conn *c)
{
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(c->sess, &p);
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        while (n > 0) {
            ssize_t w = send(c->fd, p, (size_t)n, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return false;
            p += w;
            n -= w;
        }
    }
}

static void fake_conn_open(fake_server *s, fake_conn *c, int fd)
{
    nghttp2_session_callbacks *cbs;
    assert_int_equal(nghttp2_session_callbacks_new(&cbs), 0);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, fake_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, fake_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, fake_on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, fake_on_frame);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, fake_on_frame_sent);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, fake_on_close);
    c->srv = s;
    c->fd = fd;
    c->streams = NULL;
    c->close_after_flush = c->draining = c->close_now = false;
    assert_int_equal(nghttp2_session_server_new(&c->sess, cbs, c), 0);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)s->opts.window}};
    nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv, s->opts.window > 0 ? 2 : 1);
    if (s->opts.window > 0)
        nghttp2_session_set_local_window_size(c->sess, NGHTTP2_FLAG_NONE, 0, s->opts.window);
    pthread_mutex_lock(&s->lock);
    s->n_connections++;
    s->open_conns++;
    pthread_mutex_unlock(&s->lock);
    if (!fake_flush(c))
        fake_conn_close(c);
}

static void fake_conn_input(fake_conn *c)
{
    uint8_t buf[16384];
    size_t want = c->srv->opts.read_chunk;
    if (want == 0 || want > sizeof(buf))
        want = sizeof(buf);
    ssize_t n = recv(c->fd, buf, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (c->srv->opts.read_delay_us > 0)
        usleep(c->srv->opts.read_delay_us);
    if (c->draining) { /* after GOAWAY: wait for the client to close */
        if (n <= 0)
            fake_conn_close(c);
        return;
    }
    if (n <= 0 || nghttp2_session_mem_recv(c->sess, buf, (size_t)n) < 0 || c->close_now ||
        !fake_flush(c)) {
        fake_conn_close(c);
        return;
    }
    if (c->close_after_flush && !nghttp2_session_want_write(c->sess)) {
        shutdown(c->fd, SHUT_WR);
        c->draining = true;
    }
}

static void *fake_main(void *arg)
{
    fake_server *s = arg;
    fake_conn conns[FAKE_CONNS_MAX];
    for (int i = 0; i < FAKE_CONNS_MAX; i++)
        conns[i].fd = -1;
    for (;;) {
        struct pollfd p[2 + FAKE_CONNS_MAX];
        p[0] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
        p[1] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        for (int i = 0; i < FAKE_CONNS_MAX; i++)
            p[2 + i] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        if (poll(p, 2 + FAKE_CONNS_MAX, -1) < 0)
            continue;
        if (p[0].revents) {
            char cmd = 'q';
            if (read(s->wake[0], &cmd, 1) != 1 || cmd == 'q')
                break;
            for (int i = 0; i < FAKE_CONNS_MAX; i++)
                fake_conn_close(&conns[i]);
            continue;
        }
        for (int i = 0; i < FAKE_CONNS_MAX; i++)
            if (conns[i].fd >= 0 && p[2 + i].revents)
                fake_conn_input(&conns[i]);
        if (p[1].revents) {
            int fd = accept(s->lfd, NULL, NULL);
            if (fd < 0)
                continue;
            int one = 1; /* no Nagle delay on our small frames */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            int slot = -1;
            for (int i = 0; i < FAKE_CONNS_MAX && slot < 0; i++)
                if (conns[i].fd < 0)
                    slot = i;
            if (slot < 0) {
                close(fd);
                continue;
            }
            fake_conn_open(s, &conns[slot], fd);
        }
    }
    for (int i = 0; i < FAKE_CONNS_MAX; i++)
        fake_conn_close(&conns[i]);
    return NULL;
}

/* A port nothing listens on (bound and released). */
FAKE_FN uint16_t fake_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t sl = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Start a fake server on 127.0.0.1:port (0: any) answering with script (n
 * actions, copied; the pointed-to bytes must outlive the server), treating
 * its connections as opts says (NULL: as a normal peer). */
FAKE_FN fake_server *fake_start_opts(uint16_t port, const fake_action *script, size_t n,
                                     const fake_opts *opts)
{
    fake_server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    if (opts != NULL)
        s->opts = *opts;
    assert_true(n <= FAKE_SCRIPT_MAX);
    if (n > 0)
        memcpy(s->script, script, n * sizeof(*script));
    s->n_script = n;
    pthread_mutex_init(&s->lock, NULL);
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s->opts.rcvbuf > 0) /* before listen: accepted sockets inherit it */
        setsockopt(s->lfd, SOL_SOCKET, SO_RCVBUF, &s->opts.rcvbuf, sizeof(s->opts.rcvbuf));
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 16), 0);
    socklen_t sl = sizeof(a);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &sl), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pipe(s->wake), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, fake_main, s), 0);
    return s;
}

FAKE_FN fake_server *fake_start(uint16_t port, const fake_action *script, size_t n)
{
    return fake_start_opts(port, script, n, NULL);
}

FAKE_FN void fake_stop(fake_server *s)
{
    if (s == NULL)
        return;
    char q = 'q';
    assert_int_equal(write(s->wake[1], &q, 1), 1);
    pthread_join(s->thread, NULL);
    close(s->wake[0]);
    close(s->wake[1]);
    close(s->lfd);
    free(s->body);
    free(s->prev_body);
    free(s->message);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

FAKE_FN size_t fake_requests(fake_server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

FAKE_FN size_t fake_connections(fake_server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n_connections;
    pthread_mutex_unlock(&s->lock);
    return n;
}

FAKE_FN size_t fake_open_conns(fake_server *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->open_conns;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Close every connection from the server side and wait until it has. */
FAKE_FN void fake_drop_connections(fake_server *s)
{
    char c = 'c';
    assert_int_equal(write(s->wake[1], &c, 1), 1);
    for (int i = 0; i < 2000 && fake_open_conns(s) > 0; i++)
        usleep(5000);
    assert_int_equal(fake_open_conns(s), 0);
}

/* Whether the last request carried the header line "name: value". */
FAKE_FN bool fake_saw_header(fake_server *s, const char *name, const char *value)
{
    char line[512];
    snprintf(line, sizeof(line), "%s: %s\n", name, value);
    pthread_mutex_lock(&s->lock);
    bool at_start = strncmp(s->headers, line, strlen(line)) == 0;
    char nl_line[514];
    snprintf(nl_line, sizeof(nl_line), "\n%s", line);
    bool found = at_start || strstr(s->headers, nl_line) != NULL;
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* The value of header name in the last request, copied into out. */
FAKE_FN bool fake_header_value(fake_server *s, const char *name, char *out, size_t cap)
{
    char key[256];
    snprintf(key, sizeof(key), "\n%s: ", name);
    pthread_mutex_lock(&s->lock);
    char buf[FAKE_HEADERS_MAX + 2];
    snprintf(buf, sizeof(buf), "\n%s", s->headers);
    const char *p = strstr(buf, key);
    bool ok = p != NULL;
    if (ok) {
        p += strlen(key);
        size_t n = strcspn(p, "\n");
        snprintf(out, cap, "%.*s", (int)n, p);
    }
    pthread_mutex_unlock(&s->lock);
    return ok;
}

FAKE_FN uint64_t mono_ms(void)
{
    return otel_mono_ns() / MS_NS;
}

#ifndef TEST_H2_FAKE_ONLY

/* ======================================================================== */
/* ---- tests of exporter/h2.c -------------------------------------------- */
/* ======================================================================== */

#define PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

static fake_server *cur_srv; /* freed by the teardown */
static otel_h2 *cur_h2;

static int teardown(void **state)
{
    (void)state;
    otel_h2_del(cur_h2);
    cur_h2 = NULL;
    fake_stop(cur_srv);
    cur_srv = NULL;
    otel_alloc_fail_after(-1);
    return 0;
}

static otel_h2 *client_for(uint16_t port)
{
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    otel_h2_endpoint ep;
    assert_int_equal(otel_h2_endpoint_parse(url, &ep, err, sizeof(err)), OTEL_OK);
    otel_h2 *c;
    assert_int_equal(otel_h2_new(&c, &ep), OTEL_OK);
    return c;
}

static uint64_t deadline_in_ms(uint64_t ms)
{
    return otel_mono_ns() + ms * MS_NS;
}

/* A framed message of n bytes (payload bytes i & 0xff). Caller frees. */
static uint8_t *framed(size_t n, size_t *len)
{
    uint8_t *b = malloc(n + 5);
    assert_non_null(b);
    otel_grpc_prefix_write(b, false, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        b[5 + i] = (uint8_t)i;
    *len = n + 5;
    return b;
}

static int send_pieces(otel_h2 *c, const otel_h2_buf *pieces, size_t n, uint64_t ms,
                       otel_h2_response *resp)
{
    const otel_h2_header hd[] = {
        {"content-type", "application/grpc"}, {"te", "trailers"}, {"x-custom", "Value 1"}};
    otel_h2_request req = {
        .method = "POST", .path = PATH, .headers = hd, .n_headers = 3, .body = pieces, .n_body = n};
    return otel_h2_send_request(c, &req, deadline_in_ms(ms), resp);
}

/* A framed message (len >= 5) sent as the exporter sends one: the prefix
 * and the message as two pieces. */
static int send_one(otel_h2 *c, const uint8_t *body, size_t len, uint64_t ms,
                    otel_h2_response *resp)
{
    const otel_h2_buf pieces[2] = {{body, 5}, {body + 5, len - 5}};
    return send_pieces(c, pieces, 2, ms, resp);
}

/* Whether the last request's body (prev: the one before) is len bytes at
 * want. */
static bool fake_body_is(fake_server *s, bool prev, const uint8_t *want, size_t len)
{
    pthread_mutex_lock(&s->lock);
    const uint8_t *got = prev ? s->prev_body : s->body;
    size_t got_len = prev ? s->prev_body_len : s->body_len;
    bool same = got_len == len && (len == 0 || memcmp(got, want, len) == 0);
    pthread_mutex_unlock(&s->lock);
    return same;
}

/* Shrink the send buffer of the client's socket to the fake server at port
 * (found among our descriptors by its peer) to about bytes. */
static void shrink_client_sndbuf(uint16_t port, int bytes)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a;
        socklen_t sl = sizeof(a);
        if (getpeername(fd, (struct sockaddr *)&a, &sl) == 0 && a.sin_family == AF_INET &&
            ntohs(a.sin_port) == port) {
            assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)), 0);
            return;
        }
    }
    fail_msg("no client socket to port %u", port);
}

/* ---- endpoint ----------------------------------------------------------- */

static void test_otel_h2_endpoint_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host, *port, *authority;
    } ok[] = {
        {"http://127.0.0.1:4317", "127.0.0.1", "4317", "127.0.0.1:4317"},
        {"http://localhost:4318/", "localhost", "4318", "localhost:4318"},
        {"HTTP://Collector.example_1:1", "Collector.example_1", "1", "Collector.example_1:1"},
        {"http://otel-collector", "otel-collector", "4317", "otel-collector:4317"},
        {"http://[::1]:4317", "::1", "4317", "[::1]:4317"},
        {"http://[2001:db8::7]", "2001:db8::7", "4317", "[2001:db8::7]:4317"},
        {"http://h:65535", "h", "65535", "h:65535"},
        {"http://h:00080", "h", "80", "h:80"},
    };
    char err[256];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        otel_h2_endpoint ep;
        assert_int_equal(otel_h2_endpoint_parse(ok[i].url, &ep, err, sizeof(err)), OTEL_OK);
        assert_string_equal(ep.host, ok[i].host);
        assert_string_equal(ep.port, ok[i].port);
        assert_string_equal(ep.authority, ok[i].authority);
    }
}

static void test_otel_h2_endpoint_parse_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "localhost:4317",
                         "ftp://h:1",
                         "http://",
                         "http://:4317",
                         "http://h:0",
                         "http://h:65536",
                         "http://h:123456",
                         "http://h:12a",
                         "http://h:",
                         "http://h:4317/v1/traces",
                         "http://h:4317?x=1",
                         "http://[::1:4317",
                         "http://[]:1",
                         "http://[zz::1]:1",
                         "http://ho st:1",
                         "http://user@h:1"};
    char err[256];
    otel_h2_endpoint ep;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(otel_h2_endpoint_parse(bad[i], &ep, err, sizeof(err)), OTEL_ERR_INVALID);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(otel_h2_endpoint_parse(NULL, &ep, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(otel_h2_endpoint_parse("https://h:4317", &ep, err, sizeof(err)),
                     OTEL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "TLS"));
}

static void test_otel_h2_new_alloc_failure(void **state)
{
    (void)state;
    otel_h2_endpoint ep;
    char err[64];
    assert_int_equal(otel_h2_endpoint_parse("http://127.0.0.1:1", &ep, err, sizeof(err)), 0);
    otel_alloc_fail_after(0);
    otel_h2 *c = (otel_h2 *)1;
    assert_int_equal(otel_h2_new(&c, &ep), OTEL_ERR_NOMEM);
    assert_null(c);
    otel_alloc_fail_after(-1);
    otel_h2_del(NULL);
}

/* ---- requests ----------------------------------------------------------- */

static void test_otel_h2_send_request_ok_and_headers(void **state)
{
    (void)state;
    static const uint8_t resp_msg[] = {0x0a, 0x02, 0x08, 0x05};
    fake_action a = {.kind = FAKE_OK, .resp = resp_msg, .resp_len = sizeof(resp_msg)};
    cur_srv = fake_start(0, &a, 1);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(100, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_false(r.reset);
    assert_int_equal(r.data_len, 5 + sizeof(resp_msg));
    assert_memory_equal(r.data + 5, resp_msg, sizeof(resp_msg));
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "0");
    assert_string_equal(otel_h2_response_field(cur_h2, "content-type"), "application/grpc");
    assert_null(otel_h2_response_field(cur_h2, "grpc-message"));
    assert_string_equal(otel_h2_error(cur_h2), "");

    char authority[64];
    snprintf(authority, sizeof(authority), "127.0.0.1:%u", cur_srv->port);
    assert_true(fake_saw_header(cur_srv, ":method", "POST"));
    assert_true(fake_saw_header(cur_srv, ":scheme", "http"));
    assert_true(fake_saw_header(cur_srv, ":path", PATH));
    assert_true(fake_saw_header(cur_srv, ":authority", authority));
    assert_true(fake_saw_header(cur_srv, "content-type", "application/grpc"));
    assert_true(fake_saw_header(cur_srv, "te", "trailers"));
    assert_true(fake_saw_header(cur_srv, "x-custom", "Value 1"));
    pthread_mutex_lock(&cur_srv->lock);
    assert_true(cur_srv->prefix_ok);
    assert_int_equal(cur_srv->body_len, len);
    assert_memory_equal(cur_srv->body, body, len);
    pthread_mutex_unlock(&cur_srv->lock);
    assert_true(otel_h2_is_connected(cur_h2));
    free(body);
}

static void test_otel_h2_send_request_reuses_connection(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
        assert_int_equal(r.status, 200);
    }
    assert_int_equal(fake_requests(cur_srv), 5);
    assert_int_equal(fake_connections(cur_srv), 1);
    assert_int_equal(otel_h2_connects(cur_h2), 1);
    free(body);
}

static void test_otel_h2_send_request_large_body_flow_control(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(2 * 1024 * 1024 + 17, &len);
    otel_h2_response r;
    for (int i = 0; i < 2; i++) { /* twice: the windows recover */
        assert_int_equal(send_one(cur_h2, body, len, 5000, &r), OTEL_OK);
        assert_int_equal(r.status, 200);
        pthread_mutex_lock(&cur_srv->lock);
        assert_true(cur_srv->prefix_ok);
        assert_int_equal(cur_srv->body_len, len);
        assert_memory_equal(cur_srv->body, body, len);
        pthread_mutex_unlock(&cur_srv->lock);
    }
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

static void test_otel_h2_send_request_body_pieces(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(40000, &len);
    otel_h2_response r;
    /* Pieces that DATA frames (16384 bytes here) cut across, one empty. */
    const otel_h2_buf p4[4] = {
        {body, 3}, {body + 3, 0}, {body + 3, 16384 + 7}, {body + 16394, len - 16394}};
    assert_int_equal(send_pieces(cur_h2, p4, 4, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_true(fake_body_is(cur_srv, false, body, len));
    /* Too many pieces: refused before anything is sent. */
    const otel_h2_buf p5[5] = {
        {body, 1}, {body + 1, 1}, {body + 2, 1}, {body + 3, 1}, {body + 4, len - 4}};
    assert_int_equal(send_pieces(cur_h2, p5, 5, 2000, &r), OTEL_ERR_INVALID);
    assert_non_null(strstr(otel_h2_error(cur_h2), "pieces"));
    assert_int_equal(fake_requests(cur_srv), 1);
    /* No body at all: END_STREAM on the HEADERS. */
    assert_int_equal(send_pieces(cur_h2, NULL, 0, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_true(fake_body_is(cur_srv, false, NULL, 0));
    /* A body of one empty piece: an empty DATA frame. */
    const otel_h2_buf empty = {body, 0};
    assert_int_equal(send_pieces(cur_h2, &empty, 1, 2000, &r), OTEL_OK);
    assert_true(fake_body_is(cur_srv, false, NULL, 0));
    assert_int_equal(fake_requests(cur_srv), 3);
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

/* A slow peer: a small receive buffer read 4 KiB at a time, and a 16 MiB
 * window, so that HTTP/2 flow control does not hold the client back. */
static const fake_opts slow_reader = {
    .rcvbuf = 4096, .read_chunk = 4096, .read_delay_us = 20, .window = 16 << 20};

/* A client connected to a slow reader with a small send buffer: request
 * bodies fill the socket. */
static void start_socket_full(const fake_action *script, size_t n)
{
    cur_srv = fake_start_opts(0, script, n, &slow_reader);
    cur_h2 = client_for(cur_srv->port);
    otel_h2_response r;
    const otel_h2_buf none = {NULL, 0};
    assert_int_equal(send_pieces(cur_h2, &none, 1, 2000, &r), OTEL_OK); /* connect */
    shrink_client_sndbuf(cur_srv->port, 4096);
}

/* Writes stop part way through frames when the socket is full and go on
 * where they stopped: every byte arrives, in order. */
static void test_otel_h2_send_request_socket_full(void **state)
{
    (void)state;
    start_socket_full(NULL, 0);
    size_t len;
    uint8_t *body = framed(2 * 1024 * 1024 + 3, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_true(fake_body_is(cur_srv, false, body, len));
    assert_true(otel_h2_write_stalls(cur_h2) > 10);
    /* And the connection is fine for the next one. */
    assert_int_equal(send_one(cur_h2, body, 105, 5000, &r), OTEL_OK);
    assert_true(fake_body_is(cur_srv, false, body, 105));
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

/* The peer answers at the request's HEADERS, so the stream closes as soon
 * as its last DATA frame is queued, with frames still waiting for the full
 * socket: those are copied before the call returns. The caller overwrites
 * its body at once; the peer still gets the original, ahead of the next
 * request. */
static void test_otel_h2_send_request_early_answer(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_OK}, {.kind = FAKE_EARLY}, {.kind = FAKE_OK}};
    start_socket_full(s, 3);
    size_t len;
    uint8_t *body = framed(1024 * 1024 + 1, &len);
    uint8_t *want = malloc(len);
    assert_non_null(want);
    memcpy(want, body, len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "0");
    memset(body, 0xee, len);
    size_t len2;
    uint8_t *body2 = framed(10, &len2);
    assert_int_equal(send_one(cur_h2, body2, len2, 20000, &r), OTEL_OK);
    assert_true(fake_body_is(cur_srv, true, want, len));
    assert_true(fake_body_is(cur_srv, false, body2, len2));
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
    free(body2);
    free(want);
}

/* The same, but the peer then resets the stream (without error): nghttp2
 * drops the rest of the body, the frames already queued go out whole, and
 * the connection stays usable. */
static void test_otel_h2_send_request_early_answer_reset(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_OK}, {.kind = FAKE_EARLY_RST}, {.kind = FAKE_OK}};
    start_socket_full(s, 3);
    size_t len;
    uint8_t *body = framed(1024 * 1024 + 1, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_false(r.reset);
    memset(body, 0xee, len);
    assert_int_equal(send_one(cur_h2, body, 15, 20000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(fake_requests(cur_srv), 3);
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

/* Fail the i-th allocation of a first request (fresh buffers) and every one
 * after it: OTEL_ERR_NOMEM or a success, never a crash or a leak, and the
 * next request goes through. */
static void test_otel_h2_send_request_alloc_failure(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    size_t len;
    uint8_t *body = framed(100000, &len);
    otel_h2_response r;
    int rc = OTEL_ERR_NOMEM;
    long i;
    for (i = 0; i < 50 && rc != OTEL_OK; i++) {
        cur_h2 = client_for(cur_srv->port);
        otel_alloc_fail_after(i);
        rc = send_one(cur_h2, body, len, 2000, &r);
        otel_alloc_fail_after(-1);
        assert_true(rc == OTEL_OK || rc == OTEL_ERR_NOMEM);
        if (rc == OTEL_ERR_NOMEM)
            assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
        assert_true(fake_body_is(cur_srv, false, body, len));
        otel_h2_del(cur_h2);
        cur_h2 = NULL;
    }
    assert_int_equal(rc, OTEL_OK);
    assert_true(i > 2);
    free(body);
}

static void test_otel_h2_send_request_refused_then_listening(void **state)
{
    (void)state;
    uint16_t port = fake_free_port();
    cur_h2 = client_for(port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    uint64_t t0 = mono_ms();
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_true(mono_ms() - t0 < 1500); /* at once, not at the 2 s deadline */
    assert_non_null(strstr(otel_h2_error(cur_h2), "refused"));
    assert_false(otel_h2_is_connected(cur_h2));
    cur_srv = fake_start(port, NULL, 0);
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(otel_h2_connects(cur_h2), 1);
    free(body);
}

static void test_otel_h2_send_request_rst_stream(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_RST, .rst_error = NGHTTP2_REFUSED_STREAM}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_true(r.reset);
    assert_int_equal(r.reset_error, NGHTTP2_REFUSED_STREAM);
    assert_non_null(strstr(otel_h2_error(cur_h2), "reset"));
    /* A stream error: the connection is kept. */
    assert_true(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(fake_connections(cur_srv), 1);
    free(body);
}

static void test_otel_h2_send_request_goaway_refused(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_GOAWAY_REFUSE}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_true(r.reset);
    assert_int_equal(r.reset_error, NGHTTP2_REFUSED_STREAM);
    assert_false(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(fake_connections(cur_srv), 2);
    assert_int_equal(otel_h2_connects(cur_h2), 2);
    free(body);
}

static void test_otel_h2_send_request_goaway_after_answer(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_GOAWAY_OK}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "0");
    /* The GOAWAY may come with the answer or just after it: either way the
     * next request goes out on a new connection. */
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(fake_connections(cur_srv), 2);
    assert_int_equal(fake_requests(cur_srv), 2);
    free(body);
}

static void test_otel_h2_send_request_deadline(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HANG}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    uint64_t t0 = mono_ms();
    assert_int_equal(send_one(cur_h2, body, len, 300, &r), OTEL_ERR_TIMEOUT);
    uint64_t took = mono_ms() - t0;
    /* Ended by its deadline: never before it; after it by no more than a
     * loaded machine's scheduling slack. */
    assert_true(took >= 290);
    assert_true(took < 300 + DEADLINE_SLACK_MS);
    assert_false(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    free(body);
}

static void test_otel_h2_send_request_server_closes(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_CLOSE}, {.kind = FAKE_OK}};
    cur_srv = fake_start(0, s, 2);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_ERR_IO);
    assert_false(r.reset);
    assert_false(otel_h2_is_connected(cur_h2));
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(fake_connections(cur_srv), 2);
    free(body);
}

static void test_otel_h2_send_request_idle_connection_closed(void **state)
{
    (void)state;
    cur_srv = fake_start(0, NULL, 0);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    fake_drop_connections(cur_srv);
    usleep(20000);
    /* Noticed before the request goes out: no error, a new connection. */
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(otel_h2_error(cur_h2), "");
    assert_int_equal(fake_connections(cur_srv), 2);
    free(body);
}

static void test_otel_h2_send_request_http_status(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_HTTP, .http_status = 503}};
    cur_srv = fake_start(0, s, 1);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 503);
    assert_null(otel_h2_response_field(cur_h2, "grpc-status"));
    free(body);
}

static void test_otel_h2_send_request_trailers_only(void **state)
{
    (void)state;
    fake_action s[] = {{.kind = FAKE_STATUS,
                        .grpc_status = 14,
                        .grpc_message = "try%20later",
                        .details_bin = "AAEC"}};
    cur_srv = fake_start(0, s, 1);
    cur_h2 = client_for(cur_srv->port);
    size_t len;
    uint8_t *body = framed(10, &len);
    otel_h2_response r;
    assert_int_equal(send_one(cur_h2, body, len, 2000, &r), OTEL_OK);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.data_len, 0);
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status"), "14");
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-message"), "try%20later");
    assert_string_equal(otel_h2_response_field(cur_h2, "grpc-status-details-bin"), "AAEC");
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_h2_endpoint_parse_valid),
        cmocka_unit_test(test_otel_h2_endpoint_parse_invalid),
        cmocka_unit_test_teardown(test_otel_h2_new_alloc_failure, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_ok_and_headers, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_reuses_connection, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_large_body_flow_control, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_body_pieces, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_socket_full, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_early_answer, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_early_answer_reset, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_alloc_failure, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_refused_then_listening, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_rst_stream, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_goaway_refused, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_goaway_after_answer, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_deadline, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_server_closes, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_idle_connection_closed, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_http_status, teardown),
        cmocka_unit_test_teardown(test_otel_h2_send_request_trailers_only, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#endif /* TEST_H2_FAKE_ONLY */
