/* route.c - matches request paths against otel_route patterns and the skip
 * lists. */
#include "route.h"

#include "../core/alloc.h"
#include "../core/copy.h"
#include "../core/span_int.h"
#include "../core/utf8.h"
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

/* The length of known's span name with pattern, as set_span_name makes it
 * (the pattern cut to fit OTEL_SPAN_NAME_PAIR_MAX), in *pl the pattern's
 * part; 0 when it is not plain ASCII (made for the span then). */
static size_t name_len(const char *known, const char *pattern, size_t *pl)
{
    size_t ml = strlen(known);
    *pl = strnlen(pattern, OTEL_SPAN_NAME_PAIR_MAX - ml - 1);
    if (!otel_utf8_ascii_all((const unsigned char *)pattern, *pl))
        return 0;
    return ml + 1 + *pl;
}

/* Each valid route's names, in one block. Returns OTEL_OK or NOMEM. */
static int make_names(mhd_otel_routes *r)
{
    size_t total = 0, pl;
    for (size_t i = 0; i < r->n; i++)
        for (unsigned k = 0; r->v[i].params != UINT_MAX && k < OTEL_HTTP_KNOWN_METHODS; k++)
            total += name_len(otel_http_known_methods[k], r->v[i].pattern, &pl) + 1;
    if (total == 0)
        return OTEL_OK;
    char *p = r->names = otel_malloc(total);
    if (p == NULL)
        return OTEL_ERR_NOMEM;
    for (size_t i = 0; i < r->n; i++) {
        for (unsigned k = 0; r->v[i].params != UINT_MAX && k < OTEL_HTTP_KNOWN_METHODS; k++) {
            const char *known = otel_http_known_methods[k];
            size_t n = name_len(known, r->v[i].pattern, &pl);
            if (n == 0) {
                *p++ = '\0'; /* counted as one byte: unused */
                continue;
            }
            size_t ml = n - 1 - pl;
            memcpy(p, known, ml);
            p[ml] = ' ';
            memcpy(p + ml + 1, r->v[i].pattern, pl);
            p[n] = '\0';
            r->v[i].names[k] = p;
            p += n + 1;
        }
    }
    return OTEL_OK;
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
        rt->len = strlen(rt->pattern);
        rt->plain = otel_utf8_ascii_all((const unsigned char *)rt->pattern, rt->len);
        rt->params = count_params(rt->pattern);
        if (rt->params == UINT_MAX)
            continue;
        rt->runs = runs;
        cut(rt->pattern, runs, rt->params);
        runs += rt->params + 1;
    }
    r->n = patterns->n;
    if (make_names(r) != OTEL_OK) {
        mhd_otel_routes_free(r);
        return OTEL_ERR_NOMEM;
    }
    return OTEL_OK;
}

void mhd_otel_routes_free(mhd_otel_routes *r)
{
    otel_free(r->v);
    otel_free(r->runs);
    otel_free(r->names);
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

const mhd_otel_route *mhd_otel_route_match(const mhd_otel_routes *routes, const char *path,
                                           size_t len)
{
    const mhd_otel_route *best = NULL;
    int best_params = 0;
    for (size_t i = 0; i < routes->n; i++) {
        int p = match_one(&routes->v[i], path, len);
        if (p >= 0 && (best == NULL || p < best_params)) {
            best = &routes->v[i];
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
