/* conf_int.h - the config parser's state, shared by conf.c and conf_env.c. Not a public header. */
#ifndef MHD_OTEL_CONF_INT_H
#define MHD_OTEL_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "conf_lex.h"

#define CONF_SHOW 72     /* bytes of a token quoted in a message */
#define CONF_MAX_SEEN 32 /* directives whose line is remembered */

#define SHOW(s, buf) mhd_otel_conf_show((s), (buf), sizeof(buf))

typedef struct conf_parser conf_parser;
typedef struct conf_cmd conf_cmd; /* a directive; defined in conf.c */

struct conf_parser {
    mhd_otel_lex lx;
    const char *name; /* file name; NULL while reading the environment */
    mhd_otel_conf *conf;
    char *err;
    size_t errlen;
    struct {
        const conf_cmd *cmd;
        size_t line;
    } seen[CONF_MAX_SEEN]; /* last line of each directive run */
    size_t n_seen;
    const char *env_queue, *env_batch; /* variables that set the batch sizes */
    bool file_exporter;                /* the file has an otel_exporter block */
    bool env_exporters_set;            /* OTEL_TRACES_EXPORTER named exporters (or none) */
    unsigned env_exporters;            /* CONF_EXPORTER_* bits it named */
};

#define CONF_EXPORTER_OTLP 0x1u
#define CONF_EXPORTER_CONSOLE 0x2u
#define CONF_OTLP_TIMEOUT_NS 10000000000ULL /* the spec's 10 s */

/* conf.c: "environment VAR: message"; returns code. */
__attribute__((format(printf, 4, 5))) int mhd_otel_conf_env_error(conf_parser *ps, const char *var,
                                                                  int code, const char *fmt, ...);
/* conf.c: "out of memory"; returns OTEL_ERR_NOMEM. */
int mhd_otel_conf_nomem(conf_parser *ps);
/* conf.c: set a resource attribute, replacing an earlier value of key;
 * service.name goes to conf->service_name. Takes key and value (freed on
 * failure). */
int mhd_otel_conf_attr_set(conf_parser *ps, mhd_otel_conf *c, char *key, char *value);
/* conf.c: "unknown sampler" with a "did you mean", for the variable var or
 * (var NULL) the file's line. */
int mhd_otel_conf_unknown_sampler(conf_parser *ps, const char *var, size_t line, const char *name);
/* conf.c: the propagator set named by list (names separated by commas and/or
 * blanks) into *out; an unknown name is reported, with a "did you mean", for
 * the variable var or (var NULL) the file's line. */
int mhd_otel_conf_propagators(conf_parser *ps, const char *var, size_t line, const char *list,
                              otel_propagators *out);

/* conf.c: one or more RFC 9110 tchar (s[0..n)). */
bool mhd_otel_conf_header_name_ok(const char *s, size_t n);
/* conf.c: printable ASCII only (what gRPC allows in a text metadata value). */
bool mhd_otel_conf_header_value_ok(const char *s);
/* conf.c: a name HTTP/2 or gRPC sets itself (content-type, te, grpc-*...). */
bool mhd_otel_conf_header_reserved(const char *name);
/* conf.c: add header name: value to the OTLP exporter's, replacing an earlier
 * one of the same name (ASCII case folded). Takes name and value (freed on
 * failure). */
int mhd_otel_conf_header_set(conf_parser *ps, mhd_otel_conf *c, char *name, char *value);
/* conf.c: remove every OTLP header. */
void mhd_otel_conf_headers_clear(mhd_otel_conf *c);
/* conf.c: what is wrong with an OTLP endpoint URL, NULL when it is right:
 * http:// or https://, a host (an IPv6 address in brackets), an optional
 * :PORT of 1 to 65535, at most a "/" after it. The reason is a static
 * string. */
const char *mhd_otel_conf_endpoint_problem(const char *url);

/* conf_env.c: OTEL_SDK_DISABLED, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER[_ARG], OTEL_PROPAGATORS, OTEL_BSP_* and OTEL_EXPORTER_OTLP_[TRACES_]*
 * (fn NULL: none) into ps->conf; OTEL_TRACES_EXPORTER into ps->env_exporters. */
int mhd_otel_conf_env_apply(conf_parser *ps, mhd_otel_env_fn fn);

#endif
