/* processor.c - the batch span processor: one pipeline per exporter. Request
 * threads push each ended span into every pipeline's bounded lock-free
 * queue; each pipeline's worker thread exports its queue in batches, by
 * deadlines, so that no exporter ever waits on another. */
#include "processor.h"

#include "exporter_int.h"
#include "queue.h"
#include "span_int.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include "alloc.h"
#include "log.h"

#define NS_PER_SEC 1000000000ULL
#define NS_PER_MS 1000000ULL
/* How long shutdown waits past its deadline for a worker to notice it (an
 * exporter that keeps its deadline returns within milliseconds). */
#define STOP_GRACE_NS (250 * NS_PER_MS)

typedef struct pipeline {
    otel_processor *p;
    size_t index;       /* in p->pl */
    otel_exporter *exp; /* owned */
    otel_queue *queue;  /* owned; ended spans */
    /* owned, max_export_batch_size slots: the spans taken from the queue,
     * as the exporter reads them (each the first member of its span) */
    const otel_span_data **batch;

    _Atomic uint64_t dropped;
    _Atomic uint64_t exported;
    _Atomic uint64_t failed;
    _Atomic uint64_t rejected;
    _Atomic uint64_t in_flight; /* taken from the queue, export not done */
    atomic_bool wake_posted;    /* a producer already woke the worker */
    atomic_uint sync;           /* where producers and the worker meet (see on_end) */
    atomic_bool stop;           /* shutdown began: drain by stop_deadline and end */

    /* Held by whoever takes spans from the queue into batch and exports
     * them (the worker, or a caller's thread when there is none). */
    pthread_mutex_t drain_mu;

    pthread_mutex_t mu; /* guards the fields below; never held while exporting */
    pthread_cond_t wake;
    pthread_cond_t done; /* flush_done moved on, or drained became true */
    pthread_t worker;
    bool running;   /* its worker was started (guarded by the processor's mu) */
    bool drained;   /* the last drain and the exporter's shutdown are over */
    bool abandoned; /* its worker missed the shutdown deadline: left to it */
    uint64_t stop_deadline;
    uint64_t flush_requested;
    uint64_t flush_done;
    uint64_t flush_deadline; /* the latest deadline asked for */
    int final_rc;            /* of the last drain: 0, OTEL_ERR_TIMEOUT or OTEL_ERR_IO */
    uint64_t pushed_base;    /* queue pushes made before a fork */
    uint64_t drops_reported;
    uint64_t drops_reported_ns;
    uint64_t fail_logged_ns; /* when a failed export was last logged */
    uint64_t fail_unlogged;  /* spans of failed exports since, not logged */
} pipeline;

struct otel_processor {
    otel_tracer_config cfg;
    otel_release_fn release;
    void *release_ud;
    pipeline *pl[OTEL_TRACER_MAX_EXPORTERS];
    size_t n;
    _Atomic uint64_t lone_ended;               /* ended while there was no pipeline */
    _Atomic uint64_t keep[OTEL_KEEP_EV_COUNT]; /* by otel_keep_event */
    atomic_bool closed;                        /* shutdown began: new spans are dropped */
    atomic_bool restart;                       /* forked child: start the workers again */
    /* otel_processor_observe_exports: fn published after ud; users are the
     * calls under way, which clearing waits out */
    _Atomic(otel_export_observer_fn) observer;
    _Atomic(void *) observer_ud;
    atomic_uint observer_users;

    pthread_mutex_t mu; /* guards the fields below */
    bool started;
    bool shut_down;
    int shutdown_rc;
    otel_processor *next; /* in the registry of processors */
};

/* Every processor, for the fork handlers. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static otel_processor *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static struct timespec mono_ts(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / NS_PER_SEC),
                             .tv_nsec = (long)(ns % NS_PER_SEC)};
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t after(uint64_t now, uint64_t ns)
{
    return ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
}

/* The span is no longer held by this pipeline: back to the pool once no
 * pipeline holds it. */
