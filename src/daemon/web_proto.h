/* The frames between idgated's root parent (saml_sp.c) and its unprivileged web process
 * (web_child.c) over their socketpair, in the wire format of proto/wire.h. */
#ifndef IDG_DAEMON_WEB_PROTO_H
#define IDG_DAEMON_WEB_PROTO_H

/* The parent sends START once; the child answers READY when it serves, then asks LOGIN_OPEN
 * and ACS as browsers come, each answered by one REPLY with the same request id, in any
 * order. The parent holds the logins and the policy; the child holds TLS and HTTP and is
 * not trusted: every field it sends is checked, and any frame out of this table (unknown op,
 * missing, repeated or extra field, bad size or charset, a reused request id, more requests
 * than the bounds below) ends it. */
enum idg_web_op {
	IDG_WEB_START = 1,	/* parent: TLS_CERT, TLS_KEY, METADATA and the limits */
	IDG_WEB_READY = 2,	/* child: (nothing) */
	IDG_WEB_LOGIN_OPEN = 3,	/* child: REQID, CODE, SRC */
	IDG_WEB_ACS = 4,	/* child: REQID, SAML_RESPONSE, SRC */
	IDG_WEB_REPLY = 5,	/* parent: REQID, HTTP, PAGE, [LOCATION] */
};

enum idg_web_tag {
	IDG_WT_OP = 1,		/* u32 */
	IDG_WT_REQID = 2,	/* u64, nonzero; chosen by the child */
	/* START */
	IDG_WT_TLS_CERT = 10,	/* str: PEM */
	IDG_WT_TLS_KEY = 11,	/* str: PEM (a secret) */
	IDG_WT_METADATA = 12,	/* str: the SP metadata document GET /saml/metadata serves */
	IDG_WT_MAX_CONN = 13,	/* u32: open connections at most */
	IDG_WT_MAX_PER_IP = 14,	/* u32: open connections from one address at most */
	IDG_WT_REQUEST_MS = 15,	/* u32: the whole of one request (headers, body, answer) */
	IDG_WT_BODY_MAX = 16,	/* u32: a POST body's bytes at most */
	IDG_WT_ACS_RATE = 17,	/* u32: POST /saml/acs per source address and minute */
	IDG_WT_ACS_MAX = 18,	/* u32: ACS requests with the parent at once */
	IDG_WT_B64_MAX = 19,	/* u32: SAMLResponse base64 characters at most */
	/* LOGIN_OPEN and ACS */
	IDG_WT_CODE = 20,	/* str: IDG_WEB_CODE_LEN lower-case hex digits */
	IDG_WT_SRC = 21,	/* str: the browser's address, numeric (inet_ntop) */
	IDG_WT_SAML_RESPONSE = 22,	/* str: base64 (A-Z a-z 0-9 + / =), whitespace removed */
	/* REPLY */
	IDG_WT_HTTP = 30,	/* u32: the status */
	IDG_WT_PAGE = 31,	/* str: the text/plain page */
	IDG_WT_LOCATION = 32,	/* str: a redirect (303) */
};

#define IDG_WEB_CODE_LEN 32
#define IDG_WEB_SRC_MAX 46		/* INET6_ADDRSTRLEN */
#define IDG_WEB_PAGE_MAX 600
#define IDG_WEB_LOCATION_MAX 16384
#define IDG_WEB_OPEN_MAX 16		/* LOGIN_OPEN requests with the parent at once */
#define IDG_WEB_MSG_MAX (1024u * 1024u)	/* any frame's body */

#endif
