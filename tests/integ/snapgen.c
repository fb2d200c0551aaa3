/* snapgen: build and publish an NSS snapshot from generated counts and/or a text spec, so
 * shell tests and benchmarks can make snapshots without idgated.
 *
 *   snapgen [-u USERS] [-g GROUPS] [-G GROUPS_PER_USER] [-r MIN:MAX] [-b BASE] [-e] [-p]
 *           [-s SOCKET] [-t MS] [-n GENERATION] [-f SPEC] OUT
 *
 * Generated user i is "user<i>" (uid BASE+i, home /home/user<i>, shell /bin/sh) in groups
 * (i+k) mod GROUPS for k < GROUPS_PER_USER; its primary group is group<i mod GROUPS>. Group
 * j is "group<j>" (gid BASE+USERS+j) and lists its members. BASE defaults to MIN. -e sets IDG_SNAP_F_ENUMERATE, -p
 * IDG_SNAP_F_PROVISIONAL. A spec file's lines (colon-separated, '#' comments):
 *
 *   range:MIN:MAX        flags:enumerate,provisional   socket:PATH   timeout:MS
 *   generation:N
 *   user:NAME:UID:GID:GECOS:HOME:SHELL[:GID,GID...]    (supplementary gids)
 *   group:NAME:GID[:USER,USER...]                      (members by user name)
 *
 * Spec entries come first, generated ones after. OUT is replaced atomically (and the
 * snapshot it replaces marked), exactly as idgated does. Exit 0, or 1 with a message. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/snapshot.h"

struct gen {
	struct idg_snap_in in;
	struct idg_snap_in_user *users;
	struct idg_snap_in_group *groups;
	size_t ucap, gcap;
	uint32_t base;		/* the first generated id */
	char **gmember_names;	/* per spec group: its member list, resolved after parsing */
};

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "snapgen: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	exit(1);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		die("out of memory", NULL);
	return p;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		die("out of memory", NULL);
	return d;
}

static uint32_t
num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
		die("not a number:", s);
	return (uint32_t)v;
}

static struct idg_snap_in_user *
add_user(struct gen *g)
{
	if (g->in.nusers == g->ucap) {
		g->ucap = g->ucap ? 2 * g->ucap : 64;
		g->users = xrealloc(g->users, g->ucap * sizeof(*g->users));
	}
	memset(&g->users[g->in.nusers], 0, sizeof(*g->users));
	return &g->users[g->in.nusers++];
}

static struct idg_snap_in_group *
add_group(struct gen *g)
{
	if (g->in.ngroups == g->gcap) {
		g->gcap = g->gcap ? 2 * g->gcap : 64;
		g->groups = xrealloc(g->groups, g->gcap * sizeof(*g->groups));
		g->gmember_names = xrealloc(g->gmember_names, g->gcap * sizeof(char *));
	}
	memset(&g->groups[g->in.ngroups], 0, sizeof(*g->groups));
	g->gmember_names[g->in.ngroups] = NULL;
	return &g->groups[g->in.ngroups++];
}

/* Split s at ':' into at most max fields; returns the count. */
static size_t
split(char *s, char **f, size_t max, int sep)
{
	size_t n = 0;

	while (n < max) {
		char *c = strchr(s, sep);

		f[n++] = s;
		if (c == NULL)
			break;
		*c = '\0';
		s = c + 1;
	}
	return n;
}

static uint32_t *
parse_ids(char *list, size_t *n_out)
{
	char *f[65536];
	size_t n = *list ? split(list, f, 65536, ',') : 0;
	uint32_t *ids = xrealloc(NULL, n * sizeof(uint32_t));

	for (size_t i = 0; i < n; i++)
		ids[i] = num(f[i]);
	*n_out = n;
	return ids;
}

static void
spec_user(struct gen *g, char **f, size_t n)
{
	struct idg_snap_in_user *u;

	if (n < 7)
		die("user:NAME:UID:GID:GECOS:HOME:SHELL[:GIDS] needs 7 fields", NULL);
	u = add_user(g);
	u->name = xstrdup(f[1]);
	u->uid = num(f[2]);
	u->gid = num(f[3]);
	u->gecos = xstrdup(f[4]);
	u->dir = xstrdup(f[5]);
	u->shell = xstrdup(f[6]);
	u->gids = n > 7 ? parse_ids(f[7], &u->ngids) : NULL;
}

static void
spec_group(struct gen *g, char **f, size_t n)
{
	struct idg_snap_in_group *gr;

	if (n < 3)
		die("group:NAME:GID[:MEMBERS] needs 3 fields", NULL);
	gr = add_group(g);
	gr->name = xstrdup(f[1]);
	gr->gid = num(f[2]);
	if (n > 3 && f[3][0] != '\0')
		g->gmember_names[g->in.ngroups - 1] = xstrdup(f[3]);
}

static void
spec_line(struct gen *g, char *line)
{
	char *f[9];
	size_t n = split(line, f, 9, ':');

	if (strcmp(f[0], "user") == 0)
		spec_user(g, f, n);
	else if (strcmp(f[0], "group") == 0)
		spec_group(g, f, n);
	else if (strcmp(f[0], "range") == 0 && n == 3) {
		g->in.id_min = num(f[1]);
		g->in.id_max = num(f[2]);
	} else if (strcmp(f[0], "flags") == 0 && n == 2) {
		g->in.flags |= strstr(f[1], "enumerate") ? IDG_SNAP_F_ENUMERATE : 0;
		g->in.flags |= strstr(f[1], "provisional") ? IDG_SNAP_F_PROVISIONAL : 0;
	} else if (strcmp(f[0], "socket") == 0 && n == 2)
		g->in.ask_socket = xstrdup(f[1]);
	else if (strcmp(f[0], "timeout") == 0 && n == 2)
		g->in.ask_timeout_ms = num(f[1]);
	else if (strcmp(f[0], "generation") == 0 && n == 2)
		g->in.generation = num(f[1]);
	else
		die("bad spec line:", f[0]);
}

