/* version.c - the version the mhd-otel tool reports: the library's. */
#include <mhd-otel/mhd_otel.h>

#include "tool.h"

const char *mhd_otel_tool_version(void)
{
    return mhd_otel_version();
}
