#include "partitions.h"

#include <regex.h>
#include <string.h>

/* The regex is compiled at each lookup: it runs once per client (at creation), and a cache
 * would be mutable global state. */
static int regex_matches(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int hit = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

const struct partition *partition_for_region(const char *region)
{
    for (size_t i = 0; region && i < partition_count; i++) {
        const struct partition *p = &partition_table[i];
        for (const char *const *r = p->regions; *r; r++)
            if (strcmp(*r, region) == 0)
                return p;
        if (regex_matches(p->region_regex, region))
            return p;
    }
    return &partition_table[0];
}
