/* metrics.c - metric instruments: lock-free records into per-thread shards of interned attribute
 * sets, merged by collection in cumulative or delta temporality. */
#include "alloc.h"
#include "attrset.h"
#include "thread_local.h"
#include <mhd-otel/metrics.h>

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define SHARDS 8 /* cells of a point; a thread writes into one, picked once */
#define LINE 64
#define LINE_WORDS (LINE / 8)

/* Words of a cell; the buckets follow. */
#define W_N 0   /* measurements */
#define W_SUM 1 /* double bits (histogram), uint64 (counter), int64 (up-down) */
#define W_MIN 2 /* double bits: values are >= 0, so bits order as values */
#define W_MAX 3
#define W_BUCKETS 4

#define INF_BITS 0x7ff0000000000000ULL

static const double http_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                     0.5,   0.75, 1,     2.5,  5,     7.5, 10};

/* HdrHistogram's writer-reader phaser, one per shard of an instrument: a
 * record enters (start), writes into the cells of the phase it entered in,
 * and leaves (end[phase]). A collection flips every shard to the other phase
 * and waits for the writers of the old one to leave: the old cells are then
 * its alone, and each record lands whole in one phase, so in one
 * collection. */
typedef struct phaser {
    _Atomic int64_t start;
    _Atomic int64_t end[2];
    char pad[LINE - 3 * sizeof(int64_t)];
} phaser;

/* The exemplar of one bucket in one phase, filled under a try-lock: a record
 * that finds it busy offers nothing (the reservoir may skip offers). */
typedef struct ex_slot {
    _Atomic unsigned char busy;
    bool set;
    otel_exemplar ex;
} ex_slot;

/* What the collector has merged, under the provider's lock. */
typedef struct acc {
    uint64_t n;
    uint64_t sum; /* as in a cell */
    double min, max;
    uint64_t *buckets; /* nb + 1 */
    otel_exemplar *ex; /* nb + 1, ex_set says which */
    unsigned char *ex_set;
} acc;

typedef struct point {
    struct instr *owner; /* the instrument it is a point of */
    uint64_t hash;
    otel_kv *attrs; /* sorted copy, owned */
    size_t n_attrs;
    _Atomic uint64_t *cells; /* [2 phases][SHARDS] cells of stride words */
    void *cells_raw;
    ex_slot *ex;     /* [2][nb + 1]; histograms only */
    acc cum, intv;   /* everything; since the previous collection */
    void *acc_block; /* owns the arrays of cum and intv */
} point;

typedef struct instr {
    otel_metrics *m;
    otel_instrument_kind kind;
    char *name, *description, *unit;
    double *bounds; /* nb, histograms */
    size_t nb;
    size_t stride;                    /* words of a cell, a multiple of a cache line */
    uint64_t start_ns, last_delta_ns; /* creation (or fork); the last delta collection */
    _Atomic(point *) *table;          /* open addressing by hash, mask + 1 slots */
    size_t mask;
    _Atomic size_t n_points; /* regular points published or being published */
    size_t cap;              /* regular points at most */
    point *overflow;
    _Atomic uint64_t dropped;
    phaser *ph; /* SHARDS, aligned */
    void *ph_raw;
    unsigned phase; /* the phase records go to now; changed by collections */
    struct instr *next;
} instr;

struct otel_counter {
    instr i;
};
struct otel_updown_counter {
    instr i;
};
struct otel_histogram {
    instr i;
};

struct otel_metrics {
    pthread_mutex_t mu; /* instrument creation, collection, fork */
    size_t card_limit;
    instr *first, *last;
    otel_metrics *next; /* in the list of live providers */
    otel_metric_point *pts;
    size_t pts_cap;
    otel_exemplar *exs;
    size_t exs_cap;
};

static pthread_mutex_t providers_mu = PTHREAD_MUTEX_INITIALIZER;
static otel_metrics *providers;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static OTEL_TLS unsigned tls_shard; /* 1 + shard, 0 until picked */
static _Atomic unsigned next_shard;

static const otel_kv overflow_kv[1] = {
    {.key = OTEL_METRIC_OVERFLOW_KEY, .type = OTEL_ATTR_BOOL, .v.b = true}};

/* ---- memory ---------------------------------------------------------- */

