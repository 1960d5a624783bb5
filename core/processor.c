/* processor.c - the batch span processor: request threads push ended spans
 * into a bounded lock-free queue; one worker thread exports them in batches. */
#include "processor.h"

#include "alloc.h"
#include "log.h"
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_EXPORTERS 4
#define NS_PER_SEC 1000000000ULL

struct otel_processor {
    otel_tracer_config cfg;
    otel_queue *queue; /* owned; ended spans */
    otel_span **batch; /* owned, cfg.max_export_batch_size slots */
    otel_release_fn release;
    void *release_ud;
    otel_exporter exporters[MAX_EXPORTERS];
    size_t n_exporters;

    _Atomic uint64_t dropped;
    _Atomic uint64_t exported;
    _Atomic uint64_t failed;
    _Atomic uint64_t rejected;
    _Atomic uint64_t in_flight; /* taken from the queue, export not done */
    atomic_bool closed;         /* shutdown began: new spans are dropped */
    atomic_bool wake_posted;    /* a producer already woke the worker */

    /* Held by whoever takes spans from the queue into batch and exports
     * them (the worker, or a caller's thread when there is none): one
     * drain at a time, never two into the same batch array. */
    pthread_mutex_t drain_mu;

    pthread_mutex_t mu; /* guards the fields below; never held while exporting */
    pthread_cond_t wake;
    pthread_cond_t flushed; /* flush_done moved on, or drained became true */
    pthread_t worker;
    bool started;
    bool stop;
    bool shut_down;
    bool drained; /* shutdown's last drain is over */
    uint64_t flush_requested;
    uint64_t flush_done;
    int final_rc; /* the worker's last drain: 0 or OTEL_ERR_TIMEOUT */

    uint64_t pushed_base; /* queue pushes made before a fork */
    atomic_bool restart;  /* forked child: start the worker again */
    otel_processor *next; /* in the registry of processors */
};

/* Every processor, for the fork handlers. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static otel_processor *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static struct timespec deadline_ts(uint64_t delay_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + delay_ns % NS_PER_SEC;
    ts.tv_sec += (time_t)(delay_ns / NS_PER_SEC + ns / NS_PER_SEC);
    ts.tv_nsec = (long)(ns % NS_PER_SEC);
    return ts;
}

/* Hand the batch to every exporter. A span counts as exported when every
 * exporter delivered it; failed when one gave up; rejected when a receiver
 * refused it (the largest refusal of any exporter). */
static void export_batch(otel_processor *p, size_t n)
{
    bool failed = false;
    size_t rejected = 0;
    for (size_t i = 0; i < p->n_exporters; i++) {
        otel_exporter *e = &p->exporters[i];
        int rc = e->export_spans(e->user_data, p->batch, n);
        if (rc < 0) {
            failed = true;
            otel_log(OTEL_LOG_WARN, "exporter %s failed on %zu spans: %s", e->name, n,
                     otel_strerror(rc));
        } else if ((size_t)rc > rejected) {
            rejected = (size_t)rc < n ? (size_t)rc : n;
        }
    }
    if (failed) {
        atomic_fetch_add(&p->failed, n);
    } else {
        atomic_fetch_add(&p->rejected, rejected);
        atomic_fetch_add(&p->exported, n - rejected);
    }
    atomic_fetch_sub(&p->in_flight, n);
    for (size_t i = 0; i < n; i++)
        p->release(p->release_ud, p->batch[i]);
}

/* Pops up to one batch and exports it; returns how many spans it took. */
static size_t drain_one_batch(otel_processor *p)
{
    size_t n = 0;
    otel_span *s;
    pthread_mutex_lock(&p->drain_mu);
    while (n < p->cfg.max_export_batch_size && (s = otel_queue_pop(p->queue)) != NULL) {
        atomic_fetch_add_explicit(&p->in_flight, 1, memory_order_relaxed);
        p->batch[n++] = s;
    }
    if (n > 0)
        export_batch(p, n);
    pthread_mutex_unlock(&p->drain_mu);
    return n;
}