static void release_span(otel_processor *p, otel_span *s)
{
    if (p->n > 1 && atomic_fetch_sub_explicit(&s->holders, 1, memory_order_acq_rel) != 1)
        return;
    p->release(p->release_ud, s);
}

/* Tell p's observer, if any, of an export that took ns. */
static void observe(otel_processor *p, size_t index, size_t n, int rc, uint64_t ns)
{
    if (atomic_load_explicit(&p->observer, memory_order_relaxed) == NULL)
        return;
    atomic_fetch_add(&p->observer_users, 1);
    otel_export_observer_fn fn = atomic_load(&p->observer);
    if (fn != NULL)
        fn(atomic_load(&p->observer_ud), index, n, rc, ns);
    atomic_fetch_sub(&p->observer_users, 1);
}

void otel_processor_observe_exports(otel_processor *p, otel_export_observer_fn fn, void *user_data)
{
    if (fn != NULL) {
        atomic_store(&p->observer_ud, user_data);
        atomic_store(&p->observer, fn);
        return;
    }
    atomic_store(&p->observer, NULL);
    while (atomic_load(&p->observer_users) > 0)
        sched_yield();
}

/* Hand the n spans of pl->batch to the exporter, to be done by deadline. */
static void export_batch(pipeline *pl, size_t n, uint64_t deadline)
{
    otel_exporter *e = pl->exp;
    uint64_t t0 = otel_mono_ns();
    int rc = e->export_fn(e->user_data, pl->batch, n, deadline);
    observe(pl->p, pl->index, n, rc, otel_mono_ns() - t0);
    if (rc < 0) {
        /* At most one line a second: a dead collector fails every batch. */
        atomic_fetch_add(&pl->failed, n);
        uint64_t now = otel_mono_ns();
        if (pl->fail_logged_ns != 0 && now - pl->fail_logged_ns < NS_PER_SEC) {
            pl->fail_unlogged += n;
        } else {
            otel_log(OTEL_LOG_WARN, "exporter %s failed on %llu spans: %s", e->name,
                     (unsigned long long)(n + pl->fail_unlogged), otel_strerror(rc));
            pl->fail_logged_ns = now;
            pl->fail_unlogged = 0;
        }
    } else {
        size_t rejected = (size_t)rc < n ? (size_t)rc : n;
        atomic_fetch_add(&pl->rejected, rejected);
        atomic_fetch_add(&pl->exported, n - rejected);
    }
    atomic_fetch_sub(&pl->in_flight, n);
    otel_processor *p = pl->p;
    if (p->n == 1) {
        for (size_t i = 0; i < n; i++)
            p->release(p->release_ud, otel_span_of(pl->batch[i]));
        return;
    }
    for (size_t i = 0; i < n; i++)
        release_span(p, otel_span_of(pl->batch[i]));
}

/* Pops up to one batch and exports it, by min(now + export timeout, limit).
 * Returns how many spans it took. */
static size_t drain_one_batch(pipeline *pl, uint64_t limit)
{
    size_t n = 0;
    otel_span *s;
    pthread_mutex_lock(&pl->drain_mu);
    size_t max = pl->p->cfg.max_export_batch_size;
    while (n < max && (s = otel_queue_pop(pl->queue)) != NULL) {
        atomic_fetch_add_explicit(&pl->in_flight, 1, memory_order_relaxed);
        pl->batch[n++] = &s->d;
    }
    if (n > 0)
        export_batch(pl, n, min_u64(after(otel_mono_ns(), pl->p->cfg.export_timeout_ns), limit));
    pthread_mutex_unlock(&pl->drain_mu);
    return n;
}

/* Export what is queued, in batches, until empty or deadline; a flush
 * (stop_too false) also ends when shutdown begins. Then the exporter's own
 * flush. Returns 0 or OTEL_ERR_TIMEOUT. */