/* n bytes aligned to a cache line, zeroed; *raw is what to free. */
static void *line_alloc(size_t n, void **raw)
{
    unsigned char *p = otel_calloc(1, n + LINE);
    *raw = p;
    if (p == NULL)
        return NULL;
    return p + (LINE - (uintptr_t)p % LINE) % LINE;
}

static _Atomic uint64_t *cell_of(const instr *in, const point *p, unsigned phase, unsigned shard)
{
    return p->cells + ((size_t)phase * SHARDS + shard) * in->stride;
}

static void cell_reset(const instr *in, _Atomic uint64_t *c)
{
    for (size_t w = 0; w < in->stride; w++)
        atomic_store_explicit(&c[w], 0, memory_order_relaxed);
    atomic_store_explicit(&c[W_MIN], INF_BITS, memory_order_relaxed);
}

static void acc_clear(const instr *in, acc *a)
{
    a->n = 0;
    a->sum = 0;
    a->min = INFINITY;
    a->max = 0;
    if (a->buckets != NULL) {
        memset(a->buckets, 0, (in->nb + 1) * sizeof(uint64_t));
        memset(a->ex_set, 0, in->nb + 1);
    }
}

/* Every measurement of p forgotten (after a fork). */
static void point_reset(const instr *in, point *p)
{
    for (unsigned ph = 0; ph < 2; ph++)
        for (unsigned s = 0; s < SHARDS; s++)
            cell_reset(in, cell_of(in, p, ph, s));
    if (p->ex != NULL)
        for (size_t b = 0; b < 2 * (in->nb + 1); b++) {
            atomic_store_explicit(&p->ex[b].busy, 0, memory_order_relaxed);
            p->ex[b].set = false;
        }
    acc_clear(in, &p->cum);
    acc_clear(in, &p->intv);
}

static void point_free(point *p)
{
    if (p == NULL)
        return;
    otel_free(p->attrs);
    otel_free(p->cells_raw);
    otel_free(p->ex);
    otel_free(p->acc_block);
    otel_free(p);
}

/* A point for the set kv (copied), or NULL with *rc set. */
static point *point_new(const instr *in, const otel_kv *kv, size_t n, uint64_t hash, int *rc)
{
    point *p = otel_calloc(1, sizeof(*p));
    if (p == NULL) {
        *rc = OTEL_ERR_NOMEM;
        return NULL;
    }
    p->owner = (struct instr *)in;
    p->hash = hash;
    p->n_attrs = n;
    *rc = otel_attrset_copy(kv, n, OTEL_METRICS_MAX_ATTRS, &p->attrs);
    if (*rc != OTEL_OK)
        goto fail;
    *rc = OTEL_ERR_NOMEM;
    p->cells = line_alloc(2 * SHARDS * in->stride * sizeof(uint64_t), &p->cells_raw);
    if (p->cells == NULL)
        goto fail;
    if (in->kind == OTEL_INSTRUMENT_HISTOGRAM) {
        size_t nbk = in->nb + 1;
        p->ex = otel_calloc(2 * nbk, sizeof(ex_slot));
        unsigned char *blk =
            otel_calloc(1, 2 * nbk * (sizeof(uint64_t) + sizeof(otel_exemplar) + 1));
        p->acc_block = blk;
        if (p->ex == NULL || blk == NULL)
            goto fail;
        acc *accs[2] = {&p->cum, &p->intv};
        for (int i = 0; i < 2; i++) {
            accs[i]->buckets = (uint64_t *)(void *)blk;
            blk += nbk * sizeof(uint64_t);
        }
        for (int i = 0; i < 2; i++) {
            accs[i]->ex = (otel_exemplar *)(void *)blk;
            blk += nbk * sizeof(otel_exemplar);
        }
        for (int i = 0; i < 2; i++) {
            accs[i]->ex_set = blk;
            blk += nbk;
        }
    }
    point_reset(in, p);
    *rc = OTEL_OK;
    return p;
fail:
    point_free(p);
    return NULL;
}

/* ---- the hot path ------------------------------------------------------ */

static unsigned shard_of_thread(void)
{
    unsigned s = tls_shard;
    if (s == 0) {
        s = atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % SHARDS + 1;
        tls_shard = s;
    }
    return s - 1;
}

/* Intern the set kv at or after slot i, where the lookup found no point:
 * publish a new point, or find the one another thread published first. */
