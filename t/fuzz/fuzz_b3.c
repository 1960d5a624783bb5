/* fuzz_b3.c - libFuzzer target of Zipkin B3: otel_b3_parse on the input,
 * otel_b3_multi_parse on the input split at NUL bytes into the four X-B3-*
 * values (missing ones NULL), and the round trip through otel_b3_format. */
#include "fuzz.h"

#include <mhd-otel/propagation.h>

/* A context a parse gave: valid, remote, only the sampled flag (set when
 * debug is); it formats to printable ASCII that both parsers read back to
 * the same ids, sampled and debug flags. */
static void check_parsed(const otel_span_context *sc)
{
    char b3[OTEL_B3_LEN + 1];
    char tid[33], sid[17];
    otel_span_context again;

    FUZZ_CHECK(otel_span_context_is_valid(sc), "zero id accepted");
    FUZZ_CHECK(sc->is_remote, "not remote");
    FUZZ_CHECK(sc->trace_flags == 0 || sc->trace_flags == OTEL_TRACE_FLAG_SAMPLED, "flags %02x",
               sc->trace_flags);
    FUZZ_CHECK(!sc->debug || sc->trace_flags == OTEL_TRACE_FLAG_SAMPLED, "debug without sampled");
    memset(b3, 0x7f, sizeof b3);
    otel_b3_format(sc, b3);
    FUZZ_CHECK(strnlen(b3, sizeof b3) == OTEL_B3_LEN, "formatted length");
    FUZZ_CHECK(fuzz_printable(b3, OTEL_B3_LEN), "unprintable \"%s\"", b3);
    FUZZ_CHECK(otel_b3_parse(b3, OTEL_B3_LEN, &again) == OTEL_OK, "\"%s\" does not parse", b3);
    FUZZ_CHECK(memcmp(again.trace_id, sc->trace_id, 16) == 0 &&
                   memcmp(again.span_id, sc->span_id, 8) == 0 &&
                   again.trace_flags == sc->trace_flags && again.debug == sc->debug,
               "\"%s\" parses to another context", b3);

    otel_hex_encode(sc->trace_id, 16, tid);
    otel_hex_encode(sc->span_id, 8, sid);
    const char *sampled = sc->debug ? NULL : sc->trace_flags ? "1" : "0";
    const char *flags = sc->debug ? "1" : NULL; /* as inject writes them */
    FUZZ_CHECK(otel_b3_multi_parse(tid, sid, sampled, flags, &again) == OTEL_OK,
               "X-B3 %s %s does not parse", tid, sid);
    FUZZ_CHECK(memcmp(again.trace_id, sc->trace_id, 16) == 0 &&
                   memcmp(again.span_id, sc->span_id, 8) == 0 &&
                   again.trace_flags == sc->trace_flags && again.debug == sc->debug,
               "X-B3 values parse to another context");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otel_span_context sc;

    memset(&sc, 0xa5, sizeof sc);
    int rc = otel_b3_parse((const char *)data, size, &sc);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "b3 rc %d", rc);
    if (rc == OTEL_OK)
        check_parsed(&sc);
    else
        FUZZ_CHECK(fuzz_all_zero(&sc, sizeof sc), "failed parse leaves a context");

    fuzz_in in = {data, size};
    char *f[4];
    for (size_t i = 0; i < 4; i++)
        f[i] = (i < 2 || in.left > 0) ? fuzz_field(&in, NULL) : NULL;
    memset(&sc, 0xa5, sizeof sc);
    rc = otel_b3_multi_parse(f[0], f[1], f[2], f[3], &sc);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "b3 multi rc %d", rc);
    if (rc == OTEL_OK)
        check_parsed(&sc);
    else
        FUZZ_CHECK(fuzz_all_zero(&sc, sizeof sc), "failed multi parse leaves a context");
    for (size_t i = 0; i < 4; i++)
        free(f[i]);
    return 0;
}
