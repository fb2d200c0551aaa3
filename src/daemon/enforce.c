/* The enforcer in idgated: when to apply repo ACLs (src/enforce/ does the how). Changes are
 * gathered for IDG_ENFORCE_DELAY_MS, then every repo's entries are recomputed from the role
 * engine (cheap: a few bindings per repo) and only the trees whose entries changed are
 * walked. Repairs walk every tree and log each object they had to change. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "daemon/api.h"
#include "daemon/directory.h"
#include "daemon/enforce.h"
#include "enforce/acl_apply.h"
#include "enforce/acl_calc.h"

/* Repaired objects named one by one in the log per pass; past this they are counted. */
#define REPAIR_NAMED 1000

struct seen {
	struct idg_acl_ent *e;	/* what was last applied to the whole tree */
	size_t n;
	bool valid;
};

struct pmap {
	uint8_t tag;		/* 0: no POSIX id */
	uint32_t id;
};

struct idg_enforcer {
	int tfd;
	struct idg_watch *watch;
	bool stale;		/* a change may have changed some repo's entries */
	bool armed;
	int64_t next_repair;	/* monotonic ms; 0: due now */
	struct seen *seen;	/* by resource id */
	size_t nseen;
	struct pmap *pmap;	/* by principal id, rebuilt per pass */
	size_t npmap;
	/* the pass in progress */
	const char *repo;
	uint64_t named, unnamed;
};

/* [data] owner and group from /etc/passwd and /etc/group themselves: idgated never resolves
 * names through NSS (its own module is there). */
static int
local_ids(const struct idg_daemon *d, uid_t *uid, gid_t *gid)
{
	FILE *f;
	bool u = false, g = false;

	if ((f = fopen("/etc/passwd", "re")) != NULL) {
		struct passwd *pw;

		while (!u && (pw = fgetpwent(f)) != NULL)
			if (strcmp(pw->pw_name, d->cfg.data_owner) == 0) {
				*uid = pw->pw_uid;
				u = true;
			}
		fclose(f);
	}
	if ((f = fopen("/etc/group", "re")) != NULL) {
		struct group *gr;

		while (!g && (gr = fgetgrent(f)) != NULL)
			if (strcmp(gr->gr_name, d->cfg.data_group) == 0) {
				*gid = gr->gr_gid;
				g = true;
			}
		fclose(f);
	}
	if (!u || !g) {
		log_err("enforce: [data] %s '%s' is not in /etc/%s: repo ACLs are not applied",
		    u ? "group" : "owner", u ? d->cfg.data_group : d->cfg.data_owner,
		    u ? "group" : "passwd");
		return IDG_ERR_CONFIG;
	}
	return 0;
}

/* principal -> POSIX id, for every principal that has one now. */
static int
build_pmap(struct idg_daemon *d)
{
	struct idg_enforcer *e = d->enf;
	const struct idg_rbac *r = d->st->rbac;
	size_t n = idg_rbac_principal_limit(r);
	char subject[IDG_SUBJECT_MAX + 8], why[256];

	if (n > e->npmap) {
		struct pmap *p = realloc(e->pmap, n * sizeof(*p));

		if (p == NULL)
			return IDG_ERR_NOMEM;
		e->pmap = p;
		e->npmap = n;
	}
	memset(e->pmap, 0, e->npmap * sizeof(*e->pmap));
	for (size_t i = 0; i < d->st->nusers; i++) {
		const struct idg_user *u = &d->st->users[i];
		idg_pid pid;

		if (!u->live || u->uid == 0 || !idg_dir_user_visible(d, u, why, sizeof(why)) ||
		    (pid = idg_rbac_principal_find(r, u->principal)) == IDG_PID_NONE || pid >= n)
			continue;
		e->pmap[pid] = (struct pmap){ IDG_ACLT_USER, u->uid };
	}
	for (size_t i = 0; i < d->st->ngroups; i++) {
		const struct idg_group *g = &d->st->groups[i];
		idg_pid pid;

		if (!g->live || g->gid == 0)
			continue;
		snprintf(subject, sizeof(subject), "group:%s", g->name);
		if ((pid = idg_rbac_principal_find(r, subject)) == IDG_PID_NONE || pid >= n)
			continue;
		e->pmap[pid] = (struct pmap){ IDG_ACLT_GROUP, g->gid };
	}
	if (idg_dir_users_gid(d) && IDG_PID_ALL < n)
		e->pmap[IDG_PID_ALL] = (struct pmap){ IDG_ACLT_GROUP, idg_dir_users_gid(d) };
	return 0;
}

