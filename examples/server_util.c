/* server_util.c - what the example servers share: port parsing, responses,
 * the listening line, stop signals and the span counters on exit. */
#include "server_util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#define ID_MAX 64

static const char *name = "example";
static int stop_pipe[2] = {-1, -1};
static int mark; /* its address marks a request past its first call */

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (write(stop_pipe[1], &b, 1) < 0) {
        /* Full pipe: a stop is already pending. */
    }
    errno = saved;
}

void example_set_name(const char *program)
{
    name = program;
}

int example_parse_port(const char *s, uint16_t *out)
{
    char *end = NULL;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > 65535UL)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int example_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > ID_MAX)
        return 0;
    return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

enum MHD_Result example_respond(struct MHD_Connection *connection, unsigned int status,
                                const char *content_type, const char *body, size_t len,
                                const char *allow)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
        (allow != NULL && MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES)) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ret = MHD_queue_response(connection, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result example_respond_text(struct MHD_Connection *connection, unsigned int status,
                                     const char *text)
{
    return example_respond(connection, status, "text/plain; charset=utf-8", text, strlen(text),
                           NULL);
}

enum MHD_Result example_respond_json(struct MHD_Connection *connection, char *body)
{
    enum MHD_Result ret;

    if (body == NULL)
        return example_respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    ret = example_respond(connection, MHD_HTTP_OK, "application/json", body, strlen(body), NULL);
    cJSON_free(body);
    return ret;
}

bool example_ready_to_answer(void **req_cls, size_t *upload_data_size)
{
    if (*req_cls == NULL) {
        *req_cls = &mark;
        return false;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return false;
    }
    return true;
}

bool example_is_mark(const void *p)
{
    return p == &mark;
}

int example_announce(struct MHD_Daemon *d, const char *addr)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int v6 = strchr(addr, ':') != NULL;

    if (info == NULL || info->port == 0) {
        fprintf(stderr, "%s: cannot read the bound port\n", name);
        return -1;
    }
    printf("%s: listening on http://%s%s%s:%u\n", name, v6 ? "[" : "", addr, v6 ? "]" : "",
           (unsigned int)info->port);
    fflush(stdout);
    return 0;
}

void example_log_to_stderr(void *user_data, otel_log_level level, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info"};

    (void)user_data;
    fprintf(stderr, "%s: otel %s: %s\n", name, (unsigned int)level < 3 ? names[level] : "log", msg);
}

int example_stop_signals_setup(const sigset_t *set)
{
    struct sigaction sa;
    int flags;

    if (pipe2(stop_pipe, O_CLOEXEC) != 0)
        return -1;
    flags = fcntl(stop_pipe[1], F_GETFL);
    if (flags < 0 || fcntl(stop_pipe[1], F_SETFL, flags | O_NONBLOCK) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    /* No SA_RESTART: the read in example_wait_for_stop must see EINTR (some
     * runtimes, TSan's among them, run handlers only when the call returns). */
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -1;
    return pthread_sigmask(SIG_BLOCK, set, NULL) == 0 ? 0 : -1;
}

void example_wait_for_stop(const sigset_t *set)
{
    unsigned char b;
    ssize_t r;

    (void)pthread_sigmask(SIG_UNBLOCK, set, NULL);
    do {
        r = read(stop_pipe[0], &b, 1);
    } while (r < 0 && errno == EINTR);
}

static void print_stats(const char *who, const otel_stats *st)
{
    fprintf(stderr,
            "%s: spans ended=%llu exported=%llu dropped=%llu failed=%llu rejected=%llu "
            "queued=%llu kept_error=%llu kept_slow=%llu keep_released=%llu keep_overflow=%llu "
            "keep_late=%llu exporting=%llu\n",
            who, (unsigned long long)st->ended, (unsigned long long)st->exported,
            (unsigned long long)st->dropped, (unsigned long long)st->failed,
            (unsigned long long)st->rejected, (unsigned long long)st->queued,
            (unsigned long long)st->kept_error, (unsigned long long)st->kept_slow,
            (unsigned long long)st->keep_released, (unsigned long long)st->keep_overflow,
            (unsigned long long)st->keep_late, (unsigned long long)st->exporting);
}

void example_report_stats(mhd_otel *m)
{
    otel_tracer *t = mhd_otel_tracer(m);
    otel_stats st;

    if (t != NULL)
        (void)otel_tracer_shutdown(t);
    memset(&st, 0, sizeof(st));
    mhd_otel_stats(m, &st);
    print_stats(name, &st);
    /* With more than one exporter, each one's own counters too. */
    size_t n = t != NULL ? otel_tracer_exporter_count(t) : 0;
    for (size_t i = 0; n > 1 && i < n; i++) {
        const char *exporter;
        char who[128];
        if (otel_tracer_exporter_stats(t, i, &st, &exporter) != OTEL_OK)
            continue;
        snprintf(who, sizeof(who), "%s: exporter %s", name, exporter);
        print_stats(who, &st);
    }
}
