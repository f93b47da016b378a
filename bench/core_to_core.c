/*
 * core_to_core.c - how long a cache line takes to travel from one CPU to
 * another: two threads, pinned to the first two CPUs this process may use,
 * hand a counter back and forth. Prints the one-way time in nanoseconds.
 *
 * On a 2-vCPU virtual machine this tells where the host put the vCPUs:
 * about 30 ns when they share a core complex, about 165 ns when they do
 * not (measured on the AMD EPYC VMs nnc is benchmarked on). Scenario d's
 * 2-thread speed-up depends on it (bench/README.md).
 *
 * Build: cc -O2 -pthread bench/core_to_core.c -o core_to_core   (Linux only)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#define ROUND_TRIPS 200000

static _Alignas(64) atomic_long ball;
static int cpus[2];

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Odd values travel to the partner, even values come back. */
static void *partner(void *unused) {
    (void)unused;
    pin(cpus[1]);
    for (long i = 0; i < ROUND_TRIPS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
    int found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
    if (found < 2) {
        fprintf(stderr, "core_to_core: needs two CPUs\n");
        return 1;
    }
    pin(cpus[0]);
    pthread_t t;
    if (pthread_create(&t, NULL, partner, NULL) != 0) return 1;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < ROUND_TRIPS; i++) {
        atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(t, NULL);
    const double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("%.1f\n", ns / ROUND_TRIPS / 2);
    return 0;
}
