/* fuzz_tracestate.c - libFuzzer target of otel_tracestate_parse (at several
 * output capacities), otel_tracestate_update and otel_tracestate_get.
 * Input: header NUL key NUL value NUL cap-byte. */
#include "fuzz.h"

#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>

static const size_t caps[] = {1, 2, 9, 64, 129, 256, 511, OTEL_TRACESTATE_MAX, 2048};

#define NCAPS (sizeof caps / sizeof caps[0])

static size_t count_members(const char *ts)
{
    size_t n = *ts != '\0' ? 1 : 0;
    for (; *ts != '\0'; ts++)
        n += *ts == ',';
    return n;
}

/* A parse result in out (cap bytes) that must be a valid, normalized
 * tracestate: what parse gives back when it reads it again. */
static void check_valid(const char *out, int rc, size_t cap, const char *what)
{
    size_t len = strnlen(out, cap);
    FUZZ_CHECK(len < cap, "%s: not terminated within cap %zu", what, cap);
    FUZZ_CHECK(rc >= 0 && (size_t)rc == len, "%s: rc %d, length %zu", what, rc, len);
    FUZZ_CHECK(len <= cap - 1, "%s: %zu bytes in cap %zu", what, len, cap);
    FUZZ_CHECK(fuzz_printable(out, len), "%s: unprintable byte", what);
    FUZZ_CHECK(count_members(out) <= OTEL_TRACESTATE_MAX_MEMBERS, "%s: %zu members", what,
               count_members(out));
    FUZZ_CHECK(len == 0 || (out[0] != ',' && out[len - 1] != ',' && strstr(out, ",,") == NULL),
               "%s: empty member in \"%s\"", what, out);
    /* Every key once (a repeated one keeps its first entry). */
    for (const char *m = out; *m != '\0';) {
        size_t kl = strcspn(m, "=");
        for (const char *o = strchr(m, ','); o != NULL; o = strchr(o + 1, ','))
            FUZZ_CHECK(strncmp(o + 1, m, kl) != 0 || o[1 + kl] != '=', "%s: key %.*s twice", what,
                       (int)kl, m);
        const char *comma = strchr(m, ',');
        if (comma == NULL)
            break;
        m = comma + 1;
    }
    char *again = malloc(cap);
    if (again == NULL)
        abort();
    int rc2 = otel_tracestate_parse(out, len, again, cap);
    FUZZ_CHECK(rc2 == rc && memcmp(again, out, len + 1) == 0, "%s: \"%s\" parses to \"%s\"", what,
               out, rc2 >= 0 ? again : "(error)");
    free(again);
}

static void check_get(const char *ts, const char *key, const char *want)
{
    static const size_t get_caps[] = {1, 2, 17, 257};
    for (size_t i = 0; i < sizeof get_caps / sizeof get_caps[0]; i++) {
        size_t cap = get_caps[i];
        char *out = malloc(cap);
        if (out == NULL)
            abort();
        int rc = otel_tracestate_get(ts, key, out, cap);
        FUZZ_CHECK(rc == OTEL_ERR_RANGE || rc >= 0, "get rc %d", rc);
        size_t len = strnlen(out, cap);
        FUZZ_CHECK(len < cap, "get: not terminated");
        if (rc <= 0)
            FUZZ_CHECK(len == 0, "get: \"%s\" after rc %d", out, rc);
        else
            FUZZ_CHECK((size_t)rc == len && (size_t)rc < cap, "get: rc %d, length %zu", rc, len);
        if (want != NULL && rc >= 0)
            FUZZ_CHECK(strcmp(out, want) == 0, "get %s: \"%s\", not \"%s\"", key, out, want);
        if (want != NULL && rc == OTEL_ERR_RANGE)
            FUZZ_CHECK(strlen(want) >= cap, "get: RANGE for a value that fits");
        free(out);
    }
}

