/* The id mapping (src/idmap/ids.c): the id table against a plain array, FNV-1a 64 against
 * published vectors, hash ids inside their range, the local accounts read from private
 * passwd/group files (changes, errors, malformed lines), and the allocator against a
 * reference written here — probing, wrapping, skipped ids, conflicts, a full range, and two
 * simulated nodes that must agree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "idmap/ids.h"

static const uint8_t dbkey[16] = { 'i', 'd', 's', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
static const uint8_t dbkey2[16] = { 'o', 't', 'h', 'e', 'r', 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0 };

/* ---------- references, written here from the definitions ---------- */

/* FNV-1a 64 as published (offset basis, prime); checked against the vectors below. */
static uint64_t
ref_fnv(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint32_t
ref_hash(const char *name, uint32_t min, uint32_t max)
{
	return min + (uint32_t)(ref_fnv(name) % ((uint64_t)max - min + 1));
}

/* A name "PREFIX<n>" whose hash id in [min,max] is target (the span must be small). */
static void
name_hashing_to(char *out, size_t outlen, const char *prefix, uint32_t min, uint32_t max,
    uint32_t target)
{
	for (unsigned n = 0; n < 10000000; n++) {
		snprintf(out, outlen, "%s%u", prefix, n);
		if (ref_hash(out, min, max) == target)
			return;
	}
	fail_msg("no name with prefix %s hashes to %u in %u-%u", prefix, target, min, max);
}

/* xorshift64*, fixed seeds: failures reproduce. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* ---------- fixture: a private directory with passwd and group ---------- */

struct fx {
	char dir[64];
	char passwd[96], group[96];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/idg-ids-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->passwd, sizeof(f->passwd), "%s/passwd", f->dir);
	snprintf(f->group, sizeof(f->group), "%s/group", f->dir);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Write len bytes into path in place (same inode when it exists). */
static void
write_bytes(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;

	assert_true(fd >= 0);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		assert_true(w > 0);
		off += (size_t)w;
	}
	assert_int_equal(close(fd), 0);
}

static void
write_text(const char *path, const char *text)
{
	write_bytes(path, text, strlen(text));
}

