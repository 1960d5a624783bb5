/* fuzz_retry_after.c - libFuzzer target of otel_otlp_http_retry_after, the
 * Retry-After value of an OTLP/HTTP answer. Input: one byte picking the
 * current time, then the value. */
#include "fuzz.h"

#include "../../exporter/otlp_http.h"

#define NS UINT64_C(1000000000)
/* The longest delay the parser gives, in seconds ("as good as never"). */
#define MAX_S (UINT64_C(1) << 32)
/* Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110. */
#define BASE_UNIX INT64_C(784111777)

/* The current time the first byte picks: mostly within some 34 years of
 * the RFC's example date, sometimes an extreme, or 8 more bytes as is. */
static int64_t pick_now(fuzz_in *in)
{
    uint8_t b = fuzz_byte(in);
    switch (b) {
    case 0xff:
        return INT64_MAX;
    case 0xfe:
        return INT64_MIN;
    case 0xfd:
        return 0;
    case 0xfc: {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = v << 8 | fuzz_byte(in);
        return (int64_t)v;
    }
    default:
        return BASE_UNIX + ((int64_t)b - 128) * 8388608;
    }
}

/* The delay the parser should give for a date t seconds since the epoch. */
static uint64_t delay_to(int64_t t, int64_t now)
{
    if (t <= now)
        return 0;
    uint64_t s = (uint64_t)t - (uint64_t)now;
    return (s < MAX_S ? s : MAX_S) * NS;
}

static int index_of(const char *s, size_t n, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strncmp(s, names[i], n) == 0)
            return i;
    return -1;
}

static bool two_digits(const char *s, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* An independent reading of the preferred form, IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT"), for a real date in 1970-9999: false
 * when s (n bytes) is not that. */
static bool imf_fixdate(const char *s, size_t n, int64_t *out)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int d, mon, y1, y2, h, mi, sec;
    if (n != 29 || index_of(s, 3, days, 7) < 0 || strncmp(s + 3, ", ", 2) != 0 || s[7] != ' ' ||
        s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
        strncmp(s + 25, " GMT", 4) != 0)
        return false;
    mon = index_of(s + 8, 3, months, 12);
    if (mon < 0 || !two_digits(s + 5, &d) || !two_digits(s + 12, &y1) || !two_digits(s + 14, &y2) ||
        !two_digits(s + 17, &h) || !two_digits(s + 20, &mi) || !two_digits(s + 23, &sec))
        return false;
    int y = y1 * 100 + y2;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int last = mdays[mon] + (mon == 1 && leap);
    if (y < 1970 || d < 1 || d > last || h > 23 || mi > 59 || sec > 59)
        return false;
    *out = days_from_civil(y, mon + 1, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* The value the parser reads: without the spaces and tabs around it. */
static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* delay-seconds (RFC 9110: 1*DIGIT), read independently: false when s is
 * not all digits; a number past MAX_S is MAX_S. */
static bool delay_seconds(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v < MAX_S)
            v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v < MAX_S ? v : MAX_S;
    return true;
}

static int parse(const char *v, int64_t now, uint64_t *delay)
{
    *delay = UINT64_C(0xa5a5a5a5a5a5a5a5);
    int rc = otel_otlp_http_retry_after(v, now, delay);
    FUZZ_CHECK(rc == OTEL_OK || rc == OTEL_ERR_PARSE, "rc %d for \"%s\"", rc, v);
    if (rc == OTEL_OK)
        FUZZ_CHECK(*delay % NS == 0 && *delay <= MAX_S * NS, "delay %llu ns for \"%s\"",
                   (unsigned long long)*delay, v);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    int64_t now = pick_now(&in);
    char *v = fuzz_strndup(in.p, in.left); /* read up to its first NUL */
    const char *t = v;
    size_t n = strlen(v);
    trim(&t, &n);

    uint64_t d = 0, again = 0, want = 0;
    int rc = parse(v, now, &d);
    FUZZ_CHECK(parse(v, now, &again) == rc && (rc != OTEL_OK || again == d),
               "a second parse of \"%s\" differs", v);
    if (n == 0)
        FUZZ_CHECK(rc == OTEL_ERR_PARSE, "blank value \"%s\" accepted", v);

    if (n > 0 && t[0] >= '0' && t[0] <= '9') {
        /* delay-seconds: no HTTP-date starts with a digit */
        bool ok = delay_seconds(t, n, &want);
        FUZZ_CHECK((rc == OTEL_OK) == ok, "\"%s\": rc %d", v, rc);
        if (ok) {
            FUZZ_CHECK(d == want * NS, "\"%s\" is %llu s, not %llu", v,
                       (unsigned long long)(d / NS), (unsigned long long)want);
            int64_t other = now ^ INT64_C(0x5555555555);
            FUZZ_CHECK(parse(v, other, &again) == OTEL_OK && again == d,
                       "\"%s\" depends on the time", v);
        }
        free(v);
        return 0;
    }

    /* An HTTP-date: the delay is from now, whole seconds, never negative. */
    int64_t when;
    if (imf_fixdate(t, n, &when)) {
        FUZZ_CHECK(rc == OTEL_OK, "IMF-fixdate \"%s\" refused", v);
        FUZZ_CHECK(d == delay_to(when, now), "\"%s\" at %lld: %llu s, not %llu", v, (long long)now,
                   (unsigned long long)(d / NS), (unsigned long long)(delay_to(when, now) / NS));
    }
    if (n >= 64)
        FUZZ_CHECK(rc == OTEL_ERR_PARSE, "%zu bytes read as a date", n);
    if (rc == OTEL_OK) {
        static const int64_t ks[] = {1, 7, 3600, 86400 * 400};
        for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
            int64_t k = ks[i];
            if (now > INT64_MAX - k)
                break;
            uint64_t later = 0;
            FUZZ_CHECK(parse(v, now + k, &later) == OTEL_OK, "\"%s\" refused %lld s later", v,
                       (long long)k);
            /* k seconds later, k seconds less, down to 0; a delay at the
             * cap may have been longer. */
            uint64_t kn = (uint64_t)k * NS;
            if (d < MAX_S * NS)
                FUZZ_CHECK(
                    later == (d > kn ? d - kn : 0), "\"%s\": %llu s, then %llu s %lld s later", v,
                    (unsigned long long)(d / NS), (unsigned long long)(later / NS), (long long)k);
            else
                FUZZ_CHECK(later <= d && later + kn >= d, "\"%s\": capped delay, then %llu s", v,
                           (unsigned long long)(later / NS));
        }
    }
    free(v);
    return 0;
}
