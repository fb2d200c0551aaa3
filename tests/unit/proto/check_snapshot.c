/* The NSS snapshot (snap_write.c, snap_read.c): build -> read round trips at scale, what the
 * writer refuses, publishing (the old file marked, failures leave it alone), and every kind
 * of damaged or hostile file the reader must refuse without reading outside it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/snapshot.h"

#define MIN 10000u
#define MAX 2000000u

/* ---------- helpers ---------- */

static struct idg_snap_in
base_in(void)
{
	struct idg_snap_in in = { .generation = 3, .flags = IDG_SNAP_F_ENUMERATE,
		.ask_timeout_ms = 1500, .id_min = MIN, .id_max = MAX,
		.ask_socket = "/run/idgate/pam.sock" };

	return in;
}

static const uint32_t alice_gids[] = { MIN + 100, MIN + 101 };
static const uint32_t devs_members[] = { 0, 1 };
static const uint32_t ops_members[] = { 1 };

static struct idg_snap_in_user two_users[] = {
	{ "alice", "Alice Liddell", "/home/alice", "/bin/bash", MIN + 1, MIN + 100,
	  alice_gids, 2 },
	{ "bob", "", "/home/bob", "/bin/sh", MIN + 2, MIN + 101, NULL, 0 },
};

static struct idg_snap_in_group two_groups[] = {
	{ "devs", MIN + 100, devs_members, 2 },
	{ "ops", MIN + 101, ops_members, 1 },
};

static struct idg_snap_in
small_in(void)
{
	struct idg_snap_in in = base_in();

	in.users = two_users;
	in.nusers = 2;
	in.groups = two_groups;
	in.ngroups = 2;
	return in;
}

static uint8_t *
build_ok(const struct idg_snap_in *in, size_t *len)
{
	uint8_t *buf = NULL;

	assert_int_equal(idg_snap_build(in, &buf, len), 0);
	assert_non_null(buf);
	return buf;
}

static struct idg_snap_hdr *
hdr(uint8_t *buf)
{
	return (struct idg_snap_hdr *)buf;
}

/* Recompute the checksum after a deliberate change: the file is hostile but "valid". */
static void
reseal(uint8_t *buf, size_t len)
{
	hdr(buf)->checksum = idg_snap_checksum(buf, len);
}

/* Open a heap copy of exactly len bytes, so ASan sees any read past the end. */
static int
open_copy(const uint8_t *buf, size_t len, struct idg_snap *s, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	memcpy(*copy, buf, len);
	return idg_snap_open(s, *copy, len);
}

/* ---------- round trips ---------- */

