/* test_tls.c - tests of exporter/tls.c (TLS client contexts and connections)
 * against the in-process OpenSSL server of t/lib/fake_tls.c, with
 * certificates made by t/lib/itest_certs.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/alloc.h"
#include "../../exporter/tls.h"
#include "../lib/fake_tls.h"
#include "../lib/itest.h"
#include "../../core/test_hooks.h"

#define MS_NS UINT64_C(1000000)
#define SEC_NS UINT64_C(1000000000)
#define IO_WAIT_NS (10 * SEC_NS) /* bound of one exchange, never a wait */
#define WAIT_MS 10000            /* the same for the server's records */
#define BIG_LEN (1024 * 1024)    /* bytes of the large round trip */

static itest_certs certs;                  /* made once for the whole group */
static char encrypted_key[ITEST_PATH_MAX]; /* client_key under a passphrase */

/* What a test leaves for the teardown to free. */
static fake_tls *cur_srv;
static otel_tls_ctx *cur_x;
static otel_tls *cur_t;
static int cur_fd = -1;

/* ---- helpers ------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (itest_certs_make(&certs) != 0)
        return -1;
    if (snprintf(encrypted_key, sizeof(encrypted_key), "%s/encrypted.key", certs.dir) >=
        (int)sizeof(encrypted_key))
        return -1;
    char *argv[] = {"openssl",  "pkey",   "-in",  certs.client_key, "-aes256",
                    "-passout", "pass:x", "-out", encrypted_key,    NULL};
    int status = 0;
    if (itest_run_cmd(argv, NULL, 30000, NULL, NULL, &status) != 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    itest_certs_cleanup(&certs);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    otel_alloc_fail_after(-1);
    otel_tls_del(cur_t);
    cur_t = NULL;
    if (cur_fd >= 0)
        close(cur_fd);
    cur_fd = -1;
    fake_tls_stop(cur_srv);
    cur_srv = NULL;
    otel_tls_ctx_del(cur_x);
    cur_x = NULL;
    return 0;
}

/* A server with the good certificate for localhost / 127.0.0.1 in mode. */
static fake_tls_config good_server(fake_tls_mode mode)
{
    fake_tls_config c = {.cert = certs.server, .key = certs.server_key, .mode = mode};
    return c;
}

static fake_tls *start(const fake_tls_config *c)
{
    fake_tls *s = fake_tls_start(c);
    assert_non_null(s);
    return s;
}

/* A client context of c with alpn (NULL: none). */
static otel_tls_ctx *ctx_new(const otel_tls_config *c, const char *alpn)
{
    otel_tls_ctx *x;
    char err[256];
    int rc = otel_tls_ctx_new(&x, c, alpn, err, sizeof(err));
    if (rc != OTEL_OK)
        fail_msg("otel_tls_ctx_new: %s", err);
    return x;
}

/* A client context trusting the good CA, with alpn (NULL: none). */
static otel_tls_ctx *ctx_trusting_ca(const char *alpn)
{
    otel_tls_config c = {.ca_file = certs.ca};
    return ctx_new(&c, alpn);
}

/* The good echo server as cur_srv and a context trusting the CA as cur_x. */
static void start_echo(void)
{
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca(NULL);
}

/* A non-blocking TCP socket connected to 127.0.0.1:port. */
static int tcp_connect(uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    return fd;
}

/* otel_tls_connect of x to the server s as host, deadline IO_WAIT_NS away;
 * the socket into *fd (closed by the caller). */
static int dial(otel_tls **t, otel_tls_ctx *x, const fake_tls *s, const char *host, int *fd,
                char *err, size_t errlen)
{
    *fd = tcp_connect(fake_tls_port(s));
    err[0] = '\0';
    return otel_tls_connect(t, x, *fd, host, otel_mono_ns() + IO_WAIT_NS, err, errlen);
}

/* A connection to s with x as host that fails with rc and gives no
 * connection; the message into err (errlen bytes), the socket into cur_fd
 * (closed by the teardown unless the caller closes it). */
static void dial_fails(otel_tls_ctx *x, const fake_tls *s, const char *host, int rc, char *err,
                       size_t errlen)
{
    otel_tls *t = (otel_tls *)&errlen; /* not NULL before the call */
    assert_int_equal(dial(&t, x, s, host, &cur_fd, err, errlen), rc);
    assert_null(t);
}

