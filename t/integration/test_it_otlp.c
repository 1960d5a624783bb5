/* test_it_otlp.c - integration tests of the OTLP/gRPC exporter: the demo
 * server sends its spans to an independent receiver (../shared/otlp-sink,
 * Node and grpc-js), whose JSON lines are checked field by field against
 * what the console exporter printed for the same spans in the same run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/otel.h>
#include "../lib/itest.h"

#define PARENT_TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_SPAN_ID "00f067aa0ba902b7"
#define TRACEPARENT "traceparent: 00-" PARENT_TRACE_ID "-" PARENT_SPAN_ID "-01"
#define TRACESTATE_VALUE "vendor=abc,other=x"

#define FLAGS_LOCAL 0x101u  /* sampled, has-is-remote, parent not remote */
#define FLAGS_REMOTE 0x301u /* sampled, has-is-remote, parent remote */

#define PAD_LEN 900             /* bytes of the X-Pad header value */
#define MIB (1024u * 1024u)     /* a request larger than this is "large" */
#define ARRIVE_TIMEOUT_MS 15000 /* spans reach the sink within this */

/* The config every test starts from; the helper adds the otlp block, and
 * itest adds the console exporter and, unless given, otel_batch {
 * schedule_delay 100ms; }. */
#define BASE_CONF                                                                                  \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-otlp;\n"                                                              \
    "otel_resource_attr deployment.environment itest;\n"                                           \
    "otel_skip_path /health;\n"                                                                    \
    "otel_route /hello/{name} /hello /data /error;\n"                                              \
    "otel_capture_request_header X-User-ID X-Pad;\n"

typedef struct fixture {
    itest_server s;
    itest_sink k;
} fixture;

/* ---- fixtures ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return itest_group_setup_sink("test_it_otlp", NULL);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL || itest_fixture_init(&f->s, &f->k) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    itest_fixture_cleanup(&f->s, &f->k);
    free(f);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* Start the server with BASE_CONF, an otlp block to 127.0.0.1:port holding
 * otlp_extra, then conf_extra. */
static void server_start_ok(itest_server *s, uint16_t port, const char *otlp_extra,
                            const char *conf_extra)
{
    char conf[2048];
    int n = snprintf(conf, sizeof(conf),
                     BASE_CONF "otel_exporter otlp {\n"
                               "    endpoint http://127.0.0.1:%u;\n"
                               "%s"
                               "}\n"
                               "%s",
                     (unsigned int)port, otlp_extra, conf_extra);

    assert_true(n > 0 && (size_t)n < sizeof(conf));
    if (itest_server_start(s, conf) == 0)
        return;
    (void)itest_server_reap(s, 2000);
    fail_msg("%s did not print its listening line within 5 s (exit status %d)\n"
             "stdout: %s\nstderr: %s",
             itest_server_binary(), s->exit_status, s->out_text ? s->out_text : "",
             s->err_text ? s->err_text : "");
}

static int get(itest_server *s, const char *path, const char *const *extra)
{
    itest_response r;

    if (itest_curl(s, path, extra, &r) != 0)
        fail_msg("could not run curl for %s", path);
    itest_response_free(&r);
    return r.status;
}

static void read_exact(const char *path, itest_spans *sp)
{
    char why[256];

    if (itest_spans_read_exact(path, sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", path, why);
}

/* Wait until the sink holds at least want spans (of path, when not NULL). */
static void wait_sink(const itest_sink *k, const char *path, size_t want)
{
    size_t n = itest_sink_wait(k, path, want, ARRIVE_TIMEOUT_MS);

    if (n < want)
        fail_msg("after %d ms the sink holds %zu spans%s%s, want %zu", ARRIVE_TIMEOUT_MS, n,
                 path != NULL ? " of " : "", path != NULL ? path : "", want);
}

/* ended = exported + dropped + failed + rejected + queued, the last two
 * counted only when the line has them. Returns ended. */
static uint64_t assert_balance(const itest_server *s)
{
    uint64_t ended = itest_otlp_counter(s, "ended"), exported = itest_otlp_counter(s, "exported");
    uint64_t dropped = itest_otlp_counter(s, "dropped"), failed = itest_otlp_counter(s, "failed");
    uint64_t rejected = 0, queued = 0;

    (void)itest_server_counter(s, "rejected", &rejected);
    (void)itest_server_counter(s, "queued", &queued);
    itest_balance_ok(ended, exported, dropped, failed, rejected, queued);
    return ended;
}

/* No span id twice in sp. */
static void assert_unique(const itest_spans *sp)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *a = itest_span_str(sp->v[i], "span_id");
        assert_non_null(a);
        for (size_t j = i + 1; j < sp->n; j++) {
            const char *b = itest_span_str(sp->v[j], "span_id");
            if (b != NULL && strcmp(a, b) == 0)
                fail_msg("span %s received twice", a);
        }
    }
}

