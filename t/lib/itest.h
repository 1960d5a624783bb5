/* itest.h - integration test helpers: run the real demo server with a
 * temporary config, drive it with the curl tool, read the spans it exported.
 * Each section below is one file of t/lib; what they share is itest_int.h. */
#ifndef ITEST_H
#define ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define ITEST_PATH_MAX 256

/* ---- files and the build dir (itest_file.c) ----------------------------- */

/* The build directory: $MHD_OTEL_BUILD, default "build". */
const char *itest_build_dir(void);

/* ---- a server under test (itest_server.c) ------------------------------- */

/* One demo server run and its temporary files (all under dir). */
typedef struct itest_server {
    char dir[ITEST_PATH_MAX];        /* temp directory; "" when none */
    char conf_path[ITEST_PATH_MAX];  /* the config written for the run */
    char spans_path[ITEST_PATH_MAX]; /* where the console exporter writes */
    char err_path[ITEST_PATH_MAX];   /* the server's stderr */
    char body_path[ITEST_PATH_MAX];  /* curl's last response body */
    pid_t pid;                       /* 0 when not running */
    int out_fd;                      /* read end of the server's stdout; -1 */
    uint16_t port;                   /* from the "listening on" line */
    char *out_text;                  /* stdout read so far (heap, NUL-terminated) */
    char *err_text;                  /* stderr, read by itest_server_stop/reap */
    int exit_status;                 /* waitpid status once reaped */
    bool reaped;
} itest_server;

/* Path of the demo server: $MHD_OTEL_BUILD/demo-server (default build/). */
const char *itest_server_binary(void);

/* Make s empty and create its temp directory. Returns 0 or -1. */
int itest_server_init(itest_server *s);

/* Write the config: conf_text first (so its line numbers are kept), then a
 * console exporter writing JSON to s->spans_path and, unless conf_text has
 * an otel_batch block, otel_batch { schedule_delay 100ms; }. Start the
 * server on 127.0.0.1 port 0 and wait up to 5 s for its "listening on"
 * line. Returns 0 when it listens, -1 otherwise (the server may have exited:
 * see itest_server_reap). */
int itest_server_start(itest_server *s, const char *conf_text);

/* Write the config s->conf_path as itest_server_start does (conf_text, then
 * the JSON console exporter to s->spans_path and, unless conf_text has an
 * otel_batch block, a 100 ms schedule delay). Returns 0 or -1. */
int itest_server_write_conf(itest_server *s, const char *conf_text);

/* itest_server_start with env changes for the server ("NAME=value" sets,
 * a bare "NAME" unsets; NULL-terminated, may be NULL). */
int itest_server_start_env(itest_server *s, const char *conf_text, const char *const *env);

/* itest_server_start_env with conf_text written as it is: no console
 * exporter and no otel_batch block added (s->spans_path stays unused). */
int itest_server_start_bare(itest_server *s, const char *conf_text, const char *const *env);

/* Start argv (argv[0] looked up in PATH) as s's server: stdout to a pipe,
 * stderr to s->err_path, stdin /dev/null. env changes our environment for
 * it: "NAME=value" sets, a bare "NAME" unsets (NULL-terminated, may be
 * NULL). With listen_prefix, wait up to 5 s for a stdout line made of
 * listen_prefix and a port (into s->port); NULL: return once started.
 * Returns 0 when it runs (and listens), -1 otherwise (it may have exited:
 * see itest_server_reap). */
int itest_server_start_cmd(itest_server *s, char *const argv[], const char *const *env,
                           const char *listen_prefix);

/* Wait up to timeout_ms until the running server's stderr (the file
 * s->err_path) holds needle. Returns whether it does. */
bool itest_server_wait_err(const itest_server *s, const char *needle, int timeout_ms);

/* SIGTERM the server, wait up to 10 s (then SIGKILL), read its stderr.
 * Returns 0 when it exited with status 0, -1 otherwise. */
int itest_server_stop(itest_server *s);

/* Wait up to timeout_ms for a server that is exiting on its own (SIGKILL
 * after that), read its stdout and stderr. Returns 0 when it exited, -1 when
 * it had to be killed. */
