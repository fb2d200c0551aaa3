/* claims.c, json.c, b64.c, the profiles and the configuration checks in oidc.c: JSON
 * pointers (escapes, arrays, missing members, malformed pointers), each profile's mapping of
 * sample payloads shaped like its IdP's tokens to an identity, the bounds on what is kept,
 * JSON and base64url strictness, and the configurations idg_oidc_new must refuse. No network:
 * the payloads are given to the mapping directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "connectors/b64.h"
#include "connectors/json.h"
#include "connectors/oidc.h"
#include "connectors/oidc_int.h"

#define ISS "https://idp.example.test/realms/data"

/* ---------- JSON pointer ---------- */

static void
json_pointer_table(void **state)
{
	static const char doc[] = "{\"a\":{\"b\":[10,20,{\"c~d/e\":\"x\"}]},"
	    "\"https://example.com/groups\":[\"g1\"],\"a.b\":\"dot\",\"\":\"empty-key\","
	    "\"m~n\":\"tilde\",\"q\":{\"\":{\"r\":\"deep\"}}}";
	static const struct { const char *ptr; int rc; const char *str; double num; } t[] = {
		{ "/a/b/0", 0, NULL, 10 },
		{ "/a/b/1", 0, NULL, 20 },
		{ "/a/b/2/c~0d~1e", 0, "x", 0 },
		{ "/a/b/3", IDG_ERR_NOTFOUND, NULL, 0 },
		{ "/a/b/-", IDG_ERR_NOTFOUND, NULL, 0 },
		{ "/a/b/01", IDG_ERR_NOTFOUND, NULL, 0 },
		{ "/a/b/x", IDG_ERR_NOTFOUND, NULL, 0 },
		{ "/a/b/0/deeper", IDG_ERR_NOTFOUND, NULL, 0 },
		{ "/https:~1~1example.com~1groups/0", 0, "g1", 0 },
		{ "https://example.com/groups", 0, NULL, 0 },	/* plain name: the array */
		{ "a.b", 0, "dot", 0 },
		{ "/a.b", 0, "dot", 0 },
		{ "m~n", 0, "tilde", 0 },		/* plain names take ~ literally */
		{ "/m~0n", 0, "tilde", 0 },
		{ "/", 0, "empty-key", 0 },
		{ "/q//r", 0, "deep", 0 },
		{ "/A", IDG_ERR_NOTFOUND, NULL, 0 },	/* case-sensitive */
		{ "/a~2", IDG_ERR_INVAL, NULL, 0 },
		{ "/a~", IDG_ERR_INVAL, NULL, 0 },
		{ "/missing/~x", IDG_ERR_INVAL, NULL, 0 },	/* malformed whatever is there */
		{ "nothere", IDG_ERR_NOTFOUND, NULL, 0 },
	};
	cJSON *root = NULL;
	const cJSON *v;

	(void)state;
	assert_int_equal(idg_json_parse(doc, strlen(doc), &root), 0);
	for (size_t i = 0; i < IDG_ARRAY_SIZE(t); i++) {
		int rc = idg_json_pointer(root, t[i].ptr, &v);

		if (rc != t[i].rc)
			fail_msg("\"%s\": got %d, want %d", t[i].ptr, rc, t[i].rc);
		if (rc == 0 && t[i].str)
			assert_string_equal(cJSON_GetStringValue(v), t[i].str);
		if (rc == 0 && t[i].num != 0)
			assert_true(cJSON_IsNumber(v) && v->valuedouble == t[i].num);
	}
	assert_int_equal(idg_json_pointer(root, "", &v), 0);
	assert_ptr_equal(v, root);
	assert_int_equal(idg_json_pointer(root, "https://example.com/groups", &v), 0);
	assert_true(cJSON_IsArray(v));
	cJSON_Delete(root);
}

/* ---------- JSON and base64url strictness ---------- */