static void check_update(const char *ts, size_t cap, const char *key, const char *value)
{
    char *buf = malloc(cap), *before = malloc(cap);
    if (buf == NULL || before == NULL)
        abort();
    size_t len = strlen(ts);
    if (len >= cap) { /* not terminated within cap: must be refused untouched */
        memcpy(buf, ts, cap);
    } else {
        memcpy(buf, ts, len + 1);
    }
    memcpy(before, buf, cap);
    int rc = otel_tracestate_update(buf, cap, key, value);
    FUZZ_CHECK(rc >= 0 || rc == OTEL_ERR_INVALID || rc == OTEL_ERR_RANGE, "update rc %d", rc);
    if (rc < 0) {
        FUZZ_CHECK(memcmp(buf, before, cap) == 0, "update failed (%d) but changed ts", rc);
    } else {
        size_t limit = cap < OTEL_TRACESTATE_MAX ? cap : OTEL_TRACESTATE_MAX;
        check_valid(buf, rc, limit, "update");
        size_t kl = strlen(key), vl = strlen(value);
        FUZZ_CHECK(strncmp(buf, key, kl) == 0 && buf[kl] == '=' &&
                       strncmp(buf + kl + 1, value, vl) == 0 &&
                       (buf[kl + 1 + vl] == ',' || buf[kl + 1 + vl] == '\0'),
                   "update: \"%s\" does not start with %s=%s", buf, key, value);
        check_get(buf, key, value);
        /* The key is there once: updating again gives the same string. */
        char *twice = malloc(cap);
        if (twice == NULL)
            abort();
        memcpy(twice, buf, (size_t)rc + 1);
        int rc2 = otel_tracestate_update(twice, cap, key, value);
        FUZZ_CHECK(rc2 == rc && strcmp(twice, buf) == 0, "update twice: \"%s\" then \"%s\"", buf,
                   twice);
        free(twice);
    }
    free(buf);
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t hlen, klen, vlen;
    char *header = fuzz_field(&in, &hlen);
    char *key = fuzz_field(&in, &klen);
    char *value = fuzz_field(&in, &vlen);
    uint8_t cap_byte = fuzz_byte(&in);
    char *best = malloc(OTEL_TRACESTATE_MAX);
    if (best == NULL)
        abort();
    best[0] = '\0';

    for (size_t i = 0; i < NCAPS; i++) {
        char *out = malloc(caps[i]);
        if (out == NULL)
            abort();
        memset(out, 0x7f, caps[i]);
        int rc = otel_tracestate_parse(header, hlen, out, caps[i]);
        FUZZ_CHECK(rc >= 0 || rc == OTEL_ERR_PARSE, "parse rc %d", rc);
        if (rc == OTEL_ERR_PARSE)
            FUZZ_CHECK(out[0] == '\0', "failed parse leaves \"%.*s\"", (int)caps[i], out);
        else
            check_valid(out, rc, caps[i], "parse");
        if (caps[i] == OTEL_TRACESTATE_MAX && rc >= 0)
            memcpy(best, out, (size_t)rc + 1);
        free(out);
    }

    /* The header cut into field lines at each '\n' is the same list as the
     * lines joined by ',' (RFC 9110 section 5.3, as the spec asks). */
    {
        const char *lines[64];
        size_t lens[64], n = 0;
        char *joined = fuzz_strndup((const uint8_t *)header, hlen);
        for (const char *p = header; n < 64;) {
            const char *nl = memchr(p, '\n', hlen - (size_t)(p - header));
            lines[n] = p;
            lens[n] = nl != NULL ? (size_t)(nl - p) : hlen - (size_t)(p - header);
            n++;
            if (nl == NULL)
                break;
            p = nl + 1;
        }
        for (size_t i = 0; i < hlen; i++)
            if (joined[i] == '\n')
                joined[i] = ',';
        if (n < 64) {
            char a[OTEL_TRACESTATE_MAX], b[OTEL_TRACESTATE_MAX];
            int ra = otel_tracestate_parse_lines(lines, lens, n, a, sizeof a);
            int rb = otel_tracestate_parse(joined, hlen, b, sizeof b);
            FUZZ_CHECK(ra == rb && (ra < 0 || strcmp(a, b) == 0),
                       "lines give %d \"%s\", joined %d \"%s\"", ra, ra >= 0 ? a : "", rb,
                       rb >= 0 ? b : "");
        }
        free(joined);
    }

    /* The first member's key is found with its value. */
    const char *eq = strchr(best, '=');
    if (eq != NULL) {
        const char *comma = strchr(best, ',');
        size_t vl = (comma != NULL ? (size_t)(comma - eq) : strlen(eq)) - 1;
        char *k = fuzz_strndup((const uint8_t *)best, (size_t)(eq - best));
        char *v = fuzz_strndup((const uint8_t *)eq + 1, vl);
        check_get(best, k, v);
        free(k);
        free(v);
    }
    check_get(best, key, NULL);

    size_t cap = 1 + (size_t)cap_byte * 2; /* 1 to 511; 0: the maximum */
    check_update(best, cap_byte != 0 ? cap : OTEL_TRACESTATE_MAX, key, value);
    check_update(header, cap_byte != 0 ? cap : OTEL_TRACESTATE_MAX, key, value);

    free(best);
    free(header);
    free(key);
    free(value);
    return 0;
}
