/*
 * nnc_memory.c - overflow-checked size arithmetic and aligned allocation.
 */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* sysconf(_SC_PHYS_PAGES) under -std=c11 */
#endif

#include "nnc_internal.h"

#include <stdint.h>
#include <stdlib.h>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

size_t nnc__physical_memory(void) {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && (size_t)pages <= SIZE_MAX / (size_t)page)
        return (size_t)pages * (size_t)page;
#endif
    return SIZE_MAX; /* unknown: only malloc decides */
}

nnc_status nnc__mul_size(size_t a, size_t b, size_t *out, const char *what) {
    if (a != 0 && b > SIZE_MAX / a)
        return nnc__fail(NNC_ERR_OVERFLOW, "%s: size %zu x %zu overflows", what, a, b);
    *out = a * b;
    return NNC_OK;
}

nnc_status nnc__add_size(size_t a, size_t b, size_t *out, const char *what) {
    if (b > SIZE_MAX - a)
        return nnc__fail(NNC_ERR_OVERFLOW, "%s: size %zu + %zu overflows", what, a, b);
    *out = a + b;
    return NNC_OK;
}

/* Over-allocate and stash the original pointer just below the aligned one:
 * portable (no aligned_alloc size rules, no posix_memalign on Windows). */
void *nnc__aligned_alloc(size_t bytes) {
    const size_t align = 64;
    if (bytes == 0 || bytes > SIZE_MAX - align - sizeof(void *)) return NULL;
    /* More than the machine has can never work; with overcommit, malloc
     * might still say yes and the first write would get the process killed. */
    if (bytes > nnc__physical_memory()) return NULL;
    void *raw = malloc(bytes + align + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t start = (uintptr_t)raw + sizeof(void *);
    uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)aligned)[-1] = raw;
    return (void *)aligned;
}

void nnc__aligned_free(void *p) {
    if (p) free(((void **)p)[-1]);
}
