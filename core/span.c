/* span.c - spans: start, attributes, events, status, end; and the calling
 * thread's current span. */
#include "span_int.h"

#include "copy.h"
#include "ids.h"
#include "tracer_int.h"
#include "utf8.h"

#include <string.h>

OTEL_TLS otel_span *otel_tls_span;

/* ---- UTF-8-safe copies into the span's arena ---------------------------- */

/* Copy len bytes of src into the arena as valid UTF-8, at most max bytes,
 * NUL-terminated (see utf8_clean). Returns the copy (valid until the span is
 * released) and its length in *out_len, or NULL when the arena is full. */
static inline __attribute__((always_inline)) const char *
arena_copy(otel_span *s, const char *src, size_t len, size_t max, uint32_t *out_len)
{
    size_t room = OTEL_SPAN_ARENA - s->arena_used;
    if (room == 0)
        return NULL;
    room--; /* the NUL */
    if (max > room) {
        /* Better to cut a long value than to lose it, but not to keep
         * a stub of a few bytes. */
        if (len > room && room < 16)
            return NULL;
        max = room;
    }
    char *dst = s->arena + s->arena_used;
    size_t o = otel_utf8_clean(dst, src, len, max);
    dst[o] = '\0';
    s->arena_used += (uint32_t)(o + 1);
    if (out_len != NULL)
        *out_len = (uint32_t)o;
    return dst;
}

static const char *arena_str(otel_span *s, const char *str)
{
    if (str == NULL)
        str = "";
    return arena_copy(s, str, strlen(str), OTEL_SPAN_ARENA, NULL);
}

/* Keys longer than this are dropped: a key is stored whole or not at all. */
#define KEY_MAX 255
#define KEY_BUF (KEY_MAX * 3)

/* key as it is stored: itself when plain ASCII, else a valid UTF-8 copy in
 * buf (KEY_BUF bytes). NULL for a key that is empty or over KEY_MAX. */
static const char *clean_key(const char *key, char *buf, size_t *len)
{
    size_t n = key ? strnlen(key, KEY_MAX + 1) : 0;
    if (n == 0 || n > KEY_MAX)
        return NULL;
    *len = n;
    if (otel_utf8_ascii_all((const unsigned char *)key, n))
        return key;
    *len = otel_utf8_clean(buf, key, n, KEY_BUF);
    return buf;
}

/* Copy a clean key into the arena, whole, and into a. */
static bool store_key(otel_span *s, otel_attr *a, const char *key, size_t key_len)
{
    if (key_len + 1 > OTEL_SPAN_ARENA - s->arena_used)
        return false;
    char *dst = s->arena + s->arena_used;
    otel_copy_small(dst, key, key_len);
    dst[key_len] = '\0';
    s->arena_used += (uint32_t)(key_len + 1);
    a->key = dst;
    a->key_len = (uint16_t)key_len;
    return true;
}

/* Keep the key copied to the arena's free end (key_len bytes, room for its
 * NUL checked) as a's key. */
static inline bool keep_arena_key(otel_span *s, otel_attr *a, char *key, size_t key_len)
{
    key[key_len] = '\0';
    s->arena_used += (uint32_t)(key_len + 1);
    a->key = key;
    a->key_len = (uint16_t)key_len;
    return true;
}

/* ---- attributes --------------------------------------------------------- */

static otel_attr *find_attr(otel_span *s, const char *key, size_t key_len)
{
    if ((s->key_lens & (UINT64_C(1) << (key_len & 63))) == 0)
        return NULL; /* no key of this length */
    for (uint16_t i = 0; i < s->d.n_attrs; i++) {
        otel_attr *a = &s->d.attrs[i];
        if (a->key_len == key_len && memcmp(a->key, key, key_len) == 0)
            return a;
    }
    return NULL;
}

/* Copy n strings into the arena back to back as a's array value. */
static bool store_array(otel_span *s, otel_attr *a, const char *const *v, size_t n)
{
    if (n > 0 && v == NULL)
        return false;
    uint32_t start = s->arena_used;
    a->v.s.ptr = s->arena + start;
    for (size_t i = 0; i < n; i++) {
        const char *e = v[i] != NULL ? v[i] : "";
        if (arena_copy(s, e, strlen(e), s->value_max, NULL) == NULL)
            return false;
    }
    a->v.s.len = s->arena_used - start;
    a->v.s.n = (uint32_t)n;
    return true;
}