int itest_server_reap(itest_server *s, int timeout_ms);

/* Kill a server still running and remove the temp files; s is then empty.
 * Safe to call twice. */
void itest_server_cleanup(itest_server *s);

/* The counter name (ended, exported, dropped, failed, rejected, queued) of
 * the server's "demo-server: spans ..." line in s->err_text. False when
 * the line or the field is absent. */
bool itest_server_counter(const itest_server *s, const char *name, uint64_t *out);

/* The same counter of one exporter ("otlp", "console"): from its own line
 * ("demo-server: exporter otlp: spans ...") when the server has more than
 * one exporter, else from the one line. */
bool itest_server_exporter_counter(const itest_server *s, const char *exporter, const char *name,
                                   uint64_t *out);

/* The sanitizer flags this test was built with, for a program it builds
 * against the library (the library's objects need the same runtime). */
#if defined(__SANITIZE_ADDRESS__)
#define ITEST_SAN_FLAGS "-fsanitize=address,undefined"
#elif defined(__SANITIZE_THREAD__)
#define ITEST_SAN_FLAGS "-fsanitize=thread"
#else
#define ITEST_SAN_FLAGS ""
#endif

/* ---- any program (itest_proc.c) ----------------------------------------- */

/* The monotonic clock in ms. */
uint64_t itest_now_ms(void);

/* Sleep ms milliseconds (a signal does not cut it short). */
void itest_sleep_ms(long ms);

/* Run argv to its end with env as above, at most timeout_ms (then SIGKILL).
 * Its stdout and stderr into *out and *err (heap, NUL-terminated; either
 * pointer may be NULL), its waitpid status into *status. Returns 0 when it
 * ran to its end, -1 otherwise. */
int itest_run_cmd(char *const argv[], const char *const *env, int timeout_ms, char **out,
                  char **err, int *status);

/* ---- requests with curl (itest_curl.c) ---------------------------------- */

/* A curl response: status is 0 when curl got no answer at all. */
typedef struct itest_response {
    int status;
    char *body; /* heap, NUL-terminated; freed by itest_response_free */
    size_t body_len;
} itest_response;

/* GET http://127.0.0.1:PORT<path> with curl; extra is a NULL-terminated
 * list of more curl arguments (headers: "-H", "Name: value"), may be NULL.
 * Returns 0 when curl ran (r->status 0: no HTTP answer), -1 when it could
 * not be run. The caller frees r with itest_response_free. */
int itest_curl(itest_server *s, const char *path, const char *const *extra, itest_response *r);
void itest_response_free(itest_response *r);

/* n GETs of path over one curl process (keep-alive). Returns how many were
 * answered with status want, or -1 when curl could not be run. */
int itest_curl_repeat(itest_server *s, const char *path, int n, int want);

/* itest_curl_repeat with extra curl arguments (NULL-terminated, may be
 * NULL) given once and applying to every request, such as {"-H", "X: y"}. */
int itest_curl_repeat_with(itest_server *s, const char *path, int n, int want,
                           const char *const *extra);

/* ---- span files (itest_spans.c) ----------------------------------------- */

/* The spans of one run, parsed. */
typedef struct itest_spans {
    cJSON **v;
    size_t n;
} itest_spans;

/* Read the spans file: every non-empty line must be a JSON object and valid
 * UTF-8. Returns 0, or -1 with a reason in why (whylen bytes). A missing
 * file is no spans. The caller frees out with itest_spans_free. */
int itest_spans_read(const char *path, itest_spans *out, char *why, size_t whylen);
void itest_spans_free(itest_spans *sp);

/* True when the n bytes at p are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool itest_utf8_valid(const char *p, size_t n);

/* Read a JSON-lines file like itest_spans_read, keeping every integer exact
 * and typed: each integer number (no '.' or exponent) becomes a cJSON_Raw
 * item holding its digits; doubles stay cJSON numbers, strings strings. */
int itest_spans_read_exact(const char *path, itest_spans *out, char *why, size_t whylen);

