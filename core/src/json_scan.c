/* json_scan.c: a recursive-descent recogniser for JSON (see json_scan.h).
 *
 * It runs on every response the C API and the Lua module hand on, so it is written for speed:
 * one pass that checks the syntax, the depth and the value count together; strings (most of a
 * response's bytes) are skipped sixteen bytes at a time (SSE2), else eight. */
#include "json_scan.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct scan {
    const unsigned char *end;
    int depth_left;
    size_t values_left; /* ',', ':' and '[' still allowed */
};

/* JSON's four whitespace bytes. */
static const unsigned char s_ws[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && s_ws[*p])
        p++;
    return p;
}

static const unsigned char s_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

/* The bytes a backslash may escape, besides 'u'. */
static const unsigned char s_escape[256] = {
    ['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Bytes that end a plain run inside a string: the quote, the backslash and the control
 * characters (which JSON forbids raw). */
static const unsigned char s_string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1,
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* The high bit of each byte of v that is '"', '\\' or below 0x20 (bytes above the first such
 * byte may be flagged falsely, from the borrow; the first one never is). */
static inline uint64_t s_stop_bits(uint64_t v)
{
    uint64_t q = v ^ (ONES * '"'), b = v ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((v - ONES * 0x20) & ~v)) & HIGHS;
}

const char *json_string_stop(const char *text, const char *end_text)
{
    const unsigned char *p = (const unsigned char *)text, *end = (const unsigned char *)end_text;
#if defined(__SSE2__)
    /* Sixteen bytes at a time: a string's stop bytes are '"', '\\' and those <= 0x1f. */
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i control = _mm_set1_epi8(0x1f);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i stop =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmpeq_epi8(_mm_min_epu8(v, control), v));
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask)
            return (const char *)p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    /* Eight bytes at a time while no stop byte is among them, then byte by byte up to the
     * stop byte (the word that holds it, or the tail). */
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t stop = s_stop_bits(v);
        if (stop) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return (const char *)p + (unsigned)__builtin_ctzll(stop) / 8;
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && !s_string_stop[*p])
        p++;
    return (const char *)p;
}

/* p is just past the opening quote; returns the byte past the closing one, or NULL. */
static const unsigned char *scan_string(const unsigned char *p, const unsigned char *end)
{
    for (;;) {
        p = (const unsigned char *)json_string_stop((const char *)p, (const char *)end);
        if (p >= end || *p < 0x20)
            return NULL;
        if (*p++ == '"')
            return p;
        /* A backslash: one escape. */
        if (p >= end)
            return NULL;
        unsigned char c = *p++;
        if (c == 'u') {
            if (end - p < 4 || !s_hex[p[0]] || !s_hex[p[1]] || !s_hex[p[2]] || !s_hex[p[3]])
                return NULL;
            p += 4;
        } else if (!s_escape[c]) {
            return NULL;
        }
    }
}

static const unsigned char *scan_digits(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *start = p;
    while (p < end && is_digit(*p))
        p++;
    return p > start ? p : NULL;
}

static const unsigned char *scan_number(const unsigned char *p, const unsigned char *end)
{
    if (*p == '-')
        p++;
    if (p >= end)
        return NULL;
    if (*p == '0')
        p++;
    else if (!(p = scan_digits(p, end)))
        return NULL;
    if (p < end && *p == '.' && !(p = scan_digits(p + 1, end)))
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        p = scan_digits(p, end);
    }
    return p;
}

static const unsigned char *scan_literal(const unsigned char *p, const unsigned char *end,
                                         const char *word, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

static const unsigned char *scan_container(struct scan *s, const unsigned char *p);

/* At a value (p < end). */
static const unsigned char *scan_value(struct scan *s, const unsigned char *p)
{
    switch (*p) {
    case '"': return scan_string(p + 1, s->end);
    case '{':
    case '[': return scan_container(s, p);
    case 't': return scan_literal(p, s->end, "true", 4);
    case 'f': return scan_literal(p, s->end, "false", 5);
    case 'n': return scan_literal(p, s->end, "null", 4);
    default: return *p == '-' || is_digit(*p) ? scan_number(p, s->end) : NULL;
    }
}

/* Takes one ',', ':' or '[' from the value budget. */
static inline int s_count(struct scan *s)
{
    if (s->values_left == 0)
        return 0;
    s->values_left--;
    return 1;
}

/* At '{' or '['. */
static const unsigned char *scan_container(struct scan *s, const unsigned char *p)
{
    const unsigned char *end = s->end;
    int is_object = *p == '{';
    unsigned char close = is_object ? '}' : ']';
    if (--s->depth_left < 0 || (!is_object && !s_count(s)))
        return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == close) {
        s->depth_left++;
        return p + 1;
    }
    for (;;) {
        if (is_object) {
            if (p >= end || *p != '"' || !(p = scan_string(p + 1, end)))
                return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':' || !s_count(s))
                return NULL;
            p = skip_ws(p + 1, end);
        }
        if (p >= end || !(p = scan_value(s, p)))
            return NULL;
        p = skip_ws(p, end);
        if (p >= end)
            return NULL;
        if (*p == close) {
            s->depth_left++;
            return p + 1;
        }
        if (*p != ',' || !s_count(s))
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

int json_object_within(const char *text, size_t len, int max_depth, size_t max_values)
{
    if (!text || max_values == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    struct scan s = {end, max_depth, max_values - 1};
    p = skip_ws(p, end);
    if (p >= end || *p != '{' || !(p = scan_container(&s, p)))
        return 0;
    return skip_ws(p, end) == end;
}

int json_is_object(const char *text, size_t len, int max_depth)
{
    return json_object_within(text, len, max_depth, SIZE_MAX);
}
