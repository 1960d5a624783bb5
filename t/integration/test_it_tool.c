/* test_it_tool.c - integration tests of the mhd-otel tool: check on the shipped and on broken
 * configs, view on the spans the real demo server wrote, help, version and usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/itest.h"

#define RUN_MS 20000

/* The tool's path: $MHD_OTEL_BUILD/mhd-otel. */
static const char *tool(void)
{
    static char path[ITEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/mhd-otel", itest_build_dir());
    return path;
}

typedef struct run {
    char *out, *err;
    int code; /* exit status; -1 when it did not exit */
} run;

/* Run the tool with args (NULL-terminated) and env changes (may be NULL). */
static run tool_run(const char *const *args, const char *const *env)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)tool();
    for (; args[argc - 1] != NULL && argc < 31; argc++)
        argv[argc] = (char *)args[argc - 1];
    argv[argc] = NULL;
    run r = {NULL, NULL, -1};
    int status = 0;
    if (itest_run_cmd(argv, env, RUN_MS, &r.out, &r.err, &status) != 0)
        fail_msg("%s did not run to its end", tool());
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r.out == NULL)
        r.out = strdup("");
    if (r.err == NULL)
        r.err = strdup("");
    return r;
}

static void run_free(run *r)
{
    free(r->out);
    free(r->err);
}

static void expect_code(const run *r, int code)
{
    if (r->code != code)
        fail_msg("exit %d, expected %d\nstdout: %s\nstderr: %s", r->code, code, r->out, r->err);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- check --------------------------------------------------------------- */

static void test_it_tool_check_shipped_configs(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT",
                                      "OTEL_TRACES_EXPORTER", NULL};
    run r = tool_run((const char *[]){"check", "config/reference.conf", NULL}, env);
    expect_code(&r, 0);
    assert_non_null(strstr(r.out, "otel_trace on;\n"));
    assert_non_null(strstr(r.out, "otel_exporter otlp {\n    protocol grpc;\n"));
    run_free(&r);
    r = tool_run((const char *[]){"check", "config/demo.conf", NULL}, env);
    expect_code(&r, 0);
    assert_non_null(strstr(r.out, "otel_service_name demo-server;\n"));
    assert_non_null(strstr(r.out, "    output stdout;\n"));
    run_free(&r);
    r = tool_run((const char *[]){"check", "config/otlp.conf", NULL}, env);
    expect_code(&r, 0);
    assert_non_null(strstr(r.out, "    endpoint "));
    run_free(&r);
    r = tool_run((const char *[]){"check", "-q", "config/demo.conf", NULL}, env);
    expect_code(&r, 0);
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void test_it_tool_check_broken_config(void **state)
{
    (void)state;
    char path[] = "/tmp/it_tool_conf.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "otel_trace on;\notel_batch {\n    max_queue_sise 10;\n}\n");
    run r = tool_run((const char *[]){"check", path, NULL}, NULL);
    expect_code(&r, 1);
    char want[512];
    snprintf(want, sizeof(want), "%s:3: unknown directive \"max_queue_sise\"", path);
    assert_non_null(strstr(r.err, want));
    assert_string_equal(r.out, "");
    run_free(&r);
    r = tool_run((const char *[]){"check", "/nonexistent/x.conf", NULL}, NULL);
    expect_code(&r, 1);
    assert_non_null(strstr(r.err, "/nonexistent/x.conf: cannot open"));
    run_free(&r);
    unlink(path);
}

static void test_it_tool_check_environment(void **state)
{
    (void)state;
    static const char *const env[] = {"OTEL_SERVICE_NAME=from-env",
                                      "OTEL_EXPORTER_OTLP_ENDPOINT=http://10.1.2.3:4317",
                                      "OTEL_BSP_MAX_QUEUE_SIZE=lots", NULL};
    run r = tool_run((const char *[]){"check", "config/reference.conf", NULL}, env);
    expect_code(&r, 0);
    assert_non_null(strstr(r.out, "otel_service_name from-env;\n"));
    assert_non_null(strstr(r.out, "    endpoint http://10.1.2.3:4317;\n"));
    assert_non_null(strstr(r.err, "OTEL_BSP_MAX_QUEUE_SIZE"));
    assert_non_null(strstr(r.out, "    max_queue_size 2048;\n"));
    run_free(&r);
}

/* ---- view on the demo server's spans ------------------------------------- */

static itest_server server;

/* Run the demo server with the console exporter to a file, GET paths, stop it. */
static void demo_spans(const char *const *paths)
{
    assert_int_equal(itest_server_init(&server), 0);
    if (itest_server_start(&server, "otel_service_name demo-server;\n"
                                    "otel_route /data /error;\n") != 0) {
        (void)itest_server_reap(&server, 2000);
        fail_msg("demo server did not start: %s", server.err_text ? server.err_text : "");
    }
    for (size_t i = 0; paths[i] != NULL; i++) {
        itest_response resp;
        assert_int_equal(itest_curl(&server, paths[i], NULL, &resp), 0);
        itest_response_free(&resp);
    }
    assert_int_equal(itest_server_stop(&server), 0);
}

/* The first line of text holding needle, and where it is. */
static const char *line_at(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    if (p == NULL)
        fail_msg("no \"%s\" in:\n%s", needle, text);
    return p;
}

static void test_it_tool_view_demo_data(void **state)
{
    (void)state;
    demo_spans((const char *[]){"/data", "/error", NULL});
    run r = tool_run((const char *[]){"view", "--color", "never", server.spans_path, NULL}, NULL);
    expect_code(&r, 0);
    const char *get = line_at(r.out, "\nGET /data [demo-server]");
    const char *fetch = line_at(get, "\n\xe2\x94\x9c\xe2\x94\x80 fetch-user-data ");
    const char *process = line_at(fetch, "\n\xe2\x94\x94\xe2\x94\x80 process-data ");
    assert_non_null(process);
    assert_non_null(strstr(r.out, "  demo-server  3 spans  "));
    assert_null(strchr(r.out, '\033'));
    run_free(&r);

    r = tool_run((const char *[]){"view", "--errors", "--width", "100", server.spans_path, NULL},
                 NULL);
    expect_code(&r, 0);
    assert_null(strstr(r.out, "GET /data"));
    const char *err_line = line_at(r.out, "GET /error");
    assert_non_null(strstr(err_line, "ERROR"));
    run_free(&r);

    r = tool_run((const char *[]){"view", "--attr", "http.response.status_code", "-", NULL}, NULL);
    /* stdin is /dev/null: no span */
    expect_code(&r, 1);
    run_free(&r);

    /* followed as a pipe to its end: the same trees */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cat '%s' | '%s' view -f --settle 1h --attr http.route -",
             server.spans_path, tool());
    char *argv[] = {(char *)"sh", (char *)"-c", cmd, NULL};
    int status = 0;
    char *out = NULL;
    assert_int_equal(itest_run_cmd(argv, NULL, RUN_MS, &out, NULL, &status), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_non_null(out);
    assert_non_null(strstr(line_at(out, "\nGET /data"), "fetch-user-data"));
    assert_non_null(strstr(out, "http.route=/data\n"));
    free(out);
    itest_server_cleanup(&server);
}

static void test_it_tool_view_missing_parent(void **state)
{
    (void)state;
    char path[] = "/tmp/it_tool_spans.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(
        path, "{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"2222222222222222\","
              "\"parent_span_id\":\"00f067aa0ba902b7\",\"name\":\"lonely\",\"kind\":\"server\","
              "\"start_time_unix_nano\":1764021003000000000,"
              "\"end_time_unix_nano\":1764021003002000000,\"attributes\":{},\"events\":[],"
              "\"status\":{\"code\":\"unset\",\"message\":\"\"},\"resource\":{\"service.name\":"
              "\"svc\"}}\nnot a span\n");
    run r = tool_run((const char *[]){"view", path, NULL}, NULL);
    expect_code(&r, 0);
    const char *marker = line_at(r.out, "(missing parent 00f067aa0ba902b7)\n");
    assert_non_null(strstr(marker, "\xe2\x94\x94\xe2\x94\x80 lonely [svc]"));
    assert_non_null(strstr(r.err, ":2: skipped: not JSON"));
    run_free(&r);
    unlink(path);
}

