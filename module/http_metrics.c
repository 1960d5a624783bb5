/* http_metrics.c - the module's metrics: http.server.request.duration,
 * http.server.active_requests and http.client.request.duration recorded
 * through a per-thread cache of bound points, and the tracer's counters
 * brought into the SDK self-observability instruments at collection. */
#include "http_metrics.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/client_int.h"
#include "../core/thread_local.h"
#include "../core/tracer_int.h"

#define SELF_MAX OTEL_TRACER_MAX_EXPORTERS
#define CACHE_SLOTS 64 /* per thread: the bound points of the last request shapes */

/* The tracer's counters of one exporter at the previous sync. */
typedef struct self_prev {
    uint64_t processed, dropped, exported, failed, rejected;
    int64_t queued, exporting;
    bool capacity_added, inflight_added;
} self_prev;

struct mhd_otel_metrics {
    otel_metrics *m; /* owned */
    uint64_t id;     /* tells the per-thread caches which provider a point is of */
    otel_histogram *server_duration;
    otel_updown_counter *active;
    otel_histogram *client_duration;
    /* Self-telemetry (semantic conventions, "OpenTelemetry SDK metrics"). */
    otel_tracer *tracer; /* borrowed */
    const char *span_exporter_types[SELF_MAX];
    size_t queue_cap;
    otel_counter *span_started;
    otel_updown_counter *span_live;
    otel_updown_counter *queue_size, *queue_capacity;
    otel_counter *processed, *span_exported, *point_exported;
    otel_updown_counter *span_inflight;
    otel_histogram *export_duration;
    pthread_mutex_t sync_mu;
    self_prev prev[SELF_MAX];
    pid_t pid; /* of the process prev was counted in */
};

static _Atomic uint64_t next_id = 1;

/* ---- the per-thread point cache ----------------------------------------- */

/* A slot holds the duration point of a request shape, or (active) the
 * active count's point of a method and scheme. */
typedef struct cache_slot {
    uint64_t id; /* of the provider; 0: empty */
    const char *method, *route, *version, *error;
    unsigned status;
    bool https;
    bool active;
    union {
        otel_histogram_point *duration;
        otel_sum_point *count;
    } pt;
} cache_slot;

/* The calling thread's cache (3.5 KiB); without one (out of memory) each
 * record binds its points. */
static const otel_thread_block cache_block = {CACHE_SLOTS * sizeof(cache_slot), NULL};
static OTEL_TLS void *tls_cache; /* cache_slot[CACHE_SLOTS] */

static size_t slot_of(const mhd_otel_server_req *q, bool active)
{
    uintptr_t h = (uintptr_t)q->method * 31u + (uintptr_t)q->route * 17u +
                  (uintptr_t)q->version * 7u + (uintptr_t)q->error * 3u + q->status * 4u +
                  (q->https ? 1u : 0u) + (active ? 2u : 0u);
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 40) % CACHE_SLOTS;
}

static bool slot_is(const cache_slot *s, uint64_t id, const mhd_otel_server_req *q, bool active)
{
    return s->id == id && s->active == active && s->method == q->method && s->route == q->route &&
           s->version == q->version && s->error == q->error && s->status == q->status &&
           s->https == q->https;
}

/* The attributes of q for the duration histogram (all six) or the active
 * count (method and scheme: the first two). code: room for the error.type
 * of a 5xx without an error of its own: its status code (the HTTP
 * semantic conventions, "Status"). Returns how many of kv are set. */
static size_t server_attrs(const mhd_otel_server_req *q, otel_kv *kv, char *code, size_t cap)
{
    size_t n = 0;
    kv[n++] = OTEL_KV_STR("http.request.method", q->method);
    kv[n++] = OTEL_KV_STR("url.scheme", q->https ? "https" : "http");
    if (q->status != 0)
        kv[n++] = OTEL_KV_INT("http.response.status_code", (int64_t)q->status);
    if (q->route != NULL)
        kv[n++] = OTEL_KV_STR("http.route", q->route);
    if (q->version != NULL)
        kv[n++] = OTEL_KV_STR("network.protocol.version", q->version);
    if (q->error != NULL) {
        kv[n++] = OTEL_KV_STR("error.type", q->error);
    } else if (q->status >= 500) {
        snprintf(code, cap, "%u", q->status);
        kv[n++] = OTEL_KV_STR("error.type", code);
    }
    return n;
}

