/* mhd_otel.c - the module object: loads the config, builds the tracer and
 * its exporters, starts and stops traced libmicrohttpd daemons. */
#include "module_int.h"

#include "mhd_real.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/alloc.h"
#include "../core/log.h"

/* Traced daemons, to find a daemon's wrapper at stop time. */
static pthread_mutex_t daemons_mu = PTHREAD_MUTEX_INITIALIZER;
static mhd_otel_daemon *daemons;

static void log_stderr(void *ud, otel_log_level level, const char *msg)
{
    (void)ud;
    static const char *const names[] = {"error", "warning", "info"};
    fprintf(stderr, "mhd-otel: %s: %s\n", names[level], msg);
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

/* "http.request.header.<name lowercased>" for each captured header. */
static int make_capture_keys(mhd_otel *m)
{
    const mhd_otel_strv *h = &m->conf->capture_headers;
    if (h->n == 0)
        return OTEL_OK;
    m->capture_keys = otel_calloc(h->n, sizeof(char *));
    if (m->capture_keys == NULL)
        return OTEL_ERR_NOMEM;
    static const char prefix[] = "http.request.header.";
    for (size_t i = 0; i < h->n; i++) {
        size_t len = strlen(h->v[i]);
        char *k = otel_malloc(sizeof(prefix) + len);
        if (k == NULL)
            return OTEL_ERR_NOMEM;
        memcpy(k, prefix, sizeof(prefix) - 1);
        for (size_t j = 0; j <= len; j++)
            k[sizeof(prefix) - 1 + j] = (char)tolower((unsigned char)h->v[i][j]);
        m->capture_keys[i] = k;
    }
    return OTEL_OK;
}

static int make_resource(const mhd_otel_conf *c, otel_resource **out)
{
    int rc = otel_resource_new(out, c->service_name);
    for (size_t i = 0; rc == OTEL_OK && i < c->n_resource_attrs; i++) {
        /* service.name from a resource attribute yields to the directive */
        if (c->service_name != NULL && strcmp(c->resource_attrs[i].key, "service.name") == 0)
            continue;
        rc = otel_resource_set(*out, c->resource_attrs[i].key, c->resource_attrs[i].value);
    }
    if (rc != OTEL_OK) {
        otel_resource_del(*out);
        *out = NULL;
    }
    return rc;
}

/* The config's OTLP headers as the exporter takes them (strings borrowed
 * from c); the caller frees the array. NULL: out of memory. */
static otel_otlp_header *conf_headers(const mhd_otel_conf *c)
{
    otel_otlp_header *h = otel_calloc(c->n_otlp_headers, sizeof(*h));
    for (size_t i = 0; h != NULL && i < c->n_otlp_headers; i++) {
        h[i].name = c->otlp_headers[i].key;
        h[i].value = c->otlp_headers[i].value;
    }
    return h;
}

/* The OTLP exporter of the config, added to the tracer. */
static int add_otlp(mhd_otel *m, char *err, size_t errlen)
{
    const mhd_otel_conf *c = m->conf;
    otel_otlp_header *h = NULL;
    if (c->n_otlp_headers > 0 && (h = conf_headers(c)) == NULL)
        return OTEL_ERR_NOMEM;
    otel_otlp_config oc;
    mhd_otel_conf_otlp(c, &oc);
    oc.headers = h;
    oc.n_headers = c->n_otlp_headers;
    char why[256] = "";
    otel_otlp *o;
    int rc = otel_otlp_new(&o, &oc, why, sizeof(why));
    otel_free(h);
    if (rc != OTEL_OK) {
        snprintf(err, errlen, "otlp exporter: %s", why[0] ? why : otel_strerror(rc));
        return rc;
    }
    if (oc.tls_no_verify)
        otel_log(OTEL_LOG_WARN,
                 "otlp exporter: tls_verify off: the collector's certificate is not checked; "
                 "anyone on the path can read and alter the spans");
    otel_exporter *e;
    rc = otel_otlp_exporter(o, &e); /* takes o */
    return rc == OTEL_OK ? otel_tracer_add_exporter(m->tracer, e) : rc;
}

static int make_tracer(mhd_otel *m, char *err, size_t errlen)
{
    const mhd_otel_conf *c = m->conf;
    otel_resource *res;
    int rc = make_resource(c, &res);
    if (rc != OTEL_OK)
        return rc;
    otel_tracer_config tc = c->batch;
    tc.sampler = c->sampler;
    rc = otel_tracer_new(&m->tracer, &tc, res);
    if (rc != OTEL_OK) {
        otel_resource_del(res);
        return rc;
    }
    if (c->console) {
        otel_console *con;
        rc = otel_console_new(&con, c->console_format, c->console_output);
        if (rc == OTEL_ERR_IO)
            snprintf(err, errlen, "console exporter: cannot open \"%s\": %s", c->console_output,
                     otel_strerror(rc));
        else if (rc != OTEL_OK)
            snprintf(err, errlen, "console exporter: %s", otel_strerror(rc));
        if (rc != OTEL_OK)
            return rc;
        otel_exporter *e;
        rc = otel_console_exporter(con, &e); /* takes con */
        if (rc == OTEL_OK)
            rc = otel_tracer_add_exporter(m->tracer, e);
        if (rc != OTEL_OK)
            return rc;
    }
    if (c->otlp) {
        rc = add_otlp(m, err, errlen);
        if (rc != OTEL_OK)
            return rc;
    }
    if (!c->console && !c->otlp)
        otel_log(OTEL_LOG_INFO, "no exporter configured: spans are counted but not sent");
    return OTEL_OK;
}

/* otel.component.type of the tracer's exporters, in the order added. */
static void span_exporter_types(const mhd_otel_conf *c, const char **types)
{
    size_t n = 0;
    if (c->console)
        types[n++] = "console_span_exporter";
    if (c->otlp)
        types[n++] = c->otlp_protocol == OTEL_OTLP_GRPC            ? "otlp_grpc_span_exporter"
                     : c->otlp_protocol == OTEL_OTLP_HTTP_PROTOBUF ? "otlp_http_span_exporter"
                                                                   : "otlp_http_json_span_exporter";
    types[n] = NULL;
}

/* The OTLP exporter of metrics (the otlp block's settings, the metrics
 * endpoint), into *out. */
static int metrics_otlp(const mhd_otel_conf *c, otel_otlp **out, char *err, size_t errlen)
{
    otel_otlp_header *h = NULL;
    if (c->n_otlp_headers > 0 && (h = conf_headers(c)) == NULL)
        return OTEL_ERR_NOMEM;
    otel_otlp_config oc;
    mhd_otel_conf_otlp_metrics(c, &oc);
    oc.headers = h;
    oc.n_headers = c->n_otlp_headers;
    if (oc.timeout_ns == 0 || oc.timeout_ns > c->metrics_timeout_ns)
        oc.timeout_ns = c->metrics_timeout_ns;
    char why[256] = "";
    int rc = otel_otlp_new(out, &oc, why, sizeof(why));
    otel_free(h);
    if (rc != OTEL_OK)
        snprintf(err, errlen, "otlp metrics exporter: %s", why[0] ? why : otel_strerror(rc));
    return rc;
}

/* The console's output for metrics: the spans' console output. */
static int metrics_console(mhd_otel *m, char *err, size_t errlen)
{
    const char *o = m->conf->console_output ? m->conf->console_output : "stdout";
    if (strcmp(o, "stdout") == 0) {
        m->metrics_out = stdout;
    } else if (strcmp(o, "stderr") == 0) {
        m->metrics_out = stderr;
    } else {
        m->metrics_out = fopen(o, "a");
        if (m->metrics_out == NULL) {
            snprintf(err, errlen, "console metrics exporter: cannot open \"%s\"", o);
            return OTEL_ERR_IO;
        }
        m->metrics_out_owned = true;
    }
    return OTEL_OK;
}

static void prom_sync(void *mm)
{
    mhd_otel_metrics_sync(mm);
}

/* The metrics and their exporters, when any runs. */
static int make_metrics(mhd_otel *m, char *err, size_t errlen)
{
    const mhd_otel_conf *c = m->conf;
    unsigned x = c->metrics_exporters;
    if (x == MHD_OTEL_METRICS_NONE || x == 0)
        return OTEL_OK;
    const char *types[OTEL_TRACER_MAX_EXPORTERS + 1];
    span_exporter_types(c, types);
    int rc = mhd_otel_metrics_new(&m->metrics, c->metrics_cardinality, m->tracer, types,
                                  c->batch.max_queue_size);
    if (rc != OTEL_OK)
        return rc;
    const otel_resource *res = otel_tracer_resource(m->tracer);
    mhd_otel_reader_config rc_ = {.mm = m->metrics,
                                  .res = res,
                                  .interval_ns = c->metrics_interval_ns,
                                  .timeout_ns = c->metrics_timeout_ns,
                                  .pref = c->metrics_temporality,
                                  .protocol = c->otlp_protocol};
    if ((x & MHD_OTEL_METRICS_OTLP) != 0 && (rc = metrics_otlp(c, &rc_.otlp, err, errlen)) != 0)
        return rc;
    if ((x & MHD_OTEL_METRICS_CONSOLE) != 0 && (rc = metrics_console(m, err, errlen)) != 0) {
        otel_otlp_del(rc_.otlp);
        return rc;
    }
    rc_.console = m->metrics_out;
    if (rc_.otlp != NULL || rc_.console != NULL) {
        rc = mhd_otel_reader_start(&m->reader, &rc_); /* takes the otlp exporter */
        if (rc != OTEL_OK) {
            snprintf(err, errlen, "metrics reader: %s", otel_strerror(rc));
            return rc;
        }
    }
    if ((x & MHD_OTEL_METRICS_PROMETHEUS) != 0) {
        char why[256] = "";
        rc = mhd_otel_prom_start(&m->prom, c->metrics_prometheus,
                                 mhd_otel_metrics_provider(m->metrics), res, why, sizeof(why));
        if (rc != OTEL_OK) {
            snprintf(err, errlen, "prometheus exporter: %s", why[0] ? why : otel_strerror(rc));
            return rc;
        }
        mhd_otel_prom_set_before(m->prom, prom_sync, m->metrics);
        otel_log(OTEL_LOG_INFO, "metrics: prometheus exporter on port %u",
                 (unsigned)mhd_otel_prom_port(m->prom));
    }
    mhd_otel_metrics_set_process(m->metrics);
    return OTEL_OK;
}

int mhd_otel_new(mhd_otel **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen > 0)
        err[0] = '\0';
    /* A program that set its own log function keeps it. */
    (void)otel_log_set_default(log_stderr, NULL);
    mhd_otel *m = otel_calloc(1, sizeof(*m));
    int rc = OTEL_ERR_NOMEM; /* reported below, like every failure */
    if (m != NULL)
        rc = path ? mhd_otel_conf_load(&m->conf, path, err, errlen)
                  : mhd_otel_conf_from_env(&m->conf, env_get, err, errlen);
    if (rc == OTEL_OK) /* outgoing requests carry what the config says */
        otel_propagators_set_global(&m->conf->propagators);
    if (rc == OTEL_OK && m->conf->trace) {
        rc = make_capture_keys(m);
        if (rc == OTEL_OK)
            rc = mhd_otel_routes_init(&m->routes, &m->conf->routes);
        if (rc == OTEL_OK)
            rc = make_tracer(m, err, errlen);
        if (rc == OTEL_OK)
            rc = make_metrics(m, err, errlen);
    }
    if (rc != OTEL_OK) {
        if (errlen > 0 && err[0] == '\0')
            snprintf(err, errlen, "%s: %s", path ? path : "mhd-otel", otel_strerror(rc));
        mhd_otel_del(m);
        return rc;
    }
    *out = m;
    return OTEL_OK;
}

