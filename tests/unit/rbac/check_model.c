/* The role engine (rbac.c): inheritance, unions over groups and allClusterUsers, binding
 * replacement, root's immutable binding, memberships on both sides of the 8-group switch,
 * effective/explain, deletes, custom roles, reset — and a randomized differential test
 * against a deliberately naive reference model written here. */
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
#include "rbac/rbac.h"

static const uint8_t seed[16] = { 'm', 'o', 'd', 'e', 'l', 1, 2, 3 };

/* ---------- helpers ---------- */

static struct idg_rbac *
model(void)
{
	struct idg_rbac *r = NULL;

	assert_int_equal(idg_rbac_new(seed, &r), 0);
	assert_non_null(r);
	return r;
}

static idg_role
ROLE(const struct idg_rbac *r, const char *name)
{
	idg_role role;

	if (idg_rbac_role_find(r, name, &role) != 0)
		fail_msg("no role %s", name);
	return role;
}

static int
PERM(const char *name)
{
	int p = idg_perm_lookup(name);

	if (p < 0)
		fail_msg("no permission %s", name);
	return p;
}

static idg_pid
principal(struct idg_rbac *r, const char *subject)
{
	enum idg_pkind kind = strncmp(subject, "group:", 6) == 0 ? IDG_PK_GROUP :
	    strncmp(subject, "robot:", 6) == 0 ? IDG_PK_ROBOT : IDG_PK_USER;
	idg_pid pid;

	assert_int_equal(idg_rbac_principal(r, subject, kind, &pid), 0);
	return pid;
}

static idg_rid
project(struct idg_rbac *r, const char *name)
{
	idg_rid rid;

	assert_int_equal(idg_rbac_resource_add(r, IDG_RT_PROJECT, name, IDG_RID_CLUSTER, &rid), 0);
	return rid;
}

static idg_rid
repo(struct idg_rbac *r, const char *full, idg_rid parent)
{
	idg_rid rid;

	assert_int_equal(idg_rbac_resource_add(r, IDG_RT_REPO, full, parent, &rid), 0);
	return rid;
}

/* Bind a comma-free list of role names (NULL-terminated varargs) to pid on rid. */
static int
bind(struct idg_rbac *r, idg_rid rid, idg_pid pid, ...)
{
	idg_role roles[IDG_BINDING_ROLES_MAX + 4];
	size_t n = 0;
	const char *name;
	va_list ap;

	va_start(ap, pid);
	while ((name = va_arg(ap, const char *)) != NULL && n < IDG_ARRAY_SIZE(roles))
		roles[n++] = ROLE(r, name);
	va_end(ap);
	return idg_rbac_binding_set(r, rid, pid, roles, n);
}

/* Remove pid's roles on rid (n == 0). The roles pointer is a real, empty array here; the
 * NULL form has a test of its own at the end. */
static int
unbind(struct idg_rbac *r, idg_rid rid, idg_pid pid)
{
	idg_role none[1] = { 0 };

	return idg_rbac_binding_set(r, rid, pid, none, 0);
}

static bool
can(const struct idg_rbac *r, idg_pid who, const char *perm, idg_rid rid)
{
	return idg_rbac_check(r, who, PERM(perm), rid, 0);
}

/* ---------- inheritance and unions ---------- */

static void
cluster_binding_applies_to_every_project_and_repo(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p1 = project(r, "p1"), p2 = project(r, "p2");
	idg_rid a = repo(r, "p1/a", p1), b = repo(r, "p2/b", p2);
	idg_pid u = principal(r, "user:u@example.com");

	(void)state;
	assert_false(can(r, u, "REPO_READ", a));
	assert_int_equal(bind(r, IDG_RID_CLUSTER, u, "repoReader", NULL), 0);
	assert_true(can(r, u, "REPO_READ", IDG_RID_CLUSTER));
	assert_true(can(r, u, "REPO_READ", p1));
	assert_true(can(r, u, "REPO_READ", p2));
	assert_true(can(r, u, "REPO_READ", a));
	assert_true(can(r, u, "REPO_READ", b));
	assert_false(can(r, u, "REPO_WRITE", a));
	idg_rbac_free(r);
}

static void
project_binding_applies_to_its_repos_only(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p1 = project(r, "p1"), p2 = project(r, "p2");
	idg_rid a = repo(r, "p1/a", p1), a2 = repo(r, "p1/a2", p1), b = repo(r, "p2/b", p2);
	idg_pid u = principal(r, "user:u@example.com");

	(void)state;
	assert_int_equal(bind(r, p1, u, "repoWriter", NULL), 0);
	assert_true(can(r, u, "REPO_WRITE", p1));
	assert_true(can(r, u, "REPO_WRITE", a));
	assert_true(can(r, u, "REPO_WRITE", a2));
	assert_false(can(r, u, "REPO_WRITE", b));	/* another project's repo */
	assert_false(can(r, u, "REPO_READ", b));
	assert_false(can(r, u, "REPO_WRITE", p2));
	assert_false(can(r, u, "REPO_WRITE", IDG_RID_CLUSTER));	/* never upward */
	idg_rbac_free(r);
}

static void
repo_binding_applies_to_that_repo_only(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p1 = project(r, "p1");
	idg_rid a = repo(r, "p1/a", p1), a2 = repo(r, "p1/a2", p1);
	idg_pid u = principal(r, "user:u@example.com");

	(void)state;
	assert_int_equal(bind(r, a, u, "repoOwner", NULL), 0);
	assert_true(can(r, u, "REPO_DELETE", a));
	assert_false(can(r, u, "REPO_READ", a2));
	assert_false(can(r, u, "REPO_READ", p1));
	assert_false(can(r, u, "REPO_READ", IDG_RID_CLUSTER));
	idg_rbac_free(r);
}

static void
permissions_are_the_union_of_user_groups_and_all_users(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p);
	idg_pid u = principal(r, "user:u@example.com");
	idg_pid other = principal(r, "user:other@example.com");
	idg_pid g1 = principal(r, "group:g1"), g2 = principal(r, "group:g2");

	(void)state;
	assert_int_equal(idg_rbac_member_add(r, g1, u), 0);
	assert_int_equal(idg_rbac_member_add(r, g2, u), 0);
	assert_int_equal(bind(r, a, u, "repoReader", NULL), 0);		/* own, on the repo */
	assert_int_equal(bind(r, p, g1, "projectViewer", NULL), 0);	/* group, on the project */
	assert_int_equal(bind(r, a, g2, "repoWriter", NULL), 0);		/* group, on the repo */
	assert_int_equal(bind(r, IDG_RID_CLUSTER, IDG_PID_ALL, "projectCreator", NULL), 0);

	assert_true(can(r, u, "REPO_READ", a));
	assert_true(can(r, u, "REPO_WRITE", a));
	assert_true(can(r, u, "PROJECT_LIST_REPO", a));
	assert_true(can(r, u, "PROJECT_CREATE", a));
	assert_false(can(r, u, "REPO_DELETE", a));
	/* Someone in no group gets only what allClusterUsers has. */
	assert_false(can(r, other, "REPO_READ", a));
	assert_false(can(r, other, "PROJECT_LIST_REPO", a));
	assert_true(can(r, other, "PROJECT_CREATE", IDG_RID_CLUSTER));
	/* A principal the model has never seen is counted as allClusterUsers only. */
	assert_true(idg_rbac_check(r, IDG_PID_NONE, PERM("PROJECT_CREATE"), a, 0));
	assert_false(idg_rbac_check(r, IDG_PID_NONE, PERM("REPO_READ"), a, 0));
	/* A group's binding does not leak to non-members through the group principal. */
	assert_true(can(r, g2, "REPO_WRITE", a));
	assert_false(can(r, other, "REPO_WRITE", a));
	idg_rbac_free(r);
}

