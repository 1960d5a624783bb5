/* errors.c - messages for the OTEL_ERR_* codes. */
#include <mhd-otel/otel.h>

const char *otel_strerror(int err)
{
    switch (err) {
    case OTEL_OK:
        return "success";
    case OTEL_ERR_NOMEM:
        return "out of memory";
    case OTEL_ERR_INVALID:
        return "invalid argument";
    case OTEL_ERR_FULL:
        return "queue or table full";
    case OTEL_ERR_TIMEOUT:
        return "timed out";
    case OTEL_ERR_IO:
        return "input/output error";
    case OTEL_ERR_STATE:
        return "invalid state";
    case OTEL_ERR_PARSE:
        return "parse error";
    case OTEL_ERR_RANGE:
        return "value out of range";
    case OTEL_ERR_UNSUPPORTED:
        return "not supported";
    default:
        return "unknown error";
    }
}
