/* conf.c - the mhd-otel directive table, and the loader: the file read into a conf of its own,
 * the OTEL_* environment into another, then one merge (file, else environment, else default). */
#include "conf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"
#include "../core/alloc.h"
#include "../core/log.h"

#define CONF_FILE_MAX (1024 * 1024) /* bytes of a config file read at most */
#define CONF_DEFAULT_WORDS 4        /* words of a row's default at most */

/* One statement: w[0] is the directive name, w[1..n-1] its arguments; end
 * is the token that ended it (";", "{", "}" or end of file). */
typedef struct conf_stmt {
    mhd_otel_tok *w;
    size_t n, cap;
    mhd_otel_tok end;
} conf_stmt;

/* ---- the table ----------------------------------------------------------- */

static const conf_enum console_formats[] = {
    {"json", OTEL_CONSOLE_JSON},
    {"pretty", OTEL_CONSOLE_PRETTY},
    {NULL, 0},
};

_Static_assert(sizeof(otel_console_format) == sizeof(int), "set_enum writes an int");

static const conf_enum otlp_compressions[] = {
    {"gzip", 1},
    {"none", 0},
    {NULL, 0},
};

/* Bits of otel_metrics' exporter; "none" last (mhd_otel_conf_set_bits). */
static const conf_enum metrics_exporters[] = {
    {"otlp", MHD_OTEL_METRICS_OTLP},
    {"prometheus", MHD_OTEL_METRICS_PROMETHEUS},
    {"console", MHD_OTEL_METRICS_CONSOLE},
    {"none", MHD_OTEL_METRICS_NONE},
    {NULL, 0},
};

/* OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE's values
 * (otel_temporality_pref_from_name reads the same). */
static const conf_enum temporalities[] = {
    {"cumulative", OTEL_TEMPORALITY_PREF_CUMULATIVE},
    {"delta", OTEL_TEMPORALITY_PREF_DELTA},
    {"lowmemory", OTEL_TEMPORALITY_PREF_LOWMEMORY},
    {NULL, 0},
};

_Static_assert(sizeof(otel_temporality_pref) == sizeof(int), "set_enum writes an int");

static const conf_bounds at_least_one = {1};
static const conf_bounds any_time = {0};
static const conf_bounds positive_time = {1};
static const conf_bounds positive_signal_flush = {1000000}; /* 1 ms; "off" for none */
static const conf_bounds positive_keep_time = {1000000};    /* 1 ms; "off" for none */

/* A CONF_KEYED list: the array and its count after it. */
#define CONF_KV_FIELD(f, n)                                                                        \
    .offset = offsetof(mhd_otel_conf, f),                                                          \
    .size = offsetof(mhd_otel_conf, n) + sizeof(size_t) - offsetof(mhd_otel_conf, f)

