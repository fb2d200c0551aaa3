/* The parent's side of the IdP connector (see connector.h). One child at a time; requests
 * are answered in order, so the pending list is a FIFO. A child that dies, closes its socket,
 * sends garbage or overruns a deadline is killed and started again with back-off, and every
 * request it held fails with a short reason. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include <syslog.h>
#include "common/util.h"
#include "daemon/connector.h"
#include "daemon/daemon.h"

#define CONN_MSG_MAX (1024u * 1024u)
#define SECRET_MAX 4096
#define PENDING_MAX 256			/* requests queued to the child at once */
#define CONFIGURE_TIMEOUT_MS 10000
#define SAML_METADATA_MAX (512u * 1024u)	/* the IdP's metadata, sent whole to the child */
#define RESTART_MIN_MS 1000
#define RESTART_MAX_MS 60000

struct pending {
	uint64_t reqid;
	int64_t deadline;	/* monotonic ms */
	idg_conn_cb cb;
	void *ctx;
	struct pending *next;
};

struct idg_connector {
	struct idg_daemon *d;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int fd;
	struct idg_watch *watch;
	struct idg_buf in;
	struct pending *head, *tail;
	size_t npending;
	uint64_t next_reqid;
	bool ready;		/* configured */
	bool configuring;	/* the configuration is sent, its answer not in yet: requests
				 * queue behind it (the child answers in order) */
	int64_t restart_at;	/* 0: running or not wanted */
	int64_t backoff_ms;
	int64_t next_tick;
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

/* The unprivileged user, from /etc/passwd itself: idgated never asks NSS (that could be its
 * own module, and the answer must not depend on the state it serves). */
static int
resolve_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;
	int rc = IDG_ERR_NOTFOUND;

	if (f == NULL) {
		snprintf(err, errlen, "cannot read /etc/passwd: %s", strerror(errno));
		return IDG_ERR_IO;
	}
	while ((pw = fgetpwent(f)) != NULL) {
		if (strcmp(pw->pw_name, name) == 0) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			rc = 0;
			break;
		}
	}
	fclose(f);
	if (rc < 0)
		snprintf(err, errlen, "the connector user '%s' ([connector] user) does not exist: "
		    "create it (useradd --system --no-create-home --shell /usr/sbin/nologin %s)",
		    name, name);
	else if (*uid == 0 || *gid == 0)
		snprintf(err, errlen, "the connector user '%s' has uid or gid 0: it must be an "
		    "unprivileged user", name), rc = IDG_ERR_CONFIG;
	return rc;
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

static void fail_all(struct idg_connector *c, int status, const char *why);
static void on_readable(void *ctx, uint32_t events);

/* Kill the child (if any) and plan a restart. */
static void
child_lost(struct idg_connector *c, const char *why)
{
	if (c->watch) {
		idg_server_unwatch(c->d->srv, c->watch);
		c->watch = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, 0);
		c->pid = -1;
	}
	idg_buf_reset(&c->in);
	c->ready = c->configuring = false;
	fail_all(c, IDG_ERR_UNAVAIL, "the IdP connector restarted; try again");
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : RESTART_MIN_MS;
	if (c->backoff_ms > RESTART_MAX_MS)
		c->backoff_ms = RESTART_MAX_MS;
	c->restart_at = idg_now_ms() + c->backoff_ms;
	log_warn("IdP connector: %s; restarting it in %" PRId64 " ms", why, c->backoff_ms);
}

static int
send_frame(struct idg_connector *c, struct idg_msg *m)
{
	const uint8_t *frame;
	size_t len;

	frame = idg_msg_frame(m, &len);
	/* Requests are small and the child reads them as it finishes each one; a socket that
	 * stays full for a second means the child is stuck. */
	return idg_wire_send(c->fd, frame, len, -1, 1000);
}

static int
push(struct idg_connector *c, struct idg_msg *req, int64_t timeout_ms, idg_conn_cb cb, void *ctx)
{
	struct pending *p;
	int rc;

	if (c->npending >= PENDING_MAX)
		return IDG_ERR_TOOBIG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return IDG_ERR_NOMEM;
	p->reqid = ++c->next_reqid;
	p->deadline = idg_now_ms() + timeout_ms;
	p->cb = cb;
	p->ctx = ctx;
	if ((rc = idg_msg_add_u64(req, IDG_CT_REQID, p->reqid)) < 0 ||
	    (rc = send_frame(c, req)) < 0) {
		free(p);
		return rc;
	}
	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	c->npending++;
	return 0;
}

static void
fail_all(struct idg_connector *c, int status, const char *why)
{
	while (c->head) {
		struct pending *p = c->head;

		c->head = p->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->npending--;
		if (p->cb)
			p->cb(c->d, p->ctx, status, NULL, why);
		free(p);
	}
}

/* Keys the child learned: keep them in the store, so a restart with the IdP away still
 * validates tokens. */
