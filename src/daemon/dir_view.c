/* The POSIX view and the NSS snapshot. The view is rebuilt from the state after a change
 * that touches users, groups or memberships; a snapshot is written only when the view
 * differs from the last one published, and a failed publish keeps the old file (the state
 * is not touched) and is retried.
 *
 * What the view holds, by rank (a name or gid already taken by a higher rank leaves a lower
 * entry out, logged):
 *   users            every user with a uid in range whose name and uid are not local;
 *                    gid: uid (private groups) or [idmap] primary_group's gid
 *   private groups   one per user, named like it, gid = uid, no listed members
 *   POSIX-only       [idmap] users_group (every user a member) and a named primary group
 *   idgate groups    every group with a gid whose name and gid are not local;
 *                    members: the users among its members */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/dir_int.h"
#include "proto/snapshot.h"

#define HIDDEN_LOG_MAX (16u * 1024u)

struct view {
	struct idg_snap_in_user *users;
	size_t nusers;
	struct idg_snap_in_group *groups;
	size_t ngroups, capgroups;
	uint32_t **gids;		/* per user: supplementary gids */
	size_t *ngids, *capgids;
	char **homes;
	uint32_t **members;		/* per group; NULL: none or all users (users_group) */
	struct idg_strmap names;	/* group names taken */
	struct idg_idtab gidset;	/* gids taken */
	struct idg_idtab byprincipal;	/* principal id + 1 -> user index */
	struct idg_buf hidden;		/* what was left out, one line each */
	uint64_t hidden_hash;
	uint32_t *all;			/* 0..nusers-1: users_group's members */
};

static void
hide(struct view *v, const char *what, const char *name, const char *why)
{
	char line[768];
	int n = snprintf(line, sizeof(line), "%s %s: %s\n", what, name, why);

	if (n > 0) {
		for (const char *p = line; *p; p++)
			v->hidden_hash = (v->hidden_hash ^ (uint8_t)*p) * 0x100000001b3ULL;
		(void)idg_buf_append(&v->hidden, line, strlen(line));
	}
}

static void
view_free(struct view *v)
{
	for (size_t i = 0; i < v->nusers; i++) {
		free(v->gids ? v->gids[i] : NULL);
		free(v->homes ? v->homes[i] : NULL);
	}
	for (size_t i = 0; i < v->ngroups; i++)
		if (v->members[i] != v->all)
			free(v->members[i]);
	free(v->users);
	free(v->groups);
	free(v->gids);
	free(v->ngids);
	free(v->capgids);
	free(v->homes);
	free(v->members);
	free(v->all);
	idg_strmap_free(&v->names);
	idg_idtab_free(&v->gidset);
	idg_idtab_free(&v->byprincipal);
	idg_buf_free(&v->hidden);
}

static int
cmp_user_name(const void *a, const void *b)
{
	return strcmp((*(const struct idg_user *const *)a)->name,
	    (*(const struct idg_user *const *)b)->name);
}

/* The visible users, sorted by name. */
static int
pick_users(const struct idg_daemon *d, struct view *v, const struct idg_user ***out)
{
	const struct idg_user **list = calloc(d->st->nusers + 1, sizeof(*list));
	char why[512];

	if (list == NULL)
		return IDG_ERR_NOMEM;
	for (size_t i = 0; i < d->st->nusers; i++) {
		const struct idg_user *u = &d->st->users[i];

		if (!u->live)
			continue;
		if (idg_dir_user_visible(d, u, why, sizeof(why)))
			list[v->nusers++] = u;
		else
			hide(v, "user", u->name, why);
	}
	qsort(list, v->nusers, sizeof(*list), cmp_user_name);
	*out = list;
	return 0;
}