void mhd_otel_del(mhd_otel *m)
{
    if (m == NULL)
        return;
    mhd_otel_prom_stop(m->prom);
    /* Spans first, then the last metrics, which count them: both within one
     * export_timeout from now. */
    if (m->reader != NULL) {
        uint64_t timeout = m->conf->batch.export_timeout_ns;
        uint64_t deadline = otel_mono_ns() + timeout;
        (void)otel_tracer_shutdown_within(m->tracer, timeout);
        mhd_otel_reader_stop_by(m->reader, deadline);
    }
    mhd_otel_metrics_clear_process(m->metrics);
    mhd_otel_metrics_del(m->metrics);
    if (m->metrics_out_owned)
        fclose(m->metrics_out);
    otel_tracer_del(m->tracer); /* exports what is queued, by the export timeout */
    if (m->capture_keys != NULL)
        for (size_t i = 0; i < m->conf->capture_headers.n; i++)
            otel_free(m->capture_keys[i]);
    otel_free(m->capture_keys);
    mhd_otel_routes_free(&m->routes);
    mhd_otel_conf_del(m->conf);
    otel_free(m);
}

const char *mhd_otel_version(void)
{
    return MHD_OTEL_VERSION;
}

int mhd_otel_enabled(const mhd_otel *m)
{
    return m != NULL && m->tracer != NULL;
}