static void
skip_all_flag_ignores_all_cluster_users_bindings(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p);
	idg_pid u = principal(r, "user:u@example.com");
	int read = PERM("REPO_READ");

	(void)state;
	assert_int_equal(bind(r, a, IDG_PID_ALL, "repoReader", NULL), 0);
	assert_int_equal(bind(r, p, IDG_PID_ALL, "projectViewer", NULL), 0);
	assert_true(idg_rbac_check(r, u, read, a, 0));
	assert_false(idg_rbac_check(r, u, read, a, IDG_CHECK_SKIP_ALL));
	assert_false(idg_rbac_check(r, u, PERM("PROJECT_LIST_REPO"), a, IDG_CHECK_SKIP_ALL));
	assert_false(idg_rbac_check(r, IDG_PID_NONE, read, a, IDG_CHECK_SKIP_ALL));
	/* The flag only drops allClusterUsers: the user's own binding still counts. */
	assert_int_equal(bind(r, p, u, "repoReader", NULL), 0);
	assert_true(idg_rbac_check(r, u, read, a, IDG_CHECK_SKIP_ALL));
	idg_rbac_free(r);
}

/* ---------- bindings ---------- */

static void
setting_a_binding_replaces_the_subjects_roles(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "default"), a = repo(r, "default/testinput", p);
	idg_pid alice = principal(r, "user:alice@example.com");
	const idg_role *roles;
	size_t n, total = idg_rbac_binding_total(r);

	(void)state;
	assert_int_equal(bind(r, a, alice, "repoReader", NULL), 0);
	assert_int_equal(idg_rbac_binding_total(r), total + 1);
	assert_false(can(r, alice, "REPO_WRITE", a));

	assert_int_equal(bind(r, a, alice, "repoWriter", NULL), 0);
	assert_int_equal(idg_rbac_binding_get(r, a, alice, &roles, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(roles[0], ROLE(r, "repoWriter"));
	assert_true(can(r, alice, "REPO_WRITE", a));
	assert_int_equal(idg_rbac_binding_total(r), total + 1);	/* replaced, not added */
	assert_int_equal(idg_rbac_binding_count(r, a), 1);

	/* Back to reader: the writer permission must go away again. */
	assert_int_equal(bind(r, a, alice, "repoReader", NULL), 0);
	assert_false(can(r, alice, "REPO_WRITE", a));
	assert_true(can(r, alice, "REPO_READ", a));

	/* n == 0 removes the subject there. */
	assert_int_equal(unbind(r, a, alice), 0);
	assert_int_equal(idg_rbac_binding_get(r, a, alice, &roles, &n), IDG_ERR_NOTFOUND);
	assert_false(can(r, alice, "REPO_READ", a));
	assert_int_equal(idg_rbac_binding_total(r), total);
	assert_int_equal(idg_rbac_binding_count(r, a), 0);
	/* Removing what is not there is not an error and changes nothing. */
	assert_int_equal(unbind(r, a, alice), 0);
	assert_int_equal(idg_rbac_binding_total(r), total);
	idg_rbac_free(r);
}

static void
binding_roles_are_sorted_and_duplicates_folded(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p");
	idg_pid u = principal(r, "user:u@example.com");
	idg_role w = ROLE(r, "repoWriter"), v = ROLE(r, "projectViewer");
	idg_role in[] = { v, w, v, w, w };
	const idg_role *roles;
	size_t n;

	(void)state;
	assert_int_equal(idg_rbac_binding_set(r, p, u, in, IDG_ARRAY_SIZE(in)), 0);
	assert_int_equal(idg_rbac_binding_get(r, p, u, &roles, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(roles[0], w < v ? w : v);
	assert_int_equal(roles[1], w < v ? v : w);
	assert_true(can(r, u, "REPO_WRITE", p));
	assert_true(can(r, u, "PROJECT_LIST_REPO", p));
	idg_rbac_free(r);
}

static void
binding_set_refuses_bad_input_without_changing_state(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p");
	idg_pid u = principal(r, "user:u@example.com");
	idg_role many[IDG_BINDING_ROLES_MAX + 1], bogus = (idg_role)(idg_rbac_role_limit(r) + 5);
	const idg_role *roles;
	size_t n;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(many); i++)
		many[i] = ROLE(r, "repoReader");
	assert_int_equal(bind(r, p, u, "repoReader", NULL), 0);
	assert_int_equal(idg_rbac_binding_set(r, p, u, many, IDG_ARRAY_SIZE(many)), IDG_ERR_TOOBIG);
	assert_int_equal(idg_rbac_binding_set(r, p, u, many, IDG_BINDING_ROLES_MAX), 0);
	assert_int_equal(idg_rbac_binding_set(r, p, u, &bogus, 1), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_rbac_binding_set(r, IDG_RID_NONE, u, many, 1), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_rbac_binding_set(r, p, 9999, many, 1), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_rbac_binding_get(r, p, u, &roles, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(roles[0], ROLE(r, "repoReader"));
	idg_rbac_free(r);
}

static void
root_cluster_binding_is_immutable_and_root_may_do_everything(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p);
	idg_role reader = ROLE(r, "repoReader");
	const idg_role *roles;
	size_t n;
	idg_rid where[] = { IDG_RID_CLUSTER, p, a };

	(void)state;
	assert_string_equal(idg_rbac_principal_name(r, IDG_PID_ROOT), "root");
	assert_int_equal(idg_rbac_principal_kind(r, IDG_PID_ROOT), IDG_PK_ROOT);
	assert_int_equal(idg_rbac_binding_set(r, IDG_RID_CLUSTER, IDG_PID_ROOT, &reader, 1),
	    IDG_ERR_DENIED);
	assert_int_equal(unbind(r, IDG_RID_CLUSTER, IDG_PID_ROOT),
	    IDG_ERR_DENIED);
	assert_int_equal(idg_rbac_binding_get(r, IDG_RID_CLUSTER, IDG_PID_ROOT, &roles, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(roles[0], ROLE(r, "clusterAdmin"));
	assert_int_equal(idg_rbac_binding_total(r), 1);
	for (size_t w = 0; w < IDG_ARRAY_SIZE(where); w++) {
		for (int perm = 1; perm < idg_perm_count(); perm++) {
			if (!idg_rbac_check(r, IDG_PID_ROOT, perm, where[w], 0) ||
			    !idg_rbac_check(r, IDG_PID_ROOT, perm, where[w], IDG_CHECK_SKIP_ALL))
				fail_msg("root lacks %s on %s", idg_perm_name(perm),
				    idg_rtype_upper(idg_rbac_resource_type(r, where[w])));
		}
		assert_false(idg_rbac_check(r, IDG_PID_ROOT, 0, where[w], 0));
	}
	/* Binding root elsewhere is allowed and does not touch the cluster binding. */
	assert_int_equal(idg_rbac_binding_set(r, a, IDG_PID_ROOT, &reader, 1), 0);
	assert_int_equal(unbind(r, a, IDG_PID_ROOT), 0);
	assert_true(idg_rbac_check(r, IDG_PID_ROOT, PERM("REPO_DELETE"), a, 0));
	idg_rbac_free(r);
}

static void
out_of_range_checks_are_denied(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p");

	(void)state;
	assert_false(idg_rbac_check(r, IDG_PID_ROOT, -1, p, 0));
	assert_false(idg_rbac_check(r, IDG_PID_ROOT, idg_perm_count(), p, 0));
	assert_false(idg_rbac_check(r, IDG_PID_ROOT, 127, p, 0));
	assert_false(idg_rbac_check(r, IDG_PID_ROOT, PERM("REPO_READ"), IDG_RID_NONE, 0));
	assert_false(idg_rbac_check(r, IDG_PID_ROOT, PERM("REPO_READ"), 12345, 0));
	assert_int_equal(idg_rbac_explain(r, IDG_PID_ROOT, -1, p, 0, NULL, 0), 0);
	idg_rbac_free(r);
}

/* ---------- memberships ---------- */

/* A user in n groups; bindings through the first, a middle and the last group; removing
 * memberships one by one crosses the switch between the scan (<= 8) and the hash set. */
static void
memberships_in_n_groups(size_t ngroups)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p), b = repo(r, "p/b", p);
	idg_pid u = principal(r, "user:u@example.com");
	idg_pid v = principal(r, "user:v@example.com");
	idg_pid outsider = principal(r, "group:outsider");
	idg_pid *g = calloc(ngroups, sizeof(*g));
	size_t last = ngroups - 1, mid = ngroups / 2;
	const idg_pid *list;
	size_t n;

	assert_non_null(g);
	for (size_t i = 0; i < ngroups; i++) {
		char name[64];

		snprintf(name, sizeof(name), "group:g%zu", i);
		g[i] = principal(r, name);
		assert_int_equal(idg_rbac_member_add(r, g[i], u), 0);
	}
	assert_int_equal(idg_rbac_member_add(r, g[last], u), IDG_ERR_EXISTS);
	assert_int_equal(idg_rbac_member_add(r, outsider, v), 0);
	assert_int_equal(bind(r, a, g[last], "repoReader", NULL), 0);
	assert_int_equal(bind(r, b, g[0], "repoWriter", NULL), 0);
	assert_int_equal(bind(r, p, g[mid], "projectViewer", NULL), 0);
	assert_int_equal(bind(r, a, outsider, "repoOwner", NULL), 0);

	idg_rbac_groups_of(r, u, &list, &n);
	assert_int_equal(n, ngroups);
	for (size_t i = 1; i < n; i++)
		assert_true(list[i - 1] < list[i]);
	for (size_t i = 0; i < ngroups; i++)
		assert_true(idg_rbac_is_member(r, g[i], u));
	assert_false(idg_rbac_is_member(r, outsider, u));
	assert_true(can(r, u, "REPO_READ", a));
	assert_true(can(r, u, "REPO_WRITE", b));
	assert_true(can(r, u, "PROJECT_LIST_REPO", a));
	assert_false(can(r, u, "REPO_DELETE", a));	/* outsider's binding */
	assert_true(can(r, v, "REPO_DELETE", a));
	assert_false(can(r, v, "REPO_WRITE", b));

	/* Leave the last group: its binding stops applying at once. */
	assert_int_equal(idg_rbac_member_del(r, g[last], u), 0);
	assert_false(idg_rbac_is_member(r, g[last], u));
	assert_false(can(r, u, "REPO_READ", a));
	assert_int_equal(can(r, u, "REPO_WRITE", b), last != 0);
	assert_int_equal(can(r, u, "PROJECT_LIST_REPO", a), last != mid);
	/* And rejoining gives it back. */
	assert_int_equal(idg_rbac_member_add(r, g[last], u), 0);
	assert_true(can(r, u, "REPO_READ", a));

	/* Leave every group from the top down; after each step exactly the remaining
	 * memberships count. */
	for (size_t k = ngroups; k-- > 0; ) {
		assert_int_equal(idg_rbac_member_del(r, g[k], u), 0);
		assert_int_equal(idg_rbac_member_del(r, g[k], u), IDG_ERR_NOTFOUND);
		assert_false(idg_rbac_is_member(r, g[k], u));
		if (k > 0)
			assert_true(idg_rbac_is_member(r, g[k - 1], u));
		assert_int_equal(can(r, u, "REPO_READ", a), false);
		assert_int_equal(can(r, u, "REPO_WRITE", b), k > 0);
		assert_int_equal(can(r, u, "PROJECT_LIST_REPO", a), k > mid);
		idg_rbac_groups_of(r, u, &list, &n);
		assert_int_equal(n, k);
		idg_rbac_members_of(r, g[k], &list, &n);
		assert_int_equal(n, 0);
	}
	assert_true(can(r, v, "REPO_DELETE", a));
	free(g);
	idg_rbac_free(r);
}

static void
membership_changes_apply_immediately_1_group(void **state)
{
	(void)state;
	memberships_in_n_groups(1);
}

static void
membership_changes_apply_immediately_8_groups(void **state)
{
	(void)state;
	memberships_in_n_groups(8);
}

static void
membership_changes_apply_immediately_9_groups(void **state)
{
	(void)state;
	memberships_in_n_groups(9);
}

static void
membership_changes_apply_immediately_100_groups(void **state)
{
	(void)state;
	memberships_in_n_groups(100);
}

static void
membership_changes_apply_immediately_1000_groups(void **state)
{
	(void)state;
	memberships_in_n_groups(1000);
}

static void
membership_refuses_groups_in_groups_and_all_users(void **state)
{
	struct idg_rbac *r = model();
	idg_pid g = principal(r, "group:g"), h = principal(r, "group:h");
	idg_pid u = principal(r, "user:u@example.com"), bot = principal(r, "robot:ci");
	const idg_pid *list;
	size_t n;

	(void)state;
	assert_int_equal(idg_rbac_member_add(r, g, h), IDG_ERR_INVAL);
	assert_int_equal(idg_rbac_member_add(r, g, IDG_PID_ALL), IDG_ERR_INVAL);
	assert_int_equal(idg_rbac_member_add(r, u, bot), IDG_ERR_INVAL);	/* u is no group */
	assert_int_equal(idg_rbac_member_add(r, g, 99999), IDG_ERR_INVAL);
	assert_int_equal(idg_rbac_member_add(r, g, bot), 0);
	assert_int_equal(idg_rbac_member_add(r, g, u), 0);
	idg_rbac_members_of(r, g, &list, &n);
	assert_int_equal(n, 2);
	assert_true(list[0] < list[1]);
	assert_int_equal(idg_rbac_member_del(r, h, u), IDG_ERR_NOTFOUND);
	idg_rbac_free(r);
}

/* ---------- effective and explain ---------- */

struct team {
	struct idg_rbac *r;
	idg_rid p, a;
	idg_pid u, v, g;
};

/* u: [repoWriter, projectViewer] on p/a, member of g; g: repoReader on p;
 * allClusterUsers: repoReader on the cluster. v is in no group. */
static void
team_setup(struct team *t)
{
	t->r = model();
	t->p = project(t->r, "p");
	t->a = repo(t->r, "p/a", t->p);
	t->u = principal(t->r, "user:u@example.com");
	t->v = principal(t->r, "user:v@example.com");
	t->g = principal(t->r, "group:g");
	assert_int_equal(idg_rbac_member_add(t->r, t->g, t->u), 0);
	assert_int_equal(bind(t->r, t->a, t->u, "repoWriter", "projectViewer", NULL), 0);
	assert_int_equal(bind(t->r, t->p, t->g, "repoReader", NULL), 0);
	assert_int_equal(bind(t->r, IDG_RID_CLUSTER, IDG_PID_ALL, "repoReader", NULL), 0);
}

static void
permset_of(const struct idg_rbac *r, struct idg_permset *out, ...)
{
	const char *name;
	va_list ap;

	memset(out, 0, sizeof(*out));
	va_start(ap, out);
	while ((name = va_arg(ap, const char *)) != NULL)
		idg_permset_union(out, idg_rbac_role_perms(r, ROLE(r, name)));
	va_end(ap);
}

static void
effective_gives_every_role_and_permission_held(void **state)
{
	struct team t;
	struct idg_permset got, want;
	uint8_t *seen;
	size_t nroles;

	(void)state;
	team_setup(&t);
	nroles = idg_rbac_role_limit(t.r);
	seen = calloc(nroles, 1);
	assert_non_null(seen);

	idg_rbac_effective(t.r, t.u, t.a, 0, &got, seen);
	permset_of(t.r, &want, "repoWriter", "projectViewer", "repoReader", NULL);
	assert_memory_equal(&got, &want, sizeof(got));
	for (size_t i = 0; i < nroles; i++) {
		const char *name = idg_rbac_role_name(t.r, (idg_role)i);
		bool held = strcmp(name, "repoWriter") == 0 || strcmp(name, "projectViewer") == 0 ||
		    strcmp(name, "repoReader") == 0;

		if (seen[i] != held)
			fail_msg("roles_seen[%s] = %d", name, seen[i]);
	}

	/* On the project, u holds only what g and allClusterUsers give. */
	memset(seen, 0, nroles);
	idg_rbac_effective(t.r, t.u, t.p, 0, &got, seen);
	permset_of(t.r, &want, "repoReader", NULL);
	assert_memory_equal(&got, &want, sizeof(got));
	assert_int_equal(seen[ROLE(t.r, "repoWriter")], 0);

	/* v: only allClusterUsers' role, and nothing at all without it. */
	memset(seen, 0, nroles);
	idg_rbac_effective(t.r, t.v, t.a, 0, &got, seen);
	assert_memory_equal(&got, &want, sizeof(got));
	assert_int_equal(seen[ROLE(t.r, "repoReader")], 1);
	memset(seen, 0, nroles);
	idg_rbac_effective(t.r, t.v, t.a, IDG_CHECK_SKIP_ALL, &got, seen);
	assert_true(idg_permset_empty(&got));
	for (size_t i = 0; i < nroles; i++)
		assert_int_equal(seen[i], 0);
	/* roles_seen may be NULL. */
	idg_rbac_effective(t.r, t.u, t.a, 0, &got, NULL);
	assert_false(idg_permset_empty(&got));
	free(seen);
	idg_rbac_free(t.r);
}

static bool
has_grant(const struct idg_grant *g, size_t n, idg_rid at, idg_pid via, idg_role role)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].at == at && g[i].via == via && g[i].role == role)
			return true;
	return false;
}

