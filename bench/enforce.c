/* bench/enforce: the enforcer's cost on disk. Builds a private tree of repo directories
 * (10,000 repos x 100 files by default) and a role model with 10 bindings on each repo's
 * path, then times, in one run: the full apply from scratch (src/enforce/, as idgated does
 * it), a repair pass with nothing to repair, a plain `setfacl -R -m` of an ACL of the same
 * size over the same tree (the baseline), and incremental changes: one group's binding on
 * the cluster (every repo), on one project (its repos), on one repo. Prints figures and
 * ratios; never passes or fails on a timing. See bench/README.md. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "enforce/acl_apply.h"
#include "enforce/acl_calc.h"
#include "rbac/rbac.h"

#define REPOS_MAX 100000
#define FILES_MAX 1000
#define PER_PROJECT 100
#define USERS 1000
#define GROUPS 200
#define UID_BASE 3000000u
#define GID_BASE 4000000u

static const uint8_t seed[16] = { 'b', 'e', 'n', 'c', 'h' };

struct bench {
	struct idg_rbac *r;
	idg_rid *repos;
	idg_rid *projects;
	size_t nrepos, nprojects, nfiles;
	struct idg_acl_spec *seen;	/* what was last applied, per repo */
	char root[4096];
	int rootfd;
	double deadline;
	idg_pid cg;			/* group:cg, bound on the cluster */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
resolve(void *ctx, idg_pid pid, uint8_t *tag, uint32_t *id)
{
	const struct idg_rbac *r = ctx;
	const char *name = idg_rbac_principal_name(r, pid);

	switch (idg_rbac_principal_kind(r, pid)) {
	case IDG_PK_USER:
		*tag = IDG_ACLT_USER;
		*id = UID_BASE + (uint32_t)atoi(name + 6);	/* user:uNNNN */
		return 0;
	case IDG_PK_GROUP:
		*tag = IDG_ACLT_GROUP;
		*id = strcmp(name, "group:cg") == 0 ? GID_BASE + 9999 :
		    GID_BASE + (uint32_t)atoi(name + 7);	/* group:gNNN */
		return 0;
	default:
		return 1;
	}
}

static void
die(const char *what)
{
	fprintf(stderr, "bench/enforce: %s\n", what);
	exit(1);
}

static idg_role
role(struct bench *b, const char *name)
{
	idg_role rl;

	if (idg_rbac_role_find(b->r, name, &rl) < 0)
		die("no such role");
	return rl;
}

static void
bind(struct bench *b, idg_rid at, const char *subject, const char *rolename)
{
	enum idg_pkind kind = strncmp(subject, "group:", 6) == 0 ? IDG_PK_GROUP : IDG_PK_USER;
	idg_pid pid;
	idg_role rl;

	if (idg_rbac_principal(b->r, subject, kind, &pid) < 0)
		die("principal");
	if (rolename == NULL) {
		if (idg_rbac_binding_set(b->r, at, pid, NULL, 0) < 0)
			die("binding");
		return;
	}
	rl = role(b, rolename);
	if (idg_rbac_binding_set(b->r, at, pid, &rl, 1) < 0)
		die("binding");
}

/* The model: every repo's path carries 10 bindings: 7 on the repo (users and groups), 2 on
 * its project, 1 on the cluster (group:cg repoReader). */
static void
build_model(struct bench *b)
{
	static const char *const roles[] = { "repoReader", "repoWriter", "repoOwner" };
	char name[128];
	unsigned x = 12345;

	if (idg_rbac_new(seed, &b->r) < 0)
		die("rbac");
	b->nprojects = (b->nrepos + PER_PROJECT - 1) / PER_PROJECT;
	b->projects = calloc(b->nprojects, sizeof(*b->projects));
	b->repos = calloc(b->nrepos, sizeof(*b->repos));
	b->seen = calloc(b->nrepos, sizeof(*b->seen));
	if (!b->projects || !b->repos || !b->seen)
		die("out of memory");
	bind(b, IDG_RID_CLUSTER, "group:cg", "repoReader");
	for (size_t p = 0; p < b->nprojects; p++) {
		snprintf(name, sizeof(name), "p%04zu", p);
		if (idg_rbac_resource_add(b->r, IDG_RT_PROJECT, name, IDG_RID_CLUSTER,
		    &b->projects[p]) < 0)
			die("project");
		snprintf(name, sizeof(name), "group:g%03zu", p % GROUPS);
		bind(b, b->projects[p], name, "repoReader");
		snprintf(name, sizeof(name), "user:u%04zu", p % USERS);
		bind(b, b->projects[p], name, "projectOwner");
	}
	for (size_t i = 0; i < b->nrepos; i++) {
		size_t p = i / PER_PROJECT;

		snprintf(name, sizeof(name), "p%04zu/r%05zu", p, i);
		if (idg_rbac_resource_add(b->r, IDG_RT_REPO, name, b->projects[p], &b->repos[i]) < 0)
			die("repo");
		for (int k = 0; k < 7; k++) {
			x = x * 1103515245u + 12345u;
			if (k < 5)
				snprintf(name, sizeof(name), "user:u%04u", (x >> 8) % USERS);
			else
				snprintf(name, sizeof(name), "group:g%03u", (x >> 8) % GROUPS);
			bind(b, b->repos[i], name, roles[(x >> 20) % 3]);
		}
	}
}

