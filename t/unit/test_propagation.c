/* test_propagation.c - unit tests for core/propagation.c: propagator sets,
 * extraction and injection through a carrier, tracestate mutation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mhd-otel/propagation.h>

#define TP_TRACE "0af7651916cd43dd8448eb211c80319c"
#define TP_SPAN "b7ad6b7169203331"
#define TP_VALID "00-" TP_TRACE "-" TP_SPAN "-01"
#define B3_TRACE "80f198ee56343ba864fe8b2a57d3eff7"
#define B3_SPAN "e457b5a2e4d86bd1"

/* ---- a test carrier: a few headers, names compared in any case ---------- */

#define CARRIER_MAX 16
#define HEADER_VALUE_MAX 20000

typedef struct header {
    char name[32];
    char value[HEADER_VALUE_MAX];
} header;

typedef struct carrier {
    size_t n;
    header h[CARRIER_MAX];
} carrier;

/* Large: kept out of the test functions' frames. */
static carrier in;
static carrier out;
static otel_extracted ex;
static otel_baggage bag;

static void carrier_clear(carrier *c)
{
    c->n = 0;
}

static header *carrier_find(carrier *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcasecmp(c->h[i].name, name) == 0)
            return &c->h[i];
    }
    return NULL;
}

/* Add a header (len bytes of value, may hold any byte but NUL). */
static void carrier_addn(carrier *c, const char *name, const char *value, size_t len)
{
    assert_true(c->n < CARRIER_MAX);
    assert_true(len < HEADER_VALUE_MAX);
    header *h = &c->h[c->n++];
    snprintf(h->name, sizeof h->name, "%s", name);
    memcpy(h->value, value, len);
    h->value[len] = '\0';
}

static void carrier_add(carrier *c, const char *name, const char *value)
{
    carrier_addn(c, name, value, strlen(value));
}

/* The index-th header called name, in the order added: a carrier that
 * keeps repeated header lines apart. */
static const char *get(void *carrier_ptr, const char *name, size_t index)
{
    carrier *c = carrier_ptr;
    for (size_t i = 0; i < c->n; i++) {
        if (strcasecmp(c->h[i].name, name) == 0 && index-- == 0)
            return c->h[i].value;
    }
    return NULL;
}

/* The setter every injection goes through: checks each byte of the name and
 * value, then stores (replacing an earlier value). */
static void set(void *carrier_ptr, const char *name, const char *value)
{
    carrier *c = carrier_ptr;
    for (const char *p = name; *p != '\0'; p++)
        assert_true(*p > 0x20 && *p < 0x7f);
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        if (*p < 0x20 || *p >= 0x7f)
            fail_msg("byte 0x%02x injected in %s", *p, name);
    }
    header *h = carrier_find(c, name);
    if (h == NULL) {
        carrier_add(c, name, value);
        return;
    }
    snprintf(h->value, sizeof h->value, "%s", value);
}

static const char *out_get(const char *name)
{
    return get(&out, name, 0);
}

static otel_propagators props(const char *names)
{
    otel_propagators p;
    assert_int_equal(otel_propagators_from_names(&p, names, NULL, 0), 0);
    return p;
}

static int extract(const char *names)
{
    otel_propagators p = props(names);
    return otel_propagation_extract(&p, get, &in, &ex);
}

static void inject(const char *names, const otel_span_context *sc, const char *ts,
                   const otel_baggage *b)
{
    otel_propagators p = props(names);
    carrier_clear(&out);
    otel_propagation_inject(&p, sc, ts, b, set, &out);
}

static otel_span_context context_of(const char *traceparent)
{
    otel_span_context sc;
    assert_int_equal(otel_traceparent_parse(traceparent, strlen(traceparent), &sc), 0);
    return sc;
}

/* A small xorshift generator: the same "random" inputs every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* ---- otel_propagators_from_names ---------------------------------------- */

static void expect_order(const otel_propagators *p, const otel_propagator *want, size_t n)
{
    assert_int_equal(p->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(p->order[i], want[i]);
        assert_true(otel_propagators_has(p, want[i]));
    }
}

static void test_otel_propagators_from_names_default(void **state)
{
    (void)state;
    const otel_propagator want[] = {OTEL_PROPAGATOR_TRACECONTEXT, OTEL_PROPAGATOR_BAGGAGE};
    const char *blank[] = {NULL, "", " ", " , ,\t"};
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        otel_propagators p;
        assert_int_equal(otel_propagators_from_names(&p, blank[i], NULL, 0), 0);
        expect_order(&p, want, 2);
        assert_false(otel_propagators_has(&p, OTEL_PROPAGATOR_B3));
    }
    otel_propagators p = props(OTEL_PROPAGATORS_DEFAULT);
    expect_order(&p, want, 2);
}

static void test_otel_propagators_from_names_comma_list(void **state)
{
    (void)state;
    const otel_propagator want[] = {OTEL_PROPAGATOR_B3MULTI, OTEL_PROPAGATOR_BAGGAGE,
                                    OTEL_PROPAGATOR_TRACECONTEXT, OTEL_PROPAGATOR_B3};
    otel_propagators p = props("b3multi,baggage,tracecontext,b3");
    expect_order(&p, want, 4);
}

static void test_otel_propagators_from_names_space_separated(void **state)
{
    (void)state;
    const otel_propagator want[] = {OTEL_PROPAGATOR_B3, OTEL_PROPAGATOR_TRACECONTEXT,
                                    OTEL_PROPAGATOR_B3MULTI};
    otel_propagators p = props("  b3 tracecontext\tb3multi ");
    expect_order(&p, want, 3);
    p = props("b3 , tracecontext,,b3multi");
    expect_order(&p, want, 3);
}

static void test_otel_propagators_from_names_any_case(void **state)
{
    (void)state;
    const otel_propagator want[] = {OTEL_PROPAGATOR_TRACECONTEXT, OTEL_PROPAGATOR_B3MULTI};
    otel_propagators p = props("TraceContext,B3MULTI");
    expect_order(&p, want, 2);
}

static void test_otel_propagators_from_names_repeats(void **state)
{
    (void)state;
    const otel_propagator want[] = {OTEL_PROPAGATOR_B3, OTEL_PROPAGATOR_TRACECONTEXT};
    otel_propagators p = props("b3,b3,tracecontext,B3");
    expect_order(&p, want, 2);
}

static void test_otel_propagators_from_names_unknown(void **state)
{
    (void)state;
    const otel_propagator want[] = {OTEL_PROPAGATOR_TRACECONTEXT, OTEL_PROPAGATOR_B3};
    otel_propagators p;
    char err[128];
    assert_int_equal(
        otel_propagators_from_names(&p, "tracecontext,jaeger,b3,xray", err, sizeof err),
        OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "\"jaeger\""));
    assert_null(strstr(err, "xray")); /* the first one is named */
    expect_order(&p, want, 2);        /* the recognised ones */

    assert_int_equal(otel_propagators_from_names(&p, "b3x", NULL, 0), OTEL_ERR_INVALID);
    assert_int_equal(otel_propagators_from_names(&p, "b", err, sizeof err), OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "\"b\""));
    assert_int_equal(otel_propagators_from_names(&p, "trace-context", err, 8), OTEL_ERR_INVALID);
    assert_int_equal(strlen(err), 7); /* cut to the buffer */
    assert_int_equal(otel_propagators_from_names(NULL, "b3", err, sizeof err), OTEL_ERR_INVALID);
}

