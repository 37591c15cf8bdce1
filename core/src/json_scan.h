/* json_scan.h: checks that a text is one well-formed JSON object, without building anything.
 * The C API hands a response body on as it came (a pass that allocates nothing) instead of
 * parsing it into a tree and printing the tree again. */
#ifndef IVS_JSON_SCAN_H
#define IVS_JSON_SCAN_H

#include <stddef.h>

/* Nonzero when text[0..len) is exactly one JSON object (RFC 8259), optionally surrounded by
 * whitespace, nested at most max_depth deep. Strings are checked for their escapes and for
 * raw control characters; bytes above 0x7f are accepted as they are (as cJSON does). */
int json_is_object(const char *text, size_t len, int max_depth);

#endif
