/* test_failmalloc.c - the n-th allocation fails, for every n, on the span, config, exporter and
 * module paths: no crash, no leak (LeakSanitizer in the ASan build) and a clear error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <nghttp2/nghttp2.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include "../../exporter/grpc.h"
#include "../../exporter/h2.h"
#include "../../exporter/retry.h"
#include "../lib/fake_grpc.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/stat.h>

#include <mhd-otel/client.h>
#include "../../core/exporter_int.h"
#include "../../core/span_int.h"
#include "../../core/tracer_int.h"
#include "../../exporter/console.h"
#include "../../exporter/otlp.h"
#include "../../exporter/otlp_encode.h"
#include "../../module/conf.h"
#include <mhd-otel/mhd_otel.h>
#include <mhd-otel/mhd_otel_curl.h>
#include "../../module/request.h"
#include "../../core/test_hooks.h"

#define FAIL_MAX 100000          /* allocations an operation may make */
#define SEC UINT64_C(1000000000) /* ns */
#define WAIT_NS (30 * SEC)       /* bound of a flush, never a wait */
#define HTTP_WAIT_MS 10000       /* bound of one HTTP exchange */
#define BATCH_MAX 12             /* spans of the exporters' batch */
#define BIG_VALUE_LEN 3000       /* an attribute that makes buffers grow */
#define REQ_HOLD 64              /* request states taken out of the pool */
#define GZIP_MSG_LEN (64 * 1024) /* a message framed with gzip */
#define HTTP_HEAD "HTTP/1.1 "    /* an HTTP/1.1 status line */
#define TRACEPARENT "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* What an out pointer holds before a call that must set it (NULL on failure). */
static char unset_target;
#define UNSET ((void *)&unset_target)

/* ---- the loop ----------------------------------------------------------- */

/* One whole operation that cleans up after itself and returns OTEL_OK when it
 * did all it is for, else the negative code its failure gave. n is the
 * allocation that fails (-1: none), for an operation that arms the injector
 * itself around the part under test; the others are armed by fail_each. */
typedef int (*fail_op)(long n);

static long cur_n = -1; /* the allocation failing in the running op, for messages */

/* Run op once with no failure (it must succeed), then with the n-th
 * allocation failing for n = 0, 1, ... until op succeeds with the injector
 * armed at n: every allocation it makes fits before the n-th. op asserts
 * what each failure must give. Returns that n: its allocation points. */
static long fail_each(const char *what, fail_op op, bool op_arms)
{
    cur_n = -1;
    int rc = op(-1);
    if (rc != OTEL_OK)
        fail_msg("%s: fails with no allocation failing: %s", what, otel_strerror(rc));
    long n;
    for (n = 0; n < FAIL_MAX; n++) {
        cur_n = n;
        if (!op_arms)
            otel_alloc_fail_after(n);
        rc = op(n);
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK)
            break;
        if (rc > 0)
            fail_msg("%s: allocation %ld failing gave %d, not an error code", what, n, rc);
    }
    if (n == FAIL_MAX)
        fail_msg("%s: still failing with allocation %d failing", what, FAIL_MAX);
    cur_n = -1;
    print_message("failmalloc: %s: %ld allocation points\n", what, n);
    return n;
}

/* A message a person can read: not empty, no control bytes. */
static void assert_clear(const char *msg)
{
    assert_non_null(msg);
    if (msg[0] == '\0')
        fail_msg("empty error message (allocation %ld failing)", cur_n);
    for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            fail_msg("control byte 0x%02x in \"%s\" (allocation %ld failing)", *p, msg, cur_n);
}

/* ---- the library's log -------------------------------------------------- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];
static bool log_bad; /* a message held a control byte */

/* Messages come from any thread: kept, checked by the test's thread. */
static void capture_log(void *ud, otel_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_mu);
    for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            log_bad = true;
    size_t len = strlen(log_text);
    snprintf(log_text + len, sizeof(log_text) - len, "%s\n", msg);
    pthread_mutex_unlock(&log_mu);
}

static void log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    log_text[0] = '\0';
    pthread_mutex_unlock(&log_mu);
}

static bool log_has(const char *s)
{
    pthread_mutex_lock(&log_mu);
    bool found = strstr(log_text, s) != NULL;
    pthread_mutex_unlock(&log_mu);
    return found;
}

/* ---- files -------------------------------------------------------------- */

static char tmp_dir[64];
static char module_conf[128];  /* console to module_spans, OTLP to a closed port */
static char module_spans[128]; /* the module's console output */

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_dir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* The bytes of path from offset on (heap, NUL-terminated, freed with free);
 * "" when the file is missing or shorter. */
static char *read_from(const char *path, off_t offset)
{
    struct stat st;
    size_t len = 0;
    if (stat(path, &st) == 0 && st.st_size > offset)
        len = (size_t)(st.st_size - offset);
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    int fd = len > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    size_t got = 0;
    if (fd >= 0) {
        ssize_t r;
        while (got < len && (r = pread(fd, buf + got, len - got, offset + (off_t)got)) > 0)
            got += (size_t)r;
        close(fd);
    }
    buf[got] = '\0';
    return buf;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p++)
        n += *p == '\n';
    return n;
}

/* ---- spans -------------------------------------------------------------- */

static const otel_span_context remote_ctx = {
    .trace_id = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
                 0x47, 0x36},
    .span_id = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
    .trace_flags = OTEL_TRACE_FLAG_SAMPLED,
    .is_remote = true,
};

static char big_value[BIG_VALUE_LEN + 1];

/* Everything a span can carry: attributes of every type (and through every
 * setter), events with attributes of every type, an exception, a link, a
 * new name and an ERROR status. Every call accepts a NULL span. */
static void fill_span(otel_span *s, const otel_span_context *link_to)
{
    otel_span_set_attr_str(s, "http.request.method", "GET");
    otel_span_set_attr_strn(s, "url.path", "/items/42?x=1", 9);
    otel_span_set_attr_bool(s, "app.cached", true);
    otel_span_set_attr_int(s, "app.count", -42);
    otel_span_set_attr_double(s, "app.ratio", 0.25);
    otel_span_set_attr_double(s, "app.nan", NAN);
    otel_span_set_attr_double(s, "app.inf", -INFINITY);
    otel_span_set_attr_str(s, "app.text", "tab\there \"quoted\" \xc2\x85 bad \xff utf-8");
    otel_kv kv = OTEL_KV_STR("app.kv", "from a kv");
    otel_span_set_attr(s, &kv);
    otel_span_set_attr_str(s, "app.count", "replaced by a string");
    otel_span_add_attr_strn_sk(s, OTEL_KEY("app.static_key"), "value", 5);
    otel_span_add_attr_int_sk(s, OTEL_KEY("app.static_int"), 7);
    const otel_kv ev[] = {OTEL_KV_STR("ev.s", "v"), OTEL_KV_INT("ev.i", 1),
                          OTEL_KV_BOOL("ev.b", false), OTEL_KV_DOUBLE("ev.d", 1.5)};
    otel_span_add_event(s, "cache.miss", 0, ev, sizeof(ev) / sizeof(ev[0]));
    otel_span_add_event(s, "no attributes", 0, NULL, 0);
    otel_span_record_exception(s, "io_error", "disk full");
    otel_span_add_link(s, link_to, "vendor=x,other=y");
    otel_span_add_link(s, &remote_ctx, NULL);
    otel_span_update_name(s, "GET /items/{id}");
    otel_span_set_status(s, OTEL_STATUS_ERROR, "boom:\n\tthe disk is full");
}

