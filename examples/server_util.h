/* server_util.h - what the example servers share: port parsing, responses,
 * the listening line, stop signals and the span counters on exit. */
#ifndef EXAMPLE_SERVER_UTIL_H
#define EXAMPLE_SERVER_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <microhttpd.h>

#include <mhd-otel/mhd_otel.h>

/* The program's name in every message ("demo-server: ..."). Borrowed: a
 * literal. Call first. */
void example_set_name(const char *name);

/* A decimal port 0..65535 from s into *out. Returns 0 or -1. */
int example_parse_port(const char *s, uint16_t *out);

/* 1 when id is 1..64 characters of [A-Za-z0-9_-] (safe in a URL path). */
int example_id_valid(const char *id);

/* Queue a response holding a copy of len bytes of body with content_type,
 * plus an Allow header when allow is not NULL. */
enum MHD_Result example_respond(struct MHD_Connection *connection, unsigned int status,
                                const char *content_type, const char *body, size_t len,
                                const char *allow);
enum MHD_Result example_respond_text(struct MHD_Connection *connection, unsigned int status,
                                     const char *text);

/* Answer 200 with body, JSON text from cJSON_Print*, which is freed here;
 * a NULL body (cJSON out of memory) answers 500. */
enum MHD_Result example_respond_json(struct MHD_Connection *connection, char *body);

/* The MHD idiom for a handler that answers without reading a body: the first
 * call only marks the request (a response queued then makes MHD discard the
 * request and close the connection), later calls drain any body. True when
 * the handler should answer now; false: it returns MHD_YES. */
bool example_ready_to_answer(void **req_cls, size_t *upload_data_size);
/* True when p is the mark example_ready_to_answer leaves in *req_cls. */
bool example_is_mark(const void *p);

/* Print "NAME: listening on http://ADDR:PORT" with the port d really bound.
 * Returns 0 or -1. */
int example_announce(struct MHD_Daemon *d, const char *addr);

/* An otel_log_fn writing the library's own messages to stderr. */
void example_log_to_stderr(void *user_data, otel_log_level level, const char *msg);

/* SIGINT/SIGTERM through a self-pipe: install the handlers, ignore SIGPIPE
 * and block set in this thread (threads started later inherit the mask).
 * Returns 0 or -1. */
int example_stop_signals_setup(const sigset_t *set);
/* Unblock set in this thread and wait for one of the signals. */
void example_wait_for_stop(const sigset_t *set);

/* Flush the tracer and print its counters on one line of stderr. */
void example_report_stats(mhd_otel *m);

#endif /* EXAMPLE_SERVER_UTIL_H */
