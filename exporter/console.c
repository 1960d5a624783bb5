/* console.c - console exporter: spans as JSON lines (cJSON) or as readable text. */
#include "console.h"

#include "../core/text.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../core/alloc.h"

/* Lines of one batch are gathered and written together while they stay under
 * this size; a line is never split between two write() calls unless the
 * kernel itself takes it in parts. */
#define CONSOLE_BATCH_MAX (64 * 1024)

struct otel_console {
    otel_console_format format;
    int fd;
    bool owns_fd;         /* a file we opened and close in otel_console_del */
    pthread_mutex_t lock; /* one export at a time, even if tracers share c */
    otel_buf out;         /* owned, reused by every export */
    uint64_t deadline;    /* of the export under way (otel_mono_ns) */
};

/* ---- output buffer ------------------------------------------------------ */

static int buf_append(otel_console *c, const char *s, size_t n)
{
    return otel_buf_append(&c->out, s, n);
}

static int buf_puts(otel_console *c, const char *s)
{
    return otel_buf_append(&c->out, s, strlen(s));
}

/* printf onto the end of c->out.data (kept NUL-free: the NUL is not counted). */
__attribute__((format(printf, 2, 3))) static int buf_printf(otel_console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return OTEL_ERR_INVALID;
    if ((size_t)n < sizeof(small))
        return buf_append(c, small, (size_t)n);
    if (otel_buf_reserve(&c->out, (size_t)n + 1) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(c->out.data + c->out.len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->out.len += (size_t)n;
    return OTEL_OK;
}

/* ---- writing ------------------------------------------------------------ */

/* Wait until fd takes more bytes (a non-blocking output), at most until
 * deadline. A blocking output blocks in write() instead, which no deadline
 * can cut short: the processor leaves such an exporter behind at shutdown. */
static int wait_writable(int fd, uint64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    for (;;) {
        uint64_t now = otel_mono_ns();
        if (now >= deadline)
            return OTEL_ERR_TIMEOUT;
        uint64_t ms = (deadline - now + 999999) / 1000000;
        int r = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
        if (r > 0)
            return OTEL_OK;
        if (r == 0 || (r < 0 && errno == EINTR))
            continue;
        return OTEL_ERR_IO;
    }
}

/* Write all n bytes of p to fd with as few write() calls as the kernel
 * allows: retried on EINTR and short writes. Returns 0 or OTEL_ERR_IO (errno
 * kept: EPIPE, ENOSPC, ...). */
static int write_all(int fd, const char *p, size_t n, uint64_t deadline)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable(fd, deadline) == OTEL_OK)
                continue;
            return OTEL_ERR_IO;
        }
        if (w == 0) {
            errno = EIO;
            return OTEL_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return OTEL_OK;
}

/* Write out and empty the whole buffer. */
static int flush_all(otel_console *c)
{
    int rc = write_all(c->fd, c->out.data, c->out.len, c->deadline);
    c->out.len = 0;
    return rc;
}

/* A block (line or pretty block) was just appended at c->out.data[start..len).
 * When it would take the buffer past CONSOLE_BATCH_MAX, write out what came
 * before it and keep only the block, so that no write() splits a block. */
static int commit_block(otel_console *c, size_t start)
{
    if (start == 0 || c->out.len <= CONSOLE_BATCH_MAX)
        return OTEL_OK;
    int rc = write_all(c->fd, c->out.data, start, c->deadline);
    memmove(c->out.data, c->out.data + start, c->out.len - start);
    c->out.len -= start;
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

/* Add item to obj under key. Takes item in every case (freed on failure).
 * Returns 0 or OTEL_ERR_NOMEM (item NULL counts as a failed allocation). */
static int add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL)
        return OTEL_ERR_NOMEM;
    if (!cJSON_AddItemToObject(obj, key ? key : "", item)) {
        cJSON_Delete(item);
        return OTEL_ERR_NOMEM;
    }
    return OTEL_OK;
}

/* An exact integer: JSON numbers in cJSON are doubles, so write the digits. */
static cJSON *json_u64(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%" PRIu64, v);
    return cJSON_CreateRaw(s);
}

