/* test_span.c - unit tests for core/span.c (start, attributes, events,
 * status, end, current span), through a real tracer and a capturing
 * exporter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../core/alloc.h"
#include <mhd-otel/otel.h>
#include "../../core/span_int.h"
#include "../../core/tracer_int.h"
#include "../../core/test_hooks.h"

#define MAX_CAPTURED 64
#define SEC 1000000000ULL
#define FFFD "\xef\xbf\xbd"

/* Spans are released after export: the exporter keeps deep copies, with
 * the pointers into the arena moved into the copy's arena. */
typedef struct capture {
    otel_span spans[MAX_CAPTURED];
    size_t n;
    size_t calls;
    size_t shutdowns;
} capture;

static capture cap;
static otel_tracer *cur_t;
static uint64_t fake_now;

static const char *relocate(const char *p, const otel_span *from, otel_span *to)
{
    if (p != NULL && p >= from->arena && p < from->arena + OTEL_SPAN_ARENA)
        return to->arena + (p - from->arena);
    return p; /* a static "" */
}

static void copy_attrs(otel_attr *dst, const otel_attr *src, size_t n, const otel_span *from,
                       otel_span *to)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        dst[i].key = relocate(src[i].key, from, to);
        if (src[i].type == OTEL_ATTR_STRING || src[i].type == OTEL_ATTR_STRING_ARRAY)
            dst[i].v.s.ptr = relocate(src[i].v.s.ptr, from, to);
    }
}

static int capture_export(void *user_data, const otel_span_data *const *spans, size_t n,
                          uint64_t deadline_ns)
{
    (void)deadline_ns;
    capture *c = user_data;
    c->calls++;
    for (size_t i = 0; i < n && c->n < MAX_CAPTURED; i++) {
        const otel_span *from = otel_span_of(spans[i]);
        otel_span *to = &c->spans[c->n++];
        *to = *from;
        to->d.name = relocate(from->d.name, from, to);
        to->d.status_message = relocate(from->d.status_message, from, to);
        copy_attrs(to->d.attrs, from->d.attrs, from->d.n_attrs, from, to);
        copy_attrs(to->d.ev_attrs, from->d.ev_attrs, from->d.n_ev_attrs, from, to);
        for (uint16_t e = 0; e < from->d.n_events; e++)
            to->d.events[e].name = relocate(from->d.events[e].name, from, to);
        for (uint16_t k = 0; k < from->d.n_links; k++)
            to->d.links[k].tracestate = relocate(from->d.links[k].tracestate, from, to);
    }
    return OTEL_OK;
}

static int capture_shutdown(void *user_data, uint64_t deadline_ns)
{
    (void)deadline_ns;
    ((capture *)user_data)->shutdowns++;
    return OTEL_OK;
}

/* A new exporter delivering to cap. */
static otel_exporter *capture_exporter(void)
{
    otel_exporter *e = NULL;
    assert_int_equal(otel_exporter_new(&e, "capture", capture_export, &cap), OTEL_OK);
    otel_exporter_set_shutdown(e, capture_shutdown);
    return e;
}

static uint64_t fake_clock(void *user_data)
{
    (void)user_data;
    return fake_now;
}

static int setup(void **state)
{
    (void)state;
    memset(&cap, 0, sizeof(cap));
    cur_t = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    otel_context_detach(NULL);
    otel_clock_set(NULL, NULL);
    otel_tracer_del(cur_t);
    cur_t = NULL;
    return 0;
}

/* A tracer (worker not started: flushes export in the caller's thread)
 * delivering to cap. */
static otel_tracer *tracer_with(otel_sampler_kind kind, size_t attr_value_max_len)
{
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    assert_int_equal(otel_sampler_init(&cfg.sampler, kind, 1.0), OTEL_OK);
    cfg.attr_value_max_len = attr_value_max_len;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "test-span"), OTEL_OK);
    assert_int_equal(otel_tracer_new(&cur_t, &cfg, r), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(cur_t, capture_exporter()), OTEL_OK);
    return cur_t;
}

static otel_tracer *tracer(void)
{
    return tracer_with(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1024);
}

static void flush(void)
{
    assert_int_equal(otel_tracer_force_flush(cur_t, 2 * SEC), OTEL_OK);
}

static const otel_span_data *captured(const char *name)
{
    for (size_t i = 0; i < cap.n; i++)
        if (strcmp(cap.spans[i].d.name, name) == 0)
            return &cap.spans[i].d;
    fail_msg("span %s was not exported", name);
    return NULL;
}

static const otel_attr *find_attr(const otel_attr *attrs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(attrs[i].key, key) == 0)
            return &attrs[i];
    return NULL;
}

static const otel_attr *attr(const otel_span_data *s, const char *key)
{
    return find_attr(s->attrs, s->n_attrs, key);
}

/* The string attribute key of s, checked to be NUL-terminated at its len. */
static const char *str_attr(const otel_span_data *s, const char *key)
{
    const otel_attr *a = attr(s, key);
    assert_non_null(a);
    assert_int_equal(a->type, OTEL_ATTR_STRING);
    assert_int_equal(strlen(a->v.s.ptr), a->v.s.len);
    return a->v.s.ptr;
}

/* ---- start and end ------------------------------------------------------ */

static void test_otel_span_start_end_times(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_clock_set(fake_clock, NULL);
    fake_now = 1000;
    otel_span *a = otel_span_start(t, "a", NULL);
    fake_now = 5000;
    otel_span_end(a);

    otel_span_options opt = {.start_ns = 700};
    otel_span *b = otel_span_start(t, "b", &opt);
    otel_span_end_at(b, 900);

    fake_now = 2000;
    otel_span *c = otel_span_start(t, "c", NULL);
    otel_span_end_at(c, 1500); /* before the start: clamped */
    flush();

    assert_int_equal(cap.n, 3);
    assert_int_equal(captured("a")->start_ns, 1000);
    assert_int_equal(captured("a")->end_ns, 5000);
    assert_int_equal(captured("b")->start_ns, 700);
    assert_int_equal(captured("b")->end_ns, 900);
    assert_int_equal(captured("c")->start_ns, 2000);
    assert_int_equal(captured("c")->end_ns, 2000);
}

static void test_otel_span_start_kinds(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    const char *names[] = {"k0", "k1", "k2", "k3", "k4", "k5"};
    for (int k = 0; k <= 5; k++) {
        otel_span_options opt = {.kind = (otel_span_kind)k};
        otel_span_end(otel_span_start(t, names[k], &opt));
    }
    otel_span_end(otel_span_start(t, "noopt", NULL));
    flush();
    assert_int_equal(cap.n, 7);
    assert_int_equal(captured("k0")->kind, OTEL_SPAN_KIND_INTERNAL);
    assert_int_equal(captured("k1")->kind, OTEL_SPAN_KIND_INTERNAL);
    assert_int_equal(captured("k2")->kind, OTEL_SPAN_KIND_SERVER);
    assert_int_equal(captured("k3")->kind, OTEL_SPAN_KIND_CLIENT);
    assert_int_equal(captured("k4")->kind, OTEL_SPAN_KIND_PRODUCER);
    assert_int_equal(captured("k5")->kind, OTEL_SPAN_KIND_CONSUMER);
    assert_int_equal(captured("noopt")->kind, OTEL_SPAN_KIND_INTERNAL);
}

static void test_otel_span_kind_name_all(void **state)
{
    (void)state;
    assert_string_equal(otel_span_kind_name(OTEL_SPAN_KIND_INTERNAL), "internal");
    assert_string_equal(otel_span_kind_name(OTEL_SPAN_KIND_SERVER), "server");
    assert_string_equal(otel_span_kind_name(OTEL_SPAN_KIND_CLIENT), "client");
    assert_string_equal(otel_span_kind_name(OTEL_SPAN_KIND_PRODUCER), "producer");
    assert_string_equal(otel_span_kind_name(OTEL_SPAN_KIND_CONSUMER), "consumer");
    assert_string_equal(otel_span_kind_name((otel_span_kind)0), "internal");
    assert_string_equal(otel_span_kind_name((otel_span_kind)99), "internal");
    assert_string_equal(otel_status_code_name(OTEL_STATUS_UNSET), "unset");
    assert_string_equal(otel_status_code_name(OTEL_STATUS_OK), "ok");
    assert_string_equal(otel_status_code_name(OTEL_STATUS_ERROR), "error");
    assert_string_equal(otel_status_code_name((otel_status_code)7), "unset");
}

