/* conf_env.c - applies the OpenTelemetry SDK environment variables (OTEL_*) to a config being
 * built. */
#include "conf_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../core/alloc.h"

#define NS_PER_MS 1000000ULL

/* ---- environment --------------------------------------------------------- */

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A variable's value; unset and empty are the same. */
static const char *env_get(mhd_otel_env_fn fn, const char *var)
{
    const char *v = fn != NULL ? fn(var) : NULL;
    return v != NULL && *v != '\0' ? v : NULL;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy of s without the whitespace around it, ASCII lowercased, into buf;
 * false when it does not fit. */
static bool trim_lower(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        buf[i] = ascii_lower(s[i]);
    buf[n] = '\0';
    return true;
}

/* A whole number of at least min (the value trimmed). */
static int env_uint(conf_parser *ps, const char *var, const char *v, uint64_t min, uint64_t *out)
{
    char a[CONF_SHOW], buf[32];
    SHOW(v, a);
    int rc = trim_lower(v, buf, sizeof(buf)) ? mhd_otel_lex_uint(buf, out) : OTEL_ERR_PARSE;
    if (rc == OTEL_ERR_RANGE)
        return mhd_otel_conf_env_error(ps, var, rc, "number \"%s\" is too large", a);
    if (rc != OTEL_OK || *out < min)
        return mhd_otel_conf_env_error(ps, var, rc != OTEL_OK ? rc : OTEL_ERR_RANGE,
                                       "expected a %s integer, got \"%s\"",
                                       min > 0 ? "positive" : "non-negative", a);
    return OTEL_OK;
}

/* OTEL_BSP_*: sizes are counts (>= 1), times milliseconds. */
static int env_batch(conf_parser *ps, mhd_otel_env_fn fn)
{
    static const char *const vars[] = {"OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                                       "OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT"};
    otel_tracer_config *b = &ps->conf->batch;
    char a[CONF_SHOW];
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = env_get(fn, vars[i]);
        uint64_t n = 0;
        if (v == NULL)
            continue;
        int rc = env_uint(ps, vars[i], v, i < 2 ? 1 : 0, &n);
        if (rc != OTEL_OK)
            return rc;
        if ((i < 2 && n > SIZE_MAX) || (i >= 2 && n > UINT64_MAX / NS_PER_MS))
            return mhd_otel_conf_env_error(ps, vars[i], OTEL_ERR_RANGE,
                                           "number \"%s\" is too large", SHOW(v, a));
        if (i == 0) {
            b->max_queue_size = (size_t)n;
            ps->env_queue = vars[i];
        } else if (i == 1) {
            b->max_export_batch_size = (size_t)n;
            ps->env_batch = vars[i];
        } else if (i == 2) {
            b->schedule_delay_ns = n * NS_PER_MS;
        } else {
            b->export_timeout_ns = n * NS_PER_MS;
        }
    }
    return OTEL_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ascii_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0..n) percent-decoded into a new string (*out, the caller frees). */
static int pct_decode(conf_parser *ps, const char *var, const char *s, size_t n, char **out)
{
    char a[CONF_SHOW];
    char *d = otel_malloc(n + 1);
    if (d == NULL)
        return mhd_otel_conf_nomem(ps);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        if (i + 2 >= n || (hi = hex_value(s[i + 1])) < 0 || (lo = hex_value(s[i + 2])) < 0 ||
            hi + lo == 0) {
            size_t k = n - i < sizeof(a) ? n - i : sizeof(a) - 1;
            memcpy(a, s + i, k);
            a[k] = '\0';
            otel_free(d);
            return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                           "invalid percent-encoding at \"%s\"", SHOW(a, a));
        }
        d[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    d[j] = '\0';
    *out = d;
    return OTEL_OK;
}

/* One "key=value" of OTEL_RESOURCE_ATTRIBUTES, s[0..n). */
static int env_resource_member(conf_parser *ps, const char *var, const char *s, size_t n)
{
    char a[CONF_SHOW];
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (n == 0)
        return OTEL_OK;
    const char *eq = memchr(s, '=', n);
    size_t klen = eq != NULL ? (size_t)(eq - s) : 0;
    while (klen > 0 && is_blank(s[klen - 1]))
        klen--;
    if (eq == NULL || klen == 0) {
        size_t k = n < sizeof(a) ? n : sizeof(a) - 1;
        memcpy(a, s, k);
        a[k] = '\0';
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                       "invalid member \"%s\", expected key=value", SHOW(a, a));
    }
    const char *v = eq + 1, *end = s + n;
    while (v < end && is_blank(*v))
        v++;
    char *key = NULL, *value = NULL;
    int rc = pct_decode(ps, var, s, klen, &key);
    if (rc == OTEL_OK)
        rc = pct_decode(ps, var, v, (size_t)(end - v), &value);
    if (rc != OTEL_OK) {
        otel_free(key);
        return rc;
    }
    return mhd_otel_conf_attr_set(ps, ps->conf, key, value);
}

/* OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME over its service.name. */
static int env_resource(conf_parser *ps, mhd_otel_env_fn fn)
{
    const char *var = "OTEL_RESOURCE_ATTRIBUTES", *s = env_get(fn, var);
    while (s != NULL && *s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        int rc = env_resource_member(ps, var, s, n);
        if (rc != OTEL_OK)
            return rc;
        s = comma != NULL ? comma + 1 : s + n;
    }
    const char *name = env_get(fn, "OTEL_SERVICE_NAME");
    if (name == NULL)
        return OTEL_OK;
    char *copy = otel_strdup(name);
    if (copy == NULL)
        return mhd_otel_conf_nomem(ps);
    otel_free(ps->conf->service_name);
    ps->conf->service_name = copy;
    return OTEL_OK;
}

/* OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the ratio, default 1). */
static int env_sampler(conf_parser *ps, mhd_otel_env_fn fn)
{
    char a[CONF_SHOW], name[40];
    const char *var = "OTEL_TRACES_SAMPLER", *v = env_get(fn, var);
    otel_sampler_kind kind;
    double ratio = 1.0;
    if (v == NULL)
        return OTEL_OK;
    if (!trim_lower(v, name, sizeof(name)) || otel_sampler_kind_from_name(name, &kind) != OTEL_OK)
        return mhd_otel_conf_unknown_sampler(ps, var, 0, v);
    var = "OTEL_TRACES_SAMPLER_ARG";
    const char *arg = env_get(fn, var);
    if (otel_sampler_needs_ratio(kind) && arg != NULL) {
        char buf[48];
        int rc =
            trim_lower(arg, buf, sizeof(buf)) ? mhd_otel_lex_ratio(buf, &ratio) : OTEL_ERR_PARSE;
        if (rc != OTEL_OK)
            return mhd_otel_conf_env_error(
                ps, var, rc, "expected a ratio between 0 and 1, got \"%s\"", SHOW(arg, a));
    }
    if (otel_sampler_init(&ps->conf->sampler, kind, ratio) != OTEL_OK)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_RANGE, "ratio must be between 0 and 1");
    return OTEL_OK;
}

/* OTEL_PROPAGATORS: a comma list of propagators, or none. */
static int env_propagators(conf_parser *ps, mhd_otel_env_fn fn)
{
    const char *var = "OTEL_PROPAGATORS", *v = env_get(fn, var);
    if (v == NULL)
        return OTEL_OK;
    return mhd_otel_conf_propagators(ps, var, 0, v, &ps->conf->propagators);
}

static int env_disabled(conf_parser *ps, mhd_otel_env_fn fn)
{
    char a[CONF_SHOW], buf[8];
    const char *var = "OTEL_SDK_DISABLED", *v = env_get(fn, var);
    if (v == NULL)
        return OTEL_OK;
    bool ok = trim_lower(v, buf, sizeof(buf));
    if (ok && strcmp(buf, "true") == 0)
        ps->conf->trace = false;
    else if (!ok || strcmp(buf, "false") != 0)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                       "expected \"true\" or \"false\", got \"%s\"", SHOW(v, a));
    return OTEL_OK;
}

