/* test_it_tls.c - integration tests of TLS and mTLS for OTLP/gRPC: the demo
 * server exports to the independent sink (../shared/otlp-sink) serving TLS
 * with throwaway certificates made by openssl at test time (good CA, rogue
 * CA, wrong host name, expired); what is refused costs no request, is
 * counted failed and said once with OpenSSL's reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <mhd-otel/otel.h>
#include "../../exporter/otlp.h"
#include "../lib/itest.h"

#define N_REQ 5                 /* requests of a round */
#define ARRIVE_TIMEOUT_MS 15000 /* spans reach the sink within this */
#define ERR_TIMEOUT_MS 15000    /* a refused export is logged within this */
#define ROUND_PAUSE_MS 500      /* between two rounds: one more export tried */
#define EXTRA_MAX 16

/* Every config starts so (3 lines: the otlp block opens on line 3). */
#define CONF_HEAD                                                                                  \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-tls;\n"                                                               \
    "otel_exporter otlp {\n"
/* Short deadlines: a refused export gives up within 2 s, and so does the
 * flush at the stop. */
#define CONF_TAIL                                                                                  \
    "}\n"                                                                                          \
    "otel_route /hello/{name};\n"                                                                  \
    "otel_batch { schedule_delay 100ms; export_timeout 2s; }\n"

typedef struct fixture {
    itest_server s;
    itest_sink k;
    const char *extra[EXTRA_MAX];      /* the sink's arguments (borrowed by k) */
    const char *extra2[EXTRA_MAX];     /* those of a restart */
    char env[12][ITEST_PATH_MAX + 64]; /* "NAME=value" of an env-only run */
} fixture;

static itest_certs certs;

/* ---- fixtures ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    return itest_group_setup_sink("test_it_tls", &certs);
}

static int group_teardown(void **state)
{
    (void)state;
    itest_certs_cleanup(&certs);
    return 0;
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

/* The sink's TLS arguments into a (EXTRA_MAX entries): its certificate and
 * key, client_ca (NULL: no mTLS), and with http an HTTP port too. */
static const char *const *tls_args(const char **a, const char *cert, const char *key,
                                   const char *client_ca, bool http)
{
    size_t n = 0;

    if (http) {
        a[n++] = "--http-port";
        a[n++] = "0";
    }
    a[n++] = "--tls-cert";
    a[n++] = cert;
    a[n++] = "--tls-key";
    a[n++] = key;
    if (client_ca != NULL) {
        a[n++] = "--tls-client-ca";
        a[n++] = client_ca;
    }
    a[n] = NULL;
    return a;
}

/* A TLS sink with cert / key, mTLS when client_ca is not NULL. */
static void sink_start_tls(fixture *f, const char *cert, const char *key, const char *client_ca)
{
    itest_sink_start_ok(&f->k, 0, tls_args(f->extra, cert, key, client_ca, false));
}

/* Start the server exporting to https://127.0.0.1:port with the otlp
 * block lines otlp_extra (after endpoint and timeout). */
static void server_start_ok(itest_server *s, uint16_t port, const char *otlp_extra)
{
    char conf[4096];
    int n = snprintf(conf, sizeof(conf),
                     CONF_HEAD "    endpoint https://127.0.0.1:%u;\n"
                               "    timeout 2s;\n"
                               "%s" CONF_TAIL,
                     (unsigned int)port, otlp_extra);

    assert_true(n > 0 && (size_t)n < sizeof(conf));
    if (itest_server_start(s, conf) == 0)
        return;
    (void)itest_server_reap(s, 2000);
    fail_msg("%s did not print its listening line within 5 s (exit status 0x%x)\n"
             "config:\n%s\nstderr: %s",
             itest_server_binary(), (unsigned int)s->exit_status, conf,
             s->err_text ? s->err_text : "");
}

/* The same with the trusted CA and, when client is true, the good client
 * certificate. */
static void server_start_trusting(itest_server *s, uint16_t port, bool client)
{
    char lines[1024];

    if (client)
        snprintf(lines, sizeof(lines), "    ca_file %s;\n    client_cert %s;\n    client_key %s;\n",
                 certs.ca, certs.client, certs.client_key);
    else
        snprintf(lines, sizeof(lines), "    ca_file %s;\n", certs.ca);
    server_start_ok(s, port, lines);
}

