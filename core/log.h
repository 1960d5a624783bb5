/* log.h - the library's own messages, handed to the function set with
 * otel_log_set. Not a public header. */
#ifndef OTEL_LOG_H
#define OTEL_LOG_H

#include "otel.h"

/* printf-style; cut at 1 KiB. */
void otel_log(otel_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* OTEL_LOG_H */
