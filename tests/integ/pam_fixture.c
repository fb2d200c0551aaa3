/* pam_fixture.so: a test-only PAM module that plays, without idgate, the parts of a login the
 * SSH harness must be able to drive and observe through a real sshd: a device-code prompt (URL
 * and code in the prompt text, answered by pressing Enter), an informational line, a refusal
 * by auth or by account with a short reason. t_ssh_local.sh uses it to prove the harness;
 * it is never installed.
 *
 * auth arguments:    device url=URL code=CODE [proof=FILE]   prompt "Open URL and enter the
 *                                  code CODE, then press Enter" (echo on); succeed when FILE
 *                                  holds CODE (the harness's callback writes it), else
 *                                  PAM_AUTH_ERR; without proof=, succeed once answered (the
 *                                  test asks the IdP itself whether the code was approved)
 *                    info=TEXT     a PAM_TEXT_INFO line first
 *                    fail=TEXT     a PAM_ERROR_MSG line, then PAM_AUTH_ERR
 *                    measure=FILE  pam_get_authtok (prompting, as a module that takes a
 *                                  password or a token would), write its length to FILE,
 *                                  succeed
 * account arguments: deny=TEXT     a PAM_ERROR_MSG line, then PAM_PERM_DENIED
 * Anything else: PAM_IGNORE. An argument with spaces goes in brackets: "[info=two words]". */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

struct args {
	const char *url, *code, *proof, *info, *fail, *deny, *measure;
	int device;
};

static void
parse(int argc, const char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "device") == 0)
			a->device = 1;
		else if (strncmp(s, "url=", 4) == 0)
			a->url = s + 4;
		else if (strncmp(s, "code=", 5) == 0)
			a->code = s + 5;
		else if (strncmp(s, "proof=", 6) == 0)
			a->proof = s + 6;
		else if (strncmp(s, "info=", 5) == 0)
			a->info = s + 5;
		else if (strncmp(s, "fail=", 5) == 0)
			a->fail = s + 5;
		else if (strncmp(s, "deny=", 5) == 0)
			a->deny = s + 5;
		else if (strncmp(s, "measure=", 8) == 0)
			a->measure = s + 8;
	}
}

/* The length of the secret the user typed, as a module reading PAM_AUTHTOK sees it. */
static int
measure(pam_handle_t *pamh, const char *file)
{
	const char *tok = NULL;
	FILE *f;
	int rc;

	if ((rc = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL)) != PAM_SUCCESS)
		return rc;
	if ((f = fopen(file, "we")) == NULL)
		return PAM_SYSTEM_ERR;
	fprintf(f, "%zu\n", tok ? strlen(tok) : 0);
	return fclose(f) == 0 ? PAM_SUCCESS : PAM_SYSTEM_ERR;
}

/* Whether FILE's first line is exactly CODE. */
static int
proof_holds(const char *file, const char *code)
{
	char line[256];
	FILE *f;
	int ok = 0;

	if (file == NULL || code == NULL || (f = fopen(file, "re")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		ok = strcmp(line, code) == 0;
	}
	fclose(f);
	return ok;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	char *resp = NULL;
	int rc;

	(void)flags;
	parse(argc, argv, &a);
	if (a.info != NULL)
		pam_info(pamh, "%s", a.info);
	if (a.fail != NULL) {
		pam_error(pamh, "%s", a.fail);
		return PAM_AUTH_ERR;
	}
	if (a.measure != NULL)
		return measure(pamh, a.measure);
	if (!a.device)
		return PAM_IGNORE;
	rc = pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &resp,
	    "Open %s and enter the code %s, then press Enter", a.url ? a.url : "?",
	    a.code ? a.code : "?");
	free(resp);
	if (rc != PAM_SUCCESS)
		return rc == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_AUTH_ERR;
	if (a.proof == NULL)
		return PAM_SUCCESS;
	return proof_holds(a.proof, a.code) ? PAM_SUCCESS : PAM_AUTH_ERR;
}

/* sshd calls pam_setcred through the auth stack after a login; a stack whose modules all
 * ignore it fails, so the module that authenticated says yes. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;

	(void)flags;
	parse(argc, argv, &a);
	if (a.deny == NULL)
		return PAM_IGNORE;
	pam_error(pamh, "%s", a.deny);
	return PAM_PERM_DENIED;
}
