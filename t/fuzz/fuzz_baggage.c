/* fuzz_baggage.c - libFuzzer target of W3C baggage: otel_baggage_parse,
 * otel_baggage_format and their round trip, otel_baggage_set, _get, _remove
 * and _at. Input: header NUL key NUL value NUL props NUL. */
#include "fuzz.h"

#include <mhd-otel/propagation.h>

#define FMT_CAP (OTEL_BAGGAGE_MAX_BYTES + 1)

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_tchar((unsigned char)s[i]))
            return false;
    }
    return n > 0;
}

/* Strict UTF-8 (no overlong forms, surrogates or values over U+10FFFF),
 * written here rather than taken from the library under test. */
static bool utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s != '\0') {
        uint32_t cp;
        size_t n;
        if (s[0] < 0x80) {
            s++;
            continue;
        } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
            n = 2;
            cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
            n = 3;
            cp = s[0] & 0x0f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
            n = 4;
            cp = s[0] & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        s += n;
    }
    return true;
}

/* baggage-octet (what a property value may hold). */
static bool is_octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* Normalized properties: "" or "p1;p2=v" with tokens and octets. */
static bool props_ok(const char *p)
{
    if (*p == '\0')
        return true;
    for (;;) {
        const char *k = p;
        while (is_tchar((unsigned char)*p))
            p++;
        if (p == k)
            return false;
        if (*p == '=') {
            p++;
            while (is_octet((unsigned char)*p))
                p++;
        }
        if (*p == '\0')
            return true;
        if (*p != ';')
            return false;
        p++;
    }
}

static void check_members(const otel_baggage *b)
{
    size_t n = otel_baggage_count(b);
    otel_baggage_member m;
    FUZZ_CHECK(n <= OTEL_BAGGAGE_MAX_MEMBERS, "%zu members", n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(otel_baggage_at(b, i, &m) == OTEL_OK, "member %zu of %zu", i, n);
        FUZZ_CHECK(is_token(m.key, strlen(m.key)), "key \"%s\" is not a token", m.key);
        FUZZ_CHECK(utf8_ok(m.value), "value of %s is not UTF-8", m.key);
        FUZZ_CHECK(props_ok(m.props), "properties \"%s\" of %s", m.props, m.key);
        /* Keys are unique: get finds this member (quadratic, so for the
         * first and the last members only). */
        if (i < 8 || i + 8 >= n) {
            const char *v = otel_baggage_get(b, m.key);
            FUZZ_CHECK(v == m.value, "get %s finds another member", m.key);
        }
    }
    FUZZ_CHECK(otel_baggage_at(b, n, &m) == OTEL_ERR_RANGE, "member past the count");
}

/* format(b) is printable, within the limit, holds every member and parses
 * back to the same members; shorter buffers get a prefix of it cut at a
 * member. */
static void check_format(const otel_baggage *b, otel_baggage *scratch)
{
    char *out = malloc(FMT_CAP);
    if (out == NULL)
        abort();
    int len = otel_baggage_format(b, out, FMT_CAP);
    FUZZ_CHECK(len >= 0 && (size_t)len == strlen(out), "format rc %d", len);
    FUZZ_CHECK(len <= OTEL_BAGGAGE_MAX_BYTES, "%d bytes", len);
    FUZZ_CHECK(fuzz_printable(out, (size_t)len), "unprintable byte in the header");
    FUZZ_CHECK(strchr(out, ' ') == NULL, "space in \"%s\"", out);
    FUZZ_CHECK((len == 0) == (otel_baggage_count(b) == 0), "format of %zu members: %d bytes",
               otel_baggage_count(b), len);
    int n = otel_baggage_parse(scratch, out, (size_t)len);
    FUZZ_CHECK(n >= 0 && (size_t)n == otel_baggage_count(b), "%zu members come back as %d",
               otel_baggage_count(b), n);
    FUZZ_CHECK(fuzz_same_baggage(b, scratch), "\"%s\" parses to other members", out);

    static const size_t caps[] = {1, 2, 8, 64, 1000};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        char *cut = malloc(caps[i]);
        if (cut == NULL)
            abort();
        int cl = otel_baggage_format(b, cut, caps[i]);
        FUZZ_CHECK(cl >= 0 && (size_t)cl < caps[i] && (size_t)cl == strlen(cut),
                   "format in %zu: %d", caps[i], cl);
        FUZZ_CHECK(cl <= len && memcmp(cut, out, (size_t)cl) == 0 &&
                       (cl == 0 || cl == len || out[cl] == ','),
                   "format in %zu is not a prefix cut at a member", caps[i]);
        free(cut);
    }
    FUZZ_CHECK(otel_baggage_format(b, out, 0) == OTEL_ERR_INVALID, "cap 0");
    free(out);
}