/* ---- OTLP exporter ------------------------------------------------------- */

/* s[0..*n) without the blanks around it (*s and *n updated). */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_blank(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*s)[*n - 1]))
        (*n)--;
}

/* s[0..n) quoted into a (cap bytes) for a message. */
static const char *show_part(const char *s, size_t n, char *a, size_t cap)
{
    size_t k = n < cap ? n : cap - 1;
    memcpy(a, s, k);
    a[k] = '\0';
    return mhd_otel_conf_show(a, a, cap);
}

/* The value of the signal-specific variable when set, else of the general
 * one; *var names the one read. */
static const char *env_pick(mhd_otel_env_fn fn, const char *traces, const char *general,
                            const char **var)
{
    const char *v = env_get(fn, traces);
    *var = traces;
    if (v == NULL) {
        v = env_get(fn, general);
        *var = general;
    }
    return v;
}

/* OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT: used as given (gRPC appends no
 * path), blanks around it removed. */
static int env_otlp_endpoint(conf_parser *ps, mhd_otel_env_fn fn)
{
    char a[CONF_SHOW];
    const char *var;
    const char *v =
        env_pick(fn, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", &var);
    if (v == NULL)
        return OTEL_OK;
    size_t n = strlen(v);
    trim(&v, &n);
    char *url = otel_malloc(n + 1);
    if (url == NULL)
        return mhd_otel_conf_nomem(ps);
    memcpy(url, v, n);
    url[n] = '\0';
    const char *why = mhd_otel_conf_endpoint_problem(url);
    if (why != NULL) {
        int rc = mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE, "invalid endpoint \"%s\": %s",
                                         SHOW(url, a), why);
        otel_free(url);
        return rc;
    }
    otel_free(ps->conf->otlp_endpoint);
    ps->conf->otlp_endpoint = url;
    return OTEL_OK;
}

/* One "name=value" of OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, s[0..n): the
 * name trimmed, the value trimmed and percent-decoded. */
static int env_header_member(conf_parser *ps, const char *var, const char *s, size_t n)
{
    char a[CONF_SHOW];
    trim(&s, &n);
    if (n == 0)
        return OTEL_OK;
    const char *eq = memchr(s, '=', n);
    size_t klen = eq != NULL ? (size_t)(eq - s) : 0;
    trim(&s, &klen);
    if (eq == NULL || klen == 0)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                       "invalid member \"%s\", expected name=value",
                                       show_part(s, n, a, sizeof(a)));
    if (!mhd_otel_conf_header_name_ok(s, klen))
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE, "invalid header name \"%s\"",
                                       show_part(s, klen, a, sizeof(a)));
    show_part(s, klen, a, sizeof(a));
    if (mhd_otel_conf_header_reserved(a))
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                       "header \"%s\" is reserved by HTTP/2 or gRPC", a);
    const char *v = eq + 1;
    size_t vlen = (size_t)(s + n - v);
    trim(&v, &vlen);
    char *key = NULL, *value = NULL;
    int rc = pct_decode(ps, var, v, vlen, &value);
    if (rc == OTEL_OK && !mhd_otel_conf_header_value_ok(value))
        rc = mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                     "invalid value of header \"%s\", only printable ASCII is "
                                     "allowed",
                                     a);
    if (rc == OTEL_OK && (key = otel_malloc(klen + 1)) == NULL)
        rc = mhd_otel_conf_nomem(ps);
    if (rc != OTEL_OK) {
        otel_free(value);
        return rc;
    }
    memcpy(key, s, klen);
    key[klen] = '\0';
    return mhd_otel_conf_header_set(ps, ps->conf, key, value);
}

/* OTEL_EXPORTER_OTLP_[TRACES_]HEADERS: "name=value,name2=value2"; the
 * signal-specific variable replaces the general one as a whole. */
