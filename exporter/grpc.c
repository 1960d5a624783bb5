/* grpc.c - gRPC message framing, gzip, and status metadata for the OTLP
 * exporter. */
#include "grpc.h"

#include "../core/text.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "../core/alloc.h"

struct otel_grpc_framer {
    z_stream zs;  /* initialised once, deflateReset for every message */
    bool z_ready; /* deflateInit2 done; deflateEnd owed */
    uint8_t *buf; /* owned; cap bytes of compressed output, reused */
    size_t cap;
};

/* HTTP/2 error codes (RFC 9113 section 7). */
#define H2_REFUSED_STREAM 0x7
#define H2_CANCEL 0x8
#define H2_ENHANCE_YOUR_CALM 0xb
#define H2_INADEQUATE_SECURITY 0xc

/* gzip wrapper on deflate, as grpc-encoding: gzip means. */
#define GZIP_WINDOW_BITS 31
/* deflate level 1. On 512-span batches of server spans like
 * t/bench/export_cost's (with varied paths and client ports), levels 1, 2
 * and 3 all squeeze a span's 355 bytes to 44 in 1.0 us of CPU; level 4 gets
 * 42.6 bytes in 1.6 us and the default, 6, 41.8 bytes in 2.7 us. What is
 * left is mostly ids and timestamps, which do not compress: the slower
 * levels buy about 5% of the bytes for 1.6 to 2.7 times the CPU. */
#define GZIP_LEVEL 1
#define GZIP_MEM_LEVEL 8
#define ZLIB_CHUNK_MAX ((size_t)UINT_MAX)

/* ---- helpers ------------------------------------------------------------ */

/* Make f->buf hold at least need bytes (contents kept). */
static int framer_reserve(otel_grpc_framer *f, size_t need)
{
    void *p = f->buf;
    int rc = otel_grow(&p, &f->cap, need, 4096);
    f->buf = p;
    return rc;
}

/* Deflate msg into f->buf; *clen gets the compressed size. The z_stream is
 * set up on the first message and only reset for the next ones. */
static int framer_gzip(otel_grpc_framer *f, const uint8_t *msg, size_t len, size_t *clen)
{
    if (len > ZLIB_CHUNK_MAX)
        return OTEL_ERR_RANGE;
    if (!f->z_ready) {
        memset(&f->zs, 0, sizeof(f->zs));
        if (deflateInit2(&f->zs, GZIP_LEVEL, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return OTEL_ERR_NOMEM;
        f->z_ready = true;
    } else if (deflateReset(&f->zs) != Z_OK) {
        return OTEL_ERR_IO;
    }
    if (framer_reserve(f, deflateBound(&f->zs, (uLong)len)) != OTEL_OK)
        return OTEL_ERR_NOMEM;
    f->zs.next_in = (Bytef *)(uintptr_t)msg;
    f->zs.avail_in = (uInt)len;
    size_t used = 0;
    for (;;) {
        size_t room = f->cap - used;
        if (room > ZLIB_CHUNK_MAX)
            room = ZLIB_CHUNK_MAX;
        f->zs.next_out = f->buf + used;
        f->zs.avail_out = (uInt)room;
        int zrc = deflate(&f->zs, Z_FINISH);
        used += room - f->zs.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return OTEL_ERR_IO;
        /* deflateBound was not enough (it should be): grow and go on. */
        if (f->cap > SIZE_MAX / 2 || framer_reserve(f, f->cap * 2) != OTEL_OK)
            return OTEL_ERR_NOMEM;
    }
    *clen = used;
    return OTEL_OK;
}

/* Inflate a gzip message of len bytes into a new buffer of at most max_len
 * bytes. The caller frees *out with otel_free. */
static int gunzip(const uint8_t *in, size_t len, size_t max_len, uint8_t **out, size_t *out_len)
{
    if (len > ZLIB_CHUNK_MAX)
        return OTEL_ERR_RANGE;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, GZIP_WINDOW_BITS) != Z_OK)
        return OTEL_ERR_NOMEM;
    size_t cap = len * 4 + 64 < max_len ? len * 4 + 64 : max_len;
    if (cap == 0)
        cap = 1;
    uint8_t *buf = otel_malloc(cap);
    int rc = buf ? OTEL_OK : OTEL_ERR_NOMEM;
    size_t used = 0;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    while (rc == OTEL_OK) {
        size_t room = cap - used;
        if (room > ZLIB_CHUNK_MAX)
            room = ZLIB_CHUNK_MAX;
        zs.next_out = buf + used;
        zs.avail_out = (uInt)room;
        int zrc = inflate(&zs, Z_NO_FLUSH);
        used += room - zs.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_NEED_DICT || zrc == Z_DATA_ERROR || zrc == Z_STREAM_ERROR) {
            rc = OTEL_ERR_PARSE;
        } else if (zrc == Z_MEM_ERROR) {
            rc = OTEL_ERR_NOMEM;
        } else if (zs.avail_out != 0) {
            rc = OTEL_ERR_PARSE; /* input ended before the gzip trailer */
        } else if (cap >= max_len) {
            rc = OTEL_ERR_RANGE;
        } else {
            size_t ncap = cap > max_len / 2 ? max_len : cap * 2;
            uint8_t *p = otel_realloc(buf, ncap);
            if (p == NULL)
                rc = OTEL_ERR_NOMEM;
            else {
                buf = p;
                cap = ncap;
            }
        }
    }
    inflateEnd(&zs);
    if (rc != OTEL_OK) {
        otel_free(buf);
        return rc;
    }
    *out = buf;
    *out_len = used;
    return OTEL_OK;
}

