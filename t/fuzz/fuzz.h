/* fuzz.h - what the libFuzzer targets in t/fuzz share: the entry points,
 * property checks that abort with a message, and small input helpers. */
#ifndef MHD_OTEL_FUZZ_H
#define MHD_OTEL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mhd-otel/propagation.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Abort with the property that does not hold: libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property violated: %s: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* True when every one of the n bytes at s is printable ASCII (0x20-0x7e). */
static inline bool fuzz_printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return false;
    }
    return true;
}

/* True when s (n bytes) holds no control byte (< 0x20, 0x7f). */
static inline bool fuzz_no_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* True when the n bytes at p are all zero. */
static inline bool fuzz_all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

/* True when a and b hold the same members (keys, values, properties) in
 * the same order. */
static inline bool fuzz_same_baggage(const otel_baggage *a, const otel_baggage *b)
{
    size_t n = otel_baggage_count(a);
    if (otel_baggage_count(b) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        otel_baggage_member x, y;
        (void)otel_baggage_at(a, i, &x);
        (void)otel_baggage_at(b, i, &y);
        if (strcmp(x.key, y.key) != 0 || strcmp(x.value, y.value) != 0 ||
            strcmp(x.props, y.props) != 0)
            return false;
    }
    return true;
}

/* A reader over the fuzz input. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t left;
} fuzz_in;

/* The next byte (0 once the input is used up). */
static inline uint8_t fuzz_byte(fuzz_in *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* The next field up to a NUL byte (or the end), copied NUL-terminated into a
 * new buffer that the caller frees; *len gets its length. */
static inline char *fuzz_field(fuzz_in *in, size_t *len)
{
    const uint8_t *nul = in->left > 0 ? memchr(in->p, '\0', in->left) : NULL;
    size_t n = nul != NULL ? (size_t)(nul - in->p) : in->left;
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    if (n > 0)
        memcpy(s, in->p, n);
    s[n] = '\0';
    in->p += n;
    in->left -= n;
    if (nul != NULL) {
        in->p++;
        in->left--;
    }
    if (len != NULL)
        *len = n;
    return s;
}

/* A heap copy of n bytes at p with a NUL after them (ASan sees reads past
 * the n bytes). The caller frees it. */
static inline char *fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

#endif /* MHD_OTEL_FUZZ_H */
