/* itest_certs.c - throwaway TLS certificates made with the openssl command at test time. */
#include "itest.h"
#include "itest_int.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CERTS_CMD_TIMEOUT_MS 30000
#define CERTS_DAYS "30"
/* The validity of the expired certificate: a month, years ago. */
#define CERTS_EXPIRED_START "20200101000000Z"
#define CERTS_EXPIRED_END "20200201000000Z"
#define CERTS_SAN_LOCAL "subjectAltName=IP:127.0.0.1,DNS:localhost"

/* Run openssl with the arguments args (NULL-terminated, after "openssl").
 * Returns 0 when it exited 0, else -1 after printing its stderr on ours. */
static int run_openssl(const char *const *args)
{
    char *argv[40];
    size_t n = 0;
    char *err = NULL;
    int status = 0;
    int rc;

    argv[n++] = "openssl";
    for (size_t i = 0; args[i] != NULL; i++) {
        if (n + 1 >= sizeof(argv) / sizeof(argv[0]))
            return -1;
        argv[n++] = (char *)args[i];
    }
    argv[n] = NULL;
    rc = itest_run_cmd(argv, NULL, CERTS_CMD_TIMEOUT_MS, NULL, &err, &status);
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "itest_certs: openssl %s failed (wait status 0x%x): %s\n", args[0],
                (unsigned int)status, err != NULL ? err : "");
        rc = -1;
    }
    free(err);
    return rc;
}

/* A self-signed CA: cert and key at the paths given. */
static int make_ca(const char *cn_subj, const char *cert, const char *key)
{
    const char *const args[] = {"req",
                                "-x509",
                                "-newkey",
                                "ec",
                                "-pkeyopt",
                                "ec_paramgen_curve:prime256v1",
                                "-nodes",
                                "-days",
                                CERTS_DAYS,
                                "-subj",
                                cn_subj,
                                "-addext",
                                "basicConstraints=critical,CA:TRUE",
                                "-addext",
                                "keyUsage=critical,keyCertSign,cRLSign",
                                "-keyout",
                                key,
                                "-out",
                                cert,
                                NULL};

    return run_openssl(args);
}

/* A leaf certificate for subject subj (san: its subjectAltName extension,
 * or NULL for none) signed by ca / ca_key, valid from now on. */
static int make_leaf(const char *subj, const char *san, const char *ca, const char *ca_key,
                     const char *cert, const char *key)
{
    const char *args[32];
    size_t n = 0;

    args[n++] = "req";
    args[n++] = "-x509";
    args[n++] = "-newkey";
    args[n++] = "ec";
    args[n++] = "-pkeyopt";
    args[n++] = "ec_paramgen_curve:prime256v1";
    args[n++] = "-nodes";
    args[n++] = "-days";
    args[n++] = CERTS_DAYS;
    args[n++] = "-subj";
    args[n++] = subj;
    if (san != NULL) {
        args[n++] = "-addext";
        args[n++] = san;
    }
    args[n++] = "-addext";
    args[n++] = "basicConstraints=critical,CA:FALSE";
    args[n++] = "-CA";
    args[n++] = ca;
    args[n++] = "-CAkey";
    args[n++] = ca_key;
    args[n++] = "-keyout";
    args[n++] = key;
    args[n++] = "-out";
    args[n++] = cert;
    args[n] = NULL;
    return run_openssl(args);
}

/* The expired server certificate: `openssl req -x509` of OpenSSL 3.0 can
 * only start a certificate now, so a CSR is signed with `openssl ca`, which
 * takes -startdate / -enddate, through a minimal CA config of its own
 * (database, serial, new_certs_dir in a subdirectory of c->dir). */
static int make_expired(itest_certs *c)
{
    char sub[ITEST_PATH_MAX], csr[ITEST_PATH_MAX], cnf[ITEST_PATH_MAX];
    char index[ITEST_PATH_MAX], serial[ITEST_PATH_MAX], newcerts[ITEST_PATH_MAX];
    char text[2048];
    int n;

    if (itest_join_path(sub, c->dir, "expired-ca") != 0 || mkdir(sub, 0700) != 0 ||
        itest_join_path(csr, sub, "expired.csr") != 0 || itest_join_path(cnf, sub, "ca.cnf") != 0 ||
        itest_join_path(index, sub, "index.txt") != 0 ||
        itest_join_path(serial, sub, "serial") != 0 ||
        itest_join_path(newcerts, sub, "newcerts") != 0 || mkdir(newcerts, 0700) != 0)
        return -1;
    n = snprintf(text, sizeof(text),
                 "[ ca ]\n"
                 "default_ca = test_ca\n"
                 "[ test_ca ]\n"
                 "database = %s\n"
                 "new_certs_dir = %s\n"
                 "serial = %s\n"
                 "default_md = sha256\n"
                 "policy = policy_any\n"
                 "unique_subject = no\n"
                 "copy_extensions = copy\n"
                 "x509_extensions = leaf\n"
                 "[ policy_any ]\n"
                 "commonName = supplied\n"
                 "[ leaf ]\n"
                 "basicConstraints = critical,CA:FALSE\n",
                 index, newcerts, serial);
    if (n < 0 || (size_t)n >= sizeof(text) || itest_write_file(cnf, text, (size_t)n) != 0 ||
        itest_write_file(index, "", 0) != 0 || itest_write_file(serial, "01\n", 3) != 0)
        return -1;

    const char *const req[] = {"req",
                               "-new",
                               "-newkey",
                               "ec",
                               "-pkeyopt",
                               "ec_paramgen_curve:prime256v1",
                               "-nodes",
                               "-subj",
                               "/CN=localhost",
                               "-addext",
                               CERTS_SAN_LOCAL,
                               "-keyout",
                               c->expired_key,
                               "-out",
                               csr,
                               NULL};
    const char *const sign[] = {
        "ca",       "-batch",          "-config", cnf,          "-cert",
        c->ca,      "-keyfile",        c->ca_key, "-startdate", CERTS_EXPIRED_START,
        "-enddate", CERTS_EXPIRED_END, "-notext", "-in",        csr,
        "-out",     c->expired,        NULL};
    if (run_openssl(req) != 0 || run_openssl(sign) != 0)
        return -1;
    return 0;
}

