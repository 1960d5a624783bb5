/* log.h - the library's own messages, handed to the function set with
 * otel_log_set. Not a public header. */
#ifndef OTEL_LOG_H
#define OTEL_LOG_H

#include "otel.h"

/* printf-style; cut at 1 KiB. Control bytes (CR, LF, ESC, ...), C1
 * controls and bytes that are not UTF-8 reach the log function as \xNN, so
 * that text from a peer (a collector's error message) cannot forge or end
 * a log line. */
void otel_log(otel_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Install fn unless the program set a log function already. Returns true
 * when fn was installed. */
bool otel_log_set_default(otel_log_fn fn, void *user_data);

#endif /* OTEL_LOG_H */
