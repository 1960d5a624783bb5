/* test_otlp_json.c - tests of the OTLP/JSON encoder and response decoder (exporter/otlp_json.c). */
/* What the output must be: the "JSON Protobuf Encoding" section of the OTLP
 * specification (opentelemetry-proto docs/specification.md, "OTLP/HTTP"):
 * the proto3 JSON mapping (protobuf.dev, "JSON Mapping") with lowerCamelCase
 * keys, traceId / spanId / parentSpanId as hex strings instead of base64,
 * enums (kind, status code) as integers only; from the proto3 mapping,
 * int64 / fixed64 values (times, intValue) as decimal strings, uint32 /
 * fixed32 (counts, flags) as numbers, doubles as numbers or "NaN",
 * "Infinity", "-Infinity". Strings are RFC 8259 section 7 strings in UTF-8
 * (section 8.1). Every request is parsed again with cJSON, and compared
 * member by member with what the protobuf encoder packs for the same
 * spans, unpacked by protobuf-c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/alloc.h"
#include "../../core/utf8.h"
#include "../../exporter/otlp_encode.h"
#include "../../exporter/otlp_json.h"
#include "../lib/otlp_pb.h"
#include "../lib/span_data.h"
#include "../../core/test_hooks.h"

/* ---- helpers ------------------------------------------------------------- */

static int reset_alloc(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    return 0;
}

/* The output is UTF-8 throughout and holds no raw control character (RFC
 * 8259 section 7: they must be escaped). */
static void assert_clean_text(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        assert_true(p[i] >= 0x20);
        size_t k = p[i] < 0x80 ? 1 : otel_utf8_seq_len(p + i, n - i);
        assert_true(k > 0);
        i += k;
    }
}

/* Parse the whole of data as one JSON value. Caller frees with cJSON_Delete. */
static cJSON *parse_all(const uint8_t *data, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, len, &end, false);
    assert_non_null(root);
    assert_ptr_equal(end, (const char *)data + len);
    return root;
}

/* Encode spans with j; the text (borrowed from j) into *text when not NULL.
 * Returns the parsed request; free with cJSON_Delete. */
static cJSON *encode_with(otel_otlp_json *j, otel_span_data *const *spans, size_t n,
                          const char **text, size_t *text_len)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(otel_otlp_json_encode(j, sd_ro(spans), n, &data, &len), OTEL_OK);
    assert_non_null(data);
    assert_true(len > 0);
    assert_clean_text(data, len);
    if (text != NULL)
        *text = (const char *)data;
    if (text_len != NULL)
        *text_len = len;
    return parse_all(data, len);
}

/* Encode with a fresh encoder. */
static cJSON *encode(otel_span_data *const *spans, size_t n)
{
    otel_otlp_json *j = NULL;
    assert_int_equal(otel_otlp_json_new(&j), OTEL_OK);
    cJSON *root = encode_with(j, spans, n, NULL, NULL);
    otel_otlp_json_del(j);
    return root;
}

/* The same as text, copied out of a fresh encoder: free with free(). */
static char *encode_text(otel_span_data *const *spans, size_t n)
{
    otel_otlp_json *j = NULL;
    assert_int_equal(otel_otlp_json_new(&j), OTEL_OK);
    const char *text;
    size_t len;
    cJSON_Delete(encode_with(j, spans, n, &text, &len));
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    copy[len] = '\0';
    otel_otlp_json_del(j);
    return copy;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    assert_true(cJSON_IsObject(obj));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        fail_msg("no member \"%s\"", key);
    return v;
}

static const char *get_str(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static bool has(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

static const cJSON *at(const cJSON *arr, int i)
{
    assert_true(cJSON_IsArray(arr));
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    assert_non_null(v);
    return v;
}

/* The spans of a request with one resource. */
static const cJSON *only_spans(const cJSON *root)
{
    const cJSON *rss = get(root, "resourceSpans");
    assert_int_equal(cJSON_GetArraySize(rss), 1);
    const cJSON *sss = get(at(rss, 0), "scopeSpans");
    assert_int_equal(cJSON_GetArraySize(sss), 1);
    return get(at(sss, 0), "spans");
}

static const cJSON *first_span(const cJSON *root)
{
    return at(only_spans(root), 0);
}

/* The value (an AnyValue object) of the attribute named key in a list. */
static const cJSON *attr_value(const cJSON *attrs, const char *key)
{
    for (int i = 0; i < cJSON_GetArraySize(attrs); i++) {
        const cJSON *kv = at(attrs, i);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");
        if ((k == NULL && key[0] == '\0') || (k != NULL && strcmp(k->valuestring, key) == 0))
            return get(kv, "value");
    }
    fail_msg("no attribute \"%s\"", key);
    return NULL;
}

/* An AnyValue holds exactly member, and returns it. */
static const cJSON *any_member(const cJSON *any, const char *member)
{
    assert_int_equal(cJSON_GetArraySize(any), 1);
    return get(any, member);
}

static void assert_members(const cJSON *obj, int n)
{
    assert_true(cJSON_IsObject(obj));
    assert_int_equal(cJSON_GetArraySize(obj), n);
}

/* ---- the same message as the protobuf encoder --------------------------------- */

static void assert_hex(const cJSON *v, const uint8_t *b, size_t n)
{
    char want[33];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        snprintf(want + 2 * i, 3, "%02x", b[i]);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, want);
}

static void assert_u64_str(const cJSON *v, uint64_t want)
{
    char s[24];
    snprintf(s, sizeof(s), "%" PRIu64, want);
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, s);
}

static void assert_num(const cJSON *v, double want)
{
    assert_true(cJSON_IsNumber(v));
    assert_true(v->valuedouble == want);
}

static void assert_any_same(const cJSON *v, const pb_any *a);

static void assert_kvs_same(const cJSON *obj, const char *name, pb_kv *const *kvs, size_t n,
                            int *members)
{
    if (n == 0) {
        assert_false(has(obj, name));
        return;
    }
    (*members)++;
    const cJSON *arr = get(obj, name);
    assert_int_equal(cJSON_GetArraySize(arr), n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *kv = at(arr, (int)i);
        int m = 1;
        if (kvs[i]->key[0] != '\0') {
            assert_string_equal(get_str(kv, "key"), kvs[i]->key);
            m++;
        }
        assert_members(kv, m);
        assert_any_same(get(kv, "value"), kvs[i]->value);
    }
}

