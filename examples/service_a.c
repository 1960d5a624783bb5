/* service_a.c - the front service of the two-service demo: GET /order/{id}
 * asks service B for /inventory/{id} through an instrumented libcurl handle
 * (a process-order span, then a CLIENT span whose context goes to B), run as
 * service-a -p PORT -c CONFIG -b URL_OF_SERVICE_B. */
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
#include <curl/curl.h>
#include <microhttpd.h>

#include <mhd-otel/mhd_otel.h>
#include "server_util.h"
#include <mhd-otel/mhd_otel_curl.h>

#define SVC_NAME "service-a"
#define SVC_THREADS 4
#define SVC_ERR_LEN 512
#define SVC_ID_MAX 64
#define SVC_URL_MAX 512
#define SVC_BODY_MAX 16384 /* bytes of B's answer kept */
#define SVC_TIMEOUT_S 5L

static const char ORDER_PREFIX[] = "/order/";

/* Command line settings. */
typedef struct svc_opts {
    uint16_t port;
    const char *config;
    const char *backend; /* service B's base URL, no trailing '/' needed */
} svc_opts;

static void usage(void)
{
    fprintf(stderr, "usage: " SVC_NAME " -p PORT -c CONFIG -b URL_OF_SERVICE_B\n");
}

/* Fill o from argv. Returns 0, or -1 after printing what is wrong. */
static int parse_args(int argc, char **argv, svc_opts *o)
{
    int have_port = 0;
    int c;

    o->port = 0;
    o->config = NULL;
    o->backend = NULL;
    while ((c = getopt(argc, argv, "p:c:b:h")) != -1) {
        switch (c) {
        case 'p':
            if (example_parse_port(optarg, &o->port) != 0) {
                fprintf(stderr, SVC_NAME ": bad port '%s'\n", optarg);
                return -1;
            }
            have_port = 1;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'b':
            o->backend = optarg;
            break;
        default:
            usage();
            return -1;
        }
    }
    if (!have_port || o->config == NULL || o->backend == NULL || optind != argc) {
        usage();
        return -1;
    }
    return 0;
}

/* Service B's answer as received: at most SVC_BODY_MAX bytes kept. */
typedef struct svc_body {
    char text[SVC_BODY_MAX + 1];
    size_t len;
    int truncated;
} svc_body;

/* CURLOPT_WRITEFUNCTION: append to the svc_body in user. */
static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    svc_body *b = user;
    size_t len = size * n;
    size_t room = SVC_BODY_MAX - b->len;

    if (len > room) {
        b->truncated = 1;
        len = room;
    }
    memcpy(b->text + b->len, p, len);
    b->len += len;
    b->text[b->len] = '\0';
    return size * n;
}

/* GET <backend>/inventory/<id> on an instrumented handle, so the transfer is
 * a CLIENT span, child of the calling thread's current span, whose context
 * goes out in the headers. Returns the HTTP status, 0 when there was no
 * answer; the body is in b. */
static long fetch_inventory(const char *backend, const char *id, svc_body *b)
{
    size_t blen = strlen(backend);
    char url[SVC_URL_MAX];
    long status = 0;
    CURL *h;
    int n;

    while (blen > 0 && backend[blen - 1] == '/')
        blen--;
    n = snprintf(url, sizeof(url), "%.*s/inventory/%s", (int)blen, backend, id);
    if (n < 0 || (size_t)n >= sizeof(url))
        return 0;
    h = curl_easy_init();
    if (h == NULL)
        return 0;
    if (mhd_otel_curl_instrument(h, NULL) != 0) {
        curl_easy_cleanup(h);
        return 0;
    }
    if (mhd_otel_curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEDATA, b) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_TIMEOUT, SVC_TIMEOUT_S) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        mhd_otel_curl_easy_perform(h) == CURLE_OK)
        (void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    mhd_otel_curl_easy_cleanup(h);
    return status;
}

/* Ask service B about id inside a process-order span (current while it
 * runs). Returns B's JSON answer, which the caller frees with cJSON_Delete,
 * or NULL when B failed (the span then has status ERROR). */
