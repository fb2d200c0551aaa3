/* idgated's connector child: the only process that talks to the identity provider. It is a
 * fresh exec of idgated (nothing of the parent's memory: no state, no tokens), drops to an
 * unprivileged user with no capabilities before it reads a byte from anywhere, and then
 * answers the parent's requests one at a time (conn_proto.h). It keeps only caches: device
 * codes and SAML logins in progress are the parent's, so it may be stopped at any time. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "connectors/oidc.h"
#include "connectors/http.h"
#include "connectors/saml.h"
#include "daemon/conn_child.h"
#include "daemon/conn_proto.h"
#include "proto/wire.h"
#include "sandbox/sandbox.h"

#define CONN_MSG_MAX (1024u * 1024u)

struct child {
	int fd;
	struct idg_oidc *oidc;	/* NULL: no OIDC IdP configured */
	struct idg_saml *saml;	/* NULL: no SAML IdP configured */
	struct idg_http *saml_http;	/* fetches the IdP's metadata from its URL, or NULL */
	char *saml_md_url;
	unsigned saml_refresh_s;
	time_t saml_next_refresh;
	bool configured;
	uint64_t jwks_gen_sent;
};

static int
reply_status(struct idg_msg *m, uint64_t reqid, int rc, const char *err)
{
	int r = idg_msg_add_u64(m, IDG_CT_REQID, reqid);

	if (r == 0)
		r = idg_msg_add_u32(m, IDG_CT_STATUS, rc < 0 ? (uint32_t)-rc : (uint32_t)rc);
	if (r == 0 && rc < 0)
		r = idg_msg_add_str(m, IDG_CT_ERROR, err && *err ? err : idg_strerror(rc));
	return r;
}

static int
add_opt_str(struct idg_msg *m, uint16_t tag, const char *s)
{
	return s ? idg_msg_add_str(m, tag, s) : 0;
}

static int
add_identity(struct idg_msg *m, const struct idg_oidc_identity *id)
{
	int rc = 0;

	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_ISS, id->iss);
	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_SUB, id->sub);
	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_USERNAME, id->username);
	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_NAME, id->name);
	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_EMAIL, id->email);
	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_LINK, id->link);
	for (size_t i = 0; rc == 0 && i < id->ngroups; i++)
		rc = idg_msg_add_str(m, IDG_CT_ID_GROUP, id->groups[i]);
	rc = rc ? rc : add_opt_str(m, IDG_CT_ID_GROUPS_ABSENT, id->groups_absent);
	if (rc == 0)
		rc = idg_msg_add_u64(m, IDG_CT_ID_EXP, (uint64_t)(id->exp > 0 ? id->exp : 0));
	return rc;
}

/* Piggy-back new keys on any reply, so the parent can persist them. */
static int
add_jwks_if_new(struct child *ch, struct idg_msg *m)
{
	uint64_t gen = 0;
	const char *json;

	if (ch->oidc == NULL || (json = idg_oidc_jwks_json(ch->oidc, &gen)) == NULL ||
	    gen == ch->jwks_gen_sent)
		return 0;
	ch->jwks_gen_sent = gen;
	return idg_msg_add_str(m, IDG_CT_JWKS, json);
}

static const char *
opt_str(const struct idg_msgview *v, uint16_t tag)
{
	const char *s = NULL;

	return idg_msg_get_str(v, tag, &s) == 0 ? s : NULL;
}

static uint32_t
opt_u32(const struct idg_msgview *v, uint16_t tag)
{
	uint32_t x = 0;

	(void)idg_msg_get_u32(v, tag, &x);
	return x;
}

static uint64_t
opt_u64(const struct idg_msgview *v, uint16_t tag)
{
	uint64_t x = 0;

	(void)idg_msg_get_u64(v, tag, &x);
	return x;
}

#define SAML_MD_MAX (1024u * 1024u)

