/* request.h - per-request tracing state: a pool of them and a table from
 * connection to the request it is serving. Not a public header. */
#ifndef MHD_OTEL_REQUEST_H
#define MHD_OTEL_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

#include "http_metrics.h"

#define MHD_OTEL_URI_MAX 2048    /* bytes of the raw request URI kept */
#define MHD_OTEL_BAGGAGE_LINES 8 /* baggage header lines carried on to outgoing calls */

/* Bytes of Host, User-Agent and path a record-only span keeps. */
#define MHD_OTEL_DEFERRED_TEXT 512

struct mhd_otel_daemon;
struct mhd_otel_route;

/* What a record-only server span's name and attributes are made of, kept
 * until the keep decision (hooks.c). Static or configuration strings, and
 * host, user_agent and route_path in the request's deferred_text. */
typedef struct mhd_otel_deferred {
    const char *known;                  /* the standard method name, or NULL */
    const char *version;                /* network.protocol.version, or NULL */
    const struct mhd_otel_route *route; /* the matched route, or NULL */
    const char *route_path;             /* else the path to match it on, or NULL */
    uint16_t route_path_len;
    const char *host, *user_agent;
} mhd_otel_deferred;

typedef struct mhd_otel_req {
    struct mhd_otel_daemon *daemon;
    struct MHD_Connection *conn;
    void *app_cls;   /* the server's own per-request pointer */
    otel_span *span; /* owned until ended; NULL when not traced */
    uint64_t start_ns;
    unsigned int status; /* last status seen queued */
    bool handled;        /* the access handler ran at least once */
    bool skipped;
    bool hooked;            /* the request hook ran: the response hook will */
    bool deferred;          /* the span's attributes wait in d */
    mhd_otel_server_req mq; /* its metrics' attributes; mq.method NULL: none */
    /* The incoming baggage lines when trusted (MHD's values, valid for the
     * request): baggage points at baggage_v / baggage_len, whose first
     * baggage.n entries are set (the arrays are not cleared for a new
     * request). */
    otel_baggage_lines baggage;
    uint16_t uri_len;
    struct mhd_otel_req *next; /* in its connection-table bucket */
    const char *baggage_v[MHD_OTEL_BAGGAGE_LINES];
    size_t baggage_len[MHD_OTEL_BAGGAGE_LINES];
    mhd_otel_deferred d; /* set when deferred */
    char deferred_text[MHD_OTEL_DEFERRED_TEXT];
    char uri[MHD_OTEL_URI_MAX]; /* raw URI (path and query), NUL-terminated */
} mhd_otel_req;

/* A cleared request from the pool (heap when the pool is empty); NULL when
 * out of memory. Give it back with mhd_otel_req_put. */
mhd_otel_req *mhd_otel_req_get(void);
void mhd_otel_req_put(mhd_otel_req *r);

/* Record r as the request conn is serving (r->conn). Returns the request
 * the connection had before (never completed), which the caller finishes,
 * or NULL. */
mhd_otel_req *mhd_otel_req_bind(mhd_otel_req *r);
/* Forget the request conn is serving and return it (NULL when none). */
mhd_otel_req *mhd_otel_req_take(struct MHD_Connection *conn);
/* The request conn is serving, or NULL. Borrowed: valid until it
 * completes. */
mhd_otel_req *mhd_otel_req_find(struct MHD_Connection *conn);

#endif /* MHD_OTEL_REQUEST_H */