static void test_otel_span_start_name(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    char name[] = "GET /users";
    otel_span *s = otel_span_start(t, name, NULL);
    name[0] = 'X'; /* copied at start */
    otel_span_end(s);
    otel_span_end(otel_span_start(t, NULL, NULL));
    flush();
    assert_int_equal(cap.n, 2);
    assert_string_equal(cap.spans[0].d.name, "GET /users");
    assert_string_equal(cap.spans[1].d.name, "");
    assert_int_equal(cap.spans[0].d.status, OTEL_STATUS_UNSET);
    assert_int_equal(cap.spans[0].d.n_attrs, 0);
    assert_int_equal(cap.spans[0].d.n_events, 0);
    assert_false(cap.spans[0].d.has_parent);
}

static void test_otel_span_end_twice(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "once", NULL);
    otel_span_end(s);
    otel_span_end(s);
    otel_span_end_at(s, 12345);
    otel_stats st;
    otel_tracer_stats(t, &st);
    assert_int_equal(st.ended, 1);
    flush();
    assert_int_equal(cap.n, 1);
    otel_tracer_stats(t, &st);
    assert_int_equal(st.exported, 1);
    assert_int_equal(st.ended, 1);
}

static void test_otel_span_end_clears_current(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *a = otel_span_start(t, "a", NULL);
    otel_span *b = otel_span_start(t, "b", NULL);
    assert_null(otel_context_attach(a));
    assert_ptr_equal(otel_span_current(), a);
    otel_span_end(b); /* not current: current unchanged */
    assert_ptr_equal(otel_span_current(), a);
    otel_span_end(a);
    assert_null(otel_span_current());
    assert_null(otel_span_start_child("orphan", OTEL_SPAN_KIND_INTERNAL));
    flush();
    assert_int_equal(cap.n, 2);
}

/* ---- attributes --------------------------------------------------------- */

static void test_otel_span_set_attr_types(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "attrs", NULL);
    char val[] = "hello";
    otel_span_set_attr_str(s, "s", val);
    val[0] = 'X'; /* copied */
    otel_span_set_attr_bool(s, "b", true);
    otel_span_set_attr_int(s, "i", -42);
    otel_span_set_attr_double(s, "d", 3.5);
    otel_span_set_attr_strn(s, "n", "abcdef", 3);
    otel_span_set_attr_str(s, "null", NULL);
    otel_kv kvs[] = {OTEL_KV_STR("kv.s", "x"), OTEL_KV_INT("kv.i", INT64_MIN),
                     OTEL_KV_BOOL("kv.b", false), OTEL_KV_DOUBLE("kv.d", -0.25)};
    for (size_t i = 0; i < 4; i++)
        otel_span_set_attr(s, &kvs[i]);
    /* Ignored: no key. */
    otel_span_set_attr_str(s, NULL, "v");
    otel_span_set_attr_int(s, "", 1);
    otel_span_set_attr(s, NULL);
    otel_span_end(s);
    flush();

    const otel_span_data *c = captured("attrs");
    assert_int_equal(c->n_attrs, 10);
    assert_int_equal(c->dropped_attrs, 0);
    assert_string_equal(str_attr(c, "s"), "hello");
    assert_int_equal(attr(c, "b")->type, OTEL_ATTR_BOOL);
    assert_true(attr(c, "b")->v.b);
    assert_int_equal(attr(c, "i")->type, OTEL_ATTR_INT);
    assert_int_equal(attr(c, "i")->v.i, -42);
    assert_int_equal(attr(c, "d")->type, OTEL_ATTR_DOUBLE);
    assert_true(attr(c, "d")->v.d == 3.5);
    assert_string_equal(str_attr(c, "n"), "abc");
    assert_string_equal(str_attr(c, "null"), "");
    assert_string_equal(str_attr(c, "kv.s"), "x");
    assert_int_equal(attr(c, "kv.i")->type, OTEL_ATTR_INT);
    assert_true(attr(c, "kv.i")->v.i == INT64_MIN);
    assert_int_equal(attr(c, "kv.b")->type, OTEL_ATTR_BOOL);
    assert_false(attr(c, "kv.b")->v.b);
    assert_int_equal(attr(c, "kv.d")->type, OTEL_ATTR_DOUBLE);
    assert_true(attr(c, "kv.d")->v.d == -0.25);
}

/* The elements of string array attribute key of s, joined by '|'. */
static const char *array_attr(const otel_span_data *s, const char *key, char *buf, size_t bufcap)
{
    const otel_attr *a = attr(s, key);
    assert_non_null(a);
    assert_int_equal(a->type, OTEL_ATTR_STRING_ARRAY);
    const char *pos = NULL, *e;
    size_t len, w = 0, n = 0;
    buf[0] = '\0';
    while ((e = otel_attr_array_next(a, &pos, &len)) != NULL) {
        assert_int_equal(strlen(e), len);
        w += (size_t)snprintf(buf + w, bufcap - w, "%s%s", n++ ? "|" : "", e);
        assert_true(w < bufcap);
    }
    assert_int_equal(n, a->v.s.n);
    return buf;
}

/* OpenTelemetry attributes may be homogeneous arrays of strings (the
 * common AnyValue/ArrayValue); the HTTP semantic conventions' captured
 * request headers are such arrays. */
static void test_otel_span_set_attr_str_array(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 4);
    otel_span *s = otel_span_start(t, "arrays", NULL);
    char first[] = "alpha";
    const char *v[] = {first, NULL, "", "b\xc3\xa9ta-long", "\xff"};
    otel_span_set_attr_str_array(s, "a", v, 5);
    first[0] = 'X'; /* copied */
    otel_span_set_attr_str_array(s, "empty", v, 0);
    otel_kv kv = OTEL_KV_STR_ARRAY("kv", v, 1);
    otel_span_set_attr(s, &kv);
    otel_span_add_event(s, "ev", 0, &kv, 1);
    otel_span_set_attr_str_array(s, "bad", NULL, 2); /* no values: dropped */
    otel_span_set_attr_str_array(s, "kv", v + 3, 1); /* replaces */
    otel_span_end(s);
    flush();

    const otel_span_data *c = captured("arrays");
    char buf[256];
    /* Each element cut to attr_value_max_len (4) and cleaned like a string. */
    assert_string_equal(array_attr(c, "a", buf, sizeof buf), "alph|||b\xc3\xa9t|" FFFD);
    assert_string_equal(array_attr(c, "empty", buf, sizeof buf), "");
    assert_string_equal(array_attr(c, "kv", buf, sizeof buf), "b\xc3\xa9t");
    assert_null(attr(c, "bad"));
    assert_int_equal(c->dropped_attrs, 1);
    const otel_attr *ev =
        find_attr(&c->ev_attrs[c->events[0].attr_first], c->events[0].attr_count, "kv");
    assert_non_null(ev);
    assert_int_equal(ev->type, OTEL_ATTR_STRING_ARRAY);
    assert_int_equal(ev->v.s.n, 1);
}

/* An array that does not fit in the span's arena is dropped whole. */
static void test_otel_span_set_attr_str_array_arena_full(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 1024);
    otel_span *s = otel_span_start(t, "full", NULL);
    static char big[1000];
    memset(big, 'x', sizeof big - 1);
    const char *v[] = {big, big, big, big, big};
    otel_span_set_attr_str_array(s, "fits", v, 2);
    otel_span_set_attr_str_array(s, "too.big", v, 5);
    otel_span_set_attr_str(s, "after", "still room");
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("full");
    char buf[4096];
    assert_int_equal(strlen(array_attr(c, "fits", buf, sizeof buf)), 2 * 999 + 1);
    assert_null(attr(c, "too.big"));
    assert_int_equal(c->dropped_attrs, 1);
    assert_string_equal(str_attr(c, "after"), "still room");
}

static void test_otel_span_set_attr_replace(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "replace", NULL);
    otel_span_set_attr_str(s, "k", "first");
    otel_span_set_attr_str(s, "other", "o");
    otel_span_set_attr_int(s, "k", 5);
    assert_int_equal(s->d.n_attrs, 2);
    otel_span_set_attr_str(s, "k", "second");
    otel_span_set_attr_str(s, "ab", "1");
    otel_span_set_attr_str(s, "a", "2"); /* a prefix of "ab": another key */
    otel_kv kv = OTEL_KV_BOOL("other", true);
    otel_span_set_attr(s, &kv);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("replace");
    assert_int_equal(c->n_attrs, 4);
    assert_int_equal(c->dropped_attrs, 0);
    assert_string_equal(str_attr(c, "k"), "second");
    assert_int_equal(attr(c, "other")->type, OTEL_ATTR_BOOL);
    assert_true(attr(c, "other")->v.b);
    assert_string_equal(str_attr(c, "ab"), "1");
    assert_string_equal(str_attr(c, "a"), "2");
    int seen_k = 0;
    for (uint16_t i = 0; i < c->n_attrs; i++)
        seen_k += strcmp(c->attrs[i].key, "k") == 0;
    assert_int_equal(seen_k, 1);
}

