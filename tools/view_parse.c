/* view_parse.c - one JSON text of spans into the store: the console exporter's line or an OTLP
 * ExportTraceServiceRequest in JSON, its 64-bit integers read exactly. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../core/text.h"
#include "tool.h"

/* text (len bytes) with every integer number outside strings written as a string of its digits,
 * so that cJSON (which reads numbers as doubles) keeps them exact. Heap, NUL-terminated; NULL when
 * memory runs out. */
static char *quote_ints(const char *text, size_t len)
{
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (in_str) {
            out[o++] = c;
            i++;
            if (c == '\\' && i < len)
                out[o++] = text[i++];
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        if (c != '-' && (c < '0' || c > '9')) {
            out[o++] = c;
            i++;
            continue;
        }
        size_t j = i + (c == '-'), k;
        bool integer = j < len && text[j] >= '0' && text[j] <= '9';
        for (k = j;
             k < len && ((text[k] >= '0' && text[k] <= '9') || text[k] == '.' || text[k] == 'e' ||
                         text[k] == 'E' || text[k] == '+' || text[k] == '-');
             k++)
            if (text[k] < '0' || text[k] > '9')
                integer = false;
        if (integer)
            out[o++] = '"';
        memcpy(out + o, text + i, k - i);
        o += k - i;
        if (integer)
            out[o++] = '"';
        i = k;
    }
    out[o] = '\0';
    return out;
}

/* 16 hex digits at s into *v. */
static bool hex64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 16; i++) {
        int h = otel_hex_value(s[i]);
        if (h < 0)
            return false;
        x = x << 4 | (uint64_t)h;
    }
    *v = x;
    return true;
}

/* A trace id (32 hex digits, not all zero). */
static bool trace_id(const cJSON *item, uint64_t *hi, uint64_t *lo)
{
    const char *s = cJSON_GetStringValue(item);
    return s != NULL && strlen(s) == 32 && hex64(s, hi) && hex64(s + 16, lo) && (*hi | *lo) != 0;
}

/* A span id (16 hex digits); empty = 0 when may_be_empty. */
static bool span_id(const cJSON *item, uint64_t *v, bool may_be_empty)
{
    const char *s = cJSON_GetStringValue(item);
    *v = 0;
    if (item == NULL && may_be_empty)
        return true;
    if (s == NULL)
        return false;
    if (*s == '\0')
        return may_be_empty;
    return strlen(s) == 16 && hex64(s, v) && (*v != 0 || may_be_empty);
}

/* An exact unsigned integer: a string of digits (as quote_ints makes them). */
static bool u64(const cJSON *item, uint64_t *v)
{
    const char *s = cJSON_GetStringValue(item);
    uint64_t x = 0;
    if (s == NULL || *s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    *v = x;
    return true;
}

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
    if (why == NULL || whylen == 0 || why[0] != '\0')
        return; /* the first reason is kept */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* A value shown as text: strings as they are, the rest as JSON. Heap; NULL when memory runs out. */
static char *value_text(const cJSON *v)
{
    const char *s = cJSON_GetStringValue(v);
    if (s != NULL)
        return strdup(s);
    return cJSON_PrintUnformatted(v);
}

/* An OTLP AnyValue shown as text. */
static char *any_text(const cJSON *v)
{
    static const char *const scalars[] = {"stringValue", "intValue", "boolValue", "doubleValue",
                                          "bytesValue"};
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(v, scalars[i]);
        if (x != NULL)
            return value_text(x);
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(v, "arrayValue"), "values");
    if (!cJSON_IsArray(arr))
        return v != NULL ? cJSON_PrintUnformatted(v) : strdup("");
    size_t len = 1, cap = 64;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '[';
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        char *t = any_text(e);
        size_t tn = t != NULL ? strlen(t) : 0;
        if (len + tn + 4 > cap) {
            cap = (len + tn + 4) * 2;
            char *n = realloc(out, cap);
            if (n == NULL) {
                free(t);
                free(out);
                return NULL;
            }
            out = n;
        }
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, t != NULL ? t : "", tn);
        len += tn;
        free(t);
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