/* Lines of text that hold any of the '|'-separated alternatives of alts. */
static size_t lines_with(const char *text, const char *alts)
{
    size_t n = 0;

    for (const char *p = text != NULL ? text : ""; *p != '\0';) {
        size_t len = strcspn(p, "\n");
        bool hit = false;

        for (const char *a = alts; *a != '\0' && !hit;) {
            size_t alen = strcspn(a, "|");
            for (size_t i = 0; alen > 0 && i + alen <= len && !hit; i++)
                hit = strncmp(p + i, a, alen) == 0;
            a += alen;
            if (*a == '|')
                a++;
        }
        n += hit;
        p += len;
        if (*p == '\n')
            p++;
    }
    return n;
}

/* The sink's spans, each called want_name and carried over grpc; n of them. */
static void assert_sink_spans(const itest_sink *k, size_t n, const char *want_name)
{
    itest_spans sp;
    char why[256];

    if (itest_spans_read(k->out_path, &sp, why, sizeof(why)) != 0)
        fail_msg("%s: %s", k->out_path, why);
    assert_int_equal(sp.n, n);
    for (size_t i = 0; i < sp.n; i++) {
        assert_string_equal(itest_span_str(sp.v[i], "name"), want_name);
        assert_string_equal(itest_span_str(sp.v[i], "transport"), "grpc");
        assert_string_equal(itest_span_resource_str(sp.v[i], "service.name"), "itest-tls");
    }
    itest_spans_free(&sp);
}

/* N_REQ requests of path, all delivered over TLS: the sink holds them, it
 * counted TLS requests, the server exported them all. */
static void deliver_ok(fixture *f, const char *path)
{
    size_t n;

    assert_int_equal(itest_curl_repeat(&f->s, path, N_REQ, 200), N_REQ);
    n = itest_sink_wait(&f->k, path, N_REQ, ARRIVE_TIMEOUT_MS);
    if (n < N_REQ) {
        char *err = NULL;
        (void)itest_server_stop(&f->s);
        err = f->s.err_text;
        fail_msg("after %d ms the sink holds %zu spans of %s, want %d\nserver stderr:\n%s",
                 ARRIVE_TIMEOUT_MS, n, path, N_REQ, err ? err : "");
    }
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    assert_sink_spans(&f->k, N_REQ, "GET /hello/{name}");
    assert_int_equal(itest_otlp_balance(&f->s), N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 0);
    assert_true(itest_sink_stat(&f->k, "tls_requests") > 0);
    assert_int_equal(itest_sink_stat(&f->k, "tls_requests"), itest_sink_stat(&f->k, "requests"));
}

/* Two rounds of requests while every export is refused at the TLS level:
 * each request is answered 200, nothing reaches the sink, every span is
 * counted failed, an error was logged, and each entry of reasons (a
 * NULL-terminated list of '|'-separated alternatives, the OpenSSL reason)
 * is on exactly one line of the server's stderr, though more than one
 * export was refused. */
static void assert_refused(fixture *f, const char *const *reasons)
{
    const char *first = reasons[0] != NULL ? reasons[0] : "otel error:";
    char wait_for[128];

    snprintf(wait_for, sizeof(wait_for), "%.*s", (int)strcspn(first, "|"), first);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/refused", N_REQ, 200), N_REQ);
    (void)itest_server_wait_err(&f->s, wait_for, ERR_TIMEOUT_MS);
    itest_sleep_ms(ROUND_PAUSE_MS);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/refused", N_REQ, 200), N_REQ);
    itest_sleep_ms(ROUND_PAUSE_MS);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);

    assert_int_equal(itest_sink_count(&f->k, NULL), 0);
    /* refused handshakes never become requests at the sink */
    assert_int_equal(itest_sink_stat(&f->k, "requests"), 0);
    assert_int_equal(itest_otlp_balance(&f->s), 2 * N_REQ);
    assert_int_equal(itest_otlp_counter(&f->s, "exported"), 0);
    assert_int_equal(itest_otlp_counter(&f->s, "failed"), 2 * N_REQ);
    if (lines_with(f->s.err_text, "otel error:") == 0)
        fail_msg("no error logged; stderr:\n%s", f->s.err_text);
    for (size_t i = 0; reasons[i] != NULL; i++) {
        size_t n = lines_with(f->s.err_text, reasons[i]);
        if (n != 1)
            fail_msg("\"%s\" is on %zu lines of the server's stderr, want 1 (said once per "
                     "cause):\n%s",
                     reasons[i], n, f->s.err_text);
    }
}

/* Start a server with conf (the otlp block's lines between CONF_HEAD and
 * CONF_TAIL) that must be refused at start: it exits non-zero, never
 * listens, and its stderr names the config file and a line from lo to hi
 * ("FILE:LINE:") and token (when not NULL). */
