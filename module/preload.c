/* preload.c - the LD_PRELOAD entry points: MHD_start_daemon[_va] and
 * MHD_stop_daemon interposed, so that a server built without mhd-otel is
 * traced from the config file named by MHD_OTEL_CONF, or from the OTEL_*
 * environment alone. */
#include "module_int.h"
#include "interpose.h"

#include "mhd_real.h"
#include "signal_flush.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static mhd_otel *module; /* NULL only before the first daemon start */

/* The budget of the process's last flush: once the last traced daemon
 * stops, its spans and the ones the exit still finds get export_timeout in
 * all, spent by MHD_stop_daemon's flush and the exit's shutdown together,
 * never each on its own. A daemon started afterwards starts it afresh. */
static pthread_mutex_t budget_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t budget_deadline; /* otel_mono_ns; 0: not started */
static unsigned live_daemons;

/* What is left of the budget, starting it when it has not been. */
static uint64_t budget_left(void)
{
    uint64_t now = otel_mono_ns();
    pthread_mutex_lock(&budget_mu);
    if (budget_deadline == 0)
        budget_deadline = now + module->conf->batch.export_timeout_ns;
    uint64_t left = budget_deadline > now ? budget_deadline - now : 0;
    pthread_mutex_unlock(&budget_mu);
    return left;
}

/* The spans, then the last metrics (the SDK spec, "MetricReader"
 * Shutdown), within what is left of the budget. */
static void shutdown_at_exit(void)
{
    if (module == NULL || module->tracer == NULL)
        return;
    otel_tracer_shutdown_within(module->tracer, budget_left());
    if (module->reader != NULL)
        (void)mhd_otel_reader_flush(module->reader, budget_left());
}

/* Once, at the first daemon start: the config file named by MHD_OTEL_CONF,
 * or without it the OTEL_* environment alone. A config that cannot be used
 * stops the process before it serves anything. */
static void load(void)
{
    const char *path = getenv("MHD_OTEL_CONF");
    if (path != NULL && path[0] == '\0')
        path = NULL;
    char err[1024];
    if (mhd_otel_new(&module, path, err, sizeof(err)) != OTEL_OK) {
        fprintf(stderr, "mhd-otel: %s\n", err);
        exit(1);
    }
    if (module->tracer == NULL)
        return; /* OTEL_SDK_DISABLED=true or otel_trace off: nothing to do */
    atexit(shutdown_at_exit);
    /* A server that dies of SIGTERM/SIGINT with their default action
     * (systemd-journal-gatewayd does) would lose every queued span. */
    if (mhd_otel_signal_flush_install(module, module->conf->signal_flush_ns) < 0)
        fprintf(stderr, "mhd-otel: cannot watch SIGTERM/SIGINT: queued spans are lost if the "
                        "server dies of them\n");
}

MHD_OTEL_INTERPOSER struct MHD_Daemon *
MHD_start_daemon_va(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc, void *apc_cls,
                    MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    pthread_once(&load_once, load);
    struct MHD_Daemon *d =
        mhd_otel_start_daemon_va(module, flags, port, apc, apc_cls, dh, dh_cls, ap);
    if (d != NULL && mhd_otel_enabled(module)) {
        pthread_mutex_lock(&budget_mu);
        live_daemons++;
        budget_deadline = 0;
        pthread_mutex_unlock(&budget_mu);
    }
    return d;
}

MHD_OTEL_INTERPOSER struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                                        MHD_AcceptPolicyCallback apc, void *apc_cls,
                                                        MHD_AccessHandlerCallback dh, void *dh_cls,
                                                        ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

MHD_OTEL_INTERPOSER void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    mhd_otel_stop_daemon(daemon);
    if (daemon == NULL || !mhd_otel_enabled(module))
        return;
    pthread_mutex_lock(&budget_mu);
    bool last = live_daemons > 0 && --live_daemons == 0;
    pthread_mutex_unlock(&budget_mu);
    /* The last daemon's spans and metrics go out now, within the shared
     * budget. */
    if (last)
        (void)mhd_otel_flush(module, budget_left());
}