/* Export everything queued, in batches, until the export timeout passes. */
static int drain_all(otel_processor *p)
{
    uint64_t deadline = mono_ns() + p->cfg.export_timeout_ns;
    while (otel_queue_size(p->queue) > 0) {
        if (mono_ns() > deadline)
            return OTEL_ERR_TIMEOUT;
        drain_one_batch(p);
    }
    return OTEL_OK;
}

/* After the last drain: spans still queued (the export timeout passed, or
 * they were ended while shutdown began) will never be exported. Counted as
 * failed, logged once. */
static void fail_leftovers(otel_processor *p)
{
    otel_span *s;
    uint64_t n = 0;
    pthread_mutex_lock(&p->drain_mu);
    while ((s = otel_queue_pop(p->queue)) != NULL) {
        p->release(p->release_ud, s);
        n++;
    }
    pthread_mutex_unlock(&p->drain_mu);
    if (n == 0)
        return;
    atomic_fetch_add(&p->failed, n);
    otel_log(OTEL_LOG_ERROR, "shutdown: %llu spans could not be exported in time (counted failed)",
             (unsigned long long)n);
}

static void report_drops(otel_processor *p, uint64_t *reported, uint64_t *last_ns)
{
    uint64_t d = atomic_load(&p->dropped);
    uint64_t now = mono_ns();
    if (d == *reported || now - *last_ns < NS_PER_SEC)
        return;
    otel_log(OTEL_LOG_WARN, "dropped %llu spans: queue full (max_queue_size %zu)",
             (unsigned long long)(d - *reported), p->cfg.max_queue_size);
    *reported = d;
    *last_ns = now;
}

static void *worker_main(void *arg)
{
    otel_processor *p = arg;
    uint64_t reported = 0, last_report = 0;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        uint64_t flush_target = p->flush_requested;
        /* Re-arm the producers' wake-up before looking at the queue: a
         * producer that fills a batch after this look sees the flag clear
         * and signals, which cannot be lost since it needs the mutex. */
        atomic_store(&p->wake_posted, false);
        atomic_thread_fence(memory_order_seq_cst);
        if (flush_target == p->flush_done &&
            otel_queue_size(p->queue) < p->cfg.max_export_batch_size) {
            struct timespec ts = deadline_ts(p->cfg.schedule_delay_ns);
            pthread_cond_timedwait(&p->wake, &p->mu, &ts);
            flush_target = p->flush_requested;
        }
        if (p->stop)
            break;
        pthread_mutex_unlock(&p->mu);
        /* After a wake or the delay: export until less than a batch is left,
         * or until empty when the delay ran out or a flush was asked. */
        while (drain_one_batch(p) == p->cfg.max_export_batch_size)
            ;
        report_drops(p, &reported, &last_report);
        pthread_mutex_lock(&p->mu);
        if (flush_target != p->flush_done) {
            p->flush_done = flush_target;
            pthread_cond_broadcast(&p->flushed);
        }
    }
    pthread_mutex_unlock(&p->mu);
    p->final_rc = drain_all(p);
    report_drops(p, &reported, &last_report);
    return NULL;
}

static void init_sync(otel_processor *p)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->drain_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, &ca);
    pthread_cond_init(&p->flushed, &ca);
    pthread_condattr_destroy(&ca);
}

/* fork(): no processor lock may be held by a thread the child will not
 * have. */
static void before_fork(void)
{
    pthread_mutex_lock(&registry_mu);
    for (otel_processor *p = registry; p != NULL; p = p->next)
        pthread_mutex_lock(&p->mu);
}

static void after_fork_parent(void)
{
    for (otel_processor *p = registry; p != NULL; p = p->next)
        pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&registry_mu);
}

