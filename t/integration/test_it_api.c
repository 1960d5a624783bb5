/* test_it_api.c - integration tests of the library API: a server links
 * libmhd-otel, starts its daemon in-process with mhd_otel_start_daemon, is
 * driven by curl, and its spans are read from the console exporter's file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mhd-otel/mhd_otel.h>
#include "../lib/itest.h"

#define APP_REQ_MAGIC 0x61707251u  /* "apRQ" */
#define APP_CONN_MAGIC 0x61704363u /* "apCc" */
#define HOOK_LOG_MAX 16
#define UPLOAD_SIZE (200u * 1024u)
#define SLOW_BODY_SIZE (16u << 20) /* big enough that writing it fails */

/* The config every test starts from (the exporter and batch are added). */
#define BASE_CONF                                                                                  \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-api;\n"                                                               \
    "otel_skip_path /health;\n"                                                                    \
    "otel_route /items/{id};\n"                                                                    \
    "otel_route /create;\n"                                                                        \
    "otel_route /down;\n"

/* The server's per-request state, as a real server would keep it. */
typedef struct app_req {
    unsigned int magic;
    bool from_uri_log; /* made by the URI log callback, not the handler */
    int handler_calls;
    int upload_calls;
    size_t upload_bytes;
    bool suspended; /* /suspend: suspended once already */
    char uri[256];
} app_req;

/* The server's per-connection state (MHD's socket_context). */
typedef struct app_conn {
    unsigned int magic;
    int id;
} app_conn;

/* What the server's callbacks saw. Counters are written from MHD threads. */
typedef struct app {
    bool uri_log;     /* the URI log callback makes the request state */
    bool expect_span; /* tracing is on: the handler must see a span */
    int slow_ms;      /* how long /slow sleeps before answering */
    atomic_int uri_log_calls;
    atomic_int handler_requests; /* first handler calls */
    atomic_int completed;
    atomic_int completed_ok;
    atomic_int last_toe;
    atomic_int conn_started;
    atomic_int conn_closed;
    atomic_int req_hook_calls;
    atomic_int resp_hook_calls;
    atomic_int upload_calls; /* of the last POST completed */
    atomic_size_t upload_bytes;
    pthread_mutex_t mu; /* guards the members below */
    int errors;
    char why[256]; /* the first error */
    char hook_log[HOOK_LOG_MAX][96];
    unsigned int hook_status[HOOK_LOG_MAX];
    void *hook_ud; /* user_data a hook received */
    pthread_t resumer;
    bool resumer_started;
} app;

/* A thread that resumes a suspended connection after a while. */
typedef struct resume_job {
    struct MHD_Connection *conn;
    int delay_ms;
} resume_job;

typedef struct fixture {
    itest_server s; /* temp dir, paths, port for the curl helpers */
    char upload_path[ITEST_PATH_MAX];
    struct sockaddr_in sa;
    mhd_otel *m;
    struct MHD_Daemon *d;
    app a;
} fixture;

/* One curl process of a concurrent run. */
typedef struct curl_job {
    itest_server *s;
    const char *path;
    int n;
    int ok; /* answered with 200, or -1 */
    pthread_t thread;
} curl_job;

static char slow_body[SLOW_BODY_SIZE];

/* ---- the server's callbacks ---------------------------------------------- */

/* Record a failure seen inside a callback (asserting there would not stop
 * the test from an MHD thread). */
static void app_fail(app *a, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&a->mu);
    if (a->errors++ == 0) {
        va_start(ap, fmt);
        vsnprintf(a->why, sizeof(a->why), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&a->mu);
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A new request state for uri; NULL when out of memory. Freed by the
 * completion callback. */
static app_req *app_req_new(const char *uri, bool from_uri_log)
{
    app_req *rq = calloc(1, sizeof(*rq));

    if (rq == NULL)
        return NULL;
    rq->magic = APP_REQ_MAGIC;
    rq->from_uri_log = from_uri_log;
    snprintf(rq->uri, sizeof(rq->uri), "%s", uri != NULL ? uri : "");
    return rq;
}

static void *app_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    app *a = cls;

    (void)conn;
    atomic_fetch_add(&a->uri_log_calls, 1);
    return a->uri_log ? app_req_new(uri, true) : NULL;
}

static void app_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                                  enum MHD_ConnectionNotificationCode toe)
{
    app *a = cls;
    app_conn *c = *socket_context;

    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        int id = atomic_fetch_add(&a->conn_started, 1) + 1;
        if (c != NULL)
            app_fail(a, "connection STARTED: *socket_context is %p, not NULL", *socket_context);
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            return;
        c->magic = APP_CONN_MAGIC;
        c->id = id;
        *socket_context = c;
        return;
    }
    atomic_fetch_add(&a->conn_closed, 1);
    if (c == NULL || c->magic != APP_CONN_MAGIC) {
        app_fail(a, "connection CLOSED: *socket_context %p is not the one set at STARTED",
                 (void *)c);
        return;
    }
    c->magic = 0;
    free(c);
    *socket_context = NULL;
}

