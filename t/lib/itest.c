/* itest.c - integration test helpers: run the demo server, drive it with
 * curl, read and query the JSON spans its console exporter wrote. */
#include "itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ITEST_LISTEN_TIMEOUT_MS 5000
#define ITEST_STOP_TIMEOUT_MS 10000
#define ITEST_LISTEN_PREFIX "demo-server: listening on http://127.0.0.1:"

/* ---- small utilities ---------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* dir + "/" + name into out (ITEST_PATH_MAX bytes). Returns 0 or -1. */
static int join_path(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, ITEST_PATH_MAX, "%s/%s", dir, name);

    return n < 0 || n >= ITEST_PATH_MAX ? -1 : 0;
}

/* Read the whole file at path into a heap string (NUL-terminated; *len is
 * its length when len is not NULL). NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len)
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
static int write_file(const char *path, const char *text, size_t len)
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

/* Append n bytes to the heap string *s (NUL-terminated). Returns 0 or -1. */
static int str_append(char **s, const char *p, size_t n)
{
    size_t old = *s != NULL ? strlen(*s) : 0;
    char *q = realloc(*s, old + n + 1);

    if (q == NULL)
        return -1;
    memcpy(q + old, p, n);
    q[old + n] = '\0';
    *s = q;
    return 0;
}

/* Read what is available on fd into *s, waiting at most timeout_ms for the
 * first bytes. Returns bytes read, 0 at EOF, -1 on timeout or error. */
static ssize_t read_some(int fd, char **s, int timeout_ms)
{
    struct pollfd p;
    char buf[4096];
    ssize_t r;
    int pr;

    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        pr = poll(&p, 1, timeout_ms);
    } while (pr < 0 && errno == EINTR);
    if (pr <= 0)
        return -1;
    do {
        r = read(fd, buf, sizeof(buf));
    } while (r < 0 && errno == EINTR);
    if (r > 0 && str_append(s, buf, (size_t)r) != 0)
        return -1;
    return r;
}

/* Parse "...listening on http://127.0.0.1:PORT\n" out of text. */
static int find_port(const char *text, uint16_t *port)
{
    const char *p = strstr(text, ITEST_LISTEN_PREFIX);
    unsigned long v = 0;
    const char *q;

    if (p == NULL)
        return -1;
    q = p + strlen(ITEST_LISTEN_PREFIX);
    if (*q < '0' || *q > '9')
        return -1;
    while (*q >= '0' && *q <= '9' && v <= 65535UL)
        v = v * 10 + (unsigned long)(*q++ - '0');
    if (*q != '\n' || v == 0 || v > 65535UL)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* Run argv with the environment envp, stdout to a pipe returned in *out_fd
 * and stderr to err_path (or /dev/null when NULL). Returns the pid or -1. */
static pid_t spawn_env(char *const argv[], char *const envp[], int *out_fd, const char *err_path)
{
    int pfd[2];
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) != 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int efd = open(err_path != NULL ? err_path : "/dev/null",
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        /* Never outlive a test binary that died. */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (efd < 0 || nfd < 0 || dup2(pfd[1], STDOUT_FILENO) < 0 || dup2(efd, STDERR_FILENO) < 0 ||
            dup2(nfd, STDIN_FILENO) < 0)
            _exit(126);
        execvpe(argv[0], argv, envp);
        _exit(127);
    }
    close(pfd[1]);
    *out_fd = pfd[0];
    return pid;
}

/* spawn_env with this process's environment. */
static pid_t spawn(char *const argv[], int *out_fd, const char *err_path)
{
    return spawn_env(argv, environ, out_fd, err_path);
}

/* waitpid with a deadline. Returns 0 when pid was reaped (*status set), -1
 * on timeout. */
static int wait_timeout(pid_t pid, int *status, int timeout_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return 0;
        if (now_ms() >= deadline)
            return -1;
        sleep_ms(5);
    }
}

/* Read fd until EOF (bounded by timeout_ms) into *s, then close it. */
static void drain_close(int fd, char **s, int timeout_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

    while (now_ms() < deadline && read_some(fd, s, 100) != 0)
        ;
    close(fd);
}

