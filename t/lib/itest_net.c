/* itest_net.c - loopback TCP sockets of the integration tests: listen, connect, a free port. */
#include "itest.h"
#include "itest_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The address 127.0.0.1:port. */
static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* A TCP socket listening on 127.0.0.1:port (0: any); its port in *bound. */
int itest_listen_local(uint16_t port, uint16_t *bound)
{
    struct sockaddr_in sin = loopback(port);
    socklen_t len = sizeof(sin);
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(sin.sin_port);
    return fd;
}

int itest_connect_local(uint16_t port)
{
    struct sockaddr_in sin = loopback(port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int itest_port_reserve(uint16_t *port)
{
    int fd = itest_listen_local(0, port);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}
