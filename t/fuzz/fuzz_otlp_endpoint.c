/* fuzz_otlp_endpoint.c - libFuzzer target of the OTLP exporter's endpoint
 * rules: otel_otlp_endpoint_check and otel_otlp_target, the URL spans are
 * sent to. Input: a protocol byte, a flags byte (bit 0: insecure), a URL
 * rule byte, then the endpoint. */
#include "fuzz.h"

#include <strings.h>

#include "../../exporter/otlp.h"

#define ERR_CAP 1024
#define HTTP_PATH "/v1/traces"

/* The scheme's length in url (http:// or https://, any case), 0 for none. */
static size_t scheme_len(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 ? 8 : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
}

/* Where the path of an http(s) URL starts: after the authority, at the
 * first '/', '?' or '#'. */
static const char *path_of(const char *url)
{
    const char *a = url + scheme_len(url);
    return a + strcspn(a, "/?#");
}

/* The URL otel_otlp_target should give for an endpoint the check took, by
 * the rules of otlp.h, into a new string the caller frees. */
static char *expected_target(const char *url, otel_otlp_protocol protocol, bool insecure,
                             otel_otlp_url_rule rule)
{
    size_t n = strlen(url);
    char *out = malloc(n + 32);
    if (out == NULL)
        abort();
    if (protocol == OTEL_OTLP_GRPC) {
        /* a scheme-less HOST:PORT gets one: http:// when insecure */
        snprintf(out, n + 32, "%s%s",
                 strstr(url, "://") ? ""
                 : insecure         ? "http://"
                                    : "https://",
                 url);
        return out;
    }
    const char *path = path_of(url);
    size_t base = (size_t)(path - url), plen = strlen(path);
    bool no_path = plen == 0 || strcmp(path, "/") == 0;
    if (rule == OTEL_OTLP_URL_BASE) {
        while (plen > 0 && path[plen - 1] == '/')
            plen--;
        snprintf(out, n + 32, "%.*s%.*s%s", (int)base, url, (int)plen, path, HTTP_PATH);
    } else if (rule == OTEL_OTLP_URL_DEFAULT && no_path) {
        snprintf(out, n + 32, "%.*s%s", (int)base, url, HTTP_PATH);
    } else {
        snprintf(out, n + 32, "%.*s%s", (int)base, url, plen > 0 ? path : "/");
    }
    return out;
}

/* A failed check or target: err non-empty and terminated; for an
 * endpoint short enough to be quoted whole, it names it (an OTLP/HTTP one
 * refused for its scheme and authority: those). */
static void check_err(const char *what, const char *err, const char *url, bool http)
{
    size_t n = strnlen(err, ERR_CAP);
    FUZZ_CHECK(n < ERR_CAP, "%s: message not terminated", what);
    FUZZ_CHECK(n > 0, "%s: empty message for \"%s\"", what, url);
    if (url[0] == '\0' || strlen(url) >= 200)
        return;
    size_t named = http && scheme_len(url) > 0 ? (size_t)(path_of(url) - url) : strlen(url);
    char *name = fuzz_strndup((const uint8_t *)url, named);
    FUZZ_CHECK(strstr(err, name) != NULL, "%s: message \"%s\" does not name \"%s\"", what, err,
               name);
    free(name);
}

static int check(const char *url, otel_otlp_protocol protocol, bool insecure, char *err)
{
    memset(err, 0x7f, ERR_CAP);
    int rc = otel_otlp_endpoint_check(url, protocol, insecure, err, ERR_CAP);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_INVALID, "check rc %d", rc);
    if (rc != OTEL_OK)
        check_err("check", err, url, protocol != OTEL_OTLP_GRPC);
    /* the same verdict with a small buffer (its start) and without one */
    char small[8];
    FUZZ_CHECK(otel_otlp_endpoint_check(url, protocol, insecure, small, sizeof small) == rc,
               "another verdict with a small buffer");
    if (rc != OTEL_OK)
        FUZZ_CHECK(strnlen(small, sizeof small) < sizeof small &&
                       strncmp(small, err, sizeof small - 1) == 0,
                   "cut message \"%s\" is not the start of \"%s\"", small, err);
    FUZZ_CHECK(otel_otlp_endpoint_check(url, protocol, insecure, NULL, 0) == rc,
               "another verdict without a buffer");
    return rc;
}

static int target(const char *url, otel_otlp_protocol protocol, bool insecure,
                  otel_otlp_url_rule rule, char *out, size_t cap, char *err)
{
    otel_otlp_config cfg = {
        .endpoint = url, .protocol = protocol, .insecure = insecure, .url_rule = rule};
    memset(out, 0x7f, cap);
    memset(err, 0x7f, ERR_CAP);
    int rc = otel_otlp_target(&cfg, out, cap, err, ERR_CAP);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_INVALID || rc == OTEL_ERR_RANGE, "target rc %d", rc);
    if (rc == OTEL_OK)
        FUZZ_CHECK(strnlen(out, cap) < cap, "target not terminated within %zu", cap);
    else
        check_err("target", err, rc == OTEL_ERR_RANGE ? "" : url, protocol != OTEL_OTLP_GRPC);
    return rc;
}

/* A URL otel_otlp_target gave: http(s)://, visible ASCII, no query or
 * fragment; and the rule's own shape. */
