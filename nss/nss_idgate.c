/* libnss_idgate.so.2: IdP users and groups as POSIX entries, answered from the snapshot
 * idgated publishes (src/proto/snapshot.h), mapped once per process and re-mapped when the
 * mapped file says it was replaced. A lookup in steady state makes no system call. The one
 * exception to "never talk to the daemon" is sshd's getpwnam miss (see README.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <nss.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/api.h"
#include "proto/snapshot.h"
#include "proto/wire.h"

/* The one snapshot read, fixed at build time (configure --with-nss-snapshot): idgated refuses
 * an [nss] snapshot elsewhere unless it is a private instance (idgate.conf(5)). */
#ifndef IDG_NSS_SNAPSHOT
#define IDG_NSS_SNAPSHOT "/var/cache/idgate/nss.snapshot"
#endif

#define IDG_NSS_NAME_MAX 256		/* a name sshd may ask idgated about */
#define IDG_NSS_FIELD_MAX 1024		/* gecos, home, shell from idgated */
#define IDG_NSS_REPLY_MAX (16u * 1024u)

enum nss_status _nss_idgate_getpwnam_r(const char *, struct passwd *, char *, size_t, int *);
enum nss_status _nss_idgate_getpwuid_r(uid_t, struct passwd *, char *, size_t, int *);
enum nss_status _nss_idgate_getgrnam_r(const char *, struct group *, char *, size_t, int *);
enum nss_status _nss_idgate_getgrgid_r(gid_t, struct group *, char *, size_t, int *);
enum nss_status _nss_idgate_initgroups_dyn(const char *, gid_t, long *, long *, gid_t **, long,
    int *);
enum nss_status _nss_idgate_setpwent(int);
enum nss_status _nss_idgate_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_idgate_endpwent(void);
enum nss_status _nss_idgate_setgrent(int);
enum nss_status _nss_idgate_getgrent_r(struct group *, char *, size_t, int *);
enum nss_status _nss_idgate_endgrent(void);

/* The one place idgate's codes become NSS statuses. ERANGE only for a short buffer. */
static enum nss_status
idg_nss_status(int rc, int *errnop)
{
	switch (rc) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case IDG_ERR_NOTFOUND:
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	case IDG_ERR_TOOBIG:
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	case IDG_ERR_NOMEM:
		*errnop = ENOMEM;
		return NSS_STATUS_TRYAGAIN;
	default:	/* no snapshot, a damaged one, the daemon unreachable, ourselves */
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
}

/* ---------- who is calling (no system call: both names are in memory) ---------- */

