/* itest_proc.c - child processes: spawn with an environment, read output, wait with a deadline. */
#include "itest.h"
#include "itest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t itest_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void itest_sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
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
ssize_t itest_read_some(int fd, char **s, int timeout_ms)
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

/* Run argv with the environment envp, stdout to a pipe returned in *out_fd
 * and stderr to err_path (or /dev/null when NULL). Returns the pid or -1. */
pid_t itest_spawn_env(char *const argv[], char *const envp[], int *out_fd, const char *err_path)
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

/* itest_spawn_env with this process's environment. */
pid_t itest_spawn(char *const argv[], int *out_fd, const char *err_path)
{
    return itest_spawn_env(argv, environ, out_fd, err_path);
}

/* waitpid with a deadline. Returns 0 when pid was reaped (*status set), -1
 * on timeout. */
int itest_wait_timeout(pid_t pid, int *status, int timeout_ms)
{
    uint64_t deadline = itest_now_ms() + (uint64_t)timeout_ms;

    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return 0;
        if (itest_now_ms() >= deadline)
            return -1;
        itest_sleep_ms(5);
    }
}

/* itest_wait_timeout, then SIGKILL and wait ITEST_STOP_TIMEOUT_MS more.
 * Returns 0 when pid ended by itself, -1 when it had to be killed. */
int itest_wait_or_kill(pid_t pid, int *status, int timeout_ms)
{
    if (itest_wait_timeout(pid, status, timeout_ms) == 0)
        return 0;
    kill(pid, SIGKILL);
    (void)itest_wait_timeout(pid, status, ITEST_STOP_TIMEOUT_MS);
    return -1;
}

/* Read fd until EOF (bounded by timeout_ms) into *s, then close it. */
void itest_drain_close(int fd, char **s, int timeout_ms)
{
    uint64_t deadline = itest_now_ms() + (uint64_t)timeout_ms;

    while (itest_now_ms() < deadline && itest_read_some(fd, s, 100) != 0)
        ;
    close(fd);
}

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
char **itest_make_env(const char *const *env)
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

void itest_collect_output(int *out_fd, char **out_text, char **err_text, const char *err_path)
{
    if (*out_fd >= 0) {
        itest_drain_close(*out_fd, out_text, 1000);
        *out_fd = -1;
    }
    free(*err_text);
    *err_text = itest_read_file(err_path, NULL);
    if (*err_text == NULL)
        *err_text = calloc(1, 1);
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
    int rc;
    pid_t pid;

    if (out != NULL)
        *out = NULL;
    if (err != NULL)
        *err = NULL;
    if (fd < 0)
        return -1;
    close(fd);
    envp = itest_make_env(env);
    pid = envp != NULL ? itest_spawn_env(argv, envp, &fd, err_path) : -1;
    free(envp);
    if (pid < 0) {
        unlink(err_path);
        return -1;
    }
    itest_drain_close(fd, &o, timeout_ms);
    rc = itest_wait_or_kill(pid, &st, timeout_ms);
    e = itest_read_file(err_path, NULL);
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