static void app_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
    app *a = cls;
    app_req *rq = *req_cls;

    (void)conn;
    atomic_store(&a->last_toe, (int)toe);
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        atomic_fetch_add(&a->completed_ok, 1);
    if (rq == NULL) {
        if (a->uri_log)
            app_fail(a, "completed: *req_cls is NULL, want the URI log pointer");
        atomic_fetch_add(&a->completed, 1);
        return;
    }
    if (rq->magic != APP_REQ_MAGIC) {
        app_fail(a, "completed: *req_cls %p is not an app request", (void *)rq);
        atomic_fetch_add(&a->completed, 1);
        return;
    }
    if (rq->from_uri_log != a->uri_log)
        app_fail(a, "completed: %s got a request state made by the %s", rq->uri,
                 rq->from_uri_log ? "URI log" : "handler");
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && rq->handler_calls == 0)
        app_fail(a, "completed OK: %s never reached the handler with this pointer", rq->uri);
    if (rq->upload_calls > 0) {
        atomic_store(&a->upload_calls, rq->upload_calls);
        atomic_store(&a->upload_bytes, rq->upload_bytes);
    }
    rq->magic = 0;
    free(rq);
    *req_cls = NULL;
    /* Counted last: a waiting test reads the state above after it. */
    atomic_fetch_add(&a->completed, 1);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Inside the handler the request's span is current, and is the one the
 * connection gives; a skipped or untraced request has none. */
static void check_handler_span(app *a, struct MHD_Connection *conn, const char *url)
{
    otel_span *cur = otel_span_current();
    otel_span *cs = mhd_otel_connection_span(conn);
    bool want = a->expect_span && strcmp(url, "/health") != 0;

    if (want && (cur == NULL || cur != cs))
        app_fail(a, "handler %s: otel_span_current() %p, mhd_otel_connection_span() %p", url,
                 (void *)cur, (void *)cs);
    if (!want && (cur != NULL || cs != NULL))
        app_fail(a, "handler %s (untraced): otel_span_current() %p, connection span %p", url,
                 (void *)cur, (void *)cs);
}

/* /child: an attribute on the server span and a child span under it. */
static enum MHD_Result handle_child(struct MHD_Connection *conn)
{
    otel_span *server = otel_span_current();
    otel_span *child;

    otel_span_set_attr_str(server, "app.handler", "child");
    child = otel_span_start_child("app-child", OTEL_SPAN_KIND_INTERNAL);
    otel_span_set_attr_int(child, "app.step", 7);
    otel_span_end(child);
    return respond(conn, 200, "child");
}

