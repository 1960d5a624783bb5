/* export_cost.c - the OTLP exporter's throughput: spans encoded and sent per
 * second of wall time, and per second of exporter-thread CPU, to a receiver
 * at ENDPOINT, after a warm-up round that is not counted.
 * usage: export_cost ENDPOINT SPANS [gzip] [protocol=P] [ca=FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <mhd-otel/otel.h>
#include "../../exporter/otlp.h"
#include "../../core/span_int.h"

#define ROUND 8192 /* spans queued, then flushed */

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double process_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void add(otel_span *s, const char *k, uint16_t kl, const char *v)
{
    otel_span_add_attr_strn_sk(s, k, kl, v, strlen(v));
}

/* A server span as the module makes it. */
static void one_span(otel_tracer *t)
{
    otel_span_options opt = {.kind = OTEL_SPAN_KIND_SERVER, .root = true};
    otel_span *s = otel_span_start(t, "GET /hello/{name}", &opt);
    add(s, OTEL_KEY("http.request.method"), "GET");
    add(s, OTEL_KEY("url.path"), "/hello/x");
    add(s, OTEL_KEY("url.scheme"), "http");
    add(s, OTEL_KEY("http.route"), "/hello/{name}");
    add(s, OTEL_KEY("server.address"), "127.0.0.1");
    otel_span_add_attr_int_sk(s, OTEL_KEY("server.port"), 8080);
    add(s, OTEL_KEY("client.address"), "127.0.0.1");
    otel_span_add_attr_int_sk(s, OTEL_KEY("client.port"), 45678);
    add(s, OTEL_KEY("network.protocol.version"), "1.1");
    add(s, OTEL_KEY("user_agent.original"), "wrk/4.2.0");
    otel_span_set_attr_int(s, "http.response.status_code", 200);
    otel_span_end(s);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: export_cost ENDPOINT SPANS [gzip] [protocol=P] [ca=FILE]\n");
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    cfg.max_queue_size = ROUND;
    cfg.schedule_delay_ns = 60000000000ULL;
    otel_resource *res;
    otel_tracer *t;
    otel_otlp *o;
    otel_otlp_config oc = {.endpoint = argv[1]};
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "gzip") == 0)
            oc.gzip = true;
        else if (strncmp(argv[i], "protocol=", 9) == 0 &&
                 otel_otlp_protocol_parse(argv[i] + 9, &oc.protocol) == 0)
            ;
        else if (strncmp(argv[i], "ca=", 3) == 0)
            oc.ca_file = argv[i] + 3;
        else {
            fprintf(stderr, "export_cost: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    char err[256];
    if (otel_resource_new(&res, "bench") != 0 || otel_tracer_new(&t, &cfg, res) != 0 ||
        otel_otlp_new(&o, &oc, err, sizeof(err)) != 0) {
        fprintf(stderr, "export_cost: setup failed %s\n", err);
        return 1;
    }
    otel_exporter *e;
    if (otel_otlp_exporter(o, &e) != 0 || otel_tracer_add_exporter(t, e) != 0) {
        fprintf(stderr, "export_cost: setup failed\n");
        return 1;
    }
    otel_tracer_start(t);
    /* A warm-up round, not counted: the connection, TLS handshake and the
     * receiver's first requests. */
    for (int i = 0; i < ROUND; i++)
        one_span(t);
    otel_tracer_force_flush(t, 60000000000ULL);
    otel_stats warm;
    otel_tracer_stats(t, &warm);
    otel_otlp_stats warm_os;
    otel_otlp_get_stats(o, &warm_os);
    double wall = 0, cpu_other = 0;
    double cpu0 = process_cpu();
    for (long done = 0; done < n; done += ROUND) {
        double m0 = now(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < ROUND; i++)
            one_span(t);
        double w0 = now(CLOCK_MONOTONIC);
        cpu_other += now(CLOCK_THREAD_CPUTIME_ID) - m0;
        otel_tracer_force_flush(t, 60000000000ULL);
        wall += now(CLOCK_MONOTONIC) - w0;
    }
    double worker_cpu = process_cpu() - cpu0 - cpu_other;
    otel_stats st;
    otel_tracer_stats(t, &st);
    st.exported -= warm.exported;
    otel_otlp_stats os;
    otel_otlp_get_stats(o, &os); /* o lives as long as t */
    os.bytes_sent -= warm_os.bytes_sent;
    printf("exporter: %llu spans exported, %llu failed, %.0f spans/s (wall, flush time), "
           "%.0f spans per exporter-CPU second, %.2f us CPU/span, %.0f bytes/span sent "
           "(%s %s%s)\n",
           (unsigned long long)st.exported, (unsigned long long)st.failed,
           (double)st.exported / wall, (double)st.exported / worker_cpu,
           worker_cpu / (double)st.exported * 1e6,
           (double)os.bytes_sent / (double)(st.exported ? st.exported : 1),
           otel_otlp_protocol_name(oc.protocol),
           strncmp(argv[1], "https", 5) == 0 ? "TLS" : "cleartext", oc.gzip ? ", gzip" : "");
    otel_tracer_del(t); /* and o with it */
    return st.failed != 0;
}
