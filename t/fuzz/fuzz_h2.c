/* fuzz_h2.c - libFuzzer target of the HTTP/2 client (exporter/h2.c): one
 * request to a server that answers with the fuzz input. Input: one mode
 * byte (which valid server preface goes first, what body the request has),
 * then the bytes the server sends before it closes.
 *
 * The client connects to host:port endpoints only (getaddrinfo, connect),
 * so the server is a loopback listener on 127.0.0.1, port 0, made once in
 * LLVMFuzzerInitialize and served by one thread: it accepts, writes the
 * preface and the input in one send, shuts its side down, and reads until
 * the client closes. Each run opens one fresh connection (the client is
 * closed after the request) and waits until the server is done with it, so
 * one run cannot see another's bytes. With the server closing at once, a
 * run takes a connect and a few reads: thousands of runs a second, and a
 * deadline of 200 ms that is only reached when the client waits for
 * nothing. */
#include "fuzz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../exporter/h2.h"
#include "../../exporter/retry.h"

#define DEADLINE_NS (200 * 1000000ULL)
#define LATE_NS (300 * 1000000ULL) /* past the deadline: counted as a hang */
#define BIG_BODY (200 * 1024)      /* over the default 64 KiB windows */

/* SETTINGS (empty), SETTINGS ACK, and the response HEADERS of stream 1
 * (:status 200, content-type application/grpc). */
static const uint8_t settings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
static const uint8_t settings_ack[] = {0, 0, 0, 4, 1, 0, 0, 0, 0};
static const uint8_t headers[] = {0,    0,    19,  1,   4,   0,   0,   0,   1,   0x88,
                                  0x5f, 0x10, 'a', 'p', 'p', 'l', 'i', 'c', 'a', 't',
                                  'i',  'o',  'n', '/', 'g', 'r', 'p', 'c'};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int lfd;
    const uint8_t *out; /* what the server sends on the next connection */
    size_t out_len;
    uint64_t served; /* connections the server is done with */
} srv = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, NULL, 0, 0};

static otel_h2 *client;
static uint8_t *big_body;
static bool verbose; /* FUZZ_H2_VERBOSE set: each result on stderr */

static void serve(int fd)
{
    pthread_mutex_lock(&srv.mu);
    const uint8_t *p = srv.out;
    size_t left = srv.out_len;
    pthread_mutex_unlock(&srv.mu);
    while (left > 0) {
        ssize_t w = send(fd, p, left, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break; /* the client went away first */
        p += w;
        left -= (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    uint8_t buf[16384];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
    }
    close(fd);
}

static void *server_main(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept(srv.lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            abort();
        }
        struct timeval tv = {5, 0}; /* a client that never closes is a bug, not a hang */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        serve(fd);
        pthread_mutex_lock(&srv.mu);
        srv.served++;
        pthread_cond_broadcast(&srv.cv);
        pthread_mutex_unlock(&srv.mu);
    }
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(srv.lfd, 16) != 0 || getsockname(srv.lfd, (struct sockaddr *)&a, &al) != 0)
        abort();
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    otel_h2_endpoint ep;
    if (otel_h2_endpoint_parse(url, &ep, err, sizeof err) != OTEL_OK ||
        otel_h2_new(&client, &ep) != OTEL_OK)
        abort();
    verbose = getenv("FUZZ_H2_VERBOSE") != NULL;
    big_body = calloc(1, BIG_BODY);
    if (big_body == NULL)
        abort();
    pthread_t t;
    if (pthread_create(&t, NULL, server_main, NULL) != 0)
        abort();
    pthread_detach(t);
    return 0;
}

static void append(uint8_t *buf, size_t *len, const void *p, size_t n)
{
    memcpy(buf + *len, p, n);
    *len += n;
}

static void check_response(int rc, const otel_h2_response *resp)
{
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_IO || rc == OTEL_ERR_TIMEOUT || rc == OTEL_ERR_NOMEM,
               "rc %d", rc);
    const char *e = otel_h2_error(client);
    FUZZ_CHECK(e != NULL && strlen(e) < 256, "error string");
    FUZZ_CHECK(rc == OTEL_OK || e[0] != '\0', "rc %d without a reason", rc);
    FUZZ_CHECK(fuzz_no_control(e, strlen(e)), "control byte in error \"%s\"", e);
    if (rc == OTEL_OK) {
        FUZZ_CHECK(resp->status >= 200 && resp->status <= 999, "status %d", resp->status);
        FUZZ_CHECK(!resp->reset, "a whole response that was reset");
        FUZZ_CHECK(resp->data_len <= 16 * 1024 * 1024, "%zu bytes of DATA", resp->data_len);
        volatile uint8_t sum = 0; /* every byte is readable (ASan) */
        for (size_t i = 0; i < resp->data_len; i++)
            sum = (uint8_t)(sum + resp->data[i]);
        (void)sum;
    }
    static const char *const names[] = {"grpc-status", "grpc-message", "content-type",
                                        "grpc-status-details-bin", "x"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = otel_h2_response_field(client, names[i]);
        if (v != NULL)
            FUZZ_CHECK(strlen(v) < 64 * 1024, "field %s", names[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    uint8_t *out = malloc(sizeof settings + sizeof settings_ack + sizeof headers + size);
    if (out == NULL)
        abort();
    size_t len = 0;
    if ((mode & 3) >= 1)
        append(out, &len, settings, sizeof settings);
    if ((mode & 3) >= 2)
        append(out, &len, settings_ack, sizeof settings_ack);
    if ((mode & 3) == 3)
        append(out, &len, headers, sizeof headers);
    append(out, &len, data + 1, size - 1);

    static const uint8_t small[] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
    otel_h2_buf body[2] = {{small, sizeof small}, {big_body, BIG_BODY}};
    static const otel_h2_header fields[] = {{"content-type", "application/grpc"},
                                            {"te", "trailers"}};
    otel_h2_request req = {
        .method = "POST",
        .path = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        .headers = fields,
        .n_headers = 2,
        .body = body,
        .n_body = (mode >> 2) & 3, /* none, small, small and big */
    };
    if (req.n_body == 3)
        req.n_body = 1;

    pthread_mutex_lock(&srv.mu);
    srv.out = out;
    srv.out_len = len;
    uint64_t served = srv.served;
    pthread_mutex_unlock(&srv.mu);

    uint64_t connects = otel_h2_connects(client);
    otel_h2_response resp;
    uint64_t start = otel_mono_ns();
    int rc = otel_h2_send_request(client, &req, start + DEADLINE_NS, &resp);
    uint64_t took = otel_mono_ns() - start;
    FUZZ_CHECK(took <= DEADLINE_NS + LATE_NS, "request took %llu ms", took / 1000000ULL);
    if (verbose)
        fprintf(stderr, "rc %d status %d reset %d/%u data %zu grpc-status %s in %llu us: %s\n", rc,
                resp.status, resp.reset, resp.reset_error, resp.data_len,
                otel_h2_response_field(client, "grpc-status")
                    ? otel_h2_response_field(client, "grpc-status")
                    : "-",
                took / 1000ULL, otel_h2_error(client));
    check_response(rc, &resp);
    otel_h2_close(client);

    /* Wait until the server is done with every connection of this run. */
    served += otel_h2_connects(client) - connects;
    pthread_mutex_lock(&srv.mu);
    while (srv.served < served)
        pthread_cond_wait(&srv.cv, &srv.mu);
    srv.out = NULL;
    pthread_mutex_unlock(&srv.mu);
    free(out);
    return 0;
}