/* A tracer with a resource of its own and no exporter: its worker is not
 * started, its spans are ended into its queue and released by
 * otel_tracer_del. */
static otel_tracer *plain_tracer(const char *service)
{
    otel_resource *r;
    assert_int_equal(otel_resource_new(&r, service), OTEL_OK);
    assert_int_equal(otel_resource_set(r, "deployment.environment", "test"), OTEL_OK);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    assert_int_equal(otel_sampler_init(&cfg.sampler, OTEL_SAMPLER_ALWAYS_ON, 1.0), OTEL_OK);
    otel_tracer *t;
    assert_int_equal(otel_tracer_new(&t, &cfg, r), OTEL_OK);
    return t;
}

/* The batch the exporters are given: spans of two tracers (two resources),
 * interleaved, not ended (their end times are set by hand) so that they stay
 * valid through the test; the teardown ends them. */
static struct {
    otel_tracer *t[2];
    otel_span *spans[BATCH_MAX];
    const otel_span_data *views[BATCH_MAX]; /* spans[i]->d, as exporters get them */
    size_t n;
} batch;

static otel_span *batch_add(otel_tracer *t, const char *name, const otel_span_options *opt)
{
    otel_span *s = otel_span_start(t, name, opt);
    assert_non_null(s);
    batch.views[batch.n] = &s->d;
    batch.spans[batch.n++] = s;
    return s;
}

static void batch_make(void)
{
    memset(&batch, 0, sizeof(batch));
    batch.t[0] = plain_tracer("failmalloc-a");
    batch.t[1] = plain_tracer("failmalloc-b \xe2\x82\xac");
    otel_span_options server = {
        .kind = OTEL_SPAN_KIND_SERVER, .parent = &remote_ctx, .tracestate = "vendor=a"};
    otel_span *root = batch_add(batch.t[0], "root", &server);
    fill_span(root, &remote_ctx);
    otel_span_context root_ctx = otel_span_get_context(root);
    otel_span_options client = {.kind = OTEL_SPAN_KIND_CLIENT, .parent = &root_ctx};
    otel_span *c = batch_add(batch.t[0], "client", &client);
    otel_span_set_attr_strn(c, "app.big", big_value, BIG_VALUE_LEN);
    otel_span_set_status(c, OTEL_STATUS_OK, NULL);
    otel_span_options internal = {.kind = OTEL_SPAN_KIND_INTERNAL, .root = true};
    otel_span *b = batch_add(batch.t[1], "na\xc3\xafve \xe2\x82\xac", &internal);
    otel_span_add_link(b, &root_ctx, "");
    for (size_t i = batch.n; i < BATCH_MAX; i++) {
        otel_span_options o = {.kind = (otel_span_kind)(1 + i % 5), .root = true};
        otel_span *s = batch_add(batch.t[i % 2], "small", &o);
        otel_span_set_attr_int(s, "i", (int64_t)i);
        otel_span_set_attr_strn(s, "app.big", big_value, i * 100);
    }
    for (size_t i = 0; i < batch.n; i++)
        batch.spans[i]->d.end_ns = batch.spans[i]->d.start_ns + 1500 + i;
}

static void batch_free(void)
{
    for (size_t i = 0; i < batch.n; i++)
        otel_span_end(batch.spans[i]);
    otel_tracer_del(batch.t[0]);
    otel_tracer_del(batch.t[1]);
    memset(&batch, 0, sizeof(batch));
}

/* ---- fixtures ----------------------------------------------------------- */

static fake_server *srv;   /* stopped by the teardown */
static uint8_t *reference; /* bytes an operation gave with no failure */
static size_t reference_len;
static uint16_t closed_port; /* nothing listens there */

static cJSON_Hooks json_hooks = {.malloc_fn = otel_malloc, .free_fn = otel_free};

#define RETRY_WAIT_NS (3600 * SEC)

/* The retry policy's random draw: always the longest wait. */
static uint64_t longest_wait(void *ud)
{
    (void)ud;
    return RETRY_WAIT_NS;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/failmalloc-XXXXXX");
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    memset(big_value, 'x', BIG_VALUE_LEN);
    /* cJSON allocates through the library's allocator, so that the console
     * exporter's JSON path meets the failures too. */
    cJSON_InitHooks(&json_hooks);
    /* A retry never fits in an export's timeout: a refused connection fails
     * the export at once instead of after a random backoff. */
    otel_retry_policy p;
    memset(&p, 0, sizeof(p));
    p.initial_backoff_ns = RETRY_WAIT_NS;
    p.max_backoff_ns = RETRY_WAIT_NS;
    p.multiplier_pct = 100;
    p.rand = longest_wait;
    otel_retry_policy_set_default(&p);
    otel_log_set(capture_log, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    closed_port = fake_free_port();
    tmp_path(module_conf, sizeof(module_conf), "module.conf");
    tmp_path(module_spans, sizeof(module_spans), "module-spans.json");
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "otel_service_name failmalloc-module;\n"
             "otel_resource_attr deployment.environment test;\n"
             "otel_capture_request_header X-User-ID;\n"
             "otel_route /items/{id};\n"
             "otel_skip_path /health;\n"
             "otel_exporter console { format json; output \"%s\"; }\n"
             "otel_exporter otlp {\n"
             "    endpoint http://127.0.0.1:%u;\n"
             "    header x-api-key secret;\n"
             "    compression gzip;\n"
             "    timeout 5s;\n"
             "}\n"
             "otel_batch { schedule_delay 1h; export_timeout 30s; }\n",
             module_spans, closed_port);
    write_file(module_conf, conf);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    static const char *const files[] = {"module.conf", "module-spans.json", "console.json",
                                        "console.txt"};
    char path[128];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tmp_path(path, sizeof(path), files[i]);
        unlink(path);
    }
    rmdir(tmp_dir);
    cJSON_InitHooks(NULL);
    curl_global_cleanup();
    otel_retry_policy_set_default(NULL);
    otel_log_set(NULL, NULL);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    log_reset();
    batch_make();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    otel_log_set(capture_log, NULL);
    otel_context_detach(NULL);
    batch_free();
    fake_stop(srv);
    srv = NULL;
    free(reference);
    reference = NULL;
    reference_len = 0;
    pthread_mutex_lock(&log_mu);
    bool bad = log_bad;
    log_bad = false;
    pthread_mutex_unlock(&log_mu);
    if (bad)
        fail_msg("the library logged a message with a control byte:\n%s", log_text);
    return 0;
}

/* ---- the span path ------------------------------------------------------ */

/* An exporter that allocates nothing: it checks and counts what it is given
 * (from the worker thread). */
