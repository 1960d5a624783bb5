/* test_prom_server.c - unit tests for module/prom_server.c: the scrape
 * endpoint on 127.0.0.1 and a free port, fetched with libcurl, its bodies
 * read by a strict parser of the two formats written here (and by the
 * Prometheus project's own promtool when it is installed).
 *
 * The rules checked, and where they are written:
 * - Prometheus docs, instrumenting/exposition_formats.md, text format
 *   0.0.4: the line grammar (metric_name [ "{" labels "}" ] value), HELP
 *   and TYPE before the samples, one each per name, a metric's lines in
 *   one group, unique name and labels per line; "Histograms and
 *   summaries": _bucket{le} in increasing le, a +Inf bucket equal to
 *   _count, _sum; Content-Type text/plain; version=0.0.4.
 * - OpenMetrics 1.0 (prometheus/docs specs/om/open_metrics_spec.md): the
 *   ABNF (metric-descriptor, sample, exemplar, escaped-string, number),
 *   "Overall Structure" (content type, ends with # EOF), "MetricFamily
 *   metadata" (TYPE, UNIT, HELP once each, UNIT a suffix of the name),
 *   "Counter" (_total, _created), "Histogram" (buckets cumulative, +Inf,
 *   integer counts, _count with _sum), "Exemplars" (128 characters at
 *   most).
 * - Prometheus docs, instrumenting/content_negotiation.md: the format
 *   from the Accept header.
 * - RFC 9110 section 15.5.6 "405 Method Not Allowed": an Allow header;
 *   section 9.3.2 "HEAD": the headers of GET, no content. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/test_hooks.h"
#include "../../module/prom_server.h"

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OM "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define PROM3_ACCEPT                                                                               \
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"                       \
    "application/openmetrics-text;version=0.0.1;q=0.4,"                                            \
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

/* ---- a fixture: metrics of every kind, names and values that need care ---- */

typedef struct fixture {
    otel_metrics *m;
    otel_resource *res;
    otel_counter *requests;
    mhd_otel_prom *srv;
} fixture;

static void fill(fixture *fx)
{
    assert_int_equal(otel_metrics_new(&fx->m, 0), OTEL_OK);
    assert_int_equal(otel_resource_new(&fx->res, "prom-test"), OTEL_OK);
    assert_int_equal(otel_resource_set(fx->res, "host.name", "a \"b\" \\ c\nd"), OTEL_OK);
    otel_histogram *h, *sz;
    otel_updown_counter *active;
    assert_int_equal(otel_counter_new(fx->m, &fx->requests, "http.server.requests",
                                      "Requests served, \"by route\".\nSecond line.", "{request}"),
                     OTEL_OK);
    assert_int_equal(otel_histogram_new(fx->m, &h, "http.server.request.duration",
                                        "Duration of HTTP server requests.", "s", NULL, 0),
                     OTEL_OK);
    const double sizes[] = {100, 1000, 1e4, 1e5, 1e6};
    assert_int_equal(otel_histogram_new(fx->m, &sz, "http.server.response.body.size",
                                        "Size of response bodies.", "By", sizes, 5),
                     OTEL_OK);
    assert_int_equal(otel_updown_counter_new(fx->m, &active, "http.server.active_requests",
                                             "Requests in flight.", "{request}"),
                     OTEL_OK);
    otel_span_context sc = {.trace_flags = OTEL_TRACE_FLAG_SAMPLED};
    memset(sc.trace_id, 0x4b, 16);
    memset(sc.span_id, 0x2c, 8);
    static const char *const routes[] = {"/", "/hello/{name}", "/a\"b\\c\nd", "/\xff\xfe"};
    for (int i = 0; i < 200; i++) {
        otel_kv a[] = {OTEL_KV_STR("http.route", routes[i % 4]),
                       OTEL_KV_INT("http.response.status_code", 200 + (i % 3) * 100),
                       OTEL_KV_BOOL("error", i % 7 == 0), OTEL_KV_DOUBLE("weight", i / 8.0)};
        otel_counter_add(fx->requests, 1, a, 2);
        otel_histogram_record(h, 0.0005 * i * i, a, 3, i % 5 == 0 ? &sc : NULL);
        otel_histogram_record(sz, 37.0 * i * i, a, 2, &sc);
        otel_updown_counter_add(active, i % 2 ? 1 : -1, a, 4);
    }
}

static void unfill(fixture *fx)
{
    mhd_otel_prom_stop(fx->srv);
    otel_resource_del(fx->res);
    otel_metrics_del(fx->m);
}

/* ---- fetching ----------------------------------------------------------------- */

typedef struct reply {
    long status;
    char content_type[128];
    char allow[64];
    char *body;
    size_t len;
    curl_off_t content_length;
} reply;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = size * n;
    char *b = realloc(r->body, r->len + k + 1);
    if (b == NULL)
        return 0;
    memcpy(b + r->len, p, k);
    r->len += k;
    b[r->len] = '\0';
    r->body = b;
    return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = size * n;
    if (k > 7 && strncasecmp(p, "Allow:", 6) == 0) {
        size_t v = 6;
        while (v < k && p[v] == ' ')
            v++;
        size_t e = k;
        while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n'))
            e--;
        snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(e - v), p + v);
    }
    return k;
}