static point *intern(instr *in, const otel_kv *kv, size_t n, uint64_t h, size_t i)
{
    if (atomic_fetch_add(&in->n_points, 1) >= in->cap) {
        atomic_fetch_sub(&in->n_points, 1);
        return in->overflow; /* the cardinality limit */
    }
    int rc;
    point *np = point_new(in, kv, n, h, &rc);
    if (np == NULL) {
        atomic_fetch_sub(&in->n_points, 1);
        if (rc == OTEL_ERR_NOMEM)
            return in->overflow; /* "the correct Aggregator could not be created" */
        atomic_fetch_add_explicit(&in->dropped, 1, memory_order_relaxed);
        return NULL;
    }
    for (;; i = (i + 1) & in->mask) {
        point *cur = NULL;
        if (atomic_compare_exchange_strong_explicit(&in->table[i], &cur, np, memory_order_acq_rel,
                                                    memory_order_acquire))
            return np;
        if (cur->hash == h && otel_attrset_equal(cur->attrs, cur->n_attrs, kv, n)) {
            point_free(np);
            atomic_fetch_sub(&in->n_points, 1);
            return cur;
        }
    }
}

/* The point of the set kv; NULL when the set is refused (counted). The table
 * holds at most cap points in twice as many slots: a probe ends. */
static point *point_for(instr *in, const otel_kv *kv, size_t n)
{
    if (n > OTEL_METRICS_MAX_ATTRS || (n > 0 && kv == NULL)) {
        atomic_fetch_add_explicit(&in->dropped, 1, memory_order_relaxed);
        return NULL;
    }
    uint64_t h = otel_attrset_hash(kv, n);
    for (size_t i = h & in->mask;; i = (i + 1) & in->mask) {
        point *p = atomic_load_explicit(&in->table[i], memory_order_acquire);
        if (p == NULL)
            return intern(in, kv, n, h, i);
        if (p->hash == h && otel_attrset_equal(p->attrs, p->n_attrs, kv, n))
            return p;
    }
}

static int64_t enter(phaser *ph)
{
    return atomic_fetch_add(&ph->start, 1);
}

static void leave(phaser *ph, int64_t entered)
{
    atomic_fetch_add_explicit(&ph->end[entered < 0], 1, memory_order_release);
}

/* A sum's record: one more, and value (two's complement for an up-down
 * counter's negative ones) into p. */
static void sum_record(instr *in, point *p, uint64_t value)
{
    unsigned s = shard_of_thread();
    int64_t e = enter(&in->ph[s]);
    _Atomic uint64_t *cell = cell_of(in, p, e < 0, s);
    atomic_fetch_add_explicit(&cell[W_N], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cell[W_SUM], value, memory_order_relaxed);
    leave(&in->ph[s], e);
}

static void sum_add(instr *in, uint64_t value, const otel_kv *attrs, size_t n_attrs)
{
    point *p = point_for(in, attrs, n_attrs);
    if (p != NULL)
        sum_record(in, p, value);
}

otel_sum_point *otel_counter_bind(otel_counter *c, const otel_kv *attrs, size_t n_attrs)
{
    return c != NULL ? (otel_sum_point *)(void *)point_for(&c->i, attrs, n_attrs) : NULL;
}

otel_sum_point *otel_updown_counter_bind(otel_updown_counter *c, const otel_kv *attrs,
                                         size_t n_attrs)
{
    return c != NULL ? (otel_sum_point *)(void *)point_for(&c->i, attrs, n_attrs) : NULL;
}

/* The overflow point stands for a set only once the instrument is full:
 * below its limit, a set got it for want of memory. */
static bool point_lasting(const point *p)
{
    return p != NULL &&
           (p != p->owner->overflow ||
            atomic_load_explicit(&p->owner->n_points, memory_order_relaxed) >= p->owner->cap);
}

bool otel_histogram_point_lasting(const otel_histogram_point *pt)
{
    return point_lasting((const point *)(const void *)pt);
}

bool otel_sum_point_lasting(const otel_sum_point *pt)
{
    return point_lasting((const point *)(const void *)pt);
}

void otel_sum_point_add(otel_sum_point *pt, int64_t value)
{
    point *p = (point *)(void *)pt;
    if (p == NULL)
        return;
    if (value < 0 && p->owner->kind == OTEL_INSTRUMENT_COUNTER) {
        atomic_fetch_add_explicit(&p->owner->dropped, 1, memory_order_relaxed);
        return;
    }
    sum_record(p->owner, p, (uint64_t)value);
}

