/* view.c - "mhd-otel view": its options, the input read to its end or followed, the traces
 * printed once complete. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "tool.h"

#define VIEW_MAX_KEYS 64
#define VIEW_MAX_TRACES 10000 /* open traces in follow mode */
#define VIEW_TICK_MS 100
#define VIEW_WIDTH_DEFAULT 120

static const char view_usage[] =
    "usage: mhd-otel view [OPTIONS] [FILE|-]\n"
    "\n"
    "Draw each trace of span JSON lines as a waterfall. The input is the console\n"
    "exporter's JSON lines or OTLP JSON (ExportTraceServiceRequest objects, one per\n"
    "line or as the whole file); FILE - or none reads standard input.\n"
    "\n"
    "  -f, --follow          keep reading as the input grows; print a trace once its\n"
    "                        root has arrived and it is quiet for --settle\n"
    "      --settle DUR      quiet time of a trace in follow mode (default 1s)\n"
    "      --trace ID        only that trace\n"
    "      --service NAME    only traces with a span of that service\n"
    "      --min-duration DUR  only traces that last at least DUR (500us, 250ms, 2s;\n"
    "                        a plain number is milliseconds)\n"
    "      --errors          only traces with an error span\n"
    "      --attrs           print each span's attributes under it\n"
    "      --attr KEY        print that attribute (repeatable)\n"
    "      --color WHEN      auto (default), always or never\n"
    "      --width N         columns of a line (default: the terminal's, else\n"
    "                        $COLUMNS, else 120)\n"
    "  -h, --help            this help\n"
    "\n"
    "Exit status: 0 when the input held a span, 1 when it held none, 2 on a usage error.\n";

typedef struct view_opts {
    bool follow, attrs, errors;
    const char *trace, *service, *file, *color;
    uint64_t min_duration, settle_ns;
    const char *keys[VIEW_MAX_KEYS];
    size_t n_keys;
    size_t width;
} view_opts;

typedef struct view_run {
    mhd_otel_tool_render ro;
    FILE *out;
    size_t rendered;
    bool nomem;
} view_run;

static volatile sig_atomic_t view_stop;

