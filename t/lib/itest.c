/* itest.c - integration test helpers: run the demo server, drive it with
 * curl, read and query the JSON spans its console exporter wrote. */
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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

/* Run argv with stdout to a pipe returned in *out_fd and stderr to
 * err_path (or /dev/null when NULL). Returns the pid or -1. */
static pid_t spawn(char *const argv[], int *out_fd, const char *err_path)
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
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    *out_fd = pfd[0];
    return pid;
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