static int env_otlp_headers(conf_parser *ps, mhd_otel_env_fn fn)
{
    const char *var;
    const char *s =
        env_pick(fn, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS", &var);
    while (s != NULL && *s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        int rc = env_header_member(ps, var, s, n);
        if (rc != OTEL_OK)
            return rc;
        s = comma != NULL ? comma + 1 : s + n;
    }
    return OTEL_OK;
}

/* OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT: milliseconds, at least 1. */
static int env_otlp_timeout(conf_parser *ps, mhd_otel_env_fn fn)
{
    char a[CONF_SHOW];
    const char *var;
    const char *v =
        env_pick(fn, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT", &var);
    uint64_t n = 0;
    if (v == NULL)
        return OTEL_OK;
    int rc = env_uint(ps, var, v, 1, &n);
    if (rc != OTEL_OK)
        return rc;
    if (n > UINT64_MAX / NS_PER_MS)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_RANGE, "number \"%s\" is too large",
                                       SHOW(v, a));
    ps->conf->otlp_timeout_ns = n * NS_PER_MS;
    return OTEL_OK;
}

/* OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION: gzip or none. */
static int env_otlp_compression(conf_parser *ps, mhd_otel_env_fn fn)
{
    char a[CONF_SHOW], buf[8];
    const char *var;
    const char *v = env_pick(fn, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                             "OTEL_EXPORTER_OTLP_COMPRESSION", &var);
    if (v == NULL)
        return OTEL_OK;
    bool ok = trim_lower(v, buf, sizeof(buf));
    if (ok && strcmp(buf, "gzip") == 0)
        ps->conf->otlp_gzip = true;
    else if (ok && strcmp(buf, "none") == 0)
        ps->conf->otlp_gzip = false;
    else
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                       "expected \"gzip\" or \"none\", got \"%s\"", SHOW(v, a));
    return OTEL_OK;
}

/* OTEL_TRACES_EXPORTER: a comma list of otlp, console, or just none. Kept
 * aside: it counts only when the file has no otel_exporter block. */
static int env_exporters(conf_parser *ps, mhd_otel_env_fn fn)
{
    char a[CONF_SHOW], name[16];
    const char *var = "OTEL_TRACES_EXPORTER", *s = env_get(fn, var);
    unsigned bits = 0;
    bool none = false, named = false;
    while (s != NULL && *s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        const char *m = s;
        size_t mlen = n;
        s = comma != NULL ? comma + 1 : s + n;
        trim(&m, &mlen);
        if (mlen == 0)
            continue;
        show_part(m, mlen, a, sizeof(a));
        if (!trim_lower(a, name, sizeof(name)))
            name[0] = '\0';
        if (strcmp(name, "otlp") == 0)
            bits |= CONF_EXPORTER_OTLP;
        else if (strcmp(name, "console") == 0)
            bits |= CONF_EXPORTER_CONSOLE;
        else if (strcmp(name, "none") == 0)
            none = true;
        else
            return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE, "unknown exporter \"%s\"", a);
        named = true;
    }
    if (none && bits != 0)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE,
                                       "\"none\" cannot be combined with other exporters");
    if (named) {
        ps->env_exporters_set = true;
        ps->env_exporters = bits;
    }
    return OTEL_OK;
}

int mhd_otel_conf_env_apply(conf_parser *ps, mhd_otel_env_fn fn)
{
    int rc = env_disabled(ps, fn);
    if (rc == OTEL_OK)
        rc = env_resource(ps, fn);
    if (rc == OTEL_OK)
        rc = env_sampler(ps, fn);
    if (rc == OTEL_OK)
        rc = env_propagators(ps, fn);
    if (rc == OTEL_OK)
        rc = env_batch(ps, fn);
    if (rc == OTEL_OK)
        rc = env_exporters(ps, fn);
    if (rc == OTEL_OK)
        rc = env_otlp_endpoint(ps, fn);
    if (rc == OTEL_OK)
        rc = env_otlp_headers(ps, fn);
    if (rc == OTEL_OK)
        rc = env_otlp_timeout(ps, fn);
    if (rc == OTEL_OK)
        rc = env_otlp_compression(ps, fn);
    return rc;
}
