/* The logins: the resource-owner password grant, the device authorization grant (RFC 8628:
 * start, then one poll per call), a token presented as a password, and userinfo as a source
 * of claims. Only a validated ID token makes a login succeed; every other answer from the
 * IdP (an error, an MFA demand, a malformed body) is a failure with a short reason. Request
 * bodies hold passwords and device codes, responses hold tokens: all are wiped after use. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "connectors/json.h"
#include "connectors/oidc_int.h"

#define FORM_MAX (64 * 1024)
#define USER_MAX 1024
#define PASSWORD_MAX 4096
#define DEVICE_CODE_MAX 4096
#define USER_CODE_MAX 64
#define INTERVAL_DEFAULT 5	/* RFC 8628 §3.2 */
#define INTERVAL_MAX 300
#define DEVICE_TTL_MAX 86400

#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"

/* ---------- request bodies ---------- */

/* application/x-www-form-urlencoded: everything but the unreserved characters escaped. */
static int
urlenc(struct idg_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
		if (isalnum(*p) || strchr("-._~", *p)) {
			rc = idg_buf_append(b, p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			rc = idg_buf_append(b, e, 3);
		}
	}
	return rc;
}

static int
form_add(struct idg_buf *b, const char *name, const char *value)
{
	int rc = 0;

	if (value == NULL)
		return 0;
	if (b->len)
		rc = idg_buf_append(b, "&", 1);
	if (rc == 0)
		rc = urlenc(b, name);
	if (rc == 0)
		rc = idg_buf_append(b, "=", 1);
	return rc ? rc : urlenc(b, value);
}

/* Client authentication (RFC 6749 §2.3.1): HTTP Basic over the form-encoded id and secret,
 * or both in the body; a public client (no secret) sends its id in the body. */
static int
client_auth(const struct idg_oidc *o, struct idg_buf *form, struct idg_buf *auth)
{
	struct idg_buf raw;
	int rc = 0, n;

	if (o->cfg.client_secret == NULL || o->cfg.client_auth == IDG_OIDC_AUTH_POST) {
		rc = form_add(form, "client_id", o->cfg.client_id);
		return rc ? rc : form_add(form, "client_secret", o->cfg.client_secret);
	}
	idg_buf_init(&raw, 3 * (strlen(o->cfg.client_id) + strlen(o->cfg.client_secret)) + 1);
	if ((rc = idg_buf_reserve(&raw, raw.max)) < 0 ||
	    (rc = urlenc(&raw, o->cfg.client_id)) < 0 || (rc = idg_buf_append(&raw, ":", 1)) < 0 ||
	    (rc = urlenc(&raw, o->cfg.client_secret)) < 0 ||
	    (rc = idg_buf_puts(auth, "Basic ")) < 0 ||
	    (rc = idg_buf_reserve(auth, (raw.len + 2) / 3 * 4)) < 0)
		goto out;
	n = EVP_EncodeBlock((unsigned char *)auth->data + auth->len,
	    (const unsigned char *)raw.data, (int)raw.len);
	auth->len += (size_t)n;
	auth->data[auth->len] = '\0';
out:
	idg_buf_free(&raw);
	return rc;
}

/* A form buffer with room for everything at once: growing it later would leave copies of
 * the password or device code behind in freed memory. extra: the caller's own values. */
static int
form_init(const struct idg_oidc *o, struct idg_buf *b, size_t extra)
{
	const struct idg_oidc_cfg *c = &o->cfg;
	size_t n = extra + strlen(c->client_id) + strlen(c->scope) +
	    (c->client_secret ? strlen(c->client_secret) : 0) +
	    (c->audience ? strlen(c->audience) : 0);

	idg_buf_init(b, FORM_MAX);
	return idg_buf_reserve(b, 3 * n + 256);
}

/* The common parameters of token and device requests. */
static int
form_common(const struct idg_oidc *o, struct idg_buf *form, struct idg_buf *auth)
{
	int rc = form_add(form, "scope", o->cfg.scope);

	if (rc == 0 && o->prof->send_audience)
		rc = form_add(form, "audience", o->cfg.audience);
	return rc ? rc : client_auth(o, form, auth);
}

/* ---------- answers ---------- */

/* The OAuth error code of an error answer, reduced to harmless characters for a reason
 * text; "" when there is none. */
static void
error_code(const cJSON *j, char *code, size_t len)
{
	const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
	size_t o = 0;

	for (; e && *e && o + 1 < len; e++)
		if (isalnum((unsigned char)*e) || strchr("_-.", *e))
			code[o++] = *e;
	code[o] = '\0';
}

