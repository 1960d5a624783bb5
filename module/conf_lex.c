/* conf_lex.c - splits an mhd-otel config file into words, quoted strings,
 * ";", "{" and "}", counting lines, and reads the values written in words
 * (sizes, times, ratios). */
#include "conf_lex.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mhd-otel/otel.h>
#include "../core/alloc.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static bool is_special(char c)
{
    return c == ';' || c == '{' || c == '}';
}

/* Skip whitespace and '#' comments, counting newlines. */
static void skip_blank(mhd_otel_lex *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (is_space(c)) {
            lx->p++;
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else {
            break;
        }
    }
}

/* The byte an escape sequence "\c" stands for inside a quoted string, or -1
 * when it is not an escape (the backslash is then kept). */
static int unescape(char c)
{
    switch (c) {
    case '"':
    case '\'':
    case '\\':
        return c;
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    default:
        return -1;
    }
}

static int lex_error(mhd_otel_lex *lx, size_t line, char *err, size_t errlen, const char *msg)
{
    mhd_otel_conf_errf(err, errlen, lx->name, line, "%s", msg);
    return OTEL_ERR_PARSE;
}

/* A quoted string; lx->p is on the opening quote. */
static int lex_quoted(mhd_otel_lex *lx, mhd_otel_tok *tok, char *err, size_t errlen)
{
    char quote = *lx->p++;
    const char *body = lx->p, *q = lx->p;
    size_t line = lx->line;

    while (q < lx->end && *q != quote) {
        if (*q == '\\' && q + 1 < lx->end)
            q++;
        if (*q == '\0')
            return lex_error(lx, line, err, errlen, "unexpected NUL byte in a quoted string");
        if (*q == '\n')
            line++;
        q++;
    }
    if (q >= lx->end)
        return lex_error(lx, tok->line, err, errlen, "unterminated quoted string");

    char *out = otel_malloc((size_t)(q - body) + 1);
    if (out == NULL) {
        mhd_otel_conf_errf(err, errlen, lx->name, 0, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    size_t n = 0;
    for (const char *s = body; s < q; s++) {
        int e = *s == '\\' ? unescape(s[1]) : -1;
        if (e >= 0) {
            out[n++] = (char)e;
            s++;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    lx->p = q + 1;
    lx->line = line;

    if (lx->p < lx->end && !is_space(*lx->p) && !is_special(*lx->p)) {
        char c = *lx->p;
        otel_free(out);
        if (c > ' ' && c < 0x7f)
            mhd_otel_conf_errf(err, errlen, lx->name, line,
                               "unexpected \"%c\" after a quoted string", c);
        else
            mhd_otel_conf_errf(err, errlen, lx->name, line,
                               "unexpected byte 0x%02x after a quoted string", (unsigned char)c);
        return OTEL_ERR_PARSE;
    }
    tok->type = MHD_OTEL_TOK_WORD;
    tok->text = out;
    tok->len = n;
    tok->quoted = true;
    return OTEL_OK;
}

/* A bare word: everything up to whitespace or ";". A "{" inside it opens a
 * group such as "/hello/{name}" that its "}" closes; a "}" outside a group
 * ends the word (a "{" only opens a block at the start of a token). */
static int lex_word(mhd_otel_lex *lx, mhd_otel_tok *tok, char *err, size_t errlen)
{
    const char *q = lx->p;
    size_t depth = 0;
    for (; q < lx->end && !is_space(*q) && *q != ';'; q++) {
        if (*q == '\0')
            return lex_error(lx, lx->line, err, errlen, "unexpected NUL byte");
        if (*q == '{')
            depth++;
        else if (*q == '}' && depth == 0)
            break;
        else if (*q == '}')
            depth--;
    }
    size_t n = (size_t)(q - lx->p);
    char *out = otel_strndup(lx->p, n);
    if (out == NULL) {
        mhd_otel_conf_errf(err, errlen, lx->name, 0, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    lx->p = q;
    tok->type = MHD_OTEL_TOK_WORD;
    tok->text = out;
    tok->len = n;
    return OTEL_OK;
}

/* The token at lx->p, which is not blank. */
static int lex_token(mhd_otel_lex *lx, mhd_otel_tok *tok, char *err, size_t errlen)
{
    switch (*lx->p) {
    case ';':
        tok->type = MHD_OTEL_TOK_SEMI;
        lx->p++;
        return OTEL_OK;
    case '{':
        tok->type = MHD_OTEL_TOK_OPEN;
        lx->p++;
        return OTEL_OK;
    case '}':
        tok->type = MHD_OTEL_TOK_CLOSE;
        lx->p++;
        return OTEL_OK;
    case '"':
    case '\'':
        return lex_quoted(lx, tok, err, errlen);
    default:
        return lex_word(lx, tok, err, errlen);
    }
}

/* ---- values ------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* *out = a * b + c; false on overflow. */
static bool mul_add(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
    if (b != 0 && a > (UINT64_MAX - c) / b)
        return false;
    *out = a * b + c;
    return true;
}

/* Decimal digits at *sp (at least one). OTEL_ERR_RANGE when they overflow
 * (all of them are still skipped). */
static int parse_digits(const char **sp, uint64_t *out)
{
    const char *s = *sp;
    uint64_t v = 0;
    int rc = OTEL_OK;
    if (!is_digit(*s))
        return OTEL_ERR_PARSE;
    for (; is_digit(*s); s++)
        if (!mul_add(v, 10, (uint64_t)(*s - '0'), &v))
            rc = OTEL_ERR_RANGE;
    *sp = s;
    *out = v;
    return rc;
}

int mhd_otel_lex_uint(const char *s, uint64_t *out)
{
    uint64_t v;
    int rc = parse_digits(&s, &v);
    if (rc == OTEL_OK && *s != '\0')
        rc = OTEL_ERR_PARSE;
    if (rc == OTEL_OK)
        *out = v;
    return rc;
}

int mhd_otel_lex_size(const char *s, uint64_t *out)
{
    uint64_t v, mult = 1;
    int rc = parse_digits(&s, &v);
    if (rc == OTEL_ERR_PARSE)
        return rc;
    if (*s == 'k' || *s == 'K') {
        mult = 1024;
        s++;
    } else if (*s == 'm' || *s == 'M') {
        mult = 1024 * 1024;
        s++;
    }
    if (*s != '\0')
        return OTEL_ERR_PARSE;
    if (rc != OTEL_OK || !mul_add(v, mult, 0, out))
        return OTEL_ERR_RANGE;
    return OTEL_OK;
}

/* Time units, largest first: "1h30m" must list them in this order. */
static const struct {
    const char *unit;
    uint64_t ns;
} time_units[] = {
    {"d", 86400 * NS_PER_S}, {"h", 3600 * NS_PER_S}, {"m", 60 * NS_PER_S},
    {"s", NS_PER_S},         {"ms", NS_PER_MS},
};

#define N_TIME_UNITS (sizeof(time_units) / sizeof(time_units[0]))

int mhd_otel_lex_time(const char *s, uint64_t *out)
{
    uint64_t total = 0;
    size_t next = 0;
    bool range = false, first = true;
    if (*s == '\0')
        return OTEL_ERR_PARSE;
    while (*s != '\0') {
        uint64_t v;
        int rc = parse_digits(&s, &v);
        if (rc == OTEL_ERR_PARSE)
            return rc;
        range |= rc == OTEL_ERR_RANGE;
        const char *u = s;
        while (*s >= 'a' && *s <= 'z')
            s++;
        size_t ulen = (size_t)(s - u), i;
        if (ulen == 0 && first && *s == '\0') {
            u = "s";
            ulen = 1;
        }
        for (i = next; i < N_TIME_UNITS; i++)
            if (strlen(time_units[i].unit) == ulen && memcmp(time_units[i].unit, u, ulen) == 0)
                break;
        if (i == N_TIME_UNITS)
            return OTEL_ERR_PARSE; /* unknown unit, or units out of order */
        next = i + 1;
        if (!mul_add(v, time_units[i].ns, total, &total))
            range = true;
        first = false;
    }
    if (range)
        return OTEL_ERR_RANGE;
    *out = total;
    return OTEL_OK;
}

int mhd_otel_lex_ratio(const char *s, double *out)
{
    uint64_t mant = 0;
    double scale = 1.0;
    bool dot = false, neg = false, big = false;
    int digits = 0;
    if (*s == '-') {
        neg = true;
        s++;
    }
    for (; *s != '\0'; s++) {
        if (*s == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!is_digit(*s))
            return OTEL_ERR_PARSE;
        digits++;
        if (mant < UINT64_C(100000000000000000)) {
            mant = mant * 10 + (uint64_t)(*s - '0');
            if (dot)
                scale *= 10.0;
        } else if (!dot) {
            big = true;
        }
    }
    if (digits == 0)
        return OTEL_ERR_PARSE;
    double v = (double)mant / scale;
    if (big || v > 1.0 || (neg && v != 0.0))
        return OTEL_ERR_RANGE;
    *out = v;
    return OTEL_OK;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

size_t mhd_otel_lex_distance(const char *a, const char *b)
{
    size_t row[64], la = strlen(a), lb = strlen(b);
    if (lb >= sizeof(row) / sizeof(row[0]) || la > 128)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (ascii_lower(a[i - 1]) != ascii_lower(b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

void mhd_otel_lex_init(mhd_otel_lex *lx, const char *name, const char *text, size_t len)
{
    lx->name = name;
    lx->start = text != NULL ? text : "";
    lx->p = lx->start;
    lx->end = lx->start + (text != NULL ? len : 0);
    lx->line = 1;
    lx->last_line = 1;
    if (lx->end - lx->p >= 3 && memcmp(lx->p, "\xEF\xBB\xBF", 3) == 0)
        lx->p += 3;
}

int mhd_otel_lex_next(mhd_otel_lex *lx, mhd_otel_tok *tok, char *err, size_t errlen)
{
    memset(tok, 0, sizeof(*tok));
    skip_blank(lx);
    tok->line = lx->line;
    if (lx->p >= lx->end) {
        tok->type = MHD_OTEL_TOK_EOF;
        tok->line = lx->last_line;
        return OTEL_OK;
    }
    int rc = lex_token(lx, tok, err, errlen);
    lx->last_line = lx->line;
    return rc;
}

void mhd_otel_conf_errf(char *err, size_t errlen, const char *name, size_t line, const char *fmt,
                        ...)
{
    if (err == NULL || errlen == 0)
        return;
    int n = 0;
    if (name != NULL && line > 0)
        n = snprintf(err, errlen, "%s:%zu: ", name, line);
    else if (name != NULL)
        n = snprintf(err, errlen, "%s: ", name);
    if (n < 0)
        n = 0;
    if ((size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

const char *mhd_otel_conf_show(const char *s, char *buf, size_t cap)
{
    size_t len = strlen(s), n = len < cap ? len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    buf[n] = '\0';
    if (n < len && n >= 3)
        memcpy(buf + n - 3, "...", 3);
    return buf;
}