static void
read_spec(struct gen *g, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (fp == NULL)
		die("cannot open", path);
	while ((n = getline(&line, &cap, fp)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		spec_line(g, line);
	}
	free(line);
	fclose(fp);
}

/* Spec groups name their members; the snapshot wants user indices. */
static void
resolve_members(struct gen *g, size_t nspec_groups)
{
	for (size_t j = 0; j < nspec_groups; j++) {
		char *f[65536];
		size_t n;
		uint32_t *m;

		if (g->gmember_names[j] == NULL)
			continue;
		n = split(g->gmember_names[j], f, 65536, ',');
		m = xrealloc(NULL, n * sizeof(uint32_t));
		for (size_t k = 0; k < n; k++) {
			size_t i;

			for (i = 0; i < g->in.nusers && strcmp(g->users[i].name, f[k]) != 0; i++)
				;
			if (i == g->in.nusers)
				die("no such user (a group member):", f[k]);
			m[k] = (uint32_t)i;
		}
		g->groups[j].members = m;
		g->groups[j].nmembers = n;
	}
}

static char *
fmt_name(const char *prefix, size_t i)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s%zu", prefix, i);
	return xstrdup(buf);
}

/* Generated users and groups (see the top of the file). */
static void
generate(struct gen *g, size_t nu, size_t ng, size_t per)
{
	size_t u0 = g->in.nusers, g0 = g->in.ngroups;
	uint32_t gid0 = g->base + (uint32_t)nu;

	if (per > ng)
		die("-G is larger than -g", NULL);
	for (size_t j = 0; j < ng; j++) {
		struct idg_snap_in_group *gr = add_group(g);

		gr->name = fmt_name("group", j);
		gr->gid = gid0 + (uint32_t)j;
		gr->members = xrealloc(NULL, (nu * per / (ng ? ng : 1) + 1) * sizeof(uint32_t));
	}
	for (size_t i = 0; i < nu; i++) {
		struct idg_snap_in_user *u = add_user(g);
		uint32_t *gids = xrealloc(NULL, per * sizeof(uint32_t));

		u->name = fmt_name("user", i);
		u->gecos = fmt_name("Generated User ", i);
		u->dir = fmt_name("/home/user", i);
		u->shell = "/bin/sh";
		u->uid = g->base + (uint32_t)i;
		u->gid = ng ? gid0 + (uint32_t)(i % ng) : u->uid;
		for (size_t k = 0; k < per; k++) {
			struct idg_snap_in_group *gr = &g->groups[g0 + (i + k) % ng];

			gids[k] = gr->gid;
			((uint32_t *)gr->members)[gr->nmembers++] = (uint32_t)(u0 + i);
		}
		u->gids = gids;
		u->ngids = per;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: snapgen [-u USERS] [-g GROUPS] [-G PER_USER] [-r MIN:MAX] [-b BASE] [-e] [-p]"
	    " [-s SOCKET] [-t MS] [-n GEN] [-f SPEC] OUT\n");
	exit(2);
}

/* Static, so what it holds stays reachable at exit (LeakSanitizer in the sanitizer build). */
static struct gen g;

int
main(int argc, char **argv)
{
	size_t nu = 0, ng = 0, per = 0, nspec_groups;
	const char *spec = NULL;
	char err[512], *colon;
	uint8_t *buf;
	size_t len;
	int c, rc;

	memset(&g, 0, sizeof(g));
	g.in.id_min = 100000;
	g.in.id_max = 1999999;
	g.in.ask_timeout_ms = 2000;
	g.in.generation = 1;
	while ((c = getopt(argc, argv, "u:g:G:r:b:eps:t:n:f:")) != -1) {
		switch (c) {
		case 'u': nu = num(optarg); break;
		case 'g': ng = num(optarg); break;
		case 'G': per = num(optarg); break;
		case 'r':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			g.in.id_min = num(optarg);
			g.in.id_max = num(colon + 1);
			break;
		case 'b': g.base = num(optarg); break;
		case 'e': g.in.flags |= IDG_SNAP_F_ENUMERATE; break;
		case 'p': g.in.flags |= IDG_SNAP_F_PROVISIONAL; break;
		case 's': g.in.ask_socket = optarg; break;
		case 't': g.in.ask_timeout_ms = num(optarg); break;
		case 'n': g.in.generation = num(optarg); break;
		case 'f': spec = optarg; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (spec != NULL)
		read_spec(&g, spec);
	if (g.base == 0)
		g.base = g.in.id_min;
	nspec_groups = g.in.ngroups;
	resolve_members(&g, nspec_groups);
	generate(&g, nu, ng, per);
	g.in.users = g.users;
	g.in.groups = g.groups;
	if ((rc = idg_snap_build(&g.in, &buf, &len)) < 0)
		die("cannot build the snapshot:", idg_strerror(rc));
	if (idg_snap_publish(argv[optind], buf, len, err, sizeof(err)) < 0)
		die(err, NULL);
	free(buf);
	return 0;
}
