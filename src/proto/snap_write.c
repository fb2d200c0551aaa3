/* Writing the NSS snapshot (idgated): lay the file out in memory, then put it in place with
 * an atomic rename and mark the file it replaced. libc only. Format: snapshot.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/snapshot.h"

#define ALIGN8(x) (((x) + 7u) & ~(uint64_t)7u)
#define SLOT sizeof(struct idg_snap_slot)

/* The sizes of everything, computed before anything is allocated. */
struct layout {
	uint64_t users, groups, pw_name, pw_uid, gr_name, gr_gid, ids, strings, end;
	uint32_t pw_slots, gr_slots;
	uint64_t nids, strbytes;
};

/* What is being written: the buffer and where each part goes. */
struct wr {
	const struct idg_snap_in *in;
	uint8_t *buf;
	struct idg_snap_hdr *hdr;
	struct idg_snap_user *users;
	struct idg_snap_group *groups;
	struct idg_snap_slot *pw_name, *pw_uid, *gr_name, *gr_gid;
	uint32_t *ids;
	char *strings;
	uint32_t nids, strlen_used, last_shell;
	struct layout lay;
};

/* Slots: a power of two, at least twice the entries (so probes stay short), at least 2. */
static uint32_t
table_slots(size_t n)
{
	uint64_t s = 2;

	while (s < 2 * (uint64_t)n)
		s <<= 1;
	return s > UINT32_MAX ? 0 : (uint32_t)s;
}

static int
str_ok(const char *s)
{
	return s != NULL && strpbrk(s, ":\n") == NULL;
}

static uint64_t
user_strbytes(const struct idg_snap_in_user *u)
{
	return strlen(u->name) + strlen(u->gecos) + strlen(u->dir) + strlen(u->shell) + 4;
}

/* Check one user's fields and count what it adds. */
static int
check_user(const struct idg_snap_in *in, const struct idg_snap_in_user *u, struct layout *l)
{
	if (!str_ok(u->name) || u->name[0] == '\0' || !str_ok(u->gecos) || !str_ok(u->dir) ||
	    !str_ok(u->shell))
		return IDG_ERR_INVAL;
	if (u->uid < in->id_min || u->uid > in->id_max || u->gid < in->id_min ||
	    u->gid > in->id_max || (u->ngids > 0 && u->gids == NULL))
		return IDG_ERR_INVAL;
	for (size_t i = 0; i < u->ngids; i++)
		if (u->gids[i] < in->id_min || u->gids[i] > in->id_max)
			return IDG_ERR_INVAL;
	l->nids += u->ngids;
	l->strbytes += user_strbytes(u);
	return 0;
}

static int
check_group(const struct idg_snap_in *in, const struct idg_snap_in_group *g, struct layout *l)
{
	if (!str_ok(g->name) || g->name[0] == '\0' || g->gid < in->id_min || g->gid > in->id_max ||
	    (g->nmembers > 0 && g->members == NULL))
		return IDG_ERR_INVAL;
	l->strbytes += strlen(g->name) + 1;
	for (size_t i = 0; i < g->nmembers; i++) {
		if (g->members[i] >= in->nusers)
			return IDG_ERR_INVAL;
		l->strbytes += strlen(in->users[g->members[i]].name) + 1;
		if (l->strbytes > IDG_SNAP_MAX_SIZE)
			return IDG_ERR_TOOBIG;
	}
	return 0;
}

