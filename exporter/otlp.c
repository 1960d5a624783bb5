/* otlp.c - the OTLP exporter: encode a batch (protobuf, or JSON for
 * http/json), gzip it when asked, send it as one TraceService/Export call
 * over HTTP/2 (gRPC) or one POST (OTLP/HTTP), and retry with backoff until
 * the export deadline. */
#include "otlp.h"

#include "grpc.h"
#include "h2.h"
#include "otlp_encode.h"
#include "otlp_http.h"
#include "otlp_json.h"
#include "otlp_metrics.h"
#include "retry.h"
#include "tls.h"

#include "../core/text.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "../core/alloc.h"
#include "../core/log.h"

#define OTLP_DEFAULT_ENDPOINT "http://localhost:4317"
#define OTLP_DEFAULT_HTTP_ENDPOINT "http://localhost:4318"
#define OTLP_DEFAULT_TIMEOUT_NS UINT64_C(10000000000)
#define OTLP_URL_MAX OTEL_OTLP_URL_MAX
#define OTLP_USER_AGENT "OTel-OTLP-Exporter-C/" OTEL_SDK_VERSION
#define OTLP_RESPONSE_MAX (1024 * 1024) /* an ExportTraceServiceResponse, inflated */
#define OTLP_DETAILS_MAX (64 * 1024)    /* grpc-status-details-bin, decoded */
#define OTLP_LOG_INTERVAL_NS UINT64_C(1000000000)
/* content-type, te, grpc-timeout, grpc-accept-encoding, grpc-encoding,
 * user-agent */
#define OTLP_FIXED_HEADERS 6

