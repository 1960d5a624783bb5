/* mhd_real.h - libmicrohttpd's own start/stop functions, reached past the
 * module's interposers. Not a public header. */
#ifndef MHD_OTEL_REAL_H
#define MHD_OTEL_REAL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

typedef struct MHD_Daemon *(*mhd_otel_start_va_fn)(unsigned int flags, uint16_t port,
                                                   MHD_AcceptPolicyCallback apc, void *apc_cls,
                                                   MHD_AccessHandlerCallback dh, void *dh_cls,
                                                   va_list ap);
typedef void (*mhd_otel_stop_fn)(struct MHD_Daemon *daemon);

/* libmicrohttpd's MHD_start_daemon_va / MHD_stop_daemon: the next
 * definitions after this library's (dlsym RTLD_NEXT), or the linked ones
 * when there is no next one. Never NULL. */
mhd_otel_start_va_fn mhd_otel_real_start_va(void);
mhd_otel_stop_fn mhd_otel_real_stop(void);

/* libmicrohttpd's MHD_start_daemon with a va_list-free call shape. */
struct MHD_Daemon *mhd_otel_real_start(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...);

#endif /* MHD_OTEL_REAL_H */
