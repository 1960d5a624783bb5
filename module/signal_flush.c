/* signal_flush.c - SIGTERM/SIGINT at their default action flush queued
 * spans and the metrics for a bounded time, then take effect: a handler that writes the
 * signal to a pipe, and a watcher thread that flushes and raises it again. */
#include "signal_flush.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include "../core/log.h"

static const int watched[] = {SIGTERM, SIGINT};

/* Set once by mhd_otel_signal_flush_install, then only read. */
static int wake_fd[2] = {-1, -1}; /* the handler writes [1], the watcher reads [0] */
static pid_t owner;               /* the process the watcher thread runs in */
static mhd_otel *module;
static uint64_t flush_ns;

static void on_signal(int sig);

/* Make sig take its default action now: async-signal-safe. If the program
 * put its own handler in the meantime, that one gets the signal. */
static void take_effect(int sig)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == on_signal) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
    }
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
}

/* The handler: hand the signal to the watcher. In a forked child (no
 * watcher there) or when the pipe is gone, the signal takes effect at once
 * (it is blocked during the handler: delivered when it returns). */
static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (getpid() != owner || write(wake_fd[1], &b, 1) != 1) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        sigaction(sig, &dfl, NULL);
        raise(sig);
    }
    errno = saved;
}

static void *watcher_main(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned char b;
        ssize_t n = read(wake_fd[0], &b, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != 1)
            return NULL;
        if (mhd_otel_flush(module, flush_ns) != OTEL_OK)
            otel_log(OTEL_LOG_WARN,
                     "signal %d: spans or metrics not exported after %llu ms are lost", b,
                     (unsigned long long)(flush_ns / 1000000));
        take_effect(b);
    }
}

/* sig is at its default action and not blocked in this thread. */
static bool at_default(int sig, const sigset_t *blocked)
{
    struct sigaction cur;
    return sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
           cur.sa_handler == SIG_DFL && !sigismember(blocked, sig);
}

int mhd_otel_signal_flush_install(mhd_otel *m, uint64_t timeout_ns)
{
    sigset_t blocked;
    bool want[2];
    int n = 0;
    if (m == NULL || timeout_ns == 0 || wake_fd[0] >= 0)
        return 0;
    pthread_sigmask(SIG_BLOCK, NULL, &blocked);
    for (size_t i = 0; i < 2; i++) {
        want[i] = at_default(watched[i], &blocked);
        n += want[i];
    }
    if (n == 0)
        return 0;
    if (pipe2(wake_fd, O_CLOEXEC) != 0)
        return OTEL_ERR_IO;
    fcntl(wake_fd[1], F_SETFL, O_NONBLOCK);
    module = m;
    flush_ns = timeout_ns;
    owner = getpid();
    /* The watcher takes no signals of its own: it unblocks the one it
     * raises. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int rc = pthread_create(&th, NULL, watcher_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        close(wake_fd[0]);
        close(wake_fd[1]);
        wake_fd[0] = wake_fd[1] = -1;
        return OTEL_ERR_NOMEM;
    }
    pthread_detach(th);
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, SIGTERM);
    sigaddset(&act.sa_mask, SIGINT);
    for (size_t i = 0; i < 2; i++)
        if (want[i])
            sigaction(watched[i], &act, NULL);
    return n;
}