static void assert_any_same(const cJSON *v, const pb_any *a)
{
    assert_non_null(a);
    if (a->value_case == ANY_NOT_SET) {
        assert_members(v, 0);
        return;
    }
    assert_members(v, 1);
    switch (a->value_case) {
    case ANY_STRING:
        assert_true(cJSON_IsString(get(v, "stringValue")));
        assert_string_equal(get_str(v, "stringValue"), a->string_value);
        break;
    case ANY_BOOL:
        assert_true(cJSON_IsBool(get(v, "boolValue")));
        assert_int_equal(cJSON_IsTrue(get(v, "boolValue")), a->bool_value);
        break;
    case ANY_INT: {
        char s[24];
        snprintf(s, sizeof(s), "%" PRId64, a->int_value);
        assert_string_equal(get_str(v, "intValue"), s);
        break;
    }
    case ANY_DOUBLE: {
        const cJSON *d = get(v, "doubleValue");
        if (isnan(a->double_value))
            assert_string_equal(d->valuestring, "NaN");
        else if (isinf(a->double_value))
            assert_string_equal(d->valuestring, a->double_value > 0 ? "Infinity" : "-Infinity");
        else {
            assert_true(cJSON_IsNumber(d));
            assert_memory_equal(&d->valuedouble, &a->double_value, sizeof(double));
        }
        break;
    }
    case ANY_ARRAY: {
        const cJSON *arr = get(v, "arrayValue");
        size_t n = a->array_value->n_values;
        assert_members(arr, n > 0 ? 1 : 0);
        for (size_t i = 0; i < n; i++)
            assert_any_same(at(get(arr, "values"), (int)i), a->array_value->values[i]);
        if (n > 0)
            assert_int_equal(cJSON_GetArraySize(get(arr, "values")), n);
        break;
    }
    default:
        fail_msg("value case %d", (int)a->value_case);
    }
}

/* The member name of obj when set (counted in *members), else none. */
static const cJSON *opt_member(const cJSON *obj, const char *name, bool set, int *members)
{
    if (!set) {
        assert_false(has(obj, name));
        return NULL;
    }
    (*members)++;
    return get(obj, name);
}

/* A string member, absent when empty. */
static void assert_opt_str(const cJSON *obj, const char *name, const char *want, int *members)
{
    const cJSON *v = opt_member(obj, name, want != NULL && want[0] != '\0', members);
    if (v != NULL)
        assert_string_equal(get_str(obj, name), want);
}

/* A number member, absent when 0. */
static void assert_opt_num(const cJSON *obj, const char *name, double want, int *members)
{
    const cJSON *v = opt_member(obj, name, want != 0, members);
    if (v != NULL)
        assert_num(v, want);
}

/* A fixed64 member, a string, absent when 0. */
static void assert_opt_u64(const cJSON *obj, const char *name, uint64_t want, int *members)
{
    const cJSON *v = opt_member(obj, name, want != 0, members);
    if (v != NULL)
        assert_u64_str(v, want);
}

static void assert_event_same(const cJSON *v, const pb_event *ev)
{
    int m = 0;
    assert_opt_u64(v, "timeUnixNano", ev->time_unix_nano, &m);
    assert_opt_str(v, "name", ev->name, &m);
    assert_kvs_same(v, "attributes", ev->attributes, ev->n_attributes, &m);
    assert_opt_num(v, "droppedAttributesCount", ev->dropped_attributes_count, &m);
    assert_members(v, m);
}

static void assert_link_same(const cJSON *v, const pb_link *l)
{
    int m = 2;
    assert_hex(get(v, "traceId"), l->trace_id.data, l->trace_id.len);
    assert_hex(get(v, "spanId"), l->span_id.data, l->span_id.len);
    assert_opt_str(v, "traceState", l->trace_state, &m);
    assert_kvs_same(v, "attributes", l->attributes, l->n_attributes, &m);
    assert_opt_num(v, "droppedAttributesCount", l->dropped_attributes_count, &m);
    assert_opt_num(v, "flags", l->flags, &m);
    assert_members(v, m);
}

/* Every member of span v is the field of m, and a field of m left out is
 * a member left out. */
static void assert_span_same(const cJSON *v, const pb_span *s)
{
    int m = 2;
    assert_hex(get(v, "traceId"), s->trace_id.data, s->trace_id.len);
    assert_hex(get(v, "spanId"), s->span_id.data, s->span_id.len);
    assert_opt_str(v, "traceState", s->trace_state, &m);
    if (s->parent_span_id.len > 0) {
        m++;
        assert_hex(get(v, "parentSpanId"), s->parent_span_id.data, s->parent_span_id.len);
    } else {
        assert_false(has(v, "parentSpanId"));
    }
    assert_opt_str(v, "name", s->name, &m);
    assert_opt_num(v, "kind", s->kind, &m);
    assert_opt_u64(v, "startTimeUnixNano", s->start_time_unix_nano, &m);
    assert_opt_u64(v, "endTimeUnixNano", s->end_time_unix_nano, &m);
    assert_kvs_same(v, "attributes", s->attributes, s->n_attributes, &m);
    assert_opt_num(v, "droppedAttributesCount", s->dropped_attributes_count, &m);
    if (s->n_events > 0) {
        m++;
        assert_int_equal(cJSON_GetArraySize(get(v, "events")), s->n_events);
        for (size_t i = 0; i < s->n_events; i++)
            assert_event_same(at(get(v, "events"), (int)i), s->events[i]);
    } else {
        assert_false(has(v, "events"));
    }
    assert_opt_num(v, "droppedEventsCount", s->dropped_events_count, &m);
    if (s->n_links > 0) {
        m++;
        assert_int_equal(cJSON_GetArraySize(get(v, "links")), s->n_links);
        for (size_t i = 0; i < s->n_links; i++)
            assert_link_same(at(get(v, "links"), (int)i), s->links[i]);
    } else {
        assert_false(has(v, "links"));
    }
    assert_opt_num(v, "droppedLinksCount", s->dropped_links_count, &m);
    if (s->status != NULL) {
        int sm = 0;
        const cJSON *st = get(v, "status");
        m++;
        assert_opt_str(st, "message", s->status->message, &sm);
        assert_opt_num(st, "code", s->status->code, &sm);
        assert_members(st, sm);
    } else {
        assert_false(has(v, "status"));
    }
    assert_opt_num(v, "flags", s->flags, &m);
    assert_members(v, m);
}

/* The JSON request root carries the very message the protobuf encoder packs
 * for spans: the same groups, scopes, spans and fields. */
static void assert_same_as_protobuf(const cJSON *root, otel_span_data *const *spans, size_t n)
{
    otel_otlp_encoder *e = NULL;
    const uint8_t *data;
    size_t len;
    assert_int_equal(otel_otlp_encoder_new(&e), OTEL_OK);
    assert_int_equal(otel_otlp_encode(e, sd_ro(spans), n, &data, &len), OTEL_OK);
    pb_request *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, len,
                                                                                         data);
    assert_non_null(req);
    otel_otlp_encoder_del(e);

    assert_members(root, 1);
    const cJSON *rss = get(root, "resourceSpans");
    assert_int_equal(cJSON_GetArraySize(rss), req->n_resource_spans);
    for (size_t g = 0; g < req->n_resource_spans; g++) {
        const pb_resource_spans *rs = req->resource_spans[g];
        const cJSON *jrs = at(rss, (int)g);
        int m = 0, rm = 0;
        assert_non_null(rs->resource);
        m++;
        const cJSON *res = get(jrs, "resource");
        assert_kvs_same(res, "attributes", rs->resource->attributes, rs->resource->n_attributes,
                        &rm);
        assert_opt_num(res, "droppedAttributesCount", rs->resource->dropped_attributes_count, &rm);
        assert_members(res, rm);
        assert_opt_str(jrs, "schemaUrl", rs->schema_url, &m);
        m++;
        const cJSON *sss = get(jrs, "scopeSpans");
        assert_int_equal(cJSON_GetArraySize(sss), rs->n_scope_spans);
        for (size_t k = 0; k < rs->n_scope_spans; k++) {
            const cJSON *jss = at(sss, (int)k);
            int sm = 2, cm = 0;
            const cJSON *scope = get(jss, "scope");
            assert_opt_str(scope, "name", rs->scope_spans[k]->scope->name, &cm);
            assert_opt_str(scope, "version", rs->scope_spans[k]->scope->version, &cm);
            assert_members(scope, cm);
            assert_opt_str(jss, "schemaUrl", rs->scope_spans[k]->schema_url, &sm);
            assert_members(jss, sm);
            const cJSON *js = get(jss, "spans");
            assert_int_equal(cJSON_GetArraySize(js), rs->scope_spans[k]->n_spans);
            for (size_t i = 0; i < rs->scope_spans[k]->n_spans; i++)
                assert_span_same(at(js, (int)i), rs->scope_spans[k]->spans[i]);
        }
        assert_members(jrs, m);
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
}

