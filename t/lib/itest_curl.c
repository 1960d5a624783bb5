/* itest_curl.c - requests to a server under test with the curl tool. */
#include "itest.h"
#include "itest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run curl with argv, its stdout captured into *out (heap, NULL on
 * failure). argv and url are freed here (either NULL: nothing runs).
 * Returns curl's exit code, or -1 when it could not be run. */
static int run_curl(char **argv, char *url, char **out)
{
    int fd = -1;
    int status = 0;
    int rc = -1;
    pid_t pid = argv != NULL && url != NULL ? itest_spawn(argv, &fd, NULL) : -1;

    if (pid >= 0) {
        itest_drain_close(fd, out, 120000);
        if (itest_wait_or_kill(pid, &status, 120000) == 0 && WIFEXITED(status) &&
            WEXITSTATUS(status) != 126 && WEXITSTATUS(status) != 127)
            rc = WEXITSTATUS(status);
    }
    free(argv);
    free(url);
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* http://127.0.0.1:PORT<path> as a heap string. */
static char *make_url(const itest_server *s, const char *path)
{
    size_t len = strlen(path) + 32;
    char *url = malloc(len);

    if (url == NULL)
        return NULL;
    if (snprintf(url, len, "http://127.0.0.1:%u%s", (unsigned int)s->port, path) < 0) {
        free(url);
        return NULL;
    }
    return url;
}

/* Leading decimal digits of s as an int (0 when none). */
static int parse_status(const char *s)
{
    int v = 0;

    while (s != NULL && *s >= '0' && *s <= '9' && v < 100000)
        v = v * 10 + (*s++ - '0');
    return v;
}

/* A heap argv: base[0..nbase), then extra (NULL-terminated, may be NULL),
 * then room for tail more arguments and the NULL; *next is where the tail
 * goes. NULL when out of memory. The strings are borrowed. */
static char **curl_argv(const char *const *base, size_t nbase, const char *const *extra,
                        size_t tail, size_t *next)
{
    size_t nextra = 0;
    char **argv;

    while (extra != NULL && extra[nextra] != NULL)
        nextra++;
    argv = calloc(nbase + nextra + tail + 1, sizeof(*argv));
    if (argv == NULL)
        return NULL;
    for (size_t i = 0; i < nbase; i++)
        argv[i] = (char *)base[i];
    for (size_t i = 0; i < nextra; i++)
        argv[nbase + i] = (char *)extra[i];
    *next = nbase + nextra;
    return argv;
}

int itest_curl(itest_server *s, const char *path, const char *const *extra, itest_response *r)
{
    static const char *const base[] = {"curl", "-s",           "-o",         NULL,
                                       "-w",   "%{http_code}", "--max-time", "10"};
    const size_t nbase = sizeof(base) / sizeof(base[0]);
    size_t at = 0;
    char **argv;
    char *url;
    char *out = NULL;

    memset(r, 0, sizeof(*r));
    url = make_url(s, path);
    argv = curl_argv(base, nbase, extra, 1, &at);
    if (argv != NULL) {
        argv[3] = s->body_path;
        argv[at] = url;
        unlink(s->body_path);
    }
    if (run_curl(argv, url, &out) < 0)
        return -1;
    r->status = parse_status(out);
    free(out);
    r->body = itest_read_file(s->body_path, &r->body_len);
    if (r->body == NULL) {
        r->body = calloc(1, 1);
        r->body_len = 0;
        if (r->body == NULL)
            return -1;
    }
    return 0;
}

void itest_response_free(itest_response *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* n GETs of path over one curl process with extra arguments (may be NULL)
 * and a --max-time of max_time seconds. Returns how many were answered with
 * status want, or -1 when curl could not be run. */
static int curl_repeat(itest_server *s, const char *path, int n, int want, const char *const *extra,
                       const char *max_time)
{
    const char *const base[] = {"curl", "-s", "-w", "%{http_code}\n", "--max-time", max_time};
    const size_t nbase = sizeof(base) / sizeof(base[0]);
    size_t at = 0;
    char **argv;
    char *url;
    char *out = NULL;
    int ok = 0;

    if (n <= 0)
        return 0;
    url = make_url(s, path);
    argv = curl_argv(base, nbase, extra, 3 * (size_t)n, &at);
    for (int i = 0; argv != NULL && i < n; i++, at += 3) {
        argv[at] = "-o";
        argv[at + 1] = "/dev/null";
        argv[at + 2] = url;
    }
    if (run_curl(argv, url, &out) < 0)
        return -1;
    for (const char *p = out; p != NULL && *p != '\0';) {
        if (parse_status(p) == want)
            ok++;
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    free(out);
    return ok;
}

int itest_curl_repeat(itest_server *s, const char *path, int n, int want)
{
    return curl_repeat(s, path, n, want, NULL, "30");
}

int itest_curl_repeat_with(itest_server *s, const char *path, int n, int want,
                           const char *const *extra)
{
    return curl_repeat(s, path, n, want, extra, "60");
}