/* Attributes added late with the fast adders give way to the ones set
 * before with the same key; the others stay, in order. */
static void test_otel_span_drop_repeated_attrs(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "late", NULL);
    otel_span_set_attr_str(s, "http.route", "/mine");
    otel_span_set_attr_int(s, "n", 1);
    uint16_t first = s->d.n_attrs;
    otel_span_add_attr_strn_sk(s, OTEL_KEY("url.path"), "/p", 2);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("http.route"), "/theirs", 7);
    otel_span_add_attr_int_sk(s, OTEL_KEY("n"), 2);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("url.scheme"), "http", 4);
    otel_span_drop_repeated_attrs(s, first);
    otel_span_drop_repeated_attrs(s, 0); /* nothing before: nothing dropped */
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("late");
    assert_int_equal(c->n_attrs, 4);
    assert_int_equal(c->dropped_attrs, 0);
    assert_string_equal(c->attrs[0].key, "http.route");
    assert_string_equal(str_attr(c, "http.route"), "/mine");
    assert_int_equal(attr(c, "n")->v.i, 1);
    assert_string_equal(c->attrs[2].key, "url.path");
    assert_string_equal(c->attrs[3].key, "url.scheme");
}

/* A literal value is pointed to, not copied into the arena; one over the
 * attribute length limit is cut into the arena like a copied one; a full
 * span counts it as dropped. */
static void test_otel_span_add_attr_lit_sk(void **state)
{
    (void)state;
    static const char scheme[] = "https";
    static const char longer[] = "0123456789abc";
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 10);
    otel_span *s = otel_span_start(t, "lit", NULL);
    uint32_t used = s->arena_used;
    otel_span_add_attr_lit_sk(s, OTEL_KEY("url.scheme"), scheme, sizeof(scheme) - 1);
    assert_int_equal(s->arena_used, used);
    otel_span_add_attr_lit_sk(s, OTEL_KEY("long"), longer, sizeof(longer) - 1);
    assert_true(s->arena_used > used);
    while (s->d.n_attrs < OTEL_SPAN_MAX_ATTRS)
        otel_span_add_attr_int_sk(s, OTEL_KEY("n"), 1);
    otel_span_add_attr_lit_sk(s, OTEL_KEY("one.more"), scheme, sizeof(scheme) - 1);
    assert_int_equal(s->d.dropped_attrs, 1);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("lit");
    assert_ptr_equal(c->attrs[0].v.s.ptr, scheme);
    assert_int_equal(c->attrs[0].v.s.len, 5);
    assert_int_equal(c->attrs[0].type, OTEL_ATTR_STRING);
    assert_string_equal(c->attrs[0].key, "url.scheme");
    assert_ptr_not_equal(c->attrs[1].v.s.ptr, longer);
    assert_int_equal(c->attrs[1].v.s.len, 10);
    assert_memory_equal(c->attrs[1].v.s.ptr, "0123456789", 10);
    assert_int_equal(c->dropped_attrs, 1);
    otel_span_add_attr_lit_sk(NULL, OTEL_KEY("url.scheme"), scheme, 5); /* no span: nothing */
}

/* The copying fast adder's inline case (a plain value of up to 16 bytes,
 * room to spare) and each way out of it give what the general copy gives.
 * Here: a value over the attribute length limit (8) cut to it; a short one
 * with an invalid byte or a NUL inside cleaned (U+FFFD: string values are
 * valid UTF-8). */
static void test_otel_span_add_attr_strn_sk_cut_and_clean(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 8);
    otel_span *s = otel_span_start(t, "sk", NULL);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("cut"), "0123456789", 10);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("bad"),
                               "a\xff"
                               "b",
                               3);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("nul"), "a\0b", 3);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("sk");
    assert_int_equal(c->n_attrs, 3);
    assert_int_equal(c->attrs[0].v.s.len, 8);
    assert_string_equal(c->attrs[0].v.s.ptr, "01234567");
    assert_string_equal(c->attrs[1].v.s.ptr, "a\xef\xbf\xbd"
                                             "b");
    assert_int_equal(c->attrs[1].v.s.len, 5);
    assert_string_equal(c->attrs[2].v.s.ptr, "a\xef\xbf\xbd"
                                             "b");
}

/* The same adder's sizes and room: 16 and 17 bytes whole; with 10 bytes of
 * arena left a 5-byte value still stored, with 4 left dropped and counted;
 * a full span counts one more as dropped. */
static void test_otel_span_add_attr_strn_sk_sizes_and_room(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 0); /* 0: the arena's size */
    otel_span *s = otel_span_start(t, "sk", NULL);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("sixteen"), "0123456789abcdef", 16);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("seventeen"), "0123456789abcdefg", 17);
    static char fill[OTEL_SPAN_ARENA];
    memset(fill, 'x', sizeof(fill));
    size_t left = OTEL_SPAN_ARENA - s->arena_used;
    otel_span_add_attr_strn_sk(s, OTEL_KEY("fill"), fill, left - 1 - 10); /* 10 left */
    assert_int_equal(OTEL_SPAN_ARENA - s->arena_used, 10);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("fits"), "abcde", 5);
    assert_int_equal(OTEL_SPAN_ARENA - s->arena_used, 4);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("no.room"), "abcde", 5);
    assert_int_equal(s->d.dropped_attrs, 1);
    while (s->d.n_attrs < OTEL_SPAN_MAX_ATTRS)
        otel_span_add_attr_int_sk(s, OTEL_KEY("n"), 1);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("full"), "ab", 2);
    assert_int_equal(s->d.dropped_attrs, 2);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("sk");
    assert_string_equal(c->attrs[0].key, "sixteen");
    assert_int_equal(c->attrs[0].v.s.len, 16);
    assert_string_equal(c->attrs[0].v.s.ptr, "0123456789abcdef");
    assert_int_equal(c->attrs[1].v.s.len, 17);
    assert_string_equal(c->attrs[1].v.s.ptr, "0123456789abcdefg");
    assert_string_equal(c->attrs[3].key, "fits");
    assert_string_equal(c->attrs[3].v.s.ptr, "abcde");
    assert_string_equal(c->attrs[4].key, "n");
    assert_int_equal(c->dropped_attrs, 2);
}

/* The trace API, "Set Attributes": "Setting an attribute with the same key
 * as an existing attribute SHOULD overwrite the existing attribute's value"
 * - whichever adder put it there (the fast adders too), and for keys whose
 * lengths are the same modulo 64 (the span's set of key lengths). */
static void test_otel_span_set_attr_overwrites_any_adders_key(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "over", NULL);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("http.route"), "/a", 2);
    otel_span_add_attr_lit_sk(s, OTEL_KEY("url.scheme"), OTEL_KEY("http"));
    otel_span_add_attr_int_sk(s, OTEL_KEY("server.port"), 80);
    char k65[66];
    memset(k65, 'k', 65);
    k65[65] = '\0';
    otel_span_set_attr_str(s, "a", "1");
    otel_span_set_attr_str(s, k65, "65");
    otel_span_set_attr_str(s, "http.route", "/b");
    otel_span_set_attr_str(s, "url.scheme", "https");
    otel_span_set_attr_int(s, "server.port", 443);
    otel_span_set_attr_str(s, k65, "65 again");
    otel_span_set_attr_str(s, "a", "1 again");
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("over");
    assert_int_equal(c->n_attrs, 5);
    assert_string_equal(c->attrs[0].v.s.ptr, "/b");
    assert_string_equal(c->attrs[1].v.s.ptr, "https");
    assert_int_equal(c->attrs[2].v.i, 443);
    assert_string_equal(c->attrs[3].key, "a");
    assert_string_equal(c->attrs[3].v.s.ptr, "1 again");
    assert_int_equal(c->attrs[4].key_len, 65);
    assert_string_equal(c->attrs[4].v.s.ptr, "65 again");
}

/* A key is stored as valid UTF-8: setting the same invalid key twice must
 * still leave one attribute. */
static void test_otel_span_set_attr_replace_invalid_utf8_key(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "badkey", NULL);
    otel_span_set_attr_int(s, "k\xff", 1);
    otel_span_set_attr_int(s, "k\xff", 2);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("badkey");
    assert_int_equal(c->n_attrs, 1);
    assert_string_equal(c->attrs[0].key, "k" FFFD);
    assert_int_equal(c->attrs[0].v.i, 2);
}

static void test_otel_span_set_attr_count_limit(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "limit", NULL);
    for (int i = 0; i < OTEL_SPAN_MAX_ATTRS + 8; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        otel_span_set_attr_int(s, k, i);
    }
    otel_span_set_attr_int(s, "k0", 1000); /* replacing needs no new slot */
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("limit");
    assert_int_equal(c->n_attrs, OTEL_SPAN_MAX_ATTRS);
    assert_int_equal(c->dropped_attrs, 8);
    assert_int_equal(attr(c, "k0")->v.i, 1000);
    assert_int_equal(attr(c, "k31")->v.i, 31);
    assert_null(attr(c, "k32"));
}

