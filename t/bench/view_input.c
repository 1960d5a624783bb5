/* view_input.c - console exporter JSON lines for measuring "mhd-otel view": N spans in traces of
 * M spans each (a tree of depth up to 6, some errors), written in a shuffled order per trace.
 * usage: view_input N M > FILE */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct gen_span {
    uint64_t id, parent, start, end;
    int depth;
} gen_span;

static void write_span(uint64_t hi, uint64_t lo, const gen_span *s, size_t i)
{
    static const char *const services[] = {"frontend", "checkout", "payments", "inventory"};
    printf("{\"trace_id\":\"%016" PRIx64 "%016" PRIx64 "\",\"span_id\":\"%016" PRIx64
           "\",\"parent_span_id\":",
           hi, lo, s->id);
    if (s->parent != 0)
        printf("\"%016" PRIx64 "\"", s->parent);
    else
        fputs("\"\"", stdout);
    printf(",\"name\":\"%s %zu\",\"kind\":\"%s\",\"start_time_unix_nano\":%" PRIu64
           ",\"end_time_unix_nano\":%" PRIu64 ",\"attributes\":{\"http.request.method\":\"GET\","
           "\"url.path\":\"/items/%zu\",\"http.response.status_code\":%d,\"server.port\":8080},"
           "\"events\":[],\"status\":{\"code\":\"%s\",\"message\":\"\"},\"resource\":{"
           "\"service.name\":\"%s\",\"telemetry.sdk.name\":\"mhd-otel\"}}\n",
           s->parent == 0 ? "GET /items/{id}" : "step", i, s->parent == 0 ? "server" : "internal",
           s->start, s->end, i, i % 97 == 5 ? 500 : 200, i % 97 == 5 ? "error" : "unset",
           services[s->depth % 4]);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t m = argc > 2 ? strtoul(argv[2], NULL, 10) : 20;
    if (m == 0 || n == 0)
        return 2;
    gen_span *v = malloc(m * sizeof(*v));
    if (v == NULL)
        return 1;
    uint64_t t0 = 1764021003000000000ULL;
    for (size_t done = 0, tr = 0; done < n; tr++) {
        size_t k = n - done < m ? n - done : m;
        uint64_t hi = next(), lo = next() | 1;
        uint64_t base = t0 + tr * 1000000ULL;
        v[0] = (gen_span){next() | 1, 0, base, base + 1000000ULL * (k + 1), 0};
        for (size_t i = 1; i < k; i++) {
            size_t p = (size_t)(next() % i);
            while (v[p].depth >= 6)
                p = (size_t)(next() % i);
            uint64_t len = v[p].end - v[p].start;
            uint64_t start = v[p].start + next() % (len / 2 + 1);
            uint64_t end = start + next() % (v[p].end - start + 1);
            v[i] = (gen_span){next() | 1, v[p].id, start, end, v[p].depth + 1};
        }
        for (size_t i = k; i-- > 1;) { /* children may come before their parents */
            size_t j = (size_t)(next() % (i + 1));
            gen_span t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        for (size_t i = 0; i < k; i++)
            write_span(hi, lo, &v[i], done + i);
        done += k;
    }
    free(v);
    return 0;
}
