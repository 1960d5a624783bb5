/* prometheus.c - Prometheus text 0.0.4 and OpenMetrics 1.0 text expositions
 * of the metrics core, and the Accept-header negotiation between them. */
#include "prometheus.h"

#include "../core/alloc.h"
#include "../core/log.h"
#include "../core/text.h"
#include "../core/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The instrumentation scope of the library's metrics, as every point's
 * otel_scope_name and otel_scope_version labels. */
#define PROM_SCOPE_NAME OTEL_SDK_NAME
#define PROM_SCOPE_VERSION OTEL_SDK_VERSION

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Longest instrument name and unit word kept: with the suffixes they stay
 * within OTEL_PROM_NAME_MAX. */
#define NAME_KEEP 300
#define UNIT_KEEP 150

/* ---- numbers -------------------------------------------------------------- */

size_t otel_prom_format_double(double v, bool om, char out[32])
{
    const char *special = isnan(v) ? "NaN" : isinf(v) ? (v > 0 ? "+Inf" : "-Inf") : NULL;
    if (special != NULL) {
        size_t n = strlen(special);
        memcpy(out, special, n + 1);
        return n;
    }
    size_t o = 0;
    if (signbit(v))
        out[o++] = '-';
    if (v == 0) {
        memcpy(out + o, om ? "0.0" : "0", om ? 4 : 2);
        return o + (om ? 3 : 1);
    }
    /* The fewest significant digits that read back to v: printf rounds
     * correctly, so the first precision that round-trips gives them. */
    char e[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, fabs(v));
        if (strtod(e, NULL) == fabs(v))
            break;
    }
    char digs[24];
    size_t nd = 0;
    const char *q = e;
    for (; *q != '\0' && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && nd < sizeof(digs))
            digs[nd++] = *q;
    long exp = *q == 'e' ? strtol(q + 1, NULL, 10) : 0;
    while (nd > 1 && digs[nd - 1] == '0')
        nd--;
    if (exp < -4 || exp >= 6) { /* Go's %e: d[.ddd]e±XX, two exponent digits at least */
        out[o++] = digs[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digs + 1, nd - 1);
            o += nd - 1;
        }
        int n = snprintf(out + o, 32 - o, "e%c%02ld", exp < 0 ? '-' : '+', labs(exp));
        o += (size_t)n;
    } else if (exp >= 0) {
        size_t dp = (size_t)exp + 1;
        for (size_t i = 0; i < dp; i++)
            out[o++] = i < nd ? digs[i] : '0';
        if (nd > dp) {
            out[o++] = '.';
            memcpy(out + o, digs + dp, nd - dp);
            o += nd - dp;
        } else if (om) {
            memcpy(out + o, ".0", 2);
            o += 2;
        }
    } else {
        memcpy(out + o, "0.", 2);
        o += 2;
        for (long i = 0; i < -exp - 1; i++)
            out[o++] = '0';
        memcpy(out + o, digs, nd);
        o += nd;
    }
    out[o] = '\0';
    return o;
}

/* ---- names and units ------------------------------------------------------ */

/* What sanitize_into lets through besides [a-zA-Z0-9_]. */
#define SAN_COLON 1u /* ':' (metric names) */
#define SAN_NAME 2u  /* out is a name: a digit cannot come first */

/* Append src (n bytes) to out (at *o, below cap) with every byte outside
 * [a-zA-Z0-9_] (and ':' with SAN_COLON) made '_', a digit in first place
 * too with SAN_NAME, and runs of '_' made one, also across what out
 * already ends with. */
