/* service_b.c - the downstream service of the two-service demo: answers
 * GET /inventory/{id} with a JSON body, traced through mhd-otel, run as
 * service-b -p PORT -c CONFIG. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "../module/mhd_otel.h"

#define SVC_NAME "service-b"
#define SVC_THREADS 4
#define SVC_ERR_LEN 512
#define SVC_ID_MAX 64

static const char INVENTORY_PREFIX[] = "/inventory/";

/* Command line settings. */
typedef struct svc_opts {
    uint16_t port;
    const char *config;
} svc_opts;

static void usage(void)
{
    fprintf(stderr, "usage: " SVC_NAME " -p PORT -c CONFIG\n");
}

/* Parse a decimal port 0..65535 from s into *out. Returns 0 or -1. */
static int parse_port(const char *s, uint16_t *out)
{
    char *end = NULL;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > 65535UL)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* Fill o from argv. Returns 0, or -1 after printing what is wrong. */
static int parse_args(int argc, char **argv, svc_opts *o)
{
    int have_port = 0;
    int c;

    o->port = 0;
    o->config = NULL;
    while ((c = getopt(argc, argv, "p:c:h")) != -1) {
        switch (c) {
        case 'p':
            if (parse_port(optarg, &o->port) != 0) {
                fprintf(stderr, SVC_NAME ": bad port '%s'\n", optarg);
                return -1;
            }
            have_port = 1;
            break;
        case 'c':
            o->config = optarg;
            break;
        default:
            usage();
            return -1;
        }
    }
    if (!have_port || o->config == NULL || optind != argc) {
        usage();
        return -1;
    }
    return 0;
}

/* True when id is 1..SVC_ID_MAX bytes of [A-Za-z0-9_-]. */
static int id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > SVC_ID_MAX)
        return 0;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Queue a response holding a copy of len bytes of body with content_type. */
static enum MHD_Result respond(struct MHD_Connection *connection, unsigned int status,
                               const char *content_type, const char *body, size_t len)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ret = MHD_queue_response(connection, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *connection, unsigned int status,
                                    const char *text)
{
    return respond(connection, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* GET /inventory/{id}: {"id": "<id>", "available": <id is not "0">}. */
static enum MHD_Result handle_inventory(struct MHD_Connection *connection, const char *id)
{
    cJSON *obj = cJSON_CreateObject();
    enum MHD_Result ret;
    char *body = NULL;

    otel_span_set_attr_str(otel_span_current(), "inventory.id", id);
    if (obj != NULL && cJSON_AddStringToObject(obj, "id", id) != NULL &&
        cJSON_AddBoolToObject(obj, "available", strcmp(id, "0") != 0) != NULL)
        body = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (body == NULL)
        return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    ret = respond(connection, MHD_HTTP_OK, "application/json", body, strlen(body));
    cJSON_free(body);
    return ret;
}

/* The access handler: GET /inventory/{id}, 404 for the rest. The first call
 * only marks the request (see demo_server.c); any body is ignored. */
static enum MHD_Result svc_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    static int seen; /* address used as the per-request mark */
    const char *id;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strncmp(url, INVENTORY_PREFIX, sizeof(INVENTORY_PREFIX) - 1) != 0)
        return respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    id = url + sizeof(INVENTORY_PREFIX) - 1;
    if (!id_valid(id))
        return respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed");
    return handle_inventory(connection, id);
}

/* Start the traced daemon on 127.0.0.1:port; NULL on failure. */
static struct MHD_Daemon *start_daemon(mhd_otel *m, uint16_t port)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return mhd_otel_start_daemon(
        m, MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL,
        svc_handler, NULL, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sin,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)SVC_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)30, MHD_OPTION_END);
}

/* Print the listening line with the port the daemon really bound. */
static int announce(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

    if (info == NULL || info->port == 0) {
        fprintf(stderr, SVC_NAME ": cannot read the bound port\n");
        return -1;
    }
    printf(SVC_NAME ": listening on http://127.0.0.1:%u\n", (unsigned int)info->port);
    fflush(stdout);
    return 0;
}

/* The library's own messages (drops, export failures) go to stderr. */
static void log_to_stderr(void *user_data, otel_log_level level, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info"};

    (void)user_data;
    fprintf(stderr, SVC_NAME ": otel %s: %s\n", (unsigned int)level < 3 ? names[level] : "log",
            msg);
}

/* The self-pipe SIGINT and SIGTERM write to (see demo_server.c). */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (write(stop_pipe[1], &b, 1) < 0) {
        /* Full pipe: a stop is already pending. */
    }
    errno = saved;
}

/* Install the handlers and block the signals in this thread, so that the
 * threads started later inherit the mask. Returns 0 or -1. */
static int stop_signals_setup(const sigset_t *set)
{
    struct sigaction sa;
    int flags;

    if (pipe2(stop_pipe, O_CLOEXEC) != 0)
        return -1;
    flags = fcntl(stop_pipe[1], F_GETFL);
    if (flags < 0 || fcntl(stop_pipe[1], F_SETFL, flags | O_NONBLOCK) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

/* Unblock the signals in this thread and wait for one of them. */
static void wait_for_stop(const sigset_t *set)
{
    unsigned char b;
    ssize_t r;

    (void)pthread_sigmask(SIG_UNBLOCK, set, NULL);
    do {
        r = read(stop_pipe[0], &b, 1);
    } while (r < 0 && errno == EINTR);
}

/* Flush the tracer and print its counters on one line of stderr. */
static void report_stats(mhd_otel *m)
{
    otel_tracer *t = mhd_otel_tracer(m);
    otel_stats st;

    if (t != NULL)
        (void)otel_tracer_shutdown(t);
    memset(&st, 0, sizeof(st));
    mhd_otel_stats(m, &st);
    fprintf(stderr,
            SVC_NAME ": spans ended=%llu exported=%llu dropped=%llu failed=%llu rejected=%llu "
                     "queued=%llu\n",
            (unsigned long long)st.ended, (unsigned long long)st.exported,
            (unsigned long long)st.dropped, (unsigned long long)st.failed,
            (unsigned long long)st.rejected, (unsigned long long)st.queued);
}

int main(int argc, char **argv)
{
    char err[SVC_ERR_LEN];
    struct MHD_Daemon *d;
    mhd_otel *m = NULL;
    svc_opts o;
    sigset_t set;
    int rc;

    if (parse_args(argc, argv, &o) != 0)
        return 2;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (stop_signals_setup(&set) != 0) {
        fprintf(stderr, SVC_NAME ": cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    otel_log_set(log_to_stderr, NULL);
    err[0] = '\0';
    rc = mhd_otel_new(&m, o.config, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, SVC_NAME ": %s\n", err[0] != '\0' ? err : otel_strerror(rc));
        return 1;
    }
    d = start_daemon(m, o.port);
    if (d == NULL) {
        fprintf(stderr, SVC_NAME ": cannot start the daemon on 127.0.0.1:%u\n",
                (unsigned int)o.port);
        mhd_otel_del(m);
        return 1;
    }
    if (announce(d) != 0) {
        mhd_otel_stop_daemon(d);
        mhd_otel_del(m);
        return 1;
    }
    wait_for_stop(&set);
    mhd_otel_stop_daemon(d);
    report_stats(m);
    mhd_otel_del(m);
    return 0;
}
