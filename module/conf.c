/* conf.c - parses the mhd-otel config file into an mhd_otel_conf (the OTEL_* part: conf_env.c). */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/alloc.h"
#include "conf_int.h"

#define CONF_FILE_MAX (1024 * 1024) /* bytes of a config file read at most */
#define CONF_ANY SIZE_MAX           /* max_args: no limit */
#define CONF_BLOCK 0x1u             /* the directive is followed by a { } block */
#define CONF_MSG 512                /* bytes of one message before its FILE:LINE */

/* One statement: w[0] is the directive name, w[1..n-1] its arguments; end
 * is the token that ended it (";", "{", "}" or end of file). */
typedef struct conf_stmt {
    mhd_otel_tok *w;
    size_t n, cap;
    mhd_otel_tok end;
} conf_stmt;

/* A setter stores a statement's arguments into the block's target (the
 * conf, or a struct inside it); it may take (and then NULL) a word's text. */
typedef int (*conf_set_fn)(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st);
/* A check validates one argument before a string setter keeps it. */
typedef int (*conf_check_fn)(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg);

struct conf_cmd {
    const char *name;
    unsigned flags; /* CONF_BLOCK */
    size_t min_args, max_args;
    conf_set_fn set;
    size_t offset;       /* of the field set, inside the block's target */
    const void *post;    /* setter data: sub-table, enum names, bounds */
    conf_check_fn check; /* for each argument, or NULL */
};

typedef struct conf_enum {
    const char *name;
    int value;
} conf_enum;

typedef struct conf_bounds {
    uint64_t min;
} conf_bounds;

/* otel_exporter TYPE { ... }: one entry per exporter type. */
typedef struct conf_exporter {
    const char *type;
    const char *label;    /* the block's name in messages */
    const conf_cmd *cmds; /* directives inside the block; target is the conf */
    size_t enabled;       /* offset of the bool the block sets in the conf */
} conf_exporter;

static int parse_block(conf_parser *ps, const conf_cmd *table, void *target, const char *block);

/* ---- messages ------------------------------------------------------------ */

static int report(conf_parser *ps, const char *where, size_t line, int code, const char *fmt,
                  va_list ap)
{
    char msg[CONF_MSG];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    mhd_otel_conf_errf(ps->err, ps->errlen, where, line, "%s", msg);
    return code;
}

/* "FILE:LINE: message"; returns code. */
__attribute__((format(printf, 4, 5))) static int conf_error(conf_parser *ps, size_t line, int code,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(ps, ps->name, line, code, fmt, ap);
    va_end(ap);
    return code;
}

/* "environment VAR: message"; returns code. */
int mhd_otel_conf_env_error(conf_parser *ps, const char *var, int code, const char *fmt, ...)
{
    char where[96];
    snprintf(where, sizeof(where), "environment %s", var);
    va_list ap;
    va_start(ap, fmt);
    report(ps, where, 0, code, fmt, ap);
    va_end(ap);
    return code;
}

int mhd_otel_conf_nomem(conf_parser *ps)
{
    mhd_otel_conf_errf(ps->err, ps->errlen, ps->name, 0, "out of memory");
    return OTEL_ERR_NOMEM;
}

/* ---- "did you mean" ------------------------------------------------------ */

typedef struct conf_hint {
    const char *word;
    const char *best;
    size_t dist;
} conf_hint;

static void hint_try(conf_hint *h, const char *candidate)
{
    size_t d = mhd_otel_lex_distance(h->word, candidate);
    if (d <= 3 && d * 2 <= strlen(candidate) && (h->best == NULL || d < h->dist)) {
        h->best = candidate;
        h->dist = d;
    }
}

/* " (did you mean "X"?)" when a candidate was close, else "". */
static const char *hint_text(const conf_hint *h, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (h->best != NULL)
        snprintf(buf, cap, " (did you mean \"%s\"?)", h->best);
    return buf;
}

/* ---- conf contents ------------------------------------------------------- */

/* Append s (taken: freed on failure) to sv. */
static int strv_push(conf_parser *ps, mhd_otel_strv *sv, char *s)
{
    char **v = otel_realloc(sv->v, (sv->n + 1) * sizeof(*v));
    if (v == NULL) {
        otel_free(s);
        return mhd_otel_conf_nomem(ps);
    }
    sv->v = v;
    v[sv->n++] = s;
    return OTEL_OK;
}

static void strv_free(mhd_otel_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        otel_free(sv->v[i]);
    otel_free(sv->v);
}

/* Set a resource attribute, replacing an earlier value of key; service.name
 * goes to conf->service_name. Takes key and value (freed on failure). */
int mhd_otel_conf_attr_set(conf_parser *ps, mhd_otel_conf *c, char *key, char *value)
{
    if (strcmp(key, "service.name") == 0) {
        /* An empty service.name is none: the default name, not "". */
        otel_free(key);
        otel_free(c->service_name);
        c->service_name = value[0] != '\0' ? value : NULL;
        if (c->service_name == NULL)
            otel_free(value);
        return OTEL_OK;
    }
    for (size_t i = 0; i < c->n_resource_attrs; i++) {
        if (strcmp(c->resource_attrs[i].key, key) == 0) {
            otel_free(key);
            otel_free(c->resource_attrs[i].value);
            c->resource_attrs[i].value = value;
            return OTEL_OK;
        }
    }
    mhd_otel_kv_str *v = otel_realloc(c->resource_attrs, (c->n_resource_attrs + 1) * sizeof(*v));
    if (v == NULL) {
        otel_free(key);
        otel_free(value);
        return mhd_otel_conf_nomem(ps);
    }
    c->resource_attrs = v;
    v[c->n_resource_attrs].key = key;
    v[c->n_resource_attrs].value = value;
    c->n_resource_attrs++;
    return OTEL_OK;
}