/* An exact integer from a Raw (as read above), a string of decimal digits,
 * or an integral number. False otherwise. */
bool itest_json_u64(const cJSON *item, uint64_t *out);
bool itest_json_i64(const cJSON *item, int64_t *out);

/* ---- one exported span, borrowed cJSON nodes (itest_span.c) ------------- */

/* A top-level string member ("name", "kind", "trace_id", ...); NULL when
 * absent or not a string. */
const char *itest_span_str(const cJSON *span, const char *member);
/* Start / end time in unix ns (0 when absent). */
uint64_t itest_span_start(const cJSON *span);
uint64_t itest_span_end(const cJSON *span);
/* Status code name ("unset", "ok", "error"). NULL when absent. */
const char *itest_span_status(const cJSON *span);
/* The value node of attribute key, NULL when absent. */
const cJSON *itest_span_attr(const cJSON *span, const char *key);
/* The attribute's string / integer value; NULL / false when absent or of
 * another type. */
const char *itest_span_attr_str(const cJSON *span, const char *key);
bool itest_span_attr_int(const cJSON *span, const char *key, int64_t *out);
/* Element i of the string array attribute key (NULL when absent, not an
 * array, or not a string there), and the array's length (-1: no array). */
const char *itest_span_attr_array_str(const cJSON *span, const char *key, size_t i);
int itest_span_attr_array_len(const cJSON *span, const char *key);
/* The first event called name, NULL when none. */
const cJSON *itest_span_event(const cJSON *span, const char *name);
/* An attribute of an event (string value), NULL when absent. */
const char *itest_event_attr_str(const cJSON *event, const char *key);
/* A resource attribute (string value), NULL when absent. */
const char *itest_span_resource_str(const cJSON *span, const char *key);

/* The first span called name, NULL when none. */
const cJSON *itest_spans_find(const itest_spans *sp, const char *name);
/* The first span of kind ("server", "internal", ...) ; NULL when none. */
const cJSON *itest_spans_find_kind(const itest_spans *sp, const char *kind);
/* The first span whose attribute key is the string value, NULL when none. */
const cJSON *itest_spans_find_attr(const itest_spans *sp, const char *key, const char *value);

/* True when s is n lowercase hex digits, not all '0'. */
bool itest_is_hex_id(const char *s, size_t n);

/* ---- the independent OTLP sink (itest_sink.c) --------------------------- */

/* sh t/sink.sh install BUILD (npm ci of ../shared/otlp-sink into
 * BUILD/otlp-sink when needed; npm's errors go to stderr). Returns 0 or -1. */
int itest_sink_install(void);

/* One run of the OTLP sink (node ../shared/otlp-sink/sink.js through
 * t/sink.sh) and its temporary files (all under dir). */
typedef struct itest_sink {
    char dir[ITEST_PATH_MAX];        /* temp directory; "" when none */
    char out_path[ITEST_PATH_MAX];   /* --out: one JSON object per span */
    char ready_path[ITEST_PATH_MAX]; /* --ready-file */
    char err_path[ITEST_PATH_MAX];   /* the sink's stderr */
    const char *const *extra;        /* more sink arguments (borrowed), kept for restarts */
    pid_t pid;                       /* 0 when not running */
    int out_fd;                      /* read end of its stdout; -1 */
    uint16_t port;                   /* its gRPC port once ready */
    uint16_t http_port;              /* its HTTP port once ready; 0: none */
    char *out_text;                  /* stdout read by itest_sink_stop (heap) */
    char *err_text;                  /* stderr, read when it ends (heap) */
    int exit_status;                 /* waitpid status of the last run */
} itest_sink;

/* Make k empty and create its temp directory. Returns 0 or -1. */
int itest_sink_init(itest_sink *k);

/* Start the sink with --grpc-port port (0: any free port) --ready-file
 * --out --truncate and extra (a NULL-terminated list such as
 * {"--fail-first", "3", NULL}, borrowed until itest_sink_cleanup; may be
 * NULL; {"--http-port", "0", ...} adds the OTLP/HTTP port, {"--tls-cert",
 * F, "--tls-key", K, ...} TLS on both ports); wait up to 15 s for its
 * ready file and read k->port and k->http_port from it. Returns 0 when it
 * listens, -1 otherwise (k->err_text says why). */
