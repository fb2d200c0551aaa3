/* bench/rbac: how fast the role engine decides and how that cost scales, in-process and
 * through idgated's api.sock. Prints figures and ratios against baselines measured in the
 * same run, never pass/fail: a benchmark, not a test. See bench/README.md. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/api.h"
#include "proto/wire.h"
#include "rbac/rbac.h"
#include "store/store.h"
#include "util.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define SEED UINT64_C(0x1d6a7e0b5eed)
#define NAME_W 32		/* every generated name fits, NUL included */
#define CREATED INT64_C(1767225600)
#define WINDOW 64		/* pipelined requests in flight per connection */
#define IO_TIMEOUT_MS 10000

/* ---------- small helpers ---------- */

/* A "Key:  123 kB" line of /proc/PID/status (pid 0: ourselves), in kB; -1 if absent. */
static long
status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			kb = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

static void
release_freed_memory(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* xoshiro256** seeded by splitmix64: fixed seeds, so every run builds the same data. */
struct rng {
	uint64_t s[4];
};

static void
rng_seed(struct rng *g, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += UINT64_C(0x9E3779B97F4A7C15));

		z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
		g->s[i] = z ^ (z >> 31);
	}
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *g)
{
	uint64_t *s = g->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform enough in [0, n) for n far below 2^32. */
static uint32_t
rng_below(struct rng *g, uint32_t n)
{
	return (uint32_t)(((rng_next(g) >> 32) * n) >> 32);
}

/* ---------- the clock for single checks ---------- */

/* rdtsc fenced on both sides where there is one, clock_gettime elsewhere. The overhead of
 * an empty timed region is measured and subtracted from every sample. */
struct timer {
	const char *source;
	double ticks_per_ns;
	double overhead;	/* ticks */
	double mem_small_ns, mem_large_ns;	/* pointer-chase latency, 1 MiB and 64 MiB */
};

#if HAVE_TSC
static inline uint64_t
tick_begin(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static inline uint64_t
tick_end(void)
{
	unsigned aux;
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
}
#else
static inline uint64_t
tick_begin(void)
{
	return now_ns();
}

static inline uint64_t
tick_end(void)
{
	return now_ns();
}
#endif

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void
timer_calibrate(struct timer *t)
{
	enum { N = 200000 };
	uint32_t *d = malloc(N * sizeof(*d));
	uint64_t c0, c1, n0, n1;

	t->source = HAVE_TSC ? "rdtsc (lfence; rdtsc ... rdtscp; lfence)" :
	    "clock_gettime(CLOCK_MONOTONIC)";
	n0 = now_ns();
	c0 = tick_begin();
	sleep_ms(200);
	c1 = tick_end();
	n1 = now_ns();
	t->ticks_per_ns = (double)(c1 - c0) / (double)(n1 - n0);
	t->overhead = 0;
	if (d == NULL)
		return;
	for (size_t i = 0; i < N; i++) {
		uint64_t a = tick_begin(), b = tick_end();

		d[i] = (uint32_t)(b - a);
	}
	qsort(d, N, sizeof(*d), cmp_u32);
	t->overhead = d[N / 2];
	free(d);
}

struct lat {
	size_t n;
	double p50, p90, p99, p999, max;
};

/* Sort the samples and take percentiles, in ns, with overhead (ticks) subtracted. */
static void
lat_from(uint32_t *t, size_t n, double ticks_per_ns, double overhead, struct lat *out)
{
	const double p[] = { 0.50, 0.90, 0.99, 0.999 };
	double *dst[] = { &out->p50, &out->p90, &out->p99, &out->p999 };

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	qsort(t, n, sizeof(*t), cmp_u32);
	out->n = n;
	for (size_t i = 0; i < 4; i++) {
		size_t k = (size_t)(p[i] * (double)n);
		double v = (double)t[k < n ? k : n - 1] - overhead;

		*dst[i] = (v > 0 ? v : 0) / ticks_per_ns;
	}
	out->max = ((double)t[n - 1] - overhead) / ticks_per_ns;
}

/* ---------- the model's shape ---------- */

struct scale {
	unsigned projects, repos, users, groups;
	unsigned groups_per_user_max;	/* each user is in 0..this many groups, uniformly */
	size_t bindings;		/* root's clusterAdmin not counted */
	unsigned per_project;		/* bindings on each project */
	unsigned on_cluster;		/* bindings on the cluster */
};

static size_t
repo_bindings(const struct scale *sc)
{
	return sc->bindings - sc->on_cluster - (size_t)sc->per_project * sc->projects;
}

static void
scale_describe(const struct scale *sc, char *buf, size_t len)
{
	snprintf(buf, len, "%s projects, %s repos, %s users, %s groups, %s bindings", num(sc->projects),
	    num(sc->repos), num(sc->users), num(sc->groups), num(sc->bindings));
}

static int
scale_check(const struct scale *sc)
{
	unsigned principals = sc->users + sc->groups;

	if (sc->projects == 0 || sc->repos % sc->projects != 0 || sc->groups_per_user_max > sc->groups ||
	    sc->on_cluster < 2 || sc->bindings < sc->on_cluster + (size_t)sc->per_project * sc->projects ||
	    sc->per_project > principals / 2 || sc->on_cluster > principals / 2 ||
	    repo_bindings(sc) / sc->repos + 1 > principals / 2)
		return IDG_ERR_INVAL;
	return 0;
}

/* Names in fixed NAME_W slots: pNNNN, pNNNN/rNNNNN, user:uNNNNN@example.com, group:gNNNN. */
struct names {
	char *project, *repo, *user, *group;
	unsigned per_project;
};

static const char *
nm(const char *tab, size_t i)
{
	return tab + i * NAME_W;
}

static int
width(unsigned count, int min)
{
	int d = 1;

	for (unsigned v = count ? count - 1 : 0; v >= 10; v /= 10)
		d++;
	return d > min ? d : min;
}

static void
names_free(struct names *n)
{
	free(n->project);
	free(n->repo);
	free(n->user);
	free(n->group);
	memset(n, 0, sizeof(*n));
}

static int
names_make(const struct scale *sc, struct names *n)
{
	int wp = width(sc->projects, 4), wr = width(sc->repos, 5), wu = width(sc->users, 5);
	int wg = width(sc->groups, 4);

	n->per_project = sc->repos / sc->projects;
	n->project = calloc(sc->projects, NAME_W);
	n->repo = calloc(sc->repos, NAME_W);
	n->user = calloc(sc->users, NAME_W);
	n->group = calloc(sc->groups, NAME_W);
	if (!n->project || !n->repo || !n->user || !n->group) {
		names_free(n);
		return IDG_ERR_NOMEM;
	}
	/* Checked lengths: a name that does not fit its slot stops the run. */
	for (unsigned i = 0; i < sc->projects; i++)
		if (snprintf(n->project + (size_t)i * NAME_W, NAME_W, "p%0*u", wp, i) >= NAME_W)
			goto toolong;
	for (unsigned i = 0; i < sc->repos; i++)
		if (snprintf(n->repo + (size_t)i * NAME_W, NAME_W, "p%0*u/r%0*u", wp,
		    i / n->per_project, wr, i) >= NAME_W)
			goto toolong;
	for (unsigned i = 0; i < sc->users; i++)
		if (snprintf(n->user + (size_t)i * NAME_W, NAME_W, "user:u%0*u@example.com", wu,
		    i) >= NAME_W)
			goto toolong;
	for (unsigned i = 0; i < sc->groups; i++)
		if (snprintf(n->group + (size_t)i * NAME_W, NAME_W, "group:g%0*u", wg, i) >= NAME_W)
			goto toolong;
	return 0;
toolong:
	names_free(n);
	return IDG_ERR_TOOBIG;
}

#define GROUP_PREFIX_LEN 6	/* "group:": the store names groups without it */

/* ---------- the data set, generated once per sink ---------- */

/* The role sets bindings use, built-in roles only. */
enum rs {
	RS_READER, RS_WRITER, RS_OWNER, RS_READ_WRITE, RS_PVIEWER, RS_PWRITER, RS_POWNER,
	RS_PCREATOR, RS_DEBUGGER, RS_SECRET, RS_ROBOT, RS_CADMIN, RS_COUNT
};

static const struct {
	const char *const role[2];
	size_t n;
} rolesets[RS_COUNT] = {
	[RS_READER] = { { "repoReader" }, 1 },
	[RS_WRITER] = { { "repoWriter" }, 1 },
	[RS_OWNER] = { { "repoOwner" }, 1 },
	[RS_READ_WRITE] = { { "repoReader", "repoWriter" }, 2 },
	[RS_PVIEWER] = { { "projectViewer" }, 1 },
	[RS_PWRITER] = { { "projectWriter" }, 1 },
	[RS_POWNER] = { { "projectOwner" }, 1 },
	[RS_PCREATOR] = { { "projectCreator" }, 1 },
	[RS_DEBUGGER] = { { "debugger" }, 1 },
	[RS_SECRET] = { { "secretAdmin" }, 1 },
	[RS_ROBOT] = { { "robotUser" }, 1 },
	[RS_CADMIN] = { { "clusterAdmin" }, 1 },
};

/* A subject: 0..users-1 a user, then the groups, then allClusterUsers. */
struct sink {
	void *ctx;
	int (*project)(void *ctx, unsigned p);
	int (*repo)(void *ctx, unsigned r);
	int (*group)(void *ctx, unsigned g);
	int (*member)(void *ctx, unsigned g, unsigned u);
	int (*binding)(void *ctx, enum idg_rtype t, unsigned at, uint32_t subject, enum rs rs);
};

struct gen {
	struct rng g;
	const struct scale *sc;
	uint32_t *mark;		/* subjects already bound on the current resource */
	uint32_t stamp;
};

/* A subject not yet bound on the current resource: all_pct % allClusterUsers, group_pct %
 * a group, the rest a user. UINT32_MAX only if the resource is nearly full (scale_check). */
static uint32_t
gen_subject(struct gen *gn, unsigned all_pct, unsigned group_pct)
{
	const struct scale *sc = gn->sc;

	for (unsigned tries = 0; tries < 100000; tries++) {
		unsigned roll = rng_below(&gn->g, 100);
		uint32_t s;

		if (roll < all_pct)
			s = sc->users + sc->groups;
		else if (roll < all_pct + group_pct)
			s = sc->users + rng_below(&gn->g, sc->groups);
		else
			s = rng_below(&gn->g, sc->users);
		if (gn->mark[s] != gn->stamp) {
			gn->mark[s] = gn->stamp;
			return s;
		}
	}
	return UINT32_MAX;
}

static enum rs
gen_roles(struct rng *g, enum idg_rtype t, bool everyone)
{
	static const enum rs cluster[] = { RS_PCREATOR, RS_DEBUGGER, RS_SECRET, RS_ROBOT };
	unsigned roll = rng_below(g, 100);

	if (t == IDG_RT_CLUSTER)
		return cluster[rng_below(g, 4)];
	if (t == IDG_RT_REPO) {
		if (everyone)
			return RS_READER;	/* a public repo */
		return roll < 55 ? RS_READER : roll < 80 ? RS_WRITER : roll < 92 ? RS_OWNER : RS_READ_WRITE;
	}
	if (everyone)
		return RS_PVIEWER;
	return roll < 30 ? RS_PVIEWER : roll < 55 ? RS_PWRITER : roll < 75 ? RS_READER :
	    roll < 90 ? RS_WRITER : RS_POWNER;
}

/* n bindings on one resource, each to a different subject. The cluster's first two are
 * allClusterUsers -> projectCreator (as activation makes it) and one clusterAdmin user. */
static int
gen_bindings_on(struct gen *gn, const struct sink *k, enum idg_rtype t, unsigned at, size_t n)
{
	unsigned all_pct = t == IDG_RT_REPO ? 2 : t == IDG_RT_PROJECT ? 3 : 0;
	unsigned group_pct = t == IDG_RT_REPO ? 33 : t == IDG_RT_PROJECT ? 37 : 50;
	uint32_t everyone = gn->sc->users + gn->sc->groups;
	int rc;

	gn->stamp++;
	for (size_t i = 0; i < n; i++) {
		uint32_t s;
		enum rs rs;

		if (t == IDG_RT_CLUSTER && i == 0) {
			s = everyone;
			gn->mark[s] = gn->stamp;
			rs = RS_PCREATOR;
		} else if (t == IDG_RT_CLUSTER && i == 1) {
			s = gen_subject(gn, 0, 0);
			rs = RS_CADMIN;
		} else {
			s = gen_subject(gn, all_pct, group_pct);
			rs = gen_roles(&gn->g, t, s == everyone);
		}
		if (s == UINT32_MAX)
			return IDG_ERR_TOOBIG;
		if ((rc = k->binding(k->ctx, t, at, s, rs)) < 0)
			return rc;
	}
	return 0;
}

static int
gen_members(struct gen *gn, const struct sink *k)
{
	const struct scale *sc = gn->sc;
	uint32_t *perm = malloc((size_t)sc->groups * sizeof(*perm));
	int rc = 0;

	if (perm == NULL)
		return IDG_ERR_NOMEM;
	for (unsigned i = 0; i < sc->groups; i++)
		perm[i] = i;
	/* A partial Fisher-Yates shuffle picks each user's groups without repeats. */
	for (unsigned u = 0; u < sc->users && rc == 0; u++) {
		unsigned n = rng_below(&gn->g, sc->groups_per_user_max + 1);

		for (unsigned i = 0; i < n && rc == 0; i++) {
			unsigned j = i + rng_below(&gn->g, sc->groups - i);
			uint32_t tmp = perm[i];

			perm[i] = perm[j];
			perm[j] = tmp;
			rc = k->member(k->ctx, perm[i], u);
		}
	}
	free(perm);
	return rc;
}

/* The whole data set, in dependency order, identical for every sink. */
static int
gen_dataset(const struct scale *sc, const struct sink *k)
{
	struct gen gn = { .sc = sc };
	size_t rb = repo_bindings(sc);
	int rc = 0;

	rng_seed(&gn.g, SEED);
	if ((gn.mark = calloc((size_t)sc->users + sc->groups + 1, sizeof(*gn.mark))) == NULL)
		return IDG_ERR_NOMEM;
	for (unsigned p = 0; p < sc->projects && rc == 0; p++)
		rc = k->project(k->ctx, p);
	for (unsigned r = 0; r < sc->repos && rc == 0; r++)
		rc = k->repo(k->ctx, r);
	for (unsigned g = 0; g < sc->groups && rc == 0; g++)
		rc = k->group(k->ctx, g);
	if (rc == 0)
		rc = gen_members(&gn, k);
	if (rc == 0)
		rc = gen_bindings_on(&gn, k, IDG_RT_CLUSTER, 0, sc->on_cluster);
	for (unsigned p = 0; p < sc->projects && rc == 0; p++)
		rc = gen_bindings_on(&gn, k, IDG_RT_PROJECT, p, sc->per_project);
	/* The repos share the rest evenly (Bresenham): 9 or 10 each at 1x. */
	for (unsigned r = 0; r < sc->repos && rc == 0; r++) {
		size_t n = (size_t)((uint64_t)rb * (r + 1) / sc->repos - (uint64_t)rb * r / sc->repos);

		rc = gen_bindings_on(&gn, k, IDG_RT_REPO, r, n);
	}
	free(gn.mark);
	return rc;
}

/* ---------- sink 1: the role engine ---------- */

struct model {
	const struct scale *sc;
	const struct names *nm;
	struct idg_rbac *r;
	idg_rid *project_rid, *repo_rid;
	idg_pid *user_pid, *group_pid;
	uint32_t *pid_user;	/* principal -> user index (UINT32_MAX: not a user) */
	idg_role roles[RS_COUNT][2];
	size_t members;
};

static int
m_project(void *ctx, unsigned p)
{
	struct model *m = ctx;

	return idg_rbac_resource_add(m->r, IDG_RT_PROJECT, nm(m->nm->project, p), IDG_RID_CLUSTER,
	    &m->project_rid[p]);
}

static int
m_repo(void *ctx, unsigned r)
{
	struct model *m = ctx;

	return idg_rbac_resource_add(m->r, IDG_RT_REPO, nm(m->nm->repo, r),
	    m->project_rid[r / m->nm->per_project], &m->repo_rid[r]);
}

static int
m_group(void *ctx, unsigned g)
{
	struct model *m = ctx;

	return idg_rbac_principal(m->r, nm(m->nm->group, g), IDG_PK_GROUP, &m->group_pid[g]);
}

static int
m_member(void *ctx, unsigned g, unsigned u)
{
	struct model *m = ctx;

	m->members++;
	return idg_rbac_member_add(m->r, m->group_pid[g], m->user_pid[u]);
}

static int
m_binding(void *ctx, enum idg_rtype t, unsigned at, uint32_t s, enum rs rs)
{
	struct model *m = ctx;
	idg_rid rid = t == IDG_RT_CLUSTER ? IDG_RID_CLUSTER :
	    t == IDG_RT_PROJECT ? m->project_rid[at] : m->repo_rid[at];
	idg_pid pid = s < m->sc->users ? m->user_pid[s] :
	    s < m->sc->users + m->sc->groups ? m->group_pid[s - m->sc->users] : IDG_PID_ALL;

	return idg_rbac_binding_set(m->r, rid, pid, m->roles[rs], rolesets[rs].n);
}

static void
model_free(struct model *m)
{
	idg_rbac_free(m->r);
	free(m->project_rid);
	free(m->repo_rid);
	free(m->user_pid);
	free(m->group_pid);
	free(m->pid_user);
	memset(m, 0, sizeof(*m));
}

/* The id maps are the benchmark's, not the engine's: allocate and touch them before the
 * memory baseline is taken. */
static int
model_prepare(struct model *m, const struct scale *sc, const struct names *n)
{
	memset(m, 0, sizeof(*m));
	m->sc = sc;
	m->nm = n;
	m->project_rid = malloc((size_t)sc->projects * sizeof(idg_rid));
	m->repo_rid = malloc((size_t)sc->repos * sizeof(idg_rid));
	m->user_pid = malloc((size_t)sc->users * sizeof(idg_pid));
	m->group_pid = malloc((size_t)sc->groups * sizeof(idg_pid));
	if (!m->project_rid || !m->repo_rid || !m->user_pid || !m->group_pid)
		return IDG_ERR_NOMEM;
	memset(m->project_rid, 0xff, (size_t)sc->projects * sizeof(idg_rid));
	memset(m->repo_rid, 0xff, (size_t)sc->repos * sizeof(idg_rid));
	memset(m->user_pid, 0xff, (size_t)sc->users * sizeof(idg_pid));
	memset(m->group_pid, 0xff, (size_t)sc->groups * sizeof(idg_pid));
	return 0;
}

static int
model_build(struct model *m)
{
	static const uint8_t seed[16] = "idgate-bench-key";
	struct sink k = { m, m_project, m_repo, m_group, m_member, m_binding };
	size_t np;
	int rc;

	if ((rc = idg_rbac_new(seed, &m->r)) < 0)
		return rc;
	for (size_t i = 0; i < RS_COUNT; i++)
		for (size_t j = 0; j < rolesets[i].n; j++)
			if ((rc = idg_rbac_role_find(m->r, rolesets[i].role[j], &m->roles[i][j])) < 0)
				return rc;
	for (unsigned u = 0; u < m->sc->users; u++)
		if ((rc = idg_rbac_principal(m->r, nm(m->nm->user, u), IDG_PK_USER, &m->user_pid[u])) < 0)
			return rc;
	if ((rc = gen_dataset(m->sc, &k)) < 0)
		return rc;
	np = idg_rbac_principal_limit(m->r);
	if ((m->pid_user = malloc(np * sizeof(*m->pid_user))) == NULL)
		return IDG_ERR_NOMEM;
	memset(m->pid_user, 0xff, np * sizeof(*m->pid_user));
	for (unsigned u = 0; u < m->sc->users; u++)
		m->pid_user[m->user_pid[u]] = u;
	return 0;
}

/* ---------- sink 2: the state store, as one change ---------- */

struct store_sink {
	struct idg_change *c;
	const struct scale *sc;
	const struct names *nm;
};

static int
s_project(void *ctx, unsigned p)
{
	struct store_sink *s = ctx;

	idg_change_add(s->c, &(struct idg_mut){ .kind = IDG_MUT_PROJECT_ADD,
	    .a = nm(s->nm->project, p), .b = IDG_SUBJECT_ROOT, .c = "", .t1 = CREATED });
	return s->c->err;
}

static int
s_repo(void *ctx, unsigned r)
{
	struct store_sink *s = ctx;

	idg_change_add(s->c, &(struct idg_mut){ .kind = IDG_MUT_REPO_ADD, .a = nm(s->nm->repo, r),
	    .b = IDG_SUBJECT_ROOT, .c = "", .t1 = CREATED });
	return s->c->err;
}

static int
s_group(void *ctx, unsigned g)
{
	struct store_sink *s = ctx;

	idg_change_add(s->c, &(struct idg_mut){ .kind = IDG_MUT_GROUP_ADD,
	    .a = nm(s->nm->group, g) + GROUP_PREFIX_LEN, .b = g % 4 ? "idp" : "local", .t1 = CREATED });
	return s->c->err;
}

static int
s_member(void *ctx, unsigned g, unsigned u)
{
	struct store_sink *s = ctx;

	idg_change_add(s->c, &(struct idg_mut){ .kind = IDG_MUT_MEMBER_ADD,
	    .a = nm(s->nm->group, g) + GROUP_PREFIX_LEN, .b = nm(s->nm->user, u) });
	return s->c->err;
}

static int
s_binding(void *ctx, enum idg_rtype t, unsigned at, uint32_t subj, enum rs rs)
{
	struct store_sink *s = ctx;
	const char *subject = subj < s->sc->users ? nm(s->nm->user, subj) :
	    subj < s->sc->users + s->sc->groups ? nm(s->nm->group, subj - s->sc->users) :
	    IDG_SUBJECT_ALL;

	idg_change_add(s->c, &(struct idg_mut){ .kind = IDG_MUT_BINDING_SET, .rtype = (int)t,
	    .a = t == IDG_RT_CLUSTER ? "" : t == IDG_RT_PROJECT ? nm(s->nm->project, at) :
	    nm(s->nm->repo, at), .b = subject, .list = rolesets[rs].role, .nlist = rolesets[rs].n });
	return s->c->err;
}

/* ---------- the check mix ---------- */

static const int check_perm_numbers[] = {
	IDG_P_REPO_READ, IDG_P_REPO_WRITE, IDG_P_REPO_DELETE, IDG_P_PROJECT_CREATE_REPO,
};

/* One check, with its ids resolved and its names as a request would carry them. */
struct query {
	idg_pid who;
	idg_rid rid;
	int perm;
	uint8_t allowed;	/* the engine's answer: what idgated must say too */
	char user[NAME_W];
	char repo[NAME_W];
};

/* Half the checks ask about a user picked at random; the other half about someone bound
 * on the repo or its project (directly or through a group), so both answers are common. */
static unsigned
query_user(const struct model *m, struct rng *g, unsigned repo)
{
	idg_rid at = rng_below(g, 2) ? m->repo_rid[repo] : m->project_rid[repo / m->nm->per_project];
	size_t n = idg_rbac_binding_count(m->r, at), nr;
	const idg_role *roles;
	const idg_pid *members;
	idg_pid pid;

	if (rng_below(g, 2) == 0 || n == 0)
		return rng_below(g, m->sc->users);
	idg_rbac_binding_at(m->r, at, rng_below(g, (uint32_t)n), &pid, &roles, &nr);
	if (idg_rbac_principal_kind(m->r, pid) == IDG_PK_GROUP) {
		idg_rbac_members_of(m->r, pid, &members, &n);
		pid = n ? members[rng_below(g, (uint32_t)n)] : IDG_PID_NONE;
	}
	if (pid < idg_rbac_principal_limit(m->r) && m->pid_user[pid] != UINT32_MAX)
		return m->pid_user[pid];
	return rng_below(g, m->sc->users);
}

static size_t
make_queries(const struct model *m, struct query *q, size_t n)
{
	int perms[4];
	struct rng g;
	size_t yes = 0;

	for (size_t i = 0; i < 4; i++)
		perms[i] = idg_perm_index(check_perm_numbers[i]);
	rng_seed(&g, SEED ^ 0x9e3779b9u);
	for (size_t i = 0; i < n; i++) {
		unsigned repo = rng_below(&g, m->sc->repos), user = query_user(m, &g, repo);

		q[i].who = m->user_pid[user];
		q[i].rid = m->repo_rid[repo];
		q[i].perm = perms[rng_below(&g, 4)];
		q[i].allowed = idg_rbac_check(m->r, q[i].who, q[i].perm, q[i].rid, 0);
		memcpy(q[i].user, nm(m->nm->user, user), NAME_W);
		memcpy(q[i].repo, nm(m->nm->repo, repo), NAME_W);
		yes += q[i].allowed;
	}
	return yes;
}

/* ---------- in-process measurements ---------- */

enum mode { M_FLOOR, M_IDS, M_WARM, M_NAMES };

#define ROUNDS 5
#define WARM_REPEAT 16

/* A throughput loop run as ROUNDS rounds, so that the report shows how steady the host was. */
struct tput {
	size_t n, allowed;
	double secs;
	double ns_med, ns_min, ns_max;	/* per check, over the rounds */
};

/* The figures are total time over total count; the rounds only show the spread. */
static double
ns_per(const struct tput *t)
{
	return t->n ? t->secs * 1e9 / (double)t->n : 0;
}

static double
per_sec(const struct tput *t)
{
	return t->secs > 0 ? (double)t->n / t->secs : 0;
}

static inline bool
one_check(const struct idg_rbac *r, const struct query *x, enum mode mode)
{
	if (mode == M_NAMES)
		return idg_rbac_check(r, idg_rbac_principal_find(r, x->user), x->perm,
		    idg_rbac_resource_find(r, IDG_RT_REPO, x->repo), 0);
	return idg_rbac_check(r, x->who, x->perm, x->rid, 0);
}

static size_t
run_chunk(const struct idg_rbac *r, const struct query *q, size_t mask, size_t from, size_t to,
    enum mode mode)
{
	size_t yes = 0;

	switch (mode) {
	case M_FLOOR:
		/* The loop and the query's memory without the engine: what the harness costs. */
		for (size_t i = from; i < to; i++) {
			const struct query *x = &q[i & mask];

			yes += (x->who ^ x->rid ^ (uint32_t)x->perm ^ (uint32_t)x->user[6]) & 1;
		}
		break;
	case M_IDS:
		for (size_t i = from; i < to; i++)
			yes += one_check(r, &q[i & mask], M_IDS);
		break;
	case M_WARM:
		/* Each query WARM_REPEAT times in a row: what a check costs from the caches. */
		for (size_t i = from; i < to; i++)
			yes += one_check(r, &q[(i / WARM_REPEAT) & mask], M_IDS);
		break;
	case M_NAMES:
		for (size_t i = from; i < to; i++)
			yes += one_check(r, &q[i & mask], M_NAMES);
		break;
	}
	return yes;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* At most max checks or max_s seconds in all, whichever comes first, after a warm-up. */
static void
run_tput(const struct idg_rbac *r, const struct query *q, size_t ring, enum mode mode, size_t max,
    double max_s, struct tput *out)
{
	enum { CHUNK = 16384 };
	size_t mask = ring - 1, i = 0, rounds = 0;
	double ns[ROUNDS];

	memset(out, 0, sizeof(*out));
	(void)run_chunk(r, q, mask, 0, ring < 200000 ? ring : 200000, mode);
	while (rounds < ROUNDS && !interrupted) {
		size_t from = i, stop = max / ROUNDS * (rounds + 1);
		uint64_t t0 = now_ns();
		double el;

		while (i < stop && !interrupted) {
			size_t end = i + CHUNK < stop ? i + CHUNK : stop;

			out->allowed += run_chunk(r, q, mask, i, end, mode);
			i = end;
			if (secs_since(t0) >= max_s / ROUNDS)
				break;
		}
		el = secs_since(t0);
		out->secs += el;
		if (i > from)
			ns[rounds++] = el * 1e9 / (double)(i - from);
	}
	out->n = i;
	if (rounds == 0)
		return;
	qsort(ns, rounds, sizeof(ns[0]), cmp_double);
	out->ns_med = ns[rounds / 2];
	out->ns_min = ns[0];
	out->ns_max = ns[rounds - 1];
}

/* Memory latency of this host, as a yardstick for the checks: a dependent pointer chase
 * through bytes of 64-byte lines in a random cycle; at most steps loads or max_s. */
static double
chase_ns(size_t bytes, size_t steps, double max_s)
{
	size_t n = bytes / 64, i;
	uint32_t *next = aligned_alloc(64, n * 64), *order = malloc(n * sizeof(*order));
	struct rng g;
	uint32_t at = 0;
	uint64_t t0;
	double ns = 0;

	if (next == NULL || order == NULL)
		goto out;
	rng_seed(&g, SEED);
	for (i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	for (i = n - 1; i > 0; i--) {	/* Sattolo: one cycle through every line */
		uint32_t j = rng_below(&g, (uint32_t)i), tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < n; i++)
		next[(size_t)order[i] * 16] = order[(i + 1) % n] * 16;
	t0 = now_ns();
	for (i = 0; i < steps; i++) {
		at = next[at];
		if ((i & 65535) == 0 && secs_since(t0) >= max_s)
			break;
	}
	ns = (double)(now_ns() - t0) / (double)(i ? i : 1);
	if (at == UINT32_MAX)	/* keeps the chase */
		ns = -1;
out:
	free(next);
	free(order);
	return ns;
}

/* Time single checks; at most n of them or max_s seconds. */
static int
run_latency(const struct idg_rbac *r, const struct query *q, size_t ring, enum mode mode, size_t n,
    double max_s, const struct timer *tm, struct lat *out)
{
	uint32_t *t = malloc(n * sizeof(*t));
	uint64_t t0 = now_ns();
	size_t i, mask = ring - 1;

	memset(out, 0, sizeof(*out));
	if (t == NULL)
		return IDG_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		const struct query *x = &q[i & mask];
		uint64_t a, b;

		if ((i & 4095) == 0 && (interrupted || secs_since(t0) >= max_s))
			break;
		a = tick_begin();
		(void)one_check(r, x, mode);	/* a call into the library: never elided */
		b = tick_end();
		t[i] = b - a > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
	}
	lat_from(t, i, tm->ticks_per_ns, tm->overhead, out);
	free(t);
	return 0;
}

/* ---------- wire frames for the socket run ---------- */

struct frames {
	uint8_t *buf;
	size_t len, cap;
	size_t *off;
	uint32_t *flen;
	int8_t *expect;		/* 0 allowed, 1 denied, -1 any success (ping) */
	size_t n, max, max_len;
};

static void
frames_free(struct frames *f)
{
	free(f->buf);
	free(f->off);
	free(f->flen);
	free(f->expect);
	memset(f, 0, sizeof(*f));
}

static int
frames_init(struct frames *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	f->off = malloc(max * sizeof(*f->off));
	f->flen = malloc(max * sizeof(*f->flen));
	f->expect = malloc(max);
	if (!f->off || !f->flen || !f->expect) {
		frames_free(f);
		return IDG_ERR_NOMEM;
	}
	return 0;
}

/* Append the message m built so far as one frame; m is freed. */
static int
frames_add(struct frames *f, struct idg_msg *m, int expect)
{
	const uint8_t *frame;
	size_t len;

	frame = idg_msg_frame(m, &len);
	if (f->n == f->max)
		goto fail;
	if (f->len + len > f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 65536;
		uint8_t *nb;

		while (ncap < f->len + len)
			ncap *= 2;
		if ((nb = realloc(f->buf, ncap)) == NULL)
			goto fail;
		f->buf = nb;
		f->cap = ncap;
	}
	memcpy(f->buf + f->len, frame, len);
	f->off[f->n] = f->len;
	f->flen[f->n] = (uint32_t)len;
	f->expect[f->n++] = (int8_t)expect;
	f->len += len;
	if (len > f->max_len)
		f->max_len = len;
	idg_msg_free(m);
	return 0;
fail:
	idg_msg_free(m);
	return IDG_ERR_NOMEM;
}

static int
frames_from_queries(struct frames *f, const struct query *q, size_t n)
{
	int rc;

	if ((rc = frames_init(f, n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct idg_msg m;

		if (idg_msg_init(&m, IDG_WIRE_REQUEST_MAX) < 0 ||
		    idg_msg_add_u32(&m, IDG_T_OP, IDG_OP_CHECK) < 0 ||
		    idg_msg_add_str(&m, IDG_T_RTYPE, "repo") < 0 ||
		    idg_msg_add_str(&m, IDG_T_RNAME, q[i].repo) < 0 ||
		    idg_msg_add_str(&m, IDG_T_SUBJECT, q[i].user) < 0 ||
		    idg_msg_add_str(&m, IDG_T_PERM, idg_perm_name(q[i].perm)) < 0) {
			idg_msg_free(&m);
			return IDG_ERR_NOMEM;
		}
		if ((rc = frames_add(f, &m, q[i].allowed ? 0 : 1)) < 0)
			return rc;
	}
	return 0;
}

static int
frames_ping(struct frames *f)
{
	struct idg_msg m;
	int rc;

	if ((rc = frames_init(f, 1)) < 0)
		return rc;
	if (idg_msg_init(&m, IDG_WIRE_REQUEST_MAX) < 0 || idg_msg_add_u32(&m, IDG_T_OP, IDG_OP_PING) < 0) {
		idg_msg_free(&m);
		return IDG_ERR_NOMEM;
	}
	return frames_add(f, &m, -1);
}

/* ---------- one model: build, measure, report ---------- */

struct limits {
	size_t ring;		/* distinct queries (a power of two) */
	size_t checks;		/* per throughput loop */
	double secs;		/* per throughput or latency loop */
	size_t samples;		/* timed single checks */
	size_t sock_ring;	/* distinct request frames */
	size_t sock_seq;	/* sequential round trips */
	size_t sock_pipe;	/* pipelined requests */
	double sock_secs;	/* per socket loop */
	double start_secs;	/* longest wait for idgated to load its state */
};

struct phase {
	const char *title;
	struct scale sc;
	bool ran;
	double build_s, path, allowed;
	long rss_kb;
	size_t bindings, members;
	struct tput floor, ids, warm, names;
	struct lat lat_ids, lat_names;
};

static double
path_average(const struct model *m)
{
	double sum = 0;

	for (unsigned r = 0; r < m->sc->repos; r++) {
		idg_rid rid = m->repo_rid[r];

		for (; rid != IDG_RID_NONE; rid = idg_rbac_resource_parent(m->r, rid))
			sum += (double)idg_rbac_binding_count(m->r, rid);
	}
	return sum / m->sc->repos;
}

static void
print_lat(const char *label, const struct lat *l)
{
	printf("    %-34s p50 %6.0f  p90 %6.0f  p99 %6.0f  p99.9 %6.0f  max %s  (ns, %s samples)\n",
	    label, l->p50, l->p90, l->p99, l->p999, num((uint64_t)l->max), num(l->n));
}

static void
print_tput(const char *label, const struct tput *t, const struct tput *base)
{
	char rel[64] = "";

	if (base)
		snprintf(rel, sizeof(rel), ", %.2fx the first", ns_per(t) / ns_per(base));
	printf("    %-30s %6.2f M/s %8.1f ns each  (%s in %.2f s; rounds %.0f-%.0f ns%s)\n", label,
	    per_sec(t) / 1e6, ns_per(t), num(t->n), t->secs, t->ns_min, t->ns_max, rel);
}

static void
print_phase(const struct phase *ph, const struct limits *lim, const struct timer *tm)
{
	printf("  built in %.2f s: %s bindings in the engine (+ root's clusterAdmin), %s group "
	    "memberships\n", ph->build_s, num(ph->bindings), num(ph->members));
	printf("  memory: VmRSS grew %.1f MiB while building (%.0f bytes per binding, everything "
	    "included)\n", (double)ph->rss_kb / 1024, (double)ph->rss_kb * 1024 / (double)ph->bindings);
	printf("  path of a checked repo: %.1f bindings on average (repo + project + cluster)\n",
	    ph->path);
	printf("  check mix: %s distinct queries, %.1f %% allowed; REPO_READ, REPO_WRITE, "
	    "REPO_DELETE, PROJECT_CREATE_REPO on random repos\n", num(lim->ring), ph->allowed);
	printf("  throughput, one core (at most %s checks or %.0f s per loop, in %d rounds):\n",
	    num(lim->checks), lim->secs, ROUNDS);
	print_tput("loop floor (no check)", &ph->floor, NULL);
	print_tput("idg_rbac_check, ids resolved", &ph->ids, NULL);
	print_tput("the same, cache-warm", &ph->warm, &ph->ids);
	print_tput("with name lookups", &ph->names, &ph->ids);
	if (tm->mem_large_ns > 0)
		printf("    a check from memory costs %.1f memory latencies of this host (%.0f ns each, "
		    "see the top)\n", ns_per(&ph->ids) / tm->mem_large_ns, tm->mem_large_ns);
	printf("  latency of single checks (%s at %.3f GHz; timer overhead %.1f ns subtracted):\n",
	    HAVE_TSC ? "rdtsc" : "clock_gettime", tm->ticks_per_ns, tm->overhead / tm->ticks_per_ns);
	print_lat("ids resolved", &ph->lat_ids);
	print_lat("with name lookups", &ph->lat_names);
}

/* Build the model of ph->sc, measure it; with frames, also keep the socket run's requests. */
static int
run_phase(struct phase *ph, const struct limits *lim, const struct timer *tm, struct frames *frames)
{
	struct names n = { 0 };
	struct model m;
	struct query *q = NULL;
	char desc[256];
	long rss0;
	uint64_t t0;
	int rc;

	scale_describe(&ph->sc, desc, sizeof(desc));
	printf("\n== %s: %s ==\n", ph->title, desc);
	fflush(stdout);
	if ((rc = scale_check(&ph->sc)) < 0 || (rc = names_make(&ph->sc, &n)) < 0 ||
	    (rc = model_prepare(&m, &ph->sc, &n)) < 0)
		goto out;
	release_freed_memory();
	rss0 = status_kb(0, "VmRSS");
	t0 = now_ns();
	if ((rc = model_build(&m)) < 0)
		goto out;
	ph->build_s = secs_since(t0);
	ph->rss_kb = status_kb(0, "VmRSS") - rss0;
	ph->bindings = idg_rbac_binding_total(m.r) - 1;
	ph->members = m.members;
	ph->path = path_average(&m);
	if ((q = malloc(lim->ring * sizeof(*q))) == NULL) {
		rc = IDG_ERR_NOMEM;
		goto out;
	}
	ph->allowed = 100.0 * (double)make_queries(&m, q, lim->ring) / (double)lim->ring;
	run_tput(m.r, q, lim->ring, M_FLOOR, lim->checks, lim->secs, &ph->floor);
	run_tput(m.r, q, lim->ring, M_IDS, lim->checks, lim->secs, &ph->ids);
	run_tput(m.r, q, lim->ring, M_WARM, lim->checks, lim->secs, &ph->warm);
	run_tput(m.r, q, lim->ring, M_NAMES, lim->checks, lim->secs, &ph->names);
	if ((rc = run_latency(m.r, q, lim->ring, M_IDS, lim->samples, lim->secs, tm, &ph->lat_ids)) < 0 ||
	    (rc = run_latency(m.r, q, lim->ring, M_NAMES, lim->samples, lim->secs, tm,
	    &ph->lat_names)) < 0)
		goto out;
	if (interrupted) {
		rc = IDG_ERR_TIMEOUT;
		goto out;
	}
	ph->ran = true;
	print_phase(ph, lim, tm);
	if (frames && (rc = frames_from_queries(frames, q,
	    lim->sock_ring < lim->ring ? lim->sock_ring : lim->ring)) < 0)
		goto out;
out:
	if (rc < 0)
		printf("  FAILED: %s\n", idg_strerror(rc));
	fflush(stdout);
	free(q);
	model_free(&m);
	names_free(&n);
	release_freed_memory();
	return rc;
}

/* ---------- idgated: a private instance ---------- */

struct verify {
	size_t n, allowed, denied, mismatch, errors;
	char first[256];
};

static void
verify_reply(struct verify *v, const uint8_t *body, size_t len, int expect)
{
	struct idg_msgview mv;
	uint32_t st = UINT32_MAX;
	bool answer, ok;

	v->n++;
	if (idg_msg_parse(body, len, &mv) < 0 || idg_msg_get_u32(&mv, IDG_T_STATUS, &st) < 0)
		st = UINT32_MAX;
	answer = st == IDG_ST_OK || st == IDG_ST_DENIED;
	v->allowed += st == IDG_ST_OK;
	v->denied += st == IDG_ST_DENIED;
	ok = expect < 0 ? st == IDG_ST_OK : answer && (st == IDG_ST_DENIED) == (expect == 1);
	if (!ok) {
		const char *e = NULL;

		if (answer)
			v->mismatch++;
		else
			v->errors++;
		if (v->first[0] == '\0') {
			(void)idg_msg_get_str(&mv, IDG_T_ERROR, &e);
			snprintf(v->first, sizeof(v->first), "status %u (expected %s): %.180s", st,
			    expect < 0 ? "0" : expect ? "1, denied" : "0, allowed", e ? e : "(no message)");
		}
	}
	idg_msgview_free(&mv);
}

static int
sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One request and its reply with the project's client helpers (what idgatectl does). */
static int
round_trip(int fd, const struct frames *f, size_t k, struct verify *v)
{
	uint8_t *body;
	size_t len;
	int rc;

	if ((rc = idg_wire_send(fd, f->buf + f->off[k], f->flen[k], -1, IO_TIMEOUT_MS)) < 0 ||
	    (rc = idg_wire_recv(fd, IDG_WIRE_REPLY_MAX, &body, &len, NULL, IO_TIMEOUT_MS)) < 0)
		return rc;
	verify_reply(v, body, len, f->expect[k]);
	free(body);
	return 0;
}

struct seqres {
	struct lat lat;
	double rps;
};

static int
run_sequential(const char *sock, const struct frames *f, size_t max, double max_s,
    struct seqres *out, struct verify *v)
{
	uint32_t *t = malloc(max * sizeof(*t));
	int fd = sock_connect(sock), rc = 0;
	uint64_t t0 = now_ns();
	size_t i;

	memset(out, 0, sizeof(*out));
	if (t == NULL || fd < 0) {
		rc = t ? IDG_ERR_UNAVAIL : IDG_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < max; i++) {
		uint64_t a;

		if ((i & 15) == 0 && (interrupted || secs_since(t0) >= max_s))
			break;
		a = now_ns();
		if ((rc = round_trip(fd, f, i % f->n, v)) < 0)
			break;
		t[i] = (uint32_t)(now_ns() - a);
	}
	out->rps = (double)i / secs_since(t0);
	lat_from(t, i, 1.0, 0, &out->lat);
out:
	if (fd >= 0)
		close(fd);
	free(t);
	return rc;
}

/* ---------- pipelining: up to WINDOW requests in flight on each connection ---------- */

struct pconn {
	int fd;
	size_t sent, recvd;
	uint8_t *in, *out;
	size_t in_len, in_cap, out_off, out_len, out_cap;
};

/* Queue this connection's next request; requests go round-robin over the connections. */
static void
pconn_queue(struct pconn *c, const struct frames *f, unsigned ci, unsigned nconn)
{
	size_t k = (c->sent * nconn + ci) % f->n;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	memcpy(c->out + c->out_len, f->buf + f->off[k], f->flen[k]);
	c->out_len += f->flen[k];
	c->sent++;
}

static int
pconn_flush(struct pconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : IDG_ERR_IO;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Read what has arrived and check every complete reply against its request. */
static int
pconn_read(struct pconn *c, const struct frames *f, unsigned ci, unsigned nconn, struct verify *v)
{
	size_t pos = 0;

	for (;;) {
		ssize_t n;

		if (c->in_len == c->in_cap)
			return IDG_ERR_TOOBIG;	/* a reply larger than the buffer: not a check's */
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n == 0)
			return IDG_ERR_UNAVAIL;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return IDG_ERR_IO;
		}
		c->in_len += (size_t)n;
		if (c->in_len < c->in_cap)
			break;
		/* The buffer filled: take the replies out before reading on. */
		while (c->in_len - pos >= IDG_WIRE_HDR) {
			uint32_t blen = idg_wire_body_len(c->in + pos);

			if (c->in_len - pos - IDG_WIRE_HDR < blen)
				break;
			verify_reply(v, c->in + pos + IDG_WIRE_HDR, blen,
			    f->expect[(c->recvd * nconn + ci) % f->n]);
			c->recvd++;
			pos += IDG_WIRE_HDR + blen;
		}
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
		pos = 0;
	}
	while (c->in_len - pos >= IDG_WIRE_HDR) {
		uint32_t blen = idg_wire_body_len(c->in + pos);

		if (c->in_len - pos - IDG_WIRE_HDR < blen)
			break;
		verify_reply(v, c->in + pos + IDG_WIRE_HDR, blen, f->expect[(c->recvd * nconn + ci) % f->n]);
		c->recvd++;
		pos += IDG_WIRE_HDR + blen;
	}
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return 0;
}

static void
pconns_free(struct pconn *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (c[i].fd >= 0)
			close(c[i].fd);
		free(c[i].in);
		free(c[i].out);
	}
}

/* One step of the loop: fill the windows, send, wait, read. */
static int
pipe_step(struct pconn *c, unsigned nconn, const struct frames *f, bool sending, size_t max,
    size_t *total, struct verify *v, bool *done)
{
	struct pollfd p[2];
	int rc, r;

	*done = true;
	if (nconn > 2)
		return IDG_ERR_INVAL;
	for (unsigned i = 0; i < nconn; i++) {
		while (sending && *total < max && c[i].sent - c[i].recvd < WINDOW) {
			pconn_queue(&c[i], f, i, nconn);
			(*total)++;
		}
		if (c[i].recvd < c[i].sent)
			*done = false;
		if ((rc = pconn_flush(&c[i])) < 0)
			return rc;
		p[i].fd = c[i].fd;
		p[i].events = (short)(POLLIN | (c[i].out_len ? POLLOUT : 0));
		p[i].revents = 0;
	}
	if (*done)
		return 0;
	if ((r = poll(p, nconn, IO_TIMEOUT_MS)) == 0)
		return IDG_ERR_TIMEOUT;
	if (r < 0)
		return errno == EINTR ? 0 : IDG_ERR_IO;
	for (unsigned i = 0; i < nconn; i++)
		if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (rc = pconn_read(&c[i], f, i, nconn, v)) < 0)
			return rc;
	return 0;
}

static int
run_pipelined(const char *sock, const struct frames *f, unsigned nconn, size_t max, double max_s,
    double *rps, struct verify *v)
{
	struct pconn c[2];
	size_t total = 0, got = 0;
	uint64_t t0;
	bool done = false;
	int rc = 0;

	*rps = 0;
	memset(c, 0, sizeof(c));
	for (unsigned i = 0; i < 2; i++)
		c[i].fd = -1;
	for (unsigned i = 0; i < nconn && i < 2; i++) {
		c[i].in_cap = 1u << 20;
		c[i].out_cap = WINDOW * f->max_len;
		c[i].in = malloc(c[i].in_cap);
		c[i].out = malloc(c[i].out_cap);
		if ((c[i].fd = sock_connect(sock)) < 0 || !c[i].in || !c[i].out) {
			pconns_free(c, 2);
			return IDG_ERR_UNAVAIL;
		}
	}
	t0 = now_ns();
	/* Sending stops at max requests or max_s; the replies in flight are then drained,
	 * within max_s + 30 s in all. */
	while (!done && rc == 0) {
		double el = secs_since(t0);
		bool sending = !interrupted && el < max_s;

		if (el > max_s + 30) {
			rc = IDG_ERR_TIMEOUT;
			break;
		}
		rc = pipe_step(c, nconn, f, sending, max, &total, v, &done);
		if (!sending && interrupted)
			break;
	}
	for (unsigned i = 0; i < nconn; i++)
		got += c[i].recvd;
	*rps = (double)got / secs_since(t0);
	pconns_free(c, 2);
	return rc;
}

/* ---------- the private idgated ---------- */

struct sockres {
	bool ran, skipped;
	double gen_s, apply_s, start_s;
	size_t mutations, daemon_bindings, warnings;
	char first_warning[256];	/* shown, so a count is never unexplained */
	long db_kb, rss_kb, hwm_kb, rss_after_kb;
	struct seqres seq_check, seq_ping;
	struct seqres pin_check, pin_ping;	/* client and idgated on one CPU */
	int pin_cpu;
	double pipe_ping, pipe1, pipe2;
	struct verify checks, pings;
	int exit_status;
};

/* Start argv[0] with stdout and stderr to log; it gets SIGTERM if we die. */
static pid_t
spawn(const char *const argv[], const char *log)
{
	pid_t parent = getpid(), pid = fork();

	if (pid != 0)
		return pid;
	{
		sigset_t none;
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* Its own session: a ^C meant for the benchmark must not stop the daemon under it
		 * (the benchmark stops it with SIGTERM), and it must not outlive the benchmark. */
		if (setsid() < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(126);
		if (fd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
}

/* Wait for pid at most secs; -1 if it is still running. */
static int
wait_exit(pid_t pid, double secs)
{
	uint64_t t0 = now_ns();
	int st;

	for (unsigned i = 0; i < 100000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0 && errno != EINTR)
			return -2;
		if (secs_since(t0) >= secs)
			break;
		sleep_ms(5);
	}
	return -1;
}

static void
print_file(const char *path, const char *indent, size_t max_lines)
{
	char line[512];
	size_t n = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return;
	while (n < max_lines && fgets(line, sizeof(line), f)) {
		printf("%s%s", indent, line);
		n++;
	}
	fclose(f);
}

static int
write_conf(const char *dir, const char *conf)
{
	int fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	FILE *f;
	int rc;

	if (fd < 0)
		return IDG_ERR_IO;
	/* idgated wants its file root-owned and not group- or other-writable. */
	if (fchmod(fd, 0644) < 0 || (f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return IDG_ERR_IO;
	}
	fprintf(f, "# written by bench/rbac\n[daemon]\nrun_dir = %s/run\nstate_dir = %s/state\n"
	    "audit_log = %s/log/audit.log\nlog = stderr\nlog_level = notice\n"
	    "[store]\npath = %s/state/state.db\nsynchronous = normal\n[data]\nroot = %s/repos\n"
	    "[nss]\nsnapshot = %s/nss/nss.snapshot\n",
	    dir, dir, dir, dir, dir, dir);
	rc = ferror(f);
	return fclose(f) == 0 && rc == 0 ? 0 : IDG_ERR_IO;
}

/* The same data set as the in-process 1x model, as one change of mutations. */
static int
store_write(const char *db, const struct scale *sc, struct sockres *res, char *err, size_t errlen)
{
	struct idg_store_conf conf = { .path = db, .sync_full = false };
	struct idg_store *st = NULL;
	struct idg_change c;
	struct names n = { 0 };
	struct store_sink ss = { &c, sc, &n };
	struct sink k = { &ss, s_project, s_repo, s_group, s_member, s_binding };
	struct stat sb;
	uint64_t t0 = now_ns();
	int rc;

	idg_change_init(&c);
	if ((rc = names_make(sc, &n)) < 0 || (rc = gen_dataset(sc, &k)) < 0) {
		snprintf(err, errlen, "building the change: %s", idg_strerror(rc));
		goto out;
	}
	/* An activated store: without the key idgated would add its activation defaults. */
	idg_change_add(&c, &(struct idg_mut){ .kind = IDG_MUT_META_SET, .a = "activated", .b = "yes" });
	if (c.err) {
		rc = c.err;
		snprintf(err, errlen, "building the change: %s", idg_strerror(rc));
		goto out;
	}
	res->mutations = c.n;
	res->gen_s = secs_since(t0);
	t0 = now_ns();
	if ((rc = idg_store_sqlite.open(&conf, &st, err, errlen)) < 0 ||
	    (rc = idg_store_sqlite.apply(st, &c, err, errlen)) < 0)
		goto out;
	idg_store_sqlite.close(st);
	st = NULL;
	res->apply_s = secs_since(t0);
	res->db_kb = stat(db, &sb) == 0 ? (long)(sb.st_size / 1024) : -1;
out:
	if (st)
		idg_store_sqlite.close(st);
	idg_change_free(&c);
	names_free(&n);
	release_freed_memory();
	return rc;
}

/* Until a ping over api.sock succeeds, the daemon exits, or max_s passes. */
static int
wait_ready(pid_t pid, const char *sock, uint64_t t0, double max_s)
{
	struct frames ping;
	int rc = IDG_ERR_TIMEOUT;

	if (frames_ping(&ping) < 0)
		return IDG_ERR_NOMEM;
	for (unsigned i = 0; i < 1000000 && !interrupted && secs_since(t0) < max_s; i++) {
		struct verify v = { 0 };
		int fd, st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			rc = IDG_ERR_UNAVAIL;
			break;
		}
		if ((fd = sock_connect(sock)) >= 0) {
			int r = round_trip(fd, &ping, 0, &v);

			close(fd);
			if (r == 0 && v.errors == 0) {
				rc = 0;
				break;
			}
		}
		sleep_ms(i < 100 ? 5 : 20);
	}
	frames_free(&ping);
	return rc;
}

/* "(N bindings)" from idgated's ready line, and how many warnings it logged. */
static void
scan_log(const char *path, struct sockres *res)
{
	char line[1024];
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return;
	for (size_t n = 0; n < 100000 && fgets(line, sizeof(line), f); n++) {
		char *p = strstr(line, " bindings)");

		if (strstr(line, "warning") || strstr(line, "ignored")) {
			if (res->warnings++ == 0)
				snprintf(res->first_warning, sizeof(res->first_warning), "%.*s",
				    (int)strcspn(line, "\n"), line);
		}
		if (p && strstr(line, "ready")) {
			while (p > line && p[-1] != '(')
				p--;
			res->daemon_bindings = strtoull(p, NULL, 10);
		}
	}
	fclose(f);
}

static void
print_verify(const char *what, const struct verify *v)
{
	if (v->mismatch == 0 && v->errors == 0) {
		printf("    %s: %s replies, every one as the in-process engine answered (%s allowed, %s "
		    "denied)\n", what, num(v->n), num(v->allowed), num(v->denied));
		return;
	}
	printf("    %s: %s replies, %s DIFFERENT from the in-process engine, %s errors; first: %s\n",
	    what, num(v->n), num(v->mismatch), num(v->errors), v->first);
}

/* Sequential round trips with the client and idgated pinned to one CPU: without a
 * cross-CPU wake-up per message, what is left is the daemon's and the kernel's own cost. */
static int
measure_pinned(const char *sock, pid_t pid, const struct frames *checks, const struct frames *ping,
    const struct limits *lim, struct sockres *res)
{
	cpu_set_t mine, theirs, one;
	int rc;

	res->pin_cpu = -1;
	if (sched_getaffinity(0, sizeof(mine), &mine) < 0 ||
	    sched_getaffinity(pid, sizeof(theirs), &theirs) < 0 || (res->pin_cpu = sched_getcpu()) < 0)
		return 0;
	CPU_ZERO(&one);
	CPU_SET(res->pin_cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0 || sched_setaffinity(pid, sizeof(one), &one) < 0) {
		sched_setaffinity(0, sizeof(mine), &mine);
		res->pin_cpu = -1;
		return 0;
	}
	if ((rc = run_sequential(sock, ping, lim->sock_seq, lim->sock_secs, &res->pin_ping,
	    &res->pings)) == 0)
		rc = run_sequential(sock, checks, lim->sock_seq, lim->sock_secs, &res->pin_check,
		    &res->checks);
	sched_setaffinity(pid, sizeof(theirs), &theirs);
	sched_setaffinity(0, sizeof(mine), &mine);
	return rc;
}

static int
measure_socket(const char *sock, pid_t pid, const struct frames *checks, const struct limits *lim,
    struct sockres *res)
{
	struct frames ping;
	int rc;

	if ((rc = frames_ping(&ping)) < 0)
		return rc;
	printf("  measuring (sequential: at most %s round trips or %.0f s; pipelined: at most %s "
	    "requests or %.0f s, %d in flight per connection)\n", num(lim->sock_seq), lim->sock_secs,
	    num(lim->sock_pipe), lim->sock_secs, WINDOW);
	fflush(stdout);
	if ((rc = run_sequential(sock, &ping, lim->sock_seq, lim->sock_secs, &res->seq_ping,
	    &res->pings)) < 0 ||
	    (rc = run_sequential(sock, checks, lim->sock_seq, lim->sock_secs, &res->seq_check,
	    &res->checks)) < 0 ||
	    (rc = measure_pinned(sock, pid, checks, &ping, lim, res)) < 0 ||
	    (rc = run_pipelined(sock, &ping, 1, lim->sock_pipe, lim->sock_secs, &res->pipe_ping,
	    &res->pings)) < 0 ||
	    (rc = run_pipelined(sock, checks, 1, lim->sock_pipe, lim->sock_secs, &res->pipe1,
	    &res->checks)) < 0 ||
	    (rc = run_pipelined(sock, checks, 2, lim->sock_pipe, lim->sock_secs, &res->pipe2,
	    &res->checks)) < 0)
		printf("  socket run failed: %s\n", idg_strerror(rc));
	else if (interrupted)
		rc = IDG_ERR_TIMEOUT;
	frames_free(&ping);
	return rc;
}

static void
print_seq(const char *label, const struct seqres *r)
{
	printf("    %-12s p50 %6.1f us  p90 %6.1f  p99 %6.1f  p99.9 %6.1f  max %7.1f   %s req/s\n",
	    label, r->lat.p50 / 1e3, r->lat.p90 / 1e3, r->lat.p99 / 1e3, r->lat.p999 / 1e3,
	    r->lat.max / 1e3, num((uint64_t)r->rps));
}

static void
print_socket(const struct sockres *r)
{
	printf("  sequential request/reply, one connection (idg_wire_send + idg_wire_recv), "
	    "the scheduler placing client and daemon:\n");
	print_seq("ping", &r->seq_ping);
	print_seq("check", &r->seq_check);
	printf("    check/ping: %.2fx at p50, %.2fx at p99\n", r->seq_check.lat.p50 / r->seq_ping.lat.p50,
	    r->seq_check.lat.p99 / r->seq_ping.lat.p99);
	if (r->pin_cpu >= 0) {
		printf("  the same with client and idgated pinned to CPU %d (no cross-CPU wake-ups):\n",
		    r->pin_cpu);
		print_seq("ping", &r->pin_ping);
		print_seq("check", &r->pin_check);
		printf("    check/ping: %.2fx at p50, %.2fx at p99\n",
		    r->pin_check.lat.p50 / r->pin_ping.lat.p50, r->pin_check.lat.p99 / r->pin_ping.lat.p99);
	}
	printf("  pipelined (%d in flight per connection), the scheduler placing client and daemon:\n",
	    WINDOW);
	printf("    ping, 1 connection     %10s req/s\n", num((uint64_t)r->pipe_ping));
	printf("    check, 1 connection    %10s req/s   (cost per request %.2fx a ping's)\n",
	    num((uint64_t)r->pipe1), r->pipe_ping / r->pipe1);
	printf("    check, 2 connections   %10s req/s   (%.2fx one connection)\n",
	    num((uint64_t)r->pipe2), r->pipe2 / r->pipe1);
	printf("  idgated VmRSS after the run: %.1f MiB\n", (double)r->rss_after_kb / 1024);
	print_verify("checks", &r->checks);
	print_verify("pings", &r->pings);
}

/* Store, config, daemon, measurements, then stop and clean up whatever happened. */
static int
socket_phase(const char *idgated, const struct scale *sc, const struct frames *checks,
    const struct limits *lim, struct sockres *res)
{
	char dir[] = "/tmp/idgate-bench.XXXXXX", conf[128], state[128], db[128], log[128], sock[128];
	char err[512];
	const char *check_argv[] = { idgated, "-n", "-c", conf, NULL };
	const char *run_argv[] = { idgated, "-f", "-c", conf, NULL };
	pid_t pid = -1;
	uint64_t t0;
	int rc = 0, st;

	printf("\n== through api.sock: a private idgated with the 1x data set ==\n");
	if (geteuid() != 0 || access(idgated, X_OK) < 0) {
		printf("  skipped: %s\n", geteuid() != 0 ? "idgated must run as root" :
		    "no idgated to run (pass --idgated PATH or set IDGATED)");
		res->skipped = true;
		return 0;
	}
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0) {
		printf("  cannot make a temporary directory: %s\n", strerror(errno));
		return IDG_ERR_IO;
	}
	snprintf(conf, sizeof(conf), "%s/idgate.conf", dir);
	snprintf(db, sizeof(db), "%s/state/state.db", dir);
	snprintf(log, sizeof(log), "%s/daemon.log", dir);
	snprintf(sock, sizeof(sock), "%s/run/api.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	printf("  directory %s, daemon %s\n", dir, idgated);
	if (mkdir(state, 0700) < 0 || write_conf(dir, conf) < 0 ||
	    (pid = spawn(check_argv, log)) < 0) {
		printf("  cannot write %s or start %s: %s\n", conf, idgated, strerror(errno));
		rc = IDG_ERR_IO;
		goto out;
	}
	if ((st = wait_exit(pid, 30)) != 0) {
		printf("  idgated -n -c %s failed (status %d):\n", conf, st);
		print_file(log, "    | ", 20);
		if (st != -1)
			pid = -1;	/* exited; one still running is stopped below */
		rc = IDG_ERR_CONFIG;
		goto out;
	}
	pid = -1;
	printf("  config: ");
	print_file(log, "", 1);
	(void)!truncate(log, 0);	/* from here on the log is the daemon's */
	fflush(stdout);
	if ((rc = store_write(db, sc, res, err, sizeof(err))) < 0) {
		printf("  writing the store failed: %s\n", err);
		goto out;
	}
	printf("  store: %s mutations generated in %.2f s, applied as one change in %.2f s; "
	    "state.db %.1f MiB\n", num(res->mutations), res->gen_s, res->apply_s,
	    (double)res->db_kb / 1024);
	fflush(stdout);
	t0 = now_ns();
	if ((pid = spawn(run_argv, log)) < 0)
		rc = IDG_ERR_IO;
	else
		rc = wait_ready(pid, sock, t0, lim->start_secs);
	if (rc < 0) {
		printf("  idgated did not become ready (%s); its log:\n", idg_strerror(rc));
		print_file(log, "    | ", 30);
		goto out;
	}
	res->start_s = secs_since(t0);
	res->rss_kb = status_kb(pid, "VmRSS");
	res->hwm_kb = status_kb(pid, "VmHWM");
	scan_log(log, res);
	printf("  idgated ready in %.2f s (exec to the first ping answered); it loaded %s bindings "
	    "(+ root's); VmRSS %.1f MiB (peak %.1f MiB); %s warnings in its log\n", res->start_s,
	    num(res->daemon_bindings ? res->daemon_bindings - 1 : 0), (double)res->rss_kb / 1024,
	    (double)res->hwm_kb / 1024, num(res->warnings));
	if (res->warnings > 0)
		printf("    the first: %s\n", res->first_warning);
	fflush(stdout);
	rc = measure_socket(sock, pid, checks, lim, res);
	res->rss_after_kb = status_kb(pid, "VmRSS");
	if (rc == 0) {
		res->ran = true;
		print_socket(res);
	}
out:
	if (pid > 0) {
		kill(pid, SIGTERM);
		if ((res->exit_status = wait_exit(pid, 30)) == -1) {
			kill(pid, SIGKILL);
			res->exit_status = wait_exit(pid, 10);
		}
		printf("  idgated stopped with SIGTERM: exit status %d\n", res->exit_status);
		if (res->exit_status != 0)
			print_file(log, "    | ", 30);
	}
	if (rm_rf(dir) < 0)
		printf("  could not remove %s: %s\n", dir, strerror(errno));
	fflush(stdout);
	return rc;
}

/* ---------- the report ---------- */

static void
print_scaling(const struct phase *ph, size_t n)
{
	const struct phase *b = &ph[0];

	printf("\n== scaling: cost per check relative to 1x, same check mix ==\n");
	printf("  %-44s %9s %7s %9s %7s %8s %8s\n", "", "ids ns", "ratio", "names ns", "ratio",
	    "p99 ns", "path");
	for (size_t i = 0; i < n; i++) {
		if (!ph[i].ran)
			continue;
		printf("  %-44s %9.1f %6.2fx %9.1f %6.2fx %8.0f %8.1f\n", ph[i].title, ns_per(&ph[i].ids),
		    ns_per(&ph[i].ids) / ns_per(&b->ids), ns_per(&ph[i].names),
		    ns_per(&ph[i].names) / ns_per(&b->names), ph[i].lat_ids.p99, ph[i].path);
	}
}

static void
print_summary(const struct phase *ph, const struct sockres *s, bool socket, double mem_ns,
    double total_s)
{
	const struct phase *b = &ph[0], *big = &ph[1], *deep = &ph[2];
	char desc[256];

	scale_describe(&b->sc, desc, sizeof(desc));
	printf("\n==== summary ====\n");
	printf("in-process, one core (%s):\n", desc);
	printf("  checks, ids resolved:  %5.2f M checks/s (target >= 2 M)   p50 %.0f ns, p99 %.0f ns "
	    "(target < 1000 ns), p99.9 %.0f ns\n", per_sec(&b->ids) / 1e6, b->lat_ids.p50,
	    b->lat_ids.p99, b->lat_ids.p999);
	printf("  with name lookups:     %5.2f M checks/s                    p50 %.0f ns, p99 %.0f ns\n",
	    per_sec(&b->names) / 1e6, b->lat_names.p50, b->lat_names.p99);
	printf("  where the time goes:   %.0f ns per check from the caches vs %.0f ns from memory; "
	    "this host's memory latency is %.0f ns\n", ns_per(&b->warm), ns_per(&b->ids), mem_ns);
	printf("  engine memory:         %.0f MiB VmRSS for the store (target < 512 MiB); built in "
	    "%.1f s\n", (double)b->rss_kb / 1024, b->build_s);
	if (big->ran)
		printf("  10x store, same path:  %.2fx the 1x cost per check (target < 2), %.2fx with "
		    "lookups; %.0f MiB\n", ns_per(&big->ids) / ns_per(&b->ids),
		    ns_per(&big->names) / ns_per(&b->names), (double)big->rss_kb / 1024);
	if (deep->ran)
		printf("  10x bindings per path: %.2fx the 1x cost (path %.0f -> %.0f bindings; for "
		    "information)\n", ns_per(&deep->ids) / ns_per(&b->ids), b->path, deep->path);
	if (socket && s->ran) {
		printf("through api.sock (idgated, one event-loop thread; client on the same host):\n");
		printf("  start-up with %s bindings: %.1f s; idgated VmRSS %.0f MiB\n",
		    num(s->daemon_bindings ? s->daemon_bindings - 1 : 0), s->start_s,
		    (double)s->rss_kb / 1024);
		printf("  sequential check: p50 %.1f us, p99 %.1f us, %s req/s   (ping p50 %.1f us: "
		    "check/ping %.2fx)\n", s->seq_check.lat.p50 / 1e3, s->seq_check.lat.p99 / 1e3,
		    num((uint64_t)s->seq_check.rps), s->seq_ping.lat.p50 / 1e3,
		    s->seq_check.lat.p50 / s->seq_ping.lat.p50);
		if (s->pin_cpu >= 0)
			printf("    client and idgated on one CPU: p50 %.1f us, p99 %.1f us, %s req/s   (ping "
			    "p50 %.1f us: check/ping %.2fx)\n", s->pin_check.lat.p50 / 1e3,
			    s->pin_check.lat.p99 / 1e3, num((uint64_t)s->pin_check.rps),
			    s->pin_ping.lat.p50 / 1e3, s->pin_check.lat.p50 / s->pin_ping.lat.p50);
		printf("  pipelined check (%d in flight): %s req/s on 1 connection, %s on 2   (ping %s: "
		    "check/ping cost %.2fx)\n", WINDOW, num((uint64_t)s->pipe1), num((uint64_t)s->pipe2),
		    num((uint64_t)s->pipe_ping), s->pipe_ping / s->pipe1);
		printf("  answers: %s checks over the socket, %s differing from the engine, %s errors\n",
		    num(s->checks.n), num(s->checks.mismatch), num(s->checks.errors));
	} else if (socket) {
		printf("through api.sock: %s (see above)\n", s->skipped ? "skipped" :
		    interrupted ? "interrupted" : "FAILED");
	}
	printf("total run time %.0f s; this program's peak VmRSS %.0f MiB\n", total_s,
	    (double)status_kb(0, "VmHWM") / 1024);
}

static void
print_host(const struct timer *tm, int cpu)
{
	char model[256];
	struct utsname u;

	cpu_model(model, sizeof(model));
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	printf("bench/rbac (idgate %s): %s, %ld CPUs online, Linux %s\n", PACKAGE_VERSION, model,
	    sysconf(_SC_NPROCESSORS_ONLN), u.release);
	printf("clock for single checks: %s, %.3f ticks/ns, empty timed region %.1f ns (subtracted)\n",
	    tm->source, tm->ticks_per_ns, tm->overhead / tm->ticks_per_ns);
	printf("memory latency (dependent loads, random 64-byte lines): %.1f ns within 1 MiB, %.1f ns "
	    "within 64 MiB\n", tm->mem_small_ns, tm->mem_large_ns);
	if (cpu >= 0)
		printf("in-process runs pinned to CPU %d\n", cpu);
}

/* ---------- main ---------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: bench/rbac [--quick] [--no-socket] [--idgated PATH]\n"
	    "\n"
	    "The role engine's benchmark: builds 1,000 projects, 100,000 repos, 10,000 users,\n"
	    "2,000 groups and 1,000,000 bindings; prints in-process checks per second and\n"
	    "latency, the cost for a 10x store and a 10x path, and the same checks through a\n"
	    "private idgated's api.sock (needs root). Every loop is bounded in count and time.\n"
	    "\n"
	    "  --quick         everything 10x smaller and shorter (a smoke run)\n"
	    "  --no-socket     skip the api.sock part\n"
	    "  --idgated PATH  the daemon to start (default $IDGATED, else ./idgated)\n"
	    "  -h, --help      this text\n"
	    "\n"
	    "Exit status: 1 when a part failed or idgated answered differently from the\n"
	    "engine, else 0 (a part skipped for want of root or idgated is not a failure).\n"
	    "Targets are printed beside the figures, never judged.\n");
}

static void
set_scales(struct phase ph[3], bool quick)
{
	/* The store; --quick divides every count by 10. */
	struct scale base = { .projects = 1000, .repos = 100000, .users = 10000, .groups = 2000,
		.groups_per_user_max = 100, .bindings = 1000000, .per_project = 20, .on_cluster = 20 };

	if (quick)
		base = (struct scale){ .projects = 100, .repos = 10000, .users = 1000, .groups = 200,
			.groups_per_user_max = 10, .bindings = 100000, .per_project = 2, .on_cluster = 2 };
	ph[0].title = "1x";
	ph[0].sc = base;
	ph[1].title = "10x store (projects, repos, bindings)";
	ph[1].sc = base;
	ph[1].sc.projects *= 10;
	ph[1].sc.repos *= 10;
	ph[1].sc.bindings *= 10;
	ph[2].title = "10x bindings on each path";
	ph[2].sc = base;
	ph[2].sc.bindings *= 10;
	ph[2].sc.per_project *= 10;
	ph[2].sc.on_cluster *= 10;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "no-socket", no_argument, NULL, 'S' },
		{ "idgated", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct limits lim = { .ring = 1u << 20, .checks = 5000000, .secs = 10, .samples = 1000000,
		.sock_ring = 65536, .sock_seq = 100000, .sock_pipe = 1000000, .sock_secs = 5,
		.start_secs = 300 };
	struct phase ph[3];
	struct sockres sres;
	struct frames checks = { 0 };
	struct timer tm;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *idgated = getenv("IDGATED") ? getenv("IDGATED") : "./idgated";
	bool quick = false, socket = true, ok = true;
	cpu_set_t all, one;
	uint64_t t0 = now_ns();
	int opt, cpu = -1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': quick = true; break;
		case 'S': socket = false; break;
		case 'i': idgated = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	if (quick)
		lim = (struct limits){ .ring = 1u << 17, .checks = 500000, .secs = 1,
			.samples = 100000, .sock_ring = 8192, .sock_seq = 10000, .sock_pipe = 100000,
			.sock_secs = 1, .start_secs = 60 };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	memset(ph, 0, sizeof(ph));
	memset(&sres, 0, sizeof(sres));
	set_scales(ph, quick);
	/* One core for the in-process part; the daemon must not inherit the pin. */
	if (sched_getaffinity(0, sizeof(all), &all) == 0 && (cpu = sched_getcpu()) >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			cpu = -1;
	}
	timer_calibrate(&tm);
	tm.mem_small_ns = chase_ns(1u << 20, 4000000, 2);
	tm.mem_large_ns = chase_ns(64u << 20, quick ? 200000 : 2000000, 2);
	print_host(&tm, cpu);
	if (quick)
		printf("--quick: every count and time limit 10x smaller; figures are not comparable "
		    "with a full run\n");
	for (size_t i = 0; i < 3 && !interrupted; i++)
		if (run_phase(&ph[i], &lim, &tm, i == 0 && socket ? &checks : NULL) < 0)
			ok = false;
	if (cpu >= 0)
		sched_setaffinity(0, sizeof(all), &all);
	if (ph[0].ran)
		print_scaling(ph, 3);
	if (socket && ph[0].ran && !interrupted) {
		if (socket_phase(idgated, &ph[0].sc, &checks, &lim, &sres) < 0 ||
		    (!sres.ran && !sres.skipped))
			ok = false;
		if (sres.checks.mismatch || sres.checks.errors || sres.pings.errors || sres.exit_status)
			ok = false;
	}
	frames_free(&checks);
	if (ph[0].ran)
		print_summary(ph, &sres, socket, tm.mem_large_ns, secs_since(t0));
	if (interrupted)
		printf("interrupted\n");
	return ok && !interrupted ? 0 : 1;
}