void mhd_otel_propagators(const mhd_otel *m, otel_propagators *out)
{
    if (m != NULL)
        *out = m->conf->propagators;
    else
        otel_propagators_global(out);
}

otel_tracer *mhd_otel_tracer(mhd_otel *m)
{
    return m ? m->tracer : NULL;
}

void mhd_otel_set_request_hook(mhd_otel *m, mhd_otel_request_hook hook, void *user_data)
{
    m->request_hook_ud = user_data;
    m->request_hook = hook;
}

void mhd_otel_set_response_hook(mhd_otel *m, mhd_otel_response_hook hook, void *user_data)
{
    m->response_hook_ud = user_data;
    m->response_hook = hook;
}

otel_metrics *mhd_otel_meter_provider(mhd_otel *m)
{
    return m != NULL ? mhd_otel_metrics_provider(m->metrics) : NULL;
}

int mhd_otel_flush(mhd_otel *m, uint64_t timeout_ns)
{
    if (m == NULL || m->tracer == NULL)
        return OTEL_OK;
    uint64_t until = otel_mono_ns() + timeout_ns;
    int rc = otel_tracer_force_flush(m->tracer, timeout_ns);
    uint64_t now = otel_mono_ns();
    int mrc = mhd_otel_reader_flush(m->reader, until > now ? until - now : 0);
    return rc != OTEL_OK ? rc : mrc;
}

