/* conf_env.c - the OpenTelemetry SDK environment variables (OTEL_*) of module/conf.c's table:
 * their syntax, and reading them with an invalid value warned about and ignored. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

#include "../core/text.h"
#include "../core/alloc.h"
#include "../core/log.h"

#define NS_PER_MS 1000000ULL

/* ---- values -------------------------------------------------------------- */

/* Blank here is wider than HTTP's OWS (text.h): a value may come from a
 * shell file or a container spec with its line end (CR, LF) kept, so those
 * are trimmed too. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

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

/* Copy of s without the blanks around it, ASCII lowercased when lower, into
 * buf; false when it does not fit. */
static bool trim_copy(const char *s, bool lower, char *buf, size_t cap)
{
    size_t n = strlen(s);
    trim(&s, &n);
    if (n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        buf[i] = lower && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    buf[n] = '\0';
    return true;
}

/* A whole number of at least min, at most max (the value trimmed). */
static int env_uint(conf_parser *ps, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char a[CONF_SHOW], buf[32];
    SHOW(v, a);
    int rc = trim_copy(v, false, buf, sizeof(buf)) ? mhd_otel_lex_uint(buf, out) : OTEL_ERR_PARSE;
    if (rc == OTEL_ERR_RANGE || (rc == OTEL_OK && *out > max))
        return mhd_otel_conf_error(ps, 0, OTEL_ERR_RANGE, "number \"%s\" is too large", a);
    if (rc != OTEL_OK || *out < min)
        return mhd_otel_conf_error(ps, 0, rc != OTEL_OK ? rc : OTEL_ERR_RANGE,
                                   "expected a %s integer, got \"%s\"",
                                   min > 0 ? "positive" : "non-negative", a);
    return OTEL_OK;
}

/* The file's setter of cmd with s as its one argument (a copy). */
static int set_word(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *s, size_t n)
{
    mhd_otel_tok tok = {MHD_OTEL_TOK_WORD, otel_malloc(n + 1), n, 0, false};
    if (tok.text == NULL)
        return mhd_otel_conf_nomem(ps);
    memcpy(tok.text, s, n);
    tok.text[n] = '\0';
    int rc = cmd->set(ps, cmd, c, &tok, 1);
    otel_free(tok.text);
    return rc;
}

/* ---- setters ------------------------------------------------------------- */

/* A Boolean of the environment specification ("Configuration types"):
 * true or false, in any case. */
static int env_boolean(conf_parser *ps, const char *value, bool *out)
{
    char a[CONF_SHOW], buf[8];
    bool ok = trim_copy(value, true, buf, sizeof(buf));
    if (ok && (strcmp(buf, "true") == 0 || strcmp(buf, "false") == 0)) {
        *out = strcmp(buf, "true") == 0;
        return OTEL_OK;
    }
    return mhd_otel_conf_error(ps, 0, OTEL_ERR_PARSE, "expected \"true\" or \"false\", got \"%s\"",
                               SHOW(value, a));
}

/* OTEL_SDK_DISABLED: true turns tracing off. */
int mhd_otel_conf_env_disabled(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                               const char *var, const char *value)
{
    bool v;
    (void)var;
    int rc = env_boolean(ps, value, &v);
    if (rc == OTEL_OK)
        *(bool *)mhd_otel_conf_field(c, cmd) = !v;
    return rc;
}

/* A Boolean variable for a flag. */
int mhd_otel_conf_env_bool(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                           const char *value)
{
    bool v;
    (void)var;
    int rc = env_boolean(ps, value, &v);
    if (rc == OTEL_OK)
        *(bool *)mhd_otel_conf_field(c, cmd) = v;
    return rc;
}

/* The value as it is, one word of the file's syntax. */
int mhd_otel_conf_env_raw(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                          const char *value)
{
    (void)var;
    return set_word(ps, cmd, c, value, strlen(value));
}

/* The value trimmed and ASCII lowercased, one word of the file's syntax. */
int mhd_otel_conf_env_lower(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                            const char *value)
{
    char buf[64];
    (void)var;
    if (!trim_copy(value, true, buf, sizeof(buf)))
        buf[0] = '?', buf[1] = '\0'; /* longer than any name */
    return set_word(ps, cmd, c, buf, strlen(buf));
}

/* The value trimmed, one word of the file's syntax (no env_set in a row). */
static int env_word(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                    const char *value)
{
    size_t n = strlen(value);
    (void)var;
    trim(&value, &n);
    return set_word(ps, cmd, c, value, n);
}

static void warn(conf_parser *ps, const char *msg)
{
    (void)ps;
    otel_log(OTEL_LOG_WARN, "%s; ignored", msg);
}

/* OTEL_TRACES_SAMPLER, with OTEL_TRACES_SAMPLER_ARG for the ratio samplers
 * (default 1; an invalid one is warned about, and 1 is used). */
int mhd_otel_conf_env_sampler(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c,
                              const char *var, const char *value)
{
    static const char arg_var[] = "OTEL_TRACES_SAMPLER_ARG";
    char buf[48], msg[CONF_MSG], a[CONF_SHOW];
    mhd_otel_tok args[2] = {{MHD_OTEL_TOK_WORD, buf, 0, 0, false},
                            {MHD_OTEL_TOK_WORD, NULL, 0, 0, false}};
    otel_sampler_kind kind;
    (void)var;
    if (!trim_copy(value, true, buf, sizeof(buf)))
        snprintf(buf, sizeof(buf), "%s", SHOW(value, a));
    const char *arg = ps->env_lookup(arg_var);
    char ratio[48] = "1";
    if (otel_sampler_kind_from_name(buf, &kind) == OTEL_OK && otel_sampler_needs_ratio(kind) &&
        arg != NULL && *arg != '\0') {
        double r;
        if (!trim_copy(arg, true, ratio, sizeof(ratio)) ||
            mhd_otel_lex_ratio(ratio, &r) != OTEL_OK) {
            snprintf(msg, sizeof(msg),
                     "environment %s: expected a ratio between 0 and 1, got \"%s\"", arg_var,
                     SHOW(arg, a));
            warn(ps, msg);
            snprintf(ratio, sizeof(ratio), "1");
        }
    }
    args[1].text = ratio;
    size_t n = otel_sampler_kind_from_name(buf, &kind) == OTEL_OK && otel_sampler_needs_ratio(kind)
                   ? 2
                   : 1;
    int rc = cmd->set(ps, cmd, c, args, n);
    return rc;
}

/* A count of at least the row's bounds (a size_t). */
int mhd_otel_conf_env_count(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                            const char *value)
{
    const conf_bounds *b = cmd->post;
    uint64_t n = 0;
    (void)var;
    int rc = env_uint(ps, value, b->min, SIZE_MAX, &n);
    if (rc == OTEL_OK)
        *(size_t *)mhd_otel_conf_field(c, cmd) = (size_t)n;
    return rc;
}

/* Milliseconds into a time of nanoseconds, at least the row's bounds. */
int mhd_otel_conf_env_ms(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                         const char *value)
{
    const conf_bounds *b = cmd->post;
    uint64_t n = 0, min = (b->min + NS_PER_MS - 1) / NS_PER_MS;
    (void)var;
    int rc = env_uint(ps, value, min, UINT64_MAX / NS_PER_MS, &n);
    if (rc == OTEL_OK)
        *(uint64_t *)mhd_otel_conf_field(c, cmd) = n * NS_PER_MS;
    return rc;
}

/* s[0..n) percent-decoded into a new string (*out, the caller frees).
 * secret: the message does not quote s. */
static int pct_decode(conf_parser *ps, const char *s, size_t n, bool secret, char **out)
{
    char a[CONF_SHOW];
    char *d = otel_malloc(n + 1);
    if (d == NULL)
        return mhd_otel_conf_nomem(ps);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            d[j++] = s[i];
            continue;
        }
        int b = otel_pct_byte(s + i, n - i);
        if (b <= 0) { /* %00 too: the value is a C string */
            otel_free(d);
            if (secret)
                return OTEL_ERR_PARSE; /* the caller says which */
            return mhd_otel_conf_error(ps, 0, OTEL_ERR_PARSE, "invalid percent-encoding at \"%s\"",
                                       show_part(s + i, n - i, a, sizeof(a)));
        }
        d[j++] = (char)b;
        i += 2;
    }
    d[j] = '\0';
    *out = d;
    return OTEL_OK;
}

