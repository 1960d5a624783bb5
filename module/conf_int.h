/* conf_int.h - the directive table's row type and the parser's state, shared by conf.c (the
 * table, the file and the merge), conf_set.c (the file syntax) and conf_env.c (the OTEL_*
 * syntax). Not a public header. */
#ifndef MHD_OTEL_CONF_INT_H
#define MHD_OTEL_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "conf_lex.h"

#define CONF_SHOW 72 /* bytes of a token quoted in a message */
#define CONF_MSG 512 /* bytes of one message before its FILE:LINE */

#define SHOW(s, buf) mhd_otel_conf_show((s), (buf), sizeof(buf))

/* Where a directive is written. */
typedef enum conf_block {
    CONF_MAIN = 0, /* top level */
    CONF_BATCH,    /* otel_batch { } */
    CONF_CONSOLE,  /* otel_exporter console { } */
    CONF_OTLP,     /* otel_exporter otlp { } */
    CONF_METRICS,  /* otel_metrics { } */
} conf_block;

/* Argument shapes (a directive takes n arguments when bit n is set, or any
 * number from 1 with CONF_1MORE) and flags. */
#define CONF_NOARGS 0x0001u
#define CONF_TAKE1 0x0002u
#define CONF_TAKE2 0x0004u
#define CONF_TAKE12 (CONF_TAKE1 | CONF_TAKE2)
#define CONF_1MORE 0x0010u
#define CONF_BLOCK 0x0100u /* followed by a { } block of the directives of .inner */
#define CONF_LIST 0x0200u  /* a list by nature: may be repeated, each adds to the list */
#define CONF_KEYED 0x0400u /* a mhd_otel_kv_str list: the file's keys over the environment's */
#define CONF_HEADERS                                                                               \
    0x0800u                   /* CONF_KEYED OTLP headers: names in any case, the exporter's rules  \
                               */
#define CONF_TIME 0x1000u     /* the argument is a time ("100 ms" gets a hint) */
#define CONF_EXPORTER 0x2000u /* names an exporter: a file naming any decides them all */

typedef struct conf_parser conf_parser;
typedef struct conf_cmd conf_cmd;

/* A file setter stores args[0..n) into the row's field of conf (it may take,
 * and then NULL, an argument's text). The same setter applies a row's
 * default and, when the environment's syntax is the file's, its variable. */
typedef int (*conf_set_fn)(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *conf,
                           mhd_otel_tok *args, size_t n);
/* An environment setter stores the value of var (set, not empty) into the
 * row's field of conf. A failure is a warning, and the variable is ignored. */
typedef int (*conf_env_fn)(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *conf,
                           const char *var, const char *value);
/* A check validates one argument before a setter keeps it. */
typedef int (*conf_check_fn)(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);

/* One directive: where it is written, how, where its value goes, the
 * variables that also set it and its default. */
struct conf_cmd {
    const char *name;
    const char *type; /* otel_exporter TYPE: the first argument this row is for */
    conf_block block; /* where it is written */
    conf_block inner; /* CONF_BLOCK: the directives of its block */
    unsigned flags;   /* argument shape, CONF_* flags */
    conf_set_fn set;
    conf_check_fn check; /* for each argument, or NULL */
    const void *post;    /* setter data: enum names, bounds */
    size_t offset, size; /* of the field in mhd_otel_conf; size 0: none */
    const char *env[2];  /* OTEL_* variables, the first one set is read */
    conf_env_fn env_set; /* NULL: the value is one word of the file's syntax */
    const char *def;     /* the default in the file's syntax; NULL: zero, or the
                            core's otel_tracer_config_default for otel_batch */
};

#define CONF_FIELD(f) .offset = offsetof(mhd_otel_conf, f), .size = sizeof(((mhd_otel_conf *)0)->f)

typedef struct conf_enum {
    const char *name;
    int value;
} conf_enum;

typedef struct conf_bounds {
    uint64_t min;
} conf_bounds;

struct conf_parser {
    mhd_otel_lex lx;
    const char *name;  /* file name */
    const char *where; /* not NULL: messages say this instead of FILE:LINE
                          ("environment OTEL_X", "default of ...") */
    mhd_otel_env_fn env_lookup;
    char *err;
    size_t errlen;
    size_t *line;       /* per row: the line the file set it on, 0: not set */
    bool *env_set;      /* per row: a valid variable set it */
    size_t service_row; /* the row of otel_service_name, which
                           otel_resource_attr service.name sets too */
    size_t attr_line;   /* the first otel_resource_attr service.name */
};