static const cJSON *find_by_id(const itest_spans *sp, const char *span_id)
{
    for (size_t i = 0; i < sp->n; i++) {
        const char *id = itest_span_str(sp->v[i], "span_id");
        if (id != NULL && strcmp(id, span_id) == 0)
            return sp->v[i];
    }
    return NULL;
}

static const cJSON *member(const cJSON *obj, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* An exact unsigned integer member of obj; fails the test otherwise. */
static uint64_t member_u64(const cJSON *obj, const char *name)
{
    uint64_t v = 0;

    if (!itest_json_u64(member(obj, name), &v))
        fail_msg("member %s is missing or not an exact integer", name);
    return v;
}

/* The integer (not string, not double) attribute key of span. */
static int64_t attr_int(const cJSON *span, const char *key)
{
    const cJSON *v = itest_span_attr(span, key);
    int64_t n = 0;

    if (!cJSON_IsRaw(v) || !itest_json_i64(v, &n))
        fail_msg("attribute %s is missing or not an integer", key);
    return n;
}

static const char *attr_str(const cJSON *span, const char *key)
{
    const char *v = itest_span_attr_str(span, key);

    if (v == NULL)
        fail_msg("attribute %s is missing or not a string", key);
    return v;
}

static int kind_number(const char *name)
{
    static const char *const names[] = {"", "internal", "server", "client", "producer", "consumer"};

    for (int i = 1; i < 6; i++)
        if (name != NULL && strcmp(name, names[i]) == 0)
            return i;
    fail_msg("unknown span kind \"%s\"", name != NULL ? name : "(null)");
    return -1;
}

static int status_number(const char *name)
{
    static const char *const names[] = {"unset", "ok", "error"};

    for (int i = 0; i < 3; i++)
        if (name != NULL && strcmp(name, names[i]) == 0)
            return i;
    fail_msg("unknown status code \"%s\"", name != NULL ? name : "(null)");
    return -1;
}

/* Two attribute objects hold the same keys with values of the same type and
 * value (ints exact). what names them in a failure. */
static void assert_attrs_equal(const cJSON *console, const cJSON *sink, const char *what)
{
    const cJSON *cv;

    if (!cJSON_IsObject(console) || !cJSON_IsObject(sink))
        fail_msg("%s: attributes missing", what);
    if (cJSON_GetArraySize(console) != cJSON_GetArraySize(sink))
        fail_msg("%s: %d attributes on the console, %d received", what, cJSON_GetArraySize(console),
                 cJSON_GetArraySize(sink));
    cJSON_ArrayForEach(cv, console)
    {
        const cJSON *sv = member(sink, cv->string);
        if (sv == NULL || !cJSON_Compare(cv, sv, true)) {
            char *a = cJSON_PrintUnformatted(cv);
            char *b = sv != NULL ? cJSON_PrintUnformatted(sv) : NULL;
            fail_msg("%s: attribute %s is %s (type %d) on the console, %s (type %d) received", what,
                     cv->string, a ? a : "?", cv->type & 0xff, b ? b : "(none)",
                     sv != NULL ? sv->type & 0xff : -1);
        }
    }
}

static void assert_member_str(const cJSON *c, const cJSON *k, const char *name)
{
    const char *a = itest_span_str(c, name), *b = itest_span_str(k, name);

    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        fail_msg("%s: \"%s\" on the console, \"%s\" received", name, a ? a : "(none)",
                 b ? b : "(none)");
}

/* A time of the console (a Raw integer) equals the sink's (a decimal
 * string), digit for digit. */
static void assert_time_equal(const cJSON *c, const cJSON *k, const char *name)
{
    const cJSON *a = member(c, name), *b = member(k, name);

    if (!cJSON_IsRaw(a) || !cJSON_IsString(b) || strcmp(a->valuestring, b->valuestring) != 0)
        fail_msg("%s: %s on the console, %s received", name,
                 cJSON_IsRaw(a) ? a->valuestring : "(none)",
                 cJSON_IsString(b) ? b->valuestring : "(not a string)");
}

static void assert_events_equal(const cJSON *c, const cJSON *k)
{
    const cJSON *ce = member(c, "events"), *ke = member(k, "events");
    int n = cJSON_GetArraySize(ce);

    assert_true(cJSON_IsArray(ce));
    assert_true(cJSON_IsArray(ke));
    assert_int_equal(cJSON_GetArraySize(ke), n);
    for (int i = 0; i < n; i++) {
        const cJSON *a = cJSON_GetArrayItem(ce, i), *b = cJSON_GetArrayItem(ke, i);
        assert_member_str(a, b, "name");
        assert_time_equal(a, b, "time_unix_nano");
        assert_attrs_equal(member(a, "attributes"), member(b, "attributes"), "event");
        assert_int_equal(member_u64(b, "dropped_attributes_count"), 0);
    }
    assert_int_equal(member_u64(k, "dropped_events_count"), 0);
}

/* Every field the console printed equals what the sink received; the
 * fields only OTLP has are checked against what they must be. */
static void assert_span_equal(const cJSON *c, const cJSON *k)
{
    const cJSON *cs = member(c, "status"), *ks = member(k, "status");
    const cJSON *scope = member(k, "scope");
    const char *parent = itest_span_str(c, "parent_span_id");
    bool remote = parent != NULL && strcmp(parent, PARENT_SPAN_ID) == 0;

    assert_member_str(c, k, "trace_id");
    assert_member_str(c, k, "span_id");
    assert_member_str(c, k, "parent_span_id");
    assert_member_str(c, k, "name");
    assert_int_equal(member_u64(k, "kind"), kind_number(itest_span_str(c, "kind")));
    assert_time_equal(c, k, "start_time_unix_nano");
    assert_time_equal(c, k, "end_time_unix_nano");
    assert_attrs_equal(member(c, "attributes"), member(k, "attributes"), itest_span_str(c, "name"));
    assert_int_equal(member_u64(k, "dropped_attributes_count"), 0);
    assert_events_equal(c, k);
    assert_int_equal(member_u64(ks, "code"), status_number(itest_span_str(cs, "code")));
    assert_member_str(cs, ks, "message");
    if (!cJSON_Compare(member(c, "resource"), member(k, "resource"), true)) {
        char *a = cJSON_PrintUnformatted(member(c, "resource"));
        char *b = cJSON_PrintUnformatted(member(k, "resource"));
        fail_msg("resource: %s on the console, %s received", a ? a : "?", b ? b : "?");
    }
    assert_string_equal(itest_span_str(scope, "name"), "mhd-otel");
    assert_string_equal(itest_span_str(scope, "version"), OTEL_SDK_VERSION);
    assert_int_equal(member_u64(k, "flags"), remote ? FLAGS_REMOTE : FLAGS_LOCAL);
    assert_string_equal(itest_span_str(k, "trace_state"), remote ? TRACESTATE_VALUE : "");
    assert_int_equal(cJSON_GetArraySize(member(k, "links")), 0);
    assert_int_equal(member_u64(k, "dropped_links_count"), 0);
    assert_string_equal(itest_span_str(k, "transport"), "grpc");
}

/* The console's spans and the sink's are the same n spans. */
static void assert_outputs_equal(const fixture *f, size_t n)
{
    itest_spans console, sink;

    read_exact(f->s.spans_path, &console);
    read_exact(f->k.out_path, &sink);
    assert_int_equal(console.n, n);
    assert_int_equal(sink.n, n);
    assert_unique(&sink);
    for (size_t i = 0; i < console.n; i++) {
        const char *id = itest_span_str(console.v[i], "span_id");
        const cJSON *k = id != NULL ? find_by_id(&sink, id) : NULL;
        if (k == NULL)
            fail_msg("span %s (%s) was not received", id ? id : "?",
                     itest_span_str(console.v[i], "name"));
        assert_span_equal(console.v[i], k);
    }
    itest_spans_free(&console);
    itest_spans_free(&sink);
}

/* "X-Pad: aaa...a" (PAD_LEN bytes of value) into buf. */
static const char *pad_header(char *buf, size_t cap)
{
    size_t n = strlen("X-Pad: ");

    assert_true(cap > n + PAD_LEN);
    memcpy(buf, "X-Pad: ", n);
    memset(buf + n, 'a', PAD_LEN);
    buf[n + PAD_LEN] = '\0';
    return buf;
}

/* ---- tests ---------------------------------------------------------------- */

/* Every field of every span, against the console exporter of the same run. */
static void test_otlp_spans_match_console(void **state)
{
    fixture *f = *state;
    const char *user[] = {"-H", "X-User-ID: u-42", NULL};
    const char *parent[] = {"-H", TRACEPARENT, "-H", "tracestate: " TRACESTATE_VALUE, NULL};
    itest_spans sp;
    const cJSON *span, *data, *child, *ev;

    itest_sink_start_ok(&f->k, 0, NULL);
    server_start_ok(&f->s, f->k.port, "", "");
    assert_int_equal(get(&f->s, "/hello/Alice", user), 200);
    assert_int_equal(get(&f->s, "/data", NULL), 200);
    assert_int_equal(get(&f->s, "/error", NULL), 500);
    assert_int_equal(get(&f->s, "/hello/Bob", parent), 200);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    assert_outputs_equal(f, 6);

    /* What the fields must be, not only that both exporters agree. */
    read_exact(f->k.out_path, &sp);
    span = itest_spans_find_attr(&sp, "url.path", "/hello/Alice");
    assert_non_null(span);
    assert_string_equal(itest_span_str(span, "name"), "GET /hello/{name}");
    assert_int_equal(member_u64(span, "kind"), 2);
    assert_string_equal(itest_span_str(span, "parent_span_id"), "");
    assert_true(itest_is_hex_id(itest_span_str(span, "trace_id"), 32));
    assert_true(itest_is_hex_id(itest_span_str(span, "span_id"), 16));
    assert_true(member_u64(span, "start_time_unix_nano") <= member_u64(span, "end_time_unix_nano"));
    assert_int_equal(attr_int(span, "http.response.status_code"), 200);
    assert_int_equal(attr_int(span, "server.port"), f->s.port);
    /* A string array at the sink too (AnyValue.array_value). */
    assert_int_equal(itest_span_attr_array_len(span, "http.request.header.x-user-id"), 1);
    assert_string_equal(itest_span_attr_array_str(span, "http.request.header.x-user-id", 0),
                        "u-42");
    assert_string_equal(attr_str(span, "user.name"), "Alice");
    assert_int_equal(member_u64(member(span, "status"), "code"), 0);
    assert_string_equal(itest_span_resource_str(span, "service.name"), "itest-otlp");
    assert_string_equal(itest_span_resource_str(span, "deployment.environment"), "itest");
    assert_string_equal(itest_span_resource_str(span, "telemetry.sdk.version"), OTEL_SDK_VERSION);

    data = itest_spans_find_attr(&sp, "url.path", "/data");
    assert_non_null(data);
    child = itest_spans_find(&sp, "fetch-user-data");
    assert_non_null(child);
    assert_int_equal(member_u64(child, "kind"), 1);
    assert_string_equal(itest_span_str(child, "parent_span_id"), itest_span_str(data, "span_id"));
    assert_string_equal(itest_span_str(child, "trace_id"), itest_span_str(data, "trace_id"));
    assert_int_equal(attr_int(child, "user.id"), 123);
    assert_string_equal(attr_str(child, "operation"), "database_query");
    child = itest_spans_find(&sp, "process-data");
    assert_non_null(child);
    assert_string_equal(itest_span_str(child, "parent_span_id"), itest_span_str(data, "span_id"));

    span = itest_spans_find_attr(&sp, "url.path", "/error");
    assert_non_null(span);
    assert_int_equal(member_u64(member(span, "status"), "code"), 2);
    assert_string_equal(itest_span_str(member(span, "status"), "message"),
                        "Something went wrong in /error");
    assert_int_equal(attr_int(span, "http.response.status_code"), 500);
    ev = itest_span_event(span, "exception");
    assert_non_null(ev);
    assert_string_equal(itest_event_attr_str(ev, "exception.type"), "ValueError");
    assert_true(member_u64(ev, "time_unix_nano") >= member_u64(span, "start_time_unix_nano"));

    span = itest_spans_find_attr(&sp, "url.path", "/hello/Bob");
    assert_non_null(span);
    assert_string_equal(itest_span_str(span, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(span, "parent_span_id"), PARENT_SPAN_ID);
    assert_int_equal(member_u64(span, "flags"), FLAGS_REMOTE);
    itest_spans_free(&sp);
    assert_int_equal(assert_balance(&f->s), 6);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 6);
}

/* compression gzip: the spans arrive whole, and far fewer bytes cross the
 * wire than the receiver decodes. */
/* otel_trust_incoming off: a new trace whose one link is the incoming
 * context, with its tracestate. */
static void test_otlp_untrusted_parent_is_link(void **state)
{
    fixture *f = *state;
    const char *parent[] = {"-H", TRACEPARENT, "-H", "tracestate: " TRACESTATE_VALUE, NULL};
    itest_spans sp;

    itest_sink_start_ok(&f->k, 0, NULL);
    server_start_ok(&f->s, f->k.port, "", "otel_trust_incoming off;\n");
    assert_int_equal(get(&f->s, "/hello/untrusted", parent), 200);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    read_exact(f->k.out_path, &sp);
    assert_int_equal(sp.n, 1);
    const cJSON *k = sp.v[0];
    assert_string_not_equal(itest_span_str(k, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(k, "parent_span_id"), "");
    assert_string_equal(itest_span_str(k, "trace_state"), "");
    const cJSON *links = member(k, "links");
    assert_int_equal(cJSON_GetArraySize(links), 1);
    const cJSON *l = cJSON_GetArrayItem(links, 0);
    assert_string_equal(itest_span_str(l, "trace_id"), PARENT_TRACE_ID);
    assert_string_equal(itest_span_str(l, "span_id"), PARENT_SPAN_ID);
    assert_string_equal(itest_span_str(l, "trace_state"), TRACESTATE_VALUE);
    assert_int_equal(member_u64(l, "flags"), 0x301u); /* sampled, remote */
    assert_int_equal(member_u64(k, "dropped_links_count"), 0);
    itest_spans_free(&sp);
}

static void test_otlp_gzip(void **state)
{
    fixture *f = *state;
    char pad[PAD_LEN + 16];
    const char *extra[] = {"-H", pad_header(pad, sizeof(pad)), NULL};
    itest_proxy *proxy = NULL;
    uint64_t wire = 0, decoded = 0;

    itest_sink_start_ok(&f->k, 0, NULL);
    assert_int_equal(itest_proxy_start(&proxy, f->k.port), 0);
    server_start_ok(&f->s, itest_proxy_port(proxy), "    compression gzip;\n", "");
    assert_int_equal(itest_curl_repeat_with(&f->s, "/hello/gz", 20, 200, extra), 20);
    assert_int_equal(get(&f->s, "/data", NULL), 200);
    itest_server_stop_ok(&f->s);
    itest_proxy_stop(proxy, &wire, NULL);
    itest_sink_stop_ok(&f->k);
    assert_outputs_equal(f, 23);
    assert_true(itest_sink_final_stat(&f->k, "bytes", &decoded));
    if (!(decoded > 20 * PAD_LEN && wire < decoded / 3))
        fail_msg("gzip: %llu bytes on the wire for %llu bytes of requests",
                 (unsigned long long)wire, (unsigned long long)decoded);
}

/* 2000 spans of about 1.2 kB in one export: a request over 1 MiB. */
static void test_otlp_large_batch(void **state)
{
    fixture *f = *state;
    enum { N = 2000 };
    char pad[PAD_LEN + 16];
    const char *extra[] = {"-H", pad_header(pad, sizeof(pad)), NULL};
    itest_proxy *proxy = NULL;
    itest_spans sp;
    uint64_t wire = 0, decoded = 0, requests = 0, max_seq = 0;
    size_t per_seq[64] = {0}, most = 0;

    itest_sink_start_ok(&f->k, 0, NULL);
    assert_int_equal(itest_proxy_start(&proxy, f->k.port), 0);
    /* A long schedule delay: the whole run leaves in the flush at shutdown. */
    server_start_ok(&f->s, itest_proxy_port(proxy), "",
                    "otel_batch {\n"
                    "    max_queue_size 4096;\n"
                    "    max_export_batch_size 2048;\n"
                    "    schedule_delay 60s;\n"
                    "}\n");
    assert_int_equal(itest_curl_repeat_with(&f->s, "/hello/big", N, 200, extra), N);
    itest_server_stop_ok(&f->s);
    itest_proxy_stop(proxy, &wire, NULL);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(assert_balance(&f->s), N);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), N);

    read_exact(f->k.out_path, &sp);
    assert_int_equal(sp.n, N);
    assert_unique(&sp);
    for (size_t i = 0; i < sp.n; i++) {
        uint64_t seq = member_u64(sp.v[i], "export_seq");
        assert_in_range(seq, 1, 63);
        const char *v = itest_span_attr_array_str(sp.v[i], "http.request.header.x-pad", 0);
        assert_non_null(v);
        assert_int_equal(strlen(v), PAD_LEN);
        per_seq[seq]++;
        max_seq = seq > max_seq ? seq : max_seq;
    }
    for (size_t i = 0; i < 64; i++)
        most = per_seq[i] > most ? per_seq[i] : most;
    itest_spans_free(&sp);
    assert_true(itest_sink_final_stat(&f->k, "bytes", &decoded));
    assert_true(itest_sink_final_stat(&f->k, "accepted", &requests));
    assert_int_equal(requests, max_seq);
    /* the largest export carried more than 1 MiB of padding alone */
    if (most * PAD_LEN <= MIB || decoded <= MIB)
        fail_msg("largest export: %zu spans; %llu bytes in %llu requests", most,
                 (unsigned long long)decoded, (unsigned long long)requests);
    /* no compression: everything decoded crossed the wire */
    assert_true(wire >= decoded);
}

