/* propagate.c - conformance harness: runs propagation vectors (JSON lines on stdin) through
 * otel_propagation_extract and otel_propagation_inject, one JSON result line per vector. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include <mhd-otel/propagation.h>

#define NAME_MAX_LEN 64 /* bytes of an injected header name kept */
#define ERR_MAX 128

/* What a vector asks for (borrowed from its parsed JSON line). */
typedef struct vector {
    const char *id;
    const char *propagators;
    const cJSON *headers; /* array of [name, value], in order */
} vector;

/* What extraction found (about 10.5 KiB: not on the stack). */
static otel_extracted extracted;

/* The carrier: the vector's header lines. The index-th line called name
 * (any case), or NULL. */
static const char *carrier_get(void *carrier, const char *name, size_t index)
{
    const cJSON *line;
    cJSON_ArrayForEach(line, (const cJSON *)carrier)
    {
        const char *n = cJSON_GetStringValue(cJSON_GetArrayItem(line, 0));
        if (n == NULL || strcasecmp(n, name) != 0)
            continue;
        if (index == 0)
            return cJSON_GetStringValue(cJSON_GetArrayItem(line, 1));
        index--;
    }
    return NULL;
}

/* The setter: name (lowercased) -> value in the cJSON object carrier; a
 * second value for a name replaces the first, as a plain map would. */
static void carrier_set(void *carrier, const char *name, const char *value)
{
    cJSON *out = carrier;
    char lower[NAME_MAX_LEN + 1];
    size_t i;
    for (i = 0; i < NAME_MAX_LEN && name[i] != '\0'; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    cJSON *v = cJSON_CreateString(value);
    if (v == NULL)
        return;
    if (cJSON_GetObjectItemCaseSensitive(out, lower) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(out, lower, v);
    else
        cJSON_AddItemToObject(out, lower, v);
}

/* Check the shape of a parsed vector line and point v at its parts.
 * Returns NULL, or what is wrong. */
static const char *vector_read(const cJSON *line, vector *v)
{
    const cJSON *h;
    v->id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "id"));
    v->propagators = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "propagators"));
    v->headers = cJSON_GetObjectItemCaseSensitive(line, "headers");
    if (v->id == NULL || v->propagators == NULL)
        return "id and propagators must be strings";
    if (!cJSON_IsArray(v->headers))
        return "headers must be an array";
    cJSON_ArrayForEach(h, v->headers)
    {
        if (cJSON_GetArraySize(h) != 2 || !cJSON_IsString(cJSON_GetArrayItem(h, 0)) ||
            !cJSON_IsString(cJSON_GetArrayItem(h, 1)))
            return "each header must be [name, value]";
    }
    return NULL;
}

/* The baggage found, as [[key, value, props], ...]. NULL when out of memory. */
static cJSON *baggage_json(const otel_baggage *b)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < otel_baggage_count(b); i++) {
        otel_baggage_member m;
        cJSON *e = cJSON_CreateArray();
        if (e == NULL || otel_baggage_at(b, i, &m) != OTEL_OK) {
            cJSON_Delete(e);
            continue;
        }
        cJSON_AddItemToArray(e, cJSON_CreateString(m.key));
        cJSON_AddItemToArray(e, cJSON_CreateString(m.value));
        cJSON_AddItemToArray(e, cJSON_CreateString(m.props));
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

/* Run vector v and describe the outcome in out. */
static void vector_run(const vector *v, cJSON *out)
{
    otel_propagators p;
    char err[ERR_MAX];
    char trace_id[33] = "";
    char span_id[17] = "";

    if (otel_propagators_from_names(&p, v->propagators, err, sizeof err) != OTEL_OK) {
        cJSON_AddStringToObject(out, "error", err);
        return;
    }
    (void)otel_propagation_extract(&p, carrier_get, (void *)v->headers, &extracted);
    const otel_span_context *sc = &extracted.context;
    bool valid = otel_span_context_is_valid(sc);
    if (valid) {
        otel_hex_encode(sc->trace_id, sizeof sc->trace_id, trace_id);
        otel_hex_encode(sc->span_id, sizeof sc->span_id, span_id);
    }
    cJSON_AddBoolToObject(out, "valid", valid);
    cJSON_AddStringToObject(out, "trace_id", trace_id);
    cJSON_AddStringToObject(out, "span_id", span_id);
    cJSON_AddBoolToObject(out, "sampled", valid && (sc->trace_flags & OTEL_TRACE_FLAG_SAMPLED));
    cJSON_AddBoolToObject(out, "debug", valid && sc->debug);
    cJSON_AddStringToObject(out, "tracestate", extracted.tracestate);
    cJSON_AddItemToObject(out, "baggage", baggage_json(&extracted.baggage));
    /* The same context goes out again: no new span in between. */
    cJSON *injected = cJSON_AddObjectToObject(out, "injected");
    if (injected != NULL)
        otel_propagation_inject(&p, sc, extracted.tracestate, &extracted.baggage, carrier_set,
                                injected);
}

/* One input line: its result line on stdout. Returns false when the line
 * was not a vector (an "error" result is printed then). */
static bool line_run(const char *text)
{
    vector v;
    const char *why = NULL;
    cJSON *line = cJSON_Parse(text);
    cJSON *out = cJSON_CreateObject();

    if (out == NULL) {
        cJSON_Delete(line);
        return false;
    }
    if (line == NULL)
        why = "not JSON";
    else
        why = vector_read(line, &v);
    if (why != NULL) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "id"));
        cJSON_AddStringToObject(out, "id", id != NULL ? id : "");
        cJSON_AddStringToObject(out, "error", why);
    } else {
        cJSON_AddStringToObject(out, "id", v.id);
        vector_run(&v, out);
    }
    char *s = cJSON_PrintUnformatted(out);
    if (s != NULL) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    cJSON_Delete(out);
    cJSON_Delete(line);
    return why == NULL && s != NULL;
}

int main(void)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    while ((n = getline(&buf, &cap, stdin)) >= 0) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (n == 0)
            continue;
        if (!line_run(buf))
            rc = 1;
    }
    free(buf);
    if (fflush(stdout) != 0 || ferror(stdin))
        rc = 1;
    return rc;
}