/* The IdP's metadata from its URL: 200 and a body, or why not. */
static int
fetch_metadata(struct idg_http *h, const char *url, char **xml_out, char *err, size_t errlen)
{
	struct idg_http_resp r = { 0 };
	char why[256];
	int rc;

	if ((rc = idg_http_request(h, url, NULL, &r, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "cannot fetch the SAML IdP metadata: %s", why);
		return rc;
	}
	if (r.status != 200) {
		long st = r.status;

		snprintf(err, errlen, "cannot fetch the SAML IdP metadata: HTTP %ld", st);
		idg_http_resp_clear(&r);
		return st >= 500 ? IDG_ERR_UNAVAIL : IDG_ERR_PROTO;
	}
	*xml_out = r.body;
	r.body = NULL;
	idg_http_resp_clear(&r);
	return 0;
}

/* The [saml] part of CONFIGURE: NULL in *out when SAML is not configured; *http_out the
 * client for a metadata URL (or NULL). */
static int
configure_saml(const struct idg_msgview *v, struct idg_saml **out, struct idg_http **http_out,
    char *err, size_t errlen)
{
	struct idg_saml_cfg c = { 0 };
	/* within the parent's 10 s for CONFIGURE (connector.c) */
	struct idg_http_cfg hc = { .connect_timeout_ms = 3000, .timeout_ms = 8000,
		.response_max = SAML_MD_MAX };
	struct idg_http *h = NULL;
	const char *url = opt_str(v, IDG_CT_SAML_METADATA_URL);
	char why[400], *fetched = NULL;
	int rc;

	*out = NULL;
	*http_out = NULL;
	if ((c.idp_metadata = opt_str(v, IDG_CT_SAML_METADATA)) == NULL && url == NULL)
		return 0;
	if (c.idp_metadata == NULL) {
		hc.ca_file = opt_str(v, IDG_CT_SAML_CA_FILE);
		if ((rc = idg_http_new(&hc, &h)) < 0) {
			snprintf(err, errlen, "cannot set up the SAML metadata client: %s",
			    idg_strerror(rc));
			return rc;
		}
		if ((rc = fetch_metadata(h, url, &fetched, err, errlen)) < 0) {
			idg_http_free(h);
			return rc;
		}
		c.idp_metadata = fetched;
	}
	c.sp_entity_id = opt_str(v, IDG_CT_SAML_SP_ENTITY);
	c.acs_url = opt_str(v, IDG_CT_SAML_ACS);
	c.username_attr = opt_str(v, IDG_CT_SAML_USER_ATTR);
	c.groups_attr = opt_str(v, IDG_CT_SAML_GROUPS_ATTR);
	c.link_attr = opt_str(v, IDG_CT_SAML_LINK_ATTR);
	c.leeway_s = opt_u32(v, IDG_CT_SAML_LEEWAY);
	c.response_max = (size_t)opt_u64(v, IDG_CT_SAML_MAX);
	c.sp_key_pem = opt_str(v, IDG_CT_SAML_SP_KEY);
	/* idgated's parent ties responses to its logins by request ID (saml_sp.c), so any of
	 * the SAML children may verify the answer to a request another one made. */
	c.requests_elsewhere = true;
	rc = idg_saml_new(&c, out, why, sizeof(why));
	free(fetched);
	if (rc < 0) {
		snprintf(err, errlen, "cannot set up the SAML connector: %s", why);
		idg_http_free(h);
		return rc;
	}
	*http_out = h;
	return 0;
}

/* Keep the SAML connector (and where its metadata comes from) in ch. */
static void
keep_saml(struct child *ch, const struct idg_msgview *v, struct idg_saml *sm,
    struct idg_http *h)
{
	const char *url = v ? opt_str(v, IDG_CT_SAML_METADATA_URL) : NULL;

	idg_saml_free(ch->saml);
	idg_http_free(ch->saml_http);
	free(ch->saml_md_url);
	ch->saml = sm;
	ch->saml_http = h;
	ch->saml_md_url = h && url ? strdup(url) : NULL;
	ch->saml_refresh_s = v ? opt_u32(v, IDG_CT_SAML_REFRESH) : 0;
	if (ch->saml_refresh_s < 60)
		ch->saml_refresh_s = 60;
	ch->saml_next_refresh = time(NULL) + ch->saml_refresh_s;
}

/* A metadata URL is fetched again when due; a failure keeps the metadata we have. */
static void
saml_tick(struct child *ch)
{
	char err[512], *xml = NULL;
	time_t now = time(NULL);

	if (ch->saml == NULL || ch->saml_http == NULL || ch->saml_md_url == NULL ||
	    now < ch->saml_next_refresh)
		return;
	ch->saml_next_refresh = now + ch->saml_refresh_s;
	if (fetch_metadata(ch->saml_http, ch->saml_md_url, &xml, err, sizeof(err)) < 0 ||
	    idg_saml_set_metadata(ch->saml, xml, err, sizeof(err)) < 0)
		log_notice("connector: the SAML IdP metadata was not refreshed (the old one stays): "
		    "%s", err);
	else
		log_info("connector: SAML IdP metadata refreshed");
	free(xml);
}

static int
do_configure(struct child *ch, const struct idg_msgview *v, char *err, size_t errlen)
{
	struct idg_oidc_cfg c = { 0 };
	struct idg_oidc *o = NULL;
	struct idg_saml *sm = NULL;
	struct idg_http *sh = NULL;
	const char *jwks;
	/* The IdP's sandbox layer, before anything is fetched; once (a new [idp] restarts us). */
	static bool confined;
	const char *urls[] = { opt_str(v, IDG_CT_ISSUER), opt_str(v, IDG_CT_SAML_METADATA_URL) };
	const char *cas[] = { opt_str(v, IDG_CT_CA_FILE), opt_str(v, IDG_CT_SAML_CA_FILE) };
	int rc;

	if (!confined && (rc = idg_sandbox_connector_idp(urls, 2, cas, 2, err, errlen)) < 0)
		return rc;
	confined = true;
	if ((rc = configure_saml(v, &sm, &sh, err, errlen)) < 0)
		return rc;
	if (opt_str(v, IDG_CT_ISSUER) == NULL && sm != NULL) {
		/* SAML only */
		keep_saml(ch, v, sm, sh);
		idg_oidc_free(ch->oidc);
		ch->oidc = NULL;
		ch->configured = true;
		return 0;
	}

	c.profile = (enum idg_oidc_profile)opt_u32(v, IDG_CT_PROFILE);
	c.issuer = opt_str(v, IDG_CT_ISSUER);
	c.client_id = opt_str(v, IDG_CT_CLIENT_ID);
	c.client_secret = opt_str(v, IDG_CT_CLIENT_SECRET);
	c.client_auth = (enum idg_oidc_client_auth)opt_u32(v, IDG_CT_CLIENT_AUTH);
	c.scope = opt_str(v, IDG_CT_SCOPE);
	c.audience = opt_str(v, IDG_CT_AUDIENCE);
	c.ca_file = opt_str(v, IDG_CT_CA_FILE);
	c.connect_timeout_ms = opt_u32(v, IDG_CT_CONNECT_MS);
	c.timeout_ms = opt_u32(v, IDG_CT_TIMEOUT_MS);
	c.response_max = (size_t)opt_u64(v, IDG_CT_RESPONSE_MAX);
	c.token_max = (size_t)opt_u64(v, IDG_CT_TOKEN_MAX);
	c.leeway_s = opt_u32(v, IDG_CT_LEEWAY);
	c.jwks_min_interval_s = opt_u32(v, IDG_CT_JWKS_MIN);
	c.jwks_refresh_s = opt_u32(v, IDG_CT_JWKS_REFRESH);
	c.algs = opt_str(v, IDG_CT_ALGS);
	c.username_claim = opt_str(v, IDG_CT_USERNAME_CLAIM);
	c.groups_claim = opt_str(v, IDG_CT_GROUPS_CLAIM);
	c.groups_source = (enum idg_oidc_source)opt_u32(v, IDG_CT_GROUPS_SOURCE);
	c.group_prefix_strip = opt_str(v, IDG_CT_GROUP_PREFIX);
	c.keycloak_paths_basename = opt_u32(v, IDG_CT_KC_BASENAME) != 0;
	c.keycloak_realm_roles = opt_u32(v, IDG_CT_KC_REALM_ROLES) != 0;
	c.keycloak_client_roles = opt_str(v, IDG_CT_KC_CLIENT_ROLES);
	c.userinfo_fallback = opt_u32(v, IDG_CT_USERINFO_FALLBACK) != 0;
	if (c.issuer == NULL || c.client_id == NULL) {
		idg_saml_free(sm);
		idg_http_free(sh);
		snprintf(err, errlen, "no issuer or client id configured");
		return IDG_ERR_CONFIG;
	}
	if ((rc = idg_oidc_new(&c, &o)) < 0) {
		idg_saml_free(sm);
		idg_http_free(sh);
		snprintf(err, errlen, "cannot set up the OIDC connector: %s", idg_strerror(rc));
		return rc;
	}
	if ((jwks = opt_str(v, IDG_CT_JWKS)) != NULL &&
	    idg_oidc_jwks_load_at(o, jwks, (time_t)opt_u64(v, IDG_CT_JWKS_AT), err, errlen) < 0)
		log_warn("connector: the cached keys were not usable (%s); fetching new ones", err);
	/* The loaded keys are what the parent has: no need to send them back. */
	(void)idg_oidc_jwks_json(o, &ch->jwks_gen_sent);
	idg_oidc_free(ch->oidc);
	ch->oidc = o;
	keep_saml(ch, v, sm, sh);
	ch->configured = true;
	return 0;
}

/* SAML_START and SAML_RESPONSE. */
static int
handle_saml(struct child *ch, uint32_t op, uint64_t reqid, const struct idg_msgview *v,
    struct idg_msg *m)
{
	struct idg_oidc_identity id = { 0 };
	char err[512] = "", rid[IDG_SAML_ID_MAX + 1], *url = NULL;
	const char *resp;
	int rc;

	if (ch->saml == NULL)
		return reply_status(m, reqid, IDG_ERR_CONFIG, "no SAML IdP is configured");
	if (op == IDG_CONN_SAML_START) {
		if ((rc = idg_saml_start(ch->saml, NULL, &url, rid, err, sizeof(err))) < 0)
			return reply_status(m, reqid, rc, err);
		rc = reply_status(m, reqid, 0, NULL);
		rc = rc ? rc : idg_msg_add_str(m, IDG_CT_URI, url);
		rc = rc ? rc : idg_msg_add_str(m, IDG_CT_SAML_REQID, rid);
		free(url);
		return rc;
	}
	if ((resp = opt_str(v, IDG_CT_SAML_RESPONSE)) == NULL)
		return reply_status(m, reqid, IDG_ERR_PROTO, "no SAML response");
	if ((rc = idg_saml_response(ch->saml, resp, strlen(resp), &id, rid, err,
	    sizeof(err))) < 0) {
		log_info("connector: SAML response refused: %s", err);
		return reply_status(m, reqid, rc, err);
	}
	rc = reply_status(m, reqid, 0, NULL);
	rc = rc ? rc : add_identity(m, &id);
	rc = rc ? rc : idg_msg_add_str(m, IDG_CT_SAML_REQID, rid);
	idg_oidc_identity_clear(&id);
	return rc;
}

/* Handle one request; the reply goes into m. */
static int
handle_op(struct child *ch, const struct idg_msgview *v, struct idg_msg *m)
{
	struct idg_oidc_identity id = { 0 };
	char err[512] = "";
	uint32_t op = 0;
	uint64_t reqid = 0;
	int rc;

	(void)idg_msg_get_u64(v, IDG_CT_REQID, &reqid);
	if (idg_msg_get_u32(v, IDG_CT_OP, &op) < 0)
		return reply_status(m, reqid, IDG_ERR_PROTO, "no operation");
	if (op != IDG_CONN_CONFIGURE && !ch->configured)
		return reply_status(m, reqid, IDG_ERR_CONFIG, "the connector is not configured");
	if (op == IDG_CONN_SAML_START || op == IDG_CONN_SAML_RESPONSE)
		return handle_saml(ch, op, reqid, v, m);
	if (op != IDG_CONN_CONFIGURE && op != IDG_CONN_TICK && ch->oidc == NULL)
		return reply_status(m, reqid, IDG_ERR_CONFIG, "no OIDC IdP is configured");
	switch (op) {
	case IDG_CONN_CONFIGURE:
		rc = do_configure(ch, v, err, sizeof(err));
		return reply_status(m, reqid, rc, err);
	case IDG_CONN_PASSWORD: {
		const char *user = opt_str(v, IDG_CT_USER), *pw = opt_str(v, IDG_CT_PASSWORD);

		if (user == NULL || pw == NULL)
			return reply_status(m, reqid, IDG_ERR_PROTO, "no user or password");
		rc = idg_oidc_password(ch->oidc, user, pw, &id, err, sizeof(err));
		break;
	}
	case IDG_CONN_TOKEN: {
		const char *tok = opt_str(v, IDG_CT_TOKEN);

		if (tok == NULL)
			return reply_status(m, reqid, IDG_ERR_PROTO, "no token");
		rc = idg_oidc_token(ch->oidc, tok, &id, err, sizeof(err));
		break;
	}
	case IDG_CONN_DEVICE_START: {
		struct idg_oidc_device dev = { 0 };

		if ((rc = idg_oidc_device_start(ch->oidc, &dev, err, sizeof(err))) < 0)
			return reply_status(m, reqid, rc, err);
		rc = reply_status(m, reqid, 0, NULL);
		rc = rc ? rc : add_opt_str(m, IDG_CT_DEVICE_CODE, dev.device_code);
		rc = rc ? rc : add_opt_str(m, IDG_CT_USER_CODE, dev.user_code);
		rc = rc ? rc : add_opt_str(m, IDG_CT_URI, dev.verification_uri);
		rc = rc ? rc : add_opt_str(m, IDG_CT_URI_COMPLETE, dev.verification_uri_complete);
		rc = rc ? rc : idg_msg_add_u32(m, IDG_CT_INTERVAL, dev.interval_s);
		rc = rc ? rc : idg_msg_add_u64(m, IDG_CT_EXPIRES, (uint64_t)dev.expires_at);
		idg_oidc_device_clear(&dev);
		return rc;
	}
	case IDG_CONN_DEVICE_POLL: {
		struct idg_oidc_device dev = { 0 };
		const char *code = opt_str(v, IDG_CT_DEVICE_CODE);

		if (code == NULL || (dev.device_code = strdup(code)) == NULL)
			return reply_status(m, reqid, code ? IDG_ERR_NOMEM : IDG_ERR_PROTO,
			    code ? "out of memory" : "no device code");
		dev.interval_s = opt_u32(v, IDG_CT_INTERVAL);
		dev.expires_at = (int64_t)opt_u64(v, IDG_CT_EXPIRES);
		rc = idg_oidc_device_poll(ch->oidc, &dev, &id, err, sizeof(err));
		if (rc == (int)IDG_CONN_PENDING) {
			rc = reply_status(m, reqid, IDG_CONN_PENDING, NULL);
			rc = rc ? rc : idg_msg_add_u32(m, IDG_CT_INTERVAL, dev.interval_s);
			idg_oidc_device_clear(&dev);
			return rc;
		}
		idg_oidc_device_clear(&dev);
		break;
	}
	case IDG_CONN_DEVICE_CANCEL:
		return reply_status(m, reqid, 0, NULL);
	case IDG_CONN_KEYS: {
		const char *jwks = opt_str(v, IDG_CT_JWKS);

		if (jwks == NULL)
			return reply_status(m, reqid, IDG_ERR_PROTO, "no keys");
		if ((rc = idg_oidc_jwks_load_at(ch->oidc, jwks, (time_t)opt_u64(v,
		    IDG_CT_JWKS_AT), err, sizeof(err))) < 0)
			return reply_status(m, reqid, rc, err);
		(void)idg_oidc_jwks_json(ch->oidc, &ch->jwks_gen_sent);	/* nothing to echo */
		return reply_status(m, reqid, 0, NULL);
	}
	case IDG_CONN_TICK:
		saml_tick(ch);
		rc = ch->oidc ? idg_oidc_jwks_tick(ch->oidc, time(NULL), err, sizeof(err)) : 0;
		if (rc < 0)
			log_notice("connector: scheduled key refresh failed: %s", err);
		return reply_status(m, reqid, 0, NULL);
	default:
		return reply_status(m, reqid, IDG_ERR_PROTO, "unknown operation");
	}
	if (rc < 0) {
		idg_oidc_identity_clear(&id);
		return reply_status(m, reqid, rc, err);
	}
	rc = reply_status(m, reqid, 0, NULL);
	rc = rc ? rc : add_identity(m, &id);
	idg_oidc_identity_clear(&id);
	return rc;
}

/* One request, its answer carrying the time it waited on the IdP (audited with logins). */
static int
handle(struct child *ch, const struct idg_msgview *v, struct idg_msg *m)
{
	uint64_t before = idg_oidc_idp_us(ch->oidc);
	int rc = handle_op(ch, v, m);

	uint64_t after = idg_oidc_idp_us(ch->oidc);

	/* (CONFIGURE replaces the connector, and with it the count.) */
	if (rc == 0 && ch->configured)
		rc = idg_msg_add_u64(m, IDG_CT_IDP_US, after >= before ? after - before : after);
	return rc;
}

int
idg_conn_child_main(int fd, uid_t uid, gid_t gid)
{
	struct child ch = { .fd = fd };
	pid_t parent = getppid();	/* idgated: spawn() checked it after arming the signal */
	char sberr[256] = "PR_SET_PDEATHSIG failed";
	int rc;

	if ((rc = idg_sandbox_drop(uid, gid)) < 0) {
		log_err("connector: cannot drop privileges to uid %u gid %u: %s", (unsigned)uid,
		    (unsigned)gid, idg_strerror(rc));
		return 1;
	}
	if (idg_sandbox_parent_death(parent) < 0 ||
	    idg_sandbox_connector_start(sberr, sizeof(sberr)) < 0) {
		log_err("connector: cannot enter the sandbox: %s", sberr);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct idg_msgview v = { 0 };
		struct idg_msg m;
		const uint8_t *frame;
		uint8_t *body = NULL;
		size_t len;

		/* The parent is the only peer; it closing the socket is the signal to exit. */
		rc = idg_wire_recv(fd, CONN_MSG_MAX, &body, &len, NULL, 3600 * 1000);
		if (rc == IDG_ERR_TIMEOUT)
			continue;	/* an idle hour; nothing was read */
		if (rc < 0)
			break;
		if (idg_msg_parse(body, len, &v) < 0 || idg_msg_init(&m, CONN_MSG_MAX) < 0) {
			idg_msgview_free(&v);
			explicit_bzero(body, len);
			free(body);
			break;
		}
		rc = handle(&ch, &v, &m);
		if (rc == 0)
			rc = add_jwks_if_new(&ch, &m);
		if (rc < 0) {
			/* The reply could not be built (too large): say so instead. */
			uint64_t reqid = 0;

			(void)idg_msg_get_u64(&v, IDG_CT_REQID, &reqid);
			idg_msg_free(&m);
			if (idg_msg_init(&m, CONN_MSG_MAX) == 0)
				rc = reply_status(&m, reqid, rc, "the connector's answer was too large");
		}
		idg_msgview_free(&v);
		explicit_bzero(body, len);	/* it may have held a password */
		free(body);
		if (rc == 0) {
			frame = idg_msg_frame(&m, &len);
			rc = idg_wire_send(fd, frame, len, -1, 30000);
		}
		idg_msg_free(&m);
		if (rc < 0)
			break;
	}
	idg_oidc_free(ch.oidc);
	keep_saml(&ch, NULL, NULL, NULL);
	return 0;
}