static void test_otel_propagators_from_names_unknown_sanitized(void **state)
{
    (void)state;
    otel_propagators p;
    char err[256];
    assert_int_equal(otel_propagators_from_names(&p, "ev\x01il\x7f\xff", err, sizeof err),
                     OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "\"ev?il??\""));
    char long_name[200];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(otel_propagators_from_names(&p, long_name, err, sizeof err), OTEL_ERR_INVALID);
    assert_true(strlen(err) < 80);
    assert_non_null(strstr(err, "...\""));
}

static void test_otel_propagators_from_names_none(void **state)
{
    (void)state;
    otel_propagators p;
    char err[128];
    assert_int_equal(otel_propagators_from_names(&p, "none", err, sizeof err), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.mask, 0);
    assert_int_equal(otel_propagators_from_names(&p, " NONE ,none", err, sizeof err), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(otel_propagators_from_names(&p, "none,b3", err, sizeof err), OTEL_ERR_INVALID);
    assert_non_null(strstr(err, "none"));
}

static void test_otel_propagator_name_all(void **state)
{
    (void)state;
    assert_string_equal(otel_propagator_name(OTEL_PROPAGATOR_TRACECONTEXT), "tracecontext");
    assert_string_equal(otel_propagator_name(OTEL_PROPAGATOR_BAGGAGE), "baggage");
    assert_string_equal(otel_propagator_name(OTEL_PROPAGATOR_B3), "b3");
    assert_string_equal(otel_propagator_name(OTEL_PROPAGATOR_B3MULTI), "b3multi");
    assert_string_equal(otel_propagator_name(OTEL_PROPAGATOR_NONE), "none");
    assert_false(otel_propagators_has(NULL, OTEL_PROPAGATOR_B3));
}

/* ---- otel_propagation_extract: W3C trace context ------------------------- */

static void test_otel_propagation_extract_tracecontext_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *tp;
        bool valid;
    } cases[] = {
        {TP_VALID, true},
        {"00-" TP_TRACE "-" TP_SPAN "-00", true},
        {"00-" TP_TRACE "-" TP_SPAN "-09", true},
        {"01-" TP_TRACE "-" TP_SPAN "-01-what-the-future-will-be-like", true},
        {"cc-" TP_TRACE "-" TP_SPAN "-00", true},
        {" \t" TP_VALID " ", true},
        {"00-00000000000000000000000000000001-0000000000000001-00", true},
        {"ff-" TP_TRACE "-" TP_SPAN "-01", false},
        {"00-0AF7651916CD43DD8448EB211C80319C-" TP_SPAN "-01", false},
        {"00-" TP_TRACE "-" TP_SPAN "-0A", false},
        {"00-" TP_TRACE "-" TP_SPAN "-0", false},
        {"00-" TP_TRACE "-" TP_SPAN "-010", false},
        {TP_VALID "-what-the-future-will-be-like", false},
        {"00-00000000000000000000000000000000-" TP_SPAN "-01", false},
        {"00-" TP_TRACE "-0000000000000000-01", false},
        {"00_" TP_TRACE "-" TP_SPAN "-01", false},
        {"00-" TP_TRACE "-" TP_SPAN "- 1", false},
        {"\n" TP_VALID, false},
        {"", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        otel_span_context direct;
        int rc = otel_traceparent_parse(cases[i].tp, strlen(cases[i].tp), &direct);
        assert_int_equal(rc == 0, cases[i].valid);
        carrier_clear(&in);
        carrier_add(&in, "traceparent", cases[i].tp);
        assert_int_equal(extract("tracecontext"), 0);
        assert_int_equal(otel_span_context_is_valid(&ex.context), cases[i].valid);
        assert_memory_equal(&ex.context, &direct, sizeof direct);
        assert_int_equal(ex.source,
                         cases[i].valid ? OTEL_PROPAGATOR_TRACECONTEXT : OTEL_PROPAGATOR_NONE);
        if (cases[i].valid)
            assert_true(ex.context.is_remote);
    }
}

