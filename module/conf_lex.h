/* conf_lex.h - the tokenizer of the mhd-otel config file, and the helpers
 * that format its error messages. Private to module/conf*.c. */
#ifndef MHD_OTEL_CONF_LEX_H
#define MHD_OTEL_CONF_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum mhd_otel_tok_type {
    MHD_OTEL_TOK_EOF = 0,
    MHD_OTEL_TOK_WORD,  /* a bare word or a quoted string */
    MHD_OTEL_TOK_SEMI,  /* ; */
    MHD_OTEL_TOK_OPEN,  /* { */
    MHD_OTEL_TOK_CLOSE, /* } */
} mhd_otel_tok_type;

typedef struct mhd_otel_tok {
    mhd_otel_tok_type type;
    char *text;  /* WORD only: NUL-terminated, escapes resolved; a heap copy the
                    caller owns and frees with otel_free. NULL otherwise. */
    size_t len;  /* bytes in text */
    size_t line; /* line where the token starts (EOF: where the last one ended) */
    bool quoted;
} mhd_otel_tok;

typedef struct mhd_otel_lex {
    const char *name; /* file name, for messages (borrowed) */
    const char *start, *p, *end;
    size_t line;
    size_t last_line; /* where the last token ended */
} mhd_otel_lex;

/* Start reading text (len bytes, borrowed until the last call of
 * mhd_otel_lex_next). A leading UTF-8 byte order mark is skipped. */
void mhd_otel_lex_init(mhd_otel_lex *lx, const char *name, const char *text, size_t len);

/* Read the next token into tok. Returns 0, OTEL_ERR_PARSE (unterminated
 * quoted string, NUL byte, junk after a closing quote) or OTEL_ERR_NOMEM,
 * with "NAME:LINE: message" in err; tok->text is then NULL. */
int mhd_otel_lex_next(mhd_otel_lex *lx, mhd_otel_tok *tok, char *err, size_t errlen);

/* Values in words. Each reads the whole NUL-terminated string and returns 0,
 * OTEL_ERR_PARSE when it is not written that way, or OTEL_ERR_RANGE when the
 * number does not fit (*out untouched on failure). */
/* "0", "42": decimal digits only. */
int mhd_otel_lex_uint(const char *s, uint64_t *out);
/* "512", "64k", "1M": k = 1024, m = 1024 * 1024. */
int mhd_otel_lex_size(const char *s, uint64_t *out);
/* "30" (seconds), "250ms", "5s", "1m" (minute), "2h", "1d", or several
 * largest first ("1m30s"), into nanoseconds. */
int mhd_otel_lex_time(const char *s, uint64_t *ns);
/* A decimal in [0, 1]: "1", "0.25", ".5" (no exponent); RANGE outside. */
int mhd_otel_lex_ratio(const char *s, double *out);

/* Levenshtein distance of a and b, ASCII case folded, for "did you mean"
 * hints; SIZE_MAX when either is too long (b: 63 bytes, a: 128). */
size_t mhd_otel_lex_distance(const char *a, const char *b);

/* Write "NAME:LINE: message" (line 0: "NAME: message"; name NULL: just the
 * message) into err (errlen bytes, may be 0). */
void mhd_otel_conf_errf(char *err, size_t errlen, const char *name, size_t line, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

/* s made fit for a message into buf (cap bytes, at least 4): control bytes
 * shown as '?', cut to cap-1 bytes ending in "..." when longer. Returns buf. */
const char *mhd_otel_conf_show(const char *s, char *buf, size_t cap);

#endif /* MHD_OTEL_CONF_LEX_H */