/* conf.c: the directive table, ending in a row with a NULL name. */
extern const conf_cmd mhd_otel_conf_cmds[];
/* conf.c: the row whose field is at offset. */
const conf_cmd *mhd_otel_conf_row(size_t offset);
/* conf.c: the row's field in conf. */
void *mhd_otel_conf_field(mhd_otel_conf *conf, const conf_cmd *cmd);

/* conf_set.c: "FILE:LINE: message" (or "WHERE: message"); returns code. */
__attribute__((format(printf, 4, 5))) int mhd_otel_conf_error(conf_parser *ps, size_t line,
                                                              int code, const char *fmt, ...);
/* conf_set.c: "out of memory"; returns OTEL_ERR_NOMEM. */
int mhd_otel_conf_nomem(conf_parser *ps);
/* conf_set.c: " (did you mean "X"?)" into buf (cap bytes) when one of
 * names (n of them) is close to word, else "". Returns buf. */
const char *mhd_otel_conf_hint(const char *word, const char *const *names, size_t n, char *buf,
                               size_t cap);
/* conf_set.c: add key = value to the list, replacing an earlier value of key
 * (nocase: in any ASCII case). Takes key and value (freed on failure). */
int mhd_otel_conf_kv_set(conf_parser *ps, mhd_otel_kv_str **v, size_t *n, bool nocase, char *key,
                         char *value);
/* conf_set.c: free the list's strings and the list. */
void mhd_otel_conf_kv_free(mhd_otel_kv_str *v, size_t n);
/* conf_set.c: "WHAT" directive is duplicate (first at FILE:FIRST), of line. */
int mhd_otel_conf_duplicate(conf_parser *ps, size_t line, const char *what, size_t first);
/* conf.c: clear the row's field of c (freeing what it owns). */
void mhd_otel_conf_field_drop(mhd_otel_conf *c, const conf_cmd *cmd);
/* conf_set.c: the exporter's rules for an OTLP header, as an error of line. */
int mhd_otel_conf_header_check(conf_parser *ps, size_t line, const char *name, const char *value);

/* conf_set.c: the file setters the table names. */
int mhd_otel_conf_set_flag(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_enum(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_enum_bool(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_str(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                          mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_strv(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_size(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_time(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_time_or_off(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                  mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_resource_attr(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                    mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_sampler(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                              mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_propagators(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                  mhd_otel_tok *args, size_t n);
int mhd_otel_conf_set_otlp_header(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                  mhd_otel_tok *args, size_t n);
int mhd_otel_conf_check_nonempty(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);
int mhd_otel_conf_check_path(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);
int mhd_otel_conf_check_listen(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);
int mhd_otel_conf_check_route(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);
int mhd_otel_conf_check_header_name(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);
int mhd_otel_conf_set_protocol(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                               mhd_otel_tok *args, size_t n);
/* otel_metrics' exporter: names of post (conf_enum of MHD_OTEL_METRICS_*
 * bits), as words or comma lists, into an unsigned bit set; "none" alone. */
int mhd_otel_conf_set_bits(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n);

/* conf_env.c: the environment setters the table names. */
int mhd_otel_conf_env_disabled(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                               const char *var, const char *value);
int mhd_otel_conf_env_bool(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                           const char *value);
int mhd_otel_conf_env_raw(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                          const char *value);
int mhd_otel_conf_env_lower(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                            const char *value);
int mhd_otel_conf_env_sampler(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                              const char *var, const char *value);
int mhd_otel_conf_env_count(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                            const char *value);
int mhd_otel_conf_env_ms(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                         const char *value);
int mhd_otel_conf_env_kv(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                         const char *value);

/* conf_env.c: every variable of the table, and OTEL_TRACES_EXPORTER, into
 * env (ps->env_set says which rows they set); an invalid one is logged as a
 * warning and ignored. Fails only when memory runs out. */
int mhd_otel_conf_env_read(conf_parser *ps, mhd_otel_conf *env);

#endif
