/* client.c - CLIENT spans for outgoing HTTP requests: semantic-convention
 * name and attributes (credentials redacted from url.full), context
 * injected through a carrier setter, status from the response. */
#include <mhd-otel/client.h>

#include "client_int.h"
#include "span_int.h"
#include "text.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define URL_BUF 4096 /* bytes of a redacted url.full; longer ones are cut */

/* Query keys whose values sign a URL (semconv: redacted in url.full). */
static const char *const signed_keys[] = {"AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The parts of an absolute URL that the attributes need, as slices of it. */
typedef struct url_parts {
    const char *scheme; /* NULL: none ("host/path", http for curl) */
    size_t scheme_len;
    bool has_userinfo;
    const char *hostport; /* authority without userinfo */
    size_t hostport_len;
    otel_hostport hp; /* of hostport: the host without IPv6 brackets */
    long port;        /* -1: none given (or not a port) */
    const char *rest; /* path, query and fragment: up to the NUL */
} url_parts;

/* A bounded string builder: what does not fit is cut. */
typedef struct strbuf {
    char *p;
    size_t cap;
    size_t len;
} strbuf;

static void sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->len + 1 >= b->cap)
        return;
    size_t room = b->cap - 1 - b->len;
    if (n > room)
        n = room;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static bool is_scheme_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* Length of the scheme of url when it is followed by "://", else 0. */
static size_t scheme_len(const char *url)
{
    size_t n = 0;
    while (url[n] != '\0' && is_scheme_char(url[n], n == 0))
        n++;
    return (n > 0 && strncmp(url + n, "://", 3) == 0) ? n : 0;
}

static void url_split(const char *url, url_parts *u)
{
    memset(u, 0, sizeof(*u));
    size_t sl = scheme_len(url);
    const char *auth = url;
    if (sl > 0) {
        u->scheme = url;
        u->scheme_len = sl;
        auth = url + sl + 3;
    }
    size_t alen = strcspn(auth, "/?#");
    u->rest = auth + alen;
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    u->has_userinfo = at != NULL;
    u->hostport = at ? at + 1 : auth;
    u->hostport_len = (size_t)(auth + alen - u->hostport);
    otel_hostport_split(u->hostport, u->hostport_len, &u->hp); /* malformed: as far as it goes */
    u->port = otel_port_parse(u->hp.port, u->hp.port_len);
}

static bool scheme_is(const url_parts *u, const char *name)
{
    return u->scheme != NULL && strlen(name) == u->scheme_len &&
           strncasecmp(u->scheme, name, u->scheme_len) == 0;
}

/* The explicit port, else the scheme's default (no scheme: curl's http). */
static long url_port(const url_parts *u)
{
    if (u->port >= 0)
        return u->port;
    if (u->scheme == NULL || scheme_is(u, "http"))
        return 80;
    if (scheme_is(u, "https"))
        return 443;
    return -1;
}

static bool is_signed_key(const char *k, size_t n)
{
    for (size_t i = 0; i < N_OF(signed_keys); i++)
        if (strlen(signed_keys[i]) == n && memcmp(signed_keys[i], k, n) == 0)
            return true;
    return false;
}

/* Copy the query q (n bytes, without '?') with signed values redacted. */
static void add_query(strbuf *b, const char *q, size_t n)
{
    size_t i = 0;
    while (i <= n) {
        size_t len = 0;
        while (i + len < n && q[i + len] != '&')
            len++;
        const char *eq = memchr(q + i, '=', len);
        if (eq != NULL && is_signed_key(q + i, (size_t)(eq - (q + i)))) {
            sb_add(b, q + i, (size_t)(eq - (q + i)) + 1);
            sb_add(b, "REDACTED", 8);
        } else {
            sb_add(b, q + i, len);
        }
        i += len + 1;
        if (i <= n)
            sb_add(b, "&", 1);
    }
}

/* url.full of u into b: credentials and URL signatures redacted. */
static void url_redact(const url_parts *u, strbuf *b)
{
    if (u->scheme != NULL) {
        sb_add(b, u->scheme, u->scheme_len);
        sb_add(b, "://", 3);
    }
    if (u->has_userinfo)
        sb_add(b, "REDACTED:REDACTED@", 18);
    sb_add(b, u->hostport, u->hostport_len);
    const char *rest = u->rest;
    size_t path = strcspn(rest, "?#");
    sb_add(b, rest, path);
    if (rest[path] != '?') {
        sb_add(b, rest + path, strlen(rest + path));
        return;
    }
    const char *q = rest + path + 1;
    size_t qlen = strcspn(q, "#");
    sb_add(b, "?", 1);
    add_query(b, q, qlen);
    sb_add(b, q + qlen, strlen(q + qlen));
}

