/* route.h - which configured route a request path matches, and whether the
 * path is skipped. Not a public header. */
#ifndef MHD_OTEL_ROUTE_H
#define MHD_OTEL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "../core/text.h"

/* A route pattern cut at its {params}: the literal runs before, between
 * and after them, runs[0..params], pointing into the pattern. */
typedef struct mhd_otel_route_run {
    const char *p;
    size_t len;
} mhd_otel_route_run;

typedef struct mhd_otel_route {
    const char *pattern;      /* borrowed from the patterns given */
    size_t len;               /* its strlen */
    bool plain;               /* it is plain ASCII */
    unsigned params;          /* UINT_MAX: a "{" not closed, never matched */
    mhd_otel_route_run *runs; /* params + 1, in the routes' runs */
    /* The server span names "METHOD pattern" for the known methods (in
     * otel_http_known_methods' order), in the routes' names; NULL each for
     * a pattern that is not plain ASCII or too long (the name is then made
     * for the span). */
    const char *names[OTEL_HTTP_KNOWN_METHODS];
} mhd_otel_route;

/* The configured routes, cut once when the module starts. */
typedef struct mhd_otel_routes {
    mhd_otel_route *v; /* owned */
    size_t n;
    mhd_otel_route_run *runs; /* owned: every route's */
    char *names;              /* owned: every route's names */
} mhd_otel_routes;

/* Cut patterns (borrowed: they must outlive r) into r. Returns OTEL_OK or
 * OTEL_ERR_NOMEM (r then holds none). */
int mhd_otel_routes_init(mhd_otel_routes *r, const mhd_otel_strv *patterns);
void mhd_otel_routes_free(mhd_otel_routes *r);

/* The name "known pattern" of a server span whose route is rt and whose
 * method is known (as otel_http_method_known returns it): valid as long as
 * the routes, or NULL. */
static inline const char *mhd_otel_route_name(const mhd_otel_route *rt, const char *known)
{
    return rt->names[otel_http_method_index(known)];
}

/* The route of routes (e.g. "/hello/{name}") that path (len bytes, no
 * query) matches, or NULL. A {param} matches one non-empty segment; among
 * matches, the one with the fewest params wins, then the first configured.
 * The result is borrowed from routes. */
const mhd_otel_route *mhd_otel_route_match(const mhd_otel_routes *routes, const char *path,
                                           size_t len);

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
