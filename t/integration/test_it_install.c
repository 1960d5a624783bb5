/* test_it_install.c - make install and make uninstall into a temporary
 * prefix (and a DESTDIR), then a program built with nothing but
 * `pkg-config mhd-otel` against what was installed: shared (linked to
 * libmhd-otel.so.MAJOR) and static (no libmhd-otel in its NEEDED). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mhd-otel/otel.h>

#include "../lib/itest.h"

/* make, without the jobserver of the make that runs the tests. */
#define MAKE "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory"

#define PROGRAM                                                                                    \
    "#include <stdio.h>\n"                                                                         \
    "#include <string.h>\n"                                                                        \
    "#include <mhd-otel/mhd_otel.h>\n"                                                             \
    "int main(void)\n"                                                                             \
    "{\n"                                                                                          \
    "    if (strcmp(mhd_otel_version(), MHD_OTEL_VERSION) != 0)\n"                                 \
    "        return 1;\n"                                                                          \
    "    otel_span_context sc;\n"                                                                  \
    "    const char *tp = \"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\";\n"          \
    "    if (otel_traceparent_parse(tp, strlen(tp), &sc) != OTEL_OK)\n"                            \
    "        return 1;\n"                                                                          \
    "    printf(\"mhd-otel %s: %s\\n\", mhd_otel_version(), otel_strerror(OTEL_ERR_PARSE));\n"     \
    "    return 0;\n"                                                                              \
    "}\n"

static char dir[64];

/* Run "sh -c cmd" (at most 5 minutes); its status, output into *out. */
static int shell(const char *cmd, char **out)
{
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    char *err = NULL;
    int status = 0;

    if (itest_run_cmd(argv, NULL, 300000, out, &err, &status) != 0)
        fail_msg("could not run (or timed out): %s", cmd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "%s\n%s", cmd, err ? err : "");
    free(err);
    return status;
}

static void shell_ok(const char *cmd)
{
    int status = shell(cmd, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("failed (status 0x%x): %s", (unsigned int)status, cmd);
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_it_install.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)shell(cmd, NULL);
    return 0;
}

static bool is_file(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* path is a symbolic link to target. */
static void assert_link(const char *path, const char *target)
{
    char buf[256];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n < 0)
        fail_msg("%s is not a symbolic link", path);
    buf[n] = '\0';
    assert_string_equal(buf, target);
}

/* Every file make install puts under PREFIX, with the SONAME links; a
 * program built with pkg-config alone runs, shared and static; make
 * uninstall leaves no file behind. */
