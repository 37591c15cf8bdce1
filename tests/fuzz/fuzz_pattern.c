/* fuzz_pattern.c: the regex matcher behind the model's `pattern` constraints
 * (core/src/pattern.c).
 *
 * The input is a pattern, a newline, and a subject. Invariants: a pattern that compiles
 * matches the same way compiled once (pattern_compile + pattern_match) or on the fly
 * (pattern_search); pattern_check agrees with pattern_compile; the UTF-8 decoder always moves
 * forward and stays inside the text. The matcher is linear by design, so libFuzzer's -timeout
 * catches any input that makes it slow. */
#include "fuzz.h"
#include "pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *pat = fuzz_strndup(data, plen);
    const char *subject = nl ? (const char *)nl + 1 : "";
    size_t slen = nl ? size - plen - 1 : 0;
    if (!pat)
        return 0;

    struct pattern *p = NULL;
    const char *why = NULL;
    int compiled = pattern_compile(pat, &p, &why);
    const char *why2 = NULL;
    FUZZ_ASSERT(pattern_check(pat, &why2) == compiled);
    if (compiled == 0) {
        FUZZ_ASSERT(p != NULL);
        int m1 = pattern_match(p, subject, slen);
        int m2 = pattern_search(pat, subject, slen);
        FUZZ_ASSERT(m1 == 0 || m1 == 1);
        FUZZ_ASSERT(m1 == m2);
        /* The pattern is read-only once compiled: matching again gives the same answer. */
        FUZZ_ASSERT(pattern_match(p, subject, slen) == m1);
        pattern_free(p);
    } else {
        FUZZ_ASSERT(p == NULL && why != NULL);
        FUZZ_ASSERT(pattern_search(pat, subject, slen) == -1);
    }

    for (size_t pos = 0; pos < slen;) {
        size_t before = pos;
        int32_t cp = pattern_utf8_next(subject, slen, &pos);
        if (cp < 0)
            break;
        FUZZ_ASSERT(pos > before && pos <= slen && cp <= 0x10FFFF);
        pattern_unicode_is('L', (uint32_t)cp);
        pattern_unicode_is('N', (uint32_t)cp);
        pattern_unicode_is('Z', (uint32_t)cp);
    }
    free(pat);
    return 0;
}