/* ROOT/PROJECT/REPO with nfiles empty files each. */
static void
build_tree(struct bench *b)
{
	char path[256];

	if ((b->rootfd = open(b->root, O_RDONLY | O_DIRECTORY)) < 0)
		die("cannot open the tree's root");
	for (size_t p = 0; p < b->nprojects; p++) {
		snprintf(path, sizeof(path), "p%04zu", p);
		if (mkdirat(b->rootfd, path, 0755) < 0 && errno != EEXIST)
			die("mkdir project");
	}
	for (size_t i = 0; i < b->nrepos; i++) {
		int dfd;

		snprintf(path, sizeof(path), "p%04zu/r%05zu", i / PER_PROJECT, i);
		if (mkdirat(b->rootfd, path, 0750) < 0 ||
		    (dfd = openat(b->rootfd, path, O_RDONLY | O_DIRECTORY)) < 0)
			die("mkdir repo");
		for (size_t f = 0; f < b->nfiles; f++) {
			char fn[32];
			int fd;

			snprintf(fn, sizeof(fn), "f%04zu", f);
			if ((fd = openat(dfd, fn, O_WRONLY | O_CREAT | O_EXCL, 0640)) < 0)
				die("create file");
			close(fd);
		}
		close(dfd);
	}
}

struct result {
	double secs;
	size_t repos_walked;
	struct idg_apply_stats st;
};