/* Per signal: the gRPC method, the OTLP/HTTP path, what is sent. */
static const struct {
    const char *grpc_path, *http_path, *items;
} signals[] = {
    [OTEL_OTLP_TRACES] = {"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                          "/v1/traces", "spans"},
    [OTEL_OTLP_METRICS] = {"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                           "/v1/metrics", "data points"},
};

/* A rate limit of one message per interval. */
typedef struct log_gate {
    bool used;
    uint64_t last_ns;
} log_gate;

struct otel_otlp {
    char *endpoint; /* owned: where spans go (the URL posted to), for messages */
    otel_otlp_protocol protocol;
    otel_otlp_signal signal;
    otel_h2 *h2;              /* grpc */
    otel_tls_ctx *tls;        /* grpc over https://, else NULL */
    otel_otlp_http *http;     /* http/protobuf, http/json */
    otel_otlp_json *json;     /* http/json */
    otel_grpc_framer *framer; /* also gzips OTLP/HTTP bodies */
    otel_otlp_encoder *enc;
    otel_retry_policy retry;
    bool gzip;
    uint64_t timeout_ns;

    /* Custom metadata: owned copies, names lowercased. */
    char **hdr_names;
    char **hdr_values;
    size_t n_custom;
    bool custom_user_agent;
    otel_h2_header *hdrs; /* room for OTLP_FIXED_HEADERS + n_custom, reused */

    pthread_mutex_t lock; /* one export at a time; everything above and below */
    bool shut;
    log_gate partial_log;
    log_gate fail_log;
    char tls_cause[512]; /* the TLS failure logged last; "" after a success */

    _Atomic uint64_t requests;
    _Atomic uint64_t retries;
    _Atomic uint64_t connects;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t rejected;
    _Atomic uint64_t tls_resumed;
};

/* How one attempt ended. */
typedef struct outcome {
    int err;  /* OTEL_OK: delivered; else the OTEL_ERR_* */
    int code; /* gRPC status (for err OTEL_ERR_IO over gRPC), else 0 */
    bool retryable;
    bool tls;            /* failed in TLS: logged once per cause */
    bool has_retry_info; /* the server said when to retry (RetryInfo, Retry-After) */
    uint64_t retry_delay_ns;
    int64_t rejected;
    char message[512]; /* grpc-message, the partial-success message, or the
                        * transport's error */
} outcome;

/* ---- helpers: config ---------------------------------------------------- */

/* Names we set ourselves, that HTTP/2 forbids, or that would contradict
 * the request (any case). */
static bool reserved_name(const char *name)
{
    static const char *const names[] = {
        "content-type", "content-length",   "content-encoding",  "te",      "host",  "connection",
        "keep-alive",   "proxy-connection", "transfer-encoding", "upgrade", "expect"};
    if (strncasecmp(name, "grpc-", 5) == 0)
        return true;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

int otel_otlp_header_check(const char *name, const char *value, char *err, size_t errlen)
{
    char dummy[1];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (name == NULL || name[0] == '\0' || value == NULL) {
        snprintf(err, errlen, "a header needs a name and a value");
        return OTEL_ERR_INVALID;
    }
    if (!otel_is_token(name, strlen(name))) {
        snprintf(err, errlen, "invalid character in the header name");
        return OTEL_ERR_INVALID;
    }
    /* gRPC ASCII metadata: printable ASCII, space included. */
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            snprintf(err, errlen, "the header value must be printable ASCII");
            return OTEL_ERR_INVALID;
        }
    }
    if (strcasecmp(name, "user-agent") != 0 && reserved_name(name)) {
        snprintf(err, errlen, "the header is set by HTTP/2 or gRPC itself");
        return OTEL_ERR_INVALID;
    }
    return OTEL_OK;
}

static const char *const protocol_names[] = {
    [OTEL_OTLP_GRPC] = "grpc",
    [OTEL_OTLP_HTTP_PROTOBUF] = "http/protobuf",
    [OTEL_OTLP_HTTP_JSON] = "http/json",
};

const char *otel_otlp_protocol_name(otel_otlp_protocol p)
{
    return (unsigned)p < sizeof(protocol_names) / sizeof(protocol_names[0]) ? protocol_names[p]
                                                                            : NULL;
}

int otel_otlp_protocol_parse(const char *name, otel_otlp_protocol *out)
{
    for (size_t i = 0; name != NULL && i < sizeof(protocol_names) / sizeof(protocol_names[0]); i++)
        if (strcmp(name, protocol_names[i]) == 0) {
            *out = (otel_otlp_protocol)i;
            return OTEL_OK;
        }
    return OTEL_ERR_INVALID;
}

static bool is_http(otel_otlp_protocol p)
{
    return p == OTEL_OTLP_HTTP_PROTOBUF || p == OTEL_OTLP_HTTP_JSON;
}

/* A gRPC endpoint without a scheme gets one: https:// unless insecure
 * (OTLP exporter spec, "Insecure"). Into buf (cap bytes). */
static const char *grpc_url(const char *url, bool insecure, char *buf, size_t cap)
{
    if (strstr(url, "://") != NULL)
        return url;
    snprintf(buf, cap, "%s%s", insecure ? "http://" : "https://", url);
    return buf;
}

/* An OTLP/HTTP endpoint: the scheme and authority as for gRPC (the h2
 * endpoint rules), then an optional path of visible ASCII, no query or
 * fragment. *path gets where the path starts in url. */
static int http_url_check(const char *url, const char **path, char *err, size_t errlen)
{
    size_t skip = strncasecmp(url, "https://", 8) == 0  ? 8
                  : strncasecmp(url, "http://", 7) == 0 ? 7
                                                        : 0;
    if (skip == 0) {
        snprintf(err, errlen, "endpoint \"%s\": must start with http:// or https://", url);
        return OTEL_ERR_INVALID;
    }
    size_t alen = strcspn(url + skip, "/?#");
    char base[OTLP_URL_MAX];
    if (skip + alen >= sizeof(base)) {
        snprintf(err, errlen, "endpoint too long");
        return OTEL_ERR_INVALID;
    }
    memcpy(base, url, skip + alen);
    base[skip + alen] = '\0';
    otel_h2_endpoint ep;
    int rc = otel_h2_endpoint_parse(base, &ep, err, errlen);
    if (rc != OTEL_OK)
        return rc;
    const char *p = url + skip + alen;
    for (const char *q = p; *q; q++) {
        if (*q == '?' || *q == '#' || (unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f) {
            snprintf(err, errlen,
                     "endpoint \"%s\": the path must be visible ASCII, without a query or "
                     "fragment",
                     url);
            return OTEL_ERR_INVALID;
        }
    }
    *path = p;
    return OTEL_OK;
}

int otel_otlp_endpoint_check(const char *url, otel_otlp_protocol protocol, bool insecure, char *err,
                             size_t errlen)
{
    char dummy[1], buf[OTLP_URL_MAX];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (url == NULL || url[0] == '\0') {
        snprintf(err, errlen, "endpoint is empty");
        return OTEL_ERR_INVALID;
    }
    if (is_http(protocol)) {
        const char *path;
        return http_url_check(url, &path, err, errlen);
    }
    otel_h2_endpoint ep;
    return otel_h2_endpoint_parse(grpc_url(url, insecure, buf, sizeof(buf)), &ep, err, errlen);
}

int otel_otlp_target(const otel_otlp_config *cfg, char *out, size_t cap, char *err, size_t errlen)
{
    char dummy[1], buf[OTLP_URL_MAX];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    bool http = is_http(cfg->protocol);
    if ((unsigned)cfg->signal >= sizeof(signals) / sizeof(signals[0])) {
        snprintf(err, errlen, "unknown signal");
        return OTEL_ERR_INVALID;
    }
    const char *http_path = signals[cfg->signal].http_path;
    const char *url = cfg->endpoint && cfg->endpoint[0]
                          ? cfg->endpoint
                          : (http ? OTLP_DEFAULT_HTTP_ENDPOINT : OTLP_DEFAULT_ENDPOINT);
    /* No endpoint: the protocol's default URL, whatever the rule. */
    otel_otlp_url_rule rule = url == cfg->endpoint ? cfg->url_rule : OTEL_OTLP_URL_DEFAULT;
    int rc = otel_otlp_endpoint_check(url, cfg->protocol, cfg->insecure, err, errlen);
    if (rc != OTEL_OK)
        return rc;
    int n;
    if (!http) {
        n = snprintf(out, cap, "%s", grpc_url(url, cfg->insecure, buf, sizeof(buf)));
    } else {
        /* OTLP exporter spec, "Endpoint URLs for OTLP/HTTP". */
        const char *path;
        http_url_check(url, &path, err, errlen);
        int blen = (int)(path - url);
        size_t plen = strlen(path);
        bool no_path = plen == 0 || (plen == 1 && path[0] == '/');
        if (rule == OTEL_OTLP_URL_BASE) {
            while (plen > 0 && path[plen - 1] == '/')
                plen--; /* no double slash */
            n = snprintf(out, cap, "%.*s%.*s%s", blen, url, (int)plen, path, http_path);
        } else if (rule == OTEL_OTLP_URL_DEFAULT && no_path) {
            n = snprintf(out, cap, "%.*s%s", blen, url, http_path);
        } else {
            n = snprintf(out, cap, "%.*s%s", blen, url, plen ? path : "/");
        }
    }
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "endpoint too long");
        return OTEL_ERR_RANGE;
    }
    return OTEL_OK;
}