/* Returns true when the set took place. */
static bool check_set(otel_baggage *b, otel_baggage *before, const char *key, const char *value,
                      const char *props)
{
    memcpy(before, b, sizeof *b);
    bool existed = otel_baggage_get(b, key) != NULL;
    int rc = otel_baggage_set(b, key, value, props);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_INVALID || rc == OTEL_ERR_FULL, "set rc %d", rc);
    if (rc != OTEL_OK) {
        FUZZ_CHECK(fuzz_same_baggage(b, before), "set failed (%d) but changed the baggage", rc);
        if (rc == OTEL_ERR_INVALID)
            FUZZ_CHECK(!is_token(key, strlen(key)) || !utf8_ok(value) ||
                           (props != NULL && props[0] != '\0'),
                       "set refused a token key and a UTF-8 value");
        return false;
    }
    FUZZ_CHECK(is_token(key, strlen(key)) && utf8_ok(value), "set took key \"%s\"", key);
    const char *got = otel_baggage_get(b, key);
    FUZZ_CHECK(got != NULL && strcmp(got, value) == 0, "get after set");
    FUZZ_CHECK(otel_baggage_count(b) == otel_baggage_count(before) + (existed ? 0 : 1),
               "count after set");
    otel_baggage_member last;
    (void)otel_baggage_at(b, otel_baggage_count(b) - 1, &last);
    FUZZ_CHECK(strcmp(last.key, key) == 0, "the member set is not the last");
    return true;
}

static void check_remove(otel_baggage *b, const char *key)
{
    size_t n = otel_baggage_count(b);
    bool existed = otel_baggage_get(b, key) != NULL;
    FUZZ_CHECK(otel_baggage_remove(b, key) == existed, "remove %s", key);
    FUZZ_CHECK(otel_baggage_get(b, key) == NULL, "%s still there", key);
    FUZZ_CHECK(otel_baggage_count(b) == n - (existed ? 1 : 0), "count after remove");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    size_t hlen;
    char *header = fuzz_field(&in, &hlen);
    char *key = fuzz_field(&in, NULL);
    char *value = fuzz_field(&in, NULL);
    char *props = fuzz_field(&in, NULL);
    otel_baggage *b = malloc(sizeof *b), *scratch = malloc(sizeof *b);
    if (b == NULL || scratch == NULL)
        abort();
    memset(b, 0xa5, sizeof *b);

    int n = otel_baggage_parse(b, header, hlen);
    FUZZ_CHECK(n >= 0 && (size_t)n == otel_baggage_count(b), "parse rc %d", n);
    check_members(b);
    check_format(b, scratch);

    if (check_set(b, scratch, key, value, props)) {
        check_members(b);
        check_format(b, scratch);
    }
    otel_baggage_member first;
    if (otel_baggage_at(b, 0, &first) == OTEL_OK) {
        char *k = strdup(first.key);
        if (k == NULL)
            abort();
        (void)check_set(b, scratch, k, value, NULL); /* replace: moves to the end */
        check_remove(b, k);
        free(k);
    }
    check_remove(b, key);
    check_members(b);
    check_format(b, scratch);

    free(b);
    free(scratch);
    free(header);
    free(key);
    free(value);
    free(props);
    return 0;
}
