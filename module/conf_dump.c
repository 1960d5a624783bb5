/* conf_dump.c - a parsed conf written back as a config file, by walking module/conf.c's table. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mhd-otel/propagation.h>
#include "../exporter/otlp.h"
#include "conf.h"
#include "conf_int.h"

#define DUMP_INDENT "    "

/* The bytes a bare word may hold and still read back as itself. */
static bool bare_ok(const char *s)
{
    if (s[0] == '\0' || s[0] == '"' || s[0] == '\'' || s[0] == '#')
        return false;
    int depth = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= ' ' || *p == ';' || *p == 0x7f || *p == '\\')
            return false;
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth < 0)
            return false;
    }
    return depth == 0;
}

/* " WORD": s as a bare word, or quoted with its escapes. */
static void put_word(FILE *out, const char *s)
{
    fputc(' ', out);
    if (bare_ok(s)) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
        case '\\':
            fputc('\\', out);
            fputc(*p, out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        default:
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* A time in nanoseconds in the largest unit that writes it exactly. */
static void put_time(FILE *out, uint64_t ns)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {{"d", 86400000000000ULL},
                 {"h", 3600000000000ULL},
                 {"m", 60000000000ULL},
                 {"s", 1000000000ULL},
                 {"ms", 1000000ULL}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ns != 0 && ns % units[i].ns == 0) {
            fprintf(out, " %" PRIu64 "%s", ns / units[i].ns, units[i].unit);
            return;
        }
    }
    /* 0, or below a millisecond (no unit of the syntax says it): milliseconds, rounded up. */
    fprintf(out, " %" PRIu64 "ms", (ns + 999999) / 1000000);
}

/* A ratio in [0, 1] as the shortest decimal that reads back as it, no exponent. */
static void put_ratio(FILE *out, double r)
{
    char buf[64];
    for (int prec = 1; prec <= 20; prec++) {
        snprintf(buf, sizeof(buf), "%.*f", prec, r);
        double back = 0;
        if (mhd_otel_lex_ratio(buf, &back) == OTEL_OK && back == r)
            break;
    }
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '0' && buf[n - 2] != '.')
        buf[--n] = '\0';
    fprintf(out, " %s", buf);
}

/* The name of value in a conf_enum list, NULL if none. */
static const char *enum_name(const conf_enum *e, int value)
{
    for (; e != NULL && e->name != NULL; e++)
        if (e->value == value)
            return e->name;
    return NULL;
}

static void line_start(FILE *out, const char *indent, const char *name)
{
    fprintf(out, "%s%s", indent, name);
}

/* A keyed list: one statement per pair. */
static void put_kv(FILE *out, const char *indent, const conf_cmd *cmd, const mhd_otel_kv_str *v,
                   size_t n)
{
    for (size_t i = 0; i < n; i++) {
        line_start(out, indent, cmd->name);
        put_word(out, v[i].key);
        put_word(out, v[i].value);
        fputs(";\n", out);
    }
}

/* The value of a row whose field is a single value, after its name; false when the row's setter is
 * not one this file knows. */
static bool put_value(FILE *out, const conf_cmd *cmd, const void *f)
{
    if (cmd->set == mhd_otel_conf_set_flag) {
        fputs(*(const bool *)f ? " on" : " off", out);
    } else if (cmd->set == mhd_otel_conf_set_enum || cmd->set == mhd_otel_conf_set_enum_bool) {
        int v = cmd->set == mhd_otel_conf_set_enum ? *(const int *)f : *(const bool *)f;
        const char *name = enum_name(cmd->post, v);
        if (name == NULL)
            return false;
        put_word(out, name);
    } else if (cmd->set == mhd_otel_conf_set_protocol) {
        const char *name = otel_otlp_protocol_name(*(const otel_otlp_protocol *)f);
        if (name == NULL)
            return false;
        put_word(out, name);
    } else if (cmd->set == mhd_otel_conf_set_size) {
        fprintf(out, " %zu", *(const size_t *)f);
    } else if (cmd->set == mhd_otel_conf_set_time) {
        put_time(out, *(const uint64_t *)f);
    } else if (cmd->set == mhd_otel_conf_set_time_or_off) {
        if (*(const uint64_t *)f == 0)
            fputs(" off", out);
        else
            put_time(out, *(const uint64_t *)f);
    } else if (cmd->set == mhd_otel_conf_set_sampler) {
        const otel_sampler *s = f;
        put_word(out, otel_sampler_kind_name(s->kind));
        if (otel_sampler_needs_ratio(s->kind))
            put_ratio(out, s->ratio);
    } else if (cmd->set == mhd_otel_conf_set_bits) {
        unsigned bits = *(const unsigned *)f;
        for (const conf_enum *e = cmd->post; e->name != NULL; e++)
            if ((bits & (unsigned)e->value) != 0)
                put_word(out, e->name);
        if (bits == 0)
            return false;
    } else if (cmd->set == mhd_otel_conf_set_propagators) {
        const otel_propagators *p = f;
        if (p->n == 0)
            put_word(out, otel_propagator_name(OTEL_PROPAGATOR_NONE));
        for (size_t i = 0; i < p->n; i++)
            put_word(out, otel_propagator_name((otel_propagator)p->order[i]));
    } else {
        return false;
    }
    return true;
}

