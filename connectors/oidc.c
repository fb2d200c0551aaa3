/* The idg_oidc object: its configuration (profile defaults applied and checked once), OIDC
 * discovery, and the JWKS cache's life: loading persisted keys, fetching on a schedule and on
 * an unknown kid (rate-limited), and keeping the old keys whenever a fetch fails. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "connectors/json.h"
#include "connectors/oidc_int.h"

#define DEFAULT_ALGS "RS256,RS384,RS512,PS256,ES256,ES384,EdDSA"
#define DISCOVERY_PATH "/.well-known/openid-configuration"

static const struct idg_profile *const profiles[] = {
	[IDG_OIDC_GENERIC] = &idg_profile_generic,
	[IDG_OIDC_KEYCLOAK] = &idg_profile_keycloak,
	[IDG_OIDC_AUTH0] = &idg_profile_auth0,
	[IDG_OIDC_OKTA] = &idg_profile_okta,
};

const struct idg_profile *
idg_profile_get(enum idg_oidc_profile p)
{
	if ((unsigned)p >= sizeof(profiles) / sizeof(profiles[0]))
		return NULL;
	return profiles[p];
}

int
idg_oidc_profile_parse(const char *s, enum idg_oidc_profile *out)
{
	for (size_t i = 0; s && i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcasecmp(s, profiles[i]->name) == 0) {
			*out = profiles[i]->id;
			return 0;
		}
	return IDG_ERR_INVAL;
}

const char *
idg_oidc_profile_name(enum idg_oidc_profile p)
{
	const struct idg_profile *pr = idg_profile_get(p);

	return pr ? pr->name : "unknown";
}

static time_t
system_clock(void *arg)
{
	(void)arg;
	return time(NULL);
}

time_t
idg_oidc_now(const struct idg_oidc *o)
{
	return o->clock(o->clock_arg);
}

void
idg_oidc_set_clock(struct idg_oidc *o, time_t (*now)(void *arg), void *arg)
{
	o->clock = now ? now : system_clock;
	o->clock_arg = arg;
}

/* ---------- configuration ---------- */

static void
cfg_free(struct idg_oidc_cfg *c)
{
	free((char *)c->issuer);
	free((char *)c->client_id);
	idg_free_secret((char *)c->client_secret);
	free((char *)c->scope);
	free((char *)c->audience);
	free((char *)c->ca_file);
	idg_free_secret((char *)c->proxy);
	free((char *)c->algs);
	free((char *)c->username_claim);
	free((char *)c->groups_claim);
	free((char *)c->group_prefix_strip);
	free((char *)c->keycloak_client_roles);
}

/* *dst = a copy of src (or of def when src is NULL); both NULL leaves *dst NULL. */
static int
copy_str(const char **dst, const char *src, const char *def)
{
	const char *s = src ? src : def;

	*dst = NULL;
	if (s && (*dst = idg_strdup_max(s, 4096)) == NULL)
		return strlen(s) > 4096 ? IDG_ERR_CONFIG : IDG_ERR_NOMEM;
	return 0;
}

static bool
has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; p += strspn(p, " ")) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static bool
printable_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return s != NULL;
}

static int cfg_check(struct idg_oidc *o, char *err, size_t errlen);