static cJSON *process_order(const svc_opts *o, const char *id)
{
    otel_span *step = otel_span_start_child("process-order", OTEL_SPAN_KIND_INTERNAL);
    svc_body *b = calloc(1, sizeof(*b));
    otel_span *prev = NULL;
    cJSON *inv = NULL;
    long status;

    if (step != NULL)
        prev = otel_context_attach(step);
    otel_span_set_attr_str(step, "order.id", id);
    if (b != NULL) {
        status = fetch_inventory(o->backend, id, b);
        if (status == MHD_HTTP_OK && !b->truncated)
            inv = cJSON_ParseWithLength(b->text, b->len);
        if (inv != NULL && !cJSON_IsObject(inv)) {
            cJSON_Delete(inv);
            inv = NULL;
        }
    }
    if (inv == NULL)
        otel_span_set_status(step, OTEL_STATUS_ERROR, "inventory service failed");
    if (step != NULL)
        otel_context_detach(prev);
    otel_span_end(step);
    free(b);
    return inv;
}

/* GET /order/{id}: 200 {"order_id": id, "available": ..., "inventory": B's
 * answer}, or 502 when service B fails. */
static enum MHD_Result handle_order(struct MHD_Connection *connection, const svc_opts *o,
                                    const char *id)
{
    static const char bad_gateway[] = "{\"error\": \"inventory service unavailable\"}";
    cJSON *inv = process_order(o, id);
    cJSON *out = NULL;
    char *body = NULL;

    otel_span_set_attr_str(otel_span_current(), "order.id", id);
    if (inv == NULL)
        return example_respond(connection, MHD_HTTP_BAD_GATEWAY, "application/json", bad_gateway,
                               sizeof(bad_gateway) - 1, NULL);
    out = cJSON_CreateObject();
    if (out != NULL && cJSON_AddStringToObject(out, "order_id", id) != NULL &&
        cJSON_AddBoolToObject(out, "available",
                              cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(inv, "available"))) !=
            NULL &&
        cJSON_AddItemToObject(out, "inventory", inv)) {
        inv = NULL;
        body = cJSON_PrintUnformatted(out);
    }
    cJSON_Delete(inv);
    cJSON_Delete(out);
    return example_respond_json(connection, body);
}

/* The access handler: GET /order/{id}, 404 for the rest. The first call
 * only marks the request (see demo_server.c); any body is ignored. */
static enum MHD_Result svc_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    const char *id;

    (void)version;
    (void)upload_data;
    if (!example_ready_to_answer(req_cls, upload_data_size))
        return MHD_YES;
    if (strncmp(url, ORDER_PREFIX, sizeof(ORDER_PREFIX) - 1) != 0)
        return example_respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    id = url + sizeof(ORDER_PREFIX) - 1;
    if (!example_id_valid(id))
        return example_respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return example_respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed");
    return handle_order(connection, cls, id);
}

/* Start the traced daemon on 127.0.0.1:port; NULL on failure. */
static struct MHD_Daemon *start_daemon(mhd_otel *m, const svc_opts *o)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(o->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return mhd_otel_start_daemon(
        m, MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, o->port, NULL, NULL,
        svc_handler, (void *)o, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sin,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)SVC_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)30, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
    char err[SVC_ERR_LEN];
    struct MHD_Daemon *d;
    mhd_otel *m = NULL;
    svc_opts o;
    sigset_t set;
    int rc;

    example_set_name("service-a");

    if (parse_args(argc, argv, &o) != 0)
        return 2;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (example_stop_signals_setup(&set) != 0) {
        fprintf(stderr, SVC_NAME ": cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, SVC_NAME ": cannot initialise libcurl\n");
        return 1;
    }
    otel_log_set(example_log_to_stderr, NULL);
    err[0] = '\0';
    rc = mhd_otel_new(&m, o.config, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, SVC_NAME ": %s\n", err[0] != '\0' ? err : otel_strerror(rc));
        return 1;
    }
    d = start_daemon(m, &o);
    if (d == NULL) {
        fprintf(stderr, SVC_NAME ": cannot start the daemon on 127.0.0.1:%u\n",
                (unsigned int)o.port);
        mhd_otel_del(m);
        return 1;
    }
    if (example_announce(d, "127.0.0.1") != 0) {
        mhd_otel_stop_daemon(d);
        mhd_otel_del(m);
        return 1;
    }
    example_wait_for_stop(&set);
    mhd_otel_stop_daemon(d);
    example_report_stats(m);
    mhd_otel_del(m);
    curl_global_cleanup();
    return 0;
}