static const char *
exec_base(void)
{
	const char *p = (const char *)getauxval(AT_EXECFN), *slash;

	if (p == NULL)
		return "";
	slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

/* program_invocation_short_name points into argv[0], which a process title may overwrite
 * (sshd's does); the executable's path from the auxiliary vector stays. */
static int
program_is(const char *const *names)
{
	const char *a = program_invocation_short_name, *b = exec_base();

	for (; *names != NULL; names++)
		if ((a != NULL && strcmp(a, *names) == 0) || strcmp(b, *names) == 0)
			return 1;
	return 0;
}

static int
is_idgated(void)
{
	static const char *const self[] = { "idgated", "lt-idgated", NULL };

	return program_is(self);
}

static int
is_sshd(void)
{
	static const char *const sshd[] = { "sshd", "sshd-session", "sshd-auth", NULL };

	return program_is(sshd);
}

/* ---------- the mapping ---------- */

struct idg_map {
	struct idg_snap snap;
	void *addr;
	size_t len;
	dev_t dev;		/* the file mapped */
	ino_t ino;
	unsigned refs;		/* under map_lock: the current pointer and each user */
	int guard;		/* its slot in guards[], or -1 */
};

/* ---------- a snapshot that shrinks under us ----------
 *
 * idgated never truncates a published snapshot, but root may (truncate, a restore, a full
 * disk's repair). Reading a page of a MAP_SHARED mapping past the file's new end raises
 * SIGBUS, which would kill every process that has it mapped. So while a snapshot is mapped,
 * a SIGBUS handler is in place: a fault inside one of our mappings replaces the rest of that
 * mapping with zero pages (the read goes on, and finds nothing valid) and marks it broken;
 * every lookup checks the mark before it answers, and a broken mapping answers UNAVAIL and is
 * dropped. A fault anywhere else goes to the handler that was there before, or kills the
 * process as it would have. The handler uses only mmap and atomics. */

#define GUARDS 8

struct guard_slot {
	uintptr_t lo, hi;	/* 0: free; else the mapping's pages */
	int broken;
};

static struct guard_slot guards[GUARDS];
static struct sigaction guard_prev;
static int guard_installed;	/* under map_lock */

static void
guard_handler(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr, page = (uintptr_t)getpagesize();

	if (si->si_code > 0) {	/* raised by a fault, not sent by kill() */
		for (int i = 0; i < GUARDS; i++) {
			uintptr_t lo = __atomic_load_n(&guards[i].lo, __ATOMIC_ACQUIRE);
			uintptr_t hi = __atomic_load_n(&guards[i].hi, __ATOMIC_ACQUIRE);
			uintptr_t at = a & ~(page - 1);

			if (lo == 0 || a < lo || a >= hi)
				continue;
			__atomic_store_n(&guards[i].broken, 1, __ATOMIC_RELEASE);
			if (mmap((void *)at, hi - at, PROT_READ, MAP_FIXED | MAP_PRIVATE |
			    MAP_ANONYMOUS, -1, 0) != MAP_FAILED)
				return;
		}
	}
	if ((guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_sigaction != NULL &&
	    (void *)guard_prev.sa_sigaction != (void *)SIG_DFL &&
	    (void *)guard_prev.sa_sigaction != (void *)SIG_IGN) {
		guard_prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (!(guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_handler != SIG_DFL &&
	    guard_prev.sa_handler != SIG_IGN) {
		guard_prev.sa_handler(sig);
		return;
	}
	/* Not ours: as if we had never been here (a fault happens again, a kill is re-sent). */
	signal(SIGBUS, SIG_DFL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

/* Guard the mapping m (a slot, and the handler once per process). Without a free slot the
 * mapping works unguarded. */
static void
guard_add_locked(struct idg_map *m)
{
	uintptr_t page = (uintptr_t)getpagesize();

	m->guard = -1;
	if (!guard_installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = guard_handler;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &guard_prev) < 0)
			return;
		guard_installed = 1;
	}
	for (int i = 0; i < GUARDS; i++)
		if (__atomic_load_n(&guards[i].lo, __ATOMIC_ACQUIRE) == 0) {
			guards[i].broken = 0;
			__atomic_store_n(&guards[i].hi, (uintptr_t)m->addr +
			    ((m->len + page - 1) & ~(page - 1)), __ATOMIC_RELEASE);
			__atomic_store_n(&guards[i].lo, (uintptr_t)m->addr, __ATOMIC_RELEASE);
			m->guard = i;
			return;
		}
}

static void
guard_drop_locked(struct idg_map *m)
{
	if (m->guard < 0)
		return;
	__atomic_store_n(&guards[m->guard].lo, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&guards[m->guard].hi, 0, __ATOMIC_RELEASE);
	m->guard = -1;
}

/* Did a read of m fault (the file shrank)? What was read from it is then not to be used. */
static int
map_broken(const struct idg_map *m)
{
	return m->guard >= 0 && __atomic_load_n(&guards[m->guard].broken, __ATOMIC_ACQUIRE);
}

static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idg_map *map_cur;
static struct stat map_bad;	/* the last file refused, so it is not checksummed again */
static int map_bad_set;

static void
map_put_locked(struct idg_map *m)
{
	if (--m->refs > 0)
		return;
	guard_drop_locked(m);
	munmap(m->addr, m->len);
	free(m);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Trust: a regular file owned by root, writable by nobody else, of a sane size. */
static int
file_trusted(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == 0 && (st->st_mode & 022) == 0 &&
	    st->st_size >= (off_t)sizeof(struct idg_snap_hdr) && st->st_size <= IDG_SNAP_MAX_SIZE;
}

static int
map_fd_locked(int fd, const struct stat *st, struct idg_map **out)
{
	struct idg_map *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return IDG_ERR_NOMEM;
	m->len = (size_t)st->st_size;
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->addr = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
	if (m->addr == MAP_FAILED) {
		free(m);
		return IDG_ERR_IO;
	}
	guard_add_locked(m);
	if (idg_snap_open(&m->snap, m->addr, m->len) < 0 || map_broken(m)) {
		guard_drop_locked(m);
		munmap(m->addr, m->len);
		free(m);
		map_bad = *st;
		map_bad_set = 1;
		return IDG_ERR_CORRUPT;
	}
	*out = m;
	return 0;
}

static int
map_load_locked(struct idg_map **out)
{
	struct stat st;
	int fd, rc;

	fd = open(IDG_NSS_SNAPSHOT, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return IDG_ERR_UNAVAIL;
	if (fstat(fd, &st) < 0 || !file_trusted(&st))
		rc = IDG_ERR_UNAVAIL;
	else if (map_bad_set && same_file(&st, &map_bad))
		rc = IDG_ERR_CORRUPT;
	else
		rc = map_fd_locked(fd, &st, out);
	close(fd);
	return rc;
}

/* `replaced` is set, but is the file still the one at the path? idgated marks a file only
 * after renaming its successor into place, so normally not; a marked file copied back into
 * place by hand would otherwise be re-mapped and checksummed on every lookup. */
static int
map_stale_locked(const struct idg_map *m)
{
	struct stat st;

	if (map_broken(m))
		return 1;
	if (!idg_snap_replaced(&m->snap))
		return 0;
	return stat(IDG_NSS_SNAPSHOT, &st) < 0 || st.st_dev != m->dev || st.st_ino != m->ino;
}

/* After fork() the child gets the lock free whatever another thread was doing. */
static pthread_mutex_t ent_lock = PTHREAD_MUTEX_INITIALIZER;

static void
fork_prepare(void)
{
	pthread_mutex_lock(&ent_lock);
	pthread_mutex_lock(&map_lock);
}

static void
fork_done(void)
{
	pthread_mutex_unlock(&map_lock);
	pthread_mutex_unlock(&ent_lock);
}

static void
register_fork(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* A reference to the current snapshot, mapping (again) when there is none or it was
 * replaced. In steady state: an uncontended lock and an atomic load, no system call. */
static int
map_get(struct idg_map **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct idg_map *m;
	int rc = 0;

	pthread_once(&once, register_fork);
	pthread_mutex_lock(&map_lock);
	m = map_cur;
	if (m != NULL && map_stale_locked(m)) {
		map_cur = NULL;
		map_put_locked(m);
		m = NULL;
	}
	if (m == NULL && (rc = map_load_locked(&m)) == 0) {
		m->refs = 1;
		map_cur = m;
	}
	if (rc == 0) {
		m->refs++;
		*out = m;
	}
	pthread_mutex_unlock(&map_lock);
	return rc;
}

static void
map_put(struct idg_map *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&map_lock);
	map_put_locked(m);
	pthread_mutex_unlock(&map_lock);
}

/* The end of a lookup in m: rc, unless a read of m faulted (then nothing read counts). */
static int
map_done(struct idg_map *m, int rc)
{
	if (map_broken(m))
		rc = IDG_ERR_CORRUPT;
	map_put(m);
	return rc;
}

/* ---------- copying into the caller's buffer ---------- */

struct obuf {
	char *p;
	size_t left;
};

static char *
ob_str(struct obuf *b, const char *s, size_t n)
{
	char *d = b->p;

	if (n >= b->left)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	b->p += n + 1;
	b->left -= n + 1;
	return d;
}

static void *
ob_array(struct obuf *b, size_t n, size_t elem)
{
	size_t pad = (alignof(char *) - ((uintptr_t)b->p % alignof(char *))) % alignof(char *);
	void *d;

	if (pad > b->left || n > (b->left - pad) / elem)
		return NULL;
	d = b->p + pad;
	b->p += pad + n * elem;
	b->left -= pad + n * elem;
	return d;
}

static int
put_passwd(const struct idg_snap_pw *u, struct passwd *pw, char *buf, size_t len)
{
	struct obuf b = { buf, len };
	struct passwd out;

	out.pw_uid = u->uid;
	out.pw_gid = u->gid;
	if ((out.pw_name = ob_str(&b, u->name, u->name_len)) == NULL ||
	    (out.pw_passwd = ob_str(&b, "x", 1)) == NULL ||
	    (out.pw_gecos = ob_str(&b, u->gecos, u->gecos_len)) == NULL ||
	    (out.pw_dir = ob_str(&b, u->dir, u->dir_len)) == NULL ||
	    (out.pw_shell = ob_str(&b, u->shell, u->shell_len)) == NULL)
		return IDG_ERR_TOOBIG;
	*pw = out;
	return 0;
}

static int
fill_passwd(const struct idg_snap *s, uint32_t idx, struct passwd *pw, char *buf, size_t len)
{
	struct idg_snap_pw u;
	int rc;

	if ((rc = idg_snap_user(s, idx, &u)) < 0)
		return rc;
	return put_passwd(&u, pw, buf, len);
}

static int
fill_group(const struct idg_snap *s, uint32_t idx, struct group *gr, char *buf, size_t len)
{
	struct obuf b = { buf, len };
	struct idg_snap_gr g;
	struct group out;
	int rc;

	if ((rc = idg_snap_group(s, idx, &g)) < 0)
		return rc;
	out.gr_gid = g.gid;
	if ((out.gr_mem = ob_array(&b, (size_t)g.nmembers + 1, sizeof(char *))) == NULL ||
	    (out.gr_name = ob_str(&b, g.name, g.name_len)) == NULL ||
	    (out.gr_passwd = ob_str(&b, "x", 1)) == NULL)
		return IDG_ERR_TOOBIG;
	for (uint32_t i = 0, at = g.members; i < g.nmembers; i++) {
		const char *name;
		size_t n;

		if ((rc = idg_snap_member(s, &at, &name, &n)) < 0)
			return rc;
		if ((out.gr_mem[i] = ob_str(&b, name, n)) == NULL)
			return IDG_ERR_TOOBIG;
	}
	out.gr_mem[g.nmembers] = NULL;
	*gr = out;
	return 0;
}

/* ---------- sshd's miss: one bounded question to idgated ---------- */

struct ask {
	char sock[IDG_SNAP_SOCK_MAX];
	uint32_t timeout_ms, id_min, id_max;
};

static int
field_sane(const char *s, int path)
{
	size_t n = strlen(s);

	if (n > IDG_NSS_FIELD_MAX || (path && s[0] != '/'))
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == ':' || *s == 0x7f)
			return 0;
	return 1;
}

/* The reply: IDG_ST_OK with a passwd entry inside the range, else IDG_ERR_NOTFOUND. */
static int
ask_answer(const struct idg_msgview *v, const struct ask *a, const char *name,
    struct passwd *pw, char *buf, size_t len)
{
	struct idg_snap_pw u;
	uint32_t st;
	const char *gecos, *home, *shell;

	if (idg_msg_get_u32(v, IDG_T_STATUS, &st) < 0 || st != IDG_ST_OK ||
	    idg_msg_get_u32(v, IDG_T_UID, &u.uid) < 0 || idg_msg_get_u32(v, IDG_T_GID, &u.gid) < 0 ||
	    idg_msg_get_str(v, IDG_T_GECOS, &gecos) < 0 ||
	    idg_msg_get_str(v, IDG_T_HOME, &home) < 0 ||
	    idg_msg_get_str(v, IDG_T_SHELL, &shell) < 0)
		return IDG_ERR_NOTFOUND;
	if (u.uid < a->id_min || u.uid > a->id_max || u.gid < a->id_min || u.gid > a->id_max ||
	    !field_sane(gecos, 0) || !field_sane(home, 1) || !field_sane(shell, 1))
		return IDG_ERR_NOTFOUND;
	u.name = name;
	u.name_len = strlen(name);
	u.gecos = gecos;
	u.gecos_len = strlen(gecos);
	u.dir = home;
	u.dir_len = strlen(home);
	u.shell = shell;
	u.shell_len = strlen(shell);
	return put_passwd(&u, pw, buf, len);
}

static int
ask_exchange(int fd, const char *name, int64_t deadline, uint8_t **body, size_t *blen)
{
	struct idg_msg m;
	const uint8_t *frame;
	size_t flen;
	int rc;

	if ((rc = idg_msg_init(&m, IDG_WIRE_REQUEST_MAX)) < 0)
		return rc;
	if ((rc = idg_msg_add_u32(&m, IDG_T_OP, IDG_OP_NSS_PROVISIONAL)) == 0 &&
	    (rc = idg_msg_add_str(&m, IDG_T_NAME, name)) == 0) {
		frame = idg_msg_frame(&m, &flen);
		rc = idg_wire_send(fd, frame, flen, -1, idg_wire_left_ms(deadline));
		if (rc == 0)
			rc = idg_wire_recv(fd, IDG_NSS_REPLY_MAX, body, blen, NULL,
			    idg_wire_left_ms(deadline));
	}
	idg_msg_free(&m);
	if (rc == IDG_ERR_NOMEM)
		return rc;
	return rc < 0 ? IDG_ERR_UNAVAIL : 0;
}

static int
ask_provisional(const struct ask *a, const char *name, struct passwd *pw, char *buf,
    size_t len)
{
	int64_t deadline = idg_wire_now_ms() + a->timeout_ms;
	struct idg_msgview v = { NULL, 0 };
	uint8_t *body = NULL;
	size_t blen = 0;
	int fd, rc;

	if (strlen(name) > IDG_NSS_NAME_MAX || strpbrk(name, ":\n") != NULL || name[0] == '\0')
		return IDG_ERR_NOTFOUND;
	if ((rc = idg_wire_connect(a->sock, deadline, &fd)) < 0)
		return rc;
	rc = ask_exchange(fd, name, deadline, &body, &blen);
	close(fd);
	if (rc < 0)
		return rc;
	if ((rc = idg_msg_parse(body, blen, &v)) == 0)
		rc = ask_answer(&v, a, name, pw, buf, len);
	else if (rc != IDG_ERR_NOMEM)
		rc = IDG_ERR_NOTFOUND;
	idg_msgview_free(&v);
	free(body);
	return rc;
}

/* Whether a miss is to be asked of idgated: sshd, and the snapshot allows it. */
static int
want_ask(const struct idg_snap *s, struct ask *a)
{
	const struct idg_snap_hdr *h = s->hdr;

	if ((h->flags & IDG_SNAP_F_PROVISIONAL) == 0 || !is_sshd())
		return 0;
	memcpy(a->sock, h->ask_socket, sizeof(a->sock));
	a->sock[sizeof(a->sock) - 1] = '\0';
	a->timeout_ms = h->ask_timeout_ms > 60000 ? 60000 : h->ask_timeout_ms;
	a->id_min = h->id_min;
	a->id_max = h->id_max;
	return 1;
}

/* ---------- lookups ---------- */

enum nss_status
_nss_idgate_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	struct idg_map *m;
	struct ask a;
	uint32_t idx;
	int rc, ask = 0;

	if (is_idgated() || name == NULL)
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	if ((rc = map_get(&m)) < 0)
		return idg_nss_status(rc, errnop);
	rc = idg_snap_find_user(&m->snap, name, &idx);
	if (rc == 0)
		rc = fill_passwd(&m->snap, idx, pw, buf, len);
	else if (rc == IDG_ERR_NOTFOUND)
		ask = want_ask(&m->snap, &a);
	if ((rc = map_done(m, rc)) != IDG_ERR_NOTFOUND)
		ask = 0;
	if (ask)
		rc = ask_provisional(&a, name, pw, buf, len);
	return idg_nss_status(rc, errnop);
}

enum nss_status
_nss_idgate_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	struct idg_map *m;
	uint32_t idx;
	int rc;

	if (is_idgated())
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	if ((rc = map_get(&m)) < 0)
		return idg_nss_status(rc, errnop);
	if ((rc = idg_snap_find_uid(&m->snap, (uint32_t)uid, &idx)) == 0)
		rc = fill_passwd(&m->snap, idx, pw, buf, len);
	return idg_nss_status(map_done(m, rc), errnop);
}

enum nss_status
_nss_idgate_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, int *errnop)
{
	struct idg_map *m;
	uint32_t idx;
	int rc;

	if (is_idgated() || name == NULL)
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	if ((rc = map_get(&m)) < 0)
		return idg_nss_status(rc, errnop);
	if ((rc = idg_snap_find_group(&m->snap, name, &idx)) == 0)
		rc = fill_group(&m->snap, idx, gr, buf, len);
	return idg_nss_status(map_done(m, rc), errnop);
}

enum nss_status
_nss_idgate_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len, int *errnop)
{
	struct idg_map *m;
	uint32_t idx;
	int rc;

	if (is_idgated())
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	if ((rc = map_get(&m)) < 0)
		return idg_nss_status(rc, errnop);
	if ((rc = idg_snap_find_gid(&m->snap, (uint32_t)gid, &idx)) == 0)
		rc = fill_group(&m->snap, idx, gr, buf, len);
	return idg_nss_status(map_done(m, rc), errnop);
}

/* ---------- initgroups ---------- */

static int
have_gid(const gid_t *g, long n, gid_t gid)
{
	for (long i = 0; i < n; i++)
		if (g[i] == gid)
			return 1;
	return 0;
}

/* Room for one more gid, growing as glibc expects; 0 when full at limit (stop quietly). */
static int
groups_room(long *start, long *size, gid_t **groups, long limit)
{
	long nsize;
	gid_t *ng;

	if (*start < *size)
		return 1;
	if (limit > 0 && *size >= limit)
		return 0;
	nsize = *size > 0 ? 2 * *size : 16;
	if (limit > 0 && nsize > limit)
		nsize = limit;
	if ((ng = realloc(*groups, (size_t)nsize * sizeof(gid_t))) == NULL)
		return IDG_ERR_NOMEM;
	*groups = ng;
	*size = nsize;
	return 1;
}

static int
add_groups(const struct idg_snap *s, const struct idg_snap_pw *u, gid_t group, long *start,
    long *size, gid_t **groups, long limit)
{
	/* idgated writes each user's gids ascending: a gid can then only repeat one the caller
	 * had before (the first base entries), and the check stays linear for a user in
	 * thousands of groups. A list out of order (not written by idgated) is checked
	 * against everything. */
	long base = *start;
	gid_t prev = 0;
	int ordered = 1;

	for (uint32_t i = 0; i < u->ngids; i++) {
		gid_t gid = u->gids[i];
		int room;

		if (i > 0 && gid <= prev)
			ordered = 0;	/* from here on, against everything */
		prev = gid;
		if (gid == group || gid < s->hdr->id_min || gid > s->hdr->id_max ||
		    have_gid(*groups, ordered ? base : *start, gid))
			continue;
		if ((room = groups_room(start, size, groups, limit)) <= 0)
			return room;
		(*groups)[(*start)++] = gid;
	}
	return 0;
}

enum nss_status
_nss_idgate_initgroups_dyn(const char *user, gid_t group, long *start, long *size, gid_t **groups,
    long limit, int *errnop)
{
	struct idg_snap_pw u;
	struct idg_map *m;
	uint32_t idx;
	int rc;

	if (is_idgated() || user == NULL)
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	if ((rc = map_get(&m)) < 0)
		return idg_nss_status(rc, errnop);
	if ((rc = idg_snap_find_user(&m->snap, user, &idx)) == 0 &&
	    (rc = idg_snap_user(&m->snap, idx, &u)) == 0)
		rc = add_groups(&m->snap, &u, group, start, size, groups, limit);
	return idg_nss_status(map_done(m, rc), errnop);
}

/* ---------- enumeration: per process, under ent_lock, only when the snapshot allows ---------- */

struct ent {
	struct idg_map *m;
	uint32_t next;
};

static struct ent pw_ent, gr_ent;

static void
ent_reset_locked(struct ent *e)
{
	map_put(e->m);
	e->m = NULL;
	e->next = 0;
}

static int
ent_start(struct ent *e)
{
	int rc;

	pthread_mutex_lock(&ent_lock);
	ent_reset_locked(e);
	rc = map_get(&e->m);
	pthread_mutex_unlock(&ent_lock);
	return rc;
}

static void
ent_end(struct ent *e)
{
	pthread_mutex_lock(&ent_lock);
	ent_reset_locked(e);
	pthread_mutex_unlock(&ent_lock);
}

/* The next entry through fill; the position moves only when it was copied. */
static int
ent_next(struct ent *e, int (*fill)(const struct idg_snap *, uint32_t, void *, char *, size_t),
    void *out, char *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&ent_lock);
	if (e->m == NULL && (rc = map_get(&e->m)) < 0)
		goto out;
	if ((e->m->snap.hdr->flags & IDG_SNAP_F_ENUMERATE) == 0) {
		rc = IDG_ERR_NOTFOUND;
		goto out;
	}
	if ((rc = fill(&e->m->snap, e->next, out, buf, len)) == 0)
		e->next++;
	if (map_broken(e->m)) {
		rc = IDG_ERR_CORRUPT;
		ent_reset_locked(e);
	}
out:
	pthread_mutex_unlock(&ent_lock);
	return rc;
}

