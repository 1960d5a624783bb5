/* prom_server.c - the Prometheus scrape endpoint: GET and HEAD /metrics on a
 * libmicrohttpd daemon of its own, started past the module's interposers. */
#include "prom_server.h"

#include "mhd_real.h"

#include "../core/alloc.h"
#include "../core/text.h"
#include "../exporter/prometheus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROM_PATH "/metrics"
#define PROM_BACKLOG 64
/* A host name at most (RFC 1035 section 2.3.4), an IPv6 literal fits. */
#define HOST_MAX 253

struct mhd_otel_prom {
    struct MHD_Daemon *daemon;
    otel_metrics *m;          /* borrowed */
    const otel_resource *res; /* borrowed */
    uint16_t port;
    int fd;          /* the listening socket the daemon was given */
    bool forked;     /* a copy in a forked child: the daemon is the parent's */
    void *before_ud; /* set before before is */
    _Atomic(mhd_otel_prom_before_fn) before; /* called ahead of each collection */
    struct mhd_otel_prom *next;              /* in the list of live servers */
};

/* ---- fork ----------------------------------------------------------------- */

/* Live servers, for a forked child to give up its copies: the daemon's
 * thread is not in the child, and its listening socket is the parent's.
 * A child that kept the socket would hold the port after the parent
 * exits, accepting nothing; one that stopped the daemon would shut the
 * parent's socket down (shutdown acts on the socket, not the descriptor). */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static mhd_otel_prom *live;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
    pthread_mutex_lock(&live_mu);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&live_mu);
}

static void after_fork_child(void)
{
    for (mhd_otel_prom *p = live; p != NULL; p = p->next) {
        if (!p->forked) {
            close(p->fd); /* the child's descriptor only */
            p->forked = true;
        }
    }
    pthread_mutex_init(&live_mu, NULL);
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static void live_add(mhd_otel_prom *p)
{
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&live_mu);
    p->next = live;
    live = p;
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(mhd_otel_prom *p)
{
    pthread_mutex_lock(&live_mu);
    for (mhd_otel_prom **pp = &live; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&live_mu);
}

/* HOST:PORT taken apart. */
typedef struct prom_addr {
    char host[HOST_MAX + 1]; /* an IPv6 literal without its brackets */
    char port[6];
    bool v6_literal;
    bool numeric; /* an IPv4 or IPv6 address: nothing to resolve */
} prom_addr;

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A reg-name as a host name has it: letters, digits, '-' and '.'. */
static bool is_host_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return n > 0;
}

/* Only digits and dots: meant as an IPv4 address. */
static bool looks_ipv4(const char *s, size_t n)
{
    return strspn(s, "0123456789.") >= n;
}

static int addr_parse(const char *hostport, prom_addr *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    const char *hp = hostport != NULL ? hostport : "";
    size_t n = strlen(hp);
    otel_hostport h;
    if (n == 0) {
        set_err(err, errlen, "empty address (expected HOST:PORT)");
        return OTEL_ERR_INVALID;
    }
    if (!otel_hostport_split(hp, n, &h)) {
        set_err(err, errlen, "invalid address \"%s\": a '[' without its ']' or junk after it", hp);
        return OTEL_ERR_INVALID;
    }
    if (!h.bracketed && memchr(hp, ':', n) != strrchr(hp, ':')) {
        set_err(err, errlen,
                "invalid address \"%s\": an IPv6 address goes in brackets ([::1]:9464)", hp);
        return OTEL_ERR_INVALID;
    }
    if (h.port == NULL) {
        set_err(err, errlen, "invalid address \"%s\": no port (expected HOST:PORT)", hp);
        return OTEL_ERR_INVALID;
    }
    if (h.host_len == 0) {
        set_err(err, errlen, "invalid address \"%s\": no host (expected HOST:PORT)", hp);
        return OTEL_ERR_INVALID;
    }
    if (h.host_len > HOST_MAX) {
        set_err(err, errlen, "invalid address \"%s\": host longer than %d bytes", hp, HOST_MAX);
        return OTEL_ERR_INVALID;
    }
    long port = h.port_len >= 1 && h.port_len <= 5 && strspn(h.port, "0") >= h.port_len
                    ? 0
                    : otel_port_parse(h.port, h.port_len);
    if (port < 0) {
        set_err(err, errlen, "invalid address \"%s\": the port is not a number from 0 to 65535",
                hp);
        return OTEL_ERR_INVALID;
    }
    memcpy(a->host, h.host, h.host_len);
    a->host[h.host_len] = '\0';
    snprintf(a->port, sizeof(a->port), "%u", (unsigned int)(uint16_t)port);
    unsigned char bin[16];
    if (h.bracketed) {
        if (inet_pton(AF_INET6, a->host, bin) != 1) {
            set_err(err, errlen, "invalid address \"%s\": \"%s\" is not an IPv6 address", hp,
                    a->host);
            return OTEL_ERR_INVALID;
        }
        a->v6_literal = a->numeric = true;
    } else if (looks_ipv4(a->host, h.host_len)) {
        if (inet_pton(AF_INET, a->host, bin) != 1) {
            set_err(err, errlen, "invalid address \"%s\": \"%s\" is not an IPv4 address", hp,
                    a->host);
            return OTEL_ERR_INVALID;
        }
        a->numeric = true;
    } else if (!is_host_name(a->host, h.host_len)) {
        set_err(err, errlen, "invalid address \"%s\": \"%s\" is not a host name", hp, a->host);
        return OTEL_ERR_INVALID;
    }
    return OTEL_OK;
}

