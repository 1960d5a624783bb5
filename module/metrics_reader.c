/* metrics_reader.c - the periodic exporting metric reader: every interval
 * (and on flush, and once more at stop) the self-telemetry is brought in,
 * the metrics are collected into an ExportMetricsServiceRequest sent with
 * the OTLP exporter, and written to the console; one export at a time. */
#include "metrics_reader.h"

#include "../exporter/console_metrics.h"
#include "../exporter/otlp_metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/log.h"

#define SCOPE_NAME "mhd-otel"

struct mhd_otel_reader {
    mhd_otel_reader_config cfg;
    otel_otlp_metrics_enc *enc; /* with cfg.otlp */
    const char *otlp_type;      /* otel.component.type of the OTLP exporter */
    pthread_mutex_t export_mu;  /* one export at a time */
    pthread_mutex_t mu;         /* stop and cv */
    pthread_cond_t cv;          /* CLOCK_MONOTONIC */
    bool stop;
    bool running;
    pthread_t thread;
    struct mhd_otel_reader *next; /* in the list of live readers (fork) */
};

static pthread_mutex_t readers_mu = PTHREAD_MUTEX_INITIALIZER;
static mhd_otel_reader *readers;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static int start_thread(mhd_otel_reader *r);

/* ---- one export --------------------------------------------------------- */

static const char *otlp_type(otel_otlp_protocol p)
{
    switch (p) {
    case OTEL_OTLP_HTTP_PROTOBUF:
        return "otlp_http_metric_exporter";
    case OTEL_OTLP_HTTP_JSON:
        return "otlp_http_json_metric_exporter";
    default:
        return "otlp_grpc_metric_exporter";
    }
}

static double seconds_since(uint64_t t0)
{
    return (double)(otel_mono_ns() - t0) / 1e9;
}

/* The OTLP push of one collection, by until (an otel_mono_ns time). */
static int export_otlp(mhd_otel_reader *r, uint64_t until)
{
    otel_metrics *m = mhd_otel_metrics_provider(r->cfg.mm);
    otel_otlp_metrics_enc_begin(r->enc, r->cfg.res, SCOPE_NAME, MHD_OTEL_VERSION);
    int rc = otel_metrics_collect(m, r->cfg.pref, otel_otlp_metrics_enc_add, r->enc);
    const uint8_t *body;
    size_t len, n;
    int erc = otel_otlp_metrics_enc_end(r->enc, &body, &len, &n);
    if (rc == OTEL_OK)
        rc = erc;
    if (rc != OTEL_OK) {
        otel_log(OTEL_LOG_ERROR, "metrics: cannot encode the collection: %s", otel_strerror(rc));
        return rc;
    }
    if (n == 0)
        return OTEL_OK;
    uint64_t t0 = otel_mono_ns();
    rc = otel_otlp_send(r->cfg.otlp, body, len, n, until);
    double secs = seconds_since(t0);
    if (rc >= 0)
        mhd_otel_metrics_exported(r->cfg.mm, r->otlp_type, n, (uint64_t)rc, NULL, secs);
    else
        mhd_otel_metrics_exported(r->cfg.mm, r->otlp_type, n, 0,
                                  rc == OTEL_ERR_TIMEOUT ? "timeout" : "_OTHER", secs);
    return rc > 0 ? OTEL_OK : rc;
}

static int export_console(mhd_otel_reader *r)
{
    size_t n = 0;
    uint64_t t0 = otel_mono_ns();
    int rc = otel_console_metrics_write(r->cfg.console, mhd_otel_metrics_provider(r->cfg.mm),
                                        r->cfg.res, &n);
    mhd_otel_metrics_exported(r->cfg.mm, "console_metric_exporter", n, 0,
                              rc == OTEL_OK ? NULL : "_OTHER", seconds_since(t0));
    return rc;
}

/* Everything one period does, by until. */
static int export_all(mhd_otel_reader *r, uint64_t until)
{
    pthread_mutex_lock(&r->export_mu);
    mhd_otel_metrics_sync(r->cfg.mm);
    int rc = OTEL_OK, c;
    if (r->cfg.otlp != NULL)
        rc = export_otlp(r, until);
    if (r->cfg.console != NULL && (c = export_console(r)) != OTEL_OK && rc == OTEL_OK)
        rc = c;
    pthread_mutex_unlock(&r->export_mu);
    return rc;
}

/* ---- the thread --------------------------------------------------------- */

static struct timespec mono_ts(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    return ts;
}