static struct {
    _Atomic size_t spans;
    _Atomic size_t bad; /* spans that were not whole */
    _Atomic size_t shutdowns;
} cap;

static int capture_export(void *ud, const otel_span_data *const *spans, size_t n, uint64_t deadline)
{
    (void)ud;
    (void)deadline;
    for (size_t i = 0; i < n; i++) {
        const otel_span_data *s = spans[i];
        if (s == NULL || !otel_span_of(s)->recording || s->name == NULL ||
            s->end_ns < s->start_ns || !otel_span_context_is_valid(&s->ctx))
            atomic_fetch_add(&cap.bad, 1);
    }
    atomic_fetch_add(&cap.spans, n);
    return OTEL_OK;
}

static int capture_shutdown(void *ud, uint64_t deadline)
{
    (void)ud;
    (void)deadline;
    atomic_fetch_add(&cap.shutdowns, 1);
    return OTEL_OK;
}

/* Propagation headers an outgoing request was given (no allocation). */
typedef struct carrier {
    size_t n;
    char name[8][32];
    char value[8][OTEL_TRACESTATE_MAX + 64];
} carrier;

static void carrier_set(void *cv, const char *name, const char *value)
{
    carrier *c = cv;
    if (c->n == 8)
        return;
    snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
    snprintf(c->value[c->n], sizeof(c->value[0]), "%s", value);
    c->n++;
}

static const char *carrier_get(const carrier *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->name[i], name) == 0)
            return c->value[i];
    return NULL;
}

static void assert_balanced(const otel_stats *st)
{
    if (st->ended != st->exported + st->dropped + st->failed + st->rejected + st->queued)
        fail_msg("counters off: ended %llu, exported %llu, dropped %llu, failed %llu, rejected "
                 "%llu, queued %llu",
                 (unsigned long long)st->ended, (unsigned long long)st->exported,
                 (unsigned long long)st->dropped, (unsigned long long)st->failed,
                 (unsigned long long)st->rejected, (unsigned long long)st->queued);
}

/* The counters of the module's exporter i (0: console, 1: otlp), balanced. */
static otel_stats exporter_counts(mhd_otel *m, size_t i)
{
    otel_stats st;
    const char *name = NULL;
    assert_int_equal(otel_tracer_exporter_stats(mhd_otel_tracer(m), i, &st, &name), OTEL_OK);
    assert_string_equal(name, i == 0 ? "console" : "otlp");
    assert_balanced(&st);
    return st;
}

/* Count a span that should have started: *missing when it did not. */
static otel_span *started(otel_span *s, size_t *n, size_t *missing)
{
    if (s != NULL)
        (*n)++;
    else
        (*missing)++;
    return s;
}

/* Root, child, explicit-parent and CLIENT spans with everything on them,
 * with the propagation headers of the CLIENT span checked. */
static void spans_of(otel_tracer *t, size_t *n, size_t *missing)
{
    otel_span_options ro = {.kind = OTEL_SPAN_KIND_SERVER, .root = true, .tracestate = "vendor=a"};
    otel_span *root = started(otel_span_start(t, "root", &ro), n, missing);
    fill_span(root, &remote_ctx);
    otel_span *prev = otel_context_attach(root);
    otel_span *child = started(otel_span_start_child("child", OTEL_SPAN_KIND_INTERNAL), n, missing);
    assert_true(root != NULL || child == NULL); /* no current span: no child */
    otel_span_context root_ctx = otel_span_get_context(root);
    fill_span(child, &root_ctx);
    otel_span_options po = {.kind = OTEL_SPAN_KIND_PRODUCER, .parent = &remote_ctx};
    otel_span *explicit_parent = started(otel_span_start(t, "explicit", &po), n, missing);
    otel_span_set_attr_str(explicit_parent, "k", "v");

    otel_propagators props;
    assert_int_equal(
        otel_propagators_from_names(&props, "tracecontext,baggage,b3,b3multi", NULL, 0), OTEL_OK);
    static const char *const bag_v[] = {"user.id=alice", "tenant=t%201"};
    static const size_t bag_len[] = {13, 12};
    static const otel_baggage_lines bag = {bag_v, bag_len, 2};
    const otel_baggage_lines *prev_bag = otel_baggage_attach(&bag);
    carrier out = {0};
    otel_span *cl =
        started(otel_client_span_start(t, "GET", "http://user:pw@127.0.0.1:8080/x?sig=abc#f",
                                       &props, carrier_set, &out),
                n, missing);
    if (cl != NULL) {
        assert_non_null(carrier_get(&out, "traceparent"));
        assert_non_null(carrier_get(&out, "b3"));
        assert_non_null(carrier_get(&out, "x-b3-traceid"));
        assert_string_equal(carrier_get(&out, "baggage"), "user.id=alice,tenant=t%201");
    } else {
        assert_int_equal(out.n, 0);
    }
    carrier again = {0};
    otel_client_inject(cl, &props, NULL, carrier_set, &again);
    assert_int_equal(again.n, out.n);
    otel_client_span_end(cl, 503, NULL);
    otel_baggage_attach(prev_bag);

    otel_span_end(explicit_parent);
    otel_span_end(child);
    otel_context_detach(prev);
    otel_span_end(root);
}

/* Resource, tracer with an exporter and its worker, spans of every kind with
 * everything on them, flush, shutdown, del. */
static int span_path_op(long fail)
{
    (void)fail;
    atomic_store(&cap.spans, 0);
    atomic_store(&cap.bad, 0);
    atomic_store(&cap.shutdowns, 0);
    otel_resource *r = UNSET;
    int rc = otel_resource_new(&r, "failmalloc-span");
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(r);
        return rc;
    }
    rc = otel_resource_set(r, "deployment.environment", "test");
    if (rc == OTEL_OK)
        rc = otel_resource_set(r, "service.version", "1.0");
    if (rc == OTEL_OK)
        rc = otel_resource_set(r, "deployment.environment", "replaced");
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        otel_resource_del(r);
        return rc;
    }
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    cfg.schedule_delay_ns = 3600 * SEC; /* the worker exports when flushed */
    otel_tracer *t = UNSET;
    rc = otel_tracer_new(&t, &cfg, r);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(t);
        otel_resource_del(r); /* not taken on failure */
        return rc;
    }
    otel_exporter *e = NULL;
    rc = otel_exporter_new(&e, "capture", capture_export, NULL);
    if (rc == OTEL_OK) {
        otel_exporter_set_shutdown(e, capture_shutdown);
        rc = otel_tracer_add_exporter(t, e); /* takes e */
    }
    if (rc == OTEL_OK)
        rc = otel_tracer_start(t);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        otel_tracer_del(t);
        return rc;
    }

    size_t n = 0, missing = 0;
    spans_of(t, &n, &missing);

    otel_stats st;
    assert_int_equal(otel_tracer_force_flush(t, WAIT_NS), OTEL_OK);
    otel_tracer_stats(t, &st);
    assert_balanced(&st);
    assert_int_equal(st.ended, n);
    assert_int_equal(st.exported, n);
    assert_int_equal(st.queued, 0);
    assert_int_equal(atomic_load(&cap.spans), n);
    assert_int_equal(atomic_load(&cap.bad), 0);
    assert_int_equal(otel_tracer_shutdown(t), OTEL_OK);
    otel_tracer_stats(t, &st);
    assert_balanced(&st);
    assert_int_equal(atomic_load(&cap.shutdowns), 1);
    otel_tracer_del(t);
    return missing == 0 ? OTEL_OK : OTEL_ERR_NOMEM;
}