/* The raw text of the doubleValue of the first attribute after "key":"<key>"
 * in text, into out (cap bytes). */
static void raw_double(const char *text, const char *key, char *out, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof(pat), "{\"key\":\"%s\",\"value\":{\"doubleValue\":", key);
    const char *p = strstr(text, pat);
    assert_non_null(p);
    p += strlen(pat);
    size_t n = strcspn(p, "}");
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = '\0';
}

/* s is a number by RFC 8259 section 6: [ "-" ] int [ frac ] [ exp ]. */
static bool is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* ---- encoder ----------------------------------------------------------------- */

static void test_otel_otlp_json_new_and_del(void **state)
{
    (void)state;
    otel_otlp_json *j = NULL;
    assert_int_equal(otel_otlp_json_new(&j), OTEL_OK);
    assert_non_null(j);
    otel_otlp_json_del(j);
    otel_otlp_json_del(NULL);
}

/* The whole text of a bare root span, to the byte. */
static void test_otel_otlp_json_encode_root_span_text(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "a", 1);
    char *text = encode_text(&s, 1);
    assert_string_equal(text, "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"scope\":"
                              "{\"name\":\"mhd-otel\",\"version\":\"" OTEL_SDK_VERSION "\"},"
                              "\"spans\":[{\"traceId\":\"a3a4a5a6a7a8a9aaabacadaeafb0b1b2\","
                              "\"spanId\":\"0001191a1b1c1d1e\",\"name\":\"a\",\"kind\":2,"
                              "\"startTimeUnixNano\":\"1764000000123456790\","
                              "\"endTimeUnixNano\":\"1764000000124691357\",\"flags\":257}]}]}]}");
    free(text);
    free(s);
}

static void test_otel_otlp_json_encode_ids_hex(void **state)
{
    (void)state;
    otel_span_data *spans[2];
    spans[0] = sd_span(NULL, "root", 2);
    spans[1] = sd_span(NULL, "child", 3);
    static const uint8_t tid[16] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                                    0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
    memcpy(spans[1]->ctx.trace_id, tid, 16);
    static const uint8_t sid[8] = {0x00, 0x0f, 0xa0, 0xff, 0x10, 0x01, 0xab, 0xcd};
    memcpy(spans[1]->ctx.span_id, sid, 8);
    sd_set_parent(spans[1], false);
    cJSON *root = encode(spans, 2);
    const cJSON *r = at(only_spans(root), 0), *c = at(only_spans(root), 1);
    assert_false(has(r, "parentSpanId")); /* a root span: none, not "" */
    assert_string_equal(get_str(c, "traceId"), "5b8efff798038103d269b633813fc60c");
    assert_string_equal(get_str(c, "spanId"), "000fa0ff1001abcd");
    assert_string_equal(get_str(c, "parentSpanId"), "c0c1c2c3c4c5c6c7");
    assert_same_as_protobuf(root, spans, 2);
    cJSON_Delete(root);
    sd_free_spans(spans, 2);
}

static void test_otel_otlp_json_encode_kinds_integers(void **state)
{
    (void)state;
    otel_span_data *spans[6];
    for (int k = 0; k < 6; k++) {
        spans[k] = sd_span(NULL, "k", (unsigned)k);
        spans[k]->kind = (otel_span_kind)k; /* 0: unspecified, left out */
    }
    cJSON *root = encode(spans, 6);
    const cJSON *arr = only_spans(root);
    assert_false(has(at(arr, 0), "kind"));
    for (int k = 1; k < 6; k++)
        assert_num(get(at(arr, k), "kind"), k);
    assert_true(cJSON_IsNumber(get(at(arr, 2), "kind"))); /* not "SPAN_KIND_SERVER" */
    assert_same_as_protobuf(root, spans, 6);
    cJSON_Delete(root);
    sd_free_spans(spans, 6);
}

static void test_otel_otlp_json_encode_times_strings(void **state)
{
    (void)state;
    otel_span_data *spans[2];
    spans[0] = sd_span(NULL, "t", 1);
    spans[0]->start_ns = (UINT64_C(1) << 53) + 1; /* a double would round it */
    spans[0]->end_ns = UINT64_MAX;
    spans[1] = sd_span(NULL, "zero", 2);
    spans[1]->start_ns = 0;
    spans[1]->end_ns = 0;
    cJSON *root = encode(spans, 2);
    const cJSON *arr = only_spans(root);
    assert_string_equal(get_str(at(arr, 0), "startTimeUnixNano"), "9007199254740993");
    assert_string_equal(get_str(at(arr, 0), "endTimeUnixNano"), "18446744073709551615");
    assert_false(has(at(arr, 1), "startTimeUnixNano"));
    assert_false(has(at(arr, 1), "endTimeUnixNano"));
    assert_same_as_protobuf(root, spans, 2);
    cJSON_Delete(root);
    sd_free_spans(spans, 2);
}

