/* The SQLite store (sqlite.c, change.c): every mutation kind applied and loaded back,
 * all-or-nothing changes, the POSIX directory (uids, gids and held ids as one id space, each
 * given once), reopening, the schema version and WAL mode as SQLite itself
 * reports them, and databases the store must refuse (newer schema, not a database). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/err.h"
#include "common/util.h"
#include "store/store.h"

static const struct idg_store_ops *const ops = &idg_store_sqlite;

/* ---------- fixture: a private directory per test ---------- */

struct fx {
	char dir[64];
	char path[96];
	struct idg_store *s;
	char err[512];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/idg-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	DIR *d;
	struct dirent *e;

	if (f->s)
		ops->close(f->s);
	if ((d = opendir(f->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char p[400];

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
open_store(struct fx *f)
{
	struct idg_store_conf conf = { .path = f->path, .sync_full = true };
	int rc;

	f->err[0] = '\0';
	rc = ops->open(&conf, &f->s, f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("open: %d %s", rc, f->err);
	assert_non_null(f->s);
}

static void
reopen_store(struct fx *f)
{
	ops->close(f->s);
	f->s = NULL;
	open_store(f);
}

/* ---------- building changes ---------- */

#define LIST(...) (const char *const[]){ __VA_ARGS__ }

static void
add(struct idg_change *c, enum idg_mut_kind kind, int rtype, const char *a, const char *b,
    const char *cc, const char *const *list, size_t nlist, unsigned u, int64_t t1, int64_t t2)
{
	struct idg_mut m = { .kind = kind, .rtype = rtype, .a = a, .b = b, .c = cc,
		.list = list, .nlist = nlist, .u = u, .t1 = t1, .t2 = t2 };

	idg_change_add(c, &m);
	assert_int_equal(c->err, 0);
}

static int
apply(struct fx *f, struct idg_change *c)
{
	int rc;

	f->err[0] = '\0';
	rc = ops->apply(f->s, c, f->err, sizeof(f->err));
	idg_change_free(c);
	return rc;
}

/* ---------- loading into canonical text ---------- */

static const char *const kind_names[] = {
	[IDG_MUT_META_SET] = "META", [IDG_MUT_ROLE_ADD] = "ROLE", [IDG_MUT_ROLE_DEL] = "ROLE_DEL",
	[IDG_MUT_PROJECT_ADD] = "PROJECT", [IDG_MUT_PROJECT_DEL] = "PROJECT_DEL",
	[IDG_MUT_REPO_ADD] = "REPO", [IDG_MUT_REPO_DEL] = "REPO_DEL",
	[IDG_MUT_GROUP_ADD] = "GROUP", [IDG_MUT_GROUP_DEL] = "GROUP_DEL",
	[IDG_MUT_MEMBER_ADD] = "MEMBER", [IDG_MUT_MEMBER_DEL] = "MEMBER_DEL",
	[IDG_MUT_BINDING_SET] = "BINDING", [IDG_MUT_TOKEN_ADD] = "TOKEN",
	[IDG_MUT_TOKEN_DEL] = "TOKEN_DEL", [IDG_MUT_PIPELINE_ADD] = "PIPELINE",
	[IDG_MUT_PIPELINE_DEL] = "PIPELINE_DEL", [IDG_MUT_AUTH_RESET] = "RESET",
};

/* The order load promises: everything a row refers to comes before it. */
static const enum idg_mut_kind load_order[] = {
	IDG_MUT_META_SET, IDG_MUT_ROLE_ADD, IDG_MUT_PROJECT_ADD, IDG_MUT_REPO_ADD,
	IDG_MUT_GROUP_ADD, IDG_MUT_MEMBER_ADD, IDG_MUT_BINDING_SET, IDG_MUT_TOKEN_ADD,
	IDG_MUT_PIPELINE_ADD,
};

struct rows {
	char *row[256];
	size_t n;
	int last_rank;
	bool out_of_order;
	int stop_after;		/* >0: return an error from that row on */
};

/* KIND|rtype|a|b|c|list|u|t1|t2, with NULL strings as "". */
static int
collect(void *ctx, const struct idg_mut *m)
{
	struct rows *r = ctx;
	char buf[2048], list[1024] = "";
	size_t off = 0;
	int rank = -1;

	for (size_t i = 0; i < IDG_ARRAY_SIZE(load_order); i++)
		if (load_order[i] == m->kind)
			rank = (int)i;
	if (rank < r->last_rank || rank < 0)
		r->out_of_order = true;
	r->last_rank = rank;
	for (size_t i = 0; i < m->nlist; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s", i ? "," : "",
		    m->list[i]);
	snprintf(buf, sizeof(buf), "%s|%d|%s|%s|%s|%s|%u|%lld|%lld", kind_names[m->kind], m->rtype,
	    m->a ? m->a : "", m->b ? m->b : "", m->c ? m->c : "", list, m->u, (long long)m->t1,
	    (long long)m->t2);
	if (r->n < IDG_ARRAY_SIZE(r->row))
		r->row[r->n++] = strdup(buf);
	if (r->stop_after > 0 && (int)r->n >= r->stop_after)
		return IDG_ERR_INTERNAL;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->row[i]);
	r->n = 0;
}

/* Load everything and compare, as a set of rows, with want (in any order). */
static void
assert_state(struct fx *f, const char *const *want, size_t nwant)
{
	struct rows r = { .last_rank = -1 };
	const char *sorted[256];
	int rc, bad = 0;

	f->err[0] = '\0';
	rc = ops->load(f->s, collect, &r, f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("load: %d %s", rc, f->err);
	assert_false(r.out_of_order);
	qsort(r.row, r.n, sizeof(*r.row), cmp_str);
	if (nwant)
		memcpy(sorted, want, nwant * sizeof(*want));
	qsort(sorted, nwant, sizeof(*sorted), cmp_str);
	for (size_t i = 0, k = 0; i < r.n || k < nwant; ) {
		int c = i == r.n ? 1 : k == nwant ? -1 : strcmp(r.row[i], sorted[k]);

		if (c == 0) {
			i++, k++;
			continue;
		}
		if (c < 0)
			print_message("# unexpected row: %s\n", r.row[i++]);
		else
			print_message("# missing row:    %s\n", sorted[k++]);
		bad++;
	}
	rows_free(&r);
	assert_int_equal(bad, 0);
}

/* ---------- the reference scenario ---------- */

/* One change with every kind of "add" (and a replaced META value). */
static void
apply_initial(struct fx *f)
{
	struct idg_change c;

	idg_change_init(&c);
	add(&c, IDG_MUT_META_SET, 0, "activated", "yes", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_META_SET, 0, "activated", "2026", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_ROLE_ADD, 0, "auditor", NULL, NULL,
	    LIST("REPO_READ", "PROJECT_LIST_REPO"), 2, 6, 1000, 0);
	add(&c, IDG_MUT_ROLE_ADD, 0, "temp", NULL, NULL, LIST("REPO_WRITE"), 1, 4, 1001, 0);
	add(&c, IDG_MUT_PROJECT_ADD, 0, "default", "root", "the default project", NULL, 0, 0, 1002, 0);
	add(&c, IDG_MUT_PROJECT_ADD, 0, "p2", "user:alice@example.com", NULL, NULL, 0, 0, 1003, 0);
	add(&c, IDG_MUT_REPO_ADD, 0, "default/testinput", "root", "input", NULL, 0, 0, 1004, 0);
	add(&c, IDG_MUT_REPO_ADD, 0, "p2/r", "user:alice@example.com", NULL, NULL, 0, 0, 1005, 0);
	add(&c, IDG_MUT_REPO_ADD, 0, "p2/gone", "root", NULL, NULL, 0, 0, 1005, 0);
	add(&c, IDG_MUT_GROUP_ADD, 0, "testgroup", "idp", NULL, NULL, 0, 0, 1006, 0);
	add(&c, IDG_MUT_GROUP_ADD, 0, "local1", "local", NULL, NULL, 0, 0, 1007, 0);
	add(&c, IDG_MUT_GROUP_ADD, 0, "doomed", "local", NULL, NULL, 0, 0, 1008, 0);
	add(&c, IDG_MUT_MEMBER_ADD, 0, "testgroup", "user:alice@example.com", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_MEMBER_ADD, 0, "testgroup", "user:bob@example.com", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_MEMBER_ADD, 0, "doomed", "user:carol@example.com", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_BINDING_SET, 0, "", "allClusterUsers", NULL, LIST("projectCreator"), 1, 0,
	    0, 0);
	add(&c, IDG_MUT_BINDING_SET, 1, "default", "allClusterUsers", NULL, LIST("projectWriter"), 1,
	    0, 0, 0);
	add(&c, IDG_MUT_BINDING_SET, 2, "default/testinput", "user:alice@example.com", NULL,
	    LIST("repoReader"), 1, 0, 0, 0);
	add(&c, IDG_MUT_BINDING_SET, 2, "p2/gone", "user:x@example.com", NULL, LIST("repoOwner"), 1,
	    0, 0, 0);
	add(&c, IDG_MUT_TOKEN_ADD, 0, "aa11", "robot:ci", NULL, NULL, 0, 0, 1010, 0);
	add(&c, IDG_MUT_TOKEN_ADD, 0, "bb22", "user:alice@example.com", NULL, NULL, 0, 0, 1011, 99999);
	add(&c, IDG_MUT_PIPELINE_ADD, 0, "default/edges", "default/edges", "user:alice@example.com",
	    LIST("p2/r", "default/testinput"), 2, 0, 1012, 0);
	add(&c, IDG_MUT_PIPELINE_ADD, 0, "default/old", "default/old", "root",
	    LIST("default/testinput"), 1, 0, 1013, 0);
	if (apply(f, &c) != 0)
		fail_msg("initial change: %s", f->err);
}

static const char *const state_initial[] = {
	"META|0|activated|2026|||0|0|0",
	"ROLE|0|auditor|||REPO_READ,PROJECT_LIST_REPO|6|1000|0",
	"ROLE|0|temp|||REPO_WRITE|4|1001|0",
	"PROJECT|0|default|root|the default project||0|1002|0",
	"PROJECT|0|p2|user:alice@example.com|||0|1003|0",
	"REPO|0|default/testinput|root|input||0|1004|0",
	"REPO|0|p2/r|user:alice@example.com|||0|1005|0",
	"REPO|0|p2/gone|root|||0|1005|0",
	"GROUP|0|testgroup|idp|||0|1006|0",
	"GROUP|0|local1|local|||0|1007|0",
	"GROUP|0|doomed|local|||0|1008|0",
	"MEMBER|0|testgroup|user:alice@example.com|||0|0|0",
	"MEMBER|0|testgroup|user:bob@example.com|||0|0|0",
	"MEMBER|0|doomed|user:carol@example.com|||0|0|0",
	"BINDING|0||allClusterUsers||projectCreator|0|0|0",
	"BINDING|1|default|allClusterUsers||projectWriter|0|0|0",
	"BINDING|2|default/testinput|user:alice@example.com||repoReader|0|0|0",
	"BINDING|2|p2/gone|user:x@example.com||repoOwner|0|0|0",
	"TOKEN|0|aa11|robot:ci|||0|1010|0",
	"TOKEN|0|bb22|user:alice@example.com|||0|1011|99999",
	/* Inputs come back sorted. */
	"PIPELINE|0|default/edges|default/edges|user:alice@example.com|default/testinput,p2/r|0|1012|0",
	"PIPELINE|0|default/old|default/old|root|default/testinput|0|1013|0",
};

/* One change with every kind of "delete" and a replaced binding. */
static void
apply_second(struct fx *f)
{
	struct idg_change c;

	idg_change_init(&c);
	add(&c, IDG_MUT_BINDING_SET, 2, "default/testinput", "user:alice@example.com", NULL,
	    LIST("repoWriter", "repoReader"), 2, 0, 0, 0);
	add(&c, IDG_MUT_BINDING_SET, 1, "default", "allClusterUsers", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_ROLE_DEL, 0, "temp", NULL, NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_REPO_DEL, 0, "p2/gone", NULL, NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_GROUP_DEL, 0, "doomed", NULL, NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_MEMBER_DEL, 0, "testgroup", "user:bob@example.com", NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_TOKEN_DEL, 0, "bb22", NULL, NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_PIPELINE_DEL, 0, "default/old", NULL, NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_PROJECT_ADD, 0, "p3", "root", NULL, NULL, 0, 0, 1020, 0);
	add(&c, IDG_MUT_BINDING_SET, 1, "p3", "user:z@example.com", NULL, LIST("projectOwner"), 1, 0,
	    0, 0);
	add(&c, IDG_MUT_PROJECT_DEL, 0, "p3", NULL, NULL, NULL, 0, 0, 0, 0);
	if (apply(f, &c) != 0)
		fail_msg("second change: %s", f->err);
}

static const char *const state_second[] = {
	"META|0|activated|2026|||0|0|0",
	"ROLE|0|auditor|||REPO_READ,PROJECT_LIST_REPO|6|1000|0",
	"PROJECT|0|default|root|the default project||0|1002|0",
	"PROJECT|0|p2|user:alice@example.com|||0|1003|0",
	"REPO|0|default/testinput|root|input||0|1004|0",
	"REPO|0|p2/r|user:alice@example.com|||0|1005|0",
	"GROUP|0|testgroup|idp|||0|1006|0",
	"GROUP|0|local1|local|||0|1007|0",
	"MEMBER|0|testgroup|user:alice@example.com|||0|0|0",
	"BINDING|0||allClusterUsers||projectCreator|0|0|0",
	"BINDING|2|default/testinput|user:alice@example.com||repoWriter,repoReader|0|0|0",
	"TOKEN|0|aa11|robot:ci|||0|1010|0",
	"PIPELINE|0|default/edges|default/edges|user:alice@example.com|default/testinput,p2/r|0|1012|0",
};

/* ---------- tests ---------- */

static void
fresh_store_is_empty_and_current(void **state)
{
	struct fx *f = *state;

	open_store(f);
	assert_int_equal(ops->version(f->s), IDG_STORE_SCHEMA_VERSION);
	assert_string_equal(ops->name, "sqlite");
	assert_state(f, NULL, 0);
}

static void
every_mutation_kind_round_trips_through_load(void **state)
{
	struct fx *f = *state;

	open_store(f);
	apply_initial(f);
	assert_state(f, state_initial, IDG_ARRAY_SIZE(state_initial));
	apply_second(f);
	assert_state(f, state_second, IDG_ARRAY_SIZE(state_second));
}

static void
auth_reset_drops_bindings_tokens_and_memberships_only(void **state)
{
	static const char *const want[] = {
		"META|0|activated|2026|||0|0|0",
		"ROLE|0|auditor|||REPO_READ,PROJECT_LIST_REPO|6|1000|0",
		"PROJECT|0|default|root|the default project||0|1002|0",
		"PROJECT|0|p2|user:alice@example.com|||0|1003|0",
		"REPO|0|default/testinput|root|input||0|1004|0",
		"REPO|0|p2/r|user:alice@example.com|||0|1005|0",
		"GROUP|0|testgroup|idp|||0|1006|0",
		"GROUP|0|local1|local|||0|1007|0",
		"PIPELINE|0|default/edges|default/edges|user:alice@example.com|default/testinput,p2/r"
		    "|0|1012|0",
	};
	struct fx *f = *state;
	struct idg_change c;

	open_store(f);
	apply_initial(f);
	apply_second(f);
	idg_change_init(&c);
	add(&c, IDG_MUT_AUTH_RESET, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0);
	assert_int_equal(apply(f, &c), 0);
	assert_state(f, want, IDG_ARRAY_SIZE(want));
}

static void
change_copies_its_strings(void **state)
{
	static const char *const want[] = { "GROUP|0|team|local|||0|5|0",
		"BINDING|0||group:team||repoReader,repoWriter|0|0|0" };
	struct fx *f = *state;
	struct idg_change c;
	char name[16], subject[32], role1[16], role2[16];
	const char *roles[2] = { role1, role2 };

	open_store(f);
	idg_change_init(&c);
	strcpy(name, "team");
	strcpy(subject, "group:team");
	strcpy(role1, "repoReader");
	strcpy(role2, "repoWriter");
	add(&c, IDG_MUT_GROUP_ADD, 0, name, "local", NULL, NULL, 0, 0, 5, 0);
	add(&c, IDG_MUT_BINDING_SET, 0, "", subject, NULL, roles, 2, 0, 0, 0);
	/* The caller's buffers change before the change is applied. */
	strcpy(name, "XXXX");
	strcpy(subject, "XXXXXXXXXX");
	strcpy(role1, "XXXXXXXXXX");
	roles[1] = "clobbered";
	assert_int_equal(apply(f, &c), 0);
	assert_state(f, want, IDG_ARRAY_SIZE(want));
}

static const char *const reader_list[] = { "repoReader" };

/* A change whose third mutation fails leaves nothing of itself behind, whatever the
 * reason for the failure, and the store takes the next change normally. */
static void
failing_change_is_rolled_back_entirely(void **state)
{
	static const struct idg_mut third[] = {
		/* duplicate primary key */
		{ .kind = IDG_MUT_REPO_ADD, .a = "default/testinput", .b = "root", .t1 = 1 },
		/* foreign key: no such project */
		{ .kind = IDG_MUT_REPO_ADD, .a = "nope/r", .b = "root", .t1 = 1 },
		/* foreign key: no such group */
		{ .kind = IDG_MUT_MEMBER_ADD, .a = "nogroup", .b = "user:a@example.com" },
		/* CHECK constraint on the source */
		{ .kind = IDG_MUT_GROUP_ADD, .a = "g", .b = "ldap", .t1 = 1 },
		/* CHECK constraint on the resource type */
		{ .kind = IDG_MUT_BINDING_SET, .rtype = 7, .a = "x", .b = "user:a@example.com",
		    .list = reader_list, .nlist = 1 },
		/* duplicate token */
		{ .kind = IDG_MUT_TOKEN_ADD, .a = "aa11", .b = "robot:other", .t1 = 1 },
		/* a project that still has repos */
		{ .kind = IDG_MUT_PROJECT_DEL, .a = "p2" },
	};
	static const char *const extra[] = {
		"PROJECT|0|p9|root|||0|9|0", "GROUP|0|g9|local|||0|9|0",
	};
	const char *want[64];
	struct fx *f = *state;
	size_t nwant = IDG_ARRAY_SIZE(state_second);
	struct idg_change c;

	open_store(f);
	apply_initial(f);
	apply_second(f);
	for (size_t i = 0; i < IDG_ARRAY_SIZE(third); i++) {
		int rc;

		idg_change_init(&c);
		add(&c, IDG_MUT_PROJECT_ADD, 0, "p9", "root", NULL, NULL, 0, 0, 9, 0);
		add(&c, IDG_MUT_GROUP_ADD, 0, "g9", "local", NULL, NULL, 0, 0, 9, 0);
		idg_change_add(&c, &third[i]);
		add(&c, IDG_MUT_META_SET, 0, "after", "never", NULL, NULL, 0, 0, 0, 0);
		rc = apply(f, &c);
		if (rc == 0)
			fail_msg("failing mutation #%zu was accepted", i);
		assert_true(rc == IDG_ERR_STORE || rc == IDG_ERR_CONFLICT);
		assert_true(f->err[0] != '\0');
		print_message("# #%zu: %s\n", i, f->err);
		assert_state(f, state_second, nwant);
	}
	/* Still usable: the same first two mutations on their own go through. */
	idg_change_init(&c);
	add(&c, IDG_MUT_PROJECT_ADD, 0, "p9", "root", NULL, NULL, 0, 0, 9, 0);
	add(&c, IDG_MUT_GROUP_ADD, 0, "g9", "local", NULL, NULL, 0, 0, 9, 0);
	assert_int_equal(apply(f, &c), 0);
	memcpy(want, state_second, nwant * sizeof(*want));
	want[nwant++] = extra[0];
	want[nwant++] = extra[1];
	assert_state(f, want, nwant);
	/* And a rollback survives a reopen too (nothing half-written on disk). */
	reopen_store(f);
	assert_state(f, want, nwant);
}

/* An update is PIPELINE_DEL then PIPELINE_ADD of the same name in one change: the old
 * inputs must go with the old row (ON DELETE CASCADE inside the transaction). */
static void
pipeline_replaced_in_one_change_keeps_only_new_inputs(void **state)
{
	struct fx *f = *state;
	struct idg_change c;
	const char *want[64];
	size_t n = 0;

	open_store(f);
	apply_initial(f);
	apply_second(f);
	idg_change_init(&c);
	add(&c, IDG_MUT_PIPELINE_DEL, 0, "default/edges", NULL, NULL, NULL, 0, 0, 0, 0);
	add(&c, IDG_MUT_PIPELINE_ADD, 0, "default/edges", "p2/r", "root", LIST("default/testinput"),
	    1, 0, 2000, 0);
	assert_int_equal(apply(f, &c), 0);
	for (size_t i = 0; i < IDG_ARRAY_SIZE(state_second); i++)
		if (strncmp(state_second[i], "PIPELINE|", 9) != 0)
			want[n++] = state_second[i];
	want[n++] = "PIPELINE|0|default/edges|p2/r|root|default/testinput|0|2000|0";
	assert_state(f, want, n);
}

/* A change that could not be built completely (an allocation failed while adding to it)
 * is refused as a whole, with nothing written. */
static void
incomplete_change_is_refused_whole(void **state)
{
	struct fx *f = *state;
	struct idg_change c;

	open_store(f);
	idg_change_init(&c);
	add(&c, IDG_MUT_PROJECT_ADD, 0, "p1", "root", NULL, NULL, 0, 0, 1, 0);
	c.err = IDG_ERR_NOMEM;
	assert_int_equal(apply(f, &c), IDG_ERR_NOMEM);
	assert_state(f, NULL, 0);
}

static void
reopen_keeps_everything(void **state)
{
	struct fx *f = *state;

	open_store(f);
	apply_initial(f);
	reopen_store(f);
	assert_state(f, state_initial, IDG_ARRAY_SIZE(state_initial));
	apply_second(f);
	reopen_store(f);
	assert_int_equal(ops->version(f->s), IDG_STORE_SCHEMA_VERSION);
	assert_state(f, state_second, IDG_ARRAY_SIZE(state_second));
}

static void
row_callback_error_stops_the_load(void **state)
{
	struct fx *f = *state;
	struct rows r = { .last_rank = -1, .stop_after = 3 };
	int rc;

	open_store(f);
	apply_initial(f);
	rc = ops->load(f->s, collect, &r, f->err, sizeof(f->err));
	assert_int_equal(rc, IDG_ERR_INTERNAL);
	assert_int_equal(r.n, 3);
	rows_free(&r);
	/* The read transaction was ended: writes and full loads still work. */
	apply_second(f);
	assert_state(f, state_second, IDG_ARRAY_SIZE(state_second));
}

/* What SQLite itself says about the file, through a connection of our own. */
static void
pragma(const char *path, const char *sql, char *out, size_t len)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
schema_version_and_wal_mode_as_sqlite_reports_them(void **state)
{
	struct fx *f = *state;
	char v[64], want[16];

	open_store(f);
	apply_initial(f);
	snprintf(want, sizeof(want), "%d", IDG_STORE_SCHEMA_VERSION);
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, want);
	pragma(f->path, "PRAGMA journal_mode", v, sizeof(v));
	assert_string_equal(v, "wal");
	/* Every table of the schema exists. */
	pragma(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
	    "('meta','roles','projects','repos','groups','members','bindings','tokens',"
	    "'pipelines','pipeline_inputs','users','id_holds','offline_creds')", v, sizeof(v));
	assert_string_equal(v, "13");
}

/* ---------- schema 3: the POSIX directory ---------- */

static void
dadd(struct idg_change *c, enum idg_mut_kind kind, const char *a, const char *b,
    const char *cc, const char *d, const char *e, unsigned u, int64_t t1)
{
	struct idg_mut m = { .kind = kind, .a = a, .b = b, .c = cc, .d = d, .e = e, .u = u,
		.t1 = t1 };

	idg_change_add(c, &m);
	assert_int_equal(c->err, 0);
}

/* Users, groups' gids and held ids as rows, NULL strings as "(null)"; other kinds skipped. */
static int
collect_dir(void *ctx, const struct idg_mut *m)
{
	struct rows *r = ctx;
	char buf[1024];

#define S(x) ((x) ? (x) : "(null)")
	if (m->kind == IDG_MUT_USER_ADD)
		snprintf(buf, sizeof(buf), "USER|%s|%s|%s|%s|%lld|%u|%s", S(m->a), S(m->b), S(m->c),
		    S(m->d), (long long)m->t1, m->u, S(m->e));
	else if (m->kind == IDG_MUT_GROUP_ADD)
		snprintf(buf, sizeof(buf), "GROUP|%s|%u", S(m->a), m->u);
	else if (m->kind == IDG_MUT_ID_HOLD)
		snprintf(buf, sizeof(buf), "HOLD|%u|%s|%s|%lld", m->u, S(m->a), S(m->b),
		    (long long)m->t1);
	else if (m->kind == IDG_MUT_OFFLINE_SET)
		snprintf(buf, sizeof(buf), "OFFLINE|%s|%s|%lld", S(m->a), S(m->b), (long long)m->t1);
	else
		return 0;
#undef S
	if (r->n < IDG_ARRAY_SIZE(r->row))
		r->row[r->n++] = strdup(buf);
	return 0;
}

static void
assert_dir(struct fx *f, const char *const *want, size_t nwant)
{
	struct rows r = { .last_rank = -1 };
	int rc;

	rc = ops->load(f->s, collect_dir, &r, f->err, sizeof(f->err));
	if (rc != 0)
		fail_msg("load: %d %s", rc, f->err);
	assert_int_equal(r.n, nwant);
	for (size_t i = 0; i < nwant; i++) {
		if (strcmp(r.row[i], want[i]) != 0)
			fail_msg("row %zu: got %s, want %s", i, r.row[i], want[i]);
	}
	rows_free(&r);
}

/* A change of one mutation that the schema must refuse, with the reason in the message. */
static void
refused(struct fx *f, enum idg_mut_kind kind, const char *a, const char *b, unsigned u,
    const char *why)
{
	struct idg_change c;
	int rc;

	idg_change_init(&c);
	dadd(&c, kind, a, b, NULL, NULL, NULL, u, 2000);
	rc = apply(f, &c);
	print_message("# %s %u: %d %s\n", a ? a : "", u, rc, f->err);
	assert_true(rc == IDG_ERR_STORE || rc == IDG_ERR_CONFLICT);
	assert_non_null(strstr(f->err, why));
}

static void
directory_rows_round_trip_and_ids_are_given_once(void **state)
{
	struct fx *f = *state;
	struct idg_change c;
	static const char *const want1[] = {
		"GROUP|devs|300001",
		"GROUP|nogid|0",
		"USER|alice|user:alice@example.com|https://idp|sub-a|1500|0|",
		"USER|bob|user:bob@example.com|(null)|(null)|1501|300000|Bob B",
		"HOLD|300005|gone|user|1502",
	};
	static const char *const want2[] = {
		"GROUP|devs|300001",
		"GROUP|nogid|0",
		"USER|alice|user:alice@example.com|https://idp|sub-a|1500|300005|",
		"USER|bob|user:bob@example.com|https://idp|sub-b|1501|300000|Bob B.",
		"USER|top|user:top@example.com|(null)|(null)|1503|4294967294|",
	};
	static const char *const want3[] = {
		"GROUP|devs|300001",
		"GROUP|nogid|0",
		"USER|alice|user:alice@example.com|https://idp|sub-a|1500|300005|",
		"USER|bob|user:bob@example.com|(null)|(null)|1501|300000|Bob B.",
		"USER|top|user:top@example.com|(null)|(null)|1503|4294967294|",
	};
	static const char *const want4[] = {
		"GROUP|devs|300001",
		"GROUP|nogid|0",
		"USER|alice|user:alice@example.com|https://idp|sub-a|1500|300005|",
		"USER|bob|user:bob@example.com|https://idp2|sub-b2|1501|300000|Bob B.",
		"USER|top|user:top@example.com|(null)|(null)|1503|4294967294|",
	};

	open_store(f);
	idg_change_init(&c);
	dadd(&c, IDG_MUT_GROUP_ADD, "devs", "idp", NULL, NULL, NULL, 300001, 1000);
	dadd(&c, IDG_MUT_GROUP_ADD, "nogid", "local", NULL, NULL, NULL, 0, 1001);
	dadd(&c, IDG_MUT_USER_ADD, "alice", "user:alice@example.com", "https://idp", "sub-a", NULL,
	    0, 1500);
	dadd(&c, IDG_MUT_USER_ADD, "bob", "user:bob@example.com", NULL, NULL, "Bob B", 300000, 1501);
	dadd(&c, IDG_MUT_ID_HOLD, "gone", "user", NULL, NULL, NULL, 300005, 1502);
	if (apply(f, &c) != 0)
		fail_msg("directory change: %s", f->err);
	assert_dir(f, want1, IDG_ARRAY_SIZE(want1));

	/* One id space: a uid, a gid and a hold never share an id. */
	refused(f, IDG_MUT_USER_UID, "alice", NULL, 300001, "given");	/* devs' gid */
	refused(f, IDG_MUT_USER_UID, "alice", NULL, 300005, "given");	/* held */
	refused(f, IDG_MUT_USER_UID, "alice", NULL, 300000, "UNIQUE");	/* bob's uid */
	refused(f, IDG_MUT_GROUP_GID, "nogid", NULL, 300000, "given");	/* bob's uid */
	refused(f, IDG_MUT_GROUP_GID, "nogid", NULL, 300005, "given");
	refused(f, IDG_MUT_GROUP_GID, "nogid", NULL, 300001, "UNIQUE");
	refused(f, IDG_MUT_ID_HOLD, "x", "user", 300000, "given");
	refused(f, IDG_MUT_ID_HOLD, "x", "group", 300001, "given");
	refused(f, IDG_MUT_ID_HOLD, "x", "nonsense", 300009, "CHECK");
	/* Given once, never changed; (uid_t)-1 is no uid. */
	refused(f, IDG_MUT_USER_UID, "bob", NULL, 300002, "never changed");
	refused(f, IDG_MUT_GROUP_GID, "devs", NULL, 300002, "never changed");
	refused(f, IDG_MUT_USER_UID, "alice", NULL, 4294967295u, "CHECK");
	/* Updates of nobody are refused whole, not silently nothing. */
	refused(f, IDG_MUT_USER_UID, "nosuch", NULL, 300003, "does not exist");
	refused(f, IDG_MUT_USER_PIN, "alice", NULL, 0, "already set");	/* pinned already */
	assert_dir(f, want1, IDG_ARRAY_SIZE(want1));

	/* A failing mutation takes the whole change back with it. */
	idg_change_init(&c);
	dadd(&c, IDG_MUT_USER_GECOS, "bob", NULL, NULL, NULL, "changed", 0, 0);
	dadd(&c, IDG_MUT_USER_UID, "alice", NULL, NULL, NULL, NULL, 300001, 0);
	assert_int_not_equal(apply(f, &c), 0);
	assert_dir(f, want1, IDG_ARRAY_SIZE(want1));

	/* The hold released and its id given in one change; the first login pins bob. */
	idg_change_init(&c);
	dadd(&c, IDG_MUT_ID_RELEASE, NULL, NULL, NULL, NULL, NULL, 300005, 0);
	dadd(&c, IDG_MUT_USER_UID, "alice", NULL, NULL, NULL, NULL, 300005, 0);
	dadd(&c, IDG_MUT_USER_PIN, "bob", NULL, "https://idp", "sub-b", NULL, 0, 0);
	dadd(&c, IDG_MUT_USER_GECOS, "bob", NULL, NULL, NULL, "Bob B.", 0, 0);
	dadd(&c, IDG_MUT_USER_ADD, "top", "user:top@example.com", NULL, NULL, NULL, 4294967294u,
	    1503);
	if (apply(f, &c) != 0)
		fail_msg("second directory change: %s", f->err);
	assert_dir(f, want2, IDG_ARRAY_SIZE(want2));
	refused(f, IDG_MUT_USER_PIN, "bob", NULL, 0, "already set");
	reopen_store(f);
	assert_dir(f, want2, IDG_ARRAY_SIZE(want2));

	/* 'user unpin': the pin goes, the row (uid, gecos) stays; a name not pinned is refused,
	 * and the name can be pinned again (to another subject). */
	idg_change_init(&c);
	dadd(&c, IDG_MUT_USER_UNPIN, "bob", NULL, NULL, NULL, NULL, 0, 0);
	if (apply(f, &c) != 0)
		fail_msg("unpin: %s", f->err);
	reopen_store(f);
	assert_dir(f, want3, IDG_ARRAY_SIZE(want3));
	refused(f, IDG_MUT_USER_UNPIN, "bob", NULL, 0, "already set");
	refused(f, IDG_MUT_USER_UNPIN, "top", NULL, 0, "already set");
	idg_change_init(&c);
	dadd(&c, IDG_MUT_USER_PIN, "bob", NULL, "https://idp2", "sub-b2", NULL, 0, 0);
	if (apply(f, &c) != 0)
		fail_msg("pin again: %s", f->err);
	reopen_store(f);
	assert_dir(f, want4, IDG_ARRAY_SIZE(want4));
}

/* ---------- schema 4: offline credentials ---------- */

static void
offline_credentials_round_trip_are_replaced_and_go_with_their_user(void **state)
{
	struct fx *f = *state;
	struct idg_change c;
	static const char *const want1[] = {
		"USER|alice|user:alice|https://idp|sub-a|1500|300000|",
		"USER|bob|user:bob|https://idp|sub-b|1501|300001|",
		"OFFLINE|alice|scrypt$15$8$1$aa$bb|1600",
		"OFFLINE|bob|scrypt$15$8$1$cc$dd|1601",
	};
	static const char *const want2[] = {
		"USER|alice|user:alice|https://idp|sub-a|1500|300000|",
		"HOLD|300001|bob|user|1700",
		"OFFLINE|alice|scrypt$15$8$1$ee$ff|1650",
	};
	static const char *const want3[] = {
		"USER|alice|user:alice|https://idp|sub-a|1500|300000|",
		"HOLD|300001|bob|user|1700",
	};

	open_store(f);
	idg_change_init(&c);
	dadd(&c, IDG_MUT_USER_ADD, "alice", "user:alice", "https://idp", "sub-a", NULL, 300000,
	    1500);
	dadd(&c, IDG_MUT_USER_ADD, "bob", "user:bob", "https://idp", "sub-b", NULL, 300001, 1501);
	dadd(&c, IDG_MUT_OFFLINE_SET, "alice", "scrypt$15$8$1$aa$bb", NULL, NULL, NULL, 0, 1600);
	dadd(&c, IDG_MUT_OFFLINE_SET, "bob", "scrypt$15$8$1$cc$dd", NULL, NULL, NULL, 0, 1601);
	if (apply(f, &c) != 0)
		fail_msg("offline change: %s", f->err);
	assert_dir(f, want1, IDG_ARRAY_SIZE(want1));

	/* Only a user that exists has one. */
	refused(f, IDG_MUT_OFFLINE_SET, "nobody", "scrypt$15$8$1$00$00", 0, "FOREIGN KEY");
	assert_dir(f, want1, IDG_ARRAY_SIZE(want1));

	/* A new one replaces the old; deleting the user takes its credential along. */
	idg_change_init(&c);
	dadd(&c, IDG_MUT_OFFLINE_SET, "alice", "scrypt$15$8$1$ee$ff", NULL, NULL, NULL, 0, 1650);
	dadd(&c, IDG_MUT_USER_DEL, "bob", NULL, NULL, NULL, NULL, 0, 0);
	dadd(&c, IDG_MUT_ID_HOLD, "bob", "user", NULL, NULL, NULL, 300001, 1700);
	if (apply(f, &c) != 0)
		fail_msg("second offline change: %s", f->err);
	assert_dir(f, want2, IDG_ARRAY_SIZE(want2));
	reopen_store(f);
	assert_dir(f, want2, IDG_ARRAY_SIZE(want2));

	idg_change_init(&c);
	dadd(&c, IDG_MUT_OFFLINE_DEL, "alice", NULL, NULL, NULL, NULL, 0, 0);
	dadd(&c, IDG_MUT_OFFLINE_DEL, "nobody", NULL, NULL, NULL, NULL, 0, 0);
	if (apply(f, &c) != 0)
		fail_msg("offline delete: %s", f->err);
	assert_dir(f, want3, IDG_ARRAY_SIZE(want3));
}

/* A schema 3 database (as an earlier release left it) is migrated to the newest with its
 * rows. */
static void
schema_3_database_is_migrated_with_its_users(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	char v[64];

	/* Schema 3 is schema 5 without offline_creds and the users' want_ columns: made so,
	 * with a user in it. */
	open_store(f);
	ops->close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE offline_creds;"
	    "ALTER TABLE users DROP COLUMN want_user; ALTER TABLE users DROP COLUMN want_sub;"
	    "INSERT INTO users(name, principal, iss, sub, created, uid, gecos)"
	    "  VALUES ('alice', 'user:alice', 'https://idp', 's', 1, 300000, '');"
	    "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	open_store(f);
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "5");
	pragma(f->path, "SELECT count(*) FROM offline_creds", v, sizeof(v));
	assert_string_equal(v, "0");
	pragma(f->path, "SELECT name || ' ' || uid FROM users", v, sizeof(v));
	assert_string_equal(v, "alice 300000");
}

/* ---------- schema 5: the identity a pre-provisioned name is meant for ---------- */

/* Expectations as rows, for the test below. */
static int
collect_expect(void *ctx, const struct idg_mut *m)
{
	struct rows *r = ctx;
	char buf[1024];

	if (m->kind != IDG_MUT_USER_EXPECT)
		return collect_dir(ctx, m);
	snprintf(buf, sizeof(buf), "EXPECT|%s|%s|%s", m->a, m->b ? m->b : "(null)",
	    m->c ? m->c : "(null)");
	if (r->n < IDG_ARRAY_SIZE(r->row))
		r->row[r->n++] = strdup(buf);
	return 0;
}

static void
assert_expect(struct fx *f, const char *const *want, size_t nwant)
{
	struct rows r = { .last_rank = -1 };

	if (ops->load(f->s, collect_expect, &r, f->err, sizeof(f->err)) != 0)
		fail_msg("load: %s", f->err);
	assert_int_equal(r.n, nwant);
	for (size_t i = 0; i < nwant; i++)
		if (strcmp(r.row[i], want[i]) != 0)
			fail_msg("row %zu: got %s, want %s", i, r.row[i], want[i]);
	rows_free(&r);
}

static void
user_expectations_round_trip_and_a_schema_4_database_is_migrated(void **state)
{
	struct fx *f = *state;
	struct idg_change c;
	sqlite3 *db;
	char v[64];
	static const char *const want[] = {
		"USER|erin|user:erin@example.com|(null)|(null)|1500|300000|",
		"USER|frank|user:frank|(null)|(null)|1501|300001|",
		"USER|old|user:old|(null)|(null)|1|300002|",
		"EXPECT|erin|erin@example.com|(null)",
		"EXPECT|frank|(null)|sub-f",
	};

	/* Schema 4: users without the want_ columns, a pre-provisioned user in it. */
	open_store(f);
	ops->close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE users DROP COLUMN want_user;"
	    "ALTER TABLE users DROP COLUMN want_sub;"
	    "INSERT INTO users(name, principal, created, uid, gecos)"
	    "  VALUES ('old', 'user:old', 1, 300002, '');"
	    "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	open_store(f);
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, "5");
	pragma(f->path, "SELECT count(*) FROM users WHERE want_user IS NULL AND want_sub IS NULL",
	    v, sizeof(v));
	assert_string_equal(v, "1");	/* the old row: no expectation, nothing invented */

	idg_change_init(&c);
	dadd(&c, IDG_MUT_USER_ADD, "erin", "user:erin@example.com", NULL, NULL, NULL, 300000, 1500);
	dadd(&c, IDG_MUT_USER_EXPECT, "erin", "erin@example.com", NULL, NULL, NULL, 0, 0);
	dadd(&c, IDG_MUT_USER_ADD, "frank", "user:frank", NULL, NULL, NULL, 300001, 1501);
	dadd(&c, IDG_MUT_USER_EXPECT, "frank", NULL, "sub-f", NULL, NULL, 0, 0);
	if (apply(f, &c) != 0)
		fail_msg("expectations: %s", f->err);
	reopen_store(f);
	assert_expect(f, want, IDG_ARRAY_SIZE(want));
	/* An expectation of nobody is refused whole. */
	refused(f, IDG_MUT_USER_EXPECT, "nosuch", "x", 0, "does not exist");
}

static void
newer_schema_is_refused_untouched(void **state)
{
	struct fx *f = *state;
	struct idg_store_conf conf = { .path = f->path };
	struct idg_store *s = (struct idg_store *)f;	/* must stay untouched */
	sqlite3 *db;
	char v[64];
	int rc;

	char sql[128], newer[16], msg[64];

	snprintf(newer, sizeof(newer), "%d", IDG_STORE_SCHEMA_VERSION + 1);
	snprintf(sql, sizeof(sql), "CREATE TABLE future (x); PRAGMA user_version = %s", newer);
	snprintf(msg, sizeof(msg), "schema version %s", newer);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	f->err[0] = '\0';
	rc = ops->open(&conf, &s, f->err, sizeof(f->err));
	print_message("# %s\n", f->err);
	assert_int_equal(rc, IDG_ERR_STORE);
	assert_ptr_equal(s, (struct idg_store *)f);
	assert_non_null(strstr(f->err, msg));
	assert_non_null(strstr(f->err, "newer"));
	/* Not downgraded, not migrated. */
	pragma(f->path, "PRAGMA user_version", v, sizeof(v));
	assert_string_equal(v, newer);
	pragma(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'roles'", v, sizeof(v));
	assert_string_equal(v, "0");
}

static void
garbage_file_is_refused_with_a_message(void **state)
{
	struct fx *f = *state;
	struct idg_store_conf conf = { .path = f->path };
	struct idg_store *s = NULL;
	uint8_t junk[65536];
	uint64_t x = UINT64_C(0x853c49e6748fea9b);
	int fd, rc;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		junk[i] = (uint8_t)x;
	}
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	f->err[0] = '\0';
	rc = ops->open(&conf, &s, f->err, sizeof(f->err));
	print_message("# %d: %s\n", rc, f->err);
	assert_true(rc == IDG_ERR_CORRUPT || rc == IDG_ERR_STORE);
	assert_null(s);
	assert_true(f->err[0] != '\0');
}

static void
damaged_database_is_refused_or_fails_cleanly(void **state)
{
	struct fx *f = *state;
	struct idg_store_conf conf = { .path = f->path };
	struct idg_store *s = NULL;
	struct rows r = { .last_rank = -1 };
	uint8_t junk[4096];
	int fd, rc;

	/* A real database whose pages after the header are overwritten. */
	open_store(f);
	apply_initial(f);
	ops->close(f->s);
	f->s = NULL;
	{
		sqlite3 *db;	/* fold the WAL back so the damage hits the real pages */

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	memset(junk, 0xa5, sizeof(junk));
	fd = open(f->path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk) - 100, 100), (ssize_t)(sizeof(junk) - 100));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 4096), (ssize_t)sizeof(junk));
	close(fd);
	f->err[0] = '\0';
	rc = ops->open(&conf, &s, f->err, sizeof(f->err));
	print_message("# open: %d %s\n", rc, f->err);
	if (rc == 0) {
		/* If it opens at all, reading it must fail with a reason, not crash. */
		rc = ops->load(s, collect, &r, f->err, sizeof(f->err));
		print_message("# load: %d %s\n", rc, f->err);
		rows_free(&r);
		ops->close(s);
	}
	assert_true(rc == IDG_ERR_CORRUPT || rc == IDG_ERR_STORE);
	assert_true(f->err[0] != '\0');
}

