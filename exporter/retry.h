/* retry.h - the OTLP retry policy: which gRPC status codes are worth another
 * attempt, and how long to wait before it (exponential backoff with full
 * jitter, a server's RetryInfo delay taking precedence, never past the
 * export deadline). Pure functions over an injectable clock and random
 * source. Not a public header. */
#ifndef OTEL_RETRY_H
#define OTEL_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include <mhd-otel/otel.h>

/* A monotonic clock in nanoseconds. */
typedef uint64_t (*otel_retry_clock_fn)(void *user_data);
/* 64 uniformly random bits. */
typedef uint64_t (*otel_retry_rand_fn)(void *user_data);

/* The policy of the OTel SDKs (Java's RetryPolicy): the n-th wait (n from 0)
 * is drawn uniformly from [0, min(initial * multiplier^n, max)]. */
typedef struct otel_retry_policy {
    uint64_t min_backoff_ns;     /* 100 ms: no retry comes sooner, whatever the server says */
    uint64_t initial_backoff_ns; /* 1 s */
    uint64_t max_backoff_ns;     /* 5 s */
    uint32_t multiplier_pct;     /* 150: each ceiling 1.5 times the last; >= 100 */
    otel_retry_clock_fn clock;   /* otel_mono_ns by default */
    void *clock_ud;
    otel_retry_rand_fn rand; /* the core's id generator by default */
    void *rand_ud;
} otel_retry_policy;

#define OTEL_RETRY_MIN_BACKOFF_NS UINT64_C(100000000)
#define OTEL_RETRY_INITIAL_BACKOFF_NS UINT64_C(1000000000)
#define OTEL_RETRY_MAX_BACKOFF_NS UINT64_C(5000000000)
#define OTEL_RETRY_MULTIPLIER_PCT 150

/* Fill p with the default policy: the values above, the monotonic clock, the
 * core's random source; or, after otel_retry_policy_set_default, a copy of
 * the policy given there. */
void otel_retry_policy_default(otel_retry_policy *p);

/* Tests: make otel_retry_policy_default hand out a copy of p from now on
 * (short backoffs, a fake clock); NULL restores the spec's. Exporters copy
 * the default when they are created. */
void otel_retry_policy_set_default(const otel_retry_policy *p);

/* Whether an export that ended with gRPC status code is retried, per the
 * OTLP spec: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
 * UNAVAILABLE, DATA_LOSS always; RESOURCE_EXHAUSTED only when the server
 * sent RetryInfo (has_retry_info); nothing else (OK included). */
bool otel_retry_is_retryable(int code, bool has_retry_info);

/* The ceiling of the wait before retry number attempt (0 = the first
 * retry): min(initial * multiplier^attempt, max). Pure. */
uint64_t otel_retry_ceiling_ns(const otel_retry_policy *p, unsigned attempt);

/* Full jitter: r mapped onto [0, ceiling_ns]. Pure. */
uint64_t otel_retry_jitter_ns(uint64_t ceiling_ns, uint64_t r);

/* The wait before retry number attempt of an export that must be done by
 * deadline_ns (p's clock): server_delay_ns when the server sent RetryInfo
 * (not NULL), else a jittered backoff drawn from p's random source; never
 * less than p->min_backoff_ns (a server asking for 0 s, or a jitter of 0,
 * must not turn retries into a busy loop).
 * Returns 0 with *delay_ns when the retry would start before the deadline,
 * OTEL_ERR_TIMEOUT when it would not (then no retry is worth making). */
int otel_retry_next_delay(const otel_retry_policy *p, unsigned attempt, uint64_t deadline_ns,
                          const uint64_t *server_delay_ns, uint64_t *delay_ns);

#endif /* OTEL_RETRY_H */
