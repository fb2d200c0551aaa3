/* pam_idgate.so's pure parts (pam/args.c, pam/client.c): the module arguments and their
 * defaults, what counts as a token typed as a password, and the text checks that decide
 * what reaches the user's terminal. pam_syslog is replaced here, so no libpam is needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <security/pam_ext.h>

#include "common/err.h"
#include "pam/pam_idgate.h"

static char last_log[512];
static int nlogs;

void
pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	(void)pamh;
	(void)priority;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	nlogs++;
}

static int
parse(struct idg_pam_args *a, int flags, int argc, const char **argv)
{
	nlogs = 0;
	last_log[0] = '\0';
	return idg_pam_args_parse(NULL, flags, argc, argv, a);
}

static int
parse1(struct idg_pam_args *a, const char *arg)
{
	return parse(a, 0, 1, &arg);
}

static void
test_defaults(void **state)
{
	struct idg_pam_args a;

	(void)state;
	assert_int_equal(parse(&a, 0, 0, NULL), 0);
	assert_string_equal(a.socket, IDG_PAM_SOCKET);
	assert_int_equal(a.nmethods, 2);
	assert_int_equal(a.methods[0], IDG_PAM_M_PASSWORD);
	assert_int_equal(a.methods[1], IDG_PAM_M_DEVICE);
	assert_int_equal(a.timeout_s, 30);
	assert_int_equal(a.device_wait_s, 100);
	assert_false(a.debug || a.use_first_pass || a.try_first_pass || a.silent);
	assert_int_equal(parse(&a, PAM_SILENT, 0, NULL), 0);
	assert_true(a.silent);
	assert_int_equal(nlogs, 0);
}

static void
test_options(void **state)
{
	const char *argv[] = { "debug", "try_first_pass", "methods=device,token,password",
		"timeout=300", "device_wait=3600", "socket=/tmp/x/pam.sock" };
	struct idg_pam_args a;

	(void)state;
	assert_int_equal(parse(&a, 0, 6, argv), 0);
	assert_true(a.debug && a.try_first_pass && !a.use_first_pass);
	assert_int_equal(a.nmethods, 3);
	assert_int_equal(a.methods[0], IDG_PAM_M_DEVICE);
	assert_int_equal(a.methods[1], IDG_PAM_M_TOKEN);
	assert_int_equal(a.methods[2], IDG_PAM_M_PASSWORD);
	assert_int_equal(a.timeout_s, 300);
	assert_int_equal(a.device_wait_s, 3600);
	assert_string_equal(a.socket, "/tmp/x/pam.sock");
	assert_int_equal(parse1(&a, "timeout=1"), 0);
	assert_int_equal(a.timeout_s, 1);
	assert_int_equal(parse1(&a, "methods=token"), 0);
	assert_int_equal(a.nmethods, 1);
	assert_int_equal(parse1(&a, "methods=password,saml,device,token"), 0);
	assert_int_equal(a.nmethods, 4);
	assert_int_equal(a.methods[1], IDG_PAM_M_SAML);
}

static void
test_first_pass(void **state)
{
	const char *both[] = { "try_first_pass", "use_first_pass" };
	struct idg_pam_args a;

	(void)state;
	assert_int_equal(parse(&a, 0, 2, both), 0);
	assert_true(a.use_first_pass);
	assert_false(a.try_first_pass);	/* the stricter one wins */
}

