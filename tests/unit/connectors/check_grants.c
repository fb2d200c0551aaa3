/* grants.c and discovery against a mock IdP on the HTTPS fixture: the password grant (both
 * client authentications, what is sent, every kind of refusal and malformed answer), groups
 * from the access token and from userinfo, the userinfo fallback, the device grant (start,
 * pending, slow_down, expiry, denial, success), a token presented as a password, an IdP that
 * is down, and discovery documents that must be refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/util.h"
#include "connectors/oidc.h"
#include "connectors/oidc_int.h"
#include "fixture.h"

#define CLIENT "idgate"
#define SECRET "s3cr:et"
#define API "https://api.example.test"

static struct fx_server *srv;
static EVP_PKEY *key, *rogue;

/* ---------- scripted endpoints ---------- */

struct script {
	pthread_mutex_t mu;
	int status[16];
	char *body[16];
	int n, next;
};

static struct script tok_script = { .mu = PTHREAD_MUTEX_INITIALIZER };
static struct script dev_script = { .mu = PTHREAD_MUTEX_INITIALIZER };
static struct script ui_script = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
script_reset(struct script *s)
{
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < s->n; i++)
		free(s->body[i]);
	s->n = s->next = 0;
	pthread_mutex_unlock(&s->mu);
}

/* Queue an answer; body is taken over. */
static void
script_add(struct script *s, int status, char *body)
{
	pthread_mutex_lock(&s->mu);
	assert_true(s->n < 16);
	s->status[s->n] = status;
	s->body[s->n++] = body;
	pthread_mutex_unlock(&s->mu);
}

/* Answers in order; the last one again once they run out. */
static void
scripted(const struct fx_req *req, struct fx_resp *resp, void *arg)
{
	struct script *s = arg;
	int i;

	(void)req;
	pthread_mutex_lock(&s->mu);
	if (s->n == 0) {
		resp->status = 500;
		resp->body = strdup("{}");
	} else {
		i = s->next < s->n ? s->next++ : s->n - 1;
		resp->status = s->status[i];
		resp->body = strdup(s->body[i]);
		if (s->status[i] == 302)
			resp->location = "https://127.0.0.1:1/elsewhere";
	}
	pthread_mutex_unlock(&s->mu);
}

static void
use_issuer(const char *path)
{
	const char *one[1];
	char *jwk = fx_jwk(key, "k1", NULL), *doc;

	fx_idp(srv, path);
	one[0] = jwk;
	doc = fx_jwks(one, 1);
	fx_set_jwks(srv, doc);
	free(jwk);
	free(doc);
}

static int
setup(void **state)
{
	(void)state;
	srv = fx_start();
	key = fx_key(FX_RSA);
	rogue = fx_key(FX_RSA);
	use_issuer("/realms/test");
	fx_route(srv, "/token", scripted, &tok_script);
	fx_route(srv, "/device", scripted, &dev_script);
	fx_route(srv, "/userinfo", scripted, &ui_script);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	script_reset(&tok_script);
	script_reset(&dev_script);
	script_reset(&ui_script);
	fx_stop(srv);
	EVP_PKEY_free(key);
	EVP_PKEY_free(rogue);
	return 0;
}

static int
reset(void **state)
{
	(void)state;
	script_reset(&tok_script);
	script_reset(&dev_script);
	script_reset(&ui_script);
	use_issuer("/realms/test");
	return 0;
}

/* ---------- tokens ---------- */

/* A JWT for the current issuer: aud (a JSON value), extra members, exp from now. */
static char *
jwt(EVP_PKEY *k, const char *alg, const char *aud, const char *extra, long exp_in)
{
	long now = (long)time(NULL);
	char *p = fx_printf("{\"iss\":\"%s\",\"aud\":%s,\"sub\":\"u-alice\",\"iat\":%ld,"
	    "\"exp\":%ld%s}", fx_issuer(srv), aud, now, now + exp_in, extra ? extra : "");
	char *h = fx_printf("{\"alg\":\"%s\",\"kid\":\"k1\"}", alg);
	char *t = fx_sign(k, alg, h, p);

	free(h);
	free(p);
	return t;
}

