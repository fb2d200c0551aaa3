/* idgatectl rbac ... and group ...: the Determined habits (a workspace is a project). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void
scope_text(const cJSON *res, char *buf, size_t len)
{
	const char *t = jstr(res, "type");

	if (strcmp(t, "cluster") == 0)
		snprintf(buf, len, "cluster");
	else
		snprintf(buf, len, "%s %s", t, jstr(res, "name"));
}

/* ---------- rbac ---------- */

static void
list_roles_text(const struct cli *c, const cJSON *j)
{
	struct table *t = table_new(4, "NAME", "MEANT FOR", "PERMISSIONS", "BUILT-IN");
	const cJSON *r;

	(void)c;
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "roles")) {
		char meant[128], count[16];

		snprintf(count, sizeof(count), "%.0f", jnum(r, "permission_count"));
		table_row(t, jstr(r, "name"), jlist(cJSON_GetObjectItemCaseSensitive(r, "meant_for"), ",",
		    "", "", meant, sizeof(meant)), count, jbool(r, "builtin") ? "yes" : "no");
	}
	table_print(t);
	table_free(t);
}

static int
cmd_list_roles(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_rbac[0], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_ROLE_LIST);
	return call_simple(c, &r, list_roles_text);
}

static void
describe_role_text(const struct cli *c, const cJSON *j)
{
	const cJSON *p;
	char meant[128];

	(void)c;
	printf("Name: %s\n", jstr(j, "name"));
	printf("Built-in: %s\n", jbool(j, "builtin") ? "yes" : "no");
	printf("Meant for: %s\n", jlist(cJSON_GetObjectItemCaseSensitive(j, "meant_for"), ", ", "", "",
	    meant, sizeof(meant)));
	printf("Bindings: %.0f\n", jnum(j, "bindings"));
	printf("Permissions (%.0f):\n", jnum(j, "permission_count"));
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "permissions"))
		printf("  %s\n", cJSON_GetStringValue(p));
}

static int
cmd_describe_role(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_rbac[1], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one role");
	req_init(&r, IDG_OP_ROLE_DESCRIBE);
	req_str(&r, IDG_T_NAME, argv[i]);
	return call_simple(c, &r, describe_role_text);
}

static void
assignments_table(const cJSON *j, bool show_via)
{
	struct table *t = show_via ? table_new(3, "ROLES", "SCOPE", "VIA") : table_new(2, "ROLES", "SCOPE");
	const cJSON *a;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "assignments")) {
		char roles[1024], scope[256];

		jlist(cJSON_GetObjectItemCaseSensitive(a, "roles"), ",", "", "", roles, sizeof(roles));
		scope_text(cJSON_GetObjectItemCaseSensitive(a, "resource"), scope, sizeof(scope));
		if (show_via)
			table_row(t, roles, scope, jstr(a, "via"));
		else
			table_row(t, roles, scope);
	}
	table_print(t);
	table_free(t);
}

static void
my_permissions_text(const struct cli *c, const cJSON *j)
{
	char buf[8192];

	(void)c;
	printf("You are \"%s\"\n", jstr(j, "subject"));
	printf("Groups: %s\n", jlist(cJSON_GetObjectItemCaseSensitive(j, "groups"), ", ", "", "", buf,
	    sizeof(buf))[0] ? buf : "(none)");
	printf("Cluster permissions: %s\n", jlist(cJSON_GetObjectItemCaseSensitive(j,
	    "cluster_permissions"), " ", "[", "]", buf, sizeof(buf)));
	printf("\n");
	assignments_table(j, true);
}

static int
cmd_my_permissions(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_rbac[2], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_MY_PERMISSIONS);
	return call_simple(c, &r, my_permissions_text);
}

/* "-u alice" -> user:alice; "-u robot:ci" stays; "-g team" -> group:team. */
static char *
subject_of(const char *name, const char *prefix)
{
	/* Never cut: a name of any length goes to idgated, whose message names the real limit. */
	size_t len = strlen(prefix) + strlen(name) + 2;
	char *buf = malloc(len);

	if (buf == NULL) {
		fprintf(stderr, "idgatectl: out of memory\n");
		exit(EXIT_FAIL);
	}
	if (strchr(name, ':'))
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%s:%s", prefix, name);
	return buf;
}

