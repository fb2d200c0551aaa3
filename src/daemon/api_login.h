/* IdP logins (api_login.c): the request handlers of 'idgatectl login test', their once-a-second
 * work, and what PAM's requests (api_pam.c) share with them: accepting an identity the
 * connector returned, and device logins. */
#ifndef IDG_DAEMON_API_LOGIN_H
#define IDG_DAEMON_API_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/daemon.h"
#include "idmap/idmap.h"

void api_login(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_device_start(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_device_wait(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_device_cancel(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_saml_start(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_saml_wait(struct idg_daemon *, struct idg_req *, struct idg_reply *);
void api_saml_cancel(struct idg_daemon *, struct idg_req *, struct idg_reply *);

/* Device polls that are due, waiters whose time slice ran out, expired device logins. */
void idg_logins_tick(struct idg_daemon *d, int64_t now_ms);
/* The pam.sock connection serial closed: the PAM device login it started (and kept open)
 * is forgotten — its process is gone, nobody will wait for it. */
void idg_logins_conn_closed(struct idg_daemon *d, uint64_t serial);
void idg_logins_free(struct idg_daemon *d);

#define IDG_LOGIN_DETAIL_MAX 512

/* Audit a deferred login's outcome as what its caller gets: when the caller of conn_serial
 * (0: answered synchronously, so present) has gone, nobody got it, and the record says so
 * (result "abandoned", the outcome it would have had in the reason) instead of result. */
void idg_login_audit(struct idg_daemon *d, const struct idg_req *rq, uint64_t conn_serial,
    const char *target, const char *result, const char *reason, const char *detail);

/* A login waiting for the connector: what the reply and the audit need afterwards. */
struct idg_login_req {
	uint64_t conn_serial;
	enum idg_op op;
	struct idg_caller who;
	char expect[IDG_POSIX_NAME_MAX + 1];	/* the login name the identity must map to, or "" */
	char method[16];
	char detail[IDG_LOGIN_DETAIL_MAX];	/* the audit record's detail ("": the method) */
	bool pam;		/* for pam.sock: replies carry wire fields, never JSON; a name not
				 * pinned yet is only kept pending until PAM account allows it */
	bool record;		/* idgatectl login test --record: store what the login yields
				 * (without it a test changes nothing) */
};

/* Map and check the identity the connector returned in v: the POSIX name (it must be
 * lr->expect when that is set; an e-mail address folds only for [idmap] fold_domains), never
 * a local account, the pin, what a pre-provisioned name requires (its IdP username or
 * subject), the uid, the IdP groups replacing the user's old ones. Then, by who asks:
 *  - PAM (lr->pam), a user pinned to this identity already: stored at once, in one change;
 *  - PAM, a name not pinned yet (new or pre-provisioned): nothing is stored; the identity
 *    is kept pending (idg_login_pending_*) until PAM account allows the login;
 *  - idgatectl login test: nothing is stored, unless lr->record.
 * rp is OK with JSON describing the identity, or a refusal with its reason; target gets the
 * principal. */
void idg_login_accept(struct idg_daemon *d, const struct idg_login_req *lr,
    const struct idg_msgview *v, struct idg_reply *rp, char *target, size_t tlen);

/* A login PAM auth accepted for a name not pinned yet, waiting for PAM account (sshd runs
 * both in one process, right after each other): in memory only, for a short time. */
struct idg_pending;

#define IDG_PENDING_GROUPS_MAX 256

/* Take the pending login of name authenticated by process pid (when the login knows its
 * process) from origin (the account request's "service=S[ rhost=H]" audit detail), the
 * newest if several; NULL: none. Taken out: one account step per authentication. */
struct idg_pending *idg_login_pending_take(struct idg_daemon *d, const char *name, pid_t pid,
    const char *origin);
/* The principal the login would have (the user's own when the name is pre-provisioned or
 * pinned to this identity, else user:USERNAME) and
 * the group principals ("group:G") it would be a member of through its IdP groups, for the
 * login rule: a group that is not a role-engine principal yet is left out (no binding can
 * name it). false when the identity no longer maps (why). */
bool idg_login_pending_subjects(struct idg_daemon *d, const struct idg_pending *p,
    char *principal, size_t plen, idg_pid *groups, size_t *ngroups, char *why, size_t whylen);
/* Store the pending login (pin, uid, groups), every check of idg_login_accept made again
 * against the state as it is now. rp: OK, or the refusal; target gets the principal. */
void idg_login_pending_commit(struct idg_daemon *d, const struct idg_pending *p,
    struct idg_reply *rp, char *target, size_t tlen);
void idg_login_pending_free(struct idg_pending *p);

/* The reply status for an IdP or connector error: DENIED for a refused credential, UNAVAIL
 * for an unreachable IdP (IDG_ERR_UNAVAIL, IDG_ERR_TIMEOUT), ERROR otherwise. */
uint32_t idg_login_status(int err);

/* The login handle a WAIT or CANCEL names (nonzero), or an INPUT failure in rp naming the
 * kind of login (what: "device", "SAML"). */
bool idg_login_handle_arg(const struct idg_req *rq, struct idg_reply *rp, const char *what,
    uint64_t *h);

/* How long one request may wait for the connector. */
int64_t idg_login_idp_wait_ms(const struct idg_daemon *d);

/* A pam.sock success: no JSON, the user's passwd fields (UID GID GECOS HOME SHELL). */
bool idg_login_pam_reply(struct idg_daemon *d, const char *name, struct idg_reply *rp);

/* Device logins for both sockets. pam: the login is NAME's (expect), only PAM_DEVICE_* may
 * use its handle, replies carry wire fields, and a wait answers PENDING after each poll the
 * user has not decided (so about once an interval) instead of after 20 seconds; it lives only
 * while the connection that started it stays open (the PAM module keeps it), and at most
 * IDG_DEVICE_PER_NAME per name and IDG_DEVICE_PER_SOURCE per rhost are in progress. detail
 * goes to the audit records. A wait never outlives the device code. */
void idg_device_start(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    const char *expect, const char *rhost, const char *detail, bool pam);

#define IDG_DEVICE_PER_NAME 3	/* PAM device logins in progress for one name at most */
#define IDG_DEVICE_PER_SOURCE 8	/* and from one remote host (PAM_RHOST) */
void idg_device_wait(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    uint64_t handle, const char *name, bool pam);
void idg_device_cancel(struct idg_daemon *d, const struct idg_req *rq, struct idg_reply *rp,
    uint64_t handle, const char *name, bool pam);

#endif