#define ALICE ",\"preferred_username\":\"alice\",\"name\":\"Alice\",\"groups\":[\"/eng\",\"ops\"]"

static char *
token_answer(const char *id_token, const char *access_token)
{
	return fx_printf("{\"token_type\":\"Bearer\",\"expires_in\":300,\"refresh_token\":\"rt\""
	    "%s%s%s%s%s%s}", id_token ? ",\"id_token\":\"" : "", id_token ? id_token : "",
	    id_token ? "\"" : "", access_token ? ",\"access_token\":\"" : "",
	    access_token ? access_token : "", access_token ? "\"" : "");
}

struct setup_cfg {
	enum idg_oidc_profile profile;
	enum idg_oidc_client_auth auth;
	const char *secret;
	const char *audience;
	const char *groups_claim;
	enum idg_oidc_source source;
	bool fallback;
	const char *issuer;
};

static struct idg_oidc *
make(const struct setup_cfg *s)
{
	struct idg_oidc_cfg c = { 0 };
	struct idg_oidc *o = NULL;

	c.profile = s ? s->profile : IDG_OIDC_KEYCLOAK;
	c.issuer = s && s->issuer ? s->issuer : fx_issuer(srv);
	c.client_id = CLIENT;
	c.client_secret = s ? s->secret : SECRET;
	c.client_auth = s ? s->auth : IDG_OIDC_AUTH_BASIC;
	c.audience = s ? s->audience : NULL;
	c.groups_claim = s ? s->groups_claim : NULL;
	c.groups_source = s ? s->source : IDG_OIDC_SRC_ID_TOKEN;
	c.userinfo_fallback = s ? s->fallback : false;
	c.ca_file = fx_ca_file(srv);
	c.leeway_s = 60;
	c.connect_timeout_ms = 2000;
	c.timeout_ms = 4000;
	assert_int_equal(idg_oidc_new(&c, &o), 0);
	return o;
}

static bool
has(const char *body, const char *param)
{
	size_t n = strlen(param);

	for (const char *p = body; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL)
		if (strncmp(p, param, n) == 0 && (p[n] == '&' || p[n] == '\0'))
			return true;
	return false;
}

/* ---------- password ---------- */

static void
password_with_client_secret_basic(void **state)
{
	struct idg_oidc *o = make(NULL);
	struct idg_oidc_identity id = { 0 };
	struct fx_req seen = { 0 };
	char *it = jwt(key, "RS256", "\"idgate\"", ALICE, 300), err[256];
	unsigned char basic[64];

	(void)state;
	script_add(&tok_script, 200, token_answer(it, "opaque-access-token"));
	assert_int_equal(idg_oidc_password(o, "alice", "p@ss w&rd+", &id, err, sizeof(err)), 0);
	assert_string_equal(id.username, "alice");
	assert_string_equal(id.sub, "u-alice");
	assert_string_equal(id.name, "Alice");
	assert_int_equal(id.ngroups, 2);
	assert_string_equal(id.groups[0], "eng");
	assert_string_equal(id.groups[1], "ops");
	assert_true(id.exp > (int64_t)time(NULL));
	assert_true(fx_last(srv, "/token", &seen));
	assert_true(has(seen.body, "grant_type=password"));
	assert_true(has(seen.body, "username=alice"));
	assert_true(has(seen.body, "password=p%40ss%20w%26rd%2B"));
	assert_true(has(seen.body, "scope=openid%20profile%20email"));
	assert_null(strstr(seen.body, "client_secret"));
	assert_null(strstr(seen.body, "audience"));
	/* Basic over the form-encoded id and secret, in standard base64. */
	EVP_EncodeBlock(basic, (const unsigned char *)CLIENT ":s3cr%3Aet",
	    (int)strlen(CLIENT ":s3cr%3Aet"));
	assert_true(strncmp(seen.auth, "Basic ", 6) == 0);
	assert_string_equal(seen.auth + 6, (char *)basic);
	fx_req_free(&seen);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
	free(it);
}