/* /slow: sleep, then answer with a body too big to vanish into buffers. */
static enum MHD_Result handle_slow(app *a, struct MHD_Connection *conn)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    sleep_ms(a->slow_ms);
    resp = MHD_create_response_from_buffer(sizeof(slow_body), slow_body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void *resume_later(void *arg)
{
    resume_job *j = arg;

    sleep_ms(j->delay_ms);
    MHD_resume_connection(j->conn);
    free(j);
    return NULL;
}

/* /suspend: suspend the connection once, resumed 50 ms later from another
 * thread, then answer. */
static enum MHD_Result handle_suspend(app *a, struct MHD_Connection *conn, app_req *rq)
{
    resume_job *j;

    if (rq->suspended)
        return respond(conn, MHD_HTTP_OK, "resumed");
    j = malloc(sizeof(*j));
    if (j == NULL)
        return MHD_NO;
    j->conn = conn;
    j->delay_ms = 50;
    rq->suspended = true;
    MHD_suspend_connection(conn);
    pthread_mutex_lock(&a->mu);
    a->resumer_started = pthread_create(&a->resumer, NULL, resume_later, j) == 0;
    pthread_mutex_unlock(&a->mu);
    if (!a->resumer_started) {
        free(j);
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

/* POST: count the body over as many calls as MHD makes, then 201. */
static enum MHD_Result handle_post(struct MHD_Connection *conn, app_req *rq,
                                   size_t *upload_data_size)
{
    char body[64];

    if (*upload_data_size > 0) {
        rq->upload_bytes += *upload_data_size;
        rq->upload_calls++;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->handler_calls == 1)
        return MHD_YES; /* headers only so far */
    snprintf(body, sizeof(body), "received %zu", rq->upload_bytes);
    return respond(conn, MHD_HTTP_CREATED, body);
}

static enum MHD_Result app_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    app *a = cls;
    app_req *rq = *req_cls;

    (void)version;
    (void)upload_data;
    check_handler_span(a, conn, url);
    if (rq == NULL) {
        if (a->uri_log)
            app_fail(a, "handler %s: *req_cls is NULL, want the URI log pointer", url);
        rq = app_req_new(url, false);
        if (rq == NULL)
            return MHD_NO;
        *req_cls = rq;
    } else if (rq->magic != APP_REQ_MAGIC) {
        app_fail(a, "handler %s: *req_cls %p is not an app request", url, (void *)rq);
        return MHD_NO;
    }
    if (rq->handler_calls++ == 0) {
        atomic_fetch_add(&a->handler_requests, 1);
        if (rq->from_uri_log != a->uri_log)
            app_fail(a, "handler %s: first call got a state made by the %s", url,
                     rq->from_uri_log ? "URI log" : "handler");
        if (strncmp(rq->uri, url, strlen(url)) != 0)
            app_fail(a, "handler %s: *req_cls belongs to uri %s", url, rq->uri);
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return handle_post(conn, rq, upload_data_size);
    /* Answer from the second call, once the request is fully read: MHD
     * 0.9.75 closes the connection of a response queued earlier. */
    if (rq->handler_calls == 1)
        return MHD_YES;
    if (strcmp(url, "/child") == 0)
        return handle_child(conn);
    if (strcmp(url, "/create") == 0)
        return respond(conn, MHD_HTTP_CREATED, "created");
    if (strcmp(url, "/down") == 0)
        return respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "down");
    if (strncmp(url, "/slow", 5) == 0)
        return handle_slow(a, conn);
    if (strcmp(url, "/suspend") == 0)
        return handle_suspend(a, conn, rq);
    return respond(conn, MHD_HTTP_OK, "ok");
}

static void app_request_hook(void *user_data, otel_span *span, struct MHD_Connection *conn,
                             const char *method, const char *url)
{
    app *a = user_data;
    const char *user = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-User-ID");
    int i = atomic_fetch_add(&a->req_hook_calls, 1);

    if (span == NULL || span != mhd_otel_connection_span(conn))
        app_fail(a, "request hook %s: span %p, connection span %p", url, (void *)span,
                 (void *)mhd_otel_connection_span(conn));
    pthread_mutex_lock(&a->mu);
    a->hook_ud = user_data;
    if (i < HOOK_LOG_MAX)
        snprintf(a->hook_log[i], sizeof(a->hook_log[i]), "%s %s", method ? method : "(null)",
                 url ? url : "(null)");
    pthread_mutex_unlock(&a->mu);
    if (user != NULL)
        otel_span_set_attr_str(span, "enduser.id", user);
}

static void app_response_hook(void *user_data, otel_span *span, struct MHD_Connection *conn,
                              unsigned int status)
{
    app *a = user_data;
    int i = atomic_fetch_add(&a->resp_hook_calls, 1);

    (void)conn;
    if (span == NULL)
        app_fail(a, "response hook: NULL span (status %u)", status);
    pthread_mutex_lock(&a->mu);
    if (i < HOOK_LOG_MAX)
        a->hook_status[i] = status;
    pthread_mutex_unlock(&a->mu);
    otel_span_set_attr_int(span, "app.response_status", status);
}

/* ---- fixtures ------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || itest_server_init(&f->s) != 0) {
        free(f);
        return -1;
    }
    if (snprintf(f->upload_path, sizeof(f->upload_path), "%s/upload.bin", f->s.dir) >=
        (int)sizeof(f->upload_path)) {
        itest_server_cleanup(&f->s);
        free(f);
        return -1;
    }
    pthread_mutex_init(&f->a.mu, NULL);
    f->a.expect_span = true;
    f->sa.sin_family = AF_INET;
    f->sa.sin_port = 0;
    f->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    mhd_otel_stop_daemon(f->d);
    mhd_otel_del(f->m);
    unlink(f->upload_path);
    itest_server_cleanup(&f->s);
    pthread_mutex_destroy(&f->a.mu);
    free(f);
    return 0;
}

/* Write conf plus a JSON console exporter to the fixture's spans file, and
 * load it with mhd_otel_new. */
static void load_ok(fixture *f, const char *conf)
{
    char err[512];
    FILE *fp = fopen(f->s.conf_path, "w");
    int rc;

    assert_non_null(fp);
    fprintf(fp,
            "%s\notel_exporter console { format json; output %s; }\n"
            "otel_batch { schedule_delay 100ms; }\n",
            conf, f->s.spans_path);
    assert_int_equal(fclose(fp), 0);
    rc = mhd_otel_new(&f->m, f->s.conf_path, err, sizeof(err));
    if (rc != OTEL_OK)
        fail_msg("mhd_otel_new: %d %s", rc, err);
    assert_non_null(f->m);
}

/* The daemon f->d started: remember its port for curl. */
static void port_ok(fixture *f)
{
    const union MHD_DaemonInfo *di;
    struct sockaddr_in bound;
    socklen_t len = sizeof(bound);

    if (f->d == NULL)
        fail_msg("mhd_otel_start_daemon returned NULL");
    di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    assert_int_not_equal(di->port, 0);
    f->s.port = di->port;
    /* MHD_OPTION_SOCK_ADDR reached MHD: the daemon listens on 127.0.0.1. */
    di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_LISTEN_FD);
    assert_non_null(di);
    assert_int_equal(getsockname(di->listen_fd, (struct sockaddr *)&bound, &len), 0);
    assert_int_equal(bound.sin_family, AF_INET);
    assert_int_equal(ntohl(bound.sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(ntohs(bound.sin_port), f->s.port);
}

/* Start the app's daemon with its callbacks passed as varargs, plus the
 * options of extra (an MHD_OPTION_ARRAY; NULL: none). */
static void start_ok(fixture *f, unsigned int flags, const struct MHD_OptionItem *extra)
{
    static const struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};

    f->d = mhd_otel_start_daemon(
        f->m, flags, 0, NULL, NULL, app_handler, &f->a, MHD_OPTION_NOTIFY_COMPLETED, app_completed,
        &f->a, MHD_OPTION_URI_LOG_CALLBACK, app_uri_log, &f->a, MHD_OPTION_NOTIFY_CONNECTION,
        app_notify_connection, &f->a, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
        MHD_OPTION_ARRAY, extra != NULL ? extra : none, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&f->sa, MHD_OPTION_END);
    port_ok(f);
}

/* Stop the daemon, free the module (which flushes), read the spans. */
static void stop_ok(fixture *f, itest_spans *sp)
{
    char why[256];

    mhd_otel_stop_daemon(f->d);
    f->d = NULL;
    mhd_otel_del(f->m);
    f->m = NULL;
    if (itest_spans_read(f->s.spans_path, sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", f->s.spans_path, why);
}

/* No callback recorded an error. */
static void app_ok(app *a)
{
    pthread_mutex_lock(&a->mu);
    int errors = a->errors;
    char why[sizeof(a->why)];
    memcpy(why, a->why, sizeof(why));
    pthread_mutex_unlock(&a->mu);
    if (errors != 0)
        fail_msg("%d error(s) in the server's callbacks, first: %s", errors, why);
}

/* GET (or what extra says) path; header may be NULL. Returns the status. */
static int request(fixture *f, const char *path, const char *header, const char *const *extra)
{
    const char *args[8] = {NULL};
    size_t n = 0;
    itest_response r;

    if (header != NULL) {
        args[n++] = "-H";
        args[n++] = header;
    }
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 7; i++)
        args[n++] = extra[i];
    if (itest_curl(&f->s, path, args, &r) != 0)
        fail_msg("could not run curl for %s", path);
    itest_response_free(&r);
    return r.status;
}

static int get(fixture *f, const char *path)
{
    return request(f, path, NULL, NULL);
}

/* Wait up to timeout_ms for the completion callback to have run n times. */
static bool wait_completed(app *a, int n, int timeout_ms)
{
    for (int waited = 0; atomic_load(&a->completed) < n; waited += 10) {
        if (waited >= timeout_ms)
            return false;
        sleep_ms(10);
    }
    return true;
}

static void *curl_job_run(void *arg)
{
    curl_job *j = arg;

    j->ok = itest_curl_repeat(j->s, j->path, j->n, 200);
    return NULL;
}

/* n_jobs curl processes at once, each GETting path per_job times over one
 * connection. Returns the number answered 200. */
static int curl_concurrent(fixture *f, const char *path, int n_jobs, int per_job)
{
    curl_job jobs[8];
    int ok = 0;

    assert_true(n_jobs <= 8);
    for (int i = 0; i < n_jobs; i++) {
        jobs[i].s = &f->s;
        jobs[i].path = path;
        jobs[i].n = per_job;
        jobs[i].ok = -1;
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, curl_job_run, &jobs[i]), 0);
    }
    for (int i = 0; i < n_jobs; i++) {
        pthread_join(jobs[i].thread, NULL);
        if (jobs[i].ok > 0)
            ok += jobs[i].ok;
    }
    return ok;
}

/* Open a connection, send text (a request cut short), wait until the
 * server has read it (*seen reaches want: bounded, not a guess of how long
 * parsing takes), close. */
static void send_partial(uint16_t port, const char *text, atomic_int *seen, int want)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    size_t len = strlen(text);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
    for (int waited = 0; atomic_load(seen) < want; waited += 5) {
        if (waited >= 10000)
            fail_msg("the server did not read the partial request in 10 s");
        sleep_ms(5);
    }
    close(fd);
}