static void sanitize_into(char *out, size_t *o, size_t cap, const char *src, size_t n,
                          unsigned flags)
{
    for (size_t i = 0; i < n && *o + 1 < cap; i++) {
        char c = src[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (c >= '0' && c <= '9' && (*o > 0 || !(flags & SAN_NAME))) ||
                  ((flags & SAN_COLON) && c == ':');
        if (!ok)
            c = '_';
        if (c == '_' && *o > 0 && out[*o - 1] == '_')
            continue;
        out[(*o)++] = c;
    }
    out[*o] = '\0';
}

typedef struct unit_word {
    const char *ucum;
    const char *word;
} unit_word;

/* The specification's table (Metric Metadata of "Prometheus Metric points
 * to OTLP", read the other way round, as its OTLP to Prometheus section
 * says). */
static const unit_word unit_words[] = {{"d", "days"},          {"h", "hours"},
                                       {"min", "minutes"},     {"s", "seconds"},
                                       {"ms", "milliseconds"}, {"us", "microseconds"},
                                       {"ns", "nanoseconds"},  {"By", "bytes"},
                                       {"KiBy", "kibibytes"},  {"MiBy", "mebibytes"},
                                       {"GiBy", "gibibytes"},  {"TiBy", "tebibytes"},
                                       {"kBy", "kilobytes"},   {"MBy", "megabytes"},
                                       {"GBy", "gigabytes"},   {"TBy", "terabytes"},
                                       {"m", "meters"},        {"V", "volts"},
                                       {"A", "amperes"},       {"J", "joules"},
                                       {"W", "watts"},         {"g", "grams"},
                                       {"Cel", "celsius"},     {"Hz", "hertz"},
                                       {"%", "percent"},       {NULL, NULL}};

/* A rate's denominator ("m/s": "meters_per_second"): the time units, in
 * the singular (UCUM's wk, mo and a too). */
static const unit_word per_words[] = {
    {"d", "day"},          {"h", "hour"},         {"min", "minute"},    {"s", "second"},
    {"ms", "millisecond"}, {"us", "microsecond"}, {"ns", "nanosecond"}, {"wk", "week"},
    {"mo", "month"},       {"a", "year"},         {NULL, NULL}};

static const char *word_of(const unit_word *t, const char *u, size_t n)
{
    for (; t->ucum != NULL; t++)
        if (strlen(t->ucum) == n && memcmp(t->ucum, u, n) == 0)
            return t->word;
    return NULL;
}

/* One side of a unit (s, n bytes, its {annotations} already gone) as a
 * word appended to out. */
static void unit_part(char *out, size_t *o, const char *s, size_t n, bool per)
{
    otel_trim_ows(&s, &n);
    if (n == 0 || (n == 1 && s[0] == '1')) /* "1": a dimensionless count */
        return;
    const char *w = word_of(per ? per_words : unit_words, s, n);
    if (*o > 0)
        sanitize_into(out, o, UNIT_KEEP, "_", 1, 0);
    if (per)
        sanitize_into(out, o, UNIT_KEEP, "per_", 4, 0);
    if (w != NULL)
        sanitize_into(out, o, UNIT_KEEP, w, strlen(w), 0);
    else
        sanitize_into(out, o, UNIT_KEEP, s, n, 0);
}

size_t otel_prom_unit(const char *unit, char out[OTEL_PROM_NAME_MAX])
{
    char u[UNIT_KEEP];
    size_t n = 0, o = 0;
    bool in_braces = false;
    /* Portions within braces are dropped: {request}, By{sent}. */
    for (size_t i = 0; unit != NULL && unit[i] != '\0' && n + 1 < sizeof(u); i++) {
        if (unit[i] == '{')
            in_braces = true;
        else if (unit[i] == '}' && in_braces)
            in_braces = false;
        else if (!in_braces)
            u[n++] = unit[i];
    }
    u[n] = '\0';
    out[0] = '\0';
    const char *slash = memchr(u, '/', n);
    size_t main_len = slash != NULL ? (size_t)(slash - u) : n;
    unit_part(out, &o, u, main_len, false);
    if (slash != NULL)
        unit_part(out, &o, slash + 1, n - main_len - 1, true);
    /* No '_' at either end of the word. */
    size_t start = out[0] == '_' ? 1 : 0;
    while (o > start && out[o - 1] == '_')
        o--;
    memmove(out, out + start, o - start);
    o -= start;
    out[o] = '\0';
    return o;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

size_t otel_prom_metric_name(const char *name, const char *unit, otel_instrument_kind kind,
                             char out[OTEL_PROM_NAME_MAX], char *family)
{
    size_t o = 0;
    size_t n = name != NULL ? strnlen(name, NAME_KEEP) : 0;
    sanitize_into(out, &o, OTEL_PROM_NAME_MAX, name != NULL ? name : "", n, SAN_COLON | SAN_NAME);
    /* _total is the type's suffix: the unit goes before it. */
    if (kind == OTEL_INSTRUMENT_COUNTER && o > 6 && ends_with(out, o, "_total"))
        out[o -= 6] = '\0';
    char u[OTEL_PROM_NAME_MAX];
    size_t ul = otel_prom_unit(unit, u);
    if (ul > 0) {
        char us[OTEL_PROM_NAME_MAX + 1];
        us[0] = '_';
        memcpy(us + 1, u, ul + 1);
        if (!ends_with(out, o, us))
            sanitize_into(out, &o, OTEL_PROM_NAME_MAX, us, ul + 1, SAN_COLON | SAN_NAME);
    }
    if (family != NULL)
        memcpy(family, out, o + 1);
    if (kind == OTEL_INSTRUMENT_COUNTER)
        sanitize_into(out, &o, OTEL_PROM_NAME_MAX, "_total", 6, SAN_COLON | SAN_NAME);
    return o;
}

/* ---- the writer ------------------------------------------------------------ */

typedef enum fam_type { FAM_COUNTER = 0, FAM_GAUGE, FAM_HISTOGRAM, FAM_INFO } fam_type;

static const char *const fam_type_names[] = {"counter", "gauge", "histogram", "info"};

/* A MetricFamily of the exposition: one instrument, or several whose
 * names became the same. */
typedef struct prom_family {
    char name[OTEL_PROM_NAME_MAX];   /* the samples' (text format family) name */
    char family[OTEL_PROM_NAME_MAX]; /* the OpenMetrics MetricFamily name */
    char unit[OTEL_PROM_NAME_MAX];   /* "" when none */
    fam_type type;
    char *help;    /* owned; NULL when none */
    otel_buf body; /* the sample lines */
    otel_buf keys; /* the label string of each series, NUL after each */
    size_t n_instr;
} prom_family;

/* One label of a point being built: offsets into the writer's scratch. */
typedef struct lab_ent {
    size_t key_off, key_len, val_off, val_len;
    const char *orig; /* the attribute's own key: the order of joined values */
    const char *key;  /* set once scratch no longer moves */
} lab_ent;

/* One series of an instrument: its label string in the writer's labels. */
typedef struct series_ref {
    size_t off;
    const char *labels;
    size_t point;
} series_ref;

struct otel_prom_writer {
    otel_prom_format f;
    const otel_resource *res;
    int rc; /* the first failure: every later write does nothing */
    prom_family **fams;
    size_t n_fams, cap_fams;
    otel_buf scratch; /* the label names and values of one point */
    lab_ent *ents;
    size_t n_ents, cap_ents;
    otel_buf labels; /* the label strings of one instrument's points */
    series_ref *refs;
    size_t cap_refs;
};

static atomic_bool warned_clash, warned_dup;

static void put(otel_prom_writer *w, otel_buf *b, const void *p, size_t n)
{
    if (w->rc == OTEL_OK)
        w->rc = otel_buf_append(b, p, n);
}

static void put_s(otel_prom_writer *w, otel_buf *b, const char *s)
{
    put(w, b, s, strlen(s));
}

static void put_c(otel_prom_writer *w, otel_buf *b, char c)
{
    put(w, b, &c, 1);
}

static void put_u64(otel_prom_writer *w, otel_buf *b, uint64_t v)
{
    char t[24];
    put(w, b, t, (size_t)snprintf(t, sizeof(t), "%" PRIu64, v));
}

static void put_i64(otel_prom_writer *w, otel_buf *b, int64_t v)
{
    char t[24];
    put(w, b, t, (size_t)snprintf(t, sizeof(t), "%" PRId64, v));
}

static void put_double(otel_prom_writer *w, otel_buf *b, double v)
{
    char t[32];
    put(w, b, t, otel_prom_format_double(v, w->f == OTEL_PROM_OPENMETRICS, t));
}

/* A timestamp in seconds with its nanoseconds, no exponent (OpenMetrics
 * "Timestamps"): 1700000000.5, 1700000000.0. */
static void put_time(otel_prom_writer *w, otel_buf *b, uint64_t ns)
{
    char t[40];
    int n = snprintf(t, sizeof(t), "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
    while (n > 0 && t[n - 1] == '0' && t[n - 2] != '.')
        n--;
    put(w, b, t, (size_t)n);
}

/* s (n bytes) made valid UTF-8 with '\\', '\n' and, when quote, '"'
 * escaped: label values, and HELP text (OpenMetrics escapes its quotes,
 * the text format does not). */
static void put_escaped(otel_prom_writer *w, otel_buf *b, const char *s, size_t n, bool quote)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* bytes at p[i - run .. i) still to copy */
    for (size_t i = 0; i < n;) {
        const char *esc = NULL;
        size_t k = 1;
        if (p[i] == '\\')
            esc = "\\\\";
        else if (p[i] == '\n')
            esc = "\\n";
        else if (p[i] == '"' && quote)
            esc = "\\\"";
        else if (p[i] >= 0x80 || p[i] == 0) {
            k = otel_utf8_seq_len(p + i, n - i);
            if (k == 0)
                esc = "\xef\xbf\xbd";
        }
        if (esc == NULL) {
            run += k;
            i += k;
            continue;
        }
        put(w, b, p + i - run, run);
        put_s(w, b, esc);
        run = 0;
        i++;
    }
    put(w, b, p + n - run, run);
}

/* ---- labels ------------------------------------------------------------------ */

static void lab_begin(otel_prom_writer *w)
{
    w->scratch.len = 0;
    w->n_ents = 0;
}

/* Room for one more label; NULL when out of memory (w->rc says so). */
static lab_ent *lab_new(otel_prom_writer *w)
{
    if (w->rc != OTEL_OK)
        return NULL;
    if (w->n_ents == w->cap_ents) {
        void *p = w->ents;
        size_t cap = w->cap_ents * sizeof(lab_ent);
        w->rc = otel_grow(&p, &cap, (w->n_ents + 1) * sizeof(lab_ent), 16 * sizeof(lab_ent));
        if (w->rc != OTEL_OK)
            return NULL;
        w->ents = p;
        w->cap_ents = cap / sizeof(lab_ent);
    }
    return &w->ents[w->n_ents];
}

/* Start the label of attribute key: its name sanitized into scratch.
 * NULL when the name is nothing but '_' (no label can be made of it) or
 * is le and le is taken (a histogram's bucket label). */
static lab_ent *lab_key(otel_prom_writer *w, const char *key, bool le_taken)
{
    lab_ent *e = lab_new(w);
    if (e == NULL)
        return NULL;
    size_t kn = strlen(key);
    char *k = NULL;
    size_t o = 0;
    if (w->rc == OTEL_OK)
        w->rc = otel_buf_reserve(&w->scratch, kn + 2);
    if (w->rc != OTEL_OK)
        return NULL;
    k = w->scratch.data + w->scratch.len;
    sanitize_into(k, &o, kn + 2, key, kn, SAN_NAME);
    if (strspn(k, "_") == o || (le_taken && strcmp(k, "le") == 0))
        return NULL;
    e->key_off = w->scratch.len;
    e->key_len = o;
    e->orig = key;
    w->scratch.len += o + 1;
    e->val_off = w->scratch.len;
    return e;
}

static void lab_done(otel_prom_writer *w, lab_ent *e)
{
    if (w->rc != OTEL_OK)
        return;
    e->val_len = w->scratch.len - e->val_off;
    w->n_ents++;
}

/* s as a JSON string (RFC 8259 section 7): an element of an array value. */
static void put_json_string(otel_prom_writer *w, otel_buf *b, const char *s)
{
    put_c(w, b, '"');
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            put_c(w, b, '\\');
            put_c(w, b, (char)c);
        } else if (c < 0x20) {
            char t[8];
            put(w, b, t, (size_t)snprintf(t, sizeof(t), "\\u%04x", c));
        } else
            put_c(w, b, (char)c);
    }
    put_c(w, b, '"');
}