/* Take a word's text out of the statement (the caller owns it). */
static char *take(mhd_otel_tok *tok)
{
    char *s = tok->text;
    tok->text = NULL;
    return s;
}

static void *field(void *target, const conf_cmd *cmd)
{
    return (char *)target + cmd->offset;
}

/* ---- argument checks ----------------------------------------------------- */

static int check_nonempty(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    if (arg->len == 0)
        return conf_error(ps, arg->line, OTEL_ERR_PARSE, "empty value in \"%s\"", cmd->name);
    return OTEL_OK;
}

static int check_path(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    if (arg->text[0] != '/')
        return conf_error(ps, arg->line, OTEL_ERR_PARSE,
                          "invalid path \"%s\" in \"%s\", it must start with \"/\"",
                          SHOW(arg->text, a), cmd->name);
    return OTEL_OK;
}

/* What is wrong with a route's {name} segments, or NULL. */
static const char *route_problem(const char *p)
{
    const char *open = NULL;
    for (; *p != '\0'; p++) {
        if (*p == '{' && open != NULL)
            return "\"{\" inside \"{...}\"";
        if (*p == '{')
            open = p;
        else if (*p == '}' && open == NULL)
            return "\"}\" without \"{\"";
        else if (*p == '}' && p == open + 1)
            return "empty \"{}\"";
        else if (*p == '}' && p[1] != '\0' && p[1] != '/')
            return "\"{...}\" must be followed by \"/\" or end the route";
        else if (*p == '}')
            open = NULL;
        else if (*p == '/' && open != NULL)
            return "\"{\" is not closed";
    }
    return open != NULL ? "\"{\" is not closed" : NULL;
}

static int check_route(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    int rc = check_path(ps, cmd, arg);
    if (rc != OTEL_OK)
        return rc;
    const char *why = route_problem(arg->text);
    if (why != NULL)
        return conf_error(ps, arg->line, OTEL_ERR_PARSE, "invalid route \"%s\" in \"%s\": %s",
                          SHOW(arg->text, a), cmd->name, why);
    return OTEL_OK;
}

bool mhd_otel_conf_header_name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && strchr("!#$%&'*+-.^_`|~", c) == NULL)
            return false;
    }
    return n > 0;
}

/* An HTTP field name: one or more RFC 9110 tchar. */
static int check_header(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    if (!mhd_otel_conf_header_name_ok(arg->text, arg->len))
        return conf_error(ps, arg->line, OTEL_ERR_PARSE, "invalid header name \"%s\" in \"%s\"",
                          SHOW(arg->text, a), cmd->name);
    return OTEL_OK;
}

/* ---- OTLP endpoint and headers ------------------------------------------- */

#define CONF_HOST_MAX 253 /* bytes of a DNS name */

static bool url_host_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '.' || c == '_';
}

/* What is wrong with "[v6]" (the brackets included) at h[0..n), or NULL. */
static const char *url_ipv6_problem(const char *h, size_t n)
{
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    if (h[n - 1] != ']')
        return "\"[\" is not closed";
    if (n < 3 || n - 2 >= sizeof(addr))
        return "invalid IPv6 address";
    memcpy(addr, h + 1, n - 2);
    addr[n - 2] = '\0';
    return inet_pton(AF_INET6, addr, &a6) == 1 ? NULL : "invalid IPv6 address";
}

#define CONF_PORT_DIGITS_MAX 5 /* what otel_h2_endpoint_parse reads: "08080", not "000080" */

/* ":PORT" at p[0..n), n >= 1: 1 to 65535, in at most 5 digits. */
static const char *url_port_problem(const char *p, size_t n)
{
    unsigned long v = 0;
    if (n == 1)
        return "empty port";
    for (size_t i = 1; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return "the port must be a number";
        if (v <= 65535)
            v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v == 0 || v > 65535 || n - 1 > CONF_PORT_DIGITS_MAX)
        return "the port must be between 1 and 65535";
    return NULL;
}

const char *mhd_otel_conf_endpoint_problem(const char *url)
{
    size_t skip;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return "it must start with \"http://\" or \"https://\"";
    const char *host = url + skip;
    size_t n = strcspn(host, "/");
    if (memchr(host, '@', n) != NULL)
        return "no user name allowed";
    size_t hlen = n;
    if (n > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', n);
        hlen = close != NULL ? (size_t)(close - host) + 1 : n;
        const char *why = url_ipv6_problem(host, hlen);
        if (why != NULL)
            return why;
    } else {
        const char *colon = memchr(host, ':', n);
        hlen = colon != NULL ? (size_t)(colon - host) : n;
        if (colon != NULL && memchr(colon + 1, ':', n - hlen - 1) != NULL)
            return "an IPv6 address must be in brackets";
        for (size_t i = 0; i < hlen; i++)
            if (!url_host_char(host[i]))
                return "invalid character in the host";
    }
    if (hlen == 0)
        return "empty host";
    if (hlen > CONF_HOST_MAX)
        return "the host is too long";
    if (hlen < n && host[hlen] != ':')
        return "unexpected characters after the host";
    const char *why = hlen < n ? url_port_problem(host + hlen, n - hlen) : NULL;
    if (why == NULL && host[n] == '/' && host[n + 1] != '\0')
        why = "no path allowed (OTLP/gRPC takes http://HOST:PORT)";
    return why;
}

bool mhd_otel_conf_header_value_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

bool mhd_otel_conf_header_reserved(const char *name)
{
    static const char *const reserved[] = {
        "connection", "content-length",    "content-type", "host", "keep-alive", "proxy-connection",
        "te",         "transfer-encoding", "upgrade",      NULL};
    if (strncasecmp(name, "grpc-", 5) == 0)
        return true;
    for (const char *const *r = reserved; *r != NULL; r++)
        if (strcasecmp(name, *r) == 0)
            return true;
    return false;
}

