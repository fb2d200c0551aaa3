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

/* ---------- validation ---------- */

#define SLOT ((uint32_t)sizeof(struct idg_snap_slot))

static int
is_pow2(uint32_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* A section inside the file, after the header, aligned, a whole number of elem bytes. */
static int
sect_ok(const struct idg_snap_hdr *h, const struct idg_snap_sect *sc, uint32_t elem)
{
	return sc->off % 8 == 0 && sc->off >= h->hdr_size && sc->len % elem == 0 &&
	    (uint64_t)sc->off + sc->len <= h->file_size;
}

static int
header_ok(const struct idg_snap_hdr *h, size_t len)
{
	if (memcmp(h->magic, IDG_SNAP_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != IDG_SNAP_VERSION || h->endian != IDG_SNAP_ENDIAN ||
	    h->hdr_size != sizeof(*h) || h->file_size != len)
		return 0;
	if (h->id_min == 0 || h->id_min > h->id_max || h->id_max == UINT32_MAX)
		return 0;
	if (memchr(h->ask_socket, '\0', sizeof(h->ask_socket)) == NULL)
		return 0;
	if (!sect_ok(h, &h->users, sizeof(struct idg_snap_user)) ||
	    !sect_ok(h, &h->groups, sizeof(struct idg_snap_group)) ||
	    !sect_ok(h, &h->pw_name, SLOT) || !sect_ok(h, &h->pw_uid, SLOT) ||
	    !sect_ok(h, &h->gr_name, SLOT) || !sect_ok(h, &h->gr_gid, SLOT) ||
	    !sect_ok(h, &h->ids, 4) || !sect_ok(h, &h->strings, 1))
		return 0;
	if ((uint64_t)h->nusers * sizeof(struct idg_snap_user) != h->users.len ||
	    (uint64_t)h->ngroups * sizeof(struct idg_snap_group) != h->groups.len)
		return 0;
	return is_pow2(h->pw_name.len / SLOT) && is_pow2(h->pw_uid.len / SLOT) &&
	    is_pow2(h->gr_name.len / SLOT) && is_pow2(h->gr_gid.len / SLOT);
}

int
idg_snap_open(struct idg_snap *s, const void *file, size_t len)
{
	const uint8_t *b = file;
	const struct idg_snap_hdr *h = file;

	if (len > IDG_SNAP_MAX_SIZE)
		return IDG_ERR_TOOBIG;
	if (file == NULL || len < sizeof(*h) || ((uintptr_t)file & 7) != 0 || !header_ok(h, len))
		return IDG_ERR_CORRUPT;
	if (idg_snap_checksum(file, len) != h->checksum)
		return IDG_ERR_CORRUPT;
	s->base = b;
	s->len = len;
	s->hdr = h;
	s->users = (const struct idg_snap_user *)(b + h->users.off);
	s->groups = (const struct idg_snap_group *)(b + h->groups.off);
	s->pw_name = (const struct idg_snap_slot *)(b + h->pw_name.off);
	s->pw_uid = (const struct idg_snap_slot *)(b + h->pw_uid.off);
	s->gr_name = (const struct idg_snap_slot *)(b + h->gr_name.off);
	s->gr_gid = (const struct idg_snap_slot *)(b + h->gr_gid.off);
	s->ids = (const uint32_t *)(b + h->ids.off);
	s->pw_name_slots = h->pw_name.len / SLOT;
	s->pw_uid_slots = h->pw_uid.len / SLOT;
	s->gr_name_slots = h->gr_name.len / SLOT;
	s->gr_gid_slots = h->gr_gid.len / SLOT;
	s->nids = h->ids.len / 4;
	s->strings = (const char *)(b + h->strings.off);
	s->strings_len = h->strings.len;
	return 0;
}

int
idg_snap_replaced(const struct idg_snap *s)
{
	return __atomic_load_n(&s->hdr->replaced, __ATOMIC_ACQUIRE) != 0;
}

/* ---------- records ---------- */

/* A string at off: it must end (NUL) inside the strings section. */
static int
str_at(const struct idg_snap *s, uint32_t off, const char **out, size_t *len_out)
{
	const char *p, *nul;

	if (off >= s->strings_len)
		return IDG_ERR_CORRUPT;
	p = s->strings + off;
	if ((nul = memchr(p, '\0', s->strings_len - off)) == NULL)
		return IDG_ERR_CORRUPT;
	*out = p;
	*len_out = (size_t)(nul - p);
	return 0;
}

/* ids[first .. first + n) inside the ids section. */
static int
ids_at(const struct idg_snap *s, uint32_t first, uint32_t n, const uint32_t **out)
{
	if (first > s->nids || n > s->nids - first)
		return IDG_ERR_CORRUPT;
	*out = s->ids + first;
	return 0;
}

static int
in_range(const struct idg_snap *s, uint32_t id)
{
	return id >= s->hdr->id_min && id <= s->hdr->id_max;
}

int
idg_snap_user(const struct idg_snap *s, uint32_t idx, struct idg_snap_pw *out)
{
	struct idg_snap_user r;
	struct idg_snap_pw pw;

	if (idx >= s->hdr->nusers)
		return IDG_ERR_NOTFOUND;
	memcpy(&r, &s->users[idx], sizeof(r));	/* read once: the checks hold for the copy */
	if (str_at(s, r.name, &pw.name, &pw.name_len) < 0 || pw.name_len == 0 ||
	    str_at(s, r.gecos, &pw.gecos, &pw.gecos_len) < 0 ||
	    str_at(s, r.dir, &pw.dir, &pw.dir_len) < 0 ||
	    str_at(s, r.shell, &pw.shell, &pw.shell_len) < 0 ||
	    ids_at(s, r.groups, r.ngroups, &pw.gids) < 0 ||
	    !in_range(s, r.uid) || !in_range(s, r.gid))
		return IDG_ERR_CORRUPT;
	pw.uid = r.uid;
	pw.gid = r.gid;
	pw.ngids = r.ngroups;
	*out = pw;
	return 0;
}

int
idg_snap_group(const struct idg_snap *s, uint32_t idx, struct idg_snap_gr *out)
{
	struct idg_snap_group r;
	struct idg_snap_gr gr;

	if (idx >= s->hdr->ngroups)
		return IDG_ERR_NOTFOUND;
	memcpy(&r, &s->groups[idx], sizeof(r));
	/* Each member takes at least two bytes (a character and its NUL): a count the strings
	 * section cannot hold is refused here; every name is checked as it is read. */
	if (str_at(s, r.name, &gr.name, &gr.name_len) < 0 || gr.name_len == 0 ||
	    (r.nmembers > 0 && (r.members >= s->strings_len ||
	    r.nmembers > (s->strings_len - r.members) / 2)) || !in_range(s, r.gid))
		return IDG_ERR_CORRUPT;
	gr.gid = r.gid;
	gr.members = r.members;
	gr.nmembers = r.nmembers;
	*out = gr;
	return 0;
}

int
idg_snap_member(const struct idg_snap *s, uint32_t *at, const char **name_out,
    size_t *len_out)
{
	if (str_at(s, *at, name_out, len_out) < 0 || *len_out == 0)
		return IDG_ERR_CORRUPT;
	*at += (uint32_t)*len_out + 1;
	return 0;
}

/* ---------- lookups ---------- */

/* Fetch what a hit will read next while the slot's candidate is being compared: the
 * record, its strings and its list (slot hints, bounded; a wrong hint costs a wasted fetch,
 * never a wrong answer). */
static inline void
fetch_ahead(const struct idg_snap *s, const void *rec, const struct idg_snap_slot *sl,
    int aux_in_strings)
{
	__builtin_prefetch(rec);
	if (sl->str < s->strings_len)
		__builtin_prefetch(s->strings + sl->str);
	if (aux_in_strings ? sl->aux < s->strings_len : sl->aux < s->nids)
		__builtin_prefetch(aux_in_strings ? (const void *)(s->strings + sl->aux) :
		    (const void *)(s->ids + sl->aux));
}

/* Linear probing by name: slots whose key is not the name's hash are passed over without
 * touching a record; a candidate's name is compared at the slot's name offset, and a match
 * counts only if the record names the same string. An empty slot ends the search; at most
 * nslots visits. users: the passwd table (else group). */
static int
probe_name(const struct idg_snap *s, const struct idg_snap_slot *slots, uint32_t nslots,
    const char *name, int users, uint32_t *idx_out)
{
	size_t len = strlen(name);
	uint32_t h = idg_snap_hash_str(name), mask = nslots - 1;
	uint32_t nrec = users ? s->hdr->nusers : s->hdr->ngroups;

	for (uint32_t i = 0, at = h & mask; i < nslots; i++, at = (at + 1) & mask) {
		const struct idg_snap_slot *sl = &slots[at];
		uint32_t idx, recname;
		const void *rec;
		const char *n;
		size_t nlen;

		if (sl->idx == 0)
			return IDG_ERR_NOTFOUND;
		if (sl->key != h)
			continue;
		if ((idx = sl->idx - 1) >= nrec)
			return IDG_ERR_CORRUPT;
		rec = users ? (const void *)&s->users[idx] : (const void *)&s->groups[idx];
		fetch_ahead(s, rec, sl, !users);
		if (str_at(s, sl->str, &n, &nlen) < 0)
			return IDG_ERR_CORRUPT;
		if (nlen != len || memcmp(n, name, len) != 0)
			continue;
		recname = users ? s->users[idx].name : s->groups[idx].name;
		if (recname != sl->str)
			return IDG_ERR_CORRUPT;
		*idx_out = idx;
		return 0;
	}
	return IDG_ERR_NOTFOUND;
}

/* Linear probing by id: the slot's key is the id; the record must carry it too. */
static int
probe_id(const struct idg_snap *s, const struct idg_snap_slot *slots, uint32_t nslots,
    uint32_t id, int users, uint32_t *idx_out)
{
	uint32_t mask = nslots - 1, nrec = users ? s->hdr->nusers : s->hdr->ngroups;

	for (uint32_t i = 0, at = idg_snap_hash_id(id) & mask; i < nslots;
	    i++, at = (at + 1) & mask) {
		const struct idg_snap_slot *sl = &slots[at];
		uint32_t idx;

		if (sl->idx == 0)
			return IDG_ERR_NOTFOUND;
		if (sl->key != id)
			continue;
		if ((idx = sl->idx - 1) >= nrec)
			return IDG_ERR_CORRUPT;
		fetch_ahead(s, users ? (const void *)&s->users[idx] : (const void *)&s->groups[idx],
		    sl, !users);
		if ((users ? s->users[idx].uid : s->groups[idx].gid) != id)
			return IDG_ERR_CORRUPT;
		*idx_out = idx;
		return 0;
	}
	return IDG_ERR_NOTFOUND;
}

int
idg_snap_find_user(const struct idg_snap *s, const char *name, uint32_t *idx_out)
{
	return probe_name(s, s->pw_name, s->pw_name_slots, name, 1, idx_out);
}

int
idg_snap_find_uid(const struct idg_snap *s, uint32_t uid, uint32_t *idx_out)
{
	return probe_id(s, s->pw_uid, s->pw_uid_slots, uid, 1, idx_out);
}

int
idg_snap_find_group(const struct idg_snap *s, const char *name, uint32_t *idx_out)
{
	return probe_name(s, s->gr_name, s->gr_name_slots, name, 0, idx_out);
}

int
idg_snap_find_gid(const struct idg_snap *s, uint32_t gid, uint32_t *idx_out)
{
	return probe_id(s, s->gr_gid, s->gr_gid_slots, gid, 0, idx_out);
}
