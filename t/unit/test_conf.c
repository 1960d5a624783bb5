/* test_conf.c - tests of module/conf.c: directives, units, errors with their
 * lines, the OTEL_* environment, file loading, allocation failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include <mhd-otel/propagation.h>
#include "../../exporter/otlp.h"
#include "../../module/conf.h"
#include "../../module/conf_int.h"
#include "../../core/test_hooks.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

/* ---- helpers ------------------------------------------------------------- */

/* The fake environment: name, value, name, value, ..., NULL. */
static const char *const *fake_env;

static const char *env_fn(const char *name)
{
    for (const char *const *p = fake_env; p != NULL && *p != NULL; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static mhd_otel_conf *parse_ok(const char *text)
{
    char err[512] = "";
    mhd_otel_conf *c = NULL;
    int rc = mhd_otel_conf_parse(&c, "test.conf", text, strlen(text), env_fn, err, sizeof(err));
    if (rc != 0)
        fail_msg("parse failed (%d): %s", rc, err);
    assert_non_null(c);
    return c;
}

static void expect_error(const char *text, int code, const char *msg)
{
    char err[512] = "";
    mhd_otel_conf *c = (mhd_otel_conf *)&err;
    int rc = mhd_otel_conf_parse(&c, "test.conf", text, strlen(text), env_fn, err, sizeof(err));
    assert_null(c);
    assert_string_equal(err, msg);
    assert_int_equal(rc, code);
}

/* Log messages of a load, captured. */
static char log_text[4096];
static size_t log_count;

static void capture_log(void *ud, otel_log_level level, const char *msg)
{
    size_t len = strlen(log_text);
    (void)ud;
    assert_int_equal(level, OTEL_LOG_WARN);
    snprintf(log_text + len, sizeof(log_text) - len, "%s\n", msg);
    log_count++;
}

static void log_start(void)
{
    log_text[0] = '\0';
    log_count = 0;
    otel_log_set(capture_log, NULL);
}

/* The one message logged since log_start is msg; logging stops. */
static void log_expect_one(const char *msg)
{
    char want[1024];
    otel_log_set(NULL, NULL);
    snprintf(want, sizeof(want), "%s\n", msg);
    assert_string_equal(log_text, want);
    assert_int_equal(log_count, 1);
}

/* The environment env loads (an invalid value is ignored, as the
 * OpenTelemetry Environment Variable Specification, "Configuration types",
 * asks: for a numeric value the implementation "SHOULD generate a warning
 * and gracefully ignore the setting", for an enum it "MUST generate a
 * warning and gracefully ignore the setting", a Boolean other than
 * true/false gets "a warning ... about the fallback to false"), with msg
 * and "; ignored" logged once. The conf is returned. */
static mhd_otel_conf *env_warned(const char *const *env, const char *msg)
{
    char err[512] = "", want[600];
    mhd_otel_conf *c = NULL;
    fake_env = env;
    log_start();
    int rc = mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err));
    fake_env = NULL;
    snprintf(want, sizeof(want), "%s; ignored", msg);
    log_expect_one(want);
    assert_int_equal(rc, 0);
    assert_non_null(c);
    assert_string_equal(err, "");
    return c;
}

static void expect_env_warning(const char *const *env, const char *msg)
{
    mhd_otel_conf_del(env_warned(env, msg));
}

static uint64_t parse_time(const char *value)
{
    char text[128];
    snprintf(text, sizeof(text), "otel_batch { schedule_delay %s; }", value);
    mhd_otel_conf *c = parse_ok(text);
    uint64_t ns = c->batch.schedule_delay_ns;
    mhd_otel_conf_del(c);
    return ns;
}

static size_t parse_size(const char *value)
{
    char text[128];
    snprintf(text, sizeof(text), "otel_batch { max_queue_size %s; max_export_batch_size 1; }",
             value);
    mhd_otel_conf *c = parse_ok(text);
    size_t n = c->batch.max_queue_size;
    mhd_otel_conf_del(c);
    return n;
}

/* A path of config/NAME from the repository root (the tests' cwd), or from
 * a build directory below it. */
static const char *config_path(const char *name, char *buf, size_t cap)
{
    static const char *const roots[] = {"", "../", "../../"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        snprintf(buf, cap, "%sconfig/%s", roots[i], name);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    snprintf(buf, cap, "config/%s", name);
    return buf;
}

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/test_conf_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static const char rich_conf[] = "# a config using every directive\n"
                                "otel_trace on;\n"
                                "otel_service_name 'checkout';\n"
                                "otel_resource_attr deployment.environment production;\n"
                                "otel_resource_attr team payments;\n"
                                "otel_sampler parentbased_traceidratio 0.25;\n"
                                "otel_skip_path /health /healthz;\n"
                                "otel_skip_prefix /static/;\n"
                                "otel_route /hello/{name} /users/{id}/orders/{order};\n"
                                "otel_capture_request_header X-User-ID X-Tenant;\n"
                                "otel_exporter console { format pretty; output stderr; }\n"
                                "otel_exporter otlp {\n"
                                "    endpoint http://collector:4317;\n"
                                "    header api-key s3cret;\n"
                                "    compression gzip;\n"
                                "    timeout 2s;\n"
                                "}\n"
                                "otel_batch {\n"
                                "    max_queue_size 4k;\n"
                                "    max_export_batch_size 256;\n"
                                "    schedule_delay 250ms;\n"
                                "    export_timeout 1m30s;\n"
                                "}\n";

static const char *const rich_env[] = {
    "OTEL_SERVICE_NAME",
    "env-name",
    "OTEL_RESOURCE_ATTRIBUTES",
    "a=1,b=x%20y",
    "OTEL_TRACES_SAMPLER",
    "traceidratio",
    "OTEL_TRACES_SAMPLER_ARG",
    "0.5",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "1000",
    "OTEL_BSP_SCHEDULE_DELAY",
    "20",
    "OTEL_TRACES_EXPORTER",
    "console",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "http://env-host:4317",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "API-Key=from-env,tenant=t%201",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "500",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "none",
    NULL,
};

/* ---- directives ---------------------------------------------------------- */

static void test_mhd_otel_conf_parse_defaults(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("");
    assert_true(c->trace);
    assert_null(c->service_name);
    assert_int_equal(c->n_resource_attrs, 0);
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_int_equal(c->batch.sampler.kind, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_int_equal(c->skip_paths.n, 0);
    assert_int_equal(c->skip_prefixes.n, 0);
    assert_int_equal(c->routes.n, 0);
    assert_int_equal(c->capture_headers.n, 0);
    assert_false(c->console);
    assert_int_equal(c->console_format, OTEL_CONSOLE_JSON);
    assert_string_equal(c->console_output, "stdout");
    assert_true(c->otlp); /* no exporter named anywhere: the spec's default */
    assert_null(c->otlp_endpoint);
    assert_int_equal(c->n_otlp_headers, 0);
    assert_false(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 10 * SEC);
    otel_tracer_config def;
    otel_tracer_config_default(&def);
    assert_int_equal(c->batch.max_queue_size, def.max_queue_size);
    assert_int_equal(c->batch.max_export_batch_size, def.max_export_batch_size);
    assert_int_equal(c->batch.schedule_delay_ns, def.schedule_delay_ns);
    assert_int_equal(c->batch.export_timeout_ns, def.export_timeout_ns);
    assert_int_equal(c->batch.attr_value_max_len, def.attr_value_max_len);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_every_directive(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok(rich_conf);
    assert_true(c->trace);
    assert_string_equal(c->service_name, "checkout");
    assert_int_equal(c->n_resource_attrs, 2);
    assert_string_equal(c->resource_attrs[0].key, "deployment.environment");
    assert_string_equal(c->resource_attrs[0].value, "production");
    assert_string_equal(c->resource_attrs[1].key, "team");
    assert_string_equal(c->resource_attrs[1].value, "payments");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_true(c->sampler.ratio == 0.25);
    assert_int_equal(c->batch.sampler.kind, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_int_equal(c->skip_paths.n, 2);
    assert_string_equal(c->skip_paths.v[0], "/health");
    assert_string_equal(c->skip_paths.v[1], "/healthz");
    assert_int_equal(c->skip_prefixes.n, 1);
    assert_string_equal(c->skip_prefixes.v[0], "/static/");
    assert_int_equal(c->routes.n, 2);
    assert_string_equal(c->routes.v[0], "/hello/{name}");
    assert_string_equal(c->routes.v[1], "/users/{id}/orders/{order}");
    assert_int_equal(c->capture_headers.n, 2);
    assert_string_equal(c->capture_headers.v[0], "X-User-ID");
    assert_string_equal(c->capture_headers.v[1], "X-Tenant");
    assert_true(c->console);
    assert_int_equal(c->console_format, OTEL_CONSOLE_PRETTY);
    assert_string_equal(c->console_output, "stderr");
    assert_true(c->otlp);
    assert_string_equal(c->otlp_endpoint, "http://collector:4317");
    assert_int_equal(c->n_otlp_headers, 1);
    assert_string_equal(c->otlp_headers[0].key, "api-key");
    assert_string_equal(c->otlp_headers[0].value, "s3cret");
    assert_true(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 2 * SEC);
    assert_int_equal(c->batch.max_queue_size, 4096);
    assert_int_equal(c->batch.max_export_batch_size, 256);
    assert_int_equal(c->batch.schedule_delay_ns, 250 * MS);
    assert_int_equal(c->batch.export_timeout_ns, 90 * SEC);
    mhd_otel_conf_del(c);
}

/* otel_keep_errors and otel_keep_slower_than: off by default; either one
 * on makes the tracer record what it does not sample (record_unsampled). */
static void test_mhd_otel_conf_parse_keep(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool errors;
        uint64_t slower_than_ns;
    } cases[] = {
        {"", false, 0},
        {"otel_keep_errors on;\n", true, 0},
        {"otel_keep_slower_than 500ms;\n", false, 500 * MS},
        {"otel_keep_errors on;\notel_keep_slower_than 1m30s;\n", true, 90 * SEC},
        {"otel_keep_errors off;\notel_keep_slower_than OFF;\n", false, 0},
    };
    otel_tracer_config def;
    otel_tracer_config_default(&def);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mhd_otel_conf *c = parse_ok(cases[i].text);
        assert_int_equal(c->keep_errors, cases[i].errors);
        assert_int_equal(c->keep_slower_than_ns, cases[i].slower_than_ns);
        assert_int_equal(c->batch.record_unsampled,
                         cases[i].errors || cases[i].slower_than_ns != 0);
        assert_int_equal(c->batch.keep_max_spans, def.keep_max_spans);
        mhd_otel_conf_del(c);
    }
}

static void test_mhd_otel_conf_parse_keep_bad_values(void **state)
{
    (void)state;
    expect_error("otel_keep_errors yes;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid value \"yes\" in \"otel_keep_errors\", it must be \"on\" "
                 "or \"off\"");
    expect_error("otel_trace on;\notel_keep_errors;", OTEL_ERR_PARSE,
                 "test.conf:2: invalid number of arguments in \"otel_keep_errors\"");
    expect_error("\n\notel_keep_slower_than fast;", OTEL_ERR_PARSE,
                 "test.conf:3: invalid time \"fast\" in \"otel_keep_slower_than\"");
    expect_error("otel_keep_slower_than 0;", OTEL_ERR_RANGE,
                 "test.conf:1: time \"0\" in \"otel_keep_slower_than\" is too small");
    expect_error("otel_keep_slower_than -5ms;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"-5ms\" in \"otel_keep_slower_than\"");
    expect_error("otel_keep_slower_than 1s 2s;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_keep_slower_than\"");
    expect_error("otel_batch {\n  otel_keep_errors on;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: unknown directive \"otel_keep_errors\" in \"otel_batch\"");
}

static void test_mhd_otel_conf_parse_trace_off(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_trace off;");
    assert_false(c->trace);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_trace ON;");
    assert_true(c->trace);
    mhd_otel_conf_del(c);
}

/* A directive or block given twice is an error naming both lines, as
 * nginx's "is duplicate". */
static void test_mhd_otel_conf_parse_duplicate_directive(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"otel_service_name a;\notel_service_name b;",
         "test.conf:2: \"otel_service_name\" directive is duplicate (first at test.conf:1)"},
        {"otel_trace on;\n\notel_trace off;",
         "test.conf:3: \"otel_trace\" directive is duplicate (first at test.conf:1)"},
        {"otel_sampler always_on;\notel_sampler always_off;",
         "test.conf:2: \"otel_sampler\" directive is duplicate (first at test.conf:1)"},
        {"otel_propagators b3;\notel_propagators none;",
         "test.conf:2: \"otel_propagators\" directive is duplicate (first at test.conf:1)"},
        {"otel_trust_incoming on;\notel_trust_incoming on;",
         "test.conf:2: \"otel_trust_incoming\" directive is duplicate (first at test.conf:1)"},
        {"otel_signal_flush 1s;\notel_signal_flush off;",
         "test.conf:2: \"otel_signal_flush\" directive is duplicate (first at test.conf:1)"},
        {"otel_keep_errors on;\notel_keep_errors on;",
         "test.conf:2: \"otel_keep_errors\" directive is duplicate (first at test.conf:1)"},
        {"otel_keep_slower_than 1s;\n\notel_keep_slower_than off;",
         "test.conf:3: \"otel_keep_slower_than\" directive is duplicate (first at test.conf:1)"},
        {"otel_exporter otlp {\n  endpoint http://a:1;\n  endpoint http://b:2;\n}",
         "test.conf:3: \"endpoint\" directive is duplicate (first at test.conf:2)"},
        {"otel_exporter otlp { compression gzip;\ncompression none; }",
         "test.conf:2: \"compression\" directive is duplicate (first at test.conf:1)"},
        {"otel_exporter otlp { timeout 1s;\ntimeout 2s; }",
         "test.conf:2: \"timeout\" directive is duplicate (first at test.conf:1)"},
        {"otel_exporter console { output /tmp/x.log;\n output stderr; }",
         "test.conf:2: \"output\" directive is duplicate (first at test.conf:1)"},
        {"otel_exporter console { format json;\n format pretty; }",
         "test.conf:2: \"format\" directive is duplicate (first at test.conf:1)"},
        {"otel_batch { max_queue_size 10;\n max_queue_size 20; }",
         "test.conf:2: \"max_queue_size\" directive is duplicate (first at test.conf:1)"},
        {"otel_batch { schedule_delay 1s; }\notel_batch { export_timeout 1s; }",
         "test.conf:2: \"otel_batch\" directive is duplicate (first at test.conf:1)"},
        {"otel_exporter console { }\notel_exporter otlp { }\notel_exporter console { }",
         "test.conf:3: \"otel_exporter console\" directive is duplicate (first at test.conf:1)"},
        {"otel_exporter otlp { }\n\notel_exporter otlp { endpoint http://a:1; }",
         "test.conf:3: \"otel_exporter otlp\" directive is duplicate (first at test.conf:1)"},
        /* the service name, whichever way it is written */
        {"otel_service_name a;\notel_resource_attr service.name b;",
         "test.conf:2: \"otel_resource_attr service.name\" directive is duplicate (first at "
         "test.conf:1)"},
        {"otel_resource_attr service.name b;\notel_service_name a;",
         "test.conf:2: \"otel_service_name\" directive is duplicate (first at test.conf:1)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].text, OTEL_ERR_PARSE, cases[i].msg);
}

/* A time is one word: "100 ms" is refused with the way to write it. */
static void test_mhd_otel_conf_parse_time_with_blank_hint(void **state)
{
    (void)state;
    expect_error("otel_exporter otlp {\n  timeout 100 ms;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid time \"100 ms\" in \"timeout\" (write 100ms)");
    expect_error("otel_batch { schedule_delay 5 s; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"5 s\" in \"schedule_delay\" (write 5s)");
    expect_error("otel_signal_flush 2 s;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"2 s\" in \"otel_signal_flush\" (write 2s)");
    expect_error("otel_keep_slower_than 500 ms;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"500 ms\" in \"otel_keep_slower_than\" (write 500ms)");
    /* not a number and a unit: the usual message */
    expect_error("otel_exporter otlp { timeout 100 xs; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"timeout\"");
}

static void test_mhd_otel_conf_parse_resource_attr_replaces(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_resource_attr k1 v1;\n"
                                "otel_resource_attr k2 v2;\n"
                                "otel_resource_attr k1 v3;\n"
                                "otel_resource_attr empty \"\";\n");
    assert_int_equal(c->n_resource_attrs, 3);
    assert_string_equal(c->resource_attrs[0].key, "k1");
    assert_string_equal(c->resource_attrs[0].value, "v3");
    assert_string_equal(c->resource_attrs[1].key, "k2");
    assert_string_equal(c->resource_attrs[1].value, "v2");
    assert_string_equal(c->resource_attrs[2].value, "");
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_resource_attr_service_name(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_resource_attr service.name b;\n"
                                "otel_resource_attr service.name c;\n");
    assert_string_equal(c->service_name, "c"); /* a later KEY replaces */
    assert_int_equal(c->n_resource_attrs, 0);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_sampler_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        otel_sampler_kind kind;
        double ratio;
    } cases[] = {
        {"otel_sampler always_on;", OTEL_SAMPLER_ALWAYS_ON, 1.0},
        {"otel_sampler always_off;", OTEL_SAMPLER_ALWAYS_OFF, 1.0},
        {"otel_sampler traceidratio 0.1;", OTEL_SAMPLER_TRACEIDRATIO, 0.1},
        {"otel_sampler traceidratio 0;", OTEL_SAMPLER_TRACEIDRATIO, 0.0},
        {"otel_sampler traceidratio 1;", OTEL_SAMPLER_TRACEIDRATIO, 1.0},
        {"otel_sampler traceidratio 1.000;", OTEL_SAMPLER_TRACEIDRATIO, 1.0},
        {"otel_sampler traceidratio .5;", OTEL_SAMPLER_TRACEIDRATIO, 0.5},
        {"otel_sampler parentbased_always_on;", OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0},
        {"otel_sampler parentbased_always_off;", OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0},
        {"otel_sampler parentbased_traceidratio 0.001;", OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO,
         0.001},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mhd_otel_conf *c = parse_ok(cases[i].text);
        assert_int_equal(c->sampler.kind, cases[i].kind);
        assert_true(c->sampler.ratio == cases[i].ratio);
        assert_int_equal(c->batch.sampler.kind, cases[i].kind);
        mhd_otel_conf_del(c);
    }
}

