/* The permission table and the built-in roles against shared/spec/roles.md, transcribed
 * here by hand (every "+ X" expanded) so that a slip in perms.c or roles.c shows up as a
 * named missing or extra permission instead of being copied into the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "rbac/perms.h"
#include "rbac/rbac.h"
#include "rbac/roles.h"

/* ---------- the spec, re-typed ---------- */

static const struct {
	const char *name;
	int number;
} spec_perms[] = {
	{ "PERMISSION_UNKNOWN", 0 },
	{ "CLUSTER_MODIFY_BINDINGS", 100 }, { "CLUSTER_GET_BINDINGS", 101 },
	{ "CLUSTER_AUTH_ACTIVATE", 102 }, { "CLUSTER_AUTH_DEACTIVATE", 103 },
	{ "CLUSTER_AUTH_GET_CONFIG", 104 }, { "CLUSTER_AUTH_SET_CONFIG", 105 },
	{ "CLUSTER_AUTH_MODIFY_GROUP_MEMBERS", 109 }, { "CLUSTER_AUTH_GET_GROUPS", 110 },
	{ "CLUSTER_AUTH_GET_GROUP_USERS", 111 }, { "CLUSTER_AUTH_EXTRACT_TOKENS", 112 },
	{ "CLUSTER_AUTH_RESTORE_TOKEN", 113 }, { "CLUSTER_ENTERPRISE_ACTIVATE", 114 },
	{ "CLUSTER_ENTERPRISE_HEARTBEAT", 115 }, { "CLUSTER_ENTERPRISE_GET_CODE", 116 },
	{ "CLUSTER_ENTERPRISE_DEACTIVATE", 117 }, { "CLUSTER_IDENTITY_SET_CONFIG", 118 },
	{ "CLUSTER_IDENTITY_GET_CONFIG", 119 }, { "CLUSTER_IDENTITY_CREATE_IDP", 120 },
	{ "CLUSTER_IDENTITY_UPDATE_IDP", 121 }, { "CLUSTER_IDENTITY_LIST_IDPS", 122 },
	{ "CLUSTER_IDENTITY_GET_IDP", 123 }, { "CLUSTER_IDENTITY_DELETE_IDP", 124 },
	{ "CLUSTER_IDENTITY_CREATE_OIDC_CLIENT", 125 },
	{ "CLUSTER_IDENTITY_UPDATE_OIDC_CLIENT", 126 },
	{ "CLUSTER_IDENTITY_LIST_OIDC_CLIENTS", 127 },
	{ "CLUSTER_IDENTITY_GET_OIDC_CLIENT", 128 },
	{ "CLUSTER_IDENTITY_DELETE_OIDC_CLIENT", 129 },
	{ "CLUSTER_DEBUG_DUMP", 131 }, { "CLUSTER_LICENSE_ACTIVATE", 132 },
	{ "CLUSTER_LICENSE_GET_CODE", 133 }, { "CLUSTER_LICENSE_ADD_CLUSTER", 134 },
	{ "CLUSTER_LICENSE_UPDATE_CLUSTER", 135 }, { "CLUSTER_LICENSE_DELETE_CLUSTER", 136 },
	{ "CLUSTER_LICENSE_LIST_CLUSTERS", 137 }, { "CLUSTER_DELETE_ALL", 138 },
	{ "CLUSTER_AUTH_GET_ROBOT_TOKEN", 139 }, { "CLUSTER_AUTH_DELETE_EXPIRED_TOKENS", 140 },
	{ "CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL", 141 },
	{ "CLUSTER_AUTH_REVOKE_USER_TOKENS", 142 }, { "CLUSTER_CREATE_SECRET", 143 },
	{ "CLUSTER_LIST_SECRETS", 144 }, { "SECRET_DELETE", 145 }, { "SECRET_INSPECT", 146 },
	{ "CLUSTER_AUTH_ROTATE_ROOT_TOKEN", 147 }, { "CLUSTER_GET_PACHD_LOGS", 148 },
	{ "CLUSTER_ENTERPRISE_PAUSE", 149 }, { "CLUSTER_GET_LOKI_LOGS", 150 },
	{ "CLUSTER_EDIT_CLUSTER_METADATA", 151 }, { "CLUSTER_SNAPSHOTTER", 152 },
	{ "CLUSTER_RESTART_PACHYDERM", 153 },
	{ "REPO_READ", 200 }, { "REPO_WRITE", 201 }, { "REPO_MODIFY_BINDINGS", 202 },
	{ "REPO_DELETE", 203 }, { "REPO_INSPECT_COMMIT", 204 }, { "REPO_LIST_COMMIT", 205 },
	{ "REPO_DELETE_COMMIT", 206 }, { "REPO_CREATE_BRANCH", 207 }, { "REPO_LIST_BRANCH", 208 },
	{ "REPO_DELETE_BRANCH", 209 }, { "REPO_INSPECT_FILE", 210 }, { "REPO_LIST_FILE", 211 },
	{ "REPO_ADD_PIPELINE_READER", 212 }, { "REPO_REMOVE_PIPELINE_READER", 213 },
	{ "REPO_ADD_PIPELINE_WRITER", 214 },
	{ "PIPELINE_LIST_JOB", 301 }, { "CLUSTER_SET_DEFAULTS", 302 },
	{ "PROJECT_SET_DEFAULTS", 303 },
	{ "PROJECT_CREATE", 400 }, { "PROJECT_DELETE", 401 }, { "PROJECT_LIST_REPO", 402 },
	{ "PROJECT_CREATE_REPO", 403 }, { "PROJECT_MODIFY_BINDINGS", 404 },
	{ "JOB_SKIP_CTX", 501 },
};