static int
alloc_users(struct view *v)
{
	size_t n = v->nusers + 1;

	v->users = calloc(n, sizeof(*v->users));
	v->gids = calloc(n, sizeof(*v->gids));
	v->ngids = calloc(n, sizeof(*v->ngids));
	v->capgids = calloc(n, sizeof(*v->capgids));
	v->homes = calloc(n, sizeof(*v->homes));
	v->all = calloc(n, sizeof(*v->all));
	if (!v->users || !v->gids || !v->ngids || !v->capgids || !v->homes || !v->all)
		return IDG_ERR_NOMEM;
	return 0;
}

static int
add_users(const struct idg_daemon *d, struct view *v)
{
	const struct idg_user **list;
	char home[4200];
	int rc;

	if ((rc = pick_users(d, v, &list)) < 0)
		return rc;
	if ((rc = alloc_users(v)) < 0)
		goto out;
	for (size_t i = 0; i < v->nusers; i++) {
		const struct idg_user *u = list[i];
		idg_pid pid = idg_rbac_principal_find(d->st->rbac, u->principal);

		idg_dir_home(d, u->name, home, sizeof(home));
		if ((v->homes[i] = strdup(home)) == NULL) {
			rc = IDG_ERR_NOMEM;
			goto out;
		}
		v->users[i] = (struct idg_snap_in_user){ .name = u->name, .gecos = u->gecos,
		    .dir = v->homes[i], .shell = d->cfg.idmap_shell, .uid = u->uid,
		    .gid = idg_dir_primary_gid(d, u) };
		v->all[i] = (uint32_t)i;
		if (pid != IDG_PID_NONE &&
		    (rc = idg_idtab_put(&v->byprincipal, pid + 1, (uint32_t)i)) < 0)
			goto out;
	}
out:
	free(list);
	return rc;
}

/* Claim a group's name and gid in the view; false (and logged) when either is taken or
 * now local. */
static bool
claim(const struct idg_daemon *d, struct view *v, const char *name, uint32_t gid)
{
	char why[512];
	uint32_t x;
	const char *owner;

	if (idg_strmap_get(&v->names, name, &x) == 0)
		snprintf(why, sizeof(why), "the name is taken by a user's private group or by "
		    "idgate's own POSIX group");
	else if (idg_localdb_group(&d->dir->local, name))
		snprintf(why, sizeof(why), "a local group has this name");
	else if ((owner = idg_localdb_id(&d->dir->local, gid)) != NULL)
		snprintf(why, sizeof(why), "gid %u belongs to the local account or group '%s'", gid,
		    owner);
	else if (gid < (uint64_t)d->cfg.idmap_id_min || gid > (uint64_t)d->cfg.idmap_id_max)
		snprintf(why, sizeof(why), "gid %u is outside [idmap] id_min..id_max", gid);
	else if (idg_idtab_has(&v->gidset, gid))
		snprintf(why, sizeof(why), "gid %u is taken", gid);
	else
		return true;
	hide(v, "group", name, why);
	return false;
}

static int
add_group(struct view *v, const char *name, uint32_t gid, uint32_t *members, size_t n)
{
	int rc;

	if (v->ngroups == v->capgroups) {
		size_t ncap = v->capgroups ? v->capgroups * 2 : 64;
		struct idg_snap_in_group *g = realloc(v->groups, ncap * sizeof(*g));
		uint32_t **m;

		if (g == NULL)
			return IDG_ERR_NOMEM;
		v->groups = g;
		if ((m = realloc(v->members, ncap * sizeof(*m))) == NULL)
			return IDG_ERR_NOMEM;
		v->members = m;
		v->capgroups = ncap;
	}
	v->members[v->ngroups] = members;
	v->groups[v->ngroups++] = (struct idg_snap_in_group){ .name = name, .gid = gid,
	    .members = members, .nmembers = n };
	if ((rc = idg_strmap_put(&v->names, name, (uint32_t)(v->ngroups - 1))) < 0)
		return rc;
	return idg_idtab_put(&v->gidset, gid, 1);
}