/* method NULL: GET; "HEAD": without a body. accept NULL: no header. */
static void fetch(uint16_t port, const char *host, const char *path, const char *method,
                  const char *accept, reply *r)
{
    memset(r, 0, sizeof(*r));
    r->body = calloc(1, 1);
    assert_non_null(r->body);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[256];
    snprintf(url, sizeof(url), "http://%s:%u%s", host, (unsigned)port, path);
    struct curl_slist *hdrs = NULL;
    char line[1024];
    if (accept != NULL) {
        snprintf(line, sizeof(line), "Accept: %s", accept);
        hdrs = curl_slist_append(hdrs, line);
    } else {
        hdrs = curl_slist_append(hdrs, "Accept:"); /* no Accept header at all */
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (method != NULL && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (method != NULL) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (strcmp(method, "POST") == 0)
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method != NULL ? method : "GET", url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->content_type, sizeof(r->content_type), "%s", ct != NULL ? ct : "");
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->content_length);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
}

/* GET /metrics of fx's server. */
static void scrape(const fixture *fx, const char *accept, reply *r)
{
    fetch(mhd_otel_prom_port(fx->srv), "127.0.0.1", "/metrics", NULL, accept, r);
}

/* ---- a strict reader of both formats ---------------------------------------- */

#define MAX_FAMS 64
#define MAX_SERIES 4096
#define NAME_LEN 256

typedef struct family {
    char name[NAME_LEN];
    char type[16];
    bool help, unit;
} family;

/* One histogram series: the buckets seen so far. */
typedef struct hseries {
    char key[2048]; /* family and labels but le */
    double last_le;
    double last_count;
    bool has_bucket, has_inf, has_count, has_sum;
    double inf, count;
} hseries;

typedef struct reader {
    bool om;
    int line;
    family fams[MAX_FAMS];
    size_t n_fams;
    family *cur; /* the family of the lines being read */
    bool cur_has_samples;
    char **seen; /* name{labels} of every sample */
    size_t n_seen;
    hseries *hs;
    size_t n_hs;
    size_t samples, exemplars;
    bool eof;
    char err[512];
} reader;

