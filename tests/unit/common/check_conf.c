/* The INI parser (conf.c) against a small schema with every value type: defaults, every
 * kind of error reported as NAME:LINE: with what was expected, all errors of a file at
 * once, comments and quotes — and an allocation-failure ("torture") run that fails each
 * allocation in turn. The allocator is interposed at link time (-Wl,--wrap=..., see
 * tests/unit/local.mk), so only calls from idgate's objects and this file are affected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/util.h"
#include "../torture.h"

/* ---------- allocation failure injection: tests/unit/torture.c ---------- */

/* ---------- the test schema ---------- */

struct tconf {
	char *name;
	char *url;
	char *socket;
	bool debug;
	long long workers;
	int64_t ttl;
	uint64_t max_body;
	int mode;
};

static const char *const modes[] = { "fast", "safe", NULL };

static const struct idg_conf_key schema[] = {
	{ "server", "name", IDG_CONF_STR, "idgate", false, 0, 16, NULL,
	    offsetof(struct tconf, name), "instance name" },
	{ "server", "url", IDG_CONF_STR, NULL, true, 0, 0, NULL,
	    offsetof(struct tconf, url), "issuer URL" },
	{ "server", "socket", IDG_CONF_PATH, "/run/idgate/sock", false, 0, 0, NULL,
	    offsetof(struct tconf, socket), "control socket" },
	{ "server", "debug", IDG_CONF_BOOL, "no", false, 0, 0, NULL,
	    offsetof(struct tconf, debug), "debug logging" },
	{ "limits", "workers", IDG_CONF_INT, "4", false, 1, 64, NULL,
	    offsetof(struct tconf, workers), "worker count" },
	{ "limits", "ttl", IDG_CONF_DURATION, "15m", false, 60, 86400, NULL,
	    offsetof(struct tconf, ttl), "token lifetime" },
	{ "limits", "max_body", IDG_CONF_SIZE, "64k", false, 1024, 1048576, NULL,
	    offsetof(struct tconf, max_body), "largest body" },
	{ "limits", "mode", IDG_CONF_ENUM, "safe", false, 0, 0, modes,
	    offsetof(struct tconf, mode), "mode" },
};

#define NSCHEMA IDG_ARRAY_SIZE(schema)

/* Parse text as "t.conf"; errs gets the messages. */
static int
parse(const char *text, size_t len, struct tconf *c, struct idg_buf *errs)
{
	memset(c, 0, sizeof(*c));
	idg_buf_init(errs, 64 * 1024);
	return idg_conf_parse("t.conf", text, len, schema, NSCHEMA, c, errs);
}

static const char *
errtext(const struct idg_buf *errs)
{
	return errs->data ? errs->data : "";
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Show messages as TAP comments, one "# " line each. */
static void
show(const char *e)
{
	while (*e) {
		size_t n = strcspn(e, "\n");

		print_message("#   %.*s\n", (int)n, e);
		e += n + (e[n] == '\n');
	}
}

static void
done(struct tconf *c, struct idg_buf *errs)
{
	idg_conf_free(schema, NSCHEMA, c);
	idg_buf_free(errs);
}

/* ---------- good files ---------- */

/* idg_conf_parse_lines: the line each key is set on (so checks made after parsing can name
 * FILE:LINE), 0 for a key the file does not set; a re-opened section keeps counting. */
static void
lines_of_keys_are_reported(void **state)
{
	static const char text[] = "# c\n[server]\nurl = https://x\n\n[limits]\nworkers = 8\n"
	    "[server]\ndebug = yes\n";
	unsigned lines[NSCHEMA] = { 0 };
	struct idg_buf errs;
	struct tconf c;

	(void)state;
	memset(&c, 0, sizeof(c));
	idg_buf_init(&errs, 64 * 1024);
	assert_int_equal(idg_conf_parse_lines("t.conf", text, sizeof(text) - 1, schema, NSCHEMA,
	    &c, lines, &errs), 0);
	assert_int_equal(lines[1], 3);	/* url */
	assert_int_equal(lines[4], 6);	/* workers */
	assert_int_equal(lines[3], 8);	/* debug, in the re-opened [server] */
	assert_int_equal(lines[0], 0);	/* name: its default */
	assert_int_equal(lines[7], 0);	/* mode */
	done(&c, &errs);
}

static void
defaults_apply_to_absent_keys(void **state)
{
	static const char text[] = "[server]\nurl = https://idp.example.com\n";
	struct tconf c;
	struct idg_buf errs;

	(void)state;
	assert_int_equal(parse(text, strlen(text), &c, &errs), 0);
	assert_string_equal(errtext(&errs), "");
	assert_string_equal(c.url, "https://idp.example.com");
	assert_string_equal(c.name, "idgate");
	assert_string_equal(c.socket, "/run/idgate/sock");
	assert_false(c.debug);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.ttl, 900);
	assert_int_equal(c.max_body, 65536);
	assert_int_equal(c.mode, 1);
	done(&c, &errs);

	/* idg_conf_defaults alone does the same, and frees cleanly. */
	memset(&c, 0, sizeof(c));
	idg_buf_init(&errs, 1024);
	assert_int_equal(idg_conf_defaults(schema, NSCHEMA, &c, &errs), 0);
	assert_string_equal(c.name, "idgate");
	assert_null(c.url);
	done(&c, &errs);
}

