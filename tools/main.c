/* main.c - the mhd-otel command-line tool: picks the command (check, view, version). */
#include <stdio.h>
#include <string.h>

#include "tool.h"

static const char main_usage[] =
    "usage: mhd-otel COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  check [-q] CONFIG   validate a config file and print its effective settings\n"
    "  view [OPTIONS] [FILE|-]  draw the traces of span JSON lines as waterfalls\n"
    "  version             print the version\n"
    "\n"
    "mhd-otel COMMAND --help describes a command. mhd-otel --version prints the version.\n";

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (cmd == NULL) {
        fputs(main_usage, stderr);
        return MHD_OTEL_TOOL_USAGE;
    }
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(main_usage, stdout);
        return MHD_OTEL_TOOL_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
            fputs("usage: mhd-otel version\n\nPrint \"mhd-otel VERSION\".\n", stdout);
            return MHD_OTEL_TOOL_OK;
        }
        if (argc > 2) {
            fprintf(stderr, "mhd-otel version: takes no arguments\n");
            return MHD_OTEL_TOOL_USAGE;
        }
        printf("mhd-otel %s\n", mhd_otel_tool_version());
        return MHD_OTEL_TOOL_OK;
    }
    if (strcmp(cmd, "check") == 0)
        return mhd_otel_tool_check(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(cmd, "view") == 0)
        return mhd_otel_tool_view(argc - 1, argv + 1, stdout, stderr);
    fprintf(stderr, "mhd-otel: unknown command \"%s\"\n%s", cmd, main_usage);
    return MHD_OTEL_TOOL_USAGE;
}
