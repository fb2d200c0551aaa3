/* Reading the NSS snapshot: the checksum, validation of a mapped file, and lookups that
 * check every offset, index and count they follow. libc only, no allocation: nss/ links it.
 * Format: snapshot.h. */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "common/err.h"
#include "proto/snapshot.h"

/* ---------- checksum ---------- */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static inline uint64_t
rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t
round64(uint64_t acc, uint64_t w)
{
	return rotl64(acc + w * P2, 31) * P1;
}

static inline uint64_t
load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* One 32-byte stripe into the four lanes. */
static inline void
stripe(uint64_t v[4], const uint8_t *p)
{
	v[0] = round64(v[0], load64(p));
	v[1] = round64(v[1], load64(p + 8));
	v[2] = round64(v[2], load64(p + 16));
	v[3] = round64(v[3], load64(p + 24));
}

#define HEAD 64u	/* covers `replaced` and `checksum` */

uint64_t
idg_snap_checksum(const void *file, size_t len)
{
	const uint8_t *p = file;
	uint8_t head[HEAD], tail[32];
	uint64_t v[4] = { P1 + P2, P2, 0, -P1 }, h;
	size_t off = len < HEAD ? len : HEAD;

	/* The header's first bytes, with the fields outside the checksum as 0. */
	memset(head, 0, sizeof(head));
	memcpy(head, p, off);
	memset(head + offsetof(struct idg_snap_hdr, replaced), 0, sizeof(uint32_t));
	memset(head + offsetof(struct idg_snap_hdr, checksum), 0, sizeof(uint64_t));
	stripe(v, head);
	stripe(v, head + 32);
	for (; len - off >= 32; off += 32)
		stripe(v, p + off);
	if (off < len) {
		memset(tail, 0, sizeof(tail));
		memcpy(tail, p + off, len - off);
		stripe(v, tail);
	}
	h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18) + len;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}
