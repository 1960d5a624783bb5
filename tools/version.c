/* version.c - the version the mhd-otel tool reports. */
#include "../core/otel.h"
#include "tool.h"

const char *mhd_otel_tool_version(void)
{
    return OTEL_SDK_VERSION;
}