/* Wait until fd is ready for events; fails the test after IO_WAIT_NS. */
static void wait_ready(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    do
        r = poll(&p, 1, (int)(IO_WAIT_NS / MS_NS));
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        fail_msg("socket not ready after %d ms", (int)(IO_WAIT_NS / MS_NS));
}

/* Read from t until want bytes have come into buf, waiting on fd whenever
 * the read wants it. Returns want, or the first result that is neither
 * data nor a WANT (0 or an error, err then set). */
static ssize_t read_until(otel_tls *t, int fd, void *buf, size_t want, char *err, size_t errlen)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = otel_tls_read(t, (char *)buf + got, want - got, err, errlen);
        if (n > 0)
            got += (size_t)n;
        else if (n == OTEL_TLS_WANT_READ)
            wait_ready(fd, POLLIN);
        else if (n == OTEL_TLS_WANT_WRITE)
            wait_ready(fd, POLLOUT);
        else
            return n;
    }
    return (ssize_t)got;
}

/* Write all len bytes of buf to t, waiting on fd as the write wants. */
static void write_all(otel_tls *t, int fd, const void *buf, size_t len)
{
    char err[256];
    size_t done = 0;
    while (done < len) {
        ssize_t n = otel_tls_write(t, (const char *)buf + done, len - done, err, sizeof(err));
        if (n > 0)
            done += (size_t)n;
        else if (n == OTEL_TLS_WANT_READ)
            wait_ready(fd, POLLIN);
        else if (n == OTEL_TLS_WANT_WRITE)
            wait_ready(fd, POLLOUT);
        else
            fail_msg("otel_tls_write: %s", err);
    }
}

/* Send "ping" over t and read it back from the echo server. */
static void ping(otel_tls *t, int fd)
{
    char buf[4], err[256];
    write_all(t, fd, "ping", 4);
    ssize_t n = read_until(t, fd, buf, 4, err, sizeof(err));
    if (n != 4)
        fail_msg("echo: %zd: %s", n, err);
    assert_memory_equal(buf, "ping", 4);
}

/* Close connection t on fd and wait until the server has recorded it as
 * its n-th (from 1); its record into *rec. */
static void hang_up(otel_tls *t, int fd, fake_tls *s, size_t n, fake_tls_conn *rec)
{
    otel_tls_del(t);
    close(fd);
    assert_true(fake_tls_wait(s, n, WAIT_MS));
    assert_true(fake_tls_get(s, n - 1, rec));
}

/* One connection to s with x as host, pinged, closed: whether it resumed
 * (the client's view), the server's record of it into *rec. s has had
 * n - 1 connections. */
static bool ping_conn(otel_tls_ctx *x, fake_tls *s, const char *host, size_t n, fake_tls_conn *rec)
{
    otel_tls *t;
    int fd;
    char err[256];
    int rc = dial(&t, x, s, host, &fd, err, sizeof(err));
    if (rc != OTEL_OK)
        fail_msg("otel_tls_connect: %s", err);
    bool resumed = otel_tls_resumed(t);
    ping(t, fd); /* a TLS 1.3 server's tickets come with the first read */
    hang_up(t, fd, s, n, rec);
    return resumed;
}

/* ping_conn: whether it resumed, checked against the server's view. */
static bool resumed_connection(otel_tls_ctx *x, fake_tls *s, const char *host, size_t n)
{
    fake_tls_conn rec;
    bool resumed = ping_conn(x, s, host, n, &rec);
    assert_int_equal(rec.resumed, resumed);
    return resumed;
}

/* ---- otel_tls_config_check ---------------------------------------------- */

/* Every good combination passes and reports no bad setting. */
static void test_otel_tls_config_check_good(void **state)
{
    (void)state;
    char err[256];
    otel_tls_setting bad = OTEL_TLS_KEY;
    otel_tls_config full = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client_key};
    assert_int_equal(otel_tls_config_check(&full, &bad, err, sizeof(err)), OTEL_OK);
    assert_int_equal(bad, OTEL_TLS_NONE);
    otel_tls_config ca_only = {.ca_file = certs.ca};
    bad = OTEL_TLS_CA;
    assert_int_equal(otel_tls_config_check(&ca_only, &bad, err, sizeof(err)), OTEL_OK);
    assert_int_equal(bad, OTEL_TLS_NONE);
    /* The system store and a client certificate; bad may be NULL. */
    otel_tls_config system = {.cert_file = certs.client, .key_file = certs.client_key};
    assert_int_equal(otel_tls_config_check(&system, NULL, err, sizeof(err)), OTEL_OK);
}