static void add_url_attrs(otel_span *span, const char *url)
{
    url_parts u;
    url_split(url, &u);
    char buf[URL_BUF];
    strbuf b = {buf, sizeof(buf), 0};
    buf[0] = '\0';
    url_redact(&u, &b);
    otel_span_add_attr_strn_sk(span, OTEL_KEY("url.full"), buf, b.len);
    if (u.hp.host_len > 0)
        otel_span_add_attr_strn_sk(span, OTEL_KEY("server.address"), u.hp.host, u.hp.host_len);
    long port = url_port(&u);
    if (port >= 0)
        otel_span_add_attr_int_sk(span, OTEL_KEY("server.port"), port);
}

void otel_client_url_server(const char *url, const char **host, size_t *host_len, long *port)
{
    url_parts u;
    url_split(url, &u);
    *host = u.hp.host;
    *host_len = u.hp.host_len;
    *port = url_port(&u);
}

/* The calling thread's table for the baggage it carries on (10 KiB). */
static const otel_thread_block incoming_block = {sizeof(otel_baggage), NULL};
static OTEL_TLS void *tls_incoming; /* otel_baggage */

void otel_client_inject(const otel_span *span, const otel_propagators *props,
                        const otel_baggage *bag, otel_carrier_set set, void *carrier)
{
    if (span == NULL || set == NULL)
        return;
    otel_propagators configured;
    if (props == NULL) {
        otel_propagators_global(&configured);
        props = &configured;
    }
    otel_span_context sc = otel_span_get_context(span);
    char ts[OTEL_TRACESTATE_MAX];
    otel_span_get_tracestate(span, ts, sizeof(ts));
    /* No baggage given: carry on the baggage of the request being handled.
     * Parsed again (and so validated) into a per-thread table: it is large
     * for a stack (out of memory: not carried on). */
    const otel_baggage_lines *raw = otel_baggage_current();
    if (bag == NULL && raw != NULL && otel_propagators_has(props, OTEL_PROPAGATOR_BAGGAGE)) {
        otel_baggage *incoming = otel_thread_block_get(&incoming_block, &tls_incoming);
        if (incoming != NULL &&
            otel_baggage_parse_lines(incoming, raw->values, raw->lens, raw->n) > 0)
            bag = incoming;
    }
    otel_propagation_inject(props, &sc, ts, bag, set, carrier);
}

otel_span *otel_client_span_start(otel_tracer *t, const char *method, const char *url,
                                  const otel_propagators *props, otel_carrier_set set,
                                  void *carrier)
{
    const char *known = otel_http_method_known(method); /* a literal */
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_CLIENT};
    otel_span *span = otel_span_start(t, known ? method : "HTTP", &opt);
    if (span == NULL)
        return NULL;
    if (known) {
        otel_span_add_attr_lit_sk(span, OTEL_KEY("http.request.method"), known, strlen(known));
    } else {
        otel_span_add_attr_lit_sk(span, OTEL_KEY("http.request.method"), OTEL_KEY("_OTHER"));
        if (method != NULL)
            otel_span_add_attr_strn_sk(span, OTEL_KEY("http.request.method_original"), method,
                                       strlen(method));
    }
    if (url != NULL)
        add_url_attrs(span, url);
    otel_client_inject(span, props, NULL, set, carrier);
    return span;
}

void otel_client_span_end(otel_span *span, int status, const char *error_type)
{
    if (span == NULL)
        return;
    if (status > 0)
        otel_span_set_attr_int(span, "http.response.status_code", status);
    if (error_type != NULL && error_type[0] != '\0') {
        otel_span_set_attr_str(span, "error.type", error_type);
        otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
    } else if (status >= 400) {
        char code[16];
        snprintf(code, sizeof(code), "%d", status);
        otel_span_set_attr_str(span, "error.type", code);
        otel_span_set_status(span, OTEL_STATUS_ERROR, NULL);
    }
    otel_span_end(span);
}
