/* Applying a repo's ACLs to its tree through libacl: compare first, write only what differs,
 * never follow a symlink, never leave the repo directory's filesystem. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <acl/libacl.h>

#include "common/err.h"
#include "enforce/acl_apply.h"

/* An ACL reduced to what decides access: the owner's, the owning group's (through the mask)
 * and others' permissions, and each named entry's effective permissions, sorted. Two ACLs
 * with equal forms grant the same access: a new file whose inherited entries are r-x under
 * an rw- mask is as right as one that says r-- (so inheritance is not "repaired"). */
struct canon {
	uint8_t uobj, gobj, other;
	size_t n;
	struct { uint8_t tag, perm; uint32_t id; } e[IDG_ACL_ENTRIES_MAX];
};

enum { K_DIR, K_FILE, K_FILEX, K_NKINDS };

struct idg_acl_set {
	uid_t owner;
	gid_t group;
	bool owned_links;	/* multi-link files of the owner and of id_lo..id_hi changed too */
	uid_t id_lo, id_hi;
	acl_t acl[K_NKINDS];	/* access ACLs; K_DIR is the default ACL of directories too */
	struct canon want[K_NKINDS];
};

static uint8_t
kind_perm(int kind, uint8_t dirperm)
{
	return kind == K_FILE ? (uint8_t)(dirperm & 6) : dirperm;
}

static int
add_ent(acl_t *acl, acl_tag_t tag, const uint32_t *id, uint8_t perm)
{
	acl_entry_t e;
	acl_permset_t ps;

	if (acl_create_entry(acl, &e) < 0 || acl_set_tag_type(e, tag) < 0 ||
	    (id && acl_set_qualifier(e, id) < 0) || acl_get_permset(e, &ps) < 0 ||
	    acl_clear_perms(ps) < 0)
		return -1;
	if (((perm & 4) && acl_add_perm(ps, ACL_READ) < 0) ||
	    ((perm & 2) && acl_add_perm(ps, ACL_WRITE) < 0) ||
	    ((perm & 1) && acl_add_perm(ps, ACL_EXECUTE) < 0))
		return -1;
	return acl_set_permset(e, ps);
}

static int
build_kind(struct idg_acl_set *s, const struct idg_acl_spec *spec, mode_t mode, int kind)
{
	struct canon *w = &s->want[kind];
	uint8_t mask = 0;
	acl_t acl;

	if ((acl = acl_init((int)spec->n + 4)) == NULL)
		return IDG_ERR_NOMEM;
	w->uobj = kind_perm(kind, (uint8_t)((mode >> 6) & 7));
	w->gobj = kind_perm(kind, (uint8_t)((mode >> 3) & 7));
	w->other = kind_perm(kind, (uint8_t)(mode & 7));
	w->n = 0;
	if (add_ent(&acl, ACL_USER_OBJ, NULL, w->uobj) < 0 ||
	    add_ent(&acl, ACL_GROUP_OBJ, NULL, w->gobj) < 0 ||
	    add_ent(&acl, ACL_OTHER, NULL, w->other) < 0)
		goto fail;
	mask = w->gobj;
	for (size_t i = 0; i < spec->n; i++) {
		uint8_t p = kind_perm(kind, spec->e[i].perm == IDG_ACLP_WRITE ? 7 : 5);

		if (add_ent(&acl, spec->e[i].tag == IDG_ACLT_USER ? ACL_USER : ACL_GROUP,
		    &spec->e[i].id, p) < 0)
			goto fail;
		w->e[w->n].tag = spec->e[i].tag;
		w->e[w->n].id = spec->e[i].id;
		w->e[w->n].perm = p;
		w->n++;
		mask |= p;
	}
	if (spec->n > 0 && (add_ent(&acl, ACL_MASK, NULL, mask) < 0 || acl_valid(acl) < 0))
		goto fail;
	s->acl[kind] = acl;
	return 0;
fail:
	acl_free(acl);
	return IDG_ERR_INTERNAL;
}

int
idg_acl_set_new(const struct idg_acl_spec *spec, uid_t owner, gid_t group, mode_t mode,
    struct idg_acl_set **out)
{
	struct idg_acl_set *s = calloc(1, sizeof(*s));
	int rc = 0;