static void test_otel_propagation_extract_tracestate(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "tracestate", " rojo=00f067aa0ba902b7 ,congo=t61rcWkgMzE");
    assert_int_equal(extract("tracecontext"), 0);
    assert_string_equal(ex.tracestate, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");

    /* An invalid tracestate is dropped; the context stays. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "tracestate", "a=1,B=2");
    assert_int_equal(extract("tracecontext"), 0);
    assert_true(otel_span_context_is_valid(&ex.context));
    assert_string_equal(ex.tracestate, "");

    /* No valid traceparent: no tracestate either. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", "00-" TP_TRACE "-" TP_SPAN "-0x");
    carrier_add(&in, "tracestate", "a=1");
    assert_int_equal(extract("tracecontext"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_string_equal(ex.tracestate, "");
}

static void test_otel_propagation_extract_names_any_case(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "TraceParent", TP_VALID);
    carrier_add(&in, "TRACESTATE", "a=1");
    carrier_add(&in, "x-b3-traceid", B3_TRACE);
    carrier_add(&in, "X-B3-SPANID", B3_SPAN);
    carrier_add(&in, "BAGGAGE", "k=v");
    assert_int_equal(extract("tracecontext,baggage"), 0);
    assert_true(otel_span_context_is_valid(&ex.context));
    assert_string_equal(ex.tracestate, "a=1");
    assert_string_equal(otel_baggage_get(&ex.baggage, "k"), "v");
    assert_int_equal(extract("b3multi"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3MULTI);
}

/* ---- otel_propagation_extract: B3 --------------------------------------- */

static void test_otel_propagation_extract_b3_single(void **state)
{
    (void)state;
    otel_span_context direct;
    assert_int_equal(otel_b3_parse(B3_TRACE "-" B3_SPAN "-d", 51, &direct), 0);
    carrier_clear(&in);
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-d");
    assert_int_equal(extract("b3"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3);
    assert_memory_equal(&ex.context, &direct, sizeof direct);
    assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED);

    carrier_clear(&in);
    carrier_add(&in, "b3", "0");
    assert_int_equal(extract("b3"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_int_equal(ex.source, OTEL_PROPAGATOR_NONE);
}

static void test_otel_propagation_extract_b3_multi(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "X-B3-TraceId", "64fe8b2a57d3eff7");
    carrier_add(&in, "X-B3-SpanId", B3_SPAN);
    carrier_add(&in, "X-B3-ParentSpanId", "zzzz"); /* ignored */
    carrier_add(&in, "X-B3-Sampled", "true");
    assert_int_equal(extract("b3multi"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3MULTI);
    assert_int_equal(ex.context.trace_id[0], 0);
    assert_int_equal(ex.context.trace_id[8], 0x64);
    assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED);

    carrier_add(&in, "X-B3-Flags", "1");
    header *h = carrier_find(&in, "X-B3-Sampled");
    snprintf(h->value, sizeof h->value, "0");
    assert_int_equal(extract("b3multi"), 0);
    assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED); /* debug */

    snprintf(h->value, sizeof h->value, "maybe");
    assert_int_equal(extract("b3multi"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));

    carrier_clear(&in);
    carrier_add(&in, "X-B3-TraceId", B3_TRACE); /* no span id */
    assert_int_equal(extract("b3multi"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
}

/* ---- otel_propagation_extract: order and first valid wins --------------- */

static void test_otel_propagation_extract_first_valid_wins(void **state)
{
    (void)state;
    /* tracecontext invalid, b3 valid: b3's context, and no tracestate. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", "00-" TP_TRACE "-" TP_SPAN "-0g");
    carrier_add(&in, "tracestate", "a=1");
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-1");
    assert_int_equal(extract("tracecontext,b3"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3);
    assert_int_equal(ex.context.trace_id[0], 0x80);
    assert_string_equal(ex.tracestate, "");

    /* Both valid: the first configured wins. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-0");
    assert_int_equal(extract("tracecontext,b3"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_TRACECONTEXT);
    assert_int_equal(ex.context.trace_id[0], 0x0a);
    assert_int_equal(extract("b3,tracecontext"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3);
    assert_int_equal(ex.context.trace_id[0], 0x80);
    assert_int_equal(ex.context.trace_flags, 0);

    /* A b3 deny alone is no context: the b3 propagator goes on to the
     * X-B3-* headers (see test_otel_propagation_extract_b3_both_forms). */
    carrier_clear(&in);
    carrier_add(&in, "b3", "0");
    carrier_add(&in, "X-B3-TraceId", B3_TRACE);
    carrier_add(&in, "X-B3-SpanId", B3_SPAN);
    assert_int_equal(extract("b3,b3multi,tracecontext"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3);
    assert_int_equal(ex.context.trace_id[0], 0x80);

    /* Nothing valid for B3: tracecontext, the next one, runs. */
    carrier_clear(&in);
    carrier_add(&in, "b3", "0");
    carrier_add(&in, "traceparent", TP_VALID);
    assert_int_equal(extract("b3,b3multi,tracecontext"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_TRACECONTEXT);
}

/* W3C Trace Context Level 1, "traceparent Header": the header holds one
 * traceparent; two header lines are not one valid value, and the official
 * suite's test_traceparent_duplicated expects a new trace. The next
 * propagator then gets its chance. */
static void test_otel_propagation_extract_two_traceparents_invalid(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "traceparent", "00-12345678901234567890123456789011-1234567890123456-01");
    carrier_add(&in, "traceparent", "00-12345678901234567890123456789012-1234567890123456-01");
    carrier_add(&in, "tracestate", "foo=1");
    assert_int_equal(extract("tracecontext"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_int_equal(ex.source, OTEL_PROPAGATOR_NONE);
    assert_string_equal(ex.tracestate, ""); /* not read without a traceparent */

    /* The same value twice is two lines as well. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "TraceParent", TP_VALID);
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-1");
    assert_int_equal(extract("tracecontext,b3"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_B3);

    /* A carrier that joined the lines itself: the joined value is invalid. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID ", " TP_VALID);
    assert_int_equal(extract("tracecontext"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
}

/* "tracestate Header Field Values": several tracestate lines are one list,
 * combined in order (RFC 9110 section 5.3), for extraction too. */
static void test_otel_propagation_extract_tracestate_lines(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "tracestate", "foo=1,bar=2");
    carrier_add(&in, "TRACESTATE", "rojo=1,congo=2");
    carrier_add(&in, "tracestate", "");
    carrier_add(&in, "tracestate", "baz=3");
    assert_int_equal(extract("tracecontext"), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_TRACECONTEXT);
    assert_string_equal(ex.tracestate, "foo=1,bar=2,rojo=1,congo=2,baz=3");

    /* An invalid line: no tracestate, the traceparent still counts ("failure
     * to parse tracestate MUST NOT affect the parsing of traceparent"). */
    carrier_add(&in, "tracestate", "Bad=1");
    assert_int_equal(extract("tracecontext"), 0);
    assert_true(otel_span_context_is_valid(&ex.context));
    assert_string_equal(ex.tracestate, "");
}

/* W3C Baggage, "Baggage HTTP Header Format": "Multiple baggage headers are
 * allowed", combined as one list; "Limits": "all limits apply to the
 * combination of all baggage headers and not each header individually". */
static void test_otel_propagation_extract_baggage_lines(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "baggage", "userId=alice");
    carrier_add(&in, "Baggage", "serverNode = DF%2028, isProduction = false");
    assert_int_equal(extract("baggage"), 0);
    assert_int_equal(otel_baggage_count(&ex.baggage), 3);
    assert_string_equal(otel_baggage_get(&ex.baggage, "userId"), "alice");
    assert_string_equal(otel_baggage_get(&ex.baggage, "serverNode"), "DF 28");
    assert_string_equal(otel_baggage_get(&ex.baggage, "isProduction"), "false");

    /* 100 members on each of two lines: 180 in all are kept (the ABNF's
     * 0*179 more), the rest dropped one by one. */
    static char line1[2000], line2[2000];
    size_t a = 0, b = 0;
    for (int i = 0; i < 100; i++) {
        a += (size_t)snprintf(line1 + a, sizeof line1 - a, "%sa%d=1", i ? "," : "", i);
        b += (size_t)snprintf(line2 + b, sizeof line2 - b, "%sb%d=1", i ? "," : "", i);
    }
    carrier_clear(&in);
    carrier_add(&in, "baggage", line1);
    carrier_add(&in, "baggage", line2);
    assert_int_equal(extract("baggage"), 0);
    assert_int_equal(otel_baggage_count(&ex.baggage), OTEL_BAGGAGE_MAX_MEMBERS);
    assert_non_null(otel_baggage_get(&ex.baggage, "a99"));
    assert_non_null(otel_baggage_get(&ex.baggage, "b79"));
    assert_null(otel_baggage_get(&ex.baggage, "b80"));
}

/* OpenTelemetry specification, Propagators API, "B3 Requirements", "B3
 * Extract": propagators "MUST attempt to extract B3 encoded using single
 * and multi-header formats. The single-header variant takes precedence";
 * per its configuration table, b3 and b3multi extract the same way and
 * differ only in the format they inject. */
static void test_otel_propagation_extract_b3_both_forms(void **state)
{
    (void)state;
    static const char *const configs[] = {"b3", "b3multi"};
    for (size_t i = 0; i < 2; i++) {
        otel_propagator kind = i == 0 ? OTEL_PROPAGATOR_B3 : OTEL_PROPAGATOR_B3MULTI;
        carrier_clear(&in);
        carrier_add(&in, "X-B3-TraceId", B3_TRACE);
        carrier_add(&in, "X-B3-SpanId", B3_SPAN);
        carrier_add(&in, "X-B3-Sampled", "1");
        assert_int_equal(extract(configs[i]), 0);
        assert_int_equal(ex.source, kind);
        assert_int_equal(ex.context.trace_id[0], 0x80);
        assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED);

        /* Both forms: the single header wins. */
        carrier_add(&in, "b3", "0af7651916cd43dd8448eb211c80319c-" TP_SPAN "-0");
        assert_int_equal(extract(configs[i]), 0);
        assert_int_equal(ex.source, kind);
        assert_int_equal(ex.context.trace_id[0], 0x0a);
        assert_int_equal(ex.context.trace_flags, 0);

        /* A single header that is no context: the multi headers count. */
        header *h = carrier_find(&in, "b3");
        snprintf(h->value, sizeof h->value, "not-b3");
        assert_int_equal(extract(configs[i]), 0);
        assert_int_equal(ex.context.trace_id[0], 0x80);
    }
}

/* A b3 header that holds one value, sent twice, is not one valid value
 * (RFC 9110 section 5.3: only list fields may be repeated). Of X-B3-*
 * headers the first line counts: openzipkin/b3-propagation, "Multiple
 * Headers": "When extracting state headers, the first value wins." */
static void test_otel_propagation_extract_b3_repeated_lines(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-1");
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-1");
    assert_int_equal(extract("b3"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));

    carrier_clear(&in);
    carrier_add(&in, "X-B3-TraceId", B3_TRACE);
    carrier_add(&in, "X-B3-TraceId", "64fe8b2a57d3eff7");
    carrier_add(&in, "X-B3-SpanId", B3_SPAN);
    carrier_add(&in, "X-B3-SpanId", "0000000000000000");
    assert_int_equal(extract("b3multi"), 0);
    assert_true(otel_span_context_is_valid(&ex.context));
    assert_int_equal(ex.context.trace_id[0], 0x80);
    assert_int_equal(ex.context.span_id[0], 0xe4);

    carrier_clear(&in);
    carrier_add(&in, "X-B3-TraceId", B3_TRACE);
    carrier_add(&in, "X-B3-SpanId", B3_SPAN);
    carrier_add(&in, "X-B3-Sampled", "1");
    carrier_add(&in, "X-B3-Sampled", "0");
    carrier_add(&in, "X-B3-Flags", "0");
    carrier_add(&in, "X-B3-Flags", "1");
    assert_int_equal(extract("b3multi"), 0);
    assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    assert_false(ex.context.debug);
}

/* A carrier of one traceparent and n_lines tracestate lines: blank ones
 * (" , ") but for those of index >= first_member, which hold "k<i>=1". */
typedef struct many_lines {
    size_t n_lines;
    size_t first_member;
    char member[256][16]; /* one per line: valid until extract returns */
} many_lines;

static const char *many_get(void *c, const char *name, size_t index)
{
    many_lines *m = c;
    if (strcasecmp(name, "traceparent") == 0)
        return index == 0 ? TP_VALID : NULL;
    if (strcasecmp(name, "tracestate") != 0 || index >= m->n_lines)
        return NULL;
    if (index < m->first_member)
        return " , ";
    if (index >= 256)
        return "kz=1";
    snprintf(m->member[index], sizeof m->member[index], "k%u=1", (unsigned)index);
    return m->member[index];
}

/* W3C Trace Context: "Empty and whitespace-only list members are allowed"
 * and several tracestate lines "MUST be combined": 100 blank lines before a
 * member are that member. Members on more than 32 lines are more than 32
 * members: no tracestate (the traceparent still counts). */
static void test_otel_propagation_extract_tracestate_many_lines(void **state)
{
    (void)state;
    otel_propagators p = props("tracecontext");
    static many_lines m;
    m = (many_lines){.n_lines = 101, .first_member = 100};
    assert_int_equal(otel_propagation_extract(&p, many_get, &m, &ex), 0);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_TRACECONTEXT);
    assert_string_equal(ex.tracestate, "k100=1");

    m = (many_lines){.n_lines = 32, .first_member = 0};
    assert_int_equal(otel_propagation_extract(&p, many_get, &m, &ex), 0);
    assert_non_null(strstr(ex.tracestate, "k31=1"));
    m = (many_lines){.n_lines = 33, .first_member = 0};
    assert_int_equal(otel_propagation_extract(&p, many_get, &m, &ex), 0);
    assert_string_equal(ex.tracestate, "");
    m = (many_lines){.n_lines = 200, .first_member = 0};
    assert_int_equal(otel_propagation_extract(&p, many_get, &m, &ex), 0);
    assert_string_equal(ex.tracestate, "");
    assert_true(otel_span_context_is_valid(&ex.context));
}

/* "B3 Extract": propagators "MUST preserve a debug trace flag, if received,
 * and propagate it with subsequent requests. Additionally, an OpenTelemetry
 * implementation MUST set the sampled trace flag when the debug flag is
 * set." The debug flag goes out as "d" (single) or X-B3-Flags: 1 (multi),
 * and openzipkin/b3-propagation: "Debug implies an accept decision, so
 * don't also send the X-B3-Sampled header". */
static void test_otel_propagation_b3_debug_kept(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "b3", B3_TRACE "-" B3_SPAN "-d");
    assert_int_equal(extract("b3"), 0);
    assert_true(ex.context.debug);
    assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    inject("b3", &ex.context, NULL, NULL);
    assert_string_equal(out_get("b3"), B3_TRACE "-" B3_SPAN "-d");
    inject("b3multi", &ex.context, NULL, NULL);
    assert_string_equal(out_get("X-B3-Flags"), "1");
    assert_null(out_get("X-B3-Sampled"));
    inject("tracecontext", &ex.context, NULL, NULL);
    assert_string_equal(out_get("traceparent"), "00-" B3_TRACE "-" B3_SPAN "-01");

    carrier_clear(&in);
    carrier_add(&in, "X-B3-TraceId", B3_TRACE);
    carrier_add(&in, "X-B3-SpanId", B3_SPAN);
    carrier_add(&in, "X-B3-Sampled", "0");
    carrier_add(&in, "X-B3-Flags", "1");
    assert_int_equal(extract("b3multi"), 0);
    assert_true(ex.context.debug);
    assert_int_equal(ex.context.trace_flags, OTEL_TRACE_FLAG_SAMPLED);
    inject("b3", &ex.context, NULL, NULL);
    assert_string_equal(out_get("b3"), B3_TRACE "-" B3_SPAN "-d");

    /* Without debug: the sampled flag as it is, no X-B3-Flags. */
    header *h = carrier_find(&in, "X-B3-Flags");
    snprintf(h->value, sizeof h->value, "0");
    assert_int_equal(extract("b3multi"), 0);
    assert_false(ex.context.debug);
    inject("b3multi", &ex.context, NULL, NULL);
    assert_string_equal(out_get("X-B3-Sampled"), "0");
    assert_null(out_get("X-B3-Flags"));
}

/* The process's configured set: the default until set, then what was set,
 * read whole from any thread. */
static void test_otel_propagators_global_set_and_read(void **state)
{
    (void)state;
    otel_propagators p;
    otel_propagators_set_global(NULL);
    otel_propagators_global(&p);
    otel_propagators def = props(OTEL_PROPAGATORS_DEFAULT);
    assert_memory_equal(&p, &def, sizeof p);

    otel_propagators b3 = props("b3multi, baggage, b3");
    otel_propagators_set_global(&b3);
    otel_propagators_global(&p);
    assert_memory_equal(&p, &b3, sizeof p);

    otel_propagators none = props("none");
    otel_propagators_set_global(&none);
    otel_propagators_global(&p);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.mask, 0);

    otel_propagators_set_global(NULL);
    otel_propagators_global(&p);
    assert_memory_equal(&p, &def, sizeof p);
}

static void test_otel_propagation_extract_unconfigured_ignored(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "baggage", "k=v");
    assert_int_equal(extract("b3,b3multi"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_int_equal(otel_baggage_count(&ex.baggage), 0);
    assert_int_equal(extract("none"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_int_equal(otel_baggage_count(&ex.baggage), 0);
}

static void test_otel_propagation_extract_baggage_independent(void **state)
{
    (void)state;
    carrier_clear(&in);
    carrier_add(&in, "baggage", "user=alice;p,tenant=t%201");
    assert_int_equal(extract("tracecontext,baggage"), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_int_equal(otel_baggage_count(&ex.baggage), 2);
    assert_string_equal(otel_baggage_get(&ex.baggage, "tenant"), "t 1");

    carrier_add(&in, "traceparent", TP_VALID);
    assert_int_equal(extract("baggage,tracecontext"), 0);
    assert_true(otel_span_context_is_valid(&ex.context));
    assert_int_equal(otel_baggage_count(&ex.baggage), 2);
}

static void test_otel_propagation_extract_resets_out(void **state)
{
    (void)state;
    memset(&ex, 0x5a, sizeof ex);
    carrier_clear(&in);
    assert_int_equal(extract(OTEL_PROPAGATORS_DEFAULT), 0);
    assert_false(otel_span_context_is_valid(&ex.context));
    assert_false(ex.context.is_remote);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_NONE);
    assert_string_equal(ex.tracestate, "");
    assert_int_equal(otel_baggage_count(&ex.baggage), 0);

    otel_propagators p = props("tracecontext");
    memset(&ex, 0x5a, sizeof ex);
    assert_int_equal(otel_propagation_extract(&p, NULL, &in, &ex), OTEL_ERR_INVALID);
    assert_int_equal(ex.source, OTEL_PROPAGATOR_NONE);
    assert_int_equal(otel_propagation_extract(NULL, get, &in, &ex), OTEL_ERR_INVALID);
    assert_int_equal(otel_propagation_extract(&p, get, &in, NULL), OTEL_ERR_INVALID);
}

/* ---- otel_propagation_inject -------------------------------------------- */

static void test_otel_propagation_inject_tracecontext(void **state)
{
    (void)state;
    otel_span_context sc = context_of(TP_VALID);
    inject("tracecontext", &sc, "rojo=1,congo=2", NULL);
    assert_int_equal(out.n, 2);
    assert_string_equal(out_get("traceparent"), TP_VALID);
    assert_string_equal(out_get("tracestate"), "rojo=1,congo=2");

    inject("tracecontext", &sc, "", NULL);
    assert_int_equal(out.n, 1);
    inject("tracecontext", &sc, NULL, NULL);
    assert_int_equal(out.n, 1);
    assert_null(out_get("tracestate"));
}

static void test_otel_propagation_inject_tracestate_revalidated(void **state)
{
    (void)state;
    otel_span_context sc = context_of(TP_VALID);
    inject("tracecontext", &sc, " a=1 ,, b=2 ", NULL);
    assert_string_equal(out_get("tracestate"), "a=1,b=2");
    inject("tracecontext", &sc, "a=1,B=2", NULL);
    assert_null(out_get("tracestate"));
    assert_non_null(out_get("traceparent"));
}

static void test_otel_propagation_inject_b3(void **state)
{
    (void)state;
    otel_span_context sc = context_of(TP_VALID);
    inject("b3", &sc, "a=1", NULL);
    assert_int_equal(out.n, 1);
    assert_string_equal(out_get("b3"), TP_TRACE "-" TP_SPAN "-1");
    sc.trace_flags = 0;
    inject("b3", &sc, NULL, NULL);
    assert_string_equal(out_get("b3"), TP_TRACE "-" TP_SPAN "-0");
}

static void test_otel_propagation_inject_b3multi(void **state)
{
    (void)state;
    otel_span_context sc = context_of(TP_VALID);
    inject("b3multi", &sc, NULL, NULL);
    assert_int_equal(out.n, 3);
    assert_string_equal(out_get("X-B3-TraceId"), TP_TRACE);
    assert_string_equal(out_get("X-B3-SpanId"), TP_SPAN);
    assert_string_equal(out_get("X-B3-Sampled"), "1");
    assert_null(out_get("X-B3-ParentSpanId"));
    assert_null(out_get("X-B3-Flags"));
    sc.trace_flags = 0x02;
    inject("b3multi", &sc, NULL, NULL);
    assert_string_equal(out_get("X-B3-Sampled"), "0");
}

static void test_otel_propagation_inject_baggage(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    inject("baggage", NULL, NULL, &bag);
    assert_int_equal(out.n, 0); /* empty: no header */
    inject("baggage", NULL, NULL, NULL);
    assert_int_equal(out.n, 0);
    assert_int_equal(otel_baggage_set(&bag, "user", "a b", "p"), 0);
    inject("baggage", NULL, NULL, &bag);
    assert_int_equal(out.n, 1);
    assert_string_equal(out_get("baggage"), "user=a%20b;p");
}

static void test_otel_propagation_inject_invalid_context(void **state)
{
    (void)state;
    otel_span_context zero;
    memset(&zero, 0, sizeof zero);
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "v", NULL), 0);
    inject("tracecontext,b3,b3multi,baggage", &zero, "a=1", &bag);
    assert_int_equal(out.n, 1);
    assert_string_equal(out_get("baggage"), "k=v");
    inject("tracecontext,b3,b3multi,baggage", NULL, "a=1", &bag);
    assert_int_equal(out.n, 1);
}

static void test_otel_propagation_inject_all_in_order(void **state)
{
    (void)state;
    otel_span_context sc = context_of(TP_VALID);
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "v", NULL), 0);
    inject("b3multi,baggage,b3,tracecontext", &sc, "a=1", &bag);
    const char *want[] = {"X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled", "baggage",
                          "b3",           "traceparent", "tracestate"};
    assert_int_equal(out.n, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(out.h[i].name, want[i]);
    inject("none", &sc, "a=1", &bag);
    assert_int_equal(out.n, 0);
    otel_propagators p = props("b3");
    otel_propagation_inject(NULL, &sc, NULL, NULL, set, &out);
    otel_propagation_inject(&p, &sc, NULL, NULL, NULL, &out);
}

/* Inject with one propagator, extract what was written with it. */
static void round_trip(const char *names, uint8_t flags)
{
    otel_span_context sc = context_of(TP_VALID);
    sc.trace_flags = flags;
    sc.is_remote = false;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "v,;\r\n\xc3\xa9", "p=1"), 0);
    inject(names, &sc, "x=1,y=2", &bag);
    memcpy(&in, &out, sizeof in);
    assert_int_equal(extract(names), 0);
    assert_true(otel_span_context_is_valid(&ex.context));
    assert_memory_equal(ex.context.trace_id, sc.trace_id, 16);
    assert_memory_equal(ex.context.span_id, sc.span_id, 8);
    assert_int_equal(ex.context.trace_flags, flags);
    assert_true(ex.context.is_remote);
    assert_string_equal(otel_baggage_get(&ex.baggage, "k"), "v,;\r\n\xc3\xa9");
}

