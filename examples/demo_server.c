/* demo_server.c - the aiohttp tracing guide's demo on libmicrohttpd: a few
 * routes whose requests are traced through mhd-otel, plus POST /test, the W3C
 * trace-context test suite's test service, run as
 * demo-server -p PORT -c CONFIG [-a ADDR]. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include <mhd-otel/mhd_otel.h>
#include "server_util.h"
#include <mhd-otel/mhd_otel_curl.h>

#define DEMO_THREADS 4 /* MHD thread pool size unless -t says */
#define DEMO_THREADS_MAX 256
#define DEMO_ERR_LEN 512
#define DEMO_TEST_BODY_MAX 65536 /* bytes of a POST /test body; more: 413 */
#define DEMO_CALL_TIMEOUT_S 10L  /* per callback of POST /test */
#define DEMO_DRAIN_MS 1000       /* the longest a stop waits for open connections */

static const char DATA_JSON[] = "{\"user_id\": 123, \"items\": 3, \"processed\": true}";
static const char NOT_ALLOWED[] = "Method Not Allowed";
static const char ERROR_MESSAGE[] = "Something went wrong in /error";

/* Command line settings. */
typedef struct demo_opts {
    uint16_t port;
    const char *config;
    const char *addr;
    unsigned int threads; /* MHD thread pool size */
} demo_opts;

static void usage(void)
{
    fprintf(stderr, "usage: demo-server -p PORT -c CONFIG [-a ADDR] [-t THREADS]\n");
}

/* Fill o from argv. Returns 0, or -1 after printing what is wrong. */
static int parse_args(int argc, char **argv, demo_opts *o)
{
    int c;
    int have_port = 0;

    o->port = 0;
    o->config = NULL;
    o->addr = "127.0.0.1";
    o->threads = DEMO_THREADS;
    while ((c = getopt(argc, argv, "p:c:a:t:h")) != -1) {
        switch (c) {
        case 'p':
            if (example_parse_port(optarg, &o->port) != 0) {
                fprintf(stderr, "demo-server: bad port '%s'\n", optarg);
                return -1;
            }
            have_port = 1;
            break;
        case 'c':
            o->config = optarg;
            break;
        case 'a':
            o->addr = optarg;
            break;
        case 't': {
            uint16_t t;

            if (example_parse_port(optarg, &t) != 0 || t == 0 || t > DEMO_THREADS_MAX) {
                fprintf(stderr, "demo-server: bad thread count '%s' (1 to %d)\n", optarg,
                        DEMO_THREADS_MAX);
                return -1;
            }
            o->threads = t;
            break;
        }
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

/* Sleep for ms milliseconds, resuming after signals. */
static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* GET /hello and GET /hello/{name}. */
static enum MHD_Result handle_hello(struct MHD_Connection *connection, const char *name)
{
    otel_span *span = otel_span_current();
    static const char prefix[] = "Hello, ";
    size_t name_len = strlen(name);
    size_t len = sizeof(prefix) - 1 + name_len + 1;
    enum MHD_Result ret;
    char *body;

    otel_span_set_attr_str(span, "user.name", name);
    otel_span_set_attr_str(span, "endpoint.type", "greeting");
    body = malloc(len + 1);
    if (body == NULL)
        return MHD_NO;
    memcpy(body, prefix, sizeof(prefix) - 1);
    memcpy(body + sizeof(prefix) - 1, name, name_len);
    body[len - 1] = '!';
    body[len] = '\0';
    ret = example_respond(connection, MHD_HTTP_OK, "text/plain; charset=utf-8", body, len, NULL);
    free(body);
    return ret;
}

/* Run one child span called name with attribute operation=op for ms
 * milliseconds, as the current span; user_id >= 0 adds user.id. */
static void traced_step(const char *name, const char *op, int64_t user_id, long ms)
{
    otel_span *child = otel_span_start_child(name, OTEL_SPAN_KIND_INTERNAL);
    otel_span *prev = NULL;

    if (child != NULL)
        prev = otel_context_attach(child);
    otel_span_set_attr_str(child, "operation", op);
    if (user_id >= 0)
        otel_span_set_attr_int(child, "user.id", user_id);
    sleep_ms(ms);
    if (child != NULL)
        otel_context_detach(prev);
    otel_span_end(child);
}

/* GET /data: two child spans, then a JSON body. */
static enum MHD_Result handle_data(struct MHD_Connection *connection)
{
    traced_step("fetch-user-data", "database_query", 123, 5);
    traced_step("process-data", "data_processing", -1, 3);
    return example_respond(connection, MHD_HTTP_OK, "application/json", DATA_JSON,
                           sizeof(DATA_JSON) - 1, NULL);
}

/* GET /error: records the exception on the server span, answers 500. */
static enum MHD_Result handle_error(struct MHD_Connection *connection)
{
    otel_span *span = otel_span_current();

    otel_span_record_exception(span, "ValueError", ERROR_MESSAGE);
    otel_span_set_status(span, OTEL_STATUS_ERROR, ERROR_MESSAGE);
    return example_respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                "Internal Server Error: Something went wrong in /error\n");
}

/* ---- POST /test: the W3C trace-context test service ---------------------- */

/* The body of a POST /test being read. Owned by the request: freed by
 * on_completed. */
typedef struct demo_upload {
    char *data; /* heap, NUL-terminated; NULL while empty */
    size_t len;
    bool too_large; /* over DEMO_TEST_BODY_MAX: the rest is discarded */
} demo_upload;

/* Append n bytes of p to u; past the cap, drop what was read and mark u too
 * large. Returns 0, or -1 when out of memory. */
static int upload_append(demo_upload *u, const char *p, size_t n)
{
    char *grown;

    if (u->too_large)
        return 0;
    if (n > DEMO_TEST_BODY_MAX - u->len) {
        free(u->data);
        u->data = NULL;
        u->len = 0;
        u->too_large = true;
        return 0;
    }
    grown = realloc(u->data, u->len + n + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + u->len, p, n);
    u->data = grown;
    u->len += n;
    u->data[u->len] = '\0';
    return 0;
}

/* CURLOPT_WRITEFUNCTION that discards the callback's answer. */
static size_t discard_body(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

/* True when v is a string naming an http:// or https:// URL. */
static bool is_http_url(const cJSON *v)
{
    return cJSON_IsString(v) && (strncmp(v->valuestring, "http://", 7) == 0 ||
                                 strncmp(v->valuestring, "https://", 8) == 0);
}

/* True when list is a JSON array of {"url": http(s) URL, "arguments": ...}. */
static bool test_list_valid(const cJSON *list)
{
    const cJSON *item;

    if (!cJSON_IsArray(list))
        return false;
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsObject(item) || !is_http_url(cJSON_GetObjectItemCaseSensitive(item, "url")) ||
            cJSON_GetObjectItemCaseSensitive(item, "arguments") == NULL)
            return false;
    }
    return true;
}

/* POST body (len bytes, application/json) to url on an instrumented handle:
 * a CLIENT span, child of the current span, whose context goes out in the
 * headers. Returns the CURLcode (CURLE_OUT_OF_MEMORY when setting up
 * failed). */
static CURLcode post_json(const char *url, const char *body, size_t len)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    CURL *h = curl_easy_init();

    if (headers != NULL && h != NULL && mhd_otel_curl_instrument(h, NULL) == 0 &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_TIMEOUT, DEMO_CALL_TIMEOUT_S) == CURLE_OK &&
        mhd_otel_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK)
        rc = mhd_otel_curl_easy_perform(h);
    if (h != NULL)
        mhd_otel_curl_easy_cleanup(h);
    curl_slist_free_all(headers);
    return rc;
}

