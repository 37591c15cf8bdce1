/* suggest.c: see suggest.h. */
#include "suggest.h"

#include <string.h>

static int lower_ascii(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > SUGGEST_MAX_NAME)
        la = SUGGEST_MAX_NAME;
    if (lb > SUGGEST_MAX_NAME)
        lb = SUGGEST_MAX_NAME;
    size_t row[SUGGEST_MAX_NAME + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = 2 * j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = 2 * i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = a[i - 1] == b[j - 1]                             ? 0
                         : lower_ascii(a[i - 1]) == lower_ascii(b[j - 1]) ? 1
                                                                          : 2;
            size_t best = diag + sub;
            if (up + 2 < best)
                best = up + 2;
            if (row[j - 1] + 2 < best)
                best = row[j - 1] + 2;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}