/* A file that cannot be read is named with the setting it came from and
 * the system's reason. */
static void test_otel_tls_config_check_missing_file(void **state)
{
    (void)state;
    static const struct {
        int which; /* 0: ca, 1: cert, 2: key */
        otel_tls_setting bad;
        const char *what;
    } cases[] = {
        {0, OTEL_TLS_CA, "cannot read CA file"},
        {1, OTEL_TLS_CERT, "cannot read client certificate"},
        {2, OTEL_TLS_KEY, "cannot read client key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        otel_tls_config c = {
            .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client_key};
        if (cases[i].which == 0)
            c.ca_file = certs.missing;
        else if (cases[i].which == 1)
            c.cert_file = certs.missing;
        else
            c.key_file = certs.missing;
        char err[512] = "";
        otel_tls_setting bad = OTEL_TLS_NONE;
        assert_int_equal(otel_tls_config_check(&c, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
        assert_int_equal(bad, cases[i].bad);
        assert_non_null(strstr(err, cases[i].what));
        assert_non_null(strstr(err, certs.missing));
        assert_non_null(strstr(err, strerror(ENOENT)));
    }
}

/* A file that holds no PEM of the right kind is refused with OpenSSL's
 * reason, at the setting it came from. */
static void test_otel_tls_config_check_not_pem(void **state)
{
    (void)state;
    char err[512];
    otel_tls_setting bad = OTEL_TLS_NONE;
    otel_tls_config ca = {.ca_file = certs.not_pem};
    assert_int_equal(otel_tls_config_check(&ca, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_CA);
    assert_non_null(strstr(err, "holds no usable PEM certificate"));
    assert_non_null(strstr(err, certs.not_pem));

    otel_tls_config cert = {
        .ca_file = certs.ca, .cert_file = certs.not_pem, .key_file = certs.client_key};
    assert_int_equal(otel_tls_config_check(&cert, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_CERT);
    assert_non_null(strstr(err, "is not a usable PEM certificate"));

    /* A certificate where the key should be. */
    otel_tls_config key = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client};
    assert_int_equal(otel_tls_config_check(&key, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_KEY);
    assert_non_null(strstr(err, "is not a usable unencrypted PEM private key"));
    assert_non_null(strstr(err, certs.client));
}

/* An encrypted key is refused (its passphrase is never asked for). */
static void test_otel_tls_config_check_encrypted_key(void **state)
{
    (void)state;
    char err[512];
    otel_tls_setting bad = OTEL_TLS_NONE;
    otel_tls_config c = {.ca_file = certs.ca, .cert_file = certs.client, .key_file = encrypted_key};
    assert_int_equal(otel_tls_config_check(&c, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_KEY);
    assert_non_null(strstr(err, encrypted_key));
    assert_non_null(strstr(err, "unencrypted"));
}

/* The key of another certificate: "does not match", naming both files. */
static void test_otel_tls_config_check_key_mismatch(void **state)
{
    (void)state;
    char err[512];
    otel_tls_setting bad = OTEL_TLS_NONE;
    otel_tls_config c = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.server_key};
    assert_int_equal(otel_tls_config_check(&c, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_KEY);
    assert_non_null(strstr(err, "does not match"));
    assert_non_null(strstr(err, certs.server_key));
    assert_non_null(strstr(err, certs.client));
}

/* A certificate without its key is the key's fault, a key without a
 * certificate the certificate's; either comes before the CA's check. */
static void test_otel_tls_config_check_cert_and_key_together(void **state)
{
    (void)state;
    char err[512];
    otel_tls_setting bad = OTEL_TLS_NONE;
    otel_tls_config cert_only = {.ca_file = certs.ca, .cert_file = certs.client};
    assert_int_equal(otel_tls_config_check(&cert_only, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_KEY);
    assert_non_null(strstr(err, "client_cert and client_key together"));

    otel_tls_config key_only = {.ca_file = certs.missing, .key_file = certs.client_key};
    assert_int_equal(otel_tls_config_check(&key_only, &bad, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_int_equal(bad, OTEL_TLS_CERT);
    assert_non_null(strstr(err, "client_cert and client_key together"));
}

/* ---- otel_tls_ctx_new ---------------------------------------------------- */

/* A malformed or too long ALPN list and a bad config are refused with a
 * message and no context; the NULL cases of del and after_fork. */
static void test_otel_tls_ctx_new_errors(void **state)
{
    (void)state;
    otel_tls_config good = {.ca_file = certs.ca};
    static const char *const bad_alpn[] = {
        "\x05h2", /* longer than the list */
        "\x21"
        "abcdefghijklmnopqrstuvwxyz0123456", /* 34 bytes: more than is kept */
    };
    for (size_t i = 0; i < sizeof(bad_alpn) / sizeof(bad_alpn[0]); i++) {
        otel_tls_ctx *x = (otel_tls_ctx *)&good;
        char err[256] = "";
        assert_int_equal(otel_tls_ctx_new(&x, &good, bad_alpn[i], err, sizeof(err)),
                         OTEL_ERR_INVALID);
        assert_null(x);
        assert_string_equal(err, "bad ALPN protocol list");
    }
    otel_tls_config missing = {.ca_file = certs.missing};
    otel_tls_ctx *x = (otel_tls_ctx *)&good;
    char err[512] = "";
    assert_int_equal(otel_tls_ctx_new(&x, &missing, "\x02h2", err, sizeof(err)), OTEL_ERR_INVALID);
    assert_null(x);
    assert_non_null(strstr(err, "cannot read CA file"));
    otel_tls_config half = {.ca_file = certs.ca, .key_file = certs.client_key};
    assert_int_equal(otel_tls_ctx_new(&x, &half, NULL, err, sizeof(err)), OTEL_ERR_INVALID);
    assert_null(x);
    assert_non_null(strstr(err, "together"));
    /* An empty list is no ALPN. */
    assert_int_equal(otel_tls_ctx_new(&x, &good, "", err, sizeof(err)), OTEL_OK);
    otel_tls_ctx_del(x);
    otel_tls_ctx_del(NULL);
    otel_tls_ctx_after_fork(NULL);
    otel_tls_del(NULL);
}

/* The n-th allocation failing, for each n: NOMEM with a message and no
 * context, until the context needs no more. */
static void test_otel_tls_ctx_new_alloc_failure(void **state)
{
    (void)state;
    otel_tls_config c = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client_key};
    long n;
    for (n = 0; n < 100; n++) {
        otel_tls_ctx *x = (otel_tls_ctx *)&c;
        char err[256] = "";
        otel_alloc_fail_after(n);
        int rc = otel_tls_ctx_new(&x, &c, "\x02h2", err, sizeof(err));
        otel_alloc_fail_after(-1);
        if (rc == OTEL_OK) {
            otel_tls_ctx_del(x);
            break;
        }
        assert_int_equal(rc, OTEL_ERR_NOMEM);
        assert_null(x);
        assert_string_equal(err, "out of memory");
    }
    assert_true(n >= 1); /* the context itself is the library's allocation */
    assert_true(n < 100);
}

/* A connection whose allocation fails: NOMEM, nothing to free, and the
 * context still connects afterwards. */
static void test_otel_tls_connect_alloc_failure(void **state)
{
    (void)state;
    start_echo();
    char err[256];
    otel_alloc_fail_after(0);
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_NOMEM, err, sizeof(err));
    otel_alloc_fail_after(-1);
    assert_string_equal(err, "out of memory");
    close(cur_fd);
    cur_fd = -1;
    assert_int_equal(dial(&cur_t, cur_x, cur_srv, "localhost", &cur_fd, err, sizeof(err)), OTEL_OK);
    ping(cur_t, cur_fd);
}

/* ---- otel_tls_connect: verification -------------------------------------- */

/* A server of a private CA, by name: verified, and the name goes out as
 * SNI (RFC 6066 section 3). TLS 1.3 when both sides can. */
static void test_otel_tls_connect_by_name(void **state)
{
    (void)state;
    start_echo();
    fake_tls_conn rec;
    assert_false(ping_conn(cur_x, cur_srv, "localhost", 1, &rec));
    assert_true(rec.handshake_ok);
    assert_string_equal(rec.servername, "localhost");
    assert_string_equal(rec.version, "TLSv1.3");
    assert_string_equal(rec.client_cn, "");
    assert_int_equal(rec.bytes_in, 4);
}

/* By IP address: verified against the certificate's IP SAN, and no SNI is
 * sent ("Literal IPv4 and IPv6 addresses are not permitted in HostName",
 * RFC 6066 section 3). */
static void test_otel_tls_connect_by_ip(void **state)
{
    (void)state;
    start_echo();
    fake_tls_conn rec;
    (void)ping_conn(cur_x, cur_srv, "127.0.0.1", 1, &rec);
    assert_true(rec.handshake_ok);
    assert_string_equal(rec.servername, "");
}

/* A certificate of the trusted CA for another name: refused by name and by
 * IP, with the X509 reason. */
static void test_otel_tls_connect_wrong_host(void **state)
{
    (void)state;
    fake_tls_config sc = {.cert = certs.wrong_host, .key = certs.wrong_host_key};
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca(NULL);
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "certificate verify failed: hostname mismatch");
    close(cur_fd);
    cur_fd = -1;
    assert_true(fake_tls_wait(cur_srv, 1, WAIT_MS));
    dial_fails(cur_x, cur_srv, "127.0.0.1", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "certificate verify failed: IP address mismatch");
    close(cur_fd);
    cur_fd = -1;
    assert_true(fake_tls_wait(cur_srv, 2, WAIT_MS));
    fake_tls_conn rec;
    assert_true(fake_tls_get(cur_srv, 1, &rec));
    assert_false(rec.handshake_ok); /* the client's alert ended it */
}

/* A certificate of a CA not trusted: refused, the reason named. */
static void test_otel_tls_connect_untrusted_ca(void **state)
{
    (void)state;
    fake_tls_config sc = {.cert = certs.rogue_server, .key = certs.rogue_server_key};
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca(NULL);
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "certificate verify failed: unable to get local issuer certificate");
}

/* An expired certificate of the trusted CA: refused, the reason named. */
static void test_otel_tls_connect_expired(void **state)
{
    (void)state;
    fake_tls_config sc = {.cert = certs.expired, .key = certs.expired_key};
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca(NULL);
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "certificate verify failed: certificate has expired");
}

/* no_verify: an untrusted certificate for another name is accepted, and
 * the name still goes out as SNI. */
static void test_otel_tls_connect_no_verify(void **state)
{
    (void)state;
    fake_tls_config sc = {.cert = certs.rogue_server, .key = certs.rogue_server_key};
    cur_srv = start(&sc);
    otel_tls_config c = {.ca_file = certs.ca, .no_verify = true};
    cur_x = ctx_new(&c, NULL);
    fake_tls_conn rec;
    (void)ping_conn(cur_x, cur_srv, "otlp.example", 1, &rec);
    assert_string_equal(rec.servername, "otlp.example");
}

/* ---- otel_tls_connect: client certificates -------------------------------- */

/* A server that requires a client certificate of the good CA gets ours. */
static void test_otel_tls_connect_mtls_accepted(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    sc.client_ca = certs.ca;
    cur_srv = start(&sc);
    otel_tls_config c = {
        .ca_file = certs.ca, .cert_file = certs.client, .key_file = certs.client_key};
    cur_x = ctx_new(&c, NULL);
    fake_tls_conn rec;
    (void)ping_conn(cur_x, cur_srv, "localhost", 1, &rec);
    assert_true(rec.handshake_ok);
    assert_string_equal(rec.client_cn, ITEST_CERTS_CLIENT_CN);
}

/* In TLS 1.3 the client's certificate goes out in its last flight, with
 * its Finished, which needs no answer: the client's handshake is over
 * before the server judges the certificate, so the refusal comes with the
 * first read, OTEL_ERR_IO naming the alert. Without a certificate the
 * alert is certificate_required (RFC 8446 section 4.4.2.4), with one of
 * another CA unknown_ca. */
static void test_otel_tls_connect_mtls_refused_tls13(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    sc.client_ca = certs.ca;
    cur_srv = start(&sc);
    static const struct {
        const char *cert, *key, *alert;
    } cases[] = {
        {NULL, NULL, "certificate required"},
        {certs.rogue_client, certs.rogue_client_key, "unknown ca"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        otel_tls_config c = {
            .ca_file = certs.ca, .cert_file = cases[i].cert, .key_file = cases[i].key};
        otel_tls_ctx *x;
        char err[256];
        assert_int_equal(otel_tls_ctx_new(&x, &c, NULL, err, sizeof(err)), OTEL_OK);
        int fd;
        otel_tls *t;
        assert_int_equal(dial(&t, x, cur_srv, "localhost", &fd, err, sizeof(err)), OTEL_OK);
        char buf[16];
        err[0] = '\0';
        assert_int_equal(read_until(t, fd, buf, 1, err, sizeof(err)), OTEL_ERR_IO);
        assert_non_null(strstr(err, "TLS read failed"));
        assert_non_null(strstr(err, cases[i].alert));
        fake_tls_conn rec;
        hang_up(t, fd, cur_srv, i + 1, &rec);
        assert_false(rec.handshake_ok);
        otel_tls_ctx_del(x);
    }
}

/* In TLS 1.2 the server's refusal ends the handshake itself:
 * otel_tls_connect fails with the alert, which is not mistaken for a
 * failed check of the server's certificate. */
static void test_otel_tls_connect_mtls_refused_tls12(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    sc.client_ca = certs.ca;
    sc.max_version = TLS1_2_VERSION;
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca(NULL);
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_non_null(strstr(err, "TLS handshake failed: "));
    assert_non_null(strstr(err, "alert"));
}

/* The same with verification off against an untrusted server: the reason
 * is still the server's alert. A verification result that no_verify told
 * OpenSSL to ignore is not the cause of the failure. */
static void test_otel_tls_connect_no_verify_reports_alert(void **state)
{
    (void)state;
    fake_tls_config sc = {.cert = certs.rogue_server,
                          .key = certs.rogue_server_key,
                          .client_ca = certs.ca,
                          .max_version = TLS1_2_VERSION};
    cur_srv = start(&sc);
    otel_tls_config c = {.ca_file = certs.ca, .no_verify = true};
    cur_x = ctx_new(&c, NULL);
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_null(strstr(err, "certificate verify failed"));
    assert_non_null(strstr(err, "TLS handshake failed: "));
    assert_non_null(strstr(err, "alert"));
}

/* ---- otel_tls_connect: ALPN ---------------------------------------------- */

/* Offering h2: a server that selects it is accepted, one that selects
 * nothing is refused with a message saying so (RFC 9113 section 3.2: h2
 * over TLS is negotiated by ALPN). */
static void test_otel_tls_connect_alpn(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    sc.alpn = "h2";
    fake_tls *h2 = start(&sc);
    sc.alpn = NULL;
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca("\x02h2");
    char err[256];
    int fd;
    otel_tls *t;
    assert_int_equal(dial(&t, cur_x, h2, "localhost", &fd, err, sizeof(err)), OTEL_OK);
    fake_tls_conn rec;
    hang_up(t, fd, h2, 1, &rec);
    assert_string_equal(rec.alpn, "h2");
    fake_tls_stop(h2);

    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "the server did not select h2 by ALPN (it chose nothing)");
}

/* Only the first protocol of the list counts: a server choosing the second
 * is refused, naming what it chose. A context without ALPN takes a server
 * that selects nothing. */
static void test_otel_tls_connect_alpn_first_protocol(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    sc.alpn = "h2";
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca("\x08http/1.1\x02h2");
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "the server did not select http/1.1 by ALPN (it chose h2)");
    close(cur_fd);
    cur_fd = -1;
    otel_tls_ctx_del(cur_x);
    cur_x = ctx_trusting_ca(NULL);
    assert_int_equal(dial(&cur_t, cur_x, cur_srv, "localhost", &cur_fd, err, sizeof(err)), OTEL_OK);
    ping(cur_t, cur_fd);
}

/* ---- otel_tls_connect: deadline and a peer that goes away ---------------- */

/* A peer that accepts TCP and never answers the ClientHello: TIMEOUT once
 * the deadline passes, and a deadline already past is TIMEOUT too. */
static void test_otel_tls_connect_deadline(void **state)
{
    (void)state;
    uint16_t port;
    int lfd = itest_listen_local(0, &port);
    assert_true(lfd >= 0);
    cur_x = ctx_trusting_ca("\x02h2");
    char err[256] = "";
    otel_tls *t = (otel_tls *)&port;
    cur_fd = tcp_connect(port);
    uint64_t t0 = otel_mono_ns();
    assert_int_equal(
        otel_tls_connect(&t, cur_x, cur_fd, "localhost", t0 + 200 * MS_NS, err, sizeof(err)),
        OTEL_ERR_TIMEOUT);
    assert_true(otel_mono_ns() >= t0 + 200 * MS_NS);
    assert_null(t);
    assert_string_equal(err, "the TLS handshake timed out");
    close(cur_fd);
    cur_fd = tcp_connect(port);
    err[0] = '\0';
    assert_int_equal(
        otel_tls_connect(&t, cur_x, cur_fd, "localhost", otel_mono_ns() - 1, err, sizeof(err)),
        OTEL_ERR_TIMEOUT);
    assert_null(t);
    assert_string_equal(err, "the TLS handshake timed out");
    close(lfd);
}

/* A peer that reads the ClientHello and closes: OTEL_ERR_IO with a
 * message that says the peer closed the connection. */
static void test_otel_tls_connect_peer_hangs_up(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_HANGUP);
    cur_srv = start(&sc);
    cur_x = ctx_trusting_ca(NULL);
    char err[256];
    dial_fails(cur_x, cur_srv, "localhost", OTEL_ERR_IO, err, sizeof(err));
    assert_string_equal(err, "TLS handshake failed: the peer closed the connection");
}

/* ---- otel_tls_read / otel_tls_write -------------------------------------- */

/* A read with nothing come yet wants a read; bytes written come back in
 * order; a partly read record leaves the rest pending. */
static void test_otel_tls_read_write_round_trip(void **state)
{
    (void)state;
    start_echo();
    char err[256], buf[8];
    assert_int_equal(dial(&cur_t, cur_x, cur_srv, "localhost", &cur_fd, err, sizeof(err)), OTEL_OK);
    assert_int_equal(otel_tls_read(cur_t, buf, sizeof(buf), err, sizeof(err)), OTEL_TLS_WANT_READ);
    assert_int_equal(otel_tls_pending(cur_t), 0);
    assert_int_equal(otel_tls_write(cur_t, "ping", 4, err, sizeof(err)), 4);
    assert_int_equal(read_until(cur_t, cur_fd, buf, 1, err, sizeof(err)), 1);
    assert_int_equal(buf[0], 'p');
    assert_int_equal(otel_tls_pending(cur_t), 3); /* the one record holds all four */
    assert_int_equal(otel_tls_read(cur_t, buf + 1, sizeof(buf) - 1, err, sizeof(err)), 3);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(otel_tls_pending(cur_t), 0);
    assert_int_equal(otel_tls_read(cur_t, buf, sizeof(buf), err, sizeof(err)), OTEL_TLS_WANT_READ);
}

/* A megabyte each way over non-blocking writes and reads, interleaved as
 * they want: every byte comes back in order. */
static void test_otel_tls_read_write_large(void **state)
{
    (void)state;
    start_echo();
    char err[256];
    assert_int_equal(dial(&cur_t, cur_x, cur_srv, "localhost", &cur_fd, err, sizeof(err)), OTEL_OK);
    uint8_t *out = malloc(BIG_LEN), *in = malloc(BIG_LEN);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < BIG_LEN; i++)
        out[i] = (uint8_t)(i * 7 + i / 251);
    size_t sent = 0, got = 0;
    while (got < BIG_LEN) {
        short events = POLLIN;
        if (sent < BIG_LEN) {
            ssize_t n = otel_tls_write(cur_t, out + sent, BIG_LEN - sent, err, sizeof(err));
            if (n > 0)
                sent += (size_t)n;
            else if (n == OTEL_TLS_WANT_WRITE)
                events |= POLLOUT;
            else if (n != OTEL_TLS_WANT_READ)
                fail_msg("otel_tls_write: %s", err);
        }
        ssize_t n = otel_tls_read(cur_t, in + got, BIG_LEN - got, err, sizeof(err));
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n != OTEL_TLS_WANT_READ)
            fail_msg("otel_tls_read: %zd: %s", n, err);
        wait_ready(cur_fd, events);
    }
    assert_int_equal(sent, BIG_LEN);
    assert_memory_equal(in, out, BIG_LEN);
    free(out);
    free(in);
    fake_tls_conn rec;
    hang_up(cur_t, cur_fd, cur_srv, 1, &rec);
    cur_t = NULL;
    cur_fd = -1;
    assert_int_equal(rec.bytes_in, BIG_LEN);
}

