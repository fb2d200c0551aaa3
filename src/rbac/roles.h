/* The built-in roles of the Pachyderm model, exactly as spec/roles.md lists them. */
#ifndef IDG_RBAC_ROLES_H
#define IDG_RBAC_ROLES_H

#include <stddef.h>

#include "rbac/perms.h"

/* Resource types, as bits for "meant for" / "may be bound on". */
enum idg_rtype_bit {
	IDG_RTB_CLUSTER = 1u << 0,
	IDG_RTB_PROJECT = 1u << 1,
	IDG_RTB_REPO = 1u << 2,
	IDG_RTB_JOB = 1u << 3,	/* listing only: idgate has no job resources */
};

struct idg_builtin_role {
	const char *name;
	unsigned meant_for;	/* IDG_RTB_* */
	const char *const *perms;	/* NULL-terminated permission names */
	const char *const *includes;	/* NULL-terminated role names whose permissions it has too */
	int all_but_unknown;	/* clusterAdmin: every permission except PERMISSION_UNKNOWN */
};

size_t idg_builtin_role_count(void);
const struct idg_builtin_role *idg_builtin_role(size_t i);
/* The full permission set of a built-in role, includes resolved. */
void idg_builtin_role_perms(size_t i, struct idg_permset *out);

#endif
