/* hooks.c - the callbacks a traced daemon runs: request start (URI log),
 * the access-handler wrapper, completion and connection notices; each chains
 * to the server's own. */
#include "module_int.h"

#include "route.h"

#include <mhd-otel/otel.h>
#include "../core/text.h"
#include "../core/thread_local.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "../core/copy.h"
#include "../core/span_int.h"

/* The request the calling thread is running the server's handler for. */
static OTEL_TLS mhd_otel_req *tls_req;

/* Set for good once a request went untraced for want of memory: MHD may
 * then hand the handler a *req_cls that is not a request of ours. */
static atomic_bool foreign_req_cls;

/* ---- attributes of a server span ---------------------------------------- */

/* Dotted-quad text of a (network order) into buf (>= 16 bytes); returns the
 * length. inet_ntop does the same at thirty times the cost. */
static size_t ipv4_text(const struct in_addr *a, char *buf)
{
    const uint8_t *b = (const uint8_t *)&a->s_addr;
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = b[i];
        if (v >= 100)
            buf[n++] = (char)('0' + v / 100);
        if (v >= 10)
            buf[n++] = (char)('0' + v / 10 % 10);
        buf[n++] = (char)('0' + v % 10);
        if (i < 3)
            buf[n++] = '.';
    }
    buf[n] = '\0';
    return n;
}

/* The text of the calling thread's last IPv4 client address: behind a
 * proxy or a load balancer, and on loopback, the next one is the same. */
static OTEL_TLS struct {
    uint32_t addr; /* network order; 0 (0.0.0.0) is never a client's */
    uint8_t len;
    char text[16];
} tls_v4;

/* client.address of a: from tls_v4 or made into it. */
static void add_ipv4_client(otel_span *span, const struct in_addr *a)
{
    if (tls_v4.addr != a->s_addr || a->s_addr == 0) {
        tls_v4.len = (uint8_t)ipv4_text(a, tls_v4.text);
        tls_v4.addr = a->s_addr;
    }
    otel_span_add_attr_strn_sk(span, OTEL_KEY("client.address"), tls_v4.text, tls_v4.len);
}

static void set_client_address(otel_span *span, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    char buf[INET6_ADDRSTRLEN];
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        add_ipv4_client(span, &in->sin_addr);
        otel_span_add_attr_int_sk(span, OTEL_KEY("client.port"), ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            /* A dual-stack daemon's IPv4 client: reported as the IPv4
             * address it is (::ffff:a.b.c.d is a.b.c.d). */
            struct in_addr v4;
            memcpy(&v4.s_addr, &in6->sin6_addr.s6_addr[12], 4);
            add_ipv4_client(span, &v4);
        } else if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf)) != NULL) {
            otel_span_add_attr_strn_sk(span, OTEL_KEY("client.address"), buf, strlen(buf));
        }
        otel_span_add_attr_int_sk(span, OTEL_KEY("client.port"), ntohs(in6->sin6_port));
    }
}

/* The port the connection's daemon listens on (0 when unknown). */
static long daemon_port(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
    if (ci == NULL || ci->daemon == NULL)
        return 0;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : 0;
}

/* Lines of a list header (tracestate, baggage) recorded in the one pass
 * over MHD's headers: the core reads them one by one, and a second scan for
 * each would make a request of many lines cost their square. */
#define LIST_LINES_MAX 256

/* The lines of one list header: values and lengths. */
typedef struct list_lines {
    const char *v[LIST_LINES_MAX];
    uint32_t len[LIST_LINES_MAX];
} list_lines;

/* A header MHD gave: its first line's value and length (values may hold a
 * NUL; both set only once lines > 0), how many lines of that name the
 * request has, and for a list header its first LIST_LINES_MAX lines (all:
 * NULL for the others). */
typedef struct req_value {
    const char *v;
    size_t len;
    unsigned lines;
    list_lines *all;
} req_value;

/* What the calling thread's last request's propagation headers were read
 * into (16 KiB: not on the stack of a server thread that may be small):
 * their list lines, valid during begin_span, and the context they carry,
 * valid until the thread's next request. */
typedef struct prop_mem {
    list_lines tracestate, baggage;
    otel_extracted extracted;
} prop_mem;

static const otel_thread_block prop_block = {sizeof(prop_mem), NULL};
static OTEL_TLS void *tls_prop; /* prop_mem */

/* The request headers the module reads, found in one pass (each
 * MHD_lookup_connection_value is a scan of its own). Borrowed from MHD for
 * the request. The propagation headers are looked for only when want (a
 * propagator mask) includes their propagator; the b3 and b3multi
 * propagators both read both B3 forms. */
typedef struct req_headers {
    struct MHD_Connection *conn;
    unsigned want;
    const char *host; /* host_len, user_agent_len: what MHD gave (a NUL may come first) */
    const char *user_agent;
    size_t host_len, user_agent_len;
    req_value traceparent, tracestate;
    req_value b3, b3_trace_id, b3_span_id, b3_sampled, b3_flags;
    req_value baggage;
    struct prop_mem *prop; /* the thread's, or NULL */
} req_headers;

