/* idgated's shared context: the daemon, a caller, a request and its reply. */
#ifndef IDG_DAEMON_DAEMON_H
#define IDG_DAEMON_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "audit/audit.h"
#include "daemon/config.h"
#include "daemon/state.h"
#include "proto/api.h"
#include "proto/wire.h"

struct idg_server;

struct idg_daemon {
	struct idg_config cfg;
	const char *config_path;
	bool foreground;
	struct idg_state *st;
	struct idg_audit *audit;
	struct idg_server *srv;
	int data_fd;		/* the data root, opened O_DIRECTORY|O_NOFOLLOW; -1 until needed */
	struct idg_connector *conn;	/* the IdP connector child; NULL: no IdP */
	struct idg_logins *logins;	/* device logins in progress (api_login.c) */
	struct idg_saml_sp *saml;	/* the SAML SP endpoint and its logins; NULL: none */
	struct idg_offline *offline;	/* the offline credentials' worker (offline.c) */
	struct idg_dir *dir;		/* the POSIX directory (directory.c) */
	struct idg_enforcer *enf;	/* repo ACLs (enforce.c); NULL until started */
	bool log_stderr;	/* logs go to stderr (else syslog); the child follows */
};

/* Who is asking. */
struct idg_caller {
	uid_t uid;
	pid_t pid;
	idg_pid principal;	/* IDG_PID_NONE: not interned yet (no bindings) or anonymous */
	char name[IDG_SUBJECT_MAX + 1];	/* the principal, or "uid:N" when anonymous */
	bool anonymous;		/* a local uid with no idgate identity: no permissions */
	bool root;		/* uid 0 acting as itself */
	bool via_token;		/* authenticated by a robot token */
	bool pam;		/* came in on pam.sock */
};

struct idg_req {
	enum idg_op op;
	uint64_t conn_serial;	/* for idg_server_complete */
	const struct idg_msgview *v;
	struct idg_caller who;
	int fd;			/* a passed fd, or -1; a handler that keeps it sets this to -1 */
};

/* A handler that answers later (it waits for the IdP connector) sets this status; the server
 * then takes no further request from that connection until idg_server_complete. */
#define IDG_ST_DEFER 0xdefe7u

struct idg_reply {
	uint32_t status;	/* IDG_ST_*, or IDG_ST_DEFER */
	char error[2048];	/* short reason when status != OK */
	cJSON *json;		/* the result, or NULL */
	int fd;			/* an fd to pass back, or -1 (closed after sending) */
	struct {		/* a passwd entry's fields (IDG_OP_NSS_PROVISIONAL) */
		bool set;
		uint32_t uid, gid;
		char *gecos, *home, *shell;	/* malloc'd; freed with the reply */
	} pw;
	struct idg_msg *fields;	/* more reply fields for pam.sock's module (which reads no
				 * JSON), sent with any status; NULL: none. Freed with the reply */
};

/* Free what a reply holds (JSON, passwd fields, more fields, an fd); its status stays. */
void idg_reply_clear(struct idg_reply *rp);

/* The request table: api.c. Returns false for an unknown op. */
bool idg_api_dispatch(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp);
/* Who the caller is: root, a robot by token, root acting as someone, or anonymous. */
void idg_api_identify(struct idg_daemon *d, struct idg_req *rq, struct idg_reply *rp);

/* At start-up, make the data root agree with the store: every repo has its directory, a
 * directory whose creation a crash interrupted is finished or dropped, and a directory without
 * a repo is moved aside (never deleted). api_files.c */
int idg_repo_dirs_reconcile(struct idg_daemon *d);

/* server.c */
int idg_server_new(struct idg_daemon *d, struct idg_server **out, char *err, size_t errlen);
/* Run until SIGTERM/SIGINT; SIGHUP calls reload. */
int idg_server_run(struct idg_server *s, void (*reload)(struct idg_daemon *d));
void idg_server_free(struct idg_server *s);
/* Answer a deferred request; false when its connection has gone. */
bool idg_server_complete(struct idg_server *s, uint64_t conn_serial, struct idg_reply *rp);
/* Is the caller of a deferred request still there to be answered? false when its
 * connection has closed or hung up (the caller gave up waiting). */
bool idg_server_waiting(const struct idg_server *s, uint64_t conn_serial);
struct idg_watch;
/* Call cb when fd is readable (or hangs up); unwatch before closing fd. */
int idg_server_watch(struct idg_server *s, int fd, void (*cb)(void *ctx, uint32_t events),
    void *ctx, struct idg_watch **out);
void idg_server_unwatch(struct idg_server *s, struct idg_watch *w);
void idg_server_set_tick(struct idg_server *s, void (*tick)(struct idg_daemon *d, int64_t now));
/* cb runs when a pam.sock connection closes (serial: its conn_serial), for the logins it
 * held open. It may complete other connections' deferred replies. */
void idg_server_on_pam_close(struct idg_server *s, void (*cb)(struct idg_daemon *d,
    uint64_t serial));
/* A line about a request that a local user can repeat at will (a refusal): at most one per
 * uid every few seconds, then a count of the others. */
void idg_server_log_peer(struct idg_server *s, uid_t uid, int prio, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