/* The cached point of q's shape (bound on a miss): its duration point, or
 * (active) the active count's point of its method and scheme. Without the
 * thread's cache, bound into *spare. */
static cache_slot *point_of(mhd_otel_metrics *mm, const mhd_otel_server_req *q, bool active,
                            cache_slot *spare)
{
    mhd_otel_server_req a = {.method = q->method, .https = q->https};
    if (active)
        q = &a; /* the rest is not the active count's */
    cache_slot *cache = otel_thread_block_get(&cache_block, &tls_cache);
    cache_slot *s = cache != NULL ? &cache[slot_of(q, active)] : spare;
    if (slot_is(s, mm->id, q, active))
        return s;
    otel_kv kv[6];
    char code[16];
    size_t n = server_attrs(q, kv, code, sizeof(code));
    s->id = mm->id;
    s->active = active;
    s->method = q->method;
    s->route = q->route;
    s->version = q->version;
    s->error = q->error;
    s->status = q->status;
    s->https = q->https;
    bool lasting;
    if (active) {
        s->pt.count = otel_updown_counter_bind(mm->active, kv, 2);
        lasting = otel_sum_point_lasting(s->pt.count);
    } else {
        s->pt.duration = otel_histogram_bind(mm->server_duration, kv, n);
        lasting = otel_histogram_point_lasting(s->pt.duration);
    }
    if (!lasting)
        s->id = 0; /* used this once: the next request of the shape binds again */
    return s;
}

/* ---- recording ---------------------------------------------------------- */

void mhd_otel_metrics_server_begin(mhd_otel_metrics *mm, mhd_otel_server_req *q)
{
    if (mm == NULL || q->method == NULL)
        return;
    cache_slot spare = {0};
    otel_sum_point_add(point_of(mm, q, true, &spare)->pt.count, 1);
    q->active = true;
}

void mhd_otel_metrics_server_end(mhd_otel_metrics *mm, mhd_otel_server_req *q, double seconds,
                                 const otel_span_context *sc)
{
    if (mm == NULL || q->method == NULL)
        return;
    cache_slot spare = {0};
    if (q->active) {
        otel_sum_point_add(point_of(mm, q, true, &spare)->pt.count, -1);
        q->active = false;
    }
    spare.id = 0;
    otel_histogram_point_record(point_of(mm, q, false, &spare)->pt.duration,
                                seconds < 0 ? 0 : seconds, sc);
}

void mhd_otel_metrics_client(mhd_otel_metrics *mm, const char *method, const char *url,
                             unsigned status, const char *error, double seconds,
                             const otel_span_context *sc)
{
    if (mm == NULL)
        return;
    otel_kv kv[5];
    size_t n = 0;
    kv[n++] = OTEL_KV_STR("http.request.method", method != NULL ? method : "_OTHER");
    const char *host = NULL;
    size_t host_len = 0;
    long port = -1;
    char hbuf[256];
    if (url != NULL)
        otel_client_url_server(url, &host, &host_len, &port);
    if (host_len > 0 && host_len < sizeof(hbuf)) {
        memcpy(hbuf, host, host_len);
        hbuf[host_len] = '\0';
        kv[n++] = OTEL_KV_STR("server.address", hbuf);
    }
    if (port >= 0)
        kv[n++] = OTEL_KV_INT("server.port", port);
    if (status != 0)
        kv[n++] = OTEL_KV_INT("http.response.status_code", (int64_t)status);
    char code[16];
    if (error == NULL && status >= 400) {
        snprintf(code, sizeof(code), "%u", status);
        error = code;
    }
    if (error != NULL)
        kv[n++] = OTEL_KV_STR("error.type", error);
    otel_histogram_record(mm->client_duration, seconds < 0 ? 0 : seconds, kv, n, sc);
}

/* ---- self-telemetry ----------------------------------------------------- */

/* The SDK metrics' component attributes of the i-th pipeline: its batching
 * processor, or its exporter. */
static void component(otel_kv *kv, const char *type, size_t i, char *name, size_t cap)
{
    snprintf(name, cap, "%s/%zu", type, i);
    kv[0] = OTEL_KV_STR("otel.component.type", type);
    kv[1] = OTEL_KV_STR("otel.component.name", name);
}