/* One attribute into sp when the store keeps it. Returns 0 or -1 (memory). */
static int keep_attr(mhd_otel_tool_store *s, mhd_otel_tool_span *sp, const char *key, char *value)
{
    int rc = value != NULL ? mhd_otel_tool_store_attr(sp, key, value) : -1;
    (void)s;
    free(value);
    return rc;
}

/* ---- the console exporter's line ----------------------------------------- */

static int console_span(mhd_otel_tool_store *s, const cJSON *o, uint64_t now_ms, char *why,
                        size_t whylen)
{
    mhd_otel_tool_span_in in = {0};
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(o, "status");
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(status, "code"));
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "resource");
    if (!trace_id(cJSON_GetObjectItemCaseSensitive(o, "trace_id"), &in.hi, &in.lo)) {
        why_set(why, whylen, "invalid trace_id");
        return -1;
    }
    if (!span_id(cJSON_GetObjectItemCaseSensitive(o, "span_id"), &in.span_id, false) ||
        !span_id(cJSON_GetObjectItemCaseSensitive(o, "parent_span_id"), &in.parent_id, true)) {
        why_set(why, whylen, "invalid span_id or parent_span_id");
        return -1;
    }
    if (!u64(cJSON_GetObjectItemCaseSensitive(o, "start_time_unix_nano"), &in.start) ||
        !u64(cJSON_GetObjectItemCaseSensitive(o, "end_time_unix_nano"), &in.end)) {
        why_set(why, whylen, "invalid start_time_unix_nano or end_time_unix_nano");
        return -1;
    }
    in.name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
    if (in.name == NULL) {
        why_set(why, whylen, "no name");
        return -1;
    }
    in.service = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "service.name"));
    in.error = code != NULL && strcmp(code, "error") == 0;
    mhd_otel_tool_span *sp = mhd_otel_tool_store_add(s, &in, now_ms);
    if (sp == NULL)
        return -2;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(o, "attributes"))
    {
        if (a->string != NULL && mhd_otel_tool_store_wants(s, a->string) &&
            keep_attr(s, sp, a->string, value_text(a)) != 0)
            return -2;
    }
    return 1;
}

/* ---- OTLP JSON --------------------------------------------------------------- */

/* The string value of attribute key in an OTLP KeyValue list. */
static const char *otlp_attr_str(const cJSON *list, const char *key)
{
    const cJSON *kv;
    cJSON_ArrayForEach(kv, list)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kv, "key"));
        if (k != NULL && strcmp(k, key) == 0)
            return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(kv, "value"), "stringValue"));
    }
    return NULL;
}

/* Status code 2 (STATUS_CODE_ERROR), as a number or by its name. */
static bool otlp_error(const cJSON *status)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(status, "code");
    const char *s = cJSON_GetStringValue(code);
    if (s != NULL)
        return strcmp(s, "2") == 0 || strcmp(s, "STATUS_CODE_ERROR") == 0;
    return cJSON_IsNumber(code) && code->valueint == 2;
}