static void test_otel_otlp_json_encode_attributes(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "a", 7);
    static const char arr[] = "GET\0\0p\xc3\xa4th"; /* "GET", "", "päth" */
    sd_attr_str(sd_next_attr(s), "url.path", "/hello/w\xc3\xb6rld");
    sd_attr_str(sd_next_attr(s), "empty", "");
    sd_attr_bool(sd_next_attr(s), "yes", true);
    sd_attr_bool(sd_next_attr(s), "no", false);
    sd_attr_int(sd_next_attr(s), "min", INT64_MIN);
    sd_attr_int(sd_next_attr(s), "max", INT64_MAX);
    sd_attr_int(sd_next_attr(s), "zero", 0);
    sd_attr_int(sd_next_attr(s), "neg", -42);
    sd_attr_double(sd_next_attr(s), "pi", 3.141592653589793);
    sd_attr_str_array(sd_next_attr(s), "methods", arr, sizeof(arr), 3);
    sd_attr_str_array(sd_next_attr(s), "none", "", 0, 0);
    s->dropped_attrs = 9;
    cJSON *root = encode(&s, 1);
    const cJSON *span = first_span(root);
    const cJSON *attrs = get(span, "attributes");
    assert_int_equal(cJSON_GetArraySize(attrs), 11);
    assert_string_equal(get_str(at(attrs, 0), "key"), "url.path"); /* in order */
    assert_string_equal(any_member(attr_value(attrs, "url.path"), "stringValue")->valuestring,
                        "/hello/w\xc3\xb6rld");
    assert_string_equal(any_member(attr_value(attrs, "empty"), "stringValue")->valuestring, "");
    assert_true(cJSON_IsTrue(any_member(attr_value(attrs, "yes"), "boolValue")));
    assert_true(cJSON_IsFalse(any_member(attr_value(attrs, "no"), "boolValue")));
    assert_string_equal(any_member(attr_value(attrs, "min"), "intValue")->valuestring,
                        "-9223372036854775808");
    assert_string_equal(any_member(attr_value(attrs, "max"), "intValue")->valuestring,
                        "9223372036854775807");
    assert_string_equal(any_member(attr_value(attrs, "zero"), "intValue")->valuestring, "0");
    assert_string_equal(any_member(attr_value(attrs, "neg"), "intValue")->valuestring, "-42");
    assert_num(any_member(attr_value(attrs, "pi"), "doubleValue"), 3.141592653589793);
    const cJSON *values = get(any_member(attr_value(attrs, "methods"), "arrayValue"), "values");
    assert_int_equal(cJSON_GetArraySize(values), 3);
    assert_string_equal(get_str(at(values, 0), "stringValue"), "GET");
    assert_string_equal(get_str(at(values, 1), "stringValue"), "");
    assert_string_equal(get_str(at(values, 2), "stringValue"), "p\xc3\xa4th");
    assert_members(any_member(attr_value(attrs, "none"), "arrayValue"), 0);
    assert_num(get(span, "droppedAttributesCount"), 9);
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_otlp_json_encode_doubles(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        double v;
    } cases[] = {
        {"pi", 3.141592653589793},
        {"tenth", 0.1},
        {"neg_zero", -0.0},
        {"one", 1.0},
        {"big", 1e300},
        {"huge", 1.7976931348623157e308},
        {"tiny", 5e-324},
        {"small", -2.5e-310},
        {"int_like", 1e21},
        {"third", 1.0 / 3},
        {"neg", -123456.789e-7},
        {"two53", 9007199254740993.0},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    otel_span_data *s = sd_span(NULL, "d", 1);
    for (size_t i = 0; i < n; i++)
        sd_attr_double(sd_next_attr(s), cases[i].key, cases[i].v);
    sd_attr_double(sd_next_attr(s), "nan", NAN);
    sd_attr_double(sd_next_attr(s), "inf", INFINITY);
    sd_attr_double(sd_next_attr(s), "ninf", -INFINITY);
    char *text = encode_text(&s, 1);
    for (size_t i = 0; i < n; i++) {
        char raw[64];
        raw_double(text, cases[i].key, raw, sizeof(raw));
        if (!is_json_number(raw))
            fail_msg("%s: %s is not a JSON number", cases[i].key, raw);
        double back = strtod(raw, NULL);
        assert_memory_equal(&back, &cases[i].v, sizeof(double)); /* reads back the same */
    }
    assert_non_null(strstr(text, "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}}"));
    assert_non_null(strstr(text, "{\"key\":\"inf\",\"value\":{\"doubleValue\":\"Infinity\"}}"));
    assert_non_null(strstr(text, "{\"key\":\"ninf\",\"value\":{\"doubleValue\":\"-Infinity\"}}"));
    cJSON *root = parse_all((const uint8_t *)text, strlen(text));
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(text);
    free(s);
}

static int reset_locale(void **state)
{
    (void)state;
    setlocale(LC_NUMERIC, "C");
    return 0;
}

/* A program that set LC_NUMERIC to a locale whose radix is ',' (de_DE) or
 * the two bytes of U+066B (ps_AF) still gets JSON numbers. Skipped where
 * neither locale is installed. */
static void test_otel_otlp_json_encode_doubles_any_locale(void **state)
{
    (void)state;
    static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "ps_AF.UTF-8", "ps_AF.utf8"};
    otel_span_data *s = sd_span(NULL, "d", 1);
    sd_attr_double(sd_next_attr(s), "x", -1.5e-300);
    sd_attr_double(sd_next_attr(s), "y", 0.25);
    otel_otlp_json *j = NULL;
    assert_int_equal(otel_otlp_json_new(&j), OTEL_OK);
    int tried = 0;
    for (size_t i = 0; i < sizeof(locales) / sizeof(locales[0]); i++) {
        if (setlocale(LC_NUMERIC, locales[i]) == NULL)
            continue;
        tried++;
        const uint8_t *data;
        size_t len;
        assert_int_equal(otel_otlp_json_encode(j, sd_ro(&s), 1, &data, &len), OTEL_OK);
        setlocale(LC_NUMERIC, "C"); /* cJSON reads numbers in the locale too */
        char *text = malloc(len + 1);
        assert_non_null(text);
        memcpy(text, data, len);
        text[len] = '\0';
        char raw[64];
        raw_double(text, "x", raw, sizeof(raw));
        assert_string_equal(raw, "-1.5000000000000001e-300");
        raw_double(text, "y", raw, sizeof(raw));
        assert_string_equal(raw, "0.25");
        cJSON_Delete(parse_all(data, len));
        free(text);
    }
    otel_otlp_json_del(j);
    free(s);
    if (tried == 0)
        skip();
}

static void test_otel_otlp_json_encode_escaping(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "say \"hi\"\\now", 1);
    sd_attr_str(sd_next_attr(s), "ctl", "a\nb\rc\td\be\ff\x01g\x1fh\x7fi");
    sd_attr_str(sd_next_attr(s), "k\"ey\\", "v");
    sd_attr_str(sd_next_attr(s), "utf8",
                "w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8"); /* ö € 😀 U+2028 */
    sd_attr_str(sd_next_attr(s), "slash", "</script>");
    s->status = OTEL_STATUS_ERROR;
    s->status_message = "line1\nline2";
    char *text = encode_text(&s, 1);
    assert_non_null(strstr(text, "\"name\":\"say \\\"hi\\\"\\\\now\""));
    assert_non_null(strstr(text, "\"stringValue\":\"a\\nb\\rc\\td\\be\\ff\\u0001g\\u001fh\x7fi\""));
    assert_non_null(strstr(text, "{\"key\":\"k\\\"ey\\\\\",\"value\""));
    /* UTF-8 passes as it is: no \u escapes of it */
    assert_non_null(strstr(
        text, "\"stringValue\":\"w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8\""));
    assert_non_null(strstr(text, "\"stringValue\":\"</script>\""));
    assert_non_null(strstr(text, "\"message\":\"line1\\nline2\""));
    cJSON *root = parse_all((const uint8_t *)text, strlen(text));
    const cJSON *span = first_span(root);
    assert_string_equal(get_str(span, "name"), "say \"hi\"\\now");
    const cJSON *attrs = get(span, "attributes");
    assert_string_equal(get_str(attr_value(attrs, "ctl"), "stringValue"),
                        "a\nb\rc\td\be\ff\x01g\x1fh\x7fi");
    assert_string_equal(get_str(attr_value(attrs, "k\"ey\\"), "stringValue"), "v");
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(text);
    free(s);
}

