/* Bounded growable byte buffers: every buffer has a maximum size set at init. */
#ifndef IDG_COMMON_BUF_H
#define IDG_COMMON_BUF_H

#include <stddef.h>

struct idg_buf {
	char *data;	/* owned; always NUL-terminated after len when non-NULL */
	size_t len;
	size_t cap;
	size_t max;	/* len never exceeds this */
};

void idg_buf_init(struct idg_buf *b, size_t max);
/* Make room for n more bytes: IDG_ERR_TOOBIG past max, IDG_ERR_NOMEM. */
int idg_buf_reserve(struct idg_buf *b, size_t n);
int idg_buf_append(struct idg_buf *b, const void *p, size_t n);
int idg_buf_puts(struct idg_buf *b, const char *s);
int idg_buf_printf(struct idg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void idg_buf_consume(struct idg_buf *b, size_t n);
void idg_buf_reset(struct idg_buf *b);
/* Hand the data over (caller frees); the buffer is left empty. */
char *idg_buf_steal(struct idg_buf *b);
/* Free, wiping the contents first (buffers may hold secrets). */
void idg_buf_free(struct idg_buf *b);

#endif