/* POST a form to an IdP endpoint. 0 with the JSON answer (HTTP 200); 1 with an OAuth error
 * code in code (an error answer); negative for anything else. */
static int
post_form(struct idg_oidc *o, const char *url, const struct idg_buf *form,
    const struct idg_buf *auth, cJSON **out, char *code, size_t codelen, char *err,
    size_t errlen)
{
	struct idg_http_req req = { .form = form->data, .form_len = form->len,
		.auth = auth->len ? auth->data : NULL };
	struct idg_http_resp resp = { 0 };
	cJSON *j = NULL;
	int rc;

	if ((rc = idg_http_request(o->http, url, &req, &resp, err, errlen)) < 0)
		return rc;
	if (idg_json_parse(resp.body, resp.len, &j) < 0) {
		if (resp.status == 200)
			snprintf(err, errlen, "malformed JSON from IdP");
		else
			snprintf(err, errlen, "IdP returned HTTP %ld", resp.status);
		rc = resp.status >= 500 ? IDG_ERR_UNAVAIL : IDG_ERR_PROTO;
	} else if (resp.status == 200) {
		*out = j;
		j = NULL;
		rc = 0;
	} else {
		if (resp.status >= 400 && resp.status < 500)
			error_code(j, code, codelen);
		if (code[0] != '\0') {
			rc = 1;
		} else {
			snprintf(err, errlen, "IdP returned HTTP %ld", resp.status);
			rc = resp.status >= 500 ? IDG_ERR_UNAVAIL : IDG_ERR_PROTO;
		}
	}
	idg_json_free_wipe(j);
	idg_http_resp_clear(&resp);
	return rc;
}

/* The errors every grant may get, the same way. */
static int
client_error(const char *code, char *err, size_t errlen)
{
	if (strcmp(code, "invalid_client") == 0 || strcmp(code, "unauthorized_client") == 0) {
		snprintf(err, errlen, "the IdP refused idgate's client credentials (%s)", code);
		return IDG_ERR_CONFIG;
	}
	if (strcmp(code, "invalid_scope") == 0) {
		snprintf(err, errlen, "the IdP refused the configured scope");
		return IDG_ERR_CONFIG;
	}
	if (strcmp(code, "unsupported_grant_type") == 0) {
		snprintf(err, errlen, "the IdP does not allow this login method for idgate's client");
		return IDG_ERR_CONFIG;
	}
	if (strcmp(code, "temporarily_unavailable") == 0 || strcmp(code, "server_error") == 0) {
		snprintf(err, errlen, "IdP unavailable (%s)", code);
		return IDG_ERR_UNAVAIL;
	}
	/* MFA demands, consent, anything else: never a success. */
	snprintf(err, errlen, "refused by the IdP (%s)", code);
	return IDG_ERR_DENIED;
}

/* GET userinfo with the access token; its sub must be the ID token's (OIDC Core 5.3.2). */
static int
userinfo(struct idg_oidc *o, const char *at, const char *sub, cJSON **out, char *err,
    size_t errlen)
{
	struct idg_http_req req = { 0 };
	struct idg_buf auth;
	cJSON *ui = NULL;
	int rc;

	if (o->userinfo_ep == NULL) {
		snprintf(err, errlen, "the IdP has no userinfo endpoint");
		return IDG_ERR_PROTO;
	}
	if (at == NULL) {
		snprintf(err, errlen, "the IdP answered without an access token");
		return IDG_ERR_PROTO;
	}
	idg_buf_init(&auth, 1024 + o->cfg.response_max);
	if ((rc = idg_buf_printf(&auth, "Bearer %s", at)) < 0) {
		snprintf(err, errlen, "the access token is too large");
		goto out;
	}
	req.auth = auth.data;
	if ((rc = idg_http_json(o->http, o->userinfo_ep, &req, &ui, err, errlen)) < 0)
		goto out;
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ui, "sub")) ||
	    strcmp(cJSON_GetObjectItemCaseSensitive(ui, "sub")->valuestring, sub) != 0) {
		snprintf(err, errlen, "the IdP's userinfo answer is for another subject");
		rc = IDG_ERR_DENIED;
		goto out;
	}
	*out = ui;
	ui = NULL;
out:
	idg_buf_free(&auth);
	idg_json_free_wipe(ui);
	return rc;
}

