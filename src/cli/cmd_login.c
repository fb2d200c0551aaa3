/* idgatectl login test: try an IdP login the way pam_idgate will, and show the identity it
 * yields. Root only. Secrets are read from the terminal (no echo) or one line of standard
 * input, never from the command line, where every user could see them in ps. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

#define SECRET_MAX (1024 * 1024 + 2)	/* a token may be large; the daemon caps it */

/* One line from the terminal without echo, or from standard input. */
static char *
read_secret(const char *prompt)
{
	struct termios old, noecho;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *buf = malloc(SECRET_MAX);
	size_t n;

	if (buf == NULL)
		return NULL;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	}
	if (fgets(buf, SECRET_MAX, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

static void
wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
print_identity(const struct cli *c, const cJSON *j)
{
	char buf[8192];

	if (c->json) {
		print_json(j);
		return;
	}
	printf("principal:  %s\n", jstr(j, "principal"));
	printf("login name: %s\n", jstr(j, "posix_name"));
	printf("groups:     %s", jlist(cJSON_GetObjectItem(j, "groups"), " ", "[", "]", buf,
	    sizeof(buf)));
	if (*jstr(j, "groups_claim_absent"))
		printf(" (the IdP sent no '%s' claim; if it releases groups only for a scope, add "
		    "that scope to [idp] scope, or name its claim in [idp] groups_claim)",
		    jstr(j, "groups_claim_absent"));
	printf("\n");
	if (cJSON_GetArraySize(cJSON_GetObjectItem(j, "skipped_groups")) > 0) {
		const cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "skipped_groups"))
			printf("skipped:    %s\n", jstr(e, "reason"));
	}
	printf("issuer:     %s\nsubject:    %s\nmethod:     %s\n", jstr(j, "issuer"),
	    jstr(j, "subject"), jstr(j, "method"));
}

/* The exit status of a login: the reply's own, but an IdP that answered with nothing usable
 * as configured (marked "failure": "idp") is not "unreachable" (idgatectl(1)). */
static int
login_exit(int rc, const struct reply *rep)
{
	if (rc == EXIT_FAIL && rep->status != IDG_ST_UNAVAIL &&
	    strcmp(jstr(rep->json, "failure"), "idp") == 0)
		return EXIT_IDP;
	return rc;
}

static int
device_login(struct cli *c, const char *user, bool record)
{
	struct req r;
	struct reply rep;
	char handle[32];
	uint64_t h;
	int rc;

	req_init(&r, IDG_OP_DEVICE_START);
	if (user)
		req_str(&r, IDG_T_NAME, user);
	if (record)
		req_u32(&r, IDG_T_FLAGS, IDG_F_RECORD);
	if ((rc = call(c, &r, &rep)) != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
		rc = login_exit(rc, &rep);
		reply_free(&rep);
		return rc;
	}
	snprintf(handle, sizeof(handle), "%s", jstr(rep.json, "handle"));
	h = strtoull(handle, NULL, 16);
	if (c->json)
		print_json(rep.json);
	else
		printf("To sign in, open %s and enter the code %s\n%s%s%s(waiting up to %.0f s)\n",
		    jstr(rep.json, "verification_uri"), jstr(rep.json, "user_code"),
		    *jstr(rep.json, "verification_uri_complete") ? "or open " : "",
		    jstr(rep.json, "verification_uri_complete"),
		    *jstr(rep.json, "verification_uri_complete") ? "\n" : "",
		    jnum(rep.json, "expires_in"));
	fflush(stdout);
	reply_free(&rep);
	/* Each wait answers within about 20 s: "pending" means ask again. */
	for (int rounds = 0; rounds < 1000; rounds++) {
		req_init(&r, IDG_OP_DEVICE_WAIT);
		req_u64(&r, IDG_T_HANDLE, h);
		rc = call(c, &r, &rep);
		if (rep.status == IDG_ST_PENDING) {
			reply_free(&rep);
			continue;
		}
		if (rc == EXIT_OK)
			print_identity(c, rep.json);
		else
			fprintf(stderr, "%s\n", rep.error);
		rc = login_exit(rc, &rep);
		reply_free(&rep);
		return rc;
	}
	fprintf(stderr, "%s: gave up waiting\n", c->prog);
	return EXIT_FAIL;
}

