/* fake_grpc.c - the fake gRPC server of the exporter's unit tests. */
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

#include "../../exporter/grpc.h"
#include "../../exporter/retry.h"
#include "fake_grpc.h"

#define FAKE_CONNS_MAX 8

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
uint16_t fake_free_port(void)
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
fake_server *fake_start_opts(uint16_t port, const fake_action *script, size_t n,
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

fake_server *fake_start(uint16_t port, const fake_action *script, size_t n)
{
    return fake_start_opts(port, script, n, NULL);
}

void fake_stop(fake_server *s)
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

/* A counter of s read under its lock. */
static size_t fake_count(fake_server *s, const size_t *counter)
{
    pthread_mutex_lock(&s->lock);
    size_t n = *counter;
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t fake_requests(fake_server *s)
{
    return fake_count(s, &s->n_requests);
}

size_t fake_connections(fake_server *s)
{
    return fake_count(s, &s->n_connections);
}

size_t fake_open_conns(fake_server *s)
{
    return fake_count(s, &s->open_conns);
}

/* Close every connection from the server side and wait until it has. */
void fake_drop_connections(fake_server *s)
{
    char c = 'c';
    assert_int_equal(write(s->wake[1], &c, 1), 1);
    for (int i = 0; i < 2000 && fake_open_conns(s) > 0; i++)
        usleep(5000);
    assert_int_equal(fake_open_conns(s), 0);
}

/* Whether the last request carried the header line "name: value". */
bool fake_saw_header(fake_server *s, const char *name, const char *value)
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
bool fake_header_value(fake_server *s, const char *name, char *out, size_t cap)
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

uint64_t fake_mono_ms(void)
{
    return otel_mono_ns() / MS_NS;
}
