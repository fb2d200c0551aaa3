/* idgatectl auth ...: the pachctl habits. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"

/* Run a request whose text output is nothing on success (pachctl prints nothing). */
static int
run_quiet(struct cli *c, struct req *r)
{
	struct reply rep;
	int rc = call(c, r, &rep);

	if (rc == EXIT_OK && c->json)
		print_json(rep.json);
	else if (rc != EXIT_OK && rep.error[0])
		fprintf(stderr, "%s\n", rep.error);
	reply_free(&rep);
	return rc;
}

static int
cmd_activate(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_auth[0], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_ACTIVATE);
	return run_quiet(c, &r);
}

static int
cmd_deactivate(struct cli *c, int argc, char **argv)
{
	bool yes = false;
	const struct cmdopt o[] = { { "yes", 'y', false, NULL, &yes, NULL, NULL }, { NULL } };
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_auth[1], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_DEACTIVATE);
	if (yes)
		req_u32(&r, IDG_T_FLAGS, IDG_F_YES);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	else
		printf("authorization deactivated: %.0f binding(s) removed; root keeps clusterAdmin\n",
		    jnum(rep.json, "bindings_removed"));
	reply_free(&rep);
	return rc;
}

static int
cmd_whoami(struct cli *c, int argc, char **argv)
{
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_auth[2], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_WHOAMI);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	else
		printf("You are \"%s\"\n", jstr(rep.json, "subject"));
	reply_free(&rep);
	return rc;
}

/* auth set RESOURCE ROLES [SUBJECT] */
static int
cmd_set(struct cli *c, int argc, char **argv)
{
	const char *type, *name;
	struct req r;
	int rc, i = parse_opts(c, &cmds_auth[3], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if ((rc = parse_resource(c, argc, argv, &i, &type, &name)) != EXIT_OK)
		return rc;
	if (i >= argc)
		return usage_error(c, "name the roles (ROLE[,ROLE...]) or 'none'");
	if (argc - i > 2)
		return usage_error(c, "unexpected argument '%s'", argv[i + 2]);
	req_init(&r, IDG_OP_SET);
	req_str(&r, IDG_T_RTYPE, type);
	if (name)
		req_str(&r, IDG_T_RNAME, name);
	req_str(&r, IDG_T_ROLE, argv[i]);
	if (i + 1 < argc)
		req_str(&r, IDG_T_SUBJECT, argv[i + 1]);
	return run_quiet(c, &r);
}

static int
cmd_get(struct cli *c, int argc, char **argv)
{
	const char *type, *name;
	struct req r;
	struct reply rep;
	const cJSON *b;
	int rc, i = parse_opts(c, &cmds_auth[4], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if ((rc = parse_resource(c, argc, argv, &i, &type, &name)) != EXIT_OK)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_GET);
	req_str(&r, IDG_T_RTYPE, type);
	if (name)
		req_str(&r, IDG_T_RNAME, name);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(rep.json, "bindings")) {
			char roles[4096];

			printf("%s: %s\n", jstr(b, "subject"),
			    jlist(cJSON_GetObjectItemCaseSensitive(b, "roles"), " ", "[", "]", roles,
			    sizeof(roles)));
		}
	}
	reply_free(&rep);
	return rc;
}

/* auth check RESOURCE [SUBJECT] [--permission PERM] */
static int
cmd_check(struct cli *c, int argc, char **argv)
{
	const char *type, *name, *perm = NULL;
	const struct cmdopt o[] = {
		{ "permission", 'p', true, &perm, NULL, NULL, NULL },
		{ "quiet", 'q', false, NULL, &c->quiet, NULL, NULL },
		{ NULL },
	};
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_auth[5], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if ((rc = parse_resource(c, argc, argv, &i, &type, &name)) != EXIT_OK)
		return rc;
	if (argc - i > 1)
		return usage_error(c, "unexpected argument '%s'", argv[i + 1]);
	req_init(&r, IDG_OP_CHECK);
	req_str(&r, IDG_T_RTYPE, type);
	if (name)
		req_str(&r, IDG_T_RNAME, name);
	if (i < argc)
		req_str(&r, IDG_T_SUBJECT, argv[i]);
	if (perm)
		req_str(&r, IDG_T_PERM, perm);
	rc = call(c, &r, &rep);
	if (c->json && rep.json)
		print_json(rep.json);
	if (rc != EXIT_OK) {
		if (!(c->quiet && rc == EXIT_DENIED))
			fprintf(stderr, "%s\n", rep.error);
	} else if (!c->json && perm) {
		if (!c->quiet)
			printf("allowed\n");
	} else if (!c->json) {
		char buf[8192];

		printf("Roles: %s\n", jlist(cJSON_GetObjectItemCaseSensitive(rep.json, "roles"), " ",
		    "[", "]", buf, sizeof(buf)));
		printf("Permissions: %s\n", jlist(cJSON_GetObjectItemCaseSensitive(rep.json,
		    "permissions"), " ", "[", "]", buf, sizeof(buf)));
	}
	reply_free(&rep);
	return rc;
}

