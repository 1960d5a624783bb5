/* itest_proxy.c - a TCP forwarder in a thread that counts the bytes each way. */
#include "itest.h"
#include "itest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define ITEST_PROXY_PAIRS 8

struct itest_proxy {
    int listen_fd;
    int stop_pipe[2];
    uint16_t port, upstream;
    pthread_t thread;
    int fds[ITEST_PROXY_PAIRS][2]; /* [0] client side, [1] upstream side; -1 */
    uint64_t up, down;             /* bytes, read after the thread ended */
    pthread_mutex_t lock;          /* guards cuts */
    pthread_cond_t cut_done;
    uint64_t cuts; /* cut requests the thread has carried out */
};

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
    u = itest_connect_local(p->upstream);
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
        if (pf[0].revents != 0) {
            char cmd = 0;
            if (read(p->stop_pipe[0], &cmd, 1) != 1 || cmd != 'c')
                break;
            /* a cut: every connection closed, the listener kept */
            for (size_t i = 0; i < ITEST_PROXY_PAIRS; i++)
                proxy_close_pair(p, i);
            pthread_mutex_lock(&p->lock);
            p->cuts++;
            pthread_cond_broadcast(&p->cut_done);
            pthread_mutex_unlock(&p->lock);
            continue;
        }
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
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cut_done, NULL);
    p->listen_fd = itest_listen_local(0, &p->port);
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

void itest_proxy_cut(itest_proxy *p)
{
    char c = 'c';
    pthread_mutex_lock(&p->lock);
    uint64_t want = p->cuts + 1;
    if (write(p->stop_pipe[1], &c, 1) == 1) {
        while (p->cuts < want)
            pthread_cond_wait(&p->cut_done, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
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
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cut_done);
    free(p);
}