int otel_otlp_tls_check(const otel_otlp_config *cfg, otel_otlp_tls_setting *bad, char *err,
                        size_t errlen)
{
    char dummy[1], target[OTLP_URL_MAX];
    otel_otlp_tls_setting none;
    if (bad == NULL)
        bad = &none;
    *bad = OTEL_OTLP_TLS_ANY;
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    bool any = cfg->ca_file || cfg->client_cert || cfg->client_key || cfg->tls_no_verify;
    if (!any)
        return OTEL_OK;
    int rc = otel_otlp_target(cfg, target, sizeof(target), err, errlen);
    if (rc != OTEL_OK)
        return rc;
    if (strncasecmp(target, "https://", 8) != 0) {
        snprintf(err, errlen,
                 "TLS settings (CA file, client certificate, verification) given for "
                 "endpoint \"%s\", which is not https://",
                 target);
        return OTEL_ERR_INVALID;
    }
    otel_tls_config tc = {.ca_file = cfg->ca_file,
                          .cert_file = cfg->client_cert,
                          .key_file = cfg->client_key,
                          .no_verify = cfg->tls_no_verify};
    otel_tls_setting which;
    rc = otel_tls_config_check(&tc, &which, err, errlen);
    *bad = which == OTEL_TLS_CA     ? OTEL_OTLP_TLS_CA_FILE
           : which == OTEL_TLS_CERT ? OTEL_OTLP_TLS_CLIENT_CERT
           : which == OTEL_TLS_KEY  ? OTEL_OTLP_TLS_CLIENT_KEY
                                    : OTEL_OTLP_TLS_ANY;
    return rc;
}

/* Copy and lowercase the custom headers of cfg into e. */
static int copy_headers(otel_otlp *e, const otel_otlp_config *cfg, char *err, size_t errlen)
{
    size_t n = cfg->n_headers;
    if (n > 0 && cfg->headers == NULL) {
        snprintf(err, errlen, "n_headers is %zu but headers is NULL", n);
        return OTEL_ERR_INVALID;
    }
    e->hdrs = otel_calloc(OTLP_FIXED_HEADERS + n, sizeof(*e->hdrs));
    if (e->hdrs == NULL)
        return OTEL_ERR_NOMEM;
    if (n == 0)
        return OTEL_OK;
    e->hdr_names = otel_calloc(n, sizeof(char *));
    e->hdr_values = otel_calloc(n, sizeof(char *));
    if (e->hdr_names == NULL || e->hdr_values == NULL)
        return OTEL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const otel_otlp_header *h = &cfg->headers[i];
        char why[128];
        int rc = otel_otlp_header_check(h->name, h->value, why, sizeof(why));
        if (rc != OTEL_OK) {
            snprintf(err, errlen, "header \"%s\": %s", h->name ? h->name : "", why);
            return rc;
        }
        char *name = otel_strdup(h->name);
        e->hdr_names[i] = name;
        e->n_custom = i + 1;
        e->hdr_values[i] = otel_strdup(h->value);
        if (name == NULL || e->hdr_values[i] == NULL)
            return OTEL_ERR_NOMEM;
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        if (strcmp(name, "user-agent") == 0)
            e->custom_user_agent = true;
    }
    return OTEL_OK;
}

/* ---- helpers: one attempt ----------------------------------------------- */

static bool log_gate_open(log_gate *g, uint64_t now)
{
    if (g->used && now - g->last_ns < OTLP_LOG_INTERVAL_NS)
        return false;
    g->used = true;
    g->last_ns = now;
    return true;
}

