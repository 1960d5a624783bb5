/* tool.h - the mhd-otel command-line tool's parts: commands, the span store of "view", its
 * reader, its renderer and the duration helpers. Private to tools/ and its tests. */
#ifndef MHD_OTEL_TOOL_H
#define MHD_OTEL_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every command. */
#define MHD_OTEL_TOOL_OK 0
#define MHD_OTEL_TOOL_INVALID 1 /* invalid config or input */
#define MHD_OTEL_TOOL_USAGE 2

/* ---- commands (check.c, view.c, main.c) ---------------------------------- */

/* Each takes the arguments after the command's name (argv[0] is the command) and returns the exit
 * status; out and err are where its normal output and its messages go. */
int mhd_otel_tool_check(int argc, char **argv, FILE *out, FILE *err);
int mhd_otel_tool_view(int argc, char **argv, FILE *out, FILE *err);
/* "mhd-otel VERSION". */
const char *mhd_otel_tool_version(void);

/* ---- durations (duration.c) ---------------------------------------------- */

/* "500us", "250ms", "2s", "1.5s", "3m", or a plain number of milliseconds into *ns. Returns 0, or
 * -1 when s is not such a duration. */
int mhd_otel_tool_duration_parse(const char *s, uint64_t *ns);
/* ns in a human unit ("850ns", "12.3µs", "4.56ms", "1.20s", "2m03s") into buf (cap bytes, at
 * least 16). Returns buf. */
const char *mhd_otel_tool_duration_format(uint64_t ns, char *buf, size_t cap);

/* ---- the span store (view_store.c) --------------------------------------- */

typedef struct mhd_otel_tool_attr {
    char *key, *value; /* owned by the span; control bytes replaced by '?' */
} mhd_otel_tool_attr;

typedef struct mhd_otel_tool_span {
    uint64_t span_id;          /* never 0 */
    uint64_t parent_id;        /* 0: a root */
    uint64_t start, end;       /* unix ns; end >= start */
    const char *service;       /* interned by the store; "" when unknown */
    char *name;                /* owned; control bytes replaced by '?' */
    mhd_otel_tool_attr *attrs; /* owned; only the kept ones (see the store) */
    size_t n_attrs;
    size_t seq; /* arrival order in the store */
    bool error; /* status code error */
} mhd_otel_tool_span;

typedef struct mhd_otel_tool_trace mhd_otel_tool_trace;
struct mhd_otel_tool_trace {
    uint64_t hi, lo;           /* the trace id */
    mhd_otel_tool_span *spans; /* in arrival order */
    size_t n, cap;
    uint64_t start, end; /* of all its spans */
    bool has_root, has_error;
    uint64_t last_ms; /* when its last span arrived (the caller's clock) */
    size_t seq;       /* creation order */
    mhd_otel_tool_trace *hnext, *prev, *next;
};

typedef struct mhd_otel_tool_store mhd_otel_tool_store;

/* Called with a trace the store let go of because it holds too many; the trace is freed after the
 * call. */
typedef void (*mhd_otel_tool_evict_fn)(void *ud, mhd_otel_tool_trace *t);

/* A span as read, its strings borrowed (copied by mhd_otel_tool_store_add). */
typedef struct mhd_otel_tool_span_in {
    uint64_t hi, lo, span_id, parent_id, start, end;
    const char *name, *service;
    bool error;
} mhd_otel_tool_span_in;

/* A new empty store. keep_all: keep every attribute of every span; else only the keys of keys (n of
 * them, borrowed while the store lives; none: no attributes). max_traces: at most so many traces
 * open, the oldest given to evict beyond (0: no limit). Returns NULL when memory runs out; free
 * with mhd_otel_tool_store_del. */
mhd_otel_tool_store *mhd_otel_tool_store_new(bool keep_all, const char *const *keys, size_t n_keys,
                                             size_t max_traces, mhd_otel_tool_evict_fn evict,
                                             void *ud);
void mhd_otel_tool_store_del(mhd_otel_tool_store *s);
/* Whether the store keeps attribute key. */
bool mhd_otel_tool_store_wants(const mhd_otel_tool_store *s, const char *key);
/* Add a span arriving at now_ms; returns its copy (to add attributes to with
 * mhd_otel_tool_store_attr, valid until the next add), or NULL when memory runs out. */