static void assert_config_error(fixture *f, const char *otlp_lines, int lo, int hi,
                                const char *token)
{
    char conf[4096];
    char want[ITEST_PATH_MAX + 16];
    bool found = false;
    int n = snprintf(conf, sizeof(conf), CONF_HEAD "%s" CONF_TAIL, otlp_lines);

    assert_true(n > 0 && (size_t)n < sizeof(conf));
    if (itest_server_start(&f->s, conf) == 0)
        fail_msg("the server started with this config:\n%s", conf);
    assert_int_equal(itest_server_reap(&f->s, 5000), 0);
    assert_true(WIFEXITED(f->s.exit_status));
    assert_int_not_equal(WEXITSTATUS(f->s.exit_status), 0);
    assert_null(strstr(f->s.out_text != NULL ? f->s.out_text : "", "listening"));
    for (int line = lo; line <= hi && !found; line++) {
        snprintf(want, sizeof(want), "%s:%d:", f->s.conf_path, line);
        found = strstr(f->s.err_text, want) != NULL;
    }
    if (!found)
        fail_msg("stderr names no %s:%d..%d:\nconfig:\n%s\nstderr:\n%s", f->s.conf_path, lo, hi,
                 conf, f->s.err_text);
    /* the directive is known; what is wrong is its value */
    if (strstr(f->s.err_text, "unknown directive") != NULL)
        fail_msg("a directive of this config is unknown:\n%s\nstderr:\n%s", conf, f->s.err_text);
    if (token != NULL && strstr(f->s.err_text, token) == NULL)
        fail_msg("stderr does not name \"%s\":\n%s", token, f->s.err_text);
}

/* Run curl with args (NULL-terminated) after "curl -sS --max-time 10 -o
 * OUT -w %{http_code}", OUT being /dev/null or "-" with body. Returns the
 * HTTP status (0: none); curl's exit code into *exit_code, its stderr
 * into *err (heap, may be NULL) and, with body, what it printed (body,
 * then the status) into *body. */