const conf_cmd mhd_otel_conf_cmds[] = {
    {.name = "otel_trace",
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(trace),
     .env = {"OTEL_SDK_DISABLED"},
     .env_set = mhd_otel_conf_env_disabled,
     .def = "on"},
    {.name = "otel_service_name",
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(service_name),
     .env = {"OTEL_SERVICE_NAME"},
     .env_set = mhd_otel_conf_env_raw},
    {.name = "otel_resource_attr",
     .flags = CONF_TAKE2 | CONF_LIST | CONF_KEYED,
     .set = mhd_otel_conf_set_resource_attr,
     CONF_KV_FIELD(resource_attrs, n_resource_attrs),
     .env = {"OTEL_RESOURCE_ATTRIBUTES"},
     .env_set = mhd_otel_conf_env_kv},
    {.name = "otel_sampler",
     .flags = CONF_TAKE12,
     .set = mhd_otel_conf_set_sampler,
     CONF_FIELD(sampler),
     .env = {"OTEL_TRACES_SAMPLER"}, /* and OTEL_TRACES_SAMPLER_ARG */
     .env_set = mhd_otel_conf_env_sampler,
     .def = "parentbased_always_on"},
    {.name = "otel_skip_path",
     .flags = CONF_1MORE | CONF_LIST,
     .set = mhd_otel_conf_set_strv,
     .check = mhd_otel_conf_check_path,
     CONF_FIELD(skip_paths)},
    {.name = "otel_skip_prefix",
     .flags = CONF_1MORE | CONF_LIST,
     .set = mhd_otel_conf_set_strv,
     .check = mhd_otel_conf_check_path,
     CONF_FIELD(skip_prefixes)},
    {.name = "otel_route",
     .flags = CONF_1MORE | CONF_LIST,
     .set = mhd_otel_conf_set_strv,
     .check = mhd_otel_conf_check_route,
     CONF_FIELD(routes)},
    {.name = "otel_capture_request_header",
     .flags = CONF_1MORE | CONF_LIST,
     .set = mhd_otel_conf_set_strv,
     .check = mhd_otel_conf_check_header_name,
     CONF_FIELD(capture_headers)},
    {.name = "otel_propagators",
     .flags = CONF_1MORE,
     .set = mhd_otel_conf_set_propagators,
     CONF_FIELD(propagators),
     .env = {"OTEL_PROPAGATORS"},
     .def = OTEL_PROPAGATORS_DEFAULT},
    {.name = "otel_trust_incoming",
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(trust_incoming),
     .def = "on"},
    {.name = "otel_signal_flush",
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time_or_off,
     .post = &positive_signal_flush,
     CONF_FIELD(signal_flush_ns),
     .def = "1s"},
    /* The keep decision: no OTEL_* variable says it. */
    {.name = "otel_keep_errors",
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(keep_errors),
     .def = "off"},
    {.name = "otel_keep_slower_than",
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time_or_off,
     .post = &positive_keep_time,
     CONF_FIELD(keep_slower_than_ns),
     .def = "off"},
    /* An exporter's block turns it on; its default says whether it runs
     * when neither the file nor OTEL_TRACES_EXPORTER names an exporter. */
    {.name = "otel_exporter",
     .type = "otlp",
     .inner = CONF_OTLP,
     .flags = CONF_TAKE1 | CONF_BLOCK | CONF_EXPORTER,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(otlp),
     .def = "on"},
    {.name = "otel_exporter",
     .type = "console",
     .inner = CONF_CONSOLE,
     .flags = CONF_TAKE1 | CONF_BLOCK | CONF_EXPORTER,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(console)},
    {.name = "otel_batch", .inner = CONF_BATCH, .flags = CONF_NOARGS | CONF_BLOCK},
    {.name = "otel_metrics", .inner = CONF_METRICS, .flags = CONF_NOARGS | CONF_BLOCK},

    {.name = "protocol",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_protocol,
     CONF_FIELD(otlp_protocol),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"},
     .env_set = mhd_otel_conf_env_lower,
     .def = "grpc"},
    /* Checked with the protocol once merged (check_otlp). */
    {.name = "endpoint",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(otlp_endpoint), /* NULL: the exporter's, by protocol */
     .env = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}},
    {.name = "insecure",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(otlp_insecure),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE"},
     .env_set = mhd_otel_conf_env_bool,
     .def = "off"},
    {.name = "ca_file",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(otlp_ca_file),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"},
     .env_set = mhd_otel_conf_env_raw},
    {.name = "client_cert",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(otlp_client_cert),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
             "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"},
     .env_set = mhd_otel_conf_env_raw},
    {.name = "client_key",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(otlp_client_key),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY"},
     .env_set = mhd_otel_conf_env_raw},
    {.name = "tls_verify",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(otlp_tls_verify),
     .def = "on"},
    {.name = "header",
     .block = CONF_OTLP,
     .flags = CONF_TAKE2 | CONF_LIST | CONF_KEYED | CONF_HEADERS,
     .set = mhd_otel_conf_set_otlp_header,
     CONF_KV_FIELD(otlp_headers, n_otlp_headers),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"},
     .env_set = mhd_otel_conf_env_kv},
    {.name = "compression",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_enum_bool,
     .post = otlp_compressions,
     CONF_FIELD(otlp_gzip),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"},
     .env_set = mhd_otel_conf_env_lower,
     .def = "none"},
    {.name = "timeout",
     .block = CONF_OTLP,
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time,
     .post = &positive_time,
     CONF_FIELD(otlp_timeout_ns),
     .env = {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"},
     .env_set = mhd_otel_conf_env_ms,
     .def = "10s"},

    {.name = "format",
     .block = CONF_CONSOLE,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_enum,
     .post = console_formats,
     CONF_FIELD(console_format),
     .def = "json"},
    {.name = "output",
     .block = CONF_CONSOLE,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(console_output),
     .def = "stdout"},

    /* otel_batch: no .def, the core's otel_tracer_config_default is it. */
    {.name = "max_queue_size",
     .block = CONF_BATCH,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_size,
     .post = &at_least_one,
     CONF_FIELD(batch.max_queue_size),
     .env = {"OTEL_BSP_MAX_QUEUE_SIZE"},
     .env_set = mhd_otel_conf_env_count},
    {.name = "max_export_batch_size",
     .block = CONF_BATCH,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_size,
     .post = &at_least_one,
     CONF_FIELD(batch.max_export_batch_size),
     .env = {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE"},
     .env_set = mhd_otel_conf_env_count},
    {.name = "schedule_delay",
     .block = CONF_BATCH,
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time,
     .post = &any_time,
     CONF_FIELD(batch.schedule_delay_ns),
     .env = {"OTEL_BSP_SCHEDULE_DELAY"},
     .env_set = mhd_otel_conf_env_ms},
    {.name = "export_timeout",
     .block = CONF_BATCH,
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time,
     .post = &any_time,
     CONF_FIELD(batch.export_timeout_ns),
     .env = {"OTEL_BSP_EXPORT_TIMEOUT"},
     .env_set = mhd_otel_conf_env_ms},

    /* otel_metrics; which exporters run is settled with the others
     * (check_metrics). */
    {.name = "exporter",
     .block = CONF_METRICS,
     .flags = CONF_1MORE,
     .set = mhd_otel_conf_set_bits,
     .post = metrics_exporters,
     CONF_FIELD(metrics_exporters),
     .env = {"OTEL_METRICS_EXPORTER"},
     .env_set = mhd_otel_conf_env_lower},
    {.name = "interval",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time,
     .post = &positive_time,
     CONF_FIELD(metrics_interval_ns),
     .env = {"OTEL_METRIC_EXPORT_INTERVAL"},
     .env_set = mhd_otel_conf_env_ms,
     .def = "60s"},
    {.name = "timeout",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1 | CONF_TIME,
     .set = mhd_otel_conf_set_time,
     .post = &positive_time,
     CONF_FIELD(metrics_timeout_ns),
     .env = {"OTEL_METRIC_EXPORT_TIMEOUT"},
     .env_set = mhd_otel_conf_env_ms,
     .def = "30s"},
    {.name = "temporality",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_enum,
     .post = temporalities,
     CONF_FIELD(metrics_temporality),
     .env = {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"},
     .env_set = mhd_otel_conf_env_lower,
     .def = "cumulative"},
    /* Checked with the otlp block's protocol once merged (check_metrics). */
    {.name = "endpoint",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_nonempty,
     CONF_FIELD(metrics_endpoint),
     .env = {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"}},
    {.name = "prometheus",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_str,
     .check = mhd_otel_conf_check_listen,
     CONF_FIELD(metrics_prometheus)},
    {.name = "cardinality_limit",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_size,
     .post = &at_least_one,
     CONF_FIELD(metrics_cardinality),
     .def = "2000"},
    {.name = "record_skipped",
     .block = CONF_METRICS,
     .flags = CONF_TAKE1,
     .set = mhd_otel_conf_set_flag,
     CONF_FIELD(metrics_skipped),
     .def = "off"},
    {.name = NULL},
};

#define CONF_ROWS (sizeof(mhd_otel_conf_cmds) / sizeof(mhd_otel_conf_cmds[0]) - 1)

static const char *const block_labels[] = {
    [CONF_MAIN] = NULL,
    [CONF_BATCH] = "otel_batch",
    [CONF_CONSOLE] = "otel_exporter console",
    [CONF_OTLP] = "otel_exporter otlp",
    [CONF_METRICS] = "otel_metrics",
};

void *mhd_otel_conf_field(mhd_otel_conf *conf, const conf_cmd *cmd)
{
    return (char *)conf + cmd->offset;
}

const conf_cmd *mhd_otel_conf_row(size_t offset)
{
    const conf_cmd *cmd = mhd_otel_conf_cmds;
    while (cmd->name != NULL && (cmd->size == 0 || cmd->offset != offset))
        cmd++;
    return cmd;
}

/* Every string and list c owns freed; c itself is not. */
static void conf_clear(mhd_otel_conf *c)
{
    mhd_otel_strv *lists[] = {&c->skip_paths, &c->skip_prefixes, &c->routes, &c->capture_headers};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        for (size_t i = 0; i < lists[l]->n; i++)
            otel_free(lists[l]->v[i]);
        otel_free(lists[l]->v);
    }
    otel_free(c->service_name);
    mhd_otel_conf_kv_free(c->resource_attrs, c->n_resource_attrs);
    otel_free(c->console_output);
    otel_free(c->otlp_endpoint);
    otel_free(c->otlp_ca_file);
    otel_free(c->otlp_client_cert);
    otel_free(c->otlp_client_key);
    mhd_otel_conf_kv_free(c->otlp_headers, c->n_otlp_headers);
    otel_free(c->metrics_endpoint);
    otel_free(c->metrics_prometheus);
}

void mhd_otel_conf_field_drop(mhd_otel_conf *c, const conf_cmd *cmd)
{
    mhd_otel_conf tmp;
    memset(&tmp, 0, sizeof(tmp));
    memcpy(mhd_otel_conf_field(&tmp, cmd), mhd_otel_conf_field(c, cmd), cmd->size);
    memset(mhd_otel_conf_field(c, cmd), 0, cmd->size);
    conf_clear(&tmp);
}

/* "name" or "otel_exporter TYPE" into buf. */
static const char *row_label(const conf_cmd *cmd, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%s%s", cmd->name, cmd->type != NULL ? " " : "",
             cmd->type != NULL ? cmd->type : "");
    return buf;
}

/* The row of block named name, NULL if none. */
static const conf_cmd *find_name(conf_block block, const char *name)
{
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++)
        if (cmd->block == block && strcmp(cmd->name, name) == 0)
            return cmd;
    return NULL;
}

/* ---- statements and blocks ----------------------------------------------- */

static int parse_block(conf_parser *ps, mhd_otel_conf *file, conf_block block);

static int unknown_directive(conf_parser *ps, conf_block block, const mhd_otel_tok *w)
{
    char a[CONF_SHOW], where[80] = "", hint[128];
    const char *names[CONF_ROWS];
    size_t n = 0;
    const conf_cmd *home = NULL;
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++) {
        if (cmd->block == block && (n == 0 || strcmp(names[n - 1], cmd->name) != 0))
            names[n++] = cmd->name;
        else if (cmd->block != block && home == NULL && strcmp(cmd->name, w->text) == 0)
            home = cmd;
    }
    mhd_otel_conf_hint(w->text, names, n, hint, sizeof(hint));
    if (block == CONF_MAIN && hint[0] == '\0' && home != NULL)
        snprintf(hint, sizeof(hint), " (it belongs inside \"%s { ... }\")",
                 block_labels[home->block]);
    if (block != CONF_MAIN)
        snprintf(where, sizeof(where), " in \"%s\"", block_labels[block]);
    return mhd_otel_conf_error(ps, w->line, OTEL_ERR_PARSE, "unknown directive \"%s\"%s%s",
                               SHOW(w->text, a), where, hint);
}

