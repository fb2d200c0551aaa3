/* The state store: changes as lists of mutations, applied atomically; load replays them. */
#ifndef IDG_STORE_STORE_H
#define IDG_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum idg_mut_kind {
	IDG_MUT_META_SET,	/* a = key, b = value */
	IDG_MUT_ROLE_ADD,	/* a = name, list = permission names, u = resource type bits, t1 = created */
	IDG_MUT_ROLE_DEL,	/* a = name */
	IDG_MUT_PROJECT_ADD,	/* a = name, b = creator, c = description, t1 = created */
	IDG_MUT_PROJECT_DEL,	/* a = name (and its bindings) */
	IDG_MUT_REPO_ADD,	/* a = "PROJECT/REPO", b = creator, c = description, t1 = created */
	IDG_MUT_REPO_DEL,	/* a = "PROJECT/REPO" (and its bindings) */
	IDG_MUT_GROUP_ADD,	/* a = name (without group:), b = source "local"|"idp", t1 = created,
				 * u = gid (0: none, not in the POSIX view) */
	IDG_MUT_GROUP_DEL,	/* a = name */
	IDG_MUT_MEMBER_ADD,	/* a = group name, b = member subject */
	IDG_MUT_MEMBER_DEL,	/* a = group name, b = member subject */
	IDG_MUT_BINDING_SET,	/* rtype, a = resource name ("" cluster), b = subject, list = roles (empty: remove) */
	IDG_MUT_TOKEN_ADD,	/* a = token hash (hex), b = subject, t1 = created, t2 = expires (0: never) */
	IDG_MUT_TOKEN_DEL,	/* a = token hash */
	IDG_MUT_PIPELINE_ADD,	/* a = "PROJECT/NAME", b = output "PROJECT/REPO", c = creator, list = inputs, t1 = created */
	IDG_MUT_PIPELINE_DEL,	/* a = "PROJECT/NAME" */
	IDG_MUT_AUTH_RESET,	/* every binding, token and membership goes (deactivation) */
	IDG_MUT_USER_ADD,	/* a = POSIX name, b = principal, c = issuer, d = subject (both NULL:
				 * pre-provisioned, not pinned yet), e = gecos, u = uid (0: none yet),
				 * t1 = created */
	IDG_MUT_USER_DEL,	/* a = POSIX name */
	IDG_MUT_USER_PIN,	/* a = POSIX name, c = issuer, d = subject: the first login */
	IDG_MUT_USER_UID,	/* a = POSIX name, u = uid (given once, never changed) */
	IDG_MUT_USER_GECOS,	/* a = POSIX name, e = gecos */
	IDG_MUT_GROUP_GID,	/* a = group name, u = gid (given once, never changed) */
	IDG_MUT_ID_HOLD,	/* u = id, a = name, b = kind "user"|"group"|"posix-group", t1 = since:
				 * an id kept from everyone else (a deleted user's or group's, or a
				 * POSIX-only group's such as [idmap] users_group) */
	IDG_MUT_ID_RELEASE,	/* u = id: the hold ends (its name takes the id back) */
	IDG_MUT_OFFLINE_SET,	/* a = POSIX name, b = offline verifier (a salted slow hash of the
				 * password, daemon/offline.h), t1 = the online login it came from:
				 * the user's one offline credential, replaced */
	IDG_MUT_OFFLINE_DEL,	/* a = POSIX name: its offline credential goes (a user's deletion
				 * takes it too) */
	IDG_MUT_USER_EXPECT,	/* a = POSIX name, b = the IdP username, c = the subject (either
				 * NULL: not required): the IdP identity a pre-provisioned name
				 * is meant for; a login pins it only when it matches */
	IDG_MUT_USER_UNPIN,	/* a = POSIX name: its pin (issuer, subject) goes; with a
				 * USER_EXPECT in the same change it is pre-provisioned again
				 * ('idgatectl user unpin') */
};

struct idg_mut {
	enum idg_mut_kind kind;
	int rtype;		/* enum idg_rtype */
	const char *a, *b, *c, *d, *e;
	const char *const *list;
	size_t nlist;
	unsigned u;
	int64_t t1, t2;
};

/* A change owns its mutations and copies of every string in them. */
struct idg_change {
	struct idg_mut *m;
	size_t n, cap;
	char **strs;
	size_t nstrs, capstrs;
	int err;		/* first allocation failure; the change is then unusable */
};

void idg_change_init(struct idg_change *c);
void idg_change_free(struct idg_change *c);
/* Append a mutation: its strings and list are copied. Errors are remembered in c->err. */
void idg_change_add(struct idg_change *c, const struct idg_mut *m);

struct idg_store;

struct idg_store_conf {
	const char *path;	/* SQLite database file */
	bool sync_full;		/* synchronous=FULL (survives power loss) vs NORMAL */
};

/* Called for each stored item, in dependency order; a negative return stops the load. */
typedef int (*idg_store_row_fn)(void *ctx, const struct idg_mut *m);

struct idg_store_ops {
	const char *name;
	int (*open)(const struct idg_store_conf *conf, struct idg_store **out, char *err, size_t errlen);
	void (*close)(struct idg_store *s);
	/* All of c or nothing. */
	int (*apply)(struct idg_store *s, const struct idg_change *c, char *err, size_t errlen);
	int (*load)(struct idg_store *s, idg_store_row_fn fn, void *ctx, char *err, size_t errlen);
	/* The schema version of the open store. */
	int (*version)(struct idg_store *s);
};

extern const struct idg_store_ops idg_store_sqlite;

#define IDG_STORE_SCHEMA_VERSION 5

#endif
