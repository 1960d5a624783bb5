/* span_data.h - ended spans built by hand, as the core hands them to exporters, for their tests. */
#ifndef SPAN_DATA_H
#define SPAN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/otel.h>

#define SD_START_NS UINT64_C(1764000000123456789) /* above 2^53: a double rounds it */

/* A resource of service_name plus, when env is not NULL,
 * deployment.environment. Caller frees with otel_resource_del. */
otel_resource *sd_resource(const char *service_name, const char *env);

/* What an exporter is given of an ended server span of resource r (may be
 * NULL): root, sampled, ids derived from seed. Strings point at static
 * storage. Caller frees with free(). */
otel_span_data *sd_span(const otel_resource *r, const char *name, unsigned seed);

/* A span with everything the core records: a remote parent, tracestate,
 * attributes of each scalar type, two events, dropped counts, an error
 * status. Caller frees with free(). */
otel_span_data *sd_full_span(const otel_resource *r, unsigned seed);

/* A parent span id c0 c1 ... c7, remote or not. */
void sd_set_parent(otel_span_data *s, bool remote);

/* The next free attribute of s (counted in n_attrs). */
otel_attr *sd_next_attr(otel_span_data *s);

/* Set a to a key (borrowed, NUL-terminated) and a value. */
void sd_attr_str(otel_attr *a, const char *key, const char *v);
void sd_attr_int(otel_attr *a, const char *key, int64_t v);
void sd_attr_bool(otel_attr *a, const char *key, bool v);
void sd_attr_double(otel_attr *a, const char *key, double v);
/* v holds n NUL-terminated elements back to back (size bytes with the
 * NULs), as the core stores a string array. */
void sd_attr_str_array(otel_attr *a, const char *key, const char *v, size_t size, uint32_t n);

/* Append an event with n attributes copied from attrs. */
void sd_add_event(otel_span_data *s, const char *name, uint64_t time_ns, const otel_attr *attrs,
                  size_t n, uint32_t dropped);

/* Append a link to a context derived from seed. */
void sd_add_link(otel_span_data *s, unsigned seed, const char *tracestate, uint8_t flags,
                 bool remote);

/* spans as an exporter reads them. */
const otel_span_data *const *sd_ro(otel_span_data *const *spans);

/* free() each of spans[0..n). */
void sd_free_spans(otel_span_data **spans, size_t n);

#endif /* SPAN_DATA_H */
