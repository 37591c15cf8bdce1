/* json_scan.h: checks that a text is one well-formed JSON object, without building anything.
 * The C API hands a response body on as it came (a pass that allocates nothing) instead of
 * parsing it into a tree and printing the tree again. */
#ifndef IVS_JSON_SCAN_H
#define IVS_JSON_SCAN_H

#include <stddef.h>

/* Nonzero when text[0..len) is exactly one JSON object (RFC 8259), optionally surrounded by
 * whitespace, nested at most max_depth deep (objects and arrays both count). Strings are
 * checked for their escapes (every \u has four hex digits) and for raw control characters;
 * bytes above 0x7f are accepted as they are (as cJSON does). A text this accepts can be walked
 * by a reader that trusts it: every string closes, every container closes, every literal is
 * whole. */
int json_is_object(const char *text, size_t len, int max_depth);

/* json_is_object with a bound on the text's size in values as well: nonzero only when
 * the text is one object within max_depth and holds at most max_values values, counted as one
 * plus one per ',', ':' and '[' outside strings (keys count, so this bounds the values from
 * above). One pass over the text that checks both. */
int json_object_within(const char *text, size_t len, int max_depth, size_t max_values);

/* The first byte at or after p (before end) that ends a plain run inside a JSON string: '"',
 * '\\' or a control byte (below 0x20); end when there is none. Reads nothing at or past end.
 * The Lua reader walks checked strings with it too. */
const char *json_string_stop(const char *p, const char *end);

#endif
