/*
 * nnc_kernels_x86.h - x86 helpers shared by the SIMD kernel files: the
 * compiler switch that lets one file target an instruction set without
 * global flags, and in-register transposes used to pack op(B) = W^T.
 * Define NNC_X86_TARGET (a string such as "avx2,fma") and include this
 * first; a file that includes it must end with NNC_X86_END.
 */
#ifndef NNC_KERNELS_X86_H
#define NNC_KERNELS_X86_H

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define NNC_X86_SIMD 1
/* The file's functions are compiled for NNC_X86_TARGET (and only run after
 * nnc_cpu.c checked the CPU); the rest of the engine stays baseline x86-64.
 * setup.py passes the matching -m flags too; the pragma makes the file
 * build the same without them (the plain C test builds). */
#define NNC__PRAGMA_(x) _Pragma(#x)
#if defined(__clang__)
#define NNC__TARGET_PRAGMA(t) NNC__PRAGMA_(clang attribute push(__attribute__((target(t))), apply_to = function))
#define NNC_X86_END _Pragma("clang attribute pop")
#else
#define NNC__TARGET_PRAGMA(t) NNC__PRAGMA_(GCC target(t))
#define NNC_X86_END
#endif
NNC__TARGET_PRAGMA(NNC_X86_TARGET)
#include <immintrin.h>
#include <stdint.h>

/* dst[i*ds + j] = src[j*ls + i] for an 8 x 8 block of floats. */
static inline __attribute__((always_inline)) void nnc__transpose8_ps(float *dst, int64_t ds,
                                                                     const float *src, int64_t ls) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ls);
    __m256 r2 = _mm256_loadu_ps(src + 2 * ls), r3 = _mm256_loadu_ps(src + 3 * ls);
    __m256 r4 = _mm256_loadu_ps(src + 4 * ls), r5 = _mm256_loadu_ps(src + 5 * ls);
    __m256 r6 = _mm256_loadu_ps(src + 6 * ls), r7 = _mm256_loadu_ps(src + 7 * ls);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

/* dst[i*ds + j] = src[j*ls + i] for a 4 x 4 block of doubles. */
static inline __attribute__((always_inline)) void nnc__transpose4_pd(double *dst, int64_t ds,
                                                                     const double *src, int64_t ls) {
    __m256d r0 = _mm256_loadu_pd(src), r1 = _mm256_loadu_pd(src + ls);
    __m256d r2 = _mm256_loadu_pd(src + 2 * ls), r3 = _mm256_loadu_pd(src + 3 * ls);
    __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    _mm256_storeu_pd(dst, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd(dst + ds, _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd(dst + 2 * ds, _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd(dst + 3 * ds, _mm256_permute2f128_pd(t1, t3, 0x31));
}

/* A VL x VL square from blocks of the above. */
#define NNC__TRANSPOSE_SQUARE(T, B, VLEN, dst, ds, src, ls, fn)                             \
    do {                                                                                  \
        for (int bi_ = 0; bi_ < (VLEN); bi_ += (B))                                       \
            for (int bj_ = 0; bj_ < (VLEN); bj_ += (B))                                   \
                fn((dst) + bi_ * (ds) + bj_, (ds), (src) + bj_ * (ls) + bi_, (ls));       \
    } while (0)

#else
#define NNC_X86_END
#endif /* x86 with GCC or clang */

#endif /* NNC_KERNELS_X86_H */