/* Validate the input and compute the file's layout; IDG_ERR_TOOBIG past the maximum. */
static int
plan(const struct idg_snap_in *in, struct layout *l)
{
	uint64_t off;
	int rc;

	memset(l, 0, sizeof(*l));
	if (in->id_min == 0 || in->id_min > in->id_max || in->id_max == UINT32_MAX)
		return IDG_ERR_INVAL;
	if ((in->nusers > 0 && in->users == NULL) || (in->ngroups > 0 && in->groups == NULL))
		return IDG_ERR_INVAL;
	if (in->ask_socket != NULL && strlen(in->ask_socket) >= IDG_SNAP_SOCK_MAX)
		return IDG_ERR_INVAL;
	if (in->nusers > IDG_SNAP_MAX_SIZE / sizeof(struct idg_snap_user) ||
	    in->ngroups > IDG_SNAP_MAX_SIZE / sizeof(struct idg_snap_group))
		return IDG_ERR_TOOBIG;
	l->strbytes = 1;	/* offset 0 is the empty string */
	for (size_t i = 0; i < in->nusers; i++)
		if ((rc = check_user(in, &in->users[i], l)) < 0)
			return rc;
	for (size_t i = 0; i < in->ngroups; i++)
		if ((rc = check_group(in, &in->groups[i], l)) < 0)
			return rc;
	l->pw_slots = table_slots(in->nusers);
	l->gr_slots = table_slots(in->ngroups);
	off = sizeof(struct idg_snap_hdr);
	l->users = off;
	off = ALIGN8(off + in->nusers * sizeof(struct idg_snap_user));
	l->groups = off;
	off = ALIGN8(off + in->ngroups * sizeof(struct idg_snap_group));
	l->pw_name = off;
	off = ALIGN8(off + SLOT * (uint64_t)l->pw_slots);
	l->pw_uid = off;
	off = ALIGN8(off + SLOT * (uint64_t)l->pw_slots);
	l->gr_name = off;
	off = ALIGN8(off + SLOT * (uint64_t)l->gr_slots);
	l->gr_gid = off;
	off = ALIGN8(off + SLOT * (uint64_t)l->gr_slots);
	l->ids = off;
	off = ALIGN8(off + 4 * l->nids);
	l->strings = off;
	l->end = ALIGN8(off + l->strbytes);
	return l->end > IDG_SNAP_MAX_SIZE ? IDG_ERR_TOOBIG : 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Append a string; reuse the empty string and a repeat of the previous shell. */
static uint32_t
put_str(struct wr *w, const char *s)
{
	size_t n = strlen(s);
	uint32_t off = w->strlen_used;

	if (n == 0)
		return 0;
	memcpy(w->strings + off, s, n + 1);
	w->strlen_used += (uint32_t)n + 1;
	return off;
}

static uint32_t
put_shell(struct wr *w, const char *s)
{
	if (w->last_shell != 0 && strcmp(w->strings + w->last_shell, s) == 0)
		return w->last_shell;
	w->last_shell = put_str(w, s);
	return w->last_shell;
}

/* Insert record idx under hash h with the slot's key, name and list; a record that
 * compares equal is a duplicate. */
static int
insert(struct idg_snap_slot *slots, uint32_t nslots, uint32_t h, struct idg_snap_slot v,
    int (*same)(const struct wr *, uint32_t, uint32_t), const struct wr *w)
{
	uint32_t mask = nslots - 1;

	for (uint32_t i = 0, s = h & mask; i < nslots; i++, s = (s + 1) & mask) {
		if (slots[s].idx == 0) {
			slots[s] = v;
			return 0;
		}
		if (same(w, slots[s].idx - 1, v.idx - 1))
			return IDG_ERR_INVAL;
	}
	return IDG_ERR_INTERNAL;	/* tables have twice the slots they need */
}

static int
same_uname(const struct wr *w, uint32_t a, uint32_t b)
{
	return strcmp(w->strings + w->users[a].name, w->strings + w->users[b].name) == 0;
}

static int
same_uid(const struct wr *w, uint32_t a, uint32_t b)
{
	return w->users[a].uid == w->users[b].uid;
}

static int
same_gname(const struct wr *w, uint32_t a, uint32_t b)
{
	return strcmp(w->strings + w->groups[a].name, w->strings + w->groups[b].name) == 0;
}

static int
same_gid(const struct wr *w, uint32_t a, uint32_t b)
{
	return w->groups[a].gid == w->groups[b].gid;
}

static int
write_users(struct wr *w)
{
	const struct idg_snap_in *in = w->in;
	uint32_t h;
	int rc;

	for (uint32_t i = 0; i < in->nusers; i++) {
		const struct idg_snap_in_user *u = &in->users[i];
		struct idg_snap_user *r = &w->users[i];

		r->name = put_str(w, u->name);
		r->gecos = put_str(w, u->gecos);
		r->dir = put_str(w, u->dir);
		r->shell = put_shell(w, u->shell);
		r->uid = u->uid;
		r->gid = u->gid;
		r->groups = w->nids;
		r->ngroups = (uint32_t)u->ngids;
		if (u->ngids) {
			memcpy(w->ids + w->nids, u->gids, u->ngids * sizeof(uint32_t));
			/* Ascending, so the reader's initgroups checks for repeats cheaply. */
			qsort(w->ids + w->nids, u->ngids, sizeof(uint32_t), cmp_u32);
		}
		w->nids += (uint32_t)u->ngids;
		h = idg_snap_hash_str(u->name);
		if ((rc = insert(w->pw_name, w->lay.pw_slots, h, (struct idg_snap_slot){ h, i + 1,
		    r->name, r->groups }, same_uname, w)) < 0 ||
		    (rc = insert(w->pw_uid, w->lay.pw_slots, idg_snap_hash_id(u->uid),
		    (struct idg_snap_slot){ u->uid, i + 1, r->name, r->groups }, same_uid, w)) < 0)
			return rc;
	}
	return 0;
}

static int
write_groups(struct wr *w)
{
	const struct idg_snap_in *in = w->in;
	uint32_t h;
	int rc;

	for (uint32_t i = 0; i < in->ngroups; i++) {
		const struct idg_snap_in_group *g = &in->groups[i];
		struct idg_snap_group *r = &w->groups[i];

		r->name = put_str(w, g->name);
		r->gid = g->gid;
		/* The members' names right after the group's: one read fetches them all. */
		r->members = g->nmembers ? w->strlen_used : 0;
		r->nmembers = (uint32_t)g->nmembers;
		for (size_t m = 0; m < g->nmembers; m++)
			(void)put_str(w, in->users[g->members[m]].name);
		h = idg_snap_hash_str(g->name);
		if ((rc = insert(w->gr_name, w->lay.gr_slots, h, (struct idg_snap_slot){ h, i + 1,
		    r->name, r->members }, same_gname, w)) < 0 ||
		    (rc = insert(w->gr_gid, w->lay.gr_slots, idg_snap_hash_id(g->gid),
		    (struct idg_snap_slot){ g->gid, i + 1, r->name, r->members }, same_gid, w)) < 0)
			return rc;
	}
	return 0;
}

static void
set_sect(struct idg_snap_sect *s, uint64_t off, uint64_t len)
{
	s->off = (uint32_t)off;
	s->len = (uint32_t)len;
}

static void
write_header(struct wr *w)
{
	const struct idg_snap_in *in = w->in;
	const struct layout *l = &w->lay;
	struct idg_snap_hdr *h = w->hdr;

	memcpy(h->magic, IDG_SNAP_MAGIC, sizeof(h->magic));
	h->version = IDG_SNAP_VERSION;
	h->endian = IDG_SNAP_ENDIAN;
	h->hdr_size = sizeof(*h);
	h->file_size = l->end;
	h->generation = in->generation;
	h->flags = in->flags;
	h->ask_timeout_ms = in->ask_timeout_ms;
	h->id_min = in->id_min;
	h->id_max = in->id_max;
	h->nusers = (uint32_t)in->nusers;
	h->ngroups = (uint32_t)in->ngroups;
	set_sect(&h->users, l->users, in->nusers * sizeof(struct idg_snap_user));
	set_sect(&h->groups, l->groups, in->ngroups * sizeof(struct idg_snap_group));
	set_sect(&h->pw_name, l->pw_name, SLOT * (uint64_t)l->pw_slots);
	set_sect(&h->pw_uid, l->pw_uid, SLOT * (uint64_t)l->pw_slots);
	set_sect(&h->gr_name, l->gr_name, SLOT * (uint64_t)l->gr_slots);
	set_sect(&h->gr_gid, l->gr_gid, SLOT * (uint64_t)l->gr_slots);
	set_sect(&h->ids, l->ids, 4 * l->nids);
	set_sect(&h->strings, l->strings, w->strlen_used);
	if (in->ask_socket != NULL)
		memcpy(h->ask_socket, in->ask_socket, strlen(in->ask_socket) + 1);
	h->checksum = idg_snap_checksum(w->buf, l->end);
}

int
idg_snap_build(const struct idg_snap_in *in, uint8_t **buf_out, size_t *len_out)
{
	struct wr w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.in = in;
	if ((rc = plan(in, &w.lay)) < 0)
		return rc;
	if ((w.buf = calloc(1, w.lay.end)) == NULL)
		return IDG_ERR_NOMEM;
	w.hdr = (struct idg_snap_hdr *)w.buf;
	w.users = (struct idg_snap_user *)(w.buf + w.lay.users);
	w.groups = (struct idg_snap_group *)(w.buf + w.lay.groups);
	w.pw_name = (struct idg_snap_slot *)(w.buf + w.lay.pw_name);
	w.pw_uid = (struct idg_snap_slot *)(w.buf + w.lay.pw_uid);
	w.gr_name = (struct idg_snap_slot *)(w.buf + w.lay.gr_name);
	w.gr_gid = (struct idg_snap_slot *)(w.buf + w.lay.gr_gid);
	w.ids = (uint32_t *)(w.buf + w.lay.ids);
	w.strings = (char *)(w.buf + w.lay.strings);
	w.strlen_used = 1;
	if ((rc = write_users(&w)) < 0 || (rc = write_groups(&w)) < 0) {
		free(w.buf);
		return rc;
	}
	write_header(&w);
	*buf_out = w.buf;
	*len_out = w.lay.end;
	return 0;
}

/* ---------- publishing ---------- */

static int
fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		n = strlen(err);
		if (rc == IDG_ERR_IO && n + 3 < errlen)
			snprintf(err + n, errlen - n, ": %s", strerror(saved));
	}
	errno = saved;
	return rc;
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return IDG_ERR_IO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory part of path ("." when it has none) into dir. */
static int
dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));

	if (n >= size)
		return IDG_ERR_TOOBIG;
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	return 0;
}

