/* JWT validation for IdP tokens. Everything an attacker controls is checked before any key
 * is touched (size, shape, header, algorithm allow-list, key choice); the signature is
 * checked by OpenSSL (EVP_PKEY_verify, or EVP_DigestVerify for EdDSA) with a key parsed, and a
 * context prepared, once when the JWKS arrived; only then is the payload parsed, and iss,
 * aud, azp, exp, nbf, iat are judged. Nothing here caches a verdict: every call verifies its
 * token. (Why not liboauth2 or cjose for the signature: connectors/README.md.) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "connectors/b64.h"
#include "connectors/json.h"
#include "connectors/oidc_int.h"

/* The three parts of a compact JWS. */
struct parts {
	const char *h, *p, *s;
	size_t hlen, plen, slen;
	size_t signed_len;	/* header '.' payload: what the signature covers */
};

static bool
split(const char *t, size_t len, struct parts *pt)
{
	const char *d1 = memchr(t, '.', len), *d2;

	if (d1 == NULL || (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - t))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - t)) != NULL)
		return false;
	pt->h = t;
	pt->hlen = (size_t)(d1 - t);
	pt->p = d1 + 1;
	pt->plen = (size_t)(d2 - pt->p);
	pt->s = d2 + 1;
	pt->slen = len - (size_t)(pt->s - t);
	pt->signed_len = (size_t)(d2 - t);
	return pt->hlen > 0 && pt->plen > 0 && idg_b64url_valid(pt->h, pt->hlen) &&
	    idg_b64url_valid(pt->p, pt->plen) && idg_b64url_valid(pt->s, pt->slen);
}

bool
idg_jwt_looks_like(const char *s)
{
	struct parts pt;

	return s != NULL && split(s, strlen(s), &pt) && pt.slen > 0;
}

/* Decode a base64url part holding a JSON object; IDG_ERR_INVAL when it is none. */
static int
part_json(const char *s, size_t n, cJSON **out)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	int rc;

	if ((rc = idg_b64url_decode(s, n, &raw, &len)) < 0)
		return rc;
	rc = idg_json_parse((const char *)raw, len, out) < 0 ? IDG_ERR_INVAL : 0;
	explicit_bzero(raw, len);
	free(raw);
	if (rc == 0 && !idg_json_members_unique(*out)) {
		/* Two "alg" members: parsers disagree on which one counts. */
		cJSON_Delete(*out);
		*out = NULL;
		rc = IDG_ERR_INVAL;
	}
	return rc;
}

/* The header's algorithm, allowed by the configuration: NULL with a reason otherwise. */
static const struct idg_alg *
header_alg(const struct idg_oidc *o, const cJSON *hdr, char *err, size_t errlen)
{
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(hdr, "alg"));
	const struct idg_alg *a;

	if (name == NULL) {
		snprintf(err, errlen, "malformed token (no alg)");
		return NULL;
	}
	if (strcasecmp(name, "none") == 0) {
		snprintf(err, errlen, "unsigned token (alg none) refused");
		return NULL;
	}
	if (strncasecmp(name, "HS", 2) == 0) {
		snprintf(err, errlen, "HMAC-signed token refused");
		return NULL;
	}
	if ((a = idg_alg_by_name(name)) == NULL || (o->alg_mask & a->bit) == 0) {
		snprintf(err, errlen, "signature algorithm not allowed");
		return NULL;
	}
	return a;
}

/* The key the header names, fetching the IdP's keys again (rate-limited) when it is not
 * known yet. */
static const struct idg_key *
find_key(struct idg_oidc *o, const char *kid, const struct idg_alg *a, char *err,
    size_t errlen)
{
	const struct idg_key *k;
	bool mismatch = false;
	char ferr[256] = "";
	int rc;

	k = idg_jwks_find(&o->jwks, kid, a, &mismatch);
	if (k == NULL && !mismatch && (kid != NULL || o->jwks.n == 0)) {
		rc = idg_oidc_jwks_refresh_unknown(o, ferr, sizeof(ferr));
		if (rc == 0)
			k = idg_jwks_find(&o->jwks, kid, a, &mismatch);
	}
	if (k)
		return k;
	if (mismatch)
		snprintf(err, errlen, "the signing key does not fit the token's algorithm");
	else if (kid == NULL && o->jwks.n > 0)
		snprintf(err, errlen, "the token names no signing key (kid)");
	else
		snprintf(err, errlen, "unknown signing key%s%s%s", ferr[0] ? " (fetching the "
		    "IdP's keys: " : "", ferr, ferr[0] ? ")" : "");
	return NULL;
}