/* Copy the caller's configuration with the profile's defaults, then check it. */
static int
cfg_setup(struct idg_oidc *o, const struct idg_oidc_cfg *in, char *err, size_t errlen)
{
	struct idg_oidc_cfg *c = &o->cfg;
	const struct idg_profile *p = o->prof;
	int rc = 0;

	/* The numbers and enums as given; every string is a copy made below, so that a
	 * failure half-way leaves nothing of the caller's for cfg_free. */
	*c = *in;
	c->issuer = c->client_id = c->client_secret = c->scope = c->audience = NULL;
	c->ca_file = c->proxy = c->algs = c->username_claim = c->groups_claim = NULL;
	c->group_prefix_strip = c->keycloak_client_roles = NULL;
	rc = rc ? rc : copy_str(&c->issuer, in->issuer, NULL);
	rc = rc ? rc : copy_str(&c->client_id, in->client_id, NULL);
	rc = rc ? rc : copy_str(&c->client_secret, in->client_secret, NULL);
	rc = rc ? rc : copy_str(&c->scope, in->scope, p->scope);
	rc = rc ? rc : copy_str(&c->audience, in->audience, NULL);
	rc = rc ? rc : copy_str(&c->ca_file, in->ca_file, NULL);
	rc = rc ? rc : copy_str(&c->proxy, in->proxy, NULL);
	rc = rc ? rc : copy_str(&c->algs, in->algs, DEFAULT_ALGS);
	rc = rc ? rc : copy_str(&c->username_claim, in->username_claim, p->username_claim);
	rc = rc ? rc : copy_str(&c->groups_claim, in->groups_claim, p->groups_claim);
	rc = rc ? rc : copy_str(&c->group_prefix_strip, in->group_prefix_strip, NULL);
	rc = rc ? rc : copy_str(&c->keycloak_client_roles, in->keycloak_client_roles, NULL);
	if (rc < 0) {
		snprintf(err, errlen, rc == IDG_ERR_NOMEM ? "out of memory" : "a setting is too long");
		return rc;
	}
	c->connect_timeout_ms = in->connect_timeout_ms ? in->connect_timeout_ms : 5000;
	c->timeout_ms = in->timeout_ms ? in->timeout_ms : 15000;
	c->response_max = in->response_max ? in->response_max : IDG_OIDC_RESPONSE_MAX_DEFAULT;
	c->token_max = in->token_max ? in->token_max : IDG_OIDC_TOKEN_MAX_DEFAULT;
	c->jwks_min_interval_s = in->jwks_min_interval_s ? in->jwks_min_interval_s : 60;
	c->jwks_refresh_s = in->jwks_refresh_s ? in->jwks_refresh_s : 3600;
	if (c->groups_claim && c->groups_claim[0] == '\0') {
		free((char *)c->groups_claim);	/* "" says: no groups claim */
		c->groups_claim = NULL;
	}
	if (c->group_prefix_strip && c->group_prefix_strip[0] == '\0') {
		free((char *)c->group_prefix_strip);
		c->group_prefix_strip = NULL;
	}
	return cfg_check(o, err, errlen);
}

/* What can be checked before talking to the IdP. */
static int
cfg_check(struct idg_oidc *o, char *err, size_t errlen)
{
	const struct idg_oidc_cfg *c = &o->cfg;
	const cJSON *probe;
	int rc;

	if (!idg_http_is_https(c->issuer) || strlen(c->issuer) > IDG_OIDC_CLAIM_MAX) {
		snprintf(err, errlen, "the issuer must be an https:// URL");
		return IDG_ERR_CONFIG;
	}
	if (c->client_id == NULL || c->client_id[0] == '\0' || !printable_ascii(c->client_id) ||
	    strlen(c->client_id) > IDG_OIDC_CLAIM_MAX) {
		snprintf(err, errlen, "no usable client id");
		return IDG_ERR_CONFIG;
	}
	if (!printable_ascii(c->scope) || !has_word(c->scope, "openid")) {
		snprintf(err, errlen, "the scope must include openid");
		return IDG_ERR_CONFIG;
	}
	if (c->audience && (!printable_ascii(c->audience) || c->audience[0] == '\0')) {
		snprintf(err, errlen, "the audience is not usable");
		return IDG_ERR_CONFIG;
	}
	if (c->client_auth != IDG_OIDC_AUTH_BASIC && c->client_auth != IDG_OIDC_AUTH_POST) {
		snprintf(err, errlen, "unknown client authentication method");
		return IDG_ERR_CONFIG;
	}
	if ((unsigned)c->groups_source > IDG_OIDC_SRC_USERINFO) {
		snprintf(err, errlen, "unknown groups source");
		return IDG_ERR_CONFIG;
	}
	if (c->username_claim == NULL || c->username_claim[0] == '\0') {
		snprintf(err, errlen, "no username claim");
		return IDG_ERR_CONFIG;
	}
	if (idg_json_pointer(NULL, c->username_claim, &probe) == IDG_ERR_INVAL ||
	    (c->groups_claim && idg_json_pointer(NULL, c->groups_claim, &probe) == IDG_ERR_INVAL)) {
		snprintf(err, errlen, "a claim name is a malformed JSON pointer (~ must be ~0 or ~1)");
		return IDG_ERR_CONFIG;
	}
	if ((rc = idg_alg_parse_list(c->algs, &o->alg_mask, err, errlen)) < 0)
		return rc;
	if (o->prof->check_issuer && (rc = o->prof->check_issuer(c->issuer, err, errlen)) < 0)
		return rc;
	return 0;
}