/* The child has no worker thread and shares the parent's connections: it
 * starts afresh. Spans the parent had queued are the parent's to export. */
static void after_fork_child(void)
{
    for (otel_processor *p = registry; p != NULL; p = p->next) {
        init_sync(p);
        otel_span *s;
        while ((s = otel_queue_pop(p->queue)) != NULL)
            p->release(p->release_ud, s);
        p->pushed_base = otel_queue_pushed(p->queue);
        atomic_store(&p->dropped, 0);
        atomic_store(&p->exported, 0);
        atomic_store(&p->failed, 0);
        atomic_store(&p->rejected, 0);
        atomic_store(&p->in_flight, 0);
        atomic_store(&p->wake_posted, false);
        p->flush_requested = p->flush_done = 0;
        for (size_t i = 0; i < p->n_exporters; i++)
            if (p->exporters[i].after_fork != NULL)
                p->exporters[i].after_fork(p->exporters[i].user_data);
        atomic_store(&p->restart, p->started && !p->shut_down);
        p->started = false;
    }
    pthread_mutex_init(&registry_mu, NULL);
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int otel_processor_new(otel_processor **out, const otel_tracer_config *cfg, otel_release_fn release,
                       void *release_ud)
{
    *out = NULL;
    if (cfg->max_queue_size == 0 || cfg->max_export_batch_size == 0 || release == NULL)
        return OTEL_ERR_INVALID;
    otel_processor *p = otel_calloc(1, sizeof(*p));
    if (p == NULL)
        return OTEL_ERR_NOMEM;
    p->cfg = *cfg;
    if (p->cfg.max_export_batch_size > p->cfg.max_queue_size)
        p->cfg.max_export_batch_size = p->cfg.max_queue_size;
    p->release = release;
    p->release_ud = release_ud;
    int rc = otel_queue_new(&p->queue, p->cfg.max_queue_size);
    if (rc != OTEL_OK) {
        otel_free(p);
        return rc;
    }
    p->batch = otel_calloc(p->cfg.max_export_batch_size, sizeof(*p->batch));
    if (p->batch == NULL) {
        otel_queue_del(p->queue);
        otel_free(p);
        return OTEL_ERR_NOMEM;
    }
    init_sync(p);
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&registry_mu);
    p->next = registry;
    registry = p;
    pthread_mutex_unlock(&registry_mu);
    *out = p;
    return OTEL_OK;
}

