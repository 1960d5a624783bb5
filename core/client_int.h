/* client_int.h - what the module's client metrics read of an outgoing
 * request's URL, as the CLIENT span reads it. Not a public header. */
#ifndef OTEL_CLIENT_INT_H
#define OTEL_CLIENT_INT_H

#include <stddef.h>

/* The host of url (without IPv6 brackets; *host_len 0: none) as a slice of
 * it, and its port: the explicit one, else the scheme's default (http when
 * there is no scheme), -1 when neither is known. */
void otel_client_url_server(const char *url, const char **host, size_t *host_len, long *port);

#endif /* OTEL_CLIENT_INT_H */
