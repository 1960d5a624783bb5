/* route.c - matches request paths against otel_route patterns and the skip
 * lists. */
#include "route.h"

#include <string.h>

/* Number of {params} in pattern if path matches it, else -1. */
static int match_one(const char *pat, const char *path, size_t len)
{
    const char *end = path + len;
    int params = 0;
    while (*pat != '\0') {
        if (*pat == '{') {
            const char *close = strchr(pat, '}');
            if (close == NULL)
                return -1;
            const char *seg = path;
            while (path < end && *path != '/')
                path++;
            if (path == seg)
                return -1; /* a param needs a non-empty segment */
            pat = close + 1;
            params++;
            continue;
        }
        if (path == end || *pat != *path)
            return -1;
        pat++;
        path++;
    }
    return path == end ? params : -1;
}

const char *mhd_otel_route_match(const mhd_otel_strv *routes, const char *path, size_t len)
{
    const char *best = NULL;
    int best_params = 0;
    for (size_t i = 0; i < routes->n; i++) {
        int p = match_one(routes->v[i], path, len);
        if (p >= 0 && (best == NULL || p < best_params)) {
            best = routes->v[i];
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
