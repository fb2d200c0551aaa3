/* nss_driver: calls glibc's reentrant lookups with chosen buffer sizes, for t_nss_glibc.sh.
 *
 *   nss_driver pwnam NAME BUFSIZE | pwuid UID BUFSIZE | grnam NAME BUFSIZE | grgid GID BUFSIZE
 *   nss_driver initgroups USER GID          count and list of getgrouplist()
 *   nss_driver loop NAME MISS N             N hits and N misses through glibc
 *   nss_driver direct MODULE NAME MISS N    the module's own entry points, dlopen'ed: N
 *                                           rounds of every lookup, hit and miss (strace -c
 *                                           counts the same system calls for any N)
 *   nss_driver threads NAME GECOS_A UID_A GECOS_B UID_B SECONDS
 *                                           8 threads look NAME up until SECONDS pass;
 *                                           every answer must be snapshot A's or B's
 *   nss_driver hold NAME SECONDS            look NAME up (glibc, then the group lists) until
 *                                           SECONDS pass: "found=N missing=M" (the
 *                                           snapshot may be truncated meanwhile: it must
 *                                           survive)
 *   nss_driver serve SOCKET MODE            answer one IDG_OP_NSS_PROVISIONAL as idgated
 *                                           would (MODE ok|input|badid|silent), then exit
 *   nss_driver status MODULE CALL KEY BUFSIZE
 *                                           the module's _nss_idgate_CALL (getpwnam,
 *                                           getpwuid, getgrnam, getgrgid) itself: prints
 *                                           "status=S errno=E" (the NSS status, which glibc
 *                                           hides) and the entry
 *   nss_driver ent MODULE pw|gr             set/get/end*ent: a 2-byte buffer first (must
 *                                           not move the position), then every entry
 *   nss_driver initdyn MODULE USER GROUP LIMIT [GID,...]
 *                                           _nss_idgate_initgroups_dyn on an array that
 *                                           holds the GIDs (full: it must grow)
 *
 * Lookups print "rc=N" (the function's return value) and the entry in /etc format. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <nss.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/api.h"
#include "proto/wire.h"

static char *
xbuf(size_t n)
{
	char *b = malloc(n ? n : 1);

	if (b == NULL)
		exit(3);
	return b;
}

static int
do_pw(int byname, const char *key, size_t len)
{
	struct passwd pw, *res = NULL;
	char *buf = xbuf(len);
	int rc = byname ? getpwnam_r(key, &pw, buf, len, &res)
	    : getpwuid_r((uid_t)strtoul(key, NULL, 10), &pw, buf, len, &res);

	printf("rc=%d\n", rc);
	if (res != NULL)
		printf("%s:%s:%u:%u:%s:%s:%s\n", pw.pw_name, pw.pw_passwd, (unsigned)pw.pw_uid,
		    (unsigned)pw.pw_gid, pw.pw_gecos, pw.pw_dir, pw.pw_shell);
	free(buf);
	return res != NULL ? 0 : 1;
}

static int
do_gr(int byname, const char *key, size_t len)
{
	struct group gr, *res = NULL;
	char *buf = xbuf(len);
	int rc = byname ? getgrnam_r(key, &gr, buf, len, &res)
	    : getgrgid_r((gid_t)strtoul(key, NULL, 10), &gr, buf, len, &res);
	size_t n = 0;

	printf("rc=%d\n", rc);
	if (res != NULL) {
		for (; gr.gr_mem[n] != NULL; n++)
			;
		printf("%s:%s:%u:%zu members", gr.gr_name, gr.gr_passwd, (unsigned)gr.gr_gid, n);
		if (n > 0)
			printf(" first=%s last=%s", gr.gr_mem[0], gr.gr_mem[n - 1]);
		printf("\n");
	}
	free(buf);
	return res != NULL ? 0 : 1;
}

static int
do_initgroups(const char *user, gid_t gid)
{
	int n = 0;
	gid_t *g;

	getgrouplist(user, gid, NULL, &n);
	g = (gid_t *)xbuf((size_t)n * sizeof(gid_t));
	if (getgrouplist(user, gid, g, &n) < 0)
		return 1;
	printf("%d", n);
	for (int i = 0; i < n && i < 5; i++)
		printf(" %u", (unsigned)g[i]);
	printf("\n");
	free(g);
	return 0;
}

static int
do_loop(const char *name, const char *miss, long n)
{
	struct passwd pw, *res;
	char buf[4096];
	long hits = 0;

	for (long i = 0; i < n; i++) {
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
			hits++;
		getpwnam_r(miss, &pw, buf, sizeof(buf), &res);
	}
	printf("hits=%ld\n", hits);
	return hits == n ? 0 : 1;
}

static int
do_hold(const char *name, double seconds)
{
	struct passwd pw, *res;
	struct group gr, *gres;
	char buf[4096];
	long found = 0, missing = 0;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		gid_t groups[64];
		int n = 64;

		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 && res != NULL) {
			found++;
			(void)getgrouplist(name, res->pw_gid, groups, &n);
			(void)getgrgid_r(res->pw_gid, &gr, buf, sizeof(buf), &gres);
		} else {
			missing++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	printf("found=%ld missing=%ld\n", found, missing);
	return 0;
}

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*grgid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long *, long *, gid_t **, long, int *);

/* One round of every entry point; the number of SUCCESS answers. */
static int
direct_round(void *h, const char *name, const char *miss, gid_t **groups, long *size)
{
	pwnam_fn pwnam = (pwnam_fn)dlsym(h, "_nss_idgate_getpwnam_r");
	pwuid_fn pwuid = (pwuid_fn)dlsym(h, "_nss_idgate_getpwuid_r");
	grnam_fn grnam = (grnam_fn)dlsym(h, "_nss_idgate_getgrnam_r");
	grgid_fn grgid = (grgid_fn)dlsym(h, "_nss_idgate_getgrgid_r");
	initgr_fn initgr = (initgr_fn)dlsym(h, "_nss_idgate_initgroups_dyn");
	struct passwd pw;
	struct group gr;
	char buf[65536];
	long start = 0;
	int e, ok = 0;

	if (pwnam(name, &pw, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS) {
		uid_t uid = pw.pw_uid;
		gid_t gid = pw.pw_gid;

		ok++;
		ok += pwuid(uid, &pw, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS;
		ok += grgid(gid, &gr, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS;
		if (ok == 3)
			ok += grnam(gr.gr_name, &gr, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS;
		ok += initgr(name, gid, &start, size, groups, 0, &e) == NSS_STATUS_SUCCESS;
	}
	ok += pwnam(miss, &pw, buf, sizeof(buf), &e) == NSS_STATUS_NOTFOUND;
	ok += pwuid(0, &pw, buf, sizeof(buf), &e) == NSS_STATUS_NOTFOUND;
	ok += grnam(miss, &gr, buf, sizeof(buf), &e) == NSS_STATUS_NOTFOUND;
	ok += grgid(0, &gr, buf, sizeof(buf), &e) == NSS_STATUS_NOTFOUND;
	return ok;
}

static int
do_direct(const char *module, const char *name, const char *miss, long n)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	long size = 4;
	gid_t *groups = malloc((size_t)size * sizeof(gid_t));
	int first, ok = 1;

	if (h == NULL || groups == NULL)
		return 3;
	first = direct_round(h, name, miss, &groups, &size);	/* maps the snapshot */
	for (long i = 0; i < n; i++)
		ok &= direct_round(h, name, miss, &groups, &size) == first;
	printf("answers=%d same=%d\n", first, ok);
	free(groups);
	dlclose(h);
	return first == 9 && ok ? 0 : 1;
}

/* ---------- the module's own entry points and statuses ---------- */

static void *
sym(void *h, const char *fn)
{
	char name[64];
	void *f;

	snprintf(name, sizeof(name), "_nss_idgate_%s", fn);
	if ((f = dlsym(h, name)) == NULL) {
		fprintf(stderr, "no %s\n", name);
		exit(3);
	}
	return f;
}

static void
print_pw(const struct passwd *pw)
{
	printf("%s:%s:%u:%u:%s:%s:%s\n", pw->pw_name, pw->pw_passwd, (unsigned)pw->pw_uid,
	    (unsigned)pw->pw_gid, pw->pw_gecos, pw->pw_dir, pw->pw_shell);
}

static void
print_gr(const struct group *gr)
{
	size_t n = 0;

	for (; gr->gr_mem[n] != NULL; n++)
		;
	printf("%s:%s:%u:%zu members\n", gr->gr_name, gr->gr_passwd, (unsigned)gr->gr_gid, n);
}

static int
do_status(const char *module, const char *call, const char *key, size_t len)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	char *buf = xbuf(len);
	struct passwd pw;
	struct group gr;
	int e = 0, pwcall = strncmp(call, "getpw", 5) == 0;
	enum nss_status st;
	unsigned long id = strtoul(key, NULL, 10);

	if (h == NULL)
		return 3;
	if (strcmp(call, "getpwnam") == 0)
		st = ((pwnam_fn)sym(h, "getpwnam_r"))(key, &pw, buf, len, &e);
	else if (strcmp(call, "getpwuid") == 0)
		st = ((pwuid_fn)sym(h, "getpwuid_r"))((uid_t)id, &pw, buf, len, &e);
	else if (strcmp(call, "getgrnam") == 0)
		st = ((grnam_fn)sym(h, "getgrnam_r"))(key, &gr, buf, len, &e);
	else if (strcmp(call, "getgrgid") == 0)
		st = ((grgid_fn)sym(h, "getgrgid_r"))((gid_t)id, &gr, buf, len, &e);
	else
		return 2;
	printf("status=%d errno=%d\n", (int)st, st == NSS_STATUS_SUCCESS ? 0 : e);
	if (st == NSS_STATUS_SUCCESS && pwcall)
		print_pw(&pw);
	else if (st == NSS_STATUS_SUCCESS)
		print_gr(&gr);
	free(buf);
	dlclose(h);
	return 0;
}

typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grent_fn)(struct group *, char *, size_t, int *);

/* One getpwent_r/getgrent_r; the entry's name into name (when found). */
static enum nss_status
ent_one(void *h, int pw, char *buf, size_t len, int *e, char *name, size_t nsize)
{
	struct passwd p;
	struct group g;
	enum nss_status st;

	if (pw)
		st = ((pwent_fn)sym(h, "getpwent_r"))(&p, buf, len, e);
	else
		st = ((grent_fn)sym(h, "getgrent_r"))(&g, buf, len, e);
	if (st == NSS_STATUS_SUCCESS)
		snprintf(name, nsize, "%s", pw ? p.pw_name : g.gr_name);
	return st;
}

/* Prints "set=S short=S/E first=NAME count=N end=S again=S". */
static int
do_ent(const char *module, const char *which)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	int pw = strcmp(which, "pw") == 0, e = 0, es = 0;
	char buf[65536], first[256] = "-", name[256];
	enum nss_status set, shrt, st;
	long n = 0;

	if (h == NULL)
		return 3;
	set = ((setent_fn)sym(h, pw ? "setpwent" : "setgrent"))(0);
	shrt = ent_one(h, pw, buf, 2, &es, name, sizeof(name));
	while ((st = ent_one(h, pw, buf, sizeof(buf), &e, name, sizeof(name))) ==
	    NSS_STATUS_SUCCESS && n < 1000000) {
		if (n++ == 0)
			snprintf(first, sizeof(first), "%s", name);
	}
	printf("set=%d short=%d/%d first=%s count=%ld end=%d", (int)set, (int)shrt,
	    shrt == NSS_STATUS_SUCCESS ? 0 : es, first, n, (int)st);
	printf(" again=%d\n", (int)ent_one(h, pw, buf, sizeof(buf), &e, name, sizeof(name)));
	((endent_fn)sym(h, pw ? "endpwent" : "endgrent"))();
	dlclose(h);
	return 0;
}

