/* options.c - reads a caller's libmicrohttpd 0.9.75 option list (varargs and
 * MHD_OPTION_ARRAY) into an editable MHD_OptionItem array. */
#include "options.h"

#include <mhd-otel/otel.h>

#include <string.h>
#include "../core/alloc.h"

/* How an option's arguments are passed in varargs. */
typedef enum arg_shape {
    ARG_NONE = 0, /* unknown option */
    ARG_SIZE,     /* size_t */
    ARG_UINT,     /* unsigned int */
    ARG_INT,      /* int (or an enum, or MHD_socket) */
    ARG_PTR,      /* one pointer */
    ARG_PTR_PTR,  /* a function pointer and its closure */
    ARG_SIZE_PTR, /* size_t and a pointer */
    ARG_ARRAY     /* struct MHD_OptionItem * */
} arg_shape;

static arg_shape option_shape(int option)
{
    switch (option) {
    case MHD_OPTION_CONNECTION_MEMORY_LIMIT:
    case MHD_OPTION_THREAD_STACK_SIZE:
    case MHD_OPTION_CONNECTION_MEMORY_INCREMENT:
        return ARG_SIZE;
    case MHD_OPTION_CONNECTION_LIMIT:
    case MHD_OPTION_CONNECTION_TIMEOUT:
    case MHD_OPTION_PER_IP_CONNECTION_LIMIT:
    case MHD_OPTION_THREAD_POOL_SIZE:
    case MHD_OPTION_NONCE_NC_SIZE:
    case MHD_OPTION_TCP_FASTOPEN_QUEUE_SIZE:
    case MHD_OPTION_LISTENING_ADDRESS_REUSE:
    case MHD_OPTION_LISTEN_BACKLOG_SIZE:
    case MHD_OPTION_SERVER_INSANITY:
        return ARG_UINT;
    case MHD_OPTION_HTTPS_CRED_TYPE:
    case MHD_OPTION_LISTEN_SOCKET:
    case MHD_OPTION_STRICT_FOR_CLIENT:
    case MHD_OPTION_SIGPIPE_HANDLED_BY_APP:
    case MHD_OPTION_TLS_NO_ALPN:
        return ARG_INT;
    case MHD_OPTION_SOCK_ADDR:
    case MHD_OPTION_HTTPS_MEM_KEY:
    case MHD_OPTION_HTTPS_MEM_CERT:
    case MHD_OPTION_HTTPS_PRIORITIES:
    case MHD_OPTION_HTTPS_MEM_TRUST:
    case MHD_OPTION_HTTPS_CERT_CALLBACK:
    case MHD_OPTION_HTTPS_MEM_DHPARAMS:
    case MHD_OPTION_HTTPS_KEY_PASSWORD:
    case MHD_OPTION_HTTPS_CERT_CALLBACK2:
        return ARG_PTR;
    case MHD_OPTION_NOTIFY_COMPLETED:
    case MHD_OPTION_URI_LOG_CALLBACK:
    case MHD_OPTION_EXTERNAL_LOGGER:
    case MHD_OPTION_UNESCAPE_CALLBACK:
    case MHD_OPTION_NOTIFY_CONNECTION:
    case MHD_OPTION_GNUTLS_PSK_CRED_HANDLER:
        return ARG_PTR_PTR;
    case MHD_OPTION_DIGEST_AUTH_RANDOM:
        return ARG_SIZE_PTR;
    case MHD_OPTION_ARRAY:
        return ARG_ARRAY;
    default:
        return ARG_NONE;
    }
}

int mhd_otel_opts_add(mhd_otel_opts *o, enum MHD_OPTION option, intptr_t value, void *ptr)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct MHD_OptionItem *it = otel_realloc(o->items, cap * sizeof(*it));
        if (it == NULL)
            return OTEL_ERR_NOMEM;
        o->items = it;
        o->cap = cap;
    }
    o->items[o->n].option = option;
    o->items[o->n].value = value;
    o->items[o->n].ptr_value = ptr;
    o->n++;
    return OTEL_OK;
}

/* Keep one option, or take it when it is a callback the module chains. */
static int take(mhd_otel_opts *o, int option, intptr_t value, void *ptr)
{
    switch (option) {
    case MHD_OPTION_NOTIFY_COMPLETED:
        o->completed = (MHD_RequestCompletedCallback)value;
        o->completed_cls = ptr;
        return OTEL_OK;
    case MHD_OPTION_URI_LOG_CALLBACK:
        o->uri_log = (mhd_otel_uri_log_fn)value;
        o->uri_log_cls = ptr;
        return OTEL_OK;
    case MHD_OPTION_SOCK_ADDR:
        o->sock_addr = ptr;
        break;
    default:
        break;
    }
    return mhd_otel_opts_add(o, (enum MHD_OPTION)option, value, ptr);
}

static int read_array(mhd_otel_opts *o, const struct MHD_OptionItem *a, int depth)
{
    if (a == NULL || depth > 8)
        return OTEL_ERR_INVALID;
    for (; a->option != MHD_OPTION_END; a++) {
        int rc;
        if (a->option == MHD_OPTION_ARRAY)
            rc = read_array(o, a->ptr_value, depth + 1);
        else if (option_shape(a->option) == ARG_NONE) {
            o->unknown_option = (unsigned int)a->option;
            rc = OTEL_ERR_UNSUPPORTED;
        } else
            rc = take(o, a->option, a->value, a->ptr_value);
        if (rc != OTEL_OK)
            return rc;
    }
    return OTEL_OK;
}

int mhd_otel_opts_read(mhd_otel_opts *o, va_list ap)
{
    memset(o, 0, sizeof(*o));
    for (;;) {
        int option = va_arg(ap, int);
        if (option == MHD_OPTION_END)
            return OTEL_OK;
        intptr_t value = 0;
        void *ptr = NULL;
        int rc;
        switch (option_shape(option)) {
        case ARG_SIZE:
            value = (intptr_t)va_arg(ap, size_t);
            break;
        case ARG_UINT:
            value = (intptr_t)va_arg(ap, unsigned int);
            break;
        case ARG_INT:
            value = (intptr_t)va_arg(ap, int);
            break;
        case ARG_PTR:
            ptr = va_arg(ap, void *);
            break;
        case ARG_PTR_PTR:
            value = (intptr_t)va_arg(ap, void *);
            ptr = va_arg(ap, void *);
            break;
        case ARG_SIZE_PTR:
            value = (intptr_t)va_arg(ap, size_t);
            ptr = va_arg(ap, void *);
            break;
        case ARG_ARRAY:
            rc = read_array(o, va_arg(ap, const struct MHD_OptionItem *), 0);
            if (rc != OTEL_OK)
                return rc;
            continue;
        case ARG_NONE:
            o->unknown_option = (unsigned int)option;
            return OTEL_ERR_UNSUPPORTED;
        }
        rc = take(o, option, value, ptr);
        if (rc != OTEL_OK)
            return rc;
    }
}

int mhd_otel_opts_finish(mhd_otel_opts *o)
{
    int rc = mhd_otel_opts_add(o, MHD_OPTION_END, 0, NULL);
    if (rc == OTEL_OK)
        o->n--; /* the terminator stays in place but is not counted */
    return rc;
}

void mhd_otel_opts_free(mhd_otel_opts *o)
{
    otel_free(o->items);
    memset(o, 0, sizeof(*o));
}
