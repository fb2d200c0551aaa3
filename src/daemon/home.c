/* Making an IdP user's home directory (home.h): every step relative to a directory
 * descriptor, nothing followed through a symbolic link, nothing unbounded. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "daemon/home.h"

#define TMP_PREFIX ".idgate-new-home."
#define REMOVE_ENTRIES_MAX 100000

/* What a copy may still spend, and what it skipped. */
struct budget {
	size_t entries;
	size_t bytes;
	char *note;
	size_t notelen;
};

static void
skipped(struct budget *b, const char *name, const char *what)
{
	size_t off = strlen(b->note);

	if (off == 0)
		snprintf(b->note, b->notelen, "skeleton entries skipped:");
	off = strlen(b->note);
	if (off + 1 < b->notelen)
		snprintf(b->note + off, b->notelen - off, " %s", name);
	log_notice("home: skeleton entry %s %s: skipped", name, what);
}

/* The whole skeleton is left out. */
static void
no_skel(struct budget *b, const char *skel, const char *why)
{
	snprintf(b->note, b->notelen, "no skeleton files: %s %s", skel, why);
	log_warn("home: no skeleton files copied: %s %s", skel, why);
}

/* path opened as a directory, following no symbolic link anywhere in it. */
static int
open_dir_nofollow(const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
}

/* A directory only root controls: owned by root, writable by nobody else. */
static bool
root_only_dir(int fd, struct stat *st)
{
	return fstat(fd, st) == 0 && S_ISDIR(st->st_mode) && st->st_uid == 0 &&
	    (st->st_mode & 022) == 0;
}

/* Remove name in dfd and everything under it, without following symlinks. */
static int
remove_tree(int dfd, const char *name, int depth, size_t *left)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	int fd, rc = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : IDG_ERR_IO;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? IDG_ERR_IO : 0;
	if (depth > IDG_SKEL_DEPTH_MAX + 2)
		return IDG_ERR_TOOBIG;
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return IDG_ERR_IO;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return IDG_ERR_IO;
	}
	while (rc == 0 && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (*left == 0)
			rc = IDG_ERR_TOOBIG;
		else {
			(*left)--;
			rc = remove_tree(dirfd(dir), e->d_name, depth + 1, left);
		}
	}
	closedir(dir);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = IDG_ERR_IO;
	return rc;
}

/* Copy the regular file name from sfd into tfd (st: its lstat). */
static int
copy_file(int sfd, int tfd, const char *name, const struct stat *st, uid_t uid, gid_t gid,
    struct budget *b)
{
	char buf[16384];
	struct stat st2;
	size_t total = 0;
	int in, out, rc = 0;
	ssize_t n;

