/* The parent's side of the IdP connector (see connector.h): three pools of unprivileged
 * children, each child answering one request at a time.
 *
 *  - logins: password grants and device logins, which wait on the IdP (seconds each when it
 *    is slow): up to [connector] max_logins children, so ten slow logins take as long as one;
 *  - tokens: tokens typed as passwords, validated locally against cached keys: a pool of its
 *    own, so a slow IdP never delays them;
 *  - saml: posted SAML responses, which anyone on the network can send: their own children
 *    at a lower CPU priority and a short bounded queue, so a flood can fill only that queue.
 *
 * A request waits in its pool's queue until a child is idle (a new child is started while the
 * pool is below its maximum); a busy child is never sent another request, so it is never
 * mistaken for a dead one. A child that dies, sends garbage or overruns a request's deadline
 * is killed; only the request it held fails, and it fails as "busy" (IDG_ERR_BUSY), never as
 * "IdP unreachable": that is for the child to say, and only it opens the offline path.
 * Children that stay idle are stopped down to one per pool; refused configurations and
 * crash loops are retried with back-off. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/connector.h"
#include "daemon/daemon.h"

#define CONN_MSG_MAX (1024u * 1024u)
#define SECRET_MAX 4096
#define QUEUE_MAX 256			/* requests waiting in a login or token pool at most */
#define KIDS_MAX 64			/* children of one pool at most (config bounds it lower) */
#define CONFIGURE_TIMEOUT_MS 10000
#define SAML_METADATA_MAX (512u * 1024u)	/* the IdP's metadata, sent whole to the child */
#define SAML_WORK_MS 5000		/* a SAML request is CPU only: past this it is stuck */
#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000
#define STABLE_MS 10000			/* a child that lived this long was not a crash loop */
#define IDLE_STOP_MS 60000		/* idle children beyond the first are stopped after */
#define TICK_MS 30000			/* scheduled work (key and metadata refresh) per child */
#define SAML_NICE 10			/* the SAML verifiers' CPU priority */

enum pool_kind { POOL_LOGIN, POOL_TOKEN, POOL_SAML, POOL_N };

static const char *const pool_names[POOL_N] = { "logins", "tokens", "SAML" };

struct pending {
	uint64_t reqid;
	int64_t timeout_ms;	/* for its answer, once a child has it */
	int64_t deadline;	/* monotonic ms: to leave the queue, then to be answered */
	idg_conn_cb cb;		/* NULL for the pool's own requests (configure, tick) */
	void *ctx;
	uint32_t op;
	uint8_t *frame;		/* the whole request; wiped when freed (it may hold a password) */
	size_t len;
	struct pending *next;
};

enum kid_state { K_OFF = 0, K_CONFIGURING, K_IDLE, K_BUSY };

struct kid {
	struct pool *p;
	enum kid_state st;
	pid_t pid;
	int fd;
	struct idg_watch *watch;
	struct idg_buf in;
	struct pending *cur;	/* the request it is answering */
	int64_t started, idle_since, next_tick;
	uint64_t keys_gen;	/* the connector's keys_gen this child has */
};

struct pool {
	struct idg_connector *c;
	enum pool_kind kind;
	bool on;		/* configured for this IdP */
	size_t max, queue_max;
	struct kid kids[KIDS_MAX];
	struct pending *qhead, *qtail;
	size_t nqueued;
	int64_t restart_at;	/* no new child before this (back-off); 0: none */
	int64_t backoff_ms;
	char why[600];		/* the last configuration refusal or start failure, or "" */
};

struct idg_connector {
	struct idg_daemon *d;
	uid_t uid;
	gid_t gid;
	uint64_t next_reqid;
	uint64_t keys_gen;	/* bumped when a child learns new signing keys */
	int64_t keys_at;	/* unix time a child last fetched the keys; 0: not since start */
	struct pool pools[POOL_N];
};

static struct idg_connector *
C(const struct idg_daemon *d)
{
	return d->conn;
}

bool
idg_connector_configured(const struct idg_daemon *d)
{
	return d->cfg.idp_issuer != NULL || idg_config_saml(&d->cfg);
}

/* The client secret file: root-owned and private (checked again here, it may have changed
 * since the config was read), at most SECRET_MAX bytes, one line. */
static int
read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open the client secret file %s: %s", path,
		    strerror(errno));
		return IDG_ERR_IO;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		snprintf(err, errlen, "the client secret file %s must be a regular file owned by "
		    "root with mode 0600 or 0400", path);
		return IDG_ERR_CONFIG;
	}
	n = read(fd, out, outlen - 1);
	close(fd);
	if (n < 0 || (size_t)n >= outlen - 1) {
		explicit_bzero(out, outlen);
		snprintf(err, errlen, "the client secret file %s is unreadable or over %zu bytes",
		    path, outlen - 2);
		return IDG_ERR_CONFIG;
	}
	out[n] = '\0';
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	if (n == 0 || !idg_str_printable(out)) {
		explicit_bzero(out, outlen);
		snprintf(err, errlen, "the client secret file %s must hold one line of printable "
		    "text", path);
		return IDG_ERR_CONFIG;
	}
	return 0;
}