int itest_sink_start(itest_sink *k, uint16_t port, const char *const *extra);

/* SIGKILL the sink and reap it (no final line, no flush). Returns 0 or -1. */
int itest_sink_kill(itest_sink *k);

/* Start the sink again on k->port with the same extra arguments, appending
 * to the same out file; retried for up to 5 s while the port is still
 * taken. An "--http-port 0" of extra keeps the HTTP port it had. Returns 0
 * or -1. */
int itest_sink_restart(itest_sink *k);

/* itest_sink_restart with other extra arguments (borrowed as above), such
 * as another certificate. */
int itest_sink_restart_with(itest_sink *k, const char *const *extra);

/* SIGTERM the sink, wait up to 10 s (then SIGKILL), read its stdout and
 * stderr. Returns 0 when it exited with status 0, -1 otherwise. */
int itest_sink_stop(itest_sink *k);

/* Kill a sink still running and remove its temp files; k is then empty. */
void itest_sink_cleanup(itest_sink *k);

/* Spans in the sink's out file so far whose url.path attribute is path
 * (all spans when path is NULL); 0 while a line is half written. */
size_t itest_sink_count(const itest_sink *k, const char *path);

/* Wait up to timeout_ms until itest_sink_count(k, path) >= want. Returns
 * the last count. */
size_t itest_sink_wait(const itest_sink *k, const char *path, size_t want, int timeout_ms);

/* A counter of the sink's "otlp-sink final ..." line ("spans", "bytes",
 * "requests", "failures_injected", ...), once stopped. False when absent. */
bool itest_sink_final_stat(const itest_sink *k, const char *name, uint64_t *out);

/* A string field of that line ("last_client_cn", ...) copied into out (cap
 * bytes, truncated). False when absent, null or not a string. */
bool itest_sink_final_str(const itest_sink *k, const char *name, char *out, size_t cap);

/* That whole line's object, parsed (NULL when there is none); the caller
 * frees it with cJSON_Delete. */
cJSON *itest_sink_final(const itest_sink *k);

/* ---- throwaway TLS certificates (itest_certs.c) -------------------------- */

/* The CN of the good client certificate. */
#define ITEST_CERTS_CLIENT_CN "otlp-test-client"

/* PEM files made by itest_certs_make in dir with the openssl command (EC
 * P-256 keys, unencrypted; valid 30 days from now unless said otherwise). */
typedef struct itest_certs {
    char dir[ITEST_PATH_MAX]; /* temp directory; "" when none */
    char ca[ITEST_PATH_MAX];  /* the good CA, CN=mhd-otel-test-ca */
    char ca_key[ITEST_PATH_MAX];
    char server[ITEST_PATH_MAX]; /* by ca: CN=localhost, SAN IP:127.0.0.1,DNS:localhost */
    char server_key[ITEST_PATH_MAX];
    char client[ITEST_PATH_MAX]; /* by ca: CN=ITEST_CERTS_CLIENT_CN, no SAN */
    char client_key[ITEST_PATH_MAX];
    char rogue_ca[ITEST_PATH_MAX]; /* another CA, CN=mhd-otel-rogue-ca: trusted by no one */
    char rogue_ca_key[ITEST_PATH_MAX];
    char rogue_server[ITEST_PATH_MAX]; /* by rogue_ca, names as server */
    char rogue_server_key[ITEST_PATH_MAX];
    char rogue_client[ITEST_PATH_MAX]; /* by rogue_ca: CN=otlp-rogue-client */
    char rogue_client_key[ITEST_PATH_MAX];
    char wrong_host[ITEST_PATH_MAX]; /* by ca, SAN DNS:wrong.example only */
    char wrong_host_key[ITEST_PATH_MAX];
    char expired[ITEST_PATH_MAX]; /* by ca, names as server, valid only in Jan 2020 */
    char expired_key[ITEST_PATH_MAX];
    char not_pem[ITEST_PATH_MAX]; /* a text file that holds no PEM certificate */
    char missing[ITEST_PATH_MAX]; /* a path in dir where no file is */
} itest_certs;

