/* resolve.h - host name lookups that end by a deadline: numeric addresses
 * at once, names in a helper thread the caller stops waiting for when the
 * deadline passes. */
#ifndef OTEL_RESOLVE_H
#define OTEL_RESOLVE_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

/* The TCP addresses of host (a name, an IPv4 address, an IPv6 address
 * without brackets) and port (digits), by deadline (otel_mono_ns time).
 * Returns 0 with *out for freeaddrinfo, OTEL_ERR_TIMEOUT when the lookup
 * did not end in time (it finishes in the background and frees what it
 * found), OTEL_ERR_NOMEM, or OTEL_ERR_IO with the resolver's reason in err
 * (errlen bytes). */
int otel_resolve(const char *host, const char *port, uint64_t deadline, struct addrinfo **out,
                 char *err, size_t errlen);

/* Tests: lookups still running in the background. */
size_t otel_resolve_pending(void);

/* Tests: the function that looks names up (NULL: getaddrinfo). */
typedef int (*otel_resolve_fn)(const char *host, const char *port, const struct addrinfo *hints,
                               struct addrinfo **res);
void otel_resolve_set_lookup(otel_resolve_fn fn);

#endif /* OTEL_RESOLVE_H */
