/* Bounded growable byte buffers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"

void
idg_buf_init(struct idg_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

int
idg_buf_reserve(struct idg_buf *b, size_t n)
{
	size_t need, ncap;
	char *nd;

	if (n > b->max - b->len)
		return IDG_ERR_TOOBIG;
	need = b->len + n + 1;	/* room for the terminating NUL */
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > (size_t)-1 / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	nd = realloc(b->data, ncap);
	if (nd == NULL)
		return IDG_ERR_NOMEM;
	b->data = nd;
	b->cap = ncap;
	return 0;
}

int
idg_buf_append(struct idg_buf *b, const void *p, size_t n)
{
	int r = idg_buf_reserve(b, n);

	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
idg_buf_puts(struct idg_buf *b, const char *s)
{
	return idg_buf_append(b, s, strlen(s));
}

int
idg_buf_printf(struct idg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return IDG_ERR_INVAL;
	if ((r = idg_buf_reserve(b, (size_t)n)) < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
idg_buf_consume(struct idg_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void
idg_buf_reset(struct idg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *
idg_buf_steal(struct idg_buf *b)
{
	char *d = b->data;

	if (d == NULL)
		d = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void
idg_buf_free(struct idg_buf *b)
{
	if (b == NULL)
		return;
	if (b->data)
		explicit_bzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