static int
fill_pw_any(const struct idg_snap *s, uint32_t idx, void *out, char *buf, size_t len)
{
	return fill_passwd(s, idx, out, buf, len);
}

static int
fill_gr_any(const struct idg_snap *s, uint32_t idx, void *out, char *buf, size_t len)
{
	return fill_group(s, idx, out, buf, len);
}

/* glibc unloads the module at exit under valgrind and on dlclose(): let go of everything. */
__attribute__((destructor)) static void
idg_nss_unload(void)
{
	pthread_mutex_lock(&ent_lock);
	ent_reset_locked(&pw_ent);
	ent_reset_locked(&gr_ent);
	pthread_mutex_unlock(&ent_lock);
	pthread_mutex_lock(&map_lock);
	if (map_cur != NULL)
		map_put_locked(map_cur);
	map_cur = NULL;
	pthread_mutex_unlock(&map_lock);
}

enum nss_status
_nss_idgate_setpwent(int stayopen)
{
	int err = 0;

	(void)stayopen;
	if (is_idgated())
		return idg_nss_status(IDG_ERR_UNAVAIL, &err);
	return idg_nss_status(ent_start(&pw_ent), &err);
}

enum nss_status
_nss_idgate_getpwent_r(struct passwd *pw, char *buf, size_t len, int *errnop)
{
	if (is_idgated())
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	return idg_nss_status(ent_next(&pw_ent, fill_pw_any, pw, buf, len), errnop);
}

enum nss_status
_nss_idgate_endpwent(void)
{
	ent_end(&pw_ent);
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_idgate_setgrent(int stayopen)
{
	int err = 0;

	(void)stayopen;
	if (is_idgated())
		return idg_nss_status(IDG_ERR_UNAVAIL, &err);
	return idg_nss_status(ent_start(&gr_ent), &err);
}

enum nss_status
_nss_idgate_getgrent_r(struct group *gr, char *buf, size_t len, int *errnop)
{
	if (is_idgated())
		return idg_nss_status(IDG_ERR_UNAVAIL, errnop);
	return idg_nss_status(ent_next(&gr_ent, fill_gr_any, gr, buf, len), errnop);
}

enum nss_status
_nss_idgate_endgrent(void)
{
	ent_end(&gr_ent);
	return NSS_STATUS_SUCCESS;
}