static void
json_parse_refuses_nul_bad_utf8_and_garbage(void **state)
{
	static const char *const bad[] = {
		"{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\u0000\"}", "{\"\\u0000\":1}",
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":1} x", "{\"a\":1}{}", "[1]", "\"s\"", "", "{", "{\"a\":\"\xe2\x82\"}",
	};
	cJSON *j = NULL;
	const char raw_nul[] = "{\"a\":\"x\0y\"}";

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad); i++)
		if (idg_json_parse(bad[i], strlen(bad[i]), &j) != IDG_ERR_PROTO)
			fail_msg("accepted %s", bad[i]);
	assert_int_equal(idg_json_parse(raw_nul, sizeof(raw_nul) - 1, &j), IDG_ERR_PROTO);
	/* An escaped backslash before "u0000" is no NUL. */
	assert_int_equal(idg_json_parse("{\"a\":\"\\\\u0000\"}", strlen("{\"a\":\"\\\\u0000\"}"),
	    &j), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "a")), "\\u0000");
	idg_json_free_wipe(j);
	{
		const char *ok = " {\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}\n";

		assert_int_equal(idg_json_parse(ok, strlen(ok), &j), 0);
	}
	idg_json_free_wipe(j);
	assert_int_equal(idg_json_parse("{\"a\":1,\"a\":2}", strlen("{\"a\":1,\"a\":2}"), &j), 0);
	assert_false(idg_json_members_unique(j));
	idg_json_free_wipe(j);
}

static void
base64url_is_strict(void **state)
{
	static const struct { const char *s; bool ok; const char *dec; } t[] = {
		{ "", true, "" }, { "YQ", true, "a" }, { "YWI", true, "ab" }, { "YWJj", true, "abc" },
		{ "-_-_", true, NULL }, { "YR", false, NULL },	/* non-zero trailing bits */
		{ "YWJ", false, NULL }, { "Y", false, NULL }, { "YQ==", false, NULL },
		{ "YW+j", false, NULL }, { "YW/j", false, NULL }, { "YW j", false, NULL },
	};

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(t); i++) {
		unsigned char *d = NULL;
		size_t n = 0;
		int rc = idg_b64url_decode(t[i].s, strlen(t[i].s), &d, &n);

		if ((rc == 0) != t[i].ok)
			fail_msg("\"%s\": got %d", t[i].s, rc);
		if (rc == 0 && t[i].dec) {
			assert_int_equal(n, strlen(t[i].dec));
			assert_memory_equal(d, t[i].dec, n);
		}
		free(d);
	}
}

/* ---------- profiles ---------- */

static struct idg_oidc *
make(enum idg_oidc_profile p, const char *issuer, void (*tweak)(struct idg_oidc_cfg *))
{
	struct idg_oidc_cfg c = { 0 };
	struct idg_oidc *o = NULL;

	c.profile = p;
	c.issuer = issuer;
	c.client_id = "idgate";
	if (tweak)
		tweak(&c);
	assert_int_equal(idg_oidc_new(&c, &o), 0);
	return o;
}

/* The identity for a payload (its iss is filled in from the object). */
static int
map(struct idg_oidc *o, const char *payload, struct idg_oidc_identity *id, char *err)
{
	cJSON *j = NULL;
	int rc;

	assert_int_equal(idg_json_parse(payload, strlen(payload), &j), 0);
	cJSON_AddStringToObject(j, "iss", o->cfg.issuer);
	rc = idg_claims_identity(o, j, 1234, j, NULL, id, err, 256);
	cJSON_Delete(j);
	return rc;
}

