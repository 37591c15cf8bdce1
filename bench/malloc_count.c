/* malloc_count.c: counts a process's heap allocations, for `make bench` (allocations per call).
 *
 *   LD_PRELOAD=build/bench/malloc_count.so MALLOC_COUNT_OUT=FILE PROGRAM...
 *
 * Every malloc, calloc, realloc to a nonzero size, posix_memalign, aligned_alloc and memalign
 * counts as one allocation (a Lua state allocates through realloc, so its tables and strings
 * count too). At exit the totals are appended to FILE as one JSON line
 * {"allocations":N,"frees":N}. Nothing else changes: the calls go on to glibc's own
 * allocator (__libc_malloc and friends, so no dlsym is needed while the loader is still
 * starting). Per-call figures come from two runs that differ only in their number of calls:
 * (count(N2) - count(N1)) / (N2 - N1) leaves start-up and exit out. */
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t align, size_t size);

/* Counters of the whole process: the shim exists to observe one process, so these are its
 * state by design. */
static atomic_ulong allocations, frees;

/* The build hides symbols by default; these must replace glibc's. */
#define SHIM __attribute__((visibility("default")))

SHIM void *malloc(size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

SHIM void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

SHIM void *realloc(void *ptr, size_t size)
{
    if (size)
        atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    else if (ptr)
        atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
    return __libc_realloc(ptr, size);
}

SHIM void free(void *ptr)
{
    if (ptr)
        atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
    __libc_free(ptr);
}

SHIM int posix_memalign(void **out, size_t align, size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    void *p = __libc_memalign(align, size);
    if (!p)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

SHIM void *aligned_alloc(size_t align, size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_memalign(align, size);
}

SHIM void *memalign(size_t align, size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    return __libc_memalign(align, size);
}

__attribute__((destructor)) static void report(void)
{
    const char *path = getenv("MALLOC_COUNT_OUT");
    if (!path || !*path)
        return;
    char line[128];
    int n = snprintf(line, sizeof line, "{\"allocations\":%lu,\"frees\":%lu}\n",
                     (unsigned long)atomic_load(&allocations), (unsigned long)atomic_load(&frees));
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || n <= 0)
        return;
    ssize_t w = write(fd, line, (size_t)n);
    (void)w;
    close(fd);
}