/* A peer that closes after the handshake, with close_notify or without
 * (a TCP close, taken as the end of the connection): a read gives 0. */
static void test_otel_tls_read_peer_close(void **state)
{
    (void)state;
    static const fake_tls_mode modes[] = {FAKE_TLS_SHUTDOWN, FAKE_TLS_CLOSE};
    cur_x = ctx_trusting_ca(NULL);
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        fake_tls_config sc = good_server(modes[i]);
        fake_tls *s = start(&sc);
        char err[256] = "", buf[8];
        int fd;
        otel_tls *t;
        assert_int_equal(dial(&t, cur_x, s, "localhost", &fd, err, sizeof(err)), OTEL_OK);
        assert_true(fake_tls_wait(s, 1, WAIT_MS)); /* closed on its side */
        assert_int_equal(read_until(t, fd, buf, 1, err, sizeof(err)), 0);
        otel_tls_del(t);
        close(fd);
        fake_tls_stop(s);
    }
}

/* ---- session resumption -------------------------------------------------- */

/* A server that gives tickets: the next connection of the same context
 * resumes (RFC 8446 section 2.2), in TLS 1.3 and 1.2; after
 * otel_tls_ctx_after_fork the kept session is gone and the next one does
 * not. */
static void test_otel_tls_connect_resumes_session(void **state)
{
    (void)state;
    static const int versions[] = {0, TLS1_2_VERSION};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        fake_tls_config sc = good_server(FAKE_TLS_ECHO);
        sc.tickets = true;
        sc.max_version = versions[i];
        fake_tls *s = start(&sc);
        otel_tls_ctx *x = ctx_trusting_ca(NULL);
        assert_false(resumed_connection(x, s, "localhost", 1));
        assert_true(resumed_connection(x, s, "localhost", 2));
        assert_true(resumed_connection(x, s, "localhost", 3));
        otel_tls_ctx_after_fork(x);
        assert_false(resumed_connection(x, s, "localhost", 4));
        assert_true(resumed_connection(x, s, "localhost", 5));
        otel_tls_ctx_del(x);
        fake_tls_stop(s);
    }
}