static void
test_bad_values(void **state)
{
	static const char *const bad[] = { "methods=", "methods=password,", "methods=,password",
		"methods=password,,device", "methods=sms", "methods=password,password",
		"methods=Password", "methods=password,device,token,password", "methods=saml,saml",
		"methods=password,device,token,saml,password", "methods=SAML", "timeout=0",
		"timeout=301", "timeout=", "timeout=5s", "timeout= 5", "timeout=+5", "timeout=-1",
		"timeout=99999999999999999999", "device_wait=0", "device_wait=3601",
		"socket=relative/pam.sock", "socket=",
		"socket=/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	struct idg_pam_args a, before;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&a, 0x5a, sizeof(a));
		before = a;
		assert_int_equal(parse1(&a, bad[i]), IDG_ERR_CONFIG);
		assert_memory_equal(&a, &before, sizeof(a));	/* *out untouched */
		assert_int_equal(nlogs, 1);
		assert_non_null(strstr(last_log, bad[i]));
	}
	/* a socket path of 107 bytes fits sun_path; 108 does not (checked above) */
	{
		char arg[7 + 108];

		memcpy(arg, "socket=/", 8);
		memset(arg + 8, 'a', 106);
		arg[114] = '\0';
		assert_int_equal(parse1(&a, arg), 0);
		assert_int_equal(strlen(a.socket), 107);
	}
}

static void
test_unknown_ignored(void **state)
{
	const char *argv[] = { "no_such_option", "timeout=7" };
	struct idg_pam_args a;

	(void)state;
	assert_int_equal(parse(&a, 0, 2, argv), 0);
	assert_int_equal(a.timeout_s, 7);
	assert_int_equal(nlogs, 1);
	assert_non_null(strstr(last_log, "no_such_option"));
}

static void
test_token_shapes(void **state)
{
	static const char *const yes[] = {
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
		"eyJ.a.b",
		"eyJhbGciOiJFUzI1NiJ9.eyJ-_x.A-_9",
		"idgr_abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE",
	};
	static const char *const no[] = {
		"", "password", "my.pass.word", "eyJ", "eyJa.b", "eyJa.b.c.d", "eyJa..c", ".eyJ.a.b",
		"eyJa.b.", "eyJa.b.c d", "eyJa.b.c=", "eyJa.b+.c", "eyJa/b.c.d", "xeyJa.b.c",
		"idgr_", "idgr_abcdefghijklmnopqrstuvwxyz0123456789-_ABCD.",
		"IDGR_abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE",
	};
	char robot[5 + 45 + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(idg_pam_token_shaped(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (idg_pam_token_shaped(no[i]))
			fail_msg("taken for a token: \"%s\"", no[i]);
	/* exactly 43 characters after the prefix */
	for (size_t n = 41; n <= 45; n++) {
		memcpy(robot, "idgr_", 5);
		memset(robot + 5, 'A', n);
		robot[5 + n] = '\0';
		assert_int_equal(idg_pam_token_shaped(robot), n == 43);
	}
}

static void
test_printable(void **state)
{
	char out[8];

	(void)state;
	idg_pam_printable("ok text", out, sizeof(out));
	assert_string_equal(out, "ok text");
	idg_pam_printable("a\x1b[1m\n\x7f\xc3\xa9", out, sizeof(out));
	assert_string_equal(out, "a?[1m??");	/* cut at 7 bytes */
	idg_pam_printable("abcdefghij", out, sizeof(out));
	assert_string_equal(out, "abcdefg");
	idg_pam_printable(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	idg_pam_printable("x", out, 1);
	assert_string_equal(out, "");
}

static void
test_word(void **state)
{
	(void)state;
	assert_true(idg_pam_word("WDJB-MJHT", 64));
	assert_true(idg_pam_word("https://idp.example/device?user_code=A~B", 1024));
	assert_true(idg_pam_word("abcd", 4));
	assert_false(idg_pam_word("abcde", 4));
	assert_false(idg_pam_word("", 4));
	assert_false(idg_pam_word("a b", 4));
	assert_false(idg_pam_word("a\tb", 4));
	assert_false(idg_pam_word("a\x7f", 4));
	assert_false(idg_pam_word("a\x1b", 4));
	assert_false(idg_pam_word("\xc3\xa9", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_first_pass),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_unknown_ignored),
		cmocka_unit_test(test_token_shapes),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_word),
	};

	return cmocka_run_group_tests_name("pam/args", tests, NULL, NULL);
}