static size_t count_kind(const itest_spans *sp, const char *kind)
{
    size_t n = 0;

    for (size_t i = 0; i < sp->n; i++) {
        const char *k = itest_span_str(sp->v[i], "kind");
        if (k != NULL && strcmp(k, kind) == 0)
            n++;
    }
    return n;
}

static size_t count_path(const itest_spans *sp, const char *path)
{
    size_t n = 0;

    for (size_t i = 0; i < sp->n; i++) {
        const char *p = itest_span_attr_str(sp->v[i], "url.path");
        if (p != NULL && strcmp(p, path) == 0)
            n++;
    }
    return n;
}

static const cJSON *span_for_path(const itest_spans *sp, const char *path)
{
    const cJSON *span = itest_spans_find_attr(sp, "url.path", path);

    if (span == NULL)
        fail_msg("no span with url.path %s among %zu spans", path, sp->n);
    return span;
}

static void assert_attr_str(const cJSON *span, const char *key, const char *want)
{
    const char *got = itest_span_attr_str(span, key);

    if (got == NULL)
        fail_msg("attribute %s missing (want \"%s\")", key, want);
    assert_string_equal(got, want);
}

static int64_t attr_int(const cJSON *span, const char *key)
{
    int64_t v = 0;

    if (!itest_span_attr_int(span, key, &v))
        fail_msg("attribute %s missing or not an integer", key);
    return v;
}