/* Reap s->pid (killing it after timeout_ms), collect stdout and stderr. */
static int reap(itest_server *s, int timeout_ms)
{
    int rc = 0;

    if (s->pid > 0 && !s->reaped) {
        if (wait_timeout(s->pid, &s->exit_status, timeout_ms) != 0) {
            kill(s->pid, SIGKILL);
            (void)wait_timeout(s->pid, &s->exit_status, ITEST_STOP_TIMEOUT_MS);
            rc = -1;
        }
        s->reaped = true;
    }
    if (s->out_fd >= 0) {
        drain_close(s->out_fd, &s->out_text, 1000);
        s->out_fd = -1;
    }
    free(s->err_text);
    s->err_text = read_file(s->err_path, NULL);
    if (s->err_text == NULL)
        s->err_text = calloc(1, 1);
    return rc;
}

/* ---- server ------------------------------------------------------------- */

const char *itest_server_binary(void)
{
    static char path[ITEST_PATH_MAX];
    const char *build = getenv("MHD_OTEL_BUILD");
    int n;

    if (build == NULL || build[0] == '\0')
        build = "build";
    n = snprintf(path, sizeof(path), "%s/demo-server", build);
    if (n < 0 || n >= (int)sizeof(path))
        return "build/demo-server";
    return path;
}