static void *reader_main(void *arg)
{
    mhd_otel_reader *r = arg;
    uint64_t next = otel_mono_ns() + r->cfg.interval_ns;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec ts = mono_ts(next);
        int w = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        if (r->stop)
            break;
        if (w != ETIMEDOUT && otel_mono_ns() < next)
            continue;
        pthread_mutex_unlock(&r->mu);
        (void)export_all(r, otel_mono_ns() + r->cfg.timeout_ns);
        next += r->cfg.interval_ns;
        uint64_t now = otel_mono_ns();
        if (next <= now) /* a slow export: the next period starts now */
            next = now + r->cfg.interval_ns;
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int init_sync(mhd_otel_reader *r)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return OTEL_ERR_NOMEM;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return OTEL_ERR_NOMEM;
    if (pthread_mutex_init(&r->mu, NULL) != 0 || pthread_mutex_init(&r->export_mu, NULL) != 0)
        return OTEL_ERR_NOMEM;
    return OTEL_OK;
}

static int start_thread(mhd_otel_reader *r)
{
    if (r->cfg.otlp == NULL && r->cfg.console == NULL)
        return OTEL_OK; /* nothing to push: only flush and stop */
    if (pthread_create(&r->thread, NULL, reader_main, r) != 0)
        return OTEL_ERR_IO;
    r->running = true;
    return OTEL_OK;
}

/* ---- fork --------------------------------------------------------------- */

static void before_fork(void)
{
    pthread_mutex_lock(&readers_mu);
    for (mhd_otel_reader *r = readers; r != NULL; r = r->next)
        pthread_mutex_lock(&r->export_mu);
}

static void after_fork_parent(void)
{
    for (mhd_otel_reader *r = readers; r != NULL; r = r->next)
        pthread_mutex_unlock(&r->export_mu);
    pthread_mutex_unlock(&readers_mu);
}

/* In the child the thread is gone and the connection is the parent's: a
 * new thread of its own, a connection of its own at its first export. */
static void after_fork_child(void)
{
    pthread_mutex_init(&readers_mu, NULL);
    for (mhd_otel_reader *r = readers; r != NULL; r = r->next) {
        bool was = r->running;
        r->running = false;
        r->stop = false;
        if (init_sync(r) != OTEL_OK)
            continue;
        if (r->cfg.otlp != NULL)
            otel_otlp_after_fork(r->cfg.otlp);
        if (was)
            (void)start_thread(r);
    }
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* ---- API ---------------------------------------------------------------- */

static void reader_free(mhd_otel_reader *r)
{
    otel_otlp_metrics_enc_del(r->enc);
    otel_otlp_del(r->cfg.otlp);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->export_mu);
    otel_free(r);
}

int mhd_otel_reader_start(mhd_otel_reader **out, const mhd_otel_reader_config *cfg)
{
    *out = NULL;
    pthread_once(&atfork_once, install_atfork);
    mhd_otel_reader *r = otel_calloc(1, sizeof(*r));
    if (r == NULL) {
        otel_otlp_del(cfg->otlp);
        return OTEL_ERR_NOMEM;
    }
    r->cfg = *cfg;
    r->otlp_type = otlp_type(cfg->protocol);
    int rc = init_sync(r);
    if (rc == OTEL_OK && cfg->otlp != NULL)
        rc = otel_otlp_metrics_enc_new(&r->enc, cfg->protocol == OTEL_OTLP_HTTP_JSON);
    if (rc == OTEL_OK)
        rc = start_thread(r);
    if (rc != OTEL_OK) {
        reader_free(r);
        return rc;
    }
    pthread_mutex_lock(&readers_mu);
    r->next = readers;
    readers = r;
    pthread_mutex_unlock(&readers_mu);
    *out = r;
    return OTEL_OK;
}

int mhd_otel_reader_flush(mhd_otel_reader *r, uint64_t timeout_ns)
{
    if (r == NULL)
        return OTEL_OK;
    return export_all(r, otel_mono_ns() + timeout_ns);
}

void mhd_otel_reader_stop(mhd_otel_reader *r)
{
    mhd_otel_reader_stop_by(r, UINT64_MAX);
}

void mhd_otel_reader_stop_by(mhd_otel_reader *r, uint64_t deadline)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&readers_mu);
    for (mhd_otel_reader **p = &readers; *p != NULL; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    pthread_mutex_unlock(&readers_mu);
    if (r->running) {
        pthread_mutex_lock(&r->mu);
        r->stop = true;
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
    }
    /* The SDK spec, "MetricReader" Shutdown: collect and export once more. */
    uint64_t until = otel_mono_ns() + r->cfg.timeout_ns;
    if (r->cfg.otlp != NULL || r->cfg.console != NULL)
        (void)export_all(r, deadline < until ? deadline : until);
    reader_free(r);
}
