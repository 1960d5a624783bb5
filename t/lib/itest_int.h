/* itest_int.h - what the files of t/lib/itest_*.c share among themselves:
 * time, files, child processes, loopback sockets and waits across threads. Tests include itest.h.
 */
#ifndef ITEST_INT_H
#define ITEST_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How long a child killed with SIGKILL may take to be reaped. */
#define ITEST_STOP_TIMEOUT_MS 10000

/* ---- itest_file.c ------------------------------------------------------- */

/* dir + "/" + name into out (ITEST_PATH_MAX bytes). Returns 0 or -1. */
int itest_join_path(char *out, const char *dir, const char *name);

/* Read the whole file at path into a heap string (NUL-terminated; *len is
 * its length when len is not NULL). NULL when it cannot be read. */
char *itest_read_file(const char *path, size_t *len);

/* Write len bytes of text to a new file at path. Returns 0 or -1. */
int itest_write_file(const char *path, const char *text, size_t len);

/* Create a new directory $TMPDIR/<tag>.XXXXXX (/tmp without TMPDIR) into
 * dir (ITEST_PATH_MAX bytes). Returns 0, or -1 with dir "". */
int itest_tmpdir_make(char *dir, const char *tag);

/* ---- itest_proc.c ------------------------------------------------------- */

/* Read what is available on fd into *s, waiting at most timeout_ms for the
 * first bytes. Returns bytes read, 0 at EOF, -1 on timeout or error. */
ssize_t itest_read_some(int fd, char **s, int timeout_ms);

/* Run argv with the environment envp, stdout to a pipe returned in *out_fd
 * and stderr to err_path (or /dev/null when NULL). Returns the pid or -1. */
pid_t itest_spawn_env(char *const argv[], char *const envp[], int *out_fd, const char *err_path);

/* itest_spawn_env with this process's environment. */
pid_t itest_spawn(char *const argv[], int *out_fd, const char *err_path);

/* waitpid with a deadline. Returns 0 when pid was reaped (*status set), -1
 * on timeout. */
int itest_wait_timeout(pid_t pid, int *status, int timeout_ms);

/* itest_wait_timeout, then SIGKILL and wait ITEST_STOP_TIMEOUT_MS more.
 * Returns 0 when pid ended by itself, -1 when it had to be killed. */
int itest_wait_or_kill(pid_t pid, int *status, int timeout_ms);

/* Read fd until EOF (bounded by timeout_ms) into *s, then close it. */
void itest_drain_close(int fd, char **s, int timeout_ms);

/* What a reaped child printed: the rest of its stdout from *out_fd into
 * *out_text (the fd is closed, *out_fd then -1; -1 already: nothing), and
 * the file err_path into *err_text (freed first; "" when unreadable). */
void itest_collect_output(int *out_fd, char **out_text, char **err_text, const char *err_path);

/* Our environment changed by env (see itest_server_start_cmd): a heap,
 * NULL-terminated array of borrowed strings, valid while env and environ
 * are. NULL when out of memory. */
char **itest_make_env(const char *const *env);

/* ---- itest_net.c -------------------------------------------------------- */

/* A TCP socket connected to 127.0.0.1:port, or -1. */
int itest_connect_local(uint16_t port);

/* ---- itest_thread.c ----------------------------------------------------- */

/* pthread_cond_init of cond against CLOCK_MONOTONIC, the clock of
 * itest_cond_wait_count. */
void itest_cond_init_mono(pthread_cond_t *cond);

/* With lock held, wait on cond (made by itest_cond_init_mono; signalled
 * when *count grows) until *count >= n or timeout_ms have passed. Returns
 * whether *count >= n. */
bool itest_cond_wait_count(pthread_cond_t *cond, pthread_mutex_t *lock, const size_t *count,
                           size_t n, int timeout_ms);

/* *count read under lock. */
size_t itest_count_locked(pthread_mutex_t *lock, const size_t *count);

#endif /* ITEST_INT_H */
