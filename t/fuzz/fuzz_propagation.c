/* fuzz_propagation.c - libFuzzer target of otel_propagation_extract and
 * otel_propagation_inject through carriers. Input: one byte that picks the
 * propagator set, then header lines "name: value" separated by '\n'. What
 * is extracted is injected again, and what is injected is extracted again. */
#include "fuzz.h"

#include <strings.h>

#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

#define LINES_MAX 64

/* Header lines of a request, as an incoming carrier. */
typedef struct carrier {
    size_t n;
    char *name[LINES_MAX];
    char *value[LINES_MAX];
} carrier;

/* The value of the index-th line called name (any case), or NULL past the
 * last one. */
static const char *carrier_field(const carrier *c, const char *name, size_t index)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcasecmp(c->name[i], name) == 0 && index-- == 0)
            return c->value[i];
    }
    return NULL;
}

/* The otel_carrier_get of <mhd-otel/propagation.h>: the index-th line. */
static const char *carrier_get_line(void *c, const char *name, size_t index)
{
    return carrier_field(c, name, index);
}

/* The first line of name. */
static const char *carrier_get(void *c, const char *name)
{
    return carrier_field(c, name, 0);
}

static size_t carrier_count(const carrier *c, const char *name)
{
    size_t n = 0;
    while (carrier_field(c, name, n) != NULL)
        n++;
    return n;
}

static void carrier_add(carrier *c, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (c->n == LINES_MAX)
        return;
    c->name[c->n] = fuzz_strndup((const uint8_t *)name, nlen);
    c->value[c->n] = fuzz_strndup((const uint8_t *)value, vlen);
    c->n++;
}

static void carrier_free(carrier *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->name[i]);
        free(c->value[i]);
    }
    c->n = 0;
}

/* The injection setter: checks every value and name as it comes. */
static void carrier_set(void *cv, const char *name, const char *value)
{
    carrier *c = cv;
    static const char *const known[] = {"traceparent",  "tracestate",   "b3",
                                        "baggage",      "X-B3-TraceId", "X-B3-SpanId",
                                        "X-B3-Sampled", "X-B3-Flags"};
    bool ok = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ok = ok || strcmp(name, known[i]) == 0;
    FUZZ_CHECK(ok, "injected header name \"%s\"", name);
    FUZZ_CHECK(fuzz_printable(value, strlen(value)), "byte outside 0x20-0x7e in %s", name);
    FUZZ_CHECK(carrier_count(c, name) == 0, "%s injected twice", name);
    carrier_add(c, name, strlen(name), value, strlen(value));
}

/* Split "name: value" lines (value without the blanks before it). */
static void carrier_parse(carrier *c, const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl != NULL ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL) {
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            carrier_add(c, p, (size_t)(colon - p), v, (size_t)(eol - v));
        }
        p = eol + 1;
    }
}

/* The set byte b names: four 2-bit fields, each a propagator. */
static void propagators_of(uint8_t b, otel_propagators *p)
{
    static const char *const names[] = {"tracecontext", "baggage", "b3", "b3multi"};
    char list[64];
    size_t n = (b >> 6 & 3) + 1, w = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++)
        w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i > 0 ? "," : "",
                              names[b >> (2 * i) & 3]);
    FUZZ_CHECK(otel_propagators_from_names(p, list, NULL, 0) == OTEL_OK, "set \"%s\"", list);
}

static bool same_ids(const otel_span_context *a, const otel_span_context *b)
{
    return memcmp(a->trace_id, b->trace_id, 16) == 0 && memcmp(a->span_id, b->span_id, 8) == 0 &&
           (a->trace_flags & OTEL_TRACE_FLAG_SAMPLED) == (b->trace_flags & OTEL_TRACE_FLAG_SAMPLED);
}

/* What one trace propagator reads from c on its own (false: nothing). */
static bool extract_alone(otel_propagator kind, carrier *c, otel_span_context *sc)
{
    const char *v;
    switch (kind) {
    case OTEL_PROPAGATOR_TRACECONTEXT:
        v = carrier_get(c, "traceparent");
        return v != NULL && otel_traceparent_parse(v, strlen(v), sc) == OTEL_OK;
    case OTEL_PROPAGATOR_B3:
    case OTEL_PROPAGATOR_B3MULTI: /* both read the single header, then X-B3-* */
        v = carrier_get(c, "b3");
        if (v != NULL && otel_b3_parse(v, strlen(v), sc) == OTEL_OK)
            return true;
        return carrier_get(c, "x-b3-traceid") != NULL && carrier_get(c, "x-b3-spanid") != NULL &&
               otel_b3_multi_parse(carrier_get(c, "x-b3-traceid"), carrier_get(c, "x-b3-spanid"),
                                   carrier_get(c, "x-b3-sampled"), carrier_get(c, "x-b3-flags"),
                                   sc) == OTEL_OK;
    default:
        return false;
    }
}

/* The header names of a trace propagator: counted to know when each is
 * given once (then the result is what the parsers say of that line). */
static bool single_lines(const carrier *c)
{
    static const char *const names[] = {"traceparent",  "tracestate",   "b3",
                                        "baggage",      "x-b3-traceid", "x-b3-spanid",
                                        "x-b3-sampled", "x-b3-flags"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (carrier_count(c, names[i]) > 1)
            return false;
    }
    return true;
}