static int run_curl(const char *const *args, int *exit_code, char **err, char **body)
{
    char *argv[32] = {
        "curl", "-sS",           "--max-time", "10", "-o", body != NULL ? "-" : "/dev/null",
        "-w",   "\n%{http_code}"};
    size_t n = 8;
    char *out = NULL;
    int status = 0, code = 0;
    const char *last;

    for (size_t i = 0; args[i] != NULL && n + 1 < 32; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    if (itest_run_cmd(argv, NULL, 30000, &out, err, &status) != 0 || !WIFEXITED(status))
        fail_msg("curl did not run to its end");
    *exit_code = WEXITSTATUS(status);
    last = strrchr(out, '\n');
    code = last != NULL ? (int)strtol(last + 1, NULL, 10) : 0;
    if (body != NULL)
        *body = out;
    else
        free(out);
    return code;
}

/* openssl with args (NULL-terminated); its exit code, stdout+stderr into
 * *out (heap). */
static int run_openssl(const char *const *args, char **out)
{
    char *argv[32] = {"openssl"};
    size_t n = 1;
    char *o = NULL, *e = NULL;
    int status = 0;
    size_t lo, le;

    for (size_t i = 0; args[i] != NULL && n + 1 < 32; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    if (itest_run_cmd(argv, NULL, 30000, &o, &e, &status) != 0 || !WIFEXITED(status))
        fail_msg("openssl %s did not run to its end", args[0]);
    lo = strlen(o);
    le = strlen(e);
    *out = malloc(lo + le + 1);
    assert_non_null(*out);
    memcpy(*out, o, lo);
    memcpy(*out + lo, e, le + 1);
    free(o);
    free(e);
    return WEXITSTATUS(status);
}

/* openssl verify of cert against ca (ip: also its IP SAN): exit code 0? */
static bool verifies(const char *ca, const char *cert, const char *ip, const char *want_text)
{
    const char *args[] = {"verify", "-CAfile", ca, cert, NULL, NULL, NULL};
    char *out = NULL;
    int rc;

    if (ip != NULL) {
        args[3] = "-verify_ip";
        args[4] = ip;
        args[5] = cert;
    }
    rc = run_openssl(args, &out);
    if (want_text != NULL && strstr(out, want_text) == NULL)
        fail_msg("openssl verify %s: no \"%s\" in:\n%s", cert, want_text, out);
    free(out);
    return rc == 0;
}

/* ---- the test infrastructure itself --------------------------------------- */

/* The certificates are what their names say, by openssl's own checks. */
static void test_certs_are_what_they_say(void **state)
{
    const char *dates[] = {"x509", "-noout", "-dates", "-subject", "-in", certs.expired, NULL};
    const char *client[] = {"x509", "-noout", "-subject", "-in", certs.client, NULL};
    char *out = NULL;

    (void)state;
    assert_true(verifies(certs.ca, certs.server, "127.0.0.1", ": OK"));
    assert_true(verifies(certs.ca, certs.client, NULL, ": OK"));
    assert_false(verifies(certs.ca, certs.rogue_server, NULL, "unable to get local issuer"));
    assert_false(verifies(certs.ca, certs.rogue_client, NULL, "unable to get local issuer"));
    assert_true(verifies(certs.rogue_ca, certs.rogue_server, "127.0.0.1", ": OK"));
    assert_true(verifies(certs.ca, certs.wrong_host, NULL, ": OK")); /* the chain is good */
    assert_false(verifies(certs.ca, certs.wrong_host, "127.0.0.1", "IP address mismatch"));
    assert_false(verifies(certs.ca, certs.expired, "127.0.0.1", "certificate has expired"));
    assert_int_equal(run_openssl(dates, &out), 0);
    assert_non_null(strstr(out, "notAfter=Feb  1 00:00:00 2020 GMT"));
    assert_non_null(strstr(out, "CN = localhost"));
    free(out);
    assert_int_equal(run_openssl(client, &out), 0);
    assert_non_null(strstr(out, "CN = " ITEST_CERTS_CLIENT_CN));
    free(out);
}

/* The sink serves TLS with those certificates: curl --cacert gets its
 * /stats, curl without the CA does not; with mTLS only a client with the
 * good certificate does; the gRPC port offers ALPN h2. */
static void test_sink_tls_answers_curl(void **state)
{
    fixture *f = *state;
    char url[64], *body = NULL, *err = NULL, *out = NULL;
    int rc = 0;

    itest_sink_start_ok(&f->k, 0, tls_args(f->extra, certs.server, certs.server_key, NULL, true));
    assert_int_not_equal(f->k.http_port, 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/stats", (unsigned int)f->k.http_port);
    const char *trusted[] = {"--cacert", certs.ca, url, NULL};
    const char *untrusted[] = {url, NULL};
    assert_int_equal(run_curl(trusted, &rc, NULL, &body), 200);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(body, "\"tls_requests\""));
    free(body);
    assert_int_equal(run_curl(untrusted, &rc, &err, NULL), 0);
    assert_int_equal(rc, 60); /* CURLE_PEER_FAILED_VERIFICATION */
    free(err);

    char connect[32];
    snprintf(connect, sizeof(connect), "127.0.0.1:%u", (unsigned int)f->k.port);
    const char *alpn[] = {"s_client", "-alpn",   "h2",     "-connect",
                          connect,    "-CAfile", certs.ca, NULL};
    (void)run_openssl(alpn, &out);
    assert_non_null(strstr(out, "ALPN protocol: h2"));
    assert_non_null(strstr(out, "Verify return code: 0 (ok)"));
    free(out);
    itest_sink_stop_ok(&f->k);
    assert_int_equal(itest_sink_stat(&f->k, "requests"), 0); /* /stats is no Export */

    itest_sink_cleanup(&f->k);
    assert_int_equal(itest_sink_init(&f->k), 0);
    itest_sink_start_ok(&f->k, 0,
                        tls_args(f->extra, certs.server, certs.server_key, certs.ca, true));
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/stats", (unsigned int)f->k.http_port);
    const char *mtls[] = {"--cacert", certs.ca,         "--cert", certs.client,
                          "--key",    certs.client_key, url,      NULL};
    const char *rogue[] = {
        "--cacert", certs.ca, "--cert", certs.rogue_client, "--key", certs.rogue_client_key,
        url,        NULL};
    assert_int_equal(run_curl(mtls, &rc, NULL, NULL), 200);
    assert_int_equal(run_curl(trusted, &rc, &err, NULL), 0); /* no client certificate */
    assert_int_not_equal(rc, 0);
    free(err);
    assert_int_equal(run_curl(rogue, &rc, &err, NULL), 0);
    assert_int_not_equal(rc, 0);
    free(err);
    itest_sink_stop_ok(&f->k);
}

/* The sink starts with the expired and the wrong-host certificates too, and
 * curl refuses each for the reason it should. */
static void test_sink_serves_bad_certificates(void **state)
{
    fixture *f = *state;
    static const struct {
        size_t cert, key; /* offsets in itest_certs */
        const char *why;  /* in curl's error */
    } cases[] = {
        {offsetof(itest_certs, expired), offsetof(itest_certs, expired_key), "expired"},
        {offsetof(itest_certs, wrong_host), offsetof(itest_certs, wrong_host_key),
         "no alternative certificate subject name matches"},
        {offsetof(itest_certs, rogue_server), offsetof(itest_certs, rogue_server_key),
         "unable to get local issuer certificate"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char url[64], *err = NULL;
        int rc = 0;

        if (i > 0) {
            itest_sink_cleanup(&f->k);
            assert_int_equal(itest_sink_init(&f->k), 0);
        }
        itest_sink_start_ok(&f->k, 0,
                            tls_args(f->extra, (char *)&certs + cases[i].cert,
                                     (char *)&certs + cases[i].key, NULL, true));
        snprintf(url, sizeof(url), "https://127.0.0.1:%u/stats", (unsigned int)f->k.http_port);
        const char *args[] = {"--cacert", certs.ca, url, NULL};
        assert_int_equal(run_curl(args, &rc, &err, NULL), 0);
        assert_int_equal(rc, 60);
        if (strstr(err, cases[i].why) == NULL)
            fail_msg("curl's error for %s is \"%s\", want \"%s\"", (char *)&certs + cases[i].cert,
                     err, cases[i].why);
        free(err);
        itest_sink_stop_ok(&f->k);
    }
}

/* ---- delivered ------------------------------------------------------------ */

/* ca_file trusts the private CA: spans arrive over TLS. */
static void test_tls_ca_file_delivers(void **state)
{
    fixture *f = *state;
    char cn[64];

    sink_start_tls(f, certs.server, certs.server_key, NULL);
    server_start_trusting(&f->s, f->k.port, false);
    deliver_ok(f, "/hello/tls");
    /* no client certificate was asked for, none was sent */
    assert_false(itest_sink_final_str(&f->k, "last_client_cn", cn, sizeof(cn)));
}

/* One span ended and flushed through t: exported, not failed. */
static void export_one(otel_tracer *t, uint64_t want_exported)
{
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .root = true};
    otel_stats st;

    otel_span_end(otel_span_start(t, "resume", &opt));
    assert_int_equal(otel_tracer_force_flush(t, 10 * 1000000000ULL), 0);
    otel_tracer_stats(t, &st);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.exported, want_exported);
}

/* A new connection to the same collector resumes the TLS session the
 * collector's ticket gave the last one (RFC 8446 section 2.2; grpc-js
 * sends tickets): the exporter through a proxy that cuts the connection
 * between two batches connects twice, the second time resumed. */
static void test_tls_reconnect_resumes_session(void **state)
{
    fixture *f = *state;
    itest_proxy *px;
    otel_resource *res;
    otel_tracer *t;
    otel_otlp *o;
    otel_exporter *e;
    otel_tracer_config cfg;
    otel_otlp_stats os;
    char url[64], err[256] = "";

    sink_start_tls(f, certs.server, certs.server_key, NULL);
    assert_int_equal(itest_proxy_start(&px, f->k.port), 0);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned int)itest_proxy_port(px));
    otel_otlp_config oc = {.endpoint = url, .ca_file = certs.ca, .timeout_ns = 5000000000ULL};
    otel_tracer_config_default(&cfg);
    assert_int_equal(otel_resource_new(&res, "itest-tls"), 0);
    assert_int_equal(otel_tracer_new(&t, &cfg, res), 0);
    if (otel_otlp_new(&o, &oc, err, sizeof(err)) != 0)
        fail_msg("otel_otlp_new: %s", err);
    assert_int_equal(otel_otlp_exporter(o, &e), 0);
    assert_int_equal(otel_tracer_add_exporter(t, e), 0);
    assert_int_equal(otel_tracer_start(t), 0);

    export_one(t, 1);
    otel_otlp_get_stats(o, &os);
    assert_int_equal(os.connects, 1);
    assert_int_equal(os.tls_resumed, 0);
    itest_proxy_cut(px);
    export_one(t, 2);
    otel_otlp_get_stats(o, &os);
    assert_int_equal(os.connects, 2);
    assert_int_equal(os.tls_resumed, 1);

    otel_tracer_del(t); /* and o, e with it */
    itest_proxy_stop(px, NULL, NULL);
    itest_sink_stop_ok(&f->k);
    assert_sink_spans(&f->k, 2, "resume");
}

