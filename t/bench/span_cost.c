/* span_cost.c - the core's cost for one server span's life: start, the
 * standard HTTP attributes (as the module sets them), end, enqueue, and the
 * worker's hand-off to a no-op exporter. Prints ns per span; under
 * valgrind --tool=callgrind the instruction count per span is the
 * difference between two runs of different lengths. Then what one span
 * takes in memory: every span is one pooled object of a fixed size, so
 * this is also what each span in the export queue holds.
 * usage: span_cost SPANS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mhd-otel/otel.h>
#include "../../core/span_int.h"

#define ROUND 1000 /* spans between flushes: the pool is reused, as in a server */

static int discard(void *ud, const otel_span_data *const *spans, size_t n, uint64_t deadline_ns)
{
    (void)ud;
    (void)spans;
    (void)n;
    (void)deadline_ns;
    return 0;
}

/* A value the compiler cannot see through, as the module's values (MHD's
 * strings) are: its length is found at run time, not folded. */
static inline __attribute__((always_inline)) void add_str(otel_span *s, const char *key,
                                                          uint16_t key_len, const char *v)
{
    __asm__("" : "+r"(v));
    otel_span_add_attr_strn_sk(s, key, key_len, v, strlen(v));
}

static uint32_t arena_used; /* by the last span, before its end */

static void one_span(otel_tracer *t, uint64_t start)
{
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .root = true, .start_ns = start};
    otel_span *s = otel_span_start(t, "GET /hello/{name}", &opt);
    otel_span_add_attr_lit_sk(s, OTEL_KEY("http.request.method"), OTEL_KEY("GET"));
    add_str(s, OTEL_KEY("url.path"), "/hello/x");
    otel_span_add_attr_lit_sk(s, OTEL_KEY("url.scheme"), OTEL_KEY("http"));
    add_str(s, OTEL_KEY("http.route"), "/hello/{name}");
    add_str(s, OTEL_KEY("server.address"), "127.0.0.1");
    otel_span_add_attr_int_sk(s, OTEL_KEY("server.port"), 8080);
    add_str(s, OTEL_KEY("client.address"), "127.0.0.1");
    otel_span_add_attr_int_sk(s, OTEL_KEY("client.port"), 45678);
    otel_span_add_attr_lit_sk(s, OTEL_KEY("network.protocol.version"), OTEL_KEY("1.1"));
    add_str(s, OTEL_KEY("user_agent.original"), "wrk/4.2.0");
    otel_span_add_attr_int_sk(s, OTEL_KEY("http.response.status_code"), 200);
    arena_used = s->arena_used;
    otel_span_end(s);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (n < ROUND)
        n = ROUND;
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_resource *res;
    otel_tracer *t;
    if (otel_resource_new(&res, "bench") != 0 || otel_tracer_new(&t, &cfg, res) != 0)
        return 1;
    otel_exporter *e;
    if (otel_exporter_new(&e, "discard", discard, NULL) != 0 || otel_tracer_add_exporter(t, e) != 0)
        return 1;
    otel_tracer_start(t);
    double busy = 0;
    for (long done = 0; done < n; done += ROUND) {
        double t0 = mono();
        for (int i = 0; i < ROUND; i++)
            one_span(t, 0);
        busy += mono() - t0;
        otel_tracer_force_flush(t, 10000000000ULL);
    }
    otel_stats st;
    otel_tracer_stats(t, &st);
    printf("spans %ld  request-thread ns/span %.1f  exported %llu dropped %llu\n", n,
           busy / (double)n * 1e9, (unsigned long long)st.exported, (unsigned long long)st.dropped);
    printf("memory: %zu bytes per span, queued or not (%zu of span data with %d attribute slots "
           "of %zu bytes, a %d-byte arena of which this span uses %u); a queue of %zu spans "
           "holds up to %zu KiB\n",
           sizeof(otel_span), sizeof(otel_span_data), OTEL_SPAN_MAX_ATTRS, sizeof(otel_attr),
           OTEL_SPAN_ARENA, (unsigned)arena_used, cfg.max_queue_size,
           sizeof(otel_span) * cfg.max_queue_size / 1024);
    otel_tracer_del(t);
    return 0;
}