int
idg_oidc_new(const struct idg_oidc_cfg *cfg, struct idg_oidc **out)
{
	struct idg_http_cfg hc = { 0 };
	struct idg_oidc *o;
	char err[256] = "";
	int rc;

	if (cfg == NULL || out == NULL)
		return IDG_ERR_INVAL;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return IDG_ERR_NOMEM;
	o->clock = system_clock;
	if ((o->prof = idg_profile_get(cfg->profile)) == NULL) {
		snprintf(err, sizeof(err), "unknown IdP profile");
		o->prof = &idg_profile_generic;	/* so that cfg_free sees a profile */
		rc = IDG_ERR_CONFIG;
		goto out;
	}
	if ((rc = cfg_setup(o, cfg, err, sizeof(err))) < 0)
		goto out;
	hc.ca_file = o->cfg.ca_file;
	hc.proxy = o->cfg.proxy;
	hc.connect_timeout_ms = o->cfg.connect_timeout_ms;
	hc.timeout_ms = o->cfg.timeout_ms;
	hc.response_max = o->cfg.response_max;
	if ((rc = idg_http_new(&hc, &o->http)) < 0)
		snprintf(err, sizeof(err), "cannot set up the HTTP client");
out:
	if (rc < 0) {
		/* The child's log is the only place the reason can go: the API has no err. */
		log_err("connector: the [idp] configuration is not usable: %s", err);
		idg_oidc_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

void
idg_oidc_free(struct idg_oidc *o)
{
	if (o == NULL)
		return;
	cfg_free(&o->cfg);
	idg_http_free(o->http);
	free(o->token_ep);
	free(o->jwks_uri);
	free(o->device_ep);
	free(o->userinfo_ep);
	idg_jwks_clear(&o->jwks);
	free(o);
}

/* ---------- discovery ---------- */

/* An endpoint from the discovery document: absent is fine unless required; present, it
 * must be https. */
static int
endpoint(const cJSON *doc, const char *name, bool required, char **out, char *err,
    size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (!cJSON_IsString(v) || !idg_http_is_https(v->valuestring)) {
		snprintf(err, errlen, "the IdP's discovery document has no https %s", name);
		return IDG_ERR_PROTO;
	}
	return (*out = strdup(v->valuestring)) ? 0 : IDG_ERR_NOMEM;
}

int
idg_oidc_discovery_apply(struct idg_oidc *o, const cJSON *doc, char *err, size_t errlen)
{
	char *tok = NULL, *jwks = NULL, *dev = NULL, *ui = NULL;
	const char *iss;
	int rc;

	iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "issuer"));
	if (iss == NULL || strcmp(iss, o->cfg.issuer) != 0) {
		/* Byte for byte (OIDC Discovery §4.3): a document for another issuer could
		 * point at another IdP's keys. */
		snprintf(err, errlen, "the IdP's discovery document is for another issuer");
		return IDG_ERR_PROTO;
	}
	if ((rc = endpoint(doc, "token_endpoint", true, &tok, err, errlen)) < 0 ||
	    (rc = endpoint(doc, "jwks_uri", true, &jwks, err, errlen)) < 0 ||
	    (rc = endpoint(doc, "device_authorization_endpoint", false, &dev, err, errlen)) < 0 ||
	    (rc = endpoint(doc, "userinfo_endpoint", false, &ui, err, errlen)) < 0)
		goto out;
	free(o->token_ep);
	free(o->jwks_uri);
	free(o->device_ep);
	free(o->userinfo_ep);
	o->token_ep = tok;
	o->jwks_uri = jwks;
	o->device_ep = dev;
	o->userinfo_ep = ui;
	tok = jwks = dev = ui = NULL;
	o->discovered = true;
	o->discovered_at = idg_oidc_now(o);
out:
	if (rc == IDG_ERR_NOMEM)
		snprintf(err, errlen, "out of memory");
	free(tok);
	free(jwks);
	free(dev);
	free(ui);
	return rc;
}