static void
persist_jwks(struct idg_connector *c, const char *json)
{
	struct idg_state *st = c->d->st;
	struct idg_change ch;
	char err[512];

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
}

static void
on_configured(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	struct idg_connector *c = C(d);

	(void)ctx;
	(void)v;
	if (c == NULL)
		return;
	c->configuring = false;
	if (status != 0) {
		log_err("IdP connector: configuration refused: %s", err ? err : "unknown error");
		return;
	}
	c->ready = true;
	c->backoff_ms = 0;
	log_info("IdP connector ready (pid %d)", (int)c->pid);
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

static int
send_configure(struct idg_connector *c, char *err, size_t errlen)
{
	const struct idg_config *cfg = &c->d->cfg;
	char secret[SECRET_MAX];
	struct idg_msg m;
	int rc;

	secret[0] = '\0';
	if (cfg->idp_client_secret_file &&
	    (rc = read_secret(cfg->idp_client_secret_file, secret, sizeof(secret), err, errlen)) < 0)
		return rc;
	if ((rc = idg_msg_init(&m, CONN_MSG_MAX)) < 0)
		return rc;
	if ((rc = add_saml(cfg, &m, err, errlen)) < 0) {
		idg_msg_free(&m);
		explicit_bzero(secret, sizeof(secret));
		return rc;
	}
#define S(tag, val) do { if (rc == 0 && (val) != NULL) rc = idg_msg_add_str(&m, tag, val); } while (0)
#define U(tag, val) do { if (rc == 0) rc = idg_msg_add_u32(&m, tag, (uint32_t)(val)); } while (0)
	U(IDG_CT_OP, IDG_CONN_CONFIGURE);
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
		rc = idg_msg_add_u64(&m, IDG_CT_RESPONSE_MAX, cfg->idp_max_response);
	if (rc == 0)
		rc = idg_msg_add_u64(&m, IDG_CT_TOKEN_MAX, cfg->idp_max_token);
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
#undef S
#undef U
	explicit_bzero(secret, sizeof(secret));
	if (rc == 0 && (rc = push(c, &m, CONFIGURE_TIMEOUT_MS, on_configured, NULL)) == 0)
		c->configuring = true;
	idg_msg_free(&m);	/* wipes the secret copy */
	if (rc < 0)
		snprintf(err, errlen, "cannot configure the IdP connector: %s", idg_strerror(rc));
	return rc;
}

static int
spawn(struct idg_connector *c, char *err, size_t errlen)
{
	char fdarg[16], uidarg[16], gidarg[16], logarg[16], levelarg[16];
	int sv[2];
	pid_t pid, self = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return IDG_ERR_IO;
	}
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
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(127);	/* idgated died before the signal was armed */
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	c->pid = pid;
	c->fd = sv[0];
	if (idg_server_watch(c->d->srv, c->fd, on_readable, c, &c->watch) < 0) {
		snprintf(err, errlen, "cannot watch the connector socket");
		return IDG_ERR_IO;
	}
	return send_configure(c, err, errlen);
}

/* Handle every whole frame in c->in. */
static void
take_frames(struct idg_connector *c)
{
	while (c->in.len >= IDG_WIRE_HDR && c->fd >= 0) {
		uint32_t body = idg_wire_body_len((const uint8_t *)c->in.data);
		struct idg_msgview v = { 0 };
		struct pending *p;
		uint64_t reqid = 0;
		uint32_t status = 0;
		const char *err = NULL, *jwks = NULL;
		int st;

		if (body > CONN_MSG_MAX) {
			child_lost(c, "it sent an oversized answer");
			return;
		}
		if (c->in.len < IDG_WIRE_HDR + body)
			return;
		if (idg_msg_parse((const uint8_t *)c->in.data + IDG_WIRE_HDR, body, &v) < 0 ||
		    idg_msg_get_u64(&v, IDG_CT_REQID, &reqid) < 0 ||
		    idg_msg_get_u32(&v, IDG_CT_STATUS, &status) < 0 ||
		    (p = c->head) == NULL || p->reqid != reqid) {
			idg_msgview_free(&v);
			child_lost(c, "it sent a malformed or unexpected answer");
			return;
		}
		if (idg_msg_get_str(&v, IDG_CT_JWKS, &jwks) == 0)
			persist_jwks(c, jwks);
		(void)idg_msg_get_str(&v, IDG_CT_ERROR, &err);
		st = status == 0 ? 0 : status == IDG_CONN_PENDING ? (int)IDG_CONN_PENDING :
		    status < 100 ? -(int)status : IDG_ERR_PROTO;
		c->head = p->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->npending--;
		if (p->cb)
			p->cb(c->d, p->ctx, st, &v, err ? err : idg_strerror(st < 0 ? st : 0));
		free(p);
		idg_msgview_free(&v);
		if (c->fd < 0)
			return;	/* the callback gave up on the child: c->in was emptied */
		idg_buf_consume(&c->in, IDG_WIRE_HDR + body);
	}
}