/* The [saml] settings. A metadata file is read here (it is root's) and parsed only by the
 * child; a metadata URL is fetched by the child itself. */
static int
add_saml(const struct idg_config *cfg, struct idg_msg *m, char *err, size_t errlen)
{
	char *md = NULL, acs[600];
	size_t len;
	int rc;

	if (!idg_config_saml(cfg))
		return 0;
	if (cfg->saml_idp_metadata &&
	    (rc = idg_read_file(cfg->saml_idp_metadata, SAML_METADATA_MAX, &md, &len)) < 0) {
		snprintf(err, errlen, "cannot read the SAML IdP metadata %s: %s",
		    cfg->saml_idp_metadata, idg_strerror(rc));
		return rc;
	}
	snprintf(acs, sizeof(acs), "%s/saml/acs", cfg->saml_base_url);
	rc = md ? idg_msg_add_str(m, IDG_CT_SAML_METADATA, md) :
	    idg_msg_add_str(m, IDG_CT_SAML_METADATA_URL, cfg->saml_idp_metadata_url);
	if (rc == 0 && cfg->saml_ca_file)
		rc = idg_msg_add_str(m, IDG_CT_SAML_CA_FILE, cfg->saml_ca_file);
	rc = rc ? rc : idg_msg_add_u32(m, IDG_CT_SAML_REFRESH, (uint32_t)cfg->saml_metadata_refresh);
	rc = rc ? rc : idg_msg_add_str(m, IDG_CT_SAML_SP_ENTITY, cfg->saml_sp_entity_id);
	rc = rc ? rc : idg_msg_add_str(m, IDG_CT_SAML_ACS, acs);
	if (rc == 0 && cfg->saml_username_attribute)
		rc = idg_msg_add_str(m, IDG_CT_SAML_USER_ATTR, cfg->saml_username_attribute);
	if (rc == 0 && cfg->saml_same_directory && cfg->saml_link_attribute)
		rc = idg_msg_add_str(m, IDG_CT_SAML_LINK_ATTR, cfg->saml_link_attribute);
	if (rc == 0 && cfg->saml_groups_attribute && cfg->saml_groups_attribute[0])
		rc = idg_msg_add_str(m, IDG_CT_SAML_GROUPS_ATTR, cfg->saml_groups_attribute);
	rc = rc ? rc : idg_msg_add_u32(m, IDG_CT_SAML_LEEWAY, (uint32_t)cfg->saml_leeway);
	rc = rc ? rc : idg_msg_add_u64(m, IDG_CT_SAML_MAX, cfg->saml_max_response);
	free(md);
	if (rc == 0 && cfg->saml_sign_requests) {
		char *key = NULL;
		size_t klen = 0;

		if ((rc = idg_read_file(cfg->saml_sp_key, SECRET_MAX * 4, &key, &klen)) < 0) {
			snprintf(err, errlen, "cannot read [saml] sp_key %s: %s", cfg->saml_sp_key,
			    idg_strerror(rc));
			return rc;
		}
		rc = idg_msg_add_str(m, IDG_CT_SAML_SP_KEY, key);	/* wiped with m */
		explicit_bzero(key, klen);
		free(key);
	}
	if (rc < 0)
		snprintf(err, errlen, "the SAML settings do not fit in one message");
	return rc;
}

