/* conf.h - the parsed mhd-otel configuration and its loader (nginx-style
 * config file plus the OpenTelemetry SDK environment variables). */
#ifndef MHD_OTEL_CONF_H
#define MHD_OTEL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <mhd-otel/metrics.h>
#include <mhd-otel/otel.h>
#include <mhd-otel/propagation.h>
#include "../exporter/console.h"
#include "../exporter/otlp.h"

/* The metrics exporters (bits of mhd_otel_conf.metrics_exporters). */
#define MHD_OTEL_METRICS_OTLP 0x1u
#define MHD_OTEL_METRICS_PROMETHEUS 0x2u
#define MHD_OTEL_METRICS_CONSOLE 0x4u
#define MHD_OTEL_METRICS_NONE 0x8u /* "none": metrics are neither recorded nor sent */

/* Where the Prometheus endpoint listens when no address is given. */
#define MHD_OTEL_PROMETHEUS_HOST "localhost"
#define MHD_OTEL_PROMETHEUS_PORT "9464"

typedef struct mhd_otel_kv_str {
    char *key;
    char *value;
} mhd_otel_kv_str;

/* A string list; every string is owned by the list. */
typedef struct mhd_otel_strv {
    char **v;
    size_t n;
} mhd_otel_strv;

/* Everything a config file and the environment can say. All strings are
 * heap copies owned by the conf and freed by mhd_otel_conf_del. */
typedef struct mhd_otel_conf {
    bool trace;                      /* otel_trace on|off; default on */
    char *service_name;              /* otel_service_name / OTEL_SERVICE_NAME; NULL = default */
    mhd_otel_kv_str *resource_attrs; /* otel_resource_attr / OTEL_RESOURCE_ATTRIBUTES */
    size_t n_resource_attrs;
    otel_sampler sampler;     /* otel_sampler / OTEL_TRACES_SAMPLER[_ARG] */
    mhd_otel_strv skip_paths; /* exact paths */
    mhd_otel_strv skip_prefixes;
    mhd_otel_strv routes;          /* patterns such as /hello/{name} */
    mhd_otel_strv capture_headers; /* request header names, as written */
    otel_propagators propagators;  /* otel_propagators / OTEL_PROPAGATORS;
                                      default tracecontext,baggage */
    bool trust_incoming;           /* otel_trust_incoming on|off; default on. Off: a
                                      new trace, the incoming context as a link */
    uint64_t signal_flush_ns;      /* otel_signal_flush TIME|off: under LD_PRELOAD, how long
                                      a SIGTERM/SIGINT left at its default action waits for
                                      queued spans before it takes effect; 0: not at all;
                                      default 1 s (its row in module/conf.c) */
    bool keep_errors;              /* otel_keep_errors on|off; default off: the trace of a
                                      request that failed is exported even when the sampler
                                      did not sample it */
    uint64_t keep_slower_than_ns;  /* otel_keep_slower_than TIME|off: the same for a request
                                      that took longer; 0: off (default) */

    bool console;                       /* an otel_exporter console block was given */
    otel_console_format console_format; /* default json */
    char *console_output;               /* "stdout" (default), "stderr" or a path */

    bool otlp;                        /* an otel_exporter otlp block, OTEL_TRACES_EXPORTER=otlp,
                                         or no exporter named anywhere (the spec default) */
    otel_otlp_protocol otlp_protocol; /* protocol / OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL;
                                         default grpc */
    char *otlp_endpoint;              /* endpoint / OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT;
                                         NULL = the protocol's default (port 4317 / 4318) */
    otel_otlp_url_rule otlp_url_rule; /* how an OTLP/HTTP endpoint becomes the URL: as the
                                         file's, OTEL_EXPORTER_OTLP_ENDPOINT's or
                                         OTEL_EXPORTER_OTLP_TRACES_ENDPOINT's (set after
                                         the merge) */
    bool otlp_insecure;               /* insecure / ..._INSECURE: a grpc endpoint without
                                         scheme in cleartext */
    char *otlp_ca_file;               /* ca_file / ..._CERTIFICATE; NULL: system store */
    char *otlp_client_cert;           /* client_cert / ..._CLIENT_CERTIFICATE */
    char *otlp_client_key;            /* client_key / ..._CLIENT_KEY */
    bool otlp_tls_verify;             /* tls_verify on|off; default on */
    mhd_otel_kv_str *otlp_headers;    /* header NAME VALUE / OTEL_EXPORTER_OTLP_[TRACES_]HEADERS */
    size_t n_otlp_headers;
    bool otlp_gzip;           /* compression gzip|none / ..._COMPRESSION */
    uint64_t otlp_timeout_ns; /* timeout / ..._TIMEOUT (ms); default 10 s */

    otel_tracer_config batch; /* otel_batch / OTEL_BSP_* (+ sampler above) */

    /* otel_metrics { }: */
    unsigned metrics_exporters;   /* exporter / OTEL_METRICS_EXPORTER: MHD_OTEL_METRICS_*
                                     bits. After the merge never 0: when none is named,
                                     prometheus if its address is given, else otlp when
                                     spans go to otlp, else none */
    uint64_t metrics_interval_ns; /* interval / OTEL_METRIC_EXPORT_INTERVAL (ms); 60 s */
    uint64_t metrics_timeout_ns;  /* timeout / OTEL_METRIC_EXPORT_TIMEOUT (ms); 30 s */
    otel_temporality_pref metrics_temporality; /* temporality /
                                      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE */
    char *metrics_endpoint;                    /* endpoint / OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
                                                  OTEL_EXPORTER_OTLP_ENDPOINT; NULL: the otlp block's
                                                  endpoint, else the protocol's default */
    otel_otlp_url_rule metrics_url_rule;       /* as otlp_url_rule, for metrics_endpoint */
    char *metrics_prometheus;                  /* prometheus HOST:PORT; with the prometheus exporter
                                                  and none given: OTEL_EXPORTER_PROMETHEUS_HOST and
                                                  _PORT (localhost:9464) */
    size_t metrics_cardinality;                /* cardinality_limit: points per instrument; 2000 */
    bool metrics_skipped;                      /* record_skipped on|off: requests of skipped paths
                                                  counted; default off */
} mhd_otel_conf;

