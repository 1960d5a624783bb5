/* view_store.c - the spans "mhd-otel view" has read, grouped into traces: a hash table by trace
 * id, a list in creation order, the service names interned. */
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define STORE_BUCKETS0 64

typedef struct store_name store_name;
struct store_name {
    store_name *next;
    char text[]; /* NUL-terminated */
};

struct mhd_otel_tool_store {
    mhd_otel_tool_trace **buckets;
    size_t nbuckets, ntraces, max_traces;
    mhd_otel_tool_trace *head, *tail; /* creation order */
    store_name **names;               /* interned service names */
    size_t nnames, nnbuckets;
    size_t spans, seq, trace_seq;
    bool keep_all;
    const char *const *keys;
    size_t n_keys;
    mhd_otel_tool_evict_fn evict;
    void *ud;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* A copy of s with every control byte as '?'. */
static char *clean_dup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        d[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    d[n] = '\0';
    return d;
}

mhd_otel_tool_store *mhd_otel_tool_store_new(bool keep_all, const char *const *keys, size_t n_keys,
                                             size_t max_traces, mhd_otel_tool_evict_fn evict,
                                             void *ud)
{
    mhd_otel_tool_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->buckets = calloc(STORE_BUCKETS0, sizeof(*s->buckets));
    s->names = calloc(STORE_BUCKETS0, sizeof(*s->names));
    if (s->buckets == NULL || s->names == NULL) {
        mhd_otel_tool_store_del(s);
        return NULL;
    }
    s->nbuckets = s->nnbuckets = STORE_BUCKETS0;
    s->keep_all = keep_all;
    s->keys = keys;
    s->n_keys = n_keys;
    s->max_traces = max_traces;
    s->evict = evict;
    s->ud = ud;
    return s;
}

void mhd_otel_tool_trace_del(mhd_otel_tool_trace *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        mhd_otel_tool_span *sp = &t->spans[i];
        for (size_t k = 0; k < sp->n_attrs; k++) {
            free(sp->attrs[k].key);
            free(sp->attrs[k].value);
        }
        free(sp->attrs);
        free(sp->name);
    }
    free(t->spans);
    free(t);
}

void mhd_otel_tool_store_del(mhd_otel_tool_store *s)
{
    if (s == NULL)
        return;
    for (mhd_otel_tool_trace *t = s->head, *next; t != NULL; t = next) {
        next = t->next;
        mhd_otel_tool_trace_del(t);
    }
    for (size_t i = 0; s->names != NULL && i < s->nnbuckets; i++) {
        for (store_name *n = s->names[i], *next; n != NULL; n = next) {
            next = n->next;
            free(n);
        }
    }
    free(s->names);
    free(s->buckets);
    free(s);
}

bool mhd_otel_tool_store_wants(const mhd_otel_tool_store *s, const char *key)
{
    if (s->keep_all)
        return true;
    for (size_t i = 0; i < s->n_keys; i++)
        if (strcmp(s->keys[i], key) == 0)
            return true;
    return false;
}

size_t mhd_otel_tool_store_spans(const mhd_otel_tool_store *s)
{
    return s->spans;
}

size_t mhd_otel_tool_store_traces(const mhd_otel_tool_store *s)
{
    return s->ntraces;
}

/* The interned copy of name (cleaned of control bytes), NULL when memory runs out. Names live as
 * long as the store. */
static const char *intern(mhd_otel_tool_store *s, const char *name)
{
    size_t len = strlen(name);
    bool clean = true;
    for (size_t i = 0; i < len && clean; i++)
        clean = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
    char *tmp = clean ? NULL : clean_dup(name);
    if (!clean && tmp == NULL)
        return NULL;
    const char *key = clean ? name : tmp;
    size_t b = (size_t)(str_hash(key) & (s->nnbuckets - 1));
    store_name *n = s->names[b];
    while (n != NULL && strcmp(n->text, key) != 0)
        n = n->next;
    if (n == NULL && (n = malloc(sizeof(*n) + len + 1)) != NULL) {
        memcpy(n->text, key, len + 1);
        n->next = s->names[b];
        s->names[b] = n;
        s->nnames++;
    }
    free(tmp);
    return n != NULL ? n->text : NULL;
}

static size_t bucket_of(const mhd_otel_tool_store *s, uint64_t hi, uint64_t lo)
{
    return (size_t)(mix(hi ^ mix(lo)) & (s->nbuckets - 1));
}

static void grow_buckets(mhd_otel_tool_store *s)
{
    size_t nb = s->nbuckets * 2;
    mhd_otel_tool_trace **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return; /* longer chains, still correct */
    mhd_otel_tool_trace **old = s->buckets;
    size_t on = s->nbuckets;
    s->buckets = b;
    s->nbuckets = nb;
    for (size_t i = 0; i < on; i++) {
        for (mhd_otel_tool_trace *t = old[i], *next; t != NULL; t = next) {
            next = t->hnext;
            size_t k = bucket_of(s, t->hi, t->lo);
            t->hnext = b[k];
            b[k] = t;
        }
    }
    free(old);
}