static void test_otel_propagation_inject_round_trip(void **state)
{
    (void)state;
    const char *sets[] = {"tracecontext,baggage", "b3,baggage", "b3multi,baggage"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        round_trip(sets[i], 0);
        round_trip(sets[i], OTEL_TRACE_FLAG_SAMPLED);
    }
    round_trip("tracecontext,baggage", 0);
    assert_string_equal(ex.tracestate, "x=1,y=2");
}

/* ---- CR/LF and other control bytes never reach a header ----------------- */

static void test_otel_propagation_inject_crlf_tracestate(void **state)
{
    (void)state;
    otel_span_context sc = context_of(TP_VALID);
    const char *evil[] = {"a=1\r\nX-Evil: 1", "a=1,b=x\r\nX-Evil: 1", "a=1\n", "\r\na=1",
                          "a=\x01",           "a=1,b=\x7f",           "a=1\r"};
    for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
        inject("tracecontext", &sc, evil[i], NULL);
        assert_non_null(out_get("traceparent"));
        assert_null(out_get("tracestate"));
        assert_null(out_get("X-Evil"));
    }
    /* The same through an incoming request. */
    carrier_clear(&in);
    carrier_add(&in, "traceparent", TP_VALID);
    carrier_add(&in, "tracestate", "a=1\r\nX-Evil: 1");
    assert_int_equal(extract("tracecontext"), 0);
    assert_string_equal(ex.tracestate, "");
}

