/* Okta: the org authorization server (https://ORG) or a custom one (https://ORG/oauth2/ID,
 * e.g. /oauth2/default); preferred_username is the Okta login; groups come in the "groups"
 * claim when the "groups" scope is asked for (and the app's groups claim filter allows).
 * Access tokens carry the login in sub and the user's id (the ID token's sub) in uid: the
 * subject is taken from uid when there is one, so that both kinds of token name the same
 * (issuer, subject) for the parent to pin. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "connectors/oidc_int.h"

static int
okta_issuer(const char *issuer, char *err, size_t errlen)
{
	const char *path = strchr(issuer + strlen("https://"), '/'), *id;

	if (path == NULL)
		return 0;	/* the org authorization server */
	if (strncmp(path, "/oauth2/", 8) == 0 && *(id = path + 8) != '\0' &&
	    strchr(id, '/') == NULL)
		return 0;
	snprintf(err, errlen, "an Okta issuer is https://ORG or https://ORG/oauth2/SERVER "
	    "(no trailing slash)");
	return IDG_ERR_CONFIG;
}

const struct idg_profile idg_profile_okta = {
	.id = IDG_OIDC_OKTA,
	.name = "okta",
	.scope = "openid profile email groups",
	.username_claim = "preferred_username",
	.groups_claim = "groups",
	.subject_claim = "uid",
	.check_issuer = okta_issuer,
};