static void test_otel_span_set_attr_str_cut_at_utf8_boundary(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 10);
    otel_span *s = otel_span_start(t, "cut", NULL);
    otel_span_set_attr_str(s, "fits", "abcdefghij");
    otel_span_set_attr_str(s, "ascii", "abcdefghijk");
    otel_span_set_attr_str(s, "two", "abcdefghi\xc3\xa9");
    otel_span_set_attr_str(s, "two.fits", "abcdefgh\xc3\xa9");
    otel_span_set_attr_str(s, "three", "abcdefgh\xe2\x82\xac");
    otel_span_set_attr_str(s, "four", "abcdefg\xf0\x9f\x98\x80");
    otel_span_set_attr_str(s, "bad", "abcdefgh\xff"); /* U+FFFD does not fit */
    otel_kv kv = OTEL_KV_STR("kv", "0123456789abc");
    otel_span_set_attr(s, &kv);
    otel_span_add_event(s, "ev", 0, &kv, 1);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("cut");
    assert_string_equal(str_attr(c, "fits"), "abcdefghij");
    assert_string_equal(str_attr(c, "ascii"), "abcdefghij");
    assert_string_equal(str_attr(c, "two"), "abcdefghi");
    assert_string_equal(str_attr(c, "two.fits"), "abcdefgh\xc3\xa9");
    assert_string_equal(str_attr(c, "three"), "abcdefgh");
    assert_string_equal(str_attr(c, "four"), "abcdefg");
    assert_string_equal(str_attr(c, "bad"), "abcdefgh");
    assert_string_equal(str_attr(c, "kv"), "0123456789");
    assert_int_equal(c->n_events, 1);
    assert_int_equal(c->events[0].attr_count, 1);
    assert_string_equal(c->ev_attrs[0].v.s.ptr, "0123456789");
    assert_int_equal(c->ev_attrs[0].v.s.len, 10);
}

static void test_otel_span_set_attr_str_invalid_utf8(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "utf8", NULL);
    otel_span_set_attr_str(s, "lone",
                           "a\xff"
                           "b");
    otel_span_set_attr_str(s, "cont", "\x80x");
    otel_span_set_attr_str(s, "short", "ab\xc3");
    otel_span_set_attr_str(s, "overlong", "\xc0\xaf");
    otel_span_set_attr_str(s, "overlong3", "\xe0\x80\x80");
    otel_span_set_attr_str(s, "surrogate", "\xed\xa0\x80");
    otel_span_set_attr_str(s, "too.big", "\xf4\x90\x80\x80");
    otel_span_set_attr_str(s, "valid", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("utf8");
    assert_string_equal(str_attr(c, "lone"), "a" FFFD "b");
    assert_string_equal(str_attr(c, "cont"), FFFD "x");
    assert_string_equal(str_attr(c, "short"), "ab" FFFD);
    assert_string_equal(str_attr(c, "overlong"), FFFD FFFD);
    assert_string_equal(str_attr(c, "overlong3"), FFFD FFFD FFFD);
    assert_string_equal(str_attr(c, "surrogate"), FFFD FFFD FFFD);
    assert_string_equal(str_attr(c, "too.big"), FFFD FFFD FFFD FFFD);
    assert_string_equal(str_attr(c, "valid"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

/* s's attributes and a's, the same. */
static void assert_same_attrs(const otel_span *s, const otel_span *a)
{
    assert_int_equal(s->d.n_attrs, a->d.n_attrs);
    assert_int_equal(s->d.dropped_attrs, a->d.dropped_attrs);
    for (uint16_t i = 0; i < s->d.n_attrs; i++) {
        const otel_attr *x = &s->d.attrs[i], *y = &a->d.attrs[i];
        assert_int_equal(x->key_len, y->key_len);
        assert_memory_equal(x->key, y->key, x->key_len + 1);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->v.s.len, y->v.s.len);
        assert_memory_equal(x->v.s.ptr, y->v.s.ptr, x->v.s.len + 1);
    }
}

/* otel_span_set_attr_str stores a new short plain pair in one step and
 * anything else through otel_span_set_attr's path: both store the same
 * for keys and values on both sides of the short limit (16) and of the
 * length limit (12 in the first pass, 64 in the second), with a byte that is not ASCII (0xff, 0xc3)
 * in each place of the key or the value, next to a key of the same length, and set a second time.
 */
static void test_otel_span_set_attr_str_agrees_with_kv(void **state)
{
    (void)state;
    char key[24], value[24], other[24];
    for (size_t pass = 0; pass < 2; pass++) {
        otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, pass == 0 ? 12 : 64);
        for (size_t kl = 1; kl <= 18; kl++) {
            for (size_t vl = 0; vl <= 18; vl++) {
                for (size_t bad = 0; bad <= kl + vl; bad++) { /* kl + vl: none */
                    for (size_t i = 0; i < kl; i++)
                        key[i] = other[i] = (char)('a' + (i + vl) % 26);
                    for (size_t i = 0; i < vl; i++)
                        value[i] = (char)('0' + (i + kl) % 10);
                    key[kl] = value[vl] = other[kl] = '\0';
                    other[0] = '_';
                    char b = (bad & 1) ? '\xff' : '\xc3';
                    if (bad < kl)
                        key[bad] = b;
                    else if (bad < kl + vl)
                        value[bad - kl] = b;
                    otel_span *s = otel_span_start(t, "str", NULL);
                    otel_span *a = otel_span_start(t, "kv", NULL);
                    if (bad % 3 == 2) { /* a key of the same length is there */
                        otel_span_set_attr_str(s, other, "o");
                        otel_span_set_attr_str(a, other, "o");
                    }
                    otel_kv kv = OTEL_KV_STR(key, value);
                    otel_span_set_attr_str(s, key, value);
                    otel_span_set_attr(a, &kv);
                    assert_same_attrs(s, a);
                    kv = (otel_kv)OTEL_KV_STR(key, "again");
                    otel_span_set_attr_str(s, key, "again");
                    otel_span_set_attr(a, &kv);
                    assert_same_attrs(s, a);
                    if (bad == kl + vl) { /* a plain pair: stored as given */
                        const otel_attr *x = &s->d.attrs[s->d.n_attrs - 1];
                        assert_string_equal(x->key, key);
                        assert_string_equal(x->v.s.ptr, "again");
                        otel_span_set_attr_str(s, key, value);
                        assert_int_equal(x->v.s.len, vl > 12 && pass == 0 ? 12 : vl);
                        assert_memory_equal(x->v.s.ptr, value, x->v.s.len);
                    }
                    otel_span_end(s);
                    otel_span_end(a);
                }
            }
            flush();
        }
        otel_tracer_del(t);
        cur_t = NULL;
    }
}

/* Fill s's arena with string attributes until room bytes are left. */
static void fill_arena(otel_span *s, size_t room)
{
    static char big[1001];
    memset(big, 'x', sizeof(big) - 1);
    for (char k[] = "f0"; OTEL_SPAN_ARENA - s->arena_used > room; k[1]++) {
        size_t left = OTEL_SPAN_ARENA - s->arena_used - room; /* key, value, NULs */
        assert_true(left >= 4);
        size_t vl = left - 4 < 1000 ? left - 4 : 1000 - 4;
        otel_span_set_attr_strn(s, k, big, vl);
    }
    assert_int_equal(OTEL_SPAN_ARENA - s->arena_used, room);
}

/* At the arena's end a short pair is stored by either path when both
 * strings and their NULs fit (here 12 bytes), and dropped by both when
 * they do not. */
static void test_otel_span_set_attr_str_at_arena_end(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    for (size_t room = 0; room <= 20; room++) {
        otel_span *s = otel_span_start(t, "s", NULL);
        otel_span *a = otel_span_start(t, "a", NULL);
        fill_arena(s, room);
        fill_arena(a, room);
        otel_span_set_attr_str(s, "key.k", "value");
        otel_kv kv = OTEL_KV_STR("key.k", "value");
        otel_span_set_attr(a, &kv);
        assert_same_attrs(s, a);
        const otel_attr *x = &s->d.attrs[s->d.n_attrs - 1];
        assert_int_equal(strcmp(x->key, "key.k") == 0, room >= 12);
        assert_int_equal(s->d.dropped_attrs, room >= 12 ? 0 : 1);
        otel_span_end(s);
        otel_span_end(a);
    }
}

static void test_otel_span_set_attr_strn_embedded_nul(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "nul", NULL);
    otel_span_set_attr_strn(s, "k", "a\0b", 3);
    otel_span_set_attr_strn(s, "end", "ab\0", 3);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("nul");
    const otel_attr *a = attr(c, "k");
    assert_non_null(a);
    assert_int_equal(a->v.s.len, 5);
    assert_memory_equal(a->v.s.ptr,
                        "a\xef\xbf\xbd"
                        "b",
                        6);
    a = attr(c, "end");
    assert_int_equal(a->v.s.len, 5);
    assert_memory_equal(a->v.s.ptr, "ab\xef\xbf\xbd", 6);
}

