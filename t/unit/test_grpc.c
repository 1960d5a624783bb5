/* test_grpc.c - unit tests for exporter/grpc.c (framing, gzip, metadata). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../core/alloc.h"
#include "../../exporter/grpc.h"
#include "../../core/test_hooks.h"

/* ---- helpers ------------------------------------------------------------ */

/* Inflate a gzip stream with zlib directly (not through grpc.c). Caller
 * frees the result with free(). */
static uint8_t *inflate_all(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 31), Z_OK);
    size_t cap = 1 << 20, used = 0;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    int zrc;
    do {
        if (used == cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        zs.next_out = out + used;
        zs.avail_out = (uInt)(cap - used);
        zrc = inflate(&zs, Z_NO_FLUSH);
        used = cap - zs.avail_out;
        assert_true(zrc == Z_OK || zrc == Z_STREAM_END);
    } while (zrc != Z_STREAM_END);
    inflateEnd(&zs);
    *out_len = used;
    return out;
}

/* Deterministic, somewhat compressible bytes. */
static void fill(uint8_t *p, size_t n)
{
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)("span attributes "[(x >> 16) % 16]);
    }
}

static int reset_alloc(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    return 0;
}

/* ---- prefix ------------------------------------------------------------- */

static void test_otel_grpc_prefix_write_big_endian(void **state)
{
    (void)state;
    uint8_t p[5];
    otel_grpc_prefix_write(p, false, 0x01020304);
    const uint8_t want[5] = {0, 1, 2, 3, 4};
    assert_memory_equal(p, want, 5);
    otel_grpc_prefix_write(p, true, 7);
    const uint8_t want2[5] = {1, 0, 0, 0, 7};
    assert_memory_equal(p, want2, 5);
}

static void test_otel_grpc_prefix_read_roundtrip_and_errors(void **state)
{
    (void)state;
    uint8_t p[5];
    bool comp;
    uint32_t len;
    otel_grpc_prefix_write(p, true, 0xfffffffe);
    assert_int_equal(otel_grpc_prefix_read(p, 5, &comp, &len), OTEL_OK);
    assert_true(comp);
    assert_int_equal(len, 0xfffffffe);
    assert_int_equal(otel_grpc_prefix_read(p, 4, &comp, &len), OTEL_ERR_PARSE);
    p[0] = 2;
    assert_int_equal(otel_grpc_prefix_read(p, 5, &comp, &len), OTEL_ERR_PARSE);
}

/* ---- framer ------------------------------------------------------------- */

static void test_otel_grpc_framer_frame_identity(void **state)
{
    (void)state;
    otel_grpc_framer *f;
    assert_int_equal(otel_grpc_framer_new(&f), OTEL_OK);
    const uint8_t msg[] = "hello grpc";
    otel_grpc_frame fr;
    assert_int_equal(otel_grpc_framer_frame(f, msg, 10, false, &fr), OTEL_OK);
    const uint8_t want[5] = {0, 0, 0, 0, 10};
    assert_memory_equal(fr.prefix, want, 5);
    /* The message itself, not a copy. */
    assert_ptr_equal(fr.payload, msg);
    assert_int_equal(fr.payload_len, 10);
    /* An empty message is a bare prefix. */
    assert_int_equal(otel_grpc_framer_frame(f, NULL, 0, false, &fr), OTEL_OK);
    assert_int_equal(fr.payload_len, 0);
    assert_int_equal(fr.prefix[4], 0);
    otel_grpc_framer_del(f);
    otel_grpc_framer_del(NULL);
}

/* prefix + payload of fr in one malloc'd buffer, as it goes on the wire. */
static uint8_t *wire(const otel_grpc_frame *fr, size_t *len)
{
    uint8_t *b = malloc(5 + fr->payload_len);
    assert_non_null(b);
    memcpy(b, fr->prefix, 5);
    if (fr->payload_len > 0)
        memcpy(b + 5, fr->payload, fr->payload_len);
    *len = 5 + fr->payload_len;
    return b;
}

