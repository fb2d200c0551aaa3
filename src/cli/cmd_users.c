/* idgatectl user ...: the directory of IdP users — pre-provisioning a user before its first
 * login, deleting one, listing them with their POSIX ids, unpinning one. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void
user_add_text(const struct cli *c, const cJSON *j)
{
	char groups[8192];

	(void)c;
	printf("added user %s (%s): uid %.0f, gid %.0f\n", jstr(j, "user"), jstr(j, "principal"),
	    jnum(j, "uid"), jnum(j, "gid"));
	if (jstr(j, "idp_user")[0] || jstr(j, "subject")[0])
		printf("for IdP user %s%s%s\n", jstr(j, "idp_user")[0] ? jstr(j, "idp_user") : "(any)",
		    jstr(j, "subject")[0] ? ", subject " : "", jstr(j, "subject"));
	if (jlist(cJSON_GetObjectItemCaseSensitive(j, "groups"), ", ", "", "", groups,
	    sizeof(groups))[0])
		printf("groups: %s\n", groups);
}

static int
cmd_user_add(struct cli *c, int argc, char **argv)
{
	const char **groups = NULL, *gecos = NULL, *idp_user = NULL, *subject = NULL;
	size_t ngroups = 0;
	const struct cmdopt o[] = {
		{ "group", 'g', true, NULL, NULL, &groups, &ngroups },
		{ "gecos", 'c', true, &gecos, NULL, NULL, NULL },
		{ "idp-user", 'u', true, &idp_user, NULL, NULL, NULL },
		{ "subject", 's', true, &subject, NULL, NULL, NULL },
		{ NULL },
	};
	struct req r;
	int rc, i = parse_opts(c, &cmds_user[0], argc, argv, o, &rc);

	if (i < 0)
		goto out;
	if (argc - i != 1) {
		rc = usage_error(c, "usage: idgatectl %s", cmds_user[0].synopsis);
		goto out;
	}
	req_init(&r, IDG_OP_USER_ADD);
	req_str(&r, IDG_T_NAME, argv[i]);
	for (size_t k = 0; k < ngroups; k++)
		req_str(&r, IDG_T_MEMBER, groups[k]);
	if (gecos)
		req_str(&r, IDG_T_DESC, gecos);
	if (idp_user)
		req_str(&r, IDG_T_IDP_USER, idp_user);
	if (subject)
		req_str(&r, IDG_T_SUBJECT, subject);
	rc = call_simple(c, &r, user_add_text);
out:
	free(groups);
	return rc;
}

static void
user_delete_text(const struct cli *c, const cJSON *j)
{
	(void)c;
	printf("deleted user %s; its uid stays held for the name\n", jstr(j, "user"));
}

static int
cmd_user_delete(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_user[1], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "usage: idgatectl %s", cmds_user[1].synopsis);
	req_init(&r, IDG_OP_USER_DELETE);
	req_str(&r, IDG_T_NAME, argv[i]);
	return call_simple(c, &r, user_delete_text);
}

static void
user_unpin_text(const struct cli *c, const cJSON *j)
{
	(void)c;
	printf("unpinned user %s (%s): its next login pins it, if it is IdP user %s%s%s\n",
	    jstr(j, "user"), jstr(j, "principal"), jstr(j, "idp_user")[0] ?
	    jstr(j, "idp_user") : "(any)", jstr(j, "subject")[0] ? " with subject " : "",
	    jstr(j, "subject"));
}

static int
cmd_user_unpin(struct cli *c, int argc, char **argv)
{
	const char *idp_user = NULL, *subject = NULL;
	const struct cmdopt o[] = {
		{ "idp-user", 'u', true, &idp_user, NULL, NULL, NULL },
		{ "subject", 's', true, &subject, NULL, NULL, NULL },
		{ NULL },
	};
	struct req r;
	int rc, i = parse_opts(c, &cmds_user[3], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if (argc - i != 1)
		return usage_error(c, "usage: idgatectl %s", cmds_user[3].synopsis);
	req_init(&r, IDG_OP_USER_UNPIN);
	req_str(&r, IDG_T_NAME, argv[i]);
	if (idp_user)
		req_str(&r, IDG_T_IDP_USER, idp_user);
	if (subject)
		req_str(&r, IDG_T_SUBJECT, subject);
	return call_simple(c, &r, user_unpin_text);
}

static void
user_list_text(const struct cli *c, const cJSON *j)
{
	struct table *t = table_new(5, "USER", "UID", "GID", "GROUPS", "STATE");
	const cJSON *u;

	(void)c;
	cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(j, "users")) {
		char uid[16], gid[16], groups[8192], state[600];
		const char *hidden = jstr(u, "hidden");

		snprintf(uid, sizeof(uid), "%.0f", jnum(u, "uid"));
		snprintf(gid, sizeof(gid), "%.0f", jnum(u, "gid"));
		jlist(cJSON_GetObjectItemCaseSensitive(u, "groups"), ",", "", "", groups,
		    sizeof(groups));
		if (hidden[0])
			snprintf(state, sizeof(state), "hidden: %s", hidden);
		else
			snprintf(state, sizeof(state), "%s", jbool(u, "pinned") ? "logged in" :
			    "pre-provisioned");
		table_row(t, jstr(u, "name"), uid, gid, groups[0] ? groups : "-", state);
	}
	table_print(t);
	table_free(t);
}

static int
cmd_user_list(struct cli *c, int argc, char **argv)
{
	struct req r;
	int rc, i = parse_opts(c, &cmds_user[2], argc, argv, NULL, &rc);

	if (i < 0)
		return rc;
	if (i != argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	req_init(&r, IDG_OP_USER_LIST);
	return call_simple(c, &r, user_list_text);
}

const struct command cmds_user[] = {
	{ { "user", "add" }, cmd_user_add, "user add NAME [--idp-user USERNAME] [--subject SUB] "
	  "[--group GROUP[,GROUP...]]... [--gecos TEXT]",
	  "Add an IdP user before its first login, so it can own files now.",
	  "\nNAME is the POSIX login name the user will have (as [idmap] name_rule derives it\n"
	  "from the IdP's username). The user gets its uid now: a hash of NAME into [idmap]\n"
	  "id_min..id_max, recorded and never changed.\n"
	  "\nNAME is kept for one IdP identity: the IdP username given with --idp-user (matched\n"
	  "exactly: no case or e-mail folding), the subject given with --subject, or both;\n"
	  "with neither, the IdP username must be NAME itself. Only a login of that identity\n"
	  "may take NAME, and only once PAM account lets it in: that first login pins NAME to\n"
	  "the IdP account (issuer and subject), and from then on its groups are what the IdP\n"
	  "says at each login. With --idp-user the user's principal is user:USERNAME, as if\n"
	  "it had logged in; otherwise user:NAME.\n"
	  "\nRefused: a NAME that is a local account or group in /etc/passwd or /etc/group, the\n"
	  "name of idgate's own POSIX groups, a NAME whose hashed id is a local id, an existing\n"
	  "user. Refusals are logged and audited.\n"
	  "\nOptions:\n"
	  "  -g, --group GROUP   an IdP group the user is in (repeat, or a comma list); a group\n"
	  "                      idgate does not know yet is created as an IdP group with a gid\n"
	  "  -c, --gecos TEXT    the passwd comment field (no ':' or newline)\n"
	  "  -u, --idp-user USERNAME\n"
	  "                      the IdP username (the configured username claim) NAME is\n"
	  "                      for, e.g. alice@example.com\n"
	  "  -s, --subject SUB   the IdP subject (the sub claim) NAME is for\n"
	  "\nNeeds CLUSTER_AUTH_MODIFY_GROUP_MEMBERS.\n"
	  "\nExample:\n  idgatectl user add alice --idp-user alice@example.com \\\n"
	  "      --group data-scientists --gecos 'Alice Liddell'\n" },
	{ { "user", "delete" }, cmd_user_delete, "user delete NAME",
	  "Delete an IdP user from the directory ('user del' is an alias).",
	  "\nThe user leaves the POSIX view and its groups; its bindings stay. Its uid stays held\n"
	  "for NAME, so files it owns are never handed to someone else: adding NAME again, or\n"
	  "its next login, gives the same uid back.\n"
	  "\nNeeds CLUSTER_AUTH_MODIFY_GROUP_MEMBERS.\n" },
	{ { "user", "list" }, cmd_user_list, "user list",
	  "List IdP users with their uid, gid, groups and state.",
	  "\nSTATE is 'logged in' (pinned to an IdP account), 'pre-provisioned' (added with\n"
	  "'user add', no login yet) or 'hidden: WHY' (left out of the POSIX view, e.g. a local\n"
	  "account of that name appeared). With --output json: principal, issuer and subject,\n"
	  "gecos, home and shell too.\n"
	  "\nNeeds CLUSTER_AUTH_GET_GROUP_USERS.\n" },
	{ { "user", "unpin" }, cmd_user_unpin, "user unpin NAME [--idp-user USERNAME] "
	  "[--subject SUB]",
	  "Release a login name from the IdP identity its first login pinned it to.",
	  "\nThe way out when a name is pinned to the wrong identity: e.g. to a SAML identity\n"
	  "from before [saml] same_directory_as_oidc linked SAML logins to the OIDC subject,\n"
	  "or to an IdP account that was replaced. NAME keeps its uid, principal, bindings and\n"
	  "groups, and becomes pre-provisioned again (as 'user add' makes it) for the identity\n"
	  "given: the IdP username given with --idp-user (matched exactly), the subject given\n"
	  "with --subject (for a linked SAML login: its OIDC subject), or both; with neither,\n"
	  "the IdP username must be NAME itself. The next login of that identity that PAM\n"
	  "account lets in pins NAME again. NAME's offline credential goes with the pin.\n"
	  "\nRoot only (not through a robot token); audited with the old issuer and subject.\n"
	  "\nExample:\n  idgatectl user unpin alice --subject 6f1c3a52-2d4e-4b8a-9c1f-0a1b2c3d4e01\n" },
};

const size_t ncmds_user = sizeof(cmds_user) / sizeof(cmds_user[0]);