/* The first 3 Export calls fail (UNAVAILABLE): retried, nothing lost. */
static void test_otlp_retry_after_failures(void **state)
{
    fixture *f = *state;
    static const char *const fail3[] = {"--fail-first", "3", NULL};
    itest_spans sp;
    uint64_t injected = 0;

    itest_sink_start_ok(&f->k, 0, fail3);
    server_start_ok(&f->s, f->k.port, "    timeout 10s;\n", "");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/retry", 10, 200), 10);
    wait_sink(&f->k, "/hello/retry", 10);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    assert_true(itest_sink_final_stat(&f->k, "failures_injected", &injected));
    assert_int_equal(injected, 3);
    read_exact(f->k.out_path, &sp);
    assert_int_equal(sp.n, 10);
    assert_unique(&sp);
    itest_spans_free(&sp);
    assert_int_equal(assert_balance(&f->s), 10);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 10);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 0);
}

/* The receiver comes up only after the server sent its first spans. */
static void test_otlp_sink_starts_late(void **state)
{
    fixture *f = *state;
    uint16_t port = 0;
    itest_spans sp;

    assert_int_equal(itest_port_reserve(&port), 0);
    server_start_ok(&f->s, port, "    timeout 10s;\n", "");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/late", 10, 200), 10);
    itest_sleep_ms(300); /* the first export has been tried and refused */
    itest_sink_start_ok(&f->k, port, NULL);
    wait_sink(&f->k, "/hello/late", 10);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    read_exact(f->k.out_path, &sp);
    assert_int_equal(sp.n, 10);
    assert_unique(&sp);
    itest_spans_free(&sp);
    assert_int_equal(assert_balance(&f->s), 10);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 10);
}