static void test_otel_grpc_framer_frame_gzip_roundtrip(void **state)
{
    (void)state;
    otel_grpc_framer *f;
    assert_int_equal(otel_grpc_framer_new(&f), OTEL_OK);
    /* Messages of different sizes through the same framer: the deflate
     * state is reset, the buffer reused. */
    size_t sizes[] = {3 * 1024 * 1024, 1000, 0, 200000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t sz = sizes[k];
        uint8_t *msg = malloc(sz + 1);
        assert_non_null(msg);
        fill(msg, sz);
        otel_grpc_frame fr;
        assert_int_equal(otel_grpc_framer_frame(f, msg, sz, true, &fr), OTEL_OK);
        size_t n;
        uint8_t *out = wire(&fr, &n);
        bool comp;
        uint32_t len;
        assert_int_equal(otel_grpc_prefix_read(out, n, &comp, &len), OTEL_OK);
        assert_true(comp);
        assert_int_equal(len, n - 5);
        assert_int_equal(out[5], 0x1f); /* gzip magic */
        assert_int_equal(out[6], 0x8b);
        assert_int_equal(out[13], 4); /* XFL: the fastest level */
        if (sz > 1000)
            assert_true(n < sz / 4 * 3);
        size_t back_len;
        uint8_t *back = inflate_all(out + 5, len, &back_len);
        assert_int_equal(back_len, sz);
        assert_memory_equal(back, msg, sz);
        free(back);

        /* And grpc.c's own reader agrees. */
        uint8_t *owned;
        const uint8_t *m;
        size_t mlen;
        assert_int_equal(otel_grpc_message_read(out, n, "gzip", 8 << 20, &owned, &m, &mlen),
                         OTEL_OK);
        assert_non_null(owned);
        assert_int_equal(mlen, sz);
        assert_memory_equal(m, msg, sz);
        otel_free(owned);
        free(out);
        free(msg);
    }
    otel_grpc_framer_del(f);
}

/* The same message framed twice with one framer gives the same bytes: the
 * reused z_stream starts afresh every time. */
static void test_otel_grpc_framer_frame_gzip_reuse_same_bytes(void **state)
{
    (void)state;
    otel_grpc_framer *f;
    assert_int_equal(otel_grpc_framer_new(&f), OTEL_OK);
    size_t sz = 100000;
    uint8_t *msg = malloc(sz);
    assert_non_null(msg);
    fill(msg, sz);
    otel_grpc_frame fr;
    assert_int_equal(otel_grpc_framer_frame(f, msg, sz, true, &fr), OTEL_OK);
    size_t n1;
    uint8_t *first = wire(&fr, &n1);
    assert_int_equal(otel_grpc_framer_frame(f, msg, 777, true, &fr), OTEL_OK);
    assert_int_equal(otel_grpc_framer_frame(f, msg, sz, true, &fr), OTEL_OK);
    size_t n2;
    uint8_t *second = wire(&fr, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, second, n1);
    free(first);
    free(second);
    free(msg);
    otel_grpc_framer_del(f);
}

static void test_otel_grpc_framer_new_alloc_failure(void **state)
{
    (void)state;
    otel_grpc_framer *f = (otel_grpc_framer *)1;
    otel_alloc_fail_after(0);
    assert_int_equal(otel_grpc_framer_new(&f), OTEL_ERR_NOMEM);
    assert_null(f);
    otel_alloc_fail_after(-1);
    assert_int_equal(otel_grpc_framer_new(&f), OTEL_OK);
    /* The compression buffer cannot be had: an error, and the framer stays
     * usable. Framing without gzip allocates nothing. */
    otel_alloc_fail_after(0);
    otel_grpc_frame fr;
    assert_int_equal(otel_grpc_framer_frame(f, (const uint8_t *)"abc", 3, false, &fr), OTEL_OK);
    assert_int_equal(otel_grpc_framer_frame(f, (const uint8_t *)"abc", 3, true, &fr),
                     OTEL_ERR_NOMEM);
    otel_alloc_fail_after(-1);
    assert_int_equal(otel_grpc_framer_frame(f, (const uint8_t *)"abc", 3, true, &fr), OTEL_OK);
    otel_grpc_framer_del(f);
}

