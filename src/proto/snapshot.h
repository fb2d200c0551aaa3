/* The NSS snapshot: an immutable file idgated writes (a new file, renamed into place) and
 * libnss_idgate.so.2 maps read-only. It holds every IdP user and group in POSIX form, with
 * hash tables for passwd by name and by uid, group by name and by gid, and each user's group
 * list. libc only: nss/ includes this header.
 *
 * Layout (host byte order; `endian` tells a reader built for the other one to stop):
 *
 *   header (struct idg_snap_hdr, hdr_size bytes)
 *   sections, each 8-byte aligned, located by an {off, len} pair in the header:
 *     users    struct idg_snap_user[nusers]
 *     groups   struct idg_snap_group[ngroups]
 *     pw_name  struct idg_snap_slot[2^k]  linear probing from the name's hash
 *     pw_uid   struct idg_snap_slot[2^k]  the same, from the id's hash
 *     gr_name  struct idg_snap_slot[2^k]
 *     gr_gid   struct idg_snap_slot[2^k]
 *     ids      uint32_t[]           users' gid lists
 *     strings  NUL-terminated strings; offsets into this section. A user's name, gecos and
 *              home are written together; a group's name is followed by its members' names
 *              (a copy of each, one after the other)
 *
 * Speed (version 2): a slot carries its key (the name's hash, or the id itself) and where
 * the record's name and list are, so a lookup that reads the slot can fetch the record, its
 * strings and its list at once, instead of one after the other: at 100,000 entries, where
 * every step is a cache miss, a hit costs about two memory latencies instead of three to six.
 * The slot's copies are hints the reader checks against the record before answering.
 *
 * Trust: a reader checks the header, that every section lies inside the file, and the
 * checksum, once per mapping; then, on every access, that each offset, count and string it
 * follows stays inside its section (a file that passed the checksum is still never trusted
 * in place). A probe never visits more slots than the table has.
 *
 * Replacement: after renaming a new file into place, idgated sets `replaced` to 1 in the old
 * file (through its own descriptor). Every process that has the old file mapped sees it on
 * its next lookup and maps the new one: no stat() per lookup. `replaced` is outside the
 * checksum. */
#ifndef IDG_PROTO_SNAPSHOT_H
#define IDG_PROTO_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define IDG_SNAP_MAGIC "IDGSNAP\n"	/* 8 bytes, no NUL */
#define IDG_SNAP_VERSION 2u
#define IDG_SNAP_ENDIAN 0x01020304u
#define IDG_SNAP_MAX_SIZE (1u << 30)	/* 1 GiB: offsets are 32-bit */
#define IDG_SNAP_SOCK_MAX 108		/* sizeof(sun_path) */

/* flags */
#define IDG_SNAP_F_ENUMERATE 0x1u	/* getpwent/getgrent list the entries ([nss] enumerate) */
#define IDG_SNAP_F_PROVISIONAL 0x2u	/* sshd's misses are asked of idgated ([nss] provisional) */

struct idg_snap_sect {
	uint32_t off;		/* from the start of the file; 8-byte aligned */
	uint32_t len;		/* bytes */
};

struct idg_snap_hdr {
	char magic[8];			/* IDG_SNAP_MAGIC */
	uint32_t version;		/* IDG_SNAP_VERSION */
	uint32_t endian;		/* IDG_SNAP_ENDIAN */
	uint32_t hdr_size;		/* sizeof(struct idg_snap_hdr) */
	uint32_t replaced;		/* 0; 1 once a newer snapshot is in place (not checksummed) */
	uint64_t file_size;		/* the whole file */
	uint64_t generation;		/* grows with every snapshot idgated writes */
	uint64_t checksum;		/* idg_snap_checksum(), with replaced and checksum as 0 */
	uint32_t flags;			/* IDG_SNAP_F_* */
	uint32_t ask_timeout_ms;	/* bound on asking idgated (sshd's misses) */
	uint32_t id_min, id_max;	/* the configured range: every uid and gid is inside */
	uint32_t nusers, ngroups;
	struct idg_snap_sect users, groups, pw_name, pw_uid, gr_name, gr_gid, ids, strings;
	char ask_socket[IDG_SNAP_SOCK_MAX];	/* NUL-terminated: idgated's pam.sock */
	uint32_t reserved[5];		/* 0 */
};

struct idg_snap_user {
	uint32_t name, gecos, dir, shell;	/* offsets into strings */
	uint32_t uid, gid;			/* gid: the primary group */
	uint32_t groups, ngroups;		/* ids[groups .. groups + ngroups): supplementary gids */
};

struct idg_snap_group {
	uint32_t name;				/* offset into strings */
	uint32_t gid;
	uint32_t members, nmembers;		/* strings[members ..]: nmembers names in a row */
};

/* A hash-table slot. idx 0: empty. */
struct idg_snap_slot {
	uint32_t key;	/* name tables: idg_snap_hash_str(name); id tables: the id itself */
	uint32_t idx;	/* the record's index + 1 */
	uint32_t str;	/* the record's name (a strings offset) */
	uint32_t aux;	/* users: the record's groups (ids offset); groups: its members */
};

_Static_assert(sizeof(struct idg_snap_hdr) % 8 == 0, "sections stay aligned");
_Static_assert(sizeof(struct idg_snap_user) == 32, "fixed layout");
_Static_assert(sizeof(struct idg_snap_group) == 16, "fixed layout");
_Static_assert(sizeof(struct idg_snap_slot) == 16, "fixed layout");