int mhd_otel_conf_header_set(conf_parser *ps, mhd_otel_conf *c, char *name, char *value)
{
    for (size_t i = 0; i < c->n_otlp_headers; i++) {
        if (strcasecmp(c->otlp_headers[i].key, name) == 0) {
            otel_free(c->otlp_headers[i].key);
            otel_free(c->otlp_headers[i].value);
            c->otlp_headers[i].key = name;
            c->otlp_headers[i].value = value;
            return OTEL_OK;
        }
    }
    mhd_otel_kv_str *v = otel_realloc(c->otlp_headers, (c->n_otlp_headers + 1) * sizeof(*v));
    if (v == NULL) {
        otel_free(name);
        otel_free(value);
        return mhd_otel_conf_nomem(ps);
    }
    c->otlp_headers = v;
    v[c->n_otlp_headers].key = name;
    v[c->n_otlp_headers].value = value;
    c->n_otlp_headers++;
    return OTEL_OK;
}

void mhd_otel_conf_headers_clear(mhd_otel_conf *c)
{
    for (size_t i = 0; i < c->n_otlp_headers; i++) {
        otel_free(c->otlp_headers[i].key);
        otel_free(c->otlp_headers[i].value);
    }
    otel_free(c->otlp_headers);
    c->otlp_headers = NULL;
    c->n_otlp_headers = 0;
}

static int check_endpoint(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    (void)cmd;
    const char *why = mhd_otel_conf_endpoint_problem(arg->text);
    if (why != NULL)
        return conf_error(ps, arg->line, OTEL_ERR_PARSE, "invalid endpoint \"%s\": %s",
                          SHOW(arg->text, a), why);
    return OTEL_OK;
}

/* ---- generic setters ----------------------------------------------------- */

static int set_flag(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *arg = &st->w[1];
    bool *f = field(target, cmd);
    if (strcasecmp(arg->text, "on") == 0)
        *f = true;
    else if (strcasecmp(arg->text, "off") == 0)
        *f = false;
    else
        return conf_error(ps, arg->line, OTEL_ERR_PARSE,
                          "invalid value \"%s\" in \"%s\", it must be \"on\" or \"off\"",
                          SHOW(arg->text, a), cmd->name);
    return OTEL_OK;
}

/* The value of the conf_enum (cmd->post, ending with a NULL name) named by
 * the statement's argument into *out, or an error listing the names. */
static int enum_lookup(conf_parser *ps, const conf_cmd *cmd, const conf_stmt *st, int *out)
{
    char a[CONF_SHOW], names[160];
    const mhd_otel_tok *arg = &st->w[1];
    const conf_enum *e = cmd->post;
    size_t n = 0;
    for (; e->name != NULL; e++) {
        if (strcmp(arg->text, e->name) == 0) {
            *out = e->value;
            return OTEL_OK;
        }
    }
    names[0] = '\0';
    for (e = cmd->post; e->name != NULL && n < sizeof(names); e++) {
        const char *sep = e == cmd->post ? "" : e[1].name == NULL ? " or " : ", ";
        int w = snprintf(names + n, sizeof(names) - n, "%s\"%s\"", sep, e->name);
        n += w > 0 ? (size_t)w : 0;
    }
    return conf_error(ps, arg->line, OTEL_ERR_PARSE,
                      "invalid value \"%s\" in \"%s\", it must be %s", SHOW(arg->text, a),
                      cmd->name, names);
}

/* post: conf_enum names; the field is an int-sized enum. */
static int set_enum(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    return enum_lookup(ps, cmd, st, (int *)field(target, cmd));
}

/* post: conf_enum names with the values 0 and 1; the field is a bool. */
static int set_enum_bool(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    int v = 0;
    int rc = enum_lookup(ps, cmd, st, &v);
    if (rc == OTEL_OK)
        *(bool *)field(target, cmd) = v != 0;
    return rc;
}

/* A string replacing the field's earlier value. */
static int set_str(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char **f = field(target, cmd);
    if (cmd->check != NULL) {
        int rc = cmd->check(ps, cmd, &st->w[1]);
        if (rc != OTEL_OK)
            return rc;
    }
    otel_free(*f);
    *f = take(&st->w[1]);
    return OTEL_OK;
}

/* Every argument appended to the mhd_otel_strv field. */
static int set_strv(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    mhd_otel_strv *sv = field(target, cmd);
    for (size_t i = 1; i < st->n; i++) {
        int rc = cmd->check != NULL ? cmd->check(ps, cmd, &st->w[i]) : OTEL_OK;
        if (rc == OTEL_OK)
            rc = strv_push(ps, sv, take(&st->w[i]));
        if (rc != OTEL_OK)
            return rc;
    }
    return OTEL_OK;
}

/* A size_t count; post: conf_bounds. */
static int set_size(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *arg = &st->w[1];
    const conf_bounds *b = cmd->post;
    uint64_t v = 0;
    int rc = mhd_otel_lex_size(arg->text, &v);
    SHOW(arg->text, a);
    if (rc == OTEL_ERR_PARSE)
        return conf_error(ps, arg->line, rc, "invalid size \"%s\" in \"%s\"", a, cmd->name);
    if (rc != OTEL_OK || v > SIZE_MAX)
        return conf_error(ps, arg->line, OTEL_ERR_RANGE, "size \"%s\" in \"%s\" is too large", a,
                          cmd->name);
    if (v < b->min)
        return conf_error(ps, arg->line, OTEL_ERR_RANGE,
                          "invalid size \"%s\" in \"%s\", it must be at least %llu", a, cmd->name,
                          (unsigned long long)b->min);
    *(size_t *)field(target, cmd) = (size_t)v;
    return OTEL_OK;
}