static void test_mhd_otel_conf_parse_lists_append_in_order(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_skip_path /a /b;\n"
                                "otel_skip_path /c;\n"
                                "otel_skip_prefix /s/ /t/;\n"
                                "otel_route /x/{id};\n"
                                "otel_route / /y;\n"
                                "otel_capture_request_header A;\n"
                                "otel_capture_request_header B c;\n");
    assert_int_equal(c->skip_paths.n, 3);
    assert_string_equal(c->skip_paths.v[0], "/a");
    assert_string_equal(c->skip_paths.v[1], "/b");
    assert_string_equal(c->skip_paths.v[2], "/c");
    assert_int_equal(c->skip_prefixes.n, 2);
    assert_string_equal(c->skip_prefixes.v[1], "/t/");
    assert_int_equal(c->routes.n, 3);
    assert_string_equal(c->routes.v[0], "/x/{id}");
    assert_string_equal(c->routes.v[1], "/");
    assert_string_equal(c->routes.v[2], "/y");
    assert_int_equal(c->capture_headers.n, 3);
    assert_string_equal(c->capture_headers.v[0], "A");
    assert_string_equal(c->capture_headers.v[2], "c");
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_console_exporter(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_exporter console { }");
    assert_true(c->console);
    assert_int_equal(c->console_format, OTEL_CONSOLE_JSON);
    assert_string_equal(c->console_output, "stdout");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter console\n{\n  format pretty;\n  output \"/var/log/spans.log\";\n}");
    assert_true(c->console);
    assert_int_equal(c->console_format, OTEL_CONSOLE_PRETTY);
    assert_string_equal(c->console_output, "/var/log/spans.log");
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_time_units(void **state)
{
    (void)state;
    assert_int_equal(parse_time("5s"), 5 * SEC);
    assert_int_equal(parse_time("250ms"), 250 * MS);
    assert_int_equal(parse_time("1m"), 60 * SEC);
    assert_int_equal(parse_time("1m30s"), 90 * SEC);
    assert_int_equal(parse_time("2h"), 7200 * SEC);
    assert_int_equal(parse_time("1d"), 86400 * SEC);
    assert_int_equal(parse_time("1h30m15s500ms"), 5415 * SEC + 500 * MS);
    assert_int_equal(parse_time("30"), 30 * SEC);
    assert_int_equal(parse_time("0"), 0);
    assert_int_equal(parse_time("0ms"), 0);
}

static void test_mhd_otel_conf_parse_size_units(void **state)
{
    (void)state;
    assert_int_equal(parse_size("512"), 512);
    assert_int_equal(parse_size("64k"), 64 * 1024);
    assert_int_equal(parse_size("64K"), 64 * 1024);
    assert_int_equal(parse_size("1m"), 1024 * 1024);
    assert_int_equal(parse_size("2M"), 2 * 1024 * 1024);
    assert_int_equal(parse_size("007"), 7);
}

static void test_mhd_otel_conf_parse_quoted_strings(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_service_name \"my service; {#} \\\"q\\\" \\\\ \\x\";\n"
                                "otel_resource_attr 'k 1' 'it\\'s';\n"
                                "otel_resource_attr \"multi\nline\" \"\";\n");
    assert_string_equal(c->service_name, "my service; {#} \"q\" \\ \\x");
    assert_string_equal(c->resource_attrs[0].key, "k 1");
    assert_string_equal(c->resource_attrs[0].value, "it's");
    assert_string_equal(c->resource_attrs[1].key, "multi\nline");
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_comments_and_layout(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("\xEF\xBB\xBF# leading comment\n"
                                "otel_trace off; # trailing comment\n"
                                "otel_service_name a#b;\n"
                                "  otel_skip_path\n"
                                "\t/a\r\n"
                                "    /b;otel_batch {max_queue_size 10;max_export_batch_size 5;}\n"
                                "# comment at the end without newline");
    assert_false(c->trace);
    assert_string_equal(c->service_name, "a#b");
    assert_int_equal(c->skip_paths.n, 2);
    assert_string_equal(c->skip_paths.v[1], "/b");
    assert_int_equal(c->batch.max_queue_size, 10);
    mhd_otel_conf_del(c);
}

/* ---- errors -------------------------------------------------------------- */

static void test_mhd_otel_conf_parse_unknown_directive_hint(void **state)
{
    (void)state;
    expect_error("# 1\n"
                 "otel_trace on;\n"
                 "\n"
                 "otel_service_name x;\n"
                 "# 5\n"
                 "otel_skip_path /health;\n"
                 "otel_sampeler always_on;\n",
                 OTEL_ERR_PARSE,
                 "test.conf:7: unknown directive \"otel_sampeler\" (did you mean "
                 "\"otel_sampler\"?)");
    expect_error("OTEL_TRACE on;", OTEL_ERR_PARSE,
                 "test.conf:1: unknown directive \"OTEL_TRACE\" (did you mean \"otel_trace\"?)");
    expect_error("\nfoo_bar on;", OTEL_ERR_PARSE, "test.conf:2: unknown directive \"foo_bar\"");
}

static void test_mhd_otel_conf_parse_unknown_directive_in_block(void **state)
{
    (void)state;
    expect_error("otel_batch {\n    max_queue_sise 5;\n}\n", OTEL_ERR_PARSE,
                 "test.conf:2: unknown directive \"max_queue_sise\" in \"otel_batch\" (did you "
                 "mean \"max_queue_size\"?)");
    expect_error("otel_exporter console {\n formt json;\n}\n", OTEL_ERR_PARSE,
                 "test.conf:2: unknown directive \"formt\" in \"otel_exporter console\" (did you "
                 "mean \"format\"?)");
    expect_error("otel_batch { otel_trace on; }", OTEL_ERR_PARSE,
                 "test.conf:1: unknown directive \"otel_trace\" in \"otel_batch\"");
    expect_error("otel_trace on;\nmax_queue_size 5;", OTEL_ERR_PARSE,
                 "test.conf:2: unknown directive \"max_queue_size\" (it belongs inside "
                 "\"otel_batch { ... }\")");
    expect_error("output stderr;", OTEL_ERR_PARSE,
                 "test.conf:1: unknown directive \"output\" (it belongs inside \"otel_exporter "
                 "console { ... }\")");
}

static void test_mhd_otel_conf_parse_argument_count(void **state)
{
    (void)state;
    expect_error("otel_sampler;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_sampler\"");
    expect_error("\notel_trace on off;", OTEL_ERR_PARSE,
                 "test.conf:2: invalid number of arguments in \"otel_trace\"");
    expect_error("otel_skip_path;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_skip_path\"");
    expect_error("otel_resource_attr k;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_resource_attr\"");
    expect_error("otel_batch x { }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_batch\"");
    expect_error("otel_exporter { }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_exporter\"");
    expect_error("otel_batch {\n  schedule_delay;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid number of arguments in \"schedule_delay\"");
}

static void test_mhd_otel_conf_parse_bad_numbers(void **state)
{
    (void)state;
    expect_error("otel_batch {\n max_queue_size 12q;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid size \"12q\" in \"max_queue_size\"");
    expect_error("otel_batch { max_queue_size -1; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid size \"-1\" in \"max_queue_size\"");
    expect_error("otel_batch { max_queue_size 1kk; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid size \"1kk\" in \"max_queue_size\"");
    expect_error("otel_batch {\n\n schedule_delay 5x;\n}", OTEL_ERR_PARSE,
                 "test.conf:3: invalid time \"5x\" in \"schedule_delay\"");
    expect_error("otel_batch { schedule_delay 30s1m; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"30s1m\" in \"schedule_delay\"");
    expect_error("otel_batch { schedule_delay 1m30; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"1m30\" in \"schedule_delay\"");
    expect_error("otel_batch { export_timeout \"\"; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"\" in \"export_timeout\"");
    expect_error("otel_batch { export_timeout 5S; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"5S\" in \"export_timeout\"");
}

static void test_mhd_otel_conf_parse_number_overflow(void **state)
{
    (void)state;
    expect_error("otel_batch { max_queue_size 99999999999999999999; }", OTEL_ERR_RANGE,
                 "test.conf:1: size \"99999999999999999999\" in \"max_queue_size\" is too large");
    expect_error("otel_batch { max_queue_size 18014398509481984k; }", OTEL_ERR_RANGE,
                 "test.conf:1: size \"18014398509481984k\" in \"max_queue_size\" is too large");
    expect_error("otel_batch { schedule_delay 999999999d; }", OTEL_ERR_RANGE,
                 "test.conf:1: time \"999999999d\" in \"schedule_delay\" is too large");
    expect_error("otel_batch { schedule_delay 18446744073709551615ms; }", OTEL_ERR_RANGE,
                 "test.conf:1: time \"18446744073709551615ms\" in \"schedule_delay\" is too "
                 "large");
    expect_error("otel_batch { max_export_batch_size 0; }", OTEL_ERR_RANGE,
                 "test.conf:1: invalid size \"0\" in \"max_export_batch_size\", it must be at "
                 "least 1");
}

static void test_mhd_otel_conf_parse_bad_sampler(void **state)
{
    (void)state;
    expect_error("\notel_sampler foo;", OTEL_ERR_PARSE, "test.conf:2: unknown sampler \"foo\"");
    expect_error("otel_sampler always_offf;", OTEL_ERR_PARSE,
                 "test.conf:1: unknown sampler \"always_offf\" (did you mean \"always_off\"?)");
    expect_error("otel_sampler traceidratio 1.5;", OTEL_ERR_RANGE,
                 "test.conf:1: invalid ratio \"1.5\" in \"otel_sampler\", ratio must be between "
                 "0 and 1");
    expect_error("otel_sampler traceidratio -0.1;", OTEL_ERR_RANGE,
                 "test.conf:1: invalid ratio \"-0.1\" in \"otel_sampler\", ratio must be between "
                 "0 and 1");
    expect_error("otel_sampler traceidratio abc;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid ratio \"abc\" in \"otel_sampler\"");
    expect_error("otel_sampler traceidratio 1e-3;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid ratio \"1e-3\" in \"otel_sampler\"");
    expect_error("otel_sampler parentbased_traceidratio;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_sampler\": sampler "
                 "\"parentbased_traceidratio\" needs a ratio between 0 and 1");
    expect_error("otel_sampler always_on 0.5;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_sampler\": sampler "
                 "\"always_on\" takes no ratio");
}

static void test_mhd_otel_conf_parse_bad_flag_and_enum(void **state)
{
    (void)state;
    expect_error("otel_trace yes;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid value \"yes\" in \"otel_trace\", it must be \"on\" or "
                 "\"off\"");
    expect_error("otel_exporter console {\n  format xml;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid value \"xml\" in \"format\", it must be \"json\" or "
                 "\"pretty\"");
    expect_error("otel_exporter console { output ''; }", OTEL_ERR_PARSE,
                 "test.conf:1: empty value in \"output\"");
    expect_error("otel_service_name \"\";", OTEL_ERR_PARSE,
                 "test.conf:1: empty value in \"otel_service_name\"");
    expect_error("otel_resource_attr '' v;", OTEL_ERR_PARSE,
                 "test.conf:1: empty key in \"otel_resource_attr\"");
}

static void test_mhd_otel_conf_parse_bad_paths(void **state)
{
    (void)state;
    expect_error("otel_skip_path /ok health;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid path \"health\" in \"otel_skip_path\", it must start with "
                 "\"/\"");
    expect_error("otel_skip_prefix static/;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid path \"static/\" in \"otel_skip_prefix\", it must start "
                 "with \"/\"");
    expect_error("otel_route hello;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid path \"hello\" in \"otel_route\", it must start with "
                 "\"/\"");
    expect_error("otel_route /a\n  /b/{id;", OTEL_ERR_PARSE,
                 "test.conf:2: invalid route \"/b/{id\" in \"otel_route\": \"{\" is not closed");
    expect_error("otel_route /b/{id/x};", OTEL_ERR_PARSE,
                 "test.conf:1: invalid route \"/b/{id/x}\" in \"otel_route\": \"{\" is not "
                 "closed");
    expect_error("otel_route /b/{};", OTEL_ERR_PARSE,
                 "test.conf:1: invalid route \"/b/{}\" in \"otel_route\": empty \"{}\"");
    expect_error("otel_route /file/{id}.json;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid route \"/file/{id}.json\" in \"otel_route\": \"{...}\" "
                 "must be followed by \"/\" or end the route");
    expect_error("otel_route '/b/x}';", OTEL_ERR_PARSE,
                 "test.conf:1: invalid route \"/b/x}\" in \"otel_route\": \"}\" without \"{\"");
    expect_error("otel_route '/b/{{x}}';", OTEL_ERR_PARSE,
                 "test.conf:1: invalid route \"/b/{{x}}\" in \"otel_route\": \"{\" inside "
                 "\"{...}\"");
    expect_error("otel_capture_request_header 'X User';", OTEL_ERR_PARSE,
                 "test.conf:1: invalid header name \"X User\" in \"otel_capture_request_header\"");
    expect_error("otel_capture_request_header X-A:;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid header name \"X-A:\" in \"otel_capture_request_header\"");
}

static void test_mhd_otel_conf_parse_missing_semicolon(void **state)
{
    (void)state;
    expect_error("otel_service_name x", OTEL_ERR_PARSE,
                 "test.conf:1: unexpected end of file, expecting \";\" or \"}\"");
    expect_error("otel_trace on;\n\notel_service_name x\n\n", OTEL_ERR_PARSE,
                 "test.conf:3: unexpected end of file, expecting \";\" or \"}\"");
    expect_error("otel_trace on;\n"
                 "otel_service_name x\n"
                 "otel_sampler always_on;\n",
                 OTEL_ERR_PARSE,
                 "test.conf:3: unexpected \"otel_sampler\": directive \"otel_service_name\" on "
                 "line 2 is not terminated by \";\"");
    expect_error("otel_capture_request_header X-A\notel_trace on;", OTEL_ERR_PARSE,
                 "test.conf:2: unexpected \"otel_trace\": directive "
                 "\"otel_capture_request_header\" on line 1 is not terminated by \";\"");
    expect_error("otel_batch {\n  max_queue_size 5\n  schedule_delay 1s;\n}", OTEL_ERR_PARSE,
                 "test.conf:3: unexpected \"schedule_delay\": directive \"max_queue_size\" on "
                 "line 2 is not terminated by \";\"");
    expect_error("otel_batch {\n  max_queue_size 5\n}", OTEL_ERR_PARSE,
                 "test.conf:3: unexpected \"}\": directive \"max_queue_size\" is not terminated "
                 "by \";\"");
    expect_error("otel_service_name x\n  y;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_service_name\"");
}

static void test_mhd_otel_conf_parse_braces(void **state)
{
    (void)state;
    expect_error("otel_batch {\n  max_queue_size 5;\n", OTEL_ERR_PARSE,
                 "test.conf:2: unexpected end of file, expecting \"}\"");
    expect_error("otel_trace on;\n}\n", OTEL_ERR_PARSE, "test.conf:2: unexpected \"}\"");
    expect_error("otel_batch { }\n}", OTEL_ERR_PARSE, "test.conf:2: unexpected \"}\"");
    expect_error("\n;", OTEL_ERR_PARSE, "test.conf:2: unexpected \";\"");
    expect_error("{ }", OTEL_ERR_PARSE, "test.conf:1: unexpected \"{\"");
    expect_error("otel_batch;", OTEL_ERR_PARSE,
                 "test.conf:1: directive \"otel_batch\" has no opening \"{\"");
    expect_error("otel_exporter console;", OTEL_ERR_PARSE,
                 "test.conf:1: directive \"otel_exporter\" has no opening \"{\"");
    expect_error("otel_trace on\n{ }", OTEL_ERR_PARSE,
                 "test.conf:2: directive \"otel_trace\" is not terminated by \";\"");
    expect_error("otel_batch }", OTEL_ERR_PARSE,
                 "test.conf:1: unexpected \"}\": directive \"otel_batch\" has no opening \"{\"");
    /* "{" opens a block only at the start of a token */
    expect_error("otel_batch{ }", OTEL_ERR_PARSE,
                 "test.conf:1: unknown directive \"otel_batch{\" (did you mean \"otel_batch\"?)");
    expect_error("otel_route /b/x};", OTEL_ERR_PARSE,
                 "test.conf:1: unexpected \"}\": directive \"otel_route\" is not terminated by "
                 "\";\"");
    expect_error("otel_batch { otel_batch { } }", OTEL_ERR_PARSE,
                 "test.conf:1: unknown directive \"otel_batch\" in \"otel_batch\"");
}

static void test_mhd_otel_conf_parse_bad_quotes(void **state)
{
    (void)state;
    expect_error("otel_trace on;\notel_service_name \"abc;\n\n", OTEL_ERR_PARSE,
                 "test.conf:2: unterminated quoted string");
    expect_error("otel_service_name 'abc\\';", OTEL_ERR_PARSE,
                 "test.conf:1: unterminated quoted string");
    expect_error("otel_service_name \"a\"b;", OTEL_ERR_PARSE,
                 "test.conf:1: unexpected \"b\" after a quoted string");
    expect_error("otel_service_name \"a\n\"b;", OTEL_ERR_PARSE,
                 "test.conf:2: unexpected \"b\" after a quoted string");
}

static void test_mhd_otel_conf_parse_nul_byte(void **state)
{
    (void)state;
    char err[256];
    mhd_otel_conf *c = NULL;
    static const char text[] = "otel_trace on;\notel_service_name a\0b;";
    int rc = mhd_otel_conf_parse(&c, "test.conf", text, sizeof(text) - 1, NULL, err, sizeof(err));
    assert_int_equal(rc, OTEL_ERR_PARSE);
    assert_null(c);
    assert_string_equal(err, "test.conf:2: unexpected NUL byte");
}

static void test_mhd_otel_conf_parse_unknown_exporter(void **state)
{
    (void)state;
    expect_error("\notel_exporter zipkin { endpoint http://127.0.0.1:9411; }", OTEL_ERR_PARSE,
                 "test.conf:2: unknown exporter type \"zipkin\"");
    expect_error("otel_exporter otpl { }", OTEL_ERR_PARSE,
                 "test.conf:1: unknown exporter type \"otpl\" (did you mean \"otlp\"?)");
    expect_error("otel_exporter consle { }", OTEL_ERR_PARSE,
                 "test.conf:1: unknown exporter type \"consle\" (did you mean \"console\"?)");
}

static void test_mhd_otel_conf_parse_batch_larger_than_queue(void **state)
{
    (void)state;
    expect_error("otel_batch {\n"
                 "    max_queue_size 100;\n"
                 "    max_export_batch_size 200;\n"
                 "}\n",
                 OTEL_ERR_RANGE,
                 "test.conf:3: max_export_batch_size 200 must not exceed max_queue_size 100");
    /* checked after the whole block: a later line may fix it */
    mhd_otel_conf *c = parse_ok("otel_batch { max_export_batch_size 4096;\n"
                                "max_queue_size 8192; }\n");
    assert_int_equal(c->batch.max_queue_size, 8192);
    assert_int_equal(c->batch.max_export_batch_size, 4096);
    mhd_otel_conf_del(c);
    expect_error("# queue too small for the default batch of 512\n"
                 "otel_batch { max_queue_size 100; }\n",
                 OTEL_ERR_RANGE,
                 "test.conf:2: max_export_batch_size 512 must not exceed max_queue_size 100");
}

static void test_mhd_otel_conf_parse_long_token_is_cut(void **state)
{
    (void)state;
    char text[400], err[512];
    mhd_otel_conf *c = NULL;
    memset(text, 'x', 300);
    memcpy(text + 300, " on;", 5);
    int rc = mhd_otel_conf_parse(&c, "t", text, strlen(text), NULL, err, sizeof(err));
    assert_int_equal(rc, OTEL_ERR_PARSE);
    assert_non_null(strstr(err, "xxx...\""));
    assert_true(strlen(err) < 120);
}

static void test_mhd_otel_conf_parse_small_err_buffer(void **state)
{
    (void)state;
    char err[8];
    mhd_otel_conf *c = NULL;
    assert_int_equal(mhd_otel_conf_parse(&c, "test.conf", "x;", 2, NULL, err, sizeof(err)),
                     OTEL_ERR_PARSE);
    assert_string_equal(err, "test.co");
    assert_int_equal(mhd_otel_conf_parse(&c, "test.conf", "x;", 2, NULL, NULL, 0), OTEL_ERR_PARSE);
    assert_null(c);
    assert_int_equal(mhd_otel_conf_parse(NULL, "t", "", 0, NULL, NULL, 0), OTEL_ERR_INVALID);
    assert_int_equal(mhd_otel_conf_parse(&c, NULL, NULL, 0, NULL, err, sizeof(err)), 0);
    mhd_otel_conf_del(c);
}

/* ---- environment --------------------------------------------------------- */

static void test_mhd_otel_conf_from_env_all_variables(void **state)
{
    (void)state;
    static const char *const env[] = {
        "OTEL_SERVICE_NAME",
        "svc",
        "OTEL_RESOURCE_ATTRIBUTES",
        " deployment.environment = prod , k%3D=a%2Cb%20c,,empty=, team=x ",
        "OTEL_TRACES_SAMPLER",
        " ParentBased_TraceIdRatio ",
        "OTEL_TRACES_SAMPLER_ARG",
        "0.125",
        "OTEL_BSP_SCHEDULE_DELAY",
        "250",
        "OTEL_BSP_EXPORT_TIMEOUT",
        "1000",
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "4096",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        "1024",
        "OTEL_SDK_DISABLED",
        "TRUE",
        NULL,
    };
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = env;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    fake_env = NULL;
    assert_false(c->trace);
    assert_string_equal(c->service_name, "svc");
    assert_int_equal(c->n_resource_attrs, 4);
    assert_string_equal(c->resource_attrs[0].key, "deployment.environment");
    assert_string_equal(c->resource_attrs[0].value, "prod");
    assert_string_equal(c->resource_attrs[1].key, "k=");
    assert_string_equal(c->resource_attrs[1].value, "a,b c");
    assert_string_equal(c->resource_attrs[2].key, "empty");
    assert_string_equal(c->resource_attrs[2].value, "");
    assert_string_equal(c->resource_attrs[3].key, "team");
    assert_string_equal(c->resource_attrs[3].value, "x");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_true(c->sampler.ratio == 0.125);
    assert_int_equal(c->batch.sampler.kind, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_int_equal(c->batch.schedule_delay_ns, 250 * MS);
    assert_int_equal(c->batch.export_timeout_ns, 1000 * MS);
    assert_int_equal(c->batch.max_queue_size, 4096);
    assert_int_equal(c->batch.max_export_batch_size, 1024);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_from_env_service_name_precedence(void **state)
{
    (void)state;
    static const char *const both[] = {"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs,a=b",
                                       "OTEL_SERVICE_NAME", "from-var", NULL};
    static const char *const attrs_only[] = {"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs",
                                             NULL};
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = both;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_string_equal(c->service_name, "from-var");
    assert_int_equal(c->n_resource_attrs, 1);
    assert_string_equal(c->resource_attrs[0].key, "a");
    mhd_otel_conf_del(c);
    fake_env = attrs_only;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_string_equal(c->service_name, "from-attrs");
    assert_int_equal(c->n_resource_attrs, 0);
    mhd_otel_conf_del(c);
    fake_env = NULL;
}

/* service.name= (empty) in OTEL_RESOURCE_ATTRIBUTES is no service name:
 * the default (unknown_service:<program>) stays, not "" (found by
 * fuzz_conf_env). */
static void test_mhd_otel_conf_from_env_empty_service_name_attr(void **state)
{
    (void)state;
    static const char *const empty[] = {"OTEL_RESOURCE_ATTRIBUTES", "service.name=,a=b", NULL};
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = empty;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_null(c->service_name);
    assert_int_equal(c->n_resource_attrs, 1);
    mhd_otel_conf_del(c);
    fake_env = NULL;
}

static void test_mhd_otel_conf_from_env_empty_is_unset(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_SERVICE_NAME",
                                      "",
                                      "OTEL_TRACES_SAMPLER",
                                      "",
                                      "OTEL_BSP_MAX_QUEUE_SIZE",
                                      "",
                                      "OTEL_SDK_DISABLED",
                                      "",
                                      NULL};
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = env;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    fake_env = NULL;
    assert_null(c->service_name);
    assert_true(c->trace);
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_int_equal(c->batch.max_queue_size, 2048);
    mhd_otel_conf_del(c);
    /* no lookup function: no environment */
    assert_int_equal(mhd_otel_conf_from_env(&c, NULL, err, sizeof(err)), 0);
    assert_null(c->service_name);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_from_env_sampler_arg(void **state)
{
    (void)state;
    static const char *const no_arg[] = {"OTEL_TRACES_SAMPLER", "traceidratio", NULL};
    static const char *const ignored[] = {"OTEL_TRACES_SAMPLER", "always_off",
                                          "OTEL_TRACES_SAMPLER_ARG", "junk", NULL};
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = no_arg;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_TRACEIDRATIO);
    assert_true(c->sampler.ratio == 1.0);
    mhd_otel_conf_del(c);
    fake_env = ignored;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_ALWAYS_OFF);
    mhd_otel_conf_del(c);
    fake_env = NULL;
}

static void test_mhd_otel_conf_from_env_bad_values(void **state)
{
    (void)state;
    static const char *const q[] = {"OTEL_BSP_MAX_QUEUE_SIZE", "abc", NULL};
    expect_env_warning(q, "environment OTEL_BSP_MAX_QUEUE_SIZE: expected a positive integer, got "
                          "\"abc\"");
    static const char *const zero[] = {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0", NULL};
    expect_env_warning(zero,
                       "environment OTEL_BSP_MAX_EXPORT_BATCH_SIZE: expected a positive integer, "
                       "got \"0\"");
    static const char *const neg[] = {"OTEL_BSP_SCHEDULE_DELAY", "-5", NULL};
    expect_env_warning(neg,
                       "environment OTEL_BSP_SCHEDULE_DELAY: expected a non-negative integer, got "
                       "\"-5\"");
    static const char *const unit[] = {"OTEL_BSP_EXPORT_TIMEOUT", "5s", NULL};
    expect_env_warning(unit,
                       "environment OTEL_BSP_EXPORT_TIMEOUT: expected a non-negative integer, got "
                       "\"5s\"");
    static const char *const big[] = {"OTEL_BSP_EXPORT_TIMEOUT", "18446744073709551", NULL};
    expect_env_warning(big,
                       "environment OTEL_BSP_EXPORT_TIMEOUT: number \"18446744073709551\" is too "
                       "large");
    static const char *const huge[] = {"OTEL_BSP_MAX_QUEUE_SIZE", "99999999999999999999", NULL};
    expect_env_warning(
        huge, "environment OTEL_BSP_MAX_QUEUE_SIZE: number \"99999999999999999999\" is too "
              "large");
    static const char *const s[] = {"OTEL_TRACES_SAMPLER", "jaeger_remote", NULL};
    expect_env_warning(s, "environment OTEL_TRACES_SAMPLER: unknown sampler \"jaeger_remote\"");
    static const char *const r[] = {"OTEL_TRACES_SAMPLER", "traceidratio",
                                    "OTEL_TRACES_SAMPLER_ARG", "2", NULL};
    expect_env_warning(r,
                       "environment OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1, got "
                       "\"2\"");
    static const char *const d[] = {"OTEL_SDK_DISABLED", "yes", NULL};
    expect_env_warning(
        d, "environment OTEL_SDK_DISABLED: expected \"true\" or \"false\", got \"yes\"");
    static const char *const m[] = {"OTEL_RESOURCE_ATTRIBUTES", "a=1,oops", NULL};
    expect_env_warning(m, "environment OTEL_RESOURCE_ATTRIBUTES: invalid member \"oops\", expected "
                          "key=value");
    static const char *const k[] = {"OTEL_RESOURCE_ATTRIBUTES", " =v", NULL};
    expect_env_warning(k, "environment OTEL_RESOURCE_ATTRIBUTES: invalid member \"=v\", expected "
                          "key=value");
    static const char *const p[] = {"OTEL_RESOURCE_ATTRIBUTES", "a=x%2", NULL};
    expect_env_warning(p,
                       "environment OTEL_RESOURCE_ATTRIBUTES: invalid percent-encoding at \"%2\"");
    static const char *const nul[] = {"OTEL_RESOURCE_ATTRIBUTES", "a=x%00y", NULL};
    expect_env_warning(nul, "environment OTEL_RESOURCE_ATTRIBUTES: invalid percent-encoding at "
                            "\"%00y\"");
    static const char *const b[] = {"OTEL_BSP_MAX_QUEUE_SIZE", "10", NULL};
    expect_env_warning(b, "environment OTEL_BSP_MAX_QUEUE_SIZE: max_export_batch_size 512 must not "
                          "exceed max_queue_size 10");
}

static void test_mhd_otel_conf_parse_file_beats_env(void **state)
{
    (void)state;
    fake_env = rich_env;
    mhd_otel_conf *c = parse_ok(rich_conf);
    assert_string_equal(c->service_name, "checkout");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_true(c->sampler.ratio == 0.25);
    assert_int_equal(c->batch.max_queue_size, 4096);
    assert_int_equal(c->batch.schedule_delay_ns, 250 * MS);
    assert_int_equal(c->n_resource_attrs, 4);
    assert_string_equal(c->resource_attrs[0].key, "a");
    assert_string_equal(c->resource_attrs[1].value, "x y");
    assert_string_equal(c->resource_attrs[2].key, "deployment.environment");
    /* the file names its exporters: OTEL_TRACES_EXPORTER is ignored */
    assert_true(c->console);
    assert_true(c->otlp);
    assert_string_equal(c->otlp_endpoint, "http://collector:4317");
    assert_int_equal(c->n_otlp_headers, 2); /* api-key replaced, tenant kept */
    assert_string_equal(c->otlp_headers[0].key, "api-key");
    assert_string_equal(c->otlp_headers[0].value, "s3cret");
    assert_string_equal(c->otlp_headers[1].key, "tenant");
    assert_string_equal(c->otlp_headers[1].value, "t 1");
    assert_true(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 2 * SEC);
    mhd_otel_conf_del(c);
    /* what the file does not say comes from the environment */
    c = parse_ok("otel_trace on;");
    assert_true(c->console);
    assert_false(c->otlp);
    assert_string_equal(c->otlp_endpoint, "http://env-host:4317");
    assert_int_equal(c->otlp_timeout_ns, 500 * MS);
    assert_false(c->otlp_gzip);
    assert_string_equal(c->service_name, "env-name");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_TRACEIDRATIO);
    assert_true(c->sampler.ratio == 0.5);
    assert_int_equal(c->batch.max_queue_size, 1000);
    assert_int_equal(c->batch.max_export_batch_size, 512);
    assert_int_equal(c->batch.schedule_delay_ns, 20 * MS);
    mhd_otel_conf_del(c);
    fake_env = NULL;
}

/* An invalid variable is ignored: the file's value applies, and the
 * file's own errors are still errors. */
static void assert_propagators(const otel_propagators *p, size_t n, ...);

/* Values that stopped the load before: each is warned about once and the
 * default applies (OpenTelemetry Environment Variable Specification,
 * "Configuration types": Boolean, Numeric > Duration, Enum). */
static void test_mhd_otel_conf_from_env_invalid_warned_once(void **state)
{
    (void)state;
    static const char *const d[] = {"OTEL_SDK_DISABLED", "yes", NULL};
    mhd_otel_conf *c =
        env_warned(d, "environment OTEL_SDK_DISABLED: expected \"true\" or \"false\", got \"yes\"");
    assert_true(c->trace);
    mhd_otel_conf_del(c);
    static const char *const delay[] = {"OTEL_BSP_SCHEDULE_DELAY", "5s", NULL};
    c = env_warned(delay, "environment OTEL_BSP_SCHEDULE_DELAY: expected a non-negative integer, "
                          "got \"5s\"");
    otel_tracer_config def;
    otel_tracer_config_default(&def);
    assert_int_equal(c->batch.schedule_delay_ns, def.schedule_delay_ns);
    mhd_otel_conf_del(c);
    static const char *const e[] = {"OTEL_TRACES_EXPORTER", "zipkin", NULL};
    c = env_warned(e, "environment OTEL_TRACES_EXPORTER: unknown exporter \"zipkin\"");
    assert_true(c->otlp); /* the spec's default */
    assert_false(c->console);
    mhd_otel_conf_del(c);
    static const char *const s[] = {"OTEL_TRACES_SAMPLER", "jaeger_remote", NULL};
    c = env_warned(s, "environment OTEL_TRACES_SAMPLER: unknown sampler \"jaeger_remote\"");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    mhd_otel_conf_del(c);
    /* the file's value applies over an invalid variable, still warned */
    fake_env = s;
    log_start();
    c = parse_ok("otel_sampler always_off;");
    log_expect_one("environment OTEL_TRACES_SAMPLER: unknown sampler \"jaeger_remote\"; ignored");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_ALWAYS_OFF);
    mhd_otel_conf_del(c);
    fake_env = NULL;
    /* a header's value is never in the message */
    static const char *const h[] = {"OTEL_EXPORTER_OTLP_HEADERS",
                                    "api-key=s3cr3t%0A,Authorization Bearer-s3cr3t", NULL};
    c = env_warned(h, "environment OTEL_EXPORTER_OTLP_HEADERS: invalid header \"api-key\": the "
                      "header value must be printable ASCII");
    assert_null(strstr(log_text, "s3cr3t"));
    assert_int_equal(c->n_otlp_headers, 0); /* the variable is ignored as a whole */
    mhd_otel_conf_del(c);
}

