/* test_static_tls.c - the shared library's thread variables: few bytes of
 * the static TLS block (initial-exec, core/thread_local.h), so that the library still
 * loads with dlopen into a program that has started, and works there from
 * several threads (t/so/dlopen_main.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <mhd-otel/otel.h>
#include "../../core/thread_local.h"

static const char *build_dir(void)
{
    const char *b = getenv("MHD_OTEL_BUILD");
    return b != NULL && b[0] != '\0' ? b : "build";
}

typedef struct tls_seen {
    int libraries;
    size_t bytes; /* PT_TLS memory size of libmhd-otel.so */
} tls_seen;

static int on_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    tls_seen *t = arg;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, "libmhd-otel.so") == NULL)
        return 0;
    t->libraries++;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_TLS)
            t->bytes = info->dlpi_phdr[i].p_memsz;
    return 0;
}

/* The library's TLS segment, as this process loaded it, holds at most
 * OTEL_TLS_MAX bytes. */
static void test_library_thread_variables_are_small(void **state)
{
    (void)state;
    (void)otel_strerror(0); /* the library is loaded */
    tls_seen t = {0, 0};
    dl_iterate_phdr(on_object, &t);
    assert_int_equal(t.libraries, 1);
    assert_true(t.bytes > 0);
    assert_true(t.bytes <= OTEL_TLS_MAX);
}

/* A program that loads the library with dlopen after it started traces
 * through it from its main thread and four more. */
static void test_library_works_loaded_with_dlopen(void **state)
{
    (void)state;
    char cmd[1024], out[256] = "";
    snprintf(cmd, sizeof(cmd), "%s/t/dlopen-main %s/libmhd-otel.so 2>&1", build_dir(), build_dir());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("%s: %s", cmd, out);
    assert_string_equal(out, "dlopen-main: ok 5000\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_thread_variables_are_small),
        cmocka_unit_test(test_library_works_loaded_with_dlopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