#define NSPEC_PERMS IDG_ARRAY_SIZE(spec_perms)

#define C IDG_RTB_CLUSTER
#define CP (IDG_RTB_CLUSTER | IDG_RTB_PROJECT)
#define CPR (IDG_RTB_CLUSTER | IDG_RTB_PROJECT | IDG_RTB_REPO)
#define L(...) (const char *const[]){ __VA_ARGS__, NULL }

/* Fully expanded permission sets. ALL_BUT_UNKNOWN marks clusterAdmin. */
static const char *const all_but_unknown[] = { NULL };
#define ALL_BUT_UNKNOWN all_but_unknown

static const struct {
	const char *name;
	unsigned meant_for;
	const char *const *perms;
} spec_roles[] = {
	{ "repoReader", CPR, L("REPO_READ", "REPO_INSPECT_COMMIT", "REPO_LIST_COMMIT",
	    "REPO_LIST_BRANCH", "REPO_LIST_FILE", "REPO_INSPECT_FILE", "REPO_ADD_PIPELINE_READER",
	    "REPO_REMOVE_PIPELINE_READER", "PIPELINE_LIST_JOB") },
	{ "repoWriter", CPR, L("REPO_READ", "REPO_INSPECT_COMMIT", "REPO_LIST_COMMIT",
	    "REPO_LIST_BRANCH", "REPO_LIST_FILE", "REPO_INSPECT_FILE", "REPO_ADD_PIPELINE_READER",
	    "REPO_REMOVE_PIPELINE_READER", "PIPELINE_LIST_JOB",
	    "REPO_WRITE", "REPO_DELETE_COMMIT", "REPO_CREATE_BRANCH", "REPO_DELETE_BRANCH",
	    "REPO_ADD_PIPELINE_WRITER") },
	{ "repoOwner", CPR, L("REPO_READ", "REPO_INSPECT_COMMIT", "REPO_LIST_COMMIT",
	    "REPO_LIST_BRANCH", "REPO_LIST_FILE", "REPO_INSPECT_FILE", "REPO_ADD_PIPELINE_READER",
	    "REPO_REMOVE_PIPELINE_READER", "PIPELINE_LIST_JOB",
	    "REPO_WRITE", "REPO_DELETE_COMMIT", "REPO_CREATE_BRANCH", "REPO_DELETE_BRANCH",
	    "REPO_ADD_PIPELINE_WRITER",
	    "REPO_MODIFY_BINDINGS", "REPO_DELETE") },
	{ "projectViewer", CP, L("PROJECT_LIST_REPO") },
	{ "projectWriter", CP, L("PROJECT_LIST_REPO", "PROJECT_CREATE_REPO") },
	{ "projectOwner", CP, L("REPO_READ", "REPO_INSPECT_COMMIT", "REPO_LIST_COMMIT",
	    "REPO_LIST_BRANCH", "REPO_LIST_FILE", "REPO_INSPECT_FILE", "REPO_ADD_PIPELINE_READER",
	    "REPO_REMOVE_PIPELINE_READER", "PIPELINE_LIST_JOB",
	    "REPO_WRITE", "REPO_DELETE_COMMIT", "REPO_CREATE_BRANCH", "REPO_DELETE_BRANCH",
	    "REPO_ADD_PIPELINE_WRITER",
	    "REPO_MODIFY_BINDINGS", "REPO_DELETE",
	    "PROJECT_LIST_REPO", "PROJECT_CREATE_REPO",
	    "PROJECT_DELETE", "PROJECT_MODIFY_BINDINGS", "PROJECT_SET_DEFAULTS") },
	{ "projectCreator", C, L("PROJECT_CREATE") },
	{ "oidcAppAdmin", C, L("CLUSTER_IDENTITY_DELETE_OIDC_CLIENT",
	    "CLUSTER_IDENTITY_CREATE_OIDC_CLIENT", "CLUSTER_IDENTITY_UPDATE_OIDC_CLIENT",
	    "CLUSTER_IDENTITY_LIST_OIDC_CLIENTS", "CLUSTER_IDENTITY_GET_OIDC_CLIENT") },
	{ "idpAdmin", C, L("CLUSTER_IDENTITY_CREATE_IDP", "CLUSTER_IDENTITY_UPDATE_IDP",
	    "CLUSTER_IDENTITY_LIST_IDPS", "CLUSTER_IDENTITY_GET_IDP", "CLUSTER_IDENTITY_DELETE_IDP") },
	{ "identityAdmin", C, L("CLUSTER_IDENTITY_SET_CONFIG", "CLUSTER_IDENTITY_GET_CONFIG") },
	{ "secretAdmin", C, L("CLUSTER_CREATE_SECRET", "CLUSTER_LIST_SECRETS", "SECRET_INSPECT",
	    "SECRET_DELETE") },
	{ "licenseAdmin", C, L("CLUSTER_LICENSE_ACTIVATE", "CLUSTER_LICENSE_GET_CODE",
	    "CLUSTER_LICENSE_ADD_CLUSTER", "CLUSTER_LICENSE_UPDATE_CLUSTER",
	    "CLUSTER_LICENSE_DELETE_CLUSTER", "CLUSTER_LICENSE_LIST_CLUSTERS") },
	{ "debugger", C, L("CLUSTER_DEBUG_DUMP", "CLUSTER_GET_PACHD_LOGS", "CLUSTER_GET_LOKI_LOGS") },
	{ "lokiLogReader", C, L("CLUSTER_GET_LOKI_LOGS") },
	{ "pachdLogReader", C, L("CLUSTER_GET_PACHD_LOGS") },
	{ "robotUser", C, L("CLUSTER_AUTH_GET_ROBOT_TOKEN") },
	{ "jobAdmin", C | IDG_RTB_JOB, L("JOB_SKIP_CTX") },
	{ "clusterAdmin", C, ALL_BUT_UNKNOWN },
};

