/* fuzz_otlp_json_response.c - libFuzzer target of what an OTLP/HTTP
 * collector answers: the body of a 2xx answer as an
 * ExportTraceServiceResponse in JSON (otel_otlp_json_decode_response) and
 * in protobuf (otel_otlp_decode_response), and that of an error answer as a
 * google.rpc.Status (otel_otlp_decode_status_message). Input: one mode
 * byte, then the body. The mode also builds a response out of the body
 * (8 bytes of rejectedSpans, then the message) and checks that the
 * decoders read back what it holds. */
#include "fuzz.h"

#include "../../exporter/otlp_encode.h"
#include "../../exporter/otlp_json.h"

enum {
    MODE_JSON = 1,     /* the body as a JSON response's fields */
    MODE_NUMBER = 2,   /* rejectedSpans as a JSON number, not a string */
    MODE_ESCAPE = 4,   /* every ASCII byte of the message as \u00XX */
    MODE_PROTOBUF = 8, /* the body as a protobuf response's and Status's fields */
    MODE_UNKNOWN = 16, /* unknown fields and whitespace around them */
};

typedef int (*decode_fn)(const uint8_t *data, size_t len, int64_t *rejected, char *msg, size_t cap);

/* otel_otlp_decode_status_message in the shape of the other two. */
static int decode_status(const uint8_t *data, size_t len, int64_t *rejected, char *msg, size_t cap)
{
    *rejected = 0;
    return otel_otlp_decode_status_message(data, len, msg, cap);
}

/* The decoders, and how each cuts a message that does not fit. */
enum cut { CUT_PREFIX, CUT_UTF8 };
static const struct decoder {
    const char *name;
    decode_fn fn;
    enum cut cut;
} decoders[] = {
    {"json", otel_otlp_json_decode_response, CUT_UTF8},
    {"protobuf", otel_otlp_decode_response, CUT_PREFIX},
    {"status", decode_status, CUT_PREFIX},
};

static bool is_cont(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

/* cut (from cap bytes) against the whole message: terminated, a prefix of
 * it, all of it when it fits; for CUT_UTF8 the longest prefix within cap
 * that does not end inside a UTF-8 sequence. */
static void check_cut(const struct decoder *d, const char *full, const char *cut, size_t cap)
{
    size_t l = strnlen(cut, cap), fl = strlen(full);
    FUZZ_CHECK(l < cap, "%s: message not terminated within %zu bytes", d->name, cap);
    FUZZ_CHECK(l <= fl && memcmp(cut, full, l) == 0, "%s: message in %zu bytes is not a prefix",
               d->name, cap);
    if (fl < cap) {
        FUZZ_CHECK(l == fl, "%s: %zu of %zu bytes in %zu", d->name, l, fl, cap);
        return;
    }
    if (d->cut != CUT_UTF8)
        return;
    FUZZ_CHECK(l == 0 || !is_cont(full[l]), "%s: cut in %zu inside a UTF-8 sequence", d->name, cap);
    for (size_t j = l + 1; j < cap; j++)
        FUZZ_CHECK(is_cont(full[j]), "%s: cut at %zu in %zu, before a whole character", d->name, l,
                   cap);
}

/* Decode body with d at several capacities: a documented return code, the
 * same result each time, rejected >= 0, the message cut as documented;
 * nothing on a failure. The whole message is returned in *msg (the caller
 * frees it) with the code and *rejected. */
static int check_decoder(const struct decoder *d, const uint8_t *body, size_t n, int64_t *rejected,
                         char **msg)
{
    size_t full_cap = n + 1; /* a message is never longer than the body */
    char *full = malloc(full_cap), *again = malloc(full_cap);
    if (full == NULL || again == NULL)
        abort();
    int64_t rej = -1, rej2 = -1;
    memset(full, 0x7f, full_cap);
    int rc = d->fn(body, n, &rej, full, full_cap);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "%s: rc %d", d->name, rc);
    FUZZ_CHECK(strnlen(full, full_cap) < full_cap, "%s: message not terminated", d->name);
    FUZZ_CHECK(rej >= 0, "%s: rejected %lld", d->name, (long long)rej);
    if (rc != OTEL_OK)
        FUZZ_CHECK(rej == 0 && full[0] == '\0', "%s: rejected %lld, message \"%s\" after an error",
                   d->name, (long long)rej, full);
    FUZZ_CHECK(d->fn(body, n, &rej2, again, full_cap) == rc && rej2 == rej &&
                   strcmp(again, full) == 0,
               "%s: a second decoding differs", d->name);
    free(again);

    static const size_t caps[] = {1, 2, 3, 5, 16, 512};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        size_t cap = caps[k];
        char *cut = malloc(cap);
        if (cut == NULL)
            abort();
        memset(cut, 0x7f, cap);
        FUZZ_CHECK(d->fn(body, n, &rej2, cut, cap) == rc && rej2 == rej,
                   "%s: another result in %zu bytes", d->name, cap);
        check_cut(d, full, cut, cap);
        free(cut);
    }
    FUZZ_CHECK(d->fn(body, n, &rej2, NULL, 0) == rc && rej2 == rej,
               "%s: another result without room", d->name);
    *rejected = rej;
    *msg = full;
    return rc;
}

/* ---- building a response ------------------------------------------------- */

typedef struct out {
    uint8_t *p;
    size_t len, cap;
} out;

static void put(out *o, const void *s, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 64;
        o->p = realloc(o->p, o->cap);
        if (o->p == NULL)
            abort();
    }
    if (n > 0)
        memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_varint(out *o, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    put(o, b, n);
}