static void add_delta(otel_counter *c, uint64_t now, uint64_t *prev, const otel_kv *kv, size_t n)
{
    if (now > *prev)
        otel_counter_add(c, now - *prev, kv, n);
    *prev = now;
}

static void sync_exporter(mhd_otel_metrics *mm, size_t i, const otel_stats *st)
{
    self_prev *p = &mm->prev[i];
    char pname[64], ename[64];
    otel_kv kv[3];
    component(kv, "batching_span_processor", i, pname, sizeof(pname));
    if (!p->capacity_added) {
        otel_updown_counter_add(mm->queue_capacity, (int64_t)mm->queue_cap, kv, 2);
        p->capacity_added = true;
    }
    /* In the queue: not yet taken by the exporter (otel_stats' queued
     * counts those being exported too). */
    int64_t queued = (int64_t)(st->queued - st->exporting);
    if (queued != p->queued)
        otel_updown_counter_add(mm->queue_size, queued - p->queued, kv, 2);
    p->queued = queued;
    /* Passed to the exporter: everything that ended and is neither queued
     * nor dropped (the SDK metrics: a span counts as processed when the
     * processor invokes the export). */
    uint64_t processed = st->exported + st->failed + st->rejected;
    add_delta(mm->processed, processed, &p->processed, kv, 2);
    kv[2] = OTEL_KV_STR("error.type", "queue_full");
    add_delta(mm->processed, st->dropped, &p->dropped, kv, 3);

    const char *type = mm->span_exporter_types[i] ? mm->span_exporter_types[i] : "span_exporter";
    component(kv, type, i, ename, sizeof(ename));
    add_delta(mm->span_exported, st->exported, &p->exported, kv, 2);
    kv[2] = OTEL_KV_STR("error.type", "rejected");
    add_delta(mm->span_exported, st->rejected, &p->rejected, kv, 3);
    kv[2] = OTEL_KV_STR("error.type", "_OTHER");
    add_delta(mm->span_exported, st->failed, &p->failed, kv, 3);
    int64_t exporting = (int64_t)st->exporting;
    if (exporting != p->exporting || !p->inflight_added) /* a point from the first sync on */
        otel_updown_counter_add(mm->span_inflight, exporting - p->exporting, kv, 2);
    p->exporting = exporting;
    p->inflight_added = true;
}

/* error.type of an export operation that ended with rc (a count rejected,
 * or an OTEL_ERR_* code): none for a full success. The semantic conventions
 * (otel.sdk.exporter.operation.duration) count only OTLP's full success as
 * a success; a partial one is "rejected", its receiver's own word. */
static const char *export_error(int rc)
{
    if (rc == 0)
        return NULL;
    if (rc > 0)
        return "rejected";
    return rc == OTEL_ERR_TIMEOUT ? "timeout" : "_OTHER";
}

/* The tracer's observer: one otel.sdk.exporter.operation.duration
 * measurement per span export, on the exporting thread. */
static void span_export_done(void *ud, size_t i, size_t n, int rc, uint64_t ns)
{
    (void)n;
    mhd_otel_metrics *mm = ud;
    if (i >= SELF_MAX)
        return;
    const char *type = mm->span_exporter_types[i] ? mm->span_exporter_types[i] : "span_exporter";
    char name[64];
    otel_kv kv[3];
    component(kv, type, i, name, sizeof(name));
    const char *error = export_error(rc);
    size_t nk = 2;
    if (error != NULL)
        kv[nk++] = OTEL_KV_STR("error.type", error);
    otel_histogram_record(mm->export_duration, (double)ns / 1e9, kv, nk, NULL);
}

void mhd_otel_metrics_sync(mhd_otel_metrics *mm)
{
    if (mm == NULL || mm->tracer == NULL)
        return;
    pthread_mutex_lock(&mm->sync_mu);
    pid_t pid = getpid();
    if (pid != mm->pid) { /* a child after fork(): its tracer counts and its metrics start at 0 */
        memset(mm->prev, 0, sizeof(mm->prev));
        mm->pid = pid;
    }
    size_t n = otel_tracer_exporter_count(mm->tracer);
    for (size_t i = 0; i < n && i < SELF_MAX; i++) {
        otel_stats st;
        const char *name;
        if (otel_tracer_exporter_stats(mm->tracer, i, &st, &name) == OTEL_OK)
            sync_exporter(mm, i, &st);
    }
    pthread_mutex_unlock(&mm->sync_mu);
}

