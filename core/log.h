/* log.h - the library's default log function (otel_log itself is declared
 * in otel.h). Not a public header. */
#ifndef OTEL_LOG_H
#define OTEL_LOG_H

#include "otel.h"

/* Install fn unless the program set a log function already. Returns true
 * when fn was installed. */
bool otel_log_set_default(otel_log_fn fn, void *user_data);

#endif /* OTEL_LOG_H */
