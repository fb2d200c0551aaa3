/* The role engine's model: resources (cluster -> project -> repo), principals, group
 * memberships, roles and bindings, with checks, effective permissions and explanations.
 * Pure policy: no I/O, not thread-safe for writers; const functions may run concurrently.
 * The root principal's clusterAdmin binding on the cluster is part of the model and can
 * never be changed. Names given here must already be valid (rbac/names.h). */
#ifndef IDG_RBAC_RBAC_H
#define IDG_RBAC_RBAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rbac/names.h"
#include "rbac/perms.h"
#include "rbac/roles.h"

typedef uint32_t idg_pid;	/* principal */
typedef uint32_t idg_rid;	/* resource */
typedef uint16_t idg_role;

#define IDG_PID_ROOT 0u
#define IDG_PID_ALL 1u
#define IDG_PID_NONE UINT32_MAX
#define IDG_RID_CLUSTER 0u
#define IDG_RID_NONE UINT32_MAX

#define IDG_ROLES_MAX 1024		/* built-in and custom roles together */
#define IDG_BINDING_ROLES_MAX 32	/* roles in one binding */
#define IDG_GROUPS_MAX 8192		/* groups one principal may be in */

enum idg_rtype { IDG_RT_CLUSTER = 0, IDG_RT_PROJECT = 1, IDG_RT_REPO = 2 };

/* Check flags. */
#define IDG_CHECK_SKIP_ALL 1u	/* ignore bindings to allClusterUsers (login rule) */

struct idg_rbac;

/* One way a permission is granted: ROLE bound to VIA on resource AT. */
struct idg_grant {
	idg_rid at;
	idg_pid via;	/* the principal itself, one of its groups, or allClusterUsers */
	idg_role role;
};

/* A model with the cluster, root (clusterAdmin), allClusterUsers and the built-in roles.
 * seed keys the name hashes (take it from idg_random). */
int idg_rbac_new(const uint8_t seed[16], struct idg_rbac **out);
void idg_rbac_free(struct idg_rbac *r);

/* Resource type names as the messages use them: "CLUSTER", "PROJECT", "REPO". */
const char *idg_rtype_upper(enum idg_rtype t);
const char *idg_rtype_lower(enum idg_rtype t);

/* --- roles --- */
size_t idg_rbac_role_limit(const struct idg_rbac *r);	/* ids are below this */
int idg_rbac_role_find(const struct idg_rbac *r, const char *name, idg_role *out);
const char *idg_rbac_role_name(const struct idg_rbac *r, idg_role role);	/* NULL: deleted */
const struct idg_permset *idg_rbac_role_perms(const struct idg_rbac *r, idg_role role);
unsigned idg_rbac_role_rtypes(const struct idg_rbac *r, idg_role role);	/* IDG_RTB_* */
bool idg_rbac_role_builtin(const struct idg_rbac *r, idg_role role);
size_t idg_rbac_role_uses(const struct idg_rbac *r, idg_role role);	/* bindings with it */
/* A custom role: IDG_ERR_EXISTS for a taken name, IDG_ERR_TOOBIG past IDG_ROLES_MAX. */
int idg_rbac_role_add(struct idg_rbac *r, const char *name, const struct idg_permset *perms,
    unsigned rtypes, idg_role *out);
/* IDG_ERR_DENIED for a built-in role, IDG_ERR_CONFLICT while bound anywhere. */
int idg_rbac_role_del(struct idg_rbac *r, idg_role role);

/* --- principals --- */
int idg_rbac_principal(struct idg_rbac *r, const char *subject, enum idg_pkind kind, idg_pid *out);
idg_pid idg_rbac_principal_find(const struct idg_rbac *r, const char *subject);
const char *idg_rbac_principal_name(const struct idg_rbac *r, idg_pid pid);
enum idg_pkind idg_rbac_principal_kind(const struct idg_rbac *r, idg_pid pid);
size_t idg_rbac_principal_limit(const struct idg_rbac *r);