static void
password_with_client_secret_post(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_KEYCLOAK, .auth = IDG_OIDC_AUTH_POST,
		.secret = SECRET };
	struct idg_oidc *o = make(&s);
	struct idg_oidc_identity id = { 0 };
	struct fx_req seen = { 0 };
	char *it = jwt(key, "RS256", "\"idgate\"", ALICE, 300), err[256];

	(void)state;
	script_add(&tok_script, 200, token_answer(it, NULL));
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)), 0);
	assert_true(fx_last(srv, "/token", &seen));
	assert_true(has(seen.body, "client_id=idgate"));
	assert_true(has(seen.body, "client_secret=s3cr%3Aet"));
	assert_string_equal(seen.auth, "");
	fx_req_free(&seen);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
	free(it);
}

static void
password_refusals(void **state)
{
	char *good = jwt(key, "RS256", "\"idgate\"", ALICE, 300);
	char *wrong_aud = jwt(key, "RS256", "\"someone-else\"", ALICE, 300);
	char *forged = jwt(rogue, "RS256", "\"idgate\"", ALICE, 300);
	char *expired = jwt(key, "RS256", "\"idgate\"", ALICE, -3600);
	char *unsigned_t = jwt(key, "none", "\"idgate\"", ALICE, 300);
	const struct { int status; char *body; int rc; const char *why; } t[] = {
		{ 400, strdup("{\"error\":\"invalid_grant\",\"error_description\":\"Invalid user "
		    "credentials\"}"), IDG_ERR_DENIED, "wrong username or password" },
		{ 403, strdup("{\"error\":\"mfa_required\",\"mfa_token\":\"x\"}"), IDG_ERR_DENIED,
		    "refused by the IdP (mfa_required)" },
		{ 400, strdup("{\"error\":\"interaction_required\"}"), IDG_ERR_DENIED,
		    "interaction_required" },
		{ 401, strdup("{\"error\":\"invalid_client\"}"), IDG_ERR_CONFIG, "client" },
		{ 400, strdup("{\"error\":\"unsupported_grant_type\"}"), IDG_ERR_CONFIG,
		    "login method" },
		{ 400, strdup("{\"error\":\"bad\\nthing<>\"}"), IDG_ERR_DENIED, "(badthing)" },
		{ 400, strdup("{\"error_description\":\"no code\"}"), IDG_ERR_PROTO, "HTTP 400" },
		{ 500, strdup("oops"), IDG_ERR_UNAVAIL, "IdP returned HTTP 500" },
		{ 503, strdup("{\"error\":\"temporarily_unavailable\"}"), IDG_ERR_UNAVAIL, "503" },
		{ 302, strdup("{}"), IDG_ERR_PROTO, "HTTP 302" },
		{ 200, strdup("{\"access_token\":"), IDG_ERR_PROTO, "malformed JSON from IdP" },
		{ 200, token_answer(NULL, "at"), IDG_ERR_PROTO, "without an ID token" },
		{ 200, token_answer(wrong_aud, "at"), IDG_ERR_DENIED, "audience" },
		{ 200, token_answer(forged, "at"), IDG_ERR_DENIED, "signature" },
		{ 200, token_answer(expired, "at"), IDG_ERR_EXPIRED, "expired" },
		{ 200, token_answer(unsigned_t, "at"), IDG_ERR_DENIED, "alg none" },
		{ 200, strdup("{\"id_token\":42}"), IDG_ERR_PROTO, "without an ID token" },
		{ 200, strdup("{\"id_token\":\"not.a.jwt\"}"), IDG_ERR_INVAL, "malformed" },
	};
	struct idg_oidc *o = make(NULL);
	char err[256];

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(t); i++) {
		struct idg_oidc_identity id = { 0 };
		int rc;

		script_reset(&tok_script);
		script_add(&tok_script, t[i].status, t[i].body);
		err[0] = '\0';
		rc = idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err));
		if (rc != t[i].rc || strstr(err, t[i].why) == NULL)
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, rc, err, t[i].rc,
			    t[i].why);
		assert_null(id.username);
		/* A reason never carries what the IdP sent beyond its error code. */
		assert_null(strstr(err, "Invalid user credentials"));
	}
	/* Bad input never reaches the IdP. */
	{
		struct idg_oidc_identity id = { 0 };
		unsigned hits = fx_hits(srv, "/token");

		assert_int_equal(idg_oidc_password(o, "", "pw", &id, err, sizeof(err)),
		    IDG_ERR_DENIED);
		assert_int_equal(idg_oidc_password(o, "alice", "", &id, err, sizeof(err)),
		    IDG_ERR_DENIED);
		assert_int_equal(fx_hits(srv, "/token"), hits);
	}
	idg_oidc_free(o);
	free(good);
	free(wrong_aud);
	free(forged);
	free(expired);
	free(unsigned_t);
}