/* ---- reading a response message ------------------------------------------ */

static void test_otel_grpc_message_read_identity_and_errors(void **state)
{
    (void)state;
    const uint8_t body[] = {0, 0, 0, 0, 3, 'a', 'b', 'c', 'x'};
    uint8_t *owned = (uint8_t *)1;
    const uint8_t *m;
    size_t n;
    assert_int_equal(otel_grpc_message_read(body, sizeof(body), NULL, 100, &owned, &m, &n),
                     OTEL_OK);
    assert_null(owned);
    assert_ptr_equal(m, body + 5);
    assert_int_equal(n, 3);
    /* Length past the data. */
    assert_int_equal(otel_grpc_message_read(body, 7, NULL, 100, &owned, &m, &n), OTEL_ERR_PARSE);
    assert_int_equal(otel_grpc_message_read(body, 3, NULL, 100, &owned, &m, &n), OTEL_ERR_PARSE);
    /* Over the limit. */
    assert_int_equal(otel_grpc_message_read(body, sizeof(body), NULL, 2, &owned, &m, &n),
                     OTEL_ERR_RANGE);
    /* Compressed without (or with another) grpc-encoding. */
    const uint8_t comp[] = {1, 0, 0, 0, 1, 0};
    assert_int_equal(otel_grpc_message_read(comp, sizeof(comp), NULL, 100, &owned, &m, &n),
                     OTEL_ERR_UNSUPPORTED);
    assert_int_equal(otel_grpc_message_read(comp, sizeof(comp), "deflate", 100, &owned, &m, &n),
                     OTEL_ERR_UNSUPPORTED);
    /* Corrupt gzip. */
    assert_int_equal(otel_grpc_message_read(comp, sizeof(comp), "gzip", 100, &owned, &m, &n),
                     OTEL_ERR_PARSE);
    assert_null(owned);
}

static void test_otel_grpc_message_read_gzip_limit(void **state)
{
    (void)state;
    otel_grpc_framer *f;
    assert_int_equal(otel_grpc_framer_new(&f), OTEL_OK);
    uint8_t zeros[10000] = {0};
    otel_grpc_frame fr;
    assert_int_equal(otel_grpc_framer_frame(f, zeros, sizeof(zeros), true, &fr), OTEL_OK);
    size_t n;
    uint8_t *out = wire(&fr, &n);
    uint8_t *owned;
    const uint8_t *m;
    size_t mlen;
    assert_int_equal(otel_grpc_message_read(out, n, "gzip", 9999, &owned, &m, &mlen),
                     OTEL_ERR_RANGE);
    assert_null(owned);
    assert_int_equal(otel_grpc_message_read(out, n, "gzip", 10000, &owned, &m, &mlen), OTEL_OK);
    assert_int_equal(mlen, 10000);
    otel_free(owned);
    /* Truncated gzip stream. */
    uint8_t cut[64];
    memcpy(cut, out, 20);
    otel_grpc_prefix_write(cut, true, 15);
    assert_int_equal(otel_grpc_message_read(cut, 20, "gzip", 10000, &owned, &m, &mlen),
                     OTEL_ERR_PARSE);
    free(out);
    otel_grpc_framer_del(f);
}

/* ---- grpc-timeout ------------------------------------------------------- */