static void
test_round_trip(void **state)
{
	struct idg_snap_in in = small_in();
	struct idg_snap s;
	struct idg_snap_pw pw;
	struct idg_snap_gr gr;
	const char *name;
	size_t len, nlen;
	uint32_t idx, at;
	uint8_t *buf = build_ok(&in, &len);

	(void)state;
	assert_int_equal(len % 8, 0);
	assert_int_equal(idg_snap_open(&s, buf, len), 0);
	assert_int_equal(s.hdr->generation, 3);
	assert_int_equal(s.hdr->flags, IDG_SNAP_F_ENUMERATE);
	assert_string_equal(s.hdr->ask_socket, "/run/idgate/pam.sock");
	assert_int_equal(idg_snap_replaced(&s), 0);

	assert_int_equal(idg_snap_find_user(&s, "alice", &idx), 0);
	assert_int_equal(idg_snap_user(&s, idx, &pw), 0);
	assert_string_equal(pw.name, "alice");
	assert_int_equal(pw.name_len, 5);
	assert_string_equal(pw.gecos, "Alice Liddell");
	assert_string_equal(pw.dir, "/home/alice");
	assert_string_equal(pw.shell, "/bin/bash");
	assert_int_equal(pw.uid, MIN + 1);
	assert_int_equal(pw.gid, MIN + 100);
	assert_int_equal(pw.ngids, 2);
	assert_int_equal(pw.gids[1], MIN + 101);

	assert_int_equal(idg_snap_find_uid(&s, MIN + 2, &idx), 0);
	assert_int_equal(idg_snap_user(&s, idx, &pw), 0);
	assert_string_equal(pw.name, "bob");
	assert_string_equal(pw.gecos, "");
	assert_int_equal(pw.ngids, 0);

	assert_int_equal(idg_snap_find_group(&s, "devs", &idx), 0);
	assert_int_equal(idg_snap_group(&s, idx, &gr), 0);
	assert_int_equal(gr.gid, MIN + 100);
	assert_int_equal(gr.nmembers, 2);
	at = gr.members;
	assert_int_equal(idg_snap_member(&s, &at, &name, &nlen), 0);
	assert_string_equal(name, "alice");
	assert_int_equal(nlen, 5);
	assert_int_equal(idg_snap_member(&s, &at, &name, &nlen), 0);
	assert_string_equal(name, "bob");
	/* the names follow the group's own, so one fetch brings them */
	assert_int_equal(gr.members, (uint32_t)(gr.name - s.strings) + gr.name_len + 1);
	assert_int_equal(idg_snap_find_gid(&s, MIN + 101, &idx), 0);
	assert_int_equal(idg_snap_group(&s, idx, &gr), 0);
	assert_string_equal(gr.name, "ops");

	assert_int_equal(idg_snap_find_user(&s, "carol", &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_user(&s, "alic", &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_user(&s, "", &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_uid(&s, MIN + 3, &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_uid(&s, 0, &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_group(&s, "alice", &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_gid(&s, MIN + 1, &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_user(&s, 2, &pw), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_group(&s, 2, &gr), IDG_ERR_NOTFOUND);

	/* `replaced` is outside the checksum and visible through the view */
	hdr(buf)->replaced = 1;
	assert_int_equal(idg_snap_replaced(&s), 1);
	assert_int_equal(idg_snap_open(&s, buf, len), 0);
	free(buf);
}

static void
test_empty(void **state)
{
	struct idg_snap_in in = base_in();
	struct idg_snap s;
	uint32_t idx;
	size_t len;
	uint8_t *buf = build_ok(&in, &len);

	(void)state;
	assert_int_equal(idg_snap_open(&s, buf, len), 0);
	assert_int_equal(idg_snap_find_user(&s, "x", &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_gid(&s, MIN, &idx), IDG_ERR_NOTFOUND);
	free(buf);
}

/* Many users, each in many groups, and one group with every user. */
static void
check_scale(uint32_t nusers, uint32_t ngroups, uint32_t per)
{
	struct idg_snap_in in = base_in();
	struct idg_snap_in_user *u = calloc(nusers, sizeof(*u));
	struct idg_snap_in_group *g = calloc(ngroups, sizeof(*g));
	uint32_t *gids = calloc((size_t)nusers * per, sizeof(uint32_t));
	uint32_t *mem = calloc((size_t)nusers * per, sizeof(uint32_t));
	char (*names)[16] = calloc(nusers + ngroups, 16);
	struct idg_snap s;
	struct idg_snap_pw pw;
	struct idg_snap_gr gr;
	uint32_t idx, at, *fill = calloc(ngroups, sizeof(uint32_t));
	uint8_t *buf;
	size_t len, nlen;
	const char *name;

	for (uint32_t j = 0; j < ngroups; j++) {
		snprintf(names[nusers + j], 16, "g%u", j);
		g[j].name = names[nusers + j];
		g[j].gid = MIN + 500000 + j;
		g[j].members = mem + (size_t)j * (nusers * per / ngroups);
	}
	for (uint32_t i = 0; i < nusers; i++) {
		snprintf(names[i], 16, "u%u", i);
		u[i] = (struct idg_snap_in_user){ names[i], "", "/home/x", "/bin/sh", MIN + i,
			MIN + 500000, gids + (size_t)i * per, per };
		for (uint32_t k = 0; k < per; k++) {
			uint32_t j = (i + k) % ngroups;

			gids[(size_t)i * per + k] = g[j].gid;
			((uint32_t *)g[j].members)[fill[j]++] = i;
			g[j].nmembers = fill[j];
		}
	}
	in.users = u;
	in.nusers = nusers;
	in.groups = g;
	in.ngroups = ngroups;
	buf = build_ok(&in, &len);
	assert_int_equal(idg_snap_open(&s, buf, len), 0);
	assert_true(s.pw_name_slots >= 2 * nusers && s.gr_gid_slots >= 2 * ngroups);
	for (uint32_t i = 0; i < nusers; i++) {
		assert_int_equal(idg_snap_find_user(&s, names[i], &idx), 0);
		assert_int_equal(idx, i);
		assert_int_equal(idg_snap_find_uid(&s, MIN + i, &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(idg_snap_user(&s, nusers - 1, &pw), 0);
	assert_int_equal(pw.ngids, per);
	/* The writer keeps each user's gids ascending (initgroups relies on it). */
	for (uint32_t k = 0; k < per; k++) {
		uint32_t want = g[(nusers - 1 + k) % ngroups].gid, found = 0;

		for (uint32_t x = 0; x < per; x++)
			found += pw.gids[x] == want;
		assert_int_equal(found, 1);
		if (k > 0)
			assert_true(pw.gids[k - 1] < pw.gids[k]);
	}
	for (uint32_t j = 0; j < ngroups; j++) {
		assert_int_equal(idg_snap_find_group(&s, names[nusers + j], &idx), 0);
		assert_int_equal(idx, j);
		assert_int_equal(idg_snap_find_gid(&s, MIN + 500000 + j, &idx), 0);
	}
	assert_int_equal(idg_snap_group(&s, 0, &gr), 0);
	assert_int_equal(gr.nmembers, nusers * per / ngroups);
	at = gr.members;
	for (uint32_t k = 0; k < gr.nmembers; k++) {
		assert_int_equal(idg_snap_member(&s, &at, &name, &nlen), 0);
		assert_string_equal(name, names[g[0].members[k]]);
	}
	free(buf);
	free(u);
	free(g);
	free(gids);
	free(mem);
	free(names);
	free(fill);
}

static void
test_user_in_1000_groups(void **state)
{
	(void)state;
	check_scale(1, 1000, 1000);
}

static void
test_group_of_10000(void **state)
{
	(void)state;
	check_scale(10000, 1, 1);
}

static void
test_many(void **state)
{
	(void)state;
	check_scale(20000, 400, 20);
}

/* ---------- what the writer refuses ---------- */

static int
build_rc(const struct idg_snap_in *in)
{
	uint8_t *buf = (uint8_t *)"untouched";
	size_t len = 7;
	int rc = idg_snap_build(in, &buf, &len);

	if (rc == 0)
		free(buf);
	else {
		assert_string_equal((char *)buf, "untouched");
		assert_int_equal(len, 7);
	}
	return rc;
}

static void
test_refused(void **state)
{
	struct idg_snap_in_user u[2];
	struct idg_snap_in_group g[2];
	struct idg_snap_in in;
	uint32_t bad_gid[] = { MAX + 1 };
	uint32_t bad_member[] = { 2 };

	(void)state;
#define RESET() do { memcpy(u, two_users, sizeof(u)); memcpy(g, two_groups, sizeof(g)); \
	in = small_in(); in.users = u; in.groups = g; } while (0)
	RESET();
	assert_int_equal(build_rc(&in), 0);
	RESET(); u[1].name = "alice";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);		/* duplicate name */
	RESET(); u[1].uid = u[0].uid;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);		/* duplicate uid */
	RESET(); g[1].name = "devs";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); g[1].gid = g[0].gid;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); u[0].uid = MIN - 1;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);		/* outside the range */
	RESET(); u[0].gid = MAX + 1;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); u[0].gids = bad_gid; u[0].ngids = 1;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); g[0].gid = 0;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); g[0].members = bad_member; g[0].nmembers = 1;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);		/* member index */
	RESET(); u[0].gecos = "a:b";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); u[0].shell = "/bin/sh\n";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); g[0].name = "x:y";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); u[0].name = "";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); u[0].dir = NULL;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); in.id_min = 0;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);		/* root in the range */
	RESET(); in.id_min = MAX + 1;
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); in.ask_socket = "/run/idgate/a-socket-path-longer-than-sun_path-allows/"
	    "0123456789012345678901234567890123456789012345678901234567890123456789";
	assert_int_equal(build_rc(&in), IDG_ERR_INVAL);
	RESET(); in.nusers = (size_t)IDG_SNAP_MAX_SIZE;
	assert_int_equal(build_rc(&in), IDG_ERR_TOOBIG);
