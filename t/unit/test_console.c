/* test_console.c - tests of the console exporter (exporter/console.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../core/alloc.h"
#include "../../core/exporter_int.h"
#include "../../exporter/console.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../core/test_hooks.h"

#define T_START_NS UINT64_C(1764000000123456789) /* above 2^53: a double rounds it */
#define T_PRETTY_START_NS (UINT64_C(1795558203) * 1000000000 + 123456789)
#define SEC UINT64_C(1000000000)

/* ---- helpers ------------------------------------------------------------- */

/* What an exporter is given of an ended server span with fixed ids. Caller
 * frees with free(). Strings point at static storage; the exporter only
 * reads. */
static otel_span_data *make_span(const char *name)
{
    otel_span_data *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    for (int i = 0; i < 16; i++)
        s->ctx.trace_id[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 8; i++)
        s->ctx.span_id[i] = (uint8_t)(0x10 + i);
    s->ctx.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    s->kind = OTEL_SPAN_KIND_SERVER;
    s->status = OTEL_STATUS_UNSET;
    s->status_message = "";
    s->name = name;
    s->start_ns = T_START_NS;
    s->end_ns = T_START_NS + 1234567;
    return s;
}

static void attr_str(otel_attr *a, const char *key, const char *v)
{
    a->key = key;
    a->type = OTEL_ATTR_STRING;
    a->v.s.ptr = v;
    a->v.s.len = (uint32_t)strlen(v);
}

static void attr_int(otel_attr *a, const char *key, int64_t v)
{
    a->key = key;
    a->type = OTEL_ATTR_INT;
    a->v.i = v;
}

static void attr_bool(otel_attr *a, const char *key, bool v)
{
    a->key = key;
    a->type = OTEL_ATTR_BOOL;
    a->v.b = v;
}

static void attr_double(otel_attr *a, const char *key, double v)
{
    a->key = key;
    a->type = OTEL_ATTR_DOUBLE;
    a->v.d = v;
}

/* v holds n NUL-terminated elements back to back (size bytes with the
 * NULs), as the core stores a string array. */
static void attr_str_array(otel_attr *a, const char *key, const char *v, size_t size, uint32_t n)
{
    a->key = key;
    a->type = OTEL_ATTR_STRING_ARRAY;
    a->v.s.ptr = v;
    a->v.s.len = (uint32_t)size;
    a->v.s.n = n;
}

/* Render span; parse it. *text gets the line (free with free()). */
static cJSON *render(const otel_span_data *span, char **text)
{
    char *line = otel_console_span_json(span);
    assert_non_null(line);
    assert_null(strchr(line, '\n'));
    cJSON *root = cJSON_Parse(line);
    assert_non_null(root);
    assert_true(cJSON_IsObject(root));
    if (text != NULL)
        *text = line;
    else
        free(line);
    return root;
}

/* e's export of spans[0..n), with a deadline 30 s away. */
static int export_all(const otel_exporter *e, otel_span_data *const *spans, size_t n)
{
    return e->export_fn(e->user_data, (const otel_span_data *const *)spans, n,
                        otel_mono_ns() + 30 * SEC);
}

/* e's shutdown, when it has one. */
static void shutdown_exporter(const otel_exporter *e)
{
    if (e->shutdown_fn != NULL)
        assert_int_equal(e->shutdown_fn(e->user_data, otel_mono_ns() + 30 * SEC), OTEL_OK);
}

static const char *get_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_non_null(item);
    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

/* Assert obj's keys are exactly keys[0..n), in that order. */
static void assert_keys(const cJSON *obj, const char *const *keys, size_t n)
{
    size_t i = 0;
    for (const cJSON *it = obj->child; it != NULL; it = it->next, i++) {
        assert_true(i < n);
        assert_string_equal(it->string, keys[i]);
    }
    assert_int_equal(i, n);
}

static const char *const span_keys[] = {
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "attributes",
    "events",
    "status",
    "resource",
};

/* A temp directory and a file path inside it for one test. */
typedef struct tmp_path {
    char dir[64];
    char path[96];
} tmp_path;

static void tmp_path_make(tmp_path *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/test_console.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/spans.out", t->dir);
}

static void tmp_path_remove(tmp_path *t)
{
    unlink(t->path);
    rmdir(t->dir);
}