static void
explain_names_binding_via_and_level(void **state)
{
	struct team t;
	struct idg_grant g[8];
	size_t n;
	int read = PERM("REPO_READ");

	(void)state;
	team_setup(&t);
	/* REPO_READ reaches u three ways: its own repoWriter on the repo, g's repoReader on
	 * the project, allClusterUsers' repoReader on the cluster. projectViewer (in the same
	 * binding as repoWriter) does not carry REPO_READ and must not be named. */
	n = idg_rbac_explain(t.r, t.u, read, t.a, 0, g, 8);
	assert_int_equal(n, 3);
	assert_true(has_grant(g, n, t.a, t.u, ROLE(t.r, "repoWriter")));
	assert_true(has_grant(g, n, t.p, t.g, ROLE(t.r, "repoReader")));
	assert_true(has_grant(g, n, IDG_RID_CLUSTER, IDG_PID_ALL, ROLE(t.r, "repoReader")));

	n = idg_rbac_explain(t.r, t.u, read, t.a, IDG_CHECK_SKIP_ALL, g, 8);
	assert_int_equal(n, 2);
	assert_false(has_grant(g, n, IDG_RID_CLUSTER, IDG_PID_ALL, ROLE(t.r, "repoReader")));

	n = idg_rbac_explain(t.r, t.u, PERM("PROJECT_LIST_REPO"), t.a, 0, g, 8);
	assert_int_equal(n, 1);
	assert_true(has_grant(g, n, t.a, t.u, ROLE(t.r, "projectViewer")));

	/* Denied: 0, and the check agrees. */
	assert_int_equal(idg_rbac_explain(t.r, t.u, PERM("REPO_DELETE"), t.a, 0, g, 8), 0);
	assert_false(can(t.r, t.u, "REPO_DELETE", t.a));
	assert_int_equal(idg_rbac_explain(t.r, t.v, read, t.a, IDG_CHECK_SKIP_ALL, g, 8), 0);

	/* One binding whose roles both carry the permission names each of them. */
	assert_int_equal(bind(t.r, t.a, t.v, "repoReader", "repoOwner", NULL), 0);
	n = idg_rbac_explain(t.r, t.v, read, t.a, IDG_CHECK_SKIP_ALL, g, 8);
	assert_int_equal(n, 2);
	assert_true(has_grant(g, n, t.a, t.v, ROLE(t.r, "repoReader")));
	assert_true(has_grant(g, n, t.a, t.v, ROLE(t.r, "repoOwner")));

	/* max bounds what is written, not what is counted. */
	memset(g, 0xee, sizeof(g));
	n = idg_rbac_explain(t.r, t.u, read, t.a, 0, g, 1);
	assert_int_equal(n, 3);
	assert_int_equal(g[1].at, 0xeeeeeeeeu);
	assert_int_equal(idg_rbac_explain(t.r, t.u, read, t.a, 0, NULL, 0), 3);

	/* Root: through its clusterAdmin binding. */
	n = idg_rbac_explain(t.r, IDG_PID_ROOT, read, t.a, 0, g, 8);
	assert_true(has_grant(g, n < 8 ? n : 8, IDG_RID_CLUSTER, IDG_PID_ROOT,
	    ROLE(t.r, "clusterAdmin")));
	idg_rbac_free(t.r);
}

