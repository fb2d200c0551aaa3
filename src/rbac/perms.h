/* Permissions: names and stable numbers from the spec, dense indexes, and 128-bit sets. */
#ifndef IDG_RBAC_PERMS_H
#define IDG_RBAC_PERMS_H

#include <stdbool.h>
#include <stdint.h>

#define IDG_PERM_UNKNOWN_NUMBER 0
#define IDG_PERM_MAX_NUMBER 600

/* Numbers of the permissions idgate's own operations check (spec/roles.md). */
enum idg_perm_number {
	IDG_P_CLUSTER_MODIFY_BINDINGS = 100,
	IDG_P_CLUSTER_GET_BINDINGS = 101,
	IDG_P_CLUSTER_AUTH_ACTIVATE = 102,
	IDG_P_CLUSTER_AUTH_DEACTIVATE = 103,
	IDG_P_CLUSTER_AUTH_GET_CONFIG = 104,
	IDG_P_CLUSTER_AUTH_SET_CONFIG = 105,
	IDG_P_CLUSTER_AUTH_MODIFY_GROUP_MEMBERS = 109,
	IDG_P_CLUSTER_AUTH_GET_GROUPS = 110,
	IDG_P_CLUSTER_AUTH_GET_GROUP_USERS = 111,
	IDG_P_CLUSTER_AUTH_GET_ROBOT_TOKEN = 139,
	IDG_P_CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL = 141,
	IDG_P_CLUSTER_AUTH_REVOKE_USER_TOKENS = 142,
	IDG_P_REPO_READ = 200,
	IDG_P_REPO_WRITE = 201,
	IDG_P_REPO_MODIFY_BINDINGS = 202,
	IDG_P_REPO_DELETE = 203,
	IDG_P_REPO_INSPECT_FILE = 210,
	IDG_P_REPO_LIST_FILE = 211,
	IDG_P_REPO_ADD_PIPELINE_READER = 212,
	IDG_P_REPO_REMOVE_PIPELINE_READER = 213,
	IDG_P_REPO_ADD_PIPELINE_WRITER = 214,
	IDG_P_PROJECT_CREATE = 400,
	IDG_P_PROJECT_DELETE = 401,
	IDG_P_PROJECT_LIST_REPO = 402,
	IDG_P_PROJECT_CREATE_REPO = 403,
	IDG_P_PROJECT_MODIFY_BINDINGS = 404,
};

struct idg_permset {
	uint64_t w[2];
};

/* How many permissions exist (PERMISSION_UNKNOWN included, at index 0). */
int idg_perm_count(void);
/* Index of a permission by exact name, or -1. */
int idg_perm_lookup(const char *name);
/* Index of a permission by number, or -1. */
int idg_perm_index(int number);
const char *idg_perm_name(int index);
int idg_perm_number(int index);

static inline void
idg_permset_add(struct idg_permset *s, int index)
{
	s->w[index >> 6] |= UINT64_C(1) << (index & 63);
}

static inline bool
idg_permset_has(const struct idg_permset *s, int index)
{
	return (s->w[index >> 6] >> (index & 63)) & 1;
}

static inline void
idg_permset_union(struct idg_permset *dst, const struct idg_permset *src)
{
	dst->w[0] |= src->w[0];
	dst->w[1] |= src->w[1];
}

static inline bool
idg_permset_empty(const struct idg_permset *s)
{
	return (s->w[0] | s->w[1]) == 0;
}

#endif