/* Shift path's mtime by sec seconds: a change the next refresh must see whatever the clock. */
static void
shift_mtime(const char *path, time_t sec)
{
	struct stat st;
	struct timespec ts[2];

	assert_int_equal(stat(path, &st), 0);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ts[1].tv_sec += sec;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Init db on the fixture's files (written from the texts) and read them once. */
static void
localdb_read(struct fx *f, struct idg_localdb *db, const char *passwd, const char *group)
{
	write_text(f->passwd, passwd);
	write_text(f->group, group);
	assert_int_equal(idg_localdb_init(db, f->passwd, f->group, dbkey), 0);
	assert_int_equal(idg_localdb_refresh(db), 0);
}

/* ---------- FNV-1a and the hash id ---------- */

static void
fnv1a64_matches_published_vectors(void **state)
{
	(void)state;
	/* From the FNV reference test suite (Noll). */
	assert_true(idg_idmap_fnv1a64("") == 0xcbf29ce484222325ULL);
	assert_true(idg_idmap_fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(idg_idmap_fnv1a64("b") == 0xaf63df4c8601f1a5ULL);
	assert_true(idg_idmap_fnv1a64("foo") == 0xdcb27518fed9d577ULL);
	assert_true(idg_idmap_fnv1a64("foobar") == 0x85944171f73967e8ULL);
	/* Bytes above 0x7f are taken unsigned (a sign-extended char would XOR in 0xff..ff):
	 * worked out with an independent implementation. */
	assert_true(idg_idmap_fnv1a64("\xff") == 0xaf64724c8602eb6eULL);
	assert_true(idg_idmap_fnv1a64("\xc3\xa9t\xc3\xa9") == 0x009a8f0e88b51857ULL);
	/* The reference used below agrees with the same vectors. */
	assert_true(ref_fnv("") == 0xcbf29ce484222325ULL);
	assert_true(ref_fnv("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(ref_fnv("foobar") == 0x85944171f73967e8ULL);
	assert_true(ref_fnv("\xff") == 0xaf64724c8602eb6eULL);
}

static void
hash_id_is_min_plus_fnv_mod_span(void **state)
{
	(void)state;
	/* Worked out from the published vectors, not from the code under test. */
	assert_int_equal(idg_idmap_hash_id("a", 200000, 2000200000),
	    200000u + (uint32_t)(0xaf63dc4c8601ec8cULL % 2000000001ULL));
	assert_int_equal(idg_idmap_hash_id("a", 1, 2), 1u + (uint32_t)(0xaf63dc4c8601ec8cULL % 2));
	assert_int_equal(idg_idmap_hash_id("foobar", 1000, 1006),
	    1000u + (uint32_t)(0x85944171f73967e8ULL % 7));
	assert_int_equal(idg_idmap_hash_id("", 5, 5), 5);
	/* The whole 32-bit space: the span 2^32 does not overflow. */
	assert_int_equal(idg_idmap_hash_id("foobar", 0, UINT32_MAX),
	    (uint32_t)(0x85944171f73967e8ULL & 0xffffffffULL));
}

static void
hash_id_stays_inside_the_range(void **state)
{
	static const uint32_t ranges[][2] = {
		{ 200000, 2000200000 },	/* the default */
		{ 1000, 1001 },		/* min == max - 1 */
		{ 4294967293u, 4294967294u },
		{ 65534, 65535 },
		{ 7, 7 },
		{ 1, UINT32_MAX },
		{ 60000, 79999 },
	};
	char name[64];

	(void)state;
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		uint32_t min = ranges[r][0], max = ranges[r][1];
		bool saw_min = false, saw_max = false;

		for (unsigned i = 0; i < 50000; i++) {
			uint32_t h;

			snprintf(name, sizeof(name), "%s%u", i & 1 ? "user" : "grp.", i);
			h = idg_idmap_hash_id(name, min, max);
			if (h < min || h > max)
				fail_msg("'%s' -> %u outside %u-%u", name, h, min, max);
			assert_int_equal(h, ref_hash(name, min, max));
			saw_min |= h == min;
			saw_max |= h == max;
		}
		/* Two-id ranges: both ends are reached. */
		if (max - min == 1) {
			assert_true(saw_min);
			assert_true(saw_max);
		}
	}
}

/* ---------- the id table ---------- */

static void
idtab_put_get_has_del(void **state)
{
	struct idg_idtab t;
	uint32_t v = 12345;

	(void)state;
	idg_idtab_init(&t, 42);
	/* Empty, never allocated: every lookup says no. */
	assert_false(idg_idtab_has(&t, 7));
	assert_int_equal(idg_idtab_get(&t, 7, &v), IDG_ERR_NOTFOUND);
	assert_int_equal(v, 12345);
	assert_int_equal(idg_idtab_del(&t, 7), IDG_ERR_NOTFOUND);

	assert_int_equal(idg_idtab_put(&t, 7, 70), 0);
	assert_int_equal(idg_idtab_put(&t, 200000, 2), 0);
	assert_int_equal(idg_idtab_put(&t, UINT32_MAX, 9), 0);
	assert_int_equal(t.n, 3);
	assert_true(idg_idtab_has(&t, 7));
	assert_int_equal(idg_idtab_get(&t, 7, &v), 0);
	assert_int_equal(v, 70);
	assert_int_equal(idg_idtab_get(&t, UINT32_MAX, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(idg_idtab_get(&t, 200000, NULL), 0);
	assert_false(idg_idtab_has(&t, 8));

	/* Replacing keeps one entry. */
	assert_int_equal(idg_idtab_put(&t, 7, 71), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(idg_idtab_get(&t, 7, &v), 0);
	assert_int_equal(v, 71);

	assert_int_equal(idg_idtab_del(&t, 7), 0);
	assert_int_equal(t.n, 2);
	assert_false(idg_idtab_has(&t, 7));
	assert_int_equal(idg_idtab_del(&t, 7), IDG_ERR_NOTFOUND);
	assert_true(idg_idtab_has(&t, 200000));
	assert_true(idg_idtab_has(&t, UINT32_MAX));

	/* clear empties but keeps the slots; the table is usable again. */
	idg_idtab_clear(&t);
	assert_int_equal(t.n, 0);
	assert_true(t.cap > 0);
	assert_false(idg_idtab_has(&t, 200000));
	assert_int_equal(idg_idtab_put(&t, 200000, 3), 0);
	assert_int_equal(idg_idtab_get(&t, 200000, &v), 0);
	assert_int_equal(v, 3);

	idg_idtab_free(&t);
	assert_null(t.s);
	assert_int_equal(t.n, 0);
	assert_false(idg_idtab_has(&t, 200000));
	idg_idtab_free(&t);	/* twice is fine */
	idg_idtab_free(NULL);
}

static void
idtab_refuses_id_zero(void **state)
{
	struct idg_idtab t;
	uint32_t v = 5;

	(void)state;
	idg_idtab_init(&t, 1);
	assert_int_equal(idg_idtab_put(&t, 0, 1), IDG_ERR_INVAL);
	assert_int_equal(t.n, 0);
	assert_int_equal(idg_idtab_put(&t, 1, 1), 0);
	assert_int_equal(idg_idtab_put(&t, 0, 1), IDG_ERR_INVAL);
	assert_int_equal(t.n, 1);
	/* 0 marks an empty slot: it must never be found in one. */
	assert_false(idg_idtab_has(&t, 0));
	assert_int_equal(idg_idtab_get(&t, 0, &v), IDG_ERR_NOTFOUND);
	assert_int_equal(v, 5);
	assert_int_equal(idg_idtab_del(&t, 0), IDG_ERR_NOTFOUND);
	assert_int_equal(t.n, 1);
	idg_idtab_free(&t);
}

#define SCATTER(i) (3000000000u + (((uint32_t)(i) * 2654435761u) & 0x3fffffffu))

static void
idtab_grows_past_many_thousands(void **state)
{
	enum { N = 150000 };
	struct idg_idtab t;
	uint32_t v;

	(void)state;
	idg_idtab_init(&t, 0x5eed);
	/* Dense ids from the default range's start, and ids scattered over [3e9, 3e9 + 2^30)
	 * (an odd multiplier modulo 2^30 is a bijection: no repeats). */
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(idg_idtab_put(&t, 200000 + i, i), 0);
		assert_int_equal(idg_idtab_put(&t, SCATTER(i), i ^ 0xabcdu), 0);
	}
	assert_int_equal(t.n, 2 * N);
	assert_true(t.cap >= 2 * t.n);
	assert_int_equal(t.cap & (t.cap - 1), 0);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(idg_idtab_get(&t, 200000 + i, &v), 0);
		assert_int_equal(v, i);
		assert_int_equal(idg_idtab_get(&t, SCATTER(i), &v), 0);
		assert_int_equal(v, i ^ 0xabcdu);
	}
	assert_false(idg_idtab_has(&t, 200000 + N));
	assert_false(idg_idtab_has(&t, 199999));
	assert_false(idg_idtab_has(&t, SCATTER(N)));
	/* Delete every other dense id; the rest and all scattered ones stay. */
	for (uint32_t i = 0; i < N; i += 2)
		assert_int_equal(idg_idtab_del(&t, 200000 + i), 0);
	assert_int_equal(t.n, 2 * N - N / 2);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(idg_idtab_has(&t, 200000 + i), i % 2 == 1);
		assert_true(idg_idtab_has(&t, SCATTER(i)));
	}
	idg_idtab_free(&t);
}

/* One table through random puts, replacements and deletes, compared with a plain list of
 * the live entries. New ids are odd and never repeat (a bijection of a counter), ids looked
 * up as absent are even, so the model needs no lookups of its own; the live set stays at or
 * below lim, so a small lim keeps a 64-slot table near half full with homes that keep
 * changing: probe runs wrap around the end and deletion meets every arrangement. */
static void
churn(uint64_t key, unsigned lim, unsigned ops, uint64_t seed)
{
	struct idg_idtab t;
	struct { uint32_t id, val; } *live = calloc(lim, sizeof(*live));
	unsigned n = 0;
	uint32_t next = 1;

	assert_non_null(live);
	idg_idtab_init(&t, key);
	for (unsigned op = 0; op < ops; op++) {
		uint64_t r = rnd(&seed);
		unsigned pick = n ? (unsigned)((r >> 8) % n) : 0;
		uint32_t val = (uint32_t)(r >> 32), v, absent = (uint32_t)(r >> 30) & ~1u;

		switch (r % 8) {
		case 0:
		case 1:
			if (n == 0)
				break;
			assert_int_equal(idg_idtab_del(&t, live[pick].id), 0);
			assert_false(idg_idtab_has(&t, live[pick].id));
			live[pick] = live[--n];
			break;
		case 2:
			if (absent != 0)
				assert_int_equal(idg_idtab_del(&t, absent), IDG_ERR_NOTFOUND);
			break;
		case 3:
			if (n == 0)
				break;
			assert_int_equal(idg_idtab_put(&t, live[pick].id, val), 0);
			live[pick].val = val;
			break;
		default:
			if (n == lim)
				break;
			live[n].id = ((next++ * 2654435761u) << 1) | 1u;
			live[n].val = val;
			assert_int_equal(idg_idtab_put(&t, live[n].id, val), 0);
			n++;
		}
		assert_int_equal(t.n, n);
		assert_true(t.n * 2 <= t.cap || t.cap == 0);
		if (lim > 64 && op % 97 != 0)
			continue;
		for (unsigned j = 0; j < n; j++) {
			if (idg_idtab_get(&t, live[j].id, &v) != 0)
				fail_msg("op %u: id %u put but not found", op, live[j].id);
			assert_int_equal(v, live[j].val);
		}
		if (absent != 0 && idg_idtab_has(&t, absent))
			fail_msg("op %u: id %u never put but found", op, absent);
	}
	idg_idtab_free(&t);
	free(live);
}

static void
idtab_random_churn_matches_a_list(void **state)
{
	static const uint64_t keys[] = { 0, 1, 0xdeadbeefcafef00dULL };

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		churn(keys[k], 31, 200000, 0x1d5a11ce + k);
		churn(keys[k], 300, 100000, 0xbadf00d + k);
		churn(keys[k], 5000, 100000, 0xfeed + k);
	}
}

/* ---------- the local accounts ---------- */

static const char passwd_std[] =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
    "bob:x:1001:1001::/home/bob:/bin/sh\n"
    "svc:x:1003:4242::/nonexistent:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group_std[] =
    "root:x:0:\n"
    "staff:x:50:alice,bob\n"
    "alice:x:1000:\n"
    "devs:x:1500:alice\n"
    "nogroup:x:65534:\n";

static void
localdb_reads_users_groups_and_ids(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;

	write_text(f->passwd, passwd_std);
	write_text(f->group, group_std);
	assert_int_equal(idg_localdb_init(&db, f->passwd, f->group, dbkey), 0);
	/* Nothing is read before the first refresh. */
	assert_int_equal(db.generation, 0);
	assert_false(idg_localdb_user(&db, "alice"));
	assert_false(idg_localdb_group(&db, "staff"));
	assert_null(idg_localdb_id(&db, 1000));

	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 1);
	assert_true(idg_localdb_user(&db, "root"));
	assert_true(idg_localdb_user(&db, "alice"));
	assert_true(idg_localdb_user(&db, "bob"));
	assert_true(idg_localdb_user(&db, "nobody"));
	assert_false(idg_localdb_user(&db, "staff"));	/* a group, not a user */
	assert_false(idg_localdb_user(&db, "carol"));
	assert_false(idg_localdb_user(&db, "ALICE"));
	assert_false(idg_localdb_user(&db, ""));
	assert_true(idg_localdb_group(&db, "staff"));
	assert_true(idg_localdb_group(&db, "alice"));
	assert_true(idg_localdb_group(&db, "devs"));
	assert_false(idg_localdb_group(&db, "bob"));	/* a user without a group entry */
	assert_false(idg_localdb_group(&db, "daemon"));

	assert_string_equal(idg_localdb_id(&db, 1), "daemon");
	assert_string_equal(idg_localdb_id(&db, 1001), "bob");
	assert_string_equal(idg_localdb_id(&db, 50), "staff");
	assert_string_equal(idg_localdb_id(&db, 1500), "devs");
	assert_string_equal(idg_localdb_id(&db, 65534), "nobody");
	/* uid 1000 and gid 1000: the first owner (passwd is read first) names it. */
	assert_string_equal(idg_localdb_id(&db, 1000), "alice");
	assert_null(idg_localdb_id(&db, 1002));
	/* A primary gid with no line in /etc/group is a local id all the same. */
	assert_string_equal(idg_localdb_id(&db, 4242), "svc");
	assert_null(idg_localdb_id(&db, 0));	/* root's 0 is never a candidate id */
	idg_localdb_free(&db);
	idg_localdb_free(&db);	/* twice is fine */
	idg_localdb_free(NULL);
}

static void
localdb_first_owner_of_an_id_is_kept(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;

	localdb_read(f, &db,
	    "first:x:4000:4000::/:/bin/sh\n"
	    "second:x:4000:4000::/:/bin/sh\n",
	    "grp1:x:4001:\n"
	    "grp2:x:4001:\n"
	    "grp3:x:4000:\n");
	assert_true(idg_localdb_user(&db, "first"));
	assert_true(idg_localdb_user(&db, "second"));
	assert_true(idg_localdb_group(&db, "grp3"));
	assert_string_equal(idg_localdb_id(&db, 4000), "first");
	assert_string_equal(idg_localdb_id(&db, 4001), "grp1");
	idg_localdb_free(&db);
}

static void
localdb_default_paths_are_etc_passwd_and_group(void **state)
{
	struct idg_localdb db;

	(void)state;
	assert_int_equal(idg_localdb_init(&db, NULL, NULL, dbkey), 0);
	assert_string_equal(db.path[0], "/etc/passwd");
	assert_string_equal(db.path[1], "/etc/group");
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_true(idg_localdb_user(&db, "root"));
	assert_true(idg_localdb_group(&db, "root"));
	idg_localdb_free(&db);
}

static void
localdb_refresh_rereads_only_after_a_change(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	char tmp[128];
	struct stat st;
	struct timespec ts[2];

	localdb_read(f, &db, passwd_std, group_std);
	assert_int_equal(db.generation, 1);
	/* Unchanged files: nothing is read again. */
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 1);

	/* A line appended (size). */
	{
		char text[sizeof(passwd_std) + 64];

		snprintf(text, sizeof(text), "%scarol:x:1002:1002::/:/bin/sh\n", passwd_std);
		write_text(f->passwd, text);
	}
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 2);
	assert_true(idg_localdb_user(&db, "carol"));
	assert_string_equal(idg_localdb_id(&db, 1002), "carol");
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 2);

	/* Rewritten in place, same size, only the mtime tells. */
	write_text(f->group, "root:x:0:\nstaff:x:50:alice,bob\nalice:x:1000:\nops_:x:1501:alice\n"
	    "nogroup:x:65534:\n");
	assert_int_equal(strlen("ops_:x:1501:alice\n"), strlen("devs:x:1500:alice\n"));
	shift_mtime(f->group, 10);
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 3);
	assert_true(idg_localdb_group(&db, "ops_"));
	assert_false(idg_localdb_group(&db, "devs"));
	assert_string_equal(idg_localdb_id(&db, 1501), "ops_");
	assert_null(idg_localdb_id(&db, 1500));
	/* The other file's contents came along unchanged. */
	assert_true(idg_localdb_user(&db, "carol"));

	/* Replaced by rename with the same size and mtime: only the inode tells. */
	assert_int_equal(stat(f->group, &st), 0);
	snprintf(tmp, sizeof(tmp), "%s/group.new", f->dir);
	write_text(tmp, "root:x:0:\nstaff:x:50:alice,bob\nalice:x:1000:\ndevs:x:1509:alice\n"
	    "nogroup:x:65534:\n");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, tmp, ts, 0), 0);
	assert_int_equal(rename(tmp, f->group), 0);
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 4);
	assert_string_equal(idg_localdb_id(&db, 1509), "devs");
	assert_null(idg_localdb_id(&db, 1501));
	idg_localdb_free(&db);
}