static int set_time(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st);

/* A uint64_t of nanoseconds, or "off" for 0; post: conf_bounds of a time. */
static int set_time_or_off(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    if (strcasecmp(st->w[1].text, "off") == 0) {
        *(uint64_t *)field(target, cmd) = 0;
        return OTEL_OK;
    }
    return set_time(ps, cmd, target, st);
}

/* A uint64_t of nanoseconds; post: conf_bounds (in nanoseconds). */
static int set_time(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *arg = &st->w[1];
    const conf_bounds *b = cmd->post;
    uint64_t v = 0;
    int rc = mhd_otel_lex_time(arg->text, &v);
    SHOW(arg->text, a);
    if (rc == OTEL_ERR_PARSE)
        return conf_error(ps, arg->line, rc, "invalid time \"%s\" in \"%s\"", a, cmd->name);
    if (rc != OTEL_OK)
        return conf_error(ps, arg->line, OTEL_ERR_RANGE, "time \"%s\" in \"%s\" is too large", a,
                          cmd->name);
    if (v < b->min)
        return conf_error(ps, arg->line, OTEL_ERR_RANGE, "time \"%s\" in \"%s\" is too small", a,
                          cmd->name);
    *(uint64_t *)field(target, cmd) = v;
    return OTEL_OK;
}

/* name { ... }: the block's directives (post) applied to the field. */
static int set_block(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    (void)st;
    return parse_block(ps, cmd->post, field(target, cmd), cmd->name);
}

/* ---- directive setters --------------------------------------------------- */

static int set_resource_attr(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    if (st->w[1].len == 0)
        return conf_error(ps, st->w[1].line, OTEL_ERR_PARSE, "empty key in \"%s\"", cmd->name);
    char *key = take(&st->w[1]);
    return mhd_otel_conf_attr_set(ps, target, key, take(&st->w[2]));
}

int mhd_otel_conf_unknown_sampler(conf_parser *ps, const char *var, size_t line, const char *name)
{
    char a[CONF_SHOW], hint[96];
    conf_hint h = {name, NULL, 0};
    for (int k = OTEL_SAMPLER_ALWAYS_ON; k <= OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO; k++)
        hint_try(&h, otel_sampler_kind_name((otel_sampler_kind)k));
    SHOW(name, a);
    hint_text(&h, hint, sizeof(hint));
    if (var != NULL)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE, "unknown sampler \"%s\"%s", a,
                                       hint);
    return conf_error(ps, line, OTEL_ERR_PARSE, "unknown sampler \"%s\"%s", a, hint);
}

static int set_sampler(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *name = &st->w[1];
    otel_sampler_kind kind;
    double ratio = 1.0;
    if (otel_sampler_kind_from_name(name->text, &kind) != OTEL_OK)
        return mhd_otel_conf_unknown_sampler(ps, NULL, name->line, name->text);
    if (otel_sampler_needs_ratio(kind) && st->n != 3)
        return conf_error(ps, name->line, OTEL_ERR_PARSE,
                          "invalid number of arguments in \"%s\": sampler \"%s\" needs a ratio "
                          "between 0 and 1",
                          cmd->name, name->text);
    if (!otel_sampler_needs_ratio(kind) && st->n != 2)
        return conf_error(ps, st->w[2].line, OTEL_ERR_PARSE,
                          "invalid number of arguments in \"%s\": sampler \"%s\" takes no ratio",
                          cmd->name, name->text);
    if (st->n == 3) {
        int rc = mhd_otel_lex_ratio(st->w[2].text, &ratio);
        SHOW(st->w[2].text, a);
        if (rc == OTEL_ERR_PARSE)
            return conf_error(ps, st->w[2].line, rc, "invalid ratio \"%s\" in \"%s\"", a,
                              cmd->name);
        if (rc != OTEL_OK)
            return conf_error(ps, st->w[2].line, rc,
                              "invalid ratio \"%s\" in \"%s\", ratio must be between 0 and 1", a,
                              cmd->name);
    }
    if (otel_sampler_init(field(target, cmd), kind, ratio) != OTEL_OK)
        return conf_error(ps, name->line, OTEL_ERR_RANGE, "ratio must be between 0 and 1");
    return OTEL_OK;
}

/* The first name of list that is not a propagator, or NULL; its length in
 * *len. */
static const char *unknown_propagator(const char *list, size_t *len)
{
    static const char seps[] = ", \t\r\n";
    for (const char *s = list; *s != '\0';) {
        s += strspn(s, seps);
        size_t n = strcspn(s, seps);
        char name[16];
        otel_propagators one;
        if (n == 0)
            break;
        *len = n;
        if (n >= sizeof(name))
            return s; /* longer than any name */
        memcpy(name, s, n);
        name[n] = '\0';
        if (otel_propagators_from_names(&one, name, NULL, 0) != OTEL_OK)
            return s;
        s += n;
    }
    return NULL;
}

int mhd_otel_conf_propagators(conf_parser *ps, const char *var, size_t line, const char *list,
                              otel_propagators *out)
{
    char a[CONF_SHOW], hint[96], why[CONF_SHOW + 128];
    if (otel_propagators_from_names(out, list, why, sizeof(why)) == OTEL_OK)
        return OTEL_OK;
    size_t n = 0;
    const char *bad = unknown_propagator(list, &n);
    if (bad != NULL) {
        size_t k = n < sizeof(a) ? n : sizeof(a) - 1;
        memcpy(a, bad, k);
        a[k] = '\0';
        conf_hint h = {a, NULL, 0};
        for (int kind = OTEL_PROPAGATOR_NONE; kind <= OTEL_PROPAGATOR_B3MULTI; kind++)
            hint_try(&h, otel_propagator_name((otel_propagator)kind));
        hint_text(&h, hint, sizeof(hint));
        snprintf(why, sizeof(why), "unknown propagator \"%s\"%s", SHOW(a, a), hint);
    }
    if (var != NULL)
        return mhd_otel_conf_env_error(ps, var, OTEL_ERR_PARSE, "%s", why);
    return conf_error(ps, line, OTEL_ERR_PARSE, "%s", why);
}