/* A string value (slen bytes at sval) into a, copied into the arena.
 * Returns false when it did not fit. */
static inline bool store_str(otel_span *s, otel_attr *a, const char *sval, size_t slen)
{
    a->type = OTEL_ATTR_STRING;
    a->v.s.ptr = arena_copy(s, sval, slen, s->value_max, &a->v.s.len);
    return a->v.s.ptr != NULL;
}

/* Store kv's typed value into a. Returns false when it did not fit. */
static bool store_value(otel_span *s, otel_attr *a, const otel_kv *kv)
{
    a->type = kv->type;
    switch (a->type) {
    case OTEL_ATTR_STRING: {
        const char *v = kv->v.s ? kv->v.s : "";
        return store_str(s, a, v, strlen(v));
    }
    case OTEL_ATTR_BOOL:
        a->v.b = kv->v.b;
        return true;
    case OTEL_ATTR_INT:
        a->v.i = kv->v.i;
        return true;
    case OTEL_ATTR_DOUBLE:
        a->v.d = kv->v.d;
        return true;
    case OTEL_ATTR_STRING_ARRAY:
        return store_array(s, a, kv->v.sa.v, kv->v.sa.n);
    }
    return false;
}

/* Store kv (key and value) into the free slot a. Returns false when the key
 * is unusable or did not fit; the caller rolls the arena back. */
static bool store_attr(otel_span *s, otel_attr *a, const otel_kv *kv)
{
    char buf[KEY_BUF];
    size_t key_len;
    const char *key = clean_key(kv->key, buf, &key_len);
    return key != NULL && store_key(s, a, key, key_len) && store_value(s, a, kv);
}

static void set_attr_n(otel_span *s, const otel_kv *kv, const char *sval, size_t slen)
{
    if (s == NULL || !s->recording || kv->key == NULL || kv->key[0] == '\0')
        return;
    char buf[KEY_BUF];
    size_t key_len = strlen(kv->key); /* over KEY_MAX: clean_key drops it */
    /* A short plain key, what most are, is checked and copied into the
     * arena in one step; the copy is kept there only for a new key. */
    char *arena_key = s->arena + s->arena_used;
    bool in_arena = key_len <= 16 && key_len < OTEL_SPAN_ARENA - s->arena_used &&
                    otel_utf8_ascii_copy16(arena_key, kv->key, key_len);
    const char *key = in_arena ? arena_key : clean_key(kv->key, buf, &key_len);
    if (key == NULL) { /* longer than KEY_MAX */
        s->d.dropped_attrs++;
        return;
    }
    otel_attr *a = find_attr(s, key, key_len);
    bool new_key = a == NULL;
    if (new_key) {
        if (s->d.n_attrs == OTEL_SPAN_MAX_ATTRS) {
            s->d.dropped_attrs++;
            return;
        }
        a = &s->d.attrs[s->d.n_attrs];
    }
    uint32_t mark = s->arena_used;
    bool stored = !new_key || (in_arena ? keep_arena_key(s, a, arena_key, key_len)
                                        : store_key(s, a, key, key_len));
    if (!stored || !(sval != NULL ? store_str(s, a, sval, slen) : store_value(s, a, kv))) {
        s->arena_used = mark;
        if (!new_key) /* the old value is gone: remove the key */
            *a = s->d.attrs[--s->d.n_attrs];
        s->d.dropped_attrs++;
        return;
    }
    if (new_key) {
        otel_span_key_seen(s, key_len);
        s->d.n_attrs++;
    }
}

void otel_span_set_attr(otel_span *span, const otel_kv *kv)
{
    if (kv != NULL)
        set_attr_n(span, kv, NULL, 0);
}

/* What most string attributes a handler sets are: a new short plain key
 * (kl bytes, 1 to 16, no NUL: a strlen's) with a short plain value (vl
 * bytes, at most 16; value_nul: it may hold a NUL) on a span with room for
 * both. Stores the pair in one pass and returns true; false, with nothing
 * stored, for anything else (set_attr_n's case). */