#define NSPEC_ROLES IDG_ARRAY_SIZE(spec_roles)

static const uint8_t seed[16] = { 's', 'p', 'e', 'c' };

/* ---------- helpers ---------- */

static bool
spec_role_has(size_t role, const char *perm)
{
	const char *const *p = spec_roles[role].perms;

	if (p == ALL_BUT_UNKNOWN)
		return strcmp(perm, "PERMISSION_UNKNOWN") != 0;
	for (; *p; p++)
		if (strcmp(*p, perm) == 0)
			return true;
	return false;
}

/* Compare one role's permission set with the spec; print every difference by name and
 * return how many there were. */
static int
diff_role(const char *where, size_t role, const struct idg_permset *got)
{
	int bad = 0;

	for (size_t i = 0; i < NSPEC_PERMS; i++) {
		int idx = idg_perm_lookup(spec_perms[i].name);
		bool want = spec_role_has(role, spec_perms[i].name);
		bool have = idx >= 0 && idg_permset_has(got, idx);

		if (want && !have) {
			print_error("# %s: role %s is missing %s\n", where, spec_roles[role].name,
			    spec_perms[i].name);
			bad++;
		} else if (!want && have) {
			print_error("# %s: role %s has extra %s\n", where, spec_roles[role].name,
			    spec_perms[i].name);
			bad++;
		}
	}
	/* Bits beyond the permission table must never be set. */
	for (int b = idg_perm_count(); b < 128; b++) {
		if (idg_permset_has(got, b)) {
			print_error("# %s: role %s has bit %d beyond the table\n", where,
			    spec_roles[role].name, b);
			bad++;
		}
	}
	return bad;
}