static int
resolve(void *ctx, idg_pid pid, uint8_t *tag, uint32_t *id)
{
	const struct idg_enforcer *e = ctx;

	if (pid >= e->npmap || e->pmap[pid].tag == 0)
		return 1;	/* robots, pipelines, names without an id yet */
	*tag = e->pmap[pid].tag;
	*id = e->pmap[pid].id;
	return 0;
}

static bool
seen_grow(struct idg_enforcer *e, size_t n)
{
	struct seen *s;

	if (n <= e->nseen)
		return true;
	if ((s = realloc(e->seen, n * sizeof(*s))) == NULL)
		return false;
	memset(s + e->nseen, 0, (n - e->nseen) * sizeof(*s));
	e->seen = s;
	e->nseen = n;
	return true;
}

static void
seen_forget(struct seen *s)
{
	free(s->e);
	*s = (struct seen){ NULL, 0, false };
}

static void
seen_set(struct seen *s, const struct idg_acl_spec *spec)
{
	struct idg_acl_ent *c = NULL;

	if (spec->n && (c = malloc(spec->n * sizeof(*c))) == NULL) {
		seen_forget(s);
		return;
	}
	if (spec->n)
		memcpy(c, spec->e, spec->n * sizeof(*c));
	free(s->e);
	s->e = c;
	s->n = spec->n;
	s->valid = true;
}

static bool
seen_eq(const struct seen *s, const struct idg_acl_spec *spec)
{
	if (!s->valid || s->n != spec->n)
		return false;
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].tag != spec->e[i].tag || s->e[i].id != spec->e[i].id ||
		    s->e[i].perm != spec->e[i].perm)
			return false;
	return true;
}

static void
report(void *ctx, const char *path, bool repaired, const char *what)
{
	struct idg_enforcer *e = ctx;

	if (e->named < REPAIR_NAMED) {
		e->named++;
		log_notice("enforce: %s %s/%s: %s", repaired ? "repaired" : "left alone", e->repo,
		    path, what);
	} else {
		e->unnamed++;
	}
}

/* The entries as text for the log: "u:UID:rw g:GID:r". */
static void
spec_text(const struct idg_acl_spec *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->n && off + 40 < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%c:%u:%s", i ? " " : "",
		    s->e[i].tag == IDG_ACLT_USER ? 'u' : 'g', s->e[i].id,
		    s->e[i].perm == IDG_ACLP_WRITE ? "rw" : "r");
	if (s->n == 0)
		snprintf(buf, len, "owner only");
	else if (off + 40 >= len)
		snprintf(buf + off, len - off, " ...");
}

/* One repo's tree. repair: every object is checked and each change logged. */
static int
apply_repo(struct idg_daemon *d, idg_rid rid, const struct idg_acl_spec *spec, uid_t owner,
    gid_t group, bool repair, struct idg_apply_stats *st)
{
	struct idg_enforcer *e = d->enf;
	const char *full = idg_rbac_resource_name(d->st->rbac, rid);
	char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1], err[512], txt[512];
	struct idg_apply_stats one = { 0 };
	struct idg_acl_set *set = NULL;
	unsigned mode = 0750;
	int pfd, rc;

	(void)idg_config_data_mode(d->cfg.data_mode, &mode);
	if (idg_repo_split(full, project, repo, err, sizeof(err)) < 0)
		return IDG_ERR_INVAL;
	if ((pfd = idg_project_dir_open(d, project, err, sizeof(err))) < 0) {
		log_err("enforce: repo %s: %s", full, err);
		return IDG_ERR_IO;
	}
	if ((rc = idg_acl_set_new(spec, owner, group, (mode_t)mode, &set)) < 0) {
		log_err("enforce: repo %s: cannot build its ACL: %s", full, idg_strerror(rc));
		close(pfd);
		return rc;
	}
	e->repo = full;
	rc = idg_acl_apply_tree(pfd, repo, set, repair ? report : NULL, e, &one);
	if (rc < 0)
		log_err("enforce: repo %s: cannot open its directory %s/%s/%s without following a "
		    "symlink: %s", full, d->cfg.data_root, project, repo, strerror(errno));
	else if (one.errors)
		log_err("enforce: repo %s: %llu object(s) could not be changed", full,
		    (unsigned long long)one.errors);
	if (!repair && rc == 0) {
		spec_text(spec, txt, sizeof(txt));
		log_info("enforce: repo %s: ACL %s (%llu of %llu objects changed)", full, txt,
		    (unsigned long long)one.changed, (unsigned long long)(one.dirs + one.files));
	}
	idg_acl_set_free(set);
	close(pfd);
	st->dirs += one.dirs;
	st->files += one.files;
	st->changed += one.changed;
	st->skipped += one.skipped;
	st->errors += one.errors;
	return rc < 0 ? rc : one.errors ? IDG_ERR_IO : 0;
}