static int b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* ---- API ---------------------------------------------------------------- */

const char *otel_grpc_code_name(int code)
{
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
        return "UNKNOWN_CODE";
    return names[code];
}

void otel_grpc_prefix_write(uint8_t out[OTEL_GRPC_PREFIX_LEN], bool compressed, uint32_t len)
{
    out[0] = compressed ? 1 : 0;
    out[1] = (uint8_t)(len >> 24);
    out[2] = (uint8_t)(len >> 16);
    out[3] = (uint8_t)(len >> 8);
    out[4] = (uint8_t)len;
}

int otel_grpc_prefix_read(const uint8_t *in, size_t len, bool *compressed, uint32_t *msg_len)
{
    if (len < OTEL_GRPC_PREFIX_LEN || in[0] > 1)
        return OTEL_ERR_PARSE;
    *compressed = in[0] == 1;
    *msg_len = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 | (uint32_t)in[3] << 8 | in[4];
    return OTEL_OK;
}

int otel_grpc_framer_new(otel_grpc_framer **out)
{
    *out = NULL;
    otel_grpc_framer *f = otel_calloc(1, sizeof(*f));
    if (f == NULL)
        return OTEL_ERR_NOMEM;
    *out = f;
    return OTEL_OK;
}

void otel_grpc_framer_del(otel_grpc_framer *f)
{
    if (f == NULL)
        return;
    if (f->z_ready)
        deflateEnd(&f->zs);
    otel_free(f->buf);
    otel_free(f);
}

int otel_grpc_framer_frame(otel_grpc_framer *f, const uint8_t *msg, size_t len, bool gzip,
                           otel_grpc_frame *out)
{
    if (len > UINT32_MAX)
        return OTEL_ERR_RANGE;
    out->payload = msg;
    out->payload_len = len;
    if (gzip) {
        size_t clen;
        int rc = framer_gzip(f, msg, len, &clen);
        if (rc != OTEL_OK)
            return rc;
        if (clen > UINT32_MAX)
            return OTEL_ERR_RANGE;
        out->payload = f->buf;
        out->payload_len = clen;
    }
    otel_grpc_prefix_write(out->prefix, gzip, (uint32_t)out->payload_len);
    return OTEL_OK;
}