static int
discover(struct idg_oidc *o, char *err, size_t errlen)
{
	char url[2048];
	size_t n = strlen(o->cfg.issuer);
	cJSON *doc = NULL;
	int rc;

	/* OIDC Discovery §4: the issuer without its trailing '/', then the well-known path. */
	if (n > 0 && o->cfg.issuer[n - 1] == '/')
		n--;
	if (n + sizeof(DISCOVERY_PATH) > sizeof(url)) {
		snprintf(err, errlen, "the issuer URL is too long");
		return IDG_ERR_CONFIG;
	}
	snprintf(url, sizeof(url), "%.*s%s", (int)n, o->cfg.issuer, DISCOVERY_PATH);
	if ((rc = idg_http_json(o->http, url, NULL, &doc, err, errlen)) < 0)
		return rc;
	rc = idg_oidc_discovery_apply(o, doc, err, errlen);
	cJSON_Delete(doc);
	return rc;
}

int
idg_oidc_ensure_discovery(struct idg_oidc *o, char *err, size_t errlen)
{
	return o->discovered ? 0 : discover(o, err, errlen);
}

/* ---------- the key cache ---------- */

/* Replace the keys with those of a JWKS document; a document without a usable key changes
 * nothing. */
static int
jwks_install(struct idg_oidc *o, const char *json, size_t len, char *err, size_t errlen)
{
	struct idg_jwks nj = { 0 };
	int rc;

	if ((rc = idg_jwks_parse(json, len, &o->jwks, &nj, err, errlen)) < 0)
		return rc;
	nj.gen = o->jwks.gen + (idg_jwks_same(&nj, &o->jwks) ? 0 : 1);
	idg_jwks_clear(&o->jwks);
	o->jwks = nj;
	return 0;
}

static int
jwks_fetch(struct idg_oidc *o, time_t now, char *err, size_t errlen)
{
	struct idg_http_resp resp = { 0 };
	int rc;

	o->jwks_tried = now;
	if ((rc = idg_oidc_ensure_discovery(o, err, errlen)) < 0)
		return rc;
	o->jwks_fetches++;
	if ((rc = idg_http_request(o->http, o->jwks_uri, NULL, &resp, err, errlen)) < 0)
		return rc;
	if (resp.status != 200) {
		snprintf(err, errlen, "IdP returned HTTP %ld", resp.status);
		rc = resp.status >= 500 ? IDG_ERR_UNAVAIL : IDG_ERR_PROTO;
	} else if ((rc = jwks_install(o, resp.body, resp.len, err, errlen)) == 0) {
		o->jwks_fetched = now;
	}
	idg_http_resp_clear(&resp);
	return rc;
}

/* True while a fetch tried at `tried` keeps others away (a clock set back never blocks). */
static bool
too_soon(const struct idg_oidc *o, time_t now)
{
	return o->jwks_tried != 0 && now >= o->jwks_tried &&
	    now - o->jwks_tried < (time_t)o->cfg.jwks_min_interval_s;
}

int
idg_oidc_jwks_refresh_unknown(struct idg_oidc *o, char *err, size_t errlen)
{
	time_t now = idg_oidc_now(o);

	if (too_soon(o, now))
		return IDG_ERR_NOTFOUND;
	return jwks_fetch(o, now, err, errlen);
}