static void test_otel_span_set_attr_arena_exhausted(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 0); /* 0: the arena size */
    otel_span *s = otel_span_start(t, "full", NULL);
    char big[1001];
    memset(big, 'x', 1000);
    big[1000] = '\0';
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof(k), "big%d", i);
        otel_span_set_attr_str(s, k, big);
        assert_true(s->arena_used <= OTEL_SPAN_ARENA);
    }
    otel_span_set_attr_int(s, "late.int", 1); /* the key needs room too */
    otel_span_set_attr_int(s, "big0", 7);     /* replacing needs no room */
    otel_span_add_event(s, "late.event", 1, NULL, 0);
    otel_span_update_name(s, "renamed-when-full");
    otel_span_set_status(s, OTEL_STATUS_ERROR, "a message that does not fit");
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("full");
    assert_true(c->n_attrs >= 3);
    assert_true(c->dropped_attrs > 0);
    assert_int_equal(c->n_attrs + c->dropped_attrs, 21);
    assert_int_equal(c->n_events + c->dropped_events, 1);
    assert_int_equal(c->status, OTEL_STATUS_ERROR);
    for (uint16_t i = 0; i < c->n_attrs; i++) {
        const otel_attr *a = &c->attrs[i];
        if (strcmp(a->key, "big0") == 0) {
            assert_int_equal(a->type, OTEL_ATTR_INT);
            assert_int_equal(a->v.i, 7);
            continue;
        }
        assert_int_equal(strncmp(a->key, "big", 3), 0);
        assert_int_equal(a->type, OTEL_ATTR_STRING);
        assert_true(a->v.s.len <= 1000);
        assert_int_equal(strspn(a->v.s.ptr, "x"), a->v.s.len);
    }
}

/* A span whose arena has room for a few dozen bytes more, then an attribute
 * with a 100-byte key: it must be dropped (or stored whole), never stored
 * under a cut key, which would be another attribute. */
static void test_otel_span_set_attr_arena_full_key_not_cut(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 0);
    otel_span *s = otel_span_start(t, "n", NULL); /* 2 bytes */
    static char fill[OTEL_SPAN_ARENA];
    memset(fill, 'x', sizeof(fill));
    otel_span_set_attr_strn(s, "fill", fill, 4048); /* 5 + 4049 bytes */
    assert_int_equal(OTEL_SPAN_ARENA - s->arena_used, 40);
    char key[101];
    memset(key, 'k', 100);
    key[100] = '\0';
    otel_span_set_attr_int(s, key, 1);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("n");
    for (uint16_t i = 0; i < c->n_attrs; i++) {
        const char *k = c->attrs[i].key;
        if (strcmp(k, "fill") != 0)
            assert_string_equal(k, key);
    }
    assert_int_equal(c->n_attrs + c->dropped_attrs, 2);
}

/* ---- events ------------------------------------------------------------- */

static void test_otel_span_add_event_attrs_and_time(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_clock_set(fake_clock, NULL);
    fake_now = 777;
    otel_span *s = otel_span_start(t, "events", NULL);
    otel_kv kvs[] = {OTEL_KV_STR("s", "v"), OTEL_KV_INT("i", 9), OTEL_KV_BOOL("b", true),
                     OTEL_KV_DOUBLE("d", 1.5), OTEL_KV_STR(NULL, "skipped")};
    char name[] = "ev1";
    otel_span_add_event(s, name, 1234, kvs, 5);
    name[0] = 'X';
    fake_now = 888;
    otel_span_add_event(s, "ev2", 0, NULL, 0);
    otel_span_add_event(s, "ev3", 0, &kvs[1], 1);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("events");
    assert_int_equal(c->n_events, 3);
    assert_int_equal(c->dropped_events, 0);
    const otel_event *e = &c->events[0];
    assert_string_equal(e->name, "ev1");
    assert_int_equal(e->time_ns, 1234);
    assert_int_equal(e->attr_first, 0);
    assert_int_equal(e->attr_count, 4);
    const otel_attr *ea = &c->ev_attrs[e->attr_first];
    assert_string_equal(find_attr(ea, 4, "s")->v.s.ptr, "v");
    assert_int_equal(find_attr(ea, 4, "i")->v.i, 9);
    assert_true(find_attr(ea, 4, "b")->v.b);
    assert_true(find_attr(ea, 4, "d")->v.d == 1.5);
    assert_string_equal(c->events[1].name, "ev2");
    assert_int_equal(c->events[1].time_ns, 888);
    assert_int_equal(c->events[1].attr_count, 0);
    assert_int_equal(c->events[2].attr_first, 4);
    assert_int_equal(c->events[2].attr_count, 1);
    assert_string_equal(c->ev_attrs[4].key, "i");
    assert_int_equal(c->n_attrs, 0); /* event attributes are not span attributes */
}

static void test_otel_span_add_event_limits(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "ev.limits", NULL);
    otel_kv kvs[20];
    char keys[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(keys[i], sizeof(keys[i]), "a%d", i);
        kvs[i] = OTEL_KV_INT(keys[i], i);
    }
    otel_span_add_event(s, "first", 1, kvs, 20);
    otel_span_add_event(s, "second", 2, kvs, 20); /* 12 fit in the shared 32 */
    for (int i = 0; i < OTEL_SPAN_MAX_EVENTS; i++)
        otel_span_add_event(s, "more", 3, NULL, 0);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("ev.limits");
    assert_int_equal(c->n_events, OTEL_SPAN_MAX_EVENTS);
    assert_int_equal(c->dropped_events, 2);
    assert_int_equal(c->events[0].attr_count, 20);
    assert_int_equal(c->events[0].dropped_attrs, 0);
    assert_int_equal(c->events[1].attr_count, OTEL_SPAN_MAX_EVENT_ATTRS - 20);
    assert_int_equal(c->events[1].dropped_attrs, 40 - OTEL_SPAN_MAX_EVENT_ATTRS);
    assert_int_equal(c->n_ev_attrs, OTEL_SPAN_MAX_EVENT_ATTRS);
}

static void test_otel_span_record_exception_event(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_clock_set(fake_clock, NULL);
    fake_now = 4242;
    otel_span *s = otel_span_start(t, "exc", NULL);
    otel_span_record_exception(s, "ValueError", "bad value");
    otel_span_record_exception(s, "OnlyType", NULL);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("exc");
    assert_int_equal(c->status, OTEL_STATUS_UNSET); /* unchanged */
    assert_int_equal(c->n_events, 2);
    const otel_event *e = &c->events[0];
    assert_string_equal(e->name, "exception");
    assert_int_equal(e->time_ns, 4242);
    assert_int_equal(e->attr_count, 2);
    const otel_attr *ea = &c->ev_attrs[e->attr_first];
    const otel_attr *type = find_attr(ea, 2, "exception.type");
    const otel_attr *msg = find_attr(ea, 2, "exception.message");
    assert_non_null(type);
    assert_non_null(msg);
    assert_int_equal(type->type, OTEL_ATTR_STRING);
    assert_string_equal(type->v.s.ptr, "ValueError");
    assert_string_equal(msg->v.s.ptr, "bad value");
    e = &c->events[1];
    assert_string_equal(e->name, "exception");
    assert_int_equal(e->attr_count, 1);
    assert_string_equal(c->ev_attrs[e->attr_first].key, "exception.type");
    assert_string_equal(c->ev_attrs[e->attr_first].v.s.ptr, "OnlyType");
}

/* ---- status and name ---------------------------------------------------- */

static void test_otel_span_set_status_unset_ignored(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "unset", NULL);
    otel_span_set_status(s, OTEL_STATUS_ERROR, "boom");
    otel_span_set_status(s, OTEL_STATUS_UNSET, NULL);
    otel_span_set_status(s, (otel_status_code)7, "bogus");
    otel_span_end(s);
    flush();
    assert_int_equal(captured("unset")->status, OTEL_STATUS_ERROR);
    assert_string_equal(captured("unset")->status_message, "boom");
}

