/* The OIDC connector core: discovery, the JWKS cache, JWT validation, the password, device and
 * token-as-password logins, and the profiles that say where an IdP keeps names and groups.
 * Used only inside idgated's unprivileged connector child (src/daemon/conn_child.c); the root
 * parent never links this code's parsers into its own request path. Not thread-safe: one
 * idg_oidc per process, used from one thread. See connectors/README.md. */
#ifndef IDG_CONNECTORS_OIDC_H
#define IDG_CONNECTORS_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Bounds (every size is bounded). */
#define IDG_OIDC_TOKEN_MAX_DEFAULT 16384	/* bytes of a JWT presented as a password */
#define IDG_OIDC_RESPONSE_MAX_DEFAULT (1024 * 1024)	/* bytes of one IdP response */
#define IDG_OIDC_GROUPS_MAX 1024		/* groups taken from one identity */
#define IDG_OIDC_CLAIM_MAX 1024			/* bytes of one string claim kept */
#define IDG_OIDC_KEYS_MAX 64			/* keys kept from one JWKS */

enum idg_oidc_profile {
	IDG_OIDC_GENERIC = 0,
	IDG_OIDC_KEYCLOAK,
	IDG_OIDC_AUTH0,
	IDG_OIDC_OKTA,
};

enum idg_oidc_client_auth {
	IDG_OIDC_AUTH_BASIC = 0,	/* client_secret_basic */
	IDG_OIDC_AUTH_POST,		/* client_secret_post */
};

/* Where the groups (and the username) are read from. */
enum idg_oidc_source {
	IDG_OIDC_SRC_ID_TOKEN = 0,
	IDG_OIDC_SRC_ACCESS_TOKEN,
	IDG_OIDC_SRC_USERINFO,
};

/* The configuration, as idgated's [idp] section gives it. Strings are copied by idg_oidc_new;
 * NULL or 0 means the profile's default (see idg_oidc_profile_defaults). */
struct idg_oidc_cfg {
	enum idg_oidc_profile profile;
	const char *issuer;		/* exact; discovery must return the same string */
	const char *client_id;
	const char *client_secret;	/* never logged, wiped on free */
	enum idg_oidc_client_auth client_auth;
	const char *scope;		/* default "openid profile email" (+ " groups" for okta) */
	const char *audience;		/* auth0: the API audience asked for access tokens */
	const char *ca_file;		/* PEM bundle for a private CA; when set, only these CAs
					 * are trusted (the system's are not); NULL: the system's */
	const char *proxy;		/* an HTTP(S) proxy URL; NULL: no proxy at all, and the
					 * http(s)_proxy environment variables are ignored */
	unsigned connect_timeout_ms;	/* default 5000 */
	unsigned timeout_ms;		/* whole request, default 15000 */
	size_t response_max;		/* default IDG_OIDC_RESPONSE_MAX_DEFAULT */
	size_t token_max;		/* default IDG_OIDC_TOKEN_MAX_DEFAULT */
	unsigned leeway_s;		/* exp/nbf/iat leeway, taken as given: 0 is none (the
					 * daemon's configured default is 300) */
	unsigned jwks_min_interval_s;	/* unknown-kid refreshes at most this often, default 60 */
	unsigned jwks_refresh_s;	/* scheduled refresh, default 3600 */
	const char *algs;		/* allow-list, comma-separated; default RS256,RS384,RS512,
					 * PS256,ES256,ES384,EdDSA; also known: PS384, PS512,
					 * ES512. none and HS* are always refused: listed, they
					 * are dropped with a warning; any other name is a
					 * configuration error */
	/* Mapping (generic: all of it; the profiles set their own defaults). */
	const char *username_claim;	/* JSON pointer or plain claim name */
	const char *groups_claim;	/* JSON pointer, so "/https:~1~1example.com~1groups" works;
					 * a plain name without a leading '/' is one top-level key;
					 * "" means no groups claim at all */
	enum idg_oidc_source groups_source;
	const char *group_prefix_strip;	/* removed from the front of each group name */
	bool keycloak_paths_basename;	/* keycloak: "/a/b" -> "b" (default: "a/b", the path
					 * without its leading '/'; the parent's idmap then turns
					 * each '/' into '.') */
	bool keycloak_realm_roles;	/* keycloak: realm_access.roles become groups too */
	const char *keycloak_client_roles;	/* keycloak: resource_access.<this>.roles too */
	bool userinfo_fallback;		/* claims missing from the token are asked of userinfo
					 * (for a token presented as a password, with that token
					 * as the bearer, only once it has validated) */
};

/* What a successful login yields: the raw, validated IdP facts. The parent process maps them
 * to principals and a POSIX name (src/idmap/) and re-checks every string itself. Every string
 * here is valid UTF-8 without NUL bytes and at most IDG_OIDC_CLAIM_MAX bytes; groups are
 * de-duplicated, at most IDG_OIDC_GROUPS_MAX. */
