/* fake_http.c - the scripted OTLP/HTTP receiver of the integration tests (libmicrohttpd). */
#include "fake_http.h"
#include "itest_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

/* One request being received: its record and its body so far. */
typedef struct fake_http_conn {
    fake_http_request req;
    uint8_t *body;
    size_t cap;
} fake_http_conn;

struct fake_http {
    struct MHD_Daemon *daemon;
    uint16_t port;
    fake_http_answer script[FAKE_HTTP_SCRIPT_MAX];
    size_t n_script;
    fake_http_answer dflt;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;  /* signalled at each answer */
    size_t n_answered;
    fake_http_request rec[FAKE_HTTP_RECORDS_MAX];
    uint8_t *bodies[FAKE_HTTP_RECORDS_MAX];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* Append "name: value\n" to the headers of the request (cls), truncated. */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    fake_http_request *r = cls;
    size_t used = strlen(r->headers);

    (void)kind;
    if (key != NULL && used < sizeof(r->headers))
        snprintf(r->headers + used, sizeof(r->headers) - used, "%s: %s\n", key,
                 value != NULL ? value : "");
    return MHD_YES;
}

/* Copy a request header into out (cap bytes), "" when absent. */
static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

    snprintf(out, cap, "%s", v != NULL ? v : "");
}

/* A new request: its record from the headers. NULL when out of memory. */
static fake_http_conn *conn_new(struct MHD_Connection *c, const char *url, const char *method,
                                const char *version)
{
    fake_http_conn *fc = calloc(1, sizeof(*fc));

    if (fc == NULL)
        return NULL;
    fc->req.t_ns = mono_ns();
    snprintf(fc->req.method, sizeof(fc->req.method), "%s", method);
    snprintf(fc->req.path, sizeof(fc->req.path), "%s", url);
    snprintf(fc->req.version, sizeof(fc->req.version), "%s", version);
    copy_header(c, MHD_HTTP_HEADER_CONTENT_TYPE, fc->req.content_type,
                sizeof(fc->req.content_type));
    copy_header(c, MHD_HTTP_HEADER_CONTENT_ENCODING, fc->req.content_encoding,
                sizeof(fc->req.content_encoding));
    copy_header(c, MHD_HTTP_HEADER_USER_AGENT, fc->req.user_agent, sizeof(fc->req.user_agent));
    (void)MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &fc->req);
    return fc;
}

/* Append n bytes of body. Returns 0 or -1. */
static int conn_append(fake_http_conn *fc, const char *data, size_t n)
{
    if (fc->req.body_len + n > fc->cap) {
        size_t cap = fc->cap == 0 ? 4096 : fc->cap;
        uint8_t *p;

        while (cap < fc->req.body_len + n)
            cap *= 2;
        p = realloc(fc->body, cap);
        if (p == NULL)
            return -1;
        fc->body = p;
        fc->cap = cap;
    }
    memcpy(fc->body + fc->req.body_len, data, n);
    fc->req.body_len += n;
    return 0;
}

/* Whether a content type is OTLP/JSON's. */
static bool is_json(const char *content_type)
{
    return strncasecmp(content_type, "application/json", strlen("application/json")) == 0;
}

/* Retry-After as the IMF-fixdate s seconds from now into out. */
static void http_date(int s, char *out, size_t cap)
{
    time_t t = time(NULL) + s;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The MHD response of answer a to request r. NULL when out of memory. */
static struct MHD_Response *make_response(const fake_http_answer *a, const fake_http_request *r)
{
    const char *type = a->content_type != NULL ? a->content_type : r->content_type;
    const void *body = a->body;
    size_t len = a->body_len;
    struct MHD_Response *resp;
    char date[64];

    if (body == NULL) {
        body = is_json(type) ? "{}" : "";
        len = strlen(body);
    }
    resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return NULL;
    if (type[0] != '\0')
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (a->retry_after != NULL)
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, a->retry_after);
    if (a->retry_after_date) {
        http_date(a->retry_after_s, date, sizeof(date));
        (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, date);
    }
    for (size_t i = 0; i < FAKE_HTTP_EXTRA_HEADERS && a->headers[i].name != NULL; i++)
        (void)MHD_add_response_header(resp, a->headers[i].name, a->headers[i].value);
    return resp;
}

/* Record the finished request fc (its body moves to f) and answer it. */
static enum MHD_Result answer(fake_http *f, struct MHD_Connection *c, fake_http_conn *fc)
{
    fake_http_answer a;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t i;

    pthread_mutex_lock(&f->lock);
    i = f->n_answered;
    a = i < f->n_script ? f->script[i] : f->dflt;
    pthread_mutex_unlock(&f->lock);
    fc->req.status = a.status != 0 ? a.status : MHD_HTTP_OK;
    resp = make_response(&a, &fc->req);
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(c, fc->req.status, resp);
    MHD_destroy_response(resp);
    pthread_mutex_lock(&f->lock);
    if (i < FAKE_HTTP_RECORDS_MAX) {
        f->rec[i] = fc->req;
        f->bodies[i] = fc->body;
        fc->body = NULL;
    }
    f->n_answered++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    fake_http *f = cls;
    fake_http_conn *fc = *req_cls;

