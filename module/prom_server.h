/* prom_server.h - the Prometheus scrape endpoint: a libmicrohttpd daemon of
 * its own, on its own thread, serving GET and HEAD /metrics in the format
 * the scraper's Accept header asks for. It starts and stops through
 * libmicrohttpd's own functions (mhd_real.h), so it is never traced, also
 * under LD_PRELOAD. Not a public header. */
#ifndef MHD_OTEL_PROM_SERVER_H
#define MHD_OTEL_PROM_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>

/* Connections served at once; more wait in the listen backlog. Each holds
 * at most one rendered exposition. */
#define MHD_OTEL_PROM_MAX_CONNECTIONS 8
/* An idle connection is closed after this many seconds. */
#define MHD_OTEL_PROM_IDLE_TIMEOUT_S 30
/* Bytes of a connection's request (line and headers) at most. */
#define MHD_OTEL_PROM_CONN_MEMORY (16 * 1024)

typedef struct mhd_otel_prom mhd_otel_prom;

/* Listen on hostport and serve m and res (both borrowed: they must
 * outlive the server; res may be NULL). hostport is HOST:PORT with HOST
 * an IPv4 address, an IPv6 address in brackets or a name (resolved here,
 * the first address that can be listened on taken); PORT 0 picks a free
 * port (mhd_otel_prom_port says which). Returns 0 with *out set,
 * OTEL_ERR_INVALID (hostport malformed), OTEL_ERR_IO (cannot resolve or
 * listen, or the daemon did not start) or OTEL_ERR_NOMEM; err (errlen
 * bytes, may be NULL) then says why without a file name, e.g. "cannot
 * listen on 127.0.0.1:9464: Address already in use". Free with
 * mhd_otel_prom_stop. */
int mhd_otel_prom_start(mhd_otel_prom **out, const char *hostport, otel_metrics *m,
                        const otel_resource *res, char *err, size_t errlen);
/* fn(user_data) is called ahead of each scrape's collection (to bring
 * counters kept elsewhere into the instruments); set once, right after
 * start. */
typedef void (*mhd_otel_prom_before_fn)(void *user_data);
void mhd_otel_prom_set_before(mhd_otel_prom *p, mhd_otel_prom_before_fn fn, void *user_data);
/* The port listened on. */
uint16_t mhd_otel_prom_port(const mhd_otel_prom *p);
/* Stop the daemon (its thread, open connections) and free p. NULL does
 * nothing. In a child forked while p ran, the daemon is the parent's: the
 * child's copy of the listening socket is closed at the fork, and this
 * frees p only, leaving the parent's server as it is. */
void mhd_otel_prom_stop(mhd_otel_prom *p);

/* Whether hostport is HOST:PORT as mhd_otel_prom_start takes it, without
 * resolving a name: for the config loader at parse time. Returns 0 or
 * OTEL_ERR_INVALID (err says why, e.g. "invalid address \"x\": no port
 * (expected HOST:PORT)"). */
int mhd_otel_prom_addr_check(const char *hostport, char *err, size_t errlen);

#endif /* MHD_OTEL_PROM_SERVER_H */