/* Whole file as a NUL-terminated heap string (free with free()). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

/* Count the lines of text, asserting each is a JSON object; returns n. */
static size_t check_json_lines(char *text, size_t len)
{
    size_t lines = 0;
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    char *p = text;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        cJSON *root = cJSON_Parse(p);
        assert_non_null(root);
        assert_true(cJSON_IsObject(root));
        cJSON_Delete(root);
        lines++;
        p = nl + 1;
    }
    return lines;
}

static size_t count_substr(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- otel_console_span_json ---------------------------------------------- */

static void test_otel_console_span_json_keys_in_order(void **state)
{
    (void)state;
    otel_span_data *s = make_span("GET /");
    cJSON *root = render(s, NULL);
    assert_keys(root, span_keys, sizeof(span_keys) / sizeof(span_keys[0]));
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    static const char *const status_keys[] = {"code", "message"};
    assert_keys(status, status_keys, 2);
    assert_string_equal(get_str(root, "name"), "GET /");
    cJSON_Delete(root);
    free(s);
}

static void test_otel_console_span_json_null(void **state)
{
    (void)state;
    assert_null(otel_console_span_json(NULL));
}

static void test_otel_console_span_json_ids_hex(void **state)
{
    (void)state;
    otel_span_data *s = make_span("child");
    s->has_parent = true;
    static const uint8_t parent[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    memcpy(s->parent_span_id, parent, 8);
    cJSON *root = render(s, NULL);
    assert_string_equal(get_str(root, "trace_id"), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_string_equal(get_str(root, "span_id"), "1011121314151617");
    assert_string_equal(get_str(root, "parent_span_id"), "00f067aa0ba902b7");
    cJSON_Delete(root);
    free(s);
}

static void test_otel_console_span_json_root_parent_empty(void **state)
{
    (void)state;
    otel_span_data *s = make_span("root");
    s->parent_span_id[0] = 0x55; /* ignored without has_parent */
    cJSON *root = render(s, NULL);
    assert_string_equal(get_str(root, "parent_span_id"), "");
    cJSON_Delete(root);
    free(s);
}

static void test_otel_console_span_json_kind_names(void **state)
{
    (void)state;
    static const struct {
        otel_span_kind kind;
        const char *name;
    } kinds[] = {
        {OTEL_SPAN_KIND_INTERNAL, "internal"}, {OTEL_SPAN_KIND_SERVER, "server"},
        {OTEL_SPAN_KIND_CLIENT, "client"},     {OTEL_SPAN_KIND_PRODUCER, "producer"},
        {OTEL_SPAN_KIND_CONSUMER, "consumer"},
    };
    otel_span_data *s = make_span("k");
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        s->kind = kinds[i].kind;
        cJSON *root = render(s, NULL);
        assert_string_equal(get_str(root, "kind"), kinds[i].name);
        cJSON_Delete(root);
    }
    free(s);
}

static void test_otel_console_span_json_times_exact(void **state)
{
    (void)state;
    otel_span_data *s = make_span("t");
    s->end_ns = UINT64_MAX;
    char *text = NULL;
    cJSON *root = render(s, &text);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "start_time_unix_nano")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "end_time_unix_nano")));
    assert_non_null(strstr(text, "\"start_time_unix_nano\":1764000000123456789,"));
    assert_non_null(strstr(text, "\"end_time_unix_nano\":18446744073709551615,"));
    cJSON_Delete(root);
    free(text);
    free(s);
}

static void test_otel_console_span_json_attr_types(void **state)
{
    (void)state;
    otel_span_data *s = make_span("attrs");
    attr_str(&s->attrs[0], "http.request.method", "GET");
    attr_int(&s->attrs[1], "min", INT64_MIN);
    attr_int(&s->attrs[2], "max", INT64_MAX);
    attr_bool(&s->attrs[3], "yes", true);
    attr_bool(&s->attrs[4], "no", false);
    attr_double(&s->attrs[5], "ratio", 0.1);
    attr_double(&s->attrs[6], "nan", NAN);
    attr_double(&s->attrs[7], "inf", INFINITY);
    attr_double(&s->attrs[8], "ninf", -INFINITY);
    attr_int(&s->attrs[9], "zero", 0);
    s->n_attrs = 10;
    char *text = NULL;
    cJSON *root = render(s, &text);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "attributes");
    assert_true(cJSON_IsObject(a));
    static const char *const keys[] = {
        "http.request.method", "min", "max", "yes", "no", "ratio", "nan", "inf", "ninf", "zero"};
    assert_keys(a, keys, 10);
    assert_string_equal(get_str(a, "http.request.method"), "GET");
    assert_non_null(strstr(text, "\"min\":-9223372036854775808,"));
    assert_non_null(strstr(text, "\"max\":9223372036854775807,"));
    assert_non_null(strstr(text, "\"zero\":0}"));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "yes")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(a, "no")));
    const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(a, "ratio");
    assert_true(cJSON_IsNumber(ratio));
    assert_true(ratio->valuedouble == 0.1);
    assert_string_equal(get_str(a, "nan"), "NaN");
    assert_string_equal(get_str(a, "inf"), "Infinity");
    assert_string_equal(get_str(a, "ninf"), "-Infinity");
    cJSON_Delete(root);
    free(text);
    free(s);
}