/* The row of the statement's directive: for otel_exporter TYPE, the TYPE's
 * (*cmd NULL and an error when there is none). */
static int find_row(conf_parser *ps, conf_block block, const conf_stmt *st, const conf_cmd **cmd)
{
    char a[CONF_SHOW], hint[96];
    const char *types[CONF_ROWS];
    size_t n = 0;
    *cmd = find_name(block, st->w[0].text);
    if (*cmd == NULL)
        return unknown_directive(ps, block, &st->w[0]);
    if ((*cmd)->type == NULL || st->n != 2)
        return OTEL_OK; /* the argument count is checked next */
    for (const conf_cmd *c = *cmd; c->name != NULL; c++) {
        if (c->block != block || strcmp(c->name, st->w[0].text) != 0)
            continue;
        if (strcmp(c->type, st->w[1].text) == 0) {
            *cmd = c;
            return OTEL_OK;
        }
        types[n++] = c->type;
    }
    *cmd = NULL;
    return mhd_otel_conf_error(ps, st->w[1].line, OTEL_ERR_PARSE, "unknown exporter type \"%s\"%s",
                               SHOW(st->w[1].text, a),
                               mhd_otel_conf_hint(st->w[1].text, types, n, hint, sizeof(hint)));
}

/* A statement with no words: the end of a block or of the file, or a stray
 * ";", "{" or "}". */