void mhd_otel_metrics_exported(mhd_otel_metrics *mm, const char *exporter, uint64_t n,
                               uint64_t rejected, const char *error, double seconds)
{
    if (mm == NULL)
        return;
    char name[64];
    otel_kv kv[3];
    component(kv, exporter, 0, name, sizeof(name));
    if (rejected > n)
        rejected = n;
    /* The operation's error: the failure's, else "rejected" for a partial
     * success (export_error); the delivered points' only the failure's. */
    kv[2] = OTEL_KV_STR("error.type", error != NULL ? error : "rejected");
    size_t nk = error != NULL || rejected > 0 ? 3 : 2;
    otel_histogram_record(mm->export_duration, seconds < 0 ? 0 : seconds, kv, nk, NULL);
    if (n - rejected > 0)
        otel_counter_add(mm->point_exported, n - rejected, kv, error != NULL ? 3 : 2);
    if (rejected > 0) {
        kv[2] = OTEL_KV_STR("error.type", "rejected");
        otel_counter_add(mm->point_exported, rejected, kv, 3);
    }
}

/* ---- life --------------------------------------------------------------- */

otel_metrics *mhd_otel_metrics_provider(mhd_otel_metrics *mm)
{
    return mm != NULL ? mm->m : NULL;
}

/* Self-observability's export durations: the HTTP buckets fit them too. */
static int make_instruments(mhd_otel_metrics *mm)
{
    otel_metrics *m = mm->m;
    int rc = otel_histogram_new(m, &mm->server_duration, "http.server.request.duration",
                                "Duration of HTTP server requests.", "s", NULL, 0);
    if (rc == OTEL_OK)
        rc = otel_updown_counter_new(m, &mm->active, "http.server.active_requests",
                                     "Number of active HTTP server requests.", "{request}");
    if (rc == OTEL_OK)
        rc = otel_histogram_new(m, &mm->client_duration, "http.client.request.duration",
                                "Duration of HTTP client requests.", "s", NULL, 0);
    if (rc != OTEL_OK || mm->tracer == NULL)
        return rc;
    rc = otel_counter_new(m, &mm->span_started, "otel.sdk.span.started",
                          "The number of created spans.", "{span}");
    if (rc == OTEL_OK)
        rc = otel_updown_counter_new(m, &mm->span_live, "otel.sdk.span.live",
                                     "The number of created spans with recording=true for which "
                                     "the end operation has not been called yet.",
                                     "{span}");
    if (rc == OTEL_OK)
        rc = otel_updown_counter_new(
            m, &mm->queue_size, "otel.sdk.processor.span.queue.size",
            "The number of spans in the queue of a given instance of an SDK span processor.",
            "{span}");
    if (rc == OTEL_OK)
        rc = otel_updown_counter_new(m, &mm->queue_capacity,
                                     "otel.sdk.processor.span.queue.capacity",
                                     "The maximum number of spans the queue of a given instance "
                                     "of an SDK span processor can hold.",
                                     "{span}");
    if (rc == OTEL_OK)
        rc = otel_counter_new(m, &mm->processed, "otel.sdk.processor.span.processed",
                              "The number of spans for which the processing has finished, "
                              "either successful or failed.",
                              "{span}");
    if (rc == OTEL_OK)
        rc = otel_counter_new(m, &mm->span_exported, "otel.sdk.exporter.span.exported",
                              "The number of spans for which the export has finished, either "
                              "successful or failed.",
                              "{span}");
    if (rc == OTEL_OK)
        rc = otel_updown_counter_new(m, &mm->span_inflight, "otel.sdk.exporter.span.inflight",
                                     "The number of spans which were passed to the exporter, but "
                                     "that have not been exported yet (neither successful, nor "
                                     "failed).",
                                     "{span}");
    if (rc == OTEL_OK)
        rc =
            otel_counter_new(m, &mm->point_exported, "otel.sdk.exporter.metric_data_point.exported",
                             "The number of metric data points for which the export has "
                             "finished, either successful or failed.",
                             "{data_point}");
    if (rc == OTEL_OK)
        rc = otel_histogram_new(m, &mm->export_duration, "otel.sdk.exporter.operation.duration",
                                "The duration of exporting a batch of telemetry records.", "s",
                                NULL, 0);
    return rc;
}

/* otel.sdk.span.started and .live, counted by the core as spans start and
 * end: a bound point per sampling result (and parent origin). */