/* Every span is a server span, and no two share a span id. */
static void assert_distinct_server_spans(const itest_spans *sp)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *id = itest_span_str(sp->v[i], "span_id");
        assert_string_equal(itest_span_str(sp->v[i], "kind"), "server");
        assert_true(itest_is_hex_id(id, 16));
        for (size_t j = 0; j < i; j++)
            if (strcmp(id, itest_span_str(sp->v[j], "span_id")) == 0)
                fail_msg("spans %zu and %zu share span id %s", j, i, id);
    }
}

/* 5 requests over one keep-alive connection and 3 on their own: the app's
 * callbacks ran once per request / connection with its own pointers, and
 * each request has exactly one server span. */
static void drive_callbacks_and_check(fixture *f)
{
    app *a = &f->a;
    itest_spans sp;

    assert_int_equal(itest_curl_repeat(&f->s, "/items/1", 5, 200), 5);
    assert_int_equal(get(f, "/items/2"), 200);
    assert_int_equal(get(f, "/items/3?x=1"), 200);
    assert_int_equal(get(f, "/create"), 201);
    /* MHD tells a request complete after curl has its answer: wait for it,
     * or the daemon's stop would end it (DAEMON_SHUTDOWN). */
    assert_true(wait_completed(a, 8, 10000));
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->uri_log_calls), 8);
    assert_int_equal(atomic_load(&a->handler_requests), 8);
    assert_int_equal(atomic_load(&a->completed), 8);
    assert_int_equal(atomic_load(&a->completed_ok), 8);
    assert_int_equal(atomic_load(&a->last_toe), MHD_REQUEST_TERMINATED_COMPLETED_OK);
    assert_int_equal(atomic_load(&a->conn_started), 4);
    assert_int_equal(atomic_load(&a->conn_closed), 4);
    assert_int_equal(sp.n, 8);
    assert_int_equal(count_kind(&sp, "server"), 8);
    assert_int_equal(count_path(&sp, "/items/1"), 5);
    assert_int_equal(count_path(&sp, "/items/2"), 1);
    assert_int_equal(count_path(&sp, "/items/3"), 1);
    assert_int_equal(count_path(&sp, "/create"), 1);
    assert_distinct_server_spans(&sp);
    assert_string_equal(itest_span_str(span_for_path(&sp, "/items/2"), "name"), "GET /items/{id}");
    assert_attr_str(span_for_path(&sp, "/items/3"), "url.query", "x=1");
    assert_int_equal(attr_int(span_for_path(&sp, "/create"), "http.response.status_code"), 201);
    itest_spans_free(&sp);
}

/* ---- tests --------------------------------------------------------------- */

static void test_start_daemon_app_callbacks_varargs(void **state)
{
    fixture *f = *state;

    f->a.uri_log = true;
    load_ok(f, BASE_CONF);
    assert_int_equal(mhd_otel_enabled(f->m), 1);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, NULL);
    drive_callbacks_and_check(f);
}

static void test_start_daemon_app_callbacks_nested_array(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    const struct MHD_OptionItem inner[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)app_completed, a},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)app_uri_log, a},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)app_notify_connection, a},
        {MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    const struct MHD_OptionItem outer[] = {
        {MHD_OPTION_ARRAY, 0, (void *)inner},
        {MHD_OPTION_SOCK_ADDR, 0, &f->sa},
        {MHD_OPTION_END, 0, NULL},
    };

    a->uri_log = true;
    load_ok(f, BASE_CONF);
    f->d = mhd_otel_start_daemon(f->m, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL,
                                 NULL, app_handler, a, MHD_OPTION_ARRAY, outer, MHD_OPTION_END);
    port_ok(f);
    drive_callbacks_and_check(f);
}

