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
#include "common/util.h"
#include "daemon/api.h"
#include "daemon/directory.h"
#include "daemon/enforce.h"
#include "enforce/acl_apply.h"
#include "enforce/acl_calc.h"

/* Repaired objects named one by one in the log per pass; past this they are counted. */
#define REPAIR_NAMED 1000
/* Work done per turn of the event loop before requests are served again. */
#define SLICE_MS 50

struct seen {
	struct idg_acl_ent *e;	/* what was last applied to the whole tree */
	size_t n;
	bool valid;
};

struct pmap {
	uint8_t tag;		/* 0: no POSIX id */
	uint32_t id;
};

/* Repos to walk, in order. */
struct worklist {
	idg_rid *rids;
	size_t n, cap, pos;
	size_t walked;
	struct idg_apply_stats st;
	int64_t started;	/* monotonic ms */
};

struct pass_ctx {
	uid_t owner;
	gid_t group;
	bool owned_links;	/* idg_acl_set_owned_links */
};

struct idg_enforcer {
	int tfd;
	struct idg_watch *watch;
	bool stale;		/* a change may have changed some repo's entries */
	bool armed;
	int64_t next_repair;	/* monotonic ms; 0: due now; -1: never again */
	struct worklist apply;	/* repos whose entries changed */
	struct worklist repair;	/* every repo: start-up and [data] repair_interval */
	int64_t retry_at;	/* after a failure to start a slice (logged): not before */
	struct seen *seen;	/* by resource id */
	uint64_t *queued;	/* by resource id: the entries it was queued for (spec_hash),
				 * while in the apply list and not walked yet; 0: not queued */
	size_t nseen;
	struct pmap *pmap;	/* by principal id, rebuilt per pass */
	size_t npmap;
	bool said_links;	/* the warning of links_protected is in the log */
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

/* Whether the kernel lets only those who may read and write a file hard-link it (and so
 * whether a multi-link file of the data owner's or an IdP user's may be re-ACLed:
 * acl_apply.h). Read at every pass, since an administrator may change it; when it is off,
 * multi-link files keep whatever access they had, which is said once. */
static bool
links_protected(struct idg_enforcer *e)
{
	char buf[8] = "";
	FILE *f = fopen("/proc/sys/fs/protected_hardlinks", "re");
	bool yes;

	if (f != NULL) {
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
	}
	yes = strcmp(buf, "1\n") == 0 || strcmp(buf, "1") == 0;
	if (!yes && !e->said_links)
		log_warn("enforce: fs.protected_hardlinks is not 1: repo files with several hard "
		    "links are left alone, so anyone who linked one elsewhere keeps the access "
		    "it had (sysctl fs.protected_hardlinks=1 lets idgated take it away)");
	e->said_links = !yes;
	return yes;
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
	uint64_t *q;

	if (n <= e->nseen)
		return true;
	if ((q = realloc(e->queued, n * sizeof(*q))) == NULL)
		return false;
	memset(q + e->nseen, 0, (n - e->nseen) * sizeof(*q));
	e->queued = q;
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
apply_repo(struct idg_daemon *d, idg_rid rid, const struct idg_acl_spec *spec,
    const struct pass_ctx *pc, bool repair, struct idg_apply_stats *st)
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
	if ((rc = idg_acl_set_new(spec, pc->owner, pc->group, (mode_t)mode, &set)) < 0) {
		log_err("enforce: repo %s: cannot build its ACL: %s", full, idg_strerror(rc));
		close(pfd);
		return rc;
	}
	idg_acl_set_owned_links(set, pc->owned_links, (uid_t)d->cfg.idmap_id_min,
	    (uid_t)d->cfg.idmap_id_max);
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

/* Work lists: repos to walk, in slices of SLICE_MS so the event loop keeps answering
 * requests during a pass over a large tree (a single repo's tree is never split). */
static bool
work_push(struct worklist *w, idg_rid rid)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		idg_rid *r = realloc(w->rids, cap * sizeof(*r));

		if (r == NULL)
			return false;
		w->rids = r;
		w->cap = cap;
	}
	w->rids[w->n++] = rid;
	return true;
}

static void
work_reset(struct worklist *w)
{
	w->n = w->pos = w->walked = 0;
	memset(&w->st, 0, sizeof(w->st));
}