static int count_spans(mhd_otel_metrics *mm)
{
    static const char *const results[3] = {"DROP", "RECORD_ONLY", "RECORD_AND_SAMPLE"};
    static const char *const origins[OTEL_PARENT_ORIGINS] = {"none", "local", "remote"};
    otel_sum_point *started[3][OTEL_PARENT_ORIGINS], *live[3] = {NULL, NULL, NULL};
    for (size_t r = 0; r < 3; r++) {
        otel_kv kv[2] = {OTEL_KV_STR("otel.span.sampling_result", results[r]),
                         OTEL_KV_STR("otel.span.parent.origin", "")};
        for (size_t o = 0; o < OTEL_PARENT_ORIGINS; o++) {
            kv[1].v.s = origins[o];
            started[r][o] = otel_counter_bind(mm->span_started, kv, 2);
        }
        if (r != OTEL_SAMPLING_DROP)
            live[r] = otel_updown_counter_bind(mm->span_live, kv, 1);
    }
    otel_tracer_count_spans(mm->tracer, started, live);
    otel_tracer_observe_exports(mm->tracer, span_export_done, mm);
    return OTEL_OK;
}

int mhd_otel_metrics_new(mhd_otel_metrics **out, size_t cardinality_limit, otel_tracer *tracer,
                         const char *const *span_exporter_types, size_t queue_capacity)
{
    *out = NULL;
    mhd_otel_metrics *mm = otel_calloc(1, sizeof(*mm));
    if (mm == NULL)
        return OTEL_ERR_NOMEM;
    if (pthread_mutex_init(&mm->sync_mu, NULL) != 0) {
        otel_free(mm);
        return OTEL_ERR_NOMEM;
    }
    mm->id = atomic_fetch_add(&next_id, 1);
    mm->pid = getpid();
    mm->tracer = tracer;
    mm->queue_cap = queue_capacity;
    for (size_t i = 0; span_exporter_types != NULL && i < SELF_MAX && span_exporter_types[i]; i++)
        mm->span_exporter_types[i] = span_exporter_types[i];
    int rc = otel_metrics_new(&mm->m, cardinality_limit);
    if (rc == OTEL_OK)
        rc = make_instruments(mm);
    if (rc == OTEL_OK && tracer != NULL)
        rc = count_spans(mm);
    if (rc != OTEL_OK) {
        mhd_otel_metrics_del(mm);
        return rc;
    }
    *out = mm;
    return OTEL_OK;
}

void mhd_otel_metrics_del(mhd_otel_metrics *mm)
{
    if (mm == NULL)
        return;
    if (mm->tracer != NULL) { /* its spans count into nothing from now on */
        otel_sum_point *const none3[3][OTEL_PARENT_ORIGINS] = {{NULL}};
        otel_sum_point *const none[3] = {NULL, NULL, NULL};
        otel_tracer_count_spans(mm->tracer, none3, none);
        otel_tracer_observe_exports(mm->tracer, NULL, NULL); /* waits out a call under way */
    }
    otel_metrics_del(mm->m);
    pthread_mutex_destroy(&mm->sync_mu);
    otel_free(mm);
}

/* ---- the process's metrics ---------------------------------------------- */

static _Atomic(mhd_otel_metrics *) process_mm;
static _Atomic int process_users;

void mhd_otel_metrics_set_process(mhd_otel_metrics *mm)
{
    atomic_store(&process_mm, mm);
}

void mhd_otel_metrics_clear_process(mhd_otel_metrics *mm)
{
    mhd_otel_metrics *cur = mm;
    if (mm == NULL)
        return;
    (void)atomic_compare_exchange_strong(&process_mm, &cur, NULL);
    /* Also when another one was set since: a thread may hold mm from before. */
    while (atomic_load(&process_users) > 0)
        sched_yield();
}

mhd_otel_metrics *mhd_otel_metrics_acquire(void)
{
    if (atomic_load_explicit(&process_mm, memory_order_relaxed) == NULL)
        return NULL;
    atomic_fetch_add(&process_users, 1);
    mhd_otel_metrics *mm = atomic_load(&process_mm);
    if (mm == NULL)
        atomic_fetch_sub(&process_users, 1);
    return mm;
}

void mhd_otel_metrics_release(void)
{
    atomic_fetch_sub(&process_users, 1);
}
