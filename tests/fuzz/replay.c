/* replay.c: runs a fuzz harness over its seed corpus as a plain program (no libFuzzer), so
 * `make test` checks every corpus file with any compiler, under ASan with `make asan`.
 *
 *   build/fuzz-replay/fuzz_NAME [DIR_OR_FILE...]
 *
 * Without arguments it reads tests/fuzz/corpus/NAME/ under IVS_ROOT (or the current
 * directory). Each file prints "ok - NAME/FILE"; a crash stops the program, and the last
 * "# replaying" line names the input. The summary line is the C suites' ("# summary: ..."),
 * which scripts/run-tests adds up. An empty or missing corpus is a failure: seeds are meant
 * to be there. */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME=\"fuzz_name\""
#endif

static int s_passed, s_failed;

/* LLVMFuzzerInitialize is optional in a harness (weak here as in libFuzzer). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static void replay_file(const char *path, const char *label)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("not ok - %s\n# cannot open %s: %s\n", label, path, strerror(errno));
        s_failed++;
        return;
    }
    size_t cap = 4096, len = 0;
    uint8_t *data = malloc(cap);
    size_t n;
    while (data && (n = fread(data + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *grown = realloc(data, cap * 2);
            if (!grown) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data) {
        printf("not ok - %s\n# out of memory\n", label);
        s_failed++;
        return;
    }
    /* An exact-size copy, so that ASan sees a read past the input as libFuzzer would. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact)
        memcpy(exact, data, len);
    free(data);
    printf("# replaying %s\n", label);
    fflush(stdout);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    printf("ok - %s\n", label);
    fflush(stdout);
    s_passed++;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("not ok - %s\n# missing: %s\n", FUZZ_NAME, path);
        s_failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        replay_file(path, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        printf("not ok - %s\n# cannot read %s\n", FUZZ_NAME, path);
        s_failed++;
        return;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[count] = strdup(e->d_name);
        if (names[count])
            count++;
    }
    closedir(d);
    if (count == 0) {
        printf("not ok - %s\n# no seed files in %s\n", FUZZ_NAME, path);
        s_failed++;
    }
    qsort(names, count, sizeof *names, name_cmp);
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(path) + strlen(names[i]) + 2;
        char *full = malloc(n), *label = malloc(strlen(FUZZ_NAME) + strlen(names[i]) + 2);
        if (full && label) {
            snprintf(full, n, "%s/%s", path, names[i]);
            snprintf(label, strlen(FUZZ_NAME) + strlen(names[i]) + 2, "%s/%s", FUZZ_NAME, names[i]);
            replay_file(full, label);
        }
        free(full);
        free(label);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            replay_path(argv[i]);
    } else {
        const char *root = getenv("IVS_ROOT");
        const char *corpus = "tests/fuzz/corpus/";
        const char *short_name = strncmp(FUZZ_NAME, "fuzz_", 5) ? FUZZ_NAME : &FUZZ_NAME[5];
        size_t n = (root ? strlen(root) + 1 : 0) + strlen(corpus) + strlen(short_name) + 1;
        char *dir = malloc(n);
        if (!dir)
            return 1;
        snprintf(dir, n, "%s%s%s%s", root ? root : "", root ? "/" : "", corpus, short_name);
        replay_path(dir);
        free(dir);
    }
    printf("# summary: %d passed, %d failed, 0 skipped\n", s_passed, s_failed);
    return s_failed ? 1 : 0;
}