/* The list field of a CONF_KEYED row. */
typedef struct conf_kv_list {
    mhd_otel_kv_str *v;
    size_t n;
} conf_kv_list;

_Static_assert(offsetof(mhd_otel_conf, n_resource_attrs) ==
                   offsetof(mhd_otel_conf, resource_attrs) + offsetof(conf_kv_list, n),
               "a CONF_KEYED field is a conf_kv_list");
_Static_assert(offsetof(mhd_otel_conf, n_otlp_headers) ==
                   offsetof(mhd_otel_conf, otlp_headers) + offsetof(conf_kv_list, n),
               "a CONF_KEYED field is a conf_kv_list");

/* One "key=value" member s[0..n): the key trimmed, the value trimmed and
 * percent-decoded. An OTLP header's value is never quoted. */
static int kv_member(conf_parser *ps, const conf_cmd *cmd, conf_kv_list *l, const char *s, size_t n)
{
    char a[CONF_SHOW];
    bool headers = (cmd->flags & CONF_HEADERS) != 0;
    trim(&s, &n);
    if (n == 0)
        return OTEL_OK;
    const char *eq = memchr(s, '=', n);
    size_t klen = eq != NULL ? (size_t)(eq - s) : 0;
    trim(&s, &klen);
    if ((eq == NULL || klen == 0) && headers) /* the member may be a value: not quoted */
        return mhd_otel_conf_error(ps, 0, OTEL_ERR_PARSE, "invalid member, expected name=value");
    if (eq == NULL || klen == 0)
        return mhd_otel_conf_error(ps, 0, OTEL_ERR_PARSE,
                                   "invalid member \"%s\", expected key=value",
                                   show_part(s, n, a, sizeof(a)));
    const char *v = eq + 1;
    size_t vlen = (size_t)(s + n - v);
    trim(&v, &vlen);
    char *key = NULL, *value = NULL;
    int rc = pct_decode(ps, s, klen, false, &key);
    if (rc == OTEL_OK)
        rc = pct_decode(ps, v, vlen, headers, &value);
    if (rc == OTEL_ERR_PARSE && headers && key != NULL)
        rc = mhd_otel_conf_error(ps, 0, rc,
                                 "invalid header \"%s\": invalid percent-encoding in "
                                 "its value",
                                 SHOW(key, a));
    if (rc == OTEL_OK && headers)
        rc = mhd_otel_conf_header_check(ps, 0, key, value);
    if (rc != OTEL_OK) {
        otel_free(key);
        otel_free(value);
        return rc;
    }
    return mhd_otel_conf_kv_set(ps, &l->v, &l->n, headers, key, value);
}

