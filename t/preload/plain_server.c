/* plain_server.c - a libmicrohttpd server built without mhd-otel, for the
 * LD_PRELOAD tests: its own completion, URI log and connection callbacks and
 * per-request pointer, in every MHD threading mode, counted with atomics. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define REQ_MAGIC 0x706c5271u  /* "plRq" */
#define CONN_MAGIC 0x706c4363u /* "plCc" */
#define RESUME_DELAY_MS 100
#define SLOW_MS 1000
#define SLOW_BODY_SIZE (16u << 20) /* big enough that writing it to a gone client fails */
#define POOL_THREADS 4

typedef enum mode {
    MODE_SELECT,
    MODE_POLL,
    MODE_EPOLL,
    MODE_POOL,
    MODE_THREAD,
    MODE_EXTERNAL
} mode;

/* The request state the URI log callback makes; freed at completion. */
typedef struct plain_req {
    unsigned int magic;
    int handler_calls;
    size_t bytes;
    int suspended;
    char uri[256];
} plain_req;

/* The connection state set at NOTIFY_CONNECTION STARTED. */
typedef struct plain_conn {
    unsigned int magic;
} plain_conn;

typedef struct resume_job {
    struct MHD_Connection *conn;
} resume_job;

static atomic_long n_uri_log;
static atomic_long n_handler_first;
static atomic_long n_completed;
static atomic_long n_completed_ok;
static atomic_long n_conn_started;
static atomic_long n_conn_closed;
static atomic_long n_ptr_mismatch;
static atomic_long n_bytes;
static atomic_int resumers; /* resume threads not finished yet */
static mode server_mode;
static volatile sig_atomic_t stop_requested;
static char slow_body[SLOW_BODY_SIZE];

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void mismatch(const char *what)
{
    atomic_fetch_add(&n_ptr_mismatch, 1);
    fprintf(stderr, "plain-server: pointer mismatch: %s\n", what);
}

/* ---- the server's callbacks ---------------------------------------------- */

static void *on_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    plain_req *rq = calloc(1, sizeof(*rq));

    (void)cls;
    (void)conn;
    atomic_fetch_add(&n_uri_log, 1);
    if (rq == NULL)
        return NULL;
    rq->magic = REQ_MAGIC;
    snprintf(rq->uri, sizeof(rq->uri), "%s", uri != NULL ? uri : "");
    return rq;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    plain_conn *c = *socket_context;

    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&n_conn_started, 1);
        if (c != NULL)
            mismatch("socket_context not NULL at STARTED");
        c = calloc(1, sizeof(*c));
        if (c != NULL)
            c->magic = CONN_MAGIC;
        *socket_context = c;
        return;
    }
    atomic_fetch_add(&n_conn_closed, 1);
    if (c == NULL || c->magic != CONN_MAGIC) {
        mismatch("socket_context at CLOSED is not the one set at STARTED");
        return;
    }
    c->magic = 0;
    free(c);
    *socket_context = NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    plain_req *rq = *req_cls;

    (void)cls;
    (void)conn;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        atomic_fetch_add(&n_completed_ok, 1);
    if (rq == NULL || rq->magic != REQ_MAGIC) {
        mismatch("req_cls at completion is not the URI log pointer");
    } else {
        rq->magic = 0;
        free(rq);
        *req_cls = NULL;
    }
    atomic_fetch_add(&n_completed, 1);
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    (void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void *resume_later(void *arg)
{
    resume_job *j = arg;

    sleep_ms(RESUME_DELAY_MS);
    MHD_resume_connection(j->conn);
    free(j);
    atomic_fetch_sub(&resumers, 1);
    return NULL;
}

/* /suspend: suspend once, resumed from another thread, answer after. */
static enum MHD_Result handle_suspend(struct MHD_Connection *conn, plain_req *rq)
{
    resume_job *j;
    pthread_t t;

    if (rq->suspended)
        return respond(conn, MHD_HTTP_OK, "resumed\n");
    j = malloc(sizeof(*j));
    if (j == NULL)
        return MHD_NO;
    j->conn = conn;
    rq->suspended = 1;
    MHD_suspend_connection(conn);
    atomic_fetch_add(&resumers, 1);
    if (pthread_create(&t, NULL, resume_later, j) != 0) {
        atomic_fetch_sub(&resumers, 1);
        free(j);
        MHD_resume_connection(conn);
        return MHD_YES;
    }
    pthread_detach(t);
    return MHD_YES;
}

/* POST /upload: count the body over every call, then 201 with the count. */
static enum MHD_Result handle_upload(struct MHD_Connection *conn, plain_req *rq,
                                     size_t *upload_data_size)
{
    char body[64];

    if (*upload_data_size > 0) {
        rq->bytes += *upload_data_size;
        atomic_fetch_add(&n_bytes, (long)*upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->handler_calls == 1)
        return MHD_YES; /* headers only so far */
    snprintf(body, sizeof(body), "%zu\n", rq->bytes);
    return respond(conn, MHD_HTTP_CREATED, body);
}

static enum MHD_Result handle_slow(struct MHD_Connection *conn)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    sleep_ms(SLOW_MS);
    resp = MHD_create_response_from_buffer(sizeof(slow_body), slow_body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    plain_req *rq = *req_cls;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (rq == NULL || rq->magic != REQ_MAGIC) {
        mismatch("req_cls in the handler is not the URI log pointer");
        return MHD_NO;
    }
    if (rq->handler_calls++ == 0) {
        atomic_fetch_add(&n_handler_first, 1);
        if (strncmp(rq->uri, url, strlen(url)) != 0)
            mismatch("req_cls in the handler belongs to another URI");
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) == 0 && strcmp(url, "/upload") == 0)
        return handle_upload(conn, rq, upload_data_size);
    /* Answer from the second call, once the request is fully read: an
     * earlier answer makes MHD close the connection. */
    if (rq->handler_calls == 1)
        return MHD_YES;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strncmp(url, "/hello/", 7) == 0 && url[7] != '\0' && strchr(url + 7, '/') == NULL)
        return respond(conn, MHD_HTTP_OK, "hello\n");
    if (strcmp(url, "/fail") == 0)
        return respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "fail\n");
    if (strcmp(url, "/suspend") == 0 && server_mode == MODE_THREAD)
        return respond(conn, MHD_HTTP_NOT_IMPLEMENTED, "no suspend in thread mode\n");
    if (strcmp(url, "/suspend") == 0)
        return handle_suspend(conn, rq);
    if (strcmp(url, "/slow") == 0)
        return handle_slow(conn);
    return respond(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- start, run, stop ---------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int parse_mode(const char *s, mode *out)
{
    static const char *const names[] = {"select", "poll", "epoll", "pool", "thread", "external"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (mode)i;
            return 0;
        }
    }
    return -1;
}