static int stmt_empty(conf_parser *ps, bool in_block, const mhd_otel_tok *end, bool *done)
{
    switch (end->type) {
    case MHD_OTEL_TOK_EOF:
        if (in_block)
            return mhd_otel_conf_error(ps, end->line, OTEL_ERR_PARSE,
                                       "unexpected end of file, expecting \"}\"");
        *done = true;
        return OTEL_OK;
    case MHD_OTEL_TOK_CLOSE:
        if (!in_block)
            return mhd_otel_conf_error(ps, end->line, OTEL_ERR_PARSE, "unexpected \"}\"");
        *done = true;
        return OTEL_OK;
    case MHD_OTEL_TOK_SEMI:
        return mhd_otel_conf_error(ps, end->line, OTEL_ERR_PARSE, "unexpected \";\"");
    default:
        return mhd_otel_conf_error(ps, end->line, OTEL_ERR_PARSE, "unexpected \"{\"");
    }
}

/* A known directive name starting a line inside the arguments: the ";" of
 * the statement before it was forgotten. */
static int check_runaway(conf_parser *ps, conf_block block, const conf_stmt *st)
{
    for (size_t i = 1; i < st->n; i++) {
        const mhd_otel_tok *w = &st->w[i];
        if (w->line > st->w[i - 1].line && !w->quoted && find_name(block, w->text) != NULL)
            return mhd_otel_conf_error(ps, w->line, OTEL_ERR_PARSE,
                                       "unexpected \"%s\": directive \"%s\" on line %zu is not "
                                       "terminated by \";\"",
                                       w->text, st->w[0].text, st->w[0].line);
    }
    return OTEL_OK;
}

/* "100 ms" for a time: a number and a unit as two words. */
static bool split_time(const conf_cmd *cmd, const conf_stmt *st)
{
    static const char *const units[] = {"ms", "s", "m", "h", "d"};
    if ((cmd->flags & CONF_TIME) == 0 || st->n != 3)
        return false;
    uint64_t v;
    if (mhd_otel_lex_uint(st->w[1].text, &v) != OTEL_OK)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(st->w[2].text, units[i]) == 0)
            return true;
    return false;
}

/* The statement ends the way cmd needs and has as many arguments. */
static int check_shape(conf_parser *ps, const conf_cmd *cmd, const conf_stmt *st)
{
    char a[CONF_SHOW], b[CONF_SHOW];
    bool block = (cmd->flags & CONF_BLOCK) != 0;
    size_t line = st->end.line, argc = st->n - 1;
    switch (st->end.type) {
    case MHD_OTEL_TOK_EOF:
        return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE,
                                   "unexpected end of file, expecting \";\" or \"}\"");
    case MHD_OTEL_TOK_CLOSE:
        return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE,
                                   "unexpected \"}\": directive \"%s\" %s", cmd->name,
                                   block ? "has no opening \"{\"" : "is not terminated by \";\"");
    case MHD_OTEL_TOK_SEMI:
        if (block)
            return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE,
                                       "directive \"%s\" has no opening \"{\"", cmd->name);
        break;
    default:
        if (!block)
            return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE,
                                       "directive \"%s\" is not terminated by \";\"", cmd->name);
        break;
    }
    bool ok = (argc <= 2 && (cmd->flags & (1u << argc)) != 0) ||
              (argc >= 1 && (cmd->flags & CONF_1MORE) != 0);
    if (!ok && split_time(cmd, st))
        return mhd_otel_conf_error(ps, st->w[1].line, OTEL_ERR_PARSE,
                                   "invalid time \"%s %s\" in \"%s\" (write %s%s)",
                                   SHOW(st->w[1].text, a), SHOW(st->w[2].text, b), cmd->name,
                                   st->w[1].text, st->w[2].text);
    if (!ok)
        return mhd_otel_conf_error(ps, st->w[0].line, OTEL_ERR_PARSE,
                                   "invalid number of arguments in \"%s\"", cmd->name);
    return OTEL_OK;
}