/* Bytes that are not UTF-8 (a caller's tracestate, a key it promised was
 * clean) become U+FFFD, one each, so that the request stays JSON. */
static void test_otel_otlp_json_encode_invalid_utf8_replaced(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "bad\xff", 1);
    const char ts[] = "k=\xc3(v";
    memcpy(s->tracestate, ts, sizeof(ts));
    s->tracestate_len = (uint16_t)(sizeof(ts) - 1);
    sd_attr_str(sd_next_attr(s), "cut", "ab\xe2\x82"); /* a sequence cut short */
    sd_attr_str(sd_next_attr(s), "k\xc0\xaf", "overlong");
    sd_attr_str(sd_next_attr(s), "sur", "\xed\xa0\x80"); /* a surrogate, 3 bytes */
    char *text = encode_text(&s, 1);
    cJSON *root = parse_all((const uint8_t *)text, strlen(text));
    const cJSON *span = first_span(root);
    assert_string_equal(get_str(span, "name"), "bad\xef\xbf\xbd");
    assert_string_equal(get_str(span, "traceState"), "k=\xef\xbf\xbd(v");
    const cJSON *attrs = get(span, "attributes");
    assert_string_equal(get_str(attr_value(attrs, "cut"), "stringValue"),
                        "ab\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(get_str(attr_value(attrs, "k\xef\xbf\xbd\xef\xbf\xbd"), "stringValue"),
                        "overlong");
    assert_string_equal(get_str(attr_value(attrs, "sur"), "stringValue"),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    cJSON_Delete(root);
    free(text);
    free(s);
}

static void test_otel_otlp_json_encode_events(void **state)
{
    (void)state;
    otel_span_data *s = sd_full_span(NULL, 8); /* "exception" and "retry" */
    otel_attr ea;
    sd_attr_double(&ea, "delay", 1.5);
    sd_add_event(s, "late", (UINT64_C(1) << 60) + 3, &ea, 1, 0);
    sd_add_event(s, "", 0, NULL, 0, 0); /* nothing set: {} */
    s->dropped_events = 5;
    cJSON *root = encode(&s, 1);
    const cJSON *span = first_span(root);
    assert_int_equal(cJSON_GetArraySize(get(span, "attributes")), 4); /* not mixed in */
    const cJSON *evs = get(span, "events");
    assert_int_equal(cJSON_GetArraySize(evs), 4);

    const cJSON *ev = at(evs, 0);
    assert_members(ev, 4);
    assert_string_equal(get_str(ev, "name"), "exception");
    assert_string_equal(get_str(ev, "timeUnixNano"), "1764000000123456807");
    const cJSON *attrs = get(ev, "attributes");
    assert_int_equal(cJSON_GetArraySize(attrs), 2);
    assert_string_equal(get_str(attr_value(attrs, "exception.type"), "stringValue"), "E_IO");
    assert_string_equal(get_str(attr_value(attrs, "exception.message"), "stringValue"),
                        "disk gone");
    assert_num(get(ev, "droppedAttributesCount"), 1);

    ev = at(evs, 1);
    assert_members(ev, 3);
    assert_string_equal(get_str(ev, "name"), "retry");
    assert_string_equal(get_str(attr_value(get(ev, "attributes"), "retry"), "intValue"), "8");
    assert_false(has(ev, "droppedAttributesCount"));

    ev = at(evs, 2);
    assert_string_equal(get_str(ev, "timeUnixNano"), "1152921504606846979");
    assert_num(get(attr_value(get(ev, "attributes"), "delay"), "doubleValue"), 1.5);

    assert_members(at(evs, 3), 0);
    assert_num(get(span, "droppedEventsCount"), 5);
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
}

/* An event whose attributes lie past the span's ev_attrs has none. */
static void test_otel_otlp_json_encode_event_attrs_clamped(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "c", 1);
    otel_attr a;
    sd_attr_int(&a, "n", 1);
    sd_add_event(s, "in", 5, &a, 1, 0);
    sd_add_event(s, "past", 6, NULL, 0, 0);
    s->events[1].attr_first = 60000;
    s->events[1].attr_count = 3;
    cJSON *root = encode(&s, 1);
    const cJSON *evs = get(first_span(root), "events");
    assert_int_equal(cJSON_GetArraySize(get(at(evs, 0), "attributes")), 1);
    assert_false(has(at(evs, 1), "attributes"));
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_otlp_json_encode_links(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "linked", 1);
    sd_add_link(s, 1, "k=v", OTEL_TRACE_FLAG_SAMPLED, true);
    sd_add_link(s, 2, "", 0, false);
    s->dropped_links = 7;
    cJSON *root = encode(&s, 1);
    const cJSON *span = first_span(root);
    const cJSON *links = get(span, "links");
    assert_int_equal(cJSON_GetArraySize(links), 2);
    const cJSON *l = at(links, 0);
    assert_members(l, 4);
    assert_string_equal(get_str(l, "traceId"), "35363738393a3b3c3d3e3f4041424344");
    assert_string_equal(get_str(l, "spanId"), "7b7c7d7e7f808182");
    assert_string_equal(get_str(l, "traceState"), "k=v");
    assert_num(get(l, "flags"), 0x301);
    l = at(links, 1);
    assert_members(l, 3);
    assert_false(has(l, "traceState"));
    assert_num(get(l, "flags"), 0x100);
    assert_num(get(span, "droppedLinksCount"), 7);
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_otlp_json_encode_status(void **state)
{
    (void)state;
    otel_span_data *spans[4];
    spans[0] = sd_span(NULL, "unset", 0);
    spans[1] = sd_span(NULL, "ok", 1);
    spans[1]->status = OTEL_STATUS_OK;
    spans[2] = sd_span(NULL, "error", 2);
    spans[2]->status = OTEL_STATUS_ERROR;
    spans[2]->status_message = "connection refused";
    spans[3] = sd_span(NULL, "error, no message", 3);
    spans[3]->status = OTEL_STATUS_ERROR;
    cJSON *root = encode(spans, 4);
    const cJSON *arr = only_spans(root);
    assert_false(has(at(arr, 0), "status"));
    const cJSON *st = get(at(arr, 1), "status");
    assert_members(st, 1);
    assert_num(get(st, "code"), 1);
    st = get(at(arr, 2), "status");
    assert_members(st, 2);
    assert_num(get(st, "code"), 2);
    assert_string_equal(get_str(st, "message"), "connection refused");
    st = get(at(arr, 3), "status");
    assert_members(st, 1);
    assert_num(get(st, "code"), 2);
    assert_same_as_protobuf(root, spans, 4);
    cJSON_Delete(root);
    sd_free_spans(spans, 4);
}

/* Span.flags as the protobuf encoder writes it: the trace flags, bit 8
 * (whether remote is known, always) and bit 9 (the parent is remote). */
