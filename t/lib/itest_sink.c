/* itest_sink.c - the independent OTLP sink (../shared/otlp-sink) run as a child process. */
#include "itest.h"
#include "itest_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ITEST_SINK_READY_TIMEOUT_MS 15000
#define ITEST_SINK_RESTART_TIMEOUT_MS 5000
#define ITEST_SINK_MAX_ARGS 32

int itest_sink_install(void)
{
    char *argv[] = {"sh", "t/sink.sh", "install", (char *)itest_build_dir(), NULL};
    char *out = NULL;
    char *err = NULL;
    int status = 0;
    int rc = itest_run_cmd(argv, NULL, 600000, &out, &err, &status);

    /* what it printed (stdout, then stderr) to our stderr */
    fputs(out != NULL ? out : "", stderr);
    fputs(err != NULL ? err : "", stderr);
    free(out);
    free(err);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int itest_sink_init(itest_sink *k)
{
    memset(k, 0, sizeof(*k));
    k->out_fd = -1;
    if (itest_tmpdir_make(k->dir, "mhd-otel-sink") != 0)
        return -1;
    if (itest_join_path(k->out_path, k->dir, "spans.jsonl") != 0 ||
        itest_join_path(k->ready_path, k->dir, "ready.json") != 0 ||
        itest_join_path(k->err_path, k->dir, "stderr.txt") != 0)
        return -1;
    return 0;
}

/* Reap the sink (killing it after timeout_ms), collect stdout and stderr.
 * Returns 0 when it exited by itself, -1 when it had to be killed. */
static int sink_reap(itest_sink *k, int timeout_ms)
{
    int rc = 0;

    if (k->pid > 0) {
        rc = itest_wait_or_kill(k->pid, &k->exit_status, timeout_ms);
        k->pid = 0;
    }
    itest_collect_output(&k->out_fd, &k->out_text, &k->err_text, k->err_path);
    return rc;
}

/* A port member of the ready object, 0 when absent or null. */
static uint16_t ready_port(const cJSON *ready, const char *name)
{
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(ready, name);

    if (cJSON_IsNumber(port) && port->valuedouble >= 1 && port->valuedouble <= 65535)
        return (uint16_t)port->valuedouble;
    return 0;
}

/* The grpc_port of the ready file, 0 when it is not there (yet); its
 * http_port into *http_port (0 when the sink has none). */
static uint16_t sink_ready_port(const itest_sink *k, uint16_t *http_port)
{
    char *text = itest_read_file(k->ready_path, NULL);
    cJSON *ready = text != NULL ? cJSON_Parse(text) : NULL;
    uint16_t v = ready_port(ready, "grpc_port");

    *http_port = ready_port(ready, "http_port");
    cJSON_Delete(ready);
    free(text);
    return v;
}

/* The sink's arguments (argv from *n on, k->extra): on a restart
 * (keep_http) an "--http-port 0" of extra becomes the port the sink had,
 * written into http_s (8 bytes). Returns 0, or -1 when there are too many. */
static int sink_extra_args(const itest_sink *k, bool keep_http, char **argv, size_t *n,
                           char *http_s)
{
    for (size_t i = 0; k->extra != NULL && k->extra[i] != NULL; i++) {
        if (*n + 2 >= ITEST_SINK_MAX_ARGS)
            return -1;
        argv[(*n)++] = (char *)k->extra[i];
        if (keep_http && k->http_port != 0 && strcmp(k->extra[i], "--http-port") == 0 &&
            k->extra[i + 1] != NULL && strcmp(k->extra[i + 1], "0") == 0) {
            snprintf(http_s, 8, "%u", (unsigned int)k->http_port);
            argv[(*n)++] = http_s;
            i++;
        }
    }
    return 0;
}

/* One attempt: spawn the sink, wait for its ready file. Returns 0, -1 when
 * it failed, -2 when it exited (perhaps: port still taken). */
static int sink_spawn(itest_sink *k, uint16_t port, bool truncate)
{
    char *argv[ITEST_SINK_MAX_ARGS];
    char port_s[8];
    char http_s[8];
    size_t n = 0;
    uint64_t deadline;
    uint16_t got = 0;
    uint16_t http_port = 0;

    snprintf(port_s, sizeof(port_s), "%u", (unsigned int)port);
    argv[n++] = "sh";
    argv[n++] = "t/sink.sh";
    argv[n++] = "run";
    argv[n++] = (char *)itest_build_dir();
    argv[n++] = "--grpc-port";
    argv[n++] = port_s;
    argv[n++] = "--ready-file";
    argv[n++] = k->ready_path;
    argv[n++] = "--out";
    argv[n++] = k->out_path;
    if (truncate)
        argv[n++] = "--truncate";
    if (sink_extra_args(k, !truncate, argv, &n, http_s) != 0)
        return -1;
    argv[n] = NULL;
    unlink(k->ready_path);
    free(k->out_text);
    k->out_text = NULL;
    k->pid = itest_spawn(argv, &k->out_fd, k->err_path);
    if (k->pid < 0) {
        k->pid = 0;
        return -1;
    }
    deadline = itest_now_ms() + ITEST_SINK_READY_TIMEOUT_MS;
    /* k->port stays what it was until the sink is ready: a restart that
     * retries asks for the same port again */
    while ((got = sink_ready_port(k, &http_port)) == 0 || (port != 0 && got != port)) {
        if (waitpid(k->pid, &k->exit_status, WNOHANG) == k->pid) {
            k->pid = 0;
            (void)sink_reap(k, 0);
            return -2;
        }
        if (itest_now_ms() >= deadline) {
            (void)sink_reap(k, 0);
            return -1;
        }
        itest_sleep_ms(20);
    }
    k->port = got;
    k->http_port = http_port;
    return 0;
}

int itest_sink_start(itest_sink *k, uint16_t port, const char *const *extra)
{
    k->extra = extra;
    return sink_spawn(k, port, true) == 0 ? 0 : -1;
}

int itest_sink_kill(itest_sink *k)
{
    if (k->pid <= 0)
        return -1;
    kill(k->pid, SIGKILL);
    (void)sink_reap(k, ITEST_STOP_TIMEOUT_MS);
    return 0;
}

int itest_sink_restart(itest_sink *k)
{
    uint64_t deadline = itest_now_ms() + ITEST_SINK_RESTART_TIMEOUT_MS;
    int rc;

    if (k->port == 0 || k->pid > 0)
        return -1;
    while ((rc = sink_spawn(k, k->port, false)) == -2 && itest_now_ms() < deadline)
        itest_sleep_ms(100);
    return rc == 0 ? 0 : -1;
}

int itest_sink_restart_with(itest_sink *k, const char *const *extra)
{
    k->extra = extra;
    return itest_sink_restart(k);
}

int itest_sink_stop(itest_sink *k)
{
    if (k->pid <= 0)
        return -1;
    kill(k->pid, SIGTERM);
    if (sink_reap(k, ITEST_STOP_TIMEOUT_MS) != 0)
        return -1;
    return WIFEXITED(k->exit_status) && WEXITSTATUS(k->exit_status) == 0 ? 0 : -1;
}

void itest_sink_cleanup(itest_sink *k)
{
    if (k->pid > 0) {
        (void)itest_wait_or_kill(k->pid, &k->exit_status, 0);
    }
    if (k->out_fd >= 0)
        close(k->out_fd);
    free(k->out_text);
    free(k->err_text);
    if (k->dir[0] != '\0') {
        char tmp[ITEST_PATH_MAX + 8];

        snprintf(tmp, sizeof(tmp), "%s.tmp", k->ready_path);
        unlink(tmp);
        unlink(k->out_path);
        unlink(k->ready_path);
        unlink(k->err_path);
        rmdir(k->dir);
    }
    memset(k, 0, sizeof(*k));
    k->out_fd = -1;
}

cJSON *itest_sink_final(const itest_sink *k)
{
    const char *line = k->out_text != NULL ? strstr(k->out_text, "otlp-sink final") : NULL;
    const char *brace = line != NULL ? strchr(line, '{') : NULL;
    const char *nl = brace != NULL ? strchr(brace, '\n') : NULL;

    if (brace == NULL)
        return NULL;
    return cJSON_ParseWithLength(brace, nl != NULL ? (size_t)(nl - brace) : strlen(brace));
}

bool itest_sink_final_stat(const itest_sink *k, const char *name, uint64_t *out)
{
    cJSON *stats = itest_sink_final(k);
    bool ok = itest_json_u64(cJSON_GetObjectItemCaseSensitive(stats, name), out);

    cJSON_Delete(stats);
    return ok;
}

bool itest_sink_final_str(const itest_sink *k, const char *name, char *out, size_t cap)
{
    cJSON *stats = itest_sink_final(k);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(stats, name);
    bool ok = cJSON_IsString(v) && v->valuestring != NULL && cap > 0;

    if (ok)
        snprintf(out, cap, "%s", v->valuestring);
    cJSON_Delete(stats);
    return ok;
}

size_t itest_sink_count(const itest_sink *k, const char *path)
{
    itest_spans sp;
    char why[128];
    size_t n = 0;

    if (itest_spans_read(k->out_path, &sp, why, sizeof(why)) != 0)
        return 0; /* a line being written: not yet */
    for (size_t i = 0; i < sp.n; i++) {
        const char *p = itest_span_attr_str(sp.v[i], "url.path");
        if (path == NULL || (p != NULL && strcmp(p, path) == 0))
            n++;
    }
    itest_spans_free(&sp);
    return n;
}

size_t itest_sink_wait(const itest_sink *k, const char *path, size_t want, int timeout_ms)
{
    uint64_t deadline = itest_now_ms() + (uint64_t)timeout_ms;
    size_t n;

    while ((n = itest_sink_count(k, path)) < want && itest_now_ms() < deadline)
        itest_sleep_ms(50);
    return n;
}