static inline __attribute__((always_inline)) bool set_short_str(otel_span *s, const char *key,
                                                                size_t kl, const char *value,
                                                                size_t vl, bool value_nul)
{
    uint64_t bit = UINT64_C(1) << (kl & 63);
    if (kl - 1 >= 16 || vl > 16 || vl > s->value_max || (s->key_lens & bit) != 0 ||
        s->d.n_attrs == OTEL_SPAN_MAX_ATTRS || kl + vl + 2 > OTEL_SPAN_ARENA - s->arena_used)
        return false;
    char *k = s->arena + s->arena_used, *v = k + kl + 1;
    if (!otel_utf8_ascii_copy16_nonul(k, key, kl) ||
        !(value_nul ? otel_utf8_ascii_copy16(v, value, vl)
                    : otel_utf8_ascii_copy16_nonul(v, value, vl)))
        return false;
    k[kl] = '\0';
    v[vl] = '\0';
    s->arena_used += (uint32_t)(kl + vl + 2);
    s->key_lens |= bit;
    otel_attr *a = &s->d.attrs[s->d.n_attrs++];
    a->key = k;
    a->key_len = (uint16_t)kl;
    a->type = OTEL_ATTR_STRING;
    a->v.s.ptr = v;
    a->v.s.len = (uint32_t)vl;
    return true;
}

/* A recording span's string attribute (value NULL: ""; value_nul: its len
 * bytes may hold a NUL). */
static inline __attribute__((always_inline)) void
set_str(otel_span *s, const char *key, const char *value, size_t len, bool value_nul)
{
    if (key == NULL || set_short_str(s, key, strlen(key), value, len, value_nul))
        return;
    otel_kv kv = OTEL_KV_STR(key, value);
    set_attr_n(s, &kv, value, len);
}

void otel_span_set_attr_strn(otel_span *span, const char *key, const char *value, size_t len)
{
    if (span != NULL && span->recording)
        set_str(span, key, value ? value : "", value ? len : 0, true);
}

void otel_span_set_attr_str(otel_span *span, const char *key, const char *value)
{
    if (span != NULL && span->recording)
        set_str(span, key, value ? value : "", value ? strlen(value) : 0, false);
}

void otel_span_set_attr_bool(otel_span *span, const char *key, bool value)
{
    otel_kv kv = OTEL_KV_BOOL(key, value);
    set_attr_n(span, &kv, NULL, 0);
}

void otel_span_set_attr_int(otel_span *span, const char *key, int64_t value)
{
    otel_kv kv = OTEL_KV_INT(key, value);
    set_attr_n(span, &kv, NULL, 0);
}

void otel_span_set_attr_double(otel_span *span, const char *key, double value)
{
    otel_kv kv = OTEL_KV_DOUBLE(key, value);
    set_attr_n(span, &kv, NULL, 0);
}

void otel_span_set_attr_str_array(otel_span *span, const char *key, const char *const *values,
                                  size_t n)
{
    otel_kv kv = OTEL_KV_STR_ARRAY(key, values, n);
    set_attr_n(span, &kv, NULL, 0);
}

void otel_span_add_attr_strn_sk_any(otel_span *span, const char *key, uint16_t key_len,
                                    const char *value, size_t len)
{
    if (span == NULL || !span->recording)
        return;
    if (span->d.n_attrs == OTEL_SPAN_MAX_ATTRS) {
        span->d.dropped_attrs++;
        return;
    }
    otel_attr *a = &span->d.attrs[span->d.n_attrs];
    a->v.s.ptr = arena_copy(span, value, len, span->value_max, &a->v.s.len);
    if (a->v.s.ptr == NULL) {
        span->d.dropped_attrs++;
        return;
    }
    otel_span_set_sk(span, a, key, key_len, OTEL_ATTR_STRING);
    span->d.n_attrs++;
}

void otel_span_add_attr_lit_sk_any(otel_span *span, const char *key, uint16_t key_len,
                                   const char *value, size_t len)
{
    if (span == NULL || !span->recording)
        return;
    if (len <= span->value_max && span->d.n_attrs < OTEL_SPAN_MAX_ATTRS) {
        otel_span_add_attr_lit_sk(span, key, key_len, value, len); /* its inline case */
        return;
    }
    /* Over the limit: cut into the arena as the copying adder does; a full
     * span counts it as dropped there too. */
    otel_span_add_attr_strn_sk_any(span, key, key_len, value, len);
}