int otel_grpc_message_read(const uint8_t *data, size_t len, const char *encoding, size_t max_len,
                           uint8_t **owned, const uint8_t **msg, size_t *msg_len)
{
    *owned = NULL;
    bool compressed;
    uint32_t n;
    if (otel_grpc_prefix_read(data, len, &compressed, &n) != OTEL_OK)
        return OTEL_ERR_PARSE;
    if (n > len - OTEL_GRPC_PREFIX_LEN)
        return OTEL_ERR_PARSE;
    const uint8_t *payload = data + OTEL_GRPC_PREFIX_LEN;
    if (!compressed) {
        if (n > max_len)
            return OTEL_ERR_RANGE;
        *msg = payload;
        *msg_len = n;
        return OTEL_OK;
    }
    if (encoding == NULL || strcmp(encoding, "gzip") != 0)
        return OTEL_ERR_UNSUPPORTED;
    uint8_t *buf;
    size_t blen;
    int rc = gunzip(payload, n, max_len, &buf, &blen);
    if (rc != OTEL_OK)
        return rc;
    *owned = buf;
    *msg = buf;
    *msg_len = blen;
    return OTEL_OK;
}

int otel_grpc_timeout_format(uint64_t ns, char *out, size_t cap)
{
    static const struct {
        uint64_t ns;
        char unit;
    } units[] = {{1, 'n'},
                 {UINT64_C(1000), 'u'},
                 {UINT64_C(1000000), 'm'},
                 {UINT64_C(1000000000), 'S'},
                 {UINT64_C(60000000000), 'M'},
                 {UINT64_C(3600000000000), 'H'}};
    const uint64_t max_value = UINT64_C(99999999);
    if (cap < OTEL_GRPC_TIMEOUT_MAX)
        return OTEL_ERR_RANGE;
    uint64_t v = max_value;
    char unit = 'H';
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        uint64_t q = ns / units[i].ns + (ns % units[i].ns != 0);
        if (q <= max_value) {
            v = q;
            unit = units[i].unit;
            break;
        }
    }
    if (v == 0)
        v = 1;
    int n = snprintf(out, cap, "%" PRIu64 "%c", v, unit);
    return n;
}

int otel_grpc_status_parse(const char *value, size_t len, int *code)
{
    if (len == 0)
        return OTEL_ERR_PARSE;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return OTEL_ERR_PARSE;
        v = v * 10 + (value[i] - '0');
        if (v > INT32_MAX)
            return OTEL_ERR_PARSE;
    }
    *code = (int)v;
    return OTEL_OK;
}

size_t otel_grpc_message_decode(const char *value, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        int b = otel_pct_byte(value + i, len - i);
        if (b >= 0) {
            out[o++] = (char)b;
            i += 2;
        } else {
            out[o++] = value[i];
        }
    }
    out[o] = '\0';
    return o;
}

int otel_grpc_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    /* Padding: up to two '=' at the end, and only to complete a quantum. */
    size_t pad = 0;
    while (len > 0 && in[len - 1] == '=' && pad < 3) {
        len--;
        pad++;
    }
    if (pad > 2 || (pad > 0 && (len + pad) % 4 != 0) || len % 4 == 1)
        return OTEL_ERR_PARSE;
    size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > cap)
        return OTEL_ERR_RANGE;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(in[i]);
        if (v < 0)
            return OTEL_ERR_PARSE;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* The bits left over of a partial quantum must be zero. */
    if (acc != 0)
        return OTEL_ERR_PARSE;
    *out_len = o;
    return OTEL_OK;
}

int otel_grpc_status_from_http(int http_status)
{
    switch (http_status) {
    case 400:
        return OTEL_GRPC_INTERNAL;
    case 401:
        return OTEL_GRPC_UNAUTHENTICATED;
    case 403:
        return OTEL_GRPC_PERMISSION_DENIED;
    case 404:
        return OTEL_GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return OTEL_GRPC_UNAVAILABLE;
    default:
        return OTEL_GRPC_UNKNOWN;
    }
}

int otel_grpc_status_from_h2_error(uint32_t err)
{
    switch (err) {
    case H2_REFUSED_STREAM:
        return OTEL_GRPC_UNAVAILABLE;
    case H2_CANCEL:
        return OTEL_GRPC_CANCELLED;
    case H2_ENHANCE_YOUR_CALM:
        return OTEL_GRPC_RESOURCE_EXHAUSTED;
    case H2_INADEQUATE_SECURITY:
        return OTEL_GRPC_PERMISSION_DENIED;
    default:
        return OTEL_GRPC_INTERNAL;
    }
}