/* A non-string value as the common specification's "AnyValue
 * representation for non-OTLP protocols" writes it: JSON booleans and
 * numbers, NaN, Infinity, -Infinity, arrays as JSON arrays. */
static void put_attr_value(otel_prom_writer *w, otel_buf *b, const otel_kv *a)
{
    char t[32];
    switch (a->type) {
    case OTEL_ATTR_STRING:
        put_s(w, b, a->v.s != NULL ? a->v.s : "");
        break;
    case OTEL_ATTR_BOOL:
        put_s(w, b, a->v.b ? "true" : "false");
        break;
    case OTEL_ATTR_INT:
        put_i64(w, b, a->v.i);
        break;
    case OTEL_ATTR_DOUBLE:
        if (isnan(a->v.d))
            put_s(w, b, "NaN");
        else if (isinf(a->v.d))
            put_s(w, b, a->v.d > 0 ? "Infinity" : "-Infinity");
        else
            put(w, b, t, otel_prom_format_double(a->v.d, false, t));
        break;
    case OTEL_ATTR_STRING_ARRAY:
        put_c(w, b, '[');
        for (size_t i = 0; i < a->v.sa.n; i++) {
            if (i > 0)
                put_c(w, b, ',');
            put_json_string(w, b, a->v.sa.v[i]);
        }
        put_c(w, b, ']');
        break;
    }
}