static void on_signal(int sig)
{
    (void)sig;
    view_stop = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int usage_error(FILE *err, const char *fmt, const char *arg)
{
    fputs("mhd-otel view: ", err);
    fprintf(err, fmt, arg);
    fputs("\n(see mhd-otel view --help)\n", err);
    return MHD_OTEL_TOOL_USAGE;
}

static bool is_hex32(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F')))
            return false;
    return n == 32;
}

/* One option with a value into o. Returns 0, or an exit status. */
static int opt_value(view_opts *o, const char *name, const char *v, FILE *err)
{
    if (strcmp(name, "--trace") == 0) {
        if (!is_hex32(v))
            return usage_error(err, "invalid trace id \"%s\" (32 hex digits)", v);
        o->trace = v;
    } else if (strcmp(name, "--service") == 0) {
        o->service = v;
    } else if (strcmp(name, "--min-duration") == 0) {
        if (mhd_otel_tool_duration_parse(v, &o->min_duration) != 0)
            return usage_error(err, "invalid duration \"%s\"", v);
    } else if (strcmp(name, "--settle") == 0) {
        if (mhd_otel_tool_duration_parse(v, &o->settle_ns) != 0)
            return usage_error(err, "invalid duration \"%s\"", v);
    } else if (strcmp(name, "--attr") == 0) {
        if (o->n_keys == VIEW_MAX_KEYS)
            return usage_error(err, "too many --attr options (at most 64), at \"%s\"", v);
        o->keys[o->n_keys++] = v;
    } else if (strcmp(name, "--color") == 0) {
        if (strcmp(v, "auto") != 0 && strcmp(v, "always") != 0 && strcmp(v, "never") != 0)
            return usage_error(err, "invalid --color \"%s\" (auto, always or never)", v);
        o->color = v;
    } else if (strcmp(name, "--width") == 0) {
        char *end;
        errno = 0;
        unsigned long w = strtoul(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || w < 20 || w > 1000 || v[0] == '-')
            return usage_error(err, "invalid width \"%s\" (20 to 1000)", v);
        o->width = (size_t)w;
    }
    return 0;
}

/* The command line into o. Returns -1 to go on, or an exit status (--help: 0). */
static int parse_args(int argc, char **argv, view_opts *o, FILE *out, FILE *err)
{
    static const char *const valued[] = {"--trace", "--service", "--min-duration", "--settle",
                                         "--attr",  "--color",   "--width"};
    memset(o, 0, sizeof(*o));
    o->settle_ns = 1000000000ULL;
    o->color = "auto";
    bool files_only = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (files_only || a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->file != NULL)
                return usage_error(err, "more than one input file (\"%s\")", a);
            o->file = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            files_only = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(view_usage, out);
            return MHD_OTEL_TOOL_OK;
        }
        if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
            o->follow = true;
            continue;
        }
        if (strcmp(a, "--errors") == 0 || strcmp(a, "--attrs") == 0) {
            *(a[2] == 'e' ? &o->errors : &o->attrs) = true;
            continue;
        }
        size_t k = 0;
        const char *v = NULL;
        int m = 0;
        for (; k < sizeof(valued) / sizeof(valued[0]); k++)
            if ((m = mhd_otel_tool_opt(argc, argv, &i, valued[k], &v)) != 0)
                break;
        if (m < 0)
            return usage_error(err, "option %s needs a value", valued[k]);
        if (m == 0)
            return usage_error(err, "unknown option \"%s\"", a);
        int rc = opt_value(o, valued[k], v, err);
        if (rc != 0)
            return rc;
    }
    return -1;
}

/* Columns of out: the terminal's, else $COLUMNS, else 120. */
static size_t detect_width(FILE *out)
{
    struct winsize ws;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    if (c != NULL) {
        char *end;
        unsigned long w = strtoul(c, &end, 10);
        if (end != c && *end == '\0' && w >= 20 && w <= 1000)
            return (size_t)w;
    }
    return VIEW_WIDTH_DEFAULT;
}

static bool detect_color(FILE *out, const char *mode)
{
    if (strcmp(mode, "always") == 0)
        return true;
    if (strcmp(mode, "never") == 0)
        return false;
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(fileno(out)) && no == NULL && (term == NULL || strcmp(term, "dumb") != 0);
}

static void render_one(view_run *run, mhd_otel_tool_trace *t)
{
    if (!mhd_otel_tool_trace_matches(t, &run->ro))
        return;
    if (mhd_otel_tool_render_trace(t, &run->ro, run->out) != 0)
        run->nomem = true;
    run->rendered++;
}

static void on_evict(void *ud, mhd_otel_tool_trace *t)
{
    render_one(ud, t);
    fflush(((view_run *)ud)->out);
}

