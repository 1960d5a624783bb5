/* fuzz_otlp_metrics_response.c - libFuzzer target of what a collector answers to a metrics
 * export: the ExportMetricsServiceResponse decoder (otel_otlp_metrics_decode_response) in
 * protobuf and in JSON. Input: one mode byte, then the body. Each decoding is checked on its
 * own (documented return codes, the same result twice and at every capacity, rejected >= 0,
 * nothing on an error, a terminated message cut at a UTF-8 boundary, an empty body is success)
 * and against the traces' decoders, which read a response of the same shape: the protobuf
 * bytes as they are, the JSON with rejectedDataPoints renamed rejectedSpans. The mode also
 * builds a response out of the body (8 bytes of rejected data points, then the message) with
 * protobuf-c and cJSON, and checks that the decoder reads back what it holds. */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include <math.h>

#include "../../exporter/otlp_encode.h"
#include "../../exporter/otlp_json.h"
#include "../../exporter/otlp_metrics.h"

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

enum {
    MODE_BUILD_PB = 1,   /* a protobuf response built from the body */
    MODE_BUILD_JSON = 2, /* a JSON one */
    MODE_NUMBER = 4,     /* with rejectedDataPoints as a JSON number, not a string */
};

#define KEY "rejectedDataPoints"
#define TRACE_KEY "rejectedSpans"

/* One decoding: its code, count and whole message (malloc'd). */
typedef struct result {
    int rc;
    int64_t rejected;
    char *msg;
} result;

static bool cont_byte(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

/* Decode body in the given encoding with room for the whole message, then
 * again at smaller capacities, each a cut of the whole at a UTF-8
 * boundary with the same code and count. */
static result decode(const uint8_t *body, size_t n, bool json)
{
    const char *what = json ? "json" : "protobuf";
    size_t cap = n + 1; /* a message is never longer than the body */
    result r = {0, -1, malloc(cap)};
    char *again = malloc(cap);
    if (r.msg == NULL || again == NULL)
        abort();
    memset(r.msg, 0x7f, cap);
    r.rc = otel_otlp_metrics_decode_response(body, n, json, &r.rejected, r.msg, cap);
    FUZZ_CHECK(r.rc == OTEL_OK || r.rc == OTEL_ERR_PARSE, "%s: rc %d", what, r.rc);
    FUZZ_CHECK(memchr(r.msg, '\0', cap) != NULL, "%s: message not terminated", what);
    FUZZ_CHECK(r.rejected >= 0, "%s: rejected %lld", what, (long long)r.rejected);
    FUZZ_CHECK(r.rc == OTEL_OK || (r.rejected == 0 && r.msg[0] == '\0'),
               "%s: %lld, \"%s\" after an error", what, (long long)r.rejected, r.msg);
    if (n == 0)
        FUZZ_CHECK(r.rc == OTEL_OK && r.rejected == 0 && r.msg[0] == '\0', "%s: empty body", what);
    int64_t rej = -1;
    FUZZ_CHECK(otel_otlp_metrics_decode_response(body, n, json, &rej, again, cap) == r.rc &&
                   rej == r.rejected && strcmp(again, r.msg) == 0,
               "%s: a second decoding differs", what);
    size_t full = strlen(r.msg);
    static const size_t caps[] = {1, 2, 3, 4, 7, 64};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0] && caps[k] < cap; k++) {
        size_t c = caps[k];
        memset(again, 0x7f, c);
        FUZZ_CHECK(otel_otlp_metrics_decode_response(body, n, json, &rej, again, c) == r.rc &&
                       rej == r.rejected,
                   "%s: another result in %zu bytes", what, c);
        size_t l = strnlen(again, c);
        FUZZ_CHECK(l < c, "%s: not terminated in %zu bytes", what, c);
        FUZZ_CHECK(l <= full && memcmp(again, r.msg, l) == 0, "%s: not a prefix in %zu", what, c);
        /* all of it when it fits; else up to the last character that fits */
        size_t want = full < c ? full : c - 1;
        while (want < full && want > 0 && cont_byte(r.msg[want]))
            want--;
        FUZZ_CHECK(l == want, "%s: %zu bytes of %zu in %zu, not %zu", what, l, full, c, want);
    }
    FUZZ_CHECK(otel_otlp_metrics_decode_response(body, n, json, &rej, NULL, 0) == r.rc &&
                   rej == r.rejected,
               "%s: another result without room", what);
    free(again);
    return r;
}

/* The traces' decoder of the same bytes says the same. */
static void check_like_traces_pb(const uint8_t *body, size_t n, const result *r)
{
    char *msg = malloc(n + 1);
    if (msg == NULL)
        abort();
    int64_t rej = -1;
    int rc = otel_otlp_decode_response(body, n, &rej, msg, n + 1);
    FUZZ_CHECK(rc == r->rc && rej == r->rejected && strcmp(msg, r->msg) == 0,
               "protobuf: %d %lld \"%s\", traces %d %lld \"%s\"", r->rc, (long long)r->rejected,
               r->msg, rc, (long long)rej, msg);
    free(msg);
}