static void
localdb_missing_file_is_an_error_and_the_old_view_stays(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;

	/* Never readable: IDG_ERR_IO, nothing known. */
	write_text(f->group, group_std);
	assert_int_equal(idg_localdb_init(&db, f->passwd, f->group, dbkey), 0);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(db.generation, 0);
	assert_false(idg_localdb_group(&db, "staff"));
	idg_localdb_free(&db);

	/* Read once, then gone: the error each time, the last good view kept. */
	localdb_read(f, &db, passwd_std, group_std);
	assert_int_equal(unlink(f->passwd), 0);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(db.generation, 1);
	assert_true(idg_localdb_user(&db, "alice"));
	assert_string_equal(idg_localdb_id(&db, 1500), "devs");
	/* Back again: read. */
	write_text(f->passwd, "zed:x:5000:5000::/:/bin/sh\n");
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 2);
	assert_true(idg_localdb_user(&db, "zed"));
	assert_false(idg_localdb_user(&db, "alice"));

	/* The group file missing counts the same. */
	assert_int_equal(unlink(f->group), 0);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(db.generation, 2);
	assert_true(idg_localdb_group(&db, "devs"));
	idg_localdb_free(&db);
}

/* A path that stat() and fopen() accept but that cannot be read (a directory: read() fails
 * with EISDIR) must not pass for an empty file: that would drop every local account from
 * the view and let idgate hand out their ids and names. */
