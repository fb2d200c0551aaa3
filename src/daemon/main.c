/* idgated: the idgate daemon. Holds the role engine and its state, serves api.sock and
 * pam.sock. See idgated(8). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "connectors/saml.h"
#include "daemon/api_login.h"
#include "daemon/conn_child.h"
#include "daemon/connector.h"
#include "daemon/saml_sp.h"
#include "daemon/web_child.h"
#include "daemon/daemon.h"
#include "daemon/directory.h"
#include "daemon/enforce.h"
#include "daemon/offline.h"

#define DEFAULT_CONFIG IDG_SYSCONFDIR "/idgate.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: idgated [OPTIONS]\n"
	    "\n"
	    "The idgate daemon: holds the role engine and its state, and answers idgatectl\n"
	    "(api.sock) and pam_idgate.so (pam.sock). Runs as root.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config PATH   configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -f, --foreground    stay in the foreground (logs to stderr unless log = syslog)\n"
	    "  -n, --check-config  check the configuration, print every error, and exit:\n"
	    "                      0 when it is valid, 1 when it is not\n"
	    "  -d, --debug         foreground with log_level = debug\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration and reopens the audit log;\n"
	    "SIGTERM and SIGINT stop the daemon cleanly.\n"
	    "\n"
	    "Exit status: 0 on a clean stop, 1 on a configuration or start-up error.\n"
	    "See idgated(8) and idgate.conf(5).\n");
}

static char *
dir_of(const char *path)
{
	char *d = strdup(path), *slash;

	if (d && (slash = strrchr(d, '/')) != NULL)
		*(slash == d ? slash + 1 : slash) = '\0';
	return d;
}

/* Lock the pid file; another running idgated makes this fail. */
static int
lock_pidfile(const char *run_dir, char *path, size_t len, char *err, size_t errlen)
{
	int fd;

	snprintf(path, len, "%s/idgated.pid", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %.512s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = read(fd, pid, sizeof(pid) - 1);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen, "another idgated is running (pid %s, lock %.512s)",
		    pid[0] ? pid : "?", path);
		close(fd);
		return -1;
	}
	return fd;
}

static void
write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n)
		return;
	log_warn("cannot write the pid file: %s", strerror(errno));
}

/* systemd readiness without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

/* Fork into the background. The parent waits on a pipe for the child's start-up result,
 * so an error after the fork still reaches the terminal and the exit status. */
