/*
 * nnc_threads.h - the engine's persistent thread pool (nnc_threads.c).
 *
 * One process-wide pool of worker threads, started on first use, sized by
 * nnc_set_num_threads (default: the CPU cores available to the process).
 * The engine splits work into independent tasks over output rows or
 * columns, never over a reduction, so results do not depend on how many
 * threads run them. The pool touches no process-wide setting.
 *
 * One caller at a time uses the pool; a second caller (another model
 * training in another thread) runs its tasks serially in its own thread
 * instead of waiting, with the same results.
 */
#ifndef NNC_THREADS_H
#define NNC_THREADS_H

#include <stddef.h>

/* Task `index` of `count`; tasks of one call must be independent. */
typedef void (*nnc__task_fn)(void *ctx, int index, int count);

/* Run fn(ctx, i, n) for every i in [0, n) and return when all are done.
 * The calling thread runs task 0 (and any task beyond the pool's size). */
void nnc__parallel(nnc__task_fn fn, void *ctx, int n);

/* Run fn(ctx, i) once for every item i in [0, items) on up to `threads`
 * threads that take the items in order as they become free, so a thread
 * slowed down by other work on its core takes fewer of them. */
typedef void (*nnc__item_fn)(void *ctx, int item);
void nnc__parallel_items(nnc__item_fn fn, void *ctx, int items, int threads);

/* The number of threads the engine may use (>= 1). */
int nnc__thread_count(void);

/* A buffer of at least `bytes`, 64-byte aligned, private to the calling
 * thread and kept for its lifetime (freed when the thread exits). Grows,
 * never shrinks; NULL when the allocation fails. */
void *nnc__thread_scratch(size_t bytes);

#endif /* NNC_THREADS_H */
