/* metrics_cost.c - the cost of one histogram record with the six attributes
 * of http.server.request.duration, on one thread and on several at once.
 * Prints ns per record; under valgrind --tool=callgrind the instruction
 * count per record is the difference between two runs of different lengths
 * (THREADS 1).
 * With "bound", the points of the 16 attribute sets are bound first and
 * each record goes to one of them (otel_histogram_point_record), as a
 * caller that resolves its set once would.
 * usage: metrics_cost RECORDS [THREADS] [bound] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mhd-otel/metrics.h>

#define MAX_THREADS 16

typedef struct run {
    otel_histogram *h;
    long n;
    double secs;
} run;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static otel_histogram_point *bound[16];
static bool use_bound;

static void *record(void *arg)
{
    run *r = arg;
    if (use_bound) {
        double t0 = mono();
        for (long i = 0; i < r->n; i++)
            otel_histogram_point_record(bound[(i & 7) | (((i >> 10) & 1) << 3)],
                                        (double)(i & 1023) * 1e-4, NULL);
        r->secs = mono() - t0;
        return NULL;
    }
    static const char *const methods[] = {"GET", "POST"};
    double t0 = mono();
    for (long i = 0; i < r->n; i++) {
        /* As the module will: a stack array, filled per request. */
        otel_kv a[] = {OTEL_KV_STR("http.request.method", methods[i & 1]),
                       OTEL_KV_INT("http.response.status_code", 200 + (i & 3)),
                       OTEL_KV_STR("http.route", "/hello/{name}"),
                       OTEL_KV_STR("url.scheme", "http"),
                       OTEL_KV_STR("network.protocol.version", "1.1"),
                       OTEL_KV_STR("error.type", "")};
        otel_histogram_record(r->h, (double)(i & 1023) * 1e-4, a, 5 + ((i >> 10) & 1), NULL);
    }
    r->secs = mono() - t0;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000;
    long threads = argc > 2 ? strtol(argv[2], NULL, 10) : 1;
    if (n < 1 || threads < 1 || threads > MAX_THREADS)
        return 2;
    otel_metrics *m;
    otel_histogram *h;
    if (otel_metrics_new(&m, 0) != 0 ||
        otel_histogram_new(m, &h, "http.server.request.duration",
                           "Duration of HTTP server requests.", "s", NULL, 0) != 0)
        return 1;
    use_bound = argc > 3 && strcmp(argv[3], "bound") == 0;
    static const char *const methods[] = {"GET", "POST"};
    for (long i = 0; i < 16; i++) {
        otel_kv a[] = {OTEL_KV_STR("http.request.method", methods[i & 1]),
                       OTEL_KV_INT("http.response.status_code", 200 + ((i >> 1) & 3)),
                       OTEL_KV_STR("http.route", "/hello/{name}"),
                       OTEL_KV_STR("url.scheme", "http"),
                       OTEL_KV_STR("network.protocol.version", "1.1"),
                       OTEL_KV_STR("error.type", "")};
        bound[i] = otel_histogram_bind(h, a, 5 + (size_t)(i >> 3));
    }
    run r[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    for (long i = 0; i < threads; i++) {
        r[i] = (run){h, n, 0};
        if (pthread_create(&th[i], NULL, record, &r[i]) != 0)
            return 1;
    }
    double worst = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        worst = r[i].secs > worst ? r[i].secs : worst;
    }
    printf("threads %ld  records %ld per thread  ns/record %.1f (per thread, 6 attributes%s)\n",
           threads, n, worst / (double)n * 1e9, use_bound ? ", bound points" : "");
    otel_metrics_del(m);
    return 0;
}
