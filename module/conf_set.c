/* conf_set.c - the file syntax of the mhd-otel directives: the setters and checks of
 * module/conf.c's table, and the messages they give. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../core/text.h"
#include "../exporter/otlp.h"
#include "conf_int.h"
#include "prom_server.h"
#include "../core/alloc.h"

/* ---- messages ------------------------------------------------------------ */

int mhd_otel_conf_error(conf_parser *ps, size_t line, int code, const char *fmt, ...)
{
    char msg[CONF_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->where != NULL)
        mhd_otel_conf_errf(ps->err, ps->errlen, ps->where, 0, "%s", msg);
    else
        mhd_otel_conf_errf(ps->err, ps->errlen, ps->name, line, "%s", msg);
    return code;
}

int mhd_otel_conf_nomem(conf_parser *ps)
{
    mhd_otel_conf_errf(ps->err, ps->errlen, ps->name, 0, "out of memory");
    return OTEL_ERR_NOMEM;
}

const char *mhd_otel_conf_hint(const char *word, const char *const *names, size_t n, char *buf,
                               size_t cap)
{
    const char *best = NULL;
    size_t best_d = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = mhd_otel_lex_distance(word, names[i]);
        if (d <= 3 && d * 2 <= strlen(names[i]) && (best == NULL || d < best_d)) {
            best = names[i];
            best_d = d;
        }
    }
    buf[0] = '\0';
    if (best != NULL)
        snprintf(buf, cap, " (did you mean \"%s\"?)", best);
    return buf;
}

int mhd_otel_conf_duplicate(conf_parser *ps, size_t line, const char *what, size_t first)
{
    return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE,
                               "\"%s\" directive is duplicate (first at %s:%zu)", what, ps->name,
                               first);
}

static void *field(mhd_otel_conf *c, const conf_cmd *cmd)
{
    return mhd_otel_conf_field(c, cmd);
}

/* Take a word's text out of its token (the caller owns it). */
static char *take(mhd_otel_tok *tok)
{
    char *s = tok->text;
    tok->text = NULL;
    return s;
}

/* ---- lists --------------------------------------------------------------- */

int mhd_otel_conf_kv_set(conf_parser *ps, mhd_otel_kv_str **v, size_t *n, bool nocase, char *key,
                         char *value)
{
    for (size_t i = 0; i < *n; i++) {
        mhd_otel_kv_str *kv = &(*v)[i];
        if ((nocase ? strcasecmp(kv->key, key) : strcmp(kv->key, key)) == 0) {
            otel_free(kv->key);
            otel_free(kv->value);
            kv->key = key;
            kv->value = value;
            return OTEL_OK;
        }
    }
    mhd_otel_kv_str *nv = otel_realloc(*v, (*n + 1) * sizeof(*nv));
    if (nv == NULL) {
        otel_free(key);
        otel_free(value);
        return mhd_otel_conf_nomem(ps);
    }
    *v = nv;
    nv[*n].key = key;
    nv[*n].value = value;
    (*n)++;
    return OTEL_OK;
}

void mhd_otel_conf_kv_free(mhd_otel_kv_str *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        otel_free(v[i].key);
        otel_free(v[i].value);
    }
    otel_free(v);
}

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

/* ---- argument checks ----------------------------------------------------- */

int mhd_otel_conf_check_nonempty(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    if (arg->len == 0)
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE, "empty value in \"%s\"",
                                   cmd->name);
    return OTEL_OK;
}

/* HOST:PORT of a listening address, as the Prometheus endpoint takes it. */
int mhd_otel_conf_check_listen(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char why[CONF_MSG];
    int rc = mhd_otel_conf_check_nonempty(ps, cmd, arg);
    if (rc == OTEL_OK && mhd_otel_prom_addr_check(arg->text, why, sizeof(why)) != OTEL_OK) {
        mhd_otel_conf_show(why, why, sizeof(why));
        rc = mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE, "%s in \"%s\"", why, cmd->name);
    }
    return rc;
}

int mhd_otel_conf_check_path(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    if (arg->text[0] != '/')
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE,
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

int mhd_otel_conf_check_route(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    int rc = mhd_otel_conf_check_path(ps, cmd, arg);
    if (rc != OTEL_OK)
        return rc;
    const char *why = route_problem(arg->text);
    if (why != NULL)
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE,
                                   "invalid route \"%s\" in \"%s\": %s", SHOW(arg->text, a),
                                   cmd->name, why);
    return OTEL_OK;
}

/* A request header to capture: an HTTP field name, one or more tchar. */
int mhd_otel_conf_check_header_name(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg)
{
    char a[CONF_SHOW];
    if (!otel_is_token(arg->text, arg->len))
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE,
                                   "invalid header name \"%s\" in \"%s\"", SHOW(arg->text, a),
                                   cmd->name);
    return OTEL_OK;
}