/* ---- help, version, usage ------------------------------------------------ */

static void test_it_tool_help_version_usage(void **state)
{
    (void)state;
    static const char *const helps[][3] = {{"--help", NULL, "usage: mhd-otel COMMAND"},
                                           {"check", "--help", "usage: mhd-otel check"},
                                           {"view", "--help", "usage: mhd-otel view"},
                                           {"version", "--help", "usage: mhd-otel version"}};
    for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        run r = tool_run((const char *[]){helps[i][0], helps[i][1], NULL}, NULL);
        expect_code(&r, 0);
        assert_non_null(strstr(r.out, helps[i][2]));
        run_free(&r);
    }
    run r = tool_run((const char *[]){"version", NULL}, NULL);
    expect_code(&r, 0);
    assert_non_null(strstr(r.out, "mhd-otel "));
    assert_int_equal(strspn(r.out + 9, "0123456789."), strlen(r.out + 9) - 1);
    run_free(&r);
    r = tool_run((const char *[]){"--version", NULL}, NULL);
    expect_code(&r, 0);
    assert_true(strncmp(r.out, "mhd-otel ", 9) == 0);
    run_free(&r);
    static const char *const bad[][4] = {
        {NULL, NULL, NULL},         {"frobnicate", NULL, NULL}, {"check", NULL, NULL},
        {"check", "--bogus", NULL}, {"view", "--width", NULL},  {"view", "--color", "sometimes"}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = tool_run(bad[i], NULL);
        expect_code(&r, 2);
        run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_it_tool_check_shipped_configs),
        cmocka_unit_test(test_it_tool_check_broken_config),
        cmocka_unit_test(test_it_tool_check_environment),
        cmocka_unit_test(test_it_tool_view_demo_data),
        cmocka_unit_test(test_it_tool_view_missing_parent),
        cmocka_unit_test(test_it_tool_help_version_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
