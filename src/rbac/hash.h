/* A keyed string -> u32 map. Keys are not copied: the owner keeps them alive while mapped.
 * SipHash-1-3 with a per-map random key, so chosen names cannot flood one bucket. */
#ifndef IDG_RBAC_HASH_H
#define IDG_RBAC_HASH_H

#include <stddef.h>
#include <stdint.h>

struct idg_strmap_entry {
	uint64_t hash;
	const char *key;	/* NULL: empty; TOMBSTONE: deleted */
	uint32_t val;
};

struct idg_strmap {
	struct idg_strmap_entry *e;
	size_t cap;		/* power of two */
	size_t used;		/* live entries */
	size_t filled;		/* live + tombstones */
	uint8_t key[16];
};

uint64_t idg_siphash13(const uint8_t key[16], const void *data, size_t len);

int idg_strmap_init(struct idg_strmap *m, const uint8_t key[16]);
/* Insert or replace. */
int idg_strmap_put(struct idg_strmap *m, const char *k, uint32_t v);
/* 0 and *v set, or IDG_ERR_NOTFOUND. */
int idg_strmap_get(const struct idg_strmap *m, const char *k, uint32_t *v);
int idg_strmap_del(struct idg_strmap *m, const char *k);
void idg_strmap_free(struct idg_strmap *m);

#endif