/* A token answer (RFC 6749 §5.1) to an identity: the ID token must validate; the groups come
 * from it, from the access token (which must then validate too) or from userinfo (whose sub
 * must be the ID token's). */
static int
tokens_identity(struct idg_oidc *o, const cJSON *tok, struct idg_oidc_identity *id_out,
    char *err, size_t errlen)
{
	struct idg_jwt_expect idx = { .aud = o->cfg.client_id };
	struct idg_jwt_expect atx = { .aud = o->cfg.client_id, .aud_alt = o->cfg.audience };
	const char *idt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tok, "id_token"));
	const char *at = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tok,
	    "access_token"));
	const char *sub;
	cJSON *idc = NULL, *atc = NULL, *ui = NULL;
	const cJSON *gsrc;
	int64_t exp = 0, atexp = 0;
	char uerr[256];
	int rc;

	if (idt == NULL) {
		snprintf(err, errlen, "the IdP answered without an ID token");
		return IDG_ERR_PROTO;
	}
	if ((rc = idg_jwt_validate(o, idt, &idx, &idc, &exp, err, errlen)) < 0)
		goto out;
	gsrc = idc;
	sub = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(idc, "sub"));
	if (sub == NULL) {
		snprintf(err, errlen, "the ID token has no subject (sub)");
		rc = IDG_ERR_DENIED;
		goto out;
	}
	if (o->cfg.groups_source == IDG_OIDC_SRC_ACCESS_TOKEN) {
		if (at == NULL || !idg_jwt_looks_like(at)) {
			snprintf(err, errlen, "groups are to come from the access token, but it is "
			    "not a JWT");
			rc = IDG_ERR_PROTO;
			goto out;
		}
		/* It came with the ID token in the same answer from the token endpoint; its sub
		 * need not be the ID token's (Okta puts the login there, the id in uid). */
		if ((rc = idg_jwt_validate(o, at, &atx, &atc, &atexp, err, errlen)) < 0)
			goto out;
		gsrc = atc;
	}
	if (o->cfg.groups_source == IDG_OIDC_SRC_USERINFO) {
		if ((rc = userinfo(o, at, sub, &ui, err, errlen)) < 0)
			goto out;
		gsrc = ui;
	} else if (o->cfg.userinfo_fallback && idg_claims_incomplete(o, gsrc) &&
	    userinfo(o, at, sub, &ui, uerr, sizeof(uerr)) < 0) {
		/* Only a fallback: the token's own claims decide without it. */
		log_notice("connector: userinfo fallback failed: %s", uerr);
	}
	rc = idg_claims_identity(o, idc, exp, gsrc, ui, id_out, err, errlen);
out:
	cJSON_Delete(idc);
	cJSON_Delete(atc);
	idg_json_free_wipe(ui);
	return rc;
}

/* ---------- the logins ---------- */

int
idg_oidc_password(struct idg_oidc *o, const char *user, const char *password,
    struct idg_oidc_identity *id_out, char *err, size_t errlen)
{
	struct idg_buf form, auth;
	char code[IDG_OIDC_ERRCODE_MAX + 1] = "";
	cJSON *tok = NULL;
	int rc;

	idg_buf_init(&form, FORM_MAX);
	idg_buf_init(&auth, FORM_MAX);
	if (user == NULL || password == NULL || user[0] == '\0' || password[0] == '\0' ||
	    strlen(user) > USER_MAX || strlen(password) > PASSWORD_MAX) {
		snprintf(err, errlen, "wrong username or password");
		rc = IDG_ERR_DENIED;
		goto out;
	}
	if ((rc = form_init(o, &form, strlen(user) + strlen(password))) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = idg_oidc_ensure_discovery(o, err, errlen)) < 0)
		goto out;
	if ((rc = form_add(&form, "grant_type", "password")) < 0 ||
	    (rc = form_add(&form, "username", user)) < 0 ||
	    (rc = form_add(&form, "password", password)) < 0 ||
	    (rc = form_common(o, &form, &auth)) < 0) {
		snprintf(err, errlen, "cannot build the token request");
		goto out;
	}
	rc = post_form(o, o->token_ep, &form, &auth, &tok, code, sizeof(code), err, errlen);
	if (rc == 1 && strcmp(code, "invalid_grant") == 0) {
		/* Unknown user and wrong password look the same, here as at the IdP. */
		snprintf(err, errlen, "wrong username or password");
		rc = IDG_ERR_DENIED;
	} else if (rc == 1) {
		rc = client_error(code, err, errlen);
	} else if (rc == 0) {
		rc = tokens_identity(o, tok, id_out, err, errlen);
	}