/* Check that the expired certificate really ended in the past:
 * `openssl x509 -checkend 0` exits 1 for a certificate that has expired. */
static int check_expired(const itest_certs *c)
{
    char *argv[] = {"openssl", "x509", "-noout", "-checkend", "0", "-in", (char *)c->expired, NULL};
    int status = 0;

    if (itest_run_cmd(argv, NULL, CERTS_CMD_TIMEOUT_MS, NULL, NULL, &status) != 0 ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 1) {
        fprintf(stderr, "itest_certs: %s has not expired (wait status 0x%x)\n", c->expired,
                (unsigned int)status);
        return -1;
    }
    return 0;
}

/* Fill every path of c under c->dir. Returns 0 or -1. */
static int certs_paths(itest_certs *c)
{
    static const struct {
        size_t off;
        const char *name;
    } files[] = {
        {offsetof(itest_certs, ca), "ca.pem"},
        {offsetof(itest_certs, ca_key), "ca.key"},
        {offsetof(itest_certs, server), "server.pem"},
        {offsetof(itest_certs, server_key), "server.key"},
        {offsetof(itest_certs, client), "client.pem"},
        {offsetof(itest_certs, client_key), "client.key"},
        {offsetof(itest_certs, rogue_ca), "rogue-ca.pem"},
        {offsetof(itest_certs, rogue_ca_key), "rogue-ca.key"},
        {offsetof(itest_certs, rogue_server), "rogue-server.pem"},
        {offsetof(itest_certs, rogue_server_key), "rogue-server.key"},
        {offsetof(itest_certs, rogue_client), "rogue-client.pem"},
        {offsetof(itest_certs, rogue_client_key), "rogue-client.key"},
        {offsetof(itest_certs, wrong_host), "wrong-host.pem"},
        {offsetof(itest_certs, wrong_host_key), "wrong-host.key"},
        {offsetof(itest_certs, expired), "expired.pem"},
        {offsetof(itest_certs, expired_key), "expired.key"},
        {offsetof(itest_certs, not_pem), "not-a-certificate.pem"},
        {offsetof(itest_certs, missing), "no-such-file.pem"},
    };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (itest_join_path((char *)c + files[i].off, c->dir, files[i].name) != 0)
            return -1;
    return 0;
}

int itest_certs_make(itest_certs *c)
{
    static const char junk[] = "this is not a PEM certificate\n";

    memset(c, 0, sizeof(*c));
    if (itest_tmpdir_make(c->dir, "mhd-otel-certs") != 0)
        return -1;
    if (certs_paths(c) != 0 || make_ca("/CN=mhd-otel-test-ca", c->ca, c->ca_key) != 0 ||
        make_leaf("/CN=localhost", CERTS_SAN_LOCAL, c->ca, c->ca_key, c->server, c->server_key) !=
            0 ||
        make_leaf("/CN=" ITEST_CERTS_CLIENT_CN, NULL, c->ca, c->ca_key, c->client, c->client_key) !=
            0 ||
        make_ca("/CN=mhd-otel-rogue-ca", c->rogue_ca, c->rogue_ca_key) != 0 ||
        make_leaf("/CN=localhost", CERTS_SAN_LOCAL, c->rogue_ca, c->rogue_ca_key, c->rogue_server,
                  c->rogue_server_key) != 0 ||
        make_leaf("/CN=otlp-rogue-client", NULL, c->rogue_ca, c->rogue_ca_key, c->rogue_client,
                  c->rogue_client_key) != 0 ||
        make_leaf("/CN=wrong.example", "subjectAltName=DNS:wrong.example", c->ca, c->ca_key,
                  c->wrong_host, c->wrong_host_key) != 0 ||
        make_expired(c) != 0 || check_expired(c) != 0 ||
        itest_write_file(c->not_pem, junk, sizeof(junk) - 1) != 0) {
        itest_certs_cleanup(c);
        return -1;
    }
    return 0;
}

/* nftw callback: remove one entry (children come first, FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) != 0 ? -1 : 0;
    return unlink(path) != 0 ? -1 : 0;
}

void itest_certs_cleanup(itest_certs *c)
{
    if (c->dir[0] != '\0')
        (void)nftw(c->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    memset(c, 0, sizeof(*c));
}
