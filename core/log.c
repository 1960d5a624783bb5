/* log.c - routes the library's own messages to the function set by the
 * embedding program, with every control byte escaped. */

#include <mhd-otel/otel.h>
#include "text.h"
#include "utf8.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

#define LOG_MAX 1024 /* bytes of a message, NUL included */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER; /* guards the pair below */
static otel_log_fn log_fn;
static void *log_ud;

void otel_log_set(otel_log_fn fn, void *user_data)
{
    pthread_mutex_lock(&log_mu);
    log_ud = user_data;
    log_fn = fn;
    pthread_mutex_unlock(&log_mu);
}

bool otel_log_set_default(otel_log_fn fn, void *user_data)
{
    pthread_mutex_lock(&log_mu);
    bool set = log_fn == NULL;
    if (set) {
        log_ud = user_data;
        log_fn = fn;
    }
    pthread_mutex_unlock(&log_mu);
    return set;
}

/* Bytes of the character at p (n left) that may go out as they are: a
 * printable ASCII byte, or a whole UTF-8 sequence of a code point from
 * U+00A0 on (U+0080 to U+009F are the C1 controls). 0: escape the byte. */
static size_t printable_len(const unsigned char *p, size_t n)
{
    if (p[0] >= 0x20 && p[0] < 0x7f)
        return 1;
    if (p[0] < 0x80)
        return 0;
    size_t k = otel_utf8_seq_len(p, n);
    if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0)
        return 0;
    return k;
}

/* src (len bytes) into out (LOG_MAX bytes, NUL-terminated) with each byte
 * that could end a line or drive a terminal (CR, LF, ESC, any control,
 * bytes that are not UTF-8) written as \xNN. Stops before a character that
 * does not fit. */
static void escape(const char *src, size_t len, char *out)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t k = printable_len(p + i, len - i);
        if (k > 0) {
            if (o + k >= LOG_MAX)
                break;
            for (size_t j = 0; j < k; j++)
                out[o++] = (char)p[i + j];
            i += k;
            continue;
        }
        if (o + 4 >= LOG_MAX)
            break;
        out[o++] = '\\';
        out[o++] = 'x';
        otel_hex_put(out + o, p[i], false);
        o += 2;
        i++;
    }
    out[o] = '\0';
}

void otel_log(otel_log_level level, const char *fmt, ...)
{
    pthread_mutex_lock(&log_mu);
    otel_log_fn fn = log_fn;
    void *ud = log_ud;
    pthread_mutex_unlock(&log_mu);
    if (fn == NULL)
        return;
    char raw[LOG_MAX];
    char msg[LOG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    escape(raw, (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1, msg);
    fn(ud, level, msg);
}
