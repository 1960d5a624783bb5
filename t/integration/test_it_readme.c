/* test_it_readme.c - every code block of README.md is checked as what it
 * claims to be: C is compiled and linked exactly as the README says and
 * run, config text is parsed by the module's own parser, shell is
 * syntax-checked (its config here-document parsed too), JSON is parsed and
 * holds the console exporter's keys. A block in any other language fails. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../module/conf.h"
#include "../lib/itest.h"

#define README "README.md"
#define MAX_BLOCKS 32

/* One fenced block: its language tag ("" for none), its text (heap), the
 * README line it starts on. */
typedef struct block {
    char lang[16];
    char *text;
    size_t line;
} block;

typedef struct blocks {
    block b[MAX_BLOCKS];
    size_t n;
} blocks;

static blocks all;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf != NULL && fread(buf, 1, (size_t)len, f) == (size_t)len)
            buf[len] = '\0';
        else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Split README into its ``` fenced blocks. */
static int read_blocks(void **state)
{
    (void)state;
    char *text = slurp(README);
    char *line, *next;
    size_t lineno = 0;
    block *cur = NULL;
    size_t used = 0, cap = 0;

    if (text == NULL)
        return -1;
    for (line = text; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        size_t len = next != NULL ? (size_t)(next - line) : strlen(line);
        if (next != NULL)
            next++;
        lineno++;
        if (len >= 3 && strncmp(line, "```", 3) == 0) {
            if (cur == NULL) {
                if (all.n == MAX_BLOCKS)
                    return -1;
                cur = &all.b[all.n++];
                snprintf(cur->lang, sizeof(cur->lang), "%.*s", (int)(len - 3), line + 3);
                cur->line = lineno;
                cur->text = calloc(1, 1);
                used = 0;
                cap = 1;
            } else {
                cur = NULL;
            }
            continue;
        }
        if (cur != NULL) {
            if (used + len + 2 > cap) {
                cap = (used + len + 2) * 2;
                char *grown = realloc(cur->text, cap);
                if (grown == NULL)
                    return -1;
                cur->text = grown;
            }
            memcpy(cur->text + used, line, len);
            used += len;
            cur->text[used++] = '\n';
            cur->text[used] = '\0';
        }
    }
    free(text);
    return cur == NULL ? 0 : -1; /* an unclosed block is an error too */
}

/* The certificate files the README's TLS blocks name, made for real: the
 * parser loads them. */
static itest_certs certs;

static int free_blocks(void **state)
{
    (void)state;
    itest_certs_cleanup(&certs);
    for (size_t i = 0; i < all.n; i++)
        free(all.b[i].text);
    return 0;
}

