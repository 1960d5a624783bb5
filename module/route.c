/* route.c - matches request paths against otel_route patterns and the skip
 * lists. */
#include "route.h"

#include "../core/alloc.h"
#include "../core/copy.h"
#include <mhd-otel/otel.h>

#include <limits.h>
#include <string.h>

/* {params} in pattern, UINT_MAX for a "{" without a "}" after it. */
static unsigned count_params(const char *pattern)
{
    unsigned n = 0;
    for (const char *p = strchr(pattern, '{'); p != NULL; p = strchr(p, '{')) {
        p = strchr(p, '}');
        if (p == NULL)
            return UINT_MAX;
        n++;
    }
    return n;
}

/* Cut pattern into its runs (params + 1 of them). A param runs from a "{"
 * to the first "}" after it. */
static void cut(const char *pattern, mhd_otel_route_run *runs, unsigned params)
{
    const char *p = pattern;
    for (unsigned k = 0; k < params; k++) {
        const char *open = strchr(p, '{');
        runs[k] = (mhd_otel_route_run){p, (size_t)(open - p)};
        p = strchr(open, '}') + 1;
    }
    runs[params] = (mhd_otel_route_run){p, strlen(p)};
}

int mhd_otel_routes_init(mhd_otel_routes *r, const mhd_otel_strv *patterns)
{
    *r = (mhd_otel_routes){0};
    if (patterns->n == 0)
        return OTEL_OK;
    size_t total = 0;
    for (size_t i = 0; i < patterns->n; i++) {
        unsigned params = count_params(patterns->v[i]);
        total += params == UINT_MAX ? 0 : params + 1;
    }
    r->v = otel_calloc(patterns->n, sizeof(*r->v));
    r->runs = total > 0 ? otel_calloc(total, sizeof(*r->runs)) : NULL;
    if (r->v == NULL || (total > 0 && r->runs == NULL)) {
        mhd_otel_routes_free(r);
        return OTEL_ERR_NOMEM;
    }
    mhd_otel_route_run *runs = r->runs;
    for (size_t i = 0; i < patterns->n; i++) {
        mhd_otel_route *rt = &r->v[i];
        rt->pattern = patterns->v[i];
        rt->params = count_params(rt->pattern);
        if (rt->params == UINT_MAX)
            continue;
        rt->runs = runs;
        cut(rt->pattern, runs, rt->params);
        runs += rt->params + 1;
    }
    r->n = patterns->n;
    return OTEL_OK;
}

void mhd_otel_routes_free(mhd_otel_routes *r)
{
    otel_free(r->v);
    otel_free(r->runs);
    *r = (mhd_otel_routes){0};
}

/* rt's params if path (len bytes) matches it, else -1: each run where it
 * is, each param one segment of at least a byte, nothing after. */
static int match_one(const mhd_otel_route *rt, const char *path, size_t len)
{
    const char *end = path + len;
    if (rt->params == UINT_MAX)
        return -1;
    for (unsigned k = 0;; k++) {
        const mhd_otel_route_run *run = &rt->runs[k];
        if ((size_t)(end - path) < run->len || !otel_equal_small(path, run->p, run->len))
            return -1;
        path += run->len;
        if (k == rt->params)
            return path == end ? (int)k : -1;
        const char *seg = path;
        while (path < end && *path != '/')
            path++;
        if (path == seg)
            return -1;
    }
}

const char *mhd_otel_route_match(const mhd_otel_routes *routes, const char *path, size_t len)
{
    const char *best = NULL;
    int best_params = 0;
    for (size_t i = 0; i < routes->n; i++) {
        int p = match_one(&routes->v[i], path, len);
        if (p >= 0 && (best == NULL || p < best_params)) {
            best = routes->v[i].pattern;
            best_params = p;
            if (p == 0)
                break;
        }
    }
    return best;
}

bool mhd_otel_path_skipped_in(const mhd_otel_strv *exact, const mhd_otel_strv *prefixes,
                              const char *path, size_t len)
{
    for (size_t i = 0; i < exact->n; i++)
        if (strlen(exact->v[i]) == len && memcmp(exact->v[i], path, len) == 0)
            return true;
    for (size_t i = 0; i < prefixes->n; i++) {
        size_t pl = strlen(prefixes->v[i]);
        if (pl <= len && memcmp(prefixes->v[i], path, pl) == 0)
            return true;
    }
    return false;
}
