/* retry.c - the OTLP retry policy: retryable codes and jittered exponential
 * backoff bounded by the export deadline. */
#include "retry.h"

#include "grpc.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static bool default_overridden; /* under default_lock */
static otel_retry_policy default_override;

/* ---- helpers ------------------------------------------------------------ */

static uint64_t clock_monotonic(void *user_data)
{
    (void)user_data;
    return otel_mono_ns();
}

/* 64 random bits from the core's per-thread generator. */
static uint64_t rand_core(void *user_data)
{
    (void)user_data;
    uint8_t b[8];
    otel_span_id_new(b);
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = r << 8 | b[i];
    return r;
}

/* ---- API ---------------------------------------------------------------- */

void otel_retry_policy_default(otel_retry_policy *p)
{
    pthread_mutex_lock(&default_lock);
    if (default_overridden) {
        *p = default_override;
        pthread_mutex_unlock(&default_lock);
        return;
    }
    pthread_mutex_unlock(&default_lock);
    memset(p, 0, sizeof(*p));
    p->min_backoff_ns = OTEL_RETRY_MIN_BACKOFF_NS;
    p->initial_backoff_ns = OTEL_RETRY_INITIAL_BACKOFF_NS;
    p->max_backoff_ns = OTEL_RETRY_MAX_BACKOFF_NS;
    p->multiplier_pct = OTEL_RETRY_MULTIPLIER_PCT;
    p->clock = clock_monotonic;
    p->rand = rand_core;
}

void otel_retry_policy_set_default(const otel_retry_policy *p)
{
    pthread_mutex_lock(&default_lock);
    default_overridden = p != NULL;
    if (p != NULL) {
        default_override = *p;
        if (default_override.clock == NULL)
            default_override.clock = clock_monotonic;
        if (default_override.rand == NULL)
            default_override.rand = rand_core;
    }
    pthread_mutex_unlock(&default_lock);
}

bool otel_retry_is_retryable(int code, bool has_retry_info)
{
    switch (code) {
    case OTEL_GRPC_CANCELLED:
    case OTEL_GRPC_DEADLINE_EXCEEDED:
    case OTEL_GRPC_ABORTED:
    case OTEL_GRPC_OUT_OF_RANGE:
    case OTEL_GRPC_UNAVAILABLE:
    case OTEL_GRPC_DATA_LOSS:
        return true;
    case OTEL_GRPC_RESOURCE_EXHAUSTED:
        return has_retry_info;
    default:
        return false;
    }
}

uint64_t otel_retry_ceiling_ns(const otel_retry_policy *p, unsigned attempt)
{
    uint64_t c = p->initial_backoff_ns;
    uint32_t m = p->multiplier_pct < 100 ? 100 : p->multiplier_pct;
    for (unsigned i = 0; i < attempt && c < p->max_backoff_ns; i++) {
        if (c > UINT64_MAX / m) {
            c = p->max_backoff_ns;
            break;
        }
        c = c * m / 100;
    }
    return c < p->max_backoff_ns ? c : p->max_backoff_ns;
}

uint64_t otel_retry_jitter_ns(uint64_t ceiling_ns, uint64_t r)
{
    if (ceiling_ns == UINT64_MAX)
        return r;
    return r % (ceiling_ns + 1);
}

int otel_retry_next_delay(const otel_retry_policy *p, unsigned attempt, uint64_t deadline_ns,
                          const uint64_t *server_delay_ns, uint64_t *delay_ns)
{
    uint64_t now = p->clock(p->clock_ud);
    uint64_t d;
    if (server_delay_ns != NULL)
        d = *server_delay_ns;
    else
        d = otel_retry_jitter_ns(otel_retry_ceiling_ns(p, attempt), p->rand(p->rand_ud));
    if (d < p->min_backoff_ns)
        d = p->min_backoff_ns;
    if (now >= deadline_ns || d >= deadline_ns - now)
        return OTEL_ERR_TIMEOUT;
    *delay_ns = d;
    return OTEL_OK;
}