/* otel_propagators NAME...: the set replaces an earlier one. */
static int set_propagators(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    otel_propagators all = {0}, one;
    bool none = false;
    for (size_t i = 1; i < st->n; i++) {
        const mhd_otel_tok *arg = &st->w[i];
        if (arg->text[strspn(arg->text, ", \t\r\n")] == '\0')
            return conf_error(ps, arg->line, OTEL_ERR_PARSE, "empty value in \"%s\"", cmd->name);
        int rc = mhd_otel_conf_propagators(ps, NULL, arg->line, arg->text, &one);
        if (rc != OTEL_OK)
            return rc;
        none = none || one.n == 0;
        for (size_t k = 0; k < one.n; k++) {
            if ((all.mask & (1u << one.order[k])) != 0)
                continue;
            all.mask = (uint8_t)(all.mask | (1u << one.order[k]));
            all.order[all.n++] = one.order[k];
        }
    }
    if (none && all.n > 0)
        return conf_error(ps, st->w[0].line, OTEL_ERR_PARSE,
                          "propagator \"none\" given with others in \"%s\"", cmd->name);
    *(otel_propagators *)field(target, cmd) = all;
    return OTEL_OK;
}

static const conf_enum console_formats[] = {
    {"json", OTEL_CONSOLE_JSON},
    {"pretty", OTEL_CONSOLE_PRETTY},
    {NULL, 0},
};

_Static_assert(sizeof(otel_console_format) == sizeof(int), "set_enum writes an int");

static const conf_cmd console_cmds[] = {
    {"format", 0, 1, 1, set_enum, offsetof(mhd_otel_conf, console_format), console_formats, NULL},
    {"output", 0, 1, 1, set_str, offsetof(mhd_otel_conf, console_output), NULL, check_nonempty},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL},
};

/* header NAME VALUE; inside otel_exporter otlp: a later NAME (any case)
 * replaces an earlier one, from this file or the environment. */
static int set_otlp_header(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *name = &st->w[1], *value = &st->w[2];
    int rc = check_header(ps, cmd, name);
    if (rc != OTEL_OK)
        return rc;
    if (mhd_otel_conf_header_reserved(name->text))
        return conf_error(ps, name->line, OTEL_ERR_PARSE,
                          "header \"%s\" in \"%s\" is reserved by HTTP/2 or gRPC",
                          SHOW(name->text, a), cmd->name);
    if (!mhd_otel_conf_header_value_ok(value->text))
        return conf_error(ps, value->line, OTEL_ERR_PARSE,
                          "invalid value \"%s\" in \"%s\", only printable ASCII is allowed",
                          SHOW(value->text, a), cmd->name);
    char *key = take(&st->w[1]);
    return mhd_otel_conf_header_set(ps, target, key, take(&st->w[2]));
}

static const conf_enum otlp_compressions[] = {
    {"gzip", 1},
    {"none", 0},
    {NULL, 0},
};

static const conf_bounds positive_time = {1};

static const conf_cmd otlp_cmds[] = {
    {"endpoint", 0, 1, 1, set_str, offsetof(mhd_otel_conf, otlp_endpoint), NULL, check_endpoint},
    {"header", 0, 2, 2, set_otlp_header, 0, NULL, NULL},
    {"compression", 0, 1, 1, set_enum_bool, offsetof(mhd_otel_conf, otlp_gzip), otlp_compressions,
     NULL},
    {"timeout", 0, 1, 1, set_time, offsetof(mhd_otel_conf, otlp_timeout_ns), &positive_time, NULL},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL},
};

static const conf_exporter exporter_types[] = {
    {"console", "otel_exporter console", console_cmds, offsetof(mhd_otel_conf, console)},
    {"otlp", "otel_exporter otlp", otlp_cmds, offsetof(mhd_otel_conf, otlp)},
    {NULL, NULL, NULL, 0},
};

/* otel_exporter TYPE { ... }; post: exporter_types. */
static int set_exporter(conf_parser *ps, const conf_cmd *cmd, void *target, conf_stmt *st)
{
    char a[CONF_SHOW], hint[96];
    const mhd_otel_tok *type = &st->w[1];
    const conf_exporter *e = cmd->post;
    conf_hint h = {type->text, NULL, 0};
    for (; e->type != NULL; e++) {
        if (strcmp(e->type, type->text) == 0) {
            *(bool *)((char *)target + e->enabled) = true;
            ps->file_exporter = true;
            return parse_block(ps, e->cmds, target, e->label);
        }
        hint_try(&h, e->type);
    }
    return conf_error(ps, type->line, OTEL_ERR_PARSE, "unknown exporter type \"%s\"%s",
                      SHOW(type->text, a), hint_text(&h, hint, sizeof(hint)));
}

static const conf_bounds at_least_one = {1};
static const conf_bounds positive_signal_flush = {1000000}; /* 1 ms; "off" for none */
static const conf_bounds any_time = {0};