struct idg_oidc_identity {
	char *iss;
	char *sub;
	char *username;		/* the username claim's value, as the IdP sent it */
	char *name;		/* the "name" claim, or NULL */
	char *email;		/* or NULL */
	char *link;		/* SAML only: the link attribute's value (idg_saml_cfg link_attr),
				 * or NULL */
	char **groups;		/* after profile mapping and prefix stripping */
	size_t ngroups;
	int64_t exp;		/* the validated token's exp */
	char *groups_absent;	/* the groups claim's name when neither the token nor
				 * userinfo had it (the user then has no IdP groups), or NULL */
};

void idg_oidc_identity_clear(struct idg_oidc_identity *id);

/* A started device authorization (RFC 8628). */
struct idg_oidc_device {
	char *device_code;		/* secret: kept in the child, never logged */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete;	/* or NULL */
	unsigned interval_s;		/* the poll interval, raised by slow_down */
	int64_t expires_at;		/* absolute, time(NULL) based */
};

void idg_oidc_device_clear(struct idg_oidc_device *dev);

struct idg_oidc;

/* Copies cfg. Does no network I/O: discovery happens on first use (and is retried then).
 * IDG_ERR_CONFIG for a configuration that cannot work (no https issuer, an unknown algorithm,
 * a scope without openid, an issuer that does not have the profile's form). */
int idg_oidc_new(const struct idg_oidc_cfg *cfg, struct idg_oidc **out);
void idg_oidc_free(struct idg_oidc *o);

/* Tests only: the wall clock used for exp/nbf/iat and the key refresh schedule. */
void idg_oidc_set_clock(struct idg_oidc *o, time_t (*now)(void *arg), void *arg);

/* Fetch the discovery document (if not yet fetched) and the JWKS (if none cached). */
int idg_oidc_discover(struct idg_oidc *o, char *err, size_t errlen);

/* The JWKS cache. load: keys persisted earlier (the JWKS document's JSON), used until the IdP
 * gives newer ones. json: the current document, or NULL; *gen_out counts replacements so the
 * caller knows when to persist again. */
int idg_oidc_jwks_load(struct idg_oidc *o, const char *json, char *err, size_t errlen);
/* The same for keys another process fetched at fetched_at (unix time; 0: unknown): they count
 * as fetched then, for the scheduled refresh and for jwks_min_interval. */
int idg_oidc_jwks_load_at(struct idg_oidc *o, const char *json, time_t fetched_at, char *err,
    size_t errlen);
const char *idg_oidc_jwks_json(const struct idg_oidc *o, uint64_t *gen_out);
/* Scheduled refresh (discovery and keys) when due (call periodically): 0 when nothing was
 * due, 1 after a refresh, negative when the refresh failed (the cached keys stay). */
int idg_oidc_jwks_tick(struct idg_oidc *o, time_t now, char *err, size_t errlen);
/* How many JWKS fetches were tried (for tests and statistics). */
uint64_t idg_oidc_jwks_fetches(const struct idg_oidc *o);
/* Wall time spent waiting on the IdP's HTTP answers so far, in microseconds (statistics:
 * what a login's audit record reports as idp_ms). */
uint64_t idg_oidc_idp_us(const struct idg_oidc *o);

/* Logins. Each returns 0 with *id_out filled, or a negative IDG_ERR_* with a short reason in
 * err (never a secret; *id_out untouched): IDG_ERR_DENIED for a refused credential (wrong
 * password, a token that does not validate, an MFA demand, a denial at the IdP),
 * IDG_ERR_EXPIRED (an expired token or device code), IDG_ERR_INVAL (a token that is not a
 * JWS at all), IDG_ERR_TOOBIG (a token over token_max), IDG_ERR_UNAVAIL ("IdP unreachable",
 * HTTP 5xx), IDG_ERR_TIMEOUT, IDG_ERR_PROTO (a malformed IdP answer), IDG_ERR_CONFIG (the IdP
 * refuses idgate's client, or lacks the endpoint). */
int idg_oidc_password(struct idg_oidc *o, const char *user, const char *password,
    struct idg_oidc_identity *id_out, char *err, size_t errlen);
int idg_oidc_token(struct idg_oidc *o, const char *token, struct idg_oidc_identity *id_out,
    char *err, size_t errlen);
int idg_oidc_device_start(struct idg_oidc *o, struct idg_oidc_device *dev_out, char *err,
    size_t errlen);
/* One poll, one request (none once dev->expires_at has passed): 1 while the user has not
 * decided yet (slow_down also raises dev->interval_s by 5); 0 with *id_out on success;
 * negative on denial, expiry or failure. */
int idg_oidc_device_poll(struct idg_oidc *o, struct idg_oidc_device *dev,
    struct idg_oidc_identity *id_out, char *err, size_t errlen);

/* Parsing helpers shared with the config code. */
int idg_oidc_profile_parse(const char *s, enum idg_oidc_profile *out);
const char *idg_oidc_profile_name(enum idg_oidc_profile p);

#endif
