/* test_conf_dump.c - tests of module/conf_dump.c: a conf dumped, parsed again and compared, for the
 * reference config and for one that sets every directive. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../module/conf.h"
#include "../../module/conf_int.h"
#include "../lib/itest.h"

/* ---- helpers ------------------------------------------------------------- */

static const char *const *fake_env;

static const char *env_fn(const char *name)
{
    for (const char *const *p = fake_env; p != NULL && *p != NULL; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

static mhd_otel_conf *parse_ok(const char *name, const char *text)
{
    char err[512] = "";
    mhd_otel_conf *c = NULL;
    int rc = mhd_otel_conf_parse(&c, name, text, strlen(text), env_fn, err, sizeof(err));
    if (rc != 0)
        fail_msg("parse of %s failed (%d): %s\n%s", name, rc, err, text);
    return c;
}

/* The dump of c (heap, NUL-terminated; the caller frees). */
static char *dump(const mhd_otel_conf *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(mhd_otel_conf_dump(c, f), 0);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void strv_equal(const mhd_otel_strv *a, const mhd_otel_strv *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_string_equal(a->v[i], b->v[i]);
}

static void kv_equal(const mhd_otel_kv_str *a, size_t na, const mhd_otel_kv_str *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].key, b[i].key);
        assert_string_equal(a[i].value, b[i].value);
    }
}

/* Every row's field of a and b the same (an exporter's settings only when it runs). */
static void conf_equal(const mhd_otel_conf *a, const mhd_otel_conf *b)
{
    assert_int_equal(a->otlp, b->otlp);
    assert_int_equal(a->console, b->console);
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++) {
        const char *fa = (const char *)a + cmd->offset, *fb = (const char *)b + cmd->offset;
        if (cmd->size == 0 || (cmd->block == CONF_OTLP && !a->otlp) ||
            (cmd->block == CONF_CONSOLE && !a->console))
            continue;
        if (cmd->set == mhd_otel_conf_set_str) {
            const char *sa = *(char *const *)fa, *sb = *(char *const *)fb;
            if (sa == NULL || sb == NULL)
                assert_ptr_equal(sa, sb);
            else
                assert_string_equal(sa, sb);
        } else if (cmd->set == mhd_otel_conf_set_strv) {
            strv_equal((const mhd_otel_strv *)fa, (const mhd_otel_strv *)fb);
        } else if ((cmd->flags & CONF_KEYED) != 0) {
            kv_equal(*(mhd_otel_kv_str *const *)fa, *(const size_t *)(fa + sizeof(void *)),
                     *(mhd_otel_kv_str *const *)fb, *(const size_t *)(fb + sizeof(void *)));
        } else if (cmd->set == mhd_otel_conf_set_sampler) {
            const otel_sampler *sa = (const otel_sampler *)fa, *sb = (const otel_sampler *)fb;
            assert_int_equal(sa->kind, sb->kind);
            assert_true(sa->ratio == sb->ratio);
            assert_int_equal(sa->threshold, sb->threshold);
        } else if (memcmp(fa, fb, cmd->size) != 0) {
            fail_msg("directive %s differs after the round trip", cmd->name);
        }
    }
    assert_string_equal(a->service_name ? a->service_name : "",
                        b->service_name ? b->service_name : "");
}

/* Parse text, dump, parse the dump, compare, and dump again: the same text. Returns the first dump
 * (the caller frees). */