static void
expect_groups(const struct idg_oidc_identity *id, const char *const *want, size_t n)
{
	if (id->ngroups != n)
		fail_msg("%zu groups, want %zu", id->ngroups, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(id->groups[i], want[i]);
}

#define KC_TOKEN "{\"sub\":\"f3a1\",\"preferred_username\":\"alice\",\"name\":\"Alice A\"," \
	"\"email\":\"alice@example.com\",\"groups\":[\"/eng/data\",\"/ops\",\"plain\",42,null," \
	"\"/\",\"/eng/data\",{\"x\":1}],\"realm_access\":{\"roles\":[\"admin\"," \
	"\"offline_access\"]},\"resource_access\":{\"idgate\":{\"roles\":[\"repo-writer\"]}," \
	"\"other\":{\"roles\":[\"nope\"]}}}"

static void kc_basename(struct idg_oidc_cfg *c) { c->keycloak_paths_basename = true; }
static void
kc_roles(struct idg_oidc_cfg *c)
{
	c->keycloak_realm_roles = true;
	c->keycloak_client_roles = "idgate";
}

static void
keycloak_mapping(void **state)
{
	static const char *const paths[] = { "eng/data", "ops", "plain" };
	static const char *const base[] = { "data", "ops", "plain" };
	static const char *const roles[] = { "eng/data", "ops", "plain", "admin",
		"offline_access", "repo-writer" };
	struct idg_oidc_identity id = { 0 };
	struct idg_oidc *o = make(IDG_OIDC_KEYCLOAK, ISS, NULL);
	char err[256];

	(void)state;
	assert_int_equal(map(o, KC_TOKEN, &id, err), 0);
	assert_string_equal(id.iss, ISS);
	assert_string_equal(id.sub, "f3a1");
	assert_string_equal(id.username, "alice");
	assert_string_equal(id.name, "Alice A");
	assert_string_equal(id.email, "alice@example.com");
	assert_int_equal(id.exp, 1234);
	expect_groups(&id, paths, 3);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);

	o = make(IDG_OIDC_KEYCLOAK, ISS, kc_basename);
	assert_int_equal(map(o, KC_TOKEN, &id, err), 0);
	expect_groups(&id, base, 3);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);

	o = make(IDG_OIDC_KEYCLOAK, ISS, kc_roles);
	assert_int_equal(map(o, KC_TOKEN, &id, err), 0);
	expect_groups(&id, roles, 6);
	idg_oidc_identity_clear(&id);
	/* Roles alone, when the groups mapper is off. */
	assert_int_equal(map(o, "{\"sub\":\"s\",\"preferred_username\":\"bob\","
	    "\"realm_access\":{\"roles\":[\"r1\"]}}", &id, err), 0);
	assert_int_equal(id.ngroups, 1);
	assert_string_equal(id.groups[0], "r1");
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
}

#define A0_TOKEN "{\"sub\":\"auth0|64b\",\"nickname\":\"bob\",\"name\":\"bob@example.com\"," \
	"\"email\":\"bob@example.com\",\"email_verified\":true," \
	"\"https://example.com/groups\":[\"data-readers\",\"data-writers\"]," \
	"\"https://example.com/roles\":[\"x\"]}"

static void a0_plain(struct idg_oidc_cfg *c) { c->groups_claim = "https://example.com/groups"; }
static void a0_ptr(struct idg_oidc_cfg *c) { c->groups_claim = "/https:~1~1example.com~1groups"; }
static void a0_nick(struct idg_oidc_cfg *c) { c->username_claim = "nickname"; }

static void
auth0_mapping(void **state)
{
	static const char *const g[] = { "data-readers", "data-writers" };
	struct idg_oidc_identity id = { 0 };
	struct idg_oidc *o = make(IDG_OIDC_AUTH0, "https://tenant.eu.auth0.com/", NULL);
	char err[256];

	(void)state;
	/* No groups claim by default: Auth0 has none unless an Action adds one. */
	assert_int_equal(map(o, A0_TOKEN, &id, err), 0);
	assert_string_equal(id.username, "bob@example.com");
	assert_int_equal(id.ngroups, 0);
	assert_null(id.groups_absent);	/* none asked for: nothing to miss */
	idg_oidc_identity_clear(&id);
	/* An e-mail the IdP has not verified is no username. */
	assert_int_equal(map(o, "{\"sub\":\"s\",\"email\":\"eve@example.com\","
	    "\"email_verified\":false}", &id, err), IDG_ERR_DENIED);
	assert_non_null(strstr(err, "verified"));
	idg_oidc_free(o);

	o = make(IDG_OIDC_AUTH0, "https://tenant.eu.auth0.com/", a0_plain);
	assert_int_equal(map(o, A0_TOKEN, &id, err), 0);
	expect_groups(&id, g, 2);
	assert_null(id.groups_absent);
	idg_oidc_identity_clear(&id);
	/* The configured groups claim missing: said, so that the parent can tell the
	 * administrator; present but empty is no absence. */
	assert_int_equal(map(o, "{\"sub\":\"s\",\"email\":\"bob@example.com\"}", &id, err), 0);
	assert_int_equal(id.ngroups, 0);
	assert_string_equal(id.groups_absent, "https://example.com/groups");
	idg_oidc_identity_clear(&id);
	assert_int_equal(map(o, "{\"sub\":\"s\",\"email\":\"bob@example.com\","
	    "\"https://example.com/groups\":[]}", &id, err), 0);
	assert_null(id.groups_absent);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
	o = make(IDG_OIDC_AUTH0, "https://tenant.eu.auth0.com/", a0_ptr);
	assert_int_equal(map(o, A0_TOKEN, &id, err), 0);
	expect_groups(&id, g, 2);
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
	o = make(IDG_OIDC_AUTH0, "https://tenant.eu.auth0.com/", a0_nick);
	assert_int_equal(map(o, A0_TOKEN, &id, err), 0);
	assert_string_equal(id.username, "bob");
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
}