static int stmt_run(conf_parser *ps, mhd_otel_conf *file, conf_block block, conf_stmt *st,
                    bool *done)
{
    char label[64];
    const conf_cmd *cmd;
    if (st->n == 0)
        return stmt_empty(ps, block != CONF_MAIN, &st->end, done);
    int rc = find_row(ps, block, st, &cmd);
    if (rc == OTEL_OK)
        rc = check_runaway(ps, block, st);
    if (rc == OTEL_OK)
        rc = check_shape(ps, cmd, st);
    if (rc != OTEL_OK)
        return rc;
    size_t *first = &ps->line[cmd - mhd_otel_conf_cmds];
    if (*first != 0 && (cmd->flags & CONF_LIST) == 0)
        return mhd_otel_conf_duplicate(ps, st->w[0].line, row_label(cmd, label, sizeof(label)),
                                       *first);
    if (*first == 0)
        *first = st->w[0].line;
    if ((cmd->flags & CONF_BLOCK) == 0)
        return cmd->set(ps, cmd, file, st->w + 1, st->n - 1);
    if (cmd->size == sizeof(bool))
        *(bool *)mhd_otel_conf_field(file, cmd) = true; /* an exporter's block turns it on */
    return parse_block(ps, file, cmd->inner);
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

/* Run statements of block's directives into file until the block's "}" or
 * (CONF_MAIN) the end of the file. */
static int parse_block(conf_parser *ps, mhd_otel_conf *file, conf_block block)
{
    conf_stmt st = {0};
    bool done = false;
    int rc = OTEL_OK;
    while (rc == OTEL_OK && !done) {
        rc = stmt_read(ps, &st);
        if (rc == OTEL_OK)
            rc = stmt_run(ps, file, block, &st, &done);
        stmt_clear(&st);
    }
    otel_free(st.w);
    return rc;
}

/* ---- merge --------------------------------------------------------------- */

/* The row's default (its .def, words of the file's syntax) into out. */
static int apply_default(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *out)
{
    char where[96];
    mhd_otel_tok w[CONF_DEFAULT_WORDS];
    size_t n = 0;
    int rc = OTEL_OK;
    snprintf(where, sizeof(where), "default of \"%s\"", cmd->name);
    ps->where = where;
    for (const char *s = cmd->def; *s != '\0' && n < CONF_DEFAULT_WORDS && rc == OTEL_OK;) {
        size_t len = strcspn(s, " ");
        w[n] = (mhd_otel_tok){MHD_OTEL_TOK_WORD, otel_malloc(len + 1), len, 0, false};
        if (w[n].text == NULL) {
            rc = mhd_otel_conf_nomem(ps);
            break;
        }
        memcpy(w[n].text, s, len);
        w[n++].text[len] = '\0';
        s += len + strspn(s + len, " ");
    }
    if (rc == OTEL_OK)
        rc = cmd->set(ps, cmd, out, w, n);
    for (size_t i = 0; i < n; i++)
        otel_free(w[i].text);
    ps->where = NULL;
    return rc;
}

/* Move the row's field from src to dst (src's is then zero). */
static void field_move(mhd_otel_conf *dst, mhd_otel_conf *src, const conf_cmd *cmd)
{
    memcpy(mhd_otel_conf_field(dst, cmd), mhd_otel_conf_field(src, cmd), cmd->size);
    memset(mhd_otel_conf_field(src, cmd), 0, cmd->size);
}

/* A CONF_KEYED list: the environment's, each key of the file's over it. */
static int kv_merge(conf_parser *ps, const conf_cmd *cmd, mhd_otel_conf *out, mhd_otel_conf *file,
                    mhd_otel_conf *env)
{
    mhd_otel_kv_str **fv = mhd_otel_conf_field(file, cmd);
    size_t *fn = (size_t *)(fv + 1);
    field_move(out, env, cmd);
    mhd_otel_kv_str **ov = mhd_otel_conf_field(out, cmd);
    int rc = OTEL_OK;
    for (size_t i = 0; i < *fn; i++) {
        char *key = (*fv)[i].key, *value = (*fv)[i].value;
        (*fv)[i].key = (*fv)[i].value = NULL;
        if (rc == OTEL_OK)
            rc = mhd_otel_conf_kv_set(ps, ov, (size_t *)(ov + 1), (cmd->flags & CONF_HEADERS) != 0,
                                      key, value);
        else
            otel_free(key), otel_free(value);
    }
    return rc;
}

/* Which exporters run is one choice: a file that names any names them all. */
static bool file_names_exporters(const conf_parser *ps)
{
    for (size_t i = 0; i < CONF_ROWS; i++)
        if ((mhd_otel_conf_cmds[i].flags & CONF_EXPORTER) != 0 && ps->line[i] != 0)
            return true;
    return false;
}

/* Every row into out: the file's value if it set one, else the
 * environment's valid one, else the row's default. */
static int conf_merge(conf_parser *ps, mhd_otel_conf *out, mhd_otel_conf *file, mhd_otel_conf *env)
{
    bool exporters = file_names_exporters(ps);
    int rc = OTEL_OK;
    for (size_t i = 0; i < CONF_ROWS && rc == OTEL_OK; i++) {
        const conf_cmd *cmd = &mhd_otel_conf_cmds[i];
        bool in_file = ps->line[i] != 0 || ((cmd->flags & CONF_EXPORTER) != 0 && exporters);
        if (cmd->size == 0)
            continue;
        if ((cmd->flags & CONF_KEYED) != 0)
            rc = kv_merge(ps, cmd, out, file, env);
        else if (in_file)
            field_move(out, file, cmd);
        else if (ps->env_set[i])
            field_move(out, env, cmd);
        else if (cmd->def != NULL)
            rc = apply_default(ps, cmd, out);
    }
    return rc;
}

/* max_export_batch_size <= max_queue_size: an environment value that breaks
 * it is warned about and ignored; the file's is an error. */
static int check_batch(conf_parser *ps, otel_tracer_config *b)
{
    static const char fmt[] = "max_export_batch_size %zu must not exceed max_queue_size %zu";
    const conf_cmd *rows[2] = {
        mhd_otel_conf_row(offsetof(mhd_otel_conf, batch.max_export_batch_size)),
        mhd_otel_conf_row(offsetof(mhd_otel_conf, batch.max_queue_size))};
    otel_tracer_config def;
    otel_tracer_config_default(&def);
    for (size_t k = 0; k < 2 && b->max_export_batch_size > b->max_queue_size; k++) {
        size_t i = (size_t)(rows[k] - mhd_otel_conf_cmds);
        if (ps->line[i] != 0 || !ps->env_set[i])
            continue;
        char msg[160];
        snprintf(msg, sizeof(msg), fmt, b->max_export_batch_size, b->max_queue_size);
        otel_log(OTEL_LOG_WARN, "environment %s: %s; ignored", rows[k]->env[0], msg);
        if (k == 0)
            b->max_export_batch_size = def.max_export_batch_size;
        else
            b->max_queue_size = def.max_queue_size;
    }
    if (b->max_export_batch_size <= b->max_queue_size)
        return OTEL_OK;
    size_t line = ps->line[rows[0] - mhd_otel_conf_cmds];
    if (line == 0)
        line = ps->line[rows[1] - mhd_otel_conf_cmds];
    return mhd_otel_conf_error(ps, line, OTEL_ERR_RANGE, fmt, b->max_export_batch_size,
                               b->max_queue_size);
}

/* The row index of the field at offset. */
static size_t row_at(size_t offset)
{
    return (size_t)(mhd_otel_conf_row(offset) - mhd_otel_conf_cmds);
}

/* The variable of row i the environment set (the first of its two that
 * is set and not empty). */
static const char *env_var_of(const conf_parser *ps, size_t i)
{
    const conf_cmd *cmd = &mhd_otel_conf_cmds[i];
    for (size_t k = 0; k < 2 && cmd->env[k] != NULL; k++) {
        const char *v = ps->env_lookup != NULL ? ps->env_lookup(cmd->env[k]) : NULL;
        if (v != NULL && v[0] != '\0')
            return cmd->env[k];
    }
    return cmd->env[0];
}

/* The OTLP exporter's endpoint and TLS settings as a whole, once merged:
 * the endpoint by the protocol's rules (also when the exporter is off, as
 * every variable is checked), TLS files loadable and only for https://. What the file got wrong is
 * an error at its line; what the environment got wrong is warned about and ignored. */
static int check_otlp(conf_parser *ps, mhd_otel_conf *c)
{
    char why[CONF_MSG];
    size_t erow = row_at(offsetof(mhd_otel_conf, otlp_endpoint));
    /* OTLP exporter spec, "Endpoint URLs for OTLP/HTTP". */
    if (ps->line[erow] == 0 && ps->env_set[erow])
        c->otlp_url_rule = strcmp(env_var_of(ps, erow), "OTEL_EXPORTER_OTLP_ENDPOINT") == 0
                               ? OTEL_OTLP_URL_BASE
                               : OTEL_OTLP_URL_AS_IS;
    otel_otlp_config oc;
    char url[OTEL_OTLP_URL_MAX];
    mhd_otel_conf_otlp(c, &oc);
    /* the URL the exporter will send to, path rule applied */
    if (c->otlp_endpoint != NULL &&
        otel_otlp_target(&oc, url, sizeof(url), why, sizeof(why)) != OTEL_OK) {
        mhd_otel_conf_show(why, why, sizeof(why)); /* it quotes the endpoint */
        size_t line = ps->line[erow];
        if (line == 0 && ps->line[row_at(offsetof(mhd_otel_conf, otlp_protocol))] != 0)
            line = ps->line[row_at(offsetof(mhd_otel_conf, otlp_protocol))];
        if (line != 0)
            return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE, "%s (protocol %s)", why,
                                       otel_otlp_protocol_name(c->otlp_protocol));
        otel_log(OTEL_LOG_WARN, "environment %s: %s (protocol %s); ignored", env_var_of(ps, erow),
                 why, otel_otlp_protocol_name(c->otlp_protocol));
        otel_free(c->otlp_endpoint);
        c->otlp_endpoint = NULL;
        c->otlp_url_rule = OTEL_OTLP_URL_DEFAULT;
    }
    static const size_t tls_fields[] = {
        offsetof(mhd_otel_conf, otlp_ca_file), offsetof(mhd_otel_conf, otlp_client_cert),
        offsetof(mhd_otel_conf, otlp_client_key), offsetof(mhd_otel_conf, otlp_tls_verify)};
    otel_otlp_tls_setting bad;
    mhd_otel_conf_otlp(c, &oc);
    if (!c->otlp || otel_otlp_tls_check(&oc, &bad, why, sizeof(why)) == OTEL_OK)
        return OTEL_OK;
    mhd_otel_conf_show(why, why, sizeof(why)); /* it quotes the endpoint and file names */
    /* The line of the setting at fault, else of the first TLS one. */
    size_t line = bad != OTEL_OTLP_TLS_ANY ? ps->line[row_at(tls_fields[bad - 1])] : 0;
    for (size_t k = 0; line == 0 && k < sizeof(tls_fields) / sizeof(tls_fields[0]); k++) {
        size_t l = ps->line[row_at(tls_fields[k])];
        if (l != 0 && (line == 0 || l < line))
            line = l;
    }
    if (line != 0)
        return mhd_otel_conf_error(ps, line, OTEL_ERR_PARSE, "%s", why);
    /* Only the environment set them: all of its TLS settings go. */
    for (size_t k = 0; k < 3; k++) {
        size_t i = row_at(tls_fields[k]);
        if (ps->env_set[i]) {
            otel_log(OTEL_LOG_WARN, "environment %s: %s; ignored", env_var_of(ps, i), why);
            mhd_otel_conf_field_drop(c, &mhd_otel_conf_cmds[i]);
        }
    }
    return OTEL_OK;
}

