/* fuzz_route.c - libFuzzer target of mhd_otel_routes_init,
 * mhd_otel_route_match and mhd_otel_path_skipped. Input: three bytes (how
 * many routes, exact skip paths and skip prefixes, each 0-7), then that
 * many '\n'-separated patterns, then the paths to match, '\n'-separated. */
#include "fuzz.h"

#include "../../module/route.h"

#define LIST_MAX 7

/* The next '\n'-separated piece of the input (len bytes at *p). */
static bool next_line(fuzz_in *in, const char **p, size_t *len)
{
    if (in->left == 0)
        return false;
    const uint8_t *nl = memchr(in->p, '\n', in->left);
    size_t n = nl != NULL ? (size_t)(nl - in->p) : in->left;
    *p = (const char *)in->p;
    *len = n;
    in->p += n;
    in->left -= n;
    if (nl != NULL) {
        in->p++;
        in->left--;
    }
    return true;
}

static void strv_read(fuzz_in *in, mhd_otel_strv *sv, size_t n)
{
    sv->v = calloc(LIST_MAX + 1, sizeof *sv->v);
    if (sv->v == NULL)
        abort();
    sv->n = 0;
    const char *p;
    size_t len;
    while (sv->n < n && next_line(in, &p, &len))
        sv->v[sv->n++] = fuzz_strndup((const uint8_t *)p, len); /* cut at a NUL */
}

static void strv_free(mhd_otel_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
}

/* A route the config accepts: "{...}" not nested, not empty, closed, and
 * followed by "/" or the end (the check of module/conf.c, written again). */
static bool route_valid(const char *r)
{
    bool open = false;
    for (const char *p = r; *p != '\0'; p++) {
        if (*p == '{') {
            if (open)
                return false;
            open = true;
        } else if (*p == '}') {
            if (!open || p[-1] == '{' || (p[1] != '\0' && p[1] != '/'))
                return false;
            open = false;
        } else if (*p == '/' && open) {
            return false;
        }
    }
    return !open;
}

/* Params of valid route r if path (len bytes) matches it, segment by
 * segment, else -1: the oracle. */
static int oracle_one(const char *r, const char *path, size_t len)
{
    const char *pe = path + len;
    int params = 0;
    for (;;) {
        const char *rs = strchr(r, '/');
        size_t rl = rs != NULL ? (size_t)(rs - r) : strlen(r);
        const char *ps = memchr(path, '/', (size_t)(pe - path));
        size_t pl = ps != NULL ? (size_t)(ps - path) : (size_t)(pe - path);
        const char *brace = memchr(r, '{', rl);
        if (brace == NULL) {
            if (rl != pl || memcmp(r, path, rl) != 0)
                return -1;
        } else {
            size_t lit = (size_t)(brace - r);
            if (pl <= lit || memcmp(r, path, lit) != 0)
                return -1;
            params++;
        }
        if ((rs == NULL) != (ps == NULL))
            return -1;
        if (rs == NULL)
            return params;
        r = rs + 1;
        path = ps + 1;
    }
}

static void check_path(const mhd_otel_strv *routes, const mhd_otel_routes *cut, bool all_valid,
                       const mhd_otel_strv *exact, const mhd_otel_strv *prefixes, const char *path,
                       size_t len)
{
    const mhd_otel_route *rt = mhd_otel_route_match(cut, path, len);
    const char *m = rt != NULL ? rt->pattern : NULL;
    const mhd_otel_route *rt2 = mhd_otel_route_match(cut, path, len);
    const char *m2 = rt2 != NULL ? rt2->pattern : NULL;
    FUZZ_CHECK(m == m2, "two answers for one path");
    bool member = m == NULL;
    for (size_t i = 0; i < routes->n; i++)
        member = member || m == routes->v[i];
    FUZZ_CHECK(member, "the match is not a configured pattern");
    if (all_valid) {
        const char *want = NULL;
        int best = 0;
        for (size_t i = 0; i < routes->n; i++) {
            int p = oracle_one(routes->v[i], path, len);
            if (p >= 0 && (want == NULL || p < best)) {
                want = routes->v[i];
                best = p;
            }
        }
        FUZZ_CHECK(m == want, "path matches \"%s\", not \"%s\"", m != NULL ? m : "(none)",
                   want != NULL ? want : "(none)");
    }

    bool skip = false;
    for (size_t i = 0; i < exact->n; i++)
        skip = skip || (strlen(exact->v[i]) == len && memcmp(exact->v[i], path, len) == 0);
    for (size_t i = 0; i < prefixes->n; i++) {
        size_t pl = strlen(prefixes->v[i]);
        skip = skip || (pl <= len && memcmp(prefixes->v[i], path, pl) == 0);
    }
    FUZZ_CHECK(mhd_otel_path_skipped(exact, prefixes, path, len) == skip, "skipped: want %d", skip);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t nr = fuzz_byte(&in) % (LIST_MAX + 1);
    size_t ne = fuzz_byte(&in) % (LIST_MAX + 1);
    size_t np = fuzz_byte(&in) % (LIST_MAX + 1);
    mhd_otel_strv routes, exact, prefixes;
    strv_read(&in, &routes, nr);
    strv_read(&in, &exact, ne);
    strv_read(&in, &prefixes, np);
    mhd_otel_routes cut;
    if (mhd_otel_routes_init(&cut, &routes) != OTEL_OK)
        abort();
    bool all_valid = true;
    for (size_t i = 0; i < routes.n; i++)
        all_valid = all_valid && route_valid(routes.v[i]);

    const char *p;
    size_t len;
    while (next_line(&in, &p, &len)) {
        char *path = malloc(len > 0 ? len : 1); /* exactly len bytes: ASan sees overreads */
        if (path == NULL)
            abort();
        if (len > 0)
            memcpy(path, p, len);
        check_path(&routes, &cut, all_valid, &exact, &prefixes, path, len);
        free(path);
    }
    mhd_otel_routes_free(&cut);
    strv_free(&routes);
    strv_free(&exact);
    strv_free(&prefixes);
    return 0;
}