#undef RESET
}

/* ---------- publishing ---------- */

static char tmpdir[64];

static int
count_files(const char *dir)
{
	char cmd[128];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void
test_publish(void **state)
{
	struct idg_snap_in in = small_in();
	char path[128], err[256];
	struct idg_snap_hdr old;
	struct stat st;
	uint8_t *buf;
	size_t len;
	int fd;

	(void)state;
	strcpy(tmpdir, "/tmp/check_snapshot.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/nss.snapshot", tmpdir);
	buf = build_ok(&in, &len);
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal((size_t)st.st_size, len);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &old, sizeof(old), 0), sizeof(old));
	assert_int_equal(old.replaced, 0);

	/* a second snapshot: the first file, still open here, is marked */
	free(buf);
	in.generation = 4;
	buf = build_ok(&in, &len);
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), 0);
	assert_int_equal(pread(fd, &old, sizeof(old), 0), sizeof(old));
	assert_int_equal(old.replaced, 1);
	assert_int_equal(old.generation, 3);
	close(fd);
	assert_int_equal(count_files(tmpdir), 2);	/* and the lock: no temporary file left */

	/* failures leave the old file alone */
	assert_int_equal(idg_snap_publish(path, buf, 10, err, sizeof(err)), IDG_ERR_INVAL);
	snprintf(path, sizeof(path), "%s/missing/nss.snapshot", tmpdir);
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), IDG_ERR_IO);
	assert_non_null(strstr(err, "missing"));
	snprintf(path, sizeof(path), "%s/adir", tmpdir);	/* rename over a directory fails */
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), IDG_ERR_IO);
	assert_int_equal(count_files(tmpdir), 4);	/* snapshot, adir and their locks */
	rmdir(path);
	strcat(path, ".lock");
	unlink(path);
	snprintf(path, sizeof(path), "%s/nss.snapshot", tmpdir);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, &old, sizeof(old), 0), sizeof(old));
	assert_int_equal(old.generation, 4);
	assert_int_equal(old.replaced, 0);
	close(fd);
	unlink(path);
	strcat(path, ".lock");
	unlink(path);
	rmdir(tmpdir);
	free(buf);
}

