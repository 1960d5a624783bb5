/* pb_write.h - the protobuf wire format as the OTLP encoders write it by hand. Not a public header.
 */
/* Sizes first (arithmetic only), then writers that put a field at p and
 * return the byte after it; the caller has made room for the size it
 * computed. Fields go out in ascending number, the order protobuf-c packs
 * them; proto3 scalars, strings and bytes equal to zero or empty are left
 * out, a set oneof member (AnyValue) and a present message never are. The
 * messages of common.v1 and resource.v1 that traces and metrics share are
 * here too; tags of other messages are the encoders' own. */
#ifndef OTEL_PB_WRITE_H
#define OTEL_PB_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mhd-otel/otel.h>

#include "../core/copy.h"
#include "otlp_common.h"

/* Wire types, and a field's tag: (field number << 3) | wire type, one byte
 * for numbers below 16. */
#define OTEL_PB_VARINT 0
#define OTEL_PB_I64 1
#define OTEL_PB_LEN 2
#define OTEL_PB_I32 5
#define OTEL_PB_TAG(field, wire) ((uint8_t)(((field) << 3) | (wire)))

/* resource.v1.Resource (dropped_attributes_count = 2 always 0) */
#define OTEL_PB_RES_ATTRIBUTES OTEL_PB_TAG(1, OTEL_PB_LEN)
/* common.v1.InstrumentationScope (attributes = 3, dropped = 4 unused) */
#define OTEL_PB_SCOPE_NAME OTEL_PB_TAG(1, OTEL_PB_LEN)
#define OTEL_PB_SCOPE_VERSION OTEL_PB_TAG(2, OTEL_PB_LEN)
/* common.v1.KeyValue */
#define OTEL_PB_KV_KEY OTEL_PB_TAG(1, OTEL_PB_LEN)
#define OTEL_PB_KV_VALUE OTEL_PB_TAG(2, OTEL_PB_LEN)
/* common.v1.AnyValue, oneof value */
#define OTEL_PB_ANY_STRING OTEL_PB_TAG(1, OTEL_PB_LEN)
#define OTEL_PB_ANY_BOOL OTEL_PB_TAG(2, OTEL_PB_VARINT)
#define OTEL_PB_ANY_INT OTEL_PB_TAG(3, OTEL_PB_VARINT)
#define OTEL_PB_ANY_DOUBLE OTEL_PB_TAG(4, OTEL_PB_I64)
#define OTEL_PB_ANY_ARRAY OTEL_PB_TAG(5, OTEL_PB_LEN)
/* common.v1.ArrayValue */
#define OTEL_PB_ARRAY_VALUES OTEL_PB_TAG(1, OTEL_PB_LEN)

/* ---- sizes ---------------------------------------------------------------- */

/* Bytes of v as a varint: 1 to 10. */
static inline size_t otel_pb_varint_size(uint64_t v)
{
    if (v < 0x80)
        return 1; /* most lengths and counts */
#if defined(__GNUC__)
    return (size_t)((63 - __builtin_clzll(v)) * 9 + 73) / 64;
#else
    size_t n = 2;
    while ((v >>= 7) >= 0x80)
        n++;
    return n;
#endif
}

/* An int32 or enum: negatives go out sign-extended, 10 bytes. */
static inline size_t otel_pb_int32_size(int32_t v)
{
    return v < 0 ? 10 : otel_pb_varint_size((uint32_t)v);
}

/* A length-delimited field with a one-byte tag and n bytes of payload. */
static inline size_t otel_pb_len_field_size(size_t n)
{
    return 1 + otel_pb_varint_size(n) + n;
}

/* A string or bytes field, left out when empty. */
static inline size_t otel_pb_opt_len_field_size(size_t n)
{
    return n > 0 ? otel_pb_len_field_size(n) : 0;
}

/* Bytes of the repeated KeyValue fields for attrs[0..n) (the strings
 * valid UTF-8, as the core keeps them). */
size_t otel_pb_attrs_size(const otel_attr *attrs, size_t n);

/* At least the bytes of the repeated KeyValue fields for attrs[0..n): the
 * room to write them in, without sizing each field. */
size_t otel_pb_attrs_bound(const otel_attr *attrs, size_t n);

/* Bytes of r's Resource message (NULL: none, 0). Its attributes are
 * strings, valid UTF-8 as otel_resource_set keeps them. */
size_t otel_pb_resource_size(const otel_resource *r);

/* ---- writing ---------------------------------------------------------------- */

static inline uint8_t *otel_pb_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Fixed-width fields are little-endian: one store where the host is. */
static inline uint8_t *otel_pb_put_fixed32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return p + 4;
}

static inline uint8_t *otel_pb_put_fixed64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
    return p + 8;
}

/* A double's bits as fixed64 (wire type I64). */
static inline uint8_t *otel_pb_put_double(uint8_t *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return otel_pb_put_fixed64(p, bits);
}

/* Tag and length of a length-delimited field of n bytes. */
static inline uint8_t *otel_pb_put_len(uint8_t *p, uint8_t tag, size_t n)
{
    *p++ = tag;
    if (n < 0x80) {
        *p++ = (uint8_t)n;
        return p;
    }
    return otel_pb_put_varint(p, n);
}

/* A string or bytes field, src may be NULL when n is 0. */
static inline uint8_t *otel_pb_put_bytes(uint8_t *p, uint8_t tag, const void *src, size_t n)
{
    p = otel_pb_put_len(p, tag, n);
    otel_copy_small(p, src, n);
    return p + n;
}

/* attrs[0..n) as repeated KeyValue fields tag. */
uint8_t *otel_pb_put_attrs(uint8_t *p, uint8_t tag, const otel_attr *attrs, size_t n);

/* r's Resource message as field tag; size is otel_pb_resource_size(r). */
uint8_t *otel_pb_put_resource(uint8_t *p, uint8_t tag, const otel_resource *r, size_t size);

#endif /* OTEL_PB_WRITE_H */