	if (s == NULL)
		return IDG_ERR_NOMEM;
	s->owner = owner;
	s->group = group;
	for (int k = 0; k < K_NKINDS && rc == 0; k++)
		rc = build_kind(s, spec, mode & 0777, k);
	if (rc < 0) {
		idg_acl_set_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
idg_acl_set_owned_links(struct idg_acl_set *s, bool yes, uid_t id_lo, uid_t id_hi)
{
	s->owned_links = yes;
	s->id_lo = id_lo;
	s->id_hi = id_hi;
}

/* A multi-link file the walk may change (see idg_acl_set_owned_links). */
static bool
link_ours(const struct idg_acl_set *s, uid_t uid)
{
	return s->owned_links && (uid == s->owner || (uid >= s->id_lo && uid <= s->id_hi));
}

void
idg_acl_set_free(struct idg_acl_set *s)
{
	if (s == NULL)
		return;
	for (int k = 0; k < K_NKINDS; k++)
		if (s->acl[k])
			acl_free(s->acl[k]);
	free(s);
}

static uint8_t
perm_bits(acl_entry_t e)
{
	acl_permset_t ps;
	uint8_t p = 0;

	if (acl_get_permset(e, &ps) < 0)
		return 0;
	if (acl_get_perm(ps, ACL_READ) == 1)
		p |= 4;
	if (acl_get_perm(ps, ACL_WRITE) == 1)
		p |= 2;
	if (acl_get_perm(ps, ACL_EXECUTE) == 1)
		p |= 1;
	return p;
}

/* The canonical form of acl; false when it cannot be one we would write (too many entries,
 * or unreadable): it then differs from anything wanted. */
static bool
canon_of(acl_t acl, struct canon *c)
{
	acl_entry_t e;
	uint8_t mask = 7;
	bool has_mask = false;
	int r;

	c->uobj = c->gobj = c->other = 0;
	c->n = 0;
	for (r = acl_get_entry(acl, ACL_FIRST_ENTRY, &e); r == 1;
	    r = acl_get_entry(acl, ACL_NEXT_ENTRY, &e)) {
		acl_tag_t tag;
		uid_t *q;

		if (acl_get_tag_type(e, &tag) < 0)
			return false;
		switch (tag) {
		case ACL_USER_OBJ: c->uobj = perm_bits(e); break;
		case ACL_GROUP_OBJ: c->gobj = perm_bits(e); break;
		case ACL_OTHER: c->other = perm_bits(e); break;
		case ACL_MASK: mask = perm_bits(e); has_mask = true; break;
		case ACL_USER: case ACL_GROUP:
			if (c->n >= IDG_ACL_ENTRIES_MAX || (q = acl_get_qualifier(e)) == NULL)
				return false;
			c->e[c->n].tag = tag == ACL_USER ? IDG_ACLT_USER : IDG_ACLT_GROUP;
			c->e[c->n].id = *q;
			c->e[c->n].perm = perm_bits(e);
			c->n++;
			acl_free(q);
			break;
		default:
			return false;
		}
	}
	if (r < 0)
		return false;
	if (has_mask) {
		c->gobj &= mask;
		for (size_t i = 0; i < c->n; i++)
			c->e[i].perm &= mask;
	}
	return true;
}

static bool
canon_eq(const struct canon *a, const struct canon *b)
{
	if (a->uobj != b->uobj || a->gobj != b->gobj || a->other != b->other || a->n != b->n)
		return false;
	/* The kernel keeps entries sorted by tag, then id; so do we. */
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].tag != b->e[i].tag || a->e[i].id != b->e[i].id ||
		    a->e[i].perm != b->e[i].perm)
			return false;
	return true;
}

struct walk {
	const struct idg_acl_set *set;
	idg_apply_report_fn report;
	void *ctx;
	struct idg_apply_stats *st;
	dev_t dev;
	char path[4096];
	struct canon cur;	/* scratch: too big for the stack of a deep walk */
};