/* ---------- where the groups come from ---------- */

static void
auth0_groups_from_the_access_token(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_AUTH0, .auth = IDG_OIDC_AUTH_POST,
		.secret = SECRET, .audience = API, .groups_claim = "https://example.com/groups",
		.source = IDG_OIDC_SRC_ACCESS_TOKEN };
	struct idg_oidc *o;
	struct idg_oidc_identity id = { 0 };
	struct fx_req seen = { 0 };
	char *it, *at, *at_other, *aud, err[256];

	(void)state;
	use_issuer("/");
	o = make(&s);
	it = jwt(key, "RS256", "\"idgate\"", ",\"email\":\"bob@example.com\","
	    "\"email_verified\":true", 300);
	aud = fx_printf("[\"%s\",\"%s/userinfo\"]", API, fx_base(srv));
	at = jwt(key, "RS256", aud, ",\"azp\":\"idgate\",\"https://example.com/groups\":"
	    "[\"readers\",\"writers\"]", 300);
	at_other = jwt(key, "RS256", "\"https://other.api\"", ",\"https://example.com/groups\":"
	    "[\"readers\"]", 300);
	script_add(&tok_script, 200, token_answer(it, at));
	assert_int_equal(idg_oidc_password(o, "bob@example.com", "pw", &id, err, sizeof(err)), 0);
	assert_string_equal(id.username, "bob@example.com");
	assert_int_equal(id.ngroups, 2);
	assert_string_equal(id.groups[1], "writers");
	idg_oidc_identity_clear(&id);
	assert_true(fx_last(srv, "/token", &seen));
	assert_true(has(seen.body, "audience=https%3A%2F%2Fapi.example.test"));
	fx_req_free(&seen);

	/* An access token for another API, or an opaque one, gives no groups: refused. */
	script_reset(&tok_script);
	script_add(&tok_script, 200, token_answer(it, at_other));
	assert_int_equal(idg_oidc_password(o, "bob@example.com", "pw", &id, err, sizeof(err)),
	    IDG_ERR_DENIED);
	assert_non_null(strstr(err, "audience"));
	script_reset(&tok_script);
	script_add(&tok_script, 200, token_answer(it, "opaque"));
	assert_int_equal(idg_oidc_password(o, "bob@example.com", "pw", &id, err, sizeof(err)),
	    IDG_ERR_PROTO);
	assert_non_null(strstr(err, "not a JWT"));
	idg_oidc_free(o);
	free(it);
	free(at);
	free(at_other);
	free(aud);
}

