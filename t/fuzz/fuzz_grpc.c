/* fuzz_grpc.c - libFuzzer target of what the OTLP exporter reads from a
 * collector: grpc-status, grpc-message and grpc-status-details-bin values,
 * length-prefixed (and gzip) messages, ExportTraceServiceResponse and
 * google.rpc.Status/RetryInfo. Input: one mode byte, then the bytes. */
#include "fuzz.h"

#include "../../core/alloc.h"
#include "../../exporter/grpc.h"
#include "../../exporter/otlp_encode.h"

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void check_status(const char *v, size_t n)
{
    int code = -1;
    int rc = otel_grpc_status_parse(v, n, &code);
    uint64_t want = 0;
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++) {
        ok = v[i] >= '0' && v[i] <= '9';
        want = want * 10 + (uint64_t)(v[i] - '0');
        ok = ok && want <= INT32_MAX;
    }
    FUZZ_CHECK((rc == OTEL_OK) == ok, "status rc %d", rc);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "status rc %d", rc);
    if (rc == OTEL_OK)
        FUZZ_CHECK((uint64_t)code == want, "status %d, not %llu", code, (unsigned long long)want);
}

static void check_message_decode(const char *v, size_t n)
{
    /* The whole decoding, as the spec says: %XX is a byte, anything else
     * (a lone '%' too) is itself. */
    char *want = malloc(n + 1);
    if (want == NULL)
        abort();
    size_t wl = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '%' && i + 2 < n && hexv(v[i + 1]) >= 0 && hexv(v[i + 2]) >= 0) {
            want[wl++] = (char)(hexv(v[i + 1]) << 4 | hexv(v[i + 2]));
            i += 2;
        } else {
            want[wl++] = v[i];
        }
    }
    const size_t caps[] = {1, 2, 7, 64, n + 1};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        size_t cap = caps[k];
        char *out = malloc(cap);
        if (out == NULL)
            abort();
        size_t o = otel_grpc_message_decode(v, n, out, cap);
        FUZZ_CHECK(o < cap && out[o] == '\0', "decode in %zu: %zu", cap, o);
        FUZZ_CHECK(o <= wl && memcmp(out, want, o) == 0, "decode in %zu is not a prefix", cap);
        if (cap > n)
            FUZZ_CHECK(o == wl, "whole decode %zu bytes, not %zu", o, wl);
        free(out);
    }
    char one;
    FUZZ_CHECK(otel_grpc_message_decode(v, n, &one, 0) == 0, "cap 0");
    free(want);
}

static void check_base64(const char *v, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t *out = malloc(n + 1);
    if (out == NULL)
        abort();
    size_t len = 0;
    int rc = otel_grpc_base64_decode(v, n, out, n, &len);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "base64 rc %d (cap %zu)", rc, n);
    if (rc == OTEL_OK) {
        size_t body = n;
        while (body > 0 && v[body - 1] == '=')
            body--;
        FUZZ_CHECK(n - body <= 2 && (body == n || n % 4 == 0), "padding accepted");
        FUZZ_CHECK(len == body / 4 * 3 + (body % 4 ? body % 4 - 1 : 0), "length %zu", len);
        /* The bytes encode back to the input (leftover bits are zero). */
        uint32_t acc = 0;
        int bits = 0;
        size_t j = 0;
        for (size_t i = 0; i < len; i++) {
            acc = acc << 8 | out[i];
            bits += 8;
            while (bits >= 6) {
                bits -= 6;
                FUZZ_CHECK(j < body && v[j] == abc[(acc >> bits) & 63], "re-encoding at %zu", j);
                j++;
            }
        }
        if (bits > 0) {
            FUZZ_CHECK(j < body && v[j] == abc[(acc << (6 - bits)) & 63], "last char");
            j++;
        }
        FUZZ_CHECK(j == body, "%zu of %zu chars re-encoded", j, body);
        if (len > 0) {
            size_t small = 0;
            FUZZ_CHECK(otel_grpc_base64_decode(v, n, out, len - 1, &small) == OTEL_ERR_RANGE,
                       "no RANGE with one byte short");
        }
    }
    free(out);
}

/* A message read from data (len bytes): within max_len, inside data when
 * not owned. */