static int drain_until(pipeline *pl, uint64_t deadline, bool for_flush)
{
    while (otel_queue_size(pl->queue) > 0) {
        if (otel_mono_ns() >= deadline || (for_flush && atomic_load(&pl->stop)))
            return OTEL_ERR_TIMEOUT;
        drain_one_batch(pl, deadline);
    }
    if (for_flush && pl->exp->flush_fn != NULL && otel_mono_ns() < deadline)
        return pl->exp->flush_fn(pl->exp->user_data, deadline) < 0 ? OTEL_ERR_TIMEOUT : OTEL_OK;
    return OTEL_OK;
}

/* After the last drain: spans still queued (the deadline passed, or they
 * were ended while shutdown began) will never be exported. Counted as
 * failed, logged once with their count. */
static void fail_leftovers(pipeline *pl)
{
    otel_span *s;
    uint64_t n = 0;
    pthread_mutex_lock(&pl->drain_mu);
    while ((s = otel_queue_pop(pl->queue)) != NULL) {
        release_span(pl->p, s);
        n++;
    }
    pthread_mutex_unlock(&pl->drain_mu);
    if (n == 0)
        return;
    atomic_fetch_add(&pl->failed, n);
    otel_log(OTEL_LOG_ERROR,
             "exporter %s: %llu spans could not be exported before the shutdown deadline "
             "(counted failed)",
             pl->exp->name, (unsigned long long)n);
}

/* The last drain, by the shutdown deadline, then the exporter's shutdown. */
static void finish(pipeline *pl, uint64_t deadline)
{
    uint64_t failed_before = atomic_load(&pl->failed);
    int rc = drain_until(pl, deadline, false);
    fail_leftovers(pl);
    if (rc == OTEL_OK && atomic_load(&pl->failed) != failed_before)
        rc = otel_mono_ns() >= deadline ? OTEL_ERR_TIMEOUT : OTEL_ERR_IO;
    if (pl->exp->shutdown_fn != NULL)
        pl->exp->shutdown_fn(pl->exp->user_data, deadline);
    pthread_mutex_lock(&pl->mu);
    pl->final_rc = rc;
    pl->drained = true;
    pthread_cond_broadcast(&pl->done);
    pthread_mutex_unlock(&pl->mu);
}

static void report_drops(pipeline *pl)
{
    uint64_t d = atomic_load(&pl->dropped);
    uint64_t now = otel_mono_ns();
    if (d == pl->drops_reported || now - pl->drops_reported_ns < NS_PER_SEC)
        return;
    otel_log(OTEL_LOG_WARN, "exporter %s: dropped %llu spans: queue full (max_queue_size %zu)",
             pl->exp->name, (unsigned long long)(d - pl->drops_reported),
             pl->p->cfg.max_queue_size);
    pl->drops_reported = d;
    pl->drops_reported_ns = now;
}

static void *worker_main(void *arg)
{
    pipeline *pl = arg;
    size_t batch = pl->p->cfg.max_export_batch_size;
    pthread_mutex_lock(&pl->mu);
    while (!atomic_load(&pl->stop)) {
        uint64_t flush_target = pl->flush_requested;
        /* Re-arm the producers' wake-up before looking at the queue; the
         * read-modify-write on sync orders this against a producer's (see
         * otel_processor_on_end), so that its wake-up cannot be lost. */
        atomic_store(&pl->wake_posted, false);
        atomic_fetch_add(&pl->sync, 1);
        if (flush_target == pl->flush_done && otel_queue_size(pl->queue) < batch) {
            struct timespec ts = mono_ts(after(otel_mono_ns(), pl->p->cfg.schedule_delay_ns));
            pthread_cond_timedwait(&pl->wake, &pl->mu, &ts);
            flush_target = pl->flush_requested;
        }
        if (atomic_load(&pl->stop))
            break;
        uint64_t flush_deadline = pl->flush_deadline;
        pthread_mutex_unlock(&pl->mu);
        if (flush_target != pl->flush_done) {
            drain_until(pl, flush_deadline, true);
        } else {
            /* After a wake or the delay: export until less than a batch
             * is left, that remainder included. */
            while (drain_one_batch(pl, UINT64_MAX) == batch && !atomic_load(&pl->stop))
                ;
        }
        report_drops(pl);
        pthread_mutex_lock(&pl->mu);
        if (flush_target != pl->flush_done) {
            pl->flush_done = flush_target;
            pthread_cond_broadcast(&pl->done);
        }
    }
    uint64_t deadline = pl->stop_deadline;
    pthread_mutex_unlock(&pl->mu);
    finish(pl, deadline);
    report_drops(pl);
    return NULL;
}