/* A Prometheus address from OTEL_EXPORTER_PROMETHEUS_HOST and _PORT (the
 * SDK environment variables spec, "Prometheus Exporter"), into c. */
static int prometheus_from_env(conf_parser *ps, mhd_otel_conf *c)
{
    const char *host = ps->env_lookup ? ps->env_lookup("OTEL_EXPORTER_PROMETHEUS_HOST") : NULL;
    const char *port = ps->env_lookup ? ps->env_lookup("OTEL_EXPORTER_PROMETHEUS_PORT") : NULL;
    if (host == NULL || host[0] == '\0')
        host = MHD_OTEL_PROMETHEUS_HOST;
    if (port == NULL || port[0] == '\0')
        port = MHD_OTEL_PROMETHEUS_PORT;
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    size_t len = strlen(host) + strlen(port) + 4;
    c->metrics_prometheus = otel_malloc(len);
    if (c->metrics_prometheus == NULL)
        return mhd_otel_conf_nomem(ps);
    snprintf(c->metrics_prometheus, len, "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
    return OTEL_OK;
}

/* otel_metrics once merged: the endpoint's URL rule and its check (as
 * check_otlp's), then the exporters that run. None named: prometheus when
 * its address is given, else, with an otel_metrics block, where the spans
 * go (otlp, console), else none: metrics are asked for, never sprung on a
 * server whose config predates them. */
static int check_metrics(conf_parser *ps, mhd_otel_conf *c)
{
    char why[CONF_MSG];
    size_t erow = row_at(offsetof(mhd_otel_conf, metrics_endpoint));
    const char *var = env_var_of(ps, erow);
    if (ps->line[erow] == 0 && ps->env_set[erow])
        c->metrics_url_rule = OTEL_OTLP_URL_AS_IS;
    /* The spans' endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT's: metrics
     * take OTEL_EXPORTER_OTLP_ENDPOINT's, when it is set (the spans' one
     * otherwise, with the rule of that variable: mhd_otel_conf_otlp_metrics). */
    const char *base = ps->env_lookup ? ps->env_lookup("OTEL_EXPORTER_OTLP_ENDPOINT") : NULL;
    if (c->metrics_endpoint == NULL && c->otlp_url_rule == OTEL_OTLP_URL_AS_IS && base != NULL &&
        base[0] != '\0') {
        c->metrics_endpoint = otel_strdup(base);
        if (c->metrics_endpoint == NULL)
            return mhd_otel_conf_nomem(ps);
        c->metrics_url_rule = OTEL_OTLP_URL_BASE;
        var = "OTEL_EXPORTER_OTLP_ENDPOINT";
    }
    /* A file's OTLP/HTTP endpoint that names the traces path: the same
     * receiver's metrics path for metrics. */
    static const char tpath[] = "/v1/traces";
    size_t tl = sizeof(tpath) - 1, el = c->otlp_endpoint ? strlen(c->otlp_endpoint) : 0;
    if (c->metrics_endpoint == NULL && c->otlp_url_rule == OTEL_OTLP_URL_DEFAULT &&
        c->otlp_protocol != OTEL_OTLP_GRPC && el > tl &&
        strcmp(c->otlp_endpoint + el - tl, tpath) == 0) {
        c->metrics_endpoint = otel_malloc(el + 2);
        if (c->metrics_endpoint == NULL)
            return mhd_otel_conf_nomem(ps);
        snprintf(c->metrics_endpoint, el + 2, "%.*s/v1/metrics", (int)(el - tl), c->otlp_endpoint);
    }
    otel_otlp_config oc;
    char url[OTEL_OTLP_URL_MAX];
    mhd_otel_conf_otlp_metrics(c, &oc);
    if (c->metrics_endpoint != NULL &&
        otel_otlp_target(&oc, url, sizeof(url), why, sizeof(why)) != OTEL_OK) {
        mhd_otel_conf_show(why, why, sizeof(why));
        if (ps->line[erow] != 0)
            return mhd_otel_conf_error(ps, ps->line[erow], OTEL_ERR_PARSE, "%s (protocol %s)", why,
                                       otel_otlp_protocol_name(c->otlp_protocol));
        otel_log(OTEL_LOG_WARN, "environment %s: %s (protocol %s); ignored", var, why,
                 otel_otlp_protocol_name(c->otlp_protocol));
        otel_free(c->metrics_endpoint);
        c->metrics_endpoint = NULL;
        c->metrics_url_rule = OTEL_OTLP_URL_DEFAULT;
    }
    size_t xrow = row_at(offsetof(mhd_otel_conf, metrics_exporters));
    if (c->metrics_prometheus != NULL) {
        if (c->metrics_exporters == MHD_OTEL_METRICS_NONE && ps->line[xrow] != 0)
            return mhd_otel_conf_error(
                ps, ps->line[row_at(offsetof(mhd_otel_conf, metrics_prometheus))], OTEL_ERR_PARSE,
                "\"prometheus\" given with \"exporter none\" (line %zu)", ps->line[xrow]);
        if (c->metrics_exporters == MHD_OTEL_METRICS_NONE)
            c->metrics_exporters = 0;
        c->metrics_exporters |= MHD_OTEL_METRICS_PROMETHEUS;
    }
    const conf_cmd *blk = find_name(CONF_MAIN, "otel_metrics");
    if (c->metrics_exporters == 0 && ps->line[blk - mhd_otel_conf_cmds] != 0)
        c->metrics_exporters =
            (c->otlp ? MHD_OTEL_METRICS_OTLP : 0u) | (c->console ? MHD_OTEL_METRICS_CONSOLE : 0u);
    if (c->metrics_exporters == 0)
        c->metrics_exporters = MHD_OTEL_METRICS_NONE;
    if ((c->metrics_exporters & MHD_OTEL_METRICS_PROMETHEUS) != 0 && c->metrics_prometheus == NULL)
        return prometheus_from_env(ps, c);
    return OTEL_OK;
}

void mhd_otel_conf_otlp_metrics(const mhd_otel_conf *c, otel_otlp_config *oc)
{
    mhd_otel_conf_otlp(c, oc);
    oc->signal = OTEL_OTLP_METRICS;
    if (c->metrics_endpoint != NULL) {
        oc->endpoint = c->metrics_endpoint;
        oc->url_rule = c->metrics_url_rule;
    } else if (c->otlp_url_rule == OTEL_OTLP_URL_AS_IS) {
        /* The spans' endpoint came from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
         * it is not for metrics. */
        oc->endpoint = NULL;
        oc->url_rule = OTEL_OTLP_URL_DEFAULT;
    }
}

void mhd_otel_conf_otlp(const mhd_otel_conf *c, otel_otlp_config *oc)
{
    memset(oc, 0, sizeof(*oc));
    oc->endpoint = c->otlp_endpoint;
    oc->url_rule = c->otlp_url_rule;
    oc->protocol = c->otlp_protocol;
    oc->insecure = c->otlp_insecure;
    oc->gzip = c->otlp_gzip;
    oc->timeout_ns = c->otlp_timeout_ns;
    oc->ca_file = c->otlp_ca_file;
    oc->client_cert = c->otlp_client_cert;
    oc->client_key = c->otlp_client_key;
    oc->tls_no_verify = !c->otlp_tls_verify;
}

/* ---- whole conf ---------------------------------------------------------- */

/* The parts of a load: the file's values, the environment's, which rows
 * each set. */
typedef struct conf_load {
    mhd_otel_conf file, env;
    size_t line[CONF_ROWS];
    bool env_set[CONF_ROWS];
} conf_load;

/* The file (text NULL: none) and the environment, merged into a new conf. */
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
    ps.name = text != NULL ? (name != NULL ? name : "config") : NULL;
    ps.env_lookup = env_lookup;
    ps.service_row =
        (size_t)(mhd_otel_conf_row(offsetof(mhd_otel_conf, service_name)) - mhd_otel_conf_cmds);
    conf_load *ld = otel_calloc(1, sizeof(*ld));
    mhd_otel_conf *c = otel_calloc(1, sizeof(*c));
    int rc = ld != NULL && c != NULL ? OTEL_OK : mhd_otel_conf_nomem(&ps);
    if (rc == OTEL_OK) {
        ps.line = ld->line;
        ps.env_set = ld->env_set;
        otel_tracer_config_default(&c->batch);
    }
    if (rc == OTEL_OK && text != NULL) {
        mhd_otel_lex_init(&ps.lx, ps.name, text, len);
        rc = parse_block(&ps, &ld->file, CONF_MAIN);
    }
    if (rc == OTEL_OK)
        rc = mhd_otel_conf_env_read(&ps, &ld->env);
    if (rc == OTEL_OK)
        rc = conf_merge(&ps, c, &ld->file, &ld->env);
    if (rc == OTEL_OK)
        rc = check_batch(&ps, &c->batch);
    if (rc == OTEL_OK)
        rc = check_otlp(&ps, c);
    if (rc == OTEL_OK)
        rc = check_metrics(&ps, c);
    if (rc == OTEL_OK) {
        c->batch.sampler = c->sampler;
        c->batch.record_unsampled = c->keep_errors || c->keep_slower_than_ns != 0;
    }
    if (ld != NULL) {
        conf_clear(&ld->file);
        conf_clear(&ld->env);
        otel_free(ld);
    }
    if (rc != OTEL_OK) {
        mhd_otel_conf_del(c);
        return rc;
    }
    *out = c;
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
    conf_clear(conf);
    otel_free(conf);
}