int mhd_otel_prom_addr_check(const char *hostport, char *err, size_t errlen)
{
    prom_addr a;
    return addr_parse(hostport, &a, err, errlen);
}

/* ---- requests ------------------------------------------------------------ */

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned int status, const char *body,
                                    const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void free_body(void *p)
{
    otel_free(p);
}

static enum MHD_Result reply_metrics(mhd_otel_prom *p, struct MHD_Connection *c)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    otel_prom_format f = otel_prom_negotiate(accept);
    char *body = NULL;
    size_t len = 0;
    mhd_otel_prom_before_fn before = atomic_load_explicit(&p->before, memory_order_acquire);
    if (before != NULL)
        before(p->before_ud);
    if (otel_prom_render(p->m, p->res, f, &body, &len) != OTEL_OK)
        return reply_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n", NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(len, body, free_body);
    if (r == NULL) {
        otel_free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, otel_prom_content_type(f));
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET and HEAD are answered once their request is read, which keeps the
 * connection open for the next scrape; other methods at once, before any
 * body (libmicrohttpd then closes the connection). */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req_cls)
{
    static int seen; /* *req_cls of a request whose first call came */
    (void)version;
    (void)upload_data;
    mhd_otel_prom *p = cls;
    bool get =
        strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (get && *req_cls == NULL) {
        *req_cls = &seen;
        return MHD_YES;
    }
    if (get && *upload_size != 0) { /* a body nobody asked for: dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (url == NULL || strcmp(url, PROM_PATH) != 0)
        return reply_static(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at " PROM_PATH "\n",
                            NULL);
    if (!get)
        return reply_static(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "GET, HEAD");
    return reply_metrics(p, c);
}

/* ---- the listening socket and the daemon ------------------------------------ */

/* A listening socket on the first of a's addresses that takes one; -1 with
 * err set when none does. *family gets its address family. */
static int listen_on(const prom_addr *a, const char *hostport, int *family, char *err,
                     size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (a->numeric ? AI_NUMERICHOST : 0);
    int gai = getaddrinfo(a->host, a->port, &hints, &res);
    if (gai != 0) {
        set_err(err, errlen, "cannot resolve \"%s\": %s", a->host,
                gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
        return -1;
    }
    int fd = -1, last = 0;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        /* A restarted server gets its port back past TIME_WAIT; a port
         * another socket listens on stays refused (Linux). */
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, PROM_BACKLOG) != 0) {
            last = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *family = ai->ai_family;
    }
    freeaddrinfo(res);
    if (fd < 0)
        set_err(err, errlen, "cannot listen on %s: %s", hostport,
                last != 0 ? strerror(last) : "no IPv4 or IPv6 address");
    return fd;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int mhd_otel_prom_start(mhd_otel_prom **out, const char *hostport, otel_metrics *m,
                        const otel_resource *res, char *err, size_t errlen)
{
    *out = NULL;
    if (m == NULL) {
        set_err(err, errlen, "no metrics to serve");
        return OTEL_ERR_INVALID;
    }
    prom_addr a;
    int rc = addr_parse(hostport, &a, err, errlen);
    if (rc != OTEL_OK)
        return rc;
    mhd_otel_prom *p = otel_calloc(1, sizeof(*p));
    if (p == NULL) {
        set_err(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    p->m = m;
    p->res = res;
    int family = AF_INET;
    int fd = listen_on(&a, hostport, &family, err, errlen);
    if (fd < 0) {
        otel_free(p);
        return OTEL_ERR_IO;
    }
    p->port = bound_port(fd);
    unsigned int flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    p->daemon = mhd_otel_real_start(
        flags, 0, NULL, NULL, on_request, p, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MHD_OTEL_PROM_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)MHD_OTEL_PROM_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_OTEL_PROM_CONN_MEMORY, MHD_OPTION_END);
    if (p->daemon == NULL) {
        /* libmicrohttpd closes the socket on most of its failures, not on
         * all: close it when it is still open. */
        if (fcntl(fd, F_GETFD) != -1)
            close(fd);
        set_err(err, errlen, "cannot start the metrics server on %s", hostport);
        otel_free(p);
        return OTEL_ERR_IO;
    }
    p->fd = fd;
    live_add(p);
    *out = p;
    return OTEL_OK;
}

void mhd_otel_prom_set_before(mhd_otel_prom *p, mhd_otel_prom_before_fn fn, void *user_data)
{
    p->before_ud = user_data;
    atomic_store_explicit(&p->before, fn, memory_order_release);
}

uint16_t mhd_otel_prom_port(const mhd_otel_prom *p)
{
    return p != NULL ? p->port : 0;
}

void mhd_otel_prom_stop(mhd_otel_prom *p)
{
    if (p == NULL)
        return;
    live_remove(p);
    /* In a forked child the daemon is the parent's (its socket closed here
     * at the fork): left alone. Else stopping it closes the socket too. */
    if (!p->forked)
        mhd_otel_real_stop()(p->daemon);
    otel_free(p);
}