/* --- group memberships (group must be a group: principal) --- */
int idg_rbac_member_add(struct idg_rbac *r, idg_pid group, idg_pid member);
int idg_rbac_member_del(struct idg_rbac *r, idg_pid group, idg_pid member);
/* Sorted by principal id. */
void idg_rbac_groups_of(const struct idg_rbac *r, idg_pid pid, const idg_pid **out, size_t *n);
void idg_rbac_members_of(const struct idg_rbac *r, idg_pid group, const idg_pid **out, size_t *n);
bool idg_rbac_is_member(const struct idg_rbac *r, idg_pid group, idg_pid member);

/* --- resources --- */
/* name: the project name, or "PROJECT/REPO" for a repo whose parent is the project. */
int idg_rbac_resource_add(struct idg_rbac *r, enum idg_rtype type, const char *name,
    idg_rid parent, idg_rid *out);
/* Drops the resource's bindings; IDG_ERR_CONFLICT while it has children. */
int idg_rbac_resource_del(struct idg_rbac *r, idg_rid rid);
idg_rid idg_rbac_resource_find(const struct idg_rbac *r, enum idg_rtype type, const char *name);
enum idg_rtype idg_rbac_resource_type(const struct idg_rbac *r, idg_rid rid);
const char *idg_rbac_resource_name(const struct idg_rbac *r, idg_rid rid);	/* "" for cluster */
idg_rid idg_rbac_resource_parent(const struct idg_rbac *r, idg_rid rid);
size_t idg_rbac_resource_children(const struct idg_rbac *r, idg_rid rid);
size_t idg_rbac_resource_limit(const struct idg_rbac *r);
bool idg_rbac_resource_live(const struct idg_rbac *r, idg_rid rid);

/* --- bindings --- */
/* Replace pid's roles on rid with roles[0..n) (duplicates folded); n == 0 removes pid there.
 * IDG_ERR_DENIED for root on the cluster; IDG_ERR_TOOBIG past IDG_BINDING_ROLES_MAX. */
int idg_rbac_binding_set(struct idg_rbac *r, idg_rid rid, idg_pid pid, const idg_role *roles,
    size_t n);
/* pid's roles on rid (sorted by id): IDG_ERR_NOTFOUND when none. */
int idg_rbac_binding_get(const struct idg_rbac *r, idg_rid rid, idg_pid pid,
    const idg_role **roles, size_t *n);
size_t idg_rbac_binding_count(const struct idg_rbac *r, idg_rid rid);
void idg_rbac_binding_at(const struct idg_rbac *r, idg_rid rid, size_t i, idg_pid *pid,
    const idg_role **roles, size_t *n);
size_t idg_rbac_binding_total(const struct idg_rbac *r);

/* Deactivation: every binding but root's clusterAdmin, and every membership, goes. */
void idg_rbac_reset(struct idg_rbac *r);

/* --- decisions --- */
/* May who (IDG_PID_NONE: a principal with no bindings or groups) use permission index perm
 * on rid? Walks rid, its project and the cluster; counts who, its groups and
 * allClusterUsers. */
bool idg_rbac_check(const struct idg_rbac *r, idg_pid who, int perm, idg_rid rid, unsigned flags);
/* Every permission and role who holds on rid by the same rules. roles_seen, when not NULL,
 * has idg_rbac_role_limit() bytes; held roles are set to 1. */
void idg_rbac_effective(const struct idg_rbac *r, idg_pid who, idg_rid rid, unsigned flags,
    struct idg_permset *perms_out, uint8_t *roles_seen);
/* Every binding that grants perm to who on rid, up to max written to out; returns how many
 * there are in all (0: denied). */
size_t idg_rbac_explain(const struct idg_rbac *r, idg_pid who, int perm, idg_rid rid,
    unsigned flags, struct idg_grant *out, size_t max);

#endif