static void test_connection_span_in_handler_and_child(void **state)
{
    fixture *f = *state;
    const cJSON *server;
    const cJSON *child;
    itest_spans sp;

    load_ok(f, BASE_CONF);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, NULL);
    assert_int_equal(get(f, "/child"), 200);
    assert_null(otel_span_current());
    stop_ok(f, &sp);
    app_ok(&f->a);
    assert_int_equal(sp.n, 2);
    server = itest_spans_find_kind(&sp, "server");
    child = itest_spans_find(&sp, "app-child");
    assert_non_null(server);
    assert_non_null(child);
    assert_string_equal(itest_span_str(child, "kind"), "internal");
    assert_string_equal(itest_span_str(child, "parent_span_id"), itest_span_str(server, "span_id"));
    assert_string_equal(itest_span_str(child, "trace_id"), itest_span_str(server, "trace_id"));
    assert_string_not_equal(itest_span_str(child, "span_id"), itest_span_str(server, "span_id"));
    assert_attr_str(server, "app.handler", "child");
    assert_int_equal(attr_int(child, "app.step"), 7);
    assert_true(itest_span_start(server) <= itest_span_start(child));
    assert_true(itest_span_end(child) <= itest_span_end(server));
    itest_spans_free(&sp);
}

static void test_request_and_response_hooks(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    const cJSON *created;
    const cJSON *down;
    itest_spans sp;

    load_ok(f, BASE_CONF);
    mhd_otel_set_request_hook(f->m, app_request_hook, a);
    mhd_otel_set_response_hook(f->m, app_response_hook, a);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, NULL);
    assert_int_equal(request(f, "/create", "X-User-ID: u-17", NULL), 201);
    assert_int_equal(request(f, "/down", "X-User-ID: u-99", NULL), 503);
    assert_int_equal(request(f, "/health", "X-User-ID: u-0", NULL), 200);
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->completed), 3);
    assert_int_equal(atomic_load(&a->req_hook_calls), 2);
    assert_int_equal(atomic_load(&a->resp_hook_calls), 2);
    assert_ptr_equal(a->hook_ud, a);
    assert_string_equal(a->hook_log[0], "GET /create");
    assert_string_equal(a->hook_log[1], "GET /down");
    assert_int_equal(a->hook_status[0], 201);
    assert_int_equal(a->hook_status[1], 503);

    assert_int_equal(sp.n, 2);
    assert_int_equal(count_path(&sp, "/health"), 0);
    created = span_for_path(&sp, "/create");
    down = span_for_path(&sp, "/down");
    assert_attr_str(created, "enduser.id", "u-17");
    assert_int_equal(attr_int(created, "app.response_status"), 201);
    assert_int_equal(attr_int(created, "http.response.status_code"), 201);
    assert_string_equal(itest_span_status(created), "unset");
    assert_null(itest_span_attr(created, "error.type"));
    assert_attr_str(down, "enduser.id", "u-99");
    assert_int_equal(attr_int(down, "app.response_status"), 503);
    assert_int_equal(attr_int(down, "http.response.status_code"), 503);
    assert_string_equal(itest_span_status(down), "error");
    assert_attr_str(down, "error.type", "503");
    itest_spans_free(&sp);
}

static void test_post_body_over_several_calls(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    char data_arg[ITEST_PATH_MAX + 1];
    const char *extra[] = {"--data-binary", data_arg, "-H",
                           "Content-Type: application/octet-stream", NULL};
    itest_response r;
    itest_spans sp;
    FILE *fp;

    /* No URI log state here: the handler keeps its own pointer. */
    a->uri_log = false;
    fp = fopen(f->upload_path, "wb");
    assert_non_null(fp);
    for (unsigned int i = 0; i < UPLOAD_SIZE; i++)
        assert_int_not_equal(fputc((int)('a' + i % 26), fp), EOF);
    assert_int_equal(fclose(fp), 0);
    snprintf(data_arg, sizeof(data_arg), "@%s", f->upload_path);

    load_ok(f, BASE_CONF);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, NULL);
    assert_int_equal(itest_curl(&f->s, "/upload", extra, &r), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "received 204800");
    itest_response_free(&r);
    assert_true(wait_completed(a, 1, 10000)); /* completed before the stop */
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->handler_requests), 1);
    assert_int_equal(atomic_load(&a->completed), 1);
    assert_int_equal(atomic_load(&a->completed_ok), 1);
    assert_true(atomic_load(&a->upload_calls) >= 2);
    assert_int_equal(atomic_load(&a->upload_bytes), UPLOAD_SIZE);
    assert_int_equal(sp.n, 1);
    assert_attr_str(sp.v[0], "http.request.method", "POST");
    assert_attr_str(sp.v[0], "url.path", "/upload");
    assert_int_equal(attr_int(sp.v[0], "http.response.status_code"), 201);
    assert_string_equal(itest_span_status(sp.v[0]), "unset");
    itest_spans_free(&sp);
}