static void
publish_dir(char *path, size_t size)
{
	strcpy(tmpdir, "/tmp/check_snapshot.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, size, "%s/nss.snapshot", tmpdir);
}

static void
publish_cleanup(const char *path)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	(void)path;
}

/* Only a snapshot is ever marked; a symlink is never followed; a republished buffer that
 * says `replaced` goes out as a current file. */
static void
test_publish_what_is_marked(void **state)
{
	struct idg_snap_in in = small_in();
	char path[128], other[160], err[256], text[64];
	struct idg_snap_hdr h;
	uint8_t *buf;
	size_t len;
	int fd;

	(void)state;
	publish_dir(path, sizeof(path));
	buf = build_ok(&in, &len);
	/* a regular file that is no snapshot, hard-linked elsewhere: replaced, never written */
	snprintf(other, sizeof(other), "%s/other", tmpdir);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0644);
	memset(text, 'A', sizeof(text));
	assert_int_equal(write(fd, text, sizeof(text)), sizeof(text));
	memset(text, 'B', sizeof(text));
	assert_int_equal(pwrite(fd, text, sizeof(text), 1000), sizeof(text));
	close(fd);
	assert_int_equal(link(other, path), 0);
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), 0);
	fd = open(other, O_RDONLY);
	assert_int_equal(pread(fd, text, sizeof(text), 0), sizeof(text));
	close(fd);
	for (size_t i = 0; i < sizeof(text); i++)
		assert_int_equal(text[i], 'A');

	/* a buffer carrying replaced = 1 is published with 0 (and the checksum still holds) */
	hdr(buf)->replaced = 1;
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, &h, sizeof(h), 0), sizeof(h));
	close(fd);
	assert_int_equal(h.replaced, 0);

	/* a symlink in its place: refused, its target untouched */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(other, path), 0);
	assert_int_equal(idg_snap_publish(path, buf, len, err, sizeof(err)), IDG_ERR_IO);
	fd = open(other, O_RDONLY);
	assert_int_equal(pread(fd, text, sizeof(text), 0), sizeof(text));
	close(fd);
	assert_int_equal(text[0], 'A');
	free(buf);
	publish_cleanup(path);
}

/* Four processes publish at once while this one collects every file it sees in place:
 * each one but the last must end up marked (publishers take turns through PATH.lock). */
static int slow_rename;

/* The writer's rename() (libidgcommon is linked statically): slowed down during the race, so
 * that publishers that did not take turns would be caught between opening the old file and
 * renaming over it. */