static void test_otel_propagation_inject_crlf_baggage(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "v\r\nX-Evil: 1", NULL), 0);
    assert_int_equal(otel_baggage_set(&bag, "k\r\nX-Evil", "1", NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_baggage_set(&bag, "j", "1", "p\r\nX-Evil: 1"), OTEL_ERR_INVALID);
    inject("baggage", NULL, NULL, &bag);
    assert_string_equal(out_get("baggage"), "k=v%0D%0AX-Evil:%201");

    carrier_clear(&in);
    carrier_add(&in, "baggage", "k=v%0D%0AX-Evil:%201,j=1;p%0D%0A,x=\r\nX-Evil: 1");
    assert_int_equal(extract("baggage"), 0);
    assert_string_equal(otel_baggage_get(&ex.baggage, "k"), "v\r\nX-Evil: 1");
    assert_null(otel_baggage_get(&ex.baggage, "x")); /* raw CR LF: dropped */
    inject("baggage", NULL, NULL, &ex.baggage);
    /* "p%0D%0A" is a token: a property name kept as sent. */
    assert_string_equal(out_get("baggage"), "k=v%0D%0AX-Evil:%201,j=1;p%0D%0A");
}

static void test_otel_propagation_inject_guard_blocks_corrupted_baggage(void **state)
{
    (void)state;
    otel_baggage_init(&bag);
    assert_int_equal(otel_baggage_set(&bag, "k", "v", NULL), 0);
    /* Bypass the API: a control byte written straight into the key. */
    char *key = strstr(bag.buf, "k");
    assert_non_null(key);
    *key = '\n';
    inject("baggage", NULL, NULL, &bag);
    assert_int_equal(out.n, 0);
}