/* ---------- resources ---------- */

static void
resource_delete_drops_bindings_and_refuses_with_children(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p), b = repo(r, "p/b", p), a2;
	idg_pid u = principal(r, "user:u@example.com"), w = principal(r, "user:w@example.com");
	idg_pid g = principal(r, "group:g");
	size_t total;

	(void)state;
	assert_int_equal(idg_rbac_member_add(r, g, w), 0);
	assert_int_equal(bind(r, a, u, "repoOwner", NULL), 0);
	assert_int_equal(bind(r, a, g, "repoReader", NULL), 0);
	assert_int_equal(bind(r, p, u, "projectOwner", NULL), 0);
	total = idg_rbac_binding_total(r);
	assert_int_equal(total, 4);
	assert_int_equal(idg_rbac_resource_children(r, p), 2);

	assert_int_equal(idg_rbac_resource_del(r, p), IDG_ERR_CONFLICT);
	assert_true(idg_rbac_resource_live(r, p));
	assert_int_equal(idg_rbac_binding_total(r), total);
	assert_int_not_equal(idg_rbac_resource_del(r, IDG_RID_CLUSTER), 0);
	assert_true(idg_rbac_resource_live(r, IDG_RID_CLUSTER));

	assert_int_equal(idg_rbac_resource_del(r, a), 0);
	assert_int_equal(idg_rbac_resource_del(r, a), IDG_ERR_NOTFOUND);
	assert_false(idg_rbac_resource_live(r, a));
	assert_int_equal(idg_rbac_resource_find(r, IDG_RT_REPO, "p/a"), IDG_RID_NONE);
	assert_int_equal(idg_rbac_binding_total(r), total - 2);
	assert_int_equal(idg_rbac_resource_children(r, p), 1);
	assert_false(can(r, w, "REPO_READ", a));
	assert_int_equal(bind(r, a, u, "repoReader", NULL), IDG_ERR_NOTFOUND);

	/* A repo of the same name made again starts with no bindings of its own. */
	a2 = repo(r, "p/a", p);
	assert_int_equal(idg_rbac_resource_find(r, IDG_RT_REPO, "p/a"), a2);
	assert_string_equal(idg_rbac_resource_name(r, a2), "p/a");
	assert_int_equal(idg_rbac_resource_parent(r, a2), p);
	assert_int_equal(idg_rbac_binding_count(r, a2), 0);
	assert_false(can(r, w, "REPO_READ", a2));
	assert_true(can(r, u, "REPO_READ", a2));	/* inherited from projectOwner on p */

	assert_int_equal(idg_rbac_resource_del(r, a2), 0);
	assert_int_equal(idg_rbac_resource_del(r, b), 0);
	assert_int_equal(idg_rbac_resource_del(r, p), 0);
	assert_int_equal(idg_rbac_binding_total(r), 1);	/* only root's */
	assert_int_equal(idg_rbac_resource_find(r, IDG_RT_PROJECT, "p"), IDG_RID_NONE);
	assert_int_equal(idg_rbac_resource_children(r, IDG_RID_CLUSTER), 0);
	idg_rbac_free(r);
}

