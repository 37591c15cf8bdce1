/* suggest.h: the "did you mean" distance of the library, its Lua module and its CLI (the
 * module exposes it as core.closest). One bounded implementation: names are clipped, so a
 * hostile megabyte-long name costs no more than a 63-byte one. */
#ifndef IVS_SUGGEST_H
#define IVS_SUGGEST_H

#include <stddef.h>

/* Names longer than this are compared on their first SUGGEST_MAX_NAME bytes only. */
#define SUGGEST_MAX_NAME 63

/* Edit distance in half units: a substitution that only changes letter case costs 1, every
 * other edit 2, so "latencymode" is nearer to "latencyMode" than to anything else. */
size_t suggest_distance(const char *a, const char *b);

#endif