static const conf_cmd batch_cmds[] = {
    {"max_queue_size", 0, 1, 1, set_size, offsetof(otel_tracer_config, max_queue_size),
     &at_least_one, NULL},
    {"max_export_batch_size", 0, 1, 1, set_size,
     offsetof(otel_tracer_config, max_export_batch_size), &at_least_one, NULL},
    {"schedule_delay", 0, 1, 1, set_time, offsetof(otel_tracer_config, schedule_delay_ns),
     &any_time, NULL},
    {"export_timeout", 0, 1, 1, set_time, offsetof(otel_tracer_config, export_timeout_ns),
     &any_time, NULL},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL},
};

static const conf_cmd main_cmds[] = {
    {"otel_trace", 0, 1, 1, set_flag, offsetof(mhd_otel_conf, trace), NULL, NULL},
    {"otel_service_name", 0, 1, 1, set_str, offsetof(mhd_otel_conf, service_name), NULL,
     check_nonempty},
    {"otel_resource_attr", 0, 2, 2, set_resource_attr, 0, NULL, NULL},
    {"otel_sampler", 0, 1, 2, set_sampler, offsetof(mhd_otel_conf, sampler), NULL, NULL},
    {"otel_skip_path", 0, 1, CONF_ANY, set_strv, offsetof(mhd_otel_conf, skip_paths), NULL,
     check_path},
    {"otel_skip_prefix", 0, 1, CONF_ANY, set_strv, offsetof(mhd_otel_conf, skip_prefixes), NULL,
     check_path},
    {"otel_route", 0, 1, CONF_ANY, set_strv, offsetof(mhd_otel_conf, routes), NULL, check_route},
    {"otel_capture_request_header", 0, 1, CONF_ANY, set_strv,
     offsetof(mhd_otel_conf, capture_headers), NULL, check_header},
    {"otel_propagators", 0, 1, CONF_ANY, set_propagators, offsetof(mhd_otel_conf, propagators),
     NULL, NULL},
    {"otel_trust_incoming", 0, 1, 1, set_flag, offsetof(mhd_otel_conf, trust_incoming), NULL, NULL},
    {"otel_signal_flush", 0, 1, 1, set_time_or_off, offsetof(mhd_otel_conf, signal_flush_ns),
     &positive_signal_flush, NULL},
    {"otel_exporter", CONF_BLOCK, 1, 1, set_exporter, 0, exporter_types, NULL},
    {"otel_batch", CONF_BLOCK, 0, 0, set_block, offsetof(mhd_otel_conf, batch), batch_cmds, NULL},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL},
};

/* ---- statements and blocks ----------------------------------------------- */

static const conf_cmd *find_cmd(const conf_cmd *table, const char *name)
{
    for (; table->name != NULL; table++)
        if (strcmp(table->name, name) == 0)
            return table;
    return NULL;
}

static void remember(conf_parser *ps, const conf_cmd *cmd, size_t line)
{
    size_t i = 0;
    while (i < ps->n_seen && ps->seen[i].cmd != cmd)
        i++;
    if (i == CONF_MAX_SEEN)
        return;
    ps->seen[i].cmd = cmd;
    ps->seen[i].line = line;
    if (i == ps->n_seen)
        ps->n_seen++;
}

/* The line of the last directive name of table, or 0 if none ran. */
static size_t seen_line(const conf_parser *ps, const conf_cmd *table, const char *name)
{
    const conf_cmd *cmd = find_cmd(table, name);
    for (size_t i = 0; i < ps->n_seen; i++)
        if (ps->seen[i].cmd == cmd)
            return ps->seen[i].line;
    return 0;
}

/* The label of the top-level block whose directives include name, or NULL. */
static const char *block_home(const char *name)
{
    for (const conf_cmd *c = main_cmds; c->name != NULL; c++) {
        if (c->set == set_block && find_cmd(c->post, name) != NULL)
            return c->name;
        if (c->set != set_exporter)
            continue;
        for (const conf_exporter *e = c->post; e->type != NULL; e++)
            if (find_cmd(e->cmds, name) != NULL)
                return e->label;
    }
    return NULL;
}

static int unknown_directive(conf_parser *ps, const conf_cmd *table, const char *block,
                             const mhd_otel_tok *w)
{
    char a[CONF_SHOW], where[80] = "", hint[128];
    conf_hint h = {w->text, NULL, 0};
    for (const conf_cmd *c = table; c->name != NULL; c++)
        hint_try(&h, c->name);
    hint_text(&h, hint, sizeof(hint));
    const char *home = block == NULL && h.best == NULL ? block_home(w->text) : NULL;
    if (home != NULL)
        snprintf(hint, sizeof(hint), " (it belongs inside \"%s { ... }\")", home);
    if (block != NULL)
        snprintf(where, sizeof(where), " in \"%s\"", block);
    return conf_error(ps, w->line, OTEL_ERR_PARSE, "unknown directive \"%s\"%s%s", SHOW(w->text, a),
                      where, hint);
}

/* A statement with no words: the end of a block or of the file, or a stray
 * ";", "{" or "}". */
static int stmt_empty(conf_parser *ps, const char *block, const mhd_otel_tok *end, bool *done)
{
    switch (end->type) {
    case MHD_OTEL_TOK_EOF:
        if (block != NULL)
            return conf_error(ps, end->line, OTEL_ERR_PARSE,
                              "unexpected end of file, expecting \"}\"");
        *done = true;
        return OTEL_OK;
    case MHD_OTEL_TOK_CLOSE:
        if (block == NULL)
            return conf_error(ps, end->line, OTEL_ERR_PARSE, "unexpected \"}\"");
        *done = true;
        return OTEL_OK;
    case MHD_OTEL_TOK_SEMI:
        return conf_error(ps, end->line, OTEL_ERR_PARSE, "unexpected \";\"");
    default:
        return conf_error(ps, end->line, OTEL_ERR_PARSE, "unexpected \"{\"");
    }
}

/* A known directive name starting a line inside the arguments: the ";" of
 * the statement before it was forgotten. */