/* The [idp] settings, for the login and token pools. */
static int
add_oidc(struct idg_connector *c, struct idg_msg *m, const char *secret)
{
	const struct idg_config *cfg = &c->d->cfg;
	int rc = 0;

#define S(tag, val) do { if (rc == 0 && (val) != NULL) rc = idg_msg_add_str(m, tag, val); } while (0)
#define U(tag, val) do { if (rc == 0) rc = idg_msg_add_u32(m, tag, (uint32_t)(val)); } while (0)
	U(IDG_CT_PROFILE, cfg->idp_profile);
	S(IDG_CT_ISSUER, cfg->idp_issuer);
	S(IDG_CT_CLIENT_ID, cfg->idp_client_id);
	S(IDG_CT_CLIENT_SECRET, secret[0] ? secret : NULL);
	U(IDG_CT_CLIENT_AUTH, cfg->idp_client_auth);
	S(IDG_CT_SCOPE, cfg->idp_scope);
	S(IDG_CT_AUDIENCE, cfg->idp_audience);
	S(IDG_CT_CA_FILE, cfg->idp_ca_file);
	U(IDG_CT_CONNECT_MS, cfg->idp_connect_timeout * 1000);
	U(IDG_CT_TIMEOUT_MS, cfg->idp_timeout * 1000);
	if (rc == 0)
		rc = idg_msg_add_u64(m, IDG_CT_RESPONSE_MAX, cfg->idp_max_response);
	if (rc == 0)
		rc = idg_msg_add_u64(m, IDG_CT_TOKEN_MAX, cfg->idp_max_token);
	U(IDG_CT_LEEWAY, cfg->idp_leeway);
	U(IDG_CT_JWKS_MIN, cfg->idp_jwks_min_interval);
	U(IDG_CT_JWKS_REFRESH, cfg->idp_jwks_refresh);
	S(IDG_CT_ALGS, cfg->idp_algorithms);
	S(IDG_CT_USERNAME_CLAIM, cfg->idp_username_claim);
	S(IDG_CT_GROUPS_CLAIM, cfg->idp_groups_claim);
	U(IDG_CT_GROUPS_SOURCE, cfg->idp_groups_source);
	S(IDG_CT_GROUP_PREFIX, cfg->idp_group_prefix_strip);
	U(IDG_CT_KC_BASENAME, cfg->idp_keycloak_group_paths == 1);
	U(IDG_CT_KC_REALM_ROLES, cfg->idp_keycloak_realm_roles);
	S(IDG_CT_KC_CLIENT_ROLES, cfg->idp_keycloak_client_roles);
	U(IDG_CT_USERINFO_FALLBACK, cfg->idp_userinfo_fallback);
	S(IDG_CT_JWKS, c->d->st->jwks_json);
	if (rc == 0 && c->d->st->jwks_json && c->keys_at)
		rc = idg_msg_add_u64(m, IDG_CT_JWKS_AT, (uint64_t)c->keys_at);
#undef S
#undef U
	return rc;
}


static void
pending_free(struct pending *q)
{
	if (q == NULL)
		return;
	if (q->frame) {
		explicit_bzero(q->frame, q->len);
		free(q->frame);
	}
	free(q);
}

/* Finish q: it is freed, then its callback runs (which may call idg_connector_call). */
static void
pending_done(struct idg_connector *c, struct pending *q, int status,
    const struct idg_msgview *v, const char *err)
{
	idg_conn_cb cb = q->cb;
	void *ctx = q->ctx;

	pending_free(q);
	if (cb)
		cb(c->d, ctx, status, v, err);
}

static enum pool_kind
pool_of(uint32_t op)
{
	switch (op) {
	case IDG_CONN_TOKEN:
		return POOL_TOKEN;
	case IDG_CONN_SAML_START:
	case IDG_CONN_SAML_RESPONSE:
		return POOL_SAML;
	default:
		return POOL_LOGIN;
	}
}

static size_t
count(const struct pool *p, enum kid_state st)
{
	size_t n = 0;

	for (size_t i = 0; i < p->max; i++)
		n += p->kids[i].st == st;
	return n;
}

static size_t
live(const struct pool *p)
{
	return p->max - count(p, K_OFF);
}

static void
backoff(struct pool *p, int64_t now)
{
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : RESTART_MIN_MS;
	if (p->backoff_ms > RESTART_MAX_MS)
		p->backoff_ms = RESTART_MAX_MS;
	p->restart_at = now + p->backoff_ms;
}

/* Stop k at once; what it held is the caller's to finish. */
static void
kid_close(struct kid *k)
{
	struct idg_daemon *d = k->p->c->d;

	if (k->watch) {
		idg_server_unwatch(d->srv, k->watch);
		k->watch = NULL;
	}
	if (k->fd >= 0) {
		close(k->fd);
		k->fd = -1;
	}
	if (k->pid > 0) {
		kill(k->pid, SIGKILL);
		(void)waitpid(k->pid, NULL, 0);
		k->pid = -1;
	}
	idg_buf_free(&k->in);
	k->st = K_OFF;
}

/* k failed (why): it is stopped, and the one request it held fails as "busy" — the child
 * broke, not the IdP. A child that fails young makes the pool wait before the next one. */
static void
kid_lost(struct kid *k, const char *why)
{
	struct pool *p = k->p;
	struct pending *q = k->cur;
	int64_t now = idg_now_ms();
	char msg[400];

	k->cur = NULL;
	if (now - k->started < STABLE_MS || k->st == K_CONFIGURING)
		backoff(p, now);
	log_warn("IdP connector (%s, pid %d): %s; stopped it", pool_names[p->kind], (int)k->pid,
	    why);
	kid_close(k);
	if (q) {
		snprintf(msg, sizeof(msg), "the login service is busy (the IdP connector failed: "
		    "%s); try again", why);
		pending_done(p->c, q, IDG_ERR_BUSY, NULL, msg);
	}
}

