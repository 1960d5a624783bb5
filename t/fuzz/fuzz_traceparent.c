/* fuzz_traceparent.c - libFuzzer target of otel_traceparent_parse and the
 * round trip through otel_traceparent_format. */
#include "fuzz.h"

#include <mhd-otel/otel.h>

static bool same_context(const otel_span_context *a, const otel_span_context *b)
{
    return memcmp(a->trace_id, b->trace_id, sizeof a->trace_id) == 0 &&
           memcmp(a->span_id, b->span_id, sizeof a->span_id) == 0 &&
           a->trace_flags == b->trace_flags && a->is_remote == b->is_remote;
}

/* The input without the spaces and tabs around it. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *v = (const char *)data;
    otel_span_context sc, again;
    char tp[OTEL_TRACEPARENT_LEN + 1];

    memset(&sc, 0xa5, sizeof sc);
    int rc = otel_traceparent_parse(v, size, &sc);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "rc %d", rc);
    if (rc != OTEL_OK) {
        FUZZ_CHECK(fuzz_all_zero(&sc, sizeof sc), "failed parse leaves a context");
        return 0;
    }
    FUZZ_CHECK(otel_span_context_is_valid(&sc), "zero id accepted");
    FUZZ_CHECK(!fuzz_all_zero(sc.trace_id, sizeof sc.trace_id), "zero trace id");
    FUZZ_CHECK(!fuzz_all_zero(sc.span_id, sizeof sc.span_id), "zero span id");
    FUZZ_CHECK(sc.is_remote, "parsed context not remote");

    memset(tp, 0x7f, sizeof tp);
    otel_traceparent_format(&sc, tp);
    FUZZ_CHECK(tp[OTEL_TRACEPARENT_LEN] == '\0' && strlen(tp) == OTEL_TRACEPARENT_LEN,
               "formatted length %zu", strnlen(tp, sizeof tp));
    FUZZ_CHECK(fuzz_printable(tp, OTEL_TRACEPARENT_LEN), "unprintable byte in \"%s\"", tp);
    FUZZ_CHECK(memcmp(tp, "00-", 3) == 0, "version of \"%s\"", tp);

    rc = otel_traceparent_parse(tp, strlen(tp), &again);
    FUZZ_CHECK(rc == OTEL_OK, "\"%s\" does not parse again", tp);
    FUZZ_CHECK(same_context(&sc, &again), "\"%s\" parses to another context", tp);

    /* A version-00 value is only valid in its canonical form. */
    const char *t = v;
    size_t n = size;
    trim(&t, &n);
    if (n >= 2 && t[0] == '0' && t[1] == '0')
        FUZZ_CHECK(n == OTEL_TRACEPARENT_LEN && memcmp(t, tp, n) == 0,
                   "version 00 input formats to \"%s\"", tp);
    return 0;
}
