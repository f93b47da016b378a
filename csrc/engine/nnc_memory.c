/*
 * nnc_memory.c - overflow-checked size arithmetic and aligned allocation.
 */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* sysconf(_SC_PHYS_PAGES), getrlimit under -std=c11 */
#endif

#include "nnc_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <unistd.h>
#endif

#if defined(__linux__)
/* The smallest limit in `file` of cgroup `group` under `root` and of each
 * of its ancestors (the tightest one applies). */
static size_t group_limit(const char *root, const char *group, const char *file) {
    size_t limit = SIZE_MAX;
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s", group);
    for (;;) {
        const size_t len = strlen(dir);
        if (len > 1 && dir[len - 1] == '/') dir[len - 1] = '\0';
        snprintf(path, sizeof path, "%s%s/%s", root, strcmp(dir, "/") ? dir : "", file);
        FILE *f = fopen(path, "r");
        if (f) {
            unsigned long long v;
            if (fscanf(f, "%llu", &v) == 1 && v < limit) limit = (size_t)v; /* "max": no limit */
            fclose(f);
        }
        char *slash = strrchr(dir, '/');
        if (!slash || strcmp(dir, "/") == 0) break;
        if (slash == dir) slash[1] = '\0'; /* up to the root "/" */
        else *slash = '\0';
    }
    return limit;
}
#endif

/* The memory limit of this process's cgroup: v2 (memory.max) or v1 (the
 * memory controller's memory.limit_in_bytes); SIZE_MAX when none. */
static size_t cgroup_limit(void) {
    size_t limit = SIZE_MAX;
#if defined(__linux__)
    char line[4096];
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return limit;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        size_t found = SIZE_MAX;
        if (strncmp(line, "0::", 3) == 0) {
            found = group_limit("/sys/fs/cgroup", line + 3, "memory.max");
        } else {
            char *controllers = strchr(line, ':');
            char *group = controllers ? strchr(controllers + 1, ':') : NULL;
            if (group) {
                *group = '\0';
                char *save = NULL;
                for (char *c = strtok_r(controllers + 1, ",", &save); c;
                     c = strtok_r(NULL, ",", &save))
                    if (strcmp(c, "memory") == 0)
                        found = group_limit("/sys/fs/cgroup/memory", group + 1,
                                            "memory.limit_in_bytes");
            }
        }
        if (found < limit) limit = found;
    }
    fclose(f);
#endif
    return limit;
}

static size_t memory_limit = 0;
static pthread_once_t memory_limit_once = PTHREAD_ONCE_INIT;

static void find_memory_limit(void) {
    size_t limit = SIZE_MAX;
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && (size_t)pages <= SIZE_MAX / (size_t)page)
        limit = (size_t)pages * (size_t)page;
#endif
    const size_t group = cgroup_limit();
    if (group < limit) limit = group;
    memory_limit = limit;
}

size_t nnc__memory_limit(void) {
    pthread_once(&memory_limit_once, find_memory_limit);
    size_t limit = memory_limit;
#if defined(RLIMIT_AS)
    /* Address-space limits can change at run time (ulimit -v in a shell,
     * setrlimit in the program): read them on every call. */
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY && r.rlim_cur < limit)
        limit = (size_t)r.rlim_cur;
    if (getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY && r.rlim_cur < limit)
        limit = (size_t)r.rlim_cur;
#endif
    return limit;
}

nnc_status nnc__check_total(size_t held, size_t more, const char *what) {
    const size_t limit = nnc__memory_limit();
    if (more > limit || held > limit - more)
        return nnc__fail(NNC_ERR_NOMEM,
                         "%s: %zu more bytes (with %zu already held) exceed the %zu bytes this "
                         "process may use (RAM, cgroup memory.max, ulimit)",
                         what, more, held, limit);
    return NNC_OK;
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
    if (bytes > nnc__memory_limit()) return NULL;
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