/* Send q to the idle (or just started) child k; it becomes k's request. */
static int
start_on(struct kid *k, struct pending *q, int64_t timeout_ms)
{
	int rc;

	/* The child is waiting in recv and the socket's buffer holds a whole request (spawn),
	 * so this does not block; failing, the child is broken. */
	if ((rc = idg_wire_send(k->fd, q->frame, q->len, -1, 1000)) < 0)
		return rc;
	q->deadline = idg_now_ms() + timeout_ms;
	k->cur = q;
	if (k->st == K_IDLE)
		k->st = K_BUSY;
	return 0;
}

static int send_configure(struct kid *k, char *err, size_t errlen);
static void send_keys(struct kid *k);
static void on_readable(void *ctx, uint32_t events);

static int
spawn(struct pool *p, char *err, size_t errlen)
{
	struct idg_connector *c = p->c;
	char fdarg[16], uidarg[16], gidarg[16], logarg[16], levelarg[16];
	struct kid *k = NULL;
	int sv[2], big = (int)(CONN_MSG_MAX * 2);
	pid_t pid, self = getpid();
	int rc;

	for (size_t i = 0; i < p->max && k == NULL; i++)
		if (p->kids[i].st == K_OFF)
			k = &p->kids[i];
	if (k == NULL)
		return IDG_ERR_TOOBIG;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return IDG_ERR_IO;
	}
	/* Room for a whole request, so sending one to an idle child never waits (root may
	 * exceed wmem_max; without it, a send waits at most a second). */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	snprintf(fdarg, sizeof(fdarg), "3");
	snprintf(uidarg, sizeof(uidarg), "%u", (unsigned)c->uid);
	snprintf(gidarg, sizeof(gidarg), "%u", (unsigned)c->gid);
	snprintf(logarg, sizeof(logarg), "%s", c->d->log_stderr ? "stderr" : "syslog");
	snprintf(levelarg, sizeof(levelarg), "%d", LOG_ERR + c->d->cfg.log_level);
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return IDG_ERR_IO;
	}
	if (pid == 0) {
		char name[] = "idgated-connector", flag[] = "--connector-child";
		char *argv[] = { name, flag, fdarg, uidarg, gidarg, logarg, levelarg, NULL };
		sigset_t none;

		/* A fresh image: nothing of the parent's memory (state, token hashes) survives. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		/* Unauthenticated work yields the CPU to logins. */
		if (p->kind == POOL_SAML)
			(void)setpriority(PRIO_PROCESS, 0, SAML_NICE);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(127);	/* idgated died before the death signal was set */
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	memset(k, 0, sizeof(*k));
	k->p = p;
	k->pid = pid;
	k->fd = sv[0];
	k->st = K_CONFIGURING;
	k->started = k->idle_since = idg_now_ms();
	k->next_tick = k->started + TICK_MS;
	k->keys_gen = c->keys_gen;	/* its configuration carries the stored keys */
	idg_buf_init(&k->in, IDG_WIRE_HDR + CONN_MSG_MAX + 65536);
	if (idg_server_watch(c->d->srv, k->fd, on_readable, k, &k->watch) < 0) {
		snprintf(err, errlen, "cannot watch the connector socket");
		kid_close(k);
		return IDG_ERR_IO;
	}
	if ((rc = send_configure(k, err, errlen)) < 0) {
		kid_close(k);
		return rc;
	}
	return 0;
}

/* Start one more child when requests wait and none is on its way. */
static void
grow(struct pool *p)
{
	int64_t now = idg_now_ms();
	char err[400];

	if (!p->on || p->nqueued == 0 || live(p) >= p->max ||
	    count(p, K_CONFIGURING) >= p->nqueued || (p->restart_at && now < p->restart_at))
		return;
	if (spawn(p, err, sizeof(err)) < 0) {
		snprintf(p->why, sizeof(p->why), "%.400s", err);
		log_err("IdP connector (%s): cannot start a process: %s", pool_names[p->kind], err);
		backoff(p, now);
	}
}

static struct kid *
idle_kid(struct pool *p)
{
	for (size_t i = 0; i < p->max; i++)
		if (p->kids[i].st == K_IDLE)
			return &p->kids[i];
	return NULL;
}

static int64_t
work_ms(const struct pool *p, int64_t timeout_ms)
{
	return p->kind == POOL_SAML && timeout_ms > SAML_WORK_MS ? SAML_WORK_MS : timeout_ms;
}

/* Hand queued requests to idle children, oldest first. Runs no callback. */
static void
dispatch(struct pool *p)
{
	for (size_t guard = 0; p->qhead && guard < 2 * KIDS_MAX; guard++) {
		struct kid *k = idle_kid(p);
		struct pending *q;

		if (k == NULL) {
			grow(p);
			return;
		}
		q = p->qhead;
		p->qhead = q->next;
		if (p->qhead == NULL)
			p->qtail = NULL;
		p->nqueued--;
		q->next = NULL;
		if (start_on(k, q, work_ms(p, q->timeout_ms)) < 0) {
			/* The child's failure is not the request's: it goes back first in line. */
			q->next = p->qhead;
			p->qhead = q;
			if (p->qtail == NULL)
				p->qtail = q;
			p->nqueued++;
			kid_lost(k, "it did not take a request");
		}
	}
}

