/* metrics_fixture.c - the fixture of the OTLP metrics encoder tests (see metrics_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "metrics_fixture.h"

#include "../../core/test_hooks.h"

uint64_t mf_clock_ns;

static uint64_t fake_clock(void *ud)
{
    (void)ud;
    return mf_clock_ns;
}

mf_fixture *mf_setup(bool json)
{
    mf_fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    otel_alloc_fail_after(-1);
    mf_clock_ns = MF_T0;
    otel_clock_set(fake_clock, NULL);
    assert_int_equal(otel_metrics_new(&f->m, 0), OTEL_OK);
    assert_int_equal(otel_resource_new(&f->res, "checkout"), OTEL_OK);
    assert_int_equal(otel_otlp_metrics_enc_new(&f->e, json), OTEL_OK);
    return f;
}

void mf_teardown(mf_fixture *f)
{
    otel_otlp_metrics_enc_del(f->e);
    otel_resource_del(f->res);
    otel_metrics_del(f->m);
    otel_clock_set(NULL, NULL);
    otel_alloc_fail_after(-1);
    free(f);
}

void mf_collect(mf_fixture *f, otel_temporality_pref pref)
{
    otel_otlp_metrics_enc_begin(f->e, f->res, MF_SCOPE, MF_SCOPE_VERSION);
    assert_int_equal(otel_metrics_collect(f->m, pref, otel_otlp_metrics_enc_add, f->e), OTEL_OK);
}

const uint8_t *mf_end(mf_fixture *f, size_t *len, size_t *n_points)
{
    const uint8_t *data = NULL;
    size_t n = 0;
    *len = 0;
    assert_int_equal(otel_otlp_metrics_enc_end(f->e, &data, len, &n), OTEL_OK);
    assert_non_null(data);
    if (n_points != NULL)
        *n_points = n;
    return data;
}

otel_span_context mf_span_ctx(uint8_t seed, bool sampled)
{
    otel_span_context sc;
    memset(&sc, 0, sizeof(sc));
    for (int i = 0; i < 16; i++)
        sc.trace_id[i] = (uint8_t)(0xa0 + seed + i);
    for (int i = 0; i < 8; i++)
        sc.span_id[i] = (uint8_t)(0x10 * seed + i + 1);
    sc.trace_flags = sampled ? OTEL_TRACE_FLAG_SAMPLED : 0;
    return sc;
}