static void test_otel_otlp_json_encode_flags(void **state)
{
    (void)state;
    otel_span_data *spans[4];
    spans[0] = sd_span(NULL, "root", 0);
    spans[1] = sd_span(NULL, "local", 1);
    sd_set_parent(spans[1], false);
    spans[2] = sd_span(NULL, "remote", 2);
    sd_set_parent(spans[2], true);
    spans[3] = sd_span(NULL, "unsampled", 3);
    spans[3]->ctx.trace_flags = 0;
    cJSON *root = encode(spans, 4);
    const cJSON *arr = only_spans(root);
    assert_num(get(at(arr, 0), "flags"), 0x101);
    assert_num(get(at(arr, 1), "flags"), 0x101);
    assert_num(get(at(arr, 2), "flags"), 0x301);
    assert_num(get(at(arr, 3), "flags"), 0x100);
    assert_same_as_protobuf(root, spans, 4);
    cJSON_Delete(root);
    sd_free_spans(spans, 4);
}

/* Fields at their default are left out, as the protobuf encoder leaves
 * them out: a span of ids and flags only. */
static void test_otel_otlp_json_encode_empty_fields_left_out(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "", 1);
    s->name = NULL;
    s->kind = (otel_span_kind)0;
    s->start_ns = 0;
    s->end_ns = 0;
    s->status_message = NULL;
    cJSON *root = encode(&s, 1);
    const cJSON *span = first_span(root);
    assert_members(span, 3);
    assert_true(has(span, "traceId") && has(span, "spanId") && has(span, "flags"));
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_otlp_json_encode_full_span(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("full", NULL);
    otel_span_data *s = sd_full_span(res, 11);
    sd_add_link(s, 3, "a=1", OTEL_TRACE_FLAG_SAMPLED, false);
    s->dropped_links = 2;
    cJSON *root = encode(&s, 1);
    const cJSON *span = first_span(root);
    assert_string_equal(get_str(span, "traceState"), "vendor=abc,other=1");
    assert_string_equal(get_str(span, "parentSpanId"), "c0c1c2c3c4c5c6c7");
    assert_num(get(span, "flags"), 0x301);
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
    otel_resource_del(res);
}

/* ---- resource and scope -------------------------------------------------- */

static void test_otel_otlp_json_encode_resource_and_scope(void **state)
{
    (void)state;
    otel_resource *res = sd_resource("check\"out", "production");
    otel_span_data *s = sd_span(res, "r", 9);
    cJSON *root = encode(&s, 1);
    const cJSON *rs = at(get(root, "resourceSpans"), 0);
    assert_members(rs, 2);
    const cJSON *attrs = get(get(rs, "resource"), "attributes");
    assert_int_equal(cJSON_GetArraySize(attrs), otel_resource_count(res));
    assert_string_equal(get_str(attr_value(attrs, "service.name"), "stringValue"), "check\"out");
    assert_string_equal(get_str(attr_value(attrs, "deployment.environment"), "stringValue"),
                        "production");
    assert_string_equal(get_str(attr_value(attrs, "telemetry.sdk.name"), "stringValue"),
                        "mhd-otel");
    const cJSON *ss = at(get(rs, "scopeSpans"), 0);
    assert_members(ss, 2);
    assert_string_equal(get_str(get(ss, "scope"), "name"), "mhd-otel");
    assert_string_equal(get_str(get(ss, "scope"), "version"), OTEL_SDK_VERSION);
    assert_false(has(rs, "schemaUrl"));
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
    otel_resource_del(res);
}

