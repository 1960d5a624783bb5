/* mhd_otel_curl.c - libcurl easy handles traced: a registry of instrumented
 * handles with the options their spans need, and the perform wrapper that
 * starts the CLIENT span, carries its headers and ends it. The interposers
 * of the shared library are in curl_preload.c. */
#include <mhd-otel/mhd_otel_curl.h>

#include <mhd-otel/client.h>

#include "http_metrics.h"
#include "../core/text.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../core/alloc.h"

#define N_BUCKETS 64
#define HEADER_MAX (OTEL_BAGGAGE_MAX_BYTES + 64) /* "name: value" of one header */

typedef enum curl_method { M_GET = 0, M_HEAD, M_POST, M_PUT } curl_method;

static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT"};

/* What is kept for one handle: an instrumented one, or one whose caller
 * set CURLOPT_HTTPHEADER through us before instrumenting it (libcurl has no
 * way to read that list back, and a perform must send it). */
typedef struct curl_state {
    struct curl_state *next;
    CURL *h;
    bool traced; /* instrumented */
    mhd_otel_curl_options opt;
    bool own_props; /* opt gave propagators: props; else the process's set */
    otel_propagators props;
    char *url;                  /* CURLOPT_URL (heap); NULL: not seen */
    char *custom;               /* CURLOPT_CUSTOMREQUEST (heap) or NULL */
    bool custom_lost;           /* it was set but could not be copied */
    curl_method method;         /* from POST, NOBODY, UPLOAD, HTTPGET */
    struct curl_slist *headers; /* the caller's CURLOPT_HTTPHEADER, borrowed */
} curl_state;

/* Headers being injected, collected by the carrier setter. */
typedef struct inject_list {
    struct curl_slist *list;
    bool failed;
} inject_list;

typedef CURLcode (*setopt_fn)(CURL *h, CURLoption option, ...);
typedef CURLcode (*perform_fn)(CURL *h);
typedef void (*handle_fn)(CURL *h);

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static curl_state *buckets[N_BUCKETS];
static atomic_size_t n_states; /* in the registry: 0 keeps every call on the fast path */

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static setopt_fn real_setopt;
static perform_fn real_perform;
static handle_fn real_cleanup;
static handle_fn real_reset;