/* A string array attribute (captured headers: one element per header
 * line) is a JSON array of strings. */
static void test_otel_console_span_json_str_array(void **state)
{
    (void)state;
    otel_span_data *s = make_span("arrays");
    static const char two[] = "text/html\0application/json";
    attr_str_array(&s->attrs[0], "http.request.header.accept", two, sizeof two, 2);
    attr_str_array(&s->attrs[1], "none", "", 0, 0);
    static const char q[] = "a\"b\\\n";
    attr_str_array(&s->attrs[2], "escaped", q, sizeof q, 1);
    s->n_attrs = 3;
    char *text = NULL;
    cJSON *root = render(s, &text);
    assert_non_null(strstr(text, "\"http.request.header.accept\":[\"text/html\","
                                 "\"application/json\"]"));
    assert_non_null(strstr(text, "\"none\":[]"));
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "attributes");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(a, "escaped");
    assert_true(cJSON_IsArray(e));
    assert_string_equal(cJSON_GetArrayItem(e, 0)->valuestring, "a\"b\\\n");
    cJSON_Delete(root);
    free(text);
    free(s);
}

static void test_otel_console_span_json_string_escaping(void **state)
{
    (void)state;
    static const char tricky[] = "q\"b\\s\nnl\ttab\x01 caf\xc3\xa9 \xe2\x9c\x93";
    otel_span_data *s = make_span(tricky);
    attr_str(&s->attrs[0], "k\"ey\n", tricky);
    s->n_attrs = 1;
    cJSON *root = render(s, NULL);
    assert_string_equal(get_str(root, "name"), tricky);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "attributes");
    assert_string_equal(get_str(a, "k\"ey\n"), tricky);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_console_span_json_events(void **state)
{
    (void)state;
    otel_span_data *s = make_span("ev");
    s->events[0] = (otel_event){
        .name = "exception", .time_ns = T_START_NS + 512000, .attr_first = 0, .attr_count = 2};
    s->events[1] =
        (otel_event){.name = "retry", .time_ns = T_START_NS + 1, .attr_first = 2, .attr_count = 1};
    s->events[2] = (otel_event){.name = "bare", .time_ns = T_START_NS + 2};
    s->n_events = 3;
    attr_str(&s->ev_attrs[0], "exception.type", "ValueError");
    attr_str(&s->ev_attrs[1], "exception.message", "bad value");
    attr_int(&s->ev_attrs[2], "attempt", 2);
    s->n_ev_attrs = 3;
    char *text = NULL;
    cJSON *root = render(s, &text);
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "events");
    assert_true(cJSON_IsArray(evs));
    assert_int_equal(cJSON_GetArraySize(evs), 3);
    static const char *const ev_keys[] = {"name", "time_unix_nano", "attributes"};

    const cJSON *e0 = cJSON_GetArrayItem(evs, 0);
    assert_keys(e0, ev_keys, 3);
    assert_string_equal(get_str(e0, "name"), "exception");
    const cJSON *a0 = cJSON_GetObjectItemCaseSensitive(e0, "attributes");
    static const char *const a0_keys[] = {"exception.type", "exception.message"};
    assert_keys(a0, a0_keys, 2);
    assert_string_equal(get_str(a0, "exception.type"), "ValueError");
    assert_string_equal(get_str(a0, "exception.message"), "bad value");
    assert_non_null(strstr(text, "\"time_unix_nano\":1764000000123968789,"));

    const cJSON *e1 = cJSON_GetArrayItem(evs, 1);
    const cJSON *a1 = cJSON_GetObjectItemCaseSensitive(e1, "attributes");
    static const char *const a1_keys[] = {"attempt"};
    assert_keys(a1, a1_keys, 1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(a1, "attempt")->valueint, 2);

    const cJSON *e2 = cJSON_GetArrayItem(evs, 2);
    assert_keys(e2, ev_keys, 3);
    assert_null(cJSON_GetObjectItemCaseSensitive(e2, "attributes")->child);
    cJSON_Delete(root);
    free(text);
    free(s);
}