/* File, else a valid variable, else the default, for a flag, a string, a
 * time, a size, an enum and a list. */
static void test_mhd_otel_conf_parse_precedence(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_SDK_DISABLED",
                                      "true",
                                      "OTEL_SERVICE_NAME",
                                      "env-svc",
                                      "OTEL_EXPORTER_OTLP_TIMEOUT",
                                      "700",
                                      "OTEL_BSP_MAX_QUEUE_SIZE",
                                      "4000",
                                      "OTEL_EXPORTER_OTLP_COMPRESSION",
                                      "gzip",
                                      "OTEL_PROPAGATORS",
                                      "b3",
                                      NULL};
    fake_env = env;
    mhd_otel_conf *c = parse_ok("otel_trace on;\n"
                                "otel_service_name file-svc;\n"
                                "otel_propagators baggage;\n"
                                "otel_exporter otlp { timeout 3s; compression none; }\n"
                                "otel_batch { max_queue_size 5000; }\n");
    assert_true(c->trace);
    assert_string_equal(c->service_name, "file-svc");
    assert_propagators(&c->propagators, 1, OTEL_PROPAGATOR_BAGGAGE);
    assert_int_equal(c->otlp_timeout_ns, 3 * SEC);
    assert_false(c->otlp_gzip);
    assert_int_equal(c->batch.max_queue_size, 5000);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp { }\n");
    assert_false(c->trace);
    assert_string_equal(c->service_name, "env-svc");
    assert_propagators(&c->propagators, 1, OTEL_PROPAGATOR_B3);
    assert_int_equal(c->otlp_timeout_ns, 700 * MS);
    assert_true(c->otlp_gzip);
    assert_int_equal(c->batch.max_queue_size, 4000);
    mhd_otel_conf_del(c);
    fake_env = NULL;
    c = parse_ok("otel_exporter otlp { }\n");
    assert_true(c->trace);
    assert_null(c->service_name);
    assert_propagators(&c->propagators, 2, OTEL_PROPAGATOR_TRACECONTEXT, OTEL_PROPAGATOR_BAGGAGE);
    assert_int_equal(c->otlp_timeout_ns, 10 * SEC);
    assert_false(c->otlp_gzip);
    assert_int_equal(c->signal_flush_ns, 1 * SEC);
    mhd_otel_conf_del(c);
}

