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

#include <mhd-otel/mhd_otel.h>
#include "server_util.h"

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
            if (example_parse_port(optarg, &o->port) != 0) {
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

/* GET /inventory/{id}: {"id": "<id>", "available": <id is not "0">}. */
static enum MHD_Result handle_inventory(struct MHD_Connection *connection, const char *id)
{
    cJSON *obj = cJSON_CreateObject();
    char *body = NULL;

    otel_span_set_attr_str(otel_span_current(), "inventory.id", id);
    if (obj != NULL && cJSON_AddStringToObject(obj, "id", id) != NULL &&
        cJSON_AddBoolToObject(obj, "available", strcmp(id, "0") != 0) != NULL)
        body = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return example_respond_json(connection, body);
}

/* The access handler: GET /inventory/{id}, 404 for the rest. The first call
 * only marks the request (see demo_server.c); any body is ignored. */
static enum MHD_Result svc_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    const char *id;

    (void)cls;
    (void)version;
    (void)upload_data;
    if (!example_ready_to_answer(req_cls, upload_data_size))
        return MHD_YES;
    if (strncmp(url, INVENTORY_PREFIX, sizeof(INVENTORY_PREFIX) - 1) != 0)
        return example_respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    id = url + sizeof(INVENTORY_PREFIX) - 1;
    if (!example_id_valid(id))
        return example_respond_text(connection, MHD_HTTP_NOT_FOUND, "Not Found");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return example_respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed");
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

int main(int argc, char **argv)
{
    char err[SVC_ERR_LEN];
    struct MHD_Daemon *d;
    mhd_otel *m = NULL;
    svc_opts o;
    sigset_t set;
    int rc;

    example_set_name("service-b");

    if (parse_args(argc, argv, &o) != 0)
        return 2;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (example_stop_signals_setup(&set) != 0) {
        fprintf(stderr, SVC_NAME ": cannot set up signals: %s\n", strerror(errno));
        return 1;
    }
    otel_log_set(example_log_to_stderr, NULL);
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
    if (example_announce(d, "127.0.0.1") != 0) {
        mhd_otel_stop_daemon(d);
        mhd_otel_del(m);
        return 1;
    }
    example_wait_for_stop(&set);
    mhd_otel_stop_daemon(d);
    example_report_stats(m);
    mhd_otel_del(m);
    return 0;
}