static bool
is_repo(const struct idg_rbac *r, idg_rid rid)
{
	return idg_rbac_resource_live(r, rid) && idg_rbac_resource_type(r, rid) == IDG_RT_REPO;
}

/* What one slice needs: the owner, the principal map, room for every repo. */
static int
prepare(struct idg_daemon *d, struct pass_ctx *pc)
{
	struct idg_enforcer *e = d->enf;
	char err[512];

	if (local_ids(d, &pc->owner, &pc->group) < 0)
		return IDG_ERR_CONFIG;
	pc->owned_links = links_protected(e);
	if (build_pmap(d) < 0 || !seen_grow(e, idg_rbac_resource_limit(d->st->rbac))) {
		log_err("enforce: out of memory: repo ACLs not applied (retried)");
		return IDG_ERR_NOMEM;
	}
	if (idg_data_root_fd(d, err, sizeof(err)) < 0) {
		log_err("enforce: %s", err);
		return IDG_ERR_IO;
	}
	return 0;
}

/* rid's entries now; a repo with too many is closed (fail closed), never half-applied. */
static void
compute(struct idg_daemon *d, idg_rid rid, struct idg_acl_spec *spec)
{
	int rc = idg_acl_compute(d->st->rbac, rid, resolve, d->enf, spec);

	if (rc < 0) {
		log_err("enforce: repo %s: %s (more than %d users and groups hold a role on it): "
		    "closed to everyone until fewer do", idg_rbac_resource_name(d->st->rbac, rid),
		    idg_strerror(rc), IDG_ACL_ENTRIES_MAX);
		spec->n = 0;
	}
}

/* FNV-1a of a spec's entries; never 0. */
static uint64_t
spec_hash(const struct idg_acl_spec *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < s->n; i++) {
		uint8_t b[6] = { s->e[i].tag, s->e[i].perm, (uint8_t)s->e[i].id,
		    (uint8_t)(s->e[i].id >> 8), (uint8_t)(s->e[i].id >> 16),
		    (uint8_t)(s->e[i].id >> 24) };

		for (size_t k = 0; k < sizeof(b); k++)
			h = (h ^ b[k]) * 0x100000001b3ull;
	}
	return h | 1;
}

/* After a change: every repo whose entries differ from what its tree carries is queued.
 * What an unfinished list still held for the same entries is found again (its trees are
 * not applied yet) and goes last: the repos this change touched go first, so a small change
 * is not held up behind a large pass already under way. */
static void
plan_apply(struct idg_daemon *d, struct idg_acl_spec *spec)
{
	struct idg_enforcer *e = d->enf;
	const struct idg_rbac *r = d->st->rbac;
	size_t limit = idg_rbac_resource_limit(r);

	uint8_t *later = NULL;
	size_t nlater = 0;

	/* Whatever was queued and not walked yet keeps its mark (the entries it was queued
	 * for); everything else's is cleared. */
	for (size_t i = 0; i < e->apply.pos && i < e->apply.n; i++)
		if (e->apply.rids[i] < e->nseen)
			e->queued[e->apply.rids[i]] = 0;
	work_reset(&e->apply);
	if ((later = calloc(limit ? limit : 1, 1)) == NULL) {
		log_err("enforce: out of memory: repo ACLs not applied (retried)");
		e->stale = true;
		return;
	}
	for (idg_rid rid = 0; rid < limit; rid++) {
		uint64_t h;

		if (!is_repo(r, rid)) {
			if (e->seen[rid].valid)
				seen_forget(&e->seen[rid]);
			e->queued[rid] = 0;
			continue;
		}
		compute(d, rid, spec);
		if (seen_eq(&e->seen[rid], spec)) {
			e->queued[rid] = 0;
			continue;
		}
		h = spec_hash(spec);
		if (e->queued[rid] == h) {
			later[rid] = 1;		/* queued before for the same entries */
			nlater++;
			continue;
		}
		e->queued[rid] = h;
		if (!work_push(&e->apply, rid))
			goto nomem;
	}
	for (idg_rid rid = 0; rid < limit && nlater; rid++)
		if (later[rid] && !work_push(&e->apply, rid))
			goto nomem;
	free(later);
	return;
nomem:
	log_err("enforce: out of memory: repo ACLs not applied (retried)");
	e->stale = true;
	free(later);
}