static void
localdb_read_error_is_an_error_not_an_empty_file(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;

	assert_int_equal(mkdir(f->passwd, 0755), 0);
	write_text(f->group, group_std);
	assert_int_equal(idg_localdb_init(&db, f->passwd, f->group, dbkey), 0);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(db.generation, 0);
	idg_localdb_free(&db);
	assert_int_equal(rmdir(f->passwd), 0);

	/* Read once; then each file in turn becomes unreadable: the error, the old view kept. */
	localdb_read(f, &db, passwd_std, group_std);
	assert_int_equal(unlink(f->passwd), 0);
	assert_int_equal(mkdir(f->passwd, 0755), 0);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(db.generation, 1);
	assert_true(idg_localdb_user(&db, "alice"));
	assert_string_equal(idg_localdb_id(&db, 1001), "bob");
	assert_int_equal(rmdir(f->passwd), 0);
	write_text(f->passwd, passwd_std);
	assert_int_equal(unlink(f->group), 0);
	assert_int_equal(mkdir(f->group, 0755), 0);
	assert_int_equal(idg_localdb_refresh(&db), IDG_ERR_IO);
	assert_int_equal(db.generation, 1);
	assert_true(idg_localdb_group(&db, "devs"));
	assert_string_equal(idg_localdb_id(&db, 50), "staff");
	idg_localdb_free(&db);
}

static void
localdb_skips_malformed_lines_and_reads_the_rest(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;

	localdb_read(f, &db,
	    "short:x:3100\n"			/* too few fields */
	    "nonnum:x:31ab:5::/:/bin/sh\n"	/* not a number */
	    "emptyuid:x::5::/:/bin/sh\n"
	    "nameonly\n"
	    "\n"
	    "# a comment:x:3101:3101::/:\n"
	    "   \t \n"
	    "ok1:x:3001:3001::/:/bin/sh\n"
	    "fourfields:x:3002:3002\n"		/* the rest may be missing */
	    "  spaced:x:3003:3003::/:/bin/sh\n"
	    "last:x:3004:3004::/:/bin/sh",		/* no trailing newline */
	    "g_short:x\n"
	    "g_nonnum:x:abc:\n"
	    "g_ok:x:3200:a,b,c\n"
	    "g_last:x:3201:");			/* no trailing newline */
	assert_false(idg_localdb_user(&db, "short"));
	assert_false(idg_localdb_user(&db, "nonnum"));
	assert_false(idg_localdb_user(&db, "emptyuid"));
	assert_false(idg_localdb_user(&db, "nameonly"));
	assert_null(idg_localdb_id(&db, 3100));
	assert_null(idg_localdb_id(&db, 31));
	assert_null(idg_localdb_id(&db, 3101));
	assert_true(idg_localdb_user(&db, "ok1"));
	assert_true(idg_localdb_user(&db, "fourfields"));
	assert_true(idg_localdb_user(&db, "spaced"));
	assert_true(idg_localdb_user(&db, "last"));
	assert_string_equal(idg_localdb_id(&db, 3001), "ok1");
	assert_string_equal(idg_localdb_id(&db, 3002), "fourfields");
	assert_string_equal(idg_localdb_id(&db, 3004), "last");
	assert_false(idg_localdb_group(&db, "g_short"));
	assert_false(idg_localdb_group(&db, "g_nonnum"));
	assert_true(idg_localdb_group(&db, "g_ok"));
	assert_true(idg_localdb_group(&db, "g_last"));
	assert_string_equal(idg_localdb_id(&db, 3201), "g_last");
	idg_localdb_free(&db);
}

