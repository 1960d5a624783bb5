/* signal_flush.h - a SIGTERM or SIGINT left at its default action exports
 * the queued spans and the metrics (for a bounded time) before it takes
 * effect. Used by the
 * LD_PRELOAD entry points. Not a public header. */
#ifndef MHD_OTEL_SIGNAL_FLUSH_H
#define MHD_OTEL_SIGNAL_FLUSH_H

#include <stdint.h>

#include <mhd-otel/mhd_otel.h>

/* For each of SIGTERM and SIGINT that is at its default action and not
 * blocked in the calling thread, install a handler that hands the signal
 * to a watcher thread: it flushes m (mhd_otel_flush: the spans, then the
 * metrics) for at most timeout_ns in all, puts the
 * default action back and raises the signal again, so the process still
 * dies of it (its wait status says so). A handler the program installs,
 * before or after, is never replaced: the program's own handling wins. A
 * signal the program blocks (to read it with sigwait or signalfd) is left
 * alone. In a forked child the signal takes effect at once. Call once;
 * m must live as long as the process. Returns how many signals are
 * watched (0, 1 or 2), or a negative OTEL_ERR_* when the watcher could not
 * be set up (nothing is installed then). */
int mhd_otel_signal_flush_install(mhd_otel *m, uint64_t timeout_ns);

#endif /* MHD_OTEL_SIGNAL_FLUSH_H */