/* Compute every repo's entries; walk the trees that need it (all of them for a repair). */
static void
pass(struct idg_daemon *d, bool repair)
{
	struct idg_enforcer *e = d->enf;
	const struct idg_rbac *r = d->st->rbac;
	struct idg_apply_stats st = { 0 };
	struct idg_acl_spec *spec = NULL;
	size_t limit = idg_rbac_resource_limit(r), walked = 0;
	char err[512];
	uid_t owner = 0;
	gid_t group = 0;

	e->stale = false;
	if (!d->cfg.data_enforce)
		return;
	if (local_ids(d, &owner, &group) < 0)
		return;
	if (build_pmap(d) < 0 || !seen_grow(e, limit) || (spec = malloc(sizeof(*spec))) == NULL) {
		log_err("enforce: out of memory: repo ACLs not applied (retried)");
		e->stale = true;
		free(spec);
		return;
	}
	if (idg_data_root_fd(d, err, sizeof(err)) < 0) {
		log_err("enforce: %s", err);
		free(spec);
		return;
	}
	e->named = e->unnamed = 0;
	for (idg_rid rid = 0; rid < limit; rid++) {
		int rc;

		if (!idg_rbac_resource_live(r, rid) || idg_rbac_resource_type(r, rid) != IDG_RT_REPO) {
			if (e->seen[rid].valid)
				seen_forget(&e->seen[rid]);
			continue;
		}
		if ((rc = idg_acl_compute(r, rid, resolve, e, spec)) < 0) {
			/* Fail closed: a repo whose entries cannot be written is open to nobody. */
			log_err("enforce: repo %s: %s (more than %d users and groups hold a role on "
			    "it): closed to everyone until fewer do", idg_rbac_resource_name(r, rid),
			    idg_strerror(rc), IDG_ACL_ENTRIES_MAX);
			spec->n = 0;
		}
		if (!repair && seen_eq(&e->seen[rid], spec))
			continue;
		walked++;
		if (apply_repo(d, rid, spec, owner, group, repair, &st) == 0)
			seen_set(&e->seen[rid], spec);
		else
			seen_forget(&e->seen[rid]);
	}
	free(spec);
	if (repair)
		log_notice("enforce: repair: %zu repos, %llu directories and %llu files checked, "
		    "%llu repaired%s%s", walked, (unsigned long long)st.dirs,
		    (unsigned long long)st.files, (unsigned long long)st.changed,
		    e->unnamed ? " (some not named above)" : "", st.errors ? ", with errors" : "");
	else if (walked)
		log_info("enforce: %zu repo(s) brought in line with the bindings (%llu objects "
		    "changed)", walked, (unsigned long long)st.changed);
}

static void
on_timer(void *ctx, uint32_t events)
{
	struct idg_daemon *d = ctx;
	uint64_t n;

	(void)events;
	(void)!read(d->enf->tfd, &n, sizeof(n));
	d->enf->armed = false;
	if (d->enf->stale)
		pass(d, false);
}

static void
arm(struct idg_daemon *d)
{
	struct idg_enforcer *e = d->enf;
	struct itimerspec its = { .it_value = { 0, IDG_ENFORCE_DELAY_MS * 1000000L } };

	if (e->armed)
		return;
	if (timerfd_settime(e->tfd, 0, &its, NULL) == 0)
		e->armed = true;
	else
		log_err("enforce: timerfd_settime: %s (applied at the next tick)", strerror(errno));
}

int
idg_enforce_open(struct idg_daemon *d, char *err, size_t errlen)
{
	struct idg_enforcer *e = calloc(1, sizeof(*e));
	int rc;

	if (e == NULL)
		return IDG_ERR_NOMEM;
	d->enf = e;
	if ((e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "enforce: timerfd_create: %s", strerror(errno));
		return IDG_ERR_IO;
	}
	if ((rc = idg_server_watch(d->srv, e->tfd, on_timer, d, &e->watch)) < 0) {
		snprintf(err, errlen, "enforce: cannot watch its timer: %s", idg_strerror(rc));
		return rc;
	}
	e->next_repair = 0;	/* the first tick repairs */
	return 0;
}