/* ES*: the JWS signature is r || s, fixed size (RFC 7518 §3.4); OpenSSL verifies DER. */
static int
ecdsa_der(const unsigned char *sig, size_t len, unsigned char **der, size_t *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	int n = -1;

	if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
		r = s = NULL;	/* owned by es now */
		*der = NULL;
		n = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return IDG_ERR_NOMEM;
	*derlen = (size_t)n;
	return 0;
}

static bool
verify(const struct idg_key *k, const struct idg_alg *a, const char *token,
    const struct parts *pt)
{
	unsigned char *sig = NULL, *der = NULL, md[EVP_MAX_MD_SIZE];
	size_t siglen = 0, derlen = 0;
	unsigned mdlen = 0, i = idg_alg_index(a);
	EVP_MD_CTX *mc = NULL;
	bool ok = false;

	if (idg_b64url_decode(pt->s, pt->slen, &sig, &siglen) < 0 || siglen != k->siglen)
		goto out;
	if (a->md == NULL) {
		/* Pure EdDSA: the message itself is signed, no digest of our choosing. */
		ok = (mc = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestVerifyInit(mc, NULL, NULL, NULL, k->pk) == 1 &&
		    EVP_DigestVerify(mc, sig, siglen, (const unsigned char *)token,
		    pt->signed_len) == 1;
		goto out;
	}
	if (k->vctx[i] == NULL || EVP_Digest(token, pt->signed_len, md, &mdlen, k->md[i],
	    NULL) != 1)
		goto out;
	if (a->kty == IDG_KTY_EC) {
		if (ecdsa_der(sig, siglen, &der, &derlen) < 0)
			goto out;
		ok = EVP_PKEY_verify(k->vctx[i], der, derlen, md, mdlen) == 1;
	} else {
		ok = EVP_PKEY_verify(k->vctx[i], sig, siglen, md, mdlen) == 1;
	}
out:
	if (!ok)
		ERR_clear_error();	/* a forged token leaves nothing for the next TLS call */
	EVP_MD_CTX_free(mc);
	OPENSSL_free(der);
	free(sig);
	return ok;
}

static bool
str_eq(const cJSON *v, const char *s)
{
	return s != NULL && cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

/* aud holds the expected audience; azp, when present or needed, must be the client. */
static int
check_aud(const struct idg_oidc *o, const cJSON *claims, const struct idg_jwt_expect *ex,
    char *err, size_t errlen)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(claims, "aud"), *v;
	const cJSON *azp = cJSON_GetObjectItemCaseSensitive(claims, "azp");
	bool match = false;
	int count = 0;

	if (cJSON_IsString(aud)) {
		count = 1;
		match = str_eq(aud, ex->aud) || str_eq(aud, ex->aud_alt);
	} else if (cJSON_IsArray(aud)) {
		cJSON_ArrayForEach(v, aud) {
			if (!cJSON_IsString(v)) {
				snprintf(err, errlen, "token has a malformed audience (aud)");
				return IDG_ERR_DENIED;
			}
			count++;
			match = match || str_eq(v, ex->aud) || str_eq(v, ex->aud_alt);
		}
	}
	if (count == 0) {
		snprintf(err, errlen, "token has no audience (aud)");
		return IDG_ERR_DENIED;
	}
	if (!match) {
		snprintf(err, errlen, "token is for another audience (aud)");
		return IDG_ERR_DENIED;
	}
	/* OIDC Core 3.1.3.7: with several audiences the party it was issued to must be us;
	 * whatever aud holds, a token issued to another client (azp) is not ours to accept. */
	if ((count > 1 || azp != NULL) && !str_eq(azp, o->cfg.client_id)) {
		snprintf(err, errlen, count > 1 ? "token has several audiences and its azp is "
		    "not this client" : "token was issued to another client (azp)");
		return IDG_ERR_DENIED;
	}
	return 0;
}

/* exp (required), nbf and iat, each with the leeway. A token the IdP just issued that looks
 * issued or valid only in the future means this host's clock is behind the IdP's: the
 * refusal says so, with the skew measured, so that the administrator looks at the clock. */
static int
check_times(const struct idg_oidc *o, const cJSON *claims, int64_t *exp_out, char *err,
    size_t errlen)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
	const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
	const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");
	int64_t now = (int64_t)idg_oidc_now(o), lw = (int64_t)o->cfg.leeway_s, e, t;

	if (idg_json_time(exp, &e) < 0) {
		snprintf(err, errlen, "token has no valid expiry (exp)");
		return IDG_ERR_DENIED;
	}
	if (now >= e + lw) {
		snprintf(err, errlen, "token expired %lld s ago (allowed clock skew %lld s)",
		    (long long)(now - e), (long long)lw);
		return IDG_ERR_EXPIRED;
	}
	if (nbf && idg_json_time(nbf, &t) < 0) {
		snprintf(err, errlen, "token has no valid nbf");
		return IDG_ERR_DENIED;
	}
	if (nbf && t > now + lw) {
		snprintf(err, errlen, "token not yet valid (nbf %lld s ahead of this host's clock, "
		    "allowed skew %lld s): this host's clock may be wrong", (long long)(t - now),
		    (long long)lw);
		return IDG_ERR_DENIED;
	}
	if (iat && idg_json_time(iat, &t) < 0) {
		snprintf(err, errlen, "token has no valid iat");
		return IDG_ERR_DENIED;
	}
	if (iat && t > now + lw) {
		snprintf(err, errlen, "token issued in the future (iat %lld s ahead of this host's "
		    "clock, allowed skew %lld s): this host's clock may be wrong",
		    (long long)(t - now), (long long)lw);
		return IDG_ERR_DENIED;
	}
	*exp_out = e;
	return 0;
}

