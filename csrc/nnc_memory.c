/*
 * nnc_memory.c - overflow-checked size arithmetic and aligned allocation.
 */
#include "nnc_internal.h"

#include <stdint.h>
#include <stdlib.h>

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