static void test_otel_span_set_status_error_keeps_message(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *a = otel_span_start(t, "a", NULL);
    char msg[] = "first";
    otel_span_set_status(a, OTEL_STATUS_ERROR, msg);
    msg[0] = 'X';
    otel_span *b = otel_span_start(t, "b", NULL);
    otel_span_set_status(b, OTEL_STATUS_ERROR, "one");
    otel_span_set_status(b, OTEL_STATUS_ERROR, "two");
    otel_span *c = otel_span_start(t, "c", NULL);
    otel_span_set_status(c, OTEL_STATUS_ERROR, NULL);
    otel_span_end(a);
    otel_span_end(b);
    otel_span_end(c);
    flush();
    assert_string_equal(captured("a")->status_message, "first");
    assert_int_equal(captured("b")->status, OTEL_STATUS_ERROR);
    assert_string_equal(captured("b")->status_message, "two");
    assert_int_equal(captured("c")->status, OTEL_STATUS_ERROR);
    assert_string_equal(captured("c")->status_message, "");
}

static void test_otel_span_set_status_ok_final(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *a = otel_span_start(t, "ok.first", NULL);
    otel_span_set_status(a, OTEL_STATUS_OK, NULL);
    otel_span_set_status(a, OTEL_STATUS_ERROR, "too late");
    otel_span *b = otel_span_start(t, "err.then.ok", NULL);
    otel_span_set_status(b, OTEL_STATUS_ERROR, "boom");
    otel_span_set_status(b, OTEL_STATUS_OK, NULL);
    otel_span_set_status(b, OTEL_STATUS_ERROR, "again");
    otel_span_end(a);
    otel_span_end(b);
    flush();
    assert_int_equal(captured("ok.first")->status, OTEL_STATUS_OK);
    assert_string_equal(captured("ok.first")->status_message, "");
    assert_int_equal(captured("err.then.ok")->status, OTEL_STATUS_OK);
    assert_string_equal(captured("err.then.ok")->status_message, "");
}

static void test_otel_span_set_status_ok_ignores_message(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "okmsg", NULL);
    otel_span_set_status(s, OTEL_STATUS_OK, "not kept");
    otel_span_end(s);
    flush();
    assert_int_equal(captured("okmsg")->status, OTEL_STATUS_OK);
    assert_string_equal(captured("okmsg")->status_message, "");
}

static void test_otel_span_update_name_replaces(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "old", NULL);
    otel_span_update_name(s, "new");
    otel_span_update_name(s, NULL); /* ignored */
    otel_span_end(s);
    flush();
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.spans[0].d.name, "new");
}

/* otel_span_name_pair makes "a b" as otel_span_update_name would: a plain
 * pair copied as it is (exactly the room it needs left: fits), a pair with
 * an invalid byte cleaned (U+FFFD), one over OTEL_SPAN_NAME_PAIR_MAX or
 * with no room left changes nothing. */
static void test_otel_span_name_pair(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_ON, 0);
    static char fill[OTEL_SPAN_ARENA], long_route[OTEL_SPAN_NAME_PAIR_MAX];
    memset(fill, 'x', sizeof(fill));
    memset(long_route, 'r', sizeof(long_route));

    otel_span *s = otel_span_start(t, "old", NULL);
    otel_span_name_pair(s, "GET", 3, "/a/{id}", 7);
    assert_string_equal(s->d.name, "GET /a/{id}");
    otel_span_name_pair(s, "GET", 3, "/\xff", 2);
    assert_string_equal(s->d.name, "GET /\xef\xbf\xbd");
    otel_span_name_pair(s, "GET", 3, long_route, OTEL_SPAN_NAME_PAIR_MAX - 3); /* 1 too long */
    assert_string_equal(s->d.name, "GET /\xef\xbf\xbd");
    otel_span_name_pair(s, "GET", 3, long_route, OTEL_SPAN_NAME_PAIR_MAX - 4);
    assert_int_equal(strlen(s->d.name), OTEL_SPAN_NAME_PAIR_MAX);
    otel_span_add_attr_strn_sk(s, OTEL_KEY("fill"), fill,
                               OTEL_SPAN_ARENA - s->arena_used - 1 - 7); /* 7 left */
    assert_int_equal(OTEL_SPAN_ARENA - s->arena_used, 7);
    otel_span_name_pair(s, "GET", 3, "/b", 2); /* 6 bytes and the NUL: fits */
    assert_string_equal(s->d.name, "GET /b");
    assert_int_equal(OTEL_SPAN_ARENA - s->arena_used, 0);
    otel_span_name_pair(s, "GET", 3, "/c", 2);
    assert_string_equal(s->d.name, "GET /b");
    otel_span_end(s);
    otel_span_name_pair(NULL, "GET", 3, "/d", 2); /* ignored */
    flush();
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.spans[0].d.name, "GET /b");
}

/* ---- NULL and non-sampled spans ----------------------------------------- */

/* ---- links ------------------------------------------------------------- */

static otel_span_context link_ctx(uint8_t seed, uint8_t flags, bool remote)
{
    otel_span_context sc = {.trace_flags = flags, .is_remote = remote};
    memset(sc.trace_id, seed, sizeof(sc.trace_id));
    memset(sc.span_id, (uint8_t)(seed + 1), sizeof(sc.span_id));
    return sc;
}

static void test_otel_span_add_link_added(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "links", NULL);
    otel_span_context a = link_ctx(0x11, OTEL_TRACE_FLAG_SAMPLED, true);
    otel_span_context b = link_ctx(0x22, 0, false);
    otel_span_context invalid = {0};
    otel_span_add_link(s, &a, "k=v,x=y");
    otel_span_add_link(s, &b, NULL);
    otel_span_add_link(s, &invalid, "k=v"); /* skipped, not counted */
    otel_span_add_link(s, NULL, NULL);
    otel_span_end(s);
    flush();
    const otel_span_data *c = captured("links");
    assert_int_equal(c->n_links, 2);
    assert_int_equal(c->dropped_links, 0);
    assert_memory_equal(c->links[0].ctx.trace_id, a.trace_id, 16);
    assert_memory_equal(c->links[0].ctx.span_id, a.span_id, 8);
    assert_int_equal(c->links[0].ctx.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_true(c->links[0].ctx.is_remote);
    assert_string_equal(c->links[0].tracestate, "k=v,x=y");
    assert_memory_equal(c->links[1].ctx.trace_id, b.trace_id, 16);
    assert_false(c->links[1].ctx.is_remote);
    assert_string_equal(c->links[1].tracestate, "");
}

static void test_otel_span_add_link_limit_counts_dropped(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *s = otel_span_start(t, "links.limit", NULL);
    for (int i = 0; i < OTEL_SPAN_MAX_LINKS + 3; i++) {
        otel_span_context sc = link_ctx((uint8_t)(i + 1), 0, true);
        otel_span_add_link(s, &sc, NULL);
    }
    otel_span_end(s);
    /* a span from the pool starts with no links */
    otel_span *again = otel_span_start(t, "links.fresh", NULL);
    otel_span_end(again);
    flush();
    const otel_span_data *c = captured("links.limit");
    assert_int_equal(c->n_links, OTEL_SPAN_MAX_LINKS);
    assert_int_equal(c->dropped_links, 3);
    assert_int_equal(c->links[OTEL_SPAN_MAX_LINKS - 1].ctx.trace_id[0], OTEL_SPAN_MAX_LINKS);
    const otel_span_data *f = captured("links.fresh");
    assert_int_equal(f->n_links, 0);
    assert_int_equal(f->dropped_links, 0);
}

static void test_otel_span_add_link_not_recording(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_OFF, 1024);
    otel_span *s = otel_span_start(t, "links.off", NULL);
    otel_span_context sc = link_ctx(0x33, 0, true);
    assert_false(otel_span_is_recording(s));
    otel_span_add_link(s, &sc, "k=v"); /* nothing recorded, nothing touched */
    otel_span_end(s);
    flush();
    assert_int_equal(cap.n, 0);
    otel_span_add_link(NULL, &sc, "k=v");
}

