/* otlp_http.c - OTLP/HTTP requests through libcurl: one easy handle per
 * exporter, its options set once, a POST per export attempt. */
#include "otlp_http.h"

#include <curl/curl.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "../core/alloc.h"

struct otel_otlp_http {
    CURL *curl;
    struct curl_slist *headers; /* owned */
    char *url;                  /* owned */
    bool https;
    char *ca_file, *cert_file, *key_file; /* owned copies; NULL: none */
    bool no_verify;
    uint64_t connects;

    uint8_t *body; /* OTEL_OTLP_HTTP_BODY_MAX bytes, owned */
    size_t body_len;
    bool body_cut;
    char errbuf[CURL_ERROR_SIZE];
};

/* The longest Retry-After delay, in seconds: more than a century, as good
 * as never (and within a uint64 in nanoseconds). */
#define RETRY_AFTER_MAX_S (UINT64_C(1) << 32)

/* ---- helpers ------------------------------------------------------------- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    otel_otlp_http *h = ud;
    size_t len = size * n;
    size_t room = OTEL_OTLP_HTTP_BODY_MAX - h->body_len;
    size_t keep = len < room ? len : room;
    memcpy(h->body + h->body_len, data, keep);
    h->body_len += keep;
    if (keep < len)
        h->body_cut = true;
    return len; /* the rest is read and dropped: the connection stays usable */
}

/* Whether libcurl can parse url and its scheme is http or https: 0,
 * OTEL_ERR_INVALID (err says why) or OTEL_ERR_NOMEM. */
static int check_url(const char *url, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    if (u == NULL) {
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    char *scheme = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OK)
        uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    int rc = OTEL_OK;
    if (uc == CURLUE_OUT_OF_MEMORY) {
        snprintf(err, errlen, "out of memory");
        rc = OTEL_ERR_NOMEM;
    } else if (uc != CURLUE_OK) {
        snprintf(err, errlen, "the OTLP/HTTP URL is not one libcurl can use: %s",
                 curl_url_strerror(uc));
        rc = OTEL_ERR_INVALID;
    } else if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        snprintf(err, errlen, "the OTLP/HTTP URL must start with http:// or https://");
        rc = OTEL_ERR_INVALID;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? otel_strdup(s) : NULL;
}

/* A handle with every option of h set. */
static int configure(otel_otlp_http *h)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return OTEL_ERR_NOMEM;
    bool ok = true;
#define SET(opt, val) ok = ok && curl_easy_setopt(c, opt, val) == CURLE_OK
    SET(CURLOPT_URL, h->url);
    SET(CURLOPT_NOSIGNAL, 1L); /* called from a worker thread */
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, h);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    /* HTTP/2 when TLS offers it by ALPN, HTTP/1.1 in cleartext. */
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* any compression curl can undo */
    if (h->https) {
        SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
        SET(CURLOPT_SSL_VERIFYPEER, h->no_verify ? 0L : 1L);
        SET(CURLOPT_SSL_VERIFYHOST, h->no_verify ? 0L : 2L);
        if (h->ca_file != NULL) {
            SET(CURLOPT_CAINFO, h->ca_file);
            SET(CURLOPT_CAPATH, NULL);
        }
        if (h->cert_file != NULL) {
            SET(CURLOPT_SSLCERT, h->cert_file);
            SET(CURLOPT_SSLCERTTYPE, "PEM");
            SET(CURLOPT_SSLKEY, h->key_file);
            SET(CURLOPT_SSLKEYTYPE, "PEM");
        }
    }
#undef SET
    if (!ok) {
        curl_easy_cleanup(c);
        return OTEL_ERR_NOMEM;
    }
    h->curl = c;
    return OTEL_OK;
}

/* Whether code (with the message curl gave) is a TLS failure. */
static bool tls_failure(const otel_otlp_http *h, CURLcode code)
{
    switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CLIENTCERT:
        return true;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        /* A TLS 1.3 server refusing our certificate says so in an alert
         * that arrives with the first read. */
        return h->https && strstr(h->errbuf, "SSL") != NULL;
    default:
        return false;
    }
}

/* ---- API ----------------------------------------------------------------- */

int otel_otlp_http_retry_after(const char *value, int64_t now_unix, uint64_t *delay_ns)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen(value);
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (len == 0)
        return OTEL_ERR_PARSE;
    if (value[0] >= '0' && value[0] <= '9') {
        uint64_t s = 0;
        for (size_t i = 0; i < len; i++) {
            if (value[i] < '0' || value[i] > '9')
                return OTEL_ERR_PARSE;
            s = s * 10 + (uint64_t)(value[i] - '0');
            if (s > RETRY_AFTER_MAX_S)
                s = RETRY_AFTER_MAX_S;
        }
        *delay_ns = s * UINT64_C(1000000000);
        return OTEL_OK;
    }
    char date[64];
    if (len >= sizeof(date))
        return OTEL_ERR_PARSE;
    memcpy(date, value, len);
    date[len] = '\0';
    time_t t = curl_getdate(date, NULL);
    if (t == (time_t)-1)
        return OTEL_ERR_PARSE;
    /* The difference of two int64 fits in a uint64; a far date is capped
     * as delay-seconds are. */
    uint64_t s = (int64_t)t > now_unix ? (uint64_t)(int64_t)t - (uint64_t)now_unix : 0;
    *delay_ns = (s < RETRY_AFTER_MAX_S ? s : RETRY_AFTER_MAX_S) * UINT64_C(1000000000);
    return OTEL_OK;
}