int itest_server_init(itest_server *s)
{
    const char *tmp = getenv("TMPDIR");
    int n;

    memset(s, 0, sizeof(*s));
    s->out_fd = -1;
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = snprintf(s->dir, sizeof(s->dir), "%s/mhd-otel-it.XXXXXX", tmp);
    if (n < 0 || n >= (int)sizeof(s->dir) || mkdtemp(s->dir) == NULL) {
        s->dir[0] = '\0';
        return -1;
    }
    if (join_path(s->conf_path, s->dir, "test.conf") != 0 ||
        join_path(s->spans_path, s->dir, "spans.jsonl") != 0 ||
        join_path(s->err_path, s->dir, "stderr.txt") != 0 ||
        join_path(s->body_path, s->dir, "body") != 0)
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

int itest_server_start(itest_server *s, const char *conf_text)
{
    char *text = build_conf(s, conf_text);
    char *argv[] = {(char *)itest_server_binary(), "-p", "0", "-c", s->conf_path, NULL};
    uint64_t deadline;
    int rc;

    if (text == NULL)
        return -1;
    rc = write_file(s->conf_path, text, strlen(text));
    free(text);
    if (rc != 0)
        return -1;
    s->pid = spawn(argv, &s->out_fd, s->err_path);
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    deadline = now_ms() + ITEST_LISTEN_TIMEOUT_MS;
    while (s->out_text == NULL || find_port(s->out_text, &s->port) != 0) {
        uint64_t now = now_ms();
        if (now >= deadline || read_some(s->out_fd, &s->out_text, (int)(deadline - now)) <= 0)
            return -1;
    }
    return 0;
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
        kill(s->pid, SIGKILL);
        (void)wait_timeout(s->pid, &s->exit_status, ITEST_STOP_TIMEOUT_MS);
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

/* ---- curl --------------------------------------------------------------- */

/* Run curl with argv, its stdout captured into *out. Returns curl's exit
 * code, or -1 when it could not be run. */
static int run_curl(char *const argv[], char **out)
{
    int fd = -1;
    int status = 0;
    pid_t pid = spawn(argv, &fd, NULL);

    if (pid < 0)
        return -1;
    drain_close(fd, out, 120000);
    if (wait_timeout(pid, &status, 120000) != 0) {
        kill(pid, SIGKILL);
        (void)wait_timeout(pid, &status, 10000);
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
    r->body = read_file(s->body_path, &r->body_len);
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

/* ---- spans file ----------------------------------------------------------- */

bool itest_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        uint32_t min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1fu;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0fu;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* Add span to sp. Returns 0 or -1. */
static int spans_push(itest_spans *sp, cJSON *span)
{
    cJSON **v = realloc(sp->v, (sp->n + 1) * sizeof(*v));

    if (v == NULL)
        return -1;
    sp->v = v;
    sp->v[sp->n++] = span;
    return 0;
}

/* Parse one line (len bytes at line, not NUL-terminated) onto sp. */
static int parse_line(itest_spans *sp, const char *line, size_t len, size_t lineno, char *why,
                      size_t whylen)
{
    const char *end = NULL;
    cJSON *span;

    if (!itest_utf8_valid(line, len)) {
        snprintf(why, whylen, "line %zu is not valid UTF-8", lineno);
        return -1;
    }
    span = cJSON_ParseWithLengthOpts(line, len, &end, false);
    if (span == NULL || !cJSON_IsObject(span) || end != line + len) {
        snprintf(why, whylen, "line %zu is not one JSON object: %.120s", lineno, line);
        cJSON_Delete(span);
        return -1;
    }
    if (spans_push(sp, span) != 0) {
        cJSON_Delete(span);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

int itest_spans_read(const char *path, itest_spans *out, char *why, size_t whylen)
{
    size_t len = 0;
    char *text;
    size_t lineno = 0;

    memset(out, 0, sizeof(*out));
    if (whylen > 0)
        why[0] = '\0';
    text = read_file(path, &len);
    if (text == NULL)
        return errno == ENOENT ? 0 : -1;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t llen = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;

        lineno++;
        if (nl == NULL) {
            snprintf(why, whylen, "line %zu has no newline", lineno);
            free(text);
            itest_spans_free(out);
            return -1;
        }
        if (llen > 0 && parse_line(out, text + pos, llen, lineno, why, whylen) != 0) {
            free(text);
            itest_spans_free(out);
            return -1;
        }
        pos += llen + 1;
    }
    free(text);
    return 0;
}

void itest_spans_free(itest_spans *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        cJSON_Delete(sp->v[i]);
    free(sp->v);
    sp->v = NULL;
    sp->n = 0;
}

/* ---- span queries --------------------------------------------------------- */

const char *itest_span_str(const cJSON *span, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(span, member);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A time member as unix ns (numbers beyond 2^53 lose their last bits, but
 * rounding keeps their order). */
static uint64_t span_time(const cJSON *span, const char *member)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(span, member);

    if (cJSON_IsNumber(item) && item->valuedouble > 0)
        return (uint64_t)item->valuedouble;
    if (cJSON_IsString(item))
        return strtoull(item->valuestring, NULL, 10);
    return 0;
}

uint64_t itest_span_start(const cJSON *span)
{
    return span_time(span, "start_time_unix_nano");
}

uint64_t itest_span_end(const cJSON *span)
{
    return span_time(span, "end_time_unix_nano");
}

const char *itest_span_status(const cJSON *span)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(span, "status");

    if (cJSON_IsString(st))
        return st->valuestring;
    return itest_span_str(st, "code");
}

const cJSON *itest_span_attr(const cJSON *span, const char *key)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(span, "attributes");

    return cJSON_GetObjectItemCaseSensitive(attrs, key);
}

const char *itest_span_attr_str(const cJSON *span, const char *key)
{
    const cJSON *v = itest_span_attr(span, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *itest_span_attr_array_str(const cJSON *span, const char *key, size_t i)
{
    const cJSON *v = itest_span_attr(span, key);
    const cJSON *e = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, (int)i) : NULL;

    return cJSON_IsString(e) ? e->valuestring : NULL;
}

int itest_span_attr_array_len(const cJSON *span, const char *key)
{
    const cJSON *v = itest_span_attr(span, key);

    return cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
}

bool itest_span_attr_int(const cJSON *span, const char *key, int64_t *out)
{
    const cJSON *v = itest_span_attr(span, key);

    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

const cJSON *itest_span_event(const cJSON *span, const char *name)
{
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(span, "events");
    const cJSON *ev;

    cJSON_ArrayForEach(ev, events)
    {
        const char *n = itest_span_str(ev, "name");
        if (n != NULL && strcmp(n, name) == 0)
            return ev;
    }
    return NULL;
}

const char *itest_event_attr_str(const cJSON *event, const char *key)
{
    return itest_span_attr_str(event, key);
}

const char *itest_span_resource_str(const cJSON *span, const char *key)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(span, "resource");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(res, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *itest_spans_find(const itest_spans *sp, const char *name)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *n = itest_span_str(sp->v[i], "name");
        if (n != NULL && strcmp(n, name) == 0)
            return sp->v[i];
    }
    return NULL;
}

const cJSON *itest_spans_find_kind(const itest_spans *sp, const char *kind)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *k = itest_span_str(sp->v[i], "kind");
        if (k != NULL && strcmp(k, kind) == 0)
            return sp->v[i];
    }
    return NULL;
}

const cJSON *itest_spans_find_attr(const itest_spans *sp, const char *key, const char *value)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *v = itest_span_attr_str(sp->v[i], key);
        if (v != NULL && strcmp(v, value) == 0)
            return sp->v[i];
    }
    return NULL;
}