static void init_sync(pipeline *pl)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&pl->drain_mu, NULL);
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->wake, &ca);
    pthread_cond_init(&pl->done, &ca);
    pthread_condattr_destroy(&ca);
}

/* fork(): no processor lock may be held by a thread the child will not
 * have. */
static void before_fork(void)
{
    pthread_mutex_lock(&registry_mu);
    for (otel_processor *p = registry; p != NULL; p = p->next) {
        pthread_mutex_lock(&p->mu);
        for (size_t i = 0; i < p->n; i++)
            pthread_mutex_lock(&p->pl[i]->mu);
    }
}

static void after_fork_parent(void)
{
    for (otel_processor *p = registry; p != NULL; p = p->next) {
        for (size_t i = 0; i < p->n; i++)
            pthread_mutex_unlock(&p->pl[i]->mu);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&registry_mu);
}

/* The child has no worker thread and shares the parent's connections: it
 * starts afresh. Spans the parent had queued are the parent's to export. */
static void after_fork_child(void)
{
    for (otel_processor *p = registry; p != NULL; p = p->next) {
        pthread_mutex_init(&p->mu, NULL);
        for (size_t i = 0; i < p->n; i++) {
            pipeline *pl = p->pl[i];
            init_sync(pl);
            otel_span *s;
            while ((s = otel_queue_pop(pl->queue)) != NULL)
                release_span(p, s);
            pl->pushed_base = otel_queue_pushed(pl->queue);
            atomic_store(&pl->dropped, 0);
            atomic_store(&pl->exported, 0);
            atomic_store(&pl->failed, 0);
            atomic_store(&pl->rejected, 0);
            atomic_store(&pl->in_flight, 0);
            atomic_store(&pl->wake_posted, false);
            pl->flush_requested = pl->flush_done = 0;
            pl->drops_reported = 0;
            if (pl->exp->after_fork_fn != NULL)
                pl->exp->after_fork_fn(pl->exp->user_data);
        }
        for (size_t i = 0; i < p->n; i++)
            p->pl[i]->running = false;
        atomic_store(&p->lone_ended, 0);
        /* A parent's thread in the observer is not in the child: clearing
         * the observer there must not wait for it. */
        atomic_store(&p->observer_users, 0);
        for (size_t k = 0; k < OTEL_KEEP_EV_COUNT; k++)
            atomic_store(&p->keep[k], 0);
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
    pthread_mutex_init(&p->mu, NULL);
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&registry_mu);
    p->next = registry;
    registry = p;
    pthread_mutex_unlock(&registry_mu);
    *out = p;
    return OTEL_OK;
}

static void pipeline_del(pipeline *pl)
{
    if (pl == NULL)
        return;
    otel_span *s;
    while (pl->queue != NULL && (s = otel_queue_pop(pl->queue)) != NULL)
        release_span(pl->p, s);
    pthread_mutex_destroy(&pl->drain_mu);
    pthread_mutex_destroy(&pl->mu);
    pthread_cond_destroy(&pl->wake);
    pthread_cond_destroy(&pl->done);
    otel_queue_del(pl->queue);
    otel_free(pl->batch);
    otel_exporter_del(pl->exp);
    otel_free(pl);
}

