/* The built-in roles. "includes" is the spec's "+ X": the role has every permission of X. */
#include "config.h"

#include <string.h>

#include "common/util.h"
#include "rbac/roles.h"

#define LIST(...) (const char *const[]){ __VA_ARGS__, NULL }
#define NONE ((const char *const *)NULL)
#define CPR (IDG_RTB_CLUSTER | IDG_RTB_PROJECT | IDG_RTB_REPO)
#define CP (IDG_RTB_CLUSTER | IDG_RTB_PROJECT)
#define C IDG_RTB_CLUSTER

static const struct idg_builtin_role builtins[] = {
	{ "repoReader", CPR, LIST("REPO_READ", "REPO_INSPECT_COMMIT", "REPO_LIST_COMMIT",
	    "REPO_LIST_BRANCH", "REPO_LIST_FILE", "REPO_INSPECT_FILE", "REPO_ADD_PIPELINE_READER",
	    "REPO_REMOVE_PIPELINE_READER", "PIPELINE_LIST_JOB"), NONE, 0 },
	{ "repoWriter", CPR, LIST("REPO_WRITE", "REPO_DELETE_COMMIT", "REPO_CREATE_BRANCH",
	    "REPO_DELETE_BRANCH", "REPO_ADD_PIPELINE_WRITER"), LIST("repoReader"), 0 },
	{ "repoOwner", CPR, LIST("REPO_MODIFY_BINDINGS", "REPO_DELETE"), LIST("repoWriter"), 0 },
	{ "projectViewer", CP, LIST("PROJECT_LIST_REPO"), NONE, 0 },
	{ "projectWriter", CP, LIST("PROJECT_CREATE_REPO"), LIST("projectViewer"), 0 },
	{ "projectOwner", CP, LIST("PROJECT_DELETE", "PROJECT_MODIFY_BINDINGS", "PROJECT_SET_DEFAULTS"),
	    LIST("repoOwner", "projectWriter"), 0 },
	{ "projectCreator", C, LIST("PROJECT_CREATE"), NONE, 0 },
	{ "oidcAppAdmin", C, LIST("CLUSTER_IDENTITY_DELETE_OIDC_CLIENT",
	    "CLUSTER_IDENTITY_CREATE_OIDC_CLIENT", "CLUSTER_IDENTITY_UPDATE_OIDC_CLIENT",
	    "CLUSTER_IDENTITY_LIST_OIDC_CLIENTS", "CLUSTER_IDENTITY_GET_OIDC_CLIENT"), NONE, 0 },
	{ "idpAdmin", C, LIST("CLUSTER_IDENTITY_CREATE_IDP", "CLUSTER_IDENTITY_UPDATE_IDP",
	    "CLUSTER_IDENTITY_LIST_IDPS", "CLUSTER_IDENTITY_GET_IDP", "CLUSTER_IDENTITY_DELETE_IDP"),
	    NONE, 0 },
	{ "identityAdmin", C, LIST("CLUSTER_IDENTITY_SET_CONFIG", "CLUSTER_IDENTITY_GET_CONFIG"),
	    NONE, 0 },
	{ "secretAdmin", C, LIST("CLUSTER_CREATE_SECRET", "CLUSTER_LIST_SECRETS", "SECRET_INSPECT",
	    "SECRET_DELETE"), NONE, 0 },
	{ "licenseAdmin", C, LIST("CLUSTER_LICENSE_ACTIVATE", "CLUSTER_LICENSE_GET_CODE",
	    "CLUSTER_LICENSE_ADD_CLUSTER", "CLUSTER_LICENSE_UPDATE_CLUSTER",
	    "CLUSTER_LICENSE_DELETE_CLUSTER", "CLUSTER_LICENSE_LIST_CLUSTERS"), NONE, 0 },
	{ "debugger", C, LIST("CLUSTER_DEBUG_DUMP", "CLUSTER_GET_PACHD_LOGS", "CLUSTER_GET_LOKI_LOGS"),
	    NONE, 0 },
	{ "lokiLogReader", C, LIST("CLUSTER_GET_LOKI_LOGS"), NONE, 0 },
	{ "pachdLogReader", C, LIST("CLUSTER_GET_PACHD_LOGS"), NONE, 0 },
	{ "robotUser", C, LIST("CLUSTER_AUTH_GET_ROBOT_TOKEN"), NONE, 0 },
	{ "jobAdmin", C | IDG_RTB_JOB, LIST("JOB_SKIP_CTX"), NONE, 0 },
	{ "clusterAdmin", C, NONE, NONE, 1 },
};

size_t
idg_builtin_role_count(void)
{
	return IDG_ARRAY_SIZE(builtins);
}

const struct idg_builtin_role *
idg_builtin_role(size_t i)
{
	return i < IDG_ARRAY_SIZE(builtins) ? &builtins[i] : NULL;
}

static int
builtin_find(const char *name)
{
	for (size_t i = 0; i < IDG_ARRAY_SIZE(builtins); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return (int)i;
	return -1;
}

void
idg_builtin_role_perms(size_t i, struct idg_permset *out)
{
	const struct idg_builtin_role *r = &builtins[i];

	memset(out, 0, sizeof(*out));
	if (r->all_but_unknown) {
		for (int p = 0; p < idg_perm_count(); p++)
			if (idg_perm_number(p) != IDG_PERM_UNKNOWN_NUMBER)
				idg_permset_add(out, p);
		return;
	}
	for (size_t k = 0; r->perms && r->perms[k]; k++)
		idg_permset_add(out, idg_perm_lookup(r->perms[k]));
	for (size_t k = 0; r->includes && r->includes[k]; k++) {
		struct idg_permset inc;
		int j = builtin_find(r->includes[k]);

		/* Includes always name earlier roles, so recursion terminates. */
		idg_builtin_role_perms((size_t)j, &inc);
		idg_permset_union(out, &inc);
	}
}
