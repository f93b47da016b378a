/*
 * check.h - what the self-checking C test programs of tests/c share: one
 * line per check ("ok   ..." or "FAIL ..."), counted, and the last line,
 * "PASSED: 0 failure(s)", that pytest looks for.
 */
#ifndef NNC_TESTS_CHECK_H
#define NNC_TESTS_CHECK_H

#include <stdio.h>

static int failures = 0, checks = 0;

#define CHECK(cond, ...)            \
    do {                            \
        checks++;                   \
        if (cond) {                 \
            printf("ok   ");        \
        } else {                    \
            printf("FAIL ");        \
            failures++;             \
        }                           \
        printf(__VA_ARGS__);        \
        printf("\n");               \
    } while (0)

/* Prints the verdict line; returns the program's exit status. */
static inline int check_summary(void) {
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}

#endif
