#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int s_passed, s_failed, s_skipped;
static int s_current_failed, s_current_skipped;
static char s_skip_reason[256];

void harness_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    s_current_failed = 1;
    fprintf(stdout, "# %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

void harness_skip(const char *reason)
{
    s_current_skipped = 1;
    snprintf(s_skip_reason, sizeof s_skip_reason, "%s", reason);
}

int harness_current_failed(void) { return s_current_failed; }

void harness_run(const char *name, void (*fn)(void))
{
    s_current_failed = 0;
    s_current_skipped = 0;
    fn();
    if (s_current_failed) {
        s_failed++;
        printf("not ok - %s\n", name);
    } else if (s_current_skipped) {
        s_skipped++;
        printf("skip - %s: %s\n", name, s_skip_reason);
    } else {
        s_passed++;
        printf("ok - %s\n", name);
    }
    fflush(stdout);
}

int harness_finish(void)
{
    printf("# summary: %d passed, %d failed, %d skipped\n", s_passed, s_failed, s_skipped);
    fflush(stdout);
    return s_failed ? 1 : 0;
}

const char *harness_root(void)
{
    const char *r = getenv("IVS_ROOT");
    return r && *r ? r : ".";
}

char *harness_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *data = malloc(cap);
    while (data) {
        size_t n = fread(data + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (cap - len - 1 == 0) {
            char *p = realloc(data, cap * 2);
            if (!p) {
                free(data);
                data = NULL;
                break;
            }
            data = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data)
        return NULL;
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
}
