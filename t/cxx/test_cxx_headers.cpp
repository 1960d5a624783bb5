// test_cxx_headers.cpp - every public header compiles as C++ and each of
// its functions links from C++ (each is declared inside extern "C").
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <setjmp.h>
#include "../../core/alloc.h"
extern "C" { // cmocka 1.1's header has no extern "C" of its own
#include <cmocka.h>
}

#include <cstring>

#include <mhd-otel/client.h>
#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>
#include "../../core/text.h"
#include <mhd-otel/mhd_otel.h>
#include <mhd-otel/mhd_otel_curl.h>

static const char *no_header(void *, const char *, size_t)
{
    return nullptr;
}

static void set_header(void *carrier, const char *, const char *)
{
    ++*static_cast<int *>(carrier);
}

// mhd-otel/otel.h: ids, traceparent, samplers, resource, tracer, spans.
static void test_cxx_otel_h(void **)
{
    otel_span_context sc;
    std::memset(&sc, 0, sizeof sc);
    otel_trace_id_new(sc.trace_id);
    otel_span_id_new(sc.span_id);
    char tp[OTEL_TRACEPARENT_LEN + 1];
    otel_traceparent_format(&sc, tp);
    otel_span_context back;
    assert_int_equal(otel_traceparent_parse(tp, std::strlen(tp), &back), OTEL_OK);
    otel_sampler s;
    assert_int_equal(otel_sampler_init(&s, OTEL_SAMPLER_ALWAYS_ON, 1.0), OTEL_OK);
    otel_resource *r = nullptr;
    assert_int_equal(otel_resource_new(&r, "cxx"), OTEL_OK);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_tracer *t = nullptr;
    assert_int_equal(otel_tracer_new(&t, &cfg, r), OTEL_OK);
    otel_span *span = otel_span_start(t, "cxx", nullptr);
    const char *tags[] = {"a", "b"};
    otel_span_set_attr_str_array(span, "tags", tags, 2);
    assert_true(otel_span_is_sampled(span));
    assert_int_equal(otel_span_keep(span, OTEL_KEEP_ERROR), OTEL_ERR_STATE); // sampled: no keep
    otel_span_end(span);
    otel_stats st;
    otel_tracer_stats(t, &st);
    assert_int_equal(st.ended, 1);
    assert_int_equal(st.kept_error + st.kept_slow + st.keep_released, 0);
    otel_tracer_del(t);
    assert_non_null(otel_strerror(OTEL_ERR_NOMEM));
}

static int count_metric(void *ud, const otel_metric_data *md)
{
    *static_cast<size_t *>(ud) += md->n_points;
    return OTEL_OK;
}

// mhd-otel/metrics.h: provider, instruments, records, collection.
static void test_cxx_metrics_h(void **)
{
    otel_metrics *m = nullptr;
    assert_int_equal(otel_metrics_new(&m, 0), OTEL_OK);
    otel_counter *c = nullptr;
    otel_updown_counter *u = nullptr;
    otel_histogram *h = nullptr;
    assert_int_equal(otel_counter_new(m, &c, "c", nullptr, nullptr), OTEL_OK);
    assert_int_equal(otel_updown_counter_new(m, &u, "u", nullptr, nullptr), OTEL_OK);
    assert_int_equal(otel_histogram_new(m, &h, "h", nullptr, "s", nullptr, 0), OTEL_OK);
    otel_kv a[1]; // OTEL_KV_STR is a C compound literal
    std::memset(a, 0, sizeof a);
    a[0].key = "k";
    a[0].type = OTEL_ATTR_STRING;
    a[0].v.s = "v";
    otel_counter_add(c, 1, a, 1);
    otel_updown_counter_add(u, -1, a, 1);
    otel_histogram_record(h, 0.1, a, 1, nullptr);
    otel_histogram_point *pt = otel_histogram_bind(h, a, 1);
    assert_non_null(pt);
    otel_histogram_point_record(pt, 0.2, nullptr);
    otel_sum_point *sp = otel_updown_counter_bind(u, a, 1);
    assert_non_null(sp);
    otel_sum_point_add(sp, 1);
    otel_sum_point_add(otel_counter_bind(c, a, 1), 2);
    assert_true(otel_histogram_point_lasting(pt));
    assert_true(otel_sum_point_lasting(sp));
    size_t n = 0;
    assert_int_equal(otel_metrics_collect(m, OTEL_TEMPORALITY_PREF_CUMULATIVE, count_metric, &n),
                     OTEL_OK);
    assert_int_equal(n, 3);
    otel_temporality_pref p = OTEL_TEMPORALITY_PREF_CUMULATIVE;
    assert_int_equal(otel_temporality_pref_from_name("delta", &p), OTEL_OK);
    assert_int_equal(otel_temporality_for(p, OTEL_INSTRUMENT_UPDOWN_COUNTER),
                     OTEL_TEMPORALITY_CUMULATIVE);
    size_t nb = 0;
    assert_non_null(otel_http_duration_boundaries(&nb));
    assert_int_equal(nb, 14);
    otel_metrics_del(m);
}

