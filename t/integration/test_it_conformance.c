/* test_it_conformance.c - propagation conformance: the vectors of t/conformance run through
 * the official OpenTelemetry JavaScript propagators and through mhd-otel (BUILD/t/propagate). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/itest.h"

#define INSTALL_TIMEOUT_MS 600000 /* npm ci of a cold cache */
#define COMPARE_TIMEOUT_MS 60000  /* it takes about a second, sanitizers included */
#define MIN_VECTORS 60

/* The counts of compare.js's summary line. */
typedef struct summary {
    int vectors;
    int agree;
    int known;
    int disagree;
} summary;

static char harness[ITEST_PATH_MAX];
static char node_path[PATH_MAX + 16]; /* "NODE_PATH=" and an absolute path */

static bool exited_zero(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* True when node and npm are both on PATH. */
static bool node_available(void)
{
    char *argv[] = {"sh", "-c", "command -v node && command -v npm", NULL};
    int status = 0;
    return itest_run_cmd(argv, NULL, 10000, NULL, NULL, &status) == 0 && exited_zero(status);
}

/* Read the "conformance: T vectors: N agree, K known differences, M
 * disagreements" line of out into s. False when there is none. */
static bool summary_read(const char *out, summary *s)
{
    const char *line = strstr(out, "conformance: ");
    return line != NULL && sscanf(line,
                                  "conformance: %d vectors: %d agree, %d known differences, "
                                  "%d disagreements",
                                  &s->vectors, &s->agree, &s->known, &s->disagree) == 4;
}

/* Print the DIFF lines of out and the indented lines that explain them. */
static void print_diffs(const char *out)
{
    bool in_diff = false;
    for (const char *p = out; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        int len = (int)(nl != NULL ? nl - p : (ptrdiff_t)strlen(p));
        if (strncmp(p, "DIFF ", 5) == 0)
            in_diff = true;
        else if (strncmp(p, "    ", 4) != 0)
            in_diff = false;
        if (in_diff)
            print_message("%.*s\n", len, p);
        p += len + (nl != NULL ? 1 : 0);
    }
}

static int group_setup(void **state)
{
    (void)state;
    char modules[ITEST_PATH_MAX];
    char abs[PATH_MAX];
    int n = snprintf(harness, sizeof harness, "%s/t/propagate", itest_build_dir());
    int m = snprintf(modules, sizeof modules, "%s/conformance/node_modules", itest_build_dir());
    if (n < 0 || n >= (int)sizeof harness || m < 0 || m >= (int)sizeof modules)
        return -1;
    if (!node_available())
        return 0; /* each test skips */
    char *argv[] = {"sh", "t/conformance/npm.sh", "install", (char *)itest_build_dir(), NULL};
    char *err = NULL;
    int status = 0;
    if (itest_run_cmd(argv, NULL, INSTALL_TIMEOUT_MS, NULL, &err, &status) != 0 ||
        !exited_zero(status) || realpath(modules, abs) == NULL) {
        fprintf(stderr,
                "test_it_conformance: cannot install the JavaScript propagators "
                "(sh t/conformance/npm.sh install %s):\n%s\n",
                itest_build_dir(), err != NULL ? err : "");
        free(err);
        return -1;
    }
    free(err);
    snprintf(node_path, sizeof node_path, "NODE_PATH=%s", abs);
    return 0;
}

/* Skip the test when Node.js is not installed (mk/deps.sh installs it). */
static void require_node(void)
{
    if (node_path[0] == '\0') {
        print_message("skipped: node and npm not found (Debian packages nodejs, npm; "
                      "see mk/deps.sh)\n");
        skip();
    }
}

/* Every vector: mhd-otel and the JS propagators agree, or differ where
 * the vector documents that JS departs from the specification. */
static void test_conformance_js_propagators(void **state)
{
    (void)state;
    require_node();
    assert_int_equal(access(harness, X_OK), 0);
    char *argv[] = {"node", "t/conformance/compare.js", harness, NULL};
    const char *env[] = {node_path, NULL};
    char *out = NULL;
    char *err = NULL;
    int status = 0;
    summary s = {0, 0, 0, -1};
    int rc = itest_run_cmd(argv, env, COMPARE_TIMEOUT_MS, &out, &err, &status);
    bool have_summary = out != NULL && summary_read(out, &s);
    if (rc != 0 || !exited_zero(status) || !have_summary || s.disagree != 0) {
        print_diffs(out != NULL ? out : "");
        print_message("compare.js: exit status %d, stderr:\n%s\n",
                      WIFEXITED(status) ? WEXITSTATUS(status) : -1, err != NULL ? err : "");
        if (have_summary)
            print_message("conformance: %d vectors: %d agree, %d known differences, "
                          "%d disagreements\n",
                          s.vectors, s.agree, s.known, s.disagree);
    }
    free(out);
    free(err);
    assert_int_equal(rc, 0);
    assert_true(have_summary);
    assert_int_equal(s.disagree, 0);
    assert_true(exited_zero(status));
    assert_true(s.vectors >= MIN_VECTORS);
    assert_int_equal(s.agree + s.known, s.vectors);
}

/* The harness answers each line it cannot run with an "error" result and
 * exits 1 at the end, the lines after it still run. */
static void test_harness_reports_bad_vectors(void **state)
{
    (void)state;
    char script[ITEST_PATH_MAX * 2];
    snprintf(script, sizeof script,
             "printf '%%s\\n' 'not json' "
             "'{\"id\":\"u\",\"propagators\":\"nope\",\"headers\":[]}' "
             "'{\"id\":\"h\",\"propagators\":\"b3\",\"headers\":[[\"b3\"]]}' "
             "'{\"id\":\"ok\",\"propagators\":\"b3\",\"headers\":[[\"B3\",\"%s-%s-d\"]]}' | "
             "'%s'",
             "80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1", harness);
    char *argv[] = {"sh", "-c", script, NULL};
    char *out = NULL;
    int status = 0;
    assert_int_equal(itest_run_cmd(argv, NULL, COMPARE_TIMEOUT_MS, &out, NULL, &status), 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    assert_non_null(strstr(out, "{\"id\":\"\",\"error\":\"not JSON\"}"));
    assert_non_null(strstr(out, "{\"id\":\"u\",\"error\":\"unknown propagator \\\"nope\\\"\"}"));
    assert_non_null(strstr(out, "{\"id\":\"h\",\"error\":\"each header must be [name, value]\"}"));
    assert_non_null(strstr(out, "\"id\":\"ok\",\"valid\":true"));
    assert_non_null(strstr(out, "\"debug\":true"));
    assert_non_null(strstr(out, "\"injected\":{\"b3\":\"80f198ee56343ba864fe8b2a57d3eff7-"
                                "e457b5a2e4d86bd1-d\"}"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_js_propagators),
        cmocka_unit_test(test_harness_reports_bad_vectors),
    };

    return cmocka_run_group_tests_name("integration: propagation conformance with OpenTelemetry JS",
                                       tests, group_setup, NULL);
}
