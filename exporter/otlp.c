/* otlp.c - the OTLP/gRPC exporter: encode a batch, frame (and gzip) it, send
 * it as one TraceService/Export call over HTTP/2, and retry with backoff
 * until the export deadline. */
#include "otlp.h"

#include "grpc.h"
#include "h2.h"
#include "otlp_encode.h"
#include "retry.h"

#include "../core/text.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define OTLP_DEFAULT_ENDPOINT "http://localhost:4317"
#define OTLP_DEFAULT_TIMEOUT_NS UINT64_C(10000000000)
#define OTLP_PATH "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
#define OTLP_USER_AGENT "OTel-OTLP-Exporter-C/" OTEL_SDK_VERSION
#define OTLP_RESPONSE_MAX (1024 * 1024) /* an ExportTraceServiceResponse, inflated */
#define OTLP_DETAILS_MAX (64 * 1024)    /* grpc-status-details-bin, decoded */
#define OTLP_LOG_INTERVAL_NS UINT64_C(1000000000)
/* content-type, te, grpc-timeout, grpc-accept-encoding, grpc-encoding,
 * user-agent */
#define OTLP_FIXED_HEADERS 6

/* A rate limit of one message per interval. */
typedef struct log_gate {
    bool used;
    uint64_t last_ns;
} log_gate;

struct otel_otlp {
    char *endpoint; /* owned copy, for messages */
    otel_h2 *h2;
    otel_grpc_framer *framer;
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

    _Atomic uint64_t requests;
    _Atomic uint64_t retries;
    _Atomic uint64_t connects;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t rejected;
};

/* How one attempt ended. */
typedef struct outcome {
    int err;  /* OTEL_OK: delivered; else the OTEL_ERR_* */
    int code; /* gRPC status (for err OTEL_ERR_IO) */
    bool has_retry_info;
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
        "content-type",     "content-length",    "te",     "host", "connection", "keep-alive",
        "proxy-connection", "transfer-encoding", "upgrade"};
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

int otel_otlp_endpoint_check(const char *url, char *err, size_t errlen)
{
    otel_h2_endpoint ep;
    char dummy[1];
    if (err == NULL || errlen == 0) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    return otel_h2_endpoint_parse(url, &ep, err, errlen);
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
        rc = otel_otlp_decode_response(msg, len, &o->rejected, o->message, sizeof(o->message));
    otel_free(owned);
    if (rc != OTEL_OK) {
        o->rejected = 0;
        o->message[0] = '\0';
        if (log_gate_open(&e->partial_log, now_ns(e)))
            otel_log(OTEL_LOG_WARN,
                     "otlp: unreadable response from %s (%s); spans counted as delivered",
                     e->endpoint, otel_strerror(rc));
    }
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
                           .path = OTLP_PATH,
                           .headers = e->hdrs,
                           .n_headers = build_headers(e, tmo),
                           .body = body,
                           .n_body = 2};
    otel_h2_response resp;
    atomic_fetch_add(&e->requests, 1);
    atomic_fetch_add(&e->bytes_sent, OTEL_GRPC_PREFIX_LEN + msg->payload_len);
    int rc = otel_h2_send_request(e->h2, &req, deadline, &resp);
    atomic_store(&e->connects, otel_h2_connects(e->h2));
    if (rc == OTEL_OK) {
        read_status(e, &resp, o);
        return;
    }
    o->err = rc;
    o->code = resp.reset ? otel_grpc_status_from_h2_error(resp.reset_error) : OTEL_GRPC_UNAVAILABLE;
    snprintf(o->message, sizeof(o->message), "%s", otel_h2_error(e->h2));
}

static void log_failure(otel_otlp *e, size_t n, unsigned attempts, const outcome *o,
                        const char *why)
{
    if (!log_gate_open(&e->fail_log, now_ns(e)))
        return;
    if (o->err == OTEL_ERR_IO && o->code != OTEL_GRPC_OK)
        otel_log(OTEL_LOG_ERROR,
                 "otlp: export of %zu spans to %s failed after %u attempt%s (%s): %s: %s", n,
                 e->endpoint, attempts, attempts == 1 ? "" : "s", why, otel_grpc_code_name(o->code),
                 o->message[0] ? o->message : "no message");
    else
        otel_log(OTEL_LOG_ERROR,
                 "otlp: export of %zu spans to %s failed after %u attempt%s (%s): %s", n,
                 e->endpoint, attempts, attempts == 1 ? "" : "s", why,
                 o->message[0] ? o->message : otel_strerror(o->err));
}