/* A SAML login: the link to open, then the answer once the browser has been through the IdP
 * (or the login's lifetime has passed). idgated answers each wait at once; ask again after
 * its interval. */
static int
saml_login(struct cli *c, const char *user, bool record)
{
	struct req r;
	struct reply rep;
	char handle[32];
	double expires, interval;
	int rc, rounds;
	uint64_t h;

	req_init(&r, IDG_OP_SAML_START);
	req_str(&r, IDG_T_NAME, user);
	if (record)
		req_u32(&r, IDG_T_FLAGS, IDG_F_RECORD);
	if ((rc = call(c, &r, &rep)) != EXIT_OK) {
		fprintf(stderr, "%s\n", rep.error);
		reply_free(&rep);
		return rc;
	}
	snprintf(handle, sizeof(handle), "%s", jstr(rep.json, "handle"));
	h = strtoull(handle, NULL, 16);
	expires = jnum(rep.json, "expires_in");
	interval = jnum(rep.json, "interval");
	if (interval < 1 || interval > 60)
		interval = 2;
	if (c->json)
		print_json(rep.json);
	else
		printf("To sign in as %s, open %s in a browser\n(waiting up to %.0f s)\n", user,
		    jstr(rep.json, "verification_uri"), expires);
	fflush(stdout);
	reply_free(&rep);
	/* The login ends by its lifetime (idgated says so); a margin of rounds, not forever. */
	rounds = (int)(expires / interval) + 10;
	for (int i = 0; i < rounds && rounds < 100000; i++) {
		req_init(&r, IDG_OP_SAML_WAIT);
		req_u64(&r, IDG_T_HANDLE, h);
		rc = call(c, &r, &rep);
		if (rep.status == IDG_ST_PENDING) {
			reply_free(&rep);
			sleep((unsigned)interval);
			continue;
		}
		if (rc == EXIT_OK)
			print_identity(c, rep.json);
		else
			fprintf(stderr, "%s\n", rep.error);
		reply_free(&rep);
		return rc;
	}
	req_init(&r, IDG_OP_SAML_CANCEL);
	req_u64(&r, IDG_T_HANDLE, h);
	(void)call(c, &r, &rep);
	reply_free(&rep);
	fprintf(stderr, "%s: gave up waiting\n", c->prog);
	return EXIT_FAIL;
}

