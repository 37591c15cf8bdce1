/* json_scan.c: a recursive-descent recogniser for JSON (see json_scan.h). */
#include "json_scan.h"

struct scan {
    const unsigned char *p, *end;
    int depth_left;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Bytes that end a plain run inside a string: the quote, the backslash and the control
 * characters (which JSON forbids raw). Strings are most of a response's bytes, so the run is
 * skipped with one table lookup per byte. */
static const unsigned char s_string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1,
};

/* At the opening quote. */
static int scan_string(struct scan *s)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    for (;;) {
        while (p < end && !s_string_stop[*p])
            p++;
        if (p >= end || *p < 0x20)
            return 0;
        if (*p++ == '"') {
            s->p = p;
            return 1;
        }
        /* A backslash: one escape. */
        if (p >= end)
            return 0;
        unsigned char c = *p++;
        if (c == 'u') {
            if (end - p < 4)
                return 0;
            for (int i = 0; i < 4; i++)
                if (!is_hex(p[i]))
                    return 0;
            p += 4;
        } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' &&
                   c != 'r' && c != 't') {
            return 0;
        }
    }
}

static int scan_digits(struct scan *s)
{
    const unsigned char *start = s->p;
    while (s->p < s->end && is_digit(*s->p))
        s->p++;
    return s->p > start;
}

static int scan_number(struct scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p >= s->end)
        return 0;
    if (*s->p == '0')
        s->p++;
    else if (!scan_digits(s))
        return 0;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s))
            return 0;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!scan_digits(s))
            return 0;
    }
    return 1;
}

static int scan_literal(struct scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != (unsigned char)word[i])
            return 0;
    s->p += n;
    return 1;
}

static int scan_value(struct scan *s);

/* At '{' or '['. */
static int scan_container(struct scan *s)
{
    unsigned char close = *s->p == '{' ? '}' : ']';
    if (--s->depth_left < 0)
        return 0;
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth_left++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"' || !scan_string(s))
                return 0;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return 0;
            s->p++;
            skip_ws(s);
        }
        if (!scan_value(s))
            return 0;
        skip_ws(s);
        if (s->p >= s->end)
            return 0;
        if (*s->p == close) {
            s->p++;
            s->depth_left++;
            return 1;
        }
        if (*s->p != ',')
            return 0;
        s->p++;
        skip_ws(s);
    }
}

static int scan_value(struct scan *s)
{
    if (s->p >= s->end)
        return 0;
    switch (*s->p) {
    case '{':
    case '[': return scan_container(s);
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true", 4);
    case 'f': return scan_literal(s, "false", 5);
    case 'n': return scan_literal(s, "null", 4);
    default: return (*s->p == '-' || is_digit(*s->p)) && scan_number(s);
    }
}

int json_is_object(const char *text, size_t len, int max_depth)
{
    if (!text)
        return 0;
    struct scan s = {(const unsigned char *)text, (const unsigned char *)text + len, max_depth};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{' || !scan_container(&s))
        return 0;
    skip_ws(&s);
    return s.p == s.end;
}
