/* test_exports.c - what the shared library exports is its public API and
 * its LD_PRELOAD interposers, nothing else: the dynamic symbols of
 * libmhd-otel.so (nm -D) against the MHD_OTEL_API declarations of
 * include/mhd-otel/ and the MHD_OTEL_INTERPOSER definitions of module/;
 * its SONAME and version. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/mhd_otel.h>

#define MAX_NAMES 1024
#define NAME_MAX_LEN 128

typedef struct names {
    char v[MAX_NAMES][NAME_MAX_LEN];
    size_t n;
} names;

static names exported, declared;

static const char *build_dir(void)
{
    const char *b = getenv("MHD_OTEL_BUILD");
    return b != NULL && b[0] != '\0' ? b : "build";
}

static bool has(const names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return true;
    return false;
}

static void add(names *ns, const char *name, size_t len)
{
    char buf[NAME_MAX_LEN];
    if (len == 0 || len >= sizeof(buf))
        fail_msg("symbol name of %zu bytes", len);
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (has(ns, buf))
        return;
    if (ns->n == MAX_NAMES)
        fail_msg("more than %d names", MAX_NAMES);
    memcpy(ns->v[ns->n++], buf, len + 1);
}

/* The name declared or defined after mark in text: the identifier right
 * before the first '(' that follows it. */
static void scan_marks(names *ns, const char *text, const char *mark)
{
    for (const char *p = strstr(text, mark); p != NULL; p = strstr(p + 1, mark)) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue; /* part of a longer word */
        const char *bol = p;
        while (bol > text && bol[-1] != '\n')
            bol--;
        const char *after = p + strlen(mark);
        if (*bol == '#' || *after != ' ')
            continue; /* the #define of the mark itself */
        const char *paren = strchr(after, '(');
        if (paren == NULL)
            continue;
        const char *end = paren;
        while (end > after && end[-1] == ' ')
            end--;
        const char *start = end;
        while (start > after && (isalnum((unsigned char)start[-1]) || start[-1] == '_'))
            start--;
        add(ns, start, (size_t)(end - start));
    }
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot read %s (run from the repository's root)", path);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? 2 * cap : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        buf[len++] = (char)c;
    }
    fclose(f);
    if (buf == NULL)
        buf = calloc(1, 1);
    assert_non_null(buf);
    buf[len] = '\0';
    return buf;
}

/* Every file of dir ending in suffix, scanned for mark. */
static void scan_dir(names *ns, const char *dir, const char *suffix, const char *mark)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("cannot open %s (run from the repository's root)", dir);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), s = strlen(suffix);
        if (n <= s || strcmp(e->d_name + n - s, suffix) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        char *text = read_file(path);
        scan_marks(ns, text, mark);
        free(text);
    }
    closedir(d);
}

/* The dynamic symbols the library defines, from nm -D (those of the
 * toolchain, _init and the like, and a sanitizer's, start with '_'). */
static void read_exports(names *ns)
{
    char cmd[512], line[512];
    snprintf(cmd, sizeof(cmd), "nm -D --defined-only %s/libmhd-otel.so 2>&1", build_dir());
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p) != NULL) {
        char addr[64], type[8], name[NAME_MAX_LEN];
        if (sscanf(line, "%63s %7s %127s", addr, type, name) != 3)
            fail_msg("nm: %s", line);
        if (name[0] == '_')
            continue;
        add(ns, name, strlen(name));
    }
    assert_int_equal(pclose(p), 0);
}

static int group_setup(void **state)
{
    (void)state;
    read_exports(&exported);
    scan_dir(&declared, "include/mhd-otel", ".h", "MHD_OTEL_API");
    scan_dir(&declared, "module", ".c", "MHD_OTEL_INTERPOSER");
    return 0;
}

/* Nothing internal (otel_pool_*, otel_h2_*, mhd_otel_conf_*, protobuf-c's
 * descriptors, test hooks) is exported. */
static void test_exports_only_the_public_api(void **state)
{
    (void)state;
    size_t bad = 0;
    for (size_t i = 0; i < exported.n; i++) {
        if (!has(&declared, exported.v[i])) {
            fprintf(stderr, "exported, not public: %s\n", exported.v[i]);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    assert_false(has(&exported, "otel_alloc_fail_after"));
    assert_false(has(&exported, "otel_malloc"));
}

/* Every public function and interposer is exported. */
static void test_exports_all_of_the_public_api(void **state)
{
    (void)state;
    size_t bad = 0;
    for (size_t i = 0; i < declared.n; i++) {
        if (!has(&exported, declared.v[i])) {
            fprintf(stderr, "public, not exported: %s\n", declared.v[i]);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    assert_true(has(&declared, "mhd_otel_new"));
    assert_true(has(&declared, "MHD_start_daemon"));
    assert_true(has(&declared, "curl_easy_perform"));
}

/* The library's SONAME is libmhd-otel.so.MAJOR, and the version it gives at
 * run time is the header's. */
static void test_soname_and_version(void **state)
{
    (void)state;
    char cmd[512], line[512], want[64];
    int found = 0;
    snprintf(cmd, sizeof(cmd), "readelf -d %s/libmhd-otel.so 2>&1", build_dir());
    snprintf(want, sizeof(want), "[libmhd-otel.so.%d]", MHD_OTEL_VERSION_MAJOR);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p) != NULL)
        if (strstr(line, "(SONAME)") != NULL && strstr(line, want) != NULL)
            found = 1;
    pclose(p);
    assert_true(found);
    assert_string_equal(mhd_otel_version(), MHD_OTEL_VERSION);
    char v[32];
    snprintf(v, sizeof(v), "%d.%d.%d", MHD_OTEL_VERSION_MAJOR, MHD_OTEL_VERSION_MINOR,
             MHD_OTEL_VERSION_PATCH);
    assert_string_equal(v, MHD_OTEL_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports_only_the_public_api),
        cmocka_unit_test(test_exports_all_of_the_public_api),
        cmocka_unit_test(test_soname_and_version),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