/* Keys a child learned: keep them in the store, so a restart with the IdP away still
 * validates tokens (new children get them with their configuration). */
static void
persist_jwks(struct idg_connector *c, const char *json)
{
	struct idg_state *st = c->d->st;
	struct idg_change ch;
	char err[512];

	/* A child sends keys it fetched: fresh now, even when they did not change. */
	c->keys_at = (int64_t)time(NULL);
	if (st->jwks_json && strcmp(st->jwks_json, json) == 0)
		return;
	idg_change_init(&ch);
	idg_change_add(&ch, &(struct idg_mut){ .kind = IDG_MUT_META_SET, .a = IDG_META_JWKS,
	    .b = json });
	if (idg_state_commit(st, &ch, err, sizeof(err)) < 0)
		log_err("IdP connector: cannot keep the new signing keys: %s", err);
	else
		log_info("IdP connector: signing keys updated and stored");
	idg_change_free(&ch);
	c->keys_gen++;	/* the other children get them when idle (send_keys) */
}

/* A request of the pool's own (configure, tick), frame built from m. */
static struct pending *
own_request(struct idg_connector *c, struct idg_msg *m, uint32_t op)
{
	struct pending *q;
	const uint8_t *frame;
	size_t len;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->reqid = ++c->next_reqid;
	q->op = op;
	if (idg_msg_add_u64(m, IDG_CT_REQID, q->reqid) < 0 ||
	    (frame = idg_msg_frame(m, &len), (q->frame = malloc(len)) == NULL)) {
		free(q);
		return NULL;
	}
	memcpy(q->frame, frame, len);
	q->len = len;
	return q;
}

static int
send_configure(struct kid *k, char *err, size_t errlen)
{
	struct pool *p = k->p;
	const struct idg_config *cfg = &p->c->d->cfg;
	char secret[SECRET_MAX];
	struct pending *q = NULL;
	struct idg_msg m;
	int rc;

	secret[0] = '\0';
	if (p->kind != POOL_SAML && cfg->idp_client_secret_file &&
	    (rc = read_secret(cfg->idp_client_secret_file, secret, sizeof(secret), err, errlen)) < 0)
		return rc;
	if ((rc = idg_msg_init(&m, CONN_MSG_MAX)) < 0) {
		explicit_bzero(secret, sizeof(secret));
		return rc;
	}
	rc = idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_CONFIGURE);
	if (rc == 0 && p->kind == POOL_SAML)
		rc = add_saml(cfg, &m, err, errlen);
	else if (rc == 0)
		rc = add_oidc(p->c, &m, secret);
	explicit_bzero(secret, sizeof(secret));
	if (rc == 0 && (q = own_request(p->c, &m, IDG_CONN_CONFIGURE)) == NULL)
		rc = IDG_ERR_NOMEM;
	if (rc == 0 && (rc = start_on(k, q, CONFIGURE_TIMEOUT_MS)) < 0) {
		pending_free(q);
		snprintf(err, errlen, "the new connector process did not take its configuration");
	} else if (rc < 0 && err[0] == '\0') {
		snprintf(err, errlen, "cannot configure the IdP connector: %s", idg_strerror(rc));
	}
	idg_msg_free(&m);	/* wipes the secret copy */
	return rc;
}

/* The answer to a configuration: ready, or refused (why goes to the log and to callers). */
static void
on_configured(struct kid *k, int status, const char *err)
{
	struct pool *p = k->p;

	if (status == 0) {
		k->st = K_IDLE;
		log_info("IdP connector (%s) ready (pid %d)", pool_names[p->kind], (int)k->pid);
		return;
	}
	snprintf(p->why, sizeof(p->why), "its configuration was refused: %s",
	    err && *err ? err : "unknown error");
	backoff(p, idg_now_ms());
	log_err("IdP connector (%s): %s; trying again in %" PRId64 " s", pool_names[p->kind],
	    p->why, p->backoff_ms / 1000);
	kid_close(k);
}