/* key1=value1,key2=value2 (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS). */
int mhd_otel_conf_env_kv(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *c, const char *var,
                         const char *s)
{
    conf_kv_list *l = mhd_otel_conf_field(c, cmd);
    (void)var;
    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        int rc = kv_member(ps, cmd, l, s, n);
        if (rc != OTEL_OK)
            return rc;
        s = comma != NULL ? comma + 1 : s + n;
    }
    return OTEL_OK;
}

/* ---- the environment-only variables -------------------------------------- */

/* OTEL_TRACES_EXPORTER: a comma list of otlp, console, or just none; it sets
 * the rows of the otel_exporter blocks. */
static int env_exporters(conf_parser *ps, mhd_otel_conf *c, const char *s)
{
    char a[CONF_SHOW], name[16];
    bool none = false, named = false, on[2] = {false, false};
    static const char *const types[2] = {"otlp", "console"};
    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
        const char *m = s;
        s = comma != NULL ? comma + 1 : s + n;
        trim(&m, &n);
        if (n == 0)
            continue;
        show_part(m, n, a, sizeof(a));
        if (!trim_copy(a, true, name, sizeof(name)))
            name[0] = '\0';
        named = true;
        if (strcmp(name, "none") == 0) {
            none = true;
            continue;
        }
        size_t k = strcmp(name, types[0]) == 0 ? 0 : strcmp(name, types[1]) == 0 ? 1 : 2;
        if (k == 2)
            return mhd_otel_conf_error(ps, 0, OTEL_ERR_PARSE, "unknown exporter \"%s\"", a);
        on[k] = true;
    }
    if (none && (on[0] || on[1]))
        return mhd_otel_conf_error(ps, 0, OTEL_ERR_PARSE,
                                   "\"none\" cannot be combined with other exporters");
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; named && cmd->name != NULL; cmd++) {
        for (size_t k = 0; k < 2 && (cmd->flags & CONF_EXPORTER) != 0; k++) {
            if (strcmp(cmd->type, types[k]) != 0)
                continue;
            *(bool *)mhd_otel_conf_field(c, cmd) = on[k];
            ps->env_set[cmd - mhd_otel_conf_cmds] = true;
        }
    }
    return OTEL_OK;
}