static void
groups_from_userinfo(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_OKTA, .auth = IDG_OIDC_AUTH_BASIC,
		.secret = SECRET, .source = IDG_OIDC_SRC_USERINFO };
	struct idg_oidc *o;
	struct idg_oidc_identity id = { 0 };
	struct fx_req seen = { 0 };
	char *it, err[256];

	(void)state;
	use_issuer("/oauth2/default");
	o = make(&s);
	it = jwt(key, "RS256", "\"idgate\"", ",\"preferred_username\":\"carol@acme.example\","
	    "\"groups\":[\"from-token\"]", 300);
	script_add(&tok_script, 200, token_answer(it, "at-123"));
	script_add(&ui_script, 200, strdup("{\"sub\":\"u-alice\",\"groups\":[\"Everyone\","
	    "\"Admins\"]}"));
	assert_int_equal(idg_oidc_password(o, "carol", "pw", &id, err, sizeof(err)), 0);
	assert_int_equal(id.ngroups, 2);
	assert_string_equal(id.groups[0], "Everyone");
	idg_oidc_identity_clear(&id);
	assert_true(fx_last(srv, "/userinfo", &seen));
	assert_string_equal(seen.auth, "Bearer at-123");
	assert_true(fx_last(srv, "/token", &seen) && has(seen.body,
	    "scope=openid%20profile%20email%20groups"));
	fx_req_free(&seen);

	/* Userinfo for another subject is refused. */
	script_reset(&ui_script);
	script_add(&ui_script, 200, strdup("{\"sub\":\"u-mallory\",\"groups\":[\"Admins\"]}"));
	assert_int_equal(idg_oidc_password(o, "carol", "pw", &id, err, sizeof(err)),
	    IDG_ERR_DENIED);
	assert_non_null(strstr(err, "another subject"));
	/* Userinfo down: the login fails (the groups were to come from it). */
	script_reset(&ui_script);
	script_add(&ui_script, 502, strdup("{}"));
	assert_int_equal(idg_oidc_password(o, "carol", "pw", &id, err, sizeof(err)),
	    IDG_ERR_UNAVAIL);
	idg_oidc_free(o);
	free(it);
}

static void
userinfo_fallback(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_KEYCLOAK, .secret = SECRET, .fallback = true };
	struct idg_oidc *o = make(&s);
	struct idg_oidc_identity id = { 0 };
	char *it = jwt(key, "RS256", "\"idgate\"", ",\"preferred_username\":\"alice\"", 300);
	unsigned hits = fx_hits(srv, "/userinfo");
	char *full = jwt(key, "RS256", "\"idgate\"", ALICE, 300), err[256];

	(void)state;
	script_add(&tok_script, 200, token_answer(it, "at"));
	script_add(&ui_script, 200, strdup("{\"sub\":\"u-alice\",\"groups\":[\"/from-ui\"]}"));
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)), 0);
	assert_int_equal(id.ngroups, 1);
	assert_string_equal(id.groups[0], "from-ui");
	idg_oidc_identity_clear(&id);
	assert_int_equal(fx_hits(srv, "/userinfo"), hits + 1);
	/* A token with everything needs no userinfo. */
	script_reset(&tok_script);
	script_add(&tok_script, 200, token_answer(full, "at"));
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)), 0);
	assert_int_equal(fx_hits(srv, "/userinfo"), hits + 1);
	idg_oidc_identity_clear(&id);
	/* The fallback failing leaves the token's claims to decide. */
	script_reset(&tok_script);
	script_add(&tok_script, 200, token_answer(it, "at"));
	script_reset(&ui_script);
	script_add(&ui_script, 500, strdup("{}"));
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)), 0);
	assert_int_equal(id.ngroups, 0);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
	free(it);
	free(full);
}

/* ---------- device ---------- */

static time_t dev_now;

static time_t
dev_clock(void *arg)
{
	(void)arg;
	return dev_now ? dev_now : time(NULL);
}

static char *
device_answer(const char *extra)
{
	return fx_printf("{\"device_code\":\"dc-secret\",\"user_code\":\"WDJB-MJHT\","
	    "\"verification_uri\":\"%s/device/verify\",\"verification_uri_complete\":"
	    "\"%s/device/verify?user_code=WDJB-MJHT\",\"expires_in\":600%s}", fx_base(srv),
	    fx_base(srv), extra ? extra : "");
}