/* A server that gives no tickets: nothing is resumed. */
static void test_otel_tls_connect_no_tickets(void **state)
{
    (void)state;
    start_echo();
    assert_false(resumed_connection(cur_x, cur_srv, "localhost", 1));
    assert_false(resumed_connection(cur_x, cur_srv, "localhost", 2));
}

/* A failed handshake forgets the kept session: the try after it starts
 * afresh. */
static void test_otel_tls_connect_failure_forgets_session(void **state)
{
    (void)state;
    fake_tls_config sc = good_server(FAKE_TLS_ECHO);
    sc.tickets = true;
    cur_srv = start(&sc);
    fake_tls_config hc = good_server(FAKE_TLS_HANGUP);
    fake_tls *hangup = start(&hc);
    cur_x = ctx_trusting_ca(NULL);
    assert_false(resumed_connection(cur_x, cur_srv, "localhost", 1));
    char err[256];
    dial_fails(cur_x, hangup, "localhost", OTEL_ERR_IO, err, sizeof(err));
    close(cur_fd);
    cur_fd = -1;
    fake_tls_stop(hangup);
    assert_false(resumed_connection(cur_x, cur_srv, "localhost", 2));
    assert_true(resumed_connection(cur_x, cur_srv, "localhost", 3));
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown)
    const struct CMUnitTest tests[] = {
        T(test_otel_tls_config_check_good),
        T(test_otel_tls_config_check_missing_file),
        T(test_otel_tls_config_check_not_pem),
        T(test_otel_tls_config_check_encrypted_key),
        T(test_otel_tls_config_check_key_mismatch),
        T(test_otel_tls_config_check_cert_and_key_together),
        T(test_otel_tls_ctx_new_errors),
        T(test_otel_tls_ctx_new_alloc_failure),
        T(test_otel_tls_connect_alloc_failure),
        T(test_otel_tls_connect_by_name),
        T(test_otel_tls_connect_by_ip),
        T(test_otel_tls_connect_wrong_host),
        T(test_otel_tls_connect_untrusted_ca),
        T(test_otel_tls_connect_expired),
        T(test_otel_tls_connect_no_verify),
        T(test_otel_tls_connect_mtls_accepted),
        T(test_otel_tls_connect_mtls_refused_tls13),
        T(test_otel_tls_connect_mtls_refused_tls12),
        T(test_otel_tls_connect_no_verify_reports_alert),
        T(test_otel_tls_connect_alpn),
        T(test_otel_tls_connect_alpn_first_protocol),
        T(test_otel_tls_connect_deadline),
        T(test_otel_tls_connect_peer_hangs_up),
        T(test_otel_tls_read_write_round_trip),
        T(test_otel_tls_read_write_large),
        T(test_otel_tls_read_peer_close),
        T(test_otel_tls_connect_resumes_session),
        T(test_otel_tls_connect_no_tickets),
        T(test_otel_tls_connect_failure_forgets_session),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