static void test_otel_console_span_json_event_attrs_clamped(void **state)
{
    (void)state;
    otel_span_data *s = make_span("ev");
    /* An out-of-range slice must not read past ev_attrs. */
    s->events[0] =
        (otel_event){.name = "x", .attr_first = OTEL_SPAN_MAX_EVENT_ATTRS - 1, .attr_count = 10};
    attr_int(&s->ev_attrs[OTEL_SPAN_MAX_EVENT_ATTRS - 1], "last", 7);
    s->n_events = 1;
    cJSON *root = render(s, NULL);
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "events"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e0, "attributes")), 1);
    cJSON_Delete(root);
    free(s);
}

static void test_otel_console_span_json_status(void **state)
{
    (void)state;
    static const struct {
        otel_status_code code;
        const char *msg;
        const char *name;
    } cases[] = {
        {OTEL_STATUS_UNSET, "", "unset"},
        {OTEL_STATUS_OK, "", "ok"},
        {OTEL_STATUS_ERROR, "upstream timed out", "error"},
        {OTEL_STATUS_ERROR, NULL, "error"},
    };
    otel_span_data *s = make_span("st");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s->status = cases[i].code;
        s->status_message = cases[i].msg;
        cJSON *root = render(s, NULL);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
        assert_string_equal(get_str(st, "code"), cases[i].name);
        assert_string_equal(get_str(st, "message"), cases[i].msg ? cases[i].msg : "");
        cJSON_Delete(root);
    }
    free(s);
}

static void test_otel_console_span_json_resource(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "demo"), OTEL_OK);
    assert_int_equal(otel_resource_set(r, "deployment.environment", "test"), OTEL_OK);
    otel_span_data *s = make_span("res");
    s->resource = r;
    cJSON *root = render(s, NULL);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resource");
    assert_true(cJSON_IsObject(res));
    assert_int_equal(cJSON_GetArraySize(res), (int)otel_resource_count(r));
    assert_string_equal(get_str(res, "service.name"), "demo");
    assert_string_equal(get_str(res, "deployment.environment"), "test");
    assert_string_equal(get_str(res, "telemetry.sdk.name"), OTEL_SDK_NAME);
    cJSON_Delete(root);
    free(s);
    otel_resource_del(r);
}

static void test_otel_console_span_json_resource_empty_without_resource(void **state)
{
    (void)state;
    otel_span_data *s = make_span("nores");
    char *text = NULL;
    cJSON *root = render(s, &text);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "resource");
    assert_true(cJSON_IsObject(res));
    assert_null(res->child);
    assert_non_null(strstr(text, "\"resource\":{}}"));
    cJSON_Delete(root);
    free(text);
    free(s);
}

static void test_otel_console_span_json_dropped_same_keys(void **state)
{
    (void)state;
    otel_span_data *s = make_span("dropped");
    s->dropped_attrs = 3;
    s->dropped_events = 2;
    s->events[0] = (otel_event){.name = "e", .time_ns = T_START_NS, .dropped_attrs = 5};
    s->n_events = 1;
    cJSON *root = render(s, NULL);
    assert_keys(root, span_keys, sizeof(span_keys) / sizeof(span_keys[0]));
    static const char *const ev_keys[] = {"name", "time_unix_nano", "attributes"};
    const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "events"), 0);
    assert_keys(e0, ev_keys, 3);
    cJSON_Delete(root);
    free(s);
}

/* cJSON allocations fail one after another: NULL each time, nothing leaks
 * (ASan checks), and in the end the span renders. */
static long cjson_fail_at = -1;

static void *failing_malloc(size_t n)
{
    if (cjson_fail_at == 0)
        return NULL;
    if (cjson_fail_at > 0)
        cjson_fail_at--;
    return malloc(n);
}