static int
cmd_login_test(struct cli *c, int argc, char **argv)
{
	bool pw = false, dev = false, tok = false, saml = false, record = false;
	const struct cmdopt o[] = {
		{ "password", 0, false, NULL, &pw, NULL, NULL },
		{ "record", 0, false, NULL, &record, NULL, NULL },
		{ "device", 0, false, NULL, &dev, NULL, NULL },
		{ "token", 0, false, NULL, &tok, NULL, NULL },
		{ "saml", 0, false, NULL, &saml, NULL, NULL },
		{ NULL } };
	const char *user = NULL;
	struct req r;
	struct reply rep;
	char *secret;
	int rc, i = parse_opts(c, &cmds_login[0], argc, argv, o, &rc);

	if (i < 0)
		return rc;
	if ((int)pw + (int)dev + (int)tok + (int)saml > 1)
		return usage_error(c, "choose one of --password, --device, --token and --saml");
	if (!dev && !tok && !saml)
		pw = true;
	if (i < argc)
		user = argv[i++];
	if (i < argc)
		return usage_error(c, "unexpected argument '%s'", argv[i]);
	if (pw && user == NULL)
		return usage_error(c, "name the IdP user to log in as");
	if (saml && user == NULL)
		return usage_error(c, "name the login name to sign in as (--saml USER)");
	if (saml)
		return saml_login(c, user, record);
	if (dev)
		return device_login(c, user, record);
	if ((secret = read_secret(pw ? "Password: " : "Token: ")) == NULL) {
		fprintf(stderr, "%s: out of memory\n", c->prog);
		return EXIT_FAIL;
	}
	if (secret[0] == '\0') {
		wipe_free(secret);
		return usage_error(c, "no %s given on standard input", pw ? "password" : "token");
	}
	req_init(&r, IDG_OP_LOGIN);
	req_u32(&r, IDG_T_METHOD, pw ? IDG_LOGIN_PASSWORD : IDG_LOGIN_TOKEN);
	if (user)
		req_str(&r, IDG_T_NAME, user);
	if (record)
		req_u32(&r, IDG_T_FLAGS, IDG_F_RECORD);
	req_str(&r, IDG_T_SECRET, secret);
	wipe_free(secret);
	rc = call(c, &r, &rep);	/* wipes the request */
	if (rc == EXIT_OK)
		print_identity(c, rep.json);
	else
		fprintf(stderr, "%s\n", rep.error);
	rc = login_exit(rc, &rep);
	reply_free(&rep);
	return rc;
}

const struct command cmds_login[] = {
	{ { "login", "test" }, cmd_login_test,
	  "login test [--password|--device|--token|--saml] [--record] [USER]",
	  "Try an IdP login as pam_idgate would; print the identity (root only).",
	  "\nLogs in to the identity provider configured in idgate.conf(5) [idp] ([saml] with\n"
	  "--saml) and prints what the node makes of the answer: the user: principal, the\n"
	  "POSIX login name, the groups (and any group refused, with why), the issuer and\n"
	  "subject. It changes nothing: a test never pins a login name (only a real login\n"
	  "that PAM account lets in does), so trying a login cannot take a name from the\n"
	  "person it belongs to.\n"
	  "With --record, root records the login as an administrator's act: the login name\n"
	  "is pinned to the IdP identity (after the same checks as a real login: local\n"
	  "accounts, pins, what 'user add' recorded, [idmap] fold_domains) and the user's\n"
	  "IdP group memberships are brought up to date; the login rule is not asked.\n\n"
	  "  --password  (the default) resource-owner password login as USER; the password is\n"
	  "              read from the terminal without echo, or as one line of standard input\n"
	  "  --device    device-code login (RFC 8628): prints the URL and code to open in a\n"
	  "              browser, then waits for the approval; USER, if given, must be the\n"
	  "              login name the IdP user maps to\n"
	  "  --token     an ID token or access token, read from standard input, validated\n"
	  "              locally against the IdP's keys; USER as for --device\n"
	  "  --saml      SAML login ([saml]) as the login name USER: prints this node's\n"
	  "              one-time link to open in a browser, then waits for the IdP's answer\n"
	  "  --record    store what the login yields (see above)\n\n"
	  "Exit status: 0 logged in; 1 refused (wrong credentials, an invalid token, a name\n"
	  "that cannot be mapped or belongs to a local account); 2 usage; 3 idgated or the\n"
	  "IdP unreachable, too slow, or idgated failed; 4 the IdP answered, but with nothing\n"
	  "usable as configured (a method it does not offer, a discovery document for another\n"
	  "issuer, idgate's client or scope refused, a malformed answer) or the [idp]\n"
	  "configuration was refused: fix the configuration, trying again will not help.\n\n"
	  "Examples:\n"
	  "  idgatectl login test alice\n"
	  "  idgatectl login test --device\n"
	  "  idgatectl login test --saml alice\n"
	  "  printf '%s\\n' \"$ID_TOKEN\" | idgatectl login test --token\n" },
};

const size_t ncmds_login = sizeof(cmds_login) / sizeof(cmds_login[0]);