/* Walk queued trees until the slice's time is up; false when work is left. */
static bool
run_list(struct idg_daemon *d, struct worklist *w, bool repair, const struct pass_ctx *pc,
    struct idg_acl_spec *spec, int64_t deadline)
{
	struct idg_enforcer *e = d->enf;

	if (repair && w->pos == 0 && w->n > 0)
		e->named = e->unnamed = 0;
	while (w->pos < w->n) {
		idg_rid rid = w->rids[w->pos++];

		if (!is_repo(d->st->rbac, rid))
			continue;	/* deleted meanwhile */
		compute(d, rid, spec);
		if (!repair && seen_eq(&e->seen[rid], spec))
			continue;
		w->walked++;
		if (!repair)
			e->queued[rid] = 0;
		if (apply_repo(d, rid, spec, pc, repair, &w->st) == 0)
			seen_set(&e->seen[rid], spec);
		else
			seen_forget(&e->seen[rid]);
		if (idg_now_ms() >= deadline && w->pos < w->n)
			return false;
	}
	if (w->n > 0) {
		if (repair)
			log_notice("enforce: repair: %zu repos, %llu directories and %llu files "
			    "checked, %llu repaired%s%s (%.1f s)", w->walked,
			    (unsigned long long)w->st.dirs, (unsigned long long)w->st.files,
			    (unsigned long long)w->st.changed,
			    e->unnamed ? " (some not named above)" : "",
			    w->st.errors ? ", with errors" : "",
			    (double)(idg_now_ms() - w->started) / 1000.0);
		else if (w->walked)
			log_info("enforce: %zu repo(s) brought in line with the bindings (%llu objects "
			    "changed)", w->walked, (unsigned long long)w->st.changed);
	}
	work_reset(w);
	return true;
}

static void arm(struct idg_daemon *d, long ms);

/* One slice: plan after a change, then changed repos first, then the repair. */
static void
run(struct idg_daemon *d)
{
	struct idg_enforcer *e = d->enf;
	int64_t deadline = idg_now_ms() + SLICE_MS;
	struct idg_acl_spec *spec;
	struct pass_ctx pc;
	bool done;

	if (!d->cfg.data_enforce) {
		e->stale = false;
		work_reset(&e->apply);
		work_reset(&e->repair);
		return;
	}
	if (prepare(d, &pc) < 0 || (spec = malloc(sizeof(*spec))) == NULL) {
		/* Logged; tried again in a minute (or at the next change), not every second. */
		e->retry_at = idg_now_ms() + 60000;
		return;
	}
	e->retry_at = 0;
	if (e->stale) {
		e->stale = false;
		plan_apply(d, spec);
	}
	done = run_list(d, &e->apply, false, &pc, spec, deadline) &&
	    run_list(d, &e->repair, true, &pc, spec, deadline);
	free(spec);
	if (!done || e->stale)
		arm(d, 1);
}

static void
on_timer(void *ctx, uint32_t events)
{
	struct idg_daemon *d = ctx;
	uint64_t n;

	(void)events;
	(void)!read(d->enf->tfd, &n, sizeof(n));
	d->enf->armed = false;
	run(d);
}

static void
arm(struct idg_daemon *d, long ms)
{
	struct idg_enforcer *e = d->enf;
	struct itimerspec its = { .it_value = { ms / 1000, (ms % 1000) * 1000000L } };

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
	free(e->queued);
	free(e->pmap);
	free(e->apply.rids);
	free(e->repair.rids);
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
		e->retry_at = 0;
		arm(d, IDG_ENFORCE_DELAY_MS);
	}
}