static int
spec_role_index(const char *name)
{
	for (size_t i = 0; i < NSPEC_ROLES; i++)
		if (strcmp(spec_roles[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---------- permissions ---------- */

static void
perm_count_is_75(void **state)
{
	(void)state;
	assert_int_equal(NSPEC_PERMS, 75);	/* the transcription itself */
	assert_int_equal(idg_perm_count(), 75);
}

static void
perm_names_and_numbers_match_spec(void **state)
{
	bool seen[128] = { false };

	(void)state;
	for (size_t i = 0; i < NSPEC_PERMS; i++) {
		int idx = idg_perm_lookup(spec_perms[i].name);

		if (idx < 0)
			fail_msg("permission %s is not in the table", spec_perms[i].name);
		assert_in_range(idx, 0, idg_perm_count() - 1);
		assert_false(seen[idx]);
		seen[idx] = true;
		if (idg_perm_number(idx) != spec_perms[i].number)
			fail_msg("%s has number %d, spec says %d", spec_perms[i].name,
			    idg_perm_number(idx), spec_perms[i].number);
		assert_int_equal(idg_perm_index(spec_perms[i].number), idx);
		assert_string_equal(idg_perm_name(idx), spec_perms[i].name);
	}
	/* PERMISSION_UNKNOWN is index 0 (the header promises it). */
	assert_int_equal(idg_perm_lookup("PERMISSION_UNKNOWN"), 0);
}

static void
perm_unknown_names_and_numbers_are_refused(void **state)
{
	static const int holes[] = { -1, 1, 99, 106, 107, 108, 130, 154, 199, 215, 300, 304,
		399, 405, 500, 502, 600, 1000 };
	static const char *const names[] = { "", "repo_read", "REPO_READ ", " REPO_READ",
		"REPO", "PERMISSION", "REPO_READX", "CLUSTER_ADMIN" };

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(holes); i++)
		if (idg_perm_index(holes[i]) != -1)
			fail_msg("number %d is not a permission but idg_perm_index gave %d", holes[i],
			    idg_perm_index(holes[i]));
	for (size_t i = 0; i < IDG_ARRAY_SIZE(names); i++)
		assert_int_equal(idg_perm_lookup(names[i]), -1);
	/* Out-of-range indexes never crash and never name a real permission. */
	assert_string_equal(idg_perm_name(-1), "PERMISSION_UNKNOWN");
	assert_string_equal(idg_perm_name(idg_perm_count()), "PERMISSION_UNKNOWN");
	assert_int_equal(idg_perm_number(-1), 0);
	assert_int_equal(idg_perm_number(idg_perm_count()), 0);
}

/* The enum the daemon's own checks use must name the same numbers as the spec. */
static void
perm_enum_constants_match_spec_numbers(void **state)
{
#define E(x) { IDG_P_##x, #x }
	static const struct { int number; const char *name; } e[] = {
		E(CLUSTER_MODIFY_BINDINGS), E(CLUSTER_GET_BINDINGS), E(CLUSTER_AUTH_ACTIVATE),
		E(CLUSTER_AUTH_DEACTIVATE), E(CLUSTER_AUTH_GET_CONFIG), E(CLUSTER_AUTH_SET_CONFIG),
		E(CLUSTER_AUTH_MODIFY_GROUP_MEMBERS), E(CLUSTER_AUTH_GET_GROUPS),
		E(CLUSTER_AUTH_GET_GROUP_USERS), E(CLUSTER_AUTH_GET_ROBOT_TOKEN),
		E(CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL), E(CLUSTER_AUTH_REVOKE_USER_TOKENS),
		E(REPO_READ), E(REPO_WRITE), E(REPO_MODIFY_BINDINGS), E(REPO_DELETE),
		E(REPO_INSPECT_FILE), E(REPO_LIST_FILE), E(REPO_ADD_PIPELINE_READER),
		E(REPO_REMOVE_PIPELINE_READER), E(REPO_ADD_PIPELINE_WRITER), E(PROJECT_CREATE),
		E(PROJECT_DELETE), E(PROJECT_LIST_REPO), E(PROJECT_CREATE_REPO),
		E(PROJECT_MODIFY_BINDINGS),
	};
#undef E
	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(e); i++) {
		bool found = false;

		for (size_t k = 0; k < NSPEC_PERMS; k++)
			if (strcmp(spec_perms[k].name, e[i].name) == 0) {
				found = true;
				if (spec_perms[k].number != e[i].number)
					fail_msg("IDG_P_%s = %d, spec says %d", e[i].name, e[i].number,
					    spec_perms[k].number);
			}
		assert_true(found);
	}
	assert_int_equal(IDG_PERM_UNKNOWN_NUMBER, 0);
}

/* ---------- built-in roles ---------- */

static void
builtin_roles_are_exactly_the_spec_roles(void **state)
{
	(void)state;
	assert_int_equal(NSPEC_ROLES, 18);
	assert_int_equal(idg_builtin_role_count(), NSPEC_ROLES);
	for (size_t i = 0; i < idg_builtin_role_count(); i++) {
		const struct idg_builtin_role *b = idg_builtin_role(i);

		assert_non_null(b);
		if (spec_role_index(b->name) < 0)
			fail_msg("built-in role %s is not in the spec", b->name);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(idg_builtin_role(k)->name, b->name);
	}
	assert_null(idg_builtin_role(idg_builtin_role_count()));
}

static void
builtin_role_perms_equal_spec(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < idg_builtin_role_count(); i++) {
		struct idg_permset ps;
		int s = spec_role_index(idg_builtin_role(i)->name);

		assert_true(s >= 0);
		idg_builtin_role_perms(i, &ps);
		bad += diff_role("idg_builtin_role_perms", (size_t)s, &ps);
	}
	if (bad)
		fail_msg("%d permission(s) differ from the spec (listed above)", bad);
}

static void
model_role_perms_equal_spec(void **state)
{
	struct idg_rbac *r;
	int bad = 0;

	(void)state;
	assert_int_equal(idg_rbac_new(seed, &r), 0);
	for (size_t s = 0; s < NSPEC_ROLES; s++) {
		idg_role role;

		if (idg_rbac_role_find(r, spec_roles[s].name, &role) != 0)
			fail_msg("the model has no role %s", spec_roles[s].name);
		assert_string_equal(idg_rbac_role_name(r, role), spec_roles[s].name);
		assert_true(idg_rbac_role_builtin(r, role));
		bad += diff_role("idg_rbac_role_perms", s, idg_rbac_role_perms(r, role));
	}
	/* A fresh model has no roles but the built-in ones. */
	for (size_t id = 0; id < idg_rbac_role_limit(r); id++) {
		const char *name = idg_rbac_role_name(r, (idg_role)id);

		if (name != NULL && spec_role_index(name) < 0)
			fail_msg("fresh model has unexpected role %s", name);
	}
	idg_rbac_free(r);
	if (bad)
		fail_msg("%d permission(s) differ from the spec (listed above)", bad);
}

static void
cluster_admin_has_all_74_but_unknown(void **state)
{
	struct idg_rbac *r;
	idg_role admin;
	const struct idg_permset *ps;
	int n = 0;

	(void)state;
	assert_int_equal(idg_rbac_new(seed, &r), 0);
	assert_int_equal(idg_rbac_role_find(r, "clusterAdmin", &admin), 0);
	ps = idg_rbac_role_perms(r, admin);
	for (int i = 0; i < 128; i++)
		n += idg_permset_has(ps, i);
	assert_int_equal(n, 74);
	assert_false(idg_permset_has(ps, idg_perm_lookup("PERMISSION_UNKNOWN")));
	for (size_t i = 0; i < NSPEC_PERMS; i++)
		if (spec_perms[i].number != 0)
			assert_true(idg_permset_has(ps, idg_perm_lookup(spec_perms[i].name)));
	idg_rbac_free(r);
}

static void
meant_for_bits_match_spec(void **state)
{
	struct idg_rbac *r;

	(void)state;
	assert_int_equal(idg_rbac_new(seed, &r), 0);
	for (size_t i = 0; i < idg_builtin_role_count(); i++) {
		const struct idg_builtin_role *b = idg_builtin_role(i);
		int s = spec_role_index(b->name);
		idg_role role;

		assert_true(s >= 0);
		if (b->meant_for != spec_roles[s].meant_for)
			fail_msg("%s is meant for %#x, spec says %#x", b->name, b->meant_for,
			    spec_roles[s].meant_for);
		assert_int_equal(idg_rbac_role_find(r, b->name, &role), 0);
		assert_int_equal(idg_rbac_role_rtypes(r, role), spec_roles[s].meant_for);
	}
	idg_rbac_free(r);
}

/* roles-for-permission, computed the way the CLI does it: every role of the model whose
 * permission set has PERM, sorted by name. */
static size_t
roles_for(const struct idg_rbac *r, int perm, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t id = 0; id < idg_rbac_role_limit(r); id++) {
		const char *name = idg_rbac_role_name(r, (idg_role)id);

		if (name && idg_permset_has(idg_rbac_role_perms(r, (idg_role)id), perm) && n < max)
			out[n++] = name;
	}
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

static void
roles_for_repo_read_is_exactly_the_spec_list(void **state)
{
	static const char *const want[] = { "clusterAdmin", "projectOwner", "repoOwner",
		"repoReader", "repoWriter" };
	struct idg_rbac *r;
	const char *got[64];
	size_t n;

	(void)state;
	assert_int_equal(idg_rbac_new(seed, &r), 0);
	n = roles_for(r, idg_perm_lookup("REPO_READ"), got, 64);
	for (size_t i = 0; i < n; i++)
		print_message("# roles-for-permission REPO_READ: %s\n", got[i]);
	assert_int_equal(n, IDG_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(got[i], want[i]);
	idg_rbac_free(r);
}

/* Every permission, not only REPO_READ: the model's answer equals the one derived from the
 * transcribed table. PERMISSION_UNKNOWN is granted by no role. */
static void
roles_for_every_permission_matches_spec(void **state)
{
	struct idg_rbac *r;

	(void)state;
	assert_int_equal(idg_rbac_new(seed, &r), 0);
	for (size_t p = 0; p < NSPEC_PERMS; p++) {
		const char *got[64], *want[64];
		size_t n, nw = 0;

		n = roles_for(r, idg_perm_lookup(spec_perms[p].name), got, 64);
		for (size_t s = 0; s < NSPEC_ROLES; s++)
			if (spec_role_has(s, spec_perms[p].name))
				want[nw++] = spec_roles[s].name;
		qsort(want, nw, sizeof(*want), cmp_str);
		if (n != nw)
			fail_msg("roles-for-permission %s: %zu roles, spec gives %zu", spec_perms[p].name,
			    n, nw);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(got[i], want[i]);
		if (spec_perms[p].number == 0)
			assert_int_equal(n, 0);
	}
	idg_rbac_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(perm_count_is_75),
		cmocka_unit_test(perm_names_and_numbers_match_spec),
		cmocka_unit_test(perm_unknown_names_and_numbers_are_refused),
		cmocka_unit_test(perm_enum_constants_match_spec_numbers),
		cmocka_unit_test(builtin_roles_are_exactly_the_spec_roles),
		cmocka_unit_test(builtin_role_perms_equal_spec),
		cmocka_unit_test(model_role_perms_equal_spec),
		cmocka_unit_test(cluster_admin_has_all_74_but_unknown),
		cmocka_unit_test(meant_for_bits_match_spec),
		cmocka_unit_test(roles_for_repo_read_is_exactly_the_spec_list),
		cmocka_unit_test(roles_for_every_permission_matches_spec),
	};

	return cmocka_run_group_tests_name("rbac/spec", tests, NULL, NULL);
}
