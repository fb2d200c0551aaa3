/* Auth0: the issuer is the tenant's origin with a trailing slash (https://TENANT.auth0.com/
 * or a custom domain); groups only exist as a namespaced custom claim that an Action adds
 * (e.g. https://example.com/groups, configured as groups_claim), so there is no default; the
 * username is the e-mail address (or the nickname, when configured); access tokens are JWTs
 * only when an API "audience" is asked for, which the token and device requests then carry. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "connectors/oidc_int.h"

static int
auth0_issuer(const char *issuer, char *err, size_t errlen)
{
	const char *path = strchr(issuer + strlen("https://"), '/');

	if (path && strcmp(path, "/") == 0)
		return 0;
	snprintf(err, errlen, "an Auth0 issuer is https://TENANT.auth0.com/ (with the trailing "
	    "slash and no path)");
	return IDG_ERR_CONFIG;
}

const struct idg_profile idg_profile_auth0 = {
	.id = IDG_OIDC_AUTH0,
	.name = "auth0",
	.scope = "openid profile email",
	.username_claim = "email",
	.groups_claim = NULL,
	.send_audience = true,
	.check_issuer = auth0_issuer,
};