static int
cmd_assign(struct cli *c, int argc, char **argv, bool assign)
{
	const char *user = NULL, *group = NULL, *project = NULL, *workspace = NULL, *repo = NULL;
	const struct cmdopt o[] = {
		{ "user", 'u', true, &user, NULL, NULL, NULL },
		{ "group", 'g', true, &group, NULL, NULL, NULL },
		{ "project", 'p', true, &project, NULL, NULL, NULL },
		{ "workspace", 'w', true, &workspace, NULL, NULL, NULL },
		{ "repo", 'r', true, &repo, NULL, NULL, NULL },
		{ NULL },
	};
	char *subject, scope[512];
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_rbac[assign ? 3 : 4], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one role");
	if ((user == NULL) == (group == NULL))
		return usage_error(c, "name exactly one of -u USER or -g GROUP");
	if ((project != NULL) + (workspace != NULL) + (repo != NULL) > 1)
		return usage_error(c, "name at most one scope: --project, --workspace or --repo");
	if (workspace)
		project = workspace;
	subject = subject_of(user ? user : group, user ? "user" : "group");
	req_init(&r, assign ? IDG_OP_ASSIGN_ROLE : IDG_OP_UNASSIGN_ROLE);
	req_str(&r, IDG_T_ROLE, argv[i]);
	req_str(&r, IDG_T_SUBJECT, subject);
	free(subject);
	req_str(&r, IDG_T_RTYPE, project ? "project" : repo ? "repo" : "cluster");
	if (project || repo)
		req_str(&r, IDG_T_RNAME, project ? project : repo);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(rep.json, "resource");

		if (project || repo)
			snprintf(scope, sizeof(scope), "%s %s", workspace ? "workspace" : project ?
			    "project" : "repo", jstr(res, "name"));
		else
			snprintf(scope, sizeof(scope), "globally");
		printf("%s role '%s' %s %s '%s'%s%s\n", assign ? "assigned" : "removed", argv[i],
		    assign ? "to" : "from", user ? "user" : "group", user ? user : group,
		    (project || repo) ? (assign ? " to " : " on ") : " ", scope);
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_assign_role(struct cli *c, int argc, char **argv)
{
	return cmd_assign(c, argc, argv, true);
}

static int
cmd_unassign_role(struct cli *c, int argc, char **argv)
{
	return cmd_assign(c, argc, argv, false);
}

static void
subject_roles_text(const struct cli *c, const cJSON *j)
{
	(void)c;
	assignments_table(j, true);
}

static int
cmd_subject_roles(struct cli *c, int argc, char **argv, const struct command *cmd,
    const char *prefix)
{
	char *subject;
	struct req r;
	int rc, i = parse_opts(c, cmd, argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one %s", prefix);
	subject = subject_of(argv[i], prefix);
	req_init(&r, IDG_OP_SUBJECT_ROLES);
	req_str(&r, IDG_T_SUBJECT, subject);
	free(subject);
	return call_simple(c, &r, subject_roles_text);
}

static int
cmd_list_users_roles(struct cli *c, int argc, char **argv)
{
	return cmd_subject_roles(c, argc, argv, &cmds_rbac[5], "user");
}

static int
cmd_list_groups_roles(struct cli *c, int argc, char **argv)
{
	return cmd_subject_roles(c, argc, argv, &cmds_rbac[6], "group");
}

static int
cmd_create_role(struct cli *c, int argc, char **argv)
{
	const char **perms = NULL, **types = NULL;
	size_t nperms = 0, ntypes = 0;
	const struct cmdopt o[] = {
		{ "permission", 'p', true, NULL, NULL, &perms, &nperms },
		{ "bindable-on", 'b', true, NULL, NULL, &types, &ntypes },
		{ NULL },
	};
	struct req r;
	int rc, i = parse_opts(c, &cmds_rbac[7], argc, argv, o, &rc);

	if (i < 0)
		goto out;
	if (argc - i != 1) {
		rc = usage_error(c, "name one role");
		goto out;
	}
	if (nperms == 0) {
		rc = usage_error(c, "give at least one --permission");
		goto out;
	}
	req_init(&r, IDG_OP_ROLE_CREATE);
	req_str(&r, IDG_T_NAME, argv[i]);
	for (size_t k = 0; k < nperms; k++) {
		char buf[4096], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", perms[k]);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
			req_str(&r, IDG_T_PERM, t);
	}
	for (size_t k = 0; k < ntypes; k++) {
		char buf[256], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", types[k]);
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
			req_str(&r, IDG_T_RTYPES, t);
	}
	rc = call_simple(c, &r, NULL);
out:
	free(perms);
	free(types);
	return rc;
}

static int
cmd_delete_role(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_rbac[8], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one role");
	req_init(&r, IDG_OP_ROLE_DELETE);
	req_str(&r, IDG_T_NAME, argv[i]);
	return call_simple(c, &r, NULL);
}

const struct command cmds_rbac[] = {
	{ { "rbac", "list-roles" }, cmd_list_roles, "rbac list-roles",
	  "List every role: built-in and custom, what it is meant for, how many permissions.", "" },
	{ { "rbac", "describe-role" }, cmd_describe_role, "rbac describe-role ROLE",
	  "Show ROLE's permissions, what it is meant for and how many bindings use it.", "" },
	{ { "rbac", "my-permissions" }, cmd_my_permissions, "rbac my-permissions",
	  "Show who you are, your groups, and every role bound to you, your groups or everyone.",
	  "\nEach row is one binding: the roles, the scope (cluster, project, repo) and the\n"
	  "subject it is bound to (you, one of your groups, or allClusterUsers).\n" },
	{ { "rbac", "assign-role" }, cmd_assign_role,
	  "rbac assign-role ROLE (-u USER | -g GROUP) [--project P | -w P | --repo R]",
	  "Add ROLE to a user's or group's roles, on the cluster or on one project or repo.",
	  "\nUnlike 'auth set', the subject keeps its other roles there. Without a scope the\n"
	  "role is assigned globally (on the cluster). A Determined workspace is a project.\n"
	  "Needs the MODIFY_BINDINGS permission of the scope.\n\n"
	  "Options:\n"
	  "  -u, --user USER       user name (user:NAME), or robot:NAME\n"
	  "  -g, --group GROUP     group name (group:NAME)\n"
	  "  -p, --project P       scope: project P\n"
	  "  -w, --workspace P     the same, in Determined's words\n"
	  "  -r, --repo R          scope: repo [PROJECT/]R\n\n"
	  "Example:\n  idgatectl rbac assign-role projectOwner -u mle-traffic-00 -w traffic-lights\n" },
	{ { "rbac", "unassign-role" }, cmd_unassign_role,
	  "rbac unassign-role ROLE (-u USER | -g GROUP) [--project P | -w P | --repo R]",
	  "Remove ROLE from a user's or group's roles on the cluster, a project or a repo.",
	  "\nOptions as for assign-role.\n" },
	{ { "rbac", "list-users-roles" }, cmd_list_users_roles, "rbac list-users-roles USER",
	  "List every role USER holds: bound to USER, to USER's groups or to everyone.",
	  "\nNeeds CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL unless USER is you.\n" },
	{ { "rbac", "list-groups-roles" }, cmd_list_groups_roles, "rbac list-groups-roles GROUP",
	  "List every role bound to GROUP.",
	  "\nNeeds CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL unless you are in GROUP.\n" },
	{ { "rbac", "create-role" }, cmd_create_role,
	  "rbac create-role NAME --permission PERM[,PERM...] [--bindable-on TYPE[,TYPE...]]",
	  "Define a custom role from existing permissions.",
	  "\nNeeds CLUSTER_AUTH_SET_CONFIG (clusterAdmin). TYPE is cluster, project or repo\n"
	  "(default: all three); binding the role elsewhere is refused.\n\n"
	  "Options:\n"
	  "  -p, --permission PERM a permission the role grants (repeat, or comma-separate)\n"
	  "  -b, --bindable-on T   a resource type it may be bound on (repeat, or comma-separate)\n\n"
	  "Example:\n  idgatectl rbac create-role auditor -p REPO_READ,REPO_LIST_FILE,PROJECT_LIST_REPO\n" },
	{ { "rbac", "delete-role" }, cmd_delete_role, "rbac delete-role NAME",
	  "Delete a custom role that is no longer bound anywhere.",
	  "\nNeeds CLUSTER_AUTH_SET_CONFIG. Built-in roles cannot be deleted.\n" },
};

const size_t ncmds_rbac = sizeof(cmds_rbac) / sizeof(cmds_rbac[0]);

/* ---------- group ---------- */

/* min and max operands (max -1: any number of member lists). */
static int
group_simple(struct cli *c, const struct command *cmd, int argc, char **argv, enum idg_op op,
    int min, int max, const char *done)
{
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, cmd, argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i < min || (max >= 0 && argc - i > max))
		return usage_error(c, "usage: idgatectl %s", cmd->synopsis);
	req_init(&r, op);
	req_str(&r, IDG_T_NAME, argv[i]);
	if (op == IDG_OP_GROUP_RENAME)
		req_str(&r, IDG_T_NEWNAME, argv[i + 1]);
	else
		for (int k = i + 1; k < argc; k++)
			req_str(&r, IDG_T_MEMBER, argv[k]);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else if (done) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(rep.json,
		    op == IDG_OP_GROUP_ADD ? "added" : "removed");
		char buf[8192];

		if (list)
			printf("%s: %s\n", done, jlist(list, ", ", "", "", buf, sizeof(buf))[0] ? buf :
			    "(no change)");
		else
			printf("%s %s\n", done, jstr(rep.json, "group"));
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_group_create(struct cli *c, int argc, char **argv)
{
	return group_simple(c, &cmds_group[0], argc, argv, IDG_OP_GROUP_CREATE, 1, -1, "created group");
}

static int
cmd_group_delete(struct cli *c, int argc, char **argv)
{
	return group_simple(c, &cmds_group[1], argc, argv, IDG_OP_GROUP_DELETE, 1, 1, "deleted group");
}

static int
cmd_group_add(struct cli *c, int argc, char **argv)
{
	return group_simple(c, &cmds_group[2], argc, argv, IDG_OP_GROUP_ADD, 2, -1, "added");
}

static int
cmd_group_remove(struct cli *c, int argc, char **argv)
{
	return group_simple(c, &cmds_group[3], argc, argv, IDG_OP_GROUP_REMOVE, 2, -1, "removed");
}

/* A group's gid, or "-" when it stays out of the POSIX view. */
static void
gid_text(const cJSON *g, char *buf, size_t len)
{
	const cJSON *gid = cJSON_GetObjectItemCaseSensitive(g, "gid");

	if (cJSON_IsNumber(gid))
		snprintf(buf, len, "%.0f", gid->valuedouble);
	else
		snprintf(buf, len, "-");
}

static void
group_list_text(const struct cli *c, const cJSON *j)
{
	struct table *t = table_new(4, "GROUP", "SOURCE", "GID", "MEMBERS");
	const cJSON *g;

	(void)c;
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(j, "groups")) {
		char n[16], gid[16];

		snprintf(n, sizeof(n), "%.0f", jnum(g, "members"));
		gid_text(g, gid, sizeof(gid));
		table_row(t, jstr(g, "name"), jstr(g, "source"), gid, n);
	}
	table_print(t);
	table_free(t);
}

static int
cmd_group_list(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_group[4], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_GROUP_LIST);
	return call_simple(c, &r, group_list_text);
}