static void test_otel_tracer_span_path_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("span path", span_path_op, false);
    assert_true(n > 10); /* resource, tracer, pool, queues, spans */
}

/* ---- the client path through libcurl ------------------------------------ */

/* What a plain MHD server (no tracing, no allocation of ours) saw. */
static struct {
    atomic_int requests;
    atomic_int with_traceparent;
    atomic_int deletes;
} seen;

static enum MHD_Result plain_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    static const char body[] = "ok\n";
    atomic_fetch_add(&seen.requests, 1);
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent") != NULL)
        atomic_fetch_add(&seen.with_traceparent, 1);
    if (strcmp(method, "DELETE") == 0)
        atomic_fetch_add(&seen.deletes, 1);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *plain_daemon(uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, plain_answer, NULL,
                         MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    assert_non_null(d);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(di);
    *port = di->port;
    return d;
}

/* The name and url.full of the last span exported (exports run in the
 * calling thread: the tracer's worker is not started). */
static char last_name[128];
static char last_url[256];

static int last_export(void *ud, const otel_span_data *const *spans, size_t n, uint64_t deadline)
{
    (void)ud;
    (void)deadline;
    for (size_t i = 0; i < n; i++) {
        const otel_span_data *s = spans[i];
        snprintf(last_name, sizeof(last_name), "%s", s->name);
        last_url[0] = '\0';
        for (size_t k = 0; k < s->n_attrs; k++)
            if (strcmp(s->attrs[k].key, "url.full") == 0)
                snprintf(last_url, sizeof(last_url), "%s", s->attrs[k].v.s.ptr);
    }
    return OTEL_OK;
}

static size_t discard_body(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static uint16_t plain_port;

/* A DELETE through an instrumented handle (its own tracer, whose span pool
 * starts empty) with the allocations from instrumenting to cleanup failing
 * from the n-th on: it goes out all the same, with its trace context when
 * its CLIENT span started. */
static int curl_op(long fail)
{
    char url[96], want_url[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/items/9?sig=secret", plain_port);
    snprintf(want_url, sizeof(want_url), "http://127.0.0.1:%u/items/9?sig=REDACTED", plain_port);
    otel_tracer *t = plain_tracer("failmalloc-curl");
    otel_exporter *e = NULL;
    assert_int_equal(otel_exporter_new(&e, "last", last_export, NULL), OTEL_OK);
    assert_int_equal(otel_tracer_add_exporter(t, e), OTEL_OK);
    atomic_store(&seen.requests, 0);
    atomic_store(&seen.with_traceparent, 0);
    atomic_store(&seen.deletes, 0);
    last_name[0] = last_url[0] = '\0';
    CURL *h = curl_easy_init();
    assert_non_null(h);
    mhd_otel_curl_options o = {.tracer = t};
    otel_alloc_fail_after(fail);
    int rc = mhd_otel_curl_instrument(h, &o);
    if (rc != OTEL_OK)
        assert_int_equal(rc, OTEL_ERR_NOMEM);
    assert_int_equal(mhd_otel_curl_is_instrumented(h), rc == OTEL_OK);
    assert_int_equal(mhd_otel_curl_easy_setopt(h, CURLOPT_URL, url), CURLE_OK);
    assert_int_equal(mhd_otel_curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE"), CURLE_OK);
    assert_int_equal(mhd_otel_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body), CURLE_OK);
    assert_int_equal(mhd_otel_curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)HTTP_WAIT_MS),
                     CURLE_OK);
    CURLcode cc = mhd_otel_curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    mhd_otel_curl_easy_cleanup(h);
    otel_alloc_fail_after(-1);
    assert_int_equal(cc, CURLE_OK);
    assert_int_equal(code, MHD_HTTP_OK);
    assert_int_equal(atomic_load(&seen.requests), 1);
    assert_int_equal(atomic_load(&seen.deletes), 1);
    assert_int_equal(otel_tracer_force_flush(t, WAIT_NS), OTEL_OK);
    otel_stats st;
    otel_tracer_stats(t, &st);
    assert_balanced(&st);
    assert_true(st.ended <= 1);
    assert_int_equal(atomic_load(&seen.with_traceparent), st.ended);
    otel_tracer_del(t);
    if (st.ended == 1 && strcmp(last_name, "DELETE") != 0)
        fail_msg("the CLIENT span of a DELETE is named \"%s\"", last_name);
    bool whole = rc == OTEL_OK && st.ended == 1 && strcmp(last_url, want_url) == 0;
    return whole ? OTEL_OK : OTEL_ERR_NOMEM;
}

static void test_mhd_otel_curl_easy_perform_alloc_failure(void **state)
{
    (void)state;
    struct MHD_Daemon *d = plain_daemon(&plain_port);
    long n = fail_each("libcurl helper: a traced transfer", curl_op, true);
    MHD_stop_daemon(d);
    assert_true(n >= 4); /* the handle's state, its URL, its method, the span */
}

/* ---- the config path ---------------------------------------------------- */

/* Every directive and block the parser knows (module/conf.c's table), the
 * lists by nature twice (a later key replaces), quoted and bare words. */
static const char every_conf[] = "# every directive\n"
                                 "otel_trace on;\n"
                                 "otel_service_name \"failmalloc service\";\n"
                                 "otel_resource_attr deployment.environment test;\n"
                                 "otel_resource_attr service.version '1.2.3';\n"
                                 "otel_resource_attr deployment.environment staging;\n"
                                 "otel_sampler parentbased_traceidratio 0.5;\n"
                                 "otel_skip_path /health /healthz;\n"
                                 "otel_skip_path /ping;\n"
                                 "otel_skip_prefix /static/ \"/assets/\";\n"
                                 "otel_route /items/{id} /users/{id}/orders/{order};\n"
                                 "otel_capture_request_header X-User-ID X-Request-ID;\n"
                                 "otel_propagators tracecontext,baggage b3 b3multi;\n"
                                 "otel_trust_incoming off;\n"
                                 "otel_exporter console {\n"
                                 "    format pretty;\n"
                                 "    output \"/tmp/failmalloc spans.json\";\n"
                                 "}\n"
                                 "otel_exporter otlp {\n"
                                 "    endpoint http://127.0.0.1:4317;\n"
                                 "    header x-api-key \"secret 1\";\n"
                                 "    header X-API-KEY replaced;\n"
                                 "    header x-tenant t2;\n"
                                 "    compression gzip;\n"
                                 "    timeout 2s;\n"
                                 "}\n"
                                 "otel_batch {\n"
                                 "    max_queue_size 4k;\n"
                                 "    max_export_batch_size 256;\n"
                                 "    schedule_delay 250ms;\n"
                                 "    export_timeout 1m30s;\n"
                                 "}\n";