bool itest_is_hex_id(const char *s, size_t n)
{
    bool nonzero = false;

    if (s == NULL || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
        if (s[i] != '0')
            nonzero = true;
    }
    return nonzero;
}

/* ---- OTLP tests: build dir, sink ------------------------------------------ */

#define ITEST_SINK_READY_TIMEOUT_MS 15000
#define ITEST_SINK_RESTART_TIMEOUT_MS 5000
#define ITEST_SINK_MAX_ARGS 32

const char *itest_build_dir(void)
{
    const char *build = getenv("MHD_OTEL_BUILD");

    return build == NULL || build[0] == '\0' ? "build" : build;
}

/* Run argv to its end, at most timeout_ms; what it printed (stdout, then
 * stderr) is copied to our stderr. Returns its exit code or -1. */
static int run_wait(char *const argv[], int timeout_ms)
{
    char err_path[] = "/tmp/mhd-otel-itest.XXXXXX";
    int fd = mkstemp(err_path);
    int status = 0;
    char *out = NULL;
    char *err;
    pid_t pid;

    if (fd < 0)
        return -1;
    close(fd);
    pid = spawn(argv, &fd, err_path);
    if (pid < 0) {
        unlink(err_path);
        return -1;
    }
    drain_close(fd, &out, timeout_ms);
    if (wait_timeout(pid, &status, timeout_ms) != 0) {
        kill(pid, SIGKILL);
        (void)wait_timeout(pid, &status, 10000);
        status = -1;
    }
    err = read_file(err_path, NULL);
    unlink(err_path);
    fputs(out != NULL ? out : "", stderr);
    fputs(err != NULL ? err : "", stderr);
    free(out);
    free(err);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int itest_sink_install(void)
{
    char *argv[] = {"sh", "t/sink.sh", "install", (char *)itest_build_dir(), NULL};

    return run_wait(argv, 600000) == 0 ? 0 : -1;
}

int itest_sink_init(itest_sink *k)
{
    const char *tmp = getenv("TMPDIR");
    int n;

    memset(k, 0, sizeof(*k));
    k->out_fd = -1;
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = snprintf(k->dir, sizeof(k->dir), "%s/mhd-otel-sink.XXXXXX", tmp);
    if (n < 0 || n >= (int)sizeof(k->dir) || mkdtemp(k->dir) == NULL) {
        k->dir[0] = '\0';
        return -1;
    }
    if (join_path(k->out_path, k->dir, "spans.jsonl") != 0 ||
        join_path(k->ready_path, k->dir, "ready.json") != 0 ||
        join_path(k->err_path, k->dir, "stderr.txt") != 0)
        return -1;
    return 0;
}

/* Reap the sink (killing it after timeout_ms), collect stdout and stderr.
 * Returns 0 when it exited by itself, -1 when it had to be killed. */
static int sink_reap(itest_sink *k, int timeout_ms)
{
    int rc = 0;

    if (k->pid > 0) {
        if (wait_timeout(k->pid, &k->exit_status, timeout_ms) != 0) {
            kill(k->pid, SIGKILL);
            (void)wait_timeout(k->pid, &k->exit_status, ITEST_STOP_TIMEOUT_MS);
            rc = -1;
        }
        k->pid = 0;
    }
    if (k->out_fd >= 0) {
        drain_close(k->out_fd, &k->out_text, 1000);
        k->out_fd = -1;
    }
    free(k->err_text);
    k->err_text = read_file(k->err_path, NULL);
    if (k->err_text == NULL)
        k->err_text = calloc(1, 1);
    return rc;
}

/* The grpc_port of the ready file, 0 when it is not there (yet). */
static uint16_t sink_ready_port(const itest_sink *k)
{
    char *text = read_file(k->ready_path, NULL);
    cJSON *ready = text != NULL ? cJSON_Parse(text) : NULL;
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(ready, "grpc_port");
    uint16_t v = 0;

    if (cJSON_IsNumber(port) && port->valuedouble >= 1 && port->valuedouble <= 65535)
        v = (uint16_t)port->valuedouble;
    cJSON_Delete(ready);
    free(text);
    return v;
}

/* One attempt: spawn the sink, wait for its ready file. Returns 0, -1 when
 * it failed, -2 when it exited (perhaps: port still taken). */
static int sink_spawn(itest_sink *k, uint16_t port, bool truncate)
{
    char *argv[ITEST_SINK_MAX_ARGS];
    char port_s[8];
    size_t n = 0;
    uint64_t deadline;

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
    for (size_t i = 0; k->extra != NULL && k->extra[i] != NULL; i++) {
        if (n + 1 >= ITEST_SINK_MAX_ARGS)
            return -1;
        argv[n++] = (char *)k->extra[i];
    }
    argv[n] = NULL;
    unlink(k->ready_path);
    free(k->out_text);
    k->out_text = NULL;
    k->pid = spawn(argv, &k->out_fd, k->err_path);
    if (k->pid < 0) {
        k->pid = 0;
        return -1;
    }
    deadline = now_ms() + ITEST_SINK_READY_TIMEOUT_MS;
    while ((k->port = sink_ready_port(k)) == 0 || (port != 0 && k->port != port)) {
        if (waitpid(k->pid, &k->exit_status, WNOHANG) == k->pid) {
            k->pid = 0;
            (void)sink_reap(k, 0);
            return -2;
        }
        if (now_ms() >= deadline) {
            (void)sink_reap(k, 0);
            return -1;
        }
        sleep_ms(20);
    }
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
    uint64_t deadline = now_ms() + ITEST_SINK_RESTART_TIMEOUT_MS;
    int rc;

    if (k->port == 0 || k->pid > 0)
        return -1;
    while ((rc = sink_spawn(k, k->port, false)) == -2 && now_ms() < deadline)
        sleep_ms(100);
    return rc == 0 ? 0 : -1;
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
        kill(k->pid, SIGKILL);
        (void)wait_timeout(k->pid, &k->exit_status, ITEST_STOP_TIMEOUT_MS);
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

bool itest_sink_final_stat(const itest_sink *k, const char *name, uint64_t *out)
{
    const char *line = k->out_text != NULL ? strstr(k->out_text, "otlp-sink final") : NULL;
    const char *brace = line != NULL ? strchr(line, '{') : NULL;
    const char *nl = brace != NULL ? strchr(brace, '\n') : NULL;
    cJSON *stats;
    bool ok;

    if (brace == NULL)
        return false;
    stats = cJSON_ParseWithLength(brace, nl != NULL ? (size_t)(nl - brace) : strlen(brace));
    ok = itest_json_u64(cJSON_GetObjectItemCaseSensitive(stats, name), out);
    cJSON_Delete(stats);
    return ok;
}

/* ---- exact JSON ----------------------------------------------------------- */

#define ITEST_INT_MARK "#itest-int#"

/* Copy of the JSON text line[0..len) with every integer number written as
 * {"#itest-int#":"DIGITS"}; heap, NUL-terminated. NULL when out of memory. */
static char *mark_ints(const char *line, size_t len)
{
    static const char pre[] = "{\"" ITEST_INT_MARK "\":\"";
    char *out = malloc(len * (sizeof(pre) + 2) + 1);
    size_t o = 0;
    bool in_str = false;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        char c = line[i];
        if (in_str) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len)
                out[o++] = line[++i];
            else if (c == '"')
                in_str = false;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            bool integer = true;
            while (j < len && strchr("+-0123456789.eE", line[j]) != NULL) {
                if (strchr(".eE", line[j]) != NULL)
                    integer = false;
                j++;
            }
            if (integer) {
                memcpy(out + o, pre, sizeof(pre) - 1);
                o += sizeof(pre) - 1;
            }
            memcpy(out + o, line + i, j - i);
            o += j - i;
            if (integer) {
                memcpy(out + o, "\"}", 2);
                o += 2;
            }
            i = j;
        } else {
            in_str = c == '"';
            out[o++] = c;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

/* Replace every marked object below node by a Raw item of its digits. */
static int unmark_ints(cJSON *node)
{
    cJSON *child = node != NULL ? node->child : NULL;

    while (child != NULL) {
        cJSON *next = child->next;
        const cJSON *mark = cJSON_GetObjectItemCaseSensitive(child, ITEST_INT_MARK);
        if (cJSON_IsObject(child) && cJSON_IsString(mark) && child->child == mark &&
            mark->next == NULL) {
            cJSON *raw = cJSON_CreateRaw(mark->valuestring);
            if (raw == NULL)
                return -1;
            if (cJSON_IsObject(node)) {
                if (!cJSON_ReplaceItemInObjectCaseSensitive(node, child->string, raw))
                    return -1;
            } else if (!cJSON_ReplaceItemViaPointer(node, child, raw)) {
                return -1;
            }
        } else if (unmark_ints(child) != 0) {
            return -1;
        }
        child = next;
    }
    return 0;
}

int itest_spans_read_exact(const char *path, itest_spans *out, char *why, size_t whylen)
{
    itest_spans plain;
    size_t len = 0;
    char *text;
    int rc;

    memset(out, 0, sizeof(*out));
    if (whylen > 0)
        why[0] = '\0';
    /* The same checks as itest_spans_read first: UTF-8, one object a line. */
    rc = itest_spans_read(path, &plain, why, whylen);
    itest_spans_free(&plain);
    if (rc != 0)
        return rc;
    text = read_file(path, &len);
    if (text == NULL)
        return errno == ENOENT ? 0 : -1;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t llen = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        char *marked = llen > 0 ? mark_ints(text + pos, llen) : NULL;
        cJSON *span = marked != NULL ? cJSON_Parse(marked) : NULL;

        free(marked);
        if (llen > 0 && (span == NULL || unmark_ints(span) != 0 || spans_push(out, span) != 0)) {
            snprintf(why, whylen, "cannot read the integers of line %.80s", text + pos);
            cJSON_Delete(span);
            free(text);
            itest_spans_free(out);
            return -1;
        }
        pos += llen + 1;
    }
    free(text);
    return 0;
}

bool itest_json_u64(const cJSON *item, uint64_t *out)
{
    const char *digits = NULL;
    char *end = NULL;

    if (cJSON_IsNumber(item)) {
        if (item->valuedouble < 0 || item->valuedouble >= 18446744073709551616.0 ||
            item->valuedouble != (double)(uint64_t)item->valuedouble)
            return false;
        *out = (uint64_t)item->valuedouble;
        return true;
    }
    if (cJSON_IsRaw(item) || cJSON_IsString(item))
        digits = item->valuestring;
    if (digits == NULL || *digits < '0' || *digits > '9')
        return false;
    errno = 0;
    *out = strtoull(digits, &end, 10);
    return errno == 0 && *end == '\0';
}

bool itest_json_i64(const cJSON *item, int64_t *out)
{
    const char *digits = NULL;
    char *end = NULL;

    if (cJSON_IsNumber(item)) {
        if (item->valuedouble != (double)(int64_t)item->valuedouble)
            return false;
        *out = (int64_t)item->valuedouble;
        return true;
    }
    if (cJSON_IsRaw(item) || cJSON_IsString(item))
        digits = item->valuestring;
    if (digits == NULL || *digits == '\0')
        return false;
    errno = 0;
    *out = strtoll(digits, &end, 10);
    return errno == 0 && *end == '\0';
}

/* ---- server counters, repeated requests, ports ---------------------------- */

bool itest_server_counter(const itest_server *s, const char *name, uint64_t *out)
{
    static const char prefix[] = "demo-server: spans ";
    const char *line = s->err_text != NULL ? strstr(s->err_text, prefix) : NULL;
    const char *end;
    size_t nlen = strlen(name);

    if (line == NULL)
        return false;
    line += sizeof(prefix) - 1;
    end = strchr(line, '\n');
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

/* A TCP socket listening on 127.0.0.1:port (0: any); its port in *bound. */
static int listen_local(uint16_t port, uint16_t *bound)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(sin.sin_port);
    return fd;
}

int itest_port_reserve(uint16_t *port)
{
    int fd = listen_local(0, port);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* ---- TCP proxy ------------------------------------------------------------- */

#define ITEST_PROXY_PAIRS 8

struct itest_proxy {
    int listen_fd;
    int stop_pipe[2];
    uint16_t port, upstream;
    pthread_t thread;
    int fds[ITEST_PROXY_PAIRS][2]; /* [0] client side, [1] upstream side; -1 */
    uint64_t up, down;             /* bytes, read after the thread ended */
};

static int connect_local(uint16_t port)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void proxy_close_pair(itest_proxy *p, size_t i)
{
    for (int k = 0; k < 2; k++) {
        if (p->fds[i][k] >= 0)
            close(p->fds[i][k]);
        p->fds[i][k] = -1;
    }
}

/* A new client: connect it to the upstream (refused: close it). */
static void proxy_accept(itest_proxy *p)
{
    int c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    int u;

    if (c < 0)
        return;
    u = connect_local(p->upstream);
    for (size_t i = 0; u >= 0 && i < ITEST_PROXY_PAIRS; i++) {
        if (p->fds[i][0] < 0) {
            p->fds[i][0] = c;
            p->fds[i][1] = u;
            return;
        }
    }
    close(c);
    if (u >= 0)
        close(u);
}

/* Move what is readable on side k of pair i to the other side. */
static void proxy_forward(itest_proxy *p, size_t i, int k)
{
    char buf[16384];
    ssize_t r;

    do {
        r = read(p->fds[i][k], buf, sizeof(buf));
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        proxy_close_pair(p, i);
        return;
    }
    if (k == 0)
        p->up += (uint64_t)r;
    else
        p->down += (uint64_t)r;
    for (ssize_t off = 0; off < r;) {
        ssize_t w = write(p->fds[i][1 - k], buf + off, (size_t)(r - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            proxy_close_pair(p, i);
            return;
        }
        off += w;
    }
}

static void *proxy_main(void *arg)
{
    itest_proxy *p = arg;

    for (;;) {
        struct pollfd pf[2 + 2 * ITEST_PROXY_PAIRS];
        size_t n = 0;

        pf[n].fd = p->stop_pipe[0];
        pf[n++].events = POLLIN;
        pf[n].fd = p->listen_fd;
        pf[n++].events = POLLIN;
        for (size_t i = 0; i < ITEST_PROXY_PAIRS; i++) {
            for (int k = 0; k < 2; k++) {
                pf[n].fd = p->fds[i][k];
                pf[n++].events = POLLIN;
            }
        }
        for (size_t i = 0; i < n; i++)
            pf[i].revents = 0;
        if (poll(pf, n, -1) < 0 && errno != EINTR)
            break;
        if (pf[0].revents != 0)
            break;
        if (pf[1].revents & POLLIN)
            proxy_accept(p);
        for (size_t i = 0; i < ITEST_PROXY_PAIRS; i++)
            for (int k = 0; k < 2; k++)
                if (pf[2 + 2 * i + (size_t)k].revents != 0 && p->fds[i][k] >= 0)
                    proxy_forward(p, i, k);
    }
    for (size_t i = 0; i < ITEST_PROXY_PAIRS; i++)
        proxy_close_pair(p, i);
    return NULL;
}

int itest_proxy_start(itest_proxy **out, uint16_t upstream)
{
    itest_proxy *p = calloc(1, sizeof(*p));

    *out = NULL;
    if (p == NULL)
        return -1;
    for (size_t i = 0; i < ITEST_PROXY_PAIRS; i++)
        p->fds[i][0] = p->fds[i][1] = -1;
    p->upstream = upstream;
    p->listen_fd = listen_local(0, &p->port);
    if (p->listen_fd < 0) {
        free(p);
        return -1;
    }
    if (pipe2(p->stop_pipe, O_CLOEXEC) != 0) {
        close(p->listen_fd);
        free(p);
        return -1;
    }
    if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
        close(p->stop_pipe[0]);
        close(p->stop_pipe[1]);
        close(p->listen_fd);
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

uint16_t itest_proxy_port(const itest_proxy *p)
{
    return p->port;
}

void itest_proxy_stop(itest_proxy *p, uint64_t *up, uint64_t *down)
{
    char b = 0;

    if (p == NULL)
        return;
    if (write(p->stop_pipe[1], &b, 1) < 0) {
        /* the thread ends anyway when the pipe closes below */
    }
    pthread_join(p->thread, NULL);
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
    close(p->listen_fd);
    if (up != NULL)
        *up = p->up;
    if (down != NULL)
        *down = p->down;
    free(p);
}

/* ---- any server or program, with its own environment ------------------- */

/* Does the environment entry "NAME=value" have the name of change ("NAME"
 * or "NAME=value")? */
static bool env_same_name(const char *entry, const char *change)
{
    size_t len = strcspn(change, "=");

    return strncmp(entry, change, len) == 0 && entry[len] == '=';
}

/* Our environment changed by env (see itest_server_start_cmd): a heap,
 * NULL-terminated array of borrowed strings, valid while env and environ
 * are. NULL when out of memory. */
static char **make_env(const char *const *env)
{
    size_t n = 0;
    size_t nenv = 0;
    size_t k = 0;
    char **out;

    while (environ[n] != NULL)
        n++;
    while (env != NULL && env[nenv] != NULL)
        nenv++;
    out = calloc(n + nenv + 1, sizeof(*out));
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        bool changed = false;
        for (size_t j = 0; j < nenv && !changed; j++)
            changed = env_same_name(environ[i], env[j]);
        if (!changed)
            out[k++] = environ[i];
    }
    for (size_t j = 0; j < nenv; j++)
        if (strchr(env[j], '=') != NULL)
            out[k++] = (char *)env[j];
    return out;
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

int itest_server_write_conf(itest_server *s, const char *conf_text)
{
    char *text = build_conf(s, conf_text);
    int rc;

    if (text == NULL)
        return -1;
    rc = write_file(s->conf_path, text, strlen(text));
    free(text);
    return rc;
}

int itest_server_start_cmd(itest_server *s, char *const argv[], const char *const *env,
                           const char *listen_prefix)
{
    char **envp = make_env(env);
    uint64_t deadline;

    if (envp == NULL)
        return -1;
    s->pid = spawn_env(argv, envp, &s->out_fd, s->err_path);
    free(envp);
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    if (listen_prefix == NULL)
        return 0;
    deadline = now_ms() + ITEST_LISTEN_TIMEOUT_MS;
    while (s->out_text == NULL || find_port_after(s->out_text, listen_prefix, &s->port) != 0) {
        uint64_t now = now_ms();
        if (now >= deadline || read_some(s->out_fd, &s->out_text, (int)(deadline - now)) <= 0)
            return -1;
    }
    return 0;
}

int itest_run_cmd(char *const argv[], const char *const *env, int timeout_ms, char **out,
                  char **err, int *status)
{
    char err_path[] = "/tmp/mhd-otel-itest.XXXXXX";
    int fd = mkstemp(err_path);
    char **envp;
    char *o = NULL;
    char *e;
    int st = 0;
    int rc = 0;
    pid_t pid;

    if (out != NULL)
        *out = NULL;
    if (err != NULL)
        *err = NULL;
    if (fd < 0)
        return -1;
    close(fd);
    envp = make_env(env);
    pid = envp != NULL ? spawn_env(argv, envp, &fd, err_path) : -1;
    free(envp);
    if (pid < 0) {
        unlink(err_path);
        return -1;
    }
    drain_close(fd, &o, timeout_ms);
    if (wait_timeout(pid, &st, timeout_ms) != 0) {
        kill(pid, SIGKILL);
        (void)wait_timeout(pid, &st, ITEST_STOP_TIMEOUT_MS);
        rc = -1;
    }
    e = read_file(err_path, NULL);
    unlink(err_path);
    if (status != NULL)
        *status = st;
    if (out != NULL)
        *out = o != NULL ? o : calloc(1, 1);
    else
        free(o);
    if (err != NULL)
        *err = e != NULL ? e : calloc(1, 1);
    else
        free(e);
    return rc;
}
