/* metrics_fixture.h - a metrics provider, a resource and an OTLP metrics encoder on a fake clock,
 * for the tests of exporter/otlp_metrics*.c. */
#ifndef METRICS_FIXTURE_H
#define METRICS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>

#include "../../exporter/otlp_metrics.h"

#define MF_T0 UINT64_C(1760000000000000000) /* the clock when a test starts */
#define MF_SCOPE "mhd-otel.test"
#define MF_SCOPE_VERSION "1.2.3"

/* The time the provider reads (otel_now_ns) while a fixture is set up. */
extern uint64_t mf_clock_ns;

typedef struct mf_fixture {
    otel_metrics *m;
    otel_resource *res; /* service.name checkout */
    otel_otlp_metrics_enc *e;
} mf_fixture;

/* A fixture whose encoder writes JSON or protobuf, the clock at MF_T0 and
 * allocations not failing. */
mf_fixture *mf_setup(bool json);
/* Frees f and restores the real clock. */
void mf_teardown(mf_fixture *f);

/* Begin a request of f->res and the test scope, and collect f->m into it
 * in pref (asserting success); ending it is the caller's. */
void mf_collect(mf_fixture *f, otel_temporality_pref pref);

/* End the request (asserting success): its bytes, *len of them, and in
 * *n_points (may be NULL) its points. */
const uint8_t *mf_end(mf_fixture *f, size_t *len, size_t *n_points);

/* A span context with ids made from seed, sampled or not. */
otel_span_context mf_span_ctx(uint8_t seed, bool sampled);

#endif /* METRICS_FIXTURE_H */
