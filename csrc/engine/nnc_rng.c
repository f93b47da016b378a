/*
 * nnc_rng.c - the engine's random numbers: a counter-based splitmix64
 * stream. Value i of stream `key` depends only on (key, i), so results are
 * the same on every platform and any element can be drawn independently
 * (docs/architecture.md, Random numbers).
 */
#include "nnc_internal.h"

#include <math.h>

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t nnc__rng_at(uint64_t key, uint64_t index) {
    /* The key is itself mixed so that nearby seeds give unrelated streams. */
    return mix64(mix64(key) + (index + 1) * 0x9e3779b97f4a7c15ULL);
}

void nnc__rng_seed(nnc__rng *rng, uint64_t seed) {
    rng->key = seed;
    rng->counter = 0;
}

uint64_t nnc__rng_next(nnc__rng *rng) {
    return nnc__rng_at(rng->key, rng->counter++);
}

double nnc__rng_uniform(nnc__rng *rng) {
    return nnc__u64_to_unit(nnc__rng_next(rng));
}

double nnc__rng_normal(nnc__rng *rng) {
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - nnc__rng_uniform(rng); /* (0, 1]: log(u1) is finite */
    double u2 = nnc__rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

uint64_t nnc__rng_below(nnc__rng *rng, uint64_t bound) {
    /* Reject the low values that would make r % bound uneven. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t r = nnc__rng_next(rng);
        if (r >= threshold) return r % bound;
    }
}
