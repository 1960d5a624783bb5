/* itest_server.c - a server under test: its config, start, stop and what it printed. */
#include "itest.h"
#include "itest_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ITEST_LISTEN_TIMEOUT_MS 5000
#define ITEST_LISTEN_PREFIX "demo-server: listening on http://127.0.0.1:"

const char *itest_server_binary(void)
{
    static char path[ITEST_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/demo-server", itest_build_dir());

    if (n < 0 || n >= (int)sizeof(path))
        return "build/demo-server";
    return path;
}

int itest_server_init(itest_server *s)
{
    memset(s, 0, sizeof(*s));
    s->out_fd = -1;
    if (itest_tmpdir_make(s->dir, "mhd-otel-it") != 0)
        return -1;
    if (itest_join_path(s->conf_path, s->dir, "test.conf") != 0 ||
        itest_join_path(s->spans_path, s->dir, "spans.jsonl") != 0 ||
        itest_join_path(s->err_path, s->dir, "stderr.txt") != 0 ||
        itest_join_path(s->body_path, s->dir, "body") != 0)
        return -1;
    return 0;
}

/* The config text: conf_text, the console exporter, the batch settings. */
static char *build_conf(const itest_server *s, const char *conf_text)
{
    static const char batch[] = "otel_batch { schedule_delay 100ms; }\n";
    const char *fmt = "%s\notel_exporter console { format json; output %s; }\n%s";
    const char *extra = strstr(conf_text, "otel_batch") != NULL ? "" : batch;
    size_t len = strlen(conf_text) + strlen(s->spans_path) + strlen(fmt) + sizeof(batch);
    char *text = malloc(len);

    if (text == NULL)
        return NULL;
    if (snprintf(text, len, fmt, conf_text, s->spans_path, extra) < 0) {
        free(text);
        return NULL;
    }
    return text;
}

int itest_server_write_conf(itest_server *s, const char *conf_text)
{
    char *text = build_conf(s, conf_text);
    int rc;

    if (text == NULL)
        return -1;
    rc = itest_write_file(s->conf_path, text, strlen(text));
    free(text);
    return rc;
}

/* Parse "<prefix>PORT\n" out of text. */
static int find_port_after(const char *text, const char *prefix, uint16_t *port)
{
    const char *p = strstr(text, prefix);
    unsigned long v = 0;
    const char *q;

    if (p == NULL)
        return -1;
    q = p + strlen(prefix);
    if (*q < '0' || *q > '9')
        return -1;
    while (*q >= '0' && *q <= '9' && v <= 65535UL)
        v = v * 10 + (unsigned long)(*q++ - '0');
    if (*q != '\n' || v == 0 || v > 65535UL)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* Read the server's stdout for up to ITEST_LISTEN_TIMEOUT_MS until a line
 * "<prefix>PORT" sets s->port. Returns 0, or -1 when none came. */
static int wait_listen(itest_server *s, const char *prefix)
{
    uint64_t deadline = itest_now_ms() + ITEST_LISTEN_TIMEOUT_MS;

    while (s->out_text == NULL || find_port_after(s->out_text, prefix, &s->port) != 0) {
        uint64_t now = itest_now_ms();
        if (now >= deadline || itest_read_some(s->out_fd, &s->out_text, (int)(deadline - now)) <= 0)
            return -1;
    }
    return 0;
}

int itest_server_start(itest_server *s, const char *conf_text)
{
    char *argv[] = {(char *)itest_server_binary(), "-p", "0", "-c", s->conf_path, NULL};

    if (itest_server_write_conf(s, conf_text) != 0)
        return -1;
    s->pid = itest_spawn(argv, &s->out_fd, s->err_path);
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    return wait_listen(s, ITEST_LISTEN_PREFIX);
}

/* Start the demo server on s->conf_path with env (as itest_server_start_cmd). */
static int start_demo_env(itest_server *s, const char *const *env)
{
    char *argv[] = {(char *)itest_server_binary(), "-p", "0", "-c", s->conf_path, NULL};

    return itest_server_start_cmd(s, argv, env, ITEST_LISTEN_PREFIX);
}

int itest_server_start_env(itest_server *s, const char *conf_text, const char *const *env)
{
    if (itest_server_write_conf(s, conf_text) != 0)
        return -1;
    return start_demo_env(s, env);
}

int itest_server_start_bare(itest_server *s, const char *conf_text, const char *const *env)
{
    if (itest_write_file(s->conf_path, conf_text, strlen(conf_text)) != 0)
        return -1;
    return start_demo_env(s, env);
}

int itest_server_start_cmd(itest_server *s, char *const argv[], const char *const *env,
                           const char *listen_prefix)
{
    char **envp = itest_make_env(env);

    if (envp == NULL)
        return -1;
    s->pid = itest_spawn_env(argv, envp, &s->out_fd, s->err_path);
    free(envp);
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    return listen_prefix != NULL ? wait_listen(s, listen_prefix) : 0;
}

/* Reap s->pid (killing it after timeout_ms), collect stdout and stderr. */
static int reap(itest_server *s, int timeout_ms)
{
    int rc = 0;

    if (s->pid > 0 && !s->reaped) {
        rc = itest_wait_or_kill(s->pid, &s->exit_status, timeout_ms);
        s->reaped = true;
    }
    itest_collect_output(&s->out_fd, &s->out_text, &s->err_text, s->err_path);
    return rc;
}

bool itest_server_wait_err(const itest_server *s, const char *needle, int timeout_ms)
{
    uint64_t deadline = itest_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        char *text = itest_read_file(s->err_path, NULL);
        bool found = text != NULL && strstr(text, needle) != NULL;

        free(text);
        if (found)
            return true;
        if (itest_now_ms() >= deadline)
            return false;
        itest_sleep_ms(50);
    }
}

int itest_server_stop(itest_server *s)
{
    int rc;

    if (s->pid <= 0)
        return -1;
    if (!s->reaped)
        kill(s->pid, SIGTERM);
    rc = reap(s, ITEST_STOP_TIMEOUT_MS);
    if (rc != 0)
        return -1;
    return WIFEXITED(s->exit_status) && WEXITSTATUS(s->exit_status) == 0 ? 0 : -1;
}

int itest_server_reap(itest_server *s, int timeout_ms)
{
    if (s->pid <= 0)
        return -1;
    return reap(s, timeout_ms);
}

void itest_server_cleanup(itest_server *s)
{
    if (s->pid > 0 && !s->reaped) {
        (void)itest_wait_or_kill(s->pid, &s->exit_status, 0);
        s->reaped = true;
    }
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
    free(s->out_text);
    free(s->err_text);
    s->out_text = NULL;
    s->err_text = NULL;
    if (s->dir[0] != '\0') {
        unlink(s->conf_path);
        unlink(s->spans_path);
        unlink(s->err_path);
        unlink(s->body_path);
        rmdir(s->dir);
    }
    memset(s, 0, sizeof(*s));
    s->out_fd = -1;
}

/* The counter name in the counters that start at line (after "spans "),
 * up to its end of line. */
static bool counter_in_line(const char *line, const char *name, uint64_t *out)
{
    const char *end = strchr(line, '\n');
    size_t nlen = strlen(name);

    if (end == NULL)
        end = line + strlen(line);
    for (const char *p = line; p < end;) {
        if ((size_t)(end - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            char *stop = NULL;
            p += nlen + 1;
            if (*p < '0' || *p > '9')
                return false;
            errno = 0;
            *out = strtoull(p, &stop, 10);
            return errno == 0 && (stop == end || *stop == ' ');
        }
        p = memchr(p, ' ', (size_t)(end - p));
        if (p == NULL)
            break;
        p++;
    }
    return false;
}

bool itest_server_counter(const itest_server *s, const char *name, uint64_t *out)
{
    static const char prefix[] = "demo-server: spans ";
    const char *line = s->err_text != NULL ? strstr(s->err_text, prefix) : NULL;

    if (line == NULL)
        return false;
    return counter_in_line(line + sizeof(prefix) - 1, name, out);
}

bool itest_server_exporter_counter(const itest_server *s, const char *exporter, const char *name,
                                   uint64_t *out)
{
    char prefix[128];
    const char *line;

    snprintf(prefix, sizeof(prefix), "demo-server: exporter %s: spans ", exporter);
    line = s->err_text != NULL ? strstr(s->err_text, prefix) : NULL;
    if (line == NULL)
        return itest_server_counter(s, name, out);
    return counter_in_line(line + strlen(prefix), name, out);
}