static int
add_gid(struct view *v, size_t user, uint32_t gid)
{
	if (gid == v->users[user].gid)
		return 0;	/* the primary group is not repeated */
	if (v->ngids[user] == v->capgids[user]) {
		size_t ncap = v->capgids[user] ? v->capgids[user] * 2 : 8;
		uint32_t *p = realloc(v->gids[user], ncap * sizeof(*p));

		if (p == NULL)
			return IDG_ERR_NOMEM;
		v->gids[user] = p;
		v->capgids[user] = ncap;
	}
	v->gids[user][v->ngids[user]++] = gid;
	return 0;
}

/* Private groups, then idgate's POSIX-only groups. */
static int
add_own_groups(const struct idg_daemon *d, struct view *v)
{
	const char *ug = d->cfg.idmap_users_group, *pg = d->cfg.idmap_primary_group;
	int rc;

	for (size_t i = 0; i < v->nusers && d->dir->primary_gid == 0; i++)
		if (claim(d, v, v->users[i].name, v->users[i].uid) &&
		    (rc = add_group(v, v->users[i].name, v->users[i].uid, NULL, 0)) < 0)
			return rc;
	if (d->dir->users_gid && claim(d, v, ug, d->dir->users_gid)) {
		if ((rc = add_group(v, ug, d->dir->users_gid, v->all, v->nusers)) < 0)
			return rc;
		for (size_t i = 0; i < v->nusers; i++)
			if ((rc = add_gid(v, i, d->dir->users_gid)) < 0)
				return rc;
	}
	/* A named primary group that is not one of idgate's groups (those come below). */
	if (d->dir->primary_gid && d->dir->primary_gid != d->dir->users_gid &&
	    idg_state_hold(d->st, IDG_HOLD_POSIX, pg) && claim(d, v, pg, d->dir->primary_gid))
		return add_group(v, pg, d->dir->primary_gid, NULL, 0);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The users among group g's members, sorted; each gets g's gid. */
static int
group_members(const struct idg_daemon *d, struct view *v, const struct idg_group *g,
    uint32_t **out, size_t *n_out)
{
	char subject[IDG_SUBJECT_MAX + 1];
	const idg_pid *m = NULL;
	uint32_t *list, idx;
	size_t n = 0, k = 0;
	idg_pid gp;
	int rc;

	snprintf(subject, sizeof(subject), "group:%s", g->name);
	if ((gp = idg_rbac_principal_find(d->st->rbac, subject)) != IDG_PID_NONE)
		idg_rbac_members_of(d->st->rbac, gp, &m, &n);
	if ((list = calloc(n + 1, sizeof(*list))) == NULL)
		return IDG_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (idg_idtab_get(&v->byprincipal, m[i] + 1, &idx) < 0)
			continue;	/* a robot, or a user outside the view */
		list[k++] = idx;
		if ((rc = add_gid(v, idx, g->gid)) < 0) {
			free(list);
			return rc;
		}
	}
	qsort(list, k, sizeof(*list), cmp_u32);
	*out = list;
	*n_out = k;
	return 0;
}

static int
add_idgate_groups(const struct idg_daemon *d, struct view *v)
{
	uint32_t *members;
	size_t n;
	int rc;

	for (size_t i = 0; i < d->st->ngroups; i++) {
		const struct idg_group *g = &d->st->groups[i];

		if (!g->live || g->gid == 0 || !claim(d, v, g->name, g->gid))
			continue;
		if ((rc = group_members(d, v, g, &members, &n)) < 0)
			return rc;
		if ((rc = add_group(v, g->name, g->gid, members, n)) < 0) {
			if (v->ngroups == 0 || v->members[v->ngroups - 1] != members)
				free(members);
			return rc;
		}
	}
	return 0;
}

static int
cmp_group_name(const void *a, const void *b)
{
	return strcmp(((const struct idg_snap_in_group *)a)->name,
	    ((const struct idg_snap_in_group *)b)->name);
}

