/* console.h - the console exporter: ended spans as JSON lines or as a
 * readable block of text, on stdout, stderr or a file. */
#ifndef OTEL_CONSOLE_H
#define OTEL_CONSOLE_H

#include <mhd-otel/otel.h>

typedef enum otel_console_format {
    OTEL_CONSOLE_JSON = 0, /* one JSON object per line */
    OTEL_CONSOLE_PRETTY    /* for people reading a terminal */
} otel_console_format;

typedef struct otel_console otel_console;

/* A console exporter writing to output: "stdout", "stderr" or a file path
 * (opened for appending, created 0644). Returns 0, OTEL_ERR_NOMEM, or
 * OTEL_ERR_IO when the file cannot be opened (errno kept). Caller frees with
 * otel_console_del. */
int otel_console_new(otel_console **out, otel_console_format format, const char *output);
/* Closes a file it opened. NULL does nothing. */
void otel_console_del(otel_console *c);

/* An exporter writing through c, which it takes (also on failure): c is
 * freed with the exporter. Returns 0, OTEL_ERR_INVALID or OTEL_ERR_NOMEM.
 * Each export writes its whole batch before it returns; on a non-blocking
 * output it waits for room until the export's deadline. */
int otel_console_exporter(otel_console *c, otel_exporter **out);

/* One span as a JSON object on one line, without the newline, with its
 * resource (or {} when it has none). Returns a heap string the caller frees
 * with free(), or NULL when out of memory. */
char *otel_console_span_json(const otel_span_data *span);

#endif /* OTEL_CONSOLE_H */
