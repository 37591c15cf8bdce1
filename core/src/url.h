/* url.h: the library's one URL splitter. The signer (sign.c), the client's endpoint
 * (client.c), the identity services' requests (identity_http.c) and error messages (http.c)
 * all read URLs through it, so they agree on what the host, port and path of a URL are. */
#ifndef IVS_URL_H
#define IVS_URL_H

#include <stddef.h>

/* The parts of "scheme://[userinfo@]host[:port][/path][?query][#fragment]". Nothing is copied
 * or decoded: every pointer points into the URL that was split. */
struct url_parts {
    const char *scheme; /* "http", "https", ... (not NUL-terminated) */
    size_t scheme_len;
    const char *host; /* without userinfo; an IPv6 literal keeps its brackets */
    size_t host_len;
    const char *port; /* the digits after ':' (possibly none), NULL without ':' */
    size_t port_len;
    long port_num;       /* the port's value, 0 when absent or empty */
    int port_is_default; /* no port, an empty one, or the scheme's default (80, 443) */
    const char *path;    /* where the authority ends: '/', '?', '#' or the NUL */
    size_t path_len;     /* up to '?' or '#' (0 when the URL has no path) */
    const char *query;   /* after '?', NULL when there is none */
    size_t query_len;    /* up to '#' */
};

/* Splits url into *out. Returns NULL, or why the URL is unusable as a phrase that follows
 * "the URL" ("has no scheme (expected scheme://host/path)", "has an invalid port"...). */
const char *url_split(const char *url, struct url_parts *out);

#endif