/* One whole frame from k: the answer to its request. */
static void
take_answer(struct kid *k, const uint8_t *body, size_t len)
{
	struct pool *p = k->p;
	struct idg_msgview v = { 0 };
	struct pending *q = k->cur;
	uint64_t reqid = 0;
	uint32_t status = 0;
	const char *err = NULL, *jwks = NULL;
	int st;

	if (idg_msg_parse(body, len, &v) < 0 || idg_msg_get_u64(&v, IDG_CT_REQID, &reqid) < 0 ||
	    idg_msg_get_u32(&v, IDG_CT_STATUS, &status) < 0 || q == NULL || q->reqid != reqid) {
		idg_msgview_free(&v);
		kid_lost(k, "it sent a malformed or unexpected answer");
		return;
	}
	if (idg_msg_get_str(&v, IDG_CT_JWKS, &jwks) == 0) {
		persist_jwks(p->c, jwks);
		k->keys_gen = p->c->keys_gen;	/* its own */
	}
	(void)idg_msg_get_str(&v, IDG_CT_ERROR, &err);
	st = status == 0 ? 0 : status == IDG_CONN_PENDING ? (int)IDG_CONN_PENDING :
	    status < 100 ? -(int)status : IDG_ERR_PROTO;
	k->cur = NULL;
	if (q->op == IDG_CONN_CONFIGURE) {
		on_configured(k, st, err);
		pending_free(q);
	} else {
		k->st = K_IDLE;
		if (q->op != IDG_CONN_TICK)
			k->idle_since = idg_now_ms();
		pending_done(p->c, q, st, &v, err ? err : idg_strerror(st < 0 ? st : 0));
	}
	idg_msgview_free(&v);
}

static void
on_readable(void *ctx, uint32_t events)
{
	struct kid *k = ctx;
	struct pool *p = k->p;

	(void)events;
	for (int rounds = 0; rounds < 16 && k->fd >= 0; rounds++) {
		ssize_t n;

		if (idg_buf_reserve(&k->in, 65536) < 0) {
			kid_lost(k, "its answer is too large");
			break;
		}
		n = recv(k->fd, k->in.data + k->in.len, 65536, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			kid_lost(k, n == 0 ? "it exited" : "its socket failed");
			break;
		}
		k->in.len += (size_t)n;
		while (k->fd >= 0 && k->in.len >= IDG_WIRE_HDR) {
			uint32_t body = idg_wire_body_len((const uint8_t *)k->in.data);
			uint8_t *copy;

			if (body > CONN_MSG_MAX) {
				kid_lost(k, "it sent an oversized answer");
				break;
			}
			if (k->in.len < IDG_WIRE_HDR + body)
				break;
			/* The answer is taken out of k's buffer before anyone sees it: a callback
			 * may hand k a new request, or stop it. */
			if ((copy = malloc(body ? body : 1)) == NULL) {
				kid_lost(k, "out of memory for its answer");
				break;
			}
			memcpy(copy, k->in.data + IDG_WIRE_HDR, body);
			idg_buf_consume(&k->in, IDG_WIRE_HDR + body);
			if (k->cur == NULL) {
				free(copy);
				kid_lost(k, "it answered a request it was not asked");
				break;
			}
			take_answer(k, copy, body);
			explicit_bzero(copy, body);
			free(copy);
		}
	}
	dispatch(p);
	/* New keys reach the other idle children at once, not at the next tick. */
	for (int i = 0; i < POOL_N && p->c->d->conn; i++) {
		struct pool *o = &p->c->pools[i];

		for (size_t j = 0; o->on && o->nqueued == 0 && j < o->max; j++)
			if (o->kids[j].st == K_IDLE && o->kids[j].keys_gen != p->c->keys_gen)
				send_keys(&o->kids[j]);
	}
}

int
idg_connector_start(struct idg_daemon *d, char *err, size_t errlen)
{
	const struct idg_config *cfg = &d->cfg;
	struct idg_connector *c;
	int rc;

	if (!idg_connector_configured(d))
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return IDG_ERR_NOMEM;
	c->d = d;
	if ((rc = idg_system_user(cfg->connector_user, "[connector] user", &c->uid, &c->gid, err,
	    errlen)) < 0) {
		free(c);
		return rc;
	}
	for (int i = 0; i < POOL_N; i++) {
		struct pool *p = &c->pools[i];

		p->c = c;
		p->kind = (enum pool_kind)i;
		p->on = i == POOL_SAML ? idg_config_saml(cfg) : cfg->idp_issuer != NULL;
		p->max = (size_t)(i == POOL_LOGIN ? cfg->connector_max_logins : i == POOL_TOKEN ?
		    cfg->connector_max_tokens : cfg->connector_max_saml);
		if (p->max < 1)
			p->max = 1;
		if (p->max > KIDS_MAX)
			p->max = KIDS_MAX;
		p->queue_max = i == POOL_SAML ? (size_t)cfg->connector_saml_queue : QUEUE_MAX;
		for (size_t j = 0; j < KIDS_MAX; j++) {
			p->kids[j].p = p;
			p->kids[j].fd = -1;
			p->kids[j].pid = -1;
		}
	}
	d->conn = c;
	/* One warm child per pool; a failure here is retried by the tick (back-off), and a
	 * pool that cannot start never stops the others. */
	for (int i = 0; i < POOL_N; i++) {
		struct pool *p = &c->pools[i];
		char why[400];

		if (p->on && (rc = spawn(p, why, sizeof(why))) < 0) {
			snprintf(p->why, sizeof(p->why), "%.400s", why);
			log_err("IdP connector (%s): cannot start: %s", pool_names[i], why);
			backoff(p, idg_now_ms());
		}
	}
	return 0;
}