/* POST /test once its body u is read: for each {"url", "arguments"} of the
 * array, POST the serialized arguments to url, then 200. 400 for a body that
 * is no such array, 413 for one over DEMO_TEST_BODY_MAX. */
static enum MHD_Result handle_test(struct MHD_Connection *connection, const demo_upload *u)
{
    const cJSON *item;
    cJSON *list;

    if (u->too_large)
        return example_respond_text(connection, MHD_HTTP_CONTENT_TOO_LARGE, "Payload Too Large");
    list = u->data != NULL ? cJSON_ParseWithLength(u->data, u->len) : NULL;
    if (!test_list_valid(list)) {
        cJSON_Delete(list);
        return example_respond_text(connection, MHD_HTTP_BAD_REQUEST,
                                    "expected a JSON array of {\"url\": ..., \"arguments\": ...}");
    }
    cJSON_ArrayForEach(item, list)
    {
        const char *url = cJSON_GetObjectItemCaseSensitive(item, "url")->valuestring;
        char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(item, "arguments"));
        CURLcode rc = args != NULL ? post_json(url, args, strlen(args)) : CURLE_OUT_OF_MEMORY;

        if (rc != CURLE_OK)
            otel_span_add_event(otel_span_current(), "test.callback.failed", 0,
                                &OTEL_KV_STR("error.type", mhd_otel_curl_code_name(rc)), 1);
        cJSON_free(args);
    }
    cJSON_Delete(list);
    return example_respond_text(connection, MHD_HTTP_OK, "OK");
}

/* Free the per-request body of a POST /test (MHD_OPTION_NOTIFY_COMPLETED). */
static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    demo_upload *u = *req_cls;

    (void)cls;
    (void)connection;
    (void)toe;
    if (u != NULL && !example_is_mark(u)) {
        free(u->data);
        free(u);
    }
    *req_cls = NULL;
}

/* POST /test: the first call makes the request's upload state, the next ones
 * read the body, the last one (no data) answers. */