#define NAME(c) [c] = #c
static const char *const code_names[] = {
    NAME(CURLE_OK),
    NAME(CURLE_UNSUPPORTED_PROTOCOL),
    NAME(CURLE_FAILED_INIT),
    NAME(CURLE_URL_MALFORMAT),
    NAME(CURLE_NOT_BUILT_IN),
    NAME(CURLE_COULDNT_RESOLVE_PROXY),
    NAME(CURLE_COULDNT_RESOLVE_HOST),
    NAME(CURLE_COULDNT_CONNECT),
    NAME(CURLE_WEIRD_SERVER_REPLY),
    NAME(CURLE_REMOTE_ACCESS_DENIED),
    NAME(CURLE_FTP_ACCEPT_FAILED),
    NAME(CURLE_FTP_WEIRD_PASS_REPLY),
    NAME(CURLE_FTP_ACCEPT_TIMEOUT),
    NAME(CURLE_FTP_WEIRD_PASV_REPLY),
    NAME(CURLE_FTP_WEIRD_227_FORMAT),
    NAME(CURLE_FTP_CANT_GET_HOST),
    NAME(CURLE_HTTP2),
    NAME(CURLE_FTP_COULDNT_SET_TYPE),
    NAME(CURLE_PARTIAL_FILE),
    NAME(CURLE_FTP_COULDNT_RETR_FILE),
    NAME(CURLE_OBSOLETE20),
    NAME(CURLE_QUOTE_ERROR),
    NAME(CURLE_HTTP_RETURNED_ERROR),
    NAME(CURLE_WRITE_ERROR),
    NAME(CURLE_OBSOLETE24),
    NAME(CURLE_UPLOAD_FAILED),
    NAME(CURLE_READ_ERROR),
    NAME(CURLE_OUT_OF_MEMORY),
    NAME(CURLE_OPERATION_TIMEDOUT),
    NAME(CURLE_OBSOLETE29),
    NAME(CURLE_FTP_PORT_FAILED),
    NAME(CURLE_FTP_COULDNT_USE_REST),
    NAME(CURLE_OBSOLETE32),
    NAME(CURLE_RANGE_ERROR),
    NAME(CURLE_HTTP_POST_ERROR),
    NAME(CURLE_SSL_CONNECT_ERROR),
    NAME(CURLE_BAD_DOWNLOAD_RESUME),
    NAME(CURLE_FILE_COULDNT_READ_FILE),
    NAME(CURLE_LDAP_CANNOT_BIND),
    NAME(CURLE_LDAP_SEARCH_FAILED),
    NAME(CURLE_OBSOLETE40),
    NAME(CURLE_FUNCTION_NOT_FOUND),
    NAME(CURLE_ABORTED_BY_CALLBACK),
    NAME(CURLE_BAD_FUNCTION_ARGUMENT),
    NAME(CURLE_OBSOLETE44),
    NAME(CURLE_INTERFACE_FAILED),
    NAME(CURLE_OBSOLETE46),
    NAME(CURLE_TOO_MANY_REDIRECTS),
    NAME(CURLE_UNKNOWN_OPTION),
    NAME(CURLE_SETOPT_OPTION_SYNTAX),
    NAME(CURLE_OBSOLETE50),
    NAME(CURLE_OBSOLETE51),
    NAME(CURLE_GOT_NOTHING),
    NAME(CURLE_SSL_ENGINE_NOTFOUND),
    NAME(CURLE_SSL_ENGINE_SETFAILED),
    NAME(CURLE_SEND_ERROR),
    NAME(CURLE_RECV_ERROR),
    NAME(CURLE_OBSOLETE57),
    NAME(CURLE_SSL_CERTPROBLEM),
    NAME(CURLE_SSL_CIPHER),
    NAME(CURLE_PEER_FAILED_VERIFICATION),
    NAME(CURLE_BAD_CONTENT_ENCODING),
    NAME(CURLE_OBSOLETE62),
    NAME(CURLE_FILESIZE_EXCEEDED),
    NAME(CURLE_USE_SSL_FAILED),
    NAME(CURLE_SEND_FAIL_REWIND),
    NAME(CURLE_SSL_ENGINE_INITFAILED),
    NAME(CURLE_LOGIN_DENIED),
    NAME(CURLE_TFTP_NOTFOUND),
    NAME(CURLE_TFTP_PERM),
    NAME(CURLE_REMOTE_DISK_FULL),
    NAME(CURLE_TFTP_ILLEGAL),
    NAME(CURLE_TFTP_UNKNOWNID),
    NAME(CURLE_REMOTE_FILE_EXISTS),
    NAME(CURLE_TFTP_NOSUCHUSER),
    NAME(CURLE_OBSOLETE75),
    NAME(CURLE_OBSOLETE76),
    NAME(CURLE_SSL_CACERT_BADFILE),
    NAME(CURLE_REMOTE_FILE_NOT_FOUND),
    NAME(CURLE_SSH),
    NAME(CURLE_SSL_SHUTDOWN_FAILED),
    NAME(CURLE_AGAIN),
    NAME(CURLE_SSL_CRL_BADFILE),
    NAME(CURLE_SSL_ISSUER_ERROR),
    NAME(CURLE_FTP_PRET_FAILED),
    NAME(CURLE_RTSP_CSEQ_ERROR),
    NAME(CURLE_RTSP_SESSION_ERROR),
    NAME(CURLE_FTP_BAD_FILE_LIST),
    NAME(CURLE_CHUNK_FAILED),
    NAME(CURLE_NO_CONNECTION_AVAILABLE),
    NAME(CURLE_SSL_PINNEDPUBKEYNOTMATCH),
    NAME(CURLE_SSL_INVALIDCERTSTATUS),
    NAME(CURLE_HTTP2_STREAM),
    NAME(CURLE_RECURSIVE_API_CALL),
    NAME(CURLE_AUTH_ERROR),
    NAME(CURLE_HTTP3),
    NAME(CURLE_QUIC_CONNECT_ERROR),
    NAME(CURLE_PROXY),
    NAME(CURLE_SSL_CLIENTCERT),
    NAME(CURLE_UNRECOVERABLE_POLL),
};
#undef NAME

/* ---- libcurl's own functions -------------------------------------------- */

/* The next definition past this object (the shared library interposes the
 * curl_easy_* names), else the one the linker bound. Function pointers from
 * dlsym: POSIX guarantees the conversion. */