/* Start h for a request's headers: only what is read before it is set
 * (the whole struct cleared would cost more than the rest of the scan). */
static inline void headers_init(req_headers *h, struct MHD_Connection *conn, unsigned want)
{
    h->conn = conn;
    h->want = want;
    h->host = h->user_agent = NULL;
    h->host_len = h->user_agent_len = 0;
    h->traceparent = h->b3 = h->b3_trace_id = h->b3_span_id = h->b3_sampled = h->b3_flags =
        (req_value){.lines = 0};
    /* Out of memory: the first line of each, and no incoming context. */
    prop_mem *pm = otel_thread_block_get(&prop_block, &tls_prop);
    h->prop = pm;
    h->tracestate = (req_value){.all = pm != NULL ? &pm->tracestate : NULL};
    h->baggage = (req_value){.all = pm != NULL ? &pm->baggage : NULL};
}

#define WANTS(h, kind) (((h)->want & (1u << (kind))) != 0)
#define WANTS_B3(h) (WANTS(h, OTEL_PROPAGATOR_B3) || WANTS(h, OTEL_PROPAGATOR_B3MULTI))

static bool name_is(const char *key, size_t key_size, const char *name, size_t name_len)
{
    return key_size == name_len && strncasecmp(key, name, name_len) == 0;
}

/* The case bit (0x20) of each letter of w, whose bytes are ASCII: found
 * by adding to every byte at once, without a carry from one to the next. */
static inline uint64_t case_bits(uint64_t w)
{
    const uint64_t high = 0x8080808080808080ULL;
    uint64_t from_a = (w + 0x1f1f1f1f1f1f1f1fULL) & high; /* byte >= 'a' */
    uint64_t past_z = (w + 0x0505050505050505ULL) & high; /* byte > 'z' */
    return (from_a & ~past_z) >> 2;
}

/* Whether the size bytes at key are those at name (lowercase ASCII) but
 * for the case of letters: key's word with the case bit set where name has
 * a letter is name's word. For a literal name, its word and case bits are
 * constants. */
#define WORD_IS(type, key, name)                                                                   \
    __extension__({                                                                                \
        type k_, w_;                                                                               \
        memcpy(&k_, (key), sizeof(type));                                                          \
        memcpy(&w_, (name), sizeof(type));                                                         \
        ((uint64_t)k_ | case_bits(w_)) == (uint64_t)w_;                                            \
    })

/* name_is for a lowercase literal name: each letter of key in either
 * case, each other byte as it is, without strncasecmp's locale tables
 * (this runs for the headers of every request). Two words, overlapping
 * when the name is shorter than both: two comparisons for any name up to
 * 16 bytes. */
static inline bool lower_is(const char *key, size_t key_size, const char *name, size_t name_len)
{
    if (key_size != name_len)
        return false;
    if (name_len > 16)
        return name_is(key, key_size, name, name_len);
    if (name_len >= 8)
        return WORD_IS(uint64_t, key, name) &&
               WORD_IS(uint64_t, key + name_len - 8, name + name_len - 8);
    if (name_len >= 4)
        return WORD_IS(uint32_t, key, name) &&
               WORD_IS(uint32_t, key + name_len - 4, name + name_len - 4);
    if (name_len >= 2)
        return WORD_IS(uint16_t, key, name) &&
               WORD_IS(uint16_t, key + name_len - 2, name + name_len - 2);
    return name_len == 0 ||
           ((unsigned char)key[0] | case_bits((unsigned char)name[0])) == (unsigned char)name[0];
}

/* Count a line of a header, keeping the first value (and every one, up to
 * LIST_LINES_MAX, of a list header). */
static void keep(req_value *slot, const char *value, size_t value_size)
{
    if (slot->all != NULL && slot->lines < LIST_LINES_MAX) {
        slot->all->v[slot->lines] = value;
        slot->all->len[slot->lines] = (uint32_t)(value_size < UINT32_MAX ? value_size : UINT32_MAX);
    }
    if (slot->lines++ == 0) {
        slot->v = value;
        slot->len = value_size;
    }
}

/* The slot for the header key (key_size bytes) in h, or NULL: picked by
 * the key's length first, so that most headers cost no comparison at all
 * (this runs for every header of every request). host and user_agent are
 * matched through their own pointers (*str_out). */