void
idg_enforce_free(struct idg_daemon *d)
{
	struct idg_enforcer *e = d->enf;

	if (e == NULL)
		return;
	if (e->watch)
		idg_server_unwatch(d->srv, e->watch);
	if (e->tfd >= 0)
		close(e->tfd);
	for (size_t i = 0; i < e->nseen; i++)
		free(e->seen[i].e);
	free(e->seen);
	free(e->pmap);
	free(e);
	d->enf = NULL;
}

void
idg_enforce_reconfigure(struct idg_daemon *d)
{
	if (d->enf)
		d->enf->next_repair = 0;
}

void
idg_enforce_on_commit(struct idg_daemon *d, const struct idg_change *c)
{
	struct idg_enforcer *e = d->enf;
	bool stale = false;

	if (e == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		switch (c->m[i].kind) {
		case IDG_MUT_REPO_ADD: {
			idg_rid rid = idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, c->m[i].a);

			if (rid != IDG_RID_NONE && rid < e->nseen)
				seen_forget(&e->seen[rid]);
			stale = true;
			break;
		}
		case IDG_MUT_TOKEN_ADD: case IDG_MUT_TOKEN_DEL: case IDG_MUT_META_SET:
		case IDG_MUT_OFFLINE_SET: case IDG_MUT_OFFLINE_DEL: case IDG_MUT_USER_GECOS:
			break;
		default:	/* bindings, roles, repos, projects, users, groups, members, ids */
			stale = true;
			break;
		}
	}
	if (stale) {
		e->stale = true;
		arm(d);
	}
}

void
idg_enforce_tick(struct idg_daemon *d, int64_t now_ms)
{
	struct idg_enforcer *e = d->enf;

	if (e == NULL)
		return;
	if (e->next_repair >= 0 && now_ms >= e->next_repair) {
		pass(d, true);
		e->next_repair = d->cfg.data_repair_interval > 0 ?
		    now_ms + d->cfg.data_repair_interval * 1000 : -1;
	} else if (e->stale && !e->armed) {
		pass(d, false);
	}
}

void
idg_enforce_repo_now(struct idg_daemon *d, const char *full)
{
	struct idg_enforcer *e = d->enf;
	const struct idg_rbac *r = d->st->rbac;
	idg_rid rid = idg_rbac_resource_find(r, IDG_RT_REPO, full);
	struct idg_apply_stats st = { 0 };
	struct idg_acl_spec *spec;
	uid_t owner = 0;
	gid_t group = 0;

	if (e == NULL || !d->cfg.data_enforce || rid == IDG_RID_NONE ||
	    local_ids(d, &owner, &group) < 0 || build_pmap(d) < 0 ||
	    !seen_grow(e, idg_rbac_resource_limit(r)) || (spec = malloc(sizeof(*spec))) == NULL)
		return;
	if (idg_acl_compute(r, rid, resolve, e, spec) < 0)
		spec->n = 0;
	if (apply_repo(d, rid, spec, owner, group, false, &st) == 0)
		seen_set(&e->seen[rid], spec);
	free(spec);
}

void
idg_enforce_repo_close(struct idg_daemon *d, const char *project, const char *repo)
{
	struct idg_apply_stats st = { 0 };
	struct idg_acl_spec empty = { .n = 0 };
	struct idg_acl_set *set = NULL;
	unsigned mode = 0750;
	char err[512];
	uid_t owner = 0;
	gid_t group = 0;
	int pfd;

	if (d->enf == NULL || !d->cfg.data_enforce || local_ids(d, &owner, &group) < 0)
		return;
	(void)idg_config_data_mode(d->cfg.data_mode, &mode);
	if ((pfd = idg_project_dir_open(d, project, err, sizeof(err))) < 0)
		return;
	/* Nobody but the owner passes the directory itself, whatever lies below it. */
	if (idg_acl_set_new(&empty, owner, group, (mode_t)(mode & 0700), &set) == 0 &&
	    idg_acl_apply_top(pfd, repo, set, NULL, NULL, &st) < 0 && errno != ENOENT)
		log_err("enforce: cannot close %s/%s/%s: %s", d->cfg.data_root, project, repo,
		    strerror(errno));
	idg_acl_set_free(set);
	close(pfd);
}
