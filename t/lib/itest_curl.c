/* itest_curl.c - requests to a server under test with the curl tool. */
#include "itest.h"
#include "itest_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run curl with argv, its stdout captured into *out. Returns curl's exit
 * code, or -1 when it could not be run. */
static int run_curl(char *const argv[], char **out)
{
    int fd = -1;
    int status = 0;
    pid_t pid = itest_spawn(argv, &fd, NULL);

    if (pid < 0)
        return -1;
    itest_drain_close(fd, out, 120000);
    if (itest_wait_timeout(pid, &status, 120000) != 0) {
        kill(pid, SIGKILL);
        (void)itest_wait_timeout(pid, &status, 10000);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)
        return -1;
    return WEXITSTATUS(status);
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

int itest_curl(itest_server *s, const char *path, const char *const *extra, itest_response *r)
{
    static const char *const base[] = {"curl", "-s",           "-o",         NULL,
                                       "-w",   "%{http_code}", "--max-time", "10"};
    const size_t nbase = sizeof(base) / sizeof(base[0]);
    size_t nextra = 0;
    char **argv;
    char *url;
    char *out = NULL;
    int rc;

    memset(r, 0, sizeof(*r));
    while (extra != NULL && extra[nextra] != NULL)
        nextra++;
    url = make_url(s, path);
    argv = calloc(nbase + nextra + 2, sizeof(*argv));
    if (url == NULL || argv == NULL) {
        free(url);
        free(argv);
        return -1;
    }
    for (size_t i = 0; i < nbase; i++)
        argv[i] = (char *)base[i];
    argv[3] = s->body_path;
    for (size_t i = 0; i < nextra; i++)
        argv[nbase + i] = (char *)extra[i];
    argv[nbase + nextra] = url;
    unlink(s->body_path);
    rc = run_curl(argv, &out);
    free(argv);
    free(url);
    if (rc < 0) {
        free(out);
        return -1;
    }
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

int itest_curl_repeat(itest_server *s, const char *path, int n, int want)
{
    static const char *const base[] = {"curl", "-s", "-w", "%{http_code}\n", "--max-time", "30"};
    const size_t nbase = sizeof(base) / sizeof(base[0]);
    char **argv;
    char *url;
    char *out = NULL;
    int ok = 0;
    int rc;

    if (n <= 0)
        return 0;
    url = make_url(s, path);
    argv = calloc(nbase + 3 * (size_t)n + 1, sizeof(*argv));
    if (url == NULL || argv == NULL) {
        free(url);
        free(argv);
        return -1;
    }
    for (size_t i = 0; i < nbase; i++)
        argv[i] = (char *)base[i];
    for (int i = 0; i < n; i++) {
        argv[nbase + 3 * (size_t)i] = "-o";
        argv[nbase + 3 * (size_t)i + 1] = "/dev/null";
        argv[nbase + 3 * (size_t)i + 2] = url;
    }
    rc = run_curl(argv, &out);
    free(argv);
    free(url);
    if (rc < 0) {
        free(out);
        return -1;
    }
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

int itest_curl_repeat_with(itest_server *s, const char *path, int n, int want,
                           const char *const *extra)
{
    static const char *const base[] = {"curl", "-s", "-w", "%{http_code}\n", "--max-time", "60"};
    const size_t nbase = sizeof(base) / sizeof(base[0]);
    size_t nextra = 0;
    char **argv;
    char *url;
    char *out = NULL;
    int ok = 0;
    int rc;

    if (n <= 0)
        return 0;
    while (extra != NULL && extra[nextra] != NULL)
        nextra++;
    url = make_url(s, path);
    argv = calloc(nbase + nextra + 3 * (size_t)n + 1, sizeof(*argv));
    if (url == NULL || argv == NULL) {
        free(url);
        free(argv);
        return -1;
    }
    for (size_t i = 0; i < nbase; i++)
        argv[i] = (char *)base[i];
    for (size_t i = 0; i < nextra; i++)
        argv[nbase + i] = (char *)extra[i];
    for (int i = 0; i < n; i++) {
        size_t at = nbase + nextra + 3 * (size_t)i;
        argv[at] = "-o";
        argv[at + 1] = "/dev/null";
        argv[at + 2] = url;
    }
    rc = run_curl(argv, &out);
    free(argv);
    free(url);
    if (rc < 0) {
        free(out);
        return -1;
    }
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
