/* url.c: see url.h. */
#include "url.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *url_split(const char *url, struct url_parts *out)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return "is missing";
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return "has no scheme (expected scheme://host/path)";
    for (const char *c = url; c < sep; c++)
        if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
            return "has an invalid scheme";
    out->scheme = url;
    out->scheme_len = (size_t)(sep - url);
    long default_port = 0;
    if (out->scheme_len == 4 && strncasecmp(url, "http", 4) == 0)
        default_port = 80;
    else if (out->scheme_len == 5 && strncasecmp(url, "https", 5) == 0)
        default_port = 443;

    const char *auth = sep + 3;
    const char *rest = auth + strcspn(auth, "/?#");
    /* Userinfo is never part of the host; its last '@' ends it. */
    const char *host = auth;
    for (const char *c = auth; c < rest; c++)
        if (*c == '@')
            host = c + 1;
    const char *host_end = rest;
    const char *port = NULL;
    if (host < rest && *host == '[') {
        const char *close = memchr(host, ']', (size_t)(rest - host));
        if (!close)
            return "has an unterminated IPv6 address";
        host_end = close + 1;
        if (host_end < rest) {
            if (*host_end != ':')
                return "has junk after its IPv6 address";
            port = host_end + 1;
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(rest - host));
        if (colon) {
            host_end = colon;
            port = colon + 1;
        }
    }
    if (host_end == host)
        return "has no host";
    long port_num = 0;
    if (port) {
        for (const char *c = port; c < rest; c++) {
            if (*c < '0' || *c > '9')
                return "has an invalid port";
            port_num = port_num * 10 + (*c - '0');
            if (port_num > 65535)
                return "has an invalid port";
        }
        out->port = port;
        out->port_len = (size_t)(rest - port);
    }
    out->host = host;
    out->host_len = (size_t)(host_end - host);
    out->port_num = port_num;
    out->port_is_default = port_num == 0 || port_num == default_port;
    out->path = rest;
    out->path_len = strcspn(rest, "?#");
    const char *q = rest + out->path_len;
    if (*q == '?') {
        out->query = q + 1;
        out->query_len = strcspn(q + 1, "#");
    }
    return NULL;
}