static void okta_strip(struct idg_oidc_cfg *c) { c->group_prefix_strip = "idgate-"; }

static void
okta_mapping(void **state)
{
	static const char *const g[] = { "Everyone", "admins", "readers" };
	struct idg_oidc_identity id = { 0 };
	struct idg_oidc *o = make(IDG_OIDC_OKTA, "https://acme.okta.com/oauth2/default",
	    okta_strip);
	char err[256];

	(void)state;
	assert_string_equal(o->cfg.scope, "openid profile email groups");
	assert_int_equal(map(o, "{\"sub\":\"00u1\",\"preferred_username\":\"carol@acme.example\","
	    "\"groups\":[\"Everyone\",\"idgate-admins\",\"idgate-readers\",\"idgate-\"]}", &id,
	    err), 0);
	assert_string_equal(id.username, "carol@acme.example");
	expect_groups(&id, g, 3);	/* "idgate-" stripped to nothing: left out */
	idg_oidc_identity_clear(&id);
	/* An access token: the login in sub, the user's id (the ID token's sub) in uid. */
	assert_int_equal(map(o, "{\"sub\":\"carol@acme.example\",\"uid\":\"00u1\","
	    "\"cid\":\"idgate\",\"preferred_username\":\"carol@acme.example\"}", &id, err), 0);
	assert_string_equal(id.sub, "00u1");
	idg_oidc_identity_clear(&id);
	idg_oidc_free(o);
}

static void
gen_custom(struct idg_oidc_cfg *c)
{
	c->username_claim = "/account/login";
	c->groups_claim = "/account/teams";
}

static void
generic_mapping(void **state)
{
	static const char *const g[] = { "t1", "t2" };
	struct idg_oidc_identity id = { 0 };
	struct idg_oidc *o = make(IDG_OIDC_GENERIC, "https://sso.example.test", gen_custom);
	char err[256];

	(void)state;
	assert_int_equal(map(o, "{\"sub\":\"1\",\"account\":{\"login\":\"dave\","
	    "\"teams\":[\"t1\",\"t2\",\"t1\"]}}", &id, err), 0);
	assert_string_equal(id.username, "dave");
	expect_groups(&id, g, 2);	/* duplicates dropped */
	assert_null(id.name);
	idg_oidc_identity_clear(&id);
	/* A single string is one group. */
	assert_int_equal(map(o, "{\"sub\":\"1\",\"account\":{\"login\":\"dave\","
	    "\"teams\":\"solo\"}}", &id, err), 0);
	assert_int_equal(id.ngroups, 1);
	idg_oidc_identity_clear(&id);
	/* Missing, or unusable, username and sub. */
	assert_int_equal(map(o, "{\"sub\":\"1\"}", &id, err), IDG_ERR_DENIED);
	assert_non_null(strstr(err, "no username claim"));
	assert_int_equal(map(o, "{\"sub\":\"1\",\"account\":{\"login\":7}}", &id, err),
	    IDG_ERR_DENIED);
	assert_int_equal(map(o, "{\"sub\":\"1\",\"account\":{\"login\":\"\"}}", &id, err),
	    IDG_ERR_DENIED);
	assert_int_equal(map(o, "{\"account\":{\"login\":\"dave\"}}", &id, err), IDG_ERR_DENIED);
	assert_non_null(strstr(err, "sub"));
	assert_int_equal(map(o, "{\"sub\":5,\"account\":{\"login\":\"dave\"}}", &id, err),
	    IDG_ERR_DENIED);
	assert_null(id.username);
	idg_oidc_free(o);
}