out:
	idg_buf_free(&form);
	idg_buf_free(&auth);
	idg_json_free_wipe(tok);
	return rc;
}

int
idg_oidc_token(struct idg_oidc *o, const char *token, struct idg_oidc_identity *id_out,
    char *err, size_t errlen)
{
	struct idg_jwt_expect ex = { .aud = o->cfg.client_id, .aud_alt = o->cfg.audience };
	cJSON *claims = NULL, *ui = NULL;
	const cJSON *sub;
	char uerr[256];
	int64_t exp = 0;
	int rc;

	/* Judged on its own claims, offline: groups from the token whatever groups_source says
	 * (there is no other token). Only a token that validated yet lacks the username or
	 * groups claim (an Auth0 access token carries neither) costs a userinfo call, with the
	 * token as its bearer, when userinfo_fallback allows it. */
	if ((rc = idg_jwt_validate(o, token, &ex, &claims, &exp, err, errlen)) < 0)
		goto out;
	sub = cJSON_GetObjectItemCaseSensitive(claims, "sub");
	if (o->cfg.userinfo_fallback && idg_claims_incomplete(o, claims) && cJSON_IsString(sub) &&
	    (idg_oidc_discover(o, uerr, sizeof(uerr)) < 0 ||
	    userinfo(o, token, sub->valuestring, &ui, uerr, sizeof(uerr)) < 0))
		log_notice("connector: userinfo fallback failed: %s", uerr);
	rc = idg_claims_identity(o, claims, exp, claims, ui, id_out, err, errlen);
out:
	idg_json_free_wipe(ui);
	cJSON_Delete(claims);
	return rc;
}

/* A string member of a device authorization answer: printable ASCII, at most max bytes;
 * https when it is a URI. */
static int
device_str(const cJSON *j, const char *name, size_t max, bool uri, char **out)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));

	*out = NULL;
	if (s == NULL)
		return IDG_ERR_NOTFOUND;
	if (s[0] == '\0' || strlen(s) > max || (uri && !idg_http_is_https(s)))
		return IDG_ERR_PROTO;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return IDG_ERR_PROTO;
	return (*out = strdup(s)) ? 0 : IDG_ERR_NOMEM;
}

static int
device_answer(struct idg_oidc *o, const cJSON *j, struct idg_oidc_device *dev)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
	const cJSON *iv = cJSON_GetObjectItemCaseSensitive(j, "interval");
	int rc;

	if ((rc = device_str(j, "device_code", DEVICE_CODE_MAX, false, &dev->device_code)) < 0 ||
	    (rc = device_str(j, "user_code", USER_CODE_MAX, false, &dev->user_code)) < 0)
		return rc == IDG_ERR_NOMEM ? rc : IDG_ERR_PROTO;
	/* "verification_url" is what some IdPs (Google) still send. */
	rc = device_str(j, "verification_uri", 2048, true, &dev->verification_uri);
	if (rc == IDG_ERR_NOTFOUND)
		rc = device_str(j, "verification_url", 2048, true, &dev->verification_uri);
	if (rc < 0)
		return rc == IDG_ERR_NOMEM ? rc : IDG_ERR_PROTO;
	rc = device_str(j, "verification_uri_complete", 2048, true,
	    &dev->verification_uri_complete);
	if (rc < 0 && rc != IDG_ERR_NOTFOUND)
		return rc == IDG_ERR_NOMEM ? rc : IDG_ERR_PROTO;
	if (!cJSON_IsNumber(exp) || !(exp->valuedouble >= 1 && exp->valuedouble <= DEVICE_TTL_MAX))
		return IDG_ERR_PROTO;
	dev->expires_at = (int64_t)idg_oidc_now(o) + (int64_t)exp->valuedouble;
	dev->interval_s = INTERVAL_DEFAULT;
	if (iv && (!cJSON_IsNumber(iv) || !(iv->valuedouble >= 0 && iv->valuedouble <=
	    INTERVAL_MAX)))
		return IDG_ERR_PROTO;
	if (iv && iv->valuedouble >= 1)
		dev->interval_s = (unsigned)iv->valuedouble;
	return 0;
}