static void *next_symbol(const char *name, void *linked)
{
    void *p = dlsym(RTLD_NEXT, name);
    return p != NULL ? p : linked;
}

static void resolve(void)
{
    *(void **)&real_setopt = next_symbol("curl_easy_setopt", (void *)curl_easy_setopt);
    *(void **)&real_perform = next_symbol("curl_easy_perform", (void *)curl_easy_perform);
    *(void **)&real_cleanup = next_symbol("curl_easy_cleanup", (void *)curl_easy_cleanup);
    *(void **)&real_reset = next_symbol("curl_easy_reset", (void *)curl_easy_reset);
}

static void resolve_real(void)
{
    pthread_once(&resolve_once, resolve);
}

/* ---- registry ----------------------------------------------------------- */

static size_t bucket_of(const CURL *h)
{
    uintptr_t v = (uintptr_t)h;
    return (size_t)((v >> 4) ^ (v >> 12)) % N_BUCKETS;
}

/* The state of h or NULL; reg_lock held. */
static curl_state *find_locked(const CURL *h)
{
    for (curl_state *s = buckets[bucket_of(h)]; s != NULL; s = s->next)
        if (s->h == h)
            return s;
    return NULL;
}

static curl_state *find(const CURL *h)
{
    if (h == NULL || atomic_load(&n_states) == 0)
        return NULL;
    pthread_mutex_lock(&reg_lock);
    curl_state *s = find_locked(h);
    pthread_mutex_unlock(&reg_lock);
    return s;
}

static void state_set_options(curl_state *s, const mhd_otel_curl_options *opt)
{
    if (opt != NULL)
        s->opt = *opt;
    else
        memset(&s->opt, 0, sizeof(s->opt));
    s->own_props = s->opt.propagators != NULL;
    if (s->own_props)
        s->props = *s->opt.propagators;
    s->opt.propagators = NULL; /* s->props is the copy */
}

static void state_clear_recorded(curl_state *s)
{
    otel_free(s->url);
    otel_free(s->custom);
    s->url = NULL;
    s->custom = NULL;
    s->custom_lost = false;
    s->method = M_GET;
}

/* The state of h, made when there is none; reg_lock held. NULL when out of
 * memory. */
static curl_state *get_locked(CURL *h)
{
    curl_state *s = find_locked(h);
    if (s != NULL)
        return s;
    s = otel_calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->h = h;
    size_t b = bucket_of(h);
    s->next = buckets[b];
    buckets[b] = s;
    atomic_fetch_add(&n_states, 1);
    return s;
}

/* Remove and free the state of h, if any. */
static void state_forget(CURL *h)
{
    if (h == NULL || atomic_load(&n_states) == 0)
        return;
    pthread_mutex_lock(&reg_lock);
    curl_state **pp = &buckets[bucket_of(h)];
    while (*pp != NULL && (*pp)->h != h)
        pp = &(*pp)->next;
    curl_state *s = *pp;
    if (s != NULL) {
        *pp = s->next;
        atomic_fetch_sub(&n_states, 1);
    }
    pthread_mutex_unlock(&reg_lock);
    if (s != NULL) {
        state_clear_recorded(s);
        otel_free(s);
    }
}

int mhd_otel_curl_instrument(CURL *h, const mhd_otel_curl_options *opt)
{
    if (h == NULL)
        return OTEL_ERR_INVALID;
    resolve_real();
    pthread_mutex_lock(&reg_lock);
    curl_state *s = get_locked(h);
    if (s != NULL) {
        s->traced = true;
        state_set_options(s, opt);
    }
    pthread_mutex_unlock(&reg_lock);
    return s != NULL ? OTEL_OK : OTEL_ERR_NOMEM;
}

void mhd_otel_curl_uninstrument(CURL *h)
{
    curl_state *s = find(h);
    if (s == NULL)
        return;
    if (s->headers == NULL) {
        state_forget(h);
        return;
    }
    /* The caller's header list stays known, for a later instrument. */
    pthread_mutex_lock(&reg_lock);
    s->traced = false;
    state_clear_recorded(s);
    pthread_mutex_unlock(&reg_lock);
}

int mhd_otel_curl_is_instrumented(CURL *h)
{
    curl_state *s = find(h);
    return s != NULL && s->traced;
}

/* ---- options ------------------------------------------------------------ */