static void
print_resource(const cJSON *res, char *buf, size_t len)
{
	const char *t = jstr(res, "type");

	if (strcmp(t, "cluster") == 0)
		snprintf(buf, len, "the cluster");
	else
		snprintf(buf, len, "%s %s", t, jstr(res, "name"));
}

/* auth explain SUBJECT PERM RESOURCE */
static int
cmd_explain(struct cli *c, int argc, char **argv)
{
	const char *type, *name;
	struct req r;
	struct reply rep;
	int rc, i = parse_opts(c, &cmds_auth[6], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i < 3)
		return usage_error(c, "usage: auth explain SUBJECT PERMISSION RESOURCE");
	{
		int j = i + 2;

		if ((rc = parse_resource(c, argc, argv, &j, &type, &name)) != EXIT_OK)
			return rc;
		if (j != argc)
			return usage_error(c, "unexpected argument '%s'", argv[j]);
	}
	req_init(&r, IDG_OP_EXPLAIN);
	req_str(&r, IDG_T_SUBJECT, argv[i]);
	req_str(&r, IDG_T_PERM, argv[i + 1]);
	req_str(&r, IDG_T_RTYPE, type);
	if (name)
		req_str(&r, IDG_T_RNAME, name);
	rc = call(c, &r, &rep);
	if (rep.json == NULL) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else {
		char res[512], where[512], groups[8192], buf[8192];
		const cJSON *g, *res_j = cJSON_GetObjectItemCaseSensitive(rep.json, "resource");
		bool allowed = jbool(rep.json, "allowed");

		print_resource(res_j, res, sizeof(res));
		printf("%s %s %s on %s.\n", jstr(rep.json, "subject"), allowed ? "holds" :
		    "does NOT hold", jstr(rep.json, "permission"), res);
		jlist(cJSON_GetObjectItemCaseSensitive(rep.json, "groups"), ", ", "", "", groups,
		    sizeof(groups));
		printf("Groups: %s\n", groups[0] ? groups : "(none)");
		if (allowed)
			printf("Granted by:\n");
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(rep.json, "grants")) {
			const char *through = jstr(g, "through");

			print_resource(cJSON_GetObjectItemCaseSensitive(g, "on"), where, sizeof(where));
			printf("  role %s bound to %s on %s%s\n", jstr(g, "role"), jstr(g, "bound_to"),
			    where, strcmp(through, "group") == 0 ? " (a group the subject is in)" :
			    strcmp(through, "allClusterUsers") == 0 ? " (everyone who has logged in)" : "");
		}
		if (!allowed) {
			const cJSON *lvl;
			size_t off = 0;

			buf[0] = '\0';
			cJSON_ArrayForEach(lvl, cJSON_GetObjectItemCaseSensitive(rep.json, "checked")) {
				print_resource(lvl, where, sizeof(where));
				off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
				    off == 0 ? "" : lvl->next == NULL ? " or " : ", ",
				    where);
			}
			printf("No role that grants it is bound to the subject, its groups or "
			    "allClusterUsers on %s.\n", buf);
			printf("Roles that grant %s: %s\n", jstr(rep.json, "permission"),
			    jlist(cJSON_GetObjectItemCaseSensitive(rep.json, "roles_granting"), ", ", "", "",
			    buf, sizeof(buf)));
		}
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_roles_for_perm(struct cli *c, int argc, char **argv)
{
	struct req r;
	struct reply rep;
	const cJSON *e;
	int rc, i = parse_opts(c, &cmds_auth[7], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one permission, e.g. REPO_READ");
	req_init(&r, IDG_OP_ROLES_FOR_PERM);
	req_str(&r, IDG_T_PERM, argv[i]);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	else
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rep.json, "roles"))
			printf("%s\n", cJSON_GetStringValue(e));
	reply_free(&rep);
	return rc;
}

static int
cmd_get_groups(struct cli *c, int argc, char **argv)
{
	struct req r;
	struct reply rep;
	const cJSON *e;
	int rc, i = parse_opts(c, &cmds_auth[8], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i > 1)
		return usage_error(c, "unexpected argument '%s'", argv[i + 1]);
	req_init(&r, IDG_OP_GET_GROUPS);
	if (i < argc)
		req_str(&r, IDG_T_SUBJECT, argv[i]);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	else
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(rep.json, "groups"))
			printf("%s\n", jstr(e, "name"));
	reply_free(&rep);
	return rc;
}