static int pipeline_new(otel_processor *p, otel_exporter *e, pipeline **out)
{
    pipeline *pl = otel_calloc(1, sizeof(*pl));
    if (pl == NULL)
        return OTEL_ERR_NOMEM;
    init_sync(pl);
    pl->p = p;
    pl->index = p->n;
    pl->exp = e;
    size_t batch = p->cfg.max_export_batch_size;
    int rc = otel_queue_new(&pl->queue, p->cfg.max_queue_size);
    pl->batch = otel_calloc(batch, sizeof(*pl->batch));
    if (rc == OTEL_OK && pl->batch == NULL)
        rc = OTEL_ERR_NOMEM;
    if (rc != OTEL_OK) {
        pl->exp = NULL;
        pipeline_del(pl);
        return rc;
    }
    *out = pl;
    return OTEL_OK;
}

int otel_processor_add_exporter(otel_processor *p, otel_exporter *e)
{
    if (e == NULL)
        return OTEL_ERR_INVALID;
    pthread_mutex_lock(&registry_mu); /* the fork handlers walk p->pl */
    pthread_mutex_lock(&p->mu);
    int rc = OTEL_OK;
    if (p->started || p->shut_down)
        rc = OTEL_ERR_STATE;
    else if (p->n == OTEL_TRACER_MAX_EXPORTERS)
        rc = OTEL_ERR_FULL;
    else
        rc = pipeline_new(p, e, &p->pl[p->n]);
    if (rc == OTEL_OK)
        p->n++;
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&registry_mu);
    if (rc != OTEL_OK)
        otel_exporter_del(e);
    return rc;
}

int otel_processor_start(otel_processor *p)
{
    int rc = OTEL_OK;
    pthread_mutex_lock(&p->mu);
    if (p->shut_down) {
        rc = OTEL_ERR_STATE;
    } else {
        /* The workers take no signals: process signals go to the server's
         * threads, and a write to a closed pipe fails with EPIPE instead of
         * raising SIGPIPE. They inherit the mask they are created with. A
         * pipeline whose worker could not start is drained by flush and
         * shutdown in the caller's thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        for (size_t i = 0; i < p->n; i++) {
            pipeline *pl = p->pl[i];
            if (!pl->running && pthread_create(&pl->worker, NULL, worker_main, pl) != 0)
                rc = OTEL_ERR_NOMEM;
            else
                pl->running = true;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        p->started = true;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Queue span in pl, or count it dropped. */
static void push(pipeline *pl, otel_span *span, bool closed)
{
    if (closed || !otel_queue_push(pl->queue, span)) {
        atomic_fetch_add_explicit(&pl->dropped, 1, memory_order_relaxed);
        release_span(pl->p, span);
        return;
    }
    /* A full batch is waiting: wake the worker, once. The lock is taken only
     * here, once per batch, and never while an export runs. The
     * read-modify-write on sync comes after the push and before the look at
     * wake_posted: if the worker's comes first, this sees its re-arm and
     * signals; if this comes first, the worker sees the span. */
    if (otel_queue_size(pl->queue) < pl->p->cfg.max_export_batch_size)
        return;
    atomic_fetch_add(&pl->sync, 1);
    if (!atomic_load_explicit(&pl->wake_posted, memory_order_relaxed) &&
        !atomic_exchange(&pl->wake_posted, true)) {
        pthread_mutex_lock(&pl->mu);
        pthread_cond_signal(&pl->wake);
        pthread_mutex_unlock(&pl->mu);
    }
}

/* With no pipeline or several: out of the one-exporter path. */
__attribute__((noinline)) static void on_end_other(otel_processor *p, otel_span *span, bool closed)
{
    size_t n = p->n;
    if (n == 0) {
        atomic_fetch_add_explicit(&p->lone_ended, 1, memory_order_relaxed);
        p->release(p->release_ud, span);
        return;
    }
    /* One enqueue per pipeline, no copy: the span goes back to the pool
     * when the last pipeline lets it go. */
    atomic_store_explicit(&span->holders, (unsigned)n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++)
        push(p->pl[i], span, closed);
}

void otel_processor_on_end(otel_processor *p, otel_span *span)
{
    if (atomic_load_explicit(&p->restart, memory_order_relaxed) &&
        atomic_exchange(&p->restart, false))
        otel_processor_start(p); /* first span in a forked child */
    bool closed = atomic_load_explicit(&p->closed, memory_order_relaxed);
    if (p->n == 1)
        push(p->pl[0], span, closed);
    else
        on_end_other(p, span, closed);
}

void otel_processor_count_keep(otel_processor *p, otel_keep_event ev)
{
    atomic_fetch_add_explicit(&p->keep[ev], 1, memory_order_relaxed);
}

int otel_processor_force_flush(otel_processor *p, uint64_t timeout_ns)
{
    uint64_t deadline = after(otel_mono_ns(), timeout_ns);
    struct timespec ts = mono_ts(deadline);
    uint64_t target[OTEL_TRACER_MAX_EXPORTERS];
    bool running[OTEL_TRACER_MAX_EXPORTERS];
    int rc = OTEL_OK;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->n; i++)
        running[i] = p->pl[i]->running;
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n; i++) {
        pipeline *pl = p->pl[i];
        if (!running[i])
            continue;
        pthread_mutex_lock(&pl->mu);
        target[i] = ++pl->flush_requested;
        if (pl->flush_deadline < deadline || pl->flush_done + 1 == target[i])
            pl->flush_deadline = deadline;
        pthread_cond_signal(&pl->wake);
        pthread_mutex_unlock(&pl->mu);
    }
    for (size_t i = 0; i < p->n; i++) {
        pipeline *pl = p->pl[i];
        if (!running[i] && !atomic_load(&pl->stop)) {
            /* No worker: export in the caller's thread, by the same
             * deadline. */
            if (drain_until(pl, deadline, true) != OTEL_OK)
                rc = OTEL_ERR_TIMEOUT;
            continue;
        }
        pthread_mutex_lock(&pl->mu);
        /* During shutdown the worker (or shutdown's caller) drains for it:
         * wait for that, never drain beside it. */
        if (!running[i] || atomic_load(&pl->stop))
            target[i] = UINT64_MAX;
        while (pl->flush_done < target[i] && !pl->drained && rc == OTEL_OK)
            if (pthread_cond_timedwait(&pl->done, &pl->mu, &ts) == ETIMEDOUT)
                rc = OTEL_ERR_TIMEOUT;
        if (pl->drained && pl->final_rc != OTEL_OK)
            rc = OTEL_ERR_TIMEOUT;
        pthread_mutex_unlock(&pl->mu);
    }
    return rc;
}