/* The OTLP exporter's rules (otel_otlp_header_check). The message names the
 * header, never its value: values carry API keys. */
int mhd_otel_conf_header_check(conf_parser *ps, size_t line, const char *name, const char *value)
{
    char why[160], a[CONF_SHOW];
    if (otel_otlp_header_check(name, value, why, sizeof(why)) == OTEL_OK)
        return OTEL_OK;
    return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE, "invalid header \"%s\": %s", SHOW(name, a),
                               why);
}

/* ---- generic setters ----------------------------------------------------- */

int mhd_otel_conf_set_flag(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n)
{
    char a[CONF_SHOW];
    bool *f = field(c, cmd);
    (void)n;
    if (strcasecmp(args[0].text, "on") == 0)
        *f = true;
    else if (strcasecmp(args[0].text, "off") == 0)
        *f = false;
    else
        return mhd_otel_conf_error(ps, args[0].line, OTEL_ERR_PARSE,
                                   "invalid value \"%s\" in \"%s\", it must be \"on\" or \"off\"",
                                   SHOW(args[0].text, a), cmd->name);
    return OTEL_OK;
}

/* The value of the conf_enum (cmd->post, ending with a NULL name) named by
 * arg into *out, or an error listing the names. */
static int enum_lookup(conf_parser *ps, const conf_cmd *cmd, const mhd_otel_tok *arg, int *out)
{
    char a[CONF_SHOW], names[160];
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
    return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE,
                               "invalid value \"%s\" in \"%s\", it must be %s", SHOW(arg->text, a),
                               cmd->name, names);
}

/* post: conf_enum names; the field is an int-sized enum. */
int mhd_otel_conf_set_enum(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n)
{
    (void)n;
    return enum_lookup(ps, cmd, &args[0], (int *)field(c, cmd));
}

/* post: conf_enum names of bits, one of them (the value with the highest
 * bit, last in the table) "none", which goes alone; each argument a word or
 * a comma list (the environment's syntax). The field is an unsigned. */
int mhd_otel_conf_set_bits(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n)
{
    const conf_enum *names = cmd->post;
    size_t last = 0;
    while (names[last + 1].name != NULL)
        last++;
    unsigned bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = args[i].text;
        if (s[strspn(s, ", \t")] == '\0')
            return mhd_otel_conf_error(ps, args[i].line, OTEL_ERR_PARSE, "empty value in \"%s\"",
                                       cmd->name);
        while (*s != '\0') {
            s += strspn(s, ", \t");
            size_t len = strcspn(s, ", \t");
            if (len == 0)
                break;
            char word[32];
            mhd_otel_tok one = args[i];
            snprintf(word, sizeof(word), "%.*s", len < sizeof(word) ? (int)len : 31, s);
            one.text = word;
            int v;
            int rc = enum_lookup(ps, cmd, &one, &v);
            if (rc != OTEL_OK)
                return rc;
            bits |= (unsigned)v;
            s += len;
        }
    }
    unsigned none = (unsigned)names[last].value;
    if ((bits & none) != 0 && bits != none)
        return mhd_otel_conf_error(ps, args[0].line, OTEL_ERR_PARSE,
                                   "\"%s\" cannot be combined with other values in \"%s\"",
                                   names[last].name, cmd->name);
    *(unsigned *)field(c, cmd) = bits;
    return OTEL_OK;
}

/* The OTLP exporter's protocol names (otel_otlp_protocol_name); the field
 * is an otel_otlp_protocol. */
int mhd_otel_conf_set_protocol(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                               mhd_otel_tok *args, size_t n)
{
    conf_enum names[8];
    size_t k = 0;
    const char *name;
    (void)n;
    while (k + 1 < sizeof(names) / sizeof(names[0]) &&
           (name = otel_otlp_protocol_name((otel_otlp_protocol)k)) != NULL) {
        names[k] = (conf_enum){name, (int)k};
        k++;
    }
    names[k] = (conf_enum){NULL, 0};
    conf_cmd row = *cmd;
    row.post = names;
    return enum_lookup(ps, &row, &args[0], (int *)field(c, cmd));
}

/* post: conf_enum names with the values 0 and 1; the field is a bool. */
int mhd_otel_conf_set_enum_bool(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                mhd_otel_tok *args, size_t n)
{
    int v = 0;
    (void)n;
    int rc = enum_lookup(ps, cmd, &args[0], &v);
    if (rc == OTEL_OK)
        *(bool *)field(c, cmd) = v != 0;
    return rc;
}

