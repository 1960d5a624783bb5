/* itest_file.c - files of the integration tests: paths, temp dirs, whole-file reads, writes. */
#include "itest.h"
#include "itest_int.h"

#include <stdio.h>
#include <stdlib.h>

/* dir + "/" + name into out (ITEST_PATH_MAX bytes). Returns 0 or -1. */
int itest_join_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, ITEST_PATH_MAX, "%s/%s", dir, name);

    return n < 0 || n >= ITEST_PATH_MAX ? -1 : 0;
}

int itest_tmpdir_make(char *dir, const char *tag)
{
    const char *tmp = getenv("TMPDIR");
    int n;

    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = snprintf(dir, ITEST_PATH_MAX, "%s/%s.XXXXXX", tmp, tag);
    if (n < 0 || n >= ITEST_PATH_MAX || mkdtemp(dir) == NULL) {
        dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* Read the whole file at path into a heap string (NUL-terminated; *len is
 * its length when len is not NULL). NULL when it cannot be read. */
char *itest_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    size_t n = 0;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap == 0 ? 8192 : cap * 2;
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* Write len bytes of text to a new file at path. Returns 0 or -1. */
int itest_write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (f == NULL)
        return -1;
    if (fwrite(text, 1, len, f) != len)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

const char *itest_build_dir(void)
{
    const char *build = getenv("MHD_OTEL_BUILD");

    return build == NULL || build[0] == '\0' ? "build" : build;
}
