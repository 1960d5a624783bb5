/* json_write.h - JSON as the OTLP/JSON encoders write it by hand. Not a public header. */
/* The JSON Protobuf Encoding of OTLP (opentelemetry-proto
 * docs/specification.md): the proto3 JSON mapping with lowerCamelCase
 * keys, hex trace and span ids, integer enums and 64-bit integers as
 * decimal strings. */
#ifndef OTEL_JSON_WRITE_H
#define OTEL_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mhd-otel/otel.h>

/* ---- the output window -----------------------------------------------------
 * A pass writes into buf (cap bytes) and counts in len every byte it would
 * write: what does not fit is only counted, and once one write did not fit
 * none after it is made. When len ends above cap, the buffer grows to len
 * and the pass runs again: two passes at most, one once the buffer is warm,
 * and no check of the room left in the writers above these few. */
typedef struct otel_json_out {
    char *buf;
    size_t cap;
    size_t len;
} otel_json_out;

static inline void otel_json_put(otel_json_out *w, const void *s, size_t n)
{
    if (n > 0 && w->len <= w->cap && n <= w->cap - w->len)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void otel_json_put_char(otel_json_out *w, char c)
{
    if (w->len < w->cap)
        w->buf[w->len] = c;
    w->len++;
}

/* A string literal, whose bytes need no escaping. */
#define OTEL_JSON_LIT(w, lit) otel_json_put((w), (lit), sizeof(lit) - 1)

/* The key of an object's member, '"name":', after a ',' unless it is the
 * object's first (*more false). */
static inline void otel_json_put_field(otel_json_out *w, bool *more, const char *quoted, size_t n)
{
    if (*more)
        otel_json_put_char(w, ',');
    *more = true;
    otel_json_put(w, quoted, n);
}

#define OTEL_JSON_FIELD(w, more, name)                                                             \
    otel_json_put_field((w), (more), "\"" name "\":", sizeof(name) + 2)

/* ---- values ----------------------------------------------------------------- */

/* s (n bytes; NULL is "") as a JSON string. Runs of bytes that need no
 * escape, valid UTF-8 sequences included, are copied whole; a byte that is
 * not UTF-8 becomes U+FFFD, as otel_utf8_clean would make it. */
void otel_json_put_str(otel_json_out *w, const char *s, size_t n);
/* A NUL-terminated string (NULL: ""). */
void otel_json_put_cstr(otel_json_out *w, const char *s);
/* Integers as JSON numbers. */
void otel_json_put_u64(otel_json_out *w, uint64_t v);
void otel_json_put_i64(otel_json_out *w, int64_t v);
/* A 64-bit integer as the proto3 JSON mapping wants it: a decimal string. */
void otel_json_put_u64_str(otel_json_out *w, uint64_t v);
/* A double as a JSON number that reads back as the same double, or one of
 * the strings the proto3 JSON mapping has for what JSON lacks. */
void otel_json_put_double(otel_json_out *w, double d);
/* n bytes (16 at most) of id as a lowercase hex string (OTLP/JSON: not base64). */
void otel_json_put_id(otel_json_out *w, const uint8_t *id, size_t n);

/* ---- common.v1 and resource.v1 --------------------------------------------- */

/* The "attributes" member of attrs[0..n) (KeyValue objects), left out when
 * n is 0. */
void otel_json_put_attrs(otel_json_out *w, bool *more, const otel_attr *attrs, size_t n);
/* r's Resource object: {"attributes":[...]} ({} when r has none or is NULL). */
void otel_json_put_resource(otel_json_out *w, const otel_resource *r);

#endif /* OTEL_JSON_WRITE_H */