static void
localdb_empty_files_are_no_accounts(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;

	localdb_read(f, &db, "", "");
	assert_int_equal(db.generation, 1);
	assert_false(idg_localdb_user(&db, "root"));
	assert_false(idg_localdb_group(&db, "root"));
	assert_null(idg_localdb_id(&db, 1));
	/* Filled later: read. */
	write_text(f->passwd, "late:x:7000:7000::/:/bin/sh\n");
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_int_equal(db.generation, 2);
	assert_string_equal(idg_localdb_id(&db, 7000), "late");
	idg_localdb_free(&db);
}

static void
localdb_reads_past_huge_lines(void **state)
{
	enum { GECOS = 4 << 20, MEMBERS = 60000 };
	struct fx *f = *state;
	struct idg_localdb db;
	char *big = malloc(GECOS + 256), *p;
	size_t off;

	assert_non_null(big);
	/* passwd: a 4 MiB gecos between two ordinary lines. */
	off = (size_t)sprintf(big, "before:x:3300:3300::/:/bin/sh\nhuge:x:3301:3301:");
	memset(big + off, 'g', GECOS);
	off += GECOS;
	off += (size_t)sprintf(big + off, ":/:/bin/sh\nafter:x:3302:3302::/:/bin/sh\n");
	write_bytes(f->passwd, big, off);
	free(big);
	/* group: 60,000 members on one line. */
	big = malloc((size_t)MEMBERS * 8 + 256);
	assert_non_null(big);
	p = big + sprintf(big, "g_before:x:3400:\ng_many:x:3401:");
	for (int i = 0; i < MEMBERS; i++)
		p += sprintf(p, "%su%05d", i ? "," : "", i);
	p += sprintf(p, "\ng_after:x:3402:\n");
	write_bytes(f->group, big, (size_t)(p - big));
	free(big);

	assert_int_equal(idg_localdb_init(&db, f->passwd, f->group, dbkey), 0);
	assert_int_equal(idg_localdb_refresh(&db), 0);
	assert_string_equal(idg_localdb_id(&db, 3300), "before");
	assert_string_equal(idg_localdb_id(&db, 3301), "huge");
	assert_string_equal(idg_localdb_id(&db, 3302), "after");
	assert_string_equal(idg_localdb_id(&db, 3400), "g_before");
	assert_string_equal(idg_localdb_id(&db, 3401), "g_many");
	assert_string_equal(idg_localdb_id(&db, 3402), "g_after");
	idg_localdb_free(&db);
}

/* Random bytes (NULs, colons, no newline at the end): read without crashing, and a valid
 * line after a newline still counts. */
static void
localdb_survives_random_bytes(void **state)
{
	struct fx *f = *state;
	uint64_t seed = 0xb17e5;

	for (int round = 0; round < 20; round++) {
		struct idg_localdb db;
		char buf[8192 + 64];
		size_t n = (size_t)(rnd(&seed) % 8192);

		for (size_t i = 0; i < n; i++) {
			uint64_t r = rnd(&seed);

			/* Plenty of the bytes the parser cares about. */
			buf[i] = r % 4 == 0 ? ":\n0,"[(r >> 8) % 4] : (char)(r >> 16);
		}
		write_bytes(f->passwd, buf, n);
		n += (size_t)sprintf(buf + n, "\nsure:x:3500:3500::/:/bin/sh\n");
		write_bytes(f->group, buf, n);
		assert_int_equal(idg_localdb_init(&db, f->passwd, f->group, dbkey), 0);
		assert_int_equal(idg_localdb_refresh(&db), 0);
		assert_int_equal(db.generation, 1);
		assert_true(idg_localdb_group(&db, "sure"));
		idg_localdb_free(&db);
	}
}

/* ---------- the allocator ---------- */

#define R_MIN 1000u
#define R_MAX 1099u

static struct idg_idalloc
alloc_ctx(const struct idg_localdb *db, uint32_t min, uint32_t max)
{
	struct idg_idalloc a;

	memset(&a, 0, sizeof(a));
	a.min = min;
	a.max = max;
	a.local = db;
	return a;
}

static void
alloc_returns_a_free_hash_id_as_is(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab taken;
	struct idg_idalloc a;
	char why[256];
	uint32_t id;

	localdb_read(f, &db, passwd_std, group_std);
	idg_idtab_init(&taken, 3);
	a = alloc_ctx(&db, 200000, 2000200000);
	a.taken[a.ntaken++] = &taken;
	/* "a" and "foobar": worked out from the published vectors. */
	assert_int_equal(idg_idmap_alloc(&a, "a", &id, why, sizeof(why)), 0);
	assert_int_equal(id, 200000u + (uint32_t)(0xaf63dc4c8601ec8cULL % 2000000001ULL));
	assert_int_equal(idg_idmap_alloc(&a, "foobar", &id, why, sizeof(why)), 0);
	assert_int_equal(id, 200000u + (uint32_t)(0x85944171f73967e8ULL % 2000000001ULL));
	/* Nothing is recorded by asking: the same answer twice. */
	assert_int_equal(idg_idmap_alloc(&a, "foobar", &id, why, sizeof(why)), 0);
	assert_int_equal(id, 200000u + (uint32_t)(0x85944171f73967e8ULL % 2000000001ULL));
	for (int i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof(name), "user%d", i);
		assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
		assert_int_equal(id, ref_hash(name, 200000, 2000200000));
	}
	idg_idtab_free(&taken);
	idg_localdb_free(&db);
}

static void
alloc_probes_upwards_past_taken_ids_in_every_table(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab t[4];
	struct idg_idalloc a;
	char name[32], why[256];
	uint32_t id, h = 1050;

	localdb_read(f, &db, "", "");
	for (int i = 0; i < 4; i++)
		idg_idtab_init(&t[i], (uint64_t)i * 77);
	name_hashing_to(name, sizeof(name), "p", R_MIN, R_MAX, h);
	a = alloc_ctx(&db, R_MIN, R_MAX);
	for (int i = 0; i < 4; i++)
		a.taken[a.ntaken++] = &t[i];

	assert_int_equal(idg_idtab_put(&t[0], h, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h + 1);
	/* A run spread over all four tables. */
	assert_int_equal(idg_idtab_put(&t[1], h + 1, 1), 0);
	assert_int_equal(idg_idtab_put(&t[2], h + 2, 1), 0);
	assert_int_equal(idg_idtab_put(&t[3], h + 3, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h + 4);
	/* An id below the hash id never counts: probing goes up. */
	assert_int_equal(idg_idtab_del(&t[0], h), 0);
	assert_int_equal(idg_idtab_put(&t[0], h - 1, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h);
	/* Only the first ntaken tables count, and a NULL table among them is skipped. */
	assert_int_equal(idg_idtab_put(&t[0], h, 1), 0);
	a.taken[1] = NULL;
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h + 1);
	a.ntaken = 1;
	a.taken[1] = &t[1];
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h + 1);
	a.ntaken = 0;
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h);
	for (int i = 0; i < 4; i++)
		idg_idtab_free(&t[i]);
	idg_localdb_free(&db);
}