static void test_otel_console_span_json_nomem(void **state)
{
    (void)state;
    otel_span_data *s = make_span("nomem");
    attr_str(&s->attrs[0], "a", "b");
    attr_int(&s->attrs[1], "i", 1);
    s->n_attrs = 2;
    s->events[0] = (otel_event){.name = "e", .attr_first = 0, .attr_count = 1};
    attr_double(&s->ev_attrs[0], "d", 1.5);
    s->n_events = 1;
    cJSON_Hooks hooks = {.malloc_fn = failing_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
    char *line = NULL;
    long n;
    for (n = 0; n < 1000; n++) {
        cjson_fail_at = n;
        line = otel_console_span_json(s);
        if (line != NULL)
            break;
    }
    cjson_fail_at = -1;
    cJSON_InitHooks(NULL);
    assert_true(n > 10);
    assert_non_null(line);
    cJSON *root = cJSON_Parse(line);
    assert_non_null(root);
    cJSON_Delete(root);
    free(line);
    free(s);
}

/* ---- otel_console_new / del / exporter ----------------------------------- */

static void test_otel_console_new_unwritable_path(void **state)
{
    (void)state;
    otel_console *c = (otel_console *)&c; /* must be reset to NULL */
    errno = 0;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, "/nonexistent-dir/x"), OTEL_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_null(c);
}

static void test_otel_console_new_invalid(void **state)
{
    (void)state;
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(NULL, OTEL_CONSOLE_JSON, "stdout"), OTEL_ERR_INVALID);
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, NULL), OTEL_ERR_INVALID);
    assert_int_equal(otel_console_new(&c, (otel_console_format)7, "stdout"), OTEL_ERR_INVALID);
    assert_null(c);
}

static void test_otel_console_new_stdout_stderr(void **state)
{
    (void)state;
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, "stdout"), OTEL_OK);
    otel_console_del(c); /* must not close fd 1 */
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_PRETTY, "stderr"), OTEL_OK);
    otel_console_del(c);
    assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
    assert_true(fcntl(STDERR_FILENO, F_GETFD) >= 0);
}

static void test_otel_console_new_nomem(void **state)
{
    (void)state;
    otel_console *c = NULL;
    otel_alloc_fail_after(0);
    int rc = otel_console_new(&c, OTEL_CONSOLE_JSON, "stdout");
    otel_alloc_fail_after(-1);
    assert_int_equal(rc, OTEL_ERR_NOMEM);
    assert_null(c);
}

static void test_otel_console_new_file_mode(void **state)
{
    (void)state;
    tmp_path tp;
    tmp_path_make(&tp);
    mode_t old = umask(0);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, tp.path), OTEL_OK);
    umask(old);
    struct stat st;
    assert_int_equal(stat(tp.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    otel_console_del(c);
    tmp_path_remove(&tp);
}

static void test_otel_console_del_null(void **state)
{
    (void)state;
    otel_console_del(NULL);
}

static void test_otel_console_exporter_vtable(void **state)
{
    (void)state;
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, "stdout"), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    assert_string_equal(otel_exporter_name(e), "console");
    assert_non_null(e->export_fn);
    assert_non_null(e->after_fork_fn);
    assert_non_null(e->free_fn); /* c is freed with the exporter */
    assert_ptr_equal(e->user_data, c);
    assert_int_equal(export_all(e, NULL, 0), OTEL_OK);
    shutdown_exporter(e);
    otel_exporter_del(e);
}

/* The exporter takes the console also when it cannot be made: nothing
 * leaks (LSan), and NULL is refused. */
static void test_otel_console_exporter_takes_console_on_failure(void **state)
{
    (void)state;
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, "stdout"), OTEL_OK);
    otel_exporter *e = (otel_exporter *)&e; /* must be reset to NULL */
    otel_alloc_fail_after(0);
    int rc = otel_console_exporter(c, &e);
    otel_alloc_fail_after(-1);
    assert_int_equal(rc, OTEL_ERR_NOMEM);
    assert_null(e);
    assert_int_equal(otel_console_exporter(NULL, &e), OTEL_ERR_INVALID);
    assert_null(e);
}

/* ---- export_spans --------------------------------------------------------- */

static void test_otel_console_export_spans_file_three_lines(void **state)
{
    (void)state;
    tmp_path tp;
    tmp_path_make(&tp);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, tp.path), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    otel_span_data *spans[3] = {make_span("one"), make_span("two"), make_span("three")};
    attr_str(&spans[1]->attrs[0], "multi", "line\none");
    spans[1]->n_attrs = 1;
    assert_int_equal(export_all(e, spans, 3), OTEL_OK);
    size_t len = 0;
    char *text = slurp(tp.path, &len);
    assert_non_null(strstr(text, "\"name\":\"three\""));
    assert_int_equal(check_json_lines(text, len), 3);
    free(text);

    /* A second batch appends. */
    assert_int_equal(export_all(e, spans, 2), OTEL_OK);
    text = slurp(tp.path, &len);
    assert_int_equal(check_json_lines(text, len), 5);
    free(text);
    for (int i = 0; i < 3; i++)
        free(spans[i]);
    shutdown_exporter(e);
    otel_exporter_del(e);
    tmp_path_remove(&tp);
}

