/* test_url.c: url_split, the library's one URL splitter (url.h). */
#include <string.h>

#include "harness.h"
#include "url.h"

#define CHECK_PART(expected, ptr, len)                                                             \
    CHECK_MSG((ptr) && strlen(expected) == (len) && memcmp((expected), (ptr), (len)) == 0,         \
              "expected '%s', got '%.*s'", (expected), (int)(len), (ptr) ? (ptr) : "")

static void test_parts(void)
{
    struct url_parts u;
    CHECK(url_split("https://user:pw@Example.COM:8443/a/b?x=1&y=2#frag", &u) == NULL);
    CHECK_PART("https", u.scheme, u.scheme_len);
    CHECK_PART("Example.COM", u.host, u.host_len);
    CHECK_PART("8443", u.port, u.port_len);
    CHECK(u.port_num == 8443 && !u.port_is_default);
    CHECK_PART("/a/b", u.path, u.path_len);
    CHECK_PART("x=1&y=2", u.query, u.query_len);

    CHECK(url_split("http://[::1]:80", &u) == NULL);
    CHECK_PART("[::1]", u.host, u.host_len);
    CHECK(u.port_is_default && u.path_len == 0 && u.query == NULL && *u.path == '\0');

    CHECK(url_split("https://h:443?q", &u) == NULL);
    CHECK(u.port_is_default && u.path_len == 0);
    CHECK_PART("q", u.query, u.query_len);

    CHECK(url_split("custom+x://h:80/", &u) == NULL);
    CHECK(!u.port_is_default && u.port_num == 80);
}

static void test_rejects(void)
{
    struct url_parts u;
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"", "is missing"},
        {"example.com/path", "has no scheme (expected scheme://host/path)"},
        {"ht tp://h/", "has an invalid scheme"},
        {"https:///path", "has no host"},
        {"https://user@/path", "has no host"},
        {"https://h:12a/", "has an invalid port"},
        {"https://h:65536/", "has an invalid port"},
        {"https://[::1/", "has an unterminated IPv6 address"},
        {"https://[::1]x/", "has junk after its IPv6 address"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = url_split(bad[i].url, &u);
        CHECK_MSG(why && strcmp(why, bad[i].why) == 0, "%s: %s", bad[i].url, why ? why : "(ok)");
    }
    CHECK(url_split(NULL, &u) != NULL);
}

int main(void)
{
    RUN(test_parts);
    RUN(test_rejects);
    return harness_finish();
}