void mhd_otel_stats(const mhd_otel *m, otel_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (m != NULL && m->tracer != NULL)
        otel_tracer_stats(m->tracer, out);
}

const char *mhd_otel_describe(const mhd_otel *m, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    if (!mhd_otel_enabled(m)) {
        snprintf(buf, cap, "tracing off");
        return buf;
    }
    const mhd_otel_conf *c = m->conf;
    const char *service = otel_resource_get(otel_tracer_resource(m->tracer), "service.name");
    size_t n =
        (size_t)snprintf(buf, cap, "tracing on: service %s; exporters", service ? service : "?");
    if (n < cap && c->console)
        n += (size_t)snprintf(buf + n, cap - n, " console (%s)%s", c->console_output,
                              c->otlp ? "," : "");
    if (n < cap && c->otlp) {
        otel_otlp_config oc;
        char url[512];
        mhd_otel_conf_otlp(c, &oc);
        if (otel_otlp_target(&oc, url, sizeof(url), NULL, 0) != OTEL_OK)
            snprintf(url, sizeof(url), "?");
        n += (size_t)snprintf(
            buf + n, cap - n, " otlp (%s%s%s)", url, oc.protocol == OTEL_OTLP_GRPC ? "" : ", ",
            oc.protocol == OTEL_OTLP_GRPC ? "" : otel_otlp_protocol_name(oc.protocol));
    }
    if (n < cap && !c->console && !c->otlp)
        n += (size_t)snprintf(buf + n, cap - n, " none");
    if (n < cap) {
        const otel_sampler *smp = &c->sampler;
        n += (size_t)snprintf(buf + n, cap - n, "; sampler %s", otel_sampler_kind_name(smp->kind));
        if (n < cap && otel_sampler_needs_ratio(smp->kind))
            n += (size_t)snprintf(buf + n, cap - n, " %g", smp->ratio);
    }
    unsigned x = c->metrics_exporters;
    if (n < cap && m->metrics != NULL) {
        n += (size_t)snprintf(buf + n, cap - n, "; metrics");
        if (n < cap && (x & MHD_OTEL_METRICS_OTLP) != 0) {
            otel_otlp_config oc;
            char url[512];
            mhd_otel_conf_otlp_metrics(c, &oc);
            if (otel_otlp_target(&oc, url, sizeof(url), NULL, 0) != OTEL_OK)
                snprintf(url, sizeof(url), "?");
            n += (size_t)snprintf(buf + n, cap - n, " otlp (%s)", url);
        }
        if (n < cap && (x & MHD_OTEL_METRICS_PROMETHEUS) != 0)
            n += (size_t)snprintf(buf + n, cap - n, " prometheus (http://%s/metrics)",
                                  c->metrics_prometheus);
        if (n < cap && (x & MHD_OTEL_METRICS_CONSOLE) != 0)
            snprintf(buf + n, cap - n, " console");
    }
    return buf;
}

/* The start-up line, once per module, at its first daemon. */
static void announce(mhd_otel *m)
{
    if (m == NULL || atomic_exchange(&m->announced, true))
        return;
    char line[512];
    otel_log(OTEL_LOG_INFO, "%s", mhd_otel_describe(m, line, sizeof(line)));
}

/* ---- daemons ------------------------------------------------------------ */

/* Start the daemon with the module's callbacks in front of the server's.
 * Returns 0 with *out the daemon (NULL when MHD did not start it), or
 * OTEL_ERR_NOMEM when the module could not set itself up: nothing was
 * started then. */