void otel_counter_add(otel_counter *c, uint64_t value, const otel_kv *attrs, size_t n_attrs)
{
    if (c != NULL)
        sum_add(&c->i, value, attrs, n_attrs);
}

void otel_updown_counter_add(otel_updown_counter *c, int64_t value, const otel_kv *attrs,
                             size_t n_attrs)
{
    if (c != NULL)
        sum_add(&c->i, (uint64_t)value, attrs, n_attrs);
}

static uint64_t dbits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static double bitsd(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

/* The bucket of v: the first whose upper bound is >= v (upper bounds are
 * inclusive), nb for the last, unbounded one. */
static size_t bucket_of(const double *bounds, size_t nb, double v)
{
    size_t lo = 0, hi = nb;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void offer_exemplar(ex_slot *slot, double v, const otel_span_context *sc)
{
    if (atomic_exchange_explicit(&slot->busy, 1, memory_order_acquire) != 0)
        return;
    slot->ex.value = v;
    slot->ex.time_ns = otel_now_ns();
    memcpy(slot->ex.trace_id, sc->trace_id, 16);
    memcpy(slot->ex.span_id, sc->span_id, 8);
    slot->set = true;
    atomic_store_explicit(&slot->busy, 0, memory_order_release);
}

/* A histogram's record into its point p: value (>= 0, finite) and sc's
 * ids as the bucket's exemplar. */
static void hist_record(instr *in, point *p, double value, const otel_span_context *sc)
{
    size_t b = bucket_of(in->bounds, in->nb, value);
    uint64_t vb = dbits(value);
    unsigned s = shard_of_thread();
    int64_t e = enter(&in->ph[s]);
    unsigned phase = e < 0;
    _Atomic uint64_t *cell = cell_of(in, p, phase, s);
    atomic_fetch_add_explicit(&cell[W_N], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cell[W_BUCKETS + b], 1, memory_order_relaxed);
    uint64_t cur = atomic_load_explicit(&cell[W_SUM], memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&cell[W_SUM], &cur, dbits(bitsd(cur) + value),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
    cur = atomic_load_explicit(&cell[W_MIN], memory_order_relaxed);
    while (vb < cur && !atomic_compare_exchange_weak_explicit(
                           &cell[W_MIN], &cur, vb, memory_order_relaxed, memory_order_relaxed))
        ;
    cur = atomic_load_explicit(&cell[W_MAX], memory_order_relaxed);
    while (vb > cur && !atomic_compare_exchange_weak_explicit(
                           &cell[W_MAX], &cur, vb, memory_order_relaxed, memory_order_relaxed))
        ;
    if (sc != NULL && (sc->trace_flags & OTEL_TRACE_FLAG_SAMPLED) != 0 &&
        otel_span_context_is_valid(sc))
        offer_exemplar(&p->ex[phase * (in->nb + 1) + b], value, sc);
    leave(&in->ph[s], e);
}

/* Whether a histogram takes value (counted dropped when not). */
static bool hist_value_ok(instr *in, double value)
{
    if (value >= 0 && !isinf(value))
        return true;
    atomic_fetch_add_explicit(&in->dropped, 1, memory_order_relaxed);
    return false;
}

void otel_histogram_record(otel_histogram *hg, double value, const otel_kv *attrs, size_t n_attrs,
                           const otel_span_context *sc)
{
    if (hg == NULL || !hist_value_ok(&hg->i, value))
        return;
    point *p = point_for(&hg->i, attrs, n_attrs);
    if (p != NULL)
        hist_record(&hg->i, p, value + 0.0 /* -0 is 0 */, sc);
}

otel_histogram_point *otel_histogram_bind(otel_histogram *hg, const otel_kv *attrs, size_t n_attrs)
{
    if (hg == NULL)
        return NULL;
    return (otel_histogram_point *)(void *)point_for(&hg->i, attrs, n_attrs);
}

void otel_histogram_point_record(otel_histogram_point *pt, double value,
                                 const otel_span_context *sc)
{
    point *p = (point *)(void *)pt;
    if (p == NULL || !hist_value_ok(p->owner, value))
        return;
    hist_record(p->owner, p, value + 0.0, sc);
}

/* ---- collection -------------------------------------------------------- */

/* Send the shard's writers to the other phase and wait for those of the old
 * one to leave (they are between two atomic adds: the wait is short). */
static void flip(phaser *ph)
{
    int64_t start = atomic_load(&ph->start);
    bool next_even = start < 0;
    int64_t init = next_even ? 0 : INT64_MIN;
    atomic_store(&ph->end[next_even ? 0 : 1], init);
    int64_t at_flip = atomic_exchange(&ph->start, init);
    while (atomic_load_explicit(&ph->end[next_even ? 1 : 0], memory_order_acquire) != at_flip)
        sched_yield();
}

/* Add one quiescent cell (n measurements) to a. */
static void acc_add_cell(const instr *in, acc *a, _Atomic uint64_t *c, uint64_t n)
{
    a->n += n;
    uint64_t sum = atomic_load_explicit(&c[W_SUM], memory_order_relaxed);
    if (in->kind != OTEL_INSTRUMENT_HISTOGRAM) {
        a->sum += sum;
        return;
    }
    a->sum = dbits(bitsd(a->sum) + bitsd(sum));
    double mn = bitsd(atomic_load_explicit(&c[W_MIN], memory_order_relaxed));
    double mx = bitsd(atomic_load_explicit(&c[W_MAX], memory_order_relaxed));
    a->min = mn < a->min ? mn : a->min;
    a->max = mx > a->max ? mx : a->max;
    for (size_t b = 0; b <= in->nb; b++)
        a->buckets[b] += atomic_load_explicit(&c[W_BUCKETS + b], memory_order_relaxed);
}

/* Merge the quiescent cells of phase old into p's totals and its interval
 * (what came since the previous delta collection), and clear them. Both
 * are kept so that a cumulative reader (a Prometheus scrape) and a delta
 * one (OTLP with the delta preference) read the same instruments without
 * taking from each other. */
static void fold_point(const instr *in, point *p, unsigned old)
{
    for (unsigned s = 0; s < SHARDS; s++) {
        _Atomic uint64_t *c = cell_of(in, p, old, s);
        uint64_t n = atomic_load_explicit(&c[W_N], memory_order_relaxed);
        if (n == 0)
            continue;
        acc_add_cell(in, &p->cum, c, n);
        acc_add_cell(in, &p->intv, c, n);
        cell_reset(in, c);
    }
    if (p->ex == NULL)
        return;
    ex_slot *slots = &p->ex[old * (in->nb + 1)];
    for (size_t b = 0; b <= in->nb; b++) {
        if (slots[b].set) {
            p->cum.ex[b] = p->intv.ex[b] = slots[b].ex;
            p->cum.ex_set[b] = p->intv.ex_set[b] = 1;
            slots[b].set = false;
        }
    }
}

static void fold(instr *in)
{
    unsigned old = in->phase;
    for (unsigned s = 0; s < SHARDS; s++)
        flip(&in->ph[s]);
    in->phase = !old;
    for (size_t i = 0; i <= in->mask; i++) {
        point *p = atomic_load_explicit(&in->table[i], memory_order_acquire);
        if (p != NULL)
            fold_point(in, p, old);
    }
    fold_point(in, in->overflow, old);
}

static int reserve(otel_metrics *m, size_t n_pts, size_t n_exs)
{
    if (n_pts > m->pts_cap) {
        otel_metric_point *np = otel_realloc(m->pts, n_pts * sizeof(*np));
        if (np == NULL)
            return OTEL_ERR_NOMEM;
        m->pts = np;
        m->pts_cap = n_pts;
    }
    if (n_exs > m->exs_cap) {
        otel_exemplar *ne = otel_realloc(m->exs, n_exs * sizeof(*ne));
        if (ne == NULL)
            return OTEL_ERR_NOMEM;
        m->exs = ne;
        m->exs_cap = n_exs;
    }
    return OTEL_OK;
}

static void fill_point(const instr *in, const point *p, const acc *a, otel_metric_point *out,
                       otel_exemplar **ex_pos)
{
    memset(out, 0, sizeof(*out));
    out->attrs = p->attrs;
    out->n_attrs = p->n_attrs;
    out->count = a->n;
    if (in->kind != OTEL_INSTRUMENT_HISTOGRAM) {
        out->value = (int64_t)a->sum;
        out->sum = (double)out->value;
        return;
    }
    out->sum = bitsd(a->sum);
    out->min = a->min;
    out->max = a->max;
    out->bucket_counts = a->buckets;
    out->n_bucket_counts = in->nb + 1;
    out->exemplars = *ex_pos;
    for (size_t b = 0; b <= in->nb; b++)
        if (a->ex_set[b])
            (*ex_pos)[out->n_exemplars++] = a->ex[b];
    *ex_pos += out->n_exemplars;
}

static int collect_one(otel_metrics *m, instr *in, otel_temporality_pref pref,
                       otel_metrics_collect_fn fn, void *ud)
{
    fold(in);
    size_t n = 0;
    for (size_t i = 0; i <= in->mask; i++)
        if (atomic_load_explicit(&in->table[i], memory_order_acquire) != NULL)
            n++;
    n++; /* the overflow point */
    int rc = reserve(m, n, in->kind == OTEL_INSTRUMENT_HISTOGRAM ? n * (in->nb + 1) : 0);
    if (rc != OTEL_OK)
        return rc; /* the measurements wait in the intervals */
    otel_temporality t = otel_temporality_for(pref, in->kind);
    uint64_t now = otel_now_ns();
    otel_exemplar *ex_pos = m->exs;
    size_t k = 0;
    for (size_t i = 0; i <= in->mask + 1; i++) {
        point *p = i <= in->mask ? atomic_load_explicit(&in->table[i], memory_order_acquire)
                                 : in->overflow;
        if (p == NULL)
            continue;
        if (t == OTEL_TEMPORALITY_DELTA) {
            if (p->intv.n > 0)
                fill_point(in, p, &p->intv, &m->pts[k++], &ex_pos);
        } else {
            if (p->cum.n > 0)
                fill_point(in, p, &p->cum, &m->pts[k++], &ex_pos);
        }
    }
    for (size_t j = 0; j < k; j++) {
        m->pts[j].start_ns = t == OTEL_TEMPORALITY_DELTA ? in->last_delta_ns : in->start_ns;
        m->pts[j].time_ns = now;
    }
    rc = OTEL_OK;
    if (k > 0) {
        otel_metric_data md = {
            .name = in->name,
            .description = in->description,
            .unit = in->unit,
            .kind = in->kind,
            .temporality = t,
            .monotonic = in->kind == OTEL_INSTRUMENT_COUNTER,
            .boundaries = in->bounds,
            .n_boundaries = in->nb,
            .points = m->pts,
            .n_points = k,
            .dropped = atomic_load_explicit(&in->dropped, memory_order_relaxed),
        };
        rc = fn(ud, &md);
    }
    if (t == OTEL_TEMPORALITY_DELTA) { /* handed over: the next interval starts */
        for (size_t i = 0; i <= in->mask + 1; i++) {
            point *p = i <= in->mask ? atomic_load_explicit(&in->table[i], memory_order_acquire)
                                     : in->overflow;
            if (p != NULL)
                acc_clear(in, &p->intv);
        }
        in->last_delta_ns = now;
    }
    return rc;
}

int otel_metrics_collect(otel_metrics *m, otel_temporality_pref pref, otel_metrics_collect_fn fn,
                         void *user_data)
{
    if (m == NULL || fn == NULL)
        return OTEL_ERR_INVALID;
    pthread_mutex_lock(&m->mu);
    int rc = OTEL_OK;
    for (instr *in = m->first; in != NULL && rc == OTEL_OK; in = in->next)
        rc = collect_one(m, in, pref, fn, user_data);
    pthread_mutex_unlock(&m->mu);
    return rc;
}

/* ---- temporality ------------------------------------------------------- */

int otel_temporality_pref_from_name(const char *name, otel_temporality_pref *out)
{
    static const char *const names[] = {"cumulative", "delta", "lowmemory"};
    for (int i = 0; name != NULL && i < 3; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            *out = (otel_temporality_pref)i;
            return OTEL_OK;
        }
    }
    return OTEL_ERR_INVALID;
}

otel_temporality otel_temporality_for(otel_temporality_pref pref, otel_instrument_kind kind)
{
    if (pref == OTEL_TEMPORALITY_PREF_CUMULATIVE || kind == OTEL_INSTRUMENT_UPDOWN_COUNTER)
        return OTEL_TEMPORALITY_CUMULATIVE;
    return OTEL_TEMPORALITY_DELTA; /* delta and lowmemory agree on synchronous instruments */
}

const double *otel_http_duration_boundaries(size_t *n)
{
    if (n != NULL)
        *n = sizeof(http_bounds) / sizeof(http_bounds[0]);
    return http_bounds;
}

/* ---- fork -------------------------------------------------------------- */

static void before_fork(void)
{
    pthread_mutex_lock(&providers_mu);
    for (otel_metrics *m = providers; m != NULL; m = m->next)
        pthread_mutex_lock(&m->mu);
}

static void after_fork_parent(void)
{
    for (otel_metrics *m = providers; m != NULL; m = m->next)
        pthread_mutex_unlock(&m->mu);
    pthread_mutex_unlock(&providers_mu);
}

/* The child starts from zero: what the parent recorded is the parent's to
 * report. Attribute sets stay interned; a set some other thread was
 * interning at the fork is forgotten (its memory leaks). */
static void after_fork_child(void)
{
    uint64_t now = otel_now_ns();
    for (otel_metrics *m = providers; m != NULL; m = m->next) {
        pthread_mutex_init(&m->mu, NULL);
        for (instr *in = m->first; in != NULL; in = in->next) {
            for (unsigned s = 0; s < SHARDS; s++) {
                atomic_store(&in->ph[s].start, 0);
                atomic_store(&in->ph[s].end[0], 0);
                atomic_store(&in->ph[s].end[1], INT64_MIN);
            }
            in->phase = 0;
            size_t n = 0;
            for (size_t i = 0; i <= in->mask; i++) {
                point *p = atomic_load(&in->table[i]);
                if (p != NULL) {
                    point_reset(in, p);
                    n++;
                }
            }
            point_reset(in, in->overflow);
            atomic_store(&in->n_points, n);
            in->start_ns = in->last_delta_ns = now;
        }
    }
    pthread_mutex_init(&providers_mu, NULL);
}

static void install_atfork(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* ---- provider and instruments ------------------------------------------ */

int otel_metrics_new(otel_metrics **out, size_t cardinality_limit)
{
    *out = NULL;
    otel_metrics *m = otel_calloc(1, sizeof(*m));
    if (m == NULL)
        return OTEL_ERR_NOMEM;
    m->card_limit = cardinality_limit > 0 ? cardinality_limit : OTEL_METRICS_CARDINALITY_LIMIT;
    pthread_mutex_init(&m->mu, NULL);
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&providers_mu);
    m->next = providers;
    providers = m;
    pthread_mutex_unlock(&providers_mu);
    *out = m;
    return OTEL_OK;
}

static void instr_free(instr *in)
{
    if (in == NULL)
        return;
    if (in->table != NULL)
        for (size_t i = 0; i <= in->mask; i++)
            point_free(atomic_load(&in->table[i]));
    otel_free(in->table);
    point_free(in->overflow);
    otel_free(in->ph_raw);
    otel_free(in->name);
    otel_free(in->description);
    otel_free(in->unit);
    otel_free(in->bounds);
    otel_free(in);
}

void otel_metrics_del(otel_metrics *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&providers_mu);
    for (otel_metrics **pp = &providers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    pthread_mutex_unlock(&providers_mu);
    instr *in = m->first;
    while (in != NULL) {
        instr *next = in->next;
        instr_free(in);
        in = next;
    }
    otel_free(m->pts);
    otel_free(m->exs);
    pthread_mutex_destroy(&m->mu);
    otel_free(m);
}

/* The API spec's instrument name syntax. */
static bool name_valid(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-' || c == '/';
        if (!ok || n >= 255)
            return false;
    }
    return true;
}

static bool unit_valid(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if ((unsigned char)s[n] > 0x7f || n >= 63)
            return false;
    return true;
}

static bool same(const instr *in, otel_instrument_kind kind, const char *desc, const char *unit,
                 const double *bounds, size_t nb)
{
    return in->kind == kind && strcmp(in->description, desc) == 0 && strcmp(in->unit, unit) == 0 &&
           in->nb == nb && (nb == 0 || memcmp(in->bounds, bounds, nb * sizeof(double)) == 0);
}

static size_t table_slots(size_t cap)
{
    size_t slots = 2;
    while (slots < 2 * cap)
        slots *= 2;
    return slots;
}

static int instr_init(instr *in, otel_metrics *m, otel_instrument_kind kind, const char *name,
                      const char *desc, const char *unit, const double *bounds, size_t nb)
{
    in->m = m;
    in->kind = kind;
    in->nb = nb;
    in->stride = (W_BUCKETS + (kind == OTEL_INSTRUMENT_HISTOGRAM ? nb + 1 : 0) + LINE_WORDS - 1) /
                 LINE_WORDS * LINE_WORDS;
    in->cap = m->card_limit - 1; /* one point is the overflow's */
    in->mask = table_slots(in->cap) - 1;
    in->name = otel_strdup(name);
    in->description = otel_strdup(desc);
    in->unit = otel_strdup(unit);
    if (in->name == NULL || in->description == NULL || in->unit == NULL)
        return OTEL_ERR_NOMEM;
    if (nb > 0) {
        in->bounds = otel_malloc(nb * sizeof(double));
        if (in->bounds == NULL)
            return OTEL_ERR_NOMEM;
        memcpy(in->bounds, bounds, nb * sizeof(double));
    }
    in->table = otel_calloc(in->mask + 1, sizeof(*in->table));
    if (in->table == NULL)
        return OTEL_ERR_NOMEM;
    in->ph = line_alloc(SHARDS * sizeof(phaser), &in->ph_raw);
    if (in->ph == NULL)
        return OTEL_ERR_NOMEM;
    for (unsigned s = 0; s < SHARDS; s++) {
        atomic_init(&in->ph[s].start, 0);
        atomic_init(&in->ph[s].end[0], 0);
        atomic_init(&in->ph[s].end[1], INT64_MIN);
    }
    int rc;
    in->overflow = point_new(in, overflow_kv, 1, 0, &rc);
    if (in->overflow == NULL)
        return rc;
    in->start_ns = in->last_delta_ns = otel_now_ns();
    return OTEL_OK;
}

static int instrument_new(otel_metrics *m, instr **out, size_t size, otel_instrument_kind kind,
                          const char *name, const char *desc, const char *unit,
                          const double *bounds, size_t nb)
{
    *out = NULL;
    desc = desc != NULL ? desc : "";
    unit = unit != NULL ? unit : "";
    if (m == NULL || !name_valid(name) || !unit_valid(unit))
        return OTEL_ERR_INVALID;
    if (kind == OTEL_INSTRUMENT_HISTOGRAM) {
        if (bounds == NULL && nb == 0)
            bounds = otel_http_duration_boundaries(&nb);
        if (nb > OTEL_HISTOGRAM_MAX_BOUNDARIES || (nb > 0 && bounds == NULL))
            return OTEL_ERR_INVALID;
        for (size_t i = 0; i < nb; i++)
            if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
                return OTEL_ERR_INVALID;
    }
    pthread_mutex_lock(&m->mu);
    int rc = OTEL_OK;
    for (instr *in = m->first; in != NULL; in = in->next) {
        if (strcasecmp(in->name, name) == 0) {
            if (same(in, kind, desc, unit, bounds, nb))
                *out = in;
            else
                rc = OTEL_ERR_STATE;
            pthread_mutex_unlock(&m->mu);
            return rc;
        }
    }
    instr *in = otel_calloc(1, size);
    rc = in == NULL ? OTEL_ERR_NOMEM : instr_init(in, m, kind, name, desc, unit, bounds, nb);
    if (rc != OTEL_OK) {
        instr_free(in);
    } else {
        if (m->last != NULL)
            m->last->next = in;
        else
            m->first = in;
        m->last = in;
        *out = in;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int otel_counter_new(otel_metrics *m, otel_counter **out, const char *name, const char *description,
                     const char *unit)
{
    instr *in;
    int rc = instrument_new(m, &in, sizeof(otel_counter), OTEL_INSTRUMENT_COUNTER, name,
                            description, unit, NULL, 0);
    *out = (otel_counter *)(void *)in;
    return rc;
}

int otel_updown_counter_new(otel_metrics *m, otel_updown_counter **out, const char *name,
                            const char *description, const char *unit)
{
    instr *in;
    int rc = instrument_new(m, &in, sizeof(otel_updown_counter), OTEL_INSTRUMENT_UPDOWN_COUNTER,
                            name, description, unit, NULL, 0);
    *out = (otel_updown_counter *)(void *)in;
    return rc;
}

int otel_histogram_new(otel_metrics *m, otel_histogram **out, const char *name,
                       const char *description, const char *unit, const double *boundaries,
                       size_t n_boundaries)
{
    instr *in;
    int rc = instrument_new(m, &in, sizeof(otel_histogram), OTEL_INSTRUMENT_HISTOGRAM, name,
                            description, unit, boundaries, n_boundaries);
    *out = (otel_histogram *)(void *)in;
    return rc;
}