static void test_install_pkg_config_uninstall(void **state)
{
    char cmd[2048], path[512], pc[256], *out = NULL;
    (void)state;

    snprintf(cmd, sizeof(cmd), MAKE " install BUILD=%s PREFIX=%s/usr", itest_build_dir(), dir);
    shell_ok(cmd);

    snprintf(path, sizeof(path), "%s/usr/lib/libmhd-otel.so.%s", dir, MHD_OTEL_VERSION);
    assert_true(is_file(path));
    snprintf(path, sizeof(path), "%s/usr/lib/libmhd-otel.so.%d", dir, MHD_OTEL_VERSION_MAJOR);
    snprintf(cmd, sizeof(cmd), "libmhd-otel.so.%s", MHD_OTEL_VERSION);
    assert_link(path, cmd);
    snprintf(path, sizeof(path), "%s/usr/lib/libmhd-otel.so", dir);
    snprintf(cmd, sizeof(cmd), "libmhd-otel.so.%d", MHD_OTEL_VERSION_MAJOR);
    assert_link(path, cmd);
    static const char *const files[] = {
        "lib/libmhd-otel.a",
        "lib/pkgconfig/mhd-otel.pc",
        "include/mhd-otel/otel.h",
        "include/mhd-otel/propagation.h",
        "include/mhd-otel/client.h",
        "include/mhd-otel/mhd_otel.h",
        "include/mhd-otel/mhd_otel_curl.h",
        "share/doc/mhd-otel/README.md",
        "share/doc/mhd-otel/examples/reference.conf",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/usr/%s", dir, files[i]);
        if (!is_file(path))
            fail_msg("make install did not install %s", path);
    }
    /* the .pc names the prefix it was installed under */
    snprintf(cmd, sizeof(cmd),
             "PKG_CONFIG_PATH=%s/usr/lib/pkgconfig pkg-config --variable=libdir mhd-otel", dir);
    assert_int_equal(shell(cmd, &out), 0);
    snprintf(path, sizeof(path), "%s/usr/lib\n", dir);
    assert_string_equal(out, path);
    free(out);
    out = NULL;

    snprintf(path, sizeof(path), "%s/prog.c", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(PROGRAM, f);
    assert_int_equal(fclose(f), 0);
    snprintf(pc, sizeof(pc), "PKG_CONFIG_PATH=%s/usr/lib/pkgconfig pkg-config", dir);

    /* shared: linked to the SONAME, found through the rpath */
    snprintf(
        cmd, sizeof(cmd),
        "cc -std=c11 -Wall -Werror %s -o %s/prog-shared %s/prog.c $(%s --cflags --libs mhd-otel) "
        "-Wl,-rpath,%s/usr/lib",
        ITEST_SAN_FLAGS, dir, dir, pc, dir);
    shell_ok(cmd);
    snprintf(cmd, sizeof(cmd), "readelf -d %s/prog-shared | grep NEEDED", dir);
    assert_int_equal(shell(cmd, &out), 0);
    snprintf(path, sizeof(path), "[libmhd-otel.so.%d]", MHD_OTEL_VERSION_MAJOR);
    assert_non_null(strstr(out, path));
    free(out);
    out = NULL;
    snprintf(cmd, sizeof(cmd), "%s/prog-shared", dir);
    assert_int_equal(shell(cmd, &out), 0);
    snprintf(path, sizeof(path), "mhd-otel %s: %s\n", MHD_OTEL_VERSION,
             otel_strerror(OTEL_ERR_PARSE));
    assert_string_equal(out, path);
    free(out);
    out = NULL;

    /* pkg-config --static alone builds it too */
    snprintf(cmd, sizeof(cmd),
             "cc -std=c11 -Wall -Werror %s -o %s/prog-pcstatic %s/prog.c "
             "$(%s --static --cflags --libs mhd-otel) -Wl,-rpath,%s/usr/lib && %s/prog-pcstatic",
             ITEST_SAN_FLAGS, dir, dir, pc, dir, dir);
    shell_ok(cmd);

    /* the archive, with what --static adds (Requires.private and
     * Libs.private are all it needs) */
    snprintf(cmd, sizeof(cmd),
             "cc -std=c11 -Wall -Werror %s -o %s/prog-static %s/prog.c $(%s --cflags mhd-otel) "
             "%s/usr/lib/libmhd-otel.a $(%s --static --libs mhd-otel | sed 's/-lmhd-otel//')",
             ITEST_SAN_FLAGS, dir, dir, pc, dir, pc);
    shell_ok(cmd);
    snprintf(cmd, sizeof(cmd), "readelf -d %s/prog-static | grep NEEDED", dir);
    assert_int_equal(shell(cmd, &out), 0);
    assert_null(strstr(out, "libmhd-otel"));
    free(out);
    out = NULL;
    snprintf(cmd, sizeof(cmd), "%s/prog-static", dir);
    assert_int_equal(shell(cmd, &out), 0);
    snprintf(path, sizeof(path), "mhd-otel %s: %s\n", MHD_OTEL_VERSION,
             otel_strerror(OTEL_ERR_PARSE));
    assert_string_equal(out, path);
    free(out);
    out = NULL;

    snprintf(cmd, sizeof(cmd), MAKE " uninstall BUILD=%s PREFIX=%s/usr", itest_build_dir(), dir);
    shell_ok(cmd);
    snprintf(cmd, sizeof(cmd), "find %s/usr ! -type d", dir);
    assert_int_equal(shell(cmd, &out), 0);
    assert_string_equal(out, "");
    free(out);
}

/* DESTDIR stages the tree: the files land under it, the .pc names the
 * final prefix. */
static void test_install_destdir(void **state)
{
    char cmd[1024], path[512], *out = NULL;
    (void)state;

    snprintf(cmd, sizeof(cmd), MAKE " install BUILD=%s PREFIX=/opt/mhd-otel DESTDIR=%s/stage",
             itest_build_dir(), dir);
    shell_ok(cmd);
    snprintf(path, sizeof(path), "%s/stage/opt/mhd-otel/lib/libmhd-otel.so.%s", dir,
             MHD_OTEL_VERSION);
    assert_true(is_file(path));
    snprintf(cmd, sizeof(cmd),
             "sed -n 's/^prefix=//p' %s/stage/opt/mhd-otel/lib/pkgconfig/mhd-otel.pc", dir);
    assert_int_equal(shell(cmd, &out), 0);
    assert_string_equal(out, "/opt/mhd-otel\n");
    free(out);
    snprintf(cmd, sizeof(cmd), MAKE " uninstall BUILD=%s PREFIX=/opt/mhd-otel DESTDIR=%s/stage",
             itest_build_dir(), dir);
    shell_ok(cmd);
    assert_false(is_file(path));
    /* the build's own .pc is made again for the next install */
    snprintf(cmd, sizeof(cmd), MAKE " pc BUILD=%s", itest_build_dir());
    shell_ok(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_pkg_config_uninstall),
        cmocka_unit_test(test_install_destdir),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