/* Every OTEL_* variable module/conf_env.c reads, the signal-specific OTLP
 * ones (which win over the general ones)... */
static const char *const env_traces[] = {
    "OTEL_SDK_DISABLED",
    "false",
    "OTEL_RESOURCE_ATTRIBUTES",
    "service.name=env-svc, deployment.environment=prod%20eu,team=a%2Cb",
    "OTEL_SERVICE_NAME",
    "env-name",
    "OTEL_TRACES_SAMPLER",
    "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG",
    "0.25",
    "OTEL_PROPAGATORS",
    "tracecontext,baggage,b3",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "4096",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "128",
    "OTEL_BSP_SCHEDULE_DELAY",
    "500",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "10000",
    "OTEL_TRACES_EXPORTER",
    "otlp,console",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    " http://127.0.0.1:4318 ",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "x-api-key=k%201, x-tenant = t,X-Api-Key=again",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "3000",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "gzip",
    NULL};

/* ... and the general ones, read when those are unset. */
static const char *const env_general[] = {"OTEL_SDK_DISABLED",
                                          "true",
                                          "OTEL_RESOURCE_ATTRIBUTES",
                                          "a=1,b=2,c=%E2%82%AC",
                                          "OTEL_SERVICE_NAME",
                                          "env-general",
                                          "OTEL_TRACES_SAMPLER",
                                          "traceidratio",
                                          "OTEL_TRACES_SAMPLER_ARG",
                                          "0.5",
                                          "OTEL_PROPAGATORS",
                                          "b3multi",
                                          "OTEL_BSP_MAX_QUEUE_SIZE",
                                          "100",
                                          "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                                          "10",
                                          "OTEL_BSP_SCHEDULE_DELAY",
                                          "0",
                                          "OTEL_BSP_EXPORT_TIMEOUT",
                                          "1",
                                          "OTEL_TRACES_EXPORTER",
                                          "console",
                                          "OTEL_EXPORTER_OTLP_ENDPOINT",
                                          "http://[::1]:4317/",
                                          "OTEL_EXPORTER_OTLP_HEADERS",
                                          "authorization=Bearer%20x,x-b=2",
                                          "OTEL_EXPORTER_OTLP_TIMEOUT",
                                          "1",
                                          "OTEL_EXPORTER_OTLP_COMPRESSION",
                                          "none",
                                          NULL};

static const char *const *fake_env;

static const char *env_fn(const char *name)
{
    for (const char *const *p = fake_env; p != NULL && *p != NULL; p += 2)
        if (strcmp(p[0], name) == 0)
            return p[1];
    return NULL;
}

/* What the config loader says when memory ran out: that, alone or after the
 * name of what it was reading. */
static void assert_conf_nomem(const char *err, const char *name)
{
    char with_name[128];
    assert_clear(err);
    snprintf(with_name, sizeof(with_name), "%s: out of memory", name);
    if (strcmp(err, "out of memory") != 0 && strcmp(err, with_name) != 0)
        fail_msg("not a clear out-of-memory message: \"%s\"", err);
}

static int conf_parse_op(long fail)
{
    (void)fail;
    char err[512] = "";
    mhd_otel_conf *c = UNSET;
    fake_env = env_traces;
    int rc = mhd_otel_conf_parse(&c, "every.conf", every_conf, strlen(every_conf), env_fn, err,
                                 sizeof(err));
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(c);
        assert_conf_nomem(err, "every.conf");
        return rc;
    }
    assert_string_equal(err, "");
    assert_string_equal(c->service_name, "failmalloc service");
    assert_int_equal(c->skip_paths.n, 3);
    assert_int_equal(c->routes.n, 2);
    assert_int_equal(c->n_otlp_headers, 2);
    assert_string_equal(c->otlp_headers[0].value, "replaced");
    assert_string_equal(c->console_output, "/tmp/failmalloc spans.json");
    assert_int_equal(c->batch.export_timeout_ns, 90 * SEC);
    mhd_otel_conf_del(c);
    return OTEL_OK;
}

static void test_mhd_otel_conf_parse_every_directive_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("config file with every directive", conf_parse_op, false);
    assert_true(n > 60);
}

static int conf_from_env_op(const char *const *env)
{
    char err[512] = "";
    mhd_otel_conf *c = UNSET;
    fake_env = env;
    int rc = mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err));
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(c);
        assert_conf_nomem(err, "environment");
        return rc;
    }
    assert_non_null(c->service_name);
    assert_true(c->otlp_endpoint != NULL && c->n_otlp_headers == 2);
    mhd_otel_conf_del(c);
    return OTEL_OK;
}

static int conf_env_traces_op(long fail)
{
    (void)fail;
    return conf_from_env_op(env_traces);
}

static int conf_env_general_op(long fail)
{
    (void)fail;
    return conf_from_env_op(env_general);
}

static void test_mhd_otel_conf_from_env_traces_vars_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("environment, OTEL_EXPORTER_OTLP_TRACES_*", conf_env_traces_op, false);
    assert_true(n > 10);
}

static void test_mhd_otel_conf_from_env_general_vars_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("environment, OTEL_EXPORTER_OTLP_*", conf_env_general_op, false);
    assert_true(n > 10);
}

/* A config that is wrong on its last line, after every directive: each
 * failure gives out of memory, and the run that gets that far gives the
 * same "NAME:LINE: ..." as with no failure. */
static char bad_conf[sizeof(every_conf) + 64];
static char bad_conf_err[512];

static int conf_error_op(long fail)
{
    char err[512] = "";
    mhd_otel_conf *c = UNSET;
    fake_env = env_traces;
    int rc =
        mhd_otel_conf_parse(&c, "bad.conf", bad_conf, strlen(bad_conf), env_fn, err, sizeof(err));
    assert_null(c);
    if (rc == OTEL_ERR_NOMEM) {
        assert_conf_nomem(err, "bad.conf");
        return rc;
    }
    assert_int_equal(rc, OTEL_ERR_PARSE);
    assert_clear(err);
    if (fail < 0)
        snprintf(bad_conf_err, sizeof(bad_conf_err), "%s", err);
    assert_string_equal(err, bad_conf_err);
    return OTEL_OK;
}

static void test_mhd_otel_conf_parse_error_alloc_failure(void **state)
{
    (void)state;
    snprintf(bad_conf, sizeof(bad_conf), "%sotel_sampler traceidratio 1.5;\n", every_conf);
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "bad.conf:%zu: ", count_lines(every_conf) + 1);
    long n = fail_each("config file wrong on its last line", conf_error_op, false);
    assert_true(n > 60);
    assert_int_equal(strncmp(bad_conf_err, prefix, strlen(prefix)), 0);
    assert_non_null(strstr(bad_conf_err, "\"otel_sampler\" directive is duplicate"));
}

static const char *const env_bad[] = {"OTEL_RESOURCE_ATTRIBUTES",
                                      "a=1,b=2",
                                      "OTEL_SERVICE_NAME",
                                      "env-name",
                                      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                                      "http://127.0.0.1:4318",
                                      "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                                      "x-a=1,x-b=2",
                                      "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                                      "-5",
                                      NULL};