static void test_otel_grpc_timeout_format_units(void **state)
{
    (void)state;
    char b[OTEL_GRPC_TIMEOUT_MAX];
    static const struct {
        uint64_t ns;
        const char *want;
    } cases[] = {
        {0, "1n"},
        {1, "1n"},
        {99999999, "99999999n"},
        {100000000, "100000u"},
        {UINT64_C(10000000000), "10000000u"}, /* 10 s */
        {UINT64_C(10000000001), "10000001u"}, /* rounded up, never shorter */
        {UINT64_C(99999999000), "99999999u"},
        {UINT64_C(100000000000), "100000m"},
        {UINT64_C(99999999000000), "99999999m"},
        {UINT64_C(99999999000000000), "99999999S"},
        {UINT64_C(100000000000000000), "1666667M"},
        {UINT64_MAX, "5124096H"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = otel_grpc_timeout_format(cases[i].ns, b, sizeof(b));
        assert_int_equal(n, (int)strlen(cases[i].want));
        assert_string_equal(b, cases[i].want);
        assert_true(n <= 9);
    }
    assert_int_equal(otel_grpc_timeout_format(1, b, 5), OTEL_ERR_RANGE);
}

/* ---- status and message ------------------------------------------------- */

static void test_otel_grpc_status_parse_values(void **state)
{
    (void)state;
    int code = -1;
    assert_int_equal(otel_grpc_status_parse("0", 1, &code), OTEL_OK);
    assert_int_equal(code, 0);
    assert_int_equal(otel_grpc_status_parse("14", 2, &code), OTEL_OK);
    assert_int_equal(code, 14);
    assert_int_equal(otel_grpc_status_parse("", 0, &code), OTEL_ERR_PARSE);
    assert_int_equal(otel_grpc_status_parse("1x", 2, &code), OTEL_ERR_PARSE);
    assert_int_equal(otel_grpc_status_parse("-1", 2, &code), OTEL_ERR_PARSE);
    assert_int_equal(otel_grpc_status_parse("99999999999", 11, &code), OTEL_ERR_PARSE);
    assert_string_equal(otel_grpc_code_name(14), "UNAVAILABLE");
    assert_string_equal(otel_grpc_code_name(16), "UNAUTHENTICATED");
    assert_string_equal(otel_grpc_code_name(17), "UNKNOWN_CODE");
    assert_string_equal(otel_grpc_code_name(-1), "UNKNOWN_CODE");
}

static void test_otel_grpc_message_decode_percent(void **state)
{
    (void)state;
    char out[64];
    const char *in = "bad%20request%3A%e2%82%ac";
    size_t n = otel_grpc_message_decode(in, strlen(in), out, sizeof(out));
    assert_string_equal(out, "bad request:\xe2\x82\xac");
    assert_int_equal(n, strlen(out));
    /* Invalid escapes are kept as they are. */
    in = "100% sure %4 %zz %";
    otel_grpc_message_decode(in, strlen(in), out, sizeof(out));
    assert_string_equal(out, "100% sure %4 %zz %");
    /* Cut to fit. */
    n = otel_grpc_message_decode("abcdef", 6, out, 4);
    assert_int_equal(n, 3);
    assert_string_equal(out, "abc");
    /* A value that ends in the middle of an escape. */
    n = otel_grpc_message_decode("a%4", 3, out, sizeof(out));
    assert_string_equal(out, "a%4");
}

/* ---- base64 ------------------------------------------------------------- */

static void test_otel_grpc_base64_decode_padded_and_unpadded(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zg", "f"},
        {"Zm8=", "fo"},
        {"Zm8", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYg", "foob"},
        {"Zm9vYmE", "fooba"},
        {"Zm9vYmFy", "foobar"},
    };
    uint8_t out[16];
    size_t n;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            otel_grpc_base64_decode(cases[i].in, strlen(cases[i].in), out, sizeof(out), &n),
            OTEL_OK);
        assert_int_equal(n, strlen(cases[i].want));
        assert_memory_equal(out, cases[i].want, n);
    }
    /* Binary with + and /. */
    assert_int_equal(otel_grpc_base64_decode("+/8A", 4, out, sizeof(out), &n), OTEL_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_int_equal(out[2], 0x00);
}