static void test_otel_otlp_json_encode_null_resource_empty(void **state)
{
    (void)state;
    otel_span_data *s = sd_span(NULL, "orphan", 10);
    cJSON *root = encode(&s, 1);
    const cJSON *rs = at(get(root, "resourceSpans"), 0);
    assert_members(get(rs, "resource"), 0);
    assert_same_as_protobuf(root, &s, 1);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_otlp_json_encode_several_resources(void **state)
{
    (void)state;
    otel_resource *a = sd_resource("svc-a", NULL);
    otel_resource *b = sd_resource("svc-b", "staging");
    otel_span_data *spans[6];
    otel_resource *owner[6] = {a, b, a, a, b, NULL};
    for (int i = 0; i < 6; i++)
        spans[i] = sd_full_span(owner[i], (unsigned)i);
    cJSON *root = encode(spans, 6);
    const cJSON *rss = get(root, "resourceSpans");
    assert_int_equal(cJSON_GetArraySize(rss), 3);
    /* groups in order of first appearance, spans in batch order */
    static const char *const services[] = {"svc-a", "svc-b"};
    static const int count[] = {3, 2, 1};
    static const char *const first_id[] = {"0000121314", "0001191a1b", "0005353637"};
    for (int g = 0; g < 3; g++) {
        const cJSON *rs = at(rss, g);
        if (g < 2)
            assert_string_equal(
                get_str(attr_value(get(get(rs, "resource"), "attributes"), "service.name"),
                        "stringValue"),
                services[g]);
        else
            assert_members(get(rs, "resource"), 0);
        const cJSON *js = get(at(get(rs, "scopeSpans"), 0), "spans");
        assert_int_equal(cJSON_GetArraySize(js), count[g]);
        assert_memory_equal(get_str(at(js, 0), "spanId"), first_id[g], 10);
    }
    const cJSON *ja = get(at(get(at(rss, 0), "scopeSpans"), 0), "spans");
    assert_memory_equal(get_str(at(ja, 1), "spanId"), "0002202122", 10); /* spans[2] */
    assert_memory_equal(get_str(at(ja, 2), "spanId"), "0003272829", 10); /* spans[3] */
    assert_same_as_protobuf(root, spans, 6);
    cJSON_Delete(root);
    sd_free_spans(spans, 6);
    otel_resource_del(a);
    otel_resource_del(b);
}

/* ---- batches and reuse ---------------------------------------------------- */

#define BIG 512

/* A batch of everything in turn: full spans, links, arrays, odd doubles,
 * three resources. */
static void make_mixed(otel_span_data **spans, size_t n, otel_resource *const *res)
{
    static const char arr[] = "a\0\"b\"\0c\\";
    for (size_t i = 0; i < n; i++) {
        otel_span_data *s = spans[i] = sd_full_span(res[i % 3], (unsigned)i);
        if (i % 4 == 1)
            sd_add_link(s, (unsigned)i, i % 8 == 1 ? "x=y" : "", (uint8_t)(i & 1), i % 3 == 0);
        if (i % 5 == 2)
            sd_attr_str_array(sd_next_attr(s), "arr", arr, sizeof(arr), 3);
        if (i % 7 == 3)
            sd_attr_double(sd_next_attr(s), "odd", i % 2 ? NAN : -INFINITY);
        if (i % 11 == 4)
            s->status = OTEL_STATUS_OK;
        if (i % 13 == 5)
            s->kind = (otel_span_kind)(i % 6);
    }
}

static void test_otel_otlp_json_encode_batch_512(void **state)
{
    (void)state;
    otel_resource *res[3] = {sd_resource("big", NULL), NULL, sd_resource("other", "x")};
    otel_span_data **spans = calloc(BIG, sizeof(*spans));
    assert_non_null(spans);
    make_mixed(spans, BIG, res);
    cJSON *root = encode(spans, BIG);
    assert_same_as_protobuf(root, spans, BIG);
    cJSON_Delete(root);
    sd_free_spans(spans, BIG);
    free(spans);
    otel_resource_del(res[0]);
    otel_resource_del(res[2]);
}

/* A warm encoder allocates nothing for a batch no larger than one it has
 * encoded, and a small batch after a big one carries nothing of it. */
static void test_otel_otlp_json_encode_reuse_no_alloc_no_stale_data(void **state)
{
    (void)state;
    otel_resource *res[3] = {sd_resource("svc-a", "prod"), sd_resource("svc-b", NULL), NULL};
    otel_span_data **big = calloc(BIG, sizeof(*big));
    assert_non_null(big);
    make_mixed(big, BIG, res);
    otel_otlp_json *j = NULL;
    assert_int_equal(otel_otlp_json_new(&j), OTEL_OK);
    cJSON_Delete(encode_with(j, big, BIG, NULL, NULL));

    otel_span_data *small = sd_span(res[1], "small", 4242);
    otel_alloc_fail_after(0); /* any allocation from here fails the encode */
    cJSON *root = encode_with(j, &small, 1, NULL, NULL);
    otel_alloc_fail_after(-1);
    assert_same_as_protobuf(root, &small, 1);
    assert_int_equal(cJSON_GetArraySize(get(root, "resourceSpans")), 1);
    const cJSON *span = first_span(root);
    assert_members(span, 7); /* ids, name, kind, times, flags */
    assert_false(has(span, "attributes") || has(span, "events") || has(span, "status"));
    cJSON_Delete(root);

    otel_alloc_fail_after(0);
    root = encode_with(j, big, BIG, NULL, NULL);
    otel_alloc_fail_after(-1);
    assert_same_as_protobuf(root, big, BIG);
    cJSON_Delete(root);

    free(small);
    sd_free_spans(big, BIG);
    free(big);
    otel_otlp_json_del(j);
    otel_resource_del(res[0]);
    otel_resource_del(res[1]);
}

/* ---- allocation failures -------------------------------------------------- */

static void test_otel_otlp_json_encode_nomem(void **state)
{
    (void)state;
    otel_resource *res[3] = {sd_resource("svc-a", NULL), sd_resource("svc-b", NULL), NULL};
    otel_span_data *spans[40];
    make_mixed(spans, 40, res);
    bool done = false;
    long failures = 0;
    for (long fail = 0; !done; fail++) {
        assert_true(fail < 1000);
        otel_otlp_json *j = NULL;
        const uint8_t *data = NULL;
        size_t len = 0;
        otel_alloc_fail_after(fail);
        int rc = otel_otlp_json_new(&j);
        if (rc == OTEL_OK)
            rc = otel_otlp_json_encode(j, sd_ro(spans), 40, &data, &len);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            cJSON *root = parse_all(data, len);
            assert_same_as_protobuf(root, spans, 40);
            cJSON_Delete(root);
            done = true;
        } else {
            assert_int_equal(rc, OTEL_ERR_NOMEM);
            assert_int_equal(len, 0);
            if (j == NULL)
                assert_int_equal(fail, 0);
            failures++;
        }
        otel_otlp_json_del(j);
    }
    assert_true(failures >= 3); /* the encoder, the groups, the buffer */
    sd_free_spans(spans, 40);
    otel_resource_del(res[0]);
    otel_resource_del(res[1]);
}

/* A warm encoder that fails to grow for a bigger batch still encodes
 * correctly afterwards, big or small. */
static void test_otel_otlp_json_encode_nomem_then_recovers(void **state)
{
    (void)state;
    otel_resource *res[3] = {sd_resource("grow", NULL), NULL, NULL};
    otel_span_data **spans = calloc(BIG, sizeof(*spans));
    assert_non_null(spans);
    make_mixed(spans, BIG, res);
    otel_otlp_json *j = NULL;
    assert_int_equal(otel_otlp_json_new(&j), OTEL_OK);
    cJSON_Delete(encode_with(j, spans, 1, NULL, NULL));
    const uint8_t *data;
    size_t len;
    otel_alloc_fail_after(0);
    assert_int_equal(otel_otlp_json_encode(j, sd_ro(spans), BIG, &data, &len), OTEL_ERR_NOMEM);
    otel_alloc_fail_after(-1);
    cJSON *root = encode_with(j, &spans[7], 1, NULL, NULL);
    assert_same_as_protobuf(root, &spans[7], 1);
    cJSON_Delete(root);
    root = encode_with(j, spans, BIG, NULL, NULL);
    assert_same_as_protobuf(root, spans, BIG);
    cJSON_Delete(root);
    otel_otlp_json_del(j);
    sd_free_spans(spans, BIG);
    free(spans);
    otel_resource_del(res[0]);
}

/* ---- responses ------------------------------------------------------------ */

static int decode(const char *body, int64_t *rejected, char *msg, size_t cap)
{
    *rejected = -1;
    memset(msg, 'x', cap - 1); /* stale */
    msg[cap - 1] = '\0';
    return otel_otlp_json_decode_response((const uint8_t *)body, strlen(body), rejected, msg, cap);
}

static void test_otel_otlp_json_decode_response_partial_success(void **state)
{
    (void)state;
    int64_t rejected;
    char msg[64];
    /* the 64-bit count as a string, as the mapping writes it */
    assert_int_equal(decode("{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":"
                            "\"3 spans had no name\"}}",
                            &rejected, msg, sizeof(msg)),
                     OTEL_OK);
    assert_true(rejected == 3);
    assert_string_equal(msg, "3 spans had no name");
    /* or as a number, which the mapping also accepts */
    assert_int_equal(decode(" {\"partialSuccess\": {\"rejectedSpans\": 12, \"errorMessage\": "
                            "\"a\\u00e9\\n\"}}\r\n",
                            &rejected, msg, sizeof(msg)),
                     OTEL_OK);
    assert_true(rejected == 12);
    assert_string_equal(msg, "a\xc3\xa9\n");
    assert_int_equal(decode("{\"partialSuccess\":{\"rejectedSpans\":\"9223372036854775807\"}}",
                            &rejected, msg, sizeof(msg)),
                     OTEL_OK);
    assert_true(rejected == INT64_MAX);
    assert_string_equal(msg, "");
    assert_int_equal(
        decode("{\"partialSuccess\":{\"rejectedSpans\":1e30}}", &rejected, msg, sizeof(msg)),
        OTEL_OK);
    assert_true(rejected == INT64_MAX);
}

