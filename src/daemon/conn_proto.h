/* The requests idgated's root parent sends its unprivileged connector children over their
 * socketpairs, in the same frames as api.sock (proto/wire.h). The parent asks, a child
 * answers one request at a time; every reply echoes the request id. A child keeps only caches
 * (discovery, keys, SAML metadata), so any child of a pool can take any request; the parent
 * holds policy and login state and never parses IdP data. */
#ifndef IDG_DAEMON_CONN_PROTO_H
#define IDG_DAEMON_CONN_PROTO_H

enum idg_conn_op {
	IDG_CONN_CONFIGURE = 1,		/* the [idp] settings and the cached keys; sent first */
	IDG_CONN_PASSWORD = 2,		/* USER, PASSWORD -> identity */
	IDG_CONN_TOKEN = 3,		/* TOKEN -> identity */
	IDG_CONN_DEVICE_START = 4,	/* -> DEVICE_CODE, USER_CODE, URI, URI_COMPLETE, INTERVAL,
					 * EXPIRES */
	IDG_CONN_DEVICE_POLL = 5,	/* DEVICE_CODE, INTERVAL, EXPIRES -> identity, or STATUS
					 * pending with INTERVAL. The parent keeps device codes, so
					 * any child can poll any of them. */
	IDG_CONN_DEVICE_CANCEL = 6,	/* unused: children hold no device login */
	IDG_CONN_TICK = 7,		/* scheduled work (key refresh) */
	IDG_CONN_SAML_START = 8,	/* -> URI (the IdP's SSO URL with an AuthnRequest), SAML_REQID */
	IDG_CONN_SAML_RESPONSE = 9,	/* SAML_RESPONSE (base64, as posted) -> identity, SAML_REQID */
	IDG_CONN_KEYS = 10,		/* JWKS: signing keys another child learned */
};

enum idg_conn_tag {
	IDG_CT_OP = 1,		/* u32 */
	IDG_CT_REQID = 2,	/* u64, echoed */
	IDG_CT_STATUS = 3,	/* u32: 0 ok, 1 pending, else -IDG_ERR_* */
	IDG_CT_ERROR = 4,	/* str: a short reason, never a secret */
	/* CONFIGURE */
	IDG_CT_PROFILE = 10,	/* u32 enum idg_oidc_profile */
	IDG_CT_ISSUER = 11,
	IDG_CT_CLIENT_ID = 12,
	IDG_CT_CLIENT_SECRET = 13,
	IDG_CT_CLIENT_AUTH = 14,	/* u32 */
	IDG_CT_SCOPE = 15,
	IDG_CT_AUDIENCE = 16,
	IDG_CT_CA_FILE = 17,
	IDG_CT_CONNECT_MS = 18,	/* u32 */
	IDG_CT_TIMEOUT_MS = 19,	/* u32 */
	IDG_CT_RESPONSE_MAX = 20,	/* u64 */
	IDG_CT_TOKEN_MAX = 21,	/* u64 */
	IDG_CT_LEEWAY = 22,	/* u32 s */
	IDG_CT_JWKS_MIN = 23,	/* u32 s */
	IDG_CT_JWKS_REFRESH = 24,	/* u32 s */
	IDG_CT_ALGS = 25,
	IDG_CT_USERNAME_CLAIM = 26,
	IDG_CT_GROUPS_CLAIM = 27,
	IDG_CT_GROUPS_SOURCE = 28,	/* u32 */
	IDG_CT_GROUP_PREFIX = 29,
	IDG_CT_KC_BASENAME = 30,	/* u32 bool */
	IDG_CT_KC_REALM_ROLES = 31,	/* u32 bool */
	IDG_CT_KC_CLIENT_ROLES = 32,
	IDG_CT_USERINFO_FALLBACK = 33,	/* u32 bool */
	IDG_CT_JWKS = 34,	/* str: a JWKS document (cached keys, either way) */
	IDG_CT_JWKS_AT = 35,	/* u64: unix time those keys were fetched (CONFIGURE, KEYS) */
	/* logins */
	IDG_CT_USER = 40,
	IDG_CT_PASSWORD = 41,
	IDG_CT_TOKEN = 42,
	IDG_CT_HANDLE = 43,	/* u64: unused (device logins were once held by the child) */
	IDG_CT_USER_CODE = 44,
	IDG_CT_URI = 45,
	IDG_CT_URI_COMPLETE = 46,
	IDG_CT_INTERVAL = 47,	/* u32 s */
	IDG_CT_EXPIRES = 48,	/* u64: absolute time */
	IDG_CT_DEVICE_CODE = 49,	/* str: the device code (a secret: never logged) */
	/* identity */
	IDG_CT_ID_ISS = 60,
	IDG_CT_ID_SUB = 61,
	IDG_CT_ID_USERNAME = 62,
	IDG_CT_ID_NAME = 63,
	IDG_CT_ID_EMAIL = 64,
	IDG_CT_ID_GROUP = 65,	/* repeated */
	IDG_CT_ID_EXP = 66,	/* u64 */
	IDG_CT_ID_LINK = 67,	/* SAML: the link attribute's value ([saml] link_attribute), the
				 * user's OIDC subject as the SAML IdP states it */
	IDG_CT_ID_GROUPS_ABSENT = 68,	/* str: the groups claim, sent in neither the token nor
					 * userinfo (absent: it was there, or no claim is asked) */
	/* SAML (CONFIGURE: the [saml] settings; without SAML_METADATA or SAML_METADATA_URL, no
	 * SAML) */
	IDG_CT_SAML_METADATA = 70,	/* str: the IdP's metadata document */
	IDG_CT_SAML_SP_ENTITY = 71,
	IDG_CT_SAML_ACS = 72,
	IDG_CT_SAML_USER_ATTR = 73,
	IDG_CT_SAML_GROUPS_ATTR = 74,
	IDG_CT_SAML_LEEWAY = 75,	/* u32 s */
	IDG_CT_SAML_MAX = 76,		/* u64: decoded bytes of a response */
	IDG_CT_SAML_REQID = 77,		/* str: an AuthnRequest's ID */
	IDG_CT_SAML_RESPONSE = 78,	/* str: the SAMLResponse form field (base64) */
	IDG_CT_SAML_METADATA_URL = 79,	/* str: instead of SAML_METADATA, fetched by the child */
	IDG_CT_SAML_CA_FILE = 80,	/* str: CAs for that URL */
	IDG_CT_SAML_REFRESH = 81,	/* u32 s: fetch it again this often */
	IDG_CT_SAML_SP_KEY = 82,	/* str: PEM key that signs AuthnRequests (a secret) */
	IDG_CT_SAML_LINK_ATTR = 83,	/* str: the attribute sent back as ID_LINK; "NameID" */
	/* statistics, on every answer */
	IDG_CT_IDP_US = 90,	/* u64: microseconds this request waited on the IdP's HTTP answers */
};

#define IDG_CONN_PENDING 1u

#endif