static void
unopenable_path_gives_a_store_error(void **state)
{
	struct fx *f = *state;
	struct idg_store_conf conf;
	struct idg_store *s = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/no/such/dir/state.db", f->dir);
	conf.path = path;
	conf.sync_full = false;
	assert_int_equal(ops->open(&conf, &s, f->err, sizeof(f->err)), IDG_ERR_STORE);
	assert_null(s);
	assert_true(f->err[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fresh_store_is_empty_and_current, setup, teardown),
		cmocka_unit_test_setup_teardown(every_mutation_kind_round_trips_through_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(auth_reset_drops_bindings_tokens_and_memberships_only,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(change_copies_its_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(failing_change_is_rolled_back_entirely, setup, teardown),
		cmocka_unit_test_setup_teardown(pipeline_replaced_in_one_change_keeps_only_new_inputs,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(incomplete_change_is_refused_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(reopen_keeps_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(row_callback_error_stops_the_load, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_version_and_wal_mode_as_sqlite_reports_them,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    offline_credentials_round_trip_are_replaced_and_go_with_their_user, setup, teardown),
		cmocka_unit_test_setup_teardown(schema_3_database_is_migrated_with_its_users, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(directory_rows_round_trip_and_ids_are_given_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    user_expectations_round_trip_and_a_schema_4_database_is_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_is_refused_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_file_is_refused_with_a_message, setup, teardown),
		cmocka_unit_test_setup_teardown(damaged_database_is_refused_or_fails_cleanly, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(unopenable_path_gives_a_store_error, setup, teardown),
	};

	return cmocka_run_group_tests_name("store/sqlite", tests, NULL, NULL);
}