static int
build_view(const struct idg_daemon *d, struct view *v)
{
	uint8_t k[16];
	uint64_t ik;
	int rc;

	memset(v, 0, sizeof(*v));
	memcpy(k, d->dir->key, 16);
	k[1] ^= 0x33;
	memcpy(&ik, k, sizeof(ik));
	idg_idtab_init(&v->gidset, ik);
	idg_idtab_init(&v->byprincipal, ik ^ 0x55);
	idg_buf_init(&v->hidden, HIDDEN_LOG_MAX);
	if ((rc = idg_strmap_init(&v->names, k)) < 0 || (rc = add_users(d, v)) < 0 ||
	    (rc = add_own_groups(d, v)) < 0 || (rc = add_idgate_groups(d, v)) < 0)
		return rc;
	/* Records sorted by name: the same view is the same file. members[] follows groups[]
	 * only for freeing, and each group keeps its own members pointer. */
	for (size_t i = 0; i < v->ngroups; i++)
		v->groups[i].members = v->members[i];
	qsort(v->groups, v->ngroups, sizeof(*v->groups), cmp_group_name);
	for (size_t i = 0; i < v->nusers; i++) {
		qsort(v->gids[i], v->ngids[i], sizeof(uint32_t), cmp_u32);
		v->users[i].gids = v->gids[i];
		v->users[i].ngids = v->ngids[i];
	}
	return 0;
}

/* ---------- the snapshot ---------- */

/* The generation of the snapshot in place, so numbers keep growing across restarts. */
static uint64_t
generation_on_disk(const char *path)
{
	struct idg_snap_hdr h;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h.magic, IDG_SNAP_MAGIC, 8) != 0 ||
	    h.endian != IDG_SNAP_ENDIAN)
		return 0;
	return h.generation;
}

/* Same view as the last one published: everything but the generation and checksum. */
static bool
same_as_last(const struct idg_dir *dir, const uint8_t *buf, size_t len)
{
	struct idg_snap_hdr a, b;

	if (dir->last == NULL || len != dir->last_len || len < sizeof(a))
		return false;
	memcpy(&a, buf, sizeof(a));
	memcpy(&b, dir->last, sizeof(b));
	a.generation = b.generation = 0;
	a.checksum = b.checksum = 0;
	a.replaced = b.replaced = 0;
	return memcmp(&a, &b, sizeof(a)) == 0 &&
	    memcmp(buf + sizeof(a), dir->last + sizeof(a), len - sizeof(a)) == 0;
}

static void
snap_input(const struct idg_daemon *d, const struct view *v, char *sock, size_t socklen,
    struct idg_snap_in *in)
{
	bool ask = d->cfg.nss_provisional &&
	    (size_t)snprintf(sock, socklen, "%s/pam.sock", d->cfg.run_dir) < socklen;

	if (!ask && d->cfg.nss_provisional)
		log_warn("directory: %s/pam.sock is too long a path for the snapshot: sshd will "
		    "not ask for provisional entries", d->cfg.run_dir);
	memset(in, 0, sizeof(*in));
	in->generation = d->dir->generation + 1;
	in->flags = (d->cfg.nss_enumerate ? IDG_SNAP_F_ENUMERATE : 0) |
	    (ask ? IDG_SNAP_F_PROVISIONAL : 0);
	in->ask_timeout_ms = (uint32_t)d->cfg.nss_ask_timeout_ms;
	in->id_min = (uint32_t)d->cfg.idmap_id_min;
	in->id_max = (uint32_t)d->cfg.idmap_id_max;
	in->ask_socket = ask ? sock : "";
	in->users = v->users;
	in->nusers = v->nusers;
	in->groups = v->groups;
	in->ngroups = v->ngroups;
}

static void
log_hidden(struct idg_dir *dir, struct view *v)
{
	char *line, *nl;

	if (v->hidden_hash == dir->hidden_hash)
		return;
	dir->hidden_hash = v->hidden_hash;
	for (line = v->hidden.data; line && *line && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		log_notice("left out of the POSIX view: %s", line);
	}
}