static void
device_login(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_KEYCLOAK, .secret = NULL };
	struct idg_oidc *o = make(&s);
	struct idg_oidc_device dev = { 0 };
	struct idg_oidc_identity id = { 0 };
	struct fx_req seen = { 0 };
	char *it = jwt(key, "RS256", "\"idgate\"", ALICE, 300), err[256];

	(void)state;
	script_add(&dev_script, 200, device_answer(NULL));
	assert_int_equal(idg_oidc_device_start(o, &dev, err, sizeof(err)), 0);
	assert_string_equal(dev.user_code, "WDJB-MJHT");
	assert_non_null(strstr(dev.verification_uri, "/device/verify"));
	assert_non_null(dev.verification_uri_complete);
	assert_int_equal(dev.interval_s, 5);	/* absent: RFC 8628's default */
	assert_true(dev.expires_at > (int64_t)time(NULL) + 590);
	assert_true(fx_last(srv, "/device", &seen));
	assert_true(has(seen.body, "client_id=idgate"));	/* a public client */
	assert_true(has(seen.body, "scope=openid%20profile%20email"));
	fx_req_free(&seen);

	script_add(&tok_script, 400, strdup("{\"error\":\"authorization_pending\"}"));
	script_add(&tok_script, 400, strdup("{\"error\":\"slow_down\"}"));
	script_add(&tok_script, 400, strdup("{\"error\":\"authorization_pending\"}"));
	script_add(&tok_script, 200, token_answer(it, "at"));
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), 1);
	assert_int_equal(dev.interval_s, 5);
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), 1);
	assert_int_equal(dev.interval_s, 10);
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), 1);
	assert_int_equal(dev.interval_s, 10);
	assert_null(id.username);
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), 0);
	assert_string_equal(id.username, "alice");
	assert_true(fx_last(srv, "/token", &seen));
	assert_true(has(seen.body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3A"
	    "device_code"));
	assert_true(has(seen.body, "device_code=dc-secret"));
	fx_req_free(&seen);
	idg_oidc_identity_clear(&id);
	idg_oidc_device_clear(&dev);
	assert_null(dev.device_code);
	idg_oidc_free(o);
	free(it);
}

