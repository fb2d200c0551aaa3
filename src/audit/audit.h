/* The audit log: one JSON object per line, appended, never rewritten. Every change and
 * every denial is recorded with who asked, what, on what, the result and the reason. */
#ifndef IDG_AUDIT_AUDIT_H
#define IDG_AUDIT_AUDIT_H

#include <stdbool.h>
#include <sys/types.h>

struct idg_audit;

struct idg_audit_rec {
	const char *caller;	/* principal, or "uid:N" for a local user without one */
	long uid;		/* the peer's uid (SO_PEERCRED), -1 when not a socket caller */
	long pid;		/* the peer's pid, -1 when unknown */
	const char *action;	/* e.g. "auth.set", "repo.create" */
	const char *target;	/* e.g. "REPO default/testinput" */
	const char *result;	/* "ok", "denied", "error" */
	const char *reason;	/* short text; never a secret */
	const char *detail;	/* optional: what changed, e.g. "user:alice=[repoReader]" */
};

/* Open (create 0600, append, no symlinks) path; "-" or "" means stderr-less "off". */
int idg_audit_open(const char *path, struct idg_audit **out);
/* Reopen after log rotation (SIGHUP). On failure the old file stays in use. */
int idg_audit_reopen(struct idg_audit *a);
void idg_audit_close(struct idg_audit *a);
/* Append one record as one line, whole or not at all: a record the disk had room for only
 * in part is truncated away, or the next record starts on a new line when it cannot
 * be. 0; IDG_ERR_IO when it was not written (counted, logged at most once a minute, and an
 * "audit.lost" record says how many once records are written again); IDG_ERR_TOOBIG. */
int idg_audit_write(struct idg_audit *a, const struct idg_audit_rec *r);

#endif
