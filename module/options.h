/* options.h - reads a caller's libmicrohttpd option list into an array the
 * module can edit and pass on. Not a public header. */
#ifndef MHD_OTEL_OPTIONS_H
#define MHD_OTEL_OPTIONS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

typedef void *(*mhd_otel_uri_log_fn)(void *cls, const char *uri, struct MHD_Connection *con);

/* The caller's options, minus the callbacks the module chains. */
typedef struct mhd_otel_opts {
    struct MHD_OptionItem *items; /* owned; n items, then room for more */
    size_t n;
    size_t cap;
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
    mhd_otel_uri_log_fn uri_log;
    void *uri_log_cls;
    const struct sockaddr *sock_addr; /* MHD_OPTION_SOCK_ADDR, borrowed */
    unsigned int unknown_option;      /* first option it could not read, or 0 */
} mhd_otel_opts;

/* Read options from ap up to MHD_OPTION_END, following MHD_OPTION_ARRAY.
 * Returns 0; OTEL_ERR_UNSUPPORTED when an option unknown to libmicrohttpd
 * 0.9.75 was met (its number in o->unknown_option: the rest of ap cannot be
 * read); OTEL_ERR_NOMEM. Free o with mhd_otel_opts_free in every case. */
int mhd_otel_opts_read(mhd_otel_opts *o, va_list ap);

/* Append one option as MHD_OPTION_ARRAY encodes it. */
int mhd_otel_opts_add(mhd_otel_opts *o, enum MHD_OPTION option, intptr_t value, void *ptr);

/* o->items terminated by MHD_OPTION_END, for MHD_OPTION_ARRAY. Returns
 * OTEL_ERR_NOMEM when the terminator does not fit. */
int mhd_otel_opts_finish(mhd_otel_opts *o);

void mhd_otel_opts_free(mhd_otel_opts *o);

#endif /* MHD_OTEL_OPTIONS_H */