/* Lists by nature may be repeated: each adds (a later key replaces). */
static void test_mhd_otel_conf_parse_lists_by_nature_accumulate(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_resource_attr a 1;\n"
                                "otel_resource_attr b 2;\n"
                                "otel_exporter otlp {\n"
                                "    header x-a 1;\n"
                                "    header x-b 2;\n"
                                "}\n");
    assert_int_equal(c->n_resource_attrs, 2);
    assert_string_equal(c->resource_attrs[1].key, "b");
    assert_int_equal(c->n_otlp_headers, 2);
    assert_string_equal(c->otlp_headers[1].key, "x-b");
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_env_warning_file_error(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_BSP_MAX_QUEUE_SIZE", "abc", NULL};
    fake_env = env;
    log_start();
    expect_error("otel_batch { max_queue_size 10; }", OTEL_ERR_RANGE,
                 "test.conf:1: max_export_batch_size 512 must not exceed max_queue_size 10");
    log_expect_one("environment OTEL_BSP_MAX_QUEUE_SIZE: expected a positive integer, got "
                   "\"abc\"; ignored");
    log_start();
    mhd_otel_conf *c = parse_ok("otel_batch { max_queue_size 1000; max_export_batch_size 10; }");
    log_expect_one("environment OTEL_BSP_MAX_QUEUE_SIZE: expected a positive integer, got "
                   "\"abc\"; ignored");
    assert_int_equal(c->batch.max_queue_size, 1000);
    mhd_otel_conf_del(c);
    fake_env = NULL;
}

/* ---- OTLP exporter ------------------------------------------------------- */

