/* bench/nss: what a lookup costs through libnss_idgate.so.2, beside glibc's files and SSSD's
 * sss (memory cache warm), with 10, 1,000 and 100,000 entries, and strace's count of the
 * system calls a lookup makes in steady state. It runs in its own mount namespace (private
 * /etc/nsswitch.conf, passwd, group, /etc/sssd, /var/lib/sss, /run and snapshot directory)
 * and starts its own sssd. Prints figures and ratios, never pass/fail: see bench/README.md. */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <grp.h>
#include <link.h>
#include <nss.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/snapshot.h"
#include "util.h"

#ifndef IDG_NSS_SNAPSHOT
#error "IDG_NSS_SNAPSHOT: the module's snapshot path (bench/local.mk passes it)"
#endif

#define UID0 100000u		/* user i: "user<i>", uid UID0 + i, primary group i */
#define GID0 1000000u		/* group j: "group<j>", gid GID0 + j */
#define ID_MAX 1999999u
#define WIDE 1000u		/* user0 is in this many groups (when there are as many) */
#define MISS_RING 1024u		/* names, uids and gids that exist nowhere */
#define NAME_W 24
#define LOOKUP_BUF 65536
#define GL_MAX 4096		/* getgrouplist's array */
#define SSSD "/usr/sbin/sssd"
#define STRACE "strace"
#define MARK_BEGIN "bench/nss steady\n"
#define MARK_END "bench/nss end\n"
#define SSSD_START_S 30.0
#define SSSD_STOP_S 15.0

/* ---------- small helpers ---------- */

/* A cost in ns, as "312", "3,712" or "1.23 ms", in a rotating buffer; "-" when absent. */
static const char *
cost(double ns)
{
	static char bufs[16][32];
	static unsigned k;
	char *out = bufs[k++ % 16];

	if (ns <= 0)
		return "-";
	if (ns >= 1e6)
		snprintf(out, 32, "%.2f ms", ns / 1e6);
	else
		snprintf(out, 32, "%s", num((uint64_t)(ns + 0.5)));
	return out;
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc < 0 ? -1 : chmod(path, mode);
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, mode) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* xoshiro-free: a 64-bit LCG is plenty to shuffle names with a fixed seed. */
static uint64_t
lcg(uint64_t *s)
{
	*s = *s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *s >> 33;
}

/* ---------- the data set (the same in the snapshot, /etc/passwd, /etc/group) ----------
 *
 * n users and n groups. User i: primary group i and one more, (i + 1) mod n; user0 is in
 * groups 1 .. W-1 as well, W = min(n, 1000), so getgrouplist("user0") gives W groups.
 * Group j lists user0 (if 1 <= j < W) and user j-1 (mod n), user0 only once. */

static unsigned
wide_of(unsigned n)
{
	return n < WIDE ? n : WIDE;
}

static unsigned
members_of(unsigned n, unsigned j, unsigned out[2])
{
	unsigned k = 0, prev = (j + n - 1) % n;

	if (j >= 1 && j < wide_of(n))
		out[k++] = 0;
	if (k == 0 || prev != 0)
		out[k++] = prev;
	return k;
}

static unsigned
groups_of(unsigned n, unsigned i)	/* getgrouplist's count, the primary group included */
{
	return i == 0 ? wide_of(n) : 2;
}

/* Both files at once: what the benchmark's processes see, and sssd's view (root first). */
static int
write_etc(unsigned n, const char *passwd, const char *group, const char *sssd_passwd,
    const char *sssd_group)
{
	FILE *p = fopen(passwd, "we"), *g = fopen(group, "we");
	FILE *sp = fopen(sssd_passwd, "we"), *sg = fopen(sssd_group, "we");
	int rc = p && g && sp && sg ? 0 : -1;

	if (rc == 0) {
		fputs("root:x:0:0:root:/root:/bin/sh\n", sp);
		fputs("root:x:0:\n", sg);
	}
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		char line[256], mem[64] = "";
		unsigned m[2], k = members_of(n, i, m);

		snprintf(line, sizeof(line), "user%u:x:%u:%u:Bench User %u:/home/user%u:/bin/sh\n",
		    i, UID0 + i, GID0 + i, i, i);
		fputs(line, p);
		fputs(line, sp);
		for (unsigned x = 0; x < k; x++)
			snprintf(mem + strlen(mem), sizeof(mem) - strlen(mem), "%suser%u",
			    x ? "," : "", m[x]);
		snprintf(line, sizeof(line), "group%u:x:%u:%s\n", i, GID0 + i, mem);
		fputs(line, g);
		fputs(line, sg);
	}
	for (FILE **f = (FILE *[]){ p, g, sp, sg, NULL }; *f != NULL; f++)
		if (fclose(*f) != 0)
			rc = -1;
	for (FILE **f = (FILE *[]){ p, g, sp, sg }; f < (FILE *[]){ p, g, sp, sg } + 4; f++)
		;
	return rc;
}

struct snapdata {
	struct idg_snap_in_user *users;
	struct idg_snap_in_group *groups;
	uint32_t *ids;
	char *strings;
};

static void
snapdata_free(struct snapdata *d)
{
	free(d->users);
	free(d->groups);
	free(d->ids);
	free(d->strings);
}

/* The same entries as write_etc(), built and published as idgated does. */
static int
publish_snapshot(unsigned n, size_t *len_out, char *err, size_t errlen)
{
	struct snapdata d = { 0 };
	struct idg_snap_in in = { .generation = n, .id_min = UID0, .id_max = ID_MAX };
	size_t nids = 2 * (size_t)n + 2 * WIDE, used = 0, spos = 0, slen = (size_t)n * 80 + 64;
	uint8_t *buf = NULL;
	size_t len;
	int rc = IDG_ERR_NOMEM;

	d.users = calloc(n, sizeof(*d.users));
	d.groups = calloc(n, sizeof(*d.groups));
	d.ids = calloc(nids, sizeof(*d.ids));
	d.strings = malloc(slen);
	if (!d.users || !d.groups || !d.ids || !d.strings) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		struct idg_snap_in_user *u = &d.users[i];
		struct idg_snap_in_group *g = &d.groups[i];
		unsigned m[2], k = members_of(n, i, m);
		int w;

		u->name = d.strings + spos;
		w = snprintf(d.strings + spos, slen - spos, "user%u", i);
		u->gecos = d.strings + (spos += (size_t)w + 1);
		w = snprintf(d.strings + spos, slen - spos, "Bench User %u", i);
		u->dir = d.strings + (spos += (size_t)w + 1);
		w = snprintf(d.strings + spos, slen - spos, "/home/user%u", i);
		g->name = d.strings + (spos += (size_t)w + 1);
		w = snprintf(d.strings + spos, slen - spos, "group%u", i);
		spos += (size_t)w + 1;
		u->shell = "/bin/sh";
		u->uid = UID0 + i;
		u->gid = GID0 + i;
		u->gids = d.ids + used;
		if (i == 0)
			for (unsigned j = 1; j < wide_of(n); j++)
				d.ids[used++] = GID0 + j;
		else
			d.ids[used++] = GID0 + (i + 1) % n;
		u->ngids = (size_t)(d.ids + used - u->gids);
		g->gid = GID0 + i;
		g->members = d.ids + used;
		for (unsigned x = 0; x < k; x++)
			d.ids[used++] = m[x];
		g->nmembers = k;
	}
	in.users = d.users;
	in.nusers = n;
	in.groups = d.groups;
	in.ngroups = n;
	if ((rc = idg_snap_build(&in, &buf, &len)) < 0) {
		snprintf(err, errlen, "idg_snap_build: %s", idg_strerror(rc));
		goto out;
	}
	if ((rc = idg_snap_publish(IDG_NSS_SNAPSHOT, buf, len, err, errlen)) == 0)
		*len_out = len;
out:
	free(buf);
	snapdata_free(&d);
	return rc;
}

/* ---------- sources and lookups ---------- */

/* S_MOD and S_SSSMOD call a module's entry points directly (dlopen): the modules' own cost,
 * without the NSS dispatch glibc adds to every source alike. */
enum src { S_MOD, S_IDGATE, S_FILES, S_SSS, S_SSSMOD, N_SRC };
static const char *const src_name[N_SRC] = { "module", "idgate", "files", "sss", "sss-module" };
static const char *const src_db[N_SRC] = { "idgate", "idgate", "files", "sss", "sss" };

static bool
is_module(enum src s)
{
	return s == S_MOD || s == S_SSSMOD;
}

static bool
is_sss(enum src s)
{
	return s == S_SSS || s == S_SSSMOD;
}