/* As idgated's pass: compute every repo's entries, walk those that changed (all: repair). */
static struct result
pass(struct bench *b, bool repair)
{
	struct result res = { 0 };
	struct idg_acl_spec spec;
	double t0 = now();

	for (size_t i = 0; i < b->nrepos; i++) {
		char pdir[32], rdir[32];
		struct idg_acl_set *set;
		int pfd;

		if (idg_acl_compute(b->r, b->repos[i], resolve, b->r, &spec) < 0)
			die("compute");
		if (!repair && idg_acl_spec_cmp(&spec, &b->seen[i]) == 0)
			continue;
		snprintf(pdir, sizeof(pdir), "p%04zu", i / PER_PROJECT);
		snprintf(rdir, sizeof(rdir), "r%05zu", i);
		if ((pfd = openat(b->rootfd, pdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) < 0)
			die("open project");
		if (idg_acl_set_new(&spec, getuid(), getgid(), 0750, &set) < 0)
			die("acl set");
		if (idg_acl_apply_tree(pfd, rdir, set, NULL, NULL, &res.st) < 0)
			die("apply");
		idg_acl_set_free(set);
		close(pfd);
		b->seen[i] = spec;
		res.repos_walked++;
	}
	res.secs = now() - t0;
	return res;
}

static double
run_cmd(const char *const argv[])
{
	double t0 = now();
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("setfacl failed (is the acl package installed?)");
	return now() - t0;
}

static void
show(const char *what, const struct result *r)
{
	uint64_t objs = r->st.dirs + r->st.files;

	printf("  %-44s %8.2f s  %6zu repos walked  %8llu objects  %8llu changed  %6.2f us/object\n",
	    what, r->secs, r->repos_walked, (unsigned long long)objs,
	    (unsigned long long)r->st.changed, objs ? r->secs * 1e6 / (double)objs : 0.0);
	if (r->st.errors)
		printf("  (%llu errors)\n", (unsigned long long)r->st.errors);
}

static bool
time_left(const struct bench *b, const char *phase)
{
	if (now() < b->deadline)
		return true;
	printf("  %s: skipped, --max-time reached\n", phase);
	return false;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repos", required_argument, NULL, 'r' },
		{ "files", required_argument, NULL, 'f' },
		{ "dir", required_argument, NULL, 'd' },
		{ "max-time", required_argument, NULL, 't' },
		{ "quick", no_argument, NULL, 'q' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench b = { .nrepos = 10000, .nfiles = 100 };
	const char *base = "/tmp";
	double max_time = 1800, t0;
	bool keep = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "r:f:d:t:qkh", opts, NULL)) != -1) {
		switch (opt) {
		case 'r': b.nrepos = strtoul(optarg, NULL, 10); break;
		case 'f': b.nfiles = strtoul(optarg, NULL, 10); break;
		case 'd': base = optarg; break;
		case 't': max_time = strtod(optarg, NULL); break;
		case 'q': b.nrepos = 1000; b.nfiles = 20; break;
		case 'k': keep = true; break;
		case 'h':
			printf("Usage: bench/enforce [--repos N (10000)] [--files N (100)] [--quick]\n"
			    "       [--dir BASE (/tmp)] [--max-time SECONDS (1800)] [--keep]\n");
			return 0;
		default: return 2;
		}
	}
	if (b.nrepos < 1 || b.nrepos > REPOS_MAX || b.nfiles > FILES_MAX || max_time <= 0)
		die("--repos is 1 to 100000, --files 0 to 1000, --max-time positive");
	snprintf(b.root, sizeof(b.root), "%s/idgate-bench-enforce.XXXXXX", base);
	if (mkdtemp(b.root) == NULL)
		die("cannot make the private directory");
	b.deadline = now() + max_time;

	printf("bench/enforce: %zu repos x %zu files (%zu objects), 10 bindings on each repo's "
	    "path, in %s\n", b.nrepos, b.nfiles, b.nrepos * (b.nfiles + 1), b.root);
	t0 = now();
	build_model(&b);
	build_tree(&b);
	printf("  tree and model built in %.1f s\n\n", now() - t0);
	{
		struct result full, noop, nochange, inc_cluster, inc_project, inc_repo;
		char acl[1024];
		size_t off = 0;
		double baseline = 0;
		const char *strip[] = { "setfacl", "-R", "-b", b.root, NULL };

		full = pass(&b, false);
		show("full apply from scratch (idgate)", &full);
		noop = time_left(&b, "repair") ? pass(&b, true) : (struct result){ 0 };
		show("repair pass, nothing to repair", &noop);

		/* The baseline: the same tree stripped, then one setfacl -R -m of 10 entries,
		 * access and default (as ours). */
		if (time_left(&b, "baseline")) {
			run_cmd(strip);
			for (int k = 0; k < 10; k++)
				off += (size_t)snprintf(acl + off, sizeof(acl) - off, "%s%c:%u:r-x",
				    k ? "," : "", k < 7 ? 'u' : 'g', (k < 7 ? UID_BASE : GID_BASE) + k);
			for (int k = 0; k < 10; k++)
				off += (size_t)snprintf(acl + off, sizeof(acl) - off, ",d:%c:%u:r-x",
				    k < 7 ? 'u' : 'g', (k < 7 ? UID_BASE : GID_BASE) + k);
			{
				const char *sf[] = { "setfacl", "-R", "-m", acl, b.root, NULL };

				baseline = run_cmd(sf);
			}
			printf("  %-44s %8.2f s  (same tree, one process, 10 entries access + "
			    "default)\n", "baseline: setfacl -R -m", baseline);
			/* Back to idgate's ACLs for the incremental part. */
			run_cmd(strip);
			memset(b.seen, 0, b.nrepos * sizeof(*b.seen));
			(void)pass(&b, false);
		}
		printf("\n");
		/* The fixed part of every incremental pass: every repo's entries recomputed
		 * from the role engine and compared, no tree walked. */
		nochange = pass(&b, false);
		show("recompute only (no binding changed)", &nochange);
		if (time_left(&b, "incremental, cluster")) {
			bind(&b, IDG_RID_CLUSTER, "group:cg", "repoWriter");
			inc_cluster = pass(&b, false);
			show("one group's cluster binding (every repo)", &inc_cluster);
		} else {
			inc_cluster = (struct result){ 0 };
		}
		if (time_left(&b, "incremental, project")) {
			bind(&b, b.projects[0], "group:g199", "repoWriter");
			inc_project = pass(&b, false);
			show("one group's binding on one project", &inc_project);
		} else {
			inc_project = (struct result){ 0 };
		}
		if (time_left(&b, "incremental, repo")) {
			bind(&b, b.repos[0], "group:g198", "repoReader");
			inc_repo = pass(&b, false);
			show("one group's binding on one repo", &inc_repo);
		} else {
			inc_repo = (struct result){ 0 };
		}

		printf("\n==== summary ====\n");
		if (baseline > 0)
			printf("  full apply / setfacl -R:            %.2fx (target <= 2x)\n",
			    full.secs / baseline);
		printf("  repair with nothing to do / full:   %.2fx\n",
		    full.secs > 0 ? noop.secs / full.secs : 0);
		{
			double per_full = full.secs / (double)(full.st.dirs + full.st.files);
			const struct result *inc[] = { &inc_cluster, &inc_project, &inc_repo };
			const char *nm[] = { "cluster", "project", "repo" };

			for (int k = 0; k < 3; k++) {
				uint64_t objs = inc[k]->st.dirs + inc[k]->st.files;

				if (objs == 0)
					continue;
				printf("  incremental (%-7s): %8llu objects affected, %.3f s, %.2f us "
				    "each = %.2fx the full apply's cost per object\n", nm[k],
				    (unsigned long long)objs, inc[k]->secs,
				    inc[k]->secs * 1e6 / (double)objs,
				    inc[k]->secs / (double)objs / per_full);
			}
		}
		printf("  (target: incremental cost proportional to the objects affected; every pass "
		    "also recomputes all %zu repos' entries: %.1f ms)\n", b.nrepos,
		    nochange.secs * 1e3);
	}
	if (!keep) {
		const char *rm[] = { "rm", "-rf", b.root, NULL };

		close(b.rootfd);
		run_cmd(rm);
	} else {
		printf("  kept %s\n", b.root);
	}
	idg_rbac_free(b.r);
	free(b.repos);
	free(b.projects);
	free(b.seen);
	return 0;
}