/* An invalid variable is warned about and ignored: the load succeeds (or
 * runs out of memory), and says nothing in err. */
static int env_error_op(long fail)
{
    char err[512] = "";
    mhd_otel_conf *c = UNSET;
    (void)fail;
    fake_env = env_bad;
    int rc = mhd_otel_conf_from_env(&c, env_fn, err, sizeof(err));
    if (rc == OTEL_ERR_NOMEM) {
        assert_null(c);
        assert_conf_nomem(err, "environment");
        return rc;
    }
    assert_int_equal(rc, OTEL_OK);
    assert_string_equal(err, "");
    assert_string_equal(c->service_name, "env-name");
    mhd_otel_conf_del(c);
    return OTEL_OK;
}

static void test_mhd_otel_conf_from_env_error_alloc_failure(void **state)
{
    (void)state;
    log_reset();
    otel_log_set(capture_log, NULL);
    long n = fail_each("environment wrong in its last variable", env_error_op, false);
    otel_log_set(NULL, NULL);
    assert_true(n > 5);
    static const char want[] = "environment OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: ";
    assert_non_null(strstr(log_text, want));
}

/* ---- the exporter path -------------------------------------------------- */

/* The blocks (JSON lines or pretty blocks) written to path from offset on,
 * which must all be whole. */
static size_t blocks_written(const char *path, off_t offset, otel_console_format format)
{
    char *text = read_from(path, offset);
    size_t len = strlen(text), blocks = 0;
    if (len > 0 && text[len - 1] != '\n')
        fail_msg("a partial block was written:\n%s", text);
    if (format == OTEL_CONSOLE_JSON) {
        for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            *nl = '\0';
            cJSON *j = cJSON_Parse(line);
            if (j == NULL)
                fail_msg("not a JSON line: %s", line);
            cJSON_Delete(j);
            blocks++;
        }
    } else {
        for (const char *p = text; (p = strstr(p, "\nspan ")) != NULL; p++)
            blocks++;
        blocks += strncmp(text, "span ", 5) == 0;
    }
    free(text);
    return blocks;
}

/* A console exporter writing the batch to a file in format: all of it, or
 * the whole blocks before the failure; and all of it again once memory is
 * back. */
static int console_op(otel_console_format format, const char *file)
{
    char path[128];
    tmp_path(path, sizeof(path), file);
    off_t before = file_size(path);
    otel_console *c = UNSET;
    int rc = otel_console_new(&c, format, path);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(c);
        return rc;
    }
    otel_exporter *e = UNSET;
    rc = otel_console_exporter(c, &e); /* takes c */
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(e);
        return rc;
    }
    rc = e->export_fn(e->user_data, batch.views, batch.n, otel_mono_ns() + WAIT_NS);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        otel_alloc_fail_after(-1); /* what follows reads the file with cJSON */
        assert_true(blocks_written(path, before, format) < batch.n);
        before = file_size(path);
        assert_int_equal(e->export_fn(e->user_data, batch.views, batch.n, otel_mono_ns() + WAIT_NS),
                         OTEL_OK);
    }
    otel_exporter_del(e); /* and c */
    otel_alloc_fail_after(-1);
    assert_int_equal(blocks_written(path, before, format), batch.n);
    return rc;
}

static int console_json_op(long fail)
{
    (void)fail;
    return console_op(OTEL_CONSOLE_JSON, "console.json");
}

static int console_pretty_op(long fail)
{
    (void)fail;
    return console_op(OTEL_CONSOLE_PRETTY, "console.txt");
}

static void test_otel_console_export_json_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("console exporter, json", console_json_op, false);
    assert_true(n > 100); /* every cJSON node */
}

static void test_otel_console_export_pretty_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("console exporter, pretty", console_pretty_op, false);
    assert_true(n >= 3); /* the exporter, its buffer growing */
}

/* Encode the batch; a failed encoder, once memory is back, encodes the
 * same bytes as one that never failed. */
static int encode_op(long fail)
{
    otel_otlp_encoder *e = UNSET;
    int rc = otel_otlp_encoder_new(&e);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(e);
        return rc;
    }
    const uint8_t *data = NULL;
    size_t len = 0;
    rc = otel_otlp_encode(e, batch.views, batch.n, &data, &len);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_int_equal(len, 0);
        otel_alloc_fail_after(-1);
        assert_int_equal(otel_otlp_encode(e, batch.views, batch.n, &data, &len), OTEL_OK);
    }
    if (fail < 0) {
        reference = malloc(len);
        assert_non_null(reference);
        memcpy(reference, data, len);
        reference_len = len;
    }
    assert_int_equal(len, reference_len);
    assert_memory_equal(data, reference, len);
    /* Warm buffers: a second batch of the same size allocates nothing. */
    if (rc == OTEL_OK)
        assert_int_equal(otel_otlp_encode(e, batch.views, batch.n, &data, &len), OTEL_OK);
    otel_otlp_encoder_del(e);
    return rc;
}

static void test_otel_otlp_encode_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("OTLP encoder", encode_op, false);
    assert_true(n >= 9); /* encoder, plan, order, five group arrays, buffer */
}

/* Frame a message without gzip (no copy) and with it, and read the gzip
 * one back as a response would be read. */
static int framer_op(long fail)
{
    (void)fail;
    static uint8_t msg[GZIP_MSG_LEN];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)("OTLP spans, compressed "[i % 23]);
    otel_grpc_framer *f = UNSET;
    int rc = otel_grpc_framer_new(&f);
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(f);
        return rc;
    }
    otel_grpc_frame fr;
    assert_int_equal(otel_grpc_framer_frame(f, msg, sizeof(msg), false, &fr), OTEL_OK);
    assert_ptr_equal(fr.payload, msg);
    rc = otel_grpc_framer_frame(f, msg, sizeof(msg), true, &fr);
    if (rc != OTEL_OK) { /* the framer works again once memory is back */
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        otel_alloc_fail_after(-1);
        otel_grpc_frame again;
        assert_int_equal(otel_grpc_framer_frame(f, msg, sizeof(msg), true, &again), OTEL_OK);
        assert_true(again.payload_len > 0 && again.payload_len < sizeof(msg));
    } else {
        uint8_t *wire = malloc(OTEL_GRPC_PREFIX_LEN + fr.payload_len);
        assert_non_null(wire);
        memcpy(wire, fr.prefix, OTEL_GRPC_PREFIX_LEN);
        memcpy(wire + OTEL_GRPC_PREFIX_LEN, fr.payload, fr.payload_len);
        uint8_t *owned = UNSET;
        const uint8_t *out;
        size_t out_len;
        rc = otel_grpc_message_read(wire, OTEL_GRPC_PREFIX_LEN + fr.payload_len, "gzip",
                                    sizeof(msg), &owned, &out, &out_len);
        if (rc == OTEL_OK) {
            assert_int_equal(out_len, sizeof(msg));
            assert_memory_equal(out, msg, sizeof(msg));
        } else {
            assert_null(owned);
        }
        otel_free(owned);
        free(wire);
    }
    if (rc != OTEL_OK)
        assert_int_equal(rc, OTEL_ERR_NOMEM);
    otel_grpc_framer_del(f);
    return rc;
}