static void
tell(struct walk *w, const char *label, acl_t old, const char *extra)
{
	char what[1024];
	char *txt = NULL;

	if (w->report == NULL)
		return;
	if (old)
		txt = acl_to_any_text(old, NULL, ',', TEXT_NUMERIC_IDS);
	snprintf(what, sizeof(what), "%s%s", label, txt ? txt : (extra ? extra : "?"));
	if (txt)
		acl_free(txt);
	w->report(w->ctx, w->path[0] ? w->path : ".", true, what);
}

/* One directory or regular file, open as fd. */
static void
fix(struct walk *w, int fd, const struct stat *st, bool dir)
{
	const struct idg_acl_set *s = w->set;
	int kind = dir ? K_DIR : (st->st_mode & S_IXUSR) ? K_FILEX : K_FILE;
	bool changed = false;
	acl_t cur;

	if (st->st_uid != s->owner || st->st_gid != s->group) {
		char was[64];

		snprintf(was, sizeof(was), "%lu:%lu", (unsigned long)st->st_uid,
		    (unsigned long)st->st_gid);
		if (fchown(fd, s->owner, s->group) < 0) {
			w->st->errors++;
			return;
		}
		tell(w, "owner was ", NULL, was);
		changed = true;
	}
	/* Only permission bits, on directories as on files: a setgid directory would give what
	 * is made in it the data group, a sticky one would keep writers from renaming or
	 * removing what they did not make, a set-id file would run as its owner. */
	if (st->st_mode & (S_ISUID | S_ISGID | S_ISVTX)) {
		char was[64];

		if (fchmod(fd, st->st_mode & 0777) < 0) {
			w->st->errors++;
			return;
		}
		snprintf(was, sizeof(was), "%04o (set-id and sticky bits are cleared)",
		    (unsigned)(st->st_mode & 07777));
		tell(w, "mode was ", NULL, was);
		changed = true;
	}
	if ((cur = acl_get_fd(fd)) == NULL || !canon_of(cur, &w->cur) ||
	    !canon_eq(&w->cur, &s->want[kind])) {
		if (acl_set_fd(fd, s->acl[kind]) < 0) {
			w->st->errors++;
		} else {
			tell(w, "access ACL was ", cur, "unreadable");
			changed = true;
		}
	}
	if (cur)
		acl_free(cur);
	if (dir) {
		/* libacl reads and writes default ACLs by path only: the descriptor's own
		 * /proc/self/fd link names exactly this directory, whatever its name now. */
		char proc[64];

		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if ((cur = acl_get_file(proc, ACL_TYPE_DEFAULT)) == NULL ||
		    acl_entries(cur) == 0 || !canon_of(cur, &w->cur) ||
		    !canon_eq(&w->cur, &s->want[K_DIR])) {
			if (acl_set_file(proc, ACL_TYPE_DEFAULT, s->acl[K_DIR]) < 0) {
				w->st->errors++;
			} else {
				if (cur && acl_entries(cur) > 0)
					tell(w, "default ACL was ", cur, NULL);
				else
					tell(w, "default ACL was ", NULL, "missing");
				changed = true;
			}
		}
		if (cur)
			acl_free(cur);
	}
	if (changed)
		w->st->changed++;
}

struct frame {
	DIR *d;
	size_t plen;
};

static void
path_push(struct walk *w, size_t plen, const char *name)
{
	if (plen == 0)
		snprintf(w->path, sizeof(w->path), "%s", name);
	else if (plen < sizeof(w->path))
		snprintf(w->path + plen, sizeof(w->path) - plen, "/%s", name);
}

/* Open the directory name below parentfd (never through a symlink) and fix it. */
static int
open_dir(struct walk *w, int parentfd, const char *name, bool top)
{
	struct stat st;
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (top)
		w->dev = st.st_dev;
	else if (st.st_dev != w->dev) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	w->st->dirs++;
	fix(w, fd, &st, true);
	return fd;
}