static req_value *slot_of(req_headers *h, const char *key, size_t key_size, const char ***str_out)
{
    bool tc = WANTS(h, OTEL_PROPAGATOR_TRACECONTEXT), b3 = WANTS_B3(h);
    *str_out = NULL;
    switch (key_size) {
    case 2:
        return b3 && lower_is(key, key_size, "b3", 2) ? &h->b3 : NULL;
    case 4:
        if (h->host == NULL && lower_is(key, key_size, "host", 4))
            *str_out = &h->host;
        return NULL;
    case 7:
        return WANTS(h, OTEL_PROPAGATOR_BAGGAGE) && lower_is(key, key_size, "baggage", 7)
                   ? &h->baggage
                   : NULL;
    case 10:
        if (h->user_agent == NULL && lower_is(key, key_size, "user-agent", 10)) {
            *str_out = &h->user_agent;
            return NULL;
        }
        if (tc && lower_is(key, key_size, "tracestate", 10))
            return &h->tracestate;
        return b3 && lower_is(key, key_size, "x-b3-flags", 10) ? &h->b3_flags : NULL;
    case 11:
        if (tc && lower_is(key, key_size, "traceparent", 11))
            return &h->traceparent;
        return b3 && lower_is(key, key_size, "x-b3-spanid", 11) ? &h->b3_span_id : NULL;
    case 12:
        if (!b3)
            return NULL;
        if (lower_is(key, key_size, "x-b3-traceid", 12))
            return &h->b3_trace_id;
        return lower_is(key, key_size, "x-b3-sampled", 12) ? &h->b3_sampled : NULL;
    default:
        return NULL;
    }
}

static enum MHD_Result header_seen(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    req_headers *h = cls;
    const char **str;
    req_value *slot = slot_of(h, key, key_size, &str);
    if (str != NULL) {
        *str = value;
        *(str == &h->host ? &h->host_len : &h->user_agent_len) = value_size;
    } else if (slot != NULL)
        keep(slot, value, value_size);
    return MHD_YES;
}

/* A search for the index-th line of header name. */
typedef struct line_search {
    const char *name;
    size_t name_len;
    size_t index;
    const char *found;
    size_t found_len;
} line_search;

static enum MHD_Result line_seen(void *cls, enum MHD_ValueKind kind, const char *key,
                                 size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    line_search *ls = cls;
    if (!name_is(key, key_size, ls->name, ls->name_len))
        return MHD_YES;
    if (ls->index-- > 0)
        return MHD_YES;
    ls->found = value;
    ls->found_len = value_size;
    return MHD_NO; /* stop */
}

/* The index-th line of header name, or NULL: from the lines recorded in
 * the first pass for a list header, else by a second scan (a single-value
 * header that a request repeats). */
static const char *header_line(struct MHD_Connection *conn, const req_value *r, const char *name,
                               size_t index)
{
    if (index >= r->lines)
        return NULL;
    const char *v = r->v; /* set with the first line */
    size_t len = r->len;
    if (index > 0 && r->all != NULL && index < LIST_LINES_MAX) {
        v = r->all->v[index];
        len = r->all->len[index];
    } else if (index > 0) { /* a repeated single-value header: rare */
        line_search ls = {name, strlen(name), index, NULL, 0};
        MHD_get_connection_values_n(conn, MHD_HEADER_KIND, line_seen, &ls);
        v = ls.found;
        len = ls.found_len;
    }
    if (v == NULL || strlen(v) == len)
        return v;
    /* A NUL inside: of a single-value header, absent; of a list header, a
     * line no list grammar accepts (DEL), so that it is refused by the
     * list's own rules and the lines after it are still read. */
    return r->all != NULL ? "\x7f" : NULL;
}

/* The captured header called name (any case), or NULL: one strcasecmp or
 * two, picked by the first letters (this runs several times per request). */
static req_value *req_slot(req_headers *h, const char *name)
{
    switch (name[0] | 0x20) {
    case 't':
        if (strcasecmp(name, "traceparent") == 0)
            return &h->traceparent;
        return strcasecmp(name, "tracestate") == 0 ? &h->tracestate : NULL;
    case 'b':
        if (strcasecmp(name, "baggage") == 0)
            return &h->baggage;
        return strcasecmp(name, "b3") == 0 ? &h->b3 : NULL;
    case 'x':
        if (strncasecmp(name, "x-b3-", 5) != 0)
            return NULL;
        if (strcasecmp(name + 5, "traceid") == 0)
            return &h->b3_trace_id;
        if (strcasecmp(name + 5, "spanid") == 0)
            return &h->b3_span_id;
        if (strcasecmp(name + 5, "sampled") == 0)
            return &h->b3_sampled;
        return strcasecmp(name + 5, "flags") == 0 ? &h->b3_flags : NULL;
    default:
        return NULL;
    }
}

/* otel_carrier_get over the captured headers: no copy, no allocation. */
static const char *req_header_get(void *carrier, const char *name, size_t index)
{
    req_headers *h = carrier;
    const req_value *r = req_slot(h, name);
    return r != NULL ? header_line(h->conn, r, name, index) : NULL;
}

/* What server.address and server.port take from a Host header: the
 * host's place in it, and the port as parsed (0: none, -1: not a port). */