int
idg_oidc_discover(struct idg_oidc *o, char *err, size_t errlen)
{
	int rc;

	if ((rc = idg_oidc_ensure_discovery(o, err, errlen)) < 0 || o->jwks.n > 0)
		return rc;
	if ((rc = idg_oidc_jwks_refresh_unknown(o, err, errlen)) == IDG_ERR_NOTFOUND) {
		snprintf(err, errlen, "no keys yet; fetching them again later");
		return IDG_ERR_UNAVAIL;
	}
	return rc;
}

int
idg_oidc_jwks_load(struct idg_oidc *o, const char *json, char *err, size_t errlen)
{
	if (json == NULL) {
		snprintf(err, errlen, "no keys given");
		return IDG_ERR_INVAL;
	}
	/* Loaded keys count as never fetched: the first tick fetches fresh ones. */
	return jwks_install(o, json, strlen(json), err, errlen);
}

int
idg_oidc_jwks_load_at(struct idg_oidc *o, const char *json, time_t fetched_at, char *err,
    size_t errlen)
{
	time_t now = idg_oidc_now(o);
	int rc;

	if ((rc = idg_oidc_jwks_load(o, json, err, errlen)) < 0)
		return rc;
	/* Keys another process fetched at fetched_at: as fresh as that fetch, and a refresh
	 * for an unknown kid waits for jwks_min_interval after it, as if this process had
	 * fetched them (a time in the future is not believed). */
	if (fetched_at > 0 && fetched_at <= now)
		o->jwks_fetched = o->jwks_tried = fetched_at;
	return 0;
}

const char *
idg_oidc_jwks_json(const struct idg_oidc *o, uint64_t *gen_out)
{
	if (gen_out)
		*gen_out = o->jwks.gen;
	return o->jwks.doc;
}

int
idg_oidc_jwks_tick(struct idg_oidc *o, time_t now, char *err, size_t errlen)
{
	char derr[256];
	int rc;

	if (o->jwks_fetched != 0 && now >= o->jwks_fetched &&
	    now - o->jwks_fetched < (time_t)o->cfg.jwks_refresh_s)
		return 0;
	if (too_soon(o, now))
		return 0;	/* a fetch failed a moment ago; the next tick tries again */
	/* The discovery document is refreshed with the keys; a failure keeps the old one. An
	 * IdP that cannot be reached is not asked a second time in the same tick: the child
	 * answers nothing else while it waits. */
	if (o->discovered && (rc = discover(o, derr, sizeof(derr))) < 0) {
		if (rc == IDG_ERR_UNAVAIL || rc == IDG_ERR_TIMEOUT) {
			o->jwks_tried = now;
			snprintf(err, errlen, "%s", derr);
			return rc;
		}
		log_notice("connector: discovery refresh failed (%s); keeping the endpoints", derr);
	}
	if ((rc = jwks_fetch(o, now, err, errlen)) < 0)
		return rc;
	return 1;
}

uint64_t
idg_oidc_jwks_fetches(const struct idg_oidc *o)
{
	return o->jwks_fetches;
}

uint64_t
idg_oidc_idp_us(const struct idg_oidc *o)
{
	return o ? idg_http_spent_us(o->http) : 0;
}

/* ---------- results ---------- */

void
idg_oidc_identity_clear(struct idg_oidc_identity *id)
{
	if (id == NULL)
		return;
	free(id->iss);
	free(id->sub);
	free(id->username);
	free(id->name);
	free(id->email);
	free(id->link);
	free(id->groups_absent);
	for (size_t i = 0; i < id->ngroups; i++)
		free(id->groups[i]);
	free(id->groups);
	memset(id, 0, sizeof(*id));
}

void
idg_oidc_device_clear(struct idg_oidc_device *dev)
{
	if (dev == NULL)
		return;
	idg_free_secret(dev->device_code);
	free(dev->user_code);
	free(dev->verification_uri);
	free(dev->verification_uri_complete);
	memset(dev, 0, sizeof(*dev));
}