static void test_otel_span_null_accepted(void **state)
{
    (void)state;
    otel_kv kv = OTEL_KV_INT("k", 1);
    otel_span_set_attr_str(NULL, "k", "v");
    otel_span_set_attr_strn(NULL, "k", "v", 1);
    otel_span_set_attr_bool(NULL, "k", true);
    otel_span_set_attr_int(NULL, "k", 1);
    otel_span_set_attr_double(NULL, "k", 1.0);
    otel_span_set_attr(NULL, &kv);
    otel_span_add_event(NULL, "e", 0, &kv, 1);
    otel_span_record_exception(NULL, "T", "m");
    otel_span_set_status(NULL, OTEL_STATUS_ERROR, "m");
    otel_span_update_name(NULL, "n");
    otel_span_end(NULL);
    otel_span_end_at(NULL, 5);
    assert_false(otel_span_is_recording(NULL));
    otel_span_context sc = otel_span_get_context(NULL);
    assert_false(otel_span_context_is_valid(&sc));
    assert_int_equal(sc.trace_flags, 0);
    char buf[8] = "junk";
    assert_int_equal(otel_span_get_tracestate(NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    assert_null(otel_span_current());
    assert_null(otel_span_start(NULL, "no tracer", NULL)); /* no current span */
    assert_null(otel_span_start_child("no parent", OTEL_SPAN_KIND_CLIENT));
    assert_null(otel_context_attach(NULL));
    otel_context_detach(NULL);
    assert_null(otel_tracer_resource(NULL));
}

static void test_otel_span_start_not_sampled(void **state)
{
    (void)state;
    otel_tracer *t = tracer_with(OTEL_SAMPLER_ALWAYS_OFF, 1024);
    otel_span *s = otel_span_start(t, "off", NULL);
    assert_non_null(s);
    assert_false(otel_span_is_recording(s));
    otel_span_context sc = otel_span_get_context(s);
    assert_true(otel_span_context_is_valid(&sc));
    assert_int_equal(sc.trace_flags & OTEL_TRACE_FLAG_SAMPLED, 0);
    assert_false(sc.is_remote);
    otel_span_set_attr_str(s, "k", "v");
    otel_span_set_attr_int(s, "i", 1);
    otel_span_add_event(s, "e", 0, NULL, 0);
    otel_span_record_exception(s, "T", "m");
    otel_span_set_status(s, OTEL_STATUS_ERROR, "m");
    otel_span_update_name(s, "renamed");
    assert_false(otel_span_is_recording(s));
    sc = otel_span_get_context(s);

    /* Its context still reaches children. */
    otel_context_attach(s);
    otel_span *child = otel_span_start_child("child", OTEL_SPAN_KIND_CLIENT);
    assert_non_null(child);
    otel_span_context cc = otel_span_get_context(child);
    assert_memory_equal(cc.trace_id, sc.trace_id, 16);
    assert_memory_not_equal(cc.span_id, sc.span_id, 8);
    assert_false(otel_span_is_recording(child));
    otel_span_end(child);
    otel_context_detach(NULL);
    otel_span_end(s);

    /* Ended spans went back to the pool: no new allocation for more. */
    uint64_t allocated = otel_tracer_spans_allocated(t);
    for (int i = 0; i < 100; i++)
        otel_span_end(otel_span_start(t, "again", NULL));
    assert_int_equal(otel_tracer_spans_allocated(t), allocated);

    flush();
    assert_int_equal(cap.n, 0);
    assert_int_equal(cap.calls, 0);
    otel_stats st;
    otel_tracer_stats(t, &st);
    assert_int_equal(st.ended, 0);
    assert_int_equal(st.exported, 0);
    assert_int_equal(st.dropped, 0);
}

static void test_otel_span_start_unsampled_remote_parent(void **state)
{
    (void)state;
    otel_tracer *t = tracer(); /* parentbased_always_on */
    otel_span_context rp;
    memset(&rp, 0, sizeof(rp));
    otel_trace_id_new(rp.trace_id);
    otel_span_id_new(rp.span_id);
    rp.is_remote = true;
    rp.trace_flags = 0;
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .parent = &rp};
    otel_span *s = otel_span_start(t, "server", &opt);
    assert_false(otel_span_is_recording(s));
    otel_context_attach(s);
    otel_span *c = otel_span_start_child("local", OTEL_SPAN_KIND_INTERNAL);
    assert_false(otel_span_is_recording(c));
    otel_span_context cc = otel_span_get_context(c);
    assert_memory_equal(cc.trace_id, rp.trace_id, 16);
    otel_span_end(c);
    otel_span_end(s);
    flush();
    assert_int_equal(cap.n, 0);
}

/* ---- parents, current span, tracestate ---------------------------------- */

static void test_otel_span_start_child_inherits_current(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *p = otel_span_start(t, "parent", NULL);
    assert_null(otel_context_attach(p));
    assert_ptr_equal(otel_span_current(), p);
    otel_span *c = otel_span_start_child("child", OTEL_SPAN_KIND_CLIENT);
    assert_non_null(c);
    otel_span *g = otel_span_start(NULL, "implicit", NULL); /* the current span's tracer */
    assert_non_null(g);

    otel_span *prev = otel_context_attach(c);
    assert_ptr_equal(prev, p);
    otel_span *gc = otel_span_start_child("grandchild", OTEL_SPAN_KIND_INTERNAL);
    otel_context_detach(prev);
    assert_ptr_equal(otel_span_current(), p);

    otel_span_context pc = otel_span_get_context(p);
    otel_span_context cc = otel_span_get_context(c);
    assert_memory_equal(cc.trace_id, pc.trace_id, 16);
    assert_memory_not_equal(cc.span_id, pc.span_id, 8);
    otel_span_end(gc);
    otel_span_end(g);
    otel_span_end(c);
    otel_context_detach(NULL);
    assert_null(otel_span_current());
    otel_span_end(p);
    flush();

    assert_int_equal(cap.n, 4);
    const otel_span_data *cp = captured("parent");
    assert_false(cp->has_parent);
    const char *kids[] = {"child", "implicit"};
    for (int i = 0; i < 2; i++) {
        const otel_span_data *k = captured(kids[i]);
        assert_true(k->has_parent);
        assert_false(k->parent_is_remote);
        assert_memory_equal(k->ctx.trace_id, cp->ctx.trace_id, 16);
        assert_memory_equal(k->parent_span_id, cp->ctx.span_id, 8);
    }
    assert_int_equal(captured("child")->kind, OTEL_SPAN_KIND_CLIENT);
    const otel_span_data *cg = captured("grandchild");
    assert_memory_equal(cg->ctx.trace_id, cp->ctx.trace_id, 16);
    assert_memory_equal(cg->parent_span_id, captured("child")->ctx.span_id, 8);
}

static void test_otel_span_start_remote_parent(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span_context rp;
    memset(&rp, 0, sizeof(rp));
    otel_trace_id_new(rp.trace_id);
    otel_span_id_new(rp.span_id);
    rp.is_remote = true;
    rp.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    otel_span *cur = otel_span_start(t, "current", NULL);
    otel_context_attach(cur); /* an explicit parent wins over the current span */
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .parent = &rp};
    otel_span *s = otel_span_start(t, "server", &opt);
    assert_true(otel_span_is_recording(s));
    otel_span_context sc = otel_span_get_context(s);
    assert_false(sc.is_remote);
    assert_int_equal(sc.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    otel_span_end(s);

    otel_span_context invalid;
    memset(&invalid, 0, sizeof(invalid));
    invalid.is_remote = true;
    opt.parent = &invalid; /* invalid: a new trace */
    otel_span *r = otel_span_start(t, "invalid.parent", &opt);
    otel_span_end(r);
    otel_context_detach(NULL);
    otel_span_end(cur);
    flush();

    const otel_span_data *c = captured("server");
    assert_true(c->has_parent);
    assert_true(c->parent_is_remote);
    assert_memory_equal(c->ctx.trace_id, rp.trace_id, 16);
    assert_memory_equal(c->parent_span_id, rp.span_id, 8);
    assert_memory_not_equal(c->ctx.span_id, rp.span_id, 8);
    assert_int_equal(c->kind, OTEL_SPAN_KIND_SERVER);
    const otel_span_data *ci = captured("invalid.parent");
    assert_false(ci->has_parent);
    assert_memory_not_equal(ci->ctx.trace_id, rp.trace_id, 16);
}

/* OpenTelemetry B3 Requirements: a received debug flag is propagated with
 * subsequent requests, so every span of the trace in this process carries
 * it on; a new root does not. */
static void test_otel_span_start_debug_inherited(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span_context rp;
    memset(&rp, 0, sizeof(rp));
    otel_trace_id_new(rp.trace_id);
    otel_span_id_new(rp.span_id);
    rp.is_remote = true;
    rp.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    rp.debug = true; /* as b3 "d" gives it */
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .parent = &rp};
    otel_span *server = otel_span_start(t, "server", &opt);
    assert_true(otel_span_get_context(server).debug);
    otel_span *prev = otel_context_attach(server);
    otel_span *child = otel_span_start_child("child", OTEL_SPAN_KIND_CLIENT);
    assert_true(otel_span_get_context(child).debug);
    otel_span_options root = {.root = true};
    otel_span *other = otel_span_start(t, "root", &root);
    assert_false(otel_span_get_context(other).debug);
    otel_span_end(other);
    otel_span_end(child);
    otel_context_detach(prev);
    otel_span_end(server);
    otel_span *plain = otel_span_start(t, "plain", NULL);
    assert_false(otel_span_get_context(plain).debug);
    otel_span_end(plain);
}