int
rename(const char *from, const char *to)
{
	if (slow_rename)
		usleep(500 + (unsigned)(rand() % 4000));
	return renameat(AT_FDCWD, from, AT_FDCWD, to);
}

#define RACERS 4
#define ROUNDS 40
#define SEEN_MAX 512

static void
racer(const char *path, uint64_t gen0)
{
	struct idg_snap_in in = small_in();
	char err[256];
	uint8_t *buf;
	size_t len;

	for (int i = 0; i < ROUNDS; i++) {
		in.generation = gen0 + (uint64_t)i;
		if (idg_snap_build(&in, &buf, &len) != 0 ||
		    idg_snap_publish(path, buf, len, err, sizeof(err)) != 0)
			_exit(1);
		free(buf);
	}
	_exit(0);
}

static int
collect(const char *path, int *fds, ino_t *inos, int n)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || n == SEEN_MAX)
		goto skip;
	assert_int_equal(fstat(fd, &st), 0);
	if (n > 0 && inos[n - 1] == st.st_ino)
		goto skip;
	fds[n] = fd;
	inos[n] = st.st_ino;
	return n + 1;
skip:
	if (fd >= 0)
		close(fd);
	return n;
}

static void
test_publish_concurrent(void **state)
{
	char path[128];
	int fds[SEEN_MAX], n = 0, running = RACERS, status, unmarked = 0;
	ino_t inos[SEEN_MAX];
	pid_t pids[RACERS];
	struct stat last;

	(void)state;
	publish_dir(path, sizeof(path));
	slow_rename = 1;
	for (int r = 0; r < RACERS; r++) {
		pids[r] = fork();
		assert_true(pids[r] >= 0);
		if (pids[r] == 0) {
			srand((unsigned)r + 1);
			racer(path, 1000u * (uint64_t)(r + 1));
		}
	}
	while (running > 0) {
		n = collect(path, fds, inos, n);
		for (int r = 0; r < RACERS; r++)
			if (pids[r] > 0 && waitpid(pids[r], &status, WNOHANG) == pids[r]) {
				assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
				pids[r] = 0;
				running--;
			}
	}
	slow_rename = 0;
	assert_int_equal(stat(path, &last), 0);
	assert_true(n > RACERS);
	for (int i = 0; i < n; i++) {
		struct idg_snap_hdr h;

		assert_int_equal(pread(fds[i], &h, sizeof(h), 0), sizeof(h));
		if (inos[i] != last.st_ino && h.replaced != 1)
			unmarked++;
		close(fds[i]);
	}
	assert_int_equal(unmarked, 0);
	publish_cleanup(path);
}

/* ---------- damaged files ---------- */

static void
test_truncated(void **state)
{
	struct idg_snap_in in = small_in();
	struct idg_snap s;
	uint8_t *buf, *copy;
	size_t len;

	(void)state;
	buf = build_ok(&in, &len);
	for (size_t n = 0; n < len; n++) {	/* every header boundary and beyond */
		assert_int_not_equal(open_copy(buf, n, &s, &copy), 0);
		free(copy);
	}
	assert_int_equal(open_copy(buf, len, &s, &copy), 0);
	free(copy);
	assert_int_equal(idg_snap_open(&s, NULL, 0), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_open(&s, buf, (size_t)IDG_SNAP_MAX_SIZE + 8), IDG_ERR_TOOBIG);
	free(buf);
}

/* Change one header field, reseal, and expect a refusal. */
static void
expect_refused(uint8_t *orig, size_t len, void (*mut)(struct idg_snap_hdr *), int resealed)
{
	struct idg_snap s;
	uint8_t *copy = malloc(len);

	memcpy(copy, orig, len);
	mut(hdr(copy));
	if (resealed)
		reseal(copy, len);
	assert_int_equal(idg_snap_open(&s, copy, len), IDG_ERR_CORRUPT);
	free(copy);
}

