/* The schema of idgate.conf. Every key, its type, default and one line of documentation;
 * idgate.conf(5) documents the same table. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/util.h"
#include "daemon/config.h"

static const char *const log_choices[] = { "auto", "stderr", "syslog", NULL };
static const char *const backend_choices[] = { "sqlite", NULL };
static const char *const sync_choices[] = { "full", "normal", NULL };
static const char *const level_choices[] = { "err", "warning", "notice", "info", "debug", NULL };

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
};

const size_t idg_config_schema_len = sizeof(idg_config_schema) / sizeof(idg_config_schema[0]);

int
idg_config_load(const char *path, struct idg_config *cfg, bool check_owner, struct idg_buf *errs)
{
	struct stat st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = idg_conf_load(path, idg_config_schema, idg_config_schema_len, cfg, errs);
	if (rc == IDG_ERR_CONFIG && stat(path, &st) < 0)
		return rc;
	/* The file steers a root daemon: only root may be able to change it. */
	if (check_owner && stat(path, &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022))) {
		idg_buf_printf(errs, "%s: must be owned by root and not writable by group or others "
		    "(owner uid %u, mode %04o)\n", path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		rc = IDG_ERR_CONFIG;
	}
	if (cfg->robot_token_max_ttl && cfg->robot_token_default_ttl > cfg->robot_token_max_ttl) {
		idg_buf_printf(errs, "%s: robot_token_default_ttl is longer than robot_token_max_ttl in "
		    "[auth]\n", path);
		rc = IDG_ERR_CONFIG;
	}
	return rc;
}

void
idg_config_free(struct idg_config *cfg)
{
	idg_conf_free(idg_config_schema, idg_config_schema_len, cfg);
}