/* A delivered batch: count and report a partial success. */
static int delivered(otel_otlp *e, size_t n, const outcome *o)
{
    if (o->rejected <= 0 && o->message[0] == '\0')
        return 0;
    int64_t rejected = o->rejected > 0 ? o->rejected : 0;
    if ((uint64_t)rejected > n)
        rejected = (int64_t)n;
    atomic_fetch_add(&e->rejected, (uint64_t)rejected);
    if (log_gate_open(&e->partial_log, now_ns(e)))
        otel_log(OTEL_LOG_WARN, "otlp: %s accepted a batch of %zu spans but rejected %lld: %s",
                 e->endpoint, n, (long long)rejected, o->message[0] ? o->message : "no message");
    return rejected > INT_MAX ? INT_MAX : (int)rejected;
}

/* Export by the earlier of the exporter's own timeout and until (an
 * otel_mono_ns time), carried over to the retry policy's clock. */
static int export_locked(otel_otlp *e, const otel_span_data *const *spans, size_t n, uint64_t until)
{
    if (e->shut)
        return OTEL_ERR_STATE;
    uint64_t mono = otel_mono_ns();
    uint64_t left = until > mono ? until - mono : 0;
    uint64_t deadline = now_ns(e) + (left < e->timeout_ns ? left : e->timeout_ns);
    const uint8_t *pb;
    size_t pb_len;
    otel_grpc_frame msg;
    /* pb stays valid until the next encode, after this export: the h2
     * client sends from it directly. */
    int rc = otel_otlp_encode(e->enc, spans, n, &pb, &pb_len);
    if (rc == OTEL_OK)
        rc = otel_grpc_framer_frame(e->framer, pb, pb_len, e->gzip, &msg);
    if (rc != OTEL_OK) {
        if (log_gate_open(&e->fail_log, now_ns(e)))
            otel_log(OTEL_LOG_ERROR, "otlp: cannot encode %zu spans: %s", n, otel_strerror(rc));
        return rc;
    }
    outcome o;
    for (unsigned i = 0;; i++) {
        attempt(e, &msg, deadline, &o);
        if (o.err == OTEL_OK)
            return delivered(e, n, &o);
        if (o.err != OTEL_ERR_IO) {
            log_failure(e, n, i + 1, &o, "gave up");
            return o.err;
        }
        if (!otel_retry_is_retryable(o.code, o.has_retry_info)) {
            log_failure(e, n, i + 1, &o, "not retryable");
            return OTEL_ERR_IO;
        }
        uint64_t delay;
        if (otel_retry_next_delay(&e->retry, i, deadline,
                                  o.has_retry_info ? &o.retry_delay_ns : NULL, &delay) != OTEL_OK) {
            log_failure(e, n, i + 1, &o, "no time left to retry");
            return OTEL_ERR_TIMEOUT;
        }
        sleep_ns(delay);
        atomic_fetch_add(&e->retries, 1);
    }
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
    otel_h2_close(e->h2);
    pthread_mutex_unlock(&e->lock);
    return OTEL_OK;
}

/* In a forked child: the connection is the parent's. Forget it without a
 * byte on the wire (closing our copy of the socket leaves the parent's
 * open); the lock may have been held by the parent's exporter thread. */
static void otlp_after_fork(void *user_data)
{
    otel_otlp *e = user_data;
    pthread_mutex_init(&e->lock, NULL);
    otel_h2_close(e->h2);
}

/* ---- API ---------------------------------------------------------------- */

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
    const char *url = cfg->endpoint && cfg->endpoint[0] ? cfg->endpoint : OTLP_DEFAULT_ENDPOINT;
    otel_h2_endpoint ep;
    int rc = otel_h2_endpoint_parse(url, &ep, err, errlen);
    if (rc != OTEL_OK)
        return rc;
    otel_otlp *e = otel_calloc(1, sizeof(*e));
    if (e == NULL || pthread_mutex_init(&e->lock, NULL) != 0) {
        otel_free(e);
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    e->gzip = cfg->gzip;
    e->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : OTLP_DEFAULT_TIMEOUT_NS;
    otel_retry_policy_default(&e->retry);
    rc = copy_headers(e, cfg, err, errlen);
    if (rc == OTEL_OK) {
        e->endpoint = otel_strdup(url);
        rc = e->endpoint ? otel_h2_new(&e->h2, &ep) : OTEL_ERR_NOMEM;
    }
    if (rc == OTEL_OK)
        rc = otel_grpc_framer_new(&e->framer);
    if (rc == OTEL_OK)
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
}
