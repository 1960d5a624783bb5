/* log.c - routes the library's own messages to the function set by the
 * embedding program. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static otel_log_fn log_fn;
static void *log_ud;

void otel_log_set(otel_log_fn fn, void *user_data)
{
    log_ud = user_data;
    log_fn = fn;
}

void otel_log(otel_log_level level, const char *fmt, ...)
{
    otel_log_fn fn = log_fn;
    if (fn == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fn(log_ud, level, msg);
}
