/* json_write.c - the JSON writers of json_write.h that are not inline: strings, numbers, ids,
 * attributes, resources. */
#include "json_write.h"

#include "otlp_common.h"

#include "../core/text.h"
#include "../core/utf8.h"

#include <math.h>
#include <stdio.h>

/* ---- values ------------------------------------------------------------------- */

/* The escape of an ASCII byte JSON strings cannot hold as it is (RFC 8259
 * section 7: '"', '\\' and the controls U+0000 to U+001F). */
static void put_escape(otel_json_out *w, unsigned char c)
{
    char e[6] = {'\\', 'u', '0', '0'};
    switch (c) {
    case '"':
        OTEL_JSON_LIT(w, "\\\"");
        return;
    case '\\':
        OTEL_JSON_LIT(w, "\\\\");
        return;
    case '\b':
        OTEL_JSON_LIT(w, "\\b");
        return;
    case '\f':
        OTEL_JSON_LIT(w, "\\f");
        return;
    case '\n':
        OTEL_JSON_LIT(w, "\\n");
        return;
    case '\r':
        OTEL_JSON_LIT(w, "\\r");
        return;
    case '\t':
        OTEL_JSON_LIT(w, "\\t");
        return;
    }
    otel_hex_put(e + 4, c, false);
    otel_json_put(w, e, sizeof(e));
}

/* s (n bytes; NULL is "") as a JSON string. Runs of bytes that need no
 * escape, valid UTF-8 sequences included, are copied whole; a byte that is
 * not UTF-8 becomes U+FFFD, as otel_utf8_clean would make it. */
void otel_json_put_str(otel_json_out *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    const unsigned char *end = p + (s != NULL ? n : 0);
    otel_json_put_char(w, '"');
    for (;;) {
        const unsigned char *run = p;
        while (p < end) {
            if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
                p++;
                continue;
            }
            size_t k = *p >= 0x80 ? otel_utf8_seq_len(p, (size_t)(end - p)) : 0;
            if (k == 0)
                break;
            p += k;
        }
        otel_json_put(w, run, (size_t)(p - run));
        if (p == end)
            break;
        if (*p >= 0x80)
            OTEL_JSON_LIT(w, "\xef\xbf\xbd"); /* U+FFFD */
        else
            put_escape(w, *p);
        p++;
    }
    otel_json_put_char(w, '"');
}

/* A NUL-terminated string (NULL: ""). */
void otel_json_put_cstr(otel_json_out *w, const char *s)
{
    otel_json_put_str(w, s, otel_otlp_str_len(s));
}

void otel_json_put_u64(otel_json_out *w, uint64_t v)
{
    char d[20];
    size_t i = sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    otel_json_put(w, d + i, sizeof(d) - i);
}

void otel_json_put_i64(otel_json_out *w, int64_t v)
{
    if (v < 0) {
        otel_json_put_char(w, '-');
        otel_json_put_u64(w, (uint64_t)0 - (uint64_t)v); /* INT64_MIN too */
    } else {
        otel_json_put_u64(w, (uint64_t)v);
    }
}

/* A 64-bit integer as the proto3 JSON mapping wants it: a decimal string. */
void otel_json_put_u64_str(otel_json_out *w, uint64_t v)
{
    otel_json_put_char(w, '"');
    otel_json_put_u64(w, v);
    otel_json_put_char(w, '"');
}

/* A double as a JSON number that reads back as the same double, or one of
 * the strings the proto3 JSON mapping has for what JSON lacks. */
void otel_json_put_double(otel_json_out *w, double d)
{
    if (isnan(d)) {
        OTEL_JSON_LIT(w, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        if (d > 0)
            OTEL_JSON_LIT(w, "\"Infinity\"");
        else
            OTEL_JSON_LIT(w, "\"-Infinity\"");
        return;
    }
    char s[48], num[48];
    int n = snprintf(s, sizeof(s), "%.17g", d);
    size_t k = 0;
    /* Digits, sign and exponent as printed; the radix character of the
     * locale (a program may have set LC_NUMERIC, and it may be several
     * bytes) becomes the '.' of JSON. */
    for (int i = 0; i < n && i < (int)sizeof(s); i++) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E')
            num[k++] = c;
        else if (k == 0 || num[k - 1] != '.')
            num[k++] = '.';
    }
    otel_json_put(w, num, k);
}

