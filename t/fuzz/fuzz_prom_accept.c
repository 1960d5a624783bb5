/* fuzz_prom_accept.c - libFuzzer target of otel_prom_negotiate, the choice
 * between the text format and OpenMetrics from a scraper's Accept header.
 * Input: the header value (up to its first NUL). */
#include "fuzz.h"

#include <ctype.h>
#include <strings.h>

#include "../../core/text.h"
#include "../../exporter/prometheus.h"

/* RFC 9110 section 5.6.2 tchar, written out again. */
static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool all_tchar(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!tchar(s[i]))
            return false;
    return n > 0;
}

static bool same_ci(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* A qvalue (RFC 9110 section 12.4.2) in thousandths, -1 if s is not one. */
static int qvalue(const char *s, size_t n)
{
    if (n == 1 && (s[0] == '0' || s[0] == '1'))
        return (s[0] - '0') * 1000;
    if (n < 2 || n > 5 || s[1] != '.' || (s[0] != '0' && s[0] != '1'))
        return -1;
    int v = 0;
    for (size_t i = 2; i < 5; i++) {
        char d = i < n ? s[i] : '0';
        if (!isdigit((unsigned char)d))
            return -1;
        v = v * 10 + (d - '0');
    }
    return s[0] == '1' ? (v == 0 ? 1000 : -1) : v;
}

/* 2: OpenMetrics, 1: text, 0: neither or malformed; *q its weight. An
 * element (s, n bytes, no '"' in it) split at ';' and each part read on
 * its own. */
static int oracle_element(const char *s, size_t n, int *q)
{
    *q = 1000;
    const char *semi = memchr(s, ';', n);
    size_t tl = semi != NULL ? (size_t)(semi - s) : n;
    const char *t = s;
    otel_trim_ows(&t, &tl);
    const char *slash = memchr(t, '/', tl);
    if (slash == NULL)
        return 0;
    size_t a = (size_t)(slash - t), b = tl - a - 1;
    if (!all_tchar(t, a) || !all_tchar(slash + 1, b))
        return 0;
    const char *version = NULL; /* the last version parameter's value */
    size_t version_len = 0;
    const char *p = semi;
    while (p != NULL) {
        p++;
        const char *next = memchr(p, ';', (size_t)(s + n - p));
        size_t pl = next != NULL ? (size_t)(next - p) : (size_t)(s + n - p);
        const char *part = p;
        otel_trim_ows(&part, &pl);
        if (pl == 0) {
            if (next != NULL)
                return 0; /* an empty parameter before another */
            break;        /* a trailing ';' */
        }
        const char *eq = memchr(part, '=', pl);
        if (eq == NULL)
            return 0;
        size_t nl = (size_t)(eq - part), vl = pl - nl - 1;
        if (!all_tchar(part, nl) || !all_tchar(eq + 1, vl))
            return 0;
        if (same_ci(part, nl, "q")) {
            *q = qvalue(eq + 1, vl);
            if (*q < 0)
                return 0;
        } else if (same_ci(part, nl, "version")) {
            version = eq + 1;
            version_len = vl;
        }
        p = next;
    }
    bool om = same_ci(t, a, "application") && same_ci(slash + 1, b, "openmetrics-text");
    bool version_ok =
        version == NULL || (version_len == 5 && memcmp(version, om ? "1.0.0" : "0.0.4", 5) == 0);
    if (om)
        return version_ok ? 2 : 0;
    if (same_ci(t, a, "text") && same_ci(slash + 1, b, "plain"))
        return version_ok ? 1 : 0;
    if ((same_ci(t, a, "text") || same_ci(t, a, "*")) && same_ci(slash + 1, b, "*"))
        return 1;
    return 0;
}

/* The format an independent reading gives for a value without quotes. */
static otel_prom_format oracle(const char *v)
{
    otel_prom_format best = OTEL_PROM_TEXT;
    int best_q = 0;
    const char *p = v, *end = v + strlen(v);
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = p;
        size_t el = (size_t)((comma != NULL ? comma : end) - p);
        otel_trim_ows(&e, &el);
        int q = 0;
        int k = el > 0 ? oracle_element(e, el, &q) : 0;
        if (k != 0 && q > best_q) {
            best = k == 2 ? OTEL_PROM_OPENMETRICS : OTEL_PROM_TEXT;
            best_q = q;
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return best;
}

static otel_prom_format negotiate(const char *v)
{
    otel_prom_format f = otel_prom_negotiate(v);
    FUZZ_CHECK(f == OTEL_PROM_TEXT || f == OTEL_PROM_OPENMETRICS, "format %d for \"%s\"", (int)f,
               v);
    return f;
}

static char *joined(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (s == NULL)
        abort();
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

static bool has_ci(const char *s, const char *lit)
{
    size_t k = strlen(lit);
    for (; *s != '\0'; s++)
        if (strncasecmp(s, lit, k) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *v = fuzz_strndup(data, size);
    otel_prom_format f = negotiate(v);
    FUZZ_CHECK(negotiate(v) == f, "\"%s\" differs on a second call", v);
    const char *ct = otel_prom_content_type(f);
    FUZZ_CHECK(ct != NULL && fuzz_printable(ct, strlen(ct)), "content type");
    if (!has_ci(v, "openmetrics-text"))
        FUZZ_CHECK(f == OTEL_PROM_TEXT, "\"%s\" gave OpenMetrics without asking for it", v);

    /* A first range of weight 1 wins whatever follows. */
    char *s = joined("application/openmetrics-text,", v, "");
    FUZZ_CHECK(negotiate(s) == OTEL_PROM_OPENMETRICS, "\"%s\"", s);
    free(s);
    s = joined("text/plain;version=0.0.4,", v, "");
    FUZZ_CHECK(negotiate(s) == OTEL_PROM_TEXT, "\"%s\"", s);
    free(s);

    /* Case does not matter: names are case-insensitive, and the values
     * compared are digits. */
    s = joined(v, "", "");
    for (char *p = s; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    FUZZ_CHECK(negotiate(s) == f, "\"%s\" and its upper case \"%s\" differ", v, s);
    free(s);

    if (strchr(v, '"') == NULL) {
        FUZZ_CHECK(oracle(v) == f, "\"%s\": format %d, an independent reading %d", v, (int)f,
                   (int)oracle(v));
        /* a range of weight 0 added at the end changes nothing */
        s = joined(v, ",application/openmetrics-text;q=0,", "text/plain;q=0.000");
        FUZZ_CHECK(negotiate(s) == f, "\"%s\" and \"%s\" differ", v, s);
        free(s);
    }
    free(v);
    return 0;
}