/* Prints "status=S errno=E start=N size=N: GID GID ...". */
static int
do_initdyn(const char *module, const char *user, gid_t group, long limit, const char *preset)
{
	void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	long start = 0, size = 1;
	gid_t *g = malloc(sizeof(gid_t));
	char *copy = strdup(preset ? preset : ""), *tok, *save = NULL;
	enum nss_status st;
	int e = 0;

	if (h == NULL || g == NULL || copy == NULL)
		return 3;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (start == size && (g = realloc(g, (size_t)++size * sizeof(gid_t))) == NULL)
			return 3;
		g[start++] = (gid_t)strtoul(tok, NULL, 10);
	}
	size = start > 0 ? start : 1;	/* full: the module must grow it */
	st = ((initgr_fn)sym(h, "initgroups_dyn"))(user, group, &start, &size, &g, limit, &e);
	printf("status=%d errno=%d start=%ld size=%ld:", (int)st,
	    st == NSS_STATUS_SUCCESS ? 0 : e, start, size);
	for (long i = 0; i < start && i < 8; i++)
		printf(" %u", (unsigned)g[i]);
	printf("\n");
	free(g);
	free(copy);
	dlclose(h);
	return 0;
}

/* ---------- 8 threads while the snapshot is replaced ---------- */

struct tharg {
	const char *name, *ga, *gb;
	uid_t ua, ub;
	time_t until;
	long n, a, b, bad;
};