/* n bytes of id as a lowercase hex string (OTLP/JSON: not base64). */
void otel_json_put_id(otel_json_out *w, const uint8_t *id, size_t n)
{
    char hex[32]; /* n <= 16 */
    for (size_t i = 0; i < n; i++)
        otel_hex_put(hex + 2 * i, id[i], false);
    otel_json_put_char(w, '"');
    otel_json_put(w, hex, 2 * n);
    otel_json_put_char(w, '"');
}

/* ---- common.v1 and resource.v1 ----------------------------------------------- */

/* {"values":[...]} of a string array: one AnyValue{stringValue} each. */
__attribute__((noinline, cold)) static void put_str_array(otel_json_out *w, const otel_attr *a)
{
    const char *pos = NULL, *e;
    size_t len;
    bool first = true;
    otel_json_put_char(w, '{');
    while ((e = otel_attr_array_next(a, &pos, &len)) != NULL) {
        if (first)
            OTEL_JSON_LIT(w, "\"values\":[{\"stringValue\":");
        else
            OTEL_JSON_LIT(w, ",{\"stringValue\":");
        otel_json_put_str(w, e, len);
        otel_json_put_char(w, '}');
        first = false;
    }
    if (!first)
        otel_json_put_char(w, ']');
    otel_json_put_char(w, '}');
}

/* The AnyValue of attribute a: the one member set. */
static void put_any(otel_json_out *w, const otel_attr *a)
{
    switch (a->type) {
    case OTEL_ATTR_STRING:
        OTEL_JSON_LIT(w, "{\"stringValue\":"); /* a set oneof member: "" too */
        otel_json_put_str(w, a->v.s.ptr, otel_otlp_value_len(a));
        break;
    case OTEL_ATTR_STRING_ARRAY:
        OTEL_JSON_LIT(w, "{\"arrayValue\":");
        put_str_array(w, a);
        break;
    case OTEL_ATTR_BOOL:
        if (a->v.b)
            OTEL_JSON_LIT(w, "{\"boolValue\":true");
        else
            OTEL_JSON_LIT(w, "{\"boolValue\":false");
        break;
    case OTEL_ATTR_INT:
        OTEL_JSON_LIT(w, "{\"intValue\":\"");
        otel_json_put_i64(w, a->v.i);
        otel_json_put_char(w, '"');
        break;
    case OTEL_ATTR_DOUBLE:
        OTEL_JSON_LIT(w, "{\"doubleValue\":");
        otel_json_put_double(w, a->v.d);
        break;
    default:
        otel_json_put_char(w, '{'); /* no member set: an empty AnyValue */
        break;
    }
    otel_json_put_char(w, '}');
}

/* A KeyValue up to its value: {"key":...,"value": (no key when empty). */
static void put_kv_head(otel_json_out *w, const char *key, size_t kl)
{
    if (kl > 0) {
        OTEL_JSON_LIT(w, "{\"key\":");
        otel_json_put_str(w, key, kl);
        OTEL_JSON_LIT(w, ",\"value\":");
    } else {
        OTEL_JSON_LIT(w, "{\"value\":");
    }
}

/* The "attributes" member of attrs[0..n), left out when n is 0. */
void otel_json_put_attrs(otel_json_out *w, bool *more, const otel_attr *attrs, size_t n)
{
    if (n == 0)
        return;
    OTEL_JSON_FIELD(w, more, "attributes");
    otel_json_put_char(w, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            otel_json_put_char(w, ',');
        put_kv_head(w, attrs[i].key, otel_otlp_key_len(&attrs[i]));
        put_any(w, &attrs[i]);
        otel_json_put_char(w, '}');
    }
    otel_json_put_char(w, ']');
}

void otel_json_put_resource(otel_json_out *w, const otel_resource *r)
{
    size_t nr = otel_resource_count(r);
    otel_json_put_char(w, '{');
    if (nr > 0)
        OTEL_JSON_LIT(w, "\"attributes\":[");
    for (size_t i = 0; i < nr; i++) {
        const char *key, *value;
        otel_resource_at(r, i, &key, &value);
        if (i > 0)
            otel_json_put_char(w, ',');
        put_kv_head(w, key, otel_otlp_str_len(key));
        OTEL_JSON_LIT(w, "{\"stringValue\":");
        otel_json_put_cstr(w, value);
        OTEL_JSON_LIT(w, "}}");
    }
    if (nr > 0)
        otel_json_put_char(w, ']');
    otel_json_put_char(w, '}');
}