/* Copy of str (NULL: NULL) replacing *slot. A failed copy leaves NULL: the
 * span then falls back to what libcurl reports. */
static void record_str(char **slot, const char *str)
{
    otel_free(*slot);
    *slot = str != NULL ? otel_strdup(str) : NULL;
}

static void record_long(curl_state *s, CURLoption option, long v)
{
    switch (option) {
    case CURLOPT_POST:
        s->method = v ? M_POST : M_GET;
        break;
    case CURLOPT_NOBODY:
        s->method = v ? M_HEAD : M_GET;
        break;
    case CURLOPT_UPLOAD:
        s->method = v ? M_PUT : M_GET;
        break;
    case CURLOPT_HTTPGET:
        if (v)
            s->method = M_GET;
        break;
    default:
        break;
    }
}

static void record_ptr(curl_state *s, CURLoption option, void *p)
{
    switch (option) {
    case CURLOPT_URL:
        record_str(&s->url, p);
        break;
    case CURLOPT_CUSTOMREQUEST:
        record_str(&s->custom, p);
        s->custom_lost = p != NULL && s->custom == NULL;
        break;
    case CURLOPT_POSTFIELDS:
    case CURLOPT_COPYPOSTFIELDS:
    case CURLOPT_MIMEPOST:
        s->method = M_POST;
        break;
    default:
        break;
    }
}

/* Remember the caller's CURLOPT_HTTPHEADER list of h, instrumented or not
 * yet: a perform puts it back after the traced one. A state that cannot be
 * made leaves h untraceable without losing its headers: an instrument of it
 * then fails with OTEL_ERR_NOMEM too. */
static void record_headers(CURL *h, struct curl_slist *list)
{
    pthread_mutex_lock(&reg_lock);
    curl_state *s = list != NULL ? get_locked(h) : find_locked(h);
    if (s != NULL)
        s->headers = list;
    bool idle = s != NULL && !s->traced && s->headers == NULL;
    pthread_mutex_unlock(&reg_lock);
    if (idle)
        state_forget(h);
}

CURLcode mhd_otel_curl_easy_setopt_va(CURL *h, CURLoption option, va_list ap)
{
    resolve_real();
    curl_state *s = find(h);
    if (s != NULL && !s->traced)
        s = NULL; /* known for its headers only */
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);
        if (s != NULL)
            record_long(s, option, v);
        return real_setopt(h, option, v);
    }
    if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB) {
        void *p = va_arg(ap, void *);
        CURLcode rc = real_setopt(h, option, p);
        if (rc == CURLE_OK && option == CURLOPT_HTTPHEADER)
            record_headers(h, p);
        else if (s != NULL && rc == CURLE_OK)
            record_ptr(s, option, p);
        return rc;
    }
    if (option < CURLOPTTYPE_OFF_T)
        return real_setopt(h, option, va_arg(ap, void (*)(void)));
    return real_setopt(h, option, va_arg(ap, curl_off_t));
}

CURLcode mhd_otel_curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLcode rc = mhd_otel_curl_easy_setopt_va(h, option, ap);
    va_end(ap);
    return rc;
}

/* ---- perform ------------------------------------------------------------ */

static void inject_set(void *carrier, const char *name, const char *value)
{
    inject_list *il = carrier;
    char line[HEADER_MAX];
    int n = snprintf(line, sizeof(line), "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    struct curl_slist *l = curl_slist_append(il->list, line);
    if (l == NULL) {
        il->failed = true;
        return;
    }
    il->list = l;
}

/* True when the header line hdr ("Name: value", "Name;") names one of the
 * injected headers. */
static bool is_injected(const inject_list *il, const char *hdr)
{
    size_t n = strcspn(hdr, ":;");
    for (const struct curl_slist *i = il->list; i != NULL; i = i->next)
        if (strncasecmp(i->data, hdr, n) == 0 && i->data[n] == ':')
            return true;
    return false;
}

/* The caller's headers without those injected, then the injected ones: a
 * new list (caller frees), or NULL when one could not be built. */
static struct curl_slist *merge_headers(const struct curl_slist *caller, const inject_list *il)
{
    struct curl_slist *out = NULL;
    for (const struct curl_slist *i = caller; i != NULL; i = i->next) {
        if (i->data == NULL || is_injected(il, i->data))
            continue;
        struct curl_slist *l = curl_slist_append(out, i->data);
        if (l == NULL)
            goto fail;
        out = l;
    }
    for (const struct curl_slist *i = il->list; i != NULL; i = i->next) {
        struct curl_slist *l = curl_slist_append(out, i->data);
        if (l == NULL)
            goto fail;
        out = l;
    }
    return out;
fail:
    curl_slist_free_all(out);
    return NULL;
}

/* The request's method; NULL when it is not known (a custom method that
 * could not be copied: the span says "HTTP" / "_OTHER" rather than a wrong
 * method). */
static const char *span_method(const curl_state *s)
{
    if (s->custom_lost)
        return NULL;
    return s->custom != NULL ? s->custom : method_names[s->method];
}

static const char *span_url(const curl_state *s, CURL *h)
{
    if (s->url != NULL)
        return s->url;
    char *u = NULL;
    if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &u) != CURLE_OK)
        return NULL;
    return u;
}