/* A value of up to max random bytes: mostly any byte but NUL, sometimes a
 * valid header with a few bytes replaced by CR, LF or others. */
static size_t random_value(char *v, size_t max, const char *valid)
{
    size_t n;
    if (rnd() % 2 == 0 && valid != NULL) {
        n = strlen(valid);
        memcpy(v, valid, n);
        static const char bad[] = {'\r', '\n', '\t', 0x01, 0x7f, (char)0x80, (char)0xff,
                                   ',',  '=',  ';',  '%',  ' ',  '-',        '0'};
        for (uint32_t k = rnd() % 4; k > 0 && n > 0; k--)
            v[rnd() % n] = bad[rnd() % sizeof bad];
        if (rnd() % 4 == 0 && n + 12 < max) {
            memcpy(v + n, "\r\nX-Evil: 1", 11);
            n += 11;
        }
    } else {
        n = rnd() % max;
        for (size_t i = 0; i < n; i++) {
            v[i] = (char)(rnd() % 255 + 1);
            if (rnd() % 8 == 0)
                v[i] = "\r\n%,;=-"[rnd() % 7];
        }
    }
    v[n] = '\0';
    return n;
}

static void test_otel_propagation_inject_fuzz_no_control_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *valid;
    } headers[] = {
        {"traceparent", TP_VALID},
        {"tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
        {"b3", B3_TRACE "-" B3_SPAN "-1"},
        {"X-B3-TraceId", B3_TRACE},
        {"X-B3-SpanId", B3_SPAN},
        {"X-B3-Sampled", "1"},
        {"X-B3-Flags", "1"},
        {"baggage", "k=v%0D%0A;p=1,user=a%20b,x=%C3%A9"},
    };
    static char v[600];
    static char v2[64];
    otel_propagators all = props("tracecontext,b3,b3multi,baggage");
    size_t injected = 0;
    size_t with_state = 0;
    size_t with_baggage = 0;

    for (int iter = 0; iter < 20000; iter++) {
        carrier_clear(&in);
        for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
            size_t n = random_value(v, sizeof v - 16, headers[i].valid);
            carrier_addn(&in, headers[i].name, v, n);
        }
        /* Incoming headers out again: every value checked by set(). */
        assert_int_equal(otel_propagation_extract(&all, get, &in, &ex), 0);
        carrier_clear(&out);
        otel_propagation_inject(&all, &ex.context, ex.tracestate, &ex.baggage, set, &out);
        injected += out.n;
        with_state += out_get("tracestate") != NULL;
        with_baggage += out_get("baggage") != NULL;

        /* Caller-made values: a random tracestate and baggage members. */
        otel_span_context sc = context_of(TP_VALID);
        random_value(v, sizeof v - 16, headers[1].valid);
        otel_baggage_init(&bag);
        for (int m = 0; m < 4; m++) {
            random_value(v2, 16, "key");
            char val[64];
            random_value(val, 32, "value");
            char pr[64];
            random_value(pr, 16, "p=1");
            (void)otel_baggage_set(&bag, v2, val, rnd() % 2 ? pr : NULL);
            (void)otel_baggage_set(&bag, "k", val, NULL);
        }
        carrier_clear(&out);
        otel_propagation_inject(&all, &sc, v, &bag, set, &out);
        injected += out.n;
        with_state += out_get("tracestate") != NULL;
        with_baggage += out_get("baggage") != NULL;

        /* Tracestate mutation with random keys and values stays valid. */
        char ts[OTEL_TRACESTATE_MAX] = "a=1,b=2";
        random_value(v2, 16, "vendor");
        if (otel_tracestate_update(ts, sizeof ts, v2, v) >= 0) {
            char check[OTEL_TRACESTATE_MAX];
            assert_int_equal(otel_tracestate_parse(ts, strlen(ts), check, sizeof check),
                             (int)strlen(ts));
        }
    }
    /* The loop did inject, hostile inputs included. */
    assert_true(injected > 20000);
    assert_true(with_state > 2000);
    assert_true(with_baggage > 2000);
}

