/* ivs-emulator: a local Amazon IVS (low-latency streaming API) for tests and development.
 * Usage: see usage() below and emulator/README.md. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ivs.h"
#include "server.h"
#include "store.h"
#include "util.h"

/* The key pair accepted when no --credentials is given (documented in README.md). */
static const char s_default_key_id[] = "AKIAIVSEMULATOR00001";
static const char s_default_secret[] = "ivsEmulatorTestSecretAccessKey0000000000";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ivs-emulator [--host 127.0.0.1] [--port N] [--region us-west-2]\n"
            "                    [--account 123456789012] [--credentials ID:SECRET[:ACCOUNT]]...\n"
            "                    [--no-auth] [--state FILE [--fsync]] [--threads N] "
            "[--max-connections N]\n"
            "                    [--max-connections-per-ip N] [--header-timeout SECONDS]\n"
            "       ivs-emulator --version\n");
}

static int valid_account(const char *s)
{
    if (strlen(s) != 12)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* 127.0.0.0/8: the only addresses from which only this machine can reach the emulator. */
static int is_loopback(const char *host)
{
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *region = "us-west-2", *account = "123456789012", *state = NULL;
    long port = 4566, threads = 4, max_conn = 0, max_per_ip = 0, header_timeout = 0;
    int no_auth = 0, fsync_journal = 0;
    struct emu_credential *creds = calloc((size_t)argc + 1, sizeof *creds);
    size_t ncreds = 0;
    int status = 2;
    if (!creds)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            status = 0;
            goto out;
        } else if (!strcmp(a, "--version")) {
            printf("ivs-emulator %s\n", IVS_VERSION);
            status = 0;
            goto out;
        } else if (!strcmp(a, "--no-auth")) {
            no_auth = 1;
            continue;
        } else if (!strcmp(a, "--fsync")) {
            fsync_journal = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "ivs-emulator: %s needs a value\n", a);
            usage(stderr);
            goto out;
        }
        i++;
        char *end = NULL;
        if (!strcmp(a, "--host")) {
            host = v;
        } else if (!strcmp(a, "--port")) {
            port = strtol(v, &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "ivs-emulator: bad --port %s\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--threads")) {
            threads = strtol(v, &end, 10);
            if (*end || threads < 1 || threads > 64) {
                fprintf(stderr, "ivs-emulator: bad --threads %s\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--max-connections") || !strcmp(a, "--max-connections-per-ip") ||
                   !strcmp(a, "--header-timeout")) {
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 1000000) {
                fprintf(stderr, "ivs-emulator: bad %s %s\n", a, v);
                goto out;
            }
            *(!strcmp(a, "--max-connections")          ? &max_conn
              : !strcmp(a, "--max-connections-per-ip") ? &max_per_ip
                                                       : &header_timeout) = n;
        } else if (!strcmp(a, "--region")) {
            region = v;
            if (!emu_region_valid(v)) {
                fprintf(stderr, "ivs-emulator: bad --region %s (expected a name like us-west-2)\n",
                        v);
                goto out;
            }
        } else if (!strcmp(a, "--account")) {
            account = v;
            if (!valid_account(v)) {
                fprintf(stderr, "ivs-emulator: --account must be 12 digits\n");
                goto out;
            }
        } else if (!strcmp(a, "--state")) {
            state = v;
        } else if (!strcmp(a, "--credentials")) {
            const char *colon = strchr(v, ':');
            if (!colon || colon == v || !colon[1]) {
                fprintf(stderr,
                        "ivs-emulator: --credentials takes ACCESS_KEY_ID:SECRET[:ACCOUNT]\n");
                goto out;
            }
            struct emu_credential *c = &creds[ncreds++];
            c->access_key_id = strndup(v, (size_t)(colon - v));
            c->secret_access_key = strdup(colon + 1);
            if (!c->access_key_id || !c->secret_access_key) {
                fprintf(stderr, "ivs-emulator: out of memory\n");
                goto out;
            }
            char *last = strrchr(c->secret_access_key, ':');
            if (last && valid_account(last + 1)) {
                c->account = strdup(last + 1);
                *last = '\0';
            }
        } else {
            fprintf(stderr, "ivs-emulator: unknown option %s\n", a);
            usage(stderr);
            goto out;
        }
    }
    if (!ncreds) {
        creds[0].access_key_id = strdup(s_default_key_id);
        creds[0].secret_access_key = strdup(s_default_secret);
        ncreds = 1;
        if (!creds[0].access_key_id || !creds[0].secret_access_key) {
            fprintf(stderr, "ivs-emulator: out of memory\n");
            goto out;
        }
    }
    for (size_t i = 0; i < ncreds; i++)
        if (!creds[i].account)
            creds[i].account = strdup(account);

    /* Block the stop signals before any thread starts so that only sigwait() sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    status = 1;
    if (fsync_journal && !state) {
        fprintf(stderr, "ivs-emulator: --fsync needs --state FILE\n");
        status = 2;
        goto out;
    }
    struct store *store = store_new(region, account, state);
    char err[512] = "";
    if (store)
        store_set_fsync(store, fsync_journal);
    if (!store || store_load(store, err, sizeof err) != 0) {
        fprintf(stderr, "ivs-emulator: %s\n", err[0] ? err : "out of memory");
        store_free(store);
        goto out;
    }
    struct emu_server_config cfg = {.host = host,
                                    .port = (unsigned)port,
                                    .region = region,
                                    .account = account,
                                    .credentials = creds,
                                    .credential_count = ncreds,
                                    .no_auth = no_auth,
                                    .threads = (unsigned)threads,
                                    .store = store,
                                    .max_connections = (unsigned)max_conn,
                                    .max_connections_per_ip = (unsigned)max_per_ip,
                                    .header_timeout_s = (unsigned)header_timeout};
    /* Said before binding so that it is seen even when the bind then fails. */
    if (!is_loopback(host))
        fprintf(stderr,
                "ivs-emulator: warning: %s is not a loopback address; anyone who can reach this "
                "host can use the emulator%s\n",
                host, no_auth ? " without credentials (--no-auth)" : "");
    struct emu_server *srv = emu_server_start(&cfg, err, sizeof err);
    if (!srv || store_start_saver(store) != 0) {
        fprintf(stderr, "ivs-emulator: %s\n", err[0] ? err : "cannot start the state saver");
        emu_server_stop(srv);
        store_free(store);
        goto out;
    }
    printf("listening on http://%s:%u\n", host, emu_server_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    emu_server_stop(srv);
    store_free(store);
    status = 0;
out:
    for (size_t i = 0; i < ncreds; i++) {
        free(creds[i].access_key_id);
        free(creds[i].secret_access_key);
        free(creds[i].account);
    }
    free(creds);
    return status;
}
