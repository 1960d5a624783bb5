/* sampler.c - the specification's samplers: always, trace-id ratio and
 * parent-based. */
#include <mhd-otel/otel.h>

#include <string.h>

#define RANDOM_BITS 56
#define MAX_THRESHOLD (1ULL << RANDOM_BITS)

static const struct {
    const char *name;
    otel_sampler_kind kind;
} sampler_names[] = {
    {"always_on", OTEL_SAMPLER_ALWAYS_ON},
    {"always_off", OTEL_SAMPLER_ALWAYS_OFF},
    {"traceidratio", OTEL_SAMPLER_TRACEIDRATIO},
    {"parentbased_always_on", OTEL_SAMPLER_PARENTBASED_ALWAYS_ON},
    {"parentbased_always_off", OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF},
    {"parentbased_traceidratio", OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO},
};

#define N_SAMPLER_NAMES (sizeof(sampler_names) / sizeof(sampler_names[0]))

/* The trace id's rightmost 56 bits, the part W3C Trace Context level 2
 * declares random. */
static uint64_t trace_randomness(const uint8_t trace_id[16])
{
    uint64_t w; /* the last 8 bytes, big-endian: one load */
    memcpy(&w, trace_id + 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w & (MAX_THRESHOLD - 1);
}

/* Ratio decision: sampled when randomness >= rejection threshold, so a trace
 * sampled at a ratio is sampled at every higher ratio, in every service. */
static bool ratio_decision(const otel_sampler *s, const uint8_t trace_id[16])
{
    return trace_randomness(trace_id) >= s->threshold;
}

static bool root_decision(const otel_sampler *s, const uint8_t trace_id[16])
{
    switch (s->kind) {
    case OTEL_SAMPLER_ALWAYS_ON:
    case OTEL_SAMPLER_PARENTBASED_ALWAYS_ON:
        return true;
    case OTEL_SAMPLER_ALWAYS_OFF:
    case OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF:
        return false;
    case OTEL_SAMPLER_TRACEIDRATIO:
    case OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO:
        return ratio_decision(s, trace_id);
    }
    return false;
}

static bool is_parent_based(otel_sampler_kind kind)
{
    return kind == OTEL_SAMPLER_PARENTBASED_ALWAYS_ON ||
           kind == OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF ||
           kind == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO;
}

int otel_sampler_init(otel_sampler *s, otel_sampler_kind kind, double ratio)
{
    if (s == NULL || (unsigned)kind > OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO)
        return OTEL_ERR_INVALID;
    if (otel_sampler_needs_ratio(kind) && !(ratio >= 0.0 && ratio <= 1.0))
        return OTEL_ERR_RANGE;
    s->kind = kind;
    s->ratio = otel_sampler_needs_ratio(kind) ? ratio : 1.0;
    /* threshold = (1 - ratio) * 2^56, exact at both ends */
    if (s->ratio >= 1.0)
        s->threshold = 0;
    else if (s->ratio <= 0.0)
        s->threshold = MAX_THRESHOLD;
    else
        s->threshold = (uint64_t)((1.0 - s->ratio) * (double)MAX_THRESHOLD);
    return OTEL_OK;
}

int otel_sampler_kind_from_name(const char *name, otel_sampler_kind *out)
{
    for (size_t i = 0; name != NULL && i < N_SAMPLER_NAMES; i++) {
        if (strcmp(name, sampler_names[i].name) == 0) {
            *out = sampler_names[i].kind;
            return OTEL_OK;
        }
    }
    return OTEL_ERR_INVALID;
}

const char *otel_sampler_kind_name(otel_sampler_kind kind)
{
    for (size_t i = 0; i < N_SAMPLER_NAMES; i++)
        if (sampler_names[i].kind == kind)
            return sampler_names[i].name;
    return "unknown";
}

bool otel_sampler_needs_ratio(otel_sampler_kind kind)
{
    return kind == OTEL_SAMPLER_TRACEIDRATIO || kind == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO;
}

bool otel_sampler_should_sample(const otel_sampler *s, const otel_span_context *parent,
                                const uint8_t trace_id[16])
{
    if (is_parent_based(s->kind) && otel_span_context_is_valid(parent))
        /* Spec defaults: remote or local, a sampled parent gets always_on
         * children and an unsampled one always_off. */
        return (parent->trace_flags & OTEL_TRACE_FLAG_SAMPLED) != 0;
    return root_decision(s, trace_id);
}