static void lab_add_kv(otel_prom_writer *w, const otel_kv *a, bool le_taken)
{
    if (a->key == NULL)
        return;
    lab_ent *e = lab_key(w, a->key, le_taken);
    if (e == NULL)
        return;
    put_attr_value(w, &w->scratch, a);
    lab_done(w, e);
}

static void lab_add_str(otel_prom_writer *w, const char *key, const char *value)
{
    otel_kv a = OTEL_KV_STR(key, value);
    lab_add_kv(w, &a, false);
}

static int lab_cmp(const void *x, const void *y)
{
    const lab_ent *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c != 0 ? c : strcmp(a->orig, b->orig);
}

/* The labels added since lab_begin as name="value",... into b, sorted by
 * name; labels whose names became the same are one, their values joined
 * with ';' in the order of the original keys (the specification's "Metric
 * Attributes"). */
static void lab_emit(otel_prom_writer *w, otel_buf *b)
{
    if (w->rc != OTEL_OK)
        return;
    for (size_t i = 0; i < w->n_ents; i++)
        w->ents[i].key = w->scratch.data + w->ents[i].key_off;
    qsort(w->ents, w->n_ents, sizeof(lab_ent), lab_cmp);
    for (size_t i = 0; i < w->n_ents; i++) {
        const lab_ent *e = &w->ents[i];
        if (i > 0 && strcmp(e->key, w->ents[i - 1].key) == 0) {
            put_c(w, b, ';');
        } else {
            if (i > 0)
                put_s(w, b, "\",");
            put(w, b, e->key, e->key_len);
            put_s(w, b, "=\"");
        }
        put_escaped(w, b, w->scratch.data + e->val_off, e->val_len, true);
    }
    if (w->n_ents > 0)
        put_c(w, b, '"');
}

/* ---- families ---------------------------------------------------------------- */

/* The sample names (and MetricFamily names) family e takes in either
 * format, that no other family may use (OpenMetrics "Suffixes"). */
static size_t taken_names(const prom_family *e, char out[5][OTEL_PROM_NAME_MAX + 16])
{
    static const char *const hist[] = {"_bucket", "_sum", "_count", "_created"};
    size_t n = 0;
    snprintf(out[n++], sizeof(out[0]), "%s", e->name);
    if (e->type == FAM_COUNTER) {
        snprintf(out[n++], sizeof(out[0]), "%s", e->family);
        snprintf(out[n++], sizeof(out[0]), "%s_created", e->family);
    } else if (e->type == FAM_HISTOGRAM) {
        for (size_t i = 0; i < 4; i++)
            snprintf(out[n++], sizeof(out[0]), "%s%s", e->name, hist[i]);
    } else if (e->type == FAM_INFO) {
        snprintf(out[n++], sizeof(out[0]), "%s", e->family);
    }
    return n;
}

static bool clashes(const prom_family *a, const prom_family *b)
{
    char x[5][OTEL_PROM_NAME_MAX + 16], y[5][OTEL_PROM_NAME_MAX + 16];
    size_t nx = taken_names(a, x), ny = taken_names(b, y);
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++)
            if (strcmp(x[i], y[j]) == 0)
                return true;
    return false;
}

static void family_free(prom_family *fam)
{
    if (fam == NULL)
        return;
    otel_free(fam->help);
    otel_free(fam->body.data);
    otel_free(fam->keys.data);
    otel_free(fam);
}

/* The family md's points go into: a new one, or the one of an earlier
 * instrument of the same name and type (its HELP and UNIT kept). NULL
 * when md clashes with an earlier family of another type (it is left out,
 * as the specification's Metric Metadata says) or on failure (w->rc). */