typedef struct host_parts {
    size_t host_off, host_len;
    long port;
} host_parts;

static void host_split(const char *host, size_t len, host_parts *out)
{
    otel_hostport hp;
    otel_hostport_split(host, len, &hp); /* malformed: as far as it goes */
    out->host_off = (size_t)(hp.host - host);
    out->host_len = hp.host_len;
    out->port = hp.port == NULL ? 0 : otel_port_parse(hp.port, hp.port_len);
}

/* The calling thread's last Host header (shorter than text) and its
 * parts: behind a proxy, and for most servers at all, the next one is the
 * same. */
static OTEL_TLS struct {
    size_t len; /* 0: none yet */
    host_parts parts;
    char text[64];
} tls_host;

/* server.address and server.port from the Host header ("h", "h:p",
 * "[v6]:p"), else the daemon's port. */
static void set_server_address(otel_span *span, struct MHD_Connection *conn,
                               const mhd_otel_daemon *d, const char *host)
{
    long port = 0;
    if (host != NULL && host[0] != '\0') {
        size_t len = strlen(host);
        host_parts own, *hp = &own;
        if (len >= sizeof(tls_host.text)) {
            host_split(host, len, &own);
        } else {
            if (len != tls_host.len || !otel_equal_small(host, tls_host.text, len)) {
                host_split(host, len, &tls_host.parts);
                memcpy(tls_host.text, host, len);
                tls_host.len = len;
            }
            hp = &tls_host.parts;
        }
        otel_span_add_attr_strn_sk(span, OTEL_KEY("server.address"), host + hp->host_off,
                                   hp->host_len);
        if (hp->port == 0)
            port = d->tls ? 443 : 80;
        else if ((port = hp->port) < 0)
            port = 0; /* not a port: the daemon's */
    }
    if (port == 0)
        port = daemon_port(conn);
    if (port > 0)
        otel_span_add_attr_int_sk(span, OTEL_KEY("server.port"), port);
}

/* Lines of one captured header recorded; more are left out. */
#define CAPTURE_LINES_MAX 16

/* The lines of one captured header, in order. */
typedef struct capture {
    const char *name;
    size_t name_len;
    const char *v[CAPTURE_LINES_MAX];
    size_t n;
} capture;

static enum MHD_Result capture_seen(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    (void)value_size; /* a NUL inside cuts the value there */
    capture *c = cls;
    if (name_is(key, key_size, c->name, c->name_len) && c->n < CAPTURE_LINES_MAX)
        c->v[c->n++] = value;
    return MHD_YES;
}

/* http.request.header.<name> (attr_key): a string array, one element per
 * header line, as the HTTP semantic conventions say. */
static void set_captured(otel_span *span, struct MHD_Connection *conn, const char *name,
                         const char *attr_key)
{
    capture c = {.name = name, .name_len = strlen(name), .n = 0};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, capture_seen, &c);
    if (c.n > 0)
        otel_span_set_attr_str_array(span, attr_key, c.v, c.n);
}

/* A version after "HTTP/" as a static string when it is a known one
 * ("1.0", "1.1", "2", "3"), else NULL. Compared a byte at a time, each
 * only after the one before it matched (v may be as short as ""). */
static inline __attribute__((always_inline)) const char *known_version(const char *v)
{
    if (v == NULL)
        return NULL;
    if (v[0] == '1' && v[1] == '.' && (v[2] == '0' || v[2] == '1') && v[3] == '\0')
        return v[2] == '0' ? "1.0" : "1.1";
    if ((v[0] == '2' || v[0] == '3') && v[1] == '\0')
        return v[0] == '2' ? "2" : "3";
    return NULL;
}

/* The version text after "HTTP/" in an HTTP version string, or NULL. */
static inline __attribute__((always_inline)) const char *after_http(const char *version)
{
    if (version == NULL || version[0] != 'H' || version[1] != 'T' || version[2] != 'T' ||
        version[3] != 'P' || version[4] != '/')
        return NULL;
    return version + 5;
}

/* What the request attributes are made of. Borrowed: MHD's strings are
 * valid while the request runs, a deferred request's are its own. */
typedef struct req_facts {
    const char *method;          /* as the request has it (NULL: none) */
    const char *known;           /* its standard name, or NULL */
    const char *version;         /* after "HTTP/", or NULL */
    const mhd_otel_route *route; /* the matched otel_route, or NULL */
    const char *host;            /* the Host header, or NULL */
    const char *user_agent;
} req_facts;