/* Batches far over the 64 KiB gathering size, and a single line larger than
 * it, arrive whole and in order. */
static void test_otel_console_export_spans_large_batch(void **state)
{
    (void)state;
    enum { N = 300 };
    static char big[100 * 1024];
    static char medium[1000];
    memset(big, 'x', sizeof(big) - 1);
    memset(medium, 'm', sizeof(medium) - 1);
    tmp_path tp;
    tmp_path_make(&tp);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, tp.path), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    otel_span_data *spans[N];
    for (int i = 0; i < N; i++) {
        spans[i] = make_span("s");
        spans[i]->start_ns = (uint64_t)i; /* order marker */
        attr_str(&spans[i]->attrs[0], "v", i == 150 ? big : medium);
        spans[i]->n_attrs = 1;
    }
    assert_int_equal(export_all(e, spans, N), OTEL_OK);
    size_t len = 0;
    char *text = slurp(tp.path, &len);
    assert_true(len > sizeof(big) + (N - 1) * sizeof(medium));
    char *p = text;
    for (int i = 0; i < N; i++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        cJSON *root = cJSON_Parse(p);
        assert_non_null(root);
        assert_int_equal(
            cJSON_GetObjectItemCaseSensitive(root, "start_time_unix_nano")->valuedouble, i);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "attributes");
        assert_int_equal(strlen(get_str(a, "v")), i == 150 ? sizeof(big) - 1 : sizeof(medium) - 1);
        cJSON_Delete(root);
        p = nl + 1;
    }
    assert_int_equal(*p, '\0');
    free(text);
    for (int i = 0; i < N; i++)
        free(spans[i]);
    otel_exporter_del(e);
    tmp_path_remove(&tp);
}

static void test_otel_console_export_spans_pretty(void **state)
{
    (void)state;
    otel_resource *r = NULL;
    assert_int_equal(otel_resource_new(&r, "demo"), OTEL_OK);

    tmp_path tp;
    tmp_path_make(&tp);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_PRETTY, tp.path), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);

    otel_span_data *s = make_span("GET /hello/{name}");
    s->resource = r;
    s->start_ns = T_PRETTY_START_NS;
    s->end_ns = T_PRETTY_START_NS + 1234567;
    attr_str(&s->attrs[0], "http.request.method", "GET");
    attr_int(&s->attrs[1], "http.response.status_code", 200);
    attr_bool(&s->attrs[2], "cached", false);
    attr_str(&s->attrs[3], "evil", "\x1b[31mred\n");
    attr_double(&s->attrs[4], "ratio", 0.1);
    attr_double(&s->attrs[5], "third", 1.0 / 3.0);
    static const char accept[] = "text/html\0*/*";
    attr_str_array(&s->attrs[6], "http.request.header.accept", accept, sizeof accept, 2);
    s->n_attrs = 7;
    s->events[0] = (otel_event){.name = "exception",
                                .time_ns = T_PRETTY_START_NS + 512000,
                                .attr_first = 0,
                                .attr_count = 1};
    s->n_events = 1;
    attr_str(&s->ev_attrs[0], "exception.type", "ValueError");
    otel_span_data *s2 = make_span("child");
    s2->resource = r;
    s2->has_parent = true;
    memcpy(s2->parent_span_id, s->ctx.span_id, 8);
    s2->status = OTEL_STATUS_ERROR;
    s2->status_message = "boom";
    otel_span_data *spans[2] = {s, s2};
    assert_int_equal(export_all(e, spans, 2), OTEL_OK);

    char *text = slurp(tp.path, NULL);
    assert_int_equal(count_substr(text, "resource: "), 1);
    assert_non_null(strstr(text, "resource: service.name=\"demo\""));
    assert_non_null(strstr(text, "span \"GET /hello/{name}\" server  "
                                 "trace=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf span=1011121314151617 "
                                 "parent=-\n"));
    assert_non_null(strstr(text, "  start 2026-11-24T22:10:03.123456789Z  duration 1.234 ms  "
                                 "status unset\n"));
    assert_non_null(strstr(text, "  attributes:\n"));
    assert_non_null(strstr(text, "    http.request.method = \"GET\"\n"));
    assert_non_null(strstr(text, "    http.response.status_code = 200\n"));
    assert_non_null(strstr(text, "    cached = false\n"));
    assert_non_null(strstr(text, "    evil = \"\\x1b[31mred\\n\"\n"));
    assert_null(strchr(text, '\x1b'));
    assert_non_null(strstr(text, "    ratio = 0.1\n"));
    assert_non_null(strstr(text, "    third = 0.33333333333333331\n"));
    assert_non_null(strstr(text, "    http.request.header.accept = [\"text/html\", \"*/*\"]\n"));
    assert_non_null(strstr(text, "  events:\n    exception at +0.512 ms\n"));
    assert_non_null(strstr(text, "      exception.type = \"ValueError\"\n"));
    assert_non_null(strstr(text, "parent=1011121314151617\n"));
    assert_non_null(strstr(text, "status error \"boom\"\n"));
    free(text);
    free(s);
    free(s2);
    otel_exporter_del(e);
    tmp_path_remove(&tp);
    otel_resource_del(r);
}

