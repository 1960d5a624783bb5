/* pb_write.c - the protobuf writers of pb_write.h that are not inline: attributes and resources. */
#include "pb_write.h"

/* ---- sizes ------------------------------------------------------------------ */

/* The ArrayValue of a string array: one AnyValue{string_value} each. */
static size_t str_array_size(const otel_attr *a)
{
    size_t size = 0, len;
    const char *pos = NULL;
    while (otel_attr_array_next(a, &pos, &len) != NULL)
        size += otel_pb_len_field_size(otel_pb_len_field_size(len));
    return size;
}

/* The AnyValue of a scalar attribute. String arrays (rare) are sized and
 * written by their own functions, so that the scalar ones stay as small
 * as the per-attribute loop wants them. */
static inline size_t any_size(const otel_attr *a)
{
    switch (a->type) {
    case OTEL_ATTR_STRING:
        return otel_pb_len_field_size(otel_otlp_value_len(a)); /* a set oneof member: "" too */
    case OTEL_ATTR_STRING_ARRAY:
        break; /* array_any_size */
    case OTEL_ATTR_BOOL:
        return 2;
    case OTEL_ATTR_INT:
        return 1 + otel_pb_varint_size((uint64_t)a->v.i);
    case OTEL_ATTR_DOUBLE:
        return 9;
    }
    return 0; /* no member set: an empty AnyValue */
}

static inline size_t kv_size(const otel_attr *a, size_t any)
{
    return otel_pb_opt_len_field_size(otel_otlp_key_len(a)) + otel_pb_len_field_size(any);
}

__attribute__((noinline, cold)) static size_t array_any_size(const otel_attr *a)
{
    return otel_pb_len_field_size(str_array_size(a));
}

size_t otel_pb_attrs_size(const otel_attr *attrs, size_t n)
{
    size_t size = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_attr *a = &attrs[i];
        size_t any = a->type == OTEL_ATTR_STRING_ARRAY ? array_any_size(a) : any_size(a);
        size += otel_pb_len_field_size(kv_size(a, any));
    }
    return size;
}

/* A scalar KeyValue field's bytes but its key and string value: its tag
 * and length (at most 5), the key's tag and length (3: a key_len is 16
 * bits), the value's tag and length (5), the AnyValue's (an int's 11). */
#define KV_OVERHEAD_MAX (1 + 5 + 1 + 3 + 1 + 5 + 11)

size_t otel_pb_attrs_bound(const otel_attr *attrs, size_t n)
{
    size_t bound = n * KV_OVERHEAD_MAX;
    for (size_t i = 0; i < n; i++) {
        const otel_attr *a = &attrs[i];
        /* A NULL key or value is written as none, its length as room. */
        bound += a->key_len;
        if (a->type == OTEL_ATTR_STRING)
            bound += a->v.s.len;
        else if (a->type == OTEL_ATTR_STRING_ARRAY)
            bound += otel_pb_len_field_size(kv_size(a, array_any_size(a)));
    }
    return bound;
}

/* A KeyValue with a string value of vl bytes, as resource attributes are
 * (their keys and values have no length limit: not otel_attrs). */
static size_t str_kv_size(size_t kl, size_t vl)
{
    return otel_pb_opt_len_field_size(kl) + otel_pb_len_field_size(otel_pb_len_field_size(vl));
}

size_t otel_pb_resource_size(const otel_resource *r)
{
    size_t size = 0, n = otel_resource_count(r);
    for (size_t i = 0; i < n; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        size +=
            otel_pb_len_field_size(str_kv_size(otel_otlp_str_len(key), otel_otlp_str_len(value)));
    }
    return size;
}

/* ---- writing ------------------------------------------------------------------ */

/* A KeyValue whose value is a string array. */
__attribute__((noinline, cold)) static uint8_t *put_array_kv(uint8_t *p, uint8_t tag,
                                                             const otel_attr *a)
{
    const char *pos = NULL, *e;
    size_t len, inner = str_array_size(a), kl = otel_otlp_key_len(a);
    p = otel_pb_put_len(p, tag, kv_size(a, otel_pb_len_field_size(inner)));
    if (kl > 0)
        p = otel_pb_put_bytes(p, OTEL_PB_KV_KEY, a->key, kl);
    p = otel_pb_put_len(p, OTEL_PB_KV_VALUE, otel_pb_len_field_size(inner));
    p = otel_pb_put_len(p, OTEL_PB_ANY_ARRAY, inner);
    while ((e = otel_attr_array_next(a, &pos, &len)) != NULL) {
        p = otel_pb_put_len(p, OTEL_PB_ARRAY_VALUES, otel_pb_len_field_size(len));
        p = otel_pb_put_bytes(p, OTEL_PB_ANY_STRING, e, len);
    }
    return p;
}