static int start_traced(mhd_otel *m, unsigned int flags, uint16_t port,
                        MHD_AcceptPolicyCallback apc, void *apc_cls, MHD_AccessHandlerCallback dh,
                        void *dh_cls, mhd_otel_opts *o, struct MHD_Daemon **out)
{
    *out = NULL;
    mhd_otel_daemon *d = otel_calloc(1, sizeof(*d));
    if (d == NULL)
        return OTEL_ERR_NOMEM;
    d->m = m;
    d->dh = dh;
    d->dh_cls = dh_cls;
    d->completed = o->completed;
    d->completed_cls = o->completed_cls;
    d->uri_log = o->uri_log;
    d->uri_log_cls = o->uri_log_cls;
    d->tls = (flags & MHD_USE_TLS) != 0;
    /* The server's own connection callback moves behind the module's. */
    for (size_t i = 0; i < o->n; i++) {
        if (o->items[i].option == MHD_OPTION_NOTIFY_CONNECTION) {
            d->notify_conn = (MHD_NotifyConnectionCallback)o->items[i].value;
            d->notify_conn_cls = o->items[i].ptr_value;
            o->items[i] = o->items[--o->n];
            i--;
        }
    }
    if (mhd_otel_opts_add(o, MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_otel_on_completed, d) ||
        mhd_otel_opts_add(o, MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)mhd_otel_on_uri, d) ||
        mhd_otel_opts_add(o, MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)mhd_otel_on_connection, d) ||
        mhd_otel_opts_finish(o)) {
        otel_free(d);
        return OTEL_ERR_NOMEM;
    }
    /* The exporter thread starts with the first traced daemon, not before:
     * a process that forks after loading the config serves from the child. */
    if (otel_tracer_start(m->tracer) != OTEL_OK)
        otel_log(OTEL_LOG_ERROR, "cannot start the exporter thread: spans stay queued");
    struct MHD_Daemon *daemon = mhd_otel_real_start(flags, port, apc, apc_cls, mhd_otel_on_request,
                                                    d, MHD_OPTION_ARRAY, o->items, MHD_OPTION_END);
    if (daemon == NULL) {
        otel_free(d);
        return OTEL_OK;
    }
    d->daemon = daemon;
    pthread_mutex_lock(&daemons_mu);
    d->next = daemons;
    daemons = d;
    pthread_mutex_unlock(&daemons_mu);
    *out = daemon;
    return OTEL_OK;
}

struct MHD_Daemon *mhd_otel_start_daemon_va(mhd_otel *m, unsigned int flags, uint16_t port,
                                            MHD_AcceptPolicyCallback apc, void *apc_cls,
                                            MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    announce(m);
    if (!mhd_otel_enabled(m) || dh == NULL)
        return mhd_otel_real_start_va()(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_list copy;
    va_copy(copy, ap);
    mhd_otel_opts o;
    int rc = mhd_otel_opts_read(&o, ap);
    struct MHD_Daemon *daemon = NULL;
    if (rc == OTEL_OK)
        rc = start_traced(m, flags, port, apc, apc_cls, dh, dh_cls, &o, &daemon);
    if (rc != OTEL_OK) {
        /* Options the module cannot read, or no memory to trace with:
         * serve untraced rather than not at all. */
        if (rc == OTEL_ERR_UNSUPPORTED)
            otel_log(OTEL_LOG_WARN, "unknown MHD option %u: daemon started without tracing",
                     o.unknown_option);
        else
            otel_log(OTEL_LOG_WARN, "%s: daemon started without tracing", otel_strerror(rc));
        daemon = mhd_otel_real_start_va()(flags, port, apc, apc_cls, dh, dh_cls, copy);
    }
    va_end(copy);
    mhd_otel_opts_free(&o);
    return daemon;
}

struct MHD_Daemon *mhd_otel_start_daemon(mhd_otel *m, unsigned int flags, uint16_t port,
                                         MHD_AcceptPolicyCallback apc, void *apc_cls,
                                         MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = mhd_otel_start_daemon_va(m, flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

void mhd_otel_stop_daemon(struct MHD_Daemon *daemon)
{
    if (daemon == NULL)
        return;
    pthread_mutex_lock(&daemons_mu);
    mhd_otel_daemon *d = NULL;
    for (mhd_otel_daemon **pp = &daemons; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->daemon == daemon) {
            d = *pp;
            *pp = d->next;
            break;
        }
    }
    pthread_mutex_unlock(&daemons_mu);
    /* Stopping runs the completion callbacks of open requests, which still
     * need d. A daemon the module never saw is stopped all the same. */
    mhd_otel_real_stop()(daemon);
    otel_free(d);
}