/* Wait for pl's worker to finish, until deadline plus a grace; a worker
 * that misses it is left behind (detached). Returns its result. */
static int wait_finished(pipeline *pl, uint64_t deadline)
{
    struct timespec ts = mono_ts(after(deadline, STOP_GRACE_NS));
    int rc = OTEL_OK;
    pthread_mutex_lock(&pl->mu);
    while (!pl->drained && rc == OTEL_OK)
        if (pthread_cond_timedwait(&pl->done, &pl->mu, &ts) == ETIMEDOUT)
            rc = OTEL_ERR_TIMEOUT;
    if (pl->drained)
        rc = pl->final_rc;
    else
        pl->abandoned = true;
    pthread_mutex_unlock(&pl->mu);
    if (rc == OTEL_ERR_TIMEOUT && !pl->drained) {
        pthread_detach(pl->worker);
        otel_log(OTEL_LOG_ERROR,
                 "exporter %s did not return by the shutdown deadline; its %llu queued spans "
                 "are left to it",
                 pl->exp->name,
                 (unsigned long long)(otel_queue_size(pl->queue) + atomic_load(&pl->in_flight)));
    } else {
        pthread_join(pl->worker, NULL);
    }
    return rc;
}

static int worse(int a, int b)
{
    if (a == OTEL_ERR_TIMEOUT || b == OTEL_ERR_TIMEOUT)
        return OTEL_ERR_TIMEOUT;
    return a != OTEL_OK ? a : b;
}