/* A string; the field holds none yet. */
int mhd_otel_conf_set_str(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                          mhd_otel_tok *args, size_t n)
{
    char **f = field(c, cmd);
    (void)n;
    if (cmd->check != NULL) {
        int rc = cmd->check(ps, cmd, &args[0]);
        if (rc != OTEL_OK)
            return rc;
    }
    otel_free(*f);
    *f = take(&args[0]);
    return OTEL_OK;
}

/* Every argument appended to the mhd_otel_strv field. */
int mhd_otel_conf_set_strv(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n)
{
    mhd_otel_strv *sv = field(c, cmd);
    for (size_t i = 0; i < n; i++) {
        int rc = cmd->check != NULL ? cmd->check(ps, cmd, &args[i]) : OTEL_OK;
        if (rc == OTEL_OK)
            rc = strv_push(ps, sv, take(&args[i]));
        if (rc != OTEL_OK)
            return rc;
    }
    return OTEL_OK;
}

/* A size_t count; post: conf_bounds. */
int mhd_otel_conf_set_size(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *arg = &args[0];
    const conf_bounds *b = cmd->post;
    uint64_t v = 0;
    (void)n;
    int rc = mhd_otel_lex_size(arg->text, &v);
    SHOW(arg->text, a);
    if (rc == OTEL_ERR_PARSE)
        return mhd_otel_conf_error(ps, arg->line, rc, "invalid size \"%s\" in \"%s\"", a,
                                   cmd->name);
    if (rc != OTEL_OK || v > SIZE_MAX)
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_RANGE,
                                   "size \"%s\" in \"%s\" is too large", a, cmd->name);
    if (v < b->min)
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_RANGE,
                                   "invalid size \"%s\" in \"%s\", it must be at least %llu", a,
                                   cmd->name, (unsigned long long)b->min);
    *(size_t *)field(c, cmd) = (size_t)v;
    return OTEL_OK;
}

/* A uint64_t of nanoseconds; post: conf_bounds (in nanoseconds). */
int mhd_otel_conf_set_time(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                           mhd_otel_tok *args, size_t n)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *arg = &args[0];
    const conf_bounds *b = cmd->post;
    uint64_t v = 0;
    (void)n;
    int rc = mhd_otel_lex_time(arg->text, &v);
    SHOW(arg->text, a);
    if (rc == OTEL_ERR_PARSE)
        return mhd_otel_conf_error(ps, arg->line, rc, "invalid time \"%s\" in \"%s\"", a,
                                   cmd->name);
    if (rc != OTEL_OK)
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_RANGE,
                                   "time \"%s\" in \"%s\" is too large", a, cmd->name);
    if (v < b->min)
        return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_RANGE,
                                   "time \"%s\" in \"%s\" is too small", a, cmd->name);
    *(uint64_t *)field(c, cmd) = v;
    return OTEL_OK;
}

/* A time, or "off" for 0. */
int mhd_otel_conf_set_time_or_off(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                  mhd_otel_tok *args, size_t n)
{
    if (strcasecmp(args[0].text, "off") == 0) {
        *(uint64_t *)field(c, cmd) = 0;
        return OTEL_OK;
    }
    return mhd_otel_conf_set_time(ps, cmd, c, args, n);
}

/* ---- directive setters --------------------------------------------------- */

/* otel_resource_attr KEY VALUE: a later KEY replaces; service.name is the
 * service name (otel_service_name's field, given once). */
int mhd_otel_conf_set_resource_attr(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                    mhd_otel_tok *args, size_t n)
{
    (void)n;
    if (args[0].len == 0)
        return mhd_otel_conf_error(ps, args[0].line, OTEL_ERR_PARSE, "empty key in \"%s\"",
                                   cmd->name);
    if (strcmp(args[0].text, "service.name") == 0) {
        size_t *first = &ps->line[ps->service_row];
        if (*first != 0 && ps->attr_line == 0)
            return mhd_otel_conf_duplicate(ps, args[0].line, "otel_resource_attr service.name",
                                           *first);
        if (*first == 0)
            *first = ps->attr_line = args[0].line;
        otel_free(c->service_name);
        c->service_name = args[1].len > 0 ? take(&args[1]) : NULL; /* empty: the default */
        return OTEL_OK;
    }
    char *key = take(&args[0]);
    return mhd_otel_conf_kv_set(ps, &c->resource_attrs, &c->n_resource_attrs, false, key,
                                take(&args[1]));
}

static int unknown_sampler(conf_parser *ps, size_t line, const char *name)
{
    char a[CONF_SHOW], hint[96];
    const char *names[OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO + 1];
    size_t n = 0;
    for (int k = OTEL_SAMPLER_ALWAYS_ON; k <= OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO; k++)
        names[n++] = otel_sampler_kind_name((otel_sampler_kind)k);
    return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE, "unknown sampler \"%s\"%s", SHOW(name, a),
                               mhd_otel_conf_hint(name, names, n, hint, sizeof(hint)));
}