static void m_magic(struct idg_snap_hdr *h) { h->magic[0] = 'X'; }
static void m_version(struct idg_snap_hdr *h) { h->version = 1; }	/* the old layout */
static void m_endian(struct idg_snap_hdr *h) { h->endian = 0x04030201; }
static void m_hdr_size(struct idg_snap_hdr *h) { h->hdr_size += 8; }
static void m_file_size(struct idg_snap_hdr *h) { h->file_size -= 8; }
static void m_range(struct idg_snap_hdr *h) { h->id_min = h->id_max + 1; }
static void m_range0(struct idg_snap_hdr *h) { h->id_min = 0; }
static void m_socket(struct idg_snap_hdr *h) { memset(h->ask_socket, 'a', IDG_SNAP_SOCK_MAX); }
static void m_users_off(struct idg_snap_hdr *h) { h->users.off = (uint32_t)h->file_size; }
static void m_users_len(struct idg_snap_hdr *h) { h->users.len += 32; }
static void m_nusers(struct idg_snap_hdr *h) { h->nusers++; }
static void m_align(struct idg_snap_hdr *h) { h->strings.off += 4; h->strings.len -= 4; }
static void m_strings(struct idg_snap_hdr *h) { h->strings.len = UINT32_MAX; }
static void m_ids(struct idg_snap_hdr *h) { h->ids.off = UINT32_MAX - 7; }
static void m_overhdr(struct idg_snap_hdr *h) { h->groups.off = 0; h->groups.len = 0; }
static void m_slots(struct idg_snap_hdr *h) { h->pw_uid.len -= 4; }
static void m_slots0(struct idg_snap_hdr *h) { h->gr_name.len = 0; }
static void m_flags(struct idg_snap_hdr *h) { h->flags ^= 2; }

static void
test_bad_headers(void **state)
{
	struct idg_snap_in in = small_in();
	size_t len;
	uint8_t *buf = build_ok(&in, &len);
	void (*resealed[])(struct idg_snap_hdr *) = { m_magic, m_version, m_endian, m_hdr_size,
		m_file_size, m_range, m_range0, m_socket, m_users_off, m_users_len, m_nusers,
		m_align, m_strings, m_ids, m_overhdr, m_slots, m_slots0 };

	(void)state;
	for (size_t i = 0; i < sizeof(resealed) / sizeof(resealed[0]); i++)
		expect_refused(buf, len, resealed[i], 1);
	/* the checksum: any change it covers is caught */
	expect_refused(buf, len, m_flags, 0);
	for (size_t off = sizeof(struct idg_snap_hdr); off < len; off++) {
		struct idg_snap s;

		buf[off] ^= 0x40;
		assert_int_equal(idg_snap_open(&s, buf, len), IDG_ERR_CORRUPT);
		buf[off] ^= 0x40;
	}
	free(buf);
}

/* ---------- checksummed but hostile: every access still checked ---------- */

struct hostile {
	uint8_t *buf;
	size_t len;
	struct idg_snap s;
	struct idg_snap_hdr *h;
	struct idg_snap_user *users;
	struct idg_snap_group *groups;
	struct idg_snap_slot *pw_name, *gr_gid;
};

static void
hostile_new(struct hostile *x)
{
	struct idg_snap_in in = small_in();

	x->buf = build_ok(&in, &x->len);
	x->h = hdr(x->buf);
	x->users = (struct idg_snap_user *)(x->buf + x->h->users.off);
	x->groups = (struct idg_snap_group *)(x->buf + x->h->groups.off);
	x->pw_name = (struct idg_snap_slot *)(x->buf + x->h->pw_name.off);
	x->gr_gid = (struct idg_snap_slot *)(x->buf + x->h->gr_gid.off);
}

static void
hostile_open(struct hostile *x)
{
	reseal(x->buf, x->len);
	assert_int_equal(idg_snap_open(&x->s, x->buf, x->len), 0);
}