enum op {
	O_PWNAM_HIT, O_PWNAM_MISS, O_PWUID_HIT, O_PWUID_MISS, O_GRNAM_HIT, O_GRNAM_MISS,
	O_GL_HIT, O_GL_MISS, O_GL_WIDE, N_OPS
};
static const char *const op_name[N_OPS] = {
	"getpwnam hit", "getpwnam miss", "getpwuid hit", "getpwuid miss", "getgrnam hit",
	"getgrnam miss", "getgrouplist hit", "getgrouplist miss", "getgrouplist, 1,000 groups",
};

static bool
op_is_miss(enum op o)
{
	return o == O_PWNAM_MISS || o == O_PWUID_MISS || o == O_GRNAM_MISS || o == O_GL_MISS;
}

/* The module's entry points, for the "module" column (no glibc in between). */
struct module {
	void *dl;
	enum nss_status (*pwnam)(const char *, struct passwd *, char *, size_t, int *);
	enum nss_status (*pwuid)(uid_t, struct passwd *, char *, size_t, int *);
	enum nss_status (*grnam)(const char *, struct group *, char *, size_t, int *);
	enum nss_status (*initgroups)(const char *, gid_t, long *, long *, gid_t **, long, int *);
};

struct ctx {
	enum src src;
	unsigned n, wide;
	size_t nhit, nmiss;		/* ring lengths (sss: what was warmed) */
	uint32_t *hit;			/* entry indices, shuffled, all >= 1 */
	char (*hname)[NAME_W], (*hgname)[NAME_W], (*mname)[NAME_W], (*mgname)[NAME_W];
	char *buf;			/* LOOKUP_BUF */
	gid_t *gl;			/* GL_MAX (grown by the module if ever needed) */
	long glsize;
	struct module m;
};

typedef int (*lookup_fn)(struct ctx *, size_t);

/* Each returns 0 for the right answer, 1 for a wrong one: cheap checks in the timed loops
 * (uid, gid, name, member count, group count), full ones in verify(). */
static int
g_pwnam_hit(struct ctx *c, size_t k)
{
	struct passwd pw, *r = NULL;
	uint32_t i = c->hit[k];

	return getpwnam_r(c->hname[k], &pw, c->buf, LOOKUP_BUF, &r) != 0 || r == NULL ||
	    pw.pw_uid != UID0 + i || pw.pw_gid != GID0 + i;
}

static int
g_pwnam_miss(struct ctx *c, size_t k)
{
	struct passwd pw, *r = NULL;

	return getpwnam_r(c->mname[k], &pw, c->buf, LOOKUP_BUF, &r) != 0 || r != NULL;
}

static int
g_pwuid_hit(struct ctx *c, size_t k)
{
	struct passwd pw, *r = NULL;

	return getpwuid_r(UID0 + c->hit[k], &pw, c->buf, LOOKUP_BUF, &r) != 0 || r == NULL ||
	    strcmp(pw.pw_name, c->hname[k]) != 0;
}

static int
g_pwuid_miss(struct ctx *c, size_t k)
{
	struct passwd pw, *r = NULL;

	return getpwuid_r(UID0 + c->n + (uint32_t)k, &pw, c->buf, LOOKUP_BUF, &r) != 0 ||
	    r != NULL;
}

static unsigned
count_members(char **mem)
{
	unsigned k = 0;

	while (mem != NULL && mem[k] != NULL)
		k++;
	return k;
}

static int
g_grnam_hit(struct ctx *c, size_t k)
{
	struct group gr, *r = NULL;
	unsigned m[2];

	return getgrnam_r(c->hgname[k], &gr, c->buf, LOOKUP_BUF, &r) != 0 || r == NULL ||
	    gr.gr_gid != GID0 + c->hit[k] ||
	    count_members(gr.gr_mem) != members_of(c->n, c->hit[k], m);
}

static int
g_grnam_miss(struct ctx *c, size_t k)
{
	struct group gr, *r = NULL;

	return getgrnam_r(c->mgname[k], &gr, c->buf, LOOKUP_BUF, &r) != 0 || r != NULL;
}

static int
g_gl_hit(struct ctx *c, size_t k)
{
	int ng = GL_MAX;

	return getgrouplist(c->hname[k], GID0 + c->hit[k], c->gl, &ng) !=
	    (int)groups_of(c->n, c->hit[k]);
}

static int
g_gl_miss(struct ctx *c, size_t k)
{
	int ng = GL_MAX;

	return getgrouplist(c->mname[k], GID0, c->gl, &ng) != 1;
}

static int
g_gl_wide(struct ctx *c, size_t k)
{
	int ng = GL_MAX;

	(void)k;
	return getgrouplist("user0", GID0, c->gl, &ng) != (int)c->wide;
}

static int
m_pwnam_hit(struct ctx *c, size_t k)
{
	struct passwd pw;
	uint32_t i = c->hit[k];
	int e;

	return c->m.pwnam(c->hname[k], &pw, c->buf, LOOKUP_BUF, &e) != NSS_STATUS_SUCCESS ||
	    pw.pw_uid != UID0 + i || pw.pw_gid != GID0 + i;
}

static int
m_pwnam_miss(struct ctx *c, size_t k)
{
	struct passwd pw;
	int e;

	return c->m.pwnam(c->mname[k], &pw, c->buf, LOOKUP_BUF, &e) != NSS_STATUS_NOTFOUND;
}

static int
m_pwuid_hit(struct ctx *c, size_t k)
{
	struct passwd pw;
	int e;

	return c->m.pwuid(UID0 + c->hit[k], &pw, c->buf, LOOKUP_BUF, &e) != NSS_STATUS_SUCCESS ||
	    strcmp(pw.pw_name, c->hname[k]) != 0;
}

static int
m_pwuid_miss(struct ctx *c, size_t k)
{
	struct passwd pw;
	int e;

	return c->m.pwuid(UID0 + c->n + (uint32_t)k, &pw, c->buf, LOOKUP_BUF, &e) !=
	    NSS_STATUS_NOTFOUND;
}

static int
m_grnam_hit(struct ctx *c, size_t k)
{
	struct group gr;
	unsigned m[2];
	int e;

	return c->m.grnam(c->hgname[k], &gr, c->buf, LOOKUP_BUF, &e) != NSS_STATUS_SUCCESS ||
	    gr.gr_gid != GID0 + c->hit[k] ||
	    count_members(gr.gr_mem) != members_of(c->n, c->hit[k], m);
}

static int
m_grnam_miss(struct ctx *c, size_t k)
{
	struct group gr;
	int e;

	return c->m.grnam(c->mgname[k], &gr, c->buf, LOOKUP_BUF, &e) != NSS_STATUS_NOTFOUND;
}

/* As glibc's getgrouplist calls it: the primary group already in place, no limit. */
static enum nss_status
m_initgroups(struct ctx *c, const char *user, gid_t group, long *start)
{
	int e;

	*start = 1;
	c->gl[0] = group;
	return c->m.initgroups(user, group, start, &c->glsize, &c->gl, -1, &e);
}

static int
m_gl_hit(struct ctx *c, size_t k)
{
	long start;

	return m_initgroups(c, c->hname[k], GID0 + c->hit[k], &start) != NSS_STATUS_SUCCESS ||
	    start != (long)groups_of(c->n, c->hit[k]);
}

static int
m_gl_miss(struct ctx *c, size_t k)
{
	long start;

	return m_initgroups(c, c->mname[k], GID0, &start) != NSS_STATUS_NOTFOUND || start != 1;
}

static int
m_gl_wide(struct ctx *c, size_t k)
{
	long start;

	(void)k;
	return m_initgroups(c, "user0", GID0, &start) != NSS_STATUS_SUCCESS ||
	    start != (long)c->wide;
}

static const lookup_fn glibc_fn[N_OPS] = {
	g_pwnam_hit, g_pwnam_miss, g_pwuid_hit, g_pwuid_miss, g_grnam_hit, g_grnam_miss,
	g_gl_hit, g_gl_miss, g_gl_wide,
};
static const lookup_fn module_fn[N_OPS] = {
	m_pwnam_hit, m_pwnam_miss, m_pwuid_hit, m_pwuid_miss, m_grnam_hit, m_grnam_miss,
	m_gl_hit, m_gl_miss, m_gl_wide,
};

static lookup_fn
fn_of(const struct ctx *c, enum op o)
{
	return is_module(c->src) ? module_fn[o] : glibc_fn[o];
}

static size_t
ring_of(const struct ctx *c, enum op o)
{
	return o == O_GL_WIDE ? 1 : op_is_miss(o) ? c->nmiss : c->nhit;
}