/* An export blocked in write(2), holding the exporter's lock. */
typedef struct blocked_export {
    otel_exporter *e;
    otel_span_data **spans;
    size_t n;
    int rc;
} blocked_export;

static void *export_thread(void *arg)
{
    blocked_export *b = arg;
    b->rc = export_all(b->e, b->spans, b->n);
    return NULL;
}

/* Read what is in the pipe rd (non-blocking) until th has returned;
 * false when it did not within about 20 s. */
static bool drain_until_joined(int rd, pthread_t th)
{
    char buf[65536];
    for (int i = 0; i < 20000; i++) {
        ssize_t r = read(rd, buf, sizeof buf);
        if (r > 0)
            continue;
        if (pthread_tryjoin_np(th, NULL) == 0)
            return true;
        usleep(1000);
    }
    return false;
}

/* A fork while another thread exports (its lock held, its write blocked
 * on a full pipe): the child's after_fork leaves it an exporter that
 * works; without it the child's first export waits forever for a lock
 * whose owner does not exist in the child. */
static void test_otel_console_after_fork_lock_free(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* ThreadSanitizer cannot run a multi-threaded fork's child */
#endif
    tmp_path tp;
    tmp_path_make(&tp);
    assert_int_equal(mkfifo(tp.path, 0600), 0);
    int rd = open(tp.path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    int pipe_size = fcntl(rd, F_GETPIPE_SZ);
    assert_true(pipe_size > 0);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, tp.path), OTEL_OK);
    blocked_export b = {.n = 2000};
    assert_int_equal(otel_console_exporter(c, &b.e), OTEL_OK);
    assert_non_null(b.e->after_fork_fn);
    b.spans = calloc(b.n, sizeof(*b.spans));
    assert_non_null(b.spans);
    otel_span_data *one = make_span("x");
    for (size_t i = 0; i < b.n; i++)
        b.spans[i] = one; /* far more lines than the pipe holds */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, export_thread, &b), 0);
    /* Wait (bounded) until the thread has written into the pipe: it is in
     * the export, holding the lock, and cannot finish while nobody reads
     * (its batch is far larger than the pipe). */
    int queued = 0;
    for (int i = 0; i < 20000 && queued < pipe_size / 2; i++) {
        usleep(1000);
        assert_int_equal(ioctl(rd, FIONREAD, &queued), 0);
    }
    assert_true(queued >= pipe_size / 2);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a child stuck on the lock dies of SIGALRM */
        b.e->after_fork_fn(b.e->user_data);
        /* An export of no span takes the lock and writes nothing: the
         * pipe, still full of the parent's batch, plays no part. */
        otel_span_data *mine[1] = {one};
        _exit(export_all(b.e, mine, 0) == OTEL_OK ? 0 : 3);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(drain_until_joined(rd, th));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(b.rc, OTEL_OK);
    otel_exporter_del(b.e);
    close(rd);
    free(b.spans);
    free(one);
    tmp_path_remove(&tp);
}

static void test_otel_console_export_spans_dev_full(void **state)
{
    (void)state;
    otel_console *c = NULL;
    if (otel_console_new(&c, OTEL_CONSOLE_JSON, "/dev/full") != OTEL_OK)
        skip();
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    otel_span_data *s = make_span("full");
    errno = 0;
    assert_int_equal(export_all(e, &s, 1), OTEL_ERR_IO);
    assert_int_equal(errno, ENOSPC);
    free(s);
    otel_exporter_del(e);
}

