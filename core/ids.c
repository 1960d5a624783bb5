/* ids.c - trace and span ids from a per-thread generator, hex, and the clock. */
#include "ids.h"
#include "test_hooks.h"
#include "thread_local.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* SplitMix64 state, one per thread, reseeded from the OS after a fork so a
 * child never repeats its parent's ids. SplitMix64 (Steele, Lea and Flood,
 * "Fast splittable pseudorandom number generators", 2014) passes BigCrush,
 * and each of its 2^64 outputs comes once per period: about ten
 * instructions for 64 bits. Ids need no more: W3C Trace Context level 2
 * (trace-flags, the Random Trace ID flag) asks of a random trace id only
 * that its right-most 7 bytes be chosen randomly or pseudo-randomly, and
 * the traceidratio sampler reads those.
 *
 * Each thread steps by a gamma of its own, as the paper's split
 * generators do: with one gamma for all, two threads would walk the same
 * sequence from two random places, and one that came upon where another
 * had been would repeat its ids from there on. */
typedef struct id_state {
    uint64_t s;
    uint64_t gamma; /* odd */
    unsigned generation;
    bool seeded;
} id_state;

static OTEL_TLS id_state tls_ids;
static atomic_uint fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

otel_clock_fn otel_clock_override;
void *otel_clock_override_ud;

static void on_fork_child(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void install_atfork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

/* The next output of the generator at *x stepping by gamma. */
static inline uint64_t splitmix64(uint64_t *x, uint64_t gamma)
{
    uint64_t z = (*x += gamma);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

/* A gamma from z: odd, and with enough 01 and 10 bit pairs that the
 * sequence it steps through is well spread (the paper's mixGamma). */
static uint64_t gamma_of(uint64_t z)
{
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    z = (z ^ (z >> 33)) | 1;
    return __builtin_popcountll(z ^ (z >> 1)) < 24 ? z ^ 0xaaaaaaaaaaaaaaaaULL : z;
}

static void seed(id_state *st)
{
    uint64_t seedv[2] = {0, 0};
    ssize_t got = getrandom(seedv, sizeof(seedv), GRND_NONBLOCK);
    if (got != (ssize_t)sizeof(seedv)) {
        /* No entropy yet (very early boot): mix time, pid and address. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                     ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)st;
        seedv[0] ^= splitmix64(&x, GOLDEN_GAMMA);
        seedv[1] ^= splitmix64(&x, GOLDEN_GAMMA);
    }
    st->s = seedv[0];
    st->gamma = gamma_of(seedv[1]);
    st->seeded = true;
}

/* Seed the calling thread's generator (again after a fork). */
static __attribute__((noinline)) void reseed(id_state *st, unsigned gen)
{
    pthread_once(&atfork_once, install_atfork);
    seed(st);
    st->generation = gen;
}

/* The calling thread's generator, seeded (again after a fork). */
static inline id_state *ids(void)
{
    id_state *st = &tls_ids;
    unsigned gen = atomic_load_explicit(&fork_generation, memory_order_relaxed);
    if (__builtin_expect(!st->seeded || st->generation != gen, 0))
        reseed(st, gen);
    return st;
}

/* v big-endian into out[0..8). */
static void put64(uint8_t *out, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(out, &v, 8);
}

/* The ids below draw from a copy of the state (*x, stepping by g) and
 * store it back once: written through a byte pointer, an id could
 * otherwise be the state for all the compiler knows, and each draw would
 * load it again. */
static inline void trace_id_from(uint64_t *x, uint64_t g, uint8_t out[16])
{
    uint64_t hi, lo;
    do {
        hi = splitmix64(x, g);
        lo = splitmix64(x, g);
    } while (hi == 0 && lo == 0);
    put64(out, hi);
    put64(out + 8, lo);
}

static inline void span_id_from(uint64_t *x, uint64_t g, uint8_t out[8])
{
    uint64_t v;
    do {
        v = splitmix64(x, g);
    } while (v == 0);
    put64(out, v);
}

void otel_trace_id_new(uint8_t out[16])
{
    otel_ids_new(out, NULL);
}

void otel_span_id_new(uint8_t out[8])
{
    otel_ids_new(NULL, out);
}

void otel_ids_new(uint8_t trace_id[16], uint8_t span_id[8])
{
    id_state *st = ids();
    uint64_t x = st->s, g = st->gamma;
    if (trace_id != NULL)
        trace_id_from(&x, g, trace_id);
    if (span_id != NULL)
        span_id_from(&x, g, span_id);
    st->s = x;
}

void otel_ids_state_set(uint64_t s)
{
    ids()->s = s;
}

bool otel_span_context_is_valid(const otel_span_context *sc)
{
    static const uint8_t zero[16];
    return sc != NULL && memcmp(sc->trace_id, zero, 16) != 0 && memcmp(sc->span_id, zero, 8) != 0;
}

uint64_t otel_now_ns(void)
{
    otel_clock_fn fn = otel_clock_override;
    if (fn != NULL)
        return fn(otel_clock_override_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t otel_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
