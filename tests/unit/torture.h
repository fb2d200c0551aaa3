/* Allocation-failure injection for unit tests ("torture" runs): link the test with
 * tests/unit/torture.c and -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup.
 * While torture_armed, the torture_fail_at-th allocation (0-based, counted in torture_calls)
 * fails; a run that ends with torture_calls <= torture_fail_at failed nothing. */
#ifndef IDG_TESTS_UNIT_TORTURE_H
#define IDG_TESTS_UNIT_TORTURE_H

#include <stdbool.h>
#include <stddef.h>

extern bool torture_armed;
extern long torture_calls;
extern long torture_fail_at;

/* Whether the allocation being made now is the one to fail (counts it). */
bool torture_fail(void);

/* The interposed allocators (a test may hand them to a library's own allocator hooks). */
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

#endif