/* otel_sampler NAME [RATIO]. */
int mhd_otel_conf_set_sampler(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                              mhd_otel_tok *args, size_t n)
{
    char a[CONF_SHOW];
    const mhd_otel_tok *name = &args[0];
    otel_sampler_kind kind;
    double ratio = 1.0;
    if (otel_sampler_kind_from_name(name->text, &kind) != OTEL_OK)
        return unknown_sampler(ps, name->line, name->text);
    if (otel_sampler_needs_ratio(kind) && n != 2)
        return mhd_otel_conf_error(ps, name->line, OTEL_ERR_PARSE,
                                   "invalid number of arguments in \"%s\": sampler \"%s\" needs "
                                   "a ratio between 0 and 1",
                                   cmd->name, name->text);
    if (!otel_sampler_needs_ratio(kind) && n != 1)
        return mhd_otel_conf_error(ps, args[1].line, OTEL_ERR_PARSE,
                                   "invalid number of arguments in \"%s\": sampler \"%s\" takes "
                                   "no ratio",
                                   cmd->name, name->text);
    if (n == 2) {
        int rc = mhd_otel_lex_ratio(args[1].text, &ratio);
        SHOW(args[1].text, a);
        if (rc == OTEL_ERR_PARSE)
            return mhd_otel_conf_error(ps, args[1].line, rc, "invalid ratio \"%s\" in \"%s\"", a,
                                       cmd->name);
        if (rc != OTEL_OK)
            return mhd_otel_conf_error(
                ps, args[1].line, rc,
                "invalid ratio \"%s\" in \"%s\", ratio must be between 0 and 1", a, cmd->name);
    }
    if (otel_sampler_init(field(c, cmd), kind, ratio) != OTEL_OK)
        return mhd_otel_conf_error(ps, name->line, OTEL_ERR_RANGE, "ratio must be between 0 and 1");
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

/* The propagator set named by list (names separated by commas and/or
 * blanks) into *out; an unknown name comes with a "did you mean". */
static int propagators_parse(conf_parser *ps, size_t line, const char *list, otel_propagators *out)
{
    char a[CONF_SHOW], hint[96], why[CONF_SHOW + 128];
    if (otel_propagators_from_names(out, list, why, sizeof(why)) == OTEL_OK)
        return OTEL_OK;
    size_t n = 0;
    const char *bad = unknown_propagator(list, &n);
    if (bad != NULL) {
        const char *names[OTEL_PROPAGATOR_B3MULTI + 1];
        size_t k = n < sizeof(a) ? n : sizeof(a) - 1, nn = 0;
        memcpy(a, bad, k);
        a[k] = '\0';
        for (int kind = OTEL_PROPAGATOR_NONE; kind <= OTEL_PROPAGATOR_B3MULTI; kind++)
            names[nn++] = otel_propagator_name((otel_propagator)kind);
        mhd_otel_conf_hint(a, names, nn, hint, sizeof(hint));
        snprintf(why, sizeof(why), "unknown propagator \"%s\"%s", SHOW(a, a), hint);
    }
    return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE, "%s", why);
}

/* otel_propagators NAME...: names also separated by commas. */
int mhd_otel_conf_set_propagators(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                  mhd_otel_tok *args, size_t n)
{
    otel_propagators all = {0}, one;
    bool none = false;
    for (size_t i = 0; i < n; i++) {
        const mhd_otel_tok *arg = &args[i];
        if (arg->text[strspn(arg->text, ", \t\r\n")] == '\0')
            return mhd_otel_conf_error(ps, arg->line, OTEL_ERR_PARSE, "empty value in \"%s\"",
                                       cmd->name);
        int rc = propagators_parse(ps, arg->line, arg->text, &one);
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
        return mhd_otel_conf_error(ps, args[0].line, OTEL_ERR_PARSE,
                                   "propagator \"none\" given with others in \"%s\"", cmd->name);
    *(otel_propagators *)field(c, cmd) = all;
    return OTEL_OK;
}

/* header NAME VALUE inside otel_exporter otlp: a later NAME (any case)
 * replaces an earlier one. */
int mhd_otel_conf_set_otlp_header(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                                  mhd_otel_tok *args, size_t n)
{
    (void)cmd;
    (void)n;
    int rc = mhd_otel_conf_header_check(ps, args[0].line, args[0].text, args[1].text);
    if (rc != OTEL_OK)
        return rc;
    char *key = take(&args[0]);
    return mhd_otel_conf_kv_set(ps, &c->otlp_headers, &c->n_otlp_headers, true, key,
                                take(&args[1]));
}