static void test_mhd_otel_conf_parse_otlp_exporter(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_exporter otlp { }");
    assert_true(c->otlp);
    assert_false(c->console);
    assert_null(c->otlp_endpoint);
    assert_int_equal(c->n_otlp_headers, 0);
    assert_false(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 10 * SEC);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp {\n"
                 "    endpoint http://otel.example.com:4317;\n"
                 "    header Authorization \"Bearer abc=\";\n"
                 "    header x-tenant 'a b';\n"
                 "    header AUTHORIZATION 'Bearer xyz';\n"
                 "    compression none;\n"
                 "    timeout 250ms;\n"
                 "}\n");
    assert_true(c->otlp);
    assert_string_equal(c->otlp_endpoint, "http://otel.example.com:4317");
    assert_int_equal(c->n_otlp_headers, 2);
    assert_string_equal(c->otlp_headers[0].key, "AUTHORIZATION");
    assert_string_equal(c->otlp_headers[0].value, "Bearer xyz");
    assert_string_equal(c->otlp_headers[1].key, "x-tenant");
    assert_string_equal(c->otlp_headers[1].value, "a b");
    assert_false(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 250 * MS);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_otlp_endpoints(void **state)
{
    (void)state;
    static const char *const good[] = {
        "http://127.0.0.1:4317",  "http://localhost",     "HTTP://Host-1.example:1",
        "http://[::1]:4317",      "http://[2001:db8::1]", "http://[::ffff:127.0.0.1]:65535",
        "http://collector:4317/",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char text[160];
        snprintf(text, sizeof(text), "otel_exporter otlp { endpoint '%s'; }", good[i]);
        mhd_otel_conf *c = parse_ok(text);
        assert_string_equal(c->otlp_endpoint, good[i]);
        mhd_otel_conf_del(c);
    }
}

/* The exporter reads a port of at most 5 digits: an endpoint the config
 * takes must be one otel_h2_endpoint_parse takes too (found by fuzz_conf). */
static void test_mhd_otel_conf_parse_endpoint_port_digits(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_exporter otlp { endpoint http://h:04317; }");
    assert_string_equal(c->otlp_endpoint, "http://h:04317");
    mhd_otel_conf_del(c);
    expect_error("otel_exporter otlp { endpoint http://collector:000080; }", OTEL_ERR_PARSE,
                 "test.conf:1: endpoint \"http://collector:000080\": the port must be a number "
                 "in 1..65535 (protocol grpc)");
    static const char *const env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:004317", NULL};
    expect_env_warning(env, "environment OTEL_EXPORTER_OTLP_ENDPOINT: endpoint "
                            "\"http://h:004317\": the port must be a number in 1..65535 "
                            "(protocol grpc)");
}

/* A number too large for its variable is quoted in the message like any
 * other value: the blanks around it (here CR and LF) shown as '?', never
 * written raw (found by fuzz_conf_env). */
static void test_mhd_otel_conf_from_env_too_large_is_shown(void **state)
{
    (void)state;
    static const char *const delay[] = {"OTEL_BSP_SCHEDULE_DELAY", "\r18446744073709551\n", NULL};
    expect_env_warning(delay,
                       "environment OTEL_BSP_SCHEDULE_DELAY: number \"?18446744073709551?\" is too "
                       "large");
    static const char *const timeout[] = {"OTEL_EXPORTER_OTLP_TIMEOUT", " 18446744073709551\n",
                                          NULL};
    expect_env_warning(timeout,
                       "environment OTEL_EXPORTER_OTLP_TIMEOUT: number \" 18446744073709551?\" is "
                       "too large");
}

static void test_mhd_otel_conf_parse_bad_endpoint(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        const char *why;
    } bad[] = {
        {"grpc://h:4317", "it must start with \"http://\" or \"https://\""},
        {"http//h:4317", "it must start with \"http://\" or \"https://\""},
        {"http://", "empty host"},
        {"http://:4317", "empty host"},
        {"https:///x", "empty host"},
        {"http://h:", "empty port"},
        {"http://h:0", "the port must be between 1 and 65535"},
        {"http://h:65536", "the port must be between 1 and 65535"},
        {"http://h:99999999999999999999", "the port must be between 1 and 65535"},
        {"http://h:43x7", "the port must be a number"},
        {"http://h:-1", "the port must be a number"},
        {"http://::1:4317", "an IPv6 address must be in brackets"},
        {"http://2001:db8::1", "an IPv6 address must be in brackets"},
        {"http://[::1:4317", "\"[\" is not closed"},
        {"http://[]:4317", "invalid IPv6 address"},
        {"http://[g::1]:4317", "invalid IPv6 address"},
        {"http://[1234]:4317", "invalid IPv6 address"},
        {"http://[1:2:3]:4317", "invalid IPv6 address"},
        {"http://[::1]x:4317", "unexpected characters after the host"},
        {"http://ho st:4317", "invalid character in the host"},
        {"http://user@h:4317", "no user name allowed"},
        {"http://h:4317?x=1", "the port must be a number"},
        {"http://h?x=1", "invalid character in the host"},
        {"http://h:4317/v1/traces", "no path allowed (OTLP/gRPC takes http://HOST:PORT)"},
        {"http://h:4317//", "no path allowed (OTLP/gRPC takes http://HOST:PORT)"},
        {"http://h~1:4317", "invalid character in the host"},
    };
    /* the OTLP exporter's rules (otel_otlp_endpoint_check) and its reason,
     * with the line of the directive */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[160], msg[600], why[512];
        snprintf(text, sizeof(text), "otel_trace on;\notel_exporter otlp {\n endpoint '%s';\n}",
                 bad[i].url);
        assert_int_not_equal(
            otel_otlp_endpoint_check(bad[i].url, OTEL_OTLP_GRPC, false, why, sizeof(why)), 0);
        snprintf(msg, sizeof(msg), "test.conf:3: %s (protocol grpc)", why);
        expect_error(text, OTEL_ERR_PARSE, msg);
    }
    expect_error("otel_exporter otlp { endpoint ''; }", OTEL_ERR_PARSE,
                 "test.conf:1: empty value in \"endpoint\"");
}

/* https:// is TLS (OTLP exporter spec, "Endpoint (OTLP/gRPC)": "A scheme of
 * https indicates a secure connection"); an endpoint without a scheme is
 * TLS unless insecure ("Insecure", OTEL_EXPORTER_OTLP_INSECURE, a Boolean
 * of the environment specification). */
static void test_mhd_otel_conf_parse_https_endpoint(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_exporter otlp {\n    endpoint https://otel.example.com;\n}");
    assert_string_equal(c->otlp_endpoint, "https://otel.example.com");
    otel_otlp_config oc;
    char url[256];
    mhd_otel_conf_otlp(c, &oc);
    assert_int_equal(otel_otlp_target(&oc, url, sizeof(url), NULL, 0), 0);
    assert_string_equal(url, "https://otel.example.com");
    assert_false(oc.tls_no_verify);
    mhd_otel_conf_del(c);

    c = parse_ok("otel_exporter otlp { endpoint collector:4317; }");
    mhd_otel_conf_otlp(c, &oc);
    assert_int_equal(otel_otlp_target(&oc, url, sizeof(url), NULL, 0), 0);
    assert_string_equal(url, "https://collector:4317");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp { endpoint collector:4317; insecure on; }");
    mhd_otel_conf_otlp(c, &oc);
    assert_int_equal(otel_otlp_target(&oc, url, sizeof(url), NULL, 0), 0);
    assert_string_equal(url, "http://collector:4317");
    mhd_otel_conf_del(c);

    static const char *const env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317",
                                      "OTEL_EXPORTER_OTLP_INSECURE", "TRUE", NULL};
    fake_env = env;
    c = parse_ok("otel_exporter otlp { }");
    fake_env = NULL;
    assert_true(c->otlp_insecure);
    mhd_otel_conf_del(c);
    static const char *const yes[] = {"OTEL_EXPORTER_OTLP_INSECURE", "yes", NULL};
    expect_env_warning(yes, "environment OTEL_EXPORTER_OTLP_INSECURE: expected \"true\" or "
                            "\"false\", got \"yes\"");
}

/* OTLP exporter spec, "Specify Protocol": grpc, http/protobuf, http/json;
 * the signal's variable over the general one; anything else is an error
 * in the file and a warning for the environment (an enum of the
 * environment specification: "MUST generate a warning and gracefully
 * ignore the setting"). The default stays grpc. */
