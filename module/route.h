/* route.h - which configured route a request path matches, and whether the
 * path is skipped. Not a public header. */
#ifndef MHD_OTEL_ROUTE_H
#define MHD_OTEL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* The pattern of routes (e.g. "/hello/{name}") that path (len bytes, no
 * query) matches, or NULL. A {param} matches one non-empty segment; among
 * matches, the one with the fewest params wins, then the first configured.
 * The result is borrowed from routes. */
const char *mhd_otel_route_match(const mhd_otel_strv *routes, const char *path, size_t len);

/* mhd_otel_path_skipped when there are lists to look in. */
bool mhd_otel_path_skipped_in(const mhd_otel_strv *exact, const mhd_otel_strv *prefixes,
                              const char *path, size_t len);

/* True when path equals one of exact or starts with one of prefixes. No
 * call at all without either list (this runs for every request). */
static inline bool mhd_otel_path_skipped(const mhd_otel_strv *exact, const mhd_otel_strv *prefixes,
                                         const char *path, size_t len)
{
    return (exact->n != 0 || prefixes->n != 0) &&
           mhd_otel_path_skipped_in(exact, prefixes, path, len);
}

#endif /* MHD_OTEL_ROUTE_H */