static void
device_refusals(void **state)
{
	struct idg_oidc *o = make(NULL);
	struct idg_oidc_device dev = { 0 };
	struct idg_oidc_identity id = { 0 };
	char err[256];
	unsigned hits;

	(void)state;
	idg_oidc_set_clock(o, dev_clock, NULL);
	dev_now = 0;
	script_add(&dev_script, 200, device_answer(",\"interval\":7"));
	assert_int_equal(idg_oidc_device_start(o, &dev, err, sizeof(err)), 0);
	assert_int_equal(dev.interval_s, 7);

	script_add(&tok_script, 400, strdup("{\"error\":\"expired_token\"}"));
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), IDG_ERR_EXPIRED);
	assert_string_equal(err, "device code expired");
	script_reset(&tok_script);
	script_add(&tok_script, 400, strdup("{\"error\":\"access_denied\"}"));
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), IDG_ERR_DENIED);
	assert_string_equal(err, "denied at the IdP");
	script_reset(&tok_script);
	script_add(&tok_script, 400, strdup("{\"error\":\"invalid_grant\"}"));
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), IDG_ERR_DENIED);
	script_reset(&tok_script);
	script_add(&tok_script, 200, token_answer(NULL, "at"));
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), IDG_ERR_PROTO);
	/* Past expires_in: expired without asking the IdP. */
	hits = fx_hits(srv, "/token");
	dev_now = (time_t)dev.expires_at;
	assert_int_equal(idg_oidc_device_poll(o, &dev, &id, err, sizeof(err)), IDG_ERR_EXPIRED);
	assert_int_equal(fx_hits(srv, "/token"), hits);
	dev_now = 0;
	idg_oidc_device_clear(&dev);

	/* Device authorization answers that are no use. */
	{
		const char *bad[] = { "{\"user_code\":\"A\",\"verification_uri\":\"https://x/\","
		    "\"expires_in\":60}", "{\"device_code\":\"d\",\"user_code\":\"A\","
		    "\"verification_uri\":\"http://x/\",\"expires_in\":60}",
		    "{\"device_code\":\"d\",\"user_code\":\"A\",\"verification_uri\":\"https://x/\"}",
		    "{\"device_code\":\"d\",\"user_code\":\"A\\nB\",\"verification_uri\":\"https://x/"
		    "\",\"expires_in\":60}", "{\"device_code\":\"d\",\"user_code\":\"A\","
		    "\"verification_uri\":\"https://x/\",\"expires_in\":60,\"interval\":-1}" };

		for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++) {
			script_reset(&dev_script);
			script_add(&dev_script, 200, strdup(bad[i]));
			if (idg_oidc_device_start(o, &dev, err, sizeof(err)) != IDG_ERR_PROTO)
				fail_msg("accepted %s", bad[i]);
			assert_null(dev.device_code);
		}
		script_reset(&dev_script);
		script_add(&dev_script, 401, strdup("{\"error\":\"invalid_client\"}"));
		assert_int_equal(idg_oidc_device_start(o, &dev, err, sizeof(err)), IDG_ERR_CONFIG);
		/* The Google spelling of verification_uri. */
		script_reset(&dev_script);
		script_add(&dev_script, 200, strdup("{\"device_code\":\"d\",\"user_code\":\"A\","
		    "\"verification_url\":\"https://x/\",\"expires_in\":60}"));
		assert_int_equal(idg_oidc_device_start(o, &dev, err, sizeof(err)), 0);
		assert_string_equal(dev.verification_uri, "https://x/");
		idg_oidc_device_clear(&dev);
	}
	idg_oidc_free(o);
}

/* ---------- token as password ---------- */

static void
token_as_password(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_GENERIC, .secret = SECRET, .audience = API };
	struct idg_oidc *o;
	struct idg_oidc_identity id = { 0 };
	char *idt, *at, *other, err[256];

	(void)state;
	o = make(&s);
	idt = jwt(key, "RS256", "\"idgate\"", ALICE, 300);
	at = jwt(key, "RS256", "\"" API "\"", ALICE, 300);
	other = jwt(key, "RS256", "\"https://other.api\"", ALICE, 300);
	assert_int_equal(idg_oidc_token(o, idt, &id, err, sizeof(err)), 0);
	assert_string_equal(id.username, "alice");
	assert_int_equal(id.ngroups, 2);
	assert_string_equal(id.groups[0], "/eng");	/* generic: no path mapping */
	idg_oidc_identity_clear(&id);
	assert_int_equal(idg_oidc_token(o, at, &id, err, sizeof(err)), 0);
	idg_oidc_identity_clear(&id);
	assert_int_equal(idg_oidc_token(o, other, &id, err, sizeof(err)), IDG_ERR_DENIED);
	/* Validating needs no network once the keys are there. */
	{
		unsigned before = fx_hits(srv, "/token") + fx_hits(srv, "/userinfo");

		for (int i = 0; i < 10; i++) {
			assert_int_equal(idg_oidc_token(o, idt, &id, err, sizeof(err)), 0);
			idg_oidc_identity_clear(&id);
		}
		assert_int_equal(fx_hits(srv, "/token") + fx_hits(srv, "/userinfo"), before);
	}
	idg_oidc_free(o);
	free(idt);
	free(at);
	free(other);
}

/* ---------- the IdP down, and discovery ---------- */