/* The traces the store lets go of (all, or the settled ones), in start order. */
static void emit(view_run *run, mhd_otel_tool_store *s, uint64_t settle_ms, bool all)
{
    mhd_otel_tool_trace **v;
    size_t n;
    if (mhd_otel_tool_store_take(s, now_ms(), settle_ms, all, &v, &n) != 0) {
        run->nomem = true;
        return;
    }
    mhd_otel_tool_traces_sort(v, n);
    for (size_t i = 0; i < n; i++) {
        render_one(run, v[i]);
        mhd_otel_tool_trace_del(v[i]);
    }
    free(v);
    if (n > 0)
        fflush(run->out);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Read fd to its end, or (follow) as it grows; each settled trace printed on the way in follow
 * mode. Returns 0, or -1 with errno when a read failed. */
static int read_input(int fd, const view_opts *o, mhd_otel_tool_reader *r, view_run *run)
{
    static char buf[65536];
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    uint64_t settle_ms = o->settle_ns / 1000000, last_tick = now_ms();
    off_t pos = 0;
    for (;;) {
        if (o->follow && view_stop)
            return 0;
        if (o->follow && !regular) {
            struct pollfd p = {fd, POLLIN, 0};
            int pr = poll(&p, 1, VIEW_TICK_MS);
            if (pr < 0 && errno != EINTR)
                return -1;
            if (pr <= 0) {
                emit(run, r->store, settle_ms, false);
                continue;
            }
        }
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n > 0) {
            pos += n;
            if (mhd_otel_tool_reader_feed(r, buf, (size_t)n, now_ms()) != 0)
                run->nomem = true;
        }
        if (o->follow && now_ms() >= last_tick + VIEW_TICK_MS) {
            last_tick = now_ms();
            emit(run, r->store, settle_ms, false);
        }
        if (n > 0)
            continue;
        if (!o->follow || !regular)
            return 0; /* the end of the file, or of the pipe */
        /* like tail -f: wait for more; start over when the file was truncated */
        if (fstat(fd, &st) == 0 && st.st_size < pos) {
            pos = lseek(fd, 0, SEEK_SET) == 0 ? 0 : pos;
        }
        emit(run, r->store, settle_ms, false);
        sleep_ms(VIEW_TICK_MS);
    }
}

static int view_run_input(const view_opts *o, int fd, const char *name, FILE *out, FILE *err)
{
    view_run run = {.out = out};
    run.ro.width = o->width != 0 ? o->width : detect_width(out);
    run.ro.color = detect_color(out, o->color);
    run.ro.attrs = o->attrs || o->n_keys > 0;
    run.ro.trace = o->trace;
    run.ro.service = o->service;
    run.ro.min_duration = o->min_duration;
    run.ro.errors = o->errors;
    mhd_otel_tool_store *s =
        mhd_otel_tool_store_new(o->attrs && o->n_keys == 0, o->keys, o->n_keys,
                                o->follow ? VIEW_MAX_TRACES : 0, on_evict, &run);
    if (s == NULL) {
        fprintf(err, "mhd-otel view: out of memory\n");
        return MHD_OTEL_TOOL_INVALID;
    }
    mhd_otel_tool_reader r;
    mhd_otel_tool_reader_init(&r, s, name, err);
    struct sigaction sa, old_int, old_term;
    if (o->follow) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        view_stop = 0;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
    }
    int rrc = read_input(fd, o, &r, &run);
    int read_errno = errno;
    if (o->follow) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    if (mhd_otel_tool_reader_finish(&r, now_ms()) != 0)
        run.nomem = true;
    emit(&run, s, 0, true);
    size_t spans = mhd_otel_tool_store_spans(s);
    mhd_otel_tool_store_del(s);
    if (rrc != 0)
        fprintf(err, "mhd-otel view: cannot read %s: %s\n", name, strerror(read_errno));
    if (run.nomem)
        fprintf(err, "mhd-otel view: out of memory; some spans are not shown\n");
    if (spans == 0)
        fprintf(err, "mhd-otel view: %s: no valid span\n", name);
    return spans > 0 && rrc == 0 ? MHD_OTEL_TOOL_OK : MHD_OTEL_TOOL_INVALID;
}

int mhd_otel_tool_view(int argc, char **argv, FILE *out, FILE *err)
{
    view_opts o;
    int rc = parse_args(argc, argv, &o, out, err);
    if (rc >= 0)
        return rc;
    bool std_in = o.file == NULL || strcmp(o.file, "-") == 0;
    int fd = std_in ? 0 : open(o.file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(err, "mhd-otel view: cannot open %s: %s\n", o.file, strerror(errno));
        return MHD_OTEL_TOOL_INVALID;
    }
    rc = view_run_input(&o, fd, std_in ? "<stdin>" : o.file, out, err);
    if (!std_in)
        close(fd);
    return rc;
}