static int otlp_span(mhd_otel_tool_store *s, const cJSON *o, const char *service, uint64_t now_ms,
                     char *why, size_t whylen)
{
    mhd_otel_tool_span_in in = {0};
    if (!trace_id(cJSON_GetObjectItemCaseSensitive(o, "traceId"), &in.hi, &in.lo)) {
        why_set(why, whylen, "invalid traceId");
        return -1;
    }
    if (!span_id(cJSON_GetObjectItemCaseSensitive(o, "spanId"), &in.span_id, false) ||
        !span_id(cJSON_GetObjectItemCaseSensitive(o, "parentSpanId"), &in.parent_id, true)) {
        why_set(why, whylen, "invalid spanId or parentSpanId");
        return -1;
    }
    if (!u64(cJSON_GetObjectItemCaseSensitive(o, "startTimeUnixNano"), &in.start) ||
        !u64(cJSON_GetObjectItemCaseSensitive(o, "endTimeUnixNano"), &in.end)) {
        why_set(why, whylen, "invalid startTimeUnixNano or endTimeUnixNano");
        return -1;
    }
    in.name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name"));
    if (in.name == NULL)
        in.name = "";
    in.service = service;
    in.error = otlp_error(cJSON_GetObjectItemCaseSensitive(o, "status"));
    mhd_otel_tool_span *sp = mhd_otel_tool_store_add(s, &in, now_ms);
    if (sp == NULL)
        return -2;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(o, "attributes"))
    {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kv, "key"));
        if (k != NULL && mhd_otel_tool_store_wants(s, k) &&
            keep_attr(s, sp, k, any_text(cJSON_GetObjectItemCaseSensitive(kv, "value"))) != 0)
            return -2;
    }
    return 1;
}

/* Every span of an ExportTraceServiceRequest; *bad counts the invalid ones. */
static int otlp_request(mhd_otel_tool_store *s, const cJSON *req, uint64_t now_ms, size_t *bad,
                        char *why, size_t whylen)
{
    static const char *const scope_keys[] = {"scopeSpans", "instrumentationLibrarySpans"};
    int n = 0;
    const cJSON *rs;
    cJSON_ArrayForEach(rs, cJSON_GetObjectItemCaseSensitive(req, "resourceSpans"))
    {
        const char *service =
            otlp_attr_str(cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(rs, "resource"), "attributes"),
                          "service.name");
        for (size_t k = 0; k < 2; k++) {
            const cJSON *ss;
            cJSON_ArrayForEach(ss, cJSON_GetObjectItemCaseSensitive(rs, scope_keys[k]))
            {
                const cJSON *sp;
                cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(ss, "spans"))
                {
                    int rc = otlp_span(s, sp, service, now_ms, why, whylen);
                    if (rc == -2)
                        return -2;
                    if (rc < 0)
                        (*bad)++;
                    else
                        n++;
                }
            }
        }
    }
    return n;
}

int mhd_otel_tool_parse_record(mhd_otel_tool_store *s, const char *text, size_t len,
                               uint64_t now_ms, bool *standalone, char *why, size_t whylen)
{
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (standalone != NULL)
        *standalone = false;
    char *q = quote_ints(text, len);
    if (q == NULL) {
        why_set(why, whylen, "out of memory");
        return -1;
    }
    cJSON *root = cJSON_ParseWithOpts(q, NULL, true);
    free(q);
    if (!cJSON_IsObject(root)) {
        why_set(why, whylen, root == NULL ? "not JSON" : "not a JSON object");
        cJSON_Delete(root);
        return -1;
    }
    int rc;
    size_t bad = 0;
    if (cJSON_GetObjectItemCaseSensitive(root, "resourceSpans") != NULL) {
        rc = otlp_request(s, root, now_ms, &bad, why, whylen);
        if (rc == 0 && bad == 0)
            why_set(why, whylen, "no span in it");
        if (standalone != NULL)
            *standalone = true;
    } else if (cJSON_GetObjectItemCaseSensitive(root, "trace_id") != NULL) {
        rc = console_span(s, root, now_ms, why, whylen);
        bad = rc == -1;
        if (standalone != NULL)
            *standalone = true;
    } else if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "metric")) ||
               cJSON_GetObjectItemCaseSensitive(root, "resourceMetrics") != NULL) {
        /* Metrics share the console's output: no spans, nothing wrong. */
        if (standalone != NULL)
            *standalone = true;
        cJSON_Delete(root);
        return 0;
    } else {
        why_set(why, whylen, "neither a span nor an OTLP request");
        rc = -1;
    }
    cJSON_Delete(root);
    if (rc == -2) {
        why_set(why, whylen, "out of memory");
        return -1;
    }
    return rc <= 0 || bad > 0 ? -1 : rc;
}
