/* The requests idgated accepts on api.sock, their fields, and the reply statuses.
 * The daemon serves a fixed table of these; anything else is a protocol error. */
#ifndef IDG_PROTO_API_H
#define IDG_PROTO_API_H

#define IDG_API_VERSION 1

/* Operations (field IDG_T_OP, u32). Numbers are part of the protocol: never reuse one. */
enum idg_op {
	IDG_OP_PING = 1,
	IDG_OP_WHOAMI = 2,
	IDG_OP_ACTIVATE = 3,
	IDG_OP_DEACTIVATE = 4,
	IDG_OP_SET = 10,		/* replace SUBJECT's roles on RESOURCE */
	IDG_OP_GET = 11,		/* bindings on RESOURCE */
	IDG_OP_CHECK = 12,		/* SUBJECT's roles and permissions on RESOURCE, or one PERM */
	IDG_OP_EXPLAIN = 13,
	IDG_OP_ROLES_FOR_PERM = 14,
	IDG_OP_GET_GROUPS = 15,
	IDG_OP_ROBOT_TOKEN = 16,
	IDG_OP_REVOKE = 17,
	IDG_OP_ASSIGN_ROLE = 18,	/* add one role (det habit) */
	IDG_OP_UNASSIGN_ROLE = 19,
	IDG_OP_MY_PERMISSIONS = 20,
	IDG_OP_SUBJECT_ROLES = 21,	/* every binding of one subject */
	IDG_OP_ROLE_LIST = 30,
	IDG_OP_ROLE_DESCRIBE = 31,
	IDG_OP_ROLE_CREATE = 32,
	IDG_OP_ROLE_DELETE = 33,
	IDG_OP_PROJECT_CREATE = 40,
	IDG_OP_PROJECT_DELETE = 41,
	IDG_OP_PROJECT_LIST = 42,
	IDG_OP_REPO_CREATE = 43,
	IDG_OP_REPO_DELETE = 44,
	IDG_OP_REPO_LIST = 45,
	IDG_OP_PIPELINE_CREATE = 50,
	IDG_OP_PIPELINE_UPDATE = 51,
	IDG_OP_PIPELINE_DELETE = 52,
	IDG_OP_PIPELINE_LIST = 53,
	IDG_OP_GROUP_CREATE = 60,
	IDG_OP_GROUP_DELETE = 61,
	IDG_OP_GROUP_ADD = 62,
	IDG_OP_GROUP_REMOVE = 63,
	IDG_OP_GROUP_LIST = 64,
	IDG_OP_GROUP_DESCRIBE = 65,
	IDG_OP_GROUP_RENAME = 66,
	IDG_OP_FILE_PUT = 70,		/* the request passes a readable fd; the daemon copies it in */
	/* 71 is retired */
	IDG_OP_FILE_GET = 72,		/* the reply passes a read-only fd */
	IDG_OP_FILE_LIST = 73,
	IDG_OP_FILE_DELETE = 74,
	IDG_OP_LOGIN = 80,		/* root: METHOD password|token, NAME, SECRET -> identity */
	IDG_OP_DEVICE_START = 81,	/* root: -> HANDLE, user code, verification URI */
	IDG_OP_DEVICE_WAIT = 82,	/* root: HANDLE [NAME] -> identity, or pending (ask again) */
	IDG_OP_DEVICE_CANCEL = 83,	/* root: HANDLE */
	IDG_OP_USER_ADD = 84,		/* NAME [MEMBER (group) ...] [DESC (gecos)]: pre-provision */
	IDG_OP_USER_DELETE = 85,	/* NAME */
	IDG_OP_USER_LIST = 86,		/* -> JSON */
	IDG_OP_USER_UNPIN = 87,		/* root: NAME [IDP_USER] [SUBJECT]: pre-provisioned again */
	/* pam.sock only, from libnss_idgate.so.2 in sshd: NAME -> a provisional passwd entry
	 * (UID, GID, GECOS, HOME, SHELL fields), or IDG_ST_INPUT when there is none. */
	IDG_OP_NSS_PROVISIONAL = 90,
	/* pam.sock only, from pam_idgate.so. Every request names the PAM service (SERVICE) and
	 * the user exactly as PAM_USER holds it (NAME; never rewritten); RHOST when PAM has one.
	 * Replies: OK; UNKNOWN when idgate has nothing to say about NAME (a local account, a
	 * name that cannot be an IdP user: the module answers PAM_USER_UNKNOWN / PAM_IGNORE so
	 * pam_unix decides); DENIED with a short reason (ERROR) the user may see; UNAVAIL when
	 * the IdP cannot be reached and no offline credential applies; PENDING (device). */
	IDG_OP_PAM_AUTH = 91,		/* NAME SERVICE [RHOST] METHOD password|token SECRET ->
					 * OK: the login is done (offline credentials are
					 * kept or used inside idgated) */
	IDG_OP_PAM_DEVICE_START = 92,	/* NAME SERVICE [RHOST] -> HANDLE USER_CODE VERIFY_URI
					 * [VERIFY_URI_COMPLETE] INTERVAL EXPIRES */
	IDG_OP_PAM_DEVICE_WAIT = 93,	/* NAME HANDLE -> OK | PENDING | DENIED (denied, expired)
					 * ...; answers within about INTERVAL seconds */
	IDG_OP_PAM_DEVICE_CANCEL = 94,	/* NAME HANDLE */
	IDG_OP_PAM_ACCOUNT = 95,	/* NAME SERVICE [RHOST] -> OK, or DENIED with the short
					 * reason (the audit log gets the whole one) */
	IDG_OP_PAM_SESSION_OPEN = 96,	/* NAME SERVICE [RHOST] [PID] -> OK (the home directory
					 * exists: created on the first login) */
	IDG_OP_PAM_SESSION_CLOSE = 97,	/* NAME SERVICE [RHOST] [PID] */
	IDG_OP_PAM_SAML_START = 98,	/* NAME SERVICE [RHOST] -> HANDLE USER_CODE (the one-time
					 * code) VERIFY_URI (the node's login link with the code)
					 * INTERVAL EXPIRES; replies as PAM_DEVICE_START's */
	IDG_OP_PAM_SAML_WAIT = 99,	/* NAME HANDLE -> OK | PENDING | DENIED (refused, expired):
					 * answers at once; ask again after INTERVAL */
	IDG_OP_PAM_SAML_CANCEL = 100,	/* NAME HANDLE */
	/* api.sock, root: idgatectl login test --saml. */
	IDG_OP_SAML_START = 101,	/* NAME [FLAGS record] -> handle, verification_uri (the
					 * one-time link), expires_in, interval */
	IDG_OP_SAML_WAIT = 102,		/* HANDLE -> identity, or PENDING (ask again after
					 * interval), DENIED, UNAVAIL (the sign-in could not start) */
	IDG_OP_SAML_CANCEL = 103,	/* HANDLE */
};

