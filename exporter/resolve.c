/* resolve.c - host name lookups bounded by a deadline. getaddrinfo cannot
 * be interrupted, so a name is looked up in a detached thread; the caller
 * waits for it until the deadline, and a lookup it gave up on frees its
 * own result when it ends. */
#include "resolve.h"

#include <mhd-otel/otel.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "../core/alloc.h"

#define NS_PER_SEC 1000000000ULL

/* One lookup, shared by the caller and the thread: the last of the two to
 * let go frees it. */
typedef struct lookup {
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    int refs; /* guarded by mu */
    bool done;
    int gai;              /* getaddrinfo's result */
    struct addrinfo *res; /* owned until the caller takes it */
    char *host;           /* owned */
    char port[8];
} lookup;

static atomic_size_t pending;
static _Atomic(otel_resolve_fn) lookup_fn;

static const struct addrinfo tcp_hints = {
    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};

static int call_lookup(const char *host, const char *port, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    otel_resolve_fn fn = atomic_load(&lookup_fn);
    return fn != NULL ? fn(host, port, hints, res) : getaddrinfo(host, port, hints, res);
}

static void lookup_release(lookup *l)
{
    pthread_mutex_lock(&l->mu);
    bool last = --l->refs == 0;
    pthread_mutex_unlock(&l->mu);
    if (!last)
        return;
    if (l->res != NULL)
        freeaddrinfo(l->res);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->done_cv);
    otel_free(l->host);
    otel_free(l);
}

static void *lookup_main(void *arg)
{
    lookup *l = arg;
    struct addrinfo *res = NULL;
    int gai = call_lookup(l->host, l->port, &tcp_hints, &res);
    pthread_mutex_lock(&l->mu);
    l->gai = gai;
    l->res = gai == 0 ? res : NULL;
    l->done = true;
    pthread_cond_signal(&l->done_cv);
    pthread_mutex_unlock(&l->mu);
    lookup_release(l);
    atomic_fetch_sub(&pending, 1);
    return NULL;
}

static int lookup_error(int gai, const char *host, char *err, size_t errlen)
{
    snprintf(err, errlen, "resolve %s: %s", host, gai_strerror(gai));
    return gai == EAI_MEMORY ? OTEL_ERR_NOMEM : OTEL_ERR_IO;
}

/* Start the lookup of host in a thread of its own. */
static int lookup_start(const char *host, const char *port, lookup **out)
{
    lookup *l = otel_calloc(1, sizeof(*l));
    if (l == NULL)
        return OTEL_ERR_NOMEM;
    l->host = otel_strdup(host);
    if (l->host == NULL) {
        otel_free(l);
        return OTEL_ERR_NOMEM;
    }
    snprintf(l->port, sizeof(l->port), "%s", port);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    l->refs = 2;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread takes no signals */
    pthread_t th;
    atomic_fetch_add(&pending, 1);
    int rv = pthread_create(&th, &attr, lookup_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rv != 0) {
        atomic_fetch_sub(&pending, 1);
        l->refs = 1;
        lookup_release(l);
        return OTEL_ERR_NOMEM;
    }
    *out = l;
    return OTEL_OK;
}

int otel_resolve(const char *host, const char *port, uint64_t deadline, struct addrinfo **out,
                 char *err, size_t errlen)
{
    *out = NULL;
    /* An address needs no lookup: it is parsed at once. */
    struct addrinfo hints = tcp_hints;
    hints.ai_flags |= AI_NUMERICHOST;
    int gai = getaddrinfo(host, port, &hints, out);
    if (gai == 0)
        return OTEL_OK;
    if (gai != EAI_NONAME)
        return lookup_error(gai, host, err, errlen);
    if (otel_mono_ns() >= deadline) {
        snprintf(err, errlen, "resolve %s: no time left", host);
        return OTEL_ERR_TIMEOUT;
    }
    lookup *l;
    int rc = lookup_start(host, port, &l);
    if (rc != OTEL_OK) {
        snprintf(err, errlen, "resolve %s: out of memory", host);
        return rc;
    }
    struct timespec ts = {.tv_sec = (time_t)(deadline / NS_PER_SEC),
                          .tv_nsec = (long)(deadline % NS_PER_SEC)};
    pthread_mutex_lock(&l->mu);
    while (!l->done && pthread_cond_timedwait(&l->done_cv, &l->mu, &ts) != ETIMEDOUT)
        ;
    if (l->done) {
        gai = l->gai;
        *out = l->res;
        l->res = NULL;
        rc = gai == 0 ? OTEL_OK : lookup_error(gai, host, err, errlen);
    } else {
        snprintf(err, errlen, "resolve %s: no answer by the deadline", host);
        rc = OTEL_ERR_TIMEOUT;
    }
    pthread_mutex_unlock(&l->mu);
    lookup_release(l);
    return rc;
}

size_t otel_resolve_pending(void)
{
    return atomic_load(&pending);
}

void otel_resolve_set_lookup(otel_resolve_fn fn)
{
    atomic_store(&lookup_fn, fn);
}