static void set_request_attrs(mhd_otel_req *r, struct MHD_Connection *conn, const req_facts *f)
{
    mhd_otel *m = r->daemon->m;
    otel_span *span = r->span;
    /* Literals (the method's standard name, the scheme, a known version)
     * are pointed to, not copied. */
    if (f->known != NULL)
        otel_span_add_attr_lit_sk(span, OTEL_KEY("http.request.method"), f->known,
                                  otel_http_known_method_lens[otel_http_method_index(f->known)]);
    else
        otel_span_add_attr_lit_sk(span, OTEL_KEY("http.request.method"), OTEL_KEY("_OTHER"));
    if (f->known == NULL && f->method != NULL)
        otel_span_add_attr_strn_sk(span, OTEL_KEY("http.request.method_original"), f->method,
                                   strlen(f->method));
    const char *q = memchr(r->uri, '?', r->uri_len);
    size_t path_len = q ? (size_t)(q - r->uri) : r->uri_len;
    otel_span_add_attr_strn_sk(span, OTEL_KEY("url.path"), r->uri, path_len);
    if (q != NULL && q[1] != '\0')
        otel_span_add_attr_strn_sk(span, OTEL_KEY("url.query"), q + 1, r->uri_len - path_len - 1);
    if (r->daemon->tls)
        otel_span_add_attr_lit_sk(span, OTEL_KEY("url.scheme"), OTEL_KEY("https"));
    else
        otel_span_add_attr_lit_sk(span, OTEL_KEY("url.scheme"), OTEL_KEY("http"));
    /* A plain route is the configuration's, which outlives the span. */
    const mhd_otel_route *rt = f->route;
    if (rt != NULL && rt->plain)
        otel_span_add_attr_lit_sk(span, OTEL_KEY("http.route"), rt->pattern, rt->len);
    else if (rt != NULL)
        otel_span_add_attr_strn_sk(span, OTEL_KEY("http.route"), rt->pattern, rt->len);
    set_server_address(span, conn, r->daemon, f->host);
    set_client_address(span, conn);
    const char *version = known_version(f->version);
    if (version != NULL) /* "1.0", "1.1", "2" or "3" */
        otel_span_add_attr_lit_sk(span, OTEL_KEY("network.protocol.version"), version,
                                  version[1] == '\0' ? 1 : 3);
    else if (f->version != NULL)
        otel_span_add_attr_strn_sk(span, OTEL_KEY("network.protocol.version"), f->version,
                                   strlen(f->version));
    if (f->user_agent != NULL)
        otel_span_add_attr_strn_sk(span, OTEL_KEY("user_agent.original"), f->user_agent,
                                   strlen(f->user_agent));
    for (size_t i = 0; i < m->conf->capture_headers.n; i++)
        set_captured(span, conn, m->conf->capture_headers.v[i], m->capture_keys[i]);
}

/* ---- span start and end ------------------------------------------------- */

/* The incoming context through the configured propagators, or NULL when the
 * request carries no valid one. */
static const otel_extracted *extract_incoming(const mhd_otel *m, req_headers *h)
{
    /* Every propagator reads only the captured headers: without one of
     * them there is nothing to extract. */
    unsigned seen = h->traceparent.lines | h->tracestate.lines | h->baggage.lines | h->b3.lines |
                    h->b3_trace_id.lines | h->b3_span_id.lines | h->b3_sampled.lines |
                    h->b3_flags.lines;
    if (h->want == 0 || seen == 0 || h->prop == NULL)
        return NULL;
    otel_extracted *x = &h->prop->extracted;
    (void)otel_propagation_extract(&m->conf->propagators, req_header_get, h, x);
    return otel_span_context_is_valid(&x->context) ? x : NULL;
}

/* The request's baggage lines (the first MHD_OTEL_BAGGAGE_LINES), made
 * current around the server's handler. */
static void keep_baggage(mhd_otel_req *r, req_headers *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->baggage.lines && n < MHD_OTEL_BAGGAGE_LINES; i++) {
        const char *v = header_line(h->conn, &h->baggage, "baggage", i);
        if (v != NULL) {
            r->baggage_v[n] = v;
            r->baggage_len[n] = strlen(v);
            n++;
        }
    }
    r->baggage.values = r->baggage_v;
    r->baggage.lens = r->baggage_len;
    r->baggage.n = n;
}

/* "METHOD route", "METHOD", or "HTTP" for a method outside the standard
 * ones (method NULL): the first as the routes made it at start when they
 * could. */
static void set_span_name(otel_span *span, const char *method, const mhd_otel_route *route)
{
    if (method == NULL || route == NULL) {
        otel_span_update_name(span, method ? method : "HTTP");
        return;
    }
    const char *name = mhd_otel_route_name(route, method);
    if (name != NULL) {
        otel_span_name_lasting(span, name);
        return;
    }
    size_t ml = strlen(method);
    otel_span_name_pair(span, method, ml, route->pattern,
                        strnlen(route->pattern, OTEL_SPAN_NAME_PAIR_MAX - ml - 1));
}

/* network.protocol.version of an HTTP version string ("HTTP/1.1"): a
 * static string, or NULL. */
static const char *protocol_version(const char *version)
{
    return known_version(after_http(version));
}