/* Load path and the environment: each setting is the file's when it gives
 * one, else its OTEL_* variable's when that is valid, else the default. An
 * invalid variable is logged once as a warning (otel_log) and ignored; it
 * never fails the load. On success *out is a new conf the caller frees with
 * mhd_otel_conf_del, err is "" and 0 is returned. On failure (the file
 * cannot be read or has a mistake, a directive is given twice, memory ran
 * out) returns a negative OTEL_ERR_* and writes "FILE:LINE: message" (or
 * "FILE: message") into err (errlen bytes, NUL-terminated); *out is NULL. */
int mhd_otel_conf_load(mhd_otel_conf **out, const char *path, char *err, size_t errlen);

/* The same for a config held in memory: name is used in messages, text
 * holds len bytes. env_lookup reads environment variables (getenv-like;
 * NULL: no environment at all). */
typedef const char *(*mhd_otel_env_fn)(const char *name);
int mhd_otel_conf_parse(mhd_otel_conf **out, const char *name, const char *text, size_t len,
                        mhd_otel_env_fn env_lookup, char *err, size_t errlen);

/* A conf with only the environment over the defaults (no file). Returns 0,
 * or OTEL_ERR_NOMEM ("out of memory" in err): an invalid variable is warned
 * about and ignored. */
int mhd_otel_conf_from_env(mhd_otel_conf **out, mhd_otel_env_fn env_lookup, char *err,
                           size_t errlen);

void mhd_otel_conf_del(mhd_otel_conf *conf);

/* The OTLP exporter's settings of conf (strings borrowed from it), headers
 * aside. */
void mhd_otel_conf_otlp(const mhd_otel_conf *c, otel_otlp_config *oc);
/* The same for the OTLP metrics exporter: the otlp block's settings, the
 * endpoint of otel_metrics (or the block's), the metrics signal and
 * interval-bounded timeout. */
void mhd_otel_conf_otlp_metrics(const mhd_otel_conf *c, otel_otlp_config *oc);

/* Write c to out as a config file that loads back to the same settings: one
 * "DIRECTIVE VALUE;" line per setting that has a value, in the directive
 * table's order, the blocks after the top-level lines (an exporter's block
 * only when that exporter runs). Returns 0, OTEL_ERR_INVALID (c or out NULL,
 * or a directive this function cannot write) or OTEL_ERR_IO (a write failed);
 * what was written stays in out. */
int mhd_otel_conf_dump(const mhd_otel_conf *c, FILE *out);

#endif /* MHD_OTEL_CONF_H */