/* mTLS: the sink asks for a client certificate signed by its CA and gets
 * client_cert. */
static void test_tls_mtls_client_cert_accepted(void **state)
{
    fixture *f = *state;
    char cn[64] = "";

    sink_start_tls(f, certs.server, certs.server_key, certs.ca);
    server_start_trusting(&f->s, f->k.port, true);
    deliver_ok(f, "/hello/mtls");
    assert_true(itest_sink_final_str(&f->k, "last_client_cn", cn, sizeof(cn)));
    assert_string_equal(cn, ITEST_CERTS_CLIENT_CN);
}

/* tls_verify off: a warning at start, then delivery to a sink whose
 * certificate nothing here trusts. */
static void test_tls_verify_off_warns_and_delivers(void **state)
{
    fixture *f = *state;

    sink_start_tls(f, certs.rogue_server, certs.rogue_server_key, NULL);
    server_start_ok(&f->s, f->k.port, "    tls_verify off;\n");
    /* said at start, before any export */
    assert_true(itest_server_wait_err(&f->s, "tls_verify off", 5000));
    deliver_ok(f, "/hello/noverify");
    assert_int_equal(lines_with(f->s.err_text, "tls_verify off"), 1);
    assert_non_null(strstr(f->s.err_text, "otel warning:"));
}