static int check_runaway(conf_parser *ps, const conf_cmd *table, const conf_stmt *st)
{
    for (size_t i = 1; i < st->n; i++) {
        const mhd_otel_tok *w = &st->w[i];
        if (w->line > st->w[i - 1].line && !w->quoted && find_cmd(table, w->text) != NULL)
            return conf_error(ps, w->line, OTEL_ERR_PARSE,
                              "unexpected \"%s\": directive \"%s\" on line %zu is not "
                              "terminated by \";\"",
                              w->text, st->w[0].text, st->w[0].line);
    }
    return OTEL_OK;
}

/* The statement ends the way cmd needs and has as many arguments. */
static int check_shape(conf_parser *ps, const conf_cmd *cmd, const conf_stmt *st)
{
    bool block = (cmd->flags & CONF_BLOCK) != 0;
    size_t line = st->end.line, argc = st->n - 1;
    switch (st->end.type) {
    case MHD_OTEL_TOK_EOF:
        return conf_error(ps, line, OTEL_ERR_PARSE,
                          "unexpected end of file, expecting \";\" or \"}\"");
    case MHD_OTEL_TOK_CLOSE:
        return conf_error(ps, line, OTEL_ERR_PARSE, "unexpected \"}\": directive \"%s\" %s",
                          cmd->name, block ? "has no opening \"{\"" : "is not terminated by \";\"");
    case MHD_OTEL_TOK_SEMI:
        if (block)
            return conf_error(ps, line, OTEL_ERR_PARSE, "directive \"%s\" has no opening \"{\"",
                              cmd->name);
        break;
    default:
        if (!block)
            return conf_error(ps, line, OTEL_ERR_PARSE,
                              "directive \"%s\" is not terminated by \";\"", cmd->name);
        break;
    }
    if (argc < cmd->min_args || argc > cmd->max_args)
        return conf_error(ps, st->w[0].line, OTEL_ERR_PARSE,
                          "invalid number of arguments in \"%s\"", cmd->name);
    return OTEL_OK;
}

static int stmt_run(conf_parser *ps, const conf_cmd *table, void *target, const char *block,
                    conf_stmt *st, bool *done)
{
    if (st->n == 0)
        return stmt_empty(ps, block, &st->end, done);
    const conf_cmd *cmd = find_cmd(table, st->w[0].text);
    if (cmd == NULL)
        return unknown_directive(ps, table, block, &st->w[0]);
    int rc = check_runaway(ps, table, st);
    if (rc == OTEL_OK)
        rc = check_shape(ps, cmd, st);
    if (rc != OTEL_OK)
        return rc;
    remember(ps, cmd, st->w[0].line);
    return cmd->set(ps, cmd, target, st);
}

/* Words up to the next ";", "{", "}" or end of file. */
static int stmt_read(conf_parser *ps, conf_stmt *st)
{
    for (;;) {
        mhd_otel_tok tok;
        int rc = mhd_otel_lex_next(&ps->lx, &tok, ps->err, ps->errlen);
        if (rc != OTEL_OK)
            return rc;
        if (tok.type != MHD_OTEL_TOK_WORD) {
            st->end = tok;
            return OTEL_OK;
        }
        if (st->n == st->cap) {
            size_t cap = st->cap != 0 ? st->cap * 2 : 8;
            mhd_otel_tok *w =
                cap < SIZE_MAX / sizeof(*w) ? otel_realloc(st->w, cap * sizeof(*w)) : NULL;
            if (w == NULL) {
                otel_free(tok.text);
                return mhd_otel_conf_nomem(ps);
            }
            st->w = w;
            st->cap = cap;
        }
        st->w[st->n++] = tok;
    }
}

static void stmt_clear(conf_stmt *st)
{
    for (size_t i = 0; i < st->n; i++)
        otel_free(st->w[i].text);
    st->n = 0;
}

/* Run statements with table's directives on target until the block's "}"
 * (block: its name) or the end of the file (block NULL). */
static int parse_block(conf_parser *ps, const conf_cmd *table, void *target, const char *block)
{
    conf_stmt st = {0};
    bool done = false;
    int rc = OTEL_OK;
    while (rc == OTEL_OK && !done) {
        rc = stmt_read(ps, &st);
        if (rc == OTEL_OK)
            rc = stmt_run(ps, table, target, block, &st, &done);
        stmt_clear(&st);
    }
    otel_free(st.w);
    return rc;
}

/* ---- whole conf ---------------------------------------------------------- */

/* Every default, in one place; the environment and the file come after. */
static int conf_defaults(conf_parser *ps, mhd_otel_conf *c)
{
    c->trace = true;
    c->trust_incoming = true;
    c->signal_flush_ns = CONF_SIGNAL_FLUSH_NS;
    (void)otel_propagators_from_names(&c->propagators, OTEL_PROPAGATORS_DEFAULT, NULL, 0);
    otel_sampler_init(&c->sampler, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0);
    otel_tracer_config_default(&c->batch);
    c->console = false;
    c->console_format = OTEL_CONSOLE_JSON;
    c->console_output = otel_strdup("stdout");
    if (c->console_output == NULL)
        return mhd_otel_conf_nomem(ps);
    c->otlp = false; /* decided in conf_exporters, after the file */
    c->otlp_endpoint = NULL;
    c->otlp_gzip = false;
    c->otlp_timeout_ns = CONF_OTLP_TIMEOUT_NS;
    return OTEL_OK;
}

/* Which exporters run: the file's otel_exporter blocks when it has any, else
 * OTEL_TRACES_EXPORTER, else OTLP (the spec's default). */