static prom_family *family_for(otel_prom_writer *w, const otel_metric_data *md, fam_type type)
{
    prom_family *fam = otel_calloc(1, sizeof(*fam));
    if (fam == NULL) {
        w->rc = OTEL_ERR_NOMEM;
        return NULL;
    }
    fam->type = type;
    otel_instrument_kind kind = type == FAM_COUNTER     ? OTEL_INSTRUMENT_COUNTER
                                : type == FAM_HISTOGRAM ? OTEL_INSTRUMENT_HISTOGRAM
                                                        : OTEL_INSTRUMENT_UPDOWN_COUNTER;
    otel_prom_metric_name(md->name, md->unit, kind, fam->name, fam->family);
    otel_prom_unit(md->unit, fam->unit);
    for (size_t i = 0; i < w->n_fams; i++) {
        prom_family *e = w->fams[i];
        if (e->type == type && strcmp(e->name, fam->name) == 0) {
            family_free(fam);
            e->n_instr++;
            return e;
        }
        if (clashes(e, fam)) {
            if (!atomic_exchange(&warned_clash, true))
                otel_log(OTEL_LOG_WARN,
                         "prometheus: metric %s left out: its name %s clashes with %s (%s)",
                         md->name, fam->name, e->name, fam_type_names[e->type]);
            family_free(fam);
            return NULL;
        }
    }
    if (md->description != NULL && md->description[0] != '\0') {
        fam->help = otel_strdup(md->description);
        if (fam->help == NULL) {
            family_free(fam);
            w->rc = OTEL_ERR_NOMEM;
            return NULL;
        }
    }
    if (w->n_fams == w->cap_fams) {
        void *p = w->fams;
        size_t cap = w->cap_fams * sizeof(*w->fams);
        if (otel_grow(&p, &cap, (w->n_fams + 1) * sizeof(*w->fams), 8 * sizeof(*w->fams)) !=
            OTEL_OK) {
            family_free(fam);
            w->rc = OTEL_ERR_NOMEM;
            return NULL;
        }
        w->fams = p;
        w->cap_fams = cap / sizeof(*w->fams);
    }
    fam->n_instr = 1;
    w->fams[w->n_fams++] = fam;
    return fam;
}

/* ---- samples ----------------------------------------------------------------- */