/* A new temporary file beside path: created exclusively, never through a symlink. */
static int
create_temp(const char *path, char *tmp, size_t size)
{
	static unsigned counter;

	for (int tries = 0; tries < 100; tries++) {
		int fd;

		if ((size_t)snprintf(tmp, size, "%s.tmp.%ld.%u", path, (long)getpid(),
		    counter++) >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* The file being replaced, opened to be marked once the new one is in place; -1 if there is
 * none or it is no snapshot (not a regular file, too short, another magic): only a snapshot
 * is ever written to. */
static int
open_old(const char *path, int *fd_out)
{
	char magic[sizeof(IDG_SNAP_MAGIC) - 1];
	struct stat st;
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*fd_out = -1;
	if (fd < 0)
		return errno == ENOENT ? 0 : IDG_ERR_IO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct idg_snap_hdr) ||
	    pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, IDG_SNAP_MAGIC, sizeof(magic)) != 0) {
		close(fd);
		return 0;
	}
	*fd_out = fd;
	return 0;
}

/* PATH.lock, created root-only and locked: publishers of the same path take turns, so the
 * file each one marks is the one it replaced (two interleaved publishes would both mark the
 * same old file and leave one new file unmarked, its readers on it for good). Not the
 * directory itself: anyone who can read it could hold a lock on it. */