/* The receiver dies (SIGKILL) mid-run and comes back on the same port. */
static void test_otlp_sink_killed_and_restarted(void **state)
{
    fixture *f = *state;

    itest_sink_start_ok(&f->k, 0, NULL);
    server_start_ok(&f->s, f->k.port, "    timeout 2s;\n", "");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/one", 20, 200), 20);
    wait_sink(&f->k, "/hello/one", 20);
    itest_sleep_ms(300); /* the exporter has read the answer: killing loses nothing */
    assert_int_equal(itest_sink_kill(&f->k), 0);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/two", 20, 200), 20);
    itest_sleep_ms(300);
    if (itest_sink_restart(&f->k) != 0)
        fail_msg("the sink did not restart on port %u\nstderr: %s", (unsigned int)f->k.port,
                 f->k.err_text ? f->k.err_text : "");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/three", 20, 200), 20);
    wait_sink(&f->k, "/hello/three", 20);
    assert_int_equal(get(&f->s, "/hello/after", NULL), 200);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(assert_balance(&f->s), 61);
    assert_int_equal(itest_sink_count(&f->k, "/hello/one"), 20);
    assert_int_equal(itest_sink_count(&f->k, "/hello/three"), 20);
}

/* Partial success: the receiver reports 2 spans rejected per Export. */
static void test_otlp_partial_success(void **state)
{
    fixture *f = *state;
    static const char *const reject[] = {"--reject-spans", "2", NULL};
    uint64_t reported = 0, rejected;

    itest_sink_start_ok(&f->k, 0, reject);
    server_start_ok(&f->s, f->k.port, "", "");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/rej", 10, 200), 10);
    wait_sink(&f->k, "/hello/rej", 10);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(assert_balance(&f->s), 10);
    rejected = itest_otlp_counter(&f->s, "rejected");
    assert_true(itest_sink_final_stat(&f->k, "rejected_spans_reported", &reported));
    if (rejected == 0 || rejected > reported)
        fail_msg("rejected=%llu in the counters, the sink reported %llu rejected",
                 (unsigned long long)rejected, (unsigned long long)reported);
}