/* ---- reading ------------------------------------------------------------- */

/* A variable's value; unset and empty are the same. */
static const char *env_get(conf_parser *ps, const char *var)
{
    const char *v = ps->env_lookup != NULL && var != NULL ? ps->env_lookup(var) : NULL;
    return v != NULL && *v != '\0' ? v : NULL;
}

/* Run one variable's setter (cmd NULL: OTEL_TRACES_EXPORTER's) with
 * messages as "environment VAR: ..."; a failure other than memory is logged
 * and its value dropped. Returns 0 or OTEL_ERR_NOMEM. */
static int env_one(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *env, const char *var,
                   const char *value)
{
    char where[96], msg[CONF_MSG + 96];
    char *err = ps->err;
    size_t errlen = ps->errlen;
    snprintf(where, sizeof(where), "environment %s", var);
    ps->where = where;
    ps->err = msg;
    ps->errlen = sizeof(msg);
    conf_env_fn set =
        cmd == NULL || cmd->env_set != NULL ? (cmd != NULL ? cmd->env_set : NULL) : env_word;
    int rc = set != NULL ? set(ps, cmd, env, var, value) : env_exporters(ps, env, value);
    ps->where = NULL;
    ps->err = err;
    ps->errlen = errlen;
    if (rc == OTEL_ERR_NOMEM)
        return mhd_otel_conf_nomem(ps);
    if (rc == OTEL_OK && cmd != NULL)
        ps->env_set[cmd - mhd_otel_conf_cmds] = true;
    if (rc != OTEL_OK) {
        warn(ps, msg);
        if (cmd != NULL)
            mhd_otel_conf_field_drop(env, cmd);
    }
    return OTEL_OK;
}

/* service.name of OTEL_RESOURCE_ATTRIBUTES is the service name, unless
 * OTEL_SERVICE_NAME gave one; an empty one is none. */
static void env_service_attr(conf_parser *ps, mhd_otel_conf *env)
{
    for (size_t i = 0; i < env->n_resource_attrs; i++) {
        mhd_otel_kv_str kv = env->resource_attrs[i];
        if (strcmp(kv.key, "service.name") != 0)
            continue;
        memmove(&env->resource_attrs[i], &env->resource_attrs[i + 1],
                (env->n_resource_attrs - i - 1) * sizeof(kv));
        env->n_resource_attrs--;
        otel_free(kv.key);
        if (!ps->env_set[ps->service_row] && kv.value[0] != '\0') {
            env->service_name = kv.value;
            ps->env_set[ps->service_row] = true;
        } else {
            otel_free(kv.value);
        }
        return;
    }
}

int mhd_otel_conf_env_read(conf_parser *ps, mhd_otel_conf *env)
{
    int rc = OTEL_OK;
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; rc == OTEL_OK && cmd->name != NULL; cmd++) {
        const char *var = cmd->env[0], *v = env_get(ps, var);
        if (v == NULL && cmd->env[1] != NULL)
            v = env_get(ps, var = cmd->env[1]);
        if (v != NULL)
            rc = env_one(ps, cmd, env, var, v);
    }
    const char *v = env_get(ps, "OTEL_TRACES_EXPORTER");
    if (rc == OTEL_OK && v != NULL)
        rc = env_one(ps, NULL, env, "OTEL_TRACES_EXPORTER", v);
    if (rc == OTEL_OK)
        env_service_attr(ps, env);
    return rc;
}
