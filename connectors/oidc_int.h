/* Inside the OIDC connector: the idg_oidc object and what its files (oidc.c, jwks.c, jwt.c,
 * grants.c, claims.c, profile_*.c) give each other. Not for use outside connectors/ except
 * by its unit tests. */
#ifndef IDG_CONNECTORS_OIDC_INT_H
#define IDG_CONNECTORS_OIDC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "connectors/http.h"
#include "connectors/oidc.h"

#define IDG_OIDC_KID_MAX 256		/* bytes of a key id */
#define IDG_OIDC_ERRCODE_MAX 64		/* bytes of an OAuth error code quoted in a reason */

/* ---------- algorithms and keys (jwks.c) ---------- */

enum idg_kty { IDG_KTY_RSA = 1, IDG_KTY_EC, IDG_KTY_OKP };
enum idg_crv { IDG_CRV_NONE = 0, IDG_CRV_P256, IDG_CRV_P384, IDG_CRV_P521, IDG_CRV_ED25519,
	IDG_CRV_ED448 };

#define IDG_ALG_COUNT 10

/* A JWS algorithm idgate can accept (RFC 7518 §3), and the only kind of key that may verify
 * it. */
struct idg_alg {
	const char *name;
	enum idg_kty kty;
	enum idg_crv crv;	/* EC: its curve; OKP: IDG_CRV_NONE (either Edwards curve) */
	unsigned bit;		/* in the allow-list mask; 1 << its index in the table */
	const char *md;		/* the digest; NULL for EdDSA, which signs the message itself */
	int padding;		/* RSA: RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
};

/* One usable verification key, parsed once when its JWKS arrived: the public key, and for
 * each algorithm it may verify a verification context and digest made ready then, so that
 * a token costs one digest and one EVP_PKEY_verify. */
struct idg_key {
	char *kid;		/* or NULL */
	char *alg;		/* the JWK's own "alg", or NULL */
	enum idg_kty kty;
	enum idg_crv crv;
	size_t siglen;		/* the exact signature length this key produces */
	char *json;		/* the key's canonical JSON: the same key across refreshes */
	EVP_PKEY *pk;
	EVP_PKEY_CTX *vctx[IDG_ALG_COUNT];	/* RSA and EC, by algorithm index */
	EVP_MD *md[IDG_ALG_COUNT];
};

struct idg_jwks {
	struct idg_key *keys;
	size_t n;
	char *doc;		/* {"keys":[...]} of the usable keys: what is persisted */
	uint64_t gen;		/* bumped whenever the set of keys changes */
};

const struct idg_alg *idg_alg_by_name(const char *name);
unsigned idg_alg_index(const struct idg_alg *a);
/* The allow-list as a mask; IDG_ERR_CONFIG (with a reason) for a name that is no JWS alg. */
int idg_alg_parse_list(const char *list, unsigned *mask_out, char *err, size_t errlen);
bool idg_key_fits(const struct idg_key *k, const struct idg_alg *a);

/* Parse a JWKS document into *out, sharing (by reference count) with old, which may be NULL
 * and is not changed, the public keys of keys that did not change: a key is parsed once per
 * kid, not once per refresh. IDG_ERR_PROTO when the document has no usable key. */
int idg_jwks_parse(const char *json, size_t len, const struct idg_jwks *old,
    struct idg_jwks *out, char *err, size_t errlen);
void idg_jwks_clear(struct idg_jwks *j);
/* True when both hold the same keys in the same order. */
bool idg_jwks_same(const struct idg_jwks *a, const struct idg_jwks *b);
/* The key for a token: by kid when given, else the only key fitting alg. NULL when there is
 * none; *fits_out tells whether a key with that kid exists but cannot verify alg. */
const struct idg_key *idg_jwks_find(const struct idg_jwks *j, const char *kid,
    const struct idg_alg *alg, bool *mismatch_out);

/* ---------- groups (claims.c) ---------- */

struct idg_groups {
	char **v;
	size_t n, cap;
	size_t skipped;		/* entries left out: not strings, invalid, over the bounds */
};

/* Add one group after the configured prefix is stripped: skipped (counted, not an error)
 * when empty, too long, not UTF-8, or past IDG_OIDC_GROUPS_MAX; duplicates dropped. */
int idg_groups_add(struct idg_groups *g, const char *prefix, const char *s);
void idg_groups_clear(struct idg_groups *g);

/* ---------- profiles (profile_*.c) ---------- */

struct idg_profile {
	enum idg_oidc_profile id;
	const char *name;
	const char *scope;		/* the default scope */
	const char *username_claim;	/* the default username claim */
	const char *groups_claim;	/* the default groups claim; NULL: none */
	const char *subject_claim;	/* when present, the subject instead of sub (Okta access
					 * tokens: sub is the login, uid the user's id); or NULL */
	bool send_audience;		/* token and device requests carry "audience" */
	/* 0, or IDG_ERR_CONFIG with a reason when the issuer lacks the IdP's form. */
	int (*check_issuer)(const char *issuer, char *err, size_t errlen);
	/* One group entry as the IdP sent it -> the group name (into out); false: skip it. */
	bool (*map_group)(const struct idg_oidc_cfg *cfg, const char *in, char *out,
	    size_t outlen);
	/* Groups found elsewhere in the claims (Keycloak's roles); may be NULL. Returns how
	 * many entries it found (0 when none), or IDG_ERR_NOMEM. */
	int (*extra_groups)(const struct idg_oidc_cfg *cfg, const cJSON *claims,
	    struct idg_groups *g);
};

extern const struct idg_profile idg_profile_generic;
extern const struct idg_profile idg_profile_keycloak;
extern const struct idg_profile idg_profile_auth0;
extern const struct idg_profile idg_profile_okta;

const struct idg_profile *idg_profile_get(enum idg_oidc_profile p);

/* ---------- the object (oidc.c) ---------- */

struct idg_oidc {
	struct idg_oidc_cfg cfg;	/* defaults applied; every string a private copy */
	const struct idg_profile *prof;
	unsigned alg_mask;
	struct idg_http *http;
	bool discovered;
	char *token_ep, *jwks_uri, *device_ep, *userinfo_ep;
	time_t discovered_at;
	struct idg_jwks jwks;
	uint64_t jwks_fetches;
	time_t jwks_tried;		/* last fetch attempt, whatever its reason and outcome */
	time_t jwks_fetched;		/* last successful fetch; 0: only loaded keys, or none */
	time_t (*clock)(void *);
	void *clock_arg;
};

time_t idg_oidc_now(const struct idg_oidc *o);
/* Discovery, fetched once (and again when the previous attempt failed). */
int idg_oidc_ensure_discovery(struct idg_oidc *o, char *err, size_t errlen);
/* Take the endpoints from a discovery document (its issuer must be ours byte for byte, the
 * endpoints https): all of them or, with a reason, none. Apart from the fetch for the fuzz
 * target (tests/fuzz/fuzz_oidc_json.c). */
int idg_oidc_discovery_apply(struct idg_oidc *o, const cJSON *doc, char *err, size_t errlen);
/* A token named a key idgate does not have: fetch the keys again, but at most once per
 * jwks_min_interval_s whatever the reason for the previous fetch: IDG_ERR_NOTFOUND (and no
 * request) when the last one was more recent. */
int idg_oidc_jwks_refresh_unknown(struct idg_oidc *o, char *err, size_t errlen);

/* ---------- tokens (jwt.c) ---------- */

/* The audiences a token may be for: aud must contain one of them. */
struct idg_jwt_expect {
	const char *aud;	/* the client id */
	const char *aud_alt;	/* or this one (the API audience of access tokens), or NULL */
};

/* Validate a compact JWS: size, shape, header, alg allow-list, key, signature, then iss, aud,
 * azp, exp, nbf, iat. *claims_out: the payload, only after all of that held. */
int idg_jwt_validate(struct idg_oidc *o, const char *token, const struct idg_jwt_expect *ex,
    cJSON **claims_out, int64_t *exp_out, char *err, size_t errlen);
/* True when s has the shape of a compact JWS (three base64url parts). */
bool idg_jwt_looks_like(const char *s);

/* ---------- claims (claims.c) ---------- */

/* RFC 6901: "" is the whole document, "/a/b~1c" a path with ~1 = '/' and ~0 = '~'; a name
 * without a leading '/' is one top-level member, taken literally. IDG_ERR_NOTFOUND when
 * nothing is there, IDG_ERR_INVAL for a malformed pointer. */
int idg_json_pointer(const cJSON *root, const char *ptr, const cJSON **out);

/* Build the identity: iss, sub and exp from the validated token's claims; username, name,
 * email from claims or else (when given) from fallback (userinfo); groups from groups_src,
 * else fallback. IDG_ERR_DENIED with a reason for a missing or unusable claim. */
int idg_claims_identity(const struct idg_oidc *o, const cJSON *claims, int64_t exp,
    const cJSON *groups_src, const cJSON *fallback, struct idg_oidc_identity *id_out,
    char *err, size_t errlen);
/* True when the username claim, or a configured groups claim, is absent from claims. */
bool idg_claims_incomplete(const struct idg_oidc *o, const cJSON *claims);

#endif