/* Whether r's request is counted in the metrics. */
static bool metered(const mhd_otel *m, bool skipped)
{
    return m->metrics != NULL && (!skipped || m->conf->metrics_skipped);
}

/* Keep what the attributes of r's record-only span are made of, to make
 * them only if the keep decision keeps it (most are released unseen): the
 * strings MHD holds for the request may be gone by then (a request that
 * never completed is finished at its connection's next one), so they are
 * copied, and the route is matched then on the copy of MHD's path. Returns
 * false when they cannot be kept (strings too long, an unusual method or
 * version, captured headers): the caller sets them now. */
static bool defer(mhd_otel_req *r, const req_facts *f, const req_headers *h, bool route_known,
                  const char *url, size_t url_len)
{
    const mhd_otel *m = r->daemon->m;
    if (m->conf->capture_headers.n > 0 || (f->known == NULL && f->method != NULL))
        return false;
    const char *version = known_version(f->version);
    if (f->version != NULL && version == NULL)
        return false;
    /* Copied with their NUL: a NUL inside still ends them where it did. */
    size_t hl = h->host ? h->host_len + 1 : 0, ul = h->user_agent ? h->user_agent_len + 1 : 0,
           pl = route_known || m->routes.n == 0 ? 0 : url_len;
    if (hl + ul + pl > sizeof(r->deferred_text))
        return false;
    char *text = r->deferred_text;
    r->d = (mhd_otel_deferred){.known = f->known,
                               .version = version,
                               .route = f->route,
                               .route_path = pl ? text + hl + ul : NULL,
                               .route_path_len = (uint16_t)pl,
                               .host = hl ? text : NULL,
                               .user_agent = ul ? text + hl : NULL};
    otel_copy_small(text, h->host, hl);
    otel_copy_small(text + hl, h->user_agent, ul);
    otel_copy_small(text + hl + ul, url, pl);
    r->deferred = true;
    return true;
}

/* The name and attributes defer kept, and the response status (0: none),
 * on r's span that the keep decision kept. What the server set on the span
 * meanwhile stays as it set it. */
static void apply_deferred(mhd_otel_req *r, unsigned int status)
{
    const mhd_otel *m = r->daemon->m;
    otel_span *span = r->span;
    const mhd_otel_deferred *d = &r->d;
    const mhd_otel_route *route =
        d->route_path != NULL ? mhd_otel_route_match(&m->routes, d->route_path, d->route_path_len)
                              : d->route;
    if (span->d.name[0] == '\0')
        set_span_name(span, d->known, route);
    req_facts f = {.known = d->known,
                   .version = d->version,
                   .route = route,
                   .host = d->host,
                   .user_agent = d->user_agent};
    uint16_t first = span->d.n_attrs;
    set_request_attrs(r, r->conn, &f);
    if (status != 0)
        otel_span_add_attr_int_sk(span, OTEL_KEY("http.response.status_code"), status);
    otel_span_drop_repeated_attrs(span, first);
}

/* Start the server span at the first handler call: the headers are there. */
static void begin_span(mhd_otel_req *r, struct MHD_Connection *conn, const char *url,
                       const char *method, const char *version)
{
    mhd_otel *m = r->daemon->m;
    size_t url_len = strlen(url);
    bool skipped =
        mhd_otel_path_skipped(&m->conf->skip_paths, &m->conf->skip_prefixes, url, url_len);
    const char *known = otel_http_method_known(method);
    const mhd_otel_route *route = NULL;
    if (metered(m, skipped)) {
        route = mhd_otel_route_match(&m->routes, url, url_len);
        r->mq = (mhd_otel_server_req){.method = known ? known : "_OTHER",
                                      .route = route != NULL ? route->pattern : NULL,
                                      .version = protocol_version(version),
                                      .https = r->daemon->tls};
        mhd_otel_metrics_server_begin(m->metrics, &r->mq);
    }
    if (skipped) {
        r->skipped = true;
        return;
    }
    req_headers h;
    headers_init(&h, conn, m->conf->propagators.mask);
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, header_seen, &h);
    const otel_extracted *in = extract_incoming(m, &h);
    bool trusted = in != NULL && m->conf->trust_incoming;
    /* Baggage goes on to outgoing calls unless incoming context is not
     * trusted. The values stay MHD's for the whole request. */
    if (m->conf->trust_incoming)
        keep_baggage(r, &h);
    otel_span_options opt = {
        .kind = OTEL_SPAN_KIND_SERVER,
        .parent = trusted ? &in->context : NULL,
        .root = !trusted,
        .start_ns = r->start_ns,
        .tracestate = trusted ? in->tracestate : NULL,
    };
    /* The name is made only for a span that records. */
    r->span = otel_span_start(m->tracer, NULL, &opt);
    if (!otel_span_records(r->span))
        return;
    if (in != NULL && !trusted) /* a new trace that remembers where it came from */
        otel_span_add_link(r->span, &in->context, in->tracestate);
    bool route_known = r->mq.method != NULL;
    req_facts f = {.method = method,
                   .known = known,
                   .version = after_http(version),
                   .route = route,
                   .host = h.host,
                   .user_agent = h.user_agent};
    if (otel_span_sampled(r->span) || !defer(r, &f, &h, route_known, url, url_len)) {
        if (!route_known)
            f.route = mhd_otel_route_match(&m->routes, url, url_len);
        set_span_name(r->span, known, f.route);
        set_request_attrs(r, conn, &f);
    }
    if (m->request_hook != NULL) {
        r->hooked = true;
        m->request_hook(m->request_hook_ud, r->span, conn, method, url);
    }
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "terminated_with_error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "daemon_shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client_abort";
    }
    return "terminated";
}