static cJSON *json_i64(int64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%" PRId64, v);
    return cJSON_CreateRaw(s);
}

static cJSON *json_hex(const uint8_t *id, size_t n)
{
    char s[33]; /* n <= 16 */
    otel_hex_encode(id, n, s);
    return cJSON_CreateString(s);
}

/* A double as a JSON number; NaN and the infinities, which JSON lacks, as
 * the strings "NaN", "Infinity", "-Infinity". */
/* The parent span id in hex, or "" for a root span. */
static cJSON *json_parent(const otel_span_data *span)
{
    return span->has_parent ? json_hex(span->parent_span_id, 8) : cJSON_CreateString("");
}

static cJSON *json_double(double d)
{
    if (isnan(d))
        return cJSON_CreateString("NaN");
    if (isinf(d))
        return cJSON_CreateString(d > 0 ? "Infinity" : "-Infinity");
    return cJSON_CreateNumber(d);
}

/* A JSON array of a string array's elements; NULL when out of memory. */
static cJSON *json_str_array(const otel_attr *a)
{
    cJSON *arr = cJSON_CreateArray();
    const char *pos = NULL, *e;
    size_t len;
    while (arr != NULL && (e = otel_attr_array_next(a, &pos, &len)) != NULL) {
        cJSON *item = cJSON_CreateString(e);
        if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *json_attr_value(const otel_attr *a)
{
    switch (a->type) {
    case OTEL_ATTR_STRING:
        return cJSON_CreateString(a->v.s.ptr ? a->v.s.ptr : "");
    case OTEL_ATTR_STRING_ARRAY:
        return json_str_array(a);
    case OTEL_ATTR_BOOL:
        return cJSON_CreateBool(a->v.b);
    case OTEL_ATTR_INT:
        return json_i64(a->v.i);
    case OTEL_ATTR_DOUBLE:
        return json_double(a->v.d);
    }
    return cJSON_CreateNull();
}

/* An object of the n attributes at a. Caller frees with cJSON_Delete; NULL
 * when out of memory. */
static cJSON *json_attrs(const otel_attr *a, size_t n)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (add_item(obj, a[i].key, json_attr_value(&a[i])) != OTEL_OK) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

static cJSON *json_event(const otel_span_data *span, const otel_event *ev)
{
    size_t first = ev->attr_first;
    size_t count = ev->attr_count;
    if (first > OTEL_SPAN_MAX_EVENT_ATTRS)
        first = OTEL_SPAN_MAX_EVENT_ATTRS;
    if (count > OTEL_SPAN_MAX_EVENT_ATTRS - first)
        count = OTEL_SPAN_MAX_EVENT_ATTRS - first;

    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    if (add_item(obj, "name", cJSON_CreateString(ev->name ? ev->name : "")) != OTEL_OK ||
        add_item(obj, "time_unix_nano", json_u64(ev->time_ns)) != OTEL_OK ||
        add_item(obj, "attributes", json_attrs(&span->ev_attrs[first], count)) != OTEL_OK) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static cJSON *json_events(const otel_span_data *span)
{
    size_t n = span->n_events < OTEL_SPAN_MAX_EVENTS ? span->n_events : OTEL_SPAN_MAX_EVENTS;
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        cJSON *ev = json_event(span, &span->events[i]);
        if (ev == NULL || !cJSON_AddItemToArray(arr, ev)) {
            cJSON_Delete(ev);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static const char *kind_name(otel_span_kind kind)
{
    const char *s = otel_span_kind_name(kind);
    return s ? s : "internal";
}

static const char *status_name(otel_status_code code)
{
    const char *s = otel_status_code_name(code);
    return s ? s : "unset";
}

static cJSON *json_status(const otel_span_data *span)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    const char *msg = span->status_message ? span->status_message : "";
    if (add_item(obj, "code", cJSON_CreateString(status_name(span->status))) != OTEL_OK ||
        add_item(obj, "message", cJSON_CreateString(msg)) != OTEL_OK) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* The resource as an object of strings; {} without one. */
static cJSON *json_resource(const otel_resource *r)
{
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    size_t n = r ? otel_resource_count(r) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        const char *value = NULL;
        otel_resource_at(r, i, &key, &value);
        if (add_item(obj, key, cJSON_CreateString(value ? value : "")) != OTEL_OK) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

/* The whole span as a cJSON tree, keys in the documented order. Caller frees
 * with cJSON_Delete; NULL when out of memory. */
static cJSON *json_span(const otel_span_data *span)
{
    size_t n_attrs = span->n_attrs < OTEL_SPAN_MAX_ATTRS ? span->n_attrs : OTEL_SPAN_MAX_ATTRS;
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL)
        return NULL;
    if (add_item(obj, "trace_id", json_hex(span->ctx.trace_id, 16)) != OTEL_OK ||
        add_item(obj, "span_id", json_hex(span->ctx.span_id, 8)) != OTEL_OK ||
        add_item(obj, "parent_span_id", json_parent(span)) != OTEL_OK ||
        add_item(obj, "name", cJSON_CreateString(span->name ? span->name : "")) != OTEL_OK ||
        add_item(obj, "kind", cJSON_CreateString(kind_name(span->kind))) != OTEL_OK ||
        add_item(obj, "start_time_unix_nano", json_u64(span->start_ns)) != OTEL_OK ||
        add_item(obj, "end_time_unix_nano", json_u64(span->end_ns)) != OTEL_OK ||
        add_item(obj, "attributes", json_attrs(span->attrs, n_attrs)) != OTEL_OK ||
        add_item(obj, "events", json_events(span)) != OTEL_OK ||
        add_item(obj, "status", json_status(span)) != OTEL_OK ||
        add_item(obj, "resource", json_resource(span->resource)) != OTEL_OK) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* Append span as one JSON line (with its newline) to c->out.data. */
static int render_json(otel_console *c, const otel_span_data *span)
{
    char *line = otel_console_span_json(span); /* ours, freed below */
    if (line == NULL)
        return OTEL_ERR_NOMEM;
    size_t n = strlen(line);
    int rc = otel_buf_reserve(&c->out, n + 1);
    if (rc == OTEL_OK) {
        memcpy(c->out.data + c->out.len, line, n);
        c->out.data[c->out.len + n] = '\n';
        c->out.len += n + 1;
    }
    cJSON_free(line);
    return rc;
}

/* ---- pretty ------------------------------------------------------------- */

/* s quoted, with '"', '\\' and control characters (C0, DEL, and the C1 range
 * a terminal could act on) escaped; other UTF-8 passes through. */
static int pretty_quoted(otel_console *c, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    if (buf_puts(c, "\"") != OTEL_OK)
        return OTEL_ERR_NOMEM;
    while (*p != '\0') {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\' &&
               !(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            p++;
        if (buf_append(c, (const char *)run, (size_t)(p - run)) != OTEL_OK)
            return OTEL_ERR_NOMEM;
        if (*p == '\0')
            break;
        int rc;
        if (*p == '"' || *p == '\\')
            rc = buf_printf(c, "\\%c", *p);
        else if (*p == '\n')
            rc = buf_puts(c, "\\n");
        else if (*p == '\t')
            rc = buf_puts(c, "\\t");
        else if (*p == '\r')
            rc = buf_puts(c, "\\r");
        else if (*p == 0xc2)
            rc = buf_printf(c, "\\u%04x", (unsigned)*++p); /* skip the lead byte */
        else
            rc = buf_printf(c, "\\x%02x", (unsigned)*p);
        if (rc != OTEL_OK)
            return rc;
        p++;
    }
    return buf_puts(c, "\"");
}

/* The shortest of %.15g / %.17g that reads back as the same double. */
static int pretty_double(otel_console *c, double d)
{
    char s[32];
    snprintf(s, sizeof(s), "%.15g", d);
    if (isfinite(d) && strtod(s, NULL) != d)
        snprintf(s, sizeof(s), "%.17g", d);
    return buf_puts(c, s);
}

/* ["a", "b"] */
static int pretty_str_array(otel_console *c, const otel_attr *a)
{
    const char *pos = NULL, *e;
    size_t len;
    int rc = buf_puts(c, "[");
    for (bool first = true; rc == OTEL_OK && (e = otel_attr_array_next(a, &pos, &len)) != NULL;
         first = false) {
        if (!first)
            rc = buf_puts(c, ", ");
        if (rc == OTEL_OK)
            rc = pretty_quoted(c, e);
    }
    return rc == OTEL_OK ? buf_puts(c, "]") : rc;
}

static int pretty_value(otel_console *c, const otel_attr *a)
{
    switch (a->type) {
    case OTEL_ATTR_STRING:
        return pretty_quoted(c, a->v.s.ptr);
    case OTEL_ATTR_STRING_ARRAY:
        return pretty_str_array(c, a);
    case OTEL_ATTR_BOOL:
        return buf_puts(c, a->v.b ? "true" : "false");
    case OTEL_ATTR_INT:
        return buf_printf(c, "%" PRId64, a->v.i);
    case OTEL_ATTR_DOUBLE:
        return pretty_double(c, a->v.d);
    }
    return buf_puts(c, "?");
}

/* One "key = value" line per attribute, indented by indent spaces. */
static int pretty_attrs(otel_console *c, const otel_attr *a, size_t n, int indent)
{
    for (size_t i = 0; i < n; i++) {
        if (buf_printf(c, "%*s%s = ", indent, "", a[i].key ? a[i].key : "") != OTEL_OK ||
            pretty_value(c, &a[i]) != OTEL_OK || buf_puts(c, "\n") != OTEL_OK)
            return OTEL_ERR_NOMEM;
    }
    return OTEL_OK;
}

/* A duration in ns as milliseconds with three decimals, signed. */
static int pretty_ms(otel_console *c, const char *sign, uint64_t ns)
{
    return buf_printf(c, "%s%" PRIu64 ".%03u ms", sign, ns / 1000000,
                      (unsigned)(ns % 1000000 / 1000));
}

/* Unix ns as RFC 3339 UTC with nanoseconds. */
static int pretty_time(otel_console *c, uint64_t ns)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    char date[32];
    if (gmtime_r(&secs, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return buf_printf(c, "%" PRIu64 "ns", ns);
    return buf_printf(c, "%s.%09uZ", date, (unsigned)(ns % 1000000000));
}

static int pretty_resource(otel_console *c, const otel_resource *r)
{
    if (buf_puts(c, "resource:") != OTEL_OK)
        return OTEL_ERR_NOMEM;
    size_t n = r ? otel_resource_count(r) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        const char *value = NULL;
        otel_resource_at(r, i, &key, &value);
        if (buf_printf(c, " %s=", key ? key : "") != OTEL_OK || pretty_quoted(c, value) != OTEL_OK)
            return OTEL_ERR_NOMEM;
    }
    return buf_puts(c, "\n");
}

static int pretty_events(otel_console *c, const otel_span_data *span)
{
    size_t n = span->n_events < OTEL_SPAN_MAX_EVENTS ? span->n_events : OTEL_SPAN_MAX_EVENTS;
    if (n == 0)
        return OTEL_OK;
    if (buf_puts(c, "  events:\n") != OTEL_OK)
        return OTEL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const otel_event *ev = &span->events[i];
        size_t first =
            ev->attr_first < OTEL_SPAN_MAX_EVENT_ATTRS ? ev->attr_first : OTEL_SPAN_MAX_EVENT_ATTRS;
        size_t count = ev->attr_count;
        if (count > OTEL_SPAN_MAX_EVENT_ATTRS - first)
            count = OTEL_SPAN_MAX_EVENT_ATTRS - first;
        bool before = ev->time_ns < span->start_ns;
        uint64_t off = before ? span->start_ns - ev->time_ns : ev->time_ns - span->start_ns;
        if (buf_printf(c, "    %s at ", ev->name ? ev->name : "") != OTEL_OK ||
            pretty_ms(c, before ? "-" : "+", off) != OTEL_OK ||
            (ev->dropped_attrs &&
             buf_printf(c, "  (%" PRIu32 " attributes dropped)", ev->dropped_attrs) != OTEL_OK) ||
            buf_puts(c, "\n") != OTEL_OK ||
            pretty_attrs(c, &span->ev_attrs[first], count, 6) != OTEL_OK)
            return OTEL_ERR_NOMEM;
    }
    return OTEL_OK;
}

static int pretty_links(otel_console *c, const otel_span_data *span)
{
    size_t n = span->n_links < OTEL_SPAN_MAX_LINKS ? span->n_links : OTEL_SPAN_MAX_LINKS;
    if (n == 0)
        return OTEL_OK;
    if (buf_puts(c, "  links:\n") != OTEL_OK)
        return OTEL_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const otel_link *l = &span->links[i];
        char trace[33];
        char id[17];
        otel_hex_encode(l->ctx.trace_id, 16, trace);
        otel_hex_encode(l->ctx.span_id, 8, id);
        if (buf_printf(c, "    trace=%s span=%s flags=%02x", trace, id, l->ctx.trace_flags) !=
                OTEL_OK ||
            (l->tracestate && l->tracestate[0] &&
             (buf_puts(c, " tracestate=") != OTEL_OK ||
              pretty_quoted(c, l->tracestate) != OTEL_OK)) ||
            buf_puts(c, "\n") != OTEL_OK)
            return OTEL_ERR_NOMEM;
    }
    return OTEL_OK;
}

/* Append span as a block of text to c->out.data. */
static int render_pretty(otel_console *c, const otel_span_data *span)
{
    char trace[33];
    char id[17];
    char parent[17] = "-";
    size_t n_attrs = span->n_attrs < OTEL_SPAN_MAX_ATTRS ? span->n_attrs : OTEL_SPAN_MAX_ATTRS;
    otel_hex_encode(span->ctx.trace_id, 16, trace);
    otel_hex_encode(span->ctx.span_id, 8, id);
    if (span->has_parent)
        otel_hex_encode(span->parent_span_id, 8, parent);

    if (buf_puts(c, "span ") != OTEL_OK || pretty_quoted(c, span->name) != OTEL_OK ||
        buf_printf(c, " %s  trace=%s span=%s parent=%s\n  start ", kind_name(span->kind), trace, id,
                   parent) != OTEL_OK ||
        pretty_time(c, span->start_ns) != OTEL_OK || buf_puts(c, "  duration ") != OTEL_OK)
        return OTEL_ERR_NOMEM;
    int rc = span->end_ns >= span->start_ns ? pretty_ms(c, "", span->end_ns - span->start_ns)
                                            : buf_puts(c, "-");
    if (rc != OTEL_OK || buf_printf(c, "  status %s", status_name(span->status)) != OTEL_OK ||
        (span->status_message && span->status_message[0] &&
         (buf_puts(c, " ") != OTEL_OK || pretty_quoted(c, span->status_message) != OTEL_OK)) ||
        buf_puts(c, "\n") != OTEL_OK)
        return OTEL_ERR_NOMEM;
    if (n_attrs > 0 && (buf_puts(c, "  attributes:\n") != OTEL_OK ||
                        pretty_attrs(c, span->attrs, n_attrs, 4) != OTEL_OK))
        return OTEL_ERR_NOMEM;
    if (pretty_events(c, span) != OTEL_OK || pretty_links(c, span) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    if (span->dropped_links)
        return buf_printf(
            c, "  dropped: %" PRIu32 " attributes, %" PRIu32 " events, %" PRIu32 " links\n",
            span->dropped_attrs, span->dropped_events, span->dropped_links);
    if (span->dropped_attrs || span->dropped_events)
        return buf_printf(c, "  dropped: %" PRIu32 " attributes, %" PRIu32 " events\n",
                          span->dropped_attrs, span->dropped_events);
    return OTEL_OK;
}

/* ---- exporter ----------------------------------------------------------- */

/* Render and write one batch; c->lock is held. */
static int export_locked(otel_console *c, const otel_span_data *const *spans, size_t n)
{
    const otel_resource *shown = NULL;
    bool any_shown = false;
    c->out.len = 0;
    for (size_t i = 0; i < n; i++) {
        const otel_span_data *span = spans[i];
        if (span == NULL)
            continue;
        size_t start = c->out.len;
        int rc;
        if (c->format == OTEL_CONSOLE_PRETTY) {
            /* The resource header goes with the first block that has it. */
            const otel_resource *r = span->resource;
            rc = OTEL_OK;
            if (!any_shown || r != shown)
                rc = pretty_resource(c, r);
            if (rc == OTEL_OK)
                rc = render_pretty(c, span);
            if (rc == OTEL_OK) {
                shown = r;
                any_shown = true;
            }
        } else {
            rc = render_json(c, span);
        }
        if (rc != OTEL_OK) {
            /* Out of memory: drop the partial block, write what is whole. */
            c->out.len = start;
            int wrc = flush_all(c);
            return wrc != OTEL_OK ? wrc : rc;
        }
        rc = commit_block(c, start);
        if (rc != OTEL_OK) {
            c->out.len = 0;
            return rc;
        }
    }
    return flush_all(c);
}

static int console_export(void *user_data, const otel_span_data *const *spans, size_t n,
                          uint64_t deadline)
{
    otel_console *c = user_data;
    if (c == NULL || (spans == NULL && n > 0))
        return OTEL_ERR_INVALID;
    pthread_mutex_lock(&c->lock);
    c->deadline = deadline;
    int rc = export_locked(c, spans, n);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* In a forked child: the parent's exporter thread may have held the lock
 * (and had a batch half rendered) at the fork; that thread does not exist
 * here. The child starts with a free lock and an empty buffer, and writes
 * to the same output. */
static void console_after_fork(void *user_data)
{
    otel_console *c = user_data;
    pthread_mutex_init(&c->lock, NULL);
    c->out.len = 0;
}

/* ---- API ---------------------------------------------------------------- */

int otel_console_new(otel_console **out, otel_console_format format, const char *output)
{
    if (out == NULL)
        return OTEL_ERR_INVALID;
    *out = NULL;
    if (output == NULL || (format != OTEL_CONSOLE_JSON && format != OTEL_CONSOLE_PRETTY))
        return OTEL_ERR_INVALID;
    otel_console *c = otel_calloc(1, sizeof(*c)); /* freed by otel_console_del */
    if (c == NULL)
        return OTEL_ERR_NOMEM;
    c->format = format;
    if (strcmp(output, "stdout") == 0) {
        c->fd = STDOUT_FILENO;
    } else if (strcmp(output, "stderr") == 0) {
        c->fd = STDERR_FILENO;
    } else {
        c->fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (c->fd < 0) {
            int saved = errno;
            otel_free(c);
            errno = saved;
            return OTEL_ERR_IO;
        }
        c->owns_fd = true;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        if (c->owns_fd)
            close(c->fd);
        otel_free(c);
        return OTEL_ERR_NOMEM;
    }
    *out = c;
    return OTEL_OK;
}

void otel_console_del(otel_console *c)
{
    if (c == NULL)
        return;
    if (c->owns_fd)
        close(c->fd);
    pthread_mutex_destroy(&c->lock);
    otel_free(c->out.data);
    otel_free(c);
}

static void console_free(void *user_data)
{
    otel_console_del(user_data);
}

/* Every export writes its batch before it returns: nothing is held back,
 * so the exporter needs no flush or shutdown function. */
int otel_console_exporter(otel_console *c, otel_exporter **out)
{
    *out = NULL;
    if (c == NULL)
        return OTEL_ERR_INVALID;
    int rc = otel_exporter_new(out, "console", console_export, c);
    if (rc != OTEL_OK) {
        otel_console_del(c);
        return rc;
    }
    otel_exporter_set_after_fork(*out, console_after_fork);
    otel_exporter_set_free(*out, console_free);
    return OTEL_OK;
}

char *otel_console_span_json(const otel_span_data *span)
{
    if (span == NULL)
        return NULL;
    cJSON *tree = json_span(span); /* ours, deleted below */
    if (tree == NULL)
        return NULL;
    char *line = cJSON_PrintUnformatted(tree); /* malloc'd by cJSON's default hooks */
    cJSON_Delete(tree);
    return line;
}