void otel_span_drop_repeated_attrs(otel_span *span, uint16_t first)
{
    if (span == NULL || first == 0)
        return;
    uint16_t n = first;
    for (uint16_t i = first; i < span->d.n_attrs; i++) {
        const otel_attr *a = &span->d.attrs[i];
        bool repeated = false;
        for (uint16_t j = 0; j < first && !repeated; j++)
            repeated = span->d.attrs[j].key_len == a->key_len &&
                       memcmp(span->d.attrs[j].key, a->key, a->key_len) == 0;
        if (!repeated)
            span->d.attrs[n++] = *a;
    }
    span->d.n_attrs = n;
}

/* ---- events and status -------------------------------------------------- */

void otel_span_add_event(otel_span *span, const char *name, uint64_t time_ns, const otel_kv *attrs,
                         size_t n_attrs)
{
    if (span == NULL || !span->recording)
        return;
    if (span->d.n_events == OTEL_SPAN_MAX_EVENTS) {
        span->d.dropped_events++;
        return;
    }
    otel_event *e = &span->d.events[span->d.n_events];
    e->name = arena_str(span, name);
    if (e->name == NULL) {
        span->d.dropped_events++;
        return;
    }
    e->time_ns = time_ns ? time_ns : otel_now_ns();
    e->attr_first = span->d.n_ev_attrs;
    e->attr_count = 0;
    e->dropped_attrs = 0;
    for (size_t i = 0; i < n_attrs; i++) {
        if (attrs[i].key == NULL || attrs[i].key[0] == '\0')
            continue;
        uint32_t mark = span->arena_used;
        if (span->d.n_ev_attrs == OTEL_SPAN_MAX_EVENT_ATTRS ||
            !store_attr(span, &span->d.ev_attrs[span->d.n_ev_attrs], &attrs[i])) {
            span->arena_used = mark;
            e->dropped_attrs++;
            continue;
        }
        span->d.n_ev_attrs++;
        e->attr_count++;
    }
    span->d.n_events++;
}

void otel_span_record_exception(otel_span *span, const char *type, const char *message)
{
    otel_kv kv[2];
    size_t n = 0;
    if (type != NULL)
        kv[n++] = OTEL_KV_STR("exception.type", type);
    if (message != NULL)
        kv[n++] = OTEL_KV_STR("exception.message", message);
    otel_span_add_event(span, "exception", 0, kv, n);
}

void otel_span_set_status(otel_span *span, otel_status_code code, const char *message)
{
    if (span == NULL || !span->recording || span->d.status == OTEL_STATUS_OK)
        return;
    if (code == OTEL_STATUS_UNSET || code > OTEL_STATUS_ERROR)
        return;
    /* ERROR without a message keeps the message an earlier ERROR gave. */
    if (code == OTEL_STATUS_ERROR && message == NULL && span->d.status == OTEL_STATUS_ERROR)
        return;
    span->d.status = code;
    span->d.status_message = "";
    if (code == OTEL_STATUS_ERROR && message != NULL) {
        const char *m = arena_str(span, message);
        span->d.status_message = m ? m : "";
    }
}

void otel_span_add_link(otel_span *span, const otel_span_context *ctx, const char *tracestate)
{
    if (span == NULL || !span->recording || ctx == NULL || !otel_span_context_is_valid(ctx))
        return;
    if (span->d.n_links == OTEL_SPAN_MAX_LINKS) {
        span->d.dropped_links++;
        return;
    }
    otel_link *l = &span->d.links[span->d.n_links];
    const char *ts = tracestate != NULL ? tracestate : "";
    l->tracestate =
        arena_copy(span, ts, strnlen(ts, OTEL_TRACESTATE_MAX - 1), OTEL_TRACESTATE_MAX - 1, NULL);
    if (l->tracestate == NULL) {
        span->d.dropped_links++;
        return;
    }
    l->ctx = *ctx;
    span->d.n_links++;
}

/* "a b" and its NUL at dst (al + bl + 2 bytes). */
static void join_pair(char *dst, const char *a, size_t al, const char *b, size_t bl)
{
    memcpy(dst, a, al);
    dst[al] = ' ';
    memcpy(dst + al + 1, b, bl);
    dst[al + 1 + bl] = '\0';
}