	if (st->st_size > IDG_SKEL_FILE_MAX || b->bytes < (size_t)st->st_size) {
		skipped(b, name, "is too large");
		return 0;
	}
	/* O_NONBLOCK: a FIFO put there meanwhile cannot stall the daemon (fstat refuses it). */
	if ((in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
		skipped(b, name, "cannot be opened");
		return 0;
	}
	if (fstat(in, &st2) < 0 || !S_ISREG(st2.st_mode)) {
		close(in);
		skipped(b, name, "is not a regular file");
		return 0;
	}
	if ((out = openat(tfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		close(in);
		return IDG_ERR_IO;
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = IDG_ERR_IO;
			break;
		}
		total += (size_t)n;
		if (total > IDG_SKEL_FILE_MAX || total > b->bytes) {
			rc = IDG_ERR_TOOBIG;	/* it grew while we copied */
			break;
		}
		for (ssize_t w, off = 0; off < n; off += w)
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				rc = IDG_ERR_IO;
				break;
			}
		if (rc < 0)
			break;
	}
	close(in);
	if (rc == 0 && (fchown(out, uid, gid) < 0 || fchmod(out, st2.st_mode & 0777) < 0))
		rc = IDG_ERR_IO;
	close(out);
	if (rc == IDG_ERR_TOOBIG) {
		(void)unlinkat(tfd, name, 0);
		skipped(b, name, "grew past the limit while it was copied");
		return 0;
	}
	if (rc == 0)
		b->bytes -= total;
	return rc;
}

static int copy_dir(int sfd, int tfd, int depth, uid_t uid, gid_t gid, struct budget *b);

/* One entry of the skeleton. */
static int
copy_entry(int sfd, int tfd, const char *name, int depth, uid_t uid, gid_t gid,
    struct budget *b)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int s2, t2, rc;

	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;	/* gone meanwhile */
	if (S_ISREG(st.st_mode))
		return copy_file(sfd, tfd, name, &st, uid, gid, b);
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlinkat(sfd, name, target, sizeof(target) - 1)) < 0) {
			skipped(b, name, "is a symlink that cannot be read");
			return 0;
		}
		target[n] = '\0';
		if (symlinkat(target, tfd, name) < 0 ||
		    fchownat(tfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return IDG_ERR_IO;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		skipped(b, name, "is not a file, directory or symlink");
		return 0;
	}
	if (depth >= IDG_SKEL_DEPTH_MAX) {
		skipped(b, name, "is a directory nested too deep");
		return 0;
	}
	if ((s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	if (mkdirat(tfd, name, 0700) < 0 ||
	    (t2 = openat(tfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		close(s2);
		return IDG_ERR_IO;
	}
	rc = copy_dir(s2, t2, depth + 1, uid, gid, b);
	if (rc == 0 && (fchown(t2, uid, gid) < 0 || fchmod(t2, st.st_mode & 0777) < 0))
		rc = IDG_ERR_IO;
	close(s2);
	close(t2);
	return rc;
}

static int
copy_dir(int sfd, int tfd, int depth, uid_t uid, gid_t gid, struct budget *b)
{
	struct dirent *e;
	DIR *dir;
	int fd, rc = 0;

	if ((fd = dup(sfd)) < 0)
		return IDG_ERR_IO;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return IDG_ERR_IO;
	}
	while (rc == 0 && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (b->entries == 0) {
			skipped(b, e->d_name, "and the rest are past the number of entries allowed");
			break;
		}
		b->entries--;
		rc = copy_entry(sfd, tfd, e->d_name, depth, uid, gid, b);
	}
	closedir(dir);
	return rc;
}

/* The skeleton into tfd, if there is one that only root controls. */
static int
copy_skel(const char *skel, int tfd, uid_t uid, gid_t gid, struct budget *b)
{
	struct stat st;
	int sfd, rc;

	if (skel == NULL || skel[0] == '\0')
		return 0;
	if ((sfd = open_dir_nofollow(skel)) < 0) {
		if (errno != ENOENT)
			no_skel(b, skel, "cannot be opened without following a symlink");
		return 0;
	}
	if (!root_only_dir(sfd, &st)) {
		close(sfd);
		no_skel(b, skel, "is not owned by root or is writable by others");
		return 0;
	}
	rc = copy_dir(sfd, tfd, 0, uid, gid, b);
	close(sfd);
	return rc;
}

/* The home under its temporary name tmp in bfd: made, filled, owned; 0 or IDG_ERR_*. */
static int
build(const struct idg_home_req *r, int bfd, const char *tmp, struct budget *b, char *why,
    size_t whylen)
{
	struct stat st;
	int tfd, rc;

	if (mkdirat(bfd, tmp, 0700) < 0 ||
	    (tfd = openat(bfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "cannot make a directory in %s: %s", r->base, strerror(errno));
		return IDG_ERR_IO;
	}
	if (fstat(tfd, &st) < 0 || st.st_uid != 0) {
		close(tfd);
		snprintf(why, whylen, "the new directory in %s is not root's", r->base);
		return IDG_ERR_IO;
	}
	if ((rc = copy_skel(r->skel, tfd, r->uid, r->gid, b)) < 0) {
		close(tfd);
		snprintf(why, whylen, "copying the skeleton files failed: %s", strerror(errno));
		return rc;
	}
	/* Owner last: until now only root could enter it. */
	if (fchmod(tfd, 0700) < 0 || fchown(tfd, r->uid, r->gid) < 0) {
		close(tfd);
		snprintf(why, whylen, "cannot give the new home to uid %u: %s", (unsigned)r->uid,
		    strerror(errno));
		return IDG_ERR_IO;
	}
	close(tfd);
	return 0;
}

int
idg_home_create(const struct idg_home_req *r, bool *created_out, char *why, size_t whylen,
    char *note, size_t notelen)
{
	struct budget b = { .entries = IDG_SKEL_ENTRIES_MAX, .bytes = IDG_SKEL_TOTAL_MAX,
		.note = note, .notelen = notelen };
	char tmp[NAME_MAX + 1];
	struct stat st;
	size_t left = REMOVE_ENTRIES_MAX;
	int bfd, rc;

	if (notelen)
		note[0] = '\0';
	*created_out = false;
	if (r->name[0] == '\0' || r->name[0] == '.' || strchr(r->name, '/') ||
	    (size_t)snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s", r->name) >= sizeof(tmp)) {
		snprintf(why, whylen, "'%s' cannot be a directory name", r->name);
		return IDG_ERR_INVAL;
	}
	if ((bfd = open_dir_nofollow(r->base)) < 0) {
		snprintf(why, whylen, errno == ELOOP ? "home_base %s has a symbolic link in its "
		    "path: refusing to make a home through it" : "cannot open home_base %s: %s",
		    r->base, strerror(errno));
		return errno == ELOOP ? IDG_ERR_DENIED : IDG_ERR_IO;
	}
	if (!root_only_dir(bfd, &st)) {
		snprintf(why, whylen, "home_base %s must be a directory owned by root and writable "
		    "by nobody else (owner uid %u, mode %04o): refusing to make a home in it",
		    r->base, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		close(bfd);
		return IDG_ERR_DENIED;
	}
	if (fstatat(bfd, r->name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(bfd);
		return 0;	/* exists (whatever it is): never touched */
	}
	if (errno != ENOENT) {
		snprintf(why, whylen, "cannot look at %s/%s: %s", r->base, r->name, strerror(errno));
		close(bfd);
		return IDG_ERR_IO;
	}
	/* A temporary left by a crash goes first. */
	if ((rc = remove_tree(bfd, tmp, 0, &left)) < 0) {
		snprintf(why, whylen, "cannot remove the leftover %s/%s", r->base, tmp);
		close(bfd);
		return rc;
	}
	if ((rc = build(r, bfd, tmp, &b, why, whylen)) == 0) {
		if (renameat2(bfd, tmp, bfd, r->name, RENAME_NOREPLACE) == 0)
			*created_out = true;
		else if (errno != EEXIST) {	/* EEXIST: made meanwhile by someone: theirs */
			snprintf(why, whylen, "cannot rename the new home into place: %s",
			    strerror(errno));
			rc = IDG_ERR_IO;
		}
	}
	left = REMOVE_ENTRIES_MAX;
	if (!*created_out)
		(void)remove_tree(bfd, tmp, 0, &left);
	close(bfd);
	return rc;
}