int otel_otlp_http_new(otel_otlp_http **out, const char *url, const char *const *headers, size_t n,
                       const otel_tls_config *tls, char *err, size_t errlen)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(global_rc));
        return OTEL_ERR_NOMEM;
    }
    int rc = check_url(url, err, errlen);
    if (rc != OTEL_OK)
        return rc;
    otel_otlp_http *h = otel_calloc(1, sizeof(*h));
    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    h->https = strncasecmp(url, "https://", 8) == 0;
    h->url = otel_strdup(url);
    h->body = otel_malloc(OTEL_OTLP_HTTP_BODY_MAX);
    bool ok = h->url != NULL && h->body != NULL;
    if (ok && tls != NULL) {
        h->no_verify = tls->no_verify;
        h->ca_file = dup_or_null(tls->ca_file);
        h->cert_file = dup_or_null(tls->cert_file);
        h->key_file = dup_or_null(tls->key_file);
        ok = (tls->ca_file == NULL || h->ca_file != NULL) &&
             (tls->cert_file == NULL || h->cert_file != NULL) &&
             (tls->key_file == NULL || h->key_file != NULL);
    }
    /* curl would add "Expect: 100-continue" to a large HTTP/1.1 POST and
     * wait for an answer most receivers never send. */
    struct curl_slist *l = ok ? curl_slist_append(NULL, "Expect:") : NULL;
    ok = l != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        struct curl_slist *more = curl_slist_append(l, headers[i]);
        ok = more != NULL;
        if (ok)
            l = more;
    }
    h->headers = l;
    if (ok && configure(h) != OTEL_OK)
        ok = false;
    if (!ok) {
        otel_otlp_http_del(h);
        snprintf(err, errlen, "out of memory");
        return OTEL_ERR_NOMEM;
    }
    *out = h;
    return OTEL_OK;
}

void otel_otlp_http_del(otel_otlp_http *h)
{
    if (h == NULL)
        return;
    if (h->curl != NULL)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    otel_free(h->url);
    otel_free(h->ca_file);
    otel_free(h->cert_file);
    otel_free(h->key_file);
    otel_free(h->body);
    otel_free(h);
}

void otel_otlp_http_after_fork(otel_otlp_http *h)
{
    /* The parent's handle is dropped without a cleanup: its connections'
     * sockets and TLS state are the parent's. One handle's memory per fork
     * is the price. */
    h->curl = NULL;
    (void)configure(h); /* out of memory: the next post says so */
}

int otel_otlp_http_post(otel_otlp_http *h, const uint8_t *body, size_t len, uint64_t deadline,
                        otel_otlp_http_result *r)
{
    memset(r, 0, sizeof(*r));
    if (h->curl == NULL && configure(h) != OTEL_OK) {
        snprintf(r->err, sizeof(r->err), "out of memory");
        return OTEL_ERR_NOMEM;
    }
    uint64_t now = otel_mono_ns();
    if (now >= deadline) {
        snprintf(r->err, sizeof(r->err), "the export timeout passed");
        return OTEL_ERR_TIMEOUT;
    }
    uint64_t ms = (deadline - now + 999999) / 1000000;
    long tmo = ms > LONG_MAX ? LONG_MAX : (long)ms;
    h->body_len = 0;
    h->body_cut = false;
    h->errbuf[0] = '\0';
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, tmo);
    CURLcode code = curl_easy_perform(c);
    long conns = 0;
    if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK && conns > 0)
        h->connects += (uint64_t)conns;
    r->body = h->body;
    r->body_len = h->body_len;
    r->body_cut = h->body_cut;
    if (code != CURLE_OK) {
        r->tls = tls_failure(h, code);
        snprintf(r->err, sizeof(r->err), "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(code));
        if (code == CURLE_OUT_OF_MEMORY)
            return OTEL_ERR_NOMEM;
        return code == CURLE_OPERATION_TIMEDOUT ? OTEL_ERR_TIMEOUT : OTEL_ERR_IO;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
        r->content_type = ct;
    struct curl_header *ra = NULL;
    if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &ra) == CURLHE_OK &&
        otel_otlp_http_retry_after(ra->value, (int64_t)time(NULL), &r->retry_after_ns) == OTEL_OK)
        r->has_retry_after = true;
    return OTEL_OK;
}

uint64_t otel_otlp_http_connects(const otel_otlp_http *h)
{
    return h->connects;
}