int
idg_jwt_validate(struct idg_oidc *o, const char *token, const struct idg_jwt_expect *ex,
    cJSON **claims_out, int64_t *exp_out, char *err, size_t errlen)
{
	const struct idg_alg *a;
	const struct idg_key *k;
	const cJSON *kidv;
	cJSON *hdr = NULL, *claims = NULL;
	const char *kid = NULL, *iss;
	struct parts pt;
	int64_t exp = 0;
	size_t len;
	int rc = IDG_ERR_DENIED;

	if (token == NULL || (len = strnlen(token, o->cfg.token_max + 1)) == 0) {
		snprintf(err, errlen, "no token");
		return IDG_ERR_INVAL;
	}
	if (len > o->cfg.token_max) {
		snprintf(err, errlen, "token too large");
		return IDG_ERR_TOOBIG;
	}
	if (!split(token, len, &pt)) {
		snprintf(err, errlen, "malformed token (not three base64url parts)");
		return IDG_ERR_INVAL;
	}
	if (part_json(pt.h, pt.hlen, &hdr) < 0) {
		snprintf(err, errlen, "malformed token (header)");
		return IDG_ERR_INVAL;
	}
	if ((a = header_alg(o, hdr, err, errlen)) == NULL)
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(hdr, "crit")) {
		/* RFC 7515 §4.1.11: extensions we do not implement must not be ignored. */
		snprintf(err, errlen, "token has critical header extensions");
		goto out;
	}
	if ((kidv = cJSON_GetObjectItemCaseSensitive(hdr, "kid")) != NULL) {
		if (!cJSON_IsString(kidv) || strlen(kidv->valuestring) > IDG_OIDC_KID_MAX) {
			snprintf(err, errlen, "malformed token (kid)");
			goto out;
		}
		kid = kidv->valuestring;
	}
	if (pt.slen == 0) {
		snprintf(err, errlen, "token has no signature");
		goto out;
	}
	if ((k = find_key(o, kid, a, err, errlen)) == NULL)
		goto out;
	/* A signature of another length than the key makes is refused unread. */
	if (idg_b64url_declen(pt.slen) != k->siglen || !verify(k, a, token, &pt)) {
		snprintf(err, errlen, "bad token signature");
		goto out;
	}
	if (part_json(pt.p, pt.plen, &claims) < 0) {
		snprintf(err, errlen, "malformed token (payload)");
		goto out;
	}
	iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, "iss"));
	if (iss == NULL || strcmp(iss, o->cfg.issuer) != 0) {
		snprintf(err, errlen, "token from another issuer (iss)");
		goto out;
	}
	if ((rc = check_aud(o, claims, ex, err, errlen)) < 0 ||
	    (rc = check_times(o, claims, &exp, err, errlen)) < 0)
		goto out;
	*claims_out = claims;
	*exp_out = exp;
	claims = NULL;
	rc = 0;
out:
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	return rc;
}