void otel_span_name_pair(otel_span *span, const char *a, size_t al, const char *b, size_t bl)
{
    if (span == NULL || !span->recording)
        return;
    size_t n = al + 1 + bl;
    if (n > OTEL_SPAN_NAME_PAIR_MAX)
        return;
    if (n < OTEL_SPAN_ARENA - span->arena_used &&
        otel_utf8_ascii_all((const unsigned char *)a, al) &&
        otel_utf8_ascii_all((const unsigned char *)b, bl)) {
        char *dst = span->arena + span->arena_used;
        join_pair(dst, a, al, b, bl);
        span->arena_used += (uint32_t)(n + 1);
        span->d.name = dst;
        return;
    }
    char name[OTEL_SPAN_NAME_PAIR_MAX + 1]; /* not plain, or no room: cleaned as any name */
    join_pair(name, a, al, b, bl);
    otel_span_update_name(span, name);
}

void otel_span_update_name(otel_span *span, const char *name)
{
    if (span == NULL || !span->recording || name == NULL)
        return;
    const char *n = arena_str(span, name);
    if (n != NULL)
        span->d.name = n;
}

/* ---- life cycle --------------------------------------------------------- */

/* The parent for a new span, per options: explicit, else the current span,
 * else none. *local_parent is the current span when it was used. */
static const otel_span_context *pick_parent(const otel_span_options *opt, otel_span **local_parent)
{
    *local_parent = NULL;
    if (opt != NULL && opt->root)
        return NULL;
    if (opt != NULL && opt->parent != NULL)
        return otel_span_context_is_valid(opt->parent) ? opt->parent : NULL;
    if (otel_tls_span != NULL) {
        *local_parent = otel_tls_span;
        return &otel_tls_span->d.ctx;
    }
    return NULL;
}

static void copy_tracestate(otel_span *s, const char *ts)
{
    size_t len = ts ? strnlen(ts, OTEL_TRACESTATE_MAX - 1) : 0;
    memcpy(s->d.tracestate, ts ? ts : "", len);
    s->d.tracestate[len] = '\0';
    s->d.tracestate_len = (uint16_t)len;
}

/* ---- start and end ------------------------------------------------------ */

/* Add to one of the tracer's span counts (NULL: no metrics asked for them;
 * tested here, without the call). */
static inline void count_span(otel_sum_point *pt, int64_t value)
{
    if (pt != NULL)
        otel_sum_point_add(pt, value);
}

otel_span *otel_span_start(otel_tracer *tracer, const char *name, const otel_span_options *opt)
{
    if (tracer == NULL) {
        if (otel_tls_span == NULL)
            return NULL;
        tracer = otel_tls_span->tracer;
    }
    otel_span *local_parent;
    const otel_span_context *parent = pick_parent(opt, &local_parent);
    otel_span *s = otel_span_acquire(tracer);
    if (s == NULL)
        return NULL;
    s->tracer = tracer;
    s->d.resource = tracer->resource;
    if (parent != NULL) {
        memcpy(s->d.ctx.trace_id, parent->trace_id, 16);
        memcpy(s->d.parent_span_id, parent->span_id, 8);
        s->d.has_parent = true;
        s->d.parent_is_remote = parent->is_remote;
    } else {
        s->d.has_parent = false;
        s->d.parent_is_remote = false;
    }
    otel_ids_new(parent != NULL ? NULL : s->d.ctx.trace_id, s->d.ctx.span_id);
    s->d.ctx.is_remote = false;
    s->d.ctx.debug = parent != NULL && parent->debug;
    bool sampled = otel_sampler_should_sample(&tracer->cfg.sampler, parent, s->d.ctx.trace_id);
    s->recording = sampled || tracer->cfg.record_unsampled;
    s->d.ctx.trace_flags = sampled ? OTEL_TRACE_FLAG_SAMPLED : 0;
    s->ended = false;
    s->keep_role = OTEL_KEEP_NONE;
    if (!sampled && s->recording)
        otel_keep_join(s, local_parent);
    unsigned res = sampled        ? OTEL_SAMPLING_RECORD_AND_SAMPLE
                   : s->recording ? OTEL_SAMPLING_RECORD_ONLY
                                  : OTEL_SAMPLING_DROP;
    count_span(tracer->span_started[res][parent == NULL ? 0 : parent->is_remote ? 2 : 1], 1);
    if (s->recording)
        count_span(tracer->span_live[res], 1);
    if (opt != NULL && opt->tracestate != NULL)
        copy_tracestate(s, opt->tracestate);
    else if (local_parent != NULL)
        copy_tracestate(s, local_parent->d.tracestate);
    else
        copy_tracestate(s, NULL);
    if (!s->recording)
        return s;
    s->d.kind = (opt != NULL && opt->kind != 0) ? opt->kind : OTEL_SPAN_KIND_INTERNAL;
    s->d.status = OTEL_STATUS_UNSET;
    s->d.status_message = "";
    s->d.start_ns = (opt != NULL && opt->start_ns != 0) ? opt->start_ns : otel_now_ns();
    s->d.end_ns = 0;
    s->d.n_attrs = s->d.n_events = s->d.n_ev_attrs = 0;
    s->d.dropped_attrs = s->d.dropped_events = 0;
    s->d.n_links = 0;
    s->d.dropped_links = 0;
    s->arena_used = 0;
    s->key_lens = 0;
    size_t vmax = tracer->cfg.attr_value_max_len;
    s->value_max = vmax < UINT32_MAX ? (uint32_t)vmax : UINT32_MAX;
    s->d.name = name == NULL || name[0] == '\0' ? NULL : arena_str(s, name); /* no copy of "" */
    if (s->d.name == NULL)
        s->d.name = "";
    return s;
}