static void
do_file(struct walk *w, int dirfd, const char *name)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_NOATIME |
	    O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP || errno == ENXIO || errno == ENOENT)
			w->st->skipped++;	/* a symlink, a socket, gone meanwhile */
		else
			w->st->errors++;
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != w->dev) {
		w->st->skipped++;	/* a fifo or device swapped in, or another filesystem */
		close(fd);
		return;
	}
	if (st.st_nlink > 1 && !link_ours(w->set, st.st_uid)) {
		/* The same inode may have a name outside the repo: a writer can link in a file
		 * of someone else's that it may read and write, and changing that would reach
		 * out of the data root (a local user's file, a system file). One of the data
		 * owner's or an IdP user's is changed when the kernel lets only those who may
		 * read and write a file link it (acl_apply.h): it is the repo's file linked
		 * out by someone with access, or a writer's own linked in, whose access must
		 * end with the role through every name. */
		char why[160];

		w->st->skipped++;
		if (w->set->owned_links)
			snprintf(why, sizeof(why), "it has more than one hard link and belongs to "
			    "uid %lu, neither the data owner nor an IdP user",
			    (unsigned long)st.st_uid);
		else
			snprintf(why, sizeof(why), "it has more than one hard link (and "
			    "fs.protected_hardlinks is not 1)");
		if (w->report)
			w->report(w->ctx, w->path, false, why);
		close(fd);
		return;
	}
	w->st->files++;
	fix(w, fd, &st, false);
	close(fd);
}

static int
walk(struct walk *w, int parentfd, const char *name)
{
	struct frame stack[IDG_APPLY_DEPTH_MAX + 1];
	int depth = 0, fd;

	w->path[0] = '\0';
	/* Each directory is changed before it is read: what anyone could still make in it
	 * was made before the change, so the read that follows sees it. */
	if ((fd = open_dir(w, parentfd, name, true)) < 0)
		return IDG_ERR_IO;
	if ((stack[0].d = fdopendir(fd)) == NULL) {
		close(fd);
		return IDG_ERR_IO;
	}
	stack[0].plen = 0;
	while (depth >= 0) {
		struct frame *f = &stack[depth];
		struct dirent *e;
		unsigned char type;

		errno = 0;
		if ((e = readdir(f->d)) == NULL) {
			if (errno)
				w->st->errors++;
			closedir(f->d);
			depth--;
			continue;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path_push(w, f->plen, e->d_name);
		type = e->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(f->d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		}
		if (type == DT_REG) {
			do_file(w, dirfd(f->d), e->d_name);
		} else if (type == DT_DIR) {
			int cfd;
			DIR *cd;

			if (depth + 1 > IDG_APPLY_DEPTH_MAX) {
				w->st->skipped++;
				if (w->report)
					w->report(w->ctx, w->path, false, "too deep: not walked");
				continue;
			}
			if ((cfd = open_dir(w, dirfd(f->d), e->d_name, false)) < 0) {
				if (errno == ELOOP || errno == ENOTDIR || errno == ENOENT ||
				    errno == EXDEV)
					w->st->skipped++;
				else
					w->st->errors++;
				continue;
			}
			if ((cd = fdopendir(cfd)) == NULL) {
				close(cfd);
				w->st->errors++;
				continue;
			}
			depth++;
			stack[depth].d = cd;
			stack[depth].plen = strlen(w->path);
		} else {
			w->st->skipped++;	/* symlinks and special files are left alone */
		}
	}
	return 0;
}

int
idg_acl_apply_tree(int parentfd, const char *name, const struct idg_acl_set *set,
    idg_apply_report_fn report, void *ctx, struct idg_apply_stats *stats)
{
	struct walk *w = malloc(sizeof(*w));
	int rc;

	if (w == NULL)
		return IDG_ERR_NOMEM;
	w->set = set;
	w->report = report;
	w->ctx = ctx;
	w->st = stats;
	rc = walk(w, parentfd, name);
	free(w);
	return rc;
}

int
idg_acl_apply_fd(int fd, bool dir, const struct idg_acl_set *set, struct idg_apply_stats *stats)
{
	struct walk *w;
	struct stat st;

	if (fstat(fd, &st) < 0 || (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)))
		return IDG_ERR_INVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return IDG_ERR_NOMEM;
	w->set = set;
	w->st = stats;
	w->dev = st.st_dev;
	if (dir)
		stats->dirs++;
	else
		stats->files++;
	fix(w, fd, &st, dir);
	free(w);
	return 0;
}