static void check_read(const uint8_t *data, size_t len, const char *enc, size_t max_len)
{
    uint8_t *owned = (uint8_t *)&owned;
    const uint8_t *msg = NULL;
    size_t ml = 0;
    int rc = otel_grpc_message_read(data, len, enc, max_len, &owned, &msg, &ml);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE || rc == OTEL_ERR_UNSUPPORTED ||
                   rc == OTEL_ERR_RANGE,
               "read rc %d", rc);
    if (rc != OTEL_OK) {
        FUZZ_CHECK(owned == NULL, "owned buffer after an error");
        return;
    }
    FUZZ_CHECK(ml <= max_len, "%zu bytes over max %zu", ml, max_len);
    if (owned == NULL) {
        FUZZ_CHECK(data[0] == 0 && msg == data + OTEL_GRPC_PREFIX_LEN &&
                       ml <= len - OTEL_GRPC_PREFIX_LEN,
                   "identity message outside the body");
    } else {
        FUZZ_CHECK(data[0] == 1 && msg == owned, "owned message");
        volatile uint8_t sum = 0; /* every byte is readable (ASan) */
        for (size_t i = 0; i < ml; i++)
            sum = (uint8_t)(sum + msg[i]);
        (void)sum;
        otel_free(owned);
    }
}

/* Framing data and reading it back gives data, with and without gzip. */
static void check_frame_roundtrip(otel_grpc_framer *f, const uint8_t *data, size_t len)
{
    for (int gz = 0; gz < 2; gz++) {
        otel_grpc_frame fr;
        FUZZ_CHECK(otel_grpc_framer_frame(f, data, len, gz, &fr) == OTEL_OK, "frame");
        size_t total = OTEL_GRPC_PREFIX_LEN + fr.payload_len;
        uint8_t *buf = malloc(total);
        if (buf == NULL)
            abort();
        memcpy(buf, fr.prefix, OTEL_GRPC_PREFIX_LEN);
        if (fr.payload_len > 0)
            memcpy(buf + OTEL_GRPC_PREFIX_LEN, fr.payload, fr.payload_len);
        bool comp;
        uint32_t n;
        FUZZ_CHECK(otel_grpc_prefix_read(buf, total, &comp, &n) == OTEL_OK && comp == gz &&
                       n == fr.payload_len,
                   "prefix");
        uint8_t *owned;
        const uint8_t *msg;
        size_t ml;
        int rc = otel_grpc_message_read(buf, total, "gzip", len, &owned, &msg, &ml);
        FUZZ_CHECK(rc == OTEL_OK && ml == len && (len == 0 || memcmp(msg, data, len) == 0),
                   "round trip gzip=%d: rc %d", gz, rc);
        otel_free(owned);
        free(buf);
    }
}

static void check_response(const uint8_t *data, size_t len)
{
    static const size_t caps[] = {1, 5, 300};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        char *msg = malloc(caps[k]);
        if (msg == NULL)
            abort();
        int64_t rejected = -1;
        int rc = otel_otlp_decode_response(data, len, &rejected, msg, caps[k]);
        FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "response rc %d", rc);
        FUZZ_CHECK(rejected >= 0, "rejected %lld", (long long)rejected);
        FUZZ_CHECK(strnlen(msg, caps[k]) < caps[k], "message not terminated in %zu", caps[k]);
        free(msg);
    }
    uint64_t delay = 1;
    int rc = otel_otlp_decode_retry_info(data, len, &delay);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "retry info rc %d", rc);
    if (rc != OTEL_OK)
        FUZZ_CHECK(delay == 0, "delay %llu without RetryInfo", (unsigned long long)delay);
}

static otel_grpc_framer *framer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    const char *s = (const char *)d;
    static const char *const encodings[] = {NULL, "gzip", "identity", "deflate"};

    check_status(s, n);
    check_message_decode(s, n);
    check_base64(s, n);
    check_response(d, n);

    /* The input as a response body; the mode as its encoding and size limit. */
    const char *enc = encodings[mode & 3];
    size_t max_len = (mode & 4) ? 64 : 1u << 20;
    uint8_t *body = malloc(n > 0 ? n : 1);
    if (body == NULL)
        abort();
    if (n > 0)
        memcpy(body, d, n);
    check_read(body, n, enc, max_len);
    free(body);
    /* The input as a gzip message behind a prefix of the right length. */
    if (mode & 8) {
        uint8_t *msg = malloc(n + OTEL_GRPC_PREFIX_LEN);
        if (msg == NULL)
            abort();
        otel_grpc_prefix_write(msg, true, (uint32_t)n);
        if (n > 0)
            memcpy(msg + OTEL_GRPC_PREFIX_LEN, d, n);
        check_read(msg, n + OTEL_GRPC_PREFIX_LEN, "gzip", max_len);
        free(msg);
    }
    if (mode & 16) {
        if (framer == NULL && otel_grpc_framer_new(&framer) != OTEL_OK)
            abort();
        check_frame_roundtrip(framer, d, n);
    }
    return 0;
}