static void test_otel_grpc_framer_frame_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("gRPC framer, gzip and back", framer_op, false);
    assert_true(n >= 3); /* framer, its buffer, the inflated message */
}

static const otel_otlp_header otlp_headers[] = {
    {"X-Api-Key", "secret 1"}, {"User-Agent", "failmalloc/1"}, {"x-tenant", "t2"}};

static int otlp_new_op(long fail)
{
    (void)fail;
    char err[256] = "";
    otel_otlp_config cfg = {.endpoint = "http://127.0.0.1:4317",
                            .headers = otlp_headers,
                            .n_headers = 3,
                            .gzip = true,
                            .timeout_ns = SEC};
    otel_otlp *e = UNSET;
    int rc = otel_otlp_new(&e, &cfg, err, sizeof(err));
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(e);
        assert_string_equal(err, "out of memory");
        return rc;
    }
    assert_string_equal(err, "");
    otel_otlp_del(e);
    return OTEL_OK;
}

static void test_otel_otlp_new_headers_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("OTLP exporter with headers", otlp_new_op, false);
    assert_true(n >= 10);
}

/* An ExportTraceServiceResponse: partial_success { rejected_spans 2,
 * error_message "bad 2 spans" }. */
static const uint8_t partial_resp[] = {0x0a, 0x0f, 0x08, 0x02, 0x12, 0x0b, 0x62, 0x61, 0x64,
                                       0x20, 0x32, 0x20, 0x73, 0x70, 0x61, 0x6e, 0x73};

/* One whole export to the fake receiver, gzip both ways: it is delivered
 * and its partial success read back (2), or it fails with out of memory,
 * or it was delivered but the answer could not be read (0, logged). */
static int otlp_export_op(long fail)
{
    (void)fail;
    char url[64], err[256] = "";
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", srv->port);
    otel_otlp_config cfg = {.endpoint = url,
                            .headers = otlp_headers,
                            .n_headers = 3,
                            .gzip = true,
                            .timeout_ns = WAIT_NS};
    otel_otlp *e = UNSET;
    int rc = otel_otlp_new(&e, &cfg, err, sizeof(err));
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(e);
        assert_string_equal(err, "out of memory");
        return rc;
    }
    log_reset();
    otel_exporter *x = UNSET;
    rc = otel_otlp_exporter(e, &x); /* takes e */
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(x);
        return rc;
    }
    rc = x->export_fn(x->user_data, batch.views, batch.n, otel_mono_ns() + WAIT_NS);
    bool said = log_has(rc == 0 ? "unreadable response" : "out of memory");
    if (rc != 2) { /* the exporter works again once memory is back */
        otel_alloc_fail_after(-1);
        assert_int_equal(x->export_fn(x->user_data, batch.views, batch.n, otel_mono_ns() + WAIT_NS),
                         2);
    }
    assert_int_equal(x->shutdown_fn(x->user_data, otel_mono_ns() + WAIT_NS), OTEL_OK);
    otel_exporter_del(x); /* and e */
    if (rc == 2)
        return OTEL_OK;
    if (rc == 0) {
        if (!said)
            fail_msg("delivered without its partial success, and nothing said:\n%s", log_text);
        return OTEL_ERR_NOMEM;
    }
    assert_int_equal(rc, OTEL_ERR_NOMEM);
    if (!said)
        fail_msg("export failed without saying why:\n%s", log_text);
    return rc;
}

static void test_otel_otlp_export_to_receiver_alloc_failure(void **state)
{
    (void)state;
    fake_action a = {
        .kind = FAKE_OK, .resp = partial_resp, .resp_len = sizeof(partial_resp), .resp_gzip = true};
    srv = fake_start(0, &a, 1);
    long n = fail_each("OTLP export to a receiver", otlp_export_op, false);
    assert_true(n >= 15);
    assert_true(fake_requests(srv) > 0);
}

/* ---- the module path ---------------------------------------------------- */

/* A module from module_conf: tracing on, a console exporter to module_spans
 * and an OTLP exporter to a closed port; its messages go to capture_log. */
static int module_new(mhd_otel **m, char *err, size_t errlen)
{
    *m = UNSET;
    int rc = mhd_otel_new(m, module_conf, err, errlen);
    otel_log_set(capture_log, NULL); /* mhd_otel_new sends them to stderr */
    return rc;
}

/* mhd_otel_new, a span exported to both exporters (the console takes it, the
 * closed port fails it), mhd_otel_del. */
static int module_op(long fail)
{
    (void)fail;
    char err[512] = "";
    mhd_otel *m;
    off_t before = file_size(module_spans);
    int rc = module_new(&m, err, sizeof(err));
    if (rc != OTEL_OK) {
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(m);
        assert_clear(err);
        if (strstr(err, "out of memory") == NULL || strstr(err, "cannot open") != NULL)
            fail_msg("not a clear out-of-memory message: \"%s\"", err);
        return rc;
    }
    assert_true(mhd_otel_enabled(m));
    otel_tracer *t = mhd_otel_tracer(m);
    otel_span_options o = {.kind = OTEL_SPAN_KIND_SERVER};
    otel_span *s = otel_span_start(t, "module", &o);
    fill_span(s, &remote_ctx);
    otel_span_end(s);
    assert_int_equal(otel_tracer_force_flush(t, WAIT_NS), OTEL_OK); /* in this thread */
    otel_stats st;
    mhd_otel_stats(m, &st);
    assert_balanced(&st);
    assert_int_equal(st.ended, 2 * (s != NULL)); /* into both exporters */
    otel_stats con = exporter_counts(m, 0), otlp = exporter_counts(m, 1);
    /* the console writes it, unless out of memory itself */
    assert_int_equal(con.exported + con.failed, s != NULL);
    assert_int_equal(otlp.failed, s != NULL); /* the OTLP exporter cannot deliver */
    assert_int_equal(st.queued, 0);
    mhd_otel_del(m);
    otel_alloc_fail_after(-1);
    char *text = read_from(module_spans, before);
    size_t lines = count_lines(text);
    free(text);
    assert_true(lines <= st.ended); /* a line for the span, or none when the console failed */
    return s != NULL && lines == 1 ? OTEL_OK : OTEL_ERR_NOMEM;
}

static void test_mhd_otel_new_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("module: config file, tracer, exporters", module_op, false);
    assert_true(n > 60);
    assert_true(log_has("otlp: export of 1 spans"));
}

/* The server: one answer for every request, touching the request's span
 * and starting a child of it. */
static atomic_int handler_spans;
static atomic_int app_completed_calls;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    static const char body[] = "ok\n";
    if (otel_span_current() != NULL)
        atomic_fetch_add(&handler_spans, 1);
    otel_span_set_attr_str(mhd_otel_connection_span(conn), "app.handled", "yes");
    otel_span *child = otel_span_start_child("handler work", OTEL_SPAN_KIND_INTERNAL);
    otel_span_set_attr_int(child, "app.items", 3);
    otel_span_end(child);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void app_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)req_cls;
    (void)toe;
    atomic_fetch_add(&app_completed_calls, 1);
}

