/* The generic OIDC profile: standard claims, everything else from the configuration. */
#include "config.h"

#include "connectors/oidc_int.h"

const struct idg_profile idg_profile_generic = {
	.id = IDG_OIDC_GENERIC,
	.name = "generic",
	.scope = "openid profile email",
	.username_claim = "preferred_username",
	.groups_claim = "groups",
};