/* Make every file of c in a new temp directory (a few seconds at most).
 * Returns 0, or -1 after printing why on stderr (c is then empty). */
int itest_certs_make(itest_certs *c);

/* Remove c->dir and everything in it; c is then empty. Safe to call twice. */
void itest_certs_cleanup(itest_certs *c);

/* ---- fixtures and checks of the OTLP tests (itest_fixture.c) ------------ */

/* The group setup of a test exporting to the sink: itest_sink_install and,
 * when certs is not NULL, itest_certs_make into *certs. Returns 0, or -1
 * after saying on stderr what failed (test: the test program's name). */
int itest_group_setup_sink(const char *test, itest_certs *certs);

/* itest_server_init of s and itest_sink_init of k (a test's fixture);
 * when either fails, both are cleaned up. Returns 0 or -1. */
int itest_fixture_init(itest_server *s, itest_sink *k);

/* itest_server_cleanup of s and itest_sink_cleanup of k. */
void itest_fixture_cleanup(itest_server *s, itest_sink *k);

/* The checks below fail the running cmocka test (fail_msg) with what the
 * process printed, and return only when the check holds. */

/* itest_sink_start of k on port with extra (see there). */
void itest_sink_start_ok(itest_sink *k, uint16_t port, const char *const *extra);

/* itest_sink_stop of k: the sink exits 0 on SIGTERM. */
void itest_sink_stop_ok(itest_sink *k);

/* The sink's final counter name (see itest_sink_final_stat), which must be
 * there. */
uint64_t itest_sink_stat(const itest_sink *k, const char *name);

/* itest_server_stop of s: the server exits 0 on SIGTERM (it flushes
 * first) within 10 s; otherwise its stderr is printed too. */
void itest_server_stop_ok(itest_server *s);

/* The OTLP exporter's counter name in the stopped server's final counters
 * (itest_server_exporter_counter of "otlp"), which must be there. */
uint64_t itest_otlp_counter(const itest_server *s, const char *name);

/* ended = exported + dropped + failed + rejected + queued, else the test
 * fails naming all six. */
void itest_balance_ok(uint64_t ended, uint64_t exported, uint64_t dropped, uint64_t failed,
                      uint64_t rejected, uint64_t queued);

/* The OTLP exporter's counters balance: ended = exported + dropped +
 * failed + rejected + queued, each of them present. Returns ended. */
uint64_t itest_otlp_balance(const itest_server *s);

/* ---- ports and a counting proxy (itest_net.c, itest_proxy.c) ------------ */

/* A TCP port on 127.0.0.1 that was free a moment ago (bound, then
 * released). Returns 0 or -1. */
int itest_port_reserve(uint16_t *port);

/* A TCP socket listening on 127.0.0.1:port (0: any), its port in *bound;
 * -1 on failure. Never read, it is a collector that never answers: the
 * kernel completes the handshakes, no byte comes back. */
int itest_listen_local(uint16_t port, uint16_t *bound);

/* A TCP forwarder from 127.0.0.1:port to 127.0.0.1:upstream in a thread,
 * counting the bytes each way (to learn what crossed the wire). */
typedef struct itest_proxy itest_proxy;
/* Start one; *out freed by itest_proxy_stop. Returns 0 or -1. */
int itest_proxy_start(itest_proxy **out, uint16_t upstream);
uint16_t itest_proxy_port(const itest_proxy *p);
/* Close every connection going through p (the listener stays); returns
 * once they are closed. */
void itest_proxy_cut(itest_proxy *p);
/* Stop the thread, close every connection, free p; the byte counts of the
 * whole run into *up (client to upstream) and *down. NULL p does nothing. */
void itest_proxy_stop(itest_proxy *p, uint64_t *up, uint64_t *down);

#endif /* ITEST_H */