/* A traced daemon on 127.0.0.1, port chosen by the kernel, with the
 * server's own completion callback. NULL when it did not start. */
static struct MHD_Daemon *start_daemon(mhd_otel *m, uint16_t *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = mhd_otel_start_daemon(
        m, MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_NOTIFY_COMPLETED, app_completed, NULL, MHD_OPTION_END);
    if (d != NULL) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        assert_non_null(di);
        *port = di->port;
    }
    return d;
}

/* GET path from 127.0.0.1:port on a new connection that the server closes
 * after answering, with propagation headers and a captured header. Returns
 * the response status, or -1 when no answer came. */
static int http_get(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[512];
    int len = snprintf(req, sizeof(req),
                       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: failmalloc\r\n"
                       "X-User-ID: u-1\r\ntraceparent: " TRACEPARENT "\r\n"
                       "baggage: user.id=alice\r\nConnection: close\r\n\r\n",
                       path, port);
    assert_true(len > 0 && (size_t)len < sizeof(req));
    assert_int_equal(send(fd, req, (size_t)len, MSG_NOSIGNAL), len);
    char resp[4096];
    size_t got = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, HTTP_WAIT_MS) <= 0)
            break; /* the bound, not a wait: the answer comes well before */
        ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (got == sizeof(resp) - 1)
            break;
    }
    close(fd);
    resp[got] = '\0';
    if (strncmp(resp, HTTP_HEAD, strlen(HTTP_HEAD)) != 0)
        return -1;
    return (int)strtol(resp + strlen(HTTP_HEAD), NULL, 10);
}

/* Request states taken out of the module's pool while a request runs, so
 * that the request's own comes from the heap (and can fail). */
static mhd_otel_req *held[REQ_HOLD];

static void req_pool_empty(void)
{
    for (size_t i = 0; i < REQ_HOLD; i++) {
        held[i] = mhd_otel_req_get();
        assert_non_null(held[i]);
    }
}

static void req_pool_free(void)
{
    for (size_t i = 0; i < REQ_HOLD; i++)
        otel_free(held[i]); /* pool objects are otel_malloc'd */
}

/* One request through a traced daemon with the allocations of the request
 * failing from the n-th on: the server answers it all the same; it is
 * traced (server and child span) when the allocations it needs fit. */
static int request_op(long fail)
{
    char err[512];
    mhd_otel *m;
    assert_int_equal(module_new(&m, err, sizeof(err)), OTEL_OK);
    uint16_t port = 0;
    struct MHD_Daemon *d = start_daemon(m, &port);
    assert_non_null(d);
    atomic_store(&handler_spans, 0);
    atomic_store(&app_completed_calls, 0);
    req_pool_empty();
    otel_alloc_fail_after(fail);
    int status = http_get(port, "/items/42");
    otel_alloc_fail_after(-1);
    mhd_otel_stop_daemon(d); /* the request has completed */
    req_pool_free();
    assert_int_equal(status, MHD_HTTP_OK);
    assert_int_equal(atomic_load(&app_completed_calls), 1);
    otel_stats st;
    mhd_otel_stats(m, &st);
    assert_balanced(&st);
    bool traced = atomic_load(&handler_spans) == 1;
    assert_true(st.ended <= 4); /* two spans, into two exporters */
    assert_true(traced || st.ended == 0);
    /* The console takes the spans, the closed port fails them: each
     * exporter counts its own. */
    int shut = otel_tracer_shutdown(mhd_otel_tracer(m));
    otel_stats con = exporter_counts(m, 0), otlp = exporter_counts(m, 1);
    assert_int_equal(shut, otlp.ended > 0 ? OTEL_ERR_IO : OTEL_OK);
    assert_int_equal(con.ended, otlp.ended);
    assert_int_equal(con.exported, con.ended);
    assert_int_equal(otlp.failed, otlp.ended);
    mhd_otel_del(m);
    return traced && con.ended == 2 ? OTEL_OK : OTEL_ERR_NOMEM;
}

static void test_mhd_otel_start_daemon_request_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("module: one request", request_op, true);
    assert_true(n >= 3); /* the request's state, its span, the child span */
    assert_true(log_has("otlp: export of 2 spans to http://127.0.0.1:"));
}

/* mhd_otel_start_daemon with its own allocations failing from the n-th on:
 * the daemon starts all the same, traced when they fit, and answers. */
static int start_op(long fail)
{
    char err[512];
    mhd_otel *m;
    assert_int_equal(module_new(&m, err, sizeof(err)), OTEL_OK);
    uint16_t port = 0;
    log_reset();
    atomic_store(&handler_spans, 0);
    atomic_store(&app_completed_calls, 0);
    otel_alloc_fail_after(fail);
    struct MHD_Daemon *d = start_daemon(m, &port);
    otel_alloc_fail_after(-1);
    if (d == NULL)
        fail_msg("with allocation %ld failing, mhd_otel_start_daemon started no daemon", fail);
    int status = http_get(port, "/items/7");
    mhd_otel_stop_daemon(d);
    assert_int_equal(status, MHD_HTTP_OK);
    assert_int_equal(atomic_load(&app_completed_calls), 1);
    otel_stats st;
    mhd_otel_stats(m, &st);
    bool traced = atomic_load(&handler_spans) == 1;
    assert_int_equal(st.ended, traced ? 4 : 0); /* two spans, into two exporters */
    assert_int_equal(exporter_counts(m, 0).ended, traced ? 2 : 0);
    if (!traced && !log_has("out of memory: daemon started without tracing"))
        fail_msg("the daemon was started untraced without a word:\n%s", log_text);
    mhd_otel_del(m);
    return traced ? OTEL_OK : OTEL_ERR_NOMEM;
}

static void test_mhd_otel_start_daemon_alloc_failure(void **state)
{
    (void)state;
    long n = fail_each("module: starting a daemon", start_op, true);
    assert_true(n >= 2); /* the option list, the daemon's record */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_tracer_span_path_alloc_failure),
        T(test_mhd_otel_curl_easy_perform_alloc_failure),
        T(test_mhd_otel_conf_parse_every_directive_alloc_failure),
        T(test_mhd_otel_conf_from_env_traces_vars_alloc_failure),
        T(test_mhd_otel_conf_from_env_general_vars_alloc_failure),
        T(test_mhd_otel_conf_parse_error_alloc_failure),
        T(test_mhd_otel_conf_from_env_error_alloc_failure),
        T(test_otel_console_export_json_alloc_failure),
        T(test_otel_console_export_pretty_alloc_failure),
        T(test_otel_otlp_encode_alloc_failure),
        T(test_otel_grpc_framer_frame_alloc_failure),
        T(test_otel_otlp_new_headers_alloc_failure),
        T(test_otel_otlp_export_to_receiver_alloc_failure),
        T(test_mhd_otel_new_alloc_failure),
        T(test_mhd_otel_start_daemon_request_alloc_failure),
        T(test_mhd_otel_start_daemon_alloc_failure),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