/* A KeyValue whose every length fits in one byte (kl > 0): the KeyValue
 * holds the key field (2 + kl bytes) and the value field (2 + the
 * AnyValue's: 2 + vl for a string, 1 + its varint for an integer), under
 * 128 bytes in all. */
#define SHORT_KV_MAX (127 - 6) /* kl + vl of a string */

/* The head of such a KeyValue of kv bytes up to its AnyValue's tag: its
 * tag and length, the key field, the value field's tag and length (any). */
static inline uint8_t *put_short_kv_head(uint8_t *p, uint8_t tag, size_t kv, const otel_attr *a,
                                         size_t kl, size_t any)
{
    p[0] = tag;
    p[1] = (uint8_t)kv;
    p[2] = OTEL_PB_KV_KEY;
    p[3] = (uint8_t)kl;
    otel_copy_small(p + 4, a->key, kl);
    p += 4 + kl;
    p[0] = OTEL_PB_KV_VALUE;
    p[1] = (uint8_t)any;
    return p + 2;
}

/* A KeyValue with a scalar value. */
static uint8_t *put_kv(uint8_t *p, uint8_t tag, const otel_attr *a)
{
    size_t kl = otel_otlp_key_len(a);
    if (a->type == OTEL_ATTR_STRING) {
        size_t vl = otel_otlp_value_len(a);
        if (kl > 0 && kl + vl <= SHORT_KV_MAX) { /* what most attributes are */
            p = put_short_kv_head(p, tag, kl + vl + 6, a, kl, vl + 2);
            p[0] = OTEL_PB_ANY_STRING;
            p[1] = (uint8_t)vl;
            otel_copy_small(p + 2, a->v.s.ptr, vl);
            return p + 2 + vl;
        }
    } else if (a->type == OTEL_ATTR_INT && kl > 0 && kl <= SHORT_KV_MAX - 10) {
        size_t vs = otel_pb_varint_size((uint64_t)a->v.i);
        p = put_short_kv_head(p, tag, kl + vs + 5, a, kl, vs + 1);
        *p++ = OTEL_PB_ANY_INT;
        return otel_pb_put_varint(p, (uint64_t)a->v.i);
    }
    size_t any = any_size(a);
    p = otel_pb_put_len(p, tag, kv_size(a, any));
    if (kl > 0)
        p = otel_pb_put_bytes(p, OTEL_PB_KV_KEY, a->key, kl);
    p = otel_pb_put_len(p, OTEL_PB_KV_VALUE, any);
    switch (a->type) {
    case OTEL_ATTR_STRING:
        p = otel_pb_put_bytes(p, OTEL_PB_ANY_STRING, a->v.s.ptr, otel_otlp_value_len(a));
        break;
    case OTEL_ATTR_STRING_ARRAY: /* put_array_kv */
        break;
    case OTEL_ATTR_BOOL:
        *p++ = OTEL_PB_ANY_BOOL;
        *p++ = a->v.b ? 1 : 0;
        break;
    case OTEL_ATTR_INT:
        *p++ = OTEL_PB_ANY_INT;
        p = otel_pb_put_varint(p, (uint64_t)a->v.i);
        break;
    case OTEL_ATTR_DOUBLE:
        *p++ = OTEL_PB_ANY_DOUBLE;
        p = otel_pb_put_double(p, a->v.d);
        break;
    }
    return p;
}

uint8_t *otel_pb_put_attrs(uint8_t *p, uint8_t tag, const otel_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p = attrs[i].type == OTEL_ATTR_STRING_ARRAY ? put_array_kv(p, tag, &attrs[i])
                                                    : put_kv(p, tag, &attrs[i]);
    return p;
}

static uint8_t *put_str_kv(uint8_t *p, uint8_t tag, const char *key, size_t kl, const char *value,
                           size_t vl)
{
    p = otel_pb_put_len(p, tag, str_kv_size(kl, vl));
    if (kl > 0)
        p = otel_pb_put_bytes(p, OTEL_PB_KV_KEY, key, kl);
    p = otel_pb_put_len(p, OTEL_PB_KV_VALUE, otel_pb_len_field_size(vl));
    return otel_pb_put_bytes(p, OTEL_PB_ANY_STRING, value, vl);
}

uint8_t *otel_pb_put_resource(uint8_t *p, uint8_t tag, const otel_resource *r, size_t size)
{
    p = otel_pb_put_len(p, tag, size);
    size_t nr = otel_resource_count(r);
    for (size_t i = 0; i < nr; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        p = put_str_kv(p, OTEL_PB_RES_ATTRIBUTES, key, otel_otlp_str_len(key), value,
                       otel_otlp_str_len(value));
    }
    return p;
}