static void
resource_add_refuses_duplicates_and_dead_parents(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), x;

	(void)state;
	assert_int_equal(idg_rbac_resource_add(r, IDG_RT_PROJECT, "p", IDG_RID_CLUSTER, &x),
	    IDG_ERR_EXISTS);
	repo(r, "p/a", p);
	assert_int_equal(idg_rbac_resource_add(r, IDG_RT_REPO, "p/a", p, &x), IDG_ERR_EXISTS);
	assert_int_equal(idg_rbac_resource_add(r, IDG_RT_REPO, "q/a", 4242, &x), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_rbac_resource_type(r, p), IDG_RT_PROJECT);
	assert_string_equal(idg_rbac_resource_name(r, IDG_RID_CLUSTER), "");
	assert_string_equal(idg_rtype_upper(IDG_RT_REPO), "REPO");
	assert_string_equal(idg_rtype_lower(IDG_RT_PROJECT), "project");
	idg_rbac_free(r);
}

/* ---------- custom roles ---------- */

static void
custom_roles_add_bind_and_delete_rules(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p);
	idg_pid u = principal(r, "user:u@example.com");
	struct idg_permset ps = { { 0, 0 } };
	idg_role custom, again, builtin = ROLE(r, "repoReader");

	(void)state;
	idg_permset_add(&ps, PERM("REPO_READ"));
	idg_permset_add(&ps, PERM("PROJECT_LIST_REPO"));
	assert_int_equal(idg_rbac_role_add(r, "auditor", &ps, IDG_RTB_PROJECT, &custom), 0);
	assert_int_equal(idg_rbac_role_add(r, "auditor", &ps, IDG_RTB_PROJECT, &again),
	    IDG_ERR_EXISTS);
	assert_int_equal(idg_rbac_role_add(r, "repoReader", &ps, IDG_RTB_PROJECT, &again),
	    IDG_ERR_EXISTS);
	assert_false(idg_rbac_role_builtin(r, custom));
	assert_int_equal(idg_rbac_role_rtypes(r, custom), IDG_RTB_PROJECT);
	assert_memory_equal(idg_rbac_role_perms(r, custom), &ps, sizeof(ps));
	assert_int_equal(ROLE(r, "auditor"), custom);

	assert_int_equal(idg_rbac_binding_set(r, p, u, &custom, 1), 0);
	assert_true(can(r, u, "REPO_READ", a));
	assert_false(can(r, u, "REPO_WRITE", a));
	assert_int_equal(idg_rbac_role_uses(r, custom), 1);
	assert_int_equal(idg_rbac_role_del(r, custom), IDG_ERR_CONFLICT);
	assert_int_equal(ROLE(r, "auditor"), custom);

	assert_int_equal(unbind(r, p, u), 0);
	assert_int_equal(idg_rbac_role_uses(r, custom), 0);
	assert_int_equal(idg_rbac_role_del(r, custom), 0);
	assert_int_equal(idg_rbac_role_find(r, "auditor", &again), IDG_ERR_NOTFOUND);
	assert_null(idg_rbac_role_name(r, custom));
	assert_int_equal(idg_rbac_binding_set(r, p, u, &custom, 1), IDG_ERR_NOTFOUND);
	assert_int_equal(idg_rbac_role_del(r, custom), IDG_ERR_NOTFOUND);

	/* Built-in roles can never go, bound or not. */
	assert_int_equal(idg_rbac_role_del(r, builtin), IDG_ERR_DENIED);
	assert_int_equal(idg_rbac_role_del(r, ROLE(r, "clusterAdmin")), IDG_ERR_DENIED);

	/* A new role in the freed slot has only its own permissions. */
	memset(&ps, 0, sizeof(ps));
	idg_permset_add(&ps, PERM("REPO_WRITE"));
	assert_int_equal(idg_rbac_role_add(r, "pusher", &ps, IDG_RTB_REPO, &again), 0);
	assert_int_equal(idg_rbac_binding_set(r, a, u, &again, 1), 0);
	assert_true(can(r, u, "REPO_WRITE", a));
	assert_false(can(r, u, "REPO_READ", a));
	idg_rbac_free(r);
}

static void
custom_role_uses_count_bindings_across_resources(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p);
	idg_pid u = principal(r, "user:u@example.com"), v = principal(r, "user:v@example.com");
	struct idg_permset ps = { { 0, 0 } };
	idg_role c, pair[2];

	(void)state;
	idg_permset_add(&ps, PERM("REPO_READ"));
	assert_int_equal(idg_rbac_role_add(r, "c", &ps, IDG_RTB_REPO, &c), 0);
	pair[0] = c;
	pair[1] = ROLE(r, "repoWriter");
	assert_int_equal(idg_rbac_binding_set(r, a, u, &c, 1), 0);
	assert_int_equal(idg_rbac_binding_set(r, a, v, pair, 2), 0);
	assert_int_equal(idg_rbac_binding_set(r, p, v, &c, 1), 0);
	assert_int_equal(idg_rbac_role_uses(r, c), 3);
	assert_int_equal(idg_rbac_role_uses(r, ROLE(r, "repoWriter")), 1);
	/* Replacing a binding releases the roles it had. */
	assert_int_equal(bind(r, a, u, "repoReader", NULL), 0);
	assert_int_equal(idg_rbac_role_uses(r, c), 2);
	assert_int_equal(idg_rbac_binding_set(r, a, u, &c, 1), 0);
	assert_int_equal(idg_rbac_role_uses(r, c), 3);
	/* Deleting the repo drops two of them; the project binding still holds it. */
	assert_int_equal(idg_rbac_resource_del(r, a), 0);
	assert_int_equal(idg_rbac_role_uses(r, c), 1);
	assert_int_equal(idg_rbac_role_del(r, c), IDG_ERR_CONFLICT);
	assert_int_equal(unbind(r, p, v), 0);
	assert_int_equal(idg_rbac_role_del(r, c), 0);
	idg_rbac_free(r);
}