static void test_trace_off_serves_untraced(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    otel_stats st;
    itest_spans sp;

    a->uri_log = true;
    a->expect_span = false;
    load_ok(f, "otel_trace off;\notel_route /items/{id};\n");
    assert_int_equal(mhd_otel_enabled(f->m), 0);
    mhd_otel_set_request_hook(f->m, app_request_hook, a);
    mhd_otel_set_response_hook(f->m, app_response_hook, a);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, NULL);
    assert_int_equal(itest_curl_repeat(&f->s, "/items/1", 2, 200), 2);
    assert_int_equal(get(f, "/down"), 503);
    mhd_otel_stats(f->m, &st);
    assert_int_equal(st.ended, 0);
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->uri_log_calls), 3);
    assert_int_equal(atomic_load(&a->handler_requests), 3);
    assert_int_equal(atomic_load(&a->completed), 3);
    assert_int_equal(atomic_load(&a->conn_started), 2);
    assert_int_equal(atomic_load(&a->conn_closed), 2);
    assert_int_equal(atomic_load(&a->req_hook_calls), 0);
    assert_int_equal(atomic_load(&a->resp_hook_calls), 0);
    assert_int_equal(sp.n, 0);
    itest_spans_free(&sp);
}

/* 4 curl processes at once, 5 keep-alive requests each. */
static void run_concurrent(fixture *f, unsigned int flags, const struct MHD_OptionItem *extra)
{
    app *a = &f->a;
    itest_spans sp;

    a->uri_log = true;
    load_ok(f, BASE_CONF);
    start_ok(f, flags, extra);
    assert_int_equal(curl_concurrent(f, "/items/7", 4, 5), 20);
    assert_true(wait_completed(a, 20, 10000)); /* completed before the stop */
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->completed), 20);
    assert_int_equal(atomic_load(&a->completed_ok), 20);
    assert_int_equal(atomic_load(&a->handler_requests), 20);
    assert_int_equal(atomic_load(&a->conn_started), atomic_load(&a->conn_closed));
    assert_int_equal(sp.n, 20);
    assert_int_equal(count_path(&sp, "/items/7"), 20);
    assert_distinct_server_spans(&sp);
    itest_spans_free(&sp);
}

static void test_thread_per_connection_concurrent(void **state)
{
    run_concurrent(*state, MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, NULL);
}

static void test_thread_pool_concurrent(void **state)
{
    static const struct MHD_OptionItem pool[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, 3, NULL},
        {MHD_OPTION_END, 0, NULL},
    };

    run_concurrent(*state, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, pool);
}

/* The span of a request the client gave up on. */
static void assert_aborted_span(const cJSON *span)
{
    const char *type = itest_span_attr_str(span, "error.type");

    assert_string_equal(itest_span_str(span, "kind"), "server");
    assert_string_equal(itest_span_status(span), "error");
    if (type == NULL || (strcmp(type, "client_abort") != 0 && strcmp(type, "read_error") != 0 &&
                         strcmp(type, "terminated_with_error") != 0))
        fail_msg("error.type is %s, want client_abort, read_error or terminated_with_error",
                 type ? type : "(absent)");
}

static void test_client_abort_partial_request(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    itest_spans sp;

    a->uri_log = true;
    load_ok(f, BASE_CONF);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, NULL);
    /* Cut in the headers: the handler never runs. */
    send_partial(f->s.port,
                 "GET /items/partial HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Cut: ", &a->uri_log_calls, 1);
    assert_true(wait_completed(a, 1, 10000));
    assert_int_not_equal(atomic_load(&a->last_toe), MHD_REQUEST_TERMINATED_COMPLETED_OK);
    assert_int_equal(atomic_load(&a->handler_requests), 0);
    /* Cut in the body: the handler has seen the headers and some data. */
    send_partial(f->s.port,
                 "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Length: 1000\r\n\r\n0123456789",
                 &a->handler_requests, 1);
    assert_true(wait_completed(a, 2, 10000));
    assert_int_not_equal(atomic_load(&a->last_toe), MHD_REQUEST_TERMINATED_COMPLETED_OK);
    assert_int_equal(atomic_load(&a->handler_requests), 1);
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->uri_log_calls), 2);
    assert_int_equal(atomic_load(&a->completed), 2);
    assert_int_equal(atomic_load(&a->completed_ok), 0);
    assert_int_equal(sp.n, 2);
    assert_aborted_span(span_for_path(&sp, "/items/partial"));
    assert_aborted_span(span_for_path(&sp, "/upload"));
    assert_attr_str(span_for_path(&sp, "/upload"), "http.request.method", "POST");
    assert_null(itest_span_attr(span_for_path(&sp, "/upload"), "http.response.status_code"));
    itest_spans_free(&sp);
}

