/* duration.c - durations of the mhd-otel tool: read from an option, written in human units. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/* The nanoseconds of one unit named by s (n bytes), 0 when it is none. */
static uint64_t unit_ns(const char *s, size_t n)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {{"ns", 1},         {"us", 1000},          {"\xc2\xb5s", 1000},    {"ms", 1000000},
                 {"s", 1000000000}, {"m", 60000000000ULL}, {"h", 3600000000000ULL}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
            return units[i].ns;
    return 0;
}

int mhd_otel_tool_duration_parse(const char *s, uint64_t *ns)
{
    uint64_t whole = 0, frac = 0, scale = 1;
    const char *p = s;
    if (s == NULL || *p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return -1;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (scale < 1000000000ULL) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
    }
    uint64_t unit = *p == '\0' ? 1000000 : unit_ns(p, strlen(p)); /* plain: milliseconds */
    if (unit == 0 || (whole != 0 && whole > UINT64_MAX / unit))
        return -1;
    *ns = whole * unit + frac * unit / scale;
    return 0;
}

const char *mhd_otel_tool_duration_format(uint64_t ns, char *buf, size_t cap)
{
    static const struct {
        uint64_t ns;
        const char *unit;
    } units[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "\xc2\xb5s"}};
    if (ns < 1000) {
        snprintf(buf, cap, "%" PRIu64 "ns", ns);
        return buf;
    }
    if (ns >= 60000000000ULL) {
        uint64_t s = ns / 1000000000ULL;
        snprintf(buf, cap, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
        return buf;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (ns < units[i].ns)
            continue;
        double v = (double)ns / (double)units[i].ns;
        int prec = v < 10 ? 2 : v < 100 ? 1 : 0;
        snprintf(buf, cap, "%.*f%s", prec, v, units[i].unit);
        return buf;
    }
    return buf;
}
