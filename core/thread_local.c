/* thread_local.c - the blocks of thread_local.h: made at a thread's first
 * use, listed per thread, freed (after their at_exit) by one key destructor
 * when it exits. */
#include "thread_local.h"

#include "alloc.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>

/* A block's header, before its memory. */
typedef struct block_head {
    struct block_head *next; /* the thread's blocks */
    const otel_thread_block *kind;
    void **slot;
    alignas(max_align_t) unsigned char mem[];
} block_head;

static OTEL_TLS block_head *tls_blocks;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_rc = -1;

/* At thread exit (and again should an at_exit make a block). */
static void on_thread_exit(void *arg)
{
    (void)arg;
    block_head *h;
    while ((h = tls_blocks) != NULL) {
        tls_blocks = h->next;
        if (h->kind->at_exit != NULL)
            h->kind->at_exit(h->mem);
        *h->slot = NULL;
        otel_free(h);
    }
}

static void make_key(void)
{
    key_rc = pthread_key_create(&exit_key, on_thread_exit);
}

void *otel_thread_block_make(const otel_thread_block *b, void **slot)
{
    pthread_once(&key_once, make_key);
    if (key_rc != 0)
        return NULL;
    block_head *h = otel_calloc(1, sizeof(*h) + b->size);
    if (h == NULL)
        return NULL;
    /* Any non-NULL value makes the destructor run; it reads tls_blocks. */
    if (pthread_setspecific(exit_key, h) != 0) {
        otel_free(h);
        return NULL;
    }
    h->kind = b;
    h->slot = slot;
    h->next = tls_blocks;
    tls_blocks = h;
    *slot = h->mem;
    return h->mem;
}