static void
on_readable(void *ctx, uint32_t events)
{
	struct idg_connector *c = ctx;

	(void)events;
	for (int rounds = 0; rounds < 16 && c->fd >= 0; rounds++) {
		ssize_t n;

		if (idg_buf_reserve(&c->in, 65536) < 0) {
			child_lost(c, "its answer is too large");
			return;
		}
		n = recv(c->fd, c->in.data + c->in.len, 65536, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			child_lost(c, n == 0 ? "it exited" : "its socket failed");
			return;
		}
		c->in.len += (size_t)n;
		take_frames(c);
	}
}

int
idg_connector_start(struct idg_daemon *d, char *err, size_t errlen)
{
	struct idg_connector *c;
	int rc;

	if (!idg_connector_configured(d))
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return IDG_ERR_NOMEM;
	c->d = d;
	c->fd = -1;
	c->pid = -1;
	idg_buf_init(&c->in, IDG_WIRE_HDR + CONN_MSG_MAX + 65536);
	if ((rc = resolve_user(d->cfg.connector_user, &c->uid, &c->gid, err, errlen)) < 0) {
		idg_buf_free(&c->in);
		free(c);
		return rc;
	}
	d->conn = c;
	if ((rc = spawn(c, err, errlen)) < 0) {
		idg_connector_stop(d);
		return rc;
	}
	return 0;
}

void
idg_connector_stop(struct idg_daemon *d)
{
	struct idg_connector *c = C(d);

	if (c == NULL)
		return;
	if (c->watch)
		idg_server_unwatch(d->srv, c->watch);
	if (c->fd >= 0)
		close(c->fd);	/* the child exits on EOF */
	if (c->pid > 0) {
		int64_t until = idg_now_ms() + 2000;

		while (waitpid(c->pid, NULL, WNOHANG) == 0) {
			if (idg_now_ms() > until) {
				kill(c->pid, SIGKILL);
				(void)waitpid(c->pid, NULL, 0);
				break;
			}
			usleep(10000);
		}
	}
	c->fd = -1;
	fail_all(c, IDG_ERR_UNAVAIL, "idgated is stopping");
	idg_buf_free(&c->in);
	free(c);
	d->conn = NULL;
}

int
idg_connector_call(struct idg_daemon *d, struct idg_msg *req, int64_t timeout_ms,
    idg_conn_cb cb, void *ctx, char *err, size_t errlen)
{
	struct idg_connector *c = C(d);
	int rc;

	if (c == NULL) {
		snprintf(err, errlen, "no identity provider is configured");
		return IDG_ERR_CONFIG;
	}
	if (c->fd < 0 || (!c->ready && !c->configuring)) {
		snprintf(err, errlen, "the IdP connector is not running (restarting); try again "
		    "shortly");
		return IDG_ERR_UNAVAIL;
	}
	if ((rc = push(c, req, timeout_ms, cb, ctx)) < 0) {
		snprintf(err, errlen, rc == IDG_ERR_TOOBIG ? "too many logins in progress; try "
		    "again shortly" : "the IdP connector did not take the request");
		if (rc != IDG_ERR_TOOBIG)
			child_lost(c, "it did not take a request");
		return rc == IDG_ERR_TOOBIG ? rc : IDG_ERR_UNAVAIL;
	}
	return 0;
}

static void
on_tick_answer(struct idg_daemon *d, void *ctx, int status, const struct idg_msgview *v,
    const char *err)
{
	(void)d;
	(void)ctx;
	(void)v;
	if (status < 0)
		log_debug("IdP connector: scheduled work failed: %s", err ? err : "");
}

void
idg_connector_tick(struct idg_daemon *d, int64_t now)
{
	struct idg_connector *c = C(d);
	char err[512];

	if (c == NULL)
		return;
	if (c->fd < 0) {
		if (c->restart_at && now >= c->restart_at) {
			c->restart_at = 0;
			if (spawn(c, err, sizeof(err)) < 0)
				child_lost(c, err);
		}
		return;
	}
	/* Answers come in order, so only the oldest request's deadline matters. */
	if (c->head && now > c->head->deadline) {
		struct pending *p = c->head;

		c->head = p->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->npending--;
		if (p->cb)
			p->cb(d, p->ctx, IDG_ERR_TIMEOUT, NULL, "the IdP did not answer in time");
		free(p);
		child_lost(c, "a request overran its deadline");
		return;
	}
	if (c->ready && c->npending == 0 && now >= c->next_tick) {
		struct idg_msg m;

		c->next_tick = now + 30000;
		if (idg_msg_init(&m, 256) == 0 && idg_msg_add_u32(&m, IDG_CT_OP, IDG_CONN_TICK) == 0)
			(void)push(c, &m, d->cfg.idp_timeout * 1000 + 5000, on_tick_answer, NULL);
		idg_msg_free(&m);
	}
}