static void
every_type_parses_with_comments_quotes_and_crlf(void **state)
{
	static const char text[] =
	    "# idgate test config\r\n"
	    "; another comment style\n"
	    "\n"
	    "   # indented comment\n"
	    "[server]\n"
	    "name = \"  two  words \"\n"
	    "url=https://idp.example.com/realms/x?a=b#frag\r\n"
	    "\tsocket   =   /var/run/idg.sock   \n"
	    "debug = on\n"
	    "[ limits ]\n"
	    "workers = 64\n"
	    "ttl = 1h30m\n"
	    "max_body = 1M\n"
	    "mode = fast\n";
	struct tconf c;
	struct idg_buf errs;

	(void)state;
	assert_int_equal(parse(text, strlen(text), &c, &errs), 0);
	assert_string_equal(errtext(&errs), "");
	assert_string_equal(c.name, "  two  words ");	/* quotes keep the spaces */
	assert_string_equal(c.url, "https://idp.example.com/realms/x?a=b#frag");
	assert_string_equal(c.socket, "/var/run/idg.sock");
	assert_true(c.debug);
	assert_int_equal(c.workers, 64);
	assert_int_equal(c.ttl, 5400);
	assert_int_equal(c.max_body, 1048576);
	assert_int_equal(c.mode, 0);
	done(&c, &errs);
}

static void
quoted_empty_value_and_text_without_final_newline(void **state)
{
	static const char text[] = "[server]\nurl = u\nname = \"\"";
	struct tconf c;
	struct idg_buf errs;

	(void)state;
	assert_int_equal(parse(text, strlen(text), &c, &errs), 0);
	assert_string_equal(c.name, "");
	done(&c, &errs);
}

static void
line_of_exactly_the_maximum_length_is_accepted(void **state)
{
	size_t head = strlen("[server]\nurl = u\n");
	char *text = malloc(head + IDG_CONF_MAX_LINE + 2);
	struct tconf c;
	struct idg_buf errs;

	(void)state;
	assert_non_null(text);
	memcpy(text, "[server]\nurl = u\n", head);
	text[head] = '#';
	memset(text + head + 1, 'c', IDG_CONF_MAX_LINE - 1);
	text[head + IDG_CONF_MAX_LINE] = '\n';
	assert_int_equal(parse(text, head + IDG_CONF_MAX_LINE + 1, &c, &errs), 0);
	done(&c, &errs);
	/* One byte more is an error on line 3. */
	text[head + IDG_CONF_MAX_LINE] = 'c';
	text[head + IDG_CONF_MAX_LINE + 1] = '\n';
	assert_int_equal(parse(text, head + IDG_CONF_MAX_LINE + 2, &c, &errs), IDG_ERR_CONFIG);
	assert_non_null(strstr(errtext(&errs), "t.conf:3: "));
	done(&c, &errs);
	free(text);
}

/* ---------- one error at a time ---------- */

struct bad_case {
	const char *what;
	const char *text;
	unsigned line;
	const char *expect;	/* must appear in the message */
};

