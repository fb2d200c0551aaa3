/* The enforcer's pure part (enforce/acl_calc.c): which users and groups a repo's ACL names,
 * with what, from the bindings on the repo, its project and the cluster. */
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
#include "enforce/acl_calc.h"
#include "rbac/rbac.h"

static const uint8_t seed[16] = { 'a', 'c', 'l', 1, 2, 3 };

struct fx {
	struct idg_rbac *r;
	idg_rid proj, repo, other_repo, other_proj_repo;
};

/* user:uN -> uid 10000+N, group:gN -> gid 20000+N, allClusterUsers -> gid 999; robots and
 * pipelines have no POSIX id; a user named "user:nouid" has none yet. */
static int
resolve(void *ctx, idg_pid pid, uint8_t *tag, uint32_t *id)
{
	const struct idg_rbac *r = ctx;
	const char *name = idg_rbac_principal_name(r, pid);

	switch (idg_rbac_principal_kind(r, pid)) {
	case IDG_PK_ALL:
		*tag = IDG_ACLT_GROUP;
		*id = 999;
		return 0;
	case IDG_PK_USER:
		if (strcmp(name, "user:nouid") == 0)
			return 1;
		*tag = IDG_ACLT_USER;
		*id = 10000 + (uint32_t)atoi(name + 5);
		return 0;
	case IDG_PK_GROUP:
		*tag = IDG_ACLT_GROUP;
		*id = 20000 + (uint32_t)atoi(name + 6);
		return 0;
	default:
		return 1;
	}
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	idg_rid p2;

	assert_non_null(f);
	assert_int_equal(idg_rbac_new(seed, &f->r), 0);
	assert_int_equal(idg_rbac_resource_add(f->r, IDG_RT_PROJECT, "images", IDG_RID_CLUSTER,
	    &f->proj), 0);
	assert_int_equal(idg_rbac_resource_add(f->r, IDG_RT_REPO, "images/raw", f->proj,
	    &f->repo), 0);
	assert_int_equal(idg_rbac_resource_add(f->r, IDG_RT_REPO, "images/cooked", f->proj,
	    &f->other_repo), 0);
	assert_int_equal(idg_rbac_resource_add(f->r, IDG_RT_PROJECT, "audio", IDG_RID_CLUSTER,
	    &p2), 0);
	assert_int_equal(idg_rbac_resource_add(f->r, IDG_RT_REPO, "audio/raw", p2,
	    &f->other_proj_repo), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	idg_rbac_free(f->r);
	free(f);
	return 0;
}

static void
bind(struct fx *f, idg_rid at, const char *subject, const char *role)
{
	enum idg_pkind kind = strcmp(subject, "allClusterUsers") == 0 ? IDG_PK_ALL :
	    strncmp(subject, "group:", 6) == 0 ? IDG_PK_GROUP :
	    strncmp(subject, "robot:", 6) == 0 ? IDG_PK_ROBOT :
	    strncmp(subject, "pipeline:", 9) == 0 ? IDG_PK_PIPELINE : IDG_PK_USER;
	idg_pid pid;
	idg_role rl;

	assert_int_equal(idg_rbac_principal(f->r, subject, kind, &pid), 0);
	if (role == NULL) {
		assert_int_equal(idg_rbac_binding_set(f->r, at, pid, NULL, 0), 0);
		return;
	}
	assert_int_equal(idg_rbac_role_find(f->r, role, &rl), 0);
	assert_int_equal(idg_rbac_binding_set(f->r, at, pid, &rl, 1), 0);
}

/* The spec as text: "u10001:w g20002:r". */
static const char *
text(struct fx *f, idg_rid repo)
{
	static char buf[4096];
	struct idg_acl_spec s;
	size_t off = 0;

	assert_int_equal(idg_acl_compute(f->r, repo, resolve, f->r, &s), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < s.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%c%u:%c", i ? " " : "",
		    s.e[i].tag == IDG_ACLT_USER ? 'u' : 'g', s.e[i].id,
		    s.e[i].perm == IDG_ACLP_WRITE ? 'w' : 'r');
	return buf;
}

static void
test_nothing_bound(void **state)
{
	struct fx *f = *state;

	/* Root's clusterAdmin is built in and never named: uid 0 needs no entry. */
	assert_string_equal(text(f, f->repo), "");
}

static void
test_repo_roles(void **state)
{
	struct fx *f = *state;

	bind(f, f->repo, "user:1", "repoReader");
	bind(f, f->repo, "user:2", "repoWriter");
	bind(f, f->repo, "user:3", "repoOwner");
	bind(f, f->repo, "group:4", "repoReader");
	assert_string_equal(text(f, f->repo), "u10001:r u10002:w u10003:w g20004:r");
	/* Bindings on another repo, another project: nothing here. */
	assert_string_equal(text(f, f->other_repo), "");
	assert_string_equal(text(f, f->other_proj_repo), "");
}

static void
test_inherited(void **state)
{
	struct fx *f = *state;

	bind(f, IDG_RID_CLUSTER, "group:7", "repoReader");
	bind(f, f->proj, "user:5", "projectOwner");	/* includes repoOwner */
	bind(f, f->proj, "user:6", "projectViewer");	/* no repo permission */
	bind(f, IDG_RID_CLUSTER, "user:8", "clusterAdmin");
	assert_string_equal(text(f, f->repo), "u10005:w u10008:w g20007:r");
	assert_string_equal(text(f, f->other_repo), "u10005:w u10008:w g20007:r");
	assert_string_equal(text(f, f->other_proj_repo), "u10008:w g20007:r");
}

static void
test_strongest_wins(void **state)
{
	struct fx *f = *state;

	bind(f, IDG_RID_CLUSTER, "user:1", "repoReader");
	bind(f, f->repo, "user:1", "repoWriter");
	bind(f, IDG_RID_CLUSTER, "group:2", "repoWriter");
	bind(f, f->repo, "group:2", "repoReader");
	assert_string_equal(text(f, f->repo), "u10001:w g20002:w");
	bind(f, f->repo, "user:1", NULL);
	assert_string_equal(text(f, f->repo), "u10001:r g20002:w");
}

static void
test_all_cluster_users(void **state)
{
	struct fx *f = *state;

	/* Activation's defaults grant no repo permission: nobody is named. */
	bind(f, IDG_RID_CLUSTER, "allClusterUsers", "projectCreator");
	bind(f, f->proj, "allClusterUsers", "projectWriter");
	assert_string_equal(text(f, f->repo), "");
	bind(f, f->repo, "allClusterUsers", "repoReader");
	assert_string_equal(text(f, f->repo), "g999:r");
}

static void
test_no_posix_id_skipped(void **state)
{
	struct fx *f = *state;

	bind(f, f->repo, "robot:ci", "repoWriter");
	bind(f, f->repo, "pipeline:images/edges", "repoReader");
	bind(f, f->repo, "user:nouid", "repoOwner");
	bind(f, f->repo, "user:9", "repoReader");
	assert_string_equal(text(f, f->repo), "u10009:r");
}

static void
test_custom_role(void **state)
{
	struct fx *f = *state;
	struct idg_permset ps = { { 0, 0 } }, ps2 = { { 0, 0 } };
	idg_role role, role2;
	idg_pid pid;

	idg_permset_add(&ps, idg_perm_lookup("REPO_READ"));
	assert_int_equal(idg_rbac_role_add(f->r, "peek", &ps, 7, &role), 0);
	idg_permset_add(&ps2, idg_perm_lookup("REPO_LIST_FILE"));
	assert_int_equal(idg_rbac_role_add(f->r, "lister", &ps2, 7, &role2), 0);
	assert_int_equal(idg_rbac_principal(f->r, "user:3", IDG_PK_USER, &pid), 0);
	assert_int_equal(idg_rbac_binding_set(f->r, f->repo, pid, &role, 1), 0);
	assert_int_equal(idg_rbac_principal(f->r, "user:4", IDG_PK_USER, &pid), 0);
	assert_int_equal(idg_rbac_binding_set(f->r, f->repo, pid, &role2, 1), 0);
	/* REPO_READ makes an entry; REPO_LIST_FILE alone does not. */
	assert_string_equal(text(f, f->repo), "u10003:r");
}

static void
test_reset(void **state)
{
	struct fx *f = *state;

	bind(f, IDG_RID_CLUSTER, "group:1", "repoWriter");
	bind(f, f->repo, "user:2", "repoOwner");
	idg_rbac_reset(f->r);
	assert_string_equal(text(f, f->repo), "");
}

static void
test_bad_resource(void **state)
{
	struct fx *f = *state;
	struct idg_acl_spec s = { .n = 7 };

	assert_int_equal(idg_acl_compute(f->r, f->proj, resolve, f->r, &s), IDG_ERR_INVAL);
	assert_int_equal(idg_acl_compute(f->r, IDG_RID_CLUSTER, resolve, f->r, &s), IDG_ERR_INVAL);
	assert_int_equal(idg_acl_compute(f->r, 100000, resolve, f->r, &s), IDG_ERR_INVAL);
	assert_int_equal(s.n, 7);	/* untouched */
}

static void
test_too_many(void **state)
{
	struct fx *f = *state;
	struct idg_acl_spec s = { .n = 3 };
	char subject[32];

	for (int i = 0; i < IDG_ACL_ENTRIES_MAX; i++) {
		snprintf(subject, sizeof(subject), "user:%d", i);
		bind(f, f->repo, subject, "repoReader");
	}
	assert_int_equal(idg_acl_compute(f->r, f->repo, resolve, f->r, &s), 0);
	assert_int_equal(s.n, IDG_ACL_ENTRIES_MAX);
	bind(f, f->proj, "group:1", "repoReader");
	s.n = 3;
	assert_int_equal(idg_acl_compute(f->r, f->repo, resolve, f->r, &s), IDG_ERR_TOOBIG);
	assert_int_equal(s.n, 3);	/* untouched */
}

static void
test_cmp(void **state)
{
	struct fx *f = *state;
	struct idg_acl_spec a, b;

	bind(f, f->repo, "user:1", "repoReader");
	assert_int_equal(idg_acl_compute(f->r, f->repo, resolve, f->r, &a), 0);
	assert_int_equal(idg_acl_compute(f->r, f->other_repo, resolve, f->r, &b), 0);
	assert_int_not_equal(idg_acl_spec_cmp(&a, &b), 0);
	bind(f, f->other_repo, "user:1", "repoWriter");
	assert_int_equal(idg_acl_compute(f->r, f->other_repo, resolve, f->r, &b), 0);
	assert_int_not_equal(idg_acl_spec_cmp(&a, &b), 0);
	bind(f, f->other_repo, "user:1", "repoReader");
	assert_int_equal(idg_acl_compute(f->r, f->other_repo, resolve, f->r, &b), 0);
	assert_int_equal(idg_acl_spec_cmp(&a, &b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repo_roles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inherited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strongest_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_cluster_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_posix_id_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_resource, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