static void check_url(const char *t, const char *url, otel_otlp_protocol protocol,
                      otel_otlp_url_rule rule)
{
    size_t n = strlen(t);
    FUZZ_CHECK(scheme_len(t) > 0, "target \"%s\" without http:// or https://", t);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(t[i] > ' ' && t[i] < 0x7f, "target \"%s\": byte 0x%02x", t, (unsigned char)t[i]);
    FUZZ_CHECK(strpbrk(t, "?#") == NULL, "target \"%s\" with a query or fragment", t);
    if (protocol == OTEL_OTLP_GRPC)
        return;
    size_t pl = strlen(HTTP_PATH);
    const char *path = path_of(url);
    if (rule == OTEL_OTLP_URL_BASE)
        FUZZ_CHECK(n > pl && strcmp(t + n - pl, HTTP_PATH) == 0 && t[n - pl - 1] != '/',
                   "BASE target \"%s\"", t);
    if (rule == OTEL_OTLP_URL_AS_IS) {
        bool slash = path[0] == '\0';
        FUZZ_CHECK(n == strlen(url) + slash && strncmp(t, url, strlen(url)) == 0 &&
                       (!slash || t[n - 1] == '/'),
                   "AS_IS target \"%s\" of \"%s\"", t, url);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    otel_otlp_protocol protocol = (otel_otlp_protocol)(fuzz_byte(&in) % 3);
    bool insecure = (fuzz_byte(&in) & 1) != 0;
    otel_otlp_url_rule rule = (otel_otlp_url_rule)(fuzz_byte(&in) % 3);
    char *url = fuzz_strndup(in.p, in.left); /* the endpoint up to its first NUL */
    bool http = protocol != OTEL_OTLP_GRPC;
    static char out[OTEL_OTLP_URL_MAX], again[OTEL_OTLP_URL_MAX], err[ERR_CAP], err2[ERR_CAP];

    int crc = check(url, protocol, insecure, err);
    int trc = target(url, protocol, insecure, rule, out, sizeof out, err2);

    if (url[0] == '\0') {
        /* no endpoint: the default of the protocol, whatever the rule */
        const char *def = http ? "http://localhost:4318/v1/traces" : "http://localhost:4317";
        FUZZ_CHECK(crc == OTEL_ERR_INVALID, "empty endpoint accepted");
        FUZZ_CHECK(trc == OTEL_OK && strcmp(out, def) == 0,
                   "no endpoint (%s, rule %d): rc %d, \"%s\", not \"%s\"",
                   otel_otlp_protocol_name(protocol), (int)rule, trc, trc ? err2 : out, def);
        free(url);
        return 0;
    }
    if (crc != OTEL_OK) {
        FUZZ_CHECK(trc == crc && strcmp(err, err2) == 0,
                   "\"%s\" refused by the check (%s), target rc %d \"%s\"", url, err, trc, err2);
        if (http && scheme_len(url) > 0)
            FUZZ_CHECK(check(url, OTEL_OTLP_GRPC, insecure, err) != OTEL_OK,
                       "\"%s\" a gRPC endpoint, not an OTLP/HTTP one", url);
        free(url);
        return 0;
    }

    /* The check took it: the target is the URL of the rules, or RANGE
     * when that does not fit. */
    char *want = expected_target(url, protocol, insecure, rule);
    size_t wl = strlen(want);
    if (wl >= sizeof out) {
        FUZZ_CHECK(trc == OTEL_ERR_RANGE, "%zu-byte target: rc %d", wl, trc);
        free(want);
        free(url);
        return 0;
    }
    FUZZ_CHECK(trc == OTEL_OK, "\"%s\" checked, target refused: %d %s", url, trc, err2);
    FUZZ_CHECK(strcmp(out, want) == 0, "target \"%s\" of \"%s\" (%s, rule %d), not \"%s\"", out,
               url, otel_otlp_protocol_name(protocol), (int)rule, want);
    check_url(out, url, protocol, rule);

    /* A buffer just too small: RANGE; just big enough: the same URL. */
    FUZZ_CHECK(target(url, protocol, insecure, rule, again, wl, err2) == OTEL_ERR_RANGE,
               "target of %zu bytes in %zu", wl, wl);
    FUZZ_CHECK(target(url, protocol, insecure, rule, again, wl + 1, err2) == OTEL_OK &&
                   strcmp(again, out) == 0,
               "target in %zu bytes", wl + 1);

    if (http) {
        /* insecure and the encoding do not matter; the gRPC rules take it
         * when there is no path */
        otel_otlp_protocol other =
            protocol == OTEL_OTLP_HTTP_JSON ? OTEL_OTLP_HTTP_PROTOBUF : OTEL_OTLP_HTTP_JSON;
        FUZZ_CHECK(target(url, other, !insecure, rule, again, sizeof again, err2) == OTEL_OK &&
                       strcmp(again, out) == 0,
                   "target depends on insecure or the encoding");
        const char *path = path_of(url);
        bool no_path = path[0] == '\0' || strcmp(path, "/") == 0;
        FUZZ_CHECK((check(url, OTEL_OTLP_GRPC, insecure, err) == OTEL_OK) == no_path,
                   "\"%s\": gRPC check disagrees", url);
        /* the target is its own target as is */
        FUZZ_CHECK(check(out, protocol, insecure, err) == OTEL_OK &&
                       target(out, protocol, insecure, OTEL_OTLP_URL_AS_IS, again, sizeof again,
                              err2) == OTEL_OK &&
                       strcmp(again, out) == 0,
                   "target \"%s\" not its own target", out);
    } else {
        FUZZ_CHECK(check(out, protocol, !insecure, err) == OTEL_OK &&
                       target(out, protocol, !insecure, rule, again, sizeof again, err2) ==
                           OTEL_OK &&
                       strcmp(again, out) == 0,
                   "target \"%s\" not its own target", out);
    }
    free(want);
    free(url);
    return 0;
}