/* libnss_NAME.so.2's entry points _nss_NAME_*. */
static int
module_open(struct module *m, const char *name, char *why, size_t wlen)
{
	char lib[64], sym[96];

	snprintf(lib, sizeof(lib), "libnss_%s.so.2", name);
	if ((m->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(why, wlen, "dlopen %s: %s", lib, dlerror());
		return -1;
	}
#define SYM(field, call) do { \
		snprintf(sym, sizeof(sym), "_nss_%s_%s", name, call); \
		*(void **)&m->field = dlsym(m->dl, sym); \
	} while (0)
	SYM(pwnam, "getpwnam_r");
	SYM(pwuid, "getpwuid_r");
	SYM(grnam, "getgrnam_r");
	SYM(initgroups, "initgroups_dyn");
#undef SYM
	if (!m->pwnam || !m->pwuid || !m->grnam || !m->initgroups) {
		snprintf(why, wlen, "%s lacks an entry point", lib);
		return -1;
	}
	return 0;
}

/* Rings: nhit distinct entries from [1, n) in a fixed shuffled order (user0 is the wide
 * one), and MISS_RING names and ids that exist in no source. */
static int
ctx_init(struct ctx *c, enum src s, unsigned n, size_t ring, char *why, size_t wlen)
{
	uint64_t seed = UINT64_C(0x1d6a7e0b5eed) ^ n;
	uint32_t *all;

	memset(c, 0, sizeof(*c));
	c->src = s;
	c->n = n;
	c->wide = wide_of(n);
	c->nhit = ring < n - 1 ? ring : n - 1;
	c->nmiss = MISS_RING;
	all = malloc((size_t)(n - 1) * sizeof(*all));
	c->hit = malloc(c->nhit * sizeof(*c->hit));
	c->hname = malloc(c->nhit * NAME_W);
	c->hgname = malloc(c->nhit * NAME_W);
	c->mname = malloc(c->nmiss * NAME_W);
	c->mgname = malloc(c->nmiss * NAME_W);
	c->buf = malloc(LOOKUP_BUF);
	c->gl = malloc(GL_MAX * sizeof(gid_t));
	c->glsize = GL_MAX;
	if (!all || !c->hit || !c->hname || !c->hgname || !c->mname || !c->mgname || !c->buf ||
	    !c->gl) {
		free(all);
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < n - 1; i++)
		all[i] = i + 1;
	for (size_t k = 0; k < c->nhit; k++) {	/* a partial Fisher-Yates shuffle */
		size_t j = k + lcg(&seed) % (n - 1 - k);
		uint32_t t = all[k];

		all[k] = all[j];
		all[j] = t;
		c->hit[k] = all[k];
		snprintf(c->hname[k], NAME_W, "user%u", all[k]);
		snprintf(c->hgname[k], NAME_W, "group%u", all[k]);
	}
	free(all);
	for (size_t k = 0; k < c->nmiss; k++) {
		snprintf(c->mname[k], NAME_W, "nosuch%u", (unsigned)k);
		snprintf(c->mgname[k], NAME_W, "nogroup%u", (unsigned)k);
	}
	return s == S_MOD ? module_open(&c->m, "idgate", why, wlen) :
	    s == S_SSSMOD ? module_open(&c->m, "sss", why, wlen) : 0;
}

/* ---------- full checks of a sample (outside the timed loops) ---------- */

static int
get_pw(struct ctx *c, const char *name, uid_t uid, struct passwd *pw)
{
	struct passwd *r = NULL;
	int e, rc;

	if (is_module(c->src)) {
		enum nss_status st = name ? c->m.pwnam(name, pw, c->buf, LOOKUP_BUF, &e)
		    : c->m.pwuid(uid, pw, c->buf, LOOKUP_BUF, &e);

		return st == NSS_STATUS_SUCCESS ? 1 : st == NSS_STATUS_NOTFOUND ? 0 : -1;
	}
	rc = name ? getpwnam_r(name, pw, c->buf, LOOKUP_BUF, &r)
	    : getpwuid_r(uid, pw, c->buf, LOOKUP_BUF, &r);
	return rc != 0 ? -1 : r != NULL;
}

static int
get_gr(struct ctx *c, const char *name, struct group *gr)
{
	struct group *r = NULL;
	int e;

	if (is_module(c->src)) {
		enum nss_status st = c->m.grnam(name, gr, c->buf, LOOKUP_BUF, &e);

		return st == NSS_STATUS_SUCCESS ? 1 : st == NSS_STATUS_NOTFOUND ? 0 : -1;
	}
	return getgrnam_r(name, gr, c->buf, LOOKUP_BUF, &r) != 0 ? -1 : r != NULL;
}

static int
get_gl(struct ctx *c, const char *user, gid_t group)
{
	long start;
	int ng = GL_MAX;

	if (is_module(c->src)) {
		enum nss_status st = m_initgroups(c, user, group, &start);

		return st == NSS_STATUS_SUCCESS || st == NSS_STATUS_NOTFOUND ? (int)start : -1;
	}
	return getgrouplist(user, group, c->gl, &ng);
}

static bool
pw_right(const struct passwd *pw, unsigned i)
{
	char name[NAME_W], gecos[48], dir[48];

	snprintf(name, sizeof(name), "user%u", i);
	snprintf(gecos, sizeof(gecos), "Bench User %u", i);
	snprintf(dir, sizeof(dir), "/home/user%u", i);
	return strcmp(pw->pw_name, name) == 0 && pw->pw_uid == UID0 + i &&
	    pw->pw_gid == GID0 + i && strcmp(pw->pw_gecos, gecos) == 0 &&
	    strcmp(pw->pw_dir, dir) == 0 && strcmp(pw->pw_shell, "/bin/sh") == 0;
}

static bool
gr_right(const struct group *gr, unsigned n, unsigned j)
{
	char name[NAME_W];
	unsigned m[2], k = members_of(n, j, m);

	snprintf(name, sizeof(name), "group%u", j);
	if (strcmp(gr->gr_name, name) != 0 || gr->gr_gid != GID0 + j ||
	    count_members(gr->gr_mem) != k)
		return false;
	for (unsigned x = 0; x < k; x++) {	/* any order */
		bool found = false;

		snprintf(name, sizeof(name), "user%u", m[x]);
		for (unsigned y = 0; y < k; y++)
			found |= strcmp(gr->gr_mem[y], name) == 0;
		if (!found)
			return false;
	}
	return true;
}

static bool
gl_right(const gid_t *gl, int count, unsigned n, unsigned i)
{
	bool seen[WIDE] = { false };
	unsigned want = groups_of(n, i);

	if (count != (int)want)
		return false;
	for (int x = 0; x < count; x++) {
		uint32_t j = gl[x] - GID0;

		if (gl[x] < GID0 || j >= n)
			return false;
		if (i == 0 ? (j >= want || seen[j]) : (j != i && j != (i + 1) % n))
			return false;
		if (i == 0)
			seen[j] = true;
	}
	return i == 0 || gl[0] != gl[1];
}

/* Every field of a sample of entries, the wide user's groups and some misses. */
static uint64_t
verify(struct ctx *c, uint64_t *checked)
{
	struct passwd pw;
	struct group gr;
	uint64_t bad = 0;
	size_t sample = c->nhit < 64 ? c->nhit : 64;

	for (size_t k = 0; k < sample; k++) {
		unsigned i = c->hit[k];
		int n;

		bad += get_pw(c, c->hname[k], 0, &pw) != 1 || !pw_right(&pw, i);
		bad += get_pw(c, NULL, UID0 + i, &pw) != 1 || !pw_right(&pw, i);
		bad += get_gr(c, c->hgname[k], &gr) != 1 || !gr_right(&gr, c->n, i);
		n = get_gl(c, c->hname[k], GID0 + i);
		bad += !gl_right(c->gl, n, c->n, i);
		*checked += 4;
	}
	bad += !gl_right(c->gl, get_gl(c, "user0", GID0), c->n, 0);
	*checked += 1;
	for (size_t k = 0; k < 16 && k < c->nmiss; k++) {
		bad += get_pw(c, c->mname[k], 0, &pw) != 0;
		bad += get_pw(c, NULL, UID0 + c->n + (uid_t)k, &pw) != 0;
		bad += get_gr(c, c->mgname[k], &gr) != 0;
		bad += get_gl(c, c->mname[k], GID0) != 1;
		*checked += 4;
	}
	return bad;
}

/* ---------- timing ---------- */