static unsigned int mode_flags(mode m)
{
    unsigned int f = MHD_USE_ERROR_LOG;

    switch (m) {
    case MODE_SELECT:
        return f | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    case MODE_POLL:
        return f | MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    case MODE_EPOLL:
        return f | MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    case MODE_POOL:
        return f | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    case MODE_THREAD:
        /* MHD 0.9.75 cannot suspend in thread-per-connection mode */
        return f | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    case MODE_EXTERNAL:
        return f | MHD_ALLOW_SUSPEND_RESUME;
    }
    return f;
}

static struct MHD_Daemon *start(mode m, int use_array, const struct sockaddr_in *sa)
{
    unsigned int flags = mode_flags(m);
    unsigned int pool = m == MODE_POOL ? POOL_THREADS : 0;

    if (use_array) {
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
            {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri_log, NULL},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL},
            {MHD_OPTION_SOCK_ADDR, 0, (void *)sa},
            {MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL},
            {pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)pool, NULL},
            {MHD_OPTION_END, 0, NULL},
        };
        /* The array is read by MHD_start_daemon only. */
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_ARRAY, opts,
                                MHD_OPTION_END);
    }
    if (pool)
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                                on_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri_log, NULL,
                                MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                                MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                                MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_END);
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri_log, NULL,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_SOCK_ADDR,
                            (const struct sockaddr *)sa, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)30, MHD_OPTION_END);
}

/* The external event loop: MHD_get_fdset + select + MHD_run until SIGTERM
 * (pselect lets the signal in only while waiting). */
static int run_external(struct MHD_Daemon *d, const sigset_t *waitmask)
{
    while (!stop_requested) {
        fd_set rs, ws, es;
        MHD_socket max = 0;
        MHD_UNSIGNED_LONG_LONG to = 0;
        struct timespec ts = {1, 0};

        FD_ZERO(&rs);
        FD_ZERO(&ws);
        FD_ZERO(&es);
        if (MHD_get_fdset(d, &rs, &ws, &es, &max) != MHD_YES) {
            fprintf(stderr, "plain-server: MHD_get_fdset failed\n");
            return -1;
        }
        if (MHD_get_timeout(d, &to) == MHD_YES && to < 1000) {
            ts.tv_sec = 0;
            ts.tv_nsec = (long)to * 1000000L;
        }
        if (pselect(max + 1, &rs, &ws, &es, &ts, waitmask) < 0 && errno != EINTR) {
            perror("plain-server: pselect");
            return -1;
        }
        if (MHD_run(d) != MHD_YES) {
            fprintf(stderr, "plain-server: MHD_run failed\n");
            return -1;
        }
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: plain-server [--mode select|poll|epoll|pool|thread|external] "
                    "[--port N] [--options varargs|array] [--stop-daemon yes|no]\n"
                    "       [--signals handler-before|handler-after|sigwait|default]\n");
    exit(2);
}

/* How the server takes SIGTERM and SIGINT. */
typedef enum signals {
    SIG_HANDLER_BEFORE, /* its own handler, installed before the daemon starts */
    SIG_HANDLER_AFTER,  /* its own handler, installed after the daemon started */
    SIG_SIGWAIT,        /* blocked everywhere, read with sigwait */
    SIG_DEFAULT         /* left at the default action: the server dies of them */
} signals;

