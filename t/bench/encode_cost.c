/* encode_cost.c - the OTLP encoder's cost per span: batches of 512 server
 * spans with the module's 11 HTTP attributes plus 3 of the application's,
 * encoded as ExportTraceServiceRequest again and again by one encoder (its
 * buffers warm, as in the exporter thread). Prints ns per span over all
 * rounds and for the fastest fifth of them (less disturbed by other load on
 * the machine), spans per second and bytes per span.
 * usage: encode_cost [ROUNDS]   (default 2000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../exporter/otlp_encode.h"

#define BATCH 512
#define SLICES 5

static void add_str(otel_span_data *s, const char *key, const char *v)
{
    otel_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_STRING;
    a->v.s.ptr = v;
    a->v.s.len = (uint32_t)strlen(v);
}

static void add_int(otel_span_data *s, const char *key, int64_t v)
{
    otel_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_INT;
    a->v.i = v;
}

static void add_bool(otel_span_data *s, const char *key, bool v)
{
    otel_attr *a = &s->attrs[s->n_attrs++];
    a->key = key;
    a->key_len = (uint16_t)strlen(key);
    a->type = OTEL_ATTR_BOOL;
    a->v.b = v;
}

/* A server span as the module leaves it: ids, a remote parent, the HTTP
 * attributes, two application attributes and one application counter. */
static void make_span(otel_span_data *s, const otel_resource *r, uint64_t i)
{
    memset(s, 0, sizeof(*s));
    otel_trace_id_new(s->ctx.trace_id);
    otel_span_id_new(s->ctx.span_id);
    otel_span_id_new(s->parent_span_id);
    s->ctx.trace_flags = OTEL_TRACE_FLAG_SAMPLED;
    s->has_parent = true;
    s->parent_is_remote = true;
    s->kind = OTEL_SPAN_KIND_SERVER;
    s->status = OTEL_STATUS_UNSET;
    s->status_message = "";
    s->name = "GET /hello/{name}";
    s->start_ns = UINT64_C(1764000000000000000) + i * 1000;
    s->end_ns = s->start_ns + 250000;
    s->resource = r;
    add_str(s, "http.request.method", "GET");
    add_str(s, "url.path", "/hello/world");
    add_str(s, "url.scheme", "http");
    add_str(s, "http.route", "/hello/{name}");
    add_str(s, "server.address", "127.0.0.1");
    add_int(s, "server.port", 8080);
    add_str(s, "client.address", "127.0.0.1");
    add_int(s, "client.port", 40000 + (int64_t)(i % 20000));
    add_str(s, "network.protocol.version", "1.1");
    add_str(s, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) curl/8.5.0");
    add_int(s, "http.response.status_code", 200);
    add_str(s, "app.user_id", "user-4711");
    add_int(s, "app.items", 3);
    add_bool(s, "app.cache_hit", true);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    if (rounds < 1)
        rounds = 1;
    otel_resource *res;
    if (otel_resource_new(&res, "bench") != 0)
        return 1;
    if (otel_resource_set(res, "deployment.environment", "production") != 0) {
        otel_resource_del(res);
        return 1;
    }
    otel_span_data *store = calloc(BATCH, sizeof(*store));
    const otel_span_data *batch[BATCH];
    otel_otlp_encoder *e;
    if (store == NULL || otel_otlp_encoder_new(&e) != 0)
        return 1;
    for (int i = 0; i < BATCH; i++) {
        make_span(&store[i], res, (uint64_t)i);
        batch[i] = &store[i];
    }

    const uint8_t *data;
    size_t len = 0, sink = 0;
    if (otel_otlp_encode(e, batch, BATCH, &data, &len) != 0) /* warm up */
        return 1;
    double secs = 0, best = 0;
    long done = 0;
    for (int k = 0; k < SLICES; k++) {
        long slice = rounds / SLICES + (k < rounds % SLICES ? 1 : 0);
        if (slice == 0)
            continue;
        double t0 = mono();
        for (long r = 0; r < slice; r++) {
            if (otel_otlp_encode(e, batch, BATCH, &data, &len) != 0)
                return 1;
            sink += data[len / 2];
        }
        double dt = mono() - t0, per = dt / ((double)slice * BATCH);
        secs += dt;
        done += slice;
        if (best == 0 || per < best)
            best = per;
    }
    double spans = (double)done * BATCH;
    printf("encode: %ld batches of %d spans (14 attributes)  %.1f ns/span (best fifth %.1f)  "
           "%.0f spans/s  %.0f bytes/span  (%zu)\n",
           done, BATCH, secs / spans * 1e9, best * 1e9, spans / secs, (double)len / BATCH,
           sink % 10);

    otel_otlp_encoder_del(e);
    free(store);
    otel_resource_del(res);
    return 0;
}