/* ---- refused -------------------------------------------------------------- */

/* mTLS sink, no client certificate: the handshake ends in a TLS alert
 * (TLS 1.3: alert 116, certificate required). */
static void test_tls_mtls_without_client_cert_refused(void **state)
{
    fixture *f = *state;
    static const char *const reasons[] = {"certificate required|alert", NULL};

    sink_start_tls(f, certs.server, certs.server_key, certs.ca);
    server_start_trusting(&f->s, f->k.port, false);
    assert_refused(f, reasons);
}

/* mTLS sink, a client certificate of the rogue CA: the sink hangs up right
 * after the handshake, before reading anything (no alert to report). */
static void test_tls_mtls_rogue_client_cert_refused(void **state)
{
    fixture *f = *state;
    static const char *const reasons[] = {NULL};
    char lines[1024];

    sink_start_tls(f, certs.server, certs.server_key, certs.ca);
    snprintf(lines, sizeof(lines), "    ca_file %s;\n    client_cert %s;\n    client_key %s;\n",
             certs.ca, certs.rogue_client, certs.rogue_client_key);
    server_start_ok(&f->s, f->k.port, lines);
    assert_refused(f, reasons);
}

/* A certificate of the trusted CA for another name (SAN DNS:wrong.example)
 * at https://127.0.0.1: refused by the host check. */
static void test_tls_wrong_host_refused(void **state)
{
    fixture *f = *state;
    static const char *const reasons[] = {"certificate verify failed",
                                          "IP address mismatch|hostname mismatch", NULL};

    sink_start_tls(f, certs.wrong_host, certs.wrong_host_key, NULL);
    server_start_trusting(&f->s, f->k.port, false);
    assert_refused(f, reasons);
}

/* No ca_file: the system's trust store, which knows nothing of the rogue
 * CA. */
static void test_tls_untrusted_server_refused(void **state)
{
    fixture *f = *state;
    static const char *const reasons[] = {"certificate verify failed", NULL};

    sink_start_tls(f, certs.rogue_server, certs.rogue_server_key, NULL);
    server_start_ok(&f->s, f->k.port, "");
    assert_refused(f, reasons);
}

/* A certificate of the trusted CA that ended in 2020. */
static void test_tls_expired_server_refused(void **state)
{
    fixture *f = *state;
    static const char *const reasons[] = {"certificate verify failed", "expired", NULL};

    sink_start_tls(f, certs.expired, certs.expired_key, NULL);
    server_start_trusting(&f->s, f->k.port, false);
    assert_refused(f, reasons);
}

/* Refused first (an untrusted certificate), then the sink comes back on the
 * same port with a good one: later spans arrive without a restart of the
 * demo server. */
static void test_tls_recovers_when_sink_fixed(void **state)
{
    fixture *f = *state;
    size_t n;

    sink_start_tls(f, certs.rogue_server, certs.rogue_server_key, NULL);
    server_start_trusting(&f->s, f->k.port, false);
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/before", N_REQ, 200), N_REQ);
    if (!itest_server_wait_err(&f->s, "certificate verify failed", ERR_TIMEOUT_MS)) {
        (void)itest_server_stop(&f->s);
        fail_msg("no \"certificate verify failed\" within %d ms; stderr:\n%s", ERR_TIMEOUT_MS,
                 f->s.err_text);
    }
    assert_int_equal(itest_sink_kill(&f->k), 0);
    if (itest_sink_restart_with(
            &f->k, tls_args(f->extra2, certs.server, certs.server_key, NULL, false)) != 0)
        fail_msg("the sink did not restart on port %u\nstderr: %s", (unsigned int)f->k.port,
                 f->k.err_text ? f->k.err_text : "");
    assert_int_equal(itest_curl_repeat(&f->s, "/hello/after", N_REQ, 200), N_REQ);
    n = itest_sink_wait(&f->k, "/hello/after", N_REQ, ARRIVE_TIMEOUT_MS);
    itest_server_stop_ok(&f->s);
    itest_sink_stop_ok(&f->k);
    if (n < N_REQ)
        fail_msg("after the fix the sink holds %zu spans of /hello/after, want %d; stderr:\n%s", n,
                 N_REQ, f->s.err_text);
    assert_int_equal(itest_sink_count(&f->k, "/hello/after"), N_REQ);
    assert_int_equal(itest_otlp_balance(&f->s), 2 * N_REQ);
    /* the first round may have been retried into the fixed sink, or not */
    assert_int_equal(itest_otlp_counter(&f->s, "exported"),
                     N_REQ + itest_sink_count(&f->k, "/hello/before"));
    assert_true(itest_sink_stat(&f->k, "tls_requests") > 0);
}