static void
test_hostile_records(void **state)
{
	struct hostile x;
	struct idg_snap_pw pw;
	struct idg_snap_gr gr;
	const char *name;
	size_t nlen;
	uint32_t idx, at;

	(void)state;
	hostile_new(&x);
	x.users[0].name = x.h->strings.len;		/* just past the strings */
	x.users[1].gecos = UINT32_MAX;
	hostile_open(&x);
	assert_int_equal(idg_snap_user(&x.s, 0, &pw), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_user(&x.s, 1, &pw), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_find_user(&x.s, "alice", &idx), IDG_ERR_CORRUPT);
	free(x.buf);

	hostile_new(&x);
	x.buf[x.h->strings.off + x.h->strings.len - 1] = 'x';	/* last string unterminated */
	hostile_open(&x);				/* (ops's last member's name) */
	assert_int_equal(idg_snap_find_group(&x.s, "ops", &idx), 0);
	assert_int_equal(idg_snap_group(&x.s, idx, &gr), 0);
	at = gr.members;
	assert_int_equal(idg_snap_member(&x.s, &at, &name, &nlen), IDG_ERR_CORRUPT);
	free(x.buf);

	hostile_new(&x);
	x.users[0].groups = UINT32_MAX;			/* ids range wraps */
	x.users[1].ngroups = 1000;
	x.groups[0].nmembers = x.h->strings.len;	/* more names than the strings hold */
	x.users[0].uid = 0;				/* root, outside the range */
	hostile_open(&x);
	assert_int_equal(idg_snap_user(&x.s, 0, &pw), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_user(&x.s, 1, &pw), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_group(&x.s, 0, &gr), IDG_ERR_CORRUPT);
	free(x.buf);

	hostile_new(&x);
	x.groups[1].members = 0;		/* the empty string: no name */
	hostile_open(&x);
	assert_int_equal(idg_snap_group(&x.s, 1, &gr), 0);
	at = gr.members;
	assert_int_equal(idg_snap_member(&x.s, &at, &name, &nlen), IDG_ERR_CORRUPT);
	free(x.buf);

	hostile_new(&x);
	x.groups[1].members = x.h->strings.len - 2;	/* a name that is the last one's tail */
	x.groups[1].nmembers = 1;
	hostile_open(&x);
	assert_int_equal(idg_snap_group(&x.s, 1, &gr), 0);
	at = gr.members;
	assert_int_equal(idg_snap_member(&x.s, &at, &name, &nlen), 0);
	assert_int_equal(nlen, 1);
	assert_true(name + nlen < x.s.strings + x.s.strings_len);
	free(x.buf);

	/* table slots naming records that do not exist */
	hostile_new(&x);
	for (uint32_t i = 0; i < x.h->pw_name.len / sizeof(*x.pw_name); i++)
		x.pw_name[i] = (struct idg_snap_slot){ idg_snap_hash_str("alice"), 3, 0, 0 };
	for (uint32_t i = 0; i < x.h->gr_gid.len / sizeof(*x.gr_gid); i++)
		x.gr_gid[i] = (struct idg_snap_slot){ MIN + 100, UINT32_MAX, UINT32_MAX, UINT32_MAX };
	hostile_open(&x);
	assert_int_equal(idg_snap_find_user(&x.s, "alice", &idx), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_find_gid(&x.s, MIN + 100, &idx), IDG_ERR_CORRUPT);
	free(x.buf);

	/* slot hints that disagree with the record: never a wrong answer */
	hostile_new(&x);
	for (uint32_t i = 0; i < x.h->pw_name.len / sizeof(*x.pw_name); i++)
		if (x.pw_name[i].idx == 1)		/* alice's slot: bob's record */
			x.pw_name[i].idx = 2;
	for (uint32_t i = 0; i < x.h->gr_gid.len / sizeof(*x.gr_gid); i++)
		if (x.gr_gid[i].idx != 0)		/* a key no record has */
			x.gr_gid[i].key = MIN + 9999;
	hostile_open(&x);
	assert_int_equal(idg_snap_find_user(&x.s, "alice", &idx), IDG_ERR_CORRUPT);
	assert_int_equal(idg_snap_find_user(&x.s, "bob", &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(idg_snap_find_gid(&x.s, MIN + 100, &idx), IDG_ERR_NOTFOUND);
	free(x.buf);

	/* a full table of valid records: a miss ends after nslots probes */
	hostile_new(&x);
	for (uint32_t i = 0; i < x.h->pw_name.len / sizeof(*x.pw_name); i++) {
		uint32_t r = i & 1;

		x.pw_name[i] = (struct idg_snap_slot){ idg_snap_hash_str((const char *)x.buf +
		    x.h->strings.off + x.users[r].name), 1 + r, x.users[r].name, x.users[r].groups };
	}
	hostile_open(&x);
	assert_int_equal(idg_snap_find_user(&x.s, "nobody-here", &idx), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_snap_find_user(&x.s, "bob", &idx), 0);
	free(x.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_user_in_1000_groups),
		cmocka_unit_test(test_group_of_10000),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_publish_what_is_marked),
		cmocka_unit_test(test_publish_concurrent),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_hostile_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
