/* idgated's state: the role engine's model plus the catalog around it (creation times,
 * groups, robot tokens, pipelines), kept equal to the store. A change is written to the
 * store first, in one transaction, and applied to memory only once it is committed. */
#ifndef IDG_DAEMON_STATE_H
#define IDG_DAEMON_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "idmap/ids.h"
#include "rbac/hash.h"
#include "rbac/rbac.h"
#include "store/store.h"

struct idg_resmeta {
	int64_t created;
	char *creator;
	char *description;
};

struct idg_group {
	char *name;		/* without "group:" */
	bool idp;		/* from the identity provider: members set at login only */
	uint32_t gid;		/* 0: none (not in the POSIX view) */
	int64_t created;
	bool live;
};

struct idg_token {
	char hash[65];		/* hex SHA-256 of the token */
	char *subject;
	int64_t created;
	int64_t expires;	/* 0: never */
	bool live;
};

/* An IdP identity known to the node: its POSIX name is pinned to the (issuer, subject) that
 * first logged in with it. A pre-provisioned user has no pin (iss, sub, key NULL) until then. */
struct idg_user {
	char *name;		/* POSIX login name */
	char *principal;	/* user:NAME */
	char *iss, *sub;	/* NULL: not pinned yet */
	char *key;		/* iss "\n" sub: the key of usersub; NULL when not pinned */
	char *gecos;		/* never NULL */
	char *want_user;	/* the IdP username a login must have to pin it, or NULL */
	char *want_sub;		/* the subject a login must have to pin it, or NULL (both NULL:
				 * the IdP username must be the name itself) */
	uint32_t uid;		/* 0: none yet (a row from before schema 3, until start-up gives one) */
	int64_t created;
	char *offline;		/* the offline credential's verifier (daemon/offline.h), or NULL;
				 * wiped when freed, never logged */
	int64_t offline_at;	/* the online login it was made at */
	bool live;
};

/* An id nobody else may take: a deleted user's or group's (its name may take it back), or a
 * POSIX-only group's (IDG_HOLD_POSIX: [idmap] users_group, a named primary group). */
struct idg_hold {
	uint32_t id;
	char *key;		/* kind letter ":" name: the key of holdmap */
	const char *name;	/* inside key */
	char kind;		/* IDG_HOLD_* */
	int64_t created;
	bool live;
};

#define IDG_HOLD_USER 'u'
#define IDG_HOLD_GROUP 'g'
#define IDG_HOLD_POSIX 'p'

/* Who holds an id in idg_state.ids: the owner's kind in the top 2 bits, its index below. */
enum idg_id_owner { IDG_IDO_USER = 0, IDG_IDO_GROUP = 1, IDG_IDO_HOLD = 2 };
#define IDG_IDO_KIND(v) ((enum idg_id_owner)((v) >> 30))
#define IDG_IDO_INDEX(v) ((v) & 0x3fffffffu)

struct idg_pipeline {
	char *name;		/* PROJECT/NAME */
	char *output;		/* PROJECT/REPO */
	char *creator;
	char **inputs;
	size_t ninputs;
	int64_t created;
	bool live;
};

struct idg_state {
	struct idg_rbac *rbac;
	const struct idg_store_ops *ops;
	struct idg_store *store;
	struct idg_store_conf store_conf;
	uint8_t seed[16];

	struct idg_resmeta *rmeta;	/* by resource id */
	size_t nrmeta;

	struct idg_group *groups;
	size_t ngroups, capgroups;
	struct idg_strmap groupmap;

	struct idg_token *tokens;
	size_t ntokens, captokens;
	struct idg_strmap tokenmap;

	struct idg_pipeline *pipes;
	size_t npipes, cappipes;
	struct idg_strmap pipemap;

	struct idg_user *users;
	size_t nusers, capusers;
	struct idg_strmap usermap;	/* POSIX name -> index */
	struct idg_strmap usersub;	/* iss "\n" sub -> index */

	struct idg_hold *holds;
	size_t nholds, capholds;
	struct idg_strmap holdmap;	/* kind letter ":" name -> index */

	/* Every uid and gid given and every held id: one id space. */
	struct idg_idtab ids;

	char *jwks_json;	/* the IdP's signing keys as last fetched (meta IDG_META_JWKS) */

	/* Called after every committed change (and after a reload), with the change. */
	void (*on_commit)(void *ctx, const struct idg_change *c);
	void *on_commit_ctx;

	bool activated;
	bool activation_known;	/* the store has said yes or no */
	bool fresh;		/* created by this open: activation defaults were written */
};

#define IDG_META_JWKS "idp.jwks"

struct idg_user *idg_state_user(const struct idg_state *st, const char *posix_name);
struct idg_user *idg_state_user_by_sub(const struct idg_state *st, const char *iss,
    const char *sub);

/* Open the store (migrating it), load everything; a new store gets the activation defaults. */
int idg_state_open(const struct idg_store_ops *ops, const struct idg_store_conf *conf,
    struct idg_state **out, char *err, size_t errlen);
void idg_state_close(struct idg_state *st);

/* Commit c to the store, then apply it to memory. */
int idg_state_commit(struct idg_state *st, const struct idg_change *c, char *err, size_t errlen);

/* The mutations that activation writes (spec: root clusterAdmin is built in;
 * allClusterUsers projectCreator on the cluster; project default with allClusterUsers
 * projectWriter). */
void idg_state_activation(const struct idg_state *st, struct idg_change *c, int64_t now);

struct idg_group *idg_state_group(const struct idg_state *st, const char *name);
/* The live hold of that kind and name, or NULL. */
struct idg_hold *idg_state_hold(const struct idg_state *st, char kind, const char *name);
/* The store's name for a hold kind ("user", "group", "posix-group"), and back (0: unknown). */
const char *idg_hold_kind_name(char kind);
char idg_hold_kind(const char *name);
struct idg_token *idg_state_token(const struct idg_state *st, const char *hash);
struct idg_pipeline *idg_state_pipeline(const struct idg_state *st, const char *name);

#endif