/* Take t out of the hash table and the list. */
static void unlink_trace(mhd_otel_tool_store *s, mhd_otel_tool_trace *t)
{
    mhd_otel_tool_trace **pp = &s->buckets[bucket_of(s, t->hi, t->lo)];
    while (*pp != NULL && *pp != t)
        pp = &(*pp)->hnext;
    if (*pp == t)
        *pp = t->hnext;
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        s->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        s->tail = t->prev;
    t->prev = t->next = t->hnext = NULL;
    s->ntraces--;
}

/* The trace of id hi:lo, created (at the end of the list) when new; NULL when memory runs out. */
static mhd_otel_tool_trace *trace_get(mhd_otel_tool_store *s, uint64_t hi, uint64_t lo)
{
    size_t b = bucket_of(s, hi, lo);
    for (mhd_otel_tool_trace *t = s->buckets[b]; t != NULL; t = t->hnext)
        if (t->hi == hi && t->lo == lo)
            return t;
    mhd_otel_tool_trace *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->hi = hi;
    t->lo = lo;
    t->start = UINT64_MAX;
    t->seq = s->trace_seq++;
    t->hnext = s->buckets[b];
    s->buckets[b] = t;
    t->prev = s->tail;
    if (s->tail != NULL)
        s->tail->next = t;
    else
        s->head = t;
    s->tail = t;
    if (++s->ntraces > s->nbuckets)
        grow_buckets(s);
    return t;
}

/* Let go of the oldest traces beyond the limit, except keep. */
static void evict_over(mhd_otel_tool_store *s, const mhd_otel_tool_trace *keep)
{
    while (s->max_traces != 0 && s->ntraces > s->max_traces && s->head != NULL) {
        mhd_otel_tool_trace *t = s->head != keep ? s->head : s->head->next;
        if (t == NULL)
            return;
        unlink_trace(s, t);
        if (s->evict != NULL)
            s->evict(s->ud, t);
        mhd_otel_tool_trace_del(t);
    }
}

mhd_otel_tool_span *mhd_otel_tool_store_add(mhd_otel_tool_store *s, const mhd_otel_tool_span_in *in,
                                            uint64_t now_ms)
{
    const char *service = intern(s, in->service != NULL ? in->service : "");
    char *name = clean_dup(in->name != NULL ? in->name : "");
    mhd_otel_tool_trace *t = service != NULL && name != NULL ? trace_get(s, in->hi, in->lo) : NULL;
    if (t != NULL && t->n == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 4;
        mhd_otel_tool_span *v = realloc(t->spans, cap * sizeof(*v));
        if (v == NULL)
            t = NULL;
        else {
            t->spans = v;
            t->cap = cap;
        }
    }
    if (t == NULL) {
        free(name);
        return NULL;
    }
    mhd_otel_tool_span *sp = &t->spans[t->n++];
    memset(sp, 0, sizeof(*sp));
    sp->span_id = in->span_id;
    sp->parent_id = in->parent_id;
    sp->start = in->start;
    sp->end = in->end >= in->start ? in->end : in->start;
    sp->service = service;
    sp->name = name;
    sp->error = in->error;
    sp->seq = s->seq++;
    if (sp->start < t->start)
        t->start = sp->start;
    if (sp->end > t->end)
        t->end = sp->end;
    t->has_root = t->has_root || sp->parent_id == 0;
    t->has_error = t->has_error || sp->error;
    t->last_ms = now_ms;
    s->spans++;
    evict_over(s, t);
    return sp;
}

int mhd_otel_tool_store_attr(mhd_otel_tool_span *sp, const char *key, const char *value)
{
    mhd_otel_tool_attr *v = realloc(sp->attrs, (sp->n_attrs + 1) * sizeof(*v));
    if (v == NULL)
        return -1;
    sp->attrs = v;
    char *k = clean_dup(key), *val = clean_dup(value);
    if (k == NULL || val == NULL) {
        free(k);
        free(val);
        return -1;
    }
    v[sp->n_attrs].key = k;
    v[sp->n_attrs].value = val;
    sp->n_attrs++;
    return 0;
}

int mhd_otel_tool_store_take(mhd_otel_tool_store *s, uint64_t now_ms, uint64_t settle_ms, bool all,
                             mhd_otel_tool_trace ***out, size_t *n)
{
    size_t k = 0;
    *out = NULL;
    *n = 0;
    for (mhd_otel_tool_trace *t = s->head; t != NULL; t = t->next)
        if (all || (t->has_root && now_ms >= t->last_ms + settle_ms))
            k++;
    if (k == 0)
        return 0;
    mhd_otel_tool_trace **v = malloc(k * sizeof(*v));
    if (v == NULL)
        return -1;
    k = 0;
    for (mhd_otel_tool_trace *t = s->head, *next; t != NULL; t = next) {
        next = t->next;
        if (all || (t->has_root && now_ms >= t->last_ms + settle_ms)) {
            unlink_trace(s, t);
            v[k++] = t;
        }
    }
    *out = v;
    *n = k;
    return 0;
}