static void test_otel_otlp_json_decode_response_cut_message(void **state)
{
    (void)state;
    int64_t rejected;
    char small[6];
    const char *body =
        "{\"partialSuccess\":{\"rejectedSpans\":\"1\",\"errorMessage\":\"3 spans\"}}";
    assert_int_equal(decode(body, &rejected, small, sizeof(small)), OTEL_OK);
    assert_string_equal(small, "3 spa");
    char msg[4]; /* room for "ab" + half of the é */
    body = "{\"partialSuccess\":{\"errorMessage\":\"ab\xc3\xa9z\"}}";
    assert_int_equal(decode(body, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_string_equal(msg, "ab");
    assert_true(rejected == 0);
    /* no room at all is no message */
    assert_int_equal(
        otel_otlp_json_decode_response((const uint8_t *)body, strlen(body), &rejected, NULL, 0),
        OTEL_OK);
}

static void test_otel_otlp_json_decode_response_warning_only(void **state)
{
    (void)state;
    int64_t rejected;
    char msg[32];
    assert_int_equal(decode("{\"partialSuccess\":{\"errorMessage\":\"slow down\"}}", &rejected, msg,
                            sizeof(msg)),
                     OTEL_OK);
    assert_true(rejected == 0);
    assert_string_equal(msg, "slow down");
}

static void test_otel_otlp_json_decode_response_empty(void **state)
{
    (void)state;
    static const char *const bodies[] = {"",
                                         "{}",
                                         " \r\n\t",
                                         " { } \n",
                                         "{\"partialSuccess\":null}",
                                         "{\"partialSuccess\":{}}",
                                         "{\"partialSuccess\":{\"rejectedSpans\":null,"
                                         "\"errorMessage\":null}}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        int64_t rejected;
        char msg[16];
        assert_int_equal(decode(bodies[i], &rejected, msg, sizeof(msg)), OTEL_OK);
        assert_true(rejected == 0);
        assert_string_equal(msg, "");
    }
    int64_t rejected = -1;
    char msg[16] = "stale";
    assert_int_equal(otel_otlp_json_decode_response(NULL, 0, &rejected, msg, sizeof(msg)), OTEL_OK);
    assert_true(rejected == 0);
    assert_string_equal(msg, "");
}

static void test_otel_otlp_json_decode_response_unknown_fields_ignored(void **state)
{
    (void)state;
    int64_t rejected;
    char msg[16];
    assert_int_equal(decode("{\"future\":[1,{\"x\":null}],\"partialSuccess\":{\"new\":true,"
                            "\"rejectedSpans\":\"2\",\"more\":{\"rejectedSpans\":\"9\"}},"
                            "\"rejectedSpans\":\"7\"}",
                            &rejected, msg, sizeof(msg)),
                     OTEL_OK);
    assert_true(rejected == 2);
    assert_string_equal(msg, "");
}

/* A count below 0 is no count, as in the protobuf decoder. */
static void test_otel_otlp_json_decode_response_negative_is_zero(void **state)
{
    (void)state;
    int64_t rejected;
    char msg[16];
    assert_int_equal(
        decode("{\"partialSuccess\":{\"rejectedSpans\":\"-5\"}}", &rejected, msg, sizeof(msg)),
        OTEL_OK);
    assert_true(rejected == 0);
    assert_int_equal(
        decode("{\"partialSuccess\":{\"rejectedSpans\":-5}}", &rejected, msg, sizeof(msg)),
        OTEL_OK);
    assert_true(rejected == 0);
}

static void test_otel_otlp_json_decode_response_garbage(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "not json",
        "{",
        "{\"partialSuccess\":{\"rejectedSpans\":\"3\"}",
        "{}x",
        "{} {}",
        "[]",
        "3",
        "\"{}\"",
        "null",
        "{\"partialSuccess\":5}",
        "{\"partialSuccess\":[]}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"x\",\"errorMessage\":\"m\"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"\"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"3 \"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"9223372036854775808\"}}",
        "{\"partialSuccess\":{\"rejectedSpans\":1.5}}",
        "{\"partialSuccess\":{\"rejectedSpans\":true}}",
        "{\"partialSuccess\":{\"rejectedSpans\":\"1\",\"errorMessage\":3}}",
        "\xff\xfe\x00\x01",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        int64_t rejected;
        char msg[16];
        if (decode(bodies[i], &rejected, msg, sizeof(msg)) != OTEL_ERR_PARSE)
            fail_msg("accepted: %s", bodies[i]);
        assert_true(rejected == 0);
        assert_string_equal(msg, "");
    }
    /* a NUL inside the body is not JSON either */
    static const uint8_t nul[] = {'{', '}', 0};
    int64_t rejected = -1;
    char msg[8];
    assert_int_equal(otel_otlp_json_decode_response(nul, sizeof(nul), &rejected, msg, sizeof(msg)),
                     OTEL_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_otlp_json_new_and_del),
        cmocka_unit_test(test_otel_otlp_json_encode_root_span_text),
        cmocka_unit_test(test_otel_otlp_json_encode_ids_hex),
        cmocka_unit_test(test_otel_otlp_json_encode_kinds_integers),
        cmocka_unit_test(test_otel_otlp_json_encode_times_strings),
        cmocka_unit_test(test_otel_otlp_json_encode_attributes),
        cmocka_unit_test(test_otel_otlp_json_encode_doubles),
        cmocka_unit_test_teardown(test_otel_otlp_json_encode_doubles_any_locale, reset_locale),
        cmocka_unit_test(test_otel_otlp_json_encode_escaping),
        cmocka_unit_test(test_otel_otlp_json_encode_invalid_utf8_replaced),
        cmocka_unit_test(test_otel_otlp_json_encode_events),
        cmocka_unit_test(test_otel_otlp_json_encode_event_attrs_clamped),
        cmocka_unit_test(test_otel_otlp_json_encode_links),
        cmocka_unit_test(test_otel_otlp_json_encode_status),
        cmocka_unit_test(test_otel_otlp_json_encode_flags),
        cmocka_unit_test(test_otel_otlp_json_encode_empty_fields_left_out),
        cmocka_unit_test(test_otel_otlp_json_encode_full_span),
        cmocka_unit_test(test_otel_otlp_json_encode_resource_and_scope),
        cmocka_unit_test(test_otel_otlp_json_encode_null_resource_empty),
        cmocka_unit_test(test_otel_otlp_json_encode_several_resources),
        cmocka_unit_test(test_otel_otlp_json_encode_batch_512),
        cmocka_unit_test_teardown(test_otel_otlp_json_encode_reuse_no_alloc_no_stale_data,
                                  reset_alloc),
        cmocka_unit_test_teardown(test_otel_otlp_json_encode_nomem, reset_alloc),
        cmocka_unit_test_teardown(test_otel_otlp_json_encode_nomem_then_recovers, reset_alloc),
        cmocka_unit_test(test_otel_otlp_json_decode_response_partial_success),
        cmocka_unit_test(test_otel_otlp_json_decode_response_cut_message),
        cmocka_unit_test(test_otel_otlp_json_decode_response_warning_only),
        cmocka_unit_test(test_otel_otlp_json_decode_response_empty),
        cmocka_unit_test(test_otel_otlp_json_decode_response_unknown_fields_ignored),
        cmocka_unit_test(test_otel_otlp_json_decode_response_negative_is_zero),
        cmocka_unit_test(test_otel_otlp_json_decode_response_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
