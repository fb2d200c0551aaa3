/* A PAM application for pam_idgate.so's tests: runs a service's stacks through libpam (under
 * pam_wrapper, or with -C DIR through pam_start_confdir) with a scripted conversation, and
 * prints what the user would have seen and what each call returned.
 *
 *   pam_driver [-C CONFDIR] [-r RHOST] [-e NAME=VALUE]... [-a ANSWER]... SERVICE USER CALL...
 *
 * CALL: auth, acct, open, close, setcred, chauthtok. Each prompt takes the next -a ANSWER;
 * with none left the conversation fails (PAM_CONV_ERR). -e puts NAME=VALUE in the PAM
 * environment (pam_wrapper's pam_set_items.so turns PAM_AUTHTOK=... into the item, as an
 * earlier module would have set it). Output, one line each:
 *   conv ECHO_OFF|ECHO_ON|ERROR|INFO <text>
 *   <call>=<PAM code name> ms=<elapsed>
 *   user=<PAM_USER at the end>
 *   env <NAME=VALUE> for each PAM environment entry (pam_get_items.so exports the items) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define ANSWERS_MAX 32

static const char *answers[ANSWERS_MAX];
static int nanswers, next_answer;

static const char *
code_name(int rc)
{
	static const struct {
		int rc;
		const char *name;
	} names[] = {
		{ PAM_SUCCESS, "PAM_SUCCESS" }, { PAM_AUTH_ERR, "PAM_AUTH_ERR" },
		{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" }, { PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
		{ PAM_PERM_DENIED, "PAM_PERM_DENIED" }, { PAM_SESSION_ERR, "PAM_SESSION_ERR" },
		{ PAM_IGNORE, "PAM_IGNORE" }, { PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
		{ PAM_CONV_ERR, "PAM_CONV_ERR" }, { PAM_INCOMPLETE, "PAM_INCOMPLETE" },
		{ PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR" }, { PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
		{ PAM_BUF_ERR, "PAM_BUF_ERR" }, { PAM_MAXTRIES, "PAM_MAXTRIES" },
		{ PAM_ABORT, "PAM_ABORT" }, { PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
		{ PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD" }, { PAM_CRED_ERR, "PAM_CRED_ERR" },
		{ PAM_OPEN_ERR, "PAM_OPEN_ERR" }, { PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rc == rc)
			return names[i].name;
	return "PAM_OTHER";
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)data;
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		const char *style = "OTHER";
		int prompt = 0;

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF: style = "ECHO_OFF"; prompt = 1; break;
		case PAM_PROMPT_ECHO_ON: style = "ECHO_ON"; prompt = 1; break;
		case PAM_ERROR_MSG: style = "ERROR"; break;
		case PAM_TEXT_INFO: style = "INFO"; break;
		}
		printf("conv %s %s\n", style, msg[i]->msg);
		fflush(stdout);
		if (!prompt)
			continue;
		if (next_answer == nanswers) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
		r[i].resp = strdup(answers[next_answer++]);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
call(pam_handle_t *pamh, const char *what)
{
	if (strcmp(what, "auth") == 0)
		return pam_authenticate(pamh, 0);
	if (strcmp(what, "acct") == 0)
		return pam_acct_mgmt(pamh, 0);
	if (strcmp(what, "open") == 0)
		return pam_open_session(pamh, 0);
	if (strcmp(what, "close") == 0)
		return pam_close_session(pamh, 0);
	if (strcmp(what, "setcred") == 0)
		return pam_setcred(pamh, PAM_ESTABLISH_CRED);
	if (strcmp(what, "chauthtok") == 0)
		return pam_chauthtok(pamh, 0);
	fprintf(stderr, "unknown call %s\n", what);
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *confdir = NULL, *rhost = NULL, *envs[16];
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	const void *user = NULL;
	int opt, nenv = 0, rc, last = PAM_SUCCESS;
	char **env;

	while ((opt = getopt(argc, argv, "C:r:e:a:")) != -1) {
		switch (opt) {
		case 'C': confdir = optarg; break;
		case 'r': rhost = optarg; break;
		case 'e': if (nenv < 16) envs[nenv++] = optarg; break;
		case 'a': if (nanswers < ANSWERS_MAX) answers[nanswers++] = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr, "usage: pam_driver [-C DIR] [-r RHOST] [-e N=V] [-a ANSWER] "
		    "SERVICE USER CALL...\n");
		return 2;
	}
	rc = confdir ? pam_start_confdir(argv[optind], argv[optind + 1], &pc, confdir, &pamh) :
	    pam_start(argv[optind], argv[optind + 1], &pc, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start: %d\n", rc);
		return 1;
	}
	if (rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, rhost);
	for (int i = 0; i < nenv; i++)
		pam_putenv(pamh, envs[i]);
	for (int i = optind + 2; i < argc; i++) {
		int64_t t0 = now_ms();

		last = call(pamh, argv[i]);
		printf("%s=%s ms=%lld\n", argv[i], code_name(last), (long long)(now_ms() - t0));
		fflush(stdout);
	}
	pam_get_item(pamh, PAM_USER, &user);
	printf("user=%s\n", user ? (const char *)user : "(null)");
	if ((env = pam_getenvlist(pamh)) != NULL) {
		for (char **e = env; *e != NULL; e++) {
			printf("env %s\n", *e);
			free(*e);
		}
		free(env);
	}
	pam_end(pamh, last);
	return 0;
}