static uint64_t now_ns(const otel_otlp *e)
{
    return e->retry.clock(e->retry.clock_ud);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The request metadata for an attempt with timeout_ns left; tmo holds the
 * grpc-timeout value. Returns how many of e->hdrs are set. */
static size_t build_headers(otel_otlp *e, char *tmo)
{
    size_t n = 0;
    e->hdrs[n++] = (otel_h2_header){"content-type", "application/grpc"};
    e->hdrs[n++] = (otel_h2_header){"te", "trailers"};
    e->hdrs[n++] = (otel_h2_header){"grpc-timeout", tmo};
    e->hdrs[n++] = (otel_h2_header){"grpc-accept-encoding", "gzip"};
    if (e->gzip)
        e->hdrs[n++] = (otel_h2_header){"grpc-encoding", "gzip"};
    if (!e->custom_user_agent)
        e->hdrs[n++] = (otel_h2_header){"user-agent", OTLP_USER_AGENT};
    for (size_t i = 0; i < e->n_custom; i++)
        e->hdrs[n++] = (otel_h2_header){e->hdr_names[i], e->hdr_values[i]};
    return n;
}

/* A RetryInfo delay from grpc-status-details-bin, if the server sent one. */
static void read_retry_info(const otel_h2 *h2, outcome *o)
{
    const char *b64 = otel_h2_response_field(h2, "grpc-status-details-bin");
    if (b64 == NULL)
        return;
    size_t len = strlen(b64);
    size_t cap = len / 4 * 3 + 3;
    if (cap > OTLP_DETAILS_MAX)
        return;
    uint8_t *buf = otel_malloc(cap);
    if (buf == NULL)
        return;
    size_t n;
    uint64_t delay;
    if (otel_grpc_base64_decode(b64, len, buf, cap, &n) == OTEL_OK &&
        otel_otlp_decode_retry_info(buf, n, &delay) == OTEL_OK) {
        o->has_retry_info = true;
        o->retry_delay_ns = delay;
    }
    otel_free(buf);
}

/* A successful answer whose body could not be read (why): the spans were
 * delivered all the same, none counted rejected; said at most once a gate
 * period. */
static void response_unreadable(otel_otlp *e, outcome *o, const char *why)
{
    o->rejected = 0;
    o->message[0] = '\0';
    if (log_gate_open(&e->partial_log, now_ns(e)))
        otel_log(OTEL_LOG_WARN, "otlp: unreadable response from %s (%s); %s counted as delivered",
                 e->endpoint, why, signals[e->signal].items);
}

/* The Export*ServiceResponse of the signal in the protocol's encoding:
 * its partial success into o. */
static int decode_response(const otel_otlp *e, const uint8_t *body, size_t len, outcome *o)
{
    bool json = e->protocol == OTEL_OTLP_HTTP_JSON;
    if (e->signal == OTEL_OTLP_METRICS)
        return otel_otlp_metrics_decode_response(body, len, json, &o->rejected, o->message,
                                                 sizeof(o->message));
    return json
               ? otel_otlp_json_decode_response(body, len, &o->rejected, o->message,
                                                sizeof(o->message))
               : otel_otlp_decode_response(body, len, &o->rejected, o->message, sizeof(o->message));
}

/* Read the ExportTraceServiceResponse of a call that ended with OK. A body
 * that cannot be read still means the spans were delivered. */
static void read_response(otel_otlp *e, const otel_h2_response *resp, outcome *o)
{
    if (resp->data_len == 0)
        return;
    uint8_t *owned;
    const uint8_t *msg;
    size_t len;
    int rc = otel_grpc_message_read(resp->data, resp->data_len,
                                    otel_h2_response_field(e->h2, "grpc-encoding"),
                                    OTLP_RESPONSE_MAX, &owned, &msg, &len);
    if (rc == OTEL_OK)
        rc = decode_response(e, msg, len, o);
    otel_free(owned);
    if (rc != OTEL_OK)
        response_unreadable(e, o, otel_strerror(rc));
}

/* The status of a whole response that was not OK, or OK. */
static void read_status(otel_otlp *e, const otel_h2_response *resp, outcome *o)
{
    if (resp->status != 200) {
        o->err = OTEL_ERR_IO;
        o->code = otel_grpc_status_from_http(resp->status);
        snprintf(o->message, sizeof(o->message), "HTTP status %d", resp->status);
        return;
    }
    const char *gs = otel_h2_response_field(e->h2, "grpc-status");
    int code;
    if (gs == NULL || otel_grpc_status_parse(gs, strlen(gs), &code) != OTEL_OK) {
        o->err = OTEL_ERR_IO;
        o->code = OTEL_GRPC_UNKNOWN;
        snprintf(o->message, sizeof(o->message), "%s grpc-status in the response",
                 gs ? "unreadable" : "no");
        return;
    }
    if (code == OTEL_GRPC_OK) {
        o->err = OTEL_OK;
        read_response(e, resp, o);
        return;
    }
    o->err = OTEL_ERR_IO;
    o->code = code;
    const char *m = otel_h2_response_field(e->h2, "grpc-message");
    if (m != NULL)
        otel_grpc_message_decode(m, strlen(m), o->message, sizeof(o->message));
    read_retry_info(e->h2, o);
}

/* One Export call of the framed message with what is left until deadline. */
static void attempt(otel_otlp *e, const otel_grpc_frame *msg, uint64_t deadline, outcome *o)
{
    memset(o, 0, sizeof(*o));
    uint64_t now = now_ns(e);
    if (now >= deadline) {
        o->err = OTEL_ERR_TIMEOUT;
        snprintf(o->message, sizeof(o->message), "the export timeout passed");
        return;
    }
    char tmo[OTEL_GRPC_TIMEOUT_MAX];
    otel_grpc_timeout_format(deadline - now, tmo, sizeof(tmo));
    /* The prefix and the message go out as two pieces: the message is
     * written to the socket from the encoder's (or the framer's) buffer. */
    const otel_h2_buf body[2] = {{msg->prefix, OTEL_GRPC_PREFIX_LEN},
                                 {msg->payload, msg->payload_len}};
    otel_h2_request req = {.method = "POST",
                           .path = signals[e->signal].grpc_path,
                           .headers = e->hdrs,
                           .n_headers = build_headers(e, tmo),
                           .body = body,
                           .n_body = 2};
    otel_h2_response resp;
    atomic_fetch_add(&e->requests, 1);
    atomic_fetch_add(&e->bytes_sent, OTEL_GRPC_PREFIX_LEN + msg->payload_len);
    int rc = otel_h2_send_request(e->h2, &req, deadline, &resp);
    atomic_store(&e->connects, otel_h2_connects(e->h2));
    atomic_store(&e->tls_resumed, otel_h2_tls_resumed(e->h2));
    if (rc == OTEL_OK) {
        read_status(e, &resp, o);
    } else {
        o->err = rc;
        o->code =
            resp.reset ? otel_grpc_status_from_h2_error(resp.reset_error) : OTEL_GRPC_UNAVAILABLE;
        o->tls = otel_h2_tls_failed(e->h2);
        snprintf(o->message, sizeof(o->message), "%s", otel_h2_error(e->h2));
    }
    o->retryable = o->err == OTEL_ERR_IO && otel_retry_is_retryable(o->code, o->has_retry_info);
}

/* ---- helpers: one OTLP/HTTP attempt -------------------------------------- */

/* A partial success in the body of a 2xx answer. A body that cannot be
 * read still means the spans were delivered. */
static void read_http_response(otel_otlp *e, const otel_otlp_http_result *r, outcome *o)
{
    if (r->body_len == 0)
        return;
    int rc = OTEL_ERR_PARSE;
    if (!r->body_cut)
        rc = decode_response(e, r->body, r->body_len, o);
    if (rc != OTEL_OK)
        response_unreadable(e, o, r->body_cut ? "too large" : "not an Export response");
}

/* What the body of an error answer says: the message of a google.rpc.Status
 * (protobuf), or the start of a text or JSON body. */
static void http_error_text(const otel_otlp_http_result *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (r->body_len == 0)
        return;
    const char *ct = r->content_type ? r->content_type : "";
    if (strstr(ct, "protobuf") != NULL) {
        otel_otlp_decode_status_message(r->body, r->body_len, out, cap);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->body_len && n + 1 < cap && n < 200; i++) {
        unsigned char ch = r->body[i];
        out[n++] = (char)(ch >= 0x20 && ch < 0x7f ? ch : ' ');
    }
    out[n] = '\0';
}

/* One POST of body (len bytes) with what is left until deadline. OTLP
 * spec, "Failures" and "OTLP/HTTP Throttling": 429, 502, 503 and 504 are
 * retryable and a Retry-After says when; other answers end the export. */
static void attempt_http(otel_otlp *e, const uint8_t *body, size_t len, uint64_t deadline,
                         outcome *o)
{
    memset(o, 0, sizeof(*o));
    otel_otlp_http_result r;
    atomic_fetch_add(&e->requests, 1);
    atomic_fetch_add(&e->bytes_sent, len);
    int rc = otel_otlp_http_post(e->http, body, len, deadline, &r);
    atomic_store(&e->connects, otel_otlp_http_connects(e->http));
    if (rc != OTEL_OK) {
        o->err = rc;
        o->retryable = rc == OTEL_ERR_IO;
        o->tls = r.tls;
        snprintf(o->message, sizeof(o->message), "%s", r.err);
        return;
    }
    if (r.status >= 200 && r.status < 300) {
        read_http_response(e, &r, o);
        return;
    }
    char text[256];
    http_error_text(&r, text, sizeof(text));
    o->err = OTEL_ERR_IO;
    o->retryable = r.status == 429 || r.status == 502 || r.status == 503 || r.status == 504;
    o->has_retry_info = o->retryable && r.has_retry_after;
    o->retry_delay_ns = r.retry_after_ns;
    snprintf(o->message, sizeof(o->message), "HTTP status %ld%s%s", r.status, text[0] ? ": " : "",
             text);
}

static void log_failure(otel_otlp *e, size_t n, unsigned attempts, const outcome *o,
                        const char *why)
{
    if (o->tls) {
        /* Logged once per cause, and again when it comes back after a
         * success. */
        if (strcmp(e->tls_cause, o->message) == 0)
            return;
        snprintf(e->tls_cause, sizeof(e->tls_cause), "%s", o->message);
    } else if (!log_gate_open(&e->fail_log, now_ns(e))) {
        return;
    }
    if (o->err == OTEL_ERR_IO && o->code != OTEL_GRPC_OK)
        otel_log(OTEL_LOG_ERROR,
                 "otlp: export of %zu %s to %s failed after %u attempt%s (%s): %s: %s", n,
                 signals[e->signal].items, e->endpoint, attempts, attempts == 1 ? "" : "s", why,
                 otel_grpc_code_name(o->code), o->message[0] ? o->message : "no message");
    else
        otel_log(OTEL_LOG_ERROR, "otlp: export of %zu %s to %s failed after %u attempt%s (%s): %s",
                 n, signals[e->signal].items, e->endpoint, attempts, attempts == 1 ? "" : "s", why,
                 o->message[0] ? o->message : otel_strerror(o->err));
}

/* A delivered batch: count and report a partial success. */
static int delivered(otel_otlp *e, size_t n, const outcome *o)
{
    e->tls_cause[0] = '\0';
    if (o->rejected <= 0 && o->message[0] == '\0')
        return 0;
    int64_t rejected = o->rejected > 0 ? o->rejected : 0;
    if ((uint64_t)rejected > n)
        rejected = (int64_t)n;
    atomic_fetch_add(&e->rejected, (uint64_t)rejected);
    if (log_gate_open(&e->partial_log, now_ns(e)))
        otel_log(OTEL_LOG_WARN, "otlp: %s accepted a batch of %zu %s but rejected %lld: %s",
                 e->endpoint, n, signals[e->signal].items, (long long)rejected,
                 o->message[0] ? o->message : "no message");
    return rejected > INT_MAX ? INT_MAX : (int)rejected;
}

/* The request body of spans: the framed protobuf message (gRPC), or the
 * protobuf or JSON bytes, gzipped when asked (OTLP/HTTP). *msg's bytes stay
 * valid until the next encode, after this export: they are sent from where
 * they are. */
static int frame(otel_otlp *e, const uint8_t *pb, size_t pb_len, otel_grpc_frame *msg)
{
    if (e->protocol == OTEL_OTLP_GRPC || e->gzip)
        return otel_grpc_framer_frame(e->framer, pb, pb_len, e->gzip, msg);
    msg->payload = pb;
    msg->payload_len = pb_len;
    return OTEL_OK;
}

static int encode(otel_otlp *e, const otel_span_data *const *spans, size_t n, otel_grpc_frame *msg)
{
    const uint8_t *pb;
    size_t pb_len;
    int rc = e->protocol == OTEL_OTLP_HTTP_JSON
                 ? otel_otlp_json_encode(e->json, spans, n, &pb, &pb_len)
                 : otel_otlp_encode(e->enc, spans, n, &pb, &pb_len);
    return rc == OTEL_OK ? frame(e, pb, pb_len, msg) : rc;
}

/* The deadline of an export by the earlier of the exporter's own timeout
 * and until (an otel_mono_ns time), on the retry policy's clock. */
static uint64_t export_deadline(otel_otlp *e, uint64_t until)
{
    uint64_t mono = otel_mono_ns();
    uint64_t left = until > mono ? until - mono : 0;
    return now_ns(e) + (left < e->timeout_ns ? left : e->timeout_ns);
}

/* The last attempt of an export that ends failed may say little (one the
 * deadline cut short): o's message also says what the attempt before it
 * met (earlier, "" when none), when that was something else. */
static void add_earlier(outcome *o, const char *earlier)
{
    if (o->tls || earlier[0] == '\0' || strcmp(earlier, o->message) == 0)
        return;
    char m[sizeof(o->message)];
    snprintf(m, sizeof(m), "%s", o->message[0] ? o->message : otel_strerror(o->err));
    snprintf(o->message, sizeof(o->message), "%.248s; before it: %.248s", m, earlier);
}

/* Send the request body msg of n items, retrying until deadline. */
static int send_locked(otel_otlp *e, const otel_grpc_frame *msg, size_t n, uint64_t deadline)
{
    outcome o;
    char earlier[sizeof(o.message)] = ""; /* why the attempt before failed */
    for (unsigned i = 0;; i++) {
        /* The transports wait by the monotonic clock: the deadline is
         * carried over from the policy's. */
        uint64_t t = now_ns(e);
        uint64_t mono_deadline = otel_mono_ns() + (deadline > t ? deadline - t : 0);
        if (e->protocol == OTEL_OTLP_GRPC)
            attempt(e, msg, deadline, &o);
        else
            attempt_http(e, msg->payload, msg->payload_len, mono_deadline, &o);
        if (o.err == OTEL_OK)
            return delivered(e, n, &o);
        if (o.err != OTEL_ERR_IO) {
            add_earlier(&o, earlier);
            log_failure(e, n, i + 1, &o, "gave up");
            return o.err;
        }
        if (!o.retryable) {
            log_failure(e, n, i + 1, &o, "not retryable");
            return OTEL_ERR_IO;
        }
        uint64_t delay;
        if (otel_retry_next_delay(&e->retry, i, deadline,
                                  o.has_retry_info ? &o.retry_delay_ns : NULL, &delay) != OTEL_OK) {
            add_earlier(&o, earlier);
            log_failure(e, n, i + 1, &o, "no time left to retry");
            return OTEL_ERR_TIMEOUT;
        }
        snprintf(earlier, sizeof(earlier), "%s", o.message[0] ? o.message : otel_strerror(o.err));
        sleep_ns(delay);
        atomic_fetch_add(&e->retries, 1);
    }
}

static int export_locked(otel_otlp *e, const otel_span_data *const *spans, size_t n, uint64_t until)
{
    if (e->shut)
        return OTEL_ERR_STATE;
    uint64_t deadline = export_deadline(e, until);
    otel_grpc_frame msg;
    int rc = encode(e, spans, n, &msg);
    if (rc != OTEL_OK) {
        if (log_gate_open(&e->fail_log, now_ns(e)))
            otel_log(OTEL_LOG_ERROR, "otlp: cannot encode %zu spans: %s", n, otel_strerror(rc));
        return rc;
    }
    return send_locked(e, &msg, n, deadline);
}

int otel_otlp_send(otel_otlp *e, const uint8_t *body, size_t len, size_t n_items, uint64_t until)
{
    if (e == NULL || (body == NULL && len > 0))
        return OTEL_ERR_INVALID;
    pthread_mutex_lock(&e->lock);
    int rc = OTEL_ERR_STATE;
    if (!e->shut) {
        uint64_t deadline = export_deadline(e, until);
        otel_grpc_frame msg;
        rc = frame(e, body, len, &msg);
        if (rc == OTEL_OK)
            rc = send_locked(e, &msg, n_items, deadline);
        else if (log_gate_open(&e->fail_log, now_ns(e)))
            otel_log(OTEL_LOG_ERROR, "otlp: cannot frame %zu %s: %s", n_items,
                     signals[e->signal].items, otel_strerror(rc));
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* ---- exporter vtable ---------------------------------------------------- */

static int otlp_export(void *user_data, const otel_span_data *const *spans, size_t n,
                       uint64_t deadline)
{
    otel_otlp *e = user_data;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&e->lock);
    int rc = export_locked(e, spans, n, deadline);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* Nothing is buffered between exports: shutdown only closes the
 * connection, which takes no waiting. */
static int otlp_shutdown(void *user_data, uint64_t deadline)
{
    (void)deadline;
    otel_otlp *e = user_data;
    pthread_mutex_lock(&e->lock);
    e->shut = true;
    if (e->h2 != NULL)
        otel_h2_close(e->h2);
    pthread_mutex_unlock(&e->lock);
    return OTEL_OK;
}

/* In a forked child: the connection is the parent's. Forget it without a
 * byte on the wire (closing our copy of the socket leaves the parent's
 * open); the lock may have been held by the parent's exporter thread. */
static void otlp_after_fork(void *user_data)
{
    otel_otlp_after_fork(user_data);
}

void otel_otlp_after_fork(otel_otlp *e)
{
    pthread_mutex_init(&e->lock, NULL);
    if (e->h2 != NULL)
        otel_h2_close(e->h2);
    otel_tls_ctx_after_fork(e->tls);
    if (e->http != NULL)
        otel_otlp_http_after_fork(e->http);
}

/* ---- API ---------------------------------------------------------------- */

/* The request header lines of an OTLP/HTTP POST ("Name: value"), into
 * lines (room for 3 + e->n_custom), strings owned by *buf. */
static int http_header_lines(const otel_otlp *e, char **lines, size_t *n, char **buf)
{
    size_t need = 128 + sizeof(OTLP_USER_AGENT);
    for (size_t i = 0; i < e->n_custom; i++)
        need += strlen(e->hdr_names[i]) + strlen(e->hdr_values[i]) + 3;
    char *p = otel_malloc(need);
    if (p == NULL)
        return OTEL_ERR_NOMEM;
    *buf = p;
    size_t k = 0;
    char *end = p + need;
#define LINE(...)                                                                                  \
    do {                                                                                           \
        lines[k++] = p;                                                                            \
        p += snprintf(p, (size_t)(end - p), __VA_ARGS__) + 1;                                      \
    } while (0)
    LINE("Content-Type: %s",
         e->protocol == OTEL_OTLP_HTTP_JSON ? "application/json" : "application/x-protobuf");
    if (e->gzip)
        LINE("Content-Encoding: gzip");
    if (!e->custom_user_agent)
        LINE("User-Agent: %s", OTLP_USER_AGENT);
    for (size_t i = 0; i < e->n_custom; i++)
        LINE("%s: %s", e->hdr_names[i], e->hdr_values[i]);
#undef LINE
    *n = k;
    return OTEL_OK;
}

/* The transport of e for cfg: an HTTP/2 client (and TLS context) for gRPC,
 * a libcurl handle for OTLP/HTTP. */
static int open_transport(otel_otlp *e, const otel_otlp_config *cfg, char *err, size_t errlen)
{
    otel_tls_config tc = {.ca_file = cfg->ca_file,
                          .cert_file = cfg->client_cert,
                          .key_file = cfg->client_key,
                          .no_verify = cfg->tls_no_verify};
    bool https = strncasecmp(e->endpoint, "https://", 8) == 0;
    if (is_http(e->protocol)) {
        char **lines = otel_calloc(3 + e->n_custom, sizeof(char *)), *buf = NULL;
        size_t n = 0;
        int rc = lines != NULL ? http_header_lines(e, lines, &n, &buf) : OTEL_ERR_NOMEM;
        if (rc == OTEL_OK)
            rc = otel_otlp_http_new(&e->http, e->endpoint, (const char *const *)lines, n,
                                    https ? &tc : NULL, err, errlen);
        otel_free(buf);
        otel_free(lines);
        if (rc == OTEL_OK && e->protocol == OTEL_OTLP_HTTP_JSON)
            rc = otel_otlp_json_new(&e->json);
        return rc;
    }
    otel_h2_endpoint ep;
    int rc = otel_h2_endpoint_parse(e->endpoint, &ep, err, errlen);
    if (rc == OTEL_OK && ep.tls)
        rc = otel_tls_ctx_new(&e->tls, &tc, "\x02h2", err, errlen);
    if (rc == OTEL_OK)
        rc = otel_h2_new(&e->h2, &ep);
    if (rc == OTEL_OK)
        otel_h2_set_tls(e->h2, e->tls);
    return rc;
}

int otel_otlp_new(otel_otlp **out, const otel_otlp_config *cfg, char *err, size_t errlen)
{
    static const otel_otlp_config defaults = {0};
    char dummy[1];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    if (cfg == NULL)
        cfg = &defaults;
    char url[OTLP_URL_MAX];
    int rc = otel_otlp_target(cfg, url, sizeof(url), err, errlen);
    if (rc == OTEL_OK)
        rc = otel_otlp_tls_check(cfg, NULL, err, errlen);
    if (rc != OTEL_OK)
        return rc == OTEL_ERR_RANGE ? OTEL_ERR_INVALID : rc;
    otel_otlp *e = otel_calloc(1, sizeof(*e));
    if (e == NULL || pthread_mutex_init(&e->lock, NULL) != 0) {
        otel_free(e);
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    e->protocol = cfg->protocol;
    e->signal = cfg->signal;
    e->gzip = cfg->gzip;
    e->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : OTLP_DEFAULT_TIMEOUT_NS;
    otel_retry_policy_default(&e->retry);
    rc = copy_headers(e, cfg, err, errlen);
    if (rc == OTEL_OK) {
        e->endpoint = otel_strdup(url);
        rc = e->endpoint ? open_transport(e, cfg, err, errlen) : OTEL_ERR_NOMEM;
    }
    if (rc == OTEL_OK)
        rc = otel_grpc_framer_new(&e->framer);
    if (rc == OTEL_OK && e->protocol != OTEL_OTLP_HTTP_JSON)
        rc = otel_otlp_encoder_new(&e->enc);
    if (rc != OTEL_OK) {
        if (rc == OTEL_ERR_NOMEM && err[0] == '\0')
            snprintf(err, errlen, "out of memory");
        otel_otlp_del(e);
        return rc;
    }
    *out = e;
    return OTEL_OK;
}

void otel_otlp_del(otel_otlp *e)
{
    if (e == NULL)
        return;
    otel_h2_del(e->h2);
    otel_tls_ctx_del(e->tls);
    otel_otlp_http_del(e->http);
    otel_otlp_json_del(e->json);
    otel_grpc_framer_del(e->framer);
    otel_otlp_encoder_del(e->enc);
    for (size_t i = 0; i < e->n_custom; i++) {
        otel_free(e->hdr_names[i]);
        otel_free(e->hdr_values[i]);
    }
    otel_free(e->hdr_names);
    otel_free(e->hdr_values);
    otel_free(e->hdrs);
    otel_free(e->endpoint);
    pthread_mutex_destroy(&e->lock);
    otel_free(e);
}

static void otlp_free(void *user_data)
{
    otel_otlp_del(user_data);
}

int otel_otlp_exporter(otel_otlp *e, otel_exporter **out)
{
    *out = NULL;
    if (e == NULL)
        return OTEL_ERR_INVALID;
    int rc = otel_exporter_new(out, "otlp", otlp_export, e);
    if (rc != OTEL_OK) {
        otel_otlp_del(e);
        return rc;
    }
    otel_exporter_set_shutdown(*out, otlp_shutdown);
    otel_exporter_set_after_fork(*out, otlp_after_fork);
    otel_exporter_set_free(*out, otlp_free);
    return OTEL_OK;
}

void otel_otlp_get_stats(const otel_otlp *e, otel_otlp_stats *out)
{
    out->requests = atomic_load(&e->requests);
    out->retries = atomic_load(&e->retries);
    out->connects = atomic_load(&e->connects);
    out->bytes_sent = atomic_load(&e->bytes_sent);
    out->rejected = atomic_load(&e->rejected);
    out->tls_resumed = atomic_load(&e->tls_resumed);
}
