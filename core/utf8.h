/* utf8.h - UTF-8 validation shared by the core. Not a public header. */
#ifndef OTEL_UTF8_H
#define OTEL_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0 when the
 * bytes there are not one: NUL, overlong forms, surrogates and values over
 * U+10FFFF are refused. */
size_t otel_utf8_seq_len(const unsigned char *s, size_t n);

#endif /* OTEL_UTF8_H */
