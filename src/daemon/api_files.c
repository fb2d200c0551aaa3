/* Repo data: each repo's directory ROOT/PROJECT/REPO, and the file requests. The daemon is
 * a broker: it checks the role engine, then copies a file the client passes (put), or passes
 * back a read-only descriptor (get). Paths are resolved beneath the repo directory with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so no name or symlink leads out of it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/enforce.h"

#define PATH_MAX_LEN 1024
#define PATH_DEPTH_MAX 32
#define LIST_MAX 10000
#define RESERVED_PREFIX ".idgate"
#define TRASH_DIR ".deleted"

static int
open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* A directory that only root may change: owned by root, not writable by group or others. */
static bool
safe_dir(int fd, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", what);
		return false;
	}
	if (st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(err, errlen, "%s must be owned by root and not writable by group or others",
		    what);
		return false;
	}
	return true;
}

/* The data root, created (0755, parents 0755) the first time it is needed. */
static int
data_root(struct idg_daemon *d, char *err, size_t errlen)
{
	int fd;

	if (d->data_fd >= 0)
		return d->data_fd;
	if (idg_make_dirs(d->cfg.data_root, 0755) < 0) {
		snprintf(err, errlen, "cannot create the data root %s: %s", d->cfg.data_root,
		    strerror(errno));
		return -1;
	}
	if ((fd = open(d->cfg.data_root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open the data root %s: %s", d->cfg.data_root, strerror(errno));
		return -1;
	}
	if (!safe_dir(fd, "the data root", err, errlen)) {
		close(fd);
		return -1;
	}
	d->data_fd = fd;
	return fd;
}

/* ROOT/PROJECT, created 0755 when create is set. */
static int
project_dir(struct idg_daemon *d, const char *project, bool create, char *err, size_t errlen)
{
	int root = data_root(d, err, errlen), fd;

	if (root < 0)
		return -1;
	if (create && mkdirat(root, project, 0755) == 0) {
		if (fchmodat(root, project, 0755, 0) < 0) {
			snprintf(err, errlen, "cannot set the mode of %s/%s: %s", d->cfg.data_root, project,
			    strerror(errno));
			return -1;
		}
	} else if (create && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s/%s: %s", d->cfg.data_root, project, strerror(errno));
		return -1;
	}
	if ((fd = open_beneath(root, project, O_RDONLY | O_DIRECTORY, 0)) < 0) {
		snprintf(err, errlen, "cannot open %s/%s: %s", d->cfg.data_root, project, strerror(errno));
		return -1;
	}
	if (!safe_dir(fd, "the project directory", err, errlen)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
idg_data_root_fd(struct idg_daemon *d, char *err, size_t errlen)
{
	return data_root(d, err, errlen);
}

int
idg_project_dir_open(struct idg_daemon *d, const char *project, char *err, size_t errlen)
{
	return project_dir(d, project, false, err, errlen);
}

/* A temporary name for a repo directory that is not committed yet. */
#define PENDING_PREFIX RESERVED_PREFIX "-new."

int
api_repo_dir_prepare(struct idg_daemon *d, const char *project, const char *repo, char *tmp,
    size_t tmplen, char *err, size_t errlen)
{
	unsigned char rnd[6];
	char hex[13];
	struct stat st;
	int pfd, rc = 0;

	if ((pfd = project_dir(d, project, true, err, errlen)) < 0)
		return IDG_ERR_IO;
	/* No repo of this name is in the store, so a directory of that name is an orphan (a
	 * crash between a delete and its move aside, or a hand-made directory): it goes aside,
	 * kept; a new repo never adopts old data. */
	if (fstatat(pfd, repo, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		log_warn("data directory %s/%s/%s has no repo: moving it aside before creating the "
		    "repo", d->cfg.data_root, project, repo);
		if ((rc = api_repo_dir_retire(d, project, repo, err, errlen)) < 0)
			goto out;
	}
	if (idg_random(rnd, sizeof(rnd)) < 0) {
		snprintf(err, errlen, "no randomness from the kernel");
		rc = IDG_ERR_IO;
		goto out;
	}
	idg_hex(rnd, sizeof(rnd), hex);
	snprintf(tmp, tmplen, PENDING_PREFIX "%s.%s", repo, hex);
	if (mkdirat(pfd, tmp, 0750) < 0 || fchmodat(pfd, tmp, 0750, 0) < 0) {
		snprintf(err, errlen, "cannot create a directory in %s/%s: %s", d->cfg.data_root,
		    project, strerror(errno));
		rc = IDG_ERR_IO;
	}
out:
	close(pfd);
	return rc;
}

int
api_repo_dir_commit(struct idg_daemon *d, const char *project, const char *repo, const char *tmp,
    char *err, size_t errlen)
{
	int pfd = project_dir(d, project, false, err, errlen), rc = 0;

	if (pfd < 0)
		return IDG_ERR_IO;
	if (renameat(pfd, tmp, pfd, repo) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s in %s/%s: %s (fixed at the next start)",
		    tmp, repo, d->cfg.data_root, project, strerror(errno));
		rc = IDG_ERR_IO;
	}
	close(pfd);
	return rc;
}

void
api_repo_dir_abandon(struct idg_daemon *d, const char *project, const char *tmp)
{
	char err[256];
	int pfd = project_dir(d, project, false, err, sizeof(err));

	if (pfd < 0)
		return;
	unlinkat(pfd, tmp, AT_REMOVEDIR);	/* empty: nothing could write to it */
	close(pfd);
}

/* One project directory at start-up: finish or drop pending directories, move orphans aside. */
static void
reconcile_project(struct idg_daemon *d, const char *project)
{
	struct idg_rbac *r = d->st->rbac;
	char err[512], full[IDG_PROJECT_NAME_MAX + 300];
	struct dirent *e;
	DIR *dir;
	int pfd = project_dir(d, project, false, err, sizeof(err));

	if (pfd < 0 || (dir = fdopendir(pfd)) == NULL) {
		if (pfd >= 0)
			close(pfd);
		log_warn("%s", err);
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		const char *name = e->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (strncmp(name, PENDING_PREFIX, strlen(PENDING_PREFIX)) == 0) {
			/* ".idgate-new.REPO.HEX": committed (the repo exists, its directory does not)
			 * is renamed into place; anything else was never committed and is empty. */
			char repo[IDG_REPO_NAME_MAX + 1];
			const char *start = name + strlen(PENDING_PREFIX), *dot = strrchr(start, '.');
			struct stat st;

			if (dot && (size_t)(dot - start) <= IDG_REPO_NAME_MAX) {
				memcpy(repo, start, (size_t)(dot - start));
				repo[dot - start] = '\0';
				snprintf(full, sizeof(full), "%s/%s", project, repo);
				if (idg_rbac_resource_find(r, IDG_RT_REPO, full) != IDG_RID_NONE &&
				    fstatat(dirfd(dir), repo, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
				    renameat(dirfd(dir), name, dirfd(dir), repo) == 0) {
					log_notice("finished the data directory of repo %s", full);
					continue;
				}
			}
			if (unlinkat(dirfd(dir), name, AT_REMOVEDIR) == 0)
				log_notice("removed an unfinished data directory %s/%s", project, name);
			continue;
		}
		if (name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%.*s", project, IDG_REPO_NAME_MAX + 8, name);
		if (idg_rbac_resource_find(r, IDG_RT_REPO, full) == IDG_RID_NONE) {
			log_warn("data directory %s/%s has no repo: moving it aside", d->cfg.data_root, full);
			if (api_repo_dir_retire(d, project, name, err, sizeof(err)) < 0)
				log_err("%s", err);
		}
	}
	closedir(dir);
}

/* How many missing repo directories start-up names one by one before it only counts. */
#define RECONCILE_NAMED 20

int
idg_repo_dirs_reconcile(struct idg_daemon *d)
{
	struct idg_rbac *r = d->st->rbac;
	char err[512];
	struct dirent *e;
	bool repos = false;
	size_t created = 0;
	DIR *dir;
	int root, fd;

	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r) && !repos; rid++)
		repos = idg_rbac_resource_live(r, rid) && idg_rbac_resource_type(r, rid) == IDG_RT_REPO;
	/* Nothing to check until the data root exists or a repo needs it. */
	if (!repos && access(d->cfg.data_root, F_OK) < 0)
		return 0;
	if ((root = data_root(d, err, sizeof(err))) < 0) {
		log_err("%s", err);
		return IDG_ERR_IO;
	}
	if ((fd = dup(root)) < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return IDG_ERR_IO;
	}
	while ((e = readdir(dir)) != NULL) {
		char why[256];

		if (e->d_name[0] == '.' || idg_name_project(e->d_name, why, sizeof(why)) < 0)
			continue;
		reconcile_project(d, e->d_name);
	}
	closedir(dir);
	/* Every repo has its directory: the first few named in the log, then a count. */
	for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++) {
		char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1], tmp[128];
		struct stat st;

		if (!idg_rbac_resource_live(r, rid) || idg_rbac_resource_type(r, rid) != IDG_RT_REPO ||
		    idg_repo_split(idg_rbac_resource_name(r, rid), project, repo, err, sizeof(err)) < 0)
			continue;
		snprintf(tmp, sizeof(tmp), "%s/%s", project, repo);
		if (fstatat(root, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (++created <= RECONCILE_NAMED)
			log_warn("repo %s had no data directory: creating an empty one", tmp);
		if (api_repo_dir_prepare(d, project, repo, tmp, sizeof(tmp), err, sizeof(err)) < 0 ||
		    api_repo_dir_commit(d, project, repo, tmp, err, sizeof(err)) < 0) {
			log_err("%s", err);
			return IDG_ERR_IO;
		}
	}
	if (created > RECONCILE_NAMED)
		log_warn("created empty data directories for %zu repos that had none (%zu not named "
		    "above)", created, created - RECONCILE_NAMED);
	return 0;
}

int
api_repo_dir_retire(struct idg_daemon *d, const char *project, const char *repo, char *err,
    size_t errlen)
{
	char stamp[32], dest[IDG_PROJECT_NAME_MAX + IDG_REPO_NAME_MAX + 64];
	int root, pfd, tfd, rc = 0;
	time_t now = time(NULL);
	struct tm tm;

	if ((root = data_root(d, err, errlen)) < 0)
		return IDG_ERR_IO;
	if ((pfd = project_dir(d, project, false, err, errlen)) < 0)
		return errno == ENOENT ? 0 : IDG_ERR_IO;
	if (mkdirat(root, TRASH_DIR, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s/%s: %s", d->cfg.data_root, TRASH_DIR, strerror(errno));
		close(pfd);
		return IDG_ERR_IO;
	}
	if ((tfd = open_beneath(root, TRASH_DIR, O_RDONLY | O_DIRECTORY, 0)) < 0) {
		snprintf(err, errlen, "cannot open %s/%s: %s", d->cfg.data_root, TRASH_DIR, strerror(errno));
		close(pfd);
		return IDG_ERR_IO;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	{
		unsigned char rnd[3];
		char hex[7] = "000000";

		/* Two retirements in one second must not collide. */
		if (idg_random(rnd, sizeof(rnd)) == 0)
			idg_hex(rnd, sizeof(rnd), hex);
		snprintf(dest, sizeof(dest), "%s.%s.%s.%s", project, repo, stamp, hex);
	}
	/* Kept, not destroyed: an administrator removes it when sure. */
	if (renameat(pfd, repo, tfd, dest) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot move %s/%s/%s aside: %s", d->cfg.data_root, project, repo,
		    strerror(errno));
		rc = IDG_ERR_IO;
	}
	close(tfd);
	close(pfd);
	return rc;
}

/* A path inside a repo: relative, no empty, "." or ".." components, no control characters,
 * nothing under the reserved prefix. Leading '/' is dropped. */
static bool
check_path(struct idg_reply *rp, const char *path, bool allow_empty, const char **out)
{
	size_t depth = 0;
	char q[256];

	while (*path == '/')
		path++;
	idg_quote(path, q, sizeof(q));
	if (*path == '\0') {
		*out = path;
		return allow_empty ? true : api_fail(rp, IDG_ST_INPUT, "name a file inside the repo: "
		    "REPO:PATH");
	}
	if (strlen(path) > PATH_MAX_LEN)
		return api_fail(rp, IDG_ST_INPUT, "path is longer than %d bytes", PATH_MAX_LEN);
	if (!idg_str_printable(path))
		return api_fail(rp, IDG_ST_INPUT, "path \"%s\" contains control characters or invalid "
		    "UTF-8", q);
	for (const char *p = path; *p; ) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return api_fail(rp, IDG_ST_INPUT, "path \"%s\" has an empty, '.' or '..' component",
			    q);
		if (len > 255)
			return api_fail(rp, IDG_ST_INPUT, "a component of path \"%s\" is longer than 255 "
			    "bytes", q);
		if (strncmp(p, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0)
			return api_fail(rp, IDG_ST_INPUT, "names starting with %s are reserved",
			    RESERVED_PREFIX);
		if (++depth > PATH_DEPTH_MAX)
			return api_fail(rp, IDG_ST_INPUT, "path is nested deeper than %d", PATH_DEPTH_MAX);
		p += len + (slash ? 1 : 0);
		if (slash && *p == '\0')
			return api_fail(rp, IDG_ST_INPUT, "path \"%s\" ends with '/'", q);
	}
	*out = path;
	return true;
}

/* The repo and path of a file request, authorized for perm; returns the repo dir fd. */
static int
file_target(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp, int perm,
    bool allow_empty, const char **path, char *full)
{
	char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1], why[512], err[512];
	const char *name, *raw;
	idg_rid rid;
	int root, fd;

	if (!api_str(rq, rp, IDG_T_RNAME, "repo", IDG_WIRE_REQUEST_MAX, &name) ||
	    !api_opt_str(rq, rp, IDG_T_PATH, "path", PATH_MAX_LEN * 4, &raw) ||
	    !check_path(rp, raw ? raw : "", allow_empty, path) || !api_repo(d, rp, name, &rid, full) ||
	    !api_require1(d, rq, rp, rid, perm))
		return -1;
	idg_repo_split(full, project, repo, why, sizeof(why));
	if ((root = data_root(d, err, sizeof(err))) < 0) {
		log_err("%s", err);
		api_fail(rp, IDG_ST_ERROR, "the repo data directory is not available");
		return -1;
	}
	snprintf(why, sizeof(why), "%s/%s", project, repo);
	if ((fd = open_beneath(root, why, O_RDONLY | O_DIRECTORY, 0)) < 0) {
		log_err("repo %s: cannot open its directory: %s", full, strerror(errno));
		api_fail(rp, IDG_ST_ERROR, "the data directory of repo %s is missing", full);
		return -1;
	}
	return fd;
}

/* Open (creating with mkdir when asked) the directory that holds path's last component;
 * *base points at that component. A directory made here gets repo full's ACL at once. */
static int
parent_dir(struct idg_daemon *d, const char *full, int repofd, const char *path, bool create,
    const char **base)
{
	char dir[PATH_MAX_LEN + 1];
	const char *slash = strrchr(path, '/');
	int fd;

	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		return dup(repofd);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (!create)
		return open_beneath(repofd, dir, O_RDONLY | O_DIRECTORY, 0);
	fd = dup(repofd);
	for (char *p = dir; fd >= 0 && *p; ) {
		char *s = strchr(p, '/');
		bool made = false;
		int next;

		if (s)
			*s = '\0';
		if (mkdirat(fd, p, 0750) == 0) {
			if (fchmodat(fd, p, 0750, 0) < 0) {
				close(fd);
				return -1;
			}
			made = true;
		} else if (errno != EEXIST) {
			close(fd);
			return -1;
		}
		next = open_beneath(fd, p, O_RDONLY | O_DIRECTORY, 0);
		if (made && next >= 0)
			idg_enforce_fd(d, full, next, true);
		close(fd);
		fd = next;
		p = s ? s + 1 : p + strlen(p);
	}
	return fd;
}

/* Filesystems a root daemon may read a client's file from without the client being able to
 * stall it (FUSE, NFS and other network filesystems can block a read for ever). */
static bool
local_fs(int fd)
{
	static const unsigned long ok[] = {
		0xEF53,		/* ext2/3/4 */
		0x58465342,	/* xfs */
		0x9123683E,	/* btrfs */
		0x01021994,	/* tmpfs, memfd */
		0x794C7630,	/* overlayfs */
		0xF2F52010,	/* f2fs */
		0x2FC12FC1,	/* zfs */
		0x858458F6,	/* ramfs */
		0x958458F6,	/* hugetlbfs */
		0xCA451A4E,	/* bcachefs */
	};
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(ok); i++)
		if ((unsigned long)sf.f_type == ok[i])
			return true;
	return false;
}

/* Copy len bytes of src (from offset 0) into dst. */
static int
copy_all(int src, int dst, uint64_t max, uint64_t *copied)
{
	off_t off = 0;
	char buf[65536];

	for (;;) {
		ssize_t n = copy_file_range(src, &off, dst, NULL, 1 << 20, 0);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
				return IDG_ERR_IO;
			/* No in-kernel copy between these filesystems: read and write. */
			while ((n = pread(src, buf, sizeof(buf), off)) > 0) {
				if (write(dst, buf, (size_t)n) != n)
					return IDG_ERR_IO;
				off += n;
				if ((uint64_t)off > max)
					return IDG_ERR_TOOBIG;
			}
			if (n < 0)
				return IDG_ERR_IO;
			break;
		}
		if ((uint64_t)off > max)
			return IDG_ERR_TOOBIG;	/* it grew while we copied */
	}
	*copied = (uint64_t)off;
	return 0;
}

void
api_file_put(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char full[API_NAME_BUF], target[API_NAME_BUF + 16], detail[PATH_MAX_LEN + 64], tmpname[64];
	const char *path, *base;
	struct stat st;
	uint64_t copied = 0;
	int repofd, dirfd = -1, tmpfd = -1, fl, rc;
	unsigned char rnd[8];
	char hex[17];

	if ((repofd = file_target(d, rq, rp, IDG_P_REPO_WRITE, false, &path, full)) < 0)
		return;
	snprintf(target, sizeof(target), "REPO %s", full);
	if (rq->fd < 0) {
		api_fail(rp, IDG_ST_INPUT, "no file was passed with the request");
		goto out;
	}
	fl = fcntl(rq->fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY || fstat(rq->fd, &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		api_fail(rp, IDG_ST_INPUT, "the passed file is not a readable regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > d->cfg.max_put_size) {
		api_fail(rp, IDG_ST_INPUT, "the file is %lld bytes: this node accepts at most %llu "
		    "(max_put_size)", (long long)st.st_size, (unsigned long long)d->cfg.max_put_size);
		goto out;
	}
	if (!local_fs(rq->fd)) {
		api_fail(rp, IDG_ST_INPUT, "the file is on a network or FUSE filesystem: copy it to "
		    "local disk first, or pipe it to idgatectl's standard input");
		goto out;
	}
	if ((dirfd = parent_dir(d, full, repofd, path, true, &base)) < 0) {
		api_fail(rp, IDG_ST_INPUT, "cannot make the directories of %s: %s", path,
		    errno == ENOTDIR ? "a file stands in the way" : strerror(errno));
		goto out;
	}
	/* Write to an unnamed file and link it into place: readers see old or new, never half. */
	if ((tmpfd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640)) < 0) {
		log_err("repo %s: O_TMPFILE: %s", full, strerror(errno));
		api_fail(rp, IDG_ST_ERROR, "cannot write into repo %s", full);
		goto out;
	}
	/* idgated's umask (077) would leave the file 0600: say 0640 explicitly. */
	if (fchmod(tmpfd, 0640) < 0) {
		log_err("repo %s: fchmod: %s", full, strerror(errno));
		api_fail(rp, IDG_ST_ERROR, "cannot write into repo %s", full);
		goto out;
	}
	/* The repo's ACL before the file has a name (the fchmod above narrowed the mask). */
	idg_enforce_fd(d, full, tmpfd, false);
	if ((rc = copy_all(rq->fd, tmpfd, d->cfg.max_put_size, &copied)) < 0 || fsync(tmpfd) < 0) {
		api_fail(rp, rc == IDG_ERR_TOOBIG ? IDG_ST_INPUT : IDG_ST_ERROR,
		    rc == IDG_ERR_TOOBIG ? "the file grew past max_put_size while it was copied" :
		    "copying the file failed: %s", strerror(errno));
		goto out;
	}
	if (idg_random(rnd, sizeof(rnd)) < 0) {
		api_fail(rp, IDG_ST_ERROR, "no randomness from the kernel");
		goto out;
	}
	idg_hex(rnd, sizeof(rnd), hex);
	snprintf(tmpname, sizeof(tmpname), RESERVED_PREFIX "-put-%s", hex);
	if (linkat(tmpfd, "", dirfd, tmpname, AT_EMPTY_PATH) < 0) {
		log_err("repo %s: linkat: %s", full, strerror(errno));
		api_fail(rp, IDG_ST_ERROR, "cannot write into repo %s", full);
		goto out;
	}
	if (renameat(dirfd, tmpname, dirfd, base) < 0) {
		int e = errno;

		unlinkat(dirfd, tmpname, 0);
		api_fail(rp, e == EISDIR ? IDG_ST_INPUT : IDG_ST_ERROR, "cannot put %s: %s", path,
		    e == EISDIR ? "a directory of that name exists" : strerror(e));
		goto out;
	}
	fsync(dirfd);
	snprintf(detail, sizeof(detail), "%s (%llu bytes)", path, (unsigned long long)copied);
	api_audit(d, rq, target, "ok", "", detail);
	cJSON_AddStringToObject(api_obj(rp), "repo", full);
	cJSON_AddStringToObject(api_obj(rp), "path", path);
	cJSON_AddNumberToObject(api_obj(rp), "size", (double)copied);
out:
	if (tmpfd >= 0)
		close(tmpfd);
	if (dirfd >= 0)
		close(dirfd);
	close(repofd);
}

void
api_file_get(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char full[API_NAME_BUF];
	const char *path;
	struct stat st;
	int repofd, fd;

	if ((repofd = file_target(d, rq, rp, IDG_P_REPO_READ, false, &path, full)) < 0)
		return;
	fd = open_beneath(repofd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		api_fail(rp, IDG_ST_INPUT, "%s: no such file in repo %s", path, full);
		if (fd >= 0)
			close(fd);
	} else {
		rp->fd = fd;
		cJSON_AddNumberToObject(api_obj(rp), "size", (double)st.st_size);
	}
	close(repofd);
}

void
api_file_list(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char full[API_NAME_BUF];
	const char *path;
	struct dirent *e;
	size_t n = 0;
	DIR *dir;
	int repofd, fd;
	cJSON *arr;

	if ((repofd = file_target(d, rq, rp, IDG_P_REPO_LIST_FILE, true, &path, full)) < 0)
		return;
	fd = *path ? open_beneath(repofd, path, O_RDONLY | O_DIRECTORY, 0) : dup(repofd);
	close(repofd);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		api_fail(rp, IDG_ST_INPUT, "%s: no such directory in repo %s", *path ? path : "/", full);
		return;
	}
	cJSON_AddStringToObject(api_obj(rp), "repo", full);
	cJSON_AddStringToObject(api_obj(rp), "path", path);
	arr = cJSON_AddArrayToObject(api_obj(rp), "entries");
	while ((e = readdir(dir)) != NULL) {
		struct stat st;
		cJSON *o;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strncmp(e->d_name, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0)
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (n++ == LIST_MAX) {
			cJSON_AddBoolToObject(api_obj(rp), "truncated", true);
			break;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", idg_str_printable(e->d_name) ? e->d_name : "(unprintable)");
		cJSON_AddStringToObject(o, "type", S_ISDIR(st.st_mode) ? "dir" :
		    S_ISREG(st.st_mode) ? "file" : "other");
		cJSON_AddNumberToObject(o, "size", (double)st.st_size);
		cJSON_AddNumberToObject(o, "modified", (double)st.st_mtime);
		cJSON_AddItemToArray(arr, o);
	}
	closedir(dir);
}

void
api_file_delete(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp)
{
	char full[API_NAME_BUF], target[API_NAME_BUF + 16];
	const char *path, *base;
	int repofd, dirfd;

	if ((repofd = file_target(d, rq, rp, IDG_P_REPO_WRITE, false, &path, full)) < 0)
		return;
	dirfd = parent_dir(d, full, repofd, path, false, &base);
	close(repofd);
	if (dirfd < 0) {
		api_fail(rp, IDG_ST_INPUT, "%s: no such file in repo %s", path, full);
		return;
	}
	if (unlinkat(dirfd, base, 0) < 0 && (errno != EISDIR || unlinkat(dirfd, base, AT_REMOVEDIR) < 0)) {
		api_fail(rp, IDG_ST_INPUT, "cannot delete %s from repo %s: %s", path, full,
		    errno == ENOENT ? "no such file" : errno == ENOTEMPTY ? "directory not empty" :
		    strerror(errno));
	} else {
		snprintf(target, sizeof(target), "REPO %s", full);
		api_audit(d, rq, target, "ok", "", path);
		cJSON_AddStringToObject(api_obj(rp), "deleted", path);
	}
	close(dirfd);
}