/* End span after a transfer of s that returned rc and began at t0
 * (otel_mono_ns), with http.client.request.duration. */
static void end_span(const curl_state *s, otel_span *span, CURL *h, CURLcode rc, uint64_t t0)
{
    long code = 0;
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
        code = 0;
    const char *err = NULL;
    if (rc != CURLE_OK && !(rc == CURLE_HTTP_RETURNED_ERROR && code >= 400))
        err = mhd_otel_curl_code_name(rc);
    mhd_otel_metrics *mm = mhd_otel_metrics_acquire();
    if (mm != NULL) {
        const char *method = otel_http_method_known(span_method(s));
        otel_span_context sc = otel_span_get_context(span);
        double secs = (double)(otel_mono_ns() - t0) / 1e9;
        mhd_otel_metrics_client(mm, method ? method : "_OTHER", span_url(s, h),
                                code > 0 && code < 1000 ? (unsigned)code : 0, err, secs, &sc);
        mhd_otel_metrics_release();
    }
    otel_client_span_end(span, (int)code, err);
}

static CURLcode traced_perform(curl_state *s, CURL *h)
{
    inject_list il = {NULL, false};
    otel_propagators props;
    if (s->own_props)
        props = s->props;
    else /* read at each perform: the config may come after the instrument */
        otel_propagators_global(&props);
    otel_span *span =
        otel_client_span_start(s->opt.tracer, span_method(s), span_url(s, h), &props, NULL, NULL);
    if (span == NULL)
        return real_perform(h);
    otel_client_inject(span, &props, s->opt.baggage, inject_set, &il);
    struct curl_slist *merged = NULL;
    if (il.list != NULL && !il.failed)
        merged = merge_headers(s->headers, &il);
    if (merged != NULL)
        real_setopt(h, CURLOPT_HTTPHEADER, merged);
    if (s->opt.request_hook != NULL)
        s->opt.request_hook(s->opt.user_data, span, h);
    otel_span *prev = otel_context_attach(span);
    uint64_t t0 = otel_mono_ns();
    CURLcode rc = real_perform(h);
    otel_context_detach(prev);
    if (merged != NULL)
        real_setopt(h, CURLOPT_HTTPHEADER, s->headers);
    curl_slist_free_all(merged);
    curl_slist_free_all(il.list);
    if (s->opt.response_hook != NULL)
        s->opt.response_hook(s->opt.user_data, span, h, rc);
    end_span(s, span, h, rc, t0);
    return rc;
}

CURLcode mhd_otel_curl_easy_perform(CURL *h)
{
    resolve_real();
    curl_state *s = find(h);
    if (s == NULL || !s->traced)
        return real_perform(h);
    return traced_perform(s, h);
}

void mhd_otel_curl_easy_cleanup(CURL *h)
{
    resolve_real();
    state_forget(h);
    real_cleanup(h);
}

void mhd_otel_curl_easy_reset(CURL *h)
{
    resolve_real();
    curl_state *s = find(h);
    if (s != NULL) { /* libcurl forgets every option, the header list too */
        state_clear_recorded(s);
        record_headers(h, NULL);
    }
    real_reset(h);
}

const char *mhd_otel_curl_code_name(CURLcode code)
{
    if ((size_t)code < sizeof(code_names) / sizeof(code_names[0]) && code_names[code] != NULL)
        return code_names[code];
    return "CURLE_UNKNOWN";
}