void
idg_connector_stop(struct idg_daemon *d)
{
	struct idg_connector *c = C(d);
	int64_t until = idg_now_ms() + 2000;

	if (c == NULL)
		return;
	/* Closing the socket tells a child to exit; one that does not is killed. */
	for (int i = 0; i < POOL_N; i++)
		for (size_t j = 0; j < KIDS_MAX; j++) {
			struct kid *k = &c->pools[i].kids[j];

			if (k->watch)
				idg_server_unwatch(d->srv, k->watch);
			k->watch = NULL;
			if (k->fd >= 0)
				close(k->fd);
			k->fd = -1;
		}
	for (int i = 0; i < POOL_N; i++)
		for (size_t j = 0; j < KIDS_MAX; j++) {
			struct kid *k = &c->pools[i].kids[j];

			while (k->pid > 0 && waitpid(k->pid, NULL, WNOHANG) == 0 &&
			    idg_now_ms() < until)
				usleep(10000);
			kid_close(k);
		}
	d->conn = NULL;	/* callbacks below see no connector */
	for (int i = 0; i < POOL_N; i++) {
		struct pool *p = &c->pools[i];

		for (size_t j = 0; j < KIDS_MAX; j++)
			if (p->kids[j].cur) {
				struct pending *q = p->kids[j].cur;

				p->kids[j].cur = NULL;
				pending_done(c, q, IDG_ERR_BUSY, NULL, "busy: idgated is stopping");
			}
		while (p->qhead) {
			struct pending *q = p->qhead;

			p->qhead = q->next;
			pending_done(c, q, IDG_ERR_BUSY, NULL, "busy: idgated is stopping");
		}
	}
	free(c);
}

int
idg_connector_call(struct idg_daemon *d, struct idg_msg *req, int64_t timeout_ms,
    idg_conn_cb cb, void *ctx, char *err, size_t errlen)
{
	struct idg_connector *c = C(d);
	struct idg_msgview v = { 0 };
	const uint8_t *frame;
	struct pending *q;
	struct pool *p;
	uint32_t op = 0;
	size_t len;
	int rc;

	if (c == NULL) {
		snprintf(err, errlen, "no identity provider is configured");
		return IDG_ERR_CONFIG;
	}
	frame = idg_msg_frame(req, &len);
	rc = idg_msg_parse(frame + IDG_WIRE_HDR, len - IDG_WIRE_HDR, &v);
	if (rc == 0)
		rc = idg_msg_get_u32(&v, IDG_CT_OP, &op);
	idg_msgview_free(&v);
	if (rc < 0) {
		snprintf(err, errlen, "a malformed request to the IdP connector");
		return IDG_ERR_INTERNAL;
	}
	p = &c->pools[pool_of(op)];
	if (!p->on) {
		snprintf(err, errlen, "no %s identity provider is configured",
		    p->kind == POOL_SAML ? "SAML" : "OIDC");
		return IDG_ERR_CONFIG;
	}
	if (live(p) == 0 && p->why[0] && p->restart_at > idg_now_ms()) {
		snprintf(err, errlen, "the %s connector is not running: %.300s",
		    p->kind == POOL_SAML ? "SAML" : "IdP", p->why);
		return IDG_ERR_CONFIG;
	}
	if (p->nqueued >= p->queue_max) {
		snprintf(err, errlen, p->kind == POOL_SAML ? "the SAML service is busy: too many "
		    "responses are waiting to be checked; try again shortly" : "the login service "
		    "is busy: too many logins are waiting for the IdP connector; try again shortly");
		return IDG_ERR_BUSY;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (rc = idg_msg_add_u64(req, IDG_CT_REQID, c->next_reqid + 1)) < 0 ||
	    (frame = idg_msg_frame(req, &len), (q->frame = malloc(len)) == NULL)) {
		free(q);
		snprintf(err, errlen, "the request to the IdP connector could not be built");
		return IDG_ERR_NOMEM;
	}
	q->reqid = ++c->next_reqid;
	q->op = op;
	memcpy(q->frame, frame, len);
	q->len = len;
	q->cb = cb;
	q->ctx = ctx;
	q->timeout_ms = timeout_ms;
	q->deadline = idg_now_ms() + timeout_ms;
	if (p->qtail)
		p->qtail->next = q;
	else
		p->qhead = q;
	p->qtail = q;
	p->nqueued++;
	dispatch(p);
	return 0;
}