static unsigned int queued_status(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
    return ci ? ci->http_status : 0;
}

/* A request MHD answered (or lost) before any handler call: trace it with
 * what is known. */
static void begin_unhandled_span(mhd_otel_req *r)
{
    mhd_otel *m = r->daemon->m;
    const char *q = memchr(r->uri, '?', r->uri_len);
    size_t path_len = q ? (size_t)(q - r->uri) : r->uri_len;
    bool skipped =
        mhd_otel_path_skipped(&m->conf->skip_paths, &m->conf->skip_prefixes, r->uri, path_len);
    if (metered(m, skipped))
        r->mq = (mhd_otel_server_req){.method = "_OTHER", .https = r->daemon->tls};
    if (skipped)
        return;
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .root = true, .start_ns = r->start_ns};
    r->span = otel_span_start(m->tracer, "HTTP", &opt);
    if (!otel_span_records(r->span))
        return;
    otel_span_set_attr_str(r->span, "http.request.method", "_OTHER");
    if (r->uri_len > 0)
        otel_span_set_attr_strn(r->span, "url.path", r->uri, path_len);
    otel_span_set_attr_str(r->span, "url.scheme", r->daemon->tls ? "https" : "http");
    set_client_address(r->span, r->conn);
}

/* The keep decision for a server span the sampler did not sample (it is
 * record-only: otel_keep_errors or otel_keep_slower_than is on): its trace
 * is exported when the request failed (a 5xx, an abnormal end, an ERROR set
 * by the handler) or, else, took longer than the threshold by now, the
 * span's end time. */
static void keep_decide(const mhd_otel_conf *c, otel_span *span, unsigned int status, bool abnormal,
                        uint64_t now)
{
    if (otel_span_sampled(span))
        return;
    if (c->keep_errors && (abnormal || status >= 500 || span->d.status == OTEL_STATUS_ERROR)) {
        otel_span_keep(span, OTEL_KEEP_ERROR);
        return;
    }
    if (c->keep_slower_than_ns != 0 && now > span->d.start_ns &&
        now - span->d.start_ns > c->keep_slower_than_ns)
        otel_span_keep(span, OTEL_KEEP_SLOW);
}

/* End r's span (r no longer bound to its connection) with the response status
 * and the way the request ended, then give r back. */
static void finish(mhd_otel_req *r, unsigned int status, enum MHD_RequestTerminationCode toe)
{
    mhd_otel *m = r->daemon->m;
    if (!r->handled && !r->skipped && r->span == NULL)
        begin_unhandled_span(r);
    otel_span *span = r->span;
    /* One clock read ends the span and times the request's metrics. */
    uint64_t now = 0;
    if (otel_span_records(span)) {
        if (status != 0 && !r->deferred) /* a key only the module sets */
            otel_span_add_attr_int_sk(span, OTEL_KEY("http.response.status_code"), status);
        const char *term = termination_name(toe);
        char code[16];
        if (term != NULL) {
            otel_span_set_attr_str(span, "error.type", term);
            char msg[64];
            snprintf(msg, sizeof(msg), "request terminated: %s", term);
            otel_span_set_status(span, OTEL_STATUS_ERROR, msg);
        } else if (status >= 500) {
            snprintf(code, sizeof(code), "%u", status);
            otel_span_set_attr_str(span, "error.type", code);
            otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
        }
        if (r->hooked && m->response_hook != NULL)
            m->response_hook(m->response_hook_ud, span, r->conn, status);
        now = otel_now_ns();
        keep_decide(m->conf, span, status, term != NULL, now);
        if (r->deferred && span->keep_reason != 0)
            apply_deferred(r, status);
    }
    if (r->mq.method != NULL) {
        r->mq.status = status;
        r->mq.error = termination_name(toe);
        if (now == 0)
            now = otel_now_ns();
        double secs = now > r->start_ns ? (double)(now - r->start_ns) / 1e9 : 0;
        otel_span_context sc = otel_span_get_context(span);
        mhd_otel_metrics_server_end(m->metrics, &r->mq, secs, span != NULL ? &sc : NULL);
    }
    otel_span_end_at(span, now); /* 0: the span reads the clock */
    mhd_otel_req_put(r);
}