static void
group_describe_text(const struct cli *c, const cJSON *j)
{
	const cJSON *m;
	char when[32];

	(void)c;
	char gid[16];

	gid_text(j, gid, sizeof(gid));
	printf("Group: %s\nSource: %s\nGID: %s\nCreated: %s\nMembers:\n", jstr(j, "name"),
	    jstr(j, "source"), gid, jtime(jnum(j, "created"), when, sizeof(when)));
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "members"))
		printf("  %s\n", cJSON_GetStringValue(m));
}

static int
cmd_group_describe(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_group[5], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one group");
	req_init(&r, IDG_OP_GROUP_DESCRIBE);
	req_str(&r, IDG_T_NAME, argv[i]);
	return call_simple(c, &r, group_describe_text);
}

static int
cmd_group_rename(struct cli *c, int argc, char **argv)
{
	return group_simple(c, &cmds_group[6], argc, argv, IDG_OP_GROUP_RENAME, 2, 2, "renamed to");
}

const struct command cmds_group[] = {
	{ { "group", "create" }, cmd_group_create, "group create NAME [USER[,USER...] ...]",
	  "Create a local group, optionally with members.",
	  "\nNeeds CLUSTER_AUTH_MODIFY_GROUP_MEMBERS. Members are user names (a bare name means\n"
	  "user:NAME) or robot:NAME. 'user-group' is an alias of 'group'.\n" },
	{ { "group", "delete" }, cmd_group_delete, "group delete NAME",
	  "Delete a local group, its memberships and every binding to it.",
	  "\nGroups from the identity provider cannot be deleted here.\n" },
	{ { "group", "add-user" }, cmd_group_add, "group add-user NAME USER[,USER...] ...",
	  "Add users (or robot:NAME) to a local group. Users already in it are left alone.",
	  "\nExample:\n  idgatectl group add-user traffic-lights-team mle-traffic-00,mle-traffic-01\n" },
	{ { "group", "remove-user" }, cmd_group_remove, "group remove-user NAME USER[,USER...] ...",
	  "Remove users from a local group; naming a non-member changes nothing and fails.", "" },
	{ { "group", "list" }, cmd_group_list, "group list",
	  "List the groups known to the node, local and from the identity provider.",
	  "\nNeeds CLUSTER_AUTH_GET_GROUPS. GID is the group's POSIX gid on this host ('getent\n"
	  "group NAME'); '-' when the group stays out of the POSIX view (its name is a local\n"
	  "group's, or no POSIX group can have it; idgated logs why).\n" },
	{ { "group", "describe" }, cmd_group_describe, "group describe NAME",
	  "Show a group's source and members.",
	  "\nNeeds CLUSTER_AUTH_GET_GROUP_USERS unless you are a member.\n" },
	{ { "group", "change-name" }, cmd_group_rename, "group change-name NAME NEW-NAME",
	  "Rename a local group; its members and bindings move to the new name.", "" },
};

const size_t ncmds_group = sizeof(cmds_group) / sizeof(cmds_group[0]);