/* Note the first violation (with its line) and give false. */
__attribute__((format(printf, 2, 3))) static bool reader_fail(reader *rd, const char *fmt, ...)
{
    int k = rd->line > 0 ? snprintf(rd->err, sizeof(rd->err), "line %d: ", rd->line) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rd->err + k, sizeof(rd->err) - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

#define BAD(rd, ...) return reader_fail((rd), __VA_ARGS__)

static bool is_name_start(char c, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool is_name_char(char c, bool colon)
{
    return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

/* A name at *p ([a-zA-Z_:][a-zA-Z0-9_:]*, no ':' for labels) into out. */
static bool read_name(const char **p, char *out, size_t cap, bool colon)
{
    const char *s = *p;
    if (!is_name_start(*s, colon))
        return false;
    size_t n = 0;
    while (is_name_char(s[n], colon))
        n++;
    if (n >= cap)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = s + n;
    return true;
}

/* Whether s (n bytes) is valid UTF-8 (each sequence as RFC 3629 has it). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > n || (k == 2 && c < 0xc2))
            return false;
        uint32_t cp = k == 1 ? c : (uint32_t)(c & (0x7f >> k));
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k;
    }
    return true;
}

/* A quoted escaped string at *p (the '"' included); its unescaped text
 * into out. Only \\, \" and \n are escapes. */
static bool read_quoted(const char **p, char *out, size_t cap, size_t *len)
{
    const char *s = *p;
    if (*s++ != '"')
        return false;
    size_t n = 0;
    for (; *s != '"'; s++) {
        char c = *s;
        if (c == '\0' || c == '\n')
            return false;
        if (c == '\\') {
            s++;
            c = *s == 'n' ? '\n' : *s == '\\' ? '\\' : *s == '"' ? '"' : 0;
            if (c == 0)
                return false;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    *len = n;
    *p = s + 1;
    return valid_utf8((const unsigned char *)out, n);
}

/* {name="value",...}: unique names; the le value into le (when le is not
 * NULL); the text without le into key. Total label text into *chars. */
static bool read_labels(reader *rd, const char **p, char *key, size_t kcap, char *le, size_t *chars)
{
    const char *s = *p;
    char names[64][NAME_LEN];
    size_t n = 0, ko = strlen(key);
    *chars = 0;
    if (*s != '{')
        return true;
    s++;
    while (*s != '}') {
        char name[NAME_LEN], val[4096];
        size_t vl;
        if (n > 0 && *s++ != ',')
            BAD(rd, "',' expected between labels");
        if (!read_name(&s, name, sizeof(name), false))
            BAD(rd, "bad label name at \"%.20s\"", s);
        if (*s++ != '=')
            BAD(rd, "'=' expected after label %s", name);
        if (!read_quoted(&s, val, sizeof(val), &vl))
            BAD(rd, "bad value of label %s", name);
        for (size_t i = 0; i < n; i++)
            if (strcmp(names[i], name) == 0)
                BAD(rd, "label %s twice", name);
        if (n == 64)
            BAD(rd, "too many labels");
        snprintf(names[n++], NAME_LEN, "%s", name);
        *chars += strlen(name) + vl;
        if (le != NULL && strcmp(name, "le") == 0)
            snprintf(le, 64, "%.63s", val);
        else
            ko += (size_t)snprintf(key + ko, ko < kcap ? kcap - ko : 0, ",%s=%s", name, val);
    }
    *p = s + 1;
    return true;
}

/* A number as Go's ParseFloat takes it in the text format, the ABNF's
 * number in OpenMetrics (integer or float, [+-]inf, nan). */
static bool read_number(const char **p, double *v, bool *integer)
{
    const char *s = *p, *q = s;
    static const char *const specials[] = {"+Inf", "-Inf", "NaN", "+inf", "-inf", "nan"};
    for (size_t i = 0; i < 6; i++) {
        size_t k = strlen(specials[i]);
        if (strncmp(s, specials[i], k) == 0 && (s[k] == ' ' || s[k] == '\0')) {
            *v = strtod(specials[i][0] == 'N' || specials[i][0] == 'n' ? "nan" : specials[i], NULL);
            *integer = false;
            *p = s + k;
            return true;
        }
    }
    if (*q == '+' || *q == '-')
        q++;
    size_t int_digits = strspn(q, "0123456789");
    q += int_digits;
    size_t frac = 0;
    bool dot = *q == '.';
    if (dot) {
        q++;
        frac = strspn(q, "0123456789");
        q += frac;
    }
    if (int_digits + frac == 0)
        return false;
    bool exp = *q == 'e' || *q == 'E';
    if (exp) {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        size_t ed = strspn(q, "0123456789");
        if (ed == 0)
            return false;
        q += ed;
    }
    if (*q != ' ' && *q != '\0')
        return false;
    *v = strtod(s, NULL);
    *integer = !dot && !exp;
    *p = q;
    return true;
}

static family *family_named(reader *rd, const char *name)
{
    for (size_t i = 0; i < rd->n_fams; i++)
        if (strcmp(rd->fams[i].name, name) == 0)
            return &rd->fams[i];
    return NULL;
}

static bool read_descriptor(reader *rd, const char *s)
{
    char kw[8], name[NAME_LEN];
    size_t k = strcspn(s, " ");
    if (k == 0 || k >= sizeof(kw))
        BAD(rd, "comment \"%s\"", s);
    memcpy(kw, s, k);
    kw[k] = '\0';
    s += k;
    if (strcmp(kw, "EOF") == 0 && rd->om && *s == '\0') {
        rd->eof = true;
        return true;
    }
    if (*s++ != ' ' || !read_name(&s, name, sizeof(name), true))
        BAD(rd, "# %s without a name", kw);
    family *f = family_named(rd, name);
    if (f != NULL && f != rd->cur)
        BAD(rd, "metadata of %s away from its family", name);
    if (f == NULL) {
        if (rd->n_fams == MAX_FAMS)
            BAD(rd, "too many families");
        f = &rd->fams[rd->n_fams++];
        snprintf(f->name, sizeof(f->name), "%s", name);
        rd->cur = f;
        rd->cur_has_samples = false;
    }
    if (rd->cur_has_samples)
        BAD(rd, "metadata of %s after its samples", name);
    if (strcmp(kw, "TYPE") == 0) {
        static const char *const om_types[] = {"counter", "gauge", "histogram", "info", NULL};
        static const char *const text_types[] = {"counter", "gauge", "histogram", NULL};
        if (f->type[0] != '\0' || *s++ != ' ')
            BAD(rd, "TYPE of %s twice or without a type", name);
        bool ok = false;
        for (const char *const *t = rd->om ? om_types : text_types; *t != NULL; t++)
            ok = ok || strcmp(s, *t) == 0;
        if (!ok)
            BAD(rd, "type \"%s\" of %s", s, name);
        snprintf(f->type, sizeof(f->type), "%s", s);
        return true;
    }
    if (strcmp(kw, "HELP") == 0) {
        if (f->help || *s++ != ' ')
            BAD(rd, "HELP of %s twice or empty", name);
        f->help = true;
        for (; *s != '\0'; s++)
            if (*s == '\\' && s[1] != '\\' && s[1] != 'n' && !(rd->om && s[1] == '"'))
                BAD(rd, "an escape \\%c in the HELP of %s", s[1], name);
            else if (*s == '\\')
                s++;
            else if (rd->om && *s == '"')
                BAD(rd, "an unescaped '\"' in the HELP of %s", name);
        return true;
    }
    if (strcmp(kw, "UNIT") == 0 && rd->om) {
        char unit[NAME_LEN];
        size_t nl = strlen(name);
        if (f->unit || *s++ != ' ' || !read_name(&s, unit, sizeof(unit), true) || *s != '\0')
            BAD(rd, "UNIT of %s twice or malformed", name);
        size_t ul = strlen(unit);
        if (nl <= ul || name[nl - ul - 1] != '_' || strcmp(name + nl - ul, unit) != 0)
            BAD(rd, "unit %s is not a suffix of %s", unit, name);
        f->unit = true;
        return true;
    }
    BAD(rd, "comment \"# %s\"", kw);
}

/* The part of sample name that names its family of type t, or false. */
static bool sample_of(const reader *rd, const family *f, const char *name, const char **suffix)
{
    size_t fl = strlen(f->name);
    if (strncmp(name, f->name, fl) != 0)
        return false;
    *suffix = name + fl;
    const char *sx = *suffix;
    const char *t = f->type;
    if (strcmp(t, "gauge") == 0)
        return *sx == '\0';
    if (strcmp(t, "counter") == 0)
        return rd->om ? strcmp(sx, "_total") == 0 || strcmp(sx, "_created") == 0 : *sx == '\0';
    if (strcmp(t, "info") == 0)
        return strcmp(sx, "_info") == 0;
    if (strcmp(t, "histogram") == 0)
        return strcmp(sx, "_bucket") == 0 || strcmp(sx, "_sum") == 0 || strcmp(sx, "_count") == 0 ||
               (rd->om && strcmp(sx, "_created") == 0);
    return false;
}

static hseries *hseries_of(reader *rd, const char *key)
{
    for (size_t i = 0; i < rd->n_hs; i++)
        if (strcmp(rd->hs[i].key, key) == 0)
            return &rd->hs[i];
    if (rd->n_hs == MAX_SERIES)
        return NULL;
    hseries *h = &rd->hs[rd->n_hs++];
    memset(h, 0, sizeof(*h));
    snprintf(h->key, sizeof(h->key), "%s", key);
    h->last_le = -INFINITY;
    return h;
}

static bool read_exemplar(reader *rd, const char **p)
{
    const char *s = *p;
    char key[1024] = "";
    size_t chars;
    double v;
    bool integer;
    if (strncmp(s, " # {", 4) != 0)
        BAD(rd, "an exemplar must start with \" # {\"");
    s += 3;
    if (!read_labels(rd, &s, key, sizeof(key), NULL, &chars))
        return false;
    if (chars > 128)
        BAD(rd, "exemplar labels of %zu characters", chars);
    if (*s++ != ' ' || !read_number(&s, &v, &integer))
        BAD(rd, "exemplar value");
    if (*s == ' ') {
        s++;
        if (!read_number(&s, &v, &integer) || !isfinite(v))
            BAD(rd, "exemplar timestamp");
    }
    rd->exemplars++;
    *p = s;
    return true;
}

static bool read_sample(reader *rd, const char *s)
{
    char name[NAME_LEN], key[2048], le[64] = "";
    if (!read_name(&s, name, sizeof(name), true))
        BAD(rd, "sample name at \"%.20s\"", s);
    family *f = rd->cur;
    const char *suffix = "";
    if (f == NULL || f->type[0] == '\0' || !sample_of(rd, f, name, &suffix))
        BAD(rd, "sample %s outside a family of its type", name);
    snprintf(key, sizeof(key), "%s", f->name);
    size_t chars;
    bool bucket = strcmp(suffix, "_bucket") == 0;
    if (!read_labels(rd, &s, key, sizeof(key), bucket ? le : NULL, &chars))
        return false;
    double v;
    bool integer;
    if (*s++ != ' ' || !read_number(&s, &v, &integer))
        BAD(rd, "value of %s", name);
    if (*s == ' ' && rd->om && s[1] == '#') {
        if (!bucket && strcmp(suffix, "_total") != 0)
            BAD(rd, "an exemplar on %s", name);
        if (!read_exemplar(rd, &s))
            return false;
    }
    if (*s != '\0')
        BAD(rd, "junk after the value of %s: \"%s\" (no timestamps are written)", name, s);
    /* every line a unique name and label set */
    char line[3072];
    snprintf(line, sizeof(line), "%s%s le=%s", name, key + strlen(f->name), le);
    for (size_t i = 0; i < rd->n_seen; i++)
        if (strcmp(rd->seen[i], line) == 0)
            BAD(rd, "%s twice", line);
    rd->seen = realloc(rd->seen, (rd->n_seen + 1) * sizeof(char *));
    assert_non_null(rd->seen);
    rd->seen[rd->n_seen] = strdup(line);
    assert_non_null(rd->seen[rd->n_seen++]);
    rd->cur_has_samples = true;
    rd->samples++;
    bool is_counterish =
        strcmp(suffix, "_total") == 0 || (strcmp(f->type, "counter") == 0 && suffix[0] == '\0');
    if (is_counterish && (!(v >= 0) || (rd->om && !integer)))
        BAD(rd, "counter %s = %g", name, v);
    if (strcmp(f->type, "histogram") != 0)
        return true;
    hseries *h = hseries_of(rd, key);
    if (h == NULL)
        BAD(rd, "too many series");
    if (strcmp(suffix, "_created") == 0)
        return true;
    if (strcmp(suffix, "_sum") == 0) {
        h->has_sum = true;
        if (v < 0)
            BAD(rd, "negative sum");
        return true;
    }
    if (!integer || v < 0)
        BAD(rd, "%s = %g is not a count", name, v);
    if (strcmp(suffix, "_count") == 0) {
        h->has_count = true;
        h->count = v;
        return true;
    }
    if (h->has_inf || h->has_count)
        BAD(rd, "a bucket of %s after +Inf or _count", key);
    bool inf = strcmp(le, "+Inf") == 0;
    const char *lp = le;
    double lv;
    bool li;
    if (!inf && (!read_number(&lp, &lv, &li) || *lp != '\0' || isnan(lv)))
        BAD(rd, "le=\"%s\"", le);
    if (rd->om && !inf && li)
        BAD(rd, "le=\"%s\" is not canonical (OpenMetrics wants a float)", le);
    if (!inf && lv <= h->last_le)
        BAD(rd, "le=%s not increasing in %s", le, key);
    if (h->has_bucket && v < h->last_count)
        BAD(rd, "bucket le=%s of %s below the one before", le, key);
    h->has_bucket = true;
    h->last_le = inf ? INFINITY : lv;
    h->last_count = v;
    if (inf) {
        h->has_inf = true;
        h->inf = v;
    }
    return true;
}

/* Read body as the text format (om false) or OpenMetrics; false with
 * rd->err set at the first violation. */
static bool read_exposition(reader *rd, const char *body, bool om)
{
    memset(rd, 0, sizeof(*rd));
    rd->om = om;
    rd->hs = calloc(MAX_SERIES, sizeof(hseries));
    assert_non_null(rd->hs);
    size_t n = strlen(body);
    if (n > 0 && body[n - 1] != '\n')
        return reader_fail(rd, "the last line has no line feed");
    for (const char *p = body; *p != '\0';) {
        const char *e = strchr(p, '\n');
        char *line = strndup(p, (size_t)(e - p));
        assert_non_null(line);
        rd->line++;
        bool ok;
        if (rd->eof)
            ok = reader_fail(rd, "after # EOF");
        else if (line[0] == '\0')
            ok = reader_fail(rd, "empty");
        else if (strchr(line, '\r') != NULL)
            ok = reader_fail(rd, "a CR");
        else if (strncmp(line, "# ", 2) == 0)
            ok = read_descriptor(rd, line + 2);
        else
            ok = read_sample(rd, line);
        free(line);
        if (!ok)
            return false;
        p = e + 1;
    }
    rd->line = 0;
    if (om && !rd->eof)
        return reader_fail(rd, "no # EOF at the end");
    for (size_t i = 0; i < rd->n_hs; i++) {
        hseries *h = &rd->hs[i];
        if (!h->has_inf)
            return reader_fail(rd, "%s has no +Inf bucket", h->key);
        if (h->has_count != h->has_sum || (!om && !h->has_count))
            return reader_fail(rd, "%s: _sum and _count", h->key);
        if (h->has_count && h->count != h->inf)
            return reader_fail(rd, "%s: +Inf bucket %g, _count %g", h->key, h->inf, h->count);
    }
    return true;
}

static void reader_free(reader *rd)
{
    for (size_t i = 0; i < rd->n_seen; i++)
        free(rd->seen[i]);
    free(rd->seen);
    free(rd->hs);
}

static void assert_exposition(const char *body, bool om, size_t min_samples)
{
    reader rd;
    if (!read_exposition(&rd, body, om))
        fail_msg("%s exposition refused: %s\n%s", om ? "OpenMetrics" : "text", rd.err, body);
    assert_true(rd.samples >= min_samples);
    if (om)
        assert_true(rd.exemplars > 0);
    reader_free(&rd);
}

/* The parser refuses what it must: it can fail. */
static void test_reader_refuses(void **state)
{
    (void)state;
    static const char *const bad_text[] = {
        "a 1",                                    /* no LF */
        "a 1\n",                                  /* no TYPE */
        "# TYPE a gauge\na{b=\"c} 1\n",           /* unterminated value */
        "# TYPE a gauge\na{b=\"\\x\"} 1\n",       /* bad escape */
        "# TYPE a gauge\na{b=\"1\",b=\"2\"} 1\n", /* label twice */
        "# TYPE a gauge\na{1b=\"1\"} 1\n",        /* label name */
        "# TYPE a gauge\na 1.2.3\n",              /* value */
        "# TYPE a gauge\na 1 123\n",              /* a timestamp */
        "# TYPE a gauge\na 1\na 2\n",             /* the same series twice */
        "# TYPE a gauge\na 1\n# TYPE a gauge\n",  /* TYPE twice */
        "# TYPE a gauge\na 1\n\n",                /* empty line */
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
        "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", /* no +Inf */
        "# TYPE a counter\na -1\n",
        "# TYPE a gauge\na{b=\"\xff\"} 1\n", /* not UTF-8 */
    };
    reader rd;
    for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
        if (read_exposition(&rd, bad_text[i], false))
            fail_msg("accepted as text: %s", bad_text[i]);
        reader_free(&rd);
    }
    static const char *const bad_om[] = {
        "# TYPE a gauge\na 1\n",                           /* no EOF */
        "# TYPE a counter\na 1\n# EOF\n",                  /* no _total */
        "# TYPE a counter\na_total 1.5\n# EOF\n",          /* not an integer */
        "# TYPE a_x counter\n# UNIT a_x seconds\n# EOF\n", /* unit not a suffix */
        "# TYPE a gauge\n# HELP a x\"y\n# EOF\n",          /* unescaped quote */
        "# TYPE a gauge\na 1 # {x=\"y\"} 1\n# EOF\n",      /* exemplar on a gauge */
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n# EOF\n", /* le */
        "# EOF\n# TYPE a gauge\n",
    };
    for (size_t i = 0; i < sizeof(bad_om) / sizeof(bad_om[0]); i++) {
        if (read_exposition(&rd, bad_om[i], true))
            fail_msg("accepted as OpenMetrics: %s", bad_om[i]);
        reader_free(&rd);
    }
    assert_true(read_exposition(&rd,
                                "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1 # {} 0.5\n"
                                "h_bucket{le=\"+Inf\"} 1\n# EOF\n",
                                true));
    reader_free(&rd);
}

/* ---- promtool --------------------------------------------------------------- */

/* The promtool of the Prometheus project ($PROMTOOL, else on PATH), or
 * NULL. */
static const char *promtool(void)
{
    static char path[4096];
    const char *env = getenv("PROMTOOL");
    if (env != NULL && env[0] != '\0')
        return access(env, X_OK) == 0 ? env : NULL;
    const char *p = getenv("PATH");
    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ":");
        snprintf(path, sizeof(path), "%.*s/promtool", (int)n, p);
        if (n > 0 && access(path, X_OK) == 0)
            return path;
        p += n + (p[n] == ':');
    }
    return NULL;
}

/* ---- tests ------------------------------------------------------------------ */

static void start(fixture *fx)
{
    char err[256] = "";
    int rc = mhd_otel_prom_start(&fx->srv, "127.0.0.1:0", fx->m, fx->res, err, sizeof(err));
    if (rc != OTEL_OK)
        fail_msg("start: %s", err);
    assert_int_not_equal(mhd_otel_prom_port(fx->srv), 0);
}

/* GET /metrics without Accept (and with a browser's): the text format,
 * which parses and holds the fixture's families. */
static void test_mhd_otel_prom_get_text(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    static const char *const accepts[] = {NULL, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8",
                                          "text/plain;version=0.0.4"};
    for (size_t i = 0; i < 4; i++) {
        reply r;
        scrape(&fx, accepts[i], &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, CT_TEXT);
        reader rd;
        assert_exposition(r.body, false, 100);
        assert_true(read_exposition(&rd, r.body, false));
        assert_non_null(family_named(&rd, "target_info"));
        assert_non_null(family_named(&rd, "http_server_requests_total"));
        assert_non_null(family_named(&rd, "http_server_request_duration_seconds"));
        assert_non_null(family_named(&rd, "http_server_response_body_size_bytes"));
        assert_non_null(family_named(&rd, "http_server_active_requests"));
        assert_int_equal(rd.exemplars, 0);
        reader_free(&rd);
        free(r.body);
    }
    unfill(&fx);
}

/* fx's server answers a scrape with 200. */
static void assert_serves(const fixture *fx)
{
    reply r;
    scrape(fx, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
}

/* A child forked while the server runs holds neither its thread (the
 * parent's) nor its port: with the child alive, the parent still serves,
 * and once the parent stops, the port can be listened on again. The child
 * then stops its copy without waiting for the parent's thread (were it to
 * wait, it would never exit: SIGALRM kills it) and without shutting the
 * parent's socket down. */
static void test_mhd_otel_prom_stop_in_forked_child(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    uint16_t port = mhd_otel_prom_port(fx.srv);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        mhd_otel_prom_stop(fx.srv);
        _exit(0);
    }
    close(go[0]);
    assert_serves(&fx);
    mhd_otel_prom_stop(fx.srv);
    char hostport[32], err[256] = "";
    snprintf(hostport, sizeof(hostport), "127.0.0.1:%u", (unsigned)port);
    assert_int_equal(mhd_otel_prom_start(&fx.srv, hostport, fx.m, fx.res, err, sizeof(err)),
                     OTEL_OK);
    assert_int_equal(write(go[1], "x", 1), 1);
    close(go[1]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_serves(&fx); /* the child's stop did not touch it */
    unfill(&fx);
}

/* A child forked while the server runs does not keep the port: when the
 * parent ends without stopping its server (killed, say), the port can be
 * listened on again while the child lives on. The child says it runs
 * (fork's handlers have run in it by then) before the port is tried. */
static void test_mhd_otel_prom_port_free_with_child_alive(void **state)
{
    (void)state;
    int port_pipe[2], ready[2], go[2];
    assert_int_equal(pipe(port_pipe), 0);
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) { /* the server's process: starts, forks, ends at once */
        fixture fx = {0};
        fill(&fx);
        start(&fx);
        uint16_t port = mhd_otel_prom_port(fx.srv);
        pid_t child = fork();
        if (child == 0) {
            alarm(10);
            char c;
            close(go[1]);
            if (write(ready[1], "r", 1) != 1)
                _exit(4);
            _exit(read(go[0], &c, 1) == 1 ? 0 : 2);
        }
        if (child < 0 || write(port_pipe[1], &port, sizeof(port)) != sizeof(port))
            _exit(3);
        _exit(0);
    }
    close(go[0]);
    int status = 0;
    assert_int_equal(waitpid(parent, &status, 0), parent);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    uint16_t port;
    char c;
    assert_int_equal(read(port_pipe[0], &port, sizeof(port)), sizeof(port));
    assert_int_equal(read(ready[0], &c, 1), 1); /* the child runs */
    fixture fx = {0};
    fill(&fx);
    char hostport[32], err[256] = "";
    snprintf(hostport, sizeof(hostport), "127.0.0.1:%u", (unsigned)port);
    int rc = mhd_otel_prom_start(&fx.srv, hostport, fx.m, fx.res, err, sizeof(err));
    assert_int_equal(write(go[1], "x", 1), 1); /* the child may go now */
    close(go[1]);
    for (int i = 0; i < 2; i++) {
        close(port_pipe[i]);
        close(ready[i]);
    }
    if (rc != OTEL_OK)
        fail_msg("the port of a server whose process ended is held: %s", err);
    assert_serves(&fx);
    unfill(&fx);
}

/* A scraper asking for OpenMetrics (alone, or as Prometheus 3 does) gets
 * it, exemplars and # EOF included. */
static void test_mhd_otel_prom_get_openmetrics(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    static const char *const accepts[] = {"application/openmetrics-text", PROM3_ACCEPT,
                                          "application/openmetrics-text;version=1.0.0"};
    for (size_t i = 0; i < 3; i++) {
        reply r;
        scrape(&fx, accepts[i], &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.content_type, CT_OM);
        assert_exposition(r.body, true, 100);
        assert_non_null(strstr(r.body, "# TYPE target info\n"));
        free(r.body);
    }
    unfill(&fx);
}

#define JOBS(v)                                                                                    \
    "\njobs_total{otel_scope_name=\"mhd-otel\",otel_scope_version=\"" OTEL_SDK_VERSION "\"} " v "\n"

/* Each scrape collects anew: a measurement made between two shows up. */
static void test_mhd_otel_prom_get_live(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    otel_counter *c;
    assert_int_equal(otel_counter_new(fx.m, &c, "jobs", "Jobs.", NULL), OTEL_OK);
    otel_counter_add(c, 41, NULL, 0);
    start(&fx);
    reply r;
    scrape(&fx, NULL, &r);
    assert_non_null(strstr(r.body, JOBS("41")));
    free(r.body);
    otel_counter_add(c, 1, NULL, 0);
    scrape(&fx, NULL, &r);
    assert_non_null(strstr(r.body, JOBS("42")));
    free(r.body);
    unfill(&fx);
}

/* HEAD: the status and headers of GET, no body (RFC 9110 section 9.3.2). */
static void test_mhd_otel_prom_head(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    reply g, h;
    scrape(&fx, "application/openmetrics-text", &g);
    fetch(mhd_otel_prom_port(fx.srv), "127.0.0.1", "/metrics", "HEAD",
          "application/openmetrics-text", &h);
    assert_int_equal(h.status, 200);
    assert_string_equal(h.content_type, CT_OM);
    assert_int_equal(h.len, 0);
    assert_int_equal(h.content_length, (curl_off_t)g.len);
    free(g.body);
    free(h.body);
    unfill(&fx);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Scrapes one after the other share one connection (RFC 9112 section 9.3
 * "Persistence": HTTP/1.1 keeps it by default). */
static void test_mhd_otel_prom_keep_alive(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", (unsigned)mhd_otel_prom_port(fx.srv));
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long status = 0, connects = -1;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
        assert_int_equal(status, 200);
        assert_int_equal(connects, i == 0 ? 1 : 0);
    }
    curl_easy_cleanup(c);
    unfill(&fx);
}

/* 404 off /metrics, 405 with Allow for other methods on it. */
static void test_mhd_otel_prom_not_found_not_allowed(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    uint16_t port = mhd_otel_prom_port(fx.srv);
    static const char *const paths[] = {"/", "/metrics/", "/metricsx", "/Metrics", "/favicon.ico"};
    for (size_t i = 0; i < 5; i++) {
        reply r;
        fetch(port, "127.0.0.1", paths[i], NULL, NULL, &r);
        assert_int_equal(r.status, 404);
        assert_null(strstr(r.body, "http_server"));
        free(r.body);
    }
    static const char *const methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < 5; i++) {
        reply r;
        fetch(port, "127.0.0.1", "/metrics", methods[i], NULL, &r);
        assert_int_equal(r.status, 405);
        assert_string_equal(r.allow, "GET, HEAD");
        assert_null(strstr(r.body, "http_server"));
        free(r.body);
    }
    /* the query does not change the path */
    reply r;
    fetch(port, "127.0.0.1", "/metrics?x=1", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    unfill(&fx);
}

/* The Prometheus project's parser and linter, when installed: an
 * independent reading of the text format (exit 0: parsed, no lint). */
static void test_mhd_otel_prom_promtool(void **state)
{
    (void)state;
    const char *tool = promtool();
    if (tool == NULL) {
        print_message("promtool not found (set PROMTOOL or put it on PATH): skipped\n");
        skip();
    }
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    reply r;
    scrape(&fx, NULL, &r);
    char dir[] = "/tmp/test_prom_server.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[128], out[128], cmd[4096 + 512];
    snprintf(in, sizeof(in), "%s/metrics", dir);
    snprintf(out, sizeof(out), "%s/promtool.out", dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(r.body, 1, r.len, f), r.len);
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof(cmd), "'%s' check metrics <'%s' >'%s' 2>&1", tool, in, out);
    int st = system(cmd);
    char msg[4096] = "";
    f = fopen(out, "r");
    if (f != NULL) {
        msg[fread(msg, 1, sizeof(msg) - 1, f)] = '\0';
        fclose(f);
    }
    unlink(in);
    unlink(out);
    rmdir(dir);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("promtool check metrics: status %d: %s", st, msg);
    /* and it can fail */
    snprintf(cmd, sizeof(cmd), "printf 'a{b=\"c} 1\\n' | '%s' check metrics >/dev/null 2>&1", tool);
    st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
    free(r.body);
    unfill(&fx);
}

/* HOST:PORT as the config loader checks it. */
static void test_mhd_otel_prom_addr_check(void **state)
{
    (void)state;
    static const char *const good[] = {"127.0.0.1:9464", "0.0.0.0:0",
                                       "[::1]:9464",     "[::]:80",
                                       "localhost:9464", "metrics-1.example.org:65535",
                                       "127.0.0.1:00080"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char err[256] = "";
        if (mhd_otel_prom_addr_check(good[i], err, sizeof(err)) != OTEL_OK)
            fail_msg("\"%s\" refused: %s", good[i], err);
    }
    static const struct {
        const char *addr, *msg;
    } bad[] = {
        {"", "empty address (expected HOST:PORT)"},
        {NULL, "empty address (expected HOST:PORT)"},
        {"127.0.0.1", "invalid address \"127.0.0.1\": no port (expected HOST:PORT)"},
        {"localhost", "invalid address \"localhost\": no port (expected HOST:PORT)"},
        {":9464", "invalid address \":9464\": no host (expected HOST:PORT)"},
        {"127.0.0.1:", "the port is not a number from 0 to 65535"},
        {"127.0.0.1:65536", "the port is not a number from 0 to 65535"},
        {"127.0.0.1:http", "the port is not a number from 0 to 65535"},
        {"127.0.0.1:-1", "the port is not a number from 0 to 65535"},
        {"127.0.0.1:123456", "the port is not a number from 0 to 65535"},
        {"::1:9464", "an IPv6 address goes in brackets ([::1]:9464)"},
        {"[::1", "a '[' without its ']'"},
        {"[::1]9464", "a '[' without its ']' or junk after it"},
        {"[::1]", "no port"},
        {"[zz::1]:80", "\"zz::1\" is not an IPv6 address"},
        {"[127.0.0.1]:80", "\"127.0.0.1\" is not an IPv6 address"},
        {"1.2.3:80", "\"1.2.3\" is not an IPv4 address"},
        {"300.1.1.1:80", "\"300.1.1.1\" is not an IPv4 address"},
        {"ho st:80", "\"ho st\" is not a host name"},
        {"a/b:80", "\"a/b\" is not a host name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        if (mhd_otel_prom_addr_check(bad[i].addr, err, sizeof(err)) != OTEL_ERR_INVALID)
            fail_msg("\"%s\" accepted", bad[i].addr);
        if (strstr(err, bad[i].msg) == NULL)
            fail_msg("\"%s\": \"%s\", wanted \"%s\"", bad[i].addr, err, bad[i].msg);
    }
    /* a short buffer gets a cut, terminated message; none at all is fine */
    char small[8];
    assert_int_equal(mhd_otel_prom_addr_check("x", small, sizeof(small)), OTEL_ERR_INVALID);
    assert_int_equal(strlen(small), 7);
    assert_int_equal(mhd_otel_prom_addr_check("x", NULL, 0), OTEL_ERR_INVALID);
}

/* A bad address does not start, with the same message; no metrics is
 * refused too. */
static void test_mhd_otel_prom_start_bad_address(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    char err[256] = "";
    mhd_otel_prom *p = (mhd_otel_prom *)1;
    assert_int_equal(mhd_otel_prom_start(&p, "127.0.0.1:99999", fx.m, fx.res, err, sizeof(err)),
                     OTEL_ERR_INVALID);
    assert_null(p);
    assert_string_equal(
        err, "invalid address \"127.0.0.1:99999\": the port is not a number from 0 to 65535");
    assert_int_equal(mhd_otel_prom_start(&p, "127.0.0.1:0", NULL, NULL, err, sizeof(err)),
                     OTEL_ERR_INVALID);
    assert_null(p);
    mhd_otel_prom_stop(NULL);
    assert_int_equal(mhd_otel_prom_port(NULL), 0);
    unfill(&fx);
}

/* Two servers on one port: the second fails and says why; once the first
 * stopped, its port can be listened on again (the socket was closed). */
static void test_mhd_otel_prom_port_in_use(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    start(&fx);
    char addr[64], err[256] = "", want[160];
    uint16_t port = mhd_otel_prom_port(fx.srv);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    mhd_otel_prom *second = (mhd_otel_prom *)1;
    assert_int_equal(mhd_otel_prom_start(&second, addr, fx.m, fx.res, err, sizeof(err)),
                     OTEL_ERR_IO);
    assert_null(second);
    snprintf(want, sizeof(want), "cannot listen on %s: %s", addr, strerror(EADDRINUSE));
    assert_string_equal(err, want);
    /* the first one still serves */
    reply r;
    fetch(port, "127.0.0.1", "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    mhd_otel_prom_stop(fx.srv);
    fx.srv = NULL;
    if (mhd_otel_prom_start(&fx.srv, addr, fx.m, fx.res, err, sizeof(err)) != OTEL_OK)
        fail_msg("the port of a stopped server: %s", err);
    assert_int_equal(mhd_otel_prom_port(fx.srv), port);
    fetch(port, "127.0.0.1", "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    free(r.body);
    unfill(&fx);
}

/* A name is resolved (localhost), an IPv6 literal works where the machine
 * has ::1 (skipped otherwise). */
static void test_mhd_otel_prom_names_and_ipv6(void **state)
{
    (void)state;
    fixture fx = {0};
    fill(&fx);
    char err[256] = "";
    if (mhd_otel_prom_start(&fx.srv, "localhost:0", fx.m, fx.res, err, sizeof(err)) != OTEL_OK)
        fail_msg("localhost: %s", err);
    mhd_otel_prom_stop(fx.srv);
    fx.srv = NULL;
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    bool has_v6 = s6 >= 0 && bind(s6, (struct sockaddr *)&a6, sizeof(a6)) == 0;
    if (s6 >= 0)
        close(s6);
    if (!has_v6) {
        unfill(&fx);
        print_message("no ::1 on this machine: the IPv6 part is skipped\n");
        skip();
    }
    if (mhd_otel_prom_start(&fx.srv, "[::1]:0", fx.m, fx.res, err, sizeof(err)) != OTEL_OK)
        fail_msg("[::1]: %s", err);
    reply r;
    fetch(mhd_otel_prom_port(fx.srv), "[::1]", "/metrics", NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_exposition(r.body, false, 100);
    free(r.body);
    unfill(&fx);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_refuses),
        cmocka_unit_test(test_mhd_otel_prom_get_text),
        cmocka_unit_test(test_mhd_otel_prom_get_openmetrics),
        cmocka_unit_test(test_mhd_otel_prom_get_live),
        cmocka_unit_test(test_mhd_otel_prom_head),
        cmocka_unit_test(test_mhd_otel_prom_keep_alive),
        cmocka_unit_test(test_mhd_otel_prom_stop_in_forked_child),
        cmocka_unit_test(test_mhd_otel_prom_port_free_with_child_alive),
        cmocka_unit_test(test_mhd_otel_prom_not_found_not_allowed),
        cmocka_unit_test(test_mhd_otel_prom_promtool),
        cmocka_unit_test(test_mhd_otel_prom_addr_check),
        cmocka_unit_test(test_mhd_otel_prom_start_bad_address),
        cmocka_unit_test(test_mhd_otel_prom_port_in_use),
        cmocka_unit_test(test_mhd_otel_prom_names_and_ipv6),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