static void check_extracted(const otel_propagators *p, carrier *c, const otel_extracted *ex)
{
    otel_span_context zero;
    memset(&zero, 0, sizeof zero);
    size_t tl = strnlen(ex->tracestate, sizeof ex->tracestate);
    FUZZ_CHECK(tl < sizeof ex->tracestate, "tracestate not terminated");
    FUZZ_CHECK(fuzz_printable(ex->tracestate, tl), "unprintable tracestate");
    if (ex->source == OTEL_PROPAGATOR_NONE) {
        FUZZ_CHECK(memcmp(&ex->context, &zero, sizeof zero) == 0, "context without a source");
    } else {
        FUZZ_CHECK(otel_propagators_has(p, ex->source) && ex->source != OTEL_PROPAGATOR_BAGGAGE,
                   "source %d", (int)ex->source);
        FUZZ_CHECK(otel_span_context_is_valid(&ex->context) && ex->context.is_remote,
                   "invalid context from %s", otel_propagator_name(ex->source));
    }
    if (ex->source != OTEL_PROPAGATOR_TRACECONTEXT)
        FUZZ_CHECK(tl == 0, "tracestate from %s", otel_propagator_name(ex->source));
    if (!otel_propagators_has(p, OTEL_PROPAGATOR_BAGGAGE))
        FUZZ_CHECK(otel_baggage_count(&ex->baggage) == 0, "baggage not configured");

    /* Two traceparent lines are no valid traceparent. */
    if (carrier_count(c, "traceparent") > 1)
        FUZZ_CHECK(ex->source != OTEL_PROPAGATOR_TRACECONTEXT, "a context from two traceparents");
    if (!single_lines(c))
        return;
    /* First valid wins: the propagators before the source find nothing. */
    for (size_t i = 0; i < p->n; i++) {
        otel_propagator kind = (otel_propagator)p->order[i];
        otel_span_context sc;
        if (kind == OTEL_PROPAGATOR_BAGGAGE)
            continue;
        bool found = extract_alone(kind, c, &sc);
        if (kind == ex->source) {
            FUZZ_CHECK(found && memcmp(&sc, &ex->context, sizeof sc) == 0,
                       "%s alone reads another context", otel_propagator_name(kind));
            break;
        }
        FUZZ_CHECK(!found, "%s had a valid context before %s", otel_propagator_name(kind),
                   otel_propagator_name(ex->source));
    }
}

/* The injected headers are the ones p asks for and extract to the same. */
static void check_injected(const otel_propagators *p, const otel_extracted *ex, carrier *out,
                           otel_extracted *again)
{
    bool trace = otel_span_context_is_valid(&ex->context);
    bool tc = trace && otel_propagators_has(p, OTEL_PROPAGATOR_TRACECONTEXT);
    bool b3 = trace && otel_propagators_has(p, OTEL_PROPAGATOR_B3);
    bool b3m = trace && otel_propagators_has(p, OTEL_PROPAGATOR_B3MULTI);
    bool bag = otel_baggage_count(&ex->baggage) > 0;
    FUZZ_CHECK((carrier_count(out, "traceparent") == 1) == tc, "traceparent injected: %zu",
               carrier_count(out, "traceparent"));
    FUZZ_CHECK((carrier_count(out, "tracestate") == 1) == (tc && ex->tracestate[0] != '\0'),
               "tracestate injected: %zu", carrier_count(out, "tracestate"));
    FUZZ_CHECK((carrier_count(out, "b3") == 1) == b3, "b3 injected");
    bool debug = ex->context.debug;
    FUZZ_CHECK((carrier_count(out, "X-B3-TraceId") == 1) == b3m &&
                   (carrier_count(out, "X-B3-SpanId") == 1) == b3m &&
                   (carrier_count(out, "X-B3-Sampled") == 1) == (b3m && !debug) &&
                   (carrier_count(out, "X-B3-Flags") == 1) == (b3m && debug),
               "X-B3-* injected");
    FUZZ_CHECK((carrier_count(out, "baggage") == 1) == bag, "baggage injected");

    FUZZ_CHECK(otel_propagation_extract(p, carrier_get_line, out, again) == OTEL_OK, "re-extract");
    FUZZ_CHECK(otel_span_context_is_valid(&again->context) == trace, "re-extract validity");
    if (trace) {
        FUZZ_CHECK(same_ids(&again->context, &ex->context), "re-extracted ids or sampled differ");
        if (again->source == OTEL_PROPAGATOR_B3 || again->source == OTEL_PROPAGATOR_B3MULTI)
            FUZZ_CHECK(again->context.debug == debug, "B3 debug flag not carried");
        if (again->source == OTEL_PROPAGATOR_TRACECONTEXT &&
            ex->source == OTEL_PROPAGATOR_TRACECONTEXT)
            FUZZ_CHECK(strcmp(again->tracestate, ex->tracestate) == 0,
                       "tracestate \"%s\" comes back as \"%s\"", ex->tracestate, again->tracestate);
    }
    FUZZ_CHECK(fuzz_same_baggage(&again->baggage, &ex->baggage), "baggage comes back different");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    otel_propagators p;
    propagators_of(data[0], &p);
    carrier *in = calloc(1, sizeof *in), *out = calloc(1, sizeof *out);
    otel_extracted *ex = malloc(sizeof *ex), *again = malloc(sizeof *again);
    if (in == NULL || out == NULL || ex == NULL || again == NULL)
        abort();
    memset(ex, 0xa5, sizeof *ex);
    carrier_parse(in, data + 1, size - 1);

    FUZZ_CHECK(otel_propagation_extract(&p, carrier_get_line, in, ex) == OTEL_OK, "extract");
    check_extracted(&p, in, ex);
    otel_propagation_inject(&p, &ex->context, ex->tracestate, &ex->baggage, carrier_set, out);
    check_injected(&p, ex, out, again);

    carrier_free(in);
    carrier_free(out);
    free(in);
    free(out);
    free(ex);
    free(again);
    return 0;
}