static void test_mhd_otel_conf_parse_protocol(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_exporter otlp { }");
    assert_int_equal(c->otlp_protocol, OTEL_OTLP_GRPC);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp { protocol http/json; }");
    assert_int_equal(c->otlp_protocol, OTEL_OTLP_HTTP_JSON);
    mhd_otel_conf_del(c);
    expect_error("otel_exporter otlp {\n protocol http;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid value \"http\" in \"protocol\", it must be \"grpc\", "
                 "\"http/protobuf\" or \"http/json\"");
    static const char *const both[] = {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json",
                                       "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "HTTP/Protobuf", NULL};
    fake_env = both;
    c = parse_ok("otel_exporter otlp { }");
    fake_env = NULL;
    assert_int_equal(c->otlp_protocol, OTEL_OTLP_HTTP_PROTOBUF);
    mhd_otel_conf_del(c);
    static const char *const bogus[] = {"OTEL_EXPORTER_OTLP_PROTOCOL", "bogus", NULL};
    c = env_warned(bogus, "environment OTEL_EXPORTER_OTLP_PROTOCOL: invalid value \"bogus\" in "
                          "\"protocol\", it must be \"grpc\", \"http/protobuf\" or "
                          "\"http/json\"");
    assert_int_equal(c->otlp_protocol, OTEL_OTLP_GRPC);
    mhd_otel_conf_del(c);
    /* a path is for OTLP/HTTP: an error where the endpoint is written */
    expect_error("otel_exporter otlp {\n endpoint http://h:4318/v1/traces;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: endpoint \"http://h:4318/v1/traces\": unexpected \"v1/traces\" "
                 "(OTLP/gRPC takes http://HOST:PORT, no path) (protocol grpc)");
}

/* The URL of each way to give an OTLP/HTTP endpoint (OTLP exporter spec,
 * "Endpoint URLs for OTLP/HTTP": with OTEL_EXPORTER_OTLP_ENDPOINT the
 * exporter appends v1/traces, correcting for double slashes; the
 * per-signal one is used as-is; the file's without a path gets
 * /v1/traces. */
static void test_mhd_otel_conf_http_endpoint_urls(void **state)
{
    (void)state;
    static const struct {
        const char *file; /* the endpoint directive, or NULL */
        const char *var, *value;
        const char *url;
    } cases[] = {
        {NULL, NULL, NULL, "http://localhost:4318/v1/traces"},
        {"https://h", NULL, NULL, "https://h/v1/traces"},
        {"https://h:4318/", NULL, NULL, "https://h:4318/v1/traces"},
        {"https://h/otlp/v1/spans", NULL, NULL, "https://h/otlp/v1/spans"},
        {NULL, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318", "http://h:4318/v1/traces"},
        {NULL, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318/", "http://h:4318/v1/traces"},
        {NULL, "OTEL_EXPORTER_OTLP_ENDPOINT", "https://h/base/", "https://h/base/v1/traces"},
        {NULL, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://h:4318", "http://h:4318/"},
        {NULL, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://h/custom", "http://h/custom"},
        {"http://f:1", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:4318", "http://f:1/v1/traces"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256], url[256];
        const char *env[] = {cases[i].var, cases[i].value, NULL};
        snprintf(text, sizeof(text), "otel_exporter otlp { protocol http/protobuf; %s%s%s }",
                 cases[i].file ? "endpoint " : "", cases[i].file ? cases[i].file : "",
                 cases[i].file ? ";" : "");
        fake_env = cases[i].var ? env : NULL;
        mhd_otel_conf *c = parse_ok(text);
        fake_env = NULL;
        otel_otlp_config oc;
        mhd_otel_conf_otlp(c, &oc);
        assert_int_equal(otel_otlp_target(&oc, url, sizeof(url), NULL, 0), 0);
        assert_string_equal(url, cases[i].url);
        mhd_otel_conf_del(c);
    }
}

/* The endpoint the exporter sends to is what is checked: its control
 * bytes are shown as '?' in the message (found by fuzz_conf), and a URL
 * that is too long only once /v1/traces is appended is refused at parse
 * time, not by the exporter at start. */
static void test_mhd_otel_conf_endpoint_as_sent(void **state)
{
    (void)state;
    expect_error("otel_exporter otlp { endpoint \"ht/t:p/c:\0340://80\"; }", OTEL_ERR_PARSE,
                 "test.conf:1: endpoint \"ht/t:p/c:?0://80\": must start with http:// or "
                 "https:// (protocol grpc)");
    static char url[OTEL_OTLP_URL_MAX];
    size_t n = OTEL_OTLP_URL_MAX - 5; /* fits as it is, not with /v1/traces */
    memcpy(url, "http://h:4318/", 14);
    memset(url + 14, 'p', n - 14);
    url[n] = '\0';
    static const char *env[] = {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", NULL, url, NULL};
    env[2] = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"; /* used as given */
    fake_env = env;
    mhd_otel_conf *c = parse_ok("otel_trace on;");
    fake_env = NULL;
    assert_string_equal(c->otlp_endpoint, url);
    mhd_otel_conf_del(c);
    env[2] = "OTEL_EXPORTER_OTLP_ENDPOINT"; /* gets /v1/traces */
    c = env_warned(env, "environment OTEL_EXPORTER_OTLP_ENDPOINT: endpoint too long (protocol "
                        "http/protobuf)");
    assert_null(c->otlp_endpoint);
    mhd_otel_conf_del(c);
}

/* TLS settings: checked once merged, at the first TLS directive's line;
 * the environment's are warned about and ignored. */
static void test_mhd_otel_conf_tls_settings(void **state)
{
    (void)state;
    expect_error("otel_exporter otlp {\n endpoint http://h:4317;\n ca_file /etc/hostname;\n}",
                 OTEL_ERR_PARSE,
                 "test.conf:3: TLS settings (CA file, client certificate, verification) given for "
                 "endpoint \"http://h:4317\", which is not https://");
    expect_error("otel_exporter otlp {\n endpoint https://h;\n ca_file /nonexistent/ca.pem;\n}",
                 OTEL_ERR_PARSE,
                 "test.conf:3: cannot read CA file \"/nonexistent/ca.pem\": No such file or "
                 "directory");
    expect_error("otel_exporter otlp {\n endpoint https://h;\n client_cert /nonexistent/c.pem;\n}",
                 OTEL_ERR_PARSE,
                 "test.conf:3: a client certificate needs its key and a key its certificate "
                 "(client_cert and client_key together)");
    mhd_otel_conf *c = parse_ok("otel_exporter otlp { endpoint https://h; tls_verify off; }");
    assert_false(c->otlp_tls_verify);
    mhd_otel_conf_del(c);
    static const char *const env[] = {"OTEL_EXPORTER_OTLP_ENDPOINT", "https://h:4317",
                                      "OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem",
                                      NULL};
    c = env_warned(env, "environment OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read CA file "
                        "\"/nonexistent/ca.pem\": No such file or directory");
    assert_null(c->otlp_ca_file);
    mhd_otel_conf_del(c);
    static const char *const traces[] = {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/a.pem",
                                         "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/b.pem", NULL};
    fake_env = traces;
    char err[512] = "";
    c = NULL;
    log_start();
    assert_int_equal(
        mhd_otel_conf_parse(&c, "test.conf", "otel_trace on;", 14, env_fn, err, sizeof(err)), 0);
    otel_log_set(NULL, NULL);
    fake_env = NULL;
    /* the signal's variable is the one read (its file is then missing) */
    assert_non_null(strstr(log_text, "environment OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: "));
    assert_null(c->otlp_ca_file);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_bad_otlp_directives(void **state)
{
    (void)state;
    expect_error("otel_exporter otlp {\n  header 'X Y' v;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid header \"X Y\": invalid character in the header name");
    expect_error("otel_exporter otlp {\n  header '' v;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid header \"\": a header needs a name and a value");
    expect_error("otel_exporter otlp { header grpc-timeout 1S; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid header \"grpc-timeout\": the header is set by HTTP/2 or "
                 "gRPC itself");
    expect_error("otel_exporter otlp { header Content-Type text/plain; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid header \"Content-Type\": the header is set by HTTP/2 or "
                 "gRPC itself");
    expect_error("otel_exporter otlp { header TE trailers; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid header \"TE\": the header is set by HTTP/2 or gRPC itself");
    /* a bad value: the header is named, the value (an API key) never shown */
    expect_error("otel_exporter otlp {\n  header x-a\n 'secret\\tb';\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid header \"x-a\": the header value must be printable ASCII");
    expect_error("otel_exporter otlp { header x-a \"caf\xC3\xA9\"; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid header \"x-a\": the header value must be printable ASCII");
    expect_error("otel_exporter otlp { header x-a; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"header\"");
    expect_error("otel_exporter otlp {\n  compression zstd;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid value \"zstd\" in \"compression\", it must be \"gzip\" or "
                 "\"none\"");
    expect_error("otel_exporter otlp { compression GZIP; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid value \"GZIP\" in \"compression\", it must be \"gzip\" or "
                 "\"none\"");
    expect_error("otel_exporter otlp {\n\n  timeout 0;\n}", OTEL_ERR_RANGE,
                 "test.conf:3: time \"0\" in \"timeout\" is too small");
    expect_error("otel_exporter otlp { timeout 0ms; }", OTEL_ERR_RANGE,
                 "test.conf:1: time \"0ms\" in \"timeout\" is too small");
    expect_error("otel_exporter otlp { timeout 10x; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid time \"10x\" in \"timeout\"");
    expect_error("otel_exporter otlp { endpoint a b; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"endpoint\"");
    expect_error("otel_exporter otlp {\n  endpont http://h:1;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: unknown directive \"endpont\" in \"otel_exporter otlp\" (did you "
                 "mean \"endpoint\"?)");
    expect_error("otel_exporter otlp { format json; }", OTEL_ERR_PARSE,
                 "test.conf:1: unknown directive \"format\" in \"otel_exporter otlp\"");
    expect_error("\nendpoint http://h:1;", OTEL_ERR_PARSE,
                 "test.conf:2: unknown directive \"endpoint\" (it belongs inside "
                 "\"otel_exporter otlp { ... }\")");
    expect_error("otel_exporter otlp;", OTEL_ERR_PARSE,
                 "test.conf:1: directive \"otel_exporter\" has no opening \"{\"");
    expect_error("otel_exporter otlp {\n  endpoint http://h:1\n  compression gzip;\n}",
                 OTEL_ERR_PARSE,
                 "test.conf:3: unexpected \"compression\": directive \"endpoint\" on line 2 is "
                 "not terminated by \";\"");
}

static void test_mhd_otel_conf_parse_exporter_choice(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool console, otlp;
    } cases[] = {
        {"", false, true},
        {"otel_trace on;", false, true},
        {"otel_exporter console { }", true, false},
        {"otel_exporter otlp { }", false, true},
        {"otel_exporter console { }\notel_exporter otlp { }", true, true},
        {"otel_exporter otlp { }\notel_exporter console { }", true, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mhd_otel_conf *c = parse_ok(cases[i].text);
        assert_int_equal(c->console, cases[i].console);
        assert_int_equal(c->otlp, cases[i].otlp);
        mhd_otel_conf_del(c);
    }
}

/* OTEL_TRACES_EXPORTER with a file that has no otel_exporter block, then
 * with one (the file wins). */
static void test_mhd_otel_conf_from_env_traces_exporter(void **state)
{
    (void)state;
    static const struct {
        const char *value; /* NULL: unset */
        bool console, otlp;
    } cases[] = {
        {NULL, false, true},          {"", false, true},
        {"otlp", false, true},        {"console", true, false},
        {"otlp,console", true, true}, {" Console , OTLP ", true, true},
        {"none", false, false},       {" NONE ", false, false},
        {"otlp,otlp", false, true},   {",console,", true, false},
        {" , ", false, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *env[] = {"OTEL_TRACES_EXPORTER", cases[i].value, NULL};
        char err[256];
        mhd_otel_conf *c = NULL;
        fake_env = env;
        if (mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)) != 0)
            fail_msg("\"%s\": %s", cases[i].value, err);
        assert_int_equal(c->console, cases[i].console);
        assert_int_equal(c->otlp, cases[i].otlp);
        assert_string_equal(c->console_output, "stdout");
        assert_int_equal(c->console_format, OTEL_CONSOLE_JSON);
        mhd_otel_conf_del(c);
        c = parse_ok("otel_service_name x;");
        assert_int_equal(c->console, cases[i].console);
        assert_int_equal(c->otlp, cases[i].otlp);
        mhd_otel_conf_del(c);
        c = parse_ok("otel_exporter console { format pretty; }");
        assert_true(c->console);
        assert_false(c->otlp);
        assert_int_equal(c->console_format, OTEL_CONSOLE_PRETTY);
        mhd_otel_conf_del(c);
        c = parse_ok("otel_exporter otlp { }");
        assert_false(c->console);
        assert_true(c->otlp);
        mhd_otel_conf_del(c);
        fake_env = NULL;
    }
}

static void test_mhd_otel_conf_from_env_otlp_variables(void **state)
{
    (void)state;
    static const char *const env[] = {
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        " http://[::1]:4317 ",
        "OTEL_EXPORTER_OTLP_HEADERS",
        " api-key = a%20b%2Cc%3D , ,X-Empty=,x-eq=a=b,Authorization=Basic%20dXNlcg== ",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        " 2500 ",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        " GZip ",
        NULL,
    };
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = env;
    int rc = mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err));
    fake_env = NULL;
    if (rc != 0)
        fail_msg("%s", err);
    assert_true(c->otlp);
    assert_string_equal(c->otlp_endpoint, "http://[::1]:4317");
    assert_int_equal(c->n_otlp_headers, 4);
    assert_string_equal(c->otlp_headers[0].key, "api-key");
    assert_string_equal(c->otlp_headers[0].value, "a b,c=");
    assert_string_equal(c->otlp_headers[1].key, "X-Empty");
    assert_string_equal(c->otlp_headers[1].value, "");
    assert_string_equal(c->otlp_headers[2].key, "x-eq");
    assert_string_equal(c->otlp_headers[2].value, "a=b");
    assert_string_equal(c->otlp_headers[3].key, "Authorization");
    assert_string_equal(c->otlp_headers[3].value, "Basic dXNlcg==");
    assert_int_equal(c->otlp_timeout_ns, 2500 * MS);
    assert_true(c->otlp_gzip);
    mhd_otel_conf_del(c);
}

/* Each OTLP setting read from its general variable, its signal-specific
 * one, or both (the specific one wins, headers as a whole). */
static void test_mhd_otel_conf_from_env_otlp_precedence(void **state)
{
    (void)state;
    static const char *const general[] = {
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "http://general:1",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "a=1,b=2",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "100",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "gzip",
        NULL,
    };
    static const char *const specific[] = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "http://traces:2",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "c=3",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "200",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        "gzip",
        NULL,
    };
    /* the specific ones first: env_fn returns the first match, and the
     * general ones are then still set, with other values */
    static const char *const both[] = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "http://traces:2",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "c=3",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "200",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "http://general:1",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "a=1,b=2",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "100",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "gzip",
        NULL,
    };
    /* a bad general value does not matter when the specific one is set */
    static const char *const bad_general[] = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "http://traces:2",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        "c=3",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "200",
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        "none",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "nonsense",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "oops",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "-1",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "zstd",
        NULL,
    };
    static const struct {
        const char *const *env;
        const char *endpoint;
        size_t n_headers;
        const char *first_header;
        uint64_t timeout_ms;
        bool gzip;
    } cases[] = {
        {general, "http://general:1", 2, "a", 100, true},
        {specific, "http://traces:2", 1, "c", 200, true},
        {both, "http://traces:2", 1, "c", 200, false},
        {bad_general, "http://traces:2", 1, "c", 200, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256];
        mhd_otel_conf *c = NULL;
        fake_env = cases[i].env;
        int rc = mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err));
        fake_env = NULL;
        if (rc != 0)
            fail_msg("case %zu: %s", i, err);
        assert_string_equal(c->otlp_endpoint, cases[i].endpoint);
        assert_int_equal(c->n_otlp_headers, cases[i].n_headers);
        assert_string_equal(c->otlp_headers[0].key, cases[i].first_header);
        assert_int_equal(c->otlp_timeout_ns, cases[i].timeout_ms * MS);
        assert_int_equal(c->otlp_gzip, cases[i].gzip);
        mhd_otel_conf_del(c);
    }
}

/* The file's otlp block over the environment, setting by setting. */
static void test_mhd_otel_conf_parse_otlp_file_beats_env(void **state)
{
    (void)state;
    static const char *const env[] = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "http://env:1",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "a=env-a,b=env-b",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "100",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "gzip",
        "OTEL_TRACES_EXPORTER",
        "none",
        NULL,
    };
    fake_env = env;
    mhd_otel_conf *c = parse_ok("otel_exporter otlp {\n"
                                "    endpoint http://file:2;\n"
                                "    header B file-b;\n"
                                "    header c file-c;\n"
                                "    compression none;\n"
                                "    timeout 3s;\n"
                                "}\n");
    assert_true(c->otlp);
    assert_false(c->console);
    assert_string_equal(c->otlp_endpoint, "http://file:2");
    assert_int_equal(c->n_otlp_headers, 3);
    assert_string_equal(c->otlp_headers[0].key, "a");
    assert_string_equal(c->otlp_headers[0].value, "env-a");
    assert_string_equal(c->otlp_headers[1].key, "B");
    assert_string_equal(c->otlp_headers[1].value, "file-b");
    assert_string_equal(c->otlp_headers[2].key, "c");
    assert_false(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 3 * SEC);
    mhd_otel_conf_del(c);
    /* an empty block keeps every setting of the environment */
    c = parse_ok("otel_exporter otlp { }");
    assert_string_equal(c->otlp_endpoint, "http://env:1");
    assert_int_equal(c->n_otlp_headers, 2);
    assert_true(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 100 * MS);
    mhd_otel_conf_del(c);
    /* no block: OTEL_TRACES_EXPORTER=none turns every exporter off */
    c = parse_ok("otel_trace on;");
    assert_false(c->otlp);
    assert_false(c->console);
    mhd_otel_conf_del(c);
    fake_env = NULL;
}

static void test_mhd_otel_conf_from_env_otlp_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *var, *value;
        int code;
        const char *msg;
    } cases[] = {
        {"OTEL_TRACES_EXPORTER", "x", OTEL_ERR_PARSE,
         "environment OTEL_TRACES_EXPORTER: unknown exporter \"x\""},
        {"OTEL_TRACES_EXPORTER", "otlp, jaeger", OTEL_ERR_PARSE,
         "environment OTEL_TRACES_EXPORTER: unknown exporter \"jaeger\""},
        {"OTEL_TRACES_EXPORTER", "otlp,none", OTEL_ERR_PARSE,
         "environment OTEL_TRACES_EXPORTER: \"none\" cannot be combined with other exporters"},
        {"OTEL_TRACES_EXPORTER", "logging-otlp-console", OTEL_ERR_PARSE,
         "environment OTEL_TRACES_EXPORTER: unknown exporter \"logging-otlp-console\""},
        {"OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://localhost:4317", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_ENDPOINT: endpoint \"grpc://localhost:4317\": must start "
         "with http:// or https:// (protocol grpc)"},
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://h:70000", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint \"http://h:70000\": the port "
         "must be a number in 1..65535 (protocol grpc)"},
        /* header values carry API keys: no message shows one */
        {"OTEL_EXPORTER_OTLP_HEADERS", "a=1,oops", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_HEADERS: invalid member, expected name=value"},
        {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", " =v", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_TRACES_HEADERS: invalid member, expected name=value"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "x y=1", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_HEADERS: invalid header \"x y\": invalid character in "
         "the header name"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "grpc-encoding=identity", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_HEADERS: invalid header \"grpc-encoding\": the header "
         "is set by HTTP/2 or gRPC itself"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "a=secret%2", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_HEADERS: invalid header \"a\": invalid percent-encoding "
         "in its value"},
        {"OTEL_EXPORTER_OTLP_HEADERS", "a=secret%0D%0Ay", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_HEADERS: invalid header \"a\": the header value must be "
         "printable ASCII"},
        {"OTEL_EXPORTER_OTLP_TIMEOUT", "0", OTEL_ERR_RANGE,
         "environment OTEL_EXPORTER_OTLP_TIMEOUT: expected a positive integer, got \"0\""},
        {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: expected a positive integer, got "
         "\"10s\""},
        {"OTEL_EXPORTER_OTLP_TIMEOUT", "18446744073709551", OTEL_ERR_RANGE,
         "environment OTEL_EXPORTER_OTLP_TIMEOUT: number \"18446744073709551\" is too large"},
        {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_COMPRESSION: invalid value \"zstd\" in \"compression\", "
         "it must be \"gzip\" or \"none\""},
        {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip2", OTEL_ERR_PARSE,
         "environment OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: invalid value \"gzip2\" in "
         "\"compression\", it must be \"gzip\" or \"none\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *env[] = {cases[i].var, cases[i].value, NULL};
        (void)cases[i].code;
        expect_env_warning(env, cases[i].msg);
        /* the same warning with a config file, even one naming its exporters */
        char want[600];
        snprintf(want, sizeof(want), "%s; ignored", cases[i].msg);
        fake_env = env;
        log_start();
        mhd_otel_conf_del(parse_ok("otel_exporter console { }"));
        log_expect_one(want);
        fake_env = NULL;
    }
}

/* ---- files --------------------------------------------------------------- */

static void test_mhd_otel_conf_load_missing_file(void **state)
{
    (void)state;
    char err[256];
    mhd_otel_conf *c = (mhd_otel_conf *)&err;
    int rc = mhd_otel_conf_load(&c, "/nonexistent/dir/mhd-otel.conf", err, sizeof(err));
    assert_int_equal(rc, OTEL_ERR_IO);
    assert_null(c);
    assert_string_equal(err,
                        "/nonexistent/dir/mhd-otel.conf: cannot open: No such file or directory");
    assert_int_equal(mhd_otel_conf_load(&c, NULL, err, sizeof(err)), OTEL_ERR_INVALID);
}

