/* conf_check.h - the properties fuzz_conf and fuzz_conf_env check of a
 * config loader's result: a well-formed error message, or a conf whose
 * contents are within what the directives allow. */
#ifndef MHD_OTEL_FUZZ_CONF_CHECK_H
#define MHD_OTEL_FUZZ_CONF_CHECK_H

#include "fuzz.h"

#include "../../exporter/otlp.h"
#include "../../module/conf.h"

#define CONF_ERR_CAP 512

/* err after a failed load: non-empty, terminated within cap, no control
 * byte, starting with prefix (NULL: either "FILE:" or "environment "). */
static inline void conf_check_error(const char *err, size_t cap, const char *prefix)
{
    size_t n = strnlen(err, cap);
    FUZZ_CHECK(n < cap, "message not terminated within %zu bytes", cap);
    FUZZ_CHECK(n > 0, "empty message");
    FUZZ_CHECK(fuzz_no_control(err, n), "control byte in message \"%s\"", err);
    if (prefix != NULL)
        FUZZ_CHECK(strncmp(err, prefix, strlen(prefix)) == 0 || n == cap - 1,
                   "message \"%s\" does not start with \"%s\"", err, prefix);
}

static inline void conf_check_strv(const mhd_otel_strv *sv, bool path)
{
    for (size_t i = 0; i < sv->n; i++) {
        FUZZ_CHECK(sv->v[i] != NULL, "NULL string in a list");
        if (path)
            FUZZ_CHECK(sv->v[i][0] == '/', "path \"%s\" without /", sv->v[i]);
    }
}

/* A conf that loaded: its values are within their ranges and what it hands
 * to the exporter is usable there. */
static inline void conf_check_conf(const mhd_otel_conf *c)
{
    FUZZ_CHECK(c->batch.max_export_batch_size <= c->batch.max_queue_size,
               "batch %zu over queue %zu", c->batch.max_export_batch_size, c->batch.max_queue_size);
    FUZZ_CHECK(c->sampler.ratio >= 0.0 && c->sampler.ratio <= 1.0, "ratio %f", c->sampler.ratio);
    FUZZ_CHECK(c->console_output != NULL && c->console_output[0] != '\0', "console output");
    FUZZ_CHECK(c->service_name == NULL || c->service_name[0] != '\0', "empty service name");
    FUZZ_CHECK(c->otlp_timeout_ns > 0, "zero OTLP timeout");
    conf_check_strv(&c->skip_paths, true);
    conf_check_strv(&c->skip_prefixes, true);
    conf_check_strv(&c->routes, true);
    conf_check_strv(&c->capture_headers, false);
    for (size_t i = 0; i < c->n_resource_attrs; i++)
        FUZZ_CHECK(c->resource_attrs[i].key != NULL && c->resource_attrs[i].value != NULL,
                   "resource attribute %zu", i);
    for (size_t i = 0; i < c->n_otlp_headers; i++) {
        const char *k = c->otlp_headers[i].key, *v = c->otlp_headers[i].value;
        FUZZ_CHECK(k != NULL && k[0] != '\0' && v != NULL, "OTLP header %zu", i);
        FUZZ_CHECK(fuzz_printable(v, strlen(v)), "OTLP header %s: unprintable value", k);
        FUZZ_CHECK(strncasecmp(k, "grpc-", 5) != 0, "reserved OTLP header %s", k);
    }
    if (c->otlp_endpoint != NULL) {
        /* what the exporter is built from: its URL rules must accept it */
        otel_otlp_config oc;
        char url[OTEL_OTLP_URL_MAX], err[512];
        mhd_otel_conf_otlp(c, &oc);
        int rc = otel_otlp_target(&oc, url, sizeof url, err, sizeof err);
        FUZZ_CHECK(rc == OTEL_OK,
                   "endpoint \"%s\" (protocol %s) accepted by the config, refused by the "
                   "exporter: %s",
                   c->otlp_endpoint, otel_otlp_protocol_name(c->otlp_protocol), err);
    }
}

#endif /* MHD_OTEL_FUZZ_CONF_CHECK_H */