static void
custom_roles_stop_at_the_role_limit(void **state)
{
	struct idg_rbac *r = model();
	struct idg_permset ps = { { 0, 0 } };
	size_t added = 0;
	idg_role id, first = 0;
	int rc;

	(void)state;
	for (;;) {
		char name[32];

		snprintf(name, sizeof(name), "custom%zu", added);
		rc = idg_rbac_role_add(r, name, &ps, IDG_RTB_REPO, &id);
		if (rc != 0)
			break;
		if (added == 0)
			first = id;
		assert_true(id < IDG_ROLES_MAX);
		added++;
		assert_true(added < 2 * IDG_ROLES_MAX);
	}
	assert_int_equal(rc, IDG_ERR_TOOBIG);
	assert_int_equal(added + idg_builtin_role_count(), IDG_ROLES_MAX);
	/* Freeing one makes room for exactly one. */
	assert_int_equal(idg_rbac_role_del(r, first), 0);
	assert_int_equal(idg_rbac_role_add(r, "late", &ps, IDG_RTB_REPO, &id), 0);
	assert_int_equal(id, first);
	assert_int_equal(idg_rbac_role_add(r, "later", &ps, IDG_RTB_REPO, &id), IDG_ERR_TOOBIG);
	idg_rbac_free(r);
}

/* ---------- reset ---------- */