/* A length-delimited protobuf field. */
static void put_bytes_field(out *o, unsigned field, const void *s, size_t n)
{
    put_varint(o, (uint64_t)field << 3 | 2);
    put_varint(o, n);
    put(o, s, n);
}

/* The message bytes as a JSON string's contents (NULs left out). */
static void put_json_string(out *o, const char *m, size_t n, bool escape_all)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)m[i];
        if (c == 0)
            continue;
        if (c < 0x20 || (escape_all && c < 0x80)) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(o, e, sizeof e);
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(o, e, 2);
        } else {
            put(o, &c, 1);
        }
    }
}

/* The decoders read back a response built from rejected and the message m
 * (n bytes). */
static void check_built(uint8_t mode, int64_t rejected, const char *m, size_t n)
{
    /* what the message is after decoding: NULs dropped from the JSON
     * string; up to the first NUL of a protobuf string */
    char *want_json = malloc(n + 1);
    if (want_json == NULL)
        abort();
    size_t wl = 0;
    for (size_t i = 0; i < n; i++)
        if (m[i] != '\0')
            want_json[wl++] = m[i];
    want_json[wl] = '\0';
    char *want_pb = fuzz_strndup((const uint8_t *)m, n);

    int64_t rej;
    char *msg;
    if (mode & MODE_JSON) {
        out o = {0};
        char num[32];
        const char *ws = (mode & MODE_UNKNOWN) ? " \r\n\t" : "";
        puts_(&o, ws);
        puts_(&o, "{");
        if (mode & MODE_UNKNOWN)
            puts_(&o, "\"resourceSpans\" : [1, {\"a\": null}, \"x\"], ");
        puts_(&o, "\"partialSuccess\":{\"rejectedSpans\":");
        snprintf(num, sizeof num, (mode & MODE_NUMBER) ? "%lld" : "\"%lld\"", (long long)rejected);
        puts_(&o, num);
        puts_(&o, ",\"errorMessage\":\"");
        put_json_string(&o, m, n, (mode & MODE_ESCAPE) != 0);
        puts_(&o, "\"}");
        if (mode & MODE_UNKNOWN)
            puts_(&o, ", \"partialSuccesses\": {}");
        puts_(&o, "}");
        puts_(&o, ws);
        /* a JSON number is read as a double, integral, saturating */
        int64_t want = rejected > 0 ? rejected : 0;
        if (mode & MODE_NUMBER) {
            double dv = (double)rejected;
            want = dv >= 0x1p63 ? INT64_MAX : dv <= 0 ? 0 : (int64_t)dv;
        }
        int rc = check_decoder(&decoders[0], o.p, o.len, &rej, &msg);
        FUZZ_CHECK(rc == OTEL_OK && rej == want && strcmp(msg, want_json) == 0,
                   "json response of %lld, \"%s\": rc %d, %lld, \"%s\"", (long long)rejected,
                   want_json, rc, (long long)rej, msg);
        free(msg);
        free(o.p);
    }
    if (mode & MODE_PROTOBUF) {
        out ps = {0}, o = {0};
        put_varint(&ps, 1 << 3 | 0);
        put_varint(&ps, (uint64_t)rejected);
        put_bytes_field(&ps, 2, m, n);
        if (mode & MODE_UNKNOWN)
            put_bytes_field(&o, 7, "unknown", 7);
        put_bytes_field(&o, 1, ps.p, ps.len);
        int rc = check_decoder(&decoders[1], o.p, o.len, &rej, &msg);
        FUZZ_CHECK(rc == OTEL_OK && rej == (rejected > 0 ? rejected : 0) &&
                       strcmp(msg, want_pb) == 0,
                   "protobuf response of %lld, \"%s\": rc %d, %lld, \"%s\"", (long long)rejected,
                   want_pb, rc, (long long)rej, msg);
        free(msg);
        /* google.rpc.Status {code, message} */
        o.len = 0;
        put_varint(&o, 1 << 3 | 0);
        put_varint(&o, (uint64_t)(rejected & 0x7fffffff));
        put_bytes_field(&o, 2, m, n);
        rc = check_decoder(&decoders[2], o.p, o.len, &rej, &msg);
        FUZZ_CHECK(rc == OTEL_OK && strcmp(msg, want_pb) == 0, "status of \"%s\": rc %d, \"%s\"",
                   want_pb, rc, msg);
        free(msg);
        free(ps.p);
        free(o.p);
    }
    free(want_json);
    free(want_pb);
}

static bool is_blank(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
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

    for (size_t i = 0; i < sizeof decoders / sizeof decoders[0]; i++) {
        int64_t rej;
        char *msg;
        int rc = check_decoder(&decoders[i], body, n, &rej, &msg);
        if (i == 0 && is_blank(body, n))
            FUZZ_CHECK(rc == OTEL_OK && rej == 0 && msg[0] == '\0', "blank JSON body: rc %d", rc);
        if (i == 1 && n == 0)
            FUZZ_CHECK(rc == OTEL_OK && rej == 0 && msg[0] == '\0', "empty protobuf body: rc %d",
                       rc);
        free(msg);
    }

    if (mode & (MODE_JSON | MODE_PROTOBUF)) {
        uint64_t r = 0;
        size_t k = n < 8 ? n : 8;
        for (size_t i = 0; i < 8; i++)
            r = r << 8 | (i < k ? body[i] : 0);
        check_built(mode, (int64_t)r, (const char *)body + k, n - k);
    }
    free(body);
    return 0;
}
