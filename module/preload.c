/* preload.c - the LD_PRELOAD entry points: MHD_start_daemon[_va] and
 * MHD_stop_daemon interposed, so that a server built without mhd-otel is
 * traced from the config file named by MHD_OTEL_CONF. */
#include "module_int.h"

#include "mhd_real.h"
#include "signal_flush.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define FLUSH_AT_EXIT_NS 5000000000ULL /* bounded: exit must not hang */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static mhd_otel *module; /* NULL: inert (no MHD_OTEL_CONF) */

static void flush_at_exit(void)
{
    if (module != NULL && module->tracer != NULL)
        otel_tracer_force_flush(module->tracer, FLUSH_AT_EXIT_NS);
}

/* Read MHD_OTEL_CONF once, at the first daemon start. A config that cannot
 * be used stops the process before it serves anything. */
static void load(void)
{
    const char *path = getenv("MHD_OTEL_CONF");
    if (path == NULL || path[0] == '\0')
        return;
    char err[1024];
    if (mhd_otel_new(&module, path, err, sizeof(err)) != OTEL_OK) {
        fprintf(stderr, "mhd-otel: %s\n", err);
        exit(1);
    }
    atexit(flush_at_exit);
    /* A server that dies of SIGTERM/SIGINT with their default action
     * (systemd-journal-gatewayd does) would lose every queued span. */
    if (module->tracer != NULL &&
        mhd_otel_signal_flush_install(module->tracer, module->conf->signal_flush_ns) < 0)
        fprintf(stderr, "mhd-otel: cannot watch SIGTERM/SIGINT: queued spans are lost if the "
                        "server dies of them\n");
}

struct MHD_Daemon *MHD_start_daemon_va(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    pthread_once(&load_once, load);
    if (module == NULL)
        return mhd_otel_real_start_va()(flags, port, apc, apc_cls, dh, dh_cls, ap);
    return mhd_otel_start_daemon_va(module, flags, port, apc, apc_cls, dh, dh_cls, ap);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    mhd_otel_stop_daemon(daemon);
    if (module != NULL && module->tracer != NULL)
        otel_tracer_force_flush(module->tracer, FLUSH_AT_EXIT_NS);
}