otel_span *otel_span_start_child(const char *name, otel_span_kind kind)
{
    otel_span_options opt = {.kind = kind};
    return otel_span_start(NULL, name, &opt);
}

void otel_span_end_at(otel_span *span, uint64_t end_ns)
{
    if (span == NULL || span->ended)
        return;
    span->ended = true;
    if (otel_tls_span == span)
        otel_tls_span = NULL;
    if (!span->recording) {
        otel_span_release(span->tracer, span);
        return;
    }
    span->d.end_ns = end_ns ? end_ns : otel_now_ns();
    if (span->d.end_ns < span->d.start_ns)
        span->d.end_ns = span->d.start_ns;
    count_span(span->tracer->span_live[(span->d.ctx.trace_flags & OTEL_TRACE_FLAG_SAMPLED)
                                           ? OTEL_SAMPLING_RECORD_AND_SAMPLE
                                           : OTEL_SAMPLING_RECORD_ONLY],
               -1);
    if (span->keep_role != OTEL_KEEP_NONE)
        otel_keep_end(span);
    else
        otel_processor_on_end(span->tracer->processor, span);
}

void otel_span_end(otel_span *span)
{
    otel_span_end_at(span, 0);
}

bool otel_span_is_recording(const otel_span *span)
{
    return otel_span_records(span);
}

bool otel_span_is_sampled(const otel_span *span)
{
    return otel_span_sampled(span);
}

otel_span_context otel_span_get_context(const otel_span *span)
{
    otel_span_context zero = {0};
    return span ? span->d.ctx : zero;
}

size_t otel_span_get_tracestate(const otel_span *span, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t len = span ? span->d.tracestate_len : 0;
    if (len >= cap)
        len = cap - 1;
    if (len > 0)
        memcpy(out, span->d.tracestate, len);
    out[len] = '\0';
    return len;
}

const char *otel_span_kind_name(otel_span_kind kind)
{
    static const char *const names[] = {"internal", "internal", "server",
                                        "client",   "producer", "consumer"};
    return (unsigned)kind <= OTEL_SPAN_KIND_CONSUMER ? names[kind] : "internal";
}

const char *otel_status_code_name(otel_status_code code)
{
    static const char *const names[] = {"unset", "ok", "error"};
    return (unsigned)code <= OTEL_STATUS_ERROR ? names[code] : "unset";
}

/* ---- current span ------------------------------------------------------- */

otel_span *otel_span_current(void)
{
    return otel_tls_span;
}

otel_span *otel_context_attach(otel_span *span)
{
    return otel_context_swap(span);
}

void otel_context_detach(otel_span *previous)
{
    otel_tls_span = previous;
}

const char *otel_attr_array_next(const otel_attr *a, const char **pos, size_t *len)
{
    const char *end = a->v.s.ptr + a->v.s.len;
    const char *p = *pos == NULL ? a->v.s.ptr : *pos + strlen(*pos) + 1;
    if (a->v.s.n == 0 || p >= end)
        return NULL;
    *pos = p;
    *len = strlen(p);
    return p;
}