/* IDG_T_METHOD values. */
enum idg_login_method {
	IDG_LOGIN_PASSWORD = 1,
	IDG_LOGIN_TOKEN = 2,
};

/* Field tags. */
enum idg_tag {
	IDG_T_OP = 1,		/* u32 */
	IDG_T_TOKEN = 2,	/* str: robot token authenticating the caller */
	IDG_T_AS = 3,		/* str: subject root acts as (root only) */
	IDG_T_RTYPE = 4,	/* str: cluster | project | repo */
	IDG_T_RNAME = 5,	/* str */
	IDG_T_SUBJECT = 6,	/* str */
	IDG_T_ROLE = 7,		/* str, repeated */
	IDG_T_PERM = 8,		/* str, repeated */
	IDG_T_NAME = 9,		/* str */
	IDG_T_NEWNAME = 10,	/* str */
	IDG_T_MEMBER = 11,	/* str, repeated */
	IDG_T_TTL = 12,		/* u64 seconds */
	IDG_T_INPUT = 13,	/* str, repeated */
	IDG_T_OUTPUT = 14,	/* str */
	IDG_T_PATH = 15,	/* str */
	/* 16 is retired */
	IDG_T_FLAGS = 17,	/* u32, IDG_F_* */
	IDG_T_DESC = 18,	/* str */
	IDG_T_RTYPES = 19,	/* str, repeated: resource types a custom role may be bound on */
	IDG_T_METHOD = 20,	/* u32, enum idg_login_method */
	IDG_T_SECRET = 21,	/* str: a password or a token (never logged) */
	IDG_T_HANDLE = 22,	/* u64: a device login in progress */
	IDG_T_UID = 23,		/* u32 */
	IDG_T_GID = 24,		/* u32 */
	IDG_T_GECOS = 25,	/* str */
	IDG_T_HOME = 26,	/* str */
	IDG_T_SHELL = 27,	/* str */
	IDG_T_SERVICE = 28,	/* str: the PAM service (sshd, login, ...) */
	IDG_T_RHOST = 29,	/* str: PAM_RHOST, the remote host */
	IDG_T_PID = 30,		/* u32: the process the session belongs to */
	IDG_T_USER_CODE = 31,	/* str: a device login's user code */
	IDG_T_VERIFY_URI = 32,	/* str: where the user enters it */
	IDG_T_VERIFY_URI_COMPLETE = 33,	/* str: the same URL with the code in it */
	IDG_T_INTERVAL = 34,	/* u32 seconds: how often to ask again */
	IDG_T_EXPIRES = 35,	/* u32 seconds from now */
	IDG_T_IDP_USER = 36,	/* str: the IdP username a pre-provisioned user is meant for */

	IDG_T_STATUS = 100,	/* reply: u32 IDG_ST_* */
	IDG_T_ERROR = 101,	/* reply: str, a short reason */
	IDG_T_JSON = 102,	/* reply: str, the result as JSON */
};

enum idg_flag {
	IDG_F_YES = 1u << 0,	/* confirmation for destructive operations */
	IDG_F_FORCE = 1u << 1,
	IDG_F_RECORD = 1u << 2,	/* login test: store what the login yields */
};

/* Reply statuses; idgatectl's exit code follows them (see idgatectl(1)). */
enum idg_status {
	IDG_ST_OK = 0,
	IDG_ST_DENIED = 1,	/* the role engine refused */
	IDG_ST_INPUT = 2,	/* bad request: unknown name, malformed input, conflict */
	IDG_ST_ERROR = 3,	/* the daemon failed: store, I/O, internal */
	IDG_ST_UNAVAIL = 4,	/* a service idgated needs (the IdP) cannot be reached */
	IDG_ST_PENDING = 5,	/* not finished yet (a device login): ask again */
	IDG_ST_UNKNOWN = 6,	/* pam.sock: not an IdP user here (PAM_USER_UNKNOWN) */
};

struct idg_msgview;

/* Every field of a message has a known tag and the shape its tag requires (a string with one
 * NUL at its end, or a 4- or 8-byte number): 0, or IDG_ERR_PROTO. */
int idg_api_check_fields(const struct idg_msgview *v);

#endif
