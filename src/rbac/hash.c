/* SipHash-1-3 and an open-addressing string map with linear probing. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rbac/hash.h"

static const char tombstone[] = "";
#define TOMBSTONE tombstone

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t
idg_siphash13(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0;
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0;
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k1;
	uint64_t b = (uint64_t)len << 56;
	size_t left = len & 7;
	const uint8_t *end = in + len - left;

	for (; in != end; in += 8) {
		uint64_t m = le64(in);

		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t i = 0; i < left; i++)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

int
idg_strmap_init(struct idg_strmap *m, const uint8_t key[16])
{
	m->cap = 16;
	m->used = m->filled = 0;
	memcpy(m->key, key, 16);
	m->e = calloc(m->cap, sizeof(*m->e));
	return m->e ? 0 : IDG_ERR_NOMEM;
}

static int
rehash(struct idg_strmap *m, size_t ncap)
{
	struct idg_strmap_entry *ne = calloc(ncap, sizeof(*ne));

	if (ne == NULL)
		return IDG_ERR_NOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		const struct idg_strmap_entry *o = &m->e[i];
		size_t j;

		if (o->key == NULL || o->key == TOMBSTONE)
			continue;
		for (j = o->hash & (ncap - 1); ne[j].key; j = (j + 1) & (ncap - 1))
			;
		ne[j] = *o;
	}
	free(m->e);
	m->e = ne;
	m->cap = ncap;
	m->filled = m->used;
	return 0;
}

int
idg_strmap_put(struct idg_strmap *m, const char *k, uint32_t v)
{
	uint64_t h;
	size_t i, slot = SIZE_MAX;

	if ((m->filled + 1) * 2 > m->cap) {
		size_t ncap = (m->used + 1) * 4 > m->cap ? m->cap * 2 : m->cap;
		int r = rehash(m, ncap);

		if (r < 0)
			return r;
	}
	h = idg_siphash13(m->key, k, strlen(k));
	for (i = h & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1)) {
		if (m->e[i].key == TOMBSTONE) {
			if (slot == SIZE_MAX)
				slot = i;
			continue;
		}
		if (m->e[i].hash == h && strcmp(m->e[i].key, k) == 0) {
			m->e[i].key = k;
			m->e[i].val = v;
			return 0;
		}
	}
	if (slot == SIZE_MAX) {
		slot = i;
		m->filled++;
	}
	m->e[slot].hash = h;
	m->e[slot].key = k;
	m->e[slot].val = v;
	m->used++;
	return 0;
}

static struct idg_strmap_entry *
find(const struct idg_strmap *m, const char *k)
{
	uint64_t h = idg_siphash13(m->key, k, strlen(k));

	for (size_t i = h & (m->cap - 1); m->e[i].key; i = (i + 1) & (m->cap - 1)) {
		if (m->e[i].key != TOMBSTONE && m->e[i].hash == h && strcmp(m->e[i].key, k) == 0)
			return &m->e[i];
	}
	return NULL;
}

int
idg_strmap_get(const struct idg_strmap *m, const char *k, uint32_t *v)
{
	const struct idg_strmap_entry *e = find(m, k);

	if (e == NULL)
		return IDG_ERR_NOTFOUND;
	*v = e->val;
	return 0;
}

int
idg_strmap_del(struct idg_strmap *m, const char *k)
{
	struct idg_strmap_entry *e = find(m, k);

	if (e == NULL)
		return IDG_ERR_NOTFOUND;
	e->key = TOMBSTONE;
	m->used--;
	return 0;
}

void
idg_strmap_free(struct idg_strmap *m)
{
	if (m == NULL)
		return;
	free(m->e);
	m->e = NULL;
	m->cap = m->used = m->filled = 0;
}