/* Write buf; remember it as the last one on success. */
static int
put(struct idg_daemon *d, uint8_t *buf, size_t len, const struct view *v)
{
	struct idg_dir *dir = d->dir;
	char err[1024], *slash, parent[4096];
	int rc;

	snprintf(parent, sizeof(parent), "%s", d->cfg.nss_snapshot);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (idg_make_dirs(parent, 0755) < 0)
			log_warn("directory: cannot create %s: %s", parent, strerror(errno));
	}
	if ((rc = idg_snap_publish(d->cfg.nss_snapshot, buf, len, err, sizeof(err))) < 0) {
		log_err("directory: the NSS snapshot was not published (%s); the previous one stays "
		    "and it is tried again", err);
		free(buf);
		return rc;
	}
	free(dir->last);
	dir->last = buf;
	dir->last_len = len;
	dir->generation++;
	dir->published_set = stat(d->cfg.nss_snapshot, &dir->published) == 0;
	log_info("directory: NSS snapshot %llu published: %zu users, %zu groups",
	    (unsigned long long)dir->generation, v->nusers, v->ngroups);
	return 0;
}

int
idg_dir_publish(struct idg_daemon *d, bool force)
{
	struct idg_dir *dir = d->dir;
	struct idg_snap_in in;
	struct view v;
	char sock[IDG_SNAP_SOCK_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (dir->generation == 0 && (dir->generation = generation_on_disk(d->cfg.nss_snapshot)))
		log_debug("directory: the snapshot in place is number %llu",
		    (unsigned long long)dir->generation);
	dir->local_built = dir->local.generation;
	if ((rc = build_view(d, &v)) == 0) {
		snap_input(d, &v, sock, sizeof(sock), &in);
		rc = idg_snap_build(&in, &buf, &len);
	}
	if (rc < 0) {
		log_err("directory: building the POSIX view failed: %s", idg_strerror(rc));
		goto fail;
	}
	log_hidden(dir, &v);
	if (!force && same_as_last(dir, buf, len)) {
		free(buf);
		dir->dirty = dir->failed = false;
		view_free(&v);
		return 0;
	}
	if ((rc = put(d, buf, len, &v)) < 0)
		goto fail;
	dir->dirty = dir->failed = false;
	view_free(&v);
	return 0;
fail:
	view_free(&v);
	dir->failed = true;
	dir->retry_at = idg_now_ms() + 10000;
	return rc;
}

/* Is the published file still the one we wrote? Someone may have removed, truncated,
 * overwritten or replaced it (root's tools, a restore, a full disk's repair): every process
 * would then see no IdP user, and sshd would refuse them all. A stat a second; any change of
 * inode, size or modification time is published over. */
void
idg_dir_check_published(struct idg_daemon *d)
{
	struct idg_dir *dir = d->dir;
	struct stat st;
	const char *what = NULL;

	if (!dir->published_set || dir->dirty || dir->failed)
		return;
	if (stat(d->cfg.nss_snapshot, &st) < 0)
		what = "is gone";
	else if (st.st_dev != dir->published.st_dev || st.st_ino != dir->published.st_ino)
		what = "was replaced by another file";
	else if (st.st_size != dir->published.st_size)
		what = "changed size";
	else if (st.st_mtim.tv_sec != dir->published.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != dir->published.st_mtim.tv_nsec ||
	    st.st_mode != dir->published.st_mode || st.st_uid != dir->published.st_uid)
		what = "was written to or its mode changed";
	if (what == NULL)
		return;
	log_warn("directory: the NSS snapshot %s %s since idgated published it; publishing it "
	    "again", d->cfg.nss_snapshot, what);
	dir->published_set = false;
	(void)idg_dir_publish(d, true);	/* a failure is retried by the tick */
}
