# What the engine is built from, in one place: csrc/Makefile includes this
# file and setup.py parses its `NAME := value` lines (keep them that simple).
#
#   include/          the public header nnc.h (installed as <prefix>/include/nnc.h)
#   engine/           the pure-C engine: model, training, losses, formats, threads
#   engine/optim/     the optimizers
#   engine/kernels/   the compute kernels (reference and SIMD sets), chosen at run time
#   python/           the CPython wrapper nnc._core (built by setup.py only)

ENGINE_DIRS := engine engine/optim engine/kernels
PUBLIC_INCLUDE_DIR := include
WRAPPER_DIR := python

# Flags of every engine file. No -march=native: the library runs on any
# x86-64; -fno-math-errno lets sqrt/exp vectorise without -ffast-math.
ENGINE_CFLAGS := -std=c11 -fno-math-errno -Wall -Wextra -pthread

# The SIMD kernel sets and the instruction-set flags each is compiled with
# (x86-64 only; the rest of the engine stays baseline x86-64).
# engine/kernels/nnc_cpu.c checks the CPU before using them.
SIMD_FLAGS_nnc_kernels_avx2.c := -mavx2 -mfma
SIMD_FLAGS_nnc_kernels_avx512.c := -mavx512f -mavx512dq -mavx2 -mfma
