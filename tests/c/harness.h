/* harness.h: the tiny test harness of the C suites.
 *
 *   static void test_something(void) { CHECK(1 + 1 == 2); CHECK_STR_EQ("a", s); }
 *   int main(void) { RUN(test_something); return harness_finish(); }
 *
 * Each RUN prints "ok - name", "not ok - name" (with "# file:line: ..." diagnostics) or
 * "skip - name: reason"; harness_finish() prints "# summary: P passed, F failed, S skipped"
 * (scripts/run-tests adds these up) and returns the process exit status. */
#ifndef IVS_TEST_HARNESS_H
#define IVS_TEST_HARNESS_H

#include <stdint.h>
#include <string.h>

void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void harness_skip(const char *reason);
void harness_run(const char *name, void (*fn)(void));
int harness_finish(void);
/* Nonzero once the current test has failed (to stop early inside loops). */
int harness_current_failed(void);
/* The project root (for reading ../shared): IVS_ROOT or the current directory. */
const char *harness_root(void);
/* Reads a whole file into a NUL-terminated malloc'd buffer; NULL when it cannot. */
char *harness_read_file(const char *path, size_t *len_out);

#define RUN(fn) harness_run(#fn, fn)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            harness_fail(__FILE__, __LINE__, "check failed: %s", #cond);                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            harness_fail(__FILE__, __LINE__, __VA_ARGS__);                                         \
    } while (0)

#define CHECK_STR_EQ(expected, actual)                                                             \
    do {                                                                                           \
        const char *e_ = (expected), *a_ = (actual);                                               \
        if (!e_ || !a_ || strcmp(e_, a_) != 0)                                                     \
            harness_fail(__FILE__, __LINE__, "expected \"%s\", got \"%s\"", e_ ? e_ : "(null)",    \
                         a_ ? a_ : "(null)");                                                      \
    } while (0)

#define CHECK_INT_EQ(expected, actual)                                                             \
    do {                                                                                           \
        long long e_ = (long long)(expected), a_ = (long long)(actual);                            \
        if (e_ != a_)                                                                              \
            harness_fail(__FILE__, __LINE__, "%s: expected %lld, got %lld", #actual, e_, a_);      \
    } while (0)

#define SKIP(reason)                                                                               \
    do {                                                                                           \
        harness_skip(reason);                                                                      \
        return;                                                                                    \
    } while (0)

#endif
