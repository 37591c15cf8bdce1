/* server.h: the HTTP side of ivs-emulator (libmicrohttpd): reads requests, checks SigV4,
 * routes to the store or the admin API, injects faults and writes the replies. */
#ifndef EMU_SERVER_H
#define EMU_SERVER_H

#include <stddef.h>

#include "auth.h"
#include "store.h"

struct emu_server_config {
    const char *host;    /* numeric IPv4 address to bind */
    unsigned port;       /* 0 picks a free port */
    const char *region;  /* default region (admin API, --no-auth without a scope) */
    const char *account; /* default account */
    const struct emu_credential *credentials;
    size_t credential_count;
    int no_auth;
    unsigned threads;    /* worker threads; 0 = 4 */
    size_t max_body;     /* bytes; 0 = 1 MiB (EMU_DEFAULT_MAX_BODY) */
    struct store *store; /* not owned */
    /* Flood limits (0 takes the default). A connection beyond a limit is closed at once. */
    unsigned max_connections;        /* in total; default 1000, lowered to fit RLIMIT_NOFILE */
    unsigned max_connections_per_ip; /* from one client address; default 256 */
    unsigned header_timeout_s;       /* a request's headers must be complete this many seconds after
                                      * the connection opened or its previous request ended;
                                      * default 10 */
};

enum {
    EMU_DEFAULT_MAX_BODY = 1024 * 1024,
    EMU_DEFAULT_MAX_CONNECTIONS = 1000,
    EMU_DEFAULT_MAX_CONNECTIONS_PER_IP = 256,
    EMU_DEFAULT_HEADER_TIMEOUT_S = 10
};

struct emu_server;

/* Binds and starts serving. Returns NULL with a message in errbuf on failure. */
struct emu_server *emu_server_start(const struct emu_server_config *cfg, char *errbuf,
                                    size_t errlen);
/* The port actually bound. */
unsigned emu_server_port(const struct emu_server *s);
/* Stops accepting, finishes the worker threads and releases the server. NULL is accepted. */
void emu_server_stop(struct emu_server *s);

#endif