struct limits {
	size_t ring;		/* hit ring */
	uint64_t ops;		/* per round */
	double round_s;
	unsigned rounds;
	double warm_op_s;	/* warm-up per operation (not sss) */
	double sss_warm_s;	/* sss: filling its caches, per size */
	unsigned trace_small, trace_large, trace_large_slow;	/* strace rounds */
	double child_s;		/* a measuring child is killed after this */
};

struct fig {
	double ns;		/* best round: total time / lookups */
	double worst_ns;
	uint64_t ops, wrong;
	int ran;
};

struct srcres {
	int ran;
	char why[256];
	double warm_s;
	size_t nhit, nmiss;
	uint64_t checked, verify_bad;
	struct fig fig[N_OPS];
};

/* Rounds of up to lim->ops lookups or lim->round_s each, in batches that grow while they
 * take under a millisecond, so the clock is read rarely for fast lookups and often for slow
 * ones. The ring position carries over between rounds. */
static void
measure(struct ctx *c, enum op o, const struct limits *lim, struct fig *f)
{
	lookup_fn fn = fn_of(c, o);
	size_t ring = ring_of(c, o), k = 0;

	memset(f, 0, sizeof(*f));
	for (unsigned r = 0; r < lim->rounds && !interrupted; r++) {
		uint64_t t0 = now_ns(), done = 0, batch = 1, limit = (uint64_t)(lim->round_s * 1e9);
		double ns;

		while (done < lim->ops && now_ns() - t0 < limit && !interrupted) {
			uint64_t tb = now_ns(), b = batch < lim->ops - done ? batch : lim->ops - done;

			for (uint64_t x = 0; x < b; x++) {
				f->wrong += (uint64_t)fn(c, k);
				if (++k == ring)
					k = 0;
			}
			done += b;
			if (now_ns() - tb < 1000000 && batch < 4096)
				batch *= 2;
		}
		if (done == 0)
			continue;
		ns = (double)(now_ns() - t0) / (double)done;
		f->ops += done;
		if (!f->ran || ns < f->ns)
			f->ns = ns;
		if (ns > f->worst_ns)
			f->worst_ns = ns;
		f->ran = 1;
	}
}

/* sss: every hit and miss of the rings once, so the memory cache holds the hits and the
 * responder's negative cache the misses; bounded by time, the rings shrink to what was
 * warmed. Each first lookup goes through sssd's proxy back end to libnss_files. */
static int
warm_sss(struct ctx *c, const struct limits *lim, struct srcres *res)
{
	uint64_t t0 = now_ns(), limit = (uint64_t)(lim->sss_warm_s * 1e9);
	size_t k;

	for (k = 0; k < c->nhit && now_ns() - t0 < limit * 3 / 4 && !interrupted; k++)
		res->fig[O_PWNAM_HIT].wrong += (uint64_t)(g_pwnam_hit(c, k) + g_grnam_hit(c, k) +
		    g_gl_hit(c, k));
	c->nhit = k;
	res->fig[O_GL_WIDE].wrong += (uint64_t)g_gl_wide(c, 0);
	for (k = 0; k < c->nmiss && now_ns() - t0 < limit && !interrupted; k++)
		res->fig[O_PWNAM_MISS].wrong += (uint64_t)(g_pwnam_miss(c, k) + g_pwuid_miss(c, k) +
		    g_grnam_miss(c, k) + g_gl_miss(c, k));
	c->nmiss = k;
	res->warm_s = secs_since(t0);
	if (c->nhit < 8 || c->nmiss < 8) {
		snprintf(res->why, sizeof(res->why), "sss: only %zu hits and %zu misses warmed in "
		    "%.0f s", c->nhit, c->nmiss, lim->sss_warm_s);
		return -1;
	}
	return 0;
}

static void
warm_other(struct ctx *c, const struct limits *lim, struct srcres *res)
{
	uint64_t t0 = now_ns();

	for (int o = 0; o < N_OPS; o++) {
		uint64_t t1 = now_ns(), limit = (uint64_t)(lim->warm_op_s * 1e9);
		lookup_fn fn = fn_of(c, (enum op)o);
		size_t ring = ring_of(c, (enum op)o);

		if (o == O_GL_WIDE && c->wide < WIDE)
			continue;
		for (size_t k = 0; k < ring && now_ns() - t1 < limit && !interrupted; k++)
			res->fig[o].wrong += (uint64_t)fn(c, k);
	}
	res->warm_s = secs_since(t0);
}

/* In a child: one source at one size, everything written into res. */
static void
run_source(enum src s, unsigned n, const struct limits *lim, struct srcres *res)
{
	struct ctx c;

	memset(res, 0, sizeof(*res));
	if (ctx_init(&c, s, n, lim->ring, res->why, sizeof(res->why)) < 0)
		return;
	if (is_sss(s)) {
		if (warm_sss(&c, lim, res) < 0)
			return;
	} else
		warm_other(&c, lim, res);
	res->nhit = c.nhit;
	res->nmiss = c.nmiss;
	res->verify_bad = verify(&c, &res->checked);
	for (int o = 0; o < N_OPS && !interrupted; o++) {
		if (o == O_GL_WIDE && c.wide < WIDE)
			continue;
		uint64_t warm_wrong = res->fig[o].wrong;

		measure(&c, (enum op)o, lim, &res->fig[o]);
		res->fig[o].wrong += warm_wrong;
	}
	res->ran = !interrupted;
}

/* ---------- the private world ---------- */

struct env {
	char dir[64];			/* mkdtemp */
	char path[16][4096];		/* see enum envpath */
	char snapdir[4096];
	bool snapdir_made;
	int nmounts;
	char mounts[8][4096];		/* targets, for unmounting in reverse */
	pid_t sssd;			/* also its process group */
	char sssd_why[512];
};

enum envpath {
	P_NSSWITCH, P_PASSWD, P_GROUP, P_SSSD_NSSWITCH, P_SSSD_PASSWD, P_SSSD_GROUP, P_ETC_SSSD,
	P_LIB_SSS, P_RUN, P_SNAP, P_SSSD_LOG, P_TRACE, N_PATHS
};

static int
bind(struct env *e, const char *src, const char *dst, char *why, size_t wlen)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
		snprintf(why, wlen, "mount --bind %s %s: %s", src, dst, strerror(errno));
		return -1;
	}
	snprintf(e->mounts[e->nmounts++], sizeof(e->mounts[0]), "%s", dst);
	return 0;
}

static void
env_cleanup(struct env *e)
{
	while (e->nmounts > 0)
		umount2(e->mounts[--e->nmounts], MNT_DETACH);
	if (e->dir[0] != '\0')
		rm_rf(e->dir);
	e->dir[0] = '\0';
	if (e->snapdir_made)
		rmdir(e->snapdir);
}

/* A private mount namespace, then private files over the machine's: nothing here is seen
 * outside this process and its children, and the machine's files are never written. */