// mhd-otel/propagation.h: the functions once declared outside extern "C".
static void test_cxx_propagation_h(void **)
{
    assert_null(otel_baggage_current());
    otel_baggage_lines none = {nullptr, nullptr, 0};
    assert_null(otel_baggage_attach(&none));
    assert_ptr_equal(otel_baggage_attach(nullptr), &none);
    otel_propagators p;
    assert_int_equal(otel_propagators_from_names(&p, "tracecontext,b3", nullptr, 0), OTEL_OK);
    otel_propagators_set_global(&p);
    otel_propagators q;
    otel_propagators_global(&q);
    assert_int_equal(q.n, 2);
    otel_propagators_set_global(nullptr);
    static otel_extracted x;
    assert_int_equal(otel_propagation_extract(&p, no_header, nullptr, &x), OTEL_OK);
    static otel_baggage b;
    otel_baggage_init(&b);
    assert_int_equal(otel_baggage_set(&b, "k", "v", nullptr), OTEL_OK);
}

// mhd-otel/client.h
static void test_cxx_client_h(void **)
{
    otel_resource *r = nullptr;
    assert_int_equal(otel_resource_new(&r, "cxx"), OTEL_OK);
    otel_tracer_config cfg;
    otel_tracer_config_default(&cfg);
    otel_tracer *t = nullptr;
    assert_int_equal(otel_tracer_new(&t, &cfg, r), OTEL_OK);
    int n = 0;
    otel_span *c = otel_client_span_start(t, "GET", "http://h/", nullptr, set_header, &n);
    assert_true(n >= 1);
    otel_client_span_end(c, 200, nullptr);
    otel_tracer_del(t);
}

// core/text.h: its inline pieces compile as C++, the others link.
static void test_cxx_text_h(void **)
{
    const char *s = " a ";
    size_t n = 3;
    otel_trim_ows(&s, &n);
    assert_int_equal(n, 1);
    uint8_t b = 0;
    assert_true(otel_hex_decode_lower("7f", 1, &b));
    assert_int_equal(otel_pct_byte("%7F", 3), 0x7f);
    char h[2];
    otel_hex_put(h, b, true);
    assert_true(otel_is_token("te", 2) && otel_hex_value('F') == 15);
    otel_hostport hp;
    assert_true(otel_hostport_split("[::1]:80", 8, &hp));
    assert_int_equal(otel_port_parse(hp.port, hp.port_len), 80);
    assert_string_equal(otel_http_method_known("GET"), "GET");
    otel_buf buf = {nullptr, 0, 0};
    assert_int_equal(otel_buf_append(&buf, "x", 1), OTEL_OK);
    void *p = buf.data;
    assert_int_equal(otel_grow(&p, &buf.cap, 2 * buf.cap, 16), OTEL_OK);
    assert_true(otel_grow_cap(0, 3, 0) >= 3);
    otel_free(p);
}

// mhd-otel/mhd_otel.h and mhd-otel/mhd_otel_curl.h
static void test_cxx_module_headers(void **)
{
    char err[256];
    mhd_otel *m = nullptr;
    assert_int_not_equal(mhd_otel_new(&m, "/nonexistent/mhd-otel.conf", err, sizeof err), OTEL_OK);
    assert_null(m);
    otel_propagators p;
    mhd_otel_propagators(nullptr, &p);
    assert_null(mhd_otel_meter_provider(nullptr));
    assert_int_equal(mhd_otel_flush(nullptr, 0), OTEL_OK);
    assert_true(otel_propagators_has(&p, OTEL_PROPAGATOR_TRACECONTEXT));
    mhd_otel_del(nullptr);
    assert_string_equal(mhd_otel_curl_code_name(CURLE_OK), "CURLE_OK");
    CURL *h = curl_easy_init();
    assert_non_null(h);
    assert_int_equal(mhd_otel_curl_instrument(h, nullptr), OTEL_OK);
    assert_true(mhd_otel_curl_is_instrumented(h));
    mhd_otel_curl_easy_cleanup(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cxx_otel_h),         cmocka_unit_test(test_cxx_propagation_h),
        cmocka_unit_test(test_cxx_client_h),       cmocka_unit_test(test_cxx_text_h),
        cmocka_unit_test(test_cxx_module_headers), cmocka_unit_test(test_cxx_metrics_h),
    };
    return cmocka_run_group_tests_name("public headers from C++", tests, nullptr, nullptr);
}