/* s (n bytes) with every "from" replaced by "to" (shorter), NUL-terminated. */
static char *replace(const char *s, size_t n, const char *from, const char *to, size_t *out_len)
{
    size_t fl = strlen(from), tl = strlen(to), o = 0;
    char *d = malloc(n + 1);
    if (d == NULL)
        abort();
    for (size_t i = 0; i < n;) {
        if (n - i >= fl && memcmp(s + i, from, fl) == 0) {
            memcpy(d + o, to, tl);
            o += tl;
            i += fl;
        } else {
            d[o++] = s[i++];
        }
    }
    d[o] = '\0';
    *out_len = o;
    return d;
}

static bool contains(const uint8_t *s, size_t n, const char *what)
{
    size_t wl = strlen(what);
    for (size_t i = 0; i + wl <= n; i++)
        if (memcmp(s + i, what, wl) == 0)
            return true;
    return false;
}

/* The traces' JSON decoder of the body with the key renamed says the same,
 * when nothing else can tell the two apart (the traces' key already there,
 * or a key spelt with \u escapes). */
static void check_like_traces_json(const uint8_t *body, size_t n, const result *r)
{
    if (contains(body, n, TRACE_KEY) || contains(body, n, "\\u"))
        return;
    size_t tn, ml;
    char *t = replace((const char *)body, n, KEY, TRACE_KEY, &tn);
    char *want = replace(r->msg, strlen(r->msg), KEY, TRACE_KEY, &ml);
    char *msg = malloc(tn + 1);
    if (msg == NULL)
        abort();
    int64_t rej = -1;
    int rc = otel_otlp_json_decode_response((const uint8_t *)t, tn, &rej, msg, tn + 1);
    FUZZ_CHECK(rc == r->rc && rej == r->rejected && strcmp(msg, want) == 0,
               "json: %d %lld \"%s\", traces %d %lld \"%s\"", r->rc, (long long)r->rejected, want,
               rc, (long long)rej, msg);
    free(msg);
    free(want);
    free(t);
}

/* ---- responses built from the input -------------------------------------------- */

static void check_built_pb(int64_t rejected, const char *m)
{
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse r =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsPartialSuccess ps =
        OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
    ps.rejected_data_points = rejected;
    ps.error_message = (char *)m;
    r.partial_success = &ps;
    size_t n =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__get_packed_size(
            &r);
    uint8_t *buf = malloc(n);
    if (buf == NULL)
        abort();
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__pack(&r, buf);
    result got = decode(buf, n, false);
    FUZZ_CHECK(got.rc == OTEL_OK && got.rejected == (rejected > 0 ? rejected : 0) &&
                   strcmp(got.msg, m) == 0,
               "built protobuf %lld \"%s\": %d %lld \"%s\"", (long long)rejected, m, got.rc,
               (long long)got.rejected, got.msg);
    free(got.msg);
    free(buf);
}

static void check_built_json(int64_t rejected, const char *m, bool number)
{
    cJSON *root = cJSON_CreateObject(), *ps = cJSON_AddObjectToObject(root, "partialSuccess");
    char num[24];
    int64_t want = rejected > 0 ? rejected : 0;
    if (number) {
        cJSON_AddNumberToObject(ps, KEY, (double)rejected);
    } else {
        snprintf(num, sizeof num, "%lld", (long long)rejected);
        cJSON_AddStringToObject(ps, KEY, num);
    }
    cJSON_AddStringToObject(ps, "errorMessage", m);
    char *text = cJSON_PrintUnformatted(root);
    if (text == NULL)
        abort();
    if (number) {
        /* cJSON prints a number close to it, not always the same double:
         * the one read back, integral, saturating */
        cJSON *back = cJSON_Parse(text);
        double d =
            back != NULL
                ? cJSON_GetObjectItem(cJSON_GetObjectItem(back, "partialSuccess"), KEY)->valuedouble
                : 0;
        FUZZ_CHECK(back != NULL && d == floor(d), "built json %s", text);
        want = d >= 0x1p63 ? INT64_MAX : d <= 0 ? 0 : (int64_t)d;
        cJSON_Delete(back);
    }
    result got = decode((const uint8_t *)text, strlen(text), true);
    FUZZ_CHECK(got.rc == OTEL_OK && got.rejected == want && strcmp(got.msg, m) == 0,
               "built json %s: %d %lld \"%s\"", text, got.rc, (long long)got.rejected, got.msg);
    free(got.msg);
    cJSON_free(text);
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    size_t n = size - 1;
    uint8_t *body = malloc(n > 0 ? n : 1); /* its own buffer: ASan sees reads past it */
    if (body == NULL)
        abort();
    if (n > 0)
        memcpy(body, data + 1, n);

    result pb = decode(body, n, false);
    check_like_traces_pb(body, n, &pb);
    result js = decode(body, n, true);
    check_like_traces_json(body, n, &js);
    free(pb.msg);
    free(js.msg);

    if (mode & (MODE_BUILD_PB | MODE_BUILD_JSON)) {
        uint64_t r = 0;
        size_t k = n < 8 ? n : 8;
        for (size_t i = 0; i < 8; i++)
            r = r << 8 | (i < k ? body[i] : 0);
        /* the message up to its first NUL: C strings on both sides */
        char *m = fuzz_strndup(body + k, n - k);
        if (mode & MODE_BUILD_PB)
            check_built_pb((int64_t)r, m);
        if (mode & MODE_BUILD_JSON)
            check_built_json((int64_t)r, m, (mode & MODE_NUMBER) != 0);
        free(m);
    }
    free(body);
    return 0;
}
