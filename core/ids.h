/* ids.h - a new span's ids in one call. Not a public header. */
#ifndef OTEL_IDS_H
#define OTEL_IDS_H

#include <stdint.h>

/* A new trace id into trace_id and a new span id into span_id, each unless
 * NULL (otel_trace_id_new and otel_span_id_new are this with one of them
 * NULL): one generator lookup for both. */
void otel_ids_new(uint8_t trace_id[16], uint8_t span_id[8]);

/* Put the calling thread's generator at state s, its step (gamma) kept:
 * for tests of what two threads at one state draw. */
void otel_ids_state_set(uint64_t s);

#endif /* OTEL_IDS_H */