static enum MHD_Result test_handler(struct MHD_Connection *connection, const char *upload_data,
                                    size_t *upload_data_size, void **req_cls)
{
    demo_upload *u = *req_cls;

    if (u == NULL) {
        u = calloc(1, sizeof(*u));
        if (u == NULL)
            return MHD_NO;
        *req_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (upload_append(u, upload_data, *upload_data_size) != 0)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return handle_test(connection, u);
}

/* The access handler: routes GET requests and POST /test, 405 for other
 * methods on known routes, 404 for the rest. The first call only marks the request: MHD keeps
 * a connection alive only when the answer comes after it (a response queued
 * on the first call makes MHD discard the request and close). Any body is
 * read and ignored. */
static enum MHD_Result demo_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
    static const char hello_prefix[] = "/hello/";
    const char *name = NULL;
    int known = 1;
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;

    (void)cls;
    (void)version;
    if (strcmp(url, "/test") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return test_handler(connection, upload_data, upload_data_size, req_cls);
    if (!example_ready_to_answer(req_cls, upload_data_size))
        return MHD_YES;
    if (strcmp(url, "/test") == 0)
        return example_respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                               NOT_ALLOWED, sizeof(NOT_ALLOWED) - 1, MHD_HTTP_METHOD_POST);
    if (strcmp(url, "/hello") == 0) {
        name = "World";
    } else if (strncmp(url, hello_prefix, sizeof(hello_prefix) - 1) == 0) {
        name = url + sizeof(hello_prefix) - 1;
        if (*name == '\0' || strchr(name, '/') != NULL)
            known = 0;
    } else if (strcmp(url, "/data") != 0 && strcmp(url, "/error") != 0 &&
               strcmp(url, "/health") != 0) {
        known = 0;
    }
    if (!known)
        return example_respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    if (!is_get)
        return example_respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                               NOT_ALLOWED, sizeof(NOT_ALLOWED) - 1, MHD_HTTP_METHOD_GET);
    if (name != NULL)
        return handle_hello(connection, name);
    if (strcmp(url, "/data") == 0)
        return handle_data(connection);
    if (strcmp(url, "/error") == 0)
        return handle_error(connection);
    return example_respond_text(connection, MHD_HTTP_OK, "OK");
}

/* The socket address for addr:port, IPv4 or IPv6. Returns 0 or -1. */
static int make_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, int *is_ipv6)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *is_ipv6 = 0;
        return 0;
    }
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *is_ipv6 = 1;
        return 0;
    }
    return -1;
}

/* Start the traced daemon on the address in o; NULL on failure. */
static struct MHD_Daemon *start_daemon(mhd_otel *m, const demo_opts *o)
{
    struct sockaddr_storage ss;
    int is_ipv6 = 0;
    unsigned int flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

    if (make_addr(o->addr, o->port, &ss, &is_ipv6) != 0) {
        fprintf(stderr, "demo-server: bad address '%s'\n", o->addr);
        return NULL;
    }
    if (is_ipv6)
        flags |= MHD_USE_IPv6;
    return mhd_otel_start_daemon(m, flags, o->port, NULL, NULL, demo_handler, NULL,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                 MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&ss,
                                 MHD_OPTION_THREAD_POOL_SIZE, o->threads,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
}

/* Before the daemon stops: wait, at most DEMO_DRAIN_MS, until it holds no
 * connection. MHD may tell a request complete only after its client has
 * the answer and closed, and a stop in between ends the request as
 * DAEMON_SHUTDOWN; a client that keeps its connection open is not waited
 * for longer than that. */
static void drain(struct MHD_Daemon *d)
{
    for (long waited = 0; waited < DEMO_DRAIN_MS; waited += 10) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        if (info == NULL || info->num_connections == 0)
            return;
        sleep_ms(10);
    }
}

/* The self-pipe SIGINT and SIGTERM write to, whichever thread takes them
 * (the mask below keeps them off the MHD and exporter threads, but a
 * runtime's own threads, such as a sanitizer's, may still receive them). */

int main(int argc, char **argv)
{
    demo_opts o;
    sigset_t set;
    mhd_otel *m = NULL;
    struct MHD_Daemon *d;
    char err[DEMO_ERR_LEN];
    int rc;

    example_set_name("demo-server");

    if (parse_args(argc, argv, &o) != 0)
        return 2;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (example_stop_signals_setup(&set) != 0) {
        fprintf(stderr, "demo-server: cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "demo-server: cannot initialise libcurl\n");
        return 1;
    }
    otel_log_set(example_log_to_stderr, NULL);
    err[0] = '\0';
    rc = mhd_otel_new(&m, o.config, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "demo-server: %s\n", err[0] != '\0' ? err : otel_strerror(rc));
        return 1;
    }
    d = start_daemon(m, &o);
    if (d == NULL) {
        fprintf(stderr, "demo-server: cannot start the daemon on %s:%u\n", o.addr,
                (unsigned int)o.port);
        mhd_otel_del(m);
        return 1;
    }
    if (example_announce(d, o.addr) != 0) {
        mhd_otel_stop_daemon(d);
        mhd_otel_del(m);
        return 1;
    }
    example_wait_for_stop(&set);
    drain(d);
    mhd_otel_stop_daemon(d);
    example_report_stats(m);
    mhd_otel_del(m);
    curl_global_cleanup();
    return 0;
}