void
idg_enforce_tick(struct idg_daemon *d, int64_t now_ms)
{
	struct idg_enforcer *e = d->enf;
	const struct idg_rbac *r;

	if (e == NULL)
		return;
	r = d->st->rbac;
	if (e->next_repair >= 0 && now_ms >= e->next_repair && e->repair.n == 0) {
		/* A repair still running when the next is due simply goes on. */
		for (idg_rid rid = 0; rid < idg_rbac_resource_limit(r); rid++)
			if (is_repo(r, rid) && !work_push(&e->repair, rid)) {
				work_reset(&e->repair);
				log_err("enforce: out of memory: repair postponed");
				break;
			}
		e->repair.started = now_ms;
		e->next_repair = d->cfg.data_repair_interval > 0 ?
		    now_ms + d->cfg.data_repair_interval * 1000 : -1;
		if (e->repair.n == 0 && d->cfg.data_enforce)
			log_notice("enforce: repair: no repos");
		run(d);
	} else if ((e->stale || e->apply.n || e->repair.n) && !e->armed && now_ms >= e->retry_at) {
		run(d);
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
	struct pass_ctx pc = { 0 };

	if (e == NULL || !d->cfg.data_enforce || rid == IDG_RID_NONE ||
	    local_ids(d, &pc.owner, &pc.group) < 0 || build_pmap(d) < 0 ||
	    !seen_grow(e, idg_rbac_resource_limit(r)) || (spec = malloc(sizeof(*spec))) == NULL)
		return;
	pc.owned_links = links_protected(e);
	if (idg_acl_compute(r, rid, resolve, e, spec) < 0)
		spec->n = 0;
	if (apply_repo(d, rid, spec, &pc, false, &st) == 0)
		seen_set(&e->seen[rid], spec);
	free(spec);
}

void
idg_enforce_fd(struct idg_daemon *d, const char *full, int fd, bool dir)
{
	struct idg_apply_stats st = { 0 };
	struct idg_acl_set *set = NULL;
	struct idg_acl_spec *spec;
	struct pass_ctx pc;
	unsigned mode = 0750;
	idg_rid rid;
	int rc;

	if (d->enf == NULL || !d->cfg.data_enforce ||
	    (rid = idg_rbac_resource_find(d->st->rbac, IDG_RT_REPO, full)) == IDG_RID_NONE ||
	    prepare(d, &pc) < 0 || (spec = malloc(sizeof(*spec))) == NULL)
		return;
	(void)idg_config_data_mode(d->cfg.data_mode, &mode);
	compute(d, rid, spec);
	if ((rc = idg_acl_set_new(spec, pc.owner, pc.group, (mode_t)mode, &set)) < 0 ||
	    (rc = idg_acl_apply_fd(fd, dir, set, &st)) < 0 || st.errors)
		log_err("enforce: repo %s: a new %s did not get its ACL (%s): the next repair "
		    "gives it", full, dir ? "directory" : "file",
		    rc < 0 ? idg_strerror(rc) : strerror(errno));
	idg_acl_set_free(set);
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
	int pfd, rc;

	if (d->enf == NULL || !d->cfg.data_enforce || local_ids(d, &owner, &group) < 0)
		return;
	(void)idg_config_data_mode(d->cfg.data_mode, &mode);
	if ((pfd = idg_project_dir_open(d, project, err, sizeof(err))) < 0)
		return;
	/* The whole tree, not only its top: a process that holds a directory inside (its cwd,
	 * an open descriptor) needs no path through the top, and the retired tree is never
	 * walked again. Every directory and file is left to the owner alone; a descriptor
	 * open on a file before keeps what it was opened for (POSIX revokes nothing). */
	if ((rc = idg_acl_set_new(&empty, owner, group, (mode_t)(mode & 0700), &set)) < 0) {
		log_err("enforce: cannot close %s/%s/%s: %s", d->cfg.data_root, project, repo,
		    idg_strerror(rc));
	} else {
		idg_acl_set_owned_links(set, links_protected(d->enf), (uid_t)d->cfg.idmap_id_min,
		    (uid_t)d->cfg.idmap_id_max);
		if (idg_acl_apply_tree(pfd, repo, set, NULL, NULL, &st) < 0) {
			if (errno != ENOENT)
				log_err("enforce: cannot close %s/%s/%s: %s", d->cfg.data_root,
				    project, repo, strerror(errno));
		} else if (st.errors) {
			log_err("enforce: closing %s/%s/%s: %llu object(s) could not be changed",
			    d->cfg.data_root, project, repo, (unsigned long long)st.errors);
		}
	}
	idg_acl_set_free(set);
	close(pfd);
}