int otel_processor_add_exporter(otel_processor *p, const otel_exporter *exp)
{
    if (exp == NULL || exp->export_spans == NULL)
        return OTEL_ERR_INVALID;
    pthread_mutex_lock(&p->mu);
    int rc = OTEL_OK;
    if (p->started || p->shut_down)
        rc = OTEL_ERR_STATE;
    else if (p->n_exporters == MAX_EXPORTERS)
        rc = OTEL_ERR_FULL;
    else
        p->exporters[p->n_exporters++] = *exp;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int otel_processor_start(otel_processor *p)
{
    int rc = OTEL_OK;
    pthread_mutex_lock(&p->mu);
    if (p->shut_down) {
        rc = OTEL_ERR_STATE;
    } else if (!p->started) {
        /* The worker takes no signals: process signals go to the server's
         * threads, and a write to a closed pipe fails with EPIPE instead of
         * raising SIGPIPE. It inherits the mask it is created with. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&p->worker, NULL, worker_main, p) != 0)
            rc = OTEL_ERR_NOMEM;
        else
            p->started = true;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void otel_processor_on_end(otel_processor *p, otel_span *span)
{
    if (atomic_load_explicit(&p->restart, memory_order_relaxed) &&
        atomic_exchange(&p->restart, false))
        otel_processor_start(p); /* first span in a forked child */
    if (atomic_load_explicit(&p->closed, memory_order_relaxed) ||
        !otel_queue_push(p->queue, span)) {
        atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
        p->release(p->release_ud, span);
        return;
    }
    /* A full batch is waiting: wake the worker, once. The lock is taken only
     * here, once per batch, and never while an export runs. */
    if (otel_queue_size(p->queue) < p->cfg.max_export_batch_size)
        return;
    atomic_thread_fence(memory_order_seq_cst); /* pairs with the worker's */
    if (!atomic_load_explicit(&p->wake_posted, memory_order_relaxed) &&
        !atomic_exchange(&p->wake_posted, true)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
}

/* No worker: export what is queued in the caller's thread, until empty
 * or until deadline (monotonic ns). */
static int flush_here(otel_processor *p, uint64_t deadline)
{
    while (drain_one_batch(p) > 0)
        if (mono_ns() > deadline && otel_queue_size(p->queue) > 0)
            return OTEL_ERR_TIMEOUT;
    return OTEL_OK;
}

int otel_processor_force_flush(otel_processor *p, uint64_t timeout_ns)
{
    int rc = OTEL_OK;
    struct timespec ts = deadline_ts(timeout_ns);
    pthread_mutex_lock(&p->mu);
    if (p->stop) {
        /* Shutdown is draining: wait for it, never drain beside it. */
        while (!p->drained && rc == OTEL_OK)
            if (pthread_cond_timedwait(&p->flushed, &p->mu, &ts) == ETIMEDOUT)
                rc = OTEL_ERR_TIMEOUT;
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    if (!p->started) {
        pthread_mutex_unlock(&p->mu);
        return flush_here(p, mono_ns() + timeout_ns);
    }
    uint64_t target = ++p->flush_requested;
    pthread_cond_signal(&p->wake);
    while (p->flush_done < target && rc == OTEL_OK)
        if (pthread_cond_timedwait(&p->flushed, &p->mu, &ts) == ETIMEDOUT)
            rc = OTEL_ERR_TIMEOUT;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int otel_processor_shutdown(otel_processor *p)
{
    /* From here on, spans ended are dropped (and counted): only what was
     * ended before is exported. */
    atomic_store(&p->closed, true);
    pthread_mutex_lock(&p->mu);
    if (p->shut_down) {
        pthread_mutex_unlock(&p->mu);
        return OTEL_OK;
    }
    p->shut_down = true;
    bool joined = p->started;
    p->stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    int rc;
    if (joined) {
        pthread_join(p->worker, NULL);
        rc = p->final_rc;
    } else {
        rc = drain_all(p);
    }
    /* A span whose end saw the processor open just before it closed may
     * have been queued after the last drain. */
    fail_leftovers(p);
    pthread_mutex_lock(&p->mu);
    p->drained = true;
    pthread_cond_broadcast(&p->flushed);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_exporters; i++)
        if (p->exporters[i].shutdown != NULL)
            p->exporters[i].shutdown(p->exporters[i].user_data);
    return rc;
}

void otel_processor_del(otel_processor *p)
{
    if (p == NULL)
        return;
    otel_processor_shutdown(p);
    pthread_mutex_lock(&registry_mu);
    for (otel_processor **pp = &registry; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    otel_span *s;
    while ((s = otel_queue_pop(p->queue)) != NULL)
        p->release(p->release_ud, s);
    pthread_mutex_destroy(&p->drain_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->flushed);
    otel_queue_del(p->queue);
    otel_free(p->batch);
    otel_free(p);
}

void otel_processor_stats(const otel_processor *p, otel_stats *out)
{
    otel_processor *m = (otel_processor *)p;
    out->dropped = atomic_load(&m->dropped);
    out->exported = atomic_load(&m->exported);
    out->failed = atomic_load(&m->failed);
    out->rejected = atomic_load(&m->rejected);
    out->queued = otel_queue_size(p->queue) + atomic_load(&m->in_flight);
    out->ended = otel_queue_pushed(p->queue) - p->pushed_base + out->dropped;
}