mhd_otel_tool_span *mhd_otel_tool_store_add(mhd_otel_tool_store *s, const mhd_otel_tool_span_in *in,
                                            uint64_t now_ms);
/* Append key=value (copied) to sp. Returns 0 or -1 (memory). */
int mhd_otel_tool_store_attr(mhd_otel_tool_span *sp, const char *key, const char *value);
/* Spans added so far, traces open now. */
size_t mhd_otel_tool_store_spans(const mhd_otel_tool_store *s);
size_t mhd_otel_tool_store_traces(const mhd_otel_tool_store *s);
/* The open traces that have their root and no span for settle_ms at now_ms (all of them when all),
 * oldest first, taken out of the store into *out (a heap array of *n, the caller frees it and each
 * trace with mhd_otel_tool_trace_del). Returns 0 or -1 (memory). */
int mhd_otel_tool_store_take(mhd_otel_tool_store *s, uint64_t now_ms, uint64_t settle_ms, bool all,
                             mhd_otel_tool_trace ***out, size_t *n);
void mhd_otel_tool_trace_del(mhd_otel_tool_trace *t);

/* ---- reading span lines (view_parse.c, view_read.c) ---------------------- */

/* One JSON text (a console exporter line or an OTLP ExportTraceServiceRequest) into the store.
 * Returns the number of spans added (0 for a metric data point line or an OTLP metrics request,
 * which are skipped), or -1 with a reason in why (whylen bytes) when the text is not JSON, not a
 * span, or holds an invalid span (the valid ones of it are still added). *standalone
 * (may be NULL) says whether the text is a whole JSON object of either kind. */
int mhd_otel_tool_parse_record(mhd_otel_tool_store *s, const char *text, size_t len,
                               uint64_t now_ms, bool *standalone, char *why, size_t whylen);

/* Splits input into records (one per line, or a JSON object over several lines) for
 * mhd_otel_tool_parse_record, and counts the invalid lines. */
typedef struct mhd_otel_tool_reader {
    mhd_otel_tool_store *store;
    FILE *err;        /* warnings, at most MHD_OTEL_TOOL_WARN_MAX of them */
    const char *name; /* the input's name in warnings */
    char *part;       /* a line without its newline yet */
    size_t part_len, part_cap;
    char *rec; /* a JSON object over several lines, its lines so far */
    size_t rec_len, rec_cap, rec_line;
    long depth;  /* of the brackets open at the end of rec */
    size_t line; /* lines read */
    size_t bad;  /* invalid lines */
    bool nomem;
} mhd_otel_tool_reader;

#define MHD_OTEL_TOOL_WARN_MAX 10

void mhd_otel_tool_reader_init(mhd_otel_tool_reader *r, mhd_otel_tool_store *s, const char *name,
                               FILE *err);
/* n bytes of input arriving at now_ms. Returns 0, or -1 when memory ran out. */
int mhd_otel_tool_reader_feed(mhd_otel_tool_reader *r, const char *data, size_t n, uint64_t now_ms);
/* The end of the input: its last line without a newline, an object left open; then the summary
 * of invalid lines. Frees what the reader holds. Returns 0 or -1 (memory). */
int mhd_otel_tool_reader_finish(mhd_otel_tool_reader *r, uint64_t now_ms);

/* ---- rendering (view_render.c) ------------------------------------------- */

typedef struct mhd_otel_tool_render {
    size_t width; /* columns of a line */
    bool color;
    bool attrs;            /* print the kept attributes under each span */
    const char *trace;     /* filters: this trace id only (NULL: any) */
    const char *service;   /* a span of this service */
    uint64_t min_duration; /* trace duration >= this, ns */
    bool errors;           /* an error span */
} mhd_otel_tool_render;

/* Whether t passes o's filters. */
bool mhd_otel_tool_trace_matches(const mhd_otel_tool_trace *t, const mhd_otel_tool_render *o);
/* The waterfall of t into out: its header line, then one line per span of the tree. Returns 0 or
 * -1 (memory). */
int mhd_otel_tool_render_trace(const mhd_otel_tool_trace *t, const mhd_otel_tool_render *o,
                               FILE *out);
/* Sort traces (n) by start time, then creation. */
void mhd_otel_tool_traces_sort(mhd_otel_tool_trace **v, size_t n);

#endif /* MHD_OTEL_TOOL_H */