static void
alloc_wraps_at_max_to_min(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab t;
	struct idg_idalloc a;
	char name[32], why[256];
	uint32_t id;

	localdb_read(f, &db, "", "");
	idg_idtab_init(&t, 9);
	a = alloc_ctx(&db, R_MIN, R_MAX);
	a.taken[a.ntaken++] = &t;
	name_hashing_to(name, sizeof(name), "w", R_MIN, R_MAX, R_MAX - 1);
	assert_int_equal(idg_idtab_put(&t, R_MAX - 1, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, R_MAX);
	assert_int_equal(idg_idtab_put(&t, R_MAX, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, R_MIN);
	assert_int_equal(idg_idtab_put(&t, R_MIN, 1), 0);
	assert_int_equal(idg_idtab_put(&t, R_MIN + 1, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, R_MIN + 2);

	/* At the top of the 32-bit space the step past max must not overflow into 0. */
	a.min = 4294967290u;
	a.max = UINT32_MAX;
	name_hashing_to(name, sizeof(name), "top", a.min, a.max, UINT32_MAX);
	assert_int_equal(idg_idtab_put(&t, UINT32_MAX, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, 4294967290u);
	idg_idtab_free(&t);
	idg_localdb_free(&db);
}

static void
alloc_skips_local_ids_while_probing(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab t;
	struct idg_idalloc a;
	char name[32], why[256], passwd[256], group[256];
	uint32_t id, h = 1020;

	name_hashing_to(name, sizeof(name), "s", R_MIN, R_MAX, h);
	/* h+1 a local uid, h+2 a local gid, h+4 both. */
	snprintf(passwd, sizeof(passwd), "loc1:x:%u:%u::/:/bin/sh\nloc4:x:%u:%u::/:/bin/sh\n",
	    h + 1, h + 1, h + 4, h + 4);
	snprintf(group, sizeof(group), "lg2:x:%u:\nloc4:x:%u:\n", h + 2, h + 4);
	localdb_read(f, &db, passwd, group);
	idg_idtab_init(&t, 5);
	a = alloc_ctx(&db, R_MIN, R_MAX);
	a.taken[a.ntaken++] = &t;

	assert_int_equal(idg_idtab_put(&t, h, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h + 3);
	assert_int_equal(idg_idtab_put(&t, h + 3, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, h + 5);
	idg_idtab_free(&t);
	idg_localdb_free(&db);
}

static void
alloc_never_gives_65534_or_65535(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab t;
	struct idg_idalloc a;
	char name[32], why[256];
	uint32_t id;

	localdb_read(f, &db, "", "");
	idg_idtab_init(&t, 11);
	a = alloc_ctx(&db, 65530, 65540);
	a.taken[a.ntaken++] = &t;
	/* Hash ids on them probe past them, even with no local "nobody". */
	name_hashing_to(name, sizeof(name), "n", 65530, 65540, 65534);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, 65536);
	name_hashing_to(name, sizeof(name), "n", 65530, 65540, 65535);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, 65536);
	/* A probe that runs into them runs over them. */
	name_hashing_to(name, sizeof(name), "n", 65530, 65540, 65533);
	assert_int_equal(idg_idtab_put(&t, 65533, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, name, &id, why, sizeof(why)), 0);
	assert_int_equal(id, 65536);
	/* A range of only those two: nothing to give. */
	a.min = 65534;
	a.max = 65535;
	id = 77;
	assert_int_equal(idg_idmap_alloc(&a, "anyone", &id, why, sizeof(why)), IDG_ERR_TOOBIG);
	assert_int_equal(id, 77);
	idg_idtab_free(&t);
	idg_localdb_free(&db);
}

static void
alloc_refuses_a_hash_id_that_is_a_local_id(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab t;
	struct idg_idalloc a;
	char uname[32], gname[32], why[256], passwd[128], group[128];
	uint32_t id = 4242;

	name_hashing_to(uname, sizeof(uname), "cu", R_MIN, R_MAX, 1030);
	name_hashing_to(gname, sizeof(gname), "cg", R_MIN, R_MAX, 1040);
	snprintf(passwd, sizeof(passwd), "svcacct:x:1030:1030::/:/bin/sh\n");
	snprintf(group, sizeof(group), "svcgrp:x:1040:\n");
	localdb_read(f, &db, passwd, group);
	idg_idtab_init(&t, 13);
	a = alloc_ctx(&db, R_MIN, R_MAX);
	a.taken[a.ntaken++] = &t;

	why[0] = '\0';
	assert_int_equal(idg_idmap_alloc(&a, uname, &id, why, sizeof(why)), IDG_ERR_CONFLICT);
	assert_int_equal(id, 4242);
	print_message("# why: %s\n", why);
	assert_non_null(strstr(why, "svcacct"));
	assert_non_null(strstr(why, "1030"));
	assert_non_null(strstr(why, uname));
	why[0] = '\0';
	assert_int_equal(idg_idmap_alloc(&a, gname, &id, why, sizeof(why)), IDG_ERR_CONFLICT);
	assert_non_null(strstr(why, "svcgrp"));
	/* Even with the id also taken, the local owner is what is reported. */
	assert_int_equal(idg_idtab_put(&t, 1030, 1), 0);
	assert_int_equal(idg_idmap_alloc(&a, uname, &id, why, sizeof(why)), IDG_ERR_CONFLICT);
	assert_int_equal(id, 4242);
	/* A short buffer is cut, not overrun; none at all is allowed. */
	{
		char small[8];

		memset(small, 'x', sizeof(small));
		assert_int_equal(idg_idmap_alloc(&a, uname, &id, small, sizeof(small)),
		    IDG_ERR_CONFLICT);
		assert_int_equal(small[7], '\0');
		assert_int_equal(strlen(small), 7);
		assert_int_equal(idg_idmap_alloc(&a, uname, &id, NULL, 0), IDG_ERR_CONFLICT);
	}
	idg_idtab_free(&t);
	idg_localdb_free(&db);
}

static void
alloc_full_range_is_toobig(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idtab t;
	struct idg_idalloc a;
	char why[256];
	uint32_t id = 99;

	/* 2000..2003: one local uid, the rest taken. */
	localdb_read(f, &db, "l:x:2001:2001::/:/bin/sh\n", "");
	idg_idtab_init(&t, 17);
	a = alloc_ctx(&db, 2000, 2003);
	a.taken[a.ntaken++] = &t;
	assert_int_equal(idg_idtab_put(&t, 2000, 1), 0);
	assert_int_equal(idg_idtab_put(&t, 2002, 1), 0);
	for (int i = 0; i < 200; i++) {
		char name[32];
		int rc;

		snprintf(name, sizeof(name), "x%d", i);
		rc = idg_idmap_alloc(&a, name, &id, why, sizeof(why));
		if (ref_hash(name, 2000, 2003) == 2001) {
			assert_int_equal(rc, IDG_ERR_CONFLICT);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(id, 2003);
		}
	}
	assert_int_equal(idg_idtab_put(&t, 2003, 1), 0);
	for (int i = 0; i < 200; i++) {
		char name[32];
		int rc;

		snprintf(name, sizeof(name), "x%d", i);
		id = 99;
		why[0] = '\0';
		rc = idg_idmap_alloc(&a, name, &id, why, sizeof(why));
		assert_int_equal(rc, ref_hash(name, 2000, 2003) == 2001 ? IDG_ERR_CONFLICT :
		    IDG_ERR_TOOBIG);
		assert_int_equal(id, 99);
		assert_true(why[0] != '\0');
	}
	print_message("# why: %s\n", why);

	/* min == max: one id. */
	a.min = a.max = 2003;
	assert_int_equal(idg_idmap_alloc(&a, "solo", &id, why, sizeof(why)), IDG_ERR_TOOBIG);
	assert_int_equal(idg_idtab_del(&t, 2003), 0);
	assert_int_equal(idg_idmap_alloc(&a, "solo", &id, why, sizeof(why)), 0);
	assert_int_equal(id, 2003);
	idg_idtab_free(&t);
	idg_localdb_free(&db);
}

static void
alloc_refuses_an_empty_range_or_zero(void **state)
{
	struct fx *f = *state;
	struct idg_localdb db;
	struct idg_idalloc a;
	char why[256];
	uint32_t id = 7;

	localdb_read(f, &db, "", "");
	a = alloc_ctx(&db, 0, 10);
	assert_int_equal(idg_idmap_alloc(&a, "x", &id, why, sizeof(why)), IDG_ERR_INVAL);
	a = alloc_ctx(&db, 11, 10);
	assert_int_equal(idg_idmap_alloc(&a, "x", &id, why, sizeof(why)), IDG_ERR_INVAL);
	assert_int_equal(id, 7);
	idg_localdb_free(&db);
}

/* ---------- two nodes ---------- */

/* The simulation's range: 20,000 ids with 65534 and 65535 inside, for 10,000 names. */
#define S_MIN 60000u
#define S_MAX 79999u
#define S_SPAN (S_MAX - S_MIN + 1)
#define S_NAMES 10000

static const uint32_t sim_local[] = { 60000, 61234, 65000, 70000, 70001, 70002, 70003, 79999,
	62000, 75000 };
static const uint32_t sim_held[] = { 64000, 64001, 71111 };

static void
sim_files(const char *passwd, const char *group)
{
	char p[1024], g[256];
	size_t o = 0;

	for (int i = 0; i < 8; i++)
		o += (size_t)snprintf(p + o, sizeof(p) - o, "loc%d:x:%u:%u::/:/bin/sh\n", i,
		    sim_local[i], sim_local[i]);
	snprintf(g, sizeof(g), "lg0:x:%u:\nlg1:x:%u:\n", sim_local[8], sim_local[9]);
	write_text(passwd, p);
	write_text(group, g);
}

struct node {
	struct idg_localdb db;
	struct idg_idtab given, held;
	struct idg_idalloc a;
};

static void
node_start(struct node *n, const char *passwd, const char *group, const uint8_t key[16],
    uint64_t tabkey)
{
	assert_int_equal(idg_localdb_init(&n->db, passwd, group, key), 0);
	assert_int_equal(idg_localdb_refresh(&n->db), 0);
	idg_idtab_init(&n->given, tabkey);
	idg_idtab_init(&n->held, ~tabkey);
	for (size_t i = 0; i < sizeof(sim_held) / sizeof(sim_held[0]); i++)
		assert_int_equal(idg_idtab_put(&n->held, sim_held[i], 1), 0);
	n->a = alloc_ctx(&n->db, S_MIN, S_MAX);
	n->a.taken[n->a.ntaken++] = &n->given;
	n->a.taken[n->a.ntaken++] = &n->held;
}

static void
node_stop(struct node *n)
{
	idg_idtab_free(&n->given);
	idg_idtab_free(&n->held);
	idg_localdb_free(&n->db);
}

/* Give names[order[i]] an id on node n, in that order: ids_out[order[i]], 0 for a conflict. */
static void
node_run(struct node *n, char (*names)[16], const unsigned *order, uint32_t *ids_out)
{
	char why[256];

	for (unsigned i = 0; i < S_NAMES; i++) {
		unsigned k = order[i];
		uint32_t id;
		int rc = idg_idmap_alloc(&n->a, names[k], &id, why, sizeof(why));

		if (rc == IDG_ERR_CONFLICT) {
			ids_out[k] = 0;
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(idg_idtab_put(&n->given, id, k), 0);
		ids_out[k] = id;
	}
}

/* The reference: a bitmap of the range, first free id upwards from the hash id. */
static void
ref_run(char (*names)[16], const unsigned *order, uint32_t *ids_out)
{
	static bool blocked[S_SPAN], local[S_SPAN];

	memset(blocked, 0, sizeof(blocked));
	memset(local, 0, sizeof(local));
	for (size_t i = 0; i < sizeof(sim_local) / sizeof(sim_local[0]); i++)
		local[sim_local[i] - S_MIN] = blocked[sim_local[i] - S_MIN] = true;
	for (size_t i = 0; i < sizeof(sim_held) / sizeof(sim_held[0]); i++)
		blocked[sim_held[i] - S_MIN] = true;
	blocked[65534 - S_MIN] = blocked[65535 - S_MIN] = true;
	for (unsigned i = 0; i < S_NAMES; i++) {
		unsigned k = order[i];
		uint32_t off = ref_hash(names[k], S_MIN, S_MAX) - S_MIN;

		if (local[off]) {
			ids_out[k] = 0;
			continue;
		}
		while (blocked[off])
			off = (off + 1) % S_SPAN;
		blocked[off] = true;
		ids_out[k] = S_MIN + off;
	}
}

static void
check_all_distinct_and_allowed(const uint32_t *ids)
{
	static bool seen[S_SPAN];

	memset(seen, 0, sizeof(seen));
	for (unsigned k = 0; k < S_NAMES; k++) {
		if (ids[k] == 0)
			continue;
		assert_in_range(ids[k], S_MIN, S_MAX);
		assert_false(seen[ids[k] - S_MIN]);
		seen[ids[k] - S_MIN] = true;
		assert_true(ids[k] != 65534 && ids[k] != 65535);
		for (size_t i = 0; i < sizeof(sim_local) / sizeof(sim_local[0]); i++)
			assert_true(ids[k] != sim_local[i]);
		for (size_t i = 0; i < sizeof(sim_held) / sizeof(sim_held[0]); i++)
			assert_true(ids[k] != sim_held[i]);
	}
}

static void
two_nodes_same_order_agree_other_orders_never_duplicate(void **state)
{
	struct fx *f = *state;
	char (*names)[16] = calloc(S_NAMES, sizeof(*names));
	unsigned *order = calloc(S_NAMES, sizeof(*order)), *shuffled = calloc(S_NAMES,
	    sizeof(*shuffled));
	uint32_t *ida = calloc(S_NAMES, 4), *idb = calloc(S_NAMES, 4), *idc = calloc(S_NAMES, 4),
	    *ref = calloc(S_NAMES, 4);
	char pb[128], gb[128];
	struct node na, nb, nc;
	unsigned probed = 0, conflicts = 0, differ = 0;
	uint64_t seed = 0x5eedf00d;

	assert_true(names && order && shuffled && ida && idb && idc && ref);
	for (unsigned k = 0; k < S_NAMES; k++) {
		snprintf(names[k], sizeof(names[k]), "u%05u.x", k);
		order[k] = shuffled[k] = k;
	}
	for (unsigned k = S_NAMES - 1; k > 0; k--) {
		unsigned j = (unsigned)(rnd(&seed) % (k + 1)), t = shuffled[k];

		shuffled[k] = shuffled[j];
		shuffled[j] = t;
	}
	/* Each node reads its own copy of the same files, with its own hash keys. */
	sim_files(f->passwd, f->group);
	snprintf(pb, sizeof(pb), "%s/passwd.b", f->dir);
	snprintf(gb, sizeof(gb), "%s/group.b", f->dir);
	sim_files(pb, gb);
	node_start(&na, f->passwd, f->group, dbkey, 0x1111);
	node_start(&nb, pb, gb, dbkey2, 0x2222222222ULL);
	node_start(&nc, f->passwd, f->group, dbkey2, 0x33);

	node_run(&na, names, order, ida);
	node_run(&nb, names, order, idb);
	ref_run(names, order, ref);
	for (unsigned k = 0; k < S_NAMES; k++) {
		if (ida[k] != idb[k] || ida[k] != ref[k])
			fail_msg("%s: node A %u, node B %u, reference %u", names[k], ida[k], idb[k],
			    ref[k]);
		conflicts += ida[k] == 0;
		probed += ida[k] != 0 && ida[k] != ref_hash(names[k], S_MIN, S_MAX);
	}
	print_message("# same order: %u of %u names probed past their hash id, %u conflicts\n",
	    probed, S_NAMES, conflicts);
	/* The range is small enough that collisions really happened. */
	assert_true(probed > 1000);
	check_all_distinct_and_allowed(ida);

	/* Another order: other ids for some names, never one id twice, the same conflicts. */
	node_run(&nc, names, shuffled, idc);
	ref_run(names, shuffled, ref);
	for (unsigned k = 0; k < S_NAMES; k++) {
		assert_int_equal(idc[k], ref[k]);
		assert_int_equal(idc[k] == 0, ida[k] == 0);
		differ += idc[k] != ida[k];
	}
	print_message("# shuffled order: %u names got another id\n", differ);
	check_all_distinct_and_allowed(idc);

	node_stop(&na);
	node_stop(&nb);
	node_stop(&nc);
	free(names);
	free(order);
	free(shuffled);
	free(ida);
	free(idb);
	free(idc);
	free(ref);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(fnv1a64_matches_published_vectors),
		T(hash_id_is_min_plus_fnv_mod_span),
		T(hash_id_stays_inside_the_range),
		T(idtab_put_get_has_del),
		T(idtab_refuses_id_zero),
		T(idtab_grows_past_many_thousands),
		T(idtab_random_churn_matches_a_list),
		T(localdb_reads_users_groups_and_ids),
		T(localdb_first_owner_of_an_id_is_kept),
		T(localdb_default_paths_are_etc_passwd_and_group),
		T(localdb_refresh_rereads_only_after_a_change),
		T(localdb_missing_file_is_an_error_and_the_old_view_stays),
		T(localdb_read_error_is_an_error_not_an_empty_file),
		T(localdb_skips_malformed_lines_and_reads_the_rest),
		T(localdb_empty_files_are_no_accounts),
		T(localdb_reads_past_huge_lines),
		T(localdb_survives_random_bytes),
		T(alloc_returns_a_free_hash_id_as_is),
		T(alloc_probes_upwards_past_taken_ids_in_every_table),
		T(alloc_wraps_at_max_to_min),
		T(alloc_skips_local_ids_while_probing),
		T(alloc_never_gives_65534_or_65535),
		T(alloc_refuses_a_hash_id_that_is_a_local_id),
		T(alloc_full_range_is_toobig),
		T(alloc_refuses_an_empty_range_or_zero),
		T(two_nodes_same_order_agree_other_orders_never_duplicate),
	};
#undef T

	return cmocka_run_group_tests_name("idmap/ids", tests, NULL, NULL);
}