static int parse_signals(const char *s, signals *out)
{
    static const char *const names[] = {"handler-before", "handler-after", "sigwait", "default"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (signals)i;
            return 0;
        }
    }
    return -1;
}

/* The server's own handler for SIGTERM and SIGINT, delivered to the main
 * thread only while it waits: the threads started afterwards inherit the
 * blocked mask; waitmask is the mask to wait with. */
static void install_handler(sigset_t *waitmask)
{
    struct sigaction act;
    sigset_t block;

    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, waitmask);
    sigdelset(waitmask, SIGTERM);
    sigdelset(waitmask, SIGINT);
}

int main(int argc, char **argv)
{
    mode m = MODE_SELECT;
    int use_array = 0;
    int stop_daemon = 1; /* no: exit with the daemon still running */
    long port = 0;
    struct sockaddr_in sa, bound;
    socklen_t bound_len = sizeof(bound);
    char addr[INET_ADDRSTRLEN];
    sigset_t block, waitmask;
    signals sig_mode = SIG_HANDLER_BEFORE;
    const union MHD_DaemonInfo *di;
    struct MHD_Daemon *d;
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--mode") == 0) {
            if (parse_mode(argv[++i], &m) != 0)
                usage();
        } else if (strcmp(argv[i], "--port") == 0) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*end != '\0' || port < 0 || port > 65535)
                usage();
        } else if (strcmp(argv[i], "--stop-daemon") == 0) {
            i++;
            if (strcmp(argv[i], "no") == 0)
                stop_daemon = 0;
            else if (strcmp(argv[i], "yes") != 0)
                usage();
        } else if (strcmp(argv[i], "--signals") == 0) {
            if (parse_signals(argv[++i], &sig_mode) != 0)
                usage();
        } else if (strcmp(argv[i], "--options") == 0) {
            i++;
            if (strcmp(argv[i], "array") == 0)
                use_array = 1;
            else if (strcmp(argv[i], "varargs") != 0)
                usage();
        } else {
            usage();
        }
    }
    server_mode = m;
    memset(slow_body, 's', sizeof(slow_body));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigemptyset(&waitmask);
    if (sig_mode == SIG_HANDLER_BEFORE)
        install_handler(&waitmask);
    else if (sig_mode == SIG_SIGWAIT)
        pthread_sigmask(SIG_BLOCK, &block, NULL);

    d = start(m, use_array, &sa);
    if (d == NULL) {
        fprintf(stderr, "plain-server: MHD_start_daemon failed\n");
        return 1;
    }
    /* Where the daemon really listens: MHD_OPTION_SOCK_ADDR must have
     * reached MHD. */
    di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    if (di == NULL || getsockname(di->listen_fd, (struct sockaddr *)&bound, &bound_len) != 0 ||
        bound.sin_family != AF_INET ||
        inet_ntop(AF_INET, &bound.sin_addr, addr, sizeof(addr)) == NULL) {
        fprintf(stderr, "plain-server: cannot read the listening address\n");
        MHD_stop_daemon(d);
        return 1;
    }
    if (sig_mode == SIG_HANDLER_AFTER)
        install_handler(&waitmask);
    printf("plain-server: listening on %s:%u\n", addr, (unsigned int)ntohs(bound.sin_port));
    fflush(stdout);

    if (sig_mode == SIG_DEFAULT && m != MODE_EXTERNAL) {
        for (;;)
            pause(); /* until a signal ends the process */
    } else if (sig_mode == SIG_SIGWAIT && m != MODE_EXTERNAL) {
        int got;
        while (sigwait(&block, &got) != 0)
            ;
    } else if (m == MODE_EXTERNAL) {
        rc = run_external(d, &waitmask);
    } else {
        while (!stop_requested)
            sigsuspend(&waitmask);
    }

    /* MHD must not be stopped with a connection suspended. */
    while (atomic_load(&resumers) > 0)
        sleep_ms(10);
    if (m == MODE_EXTERNAL)
        (void)MHD_run(d);
    /* MHD may tell a request complete after its client has the answer:
     * wait for that (at most 5 s), or the stop ends it as DAEMON_SHUTDOWN. */
    for (int i = 0; i < 500 && atomic_load(&n_completed) < atomic_load(&n_handler_first); i++) {
        if (m == MODE_EXTERNAL)
            (void)MHD_run(d);
        sleep_ms(10);
    }
    if (stop_daemon)
        MHD_stop_daemon(d);
    printf("plain-server: uri_log=%ld handler_first=%ld completed=%ld completed_ok=%ld "
           "conn_started=%ld conn_closed=%ld ptr_mismatch=%ld bytes=%ld\n",
           atomic_load(&n_uri_log), atomic_load(&n_handler_first), atomic_load(&n_completed),
           atomic_load(&n_completed_ok), atomic_load(&n_conn_started), atomic_load(&n_conn_closed),
           atomic_load(&n_ptr_mismatch), atomic_load(&n_bytes));
    fflush(stdout);
    return rc == 0 ? 0 : 1;
}