static void test_mhd_otel_conf_load_directory(void **state)
{
    (void)state;
    char err[256];
    mhd_otel_conf *c = NULL;
    int rc = mhd_otel_conf_load(&c, "/tmp", err, sizeof(err));
    assert_int_equal(rc, OTEL_ERR_IO);
    assert_null(c);
    assert_non_null(strstr(err, "/tmp: cannot "));
}

static void test_mhd_otel_conf_load_temp_file(void **state)
{
    (void)state;
    char err[256];
    mhd_otel_conf *c = NULL;
    const char *path = write_temp("otel_service_name file-svc;\notel_skip_path /ping;\n");
    unsetenv("OTEL_SERVICE_NAME");
    setenv("OTEL_BSP_SCHEDULE_DELAY", "1500", 1);
    int rc = mhd_otel_conf_load(&c, path, err, sizeof(err));
    unsetenv("OTEL_BSP_SCHEDULE_DELAY");
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c->service_name, "file-svc");
    assert_string_equal(c->skip_paths.v[0], "/ping");
    assert_int_equal(c->batch.schedule_delay_ns, 1500 * MS);
    mhd_otel_conf_del(c);
    unlink(path);
}

static void test_mhd_otel_conf_load_error_names_path(void **state)
{
    (void)state;
    char err[256], expect[300];
    mhd_otel_conf *c = NULL;
    const char *path = write_temp("otel_trace on;\n\notel_tracing on;\n");
    int rc = mhd_otel_conf_load(&c, path, err, sizeof(err));
    unlink(path);
    assert_int_equal(rc, OTEL_ERR_PARSE);
    assert_null(c);
    snprintf(expect, sizeof(expect),
             "%s:3: unknown directive \"otel_tracing\" (did you mean \"otel_trace\"?)", path);
    assert_string_equal(err, expect);
}

static void test_mhd_otel_conf_load_too_large(void **state)
{
    (void)state;
    char err[256];
    mhd_otel_conf *c = NULL;
    size_t n = 1024 * 1024 + 1;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, '\n', n);
    text[n] = '\0';
    const char *path = write_temp(text);
    free(text);
    int rc = mhd_otel_conf_load(&c, path, err, sizeof(err));
    unlink(path);
    assert_int_equal(rc, OTEL_ERR_RANGE);
    assert_null(c);
    assert_non_null(strstr(err, "larger than 1048576 bytes"));
}

static void load_shipped(const char *name)
{
    char path[128], err[512];
    mhd_otel_conf *c = NULL;
    int rc = mhd_otel_conf_load(&c, config_path(name, path, sizeof(path)), err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: %s", name, err);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_load_reference_conf(void **state)
{
    (void)state;
    load_shipped("reference.conf");
}

static void test_mhd_otel_conf_load_demo_conf(void **state)
{
    (void)state;
    char path[128], err[512];
    mhd_otel_conf *c = NULL;
    unsetenv("OTEL_SERVICE_NAME");
    int rc = mhd_otel_conf_load(&c, config_path("demo.conf", path, sizeof(path)), err, sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c->service_name, "demo-server");
    assert_int_equal(c->n_resource_attrs, 1);
    assert_string_equal(c->resource_attrs[0].key, "deployment.environment");
    assert_string_equal(c->resource_attrs[0].value, "demo");
    assert_int_equal(c->sampler.kind, OTEL_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_int_equal(c->skip_paths.n, 1);
    assert_string_equal(c->skip_paths.v[0], "/health");
    assert_int_equal(c->routes.n, 5);
    assert_string_equal(c->routes.v[0], "/hello/{name}");
    assert_string_equal(c->routes.v[3], "/error");
    assert_string_equal(c->routes.v[4], "/test");
    assert_int_equal(c->capture_headers.n, 1);
    assert_string_equal(c->capture_headers.v[0], "X-User-ID");
    assert_true(c->console);
    assert_int_equal(c->console_format, OTEL_CONSOLE_JSON);
    assert_string_equal(c->console_output, "stdout");
    assert_false(c->otlp);
    assert_int_equal(c->batch.schedule_delay_ns, SEC);
    mhd_otel_conf_del(c);
    load_shipped("demo.conf");
}

static void test_mhd_otel_conf_load_otlp_conf(void **state)
{
    (void)state;
    char path[128], err[512];
    mhd_otel_conf *c = NULL;
    unsetenv("OTEL_SERVICE_NAME");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    int rc = mhd_otel_conf_load(&c, config_path("otlp.conf", path, sizeof(path)), err, sizeof(err));
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(c->service_name, "demo-server");
    assert_int_equal(c->routes.n, 4);
    assert_false(c->console);
    assert_true(c->otlp);
    assert_string_equal(c->otlp_endpoint, "http://127.0.0.1:4317");
    assert_true(c->otlp_gzip);
    assert_int_equal(c->otlp_timeout_ns, 10 * SEC);
    assert_int_equal(c->batch.schedule_delay_ns, SEC);
    mhd_otel_conf_del(c);
}

/* ---- allocation failures ------------------------------------------------- */

static void test_mhd_otel_conf_parse_alloc_failures(void **state)
{
    (void)state;
    char err[256];
    long n;
    fake_env = rich_env;
    for (n = 0; n < 10000; n++) {
        mhd_otel_conf *c = (mhd_otel_conf *)&err;
        otel_alloc_fail_after(n);
        int rc = mhd_otel_conf_parse(&c, "test.conf", rich_conf, strlen(rich_conf), env_fn, err,
                                     sizeof(err));
        otel_alloc_fail_after(-1);
        if (rc == 0) {
            assert_non_null(c);
            mhd_otel_conf_del(c);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(c);
        assert_non_null(strstr(err, "out of memory"));
    }
    fake_env = NULL;
    assert_true(n > 20); /* the loop did go through the parser */
    assert_true(n < 10000);
}

static void test_mhd_otel_conf_load_alloc_failures(void **state)
{
    (void)state;
    char err[256];
    long n;
    const char *path = write_temp(rich_conf);
    for (n = 0; n < 10000; n++) {
        mhd_otel_conf *c = NULL;
        otel_alloc_fail_after(n);
        int rc = mhd_otel_conf_load(&c, path, err, sizeof(err));
        otel_alloc_fail_after(-1);
        if (rc == 0) {
            mhd_otel_conf_del(c);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(c);
    }
    unlink(path);
    assert_true(n < 10000);
}

/* ---- propagators and trust ------------------------------------------------ */

/* p holds exactly the kinds given, in that order (n of them). */
static void assert_propagators(const otel_propagators *p, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    assert_int_equal(p->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p->order[i], va_arg(ap, int));
    va_end(ap);
}

static void test_mhd_otel_conf_parse_propagators(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("");
    assert_propagators(&c->propagators, 2, OTEL_PROPAGATOR_TRACECONTEXT, OTEL_PROPAGATOR_BAGGAGE);
    assert_true(c->trust_incoming);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_propagators b3 tracecontext b3multi b3;\notel_trust_incoming off;");
    assert_propagators(&c->propagators, 3, OTEL_PROPAGATOR_B3, OTEL_PROPAGATOR_TRACECONTEXT,
                       OTEL_PROPAGATOR_B3MULTI);
    assert_false(c->trust_incoming);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_propagators none;");
    assert_propagators(&c->propagators, 0);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_propagators \"B3,baggage\";");
    assert_propagators(&c->propagators, 2, OTEL_PROPAGATOR_B3, OTEL_PROPAGATOR_BAGGAGE);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_parse_bad_propagators(void **state)
{
    (void)state;
    expect_error("\notel_propagators tracecontext x;", OTEL_ERR_PARSE,
                 "test.conf:2: unknown propagator \"x\"");
    expect_error("otel_propagators b3mutli;", OTEL_ERR_PARSE,
                 "test.conf:1: unknown propagator \"b3mutli\" (did you mean \"b3multi\"?)");
    expect_error("otel_propagators \"tracecontext,bagage\";", OTEL_ERR_PARSE,
                 "test.conf:1: unknown propagator \"bagage\" (did you mean \"baggage\"?)");
    expect_error("otel_propagators none b3;", OTEL_ERR_PARSE,
                 "test.conf:1: propagator \"none\" given with others in \"otel_propagators\"");
    expect_error("otel_propagators \"\";", OTEL_ERR_PARSE,
                 "test.conf:1: empty value in \"otel_propagators\"");
    expect_error("otel_propagators;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid number of arguments in \"otel_propagators\"");
    expect_error("otel_trust_incoming maybe;", OTEL_ERR_PARSE,
                 "test.conf:1: invalid value \"maybe\" in \"otel_trust_incoming\", it must be "
                 "\"on\" or \"off\"");
}

static void test_mhd_otel_conf_from_env_propagators(void **state)
{
    (void)state;
    char err[256];
    mhd_otel_conf *c = NULL;
    static const char *const env[] = {"OTEL_PROPAGATORS", " b3multi , tracecontext ", NULL};
    fake_env = env;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_propagators(&c->propagators, 2, OTEL_PROPAGATOR_B3MULTI, OTEL_PROPAGATOR_TRACECONTEXT);
    mhd_otel_conf_del(c);
    /* the file wins */
    c = parse_ok("otel_propagators baggage;");
    assert_propagators(&c->propagators, 1, OTEL_PROPAGATOR_BAGGAGE);
    mhd_otel_conf_del(c);
    fake_env = NULL;
    static const char *const none[] = {"OTEL_PROPAGATORS", "none", NULL};
    fake_env = none;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    assert_propagators(&c->propagators, 0);
    mhd_otel_conf_del(c);
    fake_env = NULL;
    static const char *const bad[] = {"OTEL_PROPAGATORS", "tracecontext,jaeger", NULL};
    expect_env_warning(bad, "environment OTEL_PROPAGATORS: unknown propagator "
                            "\"jaeger\"");
    static const char *const typo[] = {"OTEL_PROPAGATORS", "b4", NULL};
    expect_env_warning(typo, "environment OTEL_PROPAGATORS: unknown propagator "
                             "\"b4\" (did you mean \"b3\"?)");
    static const char *const mixed[] = {"OTEL_PROPAGATORS", "none,b3", NULL};
    expect_env_warning(mixed,
                       "environment OTEL_PROPAGATORS: propagator \"none\" given with others");
}

/* ---- otel_metrics --------------------------------------------------------- */

/* The URL metrics go to under c. */
static const char *metrics_url(const mhd_otel_conf *c, char *url, size_t cap)
{
    otel_otlp_config oc;
    mhd_otel_conf_otlp_metrics(c, &oc);
    assert_int_equal(oc.signal, OTEL_OTLP_METRICS);
    assert_int_equal(otel_otlp_target(&oc, url, cap, NULL, 0), 0);
    return url;
}

/* Defaults: the SDK environment variables spec, "Periodic exporting
 * MetricReader" (OTEL_METRIC_EXPORT_INTERVAL 60000, OTEL_METRIC_EXPORT_TIMEOUT
 * 30000) and the OTLP exporter spec (temporality preference cumulative). No
 * metrics exporter named: none without an otel_metrics block, where the
 * spans go with one. */
static void test_mhd_otel_conf_metrics_defaults(void **state)
{
    (void)state;
    char url[256];
    mhd_otel_conf *c = parse_ok("");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_NONE);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_metrics { }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_OTLP);
    assert_int_equal(c->metrics_interval_ns, 60 * SEC);
    assert_int_equal(c->metrics_timeout_ns, 30 * SEC);
    assert_int_equal(c->metrics_temporality, OTEL_TEMPORALITY_PREF_CUMULATIVE);
    assert_int_equal(c->metrics_cardinality, OTEL_METRICS_CARDINALITY_LIMIT);
    assert_false(c->metrics_skipped);
    assert_null(c->metrics_prometheus);
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://localhost:4317");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp { protocol http/protobuf; }");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://localhost:4318/v1/metrics");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter console { }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_NONE);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter console { }\notel_exporter otlp { }\notel_metrics { }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_CONSOLE | MHD_OTEL_METRICS_OTLP);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_metrics_block(void **state)
{
    (void)state;
    mhd_otel_conf *c = parse_ok("otel_exporter console { }\n"
                                "otel_metrics {\n"
                                "    exporter otlp console;\n"
                                "    interval 10s;\n"
                                "    timeout 2s;\n"
                                "    temporality lowmemory;\n"
                                "    cardinality_limit 50;\n"
                                "    record_skipped on;\n"
                                "}\n");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_OTLP | MHD_OTEL_METRICS_CONSOLE);
    assert_int_equal(c->metrics_interval_ns, 10 * SEC);
    assert_int_equal(c->metrics_timeout_ns, 2 * SEC);
    assert_int_equal(c->metrics_temporality, OTEL_TEMPORALITY_PREF_LOWMEMORY);
    assert_int_equal(c->metrics_cardinality, 50);
    assert_true(c->metrics_skipped);
    mhd_otel_conf_del(c);
    /* The prometheus address alone turns prometheus on, and only it. */
    c = parse_ok("otel_metrics { prometheus 127.0.0.1:9999; }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_PROMETHEUS);
    assert_string_equal(c->metrics_prometheus, "127.0.0.1:9999");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_metrics { exporter otlp; prometheus [::1]:9999; }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_OTLP | MHD_OTEL_METRICS_PROMETHEUS);
    mhd_otel_conf_del(c);
    c = parse_ok("otel_metrics { exporter none; }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_NONE);
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_metrics_bad_values(void **state)
{
    (void)state;
    expect_error("otel_metrics {\n exporter otlp zipkin;\n}", OTEL_ERR_PARSE,
                 "test.conf:2: invalid value \"zipkin\" in \"exporter\", it must be \"otlp\", "
                 "\"prometheus\", \"console\" or \"none\"");
    expect_error("otel_metrics { exporter none,otlp; }", OTEL_ERR_PARSE,
                 "test.conf:1: \"none\" cannot be combined with other values in \"exporter\"");
    expect_error("otel_metrics { exporter \",\"; }", OTEL_ERR_PARSE,
                 "test.conf:1: empty value in \"exporter\"");
    expect_error("otel_metrics { temporality sometimes; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid value \"sometimes\" in \"temporality\", it must be "
                 "\"cumulative\", \"delta\" or \"lowmemory\"");
    expect_error("otel_metrics { interval 0; }", OTEL_ERR_RANGE,
                 "test.conf:1: time \"0\" in \"interval\" is too small");
    expect_error("otel_metrics {\n exporter none;\n prometheus 127.0.0.1:1;\n}", OTEL_ERR_PARSE,
                 "test.conf:3: \"prometheus\" given with \"exporter none\" (line 2)");
    expect_error("otel_exporter otlp { protocol http/json; }\n"
                 "otel_metrics { endpoint ftp://x; }",
                 OTEL_ERR_PARSE,
                 "test.conf:2: endpoint \"ftp://x\": must start with http:// or https:// "
                 "(protocol http/json)");
    expect_error("otel_metrics { prometheus 9464; }", OTEL_ERR_PARSE,
                 "test.conf:1: invalid address \"9464\": no port (expected HOST:PORT) in "
                 "\"prometheus\"");
    expect_error("otel_metrics { timeout 1s; timeout 2s; }", OTEL_ERR_PARSE,
                 "test.conf:1: \"timeout\" directive is duplicate (first at test.conf:1)");
}

/* The SDK environment variables spec: OTEL_METRICS_EXPORTER ("otlp",
 * "prometheus", "console", "none"; a comma list), OTEL_METRIC_EXPORT_INTERVAL
 * and _TIMEOUT in milliseconds, OTEL_EXPORTER_PROMETHEUS_HOST (localhost) and
 * _PORT (9464); the OTLP exporter spec's
 * OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, case-insensitive. */
static void test_mhd_otel_conf_metrics_from_env(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_METRICS_EXPORTER",
                                      "Prometheus, otlp",
                                      "OTEL_METRIC_EXPORT_INTERVAL",
                                      "1500",
                                      "OTEL_METRIC_EXPORT_TIMEOUT",
                                      "700",
                                      "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                                      "DELTA",
                                      "OTEL_EXPORTER_PROMETHEUS_PORT",
                                      "9555",
                                      NULL};
    char err[256];
    mhd_otel_conf *c = NULL;
    fake_env = env;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    fake_env = NULL;
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_OTLP | MHD_OTEL_METRICS_PROMETHEUS);
    assert_int_equal(c->metrics_interval_ns, 1500 * MS);
    assert_int_equal(c->metrics_timeout_ns, 700 * MS);
    assert_int_equal(c->metrics_temporality, OTEL_TEMPORALITY_PREF_DELTA);
    assert_string_equal(c->metrics_prometheus, "localhost:9555");
    mhd_otel_conf_del(c);

    static const char *const v6[] = {"OTEL_METRICS_EXPORTER", "prometheus",
                                     "OTEL_EXPORTER_PROMETHEUS_HOST", "::1", NULL};
    fake_env = v6;
    assert_int_equal(mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err)), 0);
    fake_env = NULL;
    assert_string_equal(c->metrics_prometheus, "[::1]:9464");
    mhd_otel_conf_del(c);

    /* The file's block over the environment. */
    static const char *const none[] = {"OTEL_METRICS_EXPORTER", "none", NULL};
    fake_env = none;
    c = parse_ok("otel_metrics { exporter console; }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_CONSOLE);
    mhd_otel_conf_del(c);
    c = parse_ok("");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_NONE);
    mhd_otel_conf_del(c);
    /* An environment "none" gives way to the file's prometheus address. */
    c = parse_ok("otel_metrics { prometheus 127.0.0.1:1; }");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_PROMETHEUS);
    mhd_otel_conf_del(c);
    fake_env = NULL;

    static const char *const bad[] = {"OTEL_METRICS_EXPORTER", "zipkin", NULL};
    c = env_warned(bad, "environment OTEL_METRICS_EXPORTER: invalid value \"zipkin\" in "
                        "\"exporter\", it must be \"otlp\", \"prometheus\", \"console\" or "
                        "\"none\"");
    assert_int_equal(c->metrics_exporters, MHD_OTEL_METRICS_NONE); /* the default */
    mhd_otel_conf_del(c);
    static const char *const ms[] = {"OTEL_METRIC_EXPORT_INTERVAL", "10s", NULL};
    c = env_warned(ms, "environment OTEL_METRIC_EXPORT_INTERVAL: expected a positive integer, "
                       "got \"10s\"");
    assert_int_equal(c->metrics_interval_ns, 60 * SEC);
    mhd_otel_conf_del(c);
    static const char *const tp[] = {"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "x",
                                     NULL};
    c = env_warned(tp, "environment OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: invalid "
                       "value \"x\" in \"temporality\", it must be \"cumulative\", \"delta\" or "
                       "\"lowmemory\"");
    mhd_otel_conf_del(c);
}