/* ---- config errors: refused at start with FILE:LINE: ---------------------- */

static void test_tls_config_ca_file_unreadable(void **state)
{
    fixture *f = *state;
    char lines[1024];

    snprintf(lines, sizeof(lines), "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n",
             certs.missing);
    assert_config_error(f, lines, 5, 5, certs.missing);
    itest_server_cleanup(&f->s);
    assert_int_equal(itest_server_init(&f->s), 0);
    /* a directory: opened, but nothing can be read from it */
    snprintf(lines, sizeof(lines), "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n",
             certs.dir);
    assert_config_error(f, lines, 5, 5, certs.dir);
}

static void test_tls_config_client_cert_unreadable(void **state)
{
    fixture *f = *state;
    char lines[1024];

    snprintf(lines, sizeof(lines),
             "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n    client_cert %s;\n"
             "    client_key %s;\n",
             certs.ca, certs.missing, certs.client_key);
    assert_config_error(f, lines, 6, 6, certs.missing);
}

static void test_tls_config_client_key_unreadable(void **state)
{
    fixture *f = *state;
    char lines[1024];

    snprintf(lines, sizeof(lines),
             "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n    client_cert %s;\n"
             "    client_key %s;\n",
             certs.ca, certs.client, certs.missing);
    assert_config_error(f, lines, 7, 7, certs.missing);
}

/* A file that holds no PEM certificate, as ca_file and as client_cert. */
static void test_tls_config_not_a_certificate(void **state)
{
    fixture *f = *state;
    char lines[1024];

    snprintf(lines, sizeof(lines), "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n",
             certs.not_pem);
    assert_config_error(f, lines, 5, 5, certs.not_pem);
    itest_server_cleanup(&f->s);
    assert_int_equal(itest_server_init(&f->s), 0);
    snprintf(lines, sizeof(lines),
             "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n    client_cert %s;\n"
             "    client_key %s;\n",
             certs.ca, certs.not_pem, certs.client_key);
    assert_config_error(f, lines, 6, 6, certs.not_pem);
}

/* client_key is the key of another certificate: said on the line of
 * client_cert or of client_key. */
static void test_tls_config_key_does_not_match(void **state)
{
    fixture *f = *state;
    char lines[1024];

    snprintf(lines, sizeof(lines),
             "    endpoint https://127.0.0.1:4317;\n    ca_file %s;\n    client_cert %s;\n"
             "    client_key %s;\n",
             certs.ca, certs.client, certs.server_key);
    assert_config_error(f, lines, 6, 7, NULL);
}

/* TLS files with a cleartext endpoint would silently not be used. */
static void test_tls_config_tls_options_with_http_endpoint(void **state)
{
    fixture *f = *state;
    char lines[1024];

    snprintf(lines, sizeof(lines), "    endpoint http://127.0.0.1:4317;\n    ca_file %s;\n",
             certs.ca);
    assert_config_error(f, lines, 4, 5, NULL);
    itest_server_cleanup(&f->s);
    assert_int_equal(itest_server_init(&f->s), 0);
    snprintf(lines, sizeof(lines),
             "    endpoint http://127.0.0.1:4317;\n    client_cert %s;\n    client_key %s;\n",
             certs.client, certs.client_key);
    assert_config_error(f, lines, 4, 6, NULL);
}

static void test_tls_config_protocol_bogus(void **state)
{
    assert_config_error(*state, "    protocol bogus;\n    endpoint https://127.0.0.1:4317;\n", 4, 4,
                        "bogus");
}

/* ---- the environment alone ------------------------------------------------ */

/* "NAME=value" into f->env[i]; returns it. */
static const char *env_set(fixture *f, size_t i, const char *name, const char *value)
{
    snprintf(f->env[i], sizeof(f->env[i]), "%s=%s", name, value);
    return f->env[i];
}

