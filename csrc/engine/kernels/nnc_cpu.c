/*
 * nnc_cpu.c - run-time choice of the kernel set.
 *
 * A set is usable when the CPU has its instructions (CPUID) and the OS
 * saves the register state they need (XGETBV: YMM for AVX2, YMM + opmask +
 * ZMM for AVX-512). The default is the best usable set; the environment
 * variable NNC_ARCH=ref|avx2|avx512 asks for another one (a request the
 * CPU cannot honour falls back to the best usable set), and
 * nnc_set_kernel_arch switches at run time (used by the tests to run every
 * numeric test under every set).
 */
#include "nnc_internal.h"
#include "nnc_kernels.h"

#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define NNC_HAVE_CPUID 1
#endif

enum { HAS_AVX2 = 1, HAS_AVX512 = 2 };

#if defined(__GNUC__) || defined(__clang__)
#define LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#define LOAD_ACQUIRE(p) (*(p))
#define STORE_RELEASE(p, v) (*(p) = (v))
#endif

#ifdef NNC_HAVE_CPUID
static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

static int detect(void) {
    int found = 0;
#ifdef NNC_HAVE_CPUID
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return 0;
    const unsigned long long xcr0 = xgetbv0();
    const int ymm_state = (xcr0 & 0x6) == 0x6;           /* SSE + AVX state */
    const int zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0; /* opmask, ZMM_Hi256, Hi16_ZMM */
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1;
    if (ymm_state && avx2 && fma) found |= HAS_AVX2;
    if ((found & HAS_AVX2) && zmm_state && avx512f && avx512dq) found |= HAS_AVX512;
#endif
    return found;
}

static int features = -1; /* detect() result, cached */
static const nnc__kernels *active;

static int cpu_features(void) {
    int f = LOAD_ACQUIRE(&features);
    if (f < 0) {
        f = detect();
        STORE_RELEASE(&features, f);
    }
    return f;
}

const nnc__kernels *nnc__kernels_supported(const char *name) {
    if (!name) return NULL;
    const int f = cpu_features();
    if (strcmp(name, "ref") == 0) return &nnc__kernels_ref;
    if (strcmp(name, "avx2") == 0 && (f & HAS_AVX2) && nnc__kernels_avx2.name)
        return &nnc__kernels_avx2;
    if (strcmp(name, "avx512") == 0 && (f & HAS_AVX512) && nnc__kernels_avx512.name)
        return &nnc__kernels_avx512;
    return NULL;
}

static const nnc__kernels *best(void) {
    const nnc__kernels *k = nnc__kernels_supported("avx512");
    if (!k) k = nnc__kernels_supported("avx2");
    return k ? k : &nnc__kernels_ref;
}

const nnc__kernels *nnc__kernels_active(void) {
    const nnc__kernels *k = LOAD_ACQUIRE(&active);
    if (k) return k;
    /* First use: several threads may get here; they all pick the same. */
    const char *env = getenv("NNC_ARCH");
    k = env && *env ? nnc__kernels_supported(env) : NULL;
    if (!k) k = best();
    STORE_RELEASE(&active, k);
    return k;
}

const char *nnc_kernel_arch(void) { return nnc__kernels_active()->name; }

int nnc_kernel_arch_supported(const char *name) { return nnc__kernels_supported(name) != NULL; }

nnc_status nnc_set_kernel_arch(const char *name) {
    const nnc__kernels *k;
    if (!name || strcmp(name, "auto") == 0) {
        k = best();
    } else if (strcmp(name, "ref") && strcmp(name, "avx2") && strcmp(name, "avx512")) {
        return nnc__fail(NNC_ERR_INVALID_ARG,
                         "unknown kernel set '%s' (expected 'ref', 'avx2', 'avx512' or 'auto')",
                         name);
    } else {
        k = nnc__kernels_supported(name);
        if (!k)
            return nnc__fail(NNC_ERR_UNSUPPORTED,
                             "the '%s' kernels cannot run on this CPU (or were not built)", name);
    }
    STORE_RELEASE(&active, k);
    return NNC_OK;
}
