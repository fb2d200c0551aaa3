/* The schema of idgate.conf. Every key, its type, default and one line of documentation;
 * idgate.conf(5) documents the same table. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/config.h"
#include "idmap/idmap.h"
#include "rbac/names.h"
#include "rbac/perms.h"

static const char *const log_choices[] = { "auto", "stderr", "syslog", NULL };
static const char *const backend_choices[] = { "sqlite", NULL };
static const char *const sync_choices[] = { "full", "normal", NULL };
static const char *const level_choices[] = { "err", "warning", "notice", "info", "debug", NULL };

static const char *const profile_choices[] = { "generic", "keycloak", "auth0", "okta", NULL };
static const char *const client_auth_choices[] = { "basic", "post", NULL };
static const char *const source_choices[] = { "id_token", "access_token", "userinfo", NULL };
static const char *const kc_path_choices[] = { "path", "basename", NULL };
static const char *const name_rule_choices[] = { "auto", "username", "email_local", NULL };

#define O(f) offsetof(struct idg_config, f)
#define DAY (24LL * 3600)

const struct idg_conf_key idg_config_schema[] = {
	{ "daemon", "run_dir", IDG_CONF_PATH, IDG_RUNDIR, false, 0, 0, NULL, O(run_dir),
	  "directory for api.sock, pam.sock and the pid file" },
	{ "daemon", "state_dir", IDG_CONF_PATH, IDG_STATEDIR, false, 0, 0, NULL, O(state_dir),
	  "directory for the state database (created 0700)" },
	{ "daemon", "log", IDG_CONF_ENUM, "auto", false, 0, 0, log_choices, O(log),
	  "where logs go: auto (stderr in the foreground, syslog as a daemon), stderr, syslog" },
	{ "daemon", "log_level", IDG_CONF_ENUM, "info", false, 0, 0, level_choices, O(log_level),
	  "lowest priority logged: err, warning, notice, info, debug" },
	{ "daemon", "audit_log", IDG_CONF_PATH, IDG_LOGDIR "/audit.log", false, 0, 0, NULL, O(audit_log),
	  "append-only JSON-lines audit log of every change and denial" },
	{ "daemon", "max_connections", IDG_CONF_INT, "256", false, 1, 65536, NULL, O(max_connections),
	  "open client connections at most" },
	{ "daemon", "max_connections_per_uid", IDG_CONF_INT, "16", false, 1, 65536, NULL,
	  O(max_connections_per_uid), "open connections one local uid may hold" },
	{ "daemon", "request_timeout", IDG_CONF_DURATION, "10s", false, 1, 3600, NULL,
	  O(request_timeout), "time a client has to send a whole request or read a reply" },
	{ "daemon", "idle_timeout", IDG_CONF_DURATION, "5m", false, 1, DAY, NULL, O(idle_timeout),
	  "an idle connection is closed after this long" },
	{ "store", "backend", IDG_CONF_ENUM, "sqlite", false, 0, 0, backend_choices, O(backend),
	  "state store: sqlite" },
	{ "store", "path", IDG_CONF_PATH, IDG_STATEDIR "/state.db", false, 0, 0, NULL, O(db_path),
	  "the SQLite database file" },
	{ "store", "synchronous", IDG_CONF_ENUM, "full", false, 0, 0, sync_choices, O(synchronous),
	  "full: a change survives power loss once acknowledged; normal: survives a crash" },
	{ "auth", "robot_token_max_ttl", IDG_CONF_DURATION, "0", false, 0, 3650 * DAY, NULL,
	  O(robot_token_max_ttl), "longest lifetime a robot token may be given; 0: no limit" },
	{ "auth", "robot_token_default_ttl", IDG_CONF_DURATION, "0", false, 0, 3650 * DAY, NULL,
	  O(robot_token_default_ttl), "lifetime of a robot token issued without --ttl; 0: until revoked" },
	{ "data", "root", IDG_CONF_PATH, "/srv/idgate/repos", false, 0, 0, NULL, O(data_root),
	  "repo data lives in ROOT/PROJECT/REPO" },
	{ "data", "max_put_size", IDG_CONF_SIZE, "64M", false, 1, 1LL << 40, NULL, O(max_put_size),
	  "largest file 'idgatectl put file' copies into a repo" },
	{ "data", "enforce", IDG_CONF_BOOL, "yes", false, 0, 0, NULL, O(data_enforce),
	  "keep every repo directory's POSIX ACL equal to the bindings (REPO_READ: read, "
	  "REPO_WRITE: read-write)" },
	{ "data", "owner", IDG_CONF_STR, "root", false, 0, 32, NULL, O(data_owner),
	  "local user (from /etc/passwd) every repo directory and file is given to" },
	{ "data", "group", IDG_CONF_STR, "root", false, 0, 32, NULL, O(data_group),
	  "local group (from /etc/group) that owns every repo directory and file" },
	{ "data", "mode", IDG_CONF_STR, "0750", false, 0, 8, NULL, O(data_mode),
	  "base mode of repo directories (octal; files get it without execute): the owner's, "
	  "the owning group's and others' permissions beside the ACL entries" },
	{ "data", "repair_interval", IDG_CONF_DURATION, "1h", false, 0, 30 * DAY, NULL,
	  O(data_repair_interval), "every repo tree is checked against the bindings and drift "
	  "repaired (and logged) at start-up and on this schedule; 0: at start-up only" },
	{ "idp", "profile", IDG_CONF_ENUM, "generic", false, 0, 0, profile_choices, O(idp_profile),
	  "the identity provider's kind: generic, keycloak, auth0, okta" },
	{ "idp", "issuer", IDG_CONF_STR, NULL, false, 0, 512, NULL, O(idp_issuer),
	  "the issuer URL (https), exactly as the IdP's discovery document gives it; unset: no IdP" },
	{ "idp", "client_id", IDG_CONF_STR, NULL, false, 0, 256, NULL, O(idp_client_id),
	  "the OIDC client idgate is registered as" },
	{ "idp", "client_secret_file", IDG_CONF_PATH, NULL, false, 0, 0, NULL,
	  O(idp_client_secret_file), "file holding the client secret (root-owned, mode 0600 or "
	  "0400); unset: a public client" },
	{ "idp", "client_auth", IDG_CONF_ENUM, "basic", false, 0, 0, client_auth_choices,
	  O(idp_client_auth), "how the secret is sent: basic (client_secret_basic) or post" },
	{ "idp", "scope", IDG_CONF_STR, NULL, false, 0, 512, NULL, O(idp_scope),
	  "scopes asked for; unset: the profile's (openid profile email, okta adds groups)" },
	{ "idp", "audience", IDG_CONF_STR, NULL, false, 0, 512, NULL, O(idp_audience),
	  "auth0: the API audience access tokens are asked for and accepted with" },
	{ "idp", "ca_file", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(idp_ca_file),
	  "PEM file of the CAs trusted for the IdP; unset: the system's" },
	{ "idp", "connect_timeout", IDG_CONF_DURATION, "5s", false, 1, 60, NULL,
	  O(idp_connect_timeout), "time to connect to the IdP before it counts as unreachable" },
	{ "idp", "timeout", IDG_CONF_DURATION, "15s", false, 1, 300, NULL, O(idp_timeout),
	  "time one IdP request may take in all" },
	{ "idp", "max_response_size", IDG_CONF_SIZE, "1M", false, 4096, 64LL << 20, NULL,
	  O(idp_max_response), "largest IdP response read" },
	{ "idp", "max_token_size", IDG_CONF_SIZE, "16k", false, 1024, 1LL << 20, NULL,
	  O(idp_max_token), "largest token accepted as a password" },
	{ "idp", "leeway", IDG_CONF_DURATION, "5m", false, 0, 600, NULL, O(idp_leeway),
	  "clock skew allowed on exp, nbf and iat (5 minutes, as Kerberos and most JWT "
	  "libraries allow: a host a minute off NTP must not refuse every login)" },
	{ "idp", "jwks_min_interval", IDG_CONF_DURATION, "60s", false, 1, DAY, NULL,
	  O(idp_jwks_min_interval), "a token with an unknown key id refreshes the keys at most "
	  "this often" },
	{ "idp", "jwks_refresh", IDG_CONF_DURATION, "1h", false, 60, 7 * DAY, NULL,
	  O(idp_jwks_refresh), "the keys are refreshed on this schedule" },
	{ "idp", "algorithms", IDG_CONF_STR, "RS256,RS384,RS512,PS256,ES256,ES384,EdDSA", false, 0,
	  256, NULL, O(idp_algorithms), "signature algorithms accepted (none and HS* never are)" },
	{ "idp", "username_claim", IDG_CONF_STR, NULL, false, 0, 256, NULL, O(idp_username_claim),
	  "claim (or JSON pointer) holding the username; unset: the profile's" },
	{ "idp", "groups_claim", IDG_CONF_STR, NULL, false, 0, 256, NULL, O(idp_groups_claim),
	  "claim (or JSON pointer, e.g. /https:~1~1example.com~1groups) holding the groups" },
	{ "idp", "groups_source", IDG_CONF_ENUM, "id_token", false, 0, 0, source_choices,
	  O(idp_groups_source), "where groups are read: id_token, access_token or userinfo" },
	{ "idp", "group_prefix_strip", IDG_CONF_STR, NULL, false, 0, 128, NULL,
	  O(idp_group_prefix_strip), "removed from the front of each group name" },
	{ "idp", "keycloak_group_paths", IDG_CONF_ENUM, "path", false, 0, 0, kc_path_choices,
	  O(idp_keycloak_group_paths), "keycloak: a group /a/b becomes a.b (path) or b (basename)" },
	{ "idp", "keycloak_realm_roles", IDG_CONF_BOOL, "no", false, 0, 0, NULL,
	  O(idp_keycloak_realm_roles), "keycloak: realm roles become groups too" },
	{ "idp", "keycloak_client_roles", IDG_CONF_STR, NULL, false, 0, 256, NULL,
	  O(idp_keycloak_client_roles), "keycloak: this client's roles become groups too" },
	{ "idp", "userinfo_fallback", IDG_CONF_BOOL, "yes", false, 0, 0, NULL,
	  O(idp_userinfo_fallback), "claims missing from the token are asked of userinfo" },
	{ "saml", "idp_metadata", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(saml_idp_metadata),
	  "the SAML IdP's metadata file (entity ID, SSO URL, signing certificates); unset: no "
	  "SAML logins and no HTTPS endpoint" },
	{ "saml", "idp_metadata_url", IDG_CONF_STR, NULL, false, 0, 1024, NULL,
	  O(saml_idp_metadata_url), "or an https URL the connector fetches the IdP's metadata "
	  "from (at start, then every metadata_refresh)" },
	{ "saml", "ca_file", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(saml_ca_file),
	  "PEM CAs trusted for idp_metadata_url (only these); unset: the system's" },
	{ "saml", "metadata_refresh", IDG_CONF_DURATION, "1h", false, 60, 7 * DAY, NULL,
	  O(saml_metadata_refresh), "idp_metadata_url is fetched again this often" },
	{ "saml", "sign_requests", IDG_CONF_BOOL, "no", false, 0, 0, NULL, O(saml_sign_requests),
	  "sign AuthnRequests (HTTP-Redirect, RSA-SHA256) with sp_key" },
	{ "saml", "sp_key", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(saml_sp_key),
	  "PEM RSA private key that signs AuthnRequests (root-owned, mode 0600)" },
	{ "saml", "sp_cert", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(saml_sp_cert),
	  "PEM certificate of sp_key, published in the SP metadata" },
	{ "saml", "sp_entity_id", IDG_CONF_STR, NULL, false, 0, 512, NULL, O(saml_sp_entity_id),
	  "this node's SAML entity ID (the Audience the IdP must name)" },
	{ "saml", "base_url", IDG_CONF_STR, NULL, false, 0, 512, NULL, O(saml_base_url),
	  "https://HOST[:PORT] as browsers reach this node: BASE/saml/login/CODE, BASE/saml/acs, "
	  "BASE/saml/metadata" },
	{ "saml", "listen", IDG_CONF_STR, "0.0.0.0", false, 0, 64, NULL, O(saml_listen),
	  "IPv4 or IPv6 address the HTTPS endpoint listens on" },
	{ "saml", "port", IDG_CONF_INT, "8443", false, 1, 65535, NULL, O(saml_port),
	  "TCP port of the HTTPS endpoint" },
	{ "saml", "tls_cert", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(saml_tls_cert),
	  "PEM certificate (chain) of the HTTPS endpoint" },
	{ "saml", "tls_key", IDG_CONF_PATH, NULL, false, 0, 0, NULL, O(saml_tls_key),
	  "PEM private key of the HTTPS endpoint (root-owned, mode 0600)" },
	{ "saml", "username_attribute", IDG_CONF_STR, NULL, false, 0, 256, NULL,
	  O(saml_username_attribute), "attribute holding the username; unset: the NameID" },
	{ "saml", "groups_attribute", IDG_CONF_STR, "groups", false, 0, 256, NULL,
	  O(saml_groups_attribute), "attribute holding the groups (Okta: groups; Keycloak: Role "
	  "or member; Auth0: http://schemas.xmlsoap.org/claims/Group); empty: none" },
	{ "saml", "same_directory_as_oidc", IDG_CONF_BOOL, "no", false, 0, 0, NULL,
	  O(saml_same_directory), "yes: the SAML IdP and the [idp] issuer are one directory, so "
	  "a login name may be used by both logins of one person, linked by link_attribute" },
	{ "saml", "link_attribute", IDG_CONF_STR, NULL, false, 0, 256, NULL,
	  O(saml_link_attribute), "the SAML attribute whose value is the user's OIDC subject "
	  "(sub) at the [idp] issuer; NameID: the NameID is that subject" },
	{ "saml", "login_ttl", IDG_CONF_DURATION, "2m", false, 30, 3600, NULL, O(saml_login_ttl),
	  "a SAML login's one-time link, and the login, expire after this long" },
	{ "saml", "leeway", IDG_CONF_DURATION, "60s", false, 0, 600, NULL, O(saml_leeway),
	  "clock skew allowed on an assertion's NotBefore and NotOnOrAfter" },
	{ "saml", "max_response_size", IDG_CONF_SIZE, "256k", false, 4096, 512LL << 10, NULL,
	  O(saml_max_response), "largest SAML response read (decoded)" },
	{ "saml", "max_connections", IDG_CONF_INT, "64", false, 1, 4096, NULL,
	  O(saml_max_connections), "open HTTPS connections at most" },
	{ "saml", "max_connections_per_ip", IDG_CONF_INT, "16", false, 1, 4096, NULL,
	  O(saml_max_connections_per_ip), "open HTTPS connections from one address at most" },
	{ "saml", "request_timeout", IDG_CONF_DURATION, "10s", false, 3, 300, NULL,
	  O(saml_request_timeout), "time a browser has for the whole of one request (sending it, "
	  "its answer); a connection past it is closed" },
	{ "saml", "acs_per_minute", IDG_CONF_INT, "30", false, 1, 100000, NULL,
	  O(saml_acs_per_minute), "SAML responses one address may post a minute (beyond: 429)" },
	{ "saml", "max_acs_pending", IDG_CONF_INT, "8", false, 1, 1024, NULL,
	  O(saml_max_acs_pending), "SAML responses being verified at once (beyond: 503 at once)" },
	{ "saml", "web_user", IDG_CONF_STR, NULL, false, 0, 32, NULL, O(saml_web_user),
	  "the unprivileged system user the HTTPS endpoint's process runs as; unset: the "
	  "[connector] user" },
	{ "connector", "user", IDG_CONF_STR, "_idgate", false, 0, 32, NULL, O(connector_user),
	  "the unprivileged system user the IdP connector process runs as" },
	{ "connector", "max_logins", IDG_CONF_INT, "16", false, 1, 64, NULL,
	  O(connector_max_logins), "connector processes that talk to the IdP for password and "
	  "device logins at once (each login holds one while it waits on the IdP)" },
	{ "connector", "max_tokens", IDG_CONF_INT, "2", false, 1, 16, NULL,
	  O(connector_max_tokens), "connector processes that validate tokens typed as "
	  "passwords (kept apart, so a slow IdP never delays them)" },
	{ "connector", "max_saml", IDG_CONF_INT, "2", false, 1, 16, NULL,
	  O(connector_max_saml), "connector processes that verify posted SAML responses "
	  "(unauthenticated work: kept apart from logins, at a lower CPU priority)" },
	{ "connector", "saml_queue", IDG_CONF_INT, "8", false, 0, 256, NULL,
	  O(connector_saml_queue), "SAML responses waiting for a free verifier at most; more "
	  "are refused at once (HTTP 503)" },
	{ "idmap", "name_rule", IDG_CONF_ENUM, "auto", false, 0, 0, name_rule_choices,
	  O(idmap_name_rule), "POSIX name: the username (username), the local part of an e-mail "
	  "address (email_local), or the first of the two that is valid (auto)" },
	{ "idmap", "name_max", IDG_CONF_INT, "32", false, 8, 32, NULL, O(idmap_name_max),
	  "longest POSIX login name" },
	{ "idmap", "id_min", IDG_CONF_INT, "200000", false, 1000, 4294967293LL, NULL,
	  O(idmap_id_min), "lowest uid or gid given to an IdP user or group" },
	{ "idmap", "id_max", IDG_CONF_INT, "2000200000", false, 1001, 4294967294LL, NULL,
	  O(idmap_id_max), "highest uid or gid given to an IdP user or group" },
	{ "idmap", "primary_group", IDG_CONF_STR, "private", false, 0, 32, NULL,
	  O(idmap_primary_group), "each user's primary group: private (a group named like the "
	  "user, gid = uid) or the name of one group for everyone" },
	{ "idmap", "home_base", IDG_CONF_PATH, "/home", false, 0, 0, NULL, O(idmap_home_base),
	  "home directories are HOME_BASE/NAME" },
	{ "idmap", "shell", IDG_CONF_PATH, "/bin/bash", false, 0, 0, NULL, O(idmap_shell),
	  "the login shell of IdP users" },
	{ "idmap", "users_group", IDG_CONF_STR, "idgate-users", false, 0, 32, NULL,
	  O(idmap_users_group), "a POSIX group every IdP user is a member of; empty: none" },
	{ "idmap", "fold_domains", IDG_CONF_STR, NULL, false, 0, 4096, NULL, O(idmap_fold_domains),
	  "e-mail domains whose addresses the auto and email_local rules may cut to their local "
	  "part (alice@example.com -> alice), separated by spaces; empty: none (such a login is "
	  "refused)" },
	{ "nss", "snapshot", IDG_CONF_PATH, IDG_NSS_SNAPSHOT, false, 0, 0, NULL, O(nss_snapshot),
	  "the snapshot file libnss_idgate.so.2 reads: the path the module was built with "
	  "(configure --with-nss-snapshot); another only for a private idgated (a run_dir other "
	  "than the built one). Its directory is created 0755" },
	{ "nss", "enumerate", IDG_CONF_BOOL, "no", false, 0, 0, NULL, O(nss_enumerate),
	  "getent passwd and getent group list IdP users and groups" },
	{ "nss", "provisional", IDG_CONF_BOOL, "yes", false, 0, 0, NULL, O(nss_provisional),
	  "sshd may ask idgated about a user it does not know yet (a provisional entry)" },
	{ "nss", "provisional_ttl", IDG_CONF_DURATION, "5m", false, 10, DAY, NULL,
	  O(nss_provisional_ttl), "a provisional entry is forgotten after this long without a login" },
	{ "nss", "provisional_max", IDG_CONF_INT, "1024", false, 1, 65536, NULL,
	  O(nss_provisional_max), "provisional entries kept at most (the oldest goes first)" },
	{ "nss", "ask_timeout", IDG_CONF_MSEC, "500ms", false, 50, 60000, NULL,
	  O(nss_ask_timeout_ms), "how long the module in sshd waits for idgated's answer" },
	{ "pam", "login_rule", IDG_CONF_STR, "any_role", false, 0, 256, NULL, O(pam_login_rule),
	  "who may log in (PAM account): any_role (a role bound to the user or one of its groups "
	  "anywhere), or PERMISSION on cluster|project NAME|repo PROJECT/REPO" },
	{ "pam", "offline_ttl", IDG_CONF_DURATION, "7d", false, 0, 365 * DAY, NULL,
	  O(pam_offline_ttl), "how long offline credentials of an online password login stay "
	  "usable while the IdP is unreachable; 0: no offline logins" },
	{ "pam", "create_home", IDG_CONF_BOOL, "yes", false, 0, 0, NULL, O(pam_create_home),
	  "PAM session creates the home directory on the first login" },
	{ "pam", "skel", IDG_CONF_STR, "/etc/skel", false, 0, 4000, NULL, O(pam_skel),
	  "skeleton files copied into a new home directory; empty: none" },
};

const size_t idg_config_schema_len = sizeof(idg_config_schema) / sizeof(idg_config_schema[0]);

unsigned
idg_config_line(const struct idg_config *cfg, const char *section, const char *key)
{
	if (cfg->key_lines == NULL)
		return 0;
	for (size_t i = 0; i < idg_config_schema_len; i++)
		if (strcmp(idg_config_schema[i].section, section) == 0 &&
		    strcmp(idg_config_schema[i].key, key) == 0)
			return cfg->key_lines[i];
	return 0;
}

void
idg_config_error(struct idg_buf *errs, const struct idg_config *cfg, const char *section,
    const char *key, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	idg_conf_error_at(errs, cfg->file, idg_config_line(cfg, section, key), "%s", msg);
}

#define CERR(sec, key, ...) idg_config_error(errs, cfg, sec, key, __VA_ARGS__)

/* [idp] keys that only make sense together, and a secret file only root can read. */
static int
check_idp(const struct idg_config *cfg, bool check_owner, struct idg_buf *errs)
{
	struct stat st;
	int rc = 0;

	if (cfg->idp_issuer == NULL)
		return 0;
	if (strncmp(cfg->idp_issuer, "https://", 8) != 0 || cfg->idp_issuer[8] == '\0') {
		CERR("idp", "issuer", "issuer in [idp] must be an https:// URL");
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->idp_client_id == NULL) {
		CERR("idp", "issuer", "[idp] has an issuer but no client_id");
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->idp_client_secret_file != NULL) {
		if (stat(cfg->idp_client_secret_file, &st) < 0) {
			CERR("idp", "client_secret_file", "client_secret_file %s in [idp]: %s",
			    cfg->idp_client_secret_file, strerror(errno));
			rc = IDG_ERR_CONFIG;
		} else if (check_owner && (st.st_uid != 0 || (st.st_mode & 077))) {
			CERR("idp", "client_secret_file", "client_secret_file %s must be owned by "
			    "root and readable by no one else (owner uid %u, mode %04o)",
			    cfg->idp_client_secret_file, (unsigned)st.st_uid,
			    (unsigned)(st.st_mode & 07777));
			rc = IDG_ERR_CONFIG;
		}
	}
	return rc;
}