/* The config of the env-only runs: no otel_exporter block, so the exporter
 * comes from OTEL_TRACES_EXPORTER and its settings from OTEL_EXPORTER_OTLP_*
 * (OTel SDK spec, "Environment Variable Specification"). */
#define ENV_CONF                                                                                   \
    "otel_trace on;\n"                                                                             \
    "otel_service_name itest-tls;\n"                                                               \
    "otel_route /hello/{name};\n"                                                                  \
    "otel_batch { schedule_delay 100ms; export_timeout 2s; }\n"

static void server_start_env_ok(fixture *f, const char *const *env)
{
    if (itest_server_start_bare(&f->s, ENV_CONF, env) == 0)
        return;
    (void)itest_server_reap(&f->s, 2000);
    fail_msg("the server did not start with the environment alone (exit status 0x%x)\n"
             "stderr: %s",
             (unsigned int)f->s.exit_status, f->s.err_text ? f->s.err_text : "");
}

/* OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY with
 * an https endpoint: mTLS from the environment (OTLP exporter spec,
 * specification/protocol/exporter.md, "Configuration Options": Certificate
 * File, Client Key File, Client Certificate File). */
static void test_tls_env_only_mtls(void **state)
{
    fixture *f = *state;
    char endpoint[64], cn[64] = "";

    sink_start_tls(f, certs.server, certs.server_key, certs.ca);
    snprintf(endpoint, sizeof(endpoint), "https://127.0.0.1:%u", (unsigned int)f->k.port);
    const char *const env[] = {"OTEL_TRACES_EXPORTER=otlp",
                               env_set(f, 0, "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
                               env_set(f, 1, "OTEL_EXPORTER_OTLP_CERTIFICATE", certs.ca),
                               env_set(f, 2, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", certs.client),
                               env_set(f, 3, "OTEL_EXPORTER_OTLP_CLIENT_KEY", certs.client_key),
                               "OTEL_EXPORTER_OTLP_TIMEOUT=2000",
                               "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                               "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                               "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
                               "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY",
                               "OTEL_EXPORTER_OTLP_PROTOCOL",
                               "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                               "OTEL_SDK_DISABLED",
                               NULL};
    server_start_env_ok(f, env);
    deliver_ok(f, "/hello/env");
    assert_true(itest_sink_final_str(&f->k, "last_client_cn", cn, sizeof(cn)));
    assert_string_equal(cn, ITEST_CERTS_CLIENT_CN);
}

/* The TRACES_ variants win over the general ones ("Each configuration
 * option MUST be overridable by a signal specific option"): the general
 * ones name the rogue CA and the rogue client, which would be refused. */
static void test_tls_env_traces_variants_win(void **state)
{
    fixture *f = *state;
    char endpoint[64], cn[64] = "";

    sink_start_tls(f, certs.server, certs.server_key, certs.ca);
    snprintf(endpoint, sizeof(endpoint), "https://127.0.0.1:%u", (unsigned int)f->k.port);
    const char *const env[] = {
        "OTEL_TRACES_EXPORTER=otlp",
        env_set(f, 0, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint),
        env_set(f, 1, "OTEL_EXPORTER_OTLP_CERTIFICATE", certs.rogue_ca),
        env_set(f, 2, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", certs.rogue_client),
        env_set(f, 3, "OTEL_EXPORTER_OTLP_CLIENT_KEY", certs.rogue_client_key),
        env_set(f, 4, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", certs.ca),
        env_set(f, 5, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", certs.client),
        env_set(f, 6, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", certs.client_key),
        "OTEL_EXPORTER_OTLP_TIMEOUT=2000",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_SDK_DISABLED",
        NULL};
    server_start_env_ok(f, env);
    deliver_ok(f, "/hello/envtraces");
    assert_true(itest_sink_final_str(&f->k, "last_client_cn", cn, sizeof(cn)));
    assert_string_equal(cn, ITEST_CERTS_CLIENT_CN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_certs_are_what_they_say, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_tls_answers_curl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_serves_bad_certificates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_ca_file_delivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_reconnect_resumes_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_mtls_client_cert_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_verify_off_warns_and_delivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_mtls_without_client_cert_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_mtls_rogue_client_cert_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_wrong_host_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_untrusted_server_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_expired_server_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_recovers_when_sink_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_ca_file_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_client_cert_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_client_key_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_not_a_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_key_does_not_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_tls_options_with_http_endpoint, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_config_protocol_bogus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_env_only_mtls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_env_traces_variants_win, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