static int
env_setup(struct env *e, char *why, size_t wlen)
{
	static const char *const names[N_PATHS] = {
		"nsswitch.conf", "passwd", "group", "sssd-nsswitch.conf", "sssd-passwd",
		"sssd-group", "etc-sssd", "lib-sss", "run", "snapshot", "sssd.log", "trace",
	};
	static const char *const sss_dirs[] = { "db", "mc", "pipes/private", "pubconf",
		"gpo_cache", NULL };
	struct stat st;
	char *slash;

	memset(e, 0, sizeof(*e));
	e->sssd = -1;
	if (unshare(CLONE_NEWNS) < 0) {
		snprintf(why, wlen, "unshare(CLONE_NEWNS): %s (needs root)", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		snprintf(why, wlen, "making / private: %s", strerror(errno));
		return -1;
	}
	snprintf(e->dir, sizeof(e->dir), "/tmp/idgate-bench-nss.XXXXXX");
	if (mkdtemp(e->dir) == NULL) {
		snprintf(why, wlen, "mkdtemp: %s", strerror(errno));
		e->dir[0] = '\0';
		return -1;
	}
	for (int i = 0; i < N_PATHS; i++)
		snprintf(e->path[i], sizeof(e->path[i]), "%s/%s", e->dir, names[i]);
	for (int i = P_NSSWITCH; i <= P_SSSD_GROUP; i++)
		if (write_file(e->path[i], "", 0644) < 0)
			goto fail;
	if (write_file(e->path[P_SSSD_NSSWITCH], "passwd: files\ngroup: files\n", 0644) < 0 ||
	    mkdir(e->path[P_ETC_SSSD], 0711) < 0 || mkdir(e->path[P_RUN], 0755) < 0 ||
	    mkdir(e->path[P_SNAP], 0755) < 0 || mkdir(e->path[P_TRACE], 0700) < 0)
		goto fail;
	for (const char *const *d = sss_dirs; *d; d++) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/%s", e->path[P_LIB_SSS], *d);
		if (mkdir_p(p, 0755) < 0)
			goto fail;
	}
	snprintf(e->snapdir, sizeof(e->snapdir), "%s", IDG_NSS_SNAPSHOT);
	if ((slash = strrchr(e->snapdir, '/')) != NULL)
		*slash = '\0';
	if (stat(e->snapdir, &st) < 0) {	/* a mount point is needed, as the tests do */
		if (mkdir_p(e->snapdir, 0755) < 0)
			goto fail;
		e->snapdir_made = true;
	}
	if (bind(e, e->path[P_NSSWITCH], "/etc/nsswitch.conf", why, wlen) < 0 ||
	    bind(e, e->path[P_PASSWD], "/etc/passwd", why, wlen) < 0 ||
	    bind(e, e->path[P_GROUP], "/etc/group", why, wlen) < 0 ||
	    bind(e, e->path[P_SNAP], e->snapdir, why, wlen) < 0)
		return -1;
	/* sss: its configuration and state, and a private /run (sssd's pid file; no nscd) */
	if (stat("/etc/sssd", &st) == 0 &&
	    bind(e, e->path[P_ETC_SSSD], "/etc/sssd", why, wlen) < 0)
		return -1;
	if (stat("/var/lib/sss", &st) == 0 &&
	    bind(e, e->path[P_LIB_SSS], "/var/lib/sss", why, wlen) < 0)
		return -1;
	if (bind(e, e->path[P_RUN], "/run", why, wlen) < 0)
		return -1;
	return 0;
fail:
	snprintf(why, wlen, "setting up %s: %s", e->dir, strerror(errno));
	return -1;
}

static int
set_nsswitch(const struct env *e, enum src s)
{
	char text[128];

	snprintf(text, sizeof(text), "passwd: %s\ngroup: %s\nshadow: files\n", src_db[s],
	    src_db[s]);
	return write_file(e->path[P_NSSWITCH], text, 0644);
}

/* ---------- sssd ---------- */

static void
clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4200];

	while (d && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "private") == 0)
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= sizeof(p))
			continue;
		unlink(p);
	}
	if (d)
		closedir(d);
}

static void
sssd_reset_state(const struct env *e)
{
	static const char *const dirs[] = { "db", "mc", "pipes", "pipes/private", NULL };
	char p[4200];

	for (const char *const *d = dirs; *d; d++) {
		snprintf(p, sizeof(p), "%s/%s", e->path[P_LIB_SSS], *d);
		clear_dir(p);
	}
}

static void
print_tail(const char *path, const char *indent, size_t max)
{
	char line[512], ring[8][512];
	size_t n = 0;
	FILE *f = fopen(path, "re");

	while (f && fgets(line, sizeof(line), f))
		snprintf(ring[n++ % 8], sizeof(ring[0]), "%s", line);
	if (f)
		fclose(f);
	for (size_t i = n > max ? n - max : 0; i < n; i++)
		printf("%s%s", indent, ring[i % 8]);
}

/* sssd in a mount namespace of its own, over the same /etc/sssd and /var/lib/sss, where
 * passwd and group also hold root (sssd resolves its user at start) and nsswitch.conf says
 * files: the benchmark's processes see exactly the n entries. */
static void
sssd_exec(const struct env *e)
{
	int fd = open(e->path[P_SSSD_LOG], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	setsid();
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(e->path[P_SSSD_PASSWD], "/etc/passwd", NULL, MS_BIND, NULL) < 0 ||
	    mount(e->path[P_SSSD_GROUP], "/etc/group", NULL, MS_BIND, NULL) < 0 ||
	    mount(e->path[P_SSSD_NSSWITCH], "/etc/nsswitch.conf", NULL, MS_BIND, NULL) < 0) {
		dprintf(fd >= 0 ? fd : 2, "bench/nss: setting up sssd's namespace: %s\n",
		    strerror(errno));
		_exit(126);
	}
	execl(SSSD, SSSD, "-i", "--logger=stderr", (char *)NULL);
	dprintf(2, "bench/nss: exec %s: %s\n", SSSD, strerror(errno));
	_exit(127);
}

static int
sssd_start(struct env *e, double *secs)
{
	static const char conf[] =
	    "# bench/nss: a proxy domain over libnss_files; caches kept for the whole run\n"
	    "[sssd]\nservices = nss\ndomains = bench\n"
	    "[nss]\nmemcache_timeout = 3600\nentry_negative_timeout = 3600\n"
	    "[domain/bench]\nid_provider = proxy\nproxy_lib_name = files\nauth_provider = none\n"
	    "entry_cache_timeout = 3600\n";
	char p[4200], sock[] = "/var/lib/sss/pipes/nss";
	uint64_t t0 = now_ns();
	struct stat st;
	int status;

	if (access(SSSD, X_OK) < 0) {
		snprintf(e->sssd_why, sizeof(e->sssd_why), "%s is not installed "
		    "(scripts/install-deps installs sssd and libnss-sss)", SSSD);
		return -1;
	}
	if (stat("/etc/sssd", &st) < 0 || stat("/var/lib/sss", &st) < 0 ||
	    (access("/usr/lib/x86_64-linux-gnu/libnss_sss.so.2", F_OK) < 0 &&
	    access("/lib/x86_64-linux-gnu/libnss_sss.so.2", F_OK) < 0 &&
	    access("/usr/lib64/libnss_sss.so.2", F_OK) < 0)) {
		snprintf(e->sssd_why, sizeof(e->sssd_why), "sssd's directories or libnss_sss.so.2 "
		    "are missing (packages sssd, libnss-sss)");
		return -1;
	}
	sssd_reset_state(e);
	snprintf(p, sizeof(p), "%s/sssd.conf", e->path[P_ETC_SSSD]);
	if (write_file(p, conf, 0600) < 0) {
		if (snprintf(e->sssd_why, sizeof(e->sssd_why), "writing %s: %s", p,
		    strerror(errno)) < 0)
			e->sssd_why[0] = '\0';
		return -1;
	}
	snprintf(p, sizeof(p), "%s/conf.d", e->path[P_ETC_SSSD]);
	mkdir(p, 0711);
	fflush(stdout);
	if ((e->sssd = fork()) < 0) {
		snprintf(e->sssd_why, sizeof(e->sssd_why), "fork: %s", strerror(errno));
		return -1;
	}
	if (e->sssd == 0)
		sssd_exec(e);
	while (secs_since(t0) < SSSD_START_S && !interrupted) {
		if (waitpid(e->sssd, &status, WNOHANG) == e->sssd) {
			snprintf(e->sssd_why, sizeof(e->sssd_why), "sssd exited at start (status "
			    "%d); the end of its log:", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			e->sssd = -1;
			return -1;
		}
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
			*secs = secs_since(t0);
			return 0;
		}
		sleep_ms(20);
	}
	snprintf(e->sssd_why, sizeof(e->sssd_why), "sssd did not open %s in %.0f s; the end of "
	    "its log:", sock, SSSD_START_S);
	return -1;
}

static void
sssd_stop(struct env *e)
{
	uint64_t t0 = now_ns();

	if (e->sssd <= 0)
		return;
	kill(e->sssd, SIGTERM);
	while (waitpid(e->sssd, NULL, WNOHANG) == 0) {
		if (secs_since(t0) > SSSD_STOP_S) {
			kill(-e->sssd, SIGKILL);	/* its own process group: sssd_be, sssd_nss */
			waitpid(e->sssd, NULL, 0);
			break;
		}
		sleep_ms(20);
	}
	kill(-e->sssd, SIGKILL);	/* any child left behind */
	e->sssd = -1;
}

/* ---------- children ---------- */