/* ---- the callbacks ------------------------------------------------------ */

void *mhd_otel_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    mhd_otel_daemon *d = cls;
    void *app_cls = d->uri_log ? d->uri_log(d->uri_log_cls, uri, conn) : NULL;
    mhd_otel_req *r = mhd_otel_req_get();
    if (r == NULL) { /* out of memory: this request goes untraced */
        atomic_store_explicit(&foreign_req_cls, true, memory_order_release);
        return app_cls;
    }
    r->daemon = d;
    r->conn = conn;
    r->app_cls = app_cls;
    r->start_ns = otel_now_ns();
    size_t len = uri ? strnlen(uri, MHD_OTEL_URI_MAX - 1) : 0;
    memcpy(r->uri, uri ? uri : "", len);
    r->uri[len] = '\0';
    r->uri_len = (uint16_t)len;
    mhd_otel_req *stale = mhd_otel_req_bind(r);
    if (stale != NULL)
        finish(stale, queued_status(conn), MHD_REQUEST_TERMINATED_WITH_ERROR);
    return r;
}

/* Is p one of ours? Only requests bound to their connection are. Until a
 * request has gone untraced (its *req_cls is then the server's own pointer),
 * every pointer MHD hands back is one mhd_otel_on_uri returned, and the
 * table is not looked at. */
static mhd_otel_req *ours(struct MHD_Connection *conn, void *p)
{
    if (p == NULL)
        return NULL;
    if (!atomic_load_explicit(&foreign_req_cls, memory_order_acquire))
        return p;
    return mhd_otel_req_find(conn) == p ? p : NULL;
}

enum MHD_Result mhd_otel_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
    mhd_otel_daemon *d = cls;
    mhd_otel_req *r = (tls_req != NULL && tls_req == *req_cls) ? tls_req : ours(conn, *req_cls);
    if (r == NULL) /* not ours (allocation failed at its start) */
        return d->dh(d->dh_cls, conn, url, method, version, upload_data, upload_data_size, req_cls);
    if (!r->handled) {
        r->handled = true;
        begin_span(r, conn, url, method, version);
    }
    otel_span *prev_span = otel_context_swap(r->span);
    const otel_baggage_lines *prev_bag = otel_baggage_swap(r->baggage.n > 0 ? &r->baggage : NULL);
    mhd_otel_req *prev_req = tls_req;
    tls_req = r;
    enum MHD_Result ret =
        d->dh(d->dh_cls, conn, url, method, version, upload_data, upload_data_size, &r->app_cls);
    tls_req = prev_req;
    otel_baggage_swap(prev_bag);
    otel_context_swap(prev_span);
    unsigned int st = queued_status(conn);
    if (st != 0)
        r->status = st;
    return ret;
}

void mhd_otel_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
    mhd_otel_daemon *d = cls;
    mhd_otel_req *r = mhd_otel_req_take(conn);
    if (r == NULL || r != *req_cls) {
        if (d->completed != NULL)
            d->completed(d->completed_cls, conn, req_cls, toe);
        if (r != NULL)
            finish(r, queued_status(conn), toe);
        return;
    }
    unsigned int status = queued_status(conn);
    if (status == 0)
        status = r->status;
    if (d->completed != NULL) {
        /* The span stays reachable from the server's callback, both as the
         * current span and through mhd_otel_connection_span. */
        otel_span *prev = otel_context_swap(r->span);
        mhd_otel_req *prev_req = tls_req;
        tls_req = r;
        d->completed(d->completed_cls, conn, &r->app_cls, toe);
        tls_req = prev_req;
        otel_context_swap(prev);
    }
    *req_cls = NULL;
    finish(r, status, toe);
}

void mhd_otel_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe)
{
    mhd_otel_daemon *d = cls;
    if (d->notify_conn != NULL)
        d->notify_conn(d->notify_conn_cls, conn, socket_context, toe);
    if (toe != MHD_CONNECTION_NOTIFY_CLOSED)
        return;
    /* A request MHD never completed through the callback (rejected before
     * the handler): end its span now. */
    mhd_otel_req *r = mhd_otel_req_take(conn);
    if (r == NULL)
        return;
    unsigned int status = r->status ? r->status : queued_status(conn);
    enum MHD_RequestTerminationCode how = MHD_REQUEST_TERMINATED_WITH_ERROR;
    if (!r->handled) /* MHD answered it itself, or the client left first */
        how =
            status != 0 ? MHD_REQUEST_TERMINATED_COMPLETED_OK : MHD_REQUEST_TERMINATED_CLIENT_ABORT;
    finish(r, status, how);
}

otel_span *mhd_otel_connection_span(struct MHD_Connection *connection)
{
    mhd_otel_req *r = tls_req;
    if (r == NULL || r->conn != connection)
        r = mhd_otel_req_find(connection);
    return r ? r->span : NULL;
}