int otel_processor_shutdown(otel_processor *p, uint64_t deadline)
{
    /* From here on, spans ended are dropped (and counted): only what was
     * ended before is exported. */
    atomic_store(&p->closed, true);
    pthread_mutex_lock(&p->mu);
    if (p->shut_down) {
        int rc = p->shutdown_rc;
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    p->shut_down = true;
    pthread_mutex_unlock(&p->mu);
    int rc = OTEL_OK;
    for (size_t i = 0; i < p->n; i++) {
        pipeline *pl = p->pl[i];
        pthread_mutex_lock(&pl->mu);
        pl->stop_deadline = deadline;
        atomic_store(&pl->stop, true);
        pthread_cond_signal(&pl->wake);
        pthread_mutex_unlock(&pl->mu);
    }
    /* Every worker drains at once; the ones that have no worker are drained
     * here, one after the other, by the same deadline. */
    for (size_t i = 0; i < p->n; i++) {
        pipeline *pl = p->pl[i];
        if (pl->running) {
            rc = worse(rc, wait_finished(pl, deadline));
        } else {
            finish(pl, deadline);
            rc = worse(rc, pl->final_rc);
        }
    }
    pthread_mutex_lock(&p->mu);
    p->shutdown_rc = rc;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

bool otel_processor_del(otel_processor *p)
{
    if (p == NULL)
        return true;
    otel_processor_shutdown(p, after(otel_mono_ns(), p->cfg.export_timeout_ns));
    for (size_t i = 0; i < p->n; i++)
        if (p->pl[i]->abandoned)
            return false; /* still in use by its worker: left in memory */
    pthread_mutex_lock(&registry_mu);
    for (otel_processor **pp = &registry; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    for (size_t i = 0; i < p->n; i++)
        pipeline_del(p->pl[i]);
    pthread_mutex_destroy(&p->mu);
    otel_free(p);
    return true;
}

/* The keep counters into out. */
static void keep_stats(const otel_processor *p, otel_stats *out)
{
    otel_processor *m = (otel_processor *)p;
    out->kept_error = atomic_load(&m->keep[OTEL_KEEP_EV_KEPT_ERROR]);
    out->kept_slow = atomic_load(&m->keep[OTEL_KEEP_EV_KEPT_SLOW]);
    out->keep_released = atomic_load(&m->keep[OTEL_KEEP_EV_RELEASED]);
    out->keep_overflow = atomic_load(&m->keep[OTEL_KEEP_EV_OVERFLOW]);
    out->keep_late = atomic_load(&m->keep[OTEL_KEEP_EV_LATE]);
}

static void pipeline_stats(const pipeline *pl, otel_stats *out)
{
    pipeline *m = (pipeline *)pl;
    out->dropped = atomic_load(&m->dropped);
    out->exported = atomic_load(&m->exported);
    out->failed = atomic_load(&m->failed);
    out->rejected = atomic_load(&m->rejected);
    out->exporting = atomic_load(&m->in_flight);
    out->queued = otel_queue_size(pl->queue) + out->exporting;
    out->ended = otel_queue_pushed(pl->queue) - pl->pushed_base + out->dropped;
}

void otel_processor_stats(const otel_processor *p, otel_stats *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t lone = atomic_load(&((otel_processor *)p)->lone_ended);
    out->ended = out->dropped = lone;
    for (size_t i = 0; i < p->n; i++) {
        otel_stats s;
        pipeline_stats(p->pl[i], &s);
        out->ended += s.ended;
        out->exported += s.exported;
        out->dropped += s.dropped;
        out->failed += s.failed;
        out->rejected += s.rejected;
        out->queued += s.queued;
        out->exporting += s.exporting;
    }
    keep_stats(p, out);
}

size_t otel_processor_exporter_count(const otel_processor *p)
{
    return p->n;
}

int otel_processor_exporter_stats(const otel_processor *p, size_t i, otel_stats *out,
                                  const char **name)
{
    if (i >= p->n)
        return OTEL_ERR_INVALID;
    pipeline_stats(p->pl[i], out);
    keep_stats(p, out);
    if (name != NULL)
        *name = p->pl[i]->exp->name;
    return OTEL_OK;
}
