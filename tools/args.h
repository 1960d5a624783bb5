/* args.h - option matching shared by the mhd-otel commands (args.c). */
#ifndef MHD_OTEL_TOOL_ARGS_H
#define MHD_OTEL_TOOL_ARGS_H

/* Whether argv[*i] is option name with a value ("--name VALUE", which moves *i on, or
 * "--name=VALUE"): 1 with *value set (borrowed from argv), 0 when it is another argument, -1 when
 * the value is missing. */
int mhd_otel_tool_opt(int argc, char **argv, int *i, const char *name, const char **value);

#endif
