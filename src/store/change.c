/* Building changes: a growable list of mutations owning copies of their strings. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "store/store.h"

void
idg_change_init(struct idg_change *c)
{
	memset(c, 0, sizeof(*c));
}

void
idg_change_free(struct idg_change *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free((void *)c->m[i].list);
	for (size_t i = 0; i < c->nstrs; i++)
		free(c->strs[i]);
	free(c->strs);
	free(c->m);
	memset(c, 0, sizeof(*c));
}

static const char *
keep(struct idg_change *c, const char *s)
{
	char *d;

	if (s == NULL || c->err)
		return s;
	if (c->nstrs == c->capstrs) {
		size_t ncap = c->capstrs ? c->capstrs * 2 : 16;
		char **n = realloc(c->strs, ncap * sizeof(*n));

		if (n == NULL) {
			c->err = IDG_ERR_NOMEM;
			return NULL;
		}
		c->strs = n;
		c->capstrs = ncap;
	}
	if ((d = strdup(s)) == NULL) {
		c->err = IDG_ERR_NOMEM;
		return NULL;
	}
	c->strs[c->nstrs++] = d;
	return d;
}

void
idg_change_add(struct idg_change *c, const struct idg_mut *m)
{
	struct idg_mut *d;
	const char **list = NULL;

	if (c->err)
		return;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct idg_mut *n = realloc(c->m, ncap * sizeof(*n));

		if (n == NULL) {
			c->err = IDG_ERR_NOMEM;
			return;
		}
		c->m = n;
		c->cap = ncap;
	}
	if (m->nlist > 0) {
		if ((list = calloc(m->nlist, sizeof(*list))) == NULL) {
			c->err = IDG_ERR_NOMEM;
			return;
		}
		for (size_t i = 0; i < m->nlist; i++)
			list[i] = keep(c, m->list[i]);
	}
	d = &c->m[c->n++];
	*d = *m;
	d->a = keep(c, m->a);
	d->b = keep(c, m->b);
	d->c = keep(c, m->c);
	d->d = keep(c, m->d);
	d->e = keep(c, m->e);
	d->list = list;
}
