/* itest_thread.c - waits across threads: a count under a lock, waited for with a deadline. */
#include "itest_int.h"

#include <errno.h>
#include <time.h>

void itest_cond_init_mono(pthread_cond_t *cond)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &ca);
    pthread_condattr_destroy(&ca);
}

bool itest_cond_wait_count(pthread_cond_t *cond, pthread_mutex_t *lock, const size_t *count,
                           size_t n, int timeout_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (*count < n) {
        if (pthread_cond_timedwait(cond, lock, &until) == ETIMEDOUT)
            break;
    }
    return *count >= n;
}

size_t itest_count_locked(pthread_mutex_t *lock, const size_t *count)
{
    size_t n;

    pthread_mutex_lock(lock);
    n = *count;
    pthread_mutex_unlock(lock);
    return n;
}
