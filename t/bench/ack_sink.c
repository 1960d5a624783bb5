/* ack_sink.c - make bench's OTLP/gRPC receiver of next to no cost: the
 * tests' fake gRPC server (t/lib/fake_grpc.c), answering every Export OK
 * without decoding it, with large flow-control windows. The independent sink decodes every span in
 * Node.js, and on a two-core machine, next to the load generator, it is what limits a traced
 * server's throughput; with this one the server's own core is. Prints "port N" on stdout, runs
 * until SIGTERM or SIGINT, then prints "requests N". usage: ack_sink */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "../lib/fake_grpc.h"

int main(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the server's thread inherits it */
    signal(SIGPIPE, SIG_IGN);
    /* Stream and connection windows of 8 MiB: a 512-span batch (about
     * 200 KiB) goes out without waiting for a WINDOW_UPDATE. */
    fake_opts opts = {.window = 8 << 20};
    fake_server *s = fake_start_opts(0, NULL, 0, &opts);
    if (s == NULL) {
        fprintf(stderr, "ack_sink: cannot listen\n");
        return 1;
    }
    printf("port %u\n", (unsigned)s->port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    size_t n = fake_requests(s);
    fake_stop(s);
    printf("requests %zu\n", n);
    return 0;
}