static void test_otel_grpc_base64_decode_errors(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n;
    const char *bad[] = {"Z", "Zm9vY", "Zg=", "Zg===", "Z===", "Zm9v!", "Zm=v", "Zh==", "=="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(otel_grpc_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n),
                         OTEL_ERR_PARSE);
    assert_int_equal(otel_grpc_base64_decode("Zm9vYmFy", 8, out, 5, &n), OTEL_ERR_RANGE);
    assert_int_equal(otel_grpc_base64_decode("Zm9vYmFy", 8, out, 6, &n), OTEL_OK);
}

/* ---- failure mapping ---------------------------------------------------- */

static void test_otel_grpc_status_from_http_mapping(void **state)
{
    (void)state;
    assert_int_equal(otel_grpc_status_from_http(400), OTEL_GRPC_INTERNAL);
    assert_int_equal(otel_grpc_status_from_http(401), OTEL_GRPC_UNAUTHENTICATED);
    assert_int_equal(otel_grpc_status_from_http(403), OTEL_GRPC_PERMISSION_DENIED);
    assert_int_equal(otel_grpc_status_from_http(404), OTEL_GRPC_UNIMPLEMENTED);
    assert_int_equal(otel_grpc_status_from_http(429), OTEL_GRPC_UNAVAILABLE);
    assert_int_equal(otel_grpc_status_from_http(502), OTEL_GRPC_UNAVAILABLE);
    assert_int_equal(otel_grpc_status_from_http(503), OTEL_GRPC_UNAVAILABLE);
    assert_int_equal(otel_grpc_status_from_http(504), OTEL_GRPC_UNAVAILABLE);
    assert_int_equal(otel_grpc_status_from_http(500), OTEL_GRPC_UNKNOWN);
    assert_int_equal(otel_grpc_status_from_http(302), OTEL_GRPC_UNKNOWN);
}

static void test_otel_grpc_status_from_h2_error_mapping(void **state)
{
    (void)state;
    assert_int_equal(otel_grpc_status_from_h2_error(0x0), OTEL_GRPC_INTERNAL);
    assert_int_equal(otel_grpc_status_from_h2_error(0x2), OTEL_GRPC_INTERNAL);
    assert_int_equal(otel_grpc_status_from_h2_error(0x7), OTEL_GRPC_UNAVAILABLE);
    assert_int_equal(otel_grpc_status_from_h2_error(0x8), OTEL_GRPC_CANCELLED);
    assert_int_equal(otel_grpc_status_from_h2_error(0xb), OTEL_GRPC_RESOURCE_EXHAUSTED);
    assert_int_equal(otel_grpc_status_from_h2_error(0xc), OTEL_GRPC_PERMISSION_DENIED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otel_grpc_prefix_write_big_endian),
        cmocka_unit_test(test_otel_grpc_prefix_read_roundtrip_and_errors),
        cmocka_unit_test(test_otel_grpc_framer_frame_identity),
        cmocka_unit_test(test_otel_grpc_framer_frame_gzip_roundtrip),
        cmocka_unit_test(test_otel_grpc_framer_frame_gzip_reuse_same_bytes),
        cmocka_unit_test_teardown(test_otel_grpc_framer_new_alloc_failure, reset_alloc),
        cmocka_unit_test(test_otel_grpc_message_read_identity_and_errors),
        cmocka_unit_test(test_otel_grpc_message_read_gzip_limit),
        cmocka_unit_test(test_otel_grpc_timeout_format_units),
        cmocka_unit_test(test_otel_grpc_status_parse_values),
        cmocka_unit_test(test_otel_grpc_message_decode_percent),
        cmocka_unit_test(test_otel_grpc_base64_decode_padded_and_unpadded),
        cmocka_unit_test(test_otel_grpc_base64_decode_errors),
        cmocka_unit_test(test_otel_grpc_status_from_http_mapping),
        cmocka_unit_test(test_otel_grpc_status_from_h2_error_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