static void
send_tick(struct kid *k)
{
	const struct idg_config *cfg = &k->p->c->d->cfg;
	struct pending *q = NULL;
	struct idg_msg m;

	k->next_tick = idg_now_ms() + TICK_MS;
	if (idg_msg_init(&m, 256) == 0 && idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_TICK) == 0 &&
	    (q = own_request(k->p->c, &m, IDG_CONN_TICK)) != NULL &&
	    start_on(k, q, cfg->idp_timeout * 2000 + 5000) < 0) {
		pending_free(q);
		kid_lost(k, "it did not take a request");
	}
	idg_msg_free(&m);
}

/* Keys another child learned, to an idle child of an OIDC pool that lacks them: a token is
 * then validated without a fetch by whichever child takes it. */
static void
send_keys(struct kid *k)
{
	struct idg_connector *c = k->p->c;
	const char *json = c->d->st->jwks_json;
	struct pending *q = NULL;
	struct idg_msg m;

	k->keys_gen = c->keys_gen;
	if (json == NULL || k->p->kind == POOL_SAML)
		return;
	if (idg_msg_init(&m, CONN_MSG_MAX) == 0 && idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_KEYS) == 0 &&
	    idg_msg_add_str(&m, IDG_CT_JWKS, json) == 0 &&
	    idg_msg_add_u64(&m, IDG_CT_JWKS_AT, (uint64_t)c->keys_at) == 0 &&
	    (q = own_request(c, &m, IDG_CONN_KEYS)) != NULL && start_on(k, q, 5000) < 0) {
		pending_free(q);
		kid_lost(k, "it did not take a request");
	}
	idg_msg_free(&m);
}

/* Scheduled work (key and discovery refresh) is one child's: the first of the logins pool;
 * the others get the keys it fetches (send_keys), so N children do not fetch N times. Every
 * SAML child refreshes its own IdP metadata. */
static bool
ticks(const struct kid *k)
{
	const struct pool *p = k->p;

	if (p->kind == POOL_SAML)
		return true;
	if (p->kind != POOL_LOGIN)
		return false;
	for (size_t i = 0; i < p->max; i++)
		if (p->kids[i].st != K_OFF)
			return &p->kids[i] == k;
	return false;
}

/* Fail what waits in p's queue past its deadline, or everything when p cannot start. */
static void
expire_queue(struct pool *p, int64_t now)
{
	bool down = live(p) == 0 && p->why[0] && p->restart_at > now;
	struct pending **pp = &p->qhead;

	while (*pp) {
		struct pending *q = *pp;
		char msg[400];

		if (!down && now <= q->deadline) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		p->nqueued--;
		if (down)
			snprintf(msg, sizeof(msg), "the %s connector is not running: %.300s",
			    p->kind == POOL_SAML ? "SAML" : "IdP", p->why);
		else
			snprintf(msg, sizeof(msg), "the login service is busy: no IdP connector was "
			    "free in time");
		pending_done(p->c, q, down ? IDG_ERR_CONFIG : IDG_ERR_BUSY, NULL, msg);
		pp = &p->qhead;	/* the callback may have changed the queue */
	}
	p->qtail = NULL;
	for (struct pending *q = p->qhead; q; q = q->next)
		p->qtail = q;
}

static void
pool_tick(struct pool *p, int64_t now)
{
	size_t idle = count(p, K_IDLE);

	expire_queue(p, now);
	for (size_t i = 0; i < p->max; i++) {
		struct kid *k = &p->kids[i];

		if ((k->st == K_BUSY || k->st == K_CONFIGURING) && k->cur && now > k->cur->deadline) {
			kid_lost(k, k->st == K_CONFIGURING ? "it did not answer its configuration "
			    "in time" : "a request overran its deadline");
			continue;
		}
		if (k->st != K_IDLE)
			continue;
		if (now - k->started >= STABLE_MS && p->backoff_ms) {
			p->backoff_ms = 0;
			p->why[0] = '\0';
		}
		if (idle > 1 && now - k->idle_since > IDLE_STOP_MS && p->nqueued == 0) {
			kid_close(k);
			idle--;
			continue;
		}
		if (now >= k->next_tick && p->nqueued == 0 && ticks(k))
			send_tick(k);
		else if (k->keys_gen != p->c->keys_gen && p->nqueued == 0)
			send_keys(k);
	}
	/* Keep one child warm. */
	if (p->on && live(p) == 0 && now >= p->restart_at) {
		char why[400];

		p->restart_at = 0;
		if (spawn(p, why, sizeof(why)) < 0) {
			snprintf(p->why, sizeof(p->why), "%.400s", why);
			log_err("IdP connector (%s): cannot start: %s", pool_names[p->kind], why);
			backoff(p, now);
		}
	}
	dispatch(p);
}

void
idg_connector_tick(struct idg_daemon *d, int64_t now)
{
	struct idg_connector *c = C(d);

	for (int i = 0; c && i < POOL_N; i++)
		if (c->pools[i].on)
			pool_tick(&c->pools[i], now);
}
