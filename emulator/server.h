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
    size_t max_body;     /* bytes; 0 = 10 MiB */
    struct store *store; /* not owned */
    int no_listen;       /* bind nothing: only emu_server_dispatch() is used (fuzzing) */
};

struct emu_server;

/* Binds and starts serving. Returns NULL with a message in errbuf on failure. */
struct emu_server *emu_server_start(const struct emu_server_config *cfg, char *errbuf,
                                    size_t errlen);
/* The port actually bound. */
unsigned emu_server_port(const struct emu_server *s);
/*
 * Routes one request that has been read in full: OPTIONS, the admin API (/_emulator/...) or an
 * IVS operation (route, signature, content type, validation, injected faults, the store), and
 * fills out with the reply. Returns 0, or -1 when an injected fault says to drop the
 * connection. No socket is involved: the HTTP layer calls it, and so does the fuzz harness.
 */
int emu_server_dispatch(struct emu_server *s, const struct emu_request_view *req,
                        struct emu_reply *out);
/* Stops accepting, finishes the worker threads and releases the server. NULL is accepted. */
void emu_server_stop(struct emu_server *s);

#endif