#define OK2 "[server]\nurl = u\n"	/* lines 1-2: the required key, so only the bad line errs */

static const struct bad_case bad_cases[] = {
	{ "unknown section", OK2 "[bogus]\nname = x\n", 3,
	    "unknown section [bogus]: expected one of [server], [limits]" },
	{ "unknown key", OK2 "nmae = x\n", 3,
	    "unknown key 'nmae' in [server]: expected one of name, url, socket, debug" },
	{ "INT above max", OK2 "[limits]\nworkers = 65\n", 4,
	    "bad value for 'workers' in [limits]: expected an integer from 1 to 64" },
	{ "INT not a number", OK2 "[limits]\nworkers = four\n", 4,
	    "expected an integer from 1 to 64" },
	{ "BOOL", OK2 "debug = maybe\n", 3, "bad value for 'debug' in [server]: expected yes or no" },
	{ "DURATION below min", OK2 "[limits]\nttl = 30s\n", 4,
	    "expected a duration from 60s to 86400s" },
	{ "DURATION junk", OK2 "[limits]\nttl = soon\n", 4, "expected a duration" },
	{ "SIZE above max", OK2 "[limits]\nmax_body = 2M\n", 4,
	    "expected a size from 1024 to 1048576 bytes" },
	{ "ENUM", OK2 "[limits]\nmode = turbo\n", 4, "expected one of: fast safe" },
	{ "PATH relative", OK2 "socket = run/sock\n", 3, "expected an absolute path" },
	{ "STR too long", OK2 "name = 0123456789abcdefg\n", 3,
	    "expected a string of at most 16 printable characters" },
	{ "duplicate key", OK2 "url = v\n", 3, "'url' in [server] is set twice (first at line 2)" },
	{ "key outside a section", "name = x\n" OK2, 1,
	    "key 'name' outside any section: put it under a [section]" },
	{ "missing required key", "[server]\nname = x\n", 2,
	    "missing required key 'url' in [server]: expected a string" },
	{ "bad quotes", OK2 "name = \"abc\n", 3, "unterminated quoted value for 'name'" },
	{ "lone quote", OK2 "name = \"\n", 3, "unterminated quoted value for 'name'" },
	{ "no '='", OK2 "just some words\n", 3, "expected 'key = value', a [section] or a # comment" },
	{ "unclosed section", OK2 "[limits\n", 3, "malformed section header: expected [name]" },
	{ "text after section", OK2 "[limits] x\n", 3, "malformed section header" },
	{ "control character", OK2 "name = a\x01z\n", 3, "control character or invalid UTF-8" },
	{ "invalid UTF-8", OK2 "name = \xc3\x28\n", 3, "control character or invalid UTF-8" },
};

static void
each_error_is_reported_with_name_line_and_expectation(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < IDG_ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct tconf c;
		struct idg_buf errs;
		char where[32];
		int rc = parse(b->text, strlen(b->text), &c, &errs);
		const char *e = errtext(&errs);

		snprintf(where, sizeof(where), "t.conf:%u: ", b->line);
		if (rc != IDG_ERR_CONFIG || strncmp(e, where, strlen(where)) != 0 ||
		    strstr(e, b->expect) == NULL || count_lines(e) != 1) {
			print_message("# %s: rc %d, errors:\n", b->what, rc);
			show(e);
			print_message("# want one line starting \"%s\" containing \"%s\"\n", where,
			    b->expect);
			failures++;
		}
		done(&c, &errs);
	}
	assert_int_equal(failures, 0);
}

/* A NUL byte is a problem on a line like any other: "FILE:LINE: what is wrong". */
static void
nul_byte_is_reported_with_its_line(void **state)
{
	static const char text[] = OK2 "name = a\0z\n";
	struct tconf c;
	struct idg_buf errs;
	char e[1024];
	int rc;

	(void)state;
	rc = parse(text, sizeof(text) - 1, &c, &errs);
	snprintf(e, sizeof(e), "%s", errtext(&errs));
	done(&c, &errs);	/* before any assert can jump out */
	show(e);
	assert_int_equal(rc, IDG_ERR_CONFIG);
	assert_non_null(strstr(e, "NUL byte"));
	assert_int_equal(strncmp(e, "t.conf:3: ", 10), 0);
}

