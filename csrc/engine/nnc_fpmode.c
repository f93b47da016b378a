/*
 * nnc_fpmode.c - the engine's floating-point mode: while it computes a
 * network (forward, loss, backward, optimizer step), subnormal results are
 * flushed to zero and subnormal operands read as zero (x86 MXCSR FTZ and
 * DAZ; AArch64 FPCR.FZ), as XLA and TensorFlow do. Intel cores take a
 * microcode assist for every operation that meets a subnormal, and
 * training produces them (tiny deltas of a confident softmax, decaying
 * optimizer moments): docs/design.md, Subnormal numbers.
 *
 * The mode is per thread: the caller's thread gets it for the call and its
 * own mode back on return (NumPy and the rest of the process keep IEEE
 * arithmetic); a pool worker takes its submitter's mode with each task.
 */
#include "nnc_internal.h"

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#include <xmmintrin.h>
#define FLUSH_BITS 0x8040u /* FTZ (bit 15) | DAZ (bit 6) */

unsigned nnc__fpmode_get(void) { return _mm_getcsr(); }
void nnc__fpmode_set(unsigned mode) {
    if (_mm_getcsr() != mode) _mm_setcsr(mode);
}

#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define FLUSH_BITS (1u << 24) /* FZ */

unsigned nnc__fpmode_get(void) {
    unsigned long long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (unsigned)fpcr; /* the upper half is reserved */
}
void nnc__fpmode_set(unsigned mode) {
    if (nnc__fpmode_get() != mode) __asm__ volatile("msr fpcr, %0" : : "r"((unsigned long long)mode));
}

#else /* other CPUs: IEEE subnormals throughout */
#define FLUSH_BITS 0u
unsigned nnc__fpmode_get(void) { return 0; }
void nnc__fpmode_set(unsigned mode) { (void)mode; }
#endif

unsigned nnc__flush_subnormals_begin(void) {
    const unsigned saved = nnc__fpmode_get();
    nnc__fpmode_set(saved | FLUSH_BITS);
    return saved;
}