/* Nothing listens at the endpoint: every request is still answered, fast. */
static void test_otlp_unreachable_endpoint(void **state)
{
    fixture *f = *state;
    uint16_t port = 0;
    uint64_t t0;
    int ok = 0;

    assert_int_equal(itest_port_reserve(&port), 0);
    server_start_ok(&f->s, port, "    timeout 1s;\n",
                    "otel_batch { schedule_delay 100ms; export_timeout 2s; }\n");
    t0 = itest_now_ms();
    for (int round = 0; round < 5; round++) {
        ok += itest_curl_repeat(&f->s, "/hello/void", 10, 200);
        itest_sleep_ms(150);
    }
    assert_int_equal(ok, 50);
    /* 50 local requests and 5 pauses of 150 ms; a request waiting for the
     * exporter would wait its 1 s timeout: 50 s */
    if (itest_now_ms() - t0 > 30000)
        fail_msg("50 requests took %llu ms", (unsigned long long)(itest_now_ms() - t0));
    itest_server_stop_ok(&f->s);
    assert_int_equal(assert_balance(&f->s), 50);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 0);
}

/* ---- a collector that is down, never answers, or answers late ------------ */

/* A blackholed collector (see itest_listen_local). */
static int blackhole_open(uint16_t *port)
{
    int fd = itest_listen_local(0, port);

    assert_true(fd >= 0);
    return fd;
}

