/* The SQLite store: WAL mode, one transaction per change, versioned schema with migrations. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "store/store.h"

/* Each entry brings the schema from version i to i + 1. Never edit a shipped one: add more. */
static const char *const migrations[] = {
	/* 0 -> 1: the role engine's state */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE roles (name TEXT PRIMARY KEY, perms TEXT NOT NULL,"
	"  rtypes INTEGER NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE projects (name TEXT PRIMARY KEY, creator TEXT NOT NULL,"
	"  description TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE repos (name TEXT PRIMARY KEY,"
	"  project TEXT NOT NULL REFERENCES projects(name),"
	"  creator TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX repos_project ON repos(project);"
	"CREATE TABLE groups (name TEXT PRIMARY KEY,"
	"  source TEXT NOT NULL CHECK (source IN ('local', 'idp')),"
	"  created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE members (grp TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,"
	"  member TEXT NOT NULL, PRIMARY KEY (grp, member)) WITHOUT ROWID;"
	"CREATE TABLE bindings (rtype INTEGER NOT NULL CHECK (rtype BETWEEN 0 AND 2),"
	"  resource TEXT NOT NULL, subject TEXT NOT NULL, roles TEXT NOT NULL,"
	"  PRIMARY KEY (rtype, resource, subject)) WITHOUT ROWID;"
	"CREATE TABLE tokens (hash TEXT PRIMARY KEY, subject TEXT NOT NULL,"
	"  created INTEGER NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE pipelines (name TEXT PRIMARY KEY, output TEXT NOT NULL,"
	"  creator TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE pipeline_inputs ("
	"  pipeline TEXT NOT NULL REFERENCES pipelines(name) ON DELETE CASCADE,"
	"  input TEXT NOT NULL, PRIMARY KEY (pipeline, input)) WITHOUT ROWID;",
	/* 1 -> 2: IdP identities, each POSIX name pinned to the (issuer, subject) first seen */
	"CREATE TABLE users (name TEXT PRIMARY KEY, principal TEXT NOT NULL UNIQUE,"
	"  iss TEXT NOT NULL, sub TEXT NOT NULL, created INTEGER NOT NULL,"
	"  UNIQUE (iss, sub)) WITHOUT ROWID;",
	/* 2 -> 3: the POSIX directory. Users get a uid and a gecos and may be known before their
	 * first login (iss and sub NULL until it pins them): the table is rebuilt to relax NOT
	 * NULL, its rows copied. Groups get a gid. id_holds keeps ids nobody else may take.
	 * Users' uids (their private groups' gids), groups' gids and held ids are one id space,
	 * and an id once given never changes: the triggers refuse anything else. */
	"CREATE TABLE users3 (name TEXT PRIMARY KEY, principal TEXT NOT NULL UNIQUE,"
	"  iss TEXT, sub TEXT, created INTEGER NOT NULL,"
	"  uid INTEGER UNIQUE CHECK (uid IS NULL OR uid BETWEEN 1 AND 4294967294),"
	"  gecos TEXT NOT NULL DEFAULT '',"
	"  UNIQUE (iss, sub), CHECK ((iss IS NULL) = (sub IS NULL))) WITHOUT ROWID;"
	"INSERT INTO users3(name, principal, iss, sub, created)"
	"  SELECT name, principal, iss, sub, created FROM users;"
	"DROP TABLE users;"
	"ALTER TABLE users3 RENAME TO users;"
	"ALTER TABLE groups ADD COLUMN gid INTEGER"
	"  CHECK (gid IS NULL OR gid BETWEEN 1 AND 4294967294);"
	"CREATE UNIQUE INDEX groups_gid ON groups(gid);"
	"CREATE TABLE id_holds (id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967294),"
	"  name TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('user', 'group', 'posix-group')),"
	"  created INTEGER NOT NULL);"
	"CREATE TRIGGER users_uid_new BEFORE INSERT ON users WHEN NEW.uid IS NOT NULL AND"
	"  (EXISTS (SELECT 1 FROM groups WHERE gid = NEW.uid) OR"
	"   EXISTS (SELECT 1 FROM id_holds WHERE id = NEW.uid))"
	"  BEGIN SELECT RAISE(ABORT, 'this uid is given already'); END;"
	"CREATE TRIGGER users_uid_set BEFORE UPDATE OF uid ON users WHEN"
	"  OLD.uid IS NOT NULL OR (NEW.uid IS NOT NULL AND"
	"  (EXISTS (SELECT 1 FROM groups WHERE gid = NEW.uid) OR"
	"   EXISTS (SELECT 1 FROM id_holds WHERE id = NEW.uid)))"
	"  BEGIN SELECT RAISE(ABORT, 'a uid is given once and never changed'); END;"
	"CREATE TRIGGER groups_gid_new BEFORE INSERT ON groups WHEN NEW.gid IS NOT NULL AND"
	"  (EXISTS (SELECT 1 FROM users WHERE uid = NEW.gid) OR"
	"   EXISTS (SELECT 1 FROM id_holds WHERE id = NEW.gid))"
	"  BEGIN SELECT RAISE(ABORT, 'this gid is given already'); END;"
	"CREATE TRIGGER groups_gid_set BEFORE UPDATE OF gid ON groups WHEN"
	"  OLD.gid IS NOT NULL OR (NEW.gid IS NOT NULL AND"
	"  (EXISTS (SELECT 1 FROM users WHERE uid = NEW.gid) OR"
	"   EXISTS (SELECT 1 FROM id_holds WHERE id = NEW.gid)))"
	"  BEGIN SELECT RAISE(ABORT, 'a gid is given once and never changed'); END;"
	"CREATE TRIGGER id_holds_new BEFORE INSERT ON id_holds WHEN"
	"  EXISTS (SELECT 1 FROM users WHERE uid = NEW.id) OR"
	"  EXISTS (SELECT 1 FROM groups WHERE gid = NEW.id)"
	"  BEGIN SELECT RAISE(ABORT, 'this id is given already'); END;",
	/* 3 -> 4: offline credentials. One per user: a salted slow hash of the password of its
	 * last online password login (never the password), and when that was. It goes with the
	 * user. */
	"CREATE TABLE offline_creds (name TEXT PRIMARY KEY"
	"  REFERENCES users(name) ON DELETE CASCADE,"
	"  verifier TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;",
	/* 4 -> 5: the IdP identity a pre-provisioned name is meant for (its IdP username, its
	 * subject, or both): a login pins the name only when it matches. Rows from before have
	 * neither: the daemon then requires the IdP username to be the name itself. */
	"ALTER TABLE users ADD COLUMN want_user TEXT;"
	"ALTER TABLE users ADD COLUMN want_sub TEXT;",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == IDG_STORE_SCHEMA_VERSION,
    "one migration per schema version");

enum stmt_id {
	S_META_SET, S_ROLE_ADD, S_ROLE_DEL, S_PROJECT_ADD, S_PROJECT_DEL, S_PROJECT_UNBIND,
	S_REPO_ADD, S_REPO_DEL, S_REPO_UNBIND, S_GROUP_ADD, S_GROUP_DEL, S_MEMBER_ADD,
	S_MEMBER_DEL, S_BINDING_PUT, S_BINDING_DEL, S_TOKEN_ADD, S_TOKEN_DEL, S_PIPELINE_ADD,
	S_PIPELINE_INPUT, S_PIPELINE_DEL, S_RESET_BINDINGS, S_RESET_TOKENS, S_RESET_MEMBERS,
	S_USER_ADD, S_USER_DEL, S_USER_PIN, S_USER_UID, S_USER_GECOS, S_GROUP_GID, S_HOLD_ADD,
	S_HOLD_DEL, S_OFFLINE_SET, S_OFFLINE_DEL, S_USER_EXPECT, S_USER_UNPIN, S_BEGIN, S_COMMIT, S_ROLLBACK, S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_ROLE_ADD] = "INSERT INTO roles(name, perms, rtypes, created) VALUES (?1, ?2, ?3, ?4)",
	[S_ROLE_DEL] = "DELETE FROM roles WHERE name = ?1",
	[S_PROJECT_ADD] = "INSERT INTO projects(name, creator, description, created)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[S_PROJECT_DEL] = "DELETE FROM projects WHERE name = ?1",
	[S_PROJECT_UNBIND] = "DELETE FROM bindings WHERE rtype = 1 AND resource = ?1",
	[S_REPO_ADD] = "INSERT INTO repos(name, project, creator, description, created)"
	    " VALUES (?1, substr(?1, 1, instr(?1, '/') - 1), ?2, ?3, ?4)",
	[S_REPO_DEL] = "DELETE FROM repos WHERE name = ?1",
	[S_REPO_UNBIND] = "DELETE FROM bindings WHERE rtype = 2 AND resource = ?1",
	[S_GROUP_ADD] = "INSERT INTO groups(name, source, created, gid) VALUES (?1, ?2, ?3, ?4)",
	[S_GROUP_DEL] = "DELETE FROM groups WHERE name = ?1",
	[S_MEMBER_ADD] = "INSERT INTO members(grp, member) VALUES (?1, ?2)",
	[S_MEMBER_DEL] = "DELETE FROM members WHERE grp = ?1 AND member = ?2",
	[S_BINDING_PUT] = "INSERT INTO bindings(rtype, resource, subject, roles) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT(rtype, resource, subject) DO UPDATE SET roles = excluded.roles",
	[S_BINDING_DEL] = "DELETE FROM bindings WHERE rtype = ?1 AND resource = ?2 AND subject = ?3",
	[S_TOKEN_ADD] = "INSERT INTO tokens(hash, subject, created, expires) VALUES (?1, ?2, ?3, ?4)",
	[S_TOKEN_DEL] = "DELETE FROM tokens WHERE hash = ?1",
	[S_PIPELINE_ADD] = "INSERT INTO pipelines(name, output, creator, created) VALUES (?1, ?2, ?3, ?4)",
	[S_PIPELINE_INPUT] = "INSERT INTO pipeline_inputs(pipeline, input) VALUES (?1, ?2)",
	[S_PIPELINE_DEL] = "DELETE FROM pipelines WHERE name = ?1",
	[S_RESET_BINDINGS] = "DELETE FROM bindings",
	[S_RESET_TOKENS] = "DELETE FROM tokens",
	[S_RESET_MEMBERS] = "DELETE FROM members",
	[S_USER_ADD] = "INSERT INTO users(name, principal, iss, sub, created, uid, gecos)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_USER_DEL] = "DELETE FROM users WHERE name = ?1",
	[S_USER_PIN] = "UPDATE users SET iss = ?2, sub = ?3 WHERE name = ?1 AND iss IS NULL",
	[S_USER_UID] = "UPDATE users SET uid = ?2 WHERE name = ?1",
	[S_USER_GECOS] = "UPDATE users SET gecos = ?2 WHERE name = ?1",
	[S_GROUP_GID] = "UPDATE groups SET gid = ?2 WHERE name = ?1",
	[S_HOLD_ADD] = "INSERT INTO id_holds(id, name, kind, created) VALUES (?1, ?2, ?3, ?4)",
	[S_HOLD_DEL] = "DELETE FROM id_holds WHERE id = ?1",
	[S_OFFLINE_SET] = "INSERT INTO offline_creds(name, verifier, created) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT(name) DO UPDATE SET verifier = excluded.verifier,"
	    " created = excluded.created",
	[S_OFFLINE_DEL] = "DELETE FROM offline_creds WHERE name = ?1",
	[S_USER_EXPECT] = "UPDATE users SET want_user = ?2, want_sub = ?3 WHERE name = ?1",
	[S_USER_UNPIN] = "UPDATE users SET iss = NULL, sub = NULL WHERE name = ?1 AND iss IS NOT NULL",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
};