static void conf_exporters(conf_parser *ps)
{
    mhd_otel_conf *c = ps->conf;
    if (ps->file_exporter)
        return;
    if (!ps->env_exporters_set) {
        c->otlp = true;
        return;
    }
    c->otlp = (ps->env_exporters & CONF_EXPORTER_OTLP) != 0;
    c->console = (ps->env_exporters & CONF_EXPORTER_CONSOLE) != 0;
}

/* Checks across directives, once everything is read. */
static int conf_finish(conf_parser *ps)
{
    otel_tracer_config *b = &ps->conf->batch;
    conf_exporters(ps);
    b->sampler = ps->conf->sampler;
    if (b->max_export_batch_size <= b->max_queue_size)
        return OTEL_OK;
    static const char fmt[] = "max_export_batch_size %zu must not exceed max_queue_size %zu";
    size_t line = seen_line(ps, batch_cmds, "max_export_batch_size");
    if (line == 0)
        line = seen_line(ps, batch_cmds, "max_queue_size");
    if (line != 0 || (ps->env_batch == NULL && ps->env_queue == NULL))
        return conf_error(ps, line, OTEL_ERR_RANGE, fmt, b->max_export_batch_size,
                          b->max_queue_size);
    return mhd_otel_conf_env_error(ps, ps->env_batch != NULL ? ps->env_batch : ps->env_queue,
                                   OTEL_ERR_RANGE, fmt, b->max_export_batch_size,
                                   b->max_queue_size);
}

/* Defaults, environment, then the file (text NULL: none), then checks. */
static int conf_build(mhd_otel_conf **out, const char *name, const char *text, size_t len,
                      mhd_otel_env_fn env_lookup, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL) {
        mhd_otel_conf_errf(err, errlen, NULL, 0, "no place for the result");
        return OTEL_ERR_INVALID;
    }
    *out = NULL;
    conf_parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.err = err;
    ps.errlen = errlen;
    ps.conf = otel_calloc(1, sizeof(*ps.conf));
    if (ps.conf == NULL)
        return mhd_otel_conf_nomem(&ps);
    int rc = conf_defaults(&ps, ps.conf);
    if (rc == OTEL_OK)
        rc = mhd_otel_conf_env_apply(&ps, env_lookup);
    if (rc == OTEL_OK && text != NULL) {
        ps.name = name != NULL ? name : "config";
        mhd_otel_lex_init(&ps.lx, ps.name, text, len);
        rc = parse_block(&ps, main_cmds, ps.conf, NULL);
    }
    if (rc == OTEL_OK)
        rc = conf_finish(&ps);
    if (rc != OTEL_OK) {
        mhd_otel_conf_del(ps.conf);
        return rc;
    }
    *out = ps.conf;
    return OTEL_OK;
}

/* The whole file into a new buffer (*buf, the caller frees). */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        mhd_otel_conf_errf(err, errlen, path, 0, "cannot open: %s", strerror(errno));
        return OTEL_ERR_IO;
    }
    char *b = NULL;
    size_t n = 0, cap = 0;
    int rc = OTEL_OK;
    while (n <= CONF_FILE_MAX) {
        if (n == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 4096;
            ncap = ncap > CONF_FILE_MAX + 1 ? CONF_FILE_MAX + 1 : ncap;
            char *nb = otel_realloc(b, ncap);
            if (nb == NULL) {
                rc = OTEL_ERR_NOMEM;
                mhd_otel_conf_errf(err, errlen, path, 0, "out of memory");
                break;
            }
            b = nb;
            cap = ncap;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (rc == OTEL_OK && ferror(f)) {
        rc = OTEL_ERR_IO;
        mhd_otel_conf_errf(err, errlen, path, 0, "cannot read: %s", strerror(errno));
    } else if (rc == OTEL_OK && n > CONF_FILE_MAX) {
        rc = OTEL_ERR_RANGE;
        mhd_otel_conf_errf(err, errlen, path, 0, "file is larger than %d bytes", CONF_FILE_MAX);
    }
    fclose(f);
    if (rc != OTEL_OK) {
        otel_free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return OTEL_OK;
}

static const char *env_getenv(const char *name)
{
    return getenv(name);
}

int mhd_otel_conf_parse(mhd_otel_conf **out, const char *name, const char *text, size_t len,
                        mhd_otel_env_fn env_lookup, char *err, size_t errlen)
{
    return conf_build(out, name, text != NULL ? text : "", text != NULL ? len : 0, env_lookup, err,
                      errlen);
}

int mhd_otel_conf_from_env(mhd_otel_conf **out, mhd_otel_env_fn env_lookup, char *err,
                           size_t errlen)
{
    return conf_build(out, NULL, NULL, 0, env_lookup, err, errlen);
}

int mhd_otel_conf_load(mhd_otel_conf **out, const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL) {
        mhd_otel_conf_errf(err, errlen, NULL, 0, "no config file path");
        return OTEL_ERR_INVALID;
    }
    int rc = read_file(path, &text, &len, err, errlen);
    if (rc != OTEL_OK)
        return rc;
    rc = conf_build(out, path, text != NULL ? text : "", len, env_getenv, err, errlen);
    otel_free(text);
    return rc;
}

void mhd_otel_conf_del(mhd_otel_conf *conf)
{
    if (conf == NULL)
        return;
    otel_free(conf->service_name);
    for (size_t i = 0; i < conf->n_resource_attrs; i++) {
        otel_free(conf->resource_attrs[i].key);
        otel_free(conf->resource_attrs[i].value);
    }
    otel_free(conf->resource_attrs);
    strv_free(&conf->skip_paths);
    strv_free(&conf->skip_prefixes);
    strv_free(&conf->routes);
    strv_free(&conf->capture_headers);
    otel_free(conf->console_output);
    otel_free(conf->otlp_endpoint);
    mhd_otel_conf_headers_clear(conf);
    otel_free(conf);
}
