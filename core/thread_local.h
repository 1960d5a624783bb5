/* thread_local.h - per-thread storage: the model of the library's thread
 * variables, and blocks of memory made for a thread at its first use and
 * freed when it exits. Not a public header. */
#ifndef OTEL_THREAD_LOCAL_H
#define OTEL_THREAD_LOCAL_H

#include <stddef.h>

/* A thread variable of the library. In a shared library the default model
 * makes each access a call to __tls_get_addr; initial-exec makes it a load
 * off the thread pointer. Its variables are then in the static TLS block,
 * which a library loaded by dlopen after the program started takes from
 * the little room glibc keeps for that (glibc.rtld.optional_static_tls,
 * 512 bytes by default): the library's thread variables stay small, under
 * OTEL_TLS_MAX bytes in all (test_static_tls checks it), and what is big is an
 * otel_thread_block. */
#define OTEL_TLS __attribute__((tls_model("initial-exec"))) _Thread_local
#define OTEL_TLS_MAX 256

/* What a thread's block is made of; one static object per kind. */
typedef struct otel_thread_block {
    size_t size;                /* bytes, zeroed at first use */
    void (*at_exit)(void *mem); /* run on the block at thread exit, or NULL */
} otel_thread_block;

/* The calling thread's block of kind b, made now (zeroed) when *slot is
 * NULL; slot is the caller's thread variable that keeps it, set to NULL
 * again when the thread exits. NULL when memory ran out (the caller does
 * without; a later call tries again). */
void *otel_thread_block_make(const otel_thread_block *b, void **slot);

static inline void *otel_thread_block_get(const otel_thread_block *b, void **slot)
{
    void *mem = *slot;
    return mem != NULL ? mem : otel_thread_block_make(b, slot);
}

#endif /* OTEL_THREAD_LOCAL_H */