/* A temp directory for one check; its path into dir (64 bytes). */
static void temp_dir(char *dir)
{
    snprintf(dir, 64, "/tmp/test_it_readme.XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Run "sh -c cmd"; its status, output into *out (heap, may be NULL). */
static int shell(const char *cmd, char **out, char **err)
{
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    int status = 0;

    if (itest_run_cmd(argv, NULL, 120000, out, err, &status) != 0)
        fail_msg("could not run (or timed out): %s", cmd);
    return status;
}

static void rm_rf(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)shell(cmd, NULL, NULL);
}

/* text with the README's /etc/mhd-otel/ files replaced by real ones (heap). */
static char *with_cert_files(const char *text)
{
    const char *from[] = {"/etc/mhd-otel/ca.pem", "/etc/mhd-otel/client.pem",
                          "/etc/mhd-otel/client.key"};
    const char *to[] = {certs.ca, certs.client, certs.client_key};
    size_t cap = strlen(text) + 1;
    for (const char *p = text; (p = strstr(p, "/etc/mhd-otel/")) != NULL; p++)
        cap += ITEST_PATH_MAX;
    char *out = malloc(cap), *o = out;
    assert_non_null(out);
    while (*text != '\0') {
        size_t k = 0;
        while (k < 3 && strncmp(text, from[k], strlen(from[k])) != 0)
            k++;
        if (k < 3 && certs.dir[0] == '\0')
            assert_int_equal(itest_certs_make(&certs), 0);
        if (k < 3) {
            o += sprintf(o, "%s", to[k]);
            text += strlen(from[k]);
        } else {
            *o++ = *text++;
        }
    }
    *o = '\0';
    return out;
}

/* The module's parser accepts text (no environment). */
static void check_conf(const char *text, size_t line)
{
    mhd_otel_conf *c = NULL;
    char err[512] = "";
    char name[64];
    char *real = with_cert_files(text);

    snprintf(name, sizeof(name), "README.md block at line %zu", line);
    if (mhd_otel_conf_parse(&c, name, real, strlen(real), NULL, err, sizeof(err)) != OTEL_OK)
        fail_msg("config block does not parse: %s", err);
    mhd_otel_conf_del(c);
    free(real);
}

/* C: compiled and linked the way the README says ("module/ on the include
 * path", build/libmhd-otel.a and the pkg-config libraries), then run. The
 * program reads /etc/mhd-otel.conf: absent there, it must say so and exit
 * 1; present, it starts and stops its daemon and exits 0. */
static void check_c(const block *b)
{
    char dir[64], src[96], bin[96], cmd[1024];
    char *out = NULL, *err = NULL;
    int status;

    temp_dir(dir);
    snprintf(src, sizeof(src), "%s/block.c", dir);
    snprintf(bin, sizeof(bin), "%s/block", dir);
    write_file(src, b->text);
    snprintf(
        cmd, sizeof(cmd),
        "cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude "
        "$(pkg-config --cflags libmicrohttpd) %s -o %s %s %s/libmhd-otel.a "
        "$(pkg-config --libs libmicrohttpd libcjson libnghttp2 libprotobuf-c zlib libcurl openssl) "
        "-lpthread -ldl -lm",
        ITEST_SAN_FLAGS, bin, src, itest_build_dir());
    status = shell(cmd, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("README.md line %zu: the C block does not build:\n%s\n%s", b->line, cmd,
                 err ? err : "");
    free(err);
    err = NULL;
    snprintf(cmd, sizeof(cmd), "ASAN_OPTIONS=detect_leaks=1 %s", bin);
    status = shell(cmd, &out, &err);
    assert_true(WIFEXITED(status));
    if (access("/etc/mhd-otel.conf", R_OK) != 0) {
        assert_int_equal(WEXITSTATUS(status), 1);
        if (err == NULL || strstr(err, "/etc/mhd-otel.conf") == NULL)
            fail_msg("the README program did not name its missing config: %s", err ? err : "");
    } else if (WEXITSTATUS(status) != 0) {
        fail_msg("the README program failed with its /etc/mhd-otel.conf: %s", err ? err : "");
    }
    assert_null(strstr(err ? err : "", "Sanitizer"));
    free(out);
    free(err);
    rm_rf(dir);
}

/* sh: "sh -n"; a here-document named CONF is a config for the module. */
static void check_sh(const block *b)
{
    char dir[64], path[96], cmd[160];
    char *err = NULL;
    const char *start = strstr(b->text, "<<'CONF'\n");

    temp_dir(dir);
    snprintf(path, sizeof(path), "%s/block.sh", dir);
    write_file(path, b->text);
    snprintf(cmd, sizeof(cmd), "sh -n %s", path);
    int status = shell(cmd, NULL, &err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("README.md line %zu: shell block does not parse: %s", b->line, err ? err : "");
    free(err);
    rm_rf(dir);
    if (start != NULL) {
        start += strlen("<<'CONF'\n");
        const char *end = strstr(start, "\nCONF\n");
        assert_non_null(end);
        char *conf = strndup(start, (size_t)(end - start) + 1);
        assert_non_null(conf);
        check_conf(conf, b->line);
        free(conf);
    }
}

/* json: the console exporter's line, with exactly its keys in order. */
static void check_json(const block *b)
{
    static const char *const keys[] = {"trace_id",
                                       "span_id",
                                       "parent_span_id",
                                       "name",
                                       "kind",
                                       "start_time_unix_nano",
                                       "end_time_unix_nano",
                                       "attributes",
                                       "events",
                                       "status",
                                       "resource"};
    cJSON *root = cJSON_Parse(b->text);
    const cJSON *item;
    size_t i = 0;

    if (root == NULL)
        fail_msg("README.md line %zu: JSON block does not parse", b->line);
    cJSON_ArrayForEach(item, root)
    {
        assert_true(i < sizeof(keys) / sizeof(keys[0]));
        assert_string_equal(item->string, keys[i]);
        i++;
    }
    assert_int_equal(i, sizeof(keys) / sizeof(keys[0]));
    cJSON_Delete(root);
}

static void test_readme_blocks_checked(void **state)
{
    (void)state;
    size_t c = 0, conf = 0, sh = 0, json = 0;

    assert_true(all.n > 0);
    for (size_t i = 0; i < all.n; i++) {
        const block *b = &all.b[i];
        if (strcmp(b->lang, "c") == 0) {
            check_c(b);
            c++;
        } else if (strcmp(b->lang, "") == 0) {
            check_conf(b->text, b->line);
            conf++;
        } else if (strcmp(b->lang, "sh") == 0) {
            check_sh(b);
            sh++;
        } else if (strcmp(b->lang, "json") == 0) {
            check_json(b);
            json++;
        } else {
            fail_msg("README.md line %zu: a ```%s block, which this test cannot check", b->line,
                     b->lang);
        }
    }
    print_message("README.md: %zu C, %zu config, %zu shell, %zu JSON blocks checked\n", c, conf, sh,
                  json);
    assert_true(c >= 1 && conf >= 1 && sh >= 1 && json >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_blocks_checked),
    };
    return cmocka_run_group_tests_name("integration: README.md code blocks", tests, read_blocks,
                                       free_blocks);
}
