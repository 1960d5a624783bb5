/* dlopen_main.c - a program not linked with mhd-otel that loads the shared
 * library with dlopen after it has started, as a plugin host does, and
 * traces through it from its main thread and from new threads: the
 * library's initial-exec thread variables must find room in the static TLS
 * block then too. Types come from the public header; every function is
 * found with dlsym.
 * usage: dlopen-main LIBRARY   prints "dlopen-main: ok SPANS" and exits 0 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/otel.h>

#define THREADS 4
#define SPANS 1000 /* per thread, more than a thread's pool cache */

static struct {
    void (*config_default)(otel_tracer_config *);
    int (*resource_new)(otel_resource **, const char *);
    int (*tracer_new)(otel_tracer **, const otel_tracer_config *, otel_resource *);
    void (*tracer_del)(otel_tracer *);
    otel_span *(*span_start)(otel_tracer *, const char *, const otel_span_options *);
    void (*set_attr_str)(otel_span *, const char *, const char *);
    void (*span_end)(otel_span *);
    otel_span *(*current)(void);
    otel_span *(*attach)(otel_span *);
    void (*detach)(otel_span *);
} f;

static otel_tracer *tracer;

static void *find(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (p == NULL) {
        fprintf(stderr, "dlopen-main: no %s: %s\n", name, dlerror());
        exit(1);
    }
    return p;
}

/* SPANS spans, each made current while its attribute is set. Returns the
 * spans seen current as they should be. */
static void *trace(void *arg)
{
    (void)arg;
    long ok = 0;
    for (int i = 0; i < SPANS; i++) {
        otel_span *s = f.span_start(tracer, "step", NULL);
        otel_span *prev = f.attach(s);
        f.set_attr_str(f.current(), "step.kind", "dlopen");
        ok += s != NULL && f.current() == s;
        f.detach(prev);
        f.span_end(s);
    }
    return (void *)ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dlopen-main LIBRARY\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen-main: %s\n", dlerror());
        return 1;
    }
    *(void **)&f.config_default = find(lib, "otel_tracer_config_default");
    *(void **)&f.resource_new = find(lib, "otel_resource_new");
    *(void **)&f.tracer_new = find(lib, "otel_tracer_new");
    *(void **)&f.tracer_del = find(lib, "otel_tracer_del");
    *(void **)&f.span_start = find(lib, "otel_span_start");
    *(void **)&f.set_attr_str = find(lib, "otel_span_set_attr_str");
    *(void **)&f.span_end = find(lib, "otel_span_end");
    *(void **)&f.current = find(lib, "otel_span_current");
    *(void **)&f.attach = find(lib, "otel_context_attach");
    *(void **)&f.detach = find(lib, "otel_context_detach");

    otel_tracer_config cfg;
    f.config_default(&cfg);
    otel_resource *r = NULL;
    if (f.resource_new(&r, "dlopen-main") != 0 || f.tracer_new(&tracer, &cfg, r) != 0) {
        fprintf(stderr, "dlopen-main: no tracer\n");
        return 1;
    }
    long ok = (long)trace(NULL);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, trace, NULL) != 0)
            return 1;
    for (int i = 0; i < THREADS; i++) {
        void *v;
        pthread_join(th[i], &v);
        ok += (long)v;
    }
    f.tracer_del(tracer);
    printf("dlopen-main: ok %ld\n", ok);
    return ok == (long)SPANS * (THREADS + 1) ? 0 : 1;
}
