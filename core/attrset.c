/* attrset.c - attribute sets of metric points: order-free hash, comparison, sorted copy. */
#include "alloc.h"
#include "attrset.h"

#include <stdlib.h>
#include <string.h>

#define K1 0x9e3779b97f4a7c15ULL
#define K2 0xbf58476d1ce4e5b9ULL

static uint64_t fmix(uint64_t x)
{
    x ^= x >> 31;
    x *= K2;
    x ^= x >> 29;
    return x;
}

/* Eight bytes at a time: the cost of a record hangs on it. */
static uint64_t str_hash(const char *s, uint64_t h)
{
    size_t len = strlen(s);
    h ^= (uint64_t)len * K1;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * K1;
        h ^= h >> 32;
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * K1;
    return h ^ (h >> 32);
}

static const char *str_of(const otel_kv *a)
{
    return a->v.s != NULL ? a->v.s : "";
}

/* Keys are few and fixed per call site: their length and first and last
 * eight bytes are enough to spread them (equality is decided by
 * otel_attrset_equal, not by the hash). */
static uint64_t key_hash(const char *k)
{
    size_t len = strlen(k);
    uint64_t a = 0, b = 0;
    if (len >= 8) {
        memcpy(&a, k, 8);
        memcpy(&b, k + len - 8, 8);
    } else {
        memcpy(&a, k, len);
    }
    return (a ^ (b << 7 | b >> 57)) * K1 + len;
}

static uint64_t kv_hash(const otel_kv *a)
{
    uint64_t h = key_hash(a->key != NULL ? a->key : "") ^
                 ((uint64_t)a->type << 56); /* NULL: refused later */
    uint64_t v;
    switch (a->type) {
    case OTEL_ATTR_STRING:
        return fmix(str_hash(str_of(a), h));
    case OTEL_ATTR_BOOL:
        v = a->v.b ? 1 : 2;
        break;
    case OTEL_ATTR_INT:
        v = (uint64_t)a->v.i;
        break;
    case OTEL_ATTR_DOUBLE:
        memcpy(&v, &a->v.d, sizeof(v));
        break;
    default:
        v = 0;
    }
    return fmix((h ^ v) * K2);
}

uint64_t otel_attrset_hash(const otel_kv *kv, size_t n)
{
    uint64_t h = (uint64_t)n * K1; /* a sum: the order of the terms does not matter */
    for (size_t i = 0; i < n; i++)
        h += kv_hash(&kv[i]);
    return fmix(h);
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a[0] == b[0] && strcmp(a, b) == 0);
}

static bool value_equal(const otel_kv *a, const otel_kv *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case OTEL_ATTR_STRING:
        return str_eq(str_of(a), str_of(b));
    case OTEL_ATTR_BOOL:
        return a->v.b == b->v.b;
    case OTEL_ATTR_INT:
        return a->v.i == b->v.i;
    case OTEL_ATTR_DOUBLE:
        return memcmp(&a->v.d, &b->v.d, sizeof(double)) == 0;
    default:
        return false;
    }
}

/* The index of key in the sorted stored set, or -1. */
static long find_key(const otel_kv *stored, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(stored[mid].key, key);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

bool otel_attrset_equal(const otel_kv *stored, size_t n_stored, const otel_kv *kv, size_t n)
{
    if (n != n_stored || n > 64)
        return false;
    /* The usual case: the keys in the order they came in the first time. */
    const unsigned char *order = (const unsigned char *)(stored + n);
    size_t i = 0;
    while (i < n && kv[i].key != NULL && str_eq(stored[order[i]].key, kv[i].key) &&
           value_equal(&stored[order[i]], &kv[i]))
        i++;
    if (i == n)
        return true;
    uint64_t seen = 0; /* each stored attribute matched once: no key twice */
    for (i = 0; i < n; i++) {
        if (kv[i].key == NULL)
            return false;
        long j = find_key(stored, n, kv[i].key);
        if (j < 0 || (seen & (1ULL << j)) != 0 || !value_equal(&stored[j], &kv[i]))
            return false;
        seen |= 1ULL << j;
    }
    return true;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const otel_kv *)a)->key, ((const otel_kv *)b)->key);
}

static char *put_str(char **pos, const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = *pos;
    memcpy(d, s, len);
    *pos += len;
    return d;
}

int otel_attrset_copy(const otel_kv *kv, size_t n, size_t max, otel_kv **out)
{
    *out = NULL;
    if (n > max || n > 64)
        return OTEL_ERR_INVALID;
    size_t bytes = n * sizeof(otel_kv) + n; /* the order, then the strings */
    for (size_t i = 0; i < n; i++) {
        if (kv[i].key == NULL || kv[i].type > OTEL_ATTR_DOUBLE)
            return OTEL_ERR_INVALID;
        bytes += strlen(kv[i].key) + 1;
        if (kv[i].type == OTEL_ATTR_STRING)
            bytes += strlen(str_of(&kv[i])) + 1;
    }
    otel_kv *set = otel_malloc(bytes > 0 ? bytes : 1);
    if (set == NULL)
        return OTEL_ERR_NOMEM;
    char *pos = (char *)(set + n) + n;
    for (size_t i = 0; i < n; i++) {
        set[i] = kv[i];
        set[i].key = put_str(&pos, kv[i].key);
        if (kv[i].type == OTEL_ATTR_STRING)
            set[i].v.s = put_str(&pos, str_of(&kv[i]));
    }
    if (n > 1)
        qsort(set, n, sizeof(*set), cmp_kv);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(set[i - 1].key, set[i].key) == 0) {
            otel_free(set);
            return OTEL_ERR_INVALID;
        }
    }
    unsigned char *order = (unsigned char *)(set + n);
    for (size_t i = 0; i < n; i++)
        order[i] = (unsigned char)find_key(set, n, kv[i].key);
    *out = set;
    return OTEL_OK;
}
