/* curl_preload.c - libcurl's easy calls interposed in the shared library,
 * so that plain curl_easy_perform on an instrumented handle is traced (see
 * mhd_otel_curl.h). Kept out of libmhd-otel.a, like preload.c. */
#include <mhd-otel/mhd_otel_curl.h>

#include "interpose.h"

#undef curl_easy_setopt /* curl.h's type-checking macro */

MHD_OTEL_INTERPOSER CURLcode curl_easy_setopt(CURL *h, CURLoption option, ...)
{
    va_list ap;
    va_start(ap, option);
    CURLcode rc = mhd_otel_curl_easy_setopt_va(h, option, ap);
    va_end(ap);
    return rc;
}

MHD_OTEL_INTERPOSER CURLcode curl_easy_perform(CURL *h)
{
    return mhd_otel_curl_easy_perform(h);
}

MHD_OTEL_INTERPOSER void curl_easy_reset(CURL *h)
{
    mhd_otel_curl_easy_reset(h);
}

MHD_OTEL_INTERPOSER void curl_easy_cleanup(CURL *h)
{
    mhd_otel_curl_easy_cleanup(h);
}