int
idg_oidc_device_start(struct idg_oidc *o, struct idg_oidc_device *dev_out, char *err,
    size_t errlen)
{
	struct idg_oidc_device dev = { 0 };
	struct idg_buf form, auth;
	char code[IDG_OIDC_ERRCODE_MAX + 1] = "";
	cJSON *j = NULL;
	int rc;

	idg_buf_init(&form, FORM_MAX);
	idg_buf_init(&auth, FORM_MAX);
	if ((rc = form_init(o, &form, 0)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = idg_oidc_ensure_discovery(o, err, errlen)) < 0)
		goto out;
	if (o->device_ep == NULL) {
		/* NOTFOUND, not CONFIG: the caller tells the user this method is not offered
		 * (pam_idgate's Enter-for-device) rather than that the service failed. */
		snprintf(err, errlen, "the identity provider does not offer device sign-in: its "
		    "discovery document has no device_authorization_endpoint");
		rc = IDG_ERR_NOTFOUND;
		goto out;
	}
	if ((rc = form_common(o, &form, &auth)) < 0) {
		snprintf(err, errlen, "cannot build the device request");
		goto out;
	}
	rc = post_form(o, o->device_ep, &form, &auth, &j, code, sizeof(code), err, errlen);
	if (rc == 1)
		rc = client_error(code, err, errlen);
	if (rc < 0)
		goto out;
	if ((rc = device_answer(o, j, &dev)) < 0) {
		snprintf(err, errlen, rc == IDG_ERR_NOMEM ? "out of memory" : "malformed device "
		    "authorization answer from IdP");
		goto out;
	}
	*dev_out = dev;
	memset(&dev, 0, sizeof(dev));
out:
	idg_oidc_device_clear(&dev);
	idg_buf_free(&form);
	idg_buf_free(&auth);
	idg_json_free_wipe(j);
	return rc;
}

/* A poll's error answer (RFC 8628 §3.5): 1 while the user has not decided, else the end. */
static int
poll_error(struct idg_oidc_device *dev, const char *code, char *err, size_t errlen)
{
	if (strcmp(code, "authorization_pending") == 0)
		return 1;
	if (strcmp(code, "slow_down") == 0) {
		/* Five seconds more, for this and every later poll. */
		if (dev->interval_s + 5 <= INTERVAL_MAX)
			dev->interval_s += 5;
		return 1;
	}
	if (strcmp(code, "expired_token") == 0) {
		snprintf(err, errlen, "device code expired");
		return IDG_ERR_EXPIRED;
	}
	if (strcmp(code, "access_denied") == 0) {
		snprintf(err, errlen, "denied at the IdP");
		return IDG_ERR_DENIED;
	}
	if (strcmp(code, "invalid_grant") == 0) {
		snprintf(err, errlen, "the IdP no longer knows this device code");
		return IDG_ERR_DENIED;
	}
	return client_error(code, err, errlen);
}

int
idg_oidc_device_poll(struct idg_oidc *o, struct idg_oidc_device *dev,
    struct idg_oidc_identity *id_out, char *err, size_t errlen)
{
	struct idg_buf form, auth;
	char code[IDG_OIDC_ERRCODE_MAX + 1] = "";
	cJSON *tok = NULL;
	int rc;

	idg_buf_init(&form, FORM_MAX);
	idg_buf_init(&auth, FORM_MAX);
	if (dev == NULL || dev->device_code == NULL) {
		snprintf(err, errlen, "no device login in progress");
		rc = IDG_ERR_INVAL;
		goto out;
	}
	if ((int64_t)idg_oidc_now(o) >= dev->expires_at) {
		snprintf(err, errlen, "device code expired");
		rc = IDG_ERR_EXPIRED;
		goto out;
	}
	if ((rc = form_init(o, &form, strlen(dev->device_code))) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rc = idg_oidc_ensure_discovery(o, err, errlen)) < 0)
		goto out;
	if ((rc = form_add(&form, "grant_type", GRANT_DEVICE)) < 0 ||
	    (rc = form_add(&form, "device_code", dev->device_code)) < 0 ||
	    (rc = client_auth(o, &form, &auth)) < 0) {
		snprintf(err, errlen, "cannot build the token request");
		goto out;
	}
	rc = post_form(o, o->token_ep, &form, &auth, &tok, code, sizeof(code), err, errlen);
	if (rc == 1)
		rc = poll_error(dev, code, err, errlen);
	else if (rc == 0)
		rc = tokens_identity(o, tok, id_out, err, errlen);
out:
	idg_buf_free(&form);
	idg_buf_free(&auth);
	idg_json_free_wipe(tok);
	return rc;
}