static void
reset_keeps_only_roots_binding_and_clears_memberships(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p"), a = repo(r, "p/a", p);
	idg_pid u = principal(r, "user:u@example.com"), g = principal(r, "group:g");
	idg_pid many = principal(r, "user:many@example.com");
	struct idg_permset ps = { { 0, 0 } };
	idg_role c;
	const idg_pid *list;
	const idg_role *roles;
	size_t n;

	(void)state;
	idg_permset_add(&ps, PERM("REPO_READ"));
	assert_int_equal(idg_rbac_role_add(r, "c", &ps, IDG_RTB_REPO, &c), 0);
	assert_int_equal(idg_rbac_member_add(r, g, u), 0);
	for (int i = 0; i < 20; i++) {	/* past the hash-set switch */
		char name[32];

		snprintf(name, sizeof(name), "group:m%d", i);
		assert_int_equal(idg_rbac_member_add(r, principal(r, name), many), 0);
	}
	assert_int_equal(bind(r, IDG_RID_CLUSTER, IDG_PID_ALL, "projectCreator", NULL), 0);
	assert_int_equal(bind(r, p, g, "projectOwner", NULL), 0);
	assert_int_equal(idg_rbac_binding_set(r, a, u, &c, 1), 0);
	assert_int_equal(bind(r, a, IDG_PID_ROOT, "repoReader", NULL), 0);
	assert_int_equal(bind(r, p, principal(r, "group:m7"), "repoReader", NULL), 0);
	assert_int_equal(idg_rbac_binding_total(r), 6);

	idg_rbac_reset(r);
	assert_int_equal(idg_rbac_binding_total(r), 1);
	assert_int_equal(idg_rbac_binding_count(r, IDG_RID_CLUSTER), 1);
	assert_int_equal(idg_rbac_binding_count(r, p), 0);
	assert_int_equal(idg_rbac_binding_count(r, a), 0);
	assert_int_equal(idg_rbac_binding_get(r, IDG_RID_CLUSTER, IDG_PID_ROOT, &roles, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(roles[0], ROLE(r, "clusterAdmin"));
	idg_rbac_groups_of(r, u, &list, &n);
	assert_int_equal(n, 0);
	idg_rbac_groups_of(r, many, &list, &n);
	assert_int_equal(n, 0);
	idg_rbac_members_of(r, g, &list, &n);
	assert_int_equal(n, 0);
	assert_false(idg_rbac_is_member(r, g, u));
	assert_false(idg_rbac_is_member(r, principal(r, "group:m7"), many));
	assert_false(can(r, u, "REPO_READ", a));
	assert_false(can(r, u, "PROJECT_CREATE", IDG_RID_CLUSTER));
	assert_false(can(r, many, "REPO_READ", a));
	assert_true(can(r, IDG_PID_ROOT, "REPO_DELETE", a));
	/* Resources and roles survive; the custom role is now unused. */
	assert_true(idg_rbac_resource_live(r, a));
	assert_int_equal(idg_rbac_role_uses(r, c), 0);
	assert_int_equal(idg_rbac_role_del(r, c), 0);
	/* The model works normally afterwards. */
	assert_int_equal(idg_rbac_member_add(r, g, u), 0);
	assert_int_equal(bind(r, p, g, "repoReader", NULL), 0);
	assert_true(can(r, u, "REPO_READ", a));
	assert_int_equal(idg_rbac_binding_total(r), 2);
	idg_rbac_free(r);
}

/* ---------- randomized differential test ---------- */

/* The reference: a dense table of role masks per (resource, principal) and a boolean
 * membership matrix; a check is a direct reading of the spec's sentence. */
#define NPROJ 4
#define NREPO_PER 3
#define NRES (1 + NPROJ + NPROJ * NREPO_PER)
#define NUSERS 10
#define NGROUPS 12
#define NROBOTS 2
#define NPRIN_MAX 32

struct ref {
	struct idg_rbac *r;
	idg_rid rid[NRES];		/* engine id of my resource i (IDG_RID_NONE: deleted) */
	int parent[NRES];		/* my index; -1 for the cluster */
	char names[NRES][32];
	idg_pid pid[NPRIN_MAX];
	bool is_group[NPRIN_MAX];
	size_t npr;
	uint64_t bind[NRES][NPRIN_MAX];	/* role-id bitmask */
	bool member[NPRIN_MAX][NPRIN_MAX];	/* [who][group] */
	idg_role roles[64];
	size_t nroles;
	uint64_t rng;
};

static uint64_t
rnd(struct ref *f)
{
	/* xorshift64*: deterministic across runs and platforms. */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * UINT64_C(0x2545F4914F6CDD1D);
}

static size_t
rndn(struct ref *f, size_t n)
{
	return (size_t)(rnd(f) % n);
}

static int
ref_index_of_pid(const struct ref *f, idg_pid pid)
{
	for (size_t i = 0; i < f->npr; i++)
		if (f->pid[i] == pid)
			return (int)i;
	return -1;
}

static bool
ref_check(const struct ref *f, int who, int perm, int res, bool skip_all)
{
	int all = ref_index_of_pid(f, IDG_PID_ALL);

	if (perm < 0 || perm >= idg_perm_count())
		return false;
	for (int at = res; at >= 0; at = f->parent[at]) {
		for (size_t s = 0; s < f->npr; s++) {
			bool applies;

			if (f->bind[at][s] == 0)
				continue;
			applies = (who >= 0 && (int)s == who) || ((int)s == all && !skip_all) ||
			    (who >= 0 && f->is_group[s] && f->member[who][s]);
			if (!applies)
				continue;
			for (size_t k = 0; k < 64; k++)
				if ((f->bind[at][s] >> k & 1) &&
				    idg_permset_has(idg_rbac_role_perms(f->r, (idg_role)k), perm))
					return true;
		}
	}
	return false;
}

static size_t
ref_binding_total(const struct ref *f)
{
	size_t n = 0;

	for (size_t i = 0; i < NRES; i++)
		if (f->rid[i] != IDG_RID_NONE)
			for (size_t s = 0; s < f->npr; s++)
				n += f->bind[i][s] != 0;
	return n;
}

static void
ref_add_principal(struct ref *f, const char *subject, bool group)
{
	f->pid[f->npr] = principal(f->r, subject);
	f->is_group[f->npr] = group;
	f->npr++;
}

static void
ref_setup(struct ref *f)
{
	struct idg_permset ps = { { 0, 0 } };
	idg_role role;
	int k = 1;

	memset(f, 0, sizeof(*f));
	f->rng = UINT64_C(0x1d9a7e5eed);
	f->r = model();
	f->rid[0] = IDG_RID_CLUSTER;
	f->parent[0] = -1;
	for (int p = 0; p < NPROJ; p++) {
		int pi = k++;

		snprintf(f->names[pi], sizeof(f->names[pi]), "proj%d", p);
		f->rid[pi] = project(f->r, f->names[pi]);
		f->parent[pi] = 0;
		for (int q = 0; q < NREPO_PER; q++) {
			int ri = k++;

			snprintf(f->names[ri], sizeof(f->names[ri]), "proj%d/repo%d", p, q);
			f->rid[ri] = repo(f->r, f->names[ri], f->rid[pi]);
			f->parent[ri] = pi;
		}
	}
	f->pid[0] = IDG_PID_ROOT;
	f->pid[1] = IDG_PID_ALL;
	f->npr = 2;
	for (int i = 0; i < NUSERS; i++) {
		char s[64];

		snprintf(s, sizeof(s), "user:u%d@example.com", i);
		ref_add_principal(f, s, false);
	}
	for (int i = 0; i < NROBOTS; i++) {
		char s[64];

		snprintf(s, sizeof(s), "robot:bot%d", i);
		ref_add_principal(f, s, false);
	}
	for (int i = 0; i < NGROUPS; i++) {
		char s[64];

		snprintf(s, sizeof(s), "group:g%d", i);
		ref_add_principal(f, s, true);
	}
	/* Two custom roles next to the built-in ones. */
	idg_permset_add(&ps, PERM("REPO_READ"));
	idg_permset_add(&ps, PERM("CLUSTER_DEBUG_DUMP"));
	assert_int_equal(idg_rbac_role_add(f->r, "mixed", &ps, IDG_RTB_CLUSTER, &role), 0);
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(idg_rbac_role_add(f->r, "empty", &ps, IDG_RTB_REPO, &role), 0);
	for (size_t i = 0; i < idg_rbac_role_limit(f->r); i++)
		if (idg_rbac_role_name(f->r, (idg_role)i))
			f->roles[f->nroles++] = (idg_role)i;
	assert_true(idg_rbac_role_limit(f->r) <= 64);
	f->bind[0][0] = UINT64_C(1) << ROLE(f->r, "clusterAdmin");
	/* u0 starts in every group and u1 in nine, so the random walk keeps principals on both
	 * sides of the engine's switch from a scanned list to a hash set (8 groups). */
	for (size_t g = f->npr - NGROUPS; g < f->npr; g++) {
		assert_int_equal(idg_rbac_member_add(f->r, f->pid[g], f->pid[2]), 0);
		f->member[2][g] = true;
		if (g < f->npr - NGROUPS + 9) {
			assert_int_equal(idg_rbac_member_add(f->r, f->pid[g], f->pid[3]), 0);
			f->member[3][g] = true;
		}
	}
}

/* One random change applied to both models. */
static void
ref_change(struct ref *f)
{
	size_t what = rndn(f, 10);

	if (what < 5) {			/* binding set (0..3 roles, maybe repeated) or remove */
		int res = (int)rndn(f, NRES);
		size_t s = rndn(f, f->npr), n = rndn(f, 4);
		idg_role roles[4];
		uint64_t mask = 0;
		int rc;

		for (size_t i = 0; i < n; i++) {
			roles[i] = f->roles[rndn(f, f->nroles)];
			mask |= UINT64_C(1) << roles[i];
		}
		rc = idg_rbac_binding_set(f->r, f->rid[res], f->pid[s], roles, n);
		if (f->rid[res] == IDG_RID_NONE) {
			assert_int_equal(rc, IDG_ERR_NOTFOUND);
		} else if (res == 0 && f->pid[s] == IDG_PID_ROOT) {
			assert_int_equal(rc, IDG_ERR_DENIED);
		} else {
			assert_int_equal(rc, 0);
			f->bind[res][s] = mask;
		}
	} else if (what < 8) {		/* membership add or remove */
		size_t g = f->npr - NGROUPS + rndn(f, NGROUPS);
		size_t m = 2 + rndn(f, NUSERS + NROBOTS);
		int rc;

		if (rndn(f, 3) == 0)
			m = 0;	/* root may be in groups too */
		if (rndn(f, 2)) {
			rc = idg_rbac_member_add(f->r, f->pid[g], f->pid[m]);
			assert_int_equal(rc, f->member[m][g] ? IDG_ERR_EXISTS : 0);
			f->member[m][g] = true;
		} else {
			rc = idg_rbac_member_del(f->r, f->pid[g], f->pid[m]);
			assert_int_equal(rc, f->member[m][g] ? 0 : IDG_ERR_NOTFOUND);
			f->member[m][g] = false;
		}
	} else {			/* delete a repo, or bring a deleted one back */
		int res = 1 + (int)rndn(f, NRES - 1);

		if (f->parent[res] == 0)
			return;	/* a project: keep them */
		if (f->rid[res] != IDG_RID_NONE) {
			assert_int_equal(idg_rbac_resource_del(f->r, f->rid[res]), 0);
			f->rid[res] = IDG_RID_NONE;
			memset(f->bind[res], 0, sizeof(f->bind[res]));
		} else {
			f->rid[res] = repo(f->r, f->names[res], f->rid[f->parent[res]]);
		}
	}
}

/* Returns the decision, so the caller can see both answers are common. */
static bool
ref_compare_query(struct ref *f)
{
	int res = (int)rndn(f, NRES);
	int who = rndn(f, 16) == 0 ? -1 : (int)rndn(f, f->npr);
	idg_pid pid = who < 0 ? IDG_PID_NONE : f->pid[who];
	static const char *const common[] = { "REPO_READ", "REPO_WRITE", "REPO_DELETE",
		"PROJECT_LIST_REPO", "PROJECT_CREATE", "CLUSTER_DEBUG_DUMP" };
	/* Half the queries ask for a permission the roles in play grant; the rest range over
	 * every index, one past each end included. */
	int perm = rndn(f, 2) ? PERM(common[rndn(f, IDG_ARRAY_SIZE(common))]) :
	    (int)rndn(f, (size_t)idg_perm_count() + 2) - 1;
	unsigned flags = rndn(f, 2) ? IDG_CHECK_SKIP_ALL : 0;
	bool want, got;
	struct idg_permset eff;

	if (who >= 0 && f->pid[who] == IDG_PID_ALL)
		who = -1, pid = IDG_PID_NONE;	/* asking "as allClusterUsers" has no meaning */
	if (f->rid[res] == IDG_RID_NONE)
		res = f->parent[res];
	want = ref_check(f, who, perm, res, flags & IDG_CHECK_SKIP_ALL);
	got = idg_rbac_check(f->r, pid, perm, f->rid[res], flags);
	if (want != got)
		fail_msg("check(%s, %s, %s, %s) = %d, reference says %d",
		    who < 0 ? "(none)" : idg_rbac_principal_name(f->r, pid), idg_perm_name(perm),
		    res ? f->names[res] : "(cluster)", flags ? "skip-all" : "0", got, want);
	if (perm >= 0 && perm < idg_perm_count()) {
		idg_rbac_effective(f->r, pid, f->rid[res], flags, &eff, NULL);
		assert_int_equal(idg_permset_has(&eff, perm), want);
		assert_int_equal(idg_rbac_explain(f->r, pid, perm, f->rid[res], flags, NULL, 0) > 0,
		    want);
	}
	return want;
}

static void
ref_compare_state(const struct ref *f)
{
	assert_int_equal(idg_rbac_binding_total(f->r), ref_binding_total(f));
	for (size_t i = 0; i < NRES; i++) {
		if (f->rid[i] == IDG_RID_NONE)
			continue;
		for (size_t s = 0; s < f->npr; s++) {
			const idg_role *roles;
			size_t n;
			uint64_t mask = 0;

			if (idg_rbac_binding_get(f->r, f->rid[i], f->pid[s], &roles, &n) == 0)
				for (size_t k = 0; k < n; k++)
					mask |= UINT64_C(1) << roles[k];
			assert_int_equal(mask, f->bind[i][s]);
		}
	}
	/* Every role's use count is the number of bindings that hold it. */
	for (size_t k = 0; k < f->nroles; k++) {
		size_t uses = 0;

		for (size_t i = 0; i < NRES; i++)
			for (size_t s = 0; s < f->npr; s++)
				uses += f->rid[i] != IDG_RID_NONE && (f->bind[i][s] >> f->roles[k] & 1);
		assert_int_equal(idg_rbac_role_uses(f->r, f->roles[k]), uses);
	}
	for (size_t m = 0; m < f->npr; m++)
		for (size_t g = 0; g < f->npr; g++)
			if (f->is_group[g])
				assert_int_equal(idg_rbac_is_member(f->r, f->pid[g], f->pid[m]),
				    f->member[m][g]);
}

static void
random_model_agrees_with_reference_implementation(void **state)
{
	struct ref *f = malloc(sizeof(*f));
	size_t queries = 0, allowed = 0;

	(void)state;
	assert_non_null(f);
	ref_setup(f);
	/* A starting population, then interleaved changes and queries. */
	for (int i = 0; i < 150; i++)
		ref_change(f);
	ref_compare_state(f);
	for (int round = 0; round < 400; round++) {
		ref_change(f);
		if (round % 20 == 0)
			ref_compare_state(f);
		for (int q = 0; q < 100; q++, queries++)
			allowed += ref_compare_query(f);
	}
	/* Deactivation in the middle of it all. */
	idg_rbac_reset(f->r);
	for (size_t i = 0; i < NRES; i++)
		memset(f->bind[i], 0, sizeof(f->bind[i]));
	memset(f->member, 0, sizeof(f->member));
	f->bind[0][0] = UINT64_C(1) << ROLE(f->r, "clusterAdmin");
	ref_compare_state(f);
	for (int round = 0; round < 100; round++) {
		ref_change(f);
		for (int q = 0; q < 100; q++, queries++)
			allowed += ref_compare_query(f);
	}
	ref_compare_state(f);
	print_message("# %zu random queries agreed with the reference (%zu allowed)\n", queries,
	    allowed);
	/* A generator that only produced "no" (or only "yes") would prove nothing. */
	assert_true(allowed > queries / 10);
	assert_true(allowed < queries - queries / 10);
	idg_rbac_free(f->r);
	free(f);
}

/* "None" is naturally written (NULL, 0). Nothing may be done with that pointer: memcpy or
 * qsort with NULL is undefined even for 0 bytes (the ASan/UBSan build checks). Last in the
 * group, because a sanitizer abort ends the program. */
static void
binding_removal_with_null_roles_and_zero_count(void **state)
{
	struct idg_rbac *r = model();
	idg_rid p = project(r, "p");
	idg_pid u = principal(r, "user:u@example.com");

	(void)state;
	assert_int_equal(bind(r, p, u, "repoReader", NULL), 0);
	assert_int_equal(idg_rbac_binding_set(r, p, u, NULL, 0), 0);
	assert_int_equal(idg_rbac_binding_count(r, p), 0);
	assert_false(can(r, u, "REPO_READ", p));
	assert_int_equal(idg_rbac_binding_set(r, p, u, NULL, 0), 0);	/* nothing to remove */
	idg_rbac_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cluster_binding_applies_to_every_project_and_repo),
		cmocka_unit_test(project_binding_applies_to_its_repos_only),
		cmocka_unit_test(repo_binding_applies_to_that_repo_only),
		cmocka_unit_test(permissions_are_the_union_of_user_groups_and_all_users),
		cmocka_unit_test(skip_all_flag_ignores_all_cluster_users_bindings),
		cmocka_unit_test(setting_a_binding_replaces_the_subjects_roles),
		cmocka_unit_test(binding_roles_are_sorted_and_duplicates_folded),
		cmocka_unit_test(binding_set_refuses_bad_input_without_changing_state),
		cmocka_unit_test(root_cluster_binding_is_immutable_and_root_may_do_everything),
		cmocka_unit_test(out_of_range_checks_are_denied),
		cmocka_unit_test(membership_changes_apply_immediately_1_group),
		cmocka_unit_test(membership_changes_apply_immediately_8_groups),
		cmocka_unit_test(membership_changes_apply_immediately_9_groups),
		cmocka_unit_test(membership_changes_apply_immediately_100_groups),
		cmocka_unit_test(membership_changes_apply_immediately_1000_groups),
		cmocka_unit_test(membership_refuses_groups_in_groups_and_all_users),
		cmocka_unit_test(effective_gives_every_role_and_permission_held),
		cmocka_unit_test(explain_names_binding_via_and_level),
		cmocka_unit_test(resource_delete_drops_bindings_and_refuses_with_children),
		cmocka_unit_test(resource_add_refuses_duplicates_and_dead_parents),
		cmocka_unit_test(custom_roles_add_bind_and_delete_rules),
		cmocka_unit_test(custom_role_uses_count_bindings_across_resources),
		cmocka_unit_test(custom_roles_stop_at_the_role_limit),
		cmocka_unit_test(reset_keeps_only_roots_binding_and_clears_memberships),
		cmocka_unit_test(random_model_agrees_with_reference_implementation),
		cmocka_unit_test(binding_removal_with_null_roles_and_zero_count),
	};

	return cmocka_run_group_tests_name("rbac/model", tests, NULL, NULL);
}