/* Where OTLP metrics go: the OTLP exporter spec, "Endpoint URLs for
 * OTLP/HTTP": OTEL_EXPORTER_OTLP_ENDPOINT is a base URL to which
 * "v1/metrics" is appended, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as
 * is; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not for metrics. */
static void test_mhd_otel_conf_metrics_endpoint(void **state)
{
    (void)state;
    char url[256];
    static const char *const base[] = {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                                       "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/otlp", NULL};
    fake_env = base;
    mhd_otel_conf *c = parse_ok("");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://c:4318/otlp/v1/metrics");
    mhd_otel_conf_del(c);
    static const char *const sig[] = {"OTEL_EXPORTER_OTLP_PROTOCOL",
                                      "http/protobuf",
                                      "OTEL_EXPORTER_OTLP_ENDPOINT",
                                      "http://c:4318",
                                      "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                                      "http://m:9000/in",
                                      NULL};
    fake_env = sig;
    c = parse_ok("");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://m:9000/in");
    mhd_otel_conf_del(c);
    static const char *const tr[] = {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf",
                                     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/x", NULL};
    fake_env = tr;
    c = parse_ok("");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://localhost:4318/v1/metrics");
    mhd_otel_conf_del(c);
    static const char *const both[] = {"OTEL_EXPORTER_OTLP_PROTOCOL",
                                       "http/protobuf",
                                       "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                       "http://t:1/x",
                                       "OTEL_EXPORTER_OTLP_ENDPOINT",
                                       "http://b:2",
                                       NULL};
    fake_env = both;
    c = parse_ok("");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://b:2/v1/metrics");
    mhd_otel_conf_del(c);
    fake_env = NULL;
    /* The file's endpoint: the traces path becomes the metrics path; no
     * path gets it; another path is the receiver's own. */
    c = parse_ok("otel_exporter otlp { protocol http/json; endpoint http://c:4318/v1/traces; }");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://c:4318/v1/metrics");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp { protocol http/json; endpoint http://c:4318; }");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://c:4318/v1/metrics");
    mhd_otel_conf_del(c);
    c = parse_ok("otel_exporter otlp { endpoint http://c:4317; }\n"
                 "otel_metrics { endpoint http://m:4317; }");
    assert_string_equal(metrics_url(c, url, sizeof(url)), "http://m:4317");
    mhd_otel_conf_del(c);
    static const char *const badm[] = {"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "ftp://m", NULL};
    c = env_warned(badm, "environment OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: endpoint \"ftp://m\": "
                         "must start with http:// or https:// (protocol grpc)");
    mhd_otel_conf_del(c);
}

static void test_mhd_otel_conf_del_null(void **state)
{
    (void)state;
    mhd_otel_conf_del(NULL);
}

/* The line of text documenting directive name: one that, after an optional
 * "#" and blanks, starts with the name and a blank, ';' or '{'. */
static bool documented(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *p = line;
        if (*p == '#')
            p++;
        while (*p == ' ')
            p++;
        if (strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == ';' || p[n] == '{'))
            return true;
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return false;
}

/* config/reference.conf documents every directive of the table, and names
 * no directive the table does not have. */
static void test_mhd_otel_conf_reference_lists_every_directive(void **state)
{
    (void)state;
    char path[128];
    FILE *f = fopen(config_path("reference.conf", path, sizeof(path)), "r");
    assert_non_null(f);
    static char text[65536];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    size_t rows = 0;
    for (const conf_cmd *c = mhd_otel_conf_cmds; c->name != NULL; c++, rows++)
        if (!documented(text, c->name))
            fail_msg("config/reference.conf does not document \"%s\"", c->name);
    assert_true(rows >= 20);
    /* Every "otel_..." directive it shows exists. */
    for (const char *p = text; (p = strstr(p, "\notel_")) != NULL; p++) {
        char name[64];
        size_t n = strcspn(p + 1, " ;{\n");
        assert_true(n < sizeof(name));
        memcpy(name, p + 1, n);
        name[n] = '\0';
        bool known = false;
        for (const conf_cmd *c = mhd_otel_conf_cmds; c->name != NULL && !known; c++)
            known = strcmp(c->name, name) == 0;
        if (!known)
            fail_msg("config/reference.conf shows \"%s\", which is no directive", name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mhd_otel_conf_parse_defaults),
        cmocka_unit_test(test_mhd_otel_conf_parse_every_directive),
        cmocka_unit_test(test_mhd_otel_conf_parse_trace_off),
        cmocka_unit_test(test_mhd_otel_conf_parse_keep),
        cmocka_unit_test(test_mhd_otel_conf_parse_keep_bad_values),
        cmocka_unit_test(test_mhd_otel_conf_parse_duplicate_directive),
        cmocka_unit_test(test_mhd_otel_conf_parse_time_with_blank_hint),
        cmocka_unit_test(test_mhd_otel_conf_parse_resource_attr_replaces),
        cmocka_unit_test(test_mhd_otel_conf_parse_resource_attr_service_name),
        cmocka_unit_test(test_mhd_otel_conf_parse_sampler_kinds),
        cmocka_unit_test(test_mhd_otel_conf_parse_lists_append_in_order),
        cmocka_unit_test(test_mhd_otel_conf_parse_console_exporter),
        cmocka_unit_test(test_mhd_otel_conf_parse_time_units),
        cmocka_unit_test(test_mhd_otel_conf_parse_size_units),
        cmocka_unit_test(test_mhd_otel_conf_parse_quoted_strings),
        cmocka_unit_test(test_mhd_otel_conf_parse_comments_and_layout),
        cmocka_unit_test(test_mhd_otel_conf_parse_unknown_directive_hint),
        cmocka_unit_test(test_mhd_otel_conf_parse_unknown_directive_in_block),
        cmocka_unit_test(test_mhd_otel_conf_parse_argument_count),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_numbers),
        cmocka_unit_test(test_mhd_otel_conf_parse_number_overflow),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_sampler),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_flag_and_enum),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_paths),
        cmocka_unit_test(test_mhd_otel_conf_parse_missing_semicolon),
        cmocka_unit_test(test_mhd_otel_conf_parse_braces),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_quotes),
        cmocka_unit_test(test_mhd_otel_conf_parse_nul_byte),
        cmocka_unit_test(test_mhd_otel_conf_parse_unknown_exporter),
        cmocka_unit_test(test_mhd_otel_conf_parse_batch_larger_than_queue),
        cmocka_unit_test(test_mhd_otel_conf_parse_long_token_is_cut),
        cmocka_unit_test(test_mhd_otel_conf_parse_small_err_buffer),
        cmocka_unit_test(test_mhd_otel_conf_from_env_all_variables),
        cmocka_unit_test(test_mhd_otel_conf_from_env_service_name_precedence),
        cmocka_unit_test(test_mhd_otel_conf_from_env_empty_service_name_attr),
        cmocka_unit_test(test_mhd_otel_conf_from_env_empty_is_unset),
        cmocka_unit_test(test_mhd_otel_conf_from_env_sampler_arg),
        cmocka_unit_test(test_mhd_otel_conf_from_env_bad_values),
        cmocka_unit_test(test_mhd_otel_conf_parse_file_beats_env),
        cmocka_unit_test(test_mhd_otel_conf_parse_env_warning_file_error),
        cmocka_unit_test(test_mhd_otel_conf_from_env_invalid_warned_once),
        cmocka_unit_test(test_mhd_otel_conf_parse_precedence),
        cmocka_unit_test(test_mhd_otel_conf_parse_lists_by_nature_accumulate),
        cmocka_unit_test(test_mhd_otel_conf_parse_otlp_exporter),
        cmocka_unit_test(test_mhd_otel_conf_parse_otlp_endpoints),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_endpoint),
        cmocka_unit_test(test_mhd_otel_conf_parse_https_endpoint),
        cmocka_unit_test(test_mhd_otel_conf_parse_protocol),
        cmocka_unit_test(test_mhd_otel_conf_http_endpoint_urls),
        cmocka_unit_test(test_mhd_otel_conf_endpoint_as_sent),
        cmocka_unit_test(test_mhd_otel_conf_tls_settings),
        cmocka_unit_test(test_mhd_otel_conf_parse_endpoint_port_digits),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_otlp_directives),
        cmocka_unit_test(test_mhd_otel_conf_parse_exporter_choice),
        cmocka_unit_test(test_mhd_otel_conf_from_env_traces_exporter),
        cmocka_unit_test(test_mhd_otel_conf_from_env_otlp_variables),
        cmocka_unit_test(test_mhd_otel_conf_from_env_otlp_precedence),
        cmocka_unit_test(test_mhd_otel_conf_parse_otlp_file_beats_env),
        cmocka_unit_test(test_mhd_otel_conf_from_env_otlp_bad_values),
        cmocka_unit_test(test_mhd_otel_conf_from_env_too_large_is_shown),
        cmocka_unit_test(test_mhd_otel_conf_load_missing_file),
        cmocka_unit_test(test_mhd_otel_conf_load_directory),
        cmocka_unit_test(test_mhd_otel_conf_load_temp_file),
        cmocka_unit_test(test_mhd_otel_conf_load_error_names_path),
        cmocka_unit_test(test_mhd_otel_conf_load_too_large),
        cmocka_unit_test(test_mhd_otel_conf_load_reference_conf),
        cmocka_unit_test(test_mhd_otel_conf_reference_lists_every_directive),
        cmocka_unit_test(test_mhd_otel_conf_load_demo_conf),
        cmocka_unit_test(test_mhd_otel_conf_load_otlp_conf),
        cmocka_unit_test(test_mhd_otel_conf_parse_alloc_failures),
        cmocka_unit_test(test_mhd_otel_conf_load_alloc_failures),
        cmocka_unit_test(test_mhd_otel_conf_parse_propagators),
        cmocka_unit_test(test_mhd_otel_conf_parse_bad_propagators),
        cmocka_unit_test(test_mhd_otel_conf_from_env_propagators),
        cmocka_unit_test(test_mhd_otel_conf_metrics_defaults),
        cmocka_unit_test(test_mhd_otel_conf_metrics_block),
        cmocka_unit_test(test_mhd_otel_conf_metrics_bad_values),
        cmocka_unit_test(test_mhd_otel_conf_metrics_from_env),
        cmocka_unit_test(test_mhd_otel_conf_metrics_endpoint),
        cmocka_unit_test(test_mhd_otel_conf_del_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