static void *
thread_main(void *p)
{
	struct tharg *t = p;
	struct passwd pw, *res;
	char buf[1024];

	while (time(NULL) < t->until && t->n < 2000000) {
		int rc = getpwnam_r(t->name, &pw, buf, sizeof(buf), &res);

		t->n++;
		if (rc == 0 && res != NULL && pw.pw_uid == t->ua && strcmp(pw.pw_gecos, t->ga) == 0)
			t->a++;
		else if (rc == 0 && res != NULL && pw.pw_uid == t->ub &&
		    strcmp(pw.pw_gecos, t->gb) == 0)
			t->b++;
		else
			t->bad++;
	}
	return NULL;
}

static int
do_threads(char **av)
{
	struct tharg t[8];
	pthread_t th[8];
	long n = 0, a = 0, b = 0, bad = 0;

	for (int i = 0; i < 8; i++) {
		t[i] = (struct tharg){ av[0], av[1], av[3], (uid_t)atol(av[2]), (uid_t)atol(av[4]),
			time(NULL) + atol(av[5]), 0, 0, 0, 0 };
		if (pthread_create(&th[i], NULL, thread_main, &t[i]) != 0)
			return 3;
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		n += t[i].n;
		a += t[i].a;
		b += t[i].b;
		bad += t[i].bad;
	}
	printf("lookups=%ld a=%ld b=%ld bad=%ld\n", n, a, b, bad);
	return bad == 0 ? 0 : 1;
}

