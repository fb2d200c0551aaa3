/* Keycloak: issuers https://HOST/realms/REALM (older servers: https://HOST/auth/realms/REALM);
 * preferred_username is the login; the "groups" claim (the group membership mapper) holds
 * names, or full paths "/parent/child" when "Full group path" is on. A path becomes
 * "parent/child" (the parent's idmap then turns '/' into '.'), or only "child" with
 * keycloak_paths_basename. Realm roles (realm_access.roles) and one client's roles
 * (resource_access.CLIENT.roles) may be taken as groups too. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "connectors/oidc_int.h"

static int
keycloak_issuer(const char *issuer, char *err, size_t errlen)
{
	const char *r = strstr(issuer + strlen("https://"), "/realms/");

	if (r && r[8] != '\0' && strchr(r + 8, '/') == NULL)
		return 0;
	snprintf(err, errlen, "a Keycloak issuer is https://HOST/realms/REALM (no trailing slash)");
	return IDG_ERR_CONFIG;
}

static bool
keycloak_group(const struct idg_oidc_cfg *cfg, const char *in, char *out, size_t outlen)
{
	const char *s = in;

	if (in[0] == '/') {
		const char *last = strrchr(in, '/');

		s = cfg->keycloak_paths_basename ? last + 1 : in + 1;
	}
	if (s[0] == '\0' || strlen(s) >= outlen)
		return false;	/* "/" or a path ending in '/': no name */
	memcpy(out, s, strlen(s) + 1);
	return true;
}

static int
add_roles(const struct idg_oidc_cfg *cfg, const cJSON *roles, struct idg_groups *g)
{
	const cJSON *list = cJSON_IsArray(roles) ? roles : NULL, *r;
	int found = 0, rc;

	cJSON_ArrayForEach(r, list) {
		if (!cJSON_IsString(r)) {
			g->skipped++;
			continue;
		}
		if ((rc = idg_groups_add(g, cfg->group_prefix_strip, r->valuestring)) < 0)
			return rc;
		found++;
	}
	return found;
}

static int
keycloak_roles(const struct idg_oidc_cfg *cfg, const cJSON *claims, struct idg_groups *g)
{
	const cJSON *ra, *rs, *client;
	int found = 0, rc;

	if (cfg->keycloak_realm_roles) {
		ra = cJSON_GetObjectItemCaseSensitive(claims, "realm_access");
		if ((rc = add_roles(cfg, cJSON_GetObjectItemCaseSensitive(ra, "roles"), g)) < 0)
			return rc;
		found += rc;
	}
	if (cfg->keycloak_client_roles) {
		rs = cJSON_GetObjectItemCaseSensitive(claims, "resource_access");
		client = cJSON_GetObjectItemCaseSensitive(rs, cfg->keycloak_client_roles);
		if ((rc = add_roles(cfg, cJSON_GetObjectItemCaseSensitive(client, "roles"), g)) < 0)
			return rc;
		found += rc;
	}
	return found;
}

const struct idg_profile idg_profile_keycloak = {
	.id = IDG_OIDC_KEYCLOAK,
	.name = "keycloak",
	.scope = "openid profile email",
	.username_claim = "preferred_username",
	.groups_claim = "groups",
	.check_issuer = keycloak_issuer,
	.map_group = keycloak_group,
	.extra_groups = keycloak_roles,
};