static int
daemonize(int *report_fd)
{
	int p[2], devnull;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		char msg[4096];
		ssize_t n, got = 0;

		close(p[1]);
		while (got < (ssize_t)sizeof(msg) - 1 &&
		    (n = read(p[0], msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
			got += n;
		msg[got] = '\0';
		if (strcmp(msg, "OK") == 0)
			_exit(0);
		fprintf(stderr, "idgated: %s\n", got ? msg : "failed to start (see the system log)");
		_exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	*report_fd = p[1];
	return 0;
}

static void
report(int fd, const char *msg)
{
	if (fd >= 0) {
		(void)!write(fd, msg, strlen(msg));
		close(fd);
	}
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Does [saml] differ between a and b? (It is fixed at start-up: the endpoint, its
 * certificate and the connector's SAML settings.) */
static bool
saml_changed(const struct idg_config *a, const struct idg_config *b)
{
	return !same(a->saml_idp_metadata, b->saml_idp_metadata) ||
	    !same(a->saml_idp_metadata_url, b->saml_idp_metadata_url) ||
	    !same(a->saml_ca_file, b->saml_ca_file) ||
	    !same(a->saml_sp_entity_id, b->saml_sp_entity_id) ||
	    !same(a->saml_base_url, b->saml_base_url) || !same(a->saml_listen, b->saml_listen) ||
	    a->saml_port != b->saml_port || !same(a->saml_tls_cert, b->saml_tls_cert) ||
	    !same(a->saml_tls_key, b->saml_tls_key) ||
	    !same(a->saml_username_attribute, b->saml_username_attribute) ||
	    !same(a->saml_groups_attribute, b->saml_groups_attribute) ||
	    a->saml_same_directory != b->saml_same_directory ||
	    !same(a->saml_link_attribute, b->saml_link_attribute) ||
	    a->saml_login_ttl != b->saml_login_ttl || a->saml_leeway != b->saml_leeway ||
	    a->saml_max_response != b->saml_max_response ||
	    a->saml_metadata_refresh != b->saml_metadata_refresh ||
	    a->saml_max_connections != b->saml_max_connections ||
	    a->saml_max_connections_per_ip != b->saml_max_connections_per_ip ||
	    a->saml_request_timeout != b->saml_request_timeout ||
	    a->saml_acs_per_minute != b->saml_acs_per_minute ||
	    a->saml_max_acs_pending != b->saml_max_acs_pending ||
	    !same(a->saml_web_user, b->saml_web_user);
}

/* [idp] and [connector]: the connector child is configured once, when it starts. */
static bool
idp_changed(const struct idg_config *a, const struct idg_config *b)
{
	return a->idp_profile != b->idp_profile || !same(a->idp_issuer, b->idp_issuer) ||
	    !same(a->idp_client_id, b->idp_client_id) ||
	    !same(a->idp_client_secret_file, b->idp_client_secret_file) ||
	    a->idp_client_auth != b->idp_client_auth || !same(a->idp_scope, b->idp_scope) ||
	    !same(a->idp_audience, b->idp_audience) || !same(a->idp_ca_file, b->idp_ca_file) ||
	    a->idp_connect_timeout != b->idp_connect_timeout ||
	    a->idp_timeout != b->idp_timeout || a->idp_max_response != b->idp_max_response ||
	    a->idp_max_token != b->idp_max_token || a->idp_leeway != b->idp_leeway ||
	    a->idp_jwks_min_interval != b->idp_jwks_min_interval ||
	    a->idp_jwks_refresh != b->idp_jwks_refresh ||
	    !same(a->idp_algorithms, b->idp_algorithms) ||
	    !same(a->idp_username_claim, b->idp_username_claim) ||
	    !same(a->idp_groups_claim, b->idp_groups_claim) ||
	    a->idp_groups_source != b->idp_groups_source ||
	    !same(a->idp_group_prefix_strip, b->idp_group_prefix_strip) ||
	    a->idp_keycloak_group_paths != b->idp_keycloak_group_paths ||
	    a->idp_keycloak_realm_roles != b->idp_keycloak_realm_roles ||
	    !same(a->idp_keycloak_client_roles, b->idp_keycloak_client_roles) ||
	    a->idp_userinfo_fallback != b->idp_userinfo_fallback ||
	    !same(a->connector_user, b->connector_user) ||
	    a->connector_max_logins != b->connector_max_logins ||
	    a->connector_max_tokens != b->connector_max_tokens ||
	    a->connector_max_saml != b->connector_max_saml ||
	    a->connector_saml_queue != b->connector_saml_queue;
}

/* A start-up failure: to the log, to the terminal in the foreground unless the log is
 * already stderr, and to the parent waiting in daemonize(). */
static void
startup_error(const struct idg_daemon *d, enum idg_log_target target, int *report_fd,
    const char *err)
{
	log_err("%s", err);
	if (d->foreground && target != IDG_LOG_STDERR)
		fprintf(stderr, "idgated: %s\n", err);
	report(*report_fd, err);
	*report_fd = -1;
}

static void
swap_str(char **a, char **b)
{
	char *t = *a;

	*a = *b;
	*b = t;
}

/* SIGHUP: re-read the config; keep the old one if the new one is bad. */
static void
reload(struct idg_daemon *d)
{
	struct idg_config nc;
	struct idg_buf errs;

	idg_buf_init(&errs, 64 * 1024);
	if (idg_config_load(d->config_path, &nc, true, &errs) < 0) {
		char *line = errs.data, *nl;

		while (line && *line && (nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			log_err("%s", line);
			line = nl + 1;
		}
		log_err("configuration not reloaded: keeping the running one");
		idg_config_free(&nc);
		idg_buf_free(&errs);
		return;
	}
	idg_buf_free(&errs);
	/* These are fixed at start-up: sockets, store and data root stay where they are. */
	if (!same(nc.run_dir, d->cfg.run_dir) || !same(nc.state_dir, d->cfg.state_dir) ||
	    !same(nc.db_path, d->cfg.db_path) || nc.backend != d->cfg.backend ||
	    nc.synchronous != d->cfg.synchronous || !same(nc.data_root, d->cfg.data_root))
		log_warn("run_dir, state_dir, [store] and [data] root changes take effect only after "
		    "a restart");
	if (saml_changed(&nc, &d->cfg))
		log_warn("[saml] changes take effect only after a restart");
	if (idp_changed(&nc, &d->cfg))
		log_warn("[idp] and [connector] changes take effect only after a restart");
	d->cfg.log_level = nc.log_level;
	idg_log_set_level(LOG_ERR + nc.log_level);
	d->cfg.max_connections = nc.max_connections;
	d->cfg.max_connections_per_uid = nc.max_connections_per_uid;
	d->cfg.request_timeout = nc.request_timeout;
	d->cfg.idle_timeout = nc.idle_timeout;
	d->cfg.robot_token_max_ttl = nc.robot_token_max_ttl;
	d->cfg.robot_token_default_ttl = nc.robot_token_default_ttl;
	d->cfg.max_put_size = nc.max_put_size;
	/* The enforcer reads these at each pass; the next repair applies them everywhere. */
	d->cfg.data_enforce = nc.data_enforce;
	swap_str(&d->cfg.data_owner, &nc.data_owner);
	swap_str(&d->cfg.data_group, &nc.data_group);
	swap_str(&d->cfg.data_mode, &nc.data_mode);
	d->cfg.data_repair_interval = nc.data_repair_interval;
	idg_enforce_reconfigure(d);
	/* The directory: ids and the groups idgate owns are fixed at start-up (they are
	 * recorded in the store); what the view shows and how the module asks may change. */
	if (nc.idmap_id_min != d->cfg.idmap_id_min || nc.idmap_id_max != d->cfg.idmap_id_max ||
	    !same(nc.idmap_primary_group, d->cfg.idmap_primary_group) ||
	    !same(nc.idmap_users_group, d->cfg.idmap_users_group) ||
	    !same(nc.nss_snapshot, d->cfg.nss_snapshot))
		log_warn("[idmap] id_min, id_max, primary_group, users_group and [nss] snapshot "
		    "changes take effect only after a restart");
	swap_str(&d->cfg.idmap_home_base, &nc.idmap_home_base);
	swap_str(&d->cfg.idmap_shell, &nc.idmap_shell);
	swap_str(&d->cfg.idmap_fold_domains, &nc.idmap_fold_domains);	/* read at each login */
	d->cfg.nss_enumerate = nc.nss_enumerate;
	d->cfg.nss_provisional = nc.nss_provisional;
	d->cfg.nss_provisional_ttl = nc.nss_provisional_ttl;
	d->cfg.nss_provisional_max = nc.nss_provisional_max;
	d->cfg.nss_ask_timeout_ms = nc.nss_ask_timeout_ms;
	swap_str(&d->cfg.pam_login_rule, &nc.pam_login_rule);
	swap_str(&d->cfg.pam_skel, &nc.pam_skel);
	d->cfg.pam_offline_ttl = nc.pam_offline_ttl;
	d->cfg.pam_create_home = nc.pam_create_home;
	idg_dir_reconfigure(d);
	if (!same(nc.audit_log, d->cfg.audit_log)) {
		struct idg_audit *na;

		if (idg_audit_open(nc.audit_log, &na) == 0) {
			idg_audit_close(d->audit);
			d->audit = na;
			free(d->cfg.audit_log);
			d->cfg.audit_log = nc.audit_log;
			nc.audit_log = NULL;
		}
	} else {
		idg_audit_reopen(d->audit);
	}
	idg_config_free(&nc);
	log_notice("configuration reloaded");
}

/* idgated re-executed as its own IdP connector child (connector.c starts it so):
 * argv = idgated-connector --connector-child FD UID GID stderr|syslog LEVEL. */
static int
connector_child(int argc, char **argv)
{
	unsigned long fd, uid, gid, level;
	char *end;

	if (argc != 7)
		return 2;
	fd = strtoul(argv[2], &end, 10);
	uid = strtoul(argv[3], &end, 10);
	gid = strtoul(argv[4], &end, 10);
	level = strtoul(argv[6], &end, 10);
	if (fd < 3 || fd > 1024 || uid == 0 || gid == 0 || uid > 0xfffffffe || gid > 0xfffffffe)
		return 2;
	idg_log_open("idgated-connector", strcmp(argv[5], "stderr") == 0 ? IDG_LOG_STDERR :
	    IDG_LOG_SYSLOG, level <= LOG_DEBUG ? (int)level : LOG_INFO);
	return idg_conn_child_main((int)fd, (uid_t)uid, (gid_t)gid);
}

/* idgated re-executed as its SAML web process (saml_sp.c starts it so): argv =
 * idgated-web --web-child FD LISTEN_FD UID GID PARENT_PID stderr|syslog LEVEL. */
static int
web_child(int argc, char **argv)
{
	unsigned long fd, lfd, uid, gid, ppid, level;
	char *end;

	if (argc != 9)
		return 2;
	fd = strtoul(argv[2], &end, 10);
	lfd = strtoul(argv[3], &end, 10);
	uid = strtoul(argv[4], &end, 10);
	gid = strtoul(argv[5], &end, 10);
	ppid = strtoul(argv[6], &end, 10);
	level = strtoul(argv[8], &end, 10);
	if (fd < 3 || fd > 1024 || lfd < 3 || lfd > 1024 || fd == lfd || uid == 0 || gid == 0 ||
	    uid > 0xfffffffe || gid > 0xfffffffe || ppid < 1 || ppid > 0x7fffffff)
		return 2;
	idg_log_open("idgated-web", strcmp(argv[7], "stderr") == 0 ? IDG_LOG_STDERR :
	    IDG_LOG_SYSLOG, level <= LOG_DEBUG ? (int)level : LOG_INFO);
	return idg_web_child_main((int)fd, (int)lfd, (uid_t)uid, (gid_t)gid, (pid_t)ppid);
}

/* An [saml] idp_metadata document parsed as the SAML connector will parse it (in the
 * unprivileged child of idg_config_check_files). */
static int
metadata_check(const struct idg_config *cfg, const char *xml, char *err, size_t errlen)
{
	struct idg_saml_cfg sc = { .idp_metadata = xml };
	struct idg_saml *s = NULL;
	char acs[600];
	int rc;

	snprintf(acs, sizeof(acs), "%s/saml/acs", cfg->saml_base_url ? cfg->saml_base_url : "");
	sc.sp_entity_id = cfg->saml_sp_entity_id ? cfg->saml_sp_entity_id : "";
	sc.acs_url = acs;
	sc.username_attr = cfg->saml_username_attribute;
	sc.groups_attr = cfg->saml_groups_attribute;
	sc.leeway_s = (unsigned)cfg->saml_leeway;
	sc.response_max = (size_t)cfg->saml_max_response;
	sc.requests_elsewhere = true;
	rc = idg_saml_new(&sc, &s, err, errlen);
	idg_saml_free(s);
	return rc;
}

/* Load the configuration and check the files the connector reads (as it reads them): what
 * -n checks is what a start checks. Errors go to stderr, and warnings too with -n (a start
 * logs them: log_config_warnings); 0 or -1. */
static int
load_config(struct idg_daemon *d, bool check_only)
{
	struct idg_buf errs;
	int rc;

	idg_buf_init(&errs, 64 * 1024);
	rc = idg_config_load(d->config_path, &d->cfg, geteuid() == 0, &errs);
	if (rc == 0)
		rc = idg_config_check_files(&d->cfg, geteuid() == 0, metadata_check, &errs);
	if (rc == 0 && check_only)
		idg_config_warnings(&d->cfg, &errs);
	fputs(errs.data ? errs.data : "", stderr);
	if (rc < 0)
		fprintf(stderr, "idgated: %s: configuration is invalid\n", d->config_path);
	idg_buf_free(&errs);
	return rc < 0 ? -1 : 0;
}

static void
log_config_warnings(const struct idg_daemon *d)
{
	struct idg_buf w;
	char *line, *nl;

	idg_buf_init(&w, 16 * 1024);
	idg_config_warnings(&d->cfg, &w);
	for (line = w.data; line && *line && (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		log_warn("%s", line);
	}
	idg_buf_free(&w);
}

/* A PAM login's process went away: the device or SAML login it started goes too. */
static void
pam_closed(struct idg_daemon *d, uint64_t serial)
{
	idg_logins_conn_closed(d, serial);
	idg_saml_sp_conn_closed(d, serial);
}

static void
tick(struct idg_daemon *d, int64_t now)
{
	idg_connector_tick(d, now);
	idg_logins_tick(d, now);
	idg_saml_sp_tick(d, now);
	idg_dir_tick(d, now);
	idg_offline_tick(d, now);
	idg_enforce_tick(d, now);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct idg_daemon d = { .config_path = DEFAULT_CONFIG, .data_fd = -1 };
	struct idg_store_conf sc;

	if (argc > 1 && strcmp(argv[1], "--connector-child") == 0)
		return connector_child(argc, argv);
	if (argc > 1 && strcmp(argv[1], "--web-child") == 0)
		return web_child(argc, argv);
	char err[1024], pidpath[4200], *audit_dir = NULL;
	bool check_only = false, debug = false;
	int opt, lockfd = -1, report_fd = -1, rc = 1;
	enum idg_log_target target;

	while ((opt = getopt_long(argc, argv, "c:fndVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.config_path = optarg; break;
		case 'f': d.foreground = true; break;
		case 'n': check_only = true; break;
		case 'd': debug = d.foreground = true; break;
		case 'V': printf("idgated %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "idgated: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (load_config(&d, check_only) < 0) {
		idg_config_free(&d.cfg);
		return 1;
	}
	if (check_only) {
		printf("%s: configuration OK\n", d.config_path);
		idg_config_free(&d.cfg);
		return 0;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "idgated: must run as root (it owns pam.sock and the state)\n");
		goto out;
	}
	if (debug)
		d.cfg.log_level = LOG_DEBUG - LOG_ERR;
	target = d.cfg.log == IDG_LOGC_STDERR ? IDG_LOG_STDERR :
	    d.cfg.log == IDG_LOGC_SYSLOG ? IDG_LOG_SYSLOG :
	    d.foreground ? IDG_LOG_STDERR : IDG_LOG_SYSLOG;
	idg_log_open("idgated", target, LOG_ERR + d.cfg.log_level);
	d.log_stderr = target == IDG_LOG_STDERR;
	log_config_warnings(&d);
	umask(077);
	audit_dir = dir_of(d.cfg.audit_log);
	if (idg_make_dirs(d.cfg.run_dir, 0755) < 0 || idg_make_dirs(d.cfg.state_dir, 0700) < 0 ||
	    (audit_dir && idg_make_dirs(audit_dir, 0750) < 0)) {
		fprintf(stderr, "idgated: cannot create %s, %s or %s: %s\n", d.cfg.run_dir,
		    d.cfg.state_dir, audit_dir ? audit_dir : "", strerror(errno));
		goto out;
	}
	if ((lockfd = lock_pidfile(d.cfg.run_dir, pidpath, sizeof(pidpath), err, sizeof(err))) < 0) {
		fprintf(stderr, "idgated: %s\n", err);
		goto out;
	}
	/* Fork before SQLite is opened: its handles must not cross a fork. */
	if (!d.foreground && daemonize(&report_fd) < 0) {
		fprintf(stderr, "idgated: cannot daemonize: %s\n", strerror(errno));
		goto out;
	}
	write_pid(lockfd);
	sc.path = d.cfg.db_path;
	sc.sync_full = d.cfg.synchronous == IDG_SYNC_FULL;
	if (idg_state_open(&idg_store_sqlite, &sc, &d.st, err, sizeof(err)) < 0) {
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	if (idg_audit_open(d.cfg.audit_log, &d.audit) < 0) {
		snprintf(err, sizeof(err), "cannot open the audit log %.900s", d.cfg.audit_log);
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	if (idg_repo_dirs_reconcile(&d) < 0) {
		snprintf(err, sizeof(err), "cannot check the repo data directories under %.800s",
		    d.cfg.data_root);
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	if (idg_server_new(&d, &d.srv, err, sizeof(err)) < 0) {
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	if (idg_dir_open(&d, err, sizeof(err)) < 0) {
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	if (idg_enforce_open(&d, err, sizeof(err)) < 0) {
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	idg_server_set_tick(d.srv, tick);
	idg_server_on_pam_close(d.srv, pam_closed);
	if (idg_connector_start(&d, err, sizeof(err)) < 0) {
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	if (idg_saml_sp_start(&d, err, sizeof(err)) < 0) {
		startup_error(&d, target, &report_fd, err);
		goto out;
	}
	log_notice("idgated %s ready: %s/api.sock, state %s (%zu bindings)%s", PACKAGE_VERSION,
	    d.cfg.run_dir, d.cfg.db_path, idg_rbac_binding_total(d.st->rbac),
	    d.st->fresh ? ", new store activated" : "");
	report(report_fd, "OK");
	report_fd = -1;
	sd_notify_ready();
	rc = idg_server_run(d.srv, reload) < 0 ? 1 : 0;
	log_notice("idgated stopped");
out:
	idg_offline_stop(&d);
	if (report_fd >= 0)
		report(report_fd, "failed to start (see the system log)");
	idg_connector_stop(&d);	/* first: its failed requests answer the web process */
	idg_saml_sp_stop(&d);
	idg_logins_free(&d);
	idg_enforce_free(&d);
	idg_dir_free(&d);
	idg_server_free(d.srv);
	idg_audit_close(d.audit);
	idg_state_close(d.st);
	if (d.data_fd >= 0)
		close(d.data_fd);
	if (lockfd >= 0) {
		unlink(pidpath);
		close(lockfd);
	}
	free(audit_dir);
	idg_config_free(&d.cfg);
	idg_log_close();
	return rc;
}