/* Userinfo as the fallback for what the token lacks. */
static void
fallback_fills_missing_claims(void **state)
{
	struct idg_oidc *o = make(IDG_OIDC_KEYCLOAK, ISS, NULL);
	struct idg_oidc_identity id = { 0 };
	cJSON *tok = cJSON_Parse("{\"iss\":\"" ISS "\",\"sub\":\"s1\"}");
	cJSON *ui = cJSON_Parse("{\"sub\":\"s1\",\"preferred_username\":\"erin\","
	    "\"groups\":[\"/g\"],\"email\":\"erin@example.com\"}");
	char err[256];

	(void)state;
	assert_true(idg_claims_incomplete(o, tok));
	assert_false(idg_claims_incomplete(o, ui));
	assert_int_equal(idg_claims_identity(o, tok, 99, tok, ui, &id, err, sizeof(err)), 0);
	assert_string_equal(id.username, "erin");
	assert_string_equal(id.email, "erin@example.com");
	assert_int_equal(id.ngroups, 1);
	assert_string_equal(id.groups[0], "g");
	assert_string_equal(id.sub, "s1");
	idg_oidc_identity_clear(&id);
	cJSON_Delete(tok);
	cJSON_Delete(ui);
	idg_oidc_free(o);
}

static void
bounds_on_what_is_kept(void **state)
{
	struct idg_oidc *o = make(IDG_OIDC_GENERIC, "https://sso.example.test", NULL);
	struct idg_oidc_identity id = { 0 };
	cJSON *j = cJSON_CreateObject(), *arr;
	char err[256], big[IDG_OIDC_CLAIM_MAX + 2];

	(void)state;
	cJSON_AddStringToObject(j, "iss", "https://sso.example.test");
	cJSON_AddStringToObject(j, "sub", "s");
	cJSON_AddStringToObject(j, "preferred_username", "frank");
	arr = cJSON_AddArrayToObject(j, "groups");
	memset(big, 'g', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cJSON_AddItemToArray(arr, cJSON_CreateString(big));		/* 1025 bytes */
	big[IDG_OIDC_CLAIM_MAX] = '\0';
	cJSON_AddItemToArray(arr, cJSON_CreateString(big));		/* 1024: kept */
	cJSON_AddItemToArray(arr, cJSON_CreateString("bad\xff"));	/* not UTF-8 */
	cJSON_AddItemToArray(arr, cJSON_CreateString(""));
	for (int i = 0; i < 2000; i++) {
		char name[16];

		snprintf(name, sizeof(name), "g%d", i);
		cJSON_AddItemToArray(arr, cJSON_CreateString(name));
	}
	assert_int_equal(idg_claims_identity(o, j, 1, j, NULL, &id, err, sizeof(err)), 0);
	assert_int_equal(id.ngroups, IDG_OIDC_GROUPS_MAX);
	assert_int_equal(strlen(id.groups[0]), IDG_OIDC_CLAIM_MAX);
	assert_string_equal(id.groups[1], "g0");
	assert_string_equal(id.groups[IDG_OIDC_GROUPS_MAX - 1], "g1022");
	idg_oidc_identity_clear(&id);
	/* A username past the bound, or not UTF-8, is refused. */
	big[IDG_OIDC_CLAIM_MAX] = 'g';
	cJSON_ReplaceItemInObject(j, "preferred_username", cJSON_CreateString(big));
	assert_int_equal(idg_claims_identity(o, j, 1, j, NULL, &id, err, sizeof(err)),
	    IDG_ERR_DENIED);
	cJSON_ReplaceItemInObject(j, "preferred_username", cJSON_CreateString("fr\xc3"));
	assert_int_equal(idg_claims_identity(o, j, 1, j, NULL, &id, err, sizeof(err)),
	    IDG_ERR_DENIED);
	assert_null(id.username);
	cJSON_Delete(j);
	idg_oidc_free(o);
}

/* ---------- configuration ---------- */

static void
configurations_that_cannot_work_are_refused(void **state)
{
	static const struct { enum idg_oidc_profile p; const char *iss, *scope, *algs, *uc, *gc;
		int rc; } t[] = {
		{ IDG_OIDC_KEYCLOAK, "https://kc.example/realms/data", NULL, NULL, NULL, NULL, 0 },
		{ IDG_OIDC_KEYCLOAK, "https://kc.example/auth/realms/data", NULL, NULL, NULL, NULL,
		    0 },
		{ IDG_OIDC_KEYCLOAK, "https://kc.example/realms/data/", NULL, NULL, NULL, NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_KEYCLOAK, "https://kc.example/", NULL, NULL, NULL, NULL, IDG_ERR_CONFIG },
		{ IDG_OIDC_AUTH0, "https://t.auth0.com/", NULL, NULL, NULL, NULL, 0 },
		{ IDG_OIDC_AUTH0, "https://t.auth0.com", NULL, NULL, NULL, NULL, IDG_ERR_CONFIG },
		{ IDG_OIDC_AUTH0, "https://t.auth0.com/x/", NULL, NULL, NULL, NULL, IDG_ERR_CONFIG },
		{ IDG_OIDC_OKTA, "https://acme.okta.com", NULL, NULL, NULL, NULL, 0 },
		{ IDG_OIDC_OKTA, "https://acme.okta.com/oauth2/default", NULL, NULL, NULL, NULL, 0 },
		{ IDG_OIDC_OKTA, "https://acme.okta.com/oauth2/default/", NULL, NULL, NULL, NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_OKTA, "https://acme.okta.com/other", NULL, NULL, NULL, NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "http://sso.example", NULL, NULL, NULL, NULL, IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://", NULL, NULL, NULL, NULL, IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://sso.example", "profile email", NULL, NULL, NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://sso.example", "openidx", NULL, NULL, NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://sso.example", "email openid", NULL, NULL, NULL, 0 },
		{ IDG_OIDC_GENERIC, "https://sso.example", NULL, "RS256,XX999", NULL, NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://sso.example", NULL, "HS256,none", NULL, NULL,
		    IDG_ERR_CONFIG },	/* nothing left */
		{ IDG_OIDC_GENERIC, "https://sso.example", NULL, " es256 , EdDSA ", NULL, NULL, 0 },
		{ IDG_OIDC_GENERIC, "https://sso.example", NULL, NULL, "/a~2", NULL,
		    IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://sso.example", NULL, NULL, NULL, "/x/~", IDG_ERR_CONFIG },
		{ IDG_OIDC_GENERIC, "https://sso.example", NULL, NULL, "", NULL, IDG_ERR_CONFIG },
		{ (enum idg_oidc_profile)9, "https://sso.example", NULL, NULL, NULL, NULL,
		    IDG_ERR_CONFIG },
	};

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(t); i++) {
		struct idg_oidc_cfg c = { 0 };
		struct idg_oidc *o = NULL;
		int rc;

		c.profile = t[i].p;
		c.issuer = t[i].iss;
		c.client_id = "idgate";
		c.scope = t[i].scope;
		c.algs = t[i].algs;
		c.username_claim = t[i].uc;
		c.groups_claim = t[i].gc;
		rc = idg_oidc_new(&c, &o);
		if (rc != t[i].rc)
			fail_msg("case %zu (%s): got %d, want %d", i, t[i].iss, rc, t[i].rc);
		if (rc < 0)
			assert_null(o);
		idg_oidc_free(o);
	}
}

static void
profile_names(void **state)
{
	enum idg_oidc_profile p = IDG_OIDC_GENERIC;

	(void)state;
	assert_int_equal(idg_oidc_profile_parse("Keycloak", &p), 0);
	assert_int_equal(p, IDG_OIDC_KEYCLOAK);
	assert_int_equal(idg_oidc_profile_parse("auth0", &p), 0);
	assert_int_equal(p, IDG_OIDC_AUTH0);
	assert_int_equal(idg_oidc_profile_parse("okta", &p), 0);
	assert_int_equal(idg_oidc_profile_parse("generic", &p), 0);
	assert_int_equal(p, IDG_OIDC_GENERIC);
	assert_int_equal(idg_oidc_profile_parse("google", &p), IDG_ERR_INVAL);
	assert_string_equal(idg_oidc_profile_name(IDG_OIDC_OKTA), "okta");
	assert_string_equal(idg_oidc_profile_name((enum idg_oidc_profile)42), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_pointer_table),
		cmocka_unit_test(json_parse_refuses_nul_bad_utf8_and_garbage),
		cmocka_unit_test(base64url_is_strict),
		cmocka_unit_test(keycloak_mapping),
		cmocka_unit_test(auth0_mapping),
		cmocka_unit_test(okta_mapping),
		cmocka_unit_test(generic_mapping),
		cmocka_unit_test(fallback_fills_missing_claims),
		cmocka_unit_test(bounds_on_what_is_kept),
		cmocka_unit_test(configurations_that_cannot_work_are_refused),
		cmocka_unit_test(profile_names),
	};

	return cmocka_run_group_tests_name("connectors/claims", tests, NULL, NULL);
}