struct idg_store {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	int version;
};

static int
db_error(sqlite3 *db, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		return IDG_ERR_CORRUPT;
	if (rc == SQLITE_NOMEM)
		return IDG_ERR_NOMEM;
	return IDG_ERR_STORE;
}

static void
sq_close(struct idg_store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

static int
pragma_text(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	out[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(out, len, "%s", t ? (const char *)t : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The schema version into s->version; a version newer than this binary is refused. */
static int
check_version(struct idg_store *s, char *err, size_t errlen)
{
	char v[32];
	int rc;

	if ((rc = pragma_text(s->db, "PRAGMA user_version", v, sizeof(v))) != SQLITE_OK)
		return db_error(s->db, rc, err, errlen, "opening the state database");
	s->version = atoi(v);
	if (s->version > IDG_STORE_SCHEMA_VERSION || s->version < 0) {
		snprintf(err, errlen, "the state database has schema version %d, newer than this "
		    "idgated understands (%d): refusing to touch it", s->version,
		    IDG_STORE_SCHEMA_VERSION);
		return IDG_ERR_STORE;
	}
	return 0;
}

static int
migrate(struct idg_store *s, char *err, size_t errlen)
{
	int rc, version;

	if ((rc = check_version(s, err, errlen)) < 0)
		return rc;
	version = s->version;
	for (; version < IDG_STORE_SCHEMA_VERSION; version++) {
		char sql[64];

		if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
			return db_error(s->db, rc, err, errlen, "starting a migration");
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((rc = sqlite3_exec(s->db, migrations[version], NULL, NULL, NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
			int r = db_error(s->db, rc, err, errlen, "migrating the schema");

			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	s->version = version;
	return 0;
}

/* What an administrator should do with a state file idgated will not open. */
#define RESTORE_HINT "restore it from a backup, together with its -wal and -shm files " \
	"(idgated(8), \"Restoring the state\"); idgated leaves it as it is"

/* fsync the directory holding path, so a rename into it lasts. */
static int
sync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -1;
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* A first start: the database is made under a temporary name, given its header (WAL mode
 * writes page 1), synced, and only then renamed to path. So path exists only as a real
 * database, and a zero-length or unreadable state file is always damage, never a start that
 * was cut short. */
static int
create_new(const char *path, char *err, size_t errlen)
{
	char tmp[4200], side[4210];
	sqlite3 *db = NULL;
	char mode[16];
	int rc, r = 0, fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "opening the state database: the path is too long");
		return IDG_ERR_STORE;
	}
	/* Left by a first start that was cut short: never a store anyone used. */
	unlink(tmp);
	snprintf(side, sizeof(side), "%s-wal", tmp);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", tmp);
	unlink(side);
	rc = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK)
		rc = pragma_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
	if (rc != SQLITE_OK) {
		r = db_error(db, rc, err, errlen, "opening the state database");
		sqlite3_close(db);
		unlink(tmp);
		return r;
	}
	if ((rc = sqlite3_close(db)) != SQLITE_OK) {
		snprintf(err, errlen, "creating the state database: %s", sqlite3_errstr(rc));
		unlink(tmp);
		return IDG_ERR_STORE;
	}
	if ((fd = open(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0 || fsync(fd) < 0 ||
	    rename(tmp, path) < 0 || sync_dir_of(path) < 0) {
		snprintf(err, errlen, "creating the state database %s: %s", path, strerror(errno));
		r = IDG_ERR_STORE;
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* A first start is a missing file: it is created. An existing file of zero bytes is damage
 * (a truncation, a full disk's repair, a botched restore): SQLite would take it for a new
 * database and idgated would start with nothing, so it is refused. */
static int
prepare_path(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? create_new(path, err, errlen) : 0;
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		snprintf(err, errlen, "the state database %s is empty (0 bytes): it is damaged, not "
		    "new (a first start has no state file at all). To recover, " RESTORE_HINT "; to "
		    "start over with an empty store instead, remove it", path);
		return IDG_ERR_CORRUPT;
	}
	return 0;	/* anything else: SQLite says what is wrong with it */
}

static int
sq_open(const struct idg_store_conf *conf, struct idg_store **out, char *err, size_t errlen)
{
	struct idg_store *s = calloc(1, sizeof(*s));
	char mode[16];
	int rc, r;

	if (s == NULL)
		return IDG_ERR_NOMEM;
	if ((r = prepare_path(conf->path, err, errlen)) < 0)
		goto fail;
	rc = sqlite3_open_v2(conf->path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		r = db_error(s->db, rc, err, errlen, "opening the state database");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, 5000);
	/* A database newer than this binary is refused before anything, even the journal mode,
	 * is written to it. */
	if ((r = check_version(s, err, errlen)) < 0) {
		if (r == IDG_ERR_CORRUPT) {
			size_t n = strlen(err);

			snprintf(err + n, errlen - n, " (%s is damaged or not a state database: "
			    RESTORE_HINT ")", conf->path);
		}
		goto fail;
	}
	if ((rc = pragma_text(s->db, "PRAGMA journal_mode = WAL", mode, sizeof(mode))) != SQLITE_OK) {
		r = db_error(s->db, rc, err, errlen, "opening the state database");
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "the state database cannot use WAL mode (got '%s')", mode);
		r = IDG_ERR_STORE;
		goto fail;
	}
	rc = sqlite3_exec(s->db, conf->sync_full ? "PRAGMA synchronous = FULL" :
	    "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;"
		    "PRAGMA cell_size_check = ON", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = db_error(s->db, rc, err, errlen, "configuring the state database");
		goto fail;
	}
	if ((r = migrate(s, err, errlen)) < 0)
		goto fail;
	for (int i = 0; i < S_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			r = db_error(s->db, rc, err, errlen, "preparing statements");
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	sq_close(s);
	return r;
}

static int
sq_version(struct idg_store *s)
{
	return s->version;
}

/* Run one prepared statement with parameters described by fmt: 't' text (NULL as ''), 'T' text
 * (NULL as NULL), 'i' int64, 'n' an id as unsigned (0 as NULL). */
static int
run(struct idg_store *s, enum stmt_id id, const char *fmt, ...)
{
	sqlite3_stmt *st = s->st[id];
	va_list ap;
	int rc, i = 1;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++, i++) {
		if (*f == 't' || *f == 'T') {
			const char *t = va_arg(ap, const char *);

			if (t == NULL && *f == 'T')
				sqlite3_bind_null(st, i);
			else
				sqlite3_bind_text(st, i, t ? t : "", -1, SQLITE_STATIC);
		} else if (*f == 'n') {
			unsigned v = va_arg(ap, unsigned);

			if (v == 0)
				sqlite3_bind_null(st, i);
			else
				sqlite3_bind_int64(st, i, (int64_t)v);
		} else {
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		}
	}
	va_end(ap);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* An update that must change exactly one row (a user or group that exists, a pin not made
 * yet): anything else fails the whole change. */
static int
one_row(struct idg_store *s, int rc)
{
	if (rc != SQLITE_OK)
		return rc;
	return sqlite3_changes(s->db) == 1 ? SQLITE_OK : SQLITE_NOTFOUND;
}
#define run_one(s, id, ...) one_row(s, run(s, id, __VA_ARGS__))

/* "a,b,c" from a list, into a malloc'd string. */
static char *
join(const char *const *list, size_t n)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		len += strlen(list[i]) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	p = out;
	*p = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(list[i]);

		if (i)
			*p++ = ',';
		memcpy(p, list[i], l);
		p += l;
		*p = '\0';
	}
	return out;
}

static int
apply_one(struct idg_store *s, const struct idg_mut *m)
{
	char *joined = NULL;
	int rc = SQLITE_OK;

	switch (m->kind) {
	case IDG_MUT_META_SET:
		rc = run(s, S_META_SET, "tt", m->a, m->b);
		break;
	case IDG_MUT_ROLE_ADD:
		if ((joined = join(m->list, m->nlist)) == NULL)
			return SQLITE_NOMEM;
		rc = run(s, S_ROLE_ADD, "ttii", m->a, joined, (int64_t)m->u, m->t1);
		break;
	case IDG_MUT_ROLE_DEL:
		rc = run(s, S_ROLE_DEL, "t", m->a);
		break;
	case IDG_MUT_PROJECT_ADD:
		rc = run(s, S_PROJECT_ADD, "ttti", m->a, m->b, m->c, m->t1);
		break;
	case IDG_MUT_PROJECT_DEL:
		if ((rc = run(s, S_PROJECT_UNBIND, "t", m->a)) == SQLITE_OK)
			rc = run(s, S_PROJECT_DEL, "t", m->a);
		break;
	case IDG_MUT_REPO_ADD:
		rc = run(s, S_REPO_ADD, "ttti", m->a, m->b, m->c, m->t1);
		break;
	case IDG_MUT_REPO_DEL:
		if ((rc = run(s, S_REPO_UNBIND, "t", m->a)) == SQLITE_OK)
			rc = run(s, S_REPO_DEL, "t", m->a);
		break;
	case IDG_MUT_GROUP_ADD:
		rc = run(s, S_GROUP_ADD, "ttin", m->a, m->b, m->t1, m->u);
		break;
	case IDG_MUT_GROUP_GID:
		rc = run_one(s, S_GROUP_GID, "tn", m->a, m->u);
		break;
	case IDG_MUT_GROUP_DEL:
		rc = run(s, S_GROUP_DEL, "t", m->a);
		break;
	case IDG_MUT_MEMBER_ADD:
		rc = run(s, S_MEMBER_ADD, "tt", m->a, m->b);
		break;
	case IDG_MUT_MEMBER_DEL:
		rc = run(s, S_MEMBER_DEL, "tt", m->a, m->b);
		break;
	case IDG_MUT_BINDING_SET:
		if (m->nlist == 0) {
			rc = run(s, S_BINDING_DEL, "itt", (int64_t)m->rtype, m->a, m->b);
			break;
		}
		if ((joined = join(m->list, m->nlist)) == NULL)
			return SQLITE_NOMEM;
		rc = run(s, S_BINDING_PUT, "ittt", (int64_t)m->rtype, m->a, m->b, joined);
		break;
	case IDG_MUT_TOKEN_ADD:
		rc = run(s, S_TOKEN_ADD, "ttii", m->a, m->b, m->t1, m->t2);
		break;
	case IDG_MUT_TOKEN_DEL:
		rc = run(s, S_TOKEN_DEL, "t", m->a);
		break;
	case IDG_MUT_PIPELINE_ADD:
		rc = run(s, S_PIPELINE_ADD, "ttti", m->a, m->b, m->c, m->t1);
		for (size_t i = 0; rc == SQLITE_OK && i < m->nlist; i++)
			rc = run(s, S_PIPELINE_INPUT, "tt", m->a, m->list[i]);
		break;
	case IDG_MUT_PIPELINE_DEL:
		rc = run(s, S_PIPELINE_DEL, "t", m->a);
		break;
	case IDG_MUT_USER_ADD:
		rc = run(s, S_USER_ADD, "ttTTint", m->a, m->b, m->c, m->d, m->t1, m->u, m->e);
		break;
	case IDG_MUT_USER_DEL:
		rc = run(s, S_USER_DEL, "t", m->a);
		break;
	case IDG_MUT_USER_PIN:
		rc = run_one(s, S_USER_PIN, "ttt", m->a, m->c, m->d);
		break;
	case IDG_MUT_USER_UID:
		rc = run_one(s, S_USER_UID, "tn", m->a, m->u);
		break;
	case IDG_MUT_USER_GECOS:
		rc = run_one(s, S_USER_GECOS, "tt", m->a, m->e);
		break;
	case IDG_MUT_ID_HOLD:
		rc = run(s, S_HOLD_ADD, "ntti", m->u, m->a, m->b, m->t1);
		break;
	case IDG_MUT_ID_RELEASE:
		rc = run(s, S_HOLD_DEL, "n", m->u);
		break;
	case IDG_MUT_OFFLINE_SET:
		rc = run(s, S_OFFLINE_SET, "tti", m->a, m->b, m->t1);
		break;
	case IDG_MUT_OFFLINE_DEL:
		rc = run(s, S_OFFLINE_DEL, "t", m->a);
		break;
	case IDG_MUT_USER_EXPECT:
		rc = run_one(s, S_USER_EXPECT, "tTT", m->a, m->b, m->c);
		break;
	case IDG_MUT_USER_UNPIN:
		rc = run_one(s, S_USER_UNPIN, "t", m->a);
		break;
	case IDG_MUT_AUTH_RESET:
		if ((rc = run(s, S_RESET_BINDINGS, "")) == SQLITE_OK &&
		    (rc = run(s, S_RESET_TOKENS, "")) == SQLITE_OK)
			rc = run(s, S_RESET_MEMBERS, "");
		break;
	}
	free(joined);
	return rc;
}

static int
sq_apply(struct idg_store *s, const struct idg_change *c, char *err, size_t errlen)
{
	int rc;

	if (c->err)
		return c->err;
	if ((rc = run(s, S_BEGIN, "")) != SQLITE_OK)
		return db_error(s->db, rc, err, errlen, "starting a transaction");
	for (size_t i = 0; i < c->n; i++) {
		if ((rc = apply_one(s, &c->m[i])) != SQLITE_OK) {
			int r = rc == SQLITE_NOTFOUND ? IDG_ERR_CONFLICT :
			    db_error(s->db, rc, err, errlen, "writing the change");

			if (rc == SQLITE_NOTFOUND)
				snprintf(err, errlen, "writing the change: '%s' does not exist or is "
				    "already set", c->m[i].a ? c->m[i].a : "");
			run(s, S_ROLLBACK, "");
			return r;
		}
	}
	if ((rc = run(s, S_COMMIT, "")) != SQLITE_OK) {
		int r = db_error(s->db, rc, err, errlen, "committing the change");

		run(s, S_ROLLBACK, "");
		return r;
	}
	return 0;
}

/* ---------- load ---------- */

#define LIST_MAX 256

/* Split "a,b,c" in place into list (at most LIST_MAX). */
static size_t
split(char *s, const char **list)
{
	size_t n = 0;

	if (*s == '\0')
		return 0;
	for (char *p = s; n < LIST_MAX; ) {
		char *comma = strchr(p, ',');

		list[n++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* A nullable text column: NULL stays NULL. */
static const char *
col_null(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : col(st, i);
}

static int
load_query(struct idg_store *s, const char *sql, enum idg_mut_kind kind, idg_store_row_fn fn,
    void *ctx, char *err, size_t errlen)
{
	sqlite3_stmt *st, *inputs = NULL;
	const char *list[LIST_MAX];
	int rc, r = 0;

	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return db_error(s->db, rc, err, errlen, "loading state");
	if (kind == IDG_MUT_PIPELINE_ADD &&
	    (rc = sqlite3_prepare_v2(s->db, "SELECT input FROM pipeline_inputs WHERE pipeline = ?1"
	    " ORDER BY input", -1, &inputs, NULL)) != SQLITE_OK) {
		sqlite3_finalize(st);
		return db_error(s->db, rc, err, errlen, "loading state");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct idg_mut m = { .kind = kind };
		char *copy = NULL;
		char *in_copies[LIST_MAX];
		size_t nin = 0;

		switch (kind) {
		case IDG_MUT_META_SET:
			m.a = col(st, 0);
			m.b = col(st, 1);
			break;
		case IDG_MUT_USER_ADD:
			m.a = col(st, 0);
			m.b = col(st, 1);
			m.c = col_null(st, 2);
			m.d = col_null(st, 3);
			m.t1 = sqlite3_column_int64(st, 4);
			m.u = (unsigned)sqlite3_column_int64(st, 5);
			m.e = col(st, 6);
			break;
		case IDG_MUT_OFFLINE_SET:
			m.a = col(st, 0);
			m.b = col(st, 1);
			m.t1 = sqlite3_column_int64(st, 2);
			break;
		case IDG_MUT_USER_EXPECT:
			m.a = col(st, 0);
			m.b = col_null(st, 1);
			m.c = col_null(st, 2);
			break;
		case IDG_MUT_ID_HOLD:
			m.u = (unsigned)sqlite3_column_int64(st, 0);
			m.a = col(st, 1);
			m.b = col(st, 2);
			m.t1 = sqlite3_column_int64(st, 3);
			break;
		case IDG_MUT_ROLE_ADD:
			m.a = col(st, 0);
			if ((copy = strdup(col(st, 1))) == NULL)
				goto nomem;
			m.nlist = split(copy, list);
			m.list = list;
			m.u = (unsigned)sqlite3_column_int64(st, 2);
			m.t1 = sqlite3_column_int64(st, 3);
			break;
		case IDG_MUT_PROJECT_ADD:
		case IDG_MUT_REPO_ADD:
			m.a = col(st, 0);
			m.b = col(st, 1);
			m.c = col(st, 2);
			m.t1 = sqlite3_column_int64(st, 3);
			break;
		case IDG_MUT_GROUP_ADD:
			m.a = col(st, 0);
			m.b = col(st, 1);
			m.t1 = sqlite3_column_int64(st, 2);
			m.u = (unsigned)sqlite3_column_int64(st, 3);
			break;
		case IDG_MUT_MEMBER_ADD:
			m.a = col(st, 0);
			m.b = col(st, 1);
			break;
		case IDG_MUT_BINDING_SET:
			m.rtype = sqlite3_column_int(st, 0);
			m.a = col(st, 1);
			m.b = col(st, 2);
			if ((copy = strdup(col(st, 3))) == NULL)
				goto nomem;
			m.nlist = split(copy, list);
			m.list = list;
			break;
		case IDG_MUT_TOKEN_ADD:
			m.a = col(st, 0);
			m.b = col(st, 1);
			m.t1 = sqlite3_column_int64(st, 2);
			m.t2 = sqlite3_column_int64(st, 3);
			break;
		case IDG_MUT_PIPELINE_ADD:
			m.a = col(st, 0);
			m.b = col(st, 1);
			m.c = col(st, 2);
			m.t1 = sqlite3_column_int64(st, 3);
			sqlite3_reset(inputs);
			sqlite3_bind_text(inputs, 1, m.a, -1, SQLITE_TRANSIENT);
			while (nin < LIST_MAX && sqlite3_step(inputs) == SQLITE_ROW) {
				if ((in_copies[nin] = strdup(col(inputs, 0))) == NULL)
					break;
				list[nin] = in_copies[nin];
				nin++;
			}
			m.list = list;
			m.nlist = nin;
			break;
		default:
			break;
		}
		r = fn(ctx, &m);
		free(copy);
		for (size_t i = 0; i < nin; i++)
			free(in_copies[i]);
		if (r < 0)
			break;
		continue;
nomem:
		r = IDG_ERR_NOMEM;
		break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(s->db, rc, err, errlen, "loading state");
	sqlite3_finalize(st);
	sqlite3_finalize(inputs);
	return r;
}

static int
sq_load(struct idg_store *s, idg_store_row_fn fn, void *ctx, char *err, size_t errlen)
{
	static const struct {
		enum idg_mut_kind kind;
		const char *sql;
	} order[] = {
		{ IDG_MUT_META_SET, "SELECT key, value FROM meta" },
		{ IDG_MUT_ROLE_ADD, "SELECT name, perms, rtypes, created FROM roles ORDER BY name" },
		{ IDG_MUT_PROJECT_ADD, "SELECT name, creator, description, created FROM projects ORDER BY name" },
		{ IDG_MUT_REPO_ADD, "SELECT name, creator, description, created FROM repos ORDER BY name" },
		{ IDG_MUT_GROUP_ADD, "SELECT name, source, created, gid FROM groups ORDER BY name" },
		{ IDG_MUT_MEMBER_ADD, "SELECT grp, member FROM members" },
		{ IDG_MUT_BINDING_SET, "SELECT rtype, resource, subject, roles FROM bindings" },
		{ IDG_MUT_TOKEN_ADD, "SELECT hash, subject, created, expires FROM tokens" },
		{ IDG_MUT_PIPELINE_ADD, "SELECT name, output, creator, created FROM pipelines ORDER BY name" },
		{ IDG_MUT_USER_ADD, "SELECT name, principal, iss, sub, created, uid, gecos FROM users"
		    " ORDER BY name" },
		{ IDG_MUT_USER_EXPECT, "SELECT name, want_user, want_sub FROM users"
		    " WHERE want_user IS NOT NULL OR want_sub IS NOT NULL ORDER BY name" },
		{ IDG_MUT_ID_HOLD, "SELECT id, name, kind, created FROM id_holds ORDER BY id" },
		{ IDG_MUT_OFFLINE_SET, "SELECT name, verifier, created FROM offline_creds"
		    " ORDER BY name" },
	};
	int r;

	/* One read transaction: a consistent snapshot even if another writer shares the file. */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s->db, sqlite3_errcode(s->db), err, errlen, "loading state");
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((r = load_query(s, order[i].sql, order[i].kind, fn, ctx, err, errlen)) < 0) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return 0;
}

const struct idg_store_ops idg_store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.apply = sq_apply,
	.load = sq_load,
	.version = sq_version,
};
