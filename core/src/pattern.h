/* pattern.h: the small regex matcher behind the model's `pattern` constraints.
 *
 * It understands exactly what the IVS model (and models like it) use: literals, `.`,
 * character classes with ranges, negation and escapes (`[a-z0-9-.]`, `[\p{L}\p{Z}_.:/=+\-@]`),
 * the Unicode general categories \p{L}, \p{N}, \p{Z} (and \P{...}), \d \w \s, groups,
 * alternation `|`, anchors `^` `$` and the quantifiers `*` `+` `?` `{n}` `{n,}` `{n,m}`.
 * Matching works on UTF-8 code points and uses search semantics (the pattern may match
 * anywhere in the subject unless it anchors itself), as Smithy specifies for @pattern.
 * The engine is a Thompson-style NFA simulation: time is linear in the subject length, so no
 * pattern/subject pair can backtrack catastrophically. There is no global state: a caller that
 * matches one pattern often compiles it once (pattern_compile) and keeps it, as
 * model_pattern_cache does per client. */
#ifndef IVS_PATTERN_H
#define IVS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* An inclusive code point range. */
struct pattern_range {
    uint32_t lo, hi;
};

/* Code points of the general categories L (letters), N (numbers) and Z (separators), as
 * sorted, merged ranges generated from UnicodeData.txt into model_unicode.c. */
extern const struct pattern_range pattern_unicode_L[];
extern const size_t pattern_unicode_L_count;
extern const struct pattern_range pattern_unicode_N[];
extern const size_t pattern_unicode_N_count;
extern const struct pattern_range pattern_unicode_Z[];
extern const size_t pattern_unicode_Z_count;

/* Is a code point in the Unicode general category `category` ('L', 'N' or 'Z')? 1 or 0. */
int pattern_unicode_is(char category, uint32_t cp);

/* A compiled pattern. It is never modified after pattern_compile(), so several threads may
 * match with one at the same time. */
struct pattern;

/*
 * Compiles a pattern into *out (released with pattern_free()). Returns 0, or -1 with *out NULL
 * and, when why is not NULL, a short static reason in *why (an unsupported construct, or
 * "out of memory"). The pattern text is not referenced afterwards.
 */
int pattern_compile(const char *pattern, struct pattern **out, const char **why);

/* Releases a compiled pattern; NULL is accepted. */
void pattern_free(struct pattern *p);

/*
 * Searches `len` bytes of UTF-8 text `s` for a match of the compiled pattern `p`: 1 when it
 * matches, 0 when it does not (or when `s` is not valid UTF-8), -1 when memory runs out.
 */
int pattern_match(const struct pattern *p, const char *s, size_t len);

/*
 * Searches `len` bytes of UTF-8 text `s` for a match of `pattern`, compiling it for this one
 * search (pattern_compile + pattern_match).
 * Returns 1 when it matches, 0 when it does not (or when `s` is not valid UTF-8), and -1 when
 * the pattern uses a construct this matcher does not support or memory runs out.
 */
int pattern_search(const char *pattern, const char *s, size_t len);

/* Checks that a pattern compiles; returns 0, or -1 with a short reason in *why (static). */
int pattern_check(const char *pattern, const char **why);

/*
 * Decodes one UTF-8 code point from s[*pos..len), advancing *pos. Returns the code point, or
 * -1 for malformed input (overlong forms, surrogates, values above U+10FFFF, truncation).
 */
int32_t pattern_utf8_next(const char *s, size_t len, size_t *pos);

#endif