/* ---- otel_tracestate_update --------------------------------------------- */

/* "k<i>=v" members joined by ',' into ts. */
static void ts_members(char *ts, size_t cap, size_t n)
{
    size_t w = 0;
    ts[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(ts + w, cap - w, "%sk%zu=v", i > 0 ? "," : "", i);
        assert_true(k > 0 && (size_t)k < cap - w);
        w += (size_t)k;
    }
}

static size_t ts_count(const char *ts)
{
    size_t n = ts[0] != '\0' ? 1 : 0;
    for (; *ts != '\0'; ts++)
        n += *ts == ',';
    return n;
}

static void update_expect(const char *before, const char *key, const char *value, const char *after)
{
    char ts[OTEL_TRACESTATE_MAX];
    snprintf(ts, sizeof ts, "%s", before);
    assert_int_equal(otel_tracestate_update(ts, sizeof ts, key, value), (int)strlen(after));
    assert_string_equal(ts, after);
}

static void update_refused(const char *key, const char *value, int rc)
{
    char ts[OTEL_TRACESTATE_MAX] = "a=1,b=2";
    assert_int_equal(otel_tracestate_update(ts, sizeof ts, key, value), rc);
    assert_string_equal(ts, "a=1,b=2");
}

static void test_otel_tracestate_update_add(void **state)
{
    (void)state;
    update_expect("", "rojo", "00f067aa0ba902b7", "rojo=00f067aa0ba902b7");
    update_expect("a=1,b=2", "c", "3", "c=3,a=1,b=2");
    update_expect(" a=1 ,, b=2 ", "c", "3", "c=3,a=1,b=2");
    update_expect("a=1", "t@sys", "x y", "t@sys=x y,a=1");
}

static void test_otel_tracestate_update_moves_to_front(void **state)
{
    (void)state;
    update_expect("a=1,b=2,c=3", "b", "9", "b=9,a=1,c=3");
    update_expect("a=1,b=2,c=3", "c", "3", "c=3,a=1,b=2");
    update_expect("a=1,b=2,c=3", "a", "0", "a=0,b=2,c=3");
    update_expect("ab=1,a=2,abc=3", "a", "x", "a=x,ab=1,abc=3");
}

static void test_otel_tracestate_update_invalid_refused(void **state)
{
    (void)state;
    char long_value[300];
    memset(long_value, 'v', sizeof long_value);
    long_value[257] = '\0';
    update_refused("", "1", OTEL_ERR_INVALID);
    update_refused("Foo", "1", OTEL_ERR_INVALID);
    update_refused("@foo", "1", OTEL_ERR_INVALID);
    update_refused(" a", "1", OTEL_ERR_INVALID);
    update_refused("a,b", "1", OTEL_ERR_INVALID);
    update_refused("a=b", "1", OTEL_ERR_INVALID);
    update_refused("c", "", OTEL_ERR_INVALID);
    update_refused("c", "x,d=1", OTEL_ERR_INVALID);
    update_refused("c", "x=y", OTEL_ERR_INVALID);
    update_refused("c", "x ", OTEL_ERR_INVALID);
    update_refused("c", "x\r\nX-Evil: 1", OTEL_ERR_INVALID);
    update_refused("c", "\xc3\xa9", OTEL_ERR_INVALID);
    update_refused("c", long_value, OTEL_ERR_INVALID);
    long_value[256] = '\0';
    char ts[OTEL_TRACESTATE_MAX] = "a=1";
    assert_int_equal(otel_tracestate_update(ts, sizeof ts, "c", long_value), 2 + 256 + 4);
    assert_memory_equal(ts, "c=vvv", 5);
    assert_string_equal(ts + 258, ",a=1");
}

static void test_otel_tracestate_update_33rd_dropped(void **state)
{
    (void)state;
    char ts[OTEL_TRACESTATE_MAX];
    ts_members(ts, sizeof ts, 32);
    assert_true(otel_tracestate_update(ts, sizeof ts, "new", "1") > 0);
    assert_int_equal(ts_count(ts), 32);
    assert_memory_equal(ts, "new=1,k0=v,", 11);
    assert_null(strstr(ts, "k31="));
    assert_non_null(strstr(ts, ",k30=v"));

    /* Updating a member of a full list drops nothing. */
    ts_members(ts, sizeof ts, 32);
    assert_true(otel_tracestate_update(ts, sizeof ts, "k31", "w") > 0);
    assert_int_equal(ts_count(ts), 32);
    assert_memory_equal(ts, "k31=w,k0=v,", 11);
    assert_non_null(strstr(ts, ",k30=v"));
}

static void test_otel_tracestate_update_byte_limit(void **state)
{
    (void)state;
    char ts[16] = "a=1,b=2,c=3";
    assert_int_equal(otel_tracestate_update(ts, 12, "d", "4"), 11);
    assert_string_equal(ts, "d=4,a=1,b=2");
    assert_int_equal(otel_tracestate_update(ts, 12, "long", "123456"), 11);
    assert_string_equal(ts, "long=123456");
    assert_int_equal(otel_tracestate_update(ts, 12, "longer", "123456"), OTEL_ERR_RANGE);
    assert_string_equal(ts, "long=123456");

    /* The new member stays; long others go first. */
    char big[OTEL_TRACESTATE_MAX];
    char v[201];
    memset(v, 'x', 200);
    v[200] = '\0';
    snprintf(big, sizeof big, "a=1,l1=%s,b=2,l2=%s,c=3", v, v);
    int n = otel_tracestate_update(big, sizeof big, "n", v);
    assert_true(n > 0 && n < OTEL_TRACESTATE_MAX);
    assert_memory_equal(big, "n=xxx", 5);
    assert_non_null(strstr(big, ",a=1,l1="));
    assert_null(strstr(big, "l2="));
    assert_non_null(strstr(big, ",b=2,c=3"));
}

