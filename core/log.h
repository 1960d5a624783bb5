/* log.h - the library's own log line (log.c), sent to the function otel_log_set installed. Not a
 * public header. */
#ifndef OTEL_LOG_H
#define OTEL_LOG_H

#include <mhd-otel/otel.h>

/* Send a message to that function, printf-style, cut at 1 KiB: for
 * exporters and instrumentation built on the library. Control bytes (CR,
 * LF, ESC, ...), C1 controls and bytes that are not UTF-8 reach the log
 * function as \xNN, so that text from a peer (a collector's error message)
 * cannot forge or end a log line. */
void otel_log(otel_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* OTEL_LOG_H */