static void
all_errors_of_a_file_are_reported(void **state)
{
	static const char text[] =
	    "[server]\n"			/* 1 */
	    "nmae = x\n"			/* 2: unknown key */
	    "debug = maybe\n"			/* 3: bad BOOL */
	    "name = ok\n"			/* 4: fine */
	    "[limits]\n"			/* 5 */
	    "workers = 0\n"			/* 6: out of range */
	    "ttl = 2h\n"			/* 7: fine */
	    "ttl = 3h\n"			/* 8: duplicate */
	    "mode = turbo\n"			/* 9: bad ENUM */
	    "[nope]\n"				/* 10: unknown section */
	    "x = y\n";				/* 11: skipped under [nope]; url is missing */
	static const char *const want[] = { "t.conf:2: ", "t.conf:3: ", "t.conf:6: ",
		"t.conf:8: ", "t.conf:9: ", "t.conf:10: ", "missing required key 'url'" };
	struct tconf c;
	struct idg_buf errs;
	const char *e;

	(void)state;
	assert_int_equal(parse(text, strlen(text), &c, &errs), IDG_ERR_CONFIG);
	e = errtext(&errs);
	show(e);
	for (size_t i = 0; i < IDG_ARRAY_SIZE(want); i++)
		if (strstr(e, want[i]) == NULL)
			fail_msg("missing error \"%s\"", want[i]);
	assert_int_equal(count_lines(e), IDG_ARRAY_SIZE(want));
	/* Good lines still landed; bad ones left the defaults. */
	assert_string_equal(c.name, "ok");
	assert_int_equal(c.ttl, 7200);
	assert_int_equal(c.workers, 4);
	assert_false(c.debug);
	assert_int_equal(c.mode, 1);
	done(&c, &errs);
}

static void
load_reads_a_file_and_reports_unreadable_ones(void **state)
{
	char dir[] = "/tmp/idg-conf-XXXXXX", path[64];
	struct tconf c;
	struct idg_buf errs;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/idgate.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[server]\nurl = u\n[limits]\nworkers = 9\nworkers = 10\n", f);
	fclose(f);

	memset(&c, 0, sizeof(c));
	idg_buf_init(&errs, 4096);
	assert_int_equal(idg_conf_load(path, schema, NSCHEMA, &c, &errs), IDG_ERR_CONFIG);
	assert_non_null(strstr(errtext(&errs), ":5: 'workers' in [limits] is set twice"));
	assert_non_null(strstr(errtext(&errs), path));	/* named by its path */
	assert_int_equal(c.workers, 9);
	done(&c, &errs);

	memset(&c, 0, sizeof(c));
	idg_buf_init(&errs, 4096);
	assert_int_equal(idg_conf_load(dir, schema, NSCHEMA, &c, &errs), IDG_ERR_CONFIG);
	assert_non_null(strstr(errtext(&errs), "not a regular file"));
	assert_string_equal(c.name, "idgate");	/* defaults even so */
	done(&c, &errs);

	unlink(path);
	memset(&c, 0, sizeof(c));
	idg_buf_init(&errs, 4096);
	assert_int_equal(idg_conf_load(path, schema, NSCHEMA, &c, &errs), IDG_ERR_CONFIG);
	assert_non_null(strstr(errtext(&errs), "no such file"));
	done(&c, &errs);
	rmdir(dir);
}

static void
file_larger_than_the_limit_is_refused(void **state)
{
	size_t len = IDG_CONF_MAX_FILE + 1;
	char *text = malloc(len);
	struct tconf c;
	struct idg_buf errs;

	(void)state;
	assert_non_null(text);
	memset(text, '\n', len);
	assert_int_equal(parse(text, len, &c, &errs), IDG_ERR_CONFIG);
	assert_non_null(strstr(errtext(&errs), "larger than"));
	done(&c, &errs);
	free(text);
}

/* ---------- allocation failures ---------- */

static const char torture_good[] =
    "[server]\nname = \"tortured\"\nurl = https://idp.example.com\nsocket = /run/t.sock\n"
    "debug = yes\n[limits]\nworkers = 7\nttl = 2h\nmax_body = 128k\nmode = fast\n";

