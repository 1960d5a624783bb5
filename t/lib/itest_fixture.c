/* itest_fixture.c - fixtures and failing checks shared by the tests that export to the sink. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "itest.h"

int itest_group_setup_sink(const char *test, itest_certs *certs)
{
    if (itest_sink_install() != 0) {
        fprintf(stderr, "%s: cannot install the sink (sh t/sink.sh install %s)\n", test,
                itest_build_dir());
        return -1;
    }
    if (certs != NULL && itest_certs_make(certs) != 0) {
        fprintf(stderr, "%s: cannot make the test certificates with openssl\n", test);
        return -1;
    }
    return 0;
}

int itest_fixture_init(itest_server *s, itest_sink *k)
{
    if (itest_server_init(s) == 0 && itest_sink_init(k) == 0)
        return 0;
    itest_fixture_cleanup(s, k);
    return -1;
}

void itest_fixture_cleanup(itest_server *s, itest_sink *k)
{
    itest_server_cleanup(s);
    itest_sink_cleanup(k);
}

void itest_sink_start_ok(itest_sink *k, uint16_t port, const char *const *extra)
{
    if (itest_sink_start(k, port, extra) == 0)
        return;
    fail_msg("the OTLP sink did not become ready (port %u, wait status 0x%x)\nstderr: %s",
             (unsigned int)port, (unsigned int)k->exit_status, k->err_text ? k->err_text : "");
}

void itest_sink_stop_ok(itest_sink *k)
{
    if (itest_sink_stop(k) == 0)
        return;
    fail_msg("the OTLP sink did not exit cleanly on SIGTERM (wait status 0x%x)\nstderr: %s",
             (unsigned int)k->exit_status, k->err_text ? k->err_text : "");
}

uint64_t itest_sink_stat(const itest_sink *k, const char *name)
{
    uint64_t v = 0;

    if (!itest_sink_final_stat(k, name, &v))
        fail_msg("no %s in the sink's final line; stdout:\n%s", name,
                 k->out_text ? k->out_text : "");
    return v;
}

void itest_server_stop_ok(itest_server *s)
{
    if (itest_server_stop(s) == 0)
        return;
    fprintf(stderr, "---- demo server stderr ----\n%s----\n", s->err_text ? s->err_text : "");
    fail_msg("demo server did not exit cleanly on SIGTERM (wait status 0x%x)",
             (unsigned int)s->exit_status);
}

uint64_t itest_otlp_counter(const itest_server *s, const char *name)
{
    uint64_t v = 0;

    if (!itest_server_exporter_counter(s, "otlp", name, &v))
        fail_msg("no %s= in the server's counters; stderr:\n%s", name,
                 s->err_text ? s->err_text : "");
    return v;
}

void itest_balance_ok(uint64_t ended, uint64_t exported, uint64_t dropped, uint64_t failed,
                      uint64_t rejected, uint64_t queued)
{
    if (ended != exported + dropped + failed + rejected + queued)
        fail_msg("counters do not balance: ended=%llu exported=%llu dropped=%llu failed=%llu "
                 "rejected=%llu queued=%llu",
                 (unsigned long long)ended, (unsigned long long)exported,
                 (unsigned long long)dropped, (unsigned long long)failed,
                 (unsigned long long)rejected, (unsigned long long)queued);
}

uint64_t itest_otlp_balance(const itest_server *s)
{
    uint64_t ended = itest_otlp_counter(s, "ended"), exported = itest_otlp_counter(s, "exported");
    uint64_t dropped = itest_otlp_counter(s, "dropped"), failed = itest_otlp_counter(s, "failed");
    uint64_t rejected = itest_otlp_counter(s, "rejected");
    uint64_t queued = itest_otlp_counter(s, "queued");

    itest_balance_ok(ended, exported, dropped, failed, rejected, queued);
    return ended;
}
