/* fuzz_conf.c - libFuzzer target of the config file: mhd_otel_conf_parse
 * on the input (no environment), and the lexer on its own (mhd_otel_lex_next
 * up to the end, the value readers on every word). */
#include "conf_check.h"

#include <strings.h>

#include "../../core/alloc.h"
#include "../../module/conf_lex.h"

#define NAME "fuzz.conf"

static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

/* Decimal digits only, as an independent reading of a number: false when
 * s is not that or does not fit. */
static bool decimal(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static void check_values(const char *w)
{
    uint64_t u = 0, want = 0, ns = 0;
    double r = -1.0;
    size_t n = strlen(w);

    int rc = mhd_otel_lex_uint(w, &u);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE || rc == OTEL_ERR_RANGE, "uint rc %d", rc);
    bool dec = decimal(w, n, &want);
    FUZZ_CHECK((rc == OTEL_OK) == dec, "uint \"%s\": rc %d", w, rc);
    if (rc == OTEL_OK)
        FUZZ_CHECK(u == want, "uint \"%s\" = %llu", w, (unsigned long long)u);

    rc = mhd_otel_lex_size(w, &u);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE || rc == OTEL_ERR_RANGE, "size rc %d", rc);
    if (rc == OTEL_OK) {
        char last = n > 0 ? w[n - 1] : '\0';
        uint64_t mult = (last == 'k' || last == 'K') ? 1024 : 1;
        if (last == 'm' || last == 'M')
            mult = 1024 * 1024;
        FUZZ_CHECK(decimal(w, mult > 1 ? n - 1 : n, &want) && u == want * mult, "size \"%s\"", w);
    }

    rc = mhd_otel_lex_time(w, &ns);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE || rc == OTEL_ERR_RANGE, "time rc %d", rc);
    if (rc == OTEL_OK && dec)
        FUZZ_CHECK(ns == want * 1000000000ULL, "time \"%s\": bare number is seconds", w);

    rc = mhd_otel_lex_ratio(w, &r);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE || rc == OTEL_ERR_RANGE, "ratio rc %d", rc);
    if (rc == OTEL_OK)
        FUZZ_CHECK(r >= 0.0 && r <= 1.0, "ratio \"%s\" = %f", w, r);
}

/* Every token of text, then the end; each word through the value readers. */
static void lex_all(const char *text, size_t len)
{
    mhd_otel_lex lx;
    mhd_otel_tok tok;
    char err[CONF_ERR_CAP];
    size_t lines = 1, last_line = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';

    mhd_otel_lex_init(&lx, NAME, text, len);
    for (size_t count = 0;; count++) {
        FUZZ_CHECK(count <= len + 1, "more tokens than bytes");
        err[0] = '\0';
        int rc = mhd_otel_lex_next(&lx, &tok, err, sizeof err);
        if (rc != OTEL_OK) {
            FUZZ_CHECK(rc == OTEL_ERR_PARSE || rc == OTEL_ERR_NOMEM, "lex rc %d", rc);
            FUZZ_CHECK(tok.text == NULL, "text after an error");
            conf_check_error(err, sizeof err, NAME ":");
            return;
        }
        FUZZ_CHECK(tok.line >= 1 && tok.line <= lines, "line %zu of %zu", tok.line, lines);
        FUZZ_CHECK(tok.line >= last_line || tok.type == MHD_OTEL_TOK_EOF, "line %zu after line %zu",
                   tok.line, last_line);
        last_line = tok.line;
        if (tok.type == MHD_OTEL_TOK_EOF) {
            FUZZ_CHECK(tok.text == NULL, "text at the end");
            return;
        }
        if (tok.type != MHD_OTEL_TOK_WORD) {
            FUZZ_CHECK(tok.type == MHD_OTEL_TOK_SEMI || tok.type == MHD_OTEL_TOK_OPEN ||
                           tok.type == MHD_OTEL_TOK_CLOSE,
                       "token type %d", (int)tok.type);
            FUZZ_CHECK(tok.text == NULL, "text of a ; { }");
            continue;
        }
        FUZZ_CHECK(tok.text != NULL && strlen(tok.text) == tok.len, "word length");
        if (!tok.quoted)
            FUZZ_CHECK(tok.len > 0 && strpbrk(tok.text, " \t\r\n\f\v;") == NULL, "bare word \"%s\"",
                       tok.text);
        check_values(tok.text);
        otel_free(tok.text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size); /* the NUL after it is not part of it */
    char err[CONF_ERR_CAP], small[12];
    mhd_otel_conf *c = (mhd_otel_conf *)&c;

    lex_all(text, size);

    memset(err, 0x7f, sizeof err);
    int rc = mhd_otel_conf_parse(&c, NAME, text, size, no_env, err, sizeof err);
    if (rc == OTEL_OK) {
        FUZZ_CHECK(c != NULL, "no conf");
        conf_check_conf(c);
        mhd_otel_conf_del(c);
    } else {
        FUZZ_CHECK(c == NULL, "conf after an error");
        FUZZ_CHECK(rc == OTEL_ERR_PARSE || rc == OTEL_ERR_RANGE || rc == OTEL_ERR_INVALID ||
                       rc == OTEL_ERR_NOMEM,
                   "rc %d", rc);
        conf_check_error(err, sizeof err, NAME ":");
        /* The same error cut to a small buffer. */
        rc = mhd_otel_conf_parse(&c, NAME, text, size, no_env, small, sizeof small);
        FUZZ_CHECK(rc != OTEL_OK && c == NULL, "second parse differs");
        FUZZ_CHECK(strnlen(small, sizeof small) < sizeof small &&
                       strncmp(small, err, sizeof small - 1) == 0,
                   "cut message \"%s\" is not the start of \"%s\"", small, err);
    }
    free(text);
    return 0;
}