static void test_otel_span_start_root_ignores_current(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span *p = otel_span_start(t, "p", NULL);
    otel_context_attach(p);
    otel_span_options opt = {.root = true};
    otel_span *r = otel_span_start(t, "root", &opt);
    otel_span_context rp;
    memset(&rp, 0, sizeof(rp));
    otel_trace_id_new(rp.trace_id);
    otel_span_id_new(rp.span_id);
    rp.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    opt.parent = &rp; /* root also ignores an explicit parent */
    otel_span *r2 = otel_span_start(t, "root2", &opt);
    otel_span_end(r2);
    otel_span_end(r);
    otel_context_detach(NULL);
    otel_span_end(p);
    flush();
    const otel_span_data *cp = captured("p");
    const otel_span_data *cr = captured("root");
    const otel_span_data *cr2 = captured("root2");
    assert_false(cr->has_parent);
    assert_memory_not_equal(cr->ctx.trace_id, cp->ctx.trace_id, 16);
    assert_false(cr2->has_parent);
    assert_memory_not_equal(cr2->ctx.trace_id, rp.trace_id, 16);
}

static void test_otel_span_start_tracestate(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_span_context rp;
    memset(&rp, 0, sizeof(rp));
    otel_trace_id_new(rp.trace_id);
    otel_span_id_new(rp.span_id);
    rp.is_remote = true;
    rp.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    otel_span_options opt = {.parent = &rp, .tracestate = "vendor=a,other=b"};
    otel_span *s = otel_span_start(t, "ts", &opt);
    char buf[64];
    assert_int_equal(otel_span_get_tracestate(s, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "vendor=a,other=b");
    assert_int_equal(otel_span_get_tracestate(s, buf, 5), 4);
    assert_string_equal(buf, "vend");
    assert_int_equal(otel_span_get_tracestate(s, buf, 0), 0);

    otel_context_attach(s);
    otel_span *c = otel_span_start_child("ts.child", OTEL_SPAN_KIND_INTERNAL);
    assert_int_equal(otel_span_get_tracestate(c, buf, sizeof(buf)), 16);
    assert_string_equal(buf, "vendor=a,other=b");
    otel_span_options own = {.tracestate = "mine=1"};
    otel_span *o = otel_span_start(t, "ts.own", &own);
    assert_int_equal(otel_span_get_tracestate(o, buf, sizeof(buf)), 6);
    assert_string_equal(buf, "mine=1");
    otel_context_detach(NULL);
    otel_span *root = otel_span_start(t, "ts.none", NULL);
    assert_int_equal(otel_span_get_tracestate(root, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    char longts[OTEL_TRACESTATE_MAX + 100];
    memset(longts, 'a', sizeof(longts) - 1);
    longts[sizeof(longts) - 1] = '\0';
    otel_span_options lo = {.tracestate = longts};
    otel_span *l = otel_span_start(t, "ts.long", &lo);
    assert_int_equal(otel_span_get_tracestate(l, longts, sizeof(longts)), OTEL_TRACESTATE_MAX - 1);

    otel_span_end(l);
    otel_span_end(root);
    otel_span_end(o);
    otel_span_end(c);
    otel_span_end(s);
    flush();
    assert_string_equal(captured("ts")->tracestate, "vendor=a,other=b");
    assert_int_equal(captured("ts")->tracestate_len, 16);
    assert_string_equal(captured("ts.child")->tracestate, "vendor=a,other=b");
    assert_string_equal(captured("ts.own")->tracestate, "mine=1");
    assert_string_equal(captured("ts.none")->tracestate, "");
}

/* ---- allocation failure ------------------------------------------------- */

static void test_otel_span_start_alloc_failure(void **state)
{
    (void)state;
    otel_tracer *t = tracer();
    otel_alloc_fail_after(0); /* the pool is empty: the heap is needed */
    otel_span *s = otel_span_start(t, "nomem", NULL);
    assert_null(s);
    otel_span_set_attr_str(s, "k", "v");
    otel_span_end(s);
    otel_alloc_fail_after(-1);
    s = otel_span_start(t, "ok", NULL);
    assert_non_null(s);
    otel_span_end(s);
    flush();
    assert_int_equal(cap.n, 1);
    assert_string_equal(cap.spans[0].d.name, "ok");
}

/* tracer_new, a span, a flush and del with the n-th allocation failing, for
 * every n until all of it succeeds: no crash, no leak (LSan). */
static void test_otel_tracer_new_alloc_failure_loop(void **state)
{
    (void)state;
    long n;
    int failures = 0;
    for (n = 0; n < 200; n++) {
        otel_resource *r = NULL;
        assert_int_equal(otel_resource_new(&r, "svc"), OTEL_OK);
        otel_tracer_config cfg;
        otel_tracer_config_default(&cfg);
        memset(&cap, 0, sizeof(cap));
        otel_alloc_fail_after(n);
        otel_tracer *t = NULL;
        int rc = otel_tracer_new(&t, &cfg, r);
        if (rc != OTEL_OK) {
            otel_alloc_fail_after(-1);
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            assert_null(t);
            otel_resource_del(r); /* not taken on failure */
            failures++;
            continue;
        }
        otel_exporter *e = NULL;
        rc = otel_exporter_new(&e, "capture", capture_export, &cap);
        if (rc == OTEL_OK) {
            otel_exporter_set_shutdown(e, capture_shutdown);
            rc = otel_tracer_add_exporter(t, e); /* takes e, also on failure */
        }
        if (rc != OTEL_OK) {
            otel_alloc_fail_after(-1);
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            otel_tracer_del(t);
            assert_int_equal(cap.shutdowns, 0);
            failures++;
            continue;
        }
        otel_span *s = otel_span_start(t, "span", NULL);
        otel_span_set_attr_str(s, "k", "v");
        otel_span_end(s);
        otel_tracer_force_flush(t, SEC);
        otel_alloc_fail_after(-1);
        otel_tracer_del(t);
        if (s == NULL) {
            failures++;
            continue;
        }
        assert_int_equal(cap.n, 1);
        assert_int_equal(cap.shutdowns, 1);
        break;
    }
    assert_true(n < 200);
    assert_true(failures >= 4); /* tracer, pool, pool cells, processor, exporter, ... */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_span_start_end_times),
        T(test_otel_span_start_kinds),
        T(test_otel_span_kind_name_all),
        T(test_otel_span_start_name),
        T(test_otel_span_end_twice),
        T(test_otel_span_end_clears_current),
        T(test_otel_span_set_attr_types),
        T(test_otel_span_set_attr_str_array),
        T(test_otel_span_set_attr_str_array_arena_full),
        T(test_otel_span_set_attr_replace),
        T(test_otel_span_add_attr_lit_sk),
        T(test_otel_span_add_attr_strn_sk_cut_and_clean),
        T(test_otel_span_set_attr_overwrites_any_adders_key),
        T(test_otel_span_add_attr_strn_sk_sizes_and_room),
        T(test_otel_span_drop_repeated_attrs),
        T(test_otel_span_set_attr_replace_invalid_utf8_key),
        T(test_otel_span_set_attr_count_limit),
        T(test_otel_span_set_attr_str_cut_at_utf8_boundary),
        T(test_otel_span_set_attr_str_invalid_utf8),
        T(test_otel_span_set_attr_str_agrees_with_kv),
        T(test_otel_span_set_attr_str_at_arena_end),
        T(test_otel_span_set_attr_strn_embedded_nul),
        T(test_otel_span_set_attr_arena_exhausted),
        T(test_otel_span_set_attr_arena_full_key_not_cut),
        T(test_otel_span_add_event_attrs_and_time),
        T(test_otel_span_add_event_limits),
        T(test_otel_span_record_exception_event),
        T(test_otel_span_set_status_unset_ignored),
        T(test_otel_span_set_status_error_keeps_message),
        T(test_otel_span_set_status_ok_final),
        T(test_otel_span_set_status_ok_ignores_message),
        T(test_otel_span_update_name_replaces),
        T(test_otel_span_name_pair),
        T(test_otel_span_add_link_added),
        T(test_otel_span_add_link_limit_counts_dropped),
        T(test_otel_span_add_link_not_recording),
        T(test_otel_span_null_accepted),
        T(test_otel_span_start_not_sampled),
        T(test_otel_span_start_unsampled_remote_parent),
        T(test_otel_span_start_child_inherits_current),
        T(test_otel_span_start_remote_parent),
        T(test_otel_span_start_debug_inherited),
        T(test_otel_span_start_root_ignores_current),
        T(test_otel_span_start_tracestate),
        T(test_otel_span_start_alloc_failure),
        T(test_otel_tracer_new_alloc_failure_loop),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