static int
read_full(int fd, void *p, size_t len, double max_s)
{
	uint64_t t0 = now_ns();
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int left = (int)((max_s - secs_since(t0)) * 1000);
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, left > 1000 ? 1000 : left) < 0) {
			if (left > 0 && errno == EINTR && !interrupted)
				continue;
			return -1;
		}
		if ((pfd.revents & (POLLIN | POLLHUP)) == 0)
			continue;
		if ((r = read(fd, (char *)p + got, len - got)) <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* One source at one size in a fresh process (its own NSS state, pinned to one CPU). */
static void
measure_in_child(const struct env *e, enum src s, unsigned n, const struct limits *lim,
    int cpu, struct srcres *res)
{
	int pfd[2], status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (set_nsswitch(e, s) < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(res->why, sizeof(res->why), "setting up: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct srcres r;
		cpu_set_t one;

		close(pfd[0]);
		if (cpu >= 0) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			sched_setaffinity(0, sizeof(one), &one);
		}
		run_source(s, n, lim, &r);
		_exit(write(pfd[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	if (pid < 0 || read_full(pfd[0], res, sizeof(*res), lim->child_s) < 0) {
		memset(res, 0, sizeof(*res));
		snprintf(res->why, sizeof(res->why), "the measuring process %s",
		    pid < 0 ? "could not start" : "gave no result in time");
		if (pid > 0)
			kill(pid, SIGKILL);
	}
	close(pfd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
}

/* ---------- strace: the system calls of lookups in steady state ---------- */

enum kind { K_HITS, K_MISSES };

/* The probe (exec'ed under strace): warm up, write a marker, ROUNDS rounds of four lookups
 * (getpwnam, getpwuid, getgrnam, getgrouplist; all hits or all misses), another marker. */
static int
probe_main(enum src s, unsigned n, enum kind kind, unsigned rounds, size_t ring)
{
	static const enum op hits[4] = { O_PWNAM_HIT, O_PWUID_HIT, O_GRNAM_HIT, O_GL_HIT };
	static const enum op misses[4] = { O_PWNAM_MISS, O_PWUID_MISS, O_GRNAM_MISS, O_GL_MISS };
	const enum op *ops = kind == K_HITS ? hits : misses;
	lookup_fn fn[4];
	struct ctx c;
	char why[256];
	uint64_t wrong = 0, lookups = 0;
	size_t len, k = 0;

	if (ctx_init(&c, s, n, ring, why, sizeof(why)) < 0) {
		fprintf(stderr, "bench/nss probe: %s\n", why);
		return 2;
	}
	if (kind == K_MISSES && c.nmiss > ring)
		c.nmiss = ring;
	len = ring_of(&c, ops[0]);
	for (int i = 0; i < 4; i++)
		fn[i] = fn_of(&c, ops[i]);
	for (size_t x = 0; x < len; x++)	/* warm-up: every name of the ring once */
		for (int i = 0; i < 4; i++)
			wrong += (uint64_t)fn[i](&c, x);
	if (write(-1, MARK_BEGIN, strlen(MARK_BEGIN)) != -1)
		return 2;
	for (unsigned r = 0; r < rounds; r++) {
		for (int i = 0; i < 4; i++)
			wrong += (uint64_t)fn[i](&c, k);
		lookups += 4;
		if (++k == len)
			k = 0;
	}
	if (write(-1, MARK_END, strlen(MARK_END)) != -1)
		return 2;
	printf("lookups=%llu wrong=%llu\n", (unsigned long long)lookups,
	    (unsigned long long)wrong);
	return wrong ? 3 : 0;
}

struct trace {
	int ran;
	uint64_t lookups, wrong;
	uint64_t calls;		/* between the markers */
	uint64_t nsswitch;	/* glibc's stat of /etc/nsswitch.conf */
	uint64_t nscd;		/* glibc's attempts at nscd's socket: socket, connect, close */
	uint64_t connects;	/* connect() to anything else */
	char top[160];		/* the most frequent calls */
};

struct sysc {
	char name[32];
	uint64_t n;
};

static void
count_call(struct sysc *t, size_t *nt, const char *name)
{
	size_t i;

	for (i = 0; i < *nt && strcmp(t[i].name, name) != 0; i++)
		;
	if (i == *nt) {
		if (*nt == 64)
			return;
		snprintf(t[i].name, sizeof(t[0].name), "%s", name);
		t[i].n = 0;
		(*nt)++;
	}
	t[i].n++;
}

static int
cmp_sysc(const void *a, const void *b)
{
	const struct sysc *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

/* Count strace -f's lines between the markers; attribute glibc's own calls. */
static int
parse_trace(const char *log, struct trace *t)
{
	struct sysc calls[64];
	size_t ncalls = 0, tl = 0;
	char line[4096], name[32], nscd_fd[16] = "";
	bool in = false, pending_socket = false;
	FILE *f = fopen(log, "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		size_t nl;

		while (*p >= '0' && *p <= '9')	/* "PID  " with -f */
			p++;
		while (*p == ' ')
			p++;
		if (strstr(p, MARK_BEGIN[0] ? "bench/nss steady" : "") && strncmp(p, "write(-1", 8) == 0) {
			in = true;
			continue;
		}
		if (strncmp(p, "write(-1", 8) == 0 && strstr(p, "bench/nss end"))
			break;
		if (!in || strncmp(p, "<...", 4) == 0 || *p == '+' || *p == '-')
			continue;
		nl = strcspn(p, "(");
		if (nl == 0 || nl >= sizeof(name) || p[nl] != '(')
			continue;
		memcpy(name, p, nl);
		name[nl] = '\0';
		t->calls++;
		count_call(calls, &ncalls, name);
		if (strstr(p, "\"/etc/nsswitch.conf\""))
			t->nsswitch++;
		else if (strcmp(name, "connect") == 0 && strstr(p, "nscd")) {
			t->nscd += 1 + pending_socket;
			snprintf(nscd_fd, sizeof(nscd_fd), "%.*s", (int)strcspn(p + 8, ","), p + 8);
		} else if (strcmp(name, "connect") == 0)
			t->connects++;
		else if (strcmp(name, "close") == 0 && nscd_fd[0] &&
		    strncmp(p + 6, nscd_fd, strlen(nscd_fd)) == 0 && p[6 + strlen(nscd_fd)] == ')') {
			t->nscd++;
			nscd_fd[0] = '\0';
		}
		pending_socket = strcmp(name, "socket") == 0 && strstr(p, "AF_UNIX");
	}
	fclose(f);
	qsort(calls, ncalls, sizeof(calls[0]), cmp_sysc);
	t->top[0] = '\0';
	for (size_t i = 0; i < ncalls && i < 5; i++)
		tl += (size_t)snprintf(t->top + tl, sizeof(t->top) - tl, "%s%s %s", i ? ", " : "",
		    calls[i].name, num(calls[i].n));
	return 0;
}

static int
trace_run(const struct env *e, enum src s, unsigned n, enum kind kind, unsigned rounds,
    size_t ring, struct trace *t)
{
	char log[4200], out[4200], a_src[8], a_n[16], a_kind[8], a_rounds[16], a_ring[16];
	char self[4096];
	ssize_t len;
	uint64_t t0 = now_ns();
	int status = -1;
	pid_t pid;
	FILE *f;

	memset(t, 0, sizeof(*t));
	snprintf(log, sizeof(log), "%s/%s-%d-%u.strace", e->path[P_TRACE], src_name[s], kind,
	    rounds);
	if ((size_t)snprintf(out, sizeof(out), "%s.out", log) >= sizeof(out))
		return -1;
	snprintf(a_src, sizeof(a_src), "%d", s);
	snprintf(a_n, sizeof(a_n), "%u", n);
	snprintf(a_kind, sizeof(a_kind), "%d", kind);
	snprintf(a_rounds, sizeof(a_rounds), "%u", rounds);
	snprintf(a_ring, sizeof(a_ring), "%zu", ring);
	/* strace runs the probe: /proc/self/exe would name strace itself, so resolve it here. */
	if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return -1;
	self[len] = '\0';
	if (set_nsswitch(e, s) < 0)
		return -1;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execlp(STRACE, STRACE, "-f", "-qq", "-s", "64", "-o", log, "--",
		    self, "--probe", a_src, a_n, a_kind, a_rounds, a_ring, (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (secs_since(t0) > 120 || interrupted) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		sleep_ms(10);
	}
	if ((f = fopen(out, "re")) != NULL) {
		unsigned long long l = 0, w = 0;

		if (fscanf(f, "lookups=%llu wrong=%llu", &l, &w) == 2) {
			t->lookups = l;
			t->wrong = w;
		}
		fclose(f);
	}
	if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3) ||
	    t->lookups == 0 || parse_trace(log, t) < 0)
		return -1;
	t->ran = 1;
	return 0;
}

/* ---------- reporting ---------- */

struct sizeres {
	unsigned n;
	int ran;
	size_t snap_len;
	double build_s, sssd_start_s;
	bool sss_up;
	struct srcres src[N_SRC];
};

static void
print_size(const struct sizeres *z)
{
	const struct srcres *r = z->src;
	uint64_t lookups = 0, wrong = 0;

	printf("\n---- %s users, %s groups ----\n", num(z->n), num(z->n));
	printf("snapshot %s bytes, built and published in %.2f s", num(z->snap_len), z->build_s);
	if (z->sss_up)
		printf("; sssd up in %.2f s, its caches warmed in %.1f s (%s hits, %s misses)",
		    z->sssd_start_s, r[S_SSS].warm_s, num(r[S_SSS].nhit), num(r[S_SSS].nmiss));
	printf("\nns per lookup, best of the rounds    module    idgate     files       sss   "
	    "sss-mod   idgate/files idgate/sss module/sss-mod\n");
	for (int o = 0; o < N_OPS; o++) {
		const struct fig *i = &r[S_IDGATE].fig[o], *f = &r[S_FILES].fig[o],
		    *s = &r[S_SSS].fig[o], *m = &r[S_MOD].fig[o], *sm = &r[S_SSSMOD].fig[o];
		char rf[16] = "-", rs[16] = "-", rm[16] = "-";

		if (o == O_GL_WIDE && z->n < WIDE)
			continue;
		if (i->ran && f->ran)
			snprintf(rf, sizeof(rf), "%.3fx", i->ns / f->ns);
		if (i->ran && s->ran)
			snprintf(rs, sizeof(rs), "%.2fx", i->ns / s->ns);
		if (m->ran && sm->ran)
			snprintf(rm, sizeof(rm), "%.2fx", m->ns / sm->ns);
		printf("  %-32s %9s %9s %9s %9s %9s %14s %10s %14s\n", op_name[o],
		    cost(m->ran ? m->ns : 0), cost(i->ran ? i->ns : 0), cost(f->ran ? f->ns : 0),
		    cost(s->ran ? s->ns : 0), cost(sm->ran ? sm->ns : 0), rf, rs, rm);
	}
	for (int s = 0; s < N_SRC; s++) {
		if (!r[s].ran) {
			printf("  %s: not measured: %s\n", src_name[s], r[s].why[0] ? r[s].why :
			    "not run");
			continue;
		}
		for (int o = 0; o < N_OPS; o++) {
			lookups += r[s].fig[o].ops;
			wrong += r[s].fig[o].wrong;
		}
		wrong += r[s].verify_bad;
		if (r[s].verify_bad)
			printf("  %s: %s of %s full checks WRONG\n", src_name[s], num(r[s].verify_bad),
			    num(r[s].checked));
	}
	printf("answers: %s timed lookups and %s full checks, %s wrong\n", num(lookups),
	    num(r[0].checked + r[1].checked + r[2].checked + r[3].checked), num(wrong));
}

static uint64_t
size_wrong(const struct sizeres *z)
{
	uint64_t w = 0;

	for (int s = 0; s < N_SRC; s++) {
		w += z->src[s].verify_bad;
		for (int o = 0; o < N_OPS; o++)
			w += z->src[s].fig[o].wrong;
	}
	return w;
}

static const char *
verdict(bool met)
{
	return met ? "met" : "MISSED";
}

static void
print_summary(const struct sizeres *z, int nz, double secs)
{
	const struct sizeres *first = NULL, *last = NULL, *wide = NULL;

	printf("\n==== summary: ns per lookup through glibc (the module's entry points alone in "
	    "brackets) ====\n");
	printf("%-18s %9s %19s %10s %19s %-20s %-12s %-18s\n", "", "entries", "idgate [module]",
	    "files", "sss [module]", "vs files", "vs sss", "module vs sss module");
	for (int o = 0; o < O_GL_WIDE; o++) {
		bool miss = op_is_miss((enum op)o);

		for (int k = 0; k < nz; k++) {
			const struct srcres *r = z[k].src;
			const struct fig *i = &r[S_IDGATE].fig[o], *m = &r[S_MOD].fig[o],
			    *f = &r[S_FILES].fig[o], *s = &r[S_SSS].fig[o], *sm = &r[S_SSSMOD].fig[o];
			char both[40], sboth[40], vf[40] = "-", vs[40] = "-", vm[40] = "-";

			if (!z[k].ran)
				continue;
			snprintf(both, sizeof(both), "%s [%s]", cost(i->ran ? i->ns : 0),
			    cost(m->ran ? m->ns : 0));
			if (i->ran && f->ran)
				snprintf(vf, sizeof(vf), "%.3fx (<=%s %s)", i->ns / f->ns,
				    miss ? "0.2" : "0.25",
				    verdict(i->ns / f->ns <= (miss ? 0.2 : 0.25)));
			snprintf(sboth, sizeof(sboth), "%s [%s]", cost(s->ran ? s->ns : 0),
			    cost(sm->ran ? sm->ns : 0));
			if (i->ran && s->ran)
				snprintf(vs, sizeof(vs), "%.2fx", i->ns / s->ns);
			if (m->ran && sm->ran)
				snprintf(vm, sizeof(vm), miss ? "%.3fx" : "%.2fx (<=0.5 %s)",
				    m->ns / sm->ns, verdict(m->ns / sm->ns <= 0.5));
			printf("%-18s %9s %19s %10s %19s %-20s %-12s %-18s\n", k == 0 ? op_name[o] : "",
			    num(z[k].n), both, cost(f->ran ? f->ns : 0), sboth, vf, vs, vm);
		}
	}
	for (int k = 0; k < nz; k++) {
		if (!z[k].ran)
			continue;
		if (first == NULL)
			first = &z[k];
		last = &z[k];
		if (z[k].n >= WIDE && z[k].src[S_IDGATE].fig[O_GL_WIDE].ran && wide == NULL)
			wide = &z[k];
	}
	if (first && last && first != last) {
		printf("flat cost, idgate through glibc, %s -> %s entries (target < 2x; files for "
		    "comparison):\n", num(first->n), num(last->n));
		for (int o = 0; o < O_GL_WIDE; o++) {
			const struct fig *a = &first->src[S_IDGATE].fig[o],
			    *b = &last->src[S_IDGATE].fig[o], *fa = &first->src[S_FILES].fig[o],
			    *fb = &last->src[S_FILES].fig[o];

			if (!a->ran || !b->ran)
				continue;
			printf("  %-18s %.2fx %-6s", op_name[o], b->ns / a->ns, verdict(b->ns / a->ns < 2));
			if (fa->ran && fb->ran)
				printf("   files %sx", num((uint64_t)(fb->ns / fa->ns + 0.5)));
			printf("\n");
		}
	}
	for (int k = 0; k < nz; k++) {
		const struct fig *i = &z[k].src[S_IDGATE].fig[O_GL_WIDE],
		    *m = &z[k].src[S_MOD].fig[O_GL_WIDE], *f = &z[k].src[S_FILES].fig[O_GL_WIDE],
		    *s = &z[k].src[S_SSS].fig[O_GL_WIDE];

		if (!z[k].ran || !i->ran)
			continue;
		printf("getgrouplist, a user in 1,000 groups, %s entries: %.1f us through glibc "
		    "[%.1f us module] (target < 50 us: %s); files %s, sss %s\n", num(z[k].n),
		    i->ns / 1e3, m->ran ? m->ns / 1e3 : 0, verdict(i->ns < 50e3),
		    cost(f->ran ? f->ns : 0), cost(s->ran ? s->ns : 0));
	}
	printf("reference on this machine class: files hit ~3.7 us, sss memory cache hit ~0.48 us, "
	    "sss miss ~60 us, nscd ~35 ns\n");
	printf("total run time %.0f s\n", secs);
}

static bool
print_traces(const struct trace t[N_SRC][2][2], const unsigned rounds[N_SRC][2], unsigned n)
{
	bool ok = true;

	printf("\n==== system calls in steady state (strace -f, %s entries; counted between two "
	    "markers the probe writes after its warm-up) ====\n", num(n));
	printf("%-7s %-7s %8s %8s %9s %9s %8s  %-10s %-9s %-8s\n", "source", "lookups", "few", "calls",
	    "many", "calls", "per", "nsswitch", "nscd", "other");
	printf("%-7s %-7s %8s %8s %9s %9s %8s  %-10s %-9s %-8s\n", "", "", "lookups", "", "lookups", "",
	    "lookup", "(glibc)", "(glibc)", "connect");
	for (int s = 0; s < N_SRC; s++)
		for (int k = 0; k < 2; k++) {
			const struct trace *a = &t[s][k][0], *b = &t[s][k][1];
			double per;

			if (!a->ran || !b->ran) {
				printf("%-7s %-7s not traced\n", src_name[s], k ? "misses" : "hits");
				if (s <= S_IDGATE)
					ok = false;
				continue;
			}
			per = (double)((int64_t)b->calls - (int64_t)a->calls) /
			    (double)(b->lookups - a->lookups);
			printf("%-7s %-7s %8s %8s %9s %9s %8.3f  %-10s %-9s %-8s\n", src_name[s],
			    k ? "misses" : "hits", num(a->lookups), num(a->calls), num(b->lookups),
			    num(b->calls), per, num(b->nsswitch), num(b->nscd), num(b->connects));
			if (a->wrong || b->wrong)
				ok = false;
		}
	for (int s = 0; s < N_SRC; s++)
		for (int k = 0; k < 2; k++)
			if (t[s][k][1].ran && t[s][k][1].calls)
				printf("  %s %s, %s lookups: %s\n", src_name[s], k ? "misses" : "hits",
				    num(t[s][k][1].lookups), t[s][k][1].top);
	(void)rounds;
	return ok;
}

/* ---------- main ---------- */

static void
print_host(void)
{
	char model[256];
	struct utsname u;
	void *dl;
	struct link_map *lm = NULL;

	cpu_model(model, sizeof(model));
	if (uname(&u) < 0)
		snprintf(u.release, sizeof(u.release), "?");
	printf("bench/nss (idgate %s): %s, %ld CPUs online, Linux %s, glibc %s\n", PACKAGE_VERSION,
	    model, sysconf(_SC_NPROCESSORS_ONLN), u.release, gnu_get_libc_version());
	if ((dl = dlopen("libnss_idgate.so.2", RTLD_LAZY | RTLD_LOCAL)) != NULL &&
	    dlinfo(dl, RTLD_DI_LINKMAP, &lm) == 0 && lm != NULL)
		printf("module: %s (LD_LIBRARY_PATH=%s)\n", lm->l_name,
		    getenv("LD_LIBRARY_PATH") ? getenv("LD_LIBRARY_PATH") : "");
	if (dl)
		dlclose(dl);
	printf("snapshot: %s (a private directory over it)\n", IDG_NSS_SNAPSHOT);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench/nss [--quick] [--no-sss] [--sizes N,N,...]\n"
	    "  NSS lookups through libnss_idgate.so.2 (found through LD_LIBRARY_PATH), glibc's\n"
	    "  files and SSSD's sss, in a private mount namespace; needs root. bench/run-nss.sh\n"
	    "  sets LD_LIBRARY_PATH to the build's module. See bench/README.md.\n");
}

static int
parse_sizes(const char *s, unsigned *out, int max)
{
	int k = 0;

	while (*s && k < max) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v < 10 || v > 1000000)
			return -1;
		out[k++] = (unsigned)v;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -1;
	}
	return k;
}

static bool
run_size(struct env *e, unsigned n, const struct limits *lim, bool sss, int cpu,
    struct sizeres *z)
{
	char err[512];
	uint64_t t0 = now_ns();
	bool ok = true;

	memset(z, 0, sizeof(*z));
	z->n = n;
	if (write_etc(n, e->path[P_PASSWD], e->path[P_GROUP], e->path[P_SSSD_PASSWD],
	    e->path[P_SSSD_GROUP]) < 0) {
		printf("%s entries: writing passwd and group: %s\n", num(n), strerror(errno));
		return false;
	}
	if (publish_snapshot(n, &z->snap_len, err, sizeof(err)) < 0) {
		printf("%s entries: the snapshot: %s\n", num(n), err);
		return false;
	}
	z->build_s = secs_since(t0);
	if (sss) {
		if (sssd_start(e, &z->sssd_start_s) == 0)
			z->sss_up = true;
		else {
			printf("\nsss skipped at %s entries: %s\n", num(n), e->sssd_why);
			if (strstr(e->sssd_why, "log:"))
				print_tail(e->path[P_SSSD_LOG], "    ", 6);
			sssd_stop(e);
		}
	}
	for (int s = 0; s < N_SRC && !interrupted; s++) {
		if (is_sss((enum src)s) && !z->sss_up) {
			snprintf(z->src[s].why, sizeof(z->src[s].why), "%s",
			    sss ? "sssd could not be set up (above)" : "--no-sss");
			continue;
		}
		measure_in_child(e, (enum src)s, n, lim, cpu, &z->src[s]);
		if (!z->src[s].ran && !is_sss((enum src)s))
			ok = false;
	}
	z->ran = z->src[S_IDGATE].ran;
	return ok;
}

static bool
run_traces(struct env *e, unsigned n, const struct limits *lim, const struct sizeres *z)
{
	static struct trace t[N_SRC][2][2];
	unsigned rounds[N_SRC][2];

	memset(t, 0, sizeof(t));
	for (int s = 0; s < N_SRC && !interrupted; s++) {
		bool fast = s == S_MOD || s == S_IDGATE;

		rounds[s][0] = lim->trace_small;
		rounds[s][1] = fast ? lim->trace_large : lim->trace_large_slow;
		if ((s == S_SSS && !z->src[S_SSS].ran) || s == S_SSSMOD)
			continue;
		for (int k = 0; k < 2; k++)
			for (int r = 0; r < 2; r++) {
				size_t ring = s == S_SSS ? (k ? z->src[s].nmiss : z->src[s].nhit) :
				    lim->ring;

				if (trace_run(e, (enum src)s, n, (enum kind)k, rounds[s][r], ring,
				    &t[s][k][r]) < 0)
					t[s][k][r].ran = 0;
			}
	}
	return print_traces((const struct trace(*)[2][2])t, (const unsigned(*)[2])rounds, n);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "no-sss", no_argument, NULL, 'S' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct limits lim = { .ring = 16384, .ops = 1000000, .round_s = 0.2, .rounds = 3,
		.warm_op_s = 0.2, .sss_warm_s = 40, .trace_small = 100, .trace_large = 10000,
		.trace_large_slow = 1000, .child_s = 600 };
	unsigned sizes[8] = { 10, 1000, 100000 };
	static struct sizeres z[8];
	struct sigaction sa = { .sa_handler = on_signal };
	struct env e;
	char why[512];
	bool sss = true, ok = true;
	int opt, nsizes = 3, cpu;
	uint64_t t0 = now_ns(), wrong = 0;

	if (argc == 7 && strcmp(argv[1], "--probe") == 0)	/* under strace, from trace_run() */
		return probe_main((enum src)atoi(argv[2]), (unsigned)strtoul(argv[3], NULL, 10),
		    (enum kind)atoi(argv[4]), (unsigned)strtoul(argv[5], NULL, 10),
		    (size_t)strtoul(argv[6], NULL, 10));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': lim = (struct limits){ .ring = 2048, .ops = 100000, .round_s = 0.05,
			.rounds = 2, .warm_op_s = 0.05, .sss_warm_s = 10, .trace_small = 10,
			.trace_large = 1000, .trace_large_slow = 100, .child_s = 300 };
			break;
		case 'S': sss = false; break;
		case 'z':
			if ((nsizes = parse_sizes(optarg, sizes, 8)) <= 0) {
				usage(stderr);
				return 1;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	print_host();
	if (geteuid() != 0 || env_setup(&e, why, sizeof(why)) < 0) {
		printf("cannot run: %s\n", geteuid() != 0 ? "needs root (a mount namespace, bind "
		    "mounts, sssd)" : why);
		if (geteuid() == 0)
			env_cleanup(&e);
		return 1;
	}
	printf("private files in %s, bind-mounted over /etc/nsswitch.conf, /etc/passwd, "
	    "/etc/group, /etc/sssd, /var/lib/sss, /run and %s%s\n", e.dir, e.snapdir,
	    e.snapdir_made ? " (created: the module looks there)" : "");
	if (lim.ops < 1000000)
		printf("--quick: smaller rings, rounds and traces; figures compare with nothing\n");
	cpu = sched_getcpu();
	for (int k = 0; k < nsizes && !interrupted; k++) {
		if (!run_size(&e, sizes[k], &lim, sss, cpu, &z[k]))
			ok = false;
		print_size(&z[k]);
		wrong += size_wrong(&z[k]);
		if ((sizes[k] == 1000 || (k == nsizes - 1 && !interrupted && nsizes == 1)) &&
		    !interrupted && !run_traces(&e, sizes[k], &lim, &z[k]))
			ok = false;
		sssd_stop(&e);
	}
	print_summary(z, nsizes, secs_since(t0));
	if (wrong) {
		printf("WRONG ANSWERS: %s\n", num(wrong));
		ok = false;
	}
	sssd_stop(&e);
	env_cleanup(&e);
	if (interrupted)
		printf("interrupted\n");
	return ok && !interrupted ? 0 : 1;
}