/* "name+suffix{labels,le="le"} " */
static void sample_start(otel_prom_writer *w, otel_buf *b, const char *name, const char *suffix,
                         const char *labels, const char *le)
{
    put_s(w, b, name);
    put_s(w, b, suffix);
    if (labels[0] != '\0' || le != NULL) {
        put_c(w, b, '{');
        put_s(w, b, labels);
        if (le != NULL) {
            put_s(w, b, labels[0] != '\0' ? ",le=\"" : "le=\"");
            put_s(w, b, le);
            put_c(w, b, '"');
        }
        put_c(w, b, '}');
    }
    put_c(w, b, ' ');
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* " # {trace_id="...",span_id="..."} value timestamp" (OpenMetrics
 * exemplars; the specification's Exemplar Conversion). */
static void put_exemplar(otel_prom_writer *w, otel_buf *b, const otel_exemplar *ex)
{
    if (ex == NULL || w->f != OTEL_PROM_OPENMETRICS)
        return;
    char hex[33];
    bool tid = !all_zero(ex->trace_id, 16), sid = !all_zero(ex->span_id, 8);
    put_s(w, b, " # {");
    if (tid) {
        otel_hex_encode(ex->trace_id, 16, hex);
        put_s(w, b, "trace_id=\"");
        put_s(w, b, hex);
        put_c(w, b, '"');
    }
    if (sid) {
        otel_hex_encode(ex->span_id, 8, hex);
        put_s(w, b, tid ? ",span_id=\"" : "span_id=\"");
        put_s(w, b, hex);
        put_c(w, b, '"');
    }
    put_s(w, b, "} ");
    put_double(w, b, ex->value);
    if (ex->time_ns != 0) {
        put_c(w, b, ' ');
        put_time(w, b, ex->time_ns);
    }
}

/* "name_created{labels} start" in OpenMetrics for a point that has a start. */
static void put_created(otel_prom_writer *w, otel_buf *b, const char *family, const char *labels,
                        uint64_t start_ns)
{
    if (w->f != OTEL_PROM_OPENMETRICS || start_ns == 0)
        return;
    sample_start(w, b, family, "_created", labels, NULL);
    put_time(w, b, start_ns);
    put_c(w, b, '\n');
}

/* The latest exemplar of pt (a counter keeps one: the specification's
 * Sums), NULL when it has none. */
static const otel_exemplar *latest_exemplar(const otel_metric_point *pt)
{
    const otel_exemplar *best = NULL;
    for (size_t i = 0; pt->exemplars != NULL && i < pt->n_exemplars; i++)
        if (best == NULL || pt->exemplars[i].time_ns >= best->time_ns)
            best = &pt->exemplars[i];
    return best;
}

static void sum_point(otel_prom_writer *w, prom_family *fam, const otel_metric_point *pt,
                      const char *labels)
{
    otel_buf *b = &fam->body;
    sample_start(w, b, fam->name, "", labels, NULL);
    if (fam->type == FAM_COUNTER) {
        put_u64(w, b, (uint64_t)pt->value);
        put_exemplar(w, b, latest_exemplar(pt));
        put_c(w, b, '\n');
        put_created(w, b, fam->family, labels, pt->start_ns);
    } else {
        put_i64(w, b, pt->value);
        put_c(w, b, '\n');
    }
}

static void hist_point(otel_prom_writer *w, prom_family *fam, const otel_metric_data *md,
                       const otel_metric_point *pt, const char *labels)
{
    otel_buf *b = &fam->body;
    size_t nb = md->boundaries != NULL ? md->n_boundaries : 0;
    if (pt->bucket_counts == NULL || pt->n_bucket_counts < nb + 1)
        nb = pt->bucket_counts != NULL && pt->n_bucket_counts > 0 ? pt->n_bucket_counts - 1 : 0;
    /* The latest exemplar of each bucket, by the bucket its value is in. */
    const otel_exemplar *ex[OTEL_HISTOGRAM_MAX_BOUNDARIES + 1] = {0};
    bool ex_ok = nb <= OTEL_HISTOGRAM_MAX_BOUNDARIES;
    for (size_t i = 0; ex_ok && pt->exemplars != NULL && i < pt->n_exemplars; i++) {
        const otel_exemplar *e = &pt->exemplars[i];
        size_t k = 0;
        while (k < nb && !(e->value <= md->boundaries[k]))
            k++;
        if (ex[k] == NULL || e->time_ns >= ex[k]->time_ns)
            ex[k] = e;
    }
    uint64_t cum = 0;
    char le[32];
    for (size_t k = 0; k < nb; k++) {
        cum += pt->bucket_counts[k];
        otel_prom_format_double(md->boundaries[k], w->f == OTEL_PROM_OPENMETRICS, le);
        sample_start(w, b, fam->name, "_bucket", labels, le);
        put_u64(w, b, cum < pt->count ? cum : pt->count);
        put_exemplar(w, b, ex_ok ? ex[k] : NULL);
        put_c(w, b, '\n');
    }
    sample_start(w, b, fam->name, "_bucket", labels, "+Inf");
    put_u64(w, b, pt->count);
    put_exemplar(w, b, ex_ok ? ex[nb] : NULL);
    put_c(w, b, '\n');
    /* OpenMetrics "Histogram": negative thresholds leave the sum out, and
     * the count goes with the sum. */
    if (w->f != OTEL_PROM_OPENMETRICS || nb == 0 || md->boundaries[0] >= 0) {
        sample_start(w, b, fam->name, "_sum", labels, NULL);
        put_double(w, b, pt->sum);
        put_c(w, b, '\n');
        sample_start(w, b, fam->name, "_count", labels, NULL);
        put_u64(w, b, pt->count);
        put_c(w, b, '\n');
    }
    put_created(w, b, fam->name, labels, pt->start_ns);
}

static int series_cmp(const void *x, const void *y)
{
    const series_ref *a = x, *b = y;
    int c = strcmp(a->labels, b->labels);
    return c != 0 ? c : (a->point > b->point) - (a->point < b->point);
}

/* Whether fam already has a series labelled labels. */
static bool has_series(const prom_family *fam, const char *labels)
{
    for (size_t o = 0; o < fam->keys.len;) {
        const char *k = fam->keys.data + o;
        if (strcmp(k, labels) == 0)
            return true;
        o += strlen(k) + 1;
    }
    return false;
}

/* The label strings of md's points into w->labels, and w->refs sorted by
 * them. */
static void label_points(otel_prom_writer *w, const otel_metric_data *md, fam_type type)
{
    w->labels.len = 0;
    if (w->rc == OTEL_OK && md->n_points > w->cap_refs) {
        void *p = w->refs;
        size_t cap = w->cap_refs * sizeof(series_ref);
        w->rc = otel_grow(&p, &cap, md->n_points * sizeof(series_ref), 16 * sizeof(series_ref));
        if (w->rc == OTEL_OK) {
            w->refs = p;
            w->cap_refs = cap / sizeof(series_ref);
        }
    }
    for (size_t i = 0; i < md->n_points && w->rc == OTEL_OK; i++) {
        const otel_metric_point *pt = &md->points[i];
        lab_begin(w);
        for (size_t a = 0; pt->attrs != NULL && a < pt->n_attrs; a++)
            lab_add_kv(w, &pt->attrs[a], type == FAM_HISTOGRAM);
        /* The specification's Instrumentation Scope: on every point. */
        lab_add_str(w, "otel_scope_name", PROM_SCOPE_NAME);
        lab_add_str(w, "otel_scope_version", PROM_SCOPE_VERSION);
        w->refs[i].off = w->labels.len;
        w->refs[i].point = i;
        lab_emit(w, &w->labels);
        put_c(w, &w->labels, '\0');
    }
    if (w->rc != OTEL_OK)
        return;
    for (size_t i = 0; i < md->n_points; i++)
        w->refs[i].labels = w->labels.data + w->refs[i].off;
    qsort(w->refs, md->n_points, sizeof(series_ref), series_cmp);
}

int otel_prom_writer_add(otel_prom_writer *w, const otel_metric_data *md)
{
    if (w == NULL || md == NULL || w->rc != OTEL_OK)
        return w != NULL && w->rc != OTEL_OK ? w->rc : OTEL_ERR_INVALID;
    if (md->temporality != OTEL_TEMPORALITY_CUMULATIVE || md->name == NULL || md->name[0] == '\0' ||
        md->n_points == 0)
        return OTEL_OK;
    fam_type type = md->kind == OTEL_INSTRUMENT_HISTOGRAM ? FAM_HISTOGRAM
                    : md->monotonic                       ? FAM_COUNTER
                                                          : FAM_GAUGE;
    prom_family *fam = family_for(w, md, type);
    if (fam == NULL)
        return w->rc;
    label_points(w, md, type);
    for (size_t i = 0; i < md->n_points && w->rc == OTEL_OK; i++) {
        const series_ref *r = &w->refs[i];
        /* Attribute sets that became the same labels, here or in an
         * instrument of the same name: the first series is kept. */
        if ((i > 0 && strcmp(r->labels, w->refs[i - 1].labels) == 0) ||
            (fam->n_instr > 1 && has_series(fam, r->labels))) {
            if (!atomic_exchange(&warned_dup, true))
                otel_log(OTEL_LOG_WARN,
                         "prometheus: a series of %s {%s} left out: it is there twice", fam->name,
                         r->labels);
            continue;
        }
        const otel_metric_point *pt = &md->points[r->point];
        if (type == FAM_HISTOGRAM)
            hist_point(w, fam, md, pt, r->labels);
        else
            sum_point(w, fam, pt, r->labels);
        put(w, &fam->keys, r->labels, strlen(r->labels) + 1);
    }
    return w->rc;
}

int otel_prom_writer_new(otel_prom_writer **out, const otel_resource *res, otel_prom_format f)
{
    *out = NULL;
    otel_prom_writer *w = otel_calloc(1, sizeof(*w));
    if (w == NULL)
        return OTEL_ERR_NOMEM;
    w->f = f == OTEL_PROM_OPENMETRICS ? f : OTEL_PROM_TEXT;
    w->res = res != NULL && otel_resource_count(res) > 0 ? res : NULL;
    /* target_info is the resource's name whether or not there is one. */
    prom_family *ti = otel_calloc(1, sizeof(*ti));
    if (ti == NULL) {
        otel_free(w);
        return OTEL_ERR_NOMEM;
    }
    ti->type = FAM_INFO;
    memcpy(ti->name, "target_info", sizeof("target_info"));
    memcpy(ti->family, "target", sizeof("target"));
    w->fams = otel_malloc(8 * sizeof(*w->fams));
    if (w->fams == NULL) {
        otel_free(ti);
        otel_free(w);
        return OTEL_ERR_NOMEM;
    }
    w->cap_fams = 8;
    w->fams[w->n_fams++] = ti;
    *out = w;
    return OTEL_OK;
}

void otel_prom_writer_del(otel_prom_writer *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->n_fams; i++)
        family_free(w->fams[i]);
    otel_free(w->fams);
    otel_free(w->scratch.data);
    otel_free(w->ents);
    otel_free(w->labels.data);
    otel_free(w->refs);
    otel_free(w);
}

/* target_info: the resource's attributes as labels and nothing else (the
 * specification's Resource Attributes), first (OpenMetrics MetricSet). */
static void put_target_info(otel_prom_writer *w, otel_buf *o)
{
    if (w->res == NULL)
        return;
    bool om = w->f == OTEL_PROM_OPENMETRICS;
    put_s(w, o,
          om ? "# TYPE target info\n# HELP target Target metadata\n"
             : "# HELP target_info Target metadata\n# TYPE target_info gauge\n");
    lab_begin(w);
    for (size_t i = 0; i < otel_resource_count(w->res); i++) {
        const char *k, *v;
        otel_resource_at(w->res, i, &k, &v);
        lab_add_str(w, k, v);
    }
    w->labels.len = 0;
    lab_emit(w, &w->labels);
    put_c(w, &w->labels, '\0');
    if (w->rc == OTEL_OK)
        sample_start(w, o, "target_info", "", w->labels.data, NULL);
    put_s(w, o, "1\n");
}

static void put_metadata(otel_prom_writer *w, otel_buf *o, const prom_family *fam)
{
    bool om = w->f == OTEL_PROM_OPENMETRICS;
    const char *name = om ? fam->family : fam->name;
    if (om) {
        put_s(w, o, "# TYPE ");
        put_s(w, o, name);
        put_c(w, o, ' ');
        put_s(w, o, fam_type_names[fam->type]);
        put_c(w, o, '\n');
        if (fam->unit[0] != '\0') {
            put_s(w, o, "# UNIT ");
            put_s(w, o, name);
            put_c(w, o, ' ');
            put_s(w, o, fam->unit);
            put_c(w, o, '\n');
        }
    }
    if (fam->help != NULL) {
        put_s(w, o, "# HELP ");
        put_s(w, o, name);
        put_c(w, o, ' ');
        put_escaped(w, o, fam->help, strlen(fam->help), om);
        put_c(w, o, '\n');
    }
    if (!om) {
        put_s(w, o, "# TYPE ");
        put_s(w, o, name);
        put_c(w, o, ' ');
        put_s(w, o, fam_type_names[fam->type]);
        put_c(w, o, '\n');
    }
}

int otel_prom_writer_finish(otel_prom_writer *w, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (w->rc != OTEL_OK)
        return w->rc;
    otel_buf o = {0};
    put_target_info(w, &o);
    for (size_t i = 0; i < w->n_fams; i++) {
        prom_family *fam = w->fams[i];
        if (fam->type == FAM_INFO)
            continue;
        put_metadata(w, &o, fam);
        put(w, &o, fam->body.data, fam->body.len);
    }
    if (w->f == OTEL_PROM_OPENMETRICS)
        put_s(w, &o, "# EOF\n");
    put_c(w, &o, '\0');
    if (w->rc != OTEL_OK) {
        otel_free(o.data);
        return w->rc;
    }
    *out = o.data;
    *len = o.len - 1;
    return OTEL_OK;
}

static int collect_cb(void *ud, const otel_metric_data *md)
{
    return otel_prom_writer_add(ud, md);
}

int otel_prom_render(otel_metrics *m, const otel_resource *res, otel_prom_format f, char **out,
                     size_t *len)
{
    if (out == NULL || len == NULL)
        return OTEL_ERR_INVALID;
    *out = NULL;
    *len = 0;
    if (m == NULL)
        return OTEL_ERR_INVALID;
    otel_prom_writer *w;
    int rc = otel_prom_writer_new(&w, res, f);
    if (rc != OTEL_OK)
        return rc;
    rc = otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE, collect_cb, w);
    if (rc == OTEL_OK)
        rc = otel_prom_writer_finish(w, out, len);
    otel_prom_writer_del(w);
    return rc;
}

