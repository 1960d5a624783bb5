/* module_int.h - the module's and its daemons' layout, shared by mhd_otel.c
 * and hooks.c. Not a public header. */
#ifndef MHD_OTEL_MODULE_INT_H
#define MHD_OTEL_MODULE_INT_H

#include <mhd-otel/mhd_otel.h>

#include <stdatomic.h>

#include "../exporter/console.h"
#include "../exporter/otlp.h"
#include "conf.h"
#include "http_metrics.h"
#include "metrics_reader.h"
#include "options.h"
#include "prom_server.h"
#include "request.h"
#include "route.h"

struct mhd_otel {
    mhd_otel_conf *conf;    /* owned */
    otel_tracer *tracer;    /* owned; NULL when tracing is off */
    char **capture_keys;    /* owned: "http.request.header.<lowercased>" */
    mhd_otel_routes routes; /* owned: conf->routes, cut */
    atomic_bool announced;  /* the start-up line was logged */
    mhd_otel_request_hook request_hook;
    void *request_hook_ud;
    mhd_otel_response_hook response_hook;
    void *response_hook_ud;
    mhd_otel_metrics *metrics; /* owned; NULL: no metrics */
    mhd_otel_reader *reader;   /* owned; the otlp and console push */
    mhd_otel_prom *prom;       /* owned; the Prometheus endpoint */
    FILE *metrics_out;         /* the console's output for metrics; owned when
                                  metrics_out_owned */
    bool metrics_out_owned;
};

/* What the module keeps for one traced daemon: the server's own callbacks,
 * chained from the module's. */
typedef struct mhd_otel_daemon {
    mhd_otel *m; /* borrowed */
    struct MHD_Daemon *daemon;
    MHD_AccessHandlerCallback dh;
    void *dh_cls;
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
    mhd_otel_uri_log_fn uri_log;
    void *uri_log_cls;
    MHD_NotifyConnectionCallback notify_conn;
    void *notify_conn_cls;
    bool tls;
    struct mhd_otel_daemon *next; /* in the list of traced daemons */
} mhd_otel_daemon;

/* The callbacks installed on a traced daemon; cls is its mhd_otel_daemon. */
void *mhd_otel_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
enum MHD_Result mhd_otel_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls);
void mhd_otel_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe);
void mhd_otel_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe);

#endif /* MHD_OTEL_MODULE_INT_H */