static void
idp_down_fails_fast(void **state)
{
	struct fx_server *gone = fx_start();
	struct setup_cfg s = { .profile = IDG_OIDC_KEYCLOAK, .secret = SECRET };
	struct idg_oidc_identity id = { 0 };
	struct idg_oidc_device dev = { 0 };
	struct idg_oidc *o;
	char *iss = fx_printf("%s/realms/test", fx_base(gone)), err[256];
	int64_t t0;

	(void)state;
	fx_stop(gone);
	s.issuer = iss;
	o = make(&s);
	t0 = idg_now_ms();
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)),
	    IDG_ERR_UNAVAIL);
	assert_string_equal(err, "IdP unreachable");
	assert_int_equal(idg_oidc_device_start(o, &dev, err, sizeof(err)), IDG_ERR_UNAVAIL);
	assert_true(idg_now_ms() - t0 < 2000);
	idg_oidc_free(o);
	free(iss);
}

static void
discovery_documents_that_are_refused(void **state)
{
	struct setup_cfg s = { .profile = IDG_OIDC_KEYCLOAK, .secret = SECRET };
	struct idg_oidc_identity id = { 0 };
	char *iss = fx_printf("%s/realms/evil", fx_base(srv)), *doc, err[256];
	struct idg_oidc *o;

	(void)state;
	s.issuer = iss;
	/* Another issuer's document. */
	doc = fx_printf("{\"issuer\":\"%s/realms/test\",\"token_endpoint\":\"%s/token\","
	    "\"jwks_uri\":\"%s/jwks\"}", fx_base(srv), fx_base(srv), fx_base(srv));
	fx_route_static(srv, "/realms/evil/.well-known/openid-configuration", 200, doc);
	free(doc);
	o = make(&s);
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)),
	    IDG_ERR_PROTO);
	assert_non_null(strstr(err, "another issuer"));
	idg_oidc_free(o);
	/* Its own, but with an http endpoint. */
	doc = fx_printf("{\"issuer\":\"%s\",\"token_endpoint\":\"%s/token\","
	    "\"jwks_uri\":\"http://127.0.0.1/jwks\"}", iss, fx_base(srv));
	fx_route_static(srv, "/realms/evil/.well-known/openid-configuration", 200, doc);
	free(doc);
	o = make(&s);
	assert_int_equal(idg_oidc_password(o, "alice", "pw", &id, err, sizeof(err)),
	    IDG_ERR_PROTO);
	assert_non_null(strstr(err, "jwks_uri"));
	/* Without a device endpoint. */
	doc = fx_printf("{\"issuer\":\"%s\",\"token_endpoint\":\"%s/token\","
	    "\"jwks_uri\":\"%s/jwks\"}", iss, fx_base(srv), fx_base(srv));
	fx_route_static(srv, "/realms/evil/.well-known/openid-configuration", 200, doc);
	free(doc);
	idg_oidc_free(o);
	o = make(&s);
	{
		struct idg_oidc_device dev = { 0 };

		/* NOTFOUND: the method is not offered (the daemon tells the PAM user so). */
		assert_int_equal(idg_oidc_device_start(o, &dev, err, sizeof(err)), IDG_ERR_NOTFOUND);
		assert_string_equal(err, "the identity provider does not offer device sign-in: its "
		    "discovery document has no device_authorization_endpoint");
	}
	idg_oidc_free(o);
	free(iss);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(password_with_client_secret_basic, reset),
		cmocka_unit_test_setup(password_with_client_secret_post, reset),
		cmocka_unit_test_setup(password_refusals, reset),
		cmocka_unit_test_setup(auth0_groups_from_the_access_token, reset),
		cmocka_unit_test_setup(groups_from_userinfo, reset),
		cmocka_unit_test_setup(userinfo_fallback, reset),
		cmocka_unit_test_setup(device_login, reset),
		cmocka_unit_test_setup(device_refusals, reset),
		cmocka_unit_test_setup(token_as_password, reset),
		cmocka_unit_test_setup(idp_down_fails_fast, reset),
		cmocka_unit_test_setup(discovery_documents_that_are_refused, reset),
	};

	return cmocka_run_group_tests_name("connectors/grants", tests, setup, teardown);
}
