/*
 * nnc_fpmode.c - the engine's floating-point mode: while it computes a
 * network (forward, loss, backward, optimizer step), subnormal results are
 * flushed to zero and subnormal operands read as zero (x86 MXCSR FTZ and
 * DAZ; AArch64 FPCR.FZ), as XLA and TensorFlow do. Intel cores take a
 * microcode assist for every operation that meets a subnormal, and
 * training produces them (tiny deltas of a confident softmax, decaying
 * optimizer moments): docs/design.md, Subnormal numbers.
 *
 * The mode is per thread. The engine's pool workers set it once (they only
 * ever compute for the engine); a caller's thread gets it for the call and
 * its own mode back on return, so NumPy and the rest of the process keep
 * IEEE behaviour.
 */
#include "nnc_internal.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <xmmintrin.h>
#define FLUSH_BITS 0x8040u /* FTZ (bit 15) | DAZ (bit 6) */

unsigned nnc__flush_subnormals_begin(void) {
    const unsigned saved = _mm_getcsr();
    if ((saved & FLUSH_BITS) != FLUSH_BITS) _mm_setcsr(saved | FLUSH_BITS);
    return saved;
}

void nnc__flush_subnormals_end(unsigned saved) {
    if (_mm_getcsr() != saved) _mm_setcsr(saved);
}

#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define FZ_BIT (1ull << 24)

unsigned nnc__flush_subnormals_begin(void) {
    unsigned long long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    if (!(fpcr & FZ_BIT)) __asm__ volatile("msr fpcr, %0" : : "r"(fpcr | FZ_BIT));
    return (unsigned)fpcr;
}

void nnc__flush_subnormals_end(unsigned saved) {
    unsigned long long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    if ((unsigned)fpcr != saved) __asm__ volatile("msr fpcr, %0" : : "r"((unsigned long long)saved));
}

#else /* other CPUs: IEEE subnormals throughout */
unsigned nnc__flush_subnormals_begin(void) { return 0; }
void nnc__flush_subnormals_end(unsigned saved) { (void)saved; }
#endif
