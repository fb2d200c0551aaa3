/* idgated's configuration: the schema of idgate.conf and the parsed values. */
#ifndef IDG_DAEMON_CONFIG_H
#define IDG_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/conf.h"

enum idg_log_choice { IDG_LOGC_AUTO, IDG_LOGC_STDERR, IDG_LOGC_SYSLOG };
enum idg_sync_choice { IDG_SYNC_FULL, IDG_SYNC_NORMAL };

struct idg_config {
	/* [daemon] */
	char *run_dir;
	char *state_dir;
	int log;			/* enum idg_log_choice */
	int log_level;			/* LOG_ERR + index: err warning notice info debug */
	char *audit_log;
	long long max_connections;
	long long max_connections_per_uid;
	int64_t request_timeout;
	int64_t idle_timeout;
	/* [store] */
	int backend;			/* 0: sqlite */
	char *db_path;
	int synchronous;		/* enum idg_sync_choice */
	/* [auth] */
	int64_t robot_token_max_ttl;	/* 0: tokens may last until revoked */
	int64_t robot_token_default_ttl;/* 0: no expiry unless asked */
	/* [data] */
	char *data_root;
	uint64_t max_put_size;
	bool data_enforce;		/* keep repo directories' ACLs equal to the bindings */
	char *data_owner;		/* owner of every repo directory and file (a local user) */
	char *data_group;		/* their owning group (a local group) */
	char *data_mode;		/* base mode of repo directories, octal text ("0750") */
	int64_t data_repair_interval;	/* seconds between drift repairs; 0: at start-up only */
	/* [idp]: no issuer, no identity provider (logins are refused) */
	int idp_profile;		/* enum idg_oidc_profile */
	char *idp_issuer;
	char *idp_client_id;
	char *idp_client_secret_file;
	int idp_client_auth;		/* 0 basic, 1 post */
	char *idp_scope;
	char *idp_audience;
	char *idp_ca_file;
	int64_t idp_connect_timeout;
	int64_t idp_timeout;
	uint64_t idp_max_response;
	uint64_t idp_max_token;
	int64_t idp_leeway;
	int64_t idp_jwks_min_interval;
	int64_t idp_jwks_refresh;
	char *idp_algorithms;
	char *idp_username_claim;
	char *idp_groups_claim;
	int idp_groups_source;		/* enum idg_oidc_source */
	char *idp_group_prefix_strip;
	int idp_keycloak_group_paths;	/* 0 path, 1 basename */
	bool idp_keycloak_realm_roles;
	char *idp_keycloak_client_roles;
	bool idp_userinfo_fallback;
	/* [saml]: no idp_metadata, no SAML logins (and no HTTPS endpoint) */
	char *saml_idp_metadata;	/* the IdP's metadata file */
	char *saml_idp_metadata_url;	/* or where the connector fetches it (https) */
	char *saml_ca_file;		/* CAs for that URL; NULL: the system's */
	int64_t saml_metadata_refresh;
	bool saml_sign_requests;
	char *saml_sp_key;		/* signs AuthnRequests (root-owned, private) */
	char *saml_sp_cert;		/* its certificate, for the SP metadata */
	char *saml_sp_entity_id;
	char *saml_base_url;		/* https://HOST[:PORT]: the node's URLs start with it */
	char *saml_listen;		/* address the HTTPS endpoint binds */
	long long saml_port;
	char *saml_tls_cert;
	char *saml_tls_key;
	char *saml_username_attribute;	/* NULL: the NameID */
	char *saml_groups_attribute;	/* "": no groups */
	bool saml_same_directory;	/* same_directory_as_oidc: the SAML IdP and [idp] issuer are
					 * one directory, linked by saml_link_attribute */
	char *saml_link_attribute;	/* the attribute carrying the OIDC subject; "NameID": the
					 * NameID is it */
	int64_t saml_login_ttl;
	int64_t saml_leeway;
	uint64_t saml_max_response;
	long long saml_max_connections;
	long long saml_max_connections_per_ip;
	int64_t saml_request_timeout;	/* the whole of one HTTPS request */
	long long saml_acs_per_minute;	/* POST /saml/acs per source address */
	long long saml_max_acs_pending;	/* ACS requests the web process has with idgated */
	char *saml_web_user;		/* NULL: the [connector] user */
	/* [connector] */
	char *connector_user;
	long long connector_max_logins;	/* the grant pool's processes at most */
	long long connector_max_tokens;	/* the token pool's */
	long long connector_max_saml;	/* the SAML verifiers' */
	long long connector_saml_queue;	/* SAML responses waiting at most */
	/* [idmap] */
	int idmap_name_rule;		/* enum idg_idmap_rule */
	long long idmap_name_max;
	long long idmap_id_min, idmap_id_max;	/* every uid and gid idgate gives is inside */
	char *idmap_primary_group;	/* "private", or a group's name */
	char *idmap_home_base;
	char *idmap_shell;
	char *idmap_users_group;	/* "": none */
	char *idmap_fold_domains;	/* e-mail domains folded to their local part; NULL: none */
	/* [nss] */
	char *nss_snapshot;
	bool nss_enumerate;
	bool nss_provisional;
	int64_t nss_provisional_ttl;
	long long nss_provisional_max;
	int64_t nss_ask_timeout_ms;
	/* [pam] */
	char *pam_login_rule;		/* see idg_config_login_rule */
	int64_t pam_offline_ttl;	/* 0: no offline logins (and no verifiers kept) */
	bool pam_create_home;
	char *pam_skel;			/* "": no skeleton files */
	/* Not keys: where they came from, for messages that name FILE:LINE. */
	char *file;			/* the file loaded */
	unsigned *key_lines;		/* per idg_config_schema entry: its line, 0: unset */
};