/* Spans in the console exporter's file (0 while it does not exist). */
static size_t console_count(const itest_server *s)
{
    itest_spans sp;
    char why[256];
    size_t n;

    if (access(s->spans_path, F_OK) != 0)
        return 0;
    if (itest_spans_read(s->spans_path, &sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", s->spans_path, why);
    n = sp.n;
    itest_spans_free(&sp);
    return n;
}

/* One pipeline per exporter: with the OTLP exporter stuck in an export to
 * a collector that never answers (its deadline a minute away), the console
 * exporter still writes every span within a schedule delay or so, round
 * after round. With one queue for both, the console would wait the minute
 * out behind the OTLP export. */
static void test_console_keeps_going_while_collector_blackholed(void **state)
{
    fixture *f = *state;
    uint16_t port = 0;
    int hole = blackhole_open(&port);

    server_start_ok(&f->s, port, "    timeout 60s;\n",
                    "otel_batch { schedule_delay 100ms; export_timeout 60s; }\n");
    for (int round = 1; round <= 4; round++) {
        assert_int_equal(itest_curl_repeat(&f->s, "/hello/round", 5, 200), 5);
        uint64_t deadline = itest_now_ms() + 20000;
        while (console_count(&f->s) < (size_t)round * 5 && itest_now_ms() < deadline)
            itest_sleep_ms(50);
        if (console_count(&f->s) < (size_t)round * 5)
            fail_msg("round %d: the console has %zu spans, want %d, with the collector "
                     "blackholed",
                     round, console_count(&f->s), round * 5);
    }
    /* A stop would wait for the OTLP export's minute: not what this test
     * is about. */
    kill(f->s.pid, SIGKILL);
    (void)itest_server_reap(&f->s, 10000);
    close(hole);
}

/* OTel trace SDK spec, "Shutdown" (SHOULD complete or abort within some
 * timeout) and "Batching processor" (exportTimeoutMillis): 300 queued
 * spans in batches of 8 (38 exports) and a collector that does not help:
 * the server's stop takes one export_timeout (2 s) in all, not one per
 * batch (76 s) nor the exporter's own 10 s timeout per batch; what is not
 * exported is counted failed and said once. */
static void shutdown_bounded(fixture *f, uint16_t port, const char *how)
{
    uint64_t t0, took;

    server_start_ok(&f->s, port, "    timeout 10s;\n",
                    "otel_batch { schedule_delay 1h; max_export_batch_size 8; "
                    "export_timeout 2s; }\n");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/queued", 300, 200), 300);
    t0 = itest_now_ms();
    itest_server_stop_ok(&f->s);
    took = itest_now_ms() - t0;
    /* 2 s, and room for a loaded machine; before one pipeline per
     * exporter with deadlines this took 16-47 s. */
    if (took > 7000)
        fail_msg("%s collector: the stop took %llu ms with export_timeout 2s", how,
                 (unsigned long long)took);
    assert_int_equal(assert_balance(&f->s), 300);
    assert_int_equal(itest_otlp_counter(&f->s, "queued"), 0);
    assert_int_equal(itest_otlp_counter(&f->s, "exported") + itest_otlp_counter(&f->s, "failed"),
                     300);
    /* What the deadline left in the queue is said once, with its count. */
    const char *said = strstr(f->s.err_text, "before the shutdown deadline");
    if (said != NULL)
        assert_null(strstr(said + 1, "before the shutdown deadline"));
    /* The console exporter, not held up, wrote them all. */
    assert_int_equal(console_count(&f->s), 300);
}

static void test_shutdown_bounded_blackholed_collector(void **state)
{
    fixture *f = *state;
    uint16_t port = 0;
    int hole = blackhole_open(&port);

    shutdown_bounded(f, port, "blackholed");
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 300);
    /* The first export waited out the deadline: the rest was left queued. */
    assert_non_null(strstr(f->s.err_text, "spans could not be exported before the shutdown "
                                          "deadline (counted failed)"));
    close(hole);
}

static void test_shutdown_bounded_refusing_collector(void **state)
{
    fixture *f = *state;
    uint16_t port = 0;

    assert_int_equal(itest_port_reserve(&port), 0); /* nothing listens there */
    shutdown_bounded(f, port, "refusing");
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 300);
}

/* A collector that answers every call 5 s late, past the 2 s deadline. */
static void test_shutdown_bounded_slow_collector(void **state)
{
    fixture *f = *state;
    static const char *const slow[] = {"--delay-ms", "5000", NULL};

    itest_sink_start_ok(&f->k, 0, slow);
    shutdown_bounded(f, f->k.port, "slow");
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 0);
    itest_sink_stop_ok(&f->k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_otlp_spans_match_console, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_untrusted_parent_is_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_large_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_retry_after_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_sink_starts_late, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_sink_killed_and_restarted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_partial_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_unreachable_endpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_console_keeps_going_while_collector_blackholed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_bounded_blackholed_collector, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_bounded_refusing_collector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_bounded_slow_collector, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