static int
cmd_robot_token(struct cli *c, int argc, char **argv)
{
	const char *ttl = NULL;
	bool quiet = false;
	const struct cmdopt o[] = {
		{ "ttl", 't', true, &ttl, NULL, NULL, NULL },
		{ "quiet", 'q', false, NULL, &quiet, NULL, NULL },
		{ NULL },
	};
	struct req r;
	struct reply rep;
	int64_t secs = 0;
	int rc, i = parse_opts(c, &cmds_auth[9], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "name one robot");
	if (ttl && (idg_parse_duration(ttl, &secs) < 0 || secs <= 0))
		return usage_error(c, "--ttl must be a duration such as 90s, 12h, 30d or 1h30m");
	req_init(&r, IDG_OP_ROBOT_TOKEN);
	req_str(&r, IDG_T_NAME, argv[i]);
	if (ttl)
		req_u64(&r, IDG_T_TTL, (uint64_t)secs);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
	} else if (c->json) {
		print_json(rep.json);
	} else if (quiet) {
		printf("%s\n", jstr(rep.json, "token"));
	} else {
		char when[32];

		printf("Token: %s\n", jstr(rep.json, "token"));
		if (jnum(rep.json, "expires") > 0)
			printf("Expires: %s\n", jtime(jnum(rep.json, "expires"), when, sizeof(when)));
	}
	reply_free(&rep);
	return rc;
}

static int
cmd_revoke(struct cli *c, int argc, char **argv)
{
	const char *token = NULL, *user = NULL;
	const struct cmdopt o[] = {
		{ "token", 0, true, &token, NULL, NULL, NULL },
		{ "user", 'u', true, &user, NULL, NULL, NULL },
		{ NULL },
	};
	struct req r;
	struct reply rep;
	int rc, i;

	/* --token here names the token to revoke; authenticate with IDGATE_TOKEN. */
	i = parse_opts(c, &cmds_auth[10], argc, argv, o, &rc);
	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	if ((token == NULL) == (user == NULL))
		return usage_error(c, "name exactly one of --token TOKEN or --user SUBJECT");
	req_init(&r, IDG_OP_REVOKE);
	if (token)
		req_str(&r, IDG_T_NAME, token);
	if (user)
		req_str(&r, IDG_T_SUBJECT, user);
	rc = call(c, &r, &rep);
	if (rc != EXIT_OK)
		fprintf(stderr, "%s\n", rep.error);
	else if (c->json)
		print_json(rep.json);
	else
		printf("%.0f auth token(s) revoked\n", jnum(rep.json, "revoked"));
	reply_free(&rep);
	return rc;
}

