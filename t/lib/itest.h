/* itest.h - integration test helpers: run the real demo server with a
 * temporary config, drive it with the curl tool, read the spans it exported. */
#ifndef ITEST_H
#define ITEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define ITEST_PATH_MAX 256

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

/* A curl response: status is 0 when curl got no answer at all. */
typedef struct itest_response {
    int status;
    char *body; /* heap, NUL-terminated; freed by itest_response_free */
    size_t body_len;
} itest_response;

/* The spans of one run, parsed. */
typedef struct itest_spans {
    cJSON **v;
    size_t n;
} itest_spans;

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

/* GET http://127.0.0.1:PORT<path> with curl; extra is a NULL-terminated
 * list of more curl arguments (headers: "-H", "Name: value"), may be NULL.
 * Returns 0 when curl ran (r->status 0: no HTTP answer), -1 when it could
 * not be run. The caller frees r with itest_response_free. */
int itest_curl(itest_server *s, const char *path, const char *const *extra, itest_response *r);
void itest_response_free(itest_response *r);

/* n GETs of path over one curl process (keep-alive). Returns how many were
 * answered with status want, or -1 when curl could not be run. */
int itest_curl_repeat(itest_server *s, const char *path, int n, int want);

/* Read the spans file: every non-empty line must be a JSON object and valid
 * UTF-8. Returns 0, or -1 with a reason in why (whylen bytes). A missing
 * file is no spans. The caller frees out with itest_spans_free. */
int itest_spans_read(const char *path, itest_spans *out, char *why, size_t whylen);
void itest_spans_free(itest_spans *sp);

/* True when the n bytes at p are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool itest_utf8_valid(const char *p, size_t n);

/* ---- reading one exported span (borrowed cJSON nodes) ------------------ */

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

#endif /* ITEST_H */