/* [saml]: all or nothing; the TLS key only root can read; https URLs. */
static int
check_saml(const struct idg_config *cfg, bool check_owner, struct idg_buf *errs)
{
	const char *md_key = cfg->saml_idp_metadata ? "idp_metadata" : "idp_metadata_url";
	struct stat st;
	int rc = 0;

	if (cfg->saml_idp_metadata && cfg->saml_idp_metadata_url) {
		CERR("saml", "idp_metadata_url", "[saml] takes idp_metadata or idp_metadata_url, "
		    "not both");
		return IDG_ERR_CONFIG;
	}
	if (cfg->saml_idp_metadata_url && (strncmp(cfg->saml_idp_metadata_url, "https://", 8) != 0 ||
	    cfg->saml_idp_metadata_url[8] == '\0')) {
		CERR("saml", "idp_metadata_url", "idp_metadata_url in [saml] must be an https:// "
		    "URL");
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->saml_link_attribute && !cfg->saml_same_directory) {
		CERR("saml", "link_attribute", "link_attribute in [saml] is used only with "
		    "same_directory_as_oidc = yes");
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->saml_same_directory && (cfg->saml_link_attribute == NULL ||
	    cfg->saml_link_attribute[0] == '\0' || cfg->idp_issuer == NULL ||
	    !idg_config_saml(cfg))) {
		CERR("saml", "same_directory_as_oidc", "same_directory_as_oidc in [saml] needs "
		    "link_attribute (the SAML attribute that carries the user's OIDC subject), an "
		    "[idp] issuer and idp_metadata or idp_metadata_url");
		rc = IDG_ERR_CONFIG;
	}
	if (!idg_config_saml(cfg))
		return rc;
	if (cfg->saml_sp_entity_id == NULL || cfg->saml_base_url == NULL ||
	    cfg->saml_tls_cert == NULL || cfg->saml_tls_key == NULL) {
		CERR("saml", md_key, "[saml] with %s also needs sp_entity_id, base_url, tls_cert "
		    "and tls_key", md_key);
		return IDG_ERR_CONFIG;
	}
	if (strncmp(cfg->saml_base_url, "https://", 8) != 0 || cfg->saml_base_url[8] == '\0' ||
	    strpbrk(cfg->saml_base_url + 8, "/?#") != NULL) {
		CERR("saml", "base_url", "base_url in [saml] must be https://HOST[:PORT] (no path)");
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->saml_sign_requests && (cfg->saml_sp_key == NULL || cfg->saml_sp_cert == NULL)) {
		CERR("saml", "sign_requests", "sign_requests in [saml] needs sp_key and sp_cert");
		rc = IDG_ERR_CONFIG;
	} else if (cfg->saml_sign_requests && stat(cfg->saml_sp_key, &st) == 0 && check_owner &&
	    (st.st_uid != 0 || (st.st_mode & 077))) {
		CERR("saml", "sp_key", "sp_key %s must be owned by root and readable by no one else "
		    "(owner uid %u, mode %04o)", cfg->saml_sp_key, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		rc = IDG_ERR_CONFIG;
	}
	if (stat(cfg->saml_tls_key, &st) < 0) {
		CERR("saml", "tls_key", "tls_key %s in [saml]: %s", cfg->saml_tls_key,
		    strerror(errno));
		rc = IDG_ERR_CONFIG;
	} else if (check_owner && (st.st_uid != 0 || (st.st_mode & 077))) {
		CERR("saml", "tls_key", "tls_key %s must be owned by root and readable by no one "
		    "else (owner uid %u, mode %04o)", cfg->saml_tls_key, (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
		rc = IDG_ERR_CONFIG;
	}
	return rc;
}

/* A group name for the POSIX view, or "" where that is allowed. */
static bool
posix_group_ok(const char *name, bool empty_ok)
{
	char why[256];

	if (name[0] == '\0')
		return empty_ok;
	return idg_idmap_posix_group(name, why, sizeof(why)) == 0;
}

/* Domain names only: a '@' or a wildcard would make the list mean something else. */
static bool
fold_domains_ok(const char *list)
{
	for (const char *p = list ? list : ""; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(".- ,\t", *p) != NULL))
			return false;
	return true;
}

/* [idmap]: the id range, the groups named, paths the snapshot can carry, the fold domains. */
static int
check_idmap(const struct idg_config *cfg, struct idg_buf *errs)
{
	int rc = 0;

	if (cfg->idmap_id_min >= cfg->idmap_id_max) {
		CERR("idmap", idg_config_line(cfg, "idmap", "id_max") ? "id_max" : "id_min",
		    "id_min (%lld) must be below id_max (%lld) in [idmap]", cfg->idmap_id_min,
		    cfg->idmap_id_max);
		rc = IDG_ERR_CONFIG;
	}
	if (strcmp(cfg->idmap_primary_group, IDG_PRIMARY_PRIVATE) != 0 &&
	    !posix_group_ok(cfg->idmap_primary_group, false)) {
		CERR("idmap", "primary_group", "primary_group in [idmap] must be 'private' or a "
		    "group name (1 to 32 of letters, digits and ._@+-, not starting with '-', not "
		    "all digits)");
		rc = IDG_ERR_CONFIG;
	}
	if (!posix_group_ok(cfg->idmap_users_group, true)) {
		CERR("idmap", "users_group", "users_group in [idmap] must be empty or a group name "
		    "(1 to 32 of letters, digits and ._@+-, not starting with '-', not all digits)");
		rc = IDG_ERR_CONFIG;
	}
	if (strpbrk(cfg->idmap_home_base, ":,")) {
		CERR("idmap", "home_base", "home_base in [idmap] cannot hold ':' or ','");
		rc = IDG_ERR_CONFIG;
	}
	if (strpbrk(cfg->idmap_shell, ":,")) {
		CERR("idmap", "shell", "shell in [idmap] cannot hold ':' or ','");
		rc = IDG_ERR_CONFIG;
	}
	if (!fold_domains_ok(cfg->idmap_fold_domains)) {
		CERR("idmap", "fold_domains", "fold_domains in [idmap] must be domain names "
		    "(letters, digits, '.' and '-') separated by spaces or commas");
		rc = IDG_ERR_CONFIG;
	}
	return rc;
}

bool
idg_config_saml(const struct idg_config *cfg)
{
	return cfg->saml_idp_metadata != NULL || cfg->saml_idp_metadata_url != NULL;
}

int
idg_config_login_rule(const char *text, struct idg_login_rule *out, char *why, size_t whylen)
{
	char buf[300], *save = NULL, *perm, *on, *type, *name, *extra;
	struct idg_login_rule r = { .kind = IDG_LOGIN_ANY_ROLE };
	char project[IDG_PROJECT_NAME_MAX + 1], repo[IDG_REPO_NAME_MAX + 1], reason[256];

	if (strcmp(text, "any_role") == 0) {
		*out = r;
		return 0;
	}
	if (strlen(text) >= sizeof(buf))
		goto syntax;
	strcpy(buf, text);
	perm = strtok_r(buf, " \t", &save);
	on = strtok_r(NULL, " \t", &save);
	type = strtok_r(NULL, " \t", &save);
	name = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (perm == NULL || on == NULL || type == NULL || strcmp(on, "on") != 0 || extra)
		goto syntax;
	r.kind = IDG_LOGIN_PERMISSION;
	if ((r.perm = idg_perm_lookup(perm)) <= 0) {
		snprintf(why, whylen, "login_rule in [pam]: unknown permission '%s' (see idgatectl "
		    "rbac list-roles)", perm);
		return IDG_ERR_CONFIG;
	}
	if (strcmp(type, "cluster") == 0 && name == NULL) {
		r.rtype = 0;
	} else if (strcmp(type, "project") == 0 && name) {
		if (idg_name_project(name, reason, sizeof(reason)) < 0)
			goto bad_name;
		r.rtype = 1;
		snprintf(r.resource, sizeof(r.resource), "%s", name);
	} else if (strcmp(type, "repo") == 0 && name) {
		if (idg_repo_split(name, project, repo, reason, sizeof(reason)) < 0)
			goto bad_name;
		r.rtype = 2;
		snprintf(r.resource, sizeof(r.resource), "%s/%s", project, repo);
	} else {
		goto syntax;
	}
	*out = r;
	return 0;
bad_name:
	snprintf(why, whylen, "login_rule in [pam]: %s", reason);
	return IDG_ERR_CONFIG;
syntax:
	snprintf(why, whylen, "login_rule in [pam] must be any_role, or PERMISSION on cluster, "
	    "PERMISSION on project NAME, or PERMISSION on repo PROJECT/REPO");
	return IDG_ERR_CONFIG;
}

int
idg_config_data_mode(const char *text, unsigned *out)
{
	unsigned long v;
	char *end;

	if (text[0] < '0' || text[0] > '7')
		return IDG_ERR_CONFIG;
	errno = 0;
	v = strtoul(text, &end, 8);
	if (errno || *end != '\0' || v > 0777)
		return IDG_ERR_CONFIG;
	*out = (unsigned)v;
	return 0;
}

/* [nss] snapshot: libnss_idgate.so.2 reads only the path it was built with (configure
 * --with-nss-snapshot), so the idgated the modules talk to (its run_dir the built one) must
 * publish exactly there; a private idgated (tests, demos, benchmarks: a run_dir of its own,
 * which the installed modules do not reach) may publish anywhere, and is warned. */
static int
check_nss(const struct idg_config *cfg, struct idg_buf *errs)
{
	if (strcmp(cfg->nss_snapshot, IDG_NSS_SNAPSHOT) == 0 ||
	    strcmp(cfg->run_dir, IDG_RUNDIR) != 0)
		return 0;
	CERR("nss", "snapshot", "snapshot in [nss] must be %s, the only file libnss_idgate.so.2 "
	    "reads (it was built so: configure --with-nss-snapshot=PATH moves both); another path "
	    "is only for a private idgated whose [daemon] run_dir is not %s", IDG_NSS_SNAPSHOT,
	    IDG_RUNDIR);
	return IDG_ERR_CONFIG;
}

void
idg_config_warnings(const struct idg_config *cfg, struct idg_buf *out)
{
	struct idg_buf *errs = out;

	if (strcmp(cfg->nss_snapshot, IDG_NSS_SNAPSHOT) != 0)
		CERR("nss", "snapshot", "warning: snapshot in [nss] is not %s, the file "
		    "libnss_idgate.so.2 reads: IdP users and groups of this private idgated "
		    "(run_dir %s) are not seen through NSS", IDG_NSS_SNAPSHOT, cfg->run_dir);
}

/* [data]: mode is octal; owner and group look like local names. */
static int
check_data(const struct idg_config *cfg, struct idg_buf *errs)
{
	unsigned mode;
	int rc = 0;

	if (idg_config_data_mode(cfg->data_mode, &mode) < 0) {
		CERR("data", "mode", "mode in [data] must be an octal mode from 0000 to 0777 "
		    "(e.g. 0750)");
		rc = IDG_ERR_CONFIG;
	}
	if (!posix_group_ok(cfg->data_owner, false)) {
		CERR("data", "owner", "owner in [data] must be a local user name");
		rc = IDG_ERR_CONFIG;
	}
	if (!posix_group_ok(cfg->data_group, false)) {
		CERR("data", "group", "group in [data] must be a local group name");
		rc = IDG_ERR_CONFIG;
	}
	return rc;
}

/* [pam]: the login rule parses; skel is empty or an absolute path. */
static int
check_pam(const struct idg_config *cfg, struct idg_buf *errs)
{
	struct idg_login_rule r;
	char why[512];
	int rc = 0;

	if (idg_config_login_rule(cfg->pam_login_rule, &r, why, sizeof(why)) < 0) {
		CERR("pam", "login_rule", "%s", why);
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->pam_skel[0] != '\0' && cfg->pam_skel[0] != '/') {
		CERR("pam", "skel", "skel in [pam] must be empty or an absolute path");
		rc = IDG_ERR_CONFIG;
	}
	return rc;
}

int
idg_config_load(const char *path, struct idg_config *cfg, bool check_owner, struct idg_buf *errs)
{
	struct stat st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if ((cfg->file = strdup(path)) == NULL ||
	    (cfg->key_lines = calloc(idg_config_schema_len, sizeof(*cfg->key_lines))) == NULL) {
		idg_conf_defaults(idg_config_schema, idg_config_schema_len, cfg, errs);
		idg_buf_printf(errs, "%s: out of memory\n", path);
		return IDG_ERR_CONFIG;
	}
	rc = idg_conf_load_lines(path, idg_config_schema, idg_config_schema_len, cfg,
	    cfg->key_lines, errs);
	if (rc == IDG_ERR_CONFIG && stat(path, &st) < 0)
		return rc;
	/* The file steers a root daemon: only root may be able to change it. */
	if (check_owner && stat(path, &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		idg_buf_printf(errs, "%s: must be owned by root and not writable by group or others "
		    "(owner uid %u, mode %04o)\n", path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->robot_token_max_ttl && cfg->robot_token_default_ttl > cfg->robot_token_max_ttl) {
		CERR("auth", idg_config_line(cfg, "auth", "robot_token_default_ttl") ?
		    "robot_token_default_ttl" : "robot_token_max_ttl", "robot_token_default_ttl is "
		    "longer than robot_token_max_ttl in [auth]");
		rc = IDG_ERR_CONFIG;
	}
	if (check_idp(cfg, check_owner, errs) < 0)
		rc = IDG_ERR_CONFIG;
	if (check_saml(cfg, check_owner, errs) < 0)
		rc = IDG_ERR_CONFIG;
	if (check_idmap(cfg, errs) < 0)
		rc = IDG_ERR_CONFIG;
	if (check_pam(cfg, errs) < 0)
		rc = IDG_ERR_CONFIG;
	if (check_data(cfg, errs) < 0)
		rc = IDG_ERR_CONFIG;
	if (check_nss(cfg, errs) < 0)
		rc = IDG_ERR_CONFIG;
	return rc;
}

/* The connector user as the connector resolves it (idg_system_user: /etc/passwd only, never
 * NSS, whose idgate module would ask this very daemon). */
static int
connector_ids(const struct idg_config *cfg, uid_t *uid, gid_t *gid, struct idg_buf *errs)
{
	char why[512];
	int rc;

	if ((rc = idg_system_user(cfg->connector_user, "[connector] user", uid, gid, why,
	    sizeof(why))) < 0)
		CERR("connector", "user", "%s", why);
	return rc;
}

/* In the checking child: one problem, as "SECTION KEY message" on a line of its own. */
static void
child_report(int fd, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
child_report(int fd, const char *section, const char *key, const char *fmt, ...)
{
	char line[1200], msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg[strcspn(msg, "\n")] = '\0';
	n = snprintf(line, sizeof(line), "%s %s %s\n", section, key, msg);
	if (n > 0)
		(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* In the checking child: a CA file read as the connector will (open, read). */
static void
child_ca(int fd, const struct idg_config *cfg, const char *section, const char *file,
    bool dropped)
{
	char byte;
	int cfd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;

	if (cfd >= 0 && read(cfd, &byte, 1) >= 0) {
		close(cfd);
		return;
	}
	e = errno;
	if (cfd >= 0)
		close(cfd);
	if (dropped)
		child_report(fd, section, "ca_file", "ca_file %s in [%s] cannot be read by the "
		    "connector user '%s', which reads it: %s (it holds no secret: make it and its "
		    "directories readable by that user, e.g. mode 0644)", file, section,
		    cfg->connector_user, strerror(e));
	else
		child_report(fd, section, "ca_file", "ca_file %s in [%s] cannot be read: %s", file,
		    section, strerror(e));
}

/* The checking child's work; it ends with _exit. */
static void
check_child(int fd, const struct idg_config *cfg, bool drop, uid_t uid, gid_t gid,
    const char *md, idg_config_md_check md_check)
{
	char why[600] = "";

	if (drop && (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)) {
		child_report(fd, "connector", "user", "cannot switch to the connector user '%s': %s",
		    cfg->connector_user, strerror(errno));
		_exit(0);
	}
	if (cfg->idp_issuer && cfg->idp_ca_file)
		child_ca(fd, cfg, "idp", cfg->idp_ca_file, drop);
	if (idg_config_saml(cfg) && cfg->saml_ca_file)
		child_ca(fd, cfg, "saml", cfg->saml_ca_file, drop);
	if (md && md_check && md_check(cfg, md, why, sizeof(why)) < 0)
		child_report(fd, "saml", "idp_metadata", "idp_metadata %s in [saml]: %s",
		    cfg->saml_idp_metadata, why[0] ? why : "not valid SAML metadata");
	_exit(0);
}

/* The child's lines, each turned into FILE:LINE: message. */
static int
take_reports(const struct idg_config *cfg, char *text, struct idg_buf *errs)
{
	char *line = text, *nl, *key, *msg;
	int rc = 0;

	for (; *line && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if ((key = strchr(line, ' ')) == NULL || (msg = strchr(key + 1, ' ')) == NULL)
			continue;
		*key++ = '\0';
		*msg++ = '\0';
		CERR(line, key, "%s", msg);
		rc = IDG_ERR_CONFIG;
	}
	return rc;
}

int
idg_config_check_files(const struct idg_config *cfg, bool drop, idg_config_md_check md_check,
    struct idg_buf *errs)
{
	char *md = NULL, out[16384];
	size_t len = 0, got = 0;
	int p[2] = { -1, -1 }, rc = 0, status;
	uid_t uid = 0;
	gid_t gid = 0;
	pid_t pid;

	if (!(cfg->idp_issuer && cfg->idp_ca_file) && !idg_config_saml(cfg))
		return 0;
	if (drop && connector_ids(cfg, &uid, &gid, errs) < 0)
		return IDG_ERR_CONFIG;
	/* idgated reads the metadata file as root and hands the connector its text: so here. */
	if (idg_config_saml(cfg) && cfg->saml_idp_metadata &&
	    (rc = idg_read_file(cfg->saml_idp_metadata, IDG_CONFIG_METADATA_MAX, &md, &len)) < 0) {
		CERR("saml", "idp_metadata", "idp_metadata %s in [saml] cannot be read: %s",
		    cfg->saml_idp_metadata, rc == IDG_ERR_TOOBIG ? "larger than 512 KB" :
		    rc == IDG_ERR_INVAL ? "not a regular file" : idg_strerror(rc));
		md = NULL;
		rc = IDG_ERR_CONFIG;
	}
	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		CERR("connector", "user", "cannot check the files the connector reads: %s",
		    strerror(errno));
		rc = IDG_ERR_CONFIG;
		goto out;
	}
	if (pid == 0) {
		close(p[0]);
		check_child(p[1], cfg, drop, uid, gid, md, md_check);
	}
	close(p[1]);
	p[1] = -1;
	for (;;) {
		ssize_t n = read(p[0], out + got, sizeof(out) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(out) - 1)
			break;
	}
	out[got] = '\0';
	close(p[0]);
	p[0] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (take_reports(cfg, out, errs) < 0)
		rc = IDG_ERR_CONFIG;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		CERR("saml", "idp_metadata", "checking the files the connector reads failed (the "
		    "checking process ended with status %d)", status);
		rc = IDG_ERR_CONFIG;
	}
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(md);
	return rc;
}

void
idg_config_free(struct idg_config *cfg)
{
	idg_conf_free(idg_config_schema, idg_config_schema_len, cfg);
	free(cfg->key_lines);
	cfg->key_lines = NULL;
	free(cfg->file);
	cfg->file = NULL;
}