static int
lock_path(const char *path, int *fd_out)
{
	char lock[4096];
	struct stat st;
	int fd;

	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock)) {
		errno = ENAMETOOLONG;
		return IDG_ERR_IO;
	}
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return IDG_ERR_IO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return IDG_ERR_IO;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return IDG_ERR_IO;
		}
	}
	*fd_out = fd;
	return 0;
}

static int
fsync_dir(const char *path)
{
	char dir[4096];
	int fd, rc = 0;

	if (dir_of(path, dir, sizeof(dir)) < 0)
		return IDG_ERR_TOOBIG;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return IDG_ERR_IO;
	if (fsync(fd) < 0)
		rc = IDG_ERR_IO;
	close(fd);
	return rc;
}

/* Write the temporary file completely: mode 0644, owner root when we are root, on disk.
 * `replaced` goes out as 0 whatever buf says (a republished old file may carry a 1), or
 * every reader would take the new file for a stale one. */
static int
fill_temp(int fd, const uint8_t *buf, size_t len)
{
	struct idg_snap_hdr h;

	if (fchmod(fd, 0644) < 0 || (geteuid() == 0 && fchown(fd, 0, 0) < 0))
		return IDG_ERR_IO;
	memcpy(&h, buf, sizeof(h));
	h.replaced = 0;
	if (write_all(fd, (const uint8_t *)&h, sizeof(h)) < 0 ||
	    write_all(fd, buf + sizeof(h), len - sizeof(h)) < 0 || fsync(fd) < 0)
		return IDG_ERR_IO;
	return 0;
}

static void
mark_replaced(int oldfd)
{
	uint32_t one = 1;

	if (oldfd < 0)
		return;
	if (pwrite(oldfd, &one, sizeof(one), offsetof(struct idg_snap_hdr, replaced)) !=
	    (ssize_t)sizeof(one)) {
		/* readers keep the old mapping until they restart: nothing more can be done */
	}
	close(oldfd);
}

int
idg_snap_publish(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	int fd = -1, lockfd = -1, oldfd = -1, rc;

	tmp[0] = '\0';
	if (len < sizeof(struct idg_snap_hdr) || memcmp(buf, IDG_SNAP_MAGIC, 8) != 0)
		return fail(err, errlen, IDG_ERR_INVAL, "%s: not a built snapshot", path);
	if ((rc = lock_path(path, &lockfd)) < 0)
		return fail(err, errlen, rc, "%s.lock: cannot lock", path);
	if ((fd = create_temp(path, tmp, sizeof(tmp))) < 0) {
		tmp[0] = '\0';
		rc = fail(err, errlen, IDG_ERR_IO, "%s: cannot create a temporary file", path);
		goto out;
	}
	if ((rc = fill_temp(fd, buf, len)) < 0) {
		fail(err, errlen, rc, "%s: cannot write", tmp);
		goto out;
	}
	if ((rc = open_old(path, &oldfd)) < 0) {
		fail(err, errlen, rc, "%s: cannot open the snapshot it replaces", path);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rc = fail(err, errlen, IDG_ERR_IO, "%s: cannot rename into place", path);
		goto out;
	}
	tmp[0] = '\0';
	if ((rc = fsync_dir(path)) < 0)
		fail(err, errlen, rc, "%s: cannot fsync its directory", path);
	mark_replaced(oldfd);	/* the new file is in place either way */
	oldfd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (oldfd >= 0)
		close(oldfd);
	if (tmp[0] != '\0')
		unlink(tmp);
	close(lockfd);	/* and the lock with it */
	return rc;
}
