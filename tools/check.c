/* check.c - "mhd-otel check": a config loaded as the module loads it, its effective settings
 * printed. */
#include <string.h>

#include <mhd-otel/otel.h>
#include "../module/conf.h"
#include "tool.h"

static const char check_usage[] =
    "usage: mhd-otel check [-q] CONFIG\n"
    "\n"
    "Load CONFIG as the module does (the OTEL_* environment applied the same way) and\n"
    "print the effective settings, one directive per line, as a config file writes\n"
    "them. A mistake is printed as FILE:LINE: message; warnings about the environment\n"
    "go to standard error.\n"
    "\n"
    "  -q, --quiet   print nothing when the config is valid\n"
    "  -h, --help    this help\n"
    "\n"
    "Exit status: 0 valid, 1 invalid, 2 usage error.\n";

static void log_to(void *ud, otel_log_level level, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info"};
    fprintf(ud, "mhd-otel: %s: %s\n", names[level], msg);
}

int mhd_otel_tool_check(int argc, char **argv, FILE *out, FILE *err)
{
    const char *path = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(check_usage, out);
            return MHD_OTEL_TOOL_OK;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(err, "mhd-otel check: unknown option \"%s\"\n%s", a, check_usage);
            return MHD_OTEL_TOOL_USAGE;
        } else if (path != NULL) {
            fprintf(err, "mhd-otel check: one CONFIG only\n%s", check_usage);
            return MHD_OTEL_TOOL_USAGE;
        } else {
            path = a;
        }
    }
    if (path == NULL) {
        fprintf(err, "mhd-otel check: no CONFIG given\n%s", check_usage);
        return MHD_OTEL_TOOL_USAGE;
    }
    char msg[1024];
    mhd_otel_conf *c = NULL;
    otel_log_set(log_to, err);
    int rc = mhd_otel_conf_load(&c, path, msg, sizeof(msg));
    otel_log_set(NULL, NULL);
    if (rc != OTEL_OK) {
        fprintf(err, "%s\n", msg[0] != '\0' ? msg : otel_strerror(rc));
        return MHD_OTEL_TOOL_INVALID;
    }
    rc = quiet ? OTEL_OK : mhd_otel_conf_dump(c, out);
    mhd_otel_conf_del(c);
    if (rc != OTEL_OK) {
        fprintf(err, "mhd-otel check: cannot print the settings: %s\n", otel_strerror(rc));
        return MHD_OTEL_TOOL_INVALID;
    }
    return MHD_OTEL_TOOL_OK;
}