/* ---- content negotiation --------------------------------------------------- */

const char *otel_prom_content_type(otel_prom_format f)
{
    return f == OTEL_PROM_OPENMETRICS ? CT_OPENMETRICS : CT_TEXT;
}

/* A qvalue (RFC 9110 section 12.4.2: "0" [ "." 0*3DIGIT ] / "1" [ "."
 * 0*3("0") ]) in thousandths, or -1 when s (n bytes) is not one. */
static int qvalue(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1') || n > 5 || (n > 1 && s[1] != '.'))
        return -1;
    int v = (s[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v += (s[i] - '0') * scale;
    }
    return v <= 1000 ? v : -1;
}

typedef enum media_kind { MEDIA_OTHER = 0, MEDIA_TEXT, MEDIA_OPENMETRICS } media_kind;

static media_kind malformed(int *q)
{
    *q = -1;
    return MEDIA_OTHER;
}

/* One element of an Accept list (s, n bytes: a media-range and its
 * parameters, RFC 9110 section 12.5.1): what it asks for and its weight
 * (-1: malformed). */
static media_kind accept_element(const char *s, size_t n, int *q)
{
    *q = 1000;
    size_t i = 0;
    while (i < n && otel_is_tchar(s[i]))
        i++;
    size_t type_len = i;
    if (type_len == 0 || i >= n || s[i] != '/')
        return malformed(q);
    size_t sub = ++i;
    while (i < n && otel_is_tchar(s[i]))
        i++;
    size_t sub_len = i - sub;
    if (sub_len == 0)
        return malformed(q);
    char version[16] = "";
    bool has_version = false;
    /* *( OWS ";" OWS parameter ), parameter = name "=" ( token / quoted-string ) */
    for (;;) {
        while (i < n && otel_is_ows(s[i]))
            i++;
        if (i == n)
            break;
        if (s[i++] != ';')
            return malformed(q);
        while (i < n && otel_is_ows(s[i]))
            i++;
        if (i == n) /* a trailing ';' is tolerated */
            break;
        size_t name = i;
        while (i < n && otel_is_tchar(s[i]))
            i++;
        size_t name_len = i - name;
        if (name_len == 0 || i == n || s[i] != '=')
            return malformed(q);
        i++;
        char val[16];
        size_t vl = 0;
        bool too_long = false;
        if (i < n && s[i] == '"') {
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < n)
                    i++;
                if (vl + 1 < sizeof(val))
                    val[vl++] = s[i];
                else
                    too_long = true;
            }
            if (i == n)
                return malformed(q);
            i++;
        } else {
            size_t v0 = i;
            while (i < n && otel_is_tchar(s[i]))
                i++;
            if (i == v0)
                return malformed(q);
            vl = i - v0 < sizeof(val) ? i - v0 : 0;
            too_long = i - v0 >= sizeof(val);
            memcpy(val, s + v0, vl);
        }
        val[vl] = '\0';
        if (name_len == 1 && (s[name] == 'q' || s[name] == 'Q')) {
            *q = too_long ? -1 : qvalue(val, vl);
            if (*q < 0)
                return MEDIA_OTHER;
        } else if (name_len == 7 && strncasecmp(s + name, "version", 7) == 0) {
            has_version = true;
            memcpy(version, too_long ? "" : val, too_long ? 1 : vl + 1);
        }
    }
    const char *type = s, *subtype = s + sub;
