/* The permission table. Numbers are stable identifiers (spec/roles.md); order is by number. */
#include "config.h"

#include <string.h>

#include "rbac/perms.h"

static const struct {
	const char *name;
	int number;
} perms[] = {
	{ "PERMISSION_UNKNOWN", 0 },
	{ "CLUSTER_MODIFY_BINDINGS", 100 },
	{ "CLUSTER_GET_BINDINGS", 101 },
	{ "CLUSTER_AUTH_ACTIVATE", 102 },
	{ "CLUSTER_AUTH_DEACTIVATE", 103 },
	{ "CLUSTER_AUTH_GET_CONFIG", 104 },
	{ "CLUSTER_AUTH_SET_CONFIG", 105 },
	{ "CLUSTER_AUTH_MODIFY_GROUP_MEMBERS", 109 },
	{ "CLUSTER_AUTH_GET_GROUPS", 110 },
	{ "CLUSTER_AUTH_GET_GROUP_USERS", 111 },
	{ "CLUSTER_AUTH_EXTRACT_TOKENS", 112 },
	{ "CLUSTER_AUTH_RESTORE_TOKEN", 113 },
	{ "CLUSTER_ENTERPRISE_ACTIVATE", 114 },
	{ "CLUSTER_ENTERPRISE_HEARTBEAT", 115 },
	{ "CLUSTER_ENTERPRISE_GET_CODE", 116 },
	{ "CLUSTER_ENTERPRISE_DEACTIVATE", 117 },
	{ "CLUSTER_IDENTITY_SET_CONFIG", 118 },
	{ "CLUSTER_IDENTITY_GET_CONFIG", 119 },
	{ "CLUSTER_IDENTITY_CREATE_IDP", 120 },
	{ "CLUSTER_IDENTITY_UPDATE_IDP", 121 },
	{ "CLUSTER_IDENTITY_LIST_IDPS", 122 },
	{ "CLUSTER_IDENTITY_GET_IDP", 123 },
	{ "CLUSTER_IDENTITY_DELETE_IDP", 124 },
	{ "CLUSTER_IDENTITY_CREATE_OIDC_CLIENT", 125 },
	{ "CLUSTER_IDENTITY_UPDATE_OIDC_CLIENT", 126 },
	{ "CLUSTER_IDENTITY_LIST_OIDC_CLIENTS", 127 },
	{ "CLUSTER_IDENTITY_GET_OIDC_CLIENT", 128 },
	{ "CLUSTER_IDENTITY_DELETE_OIDC_CLIENT", 129 },
	{ "CLUSTER_DEBUG_DUMP", 131 },
	{ "CLUSTER_LICENSE_ACTIVATE", 132 },
	{ "CLUSTER_LICENSE_GET_CODE", 133 },
	{ "CLUSTER_LICENSE_ADD_CLUSTER", 134 },
	{ "CLUSTER_LICENSE_UPDATE_CLUSTER", 135 },
	{ "CLUSTER_LICENSE_DELETE_CLUSTER", 136 },
	{ "CLUSTER_LICENSE_LIST_CLUSTERS", 137 },
	{ "CLUSTER_DELETE_ALL", 138 },
	{ "CLUSTER_AUTH_GET_ROBOT_TOKEN", 139 },
	{ "CLUSTER_AUTH_DELETE_EXPIRED_TOKENS", 140 },
	{ "CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL", 141 },
	{ "CLUSTER_AUTH_REVOKE_USER_TOKENS", 142 },
	{ "CLUSTER_CREATE_SECRET", 143 },
	{ "CLUSTER_LIST_SECRETS", 144 },
	{ "SECRET_DELETE", 145 },
	{ "SECRET_INSPECT", 146 },
	{ "CLUSTER_AUTH_ROTATE_ROOT_TOKEN", 147 },
	{ "CLUSTER_GET_PACHD_LOGS", 148 },
	{ "CLUSTER_ENTERPRISE_PAUSE", 149 },
	{ "CLUSTER_GET_LOKI_LOGS", 150 },
	{ "CLUSTER_EDIT_CLUSTER_METADATA", 151 },
	{ "CLUSTER_SNAPSHOTTER", 152 },
	{ "CLUSTER_RESTART_PACHYDERM", 153 },
	{ "REPO_READ", 200 },
	{ "REPO_WRITE", 201 },
	{ "REPO_MODIFY_BINDINGS", 202 },
	{ "REPO_DELETE", 203 },
	{ "REPO_INSPECT_COMMIT", 204 },
	{ "REPO_LIST_COMMIT", 205 },
	{ "REPO_DELETE_COMMIT", 206 },
	{ "REPO_CREATE_BRANCH", 207 },
	{ "REPO_LIST_BRANCH", 208 },
	{ "REPO_DELETE_BRANCH", 209 },
	{ "REPO_INSPECT_FILE", 210 },
	{ "REPO_LIST_FILE", 211 },
	{ "REPO_ADD_PIPELINE_READER", 212 },
	{ "REPO_REMOVE_PIPELINE_READER", 213 },
	{ "REPO_ADD_PIPELINE_WRITER", 214 },
	{ "PIPELINE_LIST_JOB", 301 },
	{ "CLUSTER_SET_DEFAULTS", 302 },
	{ "PROJECT_SET_DEFAULTS", 303 },
	{ "PROJECT_CREATE", 400 },
	{ "PROJECT_DELETE", 401 },
	{ "PROJECT_LIST_REPO", 402 },
	{ "PROJECT_CREATE_REPO", 403 },
	{ "PROJECT_MODIFY_BINDINGS", 404 },
	{ "JOB_SKIP_CTX", 501 },
};

#define NPERMS ((int)(sizeof(perms) / sizeof(perms[0])))
_Static_assert(sizeof(perms) / sizeof(perms[0]) <= 128, "permission sets are 128 bits");

int
idg_perm_count(void)
{
	return NPERMS;
}

int
idg_perm_lookup(const char *name)
{
	for (int i = 0; i < NPERMS; i++)
		if (strcmp(perms[i].name, name) == 0)
			return i;
	return -1;
}

int
idg_perm_index(int number)
{
	/* The table is sorted by number: binary search. */
	int lo = 0, hi = NPERMS - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (perms[mid].number == number)
			return mid;
		if (perms[mid].number < number)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

const char *
idg_perm_name(int index)
{
	return index >= 0 && index < NPERMS ? perms[index].name : "PERMISSION_UNKNOWN";
}

int
idg_perm_number(int index)
{
	return index >= 0 && index < NPERMS ? perms[index].number : 0;
}