static void test_otel_console_export_spans_broken_pipe(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char path[64];
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[1]);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, path), OTEL_OK);
    close(fds[0]);
    close(fds[1]);
    void (*old)(int) = signal(SIGPIPE, SIG_IGN); /* the lead ignores it process-wide */
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    otel_span_data *s = make_span("pipe");
    errno = 0;
    assert_int_equal(export_all(e, &s, 1), OTEL_ERR_IO);
    assert_int_equal(errno, EPIPE);
    signal(SIGPIPE, old);
    free(s);
    otel_exporter_del(e);
}

static void test_otel_console_export_spans_nomem(void **state)
{
    (void)state;
    tmp_path tp;
    tmp_path_make(&tp);
    otel_console *c = NULL;
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_PRETTY, tp.path), OTEL_OK);
    otel_exporter *e = NULL;
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    otel_span_data *s = make_span("nomem");
    otel_alloc_fail_after(0); /* the output buffer cannot grow */
    int rc = export_all(e, &s, 1);
    otel_alloc_fail_after(-1);
    assert_int_equal(rc, OTEL_ERR_NOMEM);
    /* cJSON out of memory in JSON mode. */
    otel_exporter_del(e);
    assert_int_equal(otel_console_new(&c, OTEL_CONSOLE_JSON, tp.path), OTEL_OK);
    assert_int_equal(otel_console_exporter(c, &e), OTEL_OK);
    cJSON_Hooks hooks = {.malloc_fn = failing_malloc, .free_fn = free};
    cJSON_InitHooks(&hooks);
    cjson_fail_at = 0;
    rc = export_all(e, &s, 1);
    cjson_fail_at = -1;
    cJSON_InitHooks(NULL);
    assert_int_equal(rc, OTEL_ERR_NOMEM);
    /* And it works again afterwards. */
    assert_int_equal(export_all(e, &s, 1), OTEL_OK);
    size_t len = 0;
    char *text = slurp(tp.path, &len);
    assert_int_equal(check_json_lines(text, len), 1);
    free(text);
    free(s);
    otel_exporter_del(e);
    tmp_path_remove(&tp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_console_span_json_keys_in_order),
        cmocka_unit_test(test_otel_console_span_json_null),
        cmocka_unit_test(test_otel_console_span_json_ids_hex),
        cmocka_unit_test(test_otel_console_span_json_root_parent_empty),
        cmocka_unit_test(test_otel_console_span_json_kind_names),
        cmocka_unit_test(test_otel_console_span_json_times_exact),
        cmocka_unit_test(test_otel_console_span_json_attr_types),
        cmocka_unit_test(test_otel_console_span_json_str_array),
        cmocka_unit_test(test_otel_console_span_json_string_escaping),
        cmocka_unit_test(test_otel_console_span_json_events),
        cmocka_unit_test(test_otel_console_span_json_event_attrs_clamped),
        cmocka_unit_test(test_otel_console_span_json_status),
        cmocka_unit_test(test_otel_console_span_json_resource),
        cmocka_unit_test(test_otel_console_span_json_resource_empty_without_resource),
        cmocka_unit_test(test_otel_console_span_json_dropped_same_keys),
        cmocka_unit_test(test_otel_console_span_json_nomem),
        cmocka_unit_test(test_otel_console_new_unwritable_path),
        cmocka_unit_test(test_otel_console_new_invalid),
        cmocka_unit_test(test_otel_console_new_stdout_stderr),
        cmocka_unit_test(test_otel_console_new_nomem),
        cmocka_unit_test(test_otel_console_new_file_mode),
        cmocka_unit_test(test_otel_console_del_null),
        cmocka_unit_test(test_otel_console_exporter_vtable),
        cmocka_unit_test(test_otel_console_exporter_takes_console_on_failure),
        cmocka_unit_test(test_otel_console_export_spans_file_three_lines),
        cmocka_unit_test(test_otel_console_export_spans_large_batch),
        cmocka_unit_test(test_otel_console_export_spans_pretty),
        cmocka_unit_test(test_otel_console_after_fork_lock_free),
        cmocka_unit_test(test_otel_console_export_spans_dev_full),
        cmocka_unit_test(test_otel_console_export_spans_broken_pipe),
        cmocka_unit_test(test_otel_console_export_spans_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