const struct command cmds_auth[] = {
	{ { "auth", "activate" }, cmd_activate, "auth activate",
	  "Turn authorization on with the default bindings (root only).",
	  "\nWrites the activation defaults: allClusterUsers gets projectCreator on the cluster,\n"
	  "project 'default' exists and allClusterUsers gets projectWriter on it. A new state\n"
	  "store is activated automatically; this is for a node that was deactivated.\n" },
	{ { "auth", "deactivate" }, cmd_deactivate, "auth deactivate --yes",
	  "Remove every binding but root's, every robot token and every group membership.",
	  "\nNeeds CLUSTER_AUTH_DEACTIVATE (clusterAdmin). Projects, repos and their data stay.\n"
	  "Afterwards only root can do anything until roles are granted again (or 'auth\n"
	  "activate' restores the defaults).\n\n"
	  "Options:\n  -y, --yes             confirm; without it nothing changes\n" },
	{ { "auth", "whoami" }, cmd_whoami, "auth whoami",
	  "Print the subject idgated sees you as.",
	  "\nroot (uid 0) is \"root\"; a robot token makes you \"robot:NAME\"; a local uid\n"
	  "without an idgate identity is refused (exit 1).\n" },
	{ { "auth", "set" }, cmd_set, "auth set RESOURCE ROLE[,ROLE...]|none [SUBJECT]",
	  "Set SUBJECT's roles on RESOURCE, replacing the roles it had there.",
	  "\nRESOURCE is 'cluster', 'project NAME' or 'repo [PROJECT/]NAME' (a bare repo is in\n"
	  "project 'default'). SUBJECT is user:NAME, group:NAME, robot:NAME or allClusterUsers;\n"
	  "it defaults to you. 'none' removes SUBJECT from RESOURCE. Pipelines are never granted\n"
	  "by hand, and root's clusterAdmin binding cannot change.\n"
	  "Needs CLUSTER_MODIFY_BINDINGS, PROJECT_MODIFY_BINDINGS or REPO_MODIFY_BINDINGS on\n"
	  "RESOURCE (held there or inherited from above). Prints nothing on success.\n\n"
	  "Examples:\n"
	  "  idgatectl auth set repo testinput repoReader user:alice@example.com\n"
	  "  idgatectl auth set repo images/raw repoWriter,repoReader group:vision\n"
	  "  idgatectl auth set project images none user:bob@example.com\n" },
	{ { "auth", "get" }, cmd_get, "auth get RESOURCE",
	  "Print every binding on RESOURCE, one 'SUBJECT: [ROLE ...]' line each.",
	  "\nRESOURCE is 'cluster', 'project NAME' or 'repo [PROJECT/]NAME'. Needs\n"
	  "CLUSTER_GET_BINDINGS, PROJECT_LIST_REPO or REPO_READ on it.\n\n"
	  "Example:\n  idgatectl auth get repo testinput\n  root: [repoOwner]\n"
	  "  user:alice@example.com: [repoReader]\n" },
	{ { "auth", "check" }, cmd_check, "auth check RESOURCE [SUBJECT] [--permission PERM]",
	  "Show SUBJECT's roles and permissions on RESOURCE, or test one permission.",
	  "\nWithout --permission: prints 'Roles: [...]' and 'Permissions: [...]', counting\n"
	  "roles bound to SUBJECT, its groups and allClusterUsers on RESOURCE and above it,\n"
	  "and leaving out what does not act on RESOURCE (projectCreator on a repo).\n"
	  "With --permission: exit 0 and 'allowed', or exit 1 and the refusal message; made\n"
	  "for scripts, hooks and services. SUBJECT defaults to you; asking about someone else\n"
	  "needs CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL.\n\n"
	  "Options:\n  -p, --permission PERM test this permission only\n"
	  "  -q, --quiet           with --permission: print nothing, answer by exit status\n\n"
	  "Example:\n  idgatectl auth check repo default/testinput user:bob@example.com -p REPO_WRITE\n" },
	{ { "auth", "explain" }, cmd_explain, "auth explain SUBJECT PERMISSION RESOURCE",
	  "Explain why SUBJECT holds PERMISSION on RESOURCE, or why not.",
	  "\nNames each binding that grants it: the role, whom it is bound to (SUBJECT, one of\n"
	  "its groups, or allClusterUsers) and on which level (repo, project, cluster). For a\n"
	  "denial, lists the levels checked and the roles that would grant it. Exit 0 when\n"
	  "held, 1 when not. Needs CLUSTER_AUTH_GET_PERMISSIONS_FOR_PRINCIPAL unless SUBJECT\n"
	  "is you. RESOURCE is 'cluster', 'project NAME' or 'repo NAME' (or project:NAME,\n"
	  "repo:NAME).\n\n"
	  "Example:\n  idgatectl auth explain user:bob@example.com REPO_READ repo images/raw\n" },
	{ { "auth", "roles-for-permission" }, cmd_roles_for_perm, "auth roles-for-permission PERMISSION",
	  "List the roles that grant PERMISSION, sorted, one per line.",
	  "\nExample:\n  idgatectl auth roles-for-permission REPO_READ\n" },
	{ { "auth", "get-groups" }, cmd_get_groups, "auth get-groups [USER]",
	  "List groups: every group on the node, or USER's groups.",
	  "\nWithout USER: every group known to the node if you hold CLUSTER_AUTH_GET_GROUPS,\n"
	  "otherwise your own groups. With USER (user:NAME, robot:NAME, or a bare user name):\n"
	  "USER's groups; someone else's need CLUSTER_AUTH_GET_GROUPS.\n" },
	{ { "auth", "get-robot-token" }, cmd_robot_token, "auth get-robot-token NAME [--ttl DURATION] [-q]",
	  "Issue a token for robot:NAME and print it (once: only its hash is kept).",
	  "\nNeeds CLUSTER_AUTH_GET_ROBOT_TOKEN (robotUser or clusterAdmin). The robot holds no\n"
	  "permission until it is granted roles. Use the token with --token or IDGATE_TOKEN.\n\n"
	  "Options:\n"
	  "  -t, --ttl DURATION    the token expires after this long (90s, 12h, 30d, 1h30m);\n"
	  "                        default: robot_token_default_ttl in idgate.conf(5)\n"
	  "  -q, --quiet           print the bare token\n" },
	{ { "auth", "revoke" }, cmd_revoke, "auth revoke --token TOKEN | --user SUBJECT",
	  "Revoke one token, or every token of SUBJECT; prints 'N auth token(s) revoked'.",
	  "\nWhoever holds a token may revoke it. Revoking another subject's tokens needs\n"
	  "CLUSTER_AUTH_REVOKE_USER_TOKENS. Here --token names the token to revoke: a robot\n"
	  "authenticates for this command through IDGATE_TOKEN.\n\n"
	  "Options:\n  --token TOKEN         the token to revoke\n"
	  "  -u, --user SUBJECT    revoke all tokens of SUBJECT, e.g. robot:ci\n" },
};

const size_t ncmds_auth = sizeof(cmds_auth) / sizeof(cmds_auth[0]);