static char *round_trip(const char *name, const char *text)
{
    mhd_otel_conf *a = parse_ok(name, text);
    char *d1 = dump(a);
    mhd_otel_conf *b = parse_ok("dump", d1);
    conf_equal(a, b);
    char *d2 = dump(b);
    assert_string_equal(d1, d2);
    free(d2);
    mhd_otel_conf_del(a);
    mhd_otel_conf_del(b);
    return d1;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* ---- tests --------------------------------------------------------------- */

static void test_mhd_otel_conf_dump_reference(void **state)
{
    (void)state;
    char *d = round_trip("config/reference.conf", read_text("config/reference.conf"));
    assert_non_null(strstr(d, "otel_trace on;\n"));
    assert_non_null(strstr(d, "otel_sampler parentbased_always_on;\n"));
    assert_non_null(strstr(d, "otel_propagators tracecontext baggage;\n"));
    assert_non_null(strstr(d, "otel_exporter otlp {\n    protocol grpc;\n"));
    assert_non_null(strstr(d, "otel_batch {\n    max_queue_size 2048;\n"
                              "    max_export_batch_size 512;\n    schedule_delay 5s;\n"
                              "    export_timeout 30s;\n}\n"));
    assert_null(strstr(d, "otel_exporter console"));
    free(d);
}

static void test_mhd_otel_conf_dump_demo(void **state)
{
    (void)state;
    char *d = round_trip("config/demo.conf", read_text("config/demo.conf"));
    assert_non_null(strstr(d, "otel_route /hello/{name} /hello /data /error /test;\n"));
    assert_non_null(
        strstr(d, "otel_exporter console {\n    format json;\n    output stdout;\n}\n"));
    assert_null(strstr(d, "otel_exporter otlp"));
    free(d);
}

/* Every directive of the table set to something else than its default, the strings needing
 * quotes among them. */
static void test_mhd_otel_conf_dump_every_directive(void **state)
{
    (void)state;
    itest_certs certs;
    if (itest_certs_make(&certs) != 0)
        fail_msg("cannot make the test certificates");
    char text[8192];
    snprintf(text, sizeof(text),
             "otel_trace off;\n"
             "otel_service_name \"my service\";\n"
             "otel_resource_attr deployment.environment 'pro\"d';\n"
             "otel_resource_attr team \"a;b {c}\";\n"
             "otel_sampler parentbased_traceidratio 0.125;\n"
             "otel_skip_path /health /ping;\n"
             "otel_skip_prefix /static/;\n"
             "otel_route /hello/{name} /orders/{id};\n"
             "otel_capture_request_header X-User-ID X-Tenant;\n"
             "otel_propagators b3 tracecontext;\n"
             "otel_trust_incoming off;\n"
             "otel_signal_flush 1m30s;\n"
             "otel_keep_errors on;\n"
             "otel_keep_slower_than 1500ms;\n"
             "otel_exporter otlp {\n"
             "  protocol http/protobuf;\n"
             "  endpoint https://collector.example:4318/v1/traces;\n"
             "  insecure on;\n"
             "  ca_file %s;\n"
             "  client_cert %s;\n"
             "  client_key %s;\n"
             "  tls_verify off;\n"
             "  header api-key \"secret value\";\n"
             "  header X-Tenant t1;\n"
             "  compression gzip;\n"
             "  timeout 2500ms;\n"
             "}\n"
             "otel_exporter console { format pretty; output \"/tmp/spans file.json\"; }\n"
             "otel_batch {\n"
             "  max_queue_size 4k;\n"
             "  max_export_batch_size 100;\n"
             "  schedule_delay 250ms;\n"
             "  export_timeout 0;\n"
             "}\n"
             "otel_metrics {\n"
             "  exporter otlp,console;\n"
             "  interval 15s;\n"
             "  timeout 5s;\n"
             "  temporality delta;\n"
             "  endpoint https://metrics.example:4318/v1/metrics;\n"
             "  prometheus 127.0.0.1:9464;\n"
             "  cardinality_limit 100;\n"
             "  record_skipped on;\n"
             "}\n",
             certs.ca, certs.client, certs.client_key);
    char *d = round_trip("every.conf", text);
    itest_certs_cleanup(&certs);
    for (const conf_cmd *cmd = mhd_otel_conf_cmds; cmd->name != NULL; cmd++) {
        char line[128];
        snprintf(line, sizeof(line), "%s%s ", (cmd->block != CONF_MAIN) ? "    " : "", cmd->name);
        if (strstr(d, line) == NULL)
            fail_msg("directive %s missing from the dump:\n%s", cmd->name, d);
    }
    assert_non_null(strstr(d, "otel_service_name \"my service\";\n"));
    assert_non_null(strstr(d, "otel_resource_attr deployment.environment pro\"d;\n"));
    assert_non_null(strstr(d, "otel_sampler parentbased_traceidratio 0.125;\n"));
    assert_non_null(strstr(d, "otel_propagators b3 tracecontext;\n"));
    assert_non_null(strstr(d, "otel_signal_flush 90s;\n"));
    assert_non_null(strstr(d, "otel_keep_errors on;\n"));
    assert_non_null(strstr(d, "otel_keep_slower_than 1500ms;\n"));
    assert_non_null(strstr(d, "    timeout 2500ms;\n"));
    assert_non_null(strstr(d, "    max_queue_size 4096;\n"));
    assert_non_null(strstr(d, "    export_timeout 0ms;\n"));
    /* The exporters as they run: those named, and prometheus, which its
     * address turns on. */
    assert_non_null(strstr(d, "    exporter otlp prometheus console;\n"));
    assert_non_null(strstr(d, "    temporality delta;\n"));
    assert_non_null(strstr(d, "    interval 15s;\n"));
    free(d);
}

/* The environment's settings are part of what is dumped. */
static void test_mhd_otel_conf_dump_environment(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_SERVICE_NAME",
                                      "from-env",
                                      "OTEL_TRACES_SAMPLER",
                                      "traceidratio",
                                      "OTEL_TRACES_SAMPLER_ARG",
                                      "0.3",
                                      "OTEL_EXPORTER_OTLP_ENDPOINT",
                                      "http://10.0.0.1:4317",
                                      "OTEL_PROPAGATORS",
                                      "none",
                                      "OTEL_BSP_SCHEDULE_DELAY",
                                      "1500",
                                      NULL};
    fake_env = env;
    mhd_otel_conf *c = parse_ok("env.conf", "otel_trace on;\n");
    fake_env = NULL;
    char *d = dump(c);
    mhd_otel_conf *b = parse_ok("dump", d);
    conf_equal(c, b);
    assert_non_null(strstr(d, "otel_service_name from-env;\n"));
    assert_non_null(strstr(d, "otel_sampler traceidratio 0.3;\n"));
    assert_non_null(strstr(d, "    endpoint http://10.0.0.1:4317;\n"));
    assert_non_null(strstr(d, "otel_propagators none;\n"));
    assert_non_null(strstr(d, "    schedule_delay 1500ms;\n"));
    free(d);
    mhd_otel_conf_del(c);
    mhd_otel_conf_del(b);
}

static void test_mhd_otel_conf_dump_bad_arguments(void **state)
{
    (void)state;
    assert_int_equal(mhd_otel_conf_dump(NULL, stdout), OTEL_ERR_INVALID);
    mhd_otel_conf *c = parse_ok("x", "");
    assert_int_equal(mhd_otel_conf_dump(c, NULL), OTEL_ERR_INVALID);
    mhd_otel_conf_del(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mhd_otel_conf_dump_reference),
        cmocka_unit_test(test_mhd_otel_conf_dump_demo),
        cmocka_unit_test(test_mhd_otel_conf_dump_every_directive),
        cmocka_unit_test(test_mhd_otel_conf_dump_environment),
        cmocka_unit_test(test_mhd_otel_conf_dump_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