/* ---------- a stand-in for idgated's provisional answer ---------- */

static int
reply(int c, const char *mode, const char *name)
{
	struct idg_msg m;
	const uint8_t *f;
	size_t flen;
	int ok = strcmp(mode, "ok") == 0, badid = strcmp(mode, "badid") == 0;

	idg_msg_init(&m, IDG_WIRE_REPLY_MAX);
	idg_msg_add_u32(&m, IDG_T_STATUS, ok || badid ? IDG_ST_OK : IDG_ST_INPUT);
	if (ok || badid) {
		idg_msg_add_u32(&m, IDG_T_UID, badid ? 0 : 1500000);
		idg_msg_add_u32(&m, IDG_T_GID, 1500000);
		idg_msg_add_str(&m, IDG_T_GECOS, name);
		idg_msg_add_str(&m, IDG_T_HOME, "/home/provisional");
		idg_msg_add_str(&m, IDG_T_SHELL, "/bin/sh");
	}
	f = idg_msg_frame(&m, &flen);
	idg_wire_send(c, f, flen, -1, 2000);
	idg_msg_free(&m);
	return 0;
}

static int
do_serve(const char *path, const char *mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct idg_msgview v;
	uint8_t *body;
	size_t blen;
	const char *name = "?";
	uint32_t op = 0;
	int s, c;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0)
		return 3;
	printf("listening\n");
	fflush(stdout);
	if ((c = accept(s, NULL, NULL)) < 0)
		return 3;
	if (idg_wire_recv(c, IDG_WIRE_REQUEST_MAX, &body, &blen, NULL, 5000) < 0 ||
	    idg_msg_parse(body, blen, &v) < 0)
		return 1;
	idg_msg_get_u32(&v, IDG_T_OP, &op);
	idg_msg_get_str(&v, IDG_T_NAME, &name);
	fprintf(stderr, "asked op=%u name=%s\n", op, name);
	if (strcmp(mode, "silent") == 0)
		sleep(3);
	else
		reply(c, mode, name);
	close(c);
	close(s);
	unlink(path);
	return op == IDG_OP_NSS_PROVISIONAL ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (argc == 4 && strcmp(cmd, "pwnam") == 0)
		return do_pw(1, argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(cmd, "pwuid") == 0)
		return do_pw(0, argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(cmd, "grnam") == 0)
		return do_gr(1, argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(cmd, "grgid") == 0)
		return do_gr(0, argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(cmd, "initgroups") == 0)
		return do_initgroups(argv[2], (gid_t)strtoul(argv[3], NULL, 10));
	if (argc == 5 && strcmp(cmd, "loop") == 0)
		return do_loop(argv[2], argv[3], atol(argv[4]));
	if (argc == 4 && strcmp(cmd, "hold") == 0)
		return do_hold(argv[2], atof(argv[3]));
	if (argc == 6 && strcmp(cmd, "direct") == 0)
		return do_direct(argv[2], argv[3], argv[4], atol(argv[5]));
	if (argc == 8 && strcmp(cmd, "threads") == 0)
		return do_threads(argv + 2);
	if (argc == 4 && strcmp(cmd, "serve") == 0)
		return do_serve(argv[2], argv[3]);
	if (argc == 6 && strcmp(cmd, "status") == 0)
		return do_status(argv[2], argv[3], argv[4], strtoul(argv[5], NULL, 10));
	if (argc == 4 && strcmp(cmd, "ent") == 0)
		return do_ent(argv[2], argv[3]);
	if ((argc == 6 || argc == 7) && strcmp(cmd, "initdyn") == 0)
		return do_initdyn(argv[2], argv[3], (gid_t)strtoul(argv[4], NULL, 10),
		    atol(argv[5]), argc == 7 ? argv[6] : NULL);
	fprintf(stderr, "usage: see the top of nss_driver.c\n");
	return 2;
}