static const char torture_bad[] =
    "[server]\nnmae = x\nname = \"unterminated\ndebug = maybe\n[limits]\nworkers = 99\n"
    "[nope]\nx = y\n";

static bool
torture_result_is_exact(const struct tconf *c)
{
	return c->name && strcmp(c->name, "tortured") == 0 && c->url &&
	    strcmp(c->url, "https://idp.example.com") == 0 && c->socket &&
	    strcmp(c->socket, "/run/t.sock") == 0 && c->debug && c->workers == 7 &&
	    c->ttl == 7200 && c->max_body == 131072 && c->mode == 0;
}

/* Fail allocation 0, 1, 2, ... of one parse until a parse makes no more allocations than
 * that. Every run must end cleanly (the ASan build checks for leaks); a success must be
 * exact and a bad file must never be accepted. */
static long
torture(const char *text, bool good, bool via_file)
{
	char dir[] = "/tmp/idg-torture-XXXXXX", path[64] = "";
	long n;

	if (via_file) {
		FILE *f;

		assert_non_null(mkdtemp(dir));
		snprintf(path, sizeof(path), "%s/t.conf", dir);
		assert_non_null(f = fopen(path, "w"));
		fputs(text, f);
		fclose(f);
	}
	for (n = 0; n < 10000; n++) {
		struct tconf c;
		struct idg_buf errs;
		int rc;

		memset(&c, 0, sizeof(c));
		idg_buf_init(&errs, 64 * 1024);
		torture_calls = 0;
		torture_fail_at = n;
		torture_armed = true;
		rc = via_file ? idg_conf_load(path, schema, NSCHEMA, &c, &errs) :
		    idg_conf_parse("t.conf", text, strlen(text), schema, NSCHEMA, &c, &errs);
		torture_armed = false;
		if (rc != 0 && rc != IDG_ERR_NOMEM && rc != IDG_ERR_CONFIG && rc != IDG_ERR_INTERNAL)
			fail_msg("allocation %ld failing: unexpected rc %d", n, rc);
		if (good && rc == 0 && !torture_result_is_exact(&c))
			fail_msg("allocation %ld failing: success with wrong values", n);
		if (!good && rc == 0)
			fail_msg("allocation %ld failing: a bad file was accepted", n);
		done(&c, &errs);
		if (torture_calls <= n) {	/* nothing failed: the end */
			if (good)
				assert_int_equal(rc, 0);
			break;
		}
	}
	if (via_file) {
		unlink(path);
		rmdir(dir);
	}
	return n;
}

static void
torture_parse_good_config(void **state)
{
	long n;

	(void)state;
	n = torture(torture_good, true, false);
	print_message("# %ld allocation points\n", n);
	assert_true(n >= 4);	/* the wrap is in effect: the strings alone take four */
}

static void
torture_parse_bad_config(void **state)
{
	(void)state;
	assert_true(torture(torture_bad, false, false) >= 2);
}

static void
torture_load_good_config(void **state)
{
	(void)state;
	assert_true(torture(torture_good, true, true) >= 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_apply_to_absent_keys),
		cmocka_unit_test(lines_of_keys_are_reported),
		cmocka_unit_test(every_type_parses_with_comments_quotes_and_crlf),
		cmocka_unit_test(quoted_empty_value_and_text_without_final_newline),
		cmocka_unit_test(line_of_exactly_the_maximum_length_is_accepted),
		cmocka_unit_test(each_error_is_reported_with_name_line_and_expectation),
		cmocka_unit_test(nul_byte_is_reported_with_its_line),
		cmocka_unit_test(all_errors_of_a_file_are_reported),
		cmocka_unit_test(load_reads_a_file_and_reports_unreadable_ones),
		cmocka_unit_test(file_larger_than_the_limit_is_refused),
		cmocka_unit_test(torture_parse_good_config),
		cmocka_unit_test(torture_parse_bad_config),
		cmocka_unit_test(torture_load_good_config),
	};

	return cmocka_run_group_tests_name("common/conf", tests, NULL, NULL);
}
