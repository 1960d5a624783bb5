/* fuzz_conf_env.c - libFuzzer target of the OTEL_* environment variables:
 * mhd_otel_conf_from_env, and mhd_otel_conf_parse of an empty file over the
 * same environment. Input: NUL-separated fields, each one byte that picks a
 * variable and the variable's value. */
#include "conf_check.h"

static const char *const vars[] = {
    "OTEL_SDK_DISABLED",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PROPAGATORS",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_INSECURE",
    "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
};

#define NVARS (sizeof vars / sizeof vars[0])

/* The environment of one run (the lookup function takes no argument). */
static char *env_value[NVARS];

static const char *env_lookup(const char *name)
{
    FUZZ_CHECK(strncmp(name, "OTEL_", 5) == 0, "looked up %s", name);
    for (size_t i = 0; i < NVARS; i++) {
        if (strcmp(vars[i], name) == 0)
            return env_value[i];
    }
    return NULL;
}

static void check_result(int rc, mhd_otel_conf *c, const char *err)
{
    if (rc == OTEL_OK) {
        FUZZ_CHECK(c != NULL, "no conf");
        conf_check_conf(c);
        mhd_otel_conf_del(c);
        return;
    }
    /* an invalid variable is warned about and ignored: only memory fails */
    FUZZ_CHECK(c == NULL, "conf after an error");
    FUZZ_CHECK(rc == OTEL_ERR_NOMEM, "rc %d: %s", rc, err);
    conf_check_error(err, CONF_ERR_CAP, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    char err[CONF_ERR_CAP];
    mhd_otel_conf *c = (mhd_otel_conf *)&c;

    while (in.left > 0) {
        size_t i = fuzz_byte(&in) % NVARS;
        free(env_value[i]);
        env_value[i] = fuzz_field(&in, NULL);
    }

    memset(err, 0x7f, sizeof err);
    check_result(mhd_otel_conf_from_env(&c, env_lookup, err, sizeof err), c, err);
    c = (mhd_otel_conf *)&c;
    memset(err, 0x7f, sizeof err);
    check_result(mhd_otel_conf_parse(&c, "empty.conf", "", 0, env_lookup, err, sizeof err), c, err);

    for (size_t i = 0; i < NVARS; i++) {
        free(env_value[i]);
        env_value[i] = NULL;
    }
    return 0;
}