    if (fc == NULL) {
        fc = conn_new(c, url, method, version);
        *req_cls = fc;
        return fc != NULL ? MHD_YES : MHD_NO;
    }
    if (*upload_size != 0) {
        if (conn_append(fc, upload, *upload_size) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return answer(f, c, fc);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    fake_http_conn *fc = *req_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (fc != NULL) {
        free(fc->body);
        free(fc);
    }
    *req_cls = NULL;
}

fake_http *fake_http_start(const fake_http_answer *script, size_t n, const fake_http_answer *dflt)
{
    fake_http *f;
    struct sockaddr_in sin;
    const union MHD_DaemonInfo *info;

    if (n > FAKE_HTTP_SCRIPT_MAX)
        return NULL;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    if (n > 0)
        memcpy(f->script, script, n * sizeof(*script));
    f->n_script = n;
    if (dflt != NULL)
        f->dflt = *dflt;
    pthread_mutex_init(&f->lock, NULL);
    itest_cond_init_mono(&f->cond);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = 0;
    f->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, f,
                         MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    info = f->daemon != NULL ? MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL || info->port == 0) {
        fake_http_stop(f);
        return NULL;
    }
    f->port = info->port;
    return f;
}

void fake_http_stop(fake_http *f)
{
    if (f == NULL)
        return;
    if (f->daemon != NULL)
        MHD_stop_daemon(f->daemon);
    for (size_t i = 0; i < FAKE_HTTP_RECORDS_MAX; i++)
        free(f->bodies[i]);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

uint16_t fake_http_port(const fake_http *f)
{
    return f->port;
}

size_t fake_http_count(fake_http *f)
{
    return itest_count_locked(&f->lock, &f->n_answered);
}

bool fake_http_wait(fake_http *f, size_t n, int timeout_ms)
{
    bool ok;

    pthread_mutex_lock(&f->lock);
    ok = itest_cond_wait_count(&f->cond, &f->lock, &f->n_answered, n, timeout_ms);
    pthread_mutex_unlock(&f->lock);
    return ok;
}

bool fake_http_get(fake_http *f, size_t i, fake_http_request *out)
{
    bool ok;

    pthread_mutex_lock(&f->lock);
    ok = i < f->n_answered && i < FAKE_HTTP_RECORDS_MAX;
    if (ok)
        *out = f->rec[i];
    pthread_mutex_unlock(&f->lock);
    return ok;
}

uint8_t *fake_http_body(fake_http *f, size_t i, size_t *len)
{
    uint8_t *copy = NULL;

    *len = 0;
    pthread_mutex_lock(&f->lock);
    if (i < f->n_answered && i < FAKE_HTTP_RECORDS_MAX) {
        size_t n = f->rec[i].body_len;
        copy = malloc(n + 1);
        if (copy != NULL) {
            if (n > 0)
                memcpy(copy, f->bodies[i], n);
            copy[n] = 0;
            *len = n;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return copy;
}

bool fake_http_req_header(const fake_http_request *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);

    for (const char *p = r->headers; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t line = nl != NULL ? (size_t)(nl - p) : strlen(p);

        if (line > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':' &&
            p[nlen + 1] == ' ') {
            snprintf(out, cap, "%.*s", (int)(line - nlen - 2), p + nlen + 2);
            return true;
        }
        if (line == nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            snprintf(out, cap, "%s", "");
            return true;
        }
        p += line;
        if (*p == '\n')
            p++;
    }
    return false;
}

/* A protobuf varint of v at out (10 bytes of room). Returns its length. */
static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t fake_http_partial_pb(uint8_t *out, size_t cap, int64_t rejected, const char *message)
{
    /* exporter/proto/opentelemetry/proto/collector/trace/v1/trace_service.proto:
     * ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
     * ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; } */
    size_t mlen = strlen(message);
    uint8_t inner_head[32], outer_head[16];
    size_t ih = 0, oh = 0, inner, total;

    inner_head[ih++] = (1 << 3) | 0; /* rejected_spans: field 1, varint */
    ih += put_varint(inner_head + ih, (uint64_t)rejected);
    inner_head[ih++] = (2 << 3) | 2; /* error_message: field 2, length-delimited */
    ih += put_varint(inner_head + ih, mlen);
    inner = ih + mlen;
    outer_head[oh++] = (1 << 3) | 2; /* partial_success: field 1, length-delimited */
    oh += put_varint(outer_head + oh, inner);
    total = oh + inner;
    if (total > cap)
        return 0;
    memcpy(out, outer_head, oh);
    memcpy(out + oh, inner_head, ih);
    memcpy(out + oh + ih, message, mlen);
    return total;
}

size_t fake_http_partial_json(char *out, size_t cap, int64_t rejected, const char *message)
{
    /* OTLP/JSON: lowerCamelCase field names, int64 as a decimal string */
    int n = snprintf(out, cap,
                     "{\"partialSuccess\":{\"rejectedSpans\":\"%lld\",\"errorMessage\":\"%s\"}}",
                     (long long)rejected, message);

    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

uint8_t *fake_http_big_pb(size_t pad, size_t *len)
{
    uint8_t head[16];
    size_t h = 0;
    uint8_t *out;

    head[h++] = (15 << 3) | 2; /* field 15, length-delimited: unknown to the schema */
    h += put_varint(head + h, pad);
    out = malloc(h + pad);
    if (out == NULL)
        return NULL;
    memcpy(out, head, h);
    memset(out + h, 'x', pad);
    *len = h + pad;
    return out;
}