static void test_otel_tracestate_update_invalid_ts(void **state)
{
    (void)state;
    char ts[16] = "A=1";
    assert_int_equal(otel_tracestate_update(ts, sizeof ts, "b", "2"), OTEL_ERR_INVALID);
    assert_string_equal(ts, "A=1");
    char unterminated[4] = {'a', '=', '1', '2'};
    assert_int_equal(otel_tracestate_update(unterminated, sizeof unterminated, "b", "2"),
                     OTEL_ERR_INVALID);
    assert_memory_equal(unterminated, "a=12", 4);
    assert_int_equal(otel_tracestate_update(NULL, 8, "b", "2"), OTEL_ERR_INVALID);
    assert_int_equal(otel_tracestate_update(ts, 0, "b", "2"), OTEL_ERR_INVALID);
    assert_int_equal(otel_tracestate_update(ts, sizeof ts, NULL, "2"), OTEL_ERR_INVALID);
    assert_int_equal(otel_tracestate_update(ts, sizeof ts, "b", NULL), OTEL_ERR_INVALID);
}

static void test_otel_tracestate_update_result_valid(void **state)
{
    (void)state;
    char ts[OTEL_TRACESTATE_MAX] = "";
    char key[8];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i % 40);
        assert_true(otel_tracestate_update(ts, sizeof ts, key, "value-value-value") > 0);
        char check[OTEL_TRACESTATE_MAX];
        assert_int_equal(otel_tracestate_parse(ts, strlen(ts), check, sizeof check),
                         (int)strlen(ts));
        assert_string_equal(check, ts);
        assert_true(ts_count(ts) <= 32);
        char got[32];
        assert_int_equal(otel_tracestate_get(ts, key, got, sizeof got), 17);
        assert_memory_equal(ts, key, strlen(key));
    }
}

/* ---- otel_tracestate_get ------------------------------------------------ */

static void test_otel_tracestate_get_found(void **state)
{
    (void)state;
    char v[32];
    const char *ts = "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE ,t@sys=x y";
    assert_int_equal(otel_tracestate_get(ts, "rojo", v, sizeof v), 16);
    assert_string_equal(v, "00f067aa0ba902b7");
    assert_int_equal(otel_tracestate_get(ts, "congo", v, sizeof v), 11);
    assert_string_equal(v, "t61rcWkgMzE");
    assert_int_equal(otel_tracestate_get(ts, "t@sys", v, sizeof v), 3);
    assert_string_equal(v, "x y");
}

static void test_otel_tracestate_get_absent(void **state)
{
    (void)state;
    char v[32];
    memset(v, 'X', sizeof v);
    assert_int_equal(otel_tracestate_get("ab=1,abc=2", "a", v, sizeof v), 0);
    assert_string_equal(v, "");
    assert_int_equal(otel_tracestate_get("ab=1", "abc", v, sizeof v), 0);
    assert_int_equal(otel_tracestate_get("", "a", v, sizeof v), 0);
    assert_int_equal(otel_tracestate_get(NULL, "a", v, sizeof v), 0);
    assert_int_equal(otel_tracestate_get("a=1", "", v, sizeof v), 0);
    assert_int_equal(otel_tracestate_get("a=1", "a", NULL, 4), OTEL_ERR_INVALID);
}

static void test_otel_tracestate_get_small_cap(void **state)
{
    (void)state;
    char v[4];
    assert_int_equal(otel_tracestate_get("a=123", "a", v, sizeof v), 3);
    assert_int_equal(otel_tracestate_get("a=1234", "a", v, sizeof v), OTEL_ERR_RANGE);
    assert_string_equal(v, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_propagators_from_names_default),
        cmocka_unit_test(test_otel_propagators_from_names_comma_list),
        cmocka_unit_test(test_otel_propagators_from_names_space_separated),
        cmocka_unit_test(test_otel_propagators_from_names_any_case),
        cmocka_unit_test(test_otel_propagators_from_names_repeats),
        cmocka_unit_test(test_otel_propagators_from_names_unknown),
        cmocka_unit_test(test_otel_propagators_from_names_unknown_sanitized),
        cmocka_unit_test(test_otel_propagators_from_names_none),
        cmocka_unit_test(test_otel_propagator_name_all),
        cmocka_unit_test(test_otel_propagation_extract_tracecontext_vectors),
        cmocka_unit_test(test_otel_propagation_extract_tracestate),
        cmocka_unit_test(test_otel_propagation_extract_names_any_case),
        cmocka_unit_test(test_otel_propagation_extract_b3_single),
        cmocka_unit_test(test_otel_propagation_extract_b3_multi),
        cmocka_unit_test(test_otel_propagation_extract_first_valid_wins),
        cmocka_unit_test(test_otel_propagation_extract_two_traceparents_invalid),
        cmocka_unit_test(test_otel_propagation_extract_tracestate_lines),
        cmocka_unit_test(test_otel_propagation_extract_baggage_lines),
        cmocka_unit_test(test_otel_propagation_extract_b3_both_forms),
        cmocka_unit_test(test_otel_propagation_extract_b3_repeated_lines),
        cmocka_unit_test(test_otel_propagation_extract_tracestate_many_lines),
        cmocka_unit_test(test_otel_propagation_b3_debug_kept),
        cmocka_unit_test(test_otel_propagators_global_set_and_read),
        cmocka_unit_test(test_otel_propagation_extract_unconfigured_ignored),
        cmocka_unit_test(test_otel_propagation_extract_baggage_independent),
        cmocka_unit_test(test_otel_propagation_extract_resets_out),
        cmocka_unit_test(test_otel_propagation_inject_tracecontext),
        cmocka_unit_test(test_otel_propagation_inject_tracestate_revalidated),
        cmocka_unit_test(test_otel_propagation_inject_b3),
        cmocka_unit_test(test_otel_propagation_inject_b3multi),
        cmocka_unit_test(test_otel_propagation_inject_baggage),
        cmocka_unit_test(test_otel_propagation_inject_invalid_context),
        cmocka_unit_test(test_otel_propagation_inject_all_in_order),
        cmocka_unit_test(test_otel_propagation_inject_round_trip),
        cmocka_unit_test(test_otel_propagation_inject_crlf_tracestate),
        cmocka_unit_test(test_otel_propagation_inject_crlf_baggage),
        cmocka_unit_test(test_otel_propagation_inject_guard_blocks_corrupted_baggage),
        cmocka_unit_test(test_otel_propagation_inject_fuzz_no_control_bytes),
        cmocka_unit_test(test_otel_tracestate_update_add),
        cmocka_unit_test(test_otel_tracestate_update_moves_to_front),
        cmocka_unit_test(test_otel_tracestate_update_invalid_refused),
        cmocka_unit_test(test_otel_tracestate_update_33rd_dropped),
        cmocka_unit_test(test_otel_tracestate_update_byte_limit),
        cmocka_unit_test(test_otel_tracestate_update_invalid_ts),
        cmocka_unit_test(test_otel_tracestate_update_result_valid),
        cmocka_unit_test(test_otel_tracestate_get_found),
        cmocka_unit_test(test_otel_tracestate_get_absent),
        cmocka_unit_test(test_otel_tracestate_get_small_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
