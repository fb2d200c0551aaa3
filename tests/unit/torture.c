/* Allocation-failure injection for unit tests: see torture.h. */
#include "config.h"

#include <stddef.h>

#include "torture.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

bool torture_armed;
long torture_calls;
long torture_fail_at;

bool
torture_fail(void)
{
	return torture_armed && torture_calls++ == torture_fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return torture_fail() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return torture_fail() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return torture_fail() ? NULL : __real_realloc(p, n);
}

char *
__wrap_strdup(const char *s)
{
	return torture_fail() ? NULL : __real_strdup(s);
}
