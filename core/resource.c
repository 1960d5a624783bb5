/* resource.c - the resource: service.name, telemetry.sdk.* and configured
 * attributes, all strings. */
#include "alloc.h"
#include <mhd-otel/otel.h>
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct resource_attr {
    char *key;   /* owned */
    char *value; /* owned */
} resource_attr;

struct otel_resource {
    resource_attr *attrs; /* owned array of n, capacity cap */
    size_t n;
    size_t cap;
};

static resource_attr *find(const otel_resource *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->attrs[i].key, key) == 0)
            return &r->attrs[i];
    return NULL;
}

static int grow(otel_resource *r)
{
    size_t cap = r->cap ? r->cap * 2 : 8;
    resource_attr *a = otel_realloc(r->attrs, cap * sizeof(*a));
    if (a == NULL)
        return OTEL_ERR_NOMEM;
    r->attrs = a;
    r->cap = cap;
    return OTEL_OK;
}

/* A copy of s made valid UTF-8 (protobuf strings must be): invalid bytes
 * become U+FFFD. Caller frees; NULL when out of memory. */
static char *utf8_dup(const char *s)
{
    size_t len = strlen(s);
    if (otel_utf8_ascii_prefix((const unsigned char *)s, len) == len)
        return otel_strdup(s);
    char *d = otel_malloc(3 * len + 1);
    if (d == NULL)
        return NULL;
    d[otel_utf8_clean(d, s, len, 3 * len)] = '\0';
    return d;
}

int otel_resource_set(otel_resource *r, const char *key, const char *value)
{
    if (r == NULL || key == NULL || value == NULL || key[0] == '\0')
        return OTEL_ERR_INVALID;
    char *v = utf8_dup(value);
    if (v == NULL)
        return OTEL_ERR_NOMEM;
    char *k = utf8_dup(key);
    if (k == NULL) {
        otel_free(v);
        return OTEL_ERR_NOMEM;
    }
    resource_attr *a = find(r, k);
    if (a != NULL) {
        otel_free(k);
        otel_free(a->value);
        a->value = v;
        return OTEL_OK;
    }
    if (r->n == r->cap && grow(r) != OTEL_OK) {
        otel_free(k);
        otel_free(v);
        return OTEL_ERR_NOMEM;
    }
    r->attrs[r->n].key = k;
    r->attrs[r->n].value = v;
    r->n++;
    return OTEL_OK;
}

int otel_resource_new(otel_resource **out, const char *service_name)
{
    *out = NULL;
    otel_resource *r = otel_calloc(1, sizeof(*r));
    if (r == NULL)
        return OTEL_ERR_NOMEM;
    char unknown[256];
    if (service_name == NULL || service_name[0] == '\0') {
        snprintf(unknown, sizeof(unknown), "unknown_service:%s", program_invocation_short_name);
        service_name = unknown;
    }
    int rc = otel_resource_set(r, "service.name", service_name);
    if (rc == OTEL_OK)
        rc = otel_resource_set(r, "telemetry.sdk.name", OTEL_SDK_NAME);
    if (rc == OTEL_OK)
        rc = otel_resource_set(r, "telemetry.sdk.language", "c");
    if (rc == OTEL_OK)
        rc = otel_resource_set(r, "telemetry.sdk.version", OTEL_SDK_VERSION);
    if (rc != OTEL_OK) {
        otel_resource_del(r);
        return rc;
    }
    *out = r;
    return OTEL_OK;
}

void otel_resource_del(otel_resource *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        otel_free(r->attrs[i].key);
        otel_free(r->attrs[i].value);
    }
    otel_free(r->attrs);
    otel_free(r);
}

const char *otel_resource_get(const otel_resource *r, const char *key)
{
    resource_attr *a = r ? find(r, key) : NULL;
    return a ? a->value : NULL;
}

size_t otel_resource_count(const otel_resource *r)
{
    return r ? r->n : 0;
}

void otel_resource_at(const otel_resource *r, size_t i, const char **key, const char **value)
{
    *key = r->attrs[i].key;
    *value = r->attrs[i].value;
}