#define IS(p, len, lit) ((len) == sizeof(lit) - 1 && strncasecmp((p), (lit), (len)) == 0)
    if (IS(type, type_len, "application") && IS(subtype, sub_len, "openmetrics-text"))
        return !has_version || strcmp(version, "1.0.0") == 0 ? MEDIA_OPENMETRICS : MEDIA_OTHER;
    if (IS(type, type_len, "text") && IS(subtype, sub_len, "plain"))
        return !has_version || strcmp(version, "0.0.4") == 0 ? MEDIA_TEXT : MEDIA_OTHER;
    if ((IS(type, type_len, "text") || IS(type, type_len, "*")) && IS(subtype, sub_len, "*"))
        return MEDIA_TEXT;
#undef IS
    return MEDIA_OTHER;
}

otel_prom_format otel_prom_negotiate(const char *accept)
{
    otel_prom_format best = OTEL_PROM_TEXT;
    int best_q = 0;
    for (const char *p = accept; p != NULL && *p != '\0';) {
        /* The element runs to the next ',' outside a quoted-string. */
        const char *e = p;
        bool quoted = false;
        for (; *e != '\0' && (quoted || *e != ','); e++) {
            if (*e == '"')
                quoted = !quoted;
            else if (*e == '\\' && quoted && e[1] != '\0')
                e++;
        }
        const char *s = p;
        size_t n = (size_t)(e - p);
        otel_trim_ows(&s, &n);
        int q;
        media_kind k = n > 0 ? accept_element(s, n, &q) : MEDIA_OTHER;
        if (k != MEDIA_OTHER && q > best_q) {
            best = k == MEDIA_OPENMETRICS ? OTEL_PROM_OPENMETRICS : OTEL_PROM_TEXT;
            best_q = q;
        }
        p = *e == ',' ? e + 1 : e;
    }
    return best;
}