/* The hashes every writer and reader use (FNV-1a over the bytes; a multiplicative hash for
 * ids). Slot = hash & (nslots - 1). */
static inline uint32_t
idg_snap_hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static inline uint32_t
idg_snap_hash_id(uint32_t id)
{
	return id * 2654435761u;
}

/* The checksum over a whole file (len bytes), as the header's checksum field records it:
 * the bytes of `replaced` and `checksum` count as 0. Implemented in snap_read.c. */
uint64_t idg_snap_checksum(const void *file, size_t len);

/* ---------- writing (idgated; snap_write.c) ---------- */

struct idg_snap_in_user {
	const char *name, *gecos, *dir, *shell;
	uint32_t uid, gid;
	const uint32_t *gids;		/* supplementary groups */
	size_t ngids;
};

struct idg_snap_in_group {
	const char *name;
	uint32_t gid;
	const uint32_t *members;	/* indices into the users given with it */
	size_t nmembers;
};

struct idg_snap_in {
	uint64_t generation;
	uint32_t flags, ask_timeout_ms, id_min, id_max;
	const char *ask_socket;
	const struct idg_snap_in_user *users;
	size_t nusers;
	const struct idg_snap_in_group *groups;
	size_t ngroups;
};

/* Lay out a snapshot in a new buffer (free() it). IDG_ERR_INVAL for a duplicate name or id,
 * an id outside [id_min, id_max], a member index out of range or a string with a ':' or a
 * newline; also for a NULL or empty name, a NULL gecos, dir or shell (give "" instead), and
 * a range that is empty, contains 0 (root) or (uint32_t)-1; IDG_ERR_TOOBIG over
 * IDG_SNAP_MAX_SIZE; IDG_ERR_NOMEM. Tables get a power of two >= 2x their entries. */
int idg_snap_build(const struct idg_snap_in *in, uint8_t **buf_out, size_t *len_out);

/* Put a built snapshot at path: a temporary file in the same directory (mode 0644, owner
 * root), written, fsync'ed, renamed over path, the directory fsync'ed; then the file it
 * replaced is marked `replaced` (only if it is a snapshot). The new file's `replaced` is
 * written as 0 whatever buf holds. Publishers of one path take turns through an flock on
 * "PATH.lock" (created mode 0600 beside it and left there). On any failure the old file
 * stays in place and untouched. 0 or a negative IDG_ERR_* with a reason in err. */
int idg_snap_publish(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* ---------- reading (nss/, tests; snap_read.c: libc only, no allocation) ---------- */

/* A validated view of a snapshot in memory (a mapping): pointers into it, nothing owned. */
struct idg_snap {
	const uint8_t *base;
	size_t len;
	const struct idg_snap_hdr *hdr;
	const struct idg_snap_user *users;
	const struct idg_snap_group *groups;
	const struct idg_snap_slot *pw_name, *pw_uid, *gr_name, *gr_gid;
	const uint32_t *ids;
	uint32_t pw_name_slots, pw_uid_slots, gr_name_slots, gr_gid_slots, nids;
	const char *strings;
	uint32_t strings_len;
};

/* A user as the accessors hand it out: every string checked to end inside the strings
 * section (its length given), every gid inside the header's range, gids[] inside ids. */
struct idg_snap_pw {
	const char *name, *gecos, *dir, *shell;
	size_t name_len, gecos_len, dir_len, shell_len;
	uint32_t uid, gid;
	const uint32_t *gids;	/* supplementary gids: check each against the range on use */
	uint32_t ngids;
};

struct idg_snap_gr {
	const char *name;
	size_t name_len;
	uint32_t gid;
	uint32_t members;	/* the first member's name: walk them with idg_snap_member() */
	uint32_t nmembers;
};

/* Check a file of len bytes (the header, every section inside it and 8-byte aligned, table
 * sizes powers of two, the id range, the checksum) and fill s. 0, or IDG_ERR_CORRUPT
 * (IDG_ERR_TOOBIG over IDG_SNAP_MAX_SIZE). The file must stay mapped while s is used. */
int idg_snap_open(struct idg_snap *s, const void *file, size_t len);

/* Whether a newer snapshot has replaced this one (an atomic load of the header's field). */
int idg_snap_replaced(const struct idg_snap *s);

/* Lookups: the record's index, IDG_ERR_NOTFOUND, or IDG_ERR_CORRUPT when the table leads
 * outside the records. A probe visits at most the table's slot count. */
int idg_snap_find_user(const struct idg_snap *s, const char *name, uint32_t *idx_out);
int idg_snap_find_uid(const struct idg_snap *s, uint32_t uid, uint32_t *idx_out);
int idg_snap_find_group(const struct idg_snap *s, const char *name, uint32_t *idx_out);
int idg_snap_find_gid(const struct idg_snap *s, uint32_t gid, uint32_t *idx_out);

/* Records by index (lookups and enumeration): IDG_ERR_NOTFOUND past the end,
 * IDG_ERR_CORRUPT when anything in the record points outside its section or range. */
int idg_snap_user(const struct idg_snap *s, uint32_t idx, struct idg_snap_pw *out);
int idg_snap_group(const struct idg_snap *s, uint32_t idx, struct idg_snap_gr *out);
/* A group's members in order: start with *at = gr->members and call it gr->nmembers times;
 * each call gives the next name, checked like every string, and moves *at past it.
 * IDG_ERR_CORRUPT when a name does not end inside the strings section or is empty. */
int idg_snap_member(const struct idg_snap *s, uint32_t *at, const char **name_out,
    size_t *len_out);

#endif