/* [pam] login_rule, parsed: who may log in (PAM account). */
enum idg_login_rule_kind {
	IDG_LOGIN_ANY_ROLE,	/* a role bound to the user or one of its groups, anywhere */
	IDG_LOGIN_PERMISSION,	/* a permission on one resource */
};

struct idg_login_rule {
	enum idg_login_rule_kind kind;
	int perm;		/* permission index (rbac/perms.h) */
	int rtype;		/* enum idg_rtype */
	char resource[128];	/* project, or PROJECT/REPO; "" for the cluster */
};

/* "any_role", or "PERMISSION on cluster", "PERMISSION on project NAME", "PERMISSION on
 * repo PROJECT/REPO": 0, or IDG_ERR_CONFIG with why. */
int idg_config_login_rule(const char *text, struct idg_login_rule *out, char *why,
    size_t whylen);

/* [data] mode as a number: 0, or IDG_ERR_CONFIG. */
int idg_config_data_mode(const char *text, unsigned *out);

/* Whether [saml] is configured (idp_metadata or idp_metadata_url). */
bool idg_config_saml(const struct idg_config *cfg);

/* primary_group's value for user-private groups. */
#define IDG_PRIMARY_PRIVATE "private"

extern const struct idg_conf_key idg_config_schema[];
extern const size_t idg_config_schema_len;

/* Load path into cfg (defaults first); every error goes to errs as "FILE:LINE: ...".
 * check_owner: refuse a file not owned by root or writable by group or others. */
int idg_config_load(const char *path, struct idg_config *cfg, bool check_owner, struct idg_buf *errs);
void idg_config_free(struct idg_config *cfg);

/* Checks a valid [saml] metadata document (as the connector will parse it): 0, or < 0 with
 * why in err. Run inside idg_config_check_files' child. */
typedef int (*idg_config_md_check)(const struct idg_config *cfg, const char *xml, char *err,
    size_t errlen);

#define IDG_CONFIG_METADATA_MAX (512u * 1024u)	/* as much as idgated hands the connector */

/* The files the IdP connector reads, read as it will, in a short-lived child process: as the
 * [connector] user when drop (idgated runs as root), else as the caller. [idp] and [saml]
 * ca_file must be readable; an [saml] idp_metadata file (read here as idgated reads it, as
 * the caller) must pass md_check. Problems go to errs as FILE:LINE of the key;
 * IDG_ERR_CONFIG when there is one. */
int idg_config_check_files(const struct idg_config *cfg, bool drop, idg_config_md_check md_check,
    struct idg_buf *errs);

/* Things that are allowed but likely wrong, as "FILE:LINE: warning: ..." lines into out
 * (a private idgated's [nss] snapshot that no NSS module reads). */
void idg_config_warnings(const struct idg_config *cfg, struct idg_buf *out);

/* The line of cfg's file that sets [section] key; 0 when the file does not set it. */
unsigned idg_config_line(const struct idg_config *cfg, const char *section, const char *key);

/* Append "FILE:LINE: message" to errs, LINE being where [section] key is set ("FILE: message"
 * when the file does not set it). */
void idg_config_error(struct idg_buf *errs, const struct idg_config *cfg, const char *section,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
