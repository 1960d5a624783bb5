/* mhd_real.c - finds libmicrohttpd's own start/stop functions past the
 * module's interposers (dlsym RTLD_NEXT). */
#include "mhd_real.h"

#include <dlfcn.h>
#include <pthread.h>

static mhd_otel_start_va_fn real_start_va;
static mhd_otel_stop_fn real_stop;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

/* Function pointers from dlsym: ISO C has no cast from void *, POSIX
 * guarantees this one. */
static void *next_symbol(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

static void resolve(void)
{
    void *start = next_symbol("MHD_start_daemon_va");
    void *stop = next_symbol("MHD_stop_daemon");
    /* No next definition: this library is not interposing (linked after
     * libmicrohttpd); the ones the linker bound are the real ones. */
    *(void **)&real_start_va = start ? start : (void *)MHD_start_daemon_va;
    *(void **)&real_stop = stop ? stop : (void *)MHD_stop_daemon;
}

mhd_otel_start_va_fn mhd_otel_real_start_va(void)
{
    pthread_once(&resolve_once, resolve);
    return real_start_va;
}

mhd_otel_stop_fn mhd_otel_real_stop(void)
{
    pthread_once(&resolve_once, resolve);
    return real_stop;
}

struct MHD_Daemon *mhd_otel_real_start(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = mhd_otel_real_start_va()(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}