static void test_client_timeout_during_slow_handler(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    const char *extra[] = {"--max-time", "0.3", NULL};
    itest_spans sp;

    a->uri_log = true;
    a->slow_ms = 800;
    load_ok(f, BASE_CONF);
    start_ok(f, MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, NULL);
    assert_int_equal(request(f, "/slow", NULL, extra), 0);
    assert_true(wait_completed(a, 1, 10000));
    assert_int_not_equal(atomic_load(&a->last_toe), MHD_REQUEST_TERMINATED_COMPLETED_OK);
    stop_ok(f, &sp);
    app_ok(a);
    assert_int_equal(atomic_load(&a->completed), 1);
    assert_int_equal(atomic_load(&a->completed_ok), 0);
    assert_int_equal(sp.n, 1);
    assert_aborted_span(sp.v[0]);
    assert_attr_str(sp.v[0], "url.path", "/slow");
    itest_spans_free(&sp);
}

static void test_suspend_resume_one_span(void **state)
{
    fixture *f = *state;
    app *a = &f->a;
    const cJSON *span;
    itest_spans sp;

    a->uri_log = true;
    load_ok(f, BASE_CONF);
    start_ok(f, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, NULL);
    assert_int_equal(get(f, "/suspend"), 200);
    assert_int_equal(get(f, "/items/after"), 200);
    assert_true(wait_completed(a, 2, 10000)); /* completed before the stop */
    stop_ok(f, &sp);
    pthread_mutex_lock(&a->mu);
    bool started = a->resumer_started;
    pthread_mutex_unlock(&a->mu);
    assert_true(started);
    pthread_join(a->resumer, NULL);
    app_ok(a);
    assert_int_equal(atomic_load(&a->completed_ok), 2);
    assert_int_equal(sp.n, 2);
    span = span_for_path(&sp, "/suspend");
    assert_int_equal(attr_int(span, "http.response.status_code"), 200);
    assert_string_equal(itest_span_status(span), "unset");
    assert_true(itest_span_end(span) - itest_span_start(span) >= 45000000u);
    assert_int_equal(attr_int(span_for_path(&sp, "/items/after"), "http.response.status_code"),
                     200);
    itest_spans_free(&sp);
}

/* A dual-stack daemon sees an IPv4 client as ::ffff:a.b.c.d; the HTTP
 * semantic conventions' client.address is the IPv4 address it is. The
 * daemon listens on the IPv4-mapped loopback address only. */
static void test_dual_stack_client_address_ipv4(void **state)
{
    fixture *f = *state;
    struct sockaddr_in6 sa6;
    socklen_t len = sizeof(sa6);
    int off = 0, one = 1;
    itest_spans sp;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);

    if (fd < 0)
        skip(); /* no IPv6 in this kernel */
    memset(&sa6, 0, sizeof(sa6));
    sa6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &sa6.sin6_addr), 1);
    assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)), 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa6, &len), 0);
    load_ok(f, BASE_CONF);
    f->d = mhd_otel_start_daemon(f->m, MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_DUAL_STACK, 0,
                                 NULL, NULL, app_handler, &f->a, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_END);
    assert_non_null(f->d);
    f->s.port = ntohs(sa6.sin6_port);
    assert_int_equal(get(f, "/items/1"), 200);
    stop_ok(f, &sp);
    assert_int_equal(sp.n, 1);
    assert_attr_str(sp.v[0], "client.address", "127.0.0.1");
    assert_true(attr_int(sp.v[0], "client.port") > 0);
    itest_spans_free(&sp);
}

static char app_log_last[1024];
static atomic_int app_log_calls;

static void app_log(void *ud, otel_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    atomic_fetch_add(&app_log_calls, 1);
    snprintf(app_log_last, sizeof(app_log_last), "%s", msg);
}

/* A program's log function, set before mhd_otel_new, keeps receiving the
 * library's messages (here: the notice that no exporter is configured). */
static void test_new_keeps_application_logger(void **state)
{
    fixture *f = *state;
    char err[256];
    FILE *fp = fopen(f->s.conf_path, "w");

    assert_non_null(fp);
    fprintf(fp, "otel_trace on;\n");
    assert_int_equal(fclose(fp), 0);
    atomic_store(&app_log_calls, 0);
    otel_log_set(app_log, NULL);
    setenv("OTEL_TRACES_EXPORTER", "none", 1); /* no daemon runs: no other thread reads it */
    assert_int_equal(mhd_otel_new(&f->m, f->s.conf_path, err, sizeof(err)), OTEL_OK);
    unsetenv("OTEL_TRACES_EXPORTER");
    otel_log_set(NULL, NULL);
    assert_true(atomic_load(&app_log_calls) >= 1);
    assert_non_null(strstr(app_log_last, "no exporter configured"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_daemon_app_callbacks_varargs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_daemon_app_callbacks_nested_array, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_connection_span_in_handler_and_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_and_response_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_body_over_several_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_off_serves_untraced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_per_connection_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_pool_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_abort_partial_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_timeout_during_slow_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_resume_one_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dual_stack_client_address_ipv4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_keeps_application_logger, setup, teardown),
    };

    return cmocka_run_group_tests_name("integration: library API in-process", tests, NULL, NULL);
}