/* One row of a block: nothing when it holds no value (no string, an empty list). */
static int put_row(FILE *out, const char *indent, const mhd_otel_conf *c, const conf_cmd *cmd)
{
    const void *f = (const char *)c + cmd->offset;
    if (cmd->set == mhd_otel_conf_set_resource_attr) {
        put_kv(out, indent, cmd, *(mhd_otel_kv_str *const *)f,
               *(const size_t *)((const char *)f + sizeof(mhd_otel_kv_str *)));
        return OTEL_OK;
    }
    if (cmd->set == mhd_otel_conf_set_otlp_header) {
        put_kv(out, indent, cmd, *(mhd_otel_kv_str *const *)f,
               *(const size_t *)((const char *)f + sizeof(mhd_otel_kv_str *)));
        return OTEL_OK;
    }
    if (cmd->set == mhd_otel_conf_set_str) {
        const char *s = *(char *const *)f;
        if (s == NULL)
            return OTEL_OK;
        line_start(out, indent, cmd->name);
        put_word(out, s);
        fputs(";\n", out);
        return OTEL_OK;
    }
    if (cmd->set == mhd_otel_conf_set_strv) {
        const mhd_otel_strv *sv = f;
        if (sv->n == 0)
            return OTEL_OK;
        line_start(out, indent, cmd->name);
        for (size_t i = 0; i < sv->n; i++)
            put_word(out, sv->v[i]);
        fputs(";\n", out);
        return OTEL_OK;
    }
    line_start(out, indent, cmd->name);
    if (!put_value(out, cmd, f))
        return OTEL_ERR_INVALID;
    fputs(";\n", out);
    return OTEL_OK;
}

/* Every row written inside block, in the table's order. */
static int put_block(FILE *out, const char *indent, const mhd_otel_conf *c, conf_block block)
{
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++) {
        if (cmd->block != block || (cmd->flags & CONF_BLOCK) != 0)
            continue;
        int rc = put_row(out, indent, c, cmd);
        if (rc != OTEL_OK)
            return rc;
    }
    return OTEL_OK;
}

int mhd_otel_conf_dump(const mhd_otel_conf *c, FILE *out)
{
    if (c == NULL || out == NULL)
        return OTEL_ERR_INVALID;
    int rc = put_block(out, "", c, CONF_MAIN);
    if (rc == OTEL_OK && !c->otlp && !c->console)
        fputs("# no exporter runs\n", out);
    /* The blocks: an exporter's only when it runs (its settings do nothing otherwise, and its
     * block would turn it on). */
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; rc == OTEL_OK && cmd->name != NULL; cmd++) {
        if ((cmd->flags & CONF_BLOCK) == 0)
            continue;
        if (cmd->size == sizeof(bool) && !*(const bool *)((const char *)c + cmd->offset))
            continue;
        fputs(cmd->name, out);
        if (cmd->type != NULL)
            put_word(out, cmd->type);
        fputs(" {\n", out);
        rc = put_block(out, DUMP_INDENT, c, cmd->inner);
        fputs("}\n", out);
    }
    if (rc == OTEL_OK && ferror(out))
        rc = OTEL_ERR_IO;
    return rc;
}
